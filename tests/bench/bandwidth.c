/* bandwidth.c: measures the machine's memory read bandwidth the way
 * benchmarks.md states it: N threads (default 2) summing a 1 GiB buffer.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Usage: bandwidth [THREADS] [MIB] [REPEATS]
 * Prints one JSON object: {"threads": N, "bytes": B, "best_gbps": X,
 * "median_gbps": Y, "median_gbps_4k": Z, "huge_pages": bool} (GB = 1e9
 * bytes). The buffer is asked to be in transparent huge pages, as the
 * engine puts a CPU model's weights (gguf-memory.c): with 4 KiB pages the
 * same reads run slower (25.5 against 33 GB/s on the 2-core VM), and a
 * bound taken from them would understate what the memory can give. The
 * 4 KiB figure is measured too and reported for comparison. The sum is
 * printed too so the compiler cannot drop the reads.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
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

#define HUGE_PAGE_BYTES ((size_t) 2 << 20)

/* Fills the buffer (so page faults are not timed) and sums it repeats
 * times; rates (repeats) sorted ascending. */
static uint64_t
measure (uint64_t *buffer, size_t n_words, int n_threads, int repeats, pthread_t *threads,
         Slice *slices, double *rates)
{
  size_t per_thread = n_words / n_threads;
  uint64_t total = 0;

  for (size_t i = 0; i < n_words; i++)
    buffer[i] = i * 0x9E3779B97F4A7C15ull;
  for (int r = 0; r < repeats; r++)
    {
      double t0 = now_s (), dt;

      for (int t = 0; t < n_threads; t++)
        {
          slices[t].data = buffer + t * per_thread;
          slices[t].n = per_thread;
          pthread_create (&threads[t], NULL, sum_slice, &slices[t]);
        }
      for (int t = 0; t < n_threads; t++)
        {
          pthread_join (threads[t], NULL);
          total += slices[t].sum;
        }
      dt = now_s () - t0;
      rates[r] = per_thread * n_threads * sizeof (uint64_t) / dt / 1e9;
    }
  qsort (rates, repeats, sizeof (double), compare_double);
  return total;
}

/* bytes, rounded up to whole huge pages, on their grid, with the page-size
 * advice given (MADV_HUGEPAGE or MADV_NOHUGEPAGE), or NULL. */
static uint64_t *
alloc_buffer (size_t bytes, int advice)
{
  size_t rounded = (bytes + HUGE_PAGE_BYTES - 1) / HUGE_PAGE_BYTES * HUGE_PAGE_BYTES;
  uint64_t *buffer = aligned_alloc (HUGE_PAGE_BYTES, rounded);

  if (buffer != NULL)
    madvise (buffer, rounded, advice);
  return buffer;
}

/* Whether any of [p, p + bytes) is backed by huge pages, from
 * /proc/self/smaps (AnonHugePages of the mappings that overlap it). */
static bool
has_huge_pages (const void *p, size_t bytes)
{
  char line[512];
  unsigned long long lo = 0, hi = 0, kib;
  bool inside = false, found = false;
  FILE *f = fopen ("/proc/self/smaps", "r");

  if (f == NULL)
    return false;
  while (fgets (line, sizeof line, f) != NULL)
    {
      if (sscanf (line, "%llx-%llx ", &lo, &hi) == 2)
        inside = lo < (uintptr_t) p + bytes && hi > (uintptr_t) p;
      else if (inside && sscanf (line, "AnonHugePages: %llu kB", &kib) == 1 && kib > 0)
        found = true;
    }
  fclose (f);
  return found;
}

int
main (int argc, char **argv)
{
  int n_threads = argc > 1 ? atoi (argv[1]) : 2;
  size_t mib = argc > 2 ? strtoul (argv[2], NULL, 10) : 1024;
  int repeats = argc > 3 ? atoi (argv[3]) : 7;
  size_t n_words, per_thread;
  uint64_t *small_pages;  /* (n_words) in 4 KiB pages */
  uint64_t *huge;         /* (n_words) in huge pages */
  pthread_t *threads;     /* (n_threads) */
  Slice *slices;          /* (n_threads) */
  double *rates;          /* (repeats) huge pages */
  double *rates_4k;       /* (repeats) */
  uint64_t total = 0;

  if (n_threads < 1 || n_threads > 256 || mib < 1 || repeats < 1 || repeats > 100)
    {
      fprintf (stderr, "usage: bandwidth [THREADS] [MIB] [REPEATS]\n");
      return 2;
    }
  n_words = mib * 1024 * 1024 / sizeof (uint64_t);
  per_thread = n_words / n_threads;
  threads = calloc (n_threads, sizeof (pthread_t));
  slices = calloc (n_threads, sizeof (Slice));
  rates = calloc (repeats, sizeof (double));
  rates_4k = calloc (repeats, sizeof (double));
  /* one buffer at a time, so the run needs MIB of memory, not twice that */
  small_pages = alloc_buffer (n_words * sizeof (uint64_t), MADV_NOHUGEPAGE);
  if (small_pages == NULL || threads == NULL || slices == NULL || rates == NULL
      || rates_4k == NULL)
    {
      fprintf (stderr, "bandwidth: out of memory\n");
      return 1;
    }
  total += measure (small_pages, n_words, n_threads, repeats, threads, slices, rates_4k);
  free (small_pages);
  huge = alloc_buffer (n_words * sizeof (uint64_t), MADV_HUGEPAGE);
  if (huge == NULL)
    {
      fprintf (stderr, "bandwidth: out of memory\n");
      return 1;
    }
  total += measure (huge, n_words, n_threads, repeats, threads, slices, rates);
  printf ("{\"threads\": %d, \"bytes\": %zu, \"best_gbps\": %.2f, \"median_gbps\": %.2f, "
          "\"median_gbps_4k\": %.2f, \"huge_pages\": %s, \"checksum\": %llu}\n",
          n_threads, per_thread * n_threads * sizeof (uint64_t), rates[repeats - 1],
          rates[repeats / 2], rates_4k[repeats / 2],
          has_huge_pages (huge, n_words * sizeof (uint64_t)) ? "true" : "false",
          (unsigned long long) (total & 0xffff));
  free (rates_4k);
  free (rates);
  free (slices);
  free (threads);
  free (huge);
  return 0;
}
