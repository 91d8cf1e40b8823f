/* bench-history.c — history store speed: search over 100,000 messages and
 * listing 1,000 conversations (a benchmark, not a test: it reports times)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Usage: bench-history [N-CONVERSATIONS [MESSAGES-PER-CONVERSATION]]
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ponder-history.h"
#include "ponder-history-private.h"
#include "history-test-util.h"

static const char * const words[] = {
  "the", "model", "thinks", "about", "prime", "numbers", "and", "answers", "with", "a", "proof",
  "integral", "derivative", "matrix", "vector", "python", "function", "returns", "list", "of",
  "values", "because", "therefore", "wait", "let", "me", "check", "again", "so", "result", "is",
  "equal", "to", "square", "root", "triangle", "angle", "probability", "coin", "dice",
};

static char *
make_text (GRand *rand,
           guint  n_words)
{
  GString *s = g_string_new (NULL);

  for (guint i = 0; i < n_words; i++)
    {
      g_string_append (s, words[g_rand_int_range (rand, 0, G_N_ELEMENTS (words))]);
      g_string_append_c (s, ' ');
    }
  return g_string_free (s, FALSE);
}

static double
now_ms (void)
{
  return g_get_monotonic_time () / 1000.0;
}

static void
fill (PonderHistory *history,
      guint          n_conversations,
      guint          per_conversation)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GRand) rand = g_rand_new_with_seed (1);
  sqlite3 *db = _ponder_history_get_db (history);

  for (guint c = 0; c < n_conversations; c++)
    {
      g_autofree char *title = g_strdup_printf ("Conversation %u about %s", c,
                                                words[c % G_N_ELEMENTS (words)]);
      gint64 id, parent = 0;

      /* One transaction per conversation, as an import would do. */
      history_test_raw_exec (db, "SAVEPOINT fill");
      id = ponder_history_create_conversation (history, title, "r1", &error);
      g_assert_no_error (error);
      for (guint m = 0; m < per_conversation; m++)
        {
          g_autofree char *text = make_text (rand, 40);
          g_autoptr(PonderHistoryMessage) msg =
            ponder_history_message_new (m % 2 ? PONDER_HISTORY_ROLE_ASSISTANT
                                              : PONDER_HISTORY_ROLE_USER, text);

          /* One rare word, in one message of every hundred conversations. */
          if (c % 100 == 7 && m == per_conversation / 2)
            {
              g_free (msg->content);
              msg->content = g_strconcat (text, " xylophone", NULL);
            }
          parent = ponder_history_add_message (history, id, parent, msg, &error);
          g_assert_no_error (error);
        }
      history_test_raw_exec (db, "RELEASE fill");
    }
}

static void
time_search (PonderHistory *history,
             const char    *query,
             guint          limit)
{
  g_autoptr(GError) error = NULL;
  double best = G_MAXDOUBLE;
  guint n = 0;

  for (guint rep = 0; rep < 5; rep++)
    {
      double t0 = now_ms ();
      g_autoptr(GPtrArray) hits = ponder_history_search (history, query, limit, &error);

      g_assert_no_error (error);
      best = MIN (best, now_ms () - t0);
      n = hits->len;
    }

  printf ("search %-22s limit %4u: %5u conversations in %8.2f ms\n",
          query, limit, n, best);
}

/* The call made about once a second while an answer streams, here on an
 * answer that has grown to 20 KB of answer and 20 KB of reasoning. */
static void
time_partial (PonderHistory *history,
              gint64         conversation)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PonderHistoryMessage) m = ponder_history_message_new (PONDER_HISTORY_ROLE_ASSISTANT,
                                                                  "");
  g_autoptr(GRand) rand = g_rand_new_with_seed (2);
  g_autofree char *content = make_text (rand, 3000);
  g_autofree char *reasoning = make_text (rand, 3000);
  double total = 0, worst = 0;
  gint64 id;

  m->complete = FALSE;
  id = ponder_history_add_message (history, conversation, 0, m, &error);
  g_assert_no_error (error);
  for (guint rep = 0; rep < 50; rep++)
    {
      double t0 = now_ms (), dt;

      ponder_history_update_partial (history, id, content, reasoning, &error);
      g_assert_no_error (error);
      dt = now_ms () - t0;
      total += dt;
      worst = MAX (worst, dt);
    }
  printf ("partial update (%zu + %zu bytes): %.2f ms mean, %.2f ms worst\n",
          strlen (content), strlen (reasoning), total / 50, worst);
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PonderHistory) history = NULL;
  guint n_conversations = argc > 1 ? (guint) atoi (argv[1]) : 1000;
  guint per_conversation = argc > 2 ? (guint) atoi (argv[2]) : 100;
  char *dir = history_test_dir_new ();
  g_autofree char *path = g_build_filename (dir, "history.db", NULL);
  double t0, best = G_MAXDOUBLE;
  guint listed = 0;

  history = ponder_history_new (path, 0, &error);
  g_assert_no_error (error);

  t0 = now_ms ();
  fill (history, n_conversations, per_conversation);
  printf ("fill: %u conversations x %u messages in %.1f s\n",
          n_conversations, per_conversation, (now_ms () - t0) / 1000);

  /* Reopen, as the app does at start-up. */
  g_clear_object (&history);
  t0 = now_ms ();
  history = ponder_history_new (path, 0, &error);
  g_assert_no_error (error);
  printf ("open: %.2f ms\n", now_ms () - t0);

  for (guint rep = 0; rep < 5; rep++)
    {
      g_autoptr(GPtrArray) list = NULL;

      t0 = now_ms ();
      list = ponder_history_list_conversations (history, 0, &error);
      g_assert_no_error (error);
      best = MIN (best, now_ms () - t0);
      listed = list->len;
    }
  printf ("list conversations: %u in %.2f ms\n", listed, best);

  /* Opening a conversation: its active path. */
  best = G_MAXDOUBLE;
  for (guint rep = 0; rep < 5; rep++)
    {
      g_autoptr(GPtrArray) path_list = NULL;

      t0 = now_ms ();
      path_list = ponder_history_list_active_path (history, n_conversations / 2, &error);
      g_assert_no_error (error);
      best = MIN (best, now_ms () - t0);
      listed = path_list->len;
    }
  printf ("active path: %u messages in %.2f ms\n", listed, best);

  time_partial (history, n_conversations / 2);
  time_search (history, "xylophone", 0);
  time_search (history, "xyloph", 0);
  time_search (history, "prime numbers", 50);
  time_search (history, "prime numbers", 0);
  time_search (history, "the", 50);
  time_search (history, "conversation 42", 50);

  g_clear_object (&history);
  history_test_dir_free (dir);
  return 0;
}
