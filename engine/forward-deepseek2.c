/* forward-deepseek2.c: one deepseek2 layer (spec 4.2-4.5): multi-head
 * latent attention in the weight-absorbed form and the routed MoE FFN.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The KV cache of a layer holds per position only the row
 * [c_kv (kv_lora, after attn_kv_a_norm) | k_pe (qk_rope, after RoPE)]
 * (spec 4.4). Each query head is absorbed into the latent space
 * (q_abs_h = W_UK_h^T q_nope_h), so attention is multi-query attention with
 * a key of kv_lora + qk_rope and a value that is the key's c_kv prefix; the
 * backend's ordinary attention op runs it with one KV head whose V view is
 * the K row itself. The per-head latent output is then expanded by W_UV_h.
 */
#include "forward.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

PonderStatus
ponder_forward_deepseek2_init (PonderForward *fw,
                               PonderError   *error)
{
  const PonderHparams *hp = &fw->weights->hp;
  PonderBackend *be = fw->backend;
  size_t T = fw->max_tokens, H = hp->n_head, c = hp->kv_lora_rank, r = hp->qk_rope;
  size_t n_used = hp->n_expert_used ? hp->n_expert_used : 1;

  if (be->matmul_slices == NULL || be->moe == NULL)
    return ponder_error_set (error, PONDER_ERROR_UNSUPPORTED,
                             "backend %s cannot run deepseek2 (no MLA/MoE ops)", be->name);
  fw->cq = be->alloc_activations (be, T * (hp->q_lora_rank ? hp->q_lora_rank : 1));
  fw->kva = be->alloc_activations (be, T * (c + r));
  fw->qn = be->alloc_activations (be, T * H * hp->qk_nope);
  fw->qa = be->alloc_activations (be, T * H * c);
  fw->qmla = be->alloc_activations (be, T * H * (c + r));
  fw->olat = be->alloc_activations (be, T * H * c);
  fw->router = be->alloc_activations (be, T * (hp->n_expert ? hp->n_expert : 1));
  fw->moe_w = be->alloc_activations (be, T * n_used);
  /* a backend that routes keeps the ids with the weights (on its device) */
  fw->moe_ids = be->route != NULL ? (int32_t *) be->alloc_activations (be, T * n_used)
                                  : calloc (T * n_used, sizeof *fw->moe_ids);
  fw->moe_ids_owned = be->route == NULL;
  fw->route_tmp = calloc (3 * (size_t) hp->n_expert + hp->n_expert_groups + 1, sizeof (float));
  if (!fw->cq || !fw->kva || !fw->qn || !fw->qa || !fw->qmla || !fw->olat || !fw->router
      || !fw->moe_w || !fw->moe_ids || !fw->route_tmp)
    return ponder_error_set (error, PONDER_ERROR_NO_MEMORY,
                             "out of memory for deepseek2 activations of %zu tokens", T);
  return PONDER_OK;
}

void
ponder_forward_deepseek2_clear (PonderForward *fw)
{
  /* the float buffers belong to the backend */
  if (fw->moe_ids_owned)
    free (fw->moe_ids);
  free (fw->route_tmp);
  fw->moe_ids = NULL;
  fw->route_tmp = NULL;
}

/* ---- Routing (spec 4.3) --------------------------------------------------- */

void
ponder_deepseek2_route (const PonderHparams *hp,
                        const float         *logits,
                        const float         *bias,
                        float               *tmp,
                        int32_t             *ids,
                        float               *weights)
{
  uint32_t n = hp->n_expert, k = hp->n_expert_used, G = hp->n_expert_groups;
  float *score = tmp;        /* (n) unbiased: give the weights */
  float *sel = tmp + n;      /* (n) biased: choose the experts */
  float *gscore = tmp + 2 * n; /* (G) */
  float *taken = tmp + 2 * n + G; /* (n) 1 once chosen */
  double sum = 0.0;

  if (hp->expert_gating == 1)
    {
      float mx = -INFINITY;

      for (uint32_t e = 0; e < n; e++)
        mx = logits[e] > mx ? logits[e] : mx;
      for (uint32_t e = 0; e < n; e++)
        {
          score[e] = expf (logits[e] - mx);
          sum += score[e];
        }
      for (uint32_t e = 0; e < n; e++)
        score[e] = (float) (score[e] / sum);
    }
  else if (hp->expert_gating == 2)
    for (uint32_t e = 0; e < n; e++)
      score[e] = 1.0f / (1.0f + expf (-logits[e]));
  else
    for (uint32_t e = 0; e < n; e++)
      {
        /* sqrt (softplus (z)), softplus in a form that does not overflow */
        float z = logits[e];
        score[e] = sqrtf (z > 20.0f ? z : log1pf (expf (z)));
      }
  for (uint32_t e = 0; e < n; e++)
    sel[e] = score[e] + (bias != NULL ? bias[e] : 0.0f);

  if (G > 1 && hp->n_group_used < G)
    {
      uint32_t per = n / G;

      /* group score: the sum of its two largest biased scores */
      for (uint32_t g = 0; g < G; g++)
        {
          float a = -INFINITY, b = -INFINITY;

          for (uint32_t e = g * per; e < (g + 1) * per; e++)
            if (sel[e] > a)
              {
                b = a;
                a = sel[e];
              }
            else if (sel[e] > b)
              b = sel[e];
          gscore[g] = per >= 2 ? a + b : a;
        }
      /* drop the G - n_group_used weakest groups (ties: the later one) */
      for (uint32_t drop = 0; drop < G - hp->n_group_used; drop++)
        {
          uint32_t worst = 0;

          for (uint32_t g = 1; g < G; g++)
            if (gscore[g] <= gscore[worst])
              worst = g;
          gscore[worst] = INFINITY;
          for (uint32_t e = worst * per; e < (worst + 1) * per; e++)
            sel[e] = -INFINITY;
        }
    }

  /* top k by biased score, the lower index first on ties */
  sum = 0.0;
  for (uint32_t e = 0; e < n; e++)
    taken[e] = 0.0f;
  for (uint32_t j = 0; j < k; j++)
    {
      int64_t best = -1;

      for (uint32_t e = 0; e < n; e++)
        if (taken[e] == 0.0f && (best < 0 || sel[e] > sel[best]))
          best = e;
      taken[best] = 1.0f;
      ids[j] = (int32_t) best;
      weights[j] = score[best];
      sum += score[best];
    }
  if (hp->expert_weights_norm)
    {
      /* llama.cpp clamps the denominator (spec 4.3 step 6) */
      double d = sum > 6.103515625e-5 ? sum : 6.103515625e-5;
      for (uint32_t j = 0; j < k; j++)
        weights[j] = (float) (weights[j] / d);
    }
  for (uint32_t j = 0; j < k; j++)
    weights[j] *= hp->expert_weights_scale;
}

/* ---- The layer ------------------------------------------------------------ */

static void
mla_block (PonderForward     *fw,
           PonderBackend     *be,
           const PonderLayer *l,
           PonderKvCache     *cache,
           PonderKvLayer     *kv,
           uint32_t           n,
           uint32_t           pos0)
{
  const PonderHparams *hp = &fw->weights->hp;
  uint32_t H = hp->n_head, c = hp->kv_lora_rank, r = hp->qk_rope, nope = hp->qk_nope;
  uint32_t dk = hp->head_dim_k, row = c + r;
  PonderKvCache view = *cache;
  PonderKvLayer latent = { kv->k, kv->k };

  be->rmsnorm (be, fw->x, l->attn_norm, n, hp->n_embd, hp->norm_eps, fw->xn);
  if (hp->q_lora_rank > 0)
    {
      /* c_q (n, q_lora), [c_kv | k_pe] (n, kv_lora + rope) */
      be->matmul_multi (be, 2, (const PonderWeight *[]) { &l->wq_a, &l->wkv_a }, fw->xn, n,
                        (float *[]) { fw->cq, fw->kva });
      be->rmsnorm (be, fw->cq, l->q_a_norm, n, hp->q_lora_rank, hp->norm_eps, fw->cq);
      /* the fused op makes q from c_q per head block: one pool job less */
      if (be->mla_attention == NULL)
        be->matmul (be, &l->wq_b, fw->cq, n, fw->q);         /* (n, H, dk) */
    }
  else
    be->matmul_multi (be, 2, (const PonderWeight *[]) { &l->wq, &l->wkv_a }, fw->xn, n,
                      (float *[]) { fw->q, fw->kva });
  /* c_kv is normalised, k_pe is not; k_pe is one head shared by all */
  for (uint32_t t = 0; t < n; t++)
    be->rmsnorm (be, fw->kva + (size_t) t * row, l->kv_a_norm, 1, c, hp->norm_eps,
                 fw->kva + (size_t) t * row);
  /* The rope dims sit after c_kv in each row and after q_nope in each
   * head: rotate "heads" of width row / dk starting at those offsets. */
  be->rope (be, fw->kva + c, n, 1, row, pos0, &fw->rope);
  /* no value rows (v_row 0): the store copies only the latent rows */
  be->kv_store (be, cache, kv, pos0, n, fw->kva, fw->kva);

  if (be->mla_attention != NULL)
    {
      const float *cq = hp->q_lora_rank > 0 ? fw->cq : NULL;

      if (cq == NULL)
        be->rope (be, fw->q + nope, n, H, dk, pos0, &fw->rope);
      be->mla_attention (be, l, hp, cq, fw->q, cache, kv, pos0, n, fw->qa, fw->olat,
                         fw->xn);                             /* (n, H, dv) */
      be->matmul (be, &l->wo, fw->xn, n, fw->proj);
      be->add (be, fw->x, fw->proj, (size_t) n * hp->n_embd);
      return;
    }
  be->rope (be, fw->q + nope, n, H, dk, pos0, &fw->rope);
  /* q_abs_h = W_UK_h^T q_nope_h, then Q'_h = [q_abs_h | q_pe_h] */
  for (size_t th = 0; th < (size_t) n * H; th++)
    memcpy (fw->qn + th * nope, fw->q + th * dk, nope * sizeof (float));
  be->matmul_slices (be, &l->wk_b, H, fw->qn, n, fw->qa);   /* (n, H, c) */
  for (size_t th = 0; th < (size_t) n * H; th++)
    {
      memcpy (fw->qmla + th * row, fw->qa + th * c, c * sizeof (float));
      memcpy (fw->qmla + th * row + c, fw->q + th * dk + nope, r * sizeof (float));
    }
  /* MQA over the latent rows; V is the c_kv prefix of each K row */
  view.v_row = view.k_row;
  be->attention (be, fw->qmla, &view, &latent, pos0, n, H, 1, row, c, hp->attn_scale,
                 fw->olat);                                   /* (n, H, c) */
  be->matmul_slices (be, &l->wv_b, H, fw->olat, n, fw->xn);  /* (n, H, dv) */
  be->matmul (be, &l->wo, fw->xn, n, fw->proj);               /* (n, n_embd) */
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
  if (l->router.tensor == NULL)
    {
      be->matmul_multi (be, 2, (const PonderWeight *[]) { &l->w_gate, &l->w_up }, fw->xn, n,
                        (float *[]) { fw->gate, fw->up });
      be->swiglu (be, fw->gate, fw->up, (size_t) n * hp->n_ff);
      be->matmul (be, &l->w_down, fw->gate, n, fw->proj);
    }
  else
    {
      uint32_t k = hp->n_expert_used;

      be->matmul (be, &l->router, fw->xn, n, fw->router);   /* (n, n_expert) */
      if (be->route != NULL)
        be->route (be, hp, l->exp_probs_b, fw->router, n, fw->moe_ids, fw->moe_w);
      else
        for (uint32_t t = 0; t < n; t++)
          ponder_deepseek2_route (hp, fw->router + (size_t) t * hp->n_expert, l->exp_probs_b,
                                  fw->route_tmp, fw->moe_ids + (size_t) t * k,
                                  fw->moe_w + (size_t) t * k);
      be->moe (be, l, fw->xn, n, k, fw->moe_ids, fw->moe_w, fw->proj);
    }
  be->add (be, fw->x, fw->proj, (size_t) n * hp->n_embd);
}

void
ponder_forward_deepseek2_layer (PonderForward *fw,
                                PonderBackend *be,
                                uint32_t       il,
                                PonderKvCache *cache,
                                uint32_t       n,
                                uint32_t       pos0)
{
  const PonderLayer *l = &fw->weights->layers[il];

  mla_block (fw, be, l, cache, &cache->layers[il], n, pos0);
  ffn_block (fw, be, l, n);
}
