#version 450
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require

/* quantize_q8.comp: x (n_blocks blocks of 32 floats) to signed bytes for the
 * integer-dot matmul kernels (matmul_<type>_q8, matmul_head.glsl).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Per block: d = max |x| / 127 (f32), q = x * (1 / d) rounded to nearest,
 * ties to even (0 for a block of zeros), packed four to a word. Output: the
 * n_blocks * 8 words of bytes, then per block the f32 pair (d, d * sum q),
 * the second for weight types with an offset (Q4_K, Q5_K). One invocation
 * per block: x is a single activation row or a small batch, so this is a
 * small dispatch next to the matmul that reads it.
 */
layout (local_size_x_id = 0) in;

layout (binding = 0) readonly buffer Input { vec4 x4[]; };  /* (n_blocks * 8) */
layout (binding = 1) writeonly buffer Output { uint xq[]; };  /* (n_blocks * 10) */

/* Mirrors PonderVkElementwisePush: n = the number of blocks. */
layout (push_constant) uniform Push
{
  uint n;
} p;

#include "grid.glsl"

void
main ()
{
  uint b = flat_invocation ();
  vec4 v[8];
  float amax = 0.0, d, inv;
  int sum = 0;

  if (b >= p.n)
    return;
  [[unroll]] for (uint j = 0u; j < 8u; j++)
    {
      v[j] = x4[b * 8u + j];
      amax = max (amax, max (max (abs (v[j].x), abs (v[j].y)), max (abs (v[j].z), abs (v[j].w))));
    }
  d = amax / 127.0;
  inv = d > 0.0 ? 1.0 / d : 0.0;
  [[unroll]] for (uint j = 0u; j < 8u; j++)
    {
      ivec4 q = clamp (ivec4 (roundEven (v[j] * inv)), -127, 127);

      sum += q.x + q.y + q.z + q.w;
      xq[b * 8u + j] = (uint (q.x) & 255u) | ((uint (q.y) & 255u) << 8)
                       | ((uint (q.z) & 255u) << 16) | (uint (q.w) << 24);
    }
  xq[p.n * 8u + 2u * b] = floatBitsToUint (d);
  xq[p.n * 8u + 2u * b + 1u] = floatBitsToUint (d * float (sum));
}
