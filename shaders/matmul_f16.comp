#version 450
#extension GL_GOOGLE_include_directive : require

/* matmul_f16.comp: F16 weights (2 bytes per element).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define PARTIAL_UNITS
#include "matmul_head.glsl"

#ifdef F16_STORAGE
#extension GL_EXT_shader_16bit_storage : require
#extension GL_EXT_shader_explicit_arithmetic_types_float16 : require
layout (binding = 0) readonly buffer Weights16 { float16_t wh[]; };
layout (binding = 0) readonly buffer Weights16x4 { f16vec4 wh4[]; };
#endif

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

#ifdef F16_STORAGE
/* Built with F16_STORAGE (matmul_f16_h, with SUBGROUP): the same weights
 * as 16-bit values (storageBuffer16BitAccess), four at a time when rows
 * are a multiple of 4 (8-byte aligned), instead of a word load and an
 * unpack per element. */
vec4
dequant4 (Unit s, uint j)
{
  uint e = s.base / 2u; /* the unit's first element */
  vec4 v;

  if ((p.n_in & 3u) == 0u)
    return 4u * j < s.kn ? vec4 (wh4[e / 4u + min (j, (s.kn - 1u) / 4u)]) : vec4 (0.0);
  [[unroll]] for (uint c = 0u; c < 4u; c++)
    v[c] = 4u * j + c < s.kn ? float (wh[e + min (4u * j + c, s.kn - 1u)]) : 0.0;
  return v;
}
#else
vec4
dequant4 (Unit s, uint j)
{
  vec4 v;

  /* The index is clamped so that no read goes past the row. */
  [[unroll]] for (uint c = 0u; c < 4u; c++)
    v[c] = 4u * j + c < s.kn ? read_f16 (s.base + 2u * min (4u * j + c, s.kn - 1u)) : 0.0;
  return v;
}
#endif

#include "matmul_main.glsl"
