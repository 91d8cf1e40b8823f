#version 450
#extension GL_GOOGLE_include_directive : require

/* attention_split.comp: the decode step's attention split over the key
 * axis, so that a long context keeps many workgroups busy (one per head
 * would leave most of a GPU idle). Workgroup (c, h) runs the online softmax
 * of attention.comp over keys [c * chunk, (c + 1) * chunk) of the single
 * query's head h and writes its unnormalised output with its running max M
 * and sum L; attention_merge.comp combines the chunks. With pos_in_memory
 * set, the key count is the step buffer's position + 1 instead of n_keys
 * (the grid, one workgroup per chunk, stays as recorded: chunks past the
 * keys write nothing).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
layout (local_size_x_id = 0) in;

#define MAX_HEAD_DIM 256u /* checked on the host */

layout (binding = 0) readonly buffer Query { float q[]; };  /* (n_head, hd_k) */
#include "kv_cache.glsl"

layout (binding = 1) readonly buffer Keys { KV_ELEM k[]; };   /* (n_ctx, k_row) */
layout (binding = 2) readonly buffer Values { KV_ELEM v[]; }; /* (n_ctx, v_row) */
/* (n_chunks, n_head, hd_v + 2): acc[hd_v], M, L */
layout (binding = 3) writeonly buffer Partial { float part[]; };
layout (binding = 4) readonly buffer Step { uint step_pos0; };

/* Mirrors PonderVkAttentionSplitPush. */
layout (push_constant) uniform Push
{
  uint  n_head;
  uint  n_head_kv;
  uint  hd_k;
  uint  hd_v;
  uint  n_keys;
  uint  k_row;
  uint  v_row;
  uint  chunk;
  float scale;
  uint  pos_in_memory;
} p;

shared float q_tile[MAX_HEAD_DIM];
shared float acc[MAX_HEAD_DIM];
shared float weights[gl_WorkGroupSize.x];
shared float red[gl_WorkGroupSize.x];

#include "grid.glsl"

float
reduce_max (float value)
{
  uint tid = gl_LocalInvocationID.x;
  float result;

  red[tid] = value;
  barrier ();
  for (uint stride = gl_WorkGroupSize.x / 2u; stride > 0u; stride /= 2u)
    {
      if (tid < stride)
        red[tid] = max (red[tid], red[tid + stride]);
      barrier ();
    }
  result = red[0];
  barrier ();
  return result;
}

float
reduce_sum (float value)
{
  uint tid = gl_LocalInvocationID.x;
  float result;

  red[tid] = value;
  barrier ();
  for (uint stride = gl_WorkGroupSize.x / 2u; stride > 0u; stride /= 2u)
    {
      if (tid < stride)
        red[tid] += red[tid + stride];
      barrier ();
    }
  result = red[0];
  barrier ();
  return result;
}

void
main ()
{
  uint wg = flat_group ();
  uint tid = gl_LocalInvocationID.x;
  uint wg_size = gl_WorkGroupSize.x;
  uint h = wg % p.n_head;
  uint c = wg / p.n_head;
  uint n_keys = p.pos_in_memory != 0u ? step_pos0 + 1u : p.n_keys;
  uint key0 = c * p.chunk;
  uint key_end = min (n_keys, key0 + p.chunk);
  uint kvh, out_base;
  float m_run = -1.0 / 0.0;
  float l_run = 0.0;

  if (key0 >= n_keys)
    return;
  kvh = h / (p.n_head / p.n_head_kv);
  for (uint d = tid; d < p.hd_k; d += wg_size)
    q_tile[d] = q[h * p.hd_k + d];
  for (uint d = tid; d < p.hd_v; d += wg_size)
    acc[d] = 0.0;
  barrier ();

  for (uint tile0 = key0; tile0 < key_end; tile0 += wg_size)
    {
      uint pos = tile0 + tid;
      uint n_tile = min (wg_size, key_end - tile0);
      float s = -1.0 / 0.0;
      float m_new, alpha, w;

      if (pos < key_end)
        {
          uint kb = pos * p.k_row + kvh * p.hd_k;

          s = 0.0;
          for (uint d = 0u; d < p.hd_k; d++)
            s += q_tile[d] * KV_READ (k, kb + d);
          s *= p.scale;
        }
      m_new = max (m_run, reduce_max (s));
      alpha = exp (m_run - m_new);
      w = pos < key_end ? exp (s - m_new) : 0.0;
      weights[tid] = w;
      l_run = l_run * alpha + reduce_sum (w);
      for (uint d = tid; d < p.hd_v; d += wg_size)
        {
          float a = acc[d] * alpha;

          for (uint j = 0u; j < n_tile; j++)
            a += weights[j] * KV_READ (v, (tile0 + j) * p.v_row + kvh * p.hd_v + d);
          acc[d] = a;
        }
      m_run = m_new;
      barrier ();
    }

  out_base = (c * p.n_head + h) * (p.hd_v + 2u);
  for (uint d = tid; d < p.hd_v; d += wg_size)
    part[out_base + d] = acc[d];
  if (tid == 0u)
    {
      part[out_base + p.hd_v] = m_run;
      part[out_base + p.hd_v + 1u] = l_run;
    }
}
