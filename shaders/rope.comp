#version 450
#extension GL_GOOGLE_include_directive : require

/* rope.comp: rotates the first n_rot dims of every head in place (spec 3.2),
 * one invocation per (token, head, pair). NORM pairs (2i, 2i+1), NEOX pairs
 * (i, i + n_rot/2); theta = (pos0 + t) * freq[i], cos and sin times mscale.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
layout (local_size_x_id = 0) in;

layout (binding = 0) buffer Data { float x[]; };            /* (n_tokens, n_heads, head_dim) */
layout (binding = 1) readonly buffer Freq { float freq[]; }; /* (n_rot / 2) */

/* Mirrors PonderVkRopePush. */
layout (push_constant) uniform Push
{
  uint  n_tokens;
  uint  n_heads;
  uint  head_dim;
  uint  pos0;
  uint  n_rot;
  uint  neox;
  float mscale;
} p;

#include "grid.glsl"

void
main ()
{
  uint idx = flat_invocation ();
  uint half_rot = p.n_rot / 2u;
  uint i = idx % half_rot;
  uint th = idx / half_rot; /* token * n_heads + head */
  uint base, a, b;
  float theta, c, s, x0, x1;

  if (th >= p.n_tokens * p.n_heads)
    return;
  base = th * p.head_dim;
  a = base + (p.neox != 0u ? i : 2u * i);
  b = a + (p.neox != 0u ? half_rot : 1u);
  theta = float (p.pos0 + th / p.n_heads) * freq[i];
  c = cos (theta) * p.mscale;
  s = sin (theta) * p.mscale;
  x0 = x[a];
  x1 = x[b];
  x[a] = x0 * c - x1 * s;
  x[b] = x0 * s + x1 * c;
}
