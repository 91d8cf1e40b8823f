#version 450
#extension GL_GOOGLE_include_directive : require

/* matmul_q6_k.comp: Q6_K weights, 210-byte super-blocks of 256 (spec 2.4):
 * ql[128] at 0, qh[64] at 128, scales[16] int8 at 192, d f16 at 208.
 * A unit is elements 32j..32j+31 of a super-block: h = j / 4, k = j % 4.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "matmul_head.glsl"

struct Unit
{
  uint  ql;       /* word index of the first word holding the 32 low-nibble bytes */
  uint  qh;       /* the same for the 32 high-bit bytes */
  uint  odd;      /* the block starts 2 bytes into a word */
  uint  ql_shift;
  uint  qh_shift;
  float scale0;   /* elements 0..15 */
  float scale1;   /* elements 16..31 */
};

Unit
unit_setup (uint row_base, uint unit)
{
  uint base = row_base + (unit / 8u) * 210u;
  uint j = unit % 8u;
  uint h = j / 4u;
  uint k = j % 4u;
  float d = read_f16 (base + 208u);
  Unit s;

  s.odd = (base >> 1) & 1u;
  s.ql = (base + 64u * h + 32u * (k & 1u)) >> 2;
  s.ql_shift = k < 2u ? 0u : 4u;
  s.qh = (base + 128u + 32u * h) >> 2;
  s.qh_shift = 2u * k;
  s.scale0 = d * float (read_i8 (base + 192u + 8u * h + 2u * k));
  s.scale1 = d * float (read_i8 (base + 192u + 8u * h + 2u * k + 1u));
  return s;
}

/* Bytes 4j..4j+3 of the 32 from word w (2 bytes further when odd: blocks
 * of 210 bytes are only 2-aligned). Both words are read whatever the
 * parity, so that the unrolled calls for j and j + 1 share a load: 9 loads
 * per 32 bytes instead of 16. Never past the block: ql and qh are followed
 * by more of ql, qh or the scales. */
uint
q6k_word (uint w, uint j, uint odd)
{
  uint lo = WD (w + j);
  uint hi = WD (w + j + 1u);

  return odd != 0u ? (lo >> 16) | (hi << 16) : lo;
}

vec4
dequant4 (Unit s, uint j)
{
  uint l = q6k_word (s.ql, j, s.odd) >> s.ql_shift;
  uint h = q6k_word (s.qh, j, s.odd) >> s.qh_shift;
  ivec4 q = ivec4 (int ((l & 15u) | ((h & 3u) << 4)),
                   int (((l >> 8) & 15u) | (((h >> 8) & 3u) << 4)),
                   int (((l >> 16) & 15u) | (((h >> 16) & 3u) << 4)),
                   int (((l >> 24) & 15u) | (((h >> 24) & 3u) << 4))) - 32;

  return (j < 4u ? s.scale0 : s.scale1) * vec4 (q);
}

#ifdef Q8
/* q - 32 as a signed byte (see matmul_q4_0.comp) */
int
qword (Unit s, uint j)
{
  uint l = (q6k_word (s.ql, j, s.odd) >> s.ql_shift) & 0x0f0f0f0fu;
  uint h = (q6k_word (s.qh, j, s.odd) >> s.qh_shift) & 0x03030303u;

  return int (((l | (h << 4)) + 0x60606060u) ^ 0x80808080u);
}

float qscale (Unit s, uint j) { return j < 4u ? s.scale0 : s.scale1; }
float qmin (Unit s) { return 0.0; }
#endif

#include "matmul_main.glsl"
