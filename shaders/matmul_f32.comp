#version 450
#extension GL_GOOGLE_include_directive : require

/* matmul_f32.comp: F32 weights (4 bytes per element).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "matmul_head.glsl"

void
dequant_unit (uint row_base, uint unit, out float v[32])
{
  uint base = row_base / 4u + unit * 32u;
  uint kn = min (32u, p.n_in - unit * 32u);

  [[unroll]] for (uint i = 0u; i < 32u; i++)
    v[i] = i < kn ? uintBitsToFloat (wdata[base + i]) : 0.0;
}

#include "matmul_main.glsl"
