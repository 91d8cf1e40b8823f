/* topk.glsl: what topk_partial.comp and topk_merge.comp share.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A record (uints) describes the qualifying logits of a range: those not
 * masked, not NaN and not -inf, +inf counted as FLT_MAX:
 *   [0] how many qualify, [1] how many are listed (min of that and TOPK_CAPACITY),
 *   [2] the largest (float bits), [3] sum exp ((x - largest) * inv_temperature),
 *   [4, 4 + TOPK_CAPACITY) the listed values, best first (float bits),
 *   [4 + TOPK_CAPACITY, 4 + 2 TOPK_CAPACITY) their ids.
 * "Best" is the sampler's order: larger value, then lower id.
 * Mirrors PONDER_VK_TOPK_CAPACITY and PONDER_VK_TOPK_RECORD_WORDS.
 */
#define TOPK_CAPACITY 64u
#define TOPK_RECORD (4u + 2u * TOPK_CAPACITY)
#define TOPK_NONE 0xffffffffu
#define TOPK_FLT_MAX 3.402823466e+38

/* Whether (v, i) ranks before (bv, bi); bi == TOPK_NONE is "nothing yet". */
bool
topk_better (float v, uint i, float bv, uint bi)
{
  return bi == TOPK_NONE || v > bv || (v == bv && i < bi);
}
