#version 450
#extension GL_GOOGLE_include_directive : require

/* matmul_q5_0.comp: Q5_0 weights, 22-byte blocks of 32 (spec 2.3): d f16
 * at 0, qh u32 at 2 (bit i is the fifth bit of element i), qs[16] at 6
 * (nibbles as in Q4_0); x = d * (q - 16).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "matmul_head.glsl"

#ifdef TEXEL
/* The block's words out of 16-byte texels (bytes.glsl, words9) instead of
 * a word gather per field. */
struct Unit
{
  uint  q[4]; /* qs words */
  uint  qh;
  float d;
};

Unit
unit_setup (uint row_base, uint unit)
{
  uint u[9];
  Unit s;

  words9 (row_base + unit * 22u, u);
  s.d = unpackHalf2x16 (u[0]).x;
  s.qh = (u[0] >> 16) | (u[1] << 16);
  [[unroll]] for (uint i = 0u; i < 4u; i++)
    s.q[i] = (u[i + 1u] >> 16) | (u[i + 2u] << 16); /* bytes 6 + 4i .. 9 + 4i */
  return s;
}

vec4
dequant4 (Unit s, uint j)
{
  uint q = s.q[j % 4u] >> (j < 4u ? 0u : 4u);
  uint h = (s.qh >> (4u * j)) << 4;

  return s.d * (vec4 (float ((q & 15u) | (h & 16u)), float (((q >> 8) & 15u) | ((h >> 1) & 16u)),
                      float (((q >> 16) & 15u) | ((h >> 2) & 16u)),
                      float (((q >> 24) & 15u) | ((h >> 3) & 16u))) - 16.0);
}
#else
struct Unit
{
  uint  base;
  uint  qh;
  float d;
};

Unit
unit_setup (uint row_base, uint unit)
{
  Unit s;

  s.base = row_base + unit * 22u;
  s.d = read_f16 (s.base);
  s.qh = read_u32_even (s.base + 2u);
  return s;
}

vec4
dequant4 (Unit s, uint j)
{
  uint q = read_u32_even (s.base + 6u + 4u * (j % 4u)) >> (j < 4u ? 0u : 4u);
  uint h = (s.qh >> (4u * j)) << 4;

  return s.d * (vec4 (float ((q & 15u) | (h & 16u)), float (((q >> 8) & 15u) | ((h >> 1) & 16u)),
                      float (((q >> 16) & 15u) | ((h >> 2) & 16u)),
                      float (((q >> 24) & 15u) | ((h >> 3) & 16u))) - 16.0);
}

#ifdef Q8
/* q - 16 as a signed byte (see matmul_q4_0.comp); the fifth bits of
 * elements 4j..4j+3 go to bit 4 of each byte */
int
qword (Unit s, uint j)
{
  uint q = (read_u32_even (s.base + 6u + 4u * (j % 4u)) >> (j < 4u ? 0u : 4u)) & 0x0f0f0f0fu;
  uint h = s.qh >> (4u * j);

  q |= ((h & 1u) << 4) | ((h & 2u) << 11) | ((h & 4u) << 18) | ((h & 8u) << 25);
  return int ((q + 0x70707070u) ^ 0x80808080u);
}

float qscale (Unit s, uint j) { return s.d; }
float qmin (Unit s) { return 0.0; }
#endif
#endif

#include "matmul_main.glsl"
