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
