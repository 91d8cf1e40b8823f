/* quant-matmul-x86.h: SIMD helpers shared by the x86 kernel files
 * (quant-matmul-avx2.c, quant-iq-avx2.c and their avx512 builds).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Included, inside an x86 guard, by a file that has defined X86_TARGET (the
 * target attribute string), MAX_TILE (tokens per tile) and, for the VNNI
 * builds, X86_VNNI; every function gets that target, so one header serves
 * both variants.
 */
#pragma once

#include "quant-matmul-private.h"

#include <immintrin.h>
#include <string.h>

#define AVX2_FN     __attribute__ ((target (X86_TARGET)))
#define AVX2_INLINE static inline __attribute__ ((target (X86_TARGET), always_inline))

/* How far ahead (bytes) to prefetch the weight stream. Measured on the
 * 2-core VM (bench-matmul, 1 thread, DRAM): Q5_0 0 B 6.4 GB/s, 384 B 7.5-8.6,
 * 768 B 8.8-10.4, 1.5-8 KiB 10-11.6 (its read bandwidth). Once the Q4_K and
 * Q6_K decode rows got faster, 2 KiB beat 4 KiB (bench-matmul, alternating
 * builds, 2 threads: Q4_K 25-28 against 23-24 GB/s, Q6_K 28-30 against
 * 24-27, Q8_0 level). Why is not known: this VM has no hardware counters
 * to show it. */
#define PREFETCH_AHEAD 2048

/* The tile driver (prefill, and decode of the K-quants without a sweep of
 * their own) keeps 4 KiB: 0.5B prefill, alternating 4 runs each, 205-208
 * against 204-206 t/s (Q8_0) and 247-250 against 245-248 (Q4_K_M). */
#define PREFETCH_AHEAD_TILES 4096

/* Prefetches every cache line of the bytes bytes ahead bytes past p
 * (bytes is a constant after inlining, so this unrolls): a block longer
 * than a line must not leave lines to the hardware prefetcher, which on
 * the machines measured keeps far too few reads in flight for a stream. */
AVX2_INLINE void
prefetch_span_at (const uint8_t *p, size_t bytes, size_t ahead)
{
  for (size_t o = 0; o < bytes; o += 64)
    _mm_prefetch ((const char *) (p + ahead + o), _MM_HINT_T0);
}

AVX2_INLINE void
prefetch_span (const uint8_t *p, size_t bytes)
{
  prefetch_span_at (p, bytes, PREFETCH_AHEAD);
}

/* vcvtph2ps with its memory operand. GCC loads the 8 bytes into a register
 * first, and the register form costs an extra shuffle-port operation. */
AVX2_INLINE __m128
cvtph_mem (const uint8_t *p)
{
  __m128 r;

  __asm__ ("vcvtph2ps %1, %0" : "=x" (r) : "m" (*(const struct { uint8_t b[8]; } *) p));
  return r;
}

AVX2_INLINE float
hsum_ps (__m256 v)
{
  __m128 s = _mm_add_ps (_mm256_castps256_ps128 (v), _mm256_extractf128_ps (v, 1));

  s = _mm_add_ps (s, _mm_movehl_ps (s, s));
  s = _mm_add_ss (s, _mm_movehdup_ps (s));
  return _mm_cvtss_f32 (s);
}

AVX2_INLINE float
f16 (const uint8_t *p)
{
  uint16_t h;

  memcpy (&h, p, 2);
  return _cvtsh_ss (h);
}

AVX2_INLINE __m256i
loadu (const void *p)
{
  return _mm256_loadu_si256 ((const __m256i *) p);
}

AVX2_INLINE __m128i
loadu128 (const void *p)
{
  return _mm_loadu_si128 ((const __m128i *) p);
}

/* Signed x signed dot of 32 int8 pairs as 8 int32 partial sums; neither
 * side holds -128 (activations are in -127..127; weights checked by type). */
AVX2_INLINE __m256i
dot_s8 (__m256i w, __m256i a)
{
#ifdef X86_VNNI
  return _mm256_dpbusd_epi32 (_mm256_setzero_si256 (), _mm256_sign_epi8 (w, w),
                              _mm256_sign_epi8 (a, w));
#else
  __m256i p = _mm256_maddubs_epi16 (_mm256_sign_epi8 (w, w), _mm256_sign_epi8 (a, w));

  return _mm256_madd_epi16 (p, _mm256_set1_epi16 (1));
#endif
}

/* Unsigned (0..127) x signed dot as 8 int32 partial sums. */
AVX2_INLINE __m256i
dot_u8 (__m256i w, __m256i a)
{
#ifdef X86_VNNI
  return _mm256_dpbusd_epi32 (_mm256_setzero_si256 (), w, a);
#else
  return _mm256_madd_epi16 (_mm256_maddubs_epi16 (w, a), _mm256_set1_epi16 (1));
#endif
}

/* acc + the int16 pair products of p and s, as int32. */
AVX2_INLINE __m256i
madd_add (__m256i acc, __m256i p, __m256i s)
{
#ifdef X86_VNNI
  return _mm256_dpwssd_epi32 (acc, p, s);
#else
  return _mm256_add_epi32 (acc, _mm256_madd_epi16 (p, s));
#endif
}

/* int16 vector whose low 8 lanes are byte lo of bytes (zero-extended) and
 * whose high 8 lanes are byte hi; bytes must hold the 16 bytes in both
 * 128-bit halves. */
AVX2_INLINE __m256i
pick_u8_pair (__m256i bytes, int lo, int hi)
{
  __m256i ctrl = _mm256_set_m128i (_mm_set1_epi16 ((short) (0x8000 | hi)),
                                   _mm_set1_epi16 ((short) (0x8000 | lo)));

  return _mm256_shuffle_epi8 (bytes, ctrl);
}

/* As pick_u8_pair, sign-extending the picked bytes. */
AVX2_INLINE __m256i
pick_s8_pair (__m256i bytes, int lo, int hi)
{
  __m256i ctrl = _mm256_set_m128i (_mm_set1_epi8 ((char) hi), _mm_set1_epi8 ((char) lo));

  return _mm256_srai_epi16 (_mm256_shuffle_epi8 (bytes, ctrl), 8);
}

/* Tile state: float accumulators per token. */
typedef struct
{
  __m256 acc[MAX_TILE];
  float  acc_scalar[MAX_TILE];
} Tile;
