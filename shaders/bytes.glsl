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
