#version 450
#extension GL_GOOGLE_include_directive : require

/* attention_merge.comp: combines attention_split.comp's chunks of one head:
 * with M = max M_c, out = sum_c acc_c exp (M_c - M) / sum_c L_c exp (M_c - M).
 * One invocation per (head, output dim); every chunk holds at least one key,
 * so each M_c is finite.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
layout (local_size_x_id = 0) in;

layout (binding = 0) readonly buffer Partial { float part[]; }; /* (n_chunks, n_head, hd_v + 2) */
layout (binding = 1) writeonly buffer Output { float o[]; };    /* (n_head, hd_v) */

/* Mirrors PonderVkAttentionMergePush. */
layout (push_constant) uniform Push
{
  uint n_head;
  uint hd_v;
  uint n_chunks;
} p;

#include "grid.glsl"

void
main ()
{
  uint idx = flat_invocation ();
  uint h = idx / p.hd_v;
  uint d = idx % p.hd_v;
  uint stride = p.n_head * (p.hd_v + 2u);
  float m = -1.0 / 0.0, l = 0.0, a = 0.0;

  if (h >= p.n_head)
    return;
  for (uint c = 0u; c < p.n_chunks; c++)
    m = max (m, part[c * stride + h * (p.hd_v + 2u) + p.hd_v]);
  for (uint c = 0u; c < p.n_chunks; c++)
    {
      uint base = c * stride + h * (p.hd_v + 2u);
      float f = exp (part[base + p.hd_v] - m);

      l += part[base + p.hd_v + 1u] * f;
      a += part[base + d] * f;
    }
  o[h * p.hd_v + d] = a / l;
}
