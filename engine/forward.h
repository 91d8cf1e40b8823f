/* forward.h: the transformer forward pass over a batch of tokens.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "backend.h"
#include "kv-cache.h"
#include "model.h"

typedef enum
{
  PONDER_LOGITS_NONE, /* prompt chunk: only fill the KV cache */
  PONDER_LOGITS_LAST, /* logits of the last token of the batch */
  PONDER_LOGITS_ALL,  /* logits of every token of the batch */
  /* greedy decoding on a backend with argmax: only the last token's pick,
   * into argmax_id (the logits stay on the device) */
  PONDER_LOGITS_ARGMAX,
  /* sampling on a backend with top_logits: the last token's best logits
   * into fw->top (the logits stay on the device) */
  PONDER_LOGITS_TOP,
} PonderLogitsMode;

/* The CPU's layers plus up to 8 devices. */
#define PONDER_FORWARD_MAX_STAGES 9

typedef struct PonderForward
{
  const PonderModelWeights *weights;
  PonderBackend            *backend;        /* embedding, final norm, logits */
  PonderBackend           **layer_backend;  /* (n_layers) who runs each layer */
  PonderRope                rope;
  uint32_t                  max_tokens;     /* batch size the buffers hold */
  float                    *x;              /* (max_tokens, n_embd) residual stream */
  /* normed input, then attention output: (max_tokens, max (n_embd, n_head * hd_v)) */
  float                    *xn;
  float                    *q;              /* (max_tokens, n_head * hd_k) */
  float                    *k;              /* (max_tokens, n_head_kv * hd_k) */
  float                    *v;              /* (max_tokens, n_head_kv * hd_v) */
  float                    *proj;           /* (max_tokens, n_embd) attn / ffn output */
  float                    *gate;           /* (max_tokens, n_ff) */
  float                    *up;             /* (max_tokens, n_ff) */
  /* deepseek2 only (forward-deepseek2.c), else NULL */
  float                    *cq;             /* (max_tokens, q_lora) query latent */
  float                    *kva;            /* (max_tokens, kv_lora + qk_rope) */
  float                    *qn;             /* (max_tokens, n_head, qk_nope) */
  float                    *qa;             /* (max_tokens, n_head, kv_lora) */
  float                    *qmla;           /* (max_tokens, n_head, kv_lora + qk_rope) */
  float                    *olat;           /* (max_tokens, n_head, kv_lora) */
  float                    *router;         /* (max_tokens, n_expert) */
  int32_t                  *moe_ids;        /* (max_tokens, n_expert_used) */
  bool                      moe_ids_owned;  /* calloc'd (host routing), else the backend's */
  float                    *moe_w;          /* (max_tokens, n_expert_used) */
  float                    *route_tmp;      /* (3 n_expert + n_expert_groups) */
  /* Layers split over several backends (partial offload to the CPU, several
   * devices): stages[s] runs layers [stage_end[s - 1], stage_end[s]) (from 0
   * for s = 0) with its own backend and buffers, and embeds when s = 0; this
   * forward runs the layers after the last stage and the output head. The
   * residual stream goes from stage to stage through host memory: a backend
   * with download hands it over in transfer, the next one uploads it. */
  struct PonderForward     *stages[PONDER_FORWARD_MAX_STAGES];
  uint32_t                  stage_end[PONDER_FORWARD_MAX_STAGES];
  uint32_t                  n_stages;
  float                    *transfer;       /* (max_tokens, n_embd), with stages */
  /* PONDER_LOGITS_ARGMAX and _TOP: the logits on the device (n_vocab; NULL
   * when the backend has neither argmax nor top_logits), the ids never
   * picked, and the pick or the best logits at top_temperature */
  float                    *logits_device;
  const int32_t            *argmax_masked;
  size_t                    argmax_n_masked;
  int32_t                   argmax_id;
  float                     top_temperature;
  PonderTopLogitsRecord     top;
  /* why the last ponder_forward_run returned false, when not a cancel */
  PonderStatus              status;
  PonderError               error;
} PonderForward;

/* forward-deepseek2.c */
PonderStatus ponder_forward_deepseek2_init  (PonderForward *fw, PonderError *error);
void         ponder_forward_deepseek2_clear (PonderForward *fw);
void         ponder_forward_deepseek2_layer (PonderForward *fw, PonderBackend *be,
                                             uint32_t il, PonderKvCache *cache,
                                             uint32_t n, uint32_t pos0);
/* Routing of one token (spec 4.3): ids and weights (n_used) from the router
 * logits (n_expert); tmp holds 3 n_expert + n_groups floats. */
void         ponder_deepseek2_route (const PonderHparams *hp, const float *logits,
                                     const float *bias, float *tmp, int32_t *ids,
                                     float *weights);

/* All layers on backend (borrowed; it must outlive the forward). */
PonderStatus ponder_forward_init  (PonderForward            *fw,
                                   const PonderModelWeights *weights,
                                   PonderBackend            *backend,
                                   uint32_t                  max_tokens,
                                   PonderError              *error);
void         ponder_forward_clear (PonderForward            *fw);

/* Puts stage (initialised on its own backend, owned by the caller) before
 * the layers fw runs so far, running them up to end_layer (exclusive). */
PonderStatus ponder_forward_add_stage (PonderForward         *fw,
                                       PonderForward         *stage,
                                       uint32_t               end_layer,
                                       PonderError           *error);

/* The decode steps of fw's backends (its own and its stages'), summed. */
void         ponder_forward_step_counts (const PonderForward *fw,
                                         PonderStepCounts    *out);

/* After a PONDER_LOGITS_TOP run: the logits it left on the device, n_vocab
 * floats into logits (one more short step of the last backend). False with
 * fw->status and fw->error set when the device fails. */
bool         ponder_forward_read_logits (PonderForward *fw,
                                         PonderKvCache *cache,
                                         float         *logits);

/* Evaluates tokens (n_tokens <= max_tokens, ids already checked) at
 * positions [pos0, pos0 + n_tokens), writing their K/V into cache. logits
 * receives 0, 1 or n_tokens rows of n_vocab floats according to mode;
 * PONDER_LOGITS_ARGMAX (only when fw->logits_device is set) writes none
 * and leaves the greedy pick outside fw->argmax_masked in fw->argmax_id;
 * PONDER_LOGITS_TOP (likewise) writes none and fills fw->top.
 * When cancel (may be NULL) becomes true, stops between layers and returns
 * false; the batch's cache positions are then garbage. A device backend's
 * failure also returns false, with fw->status and fw->error set (they are
 * PONDER_OK after a cancel). */
bool         ponder_forward_run   (PonderForward            *fw,
                                   PonderKvCache            *cache,
                                   const int32_t            *tokens,
                                   uint32_t                  n_tokens,
                                   uint32_t                  pos0,
                                   PonderLogitsMode          mode,
                                   float                    *logits,
                                   const atomic_bool        *cancel);
