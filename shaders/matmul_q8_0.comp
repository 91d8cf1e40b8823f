#version 450
#extension GL_GOOGLE_include_directive : require

/* matmul_q8_0.comp: Q8_0 weights, 34-byte blocks of 32 (spec 2.3):
 * d f16 at 0, qs[32] int8 at 2; x = d * qs[i].
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "matmul_head.glsl"

#ifdef TEXEL
/* The block's words out of three 16-byte texels (bytes.glsl, words9)
 * instead of a word gather for d and each of 9 qs words. */
struct Unit
{
  uint  q[8]; /* qs words */
  float d;
};

Unit
unit_setup (uint row_base, uint unit)
{
  uint u[9];
  Unit s;

  words9 (row_base + unit * 34u, u);
  s.d = unpackHalf2x16 (u[0]).x;
  [[unroll]] for (uint i = 0u; i < 8u; i++)
    s.q[i] = (u[i] >> 16) | (u[i + 1u] << 16); /* bytes 2 + 4i .. 5 + 4i */
  return s;
}

vec4
dequant4 (Unit s, uint j)
{
  int q = int (s.q[j]);

  return s.d * vec4 (float (bitfieldExtract (q, 0, 8)), float (bitfieldExtract (q, 8, 8)),
                     float (bitfieldExtract (q, 16, 8)), float (bitfieldExtract (q, 24, 8)));
}
#else
struct Unit
{
  uint  qs;  /* word index of the first word holding qs */
  uint  odd; /* qs starts 2 bytes into that word */
  float d;
};

Unit
unit_setup (uint row_base, uint unit)
{
  uint base = row_base + unit * 34u;
  Unit s;

  s.d = read_f16 (base);
  s.qs = (base + 2u) >> 2;
  s.odd = ((base + 2u) >> 1) & 1u;
  return s;
}

vec4
dequant4 (Unit s, uint j)
{
  /* Both neighbouring words whatever the parity, so that the unrolled
   * calls for j and j + 1 share a load (9 per block instead of 16); the
   * last call reads the next word only when it holds qs bytes, since the
   * block may end the buffer. */
  uint lo = WD (s.qs + j);
  uint hi = WD (s.qs + j + (j < 7u ? 1u : s.odd));
  int q = int (s.odd != 0u ? (lo >> 16) | (hi << 16) : lo);

  return s.d * vec4 (float (bitfieldExtract (q, 0, 8)), float (bitfieldExtract (q, 8, 8)),
                     float (bitfieldExtract (q, 16, 8)), float (bitfieldExtract (q, 24, 8)));
}

#ifdef Q8
/* the quants are signed bytes already */
int
qword (Unit s, uint j)
{
  uint lo = WD (s.qs + j);
  uint hi = WD (s.qs + j + (j < 7u ? 1u : s.odd));

  return int (s.odd != 0u ? (lo >> 16) | (hi << 16) : lo);
}

float qscale (Unit s, uint j) { return s.d; }
float qmin (Unit s) { return 0.0; }
#endif
#endif

#include "matmul_main.glsl"
