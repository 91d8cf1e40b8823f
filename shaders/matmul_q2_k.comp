#version 450
#extension GL_GOOGLE_include_directive : require

/* matmul_q2_k.comp: y = x times w transposed for Q2_K weights (unit_q2_k.glsl).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "matmul_head.glsl"
#include "unit_q2_k.glsl"
#include "matmul_main.glsl"
