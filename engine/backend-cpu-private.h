/* backend-cpu-private.h: the CPU backend's state, shared with the
 * deepseek2 ops in moe-cpu.c and mla-cpu.c.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backend.h"
#include "quant.h"
#include "threadpool.h"

typedef struct
{
  PonderBackend     base;
  PonderThreadpool *pool;
  uint8_t          *prepared;       /* (prepared_bytes) kernel input rows */
  size_t            prepared_bytes;
  float            *rope_cs;        /* (max_tokens, n_rot / 2, 2) cos and sin */
  const PonderRope *rope_cs_rope;   /* what rope_cs holds: these parameters, */
  uint32_t          rope_cs_pos0;   /* at these positions */
  uint32_t          rope_cs_n;
  uint32_t          max_tokens;
  bool              have_avx2;      /* AVX2 and FMA, for attention */
  bool              have_f16c;      /* F16C: the AVX2 attention reads an F16 cache */
  size_t            max_n_in;
  void            **allocations;    /* (n_allocations) activation buffers */
  size_t            n_allocations;
  void             *moe_scratch;    /* moe-cpu.c */
} CpuBackend;

/* moe-cpu.c, mla-cpu.c */
void ponder_cpu_matmul_slices (PonderBackend *be, const PonderWeight *w, uint32_t n_slices,
                               const float *x, uint32_t n_tokens, float *y);
void ponder_cpu_moe           (PonderBackend *be, const PonderLayer *l, const float *x,
                               uint32_t n_tokens, uint32_t n_used, const int32_t *ids,
                               const float *weights, float *out);
void ponder_cpu_moe_free      (CpuBackend *cpu);
void ponder_cpu_mla_attention (PonderBackend *be, const PonderLayer *l,
                               const PonderHparams *hp, const float *cq, float *q,
                               const PonderKvCache *cache, const PonderKvLayer *kv,
                               uint32_t pos0, uint32_t n_tokens, float *qa, float *olat,
                               float *out);

/* ---- Reading the KV cache (attention in backend-cpu.c and mla-cpu.c) ---- */

/* Element i of a cached row, F16 or F32. */
static inline float
ponder_cpu_kv_at (const void *row,
                  size_t      i,
                  bool        f16)
{
  return f16 ? ponder_fp16_to_fp32 (((const uint16_t *) row)[i]) : ((const float *) row)[i];
}

/* sum_i a[i] row[i] over n elements. */
static inline float
ponder_cpu_kv_dot (const float *a,
                   const void  *row,
                   uint32_t     n,
                   bool         f16)
{
  float acc[8] = { 0 };
  float sum = 0.0f;
  uint32_t i = 0;

  /* eight independent sums vectorise without -ffast-math (the F32 loop) */
  if (!f16)
    for (; i + 8 <= n; i += 8)
      for (int j = 0; j < 8; j++)
        acc[j] += a[i + j] * ((const float *) row)[i + j];
  for (; i + 8 <= n; i += 8)
    for (int j = 0; j < 8; j++)
      acc[j] += a[i + j] * ponder_cpu_kv_at (row, i + j, true);
  for (; i < n; i++)
    sum += a[i] * ponder_cpu_kv_at (row, i, f16);
  for (int j = 0; j < 8; j++)
    sum += acc[j];
  return sum;
}

/* o[i] += w row[i] over n elements. */
static inline void
ponder_cpu_kv_axpy (float      *o,
                    float       w,
                    const void *row,
                    uint32_t    n,
                    bool        f16)
{
  if (!f16)
    for (uint32_t i = 0; i < n; i++)
      o[i] += w * ((const float *) row)[i];
  else
    for (uint32_t i = 0; i < n; i++)
      o[i] += w * ponder_fp16_to_fp32 (((const uint16_t *) row)[i]);
}

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

/* Elements [i, i + 8) of a cached row as floats; F16 through F16C. */
__attribute__ ((target ("avx2,fma,f16c"))) static inline __m256
ponder_cpu_kv_load8 (const void *row,
                     size_t      i,
                     bool        f16)
{
  if (f16)
    return _mm256_cvtph_ps (_mm_loadu_si128 ((const __m128i *) ((const uint16_t *) row + i)));
  return _mm256_loadu_ps ((const float *) row + i);
}

/* Attention takes the keys a block of this many positions at a time: one
 * vector exp for the block's weights and at most one rescale of the output
 * per block, instead of a scalar expf (two when the maximum grows) per
 * position and head. */
#define PONDER_CPU_SCORE_BLOCK 8

/* exp (x) of 8 floats x <= 0 (-inf gives 0), relative error under 2e-7:
 * x = n ln 2 + r with |r| <= ln 2 / 2, e^r by its Taylor series to r^7,
 * 2^n built in the exponent bits; below -87 (where a float would go
 * subnormal) the result is 0. */
__attribute__ ((target ("avx2,fma,f16c"))) static inline __m256
ponder_cpu_exp8_nonpositive (__m256 x)
{
  const __m256 round_magic = _mm256_set1_ps (12582912.0f); /* 1.5 * 2^23 */
  __m256 under = _mm256_cmp_ps (x, _mm256_set1_ps (-87.0f), _CMP_LT_OQ);
  __m256 clamped = _mm256_max_ps (x, _mm256_set1_ps (-87.0f));
  __m256 shifted = _mm256_fmadd_ps (clamped, _mm256_set1_ps (1.44269504f), round_magic);
  __m256 n = _mm256_sub_ps (shifted, round_magic);
  __m256 r = _mm256_fnmadd_ps (n, _mm256_set1_ps (0.693145751953125f), clamped);
  __m256 p = _mm256_set1_ps (1.0f / 5040);
  __m256i e;

  r = _mm256_fnmadd_ps (n, _mm256_set1_ps (1.428606765330187e-06f), r); /* ln 2, hi + lo */
  p = _mm256_fmadd_ps (p, r, _mm256_set1_ps (1.0f / 720));
  p = _mm256_fmadd_ps (p, r, _mm256_set1_ps (1.0f / 120));
  p = _mm256_fmadd_ps (p, r, _mm256_set1_ps (1.0f / 24));
  p = _mm256_fmadd_ps (p, r, _mm256_set1_ps (1.0f / 6));
  p = _mm256_fmadd_ps (p, r, _mm256_set1_ps (0.5f));
  p = _mm256_fmadd_ps (p, r, _mm256_set1_ps (1.0f));
  p = _mm256_fmadd_ps (p, r, _mm256_set1_ps (1.0f));
  /* n + 127 in the exponent field: shifted's low bits hold n + 2^22 */
  e = _mm256_slli_epi32 (_mm256_add_epi32 (_mm256_sub_epi32 (_mm256_castps_si256 (shifted),
                                                              _mm256_set1_epi32 (0x4B400000)),
                                           _mm256_set1_epi32 (127)), 23);
  return _mm256_andnot_ps (under, _mm256_mul_ps (p, _mm256_castsi256_ps (e)));
}

/* Sum of the 8 lanes. */
__attribute__ ((target ("avx2,fma,f16c"))) static inline float
ponder_cpu_hsum8 (__m256 v)
{
  __m128 x = _mm_add_ps (_mm256_castps256_ps128 (v), _mm256_extractf128_ps (v, 1));

  x = _mm_add_ps (x, _mm_movehl_ps (x, x));
  x = _mm_add_ss (x, _mm_movehdup_ps (x));
  return _mm_cvtss_f32 (x);
}
#endif
