/* quant-matmul-avx2.c: AVX2/FMA/F16C kernels for quant-matmul.c.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Every function here carries a target attribute instead of the file being
 * built with -mavx2, so the rest of the engine stays portable and
 * quant-matmul.c only calls in after __builtin_cpu_supports said yes.
 *
 * Shape of every kernel: for each weight row, tokens are taken in tiles of
 * up to 4; each weight block is unpacked into registers once and multiplied
 * with the tile's activation blocks (maddubs: u8 x s8 -> s16 pairs, madd:
 * s16 pairs -> s32), so a row is streamed from memory once per call for any
 * number of tokens (later tiles hit L1). Integer sums get their float block
 * scale with one FMA per block and token.
 */
#include "quant-matmul-private.h"

/* quant-matmul-avx512.c includes this file with X86_VNNI defined: the same
 * kernels, 256 bits wide, with the VNNI dot products (vpdpbusd, vpdpwssd)
 * fusing maddubs/madd/add, under its own target and entry point names. */
#ifndef X86_TARGET
#define X86_TARGET     "avx2,fma,f16c"
#define X86_ROWS_FN    ponder_matmul_avx2_rows
#define X86_PREPARE_FN ponder_matmul_avx2_prepare
#define MAX_TILE       4
#endif

#if defined(__x86_64__) || defined(__i386__)

#include "quant-matmul-x86.h"

/* ---- legacy 32-element blocks ---------------------------------------------- */

/* 32 4-bit quants of qs[16] in element order (low nibbles, then high): the
 * 16 bytes in both halves (a load-port broadcast), the upper half shifted
 * down by 4 (bits that leak in from the neighbouring byte are masked off). */
AVX2_INLINE __m256i
unpack_nibbles_32 (const uint8_t *qs)
{
  __m256i v = _mm256_broadcastsi128_si256 (loadu128 (qs));

  v = _mm256_srlv_epi32 (v, _mm256_setr_epi32 (0, 0, 0, 0, 4, 4, 4, 4));
  return _mm256_and_si256 (v, _mm256_set1_epi8 (15));
}

/* q with 16 added in byte i where bit i of the little-endian u32 at qh is
 * set: the 5th bit of Q5_0/Q5_1. */
AVX2_INLINE __m256i
add_fifth_bits (__m256i q, const uint8_t *qh)
{
#ifdef X86_VNNI
  /* AVX-512BW: the bits are a byte mask as they stand (a kmov from memory). */
  return _mm256_mask_add_epi8 (q, _load_mask32 ((__mmask32 *) qh), q, _mm256_set1_epi8 (16));
#else
  uint32_t bits;
  __m256i v, sel, mask;

  memcpy (&bits, qh, 4);
  v = _mm256_set1_epi32 ((int) bits);
  sel = _mm256_set_epi64x (0x0303030303030303LL, 0x0202020202020202LL,
                           0x0101010101010101LL, 0x0000000000000000LL);
  v = _mm256_shuffle_epi8 (v, sel);
  mask = _mm256_set1_epi64x ((long long) 0x8040201008040201ULL);
  v = _mm256_cmpeq_epi8 (_mm256_and_si256 (v, mask), mask);
  return _mm256_or_si256 (q, _mm256_and_si256 (v, _mm256_set1_epi8 (0x10)));
#endif
}

/* acc + the unsigned (0..31) x signed dot of w and a as 8 int32 partial sums. */
AVX2_INLINE __m256i
dot_u8_add (__m256i acc, __m256i w, __m256i a)
{
#ifdef X86_VNNI
  return _mm256_dpbusd_epi32 (acc, w, a);
#else
  return _mm256_add_epi32 (acc, _mm256_madd_epi16 (_mm256_maddubs_epi16 (w, a),
                                                   _mm256_set1_epi16 (1)));
#endif
}

enum
{
  K_LEGACY_Q5_0 = 2  /* the kind number of Q5_0 below */
};

/* The 32 quants of a legacy block: unsigned for the 4- and 5-bit kinds
 * (their offset is applied through the activation's neg_sum/neg2_sum),
 * signed for Q8_0. kind: 0 Q4_0, 1 Q4_1, 2 Q5_0, 3 Q5_1, 4 Q8_0. */
AVX2_INLINE __m256i
legacy_quants (int kind, const uint8_t *w)
{
  switch (kind)
    {
    case 0:  return unpack_nibbles_32 (w + 2);
    case 1:  return unpack_nibbles_32 (w + 4);
    case 2:  return add_fifth_bits (unpack_nibbles_32 (w + 6), w + 2);
    case 3:  return add_fifth_bits (unpack_nibbles_32 (w + 8), w + 4);
    case 4:
    default: return loadu (w + 2);
    }
}

/* Integer dot of a block's quants with one activation block, the weight
 * offset included, as 8 int32 partial sums. */
AVX2_INLINE __m256i
legacy_dot (int kind, __m256i q, const PonderActQ8 *a)
{
  __m256i av = loadu (a->qs);
  __m256i start;

  if (kind == 4)
    return dot_s8 (q, av);
  start = _mm256_setzero_si256 ();
  if (kind == 0)
    start = _mm256_set1_epi32 (a->neg_sum);
  else if (kind == 2)
    start = _mm256_set1_epi32 (a->neg2_sum);
  return dot_u8_add (start, q, av);
}

/* The block scale times the activation scale, in all lanes. */
AVX2_INLINE __m256
legacy_scale (const uint8_t *w, const PonderActQ8 *a)
{
  /* the 3 halves after d are quants, converted and ignored */
  __m128 d = cvtph_mem (w);

  return _mm256_broadcastss_ps (_mm_mul_ss (d, _mm_load_ss (&a->d)));
}

/* Legacy blocks, tokens inner (prefill tiles). */
AVX2_INLINE void
legacy_block (int            kind,
              const uint8_t *w,
              const uint8_t *act,
              size_t         act_row_bytes,
              int            nt,
              Tile          *tile)
{
  /* d in all lanes once per tile; per token it takes one multiply by a
   * broadcast load of the token's scale, not a scalar product to broadcast. */
  __m256 d = _mm256_cvtph_ps (_mm_set1_epi16 (*(const short *) w));
  float m = (kind == 1 || kind == 3) ? f16 (w + 2) : 0.0f;
  __m256i q = legacy_quants (kind, w);

  for (int t = 0; t < nt; t++)
    {
      const PonderActQ8 *a = (const PonderActQ8 *) (act + t * act_row_bytes);
      __m256i p = legacy_dot (kind, q, a);

      tile->acc[t] = _mm256_fmadd_ps (_mm256_mul_ps (d, _mm256_set1_ps (a->d)),
                                      _mm256_cvtepi32_ps (p), tile->acc[t]);
      if (kind == 1 || kind == 3)
        tile->acc_scalar[t] += m * a->d * (float) a->sum;
    }
}

/* ---- K-quants --------------------------------------------------------------- */

/* The 6-bit scales and mins of a Q4_K/Q5_K block, one byte each, as two
 * 64-bit words (byte s is sub-block s). */
AVX2_INLINE void
q4k_scale_words (const uint8_t *w, uint64_t *scales, uint64_t *mins)
{
  uint32_t u[3], sc_hi, m_hi;

  memcpy (u, w + 4, 12);
  sc_hi = (u[2] & 0x0f0f0f0fu) | (((u[0] >> 6) & 0x03030303u) << 4);
  m_hi = ((u[2] >> 4) & 0x0f0f0f0fu) | (((u[1] >> 6) & 0x03030303u) << 4);
  *scales = ((uint64_t) sc_hi << 32) | (u[0] & 0x3f3f3f3fu);
  *mins = ((uint64_t) m_hi << 32) | (u[1] & 0x3f3f3f3fu);
}

AVX2_INLINE void
q4k_unpack_scales (const uint8_t *w, __m256i *sc_bytes, __m128i *mins16)
{
  uint64_t scales, mins;

  q4k_scale_words (w, &scales, &mins);
  *sc_bytes = _mm256_broadcastsi128_si256 (_mm_loadl_epi64 ((const __m128i *) &scales));
  *mins16 = _mm_cvtepu8_epi16 (_mm_loadl_epi64 ((const __m128i *) &mins));
}

/* Sum over the 8 sub-blocks of 32 of mins[s] * bsums32[s], as 4 int32
 * partial sums. */
AVX2_INLINE __m128i
mins_dot (__m128i mins16, const PonderActQ8K *a)
{
  return _mm_madd_epi16 (mins16, loadu128 (a->bsums32));
}

/* Q4_K (five = false) and Q5_K (five = true). */
AVX2_INLINE void
q45k_block (bool           five,
            const uint8_t *w,
            const uint8_t *act,
            size_t         act_row_bytes,
            int            nt,
            Tile          *tile)
{
  const uint8_t *qs = w + (five ? 48 : 16);
  const __m256i m4 = _mm256_set1_epi8 (15);
  __m256i sc_bytes, sumi[MAX_TILE], hbits = _mm256_setzero_si256 ();
  __m128i mins16;
  float d = f16 (w), dmin = f16 (w + 2);

  q4k_unpack_scales (w, &sc_bytes, &mins16);
  if (five)
    hbits = loadu (w + 16);
  for (int t = 0; t < nt; t++)
    sumi[t] = _mm256_setzero_si256 ();
  for (int j = 0; j < 4; j++)
    {
      __m256i qb = loadu (qs + 32 * j);
      __m256i ql = _mm256_and_si256 (qb, m4);
      __m256i qh = _mm256_and_si256 (_mm256_srli_epi16 (qb, 4), m4);
      __m256i scl = pick_u8_pair (sc_bytes, 2 * j, 2 * j);
      __m256i sch = pick_u8_pair (sc_bytes, 2 * j + 1, 2 * j + 1);

      if (five)
        {
          __m256i bl = _mm256_set1_epi8 ((char) (1 << (2 * j)));
          __m256i bh = _mm256_set1_epi8 ((char) (1 << (2 * j + 1)));
          __m256i sixteen = _mm256_set1_epi8 (16);

          ql = _mm256_or_si256 (ql, _mm256_and_si256 (
                 _mm256_cmpeq_epi8 (_mm256_and_si256 (hbits, bl), bl), sixteen));
          qh = _mm256_or_si256 (qh, _mm256_and_si256 (
                 _mm256_cmpeq_epi8 (_mm256_and_si256 (hbits, bh), bh), sixteen));
        }
      for (int t = 0; t < nt; t++)
        {
          const PonderActQ8K *a = (const PonderActQ8K *) (act + t * act_row_bytes);
          __m256i pl = _mm256_maddubs_epi16 (ql, loadu (a->qs + 64 * j));
          __m256i ph = _mm256_maddubs_epi16 (qh, loadu (a->qs + 64 * j + 32));

          sumi[t] = madd_add (madd_add (sumi[t], pl, scl), ph, sch);
        }
    }
  for (int t = 0; t < nt; t++)
    {
      const PonderActQ8K *a = (const PonderActQ8K *) (act + t * act_row_bytes);
      __m256i mi = _mm256_zextsi128_si256 (mins_dot (mins16, a));
      __m256 v = _mm256_fmsub_ps (_mm256_set1_ps (d), _mm256_cvtepi32_ps (sumi[t]),
                                  _mm256_mul_ps (_mm256_set1_ps (dmin), _mm256_cvtepi32_ps (mi)));

      tile->acc[t] = _mm256_fmadd_ps (_mm256_set1_ps (a->d), v, tile->acc[t]);
    }
}

/* Shared tail of Q2_K, Q3_K and Q6_K: 16 sub-blocks of 16 stored as four
 * vectors of 32 quants per half (q[h][k] holds elements 128h + 32k + l),
 * unsigned (q + bias); sc_bytes holds the 16 sub-block scales (int8 for
 * signed, else uint8) in both halves. Adds per token
 * d * dx * sum_t sc_t * (dot_t - bias * bsum_t) - dmin * dx * summ. */
AVX2_INLINE void
k16_accumulate (const __m256i  q[2][4],
                __m256i        sc_bytes,
                bool           signed_scales,
                int            bias,
                float          d,
                float          dmin,
                __m256i        mins16,   /* 16 int16 or zero */
                const uint8_t *act,
                size_t         act_row_bytes,
                int            nt,
                Tile          *tile)
{
  __m256i sc16 = signed_scales
                   ? _mm256_cvtepi8_epi16 (_mm256_castsi256_si128 (sc_bytes))
                   : _mm256_cvtepu8_epi16 (_mm256_castsi256_si128 (sc_bytes));
  __m256i scv[2][4];

  for (int h = 0; h < 2; h++)
    for (int k = 0; k < 4; k++)
      scv[h][k] = signed_scales ? pick_s8_pair (sc_bytes, 8 * h + 2 * k, 8 * h + 2 * k + 1)
                                : pick_u8_pair (sc_bytes, 8 * h + 2 * k, 8 * h + 2 * k + 1);
  for (int t = 0; t < nt; t++)
    {
      const PonderActQ8K *a = (const PonderActQ8K *) (act + t * act_row_bytes);
      __m256i bsums = loadu (a->bsums);
      __m256i sumi = _mm256_setzero_si256 ();
      __m256 v;

      for (int h = 0; h < 2; h++)
        for (int k = 0; k < 4; k++)
          {
            __m256i p = _mm256_maddubs_epi16 (q[h][k], loadu (a->qs + 128 * h + 32 * k));

            sumi = madd_add (sumi, p, scv[h][k]);
          }
      if (bias)
        sumi = _mm256_sub_epi32 (sumi, _mm256_mullo_epi32 (_mm256_madd_epi16 (sc16, bsums),
                                                           _mm256_set1_epi32 (bias)));
      v = _mm256_mul_ps (_mm256_set1_ps (d), _mm256_cvtepi32_ps (sumi));
      if (dmin != 0.0f)
        v = _mm256_fnmadd_ps (_mm256_set1_ps (dmin),
                              _mm256_cvtepi32_ps (_mm256_madd_epi16 (mins16, bsums)), v);
      tile->acc[t] = _mm256_fmadd_ps (_mm256_set1_ps (a->d), v, tile->acc[t]);
    }
}

/* Q2_K and Q3_K share the qs layout: byte 32h + l holds 2-bit quant j at
 * bits 2j of element 128h + 32j + l. */
AVX2_INLINE void
unpack_2bit (const uint8_t *qs, __m256i q[2][4])
{
  const __m256i m3 = _mm256_set1_epi8 (3);

  for (int h = 0; h < 2; h++)
    {
      __m256i b = loadu (qs + 32 * h);

      for (int j = 0; j < 4; j++)
        q[h][j] = _mm256_and_si256 (_mm256_srli_epi16 (b, 2 * j), m3);
    }
}

AVX2_INLINE void
q2k_block (const uint8_t *w, const uint8_t *act, size_t act_row_bytes, int nt, Tile *tile)
{
  __m256i q[2][4];
  __m128i raw = loadu128 (w);
  __m128i sc = _mm_and_si128 (raw, _mm_set1_epi8 (15));
  __m128i mn = _mm_and_si128 (_mm_srli_epi16 (raw, 4), _mm_set1_epi8 (15));

  unpack_2bit (w + 16, q);
  k16_accumulate ((const __m256i (*)[4]) q, _mm256_broadcastsi128_si256 (sc), false, 0,
                  f16 (w + 80), f16 (w + 82), _mm256_cvtepu8_epi16 (mn),
                  act, act_row_bytes, nt, tile);
}

AVX2_INLINE void
q3k_block (const uint8_t *w, const uint8_t *act, size_t act_row_bytes, int nt, Tile *tile)
{
  __m256i q[2][4];
  __m256i hm = loadu (w);
  int8_t sc[16];

  unpack_2bit (w + 32, q);
  for (int h = 0; h < 2; h++)
    for (int j = 0; j < 4; j++)
      {
        __m256i bit = _mm256_set1_epi8 ((char) (1 << (4 * h + j)));
        __m256i set = _mm256_cmpeq_epi8 (_mm256_and_si256 (hm, bit), bit);

        /* q + 4 = q2 + 4 * hb. */
        q[h][j] = _mm256_or_si256 (q[h][j], _mm256_and_si256 (set, _mm256_set1_epi8 (4)));
      }
  for (int s = 0; s < 16; s++)
    sc[s] = (int8_t) (ponder_quant_q3k_scale (w + 96, s) - 32);
  k16_accumulate ((const __m256i (*)[4]) q, _mm256_broadcastsi128_si256 (loadu128 (sc)), true, 4,
                  f16 (w + 108), 0.0f, _mm256_setzero_si256 (), act, act_row_bytes, nt, tile);
}

AVX2_INLINE void
q6k_block (const uint8_t *w, const uint8_t *act, size_t act_row_bytes, int nt, Tile *tile)
{
  const __m256i m4 = _mm256_set1_epi8 (15);
  const __m256i m30 = _mm256_set1_epi8 (0x30);
  __m256i q[2][4];

  for (int h = 0; h < 2; h++)
    {
      __m256i l0 = loadu (w + 64 * h);
      __m256i l1 = loadu (w + 64 * h + 32);
      __m256i hb = loadu (w + 128 + 32 * h);

      q[h][0] = _mm256_or_si256 (_mm256_and_si256 (l0, m4),
                                 _mm256_and_si256 (_mm256_slli_epi16 (hb, 4), m30));
      q[h][1] = _mm256_or_si256 (_mm256_and_si256 (l1, m4),
                                 _mm256_and_si256 (_mm256_slli_epi16 (hb, 2), m30));
      q[h][2] = _mm256_or_si256 (_mm256_and_si256 (_mm256_srli_epi16 (l0, 4), m4),
                                 _mm256_and_si256 (hb, m30));
      q[h][3] = _mm256_or_si256 (_mm256_and_si256 (_mm256_srli_epi16 (l1, 4), m4),
                                 _mm256_and_si256 (_mm256_srli_epi16 (hb, 2), m30));
    }
  k16_accumulate ((const __m256i (*)[4]) q, _mm256_broadcastsi128_si256 (loadu128 (w + 192)),
                  true, 32, f16 (w + 208), 0.0f, _mm256_setzero_si256 (), act, act_row_bytes,
                  nt, tile);
}

#include "quant-matmul-x86-decode.h"

/* ---- row drivers -------------------------------------------------------------- */

enum
{
  K_Q4_0, K_Q4_1, K_Q5_0, K_Q5_1, K_Q8_0, K_Q2_K, K_Q3_K, K_Q4_K, K_Q5_K, K_Q6_K
};

AVX2_INLINE void
block_dispatch (int kind, const uint8_t *w, const uint8_t *act, size_t act_row_bytes, int nt,
                Tile *tile)
{
  switch (kind)
    {
    case K_Q2_K: q2k_block (w, act, act_row_bytes, nt, tile); break;
    case K_Q3_K: q3k_block (w, act, act_row_bytes, nt, tile); break;
    case K_Q4_K: q45k_block (false, w, act, act_row_bytes, nt, tile); break;
    case K_Q5_K: q45k_block (true, w, act, act_row_bytes, nt, tile); break;
    case K_Q6_K: q6k_block (w, act, act_row_bytes, nt, tile); break;
    default:     legacy_block (kind, w, act, act_row_bytes, nt, tile); break;
    }
}

#include "quant-matmul-x86-rows.h"

#define Q5_0_PAIRED(kind, n_blocks) ((kind) == K_Q5_0 && (n_blocks) <= Q5_0_PAIR_MAX_BLOCKS)

/* Legacy kinds: decode has its own sweep, more tokens go through the tiles. */
#define DEFINE_LEGACY_ROWS(name, kind, bytes)                                       \
  static AVX2_FN void                                                               \
  name (const uint8_t *weight, size_t row_bytes, size_t n, size_t row_begin,        \
        size_t row_end, const uint8_t *act, size_t act_row_bytes, size_t n_tokens,  \
        float *y, size_t y_stride)                                                  \
  {                                                                                 \
    if (n_tokens == 1 && Q5_0_PAIRED (kind, n / 32))                                \
      q5_0_rows_decode (weight, row_bytes, n / 32, row_begin, row_end,              \
                        (const PonderActQ8 *) act, y);                              \
    else if (n_tokens == 1)                                                         \
      legacy_rows_decode (kind, bytes, weight, row_bytes, n / 32, row_begin, row_end, \
                          (const PonderActQ8 *) act, y);                            \
    else                                                                            \
      rows_quant (kind, 32, bytes, sizeof (PonderActQ8), weight, row_bytes, n,      \
                  row_begin, row_end, act, act_row_bytes, n_tokens, y, y_stride);   \
  }

DEFINE_LEGACY_ROWS (avx2_rows_q4_0, K_Q4_0, 18)
DEFINE_LEGACY_ROWS (avx2_rows_q4_1, K_Q4_1, 20)
DEFINE_LEGACY_ROWS (avx2_rows_q5_0, K_Q5_0, 22)
DEFINE_LEGACY_ROWS (avx2_rows_q5_1, K_Q5_1, 24)
DEFINE_LEGACY_ROWS (avx2_rows_q8_0, K_Q8_0, 34)
DEFINE_AVX2_ROWS (avx2_rows_q2_k, K_Q2_K, 256, 84, PonderActQ8K)
DEFINE_AVX2_ROWS (avx2_rows_q3_k, K_Q3_K, 256, 110, PonderActQ8K)
DEFINE_AVX2_ROWS (avx2_rows_q5_k, K_Q5_K, 256, 176, PonderActQ8K)

/* K-quant kinds with a one-token sweep of their own. */
#define DEFINE_K_DECODE_ROWS(name, kind, bytes, decode)                             \
  static AVX2_FN void                                                               \
  name (const uint8_t *weight, size_t row_bytes, size_t n, size_t row_begin,        \
        size_t row_end, const uint8_t *act, size_t act_row_bytes, size_t n_tokens,  \
        float *y, size_t y_stride)                                                  \
  {                                                                                 \
    if (n_tokens == 1)                                                              \
      decode (weight, row_bytes, n / 256, row_begin, row_end,                       \
              (const PonderActQ8K *) act, y);                                       \
    else                                                                            \
      rows_quant (kind, 256, bytes, sizeof (PonderActQ8K), weight, row_bytes, n,    \
                  row_begin, row_end, act, act_row_bytes, n_tokens, y, y_stride);   \
  }
DEFINE_K_DECODE_ROWS (avx2_rows_q4_k, K_Q4_K, 144, q4k_rows_decode)
#ifdef X86_VNNI
DEFINE_K_DECODE_ROWS (avx2_rows_q6_k, K_Q6_K, 210, q6k_rows_decode)
#else
DEFINE_AVX2_ROWS (avx2_rows_q6_k, K_Q6_K, 256, 210, PonderActQ8K)
#endif

/* ---- float weights ------------------------------------------------------------ */

enum
{
  K_F32, K_F16, K_BF16
};

/* 8 weights from w (element i0) as floats. */
AVX2_INLINE __m256
load_w8 (int kind, const uint8_t *w, size_t i0)
{
  switch (kind)
    {
    case K_F16:
      return _mm256_cvtph_ps (loadu128 (w + 2 * i0));
    case K_BF16:
      return _mm256_castsi256_ps (_mm256_slli_epi32 (
               _mm256_cvtepu16_epi32 (loadu128 (w + 2 * i0)), 16));
    case K_F32:
    default:
      return _mm256_loadu_ps ((const float *) (w + 4 * i0));
    }
}

AVX2_INLINE float
load_w1 (int kind, const uint8_t *w, size_t i)
{
  float v;

  switch (kind)
    {
    case K_F16:
      return f16 (w + 2 * i);
    case K_BF16:
      return ponder_bf16_to_fp32 ((uint16_t) (w[2 * i] | (w[2 * i + 1] << 8)));
    case K_F32:
    default:
      memcpy (&v, w + 4 * i, 4);
      return v;
    }
}

AVX2_INLINE void
float_row_tile (int            kind,
                const uint8_t *wr,
                size_t         n,
                const uint8_t *act,
                size_t         act_row_bytes,
                int            nt,
                float         *y,
                size_t         y_stride)
{
  __m256 acc[MAX_TILE];
  size_t i = 0;

  for (int t = 0; t < nt; t++)
    acc[t] = _mm256_setzero_ps ();
  for (; i + 8 <= n; i += 8)
    {
      __m256 wv = load_w8 (kind, wr, i);

      for (int t = 0; t < nt; t++)
        acc[t] = _mm256_fmadd_ps (wv, _mm256_loadu_ps ((const float *) (act + t * act_row_bytes) + i),
                                  acc[t]);
    }
  for (int t = 0; t < nt; t++)
    {
      const float *x = (const float *) (act + t * act_row_bytes);
      float s = hsum_ps (acc[t]);

      for (size_t k = i; k < n; k++)
        s += load_w1 (kind, wr, k) * x[k];
      y[t * y_stride] = s;
    }
}

AVX2_INLINE void
rows_float (int            kind,
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
  for (size_t r = row_begin; r < row_end; r++)
    for (size_t t0 = 0; t0 < n_tokens; t0 += 4)
      {
        const uint8_t *wr = weight + r * row_bytes;
        const uint8_t *at = act + t0 * act_row_bytes;
        float *yt = y + t0 * y_stride + r;

        switch (n_tokens - t0)
          {
          case 1:  float_row_tile (kind, wr, n, at, act_row_bytes, 1, yt, y_stride); break;
          case 2:  float_row_tile (kind, wr, n, at, act_row_bytes, 2, yt, y_stride); break;
          case 3:  float_row_tile (kind, wr, n, at, act_row_bytes, 3, yt, y_stride); break;
          default: float_row_tile (kind, wr, n, at, act_row_bytes, 4, yt, y_stride); break;
          }
      }
}

#define DEFINE_AVX2_FLOAT_ROWS(name, kind)                                           \
  static AVX2_FN void                                                               \
  name (const uint8_t *weight, size_t row_bytes, size_t n, size_t row_begin,        \
        size_t row_end, const uint8_t *act, size_t act_row_bytes, size_t n_tokens,  \
        float *y, size_t y_stride)                                                  \
  {                                                                                 \
    rows_float (kind, weight, row_bytes, n, row_begin, row_end, act, act_row_bytes, \
                n_tokens, y, y_stride);                                             \
  }

DEFINE_AVX2_FLOAT_ROWS (avx2_rows_f32, K_F32)
DEFINE_AVX2_FLOAT_ROWS (avx2_rows_f16, K_F16)
DEFINE_AVX2_FLOAT_ROWS (avx2_rows_bf16, K_BF16)

/* ---- activation conversion ------------------------------------------------------ */

/* Same formulas as the generic converters (d = amax / 127, q = round to
 * nearest even of x / d), so both variants produce identical blocks. */
AVX2_INLINE __m256
abs_ps (__m256 v)
{
  return _mm256_andnot_ps (_mm256_set1_ps (-0.0f), v);
}

AVX2_INLINE float
hmax_ps (__m256 v)
{
  __m128 m = _mm_max_ps (_mm256_castps256_ps128 (v), _mm256_extractf128_ps (v, 1));

  m = _mm_max_ps (m, _mm_movehl_ps (m, m));
  m = _mm_max_ss (m, _mm_movehdup_ps (m));
  return _mm_cvtss_f32 (m);
}

AVX2_INLINE int
hsum_epi32 (__m256i v)
{
  __m128i s = _mm_add_epi32 (_mm256_castsi256_si128 (v), _mm256_extracti128_si256 (v, 1));

  s = _mm_add_epi32 (s, _mm_shuffle_epi32 (s, 0x4e));
  s = _mm_add_epi32 (s, _mm_shuffle_epi32 (s, 0xb1));
  return _mm_cvtsi128_si32 (s);
}

/* Quantises 32 floats with inverse scale id into 32 int8 at dst; returns
 * the sums of the first and the second 16. */
AVX2_INLINE void
quantize_32 (const float *x, __m256 id, int8_t *dst, int *sum_lo, int *sum_hi)
{
  __m256i i0 = _mm256_cvtps_epi32 (_mm256_mul_ps (_mm256_loadu_ps (x), id));
  __m256i i1 = _mm256_cvtps_epi32 (_mm256_mul_ps (_mm256_loadu_ps (x + 8), id));
  __m256i i2 = _mm256_cvtps_epi32 (_mm256_mul_ps (_mm256_loadu_ps (x + 16), id));
  __m256i i3 = _mm256_cvtps_epi32 (_mm256_mul_ps (_mm256_loadu_ps (x + 24), id));
  __m256i p01 = _mm256_packs_epi32 (i0, i1);
  __m256i p23 = _mm256_packs_epi32 (i2, i3);
  __m256i p = _mm256_packs_epi16 (p01, p23);

  /* packs works per 128-bit lane: dword order 0 2 4 6 1 3 5 7 -> restore. */
  p = _mm256_permutevar8x32_epi32 (p, _mm256_setr_epi32 (0, 4, 1, 5, 2, 6, 3, 7));
  _mm256_storeu_si256 ((__m256i *) dst, p);
  *sum_lo = hsum_epi32 (_mm256_add_epi32 (i0, i1));
  *sum_hi = hsum_epi32 (_mm256_add_epi32 (i2, i3));
}

static AVX2_FN void
avx2_prepare_q8 (const float *x, size_t n, void *dst)
{
  PonderActQ8 *blocks = dst;  /* (n / 32) */

  for (size_t b = 0; b < n / 32; b++)
    {
      const float *xb = x + 32 * b;
      __m256 m = _mm256_max_ps (_mm256_max_ps (abs_ps (_mm256_loadu_ps (xb)),
                                               abs_ps (_mm256_loadu_ps (xb + 8))),
                                _mm256_max_ps (abs_ps (_mm256_loadu_ps (xb + 16)),
                                               abs_ps (_mm256_loadu_ps (xb + 24))));
      float d = hmax_ps (m) / 127.0f;
      float id = d != 0.0f ? 1.0f / d : 0.0f;
      int lo, hi;

      quantize_32 (xb, _mm256_set1_ps (id), blocks[b].qs, &lo, &hi);
      blocks[b].d = d;
      blocks[b].sum = lo + hi;
      blocks[b].neg_sum = -(lo + hi);
      blocks[b].neg2_sum = -2 * (lo + hi);
    }
}

static AVX2_FN void
avx2_prepare_q8k (const float *x, size_t n, void *dst)
{
  PonderActQ8K *blocks = dst;  /* (n / 256) */

  for (size_t b = 0; b < n / 256; b++)
    {
      const float *xb = x + 256 * b;
      __m256 m = _mm256_setzero_ps ();
      float d, id;

      for (int i = 0; i < 256; i += 8)
        m = _mm256_max_ps (m, abs_ps (_mm256_loadu_ps (xb + i)));
      d = hmax_ps (m) / 127.0f;
      id = d != 0.0f ? 1.0f / d : 0.0f;
      for (int k = 0; k < 8; k++)
        {
          int lo, hi;

          quantize_32 (xb + 32 * k, _mm256_set1_ps (id), blocks[b].qs + 32 * k, &lo, &hi);
          blocks[b].bsums[2 * k] = (int16_t) lo;
          blocks[b].bsums[2 * k + 1] = (int16_t) hi;
          blocks[b].bsums32[k] = (int16_t) (lo + hi);
        }
      memset (blocks[b].pad, 0, sizeof blocks[b].pad);
      blocks[b].d = d;
    }
}

PonderPrepareFn
X86_PREPARE_FN (PonderActFormat act)
{
  switch (act)
    {
    case PONDER_ACT_Q8:  return avx2_prepare_q8;
    case PONDER_ACT_Q8K: return avx2_prepare_q8k;
    case PONDER_ACT_F32:
    default:             return NULL;
    }
}

PonderRowsFn
X86_ROWS_FN (PonderType type)
{
  switch (type)
    {
    case PONDER_TYPE_F32:  return avx2_rows_f32;
    case PONDER_TYPE_F16:  return avx2_rows_f16;
    case PONDER_TYPE_BF16: return avx2_rows_bf16;
    case PONDER_TYPE_Q4_0: return avx2_rows_q4_0;
    case PONDER_TYPE_Q4_1: return avx2_rows_q4_1;
    case PONDER_TYPE_Q5_0: return avx2_rows_q5_0;
    case PONDER_TYPE_Q5_1: return avx2_rows_q5_1;
    case PONDER_TYPE_Q8_0: return avx2_rows_q8_0;
    case PONDER_TYPE_Q2_K: return avx2_rows_q2_k;
    case PONDER_TYPE_Q3_K: return avx2_rows_q3_k;
    case PONDER_TYPE_Q4_K: return avx2_rows_q4_k;
    case PONDER_TYPE_Q5_K: return avx2_rows_q5_k;
    case PONDER_TYPE_Q6_K: return avx2_rows_q6_k;
    default:               return NULL;
    }
}

#else /* not x86 */

PonderRowsFn
X86_ROWS_FN (PonderType type)
{
  return NULL;
}

PonderPrepareFn
X86_PREPARE_FN (PonderActFormat act)
{
  return NULL;
}

#endif
