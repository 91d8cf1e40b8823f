#version 450
#extension GL_GOOGLE_include_directive : require

/* kv_store.comp: the KV cache store of a step, k (n_tokens, k_row) and v
 * (n_tokens, v_row) into rows [pos0, pos0 + n_tokens) of the caches. A
 * copy command would bake pos0 into the recording as its offset; here
 * pos0 comes from the step buffer (pos_in_memory set) or the push
 * constants, so a decode step's recording replays at the next position.
 * Words are copied as uints, bit for bit; with KV_F16 each cache word is
 * two rounded halves (kv_cache.glsl), so the rows must be even.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
layout (local_size_x_id = 0) in;

layout (binding = 0) readonly buffer KeyIn { uint k_in[]; };     /* (n_tokens, k_row) */
layout (binding = 1) readonly buffer ValueIn { uint v_in[]; };   /* (n_tokens, v_row) */
layout (binding = 2) writeonly buffer Keys { uint k_out[]; };    /* (n_ctx, k_row) */
layout (binding = 3) writeonly buffer Values { uint v_out[]; };  /* (n_ctx, v_row) */
layout (binding = 4) readonly buffer Step { uint step_pos0; };

/* Mirrors PonderVkKvStorePush. */
layout (push_constant) uniform Push
{
  uint n_tokens;
  uint k_row;
  uint v_row;     /* 0: keys only (deepseek2's latent cache) */
  uint pos0;
  uint pos_in_memory;
} p;

#include "grid.glsl"

void
main ()
{
  uint i = flat_invocation ();
  uint pos0 = p.pos_in_memory != 0u ? step_pos0 : p.pos0;

#ifdef KV_F16
  /* invocation i packs elements 2i and 2i + 1 */
  if (i < p.n_tokens * p.k_row / 2u)
    k_out[pos0 * p.k_row / 2u + i] = packHalf2x16 (vec2 (uintBitsToFloat (k_in[2u * i]),
                                                         uintBitsToFloat (k_in[2u * i + 1u])));
  if (i < p.n_tokens * p.v_row / 2u)
    v_out[pos0 * p.v_row / 2u + i] = packHalf2x16 (vec2 (uintBitsToFloat (v_in[2u * i]),
                                                         uintBitsToFloat (v_in[2u * i + 1u])));
#else
  if (i < p.n_tokens * p.k_row)
    k_out[pos0 * p.k_row + i] = k_in[i];
  if (i < p.n_tokens * p.v_row)
    v_out[pos0 * p.v_row + i] = v_in[i];
#endif
}
