/* test-history-kill.c — durability of a streaming answer under kill -9
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A child process (history-writer, started with fork + exec) saves a growing
 * partial answer in a loop and reports each save on stdout. The test kills
 * it with SIGKILL at some point, then checks with a raw SQLite connection
 * that the file passes PRAGMA integrity_check and that the stored answer is
 * exactly what the child had saved: at least every update it reported
 * (the app saves once a second, so that is "at most the last second lost"),
 * at most one more (saved, killed before it could report), never a torn one.
 */

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ponder-history.h"
#include "history-test-util.h"

typedef struct
{
  guint interval_ms;     /* pause between saves in the child */
  guint kill_after_ms;   /* from the first saved update to SIGKILL */
} Round;

typedef struct
{
  GString *pending;
  gint64   message_id;
  guint    last_ack;
  gboolean eof;
} Reader;

static void
reader_feed (Reader     *r,
             const char *data,
             gssize      len)
{
  char *newline;

  g_string_append_len (r->pending, data, len);
  while ((newline = strchr (r->pending->str, '\n')) != NULL)
    {
      *newline = '\0';
      if (g_str_has_prefix (r->pending->str, "ready "))
        r->message_id = g_ascii_strtoll (r->pending->str + 6, NULL, 10);
      else
        r->last_ack = (guint) g_ascii_strtoull (r->pending->str, NULL, 10);
      g_string_erase (r->pending, 0, newline - r->pending->str + 1);
    }
}

/* Reads whatever the child wrote within @timeout_ms. */
static void
reader_pump (Reader *r,
             int     fd,
             int     timeout_ms)
{
  GPollFD pfd = { fd, G_IO_IN | G_IO_HUP, 0 };
  char buf[4096];
  gssize n;

  if (g_poll (&pfd, 1, timeout_ms) <= 0)
    return;

  n = read (fd, buf, sizeof buf);
  if (n > 0)
    reader_feed (r, buf, n);
  else if (n == 0 || errno != EINTR)
    r->eof = TRUE;
}

static char *
expected_content (guint n)
{
  GString *s = g_string_new (NULL);

  for (guint i = 0; i < n; i++)
    g_string_append_printf (s, "w%06u ", i);
  return g_string_free (s, FALSE);
}

static void
run_round (const char  *path,
           const Round *round)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *interval = g_strdup_printf ("%u", round->interval_ms);
  g_autofree char *sql = NULL;
  g_autofree char *content = NULL;
  g_autofree char *reasoning = NULL;
  g_autofree char *expected = NULL;
  g_autofree char *expected_reasoning = NULL;
  g_autoptr(PonderHistory) history = NULL;
  g_autoptr(PonderHistoryMessage) message = NULL;
  const char *argv[] = { HISTORY_WRITER, path, interval, NULL };
  Reader r = { g_string_new (NULL), 0, 0, FALSE };
  gint64 ready_at = 0;
  GPid pid;
  int out_fd, status;
  guint n;
  sqlite3 *raw;

  g_spawn_async_with_pipes (NULL, (char **) argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL,
                            &pid, NULL, &out_fd, NULL, &error);
  g_assert_no_error (error);

  while (!r.eof)
    {
      reader_pump (&r, out_fd, 20);
      /* The clock starts at the first saved update, so a loaded machine
       * that is slow to start the child still gets a meaningful round. */
      if (r.last_ack > 0 && ready_at == 0)
        ready_at = g_get_monotonic_time ();
      if (ready_at != 0 && g_get_monotonic_time () - ready_at >= round->kill_after_ms * 1000)
        break;
    }
  g_assert_false (r.eof);  /* the child must still be running */

  g_assert_cmpint (kill (pid, SIGKILL), ==, 0);
  g_assert_cmpint (waitpid (pid, &status, 0), ==, pid);
  g_assert_true (WIFSIGNALED (status) && WTERMSIG (status) == SIGKILL);
  g_spawn_close_pid (pid);

  /* Reports written before the kill still count. */
  while (!r.eof)
    reader_pump (&r, out_fd, 1000);
  close (out_fd);
  g_string_free (r.pending, TRUE);

  g_test_message ("interval %u ms, killed after %u ms: %u updates acknowledged",
                  round->interval_ms, round->kill_after_ms, r.last_ack);
  g_assert_cmpint (r.message_id, >, 0);
  g_assert_cmpuint (r.last_ack, >, 0);

  raw = history_test_raw_open (path);
  g_assert_cmpstr (history_test_raw_text (raw, "PRAGMA integrity_check"), ==, "ok");
  sql = g_strdup_printf ("SELECT content FROM messages WHERE id = %" G_GINT64_FORMAT,
                         r.message_id);
  content = history_test_raw_text (raw, sql);
  g_free (sql);
  sql = g_strdup_printf ("SELECT reasoning FROM messages WHERE id = %" G_GINT64_FORMAT,
                         r.message_id);
  reasoning = history_test_raw_text (raw, sql);
  sqlite3_close (raw);

  g_assert_cmpuint (strlen (content) % 8, ==, 0);
  n = strlen (content) / 8;
  g_assert_cmpuint (n, >=, r.last_ack);
  g_assert_cmpuint (n, <=, r.last_ack + 1);
  expected = expected_content (n);
  g_assert_cmpstr (content, ==, expected);
  expected_reasoning = g_strnfill (n, 'r');
  g_assert_cmpstr (reasoning, ==, expected_reasoning);  /* saved together with the content */

  /* The store opens it and sees the partial answer as partial. */
  history = ponder_history_new (path, 0, &error);
  g_assert_no_error (error);
  message = ponder_history_get_message (history, r.message_id, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (message->content, ==, expected);
  g_assert_false (message->complete);
}

static void
test_kill (void)
{
  static const Round rounds[] = {
    { 0, 300 },      /* saving as fast as it can: the kill lands mid-transaction */
    { 5, 700 },
    { 50, 1200 },
    { 0, 150 },
  };
  char *dir = history_test_dir_new ();
  g_autofree char *path = g_build_filename (dir, "history.db", NULL);

  /* One file for all rounds, so each starts from a database a kill left. */
  for (guint i = 0; i < G_N_ELEMENTS (rounds); i++)
    run_round (path, &rounds[i]);

  history_test_dir_free (dir);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/history/durability/kill-9", test_kill);

  return g_test_run ();
}
