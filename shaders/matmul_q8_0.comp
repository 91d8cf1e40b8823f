#version 450
#extension GL_GOOGLE_include_directive : require

/* matmul_q8_0.comp: Q8_0 weights, 34-byte blocks of 32 (spec 2.3):
 * d f16 at 0, qs[32] int8 at 2; x = d * qs[i].
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "matmul_head.glsl"

void
dequant_unit (uint row_base, uint unit, out float v[32])
{
  uint base = row_base + unit * 34u;
  float d = read_f16 (base);

  [[unroll]] for (uint i = 0u; i < 32u; i++)
    v[i] = d * float (read_i8 (base + 2u + i));
}

#include "matmul_main.glsl"
