#version 450
#extension GL_GOOGLE_include_directive : require

/* matmul_q8_0.comp: Q8_0 weights, 34-byte blocks of 32 (spec 2.3):
 * d f16 at 0, qs[32] int8 at 2; x = d * qs[i].
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "matmul_head.glsl"

struct Unit
{
  uint  base;
  float d;
};

Unit
unit_setup (uint row_base, uint unit)
{
  Unit s;

  s.base = row_base + unit * 34u;
  s.d = read_f16 (s.base);
  return s;
}

vec4
dequant4 (Unit s, uint j)
{
  int q = int (read_u32_even (s.base + 2u + 4u * j));

  return s.d * vec4 (float (bitfieldExtract (q, 0, 8)), float (bitfieldExtract (q, 8, 8)),
                     float (bitfieldExtract (q, 16, 8)), float (bitfieldExtract (q, 24, 8)));
}

#include "matmul_main.glsl"
