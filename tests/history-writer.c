/* history-writer.c — helper for test-history-kill: streams a growing
 * partial answer into the history until it is killed
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Usage: history-writer DB-PATH INTERVAL-MS
 * Prints "ready MESSAGE-ID", then after each saved update the number of
 * pieces the stored answer holds. The answer after n updates is
 * "w000000 w000001 ... w(n-1) " (each piece 8 bytes), the reasoning "r" x n.
 */

#include <stdio.h>
#include <stdlib.h>

#include "ponder-history.h"

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PonderHistory) history = NULL;
  g_autoptr(PonderHistoryMessage) user = NULL;
  g_autoptr(PonderHistoryMessage) answer = NULL;
  g_autoptr(GString) content = g_string_new (NULL);
  g_autoptr(GString) reasoning = g_string_new (NULL);
  gint64 conversation, user_id, answer_id;
  guint interval_ms;

  if (argc != 3)
    {
      fprintf (stderr, "usage: %s DB-PATH INTERVAL-MS\n", argv[0]);
      return 2;
    }
  interval_ms = (guint) atoi (argv[2]);

  if (!(history = ponder_history_new (argv[1], 0, &error)) ||
      !(conversation = ponder_history_create_conversation (history, "killed", NULL, &error)))
    goto failed;

  user = ponder_history_message_new (PONDER_HISTORY_ROLE_USER, "Count for me.");
  answer = ponder_history_message_new (PONDER_HISTORY_ROLE_ASSISTANT, "");
  answer->complete = FALSE;
  if (!(user_id = ponder_history_add_message (history, conversation, 0, user, &error)) ||
      !(answer_id = ponder_history_add_message (history, conversation, user_id, answer, &error)))
    goto failed;

  printf ("ready %" G_GINT64_FORMAT "\n", answer_id);
  fflush (stdout);

  for (guint n = 0; ; n++)
    {
      g_string_append_printf (content, "w%06u ", n);
      g_string_append_c (reasoning, 'r');
      if (!ponder_history_update_partial (history, answer_id, content->str, reasoning->str,
                                          &error))
        goto failed;
      printf ("%u\n", n + 1);
      fflush (stdout);
      if (interval_ms > 0)
        g_usleep (interval_ms * 1000);
    }

failed:
  fprintf (stderr, "history-writer: %s\n", error->message);
  return 1;
}
