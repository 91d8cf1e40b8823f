/* quant-interleave.c: rearranging a matrix eight rows at a time for the
 * interleaved kernels (quant-interleave-avx512.c).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Done once at load, in place, on weights the CPU runs from memory of our
 * own (gguf-memory.c), never on a file mapping. The layout is described
 * with PONDER_Q5_0X8_BLOCK_BYTES in quant-matmul-private.h; it has the same
 * size as the rows it replaces, so row group g still starts at
 * g * 8 * row_bytes.
 */
#include "quant-matmul-private.h"
#include "quant-private.h"

#include <stdlib.h>
#include <string.h>

static uint32_t
read_u32 (const uint8_t *p)
{
  return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16 | (uint32_t) p[3] << 24;
}

static void
write_u32 (uint8_t *p, uint32_t v)
{
  p[0] = (uint8_t) v;
  p[1] = (uint8_t) (v >> 8);
  p[2] = (uint8_t) (v >> 16);
  p[3] = (uint8_t) (v >> 24);
}

/* One block column of 8 rows (rows[r] points at row r's block) into out. */
static void
interleave_q5_0_block (const uint8_t *const rows[8], uint8_t *out)
{
  for (int k = 0; k < 4; k++)
    {
      uint32_t lo = 0, hi = 0;

      for (int r = 0; r < 8; r++)
        {
          uint32_t qh = read_u32 (rows[r] + 2);

          lo |= ((qh >> (4 * k)) & 15u) << (4 * r);
          hi |= ((qh >> (16 + 4 * k)) & 15u) << (4 * r);
          memcpy (out + PONDER_Q5_0X8_QS + 32 * k + 4 * r, rows[r] + 6 + 4 * k, 4);
        }
      write_u32 (out + PONDER_Q5_0X8_QH + 8 * k, lo);
      write_u32 (out + PONDER_Q5_0X8_QH + 8 * k + 4, hi);
    }
  for (int r = 0; r < 8; r++)
    memcpy (out + 2 * r, rows[r], 2);
}

bool
ponder_matmul_interleave (PonderType type,
                          void      *weight,
                          size_t     n,
                          size_t     n_out)
{
  size_t n_blocks = n / 32, row_bytes = n_blocks * 22;
  uint8_t *copy;

  if (type != PONDER_TYPE_Q5_0 || n % 32 != 0 || n_out % 8 != 0)
    return false;
  copy = malloc (8 * row_bytes);
  if (copy == NULL)
    return false;
  for (size_t g = 0; g < n_out / 8; g++)
    {
      uint8_t *group = (uint8_t *) weight + g * 8 * row_bytes;

      memcpy (copy, group, 8 * row_bytes);
      for (size_t b = 0; b < n_blocks; b++)
        {
          const uint8_t *rows[8];

          for (int r = 0; r < 8; r++)
            rows[r] = copy + r * row_bytes + b * 22;
          interleave_q5_0_block (rows, group + b * PONDER_Q5_0X8_BLOCK_BYTES);
        }
    }
  free (copy);
  return true;
}
