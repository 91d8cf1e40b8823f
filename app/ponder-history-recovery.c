/* ponder-history-recovery.c — when the history database will not open
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Starting with an empty history when the database fails would look like
 * every conversation was lost. Instead the user is told what is wrong and
 * chooses: try again (another program held the lock, the disk was full),
 * start a new history with the damaged file kept beside it, or quit. The
 * damaged file is never deleted.
 */

#define G_LOG_DOMAIN "ponder-application"

#include <glib/gi18n.h>

#include "ponder-history-recovery.h"

typedef struct
{
  GtkApplication              *application;
  char                        *path;
  guint                        busy_timeout_ms;
  PonderHistoryRecoveredFunc   recovered;
  gpointer                     user_data;
} Recovery;

static void
recovery_free (Recovery *recovery)
{
  g_object_unref (recovery->application);
  g_free (recovery->path);
  g_free (recovery);
}

static const char *
heading_for (const GError *error)
{
  if (error->domain != PONDER_HISTORY_ERROR)
    return _("Your conversations could not be opened");
  switch (error->code)
    {
    case PONDER_HISTORY_ERROR_BUSY:
      return _("Another program is using your conversations");
    case PONDER_HISTORY_ERROR_CORRUPT:
      return _("The conversation history is damaged");
    case PONDER_HISTORY_ERROR_DISK_FULL:
      return _("The disk is full");
    case PONDER_HISTORY_ERROR_READ_ONLY:
      return _("The conversation history cannot be written");
    case PONDER_HISTORY_ERROR_TOO_NEW:
      return _("The conversation history is from a newer Ponder");
    default:
      return _("Your conversations could not be opened");
    }
}

static const char *
advice_for (const GError *error)
{
  if (error->domain != PONDER_HISTORY_ERROR)
    return _("Check the file and its folder, then try again.");
  switch (error->code)
    {
    case PONDER_HISTORY_ERROR_BUSY:
      return _("Close the other copy of Ponder (or the program that has the file open), "
               "then try again.");
    case PONDER_HISTORY_ERROR_CORRUPT:
      return _("You can start a new, empty history. The damaged file is kept, renamed, "
               "in the same folder, so nothing is deleted.");
    case PONDER_HISTORY_ERROR_DISK_FULL:
      return _("Free some space on the disk, then try again.");
    case PONDER_HISTORY_ERROR_READ_ONLY:
      return _("Make the file and its folder writable, then try again.");
    case PONDER_HISTORY_ERROR_TOO_NEW:
      return _("Update Ponder to open it. This version will not change the file.");
    default:
      return _("Check the file and its folder, then try again.");
    }
}

static GtkWidget *present_dialog (Recovery *recovery, const GError *error);

/* Returns TRUE when the history opened and the caller got it. */
static gboolean
try_open (Recovery  *recovery,
          GError   **error)
{
  PonderHistory *history = ponder_history_new (recovery->path, recovery->busy_timeout_ms,
                                               error);

  if (history == NULL)
    return FALSE;
  recovery->recovered (recovery->application, history, recovery->user_data);
  g_object_unref (history);
  return TRUE;
}

static void
on_response (AdwMessageDialog *dialog,
             const char       *response,
             gpointer          user_data)
{
  Recovery *recovery = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *moved_to = NULL;

  if (g_strcmp0 (response, "new") == 0
      && !ponder_history_move_aside (recovery->path, &moved_to, &error))
    {
      present_dialog (recovery, error);
      return;
    }
  if (moved_to != NULL)
    g_message ("The damaged history was kept as %s", moved_to);

  if (g_strcmp0 (response, "retry") == 0 || g_strcmp0 (response, "new") == 0)
    {
      if (try_open (recovery, &error))
        recovery_free (recovery);
      else
        present_dialog (recovery, error);
      return;
    }

  /* "quit", or the dialog was closed: nothing was changed on disk. */
  g_application_quit (G_APPLICATION (recovery->application));
  recovery_free (recovery);
}

static GtkWidget *
present_dialog (Recovery     *recovery,
                const GError *error)
{
  GtkWidget *dialog;
  gboolean corrupt = g_error_matches (error, PONDER_HISTORY_ERROR,
                                      PONDER_HISTORY_ERROR_CORRUPT);
  gboolean too_new = g_error_matches (error, PONDER_HISTORY_ERROR,
                                      PONDER_HISTORY_ERROR_TOO_NEW);

  dialog = adw_message_dialog_new (NULL, heading_for (error), NULL);
  /* The store's message names the file and the cause; the advice says what
   * to do about it. */
  adw_message_dialog_format_body (ADW_MESSAGE_DIALOG (dialog), "%s\n\n%s",
                                  advice_for (error), error->message);
  gtk_window_set_application (GTK_WINDOW (dialog), recovery->application);
  gtk_widget_add_css_class (dialog, "history-recovery");

  adw_message_dialog_add_response (ADW_MESSAGE_DIALOG (dialog), "quit", _("_Quit"));
  if (corrupt)
    {
      adw_message_dialog_add_response (ADW_MESSAGE_DIALOG (dialog), "new",
                                       _("_Start a New History"));
      adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "new",
                                                  ADW_RESPONSE_SUGGESTED);
      adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), "new");
    }
  else if (!too_new)
    {
      adw_message_dialog_add_response (ADW_MESSAGE_DIALOG (dialog), "retry",
                                       _("_Try Again"));
      adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "retry",
                                                  ADW_RESPONSE_SUGGESTED);
      adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), "retry");
    }
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (dialog), "quit");
  g_signal_connect (dialog, "response", G_CALLBACK (on_response), recovery);
  gtk_window_present (GTK_WINDOW (dialog));
  return dialog;
}

/**
 * ponder_history_recovery_present:
 * @application: the application the dialog belongs to
 * @path: the database that failed to open
 * @busy_timeout_ms: passed to ponder_history_new() on each new try
 * @error: why it failed
 * @recovered: called once with the opened history (borrowed: take a
 *   reference to keep it)
 *
 * Shows what went wrong and the ways out. @recovered is never called if
 * the user quits.
 *
 * Returns: (transfer none): the dialog.
 */
GtkWidget *
ponder_history_recovery_present (GtkApplication             *application,
                                 const char                 *path,
                                 guint                       busy_timeout_ms,
                                 const GError               *error,
                                 PonderHistoryRecoveredFunc  recovered,
                                 gpointer                    user_data)
{
  Recovery *recovery = g_new0 (Recovery, 1);

  g_return_val_if_fail (error != NULL, NULL);

  recovery->application = g_object_ref (application);
  recovery->path = g_strdup (path);
  recovery->busy_timeout_ms = busy_timeout_ms;
  recovery->recovered = recovered;
  recovery->user_data = user_data;
  return present_dialog (recovery, error);
}
