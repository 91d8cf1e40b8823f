/* bench-app.c — the app's speed as a user meets it (a benchmark, not a test)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Under Xvfb (run-ui-test.sh), with a history of N conversations of M
 * messages each (default 1,000 x 100 = 100,000 messages):
 *  - start-up: the application opens the store and its window, until the
 *    window's first frame has been painted;
 *  - search: the sidebar's search over every message, rows rebuilt, until
 *    the next frame is painted;
 *  - open: a conversation is opened, until the next frame is painted (wall
 *    clock and the process's CPU time), three of plain text, then one of M
 *    R1-style messages (reasoning, markdown, math, code, tables);
 *  - streaming: an answer grows at 100 tokens/s (drained every 33 ms, as the
 *    window drains a generation) below the R1-style conversation, and the
 *    frame clock's intervals are recorded for a few seconds.
 *
 * Usage: bench-app [N-CONVERSATIONS [MESSAGES-PER-CONVERSATION [SECONDS]]]
 * (SECONDS 0: no streaming)
 */

#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>

#include <adwaita.h>

#include "../history-test-util.h"
#include "ponder-application.h"
#include "ponder-history-private.h"
#include "ponder-message-row.h"
#include "ponder-window.h"

#define TOKENS_PER_S 100
#define DRAIN_MS     33

static const char * const words[] = {
  "the", "model", "thinks", "about", "prime", "numbers", "and", "answers", "with", "a",
  "proof", "integral", "derivative", "matrix", "vector", "python", "function", "returns",
  "list", "of", "values", "because", "therefore", "wait", "let", "me", "check", "again",
  "so", "result", "is", "equal", "to", "square", "root", "triangle", "angle", "coin",
};

static double
now_ms (void)
{
  return g_get_monotonic_time () / 1000.0;
}

static char *
make_text (GRand *rand,
           guint  n_words)
{
  GString *s = g_string_new (NULL);
  guint i;

  for (i = 0; i < n_words; i++)
    {
      g_string_append (s, words[g_rand_int_range (rand, 0, G_N_ELEMENTS (words))]);
      g_string_append_c (s, i % 12 == 11 ? '\n' : ' ');
    }
  return g_string_free (s, FALSE);
}

static gint64
fill (PonderHistory *history,
      guint          n_conversations,
      guint          per_conversation)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (1);
  sqlite3 *db = _ponder_history_get_db (history);
  gint64 last = 0;
  guint c;
  guint m;

  for (c = 0; c < n_conversations; c++)
    {
      g_autofree char *title = g_strdup_printf ("Conversation %u about %s", c,
                                                words[c % G_N_ELEMENTS (words)]);
      g_autoptr(GError) error = NULL;
      gint64 parent = 0;

      /* One transaction per conversation, as an import does. */
      history_test_raw_exec (db, "SAVEPOINT fill");
      last = ponder_history_create_conversation (history, title, "r1", &error);
      g_assert_no_error (error);
      for (m = 0; m < per_conversation; m++)
        {
          g_autofree char *text = make_text (rand, 40);
          g_autoptr(PonderHistoryMessage) msg =
            ponder_history_message_new (m % 2 ? PONDER_HISTORY_ROLE_ASSISTANT
                                              : PONDER_HISTORY_ROLE_USER, text);

          if (c % 100 == 7 && m == per_conversation / 2)
            {
              g_free (msg->content);
              msg->content = g_strconcat (text, " xylophone", NULL);
            }
          msg->complete = TRUE;
          parent = ponder_history_add_message (history, last, parent, msg, &error);
          g_assert_no_error (error);
        }
      history_test_raw_exec (db, "RELEASE fill");
    }
  return last;
}

/* An answer as R1 writes one: a long reasoning trace, then paragraphs
 * with inline and display math, a list, and every third answer a fenced
 * code block, every fifth a table. */
static char *
make_answer (GRand *rand,
             guint  m)
{
  g_autofree char *p1 = make_text (rand, 50);
  g_autofree char *p2 = make_text (rand, 40);
  GString *s = g_string_new (NULL);

  g_string_append_printf (s, "%s with $x^{%u} + \\frac{a}{b}$ and \\(\\sqrt{%u}\\).\n\n"
                          "$$\\int_0^1 x^2 \\, dx = \\frac{1}{3}$$\n\n", p1, m, m);
  g_string_append (s, "1. **First**, the base case.\n2. Then the *step*.\n"
                   "3. `n + 1` follows.\n\n");
  if (m % 3 == 1)
    g_string_append (s, "```python\ndef f(n):\n    if n < 2:\n        return n\n"
                     "    return f(n - 1) + f(n - 2)\n```\n\n");
  if (m % 5 == 1)
    g_string_append (s, "| n | f(n) |\n|---|------|\n| 1 | 1 |\n| 2 | 1 |\n| 3 | 2 |\n\n");
  g_string_append_printf (s, "%s\n\n**Answer:** $\\boxed{%u}$", p2, m);
  return g_string_free (s, FALSE);
}

/* One conversation of R1-style exchanges; returns its id. */
static gint64
fill_r1 (PonderHistory *history,
         guint          n_messages)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (3);
  g_autoptr(GError) error = NULL;
  gint64 id = ponder_history_create_conversation (history, "R1 at work", "r1", &error);
  gint64 parent = 0;
  guint m;

  g_assert_no_error (error);
  for (m = 0; m < n_messages; m++)
    {
      g_autofree char *text = m % 2 ? make_answer (rand, m) : make_text (rand, 25);
      g_autoptr(PonderHistoryMessage) msg =
        ponder_history_message_new (m % 2 ? PONDER_HISTORY_ROLE_ASSISTANT
                                          : PONDER_HISTORY_ROLE_USER, text);

      if (m % 2)
        {
          g_free (msg->reasoning);
          msg->reasoning = make_text (rand, 300);
          msg->reasoning_s = 20.0 + m;
        }
      msg->complete = TRUE;
      parent = ponder_history_add_message (history, id, parent, msg, &error);
      g_assert_no_error (error);
    }
  return id;
}

/* ---- frames ------------------------------------------------------------------ */

typedef struct
{
  gboolean painted;
  double   at_ms;
} Paint;

static void
on_after_paint (GdkFrameClock *clock,
                Paint         *paint)
{
  if (!paint->painted)
    paint->at_ms = now_ms ();
  paint->painted = TRUE;
}

/* Iterates until @widget's window paints a frame; returns when (ms). */
static double
wait_for_paint (GtkWidget *widget)
{
  Paint paint = { FALSE, 0.0 };
  GdkFrameClock *clock;
  gulong id;

  while ((clock = gtk_widget_get_frame_clock (widget)) == NULL)
    g_main_context_iteration (NULL, TRUE);
  id = g_signal_connect (clock, "after-paint", G_CALLBACK (on_after_paint), &paint);
  gtk_widget_queue_draw (widget);
  while (!paint.painted)
    g_main_context_iteration (NULL, TRUE);
  g_signal_handler_disconnect (clock, id);
  return paint.at_ms;
}

/* CPU time of the process (ms): on a loaded machine the wall clock also
 * counts the time other programs held the cores. */
static double
cpu_ms (void)
{
  struct rusage usage;

  getrusage (RUSAGE_SELF, &usage);
  return (usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) * 1000.0
         + (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1000.0;
}

static int
compare_doubles (gconstpointer a,
                 gconstpointer b)
{
  double x = *(const double *) a;
  double y = *(const double *) b;

  return x < y ? -1 : x > y;
}

/* ---- streaming ----------------------------------------------------------------- */

typedef struct
{
  PonderMessageRow *row;
  GString          *pending;     /* tokens made but not drained yet */
  GRand            *rand;
  guint             n_tokens;
  gint64            start_us;
  guint             n_chars;
  GArray           *intervals;   /* ms between frame-clock ticks */
  GArray           *drain_ms;    /* time spent in each drain */
  gint64            last_frame_us;
  gboolean          done;
} Stream;

/* Tokens arrive at a steady rate whatever the main loop does, as from the
 * generation thread: a late timer catches up. */
static gboolean
make_token (gpointer data)
{
  Stream *s = data;
  guint due = (guint) ((g_get_monotonic_time () - s->start_us) * TOKENS_PER_S / G_USEC_PER_SEC);

  for (; s->n_tokens < due; s->n_tokens++)
    g_string_append_printf (s->pending, "%s%s", s->n_tokens % 15 == 14 ? "\n" : " ",
                            words[g_rand_int_range (s->rand, 0, G_N_ELEMENTS (words))]);
  return s->done ? G_SOURCE_REMOVE : G_SOURCE_CONTINUE;
}

static gboolean
drain (gpointer data)
{
  Stream *s = data;
  gboolean reasoning = s->n_tokens < 300;
  double t0 = now_ms ();
  double spent;

  s->n_chars += s->pending->len;
  /* Reasoning for the first 300 tokens, then the answer, as R1 writes. */
  if (s->pending->len > 0)
    ponder_message_row_append (s->row, reasoning ? s->pending->str : NULL,
                               reasoning ? NULL : s->pending->str);
  ponder_message_row_tick (s->row);
  g_string_truncate (s->pending, 0);
  spent = now_ms () - t0;
  g_array_append_val (s->drain_ms, spent);
  return s->done ? G_SOURCE_REMOVE : G_SOURCE_CONTINUE;
}

static gboolean
on_tick (GtkWidget     *widget,
         GdkFrameClock *clock,
         gpointer       data)
{
  Stream *s = data;
  gint64 now = gdk_frame_clock_get_frame_time (clock);

  if (s->last_frame_us != 0)
    {
      double ms = (now - s->last_frame_us) / 1000.0;

      g_array_append_val (s->intervals, ms);
    }
  s->last_frame_us = now;
  return s->done ? G_SOURCE_REMOVE : G_SOURCE_CONTINUE;
}

static gboolean
stop_stream (gpointer data)
{
  ((Stream *) data)->done = TRUE;
  return G_SOURCE_REMOVE;
}

static void
report (const char *what,
        GArray     *values)
{
  double sum = 0.0;
  guint over_33 = 0;
  guint i;

  g_array_sort (values, compare_doubles);
  for (i = 0; i < values->len; i++)
    {
      sum += g_array_index (values, double, i);
      over_33 += g_array_index (values, double, i) > 33.4;
    }
  if (values->len == 0)
    return;
  printf ("%s: %u samples, mean %.2f ms, median %.2f, p95 %.2f, p99 %.2f, max %.2f ms;"
          " %u over 33 ms\n", what, values->len, sum / values->len,
          g_array_index (values, double, values->len / 2),
          g_array_index (values, double, values->len * 95 / 100),
          g_array_index (values, double, values->len * 99 / 100),
          g_array_index (values, double, values->len - 1), over_33);
}

static void
bench_streaming (PonderWindow *window,
                 guint         seconds)
{
  g_autoptr(PonderHistoryMessage) message = ponder_history_message_new (
    PONDER_HISTORY_ROLE_ASSISTANT, "");
  Stream s = { 0 };
  GtkWidget *row;
  guint tick_id;

  message->id = -1;
  row = ponder_message_row_new (message, TRUE);
  gtk_box_append (GTK_BOX (ponder_window_get_transcript (window)), row);
  s.row = PONDER_MESSAGE_ROW (row);
  s.pending = g_string_new (NULL);
  s.rand = g_rand_new_with_seed (2);
  s.intervals = g_array_new (FALSE, FALSE, sizeof (double));
  s.drain_ms = g_array_new (FALSE, FALSE, sizeof (double));
  wait_for_paint (GTK_WIDGET (window));

  s.start_us = g_get_monotonic_time ();
  tick_id = gtk_widget_add_tick_callback (GTK_WIDGET (window), on_tick, &s, NULL);
  g_timeout_add (1000 / TOKENS_PER_S, make_token, &s);
  g_timeout_add (DRAIN_MS, drain, &s);
  g_timeout_add_seconds (seconds, stop_stream, &s);
  while (!s.done)
    g_main_context_iteration (NULL, TRUE);
  gtk_widget_remove_tick_callback (GTK_WIDGET (window), tick_id);
  while (g_main_context_iteration (NULL, FALSE))
    ;

  printf ("streaming: %u tokens in %u s (%.0f tokens/s), %u characters shown\n", s.n_tokens,
          seconds, s.n_tokens / (double) seconds, s.n_chars);
  report ("  frame interval", s.intervals);
  report ("  drain into the row", s.drain_ms);
  g_string_free (s.pending, TRUE);
  g_rand_free (s.rand);
  g_array_unref (s.intervals);
  g_array_unref (s.drain_ms);
}

int
main (int   argc,
      char *argv[])
{
  guint n_conversations = argc > 1 ? (guint) atoi (argv[1]) : 1000;
  guint per_conversation = argc > 2 ? (guint) atoi (argv[2]) : 100;
  guint seconds = argc > 3 ? (guint) atoi (argv[3]) : 10;
  g_autoptr(PonderApplication) app = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;
  PonderWindow *window;
  GtkWidget *search;
  gint64 last;
  gint64 r1 = 0;
  double t0;
  double t1;
  double t2;
  double t3;
  double c0;
  guint i;

  if (g_getenv ("DISPLAY") == NULL && g_getenv ("WAYLAND_DISPLAY") == NULL)
    {
      fprintf (stderr, "bench-app needs a display: run it through tests/run-ui-test.sh\n");
      return 77;
    }
  gtk_init ();
  adw_init ();
  ponder_register_resources ();

  path = ponder_history_dup_default_path ();
  {
    g_autofree char *dir = g_path_get_dirname (path);
    g_autoptr(PonderHistory) history = NULL;

    g_mkdir_with_parents (dir, 0700);
    history = ponder_history_new (path, 0, &error);
    g_assert_no_error (error);
    t0 = now_ms ();
    last = fill (history, n_conversations, per_conversation);
    r1 = fill_r1 (history, per_conversation);
    printf ("fill: %u conversations x %u messages in %.1f s\n", n_conversations,
            per_conversation, (now_ms () - t0) / 1000);
  }

  /* Start-up: the store opens (as at launch), the window is built with its
   * sidebar, and the first frame is painted. */
  t0 = now_ms ();
  app = ponder_application_new (G_APPLICATION_NON_UNIQUE);
  g_application_register (G_APPLICATION (app), NULL, &error);
  g_assert_no_error (error);
  t1 = now_ms ();
  window = ponder_window_new (GTK_APPLICATION (app), ponder_application_get_history (app));
  gtk_window_set_default_size (GTK_WINDOW (window), 1000, 700);
  gtk_window_present (GTK_WINDOW (window));
  t2 = now_ms ();
  t3 = wait_for_paint (GTK_WIDGET (window));
  printf ("start-up to first frame (%u conversations): %.1f ms (store %.1f, window %.1f, "
          "first frame %.1f)\n", n_conversations, t3 - t0, t1 - t0, t2 - t1, t3 - t2);

  /* Search: the entry's search-changed, as after its typing delay. */
  search = ponder_window_get_search_entry (window);
  {
    const char *queries[] = { "xylophone", "prime numbers", "conversation 42", "the" };
    guint q;

    for (q = 0; q < G_N_ELEMENTS (queries); q++)
      {
        gtk_editable_set_text (GTK_EDITABLE (search), queries[q]);
        wait_for_paint (GTK_WIDGET (window));
        t0 = now_ms ();
        g_signal_emit_by_name (search, "search-changed");
        /* The query runs on a worker thread: wait for its rows. */
        while (ponder_window_get_search_pending (window))
          g_main_context_iteration (NULL, TRUE);
        t1 = now_ms ();
        t2 = wait_for_paint (GTK_WIDGET (window));
        printf ("search %-18s over %u messages: %.1f ms, %.1f ms to the frame\n", queries[q],
                n_conversations * per_conversation, t1 - t0, t2 - t0);
      }
    gtk_editable_set_text (GTK_EDITABLE (search), "");
    g_signal_emit_by_name (search, "search-changed");
  }

  /* The first conversation opened also loads the rows' icons and fonts;
   * then plain text, then an R1 conversation. */
  for (i = 0; i < 4; i++)
    {
      gint64 id = i < 3 ? last - 2 + (gint64) i : r1;

      wait_for_paint (GTK_WIDGET (window));
      c0 = cpu_ms ();
      t0 = now_ms ();
      ponder_window_open_conversation (window, id);
      t1 = now_ms ();
      t2 = wait_for_paint (GTK_WIDGET (window));
      printf ("open a conversation of %u messages (%s): %.1f ms to the frame (rows %.1f, "
              "frame %.1f); %.1f ms of CPU\n", per_conversation,
              i == 0 ? "first" : i < 3 ? "again" : "R1-style",
              t2 - t0, t1 - t0, t2 - t1, cpu_ms () - c0);
    }
  if (seconds > 0)
    bench_streaming (window, seconds);

  gtk_window_destroy (GTK_WINDOW (window));
  return 0;
}
