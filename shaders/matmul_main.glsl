/* matmul_main.glsl: the shared body of every matmul_<type>.comp.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#ifdef EMBED
void
main ()
{
  uint idx = flat_invocation ();
  uint per_token = (p.n_in + 31u) / 32u * 8u; /* four-element groups per row */
  uint t = idx / per_token;
  uint u = (idx % per_token) / 8u;
  uint j = idx % 8u;
  uint k = u * 32u + 4u * j;
  Unit s;
  vec4 w;

  if (t >= p.n_tokens || k >= p.n_in)
    return;
  s = unit_setup (min (ids[t], p.n_out - 1u) * p.row_bytes, u);
  w = dequant4 (s, j);
  [[unroll]] for (uint c = 0u; c < 4u; c++)
    if (k + c < p.n_in)
      y[t * p.n_in + k + c] = w[c];
}
#elif defined (TEXEL)
/* The texel-buffer kernels (CPU implementations, one invocation per row
 * group, THREADS_PER_ROW = 1): each invocation computes a register tile of
 * RPI rows x NB tokens, so that each x fetch serves RPI rows and each
 * weight fetch NB tokens. Token slots past n_tokens re-read the last token
 * instead of branching (a CPU device runs both sides of a branch) and are
 * not stored; rows past n_out likewise. */
void
main ()
{
  uint row0 = ((gl_WorkGroupID.x + gl_WorkGroupID.y * gl_NumWorkGroups.x) * gl_WorkGroupSize.x
               + gl_LocalInvocationID.x) * RPI;
  uint tok0 = gl_WorkGroupID.z * NB;
  uint n_units = (p.n_in + 31u) / 32u;
  uint xrow[NB];
  uint rb[RPI];
  float acc[RPI * NB];

  [[unroll]] for (uint i = 0u; i < RPI * NB; i++)
    acc[i] = 0.0;
  [[unroll]] for (uint t = 0u; t < NB; t++)
    xrow[t] = min (tok0 + t, p.n_tokens - 1u) * (p.n_in / 4u);
  [[unroll]] for (uint r = 0u; r < RPI; r++)
    rb[r] = min (row0 + r, p.n_out - 1u) * p.row_bytes;
  for (uint u = 0u; u < n_units; u++)
    {
      Unit s[RPI];
#ifdef PARTIAL_UNITS
      uint last = (min (32u, p.n_in - u * 32u) - 1u) / 4u; /* the weights are zero past it */
#endif

      [[unroll]] for (uint r = 0u; r < RPI; r++)
        s[r] = unit_setup (rb[r], u);
      [[unroll]] for (uint j = 0u; j < 8u; j++)
        {
          vec4 w[RPI];

          [[unroll]] for (uint r = 0u; r < RPI; r++)
            w[r] = dequant4 (s[r], j);
          [[unroll]] for (uint t = 0u; t < NB; t++)
            {
#ifdef PARTIAL_UNITS
              vec4 xv = X4 (xrow[t] + u * 8u + min (j, last));
#else
              vec4 xv = X4 (xrow[t] + u * 8u + j);
#endif

              [[unroll]] for (uint r = 0u; r < RPI; r++)
                acc[r * NB + t] += dot (w[r], xv);
            }
        }
    }
  [[unroll]] for (uint r = 0u; r < RPI; r++)
    [[unroll]] for (uint t = 0u; t < NB; t++)
      if (row0 + r < p.n_out && tok0 + t < p.n_tokens)
        y[(tok0 + t) * p.n_out + row0 + r] = acc[r * NB + t];
}
#elif defined (Q8)
/* Integer dot products (GPUs with shaderIntegerDotProduct and subgroup
 * arithmetic): a subgroup per row, each invocation a unit of 32 at a time,
 * its 8 words of weight bytes against the 8 words of x's block, scaled by
 * the weights' factor and x's block scale d; types with an offset subtract
 * it times x's block sum (stored as d * the sum of its bytes). Rows past
 * n_out compute row n_out - 1 again, so that every invocation reaches the
 * subgroupAdd. */
void
main ()
{
  uint row = (gl_WorkGroupID.x + gl_WorkGroupID.y * gl_NumWorkGroups.x) * gl_NumSubgroups
             + gl_SubgroupID;
  uint tok0 = gl_WorkGroupID.z * NB;
  uint n_units = p.n_in / 32u;
  uint nt = min (NB, p.n_tokens - tok0);
  uint row_base = min (row, p.n_out - 1u) * p.row_bytes;
  uint scales = p.n_tokens * (p.n_in / 4u); /* where the (d, d * sum) pairs start */
  float acc[NB];

  [[unroll]] for (uint t = 0u; t < NB; t++)
    acc[t] = 0.0;
  for (uint u = gl_SubgroupInvocationID; u < n_units; u += gl_SubgroupSize)
    {
      Unit s = unit_setup (row_base, u);
      int q[8];
      float a0 = qscale (s, 0u), a1 = qscale (s, 4u), b = qmin (s);

      [[unroll]] for (uint j = 0u; j < 8u; j++)
        q[j] = qword (s, j);
      [[unroll]] for (uint t = 0u; t < NB; t++)
        if (t < nt)
          {
            uint xb = (tok0 + t) * (p.n_in / 4u) + u * 8u;
            uint sb = scales + 2u * ((tok0 + t) * n_units + u);
            int i0 = 0, i1 = 0;

            /* two halves: Q6_K's 16-element groups have their own scales */
            [[unroll]] for (uint j = 0u; j < 4u; j++)
              {
                i0 += sdot4x8 (q[j], int (xq[xb + j]), 0);
                i1 += sdot4x8 (q[j + 4u], int (xq[xb + j + 4u]), 0);
              }
            acc[t] += uintBitsToFloat (xq[sb]) * (a0 * float (i0) + a1 * float (i1))
                      - b * uintBitsToFloat (xq[sb + 1u]);
          }
    }
  /* only the tokens there are (1 for decode): nt is the same for the
   * whole workgroup, so the branch keeps every invocation active */
  [[unroll]] for (uint t = 0u; t < NB; t++)
    if (t < nt)
      acc[t] = subgroupAdd (acc[t]);
  if (row < p.n_out && subgroupElect ())
    [[unroll]] for (uint t = 0u; t < NB; t++)
      if (t < nt)
        y[(tok0 + t) * p.n_out + row] = acc[t];
}
#else
void
main ()
{
  uint wg_size = gl_WorkGroupSize.x;
  uint tid = gl_LocalInvocationID.x;
#ifdef SUBGROUP
  /* a row per subgroup, whatever the device's mapping of invocations */
  uint lane = gl_SubgroupInvocationID;
  uint row = (gl_WorkGroupID.x + gl_WorkGroupID.y * gl_NumWorkGroups.x) * gl_NumSubgroups
             + gl_SubgroupID;
#define ROW_STEP gl_SubgroupSize
#else
  uint lane = tid % THREADS_PER_ROW;
  uint row = (gl_WorkGroupID.x + gl_WorkGroupID.y * gl_NumWorkGroups.x)
             * (wg_size / THREADS_PER_ROW) + tid / THREADS_PER_ROW;
#define ROW_STEP THREADS_PER_ROW
#endif
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
  /* Rows past n_out compute row n_out - 1 again and do not store it, so
   * the loops do not depend on the row and every invocation of a subgroup
   * stays active for the broadcasts below. */
  uint row_base = min (row, p.n_out - 1u) * p.row_bytes;

#if !defined (PARTIAL_UNITS) && !defined (TEXEL) && !defined (SUBGROUP)
  /* Decode on a CPU implementation (one row per SIMD lane, all lanes of a
   * subgroup on the same x): lane i loads x's i-th vec4 of the unit and
   * the others take it by broadcast, one gather per unit instead of eight
   * (lavapipe, CPU time per 1536x8960 product: Q4_K 38 -> 20 ms, Q8_0 42
   * -> 22 ms, Q6_K 55 -> 33 ms; bench-vulkan-matmul). For batches the
   * same did not help: there the multiply-adds dominate. */
  if (p.n_tokens == 1u && THREADS_PER_ROW == 1u && gl_SubgroupSize >= 8u)
    {
      uint sl = gl_SubgroupInvocationID % 8u;

      for (uint u = 0u; u < n_units; u++)
        {
          Unit s = unit_setup (row_base, u);
          vec4 mine = X4 (u * 8u + sl);

#define STEP(J) acc[0] += dot (dequant4 (s, J), subgroupBroadcast (mine, J));
          STEP (0u) STEP (1u) STEP (2u) STEP (3u) STEP (4u) STEP (5u) STEP (6u) STEP (7u)
#undef STEP
        }
      n_units = 0u; /* the general loop below has nothing left to do */
    }
#endif
  for (uint u = lane; u < n_units; u += ROW_STEP)
    {
      Unit s = unit_setup (row_base, u);
      uint k0 = u * 32u;
#ifdef PARTIAL_UNITS
      uint last = min (32u, p.n_in - k0) - 1u; /* the weights are zero past it */
#define XI(i) min (i, last)
#else
#define XI(i) (i)
#endif

      [[unroll]] for (uint j = 0u; j < 8u; j++)
        {
          vec4 w = dequant4 (s, j);

          [[unroll]] for (uint t = 0u; t < NB; t++)
            if (t < nt)
              {
                uint xb = (tok0 + t) * p.n_in + k0;
                vec4 xv;

#if defined (PARTIAL_UNITS) && defined (TEXEL)
                /* The host takes this path only for rows of a multiple of 4
                 * (a branch here would run both sides on a CPU device). */
                xv = X4 (xb / 4u + min (j, last / 4u));
#elif defined (PARTIAL_UNITS)
                /* A uniform branch: rows of a multiple of 4 are read as vec4s
                 * too, the index clamped to the row like the scalar ones. */
                if ((p.n_in & 3u) == 0u)
                  xv = X4 (xb / 4u + min (j, last / 4u));
                else
                  xv = vec4 (x[xb + XI (4u * j)], x[xb + XI (4u * j + 1u)],
                             x[xb + XI (4u * j + 2u)], x[xb + XI (4u * j + 3u)]);
#else
                xv = X4 (xb / 4u + j);
#endif

                acc[t] += dot (w, xv);
              }
        }
#undef XI
    }

#ifdef SUBGROUP
  /* only the tokens there are, as in the Q8 main above */
  [[unroll]] for (uint t = 0u; t < NB; t++)
    if (t < nt)
      acc[t] = subgroupAdd (acc[t]);
#else
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
#endif
#undef ROW_STEP
  if (in_range && lane == 0u)
    [[unroll]] for (uint t = 0u; t < NB; t++)
      if (t < nt)
        y[(tok0 + t) * p.n_out + row] = acc[t];
}
#endif
