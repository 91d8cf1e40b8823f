/* unit_q5_1.glsl: Q5_1 weights, 24-byte blocks of 32 (spec 2.3): d f16
 * at 0, m f16 at 2, qh u32 at 4 (bit i is the fifth bit of element i),
 * qs[16] at 8 (nibbles as in Q4_0); x = d * q + m.
 * matmul_head.glsl's Unit, unit_setup and dequant4, for matmul_q5_1.comp and
 * ds2_dequant.glsl (the including file provides bytes.glsl and wdata).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

struct Unit
{
  uint  base;
  uint  qh;
  float d;
  float m;
};

Unit
unit_setup (uint row_base, uint unit)
{
  Unit s;

  s.base = row_base + unit * 24u;
  s.d = read_f16 (s.base);
  s.m = read_f16 (s.base + 2u);
  s.qh = read_u32_even (s.base + 4u);
  return s;
}

vec4
dequant4 (Unit s, uint j)
{
  uint q = read_u32_even (s.base + 8u + 4u * (j % 4u)) >> (j < 4u ? 0u : 4u);
  uint h = (s.qh >> (4u * j)) << 4;

  return s.d * vec4 (float ((q & 15u) | (h & 16u)), float (((q >> 8) & 15u) | ((h >> 1) & 16u)),
                     float (((q >> 16) & 15u) | ((h >> 2) & 16u)),
                     float (((q >> 24) & 15u) | ((h >> 3) & 16u))) + s.m;
}
