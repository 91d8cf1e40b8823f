/* bandwidth.c: measures the machine's memory read bandwidth the way
 * benchmarks.md states it: N threads (default 2) summing a 1 GiB buffer.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Usage: bandwidth [THREADS] [MIB] [REPEATS]
 * Prints one JSON object: {"threads": N, "bytes": B, "best_gbps": X, "median_gbps": Y}
 * (GB = 1e9 bytes). The sum is printed too so the compiler cannot drop the reads.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct
{
  const uint64_t *data;  /* (n) */
  size_t          n;
  uint64_t        sum;
} Slice;

static void *
sum_slice (void *arg)
{
  Slice *slice = arg;
  /* Four independent accumulators so the loop is bound by loads, not by
   * the latency of one add chain. */
  uint64_t a = 0, b = 0, c = 0, d = 0;
  size_t i;

  for (i = 0; i + 4 <= slice->n; i += 4)
    {
      a += slice->data[i];
      b += slice->data[i + 1];
      c += slice->data[i + 2];
      d += slice->data[i + 3];
    }
  for (; i < slice->n; i++)
    a += slice->data[i];
  slice->sum = a + b + c + d;
  return NULL;
}

static double
now_s (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int
compare_double (const void *x, const void *y)
{
  double a = *(const double *) x, b = *(const double *) y;

  return (a > b) - (a < b);
}

int
main (int argc, char **argv)
{
  int n_threads = argc > 1 ? atoi (argv[1]) : 2;
  size_t mib = argc > 2 ? strtoul (argv[2], NULL, 10) : 1024;
  int repeats = argc > 3 ? atoi (argv[3]) : 7;
  size_t n_words, per_thread;
  uint64_t *buffer;       /* (n_words) */
  pthread_t *threads;     /* (n_threads) */
  Slice *slices;          /* (n_threads) */
  double *rates;          /* (repeats) */
  uint64_t total = 0;
  size_t i;
  int r, t;

  if (n_threads < 1 || n_threads > 256 || mib < 1 || repeats < 1 || repeats > 100)
    {
      fprintf (stderr, "usage: bandwidth [THREADS] [MIB] [REPEATS]\n");
      return 2;
    }
  n_words = mib * 1024 * 1024 / sizeof (uint64_t);
  per_thread = n_words / n_threads;
  buffer = malloc (n_words * sizeof (uint64_t));
  threads = calloc (n_threads, sizeof (pthread_t));
  slices = calloc (n_threads, sizeof (Slice));
  rates = calloc (repeats, sizeof (double));
  if (buffer == NULL || threads == NULL || slices == NULL || rates == NULL)
    {
      fprintf (stderr, "bandwidth: out of memory\n");
      return 1;
    }
  /* Touch every page first so the timing does not include page faults. */
  for (i = 0; i < n_words; i++)
    buffer[i] = i * 0x9E3779B97F4A7C15ull;

  for (r = 0; r < repeats; r++)
    {
      double t0 = now_s (), dt;

      for (t = 0; t < n_threads; t++)
        {
          slices[t].data = buffer + t * per_thread;
          slices[t].n = per_thread;
          pthread_create (&threads[t], NULL, sum_slice, &slices[t]);
        }
      for (t = 0; t < n_threads; t++)
        {
          pthread_join (threads[t], NULL);
          total += slices[t].sum;
        }
      dt = now_s () - t0;
      rates[r] = per_thread * n_threads * sizeof (uint64_t) / dt / 1e9;
    }
  qsort (rates, repeats, sizeof (double), compare_double);
  printf ("{\"threads\": %d, \"bytes\": %zu, \"best_gbps\": %.2f, \"median_gbps\": %.2f, "
          "\"checksum\": %llu}\n",
          n_threads, per_thread * n_threads * sizeof (uint64_t), rates[repeats - 1],
          rates[repeats / 2], (unsigned long long) (total & 0xffff));
  free (rates);
  free (slices);
  free (threads);
  free (buffer);
  return 0;
}
