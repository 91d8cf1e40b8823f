/* vulkan-ops-matmul.c: which matmul kernel a product takes, and its
 * recording: the CPU devices' texel-buffer kernels, the storage-buffer
 * kernels GPUs take, and their variants for device features (subgroup
 * reductions, integer dot products against x quantised by quantize_q8,
 * 16-bit storage); the kernel table is vulkan-ops.c's.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <stdint.h>

#include "error.h"
#include "quant.h"
#include "vulkan-private.h"

/* quantize_q8's workgroup size (one invocation per block of 32) */
static const uint32_t WG_ELEMENTWISE = 256;

#ifndef MATMUL_CPU_WG
#define MATMUL_CPU_WG 8
#endif

/* spec[0] = workgroup size, spec[1] = threads per row (a power of two
 * dividing it). CPU implementations run one row per invocation, since
 * their barriers are expensive (measured on lavapipe: bench-vulkan-matmul);
 * GPUs split a row over 32 lanes so that loads coalesce, or over a
 * subgroup for the kernels that reduce with subgroupAdd (kernel). */
static void
matmul_shape (const PonderVkDevice *device,
              PonderVkKernel        kernel,
              uint32_t              spec[2])
{
  if ((kernel >= PONDER_VK_KERNEL_MATMUL_F32_SG && kernel <= PONDER_VK_KERNEL_MATMUL_F16_H)
      || (kernel >= PONDER_VK_KERNEL_MATMUL_IQ1_S_SG
          && kernel <= PONDER_VK_KERNEL_MATMUL_IQ4_XS_SG))
    {
      spec[0] = 64;
      spec[1] = ponder_vk_device_physical (device)->subgroup_size;
    }
  else if (ponder_vk_matmul_features (device) == 0)
    {
      spec[0] = MATMUL_CPU_WG;
      spec[1] = 1;
    }
  else
    {
      spec[0] = 64;
      spec[1] = 32;
    }
}

/* The subgroup, integer-dot and 16-bit storage variants of type's
 * matmul (NONE: none). */
static PonderVkKernel
gpu_matmul (uint32_t type,
            unsigned features)
{
  PonderVkTypeKernels k = ponder_vk_type_kernels (type);

  if ((features & PONDER_VK_FEATURE_STORAGE16) != 0 && type == PONDER_TYPE_F16
      && k.matmul != PONDER_VK_KERNEL_NONE)
    return PONDER_VK_KERNEL_MATMUL_F16_H;
  if ((features & PONDER_VK_FEATURE_INT8_DOT) != 0 && k.matmul_int8 != PONDER_VK_KERNEL_NONE)
    return k.matmul_int8;
  if ((features & PONDER_VK_FEATURE_SUBGROUP) != 0)
    return k.matmul_subgroup;
  return PONDER_VK_KERNEL_NONE;
}

static bool
is_q8_kernel (PonderVkKernel kernel)
{
  return kernel >= PONDER_VK_KERNEL_MATMUL_Q8_0_Q8 && kernel <= PONDER_VK_KERNEL_MATMUL_Q6_K_Q8;
}

bool
ponder_vk_matmul_kernel_quantises (PonderVkKernel kernel)
{
  return is_q8_kernel (kernel);
}

/* The texel-buffer kernel of type (NONE: it has none). */
static PonderVkKernel
texel_matmul (uint32_t type)
{
  return ponder_vk_type_kernels (type).matmul_texel;
}

/* The register tile of the texel kernels (matmul_main.glsl): tokens and
 * rows per invocation. Decode is the 1-token tile (a matrix-vector
 * product); batches take tiles of 8 tokens, fewer (a power of two, so that
 * few pipeline variants are built) for batches of under 8, since unused
 * token slots still cost on a CPU device. 8 rows share each x fetch.
 * lavapipe, 1536x8960, CPU ms per product, tiles tokens x rows (noisy, load
 * 5-8): Q4_K 32 tokens 8x1 99, 8x2 66, 8x4 51, 8x8 42, 16x4 44, 32x1 90;
 * 8 tokens 8x1 24, 8x4 12.5, 8x8 10.7; 1 token 1x1 6.1, 1x4 4.6, 1x8 4.7;
 * Q8_0 and Q6_K likewise (8x8 best or within noise). */
static void
texel_tile (uint32_t  n_tokens,
            uint32_t *tokens,
            uint32_t *rows)
{
  uint32_t t = 1;

  while (t < n_tokens && t < PONDER_VK_MATMUL_BATCH)
    t *= 2;
  *tokens = t;
  *rows = 8;
}

static PonderStatus record_matmul (PonderVkDevice *device, PonderVkKernel kernel,
                                   uint32_t wg_size, uint32_t threads_per_row, uint32_t type,
                                   const PonderVkBuffer *w, size_t row_bytes, uint32_t n_in,
                                   uint32_t n_out, const PonderVkBuffer *x, uint32_t n_tokens,
                                   const PonderVkBuffer *y, PonderError *error);
static PonderStatus check_matmul (PonderVkDevice *device, PonderVkKernel kernel,
                                  uint32_t wg_size, uint32_t threads_per_row, uint32_t type,
                                  const PonderVkBuffer *w, size_t row_bytes, uint32_t n_in,
                                  uint32_t n_out, const PonderVkBuffer *x, uint32_t n_tokens,
                                  const PonderVkBuffer *y, uint32_t *spec, uint32_t groups[3],
                                  PonderError *error);
static PonderStatus record_matmul_q8 (PonderVkDevice *device, PonderVkKernel kernel,
                                      uint32_t wg_size, uint32_t threads_per_row, uint32_t type,
                                      const PonderVkBuffer *w, size_t row_bytes, uint32_t n_in,
                                      uint32_t n_out, const PonderVkBuffer *x, uint32_t n_tokens,
                                      const PonderVkBuffer *y, PonderError *error);

PonderStatus
ponder_vk_op_matmul (PonderVkDevice       *device,
                     uint32_t              type,
                     const PonderVkBuffer *w,
                     size_t                row_bytes,
                     uint32_t              n_in,
                     uint32_t              n_out,
                     const PonderVkBuffer *x,
                     uint32_t              n_tokens,
                     const PonderVkBuffer *y,
                     PonderError          *error)
{
  return ponder_vk_op_matmul_kernel (device,
                                     ponder_vk_matmul_kernel (device, type, w, row_bytes, n_in,
                                                              n_out, x, n_tokens),
                                     type, w, row_bytes, n_in, n_out, x, n_tokens, y, error);
}

PonderStatus
ponder_vk_op_matmul_kernel (PonderVkDevice       *device,
                            PonderVkKernel        kernel,
                            uint32_t              type,
                            const PonderVkBuffer *w,
                            size_t                row_bytes,
                            uint32_t              n_in,
                            uint32_t              n_out,
                            const PonderVkBuffer *x,
                            uint32_t              n_tokens,
                            const PonderVkBuffer *y,
                            PonderError          *error)
{
  uint32_t shape[2];
  PonderVkKernel base = ponder_vk_type_kernels (type).matmul;
  unsigned features = ponder_vk_matmul_features (device);
  char name[32];

  /* Only the type's own kernels: their bindings and block layout differ. */
  if (base == PONDER_VK_KERNEL_NONE
      || (kernel != base && kernel != texel_matmul (type)
          && kernel != gpu_matmul (type, PONDER_VK_FEATURE_SUBGROUP)
          && kernel != gpu_matmul (type, PONDER_VK_FEATURE_INT8_DOT)
          && kernel != gpu_matmul (type, PONDER_VK_FEATURE_STORAGE16)))
    return ponder_error_set (error, PONDER_ERROR_UNSUPPORTED,
                             "no such Vulkan matmul kernel for weight type %s",
                             ponder_type_name (type, name, sizeof name));
  matmul_shape (device, kernel, shape);
  /* every GPU variant reduces over subgroups; two need more */
  if (kernel != base && kernel != texel_matmul (type)
      && ((features & PONDER_VK_FEATURE_SUBGROUP) == 0
          || (is_q8_kernel (kernel) && (features & PONDER_VK_FEATURE_INT8_DOT) == 0)
          || (kernel == PONDER_VK_KERNEL_MATMUL_F16_H
              && (features & PONDER_VK_FEATURE_STORAGE16) == 0)))
    return ponder_error_set (error, PONDER_ERROR_UNSUPPORTED,
                             "the device %s lacks the features of the matmul kernel %s",
                             ponder_vk_device_physical (device)->props.deviceName,
                             ponder_vk_kernel_info (kernel)->name);
  if (is_q8_kernel (kernel))
    return record_matmul_q8 (device, kernel, shape[0], shape[1], type, w, row_bytes, n_in, n_out,
                             x, n_tokens, y, error);
  return record_matmul (device, kernel, shape[0], shape[1], type, w, row_bytes, n_in, n_out, x,
                        n_tokens, y, error);
}

PonderVkKernel
ponder_vk_matmul_kernel (const PonderVkDevice *device,
                         uint32_t              type,
                         const PonderVkBuffer *w,
                         size_t                row_bytes,
                         uint32_t              n_in,
                         uint32_t              n_out,
                         const PonderVkBuffer *x,
                         uint32_t              n_tokens)
{
  PonderVkKernel kernel = ponder_vk_type_kernels (type).matmul;
  unsigned features = ponder_vk_matmul_features (device);

  /* On a GPU, integer dot products where the device and the type have them,
   * else the subgroup reduction, else the plain kernel. */
  if (kernel != PONDER_VK_KERNEL_NONE && features != 0)
    {
      PonderVkKernel better = gpu_matmul (type, features);

      return better != PONDER_VK_KERNEL_NONE ? better : kernel;
    }
  /* On a CPU implementation the texel-buffer variant, where the views fit
   * (sizes are checked again in record_matmul; a view never reads past
   * its buffer, so a short one only fails that check). */
  if (kernel != PONDER_VK_KERNEL_NONE && texel_matmul (type) != PONDER_VK_KERNEL_NONE
      && n_in % 4 == 0
      && ponder_vk_texel_fits (device, w, 4, (uint64_t) row_bytes * n_out)
      && ponder_vk_texel_fits (device, w, 16, ((uint64_t) row_bytes * n_out + 15) / 16 * 16)
      && ponder_vk_texel_fits (device, x, 16, (uint64_t) n_in * n_tokens * 4))
    kernel = texel_matmul (type);
  return kernel;
}

PonderStatus
ponder_vk_op_matmul_shaped (PonderVkDevice       *device,
                            uint32_t              wg_size,
                            uint32_t              threads_per_row,
                            uint32_t              type,
                            const PonderVkBuffer *w,
                            size_t                row_bytes,
                            uint32_t              n_in,
                            uint32_t              n_out,
                            const PonderVkBuffer *x,
                            uint32_t              n_tokens,
                            const PonderVkBuffer *y,
                            PonderError          *error)
{
  return record_matmul (device, ponder_vk_type_kernels (type).matmul, wg_size, threads_per_row,
                        type, w, row_bytes, n_in, n_out, x, n_tokens, y, error);
}

/* x quantised into the device's q8 scratch (quantize_q8.comp), unless the
 * scratch still holds it from the product just before, then the
 * integer-dot kernel reading it; the operand checks are record_matmul's,
 * made before anything is recorded. */
static PonderStatus
record_matmul_q8 (PonderVkDevice       *device,
                  PonderVkKernel        kernel,
                  uint32_t              wg_size,
                  uint32_t              threads_per_row,
                  uint32_t              type,
                  const PonderVkBuffer *w,
                  size_t                row_bytes,
                  uint32_t              n_in,
                  uint32_t              n_out,
                  const PonderVkBuffer *x,
                  uint32_t              n_tokens,
                  const PonderVkBuffer *y,
                  PonderError          *error)
{
  uint64_t n_blocks = (uint64_t) n_tokens * (n_in / 32);
  PonderVkElementwisePush qpush = { (uint32_t) n_blocks };
  PonderVkMatmulPush push = { n_in, n_out, n_tokens, (uint32_t) row_bytes };
  const PonderVkBuffer *scratch, *buffers[3];
  uint32_t spec[4], groups[3], qgroups[3];
  PonderStatus status;
  bool reuse;

  status = check_matmul (device, kernel, wg_size, threads_per_row, type, w, row_bytes, n_in,
                         n_out, x, n_tokens, y, spec, groups, error);
  if (status != PONDER_OK)
    return status;
  if (n_in % 32 != 0 || n_blocks * 40 > UINT32_MAX)
    return ponder_error_set (error, PONDER_ERROR_INVALID_ARGUMENT,
                             "integer-dot matmul: %u x %u inputs do not fit blocks of 32",
                             n_tokens, n_in);
  reuse = ponder_vk_q8_current (device, x, n_in, n_tokens);
  status = ponder_vk_q8_scratch (device, (size_t) n_blocks * 40, &scratch, error);
  if (status == PONDER_OK)
    status = ponder_vk_grid (device, (n_blocks + WG_ELEMENTWISE - 1) / WG_ELEMENTWISE, qgroups,
                             error);
  if (status != PONDER_OK)
    return status;
  buffers[0] = x;
  buffers[1] = scratch;
  if (!reuse)
    status = ponder_vk_dispatch (device, PONDER_VK_KERNEL_QUANTIZE_Q8, &WG_ELEMENTWISE, 1,
                                 qgroups, buffers, 2, &qpush, sizeof qpush, error);
  if (status != PONDER_OK)
    return status;
  buffers[0] = w;
  buffers[2] = y;
  status = ponder_vk_dispatch (device, kernel, spec, ponder_vk_kernel_info (kernel)->n_spec,
                               groups, buffers, 3, &push, sizeof push, error);
  if (status == PONDER_OK)
    ponder_vk_q8_note (device, x, n_in, n_tokens, y, (size_t) n_out * n_tokens * 4);
  return status;
}

/* The checks of a matmul's operands and the dispatch it takes: spec (4)
 * and groups; the caller records it. */
static PonderStatus
check_matmul (PonderVkDevice       *device,
              PonderVkKernel        kernel,
              uint32_t              wg_size,
              uint32_t              threads_per_row,
              uint32_t              type,
              const PonderVkBuffer *w,
              size_t                row_bytes,
              uint32_t              n_in,
              uint32_t              n_out,
              const PonderVkBuffer *x,
              uint32_t              n_tokens,
              const PonderVkBuffer *y,
              uint32_t             *spec,
              uint32_t              groups[3],
              PonderError          *error)
{
  const PonderTypeInfo *ti = ponder_type_info (type);
  uint32_t rows_per_group;
  uint32_t n_spec;
  uint64_t expect_row;
  PonderStatus status;
  char name[32];

  spec[0] = wg_size;
  spec[1] = threads_per_row;
  spec[2] = 1; /* the texel kernels' tile: tokens and rows per invocation */
  spec[3] = 1;

  if (kernel == PONDER_VK_KERNEL_NONE)
    return ponder_error_set (error, PONDER_ERROR_UNSUPPORTED,
                             "no Vulkan matmul for weight type %s",
                             ponder_type_name (type, name, sizeof name));
  /* The shaders walk 32-element units and trust row_bytes: check both. */
  if (ti == NULL || (ti->block_size > 1 && n_in % ti->block_size != 0)
      || !ponder_type_row_bytes (type, n_in, &expect_row) || expect_row != row_bytes)
    return ponder_error_set (error, PONDER_ERROR_INVALID_ARGUMENT,
                             "matmul %s: n_in %u and row_bytes %zu do not match the block size",
                             ponder_type_name (type, name, sizeof name), n_in, row_bytes);
  if ((uint64_t) row_bytes * n_out > w->size || (uint64_t) n_in * n_tokens * 4 > x->size
      || (uint64_t) n_out * n_tokens * 4 > y->size || row_bytes > UINT32_MAX / 2)
    return ponder_error_set (error, PONDER_ERROR_INVALID_ARGUMENT,
                             "matmul %s (%u -> %u, %u tokens): a buffer is too small",
                             ponder_type_name (type, name, sizeof name), n_in, n_out, n_tokens);
  n_spec = ponder_vk_kernel_info (kernel)->n_spec;
  if (threads_per_row == 0 || (threads_per_row & (threads_per_row - 1)) != 0
      || wg_size % threads_per_row != 0)
    return ponder_error_set (error, PONDER_ERROR_INVALID_ARGUMENT,
                             "matmul: %u threads per row must be a power of two dividing the "
                             "workgroup size %u", threads_per_row, wg_size);
  if (n_spec > 2)
    {
      if (threads_per_row != 1)
        return ponder_error_set (error, PONDER_ERROR_INVALID_ARGUMENT,
                                 "matmul: the texel kernels take one invocation per row group");
      texel_tile (n_tokens, &spec[2], &spec[3]);
    }
  rows_per_group = spec[0] / spec[1] * spec[3];
  status = ponder_vk_grid (device, (n_out + rows_per_group - 1) / rows_per_group, groups, error);
  if (status != PONDER_OK)
    return status;
  groups[2] = n_spec > 2 ? (n_tokens + spec[2] - 1) / spec[2]
                        : (n_tokens + PONDER_VK_MATMUL_BATCH - 1) / PONDER_VK_MATMUL_BATCH;
  return PONDER_OK;
}

static PonderStatus
record_matmul (PonderVkDevice       *device,
               PonderVkKernel        kernel,
               uint32_t              wg_size,
               uint32_t              threads_per_row,
               uint32_t              type,
               const PonderVkBuffer *w,
               size_t                row_bytes,
               uint32_t              n_in,
               uint32_t              n_out,
               const PonderVkBuffer *x,
               uint32_t              n_tokens,
               const PonderVkBuffer *y,
               PonderError          *error)
{
  PonderVkMatmulPush push = { n_in, n_out, n_tokens, (uint32_t) row_bytes };
  /* the IQ kernels read their codebooks from a fourth binding */
  const PonderVkBuffer *buffers[4] = { w, x, y, ponder_vk_iq_tables (device) };
  uint32_t spec[4], groups[3];
  PonderStatus status = check_matmul (device, kernel, wg_size, threads_per_row, type, w,
                                      row_bytes, n_in, n_out, x, n_tokens, y, spec, groups,
                                      error);

  if (status != PONDER_OK)
    return status;
  return ponder_vk_dispatch (device, kernel, spec, ponder_vk_kernel_info (kernel)->n_spec,
                             groups, buffers, ponder_vk_kernel_info (kernel)->n_buffers, &push,
                             sizeof push, error);
}
