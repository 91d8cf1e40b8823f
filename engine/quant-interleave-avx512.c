/* quant-interleave-avx512.c: AVX-512 VL/VNNI kernels for weights
 * interleaved eight rows at a time (quant-interleave.c).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * In the interleaved layout each 32-bit lane of a vector belongs to one of
 * eight rows, so a vpdpbusd against four activations broadcast to every
 * lane advances all eight rows' dots at once and no row ever needs a
 * horizontal sum; the eight rows' block scales sit side by side and are
 * converted by one instruction. For Q5_0 that is about 4 vector operations
 * per 32-element block and row, against 8 to 9 in the row-by-row kernel,
 * which matters where a model's small matrices keep the row kernel from
 * streaming at the memory's speed.
 */
#include "quant-matmul-private.h"

#define X86_VNNI       1
#define X86_TARGET     "avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512dq,avx512vnni"
#define MAX_TILE       4

#if defined(__x86_64__) || defined(__i386__)

#include "quant-matmul-x86.h"

/* The 8 vectors of 32 unsigned 5-bit quants of one interleaved Q5_0 block
 * column: q[2k] holds quants 4k..4k+3 of every row (row r in lane r),
 * q[2k + 1] quants 16 + 4k..16 + 4k + 3. */
AVX2_INLINE void
q5_0x8_unpack (const uint8_t *blk, __m256i q[8])
{
  const __m256i m4 = _mm256_set1_epi8 (15);
  const __m256i sixteen = _mm256_set1_epi8 (16);

  for (int k = 0; k < 4; k++)
    {
      __m256i v = loadu (blk + PONDER_Q5_0X8_QS + 32 * k);
      __mmask32 lo_bits = _load_mask32 ((__mmask32 *) (blk + PONDER_Q5_0X8_QH + 8 * k));
      __mmask32 hi_bits = _load_mask32 ((__mmask32 *) (blk + PONDER_Q5_0X8_QH + 8 * k + 4));
      __m256i lo = _mm256_and_si256 (v, m4);
      __m256i hi = _mm256_and_si256 (_mm256_srli_epi16 (v, 4), m4);

      q[2 * k] = _mm256_mask_add_epi8 (lo, lo_bits, lo, sixteen);
      q[2 * k + 1] = _mm256_mask_add_epi8 (hi, hi_bits, hi, sixteen);
    }
}

/* The 8 rows' dots with one activation block, offset included: quant - 16
 * is quant plus -16 times the activation sum, the start of every lane. */
AVX2_INLINE __m256i
q5_0x8_dot (const __m256i q[8], const PonderActQ8 *a)
{
  __m256i p = _mm256_set1_epi32 (a->neg2_sum * 8);

  for (int k = 0; k < 4; k++)
    {
      int32_t lo, hi;

      memcpy (&lo, a->qs + 4 * k, 4);
      memcpy (&hi, a->qs + 16 + 4 * k, 4);
      p = _mm256_dpbusd_epi32 (p, q[2 * k], _mm256_set1_epi32 (lo));
      p = _mm256_dpbusd_epi32 (p, q[2 * k + 1], _mm256_set1_epi32 (hi));
    }
  return p;
}

/* Rows [8g, 8g + 8) of y for tokens [0, nt) (nt <= MAX_TILE). */
AVX2_INLINE void
q5_0x8_group (const uint8_t *group,
              size_t         n_blocks,
              const uint8_t *act,
              size_t         act_row_bytes,
              int            nt,
              __m256        *acc)
{
  for (int t = 0; t < nt; t++)
    acc[t] = _mm256_setzero_ps ();
  for (size_t b = 0; b < n_blocks; b++)
    {
      const uint8_t *blk = group + b * PONDER_Q5_0X8_BLOCK_BYTES;
      __m256 d = _mm256_cvtph_ps (loadu128 (blk));
      __m256i q[8];

      prefetch_span (blk, PONDER_Q5_0X8_BLOCK_BYTES);
      q5_0x8_unpack (blk, q);
      for (int t = 0; t < nt; t++)
        {
          const PonderActQ8 *a = (const PonderActQ8 *) (act + t * act_row_bytes) + b;
          __m256i p = q5_0x8_dot ((const __m256i *) q, a);

          acc[t] = _mm256_fmadd_ps (_mm256_cvtepi32_ps (p),
                                    _mm256_mul_ps (d, _mm256_set1_ps (a->d)), acc[t]);
        }
    }
}

static AVX2_FN void
avx512_x8_rows_q5_0 (const uint8_t *weight,
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
  size_t n_blocks = n / 32;

  for (size_t g = row_begin / 8; g * 8 < row_end; g++)
    {
      const uint8_t *group = weight + g * 8 * row_bytes;
      size_t lo = row_begin > 8 * g ? row_begin - 8 * g : 0;
      size_t hi = row_end < 8 * g + 8 ? row_end - 8 * g : 8;

      for (size_t t0 = 0; t0 < n_tokens; t0 += MAX_TILE)
        {
          int nt = n_tokens - t0 < MAX_TILE ? (int) (n_tokens - t0) : MAX_TILE;
          __m256 acc[MAX_TILE];

          q5_0x8_group (group, n_blocks, act + t0 * act_row_bytes, act_row_bytes, nt, acc);
          for (int t = 0; t < nt; t++)
            {
              float *yt = y + (t0 + t) * y_stride + 8 * g;

              if (lo == 0 && hi == 8)
                _mm256_storeu_ps (yt, acc[t]);
              else
                {
                  float lanes[8];

                  _mm256_storeu_ps (lanes, acc[t]);
                  for (size_t r = lo; r < hi; r++)
                    yt[r] = lanes[r];
                }
            }
        }
    }
}

PonderRowsFn
ponder_matmul_avx512_x8_rows (PonderType type)
{
  switch (type)
    {
    case PONDER_TYPE_Q5_0: return avx512_x8_rows_q5_0;
    default:               return NULL;
    }
}

#else /* not x86 */

PonderRowsFn
ponder_matmul_avx512_x8_rows (PonderType type)
{
  return NULL;
}

#endif
