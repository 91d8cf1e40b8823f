/* quant-interleave.c: rearranging a matrix eight rows at a time for the
 * interleaved kernels (quant-interleave-avx512.c).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Done once at load, in place, on weights the CPU runs from memory of our
 * own (gguf-memory.c), never on a file mapping. The layouts are described
 * with PONDER_Q5_0X8_BLOCK_BYTES, PONDER_Q8_0X8_BLOCK_BYTES and
 * PONDER_Q4_KX8_BLOCK_BYTES in
 * quant-matmul-private.h; each has the same size as the rows it replaces,
 * so row group g still starts at g * 8 * row_bytes.
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

/* Q8_0: see PONDER_Q8_0X8_BLOCK_BYTES. */
static void
interleave_q8_0_block (const uint8_t *const rows[8], uint8_t *out)
{
  for (int r = 0; r < 8; r++)
    {
      memcpy (out + 2 * r, rows[r], 2);
      for (int k = 0; k < 8; k++)
        for (int i = 0; i < 4; i++)
          out[PONDER_Q8_0X8_QS + 32 * k + 4 * r + i] = (uint8_t) (rows[r][2 + 4 * k + i] ^ 0x80);
    }
}

/* Q4_K: see PONDER_Q4_KX8_BLOCK_BYTES. */
static void
interleave_q4_k_block (const uint8_t *const rows[8], uint8_t *out)
{
  for (int r = 0; r < 8; r++)
    {
      memcpy (out + 2 * r, rows[r], 2);
      memcpy (out + 16 + 2 * r, rows[r] + 2, 2);
      for (int w = 0; w < 3; w++)
        memcpy (out + PONDER_Q4_KX8_SCALES + 32 * w + 4 * r, rows[r] + 4 + 4 * w, 4);
      for (int j = 0; j < 4; j++)
        for (int g = 0; g < 8; g++)
          memcpy (out + PONDER_Q4_KX8_QS + 32 * (8 * j + g) + 4 * r,
                  rows[r] + 16 + 32 * j + 4 * g, 4);
    }
}

bool
ponder_matmul_interleave (PonderType type,
                          void      *weight,
                          size_t     n,
                          size_t     n_out)
{
  size_t block_size, block_bytes, n_blocks, row_bytes;
  void (*interleave_block) (const uint8_t *const rows[8], uint8_t *out);
  uint8_t *copy;

  switch (type)
    {
    case PONDER_TYPE_Q5_0:
      block_size = 32, block_bytes = 22, interleave_block = interleave_q5_0_block;
      break;
    case PONDER_TYPE_Q8_0:
      block_size = 32, block_bytes = 34, interleave_block = interleave_q8_0_block;
      break;
    case PONDER_TYPE_Q4_K:
      block_size = 256, block_bytes = 144, interleave_block = interleave_q4_k_block;
      break;
    default:
      return false;
    }
  if (n % block_size != 0 || n_out % 8 != 0)
    return false;
  n_blocks = n / block_size;
  row_bytes = n_blocks * block_bytes;
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
            rows[r] = copy + r * row_bytes + b * block_bytes;
          interleave_block (rows, group + b * 8 * block_bytes);
        }
    }
  free (copy);
  return true;
}
