/* session-private.h: the structs behind PonderModel and PonderSession.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <stdatomic.h>

#include "backend.h"
#include "chat.h"
#include "forward.h"
#include "gguf.h"
#include "kv-cache.h"
#include "model.h"
#include "ponder-engine.h"
#include "threadpool.h"
#include "tokenizer.h"

/* Tokens per forward batch during prefill: large enough that each weight
 * row read serves many tokens, small enough for cheap scratch. */
#define PONDER_BATCH_TOKENS 128

struct PonderModel
{
  PonderGgufFile     *file;
  PonderModelWeights  weights;
  PonderTokenizer    *tokenizer;
  PonderChatFamily    family;
  char               *name;
  char                file_type_buf[32];
  const char         *file_type;
  uint64_t            n_params;
  uint64_t            weight_bytes;
  uint64_t            bytes_per_token;
  uint64_t            routed_bytes_per_token;
  /* Special tokens resolved by their text (spec 5.4); -1 when absent. */
  int32_t             id_bos;
  int32_t             id_eos;
  int32_t             id_user;
  int32_t             id_assistant;
  int32_t             id_think;
  int32_t             id_think_end;
  PonderVkModel      *vk;              /* weights on a Vulkan device, or NULL: CPU */
  uint32_t            n_host_layers;   /* partial offload: the first layers on the CPU */
};

struct PonderSession
{
  PonderModel      *model;
  uint32_t          n_ctx;
  PonderThreadpool *pool;
  PonderBackend    *backend;
  PonderForward     fw;
  PonderBackend    *host_backend;    /* partial offload: the CPU layers' backend... */
  PonderForward     host_fw;         /* ...and their buffers (fw.host), else unused */
  PonderKvCache     cache;
  float            *logits;          /* (n_vocab) of the last evaluated token */
  float            *logits_history;  /* (n_logits_known, n_vocab) from eval_logits */
  uint32_t          n_logits_known;  /* cached positions whose logits are stored */
  size_t            history_rows;    /* rows allocated in logits_history */
  atomic_bool       cancel;
  atomic_bool       end_reasoning;
};

/* Checks ids against the vocabulary and the prompt against the context,
 * then evaluates tokens[first, n) in batches at their positions. The logits
 * of the last token land in session->logits (when want_last), or every row
 * into all_logits + (p - first_row_pos) rows (when all_logits). Stops early
 * and returns PONDER_ERROR_CANCELLED if check_cancel and cancel is set. */
PonderStatus ponder_session_evaluate (PonderSession *session,
                                      const int32_t *tokens,
                                      uint32_t       first,
                                      uint32_t       n,
                                      bool           want_last,
                                      float         *all_logits,
                                      bool           check_cancel,
                                      PonderError   *error);

PonderStatus ponder_session_check_tokens (const PonderSession *session,
                                          const int32_t       *tokens,
                                          size_t               n,
                                          PonderError         *error);

/* The chat prompt of messages as token ids (spec 5.5), ending with the
 * generation prompt: markers as ids, message texts tokenised with special
 * parsing off. *out_ids is malloc'd. */
PonderStatus ponder_session_chat_tokens (const PonderModel   *model,
                                         const PonderMessage *messages,
                                         size_t               n_messages,
                                         int32_t            **out_ids,
                                         size_t              *out_n_ids,
                                         PonderError         *error);

double       ponder_now_s (void);
