/* model-deepseek2.c: hyperparameters and tensors of DeepSeek-V2/V3/R1.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * engine-spec.md sections 3.6 and 4. Two file layouts exist: the current one
 * with per-head attn_k_b / attn_v_b, and the older one with a fused
 * attn_kv_b, which is converted here at load time into the same per-head
 * matrices (F32 when the file has F32, else F16) so that one absorbed MLA
 * forward pass serves both. Routed experts are 3-D tensors bound as
 * n_expert consecutive matrices.
 */
#include "model.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

#define TRY(expr) do { PonderStatus s_ = (expr); if (s_ != PONDER_OK) return s_; } while (0)

static const char *const A = "deepseek2";

static bool
has_key (const PonderGgufFile *file,
         const char           *suffix)
{
  char key[128];

  snprintf (key, sizeof key, "%s.%s", A, suffix);
  return ponder_gguf_find_kv (file, key) != NULL;
}

PonderStatus
ponder_model_deepseek2_hparams (const PonderGgufFile *file,
                                PonderHparams        *hp,
                                PonderError          *error)
{
  uint32_t k_len = hp->head_dim_k, v_len = hp->head_dim_v, dk, dv, nextn = 0;
  bool norm = false;
  char key[128];

  if (!has_key (file, "rope.dimension_count"))
    return ponder_error_set (error, PONDER_ERROR_FORMAT,
                             "missing required metadata key deepseek2.rope.dimension_count");
  TRY (ponder_model_read_u32 (file, A, "attention.kv_lora_rank", true, 0, &hp->kv_lora_rank,
                              error));
  TRY (ponder_model_read_u32 (file, A, "attention.q_lora_rank", false, 0, &hp->q_lora_rank,
                              error));
  hp->qk_rope = hp->n_rot;
  hp->mla_layout = has_key (file, "attention.key_length_mla")
                   && has_key (file, "attention.value_length_mla");
  if (hp->mla_layout)
    {
      TRY (ponder_model_read_u32 (file, A, "attention.key_length_mla", true, 0, &dk, error));
      TRY (ponder_model_read_u32 (file, A, "attention.value_length_mla", true, 0, &dv, error));
      /* spec 3.6: the MLA layout describes the latent cache as one KV head
       * of key kv_lora + rope and value kv_lora. */
      if (k_len != hp->kv_lora_rank + hp->qk_rope || v_len != hp->kv_lora_rank
          || hp->n_head_kv != 1)
        return ponder_error_set (error, PONDER_ERROR_FORMAT,
                                 "deepseek2 MLA layout: expected head_count_kv 1, key_length "
                                 "%u and value_length %u (kv_lora_rank + rope, kv_lora_rank), "
                                 "found %u, %u and %u", hp->kv_lora_rank + hp->qk_rope,
                                 hp->kv_lora_rank, hp->n_head_kv, k_len, v_len);
    }
  else
    {
      dk = k_len;
      dv = v_len;
      if (hp->n_head_kv != hp->n_head)
        return ponder_error_set (error, PONDER_ERROR_FORMAT,
                                 "deepseek2 legacy layout (no key_length_mla): expected "
                                 "head_count_kv = head_count = %u, found %u", hp->n_head,
                                 hp->n_head_kv);
    }
  if (hp->kv_lora_rank == 0 || dk <= hp->qk_rope || dv == 0)
    return ponder_error_set (error, PONDER_ERROR_FORMAT,
                             "deepseek2: bad MLA sizes (kv_lora_rank %u, key length %u, "
                             "rope dims %u, value length %u)", hp->kv_lora_rank, dk,
                             hp->qk_rope, dv);
  hp->qk_nope = dk - hp->qk_rope;
  hp->head_dim_k = dk;
  hp->head_dim_v = dv;
  hp->n_head_kv = 1;

  TRY (ponder_model_read_u32 (file, A, "nextn_predict_layers", false, 0, &nextn, error));
  /* spec 4.7: MTP layers are counted in block_count but not run. */
  if (nextn >= hp->n_layers)
    return ponder_error_set (error, PONDER_ERROR_FORMAT,
                             "deepseek2.nextn_predict_layers = %u >= block_count %u", nextn,
                             hp->n_layers);
  hp->n_layers -= nextn;

  TRY (ponder_model_read_u32 (file, A, "expert_group_count", false, 0, &hp->n_expert_groups,
                              error));
  TRY (ponder_model_read_u32 (file, A, "expert_group_used_count", false, 0, &hp->n_group_used,
                              error));
  TRY (ponder_model_read_f32 (file, A, "expert_weights_scale", false, 1.0f,
                              &hp->expert_weights_scale, error));
  if (hp->expert_weights_scale == 0.0f)
    hp->expert_weights_scale = 1.0f;
  snprintf (key, sizeof key, "%s.expert_weights_norm", A);
  if (ponder_gguf_find_kv (file, key) != NULL && !ponder_gguf_get_bool (file, key, &norm))
    return ponder_error_set (error, PONDER_ERROR_FORMAT, "metadata key %s: expected a bool", key);
  hp->expert_weights_norm = norm;
  TRY (ponder_model_read_u32 (file, A, "expert_gating_func", false, 1, &hp->expert_gating,
                              error));
  if (hp->expert_gating != 1 && hp->expert_gating != 2 && hp->expert_gating != 4)
    return ponder_error_set (error, PONDER_ERROR_UNSUPPORTED,
                             "deepseek2.expert_gating_func = %u: expected 1 (softmax), "
                             "2 (sigmoid) or 4 (sqrt softplus)", hp->expert_gating);
  /* spec 4.3 (a): V3/R1 files made before the group keys existed still
   * define 8 groups of which 4 are kept. */
  if (hp->n_expert_groups == 0 && hp->n_expert == 256 && hp->expert_gating == 2)
    {
      hp->n_expert_groups = 8;
      hp->n_group_used = 4;
    }
  if (hp->n_expert > 0)
    {
      if (hp->n_expert_used == 0 || hp->n_expert_used > hp->n_expert || hp->n_ff_expert == 0)
        return ponder_error_set (error, PONDER_ERROR_FORMAT,
                                 "deepseek2: expert_used_count %u must be in [1, expert_count "
                                 "%u] and expert_feed_forward_length (%u) > 0",
                                 hp->n_expert_used, hp->n_expert, hp->n_ff_expert);
      if (hp->n_expert_groups > 1
          && (hp->n_expert % hp->n_expert_groups != 0 || hp->n_group_used == 0
              || hp->n_group_used > hp->n_expert_groups
              || (uint64_t) hp->n_group_used * (hp->n_expert / hp->n_expert_groups)
                 < hp->n_expert_used))
        return ponder_error_set (error, PONDER_ERROR_FORMAT,
                                 "deepseek2: %u expert groups (%u kept) do not fit %u experts "
                                 "with %u used", hp->n_expert_groups, hp->n_group_used,
                                 hp->n_expert, hp->n_expert_used);
    }
  if (hp->n_leading_dense < hp->n_layers && hp->n_expert == 0)
    return ponder_error_set (error, PONDER_ERROR_FORMAT,
                             "deepseek2: %u layers but only %u leading dense layers and "
                             "expert_count 0", hp->n_layers, hp->n_leading_dense);

  /* spec 4.5: the rotation keeps magnitude 1 and the whole YaRN mscale goes
   * into the softmax scale, squared (as llama.cpp does). */
  TRY (ponder_model_read_f32 (file, A, "rope.scaling.yarn_log_multiplier", false, 0.0f,
                              &hp->yarn_log_mul, error));
  hp->rope_mscale = 1.0f;
  {
    double m = 1.0;

    if (hp->rope_yarn && hp->rope_factor > 1.0f)
      m = 1.0 + hp->yarn_log_mul * log (hp->rope_factor);
    hp->attn_scale = (float) (m * m / sqrt ((double) dk));
  }
  return PONDER_OK;
}

/* ---- Tensors --------------------------------------------------------------- */

/* A 3-D tensor [n_in, n_out, n_slices] as n_slices matrices of n_out rows. */
static PonderStatus
bind_weight3 (const PonderGgufFile *file,
              const char           *name,
              uint64_t              n_in,
              uint64_t              n_out,
              uint64_t              n_slices,
              PonderWeight         *w,
              PonderError          *error)
{
  const PonderGgufTensor *t = ponder_gguf_find_tensor (file, name);
  const PonderTypeInfo *info;
  char type_buf[32];
  uint64_t row_bytes;

  memset (w, 0, sizeof *w);
  if (t == NULL)
    return ponder_error_set (error, PONDER_ERROR_FORMAT, "missing tensor %s", name);
  if (t->ne[0] != n_in || t->ne[1] != n_out || t->ne[2] != n_slices || t->ne[3] != 1)
    return ponder_error_set (error, PONDER_ERROR_FORMAT,
                             "tensor %s: expected shape [%llu, %llu, %llu], found [%llu, %llu, "
                             "%llu, %llu]", name, (unsigned long long) n_in,
                             (unsigned long long) n_out, (unsigned long long) n_slices,
                             (unsigned long long) t->ne[0], (unsigned long long) t->ne[1],
                             (unsigned long long) t->ne[2], (unsigned long long) t->ne[3]);
  info = ponder_type_info (t->type);
  if (info == NULL || !info->can_compute || ponder_matmul_kernel ((PonderType) t->type) == NULL)
    return ponder_error_set (error, PONDER_ERROR_UNSUPPORTED,
                             "tensor %s has weight type %s, which this engine cannot compute",
                             name, ponder_type_name (t->type, type_buf, sizeof type_buf));
  if (!ponder_type_row_bytes (t->type, n_in, &row_bytes)
      || row_bytes * n_out * n_slices != t->n_bytes)
    return ponder_error_set (error, PONDER_ERROR_FORMAT,
                             "tensor %s: %llu bytes do not match its shape of type %s", name,
                             (unsigned long long) t->n_bytes,
                             ponder_type_name (t->type, type_buf, sizeof type_buf));
  w->tensor = t;
  w->data = t->data;
  w->type = t->type;
  w->n_in = n_in;
  w->n_out = n_out;
  w->row_bytes = (size_t) row_bytes;
  w->kernel = ponder_matmul_kernel ((PonderType) t->type);
  return PONDER_OK;
}

static PonderStatus
keep_buffer (PonderModelWeights *w,
             void               *buf,
             PonderError        *error)
{
  void **list = realloc (w->owned, (w->n_owned + 1) * sizeof *list);

  if (list == NULL)
    {
      free (buf);
      return ponder_error_set (error, PONDER_ERROR_NO_MEMORY, "out of memory");
    }
  w->owned = list;
  w->owned[w->n_owned++] = buf;
  return PONDER_OK;
}

static void
store_value (uint8_t *dst,
             bool     f32,
             size_t   i,
             float    v)
{
  if (f32)
    ((float *) dst)[i] = v;
  else
    ((uint16_t *) dst)[i] = ponder_fp32_to_fp16 (v);
}

/* spec 4.6: attn_kv_b [kv_lora, H (nope + dv)] holds per head nope rows of
 * W_UK_h then dv rows of W_UV_h. k_b gets per head kv_lora rows of nope
 * (W_UK_h transposed), v_b per head dv rows of kv_lora (W_UV_h as is). */
static PonderStatus
convert_kv_b (const PonderGgufFile *file,
              PonderModelWeights   *mw,
              uint32_t              il,
              PonderLayer          *l,
              PonderError          *error)
{
  const PonderHparams *hp = &mw->hp;
  uint32_t H = hp->n_head, nope = hp->qk_nope, dv = hp->head_dim_v, c = hp->kv_lora_rank;
  PonderWeight kvb;
  char name[64];
  bool f32;
  size_t esz;
  float *rows;
  uint8_t *kb, *vb;

  snprintf (name, sizeof name, "blk.%u.attn_kv_b.weight", il);
  TRY (ponder_model_bind_weight (file, name, c, (uint64_t) H * (nope + dv), false, &kvb,
                                 error));
  f32 = kvb.type == PONDER_TYPE_F32;
  esz = f32 ? 4 : 2;
  rows = malloc ((size_t) (nope + dv) * c * sizeof (float)); /* (nope + dv, c) one head */
  kb = malloc ((size_t) H * c * nope * esz);
  vb = malloc ((size_t) H * dv * c * esz);
  if (rows == NULL || kb == NULL || vb == NULL)
    {
      free (rows);
      free (kb);
      free (vb);
      return ponder_error_set (error, PONDER_ERROR_NO_MEMORY,
                               "out of memory converting %s", name);
    }
  for (uint32_t h = 0; h < H; h++)
    {
      for (uint32_t r = 0; r < nope + dv; r++)
        ponder_dequantize_row ((PonderType) kvb.type,
                               kvb.data + ((size_t) h * (nope + dv) + r) * kvb.row_bytes,
                               rows + (size_t) r * c, c);
      for (uint32_t ci = 0; ci < c; ci++)
        for (uint32_t d = 0; d < nope; d++)
          store_value (kb, f32, ((size_t) h * c + ci) * nope + d, rows[(size_t) d * c + ci]);
      for (uint32_t e = 0; e < dv; e++)
        for (uint32_t ci = 0; ci < c; ci++)
          store_value (vb, f32, ((size_t) h * dv + e) * c + ci,
                       rows[(size_t) (nope + e) * c + ci]);
    }
  free (rows);
  if (keep_buffer (mw, kb, error) != PONDER_OK)
    {
      free (vb);
      return PONDER_ERROR_NO_MEMORY;
    }
  TRY (keep_buffer (mw, vb, error));
  l->wk_b = (PonderWeight) { kvb.tensor, kb, f32 ? PONDER_TYPE_F32 : PONDER_TYPE_F16, nope, c,
                             nope * esz, ponder_matmul_kernel (f32 ? PONDER_TYPE_F32
                                                                   : PONDER_TYPE_F16) };
  l->wv_b = (PonderWeight) { kvb.tensor, vb, f32 ? PONDER_TYPE_F32 : PONDER_TYPE_F16, c, dv,
                             c * esz, l->wk_b.kernel };
  return PONDER_OK;
}

static PonderStatus
bind_layer (const PonderGgufFile *file,
            PonderModelWeights   *mw,
            uint32_t              il,
            PonderError          *error)
{
  const PonderHparams *hp = &mw->hp;
  PonderLayer *l = &mw->layers[il];
  uint64_t E = hp->n_embd, H = hp->n_head, dk = hp->head_dim_k, dv = hp->head_dim_v;
  uint64_t c = hp->kv_lora_rank, ffx = hp->n_ff_expert;
  char name[128];

#define NAME(suffix) (snprintf (name, sizeof name, "blk.%u." suffix, il), name)
  TRY (ponder_model_bind_vector (file, NAME ("attn_norm.weight"), E, &l->attn_norm, error));
  if (hp->q_lora_rank > 0)
    {
      TRY (ponder_model_bind_weight (file, NAME ("attn_q_a.weight"), E, hp->q_lora_rank, true,
                                     &l->wq_a, error));
      TRY (ponder_model_bind_vector (file, NAME ("attn_q_a_norm.weight"), hp->q_lora_rank,
                                     &l->q_a_norm, error));
      TRY (ponder_model_bind_weight (file, NAME ("attn_q_b.weight"), hp->q_lora_rank, H * dk,
                                     true, &l->wq_b, error));
    }
  else
    TRY (ponder_model_bind_weight (file, NAME ("attn_q.weight"), E, H * dk, true, &l->wq,
                                   error));
  TRY (ponder_model_bind_weight (file, NAME ("attn_kv_a_mqa.weight"), E, c + hp->qk_rope, true,
                                 &l->wkv_a, error));
  TRY (ponder_model_bind_vector (file, NAME ("attn_kv_a_norm.weight"), c, &l->kv_a_norm,
                                 error));
  if (hp->mla_layout)
    {
      TRY (bind_weight3 (file, NAME ("attn_k_b.weight"), hp->qk_nope, c, H, &l->wk_b, error));
      TRY (bind_weight3 (file, NAME ("attn_v_b.weight"), c, dv, H, &l->wv_b, error));
    }
  else
    TRY (convert_kv_b (file, mw, il, l, error));
  TRY (ponder_model_bind_weight (file, NAME ("attn_output.weight"), H * dv, E, true, &l->wo,
                                 error));
  TRY (ponder_model_bind_vector (file, NAME ("ffn_norm.weight"), E, &l->ffn_norm, error));
  if (il < hp->n_leading_dense)
    {
      TRY (ponder_model_bind_weight (file, NAME ("ffn_gate.weight"), E, hp->n_ff, true,
                                     &l->w_gate, error));
      TRY (ponder_model_bind_weight (file, NAME ("ffn_up.weight"), E, hp->n_ff, true, &l->w_up,
                                     error));
      TRY (ponder_model_bind_weight (file, NAME ("ffn_down.weight"), hp->n_ff, E, true,
                                     &l->w_down, error));
      return PONDER_OK;
    }
  TRY (ponder_model_bind_weight (file, NAME ("ffn_gate_inp.weight"), E, hp->n_expert, true,
                                 &l->router, error));
  if (ponder_gguf_find_tensor (file, NAME ("exp_probs_b.bias")) != NULL)
    TRY (ponder_model_bind_vector (file, name, hp->n_expert, &l->exp_probs_b, error));
  TRY (bind_weight3 (file, NAME ("ffn_gate_exps.weight"), E, ffx, hp->n_expert, &l->gate_exps,
                     error));
  TRY (bind_weight3 (file, NAME ("ffn_up_exps.weight"), E, ffx, hp->n_expert, &l->up_exps,
                     error));
  TRY (bind_weight3 (file, NAME ("ffn_down_exps.weight"), ffx, E, hp->n_expert, &l->down_exps,
                     error));
  if (hp->n_expert_shared > 0)
    {
      uint64_t ffs = ffx * hp->n_expert_shared;

      TRY (ponder_model_bind_weight (file, NAME ("ffn_gate_shexp.weight"), E, ffs, true,
                                     &l->gate_shexp, error));
      TRY (ponder_model_bind_weight (file, NAME ("ffn_up_shexp.weight"), E, ffs, true,
                                     &l->up_shexp, error));
      TRY (ponder_model_bind_weight (file, NAME ("ffn_down_shexp.weight"), ffs, E, true,
                                     &l->down_shexp, error));
    }
#undef NAME
  return PONDER_OK;
}

PonderStatus
ponder_model_deepseek2_bind (const PonderGgufFile *file,
                             PonderModelWeights   *w,
                             PonderError          *error)
{
  PonderHparams *hp = &w->hp;
  const PonderGgufTensor *embd = ponder_gguf_find_tensor (file, "token_embd.weight");
  uint32_t vocab_size;

  if (embd == NULL)
    return ponder_error_set (error, PONDER_ERROR_FORMAT, "missing tensor token_embd.weight");
  if (embd->ne[1] == 0 || embd->ne[1] > INT32_MAX)
    return ponder_error_set (error, PONDER_ERROR_FORMAT,
                             "tensor token_embd.weight: bad vocabulary size %llu",
                             (unsigned long long) embd->ne[1]);
  hp->n_vocab = (uint32_t) embd->ne[1];
  TRY (ponder_model_read_u32 (file, A, "vocab_size", false, hp->n_vocab, &vocab_size, error));
  if (vocab_size != hp->n_vocab)
    return ponder_error_set (error, PONDER_ERROR_FORMAT,
                             "deepseek2.vocab_size = %u but token_embd.weight has %u rows",
                             vocab_size, hp->n_vocab);
  TRY (ponder_model_bind_weight (file, "token_embd.weight", hp->n_embd, hp->n_vocab, false,
                                 &w->token_embd, error));
  w->layers = calloc (hp->n_layers, sizeof *w->layers);
  if (w->layers == NULL)
    return ponder_error_set (error, PONDER_ERROR_NO_MEMORY, "out of memory for %u layers",
                             hp->n_layers);
  for (uint32_t il = 0; il < hp->n_layers; il++)
    TRY (bind_layer (file, w, il, error));
  TRY (ponder_model_bind_vector (file, "output_norm.weight", hp->n_embd, &w->output_norm,
                                 error));
  w->tied_output = ponder_gguf_find_tensor (file, "output.weight") == NULL;
  TRY (ponder_model_bind_weight (file, w->tied_output ? "token_embd.weight" : "output.weight",
                                 hp->n_embd, hp->n_vocab, true, &w->output, error));
  return PONDER_OK;
}
