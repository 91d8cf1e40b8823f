/* tokenizer.h: byte-level BPE as in GPT-2, with each family's pre-tokenizer.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Reads tokenizer.ggml.* from a GGUF file (engine-spec.md 3.1, 5.2-5.4).
 * Supported tokenizer.ggml.pre: qwen2, deepseek-r1-qwen, llama-bpe,
 * deepseek-v3, deepseek-llm, deepseek-coder (and "default" as gpt2).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gguf.h"
#include "ponder-engine.h"

typedef struct PonderTokenizer PonderTokenizer;

PonderStatus ponder_tokenizer_new    (const PonderGgufFile *file,
                                      PonderTokenizer     **out_tokenizer,
                                      PonderError          *error);
void         ponder_tokenizer_free   (PonderTokenizer      *tokenizer);

/* Encodes text (no BOS/EOS added). With parse_special, control and added
 * tokens written in the text are recognised; without it, only added
 * (user-defined) tokens are, as in the reference implementation. *out_ids
 * is malloc'd. */
PonderStatus ponder_tokenizer_encode (const PonderTokenizer *tokenizer,
                                      const char            *text,
                                      size_t                 text_len,
                                      bool                   parse_special,
                                      int32_t              **out_ids,
                                      size_t                *out_n_ids,
                                      PonderError           *error);

/* The decoded bytes of one token (byte-level mapping undone; special tokens
 * as their text), NUL-terminated. NULL for an id out of range. Borrowed. */
const char  *ponder_tokenizer_token_bytes (const PonderTokenizer *tokenizer,
                                           int32_t                id,
                                           size_t                *out_len);

uint32_t     ponder_tokenizer_n_vocab (const PonderTokenizer *tokenizer);
/* Ids below n_logits that must never be sampled: tokens typed UNUSED (the
 * [PAD...] rows that pad Qwen's and DeepSeek's output matrices) and rows of
 * the output beyond the vocabulary, which have no text. Writes them to
 * out_ids when it is not NULL and returns how many there are. */
size_t       ponder_tokenizer_unsampleable (const PonderTokenizer *tokenizer,
                                            uint32_t               n_logits,
                                            int32_t               *out_ids);
int32_t      ponder_tokenizer_bos     (const PonderTokenizer *tokenizer); /* -1 if none */
int32_t      ponder_tokenizer_eos     (const PonderTokenizer *tokenizer); /* -1 if none */
bool         ponder_tokenizer_add_bos (const PonderTokenizer *tokenizer);
/* True for tokens that end generation (EOS, EOT, <|im_end|>, <|eot_id|>, ...). */
bool         ponder_tokenizer_is_end_of_generation (const PonderTokenizer *tokenizer,
                                                    int32_t                id);
/* The id of a special or added token given its exact text, or -1. */
int32_t      ponder_tokenizer_find_token (const PonderTokenizer *tokenizer,
                                          const char            *text);

/* Streaming detokenisation: feeds token bytes in and gets back only whole
 * UTF-8 characters, holding an incomplete tail until the next token. */
typedef struct
{
  char   pending[8];
  size_t n_pending;
} PonderUtf8Stream;

/* Appends the complete characters of pending + bytes to out (which has room
 * for len + 8 bytes) and returns how many bytes were written. Invalid
 * sequences are passed through as U+FFFD, one per maximal ill-formed
 * subpart (Unicode 3.9); in the rare push with so many of them that the
 * U+FFFDs would not fit in len + 8 bytes, the excess ones become '?'. */
size_t       ponder_utf8_stream_push  (PonderUtf8Stream *stream,
                                       const char       *bytes,
                                       size_t            len,
                                       char             *out);
/* Whatever is pending at the end of generation, as U+FFFD if incomplete. */
size_t       ponder_utf8_stream_flush (PonderUtf8Stream *stream,
                                       char             *out);
