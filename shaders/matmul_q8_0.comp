#version 450
#extension GL_GOOGLE_include_directive : require

/* matmul_q8_0.comp: Q8_0 weights, 34-byte blocks of 32 (spec 2.3):
 * d f16 at 0, qs[32] int8 at 2; x = d * qs[i].
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "matmul_head.glsl"

#ifdef TEXEL
/* A block is 34 bytes at an even offset: three 16-byte texels always
 * cover it (its offset in the first is at most 14). The 8 words of qs are
 * picked out of those 12 words with selects, since the offset differs from
 * lane to lane and an array indexed at run time would go to memory. Three
 * fetches instead of a word gather for d and for each of 9 qs words (on
 * lavapipe a vpgatherdd each). The index is clamped to the view: the third
 * texel may lie past the buffer when the block does not reach into it. */
struct Unit
{
  uint  q[8]; /* qs words */
  float d;
};

Unit
unit_setup (uint row_base, uint unit)
{
  uint base = row_base + unit * 34u;
  int t = int (base / 16u);
  int last = textureSize (wtex4) - 1;
  uint off = base % 16u;
  uvec4 t0 = texelFetch (wtex4, min (t, last));
  uvec4 t1 = texelFetch (wtex4, min (t + 1, last));
  uvec4 t2 = texelFetch (wtex4, min (t + 2, last));
  uint w[13] = uint[13] (t0.x, t0.y, t0.z, t0.w, t1.x, t1.y, t1.z, t1.w, t2.x, t2.y, t2.z, t2.w,
                         0u);
  uint a = (off + 2u) / 4u;          /* the word qs starts in, 0..4 */
  bool odd = ((off + 2u) & 2u) != 0u; /* 2 bytes into it */
  uint dw = off < 4u ? t0.x : off < 8u ? t0.y : off < 12u ? t0.z : t0.w;
  uint v[9];
  Unit s;

  [[unroll]] for (uint k = 0u; k < 9u; k++)
    v[k] = a == 0u ? w[k] : a == 1u ? w[k + 1u] : a == 2u ? w[k + 2u]
           : a == 3u ? w[k + 3u] : w[k + 4u];
  [[unroll]] for (uint i = 0u; i < 8u; i++)
    s.q[i] = odd ? (v[i] >> 16) | (v[i + 1u] << 16) : v[i];
  s.d = unpackHalf2x16 ((off & 2u) != 0u ? dw >> 16 : dw).x;
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

#endif

#include "matmul_main.glsl"
