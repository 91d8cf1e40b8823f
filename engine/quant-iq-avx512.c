/* quant-iq-avx512.c: the IQ kernels of quant-iq-avx2.c rebuilt with AVX-512
 * VL and VNNI (variant "avx512"), as quant-matmul-avx512.c does for the
 * other formats: vpdpwssd folds the group scale multiply and accumulate, and
 * the 32 vector registers hold tiles of 8 tokens.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define X86_VNNI       1
#define X86_TARGET     "avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512dq,avx512vnni"
#define X86_IQ_ROWS_FN ponder_matmul_iq_avx512_rows
#define MAX_TILE       8

#include "quant-iq-avx2.c"
