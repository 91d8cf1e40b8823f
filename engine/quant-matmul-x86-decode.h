/* quant-matmul-x86-decode.h: the one-token sweeps of quant-matmul-avx2.c
 * (decode: one weight stream per product, rows in one pass).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Included by quant-matmul-avx2.c, after the block kernels it builds on,
 * in both its builds (plain AVX2, and AVX-512 VNNI where X86_VNNI is set).
 */
#pragma once

/* One legacy block into acc (decode). */
AVX2_INLINE __m256
legacy_step (int kind, const uint8_t *w, const PonderActQ8 *a, __m256 acc, float *acc_m)
{
  __m256i p = legacy_dot (kind, legacy_quants (kind, w), a);

  if (kind == 1 || kind == 3)
    *acc_m += f16 (w + 2) * a->d * (float) a->sum;
  return _mm256_fmadd_ps (_mm256_cvtepi32_ps (p), legacy_scale (w, a), acc);
}

/* Decode (one token): the rows in one sweep, two blocks per step into two
 * accumulators, so the FMA chain's latency does not bound the stream. */
AVX2_INLINE void
legacy_rows_decode (int            kind,
                    size_t         block_bytes,
                    const uint8_t *weight,
                    size_t         row_bytes,
                    size_t         n_blocks,
                    size_t         row_begin,
                    size_t         row_end,
                    const PonderActQ8 *a,
                    float         *y)
{
  for (size_t r = row_begin; r < row_end; r++)
    {
      const uint8_t *w = weight + r * row_bytes;
      __m256 acc0 = _mm256_setzero_ps (), acc1 = _mm256_setzero_ps ();
      float acc_m = 0.0f;
      size_t b = 0;

      for (; b + 2 <= n_blocks; b += 2, w += 2 * block_bytes)
        {
          prefetch_span (w, 2 * block_bytes);
          acc0 = legacy_step (kind, w, a + b, acc0, &acc_m);
          acc1 = legacy_step (kind, w + block_bytes, a + b + 1, acc1, &acc_m);
        }
      if (b < n_blocks)
        acc0 = legacy_step (kind, w, a + b, acc0, &acc_m);
      y[r] = hsum_ps (_mm256_add_ps (acc0, acc1)) + acc_m;
    }
}

/* Q5_0 rows with blocks up to this many use the paired sweep below. */
#define Q5_0_PAIR_MAX_BLOCKS 2048

/* Q5_0, one token: blocks in pairs. A block's 8 partial dots, the offset
 * included, stay within int16 (|4 * 31 * 127| + 2 * 32 * 127 < 32768), so a
 * pair is packed into one vector and summed pairwise by one madd: one
 * convert and one FMA per two blocks, against the pair's two scales, which
 * take one permute where two blocks alone take a broadcast each. The
 * activation scales are gathered once per call for that. */
AVX2_INLINE void
q5_0_rows_decode (const uint8_t     *weight,
                  size_t             row_bytes,
                  size_t             n_blocks,
                  size_t             row_begin,
                  size_t             row_end,
                  const PonderActQ8 *a,
                  float             *y)
{
  /* + 2: a pair's scales come from a 4-float load */
  float act_d[Q5_0_PAIR_MAX_BLOCKS + 2] __attribute__ ((aligned (16)));
  const __m256i pair_lanes = _mm256_setr_epi32 (0, 0, 1, 1, 0, 0, 1, 1);
  const __m256i ones = _mm256_set1_epi16 (1);

  for (size_t b = 0; b < n_blocks; b++)
    act_d[b] = a[b].d;
  act_d[n_blocks] = act_d[n_blocks + 1] = 0.0f;
  for (size_t r = row_begin; r < row_end; r++)
    {
      const uint8_t *w = weight + r * row_bytes;
      __m256 acc = _mm256_setzero_ps ();
      size_t b = 0;

      for (; b + 2 <= n_blocks; b += 2, w += 44)
        {
          __m256i p0, p1, pairs;
          __m128 d;

          prefetch_span (w, 44);
          p0 = legacy_dot (K_LEGACY_Q5_0, legacy_quants (K_LEGACY_Q5_0, w), a + b);
          p1 = legacy_dot (K_LEGACY_Q5_0, legacy_quants (K_LEGACY_Q5_0, w + 22), a + b + 1);
          /* lanes [b, b, b + 1, b + 1] in each half */
          pairs = _mm256_madd_epi16 (_mm256_packs_epi32 (p0, p1), ones);
          d = _mm_mul_ps (_mm_unpacklo_ps (cvtph_mem (w), cvtph_mem (w + 22)),
                          _mm_loadu_ps (act_d + b));
          acc = _mm256_fmadd_ps (_mm256_cvtepi32_ps (pairs),
                                 _mm256_permutevar8x32_ps (_mm256_castps128_ps256 (d), pair_lanes),
                                 acc);
        }
      if (b < n_blocks)
        acc = _mm256_fmadd_ps (_mm256_cvtepi32_ps (legacy_dot (K_LEGACY_Q5_0,
                                                               legacy_quants (K_LEGACY_Q5_0, w),
                                                               a + b)),
                               legacy_scale (w, a + b), acc);
      y[r] = hsum_ps (acc);
    }
}

/* A Q4_K block's share of a decode sweep's row: sumi its 8 partial
 * scaled dots, min_dot its 4 partial min dots, times d and dmin (the f16
 * pair at w) and the token's scale. */
AVX2_INLINE void
q4k_decode_accumulate (const uint8_t      *w,
                       const PonderActQ8K *a,
                       __m256i             sumi,
                       __m128i             min_dot,
                       __m256             *acc,
                       __m128             *acc_min)
{
  /* d and dmin times the token's scale, in lanes 0 and 1. */
  __m128 scale = _mm_mul_ps (cvtph_mem (w), _mm_set1_ps (a->d));

  *acc = _mm256_fmadd_ps (_mm256_broadcastss_ps (scale), _mm256_cvtepi32_ps (sumi), *acc);
  *acc_min = _mm_fmadd_ps (_mm_permute_ps (scale, 0x55), _mm_cvtepi32_ps (min_dot), *acc_min);
}

AVX2_INLINE float
q4k_decode_result (__m256 acc, __m128 acc_min)
{
  acc_min = _mm_add_ps (acc_min, _mm_movehl_ps (acc_min, acc_min));
  acc_min = _mm_add_ss (acc_min, _mm_movehdup_ps (acc_min));
  return hsum_ps (acc) - _mm_cvtss_f32 (acc_min);
}

#ifdef X86_VNNI
/* The 8 sub-block scales (bytes 0-7) and 8 mins (bytes 8-15) of a Q4_K/Q5_K
 * block, unpacked from their 12 bytes in vector registers: the 32-bit words
 * u0, u1, u2 at w + 4 give scales 0-3 = u0 & 63, 4-7 = (u2 & 15) | (top 2
 * bits of u0) << 4, mins 0-3 = u1 & 63, 4-7 = (u2 >> 4) | (top 2 bits of
 * u1) << 4, byte by byte. */
AVX2_INLINE __m128i
q4k_scales_and_mins (const uint8_t *w)
{
  __m128i v = loadu128 (w);
  __m128i low = _mm_srlv_epi32 (_mm_shuffle_epi32 (v, _MM_SHUFFLE (3, 2, 3, 1)),
                                _mm_setr_epi32 (0, 0, 0, 4));
  __m128i top = _mm_and_si128 (_mm_srli_epi32 (_mm_shuffle_epi32 (v, _MM_SHUFFLE (2, 2, 1, 1)), 2),
                               _mm_setr_epi32 (0, 0x30303030, 0, 0x30303030));

  /* ternary table 0xec: (low & mask) | top */
  return _mm_ternarylogic_epi32 (low, top, _mm_setr_epi32 (0x3f3f3f3f, 0x0f0f0f0f,
                                                           0x3f3f3f3f, 0x0f0f0f0f), 0xec);
}

/* Q4_K, one token, AVX-512 VL/VNNI in 256-bit vectors. A 32-quant
 * sub-block fills one vector, so one vpdpbusd gives its 8 partial dots
 * (each at most 4 * 15 * 127, an int16); the two sub-blocks of a 32-byte
 * run are packed into one int16 vector and scaled and summed by one
 * vpdpwssd, against scales laid out for the pack ([s, s, s, s, t, t, t, t]
 * in each 128-bit half) and broadcast from memory. Per 64 quants that is
 * 2 + 1 multiplies where maddubs and madd take 4. */
AVX2_INLINE void
q4k_rows_decode (const uint8_t      *weight,
                 size_t              row_bytes,
                 size_t              n_blocks,
                 size_t              row_begin,
                 size_t              row_end,
                 const PonderActQ8K *act,    /* (n_blocks) */
                 float              *y)
{
  const __m256i m4 = _mm256_set1_epi8 (15);
  /* word k of the run-pair patterns: sub-block 2j for words 0-3 of each
   * half, 2j + 1 for words 4-7 (runs j = 0, 1 in one vector, 2, 3 in the
   * other) */
  const __m256i spread01 = _mm256_setr_epi16 (0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3);
  const __m256i spread23 = _mm256_setr_epi16 (4, 4, 4, 4, 5, 5, 5, 5, 6, 6, 6, 6, 7, 7, 7, 7);
  __m256i patterns[2];

  for (size_t r = row_begin; r < row_end; r++)
    {
      const uint8_t *w = weight + r * row_bytes;
      __m256 acc = _mm256_setzero_ps ();
      __m128 acc_min = _mm_setzero_ps ();

      for (size_t b = 0; b < n_blocks; b++, w += 144)
        {
          const PonderActQ8K *a = act + b;
          const uint8_t *qs = w + 16;
          __m128i sm = q4k_scales_and_mins (w);
          __m256i sc16 = _mm256_castsi128_si256 (_mm_cvtepu8_epi16 (sm));
          __m256i sum0 = _mm256_setzero_si256 (), sum1 = _mm256_setzero_si256 ();
          __m128i min_dot;

          prefetch_span (w, 144);
          patterns[0] = _mm256_permutexvar_epi16 (spread01, sc16);
          patterns[1] = _mm256_permutexvar_epi16 (spread23, sc16);
          /* through memory, so each run's pattern is a load-port broadcast */
          __asm__ ("" : "+m" (patterns));
          for (int j = 0; j < 4; j++)
            {
              __m256i qb = loadu (qs + 32 * j);
              __m256i lo = _mm256_dpbusd_epi32 (_mm256_setzero_si256 (), _mm256_and_si256 (qb, m4),
                                                loadu (a->qs + 64 * j));
              __m256i hi = _mm256_dpbusd_epi32 (_mm256_setzero_si256 (),
                                                _mm256_and_si256 (_mm256_srli_epi16 (qb, 4), m4),
                                                loadu (a->qs + 64 * j + 32));
              __m256i pattern = _mm256_broadcastsi128_si256 (
                                  loadu128 ((const uint8_t *) patterns + 16 * j));

              if (j & 1)
                sum1 = _mm256_dpwssd_epi32 (sum1, _mm256_packs_epi32 (lo, hi), pattern);
              else
                sum0 = _mm256_dpwssd_epi32 (sum0, _mm256_packs_epi32 (lo, hi), pattern);
            }
          min_dot = _mm_madd_epi16 (_mm_cvtepu8_epi16 (_mm_srli_si128 (sm, 8)),
                                    loadu128 (a->bsums32));
          q4k_decode_accumulate (w, a, _mm256_add_epi32 (sum0, sum1), min_dot, &acc, &acc_min);
        }
      y[r] = q4k_decode_result (acc, acc_min);
    }
}
#else
/* Q4_K, one token (decode): the rows in one sweep. Shuffle-port work per
 * block is what bounds this loop once the weights come from cache, so the
 * eight sub-block scales are spread with broadcast loads (each stored as
 * an int16 pair in an int32, which the load port broadcasts for free)
 * instead of eight shuffles, and both f16 block scales are converted by one
 * instruction; the mins go into their own accumulator. */
AVX2_INLINE void
q4k_rows_decode (const uint8_t      *weight,
                 size_t              row_bytes,
                 size_t              n_blocks,
                 size_t              row_begin,
                 size_t              row_end,
                 const PonderActQ8K *act,    /* (n_blocks) */
                 float              *y)
{
  const __m256i m4 = _mm256_set1_epi8 (15);
  int32_t spread[8] __attribute__ ((aligned (16)));

  for (size_t r = row_begin; r < row_end; r++)
    {
      const uint8_t *w = weight + r * row_bytes;
      __m256 acc = _mm256_setzero_ps ();
      __m128 acc_min = _mm_setzero_ps ();

      for (size_t b = 0; b < n_blocks; b++, w += 144)
        {
          const PonderActQ8K *a = act + b;
          const uint8_t *qs = w + 16;
          uint64_t scale_bytes, min_bytes;
          __m256i sum0 = _mm256_setzero_si256 (), sum1 = _mm256_setzero_si256 ();
          __m128i sc16, min_dot;

          prefetch_span (w, 144);
          q4k_scale_words (w, &scale_bytes, &min_bytes);
          sc16 = _mm_cvtepu8_epi16 (_mm_loadl_epi64 ((const __m128i *) &scale_bytes));
          _mm_store_si128 ((__m128i *) spread, _mm_unpacklo_epi16 (sc16, sc16));
          _mm_store_si128 ((__m128i *) spread + 1, _mm_unpackhi_epi16 (sc16, sc16));
          /* Keeps the compiler from forwarding the stores into shuffles:
           * the broadcasts must come from memory, through the load ports. */
          __asm__ ("" : "+m" (spread));
          for (int j = 0; j < 4; j++)
            {
              __m256i qb = loadu (qs + 32 * j);
              __m256i pl = _mm256_maddubs_epi16 (_mm256_and_si256 (qb, m4),
                                                 loadu (a->qs + 64 * j));
              __m256i ph = _mm256_maddubs_epi16 (_mm256_and_si256 (_mm256_srli_epi16 (qb, 4), m4),
                                                 loadu (a->qs + 64 * j + 32));

              sum0 = madd_add (sum0, pl, _mm256_set1_epi32 (spread[2 * j]));
              sum1 = madd_add (sum1, ph, _mm256_set1_epi32 (spread[2 * j + 1]));
            }
          min_dot = _mm_madd_epi16 (
            _mm_cvtepu8_epi16 (_mm_loadl_epi64 ((const __m128i *) &min_bytes)),
            loadu128 (a->bsums32));
          q4k_decode_accumulate (w, a, _mm256_add_epi32 (sum0, sum1), min_dot, &acc, &acc_min);
        }
      y[r] = q4k_decode_result (acc, acc_min);
    }
}
#endif

#ifdef X86_VNNI
/* Q6_K, one token, with AVX-512 VL and BW in 256-bit vectors: vpermw spreads
 * a sub-block pair's scales in one operation where k16_accumulate takes a
 * shuffle and a shift, and vpternlogd merges a quant's low and high bits
 * in one. (A 512-bit version was 20% faster from cache but 4-5% slower on
 * the 1.5B model decoding from DRAM: 512-bit operations cost the whole
 * core port 1's vector unit and clock.) Quants are stored plus 32; the 32
 * comes off through the activations' 16-element sums. */
AVX2_INLINE void
q6k_rows_decode (const uint8_t      *weight,
                 size_t              row_bytes,
                 size_t              n_blocks,
                 size_t              row_begin,
                 size_t              row_end,
                 const PonderActQ8K *act,    /* (n_blocks) */
                 float              *y)
{
  const __m256i m0f = _mm256_set1_epi8 (0x0f);
  const __m256i m30 = _mm256_set1_epi8 (0x30);
  __m256i pick[8];

  /* Run k of half h (elements 128h + 32k ..) spans sub-blocks 8h + 2k and
   * 8h + 2k + 1: 8 product lanes each. */
  for (int run = 0; run < 8; run++)
    pick[run] = _mm256_setr_m128i (_mm_set1_epi16 ((short) (2 * run)),
                                   _mm_set1_epi16 ((short) (2 * run + 1)));
  for (size_t r = row_begin; r < row_end; r++)
    {
      const uint8_t *w = weight + r * row_bytes;
      __m256 acc = _mm256_setzero_ps ();

      for (size_t b = 0; b < n_blocks; b++, w += 210)
        {
          const PonderActQ8K *a = act + b;
          __m256i sc16 = _mm256_cvtepi8_epi16 (loadu128 (w + 192));
          __m256i sum0 = _mm256_setzero_si256 (), sum1 = _mm256_setzero_si256 ();
          __m256i offset;

          prefetch_span (w, 210);
          for (int h = 0; h < 2; h++)
            {
              __m256i l0 = loadu (w + 64 * h);
              __m256i l1 = loadu (w + 64 * h + 32);
              __m256i hb = loadu (w + 128 + 32 * h);
              __m256i q[4];

              /* (low & 0x0f) | top, top masked to 0x30: ternary table 0xec
               * is (A & C) | B. */
#define Q6_MERGE(low, top) \
              _mm256_ternarylogic_epi32 ((low), _mm256_and_si256 ((top), m30), m0f, 0xec)
              q[0] = Q6_MERGE (l0, _mm256_slli_epi16 (hb, 4));
              q[1] = Q6_MERGE (l1, _mm256_slli_epi16 (hb, 2));
              q[2] = Q6_MERGE (_mm256_srli_epi16 (l0, 4), hb);
              q[3] = Q6_MERGE (_mm256_srli_epi16 (l1, 4), _mm256_srli_epi16 (hb, 2));
#undef Q6_MERGE
              for (int k = 0; k < 4; k++)
                {
                  __m256i p = _mm256_maddubs_epi16 (q[k], loadu (a->qs + 128 * h + 32 * k));
                  __m256i scales = _mm256_permutexvar_epi16 (pick[4 * h + k], sc16);

                  if (k & 1)
                    sum1 = _mm256_dpwssd_epi32 (sum1, p, scales);
                  else
                    sum0 = _mm256_dpwssd_epi32 (sum0, p, scales);
                }
            }
          /* 32 * sum over sub-blocks of scale * activation sum. */
          offset = _mm256_slli_epi32 (_mm256_madd_epi16 (sc16, loadu (a->bsums)), 5);
          sum0 = _mm256_sub_epi32 (_mm256_add_epi32 (sum0, sum1), offset);
          acc = _mm256_fmadd_ps (_mm256_set1_ps (f16 (w + 208) * a->d), _mm256_cvtepi32_ps (sum0),
                                 acc);
        }
      y[r] = hsum_ps (acc);
    }
}
#endif
