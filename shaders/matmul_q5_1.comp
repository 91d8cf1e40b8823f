#version 450
#extension GL_GOOGLE_include_directive : require

/* matmul_q5_1.comp: y = x times w transposed for Q5_1 weights (unit_q5_1.glsl).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "matmul_head.glsl"
#include "unit_q5_1.glsl"
#include "matmul_main.glsl"
