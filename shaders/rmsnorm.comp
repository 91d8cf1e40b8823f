#version 450
#extension GL_GOOGLE_include_directive : require

/* rmsnorm.comp: out = w * x / sqrt (mean (x^2) + eps), one workgroup per row
 * (spec 3.2). out may alias x.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
layout (local_size_x_id = 0) in;

layout (binding = 0) readonly buffer Input { float x[]; };   /* (n_rows, n) */
layout (binding = 1) readonly buffer Weight { float w[]; };  /* (n) */
layout (binding = 2) buffer Output { float y[]; };           /* (n_rows, n) */

/* Mirrors PonderVkRmsnormPush. */
layout (push_constant) uniform Push
{
  uint  n;
  uint  n_rows;
  float eps;
} p;

shared float partial[gl_WorkGroupSize.x];

#include "grid.glsl"

void
main ()
{
  uint row = flat_group ();
  uint tid = gl_LocalInvocationID.x;
  uint base = row * p.n;
  float sum = 0.0;
  float scale;

  if (row >= p.n_rows)
    return;
  for (uint i = tid; i < p.n; i += gl_WorkGroupSize.x)
    sum += x[base + i] * x[base + i];
  partial[tid] = sum;
  barrier ();
  for (uint stride = gl_WorkGroupSize.x / 2u; stride > 0u; stride /= 2u)
    {
      if (tid < stride)
        partial[tid] += partial[tid + stride];
      barrier ();
    }
  scale = inversesqrt (partial[0] / float (p.n) + p.eps);
  for (uint i = tid; i < p.n; i += gl_WorkGroupSize.x)
    y[base + i] = w[i] * (x[base + i] * scale);
}
