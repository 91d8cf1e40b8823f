/* quant-matmul-avx512.c: the AVX2 kernels of quant-matmul-avx2.c rebuilt
 * with AVX-512 VL and VNNI (variant "avx512").
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Zen 4 splits 512-bit operations into two 256-bit halves, so the win here
 * is not width but fewer operations per product: vpdpbusd replaces
 * maddubs + madd for the 8-bit dots and vpdpwssd folds the int16 sub-block
 * scale multiply and the int32 accumulate into one instruction; the EVEX
 * encoding also gives 32 vector registers, enough for tiles of 8 tokens.
 * quant-matmul.c calls in only after __builtin_cpu_supports said yes.
 */
#define X86_VNNI       1
#define X86_TARGET     "avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512dq,avx512vnni"
#define X86_ROWS_FN    ponder_matmul_avx512_rows
#define X86_PREPARE_FN ponder_matmul_avx512_prepare
#define MAX_TILE       8

#include "quant-matmul-avx2.c"
