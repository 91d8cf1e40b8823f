/* model.c: architecture table, hyperparameters and tensor binding.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Everything here distrusts the file: every tensor is checked for its exact
 * shape and a type the kernels can multiply, and the message names the
 * tensor with the expected and the actual values.
 */
#include "model.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

typedef struct
{
  const char        *name;
  PonderArch         arch;
  PonderRopePairing  pairing;
} ArchEntry;

/* spec 3.2: llama's weights are permuted by the converter so that its pairs
 * are adjacent; deepseek2 is natively adjacent; Qwen uses halves. */
static const ArchEntry arch_table[] = {
  { "qwen2",     PONDER_ARCH_QWEN2,     PONDER_ROPE_NEOX },
  { "llama",     PONDER_ARCH_LLAMA,     PONDER_ROPE_NORM },
  { "qwen3",     PONDER_ARCH_QWEN3,     PONDER_ROPE_NEOX },
  { "deepseek2", PONDER_ARCH_DEEPSEEK2, PONDER_ROPE_NORM },
};

/* ---- Metadata ------------------------------------------------------------ */

static const PonderGgufKv *
find_arch_kv (const PonderGgufFile *file,
              const char           *arch,
              const char           *suffix)
{
  char key[256];

  snprintf (key, sizeof key, "%s.%s", arch, suffix);
  return ponder_gguf_find_kv (file, key);
}

/* A u32 that may also be stored as a per-layer array (head counts); for the
 * dense architectures every layer has the same value, so take the first. */
static PonderStatus
read_u32 (const PonderGgufFile *file,
          const char           *arch,
          const char           *suffix,
          bool                  required,
          uint32_t              fallback,
          uint32_t             *out,
          PonderError          *error)
{
  const PonderGgufKv *kv = find_arch_kv (file, arch, suffix);
  int64_t value = 0;
  char key[256];

  snprintf (key, sizeof key, "%s.%s", arch, suffix);
  if (kv == NULL)
    {
      if (required)
        return ponder_error_set (error, PONDER_ERROR_FORMAT,
                                 "missing required metadata key %s", key);
      *out = fallback;
      return PONDER_OK;
    }
  if (kv->type == PONDER_GGUF_ARRAY)
    {
      if (kv->array_len == 0 || !ponder_gguf_array_int (kv, 0, &value))
        return ponder_error_set (error, PONDER_ERROR_FORMAT,
                                 "metadata key %s: expected an integer array", key);
    }
  else if (!ponder_gguf_get_int (file, key, &value))
    return ponder_error_set (error, PONDER_ERROR_FORMAT,
                             "metadata key %s: expected an unsigned integer", key);
  if (value < 0 || value > UINT32_MAX)
    return ponder_error_set (error, PONDER_ERROR_FORMAT,
                             "metadata key %s: value %lld out of range", key,
                             (long long) value);
  *out = (uint32_t) value;
  return PONDER_OK;
}

static PonderStatus
read_f32 (const PonderGgufFile *file,
          const char           *arch,
          const char           *suffix,
          bool                  required,
          float                 fallback,
          float                *out,
          PonderError          *error)
{
  char key[256];
  double value;

  snprintf (key, sizeof key, "%s.%s", arch, suffix);
  if (ponder_gguf_find_kv (file, key) == NULL)
    {
      if (required)
        return ponder_error_set (error, PONDER_ERROR_FORMAT,
                                 "missing required metadata key %s", key);
      *out = fallback;
      return PONDER_OK;
    }
  if (!ponder_gguf_get_float (file, key, &value) || !isfinite (value))
    return ponder_error_set (error, PONDER_ERROR_FORMAT,
                             "metadata key %s: expected a finite number", key);
  *out = (float) value;
  return PONDER_OK;
}

#define TRY(expr) do { PonderStatus s_ = (expr); if (s_ != PONDER_OK) return s_; } while (0)

static PonderStatus
read_rope_params (const PonderGgufFile *file,
                  const char           *a,
                  PonderHparams        *hp,
                  PonderError          *error)
{
  PonderGgufString type_str = { NULL, 0 };
  char key[256];
  float factor = 0.0f;

  TRY (read_f32 (file, a, "rope.freq_base", false, 10000.0f, &hp->rope_base, error));
  TRY (read_u32 (file, a, "rope.dimension_count", false, hp->head_dim_k, &hp->n_rot, error));
  if (hp->n_rot == 0 || hp->n_rot > hp->head_dim_k || hp->n_rot % 2 != 0)
    return ponder_error_set (error, PONDER_ERROR_FORMAT,
                             "%s.rope.dimension_count = %u: expected an even number "
                             "in [2, %u]", a, hp->n_rot, hp->head_dim_k);
  if (!(hp->rope_base > 0.0f))
    return ponder_error_set (error, PONDER_ERROR_FORMAT,
                             "%s.rope.freq_base = %g: expected > 0", a, hp->rope_base);

  snprintf (key, sizeof key, "%s.rope.scaling.type", a);
  hp->rope_yarn = ponder_gguf_get_string (file, key, &type_str)
                  && ponder_gguf_string_equals (type_str, "yarn");
  snprintf (key, sizeof key, "%s.rope.scaling.factor", a);
  if (ponder_gguf_find_kv (file, key) != NULL)
    TRY (read_f32 (file, a, "rope.scaling.factor", false, 0.0f, &factor, error));
  else
    TRY (read_f32 (file, a, "rope.scale_linear", false, 0.0f, &factor, error));
  hp->rope_factor = factor > 0.0f ? factor : 1.0f;
  TRY (read_u32 (file, a, "rope.scaling.original_context_length", false, hp->n_ctx_train,
                 &hp->rope_ctx_orig, error));
  TRY (read_f32 (file, a, "rope.scaling.attn_factor", false, 1.0f, &hp->rope_attn_factor,
                 error));
  /* llama.cpp does not read the yarn_* keys for our architectures (spec 3.1),
   * so the defaults are used. */
  hp->yarn_beta_fast = 32.0f;
  hp->yarn_beta_slow = 1.0f;
  hp->yarn_ext_factor = hp->rope_yarn ? 1.0f : 0.0f;
  /* spec 3.5: llama.cpp's magnitude for qwen3 is 1 + 0.1 ln s, ignoring the
   * file's attn_factor; kept as one parameter so the alternative
   * (x attn_factor) is a one-line change. */
  hp->rope_mscale = 1.0f;
  if (hp->rope_yarn && hp->rope_factor > 1.0f)
    hp->rope_mscale = 1.0f + 0.1f * logf (hp->rope_factor);
  if (hp->rope_yarn && hp->rope_ctx_orig == 0)
    return ponder_error_set (error, PONDER_ERROR_FORMAT,
                             "%s.rope.scaling.original_context_length is 0", a);
  return PONDER_OK;
}

static PonderStatus
read_hparams (const PonderGgufFile *file,
              const ArchEntry      *entry,
              PonderHparams        *hp,
              PonderError          *error)
{
  const char *a = entry->name;

  memset (hp, 0, sizeof *hp);
  hp->arch = entry->arch;
  hp->arch_name = entry->name;
  hp->rope_pairing = entry->pairing;
  TRY (read_u32 (file, a, "context_length", true, 0, &hp->n_ctx_train, error));
  TRY (read_u32 (file, a, "embedding_length", true, 0, &hp->n_embd, error));
  TRY (read_u32 (file, a, "block_count", true, 0, &hp->n_layers, error));
  TRY (read_u32 (file, a, "feed_forward_length", true, 0, &hp->n_ff, error));
  TRY (read_u32 (file, a, "attention.head_count", true, 0, &hp->n_head, error));
  TRY (read_u32 (file, a, "attention.head_count_kv", false, hp->n_head, &hp->n_head_kv, error));
  if (hp->n_embd == 0 || hp->n_layers == 0 || hp->n_head == 0 || hp->n_ff == 0)
    return ponder_error_set (error, PONDER_ERROR_FORMAT,
                             "%s: embedding_length, block_count, feed_forward_length and "
                             "head_count must be > 0 (got %u, %u, %u, %u)", a, hp->n_embd,
                             hp->n_layers, hp->n_ff, hp->n_head);
  if (hp->n_head_kv == 0 || hp->n_head % hp->n_head_kv != 0)
    return ponder_error_set (error, PONDER_ERROR_FORMAT,
                             "%s.attention.head_count_kv = %u does not divide head_count = %u",
                             a, hp->n_head_kv, hp->n_head);
  TRY (read_u32 (file, a, "attention.key_length", false, hp->n_embd / hp->n_head,
                 &hp->head_dim_k, error));
  TRY (read_u32 (file, a, "attention.value_length", false, hp->n_embd / hp->n_head,
                 &hp->head_dim_v, error));
  if (hp->head_dim_k == 0 || hp->head_dim_v == 0)
    return ponder_error_set (error, PONDER_ERROR_FORMAT,
                             "%s: head size is 0 (key_length %u, value_length %u)", a,
                             hp->head_dim_k, hp->head_dim_v);
  TRY (read_f32 (file, a, "attention.layer_norm_rms_epsilon", true, 0.0f, &hp->norm_eps, error));
  if (!(hp->norm_eps >= 0.0f))
    return ponder_error_set (error, PONDER_ERROR_FORMAT,
                             "%s.attention.layer_norm_rms_epsilon = %g: expected >= 0", a,
                             hp->norm_eps);
  TRY (read_rope_params (file, a, hp, error));
  hp->attn_scale = 1.0f / sqrtf ((float) hp->head_dim_k);
  TRY (read_u32 (file, a, "expert_count", false, 0, &hp->n_expert, error));
  TRY (read_u32 (file, a, "expert_used_count", false, 0, &hp->n_expert_used, error));
  TRY (read_u32 (file, a, "expert_shared_count", false, 0, &hp->n_expert_shared, error));
  TRY (read_u32 (file, a, "expert_feed_forward_length", false, 0, &hp->n_ff_expert, error));
  TRY (read_u32 (file, a, "leading_dense_block_count", false, 0, &hp->n_leading_dense, error));
  TRY (read_u32 (file, a, "attention.q_lora_rank", false, 0, &hp->q_lora_rank, error));
  TRY (read_u32 (file, a, "attention.kv_lora_rank", false, 0, &hp->kv_lora_rank, error));
  return PONDER_OK;
}

/* ---- Tensors --------------------------------------------------------------- */

static void
format_shape (const PonderGgufTensor *t,
              char                   *buf,
              size_t                  size)
{
  if (t->n_dims <= 1)
    snprintf (buf, size, "[%llu]", (unsigned long long) t->ne[0]);
  else if (t->n_dims == 2)
    snprintf (buf, size, "[%llu, %llu]", (unsigned long long) t->ne[0],
              (unsigned long long) t->ne[1]);
  else
    snprintf (buf, size, "[%llu, %llu, %llu, %llu]", (unsigned long long) t->ne[0],
              (unsigned long long) t->ne[1], (unsigned long long) t->ne[2],
              (unsigned long long) t->ne[3]);
}

static PonderStatus
check_shape (const PonderGgufTensor *t,
             uint64_t                ne0,
             uint64_t                ne1,
             PonderError            *error)
{
  char actual[128];

  if (t->ne[0] == ne0 && t->ne[1] == ne1 && t->ne[2] == 1 && t->ne[3] == 1)
    return PONDER_OK;
  format_shape (t, actual, sizeof actual);
  if (ne1 == 1)
    return ponder_error_set (error, PONDER_ERROR_FORMAT,
                             "tensor %s: expected shape [%llu], found %s", t->name,
                             (unsigned long long) ne0, actual);
  return ponder_error_set (error, PONDER_ERROR_FORMAT,
                           "tensor %s: expected shape [%llu, %llu], found %s", t->name,
                           (unsigned long long) ne0, (unsigned long long) ne1, actual);
}

static PonderStatus
bind_weight (const PonderGgufFile *file,
             const char           *name,
             uint64_t              n_in,
             uint64_t              n_out,
             bool                  need_kernel,
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
  TRY (check_shape (t, n_in, n_out, error));
  info = ponder_type_info (t->type);
  if (info == NULL || !info->can_compute
      || (need_kernel && ponder_matmul_kernel ((PonderType) t->type) == NULL))
    return ponder_error_set (error, PONDER_ERROR_UNSUPPORTED,
                             "tensor %s has weight type %s, which this engine cannot compute",
                             name, ponder_type_name (t->type, type_buf, sizeof type_buf));
  if (!ponder_type_row_bytes (t->type, n_in, &row_bytes) || row_bytes * n_out != t->n_bytes)
    return ponder_error_set (error, PONDER_ERROR_FORMAT,
                             "tensor %s: %llu bytes do not match shape [%llu, %llu] of type %s",
                             name, (unsigned long long) t->n_bytes,
                             (unsigned long long) n_in, (unsigned long long) n_out,
                             ponder_type_name (t->type, type_buf, sizeof type_buf));
  w->tensor = t;
  w->data = t->data;
  w->type = t->type;
  w->n_in = n_in;
  w->n_out = n_out;
  w->row_bytes = (size_t) row_bytes;
  w->kernel = need_kernel ? ponder_matmul_kernel ((PonderType) t->type) : NULL;
  return PONDER_OK;
}

static PonderStatus
bind_vector (const PonderGgufFile *file,
             const char           *name,
             uint64_t              n,
             const float         **out,
             PonderError          *error)
{
  const PonderGgufTensor *t = ponder_gguf_find_tensor (file, name);
  char type_buf[32];

  *out = NULL;
  if (t == NULL)
    return ponder_error_set (error, PONDER_ERROR_FORMAT, "missing tensor %s", name);
  TRY (check_shape (t, n, 1, error));
  if (t->type != PONDER_TYPE_F32)
    return ponder_error_set (error, PONDER_ERROR_UNSUPPORTED,
                             "tensor %s has type %s; expected F32", name,
                             ponder_type_name (t->type, type_buf, sizeof type_buf));
  if (((uintptr_t) t->data) % sizeof (float) != 0)
    return ponder_error_set (error, PONDER_ERROR_FORMAT, "tensor %s is not 4-byte aligned",
                             name);
  *out = (const float *) t->data;
  return PONDER_OK;
}

static PonderStatus
bind_layer (const PonderGgufFile *file,
            const PonderHparams  *hp,
            uint32_t              il,
            PonderLayer          *l,
            PonderError          *error)
{
  uint64_t n_q = (uint64_t) hp->n_head * hp->head_dim_k;
  uint64_t n_k = (uint64_t) hp->n_head_kv * hp->head_dim_k;
  uint64_t n_v = (uint64_t) hp->n_head_kv * hp->head_dim_v;
  uint64_t n_o = (uint64_t) hp->n_head * hp->head_dim_v;
  char name[128];

#define NAME(suffix) (snprintf (name, sizeof name, "blk.%u." suffix, il), name)
  TRY (bind_vector (file, NAME ("attn_norm.weight"), hp->n_embd, &l->attn_norm, error));
  TRY (bind_weight (file, NAME ("attn_q.weight"), hp->n_embd, n_q, true, &l->wq, error));
  TRY (bind_weight (file, NAME ("attn_k.weight"), hp->n_embd, n_k, true, &l->wk, error));
  TRY (bind_weight (file, NAME ("attn_v.weight"), hp->n_embd, n_v, true, &l->wv, error));
  if (hp->arch == PONDER_ARCH_QWEN2)
    {
      TRY (bind_vector (file, NAME ("attn_q.bias"), n_q, &l->bq, error));
      TRY (bind_vector (file, NAME ("attn_k.bias"), n_k, &l->bk, error));
      TRY (bind_vector (file, NAME ("attn_v.bias"), n_v, &l->bv, error));
    }
  if (hp->arch == PONDER_ARCH_QWEN3)
    {
      TRY (bind_vector (file, NAME ("attn_q_norm.weight"), hp->head_dim_k, &l->q_norm, error));
      TRY (bind_vector (file, NAME ("attn_k_norm.weight"), hp->head_dim_k, &l->k_norm, error));
    }
  TRY (bind_weight (file, NAME ("attn_output.weight"), n_o, hp->n_embd, true, &l->wo, error));
  TRY (bind_vector (file, NAME ("ffn_norm.weight"), hp->n_embd, &l->ffn_norm, error));
  TRY (bind_weight (file, NAME ("ffn_gate.weight"), hp->n_embd, hp->n_ff, true, &l->w_gate,
                    error));
  TRY (bind_weight (file, NAME ("ffn_up.weight"), hp->n_embd, hp->n_ff, true, &l->w_up, error));
  TRY (bind_weight (file, NAME ("ffn_down.weight"), hp->n_ff, hp->n_embd, true, &l->w_down,
                    error));
#undef NAME
  return PONDER_OK;
}

static PonderStatus
bind_all (const PonderGgufFile *file,
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
  TRY (read_u32 (file, hp->arch_name, "vocab_size", false, hp->n_vocab, &vocab_size, error));
  if (vocab_size != hp->n_vocab)
    return ponder_error_set (error, PONDER_ERROR_FORMAT,
                             "%s.vocab_size = %u but token_embd.weight has %u rows",
                             hp->arch_name, vocab_size, hp->n_vocab);
  TRY (bind_weight (file, "token_embd.weight", hp->n_embd, hp->n_vocab, false, &w->token_embd,
                    error));
  if (hp->arch == PONDER_ARCH_LLAMA && ponder_gguf_find_tensor (file, "rope_freqs.weight"))
    TRY (bind_vector (file, "rope_freqs.weight", hp->n_rot / 2, &w->rope_freqs, error));

  w->layers = calloc (hp->n_layers, sizeof *w->layers);
  if (w->layers == NULL)
    return ponder_error_set (error, PONDER_ERROR_NO_MEMORY, "out of memory for %u layers",
                             hp->n_layers);
  for (uint32_t il = 0; il < hp->n_layers; il++)
    TRY (bind_layer (file, hp, il, &w->layers[il], error));

  TRY (bind_vector (file, "output_norm.weight", hp->n_embd, &w->output_norm, error));
  w->tied_output = ponder_gguf_find_tensor (file, "output.weight") == NULL;
  /* spec 3.2: no output.weight means tied embeddings. */
  TRY (bind_weight (file, w->tied_output ? "token_embd.weight" : "output.weight", hp->n_embd,
                    hp->n_vocab, true, &w->output, error));
  return PONDER_OK;
}

PonderStatus
ponder_model_read_hparams (const PonderGgufFile *file,
                           PonderHparams        *out_hp,
                           PonderError          *error)
{
  PonderGgufString arch = { NULL, 0 };
  const ArchEntry *entry = NULL;
  char arch_buf[64];
  PonderStatus status;

  memset (out_hp, 0, sizeof *out_hp);
  if (!ponder_gguf_get_string (file, "general.architecture", &arch))
    return ponder_error_set (error, PONDER_ERROR_FORMAT,
                             "missing metadata key general.architecture");
  for (size_t i = 0; i < sizeof arch_table / sizeof arch_table[0]; i++)
    if (ponder_gguf_string_equals (arch, arch_table[i].name))
      entry = &arch_table[i];
  snprintf (arch_buf, sizeof arch_buf, "%.*s", (int) (arch.len < 48 ? arch.len : 48), arch.data);
  if (entry == NULL)
    return ponder_error_set (error, PONDER_ERROR_UNSUPPORTED,
                             "unsupported architecture \"%s\" (supported: qwen2, llama, "
                             "qwen3, deepseek2)", arch_buf);
  status = read_hparams (file, entry, out_hp, error);
  if (status == PONDER_OK && entry->arch == PONDER_ARCH_DEEPSEEK2)
    status = ponder_model_deepseek2_hparams (file, out_hp, error);
  return status;
}

PonderStatus
ponder_model_bind (const PonderGgufFile *file,
                   PonderModelWeights   *out_weights,
                   PonderError          *error)
{
  PonderStatus status;

  memset (out_weights, 0, sizeof *out_weights);
  status = ponder_model_read_hparams (file, &out_weights->hp, error);
  if (status == PONDER_OK)
    status = out_weights->hp.arch == PONDER_ARCH_DEEPSEEK2
             ? ponder_model_deepseek2_bind (file, out_weights, error)
             : bind_all (file, out_weights, error);
  if (status != PONDER_OK)
    ponder_model_weights_clear (out_weights);
  return status;
}

void
ponder_model_weights_clear (PonderModelWeights *weights)
{
  for (size_t i = 0; i < weights->n_owned; i++)
    free (weights->owned[i]);
  free (weights->owned);
  free (weights->layers);
  memset (weights, 0, sizeof *weights);
}

/* ---- Information --------------------------------------------------------- */

static const char *
ftype_name (uint64_t ftype)
{
  static const struct { uint32_t id; const char *name; } names[] = {
    { 0, "F32" }, { 1, "F16" }, { 2, "Q4_0" }, { 3, "Q4_1" }, { 7, "Q8_0" }, { 8, "Q5_0" },
    { 9, "Q5_1" }, { 10, "Q2_K" }, { 11, "Q3_K_S" }, { 12, "Q3_K_M" }, { 13, "Q3_K_L" },
    { 14, "Q4_K_S" }, { 15, "Q4_K_M" }, { 16, "Q5_K_S" }, { 17, "Q5_K_M" }, { 18, "Q6_K" },
    { 19, "IQ2_XXS" }, { 20, "IQ2_XS" }, { 21, "Q2_K_S" }, { 22, "IQ3_XS" }, { 23, "IQ3_XXS" },
    { 24, "IQ1_S" }, { 25, "IQ4_NL" }, { 26, "IQ3_S" }, { 27, "IQ3_M" }, { 28, "IQ2_S" },
    { 29, "IQ2_M" }, { 30, "IQ4_XS" }, { 31, "IQ1_M" }, { 32, "BF16" }, { 36, "TQ1_0" },
    { 37, "TQ2_0" }, { 38, "MXFP4_MOE" },
  };

  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
    if (names[i].id == (ftype & ~(uint64_t) 1024))
      return names[i].name;
  return NULL;
}

const char *
ponder_model_guess_file_type (const PonderGgufFile *file,
                              char                 *buf,
                              size_t                buf_size)
{
  uint64_t ftype, best_bytes = 0;
  uint64_t bytes_by_type[64] = { 0 };
  uint32_t best = 0;
  const char *name;

  if (ponder_gguf_get_uint (file, "general.file_type", &ftype)
      && (name = ftype_name (ftype)) != NULL)
    return name;
  /* No (known) file_type: name it after the type holding most bytes. */
  for (size_t i = 0; i < ponder_gguf_n_tensors (file); i++)
    {
      const PonderGgufTensor *t = ponder_gguf_tensor (file, i);
      if (t->type < 64)
        bytes_by_type[t->type] += t->n_bytes;
    }
  for (uint32_t ty = 0; ty < 64; ty++)
    if (bytes_by_type[ty] > best_bytes)
      {
        best_bytes = bytes_by_type[ty];
        best = ty;
      }
  return ponder_type_name (best, buf, buf_size);
}

/* A routed expert tensor: 3-D with one slice per expert. */
static bool
is_routed_expert (const PonderGgufTensor *t)
{
  const char *dot = strrchr (t->name, '.');
  size_t n = dot != NULL ? (size_t) (dot - t->name) : strlen (t->name);

  return t->n_dims == 3 && n >= 5 && strncmp (t->name + n - 5, "_exps", 5) == 0;
}

uint64_t
ponder_model_bytes_per_token_split (const PonderGgufFile     *file,
                                    const PonderModelWeights *weights,
                                    uint64_t                 *out_routed)
{
  const PonderHparams *hp = &weights->hp;
  uint64_t total = 0, routed = 0;

  for (size_t i = 0; i < ponder_gguf_n_tensors (file); i++)
    {
      const PonderGgufTensor *t = ponder_gguf_tensor (file, i);
      /* Decoding gathers one row of the embedding; only a tied matrix is
       * read whole (as the output projection). */
      if (strcmp (t->name, "token_embd.weight") == 0 && !weights->tied_output)
        continue;
      /* deepseek2's MTP layers (blk.N for N >= the layers run) are not run */
      if (strncmp (t->name, "blk.", 4) == 0 && strtoul (t->name + 4, NULL, 10) >= hp->n_layers)
        continue;
      /* A token reads n_expert_used of the n_expert slices of a routed
       * expert tensor (benchmarks.md: only the used share). */
      if (is_routed_expert (t) && hp->n_expert > 0)
        {
          uint64_t share = t->n_bytes / hp->n_expert * hp->n_expert_used;
          routed += share;
          total += share;
          continue;
        }
      total += t->n_bytes;
    }
  if (out_routed != NULL)
    *out_routed = routed;
  return total;
}

uint64_t
ponder_model_bytes_per_token (const PonderGgufFile     *file,
                              const PonderModelWeights *weights)
{
  return ponder_model_bytes_per_token_split (file, weights, NULL);
}

void
ponder_model_kv_rows (const PonderHparams *hp,
                      uint32_t            *k_row,
                      uint32_t            *v_row)
{
  if (hp->arch == PONDER_ARCH_DEEPSEEK2)
    {
      /* spec 4.4: only [c_kv (kv_lora) | k_pe (qk_rope)] per token; the
       * values are the c_kv prefix of the same row. */
      *k_row = hp->kv_lora_rank + hp->qk_rope;
      *v_row = 0;
      return;
    }
  *k_row = hp->n_head_kv * hp->head_dim_k;
  *v_row = hp->n_head_kv * hp->head_dim_v;
}

size_t
ponder_model_max_n_in (const PonderHparams *hp)
{
  size_t m = hp->n_embd;

  if (hp->n_ff > m)
    m = hp->n_ff;
  if ((size_t) hp->n_head * hp->head_dim_v > m)
    m = (size_t) hp->n_head * hp->head_dim_v;
  if (hp->arch == PONDER_ARCH_DEEPSEEK2)
    {
      /* per-head products take every head's input in one prepared batch */
      size_t per_head = (size_t) hp->n_head * (hp->kv_lora_rank > hp->qk_nope
                                               ? hp->kv_lora_rank : hp->qk_nope);
      size_t shared = (size_t) hp->n_ff_expert * (hp->n_expert_shared ? hp->n_expert_shared : 1);

      if (per_head > m)
        m = per_head;
      if (shared > m)
        m = shared;
      if (hp->q_lora_rank > m)
        m = hp->q_lora_rank;
    }
  return m;
}

/* ---- Shared with model-deepseek2.c ---------------------------------------- */

PonderStatus
ponder_model_read_u32 (const PonderGgufFile *file, const char *arch, const char *suffix,
                       bool required, uint32_t fallback, uint32_t *out, PonderError *error)
{
  return read_u32 (file, arch, suffix, required, fallback, out, error);
}

PonderStatus
ponder_model_read_f32 (const PonderGgufFile *file, const char *arch, const char *suffix,
                       bool required, float fallback, float *out, PonderError *error)
{
  return read_f32 (file, arch, suffix, required, fallback, out, error);
}

PonderStatus
ponder_model_bind_weight (const PonderGgufFile *file, const char *name, uint64_t n_in,
                          uint64_t n_out, bool need_kernel, PonderWeight *w,
                          PonderError *error)
{
  return bind_weight (file, name, n_in, n_out, need_kernel, w, error);
}

PonderStatus
ponder_model_bind_vector (const PonderGgufFile *file, const char *name, uint64_t n,
                          const float **out, PonderError *error)
{
  return bind_vector (file, name, n, out, error);
}
