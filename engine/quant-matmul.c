/* quant-matmul.c: matrix-vector/matrix products with quantised weights on the
 * CPU: kernel selection, activation conversion and the portable C kernels.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Weights stay in their file format. Activations are converted once per call
 * into int8 blocks (PonderActQ8 for 32-element weight blocks, PonderActQ8K
 * for 256-element K-quants), so each dot product is an integer sum over a
 * block times one float scale. F32/F16/BF16 weights use float activations.
 * quant-matmul-avx2.c holds the SIMD kernels; the generic ones here are the
 * fallback and the check for them.
 */
#include "quant-matmul-private.h"

#include <math.h>
#include <pthread.h>
#include <string.h>

/* ---- activation conversion ------------------------------------------------ */

static float
abs_max (const float *x, size_t n)
{
  float amax = 0.0f;

  for (size_t i = 0; i < n; i++)
    {
      float a = fabsf (x[i]);

      if (a > amax)
        amax = a;
    }
  return amax;
}

void
ponder_matmul_prepare_q8_generic (const float *x,
                                  size_t       n,
                                  void        *dst)
{
  PonderActQ8 *blocks = dst;  /* (n / 32) */

  for (size_t b = 0; b < n / 32; b++)
    {
      const float *xb = x + 32 * b;
      float d = abs_max (xb, 32) / 127.0f;
      float id = d != 0.0f ? 1.0f / d : 0.0f;
      int32_t sum = 0;

      for (int i = 0; i < 32; i++)
        {
          int q = (int) lrintf (xb[i] * id);

          blocks[b].qs[i] = (int8_t) q;
          sum += q;
        }
      blocks[b].d = d;
      blocks[b].sum = sum;
      blocks[b].neg_sum = -sum;
      blocks[b].neg2_sum = -2 * sum;
    }
}

void
ponder_matmul_prepare_q8k_generic (const float *x,
                                   size_t       n,
                                   void        *dst)
{
  PonderActQ8K *blocks = dst;  /* (n / 256) */

  for (size_t b = 0; b < n / 256; b++)
    {
      const float *xb = x + 256 * b;
      float d = abs_max (xb, 256) / 127.0f;
      float id = d != 0.0f ? 1.0f / d : 0.0f;

      for (int k = 0; k < 16; k++)
        {
          int sum = 0;

          for (int i = 16 * k; i < 16 * k + 16; i++)
            {
              int q = (int) lrintf (xb[i] * id);

              blocks[b].qs[i] = (int8_t) q;
              sum += q;
            }
          blocks[b].bsums[k] = (int16_t) sum;
        }
      for (int k = 0; k < 8; k++)
        blocks[b].bsums32[k] = (int16_t) (blocks[b].bsums[2 * k] + blocks[b].bsums[2 * k + 1]);
      memset (blocks[b].pad, 0, sizeof blocks[b].pad);
      blocks[b].d = d;
    }
}

void
ponder_matmul_prepare_f32 (const float *x,
                           size_t       n,
                           void        *dst)
{
  memcpy (dst, x, n * sizeof (float));
}

/* ---- generic block dot products -------------------------------------------
 *
 * Each returns the dot product of one weight block with one activation
 * block. Integer sums are exact; the float scale is applied once. */

typedef float (*BlockDotFn) (const uint8_t *w, const void *act);

static float
dot_q4_0 (const uint8_t *w, const void *act)  /* w: 18 bytes */
{
  const PonderActQ8 *a = act;
  int32_t sumi = 0;

  for (int j = 0; j < 16; j++)
    sumi += (w[2 + j] & 15) * a->qs[j] + (w[2 + j] >> 4) * a->qs[j + 16];
  return ponder_load_f16 (w) * a->d * (float) (sumi - 8 * a->sum);
}

static float
dot_q4_1 (const uint8_t *w, const void *act)  /* w: 20 bytes */
{
  const PonderActQ8 *a = act;
  int32_t sumi = 0;

  for (int j = 0; j < 16; j++)
    sumi += (w[4 + j] & 15) * a->qs[j] + (w[4 + j] >> 4) * a->qs[j + 16];
  return ponder_load_f16 (w) * a->d * (float) sumi
         + ponder_load_f16 (w + 2) * a->d * (float) a->sum;
}

static int32_t
dot_q5_ints (const uint8_t *qh_bytes, const uint8_t *qs, const int8_t *aq)
{
  uint32_t qh;
  int32_t sumi = 0;

  memcpy (&qh, qh_bytes, 4);  /* little-endian hosts only (x86, arm64) */
  for (int j = 0; j < 16; j++)
    {
      int q0 = (qs[j] & 15) | (((qh >> j) & 1) << 4);
      int q1 = (qs[j] >> 4) | (((qh >> (j + 16)) & 1) << 4);

      sumi += q0 * aq[j] + q1 * aq[j + 16];
    }
  return sumi;
}

static float
dot_q5_0 (const uint8_t *w, const void *act)  /* w: 22 bytes */
{
  const PonderActQ8 *a = act;
  int32_t sumi = dot_q5_ints (w + 2, w + 6, a->qs);

  return ponder_load_f16 (w) * a->d * (float) (sumi - 16 * a->sum);
}

static float
dot_q5_1 (const uint8_t *w, const void *act)  /* w: 24 bytes */
{
  const PonderActQ8 *a = act;
  int32_t sumi = dot_q5_ints (w + 4, w + 8, a->qs);

  return ponder_load_f16 (w) * a->d * (float) sumi
         + ponder_load_f16 (w + 2) * a->d * (float) a->sum;
}

static float
dot_q8_0 (const uint8_t *w, const void *act)  /* w: 34 bytes */
{
  const PonderActQ8 *a = act;
  int32_t sumi = 0;

  for (int j = 0; j < 32; j++)
    sumi += (int8_t) w[2 + j] * a->qs[j];
  return ponder_load_f16 (w) * a->d * (float) sumi;
}

static float
dot_q2_k (const uint8_t *w, const void *act)  /* w: 84 bytes */
{
  const PonderActQ8K *a = act;
  const uint8_t *scales = w;
  const uint8_t *qs = w + 16;
  int32_t sumi = 0;
  int32_t summ = 0;

  for (int s = 0; s < 16; s++)
    {
      int h = s / 8, j = (s % 8) / 2, l0 = (s & 1) * 16;
      int32_t d16 = 0;

      for (int l = l0; l < l0 + 16; l++)
        d16 += ((qs[32 * h + l] >> (2 * j)) & 3) * a->qs[128 * h + 32 * j + l];
      sumi += (scales[s] & 15) * d16;
      summ += (scales[s] >> 4) * a->bsums[s];
    }
  return a->d * (ponder_load_f16 (w + 80) * (float) sumi
                 - ponder_load_f16 (w + 82) * (float) summ);
}

static float
dot_q3_k (const uint8_t *w, const void *act)  /* w: 110 bytes */
{
  const PonderActQ8K *a = act;
  const uint8_t *hmask = w;
  const uint8_t *qs = w + 32;
  int32_t sumi = 0;

  for (int s = 0; s < 16; s++)
    {
      int h = s / 8, j = (s % 8) / 2, l0 = (s & 1) * 16;
      int32_t d16 = 0;

      for (int l = l0; l < l0 + 16; l++)
        {
          int q = ((qs[32 * h + l] >> (2 * j)) & 3) - (((hmask[l] >> (4 * h + j)) & 1) ? 0 : 4);

          d16 += q * a->qs[128 * h + 32 * j + l];
        }
      sumi += (ponder_quant_q3k_scale (w + 96, s) - 32) * d16;
    }
  return a->d * ponder_load_f16 (w + 108) * (float) sumi;
}

static float
dot_q45_k (const uint8_t *w, const void *act, bool five)  /* w: 144 / 176 bytes */
{
  const PonderActQ8K *a = act;
  const uint8_t *qh = w + 16;
  const uint8_t *qs = w + (five ? 48 : 16);
  int32_t sumi = 0;
  int32_t summ = 0;

  for (int s = 0; s < 8; s++)
    {
      int sc, m;
      int32_t d32 = 0;

      ponder_quant_k4_scale_min (w + 4, s, &sc, &m);
      for (int l = 0; l < 32; l++)
        {
          uint8_t byte = qs[32 * (s / 2) + l];
          int q = (s & 1) ? byte >> 4 : byte & 15;

          if (five)
            q |= ((qh[l] >> s) & 1) << 4;
          d32 += q * a->qs[32 * s + l];
        }
      sumi += sc * d32;
      summ += m * (a->bsums[2 * s] + a->bsums[2 * s + 1]);
    }
  return a->d * (ponder_load_f16 (w) * (float) sumi
                 - ponder_load_f16 (w + 2) * (float) summ);
}

static float
dot_q4_k (const uint8_t *w, const void *act)
{
  return dot_q45_k (w, act, false);
}

static float
dot_q5_k (const uint8_t *w, const void *act)
{
  return dot_q45_k (w, act, true);
}

static float
dot_q6_k (const uint8_t *w, const void *act)  /* w: 210 bytes */
{
  const PonderActQ8K *a = act;
  const uint8_t *ql = w;
  const uint8_t *qh = w + 128;
  const int8_t *scales = (const int8_t *) (w + 192);
  int32_t sumi = 0;

  for (int t = 0; t < 16; t++)
    {
      /* Sub-block t covers elements 128h + 32k + [16u, 16u + 16). */
      int h = t / 8, u = t % 2, k = (t % 8) / 2;
      int32_t d16 = 0;

      for (int l = 16 * u; l < 16 * u + 16; l++)
        {
          uint8_t lb = ql[64 * h + l + 32 * (k & 1)];
          int lo4 = k < 2 ? lb & 15 : lb >> 4;
          int q = (lo4 | (((qh[32 * h + l] >> (2 * k)) & 3) << 4)) - 32;

          d16 += q * a->qs[128 * h + 32 * k + l];
        }
      sumi += scales[t] * d16;
    }
  return a->d * ponder_load_f16 (w + 208) * (float) sumi;
}

/* Rows loop shared by the generic integer kernels: tokens inner, so each
 * weight block is read once per group of up to 4 tokens. */
static void
rows_blocks (BlockDotFn     dot,
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

  for (size_t r = row_begin; r < row_end; r++)
    {
      const uint8_t *wr = weight + r * row_bytes;

      for (size_t t0 = 0; t0 < n_tokens; t0 += 4)
        {
          size_t nt = n_tokens - t0 < 4 ? n_tokens - t0 : 4;
          float acc[4] = { 0 };

          for (size_t b = 0; b < n_blocks; b++)
            for (size_t t = 0; t < nt; t++)
              acc[t] += dot (wr + b * block_bytes,
                             act + (t0 + t) * act_row_bytes + b * act_block_bytes);
          for (size_t t = 0; t < nt; t++)
            y[(t0 + t) * y_stride + r] = acc[t];
        }
    }
}

#define DEFINE_GENERIC_ROWS(name, dot, elems, bytes, act_type)                       \
  static void                                                                       \
  name (const uint8_t *weight, size_t row_bytes, size_t n, size_t row_begin,        \
        size_t row_end, const uint8_t *act, size_t act_row_bytes, size_t n_tokens,  \
        float *y, size_t y_stride)                                                  \
  {                                                                                 \
    rows_blocks (dot, elems, bytes, sizeof (act_type), weight, row_bytes, n,        \
                 row_begin, row_end, act, act_row_bytes, n_tokens, y, y_stride);    \
  }

DEFINE_GENERIC_ROWS (rows_q4_0, dot_q4_0, 32, 18, PonderActQ8)
DEFINE_GENERIC_ROWS (rows_q4_1, dot_q4_1, 32, 20, PonderActQ8)
DEFINE_GENERIC_ROWS (rows_q5_0, dot_q5_0, 32, 22, PonderActQ8)
DEFINE_GENERIC_ROWS (rows_q5_1, dot_q5_1, 32, 24, PonderActQ8)
DEFINE_GENERIC_ROWS (rows_q8_0, dot_q8_0, 32, 34, PonderActQ8)
DEFINE_GENERIC_ROWS (rows_q2_k, dot_q2_k, 256, 84, PonderActQ8K)
DEFINE_GENERIC_ROWS (rows_q3_k, dot_q3_k, 256, 110, PonderActQ8K)
DEFINE_GENERIC_ROWS (rows_q4_k, dot_q4_k, 256, 144, PonderActQ8K)
DEFINE_GENERIC_ROWS (rows_q5_k, dot_q5_k, 256, 176, PonderActQ8K)
DEFINE_GENERIC_ROWS (rows_q6_k, dot_q6_k, 256, 210, PonderActQ8K)
DEFINE_GENERIC_ROWS (rows_iq2_xxs, ponder_dot_iq2_xxs, 256, 66, PonderActQ8K)
DEFINE_GENERIC_ROWS (rows_iq2_xs, ponder_dot_iq2_xs, 256, 74, PonderActQ8K)
DEFINE_GENERIC_ROWS (rows_iq2_s, ponder_dot_iq2_s, 256, 82, PonderActQ8K)
DEFINE_GENERIC_ROWS (rows_iq3_xxs, ponder_dot_iq3_xxs, 256, 98, PonderActQ8K)
DEFINE_GENERIC_ROWS (rows_iq3_s, ponder_dot_iq3_s, 256, 110, PonderActQ8K)
DEFINE_GENERIC_ROWS (rows_iq1_s, ponder_dot_iq1_s, 256, 50, PonderActQ8K)
DEFINE_GENERIC_ROWS (rows_iq1_m, ponder_dot_iq1_m, 256, 56, PonderActQ8K)
DEFINE_GENERIC_ROWS (rows_iq4_nl, ponder_dot_iq4_nl, 32, 18, PonderActQ8)
DEFINE_GENERIC_ROWS (rows_iq4_xs, ponder_dot_iq4_xs, 256, 136, PonderActQ8K)

/* Float weights: 8 partial sums, combined pairwise, so the result does not
 * depend on one long serial chain. */
static void
rows_float (PonderType     type,
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
    for (size_t t = 0; t < n_tokens; t++)
      {
        const uint8_t *wr = weight + r * row_bytes;
        const float *x = (const float *) (act + t * act_row_bytes);
        float acc = 0.0f;

        for (size_t i = 0; i < n; i++)
          {
            float wv;

            if (type == PONDER_TYPE_F32)
              memcpy (&wv, wr + 4 * i, 4);
            else if (type == PONDER_TYPE_F16)
              wv = ponder_load_f16 (wr + 2 * i);
            else
              wv = ponder_bf16_to_fp32 ((uint16_t) (wr[2 * i] | (wr[2 * i + 1] << 8)));
            acc += wv * x[i];
          }
        y[t * y_stride + r] = acc;
      }
}

#define DEFINE_FLOAT_ROWS(name, type)                                               \
  static void                                                                       \
  name (const uint8_t *weight, size_t row_bytes, size_t n, size_t row_begin,        \
        size_t row_end, const uint8_t *act, size_t act_row_bytes, size_t n_tokens,  \
        float *y, size_t y_stride)                                                  \
  {                                                                                 \
    rows_float (type, weight, row_bytes, n, row_begin, row_end, act,                \
                act_row_bytes, n_tokens, y, y_stride);                              \
  }

DEFINE_FLOAT_ROWS (rows_f32, PONDER_TYPE_F32)
DEFINE_FLOAT_ROWS (rows_f16, PONDER_TYPE_F16)
DEFINE_FLOAT_ROWS (rows_bf16, PONDER_TYPE_BF16)

/* ---- kernel tables and dispatch ------------------------------------------ */

#define N_KERNELS 22

static const struct
{
  PonderType      type;
  PonderActFormat act;
  PonderRowsFn    rows;
} generic_table[N_KERNELS] = {
  { PONDER_TYPE_F32,  PONDER_ACT_F32, rows_f32  },
  { PONDER_TYPE_F16,  PONDER_ACT_F32, rows_f16  },
  { PONDER_TYPE_BF16, PONDER_ACT_F32, rows_bf16 },
  { PONDER_TYPE_Q4_0, PONDER_ACT_Q8,  rows_q4_0 },
  { PONDER_TYPE_Q4_1, PONDER_ACT_Q8,  rows_q4_1 },
  { PONDER_TYPE_Q5_0, PONDER_ACT_Q8,  rows_q5_0 },
  { PONDER_TYPE_Q5_1, PONDER_ACT_Q8,  rows_q5_1 },
  { PONDER_TYPE_Q8_0, PONDER_ACT_Q8,  rows_q8_0 },
  { PONDER_TYPE_Q2_K, PONDER_ACT_Q8K, rows_q2_k },
  { PONDER_TYPE_Q3_K, PONDER_ACT_Q8K, rows_q3_k },
  { PONDER_TYPE_Q4_K, PONDER_ACT_Q8K, rows_q4_k },
  { PONDER_TYPE_Q5_K, PONDER_ACT_Q8K, rows_q5_k },
  { PONDER_TYPE_Q6_K, PONDER_ACT_Q8K, rows_q6_k },
  { PONDER_TYPE_IQ2_XXS, PONDER_ACT_Q8K, rows_iq2_xxs },
  { PONDER_TYPE_IQ2_XS,  PONDER_ACT_Q8K, rows_iq2_xs  },
  { PONDER_TYPE_IQ2_S,   PONDER_ACT_Q8K, rows_iq2_s   },
  { PONDER_TYPE_IQ3_XXS, PONDER_ACT_Q8K, rows_iq3_xxs },
  { PONDER_TYPE_IQ3_S,   PONDER_ACT_Q8K, rows_iq3_s   },
  { PONDER_TYPE_IQ1_S,   PONDER_ACT_Q8K, rows_iq1_s   },
  { PONDER_TYPE_IQ1_M,   PONDER_ACT_Q8K, rows_iq1_m   },
  { PONDER_TYPE_IQ4_NL,  PONDER_ACT_Q8,  rows_iq4_nl  },
  { PONDER_TYPE_IQ4_XS,  PONDER_ACT_Q8K, rows_iq4_xs  },
};

/* Filled once by init_kernels (under pthread_once): [0] generic, [1] avx2,
 * [2] avx512 (VNNI), [3] avx512 on interleaved weights, [4] AVX-VNNI on
 * interleaved weights; a NULL rows marks a variant this CPU (or type)
 * lacks. */
static PonderMatmulKernel kernels[5][N_KERNELS];
static bool have_avx2;
static bool have_avx512;
static bool have_avxvnni;

static pthread_once_t kernels_once = PTHREAD_ONCE_INIT;

static PonderPrepareFn
generic_prepare (PonderActFormat act)
{
  switch (act)
    {
    case PONDER_ACT_Q8:  return ponder_matmul_prepare_q8_generic;
    case PONDER_ACT_Q8K: return ponder_matmul_prepare_q8k_generic;
    case PONDER_ACT_F32:
    default:             return ponder_matmul_prepare_f32;
    }
}

static void
init_kernels (void)
{
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init ();
  have_avx2 = __builtin_cpu_supports ("avx2") && __builtin_cpu_supports ("fma")
              && __builtin_cpu_supports ("f16c");
  have_avx512 = have_avx2 && __builtin_cpu_supports ("avx512f")
                && __builtin_cpu_supports ("avx512bw") && __builtin_cpu_supports ("avx512vl")
                && __builtin_cpu_supports ("avx512dq")
                && __builtin_cpu_supports ("avx512vnni");
  have_avxvnni = have_avx2 && __builtin_cpu_supports ("avxvnni");
#endif
  for (int i = 0; i < N_KERNELS; i++)
    {
      PonderMatmulKernel *g = &kernels[0][i];
      PonderMatmulKernel *v = &kernels[1][i];
      PonderMatmulKernel *z = &kernels[2][i];

      g->type = generic_table[i].type;
      g->variant = "generic";
      g->act = generic_table[i].act;
      g->rows = generic_table[i].rows;
      g->prepare = generic_prepare (g->act);
      *v = *g;
      v->rows = NULL;
#if defined(__x86_64__) || defined(__i386__)
      if (have_avx2)
        {
          v->variant = "avx2";
          v->rows = ponder_matmul_avx2_rows (g->type);
          if (v->rows == NULL)
            v->rows = ponder_matmul_iq_avx2_rows (g->type);
          if (ponder_matmul_avx2_prepare (g->act) != NULL)
            v->prepare = ponder_matmul_avx2_prepare (g->act);
        }
#endif
      *z = *g;
      z->rows = NULL;
#if defined(__x86_64__) || defined(__i386__)
      if (have_avx512)
        {
          z->variant = "avx512";
          z->rows = ponder_matmul_avx512_rows (g->type);
          if (z->rows == NULL)
            z->rows = ponder_matmul_iq_avx512_rows (g->type);
          if (ponder_matmul_avx512_prepare (g->act) != NULL)
            z->prepare = ponder_matmul_avx512_prepare (g->act);
        }
#endif
      kernels[3][i] = *z;
      kernels[3][i].variant = "avx512-x8";
      kernels[3][i].rows = have_avx512 ? ponder_matmul_avx512_x8_rows (g->type) : NULL;
      kernels[4][i] = *v;
      kernels[4][i].variant = "avxvnni-x8";
      kernels[4][i].rows = have_avxvnni ? ponder_matmul_avxvnni_x8_rows (g->type) : NULL;
    }
}

static int
kernel_index (PonderType type)
{
  for (int i = 0; i < N_KERNELS; i++)
    if (generic_table[i].type == type)
      return i;
  return -1;
}

const PonderMatmulKernel *
ponder_matmul_kernel_variant_get (PonderType  type,
                                  const char *variant)
{
  int i = kernel_index (type);

  pthread_once (&kernels_once, init_kernels);
  if (i < 0 || variant == NULL)
    return NULL;
  if (strcmp (variant, "generic") == 0)
    return &kernels[0][i];
  if (strcmp (variant, "avx2") == 0 && kernels[1][i].rows != NULL)
    return &kernels[1][i];
  if (strcmp (variant, "avx512") == 0 && kernels[2][i].rows != NULL)
    return &kernels[2][i];
  if (strcmp (variant, "avx512-x8") == 0 && kernels[3][i].rows != NULL)
    return &kernels[3][i];
  if (strcmp (variant, "avxvnni-x8") == 0 && kernels[4][i].rows != NULL)
    return &kernels[4][i];
  return NULL;
}

const PonderMatmulKernel *
ponder_matmul_kernel_interleaved (PonderType type)
{
  int i = kernel_index (type);

  pthread_once (&kernels_once, init_kernels);
  if (i < 0)
    return NULL;
  if (kernels[3][i].rows != NULL)
    return &kernels[3][i];
  return kernels[4][i].rows != NULL ? &kernels[4][i] : NULL;
}

const PonderMatmulKernel *
ponder_matmul_kernel (PonderType type)
{
  int i = kernel_index (type);

  pthread_once (&kernels_once, init_kernels);
  if (i < 0)
    return NULL;
  if (kernels[2][i].rows != NULL)
    return &kernels[2][i];
  return kernels[1][i].rows != NULL ? &kernels[1][i] : &kernels[0][i];
}

size_t
ponder_matmul_input_row_bytes (const PonderMatmulKernel *kernel,
                               size_t                    n)
{
  switch (kernel->act)
    {
    case PONDER_ACT_Q8:  return n / 32 * sizeof (PonderActQ8);
    case PONDER_ACT_Q8K: return n / 256 * sizeof (PonderActQ8K);
    case PONDER_ACT_F32:
    default:             return n * sizeof (float);
    }
}

void
ponder_matmul_prepare_input (const PonderMatmulKernel *kernel,
                             const float              *x,
                             size_t                    x_stride,
                             size_t                    n,
                             size_t                    n_tokens,
                             void                     *dst)
{
  size_t row = ponder_matmul_input_row_bytes (kernel, n);

  for (size_t t = 0; t < n_tokens; t++)
    kernel->prepare (x + t * x_stride, n, (uint8_t *) dst + t * row);
}

void
ponder_matmul_rows (const PonderMatmulKernel *kernel,
                    const void               *weight,
                    size_t                    n,
                    size_t                    row_begin,
                    size_t                    row_end,
                    const void               *prepared_input,
                    size_t                    n_tokens,
                    float                    *y,
                    size_t                    y_stride)
{
  uint64_t row_bytes = 0;

  if (row_begin >= row_end || n_tokens == 0)
    return;
  ponder_type_row_bytes (kernel->type, n, &row_bytes);
  kernel->rows (weight, (size_t) row_bytes, n, row_begin, row_end, prepared_input,
                ponder_matmul_input_row_bytes (kernel, n), n_tokens, y, y_stride);
}

const char *
ponder_matmul_kernel_variant (const PonderMatmulKernel *kernel)
{
  return kernel->variant;
}
