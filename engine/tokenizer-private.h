/* tokenizer-private.h: the pieces of the tokenizer shared between its files.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * tokenizer.c      loading the vocabulary, merges and special tokens; look-ups
 * tokenizer-bpe.c  encoding: special-token split, BPE
 * tokenizer-pre.c  pre-tokenizers (regex lists run with PCRE2)
 * unicode.c        UTF-8 helpers, the GPT-2 byte map, NFC, streaming UTF-8
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ponder-engine.h"

/* ---- unicode.c ---------------------------------------------------------- */

/* GPT-2's bytes_to_unicode: the code point each byte is written as in a
 * byte-level vocabulary (0x20 ' ' -> U+0120 'Ġ'). */
uint32_t ponder_unicode_byte_to_cp (uint8_t byte);
/* The inverse: the byte a code point stands for, or -1 if it stands for none. */
int      ponder_unicode_cp_to_byte (uint32_t cp);

/* Writes cp as UTF-8 into out (room for 4) and returns the length. */
size_t   ponder_unicode_encode_utf8 (uint32_t cp, char *out);

/* Decodes one well-formed UTF-8 character at text (len > 0 bytes left).
 * Returns its length (1..4) and sets *out_cp, or returns 0 if the bytes are
 * not a complete well-formed character (overlong, surrogate, > U+10FFFF,
 * truncated or a stray continuation byte). */
size_t   ponder_unicode_decode_utf8 (const char *text,
                                     size_t      len,
                                     uint32_t   *out_cp);

/* Length of the longest well-formed UTF-8 prefix of text. */
size_t   ponder_unicode_valid_prefix (const char *text,
                                      size_t      len);

/* NFC-normalises well-formed UTF-8 text into a malloc'd buffer. */
PonderStatus ponder_unicode_nfc (const char   *text,
                                 size_t        len,
                                 char        **out_text,
                                 size_t       *out_len,
                                 PonderError  *error);

/* ---- tokenizer-pre.c ---------------------------------------------------- */

typedef struct PonderPreTokenizer PonderPreTokenizer;

/* Compiles the regex list for a tokenizer.ggml.pre name; an unknown name
 * gives PONDER_ERROR_UNSUPPORTED. */
PonderStatus ponder_pretok_new (const char          *pre_name,
                                PonderPreTokenizer **out_pretok,
                                PonderError         *error);
void         ponder_pretok_free (PonderPreTokenizer *pretok);

/* Whether a piece that is itself a token skips BPE (Llama-3). */
bool         ponder_pretok_ignore_merges (const PonderPreTokenizer *pretok);
/* Whether text is NFC-normalised before splitting (Qwen's tokenizer.json). */
bool         ponder_pretok_nfc (const PonderPreTokenizer *pretok);

/* Called once per piece, in order; a non-OK status stops the split. */
typedef PonderStatus (*PonderPretokFunc) (const char  *piece,
                                         size_t       len,
                                         void        *user_data,
                                         PonderError *error);

/* Splits well-formed UTF-8 text into pre-tokens. Thread-safe. */
PonderStatus ponder_pretok_split (const PonderPreTokenizer *pretok,
                                  const char               *text,
                                  size_t                    len,
                                  PonderPretokFunc           func,
                                  void                     *user_data,
                                  PonderError              *error);

/* ---- tokenizer.c: the loaded vocabulary --------------------------------- */

typedef struct PonderTokenizer PonderTokenizer;

enum
{
  PONDER_TOKEN_TYPE_UNDEFINED    = 0,
  PONDER_TOKEN_TYPE_NORMAL       = 1,
  PONDER_TOKEN_TYPE_UNKNOWN      = 2,
  PONDER_TOKEN_TYPE_CONTROL      = 3,
  PONDER_TOKEN_TYPE_USER_DEFINED = 4,
  PONDER_TOKEN_TYPE_UNUSED       = 5,
  PONDER_TOKEN_TYPE_BYTE         = 6,
};

#define PONDER_TOKENIZER_MAX_EOG 16

typedef struct
{
  uint64_t pair;     /* left id << 32 | right id; UINT64_MAX = empty slot */
  uint32_t rank;     /* index in tokenizer.ggml.merges */
  int32_t  result;   /* id of the merged token */
} PonderMergeSlot;

struct PonderTokenizer
{
  uint32_t            n_vocab;
  char               *raw;           /* (sum of token lengths) vocabulary strings */
  size_t             *raw_off;       /* (n_vocab + 1) */
  char               *text;          /* (sum of decoded lengths + n_vocab) decoded bytes, NUL after each */
  size_t             *text_off;      /* (n_vocab + 1) */
  uint8_t            *types;         /* (n_vocab) PONDER_TOKEN_TYPE_* */

  int32_t            *index;         /* (index_mask + 1) string -> id, -1 empty */
  size_t              index_mask;
  PonderMergeSlot    *merges;        /* (merge_mask + 1) pair -> rank, result */
  size_t              merge_mask;
  int32_t             byte_token[256]; /* id of each byte's one-character token, -1 if none */

  /* Special tokens, found by first byte: the distinct lengths, longest
   * first, of the special strings starting with that byte. */
  int32_t            *special_index; /* (special_mask + 1) string -> id, -1 empty */
  size_t              special_mask;
  uint32_t           *special_lens;  /* (special_lens_off[256]) */
  uint32_t            special_lens_off[257];

  PonderPreTokenizer *pretok;
  int32_t             bos;
  int32_t             eos;
  bool                add_bos;
  int32_t             eog[PONDER_TOKENIZER_MAX_EOG];
  size_t              n_eog;
};

static inline bool
ponder_tokenizer_is_special_type (uint8_t type)
{
  return type == PONDER_TOKEN_TYPE_CONTROL || type == PONDER_TOKEN_TYPE_USER_DEFINED;
}

/* The id whose vocabulary string is text in one of the string indexes
 * (index or special_index), or -1. */
int32_t                ponder_tokenizer_lookup     (const PonderTokenizer *tok,
                                                    const int32_t         *table,
                                                    size_t                 mask,
                                                    const char            *text,
                                                    size_t                 len);
/* The merge of two adjacent tokens, or NULL. */
const PonderMergeSlot *ponder_tokenizer_find_merge (const PonderTokenizer *tok,
                                                    int32_t                left,
                                                    int32_t                right);
