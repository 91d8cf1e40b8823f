/* iq_dequant.glsl: the IQ weight formats (engine-spec 2.5) in 32-element
 * units, for matmul_iq.comp (through matmul_head.glsl's Unit interface) and
 * ds2_dequant.glsl (the deepseek2 expert/slice products).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The type is the define W_IQ1_S, W_IQ1_M, W_IQ2_XXS, W_IQ2_XS, W_IQ2_S,
 * W_IQ3_XXS, W_IQ3_S, W_IQ4_NL or W_IQ4_XS. A unit is one 32-element group
 * of a super-block (IQ4_NL: one block), so the 256-element types have 8 per
 * block; dequant4 (s, j) gives elements 4j..4j+3, the lanes 4 (j % 2).. of
 * sub-group j / 2 for the grid types. Every scale is formed as the spec
 * writes it (d * (0.5 + s) * 0.25 and the like, in f32) and then multiplies
 * the signed grid value, as engine/quant-iq.c does, so the dequantised
 * weights equal the CPU's bit for bit.
 *
 * The codebooks are read from a storage buffer at binding IQ_TABLE_BINDING
 * (defined by the including file), filled from the engine's C tables by
 * vulkan-iq.c: as constant arrays in the SPIR-V they took lavapipe's LLVM
 * minutes to compile. Blocks start
 * at even byte offsets only (66, 74, 82, 98, 110 and 50 are not multiples
 * of 4), so multi-byte fields are read with read_u32_even / read_u16 from
 * bytes.glsl, which the including file provides along with `uint wdata[]`.
 */

#if !defined(W_IQ1_S) && !defined(W_IQ1_M) && !defined(W_IQ2_XXS) && !defined(W_IQ2_XS) \
    && !defined(W_IQ2_S) && !defined(W_IQ3_XXS) && !defined(W_IQ3_S) && !defined(W_IQ4_NL) \
    && !defined(W_IQ4_XS)
#error "define the IQ type: one of W_IQ1_S ... W_IQ4_XS"
#endif

/* The codebooks (engine/vulkan-iq.c, which has the layouts), at word
 * offsets that mirror its enum. */
layout (binding = IQ_TABLE_BINDING) readonly buffer IqTables { uint iq_tab[]; };

#define IQ2XXS_GRID(i) iq_tab[(i)]
#define IQ2XS_GRID(i) iq_tab[512u + (i)]
#define IQ2S_GRID(i) iq_tab[1536u + (i)]
#define IQ3XXS_GRID(i) iq_tab[3584u + (i)]
#define IQ3S_GRID(i) iq_tab[3840u + (i)]
#define IQ1S_GRID(i) iq_tab[4352u + (i)]
#define KVALUE(q) float (int (iq_tab[6400u + (q)]))

/* The four bytes of w as floats, lowest first. */
vec4
iq_bytes4 (uint w)
{
  return vec4 (float (w & 255u), float ((w >> 8) & 255u), float ((w >> 16) & 255u),
               float (w >> 24));
}

/* +1 or -1 for the four low bits of mask (a set bit negates). */
vec4
iq_signs4 (uint mask)
{
  return vec4 (1.0) - 2.0 * vec4 (uvec4 (mask, mask >> 1, mask >> 2, mask >> 3) & 1u);
}

/* ksigns_iq2xs[k] of a 7-bit k: the eighth sign completes even parity. */
uint
iq_ksigns (uint k)
{
  return k | ((uint (bitCount (k)) & 1u) << 7);
}

#if defined(W_IQ2_XXS)
/* 66 bytes: d; per group 4 index bytes then a u32 w (scale in the top 4
 * bits, four 7-bit sign indices). */
struct Unit
{
  uint  idx; /* the four grid indices, byte l for sub-group l */
  uint  w;
  float db;
};

Unit
unit_setup (uint row_base, uint unit)
{
  uint base = row_base + (unit / 8u) * 66u;
  uint g = base + 2u + 8u * (unit % 8u);
  Unit s;

  s.idx = read_u32_even (g);
  s.w = read_u32_even (g + 4u);
  s.db = read_f16 (base) * (0.5 + float (s.w >> 28)) * 0.25;
  return s;
}

vec4
dequant4 (Unit s, uint j)
{
  uint l = j / 2u, h = j % 2u;
  uint grid = IQ2XXS_GRID (2u * ((s.idx >> (8u * l)) & 255u) + h);
  uint signs = iq_ksigns ((s.w >> (7u * l)) & 127u) >> (4u * h);

  return s.db * (iq_bytes4 (grid) * iq_signs4 (signs));
}

#elif defined(W_IQ2_XS)
/* 74 bytes: d; qs[32] u16 (9-bit index, 7-bit sign index); scales[8]. */
struct Unit
{
  uint  q01, q23; /* the group's four u16 */
  float db_lo, db_hi;
};

Unit
unit_setup (uint row_base, uint unit)
{
  uint base = row_base + (unit / 8u) * 74u;
  uint ib = unit % 8u;
  float d = read_f16 (base);
  uint sc = read_u8 (base + 66u + ib);
  Unit s;

  s.q01 = read_u32_even (base + 2u + 8u * ib);
  s.q23 = read_u32_even (base + 6u + 8u * ib);
  s.db_lo = d * (0.5 + float (sc & 15u)) * 0.25;
  s.db_hi = d * (0.5 + float (sc >> 4)) * 0.25;
  return s;
}

vec4
dequant4 (Unit s, uint j)
{
  uint l = j / 2u, h = j % 2u;
  uint v = ((l < 2u ? s.q01 : s.q23) >> (16u * (l % 2u))) & 0xffffu;
  uint grid = IQ2XS_GRID (2u * (v & 511u) + h);
  uint signs = iq_ksigns (v >> 9) >> (4u * h);

  return (l < 2u ? s.db_lo : s.db_hi) * (iq_bytes4 (grid) * iq_signs4 (signs));
}

#elif defined(W_IQ2_S)
/* 82 bytes: d; 32 index bytes at 2; 32 sign bytes at 34; qh[8] at 66 (two
 * high index bits per sub-group); scales[8] at 74. */
struct Unit
{
  uint  idx;   /* the low index bytes */
  uint  signs; /* sign byte l for sub-group l */
  uint  qh;
  float db_lo, db_hi;
};

Unit
unit_setup (uint row_base, uint unit)
{
  uint base = row_base + (unit / 8u) * 82u;
  uint ib = unit % 8u;
  float d = read_f16 (base);
  uint sc = read_u8 (base + 74u + ib);
  Unit s;

  s.idx = read_u32_even (base + 2u + 4u * ib);
  s.signs = read_u32_even (base + 34u + 4u * ib);
  s.qh = read_u8 (base + 66u + ib);
  s.db_lo = d * (0.5 + float (sc & 15u)) * 0.25;
  s.db_hi = d * (0.5 + float (sc >> 4)) * 0.25;
  return s;
}

vec4
dequant4 (Unit s, uint j)
{
  uint l = j / 2u, h = j % 2u;
  uint i = ((s.idx >> (8u * l)) & 255u) | (((s.qh >> (2u * l)) & 3u) << 8);
  uint grid = IQ2S_GRID (2u * i + h);
  uint signs = s.signs >> (8u * l + 4u * h);

  return (l < 2u ? s.db_lo : s.db_hi) * (iq_bytes4 (grid) * iq_signs4 (signs));
}

#elif defined(W_IQ3_XXS)
/* 98 bytes: d; 64 index bytes at 2 (8 per group, each a 4-lane entry);
 * eight u32 scale+sign words at 66. */
struct Unit
{
  uint  q0, q1; /* the group's eight index bytes */
  uint  w;
  float db;
};

Unit
unit_setup (uint row_base, uint unit)
{
  uint base = row_base + (unit / 8u) * 98u;
  uint ib = unit % 8u;
  Unit s;

  s.q0 = read_u32_even (base + 2u + 8u * ib);
  s.q1 = read_u32_even (base + 6u + 8u * ib);
  s.w = read_u32_even (base + 66u + 4u * ib);
  s.db = read_f16 (base) * (0.5 + float (s.w >> 28)) * 0.5;
  return s;
}

vec4
dequant4 (Unit s, uint j)
{
  uint l = j / 2u, h = j % 2u;
  uint grid = IQ3XXS_GRID (((j < 4u ? s.q0 : s.q1) >> (8u * (j % 4u))) & 255u);
  uint signs = iq_ksigns ((s.w >> (7u * l)) & 127u) >> (4u * h);

  return s.db * (iq_bytes4 (grid) * iq_signs4 (signs));
}

#elif defined(W_IQ3_S)
/* 110 bytes: d; qs[64] at 2 (8 low index bytes per group); qh[8] at 66
 * (the ninth index bit of each); signs[32] at 74; scales[4] at 106 (a
 * nibble per group). */
struct Unit
{
  uint  q0, q1;
  uint  qh;
  uint  signs;
  float db;
};

Unit
unit_setup (uint row_base, uint unit)
{
  uint base = row_base + (unit / 8u) * 110u;
  uint ib = unit % 8u;
  uint nib = (read_u8 (base + 106u + ib / 2u) >> (4u * (ib % 2u))) & 15u;
  Unit s;

  s.q0 = read_u32_even (base + 2u + 8u * ib);
  s.q1 = read_u32_even (base + 6u + 8u * ib);
  s.qh = read_u8 (base + 66u + ib);
  s.signs = read_u32_even (base + 74u + 4u * ib);
  s.db = read_f16 (base) * float (1u + 2u * nib);
  return s;
}

vec4
dequant4 (Unit s, uint j)
{
  uint l = j / 2u, h = j % 2u;
  uint i = (((j < 4u ? s.q0 : s.q1) >> (8u * (j % 4u))) & 255u) | (((s.qh >> j) & 1u) << 8);
  uint grid = IQ3S_GRID (i);
  uint signs = s.signs >> (8u * l + 4u * h);

  return s.db * (iq_bytes4 (grid) * iq_signs4 (signs));
}

#elif defined(W_IQ1_S)
/* 50 bytes: d; qs[32] at 2; qh[8] u16 at 34 (three high index bits per
 * sub-group, a 3-bit scale, the delta's sign). */
struct Unit
{
  uint  idx;
  uint  w;
  float dl;
  float delta;
};

Unit
unit_setup (uint row_base, uint unit)
{
  uint base = row_base + (unit / 8u) * 50u;
  uint ib = unit % 8u;
  Unit s;

  s.idx = read_u32_even (base + 2u + 4u * ib);
  s.w = read_u16 (base + 34u + 2u * ib);
  s.dl = read_f16 (base) * float (2u * ((s.w >> 12) & 7u) + 1u);
  s.delta = (s.w & 0x8000u) != 0u ? -0.125 : 0.125;
  return s;
}

vec4
dequant4 (Unit s, uint j)
{
  uint l = j / 2u, h = j % 2u;
  uint i = ((s.idx >> (8u * l)) & 255u) | (((s.w >> (3u * l)) & 7u) << 8);
  /* lanes + 1 in nibbles: the low ones for lanes 0-3, the high for 4-7 */
  vec4 lanes = iq_bytes4 ((IQ1S_GRID (i) >> (4u * h)) & 0x0f0f0f0fu) - 1.0;

  return s.dl * (lanes + s.delta);
}

#elif defined(W_IQ1_M)
/* 56 bytes: qs[32] at 0; qh[16] at 32 (per sub-group pair: 3 high index
 * bits and the delta's sign for each); scales[8] at 48, four u16 whose top
 * nibbles make the f16 super-block scale, the rest 3-bit group scales. */
struct Unit
{
  uint  idx;
  uint  qh;  /* a | b << 8 */
  float dl1, dl2;
};

Unit
unit_setup (uint row_base, uint unit)
{
  uint base = row_base + (unit / 8u) * 56u;
  uint ib = unit % 8u;
  uint sc0 = read_u16 (base + 48u), sc1 = read_u16 (base + 50u);
  uint sc2 = read_u16 (base + 52u), sc3 = read_u16 (base + 54u);
  uint bits = (sc0 >> 12) | ((sc1 >> 8) & 0x00f0u) | ((sc2 >> 4) & 0x0f00u) | (sc3 & 0xf000u);
  float d = unpackHalf2x16 (bits).x;
  uint t = read_u16 (base + 48u + 2u * (ib / 2u)) >> (6u * (ib % 2u));
  Unit s;

  s.idx = read_u32_even (base + 4u * ib);
  s.qh = read_u16 (base + 32u + 2u * ib);
  s.dl1 = d * float (2u * (t & 7u) + 1u);
  s.dl2 = d * float (2u * ((t >> 3) & 7u) + 1u);
  return s;
}

vec4
dequant4 (Unit s, uint j)
{
  uint l = j / 2u, h = j % 2u;
  uint q = (s.qh >> (8u * (l / 2u) + 4u * (l % 2u))) & 15u;
  uint i = ((s.idx >> (8u * l)) & 255u) | ((q & 7u) << 8);
  vec4 lanes = iq_bytes4 ((IQ1S_GRID (i) >> (4u * h)) & 0x0f0f0f0fu) - 1.0;
  float delta = (q & 8u) != 0u ? -0.125 : 0.125;

  return (l < 2u ? s.dl1 : s.dl2) * (lanes + delta);
}

#elif defined(W_IQ4_NL)
/* 18-byte blocks of 32: d; qs[16]; element i < 16 the low nibble of qs[i],
 * element i >= 16 the high nibble of qs[i - 16]; x = d * kvalues[q]. */
struct Unit
{
  uint  base;
  float d;
};

Unit
unit_setup (uint row_base, uint unit)
{
  Unit s;

  s.base = row_base + unit * 18u;
  s.d = read_f16 (s.base);
  return s;
}

vec4
dequant4 (Unit s, uint j)
{
  uint q = read_u32_even (s.base + 2u + 4u * (j % 4u)) >> (j < 4u ? 0u : 4u);

  return s.d * vec4 (KVALUE (q & 15u), KVALUE ((q >> 8) & 15u),
                     KVALUE ((q >> 16) & 15u), KVALUE ((q >> 24) & 15u));
}

#elif defined(W_IQ4_XS)
/* 136 bytes: d; scales_h u16 at 2; scales_l[4] at 4; qs[128] at 8, 16 per
 * group (low nibbles the first 16 elements, high nibbles the next). */
struct Unit
{
  uint  qs; /* word index: 136 and 8 are multiples of 4 */
  float dl;
};

Unit
unit_setup (uint row_base, uint unit)
{
  uint base = row_base + (unit / 8u) * 136u;
  uint ib = unit % 8u;
  uint ls = ((read_u8 (base + 4u + ib / 2u) >> (4u * (ib % 2u))) & 15u)
            | (((read_u16 (base + 2u) >> (2u * ib)) & 3u) << 4);
  Unit s;

  s.dl = read_f16 (base) * float (int (ls) - 32);
  s.qs = (base + 8u + 16u * ib) / 4u;
  return s;
}

vec4
dequant4 (Unit s, uint j)
{
  uint q = WD (s.qs + j % 4u) >> (j < 4u ? 0u : 4u);

  return s.dl * vec4 (KVALUE (q & 15u), KVALUE ((q >> 8) & 15u),
                      KVALUE ((q >> 16) & 15u), KVALUE ((q >> 24) & 15u));
}
#endif
