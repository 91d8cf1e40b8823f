/* backend-cpu.c: the CPU implementation of backend.h.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Matrix products split the weight rows across the pool's threads: the
 * activations are converted once into the kernel's input format
 * (ponder_matmul_prepare_input) and every thread then runs
 * ponder_matmul_rows over its own rows, so each weight byte is read by one
 * thread once per batch. Attention is split over (token, head) pairs. The
 * cheap element-wise ops run on the calling thread except swiglu, whose
 * exponentials are worth spreading at decode time. Nothing is allocated per
 * op: the prepared-input scratch is sized at creation.
 */
#include "backend.h"

#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "backend-cpu-private.h"
#include "error.h"
#include "quant.h"
#include "threadpool.h"


/* ---- Matrix product ---------------------------------------------------- */

/* Products that share one input (Q, K and V; gate and up) run as one job:
 * fewer synchronisations per token, and the small K/V matrices no longer
 * leave threads idle. Rows are handed out in chunks from atomic counters
 * rather than split statically, so a thread slowed by its neighbour on a
 * shared core does not hold everyone up at the barrier. Each thread first
 * takes the chunks of its own contiguous range in order, so the kernels'
 * prefetch, which runs 4 KiB past the current row, warms the thread's next
 * chunk instead of one another thread is reading; then it takes what is
 * left of the other ranges. */
#define MAX_RANGES 64

typedef struct
{
  atomic_size_t next;
  size_t        end;
  char          pad[64 - sizeof (atomic_size_t) - sizeof (size_t)]; /* a line each */
} ChunkRange;

typedef struct
{
  const PonderWeight *w[PONDER_MATMUL_MAX_MULTI];
  float              *y[PONDER_MATMUL_MAX_MULTI];
  const uint8_t      *prepared[PONDER_MATMUL_MAX_MULTI];
  size_t              in_row_bytes[PONDER_MATMUL_MAX_MULTI];
  bool                prepare[PONDER_MATMUL_MAX_MULTI]; /* first user of its slot */
  size_t              chunk_start[PONDER_MATMUL_MAX_MULTI + 1]; /* prefix sums of chunks */
  size_t              chunk_rows;
  uint32_t            n;
  const float        *x;
  size_t              x_stride;
  uint32_t            n_tokens;
  int                 n_ranges;
  ChunkRange          ranges[MAX_RANGES];
} MatmulTask;

static void
prepare_task (void *data,
              int   ith,
              int   nth)
{
  MatmulTask *task = data;
  size_t begin, end;

  ponder_split_range (task->n_tokens, ith, nth, &begin, &end);
  if (begin >= end)
    return;
  for (uint32_t j = 0; j < task->n; j++)
    if (task->prepare[j])
      ponder_matmul_prepare_input (task->w[j]->kernel, task->x + begin * task->x_stride,
                                   task->x_stride, task->w[j]->n_in, end - begin,
                                   (uint8_t *) task->prepared[j]
                                   + begin * task->in_row_bytes[j]);
}

static void
run_chunk (MatmulTask *task,
           size_t      c)
{
  uint32_t j = 0;
  size_t begin, end;

  while (c >= task->chunk_start[j + 1])
    j++;
  begin = (c - task->chunk_start[j]) * task->chunk_rows;
  end = begin + task->chunk_rows;
  if (end > task->w[j]->n_out)
    end = task->w[j]->n_out;
  ponder_matmul_rows (task->w[j]->kernel, task->w[j]->data, task->w[j]->n_in, begin, end,
                      task->prepared[j], task->n_tokens, task->y[j], task->w[j]->n_out);
}

static void
rows_task (void *data,
           int   ith,
           int   nth)
{
  MatmulTask *task = data;
  int own = ith % task->n_ranges;

  (void) nth;
  for (int k = 0; k < task->n_ranges; k++)
    {
      ChunkRange *range = &task->ranges[(own + k) % task->n_ranges];
      size_t c;

      while ((c = atomic_fetch_add_explicit (&range->next, 1, memory_order_relaxed))
             < range->end)
        run_chunk (task, c);
    }
}

static void
run_matmul_batch (CpuBackend  *cpu,
                  MatmulTask  *task)
{
  int nth = ponder_threadpool_size (cpu->pool);
  size_t total_rows = 0, total;

  for (uint32_t j = 0; j < task->n; j++)
    total_rows += task->w[j]->n_out;
  /* About 32 chunks per thread, in multiples of 16 rows: a thread runs its
   * own chunks back to back, so small ones cost no cold start, and the last
   * chunk, which can leave the other threads waiting, stays short (the
   * 151936-row output head: 3 MB instead of 12). */
  task->chunk_rows = (total_rows / ((size_t) nth * 32) + 15) / 16 * 16;
  if (task->chunk_rows < 16)
    task->chunk_rows = 16;
  task->chunk_start[0] = 0;
  for (uint32_t j = 0; j < task->n; j++)
    task->chunk_start[j + 1] = task->chunk_start[j]
                               + (task->w[j]->n_out + task->chunk_rows - 1) / task->chunk_rows;
  total = task->chunk_start[task->n];
  task->n_ranges = nth < MAX_RANGES ? nth : MAX_RANGES;
  for (int i = 0; i < task->n_ranges; i++)
    {
      size_t begin, end;

      ponder_split_range (total, i, task->n_ranges, &begin, &end);
      atomic_store_explicit (&task->ranges[i].next, begin, memory_order_relaxed);
      task->ranges[i].end = end;
    }
  if (task->n_tokens >= 4 && nth > 1)
    ponder_threadpool_run (cpu->pool, prepare_task, task);
  else
    prepare_task (task, 0, 1);
  ponder_threadpool_run (cpu->pool, rows_task, task);
}

static void
cpu_matmul_multi (PonderBackend       *be,
                  uint32_t             n_weights,
                  const PonderWeight **w,
                  const float         *x,
                  uint32_t             n_tokens,
                  float              **y)
{
  CpuBackend *cpu = (CpuBackend *) be;
  size_t slot_bytes = cpu->prepared_bytes / PONDER_MATMUL_MAX_MULTI;
  uint32_t chunk = n_tokens;
  MatmulTask task;

  memset (&task, 0, sizeof task);
  task.n = n_weights;
  task.x_stride = w[0]->n_in;
  for (uint32_t j = 0; j < n_weights; j++)
    {
      uint32_t fits;

      task.w[j] = w[j];
      task.in_row_bytes[j] = ponder_matmul_input_row_bytes (w[j]->kernel, w[j]->n_in);
      fits = task.in_row_bytes[j] > 0 ? (uint32_t) (slot_bytes / task.in_row_bytes[j]) : chunk;
      if (fits < chunk)
        chunk = fits > 0 ? fits : 1; /* 0 cannot happen: slots hold max_n_in floats */
      /* Weights with the same kernel share one prepared input. */
      task.prepared[j] = cpu->prepared + j * slot_bytes;
      task.prepare[j] = true;
      for (uint32_t i = 0; i < j; i++)
        if (w[i]->kernel == w[j]->kernel)
          {
            task.prepared[j] = task.prepared[i];
            task.prepare[j] = false;
            break;
          }
    }
  for (uint32_t t0 = 0; t0 < n_tokens; t0 += chunk)
    {
      task.x = x + (size_t) t0 * task.x_stride;
      task.n_tokens = n_tokens - t0 < chunk ? n_tokens - t0 : chunk;
      for (uint32_t j = 0; j < n_weights; j++)
        task.y[j] = y[j] + (size_t) t0 * w[j]->n_out;
      run_matmul_batch (cpu, &task);
    }
}

static void
cpu_matmul (PonderBackend      *be,
            const PonderWeight *w,
            const float        *x,
            uint32_t            n_tokens,
            float              *y)
{
  cpu_matmul_multi (be, 1, &w, x, n_tokens, &y);
}

/* ---- Element-wise ops -------------------------------------------------- */

static void
cpu_embed (PonderBackend      *be,
           const PonderWeight *table,
           const int32_t      *ids,
           uint32_t            n_tokens,
           float              *out)
{
  for (uint32_t t = 0; t < n_tokens; t++)
    ponder_dequantize_row ((PonderType) table->type,
                           table->data + (size_t) ids[t] * table->row_bytes,
                           out + (size_t) t * table->n_in, table->n_in);
}

static void
cpu_rmsnorm (PonderBackend *be,
             const float   *x,
             const float   *w,
             uint32_t       n_rows,
             uint32_t       n,
             float          eps,
             float         *out)
{
  for (uint32_t r = 0; r < n_rows; r++)
    {
      const float *xr = x + (size_t) r * n;
      float *yr = out + (size_t) r * n;
      double sum = 0.0;
      float scale;

      for (uint32_t i = 0; i < n; i++)
        sum += (double) xr[i] * xr[i];
      scale = (float) (1.0 / sqrt (sum / n + eps));
      for (uint32_t i = 0; i < n; i++)
        yr[i] = w[i] * (xr[i] * scale);
    }
}

static void
cpu_add_bias (PonderBackend *be,
              float         *y,
              const float   *bias,
              uint32_t       n_rows,
              uint32_t       n)
{
  for (uint32_t r = 0; r < n_rows; r++)
    for (uint32_t i = 0; i < n; i++)
      y[(size_t) r * n + i] += bias[i];
}

static void
cpu_rope (PonderBackend    *be,
          float            *x,
          uint32_t          n_tokens,
          uint32_t          n_heads,
          uint32_t          head_dim,
          uint32_t          pos0,
          const PonderRope *rope)
{
  CpuBackend *cpu = (CpuBackend *) be;
  uint32_t half = rope->n_rot / 2;

  /* Every layer rotates q and k at the same positions: compute the angles
   * once per batch (in double, as positions times small frequencies lose
   * digits in float at long contexts). */
  if (cpu->rope_cs_rope != rope || cpu->rope_cs_pos0 != pos0 || cpu->rope_cs_n != n_tokens)
    {
      for (uint32_t t = 0; t < n_tokens; t++)
        for (uint32_t i = 0; i < half; i++)
          {
            double theta = (double) (pos0 + t) * rope->freq[i];
            cpu->rope_cs[((size_t) t * half + i) * 2] = (float) (cos (theta) * rope->mscale);
            cpu->rope_cs[((size_t) t * half + i) * 2 + 1] = (float) (sin (theta) * rope->mscale);
          }
      cpu->rope_cs_rope = rope;
      cpu->rope_cs_pos0 = pos0;
      cpu->rope_cs_n = n_tokens;
    }
  for (uint32_t t = 0; t < n_tokens; t++)
    {
      const float *cs = cpu->rope_cs + (size_t) t * half * 2; /* (half, 2) */

      for (uint32_t h = 0; h < n_heads; h++)
        {
          float *v = x + ((size_t) t * n_heads + h) * head_dim;
          /* NORM pairs (2i, 2i+1); NEOX pairs (i, i + n_rot/2). */
          size_t step = rope->pairing == PONDER_ROPE_NORM ? 2 : 1;
          size_t off = rope->pairing == PONDER_ROPE_NORM ? 1 : half;

          for (uint32_t i = 0; i < half; i++)
            {
              float *a = v + i * step;
              float x0 = a[0], x1 = a[off];

              a[0] = x0 * cs[2 * i] - x1 * cs[2 * i + 1];
              a[off] = x0 * cs[2 * i + 1] + x1 * cs[2 * i];
            }
        }
    }
}

static void
cpu_kv_store (PonderBackend       *be,
              const PonderKvCache *cache,
              PonderKvLayer       *kv,
              uint32_t             pos0,
              uint32_t             n_tokens,
              const float         *k,
              const float         *v)
{
  CpuBackend *cpu = (CpuBackend *) be;
  size_t nk = (size_t) n_tokens * cache->k_row, nv = (size_t) n_tokens * cache->v_row;

  if (cache->type == PONDER_KV_F16)
    {
      ponder_kv_to_f16 ((uint16_t *) kv->k + (size_t) pos0 * cache->k_row, k, nk,
                        cpu->have_f16c);
      if (nv > 0)
        ponder_kv_to_f16 ((uint16_t *) kv->v + (size_t) pos0 * cache->v_row, v, nv,
                          cpu->have_f16c);
      return;
    }
  memcpy ((float *) kv->k + (size_t) pos0 * cache->k_row, k, nk * sizeof (float));
  if (nv > 0)
    memcpy ((float *) kv->v + (size_t) pos0 * cache->v_row, v, nv * sizeof (float));
}

typedef struct
{
  float       *gate;
  const float *up;
  size_t       n;
} SwigluTask;

static void
swiglu_task (void *data,
             int   ith,
             int   nth)
{
  SwigluTask *task = data;
  size_t begin, end;

  ponder_split_range (task->n, ith, nth, &begin, &end);
  for (size_t i = begin; i < end; i++)
    {
      float g = task->gate[i];
      task->gate[i] = g / (1.0f + expf (-g)) * task->up[i];
    }
}

static void
cpu_swiglu (PonderBackend *be,
            float         *gate,
            const float   *up,
            size_t         n)
{
  CpuBackend *cpu = (CpuBackend *) be;
  SwigluTask task = { gate, up, n };

  if (n >= 4096)
    ponder_threadpool_run (cpu->pool, swiglu_task, &task);
  else
    swiglu_task (&task, 0, 1);
}

static void
cpu_add (PonderBackend *be,
         float         *x,
         const float   *y,
         size_t         n)
{
  for (size_t i = 0; i < n; i++)
    x[i] += y[i];
}

/* ---- Attention --------------------------------------------------------- */

typedef struct
{
  const float         *q;
  const PonderKvCache *cache;
  const PonderKvLayer *kv;
  uint32_t             pos0;
  uint32_t             n_tokens;
  uint32_t             n_head;
  uint32_t             n_head_kv;
  uint32_t             hd_k;
  uint32_t             hd_v;
  float                scale;
  float               *out;
  bool                 use_avx2; /* AVX2 and FMA, and F16C for an F16 cache */
} AttentionTask;

#define MAX_GROUP 16

/* The query heads [h0, h1) of one token, all sharing KV head kvh, with an
 * online softmax (Milakov & Gimelshein 2018): a running maximum m and
 * denominator l per head, rescaling the output accumulator when the maximum
 * grows, so scores are never stored. The heads of a GQA group go together
 * so that each cached K and V row is read from memory once per group, not
 * once per query head: at long contexts the KV reads rival the weights. */
static void
attend_group (const AttentionTask *task,
              uint32_t             t,
              uint32_t             kvh,
              uint32_t             h0,
              uint32_t             h1)
{
  bool f16 = task->cache->type == PONDER_KV_F16;
  size_t es = ponder_kv_type_size (task->cache->type);
  const char *k = (const char *) task->kv->k + (size_t) kvh * task->hd_k * es;
  const char *v = (const char *) task->kv->v + (size_t) kvh * task->hd_v * es;
  size_t k_row = task->cache->k_row * es, v_row = task->cache->v_row * es;
  uint32_t n_pos = task->pos0 + t + 1, n_g = h1 - h0, hd_v = task->hd_v;
  const float *q[MAX_GROUP];
  float *o[MAX_GROUP];
  float m[MAX_GROUP], l[MAX_GROUP];

  for (uint32_t g = 0; g < n_g; g++)
    {
      q[g] = task->q + ((size_t) t * task->n_head + h0 + g) * task->hd_k;
      o[g] = task->out + ((size_t) t * task->n_head + h0 + g) * hd_v;
      m[g] = -INFINITY;
      l[g] = 0.0f;
      memset (o[g], 0, hd_v * sizeof (float));
    }
  for (uint32_t s = 0; s < n_pos; s++)
    {
      const void *ks = k + s * k_row;
      const void *vs = v + s * v_row;

      for (uint32_t g = 0; g < n_g; g++)
        {
          float score = ponder_cpu_kv_dot (q[g], ks, task->hd_k, f16) * task->scale;
          float w, *og = o[g];

          if (score > m[g])
            {
              float c = expf (m[g] - score);
              l[g] *= c;
              for (uint32_t i = 0; i < hd_v; i++)
                og[i] *= c;
              m[g] = score;
            }
          w = expf (score - m[g]);
          l[g] += w;
          ponder_cpu_kv_axpy (og, w, vs, hd_v, f16);
        }
    }
  for (uint32_t g = 0; g < n_g; g++)
    for (uint32_t i = 0; i < hd_v; i++)
      o[g][i] /= l[g];
}

#if defined(__x86_64__) || defined(__i386__)
/* The same loop with 8-wide FMA for CPUs that have it (checked at run time;
 * the engine itself is built for the baseline ISA). hd_k and hd_v are
 * multiples of 8 for every model we bind; other sizes use the generic loop.
 * An F16 cache is widened with F16C as it is loaded: half the bytes from
 * memory, which is what decode at a long context waits for. */
#define AVX2_FN __attribute__ ((target ("avx2,fma,f16c")))

AVX2_FN static inline float
dot_avx2 (const float *a,
          const void  *b,
          uint32_t     n,
          bool         f16)
{
  __m256 acc0 = _mm256_setzero_ps (), acc1 = _mm256_setzero_ps ();
  __m128 lo;
  uint32_t i = 0;

  for (; i + 16 <= n; i += 16)
    {
      acc0 = _mm256_fmadd_ps (_mm256_loadu_ps (a + i), ponder_cpu_kv_load8 (b, i, f16), acc0);
      acc1 = _mm256_fmadd_ps (_mm256_loadu_ps (a + i + 8), ponder_cpu_kv_load8 (b, i + 8, f16),
                              acc1);
    }
  for (; i < n; i += 8)
    acc0 = _mm256_fmadd_ps (_mm256_loadu_ps (a + i), ponder_cpu_kv_load8 (b, i, f16), acc0);
  acc0 = _mm256_add_ps (acc0, acc1);
  lo = _mm_add_ps (_mm256_castps256_ps128 (acc0), _mm256_extractf128_ps (acc0, 1));
  lo = _mm_add_ps (lo, _mm_movehl_ps (lo, lo));
  lo = _mm_add_ss (lo, _mm_movehdup_ps (lo));
  return _mm_cvtss_f32 (lo);
}

/* Inlined into one function per cache type, so that the type is a
 * constant in the inner loops. */
AVX2_FN static inline __attribute__ ((always_inline)) void
attend_group_avx2 (const AttentionTask *task,
                   uint32_t             t,
                   uint32_t             kvh,
                   uint32_t             h0,
                   uint32_t             h1,
                   bool                 f16)
{
  size_t es = f16 ? sizeof (uint16_t) : sizeof (float);
  const char *k = (const char *) task->kv->k + (size_t) kvh * task->hd_k * es;
  const char *v = (const char *) task->kv->v + (size_t) kvh * task->hd_v * es;
  size_t k_row = task->cache->k_row * es, v_row = task->cache->v_row * es;
  uint32_t n_pos = task->pos0 + t + 1, n_g = h1 - h0, hd_v = task->hd_v;
  const float *q[MAX_GROUP];
  float *o[MAX_GROUP];
  float m[MAX_GROUP], l[MAX_GROUP];

  for (uint32_t g = 0; g < n_g; g++)
    {
      q[g] = task->q + ((size_t) t * task->n_head + h0 + g) * task->hd_k;
      o[g] = task->out + ((size_t) t * task->n_head + h0 + g) * hd_v;
      m[g] = -INFINITY;
      l[g] = 0.0f;
      memset (o[g], 0, hd_v * sizeof (float));
    }
  for (uint32_t s0 = 0; s0 < n_pos; s0 += PONDER_CPU_SCORE_BLOCK)
    {
      uint32_t nb = n_pos - s0 < PONDER_CPU_SCORE_BLOCK ? n_pos - s0 : PONDER_CPU_SCORE_BLOCK;
      const char *kb = k + s0 * k_row, *vb = v + s0 * v_row;

      for (uint32_t g = 0; g < n_g; g++)
        {
          float score[PONDER_CPU_SCORE_BLOCK], w[PONDER_CPU_SCORE_BLOCK];
          float block_max = -INFINITY;
          float *og = o[g];
          __m256 wv;

          for (uint32_t j = 0; j < PONDER_CPU_SCORE_BLOCK; j++)
            {
              score[j] = j < nb ? dot_avx2 (q[g], kb + j * k_row, task->hd_k, f16) * task->scale
                                : -INFINITY;
              block_max = score[j] > block_max ? score[j] : block_max;
            }
          if (block_max > m[g])
            {
              __m256 c = _mm256_set1_ps (expf (m[g] - block_max));

              l[g] *= _mm256_cvtss_f32 (c);
              for (uint32_t i = 0; i < hd_v; i += 8)
                _mm256_storeu_ps (og + i, _mm256_mul_ps (_mm256_loadu_ps (og + i), c));
              m[g] = block_max;
            }
          wv = ponder_cpu_exp8_nonpositive (_mm256_sub_ps (_mm256_loadu_ps (score),
                                                           _mm256_set1_ps (m[g])));
          _mm256_storeu_ps (w, wv);
          l[g] += ponder_cpu_hsum8 (wv);
          for (uint32_t i = 0; i < hd_v; i += 8)
            {
              __m256 acc = _mm256_loadu_ps (og + i);

              for (uint32_t j = 0; j < nb; j++)
                acc = _mm256_fmadd_ps (_mm256_set1_ps (w[j]),
                                       ponder_cpu_kv_load8 (vb + j * v_row, i, f16), acc);
              _mm256_storeu_ps (og + i, acc);
            }
        }
    }
  for (uint32_t g = 0; g < n_g; g++)
    for (uint32_t i = 0; i < hd_v; i++)
      o[g][i] /= l[g];
}

AVX2_FN static void
attend_group_avx2_f32 (const AttentionTask *task,
                       uint32_t             t,
                       uint32_t             kvh,
                       uint32_t             h0,
                       uint32_t             h1)
{
  attend_group_avx2 (task, t, kvh, h0, h1, false);
}

AVX2_FN static void
attend_group_avx2_f16 (const AttentionTask *task,
                       uint32_t             t,
                       uint32_t             kvh,
                       uint32_t             h0,
                       uint32_t             h1)
{
  attend_group_avx2 (task, t, kvh, h0, h1, true);
}
#endif

/* Work items are (token, KV head, slice of its query heads); a group is
 * sliced only as much as needed to give every thread something to do. */
static void
attention_task (void *data,
                int   ith,
                int   nth)
{
  AttentionTask *task = data;
  uint32_t group = task->n_head / task->n_head_kv;
  uint32_t per_token = task->n_tokens * task->n_head_kv;
  uint32_t n_slices = per_token >= (uint32_t) nth
                      ? 1 : ((uint32_t) nth + per_token - 1) / per_token;
  size_t begin, end;

  if (n_slices > group)
    n_slices = group;
  while ((group + n_slices - 1) / n_slices > MAX_GROUP)
    n_slices++;
  ponder_split_range ((size_t) per_token * n_slices, ith, nth, &begin, &end);
  for (size_t item = begin; item < end; item++)
    {
      uint32_t slice = (uint32_t) (item % n_slices);
      uint32_t kvh = (uint32_t) (item / n_slices % task->n_head_kv);
      uint32_t t = (uint32_t) (item / n_slices / task->n_head_kv);
      size_t h0, h1;

      ponder_split_range (group, (int) slice, (int) n_slices, &h0, &h1);
      if (h0 >= h1)
        continue;
#if defined(__x86_64__) || defined(__i386__)
      if (task->use_avx2)
        {
          (task->cache->type == PONDER_KV_F16 ? attend_group_avx2_f16 : attend_group_avx2_f32)
            (task, t, kvh, kvh * group + (uint32_t) h0, kvh * group + (uint32_t) h1);
          continue;
        }
#endif
      attend_group (task, t, kvh, kvh * group + (uint32_t) h0, kvh * group + (uint32_t) h1);
    }
}

static void
cpu_attention (PonderBackend       *be,
               const float         *q,
               const PonderKvCache *cache,
               const PonderKvLayer *kv,
               uint32_t             pos0,
               uint32_t             n_tokens,
               uint32_t             n_head,
               uint32_t             n_head_kv,
               uint32_t             hd_k,
               uint32_t             hd_v,
               float                scale,
               float               *out)
{
  CpuBackend *cpu = (CpuBackend *) be;
  AttentionTask task = { q, cache, kv, pos0, n_tokens, n_head, n_head_kv, hd_k, hd_v, scale,
                         out, cpu->have_avx2 && hd_k % 8 == 0 && hd_v % 8 == 0
                              && (cache->type == PONDER_KV_F32 || cpu->have_f16c) };

  ponder_threadpool_run (cpu->pool, attention_task, &task);
}

/* ---- Lifetime ---------------------------------------------------------- */

static float *
cpu_alloc_activations (PonderBackend *be,
                       size_t         n)
{
  CpuBackend *cpu = (CpuBackend *) be;
  void **list = realloc (cpu->allocations, (cpu->n_allocations + 1) * sizeof *list);
  float *buf;

  if (list == NULL)
    return NULL;
  cpu->allocations = list;
  buf = calloc (n ? n : 1, sizeof (float));
  if (buf != NULL)
    cpu->allocations[cpu->n_allocations++] = buf;
  return buf;
}

static void
cpu_free (PonderBackend *be)
{
  CpuBackend *cpu = (CpuBackend *) be;

  if (cpu == NULL)
    return;
  for (size_t i = 0; i < cpu->n_allocations; i++)
    free (cpu->allocations[i]);
  free (cpu->allocations);
  ponder_cpu_moe_free (cpu);
  free (cpu->prepared);
  free (cpu->rope_cs);
  free (cpu);
}

PonderStatus
ponder_backend_cpu_new (PonderThreadpool *pool,
                        uint32_t          max_tokens,
                        size_t            max_n_in,
                        PonderBackend   **out_backend,
                        PonderError      *error)
{
  CpuBackend *cpu = calloc (1, sizeof *cpu);

  *out_backend = NULL;
  if (cpu == NULL)
    return ponder_error_set (error, PONDER_ERROR_NO_MEMORY, "out of memory for the CPU backend");
  cpu->base.name = "cpu";
  cpu->base.kv_types = PONDER_KV_TYPE_BIT (PONDER_KV_F16) | PONDER_KV_TYPE_BIT (PONDER_KV_F32);
  cpu->base.free = cpu_free;
  cpu->base.alloc_activations = cpu_alloc_activations;
  cpu->base.embed = cpu_embed;
  cpu->base.rmsnorm = cpu_rmsnorm;
  cpu->base.matmul = cpu_matmul;
  cpu->base.matmul_multi = cpu_matmul_multi;
  cpu->base.add_bias = cpu_add_bias;
  cpu->base.rope = cpu_rope;
  cpu->base.kv_store = cpu_kv_store;
  cpu->base.attention = cpu_attention;
  cpu->base.swiglu = cpu_swiglu;
  cpu->base.add = cpu_add;
  cpu->base.matmul_slices = ponder_cpu_matmul_slices;
  cpu->base.moe = ponder_cpu_moe;
  cpu->base.mla_attention = ponder_cpu_mla_attention;
  cpu->pool = pool;
  cpu->max_n_in = max_n_in;
  /* The widest input format is F32 (4 bytes per element); block formats
   * are smaller. A little slack covers per-row headers. Slots start on
   * cache lines, where the kernels' activation loads do not straddle two. */
  cpu->prepared_bytes = PONDER_MATMUL_MAX_MULTI
                        * (((size_t) max_tokens * (max_n_in * sizeof (float) + 256) + 63)
                           / 64 * 64);
  cpu->prepared = aligned_alloc (64, cpu->prepared_bytes);
  cpu->max_tokens = max_tokens;
#if defined(__x86_64__) || defined(__i386__)
  cpu->have_avx2 = __builtin_cpu_supports ("avx2") && __builtin_cpu_supports ("fma");
#endif
  cpu->have_f16c = ponder_kv_have_f16c ();
  cpu->rope_cs = calloc ((size_t) max_tokens * max_n_in + 2, sizeof (float));
  if (cpu->prepared == NULL || cpu->rope_cs == NULL)
    {
      cpu_free (&cpu->base);
      return ponder_error_set (error, PONDER_ERROR_NO_MEMORY,
                               "out of memory for %zu bytes of matmul scratch",
                               (size_t) max_tokens * max_n_in * sizeof (float));
    }
  *out_backend = &cpu->base;
  return PONDER_OK;
}
