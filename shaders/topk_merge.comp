#version 450
#extension GL_GOOGLE_include_directive : require

/* topk_merge.comp: the second pass of sampling on the device. One
 * workgroup merges the n_chunks records of topk_partial.comp into one: the
 * counts add up, the largest is the best listed, and each chunk's sum is
 * rescaled from its own largest to that one. Invocation t owns the records
 * t + k WG and offers the best head among them; each round the winner's
 * owner advances that record's head.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
layout (local_size_x_id = 0) in;

layout (binding = 0) readonly buffer Records { uint rec[]; };  /* (n_chunks, TOPK_RECORD) */
layout (binding = 1) readonly buffer Params { float inv_temperature; };
layout (binding = 2) writeonly buffer Result { uint res[]; };  /* (TOPK_RECORD) */

/* Mirrors PonderVkTopkPush (n, n_mask_words and chunk unused). */
layout (push_constant) uniform Push
{
  uint n;
  uint n_mask_words;
  uint chunk;
  uint n_chunks;
} p;

#include "topk.glsl"

/* Mirrors PONDER_VK_TOPK_MAX_CHUNKS. */
#define MAX_CHUNKS 1024u

shared uint s_head[MAX_CHUNKS];
shared float s_value[gl_WorkGroupSize.x];
shared uint s_index[gl_WorkGroupSize.x];
shared uint s_chunk[gl_WorkGroupSize.x];
shared uint s_count[gl_WorkGroupSize.x];
shared float s_sum[gl_WorkGroupSize.x];

void
main ()
{
  uint tid = gl_LocalInvocationID.x;
  uint wg = gl_WorkGroupSize.x;
  uint n_chunks = min (p.n_chunks, MAX_CHUNKS);
  uint count = 0u;
  uint listed = 0u;
  float largest = 0.0;
  float sum = 0.0;
  float bv = 0.0;
  uint bi = TOPK_NONE;
  uint bc = 0u;

  for (uint c = tid; c < n_chunks; c += wg)
    s_head[c] = 0u;
  barrier ();

  for (uint round = 0u; round < TOPK_CAPACITY; round++)
    {
      if (round == 0u || s_chunk[0] % wg == tid)
        {
          /* (Re)select this invocation's best head; s_chunk[0] is read
           * before the barrier that lets it change. */
          bi = TOPK_NONE;
          for (uint c = tid; c < n_chunks; c += wg)
            {
              uint head = s_head[c];
              uint b = c * TOPK_RECORD;

              if (head < rec[b + 1u])
                {
                  float v = uintBitsToFloat (rec[b + 4u + head]);
                  uint i = rec[b + 4u + TOPK_CAPACITY + head];

                  if (topk_better (v, i, bv, bi))
                    {
                      bv = v;
                      bi = i;
                      bc = c;
                    }
                }
            }
        }
      barrier ();
      s_value[tid] = bv;
      s_index[tid] = bi;
      s_chunk[tid] = bc;
      barrier ();
      for (uint stride = wg / 2u; stride > 0u; stride /= 2u)
        {
          if (tid < stride && s_index[tid + stride] != TOPK_NONE
              && topk_better (s_value[tid + stride], s_index[tid + stride], s_value[tid],
                              s_index[tid]))
            {
              s_value[tid] = s_value[tid + stride];
              s_index[tid] = s_index[tid + stride];
              s_chunk[tid] = s_chunk[tid + stride];
            }
          barrier ();
        }
      if (s_index[0] == TOPK_NONE)
        break;
      if (round == 0u)
        largest = s_value[0];
      if (tid == 0u)
        {
          res[4u + round] = floatBitsToUint (s_value[0]);
          res[4u + TOPK_CAPACITY + round] = s_index[0];
          s_head[s_chunk[0]]++;
        }
      listed++;
      barrier ();
    }

  for (uint c = tid; c < n_chunks; c += wg)
    {
      uint b = c * TOPK_RECORD;

      count += rec[b];
      if (rec[b] > 0u)
        sum += uintBitsToFloat (rec[b + 3u])
               * exp ((uintBitsToFloat (rec[b + 2u]) - largest) * inv_temperature);
    }
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
      res[0] = s_count[0];
      res[1] = listed;
      res[2] = floatBitsToUint (largest);
      res[3] = floatBitsToUint (s_sum[0]);
    }
}
