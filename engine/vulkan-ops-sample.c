/* vulkan-ops-sample.c: sampling's reduction of the logits on the device.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Two dispatches (shaders/topk_partial.comp, topk_merge.comp): workgroups
 * of the first each reduce a chunk of the vocabulary to a record, one
 * workgroup of the second merges them. The host then reads back 520 bytes
 * instead of the vocabulary's logits (600 KB for Qwen) and samples from the
 * best 64 (sampler.h, ponder_sampler_sample_top).
 */
#include "error.h"
#include "vulkan-private.h"

/* Mirrors MAX_CHUNKS of topk_merge.comp (its shared head array). */
#define TOPK_MAX_CHUNKS 1024u
/* A chunk of 2048 logits puts a 152k vocabulary in 75 workgroups: enough
 * to fill a GPU's first pass, few enough records for the merge. */
#define TOPK_DEFAULT_CHUNK 2048u

static const uint32_t WG_TOPK = 64;
static uint32_t test_chunk;

void
ponder_vk_test_topk_chunk (uint32_t chunk)
{
  test_chunk = chunk;
}

static uint32_t
chunk_for (uint32_t n)
{
  uint32_t chunk = test_chunk > 0 ? test_chunk : TOPK_DEFAULT_CHUNK;
  uint32_t least = (uint32_t) (((uint64_t) n + TOPK_MAX_CHUNKS - 1) / TOPK_MAX_CHUNKS);

  return chunk > least ? chunk : least;
}

static uint32_t
chunks_for (uint32_t n)
{
  uint32_t chunk = chunk_for (n);

  return n > 0 ? (uint32_t) (((uint64_t) n + chunk - 1) / chunk) : 1;
}

uint64_t
ponder_vk_topk_scratch_bytes (uint32_t n)
{
  return (uint64_t) chunks_for (n) * PONDER_VK_TOPK_RECORD_WORDS * 4;
}

PonderStatus
ponder_vk_op_top_logits (PonderVkDevice       *device,
                         const PonderVkBuffer *x,
                         uint32_t              n,
                         const PonderVkBuffer *mask,
                         uint32_t              n_mask_words,
                         const PonderVkBuffer *params,
                         const PonderVkBuffer *records,
                         const PonderVkBuffer *out,
                         PonderError          *error)
{
  PonderVkTopkPush push = { n, mask != NULL ? n_mask_words : 0, chunk_for (n), chunks_for (n) };
  /* Without a mask the binding still needs a buffer; the shader never reads it. */
  const PonderVkBuffer *partial[4] = { x, mask != NULL ? mask : x, params, records };
  const PonderVkBuffer *merge[3] = { records, params, out };
  uint32_t partial_groups[3] = { push.n_chunks, 1, 1 };
  uint32_t merge_groups[3] = { 1, 1, 1 };
  PonderStatus status;

  if (n == 0 || (uint64_t) n * 4 > x->size || params->size < 4
      || records->size < ponder_vk_topk_scratch_bytes (n)
      || out->size < PONDER_VK_TOPK_RECORD_WORDS * 4
      || (mask != NULL && (uint64_t) n_mask_words * 4 > mask->size))
    return ponder_error_set (error, PONDER_ERROR_INVALID_ARGUMENT,
                             "top logits of %u values: a buffer is too small", n);
  status = ponder_vk_dispatch (device, PONDER_VK_KERNEL_TOPK_PARTIAL, &WG_TOPK, 1,
                               partial_groups, partial, 4, &push, sizeof push, error);
  if (status != PONDER_OK)
    return status;
  return ponder_vk_dispatch (device, PONDER_VK_KERNEL_TOPK_MERGE, &WG_TOPK, 1, merge_groups,
                             merge, 3, &push, sizeof push, error);
}
