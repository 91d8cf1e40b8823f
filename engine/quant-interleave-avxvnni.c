/* quant-interleave-avxvnni.c: the interleaved kernels of
 * quant-interleave-avx512.c for AVX2 CPUs with AVX-VNNI (variant
 * "avxvnni-x8"): vpdpbusd and vpdpwssd in their VEX encoding, as Intel's
 * client cores since Alder Lake have them without AVX-512.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define X86_AVXVNNI    1
#define X86_TARGET     "avx2,fma,f16c,avxvnni"
#define X86_X8_ROWS_FN ponder_matmul_avxvnni_x8_rows

#include "quant-interleave-avx512.c"
