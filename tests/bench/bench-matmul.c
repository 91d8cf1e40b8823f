/* bench-matmul.c: weight-read bandwidth of ponder_matmul_rows.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Usage: bench-matmul [SECONDS_PER_CASE] [VARIANT] [TYPE] [hot]
 * For Q4_K, Q6_K, Q8_0, Q5_0 and the IQ types of R1's small quants (IQ1_S,
 * IQ1_M, IQ2_XXS, IQ3_XXS, IQ4_XS) weights of 8960 x 1536 (ffn up/gate of
 * R1-Distill-Qwen-1.5B) and 1536 x 8960 (ffn down), with 1 and 2 threads
 * (rows split in halves, the helper spinning between products as the
 * engine's pool does), prints GB/s of weight bytes
 * read (GB = 1e9) for 1 token and the time per token for 8 and 64 tokens
 * (prefill; best product of those run in SECONDS_PER_CASE). VARIANT (generic,
 * avx2, avx512) forces a kernel variant so that two can be compared side by
 * side on this noisy machine ("-" for the best one); TYPE ("IQ1_S", ...)
 * runs that type only. The
 * weights are many copies cycled through, together far larger than the last
 * level cache, in huge pages as the engine holds them, so the numbers are
 * DRAM reads, as in decoding. Weight bytes
 * are random with the f16 block scales set to 1/64. With "hot" one 1024 x
 * 1024 matrix is used over and over instead: it stays in the core's L2, so
 * the figure is the kernel's compute ceiling, which must sit well above the
 * DRAM figure for decode to be bandwidth-bound.
 */
#include "quant-private.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#define TOTAL_BYTES (512u << 20)  /* weights cycled through */

static bool hot;                  /* one small matrix, cache-resident */
#define MAX_THREADS 2
#define MAX_TOKENS  64        /* token counts 1, 8, 64: decode and prefill tiles */

typedef struct
{
  const PonderMatmulKernel *kernel;
  const uint8_t            *weight;
  size_t                    n;
  size_t                    rows;
  const void               *prepared;
  size_t                    n_tokens;
  float                    *y;         /* (n_tokens, rows) */
} Job;

/* The helper spins on a generation counter, as the engine's thread pool
 * does between the products of a token: a barrier's futex wake-up alone
 * takes longer than a small product. */
typedef struct
{
  atomic_uint       generation;
  atomic_uint       finished;
  Job               job;
  int               n_threads;
  int               quit;
} Pool;

typedef struct
{
  Pool *pool;
  int   index;
} Worker;

static void
run_slice (Pool *pool, int index)
{
  Job *job = &pool->job;
  size_t per = (job->rows + pool->n_threads - 1) / pool->n_threads;
  size_t begin = per * index;
  size_t end = begin + per < job->rows ? begin + per : job->rows;

  if (begin < end)
    ponder_matmul_rows (job->kernel, job->weight, job->n, begin, end, job->prepared,
                        job->n_tokens, job->y, job->rows);
}

static void
sched_yield_or_pause (void)
{
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause ();
#else
  sched_yield ();
#endif
}

static void *
worker_main (void *arg)
{
  Worker *w = arg;

  unsigned seen = 0;

  for (;;)
    {
      while (atomic_load (&w->pool->generation) == seen)
        sched_yield_or_pause ();
      seen = atomic_load (&w->pool->generation);
      if (w->pool->quit)
        return NULL;
      run_slice (w->pool, w->index);
      atomic_fetch_add (&w->pool->finished, 1);
    }
}

static double
now_s (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Offsets of the f16 scales in a block, set to a tame value so that the
 * float math runs on normal numbers. */
static void
fix_scales (PonderType type, uint8_t *data, size_t size, size_t block_bytes)
{
  int offs[2] = { -1, -1 };

  switch (type)
    {
    case PONDER_TYPE_Q4_K: offs[0] = 0; offs[1] = 2; break;
    case PONDER_TYPE_Q6_K: offs[0] = 208; break;
    case PONDER_TYPE_Q8_0:
    case PONDER_TYPE_Q5_0:
    case PONDER_TYPE_IQ1_S:
    case PONDER_TYPE_IQ2_XXS:
    case PONDER_TYPE_IQ3_XXS:
    case PONDER_TYPE_IQ4_XS: offs[0] = 0; break;
    case PONDER_TYPE_IQ1_M:
      /* The f16 scale is the top nibbles of the four u16 scale words
       * (bytes 49, 51, 53, 55): 0x2400 is 2^-6. */
      for (size_t b = 0; b + block_bytes <= size; b += block_bytes)
        for (int k = 0; k < 4; k++)
          data[b + 49 + 2 * k] = (uint8_t) ((data[b + 49 + 2 * k] & 15)
                                            | (((0x2400 >> (4 * k)) & 15) << 4));
      break;
    default: break;
    }
  for (size_t b = 0; b + block_bytes <= size; b += block_bytes)
    for (int k = 0; k < 2; k++)
      if (offs[k] >= 0)
        {
          data[b + offs[k]] = 0x00;
          data[b + offs[k] + 1] = 0x24;  /* 2^-6 */
        }
}

static void
bench_case (Pool *pool, PonderType type, const char *variant, size_t rows, size_t n,
            double seconds)
{
  const PonderMatmulKernel *kernel = variant ? ponder_matmul_kernel_variant_get (type, variant)
                                             : ponder_matmul_kernel (type);
  const PonderTypeInfo *info = ponder_type_info (type);
  uint64_t row_bytes;
  size_t matrix_bytes, n_copies;
  uint8_t *weights;
  float *x, *y;
  void *prepared;
  char line[384];
  int len = 0;

  if (kernel == NULL)
    return;
  ponder_type_row_bytes (type, n, &row_bytes);
  matrix_bytes = row_bytes * rows;
  n_copies = hot ? 1 : TOTAL_BYTES / matrix_bytes + 1;
  /* In huge pages, as the engine holds a CPU model's weights. */
  weights = aligned_alloc (2u << 20, (matrix_bytes * n_copies + (2u << 20) - 1)
                                     / (2u << 20) * (2u << 20));
  madvise (weights, matrix_bytes * n_copies, MADV_HUGEPAGE);
  srand (1);
  for (size_t i = 0; i < matrix_bytes * n_copies; i++)
    weights[i] = (uint8_t) (rand () >> 7);
  fix_scales (type, weights, matrix_bytes * n_copies, info->block_bytes);
  /* an interleaved kernel (variant "avx512-x8") reads rearranged weights */
  if (variant != NULL && strstr (variant, "-x8") != NULL)
    for (size_t c = 0; c < n_copies; c++)
      ponder_matmul_interleave (type, weights + c * matrix_bytes, n, rows);
  x = malloc (MAX_TOKENS * n * sizeof (float));
  for (size_t i = 0; i < MAX_TOKENS * n; i++)
    x[i] = (float) (rand () % 2001 - 1000) / 1000.0f;
  y = malloc (MAX_TOKENS * rows * sizeof (float));
  /* aligned as the CPU backend's scratch */
  prepared = aligned_alloc (64, (ponder_matmul_input_row_bytes (kernel, n) * MAX_TOKENS + 63)
                                / 64 * 64);

  len += snprintf (line + len, sizeof line - len, "%-7s %-7s %5zu x %5zu (%5.1f MB):",
                   info->name, ponder_matmul_kernel_variant (kernel), rows, n,
                   matrix_bytes / 1e6);
  for (int threads = 1; threads <= MAX_THREADS; threads++)
    for (size_t n_tokens = 1; n_tokens <= MAX_TOKENS; n_tokens *= 8)
      {
        size_t iters = 0;
        double t0, t1, elapsed, t_prep, best = 1e30;

        /* Preparing the input happens once per product, on one thread. */
        t0 = now_s ();
        for (int k = 0; k < 100; k++)
          ponder_matmul_prepare_input (kernel, x, n, n, n_tokens, prepared);
        t_prep = (now_s () - t0) / 100;
        pool->n_threads = threads;
        pool->job = (Job) { kernel, NULL, n, rows, prepared, n_tokens, y };
        /* The best product of many: this shared machine preempts us often,
         * and a preempted product says nothing about the kernel. */
        t0 = now_s ();
        do
          {
            unsigned finished = atomic_load (&pool->finished);

            pool->job.weight = weights + (iters % n_copies) * matrix_bytes;
            t1 = now_s ();
            if (threads > 1)
              atomic_fetch_add (&pool->generation, 1);
            run_slice (pool, 0);
            if (threads > 1)
              while (atomic_load (&pool->finished) == finished)
                sched_yield_or_pause ();
            t1 = now_s () - t1;
            best = t1 < best ? t1 : best;
            iters++;
            elapsed = now_s () - t0;
          }
        while (elapsed < seconds || iters < 3);
        if (n_tokens == 1)
          len += snprintf (line + len, sizeof line - len, "  %dT %5.1f GB/s (prep %4.1f us)",
                           threads, matrix_bytes / best / 1e9, t_prep * 1e6);
        else
          len += snprintf (line + len, sizeof line - len, "  %dT x%zu %5.1f us/tok", threads,
                           n_tokens, best / n_tokens * 1e6);
      }
  printf ("%s\n", line);
  fflush (stdout);
  free (weights);
  free (x);
  free (y);
  free (prepared);
}

int
main (int argc, char **argv)
{
  static const PonderType types[] = {
    PONDER_TYPE_Q4_K, PONDER_TYPE_Q6_K, PONDER_TYPE_Q8_0, PONDER_TYPE_Q5_0,
    PONDER_TYPE_IQ1_S, PONDER_TYPE_IQ1_M, PONDER_TYPE_IQ2_XXS, PONDER_TYPE_IQ3_XXS,
    PONDER_TYPE_IQ4_XS,
  };
  double seconds = argc > 1 ? atof (argv[1]) : 0.5;
  const char *variant = argc > 2 && strcmp (argv[2], "-") != 0 ? argv[2] : NULL;
  const char *only = argc > 3 && strcmp (argv[3], "-") != 0 ? argv[3] : NULL;
  Pool pool = { 0 };
  pthread_t thread;
  Worker worker = { &pool, 1 };

  hot = argc > 4 && strcmp (argv[4], "hot") == 0;

  /* One helper thread; with threads == 1 it spins on the other core. */
  pthread_create (&thread, NULL, worker_main, &worker);
  for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
    {
      if (only != NULL && strcmp (ponder_type_info (types[i])->name, only) != 0)
        continue;
      if (hot)
        {
          bench_case (&pool, types[i], variant, 1024, 1024, seconds);
          continue;
        }
      bench_case (&pool, types[i], variant, 8960, 1536, seconds);
      bench_case (&pool, types[i], variant, 1536, 8960, seconds);
    }
  pool.quit = 1;
  atomic_fetch_add (&pool.generation, 1);
  pthread_join (thread, NULL);
  return 0;
}
