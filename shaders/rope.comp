#version 450
#extension GL_GOOGLE_include_directive : require

/* rope.comp: rotates the first n_rot dims of every head in place (spec 3.2),
 * one invocation per (token, head, pair). NORM pairs (2i, 2i+1), NEOX pairs
 * (i, i + n_rot/2). cos and sin (times mscale) come from a table the host
 * computes once per step in double, as the CPU backend does: theta =
 * p * freq[i] formed in float is off by 5e-4 rad at p = 8192, and every
 * layer shares the table.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
layout (local_size_x_id = 0) in;

layout (binding = 0) buffer Data { float x[]; };            /* (n_tokens, n_heads, head_dim) */
layout (binding = 1) readonly buffer Table { float cs[]; }; /* (n_tokens, n_rot / 2, 2) */

/* Mirrors PonderVkRopePush. */
layout (push_constant) uniform Push
{
  uint  n_tokens;
  uint  n_heads;
  uint  head_dim;
  uint  n_rot;
  uint  neox;
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
  float c, s, x0, x1;

  if (th >= p.n_tokens * p.n_heads)
    return;
  base = th * p.head_dim;
  a = base + (p.neox != 0u ? i : 2u * i);
  b = a + (p.neox != 0u ? half_rot : 1u);
  c = cs[((th / p.n_heads) * half_rot + i) * 2u];
  s = cs[((th / p.n_heads) * half_rot + i) * 2u + 1u];
  x0 = x[a];
  x1 = x[b];
  x[a] = x0 * c - x1 * s;
  x[b] = x0 * s + x1 * c;
}
