/* ponder-window-actions.c — the window's commands, each a GAction
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Menus, shortcuts, the message rows' buttons and the tests all go through
 * these actions (style.md 2.5).
 */

#define G_LOG_DOMAIN "ponder-window"

#include <glib/gi18n.h>

#include "ponder-conversation-settings.h"
#include "ponder-window-private.h"

static void
send_action (GtkWidget  *widget,
             const char *action_name,
             GVariant   *parameter)
{
  PonderWindow *self = PONDER_WINDOW (widget);
  g_autofree char *raw = _ponder_window_dup_composer_text (self);
  g_autoptr(PonderHistoryMessage) message = NULL;
  g_autoptr(GError) error = NULL;
  const char *text = g_strstrip (raw);
  gint64 parent_id;
  gint64 id;

  if (text[0] == '\0' || _ponder_window_is_busy (self) || self->session == NULL)
    return;

  if (self->conversation_id == 0)
    {
      g_autofree char *title = _ponder_window_make_title (text);

      self->conversation_id = ponder_history_create_conversation (self->history, title,
                                                                  self->model_name, &error);
      if (self->conversation_id == 0)
        {
          _ponder_window_report_error (self, _("Could not start a conversation"), error);
          return;
        }
      if (self->has_default_sampling || self->default_system_prompt != NULL)
        {
          PonderHistorySampling sampling;

          ponder_history_sampling_init_default (&sampling);
          if (self->has_default_sampling)
            sampling = self->default_sampling;
          ponder_history_set_conversation_settings (self->history, self->conversation_id,
                                                    self->model_name, self->default_system_prompt,
                                                    &sampling, NULL);
        }
    }

  parent_id = self->editing ? self->edit_parent_id
                            : _ponder_window_last_message_id (self, PONDER_HISTORY_ROLE_USER, TRUE);
  message = ponder_history_message_new (PONDER_HISTORY_ROLE_USER, text);
  id = ponder_history_add_message (self->history, self->conversation_id, parent_id,
                                   message, &error);
  if (id == 0)
    {
      _ponder_window_report_error (self, _("Could not save the message"), error);
      return;
    }

  gtk_text_buffer_set_text (gtk_text_view_get_buffer (self->composer), "", 0);
  self->editing = FALSE;
  _ponder_window_start_generation (self, id);
  _ponder_window_refresh_sidebar (self);
}

static void
stop_action (GtkWidget  *widget,
             const char *action_name,
             GVariant   *parameter)
{
  PonderWindow *self = PONDER_WINDOW (widget);

  /* Escape: stop the answer, or else leave the edit. */
  if (self->generation != NULL)
    ponder_generation_cancel (self->generation);
  else if (self->editing)
    gtk_widget_activate_action (widget, "win.cancel-edit", NULL);
}

static void
end_reasoning_action (GtkWidget  *widget,
                      const char *action_name,
                      GVariant   *parameter)
{
  PonderWindow *self = PONDER_WINDOW (widget);

  if (self->generation != NULL)
    ponder_generation_end_reasoning (self->generation);
}

static void
regenerate_message (PonderWindow *self,
                    gint64        message_id)
{
  g_autoptr(PonderHistoryMessage) message = NULL;
  g_autoptr(GError) error = NULL;

  if (_ponder_window_is_busy (self) || self->session == NULL || message_id == 0)
    return;
  message = ponder_history_get_message (self->history, message_id, &error);
  if (message == NULL)
    {
      _ponder_window_report_error (self, _("Could not regenerate"), error);
      return;
    }
  if (message->role != PONDER_HISTORY_ROLE_ASSISTANT)
    return;
  _ponder_window_start_generation (self, message->parent_id);
}

static void
regenerate_action (GtkWidget  *widget,
                   const char *action_name,
                   GVariant   *parameter)
{
  PonderWindow *self = PONDER_WINDOW (widget);

  regenerate_message (self, _ponder_window_last_message_id (self, PONDER_HISTORY_ROLE_ASSISTANT,
                                                            FALSE));
}

static void
regenerate_message_action (GtkWidget  *widget,
                           const char *action_name,
                           GVariant   *parameter)
{
  regenerate_message (PONDER_WINDOW (widget), g_variant_get_int64 (parameter));
}

static void
edit_message (PonderWindow *self,
              gint64        message_id)
{
  g_autoptr(PonderHistoryMessage) message = NULL;

  if (_ponder_window_is_busy (self) || message_id == 0)
    return;
  message = ponder_history_get_message (self->history, message_id, NULL);
  if (message == NULL || message->role != PONDER_HISTORY_ROLE_USER)
    return;

  /* Sending puts the new text beside the old one: nothing is overwritten. */
  self->editing = TRUE;
  self->edit_parent_id = message->parent_id;
  ponder_window_set_composer_text (self, message->content);
  gtk_widget_grab_focus (GTK_WIDGET (self->composer));
  _ponder_window_update_actions (self);
}

static void
edit_message_action (GtkWidget  *widget,
                     const char *action_name,
                     GVariant   *parameter)
{
  edit_message (PONDER_WINDOW (widget), g_variant_get_int64 (parameter));
}

static void
edit_last_action (GtkWidget  *widget,
                  const char *action_name,
                  GVariant   *parameter)
{
  PonderWindow *self = PONDER_WINDOW (widget);

  edit_message (self, _ponder_window_last_message_id (self, PONDER_HISTORY_ROLE_USER, FALSE));
}

static void
cancel_edit_action (GtkWidget  *widget,
                    const char *action_name,
                    GVariant   *parameter)
{
  PonderWindow *self = PONDER_WINDOW (widget);

  self->editing = FALSE;
  ponder_window_set_composer_text (self, "");
  _ponder_window_update_actions (self);
}

static void
sibling_step_action (GtkWidget  *widget,
                     const char *action_name,
                     GVariant   *parameter)
{
  PonderWindow *self = PONDER_WINDOW (widget);
  g_autoptr(GPtrArray) siblings = NULL;
  g_autoptr(GError) error = NULL;
  gint64 message_id;
  gint delta;
  guint i;

  g_variant_get (parameter, "(xi)", &message_id, &delta);
  if (_ponder_window_is_busy (self))
    return;
  siblings = ponder_history_list_siblings (self->history, message_id, &error);
  if (siblings == NULL)
    {
      _ponder_window_report_error (self, _("Could not switch versions"), error);
      return;
    }
  for (i = 0; i < siblings->len; i++)
    {
      const PonderHistoryMessage *m = g_ptr_array_index (siblings, i);
      gint target = (gint) i + delta;

      if (m->id != message_id)
        continue;
      if (target < 0 || target >= (gint) siblings->len)
        return;
      m = g_ptr_array_index (siblings, target);
      if (!ponder_history_select_message (self->history, m->id, &error))
        _ponder_window_report_error (self, _("Could not switch versions"), error);
      break;
    }
  _ponder_window_rebuild_transcript (self);
}

static void
set_reasoning_expanded_action (GtkWidget  *widget,
                               const char *action_name,
                               GVariant   *parameter)
{
  PonderWindow *self = PONDER_WINDOW (widget);
  g_autoptr(GError) error = NULL;
  gint64 message_id;
  gboolean expanded;

  g_variant_get (parameter, "(xb)", &message_id, &expanded);
  if (!ponder_history_set_reasoning_expanded (self->history, message_id, expanded, &error))
    g_debug ("Could not store the card's state: %s", error->message);
}

static void
new_chat_action (GtkWidget  *widget,
                 const char *action_name,
                 GVariant   *parameter)
{
  PonderWindow *self = PONDER_WINDOW (widget);

  if (_ponder_window_is_busy (self))
    ponder_generation_cancel (self->generation);
  else
    ponder_window_open_conversation (self, 0);
  gtk_widget_grab_focus (GTK_WIDGET (self->composer));
}

static void
search_action (GtkWidget  *widget,
               const char *action_name,
               GVariant   *parameter)
{
  PonderWindow *self = PONDER_WINDOW (widget);

  adw_leaflet_navigate (self->leaflet, ADW_NAVIGATION_DIRECTION_BACK);
  gtk_widget_grab_focus (GTK_WIDGET (self->search_entry));
}

static void
on_file_chosen (PonderWindow         *self,
                int                   response,
                GtkFileChooserNative *chooser)
{
  g_autoptr(GFile) file = NULL;
  g_autofree char *path = NULL;

  if (response == GTK_RESPONSE_ACCEPT)
    {
      file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (chooser));
      path = file != NULL ? g_file_get_path (file) : NULL;
      if (path != NULL)
        ponder_window_load_model (self, path);
    }
  g_object_unref (chooser);
}

static void
open_model_action (GtkWidget  *widget,
                   const char *action_name,
                   GVariant   *parameter)
{
  PonderWindow *self = PONDER_WINDOW (widget);
  GtkFileChooserNative *chooser;
  g_autoptr(GtkFileFilter) filter = gtk_file_filter_new ();

  chooser = gtk_file_chooser_native_new (_("Open a GGUF Model"), GTK_WINDOW (self),
                                         GTK_FILE_CHOOSER_ACTION_OPEN, _("_Open"), _("_Cancel"));
  gtk_file_filter_set_name (filter, _("GGUF models"));
  gtk_file_filter_add_pattern (filter, "*.gguf");
  gtk_file_filter_add_pattern (filter, "*.GGUF");
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (chooser), filter);
  g_signal_connect_object (chooser, "response", G_CALLBACK (on_file_chosen), self,
                           G_CONNECT_SWAPPED);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (chooser));
}

static void
delete_conversation_action (GtkWidget  *widget,
                            const char *action_name,
                            GVariant   *parameter)
{
  PonderWindow *self = PONDER_WINDOW (widget);
  gint64 conversation_id = g_variant_get_int64 (parameter);
  g_autoptr(GError) error = NULL;

  if (conversation_id == self->conversation_id && _ponder_window_is_busy (self))
    {
      _ponder_window_toast (self, _("Stop the answer before deleting this conversation"));
      return;
    }
  if (!ponder_history_delete_conversation (self->history, conversation_id, &error))
    {
      _ponder_window_report_error (self, _("Could not delete the conversation"), error);
      return;
    }
  if (conversation_id == self->conversation_id)
    ponder_window_open_conversation (self, 0);
  _ponder_window_refresh_sidebar (self);

  /* Deletes are soft in the store until the undo toast goes. */
  _ponder_window_conversation_deleted (self, conversation_id);
}

static void
undelete_conversation_action (GtkWidget  *widget,
                              const char *action_name,
                              GVariant   *parameter)
{
  PonderWindow *self = PONDER_WINDOW (widget);
  gint64 conversation_id = g_variant_get_int64 (parameter);
  g_autoptr(GError) error = NULL;

  if (!_ponder_window_conversation_undeleted (self, conversation_id))
    return;
  if (!ponder_history_undelete_conversation (self->history, conversation_id, &error))
    _ponder_window_report_error (self, _("Could not restore the conversation"), error);
  _ponder_window_refresh_sidebar (self);
}

static void
rename_conversation_action (GtkWidget  *widget,
                            const char *action_name,
                            GVariant   *parameter)
{
  PonderWindow *self = PONDER_WINDOW (widget);
  g_autoptr(GError) error = NULL;
  g_autofree char *title = NULL;
  gint64 conversation_id;

  g_variant_get (parameter, "(xs)", &conversation_id, &title);
  g_strstrip (title);
  if (title[0] == '\0')
    return;
  if (!ponder_history_rename_conversation (self->history, conversation_id, title, &error))
    _ponder_window_report_error (self, _("Could not rename the conversation"), error);
  _ponder_window_refresh_sidebar (self);
  _ponder_window_rebuild_transcript (self);
}

static void
on_rename_response (AdwMessageDialog *dialog,
                    const char       *response,
                    PonderWindow     *self)
{
  GtkWidget *entry = adw_message_dialog_get_extra_child (dialog);
  gint64 *conversation_id = g_object_get_data (G_OBJECT (dialog), "conversation-id");

  if (g_strcmp0 (response, "rename") == 0)
    gtk_widget_activate_action (GTK_WIDGET (self), "win.rename-conversation", "(xs)",
                                *conversation_id,
                                gtk_editable_get_text (GTK_EDITABLE (entry)));
}

static void
rename_conversation_dialog_action (GtkWidget  *widget,
                                   const char *action_name,
                                   GVariant   *parameter)
{
  PonderWindow *self = PONDER_WINDOW (widget);
  gint64 conversation_id = g_variant_get_int64 (parameter);
  g_autoptr(PonderHistoryConversation) conversation = NULL;
  GtkWidget *dialog;
  GtkWidget *entry;

  conversation = ponder_history_get_conversation (self->history, conversation_id, NULL);
  if (conversation == NULL)
    return;

  dialog = adw_message_dialog_new (GTK_WINDOW (self), _("Rename Conversation"), NULL);
  entry = gtk_entry_new ();
  gtk_editable_set_text (GTK_EDITABLE (entry), conversation->title);
  gtk_entry_set_activates_default (GTK_ENTRY (entry), TRUE);
  adw_message_dialog_set_extra_child (ADW_MESSAGE_DIALOG (dialog), entry);
  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog),
                                    "cancel", _("_Cancel"),
                                    "rename", _("_Rename"),
                                    NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "rename",
                                              ADW_RESPONSE_SUGGESTED);
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), "rename");
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  g_object_set_data_full (G_OBJECT (dialog), "conversation-id",
                          g_memdup2 (&conversation_id, sizeof conversation_id), g_free);
  g_signal_connect_object (dialog, "response", G_CALLBACK (on_rename_response), self, 0);
  gtk_window_present (GTK_WINDOW (dialog));
}

static gboolean
on_settings_close (PonderConversationSettings *dialog,
                   PonderWindow               *self)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *system_prompt = ponder_conversation_settings_dup_system_prompt (dialog);
  gint64 *conversation_id = g_object_get_data (G_OBJECT (dialog), "conversation-id");
  PonderHistorySampling sampling;

  ponder_conversation_settings_get_sampling (dialog, &sampling);
  if (*conversation_id == 0)
    {
      /* A chat not stored yet: the settings wait for its first message. */
      self->has_default_sampling = TRUE;
      self->default_sampling = sampling;
      g_free (self->default_system_prompt);
      self->default_system_prompt = g_steal_pointer (&system_prompt);
    }
  else
    {
      g_autoptr(PonderHistoryConversation) conversation = NULL;

      conversation = ponder_history_get_conversation (self->history, *conversation_id, &error);
      if (conversation == NULL
          || !ponder_history_set_conversation_settings (self->history, *conversation_id,
                                                        conversation->model, system_prompt,
                                                        &sampling, &error))
        _ponder_window_report_error (self, _("Could not save the settings"), error);
    }
  return FALSE;
}

static void
conversation_settings_action (GtkWidget  *widget,
                              const char *action_name,
                              GVariant   *parameter)
{
  PonderWindow *self = PONDER_WINDOW (widget);
  g_autoptr(PonderHistoryConversation) conversation = NULL;
  PonderConversationSettings *dialog;
  PonderHistorySampling sampling;
  const char *system_prompt = self->default_system_prompt;

  ponder_history_sampling_init_default (&sampling);
  if (self->has_default_sampling)
    sampling = self->default_sampling;
  if (self->conversation_id != 0)
    conversation = ponder_history_get_conversation (self->history, self->conversation_id, NULL);
  if (conversation != NULL)
    {
      sampling = conversation->sampling;
      system_prompt = conversation->system_prompt;
    }

  dialog = ponder_conversation_settings_new (system_prompt, &sampling);
  gtk_window_set_transient_for (GTK_WINDOW (dialog), GTK_WINDOW (self));
  g_object_set_data_full (G_OBJECT (dialog), "conversation-id",
                          g_memdup2 (&self->conversation_id, sizeof (gint64)), g_free);
  g_signal_connect_object (dialog, "close-request", G_CALLBACK (on_settings_close), self, 0);
  gtk_window_present (GTK_WINDOW (dialog));
}

/* Copies a message's answer as the markdown the model wrote (no reasoning). */
static void
copy_message_action (GtkWidget  *widget,
                     const char *action_name,
                     GVariant   *parameter)
{
  PonderWindow *self = PONDER_WINDOW (widget);
  g_autoptr(PonderHistoryMessage) message = NULL;
  g_autoptr(GError) error = NULL;

  message = ponder_history_get_message (self->history, g_variant_get_int64 (parameter), &error);
  if (message == NULL)
    {
      _ponder_window_report_error (self, _("Could not copy the message"), error);
      return;
    }
  gdk_clipboard_set_text (gtk_widget_get_clipboard (widget), message->content);
  _ponder_window_toast (self, _("Copied"));
}

static void
copy_last_action (GtkWidget  *widget,
                  const char *action_name,
                  GVariant   *parameter)
{
  PonderWindow *self = PONDER_WINDOW (widget);
  gint64 message_id = _ponder_window_last_message_id (self, PONDER_HISTORY_ROLE_ASSISTANT, FALSE);

  if (message_id != 0)
    gtk_widget_activate_action (widget, "win.copy-message", "x", message_id);
}

void
_ponder_window_class_actions_init (GtkWidgetClass *widget_class)
{
  gtk_widget_class_install_action (widget_class, "win.new-chat", NULL, new_chat_action);
  gtk_widget_class_install_action (widget_class, "win.search", NULL, search_action);
  gtk_widget_class_install_action (widget_class, "win.send", NULL, send_action);
  gtk_widget_class_install_action (widget_class, "win.stop", NULL, stop_action);
  gtk_widget_class_install_action (widget_class, "win.end-reasoning", NULL, end_reasoning_action);
  gtk_widget_class_install_action (widget_class, "win.regenerate", NULL, regenerate_action);
  gtk_widget_class_install_action (widget_class, "win.regenerate-message", "x",
                                   regenerate_message_action);
  gtk_widget_class_install_action (widget_class, "win.edit-message", "x", edit_message_action);
  gtk_widget_class_install_action (widget_class, "win.edit-last", NULL, edit_last_action);
  gtk_widget_class_install_action (widget_class, "win.cancel-edit", NULL, cancel_edit_action);
  gtk_widget_class_install_action (widget_class, "win.sibling-step", "(xi)", sibling_step_action);
  gtk_widget_class_install_action (widget_class, "win.set-reasoning-expanded", "(xb)",
                                   set_reasoning_expanded_action);
  gtk_widget_class_install_action (widget_class, "win.open-model", NULL, open_model_action);
  gtk_widget_class_install_action (widget_class, "win.copy-message", "x", copy_message_action);
  gtk_widget_class_install_action (widget_class, "win.copy-last", NULL, copy_last_action);
  gtk_widget_class_install_action (widget_class, "win.conversation-settings", NULL,
                                   conversation_settings_action);
  gtk_widget_class_install_action (widget_class, "win.delete-conversation", "x",
                                   delete_conversation_action);
  gtk_widget_class_install_action (widget_class, "win.undelete-conversation", "x",
                                   undelete_conversation_action);
  gtk_widget_class_install_action (widget_class, "win.rename-conversation", "(xs)",
                                   rename_conversation_action);
  gtk_widget_class_install_action (widget_class, "win.rename-conversation-dialog", "x",
                                   rename_conversation_dialog_action);
  _ponder_window_class_edit_actions_init (widget_class);
}
