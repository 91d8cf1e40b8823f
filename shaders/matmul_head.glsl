/* matmul_head.glsl: y = x times w transposed for a small batch of tokens.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * One workgroup computes one output row for up to NB tokens, so each weight
 * row is dequantised once per NB tokens (decode is the NB = 1 case). The
 * row is walked in units of 32 elements (a Q8_0 block, a Q4_K sub-block,
 * two Q6_K sub-blocks) and each unit four elements at a time. The
 * including shader defines `struct Unit` (what a unit's elements share:
 * offsets, scales), `Unit unit_setup (uint row_base, uint unit)` and
 * `vec4 dequant4 (Unit s, uint j)`, elements 4j..4j+3 of the unit (zero
 * past n_in); the weights are never expanded in memory. Four at a time,
 * so that x can be read as vec4s: on a CPU implementation (one row per
 * SIMD lane) every x load is a gather over the lanes, and vec4 gathers
 * took the time per matmul to a third on lavapipe (bench-vulkan-matmul).
 * Shaders whose n_in need not be a multiple of 32 (F32, F16) define
 * PARTIAL_UNITS so that x is not read past the row.
 *
 * THREADS_PER_ROW (specialization constant 1) invocations share a row and
 * reduce through shared memory (no subgroup operations needed); a workgroup
 * holds gl_WorkGroupSize.x / THREADS_PER_ROW rows. GPUs want many threads
 * per row so that neighbouring lanes read neighbouring blocks; CPU
 * implementations (lavapipe) want one, because a barrier there is a
 * coroutine switch: with THREADS_PER_ROW = 1 the reduction and its
 * barriers are compiled out.
 *
 * Built with TEXEL (matmul_<type>_tx), the same dequantisers read the
 * weights and x through texel buffers and each invocation computes a
 * register tile of RPI rows x NB tokens (specialization constants 3 and 2;
 * matmul_main.glsl): the CPU-device variant, chosen in vulkan-ops.c. The
 * weights are still never expanded, in memory or in shared memory: on a
 * CPU device shared memory is ordinary memory reached by the same per-lane
 * loops as a storage buffer, so the tile lives in registers instead.
 *
 * Built with SUBGROUP (matmul_<type>_sg), one subgroup computes a row and
 * reduces with subgroupAdd instead of shared memory and barriers: the
 * variant for devices with subgroup arithmetic (the host then passes the
 * subgroup size as THREADS_PER_ROW). Built with Q8 as well
 * (matmul_<type>_q8), binding 1 holds x quantised by quantize_q8.comp and
 * the products are integer dot products of 4 packed bytes (OpSDot, through
 * GL_EXT_spirv_intrinsics: glslang 12 lacks GL_EXT_integer_dot_product);
 * the including shader then also defines `int qword (Unit s, uint j)`,
 * elements 4j..4j+3 as signed bytes, `float qscale (Unit s, uint j)`, what
 * multiplies them, and `float qmin (Unit s)`, the offset subtracted per
 * element (zero for symmetric types).
 */

#extension GL_EXT_control_flow_attributes : require

#ifdef EMBED
/* Built with EMBED (embed_<type> in shaders/meson.build), the same source is
 * the embedding lookup: out (n_tokens, n_in) = rows ids of the table, each
 * invocation dequantising four elements with the type's dequant4. */
layout (local_size_x_id = 0) in;

layout (binding = 0) readonly buffer Weights { uint wdata[]; };  /* (n_rows, row_bytes) */
#define WD(i) wdata[i]
layout (binding = 1) readonly buffer Ids { uint ids[]; };        /* (n_tokens) */
layout (binding = 2) writeonly buffer Output { float y[]; };     /* (n_tokens, n_in) */

/* Mirrors PonderVkMatmulPush (n_out: the table's rows). */
layout (push_constant) uniform Push
{
  uint n_in;
  uint n_out;
  uint n_tokens;
  uint row_bytes;
} p;

#include "bytes.glsl"
#include "grid.glsl"
#else
#extension GL_KHR_shader_subgroup_ballot : require
#ifdef Q8
#define SUBGROUP
#extension GL_EXT_spirv_intrinsics : require
/* OpSDot (4450) of two words of 4 signed bytes (PackedVectorFormat4x8Bit,
 * literal 0); capabilities DotProduct and DotProductInput4x8BitPacked. */
spirv_instruction (extensions = ["SPV_KHR_integer_dot_product"], capabilities = [6019, 6018],
                   id = 4450)
int sdot4x8 (int a, int b, spirv_literal int packed_format);
#endif
#ifdef SUBGROUP
#extension GL_KHR_shader_subgroup_arithmetic : require
#endif

layout (local_size_x_id = 0) in;
layout (constant_id = 1) const uint THREADS_PER_ROW = 64;
#ifdef TEXEL
/* Tokens per workgroup, chosen by the host (1 for decode): a CPU
 * implementation runs masked-off code too, so unused token slots cost. */
layout (constant_id = 2) const uint NB = 8u;
layout (constant_id = 3) const uint RPI = 1u; /* rows per invocation (matmul_main.glsl) */
#else
#define NB 8u
#endif

layout (binding = 0) readonly buffer Weights { uint wdata[]; };  /* (n_out, row_bytes) */
#ifdef Q8
/* quantize_q8.comp's output: (n_tokens, n_in / 4) words of 4 signed bytes,
 * then per block of 32 the f32 pair (d, d * sum of its bytes) */
layout (binding = 1) readonly buffer Input { uint xq[]; };
#else
layout (binding = 1) readonly buffer Input { float x[]; };       /* (n_tokens, n_in) */
/* The same as vec4s, for n_in a multiple of 4 (every block type): a CPU
 * implementation loads a vec4 per lane at once, four scalars separately. */
layout (binding = 1) readonly buffer Input4 { vec4 x4[]; };
#endif
layout (binding = 2) writeonly buffer Output { float y[]; };     /* (n_tokens, n_out) */

#ifdef TEXEL
/* The same weights and x as texel buffers (PONDER_VK_TEXEL_W | _X in
 * vulkan-private.h): on lavapipe a texel fetch is one vector gather, while
 * a storage-buffer load inside a loop is a scalar loop over the SIMD lanes
 * with a mask test and a bounds check per lane (Mesa 22.3). Only chosen on
 * CPU implementations. */
layout (binding = 6) uniform usamplerBuffer wtex;
layout (binding = 7) uniform samplerBuffer xtex;
layout (binding = 8) uniform usamplerBuffer wtex4; /* the weights as uvec4s */
#define TEXEL_W4 /* bytes.glsl: words9 */
#define WD(i) texelFetch (wtex, int (i)).x
#define X4(i) texelFetch (xtex, int (i))
#else
#define WD(i) wdata[i]
#define X4(i) x4[i]
#endif

/* Mirrors PonderVkMatmulPush in engine/vulkan-private.h. */
layout (push_constant) uniform Push
{
  uint n_in;
  uint n_out;
  uint n_tokens;
  uint row_bytes;
} p;

#if !defined (TEXEL) && !defined (SUBGROUP)
shared float partial[gl_WorkGroupSize.x * NB];
#endif

#include "bytes.glsl"
#endif
