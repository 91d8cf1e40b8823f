/* backend-vulkan-deepseek2.c: backend.h's deepseek2 ops on a Vulkan device.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Everything a deepseek2 layer needs stays on the device: the router logits
 * are turned into expert ids and weights by a routing kernel, and the
 * routed experts of a layer run as two dispatches driven by those ids (all
 * selected experts' gate and up rows with SwiGLU; their down rows with the
 * weighted sum, added onto the shared expert's output). For that the gate
 * and up expert tensors of each MoE layer are uploaded into one buffer,
 * gate matrices first; R1's expert tensors (4 GiB and more) exceed what a
 * binding reaches and 32-bit offsets address, so they are cut into chunks
 * of experts, one dispatch pair each. Latent attention is three
 * dispatches: the per-head absorption of W_UK into the queries, attention
 * over the cached latent rows, the per-head expansion with W_UV.
 *
 * Weights live in backend-vulkan.c's table (found by their host pointer),
 * except the routed experts' chunks, which are kept here per layer.
 *
 * Expert placement: the routed experts of the last host_expert_layers MoE
 * layers are not uploaded; there the step is submitted up to the MoE
 * input, the CPU backend runs those experts from system memory on the
 * device's routing, and their sum is added on the device to the shared
 * expert's output, which the device computed.
 */
#include "vulkan-deepseek2.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "threadpool.h"

struct PonderVkDs2Model
{
  const PonderModelWeights *weights;
  PonderVkExpertChunks     *experts;   /* (n_layers) */
  uint32_t                  n_layers;
  uint32_t                  host_layers; /* routed experts of the last ones on the host */
  PonderVkExpertPeers      *peers;       /* devices with the other experts, or NULL */
};

struct PonderVkDs2Backend
{
  const PonderVkDs2Model *model;
  float                  *h;        /* (max_tokens, n_used, n_ff_expert) */
  float                  *sh_gate;  /* (max_tokens, shared width) */
  float                  *sh_up;
  /* host experts: the CPU backend, and host-visible copies of the MoE input,
   * the routing and the routed output */
  PonderThreadpool       *pool;
  PonderBackend          *cpu;
  PonderVkBuffer          x_host, ids_host, w_host, out_host;
  /* expert parallelism: each peer's partial sum, copied in (host-visible) */
  PonderVkBuffer         *peer_out;
  uint32_t                n_peers;
};

bool
ponder_vk_ds2_host_layer (const PonderHparams *hp,
                          uint32_t             il,
                          uint32_t             host_layers)
{
  return il >= hp->n_leading_dense && il + host_layers >= hp->n_layers;
}

/* ---- Check and upload ------------------------------------------------------ */

/* The types of ds2_matmul.comp (the 3-D weights); the others go through
 * the dense matmul (ponder_vk_matmul_supported). */
static bool
ds2_type (uint32_t type)
{
  return ponder_vk_expert_supported (type);
}

static uint64_t
weight_bytes (const PonderWeight *w,
              uint64_t            n_slices)
{
  return n_slices * w->n_out * w->row_bytes;
}

/* sliced: a 3-D weight that ds2_matmul.comp reads (else the dense matmul). */
static PonderStatus
check_weight (const PonderWeight *w,
              uint64_t            n_slices,
              bool                sliced,
              uint64_t           *bytes,
              PonderError        *error)
{
  char type[32];

  if (w->data == NULL)
    return PONDER_OK;
  if (sliced ? !ds2_type (w->type) : !ponder_vk_matmul_supported (w->type))
    return ponder_error_set (error, PONDER_ERROR_UNSUPPORTED,
                             "the Vulkan backend has no matmul for %s weights (%s)",
                             ponder_type_name (w->type, type, sizeof type),
                             w->tensor != NULL ? w->tensor->name : "?");
  /* the shaders form byte offsets within a tensor in 32 bits */
  if (weight_bytes (w, n_slices) > UINT32_MAX)
    return ponder_error_set (error, PONDER_ERROR_UNSUPPORTED,
                             "%s: a tensor over 4 GiB is not supported on Vulkan yet",
                             w->tensor != NULL ? w->tensor->name : "?");
  *bytes += weight_bytes (w, n_slices);
  return PONDER_OK;
}

PonderStatus
ponder_vk_ds2_check (const PonderModelWeights *w,
                     uint32_t                  host_layers,
                     uint32_t                  experts_kept,
                     uint64_t                 *bytes,
                     PonderError              *error)
{
  const PonderHparams *hp = &w->hp;
  PonderStatus status = PONDER_OK;

  if (hp->kv_lora_rank == 0 || hp->kv_lora_rank > PONDER_VK_DS2_MAX_LATENT
      || hp->qk_rope > PONDER_VK_DS2_MAX_ROPE || hp->qk_rope % 2 != 0
      || hp->n_expert > PONDER_VK_DS2_MAX_EXPERT || hp->n_expert_used > PONDER_VK_DS2_MAX_USED
      || (hp->n_expert_groups > 1 && hp->n_expert_groups > PONDER_VK_DS2_MAX_GROUPS))
    return ponder_error_set (error, PONDER_ERROR_UNSUPPORTED,
                             "the Vulkan backend runs deepseek2 with kv_lora up to %d, an even "
                             "rope width up to %d, up to %d experts (%d used) in up to %d "
                             "groups (this model: %u, %u, %u (%u), %u)",
                             PONDER_VK_DS2_MAX_LATENT, PONDER_VK_DS2_MAX_ROPE,
                             PONDER_VK_DS2_MAX_EXPERT, PONDER_VK_DS2_MAX_USED,
                             PONDER_VK_DS2_MAX_GROUPS, hp->kv_lora_rank, hp->qk_rope,
                             hp->n_expert, hp->n_expert_used, hp->n_expert_groups);
  for (uint32_t il = 0; il < hp->n_layers && status == PONDER_OK; il++)
    {
      const PonderLayer *l = &w->layers[il];
      const PonderWeight *mats[] = { &l->wq_a, &l->wq_b, &l->wkv_a, &l->router, &l->gate_shexp,
                                     &l->up_shexp, &l->down_shexp };

      for (size_t i = 0; i < sizeof mats / sizeof *mats && status == PONDER_OK; i++)
        status = check_weight (mats[i], 1, false, bytes, error);
      if (status == PONDER_OK)
        status = check_weight (&l->wk_b, hp->n_head, true, bytes, error);
      if (status == PONDER_OK)
        status = check_weight (&l->wv_b, hp->n_head, true, bytes, error);
      if (status != PONDER_OK || l->router.tensor == NULL
          || ponder_vk_ds2_host_layer (hp, il, host_layers))
        continue;
      if (l->gate_exps.type != l->up_exps.type || l->gate_exps.n_out != l->up_exps.n_out)
        return ponder_error_set (error, PONDER_ERROR_UNSUPPORTED,
                                 "%s: the Vulkan backend needs gate and up experts of one type",
                                 l->gate_exps.tensor->name);
      /* one expert at a time: the tensors go up in chunks of experts */
      status = check_weight (&l->gate_exps, 2, true, bytes, error);
      if (status == PONDER_OK)
        status = check_weight (&l->down_exps, 1, true, bytes, error);
      *bytes += (experts_kept - 1ull) * (2 * weight_bytes (&l->gate_exps, 1)
                                         + weight_bytes (&l->down_exps, 1));
    }
  return status;
}

PonderStatus
ponder_vk_ds2_upload_experts (PonderVkDevice       *device,
                              const PonderLayer    *l,
                              uint32_t              first,
                              uint32_t              end,
                              uint64_t              max_buffer,
                              PonderVkExpertChunks *ec,
                              PonderError          *error)
{
  size_t gate = weight_bytes (&l->gate_exps, 1), down = weight_bytes (&l->down_exps, 1);
  uint64_t per = max_buffer / (2 * gate > down ? 2 * gate : down);
  uint32_t n_expert = end - first;
  PonderStatus status = PONDER_OK;

  ec->first = first;
  ec->end = end;
  ec->per_chunk = per == 0 ? 1 : per < n_expert ? (uint32_t) per : n_expert;
  ec->n_chunks = (n_expert + ec->per_chunk - 1) / ec->per_chunk;
  ec->gate_up = calloc (ec->n_chunks, sizeof *ec->gate_up);
  ec->down = calloc (ec->n_chunks, sizeof *ec->down);
  if (ec->gate_up == NULL || ec->down == NULL)
    {
      ec->n_chunks = 0;
      return ponder_error_set (error, PONDER_ERROR_NO_MEMORY, "out of memory");
    }
  for (uint32_t c = 0; c < ec->n_chunks && status == PONDER_OK; c++)
    {
      size_t e0 = first + (size_t) c * ec->per_chunk;
      size_t n = end - e0 < ec->per_chunk ? end - e0 : ec->per_chunk;

      status = ponder_vk_buffer_new (device, 2 * n * gate, PONDER_VK_MEMORY_DEVICE,
                                     l->gate_exps.tensor->name, &ec->gate_up[c], error);
      if (status == PONDER_OK)
        status = ponder_vk_buffer_upload (device, &ec->gate_up[c], 0,
                                          l->gate_exps.data + e0 * gate, n * gate, error);
      if (status == PONDER_OK)
        status = ponder_vk_buffer_upload (device, &ec->gate_up[c], n * gate,
                                          l->up_exps.data + e0 * gate, n * gate, error);
      if (status == PONDER_OK)
        status = ponder_vk_buffer_new (device, n * down, PONDER_VK_MEMORY_DEVICE,
                                       l->down_exps.tensor->name, &ec->down[c], error);
      if (status == PONDER_OK)
        status = ponder_vk_buffer_upload (device, &ec->down[c], 0,
                                          l->down_exps.data + e0 * down, n * down, error);
    }
  return status;
}

void
ponder_vk_ds2_free_experts (PonderVkDevice       *device,
                            PonderVkExpertChunks *ec)
{
  for (uint32_t c = 0; c < ec->n_chunks; c++)
    {
      ponder_vk_buffer_free (device, &ec->gate_up[c]);
      ponder_vk_buffer_free (device, &ec->down[c]);
    }
  free (ec->gate_up);
  free (ec->down);
  memset (ec, 0, sizeof *ec);
}

PonderStatus
ponder_vk_ds2_record_experts (PonderVkDevice             *dev,
                              const PonderLayer          *l,
                              const PonderVkExpertChunks *ec,
                              uint32_t                    n_embd,
                              const PonderVkBuffer       *xv,
                              uint32_t                    n_tokens,
                              uint32_t                    n_used,
                              const PonderVkBuffer       *iv,
                              const PonderVkBuffer       *wv,
                              const PonderVkBuffer       *hv,
                              bool                        accumulate,
                              const PonderVkBuffer       *ov,
                              PonderError                *error)
{
  uint32_t ff = (uint32_t) l->gate_exps.n_out;
  PonderStatus status = PONDER_OK;

  /* each chunk fills the slots of its experts; then each adds their share */
  for (uint32_t c = 0; c < ec->n_chunks && status == PONDER_OK; c++)
    {
      uint32_t e0 = ec->first + c * ec->per_chunk;
      uint32_t n = ec->end - e0 < ec->per_chunk ? ec->end - e0 : ec->per_chunk;

      status = ponder_vk_op_moe_gate_up (dev, l->gate_exps.type, &ec->gate_up[c],
                                         l->gate_exps.row_bytes, n_embd, ff, e0, n, xv,
                                         n_tokens, n_used, iv, hv, NULL, error);
    }
  for (uint32_t c = 0; c < ec->n_chunks && status == PONDER_OK; c++)
    {
      uint32_t e0 = ec->first + c * ec->per_chunk;
      uint32_t n = ec->end - e0 < ec->per_chunk ? ec->end - e0 : ec->per_chunk;

      status = ponder_vk_op_moe_down (dev, l->down_exps.type, &ec->down[c],
                                      l->down_exps.row_bytes, ff, n_embd, e0, n, hv, n_tokens,
                                      n_used, iv, wv, accumulate || c > 0, ov, NULL, error);
    }
  return status;
}

PonderStatus
ponder_vk_ds2_upload (PonderVkModel             *m,
                      PonderVkDevice            *device,
                      const PonderModelWeights  *w,
                      uint32_t                   host_layers,
                      uint64_t                   max_buffer,
                      uint32_t                   expert_end,
                      PonderVkDs2Model         **out,
                      PonderError               *error)
{
  const PonderHparams *hp = &w->hp;
  PonderVkDs2Model *dm = calloc (1, sizeof *dm);
  uint64_t range = ponder_vk_device_physical (device)->props.limits.maxStorageBufferRange;
  PonderStatus status = PONDER_OK;

  uint64_t align = ponder_vk_view_alignment (device);
  uint64_t row = (uint64_t) hp->kv_lora_rank + hp->qk_rope;

  *out = dm;
  if (dm == NULL || (dm->experts = calloc (hp->n_layers, sizeof *dm->experts)) == NULL)
    return ponder_error_set (error, PONDER_ERROR_NO_MEMORY, "out of memory");
  /* The forward normalises each token's latent row and rotates its rope
   * part (and, without q_lora, the queries' rope parts) in place through
   * views the device must be able to bind. */
  if ((row * 4) % align != 0 || (hp->kv_lora_rank * 4ull) % align != 0
      || (hp->q_lora_rank == 0 && (hp->qk_nope * 4ull) % align != 0))
    return ponder_error_set (error, PONDER_ERROR_UNSUPPORTED,
                             "the latent rows of this model (%llu + %u floats, queries from "
                             "%u) do not start at multiples of the device's %llu-byte storage "
                             "offset alignment", (unsigned long long) hp->kv_lora_rank,
                             hp->qk_rope, hp->qk_nope, (unsigned long long) align);
  if (max_buffer == 0)
    max_buffer = range < (1ull << 30) ? range : 1ull << 30;
  dm->weights = w;
  dm->n_layers = hp->n_layers;
  dm->host_layers = host_layers;
  for (uint32_t il = 0; il < hp->n_layers && status == PONDER_OK; il++)
    {
      const PonderLayer *l = &w->layers[il];
      const PonderWeight *mats[] = { &l->wq_a, &l->wq_b, &l->wkv_a, &l->router, &l->gate_shexp,
                                     &l->up_shexp, &l->down_shexp };

      for (size_t i = 0; i < sizeof mats / sizeof *mats && status == PONDER_OK; i++)
        if (mats[i]->data != NULL)
          status = ponder_vk_model_upload (m, mats[i]->data, weight_bytes (mats[i], 1),
                                           mats[i]->tensor->name, error);
      if (status == PONDER_OK && l->q_a_norm != NULL)
        status = ponder_vk_model_upload (m, l->q_a_norm, hp->q_lora_rank * sizeof (float),
                                         "attn_q_a_norm", error);
      if (status == PONDER_OK)
        status = ponder_vk_model_upload (m, l->kv_a_norm, hp->kv_lora_rank * sizeof (float),
                                         "attn_kv_a_norm", error);
      if (status == PONDER_OK)
        status = ponder_vk_model_upload (m, l->wk_b.data, weight_bytes (&l->wk_b, hp->n_head),
                                         "attn_k_b", error);
      if (status == PONDER_OK)
        status = ponder_vk_model_upload (m, l->wv_b.data, weight_bytes (&l->wv_b, hp->n_head),
                                         "attn_v_b", error);
      if (status != PONDER_OK || l->router.tensor == NULL)
        continue;
      if (l->exp_probs_b != NULL)
        status = ponder_vk_model_upload (m, l->exp_probs_b, hp->n_expert * sizeof (float),
                                         "exp_probs_b", error);
      if (ponder_vk_ds2_host_layer (hp, il, host_layers))
        continue;
      if (status == PONDER_OK)
        status = ponder_vk_ds2_upload_experts (device, l, 0,
                                               expert_end > 0 ? expert_end : hp->n_expert,
                                               max_buffer, &dm->experts[il], error);
    }
  return status;
}

uint32_t
ponder_vk_ds2_peer_messages (const PonderVkDs2Model *dm,
                             const char            **out_first)
{
  return dm != NULL ? ponder_vk_expert_peers_n_messages (dm->peers, out_first) : 0;
}

void
ponder_vk_ds2_set_peers (PonderVkDs2Model    *dm,
                         PonderVkExpertPeers *peers)
{
  dm->peers = peers;
}

void
ponder_vk_ds2_model_free (PonderVkDevice   *device,
                          PonderVkDs2Model *dm)
{
  if (dm == NULL)
    return;
  for (uint32_t il = 0; dm->experts != NULL && il < dm->n_layers; il++)
    ponder_vk_ds2_free_experts (device, &dm->experts[il]);
  ponder_vk_expert_peers_free (dm->peers);
  free (dm->experts);
  free (dm);
}

/* ---- Ops ------------------------------------------------------------------- */

static void
vk_matmul_slices (PonderBackend      *be,
                  const PonderWeight *w,
                  uint32_t            n_slices,
                  const float        *x,
                  uint32_t            n_tokens,
                  float              *y)
{
  size_t n_items = (size_t) n_tokens * n_slices;
  PonderVkBuffer wv, xv, yv;

  if (!ponder_vk_backend_ready (be)
      || !ponder_vk_backend_input (be, w->data, weight_bytes (w, n_slices), &wv)
      || !ponder_vk_backend_input (be, x, n_items * w->n_in * sizeof (float), &xv)
      || !ponder_vk_backend_output (be, y, n_items * w->n_out * sizeof (float), &yv))
    return;
  ponder_vk_backend_failed (be, ponder_vk_op_matmul_slices (
    ponder_vk_backend_device (be), w->type, &wv, w->row_bytes, (uint32_t) w->n_in,
    (uint32_t) w->n_out, n_slices, &xv, (uint32_t) w->n_in, (uint32_t) n_items, &yv, NULL,
    ponder_vk_backend_error (be)));
}

static void
vk_route (PonderBackend       *be,
          const PonderHparams *hp,
          const float         *bias,
          const float         *logits,
          uint32_t             n_tokens,
          int32_t             *ids,
          float               *weights)
{
  PonderVkRouteParams rp = { hp->n_expert, hp->n_expert_used, hp->n_expert_groups,
                             hp->n_group_used, hp->expert_gating, hp->expert_weights_norm,
                             hp->expert_weights_scale };
  size_t n_slots = (size_t) n_tokens * hp->n_expert_used;
  PonderVkBuffer lv, bv, iv, wv;

  if (!ponder_vk_backend_ready (be)
      || !ponder_vk_backend_input (be, logits, (size_t) n_tokens * hp->n_expert * 4, &lv)
      || (bias != NULL && !ponder_vk_backend_input (be, bias, hp->n_expert * 4, &bv))
      || !ponder_vk_backend_output (be, ids, n_slots * 4, &iv)
      || !ponder_vk_backend_output (be, weights, n_slots * 4, &wv))
    return;
  ponder_vk_backend_failed (be, ponder_vk_op_route (ponder_vk_backend_device (be), &rp, &lv,
                                                    bias != NULL ? &bv : NULL, n_tokens, &iv,
                                                    &wv, ponder_vk_backend_error (be)));
}

/* out (n_tokens, n_embd) = the layer's shared expert, a SwiGLU FFN, of x. */
static void
shared_expert (PonderBackend      *be,
               PonderVkDs2Backend *st,
               const PonderLayer  *l,
               const float        *x,
               uint32_t            n_tokens,
               float              *out)
{
  be->matmul (be, &l->gate_shexp, x, n_tokens, st->sh_gate);
  be->matmul (be, &l->up_shexp, x, n_tokens, st->sh_up);
  be->swiglu (be, st->sh_gate, st->sh_up, (size_t) n_tokens * l->gate_shexp.n_out);
  be->matmul (be, &l->down_shexp, st->sh_gate, n_tokens, out);
}

/* The shared expert on the device, the routed ones on the CPU from system
 * memory; the step so far runs first, since the CPU needs its routing. The
 * shared expert then runs on the device while the CPU works. */
static void
moe_on_host (PonderBackend            *be,
             PonderVkDs2Backend       *st,
             const PonderLayer        *l,
             const float              *x,
             uint32_t                  n_tokens,
             uint32_t                  n_used,
             const int32_t            *ids,
             const float              *weights,
             float                    *out)
{
  PonderVkDevice *dev = ponder_vk_backend_device (be);
  PonderError *error = ponder_vk_backend_error (be);
  uint32_t E = st->model->weights->hp.n_embd;
  size_t n_slots = (size_t) n_tokens * n_used, out_bytes = (size_t) n_tokens * E * 4;
  bool shared = l->gate_shexp.tensor != NULL;
  PonderLayer routed = *l;
  PonderVkBuffer xv, iv, wv, ov;

  if (!ponder_vk_backend_ready (be) || !ponder_vk_backend_input (be, x, out_bytes, &xv)
      || !ponder_vk_backend_input (be, ids, n_slots * 4, &iv)
      || !ponder_vk_backend_input (be, weights, n_slots * 4, &wv)
      || !ponder_vk_backend_output (be, out, out_bytes, &ov))
    return;
  if (out_bytes > st->out_host.size || n_slots * 4 > st->ids_host.size)
    {
      ponder_vk_backend_failed (be, ponder_error_set (error, PONDER_ERROR_INVALID_ARGUMENT,
                                                      "Vulkan moe: %u tokens on the host",
                                                      n_tokens));
      return;
    }
  if (ponder_vk_backend_failed (be, ponder_vk_copy (dev, &xv, xv.offset, &st->x_host, 0,
                                                    out_bytes, error))
      || ponder_vk_backend_failed (be, ponder_vk_copy (dev, &iv, iv.offset, &st->ids_host, 0,
                                                       n_slots * 4, error))
      || ponder_vk_backend_failed (be, ponder_vk_copy (dev, &wv, wv.offset, &st->w_host, 0,
                                                       n_slots * 4, error))
      || ponder_vk_backend_failed (be, ponder_vk_submit (dev, error))
      || ponder_vk_backend_failed (be, ponder_vk_begin (dev, error)))
    return;
  if (shared)
    {
      shared_expert (be, st, l, x, n_tokens, out);
      if (!ponder_vk_backend_ready (be)
          || ponder_vk_backend_failed (be, ponder_vk_submit_async (dev, error)))
        return;
    }
  /* the CPU's moe adds the shared expert when the layer has one: hide it */
  memset (&routed.gate_shexp, 0, sizeof routed.gate_shexp);
  st->cpu->moe (st->cpu, &routed, st->x_host.mapped, n_tokens, n_used, st->ids_host.mapped,
                st->w_host.mapped, st->out_host.mapped);
  if (shared
      && (ponder_vk_backend_failed (be, ponder_vk_wait (dev, error))
          || ponder_vk_backend_failed (be, ponder_vk_begin (dev, error))))
    return;
  if (shared)
    ponder_vk_backend_failed (be, ponder_vk_op_add (dev, &ov, &st->out_host,
                                                    (uint32_t) (n_tokens * E), error));
  else
    ponder_vk_backend_failed (be, ponder_vk_copy (dev, &st->out_host, 0, &ov, ov.offset,
                                                  out_bytes, error));
}

/* Expert parallelism: the routing and the MoE input go to the peers, which
 * run their experts while this device runs its own; their partial sums are
 * then added in peer order, as the chunks of one device would be. */
static bool
moe_with_peers (PonderBackend        *be,
                PonderVkDs2Backend   *st,
                const PonderLayer    *l,
                uint32_t              il,
                const PonderVkBuffer *xv,
                const PonderVkBuffer *iv,
                const PonderVkBuffer *wv,
                uint32_t              n_tokens,
                uint32_t              n_used)
{
  const PonderVkDs2Model *dm = st->model;
  PonderVkDevice *dev = ponder_vk_backend_device (be);
  PonderError *error = ponder_vk_backend_error (be);
  size_t x_bytes = (size_t) n_tokens * dm->weights->hp.n_embd * 4;
  size_t slot_bytes = (size_t) n_tokens * n_used * 4;

  if (x_bytes > st->x_host.size || slot_bytes > st->ids_host.size)
    return !ponder_vk_backend_failed (be, ponder_error_set (error,
                                                            PONDER_ERROR_INVALID_ARGUMENT,
                                                            "Vulkan moe: %u tokens for the "
                                                            "peers", n_tokens));
  return !(ponder_vk_backend_failed (be, ponder_vk_copy (dev, xv, xv->offset, &st->x_host, 0,
                                                         x_bytes, error))
           || ponder_vk_backend_failed (be, ponder_vk_copy (dev, iv, iv->offset, &st->ids_host,
                                                            0, slot_bytes, error))
           || ponder_vk_backend_failed (be, ponder_vk_copy (dev, wv, wv->offset, &st->w_host, 0,
                                                            slot_bytes, error))
           || ponder_vk_backend_failed (be, ponder_vk_submit (dev, error))
           || ponder_vk_backend_failed (be, ponder_vk_begin (dev, error))
           || ponder_vk_backend_failed (be, ponder_vk_expert_peers_start (
                dm->peers, l, il, st->x_host.mapped, n_tokens, n_used, st->ids_host.mapped,
                st->w_host.mapped, error)));
}

static void
peers_add (PonderBackend        *be,
           PonderVkDs2Backend   *st,
           uint32_t              n_tokens,
           const PonderVkBuffer *ov)
{
  PonderVkDevice *dev = ponder_vk_backend_device (be);
  PonderError *error = ponder_vk_backend_error (be);
  uint32_t n = n_tokens * st->model->weights->hp.n_embd;
  const float *partials[PONDER_MAX_DEVICES];
  PonderStatus status;

  /* this device's own experts run while the peers work */
  status = ponder_vk_submit (dev, error);
  if (status == PONDER_OK)
    status = ponder_vk_begin (dev, error);
  if (status == PONDER_OK)
    status = ponder_vk_expert_peers_wait (st->model->peers, partials, error);
  else
    ponder_vk_expert_peers_wait (st->model->peers, partials, NULL);
  for (uint32_t p = 0; p < st->n_peers && status == PONDER_OK; p++)
    if (partials[p] != NULL)
      {
        memcpy (st->peer_out[p].mapped, partials[p], (size_t) n * 4);
        status = ponder_vk_op_add (dev, ov, &st->peer_out[p], n, error);
      }
  ponder_vk_backend_failed (be, status);
}

static void
vk_moe (PonderBackend     *be,
        const PonderLayer *l,
        const float       *x,
        uint32_t           n_tokens,
        uint32_t           n_used,
        const int32_t     *ids,
        const float       *weights,
        float             *out)
{
  PonderVkDs2Backend *st = ponder_vk_backend_ds2 (be);
  const PonderVkDs2Model *dm = st->model;
  const PonderHparams *hp = &dm->weights->hp;
  uint32_t il = (uint32_t) (l - dm->weights->layers);
  uint32_t E = hp->n_embd, ff = (uint32_t) l->gate_exps.n_out;
  size_t n_slots = (size_t) n_tokens * n_used;
  bool shared = l->gate_shexp.tensor != NULL, peers;
  PonderVkBuffer xv, iv, wv, hv, ov;

  if (!ponder_vk_backend_ready (be))
    return;
  if (il < dm->n_layers && ponder_vk_ds2_host_layer (hp, il, dm->host_layers))
    {
      moe_on_host (be, st, l, x, n_tokens, n_used, ids, weights, out);
      return;
    }
  if (il >= dm->n_layers || dm->experts[il].n_chunks == 0)
    {
      ponder_vk_backend_failed (be, ponder_error_set (ponder_vk_backend_error (be),
                                                      PONDER_ERROR_INVALID_ARGUMENT,
                                                      "Vulkan moe: not a MoE layer of the "
                                                      "model"));
      return;
    }
  if (!ponder_vk_backend_input (be, x, (size_t) n_tokens * E * 4, &xv)
      || !ponder_vk_backend_input (be, ids, n_slots * 4, &iv)
      || !ponder_vk_backend_input (be, weights, n_slots * 4, &wv))
    return;
  peers = st->n_peers > 0;
  if (peers && !moe_with_peers (be, st, l, il, &xv, &iv, &wv, n_tokens, n_used))
    return;
  /* the shared expert first: the routed down pass adds onto it */
  if (shared)
    shared_expert (be, st, l, x, n_tokens, out);
  if (!ponder_vk_backend_ready (be)
      || !ponder_vk_backend_output (be, st->h, n_slots * ff * 4, &hv)
      || !ponder_vk_backend_output (be, out, (size_t) n_tokens * E * 4, &ov)
      || ponder_vk_backend_failed (be, ponder_vk_ds2_record_experts (
           ponder_vk_backend_device (be), l, &dm->experts[il], E, &xv, n_tokens, n_used, &iv,
           &wv, &hv, shared, &ov, ponder_vk_backend_error (be))))
    {
      if (peers)
        ponder_vk_expert_peers_wait (dm->peers, (const float *[PONDER_MAX_DEVICES]) { 0 },
                                     NULL);
      return;
    }
  if (peers)
    peers_add (be, st, n_tokens, &ov);
}

static void
vk_mla_attention (PonderBackend       *be,
                  const PonderLayer   *l,
                  const PonderHparams *hp,
                  const float         *cq,
                  float               *q,
                  const PonderKvCache *cache,
                  const PonderKvLayer *kv,
                  uint32_t             pos0,
                  uint32_t             n_tokens,
                  float               *qa,
                  float               *olat,
                  float               *out)
{
  uint32_t H = hp->n_head, c = hp->kv_lora_rank, r = hp->qk_rope, nope = hp->qk_nope;
  uint32_t dk = nope + r, dv = hp->head_dim_v;
  size_t rows = (size_t) n_tokens * H;
  const PonderVkBuffer *table = NULL, *step;
  PonderVkBuffer qv, qav, olv, kvv, ov, kbv, vbv;
  PonderVkDevice *dev = ponder_vk_backend_device (be);
  PonderError *error = ponder_vk_backend_error (be);

  if (!ponder_vk_backend_ready (be))
    return;
  if (cq != NULL)
    {
      /* q = W_q_b c_q; its rope part is rotated by the attention kernel
       * with the table the k_pe rope of this step made */
      be->matmul (be, &l->wq_b, cq, n_tokens, q);
      table = ponder_vk_backend_rope_table (be, pos0, n_tokens);
      if (table == NULL && ponder_vk_backend_ready (be))
        {
          ponder_vk_backend_failed (be, ponder_error_set (error, PONDER_ERROR_INVALID_ARGUMENT,
                                                          "Vulkan latent attention: no RoPE "
                                                          "table for these positions"));
          return;
        }
    }
  if (!ponder_vk_backend_ready (be) || !ponder_vk_backend_kv (be, cache, kv, &kvv)
      || !ponder_vk_backend_input (be, q, rows * dk * 4, &qv)
      || !ponder_vk_backend_output (be, qa, rows * c * 4, &qav)
      || !ponder_vk_backend_output (be, olat, rows * c * 4, &olv)
      || !ponder_vk_backend_output (be, out, rows * dv * 4, &ov)
      || !ponder_vk_backend_input (be, l->wk_b.data, weight_bytes (&l->wk_b, H), &kbv)
      || !ponder_vk_backend_input (be, l->wv_b.data, weight_bytes (&l->wv_b, H), &vbv))
    return;
  /* q_abs_h = W_UK_h^T q_nope_h: the first nope values of each query head */
  if (ponder_vk_backend_failed (be, ponder_vk_op_matmul_slices (
        dev, l->wk_b.type, &kbv, l->wk_b.row_bytes, nope, c, H, &qv, dk, (uint32_t) rows, &qav,
        NULL, error)))
    return;
  step = ponder_vk_backend_step (be, pos0);
  if (step == NULL
      || ponder_vk_backend_failed (be, ponder_vk_op_mla (dev, &qav, &qv, &kvv, table,
                                                         hp->rope_pairing == PONDER_ROPE_NEOX,
                                                         &olv, step, n_tokens, pos0, H, c, r,
                                                         nope, hp->attn_scale, cache->type,
                                                         error)))
    return;
  /* o_h = W_UV_h o_lat_h */
  ponder_vk_backend_failed (be, ponder_vk_op_matmul_slices (
    dev, l->wv_b.type, &vbv, l->wv_b.row_bytes, c, dv, H, &olv, c, (uint32_t) rows, &ov,
    NULL, error));
}

PonderStatus
ponder_vk_ds2_backend_init (PonderBackend             *be,
                            const PonderVkDs2Model    *dm,
                            const PonderModelWeights  *w,
                            uint32_t                   max_tokens,
                            PonderVkDs2Backend       **out,
                            PonderError               *error)
{
  const PonderHparams *hp = &w->hp;
  PonderVkDs2Backend *st = calloc (1, sizeof *st);
  size_t shared_ff = 1;

  *out = st;
  if (st == NULL)
    return ponder_error_set (error, PONDER_ERROR_NO_MEMORY, "out of memory");
  for (uint32_t il = 0; il < hp->n_layers; il++)
    if (w->layers[il].gate_shexp.n_out > shared_ff)
      shared_ff = w->layers[il].gate_shexp.n_out;
  st->model = dm;
  st->n_peers = ponder_vk_expert_peers_count (dm->peers);
  if (dm->host_layers > 0 || st->n_peers > 0)
    {
      long n_cpu = sysconf (_SC_NPROCESSORS_ONLN);
      size_t slots = (size_t) max_tokens * (hp->n_expert_used ? hp->n_expert_used : 1) * 4;
      size_t rows = (size_t) max_tokens * hp->n_embd * 4;
      PonderVkDevice *dev = ponder_vk_backend_device (be);
      PonderStatus status;

      status = ponder_threadpool_new (n_cpu > 0 ? (int) n_cpu : 1, &st->pool, error);
      if (status == PONDER_OK)
        status = ponder_backend_cpu_new (st->pool, max_tokens, ponder_model_max_n_in (hp),
                                         &st->cpu, error);
      if (status == PONDER_OK)
        status = ponder_vk_buffer_new (dev, rows, PONDER_VK_MEMORY_HOST, "moe-x-host",
                                       &st->x_host, error);
      if (status == PONDER_OK)
        status = ponder_vk_buffer_new (dev, rows, PONDER_VK_MEMORY_HOST, "moe-out-host",
                                       &st->out_host, error);
      if (status == PONDER_OK)
        status = ponder_vk_buffer_new (dev, slots, PONDER_VK_MEMORY_HOST, "moe-ids-host",
                                       &st->ids_host, error);
      if (status == PONDER_OK)
        status = ponder_vk_buffer_new (dev, slots, PONDER_VK_MEMORY_HOST, "moe-w-host",
                                       &st->w_host, error);
      if (status == PONDER_OK && st->n_peers > 0
          && (st->peer_out = calloc (st->n_peers, sizeof *st->peer_out)) == NULL)
        status = ponder_error_set (error, PONDER_ERROR_NO_MEMORY, "out of memory");
      for (uint32_t p = 0; p < st->n_peers && status == PONDER_OK; p++)
        status = ponder_vk_buffer_new (dev, rows, PONDER_VK_MEMORY_HOST, "moe-peer-out",
                                       &st->peer_out[p], error);
      if (status != PONDER_OK)
        return status;
    }
  st->h = be->alloc_activations (be, (size_t) max_tokens * (hp->n_expert_used ? hp->n_expert_used
                                                                               : 1)
                                     * (hp->n_ff_expert ? hp->n_ff_expert : 1));
  st->sh_gate = be->alloc_activations (be, (size_t) max_tokens * shared_ff);
  st->sh_up = be->alloc_activations (be, (size_t) max_tokens * shared_ff);
  if (st->h == NULL || st->sh_gate == NULL || st->sh_up == NULL)
    return ponder_error_set (error, PONDER_ERROR_NO_MEMORY,
                             "deepseek2 scratch on the Vulkan device for %u tokens", max_tokens);
  be->matmul_slices = vk_matmul_slices;
  be->moe = vk_moe;
  be->mla_attention = vk_mla_attention;
  be->route = vk_route;
  return PONDER_OK;
}

bool
ponder_vk_ds2_backend_splits (const PonderVkDs2Backend *st)
{
  return st != NULL && (st->model->host_layers > 0 || st->n_peers > 0);
}

void
ponder_vk_ds2_backend_free (PonderVkDevice     *device,
                            PonderVkDs2Backend *st)
{
  if (st == NULL)
    return;
  if (st->cpu != NULL)
    st->cpu->free (st->cpu);
  ponder_threadpool_free (st->pool);
  ponder_vk_buffer_free (device, &st->x_host);
  ponder_vk_buffer_free (device, &st->out_host);
  ponder_vk_buffer_free (device, &st->ids_host);
  ponder_vk_buffer_free (device, &st->w_host);
  for (uint32_t p = 0; st->peer_out != NULL && p < st->n_peers; p++)
    ponder_vk_buffer_free (device, &st->peer_out[p]);
  free (st->peer_out);
  free (st);
}
