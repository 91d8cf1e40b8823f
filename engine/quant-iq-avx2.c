/* quant-iq-avx2.c: AVX2 kernels of the IQ weight formats for quant-matmul.c.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Decode rules: engine-spec 2.5 and the generic kernels in quant-iq.c, whose
 * integer sums these reproduce exactly. Every format is brought to the same
 * shape per group of 32 weights: a vector of unsigned magnitudes and a vector
 * whose signs are applied to the activations (_mm256_sign_epi8), so that one
 * maddubs gives 16 int16 pair sums, which a madd (vpdpwssd with VNNI)
 * multiplies by the group's integer scale (one per 16 or per 32 lanes) into
 * int32 lanes. A block's sum then gets its float factor with one FMA.
 *   - grids with separate signs (IQ2_*, IQ3_*): magnitudes are the grid
 *     bytes, gathered with 4 (u64) or 8 (u32) table loads; signs +-1 bytes;
 *   - IQ1_S / IQ1_M: weights 8 * lane +- 1 (the delta of 1/8 folded in, and
 *     the group scale divided by 8 later), |w| <= 9;
 *   - IQ4_NL / IQ4_XS: kvalues looked up with pshufb (none is -128).
 * Decode unpacks each block once per tile of tokens; prefill (more tokens
 * than a tile) unpacks a row once into a buffer that every tile reads.
 * quant-iq-avx512.c includes this file with X86_VNNI defined.
 */
#include "quant-matmul-private.h"

#include <stddef.h>
#include <stdlib.h>

#ifndef X86_TARGET
#define X86_TARGET     "avx2,fma,f16c"
#define X86_IQ_ROWS_FN ponder_matmul_iq_avx2_rows
#define MAX_TILE       4
#endif

#if defined(__x86_64__) || defined(__i386__)

#include "quant-matmul-x86.h"

#define QS_Q8K offsetof (PonderActQ8K, qs)
#define QS_Q8  offsetof (PonderActQ8, qs)

/* 0xff in byte i where bit i of bits is set (byte k of bits holds lanes
 * 8k .. 8k + 7), else 0. */
AVX2_INLINE __m256i
bits_to_bytes (uint32_t bits)
{
  __m256i v = _mm256_set1_epi32 ((int) bits);
  __m256i sel = _mm256_set_epi64x (0x0303030303030303LL, 0x0202020202020202LL,
                                   0x0101010101010101LL, 0x0000000000000000LL);
  __m256i mask = _mm256_set1_epi64x ((long long) 0x8040201008040201ULL);

  v = _mm256_shuffle_epi8 (v, sel);
  return _mm256_cmpeq_epi8 (_mm256_and_si256 (v, mask), mask);
}

/* -1 where the sign bit is set, else +1. */
AVX2_INLINE __m256i
sign_bytes (uint32_t bits)
{
  return _mm256_or_si256 (bits_to_bytes (bits), _mm256_set1_epi8 (1));
}

/* +-1 bytes of four ksigns masks (7-bit keys k0..k3 for lanes 0-7, ..., 24-31). */
AVX2_INLINE __m256i
ksign_bytes (uint32_t k0, uint32_t k1, uint32_t k2, uint32_t k3)
{
  __m256i m = _mm256_set_epi64x ((long long) ponder_ksigns64[k3], (long long) ponder_ksigns64[k2],
                                 (long long) ponder_ksigns64[k1], (long long) ponder_ksigns64[k0]);

  return _mm256_or_si256 (m, _mm256_set1_epi8 (1));
}

/* The same for the four keys at bits 0, 7, 14, 21 of u. */
AVX2_INLINE __m256i
ksign_bytes_packed (uint32_t u)
{
  return ksign_bytes (u & 127, (u >> 7) & 127, (u >> 14) & 127, (u >> 21) & 127);
}

AVX2_INLINE uint32_t
load_u32 (const uint8_t *p)
{
  uint32_t u;

  memcpy (&u, p, 4);  /* x86: little-endian */
  return u;
}

AVX2_INLINE __m256i
scale_per_32 (int s)
{
  return _mm256_set1_epi16 ((short) s);
}

AVX2_INLINE __m256i
scale_per_16 (int lo, int hi)
{
  return _mm256_set_m128i (_mm_set1_epi16 ((short) hi), _mm_set1_epi16 ((short) lo));
}

/* sumi[t] += scale16 * pair sums of mag * (token t's 32 activations at byte
 * qs_off, negated where sgn < 0). */
AVX2_INLINE void
group_dot (__m256i        mag,
           __m256i        sgn,
           __m256i        scale16,
           const uint8_t *act,
           size_t         act_row_bytes,
           size_t         qs_off,
           int            nt,
           __m256i       *sumi)
{
  for (int t = 0; t < nt; t++)
    {
      __m256i a = loadu (act + t * act_row_bytes + qs_off);
      __m256i p = _mm256_maddubs_epi16 (mag, _mm256_sign_epi8 (a, sgn));

      sumi[t] = madd_add (sumi[t], p, scale16);
    }
}

/* acc[t] += factor * d of token t * sumi[t] (d is the first field of both
 * activation block types). */
AVX2_INLINE void
finish (float          factor,
        const uint8_t *act,
        size_t         act_row_bytes,
        int            nt,
        const __m256i *sumi,
        Tile          *tile)
{
  for (int t = 0; t < nt; t++)
    {
      float da;

      memcpy (&da, act + t * act_row_bytes, sizeof da);
      tile->acc[t] = _mm256_fmadd_ps (_mm256_set1_ps (factor * da), _mm256_cvtepi32_ps (sumi[t]),
                                      tile->acc[t]);
    }
}

AVX2_INLINE void
zero_sums (__m256i *sumi, int nt)
{
  for (int t = 0; t < nt; t++)
    sumi[t] = _mm256_setzero_si256 ();
}

/* ---- unpacking one group of 32 weights ------------------------------------------
 *
 * Each returns the group's magnitudes in *mag, the vector whose signs go to
 * the activations in *sgn and its int16 scales in *scale (per 16 lanes). */

typedef struct
{
  __m256i mag;
  __m256i sgn;
  __m256i scale;
} Group;

AVX2_INLINE void
iq2xxs_group (const uint8_t *w, int ib, Group *o)
{
  const uint8_t *g = w + 2 + 8 * ib;
  uint32_t u = load_u32 (g + 4);

  o->mag = _mm256_set_epi64x ((long long) ponder_iq2xxs_grid[g[3]],
                              (long long) ponder_iq2xxs_grid[g[2]],
                              (long long) ponder_iq2xxs_grid[g[1]],
                              (long long) ponder_iq2xxs_grid[g[0]]);
  o->sgn = ksign_bytes_packed (u);
  o->scale = scale_per_32 ((int) (2 * (u >> 28) + 1));
}

AVX2_INLINE void
iq2xs_group (const uint8_t *w, int ib, Group *o)
{
  uint16_t v[4];
  int sc = w[66 + ib];

  memcpy (v, w + 2 + 8 * ib, 8);
  o->mag = _mm256_set_epi64x ((long long) ponder_iq2xs_grid[v[3] & 511],
                              (long long) ponder_iq2xs_grid[v[2] & 511],
                              (long long) ponder_iq2xs_grid[v[1] & 511],
                              (long long) ponder_iq2xs_grid[v[0] & 511]);
  o->sgn = ksign_bytes (v[0] >> 9, v[1] >> 9, v[2] >> 9, v[3] >> 9);
  o->scale = scale_per_16 (2 * (sc & 15) + 1, 2 * (sc >> 4) + 1);
}

AVX2_INLINE void
iq2s_group (const uint8_t *w, int ib, Group *o)
{
  const uint8_t *q = w + 2 + 4 * ib;
  unsigned h = w[66 + ib];
  int sc = w[74 + ib];

  o->mag = _mm256_set_epi64x ((long long) ponder_iq2s_grid[q[3] | ((h << 2) & 0x300)],
                              (long long) ponder_iq2s_grid[q[2] | ((h << 4) & 0x300)],
                              (long long) ponder_iq2s_grid[q[1] | ((h << 6) & 0x300)],
                              (long long) ponder_iq2s_grid[q[0] | ((h << 8) & 0x300)]);
  o->sgn = sign_bytes (load_u32 (w + 34 + 4 * ib));
  o->scale = scale_per_16 (2 * (sc & 15) + 1, 2 * (sc >> 4) + 1);
}

AVX2_INLINE void
iq3xxs_group (const uint8_t *w, int ib, Group *o)
{
  const uint8_t *q = w + 2 + 8 * ib;
  uint32_t u = load_u32 (w + 66 + 4 * ib);

  o->mag = _mm256_set_epi32 ((int) ponder_iq3xxs_grid[q[7]], (int) ponder_iq3xxs_grid[q[6]],
                             (int) ponder_iq3xxs_grid[q[5]], (int) ponder_iq3xxs_grid[q[4]],
                             (int) ponder_iq3xxs_grid[q[3]], (int) ponder_iq3xxs_grid[q[2]],
                             (int) ponder_iq3xxs_grid[q[1]], (int) ponder_iq3xxs_grid[q[0]]);
  o->sgn = ksign_bytes_packed (u);
  o->scale = scale_per_32 ((int) (2 * (u >> 28) + 1));
}

AVX2_INLINE void
iq3s_group (const uint8_t *w, int ib, Group *o)
{
  const uint8_t *q = w + 2 + 8 * ib;
  unsigned h = w[66 + ib];
  int nib = (w[106 + ib / 2] >> (4 * (ib % 2))) & 15;

  o->mag = _mm256_set_epi32 ((int) ponder_iq3s_grid[q[7] | ((h << 1) & 256)],
                             (int) ponder_iq3s_grid[q[6] | ((h << 2) & 256)],
                             (int) ponder_iq3s_grid[q[5] | ((h << 3) & 256)],
                             (int) ponder_iq3s_grid[q[4] | ((h << 4) & 256)],
                             (int) ponder_iq3s_grid[q[3] | ((h << 5) & 256)],
                             (int) ponder_iq3s_grid[q[2] | ((h << 6) & 256)],
                             (int) ponder_iq3s_grid[q[1] | ((h << 7) & 256)],
                             (int) ponder_iq3s_grid[q[0] | ((h << 8) & 256)]);
  o->sgn = sign_bytes (load_u32 (w + 74 + 4 * ib));
  o->scale = scale_per_32 (1 + 2 * nib);
}

/* Signed weights w: magnitudes |w|, signs from w itself. */
AVX2_INLINE void
signed_group (__m256i wv, __m256i scale, Group *o)
{
  o->mag = _mm256_abs_epi8 (wv);
  o->sgn = wv;
  o->scale = scale;
}

/* 8 * lane + delta_k for four iq1s entries; delta_k (+-1) per entry. */
AVX2_INLINE __m256i
iq1_weights (uint32_t i0, uint32_t i1, uint32_t i2, uint32_t i3, __m256i delta)
{
  __m256i g = _mm256_set_epi64x ((long long) ponder_iq1s_grid[i3],
                                 (long long) ponder_iq1s_grid[i2],
                                 (long long) ponder_iq1s_grid[i1],
                                 (long long) ponder_iq1s_grid[i0]);

  g = _mm256_add_epi8 (g, g);
  g = _mm256_add_epi8 (g, g);
  g = _mm256_add_epi8 (g, g);
  return _mm256_add_epi8 (g, delta);
}

AVX2_INLINE long long
delta8 (bool neg)
{
  return neg ? -1LL : 0x0101010101010101LL;
}

AVX2_INLINE void
iq1s_group (const uint8_t *w, int ib, Group *o)
{
  const uint8_t *q = w + 2 + 4 * ib;
  uint32_t h = (uint32_t) w[34 + 2 * ib] | ((uint32_t) w[35 + 2 * ib] << 8);
  __m256i wv = iq1_weights (q[0] | ((h << 8) & 0x700), q[1] | ((h << 5) & 0x700),
                            q[2] | ((h << 2) & 0x700), q[3] | ((h >> 1) & 0x700),
                            _mm256_set1_epi64x (delta8 (h & 0x8000)));

  signed_group (wv, scale_per_32 ((int) (2 * ((h >> 12) & 7) + 1)), o);
}

AVX2_INLINE void
iq1m_group (const uint8_t *w, int ib, Group *o)
{
  const uint8_t *q = w + 4 * ib;
  unsigned a = w[32 + 2 * ib], b = w[33 + 2 * ib];
  unsigned t = ((unsigned) w[48 + 2 * (ib / 2)] | ((unsigned) w[49 + 2 * (ib / 2)] << 8))
               >> (6 * (ib % 2));
  __m256i delta = _mm256_set_epi64x (delta8 (b & 0x80), delta8 (b & 0x08),
                                     delta8 (a & 0x80), delta8 (a & 0x08));
  __m256i wv = iq1_weights (q[0] | ((a << 8) & 0x700), q[1] | ((a << 4) & 0x700),
                            q[2] | ((b << 8) & 0x700), q[3] | ((b << 4) & 0x700), delta);

  signed_group (wv, scale_per_16 ((int) (2 * (t & 7) + 1), (int) (2 * ((t >> 3) & 7) + 1)), o);
}

/* IQ1_M's f16 super-block scale, spread over the top nibbles of its scales. */
AVX2_INLINE float
iq1m_d (const uint8_t *w)
{
  uint16_t sc[4];

  memcpy (sc, w + 48, 8);
  return _cvtsh_ss ((uint16_t) ((sc[0] >> 12) | ((sc[1] >> 8) & 0x00f0)
                                | ((sc[2] >> 4) & 0x0f00) | (sc[3] & 0xf000)));
}

/* The 32 kvalues of qs[16] (low nibbles = elements 0..15, high = 16..31). */
AVX2_INLINE __m256i
iq4_weights (const uint8_t *qs)
{
  __m256i kv = _mm256_broadcastsi128_si256 (loadu128 (ponder_kvalues_iq4nl));
  __m128i b = loadu128 (qs);
  __m256i idx = _mm256_and_si256 (_mm256_set_m128i (_mm_srli_epi16 (b, 4), b),
                                  _mm256_set1_epi8 (15));

  return _mm256_shuffle_epi8 (kv, idx);
}

AVX2_INLINE void
iq4xs_group (const uint8_t *w, int ib, Group *o)
{
  uint32_t sh = (uint32_t) w[2] | ((uint32_t) w[3] << 8);
  int ls = ((w[4 + ib / 2] >> (4 * (ib % 2))) & 15) | (int) (((sh >> (2 * ib)) & 3) << 4);

  signed_group (iq4_weights (w + 8 + 16 * ib), scale_per_32 (ls - 32), o);
}

/* ---- blocks and rows -------------------------------------------------------------- */

enum
{
  K_IQ2_XXS, K_IQ2_XS, K_IQ2_S, K_IQ3_XXS, K_IQ3_S, K_IQ1_S, K_IQ1_M, K_IQ4_NL, K_IQ4_XS
};

AVX2_INLINE void
unpack_group (int kind, const uint8_t *w, int ib, Group *o)
{
  switch (kind)
    {
    case K_IQ2_XXS: iq2xxs_group (w, ib, o); break;
    case K_IQ2_XS:  iq2xs_group (w, ib, o); break;
    case K_IQ2_S:   iq2s_group (w, ib, o); break;
    case K_IQ3_XXS: iq3xxs_group (w, ib, o); break;
    case K_IQ3_S:   iq3s_group (w, ib, o); break;
    case K_IQ1_S:   iq1s_group (w, ib, o); break;
    case K_IQ1_M:   iq1m_group (w, ib, o); break;
    case K_IQ4_NL:  signed_group (iq4_weights (w + 2), scale_per_32 (1), o); break;
    case K_IQ4_XS:
    default:        iq4xs_group (w, ib, o); break;
    }
}

/* The float that turns a block's integer sum into weight units (the
 * activation scale aside): d times the fraction the group scales left out. */
AVX2_INLINE float
block_factor (int kind, const uint8_t *w)
{
  switch (kind)
    {
    case K_IQ2_XXS:
    case K_IQ2_XS:
    case K_IQ2_S:
    case K_IQ1_S:   return f16 (w) * 0.125f;
    case K_IQ3_XXS: return f16 (w) * 0.25f;
    case K_IQ1_M:   return iq1m_d (w) * 0.125f;
    default:        return f16 (w);
    }
}

AVX2_INLINE int
n_groups (int kind)
{
  return kind == K_IQ4_NL ? 1 : 8;
}

AVX2_INLINE size_t
qs_offset (int kind)
{
  return kind == K_IQ4_NL ? QS_Q8 : QS_Q8K;
}

AVX2_INLINE void
block_dispatch (int kind, const uint8_t *w, const uint8_t *act, size_t act_row_bytes, int nt,
                Tile *tile)
{
  __m256i sumi[MAX_TILE];

  zero_sums (sumi, nt);
  for (int ib = 0; ib < n_groups (kind); ib++)
    {
      Group g;

      unpack_group (kind, w, ib, &g);
      group_dot (g.mag, g.sgn, g.scale, act, act_row_bytes, qs_offset (kind) + 32 * ib, nt,
                 sumi);
    }
  finish (block_factor (kind, w), act, act_row_bytes, nt, sumi, tile);
}

#include "quant-matmul-x86-rows.h"

/* Prefill: more tokens than a tile. Each row is unpacked once into groups
 * (96 bytes per 32 weights, in L1/L2) and every tile of tokens reads those,
 * instead of unpacking the row again per tile. */
AVX2_INLINE void
cached_tile (int            kind,
             const Group   *groups,
             const float   *factors,
             size_t         n_blocks,
             size_t         act_block_bytes,
             const uint8_t *act,
             size_t         act_row_bytes,
             int            nt,
             float         *y,
             size_t         y_stride)
{
  Tile tile;
  int ng = n_groups (kind);

  for (int t = 0; t < nt; t++)
    tile.acc[t] = _mm256_setzero_ps ();
  for (size_t b = 0; b < n_blocks; b++)
    {
      const uint8_t *ab = act + b * act_block_bytes;
      __m256i sumi[MAX_TILE];

      zero_sums (sumi, nt);
      for (int ib = 0; ib < ng; ib++)
        {
          const Group *g = &groups[b * ng + ib];

          group_dot (g->mag, g->sgn, g->scale, ab, act_row_bytes, qs_offset (kind) + 32 * ib,
                     nt, sumi);
        }
      finish (factors[b], ab, act_row_bytes, nt, sumi, &tile);
    }
  for (int t = 0; t < nt; t++)
    y[t * y_stride] = hsum_ps (tile.acc[t]);
}

AVX2_INLINE void
rows_iq (int            kind,
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
  int ng = n_groups (kind);
  Group *groups;
  float *factors;

  groups = n_tokens > MAX_TILE ? aligned_alloc (32, n_blocks * ng * sizeof (Group)) : NULL;
  factors = groups != NULL ? malloc (n_blocks * sizeof (float)) : NULL;
  if (factors == NULL)
    {
      free (groups);
      rows_quant (kind, block_elems, block_bytes, act_block_bytes, weight, row_bytes, n,
                  row_begin, row_end, act, act_row_bytes, n_tokens, y, y_stride);
      return;
    }
  for (size_t r = row_begin; r < row_end; r++)
    {
      const uint8_t *wr = weight + r * row_bytes;

      for (size_t b = 0; b < n_blocks; b++)
        {
          factors[b] = block_factor (kind, wr + b * block_bytes);
          for (int ib = 0; ib < ng; ib++)
            unpack_group (kind, wr + b * block_bytes, ib, &groups[b * ng + ib]);
        }
      for (size_t t0 = 0; t0 < n_tokens; t0 += MAX_TILE)
        {
          const uint8_t *at = act + t0 * act_row_bytes;
          float *yt = y + t0 * y_stride + r;

#define CACHED_TILE(nt)                                                              \
          cached_tile (kind, groups, factors, n_blocks, act_block_bytes, at,          \
                       act_row_bytes, nt, yt, y_stride)
          switch (n_tokens - t0)
            {
            case 1:  CACHED_TILE (1); break;
            case 2:  CACHED_TILE (2); break;
            case 3:  CACHED_TILE (3); break;
#if MAX_TILE > 4
            case 4:  CACHED_TILE (4); break;
            case 5:  CACHED_TILE (5); break;
            case 6:  CACHED_TILE (6); break;
            case 7:  CACHED_TILE (7); break;
#endif
            default: CACHED_TILE (MAX_TILE); break;
            }
#undef CACHED_TILE
        }
    }
  free (groups);
  free (factors);
}

#define DEFINE_IQ_ROWS(name, kind, elems, bytes, act_type)                           \
  static AVX2_FN void                                                               \
  name (const uint8_t *weight, size_t row_bytes, size_t n, size_t row_begin,        \
        size_t row_end, const uint8_t *act, size_t act_row_bytes, size_t n_tokens,  \
        float *y, size_t y_stride)                                                  \
  {                                                                                 \
    rows_iq (kind, elems, bytes, sizeof (act_type), weight, row_bytes, n,           \
             row_begin, row_end, act, act_row_bytes, n_tokens, y, y_stride);        \
  }

DEFINE_IQ_ROWS (iq_rows_iq2_xxs, K_IQ2_XXS, 256, 66, PonderActQ8K)
DEFINE_IQ_ROWS (iq_rows_iq2_xs, K_IQ2_XS, 256, 74, PonderActQ8K)
DEFINE_IQ_ROWS (iq_rows_iq2_s, K_IQ2_S, 256, 82, PonderActQ8K)
DEFINE_IQ_ROWS (iq_rows_iq3_xxs, K_IQ3_XXS, 256, 98, PonderActQ8K)
DEFINE_IQ_ROWS (iq_rows_iq3_s, K_IQ3_S, 256, 110, PonderActQ8K)
DEFINE_IQ_ROWS (iq_rows_iq1_s, K_IQ1_S, 256, 50, PonderActQ8K)
DEFINE_IQ_ROWS (iq_rows_iq1_m, K_IQ1_M, 256, 56, PonderActQ8K)
DEFINE_IQ_ROWS (iq_rows_iq4_nl, K_IQ4_NL, 32, 18, PonderActQ8)
DEFINE_IQ_ROWS (iq_rows_iq4_xs, K_IQ4_XS, 256, 136, PonderActQ8K)

PonderRowsFn
X86_IQ_ROWS_FN (PonderType type)
{
  switch (type)
    {
    case PONDER_TYPE_IQ2_XXS: return iq_rows_iq2_xxs;
    case PONDER_TYPE_IQ2_XS:  return iq_rows_iq2_xs;
    case PONDER_TYPE_IQ2_S:   return iq_rows_iq2_s;
    case PONDER_TYPE_IQ3_XXS: return iq_rows_iq3_xxs;
    case PONDER_TYPE_IQ3_S:   return iq_rows_iq3_s;
    case PONDER_TYPE_IQ1_S:   return iq_rows_iq1_s;
    case PONDER_TYPE_IQ1_M:   return iq_rows_iq1_m;
    case PONDER_TYPE_IQ4_NL:  return iq_rows_iq4_nl;
    case PONDER_TYPE_IQ4_XS:  return iq_rows_iq4_xs;
    default:                  return NULL;
    }
}


#else /* not x86 */

PonderRowsFn
X86_IQ_ROWS_FN (PonderType type)
{
  (void) type;
  return NULL;
}

#endif
