#version 450
#extension GL_GOOGLE_include_directive : require

/* add.comp: x += y (the residual connection).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
layout (local_size_x_id = 0) in;

layout (binding = 0) buffer Acc { float x[]; };          /* (n) */
layout (binding = 1) readonly buffer Addend { float y[]; }; /* (n) */

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

  if (i < p.n)
    x[i] += y[i];
}
