/* matmul_main.glsl: the shared body of every matmul_<type>.comp.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

void
main ()
{
  uint wg_size = gl_WorkGroupSize.x;
  uint row = gl_WorkGroupID.x + gl_WorkGroupID.y * gl_NumWorkGroups.x;
  uint tok0 = gl_WorkGroupID.z * NB;
  uint tid = gl_LocalInvocationID.x;
  uint n_units = (p.n_in + 31u) / 32u;
  uint nt;
  float acc[NB];

  /* The whole workgroup leaves together, before any barrier. */
  if (row >= p.n_out || tok0 >= p.n_tokens)
    return;
  nt = min (NB, p.n_tokens - tok0);
  for (uint t = 0u; t < NB; t++)
    acc[t] = 0.0;

  for (uint u = tid; u < n_units; u += wg_size)
    {
      float v[32];
      uint k0 = u * 32u;
      uint kn = min (32u, p.n_in - k0);

      dequant_unit (row * p.row_bytes, u, v);
      for (uint t = 0u; t < nt; t++)
        {
          uint xb = (tok0 + t) * p.n_in + k0;
          float s = 0.0;

          for (uint i = 0u; i < kn; i++)
            s += v[i] * x[xb + i];
          acc[t] += s;
        }
    }

  for (uint t = 0u; t < nt; t++)
    partial[t * wg_size + tid] = acc[t];
  barrier ();
  /* wg_size is a power of two (checked on the host). */
  for (uint stride = wg_size / 2u; stride > 0u; stride /= 2u)
    {
      if (tid < stride)
        for (uint t = 0u; t < nt; t++)
          partial[t * wg_size + tid] += partial[t * wg_size + tid + stride];
      barrier ();
    }
  if (tid == 0u)
    for (uint t = 0u; t < nt; t++)
      y[(tok0 + t) * p.n_out + row] = partial[t * wg_size];
}
