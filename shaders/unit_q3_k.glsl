/* unit_q3_k.glsl: Q3_K weights, 110-byte super-blocks of 256 (spec 2.4):
 * hmask[32] at 0 (the third bit of each quant), qs[64] at 32 (the low two
 * bits), scales[12] at 96 (sixteen 6-bit scales, packed), d f16 at 108;
 * x = d * (sc - 32) * (q - 4). A unit is elements 32k..32k+31 of a
 * super-block (h = k / 4, j = k % 4): low bits 2j..2j+1 of
 * qs[32h..32h+31], high bit 4h + j of hmask[0..31], halves sub-blocks
 * 8h + 2j and 8h + 2j + 1.
 * matmul_head.glsl's Unit, unit_setup and dequant4, for matmul_q3_k.comp and
 * ds2_dequant.glsl (the including file provides bytes.glsl and wdata).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

struct Unit
{
  uint qs;     /* byte offset of the unit's 32 qs bytes */
  uint hmask;  /* byte offset of hmask */
  uint shift;  /* 2j */
  uint hshift; /* 4h + j */
  vec2 a;      /* d * (sc - 32) of the two sub-blocks */
};

/* The six-bit scale of sub-block s (spec 2.4: four low bits from the first
 * eight bytes, two high bits from the last four). */
uint
q3k_scale (uint scales, uint s)
{
  uint lo = (read_u8 (scales + (s % 8u)) >> (4u * (s / 8u))) & 15u;
  uint hi = (read_u8 (scales + 8u + (s & 3u)) >> (2u * (s >> 2))) & 3u;

  return lo | (hi << 4);
}

Unit
unit_setup (uint row_base, uint unit)
{
  uint base = row_base + (unit / 8u) * 110u;
  uint k = unit % 8u;
  uint h = k / 4u, j = k % 4u;
  uint s0 = 8u * h + 2u * j;
  float d = read_f16 (base + 108u);
  Unit s;

  s.a = d * vec2 (float (int (q3k_scale (base + 96u, s0)) - 32),
                  float (int (q3k_scale (base + 96u, s0 + 1u)) - 32));
  s.qs = base + 32u + 32u * h;
  s.hmask = base;
  s.shift = 2u * j;
  s.hshift = 4u * h + j;
  return s;
}

vec4
dequant4 (Unit s, uint j)
{
  /* 110-byte blocks: only 2-aligned */
  uint l = read_u32_even (s.qs + 4u * j) >> s.shift;
  uint m = read_u32_even (s.hmask + 4u * j) >> s.hshift;
  ivec4 q = ivec4 (int ((l & 3u) | ((m & 1u) << 2)),
                   int (((l >> 8) & 3u) | (((m >> 8) & 1u) << 2)),
                   int (((l >> 16) & 3u) | (((m >> 16) & 1u) << 2)),
                   int (((l >> 24) & 3u) | (((m >> 24) & 1u) << 2))) - 4;

  return (j < 4u ? s.a.x : s.a.y) * vec4 (q);
}
