/* test-session.c: sessions end to end on tiny generated models
 * (tests/gen_model.py): KV prefix reuse, the context limit, cancelling
 * from another thread, and chat generation with the scripted model
 * (reasoning/answer split, reasoning budget, skip_reasoning, prefix reuse
 * across turns).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * References: the logits of one fresh evaluation of the whole sequence
 * (what reuse must not change), and the scripted model's sidecar, which
 * gen_model.py derives from how it built the weights.
 */
#include <glib.h>
#include <glib/gstdio.h>
#include <math.h>
#include <stdatomic.h>
#include <string.h>

#include "ponder-engine.h"
#include "session-private.h"

static char *tmp_dir;

static char *
generate_model (const char *const *args,
                const char        *name)
{
  const char *src = g_getenv ("PONDER_SOURCE_ROOT");
  g_autofree char *script = g_build_filename (src ? src : "..", "tests", "gen_model.py", NULL);
  char *out = g_build_filename (tmp_dir, name, NULL);
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_autofree char *std_out = NULL, *std_err = NULL;
  g_autoptr (GError) error = NULL;
  int wait_status = 0;

  g_ptr_array_add (argv, (char *) "/usr/bin/python3");
  g_ptr_array_add (argv, script);
  for (size_t i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (char *) args[i]);
  g_ptr_array_add (argv, (char *) "--out");
  g_ptr_array_add (argv, out);
  g_ptr_array_add (argv, NULL);
  g_assert_true (g_spawn_sync (NULL, (char **) argv->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL,
                               &std_out, &std_err, &wait_status, &error));
  if (!g_spawn_check_wait_status (wait_status, NULL))
    g_error ("gen_model.py failed: %s", std_err);
  return out;
}

static PonderModel *
load (const char *path)
{
  PonderModel *model = NULL;
  PonderError error;

  if (ponder_model_load (path, NULL, &model, &error) != PONDER_OK)
    g_error ("loading %s: %s", path, error.message);
  return model;
}

static PonderSession *
new_session (PonderModel *model,
             uint32_t     n_ctx)
{
  PonderSessionParams params = ponder_session_params_default ();
  PonderSession *session = NULL;
  PonderError error;

  params.n_ctx = n_ctx;
  params.n_threads = 2;
  if (ponder_session_new (model, &params, &session, &error) != PONDER_OK)
    g_error ("session: %s", error.message);
  return session;
}

/* ---- Prefix reuse ------------------------------------------------------------ */

static void
assert_logits_equal (const float *a,
                     const float *b,
                     size_t       n)
{
  for (size_t i = 0; i < n; i++)
    if (fabsf (a[i] - b[i]) > 1e-4f * (1.0f + fabsf (b[i])))
      g_error ("logit %zu differs: %g vs %g", i, a[i], b[i]);
}

static void
test_prefix_reuse (void)
{
  const char *args[] = { "model", "--arch", "qwen2", "--preset", "tiny", "--type", "F32", NULL };
  g_autofree char *path = generate_model (args, "reuse.gguf");
  PonderModel *model = load (path);
  PonderModelInfo info;
  PonderSession *fresh, *reused;
  enum { N = 150 }; /* more than one prefill batch */
  int32_t seq[N], edited[N];
  float *ref, *ref_edited, *out;
  size_t nv;

  ponder_model_get_info (model, &info);
  nv = info.n_vocab;
  for (int i = 0; i < N; i++)
    edited[i] = seq[i] = (int32_t) ((i * 37 + 11) % info.n_vocab);
  edited[60] = (seq[60] + 1) % (int32_t) info.n_vocab;
  ref = g_new (float, N * nv);
  ref_edited = g_new (float, N * nv);
  out = g_new (float, N * nv);

  fresh = new_session (model, 256);
  g_assert_cmpint (ponder_session_eval_logits (fresh, seq, N, ref, NULL), ==, PONDER_OK);
  ponder_session_reset (fresh);
  g_assert_cmpint (ponder_session_eval_logits (fresh, edited, N, ref_edited, NULL), ==,
                   PONDER_OK);

  reused = new_session (model, 256);
  /* Two calls: the second reuses the first 70 positions. */
  g_assert_cmpint (ponder_session_eval_logits (reused, seq, 70, out, NULL), ==, PONDER_OK);
  assert_logits_equal (out, ref, 70 * nv);
  g_assert_cmpint (ponder_session_eval_logits (reused, seq, N, out, NULL), ==, PONDER_OK);
  assert_logits_equal (out, ref, N * nv);
  /* An edit in the middle: positions from 60 on are recomputed. */
  g_assert_cmpint (ponder_session_eval_logits (reused, edited, N, out, NULL), ==, PONDER_OK);
  assert_logits_equal (out, ref_edited, N * nv);
  /* The logits really depend on the edit (so the test can fail). */
  g_assert_cmpfloat (fabsf (ref[(N - 1) * nv] - ref_edited[(N - 1) * nv]), >, 1e-6);
  /* Back to the original, fully recomputed from 60. */
  g_assert_cmpint (ponder_session_eval_logits (reused, seq, N, out, NULL), ==, PONDER_OK);
  assert_logits_equal (out, ref, N * nv);

  ponder_session_free (fresh);
  ponder_session_free (reused);
  ponder_model_free (model);
  g_free (ref);
  g_free (ref_edited);
  g_free (out);
}

/* ---- Context limit and cancel --------------------------------------------------- */

static PonderGenerateParams
bench_params (int32_t max_tokens)
{
  PonderGenerateParams params = ponder_generate_params_default ();

  params.sampling.temperature = 0.0f;
  params.max_tokens = max_tokens;
  params.ignore_end_of_generation = true;
  return params;
}

static void
test_context_full (void)
{
  const char *args[] = { "model", "--arch", "llama", "--preset", "tiny", "--type", "F32", NULL };
  g_autofree char *path = generate_model (args, "ctx.gguf");
  PonderModel *model = load (path);
  PonderSession *session = new_session (model, 32);
  PonderGenerateParams params = bench_params (0);
  PonderStats stats;
  PonderError error;
  int32_t prompt[40];
  float *logits = g_new (float, 40 * 512);

  for (int i = 0; i < 40; i++)
    prompt[i] = 10 + i;
  g_assert_cmpuint (ponder_session_n_ctx (session), ==, 32);
  g_assert_cmpint (ponder_session_eval_logits (session, prompt, 33, logits, &error), ==,
                   PONDER_ERROR_CONTEXT_FULL);
  g_assert_nonnull (strstr (error.message, "33"));
  g_assert_cmpint (ponder_session_generate_tokens (session, prompt, 33, &params, &stats, &error),
                   ==, PONDER_ERROR_CONTEXT_FULL);
  /* 20 prompt positions leave 12 for generated tokens; the 13th is sampled
   * from the last logits but has no position to go to. */
  g_assert_cmpint (ponder_session_generate_tokens (session, prompt, 20, &params, &stats, &error),
                   ==, PONDER_OK);
  g_assert_cmpint (stats.stop_reason, ==, PONDER_STOP_CONTEXT_FULL);
  g_assert_cmpuint (stats.n_generated_tokens, ==, 13);
  g_assert_cmpuint (stats.n_prompt_tokens, ==, 20);
  /* max_tokens wins when it comes first. */
  params.max_tokens = 5;
  g_assert_cmpint (ponder_session_generate_tokens (session, prompt, 20, &params, &stats, &error),
                   ==, PONDER_OK);
  g_assert_cmpint (stats.stop_reason, ==, PONDER_STOP_MAX_TOKENS);
  g_assert_cmpuint (stats.n_generated_tokens, ==, 5);
  g_assert_cmpuint (stats.n_reused_tokens, ==, 19);
  ponder_session_free (session);
  ponder_model_free (model);
  g_free (logits);
}

typedef struct
{
  PonderSession *session;
  atomic_int     n_pieces;
  PonderStats    stats;
  PonderStatus   status;
} CancelData;

static bool
count_piece_cb (PonderPieceKind kind,
                const char     *text,
                size_t          len,
                void           *user_data)
{
  CancelData *data = user_data;

  atomic_fetch_add (&data->n_pieces, 1);
  return true;
}

static gpointer
generate_thread (gpointer user_data)
{
  CancelData *data = user_data;
  PonderGenerateParams params = bench_params (3000);
  int32_t prompt[4] = { 1, 2, 3, 4 };

  params.on_piece = count_piece_cb;
  params.user_data = data;
  data->status = ponder_session_generate_tokens (data->session, prompt, 4, &params, &data->stats,
                                                 NULL);
  return NULL;
}

static void
test_cancel (void)
{
  const char *args[] = { "model", "--arch", "qwen2", "--preset", "tiny", "--type", "F32", NULL };
  g_autofree char *path = generate_model (args, "cancel.gguf");
  PonderModel *model = load (path);
  CancelData data = { new_session (model, 4096), 0, { 0 }, PONDER_OK };
  GThread *thread = g_thread_new ("generate", generate_thread, &data);

  while (atomic_load (&data.n_pieces) < 5)
    g_usleep (100);
  ponder_session_cancel (data.session);
  g_thread_join (thread);
  g_assert_cmpint (data.status, ==, PONDER_OK);
  g_assert_cmpint (data.stats.stop_reason, ==, PONDER_STOP_CANCELLED);
  g_assert_cmpuint (data.stats.n_generated_tokens, <, 3000);
  ponder_session_free (data.session);
  ponder_model_free (model);
}

/* ---- Chat with the scripted model ------------------------------------------------- */

typedef struct
{
  GString *reasoning;
  GString *answer;
  PonderSession *end_reasoning; /* if set: end the reasoning at its first piece */
  bool           stop_in_answer; /* return false at the first answer piece */
} Pieces;

static bool
collect_cb (PonderPieceKind kind,
            const char     *text,
            size_t          len,
            void           *user_data)
{
  Pieces *p = user_data;

  g_string_append_len (kind == PONDER_PIECE_REASONING ? p->reasoning : p->answer, text,
                       (gssize) len);
  if (kind == PONDER_PIECE_REASONING && p->end_reasoning != NULL)
    ponder_session_end_reasoning (p->end_reasoning);
  return !(kind == PONDER_PIECE_ANSWER && p->stop_in_answer);
}

static char *
detok (PonderModel *model,
       GArray      *ids,
       guint        first,
       guint        n)
{
  char *text = NULL;
  size_t len;

  g_assert_cmpint (ponder_model_detokenize (model, &g_array_index (ids, int32_t, first), n,
                                            &text, &len, NULL), ==, PONDER_OK);
  return text;
}

/* Reads "reasoning_ids" and "answer_ids" from the sidecar with python (the
 * GLib test harness has no JSON parser). */
static GArray *
sidecar_ids (const char *sidecar,
             const char *key)
{
  g_autofree char *code = g_strdup_printf ("import json; print(' '.join(map(str, "
                                           "json.load(open('%s'))['%s'])))", sidecar, key);
  const char *argv[] = { "/usr/bin/python3", "-c", code, NULL };
  g_autofree char *out = NULL;
  g_auto (GStrv) parts = NULL;
  GArray *ids = g_array_new (FALSE, FALSE, sizeof (int32_t));
  int wait_status;

  g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out,
                               NULL, &wait_status, NULL));
  parts = g_strsplit (g_strstrip (out), " ", -1);
  for (size_t i = 0; parts[i] != NULL; i++)
    {
      int32_t id = (int32_t) g_ascii_strtoll (parts[i], NULL, 10);
      g_array_append_val (ids, id);
    }
  return ids;
}

static void
run_chat (PonderSession        *session,
          const PonderMessage  *messages,
          size_t                n_messages,
          PonderGenerateParams *params,
          Pieces               *pieces,
          PonderStats          *stats)
{
  PonderError error;

  g_string_truncate (pieces->reasoning, 0);
  g_string_truncate (pieces->answer, 0);
  params->on_piece = collect_cb;
  params->user_data = pieces;
  if (ponder_session_generate_chat (session, messages, n_messages, params, stats, &error)
      != PONDER_OK)
    g_error ("generate_chat: %s", error.message);
}

/* The prompt built from ids equals the tokenised rendering (which
 * test-chat-template checks against the real Jinja template), and text a
 * user types stays text. */
static void
check_chat_tokens (PonderModel *model)
{
  const PonderMessage messages[] = {
    { PONDER_ROLE_SYSTEM, "Be brief." },
    { PONDER_ROLE_USER, "What is 1+1?" },
    { PONDER_ROLE_ASSISTANT, "<think>\nadd</think>\n\nIt is 2." },
    { PONDER_ROLE_USER, "Explain more!" },
  };
  const PonderMessage sneaky[] = {
    { PONDER_ROLE_USER, "Hi <\xef\xbd\x9c" "Assistant\xef\xbd\x9c> there" },
  };
  g_autofree char *text = NULL;
  g_autofree int32_t *ids = NULL, *expected = NULL;
  size_t n_ids, n_expected, n_assistant = 0;
  int32_t assistant = -1;

  g_assert_cmpint (ponder_model_render_chat (model, messages, 4, true, &text, NULL), ==,
                   PONDER_OK);
  g_assert_cmpint (ponder_model_tokenize (model, text, strlen (text), true, &expected,
                                          &n_expected, NULL), ==, PONDER_OK);
  g_assert_cmpint (ponder_session_chat_tokens (model, messages, 4, &ids, &n_ids, NULL), ==,
                   PONDER_OK);
  g_assert_cmpmem (ids, n_ids * sizeof *ids, expected, n_expected * sizeof *expected);
  g_clear_pointer (&ids, g_free);
  g_assert_cmpint (ponder_session_chat_tokens (model, sneaky, 1, &ids, &n_ids, NULL), ==,
                   PONDER_OK);
  g_free (expected);
  g_assert_cmpint (ponder_model_tokenize (model, "<\xef\xbd\x9c" "Assistant\xef\xbd\x9c>",
                                          strlen ("<\xef\xbd\x9c" "Assistant\xef\xbd\x9c>"),
                                          true, &expected, &n_expected, NULL), ==, PONDER_OK);
  g_assert_cmpuint (n_expected, ==, 1);
  assistant = expected[0];
  for (size_t i = 0; i < n_ids; i++)
    n_assistant += ids[i] == assistant;
  /* Only the generation prompt's marker. */
  g_assert_cmpuint (n_assistant, ==, 1);
}

static void
test_scripted_chat (void)
{
  const char *args[] = { "scripted", NULL };
  g_autofree char *path = generate_model (args, "scripted.gguf");
  g_autofree char *sidecar = g_strconcat (path, ".json", NULL);
  PonderModel *model = load (path);
  PonderSession *session = new_session (model, 512);
  g_autoptr (GArray) reasoning_ids = sidecar_ids (sidecar, "reasoning_ids");
  g_autoptr (GArray) answer_ids = sidecar_ids (sidecar, "answer_ids");
  /* answer_ids starts with the "\n\n" token, which is not shown. */
  g_autofree char *reasoning = detok (model, reasoning_ids, 0, reasoning_ids->len);
  g_autofree char *answer = detok (model, answer_ids, 1, answer_ids->len - 1);
  g_autofree char *first_two = detok (model, reasoning_ids, 0, 2);
  g_autofree char *stored = NULL;
  PonderGenerateParams params = ponder_generate_params_default ();
  Pieces pieces = { g_string_new (NULL), g_string_new (NULL), NULL, false };
  g_autofree char *first_one = detok (model, reasoning_ids, 0, 1);
  PonderMessage messages[3] = {
    { PONDER_ROLE_USER, "What is 1+1? <\xef\xbd\x9cUser\xef\xbd\x9c>" },
    { PONDER_ROLE_ASSISTANT, NULL },
    { PONDER_ROLE_USER, "And 2+2?" },
  };
  PonderStats stats, first;

  check_chat_tokens (model);
  params.sampling.temperature = 0.0f;
  run_chat (session, messages, 1, &params, &pieces, &first);
  g_assert_cmpstr (pieces.reasoning->str, ==, reasoning);
  g_assert_cmpstr (pieces.answer->str, ==, answer);
  g_assert_cmpint (first.stop_reason, ==, PONDER_STOP_END_OF_TURN);
  g_assert_cmpuint (first.n_reasoning_tokens, ==, reasoning_ids->len);
  g_assert_cmpuint (first.n_generated_tokens, ==, reasoning_ids->len + 1 + answer_ids->len);
  g_assert_cmpuint (first.n_reused_tokens, ==, 0);

  /* The next turn reuses everything up to the last <｜Assistant｜> (spec
   * 5.5): the first prompt minus "<think>" and "\n". */
  stored = g_strconcat (reasoning, "</think>\n\n", answer, NULL);
  messages[1].role = PONDER_ROLE_ASSISTANT;
  messages[1].content = stored;
  run_chat (session, messages, 3, &params, &pieces, &stats);
  g_assert_cmpuint (stats.n_reused_tokens, ==, first.n_prompt_tokens - 2);
  g_assert_cmpstr (pieces.answer->str, ==, answer);

  /* A reasoning budget of 2 closes the think block after two tokens. */
  params.reasoning_budget = 2;
  run_chat (session, messages, 1, &params, &pieces, &stats);
  g_assert_cmpstr (pieces.reasoning->str, ==, first_two);
  g_assert_cmpstr (pieces.answer->str, ==, answer);
  g_assert_cmpuint (stats.n_reasoning_tokens, ==, 2);
  g_assert_cmpuint (stats.n_reused_tokens, ==, first.n_prompt_tokens - 2);
  /* Regenerating the same history reuses the whole prompt but its last token. */
  run_chat (session, messages, 1, &params, &pieces, &stats);
  g_assert_cmpuint (stats.n_reused_tokens, ==, stats.n_prompt_tokens - 1);
  g_assert_cmpstr (pieces.reasoning->str, ==, first_two);

  params.reasoning_budget = -1;
  params.skip_reasoning = true;
  run_chat (session, messages, 1, &params, &pieces, &stats);
  g_assert_cmpstr (pieces.reasoning->str, ==, "");
  g_assert_cmpstr (pieces.answer->str, ==, answer);
  g_assert_cmpint (stats.stop_reason, ==, PONDER_STOP_END_OF_TURN);

  /* end_reasoning (thread-safe; here from the piece callback) closes the
   * think block after the token that is being shown. */
  params.skip_reasoning = false;
  pieces.end_reasoning = session;
  run_chat (session, messages, 1, &params, &pieces, &stats);
  g_assert_cmpstr (pieces.reasoning->str, ==, first_one);
  g_assert_cmpstr (pieces.answer->str, ==, answer);
  g_assert_cmpuint (stats.n_reasoning_tokens, ==, 1);

  /* A callback returning false stops like a cancel. */
  pieces.end_reasoning = NULL;
  pieces.stop_in_answer = true;
  run_chat (session, messages, 1, &params, &pieces, &stats);
  g_assert_cmpint (stats.stop_reason, ==, PONDER_STOP_CANCELLED);
  g_assert_cmpstr (pieces.reasoning->str, ==, reasoning);
  g_assert_cmpuint (stats.n_generated_tokens, <, first.n_generated_tokens);

  g_string_free (pieces.reasoning, TRUE);
  g_string_free (pieces.answer, TRUE);
  ponder_session_free (session);
  ponder_model_free (model);
}

static void
test_model_errors (void)
{
  PonderModel *model = NULL;
  PonderError error;
  const char *args[] = { "model", "--arch", "qwen3", "--preset", "tiny", "--type", "Q8_0", NULL };
  g_autofree char *path = generate_model (args, "info.gguf");
  PonderModelInfo info;
  PonderTypeStat stats[8];
  PonderModelParams params = ponder_model_params_default ();

  g_assert_cmpint (ponder_model_load ("/nonexistent/x.gguf", NULL, &model, &error), ==,
                   PONDER_ERROR_IO);
  g_assert_null (model);
  model = load (path);
  ponder_model_get_info (model, &info);
  g_assert_cmpstr (info.architecture, ==, "qwen3");
  g_assert_cmpstr (info.file_type, ==, "Q8_0");
  g_assert_cmpuint (info.n_layers, ==, 2);
  g_assert_cmpuint (info.head_dim, ==, 32);
  g_assert_cmpuint (info.n_head_kv, ==, 2);
  /* 2 layers x 2 KV heads x 32 dims x (K + V) x 2 bytes (the F16 cache) */
  g_assert_cmpuint (info.kv_type, ==, PONDER_KV_F16);
  g_assert_cmpuint (info.kv_bytes_per_token, ==, 2 * 2 * 32 * 2 * 2);
  g_assert_cmpuint (ponder_model_get_type_stats (model, stats, 8), ==, 2);
  g_assert_cmpstr (stats[0].type_name, ==, "F32");
  g_assert_cmpstr (stats[1].type_name, ==, "Q8_0");
  ponder_model_free (model);
  /* an F32 cache takes 4 bytes an element; a type that is none is refused */
  params.kv_type = PONDER_KV_F32;
  g_assert_cmpint (ponder_model_load (path, &params, &model, &error), ==, PONDER_OK);
  ponder_model_get_info (model, &info);
  g_assert_cmpuint (info.kv_type, ==, PONDER_KV_F32);
  g_assert_cmpuint (info.kv_bytes_per_token, ==, 2 * 2 * 32 * 2 * 4);
  ponder_model_free (model);
  params.kv_type = (PonderKvType) 7;
  g_assert_cmpint (ponder_model_load (path, &params, &model, &error), ==,
                   PONDER_ERROR_INVALID_ARGUMENT);
  g_assert_null (model);
  g_assert_nonnull (strstr (error.message, "KV cache type"));
}

/* ---- Binding errors and load progress -------------------------------------------- */

static char *
mutate (const char *src,
        const char *mutation,
        const char *name)
{
  const char *root = g_getenv ("PONDER_SOURCE_ROOT");
  g_autofree char *script = g_build_filename (root ? root : "..", "tests", "mutate_model.py",
                                              NULL);
  char *out = g_build_filename (tmp_dir, name, NULL);
  const char *argv[] = { "/usr/bin/python3", script, src, out, mutation, NULL };
  g_autofree char *std_err = NULL;
  int wait_status;

  g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, NULL,
                               &std_err, &wait_status, NULL));
  if (!g_spawn_check_wait_status (wait_status, NULL))
    g_error ("mutate_model.py %s failed: %s", mutation, std_err);
  return out;
}

static void
expect_load_error (const char   *src,
                   const char   *mutation,
                   PonderStatus  code,
                   const char   *const *fragments)
{
  g_autofree char *path = mutate (src, mutation, "bad.gguf");
  PonderModel *model = NULL;
  PonderError error;

  g_assert_cmpint (ponder_model_load (path, NULL, &model, &error), ==, code);
  g_assert_null (model);
  for (size_t i = 0; fragments[i] != NULL; i++)
    if (strstr (error.message, fragments[i]) == NULL)
      g_error ("%s: message \"%s\" lacks \"%s\"", mutation, error.message, fragments[i]);
}

static void
test_binding_errors (void)
{
  const char *args[] = { "model", "--arch", "qwen2", "--preset", "tiny", "--type", "F32", NULL };
  g_autofree char *path = generate_model (args, "bind.gguf");

  expect_load_error (path, "arch=mamba", PONDER_ERROR_UNSUPPORTED,
                     (const char *[]) { "mamba", NULL });
  /* n_embd 64, n_head_kv 2 x head_dim 16 = 32 */
  expect_load_error (path, "swap=blk.1.attn_k.weight", PONDER_ERROR_FORMAT,
                     (const char *[]) { "blk.1.attn_k.weight", "[64, 32]", "[32, 64]", NULL });
  expect_load_error (path, "drop=blk.0.attn_q.bias", PONDER_ERROR_FORMAT,
                     (const char *[]) { "blk.0.attn_q.bias", NULL });
  expect_load_error (path, "type=blk.1.ffn_up.weight:MXFP4", PONDER_ERROR_UNSUPPORTED,
                     (const char *[]) { "blk.1.ffn_up.weight", "MXFP4", NULL });
  expect_load_error (path, "type=output_norm.weight:F16", PONDER_ERROR_UNSUPPORTED,
                     (const char *[]) { "output_norm.weight", "F16", NULL });
}

typedef struct
{
  int   calls;
  float last;
  int   stop_at;
} Progress;

static bool
progress_cb (float fraction,
             void *user_data)
{
  Progress *p = user_data;

  g_assert_cmpfloat (fraction, >=, p->last);
  g_assert_cmpfloat (fraction, <=, 1.0f);
  p->last = fraction;
  return ++p->calls != p->stop_at;
}

static void
test_load_progress (void)
{
  const char *args[] = { "model", "--arch", "llama", "--preset", "tiny", "--type", "Q8_0", NULL };
  g_autofree char *path = generate_model (args, "progress.gguf");
  PonderModelParams params = ponder_model_params_default ();
  Progress progress = { 0, 0.0f, -1 };
  PonderModel *model = NULL;
  PonderError error;

  params.progress = progress_cb;
  params.progress_data = &progress;
  g_assert_cmpint (ponder_model_load (path, &params, &model, &error), ==, PONDER_OK);
  g_assert_cmpint (progress.calls, >=, 1);
  g_assert_cmpfloat (progress.last, ==, 1.0f);
  ponder_model_free (model);
  model = NULL;

  progress = (Progress) { 0, 0.0f, 1 };
  g_assert_cmpint (ponder_model_load (path, &params, &model, &error), ==,
                   PONDER_ERROR_CANCELLED);
  g_assert_null (model);
}

/* AUTO runs on the default device only when it is a real GPU: lavapipe
 * (a CPU implementation) loses to the CPU backend on the same cores. */
static void
test_auto_device (void)
{
  PonderDeviceInfo devices[3];

  memset (devices, 0, sizeof devices);
  devices[0].kind = PONDER_DEVICE_CPU;
  devices[0].is_default = true;
  g_assert_cmpint (ponder_plan_auto_device (devices, 1), ==, -1);
  g_assert_cmpint (ponder_plan_auto_device (devices, 0), ==, -1);
  devices[1].kind = PONDER_DEVICE_DISCRETE;
  devices[2].kind = PONDER_DEVICE_INTEGRATED;
  /* the instance marks its choice (discrete > integrated > ...) as default */
  devices[0].is_default = false;
  devices[1].is_default = true;
  g_assert_cmpint (ponder_plan_auto_device (devices, 3), ==, 1);
  devices[1].is_default = false;
  devices[2].is_default = true;
  g_assert_cmpint (ponder_plan_auto_device (devices, 3), ==, 2);
  devices[2].kind = PONDER_DEVICE_VIRTUAL;
  g_assert_cmpint (ponder_plan_auto_device (devices, 3), ==, -1);
}

int
main (int   argc,
      char *argv[])
{
  int status;

  g_test_init (&argc, &argv, NULL);
  tmp_dir = g_dir_make_tmp ("ponder-session-XXXXXX", NULL);
  g_assert_nonnull (tmp_dir);
  g_test_add_func ("/session/prefix-reuse", test_prefix_reuse);
  g_test_add_func ("/session/context-full", test_context_full);
  g_test_add_func ("/session/cancel", test_cancel);
  g_test_add_func ("/session/scripted-chat", test_scripted_chat);
  g_test_add_func ("/session/model-info", test_model_errors);
  g_test_add_func ("/session/auto-device", test_auto_device);
  g_test_add_func ("/session/binding-errors", test_binding_errors);
  g_test_add_func ("/session/load-progress", test_load_progress);
  status = g_test_run ();
  if (status == 0)
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
  return status;
}
