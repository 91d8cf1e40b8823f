#version 450
#extension GL_GOOGLE_include_directive : require

/* ds2_route.comp: MoE routing of spec 4.3 for one token per workgroup,
 * the same rule as ponder_deepseek2_route (forward-deepseek2.c):
 * scores by softmax, sigmoid or sqrt (softplus) of the router logits; the
 * bias added for selection only; with groups, each group scored by the sum
 * of its two largest biased scores and the weakest groups dropped (on a tie
 * the later group goes); the top n_used by biased score (on a tie the lower
 * index); weights the unbiased scores, normalised when asked and times the
 * routed scale. Ids and weights stay on the device for ds2_matmul.comp.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
layout (local_size_x_id = 0) in;

#define MAX_EXPERT 512u /* checked on the host */
#define MAX_USED 32u

layout (binding = 0) readonly buffer Logits { float logits[]; }; /* (n_tokens, n_expert) */
layout (binding = 1) readonly buffer Bias { float bias[]; };     /* (n_expert) */
layout (binding = 2) writeonly buffer Ids { int ids[]; };        /* (n_tokens, n_used) */
layout (binding = 3) writeonly buffer Weights { float w[]; };    /* (n_tokens, n_used) */

/* Mirrors PonderVkDs2RoutePush. */
layout (push_constant) uniform Push
{
  uint  n_tokens;
  uint  n_expert;
  uint  n_used;
  uint  n_groups;
  uint  n_group_used;
  uint  gating;   /* 1 softmax, 2 sigmoid, else sqrt (softplus) */
  uint  has_bias;
  uint  norm;
  float scale;
} p;

shared float score[MAX_EXPERT];
shared float sel[MAX_EXPERT];
shared uint taken[MAX_EXPERT];
shared float red_v[gl_WorkGroupSize.x];
shared uint red_i[gl_WorkGroupSize.x];
shared float chosen[MAX_USED];

#include "grid.glsl"

const float NEG_INF = -1.0 / 0.0;
const uint NONE = 0xffffffffu;

/* Reduces (value, index) pairs to the largest value, the lower index on a
 * tie; NONE marks an empty candidate. Every invocation must call it. */
void
reduce_best (inout float v, inout uint i)
{
  uint tid = gl_LocalInvocationID.x;

  red_v[tid] = v;
  red_i[tid] = i;
  barrier ();
  for (uint stride = gl_WorkGroupSize.x / 2u; stride > 0u; stride /= 2u)
    {
      if (tid < stride)
        {
          float bv = red_v[tid + stride];
          uint bi = red_i[tid + stride];

          if (bi != NONE && (red_i[tid] == NONE || bv > red_v[tid]
                             || (bv == red_v[tid] && bi < red_i[tid])))
            {
              red_v[tid] = bv;
              red_i[tid] = bi;
            }
        }
      barrier ();
    }
  v = red_v[0];
  i = red_i[0];
  barrier ();
}

void
main ()
{
  uint t = flat_group ();
  uint tid = gl_LocalInvocationID.x;
  uint wg = gl_WorkGroupSize.x;
  uint n = p.n_expert;
  uint base = t * n;

  if (t >= p.n_tokens)
    return;

  if (p.gating == 1u)
    {
      float mx = NEG_INF, sum = 0.0;
      uint who = tid; /* any valid index: only the value is wanted */

      for (uint e = tid; e < n; e += wg)
        mx = max (mx, logits[base + e]);
      reduce_best (mx, who);
      for (uint e = tid; e < n; e += wg)
        {
          score[e] = exp (logits[base + e] - mx);
          sum += score[e];
        }
      red_v[tid] = sum;
      barrier ();
      for (uint stride = wg / 2u; stride > 0u; stride /= 2u)
        {
          if (tid < stride)
            red_v[tid] += red_v[tid + stride];
          barrier ();
        }
      sum = red_v[0];
      barrier ();
      for (uint e = tid; e < n; e += wg)
        score[e] /= sum;
    }
  else
    for (uint e = tid; e < n; e += wg)
      {
        float z = logits[base + e];

        if (p.gating == 2u)
          score[e] = 1.0 / (1.0 + exp (-z));
        else
          {
            /* softplus without overflow, and without log (1 + tiny) = 0 */
            float ez = exp (z);
            float sp = z > 20.0 ? z : (ez < 1e-4 ? ez * (1.0 - 0.5 * ez) : log (1.0 + ez));

            score[e] = sqrt (sp);
          }
      }
  for (uint e = tid; e < n; e += wg)
    {
      sel[e] = score[e] + (p.has_bias != 0u ? bias[e] : 0.0);
      taken[e] = 0u;
    }
  barrier ();

  if (p.n_groups > 1u && p.n_group_used < p.n_groups && tid == 0u)
    {
      /* a few hundred steps: one invocation keeps the tie rules exact */
      uint per = n / p.n_groups;
      float gscore[64]; /* n_groups <= 64, checked on the host */

      for (uint g = 0u; g < p.n_groups; g++)
        {
          float a = NEG_INF, b = NEG_INF;

          for (uint e = g * per; e < (g + 1u) * per; e++)
            if (sel[e] > a)
              {
                b = a;
                a = sel[e];
              }
            else if (sel[e] > b)
              b = sel[e];
          gscore[g] = per >= 2u ? a + b : a;
        }
      for (uint drop = 0u; drop < p.n_groups - p.n_group_used; drop++)
        {
          uint worst = 0u;

          for (uint g = 1u; g < p.n_groups; g++)
            if (gscore[g] <= gscore[worst])
              worst = g;
          gscore[worst] = 1.0 / 0.0;
          for (uint e = worst * per; e < (worst + 1u) * per; e++)
            sel[e] = NEG_INF;
        }
    }
  barrier ();

  for (uint j = 0u; j < p.n_used; j++)
    {
      float bv = NEG_INF;
      uint bi = NONE;

      for (uint e = tid; e < n; e += wg)
        if (taken[e] == 0u && (bi == NONE || sel[e] > bv))
          {
            bv = sel[e];
            bi = e;
          }
      reduce_best (bv, bi);
      if (tid == 0u)
        {
          taken[bi] = 1u;
          chosen[j] = score[bi];
          ids[t * p.n_used + j] = int (bi);
        }
      barrier ();
    }

  if (tid == 0u)
    {
      float sum = 0.0, d;

      for (uint j = 0u; j < p.n_used; j++)
        sum += chosen[j];
      d = p.norm != 0u ? max (sum, 6.103515625e-5) : 1.0;
      for (uint j = 0u; j < p.n_used; j++)
        w[t * p.n_used + j] = chosen[j] / d * p.scale;
    }
}
