#version 450
#extension GL_GOOGLE_include_directive : require

/* matmul_bf16.comp: BF16 weights (2 bytes per element, the high half of an
 * f32).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define PARTIAL_UNITS
#include "matmul_head.glsl"

struct Unit
{
  uint base;
  uint kn;   /* elements of this unit inside the row */
};

Unit
unit_setup (uint row_base, uint unit)
{
  Unit s;

  s.base = row_base + unit * 64u;
  s.kn = min (32u, p.n_in - unit * 32u);
  return s;
}

vec4
dequant4 (Unit s, uint j)
{
  vec4 v;

  /* The index is clamped so that no read goes past the row. */
  [[unroll]] for (uint c = 0u; c < 4u; c++)
    v[c] = 4u * j + c < s.kn
           ? uintBitsToFloat (read_u16 (s.base + 2u * min (4u * j + c, s.kn - 1u)) << 16) : 0.0;
  return v;
}

#include "matmul_main.glsl"
