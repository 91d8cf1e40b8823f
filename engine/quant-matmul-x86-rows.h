/* quant-matmul-x86-rows.h: the row drivers of the x86 integer kernels.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Included after quant-matmul-x86.h by a file that has defined
 * block_dispatch (kind, w, act, act_row_bytes, nt, tile): the dot product of
 * one weight block of kind with the matching activation block of nt tokens,
 * added to tile. Rows are streamed once per call: tokens are taken in tiles
 * of up to MAX_TILE and each weight block is unpacked once per tile.
 */
#pragma once

#define ROW_GROUP 16

/* One weight row against nt (constant after inlining) tokens. */
AVX2_INLINE void
row_tile (int            kind,
          size_t         block_bytes,
          size_t         act_block_bytes,
          const uint8_t *wr,
          size_t         n_blocks,
          const uint8_t *act,
          size_t         act_row_bytes,
          int            nt,
          float         *y,
          size_t         y_stride)
{
  Tile tile;

  for (int t = 0; t < nt; t++)
    {
      tile.acc[t] = _mm256_setzero_ps ();
      tile.acc_scalar[t] = 0.0f;
    }
  for (size_t b = 0; b < n_blocks; b++)
    {
      prefetch_span_at (wr + b * block_bytes, block_bytes, PREFETCH_AHEAD_TILES);
      block_dispatch (kind, wr + b * block_bytes, act + b * act_block_bytes, act_row_bytes, nt,
                      &tile);
    }
  for (int t = 0; t < nt; t++)
    y[t * y_stride] = hsum_ps (tile.acc[t]) + tile.acc_scalar[t];
}

AVX2_INLINE void
rows_quant (int            kind,
            size_t         block_elems,
            size_t         block_bytes,
            size_t         act_block_bytes,
            const uint8_t *weight,
            size_t         row_bytes,
            size_t         n,
            size_t         row_begin,
            size_t         row_end,
            const uint8_t *act,
            size_t         act_row_bytes,
            size_t         n_tokens,
            float         *y,
            size_t         y_stride)
{
  size_t n_blocks = n / block_elems;

  /* Rows in groups, tiles of tokens across a group: a tile's activations
   * (8 tokens of a 1536-wide input: 15 KiB) then stay in L1 for the whole
   * group instead of streaming from L2 once per row, and the group's rows
   * stay in L1 for all tiles. */
  for (size_t r0 = row_begin; r0 < row_end; r0 += ROW_GROUP)
  for (size_t t0 = 0; t0 < n_tokens; t0 += MAX_TILE)
  for (size_t r = r0; r < row_end && r < r0 + ROW_GROUP; r++)
    {
      const uint8_t *wr = weight + r * row_bytes;

        {
          const uint8_t *at = act + t0 * act_row_bytes;
          float *yt = y + t0 * y_stride + r;

#define ROW_TILE(nt)                                                                 \
          row_tile (kind, block_bytes, act_block_bytes, wr, n_blocks, at, act_row_bytes, \
                    nt, yt, y_stride)
          switch (n_tokens - t0)
            {
            case 1:  ROW_TILE (1); break;
            case 2:  ROW_TILE (2); break;
            case 3:  ROW_TILE (3); break;
#if MAX_TILE > 8
#error "row drivers handle tiles of at most 8 tokens"
#endif
#if MAX_TILE > 4
            case 4:  ROW_TILE (4); break;
            case 5:  ROW_TILE (5); break;
            case 6:  ROW_TILE (6); break;
            case 7:  ROW_TILE (7); break;
#endif
            default: ROW_TILE (MAX_TILE); break;
            }
#undef ROW_TILE
        }
    }
}

#define DEFINE_AVX2_ROWS(name, kind, elems, bytes, act_type)                         \
  static AVX2_FN void                                                               \
  name (const uint8_t *weight, size_t row_bytes, size_t n, size_t row_begin,        \
        size_t row_end, const uint8_t *act, size_t act_row_bytes, size_t n_tokens,  \
        float *y, size_t y_stride)                                                  \
  {                                                                                 \
    rows_quant (kind, elems, bytes, sizeof (act_type), weight, row_bytes, n,        \
                row_begin, row_end, act, act_row_bytes, n_tokens, y, y_stride);     \
  }
