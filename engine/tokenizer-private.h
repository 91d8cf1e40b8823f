/* tokenizer-private.h: the pieces of the tokenizer shared between its files.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * tokenizer.c      vocabulary, special tokens, BPE merges, encode/decode
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
