/* matmul_head.glsl: y = x times w transposed for a small batch of tokens.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * One workgroup computes one output row for up to NB tokens, so each weight
 * row is dequantised once per NB tokens (decode is the NB = 1 case). The
 * row is walked in units of 32 elements (a Q8_0 block, a Q4_K sub-block,
 * two Q6_K sub-blocks); the including shader defines
 * `void dequant_unit (uint row_base, uint unit, out float v[32])`, which
 * never expands the weights in memory. Threads split the units and reduce
 * through shared memory, which works without subgroup operations (lavapipe).
 */

#define NB 8u

layout (local_size_x_id = 0) in;

layout (binding = 0) readonly buffer Weights { uint wdata[]; };  /* (n_out, row_bytes) */
layout (binding = 1) readonly buffer Input { float x[]; };       /* (n_tokens, n_in) */
layout (binding = 2) writeonly buffer Output { float y[]; };     /* (n_tokens, n_out) */

/* Mirrors PonderVkMatmulPush in engine/vulkan-private.h. */
layout (push_constant) uniform Push
{
  uint n_in;
  uint n_out;
  uint n_tokens;
  uint row_bytes;
} p;

shared float partial[gl_WorkGroupSize.x * NB];

#include "bytes.glsl"
