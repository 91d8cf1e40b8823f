/* tokenizer-bpe.c: encoding text with a loaded byte-level BPE vocabulary.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The text is cut at special/added token strings (leftmost, then longest,
 * as Hugging Face's added-vocabulary matcher does); every other segment is
 * NFC-normalised where the family says so, split by the pre-tokenizer,
 * mapped byte by byte through GPT-2's table and merged by rank. Symbols are
 * token ids from the start (each byte's one-character token), so the merge
 * loop never touches strings.
 */
#include "tokenizer.h"
#include "tokenizer-private.h"
#include "error.h"

#include <stdlib.h>
#include <string.h>

typedef struct
{
  int32_t id;       /* token id, -1 for a byte the vocabulary lacks */
  int32_t prev;     /* index of the previous live symbol, -1 at the start */
  int32_t next;     /* index of the next live symbol, -1 at the end */
  bool    alive;
} Symbol;

typedef struct
{
  uint32_t rank;
  int32_t  left;       /* symbol indices */
  int32_t  right;
  int32_t  left_id;    /* the ids when queued: a changed id means stale */
  int32_t  right_id;
} Candidate;

typedef struct
{
  const PonderTokenizer *tok;
  int32_t               *ids;        /* (cap_ids) output */
  size_t                 n_ids;
  size_t                 cap_ids;
  Symbol                *symbols;    /* (cap_symbols) per piece byte */
  size_t                 cap_symbols;
  Candidate             *heap;       /* (cap_heap) min-heap by (rank, left) */
  size_t                 n_heap;
  size_t                 cap_heap;
  char                  *mapped;     /* (cap_mapped) piece in the byte alphabet */
  size_t                 cap_mapped;
} Encoder;

static bool
grow (void   **buffer,
      size_t  *cap,
      size_t   need,
      size_t   item_size)
{
  size_t new_cap = *cap > 0 ? *cap : 64;
  void *grown;

  if (need <= *cap)
    return true;
  while (new_cap < need)
    new_cap *= 2;
  if (new_cap > SIZE_MAX / item_size)
    return false;
  grown = realloc (*buffer, new_cap * item_size);
  if (grown == NULL)
    return false;
  *buffer = grown;
  *cap = new_cap;
  return true;
}

static PonderStatus
push_id (Encoder     *enc,
         int32_t      id,
         PonderError *error)
{
  if (!grow ((void **) &enc->ids, &enc->cap_ids, enc->n_ids + 1, sizeof *enc->ids))
    return ponder_error_set (error, PONDER_ERROR_NO_MEMORY,
                             "tokenizer: out of memory for %zu tokens", enc->n_ids + 1);
  enc->ids[enc->n_ids++] = id;
  return PONDER_OK;
}

static bool
candidate_less (const Candidate *a,
                const Candidate *b)
{
  return a->rank < b->rank || (a->rank == b->rank && a->left < b->left);
}

static void
heap_push (Encoder   *enc,
           Candidate  item)
{
  size_t i = enc->n_heap++;

  while (i > 0 && candidate_less (&item, &enc->heap[(i - 1) / 2]))
    {
      enc->heap[i] = enc->heap[(i - 1) / 2];
      i = (i - 1) / 2;
    }
  enc->heap[i] = item;
}

static Candidate
heap_pop (Encoder *enc)
{
  Candidate top = enc->heap[0];
  Candidate last = enc->heap[--enc->n_heap];
  size_t i = 0;

  for (;;)
    {
      size_t child = 2 * i + 1;

      if (child >= enc->n_heap)
        break;
      if (child + 1 < enc->n_heap && candidate_less (&enc->heap[child + 1], &enc->heap[child]))
        child++;
      if (!candidate_less (&enc->heap[child], &last))
        break;
      enc->heap[i] = enc->heap[child];
      i = child;
    }
  if (enc->n_heap > 0)
    enc->heap[i] = last;
  return top;
}

/* Queues the pair starting at symbol left, if it is a merge. */
static void
queue_pair (Encoder *enc,
            int32_t  left)
{
  const Symbol *a, *b;
  const PonderMergeSlot *merge;

  if (left < 0 || enc->symbols[left].next < 0)
    return;
  a = &enc->symbols[left];
  b = &enc->symbols[a->next];
  if (a->id < 0 || b->id < 0 || (merge = ponder_tokenizer_find_merge (enc->tok, a->id, b->id)) == NULL)
    return;
  heap_push (enc, (Candidate) { merge->rank, left, a->next, a->id, b->id });
}

/* BPE over one piece: always merge the lowest-ranked adjacent pair, the
 * leftmost among equals. Each merge queues at most two new pairs, so the
 * heap holds fewer than 3 * len entries and a piece costs O(len log len),
 * whatever its length. */
static PonderStatus
bpe_piece (Encoder     *enc,
           const char  *piece,
           size_t       len,
           PonderError *error)
{
  const PonderTokenizer *tok = enc->tok;
  PonderStatus status;

  if (len > INT32_MAX / 4
      || !grow ((void **) &enc->symbols, &enc->cap_symbols, len, sizeof *enc->symbols)
      || !grow ((void **) &enc->heap, &enc->cap_heap, 3 * len, sizeof *enc->heap))
    return ponder_error_set (error, PONDER_ERROR_NO_MEMORY,
                             "tokenizer: out of memory for a %zu-byte piece", len);
  for (size_t i = 0; i < len; i++)
    enc->symbols[i] = (Symbol) { tok->byte_token[(uint8_t) piece[i]], (int32_t) i - 1,
                                 i + 1 < len ? (int32_t) i + 1 : -1, true };
  enc->n_heap = 0;
  for (size_t i = 0; i + 1 < len; i++)
    queue_pair (enc, (int32_t) i);

  while (enc->n_heap > 0)
    {
      Candidate c = heap_pop (enc);
      Symbol *a = &enc->symbols[c.left];
      Symbol *b = &enc->symbols[c.right];

      if (!a->alive || !b->alive || a->next != c.right
          || a->id != c.left_id || b->id != c.right_id)
        continue;   /* stale: one side has merged since */
      a->id = ponder_tokenizer_find_merge (tok, a->id, b->id)->result;
      b->alive = false;
      a->next = b->next;
      if (b->next >= 0)
        enc->symbols[b->next].prev = c.left;
      queue_pair (enc, a->prev);
      queue_pair (enc, c.left);
    }

  for (int32_t i = 0; i >= 0; i = enc->symbols[i].next)
    if (enc->symbols[i].id >= 0 && (status = push_id (enc, enc->symbols[i].id, error)))
      return status;
  return PONDER_OK;
}

/* Llama-3's ignore_merges: a piece that is itself an ordinary token is
 * emitted whole. */
static int32_t
whole_piece_token (Encoder    *enc,
                   const char *piece,
                   size_t      len)
{
  size_t n = 0;
  int32_t id;

  if (len > SIZE_MAX / 4
      || !grow ((void **) &enc->mapped, &enc->cap_mapped, 2 * len, 1))
    return -1;   /* BPE will report the memory error */
  for (size_t i = 0; i < len; i++)
    n += ponder_unicode_encode_utf8 (ponder_unicode_byte_to_cp ((uint8_t) piece[i]),
                                     enc->mapped + n);
  id = ponder_tokenizer_lookup (enc->tok, enc->tok->index, enc->tok->index_mask, enc->mapped, n);
  if (id >= 0 && ponder_tokenizer_is_special_type (enc->tok->types[id]))
    return -1;
  return id;
}

static PonderStatus
encode_piece (const char  *piece,
              size_t       len,
              void        *user_data,
              PonderError *error)
{
  Encoder *enc = user_data;
  int32_t id;

  if (len == 1 && enc->tok->byte_token[(uint8_t) piece[0]] >= 0)
    return push_id (enc, enc->tok->byte_token[(uint8_t) piece[0]], error);
  if (ponder_pretok_ignore_merges (enc->tok->pretok)
      && (id = whole_piece_token (enc, piece, len)) >= 0)
    return push_id (enc, id, error);
  return bpe_piece (enc, piece, len, error);
}

/* Ordinary text: normalised where the family says so, then pre-tokenized.
 * Bytes that are not well-formed UTF-8 cannot go through the regexes; each
 * becomes a piece of its own, which byte-level BPE still encodes, so every
 * byte string round-trips. */
static PonderStatus
encode_text (Encoder     *enc,
             const char  *text,
             size_t       len,
             PonderError *error)
{
  const PonderPreTokenizer *pretok = enc->tok->pretok;
  size_t pos = 0;
  PonderStatus status = PONDER_OK;

  while (pos < len && status == PONDER_OK)
    {
      size_t valid = ponder_unicode_valid_prefix (text + pos, len - pos);

      if (valid > 0 && ponder_pretok_nfc (pretok))
        {
          char *normal = NULL;
          size_t normal_len = 0;

          status = ponder_unicode_nfc (text + pos, valid, &normal, &normal_len, error);
          if (status == PONDER_OK)
            status = ponder_pretok_split (pretok, normal, normal_len, encode_piece, enc, error);
          free (normal);
        }
      else if (valid > 0)
        status = ponder_pretok_split (pretok, text + pos, valid, encode_piece, enc, error);
      pos += valid;
      if (pos < len && status == PONDER_OK)
        {
          status = encode_piece (text + pos, 1, enc, error);
          pos++;
        }
    }
  return status;
}

/* The special token starting at text, longest first; with parse_special
 * off only USER_DEFINED (added) tokens count. */
static int32_t
match_special (const PonderTokenizer *tok,
               const char            *text,
               size_t                 len,
               bool                   parse_special,
               size_t                *out_len)
{
  uint8_t first = (uint8_t) text[0];

  for (uint32_t k = tok->special_lens_off[first]; k < tok->special_lens_off[first + 1]; k++)
    {
      uint32_t n = tok->special_lens[k];
      int32_t id;

      if (n > len)
        continue;
      id = ponder_tokenizer_lookup (tok, tok->special_index, tok->special_mask, text, n);
      if (id < 0 || (!parse_special && tok->types[id] != PONDER_TOKEN_TYPE_USER_DEFINED))
        continue;
      *out_len = n;
      return id;
    }
  return -1;
}

PonderStatus
ponder_tokenizer_encode (const PonderTokenizer *tokenizer,
                         const char            *text,
                         size_t                 text_len,
                         bool                   parse_special,
                         int32_t              **out_ids,
                         size_t                *out_n_ids,
                         PonderError           *error)
{
  Encoder enc = { .tok = tokenizer };
  size_t plain = 0;    /* start of the text not yet encoded */
  size_t pos = 0;
  PonderStatus status = PONDER_OK;

  *out_ids = NULL;
  *out_n_ids = 0;
  if (text == NULL && text_len > 0)
    return ponder_error_set (error, PONDER_ERROR_INVALID_ARGUMENT,
                             "tokenizer: NULL text of length %zu", text_len);
  /* Leftmost match first, then longest: scan positions in order. */
  while (pos < text_len && status == PONDER_OK)
    {
      size_t match_len = 0;
      int32_t id = match_special (tokenizer, text + pos, text_len - pos, parse_special,
                                  &match_len);

      if (id < 0)
        {
          pos++;
          continue;
        }
      status = encode_text (&enc, text + plain, pos - plain, error);
      if (status == PONDER_OK)
        status = push_id (&enc, id, error);
      pos += match_len;
      plain = pos;
    }
  if (status == PONDER_OK)
    status = encode_text (&enc, text + plain, text_len - plain, error);

  free (enc.symbols);
  free (enc.heap);
  free (enc.mapped);
  if (status != PONDER_OK)
    {
      free (enc.ids);
      return status;
    }
  if (enc.ids == NULL)
    enc.ids = malloc (sizeof *enc.ids);   /* a valid pointer even for no tokens */
  if (enc.ids == NULL)
    return ponder_error_set (error, PONDER_ERROR_NO_MEMORY, "tokenizer: out of memory");
  *out_ids = enc.ids;
  *out_n_ids = enc.n_ids;
  return PONDER_OK;
}
