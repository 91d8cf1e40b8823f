/* bench-vulkan-matmul.c: weight-read bandwidth of the Vulkan matmuls.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Usage: bench-vulkan-matmul [SECONDS [WG THREADS_PER_ROW [TYPE]]]: with a
 * workgroup shape, that shape instead of the device's default (tuning). For
 * each weight type, a 1.5B-shaped
 * FFN matrix (1536 -> 8960) is multiplied by 1, 8 and 32 tokens
 * (BENCH_TOKENS="a,b,...": those counts, at most MAX_TOKENS); 16
 * dispatches are recorded per command buffer (with the barrier between
 * each, as a forward step has), and the weight bytes read per second are
 * reported with the kernel that ran. PONDER_VK_GPU_KERNELS=1 takes the
 * GPU choice of kernels on any device (subgroup, integer-dot and 16-bit
 * variants where the device has the features). Registered as a meson
 * benchmark (`meson test --benchmark`).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "quant.h"
#include "vulkan-private.h"

#define N_IN     1536
#define N_OUT    8960
#define PER_STEP 16
#define MAX_TOKENS 64

static double
now_s (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* CPU time of the whole process (lavapipe's worker threads included): on a
 * shared, loaded machine a steadier measure of a CPU device than wall time. */
static double
cpu_s (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int
fail (const char *what, const PonderError *error)
{
  fprintf (stderr, "bench-vulkan-matmul: %s: %s\n", what, error->message);
  return 1;
}

static void
fill_weights (uint32_t type, uint8_t *w, size_t size)
{
  const PonderTypeInfo *ti = ponder_type_info (type);
  uint16_t scale = ponder_fp32_to_fp16 (0.001f);

  for (size_t i = 0; i < size; i++)
    w[i] = (uint8_t) (rand () & 0xff);
  /* Keep every f16 scale finite; where it sits does not matter for speed. */
  for (size_t b = 0; b + ti->block_bytes <= size; b += ti->block_bytes)
    if (ti->block_size > 1)
      {
        memcpy (w + b, &scale, 2);
        memcpy (w + b + ti->block_bytes - 2, &scale, 2);
      }
    else if (type == PONDER_TYPE_F16)
      memcpy (w + b, &scale, 2);
}

/* argv[2], argv[3]: a workgroup shape to try instead of the default one. */
static uint32_t shape_wg, shape_tpr;
static uint32_t counts[16] = { 1, 8, 32 };
static int n_counts = 3;

static int
bench_type (PonderVkDevice *dev,
            uint32_t        type,
            double          seconds)
{
  PonderError error = { 0 };
  PonderVkBuffer wb, xb, yb;
  uint64_t row_bytes;
  uint8_t *w;
  float *x;
  int rc = 0;

  ponder_type_row_bytes (type, N_IN, &row_bytes);
  w = malloc (row_bytes * N_OUT);
  x = calloc (MAX_TOKENS * N_IN, sizeof *x);
  fill_weights (type, w, row_bytes * N_OUT);
  for (int i = 0; i < MAX_TOKENS * N_IN; i++)
    x[i] = (float) (i % 7) * 0.1f;
  if (ponder_vk_buffer_new (dev, row_bytes * N_OUT, PONDER_VK_MEMORY_DEVICE, "w", &wb, &error)
      || ponder_vk_buffer_upload (dev, &wb, 0, w, row_bytes * N_OUT, &error)
      || ponder_vk_buffer_new (dev, MAX_TOKENS * N_IN * 4, PONDER_VK_MEMORY_DEVICE, "x", &xb,
                               &error)
      || ponder_vk_buffer_upload (dev, &xb, 0, x, MAX_TOKENS * N_IN * 4, &error)
      || ponder_vk_buffer_new (dev, MAX_TOKENS * N_OUT * 4, PONDER_VK_MEMORY_HOST, "y", &yb,
                               &error))
    return fail ("buffers", &error);
  for (int c = 0; c < n_counts && rc == 0; c++)
    {
      uint32_t n_tokens = counts[c];
      double t0, c0 = 0.0, elapsed = 0.0;
      long steps = 0;

      for (int warm = 1; warm >= 0 && rc == 0; warm--)
        {
          t0 = now_s ();
          c0 = cpu_s ();
          steps = 0;
          do
            {
              if (ponder_vk_begin (dev, &error) != PONDER_OK)
                rc = fail ("begin", &error);
              for (int i = 0; i < PER_STEP && rc == 0; i++)
                if ((shape_wg > 0
                     ? ponder_vk_op_matmul_shaped (dev, shape_wg, shape_tpr, type, &wb, row_bytes,
                                                   N_IN, N_OUT, &xb, n_tokens, &yb, &error)
                     : ponder_vk_op_matmul (dev, type, &wb, row_bytes, N_IN, N_OUT, &xb,
                                            n_tokens, &yb, &error)) != PONDER_OK)
                  rc = fail ("matmul", &error);
              if (rc == 0 && ponder_vk_submit (dev, &error) != PONDER_OK)
                rc = fail ("submit", &error);
              steps++;
              elapsed = now_s () - t0;
            }
          while (rc == 0 && !warm && elapsed < seconds);
        }
      if (rc == 0)
        printf ("%-5s %d -> %d x %u tokens: %7.2f GB/s of weights, %.3f ms per matmul "
                "(%.3f ms of CPU time; %s)\n",
                ponder_type_info (type)->name, N_IN, N_OUT, n_tokens,
                (double) row_bytes * N_OUT * PER_STEP * steps / elapsed / 1e9,
                elapsed * 1e3 / (PER_STEP * steps), (cpu_s () - c0) * 1e3 / (PER_STEP * steps),
                shape_wg > 0 ? "shaped"
                             : ponder_vk_kernel_info (ponder_vk_matmul_kernel (dev, type, &wb,
                                                                               row_bytes, N_IN,
                                                                               N_OUT, &xb,
                                                                               n_tokens))->name);
    }
  ponder_vk_buffer_free (dev, &wb);
  ponder_vk_buffer_free (dev, &xb);
  ponder_vk_buffer_free (dev, &yb);
  free (w);
  free (x);
  return rc;
}

int
main (int    argc,
      char **argv)
{
  static const uint32_t types[] = { PONDER_TYPE_Q4_K, PONDER_TYPE_Q6_K, PONDER_TYPE_Q8_0,
                                    PONDER_TYPE_F16, PONDER_TYPE_IQ1_S, PONDER_TYPE_IQ1_M,
                                    PONDER_TYPE_IQ2_XXS, PONDER_TYPE_IQ3_XXS,
                                    PONDER_TYPE_IQ4_XS, PONDER_TYPE_Q2_K, PONDER_TYPE_Q3_K,
                                    PONDER_TYPE_Q5_0, PONDER_TYPE_Q4_0, PONDER_TYPE_F32 };
  double seconds = argc > 1 ? atof (argv[1]) : 1.0;
  PonderError error = { 0 };
  PonderVulkan *vk;
  PonderVkDevice *dev;
  PonderDeviceInfo info;
  int rc = 0;

  if (ponder_vk_open (NULL, &vk, &error) != PONDER_OK)
    return fail ("open", &error);
  if (ponder_vk_device_new (vk, -1, NULL, &dev, &error) != PONDER_OK)
    {
      ponder_vk_close (vk);
      return fail ("device", &error);
    }
  ponder_vk_describe (vk, vk->default_device, &info);
  printf ("device: %s\n", info.name);
  if (getenv ("BENCH_TOKENS") != NULL)
    {
      char *end, *s = getenv ("BENCH_TOKENS");

      for (n_counts = 0; n_counts < 16 && *s != '\0'; s = *end == ',' ? end + 1 : end)
        {
          unsigned long n = strtoul (s, &end, 10);

          if (end == s || n == 0 || n > MAX_TOKENS)
            {
              fprintf (stderr, "bench-vulkan-matmul: BENCH_TOKENS: counts 1..%d\n", MAX_TOKENS);
              return 1;
            }
          counts[n_counts++] = (uint32_t) n;
        }
    }
  if (argc > 3)
    {
      shape_wg = (uint32_t) atoi (argv[2]);
      shape_tpr = (uint32_t) atoi (argv[3]);
    }
  for (size_t i = 0; i < sizeof types / sizeof types[0] && rc == 0; i++)
    if (argc <= 4 || strcmp (argv[4], ponder_type_info (types[i])->name) == 0)
      rc = bench_type (dev, types[i], seconds);
  ponder_vk_device_free (dev);
  ponder_vk_close (vk);
  return rc;
}
