/* ds2_dequant.glsl: one 32-element unit of a weight row for ds2_matmul.comp,
 * in the type named by the define W_F32, W_F16, W_Q8_0, W_Q4_0, W_Q5_0, W_Q4_K,
 * W_Q6_K (written out here), W_Q4_1, W_Q5_1, W_Q2_K, W_Q3_K, W_Q5_K (the dense
 * matmul's unit_<type>.glsl) or an IQ type's W_IQ* (iq_dequant.glsl); block
 * layouts of spec 2.2-2.5. Q4_0 and Q5_0 are what rows too short for a
 * K-quant fall back to, as DeepSeek's attn_k_b. Units past n_in read as zero.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The including shader declares `uint wdata[]` (for bytes.glsl) and the
 * push block p with n_in. Rows start at byte offsets that are multiples of
 * 2 (F16, Q8_0, Q6_K) or 4 (F32, Q4_K), as the block sizes make them.
 */

#include "bytes.glsl"

#if defined(W_IQ1_S) || defined(W_IQ1_M) || defined(W_IQ2_XXS) || defined(W_IQ2_XS) \
    || defined(W_IQ2_S) || defined(W_IQ3_XXS) || defined(W_IQ3_S) || defined(W_IQ4_NL) \
    || defined(W_IQ4_XS)
#define W_UNIT
#define IQ_TABLE_BINDING 5
/* the IQ types (spec 2.5): the dense matmul's Unit, unit_setup, dequant4;
 * the codebooks at binding 5 */
#include "iq_dequant.glsl"
#elif defined(W_Q4_1)
#define W_UNIT
#include "unit_q4_1.glsl"
#elif defined(W_Q5_1)
#define W_UNIT
#include "unit_q5_1.glsl"
#elif defined(W_Q2_K)
#define W_UNIT
#include "unit_q2_k.glsl"
#elif defined(W_Q3_K)
#define W_UNIT
#include "unit_q3_k.glsl"
#elif defined(W_Q5_K)
#define W_UNIT
#include "unit_q5_k.glsl"
#endif

void
dequant_unit (uint row_base, uint unit, out float v[32])
{
#if defined(W_F32)
  uint kn = min (32u, p.n_in - unit * 32u);
  uint word = (row_base >> 2) + unit * 32u;

  [[unroll]] for (uint i = 0u; i < 32u; i++)
    v[i] = i < kn ? uintBitsToFloat (WD (word + min (i, kn - 1u))) : 0.0;
#elif defined(W_F16)
  uint kn = min (32u, p.n_in - unit * 32u);
  uint base = row_base + unit * 64u;

  [[unroll]] for (uint i = 0u; i < 32u; i++)
    v[i] = i < kn ? read_f16 (base + 2u * min (i, kn - 1u)) : 0.0;
#elif defined(W_Q8_0)
  uint base = row_base + unit * 34u;
  float d = read_f16 (base);

  [[unroll]] for (uint i = 0u; i < 32u; i++)
    v[i] = d * float (read_i8 (base + 2u + i));
#elif defined(W_Q4_0)
  /* 18-byte blocks: d, then qs[16]: element j in the low nibble of qs[j],
   * element j + 16 in its high nibble; x = d (q - 8) */
  uint base = row_base + unit * 18u;
  float d = read_f16 (base);

  [[unroll]] for (uint j = 0u; j < 16u; j++)
    {
      uint q = read_u8 (base + 2u + j);

      v[j] = d * float (int (q & 15u) - 8);
      v[j + 16u] = d * float (int (q >> 4) - 8);
    }
#elif defined(W_Q5_0)
  /* 22-byte blocks: d, qh (a little-endian u32 at an even offset), qs[16];
   * bit i of qh is the fifth bit of element i; x = d (q - 16) */
  uint base = row_base + unit * 22u;
  float d = read_f16 (base);
  uint qh = read_u16 (base + 2u) | (read_u16 (base + 4u) << 16);

  [[unroll]] for (uint j = 0u; j < 16u; j++)
    {
      uint q = read_u8 (base + 6u + j);

      v[j] = d * float (int ((q & 15u) | (((qh >> j) & 1u) << 4)) - 16);
      v[j + 16u] = d * float (int ((q >> 4) | (((qh >> (j + 16u)) & 1u) << 4)) - 16);
    }
#elif defined(W_Q4_K)
  /* 144-byte super-blocks: d, dmin (f16), 12 bytes of 6-bit scales and
   * mins, 128 bytes of nibbles; sub-block s of 32 uses the low nibbles of
   * qs[32 (s / 2) ...] for even s, the high ones for odd s. */
  uint base = row_base + (unit / 8u) * 144u;
  uint s = unit % 8u;
  float d = read_f16 (base);
  float dmin = read_f16 (base + 2u);
  uint sc, m;

  if (s < 4u)
    {
      sc = read_u8 (base + 4u + s) & 63u;
      m = read_u8 (base + 8u + s) & 63u;
    }
  else
    {
      uint lo = read_u8 (base + 8u + s);

      sc = (lo & 15u) | ((read_u8 (base + s) >> 6) << 4);
      m = (lo >> 4) | ((read_u8 (base + 4u + s) >> 6) << 4);
    }
  float a = d * float (sc), b = dmin * float (m);
  uint qword = (base + 16u + 32u * (s / 2u)) >> 2;
  uint shift = (s & 1u) * 4u;

  [[unroll]] for (uint w = 0u; w < 8u; w++)
    {
      uint q = WD (qword + w) >> shift;

      [[unroll]] for (uint j = 0u; j < 4u; j++)
        v[4u * w + j] = a * float ((q >> (8u * j)) & 15u) - b;
    }
#elif defined(W_Q6_K)
  /* 210-byte super-blocks: ql[128], qh[64], 16 int8 scales, d (f16).
   * Elements 128 h + 32 k + l (k < 4): low nibble of ql[64 h + 32 (k & 1) +
   * l], shifted by 4 for k >= 2; 2 high bits from qh[32 h + l] >> 2 k;
   * scale 8 h + 2 k + l / 16. */
  uint base = row_base + (unit / 8u) * 210u;
  uint j = unit % 8u, h = j / 4u, k = j % 4u;
  float d = read_f16 (base + 208u);
  uint ql = base + 64u * h + 32u * (k & 1u), qh = base + 128u + 32u * h;
  uint lshift = k < 2u ? 0u : 4u;
  float s0 = d * float (read_i8 (base + 192u + 8u * h + 2u * k));
  float s1 = d * float (read_i8 (base + 193u + 8u * h + 2u * k));

  [[unroll]] for (uint l = 0u; l < 32u; l++)
    {
      uint q = ((read_u8 (ql + l) >> lshift) & 15u) | (((read_u8 (qh + l) >> (2u * k)) & 3u) << 4);

      v[l] = (l < 16u ? s0 : s1) * float (int (q) - 32);
    }
#elif defined(W_UNIT)
  /* the dense matmul's unit, four elements at a time */
  Unit s = unit_setup (row_base, unit);

  [[unroll]] for (uint j = 0u; j < 8u; j++)
    {
      vec4 w = dequant4 (s, j);

      v[4u * j] = w.x;
      v[4u * j + 1u] = w.y;
      v[4u * j + 2u] = w.z;
      v[4u * j + 3u] = w.w;
    }
#else
#error "define the weight type: one of W_F32 ... W_Q6_K, W_Q4_1 ... W_Q5_K, W_IQ*"
#endif
}
