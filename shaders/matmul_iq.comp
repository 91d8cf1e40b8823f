#version 450
#extension GL_GOOGLE_include_directive : require

/* matmul_iq.comp: y = x times w transposed for IQ weights (engine-spec
 * 2.5), one variant per type define (W_IQ1_S ... W_IQ4_XS, see
 * iq_dequant.glsl, which supplies matmul_head.glsl's Unit, unit_setup and
 * dequant4). Decode and prefill are the same kernel (NB tokens per row).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "matmul_head.glsl"
#define IQ_TABLE_BINDING 3
#include "iq_dequant.glsl"
#include "matmul_main.glsl"
