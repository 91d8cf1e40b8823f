/* vulkan-ops.c: the kernel table and one recorder per op.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The SPIR-V comes from shaders/ (compiled by glslangValidator at build
 * time, see shaders/meson.build); each op fills its push-constant struct,
 * picks the grid and records one checked dispatch.
 */
#include <math.h>
#include <stdint.h>

#include "error.h"
#include "quant.h"
#include "vulkan-deepseek2.h"
#include "vulkan-private.h"

#include "add.h"
#include "add_bias.h"
#include "argmax.h"
#include "topk_merge.h"
#include "topk_partial.h"
#include "attention.h"
#include "attention_merge.h"
#include "attention_split.h"
#include "kv_store.h"
#include "kv_store_f16.h"
#include "attention_f16.h"
#include "attention_split_f16.h"
#include "ds2_mla_f16.h"
#include "embed_f32.h"
#include "embed_f16.h"
#include "embed_bf16.h"
#include "embed_q8_0.h"
#include "embed_q4_0.h"
#include "embed_q5_0.h"
#include "embed_q4_1.h"
#include "embed_q5_1.h"
#include "embed_q2_k.h"
#include "embed_q3_k.h"
#include "embed_q4_k.h"
#include "embed_q5_k.h"
#include "embed_q6_k.h"
#include "ds2_matmul_f16.h"
#include "ds2_matmul_f32.h"
#include "ds2_matmul_iq1_s.h"
#include "ds2_matmul_iq1_m.h"
#include "ds2_matmul_iq2_xxs.h"
#include "ds2_matmul_iq2_xs.h"
#include "ds2_matmul_iq2_s.h"
#include "ds2_matmul_iq3_xxs.h"
#include "ds2_matmul_iq3_s.h"
#include "ds2_matmul_iq4_nl.h"
#include "ds2_matmul_iq4_xs.h"
#include "ds2_matmul_q2_k.h"
#include "ds2_matmul_q3_k.h"
#include "ds2_matmul_q4_0.h"
#include "ds2_matmul_q4_1.h"
#include "ds2_matmul_q5_1.h"
#include "ds2_matmul_q5_k.h"
#include "ds2_matmul_q4_k.h"
#include "ds2_matmul_q5_0.h"
#include "ds2_matmul_q6_k.h"
#include "ds2_matmul_q8_0.h"
#include "ds2_mla.h"
#include "ds2_route.h"
#include "matmul_bf16.h"
#include "matmul_f16.h"
#include "matmul_f32.h"
#include "matmul_iq1_s.h"
#include "matmul_iq1_m.h"
#include "matmul_iq2_xxs.h"
#include "matmul_iq2_xs.h"
#include "matmul_iq2_s.h"
#include "matmul_iq3_xxs.h"
#include "matmul_iq3_s.h"
#include "matmul_iq4_nl.h"
#include "matmul_iq4_xs.h"
#include "matmul_q2_k.h"
#include "matmul_q3_k.h"
#include "matmul_q4_0.h"
#include "matmul_q4_k.h"
#include "matmul_f32_tx.h"
#include "matmul_f16_tx.h"
#include "matmul_bf16_tx.h"
#include "matmul_q8_0_tx.h"
#include "matmul_q4_0_tx.h"
#include "matmul_q5_0_tx.h"
#include "matmul_q4_1_tx.h"
#include "matmul_q5_1_tx.h"
#include "matmul_q2_k_tx.h"
#include "matmul_q3_k_tx.h"
#include "matmul_q4_k_tx.h"
#include "matmul_q5_k_tx.h"
#include "matmul_q6_k_tx.h"
#include "ds2_matmul_f32_tx.h"
#include "ds2_matmul_f16_tx.h"
#include "ds2_matmul_q8_0_tx.h"
#include "ds2_matmul_q4_0_tx.h"
#include "ds2_matmul_q5_0_tx.h"
#include "ds2_matmul_q4_1_tx.h"
#include "ds2_matmul_q5_1_tx.h"
#include "ds2_matmul_q2_k_tx.h"
#include "ds2_matmul_q3_k_tx.h"
#include "ds2_matmul_q4_k_tx.h"
#include "ds2_matmul_q5_k_tx.h"
#include "ds2_matmul_q6_k_tx.h"
#include "matmul_q5_0.h"
#include "matmul_q4_1.h"
#include "matmul_q5_1.h"
#include "matmul_q5_k.h"
#include "matmul_q6_k.h"
#include "matmul_q8_0.h"
#include "matmul_f32_sg.h"
#include "matmul_f16_sg.h"
#include "matmul_bf16_sg.h"
#include "matmul_q8_0_sg.h"
#include "matmul_q4_0_sg.h"
#include "matmul_q5_0_sg.h"
#include "matmul_q4_1_sg.h"
#include "matmul_q5_1_sg.h"
#include "matmul_q2_k_sg.h"
#include "matmul_q3_k_sg.h"
#include "matmul_q4_k_sg.h"
#include "matmul_q5_k_sg.h"
#include "matmul_q6_k_sg.h"
#include "matmul_q8_0_q8.h"
#include "matmul_q4_0_q8.h"
#include "matmul_q5_0_q8.h"
#include "matmul_q4_k_q8.h"
#include "matmul_q5_k_q8.h"
#include "matmul_q6_k_q8.h"
#include "quantize_q8.h"
#include "matmul_f16_h.h"
#include "ds2_matmul_f32_sg.h"
#include "ds2_matmul_f16_sg.h"
#include "ds2_matmul_q8_0_sg.h"
#include "ds2_matmul_q4_0_sg.h"
#include "ds2_matmul_q5_0_sg.h"
#include "ds2_matmul_q4_1_sg.h"
#include "ds2_matmul_q5_1_sg.h"
#include "ds2_matmul_q2_k_sg.h"
#include "ds2_matmul_q3_k_sg.h"
#include "ds2_matmul_q4_k_sg.h"
#include "ds2_matmul_q5_k_sg.h"
#include "ds2_matmul_q6_k_sg.h"
#include "ds2_matmul_iq1_s_sg.h"
#include "ds2_matmul_iq1_m_sg.h"
#include "ds2_matmul_iq2_xxs_sg.h"
#include "ds2_matmul_iq2_xs_sg.h"
#include "ds2_matmul_iq2_s_sg.h"
#include "ds2_matmul_iq3_xxs_sg.h"
#include "ds2_matmul_iq3_s_sg.h"
#include "ds2_matmul_iq4_nl_sg.h"
#include "ds2_matmul_iq4_xs_sg.h"
#include "matmul_iq1_s_sg.h"
#include "matmul_iq1_m_sg.h"
#include "matmul_iq2_xxs_sg.h"
#include "matmul_iq2_xs_sg.h"
#include "matmul_iq2_s_sg.h"
#include "matmul_iq3_xxs_sg.h"
#include "matmul_iq3_s_sg.h"
#include "matmul_iq4_nl_sg.h"
#include "matmul_iq4_xs_sg.h"
#include "rmsnorm.h"
#include "rope.h"
#include "swiglu.h"

#define KERNEL(id, sym, n_buffers, push_type, n_spec) \
  [id] = { #sym, ponder_spv_##sym, sizeof ponder_spv_##sym, n_buffers, sizeof (push_type), \
           n_spec, 0 }
#define KERNEL_TX(TYPE, type) \
  [PONDER_VK_KERNEL_MATMUL_##TYPE##_TX] = { "matmul_" #type "_tx", ponder_spv_matmul_##type##_tx, \
    sizeof ponder_spv_matmul_##type##_tx, 3, sizeof (PonderVkMatmulPush), 4, \
    PONDER_VK_TEXEL_W | PONDER_VK_TEXEL_X | PONDER_VK_TEXEL_W4 }
#define KERNEL_DS2_TX(TYPE, type) \
  [PONDER_VK_KERNEL_DS2_MATMUL_##TYPE##_TX] = { "ds2_matmul_" #type "_tx", \
    ponder_spv_ds2_matmul_##type##_tx, sizeof ponder_spv_ds2_matmul_##type##_tx, 5, \
    sizeof (PonderVkDs2MatmulPush), 3, PONDER_VK_TEXEL_W | PONDER_VK_TEXEL_X }

/* The GPU variants of the storage-buffer matmul (matmul_head.glsl). */
#define KERNEL_GPU(TYPE, type, variant, VARIANT) \
  KERNEL (PONDER_VK_KERNEL_MATMUL_##TYPE##_##VARIANT, matmul_##type##_##variant, 3, \
          PonderVkMatmulPush, 2)

/* deepseek2's products reduced over subgroups (n: its storage buffers) */
#define KERNEL_DS2_SG(TYPE, type, n) \
  KERNEL (PONDER_VK_KERNEL_DS2_MATMUL_##TYPE##_SG, ds2_matmul_##type##_sg, n, \
          PonderVkDs2MatmulPush, 3)

static const PonderVkKernelInfo kernels[PONDER_VK_N_KERNELS] = {
  KERNEL (PONDER_VK_KERNEL_RMSNORM, rmsnorm, 3, PonderVkRmsnormPush, 1),
  KERNEL (PONDER_VK_KERNEL_MATMUL_F32, matmul_f32, 3, PonderVkMatmulPush, 2),
  KERNEL (PONDER_VK_KERNEL_MATMUL_F16, matmul_f16, 3, PonderVkMatmulPush, 2),
  KERNEL (PONDER_VK_KERNEL_MATMUL_Q8_0, matmul_q8_0, 3, PonderVkMatmulPush, 2),
  KERNEL (PONDER_VK_KERNEL_MATMUL_Q4_K, matmul_q4_k, 3, PonderVkMatmulPush, 2),
  KERNEL (PONDER_VK_KERNEL_MATMUL_Q6_K, matmul_q6_k, 3, PonderVkMatmulPush, 2),
  KERNEL (PONDER_VK_KERNEL_ROPE, rope, 2, PonderVkRopePush, 1),
  KERNEL (PONDER_VK_KERNEL_SWIGLU, swiglu, 2, PonderVkElementwisePush, 1),
  KERNEL (PONDER_VK_KERNEL_ADD, add, 2, PonderVkElementwisePush, 1),
  KERNEL (PONDER_VK_KERNEL_ARGMAX, argmax, 3, PonderVkArgmaxPush, 1),
  KERNEL (PONDER_VK_KERNEL_ATTENTION, attention, 5, PonderVkAttentionPush, 1),
  KERNEL (PONDER_VK_KERNEL_ADD_BIAS, add_bias, 2, PonderVkBiasPush, 1),
  KERNEL (PONDER_VK_KERNEL_MATMUL_Q4_0, matmul_q4_0, 3, PonderVkMatmulPush, 2),
  KERNEL (PONDER_VK_KERNEL_MATMUL_Q5_0, matmul_q5_0, 3, PonderVkMatmulPush, 2),
  KERNEL (PONDER_VK_KERNEL_MATMUL_Q4_1, matmul_q4_1, 3, PonderVkMatmulPush, 2),
  KERNEL (PONDER_VK_KERNEL_MATMUL_Q5_1, matmul_q5_1, 3, PonderVkMatmulPush, 2),
  KERNEL (PONDER_VK_KERNEL_MATMUL_Q5_K, matmul_q5_k, 3, PonderVkMatmulPush, 2),
  KERNEL (PONDER_VK_KERNEL_MATMUL_BF16, matmul_bf16, 3, PonderVkMatmulPush, 2),
  KERNEL (PONDER_VK_KERNEL_EMBED_F32, embed_f32, 3, PonderVkMatmulPush, 1),
  KERNEL (PONDER_VK_KERNEL_EMBED_F16, embed_f16, 3, PonderVkMatmulPush, 1),
  KERNEL (PONDER_VK_KERNEL_EMBED_BF16, embed_bf16, 3, PonderVkMatmulPush, 1),
  KERNEL (PONDER_VK_KERNEL_EMBED_Q8_0, embed_q8_0, 3, PonderVkMatmulPush, 1),
  KERNEL (PONDER_VK_KERNEL_EMBED_Q4_0, embed_q4_0, 3, PonderVkMatmulPush, 1),
  KERNEL (PONDER_VK_KERNEL_EMBED_Q5_0, embed_q5_0, 3, PonderVkMatmulPush, 1),
  KERNEL (PONDER_VK_KERNEL_EMBED_Q4_1, embed_q4_1, 3, PonderVkMatmulPush, 1),
  KERNEL (PONDER_VK_KERNEL_EMBED_Q5_1, embed_q5_1, 3, PonderVkMatmulPush, 1),
  KERNEL (PONDER_VK_KERNEL_EMBED_Q4_K, embed_q4_k, 3, PonderVkMatmulPush, 1),
  KERNEL (PONDER_VK_KERNEL_EMBED_Q5_K, embed_q5_k, 3, PonderVkMatmulPush, 1),
  KERNEL (PONDER_VK_KERNEL_EMBED_Q6_K, embed_q6_k, 3, PonderVkMatmulPush, 1),
  KERNEL (PONDER_VK_KERNEL_ATTENTION_SPLIT, attention_split, 5, PonderVkAttentionSplitPush, 1),
  KERNEL (PONDER_VK_KERNEL_ATTENTION_MERGE, attention_merge, 2, PonderVkAttentionMergePush, 1),
  KERNEL (PONDER_VK_KERNEL_KV_STORE, kv_store, 5, PonderVkKvStorePush, 1),
  KERNEL (PONDER_VK_KERNEL_DS2_MATMUL_F32, ds2_matmul_f32, 5, PonderVkDs2MatmulPush, 3),
  KERNEL (PONDER_VK_KERNEL_DS2_MATMUL_F16, ds2_matmul_f16, 5, PonderVkDs2MatmulPush, 3),
  KERNEL (PONDER_VK_KERNEL_DS2_MATMUL_Q8_0, ds2_matmul_q8_0, 5, PonderVkDs2MatmulPush, 3),
  KERNEL (PONDER_VK_KERNEL_DS2_MATMUL_Q4_K, ds2_matmul_q4_k, 5, PonderVkDs2MatmulPush, 3),
  KERNEL (PONDER_VK_KERNEL_DS2_MATMUL_Q6_K, ds2_matmul_q6_k, 5, PonderVkDs2MatmulPush, 3),
  KERNEL (PONDER_VK_KERNEL_DS2_ROUTE, ds2_route, 4, PonderVkDs2RoutePush, 1),
  KERNEL (PONDER_VK_KERNEL_DS2_MLA, ds2_mla, 6, PonderVkDs2MlaPush, 1),
  KERNEL (PONDER_VK_KERNEL_DS2_MATMUL_Q4_0, ds2_matmul_q4_0, 5, PonderVkDs2MatmulPush, 3),
  KERNEL (PONDER_VK_KERNEL_DS2_MATMUL_Q5_0, ds2_matmul_q5_0, 5, PonderVkDs2MatmulPush, 3),
  KERNEL (PONDER_VK_KERNEL_MATMUL_IQ1_S, matmul_iq1_s, 4, PonderVkMatmulPush, 2),
  KERNEL (PONDER_VK_KERNEL_MATMUL_IQ1_M, matmul_iq1_m, 4, PonderVkMatmulPush, 2),
  KERNEL (PONDER_VK_KERNEL_MATMUL_IQ2_XXS, matmul_iq2_xxs, 4, PonderVkMatmulPush, 2),
  KERNEL (PONDER_VK_KERNEL_MATMUL_IQ2_XS, matmul_iq2_xs, 4, PonderVkMatmulPush, 2),
  KERNEL (PONDER_VK_KERNEL_MATMUL_IQ2_S, matmul_iq2_s, 4, PonderVkMatmulPush, 2),
  KERNEL (PONDER_VK_KERNEL_MATMUL_IQ3_XXS, matmul_iq3_xxs, 4, PonderVkMatmulPush, 2),
  KERNEL (PONDER_VK_KERNEL_MATMUL_IQ3_S, matmul_iq3_s, 4, PonderVkMatmulPush, 2),
  KERNEL (PONDER_VK_KERNEL_MATMUL_IQ4_NL, matmul_iq4_nl, 4, PonderVkMatmulPush, 2),
  KERNEL (PONDER_VK_KERNEL_MATMUL_IQ4_XS, matmul_iq4_xs, 4, PonderVkMatmulPush, 2),
  KERNEL (PONDER_VK_KERNEL_DS2_MATMUL_IQ1_S, ds2_matmul_iq1_s, 6, PonderVkDs2MatmulPush, 3),
  KERNEL (PONDER_VK_KERNEL_DS2_MATMUL_IQ1_M, ds2_matmul_iq1_m, 6, PonderVkDs2MatmulPush, 3),
  KERNEL (PONDER_VK_KERNEL_DS2_MATMUL_IQ2_XXS, ds2_matmul_iq2_xxs, 6, PonderVkDs2MatmulPush, 3),
  KERNEL (PONDER_VK_KERNEL_DS2_MATMUL_IQ2_XS, ds2_matmul_iq2_xs, 6, PonderVkDs2MatmulPush, 3),
  KERNEL (PONDER_VK_KERNEL_DS2_MATMUL_IQ2_S, ds2_matmul_iq2_s, 6, PonderVkDs2MatmulPush, 3),
  KERNEL (PONDER_VK_KERNEL_DS2_MATMUL_IQ3_XXS, ds2_matmul_iq3_xxs, 6, PonderVkDs2MatmulPush, 3),
  KERNEL (PONDER_VK_KERNEL_DS2_MATMUL_IQ3_S, ds2_matmul_iq3_s, 6, PonderVkDs2MatmulPush, 3),
  KERNEL (PONDER_VK_KERNEL_DS2_MATMUL_IQ4_NL, ds2_matmul_iq4_nl, 6, PonderVkDs2MatmulPush, 3),
  KERNEL (PONDER_VK_KERNEL_DS2_MATMUL_IQ4_XS, ds2_matmul_iq4_xs, 6, PonderVkDs2MatmulPush, 3),
  KERNEL (PONDER_VK_KERNEL_MATMUL_Q2_K, matmul_q2_k, 3, PonderVkMatmulPush, 2),
  KERNEL (PONDER_VK_KERNEL_MATMUL_Q3_K, matmul_q3_k, 3, PonderVkMatmulPush, 2),
  KERNEL (PONDER_VK_KERNEL_EMBED_Q2_K, embed_q2_k, 3, PonderVkMatmulPush, 1),
  KERNEL (PONDER_VK_KERNEL_EMBED_Q3_K, embed_q3_k, 3, PonderVkMatmulPush, 1),
  KERNEL (PONDER_VK_KERNEL_DS2_MATMUL_Q4_1, ds2_matmul_q4_1, 5, PonderVkDs2MatmulPush, 3),
  KERNEL (PONDER_VK_KERNEL_DS2_MATMUL_Q5_1, ds2_matmul_q5_1, 5, PonderVkDs2MatmulPush, 3),
  KERNEL (PONDER_VK_KERNEL_DS2_MATMUL_Q2_K, ds2_matmul_q2_k, 5, PonderVkDs2MatmulPush, 3),
  KERNEL (PONDER_VK_KERNEL_DS2_MATMUL_Q3_K, ds2_matmul_q3_k, 5, PonderVkDs2MatmulPush, 3),
  KERNEL (PONDER_VK_KERNEL_DS2_MATMUL_Q5_K, ds2_matmul_q5_k, 5, PonderVkDs2MatmulPush, 3),
  KERNEL_TX (F32, f32),
  KERNEL_TX (F16, f16),
  KERNEL_TX (BF16, bf16),
  KERNEL_TX (Q8_0, q8_0),
  KERNEL_TX (Q4_0, q4_0),
  KERNEL_TX (Q5_0, q5_0),
  KERNEL_TX (Q4_1, q4_1),
  KERNEL_TX (Q5_1, q5_1),
  KERNEL_TX (Q2_K, q2_k),
  KERNEL_TX (Q3_K, q3_k),
  KERNEL_TX (Q4_K, q4_k),
  KERNEL_TX (Q5_K, q5_k),
  KERNEL_TX (Q6_K, q6_k),
  KERNEL_DS2_TX (F32, f32),
  KERNEL_DS2_TX (F16, f16),
  KERNEL_DS2_TX (Q8_0, q8_0),
  KERNEL_DS2_TX (Q4_0, q4_0),
  KERNEL_DS2_TX (Q5_0, q5_0),
  KERNEL_DS2_TX (Q4_1, q4_1),
  KERNEL_DS2_TX (Q5_1, q5_1),
  KERNEL_DS2_TX (Q2_K, q2_k),
  KERNEL_DS2_TX (Q3_K, q3_k),
  KERNEL_DS2_TX (Q4_K, q4_k),
  KERNEL_DS2_TX (Q5_K, q5_k),
  KERNEL_DS2_TX (Q6_K, q6_k),
  KERNEL_GPU (F32, f32, sg, SG),
  KERNEL_GPU (F16, f16, sg, SG),
  KERNEL_GPU (BF16, bf16, sg, SG),
  KERNEL_GPU (Q8_0, q8_0, sg, SG),
  KERNEL_GPU (Q4_0, q4_0, sg, SG),
  KERNEL_GPU (Q5_0, q5_0, sg, SG),
  KERNEL_GPU (Q4_1, q4_1, sg, SG),
  KERNEL_GPU (Q5_1, q5_1, sg, SG),
  KERNEL_GPU (Q2_K, q2_k, sg, SG),
  KERNEL_GPU (Q3_K, q3_k, sg, SG),
  KERNEL_GPU (Q4_K, q4_k, sg, SG),
  KERNEL_GPU (Q5_K, q5_k, sg, SG),
  KERNEL_GPU (Q6_K, q6_k, sg, SG),
  KERNEL_GPU (Q8_0, q8_0, q8, Q8),
  KERNEL_GPU (Q4_0, q4_0, q8, Q8),
  KERNEL_GPU (Q5_0, q5_0, q8, Q8),
  KERNEL_GPU (Q4_K, q4_k, q8, Q8),
  KERNEL_GPU (Q5_K, q5_k, q8, Q8),
  KERNEL_GPU (Q6_K, q6_k, q8, Q8),
  KERNEL (PONDER_VK_KERNEL_QUANTIZE_Q8, quantize_q8, 2, PonderVkElementwisePush, 1),
  KERNEL (PONDER_VK_KERNEL_MATMUL_F16_H, matmul_f16_h, 3, PonderVkMatmulPush, 2),
  KERNEL_DS2_SG (F32, f32, 5),
  KERNEL_DS2_SG (F16, f16, 5),
  KERNEL_DS2_SG (Q8_0, q8_0, 5),
  KERNEL_DS2_SG (Q4_0, q4_0, 5),
  KERNEL_DS2_SG (Q5_0, q5_0, 5),
  KERNEL_DS2_SG (Q4_1, q4_1, 5),
  KERNEL_DS2_SG (Q5_1, q5_1, 5),
  KERNEL_DS2_SG (Q2_K, q2_k, 5),
  KERNEL_DS2_SG (Q3_K, q3_k, 5),
  KERNEL_DS2_SG (Q4_K, q4_k, 5),
  KERNEL_DS2_SG (Q5_K, q5_k, 5),
  KERNEL_DS2_SG (Q6_K, q6_k, 5),
  KERNEL_DS2_SG (IQ1_S, iq1_s, 6),
  KERNEL_DS2_SG (IQ1_M, iq1_m, 6),
  KERNEL_DS2_SG (IQ2_XXS, iq2_xxs, 6),
  KERNEL_DS2_SG (IQ2_XS, iq2_xs, 6),
  KERNEL_DS2_SG (IQ2_S, iq2_s, 6),
  KERNEL_DS2_SG (IQ3_XXS, iq3_xxs, 6),
  KERNEL_DS2_SG (IQ3_S, iq3_s, 6),
  KERNEL_DS2_SG (IQ4_NL, iq4_nl, 6),
  KERNEL_DS2_SG (IQ4_XS, iq4_xs, 6),
  KERNEL (PONDER_VK_KERNEL_MATMUL_IQ1_S_SG, matmul_iq1_s_sg, 4, PonderVkMatmulPush, 2),
  KERNEL (PONDER_VK_KERNEL_MATMUL_IQ1_M_SG, matmul_iq1_m_sg, 4, PonderVkMatmulPush, 2),
  KERNEL (PONDER_VK_KERNEL_MATMUL_IQ2_XXS_SG, matmul_iq2_xxs_sg, 4, PonderVkMatmulPush, 2),
  KERNEL (PONDER_VK_KERNEL_MATMUL_IQ2_XS_SG, matmul_iq2_xs_sg, 4, PonderVkMatmulPush, 2),
  KERNEL (PONDER_VK_KERNEL_MATMUL_IQ2_S_SG, matmul_iq2_s_sg, 4, PonderVkMatmulPush, 2),
  KERNEL (PONDER_VK_KERNEL_MATMUL_IQ3_XXS_SG, matmul_iq3_xxs_sg, 4, PonderVkMatmulPush, 2),
  KERNEL (PONDER_VK_KERNEL_MATMUL_IQ3_S_SG, matmul_iq3_s_sg, 4, PonderVkMatmulPush, 2),
  KERNEL (PONDER_VK_KERNEL_MATMUL_IQ4_NL_SG, matmul_iq4_nl_sg, 4, PonderVkMatmulPush, 2),
  KERNEL (PONDER_VK_KERNEL_MATMUL_IQ4_XS_SG, matmul_iq4_xs_sg, 4, PonderVkMatmulPush, 2),
  KERNEL (PONDER_VK_KERNEL_TOPK_PARTIAL, topk_partial, 4, PonderVkTopkPush, 1),
  KERNEL (PONDER_VK_KERNEL_TOPK_MERGE, topk_merge, 3, PonderVkTopkPush, 1),
  KERNEL (PONDER_VK_KERNEL_ATTENTION_F16, attention_f16, 5, PonderVkAttentionPush, 1),
  KERNEL (PONDER_VK_KERNEL_ATTENTION_SPLIT_F16, attention_split_f16, 5,
          PonderVkAttentionSplitPush, 1),
  KERNEL (PONDER_VK_KERNEL_KV_STORE_F16, kv_store_f16, 5, PonderVkKvStorePush, 1),
  KERNEL (PONDER_VK_KERNEL_DS2_MLA_F16, ds2_mla_f16, 6, PonderVkDs2MlaPush, 1),
};

/* Workgroup sizes (specialization constant 0). 64 fits every device's
 * minimum limits (128 invocations) and a lavapipe thread's SIMD width. */
static const uint32_t WG_ROWS = 64;
static const uint32_t WG_ELEMENTWISE = 256;

const PonderVkKernelInfo *
ponder_vk_kernel_info (PonderVkKernel kernel)
{
  return &kernels[kernel];
}

PonderStatus
ponder_vk_op_rmsnorm (PonderVkDevice       *device,
                      const PonderVkBuffer *x,
                      const PonderVkBuffer *w,
                      const PonderVkBuffer *out,
                      uint32_t              n_rows,
                      uint32_t              n,
                      float                 eps,
                      PonderError          *error)
{
  PonderVkRmsnormPush push = { n, n_rows, eps };
  const PonderVkBuffer *buffers[3] = { x, w, out };
  uint32_t groups[3];
  PonderStatus status = ponder_vk_grid (device, n_rows, groups, error);

  if (status != PONDER_OK)
    return status;
  return ponder_vk_dispatch (device, PONDER_VK_KERNEL_RMSNORM, &WG_ROWS, 1, groups, buffers, 3,
                             &push, sizeof push, error);
}

/* Which kernels each weight type has: adding a type is one row. Types
 * not listed have none (NONE: this type has no such kernel). Columns:
 * matmul, embed, expert, then the variants matmul_texel, matmul_subgroup,
 * matmul_int8, expert_texel, expert_subgroup. */
#define NONE PONDER_VK_KERNEL_NONE
#define K(name) PONDER_VK_KERNEL_##name
#define ROW(type, ...) [PONDER_TYPE_##type] = { true, { __VA_ARGS__ } }
/* Every kernel, the integer-dot one included (the Q4_K_M mix's types). */
#define ROW_ALL(T) \
  ROW (T, K (MATMUL_##T), K (EMBED_##T), K (DS2_MATMUL_##T), K (MATMUL_##T##_TX), \
       K (MATMUL_##T##_SG), K (MATMUL_##T##_Q8), K (DS2_MATMUL_##T##_TX), K (DS2_MATMUL_##T##_SG))
/* Every kernel but the integer-dot one. */
#define ROW_FLOAT(T) \
  ROW (T, K (MATMUL_##T), K (EMBED_##T), K (DS2_MATMUL_##T), K (MATMUL_##T##_TX), \
       K (MATMUL_##T##_SG), NONE, K (DS2_MATMUL_##T##_TX), K (DS2_MATMUL_##T##_SG))
/* The IQ types: products through their codebooks, no embedding or texel path. */
#define ROW_IQ(T) \
  ROW (T, K (MATMUL_##T), NONE, K (DS2_MATMUL_##T), NONE, K (MATMUL_##T##_SG), NONE, NONE, \
       K (DS2_MATMUL_##T##_SG))

static const struct
{
  bool                listed;
  PonderVkTypeKernels k;
} type_table[] = {
  ROW_FLOAT (F32),
  ROW_FLOAT (F16),
  ROW (BF16, K (MATMUL_BF16), K (EMBED_BF16), NONE, K (MATMUL_BF16_TX), K (MATMUL_BF16_SG), NONE,
       NONE, NONE),
  ROW_ALL (Q8_0),
  ROW_ALL (Q4_0),
  ROW_ALL (Q5_0),
  ROW_FLOAT (Q4_1),
  ROW_FLOAT (Q5_1),
  ROW_FLOAT (Q2_K),
  ROW_FLOAT (Q3_K),
  ROW_ALL (Q4_K),
  ROW_ALL (Q5_K),
  ROW_ALL (Q6_K),
  ROW_IQ (IQ1_S),
  ROW_IQ (IQ1_M),
  ROW_IQ (IQ2_XXS),
  ROW_IQ (IQ2_XS),
  ROW_IQ (IQ2_S),
  ROW_IQ (IQ3_XXS),
  ROW_IQ (IQ3_S),
  ROW_IQ (IQ4_NL),
  ROW_IQ (IQ4_XS),
};

#undef ROW_IQ
#undef ROW_FLOAT
#undef ROW_ALL
#undef K
#undef ROW

/* Kinds of kernel (PONDER_VK_HIDE_*) tests have hidden, by type. */
static unsigned hidden[sizeof type_table / sizeof *type_table];

PonderVkTypeKernels
ponder_vk_type_kernels (uint32_t type)
{
  PonderVkTypeKernels k = { NONE, NONE, NONE, NONE, NONE, NONE, NONE, NONE };

  if (type >= sizeof type_table / sizeof *type_table || !type_table[type].listed)
    return k;
  k = type_table[type].k;
  if (hidden[type] & PONDER_VK_HIDE_MATMUL)
    k.matmul = k.matmul_texel = k.matmul_subgroup = k.matmul_int8 = NONE;
  if (hidden[type] & PONDER_VK_HIDE_EMBED)
    k.embed = NONE;
  if (hidden[type] & PONDER_VK_HIDE_EXPERT)
    k.expert = k.expert_texel = k.expert_subgroup = NONE;
  return k;
}

void
ponder_vk_test_hide_kernels (uint32_t type,
                             unsigned kinds)
{
  if (type < sizeof type_table / sizeof *type_table)
    hidden[type] = kinds;
}

#undef NONE

bool
ponder_vk_embed_supported (uint32_t type)
{
  return ponder_vk_type_kernels (type).embed != PONDER_VK_KERNEL_NONE;
}

PonderStatus
ponder_vk_op_embed (PonderVkDevice       *device,
                    uint32_t              type,
                    const PonderVkBuffer *table,
                    size_t                row_bytes,
                    uint32_t              n_in,
                    uint32_t              n_rows,
                    const PonderVkBuffer *ids,
                    uint32_t              n_tokens,
                    const PonderVkBuffer *out,
                    PonderError          *error)
{
  PonderVkMatmulPush push = { n_in, n_rows, n_tokens, (uint32_t) row_bytes };
  const PonderVkBuffer *buffers[3] = { table, ids, out };
  uint64_t n_items = (uint64_t) n_tokens * ((n_in + 31u) / 32u) * 8u, expect_row;
  PonderVkKernel kernel = ponder_vk_type_kernels (type).embed;
  uint32_t groups[3];
  PonderStatus status;
  char name[32];

  if (kernel == PONDER_VK_KERNEL_NONE)
    return ponder_error_set (error, PONDER_ERROR_UNSUPPORTED,
                             "no Vulkan embedding lookup for type %s",
                             ponder_type_name (type, name, sizeof name));
  if (n_rows == 0 || !ponder_type_row_bytes (type, n_in, &expect_row) || expect_row != row_bytes
      || (uint64_t) row_bytes * n_rows > table->size || (uint64_t) n_tokens * 4 > ids->size
      || (uint64_t) n_tokens * n_in * 4 > out->size || row_bytes > UINT32_MAX / 2)
    return ponder_error_set (error, PONDER_ERROR_INVALID_ARGUMENT,
                             "embed %s (%u rows of %u, %u tokens): bad sizes",
                             ponder_type_name (type, name, sizeof name), n_rows, n_in, n_tokens);
  status = ponder_vk_grid (device, (n_items + WG_ELEMENTWISE - 1) / WG_ELEMENTWISE, groups,
                           error);
  if (status != PONDER_OK)
    return status;
  return ponder_vk_dispatch (device, kernel, &WG_ELEMENTWISE, 1, groups, buffers, 3, &push,
                             sizeof push, error);
}

bool
ponder_vk_matmul_supported (uint32_t type)
{
  return ponder_vk_type_kernels (type).matmul != PONDER_VK_KERNEL_NONE;
}

bool
ponder_vk_expert_supported (uint32_t type)
{
  return ponder_vk_type_kernels (type).expert != PONDER_VK_KERNEL_NONE;
}

void
ponder_vk_rope_table (const PonderVkRopeParams *rope,
                      uint32_t                  pos0,
                      uint32_t                  n_tokens,
                      float                    *table)
{
  uint32_t half = rope->n_rot / 2;

  for (uint32_t t = 0; t < n_tokens; t++)
    for (uint32_t i = 0; i < half; i++)
      {
        double theta = (double) (pos0 + t) * rope->freq[i];

        table[((size_t) t * half + i) * 2] = (float) (cos (theta) * rope->mscale);
        table[((size_t) t * half + i) * 2 + 1] = (float) (sin (theta) * rope->mscale);
      }
}

PonderStatus
ponder_vk_op_rope (PonderVkDevice       *device,
                   const PonderVkBuffer *x,
                   const PonderVkBuffer *table,
                   uint32_t              n_tokens,
                   uint32_t              n_heads,
                   uint32_t              head_dim,
                   uint32_t              n_rot,
                   bool                  neox,
                   PonderError          *error)
{
  PonderVkRopePush push = { n_tokens, n_heads, head_dim, n_rot, neox ? 1 : 0 };
  const PonderVkBuffer *buffers[2] = { x, table };
  uint64_t n_items = (uint64_t) n_tokens * n_heads * (n_rot / 2);
  uint64_t n_rows = (uint64_t) n_tokens * n_heads;
  uint32_t groups[3];
  PonderStatus status;

  if (n_rot == 0 || n_rot % 2 != 0 || n_rot > head_dim)
    return ponder_error_set (error, PONDER_ERROR_INVALID_ARGUMENT,
                             "rope: n_rot %u must be even and at most head_dim %u", n_rot,
                             head_dim);
  /* The last head needs only its rotated part: deepseek2 rotates the rope
   * tail of each latent row through a view that ends right after it. */
  if ((uint64_t) n_tokens * n_rot * 4 > table->size
      || (n_rows > 0 && ((n_rows - 1) * head_dim + n_rot) * 4 > x->size))
    return ponder_error_set (error, PONDER_ERROR_INVALID_ARGUMENT,
                             "rope over %u tokens x %u heads: a buffer is too small",
                             n_tokens, n_heads);
  status = ponder_vk_grid (device, (n_items + WG_ELEMENTWISE - 1) / WG_ELEMENTWISE, groups,
                           error);
  if (status != PONDER_OK)
    return status;
  return ponder_vk_dispatch (device, PONDER_VK_KERNEL_ROPE, &WG_ELEMENTWISE, 1, groups, buffers,
                             2, &push, sizeof push, error);
}

static PonderStatus
elementwise (PonderVkDevice       *device,
             PonderVkKernel        kernel,
             const PonderVkBuffer *a,
             const PonderVkBuffer *b,
             uint32_t              n,
             uint32_t              n_groups,
             PonderError          *error)
{
  PonderVkElementwisePush push = { n };
  const PonderVkBuffer *buffers[2] = { a, b };
  uint32_t groups[3];
  PonderStatus status = ponder_vk_grid (device, n_groups, groups, error);

  if (status != PONDER_OK)
    return status;
  return ponder_vk_dispatch (device, kernel, &WG_ELEMENTWISE, 1, groups, buffers, 2, &push,
                             sizeof push, error);
}

PonderStatus
ponder_vk_op_swiglu (PonderVkDevice       *device,
                     const PonderVkBuffer *gate,
                     const PonderVkBuffer *up,
                     uint32_t              n,
                     PonderError          *error)
{
  return elementwise (device, PONDER_VK_KERNEL_SWIGLU, gate, up, n,
                      (n + WG_ELEMENTWISE - 1) / WG_ELEMENTWISE, error);
}

PonderStatus
ponder_vk_op_add (PonderVkDevice       *device,
                  const PonderVkBuffer *x,
                  const PonderVkBuffer *y,
                  uint32_t              n,
                  PonderError          *error)
{
  return elementwise (device, PONDER_VK_KERNEL_ADD, x, y, n,
                      (n + WG_ELEMENTWISE - 1) / WG_ELEMENTWISE, error);
}

PonderStatus
ponder_vk_op_add_bias (PonderVkDevice       *device,
                       const PonderVkBuffer *y,
                       const PonderVkBuffer *bias,
                       uint32_t              n_rows,
                       uint32_t              n,
                       PonderError          *error)
{
  uint64_t n_total = (uint64_t) n_rows * n;
  PonderVkBiasPush push = { (uint32_t) n_total, n };
  const PonderVkBuffer *buffers[2] = { y, bias };
  uint32_t groups[3];
  PonderStatus status;

  if (n == 0 || n_total > UINT32_MAX || n_total * 4 > y->size || (uint64_t) n * 4 > bias->size)
    return ponder_error_set (error, PONDER_ERROR_INVALID_ARGUMENT,
                             "add_bias over %u rows of %u: a buffer is too small", n_rows, n);
  status = ponder_vk_grid (device, (n_total + WG_ELEMENTWISE - 1) / WG_ELEMENTWISE, groups,
                           error);
  if (status != PONDER_OK)
    return status;
  return ponder_vk_dispatch (device, PONDER_VK_KERNEL_ADD_BIAS, &WG_ELEMENTWISE, 1, groups,
                             buffers, 2, &push, sizeof push, error);
}

PonderStatus
ponder_vk_op_attention_decode (PonderVkDevice       *device,
                               const PonderVkBuffer *q,
                               const PonderVkBuffer *k,
                               const PonderVkBuffer *v,
                               const PonderVkBuffer *part,
                               const PonderVkBuffer *out,
                               const PonderVkBuffer *step,
                               uint32_t              pos0,
                               uint32_t              n_head,
                               uint32_t              n_head_kv,
                               uint32_t              hd_k,
                               uint32_t              hd_v,
                               uint32_t              k_row,
                               uint32_t              v_row,
                               uint32_t              chunk,
                               float                 scale,
                               PonderKvType          kv_type,
                               PonderError          *error)
{
  size_t elem = ponder_vk_kv_elem_bytes (kv_type);
  uint64_t n_keys = (uint64_t) pos0 + 1;
  uint32_t n_chunks = chunk > 0 ? (uint32_t) ((n_keys + chunk - 1) / chunk) : 0;
  PonderVkAttentionSplitPush split = { n_head, n_head_kv, hd_k, hd_v,
                                       step != NULL ? 0 : (uint32_t) n_keys, k_row, v_row, chunk,
                                       scale, step != NULL };
  PonderVkAttentionMergePush merge = { n_head, hd_v, n_chunks };
  /* without a step buffer the binding repeats q; the shader does not read it */
  const PonderVkBuffer *split_buffers[5] = { q, k, v, part, step != NULL ? step : q };
  const PonderVkBuffer *merge_buffers[2] = { part, out };
  uint32_t groups[3];
  PonderStatus status;

  if (chunk == 0 || n_head_kv == 0 || n_head % n_head_kv != 0
      || !ponder_vk_kv_fits (kv_type, k_row, v_row)
      || hd_k > PONDER_VK_ATTENTION_MAX_HEAD_DIM || hd_v > PONDER_VK_ATTENTION_MAX_HEAD_DIM
      || (uint64_t) n_head_kv * hd_k > k_row || (uint64_t) n_head_kv * hd_v > v_row)
    return ponder_error_set (error, PONDER_ERROR_UNSUPPORTED,
                             "split attention: %u query heads over %u KV heads of %u/%u dims "
                             "in chunks of %u is not supported", n_head, n_head_kv, hd_k, hd_v,
                             chunk);
  if (n_keys * k_row * elem > k->size || n_keys * v_row * elem > v->size
      || (uint64_t) n_head * hd_k * 4 > q->size || (uint64_t) n_head * hd_v * 4 > out->size
      || (uint64_t) n_chunks * n_head * (hd_v + 2u) * 4 > part->size)
    return ponder_error_set (error, PONDER_ERROR_INVALID_ARGUMENT,
                             "split attention at position %u: a buffer is too small", pos0);
  status = ponder_vk_grid (device, (uint64_t) n_chunks * n_head, groups, error);
  if (status == PONDER_OK)
    status = ponder_vk_dispatch (device, kv_type == PONDER_KV_F16
                                         ? PONDER_VK_KERNEL_ATTENTION_SPLIT_F16
                                         : PONDER_VK_KERNEL_ATTENTION_SPLIT,
                                 &WG_ROWS, 1, groups, split_buffers, 5, &split, sizeof split,
                                 error);
  if (status == PONDER_OK)
    status = ponder_vk_grid (device, ((uint64_t) n_head * hd_v + WG_ELEMENTWISE - 1)
                                     / WG_ELEMENTWISE, groups, error);
  if (status != PONDER_OK)
    return status;
  return ponder_vk_dispatch (device, PONDER_VK_KERNEL_ATTENTION_MERGE, &WG_ELEMENTWISE, 1,
                             groups, merge_buffers, 2, &merge, sizeof merge, error);
}

PonderStatus
ponder_vk_op_argmax (PonderVkDevice       *device,
                     const PonderVkBuffer *x,
                     uint32_t              n,
                     const PonderVkBuffer *mask,
                     uint32_t              n_mask_words,
                     const PonderVkBuffer *out,
                     PonderError          *error)
{
  PonderVkArgmaxPush push = { n, mask != NULL ? n_mask_words : 0 };
  /* Without a mask the binding still needs a buffer; the shader never reads it. */
  const PonderVkBuffer *buffers[3] = { x, out, mask != NULL ? mask : out };
  uint32_t groups[3] = { 1, 1, 1 };

  if ((uint64_t) n * 4 > x->size || out->size < 4
      || (mask != NULL && (uint64_t) n_mask_words * 4 > mask->size))
    return ponder_error_set (error, PONDER_ERROR_INVALID_ARGUMENT,
                             "argmax over %u values: a buffer is too small", n);
  return ponder_vk_dispatch (device, PONDER_VK_KERNEL_ARGMAX, &WG_ELEMENTWISE, 1, groups,
                             buffers, 3, &push, sizeof push, error);
}

PonderStatus
ponder_vk_op_attention (PonderVkDevice       *device,
                        const PonderVkBuffer *q,
                        const PonderVkBuffer *k,
                        const PonderVkBuffer *v,
                        const PonderVkBuffer *out,
                        const PonderVkBuffer *step,
                        uint32_t              n_tokens,
                        uint32_t              pos0,
                        uint32_t              n_head,
                        uint32_t              n_head_kv,
                        uint32_t              hd_k,
                        uint32_t              hd_v,
                        uint32_t              k_row,
                        uint32_t              v_row,
                        float                 scale,
                        PonderKvType          kv_type,
                        PonderError          *error)
{
  size_t elem = ponder_vk_kv_elem_bytes (kv_type);
  PonderVkAttentionPush push = { n_tokens, n_head, n_head_kv, hd_k, hd_v,
                                 step != NULL ? 0 : pos0, k_row, v_row, scale, step != NULL };
  const PonderVkBuffer *buffers[5] = { q, k, v, out, step != NULL ? step : q };
  uint64_t n_ctx = (uint64_t) pos0 + n_tokens;
  uint32_t groups[3];
  PonderStatus status;

  if (n_head_kv == 0 || n_head % n_head_kv != 0 || hd_k > PONDER_VK_ATTENTION_MAX_HEAD_DIM
      || hd_v > PONDER_VK_ATTENTION_MAX_HEAD_DIM || (uint64_t) n_head_kv * hd_k > k_row
      || (uint64_t) n_head_kv * hd_v > v_row || !ponder_vk_kv_fits (kv_type, k_row, v_row))
    return ponder_error_set (error, PONDER_ERROR_UNSUPPORTED,
                             "attention: %u query heads over %u KV heads of %u/%u dims "
                             "(rows %u/%u) is not supported (at most %d dims)",
                             n_head, n_head_kv, hd_k, hd_v, k_row, v_row,
                             PONDER_VK_ATTENTION_MAX_HEAD_DIM);
  if (n_ctx * k_row * elem > k->size || n_ctx * v_row * elem > v->size
      || (uint64_t) n_tokens * n_head * hd_k * 4 > q->size
      || (uint64_t) n_tokens * n_head * hd_v * 4 > out->size)
    return ponder_error_set (error, PONDER_ERROR_INVALID_ARGUMENT,
                             "attention at positions %u..%llu: a buffer is too small", pos0,
                             (unsigned long long) n_ctx);
  status = ponder_vk_grid (device, (uint64_t) n_tokens * n_head, groups, error);
  if (status != PONDER_OK)
    return status;
  return ponder_vk_dispatch (device, kv_type == PONDER_KV_F16 ? PONDER_VK_KERNEL_ATTENTION_F16
                                                             : PONDER_VK_KERNEL_ATTENTION,
                             &WG_ROWS, 1, groups, buffers, 5, &push, sizeof push, error);
}

PonderStatus
ponder_vk_op_kv_store (PonderVkDevice       *device,
                       const PonderVkBuffer *k,
                       const PonderVkBuffer *v,
                       const PonderVkBuffer *k_cache,
                       const PonderVkBuffer *v_cache,
                       const PonderVkBuffer *step,
                       uint32_t              n_tokens,
                       uint32_t              pos0,
                       uint32_t              k_row,
                       uint32_t              v_row,
                       PonderKvType          kv_type,
                       PonderError          *error)
{
  size_t elem = ponder_vk_kv_elem_bytes (kv_type);
  /* F16: an invocation packs two elements into a word */
  uint32_t per_invocation = kv_type == PONDER_KV_F16 ? 2 : 1;
  PonderVkKvStorePush push = { n_tokens, k_row, v_row, step != NULL ? 0 : pos0, step != NULL };
  /* v_row 0: the value bindings repeat the keys' and are not written */
  const PonderVkBuffer *buffers[5] = { k, v_row > 0 ? v : k, k_cache,
                                       v_row > 0 ? v_cache : k_cache, step != NULL ? step : k };
  uint64_t n_end = (uint64_t) pos0 + n_tokens;
  uint64_t widest = k_row > v_row ? k_row : v_row;
  uint32_t groups[3];
  PonderStatus status;

  if (n_tokens == 0 || k_row == 0 || (uint64_t) n_tokens * widest > UINT32_MAX
      || n_end * k_row > UINT32_MAX || n_end * v_row > UINT32_MAX
      || !ponder_vk_kv_fits (kv_type, k_row, v_row))
    return ponder_error_set (error, PONDER_ERROR_INVALID_ARGUMENT,
                             "KV store of %u tokens at %u (rows %u/%u) is not supported",
                             n_tokens, pos0, k_row, v_row);
  if ((uint64_t) n_tokens * k_row * 4 > k->size || n_end * k_row * elem > k_cache->size
      || (v_row > 0 && ((uint64_t) n_tokens * v_row * 4 > v->size
                        || n_end * v_row * elem > v_cache->size)))
    return ponder_error_set (error, PONDER_ERROR_INVALID_ARGUMENT,
                             "KV store at positions %u..%llu: a buffer is too small", pos0,
                             (unsigned long long) n_end);
  status = ponder_vk_grid (device, ((uint64_t) n_tokens * widest / per_invocation
                                    + WG_ELEMENTWISE - 1) / WG_ELEMENTWISE, groups, error);
  if (status != PONDER_OK)
    return status;
  return ponder_vk_dispatch (device, kv_type == PONDER_KV_F16 ? PONDER_VK_KERNEL_KV_STORE_F16
                                                             : PONDER_VK_KERNEL_KV_STORE,
                             &WG_ELEMENTWISE, 1, groups, buffers, 5, &push, sizeof push, error);
}

size_t
ponder_vk_kv_elem_bytes (PonderKvType kv_type)
{
  return kv_type == PONDER_KV_F16 ? 2 : 4;
}
