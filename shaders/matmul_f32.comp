#version 450
#extension GL_GOOGLE_include_directive : require

/* matmul_f32.comp: F32 weights (4 bytes per element).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define PARTIAL_UNITS
#include "matmul_head.glsl"

struct Unit
{
  uint base; /* word index */
  uint kn;   /* elements of this unit inside the row */
};

Unit
unit_setup (uint row_base, uint unit)
{
  Unit s;

  s.base = row_base / 4u + unit * 32u;
  s.kn = min (32u, p.n_in - unit * 32u);
  return s;
}

vec4
dequant4 (Unit s, uint j)
{
  vec4 v;

  [[unroll]] for (uint c = 0u; c < 4u; c++)
    v[c] = 4u * j + c < s.kn
           ? uintBitsToFloat (WD (s.base + min (4u * j + c, s.kn - 1u))) : 0.0;
  return v;
}

#include "matmul_main.glsl"
