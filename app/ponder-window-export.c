/* ponder-window-export.c — export a conversation, import one back
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Markdown is for reading and sharing; JSON keeps the whole tree (every
 * branch, the reasoning, the settings) and is what import reads. Files are
 * written with g_file_replace_contents(), which writes a temporary file and
 * renames it, so a full disk leaves an existing file as it was.
 */

#define G_LOG_DOMAIN "ponder-window"

#include <glib/gi18n.h>

#include "ponder-window-export.h"
#include "ponder-window-private.h"

static char *
export_text (PonderWindow  *self,
             const char    *format,
             GError       **error)
{
  if (g_strcmp0 (format, "json") == 0)
    return ponder_history_export_json (self->history, self->conversation_id, error);
  return ponder_history_export_markdown (self->history, self->conversation_id, error);
}

/**
 * ponder_window_export_conversation:
 * @format: "markdown" or "json"
 * @file: where to write (replaced if it exists)
 *
 * Writes the conversation shown in the window. Fails with
 * PONDER_HISTORY_ERROR_NOT_FOUND when there is none yet.
 */
gboolean
ponder_window_export_conversation (PonderWindow  *self,
                                   const char    *format,
                                   GFile         *file,
                                   GError       **error)
{
  g_autofree char *text = NULL;

  g_return_val_if_fail (PONDER_IS_WINDOW (self), FALSE);

  if (self->conversation_id == 0)
    {
      g_set_error_literal (error, PONDER_HISTORY_ERROR, PONDER_HISTORY_ERROR_NOT_FOUND,
                           _("There is no conversation to export yet"));
      return FALSE;
    }
  text = export_text (self, format, error);
  if (text == NULL)
    return FALSE;
  return g_file_replace_contents (file, text, strlen (text), NULL, FALSE,
                                  G_FILE_CREATE_REPLACE_DESTINATION, NULL, NULL, error);
}

/**
 * ponder_window_import_conversation:
 * @file: a JSON file written by ponder_window_export_conversation()
 *
 * Adds the conversation as a new one (an import never replaces anything)
 * and shows it.
 *
 * Returns: its id, or 0 with @error set.
 */
gint64
ponder_window_import_conversation (PonderWindow  *self,
                                   GFile         *file,
                                   GError       **error)
{
  g_autofree char *contents = NULL;
  gsize length;
  gint64 id;

  g_return_val_if_fail (PONDER_IS_WINDOW (self), 0);

  if (!g_file_load_contents (file, NULL, &contents, &length, NULL, error))
    return 0;
  id = ponder_history_import_json (self->history, contents, (gssize) length, error);
  if (id <= 0)
    return 0;
  _ponder_window_refresh_sidebar (self);
  ponder_window_open_conversation (self, id);
  return id;
}

/* A file name from the title: no slashes or control characters. */
static char *
suggested_name (PonderWindow *self,
                const char   *extension)
{
  g_autoptr(PonderHistoryConversation) conversation = NULL;
  g_autoptr(GString) name = g_string_new (NULL);
  const char *title = NULL;
  const char *p;

  conversation = ponder_history_get_conversation (self->history, self->conversation_id, NULL);
  if (conversation != NULL)
    title = conversation->title;
  if (title == NULL || title[0] == '\0')
    title = _("Conversation");
  for (p = title; *p != '\0' && name->len < 80; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      if (c == '/' || c == '\\' || g_unichar_iscntrl (c))
        g_string_append_c (name, '-');
      else
        g_string_append_unichar (name, c);
    }
  g_string_append (name, extension);
  return g_string_free (g_steal_pointer (&name), FALSE);
}

static void
on_export_chosen (GtkNativeDialog *chooser,
                  int              response,
                  gpointer         user_data)
{
  PonderWindow *self = PONDER_WINDOW (user_data);
  const char *format = g_object_get_data (G_OBJECT (chooser), "ponder-format");
  g_autoptr(GFile) file = NULL;
  g_autoptr(GError) error = NULL;

  if (response == GTK_RESPONSE_ACCEPT)
    file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (chooser));
  if (file != NULL)
    {
      if (ponder_window_export_conversation (self, format, file, &error))
        _ponder_window_toast (self, _("Conversation exported"));
      else
        _ponder_window_report_error (self, _("Could not export the conversation"), error);
    }
  g_object_unref (chooser);
}

static void
export_action (GtkWidget  *widget,
               const char *action_name,
               GVariant   *parameter)
{
  PonderWindow *self = PONDER_WINDOW (widget);
  const char *format = g_variant_get_string (parameter, NULL);
  gboolean json = g_strcmp0 (format, "json") == 0;
  g_autoptr(GtkFileFilter) filter = gtk_file_filter_new ();
  g_autofree char *name = NULL;
  GtkFileChooserNative *chooser;

  if (self->conversation_id == 0)
    {
      _ponder_window_toast (self, _("There is no conversation to export yet"));
      return;
    }
  chooser = gtk_file_chooser_native_new (json ? _("Export as JSON") : _("Export as Markdown"),
                                         GTK_WINDOW (self), GTK_FILE_CHOOSER_ACTION_SAVE,
                                         _("_Export"), _("_Cancel"));
  name = suggested_name (self, json ? ".json" : ".md");
  gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (chooser), name);
  gtk_file_filter_set_name (filter, json ? _("JSON files") : _("Markdown files"));
  gtk_file_filter_add_pattern (filter, json ? "*.json" : "*.md");
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (chooser), filter);
  g_object_set_data_full (G_OBJECT (chooser), "ponder-format",
                          g_strdup (json ? "json" : "markdown"), g_free);
  g_signal_connect_object (chooser, "response", G_CALLBACK (on_export_chosen), self, 0);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (chooser));
}

static void
on_import_chosen (GtkNativeDialog *chooser,
                  int              response,
                  gpointer         user_data)
{
  PonderWindow *self = PONDER_WINDOW (user_data);
  g_autoptr(GFile) file = NULL;
  g_autoptr(GError) error = NULL;

  if (response == GTK_RESPONSE_ACCEPT)
    file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (chooser));
  if (file != NULL)
    {
      if (_ponder_window_is_busy (self))
        _ponder_window_toast (self, _("Stop the answer before importing a conversation"));
      else if (ponder_window_import_conversation (self, file, &error) > 0)
        _ponder_window_toast (self, _("Conversation imported"));
      else
        _ponder_window_report_error (self, _("Could not import the conversation"), error);
    }
  g_object_unref (chooser);
}

static void
import_action (GtkWidget  *widget,
               const char *action_name,
               GVariant   *parameter)
{
  PonderWindow *self = PONDER_WINDOW (widget);
  g_autoptr(GtkFileFilter) filter = gtk_file_filter_new ();
  GtkFileChooserNative *chooser;

  chooser = gtk_file_chooser_native_new (_("Import a Conversation"), GTK_WINDOW (self),
                                         GTK_FILE_CHOOSER_ACTION_OPEN, _("_Import"),
                                         _("_Cancel"));
  gtk_file_filter_set_name (filter, _("Conversations exported as JSON"));
  gtk_file_filter_add_pattern (filter, "*.json");
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (chooser), filter);
  g_signal_connect_object (chooser, "response", G_CALLBACK (on_import_chosen), self, 0);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (chooser));
}

void
_ponder_window_class_export_actions_init (GtkWidgetClass *widget_class)
{
  gtk_widget_class_install_action (widget_class, "win.export-conversation", "s",
                                   export_action);
  gtk_widget_class_install_action (widget_class, "win.import-conversation", NULL,
                                   import_action);
}
