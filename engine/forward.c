/* forward.c: the forward pass of qwen2, llama and qwen3 (spec 3.2-3.5);
 * deepseek2 layers are in forward-deepseek2.c.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Written once against backend.h, top to bottom as the math reads. The
 * three dense architectures differ only in optional tensors: Q/K/V biases
 * (qwen2), per-head Q/K norms (qwen3) and RoPE frequency factors (llama);
 * the pairing (NORM or NEOX) is in the rope parameters.
 */
#include "forward.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

/* ---- RoPE parameters ----------------------------------------------------- */

/* YaRN's correction dimension: the pair index whose wavelength fits r
 * rotations in the original context. */
static double
yarn_corr_dim (double n_rot,
               double ctx_orig,
               double r,
               double base)
{
  return n_rot * log (ctx_orig / (2.0 * M_PI * r)) / (2.0 * log (base));
}

PonderStatus
ponder_rope_init (PonderRope          *rope,
                  const PonderHparams *hp,
                  const float         *freq_factors,
                  PonderError         *error)
{
  uint32_t half = hp->n_rot / 2;
  double low = 0.0, high = 0.0, s = hp->rope_factor, ext = hp->yarn_ext_factor;

  memset (rope, 0, sizeof *rope);
  rope->pairing = hp->rope_pairing;
  rope->n_rot = hp->n_rot;
  rope->mscale = hp->rope_mscale;
  rope->freq = calloc (half ? half : 1, sizeof (float));
  if (rope->freq == NULL)
    return ponder_error_set (error, PONDER_ERROR_NO_MEMORY, "out of memory for RoPE tables");
  if (ext != 0.0)
    {
      low = floor (yarn_corr_dim (hp->n_rot, hp->rope_ctx_orig, hp->yarn_beta_fast,
                                  hp->rope_base));
      high = ceil (yarn_corr_dim (hp->n_rot, hp->rope_ctx_orig, hp->yarn_beta_slow,
                                  hp->rope_base));
      low = fmax (0.0, low);
      high = fmin (hp->n_rot - 1.0, high);
    }
  for (uint32_t i = 0; i < half; i++)
    {
      double f = pow (hp->rope_base, -2.0 * i / hp->n_rot);
      double ramp = 0.0, mix;

      if (freq_factors != NULL)
        f /= freq_factors[i];
      if (ext != 0.0)
        ramp = 1.0 - fmin (1.0, fmax (0.0, (i - low) / fmax (0.001, high - low)));
      /* theta = theta_interp (1 - ext ramp) + theta_extrap ext ramp, with
       * theta_interp = theta_extrap / s. */
      mix = (1.0 - ext * ramp) / s + ext * ramp;
      rope->freq[i] = (float) (f * mix);
    }
  return PONDER_OK;
}

void
ponder_rope_clear (PonderRope *rope)
{
  free (rope->freq);
  memset (rope, 0, sizeof *rope);
}

/* ---- Buffers ------------------------------------------------------------- */

PonderStatus
ponder_forward_init (PonderForward            *fw,
                     const PonderModelWeights *weights,
                     PonderBackend            *backend,
                     uint32_t                  max_tokens,
                     PonderError              *error)
{
  const PonderHparams *hp = &weights->hp;
  size_t n_q = (size_t) hp->n_head * hp->head_dim_k;
  size_t n_k = (size_t) hp->n_head_kv * hp->head_dim_k;
  size_t n_v = (size_t) hp->n_head_kv * hp->head_dim_v;
  size_t n_o = (size_t) hp->n_head * hp->head_dim_v;
  size_t n_xn = n_o > hp->n_embd ? n_o : hp->n_embd;
  PonderStatus status;

  memset (fw, 0, sizeof *fw);
  fw->weights = weights;
  fw->backend = backend;
  fw->max_tokens = max_tokens;
  status = ponder_rope_init (&fw->rope, hp, weights->rope_freqs, error);
  if (status != PONDER_OK)
    return status;
  fw->layer_backend = calloc (hp->n_layers, sizeof *fw->layer_backend);
  fw->x = backend->alloc_activations (backend, max_tokens * (size_t) hp->n_embd);
  fw->xn = backend->alloc_activations (backend, max_tokens * n_xn);
  fw->q = backend->alloc_activations (backend, max_tokens * n_q);
  fw->k = backend->alloc_activations (backend, max_tokens * n_k);
  fw->v = backend->alloc_activations (backend, max_tokens * n_v);
  fw->proj = backend->alloc_activations (backend, max_tokens * (size_t) hp->n_embd);
  fw->gate = backend->alloc_activations (backend, max_tokens * (size_t) hp->n_ff);
  fw->up = backend->alloc_activations (backend, max_tokens * (size_t) hp->n_ff);
  if (fw->layer_backend == NULL || !fw->x || !fw->xn || !fw->q || !fw->k || !fw->v
      || !fw->proj || !fw->gate || !fw->up)
    {
      ponder_forward_clear (fw);
      return ponder_error_set (error, PONDER_ERROR_NO_MEMORY,
                               "out of memory for activations of %u tokens", max_tokens);
    }
  for (uint32_t il = 0; il < hp->n_layers; il++)
    fw->layer_backend[il] = backend;
  /* Optional: without it greedy decoding reads the logits back. */
  if (backend->argmax != NULL || backend->top_logits != NULL)
    fw->logits_device = backend->alloc_activations (backend, hp->n_vocab);
  if (hp->arch == PONDER_ARCH_DEEPSEEK2)
    {
      status = ponder_forward_deepseek2_init (fw, error);
      if (status != PONDER_OK)
        ponder_forward_clear (fw);
      return status;
    }
  return PONDER_OK;
}

void
ponder_forward_clear (PonderForward *fw)
{
  /* The activation buffers belong to the backend. */
  ponder_rope_clear (&fw->rope);
  ponder_forward_deepseek2_clear (fw);
  free (fw->layer_backend);
  free (fw->transfer);
  memset (fw, 0, sizeof *fw);
}

/* ---- The pass ------------------------------------------------------------ */

static void
attention_block (PonderForward     *fw,
                 PonderBackend     *be,
                 const PonderLayer *l,
                 PonderKvCache     *cache,
                 PonderKvLayer     *kv,
                 uint32_t           n,
                 uint32_t           pos0)
{
  const PonderHparams *hp = &fw->weights->hp;
  uint32_t n_q = hp->n_head * hp->head_dim_k;
  uint32_t n_k = hp->n_head_kv * hp->head_dim_k;
  uint32_t n_v = hp->n_head_kv * hp->head_dim_v;

  be->rmsnorm (be, fw->x, l->attn_norm, n, hp->n_embd, hp->norm_eps, fw->xn);
  /* q (n, n_head * hd_k), k (n, n_head_kv * hd_k), v (n, n_head_kv * hd_v) */
  be->matmul_multi (be, 3, (const PonderWeight *[]) { &l->wq, &l->wk, &l->wv }, fw->xn, n,
                    (float *[]) { fw->q, fw->k, fw->v });
  if (l->bq != NULL)
    {
      be->add_bias (be, fw->q, l->bq, n, n_q);
      be->add_bias (be, fw->k, l->bk, n, n_k);
      be->add_bias (be, fw->v, l->bv, n, n_v);
    }
  if (l->q_norm != NULL)
    {
      /* qwen3: each head is normalised over its own dims. */
      be->rmsnorm (be, fw->q, l->q_norm, n * hp->n_head, hp->head_dim_k, hp->norm_eps, fw->q);
      be->rmsnorm (be, fw->k, l->k_norm, n * hp->n_head_kv, hp->head_dim_k, hp->norm_eps,
                   fw->k);
    }
  be->rope (be, fw->q, n, hp->n_head, hp->head_dim_k, pos0, &fw->rope);
  be->rope (be, fw->k, n, hp->n_head_kv, hp->head_dim_k, pos0, &fw->rope);
  be->kv_store (be, cache, kv, pos0, n, fw->k, fw->v);
  be->attention (be, fw->q, cache, kv, pos0, n, hp->n_head, hp->n_head_kv, hp->head_dim_k,
                 hp->head_dim_v, hp->attn_scale, fw->xn); /* (n, n_head * hd_v) */
  be->matmul (be, &l->wo, fw->xn, n, fw->proj);            /* (n, n_embd) */
  be->add (be, fw->x, fw->proj, (size_t) n * hp->n_embd);
}

static void
ffn_block (PonderForward     *fw,
           PonderBackend     *be,
           const PonderLayer *l,
           uint32_t           n)
{
  const PonderHparams *hp = &fw->weights->hp;

  be->rmsnorm (be, fw->x, l->ffn_norm, n, hp->n_embd, hp->norm_eps, fw->xn);
  /* gate, up (n, n_ff) */
  be->matmul_multi (be, 2, (const PonderWeight *[]) { &l->w_gate, &l->w_up }, fw->xn, n,
                    (float *[]) { fw->gate, fw->up });
  be->swiglu (be, fw->gate, fw->up, (size_t) n * hp->n_ff);
  be->matmul (be, &l->w_down, fw->gate, n, fw->proj);     /* (n, n_embd) */
  be->add (be, fw->x, fw->proj, (size_t) n * hp->n_embd);
}

PonderStatus
ponder_forward_add_stage (PonderForward *fw,
                          PonderForward *stage,
                          uint32_t       end_layer,
                          PonderError   *error)
{
  uint32_t first = fw->n_stages > 0 ? fw->stage_end[fw->n_stages - 1] : 0;

  if (fw->n_stages == PONDER_FORWARD_MAX_STAGES || end_layer <= first
      || end_layer >= fw->weights->hp.n_layers)
    return ponder_error_set (error, PONDER_ERROR_INVALID_ARGUMENT,
                             "a stage of layers %u to %u of %u (stage %u)", first, end_layer,
                             fw->weights->hp.n_layers, fw->n_stages + 1);
  if (fw->transfer == NULL)
    {
      fw->transfer = malloc ((size_t) fw->max_tokens * fw->weights->hp.n_embd * sizeof (float));
      if (fw->transfer == NULL)
        return ponder_error_set (error, PONDER_ERROR_NO_MEMORY, "out of memory");
    }
  fw->stages[fw->n_stages] = stage;
  fw->stage_end[fw->n_stages] = end_layer;
  fw->n_stages++;
  return PONDER_OK;
}

/* Runs layers [*il, end) on stage's backend and buffers; false when
 * cancelled between layers (the caller ends the step). */
static bool
run_layers (PonderForward     *stage,
            PonderKvCache     *cache,
            uint32_t          *il,
            uint32_t           end,
            uint32_t           n_tokens,
            uint32_t           pos0,
            const atomic_bool *cancel)
{
  const PonderModelWeights *w = stage->weights;

  for (; *il < end; (*il)++)
    {
      /* A prefill batch of a large model takes seconds: let cancel in. */
      if (cancel != NULL && atomic_load_explicit (cancel, memory_order_relaxed))
        return false;
      /* h = x + Attn (RMSNorm_attn (x)); x' = h + FFN (RMSNorm_ffn (h)) */
      if (w->hp.arch == PONDER_ARCH_DEEPSEEK2)
        {
          ponder_forward_deepseek2_layer (stage, stage->layer_backend[*il], *il, cache, n_tokens,
                                          pos0);
          continue;
        }
      attention_block (stage, stage->layer_backend[*il], &w->layers[*il], cache,
                       &cache->layers[*il], n_tokens, pos0);
      ffn_block (stage, stage->layer_backend[*il], &w->layers[*il], n_tokens);
    }
  return true;
}

static void
output_head (PonderForward    *fw,
             uint32_t          n_tokens,
             PonderLogitsMode  mode,
             float            *logits)
{
  const PonderModelWeights *w = fw->weights;
  const PonderHparams *hp = &w->hp;
  PonderBackend *be = fw->backend;
  uint32_t first;

  if (mode == PONDER_LOGITS_ARGMAX || mode == PONDER_LOGITS_TOP)
    {
      be->rmsnorm (be, fw->x + (size_t) (n_tokens - 1) * hp->n_embd, w->output_norm, 1,
                   hp->n_embd, hp->norm_eps, fw->xn);
      be->matmul (be, &w->output, fw->xn, 1, fw->logits_device);
      if (mode == PONDER_LOGITS_ARGMAX)
        be->argmax (be, fw->logits_device, hp->n_vocab, fw->argmax_masked, fw->argmax_n_masked,
                    &fw->argmax_id);
      else
        be->top_logits (be, fw->logits_device, hp->n_vocab, fw->argmax_masked,
                        fw->argmax_n_masked, fw->top_temperature, &fw->top);
    }
  else if (mode != PONDER_LOGITS_NONE)
    {
      /* logits = W_output RMSNorm_output (x_L), only for the rows asked for. */
      first = mode == PONDER_LOGITS_LAST ? n_tokens - 1 : 0;
      be->rmsnorm (be, fw->x + (size_t) first * hp->n_embd, w->output_norm, n_tokens - first,
                   hp->n_embd, hp->norm_eps, fw->xn);
      be->matmul (be, &w->output, fw->xn, n_tokens - first, logits);
    }
}

void
ponder_forward_step_counts (const PonderForward *fw,
                            PonderStepCounts    *out)
{
  memset (out, 0, sizeof *out);
  for (uint32_t s = 0; s <= fw->n_stages; s++)
    {
      PonderBackend *be = s < fw->n_stages ? fw->stages[s]->backend : fw->backend;
      PonderStepCounts c;

      if (be == NULL || be->step_counts == NULL)
        continue;
      be->step_counts (be, &c);
      out->n_replayed += c.n_replayed;
      out->n_recorded += c.n_recorded;
      out->replayed_s += c.replayed_s;
      out->recorded_s += c.recorded_s;
    }
}

bool
ponder_forward_read_logits (PonderForward *fw,
                            PonderKvCache *cache,
                            float         *logits)
{
  PonderBackend *be = fw->backend;

  fw->status = be->begin_step (be, cache, cache->n_tokens, 0, &fw->error);
  if (fw->status != PONDER_OK)
    return false;
  be->download (be, logits, fw->logits_device, fw->weights->hp.n_vocab);
  fw->status = be->end_step (be, true, &fw->error);
  return fw->status == PONDER_OK;
}

bool
ponder_forward_run (PonderForward     *fw,
                    PonderKvCache     *cache,
                    const int32_t     *tokens,
                    uint32_t           n_tokens,
                    uint32_t           pos0,
                    PonderLogitsMode   mode,
                    float             *logits,
                    const atomic_bool *cancel)
{
  const PonderModelWeights *w = fw->weights;
  const PonderHparams *hp = &w->hp;
  const float *handoff = NULL; /* the previous stage's residual stream, in host memory */
  size_t n_x = (size_t) n_tokens * hp->n_embd;
  uint32_t il = 0;

  fw->status = PONDER_OK;
  for (uint32_t s = 0; s <= fw->n_stages; s++)
    {
      PonderForward *stage = s < fw->n_stages ? fw->stages[s] : fw;
      PonderBackend *be = stage->backend;
      uint32_t end = s < fw->n_stages ? fw->stage_end[s] : hp->n_layers;
      bool done;

      if (be->begin_step != NULL)
        {
          fw->status = be->begin_step (be, cache, pos0, n_tokens, &fw->error);
          if (fw->status != PONDER_OK)
            return false;
        }
      /* x_0 = token_embd[token] */
      if (handoff == NULL)
        be->embed (be, &w->token_embd, tokens, n_tokens, stage->x);
      else if (be->upload != NULL)
        be->upload (be, stage->x, handoff, n_x);
      else
        memcpy (stage->x, handoff, n_x * sizeof (float));
      done = run_layers (stage, cache, &il, end, n_tokens, pos0, cancel);
      if (done && s == fw->n_stages)
        output_head (fw, n_tokens, mode, logits);
      else if (done && be->download != NULL)
        {
          be->download (be, fw->transfer, stage->x, n_x);
          handoff = fw->transfer;
        }
      else
        handoff = stage->x;
      if (be->end_step != NULL)
        {
          fw->status = be->end_step (be, done, &fw->error);
          if (fw->status != PONDER_OK)
            return false;
        }
      if (!done)
        return false;
    }
  return true;
}
