#version 450
#extension GL_GOOGLE_include_directive : require

/* swiglu.comp: gate = silu (gate) * up, silu (g) = g / (1 + exp (-g)).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
layout (local_size_x_id = 0) in;

layout (binding = 0) buffer Gate { float gate[]; };     /* (n) */
layout (binding = 1) readonly buffer Up { float up[]; }; /* (n) */

/* Mirrors PonderVkElementwisePush. */
layout (push_constant) uniform Push
{
  uint n;
} p;

#include "grid.glsl"

void
main ()
{
  uint i = flat_invocation ();
  float g;

  if (i >= p.n)
    return;
  g = gate[i];
  gate[i] = g / (1.0 + exp (-g)) * up[i];
}
