/* quant-iq.c: reference dequantisers and generic dot products of the IQ
 * ("importance") weight formats of the small R1 quants.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Layouts and decode rules: ../shared/docs/engine-spec.md section 2.5; the
 * codebooks are the generated quant-iq-tables.c / quant-iq1s-table.c. Grid
 * entries are read lane by lane with shifts (lane j = byte j of the entry's
 * value), so nothing here depends on the host's byte order.
 *
 * Dequantisers evaluate group scale first, then scale times the signed grid
 * value (as tests/quants_iq.py does, bit for bit). The dot products keep
 * every group scale an integer: the half steps of "d * (0.5 + s) / 4" become
 * (2s + 1) / 8 and IQ1's +-1/8 delta becomes +-sum(a) / 8, so a block is one
 * exact integer sum times one float factor.
 */
#include "quant-matmul-private.h"

static inline uint32_t
le16 (const uint8_t *p)
{
  return (uint32_t) p[0] | ((uint32_t) p[1] << 8);
}

static inline uint32_t
le32 (const uint8_t *p)
{
  return le16 (p) | (le16 (p + 2) << 16);
}

static inline int
lane8 (uint64_t entry, int j)
{
  return (int) ((entry >> (8 * j)) & 255);
}

/* Lane j of an iq1s_grid entry: int8 -1, 0 or +1. */
static inline int
lane_iq1 (uint64_t entry, int j)
{
  return (int) (int8_t) (uint8_t) (entry >> (8 * j));
}

/* 8 consecutive outputs y[j] = db * +-lane j of grid (8 lanes). */
static inline void
put8 (float *y, float db, uint64_t grid, unsigned signs)
{
  for (int j = 0; j < 8; j++)
    {
      int v = lane8 (grid, j);

      y[j] = db * (float) ((signs >> j) & 1 ? -v : v);
    }
}

/* As put8 for two 4-lane (u32) entries: lanes 0-3 from g0, 4-7 from g1. */
static inline void
put4x2 (float *y, float db, uint32_t g0, uint32_t g1, unsigned signs)
{
  uint64_t grid = (uint64_t) g0 | ((uint64_t) g1 << 32);

  put8 (y, db, grid, signs);
}

/* ---- reference dequantisers (one block each) ------------------------------ */

static void
dequant_iq2_xxs (const uint8_t *b, float *y)  /* 66 bytes */
{
  float d = ponder_load_f16 (b);

  for (int ib = 0; ib < 8; ib++)
    {
      const uint8_t *g = b + 2 + 8 * ib;
      uint32_t w = le32 (g + 4);
      float db = d * (0.5f + (float) (w >> 28)) * 0.25f;

      for (int l = 0; l < 4; l++)
        put8 (y + 32 * ib + 8 * l, db, ponder_iq2xxs_grid[g[l]],
              ponder_ksigns_iq2xs[(w >> (7 * l)) & 127]);
    }
}

static void
dequant_iq2_xs (const uint8_t *b, float *y)  /* 74 bytes */
{
  float d = ponder_load_f16 (b);

  for (int ib = 0; ib < 8; ib++)
    {
      uint8_t sc = b[66 + ib];
      float db[2] = { d * (0.5f + (float) (sc & 15)) * 0.25f,
                      d * (0.5f + (float) (sc >> 4)) * 0.25f };

      for (int l = 0; l < 4; l++)
        {
          uint32_t v = le16 (b + 2 + 2 * (4 * ib + l));

          put8 (y + 32 * ib + 8 * l, db[l / 2], ponder_iq2xs_grid[v & 511],
                ponder_ksigns_iq2xs[v >> 9]);
        }
    }
}

static void
dequant_iq2_s (const uint8_t *b, float *y)  /* 82 bytes */
{
  float d = ponder_load_f16 (b);
  const uint8_t *qs = b + 2, *signs = b + 34, *qh = b + 66, *scales = b + 74;

  for (int ib = 0; ib < 8; ib++)
    {
      float db[2] = { d * (0.5f + (float) (scales[ib] & 15)) * 0.25f,
                      d * (0.5f + (float) (scales[ib] >> 4)) * 0.25f };

      for (int l = 0; l < 4; l++)
        {
          uint32_t idx = qs[4 * ib + l] | (((qh[ib] >> (2 * l)) & 3u) << 8);

          put8 (y + 32 * ib + 8 * l, db[l / 2], ponder_iq2s_grid[idx], signs[4 * ib + l]);
        }
    }
}

static void
dequant_iq3_xxs (const uint8_t *b, float *y)  /* 98 bytes */
{
  float d = ponder_load_f16 (b);
  const uint8_t *qs = b + 2;

  for (int ib = 0; ib < 8; ib++)
    {
      uint32_t w = le32 (b + 66 + 4 * ib);
      float db = d * (0.5f + (float) (w >> 28)) * 0.5f;

      for (int l = 0; l < 4; l++)
        put4x2 (y + 32 * ib + 8 * l, db, ponder_iq3xxs_grid[qs[8 * ib + 2 * l]],
                ponder_iq3xxs_grid[qs[8 * ib + 2 * l + 1]],
                ponder_ksigns_iq2xs[(w >> (7 * l)) & 127]);
    }
}

static void
dequant_iq3_s (const uint8_t *b, float *y)  /* 110 bytes */
{
  float d = ponder_load_f16 (b);
  const uint8_t *qs = b + 2, *qh = b + 66, *signs = b + 74, *scales = b + 106;

  for (int ib = 0; ib < 8; ib++)
    {
      float db = d * (float) (1 + 2 * ((scales[ib / 2] >> (4 * (ib % 2))) & 15));

      for (int l = 0; l < 4; l++)
        {
          int k = 2 * l;
          uint32_t i0 = qs[8 * ib + k] | (((qh[ib] >> k) & 1u) << 8);
          uint32_t i1 = qs[8 * ib + k + 1] | (((qh[ib] >> (k + 1)) & 1u) << 8);

          put4x2 (y + 32 * ib + 8 * l, db, ponder_iq3s_grid[i0], ponder_iq3s_grid[i1],
                  signs[4 * ib + l]);
        }
    }
}

static void
dequant_iq1_s (const uint8_t *b, float *y)  /* 50 bytes */
{
  float d = ponder_load_f16 (b);

  for (int ib = 0; ib < 8; ib++)
    {
      uint32_t w = le16 (b + 34 + 2 * ib);
      float dl = d * (float) (2 * ((w >> 12) & 7) + 1);
      float delta = (w & 0x8000) ? -0.125f : 0.125f;

      for (int l = 0; l < 4; l++)
        {
          uint64_t g = ponder_iq1s_grid[b[2 + 4 * ib + l] | (((w >> (3 * l)) & 7) << 8)];

          for (int j = 0; j < 8; j++)
            y[32 * ib + 8 * l + j] = dl * ((float) lane_iq1 (g, j) + delta);
        }
    }
}

/* IQ1_M's super-block scale: an f16 spread over the top nibbles of the four
 * u16 scale words; sc receives the words. */
static float
iq1m_scale (const uint8_t *b, uint32_t sc[4])
{
  for (int k = 0; k < 4; k++)
    sc[k] = le16 (b + 48 + 2 * k);
  return ponder_fp16_to_fp32 ((uint16_t) ((sc[0] >> 12) | ((sc[1] >> 8) & 0x00f0)
                                          | ((sc[2] >> 4) & 0x0f00) | (sc[3] & 0xf000)));
}

/* Index and delta sign of 8-group l (0..3) of IQ1_M group ib. */
static inline uint32_t
iq1m_index (const uint8_t *b, int ib, int l, bool *neg)
{
  uint32_t h = b[32 + 2 * ib + l / 2] >> (4 * (l % 2));

  *neg = (h & 8) != 0;
  return b[4 * ib + l] | ((h & 7) << 8);
}

static void
dequant_iq1_m (const uint8_t *b, float *y)  /* 56 bytes */
{
  uint32_t sc[4];
  float d = iq1m_scale (b, sc);

  for (int ib = 0; ib < 8; ib++)
    {
      uint32_t t = sc[ib / 2] >> (6 * (ib % 2));
      float dl[2] = { d * (float) (2 * (t & 7) + 1), d * (float) (2 * ((t >> 3) & 7) + 1) };

      for (int l = 0; l < 4; l++)
        {
          bool neg;
          uint64_t g = ponder_iq1s_grid[iq1m_index (b, ib, l, &neg)];
          float delta = neg ? -0.125f : 0.125f;

          for (int j = 0; j < 8; j++)
            y[32 * ib + 8 * l + j] = dl[l / 2] * ((float) lane_iq1 (g, j) + delta);
        }
    }
}

static void
dequant_iq4_nl (const uint8_t *b, float *y)  /* 18 bytes */
{
  float d = ponder_load_f16 (b);

  for (int j = 0; j < 16; j++)
    {
      y[j] = d * (float) ponder_kvalues_iq4nl[b[2 + j] & 15];
      y[j + 16] = d * (float) ponder_kvalues_iq4nl[b[2 + j] >> 4];
    }
}

/* Six-bit scale (0..63, before the -32 offset) of IQ4_XS group ib. */
static inline int
iq4xs_scale (const uint8_t *b, int ib)
{
  return ((b[4 + ib / 2] >> (4 * (ib % 2))) & 15) | (((le16 (b + 2) >> (2 * ib)) & 3) << 4);
}

static void
dequant_iq4_xs (const uint8_t *b, float *y)  /* 136 bytes */
{
  float d = ponder_load_f16 (b);

  for (int ib = 0; ib < 8; ib++)
    {
      float dl = d * (float) (iq4xs_scale (b, ib) - 32);
      const uint8_t *qs = b + 8 + 16 * ib;

      for (int j = 0; j < 16; j++)
        {
          y[32 * ib + j] = dl * (float) ponder_kvalues_iq4nl[qs[j] & 15];
          y[32 * ib + 16 + j] = dl * (float) ponder_kvalues_iq4nl[qs[j] >> 4];
        }
    }
}

PonderDequantBlockFn
ponder_quant_iq_dequant_fn (PonderType type)
{
  switch (type)
    {
    case PONDER_TYPE_IQ2_XXS: return dequant_iq2_xxs;
    case PONDER_TYPE_IQ2_XS:  return dequant_iq2_xs;
    case PONDER_TYPE_IQ2_S:   return dequant_iq2_s;
    case PONDER_TYPE_IQ3_XXS: return dequant_iq3_xxs;
    case PONDER_TYPE_IQ3_S:   return dequant_iq3_s;
    case PONDER_TYPE_IQ1_S:   return dequant_iq1_s;
    case PONDER_TYPE_IQ1_M:   return dequant_iq1_m;
    case PONDER_TYPE_IQ4_NL:  return dequant_iq4_nl;
    case PONDER_TYPE_IQ4_XS:  return dequant_iq4_xs;
    default:                  return NULL;
    }
}

/* ---- generic dot products with Q8 / Q8_K activations ---------------------- */

/* sum over 8 lanes of +-grid lane j times q[j]. */
static inline int32_t
dot8 (uint64_t grid, unsigned signs, const int8_t *q)
{
  int32_t s = 0;

  for (int j = 0; j < 8; j++)
    {
      int v = lane8 (grid, j) * q[j];

      s += (signs >> j) & 1 ? -v : v;
    }
  return s;
}

float
ponder_dot_iq2_xxs (const uint8_t *w, const void *act)
{
  const PonderActQ8K *a = act;
  int32_t sumi = 0;

  for (int ib = 0; ib < 8; ib++)
    {
      const uint8_t *g = w + 2 + 8 * ib;
      uint32_t u = le32 (g + 4);
      int32_t s32 = 0;

      for (int l = 0; l < 4; l++)
        s32 += dot8 (ponder_iq2xxs_grid[g[l]], ponder_ksigns_iq2xs[(u >> (7 * l)) & 127],
                     a->qs + 32 * ib + 8 * l);
      sumi += (int32_t) (2 * (u >> 28) + 1) * s32;
    }
  return ponder_load_f16 (w) * a->d * 0.125f * (float) sumi;
}

float
ponder_dot_iq2_xs (const uint8_t *w, const void *act)
{
  const PonderActQ8K *a = act;
  int32_t sumi = 0;

  for (int ib = 0; ib < 8; ib++)
    for (int h = 0; h < 2; h++)
      {
        int32_t s16 = 0;

        for (int l = 2 * h; l < 2 * h + 2; l++)
          {
            uint32_t v = le16 (w + 2 + 2 * (4 * ib + l));

            s16 += dot8 (ponder_iq2xs_grid[v & 511], ponder_ksigns_iq2xs[v >> 9],
                         a->qs + 32 * ib + 8 * l);
          }
        sumi += (2 * ((w[66 + ib] >> (4 * h)) & 15) + 1) * s16;
      }
  return ponder_load_f16 (w) * a->d * 0.125f * (float) sumi;
}

float
ponder_dot_iq2_s (const uint8_t *w, const void *act)
{
  const PonderActQ8K *a = act;
  const uint8_t *qs = w + 2, *signs = w + 34, *qh = w + 66, *scales = w + 74;
  int32_t sumi = 0;

  for (int ib = 0; ib < 8; ib++)
    for (int h = 0; h < 2; h++)
      {
        int32_t s16 = 0;

        for (int l = 2 * h; l < 2 * h + 2; l++)
          {
            uint32_t idx = qs[4 * ib + l] | (((qh[ib] >> (2 * l)) & 3u) << 8);

            s16 += dot8 (ponder_iq2s_grid[idx], signs[4 * ib + l], a->qs + 32 * ib + 8 * l);
          }
        sumi += (2 * ((scales[ib] >> (4 * h)) & 15) + 1) * s16;
      }
  return ponder_load_f16 (w) * a->d * 0.125f * (float) sumi;
}

float
ponder_dot_iq3_xxs (const uint8_t *w, const void *act)
{
  const PonderActQ8K *a = act;
  const uint8_t *qs = w + 2;
  int32_t sumi = 0;

  for (int ib = 0; ib < 8; ib++)
    {
      uint32_t u = le32 (w + 66 + 4 * ib);
      int32_t s32 = 0;

      for (int l = 0; l < 4; l++)
        {
          uint64_t g = (uint64_t) ponder_iq3xxs_grid[qs[8 * ib + 2 * l]]
                       | ((uint64_t) ponder_iq3xxs_grid[qs[8 * ib + 2 * l + 1]] << 32);

          s32 += dot8 (g, ponder_ksigns_iq2xs[(u >> (7 * l)) & 127], a->qs + 32 * ib + 8 * l);
        }
      sumi += (int32_t) (2 * (u >> 28) + 1) * s32;
    }
  return ponder_load_f16 (w) * a->d * 0.25f * (float) sumi;
}

float
ponder_dot_iq3_s (const uint8_t *w, const void *act)
{
  const PonderActQ8K *a = act;
  const uint8_t *qs = w + 2, *qh = w + 66, *signs = w + 74, *scales = w + 106;
  int32_t sumi = 0;

  for (int ib = 0; ib < 8; ib++)
    {
      int32_t s32 = 0;

      for (int l = 0; l < 4; l++)
        {
          int k = 2 * l;
          uint32_t i0 = qs[8 * ib + k] | (((qh[ib] >> k) & 1u) << 8);
          uint32_t i1 = qs[8 * ib + k + 1] | (((qh[ib] >> (k + 1)) & 1u) << 8);
          uint64_t g = (uint64_t) ponder_iq3s_grid[i0] | ((uint64_t) ponder_iq3s_grid[i1] << 32);

          s32 += dot8 (g, signs[4 * ib + l], a->qs + 32 * ib + 8 * l);
        }
      sumi += (1 + 2 * ((scales[ib / 2] >> (4 * (ib % 2))) & 15)) * s32;
    }
  return ponder_load_f16 (w) * a->d * (float) sumi;
}

/* sum over 8 lanes of iq1s lane j times q[j]. */
static inline int32_t
dot8_iq1 (uint64_t grid, const int8_t *q)
{
  int32_t s = 0;

  for (int j = 0; j < 8; j++)
    s += lane_iq1 (grid, j) * q[j];
  return s;
}

float
ponder_dot_iq1_s (const uint8_t *w, const void *act)
{
  const PonderActQ8K *a = act;
  int32_t sumi = 0;

  for (int ib = 0; ib < 8; ib++)
    {
      uint32_t u = le16 (w + 34 + 2 * ib);
      int32_t g32 = 0;
      int32_t a32 = a->bsums[2 * ib] + a->bsums[2 * ib + 1];

      for (int l = 0; l < 4; l++)
        g32 += dot8_iq1 (ponder_iq1s_grid[w[2 + 4 * ib + l] | (((u >> (3 * l)) & 7) << 8)],
                         a->qs + 32 * ib + 8 * l);
      sumi += (int32_t) (2 * ((u >> 12) & 7) + 1) * (8 * g32 + ((u & 0x8000) ? -a32 : a32));
    }
  return ponder_load_f16 (w) * a->d * 0.125f * (float) sumi;
}

float
ponder_dot_iq1_m (const uint8_t *w, const void *act)
{
  const PonderActQ8K *a = act;
  uint32_t sc[4];
  float d = iq1m_scale (w, sc);
  int32_t sumi = 0;

  for (int ib = 0; ib < 8; ib++)
    {
      uint32_t t = sc[ib / 2] >> (6 * (ib % 2));

      for (int h = 0; h < 2; h++)
        {
          int32_t s16 = 0;

          for (int l = 2 * h; l < 2 * h + 2; l++)
            {
              bool neg;
              const int8_t *q = a->qs + 32 * ib + 8 * l;
              uint64_t g = ponder_iq1s_grid[iq1m_index (w, ib, l, &neg)];
              int32_t a8 = 0;

              for (int j = 0; j < 8; j++)
                a8 += q[j];
              s16 += 8 * dot8_iq1 (g, q) + (neg ? -a8 : a8);
            }
          sumi += (int32_t) (2 * ((t >> (3 * h)) & 7) + 1) * s16;
        }
    }
  return d * a->d * 0.125f * (float) sumi;
}

float
ponder_dot_iq4_nl (const uint8_t *w, const void *act)
{
  const PonderActQ8 *a = act;
  int32_t sumi = 0;

  for (int j = 0; j < 16; j++)
    sumi += ponder_kvalues_iq4nl[w[2 + j] & 15] * a->qs[j]
            + ponder_kvalues_iq4nl[w[2 + j] >> 4] * a->qs[j + 16];
  return ponder_load_f16 (w) * a->d * (float) sumi;
}

float
ponder_dot_iq4_xs (const uint8_t *w, const void *act)
{
  const PonderActQ8K *a = act;
  int32_t sumi = 0;

  for (int ib = 0; ib < 8; ib++)
    {
      const uint8_t *qs = w + 8 + 16 * ib;
      const int8_t *q = a->qs + 32 * ib;
      int32_t s32 = 0;

      for (int j = 0; j < 16; j++)
        s32 += ponder_kvalues_iq4nl[qs[j] & 15] * q[j]
               + ponder_kvalues_iq4nl[qs[j] >> 4] * q[j + 16];
      sumi += (iq4xs_scale (w, ib) - 32) * s32;
    }
  return ponder_load_f16 (w) * a->d * (float) sumi;
}
