#version 450
#extension GL_GOOGLE_include_directive : require

/* matmul_q6_k.comp: Q6_K weights, 210-byte super-blocks of 256 (spec 2.4):
 * ql[128] at 0, qh[64] at 128, scales[16] int8 at 192, d f16 at 208.
 * A unit is elements 32j..32j+31 of a super-block: h = j / 4, k = j % 4.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "matmul_head.glsl"

void
dequant_unit (uint row_base, uint unit, out float v[32])
{
  uint base = row_base + (unit / 8u) * 210u;
  uint j = unit % 8u;
  uint h = j / 4u;
  uint k = j % 4u;
  float d = read_f16 (base + 208u);
  uint ql_base = base + 64u * h + 32u * (k & 1u);
  uint ql_shift = k < 2u ? 0u : 4u;
  uint qh_base = base + 128u + 32u * h;
  float scale0 = d * float (read_i8 (base + 192u + 8u * h + 2u * k));
  float scale1 = d * float (read_i8 (base + 192u + 8u * h + 2u * k + 1u));

  [[unroll]] for (uint l = 0u; l < 32u; l++)
    {
      uint lo = (read_u8 (ql_base + l) >> ql_shift) & 15u;
      uint hi = (read_u8 (qh_base + l) >> (2u * k)) & 3u;
      int q = int (lo | (hi << 4)) - 32;

      v[l] = (l < 16u ? scale0 : scale1) * float (q);
    }
}

#include "matmul_main.glsl"
