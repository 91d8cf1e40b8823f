/* ponder-message-edit.c — edit an answer, continue a cut-off one, delete a branch
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The window's commands that change answers after the fact. None of them
 * overwrites: an edited answer is a new sibling of the original, a deleted
 * branch stays in the store (hidden) until its undo toast has gone, and a
 * continued answer only grows at its end.
 */

#define G_LOG_DOMAIN "ponder-window"

#include <glib/gi18n.h>

#include "ponder-window-private.h"

/* ---- editing an answer ----------------------------------------------------- */

static GtkWidget *
text_area (const char  *title,
           const char  *text,
           GtkWidget  **out_view)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);
  GtkWidget *label = gtk_label_new_with_mnemonic (title);
  GtkWidget *scroller = gtk_scrolled_window_new ();
  GtkWidget *view = gtk_text_view_new ();

  gtk_label_set_xalign (GTK_LABEL (label), 0.0);
  gtk_widget_add_css_class (label, "heading");
  gtk_label_set_mnemonic_widget (GTK_LABEL (label), view);
  gtk_text_view_set_wrap_mode (GTK_TEXT_VIEW (view), GTK_WRAP_WORD_CHAR);
  gtk_text_view_set_accepts_tab (GTK_TEXT_VIEW (view), FALSE);
  gtk_text_buffer_set_text (gtk_text_view_get_buffer (GTK_TEXT_VIEW (view)), text, -1);
  gtk_widget_add_css_class (view, "inline");
  gtk_accessible_update_relation (GTK_ACCESSIBLE (view), GTK_ACCESSIBLE_RELATION_LABELLED_BY,
                                  label, NULL, -1);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scroller), view);
  gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (scroller), GTK_POLICY_NEVER,
                                  GTK_POLICY_AUTOMATIC);
  gtk_scrolled_window_set_min_content_height (GTK_SCROLLED_WINDOW (scroller), 140);
  gtk_scrolled_window_set_max_content_height (GTK_SCROLLED_WINDOW (scroller), 260);
  gtk_scrolled_window_set_propagate_natural_height (GTK_SCROLLED_WINDOW (scroller), TRUE);
  gtk_widget_add_css_class (scroller, "card");
  gtk_box_append (GTK_BOX (box), label);
  gtk_box_append (GTK_BOX (box), scroller);
  *out_view = view;

  return box;
}

static char *
dup_text (GtkWidget *view)
{
  GtkTextBuffer *buffer = gtk_text_view_get_buffer (GTK_TEXT_VIEW (view));
  GtkTextIter start, end;

  gtk_text_buffer_get_bounds (buffer, &start, &end);
  return gtk_text_buffer_get_text (buffer, &start, &end, FALSE);
}

static void
on_edit_answer_response (AdwMessageDialog *dialog,
                         const char       *response,
                         PonderWindow     *self)
{
  gint64 *message_id = g_object_get_data (G_OBJECT (dialog), "message-id");
  g_autofree char *answer = NULL;
  g_autofree char *reasoning = NULL;

  if (g_strcmp0 (response, "save") != 0)
    return;
  answer = dup_text (g_object_get_data (G_OBJECT (dialog), "answer-view"));
  reasoning = dup_text (g_object_get_data (G_OBJECT (dialog), "reasoning-view"));
  gtk_widget_activate_action (GTK_WIDGET (self), "win.save-answer", "(xss)", *message_id,
                              answer, reasoning);
}

static void
edit_answer (PonderWindow *self,
             gint64        message_id)
{
  g_autoptr(PonderHistoryMessage) message = NULL;
  g_autoptr(GError) error = NULL;
  GtkWidget *dialog;
  GtkWidget *box;
  GtkWidget *answer_view;
  GtkWidget *reasoning_view;

  if (_ponder_window_is_busy (self) || message_id == 0)
    return;
  message = ponder_history_get_message (self->history, message_id, &error);
  if (message == NULL)
    {
      _ponder_window_report_error (self, _("Could not edit the answer"), error);
      return;
    }
  if (message->role != PONDER_HISTORY_ROLE_ASSISTANT)
    return;

  dialog = adw_message_dialog_new (GTK_WINDOW (self), _("Edit Answer"),
                                   _("The edited answer is kept as a new version beside the "
                                     "original, and the conversation goes on from it. The "
                                     "reasoning is stored but never sent to the model."));
  box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 12);
  gtk_box_append (GTK_BOX (box), text_area (_("_Answer"), message->content, &answer_view));
  gtk_box_append (GTK_BOX (box), text_area (_("_Reasoning"), message->reasoning,
                                            &reasoning_view));
  adw_message_dialog_set_extra_child (ADW_MESSAGE_DIALOG (dialog), box);
  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog),
                                    "cancel", _("_Cancel"),
                                    "save", _("_Save as New Version"),
                                    NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "save",
                                              ADW_RESPONSE_SUGGESTED);
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  gtk_window_set_default_size (GTK_WINDOW (dialog), 640, -1);
  g_object_set_data_full (G_OBJECT (dialog), "message-id",
                          g_memdup2 (&message_id, sizeof message_id), g_free);
  g_object_set_data (G_OBJECT (dialog), "answer-view", answer_view);
  g_object_set_data (G_OBJECT (dialog), "reasoning-view", reasoning_view);
  g_signal_connect_object (dialog, "response", G_CALLBACK (on_edit_answer_response), self, 0);
  gtk_window_present (GTK_WINDOW (dialog));
  gtk_widget_grab_focus (answer_view);
}

static void
edit_answer_action (GtkWidget  *widget,
                    const char *action_name,
                    GVariant   *parameter)
{
  edit_answer (PONDER_WINDOW (widget), g_variant_get_int64 (parameter));
}

static void
edit_last_answer_action (GtkWidget  *widget,
                         const char *action_name,
                         GVariant   *parameter)
{
  PonderWindow *self = PONDER_WINDOW (widget);

  edit_answer (self, _ponder_window_last_message_id (self, PONDER_HISTORY_ROLE_ASSISTANT, FALSE));
}

/* (message id, answer, reasoning): stores the edit beside the original. */
static void
save_answer_action (GtkWidget  *widget,
                    const char *action_name,
                    GVariant   *parameter)
{
  PonderWindow *self = PONDER_WINDOW (widget);
  g_autoptr(PonderHistoryMessage) original = NULL;
  g_autoptr(PonderHistoryMessage) edited = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *answer = NULL;
  g_autofree char *reasoning = NULL;
  gint64 message_id;

  g_variant_get (parameter, "(xss)", &message_id, &answer, &reasoning);
  if (_ponder_window_is_busy (self))
    return;
  original = ponder_history_get_message (self->history, message_id, &error);
  if (original == NULL || original->role != PONDER_HISTORY_ROLE_ASSISTANT)
    {
      if (error != NULL)
        _ponder_window_report_error (self, _("Could not save the edited answer"), error);
      return;
    }

  edited = ponder_history_message_new (PONDER_HISTORY_ROLE_ASSISTANT, g_strstrip (answer));
  g_free (edited->reasoning);
  edited->reasoning = g_strdup (g_strstrip (reasoning));
  edited->model = g_strdup (original->model);
  edited->has_sampling = original->has_sampling;
  edited->sampling = original->sampling;
  /* The thinking time still describes the reasoning; token counts and speeds
   * belonged to the model's own text. */
  edited->reasoning_s = original->reasoning_s;
  edited->reasoning_expanded = original->reasoning_expanded;
  edited->complete = TRUE;
  if (ponder_history_add_message (self->history, original->conversation_id, original->parent_id,
                                  edited, &error) == 0)
    _ponder_window_report_error (self, _("Could not save the edited answer"), error);
  _ponder_window_rebuild_transcript (self);
}

/* ---- continuing an answer cut off by the token limit --------------------- */

static gboolean
append_tokens (PonderWindow  *self,
               GArray        *ids,
               const char    *text,
               gboolean       parse_special,
               GError       **error)
{
  PonderError engine_error = { 0 };
  int32_t *piece = NULL;
  size_t n_piece = 0;

  if (text[0] == '\0')
    return TRUE;
  if (ponder_model_tokenize (self->model, text, strlen (text), parse_special, &piece, &n_piece,
                             &engine_error) != PONDER_OK)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s", engine_error.message);
      return FALSE;
    }
  g_array_append_vals (ids, piece, n_piece);
  ponder_free (piece);
  return TRUE;
}

/* The prompt as the engine saw it when the answer stopped: the chat up to
 * the question, the open think block, the saved reasoning and, once the
 * answer had begun, "</think>" and the answer so far. The model's own text
 * is tokenized without special tokens, as the chat template does. */
static GArray *
continuation_prompt (PonderWindow                *self,
                     GPtrArray                   *path,
                     const PonderHistoryMessage  *answer,
                     const char                  *system_prompt,
                     GError                     **error)
{
  g_autoptr(GArray) messages = g_array_new (FALSE, TRUE, sizeof (PonderMessage));
  g_autoptr(GArray) ids = g_array_new (FALSE, FALSE, sizeof (int32_t));
  PonderError engine_error = { 0 };
  char *text = NULL;
  gboolean ok;
  guint i;

  if (system_prompt != NULL && system_prompt[0] != '\0')
    {
      PonderMessage system = { PONDER_ROLE_SYSTEM, system_prompt };

      g_array_append_val (messages, system);
    }
  /* Earlier reasoning stays out, as in every other turn. */
  for (i = 0; i < path->len; i++)
    {
      const PonderHistoryMessage *m = g_ptr_array_index (path, i);
      PonderMessage item = { PONDER_ROLE_USER, m->content };

      if (m->id == answer->id)
        break;
      if (m->role == PONDER_HISTORY_ROLE_SYSTEM)
        continue;
      if (m->role == PONDER_HISTORY_ROLE_ASSISTANT)
        item.role = PONDER_ROLE_ASSISTANT;
      g_array_append_val (messages, item);
    }

  if (ponder_model_render_chat (self->model, (PonderMessage *) messages->data, messages->len,
                                TRUE, &text, &engine_error) != PONDER_OK)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s", engine_error.message);
      return NULL;
    }
  ok = append_tokens (self, ids, text, TRUE, error)
       && append_tokens (self, ids, answer->reasoning, FALSE, error);
  ponder_free (text);
  if (ok && answer->content[0] != '\0')
    ok = append_tokens (self, ids, "</think>\n\n", TRUE, error)
         && append_tokens (self, ids, answer->content, FALSE, error);
  return ok ? g_steal_pointer (&ids) : NULL;
}

/* An answer with replies below it is continued as a new version, so the
 * replies keep the text they answered. */
static gint64
continuation_target (PonderWindow               *self,
                     GPtrArray                  *path,
                     const PonderHistoryMessage *answer,
                     GError                    **error)
{
  const PonderHistoryMessage *last = g_ptr_array_index (path, path->len - 1);
  g_autoptr(PonderHistoryMessage) copy = NULL;

  if (last->id == answer->id)
    return answer->id;
  copy = ponder_history_message_new (PONDER_HISTORY_ROLE_ASSISTANT, answer->content);
  g_free (copy->reasoning);
  copy->reasoning = g_strdup (answer->reasoning);
  copy->model = g_strdup (answer->model);
  copy->has_sampling = answer->has_sampling;
  copy->sampling = answer->sampling;
  copy->reasoning_s = answer->reasoning_s;
  copy->n_reasoning_tokens = answer->n_reasoning_tokens;
  copy->n_answer_tokens = answer->n_answer_tokens;
  copy->complete = FALSE;
  return ponder_history_add_message (self->history, answer->conversation_id, answer->parent_id,
                                     copy, error);
}

static void
continue_message (PonderWindow *self,
                  gint64        message_id)
{
  g_autoptr(PonderHistoryConversation) conversation = NULL;
  g_autoptr(PonderHistoryMessage) message = NULL;
  g_autoptr(GPtrArray) path = NULL;
  g_autoptr(GArray) prompt = NULL;
  g_autoptr(GError) error = NULL;
  PonderGenerateParams params;
  gint64 target;

  if (_ponder_window_is_busy (self) || self->session == NULL || message_id == 0)
    return;
  message = ponder_history_get_message (self->history, message_id, &error);
  if (message != NULL)
    conversation = ponder_history_get_conversation (self->history, message->conversation_id,
                                                    &error);
  if (conversation != NULL)
    path = ponder_history_list_active_path (self->history, conversation->id, &error);
  if (path == NULL || path->len == 0)
    {
      if (error != NULL)
        _ponder_window_report_error (self, _("Could not continue the answer"), error);
      return;
    }
  if (message->role != PONDER_HISTORY_ROLE_ASSISTANT || message->complete)
    return;

  prompt = continuation_prompt (self, path, message, conversation->system_prompt, &error);
  target = prompt != NULL ? continuation_target (self, path, message, &error) : 0;
  if (target == 0)
    {
      _ponder_window_report_error (self, _("Could not continue the answer"), error);
      return;
    }

  self->conversation_id = conversation->id;
  self->generation_message_id = target;
  g_string_assign (self->generation_reasoning, message->reasoning);
  g_string_assign (self->generation_answer, message->content);
  self->continued = g_steal_pointer (&message);
  _ponder_window_fill_generate_params (self, &params, &conversation->sampling);
  _ponder_window_run_generation (self,
                                 ponder_generation_start_tokens (self->session,
                                                                 (int32_t *) prompt->data,
                                                                 prompt->len, &params));
}

static void
continue_message_action (GtkWidget  *widget,
                         const char *action_name,
                         GVariant   *parameter)
{
  continue_message (PONDER_WINDOW (widget), g_variant_get_int64 (parameter));
}

static void
continue_action (GtkWidget  *widget,
                 const char *action_name,
                 GVariant   *parameter)
{
  PonderWindow *self = PONDER_WINDOW (widget);

  continue_message (self, _ponder_window_last_message_id (self, PONDER_HISTORY_ROLE_ASSISTANT,
                                                          FALSE));
}

/* ---- deleting, with undo --------------------------------------------------- */

typedef enum
{
  DELETED_MESSAGE,
  DELETED_CONVERSATION,
} DeletedKind;

static GHashTable *
pending_table (PonderWindow *self,
               DeletedKind   kind)
{
  return kind == DELETED_MESSAGE ? self->pending_message_deletes
                                 : self->pending_conversation_deletes;
}

static void
purge_one (PonderWindow *self,
           DeletedKind   kind,
           gint64        id)
{
  g_autoptr(GError) error = NULL;
  gboolean ok;

  if (!g_hash_table_remove (pending_table (self, kind), &id))
    return;  /* undone, or already purged */
  if (kind == DELETED_MESSAGE)
    ok = ponder_history_purge_message (self->history, id, &error);
  else
    ok = ponder_history_purge_conversation (self->history, id, &error);
  if (!ok)
    g_warning ("Could not remove a deleted item for good: %s", error->message);
}

static void
on_undo_toast_dismissed (AdwToast     *toast,
                         PonderWindow *self)
{
  gint64 *id = g_object_get_data (G_OBJECT (toast), "deleted-id");
  DeletedKind kind = GPOINTER_TO_INT (g_object_get_data (G_OBJECT (toast), "deleted-kind"));

  if (self->history != NULL && !self->disposed)
    purge_one (self, kind, *id);
}

/* Shows "… deleted [Undo]"; when the toast goes without Undo, the rows go
 * from the store for good. */
static void
add_undo_toast (PonderWindow *self,
                DeletedKind   kind,
                gint64        id)
{
  AdwToast *toast;

  g_hash_table_add (pending_table (self, kind), g_memdup2 (&id, sizeof id));
  toast = adw_toast_new (kind == DELETED_MESSAGE ? _("Message deleted")
                                                 : _("Conversation deleted"));
  adw_toast_set_button_label (toast, _("_Undo"));
  adw_toast_set_action_name (toast, kind == DELETED_MESSAGE ? "win.undelete-message"
                                                            : "win.undelete-conversation");
  adw_toast_set_action_target_value (toast, g_variant_new_int64 (id));
  g_object_set_data_full (G_OBJECT (toast), "deleted-id", g_memdup2 (&id, sizeof id), g_free);
  g_object_set_data (G_OBJECT (toast), "deleted-kind", GINT_TO_POINTER (kind));
  g_signal_connect_object (toast, "dismissed", G_CALLBACK (on_undo_toast_dismissed), self, 0);
  adw_toast_overlay_add_toast (self->toast_overlay, toast);
}

static void
delete_message (PonderWindow *self,
                gint64        message_id)
{
  g_autoptr(GError) error = NULL;

  if (_ponder_window_is_busy (self) || message_id == 0)
    return;
  if (!ponder_history_delete_message (self->history, message_id, &error))
    {
      _ponder_window_report_error (self, _("Could not delete the message"), error);
      return;
    }
  self->editing = FALSE;
  _ponder_window_rebuild_transcript (self);
  add_undo_toast (self, DELETED_MESSAGE, message_id);
}

static void
delete_message_action (GtkWidget  *widget,
                       const char *action_name,
                       GVariant   *parameter)
{
  delete_message (PONDER_WINDOW (widget), g_variant_get_int64 (parameter));
}

static void
delete_last_action (GtkWidget  *widget,
                    const char *action_name,
                    GVariant   *parameter)
{
  PonderWindow *self = PONDER_WINDOW (widget);

  delete_message (self, _ponder_window_last_message_id (self, PONDER_HISTORY_ROLE_USER, TRUE));
}

static void
undelete_message_action (GtkWidget  *widget,
                         const char *action_name,
                         GVariant   *parameter)
{
  PonderWindow *self = PONDER_WINDOW (widget);
  gint64 message_id = g_variant_get_int64 (parameter);
  g_autoptr(GError) error = NULL;

  if (!g_hash_table_remove (self->pending_message_deletes, &message_id))
    return;
  /* Back where it was, and on the shown branch again. */
  if (!ponder_history_undelete_message (self->history, message_id, &error)
      || !ponder_history_select_message (self->history, message_id, &error))
    _ponder_window_report_error (self, _("Could not restore the message"), error);
  _ponder_window_rebuild_transcript (self);
}

/* Called by win.delete-conversation once the store has hidden it. */
void
_ponder_window_conversation_deleted (PonderWindow *self,
                                     gint64        conversation_id)
{
  add_undo_toast (self, DELETED_CONVERSATION, conversation_id);
}

/* Called by win.undelete-conversation: FALSE when there is nothing to undo. */
gboolean
_ponder_window_conversation_undeleted (PonderWindow *self,
                                       gint64        conversation_id)
{
  return g_hash_table_remove (self->pending_conversation_deletes, &conversation_id);
}

/* The window goes: every undo window closes with it. */
void
_ponder_window_purge_pending (PonderWindow *self)
{
  DeletedKind kinds[] = { DELETED_MESSAGE, DELETED_CONVERSATION };
  guint k;

  for (k = 0; k < G_N_ELEMENTS (kinds); k++)
    {
      g_autoptr(GList) ids = g_hash_table_get_keys (pending_table (self, kinds[k]));
      GList *l;

      for (l = ids; l != NULL; l = l->next)
        {
          gint64 id = *(gint64 *) l->data;

          purge_one (self, kinds[k], id);
        }
    }
}

void
_ponder_window_init_edit (PonderWindow *self)
{
  self->pending_message_deletes = g_hash_table_new_full (g_int64_hash, g_int64_equal,
                                                         g_free, NULL);
  self->pending_conversation_deletes = g_hash_table_new_full (g_int64_hash, g_int64_equal,
                                                              g_free, NULL);
}

void
_ponder_window_class_edit_actions_init (GtkWidgetClass *widget_class)
{
  gtk_widget_class_install_action (widget_class, "win.edit-answer", "x", edit_answer_action);
  gtk_widget_class_install_action (widget_class, "win.edit-last-answer", NULL,
                                   edit_last_answer_action);
  gtk_widget_class_install_action (widget_class, "win.save-answer", "(xss)", save_answer_action);
  gtk_widget_class_install_action (widget_class, "win.continue", NULL, continue_action);
  gtk_widget_class_install_action (widget_class, "win.continue-message", "x",
                                   continue_message_action);
  gtk_widget_class_install_action (widget_class, "win.delete-message", "x",
                                   delete_message_action);
  gtk_widget_class_install_action (widget_class, "win.delete-last", NULL, delete_last_action);
  gtk_widget_class_install_action (widget_class, "win.undelete-message", "x",
                                   undelete_message_action);
}

void
_ponder_window_update_edit_actions (PonderWindow *self)
{
  gboolean ready = self->session != NULL && !self->loading;
  gboolean busy = _ponder_window_is_busy (self);
  gboolean has_conversation = self->conversation_id != 0;
  GtkWidget *widget = GTK_WIDGET (self);

  gtk_widget_action_set_enabled (widget, "win.stop", busy || self->editing);
  gtk_widget_action_set_enabled (widget, "win.edit-answer", !busy);
  gtk_widget_action_set_enabled (widget, "win.edit-last-answer", !busy && has_conversation);
  gtk_widget_action_set_enabled (widget, "win.save-answer", !busy);
  gtk_widget_action_set_enabled (widget, "win.continue", ready && !busy && has_conversation);
  gtk_widget_action_set_enabled (widget, "win.continue-message", ready && !busy);
  gtk_widget_action_set_enabled (widget, "win.delete-message", !busy);
  gtk_widget_action_set_enabled (widget, "win.delete-last", !busy && has_conversation);
  gtk_widget_action_set_enabled (widget, "win.copy-last", has_conversation);
}
