/* quant-private.h: helpers shared by quant.c and the matmul kernel files.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "quant.h"

/* Six-bit scale (0..63, before the -32 offset) of sub-block s (0..15) of a
 * Q3_K block; scales points at the block's 12 packed scale bytes. */
int  ponder_quant_q3k_scale    (const uint8_t *scales,
                                int            s);

/* get_scale_min_k4 (engine-spec 2.4): scale and min of sub-block s (0..7) of
 * a Q4_K/Q5_K block; scales points at the 12 packed bytes. */
void ponder_quant_k4_scale_min (const uint8_t *scales,
                                int            s,
                                int           *sc,
                                int           *m);

/* For tests and benchmarks: the kernel of type in a named SIMD variant
 * ("generic", "avx2", ...), or NULL if this CPU or build lacks it. */
const PonderMatmulKernel *ponder_matmul_kernel_variant_get (PonderType  type,
                                                            const char *variant);

/* ---- IQ formats (quant-iq.c, engine-spec 2.5) ------------------------------ */

/* Codebooks, generated from llama.cpp's ggml-common.h by
 * tests/gen_iq_tables.py (quant-iq-tables.c, quant-iq1s-table.c). u64 grid
 * entries hold 8 byte lanes, u32 entries 4, lane j = bits 8j..8j+7. */
extern const int8_t   ponder_kvalues_iq4nl[16];
extern const uint8_t  ponder_ksigns_iq2xs[128];
extern const uint64_t ponder_ksigns64[128];     /* lane j = 0xff if bit j of ksigns */
extern const uint64_t ponder_iq2xxs_grid[256];
extern const uint64_t ponder_iq2xs_grid[512];
extern const uint64_t ponder_iq2s_grid[1024];
extern const uint32_t ponder_iq3xxs_grid[256];
extern const uint32_t ponder_iq3s_grid[512];
extern const uint64_t ponder_iq1s_grid[2048];   /* lanes are int8 -1, 0, +1 */

/* Reference dequantiser of one block: block_size floats from block_bytes. */
typedef void (*PonderDequantBlockFn) (const uint8_t *block,
                                      float         *y);

/* The block dequantiser of an IQ type, NULL for any other type. */
PonderDequantBlockFn ponder_quant_iq_dequant_fn (PonderType type);
