/* a11y-app.c — the real window on a known conversation, for test_atspi.py
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Stores a question with two answers (the second one shown, so the branch
 * arrows read "2 of 2"), opens the window on it with the scripted model
 * loaded ($PONDER_SCRIPTED_MODEL), prints READY and runs until it is killed
 * or a minute has passed. The AT-SPI client reads it from the
 * outside, as a screen reader would.
 */

#include <stdio.h>

#include <adwaita.h>

#include "ponder-application.h"
#include "ponder-window.h"

static gint64
store_conversation (PonderHistory *history)
{
  g_autoptr(GError) error = NULL;
  const char *answers[] = { "The first version of the answer.",
                            "Hello from the second version." };
  gint64 conversation_id;
  gint64 question_id;
  guint i;

  conversation_id = ponder_history_create_conversation (history, "Accessibility check", NULL,
                                                        &error);
  g_assert_no_error (error);
  {
    g_autoptr(PonderHistoryMessage) question =
      ponder_history_message_new (PONDER_HISTORY_ROLE_USER, "Read this to me, please.");

    question_id = ponder_history_add_message (history, conversation_id, 0, question, &error);
    g_assert_no_error (error);
  }
  for (i = 0; i < G_N_ELEMENTS (answers); i++)
    {
      g_autoptr(PonderHistoryMessage) answer =
        ponder_history_message_new (PONDER_HISTORY_ROLE_ASSISTANT, answers[i]);

      g_free (answer->reasoning);
      answer->reasoning = g_strdup ("The user wants it read aloud.");
      answer->reasoning_s = 12.0;
      answer->complete = TRUE;
      ponder_history_add_message (history, conversation_id, question_id, answer, &error);
      g_assert_no_error (error);
    }
  return conversation_id;
}

static GMainLoop *loop;

static gboolean
give_up (gpointer data)
{
  g_main_loop_quit (loop);
  return G_SOURCE_REMOVE;
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(PonderApplication) app = NULL;
  g_autoptr(GError) error = NULL;
  PonderHistory *history;
  PonderWindow *window;

  if (g_getenv ("PONDER_SCRIPTED_MODEL") == NULL)
    {
      fprintf (stderr, "PONDER_SCRIPTED_MODEL is not set (run through run-atspi-test.sh)\n");
      return 77;
    }
  adw_init ();
  ponder_register_resources ();
  app = ponder_application_new (G_APPLICATION_NON_UNIQUE);
  g_application_register (G_APPLICATION (app), NULL, &error);
  g_assert_no_error (error);
  history = ponder_application_get_history (app);
  g_assert_nonnull (history);

  window = ponder_window_new (GTK_APPLICATION (app), history);
  gtk_window_set_default_size (GTK_WINDOW (window), 1000, 700);
  gtk_window_present (GTK_WINDOW (window));
  ponder_window_load_model (window, g_getenv ("PONDER_SCRIPTED_MODEL"));
  while (!ponder_window_get_model_loaded (window))
    g_main_context_iteration (NULL, TRUE);
  ponder_window_open_conversation (window, store_conversation (history));
  printf ("READY\n");
  fflush (stdout);

  loop = g_main_loop_new (NULL, FALSE);
  g_timeout_add_seconds (60, give_up, NULL);
  g_main_loop_run (loop);
  g_main_loop_unref (loop);
  gtk_window_destroy (GTK_WINDOW (window));
  return 0;
}
