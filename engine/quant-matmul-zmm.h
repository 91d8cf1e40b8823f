/* quant-matmul-zmm.h: one-token (decode) rows of Q6_K in 512-bit vectors,
 * for the avx512 build of quant-matmul-avx2.c.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Decoding a model that sits in the last level cache (deepseek2-small's
 * 58 MB) is bound by how many vector operations a weight block costs, not
 * by memory. The 256-bit Q6_K kernel spends most of its operations on
 * unpacking quants and spreading the 16 sub-block scales; a 512-bit vector
 * unpacks 64 quants at a time, arranged to match 64 consecutive activations
 * as PonderActQ8K stores them, and spreads their scales with one permute.
 * The multiplies stay maddubs (u8 x s8 pairs to s16) then vpdpwssd (s16 x
 * scale, accumulated in s32). bench-matmul hot, 1 thread: 24.5 -> 29.4
 * GB/s. The same treatment of Q4_K measured no faster (17.5 against 18.1
 * GB/s): its 256-bit kernel already spends few operations per quant, and
 * 512-bit operations leave port 1's vector unit idle on Intel cores.
 */
#pragma once

/* GCC 12's broadcast and insert intrinsics start from
 * _mm512_undefined_epi32 (), a self-initialised variable that
 * -Wmaybe-uninitialized reports at every use. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

/* Sum of the 16 floats of v. */
AVX2_INLINE float
hsum_ps_512 (__m512 v)
{
  __m256 s = _mm256_add_ps (_mm512_castps512_ps256 (v), _mm512_extractf32x8_ps (v, 1));

  return hsum_ps (s);
}

/* 16-bit lanes: lo in the low 256 bits, hi in the high 256 bits. */
AVX2_INLINE __m512i
halves_epi16 (short lo, short hi)
{
  return _mm512_mask_blend_epi16 (0xffff0000u, _mm512_set1_epi16 (lo), _mm512_set1_epi16 (hi));
}

/* Q6_K: half h (elements 128h .. 128h + 127) keeps low nibbles in
 * ql[64h .. 64h + 63] (elements 0-63 of the half low, 64-127 high) and the
 * top two bits in qh[32h .. 32h + 31] (bit pairs 0, 2, 4, 6 for the four
 * runs of 32). Quants are stored plus 32; the 32 comes off through the
 * activations' 16-element sums. */
AVX2_INLINE void
q6k_rows_decode_zmm (const uint8_t      *weight,
                     size_t              row_bytes,
                     size_t              n_blocks,
                     size_t              row_begin,
                     size_t              row_end,
                     const PonderActQ8K *act,    /* (n_blocks) */
                     float              *y)
{
  const __m512i m0f = _mm512_set1_epi8 (0x0f);
  const __m512i m30 = _mm512_set1_epi8 (0x30);
  /* The top bits of elements 0-31 of a half sit at bits 0-1 of qh, of
   * 32-63 at bits 2-3 (moved to bits 4-5 of a quant), of 64-95 at 4-5, of
   * 96-127 at 6-7. */
  const __m512i up_shift = halves_epi16 (4, 2);
  const __m512i down_shift = halves_epi16 (0, 2);
  __m512i pick[4];

  /* vpermw indices: the s16 products of 64 quants run 8 lanes per
   * sub-block of 16, so lane l of run k of half h takes scale
   * 8h + 4k + l / 8. */
  for (int run = 0; run < 4; run++)
    {
      short idx[32];

      for (int l = 0; l < 32; l++)
        idx[l] = (short) (4 * run + l / 8);
      pick[run] = _mm512_loadu_si512 (idx);
    }
  for (size_t r = row_begin; r < row_end; r++)
    {
      const uint8_t *w = weight + r * row_bytes;
      __m512 acc = _mm512_setzero_ps ();

      for (size_t b = 0; b < n_blocks; b++, w += 210)
        {
          const PonderActQ8K *a = act + b;
          __m256i sc16 = _mm256_cvtepi8_epi16 (loadu128 (w + 192));
          __m512i scales = _mm512_broadcast_i64x4 (sc16);
          __m512i sum0 = _mm512_setzero_si512 (), sum1 = _mm512_setzero_si512 ();
          __m256i offset;

          prefetch_span (w, 210);
          for (int h = 0; h < 2; h++)
            {
              __m512i low = _mm512_loadu_si512 (w + 64 * h);
              __m512i high = _mm512_broadcast_i64x4 (loadu (w + 128 + 32 * h));
              /* (low & 0x0f) | (top & 0x30), top already masked: ternary
               * table 0xec is (A & C) | B. */
              __m512i q0 = _mm512_ternarylogic_epi32 (
                low, _mm512_and_si512 (_mm512_sllv_epi16 (high, up_shift), m30), m0f, 0xec);
              __m512i q1 = _mm512_ternarylogic_epi32 (
                _mm512_srli_epi16 (low, 4),
                _mm512_and_si512 (_mm512_srlv_epi16 (high, down_shift), m30), m0f, 0xec);
              __m512i p0 = _mm512_maddubs_epi16 (q0, _mm512_loadu_si512 (a->qs + 128 * h));
              __m512i p1 = _mm512_maddubs_epi16 (q1, _mm512_loadu_si512 (a->qs + 128 * h + 64));

              sum0 = _mm512_dpwssd_epi32 (sum0, p0,
                                          _mm512_permutexvar_epi16 (pick[2 * h], scales));
              sum1 = _mm512_dpwssd_epi32 (sum1, p1,
                                          _mm512_permutexvar_epi16 (pick[2 * h + 1], scales));
            }
          /* 32 * sum over sub-blocks of scale * activation sum. */
          offset = _mm256_slli_epi32 (_mm256_madd_epi16 (sc16, loadu (a->bsums)), 5);
          sum0 = _mm512_sub_epi32 (_mm512_add_epi32 (sum0, sum1), _mm512_inserti64x4 (_mm512_setzero_si512 (), offset, 0));
          acc = _mm512_fmadd_ps (_mm512_set1_ps (f16 (w + 208) * a->d), _mm512_cvtepi32_ps (sum0),
                                 acc);
        }
      y[r] = hsum_ps_512 (acc);
    }
}
