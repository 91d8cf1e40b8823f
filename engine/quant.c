/* quant.c: the GGUF type table, fp16/bf16 conversion and the reference
 * (scalar) dequantisers.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Layouts and formulas: ../shared/docs/engine-spec.md section 2. The
 * dequantisers evaluate each element in a fixed order of float operations
 * (scale products first, then q times scale, then minus the min product) so
 * that tests/quants.py can reproduce them bit for bit in numpy.
 */
#include "quant-private.h"

#include <stdio.h>
#include <string.h>

#define N_TYPE_IDS 40

/* Indexed by GGUF type id; entries with a NULL name are removed ids. */
static const PonderTypeInfo type_table[N_TYPE_IDS] = {
  [PONDER_TYPE_F32]     = { "F32",       1,   4, true  },
  [PONDER_TYPE_F16]     = { "F16",       1,   2, true  },
  [PONDER_TYPE_Q4_0]    = { "Q4_0",     32,  18, true  },
  [PONDER_TYPE_Q4_1]    = { "Q4_1",     32,  20, true  },
  [PONDER_TYPE_Q5_0]    = { "Q5_0",     32,  22, true  },
  [PONDER_TYPE_Q5_1]    = { "Q5_1",     32,  24, true  },
  [PONDER_TYPE_Q8_0]    = { "Q8_0",     32,  34, true  },
  [PONDER_TYPE_Q8_1]    = { "Q8_1",     32,  36, false },
  [PONDER_TYPE_Q2_K]    = { "Q2_K",    256,  84, true  },
  [PONDER_TYPE_Q3_K]    = { "Q3_K",    256, 110, true  },
  [PONDER_TYPE_Q4_K]    = { "Q4_K",    256, 144, true  },
  [PONDER_TYPE_Q5_K]    = { "Q5_K",    256, 176, true  },
  [PONDER_TYPE_Q6_K]    = { "Q6_K",    256, 210, true  },
  [PONDER_TYPE_Q8_K]    = { "Q8_K",    256, 292, false },
  [PONDER_TYPE_IQ2_XXS] = { "IQ2_XXS", 256,  66, true  },
  [PONDER_TYPE_IQ2_XS]  = { "IQ2_XS",  256,  74, true  },
  [PONDER_TYPE_IQ3_XXS] = { "IQ3_XXS", 256,  98, true  },
  [PONDER_TYPE_IQ1_S]   = { "IQ1_S",   256,  50, true  },
  [PONDER_TYPE_IQ4_NL]  = { "IQ4_NL",   32,  18, true  },
  [PONDER_TYPE_IQ3_S]   = { "IQ3_S",   256, 110, true  },
  [PONDER_TYPE_IQ2_S]   = { "IQ2_S",   256,  82, true  },
  [PONDER_TYPE_IQ4_XS]  = { "IQ4_XS",  256, 136, true  },
  [PONDER_TYPE_I8]      = { "I8",        1,   1, false },
  [PONDER_TYPE_I16]     = { "I16",       1,   2, false },
  [PONDER_TYPE_I32]     = { "I32",       1,   4, false },
  [PONDER_TYPE_I64]     = { "I64",       1,   8, false },
  [PONDER_TYPE_F64]     = { "F64",       1,   8, false },
  [PONDER_TYPE_IQ1_M]   = { "IQ1_M",   256,  56, true  },
  [PONDER_TYPE_BF16]    = { "BF16",      1,   2, true  },
  [PONDER_TYPE_TQ1_0]   = { "TQ1_0",   256,  54, false },
  [PONDER_TYPE_TQ2_0]   = { "TQ2_0",   256,  66, false },
  [PONDER_TYPE_MXFP4]   = { "MXFP4",    32,  17, false },
};

const PonderTypeInfo *
ponder_type_info (uint32_t type)
{
  if (type >= N_TYPE_IDS || type_table[type].name == NULL)
    return NULL;
  return &type_table[type];
}

const char *
ponder_type_name (uint32_t type,
                  char    *buf,
                  size_t   buf_size)
{
  const PonderTypeInfo *info = ponder_type_info (type);

  if (info != NULL)
    return info->name;
  if (buf == NULL || buf_size == 0)
    return "unknown type";
  if (type < N_TYPE_IDS)
    snprintf (buf, buf_size, "removed type %u", (unsigned) type);
  else
    snprintf (buf, buf_size, "type %u", (unsigned) type);
  return buf;
}

bool
ponder_type_row_bytes (uint32_t  type,
                       uint64_t  n,
                       uint64_t *out_bytes)
{
  const PonderTypeInfo *info = ponder_type_info (type);
  uint64_t n_blocks;

  if (info == NULL || n % info->block_size != 0)
    return false;
  n_blocks = n / info->block_size;
  if (n_blocks > UINT64_MAX / info->block_bytes)
    return false;
  if (out_bytes != NULL)
    *out_bytes = n_blocks * info->block_bytes;
  return true;
}

/* ---- scalar conversions ------------------------------------------------- */

static inline float
f32_from_bits (uint32_t u)
{
  float f;

  memcpy (&f, &u, sizeof f);
  return f;
}

static inline uint32_t
f32_bits (float f)
{
  uint32_t u;

  memcpy (&u, &f, sizeof u);
  return u;
}

float
ponder_fp16_to_fp32 (uint16_t h)
{
  uint32_t sign = (uint32_t) (h >> 15) << 31;
  uint32_t exp = (h >> 10) & 31;
  uint32_t mant = h & 1023;

  if (exp == 31)
    return f32_from_bits (sign | 0x7f800000u | (mant << 13));
  if (exp == 0)
    {
      /* Subnormal or zero: m * 2^-24 is exact in binary32. */
      float v = (float) mant * (1.0f / 16777216.0f);
      return sign ? -v : v;
    }
  return f32_from_bits (sign | ((exp + 112) << 23) | (mant << 13));
}

uint16_t
ponder_fp32_to_fp16 (float f)
{
  uint32_t u = f32_bits (f);
  uint32_t sign = (u >> 16) & 0x8000u;
  uint32_t abs_bits = u & 0x7fffffffu;
  int32_t exp;
  uint32_t mant;
  uint32_t shift;
  uint32_t half;
  uint32_t rest;
  uint32_t r;

  /* inf, or a NaN made quiet with the top of its payload: the bits of
   * x86's vcvtps2ph, so that the KV cache's two paths agree */
  if (abs_bits >= 0x7f800000u)
    return (uint16_t) (sign | 0x7c00u
                       | (abs_bits > 0x7f800000u ? 0x200u | (abs_bits & 0x7fffffu) >> 13 : 0));
  exp = (int32_t) (abs_bits >> 23) - 127 + 15;
  mant = abs_bits & 0x7fffffu;
  if (exp >= 31)
    return (uint16_t) (sign | 0x7c00u);
  if (exp <= 0)
    {
      /* Result is subnormal: shift the full mantissa, round to nearest even. */
      if (exp < -10)
        return (uint16_t) sign;
      mant |= 0x800000u;
      shift = (uint32_t) (14 - exp);
      r = mant >> shift;
      rest = mant & ((1u << shift) - 1);
      half = 1u << (shift - 1);
      if (rest > half || (rest == half && (r & 1)))
        r++;
      return (uint16_t) (sign | r);
    }
  r = ((uint32_t) exp << 10) | (mant >> 13);
  rest = mant & 0x1fffu;
  /* A carry out of the mantissa correctly bumps the exponent (up to inf). */
  if (rest > 0x1000u || (rest == 0x1000u && (r & 1)))
    r++;
  return (uint16_t) (sign | r);
}

float
ponder_bf16_to_fp32 (uint16_t h)
{
  return f32_from_bits ((uint32_t) h << 16);
}

static inline float
load_f16 (const uint8_t *p)
{
  return ponder_fp16_to_fp32 ((uint16_t) (p[0] | (p[1] << 8)));
}

/* ---- reference dequantisers (one block each) ------------------------------ */

static void
dequant_q4_0 (const uint8_t *b, float *y)  /* b: 18 bytes, y: 32 */
{
  float d = load_f16 (b);

  for (int j = 0; j < 16; j++)
    {
      y[j] = d * (float) ((b[2 + j] & 15) - 8);
      y[j + 16] = d * (float) ((b[2 + j] >> 4) - 8);
    }
}

static void
dequant_q4_1 (const uint8_t *b, float *y)  /* b: 20 bytes, y: 32 */
{
  float d = load_f16 (b);
  float m = load_f16 (b + 2);

  for (int j = 0; j < 16; j++)
    {
      y[j] = d * (float) (b[4 + j] & 15) + m;
      y[j + 16] = d * (float) (b[4 + j] >> 4) + m;
    }
}

static uint32_t
load_u32 (const uint8_t *p)
{
  return (uint32_t) p[0] | ((uint32_t) p[1] << 8) | ((uint32_t) p[2] << 16)
         | ((uint32_t) p[3] << 24);
}

static void
dequant_q5_0 (const uint8_t *b, float *y)  /* b: 22 bytes, y: 32 */
{
  float d = load_f16 (b);
  uint32_t qh = load_u32 (b + 2);

  for (int j = 0; j < 16; j++)
    {
      int q0 = (b[6 + j] & 15) | (((qh >> j) & 1) << 4);
      int q1 = (b[6 + j] >> 4) | (((qh >> (j + 16)) & 1) << 4);

      y[j] = d * (float) (q0 - 16);
      y[j + 16] = d * (float) (q1 - 16);
    }
}

static void
dequant_q5_1 (const uint8_t *b, float *y)  /* b: 24 bytes, y: 32 */
{
  float d = load_f16 (b);
  float m = load_f16 (b + 2);
  uint32_t qh = load_u32 (b + 4);

  for (int j = 0; j < 16; j++)
    {
      int q0 = (b[8 + j] & 15) | (((qh >> j) & 1) << 4);
      int q1 = (b[8 + j] >> 4) | (((qh >> (j + 16)) & 1) << 4);

      y[j] = d * (float) q0 + m;
      y[j + 16] = d * (float) q1 + m;
    }
}

static void
dequant_q8_0 (const uint8_t *b, float *y)  /* b: 34 bytes, y: 32 */
{
  float d = load_f16 (b);

  for (int j = 0; j < 32; j++)
    y[j] = d * (float) (int8_t) b[2 + j];
}

static void
dequant_q2_k (const uint8_t *b, float *y)  /* b: 84 bytes, y: 256 */
{
  const uint8_t *scales = b;
  const uint8_t *qs = b + 16;
  float d = load_f16 (b + 80);
  float dmin = load_f16 (b + 82);

  for (int i = 0; i < 256; i++)
    {
      int h = i / 128, j = (i % 128) / 32, l = i % 32;
      int s = 8 * h + 2 * j + (l >= 16);
      int q = (qs[32 * h + l] >> (2 * j)) & 3;
      float a = d * (float) (scales[s] & 15);
      float m = dmin * (float) (scales[s] >> 4);

      y[i] = a * (float) q - m;
    }
}

/* Six-bit scale of sub-block s (0..15) of a Q3_K block. */
int
ponder_quant_q3k_scale (const uint8_t *scales, int s)
{
  int lo = s < 8 ? scales[s] & 15 : scales[s - 8] >> 4;
  int hi = (scales[8 + (s & 3)] >> (2 * (s >> 2))) & 3;

  return lo | (hi << 4);
}

static void
dequant_q3_k (const uint8_t *b, float *y)  /* b: 110 bytes, y: 256 */
{
  const uint8_t *hmask = b;
  const uint8_t *qs = b + 32;
  const uint8_t *scales = b + 96;
  float d = load_f16 (b + 108);

  for (int i = 0; i < 256; i++)
    {
      int h = i / 128, j = (i % 128) / 32, l = i % 32;
      int s = 8 * h + 2 * j + (l >= 16);
      int q2 = (qs[32 * h + l] >> (2 * j)) & 3;
      int hb = (hmask[l] >> (4 * h + j)) & 1;
      int q = q2 - (hb ? 0 : 4);
      float a = d * (float) (ponder_quant_q3k_scale (scales, s) - 32);

      y[i] = a * (float) q;
    }
}

/* get_scale_min_k4 of the spec: 6-bit scale and min of sub-block s (0..7). */
void
ponder_quant_k4_scale_min (const uint8_t *scales,
                           int            s,
                           int           *sc,
                           int           *m)
{
  if (s < 4)
    {
      *sc = scales[s] & 63;
      *m = scales[s + 4] & 63;
    }
  else
    {
      *sc = (scales[s + 4] & 15) | ((scales[s - 4] >> 6) << 4);
      *m = (scales[s + 4] >> 4) | ((scales[s] >> 6) << 4);
    }
}

static void
dequant_q4_k (const uint8_t *b, float *y)  /* b: 144 bytes, y: 256 */
{
  float d = load_f16 (b);
  float dmin = load_f16 (b + 2);
  const uint8_t *qs = b + 16;

  for (int s = 0; s < 8; s++)
    {
      int sc, m;
      float a, mm;

      ponder_quant_k4_scale_min (b + 4, s, &sc, &m);
      a = d * (float) sc;
      mm = dmin * (float) m;
      for (int l = 0; l < 32; l++)
        {
          uint8_t byte = qs[32 * (s / 2) + l];
          int q = (s & 1) ? byte >> 4 : byte & 15;

          y[32 * s + l] = a * (float) q - mm;
        }
    }
}

static void
dequant_q5_k (const uint8_t *b, float *y)  /* b: 176 bytes, y: 256 */
{
  float d = load_f16 (b);
  float dmin = load_f16 (b + 2);
  const uint8_t *qh = b + 16;
  const uint8_t *qs = b + 48;

  for (int s = 0; s < 8; s++)
    {
      int sc, m;
      float a, mm;

      ponder_quant_k4_scale_min (b + 4, s, &sc, &m);
      a = d * (float) sc;
      mm = dmin * (float) m;
      for (int l = 0; l < 32; l++)
        {
          uint8_t byte = qs[32 * (s / 2) + l];
          int q = ((s & 1) ? byte >> 4 : byte & 15) | (((qh[l] >> s) & 1) << 4);

          y[32 * s + l] = a * (float) q - mm;
        }
    }
}

static void
dequant_q6_k (const uint8_t *b, float *y)  /* b: 210 bytes, y: 256 */
{
  const uint8_t *ql = b;
  const uint8_t *qh = b + 128;
  const int8_t *scales = (const int8_t *) (b + 192);
  float d = load_f16 (b + 208);

  for (int i = 0; i < 256; i++)
    {
      int h = i / 128, k = (i % 128) / 32, l = i % 32;
      uint8_t lb = ql[64 * h + l + 32 * (k & 1)];
      int lo4 = k < 2 ? lb & 15 : lb >> 4;
      int hi = (qh[32 * h + l] >> (2 * k)) & 3;
      int q = (lo4 | (hi << 4)) - 32;
      float a = d * (float) scales[8 * h + l / 16 + 2 * k];

      y[i] = a * (float) q;
    }
}

void
ponder_dequantize_row (PonderType  type,
                       const void *src,
                       float      *dst,
                       size_t      n)
{
  const uint8_t *p = src;
  void (*block_fn) (const uint8_t *, float *) = NULL;
  const PonderTypeInfo *info;

  switch (type)
    {
    case PONDER_TYPE_F32:
      memcpy (dst, src, n * sizeof (float));
      return;
    case PONDER_TYPE_F16:
      for (size_t i = 0; i < n; i++)
        dst[i] = load_f16 (p + 2 * i);
      return;
    case PONDER_TYPE_BF16:
      for (size_t i = 0; i < n; i++)
        dst[i] = ponder_bf16_to_fp32 ((uint16_t) (p[2 * i] | (p[2 * i + 1] << 8)));
      return;
    case PONDER_TYPE_Q4_0: block_fn = dequant_q4_0; break;
    case PONDER_TYPE_Q4_1: block_fn = dequant_q4_1; break;
    case PONDER_TYPE_Q5_0: block_fn = dequant_q5_0; break;
    case PONDER_TYPE_Q5_1: block_fn = dequant_q5_1; break;
    case PONDER_TYPE_Q8_0: block_fn = dequant_q8_0; break;
    case PONDER_TYPE_Q2_K: block_fn = dequant_q2_k; break;
    case PONDER_TYPE_Q3_K: block_fn = dequant_q3_k; break;
    case PONDER_TYPE_Q4_K: block_fn = dequant_q4_k; break;
    case PONDER_TYPE_Q5_K: block_fn = dequant_q5_k; break;
    case PONDER_TYPE_Q6_K: block_fn = dequant_q6_k; break;
    default:
      block_fn = ponder_quant_iq_dequant_fn (type);
      if (block_fn != NULL)
        break;
      /* Callers check can_compute first; leave dst untouched otherwise. */
      return;
    }
  info = ponder_type_info (type);
  for (size_t i = 0; i + info->block_size <= n; i += info->block_size)
    block_fn (p + (i / info->block_size) * info->block_bytes, dst + i);
}
