/* bench-vulkan-replay.c: decode on a Vulkan device with steps replayed from a
 * kept recording against steps recorded every time (vulkan-replay.c).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Usage: bench-vulkan-replay MODEL.gguf [N_DECODE [REPETITIONS [DEVICE [full]]]]
 *
 * One model on the device, two backends over it: one keeps and replays its
 * decode steps, the other records each one. Each repetition runs both in
 * turn (alternating which goes first, so that a shared machine's load
 * drifts over both alike): a prefill of 8 tokens, then N_DECODE greedy
 * steps picked on the device, or with "full" steps whose logits are read
 * back (the host then picks the largest). Printed per run: decode tokens/s and the host
 * time per step from begin_step until the step was submitted (what
 * recording costs, or what replaying leaves), split into replayed and
 * recorded steps.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backend.h"
#include "forward.h"
#include "gguf.h"
#include "kv-cache.h"
#include "model.h"
#include "vulkan-model-private.h"

static double
now_s (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (double) ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* A backend with its forward pass and cache, made once: a run starts again
 * at position 0. */
typedef struct
{
  PonderBackend *be;
  PonderForward  fw;
  PonderKvCache  cache;
} Runner;

static int
runner_init (Runner                   *r,
             const PonderModelWeights *w,
             PonderBackend            *be,
             uint32_t                  n_ctx)
{
  PonderError error = { 0 };
  uint32_t k_row, v_row;

  r->be = be;
  ponder_model_kv_rows (&w->hp, &k_row, &v_row);
  if (ponder_forward_init (&r->fw, w, be, 8, &error) != PONDER_OK
      || ponder_kv_cache_init (&r->cache, w->hp.n_layers, n_ctx, k_row, v_row, &error)
         != PONDER_OK)
    {
      fprintf (stderr, "bench-vulkan-replay: %s\n", error.message);
      return 1;
    }
  return 0;
}

static bool full_logits;
static float *logits;

static int
run (const PonderModelWeights *w,
     Runner                   *r,
     uint32_t                  n_decode,
     const char               *label)
{
  PonderBackend *be = r->be;
  PonderForward *fw = &r->fw;
  PonderStepCounts before, after;
  uint32_t pos = 8;
  int32_t tokens[8], id;
  double t0, t;

  for (int i = 0; i < 8; i++)
    tokens[i] = (int32_t) ((i * 97 + 13) % w->hp.n_vocab);
  if (!ponder_forward_run (fw, &r->cache, tokens, 8, 0, PONDER_LOGITS_ARGMAX, NULL, NULL))
    {
      fprintf (stderr, "bench-vulkan-replay: prefill: %s\n", fw->error.message);
      return 1;
    }
  id = fw->argmax_id >= 0 ? fw->argmax_id : 0;
  be->step_counts (be, &before);
  t0 = now_s ();
  for (uint32_t i = 0; i < n_decode; i++, pos++)
    {
      if (!ponder_forward_run (fw, &r->cache, &id, 1, pos,
                               full_logits ? PONDER_LOGITS_LAST : PONDER_LOGITS_ARGMAX, logits,
                               NULL))
        {
          fprintf (stderr, "bench-vulkan-replay: decode: %s\n", fw->error.message);
          return 1;
        }
      id = fw->argmax_id >= 0 ? fw->argmax_id : 0;
      if (full_logits)
        for (uint32_t v = id = 0; v < w->hp.n_vocab; v++)
          if (logits[v] > logits[id])
            id = (int32_t) v;
    }
  t = now_s () - t0;
  be->step_counts (be, &after);
  printf ("%-8s decode %6.2f t/s; host per step: %llu replayed %.3f ms, %llu recorded %.3f ms\n",
          label, n_decode / t, (unsigned long long) (after.n_replayed - before.n_replayed),
          after.n_replayed > before.n_replayed
            ? (after.replayed_s - before.replayed_s) * 1e3 / (after.n_replayed - before.n_replayed)
            : 0.0,
          (unsigned long long) (after.n_recorded - before.n_recorded),
          after.n_recorded > before.n_recorded
            ? (after.recorded_s - before.recorded_s) * 1e3 / (after.n_recorded - before.n_recorded)
            : 0.0);
  fflush (stdout);
  return 0;
}

int
main (int    argc,
      char **argv)
{
  PonderVkModelParams params = { -1, false, NULL };
  PonderGgufFile *file = NULL;
  PonderModelWeights w;
  PonderVkModel *vkm = NULL;
  PonderBackend *kept_be = NULL, *plain_be = NULL;
  Runner kept, plain;
  uint32_t n_ctx;
  PonderError error = { 0 };
  uint32_t n_decode = argc > 2 ? (uint32_t) atoi (argv[2]) : 32;
  int reps = argc > 3 ? atoi (argv[3]) : 3, rc = 0;

  if (argc < 2 || n_decode == 0 || reps <= 0)
    {
      fprintf (stderr, "usage: bench-vulkan-replay MODEL.gguf [N_DECODE [REPETITIONS "
               "[DEVICE]]]\n");
      return 2;
    }
  if (argc > 4)
    params.device_index = atoi (argv[4]);
  n_ctx = 8 + (n_decode > 4 ? n_decode : 4) + 1;
  full_logits = argc > 5 && strcmp (argv[5], "full") == 0;
  if (ponder_gguf_open (argv[1], &file, &error) != PONDER_OK
      || ponder_model_bind (file, &w, &error) != PONDER_OK
      || ponder_vk_model_new (&w, &params, &vkm, &error) != PONDER_OK
      || ponder_backend_vulkan_new (vkm, 8, &kept_be, &error) != PONDER_OK
      || ponder_backend_vulkan_new (vkm, 8, &plain_be, &error) != PONDER_OK)
    {
      fprintf (stderr, "bench-vulkan-replay: %s\n", error.message);
      return 1;
    }
  ponder_backend_vulkan_set_replay (plain_be, false);
  logits = calloc (w.hp.n_vocab, sizeof *logits);
  if (logits == NULL)
    return 1;
  if (runner_init (&kept, &w, kept_be, n_ctx) != 0 || runner_init (&plain, &w, plain_be, n_ctx))
    return 1;
  printf ("%s on %s, %u decode steps, %s\n", argv[1], ponder_vk_model_device_name (vkm),
          n_decode, full_logits ? "full logits read back" : "picked on the device");
  /* one uncounted round: pipelines are built, the mapped weights faulted in */
  rc |= run (&w, &kept, 4, "(warm)");
  rc |= run (&w, &plain, 4, "(warm)");
  for (int r = 0; r < reps && rc == 0; r++)
    {
      bool kept_first = r % 2 == 0;

      rc |= run (&w, kept_first ? &kept : &plain, n_decode, kept_first ? "replay" : "record");
      rc |= run (&w, kept_first ? &plain : &kept, n_decode, kept_first ? "record" : "replay");
    }
  ponder_kv_cache_clear (&plain.cache);
  ponder_forward_clear (&plain.fw);
  ponder_kv_cache_clear (&kept.cache);
  ponder_forward_clear (&kept.fw);
  plain_be->free (plain_be);
  kept_be->free (kept_be);
  free (logits);
  ponder_vk_model_free (vkm);
  ponder_model_weights_clear (&w);
  ponder_gguf_close (file);
  return rc;
}
