#version 450
#extension GL_GOOGLE_include_directive : require

/* attention.comp: causal attention with grouped query heads over an F32 KV
 * cache, one workgroup per (token, query head). Keys are taken a tile of
 * workgroup-size positions at a time with an online softmax (running max M
 * and sum L; earlier output is rescaled by exp (M_old - M_new)), so the
 * context length is not bounded by shared memory. Token t sees positions
 * [0, pos0 + t]; query head h reads KV head h / (n_head / n_head_kv).
 * With pos_in_memory set, pos0 is read from the step buffer instead of the
 * push constants, so a decode step's recording can be replayed at the
 * next position.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
layout (local_size_x_id = 0) in;

#define MAX_HEAD_DIM 256u /* checked on the host */

layout (binding = 0) readonly buffer Query { float q[]; };  /* (n_tokens, n_head, hd_k) */
#include "kv_cache.glsl"

layout (binding = 1) readonly buffer Keys { KV_ELEM k[]; };   /* (n_ctx, k_row) */
layout (binding = 2) readonly buffer Values { KV_ELEM v[]; }; /* (n_ctx, v_row) */
layout (binding = 3) writeonly buffer Output { float o[]; }; /* (n_tokens, n_head, hd_v) */
layout (binding = 4) readonly buffer Step { uint step_pos0; };

/* Mirrors PonderVkAttentionPush. */
layout (push_constant) uniform Push
{
  uint  n_tokens;
  uint  n_head;
  uint  n_head_kv;
  uint  hd_k;
  uint  hd_v;
  uint  pos0;
  uint  k_row;
  uint  v_row;
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
  uint t = wg / p.n_head;
  uint h = wg % p.n_head;
  uint kvh, n_keys, q_base;
  float m_run = -1.0 / 0.0;
  float l_run = 0.0;

  if (t >= p.n_tokens)
    return;
  kvh = h / (p.n_head / p.n_head_kv);
  n_keys = (p.pos_in_memory != 0u ? step_pos0 : p.pos0) + t + 1u;
  q_base = (t * p.n_head + h) * p.hd_k;
  for (uint d = tid; d < p.hd_k; d += wg_size)
    q_tile[d] = q[q_base + d];
  for (uint d = tid; d < p.hd_v; d += wg_size)
    acc[d] = 0.0;
  barrier ();

  for (uint tile0 = 0u; tile0 < n_keys; tile0 += wg_size)
    {
      uint pos = tile0 + tid;
      uint n_tile = min (wg_size, n_keys - tile0);
      float s = -1.0 / 0.0;
      float m_new, alpha, w;

      if (pos < n_keys)
        {
          uint kb = pos * p.k_row + kvh * p.hd_k;

          s = 0.0;
          for (uint d = 0u; d < p.hd_k; d++)
            s += q_tile[d] * KV_READ (k, kb + d);
          s *= p.scale;
        }
      /* Every tile holds at least one key, so m_new is finite and the
       * first alpha is exp (-inf) = 0. */
      m_new = max (m_run, reduce_max (s));
      alpha = exp (m_run - m_new);
      w = pos < n_keys ? exp (s - m_new) : 0.0;
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

  for (uint d = tid; d < p.hd_v; d += wg_size)
    o[(t * p.n_head + h) * p.hd_v + d] = acc[d] / l_run;
}
