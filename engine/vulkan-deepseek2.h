/* vulkan-deepseek2.h: deepseek2 on the Vulkan device (internal).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Three layers: the op recorders (vulkan-ops-deepseek2.c, one checked
 * dispatch each, like vulkan-ops.c), the backend ops and weight upload
 * (backend-vulkan-deepseek2.c), and the few services backend-vulkan.c
 * lends them (its pointer resolution, error state, KV cache and RoPE
 * table), declared at the end.
 */
#pragma once

#include "backend.h"
#include "vulkan-private.h"

/* Push-constant blocks, mirrored by the shaders. */
typedef struct
{
  uint32_t n_in;
  uint32_t n_out;
  uint32_t n_items;
  uint32_t row_bytes;
  uint32_t x_stride;
  uint32_t n_slices;
  uint32_t up_offset;
  uint32_t accumulate;
  uint32_t expert0;
  uint32_t n_chunk;
} PonderVkDs2MatmulPush;
_Static_assert (sizeof (PonderVkDs2MatmulPush) == 40, "ds2_matmul.comp Push");

typedef struct
{
  uint32_t n_tokens;
  uint32_t n_expert;
  uint32_t n_used;
  uint32_t n_groups;
  uint32_t n_group_used;
  uint32_t gating;
  uint32_t has_bias;
  uint32_t norm;
  float    scale;
} PonderVkDs2RoutePush;
_Static_assert (sizeof (PonderVkDs2RoutePush) == 36, "ds2_route.comp Push");

typedef struct
{
  uint32_t n_tokens;
  uint32_t n_head;
  uint32_t c;
  uint32_t r;
  uint32_t dk;
  uint32_t nope;
  uint32_t pos0;
  uint32_t rope_q;
  float    scale;
  uint32_t pos_in_memory; /* pos0 from the step buffer */
} PonderVkDs2MlaPush;
_Static_assert (sizeof (PonderVkDs2MlaPush) == 40, "ds2_mla.comp Push");

/* Shared-memory bounds of the shaders. */
#define PONDER_VK_DS2_MAX_EXPERT 512
#define PONDER_VK_DS2_MAX_GROUPS 64
#define PONDER_VK_DS2_MAX_USED   32
#define PONDER_VK_DS2_MAX_LATENT 1024
#define PONDER_VK_DS2_MAX_ROPE   256

/* ---- Op recorders ---------------------------------------------------------- */

/* The products below take shape2: NULL for the device's default (one row
 * per invocation on CPU implementations, 32 lanes per row on GPUs), or
 * {workgroup size, threads per row} (tests and tuning). */

/* y (n_items, n_out) row i = matrix (i % n_slices) of w times x row i, the
 * rows of x x_stride floats apart. w: n_slices matrices of n_out rows of
 * row_bytes in type (F32, F16, Q8_0, Q4_K, Q6_K). */
PonderStatus ponder_vk_op_matmul_slices (PonderVkDevice *device, uint32_t type,
                                         const PonderVkBuffer *w, size_t row_bytes,
                                         uint32_t n_in, uint32_t n_out, uint32_t n_slices,
                                         const PonderVkBuffer *x, uint32_t x_stride,
                                         uint32_t n_items, const PonderVkBuffer *y,
                                         const uint32_t *shape2, PonderError *error);

/* h (n_tokens, n_used, n_out) = silu (G_e x_t) * U_e x_t with e = ids[t, k],
 * for the slots whose expert is one of the n_chunk from expert0 on (others
 * are left alone): w holds their gate matrices then their up matrices. */
PonderStatus ponder_vk_op_moe_gate_up (PonderVkDevice *device, uint32_t type,
                                       const PonderVkBuffer *w, size_t row_bytes,
                                       uint32_t n_in, uint32_t n_out, uint32_t expert0,
                                       uint32_t n_chunk,
                                       const PonderVkBuffer *x, uint32_t n_tokens,
                                       uint32_t n_used, const PonderVkBuffer *ids,
                                       const PonderVkBuffer *h, const uint32_t *shape2,
                                       PonderError *error);

/* y (n_tokens, n_out) = (y if accumulate) + sum_k weights[t, k] D_e h (t, k)
 * over the slots whose expert e = ids[t, k] is one of the n_chunk from
 * expert0 on; w holds their down matrices. */
PonderStatus ponder_vk_op_moe_down (PonderVkDevice *device, uint32_t type,
                                    const PonderVkBuffer *w, size_t row_bytes,
                                    uint32_t n_in, uint32_t n_out, uint32_t expert0,
                                    uint32_t n_chunk,
                                    const PonderVkBuffer *h, uint32_t n_tokens,
                                    uint32_t n_used, const PonderVkBuffer *ids,
                                    const PonderVkBuffer *weights, bool accumulate,
                                    const PonderVkBuffer *y, const uint32_t *shape2,
                                    PonderError *error);

typedef struct
{
  uint32_t n_expert;
  uint32_t n_used;
  uint32_t n_groups;     /* 0 or 1: no group-limited selection */
  uint32_t n_group_used;
  uint32_t gating;       /* 1 softmax, 2 sigmoid, else sqrt (softplus) */
  bool     norm;
  float    scale;
} PonderVkRouteParams;

/* ids, weights (n_tokens, n_used) from logits (n_tokens, n_expert) by the
 * rule of spec 4.3; bias (n_expert) may be NULL. */
PonderStatus ponder_vk_op_route (PonderVkDevice *device, const PonderVkRouteParams *params,
                                 const PonderVkBuffer *logits, const PonderVkBuffer *bias,
                                 uint32_t n_tokens, const PonderVkBuffer *ids,
                                 const PonderVkBuffer *weights, PonderError *error);

/* olat (n_tokens, n_head, c) = softmax-weighted sum of the c_kv parts of kv
 * (n_ctx, c + r) over positions [0, pos0 + t]; scores from qa (n_tokens,
 * n_head, c) and the rope part of q (n_tokens, n_head, nope + r), rotated
 * with table (ponder_vk_rope_table over the step's tokens) unless table
 * is NULL; step as for ponder_vk_op_attention; kv is a cache of kv_type. */
PonderStatus ponder_vk_op_mla (PonderVkDevice *device, const PonderVkBuffer *qa,
                               const PonderVkBuffer *q, const PonderVkBuffer *kv,
                               const PonderVkBuffer *table, bool neox,
                               const PonderVkBuffer *olat, const PonderVkBuffer *step,
                               uint32_t n_tokens, uint32_t pos0,
                               uint32_t n_head, uint32_t c, uint32_t r, uint32_t nope,
                               float scale, PonderKvType kv_type, PonderError *error);

/* ---- The backend (backend-vulkan-deepseek2.c) ------------------------------ */

typedef struct PonderVkDs2Model PonderVkDs2Model;
typedef struct PonderVkDs2Backend PonderVkDs2Backend;

/* The routed experts [first, end) of one MoE layer on one device, in chunks
 * of per_chunk experts, each chunk one gate-then-up buffer and one down
 * buffer (R1's expert tensors exceed what one binding reaches). */
typedef struct
{
  PonderVkBuffer *gate_up;
  PonderVkBuffer *down;
  uint32_t        n_chunks;  /* 0: dense layer, or experts elsewhere */
  uint32_t        per_chunk;
  uint32_t        first;
  uint32_t        end;
} PonderVkExpertChunks;

PonderStatus ponder_vk_ds2_upload_experts (PonderVkDevice *device, const PonderLayer *l,
                                           uint32_t first, uint32_t end, uint64_t max_buffer,
                                           PonderVkExpertChunks *ec, PonderError *error);
void         ponder_vk_ds2_free_experts   (PonderVkDevice *device, PonderVkExpertChunks *ec);
/* Records the gate/up and down dispatches of ec's experts for the slots of
 * ids that select them: y (n_tokens, n_embd) += (or, without accumulate,
 * =) their weighted sum; h (n_tokens * n_used, n_ff_expert) is scratch. */
PonderStatus ponder_vk_ds2_record_experts (PonderVkDevice *device, const PonderLayer *l,
                                           const PonderVkExpertChunks *ec, uint32_t n_embd,
                                           const PonderVkBuffer *x, uint32_t n_tokens,
                                           uint32_t n_used, const PonderVkBuffer *ids,
                                           const PonderVkBuffer *weights,
                                           const PonderVkBuffer *h, bool accumulate,
                                           const PonderVkBuffer *y, PonderError *error);

/* ---- Expert parallelism (vulkan-expert-peers.c) ----------------------------- */

/* Other devices, each holding a share of every MoE layer's routed experts
 * and running it for each token beside the main device. */
typedef struct PonderVkExpertPeers PonderVkExpertPeers;

/* Opens devices[0..n_devices) (indices as PonderVkParams.device_index; a
 * repeat opens a device again) and uploads to peer p the experts
 * [bounds[p], bounds[p + 1]) of every MoE layer whose experts are on the
 * device (not among the last host_layers). */
PonderStatus ponder_vk_expert_peers_new  (const PonderModelWeights *w,
                                          const PonderVkParams *params,
                                          const int32_t *devices, uint32_t n_devices,
                                          const uint32_t *bounds, uint32_t host_layers,
                                          uint64_t max_buffer, PonderVkExpertPeers **out,
                                          PonderError *error);
void         ponder_vk_expert_peers_free (PonderVkExpertPeers *peers);
/* Validation messages of the peers' instances (the first one's text). */
uint32_t     ponder_vk_expert_peers_n_messages (const PonderVkExpertPeers *peers,
                                                const char **out_first);
/* The same through dm (NULL: 0). */
uint32_t     ponder_vk_ds2_peer_messages (const PonderVkDs2Model *dm, const char **out_first);
uint32_t     ponder_vk_expert_peers_count (const PonderVkExpertPeers *peers);
/* Starts every peer on layer l's experts for x (n_tokens, n_embd), ids and
 * weights (n_tokens, n_used), all host memory read before this returns;
 * each runs on its own thread. */
PonderStatus ponder_vk_expert_peers_start (PonderVkExpertPeers *peers, const PonderLayer *l,
                                           uint32_t il, const float *x, uint32_t n_tokens,
                                           uint32_t n_used, const int32_t *ids,
                                           const float *weights, PonderError *error);
/* Waits for them; partials[p] is then peer p's sum (n_tokens, n_embd), or
 * NULL when it holds none of the layer's experts; valid until the next
 * start. The first failure is returned. */
PonderStatus ponder_vk_expert_peers_wait  (PonderVkExpertPeers *peers, const float **partials,
                                           PonderError *error);

/* Whether layer il's routed experts stay in system memory (one of the
 * last host_layers layers, and a MoE layer). */
bool         ponder_vk_ds2_host_layer (const PonderHparams *hp, uint32_t il,
                                       uint32_t host_layers);

/* Adds the bytes of the deepseek2 weights the dense check does not see
 * (experts_kept routed experts of each MoE layer on the device);
 * UNSUPPORTED naming the tensor for a type or shape the shaders lack. */
PonderStatus ponder_vk_ds2_check (const PonderModelWeights *w, uint32_t host_layers,
                                  uint32_t experts_kept, uint64_t *bytes, PonderError *error);
/* Uploads them (through ponder_vk_model_upload, and the routed experts in
 * chunks of at most max_buffer bytes per buffer into *out; 0: the device's
 * binding range, at most 1 GiB), except the routed experts of the last
 * host_layers MoE layers, which the CPU runs from system memory, and the
 * experts from expert_end on (0: none), which peer devices hold. */
PonderStatus ponder_vk_ds2_upload (PonderVkModel *m, PonderVkDevice *device,
                                   const PonderModelWeights *w, uint32_t host_layers,
                                   uint64_t max_buffer, uint32_t expert_end,
                                   PonderVkDs2Model **out, PonderError *error);
/* Expert parallelism: the device keeps experts [0, expert_end) of each
 * layer (ponder_vk_ds2_upload), peers (owned by dm from here on) the rest. */
void         ponder_vk_ds2_set_peers (PonderVkDs2Model *dm, PonderVkExpertPeers *peers);
void         ponder_vk_ds2_model_free (PonderVkDevice *device, PonderVkDs2Model *dm);
/* Sets be's deepseek2 ops and allocates their scratch. */
PonderStatus ponder_vk_ds2_backend_init (PonderBackend *be, const PonderVkDs2Model *dm,
                                         const PonderModelWeights *w, uint32_t max_tokens,
                                         PonderVkDs2Backend **out, PonderError *error);
void         ponder_vk_ds2_backend_free (PonderVkDevice *device, PonderVkDs2Backend *st);

/* ---- Services of backend-vulkan.c ------------------------------------------ */

PonderStatus    ponder_vk_model_upload (PonderVkModel *m, const void *host, size_t bytes,
                                        const char *name, PonderError *error);
PonderVkDevice *ponder_vk_backend_device (PonderBackend *be);
/* What ponder_vk_ds2_backend_init made for be. */
PonderVkDs2Backend *ponder_vk_backend_ds2 (PonderBackend *be);
/* False when the step already failed or no step is open: skip the op. */
bool            ponder_vk_backend_ready  (PonderBackend *be);
/* The device view of an activation or weight pointer (see backend-vulkan.c's
 * input and output); false, with the step failed, when there is none. */
bool            ponder_vk_backend_input  (PonderBackend *be, const void *p, size_t bytes,
                                          PonderVkBuffer *out_view);
bool            ponder_vk_backend_output (PonderBackend *be, void *p, size_t bytes,
                                          PonderVkBuffer *out_view);
/* Keeps status as the step's failure (unless one is kept); true when the
 * step has failed. */
bool            ponder_vk_backend_failed (PonderBackend *be, PonderStatus status);
PonderError    *ponder_vk_backend_error  (PonderBackend *be);
/* The device K buffer of kv (the latent rows for deepseek2). */
bool            ponder_vk_backend_kv     (PonderBackend *be, const PonderKvCache *cache,
                                          const PonderKvLayer *kv, PonderVkBuffer *out_k);
/* The step buffer holding pos0 for the shaders (ponder_vk_op_attention);
 * NULL, failing the step, when the step is at another position. */
const PonderVkBuffer *ponder_vk_backend_step (PonderBackend *be, uint32_t pos0);
/* Whether deepseek2's steps submit in the middle (experts on the host or on
 * peer devices), so that they cannot be kept; false for st NULL. */
bool ponder_vk_ds2_backend_splits (const PonderVkDs2Backend *st);
/* The step's cos/sin table when it was made for these positions, else NULL. */
const PonderVkBuffer *ponder_vk_backend_rope_table (PonderBackend *be, uint32_t pos0,
                                                    uint32_t n_tokens);
