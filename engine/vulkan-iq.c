/* vulkan-iq.c: the IQ codebooks (spec 2.5) in a device buffer for
 * shaders/iq_dequant.glsl.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The numbers are the engine's generated tables (quant-iq-tables.c,
 * quant-iq1s-table.c: one copy for the CPU and the shaders). They are
 * read from a storage buffer rather than embedded in the SPIR-V as
 * constant arrays: lavapipe's LLVM took seconds to minutes to compile a
 * shader with a 512- or 2048-entry constant array (IQ1_S's grid: over five
 * minutes), and a buffer costs every device 25 KiB once. The word offsets
 * below are mirrored by the IQ_OFF_* defines of iq_dequant.glsl
 * (test-vulkan-iq compares every dequantised element with the CPU's).
 */
#include <string.h>

#include "quant-private.h"
#include "vulkan-device-private.h"

enum
{
  OFF_IQ2XXS = 0,     /* u64 entries as two words, low lanes first */
  OFF_IQ2XS = 512,
  OFF_IQ2S = 1536,
  OFF_IQ3XXS = 3584,  /* u32 entries */
  OFF_IQ3S = 3840,
  OFF_IQ1S = 4352,    /* lane j + 1 in the nibble at bit 8 (j % 4) + 4 (j / 4) */
  OFF_KVALUES = 6400, /* int32 */
  N_WORDS = 6416,
};

static void
split64 (uint32_t       *out,
         const uint64_t *grid,
         size_t          n)
{
  for (size_t i = 0; i < n; i++)
    {
      out[2 * i] = (uint32_t) grid[i];
      out[2 * i + 1] = (uint32_t) (grid[i] >> 32);
    }
}

PonderStatus
ponder_vk_iq_tables_new (PonderVkDevice *device,
                         PonderVkBuffer *out,
                         PonderError    *error)
{
  uint32_t words[N_WORDS];
  PonderStatus status;

  split64 (words + OFF_IQ2XXS, ponder_iq2xxs_grid, 256);
  split64 (words + OFF_IQ2XS, ponder_iq2xs_grid, 512);
  split64 (words + OFF_IQ2S, ponder_iq2s_grid, 1024);
  memcpy (words + OFF_IQ3XXS, ponder_iq3xxs_grid, sizeof ponder_iq3xxs_grid);
  memcpy (words + OFF_IQ3S, ponder_iq3s_grid, sizeof ponder_iq3s_grid);
  /* half the size of the byte lanes, and one mask yields four lanes */
  for (size_t i = 0; i < 2048; i++)
    {
      uint32_t packed = 0;

      for (unsigned j = 0; j < 8; j++)
        {
          int lane = (int8_t) (uint8_t) (ponder_iq1s_grid[i] >> (8 * j));

          packed |= (uint32_t) (lane + 1) << (8 * (j % 4) + 4 * (j / 4));
        }
      words[OFF_IQ1S + i] = packed;
    }
  for (size_t i = 0; i < 16; i++)
    words[OFF_KVALUES + i] = (uint32_t) (int32_t) ponder_kvalues_iq4nl[i];
  status = ponder_vk_buffer_new (device, sizeof words, PONDER_VK_MEMORY_DEVICE, "IQ codebooks",
                                 out, error);
  if (status != PONDER_OK)
    return status;
  status = ponder_vk_buffer_upload (device, out, 0, words, sizeof words, error);
  if (status != PONDER_OK)
    ponder_vk_buffer_free (device, out);
  return status;
}

const PonderVkBuffer *
ponder_vk_iq_tables (const PonderVkDevice *device)
{
  return &device->iq_tables;
}
