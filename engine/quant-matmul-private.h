/* quant-matmul-private.h: activation block formats and the kernel table
 * shared by quant-matmul.c (generic C) and quant-matmul-avx2.c.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "quant-private.h"

/* Activations for legacy 32-blocks (Q4_0 .. Q8_0 weights): x ~ d * qs[i].
 * sum = sum of qs, so that offsets (q - 8) and mins (Q4_1) fold into one
 * integer product; neg_sum and neg2_sum (-sum and -2 sum) are the start
 * values, broadcast to all 8 int32 lanes (-8 and -16 times sum in total),
 * of Q4_0's and Q5_0's unsigned dot products, so the SIMD kernels fold the
 * offset in with a broadcast load and no multiply per block. qs stay in
 * -127..127 so maddubs never saturates; they sit 16-byte aligned. */
typedef struct
{
  float   d;
  int32_t sum;
  int32_t neg_sum;
  int32_t neg2_sum;
  int8_t  qs[32];
} PonderActQ8;                 /* 48 bytes */

/* Activations for K-quant weights (engine-spec Q8_K, our own field order):
 * x ~ d * qs[i]; bsums[k] = sum of qs[16k .. 16k + 15]; bsums32[k] = sum of
 * qs[32k .. 32k + 31] (Q4_K/Q5_K's mins, saving a horizontal add per weight
 * block). qs start 64 bytes in and blocks are 320 bytes, so in a 64-byte
 * aligned buffer no 32-byte load of qs straddles two cache lines. */
typedef struct
{
  float   d;
  int16_t bsums[16];
  int16_t bsums32[8];
  uint8_t pad[12];
  int8_t  qs[256];
} PonderActQ8K;                /* 320 bytes */

typedef enum
{
  PONDER_ACT_F32,
  PONDER_ACT_Q8,
  PONDER_ACT_Q8K,
} PonderActFormat;

/* Computes y[t][r] for r in [row_begin, row_end), t in [0, n_tokens).
 * act rows are act_row_bytes apart; weight rows row_bytes apart. */
typedef void (*PonderRowsFn) (const uint8_t *weight,    /* (rows, row_bytes) */
                              size_t         row_bytes,
                              size_t         n,
                              size_t         row_begin,
                              size_t         row_end,
                              const uint8_t *act,       /* (n_tokens, act_row_bytes) */
                              size_t         act_row_bytes,
                              size_t         n_tokens,
                              float         *y,         /* (n_tokens, y_stride) */
                              size_t         y_stride);

typedef void (*PonderPrepareFn) (const float *x,        /* (n) */
                                 size_t       n,
                                 void        *dst);

struct PonderMatmulKernel
{
  PonderType      type;
  const char     *variant;
  PonderActFormat act;
  PonderRowsFn    rows;
  PonderPrepareFn prepare;
};

/* Q5_0 interleaved eight rows at a time (quant-interleave.c): for each
 * group of 8 rows and each 32-element block column, 176 bytes holding the
 * 8 rows' f16 scales, then for k = 0..3 two 32-bit masks (bit 4r + i is the
 * fifth bit of quant 4k + i, then of quant 16 + 4k + i, of row r), then for
 * k = 0..3 32 bytes (byte 4r + i is byte 4k + i of row r's qs). */
#define PONDER_Q5_0X8_BLOCK_BYTES 176
#define PONDER_Q5_0X8_QH          16
#define PONDER_Q5_0X8_QS          48

/* Q8_0 interleaved eight rows at a time: for each group of 8 rows and each
 * 32-element block column, 272 bytes holding the 8 rows' f16 scales, then
 * for k = 0..7 32 bytes (byte 4r + i is quant 4k + i of row r plus 128, an
 * unsigned byte for vpdpbusd). */
#define PONDER_Q8_0X8_BLOCK_BYTES 272
#define PONDER_Q8_0X8_QS          16

/* Q4_K interleaved eight rows at a time: for each group of 8 rows and each
 * 256-element block column, 1152 bytes holding the 8 rows' f16 d, then
 * their f16 dmin, then three times 8 32-bit words (word w of row r is bytes
 * 4w..4w+3 of its 12 packed scale and min bytes), then for j = 0..3 and
 * g = 0..7 32 bytes (byte 4r + i is qs byte 32j + 4g + i of row r, whose
 * nibbles are elements 64j + 4g + i and 64j + 32 + 4g + i). */
#define PONDER_Q4_KX8_BLOCK_BYTES 1152
#define PONDER_Q4_KX8_SCALES      32
#define PONDER_Q4_KX8_QS          128

/* The interleaved layouts' AVX-512 VNNI kernels, or NULL; only call where
 * ponder_matmul_avx512_rows may be called. */
PonderRowsFn    ponder_matmul_avx512_x8_rows (PonderType type);
/* The same with AVX-VNNI in place of AVX-512; only call where the CPU has
 * AVX2, FMA, F16C and avxvnni. */
PonderRowsFn    ponder_matmul_avxvnni_x8_rows (PonderType type);

/* Generic activation converters (also used by the SIMD variants' tests). */
void ponder_matmul_prepare_q8_generic  (const float *x, size_t n, void *dst);
void ponder_matmul_prepare_q8k_generic (const float *x, size_t n, void *dst);
void ponder_matmul_prepare_f32         (const float *x, size_t n, void *dst);

/* AVX2 rows function for type, or NULL; only call where the CPU has
 * AVX2, FMA and F16C. */
PonderRowsFn    ponder_matmul_avx2_rows    (PonderType      type);
PonderPrepareFn ponder_matmul_avx2_prepare (PonderActFormat act);

/* The IQ formats' kernels (quant-iq-avx2.c, quant-iq-avx512.c), under the
 * same conditions, or NULL. */
PonderRowsFn    ponder_matmul_iq_avx2_rows   (PonderType      type);
PonderRowsFn    ponder_matmul_iq_avx512_rows (PonderType      type);

/* The same kernels with AVX-512 VL + VNNI dot products, or NULL; only call
 * where the CPU also has avx512f, avx512bw, avx512vl, avx512dq and
 * avx512vnni. */
PonderRowsFn    ponder_matmul_avx512_rows    (PonderType      type);
PonderPrepareFn ponder_matmul_avx512_prepare (PonderActFormat act);

/* Generic block dot products of the IQ formats (quant-iq.c): one weight
 * block with one activation block (PonderActQ8 for IQ4_NL, PonderActQ8K for
 * the rest). */
float ponder_dot_iq2_xxs (const uint8_t *w, const void *act);
float ponder_dot_iq2_xs  (const uint8_t *w, const void *act);
float ponder_dot_iq2_s   (const uint8_t *w, const void *act);
float ponder_dot_iq3_xxs (const uint8_t *w, const void *act);
float ponder_dot_iq3_s   (const uint8_t *w, const void *act);
float ponder_dot_iq1_s   (const uint8_t *w, const void *act);
float ponder_dot_iq1_m   (const uint8_t *w, const void *act);
float ponder_dot_iq4_nl  (const uint8_t *w, const void *act);
float ponder_dot_iq4_xs  (const uint8_t *w, const void *act);

static inline float
ponder_load_f16 (const uint8_t *p)
{
  return ponder_fp16_to_fp32 ((uint16_t) (p[0] | (p[1] << 8)));
}
