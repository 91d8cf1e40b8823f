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
  uint qs;     /* word index of the first word holding the unit's qs bytes */
  uint hmask;  /* the same for hmask */
  uint odd;    /* the block starts 2 bytes into a word */
  uint shift;  /* 2j */
  uint hshift; /* 4h + j */
  vec2 a;      /* d * (sc - 32) of the two sub-blocks */
};

Unit
unit_setup (uint row_base, uint unit)
{
  uint base = row_base + (unit / 8u) * 110u;
  uint k = unit % 8u;
  uint h = k / 4u, j = k % 4u;
  /* scales[2j], scales[2j + 1]: the four low bits of sub-blocks 8h + 2j and
   * 8h + 2j + 1 in nibble h; scales[8 + (2j & 3)] and the byte after it:
   * their two high bits at bit 2 (2h + j / 2) (spec 2.4) */
  uint lo = read_u16 (base + 96u + 2u * j) >> (4u * h);
  uint hi = read_u16 (base + 104u + (2u * j & 3u)) >> (2u * (2u * h + j / 2u));
  uint sc0 = (lo & 15u) | ((hi & 3u) << 4);
  uint sc1 = ((lo >> 8) & 15u) | (((hi >> 8) & 3u) << 4);
  float d = read_f16 (base + 108u);
  Unit s;

  s.a = d * vec2 (float (int (sc0) - 32), float (int (sc1) - 32));
  s.odd = (base >> 1) & 1u;
  s.qs = (base + 32u + 32u * h) >> 2;
  s.hmask = base >> 2;
  s.shift = 2u * j;
  s.hshift = 4u * h + j;
  return s;
}

/* Bytes 4j..4j+3 of the 32 at word w (2 bytes further when odd). Both
 * words are read whatever the parity, so that the unrolled calls for j and
 * j + 1 share a load: 9 per 32 bytes instead of 16. Never past the block:
 * hmask and qs are followed by qs and scales. */
uint
q3k_word (uint w, uint j, uint odd)
{
  uint lo = WD (w + j);
  uint hi = WD (w + j + 1u);

  return odd != 0u ? (lo >> 16) | (hi << 16) : lo;
}

vec4
dequant4 (Unit s, uint j)
{
  uint l = q3k_word (s.qs, j, s.odd) >> s.shift;
  uint m = q3k_word (s.hmask, j, s.odd) >> s.hshift;
  ivec4 q = ivec4 (int ((l & 3u) | ((m & 1u) << 2)),
                   int (((l >> 8) & 3u) | (((m >> 8) & 1u) << 2)),
                   int (((l >> 16) & 3u) | (((m >> 16) & 1u) << 2)),
                   int (((l >> 24) & 3u) | (((m >> 24) & 1u) << 2))) - 4;

  return (j < 4u ? s.a.x : s.a.y) * vec4 (q);
}
