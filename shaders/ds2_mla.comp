#version 450
#extension GL_GOOGLE_include_directive : require

/* ds2_mla.comp: latent attention of spec 4.4 (absorbed form), one
 * workgroup per (token, query head): score (s) = scale (q_abs . c_kv (s) +
 * q_pe . k_pe (s)) over the cached rows [c_kv | k_pe] of positions
 * [0, pos0 + t], and o_lat = sum_s softmax (score) (s) c_kv (s). Positions
 * are taken a tile of workgroup-size at a time with an online softmax
 * (running max and sum, earlier output rescaled), so the context is not
 * bounded by shared memory. q_abs = W_UK^T q_nope comes from ds2_matmul.comp
 * (mode 0); q_pe is read from the query row and, when rope_q is set,
 * rotated here with the step's cos/sin table (the one rope.comp uses).
 * With pos_in_memory set, pos0 comes from the step buffer (a replayed
 * decode step's position) instead of the push constants.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
layout (local_size_x_id = 0) in;

#define MAX_LATENT 1024u /* kv_lora, checked on the host */
#define MAX_ROPE 256u    /* qk_rope */

layout (binding = 0) readonly buffer Absorbed { float qa[]; }; /* (n_tokens, n_head, c) */
layout (binding = 1) readonly buffer Query { float q[]; };     /* (n_tokens, n_head, dk) */
#include "kv_cache.glsl"

layout (binding = 2) readonly buffer Cache { KV_ELEM kv[]; };  /* (n_ctx, c + r) */
layout (binding = 3) readonly buffer Table { float cs[]; };    /* (n_tokens, r / 2, 2) */
layout (binding = 4) writeonly buffer Output { float o[]; };   /* (n_tokens, n_head, c) */
layout (binding = 5) readonly buffer Step { uint step_pos0; };

/* Mirrors PonderVkDs2MlaPush. */
layout (push_constant) uniform Push
{
  uint  n_tokens;
  uint  n_head;
  uint  c;      /* kv_lora */
  uint  r;      /* qk_rope */
  uint  dk;     /* query row per head: nope + r */
  uint  nope;
  uint  pos0;
  uint  rope_q; /* rotate q_pe (NORM pairs, or NEOX when 2) */
  float scale;
  uint  pos_in_memory;
} p;

shared float q_lat[MAX_LATENT];
shared float q_pe[MAX_ROPE];
shared float acc[MAX_LATENT];
shared float weights[gl_WorkGroupSize.x];
shared float red[gl_WorkGroupSize.x];

#include "grid.glsl"

float
reduce (float value, bool take_max)
{
  uint tid = gl_LocalInvocationID.x;
  float result;

  red[tid] = value;
  barrier ();
  for (uint stride = gl_WorkGroupSize.x / 2u; stride > 0u; stride /= 2u)
    {
      if (tid < stride)
        red[tid] = take_max ? max (red[tid], red[tid + stride]) : red[tid] + red[tid + stride];
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
  uint th = wg; /* t * n_head + h */
  uint row = p.c + p.r;
  uint half_r = p.r / 2u;
  uint n_keys;
  float m_run = -1.0 / 0.0;
  float l_run = 0.0;

  if (t >= p.n_tokens)
    return;
  n_keys = (p.pos_in_memory != 0u ? step_pos0 : p.pos0) + t + 1u;
  for (uint d = tid; d < p.c; d += wg_size)
    {
      q_lat[d] = qa[th * p.c + d];
      acc[d] = 0.0;
    }
  for (uint i = tid; i < half_r; i += wg_size)
    {
      uint qb = th * p.dk + p.nope;
      uint a = p.rope_q == 2u ? i : 2u * i;
      uint b = a + (p.rope_q == 2u ? half_r : 1u);
      float x0 = q[qb + a], x1 = q[qb + b];

      if (p.rope_q != 0u)
        {
          float c = cs[(t * half_r + i) * 2u], s = cs[(t * half_r + i) * 2u + 1u];

          q_pe[a] = x0 * c - x1 * s;
          q_pe[b] = x0 * s + x1 * c;
        }
      else
        {
          q_pe[a] = x0;
          q_pe[b] = x1;
        }
    }
  barrier ();

  for (uint tile0 = 0u; tile0 < n_keys; tile0 += wg_size)
    {
      uint pos = tile0 + tid;
      uint n_tile = min (wg_size, n_keys - tile0);
      float s = -1.0 / 0.0;
      float m_new, alpha, w;

      if (pos < n_keys)
        {
          uint kb = pos * row;
          float dot_c = 0.0, dot_r = 0.0;

          for (uint d = 0u; d < p.c; d++)
            dot_c += q_lat[d] * KV_READ (kv, kb + d);
          for (uint d = 0u; d < p.r; d++)
            dot_r += q_pe[d] * KV_READ (kv, kb + p.c + d);
          s = p.scale * (dot_c + dot_r);
        }
      /* every tile holds a key: m_new is finite, the first alpha 0 */
      m_new = max (m_run, reduce (s, true));
      alpha = exp (m_run - m_new);
      w = pos < n_keys ? exp (s - m_new) : 0.0;
      weights[tid] = w;
      l_run = l_run * alpha + reduce (w, false);
      for (uint d = tid; d < p.c; d += wg_size)
        {
          float a = acc[d] * alpha;

          for (uint j = 0u; j < n_tile; j++)
            a += weights[j] * KV_READ (kv, (tile0 + j) * row + d);
          acc[d] = a;
        }
      m_run = m_new;
      barrier ();
    }

  for (uint d = tid; d < p.c; d += wg_size)
    o[th * p.c + d] = acc[d] / l_run;
}
