#version 450
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
#ifdef SUBGROUP
#extension GL_KHR_shader_subgroup_arithmetic : require
#endif

/* ds2_matmul.comp: the products of deepseek2's 3-D weights (n_slices
 * matrices of n_out rows each, one after another), in three modes
 * (specialization constant 2):
 *
 *   0 SLICES   y (item, n_out) = W[item % n_slices] x (item); the items are
 *              (token, head) pairs, x rows x_stride floats apart (the no-pe
 *              part of each query head, or a latent head).
 *   1 GATE_UP  h (item, n_out) = silu (G[e] x (t)) * U[e] x (t) for item =
 *              (token t, slot k), e = ids[item]; the up matrices follow the
 *              gate matrices in the same buffer, up_offset bytes in.
 *   2 DOWN     y (t, n_out) (+)= sum_k weights[t, k] D[ids[t, k]] h (t, k).
 *
 * In modes 1 and 2 the buffer may hold a chunk of the experts, n_chunk
 * from expert0 on (a tensor larger than a buffer binding can reach, or than
 * 32-bit offsets can address, is split): items of other experts are left
 * alone, and the down pass of every chunk but the first accumulates.
 *
 * So the routed experts of a MoE layer take two dispatches, and only the
 * selected experts' rows are read: the expert ids never leave the device.
 * A workgroup computes gl_WorkGroupSize.x / THREADS_PER_ROW rows of one
 * item (mode 2: one token); THREADS_PER_ROW invocations share a row and
 * reduce through shared memory (1 on CPU implementations, where barriers
 * are expensive: the reduction is compiled out). Built with SUBGROUP
 * (ds2_matmul_<type>_sg, devices with subgroup arithmetic), a subgroup
 * takes a row and reduces with subgroupAdd, without shared memory or
 * barriers.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
layout (local_size_x_id = 0) in;
layout (constant_id = 1) const uint THREADS_PER_ROW = 1;
layout (constant_id = 2) const uint MODE = 0;

layout (binding = 0) readonly buffer Weights { uint wdata[]; };
#ifdef TEXEL
/* The weights and x again as texel buffers, as in matmul_head.glsl (CPU
 * implementations: a storage-buffer load in a loop is a loop over the
 * lanes there). The host takes this variant for rows and x strides of a
 * multiple of 4 floats only. */
layout (binding = 6) uniform usamplerBuffer wtex;
layout (binding = 7) uniform samplerBuffer xtex;
#define WD(i) texelFetch (wtex, int (i)).x
#else
#define WD(i) wdata[i] /* a weight word (bytes.glsl, the dequantisers) */
#endif
layout (binding = 1) readonly buffer Input { float x[]; };
layout (binding = 2) readonly buffer Ids { int ids[]; };         /* (n_tokens, n_used) */
layout (binding = 3) readonly buffer RouteW { float rw[]; };     /* (n_tokens, n_used) */
layout (binding = 4) buffer Output { float y[]; };

/* Mirrors PonderVkDs2MatmulPush. */
layout (push_constant) uniform Push
{
  uint n_in;
  uint n_out;
  uint n_items;    /* mode 0, 1: items; mode 2: tokens */
  uint row_bytes;
  uint x_stride;   /* floats from one input row to the next */
  uint n_slices;   /* mode 0: slices; modes 1, 2: n_used */
  uint up_offset;  /* mode 1: bytes from the gate matrices to the up ones */
  uint accumulate; /* mode 2: add to y */
  uint expert0;    /* modes 1, 2: the first expert in the buffer */
  uint n_chunk;    /* modes 1, 2: experts in the buffer */
} p;

#ifdef SUBGROUP
#define ROW_STEP gl_SubgroupSize
#else
#define ROW_STEP THREADS_PER_ROW
shared float partial[gl_WorkGroupSize.x];
#endif

#include "ds2_dequant.glsl"
#include "grid.glsl"

/* This lane's share of W row (at byte wbase) times x[xbase ...]. */
float
row_dot (uint wbase, uint xbase, uint lane)
{
  uint n_units = (p.n_in + 31u) / 32u;
  float acc = 0.0;

  for (uint u = lane; u < n_units; u += ROW_STEP)
    {
      float v[32];
      uint k0 = u * 32u;
      uint last = min (32u, p.n_in - k0) - 1u;
      float s = 0.0;

      dequant_unit (wbase, u, v);
#ifdef TEXEL
      [[unroll]] for (uint j = 0u; j < 8u; j++)
        s += dot (vec4 (v[4u * j], v[4u * j + 1u], v[4u * j + 2u], v[4u * j + 3u]),
                  texelFetch (xtex, int ((xbase + k0) / 4u + min (j, last / 4u))));
#else
      [[unroll]] for (uint i = 0u; i < 32u; i++)
        s += v[i] * x[xbase + k0 + min (i, last)];
#endif
      acc += s;
    }
  return acc;
}

/* The sum over the lanes of a row; every invocation must call it. */
float
row_sum (float value, uint tid, uint lane)
{
#ifdef SUBGROUP
  /* a row is a subgroup, whose lanes all get here (row_dot's rows past
   * n_out are not live but still call this) */
  return subgroupAdd (value);
#else
  float result;

  if (THREADS_PER_ROW == 1u)
    return value;
  partial[tid] = value;
  barrier ();
  for (uint stride = THREADS_PER_ROW / 2u; stride > 0u; stride /= 2u)
    {
      if (lane < stride)
        partial[tid] += partial[tid + stride];
      barrier ();
    }
  result = partial[tid - lane];
  barrier ();
  return result;
#endif
}

void
main ()
{
  uint tid = gl_LocalInvocationID.x;
#ifdef SUBGROUP
  uint lane = gl_SubgroupInvocationID;
  uint rows_per_group = gl_NumSubgroups;
  uint sub_row = gl_SubgroupID;
#else
  uint lane = tid % THREADS_PER_ROW;
  uint rows_per_group = gl_WorkGroupSize.x / THREADS_PER_ROW;
  uint sub_row = tid / THREADS_PER_ROW;
#endif
  uint n_row_groups = (p.n_out + rows_per_group - 1u) / rows_per_group;
  uint g = flat_group ();
  uint item = g / n_row_groups;
  uint row = (g % n_row_groups) * rows_per_group + sub_row;
  uint slice_bytes = p.n_out * p.row_bytes;
  bool live;

  /* the whole workgroup leaves together, or takes part in every barrier */
  if (item >= p.n_items)
    return;
  live = row < p.n_out;
  if (MODE == 0u)
    {
      uint s = item % p.n_slices;
      float acc = live ? row_dot (s * slice_bytes + row * p.row_bytes, item * p.x_stride, lane)
                       : 0.0;

      acc = row_sum (acc, tid, lane);
      if (live && lane == 0u)
        y[item * p.n_out + row] = acc;
    }
  else if (MODE == 1u)
    {
      uint t = item / p.n_slices;
      uint e = uint (ids[item]) - p.expert0; /* wraps past n_chunk below expert0 */
      uint wb = e * slice_bytes + row * p.row_bytes;
      float gate, up;

      if (e >= p.n_chunk)
        return; /* another chunk's item: the same for the whole workgroup */
      gate = live ? row_dot (wb, t * p.x_stride, lane) : 0.0;
      up = live ? row_dot (p.up_offset + wb, t * p.x_stride, lane) : 0.0;

      gate = row_sum (gate, tid, lane);
      up = row_sum (up, tid, lane);
      if (live && lane == 0u)
        y[item * p.n_out + row] = gate / (1.0 + exp (-gate)) * up;
    }
  else
    {
      float acc = 0.0;

      for (uint k = 0u; live && k < p.n_slices; k++)
        {
          uint slot = item * p.n_slices + k;
          uint e = uint (ids[slot]) - p.expert0;

          if (e < p.n_chunk)
            acc += rw[slot] * row_dot (e * slice_bytes + row * p.row_bytes, slot * p.x_stride,
                                       lane);
        }
      acc = row_sum (acc, tid, lane);
      if (live && lane == 0u)
        y[item * p.n_out + row] = (p.accumulate != 0u ? y[item * p.n_out + row] : 0.0) + acc;
    }
}
