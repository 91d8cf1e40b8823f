#version 450
#extension GL_GOOGLE_include_directive : require

/* matmul_q4_k.comp: Q4_K weights, 144-byte super-blocks of 256 (spec 2.4):
 * d f16 at 0, dmin f16 at 2, scales[12] at 4, qs[128] at 16. A unit is one
 * sub-block s of 32: x = d * sc * q - dmin * m.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "matmul_head.glsl"

void
dequant_unit (uint row_base, uint unit, out float v[32])
{
  uint base = row_base + (unit / 8u) * 144u;
  uint s = unit % 8u;
  uint g = s / 2u;
  uint shift = (s & 1u) * 4u;
  float d = read_f16 (base);
  float dmin = read_f16 (base + 2u);
  uint sc, m;
  float a, b;

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
  a = d * float (sc);
  b = dmin * float (m);
  /* 32 bytes of qs, 4-aligned because 144 and 16 are multiples of 4. */
  [[unroll]] for (uint w = 0u; w < 8u; w++)
    {
      uint word = wdata[(base + 16u + 32u * g) / 4u + w];

      [[unroll]] for (uint j = 0u; j < 4u; j++)
        v[4u * w + j] = a * float ((word >> (8u * j + shift)) & 15u) - b;
    }
}

#include "matmul_main.glsl"
