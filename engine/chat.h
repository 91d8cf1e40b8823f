/* chat.h: the DeepSeek-R1 chat format and the reasoning splitter.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * engine-spec.md 5.5 and 5.6. The prompt is rendered by these rules, not by
 * running the file's Jinja template; tests check the two agree.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gguf.h"
#include "ponder-engine.h"

typedef enum
{
  PONDER_CHAT_R1_DISTILL_QWEN,   /* R1-Distill-Qwen (and R1-0528-Qwen3) */
  PONDER_CHAT_R1_DISTILL_LLAMA,  /* R1-Distill-Llama */
  PONDER_CHAT_R1_FULL,           /* DeepSeek-V3 / R1 671B: systems joined */
} PonderChatFamily;

/* Detects the family from tokenizer.chat_template, general.architecture and
 * the vocabulary. A file without a recognisable R1 template falls back to
 * the family of its architecture (the rules: chat.c); a template that is
 * clearly another format (ChatML without R1 markers, ...) is
 * PONDER_ERROR_UNSUPPORTED. */
PonderStatus ponder_chat_detect_family (const PonderGgufFile *file,
                                        PonderChatFamily     *out_family,
                                        PonderError          *error);

const char  *ponder_chat_family_name   (PonderChatFamily family);

/* Renders the conversation as text (special tokens written out, starting
 * with the BOS text "<｜begin▁of▁sentence｜>"), malloc'd. */
PonderStatus ponder_chat_render        (PonderChatFamily     family,
                                        const PonderMessage *messages,
                                        size_t               n_messages,
                                        bool                 add_generation_prompt,
                                        char               **out_text,
                                        PonderError         *error);

/* ---- Reasoning splitter ------------------------------------------------ */

typedef struct
{
  bool   in_reasoning;
  bool   seen_any;        /* a first token has been fed */
  bool   answer_started;  /* answer text has been emitted (leading "\n\n" stripped) */
  char   held[16];        /* text that may be the start of a split tag */
  size_t n_held;
  size_t n_newlines_stripped; /* of the answer's leading "\n\n" (at most 2) */
} PonderReasoningSplitter;

void ponder_reasoning_splitter_init (PonderReasoningSplitter *splitter,
                                     bool                     start_in_reasoning);

/* The state after the text of an assistant turn the prompt already holds
 * (turn: everything after "<｜Assistant｜>", tags included), so that going on
 * from a cut-off answer streams exactly what the model adds: in the
 * reasoning when the last think tag opens one, else in the answer, with
 * the leading newlines the turn already has after "</think>" counted as
 * stripped. */
void ponder_reasoning_splitter_init_continuing (PonderReasoningSplitter *splitter,
                                                const char              *turn,
                                                size_t                   len);

/* Feeds the text of one generated token (is_think_open / is_think_close say
 * whether it was the single-token tag). Calls emit for each piece with its
 * kind, holding back text that may be the start of a split tag. Returns
 * false if emit asked to stop. */
typedef bool (*PonderSplitEmit) (PonderPieceKind kind, const char *text, size_t len,
                                 void *user_data);

bool ponder_reasoning_splitter_feed  (PonderReasoningSplitter *splitter,
                                      const char              *text,
                                      size_t                   len,
                                      bool                     is_think_open,
                                      bool                     is_think_close,
                                      PonderSplitEmit          emit,
                                      void                    *user_data);

/* Emits anything held back at the end of generation. */
bool ponder_reasoning_splitter_finish (PonderReasoningSplitter *splitter,
                                       PonderSplitEmit          emit,
                                       void                    *user_data);
