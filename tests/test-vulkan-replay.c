/* test-vulkan-replay.c: decode steps recorded once and replayed
 * (engine/vulkan-replay.c), on lavapipe.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * - kv_store.comp, the KV store that takes its position from memory: rows
 *   [pos0, pos0 + n) of the caches hold k and v bit for bit (a NaN payload
 *   included) and no other row changes, with pos0 pushed and read from a
 *   step buffer; keys only for deepseek2's latent cache.
 * - Kept steps on the device: steps with the same commands replay the
 *   first one's command buffer (counted), reading what changes from memory
 *   (the stored rows are checked by hand); an aborted step leaves the kept
 *   one intact; three structures replay in turn from the three slots and
 *   a fourth evicts the one used longest ago; a freed buffer, or a position
 *   pushed instead of read from memory, makes the next step a recording.
 * - Whole models (qwen2, llama, qwen3 and deepseek2, tiny, F32): one
 *   Vulkan backend keeps and replays its decode steps, a second on the same
 *   device records every step; over hundreds of positions (crossing the
 *   switch to split attention at 256 and its third chunk at 512), with
 *   greedy steps (device argmax) and sampled ones (the device's best
 *   logits, forced on lavapipe) between full-logits ones, and a rewind to
 *   an earlier position (a regenerated answer), their logits, picks and
 *   best-logit lists are equal bit for bit, the logits are within
 *   1e-4 * max |logit| of the CPU backend and the picks are its argmax,
 *   and the counters show the first backend replayed nearly every step and
 *   the second none. The same with the pipeline split over two logical
 *   devices (each stage keeps its own steps), and with deepseek2's experts
 *   on the host (nothing kept). One shorter run per model kind is under the
 *   validation layer (no message allowed).
 */
#include <glib.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "backend.h"
#include "forward.h"
#include "gguf.h"
#include "kv-cache.h"
#include "model.h"
#include "threadpool.h"
#include "vulkan-model-private.h"
#include "vulkan-test-util.h"

static char *tmp_dir;

static bool
fixture_open (Fixture *f)
{
  return vulkan_fixture_open (f, g_getenv ("PONDER_TEST_VALIDATION") != NULL, false);
}

/* ---- kv_store.comp --------------------------------------------------------- */

static void
check_kv_store (uint32_t n_tokens,
                uint32_t pos0,
                uint32_t k_row,
                uint32_t v_row,
                bool     from_memory)
{
  const uint32_t n_ctx = 12;
  Fixture f;
  float *k, *v, *kc, *vc, *k_out, *v_out;
  uint32_t nan_bits = 0x7fc01234u; /* a quiet NaN with a payload */
  size_t v_alloc = v_row > 0 ? v_row : 1;

  if (!fixture_open (&f))
    return;
  k = random_floats ((size_t) n_tokens * k_row, 2.0);
  v = random_floats ((size_t) n_tokens * v_alloc, 2.0);
  kc = random_floats ((size_t) n_ctx * k_row, 2.0);
  vc = random_floats ((size_t) n_ctx * v_alloc, 2.0);
  memcpy (&k[k_row / 2], &nan_bits, 4);
  k_out = g_new (float, (size_t) n_ctx * k_row);
  v_out = g_new (float, (size_t) n_ctx * v_alloc);
  run_kv_store (&f, k, v, kc, vc, k_out, v_out, n_tokens, n_ctx, pos0, k_row, v_row, v_alloc,
                PONDER_KV_F32, from_memory);
  for (uint32_t p = 0; p < n_ctx; p++)
    {
      bool stored = p >= pos0 && p < pos0 + n_tokens;
      const float *k_want = stored ? k + (size_t) (p - pos0) * k_row : kc + (size_t) p * k_row;
      const float *v_want = stored && v_row > 0 ? v + (size_t) (p - pos0) * v_row
                                                : vc + (size_t) p * v_alloc;

      if (memcmp (k_out + (size_t) p * k_row, k_want, k_row * 4) != 0)
        g_error ("kv_store %u tokens at %u (%s): key row %u differs", n_tokens, pos0,
                 from_memory ? "memory" : "push", p);
      if (memcmp (v_out + (size_t) p * v_alloc, v_want, (v_row > 0 ? v_row : 1) * 4) != 0)
        g_error ("kv_store %u tokens at %u (%s): value row %u differs", n_tokens, pos0,
                 from_memory ? "memory" : "push", p);
    }
  g_free (k);
  g_free (v);
  g_free (kc);
  g_free (vc);
  g_free (k_out);
  g_free (v_out);
  fixture_close (&f);
}

static void
test_kv_store (void)
{
  check_kv_store (3, 4, 5, 7, false);
  check_kv_store (3, 4, 5, 7, true);
  check_kv_store (1, 11, 96, 40, true);  /* the last row; rows past a workgroup */
  check_kv_store (2, 0, 9, 0, true);     /* keys only: the value cache keeps its bytes */
}

/* ---- Kept steps on the device ------------------------------------------------ */

typedef struct
{
  Fixture         f;
  PonderVkReplay *replay;
  PonderVkBuffer  row;    /* host-visible: the step's input row */
  PonderVkBuffer  cache;  /* (N_ROWS, ROW) */
  PonderVkBuffer  step;   /* host-visible pos0 */
  PonderVkBuffer  extra;  /* (ROW) a second structure adds row into it */
} Device;

#define ROW    6
#define N_ROWS 40

static uint64_t
replayed (const Device *d)
{
  uint64_t n_replayed, n_recorded;
  bool last;

  ponder_vk_replay_counts (d->replay, &n_replayed, &n_recorded, &last);
  return n_replayed;
}

static uint64_t
recorded (const Device *d)
{
  uint64_t n_replayed, n_recorded;
  bool last;

  ponder_vk_replay_counts (d->replay, &n_replayed, &n_recorded, &last);
  return n_recorded;
}

/* One kept step storing row value pos * 10 + i at pos: structure 0 stores,
 * s > 0 also adds the row into extra s times; pushed puts pos0 in the push
 * constants instead of reading it from memory. */
static void
kept_step (Device   *d,
           uint32_t  pos,
           int       structure,
           bool      pushed)
{
  float *row = d->row.mapped;

  for (uint32_t i = 0; i < ROW; i++)
    row[i] = (float) (pos * 10 + i);
  *(uint32_t *) d->step.mapped = pos;
  CHECK_OK (ponder_vk_begin_kept (d->f.dev, d->replay, ck));
  CHECK_OK (ponder_vk_op_kv_store (d->f.dev, &d->row, &d->row, &d->cache, &d->cache,
                                   pushed ? NULL : &d->step, 1, pos, ROW, 0, PONDER_KV_F32, ck));
  for (int a = 0; a < structure; a++)
    CHECK_OK (ponder_vk_op_add (d->f.dev, &d->extra, &d->row, ROW, ck));
  CHECK_OK (ponder_vk_submit (d->f.dev, ck));
}

static void
check_rows (Device   *d,
            uint32_t  n)
{
  float got[N_ROWS * ROW];

  CHECK_OK (ponder_vk_buffer_download (d->f.dev, &d->cache, 0, got, sizeof got, ck));
  for (uint32_t p = 0; p < n; p++)
    for (uint32_t i = 0; i < ROW; i++)
      if (got[p * ROW + i] != (float) (p * 10 + i))
        g_error ("kept steps: row %u [%u] is %g, want %u", p, i, got[p * ROW + i], p * 10 + i);
}

static void
test_device (void)
{
  Device d;
  PonderVkBuffer spare;
  float extra[ROW];
  uint64_t n0;

  if (!fixture_open (&d.f))
    return;
  CHECK_OK (ponder_vk_replay_new (d.f.dev, &d.replay, ck));
  d.row = upload_new (&d.f, NULL, ROW * 4, PONDER_VK_MEMORY_HOST);
  d.cache = upload_new (&d.f, NULL, N_ROWS * ROW * 4, PONDER_VK_MEMORY_DEVICE);
  d.step = upload_new (&d.f, NULL, 4, PONDER_VK_MEMORY_HOST);
  memset (extra, 0, sizeof extra);
  d.extra = upload_new (&d.f, extra, ROW * 4, PONDER_VK_MEMORY_DEVICE);

  /* the first step is recorded, the next seven replay it at their positions */
  for (uint32_t p = 0; p < 8; p++)
    kept_step (&d, p, 0, false);
  g_assert_cmpuint (recorded (&d), ==, 1);
  g_assert_cmpuint (replayed (&d), ==, 7);
  check_rows (&d, 8);

  /* an aborted step changes nothing kept */
  CHECK_OK (ponder_vk_begin_kept (d.f.dev, d.replay, ck));
  CHECK_OK (ponder_vk_op_add (d.f.dev, &d.extra, &d.row, ROW, ck));
  ponder_vk_abort (d.f.dev);
  kept_step (&d, 8, 0, false);
  g_assert_cmpuint (recorded (&d), ==, 1);
  g_assert_cmpuint (replayed (&d), ==, 8);

  /* a second structure is recorded once, then both replay in turn */
  for (uint32_t p = 9; p < 17; p++)
    kept_step (&d, p, (p % 2) ? 1 : 0, false);
  g_assert_cmpuint (recorded (&d), ==, 2);
  g_assert_cmpuint (replayed (&d), ==, 15);
  check_rows (&d, 17);
  /* extra = the rows of steps 9, 11, 13 and 15: 4 * 10 * 12 + 4 i */
  CHECK_OK (ponder_vk_buffer_download (d.f.dev, &d.extra, 0, extra, sizeof extra, ck));
  for (uint32_t i = 0; i < ROW; i++)
    g_assert_cmpfloat (extra[i], ==, (float) (480 + 4 * i));

  /* a third has the third slot; a fourth evicts the one used longest ago
   * (structure 2, at 17), which is then recorded again in place of the
   * next oldest (structure 0, at 18), while structure 1 still replays */
  kept_step (&d, 17, 2, false);
  kept_step (&d, 18, 0, false);
  kept_step (&d, 19, 1, false);
  g_assert_cmpuint (recorded (&d), ==, 3);
  g_assert_cmpuint (replayed (&d), ==, 17);
  kept_step (&d, 20, 3, false);
  kept_step (&d, 21, 2, false);
  g_assert_cmpuint (recorded (&d), ==, 5);
  kept_step (&d, 22, 1, false);
  g_assert_cmpuint (replayed (&d), ==, 18);
  kept_step (&d, 23, 0, false);
  g_assert_cmpuint (recorded (&d), ==, 6);

  /* a freed buffer (its handle may come back) forbids the next replay */
  spare = upload_new (&d.f, NULL, 64, PONDER_VK_MEMORY_DEVICE);
  ponder_vk_buffer_free (d.f.dev, &spare);
  n0 = recorded (&d);
  kept_step (&d, 24, 1, false);
  g_assert_cmpuint (recorded (&d), ==, n0 + 1);
  kept_step (&d, 25, 1, false);
  g_assert_cmpuint (recorded (&d), ==, n0 + 1);

  /* pos0 pushed: every step differs, so every one is recorded, and right */
  n0 = recorded (&d);
  for (uint32_t p = 26; p < 30; p++)
    kept_step (&d, p, 0, true);
  g_assert_cmpuint (recorded (&d), ==, n0 + 4);
  check_rows (&d, 30);

  /* forgotten: recorded again */
  ponder_vk_replay_forget (d.replay);
  n0 = recorded (&d);
  kept_step (&d, 30, 0, false);
  g_assert_cmpuint (recorded (&d), ==, n0 + 1);
  check_rows (&d, 31);

  ponder_vk_replay_free (d.f.dev, d.replay);
  ponder_vk_buffer_free (d.f.dev, &d.row);
  ponder_vk_buffer_free (d.f.dev, &d.cache);
  ponder_vk_buffer_free (d.f.dev, &d.step);
  ponder_vk_buffer_free (d.f.dev, &d.extra);
  fixture_close (&d.f);
}

/* ---- Whole models ---------------------------------------------------------- */

static char *
generate_model (const char *arch,
                const char *preset)
{
  const char *src = g_getenv ("PONDER_SOURCE_ROOT");
  g_autofree char *script = g_build_filename (src ? src : "..", "tests", "gen_model.py", NULL);
  g_autofree char *name = g_strdup_printf ("%s-%s.gguf", arch, preset);
  char *out = g_build_filename (tmp_dir, name, NULL);
  const char *argv[] = { "/usr/bin/python3", script, "model", "--arch", arch, "--preset", preset,
                         "--type", "F32", "--out", out, NULL };
  g_autofree char *std_err = NULL;
  int wait_status = 0;

  g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL, NULL,
                               NULL, NULL, &std_err, &wait_status, NULL));
  if (!g_spawn_check_wait_status (wait_status, NULL))
    g_error ("gen_model.py failed: %s", std_err);
  return out;
}

#define N_PREFILL 5

typedef struct
{
  PonderBackend *be;
  PonderForward  fw;
  PonderKvCache  cache;
  float         *logits;
} Runner;

static void
runner_init (Runner                   *r,
             const PonderModelWeights *w,
             PonderBackend            *be,
             uint32_t                  n_ctx)
{
  PonderError error = { 0 };
  uint32_t k_row, v_row;

  r->be = be;
  ponder_model_kv_rows (&w->hp, &k_row, &v_row);
  g_assert_cmpint (ponder_forward_init (&r->fw, w, be, 8, &error), ==, PONDER_OK);
  g_assert_cmpint (ponder_kv_cache_init (&r->cache, w->hp.n_layers, n_ctx, k_row, v_row,
                                         &error), ==, PONDER_OK);
  r->logits = g_new0 (float, w->hp.n_vocab);
}

static void
runner_clear (Runner *r)
{
  ponder_kv_cache_clear (&r->cache);
  ponder_forward_clear (&r->fw);
  r->be->free (r->be);
  g_free (r->logits);
}

static void
runner_step (Runner           *r,
             const int32_t    *tokens,
             uint32_t          n,
             uint32_t          pos,
             PonderLogitsMode  mode)
{
  /* stale logits must not pass for fresh ones */
  memset (r->logits, 0xff, r->fw.weights->hp.n_vocab * sizeof (float));
  r->fw.argmax_id = -2;
  memset (&r->fw.top, 0xff, sizeof r->fw.top);
  if (!ponder_forward_run (&r->fw, &r->cache, tokens, n, pos, mode, r->logits, NULL))
    g_error ("step at %u (%u tokens): %s", pos, n, r->fw.error.message);
}

typedef struct
{
  const char *arch;
  const char *preset;
  uint32_t    n_ctx;       /* decode runs up to n_ctx - 1 */
  uint32_t    rewind_to;   /* then again from here for rewind_steps */
  uint32_t    rewind_steps;
  bool        validation;
  bool        split;        /* kept: layer 0 on one logical device, the rest on another */
  bool        host_experts; /* deepseek2: the last MoE layer's experts on the host */
} ForwardCase;

static void
check_forward (gconstpointer data)
{
  const ForwardCase *c = data;
  g_autofree char *path = generate_model (c->arch, c->preset);
  PonderVkModelParams params = { -1, c->validation, NULL };
  PonderGgufFile *file = NULL;
  PonderModelWeights w;
  PonderVkModel *vkm = NULL, *vk_first = NULL, *vk_second = NULL;
  PonderBackend *first_be = NULL;
  PonderForward stage;
  PonderThreadpool *pool = NULL;
  PonderBackend *cpu_be = NULL, *kept_be = NULL, *plain_be = NULL;
  PonderError error = { 0 };
  Runner cpu, kept, plain;
  PonderStepCounts kc, pc;
  uint32_t n_vocab, n_steps = 0, n_picks = 0;
  int32_t *tokens;
  float worst = 0.0f, scale = 0.0f;
  const char *first = NULL;
  uint32_t n_messages;

  g_assert_cmpint (ponder_gguf_open (path, &file, &error), ==, PONDER_OK);
  g_assert_cmpint (ponder_model_bind (file, &w, &error), ==, PONDER_OK);
  params.host_expert_layers = c->host_experts ? 1 : 0;
  if (ponder_vk_model_new (&w, &params, &vkm, &error) != PONDER_OK)
    {
      g_test_fail_printf ("no Vulkan device to test on: %s", error.message);
      ponder_model_weights_clear (&w);
      ponder_gguf_close (file);
      return;
    }
  n_vocab = w.hp.n_vocab;
  g_assert_cmpint (ponder_threadpool_new (2, &pool, &error), ==, PONDER_OK);
  g_assert_cmpint (ponder_backend_cpu_new (pool, 8, ponder_model_max_n_in (&w.hp), &cpu_be,
                                           &error), ==, PONDER_OK);
  /* sampling from the device's best logits, a third kind of decode step */
  g_setenv ("PONDER_VK_DEVICE_SAMPLING", "1", TRUE);
  if (c->split)
    {
      /* the pipeline split: each stage keeps its own steps; the split gives
       * one device's logits bit for bit (test-vulkan-forward) */
      PonderVkModelParams p_first = params, p_second = params;

      p_first.end_layer = 1;
      p_second.first_layer = 1;
      g_assert_cmpint (ponder_vk_model_new (&w, &p_first, &vk_first, &error), ==, PONDER_OK);
      g_assert_cmpint (ponder_vk_model_new (&w, &p_second, &vk_second, &error), ==, PONDER_OK);
      g_assert_cmpint (ponder_backend_vulkan_new (vk_first, 8, &first_be, &error), ==,
                       PONDER_OK);
      g_assert_cmpint (ponder_backend_vulkan_new (vk_second, 8, &kept_be, &error), ==,
                       PONDER_OK);
    }
  else
    g_assert_cmpint (ponder_backend_vulkan_new (vkm, 8, &kept_be, &error), ==, PONDER_OK);
  g_assert_cmpint (ponder_backend_vulkan_new (vkm, 8, &plain_be, &error), ==, PONDER_OK);
  g_unsetenv ("PONDER_VK_DEVICE_SAMPLING");
  g_assert_nonnull (kept_be->top_logits);
  ponder_backend_vulkan_set_replay (plain_be, false);
  runner_init (&cpu, &w, cpu_be, c->n_ctx);
  runner_init (&kept, &w, kept_be, c->n_ctx);
  runner_init (&plain, &w, plain_be, c->n_ctx);
  if (c->split)
    {
      g_assert_cmpint (ponder_forward_init (&stage, &w, first_be, 8, &error), ==, PONDER_OK);
      g_assert_cmpint (ponder_forward_add_stage (&kept.fw, &stage, 1, &error), ==, PONDER_OK);
    }
  kept.fw.top_temperature = plain.fw.top_temperature = 0.7f;
  tokens = g_new (int32_t, c->n_ctx);
  for (uint32_t i = 0; i < c->n_ctx; i++)
    tokens[i] = (int32_t) ((i * 97 + 13) % n_vocab);

  runner_step (&cpu, tokens, N_PREFILL, 0, PONDER_LOGITS_LAST);
  runner_step (&kept, tokens, N_PREFILL, 0, PONDER_LOGITS_LAST);
  runner_step (&plain, tokens, N_PREFILL, 0, PONDER_LOGITS_LAST);
  for (uint32_t phase = 0; phase < 2; phase++)
    {
      uint32_t start = phase == 0 ? N_PREFILL : c->rewind_to;
      uint32_t end = phase == 0 ? c->n_ctx : c->rewind_to + c->rewind_steps;

      /* the regenerated answer takes other tokens from the rewind on */
      if (phase == 1)
        for (uint32_t i = start; i < end; i++)
          tokens[i] = (int32_t) ((i * 31 + 5) % n_vocab);
      for (uint32_t pos = start; pos < end; pos++, n_steps++)
        {
          /* in turn greedy on the device, sampled on the device, full logits */
          static const PonderLogitsMode modes[3] = { PONDER_LOGITS_ARGMAX, PONDER_LOGITS_TOP,
                                                     PONDER_LOGITS_LAST };
          PonderLogitsMode mode = modes[pos % 3];

          runner_step (&cpu, tokens + pos, 1, pos, PONDER_LOGITS_LAST);
          runner_step (&kept, tokens + pos, 1, pos, mode);
          runner_step (&plain, tokens + pos, 1, pos, mode);
          if (mode != PONDER_LOGITS_LAST)
            {
              uint32_t best = 0, second = 1;
              int32_t pick = mode == PONDER_LOGITS_ARGMAX ? kept.fw.argmax_id
                                                          : kept.fw.top.ids[0];

              if (mode == PONDER_LOGITS_ARGMAX)
                g_assert_cmpint (kept.fw.argmax_id, ==, plain.fw.argmax_id);
              else if (memcmp (&kept.fw.top, &plain.fw.top, sizeof kept.fw.top) != 0)
                g_error ("%s at %u: replayed best logits differ from recorded ones", c->arch,
                         pos);
              /* the CPU's own argmax, unless its top two are too close to call */
              for (uint32_t i = 1; i < n_vocab; i++)
                if (cpu.logits[i] > cpu.logits[best])
                  {
                    second = best;
                    best = i;
                  }
                else if (i != best && (second == best || cpu.logits[i] > cpu.logits[second]))
                  second = i;
              if (cpu.logits[best] - cpu.logits[second] > 1e-3f * fabsf (cpu.logits[best]))
                {
                  g_assert_cmpint (pick, ==, (int32_t) best);
                  n_picks++;
                }
              continue;
            }
          if (memcmp (kept.logits, plain.logits, n_vocab * sizeof (float)) != 0)
            g_error ("%s at %u: replayed logits differ from recorded ones", c->arch, pos);
          for (uint32_t i = 0; i < n_vocab; i++)
            {
              scale = fmaxf (scale, fabsf (cpu.logits[i]));
              worst = fmaxf (worst, fabsf (kept.logits[i] - cpu.logits[i]));
            }
        }
    }
  g_test_message ("%s: %u decode steps, max |vulkan - cpu| %.3g of max |logit| %.3g, %u "
                  "device picks checked against the CPU", c->arch, n_steps, worst, scale,
                  n_picks);
  g_assert_cmpfloat (scale, >, 0.0f);
  g_assert_cmpfloat (worst, <=, 1e-4f * scale);
  g_assert_cmpuint (n_picks, >, n_steps / 2);

  ponder_forward_step_counts (&kept.fw, &kc);
  plain_be->step_counts (plain_be, &pc);

  g_test_message ("%s: kept backend %llu replayed (%.3f ms host each), %llu recorded "
                  "(%.3f ms); plain backend %llu recorded (%.3f ms)", c->arch,
                  (unsigned long long) kc.n_replayed,
                  kc.replayed_s * 1e3 / MAX (kc.n_replayed, 1),
                  (unsigned long long) kc.n_recorded,
                  kc.recorded_s * 1e3 / MAX (kc.n_recorded, 1),
                  (unsigned long long) pc.n_recorded,
                  pc.recorded_s * 1e3 / MAX (pc.n_recorded, 1));
  /* split: a step per stage */
  g_assert_cmpuint (kc.n_replayed + kc.n_recorded, ==, n_steps * (c->split ? 2 : 1));
  g_assert_cmpuint (pc.n_recorded, ==, n_steps);
  g_assert_cmpuint (pc.n_replayed, ==, 0);
  /* Experts on the host: the step submits in the middle, nothing is kept.
   * Else recorded: the first of each mode, and again for each at every
   * change of decode attention (to split at 256, a third chunk at 512,
   * back at the rewind), in each stage. */
  if (c->host_experts)
    g_assert_cmpuint (kc.n_replayed, ==, 0);
  else
    g_assert_cmpuint (kc.n_recorded, <=, 15 * (c->split ? 2 : 1));

  n_messages = ponder_vk_model_n_messages (vkm, &first);
  if (c->split)
    n_messages += ponder_vk_model_n_messages (vk_first, &first)
                  + ponder_vk_model_n_messages (vk_second, &first);
  if (n_messages > 0)
    g_test_fail_printf ("%u validation messages; the first: %s", n_messages, first);
  g_free (tokens);
  runner_clear (&plain);
  runner_clear (&kept);
  runner_clear (&cpu);
  if (c->split)
    {
      ponder_forward_clear (&stage);
      first_be->free (first_be);
      ponder_vk_model_free (vk_first);
      ponder_vk_model_free (vk_second);
    }
  ponder_threadpool_free (pool);
  ponder_vk_model_free (vkm);
  ponder_model_weights_clear (&w);
  ponder_gguf_close (file);
}

int
main (int    argc,
      char **argv)
{
  static const ForwardCase cases[] = {
    { "qwen2", "tiny", 530, 100, 40, false },
    { "llama", "tiny", 300, 250, 20, false },
    { "qwen3", "tiny", 300, 30, 20, false },
    { "deepseek2", "tiny", 80, 20, 20, false },
    { "qwen2", "tiny", 262, 250, 8, true },
    { "deepseek2", "tiny", 24, 10, 6, true },
    { "qwen2", "tiny", 270, 200, 10, false, true },
    { "deepseek2", "tiny", 30, 10, 6, false, false, true },
  };
  int rc;

  g_test_init (&argc, &argv, NULL);
  tmp_dir = g_dir_make_tmp ("ponder-vulkan-replay-XXXXXX", NULL);
  g_test_add_func ("/vulkan-replay/device/kv-store", test_kv_store);
  g_test_add_func ("/vulkan-replay/device/kept-steps", test_device);
  g_test_add_data_func ("/vulkan-replay/forward/qwen2", &cases[0], check_forward);
  g_test_add_data_func ("/vulkan-replay/forward/llama", &cases[1], check_forward);
  g_test_add_data_func ("/vulkan-replay/forward/qwen3", &cases[2], check_forward);
  g_test_add_data_func ("/vulkan-replay/forward/deepseek2", &cases[3], check_forward);
  g_test_add_data_func ("/vulkan-replay/validation/qwen2", &cases[4], check_forward);
  g_test_add_data_func ("/vulkan-replay/validation/deepseek2", &cases[5], check_forward);
  g_test_add_data_func ("/vulkan-replay/forward/qwen2-split", &cases[6], check_forward);
  g_test_add_data_func ("/vulkan-replay/forward/deepseek2-host-experts", &cases[7],
                        check_forward);
  rc = g_test_run ();
  {
    g_autoptr (GDir) dir = g_dir_open (tmp_dir, 0, NULL);
    const char *name;

    while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
      {
        g_autofree char *p = g_build_filename (tmp_dir, name, NULL);

        g_unlink (p);
      }
    g_rmdir (tmp_dir);
  }
  g_free (tmp_dir);
  return rc;
}
