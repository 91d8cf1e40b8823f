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
  PONDER_ARCH_DEEPSEEK2, /* recognised, not implemented yet */
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
  uint32_t          q_lora_rank;
  uint32_t          kv_lora_rank;
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
} PonderModelWeights;

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
 * token_embd, which is only gathered). */
uint64_t     ponder_model_bytes_per_token (const PonderGgufFile     *file,
                                           const PonderModelWeights *weights);
