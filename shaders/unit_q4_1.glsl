/* unit_q4_1.glsl: Q4_1 weights, 20-byte blocks of 32 (spec 2.3): d f16
 * at 0, m f16 at 2, qs[16] at 4 (nibbles as in Q4_0); x = d * q + m.
 * matmul_head.glsl's Unit, unit_setup and dequant4, for matmul_q4_1.comp and
 * ds2_dequant.glsl (the including file provides bytes.glsl and wdata).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

struct Unit
{
  uint  base;
  float d;
  float m;
};

Unit
unit_setup (uint row_base, uint unit)
{
  Unit s;

  s.base = row_base + unit * 20u;
  s.d = read_f16 (s.base);
  s.m = read_f16 (s.base + 2u);
  return s;
}

vec4
dequant4 (Unit s, uint j)
{
  uint q = read_u32_even (s.base + 4u + 4u * (j % 4u)) >> (j < 4u ? 0u : 4u);

  return s.d * vec4 (float (q & 15u), float ((q >> 8) & 15u), float ((q >> 16) & 15u),
                     float ((q >> 24) & 15u)) + s.m;
}
