/* test-vulkan-forward.c: whole forward steps on the Vulkan backend under the
 * Khronos validation layer.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A tiny qwen2 model (Q/K/V biases) and a tiny qwen3 model (per-head Q/K
 * norms), both F32, run a prefill batch and then decode steps from the
 * device's KV cache with the validation layer on and a messenger counting
 * its warnings and errors: there must be none. The logits are compared
 * with the CPU backend's (the CPU is held to the numpy reference by
 * test_forward.py; test_vulkan_forward.py compares Vulkan with numpy
 * directly): |vulkan - cpu| <= 1e-4 * max |cpu| on F32 weights, where both
 * are f32 arithmetic (measured ~3e-7). Also: a step whose op fails reports
 * the error from end_step, and the backend still runs the next step.
 *
 * Every weight type the CPU runs has shaders, so two paths only a type
 * without them used to reach are run with kernels hidden by
 * ponder_vk_test_hide_kernels: the host gather of embedding rows (F32 with
 * its embedding kernel hidden, untied and tied, the same 1e-4 against the
 * CPU, under validation) and the refusal of a model whose weights have no
 * matmul (UNSUPPORTED naming the type: a dense model's matrices, and
 * deepseek2's 3-D weights, which ds2_matmul.comp reads).
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

#define N_PREFILL 5
#define N_DECODE  3

static char *tmp_dir;

/* tied: "--tied", "--untied" or NULL (the preset's choice). */
static char *
generate_typed (const char *arch,
                const char *preset,
                const char *type,
                const char *tied,
                const char *name)
{
  const char *src = g_getenv ("PONDER_SOURCE_ROOT");
  g_autofree char *script = g_build_filename (src ? src : "..", "tests", "gen_model.py", NULL);
  char *out = g_build_filename (tmp_dir, name, NULL);
  const char *argv[] = { "/usr/bin/python3", script, "model", "--arch", arch, "--preset", preset,
                         "--type", type, "--out", out, tied, NULL };
  g_autofree char *std_err = NULL;
  int wait_status = 0;

  g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL, NULL,
                               NULL, NULL, &std_err, &wait_status, NULL));
  if (!g_spawn_check_wait_status (wait_status, NULL))
    g_error ("gen_model.py failed: %s", std_err);
  return out;
}

static char *
generate_model (const char *arch,
                const char *name)
{
  return generate_typed (arch, "tiny", "F32", NULL, name);
}

typedef struct
{
  PonderBackend *be;
  PonderForward  fw;
  PonderKvCache  cache;
} Runner;

static void
runner_init (Runner                   *r,
             const PonderModelWeights *w,
             PonderBackend            *be)
{
  PonderError error = { 0 };
  uint32_t k_row, v_row;

  r->be = be;
  ponder_model_kv_rows (&w->hp, &k_row, &v_row);
  g_assert_cmpint (ponder_forward_init (&r->fw, w, be, 16, &error), ==, PONDER_OK);
  g_assert_cmpint (ponder_kv_cache_init (&r->cache, w->hp.n_layers, 64, k_row, v_row, &error),
                   ==, PONDER_OK);
}

static void
runner_clear (Runner *r)
{
  ponder_kv_cache_clear (&r->cache);
  ponder_forward_clear (&r->fw);
  r->be->free (r->be);
}

/* Prefill N_PREFILL tokens (logits of every row), then N_DECODE single
 * steps: (N_PREFILL + N_DECODE) rows of logits. */
static void
runner_logits (Runner        *r,
               const int32_t *tokens,
               uint32_t       n_vocab,
               float         *logits)
{
  g_assert_true (ponder_forward_run (&r->fw, &r->cache, tokens, N_PREFILL, 0, PONDER_LOGITS_ALL,
                                     logits, NULL));
  for (uint32_t i = 0; i < N_DECODE; i++)
    {
      uint32_t pos = N_PREFILL + i;

      if (!ponder_forward_run (&r->fw, &r->cache, tokens + pos, 1, pos, PONDER_LOGITS_LAST,
                               logits + (size_t) pos * n_vocab, NULL))
        g_error ("decode step %u: %s", i, r->fw.error.message);
    }
}

/* The model at path on the device (validation on) against the CPU. */
static void
check_path (const char *arch,
            const char *path)
{
  PonderVkModelParams params = { -1, true, NULL };
  PonderGgufFile *file = NULL;
  PonderModelWeights w;
  PonderVkModel *vkm = NULL;
  PonderThreadpool *pool = NULL;
  PonderBackend *cpu_be = NULL, *vk_be = NULL;
  PonderError error = { 0 };
  Runner cpu, vk;
  int32_t tokens[N_PREFILL + N_DECODE];
  float *want, *got, scale = 0.0f, worst = 0.0f;
  size_t n;
  const char *first = NULL;
  uint32_t n_messages;

  g_assert_cmpint (ponder_gguf_open (path, &file, &error), ==, PONDER_OK);
  g_assert_cmpint (ponder_model_bind (file, &w, &error), ==, PONDER_OK);
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
  runner_init (&cpu, &w, cpu_be);
  runner_init (&vk, &w, vk_be);
  for (size_t i = 0; i < G_N_ELEMENTS (tokens); i++)
    tokens[i] = (int32_t) ((i * 97 + 13) % w.hp.n_vocab);
  n = G_N_ELEMENTS (tokens) * (size_t) w.hp.n_vocab;
  want = g_new0 (float, n);
  got = g_new0 (float, n);
  runner_logits (&cpu, tokens, w.hp.n_vocab, want);
  runner_logits (&vk, tokens, w.hp.n_vocab, got);
  for (size_t i = 0; i < n; i++)
    {
      scale = fmaxf (scale, fabsf (want[i]));
      worst = fmaxf (worst, fabsf (got[i] - want[i]));
    }
  g_test_message ("%s: max |vulkan - cpu| %.3g of max |logit| %.3g", arch, worst, scale);
  g_assert_cmpfloat (scale, >, 0.0f);
  g_assert_cmpfloat (worst, <=, 1e-4f * scale);
  n_messages = ponder_vk_model_n_messages (vkm, &first);
  if (n_messages > 0)
    g_test_fail_printf ("%u validation messages; the first: %s", n_messages, first);

  g_free (want);
  g_free (got);
  runner_clear (&vk);
  runner_clear (&cpu);
  ponder_threadpool_free (pool);
  ponder_vk_model_free (vkm);
  ponder_model_weights_clear (&w);
  ponder_gguf_close (file);
}

/* The pipeline split (layer 0 on one logical device, layer 1 and the head
 * on another, the residual stream handed over through the host) and the
 * device-side greedy pick with a padding mask, under validation: the split
 * gives one device's logits bit for bit, and each pick is the argmax of
 * those logits outside the mask. */
static void
test_split_and_argmax (void)
{
  g_autofree char *path = generate_model ("qwen2", "split.gguf");
  PonderVkModelParams first = { -1, true, NULL }, second = { -1, true, NULL };
  PonderVkModelParams whole = { -1, true, NULL };
  PonderGgufFile *file = NULL;
  PonderModelWeights w;
  PonderVkModel *vk_first = NULL, *vk_second = NULL, *vk_whole = NULL;
  PonderBackend *be_first = NULL, *be_second = NULL, *be_whole = NULL;
  PonderForward stage;
  PonderError error = { 0 };
  Runner one, split;
  int32_t tokens[N_PREFILL + N_DECODE], masked[2];
  float *want, *got;
  const char *msg = NULL;
  size_t n;

  g_assert_cmpint (ponder_gguf_open (path, &file, &error), ==, PONDER_OK);
  g_assert_cmpint (ponder_model_bind (file, &w, &error), ==, PONDER_OK);
  g_assert_cmpuint (w.hp.n_layers, ==, 2);
  first.end_layer = 1;
  second.first_layer = 1;
  if (ponder_vk_model_new (&w, &whole, &vk_whole, &error) != PONDER_OK)
    {
      g_test_fail_printf ("no Vulkan device to test on: %s", error.message);
      ponder_model_weights_clear (&w);
      ponder_gguf_close (file);
      return;
    }
  g_assert_cmpint (ponder_vk_model_new (&w, &first, &vk_first, &error), ==, PONDER_OK);
  g_assert_cmpint (ponder_vk_model_new (&w, &second, &vk_second, &error), ==, PONDER_OK);
  g_assert_cmpint (ponder_backend_vulkan_new (vk_whole, 16, &be_whole, &error), ==, PONDER_OK);
  g_assert_cmpint (ponder_backend_vulkan_new (vk_first, 16, &be_first, &error), ==, PONDER_OK);
  g_assert_cmpint (ponder_backend_vulkan_new (vk_second, 16, &be_second, &error), ==,
                   PONDER_OK);
  runner_init (&one, &w, be_whole);
  runner_init (&split, &w, be_second);
  g_assert_cmpint (ponder_forward_init (&stage, &w, be_first, 16, &error), ==, PONDER_OK);
  g_assert_cmpint (ponder_forward_add_stage (&split.fw, &stage, 1, &error), ==, PONDER_OK);
  for (size_t i = 0; i < G_N_ELEMENTS (tokens); i++)
    tokens[i] = (int32_t) ((i * 89 + 7) % w.hp.n_vocab);
  n = G_N_ELEMENTS (tokens) * (size_t) w.hp.n_vocab;
  want = g_new0 (float, n);
  got = g_new0 (float, n);
  runner_logits (&one, tokens, w.hp.n_vocab, want);
  runner_logits (&split, tokens, w.hp.n_vocab, got);
  g_assert_cmpmem (got, n * sizeof (float), want, n * sizeof (float));

  /* Greedy picks over the last positions again, with the best id masked. */
  g_assert_nonnull (split.fw.logits_device);
  for (uint32_t i = 0; i < N_DECODE; i++)
    {
      uint32_t pos = N_PREFILL + i;
      const float *row = want + (size_t) pos * w.hp.n_vocab;
      int32_t best = -1, second_best = -1;

      for (uint32_t t = 0; t < w.hp.n_vocab; t++)
        if (best < 0 || row[t] > row[best])
          best = (int32_t) t;
      for (uint32_t t = 0; t < w.hp.n_vocab; t++)
        if ((int32_t) t != best && (second_best < 0 || row[t] > row[second_best]))
          second_best = (int32_t) t;
      masked[0] = best;
      masked[1] = (int32_t) w.hp.n_vocab - 1 == best ? 0 : (int32_t) w.hp.n_vocab - 1;
      split.fw.argmax_masked = masked;
      split.fw.argmax_n_masked = 2;
      g_assert_true (ponder_forward_run (&split.fw, &split.cache, tokens + pos, 1, pos,
                                         PONDER_LOGITS_ARGMAX, NULL, NULL));
      if (second_best == masked[1])
        second_best = -2;  /* the other masked id was second: any third is fine */
      if (second_best != -2)
        g_assert_cmpint (split.fw.argmax_id, ==, second_best);
      else
        g_assert_true (split.fw.argmax_id != masked[0] && split.fw.argmax_id != masked[1]);
    }
  g_assert_cmpuint (ponder_vk_model_n_messages (vk_first, &msg), ==, 0);
  g_assert_cmpuint (ponder_vk_model_n_messages (vk_second, &msg), ==, 0);
  g_assert_cmpuint (ponder_vk_model_n_messages (vk_whole, &msg), ==, 0);

  g_free (want);
  g_free (got);
  ponder_forward_clear (&stage);
  be_first->free (be_first);
  runner_clear (&split);
  runner_clear (&one);
  ponder_vk_model_free (vk_first);
  ponder_vk_model_free (vk_second);
  ponder_vk_model_free (vk_whole);
  ponder_model_weights_clear (&w);
  ponder_gguf_close (file);
}

static void
check_arch (const char *arch)
{
  g_autofree char *name = g_strdup_printf ("%s.gguf", arch);
  g_autofree char *path = generate_model (arch, name);

  check_path (arch, path);
}

static void
test_qwen2 (void)
{
  check_arch ("qwen2");
}

/* Rows gathered on the host where the table's type has no embedding
 * kernel: the table is not uploaded (untied) or is uploaded only as the
 * output matrix (tied), and the logits are the CPU's. */
static void
check_host_embedding (const char *tied)
{
  g_autofree char *name = g_strdup_printf ("host-embd%s.gguf", tied);
  g_autofree char *path = generate_typed ("qwen2", "tiny", "F32", tied, name);
  PonderVkModelParams params = { -1, false, NULL };
  PonderGgufFile *file = NULL;
  PonderModelWeights w;
  PonderVkModel *vkm = NULL;
  PonderError error = { 0 };

  ponder_vk_test_hide_kernels (PONDER_TYPE_F32, PONDER_VK_HIDE_EMBED);
  g_assert_cmpint (ponder_gguf_open (path, &file, &error), ==, PONDER_OK);
  g_assert_cmpint (ponder_model_bind (file, &w, &error), ==, PONDER_OK);
  if (ponder_vk_model_new (&w, &params, &vkm, &error) == PONDER_OK)
    {
      g_assert_true ((ponder_vk_model_find_weight (vkm, w.token_embd.data) != NULL)
                     == (w.token_embd.data == w.output.data));
      ponder_vk_model_free (vkm);
    }
  ponder_model_weights_clear (&w);
  ponder_gguf_close (file);
  check_path ("qwen2", path);
  ponder_vk_test_hide_kernels (PONDER_TYPE_F32, 0);
}

static void
test_host_embedding (void)
{
  check_host_embedding ("--untied");
  check_host_embedding ("--tied");
}

/* A weight type whose kernel is missing: the model is refused before any
 * upload with UNSUPPORTED naming the type (the caller's cue to use the
 * CPU), for a dense matrix and for deepseek2's 3-D weights (attn_v_b and
 * the routed experts). */
static void
check_refused (const char *arch,
               unsigned    kinds)
{
  g_autofree char *name = g_strdup_printf ("refused-%s.gguf", arch);
  g_autofree char *path = generate_typed (arch, "tiny256", "Q3_K", NULL, name);
  PonderVkModelParams params = { -1, false, NULL };
  PonderGgufFile *file = NULL;
  PonderModelWeights w;
  PonderVkModel *vkm = NULL;
  PonderError error = { 0 };
  PonderStatus status;

  g_assert_cmpint (ponder_gguf_open (path, &file, &error), ==, PONDER_OK);
  g_assert_cmpint (ponder_model_bind (file, &w, &error), ==, PONDER_OK);
  ponder_vk_test_hide_kernels (PONDER_TYPE_Q3_K, kinds);
  status = ponder_vk_model_new (&w, &params, &vkm, &error);
  ponder_vk_test_hide_kernels (PONDER_TYPE_Q3_K, 0);
  g_test_message ("%s: %s", arch, error.message);
  if (status == PONDER_ERROR_DEVICE)
    g_test_fail_printf ("no Vulkan device to test on: %s", error.message);
  else
    {
      g_assert_cmpint (status, ==, PONDER_ERROR_UNSUPPORTED);
      g_assert_null (vkm);
      g_assert_nonnull (strstr (error.message, "Q3_K"));
    }
  /* with the kernels back the same model loads */
  if (status != PONDER_ERROR_DEVICE)
    {
      g_assert_cmpint (ponder_vk_model_new (&w, &params, &vkm, &error), ==, PONDER_OK);
      ponder_vk_model_free (vkm);
    }
  ponder_model_weights_clear (&w);
  ponder_gguf_close (file);
}

static void
test_refused (void)
{
  check_refused ("llama", PONDER_VK_HIDE_MATMUL);
  check_refused ("deepseek2", PONDER_VK_HIDE_EXPERT);
}

static void
test_qwen3 (void)
{
  check_arch ("qwen3");
}

/* An op that cannot be recorded fails its step with a message, nothing of
 * the step runs, and the next step works. */
static void
test_step_error (void)
{
  g_autofree char *path = generate_model ("llama", "llama.gguf");
  PonderVkModelParams params = { -1, false, NULL };
  PonderGgufFile *file = NULL;
  PonderModelWeights w;
  PonderVkModel *vkm = NULL;
  PonderBackend *be = NULL;
  PonderError error = { 0 };
  Runner r;
  float host[16];
  int32_t tok = 3;
  float *logits;

  g_assert_cmpint (ponder_gguf_open (path, &file, &error), ==, PONDER_OK);
  g_assert_cmpint (ponder_model_bind (file, &w, &error), ==, PONDER_OK);
  if (ponder_vk_model_new (&w, &params, &vkm, &error) != PONDER_OK)
    {
      g_test_fail_printf ("no Vulkan device to test on: %s", error.message);
      ponder_model_weights_clear (&w);
      ponder_gguf_close (file);
      return;
    }
  g_assert_cmpint (ponder_backend_vulkan_new (vkm, 16, &be, &error), ==, PONDER_OK);
  runner_init (&r, &w, be);
  /* An input in host memory is not on the device. */
  g_assert_cmpint (be->begin_step (be, &r.cache, 0, 1, &error), ==, PONDER_OK);
  be->add (be, r.fw.x, host, 16);
  g_assert_cmpint (be->end_step (be, true, &error), ==, PONDER_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error.message, "not on the device"));
  /* A step larger than the backend's batch is refused before recording. */
  g_assert_cmpint (be->begin_step (be, &r.cache, 0, 17, &error), ==,
                   PONDER_ERROR_INVALID_ARGUMENT);
  logits = g_new0 (float, w.hp.n_vocab);
  g_assert_true (ponder_forward_run (&r.fw, &r.cache, &tok, 1, 0, PONDER_LOGITS_LAST, logits,
                                     NULL));
  g_assert_cmpfloat (fabsf (logits[0]) + fabsf (logits[1]), >, 0.0f);
  g_free (logits);
  runner_clear (&r);
  ponder_vk_model_free (vkm);
  ponder_model_weights_clear (&w);
  ponder_gguf_close (file);
}

int
main (int    argc,
      char **argv)
{
  int rc;

  g_test_init (&argc, &argv, NULL);
  tmp_dir = g_dir_make_tmp ("ponder-vulkan-forward-XXXXXX", NULL);
  g_test_add_func ("/vulkan-forward/validation/qwen2", test_qwen2);
  g_test_add_func ("/vulkan-forward/validation/qwen3", test_qwen3);
  g_test_add_func ("/vulkan-forward/validation/host-embedding", test_host_embedding);
  g_test_add_func ("/vulkan-forward/validation/split-and-argmax", test_split_and_argmax);
  g_test_add_func ("/vulkan-forward/refused", test_refused);
  g_test_add_func ("/vulkan-forward/step-error", test_step_error);
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
