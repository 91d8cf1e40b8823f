#version 450
#extension GL_GOOGLE_include_directive : require

/* matmul_q4_k.comp: Q4_K weights, 144-byte super-blocks of 256 (spec 2.4):
 * d f16 at 0, dmin f16 at 2, scales[12] at 4, qs[128] at 16. A unit is one
 * sub-block s of 32: x = d * sc * q - dmin * m.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "matmul_head.glsl"

#ifdef TEXEL
/* Blocks are 16-aligned (144-byte blocks, rows of whole blocks, views at a
 * 16-byte multiple), so a unit is three 16-byte fetches: the block's head
 * (d, dmin, scales) and the sub-block pair's 32 bytes of qs, instead of a
 * word gather for each f16, scale byte and word of qs (on lavapipe a
 * vpgatherdd each). */
struct Unit
{
  uvec4 q0, q1; /* qs words 0..3 and 4..7 */
  uint  shift;  /* low or high nibbles */
  float a;      /* d * scale */
  float b;      /* dmin * min */
};

/* Byte k of the 16 in h. */
uint
head_byte (uvec4 h, uint k)
{
  return (h[k / 4u] >> (8u * (k % 4u))) & 255u;
}

Unit
unit_setup (uint row_base, uint unit)
{
  uint block = (row_base + (unit / 8u) * 144u) / 16u; /* in 16-byte texels */
  uint s = unit % 8u;
  uvec4 h = texelFetch (wtex4, int (block));
  vec2 dd = unpackHalf2x16 (h.x);
  uint sc, m;
  Unit u;

  /* the scales start at byte 4 of the block: scales[i] = head_byte (4 + i) */
  if (s < 4u)
    {
      sc = head_byte (h, 4u + s) & 63u;
      m = head_byte (h, 8u + s) & 63u;
    }
  else
    {
      sc = (head_byte (h, 8u + s) & 15u) | ((head_byte (h, s) >> 6) << 4);
      m = (head_byte (h, 8u + s) >> 4) | ((head_byte (h, 4u + s) >> 6) << 4);
    }
  u.a = dd.x * float (sc);
  u.b = dd.y * float (m);
  u.q0 = texelFetch (wtex4, int (block + 1u + 2u * (s / 2u)));
  u.q1 = texelFetch (wtex4, int (block + 2u + 2u * (s / 2u)));
  u.shift = (s & 1u) * 4u;
  return u;
}

vec4
dequant4 (Unit s, uint j)
{
  uint word = (j < 4u ? s.q0[j % 4u] : s.q1[j % 4u]) >> s.shift;

  return s.a * vec4 (float (word & 15u), float ((word >> 8) & 15u), float ((word >> 16) & 15u),
                     float ((word >> 24) & 15u)) - s.b;
}
#else
struct Unit
{
  uint  qs;    /* word index of the sub-block pair's 32 bytes */
  uint  shift; /* low or high nibbles */
  float a;     /* d * scale */
  float b;     /* dmin * min */
};

Unit
unit_setup (uint row_base, uint unit)
{
  uint base = row_base + (unit / 8u) * 144u;
  uint s = unit % 8u;
  float d = read_f16 (base);
  float dmin = read_f16 (base + 2u);
  uint sc, m;
  Unit u;

  if (s < 4u)
    {
      sc = read_u8 (base + 4u + s) & 63u;
      m = read_u8 (base + 8u + s) & 63u;
    }
  else
    {
      sc = (read_u8 (base + 8u + s) & 15u) | ((read_u8 (base + s) >> 6) << 4);
      m = (read_u8 (base + 8u + s) >> 4) | ((read_u8 (base + 4u + s) >> 6) << 4);
    }
  u.a = d * float (sc);
  u.b = dmin * float (m);
  /* 32 bytes of qs, 4-aligned because 144 and 16 are multiples of 4. */
  u.qs = (base + 16u + 32u * (s / 2u)) / 4u;
  u.shift = (s & 1u) * 4u;
  return u;
}

vec4
dequant4 (Unit s, uint j)
{
  uint word = WD (s.qs + j) >> s.shift;

  return s.a * vec4 (float (word & 15u), float ((word >> 8) & 15u), float ((word >> 16) & 15u),
                     float ((word >> 24) & 15u)) - s.b;
}

#ifdef Q8
int qword (Unit s, uint j) { return int ((WD (s.qs + j) >> s.shift) & 0x0f0f0f0fu); }
float qscale (Unit s, uint j) { return s.a; }
float qmin (Unit s) { return s.b; }
#endif
#endif

#include "matmul_main.glsl"
