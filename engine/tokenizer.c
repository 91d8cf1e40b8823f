/* tokenizer.c: byte-level BPE vocabularies from GGUF (engine-spec.md 5.2-5.4).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Loading validates every key it reads (token types, merges whose tokens
 * are missing, ids out of range) and copies what it needs, so the GGUF file
 * may be closed afterwards. Encoding is in tokenizer-bpe.c.
 */
#include "tokenizer.h"
#include "tokenizer-private.h"
#include "error.h"

#include <stdlib.h>
#include <string.h>

/* ---- Hash tables ---------------------------------------------------------- */

#define FNV_OFFSET 0xcbf29ce484222325ull

/* FNV-1a, continued from h, so that a string's hash can be computed in
 * parts (a merge's two halves). */
static uint64_t
hash_more (uint64_t    h,
           const char *data,
           size_t      len)
{
  for (size_t i = 0; i < len; i++)
    {
      h ^= (uint8_t) data[i];
      h *= 0x100000001b3ull;
    }
  return h;
}

static uint64_t
hash_bytes (const char *data,
            size_t      len)
{
  return hash_more (FNV_OFFSET, data, len);
}

static uint64_t
hash_pair (uint64_t pair)
{
  /* MurmurHash3's 64-bit finaliser: every input bit reaches the low bits
   * that pick the slot. */
  pair ^= pair >> 33;
  pair *= 0xff51afd7ed558ccdull;
  pair ^= pair >> 33;
  pair *= 0xc4ceb9fe1a85ec53ull;
  pair ^= pair >> 33;
  return pair;
}

static size_t
table_size_for (size_t n)
{
  size_t size = 16;

  while (size < 2 * n)
    size <<= 1;
  return size;
}

static const char *
token_raw (const PonderTokenizer *tok,
           int32_t                id,
           size_t                *out_len)
{
  *out_len = tok->raw_off[id + 1] - tok->raw_off[id];
  return tok->raw + tok->raw_off[id];
}

int32_t
ponder_tokenizer_lookup (const PonderTokenizer *tok,
                         const int32_t         *table,
                         size_t                 mask,
                         const char            *text,
                         size_t                 len)
{
  size_t slot = hash_bytes (text, len) & mask;

  for (;;)
    {
      int32_t id = table[slot];
      size_t id_len;
      const char *raw;

      if (id < 0)
        return -1;
      raw = token_raw (tok, id, &id_len);
      if (id_len == len && memcmp (raw, text, len) == 0)
        return id;
      slot = (slot + 1) & mask;
    }
}

/* Inserts id unless its string is already there (the lowest id wins). */
static void
insert_in (const PonderTokenizer *tok,
           int32_t               *table,
           size_t                 mask,
           int32_t                id)
{
  size_t len;
  const char *raw = token_raw (tok, id, &len);
  size_t slot = hash_bytes (raw, len) & mask;

  while (table[slot] >= 0)
    {
      size_t other_len;
      const char *other = token_raw (tok, table[slot], &other_len);

      if (other_len == len && memcmp (other, raw, len) == 0)
        return;
      slot = (slot + 1) & mask;
    }
  table[slot] = id;
}

/* The id of the token whose string is a followed by b, or -1: a merge's
 * result, found without building the joined string. */
static int32_t
lookup_concat (const PonderTokenizer *tok,
               const char            *a,
               size_t                 a_len,
               const char            *b,
               size_t                 b_len)
{
  size_t slot = hash_more (hash_more (FNV_OFFSET, a, a_len), b, b_len) & tok->index_mask;

  for (;;)
    {
      int32_t id = tok->index[slot];
      size_t id_len;
      const char *raw;

      if (id < 0)
        return -1;
      raw = token_raw (tok, id, &id_len);
      if (id_len == a_len + b_len && memcmp (raw, a, a_len) == 0
          && memcmp (raw + a_len, b, b_len) == 0)
        return id;
      slot = (slot + 1) & tok->index_mask;
    }
}

const PonderMergeSlot *
ponder_tokenizer_find_merge (const PonderTokenizer *tok,
                             int32_t                left,
                             int32_t                right)
{
  uint64_t pair = ((uint64_t) (uint32_t) left << 32) | (uint32_t) right;
  size_t slot = hash_pair (pair) & tok->merge_mask;

  for (;;)
    {
      const PonderMergeSlot *entry = &tok->merges[slot];

      if (entry->pair == UINT64_MAX)
        return NULL;
      if (entry->pair == pair)
        return entry;
      slot = (slot + 1) & tok->merge_mask;
    }
}

/* ---- Loading ---------------------------------------------------------------- */

static PonderStatus
load_strings (PonderTokenizer    *tok,
              const PonderGgufKv *tokens_kv,
              PonderError        *error)
{
  size_t total = 0;

  for (uint32_t i = 0; i < tok->n_vocab; i++)
    {
      if (tokens_kv->array_strings[i].len > SIZE_MAX / 4 - total)
        return ponder_error_set (error, PONDER_ERROR_FORMAT,
                                 "tokenizer.ggml.tokens: token strings are too long");
      total += tokens_kv->array_strings[i].len;
    }
  tok->raw = malloc (total + 1);
  tok->raw_off = malloc ((tok->n_vocab + 1) * sizeof *tok->raw_off);
  tok->types = malloc (tok->n_vocab);
  if (tok->raw == NULL || tok->raw_off == NULL || tok->types == NULL)
    return ponder_error_set (error, PONDER_ERROR_NO_MEMORY,
                             "tokenizer: out of memory for %u tokens", tok->n_vocab);
  total = 0;
  for (uint32_t i = 0; i < tok->n_vocab; i++)
    {
      tok->raw_off[i] = total;
      memcpy (tok->raw + total, tokens_kv->array_strings[i].data,
              tokens_kv->array_strings[i].len);
      total += tokens_kv->array_strings[i].len;
    }
  tok->raw_off[tok->n_vocab] = total;
  return PONDER_OK;
}

static PonderStatus
load_types (PonderTokenizer      *tok,
            const PonderGgufFile *file,
            PonderError          *error)
{
  const PonderGgufKv *kv = ponder_gguf_find_kv (file, "tokenizer.ggml.token_type");

  if (kv == NULL)
    {
      /* Optional in GGUF: without it every token is an ordinary one. */
      memset (tok->types, PONDER_TOKEN_TYPE_NORMAL, tok->n_vocab);
      return PONDER_OK;
    }
  if (kv->type != PONDER_GGUF_ARRAY || kv->array_len != tok->n_vocab)
    return ponder_error_set (error, PONDER_ERROR_FORMAT,
                             "tokenizer.ggml.token_type: expected an array of %u integers "
                             "(one per token), found %s of %llu",
                             tok->n_vocab, kv->type == PONDER_GGUF_ARRAY ? "an array" : "a scalar",
                             (unsigned long long) (kv->type == PONDER_GGUF_ARRAY
                                                   ? kv->array_len : 1));
  for (uint32_t i = 0; i < tok->n_vocab; i++)
    {
      int64_t type;

      if (!ponder_gguf_array_int (kv, i, &type))
        return ponder_error_set (error, PONDER_ERROR_FORMAT,
                                 "tokenizer.ggml.token_type: element %u is not an integer", i);
      if (type < PONDER_TOKEN_TYPE_UNDEFINED || type > PONDER_TOKEN_TYPE_BYTE)
        return ponder_error_set (error, PONDER_ERROR_FORMAT,
                                 "tokenizer.ggml.token_type[%u] = %lld, expected 0..6",
                                 i, (long long) type);
      tok->types[i] = (uint8_t) type;
    }
  return PONDER_OK;
}

/* Decodes a token written in GPT-2's byte alphabet into out; false (and
 * out unspecified) if any character is outside that alphabet. */
static bool
unmap_bytes (const char *raw,
             size_t      len,
             char       *out,
             size_t     *out_len)
{
  size_t pos = 0, n_out = 0;

  while (pos < len)
    {
      uint32_t cp;
      size_t n = ponder_unicode_decode_utf8 (raw + pos, len - pos, &cp);
      int byte = n > 0 ? ponder_unicode_cp_to_byte (cp) : -1;

      if (byte < 0)
        return false;
      out[n_out++] = (char) byte;
      pos += n;
    }
  *out_len = n_out;
  return true;
}

/* Decoded bytes, by Hugging Face's ByteLevel decoder rule for every token,
 * added and special ones included: a token whose characters are all in
 * the byte alphabet becomes those bytes, any other (<｜User｜>) is its own
 * text. (deepseek-llm's vocabulary has the bytes that never occur in UTF-8,
 * 'ÿ' = 0xFF and others, as added tokens; they decode to the byte.) */
static PonderStatus
build_texts (PonderTokenizer *tok,
             PonderError     *error)
{
  size_t total = 0;

  /* A decoded token is never longer than its raw string. */
  tok->text = malloc (tok->raw_off[tok->n_vocab] + tok->n_vocab);
  tok->text_off = malloc ((tok->n_vocab + 1) * sizeof *tok->text_off);
  if (tok->text == NULL || tok->text_off == NULL)
    return ponder_error_set (error, PONDER_ERROR_NO_MEMORY,
                             "tokenizer: out of memory for decoded tokens");
  for (uint32_t id = 0; id < tok->n_vocab; id++)
    {
      size_t len, n_out = 0;
      const char *raw = token_raw (tok, (int32_t) id, &len);

      tok->text_off[id] = total;
      if (!unmap_bytes (raw, len, tok->text + total, &n_out))
        {
          memcpy (tok->text + total, raw, len);
          n_out = len;
        }
      total += n_out;
      tok->text[total++] = '\0';   /* so that token_bytes is NUL-terminated */
    }
  tok->text_off[tok->n_vocab] = total;
  return PONDER_OK;
}

static PonderStatus
build_index (PonderTokenizer *tok,
             PonderError     *error)
{
  size_t size = table_size_for (tok->n_vocab);

  tok->index = malloc (size * sizeof *tok->index);
  if (tok->index == NULL)
    return ponder_error_set (error, PONDER_ERROR_NO_MEMORY, "tokenizer: out of memory");
  memset (tok->index, 0xff, size * sizeof *tok->index);
  tok->index_mask = size - 1;
  for (uint32_t id = 0; id < tok->n_vocab; id++)
    insert_in (tok, tok->index, tok->index_mask, (int32_t) id);

  for (unsigned b = 0; b < 256; b++)
    {
      char utf8[4];
      size_t n = ponder_unicode_encode_utf8 (ponder_unicode_byte_to_cp ((uint8_t) b), utf8);

      /* A vocabulary without some byte drops that byte (no fallback exists
       * in it); all real byte-level vocabularies have all 256. */
      tok->byte_token[b] = ponder_tokenizer_lookup (tok, tok->index, tok->index_mask,
                                                      utf8, n);
    }
  return PONDER_OK;
}

static int32_t
find_part (const PonderTokenizer *tok,
           const char            *text,
           size_t                 len,
           size_t                 rank,
           const char            *what,
           PonderError           *error)
{
  int32_t id = ponder_tokenizer_lookup (tok, tok->index, tok->index_mask, text, len);

  if (id < 0)
    ponder_error_set (error, PONDER_ERROR_FORMAT,
                      "tokenizer.ggml.merges[%zu]: the %s \"%.*s\" is not in "
                      "tokenizer.ggml.tokens", rank, what, (int) (len > 64 ? 64 : len), text);
  return id;
}

static PonderStatus
build_merges (PonderTokenizer      *tok,
              const PonderGgufFile *file,
              PonderError          *error)
{
  const PonderGgufKv *kv = ponder_gguf_find_kv (file, "tokenizer.ggml.merges");
  size_t size;

  if (kv == NULL || kv->type != PONDER_GGUF_ARRAY || kv->array_type != PONDER_GGUF_STRING)
    return ponder_error_set (error, PONDER_ERROR_FORMAT,
                             "tokenizer.ggml.merges: %s", kv == NULL
                             ? "missing (a BPE vocabulary needs its merges)"
                             : "expected an array of strings");
  if (kv->array_len > UINT32_MAX / 4)
    return ponder_error_set (error, PONDER_ERROR_FORMAT,
                             "tokenizer.ggml.merges: %llu merges is too many",
                             (unsigned long long) kv->array_len);
  size = table_size_for (kv->array_len);
  tok->merges = malloc (size * sizeof *tok->merges);
  if (tok->merges == NULL)
    return ponder_error_set (error, PONDER_ERROR_NO_MEMORY, "tokenizer: out of memory");
  for (size_t i = 0; i < size; i++)
    tok->merges[i].pair = UINT64_MAX;
  tok->merge_mask = size - 1;

  for (size_t rank = 0; rank < kv->array_len; rank++)
    {
      PonderGgufString merge = kv->array_strings[rank];
      const char *space = merge.len > 1 ? memchr (merge.data + 1, ' ', merge.len - 1) : NULL;
      size_t left_len, right_len, slot;
      int32_t left, right, result;
      uint64_t pair;

      if (space == NULL || space + 1 == merge.data + merge.len)
        return ponder_error_set (error, PONDER_ERROR_FORMAT,
                                 "tokenizer.ggml.merges[%zu] = \"%.*s\": expected \"LEFT RIGHT\"",
                                 rank, (int) (merge.len > 64 ? 64 : merge.len), merge.data);
      left_len = (size_t) (space - merge.data);
      right_len = merge.len - left_len - 1;
      if ((left = find_part (tok, merge.data, left_len, rank, "left token", error)) < 0
          || (right = find_part (tok, space + 1, right_len, rank, "right token", error)) < 0)
        return PONDER_ERROR_FORMAT;
      result = lookup_concat (tok, merge.data, left_len, space + 1, right_len);
      if (result < 0)
        return ponder_error_set (error, PONDER_ERROR_FORMAT,
                                 "tokenizer.ggml.merges[%zu]: the merged token \"%.*s%.*s\" is "
                                 "not in tokenizer.ggml.tokens", rank,
                                 (int) (left_len > 64 ? 64 : left_len), merge.data,
                                 (int) (right_len > 64 ? 64 : right_len), space + 1);

      pair = ((uint64_t) (uint32_t) left << 32) | (uint32_t) right;
      slot = hash_pair (pair) & tok->merge_mask;
      while (tok->merges[slot].pair != UINT64_MAX && tok->merges[slot].pair != pair)
        slot = (slot + 1) & tok->merge_mask;
      if (tok->merges[slot].pair == UINT64_MAX)   /* a repeated merge keeps its first rank */
        tok->merges[slot] = (PonderMergeSlot) { pair, (uint32_t) rank, result };
    }
  return PONDER_OK;
}

static int
compare_keys (const void *a,
              const void *b)
{
  uint64_t x = *(const uint64_t *) a;
  uint64_t y = *(const uint64_t *) b;

  return x < y ? -1 : x > y ? 1 : 0;
}

/* Builds the special-token matcher: a string index over CONTROL and
 * USER_DEFINED tokens and, per first byte, their distinct lengths. */
static PonderStatus
build_specials (PonderTokenizer *tok,
                PonderError     *error)
{
  size_t n_special = 0, n_keys = 0, n_lens = 0, size;
  uint64_t *keys;     /* (n_special) first byte << 32 | ~length */

  for (uint32_t id = 0; id < tok->n_vocab; id++)
    if (ponder_tokenizer_is_special_type (tok->types[id])
        && tok->raw_off[id + 1] > tok->raw_off[id])
      n_special++;
  size = table_size_for (n_special);
  tok->special_index = malloc (size * sizeof *tok->special_index);
  keys = malloc ((n_special + 1) * sizeof *keys);
  tok->special_lens = malloc ((n_special + 1) * sizeof *tok->special_lens);
  if (tok->special_index == NULL || keys == NULL || tok->special_lens == NULL)
    {
      free (keys);
      return ponder_error_set (error, PONDER_ERROR_NO_MEMORY, "tokenizer: out of memory");
    }
  memset (tok->special_index, 0xff, size * sizeof *tok->special_index);
  tok->special_mask = size - 1;

  for (uint32_t id = 0; id < tok->n_vocab; id++)
    {
      size_t len;
      const char *raw = token_raw (tok, (int32_t) id, &len);

      if (!ponder_tokenizer_is_special_type (tok->types[id]) || len == 0 || len >= UINT32_MAX)
        continue;
      insert_in (tok, tok->special_index, tok->special_mask, (int32_t) id);
      keys[n_keys++] = ((uint64_t) (uint8_t) raw[0] << 32) | (UINT32_MAX - (uint32_t) len);
    }
  /* Ascending keys: grouped by first byte, longest length first. */
  qsort (keys, n_keys, sizeof *keys, compare_keys);
  memset (tok->special_lens_off, 0, sizeof tok->special_lens_off);
  for (size_t i = 0; i < n_keys; i++)
    {
      unsigned b = (unsigned) (keys[i] >> 32);

      if (i > 0 && keys[i] == keys[i - 1])
        continue;
      tok->special_lens[n_lens++] = UINT32_MAX - (uint32_t) keys[i];
      tok->special_lens_off[b + 1]++;
    }
  for (int b = 0; b < 256; b++)
    tok->special_lens_off[b + 1] += tok->special_lens_off[b];
  free (keys);
  return PONDER_OK;
}

/* Tokens that end a turn, by their exact text. Beyond EOS/EOT this follows
 * the chat formats (<|im_end|>, <|eot_id|>) and engine-spec.md 5.4's guard
 * against template mismatches: an R1 model that emits a role marker or BOS
 * has left its turn. */
static const char *const eog_texts[] = {
  "<|im_end|>", "<|eot_id|>", "<|end_of_text|>", "<|endoftext|>", "<|EOT|>",
  "<\xef\xbd\x9c" "end\xe2\x96\x81of\xe2\x96\x81sentence\xef\xbd\x9c>",
  "<\xef\xbd\x9c" "begin\xe2\x96\x81of\xe2\x96\x81sentence\xef\xbd\x9c>",
  "<\xef\xbd\x9cUser\xef\xbd\x9c>",
  "<\xef\xbd\x9c" "Assistant\xef\xbd\x9c>",
};

static void
add_eog (PonderTokenizer *tok,
         int32_t          id)
{
  if (id < 0 || tok->n_eog >= PONDER_TOKENIZER_MAX_EOG)
    return;
  for (size_t i = 0; i < tok->n_eog; i++)
    if (tok->eog[i] == id)
      return;
  tok->eog[tok->n_eog++] = id;
}

static PonderStatus
read_token_id (PonderTokenizer      *tok,
               const PonderGgufFile *file,
               const char           *key,
               int32_t              *out_id,
               PonderError          *error)
{
  uint64_t value;

  *out_id = -1;
  if (ponder_gguf_find_kv (file, key) == NULL)
    return PONDER_OK;
  if (!ponder_gguf_get_uint (file, key, &value))
    return ponder_error_set (error, PONDER_ERROR_FORMAT,
                             "%s: expected an unsigned integer token id", key);
  if (value >= tok->n_vocab)
    return ponder_error_set (error, PONDER_ERROR_FORMAT,
                             "%s = %llu is out of range: the vocabulary has %u tokens",
                             key, (unsigned long long) value, tok->n_vocab);
  *out_id = (int32_t) value;
  return PONDER_OK;
}

static PonderStatus
read_ids (PonderTokenizer      *tok,
          const PonderGgufFile *file,
          PonderError          *error)
{
  PonderStatus status;
  int32_t eot;

  if ((status = read_token_id (tok, file, "tokenizer.ggml.bos_token_id", &tok->bos, error))
      || (status = read_token_id (tok, file, "tokenizer.ggml.eos_token_id", &tok->eos, error))
      || (status = read_token_id (tok, file, "tokenizer.ggml.eot_token_id", &eot, error)))
    return status;
  if (ponder_gguf_find_kv (file, "tokenizer.ggml.add_bos_token") != NULL
      && !ponder_gguf_get_bool (file, "tokenizer.ggml.add_bos_token", &tok->add_bos))
    return ponder_error_set (error, PONDER_ERROR_FORMAT,
                             "tokenizer.ggml.add_bos_token: expected a bool");
  add_eog (tok, tok->eos);
  add_eog (tok, eot);
  for (size_t i = 0; i < sizeof eog_texts / sizeof eog_texts[0]; i++)
    {
      int32_t id = ponder_tokenizer_find_token (tok, eog_texts[i]);

      /* BOS opens a turn; it only ends generation when the model emits it,
       * which is the same test. */
      if (id >= 0 && tok->types[id] == PONDER_TOKEN_TYPE_CONTROL)
        add_eog (tok, id);
    }
  return PONDER_OK;
}

static PonderStatus
read_model_and_pre (const PonderGgufFile *file,
                    char                  pre_name[64],
                    PonderError          *error)
{
  PonderGgufString model, pre;

  if (!ponder_gguf_get_string (file, "tokenizer.ggml.model", &model))
    return ponder_error_set (error, PONDER_ERROR_FORMAT,
                             "tokenizer.ggml.model: missing or not a string");
  if (!ponder_gguf_string_equals (model, "gpt2"))
    return ponder_error_set (error, PONDER_ERROR_UNSUPPORTED,
                             "tokenizer.ggml.model = \"%.*s\" is not supported (only \"gpt2\", "
                             "byte-level BPE)", (int) (model.len > 64 ? 64 : model.len),
                             model.data);
  if (!ponder_gguf_get_string (file, "tokenizer.ggml.pre", &pre))
    {
      if (ponder_gguf_find_kv (file, "tokenizer.ggml.pre") != NULL)
        return ponder_error_set (error, PONDER_ERROR_FORMAT,
                                 "tokenizer.ggml.pre: expected a string");
      strcpy (pre_name, "default");
      return PONDER_OK;
    }
  if (pre.len >= 64 || memchr (pre.data, '\0', pre.len) != NULL)
    return ponder_error_set (error, PONDER_ERROR_UNSUPPORTED,
                             "tokenizer.ggml.pre = \"%.*s\" is not supported",
                             (int) (pre.len > 64 ? 64 : pre.len), pre.data);
  memcpy (pre_name, pre.data, pre.len);
  pre_name[pre.len] = '\0';
  return PONDER_OK;
}

static PonderStatus
load (PonderTokenizer      *tok,
      const PonderGgufFile *file,
      PonderError          *error)
{
  const PonderGgufKv *tokens_kv = ponder_gguf_find_kv (file, "tokenizer.ggml.tokens");
  char pre_name[64];
  PonderStatus status;

  if ((status = read_model_and_pre (file, pre_name, error)) != PONDER_OK)
    return status;
  if (tokens_kv == NULL || tokens_kv->type != PONDER_GGUF_ARRAY
      || tokens_kv->array_type != PONDER_GGUF_STRING)
    return ponder_error_set (error, PONDER_ERROR_FORMAT, "tokenizer.ggml.tokens: %s",
                             tokens_kv == NULL ? "missing" : "expected an array of strings");
  if (tokens_kv->array_len == 0 || tokens_kv->array_len > INT32_MAX / 2)
    return ponder_error_set (error, PONDER_ERROR_FORMAT,
                             "tokenizer.ggml.tokens: %llu tokens, expected 1..%d",
                             (unsigned long long) tokens_kv->array_len, INT32_MAX / 2);
  tok->n_vocab = (uint32_t) tokens_kv->array_len;

  if ((status = load_strings (tok, tokens_kv, error)) != PONDER_OK
      || (status = load_types (tok, file, error)) != PONDER_OK
      || (status = build_texts (tok, error)) != PONDER_OK
      || (status = build_index (tok, error)) != PONDER_OK
      || (status = build_merges (tok, file, error)) != PONDER_OK
      || (status = build_specials (tok, error)) != PONDER_OK
      || (status = read_ids (tok, file, error)) != PONDER_OK)
    return status;
  return ponder_pretok_new (pre_name, &tok->pretok, error);
}

PonderStatus
ponder_tokenizer_new (const PonderGgufFile *file,
                      PonderTokenizer     **out_tokenizer,
                      PonderError          *error)
{
  PonderTokenizer *tok;
  PonderStatus status;

  *out_tokenizer = NULL;
  tok = calloc (1, sizeof *tok);
  if (tok == NULL)
    return ponder_error_set (error, PONDER_ERROR_NO_MEMORY, "tokenizer: out of memory");
  tok->bos = tok->eos = -1;
  status = load (tok, file, error);
  if (status != PONDER_OK)
    {
      ponder_error_prefix (error, "%s: ", ponder_gguf_path (file));
      ponder_tokenizer_free (tok);
      return status;
    }
  *out_tokenizer = tok;
  return PONDER_OK;
}

void
ponder_tokenizer_free (PonderTokenizer *tokenizer)
{
  if (tokenizer == NULL)
    return;
  free (tokenizer->raw);
  free (tokenizer->raw_off);
  free (tokenizer->text);
  free (tokenizer->text_off);
  free (tokenizer->types);
  free (tokenizer->index);
  free (tokenizer->merges);
  free (tokenizer->special_index);
  free (tokenizer->special_lens);
  ponder_pretok_free (tokenizer->pretok);
  free (tokenizer);
}

/* ---- Look-ups ------------------------------------------------------------------ */

const char *
ponder_tokenizer_token_bytes (const PonderTokenizer *tokenizer,
                              int32_t                id,
                              size_t                *out_len)
{
  if (id < 0 || (uint32_t) id >= tokenizer->n_vocab)
    {
      if (out_len != NULL)
        *out_len = 0;
      return NULL;
    }
  if (out_len != NULL)
    *out_len = tokenizer->text_off[id + 1] - tokenizer->text_off[id] - 1;   /* minus the NUL */
  return tokenizer->text + tokenizer->text_off[id];
}

uint32_t
ponder_tokenizer_n_vocab (const PonderTokenizer *tokenizer)
{
  return tokenizer->n_vocab;
}

size_t
ponder_tokenizer_unsampleable (const PonderTokenizer *tokenizer,
                               uint32_t               n_logits,
                               int32_t               *out_ids)
{
  size_t n = 0;

  for (uint32_t id = 0; id < n_logits; id++)
    if (id >= tokenizer->n_vocab || tokenizer->types[id] == PONDER_TOKEN_TYPE_UNUSED)
      {
        if (out_ids != NULL)
          out_ids[n] = (int32_t) id;
        n++;
      }
  return n;
}

int32_t
ponder_tokenizer_bos (const PonderTokenizer *tokenizer)
{
  return tokenizer->bos;
}

int32_t
ponder_tokenizer_eos (const PonderTokenizer *tokenizer)
{
  return tokenizer->eos;
}

bool
ponder_tokenizer_add_bos (const PonderTokenizer *tokenizer)
{
  return tokenizer->add_bos && tokenizer->bos >= 0;
}

bool
ponder_tokenizer_is_end_of_generation (const PonderTokenizer *tokenizer,
                                       int32_t                id)
{
  for (size_t i = 0; i < tokenizer->n_eog; i++)
    if (tokenizer->eog[i] == id)
      return true;
  return false;
}

int32_t
ponder_tokenizer_find_token (const PonderTokenizer *tokenizer,
                             const char            *text)
{
  if (text == NULL || text[0] == '\0')
    return -1;
  return ponder_tokenizer_lookup (tokenizer, tokenizer->special_index, tokenizer->special_mask,
                    text, strlen (text));
}
