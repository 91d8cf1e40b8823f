/* kv_cache.glsl: how the attention shaders read the KV cache (kv-cache.h's
 * layout): F32, or with KV_F16 IEEE halves two to a word, element 2w in the
 * low half of word w. KV_READ (buf, i) is element i as a float either way.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#ifdef KV_F16
#define KV_ELEM uint
float
kv_half (uint word, uint i)
{
  vec2 pair = unpackHalf2x16 (word);

  return (i & 1u) == 0u ? pair.x : pair.y;
}
#define KV_READ(buf, i) kv_half (buf[(i) >> 1u], (i))
#else
#define KV_ELEM float
#define KV_READ(buf, i) buf[i]
#endif
