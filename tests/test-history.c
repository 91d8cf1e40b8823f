/* test-history.c — the history store: conversations, the message tree,
 * branches, streaming, deletes with undo
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <string.h>

#include "ponder-history.h"
#include "history-test-util.h"

typedef struct
{
  char          *dir;
  char          *path;
  PonderHistory *history;
} Fixture;

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  f->dir = history_test_dir_new ();
  f->path = g_build_filename (f->dir, "history.db", NULL);
  f->history = ponder_history_new (f->path, 0, &error);
  g_assert_no_error (error);
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  g_clear_object (&f->history);
  g_free (f->path);
  history_test_dir_free (f->dir);
}

static void
reopen (Fixture *f)
{
  g_autoptr(GError) error = NULL;

  g_clear_object (&f->history);
  f->history = ponder_history_new (f->path, 0, &error);
  g_assert_no_error (error);
}

static gint64
add (Fixture           *f,
     gint64             conversation,
     gint64             parent,
     PonderHistoryRole  role,
     const char        *content)
{
  g_autoptr(PonderHistoryMessage) m = ponder_history_message_new (role, content);
  g_autoptr(GError) error = NULL;
  gint64 id;

  id = ponder_history_add_message (f->history, conversation, parent, m, &error);
  g_assert_no_error (error);
  g_assert_cmpint (id, >, 0);
  return id;
}

static gint64
create (Fixture    *f,
        const char *title)
{
  g_autoptr(GError) error = NULL;
  gint64 id = ponder_history_create_conversation (f->history, title, "r1-tiny", &error);

  g_assert_no_error (error);
  g_assert_cmpint (id, >, 0);
  return id;
}

/* Checks the active path's ids and "index/count" labels. */
static void
assert_path (Fixture      *f,
             gint64        conversation,
             const gint64 *ids,
             const char  **labels,
             guint         n)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) path = ponder_history_list_active_path (f->history, conversation, &error);

  g_assert_no_error (error);
  g_assert_cmpuint (path->len, ==, n);
  for (guint i = 0; i < n; i++)
    {
      PonderHistoryMessage *m = g_ptr_array_index (path, i);
      g_autofree char *label = g_strdup_printf ("%u/%u", m->sibling_index + 1, m->n_siblings);

      g_assert_cmpint (m->id, ==, ids[i]);
      g_assert_cmpstr (label, ==, labels[i]);
    }
}

static void
test_conversations (Fixture       *f,
                    gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) list = NULL;
  g_autoptr(PonderHistoryConversation) c = NULL;
  PonderHistorySampling s;
  sqlite3 *raw;
  gint64 a, b, c3;

  a = create (f, "first");
  g_usleep (2000);
  b = create (f, "second");
  g_usleep (2000);
  c3 = create (f, "third");

  list = ponder_history_list_conversations (f->history, 0, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (list->len, ==, 3);
  g_assert_cmpint (((PonderHistoryConversation *) list->pdata[0])->id, ==, c3);
  g_assert_cmpint (((PonderHistoryConversation *) list->pdata[2])->id, ==, a);
  g_clear_pointer (&list, g_ptr_array_unref);

  /* A new message moves a conversation to the top. */
  g_usleep (2000);
  add (f, a, 0, PONDER_HISTORY_ROLE_USER, "hello");
  list = ponder_history_list_conversations (f->history, 2, &error);
  g_assert_cmpuint (list->len, ==, 2);
  g_assert_cmpint (((PonderHistoryConversation *) list->pdata[0])->id, ==, a);
  g_assert_cmpint (((PonderHistoryConversation *) list->pdata[1])->id, ==, c3);
  g_clear_pointer (&list, g_ptr_array_unref);

  g_assert_true (ponder_history_rename_conversation (f->history, b, "renamed", &error));
  c = ponder_history_get_conversation (f->history, b, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (c->title, ==, "renamed");
  g_assert_cmpstr (c->model, ==, "r1-tiny");
  g_assert_null (c->system_prompt);
  g_assert_cmpfloat (c->sampling.temperature, ==, 0.6);
  g_assert_cmpfloat (c->sampling.top_p, ==, 0.95);
  g_clear_pointer (&c, ponder_history_conversation_free);

  s = (PonderHistorySampling) { 0.3, 0.9, 40, 0.05, 1.1, 2048, 1234, 512, TRUE };
  g_assert_true (ponder_history_set_conversation_settings (f->history, b, "other", "Be brief.",
                                                           &s, &error));
  reopen (f);
  c = ponder_history_get_conversation (f->history, b, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (c->model, ==, "other");
  g_assert_cmpstr (c->system_prompt, ==, "Be brief.");
  g_assert_cmpfloat (c->sampling.temperature, ==, 0.3);
  g_assert_cmpfloat (c->sampling.top_p, ==, 0.9);
  g_assert_cmpint (c->sampling.top_k, ==, 40);
  g_assert_cmpfloat (c->sampling.min_p, ==, 0.05);
  g_assert_cmpfloat (c->sampling.repeat_penalty, ==, 1.1);
  g_assert_cmpint (c->sampling.max_tokens, ==, 2048);
  g_assert_cmpint (c->sampling.seed, ==, 1234);
  g_assert_cmpint (c->sampling.reasoning_budget, ==, 512);
  g_assert_true (c->sampling.skip_reasoning);

  /* Delete, undo, delete again, purge. */
  g_assert_true (ponder_history_delete_conversation (f->history, a, &error));
  list = ponder_history_list_conversations (f->history, 0, &error);
  g_assert_cmpuint (list->len, ==, 2);
  g_clear_pointer (&list, g_ptr_array_unref);
  g_assert_null (ponder_history_get_conversation (f->history, a, &error));
  g_assert_error (error, PONDER_HISTORY_ERROR, PONDER_HISTORY_ERROR_NOT_FOUND);
  g_clear_error (&error);

  g_assert_true (ponder_history_undelete_conversation (f->history, a, &error));
  list = ponder_history_list_conversations (f->history, 0, &error);
  g_assert_cmpuint (list->len, ==, 3);
  g_clear_pointer (&list, g_ptr_array_unref);

  g_assert_true (ponder_history_delete_conversation (f->history, a, &error));
  g_assert_true (ponder_history_purge (f->history, &error));
  g_assert_no_error (error);
  raw = history_test_raw_open (f->path);
  g_assert_cmpint (history_test_raw_int (raw, "SELECT count(*) FROM conversations"), ==, 2);
  g_assert_cmpint (history_test_raw_int (raw, "SELECT count(*) FROM messages"), ==, 0);
  sqlite3_close (raw);

  g_assert_false (ponder_history_undelete_conversation (f->history, a, &error));
  g_assert_error (error, PONDER_HISTORY_ERROR, PONDER_HISTORY_ERROR_NOT_FOUND);
}

static void
test_branching (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) siblings = NULL;
  g_autoptr(PonderHistoryMessage) stray = ponder_history_message_new (PONDER_HISTORY_ROLE_USER, "x");
  gint64 conv, u1, a1, u1b, a1b, a1c, u2;
  sqlite3 *raw;

  conv = create (f, "branches");
  u1 = add (f, conv, 0, PONDER_HISTORY_ROLE_USER, "What is 2+2?");
  a1 = add (f, conv, u1, PONDER_HISTORY_ROLE_ASSISTANT, "4");
  u2 = add (f, conv, a1, PONDER_HISTORY_ROLE_USER, "And 3+3?");

  assert_path (f, conv, (gint64[]) { u1, a1, u2 }, (const char *[]) { "1/1", "1/1", "1/1" }, 3);

  /* Editing the first message is a new root; its answer, a new child. */
  u1b = add (f, conv, 0, PONDER_HISTORY_ROLE_USER, "What is 2+3?");
  a1b = add (f, conv, u1b, PONDER_HISTORY_ROLE_ASSISTANT, "5");
  assert_path (f, conv, (gint64[]) { u1b, a1b }, (const char *[]) { "2/2", "1/1" }, 2);

  /* Regenerating the answer adds a sibling. */
  a1c = add (f, conv, u1b, PONDER_HISTORY_ROLE_ASSISTANT, "five");
  assert_path (f, conv, (gint64[]) { u1b, a1c }, (const char *[]) { "2/2", "2/2" }, 2);

  siblings = ponder_history_list_siblings (f->history, a1b, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (siblings->len, ==, 2);
  g_assert_cmpint (((PonderHistoryMessage *) siblings->pdata[0])->id, ==, a1b);
  g_assert_cmpint (((PonderHistoryMessage *) siblings->pdata[1])->id, ==, a1c);
  g_assert_cmpuint (((PonderHistoryMessage *) siblings->pdata[1])->sibling_index, ==, 1);
  g_clear_pointer (&siblings, g_ptr_array_unref);

  /* "‹" on the answer. */
  g_assert_true (ponder_history_select_message (f->history, a1b, &error));
  assert_path (f, conv, (gint64[]) { u1b, a1b }, (const char *[]) { "2/2", "1/2" }, 2);

  /* "‹" on the first message brings back the whole old branch. */
  g_assert_true (ponder_history_select_message (f->history, u1, &error));
  assert_path (f, conv, (gint64[]) { u1, a1, u2 }, (const char *[]) { "1/2", "1/1", "1/1" }, 3);

  /* Selecting a deep message selects its ancestors; the choice under u1b
   * (a1b) is remembered across a restart. */
  g_assert_true (ponder_history_select_message (f->history, u2, &error));
  reopen (f);
  assert_path (f, conv, (gint64[]) { u1, a1, u2 }, (const char *[]) { "1/2", "1/1", "1/1" }, 3);
  g_assert_true (ponder_history_select_message (f->history, u1b, &error));
  assert_path (f, conv, (gint64[]) { u1b, a1b }, (const char *[]) { "2/2", "1/2" }, 2);

  /* Nothing was overwritten. */
  raw = history_test_raw_open (f->path);
  g_assert_cmpint (history_test_raw_int (raw, "SELECT count(*) FROM messages"), ==, 6);
  g_assert_cmpint (history_test_raw_int (raw, "SELECT count(*) FROM messages WHERE"
                                              " content = 'What is 2+2?' AND parent_id IS NULL"),
                   ==, 1);
  sqlite3_close (raw);

  /* Parents must be live and in the same conversation. */
  g_assert_cmpint (ponder_history_add_message (f->history, create (f, "other"), a1,
                                               stray, &error),
                   ==, 0);
  g_assert_error (error, PONDER_HISTORY_ERROR, PONDER_HISTORY_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_cmpint (ponder_history_add_message (f->history, conv, 999999,
                                               stray, &error),
                   ==, 0);
  g_assert_error (error, PONDER_HISTORY_ERROR, PONDER_HISTORY_ERROR_NOT_FOUND);
}

static void
test_streaming (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PonderHistoryMessage) answer = NULL;
  g_autoptr(PonderHistoryMessage) got = NULL;
  gint64 conv, u, a;

  conv = create (f, "stream");
  u = add (f, conv, 0, PONDER_HISTORY_ROLE_USER, "Think hard.");
  got = ponder_history_get_message (f->history, u, &error);
  g_assert_false (got->has_sampling);
  g_clear_pointer (&got, ponder_history_message_free);

  answer = ponder_history_message_new (PONDER_HISTORY_ROLE_ASSISTANT, "");
  answer->complete = FALSE;
  answer->has_sampling = TRUE;
  answer->sampling = (PonderHistorySampling) { 0.7, 0.8, 20, 0.1, 1.05, 100, 42, 64, FALSE };
  answer->model = g_strdup ("r1-7b-q4");
  a = ponder_history_add_message (f->history, conv, u, answer, &error);
  g_assert_no_error (error);

  g_assert_true (ponder_history_update_partial (f->history, a, "", "Hmm", &error));
  g_assert_true (ponder_history_update_partial (f->history, a, "The", "Hmm, okay.", &error));
  g_assert_true (ponder_history_update_partial (f->history, a, "The answer", NULL, &error));
  g_assert_no_error (error);

  reopen (f);
  got = ponder_history_get_message (f->history, a, &error);
  g_assert_cmpstr (got->content, ==, "The answer");
  g_assert_cmpstr (got->reasoning, ==, "Hmm, okay.");
  g_assert_false (got->complete);
  g_assert_cmpstr (got->model, ==, "r1-7b-q4");
  g_assert_true (got->has_sampling);
  g_assert_cmpfloat (got->sampling.temperature, ==, 0.7);
  g_assert_cmpint (got->sampling.top_k, ==, 20);
  g_assert_cmpint (got->sampling.seed, ==, 42);
  g_assert_cmpint (got->sampling.reasoning_budget, ==, 64);
  g_assert_cmpfloat (got->reasoning_s, <, 0);
  g_assert_cmpint (got->n_answer_tokens, ==, -1);
  g_clear_pointer (&got, ponder_history_message_free);

  answer->id = a;
  g_free (answer->content);
  answer->content = g_strdup ("The answer is 42.");
  g_free (answer->reasoning);
  answer->reasoning = g_strdup ("Hmm, okay. Done.");
  answer->reasoning_s = 12.5;
  answer->time_to_first_token_s = 0.25;
  answer->tokens_per_s = 31.5;
  answer->n_prompt_tokens = 9;
  answer->n_reasoning_tokens = 120;
  answer->n_answer_tokens = 7;
  answer->complete = TRUE;
  g_assert_true (ponder_history_finish_message (f->history, answer, &error));
  g_assert_true (ponder_history_set_reasoning_expanded (f->history, a, TRUE, &error));
  g_assert_no_error (error);

  reopen (f);
  got = ponder_history_get_message (f->history, a, &error);
  g_assert_cmpstr (got->content, ==, "The answer is 42.");
  g_assert_cmpstr (got->reasoning, ==, "Hmm, okay. Done.");
  g_assert_true (got->complete);
  g_assert_true (got->reasoning_expanded);
  g_assert_cmpfloat (got->reasoning_s, ==, 12.5);
  g_assert_cmpfloat (got->time_to_first_token_s, ==, 0.25);
  g_assert_cmpfloat (got->tokens_per_s, ==, 31.5);
  g_assert_cmpint (got->n_prompt_tokens, ==, 9);
  g_assert_cmpint (got->n_reasoning_tokens, ==, 120);
  g_assert_cmpint (got->n_answer_tokens, ==, 7);

  g_assert_false (ponder_history_update_partial (f->history, 424242, "x", NULL, &error));
  g_assert_error (error, PONDER_HISTORY_ERROR, PONDER_HISTORY_ERROR_NOT_FOUND);
}

static void
test_delete_undo (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  gint64 conv, u1, a1, a2, u2, a3;
  sqlite3 *raw;

  /* u1 ─┬─ a1 ── u2 ── a3
   *     └─ a2            (a1 chosen) */
  conv = create (f, "deletes");
  u1 = add (f, conv, 0, PONDER_HISTORY_ROLE_USER, "q1");
  a1 = add (f, conv, u1, PONDER_HISTORY_ROLE_ASSISTANT, "first answer");
  a2 = add (f, conv, u1, PONDER_HISTORY_ROLE_ASSISTANT, "second answer");
  g_assert_true (ponder_history_select_message (f->history, a1, &error));
  u2 = add (f, conv, a1, PONDER_HISTORY_ROLE_USER, "q2");
  a3 = add (f, conv, u2, PONDER_HISTORY_ROLE_ASSISTANT, "third answer");
  assert_path (f, conv, (gint64[]) { u1, a1, u2, a3 },
               (const char *[]) { "1/1", "1/2", "1/1", "1/1" }, 4);

  /* Deleting the chosen answer hides its subtree; the other branch shows. */
  g_assert_true (ponder_history_delete_message (f->history, a1, &error));
  assert_path (f, conv, (gint64[]) { u1, a2 }, (const char *[]) { "1/1", "1/1" }, 2);
  g_assert_null (ponder_history_get_message (f->history, u2, &error));
  g_assert_error (error, PONDER_HISTORY_ERROR, PONDER_HISTORY_ERROR_NOT_FOUND);
  g_clear_error (&error);

  /* Undo restores the subtree and the old choice. */
  g_assert_true (ponder_history_undelete_message (f->history, a1, &error));
  assert_path (f, conv, (gint64[]) { u1, a1, u2, a3 },
               (const char *[]) { "1/1", "1/2", "1/1", "1/1" }, 4);

  /* Two separate deletes: undoing the outer one leaves the inner one. */
  g_assert_true (ponder_history_delete_message (f->history, a3, &error));
  g_assert_true (ponder_history_delete_message (f->history, a1, &error));
  g_assert_true (ponder_history_undelete_message (f->history, a1, &error));
  assert_path (f, conv, (gint64[]) { u1, a1, u2 }, (const char *[]) { "1/1", "1/2", "1/1" }, 3);
  g_assert_false (ponder_history_undelete_message (f->history, u2, &error));
  g_assert_error (error, PONDER_HISTORY_ERROR, PONDER_HISTORY_ERROR_NOT_FOUND);
  g_clear_error (&error);

  /* Deleted rows survive a restart until purged. */
  reopen (f);
  raw = history_test_raw_open (f->path);
  g_assert_cmpint (history_test_raw_int (raw, "SELECT count(*) FROM messages"), ==, 5);
  g_assert_true (ponder_history_purge (f->history, &error));
  g_assert_no_error (error);
  g_assert_cmpint (history_test_raw_int (raw, "SELECT count(*) FROM messages"), ==, 4);
  g_assert_cmpint (history_test_raw_int (raw, "SELECT count(*) FROM messages"
                                              " WHERE content = 'third answer'"), ==, 0);
  g_assert_cmpint (history_test_raw_int (raw, "SELECT count(*) FROM pragma_foreign_key_check"),
                   ==, 0);
  sqlite3_close (raw);

  g_assert_false (ponder_history_undelete_message (f->history, a3, &error));
  g_assert_error (error, PONDER_HISTORY_ERROR, PONDER_HISTORY_ERROR_NOT_FOUND);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

#define ADD(name, func) \
  g_test_add (name, Fixture, NULL, fixture_set_up, func, fixture_tear_down)
  ADD ("/history/conversations", test_conversations);
  ADD ("/history/tree/branching", test_branching);
  ADD ("/history/tree/streaming", test_streaming);
  ADD ("/history/tree/delete-undo", test_delete_undo);
#undef ADD

  return g_test_run ();
}
