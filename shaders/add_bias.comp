#version 450
#extension GL_GOOGLE_include_directive : require

/* add_bias.comp: y (n_rows, n) += bias (n) on every row (qwen2's Q/K/V
 * biases).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
layout (local_size_x_id = 0) in;

layout (binding = 0) buffer Acc { float y[]; };            /* (n_rows, n) */
layout (binding = 1) readonly buffer Bias { float b[]; };  /* (n) */

/* Mirrors PonderVkBiasPush. */
layout (push_constant) uniform Push
{
  uint n_total; /* n_rows * n */
  uint n;
} p;

#include "grid.glsl"

void
main ()
{
  uint i = flat_invocation ();

  if (i < p.n_total)
    y[i] += b[i % p.n];
}
