/* threadpool.h: a fixed pool of worker threads for data-parallel ops.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The calling thread is worker 0 and the pool has n_threads - 1 helpers.
 * ponder_threadpool_run() hands one function to every worker and returns
 * when all are done. Helpers spin briefly between jobs (decode issues a job
 * every few microseconds) and then sleep on a condition variable.
 */
#pragma once

#include "ponder-engine.h"

typedef struct PonderThreadpool PonderThreadpool;

/* fn is called once per worker with ith in [0, nth). */
typedef void (*PonderTaskFunc) (void *data, int ith, int nth);

PonderStatus ponder_threadpool_new  (int                n_threads,
                                     PonderThreadpool **out_pool,
                                     PonderError       *error);
void         ponder_threadpool_free (PonderThreadpool  *pool);
int          ponder_threadpool_size (const PonderThreadpool *pool);
void         ponder_threadpool_run  (PonderThreadpool  *pool,
                                     PonderTaskFunc     fn,
                                     void              *data);

/* Splits [0, n) into nth nearly equal ranges; range ith is [*begin, *end). */
void         ponder_split_range     (size_t n, int ith, int nth, size_t *begin, size_t *end);
