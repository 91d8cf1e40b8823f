#version 450
#extension GL_GOOGLE_include_directive : require

/* topk_partial.comp: the first pass of sampling on the device. Workgroup g
 * writes the record (topk.glsl) of logits [g chunk, (g + 1) chunk): its best
 * TOPK_CAPACITY, how many qualify, their largest and their softmax sum.
 * Invocation t owns the logits base + t + k WG and keeps the best of them
 * that ranks after the last one it gave up; each round, the workgroup's
 * best is listed and only its owner looks again.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
layout (local_size_x_id = 0) in;

layout (binding = 0) readonly buffer Logits { float x[]; };       /* (n) */
layout (binding = 1) readonly buffer Mask { uint mask[]; };       /* (n_mask_words) bits */
layout (binding = 2) readonly buffer Params { float inv_temperature; };
layout (binding = 3) writeonly buffer Records { uint rec[]; };    /* (n_chunks, TOPK_RECORD) */

/* Mirrors PonderVkTopkPush. */
layout (push_constant) uniform Push
{
  uint n;
  uint n_mask_words;
  uint chunk;
  uint n_chunks;
} p;

#include "topk.glsl"

shared float s_value[gl_WorkGroupSize.x];
shared uint s_index[gl_WorkGroupSize.x];
shared uint s_count[gl_WorkGroupSize.x];
shared float s_sum[gl_WorkGroupSize.x];

bool
qualifies (uint i, out float v)
{
  uint word = i >> 5u;

  v = min (x[i], TOPK_FLT_MAX);
  return !isnan (x[i]) && x[i] != -1.0 / 0.0
         && !(word < p.n_mask_words && (mask[word] & (1u << (i & 31u))) != 0u);
}

void
main ()
{
  uint tid = gl_LocalInvocationID.x;
  uint wg = gl_WorkGroupSize.x;
  uint base = gl_WorkGroupID.x * p.chunk;
  uint end = min (base + p.chunk, p.n);
  uint out_base = gl_WorkGroupID.x * TOPK_RECORD;
  /* The last one given up: only logits ranking after it are looked at. */
  float gone_value = 0.0;
  uint gone_index = TOPK_NONE;
  float bv = 0.0;
  uint bi = TOPK_NONE;
  uint count = 0u;
  uint listed = 0u;
  float largest = 0.0;
  float sum = 0.0;
  float v;

  for (uint i = base + tid; i < end; i += wg)
    if (qualifies (i, v))
      {
        count++;
        if (topk_better (v, i, bv, bi))
          {
            bv = v;
            bi = i;
          }
      }

  for (uint round = 0u; round < TOPK_CAPACITY; round++)
    {
      s_value[tid] = bv;
      s_index[tid] = bi;
      barrier ();
      for (uint stride = wg / 2u; stride > 0u; stride /= 2u)
        {
          if (tid < stride && s_index[tid + stride] != TOPK_NONE
              && topk_better (s_value[tid + stride], s_index[tid + stride], s_value[tid],
                              s_index[tid]))
            {
              s_value[tid] = s_value[tid + stride];
              s_index[tid] = s_index[tid + stride];
            }
          barrier ();
        }
      if (s_index[0] == TOPK_NONE)
        break;
      if (round == 0u)
        largest = s_value[0];
      if (tid == 0u)
        {
          rec[out_base + 4u + round] = floatBitsToUint (s_value[0]);
          rec[out_base + 4u + TOPK_CAPACITY + round] = s_index[0];
        }
      listed++;
      if (s_index[0] == bi)
        {
          gone_value = bv;
          gone_index = bi;
          bi = TOPK_NONE;
          for (uint i = base + tid; i < end; i += wg)
            if (qualifies (i, v) && topk_better (gone_value, gone_index, v, i)
                && topk_better (v, i, bv, bi))
              {
                bv = v;
                bi = i;
              }
        }
      barrier ();
    }

  for (uint i = base + tid; i < end; i += wg)
    if (qualifies (i, v))
      sum += exp ((v - largest) * inv_temperature);
  s_count[tid] = count;
  s_sum[tid] = sum;
  barrier ();
  for (uint stride = wg / 2u; stride > 0u; stride /= 2u)
    {
      if (tid < stride)
        {
          s_count[tid] += s_count[tid + stride];
          s_sum[tid] += s_sum[tid + stride];
        }
      barrier ();
    }
  if (tid == 0u)
    {
      rec[out_base] = s_count[0];
      rec[out_base + 1u] = listed;
      rec[out_base + 2u] = floatBitsToUint (largest);
      rec[out_base + 3u] = floatBitsToUint (s_sum[0]);
    }
}
