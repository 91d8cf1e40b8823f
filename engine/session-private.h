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
  /* Several devices: vk_split[d] runs layers [first, vk_split_end[d]) after
   * the CPU's and the previous device's; vk runs the rest and the head. */
  PonderVkModel      *vk_split[PONDER_MAX_DEVICES - 1];
  uint32_t            vk_split_end[PONDER_MAX_DEVICES - 1];
  uint32_t            n_vk_split;
  uint32_t            n_expert_devices; /* deepseek2: devices sharing the experts */
  uint32_t            host_expert_layers; /* deepseek2 on Vulkan: last MoE layers whose
                                             routed experts the CPU runs */
  char                backend_note[800];  /* AUTO: why the GPU was not used */
  PonderKvType        kv_type;            /* the sessions' cache: the one asked for, or
                                             F32 where a backend lacks it */
};

struct PonderSession
{
  PonderModel      *model;
  uint32_t          n_ctx;
  PonderThreadpool *pool;
  PonderBackend    *backend;
  PonderForward     fw;
  PonderBackend    *host_backend;    /* partial offload: the CPU layers' backend... */
  PonderForward     host_fw;         /* ...and their buffers (a stage of fw), else unused */
  /* Several devices: a backend and buffers per device before the last */
  PonderBackend    *split_backend[PONDER_MAX_DEVICES - 1];
  PonderForward     split_fw[PONDER_MAX_DEVICES - 1];
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

/* The context a session gets when it asks for none, which is also the
 * context a load plans placement for (a load does not know its sessions'). */
static inline uint32_t
ponder_default_ctx (const PonderHparams *hp)
{
  return hp->n_ctx_train < 8192 ? hp->n_ctx_train : 8192;
}

/* Ends (exclusive) of consecutive layer ranges over n_devices devices, from
 * first_layer to the last layer: each device's share of the weight bytes
 * (its layers' tensors; the output head counted on the last device) as
 * near as it can be to its share of budgets (all 0: equal shares), and at
 * least one layer each. */
PonderStatus ponder_plan_split_layers (const PonderGgufFile *file, const PonderHparams *hp,
                                       uint32_t first_layer, uint32_t n_devices,
                                       const uint64_t *budgets, uint32_t *out_end,
                                       PonderError *error);
/* What one device of a split holds for a session of n_ctx positions:
 * layers [first_layer, end_layer) with their cache of kv_type, the head
 * when it has the last layer, and the session's scratch. */
uint64_t     ponder_plan_split_share  (const PonderGgufFile *file, const PonderHparams *hp,
                                       uint32_t first_layer, uint32_t end_layer,
                                       uint32_t n_ctx, PonderKvType kv_type);

/* deepseek2 on one device of available bytes, for a session of n_ctx
 * positions: how many of the last MoE layers keep their routed experts in
 * system memory (host_layers >= 0: that many) so that everything else fits,
 * and their bytes. All of them when even that does not fit. */
uint32_t ponder_plan_place_experts (const PonderGgufFile *file, const PonderHparams *hp,
                                    uint32_t n_ctx, PonderKvType kv_type, uint64_t available,
                                    int32_t host_layers, uint64_t *out_host_bytes);

/* A dense model on one device of available bytes: how many of its first
 * layers run on the CPU (weights and cache in system memory) so that the
 * rest fits; at most n_layers - 1. */
uint32_t ponder_plan_cpu_layers (const PonderGgufFile *file, const PonderHparams *hp,
                                 uint32_t n_ctx, PonderKvType kv_type, uint64_t available,
                                 uint64_t *out_cpu_bytes);

/* The cache type a Vulkan device keeps when asked for asked: F32 when the
 * rows cannot be halves in whole words (ponder_vk_kv_fits). */
PonderKvType ponder_plan_device_kv_type (const PonderHparams *hp, PonderKvType asked);

/* The device PONDER_BACKEND_AUTO runs on: the default one when it is a real
 * GPU (discrete or integrated), else -1 (the CPU backend). */
int32_t  ponder_plan_auto_device (const PonderDeviceInfo *devices, size_t n);
