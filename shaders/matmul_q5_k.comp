#version 450
#extension GL_GOOGLE_include_directive : require

/* matmul_q5_k.comp: y = x times w transposed for Q5_K weights (unit_q5_k.glsl).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "matmul_head.glsl"
#include "unit_q5_k.glsl"
#include "matmul_main.glsl"
