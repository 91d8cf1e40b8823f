/* quant.h: weight formats, reference dequantisation and CPU dot kernels.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Block layouts follow ../shared/docs/engine-spec.md section 2. The scalar
 * dequantisers are the reference that tests compare with numpy; the matmul
 * kernels pick SIMD code (AVX2, ...) at run time with a portable fallback.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Type ids as stored in GGUF tensor infos. */
typedef enum
{
  PONDER_TYPE_F32     = 0,
  PONDER_TYPE_F16     = 1,
  PONDER_TYPE_Q4_0    = 2,
  PONDER_TYPE_Q4_1    = 3,
  PONDER_TYPE_Q5_0    = 6,
  PONDER_TYPE_Q5_1    = 7,
  PONDER_TYPE_Q8_0    = 8,
  PONDER_TYPE_Q8_1    = 9,
  PONDER_TYPE_Q2_K    = 10,
  PONDER_TYPE_Q3_K    = 11,
  PONDER_TYPE_Q4_K    = 12,
  PONDER_TYPE_Q5_K    = 13,
  PONDER_TYPE_Q6_K    = 14,
  PONDER_TYPE_Q8_K    = 15,
  PONDER_TYPE_IQ2_XXS = 16,
  PONDER_TYPE_IQ2_XS  = 17,
  PONDER_TYPE_IQ3_XXS = 18,
  PONDER_TYPE_IQ1_S   = 19,
  PONDER_TYPE_IQ4_NL  = 20,
  PONDER_TYPE_IQ3_S   = 21,
  PONDER_TYPE_IQ2_S   = 22,
  PONDER_TYPE_IQ4_XS  = 23,
  PONDER_TYPE_I8      = 24,
  PONDER_TYPE_I16     = 25,
  PONDER_TYPE_I32     = 26,
  PONDER_TYPE_I64     = 27,
  PONDER_TYPE_F64     = 28,
  PONDER_TYPE_IQ1_M   = 29,
  PONDER_TYPE_BF16    = 30,
  PONDER_TYPE_TQ1_0   = 34,
  PONDER_TYPE_TQ2_0   = 35,
  PONDER_TYPE_MXFP4   = 39,
} PonderType;

typedef struct
{
  const char *name;          /* "Q4_K" */
  uint32_t    block_size;    /* elements per block */
  uint32_t    block_bytes;   /* bytes per block */
  bool        can_compute;   /* the engine can dequantise and multiply it */
} PonderTypeInfo;

/* NULL for ids that are not GGUF types at all (removed or future ids). */
const PonderTypeInfo *ponder_type_info      (uint32_t type);

/* A printable name for any id, including unknown ones ("type 42"); the
 * returned string is static or written into buf (at least 32 bytes). */
const char           *ponder_type_name      (uint32_t type, char *buf, size_t buf_size);

/* Bytes of n elements of type; false if n is not a multiple of the block
 * size, the type is unknown, or the size overflows. */
bool                  ponder_type_row_bytes (uint32_t type, uint64_t n, uint64_t *out_bytes);

/* Reference dequantisation of n elements (a multiple of the block size). */
void                  ponder_dequantize_row (PonderType type, const void *src, float *dst, size_t n);

/* IEEE half and bfloat16 conversions. */
float                 ponder_fp16_to_fp32   (uint16_t h);
uint16_t              ponder_fp32_to_fp16   (float f);
float                 ponder_bf16_to_fp32   (uint16_t h);

/* ---- Matrix products on the CPU ----------------------------------------
 *
 * y[t][r] = sum_i W[r][i] * x[t][i] for rows r in [row_begin, row_end) and
 * tokens t in [0, n_tokens). The activations are first converted once into
 * the kernel's activation format (e.g. Q8_K blocks for K-quant weights) with
 * ponder_matmul_prepare_input; several threads then call ponder_matmul_rows
 * on disjoint row ranges of the same prepared input. */
typedef struct PonderMatmulKernel PonderMatmulKernel;

/* NULL when type cannot be multiplied (then say so by name). Picks the best
 * SIMD variant this CPU supports. */
const PonderMatmulKernel *ponder_matmul_kernel         (PonderType type);

/* Bytes needed to hold one prepared activation row of n elements. */
size_t                    ponder_matmul_input_row_bytes (const PonderMatmulKernel *kernel,
                                                         size_t                    n);

/* Converts x (n_tokens rows of n floats, row stride x_stride floats) into
 * dst (n_tokens rows of input_row_bytes each). */
void                      ponder_matmul_prepare_input   (const PonderMatmulKernel *kernel,
                                                         const float              *x,
                                                         size_t                    x_stride,
                                                         size_t                    n,
                                                         size_t                    n_tokens,
                                                         void                     *dst);

/* weight: the whole matrix, rows of n elements, row r at weight + r * row_bytes.
 * y: n_tokens rows with stride y_stride floats; only columns
 * [row_begin, row_end) are written. */
void                      ponder_matmul_rows            (const PonderMatmulKernel *kernel,
                                                         const void               *weight,
                                                         size_t                    n,
                                                         size_t                    row_begin,
                                                         size_t                    row_end,
                                                         const void               *prepared_input,
                                                         size_t                    n_tokens,
                                                         float                    *y,
                                                         size_t                    y_stride);

/* A matrix of a type with an interleaved layout (Q5_0, Q8_0, Q4_K) can be
 * rearranged once, at load, eight rows at a time, for a kernel that works
 * on eight rows at once (quant-interleave.c). ponder_matmul_kernel_interleaved gives
 * that kernel, or NULL when this CPU or type has none;
 * ponder_matmul_interleave rearranges n_out rows (a multiple of 8) of n
 * elements in place, and returns false, changing nothing, for a type
 * without the layout or when there is no memory for one group's copy. */
const PonderMatmulKernel *ponder_matmul_kernel_interleaved (PonderType type);
bool                      ponder_matmul_interleave      (PonderType type,
                                                         void      *weight,
                                                         size_t     n,
                                                         size_t     n_out);

/* Name of the SIMD variant chosen ("avx2", "generic", ...), for bench output. */
const char               *ponder_matmul_kernel_variant  (const PonderMatmulKernel *kernel);
