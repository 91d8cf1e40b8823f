/* threadpool.c: spin-then-sleep worker pool.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A decoded token runs a few hundred short parallel ops, so waking helpers
 * through a condition variable each time would cost more than the ops.
 * Helpers therefore spin on a generation counter for a while after each job
 * and only then sleep; the dispatcher takes the mutex only when someone
 * sleeps. All shared counters are sequentially consistent atomics, which is
 * what makes the "n_sleeping" check race-free: either the dispatcher sees
 * the sleeper, or the sleeper sees the new generation.
 */
#include "threadpool.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "error.h"

#define SPIN_ITERATIONS 100000
/* With more threads than free cores, a spinning thread may hold the core
 * that the thread it waits for needs; yielding now and then bounds that. */
#define SPIN_YIELD_EVERY 256

typedef struct
{
  PonderThreadpool *pool;
  int               ith;
} Worker;

struct PonderThreadpool
{
  int             n_threads;
  pthread_t      *threads;    /* (n_threads - 1) */
  Worker         *workers;    /* (n_threads - 1) */
  int             n_started;
  PonderTaskFunc  fn;
  void           *data;
  atomic_uint     generation;
  atomic_int      pending;
  atomic_int      n_sleeping;
  atomic_bool     stop;
  pthread_mutex_t mutex;
  pthread_cond_t  cond;
};

static inline void
cpu_relax (void)
{
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause ();
#endif
}

static bool
wait_for_job (PonderThreadpool *pool,
              unsigned          seen)
{
  for (int i = 0; i < SPIN_ITERATIONS; i++)
    {
      if (atomic_load (&pool->generation) != seen || atomic_load (&pool->stop))
        return !atomic_load (&pool->stop);
      if (i % SPIN_YIELD_EVERY == SPIN_YIELD_EVERY - 1)
        sched_yield ();
      else
        cpu_relax ();
    }
  pthread_mutex_lock (&pool->mutex);
  atomic_fetch_add (&pool->n_sleeping, 1);
  while (atomic_load (&pool->generation) == seen && !atomic_load (&pool->stop))
    pthread_cond_wait (&pool->cond, &pool->mutex);
  atomic_fetch_sub (&pool->n_sleeping, 1);
  pthread_mutex_unlock (&pool->mutex);
  return !atomic_load (&pool->stop);
}

static void *
worker_main (void *arg)
{
  Worker *w = arg;
  PonderThreadpool *pool = w->pool;
  unsigned seen = 0;

  while (wait_for_job (pool, seen))
    {
      seen = atomic_load (&pool->generation);
      pool->fn (pool->data, w->ith, pool->n_threads);
      atomic_fetch_sub (&pool->pending, 1);
    }
  return NULL;
}

PonderStatus
ponder_threadpool_new (int                n_threads,
                       PonderThreadpool **out_pool,
                       PonderError       *error)
{
  PonderThreadpool *pool;

  *out_pool = NULL;
  if (n_threads < 1 || n_threads > 1024)
    return ponder_error_set (error, PONDER_ERROR_INVALID_ARGUMENT,
                             "thread count %d out of range [1, 1024]", n_threads);
  pool = calloc (1, sizeof *pool);
  if (pool == NULL)
    return ponder_error_set (error, PONDER_ERROR_NO_MEMORY, "out of memory for a thread pool");
  pool->n_threads = n_threads;
  pthread_mutex_init (&pool->mutex, NULL);
  pthread_cond_init (&pool->cond, NULL);
  pool->threads = calloc ((size_t) n_threads, sizeof *pool->threads);
  pool->workers = calloc ((size_t) n_threads, sizeof *pool->workers);
  if (pool->threads == NULL || pool->workers == NULL)
    {
      ponder_threadpool_free (pool);
      return ponder_error_set (error, PONDER_ERROR_NO_MEMORY, "out of memory for a thread pool");
    }
  for (int i = 1; i < n_threads; i++)
    {
      pool->workers[i - 1].pool = pool;
      pool->workers[i - 1].ith = i;
      if (pthread_create (&pool->threads[i - 1], NULL, worker_main, &pool->workers[i - 1]) != 0)
        {
          ponder_threadpool_free (pool);
          return ponder_error_set (error, PONDER_ERROR_NO_MEMORY,
                                   "could not start worker thread %d of %d", i, n_threads);
        }
      pool->n_started++;
    }
  *out_pool = pool;
  return PONDER_OK;
}

void
ponder_threadpool_free (PonderThreadpool *pool)
{
  if (pool == NULL)
    return;
  pthread_mutex_lock (&pool->mutex);
  atomic_store (&pool->stop, true);
  pthread_cond_broadcast (&pool->cond);
  pthread_mutex_unlock (&pool->mutex);
  for (int i = 0; i < pool->n_started; i++)
    pthread_join (pool->threads[i], NULL);
  pthread_mutex_destroy (&pool->mutex);
  pthread_cond_destroy (&pool->cond);
  free (pool->threads);
  free (pool->workers);
  free (pool);
}

int
ponder_threadpool_size (const PonderThreadpool *pool)
{
  return pool->n_threads;
}

void
ponder_threadpool_run (PonderThreadpool *pool,
                       PonderTaskFunc    fn,
                       void             *data)
{
  int spins = 0;

  if (pool->n_threads == 1)
    {
      fn (data, 0, 1);
      return;
    }
  pool->fn = fn;
  pool->data = data;
  atomic_store (&pool->pending, pool->n_threads - 1);
  atomic_fetch_add (&pool->generation, 1);
  if (atomic_load (&pool->n_sleeping) > 0)
    {
      pthread_mutex_lock (&pool->mutex);
      pthread_cond_broadcast (&pool->cond);
      pthread_mutex_unlock (&pool->mutex);
    }
  fn (data, 0, pool->n_threads);
  while (atomic_load (&pool->pending) > 0)
    {
      if (++spins % SPIN_YIELD_EVERY == 0)
        sched_yield ();
      else
        cpu_relax ();
    }
}

void
ponder_split_range (size_t  n,
                    int     ith,
                    int     nth,
                    size_t *begin,
                    size_t *end)
{
  *begin = n * (size_t) ith / (size_t) nth;
  *end = n * (size_t) (ith + 1) / (size_t) nth;
}
