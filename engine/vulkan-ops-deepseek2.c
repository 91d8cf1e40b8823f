/* vulkan-ops-deepseek2.c: recorders of the deepseek2 kernels
 * (shaders/ds2_*.comp), each one checked dispatch.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "vulkan-deepseek2.h"

#include <string.h>

#include "error.h"
#include "quant.h"

enum
{
  MODE_SLICES = 0,
  MODE_GATE_UP = 1,
  MODE_DOWN = 2,
};

static const uint32_t WG_TOKEN = 64; /* routing and attention: one workgroup per row */

/* The shape vulkan-ops.c gives its matmuls: one row per invocation on CPU
 * implementations (barriers are coroutine switches there), 32 lanes per
 * row on GPUs so that loads coalesce (a subgroup with the subgroup
 * kernels, below). */
static void
shape (const PonderVkDevice *device,
       const uint32_t       *forced,
       uint32_t              spec[3])
{
  bool cpu = ponder_vk_matmul_features (device) == 0;

  spec[0] = forced != NULL ? forced[0] : cpu ? 8 : 64;
  spec[1] = forced != NULL ? forced[1] : cpu ? 1 : 32;
}

/* Checks the weight geometry and records one ds2_matmul dispatch over
 * n_items items of n_out rows. */
static PonderStatus
matmul (PonderVkDevice             *device,
        uint32_t                    mode,
        uint32_t                    type,
        const PonderVkBuffer       *w,
        uint64_t                    w_bytes,
        size_t                      row_bytes,
        const PonderVkDs2MatmulPush *push,
        const PonderVkBuffer      **buffers,
        const uint32_t             *forced,
        PonderError                *error)
{
  const PonderTypeInfo *ti = ponder_type_info (type);
  uint32_t spec[3];
  uint64_t expect_row;
  uint32_t groups[3], rows_per_group;
  const PonderVkBuffer *all[6];
  PonderVkTypeKernels variants = ponder_vk_type_kernels (type);
  PonderVkKernel kernel = variants.expert;
  PonderStatus status;
  char name[32];

  if (kernel == PONDER_VK_KERNEL_NONE)
    return ponder_error_set (error, PONDER_ERROR_UNSUPPORTED,
                             "no Vulkan deepseek2 matmul for weight type %s",
                             ponder_type_name (type, name, sizeof name));
  if (ti == NULL || (ti->block_size > 1 && push->n_in % ti->block_size != 0)
      || !ponder_type_row_bytes (type, push->n_in, &expect_row) || expect_row != row_bytes)
    return ponder_error_set (error, PONDER_ERROR_INVALID_ARGUMENT,
                             "deepseek2 matmul %s: n_in %u and row_bytes %zu do not match",
                             ponder_type_name (type, name, sizeof name), push->n_in,
                             row_bytes);
  /* the shader forms byte offsets in 32 bits */
  if (w_bytes > w->size || w_bytes > UINT32_MAX)
    return ponder_error_set (error, PONDER_ERROR_INVALID_ARGUMENT,
                             "deepseek2 matmul: %llu weight bytes (buffer %llu, at most 4 GiB)",
                             (unsigned long long) w_bytes, (unsigned long long) w->size);
  shape (device, forced, spec);
  spec[2] = mode;
  /* On a GPU with subgroup arithmetic (default shape) a subgroup per row,
   * reduced with subgroupAdd. */
  if (forced == NULL
      && (ponder_vk_matmul_features (device) & PONDER_VK_FEATURE_SUBGROUP) != 0
      && variants.expert_subgroup != PONDER_VK_KERNEL_NONE)
    {
      kernel = variants.expert_subgroup;
      spec[1] = ponder_vk_device_physical (device)->subgroup_size;
    }
  /* On a CPU implementation (default shape) the texel-buffer variant,
   * where rows, x strides and the views allow it. */
  if (forced == NULL && ponder_vk_matmul_features (device) == 0
      && variants.expert_texel != PONDER_VK_KERNEL_NONE
      && push->n_in % 4 == 0 && push->x_stride % 4 == 0
      && ponder_vk_texel_fits (device, w, 4, w_bytes)
      && ponder_vk_texel_fits (device, buffers[1], 16, buffers[1]->size / 16 * 16))
    kernel = variants.expert_texel;
  if (spec[1] == 0 || (spec[1] & (spec[1] - 1)) != 0 || spec[0] % spec[1] != 0)
    return ponder_error_set (error, PONDER_ERROR_INVALID_ARGUMENT,
                             "deepseek2 matmul: %u threads per row must be a power of two "
                             "dividing the workgroup size %u", spec[1], spec[0]);
  rows_per_group = spec[0] / spec[1];
  status = ponder_vk_grid (device, (uint64_t) (push->n_out + rows_per_group - 1)
                                   / rows_per_group * push->n_items, groups, error);
  if (status != PONDER_OK)
    return status;
  /* the IQ kernels read their codebooks from a sixth binding */
  memcpy (all, buffers, 5 * sizeof *all);
  all[5] = ponder_vk_iq_tables (device);
  return ponder_vk_dispatch (device, kernel, spec, 3, groups, all,
                             ponder_vk_kernel_info (kernel)->n_buffers, push, sizeof *push, error);
}

PonderStatus
ponder_vk_op_matmul_slices (PonderVkDevice       *device,
                            uint32_t              type,
                            const PonderVkBuffer *w,
                            size_t                row_bytes,
                            uint32_t              n_in,
                            uint32_t              n_out,
                            uint32_t              n_slices,
                            const PonderVkBuffer *x,
                            uint32_t              x_stride,
                            uint32_t              n_items,
                            const PonderVkBuffer *y,
                            const uint32_t       *shape2,
                            PonderError          *error)
{
  PonderVkDs2MatmulPush push = { n_in, n_out, n_items, (uint32_t) row_bytes, x_stride,
                                 n_slices, 0, 0, 0, n_slices };
  const PonderVkBuffer *buffers[5] = { w, x, x, x, y };

  if (n_slices == 0 || n_items == 0 || x_stride < n_in
      || ((uint64_t) (n_items - 1) * x_stride + n_in) * 4 > x->size
      || (uint64_t) n_items * n_out * 4 > y->size)
    return ponder_error_set (error, PONDER_ERROR_INVALID_ARGUMENT,
                             "matmul_slices (%u slices, %u -> %u, %u items): a buffer is too "
                             "small", n_slices, n_in, n_out, n_items);
  return matmul (device, MODE_SLICES, type, w, (uint64_t) n_slices * n_out * row_bytes,
                 row_bytes, &push, buffers, shape2, error);
}

PonderStatus
ponder_vk_op_moe_gate_up (PonderVkDevice       *device,
                          uint32_t              type,
                          const PonderVkBuffer *w,
                          size_t                row_bytes,
                          uint32_t              n_in,
                          uint32_t              n_out,
                          uint32_t              expert0,
                          uint32_t              n_expert,
                          const PonderVkBuffer *x,
                          uint32_t              n_tokens,
                          uint32_t              n_used,
                          const PonderVkBuffer *ids,
                          const PonderVkBuffer *h,
                          const uint32_t       *shape2,
                          PonderError          *error)
{
  uint64_t half = (uint64_t) n_expert * n_out * row_bytes;
  uint64_t n_slots = (uint64_t) n_tokens * n_used;
  PonderVkDs2MatmulPush push = { n_in, n_out, (uint32_t) n_slots, (uint32_t) row_bytes, n_in,
                                 n_used, (uint32_t) half, 0, expert0, n_expert };
  const PonderVkBuffer *buffers[5] = { w, x, ids, ids, h };

  if (n_used == 0 || n_tokens == 0 || n_slots > UINT32_MAX
      || (uint64_t) n_tokens * n_in * 4 > x->size || n_slots * 4 > ids->size
      || n_slots * n_out * 4 > h->size)
    return ponder_error_set (error, PONDER_ERROR_INVALID_ARGUMENT,
                             "moe gate/up (%u tokens x %u experts): a buffer is too small",
                             n_tokens, n_used);
  return matmul (device, MODE_GATE_UP, type, w, 2 * half, row_bytes, &push, buffers, shape2,
                 error);
}

PonderStatus
ponder_vk_op_moe_down (PonderVkDevice       *device,
                       uint32_t              type,
                       const PonderVkBuffer *w,
                       size_t                row_bytes,
                       uint32_t              n_in,
                       uint32_t              n_out,
                       uint32_t              expert0,
                       uint32_t              n_expert,
                       const PonderVkBuffer *h,
                       uint32_t              n_tokens,
                       uint32_t              n_used,
                       const PonderVkBuffer *ids,
                       const PonderVkBuffer *weights,
                       bool                  accumulate,
                       const PonderVkBuffer *y,
                       const uint32_t       *shape2,
                       PonderError          *error)
{
  uint64_t n_slots = (uint64_t) n_tokens * n_used;
  PonderVkDs2MatmulPush push = { n_in, n_out, n_tokens, (uint32_t) row_bytes, n_in, n_used, 0,
                                 accumulate ? 1 : 0, expert0, n_expert };
  const PonderVkBuffer *buffers[5] = { w, h, ids, weights, y };

  if (n_used == 0 || n_tokens == 0 || n_slots * n_in * 4 > h->size || n_slots * 4 > ids->size
      || n_slots * 4 > weights->size || (uint64_t) n_tokens * n_out * 4 > y->size)
    return ponder_error_set (error, PONDER_ERROR_INVALID_ARGUMENT,
                             "moe down (%u tokens x %u experts): a buffer is too small",
                             n_tokens, n_used);
  return matmul (device, MODE_DOWN, type, w, (uint64_t) n_expert * n_out * row_bytes,
                 row_bytes, &push, buffers, shape2, error);
}

PonderStatus
ponder_vk_op_route (PonderVkDevice            *device,
                    const PonderVkRouteParams *rp,
                    const PonderVkBuffer      *logits,
                    const PonderVkBuffer      *bias,
                    uint32_t                   n_tokens,
                    const PonderVkBuffer      *ids,
                    const PonderVkBuffer      *weights,
                    PonderError               *error)
{
  PonderVkDs2RoutePush push = { n_tokens, rp->n_expert, rp->n_used, rp->n_groups,
                                rp->n_group_used, rp->gating, bias != NULL, rp->norm,
                                rp->scale };
  const PonderVkBuffer *buffers[4] = { logits, bias != NULL ? bias : logits, ids, weights };
  uint64_t n_slots = (uint64_t) n_tokens * rp->n_used;
  bool grouped = rp->n_groups > 1 && rp->n_group_used < rp->n_groups;
  uint32_t groups[3];
  PonderStatus status;

  if (rp->n_expert == 0 || rp->n_expert > PONDER_VK_DS2_MAX_EXPERT || rp->n_used == 0
      || rp->n_used > PONDER_VK_DS2_MAX_USED || rp->n_used > rp->n_expert
      || (grouped && (rp->n_groups > PONDER_VK_DS2_MAX_GROUPS || rp->n_expert % rp->n_groups
                      || (uint64_t) rp->n_group_used * (rp->n_expert / rp->n_groups)
                         < rp->n_used)))
    return ponder_error_set (error, PONDER_ERROR_UNSUPPORTED,
                             "routing %u of %u experts in %u groups (%u kept) is not "
                             "supported on Vulkan (at most %d experts, %d used, %d groups)",
                             rp->n_used, rp->n_expert, rp->n_groups, rp->n_group_used,
                             PONDER_VK_DS2_MAX_EXPERT, PONDER_VK_DS2_MAX_USED,
                             PONDER_VK_DS2_MAX_GROUPS);
  if ((uint64_t) n_tokens * rp->n_expert * 4 > logits->size || n_slots * 4 > ids->size
      || n_slots * 4 > weights->size || (bias != NULL && rp->n_expert * 4ull > bias->size))
    return ponder_error_set (error, PONDER_ERROR_INVALID_ARGUMENT,
                             "routing of %u tokens: a buffer is too small", n_tokens);
  status = ponder_vk_grid (device, n_tokens, groups, error);
  if (status != PONDER_OK)
    return status;
  return ponder_vk_dispatch (device, PONDER_VK_KERNEL_DS2_ROUTE, &WG_TOKEN, 1, groups, buffers,
                             4, &push, sizeof push, error);
}

PonderStatus
ponder_vk_op_mla (PonderVkDevice       *device,
                  const PonderVkBuffer *qa,
                  const PonderVkBuffer *q,
                  const PonderVkBuffer *kv,
                  const PonderVkBuffer *table,
                  bool                  neox,
                  const PonderVkBuffer *olat,
                  const PonderVkBuffer *step,
                  uint32_t              n_tokens,
                  uint32_t              pos0,
                  uint32_t              n_head,
                  uint32_t              c,
                  uint32_t              r,
                  uint32_t              nope,
                  float                 scale,
                  PonderKvType          kv_type,
                  PonderError          *error)
{
  size_t elem = ponder_vk_kv_elem_bytes (kv_type);
  PonderVkDs2MlaPush push = { n_tokens, n_head, c, r, nope + r, nope, step != NULL ? 0 : pos0,
                              table == NULL ? 0 : neox ? 2 : 1, scale, step != NULL };
  const PonderVkBuffer *buffers[6] = { qa, q, kv, table != NULL ? table : q, olat,
                                       step != NULL ? step : q };
  uint64_t rows = (uint64_t) n_tokens * n_head;
  uint32_t groups[3];
  PonderStatus status;

  if (c == 0 || c > PONDER_VK_DS2_MAX_LATENT || r % 2 != 0 || r > PONDER_VK_DS2_MAX_ROPE
      || !ponder_vk_kv_fits (kv_type, c + r, 0))
    return ponder_error_set (error, PONDER_ERROR_UNSUPPORTED,
                             "latent attention with kv_lora %u and rope %u is not supported on "
                             "Vulkan (at most %d and an even %d)", c, r,
                             PONDER_VK_DS2_MAX_LATENT, PONDER_VK_DS2_MAX_ROPE);
  if (rows * c * 4 > qa->size || rows * (nope + r) * 4 > q->size
      || ((uint64_t) pos0 + n_tokens) * (c + r) * elem > kv->size || rows * c * 4 > olat->size
      || (table != NULL && (uint64_t) n_tokens * r * 4 > table->size))
    return ponder_error_set (error, PONDER_ERROR_INVALID_ARGUMENT,
                             "latent attention at positions %u..%u: a buffer is too small",
                             pos0, pos0 + n_tokens);
  status = ponder_vk_grid (device, rows, groups, error);
  if (status != PONDER_OK)
    return status;
  return ponder_vk_dispatch (device, kv_type == PONDER_KV_F16 ? PONDER_VK_KERNEL_DS2_MLA_F16
                                                             : PONDER_VK_KERNEL_DS2_MLA,
                             &WG_TOKEN, 1, groups, buffers, 6, &push, sizeof push, error);
}
