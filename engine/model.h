/* model.h: hyperparameters and tensor views of a loaded architecture.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * engine-spec.md section 3. The weights are views into the GGUF mapping;
 * nothing is copied. Shapes are written as [in, out] like the spec (ne[0]
 * first), i.e. a matrix of `out` rows of `in` elements.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gguf.h"
#include "ponder-engine.h"
#include "quant.h"

typedef enum
{
  PONDER_ARCH_QWEN2,
  PONDER_ARCH_LLAMA,
  PONDER_ARCH_QWEN3,
  PONDER_ARCH_DEEPSEEK2, /* MLA + MoE: model-deepseek2.c, forward-deepseek2.c */
} PonderArch;

typedef enum
{
  PONDER_ROPE_NORM, /* adjacent pairs (2i, 2i+1) */
  PONDER_ROPE_NEOX, /* halves (i, i + n_rot/2) */
} PonderRopePairing;

typedef struct
{
  PonderArch        arch;
  const char       *arch_name;
  uint32_t          n_ctx_train;
  uint32_t          n_embd;
  uint32_t          n_layers;
  uint32_t          n_ff;
  uint32_t          n_head;
  uint32_t          n_head_kv;
  uint32_t          head_dim_k;   /* key_length */
  uint32_t          head_dim_v;   /* value_length */
  uint32_t          n_vocab;
  float             norm_eps;
  /* RoPE */
  PonderRopePairing rope_pairing;
  uint32_t          n_rot;
  float             rope_base;
  bool              rope_yarn;       /* scaling type yarn */
  float             rope_factor;     /* s; 1 = none */
  uint32_t          rope_ctx_orig;   /* L */
  float             rope_attn_factor; /* stored in the file; llama.cpp ignores it for our archs */
  float             yarn_beta_fast;
  float             yarn_beta_slow;
  float             yarn_ext_factor; /* 1 for yarn, 0 otherwise */
  float             rope_mscale;     /* M, multiplies cos and sin (one parameter, spec 3.5) */
  float             attn_scale;      /* softmax scale, 1/sqrt(head_dim_k) */
  /* MoE / MLA (deepseek2, later) */
  uint32_t          n_expert;
  uint32_t          n_expert_used;
  uint32_t          n_expert_shared;
  uint32_t          n_ff_expert;
  uint32_t          n_leading_dense;
  uint32_t          q_lora_rank;     /* 0: V2-Lite style attn_q */
  uint32_t          kv_lora_rank;
  /* deepseek2 (spec 3.6, 4). head_dim_k/v above are the naive per-head
   * sizes qk_nope + qk_rope and v_head; n_head_kv is 1 (the latent cache). */
  uint32_t          qk_nope;
  uint32_t          qk_rope;         /* = n_rot */
  uint32_t          n_expert_groups; /* 0 or 1: no group-limited routing */
  uint32_t          n_group_used;
  float             expert_weights_scale; /* 1 when absent or 0 */
  bool              expert_weights_norm;
  uint32_t          expert_gating;   /* 1 softmax, 2 sigmoid, 4 sqrt (softplus) */
  float             yarn_log_mul;    /* yarn_log_multiplier as stored (0.1 m) */
  bool              mla_layout;      /* attn_k_b / attn_v_b in the file */
} PonderHparams;

/* A weight matrix: n_out rows of n_in elements. */
typedef struct
{
  const PonderGgufTensor   *tensor;
  const uint8_t            *data;
  uint32_t                  type;
  uint64_t                  n_in;
  uint64_t                  n_out;
  size_t                    row_bytes;
  const PonderMatmulKernel *kernel;
} PonderWeight;

typedef struct
{
  const float  *attn_norm;   /* (n_embd) */
  PonderWeight  wq;          /* (n_embd -> n_head * head_dim_k) */
  PonderWeight  wk;          /* (n_embd -> n_head_kv * head_dim_k) */
  PonderWeight  wv;          /* (n_embd -> n_head_kv * head_dim_v) */
  const float  *bq;          /* (n_head * head_dim_k) qwen2, else NULL */
  const float  *bk;          /* (n_head_kv * head_dim_k) qwen2, else NULL */
  const float  *bv;          /* (n_head_kv * head_dim_v) qwen2, else NULL */
  const float  *q_norm;      /* (head_dim_k) qwen3, else NULL */
  const float  *k_norm;      /* (head_dim_k) qwen3, else NULL */
  PonderWeight  wo;          /* (n_head * head_dim_v -> n_embd) */
  const float  *ffn_norm;    /* (n_embd) */
  PonderWeight  w_gate;      /* (n_embd -> n_ff) */
  PonderWeight  w_up;        /* (n_embd -> n_ff) */
  PonderWeight  w_down;      /* (n_ff -> n_embd) */
  /* deepseek2 attention (spec 3.6). A 3-D weight is n_slices consecutive
   * matrices of n_out rows; slice e starts at data + e * n_out * row_bytes. */
  PonderWeight  wq_a;        /* (n_embd -> q_lora), or wq (n_embd -> n_head * dk) */
  const float  *q_a_norm;    /* (q_lora) */
  PonderWeight  wq_b;        /* (q_lora -> n_head * dk) */
  PonderWeight  wkv_a;       /* (n_embd -> kv_lora + qk_rope) */
  const float  *kv_a_norm;   /* (kv_lora) */
  PonderWeight  wk_b;        /* n_head slices (qk_nope -> kv_lora): W_UK_h^T */
  PonderWeight  wv_b;        /* n_head slices (kv_lora -> v_head): W_UV_h */
  /* deepseek2 MoE; router.tensor == NULL in dense layers */
  PonderWeight  router;      /* (n_embd -> n_expert) ffn_gate_inp */
  const float  *exp_probs_b; /* (n_expert) selection bias, or NULL */
  PonderWeight  gate_exps;   /* n_expert slices (n_embd -> n_ff_expert) */
  PonderWeight  up_exps;     /* n_expert slices (n_embd -> n_ff_expert) */
  PonderWeight  down_exps;   /* n_expert slices (n_ff_expert -> n_embd) */
  PonderWeight  gate_shexp;  /* (n_embd -> n_ff_expert * n_expert_shared) */
  PonderWeight  up_shexp;
  PonderWeight  down_shexp;  /* (n_ff_expert * n_expert_shared -> n_embd) */
} PonderLayer;

typedef struct
{
  PonderHparams  hp;
  PonderWeight   token_embd;  /* (n_embd -> n_vocab), rows gathered */
  PonderLayer   *layers;      /* (n_layers) */
  const float   *output_norm; /* (n_embd) */
  PonderWeight   output;      /* (n_embd -> n_vocab); token_embd when tied */
  bool           tied_output;
  const float   *rope_freqs;  /* (n_rot / 2) llama, else NULL */
  void         **owned;       /* (n_owned) buffers made at load (converted kv_b) */
  size_t         n_owned;
} PonderModelWeights;

/* Reads the architecture's hyperparameters from the metadata alone (no
 * tensors are looked at; n_vocab stays 0). */
PonderStatus ponder_model_read_hparams (const PonderGgufFile *file,
                                        PonderHparams        *out_hp,
                                        PonderError          *error);

/* Reads the hyperparameters and binds every tensor with shape and type
 * checks. The weights point into file, which must outlive them. */
PonderStatus ponder_model_bind (const PonderGgufFile *file,
                                PonderModelWeights   *out_weights,
                                PonderError          *error);
void         ponder_model_weights_clear (PonderModelWeights *weights);

/* Guesses "Q4_K_M"-style names from general.file_type, else from the type
 * holding most bytes. Static string or written into buf. */
const char  *ponder_model_guess_file_type (const PonderGgufFile *file,
                                           char                 *buf,
                                           size_t                buf_size);

/* Weight bytes read per decoded token (all tensors except an untied
 * token_embd, which is only gathered; of a routed expert tensor only the
 * share of the experts used per token). out_routed (may be NULL) receives
 * the routed part of the total. */
uint64_t     ponder_model_bytes_per_token (const PonderGgufFile     *file,
                                           const PonderModelWeights *weights);
uint64_t     ponder_model_bytes_per_token_split (const PonderGgufFile     *file,
                                                 const PonderModelWeights *weights,
                                                 uint64_t                 *out_routed);

/* Floats per position of the KV cache of one layer (deepseek2: the latent
 * c_kv and the RoPE'd k_pe in k, nothing in v). */
void         ponder_model_kv_rows (const PonderHparams *hp,
                                   uint32_t            *k_row,
                                   uint32_t            *v_row);
/* The longest matmul input the CPU backend must prepare. */
size_t       ponder_model_max_n_in (const PonderHparams *hp);

/* ---- Shared with model-deepseek2.c ---------------------------------------- */

PonderStatus ponder_model_read_u32 (const PonderGgufFile *file, const char *arch,
                                    const char *suffix, bool required, uint32_t fallback,
                                    uint32_t *out, PonderError *error);
PonderStatus ponder_model_read_f32 (const PonderGgufFile *file, const char *arch,
                                    const char *suffix, bool required, float fallback,
                                    float *out, PonderError *error);
PonderStatus ponder_model_bind_weight (const PonderGgufFile *file, const char *name,
                                       uint64_t n_in, uint64_t n_out, bool need_kernel,
                                       PonderWeight *w, PonderError *error);
PonderStatus ponder_model_bind_vector (const PonderGgufFile *file, const char *name,
                                       uint64_t n, const float **out, PonderError *error);
/* model-deepseek2.c: the deepseek2 hyperparameters (after the common ones)
 * and its tensors. */
PonderStatus ponder_model_deepseek2_hparams (const PonderGgufFile *file,
                                             PonderHparams        *hp,
                                             PonderError          *error);
PonderStatus ponder_model_deepseek2_bind (const PonderGgufFile *file,
                                          PonderModelWeights   *w,
                                          PonderError          *error);
