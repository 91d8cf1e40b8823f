/* unit_q2_k.glsl: Q2_K weights, 84-byte super-blocks of 256 (spec 2.4):
 * scales[16] at 0 (low nibble the scale, high nibble the min of sub-block
 * s of 16), qs[64] at 16, d f16 at 80, dmin f16 at 82; x = d * sc * q -
 * dmin * m. A unit is elements 32k..32k+31 of a super-block (h = k / 4,
 * j = k % 4): its quants are bits 2j..2j+1 of qs[32h..32h+31], its halves
 * sub-blocks 8h + 2j and 8h + 2j + 1.
 * matmul_head.glsl's Unit, unit_setup and dequant4, for matmul_q2_k.comp and
 * ds2_dequant.glsl (the including file provides bytes.glsl and wdata).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

struct Unit
{
  uint qs;    /* word index of the unit's 32 qs bytes */
  uint shift; /* 2j */
  vec2 a;     /* d * scale of the two sub-blocks */
  vec2 b;     /* dmin * min of the two sub-blocks */
};

Unit
unit_setup (uint row_base, uint unit)
{
  uint base = row_base + (unit / 8u) * 84u;
  uint k = unit % 8u;
  uint h = k / 4u, j = k % 4u;
  float d = read_f16 (base + 80u);
  float dmin = read_f16 (base + 82u);
  /* the two sub-blocks' scale bytes, at an even offset */
  uint sm = read_u16 (base + 8u * h + 2u * j);
  Unit s;

  s.a = d * vec2 (float (sm & 15u), float ((sm >> 8) & 15u));
  s.b = dmin * vec2 (float ((sm >> 4) & 15u), float (sm >> 12));
  /* 84 = 4 * 21: every block, and so qs, is 4-aligned in rows of whole
   * blocks */
  s.qs = (base + 16u + 32u * h) / 4u;
  s.shift = 2u * j;
  return s;
}

vec4
dequant4 (Unit s, uint j)
{
  uint w = WD (s.qs + j) >> s.shift;
  vec4 q = vec4 (float (w & 3u), float ((w >> 8) & 3u), float ((w >> 16) & 3u),
                 float ((w >> 24) & 3u));

  return j < 4u ? s.a.x * q - s.b.x : s.a.y * q - s.b.y;
}
