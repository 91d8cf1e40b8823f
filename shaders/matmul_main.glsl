/* matmul_main.glsl: the shared body of every matmul_<type>.comp.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

void
main ()
{
  uint wg_size = gl_WorkGroupSize.x;
  uint tid = gl_LocalInvocationID.x;
  uint lane = tid % THREADS_PER_ROW;
  uint row = (gl_WorkGroupID.x + gl_WorkGroupID.y * gl_NumWorkGroups.x)
             * (wg_size / THREADS_PER_ROW) + tid / THREADS_PER_ROW;
  uint tok0 = gl_WorkGroupID.z * NB;
  uint n_units = (p.n_in + 31u) / 32u;
  uint nt = min (NB, p.n_tokens - tok0);
  bool in_range = row < p.n_out;
  float acc[NB];

  /* Loops over constant bounds, unrolled, so that acc and v live in
   * registers: an array indexed by a run-time value goes to memory, which
   * made lavapipe ten times slower. */
  [[unroll]] for (uint t = 0u; t < NB; t++)
    acc[t] = 0.0;
  for (uint u = lane; in_range && u < n_units; u += THREADS_PER_ROW)
    {
      float v[32];
      uint k0 = u * 32u;
      uint last = min (32u, p.n_in - k0) - 1u; /* v is zero past it */

      dequant_unit (row * p.row_bytes, u, v);
      [[unroll]] for (uint t = 0u; t < NB; t++)
        if (t < nt)
          {
            uint xb = (tok0 + t) * p.n_in + k0;
            float s = 0.0;

            [[unroll]] for (uint i = 0u; i < 32u; i++)
              s += v[i] * x[xb + min (i, last)];
            acc[t] += s;
          }
    }

  /* A specialization constant: with one thread per row this is dead code
   * and the barriers go with it. Rows past n_out still take part in the
   * barriers (they must be reached by the whole workgroup). */
  if (THREADS_PER_ROW > 1u)
    {
      [[unroll]] for (uint t = 0u; t < NB; t++)
        partial[t * wg_size + tid] = acc[t];
      barrier ();
      /* THREADS_PER_ROW is a power of two (checked on the host). */
      for (uint stride = THREADS_PER_ROW / 2u; stride > 0u; stride /= 2u)
        {
          if (lane < stride)
            [[unroll]] for (uint t = 0u; t < NB; t++)
              partial[t * wg_size + tid] += partial[t * wg_size + tid + stride];
          barrier ();
        }
      [[unroll]] for (uint t = 0u; t < NB; t++)
        acc[t] = partial[t * wg_size + tid];
    }
  if (in_range && lane == 0u)
    [[unroll]] for (uint t = 0u; t < NB; t++)
      if (t < nt)
        y[(tok0 + t) * p.n_out + row] = acc[t];
}
