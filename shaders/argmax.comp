#version 450
#extension GL_GOOGLE_include_directive : require

/* argmax.comp: index of the largest of n logits, so greedy decoding reads
 * back one word instead of the vocabulary. One workgroup; ties go to the
 * lowest index, as a sequential scan would. NaN never wins, nor does an
 * index whose bit is set in the mask (the padding rows the sampler never
 * picks); n_mask_words 0 means no mask.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
layout (local_size_x_id = 0) in;

layout (binding = 0) readonly buffer Logits { float x[]; }; /* (n) */
layout (binding = 1) writeonly buffer Result { uint best[]; }; /* (1) */
layout (binding = 2) readonly buffer Mask { uint mask[]; }; /* (n_mask_words) bits */

/* Mirrors PonderVkArgmaxPush. */
layout (push_constant) uniform Push
{
  uint n;
  uint n_mask_words;
} p;

shared float best_value[gl_WorkGroupSize.x];
shared uint best_index[gl_WorkGroupSize.x];

bool
better (float v, uint i, float bv, uint bi)
{
  return v > bv || (v == bv && i < bi);
}

bool
masked (uint i)
{
  uint word = i >> 5u;

  return word < p.n_mask_words && (mask[word] & (1u << (i & 31u))) != 0u;
}

void
main ()
{
  uint tid = gl_LocalInvocationID.x;
  float bv = -1.0 / 0.0;
  uint bi = 0xffffffffu;

  for (uint i = tid; i < p.n; i += gl_WorkGroupSize.x)
    if (better (x[i], i, bv, bi) && !masked (i))
      {
        bv = x[i];
        bi = i;
      }
  best_value[tid] = bv;
  best_index[tid] = bi;
  barrier ();
  for (uint stride = gl_WorkGroupSize.x / 2u; stride > 0u; stride /= 2u)
    {
      if (tid < stride
          && better (best_value[tid + stride], best_index[tid + stride],
                     best_value[tid], best_index[tid]))
        {
          best_value[tid] = best_value[tid + stride];
          best_index[tid] = best_index[tid + stride];
        }
      barrier ();
    }
  if (tid == 0u)
    best[0] = best_index[0];
}
