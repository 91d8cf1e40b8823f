/* test-vulkan-deepseek2-forward.c: whole deepseek2 steps on the Vulkan
 * backend under the Khronos validation layer.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Tiny generated deepseek2 models (MLA layout with q_lora; legacy attn_kv_b
 * without q_lora), F32, run a prefill batch and then decode steps from the
 * device's latent cache with the validation layer on: there must be no
 * message. The routed experts are uploaded in chunks of one or three
 * experts (as R1's tensors are cut to fit a binding), in one run the
 * experts of the last MoE layer stay on the host, and in two the experts of
 * every layer are shared with the same device opened again once or twice
 * (expert parallelism, as on several GPUs; the peers' instances validate
 * too). The logits are compared
 * with the CPU backend's (held to the numpy reference by test_forward.py;
 * test_vulkan_deepseek2.py compares Vulkan with numpy directly):
 * |vulkan - cpu| <= 1e-4 * max |cpu|, both f32 arithmetic (measured ~3e-7).
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

#define N_PREFILL 6
#define N_DECODE  3

static char *tmp_dir;

static char *
generate_model (const char *preset)
{
  const char *src = g_getenv ("PONDER_SOURCE_ROOT");
  g_autofree char *script = g_build_filename (src ? src : "..", "tests", "gen_model.py", NULL);
  g_autofree char *name = g_strdup_printf ("%s.gguf", preset);
  char *out = g_build_filename (tmp_dir, name, NULL);
  const char *argv[] = { "/usr/bin/python3", script, "model", "--arch", "deepseek2",
                         "--preset", preset, "--type", "F32", "--out", out, NULL };
  g_autofree char *std_err = NULL;
  int wait_status = 0;

  if (g_file_test (out, G_FILE_TEST_EXISTS))
    return out;
  g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL, NULL,
                               NULL, NULL, &std_err, &wait_status, NULL));
  if (!g_spawn_check_wait_status (wait_status, NULL))
    g_error ("gen_model.py failed: %s", std_err);
  return out;
}

/* Prefill N_PREFILL tokens (logits of every row), then N_DECODE single
 * steps: (N_PREFILL + N_DECODE) rows of logits. */
static void
run (const PonderModelWeights *w,
     PonderBackend            *be,
     const int32_t            *tokens,
     float                    *logits)
{
  PonderError error = { 0 };
  PonderForward fw;
  PonderKvCache cache;
  uint32_t k_row, v_row, n_vocab = w->hp.n_vocab;

  ponder_model_kv_rows (&w->hp, &k_row, &v_row);
  g_assert_cmpint (ponder_forward_init (&fw, w, be, 16, &error), ==, PONDER_OK);
  g_assert_cmpint (ponder_kv_cache_init (&cache, w->hp.n_layers, 64, k_row, v_row, &error), ==,
                   PONDER_OK);
  if (!ponder_forward_run (&fw, &cache, tokens, N_PREFILL, 0, PONDER_LOGITS_ALL, logits, NULL))
    g_error ("prefill: %s", fw.error.message);
  for (uint32_t i = 0; i < N_DECODE; i++)
    {
      uint32_t pos = N_PREFILL + i;

      if (!ponder_forward_run (&fw, &cache, tokens + pos, 1, pos, PONDER_LOGITS_LAST,
                               logits + (size_t) pos * n_vocab, NULL))
        g_error ("decode step %u: %s", i, fw.error.message);
    }
  ponder_kv_cache_clear (&cache);
  ponder_forward_clear (&fw);
}

typedef struct
{
  const char *preset;
  uint32_t    experts_per_buffer;
  uint32_t    host_expert_layers;
  uint32_t    n_expert_devices;  /* the same device opened again for expert shares */
} Case;

static void
check_case (gconstpointer data)
{
  const Case *c = data;
  g_autofree char *path = generate_model (c->preset);
  PonderVkModelParams params = { -1, true, NULL, c->host_expert_layers, 0 };
  PonderGgufFile *file = NULL;
  PonderModelWeights w;
  PonderVkModel *vkm = NULL;
  PonderThreadpool *pool = NULL;
  PonderBackend *cpu_be = NULL, *vk_be = NULL;
  PonderError error = { 0 };
  int32_t tokens[N_PREFILL + N_DECODE];
  float *want, *got, scale = 0.0f, worst = 0.0f;
  const char *first = NULL;
  uint32_t n_messages;
  size_t n;

  g_assert_cmpint (ponder_gguf_open (path, &file, &error), ==, PONDER_OK);
  g_assert_cmpint (ponder_model_bind (file, &w, &error), ==, PONDER_OK);
  /* layer 1 is the first MoE layer of the tiny presets */
  params.max_expert_buffer = c->experts_per_buffer
                             * (2 * w.layers[1].gate_exps.n_out * w.layers[1].gate_exps.row_bytes);
  params.n_expert_devices = c->n_expert_devices;
  for (uint32_t d = 0; d < c->n_expert_devices; d++)
    params.expert_devices[d] = -1;
  if (ponder_vk_model_new (&w, &params, &vkm, &error) != PONDER_OK)
    {
      g_test_fail_printf ("no Vulkan device to test on: %s", error.message);
      ponder_model_weights_clear (&w);
      ponder_gguf_close (file);
      return;
    }
  g_assert_cmpint (ponder_threadpool_new (2, &pool, &error), ==, PONDER_OK);
  g_assert_cmpint (ponder_backend_cpu_new (pool, 16, ponder_model_max_n_in (&w.hp), &cpu_be,
                                           &error), ==, PONDER_OK);
  g_assert_cmpint (ponder_backend_vulkan_new (vkm, 16, &vk_be, &error), ==, PONDER_OK);
  for (size_t i = 0; i < G_N_ELEMENTS (tokens); i++)
    tokens[i] = (int32_t) ((i * 97 + 13) % w.hp.n_vocab);
  n = G_N_ELEMENTS (tokens) * (size_t) w.hp.n_vocab;
  want = g_new0 (float, n);
  got = g_new0 (float, n);
  run (&w, cpu_be, tokens, want);
  run (&w, vk_be, tokens, got);
  for (size_t i = 0; i < n; i++)
    {
      scale = fmaxf (scale, fabsf (want[i]));
      worst = fmaxf (worst, fabsf (got[i] - want[i]));
    }
  g_test_message ("%s: max |vulkan - cpu| %.3g of max |logit| %.3g", c->preset, worst, scale);
  g_assert_cmpfloat (scale, >, 0.0f);
  g_assert_cmpfloat (worst, <=, 1e-4f * scale);
  n_messages = ponder_vk_model_n_messages (vkm, &first);
  if (n_messages > 0)
    g_test_fail_printf ("%u validation messages; the first: %s", n_messages, first);

  g_free (want);
  g_free (got);
  vk_be->free (vk_be);
  cpu_be->free (cpu_be);
  ponder_threadpool_free (pool);
  ponder_vk_model_free (vkm);
  ponder_model_weights_clear (&w);
  ponder_gguf_close (file);
}

int
main (int    argc,
      char **argv)
{
  static const Case cases[] = {
    { "tiny", 1, 0 },
    { "tiny-noqlora", 3, 0 },
    { "tiny", 3, 1 },
    { "tiny", 1, 0, 2 },
    { "tiny-noqlora", 2, 1, 1 },
  };
  int status;

  g_test_init (&argc, &argv, NULL);
  tmp_dir = g_dir_make_tmp ("ponder-vk-ds2-XXXXXX", NULL);
  g_assert_nonnull (tmp_dir);
  g_test_add_data_func ("/deepseek2/forward/mla-qlora/chunks-of-1", &cases[0], check_case);
  g_test_add_data_func ("/deepseek2/forward/legacy/chunks-of-3", &cases[1], check_case);
  g_test_add_data_func ("/deepseek2/forward/mla-qlora/host-experts", &cases[2], check_case);
  g_test_add_data_func ("/deepseek2/forward/mla-qlora/expert-devices-3", &cases[3], check_case);
  g_test_add_data_func ("/deepseek2/forward/legacy/expert-devices-2-host", &cases[4],
                        check_case);
  status = g_test_run ();
  {
    g_autoptr (GDir) dir = g_dir_open (tmp_dir, 0, NULL);
    const char *name;

    while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
      {
        g_autofree char *p = g_build_filename (tmp_dir, name, NULL);

        g_unlink (p);
      }
  }
  g_rmdir (tmp_dir);
  g_free (tmp_dir);
  return status;
}
