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

/* quant-interleave-avxvnni.c includes this file with X86_AVXVNNI defined:
 * the same kernels for CPUs with the VEX-encoded AVX-VNNI dot products but
 * no AVX-512 (Intel's client cores since Alder Lake), the few AVX-512
 * operations replaced by AVX2 ones. */
#ifndef X86_TARGET
#define X86_VNNI       1
#define X86_TARGET     "avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512dq,avx512vnni"
#define X86_X8_ROWS_FN ponder_matmul_avx512_x8_rows
#endif
#define MAX_TILE       4

#if defined(__x86_64__) || defined(__i386__)

#include "quant-matmul-x86.h"

#ifdef X86_AVXVNNI
#define DPBUSD(acc, u, s) _mm256_dpbusd_avx_epi32 ((acc), (u), (s))
#define DPWSSD(acc, a, b) _mm256_dpwssd_avx_epi32 ((acc), (a), (b))
#else
#define DPBUSD(acc, u, s) _mm256_dpbusd_epi32 ((acc), (u), (s))
#define DPWSSD(acc, a, b) _mm256_dpwssd_epi32 ((acc), (a), (b))
#endif

/* q plus 16 in byte i where bit i of the little-endian 32-bit word at bits
 * is set (Q5_0's fifth bits). */
AVX2_INLINE __m256i
add_sixteen_where (__m256i q, const uint8_t *bits)
{
#ifdef X86_AVXVNNI
  uint32_t word;
  __m256i v, pick;

  memcpy (&word, bits, 4);
  /* byte i of v is byte i / 8 of the word; then bit i % 8 of it */
  v = _mm256_shuffle_epi8 (_mm256_set1_epi32 ((int) word),
                           _mm256_set_epi64x (0x0303030303030303LL, 0x0202020202020202LL,
                                              0x0101010101010101LL, 0));
  pick = _mm256_set1_epi64x ((long long) 0x8040201008040201ULL);
  v = _mm256_cmpeq_epi8 (_mm256_and_si256 (v, pick), pick);
  return _mm256_add_epi8 (q, _mm256_and_si256 (v, _mm256_set1_epi8 (16)));
#else
  return _mm256_mask_add_epi8 (q, _load_mask32 ((__mmask32 *) bits), q, _mm256_set1_epi8 (16));
#endif
}

/* a | (b & c) */
AVX2_INLINE __m256i
or_masked (__m256i a, __m256i b, __m256i c)
{
#ifdef X86_AVXVNNI
  return _mm256_or_si256 (a, _mm256_and_si256 (b, c));
#else
  return _mm256_ternarylogic_epi32 (a, b, c, 0xf8);
#endif
}

/* The 8 vectors of an interleaved Q5_0 or Q8_0 block column: q[k] holds
 * quants 4k..4k+3 of every row (row r in lane r) as unsigned bytes, the
 * quant plus 16 (Q5_0's 5-bit value) or plus 128 (Q8_0, stored so). */
AVX2_INLINE void
legacy_x8_quants (bool q8, const uint8_t *blk, __m256i q[8])
{
  const __m256i m4 = _mm256_set1_epi8 (15);

  if (q8)
    {
      for (int k = 0; k < 8; k++)
        q[k] = loadu (blk + PONDER_Q8_0X8_QS + 32 * k);
      return;
    }
  for (int k = 0; k < 4; k++)
    {
      __m256i v = loadu (blk + PONDER_Q5_0X8_QS + 32 * k);
      __m256i lo = _mm256_and_si256 (v, m4);
      __m256i hi = _mm256_and_si256 (_mm256_srli_epi16 (v, 4), m4);

      q[k] = add_sixteen_where (lo, blk + PONDER_Q5_0X8_QH + 8 * k);
      q[4 + k] = add_sixteen_where (hi, blk + PONDER_Q5_0X8_QH + 8 * k + 4);
    }
}

/* Rows [8g, 8g + 8) of y for tokens [0, nt) (nt <= MAX_TILE), Q5_0 or
 * Q8_0. Every lane starts at minus the offset times the activation sum,
 * then 8 vpdpbusd against four activations broadcast to all lanes. */
AVX2_INLINE void
legacy_x8_group (bool           q8,
                 const uint8_t *group,
                 size_t         n_blocks,
                 const uint8_t *act,
                 size_t         act_row_bytes,
                 int            nt,
                 __m256        *acc)
{
  size_t block_bytes = q8 ? PONDER_Q8_0X8_BLOCK_BYTES : PONDER_Q5_0X8_BLOCK_BYTES;

  for (int t = 0; t < nt; t++)
    acc[t] = _mm256_setzero_ps ();
  for (size_t b = 0; b < n_blocks; b++)
    {
      const uint8_t *blk = group + b * block_bytes;
      __m256 d = _mm256_cvtph_ps (loadu128 (blk));
      __m256i q[8];

      prefetch_span (blk, block_bytes);
      legacy_x8_quants (q8, blk, q);
      for (int t = 0; t < nt; t++)
        {
          const PonderActQ8 *a = (const PonderActQ8 *) (act + t * act_row_bytes) + b;
          __m256i p = _mm256_set1_epi32 ((q8 ? -128 : -16) * a->sum);

          for (int k = 0; k < 8; k++)
            {
              int32_t four;

              memcpy (&four, a->qs + 4 * k, 4);
              p = DPBUSD (p, q[k], _mm256_set1_epi32 (four));
            }
          acc[t] = _mm256_fmadd_ps (_mm256_cvtepi32_ps (p),
                                    _mm256_mul_ps (d, _mm256_set1_ps (a->d)), acc[t]);
        }
    }
}

AVX2_INLINE void
q5_0x8_group (const uint8_t *group, size_t n_blocks, const uint8_t *act, size_t act_row_bytes,
              int nt, __m256 *acc)
{
  legacy_x8_group (false, group, n_blocks, act, act_row_bytes, nt, acc);
}

AVX2_INLINE void
q8_0x8_group (const uint8_t *group, size_t n_blocks, const uint8_t *act, size_t act_row_bytes,
              int nt, __m256 *acc)
{
  legacy_x8_group (true, group, n_blocks, act, act_row_bytes, nt, acc);
}

/* Lanes lo..hi-1 of each token's accumulator into that token's row of y
 * (y points at the group's first row). */
AVX2_INLINE void
store_group (const __m256 *acc, int nt, float *y, size_t y_stride, size_t lo, size_t hi)
{
  for (int t = 0; t < nt; t++)
    {
      float *yt = y + t * y_stride;

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

/* ---- Q4_K ---------------------------------------------------------------------- */

/* The sub-block scales and mins of 8 interleaved rows: sc[s] and mn[s / 2]
 * as lane r = row r. sc[s] holds scale s as an int16 pair (scale, 0), for
 * vpdpwssd against dots that fit int16; mn[p] holds mins 2p and 2p + 1 as
 * an int16 pair, against the activations' sums of sub-blocks 2p, 2p + 1. */
AVX2_INLINE void
q4_kx8_scales (const uint8_t *blk, __m256i sc[8], __m256i mn[4])
{
  const __m256i m6 = _mm256_set1_epi8 (0x3f);
  const __m256i m4 = _mm256_set1_epi8 (0x0f);
  const __m256i top = _mm256_set1_epi8 (0x30);
  __m256i u0 = loadu (blk + PONDER_Q4_KX8_SCALES);
  __m256i u1 = loadu (blk + PONDER_Q4_KX8_SCALES + 32);
  __m256i u2 = loadu (blk + PONDER_Q4_KX8_SCALES + 64);
  /* bytes 0-3 of each lane: scales 0-3, scales 4-7, mins 0-3, mins 4-7;
   * each | (the top bits & 0x30) */
  __m256i sc_lo = _mm256_and_si256 (u0, m6);
  __m256i sc_hi = or_masked (_mm256_and_si256 (u2, m4), _mm256_srli_epi32 (u0, 2), top);
  __m256i mn_lo = _mm256_and_si256 (u1, m6);
  __m256i mn_hi = or_masked (_mm256_and_si256 (_mm256_srli_epi32 (u2, 4), m4),
                             _mm256_srli_epi32 (u1, 2), top);
  /* vpshufb indexes bytes of a 128-bit half: dword d's byte k is 4d + k */
  const __m256i dword_base = _mm256_setr_epi32 (0, 4, 8, 12, 0, 4, 8, 12);
  /* bytes k and k + 1 zero-extended into the two int16 of the dword */
  __m256i pairs01 = _mm256_add_epi32 (_mm256_set1_epi32 ((int) 0x80018000u),
                                      _mm256_mullo_epi32 (dword_base,
                                                          _mm256_set1_epi32 (0x00010001)));
  __m256i pairs23 = _mm256_add_epi32 (pairs01, _mm256_set1_epi32 (0x00020002));

  for (int k = 0; k < 4; k++)
    {
      __m256i pick = _mm256_add_epi32 (_mm256_set1_epi32 ((int) (0x80808000u | (uint32_t) k)),
                                       dword_base);

      sc[k] = _mm256_shuffle_epi8 (sc_lo, pick);
      sc[4 + k] = _mm256_shuffle_epi8 (sc_hi, pick);
    }
  mn[0] = _mm256_shuffle_epi8 (mn_lo, pairs01);
  mn[1] = _mm256_shuffle_epi8 (mn_lo, pairs23);
  mn[2] = _mm256_shuffle_epi8 (mn_hi, pairs01);
  mn[3] = _mm256_shuffle_epi8 (mn_hi, pairs23);
}

/* Rows [8g, 8g + 8) for tokens [0, nt): per 32-element sub-block, 8
 * vpdpbusd in two halves of 16 elements (a half's dot is at most
 * 16 * 15 * 127, an int16), each half scaled and summed by one vpdpwssd. */
AVX2_INLINE void
q4_kx8_group (const uint8_t *group,
              size_t         n_blocks,
              const uint8_t *act,
              size_t         act_row_bytes,
              int            nt,
              __m256        *acc)
{
  const __m256i m4 = _mm256_set1_epi8 (15);

  for (int t = 0; t < nt; t++)
    acc[t] = _mm256_setzero_ps ();
  for (size_t b = 0; b < n_blocks; b++)
    {
      const uint8_t *blk = group + b * PONDER_Q4_KX8_BLOCK_BYTES;
      __m256 d = _mm256_cvtph_ps (loadu128 (blk));
      __m256 dmin = _mm256_cvtph_ps (loadu128 (blk + 16));
      __m256i sc[8], mn[4], sum[MAX_TILE];

      for (int t = 0; t < nt; t++)
        sum[t] = _mm256_setzero_si256 ();
      q4_kx8_scales (blk, sc, mn);
      for (int j = 0; j < 4; j++)
        {
          __m256i lo[8], hi[8];

          /* a quarter of the block ahead at each step: 18 prefetches at
           * once left the stream bursty (1.5B decode 26.8-27.1 against
           * 28.3-28.4 t/s spread like this) */
          prefetch_span (blk + 288 * j, 288);
          for (int g = 0; g < 8; g++)
            {
              __m256i v = loadu (blk + PONDER_Q4_KX8_QS + 32 * (8 * j + g));

              lo[g] = _mm256_and_si256 (v, m4);
              hi[g] = _mm256_and_si256 (_mm256_srli_epi16 (v, 4), m4);
            }
          for (int t = 0; t < nt; t++)
            {
              const int8_t *qs = ((const PonderActQ8K *) (act + t * act_row_bytes) + b)->qs
                                 + 64 * j;
              __m256i half[4];

              for (int h = 0; h < 4; h++)
                half[h] = _mm256_setzero_si256 ();
              for (int g = 0; g < 8; g++)
                {
                  int32_t a_lo, a_hi;

                  memcpy (&a_lo, qs + 4 * g, 4);
                  memcpy (&a_hi, qs + 32 + 4 * g, 4);
                  half[g / 4] = DPBUSD (half[g / 4], lo[g], _mm256_set1_epi32 (a_lo));
                  half[2 + g / 4] = DPBUSD (half[2 + g / 4], hi[g],
                                                         _mm256_set1_epi32 (a_hi));
                }
              sum[t] = DPWSSD (sum[t], half[0], sc[2 * j]);
              sum[t] = DPWSSD (sum[t], half[1], sc[2 * j]);
              sum[t] = DPWSSD (sum[t], half[2], sc[2 * j + 1]);
              sum[t] = DPWSSD (sum[t], half[3], sc[2 * j + 1]);
            }
        }
      for (int t = 0; t < nt; t++)
        {
          const PonderActQ8K *a = (const PonderActQ8K *) (act + t * act_row_bytes) + b;
          __m256i mins = _mm256_setzero_si256 ();
          __m256 ad = _mm256_set1_ps (a->d);

          for (int p = 0; p < 4; p++)
            {
              int32_t bsum_pair;

              memcpy (&bsum_pair, a->bsums32 + 2 * p, 4);
              mins = DPWSSD (mins, mn[p], _mm256_set1_epi32 (bsum_pair));
            }
          acc[t] = _mm256_fmadd_ps (_mm256_cvtepi32_ps (sum[t]), _mm256_mul_ps (d, ad), acc[t]);
          acc[t] = _mm256_fnmadd_ps (_mm256_cvtepi32_ps (mins), _mm256_mul_ps (dmin, ad), acc[t]);
        }
    }
}

/* The group loop shared by the interleaved types: whole groups store 8
 * lanes, groups cut by the row range only the rows inside it. */
#define DEFINE_X8_ROWS(name, group_fn, block_size)                                   \
  static AVX2_FN void                                                               \
  name (const uint8_t *weight, size_t row_bytes, size_t n, size_t row_begin,        \
        size_t row_end, const uint8_t *act, size_t act_row_bytes, size_t n_tokens,  \
        float *y, size_t y_stride)                                                  \
  {                                                                                 \
    for (size_t g = row_begin / 8; g * 8 < row_end; g++)                            \
      {                                                                             \
        size_t lo = row_begin > 8 * g ? row_begin - 8 * g : 0;                      \
        size_t hi = row_end < 8 * g + 8 ? row_end - 8 * g : 8;                      \
                                                                                    \
        for (size_t t0 = 0; t0 < n_tokens; t0 += MAX_TILE)                          \
          {                                                                         \
            int nt = n_tokens - t0 < MAX_TILE ? (int) (n_tokens - t0) : MAX_TILE;   \
            __m256 acc[MAX_TILE];                                                   \
                                                                                    \
            group_fn (weight + g * 8 * row_bytes, n / (block_size),                 \
                      act + t0 * act_row_bytes, act_row_bytes, nt, acc);            \
            store_group (acc, nt, y + t0 * y_stride + 8 * g, y_stride, lo, hi);     \
          }                                                                         \
      }                                                                             \
  }

DEFINE_X8_ROWS (avx512_x8_rows_q5_0, q5_0x8_group, 32)
DEFINE_X8_ROWS (avx512_x8_rows_q8_0, q8_0x8_group, 32)
DEFINE_X8_ROWS (avx512_x8_rows_q4_k, q4_kx8_group, 256)

PonderRowsFn
X86_X8_ROWS_FN (PonderType type)
{
  switch (type)
    {
    case PONDER_TYPE_Q5_0: return avx512_x8_rows_q5_0;
    case PONDER_TYPE_Q8_0: return avx512_x8_rows_q8_0;
    case PONDER_TYPE_Q4_K: return avx512_x8_rows_q4_k;
    default:               return NULL;
    }
}

#else /* not x86 */

PonderRowsFn
X86_X8_ROWS_FN (PonderType type)
{
  return NULL;
}

#endif
