#version 450
#extension GL_GOOGLE_include_directive : require

/* matmul_q4_0.comp: Q4_0 weights, 18-byte blocks of 32 (spec 2.3): d f16
 * at 0, qs[16] at 2; element i < 16 is the low nibble of qs[i], element
 * i >= 16 the high nibble of qs[i - 16]; x = d * (q - 8).
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

  s.base = row_base + unit * 18u;
  s.d = read_f16 (s.base);
  return s;
}

vec4
dequant4 (Unit s, uint j)
{
  uint q = read_u32_even (s.base + 2u + 4u * (j % 4u)) >> (j < 4u ? 0u : 4u);

  return s.d * (vec4 (float (q & 15u), float ((q >> 8) & 15u), float ((q >> 16) & 15u),
                      float ((q >> 24) & 15u)) - 8.0);
}

#ifdef Q8
/* q - 8 as a signed byte: q + 120 stays below 256 (no carry into the next
 * byte), and flipping bit 7 then subtracts 128. */
int
qword (Unit s, uint j)
{
  uint q = (read_u32_even (s.base + 2u + 4u * (j % 4u)) >> (j < 4u ? 0u : 4u)) & 0x0f0f0f0fu;

  return int ((q + 0x78787878u) ^ 0x80808080u);
}

float qscale (Unit s, uint j) { return s.d; }
float qmin (Unit s) { return 0.0; }
#endif

#include "matmul_main.glsl"
