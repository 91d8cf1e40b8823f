/* mla-cpu.c: the CPU's fused latent attention of deepseek2 (spec 4.4).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Absorbed MLA: each head's query is moved into the latent space (W_UK_h^T
 * q_nope), attends over the cached latent rows [c_kv | k_pe] of every
 * position, and the latent output is expanded with W_UV_h. Heads go in
 * blocks so that each latent row is read from memory once per block.
 */
#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "backend-cpu-private.h"
#include "quant.h"

/* ---- Fused latent attention --------------------------------------------- */

typedef struct
{
  const PonderLayer   *l;
  const CpuBackend    *cpu;
  float               *q;        /* (n, H, dk) nope then rope per head */
  const uint8_t       *prep_q;   /* (n, in_row) c_q prepared for W_q_b, or NULL */
  uint32_t             t0;       /* first token of this chunk in the batch */
  const PonderKvCache *cache;
  const PonderKvLayer *kv;       /* rows [c_kv | k_pe] */
  uint32_t             pos0, n, H, nope, rope, c, dv;
  float                scale;
  float               *qa;       /* (n, H, c) */
  float               *olat;     /* (n, H, c) */
  float               *out;      /* (n, H, dv) */
  uint8_t             *prep_k;   /* (H, n, in_row_k) */
  uint8_t             *prep_v;   /* (H, n, in_row_v) */
  size_t               in_row_k, in_row_v;
  uint32_t             block;     /* heads per work item */
  uint32_t             n_blocks;
  bool                 use_avx2;  /* AVX2 and FMA, and F16C for an F16 cache */
  atomic_uint          next;
} MlaTask;

#define MLA_MAX_BLOCK 16

/* The online softmax (Milakov & Gimelshein 2018) of the heads [h0, h1) of
 * token t over its positions: a running maximum and denominator per head,
 * the output rescaled when the maximum grows. Positions are the outer loop
 * so that each latent row is read once for the whole block of heads. */
static void
attend_latent (const MlaTask *task,
               uint32_t       t,
               uint32_t       h0,
               uint32_t       h1)
{
  uint32_t c = task->c, H = task->H, n_pos = task->pos0 + t + 1;
  size_t dk = (size_t) task->nope + task->rope;
  bool f16 = task->cache->type == PONDER_KV_F16;
  size_t row = task->cache->k_row * ponder_kv_type_size (task->cache->type);
  size_t pe = c * ponder_kv_type_size (task->cache->type);
  float m[MLA_MAX_BLOCK], lsum[MLA_MAX_BLOCK];

  for (uint32_t h = h0; h < h1; h++)
    {
      m[h - h0] = -INFINITY;
      lsum[h - h0] = 0.0f;
      memset (task->olat + ((size_t) t * H + h) * c, 0, c * sizeof (float));
    }
  for (uint32_t s = 0; s < n_pos; s++)
    {
      const char *ks = (const char *) task->kv->k + (size_t) s * row;

      for (uint32_t h = h0; h < h1; h++)
        {
          const float *qa = task->qa + ((size_t) t * H + h) * c;
          const float *qr = task->q + ((size_t) t * H + h) * dk + task->nope;
          float *o = task->olat + ((size_t) t * H + h) * c;
          float score = (ponder_cpu_kv_dot (qa, ks, c, f16)
                         + ponder_cpu_kv_dot (qr, ks + pe, task->rope, f16)) * task->scale;
          float w;

          if (score > m[h - h0])
            {
              float corr = expf (m[h - h0] - score);

              lsum[h - h0] *= corr;
              for (uint32_t i = 0; i < c; i++)
                o[i] *= corr;
              m[h - h0] = score;
            }
          w = expf (score - m[h - h0]);
          lsum[h - h0] += w;
          ponder_cpu_kv_axpy (o, w, ks, c, f16);
        }
    }
  for (uint32_t h = h0; h < h1; h++)
    {
      float *o = task->olat + ((size_t) t * H + h) * c;

      for (uint32_t i = 0; i < c; i++)
        o[i] /= lsum[h - h0];
    }
}

#if defined(__x86_64__) || defined(__i386__)
#define AVX2_FN __attribute__ ((target ("avx2,fma,f16c")))

/* The score of latent row ks (rope part kr) for one head's query. */
AVX2_FN static inline __attribute__ ((always_inline)) float
latent_score (const float *qa,
              const float *qr,
              const char  *ks,
              const char  *kr,
              uint32_t     c,
              uint32_t     rope,
              bool         f16)
{
  __m256 acc0 = _mm256_setzero_ps (), acc1 = _mm256_setzero_ps ();
  uint32_t i;

  for (i = 0; i + 16 <= c; i += 16)
    {
      acc0 = _mm256_fmadd_ps (_mm256_loadu_ps (qa + i), ponder_cpu_kv_load8 (ks, i, f16), acc0);
      acc1 = _mm256_fmadd_ps (_mm256_loadu_ps (qa + i + 8), ponder_cpu_kv_load8 (ks, i + 8, f16),
                              acc1);
    }
  for (; i < c; i += 8)
    acc0 = _mm256_fmadd_ps (_mm256_loadu_ps (qa + i), ponder_cpu_kv_load8 (ks, i, f16), acc0);
  for (i = 0; i < rope; i += 8)
    acc1 = _mm256_fmadd_ps (_mm256_loadu_ps (qr + i), ponder_cpu_kv_load8 (kr, i, f16), acc1);
  return ponder_cpu_hsum8 (_mm256_add_ps (acc0, acc1));
}

/* The same with 8-wide FMA; c and rope are multiples of 8 (checked). An
 * F16 cache is widened with F16C as it is loaded. Inlined into one function
 * per cache type, so that the type is a constant in the inner loops. */
AVX2_FN static inline __attribute__ ((always_inline)) void
attend_latent_avx2 (const MlaTask *task,
                    uint32_t       t,
                    uint32_t       h0,
                    uint32_t       h1,
                    bool           f16)
{
  uint32_t c = task->c, H = task->H, n_pos = task->pos0 + t + 1, rope = task->rope;
  size_t dk = (size_t) task->nope + rope;
  size_t es = f16 ? sizeof (uint16_t) : sizeof (float), row = task->cache->k_row * es;
  float m[MLA_MAX_BLOCK], lsum[MLA_MAX_BLOCK];

  for (uint32_t h = h0; h < h1; h++)
    {
      m[h - h0] = -INFINITY;
      lsum[h - h0] = 0.0f;
      memset (task->olat + ((size_t) t * H + h) * c, 0, c * sizeof (float));
    }
  for (uint32_t s0 = 0; s0 < n_pos; s0 += PONDER_CPU_SCORE_BLOCK)
    {
      uint32_t nb = n_pos - s0 < PONDER_CPU_SCORE_BLOCK ? n_pos - s0 : PONDER_CPU_SCORE_BLOCK;
      const char *kb = (const char *) task->kv->k + (size_t) s0 * row;

      for (uint32_t h = h0; h < h1; h++)
        {
          const float *qa = task->qa + ((size_t) t * H + h) * c;
          const float *qr = task->q + ((size_t) t * H + h) * dk + task->nope;
          float *o = task->olat + ((size_t) t * H + h) * c;
          float score[PONDER_CPU_SCORE_BLOCK], w[PONDER_CPU_SCORE_BLOCK];
          float block_max = -INFINITY;
          __m256 wv;

          for (uint32_t j = 0; j < PONDER_CPU_SCORE_BLOCK; j++)
            {
              score[j] = j < nb ? latent_score (qa, qr, kb + j * row, kb + j * row + c * es, c,
                                                rope, f16) * task->scale
                                : -INFINITY;
              block_max = score[j] > block_max ? score[j] : block_max;
            }
          if (block_max > m[h - h0])
            {
              __m256 corr = _mm256_set1_ps (expf (m[h - h0] - block_max));

              lsum[h - h0] *= _mm256_cvtss_f32 (corr);
              for (uint32_t i = 0; i < c; i += 8)
                _mm256_storeu_ps (o + i, _mm256_mul_ps (_mm256_loadu_ps (o + i), corr));
              m[h - h0] = block_max;
            }
          wv = ponder_cpu_exp8_nonpositive (_mm256_sub_ps (_mm256_loadu_ps (score),
                                                           _mm256_set1_ps (m[h - h0])));
          _mm256_storeu_ps (w, wv);
          lsum[h - h0] += ponder_cpu_hsum8 (wv);
          /* V is the c_kv prefix of each row */
          for (uint32_t i = 0; i < c; i += 8)
            {
              __m256 acc = _mm256_loadu_ps (o + i);

              for (uint32_t j = 0; j < nb; j++)
                acc = _mm256_fmadd_ps (_mm256_set1_ps (w[j]),
                                       ponder_cpu_kv_load8 (kb + j * row, i, f16), acc);
              _mm256_storeu_ps (o + i, acc);
            }
        }
    }
  for (uint32_t h = h0; h < h1; h++)
    {
      float *o = task->olat + ((size_t) t * H + h) * c;
      __m256 inv = _mm256_set1_ps (1.0f / lsum[h - h0]);

      for (uint32_t i = 0; i < c; i += 8)
        _mm256_storeu_ps (o + i, _mm256_mul_ps (_mm256_loadu_ps (o + i), inv));
    }
}

AVX2_FN static void
attend_latent_avx2_f32 (const MlaTask *task,
                        uint32_t       t,
                        uint32_t       h0,
                        uint32_t       h1)
{
  attend_latent_avx2 (task, t, h0, h1, false);
}

AVX2_FN static void
attend_latent_avx2_f16 (const MlaTask *task,
                        uint32_t       t,
                        uint32_t       h0,
                        uint32_t       h1)
{
  attend_latent_avx2 (task, t, h0, h1, true);
}
#endif

/* The query rows of heads [h0, h1) from the query latent (W_q_b's rows
 * h dk ... (h + 1) dk - 1 are head h), then NORM RoPE on their rope dims
 * with the angles the backend's rope op tabulated for this batch (it ran on
 * k_pe at the same positions just before). */
static void
q_heads (const MlaTask *task,
         uint32_t       h0,
         uint32_t       h1)
{
  const PonderWeight *wq = &task->l->wq_b;
  size_t dk = (size_t) task->nope + task->rope, half = task->rope / 2;

  ponder_matmul_rows (wq->kernel, wq->data, wq->n_in, h0 * dk, h1 * dk, task->prep_q, task->n,
                      task->q, (size_t) task->H * dk);
  for (uint32_t t = 0; t < task->n; t++)
    {
      const float *cs = task->cpu->rope_cs + (size_t) (task->t0 + t) * half * 2;

      for (uint32_t h = h0; h < h1; h++)
        {
          float *v = task->q + ((size_t) t * task->H + h) * dk + task->nope;

          for (size_t i = 0; i < half; i++)
            {
              float x0 = v[2 * i], x1 = v[2 * i + 1];

              v[2 * i] = x0 * cs[2 * i] - x1 * cs[2 * i + 1];
              v[2 * i + 1] = x0 * cs[2 * i + 1] + x1 * cs[2 * i];
            }
        }
    }
}

/* One work item is a block of heads for all tokens of the batch: absorb
 * W_UK_h into their queries, attend over the latent rows, expand the latent
 * outputs with W_UV_h. Heads are independent, so the three steps need no
 * barrier between them. */
static void
mla_task (void *data,
          int   ith,
          int   nth)
{
  MlaTask *task = data;
  const PonderWeight *kb = &task->l->wk_b, *vb = &task->l->wv_b;
  uint32_t H = task->H, c = task->c;
  size_t dk = (size_t) task->nope + task->rope;
  unsigned blk;

  (void) ith;
  (void) nth;
  while ((blk = atomic_fetch_add_explicit (&task->next, 1, memory_order_relaxed))
         < task->n_blocks)
    {
      uint32_t h0 = blk * task->block, h1 = h0 + task->block < H ? h0 + task->block : H;

      if (task->prep_q != NULL)
        q_heads (task, h0, h1);
      for (uint32_t h = h0; h < h1; h++)
        {
          uint8_t *pk = task->prep_k + (size_t) h * task->n * task->in_row_k;

          /* q_abs (n, c) = W_UK_h^T q_nope_h */
          ponder_matmul_prepare_input (kb->kernel, task->q + (size_t) h * dk, (size_t) H * dk,
                                       task->nope, task->n, pk);
          ponder_matmul_rows (kb->kernel, kb->data + (size_t) h * kb->n_out * kb->row_bytes,
                              kb->n_in, 0, kb->n_out, pk, task->n, task->qa + (size_t) h * c,
                              (size_t) H * c);
        }
      for (uint32_t t = 0; t < task->n; t++)
        {
#if defined(__x86_64__) || defined(__i386__)
          if (task->use_avx2)
            {
              (task->cache->type == PONDER_KV_F16 ? attend_latent_avx2_f16
                                                  : attend_latent_avx2_f32) (task, t, h0, h1);
              continue;
            }
#endif
          attend_latent (task, t, h0, h1);
        }
      for (uint32_t h = h0; h < h1; h++)
        {
          uint8_t *pv = task->prep_v + (size_t) h * task->n * task->in_row_v;

          /* o_h (n, dv) = W_UV_h o_lat_h */
          ponder_matmul_prepare_input (vb->kernel, task->olat + (size_t) h * c, (size_t) H * c,
                                       c, task->n, pv);
          ponder_matmul_rows (vb->kernel, vb->data + (size_t) h * vb->n_out * vb->row_bytes,
                              vb->n_in, 0, vb->n_out, pv, task->n,
                              task->out + (size_t) h * task->dv, (size_t) H * task->dv);
        }
    }
}

void
ponder_cpu_mla_attention (PonderBackend       *be,
                          const PonderLayer   *l,
                          const PonderHparams *hp,
                          const float         *cq,
                          float               *q,
                          const PonderKvCache *cache,
                          const PonderKvLayer *kv,
                          uint32_t             pos0,
                          uint32_t             n_tokens,
                          float               *qa,
                          float               *olat,
                          float               *out)
{
  CpuBackend *cpu = (CpuBackend *) be;
  int nth = ponder_threadpool_size (cpu->pool);
  MlaTask task;
  size_t in_k = ponder_matmul_input_row_bytes (l->wk_b.kernel, hp->qk_nope);
  size_t in_v = ponder_matmul_input_row_bytes (l->wv_b.kernel, hp->kv_lora_rank);
  size_t in_q = cq != NULL ? ponder_matmul_input_row_bytes (l->wq_b.kernel, hp->q_lora_rank) : 0;
  uint32_t chunk = n_tokens;

  /* the prepared inputs of every head (and c_q) must fit the scratch */
  while (chunk > 1
         && (size_t) chunk * (hp->n_head * (in_k + in_v) + in_q) > cpu->prepared_bytes)
    chunk = (chunk + 1) / 2;
  for (uint32_t t0 = 0; t0 < n_tokens; t0 += chunk)
    {
      uint32_t n = n_tokens - t0 < chunk ? n_tokens - t0 : chunk;

      memset (&task, 0, sizeof task);
      task.l = l;
      task.q = q + (size_t) t0 * hp->n_head * hp->head_dim_k;
      task.cache = cache;
      task.kv = kv;
      task.pos0 = pos0 + t0;
      task.n = n;
      task.H = hp->n_head;
      task.nope = hp->qk_nope;
      task.rope = hp->qk_rope;
      task.c = hp->kv_lora_rank;
      task.dv = hp->head_dim_v;
      task.scale = hp->attn_scale;
      task.qa = qa + (size_t) t0 * hp->n_head * hp->kv_lora_rank;
      task.olat = olat + (size_t) t0 * hp->n_head * hp->kv_lora_rank;
      task.out = out + (size_t) t0 * hp->n_head * hp->head_dim_v;
      task.prep_k = cpu->prepared;
      task.prep_v = cpu->prepared + (size_t) n * hp->n_head * in_k;
      task.in_row_k = in_k;
      task.in_row_v = in_v;
      task.cpu = cpu;
      task.t0 = t0;
      if (cq != NULL)
        {
          uint8_t *pq = task.prep_v + (size_t) n * hp->n_head * in_v;

          ponder_matmul_prepare_input (l->wq_b.kernel, cq + (size_t) t0 * hp->q_lora_rank,
                                       hp->q_lora_rank, hp->q_lora_rank, n, pq);
          task.prep_q = pq;
        }
      /* blocks of heads share each latent row read; about two blocks per
       * thread keep the threads balanced */
      task.block = (task.H + 2 * (uint32_t) nth - 1) / (2 * (uint32_t) nth);
      if (task.block > MLA_MAX_BLOCK)
        task.block = MLA_MAX_BLOCK;
      if (task.block == 0)
        task.block = 1;
      task.n_blocks = (task.H + task.block - 1) / task.block;
      task.use_avx2 = cpu->have_avx2 && task.c % 8 == 0 && task.rope % 8 == 0
                      && (cache->type == PONDER_KV_F32 || cpu->have_f16c);
      atomic_store (&task.next, 0);
      ponder_threadpool_run (cpu->pool, mla_task, &task);
    }
}
