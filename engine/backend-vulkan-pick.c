/* backend-vulkan-pick.c: the output head's picks on a Vulkan device, so
 * that a token reads back an id or a short list instead of the logits.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Greedy decoding takes the argmax of the logits outside a padding mask;
 * sampling takes the best logits with the softmax normaliser (the host
 * samples from them, sampler.h). Both run within the step that computes
 * the logits, through backend-vulkan.c's services (vulkan-deepseek2.h).
 */
#include <stdlib.h>
#include <string.h>

#include "backend-vulkan-private.h"
#include "error.h"
#include "vulkan-deepseek2.h"
#include "vulkan-private.h"

struct PonderVkPicks
{
  /* argmax's padding mask: bits over mask_n logits, built from mask_ids */
  PonderVkBuffer mask;
  uint32_t       mask_n;
  int32_t       *mask_ids;
  size_t         mask_n_ids;
  /* sampling on the device: float 1 / temperature (host-visible) and the
   * first pass's records */
  PonderVkBuffer sample_params;
  PonderVkBuffer sample_records;
};

/* The padding mask as bits in host-visible memory, rebuilt only when the
 * ids change (the sampler lists the same ones for every request). */
static bool
ensure_mask (PonderBackend *be,
             PonderVkPicks *b,
             uint32_t       n,
             const int32_t *masked,
             size_t         n_masked)
{
  PonderVkDevice *dev = ponder_vk_backend_device (be);
  PonderError *error = ponder_vk_backend_error (be);
  size_t words = ((size_t) n + 31) / 32;
  int32_t *ids;
  uint32_t *bits;

  if (b->mask_n == n && b->mask_n_ids == n_masked
      && (n_masked == 0 || memcmp (b->mask_ids, masked, n_masked * sizeof *masked) == 0))
    return true;
  ids = n_masked > 0 ? malloc (n_masked * sizeof *ids) : NULL;
  if (n_masked > 0 && ids == NULL)
    return !ponder_vk_backend_failed (be, ponder_error_set (error, PONDER_ERROR_NO_MEMORY,
                                                            "out of memory for the padding "
                                                            "mask"));
  if (b->mask.size < words * 4)
    {
      ponder_vk_buffer_free (dev, &b->mask);
      if (ponder_vk_backend_failed (be, ponder_vk_buffer_new (dev, words * 4,
                                                              PONDER_VK_MEMORY_HOST,
                                                              "argmax-mask", &b->mask, error)))
        {
          free (ids);
          b->mask_n = 0;
          return false;
        }
    }
  bits = b->mask.mapped;
  memset (bits, 0, words * 4);
  for (size_t i = 0; i < n_masked; i++)
    if (masked[i] >= 0 && (uint32_t) masked[i] < n)
      bits[masked[i] / 32] |= 1u << (masked[i] % 32);
  if (n_masked > 0)
    memcpy (ids, masked, n_masked * sizeof *ids);
  free (b->mask_ids);
  b->mask_ids = ids;
  b->mask_n_ids = n_masked;
  b->mask_n = n;
  return true;
}

static void
vk_argmax (PonderBackend *be,
           const float   *x,
           uint32_t       n,
           const int32_t *masked,
           size_t         n_masked,
           int32_t       *out_id)
{
  PonderVkPicks *b = ponder_vk_backend_picks (be);
  PonderVkBuffer xv, outv;

  if (!ponder_vk_backend_ready (be) || !ponder_vk_backend_input (be, x, (size_t) n * 4, &xv)
      || !ensure_mask (be, b, n, masked, n_masked)
      || !ponder_vk_backend_output (be, out_id, sizeof *out_id, &outv))
    return;
  /* 0xffffffff (no candidate) reads back as -1. */
  ponder_vk_backend_failed (be, ponder_vk_op_argmax (ponder_vk_backend_device (be), &xv, n,
                                                     &b->mask, (uint32_t) ((n + 31) / 32),
                                                     &outv, ponder_vk_backend_error (be)));
}

_Static_assert (sizeof (PonderTopLogitsRecord) == PONDER_VK_TOPK_RECORD_WORDS * 4
                && PONDER_TOP_LOGITS_CAPACITY == PONDER_VK_TOPK_CAPACITY,
                "PonderTopLogitsRecord is the device's record");

static void
vk_top_logits (PonderBackend         *be,
               const float           *x,
               uint32_t               n,
               const int32_t         *masked,
               size_t                 n_masked,
               float                  temperature,
               PonderTopLogitsRecord *out)
{
  PonderVkPicks *b = ponder_vk_backend_picks (be);
  PonderVkDevice *dev = ponder_vk_backend_device (be);
  PonderError *error = ponder_vk_backend_error (be);
  uint64_t records = ponder_vk_topk_scratch_bytes (n);
  PonderVkBuffer xv, outv;

  if (!ponder_vk_backend_ready (be) || !ponder_vk_backend_input (be, x, (size_t) n * 4, &xv)
      || !ensure_mask (be, b, n, masked, n_masked))
    return;
  if (b->sample_params.size == 0
      && ponder_vk_backend_failed (be, ponder_vk_buffer_new (dev, 4, PONDER_VK_MEMORY_HOST,
                                                             "sample-params", &b->sample_params,
                                                             error)))
    return;
  if (b->sample_records.size < records)
    {
      ponder_vk_buffer_free (dev, &b->sample_records);
      if (ponder_vk_backend_failed (be, ponder_vk_buffer_new (dev, records,
                                                              PONDER_VK_MEMORY_DEVICE,
                                                              "sample-records",
                                                              &b->sample_records, error)))
        return;
    }
  /* The temperature lives in memory, not in the recorded commands. */
  *(float *) b->sample_params.mapped = 1.0f / temperature;
  if (!ponder_vk_backend_output (be, out, sizeof *out, &outv))
    return;
  ponder_vk_backend_failed (be, ponder_vk_op_top_logits (dev, &xv, n, &b->mask,
                                                         (uint32_t) ((n + 31) / 32),
                                                         &b->sample_params, &b->sample_records,
                                                         &outv, error));
}

/* Sampling on the device pays on a GPU, where reading the logits back and
 * sampling 152k of them on the CPU (about 2 ms) is as long as a decode
 * step; on a CPU implementation it is the same work done slower.
 * PONDER_VK_DEVICE_SAMPLING=1 or 0 overrides (tests run it on lavapipe). */
static bool
wants_device_sampling (const PonderVkDevice *dev)
{
  const char *env = getenv ("PONDER_VK_DEVICE_SAMPLING");

  if (env != NULL && *env != '\0')
    return strcmp (env, "0") != 0;
  return ponder_vk_device_physical (dev)->kind != PONDER_DEVICE_CPU;
}

PonderStatus
ponder_vk_picks_init (PonderBackend  *be,
                      PonderVkPicks **out_picks,
                      PonderError    *error)
{
  *out_picks = calloc (1, sizeof **out_picks);
  if (*out_picks == NULL)
    return ponder_error_set (error, PONDER_ERROR_NO_MEMORY, "out of memory");
  be->argmax = vk_argmax;
  if (wants_device_sampling (ponder_vk_backend_device (be)))
    be->top_logits = vk_top_logits;
  return PONDER_OK;
}

void
ponder_vk_picks_free (PonderVkDevice *device,
                      PonderVkPicks  *picks)
{
  if (picks == NULL)
    return;
  ponder_vk_buffer_free (device, &picks->mask);
  ponder_vk_buffer_free (device, &picks->sample_params);
  ponder_vk_buffer_free (device, &picks->sample_records);
  free (picks->mask_ids);
  free (picks);
}
