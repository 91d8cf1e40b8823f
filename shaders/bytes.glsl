/* bytes.glsl: byte-addressed reads from a uint storage buffer.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Quantised rows are bound as raw words because their blocks (34 bytes for
 * Q8_0, 210 for Q6_K) are only 2-byte aligned; every f16 field sits at an
 * even offset, so read_u16 never straddles two words. The including shader
 * declares the buffer as `uint wdata[]`.
 */

uint
read_u8 (uint byte_offset)
{
  return (WD (byte_offset >> 2) >> ((byte_offset & 3u) * 8u)) & 0xffu;
}

int
read_i8 (uint byte_offset)
{
  return int (read_u8 (byte_offset) << 24) >> 24;
}

uint
read_u16 (uint byte_offset) /* byte_offset is even */
{
  return (WD (byte_offset >> 2) >> ((byte_offset & 2u) * 8u)) & 0xffffu;
}

float
read_f16 (uint byte_offset)
{
  return unpackHalf2x16 (read_u16 (byte_offset)).x;
}

uint
read_u32_even (uint byte_offset) /* byte_offset is even: two words when it is not 4-aligned */
{
  uint i = byte_offset >> 2;
  uint odd = (byte_offset >> 1) & 1u;
  uint lo = WD (i);
  uint hi = WD (i + odd); /* the same word when aligned: never past the block */

  return odd == 0u ? lo : (lo >> 16) | (hi << 16);
}

#ifdef TEXEL_W4
/* The words of 34 bytes from an even byte offset on, out of three 16-byte
 * texels of wtex4 (the offset into the first is at most 14): u[k] holds
 * bytes 4k..4k+3; only the low half of u[8] is meant (bytes 32, 33). The
 * offset differs from lane to lane, so the words are picked with selects:
 * an array indexed at run time would go to memory on a CPU device. The
 * texel index is clamped to the view, since the third texel may lie past
 * the buffer when the bytes do not reach into it. Three fetches instead of
 * a word gather per word (on lavapipe a vpgatherdd each). */
void
words9 (uint byte_offset, out uint u[9])
{
  int t = int (byte_offset / 16u);
  int last = textureSize (wtex4) - 1;
  uint off = byte_offset % 16u;
  uvec4 t0 = texelFetch (wtex4, min (t, last));
  uvec4 t1 = texelFetch (wtex4, min (t + 1, last));
  uvec4 t2 = texelFetch (wtex4, min (t + 2, last));
  uint w[13] = uint[13] (t0.x, t0.y, t0.z, t0.w, t1.x, t1.y, t1.z, t1.w, t2.x, t2.y, t2.z, t2.w,
                         0u);
  uint a = off / 4u;
  bool odd = (off & 2u) != 0u;
  uint v[10];

  [[unroll]] for (uint k = 0u; k < 10u; k++)
    v[k] = a == 0u ? w[k] : a == 1u ? w[k + 1u] : a == 2u ? w[k + 2u] : w[k + 3u];
  [[unroll]] for (uint k = 0u; k < 9u; k++)
    u[k] = odd ? (v[k] >> 16) | (v[k + 1u] << 16) : v[k];
}
#endif
