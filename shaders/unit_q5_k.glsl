/* unit_q5_k.glsl: Q5_K weights, 176-byte blocks of 256 (spec 2.4): d and
 * dmin f16 at 0 and 2, 12 bytes of 6-bit scales and mins at 4 (as Q4_K),
 * qh[32] at 16 (bit s of qh[l] is the fifth bit of element l of sub-block
 * s), qs[128] at 48 (sub-blocks 2g and 2g + 1 are the low and high nibbles
 * of qs[32g..32g+31]); x = d * sc * q - dmin * m.
 * matmul_head.glsl's Unit, unit_setup and dequant4, for matmul_q5_k.comp and
 * ds2_dequant.glsl (the including file provides bytes.glsl and wdata).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

struct Unit
{
  uint  qs;    /* word index of the 32 nibble bytes */
  uint  qh;    /* word index of qh */
  uint  shift; /* low or high nibbles */
  uint  s;     /* sub-block: the qh bit */
  float a;     /* d * scale */
  float b;     /* dmin * min */
};

Unit
unit_setup (uint row_base, uint unit)
{
  uint base = row_base + (unit / 8u) * 176u;
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
  /* 176 = 16 * 11: every field is 4-aligned in rows of whole blocks. */
  u.qs = (base + 48u + 32u * (s / 2u)) / 4u;
  u.qh = (base + 16u) / 4u;
  u.shift = (s & 1u) * 4u;
  u.s = s;
  return u;
}

vec4
dequant4 (Unit s, uint j)
{
  uint q = WD (s.qs + j) >> s.shift;
  uint h = (WD (s.qh + j) >> s.s) << 4;

  return s.a * vec4 (float ((q & 15u) | (h & 16u)), float (((q >> 8) & 15u) | ((h >> 8) & 16u)),
                     float (((q >> 16) & 15u) | ((h >> 16) & 16u)),
                     float (((q >> 24) & 15u) | ((h >> 24) & 16u))) - s.b;
}

#ifdef Q8
/* matmul_head.glsl's integer-dot accessors: q (0..31) fits a signed byte */
int
qword (Unit s, uint j)
{
  return int (((WD (s.qs + j) >> s.shift) & 0x0f0f0f0fu)
              | (((WD (s.qh + j) >> s.s) & 0x01010101u) << 4));
}

float qscale (Unit s, uint j) { return s.a; }
float qmin (Unit s) { return s.b; }
#endif
