#version 450
#extension GL_GOOGLE_include_directive : require

/* matmul_q4_k.comp: Q4_K weights, 144-byte super-blocks of 256 (spec 2.4):
 * d f16 at 0, dmin f16 at 2, scales[12] at 4, qs[128] at 16. A unit is one
 * sub-block s of 32: x = d * sc * q - dmin * m.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "matmul_head.glsl"

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

#include "matmul_main.glsl"
