/* ponder-window.c — the main window: sidebar, transcript, composer
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The window owns the loaded model and one engine session. A generation runs
 * on its own thread (PonderGeneration); a 33 ms timer drains its text into
 * the streaming row, so the transcript is redrawn at most once per frame and
 * the partial answer is saved to the history store about once a second.
 */

#define G_LOG_DOMAIN "ponder-window"

#include <glib/gi18n.h>

#include "ponder-engine.h"
#include "ponder-generation.h"
#include "ponder-markdown.h"
#include "ponder-message-row.h"
#include "ponder-window-export.h"
#include "ponder-window-private.h"

#define FLUSH_INTERVAL_MS   33
#define SAVE_INTERVAL_US    G_USEC_PER_SEC
#define TITLE_MAX_CHARS     60


G_DEFINE_FINAL_TYPE (PonderWindow, ponder_window, ADW_TYPE_APPLICATION_WINDOW)

/* ---- helpers ------------------------------------------------------------- */

void
_ponder_window_toast (PonderWindow *self,
       const char   *text)
{
  adw_toast_overlay_add_toast (self->toast_overlay, adw_toast_new (text));
}

void
_ponder_window_report_error (PonderWindow *self,
              const char   *what,
              GError       *error)
{
  g_autofree char *text = g_strdup_printf ("%s: %s", what, error->message);

  g_debug ("%s", text);
  _ponder_window_toast (self, text);
}

gboolean
_ponder_window_is_busy (PonderWindow *self)
{
  return self->generation != NULL;
}

void
_ponder_window_update_actions (PonderWindow *self)
{
  gboolean ready = self->session != NULL && !self->loading;
  gboolean busy = _ponder_window_is_busy (self);
  gboolean has_conversation = self->conversation_id != 0;

  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.send", ready && !busy);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.stop", busy);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.end-reasoning", busy);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.regenerate",
                                 ready && !busy && has_conversation);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.regenerate-message", ready && !busy);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.edit-message", !busy);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.edit-last", !busy && has_conversation);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.sibling-step", !busy);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.open-model", !busy && !self->loading);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.cancel-edit", self->editing);
  _ponder_window_update_edit_actions (self);
  _ponder_window_update_model_actions (self);

  gtk_widget_set_visible (self->composer_box, self->session != NULL);
  gtk_widget_set_visible (self->send_button, !busy);
  gtk_widget_set_visible (self->stop_button, busy);
  gtk_revealer_set_reveal_child (self->edit_revealer, self->editing);
}

void
_ponder_window_update_title (PonderWindow *self)
{
  g_autoptr(PonderHistoryConversation) conversation = NULL;

  if (self->conversation_id != 0)
    conversation = ponder_history_get_conversation (self->history, self->conversation_id, NULL);
  adw_window_title_set_title (self->window_title,
                              conversation != NULL ? conversation->title : _("New Chat"));
  adw_window_title_set_subtitle (self->window_title,
                                 self->model_name != NULL ? self->model_name
                                                          : _("No model loaded"));
}

char *
_ponder_window_dup_composer_text (PonderWindow *self)
{
  GtkTextBuffer *buffer = gtk_text_view_get_buffer (self->composer);
  GtkTextIter start, end;

  gtk_text_buffer_get_bounds (buffer, &start, &end);
  return gtk_text_buffer_get_text (buffer, &start, &end, FALSE);
}

/* A title from the first line of the first message. */
char *
_ponder_window_make_title (const char *text)
{
  g_autofree char *line = g_strndup (text, strcspn (text, "\n"));
  glong n = g_utf8_strlen (line, -1);

  if (n <= TITLE_MAX_CHARS)
    return g_steal_pointer (&line);
  return g_strconcat (g_utf8_substring (line, 0, TITLE_MAX_CHARS - 1), "…", NULL);
}

/* ---- sidebar ------------------------------------------------------------- */

/* A row's menu is made when it is first opened: a popover for each of 500
 * rows made at start-up took most of the time to the first frame (bench-app,
 * 1,000 conversations: about 800 ms to build the window, 200 ms without). */
static void
create_row_menu (GtkMenuButton *button,
                 gpointer       user_data)
{
  gint64 *conversation_id = g_object_get_data (G_OBJECT (button), "conversation-id");
  g_autoptr(GMenu) menu = g_menu_new ();
  g_autoptr(GMenuItem) rename = g_menu_item_new (_("_Rename…"), NULL);
  g_autoptr(GMenuItem) delete = g_menu_item_new (_("_Delete"), NULL);

  g_menu_item_set_action_and_target_value (rename, "win.rename-conversation-dialog",
                                           g_variant_new_int64 (*conversation_id));
  g_menu_item_set_action_and_target_value (delete, "win.delete-conversation",
                                           g_variant_new_int64 (*conversation_id));
  g_menu_append_item (menu, rename);
  g_menu_append_item (menu, delete);
  gtk_menu_button_set_menu_model (button, G_MENU_MODEL (menu));
}

static GtkWidget *
conversation_row_new (gint64      conversation_id,
                      const char *title,
                      const char *snippet)
{
  GtkWidget *row = gtk_list_box_row_new ();
  GtkWidget *line = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 2);
  GtkWidget *label = gtk_label_new (NULL);
  GtkWidget *more = gtk_menu_button_new ();

  g_object_set_data_full (G_OBJECT (more), "conversation-id",
                          g_memdup2 (&conversation_id, sizeof conversation_id), g_free);
  gtk_menu_button_set_create_popup_func (GTK_MENU_BUTTON (more), create_row_menu, NULL, NULL);
  gtk_menu_button_set_icon_name (GTK_MENU_BUTTON (more), "view-more-symbolic");
  gtk_widget_add_css_class (more, "flat");
  gtk_widget_set_valign (more, GTK_ALIGN_CENTER);
  gtk_widget_set_tooltip_text (more, _("Conversation Menu"));
  gtk_accessible_update_property (GTK_ACCESSIBLE (more), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("Conversation Menu"), -1);
  gtk_widget_set_hexpand (box, TRUE);
  gtk_widget_set_valign (box, GTK_ALIGN_CENTER);
  gtk_box_append (GTK_BOX (line), box);
  gtk_box_append (GTK_BOX (line), more);

  gtk_label_set_text (GTK_LABEL (label), title);
  gtk_label_set_xalign (GTK_LABEL (label), 0.0);
  gtk_label_set_ellipsize (GTK_LABEL (label), PANGO_ELLIPSIZE_END);
  gtk_box_append (GTK_BOX (box), label);
  if (snippet != NULL && snippet[0] != '\0')
    {
      GtkWidget *sub = gtk_label_new (NULL);

      gtk_label_set_text (GTK_LABEL (sub), snippet);
      gtk_label_set_xalign (GTK_LABEL (sub), 0.0);
      gtk_label_set_ellipsize (GTK_LABEL (sub), PANGO_ELLIPSIZE_END);
      gtk_widget_add_css_class (sub, "dim-label");
      gtk_widget_add_css_class (sub, "caption");
      gtk_box_append (GTK_BOX (box), sub);
    }
  gtk_list_box_row_set_child (GTK_LIST_BOX_ROW (row), line);
  g_object_set_data_full (G_OBJECT (row), "conversation-id",
                          g_memdup2 (&conversation_id, sizeof conversation_id), g_free);

  return row;
}

static gint64
row_conversation_id (GtkListBoxRow *row)
{
  gint64 *id = g_object_get_data (G_OBJECT (row), "conversation-id");

  return id != NULL ? *id : 0;
}

/* Rebuilds the sidebar from conversations (is_search: search hits). */
static void
fill_sidebar (PonderWindow *self,
              GPtrArray    *items,
              gboolean      is_search)
{
  g_autoptr(GHashTable) seen = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  GtkWidget *child;
  guint i;

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->conversation_list))) != NULL)
    gtk_list_box_remove (self->conversation_list, child);

  for (i = 0; i < items->len; i++)
    {
      const PonderHistoryConversation *conversation;
      const char *snippet = NULL;
      GtkWidget *row;

      if (!is_search)
        conversation = g_ptr_array_index (items, i);
      else
        {
          const PonderHistorySearchHit *hit = g_ptr_array_index (items, i);

          conversation = hit->conversation;
          snippet = hit->snippet;
        }
      /* Search gives one hit per matching message: show each chat once. */
      if (g_hash_table_contains (seen, &conversation->id))
        continue;
      g_hash_table_add (seen, g_memdup2 (&conversation->id, sizeof (gint64)));

      row = conversation_row_new (conversation->id, conversation->title, snippet);
      gtk_list_box_append (self->conversation_list, row);
      if (conversation->id == self->conversation_id)
        gtk_list_box_select_row (self->conversation_list, GTK_LIST_BOX_ROW (row));
    }
}

static void
on_search_done (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(PonderWindow) self = user_data;
  g_autoptr(GPtrArray) hits = NULL;
  g_autoptr(GError) error = NULL;

  hits = ponder_history_search_finish (PONDER_HISTORY (source), result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED) || self->disposed)
    return; /* a newer query replaced this one, or the window went */
  g_clear_object (&self->search_cancellable);
  if (hits == NULL)
    {
      _ponder_window_report_error (self, _("Could not search the conversations"), error);
      return;
    }
  fill_sidebar (self, hits, TRUE);
}

/* The list, or the search hits for the text in the search field. A search
 * over a big history takes a while, so it runs on a worker thread and the
 * newest query cancels the one before. */
void
_ponder_window_refresh_sidebar (PonderWindow *self)
{
  const char *query = gtk_editable_get_text (GTK_EDITABLE (self->search_entry));
  g_autoptr(GPtrArray) items = NULL;
  g_autoptr(GError) error = NULL;

  if (self->search_cancellable != NULL)
    g_cancellable_cancel (self->search_cancellable);
  g_clear_object (&self->search_cancellable);

  if (query[0] != '\0')
    {
      self->search_cancellable = g_cancellable_new ();
      ponder_history_search_async (self->history, query, 100, self->search_cancellable,
                                   on_search_done, g_object_ref (self));
      return;
    }
  items = ponder_history_list_conversations (self->history, 500, &error);
  if (items == NULL)
    {
      _ponder_window_report_error (self, _("Could not read the conversations"), error);
      return;
    }
  fill_sidebar (self, items, FALSE);
}

/* TRUE while a search started from the search field has not come back. */
gboolean
ponder_window_get_search_pending (PonderWindow *self)
{
  g_return_val_if_fail (PONDER_IS_WINDOW (self), FALSE);

  return self->search_cancellable != NULL;
}

static void
on_search_changed (PonderWindow *self)
{
  _ponder_window_refresh_sidebar (self);
}

static void
on_conversation_activated (PonderWindow  *self,
                           GtkListBoxRow *row)
{
  ponder_window_open_conversation (self, row_conversation_id (row));
  adw_leaflet_navigate (self->leaflet, ADW_NAVIGATION_DIRECTION_FORWARD);
}

static void
on_back_clicked (PonderWindow *self)
{
  adw_leaflet_navigate (self->leaflet, ADW_NAVIGATION_DIRECTION_BACK);
}

/* ---- generation ---------------------------------------------------------- */

void
_ponder_window_fill_generate_params (PonderWindow                *self,
                                     PonderGenerateParams        *params,
                                     const PonderHistorySampling *sampling)
{
  *params = ponder_generate_params_default ();
  params->sampling.temperature = sampling->temperature;
  params->sampling.top_p = sampling->top_p;
  params->sampling.top_k = sampling->top_k;
  params->sampling.min_p = sampling->min_p;
  params->sampling.repeat_penalty = sampling->repeat_penalty;
  params->sampling.seed = sampling->seed >= 0 ? (guint64) sampling->seed
                                              : ((guint64) g_random_int () << 32) | g_random_int ();
  params->max_tokens = sampling->max_tokens;
  params->reasoning_budget = sampling->reasoning_budget;
  params->skip_reasoning = sampling->skip_reasoning;
}

static const char *
answer_text (GString *answer)
{
  /* The engine hands over the blank line that follows </think>. */
  return answer->str + strspn (answer->str, "\n");
}

static void
finish_generation (PonderWindow      *self,
                   const PonderStats *stats,
                   GError            *error)
{
  g_autoptr(PonderHistoryMessage) message = NULL;
  g_autoptr(GError) local_error = NULL;

  message = ponder_history_get_message (self->history, self->generation_message_id, &local_error);
  if (message != NULL)
    {
      g_free (message->content);
      message->content = g_strdup (answer_text (self->generation_answer));
      g_free (message->reasoning);
      message->reasoning = g_strdup (self->generation_reasoning->str);
      message->reasoning_s = stats->reasoning_time_s;
      message->time_to_first_token_s = stats->time_to_first_token_s;
      message->tokens_per_s = stats->decode_tokens_per_s;
      message->n_prompt_tokens = stats->n_prompt_tokens;
      message->n_reasoning_tokens = stats->n_reasoning_tokens;
      message->n_answer_tokens = stats->n_generated_tokens - stats->n_reasoning_tokens;
      message->complete = error == NULL && stats->stop_reason == PONDER_STOP_END_OF_TURN;
      if (self->continued != NULL)
        {
          /* A continued answer counts its first part too. */
          message->reasoning_s += MAX (self->continued->reasoning_s, 0.0);
          message->n_reasoning_tokens += MAX (self->continued->n_reasoning_tokens, 0);
          message->n_answer_tokens += MAX (self->continued->n_answer_tokens, 0);
        }
      if (self->generation_row != NULL)
        message->reasoning_expanded = ponder_message_row_get_expanded (self->generation_row);
      if (!ponder_history_finish_message (self->history, message, &local_error)
          || !ponder_history_set_reasoning_expanded (self->history, message->id,
                                                     message->reasoning_expanded, &local_error))
        _ponder_window_report_error (self, _("Could not save the answer"), local_error);
    }
  else
    _ponder_window_report_error (self, _("Could not save the answer"), local_error);

  if (error != NULL)
    _ponder_window_report_error (self, _("The model stopped"), error);
  else if (stats->stop_reason == PONDER_STOP_CONTEXT_FULL)
    _ponder_window_toast (self, _("The conversation filled the model’s context"));

  g_clear_pointer (&self->generation, ponder_generation_free);
  g_clear_pointer (&self->continued, ponder_history_message_free);
  self->generation_message_id = 0;
  g_string_truncate (self->generation_reasoning, 0);
  g_string_truncate (self->generation_answer, 0);
  _ponder_window_rebuild_transcript (self);
  _ponder_window_refresh_sidebar (self);
}

static gboolean
flush_generation (gpointer data)
{
  PonderWindow *self = data;
  g_autoptr(GString) reasoning = g_string_new (NULL);
  g_autoptr(GString) answer = g_string_new (NULL);
  g_autoptr(GError) error = NULL;
  PonderStats stats = { 0 };
  gint64 now = g_get_monotonic_time ();
  gboolean done;

  done = ponder_generation_take (self->generation, reasoning, answer, &stats, &error);
  g_string_append_len (self->generation_reasoning, reasoning->str, reasoning->len);
  g_string_append_len (self->generation_answer, answer->str, answer->len);
  if (self->generation_row != NULL)
    {
      if (reasoning->len > 0 || answer->len > 0)
        ponder_message_row_append (self->generation_row, reasoning->str, answer->str);
      ponder_message_row_tick (self->generation_row);
    }

  if (!done && now - self->last_save_us >= SAVE_INTERVAL_US)
    {
      g_autoptr(GError) save_error = NULL;

      self->last_save_us = now;
      if (!ponder_history_update_partial (self->history, self->generation_message_id,
                                          answer_text (self->generation_answer),
                                          self->generation_reasoning->str, &save_error))
        g_warning ("Could not save the partial answer: %s", save_error->message);
    }

  if (!done)
    return G_SOURCE_CONTINUE;

  self->flush_id = 0;
  finish_generation (self, &stats, error);
  return G_SOURCE_REMOVE;
}

/* Tokens of the rendered prompt; -1 when it cannot be measured. */
static gint
count_prompt_tokens (PonderWindow *self,
                     GArray       *messages)
{
  PonderError error = { 0 };
  char *text = NULL;
  int32_t *ids = NULL;
  size_t n_ids = 0;
  PonderStatus status;

  status = ponder_model_render_chat (self->model, (PonderMessage *) messages->data,
                                     messages->len, TRUE, &text, &error);
  if (status == PONDER_OK)
    status = ponder_model_tokenize (self->model, text, strlen (text), TRUE, &ids, &n_ids, &error);
  ponder_free (text);
  ponder_free (ids);
  return status == PONDER_OK ? (gint) MIN (n_ids, G_MAXINT) : -1;
}

static void
on_context_response (AdwMessageDialog *dialog,
                     const char       *response,
                     PonderWindow     *self)
{
  gint64 *parent_id = g_object_get_data (G_OBJECT (dialog), "parent-id");

  if (g_strcmp0 (response, "drop") == 0 && !_ponder_window_is_busy (self))
    {
      self->drop_oldest = TRUE;
      _ponder_window_start_generation (self, *parent_id);
    }
}

/* Never a silent truncation: the user stops or lets the oldest turns go. */
static void
ask_about_context (PonderWindow *self,
                   gint64        parent_id,
                   guint         n_ctx)
{
  GtkWidget *dialog;

  dialog = adw_message_dialog_new (GTK_WINDOW (self), _("The Conversation Is Too Long"), NULL);
  adw_message_dialog_format_body (ADW_MESSAGE_DIALOG (dialog),
                                  _("It no longer fits in the model’s context of %u tokens. "
                                    "Ponder can leave out the oldest turns (the first message "
                                    "is kept), or you can stop here and start a new chat."),
                                  n_ctx);
  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog),
                                    "cancel", _("_Stop"),
                                    "drop", _("_Leave Out Oldest Turns"),
                                    NULL);
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  g_object_set_data_full (G_OBJECT (dialog), "parent-id",
                          g_memdup2 (&parent_id, sizeof parent_id), g_free);
  g_signal_connect_object (dialog, "response", G_CALLBACK (on_context_response), self, 0);
  gtk_window_present (GTK_WINDOW (dialog));
}

/* Checks the prompt fits with room for an answer; trims whole turns after
 * the first message when the user allowed it. FALSE: do not generate. */
static gboolean
fit_context (PonderWindow                *self,
             GArray                      *messages,
             guint                        first,
             const PonderHistorySampling *sampling,
             gint64                       parent_id)
{
  guint n_ctx = ponder_session_n_ctx (self->session);
  gint reserve = sampling->max_tokens > 0 ? sampling->max_tokens : (gint) MIN (1024, n_ctx / 4);
  gboolean drop = self->drop_oldest;
  gsize bytes = 0;
  gint n;
  guint i;

  /* A token is at least one byte: a short prompt needs no tokenizing,
   * which on the main thread costs time on long conversations. */
  for (i = 0; i < messages->len; i++)
    bytes += strlen (g_array_index (messages, PonderMessage, i).content) + 16;
  if (bytes + 32 + reserve <= n_ctx)
    {
      self->drop_oldest = FALSE;
      return TRUE;
    }

  n = count_prompt_tokens (self, messages);
  self->drop_oldest = FALSE;
  if (n < 0 || n + reserve <= (gint) n_ctx)
    return TRUE;
  if (!drop)
    {
      ask_about_context (self, parent_id, n_ctx);
      return FALSE;
    }
  /* Keep the first exchange and the newest message; drop pairs between. */
  while (n >= 0 && n + reserve > (gint) n_ctx && messages->len > first + 3)
    {
      g_array_remove_range (messages, first + 2, MIN (2, messages->len - first - 3));
      n = count_prompt_tokens (self, messages);
    }
  if (n < 0 || n + reserve <= (gint) n_ctx)
    return TRUE;
  _ponder_window_toast (self, _("The newest message alone is too long for the model’s context"));
  return FALSE;
}

/* Answers @parent_id (a user message on the active path) with a new
 * assistant message, a sibling of any earlier answers. */
void
_ponder_window_start_generation (PonderWindow *self,
                  gint64        parent_id)
{
  g_autoptr(PonderHistoryConversation) conversation = NULL;
  g_autoptr(PonderHistoryMessage) assistant = NULL;
  g_autoptr(GPtrArray) path = NULL;
  g_autoptr(GArray) messages = g_array_new (FALSE, TRUE, sizeof (PonderMessage));
  g_autoptr(GError) error = NULL;
  PonderGenerateParams params;
  guint first;
  guint i;

  g_assert (!_ponder_window_is_busy (self));

  conversation = ponder_history_get_conversation (self->history, self->conversation_id, &error);
  if (conversation != NULL)
    path = ponder_history_list_active_path (self->history, self->conversation_id, &error);
  if (path == NULL)
    {
      _ponder_window_report_error (self, _("Could not read the conversation"), error);
      return;
    }

  if (conversation->system_prompt != NULL && conversation->system_prompt[0] != '\0')
    {
      PonderMessage system = { PONDER_ROLE_SYSTEM, conversation->system_prompt };

      g_array_append_val (messages, system);
    }
  first = messages->len;
  /* Reasoning stays out: R1 must not see its earlier thoughts. */
  for (i = 0; i < path->len; i++)
    {
      const PonderHistoryMessage *m = g_ptr_array_index (path, i);
      PonderMessage item = { PONDER_ROLE_USER, m->content };

      if (m->role == PONDER_HISTORY_ROLE_SYSTEM)
        continue;
      item.role = m->role == PONDER_HISTORY_ROLE_USER ? PONDER_ROLE_USER : PONDER_ROLE_ASSISTANT;
      g_array_append_val (messages, item);
      if (m->id == parent_id)
        break;
    }

  if (!fit_context (self, messages, first, &conversation->sampling, parent_id))
    {
      _ponder_window_rebuild_transcript (self);
      return;
    }

  assistant = ponder_history_message_new (PONDER_HISTORY_ROLE_ASSISTANT, "");
  assistant->model = g_strdup (self->model_name);
  assistant->has_sampling = TRUE;
  assistant->sampling = conversation->sampling;
  assistant->complete = FALSE;
  self->generation_message_id = ponder_history_add_message (self->history, self->conversation_id,
                                                            parent_id, assistant, &error);
  if (self->generation_message_id == 0)
    {
      _ponder_window_report_error (self, _("Could not save the conversation"), error);
      return;
    }

  _ponder_window_fill_generate_params (self, &params, &conversation->sampling);
  _ponder_window_run_generation (self, ponder_generation_start (self->session,
                                                                (PonderMessage *) messages->data,
                                                                messages->len, &params));
}

/* Streams @generation into the row of generation_message_id. */
void
_ponder_window_run_generation (PonderWindow     *self,
                               PonderGeneration *generation)
{
  self->generation = generation;
  self->last_save_us = g_get_monotonic_time ();
  self->flush_id = g_timeout_add (FLUSH_INTERVAL_MS, flush_generation, self);
  _ponder_window_rebuild_transcript (self);
}

gint64
_ponder_window_last_message_id (PonderWindow      *self,
                 PonderHistoryRole  role,
                 gboolean           any_role)
{
  g_autoptr(GPtrArray) path = NULL;
  guint i;

  if (self->conversation_id == 0)
    return 0;
  path = ponder_history_list_active_path (self->history, self->conversation_id, NULL);
  for (i = path != NULL ? path->len : 0; i > 0; i--)
    {
      const PonderHistoryMessage *m = g_ptr_array_index (path, i - 1);

      if (any_role || m->role == role)
        return m->id;
    }
  return 0;
}

/* ---- composer and drops ----------------------------------------------- */

static void
on_composer_changed (PonderWindow  *self,
                     GtkTextBuffer *buffer)
{
  gtk_widget_set_visible (self->composer_placeholder,
                          gtk_text_buffer_get_char_count (buffer) == 0);
}

static gboolean
on_drop (PonderWindow  *self,
         const GValue  *value,
         double         x,
         double         y)
{
  GFile *file = g_value_get_object (value);
  g_autofree char *path = file != NULL ? g_file_get_path (file) : NULL;
  g_autofree char *lower = path != NULL ? g_ascii_strdown (path, -1) : NULL;

  if (lower == NULL || !g_str_has_suffix (lower, ".gguf") || _ponder_window_is_busy (self))
    return FALSE;
  ponder_window_load_model (self, path);
  return TRUE;
}

/* ---- GObject ------------------------------------------------------------- */

static void
ponder_window_dispose (GObject *object)
{
  PonderWindow *self = PONDER_WINDOW (object);

  self->disposed = TRUE;
  g_cancellable_cancel (self->cancellable);
  if (self->search_cancellable != NULL)
    g_cancellable_cancel (self->search_cancellable);
  g_clear_object (&self->search_cancellable);
  _ponder_window_models_dispose (self);
  g_clear_handle_id (&self->flush_id, g_source_remove);
  _ponder_window_dispose_transcript (self);
  g_clear_pointer (&self->generation, ponder_generation_free);
  g_clear_pointer (&self->continued, ponder_history_message_free);
  if (self->history != NULL)
    _ponder_window_purge_pending (self);

  gtk_widget_dispose_template (GTK_WIDGET (self), PONDER_TYPE_WINDOW);

  g_clear_pointer (&self->session, ponder_session_free);
  g_clear_pointer (&self->model, ponder_model_free);
  g_clear_object (&self->history);

  G_OBJECT_CLASS (ponder_window_parent_class)->dispose (object);
}

static void
ponder_window_finalize (GObject *object)
{
  PonderWindow *self = PONDER_WINDOW (object);

  g_clear_object (&self->cancellable);
  g_free (self->model_name);
  g_free (self->default_system_prompt);
  g_string_free (self->generation_reasoning, TRUE);
  g_string_free (self->generation_answer, TRUE);
  g_clear_pointer (&self->pending_message_deletes, g_hash_table_unref);
  g_clear_pointer (&self->pending_conversation_deletes, g_hash_table_unref);

  G_OBJECT_CLASS (ponder_window_parent_class)->finalize (object);
}

static void
ponder_window_class_init (PonderWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = ponder_window_dispose;
  object_class->finalize = ponder_window_finalize;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/ponder/Ponder/ui/ponder-window.ui");
  gtk_widget_class_bind_template_child (widget_class, PonderWindow, toast_overlay);
  gtk_widget_class_bind_template_child (widget_class, PonderWindow, leaflet);
  gtk_widget_class_bind_template_child (widget_class, PonderWindow, content);
  gtk_widget_class_bind_template_child (widget_class, PonderWindow, search_entry);
  gtk_widget_class_bind_template_child (widget_class, PonderWindow, conversation_list);
  gtk_widget_class_bind_template_child (widget_class, PonderWindow, window_title);
  gtk_widget_class_bind_template_child (widget_class, PonderWindow, main_stack);
  gtk_widget_class_bind_template_child (widget_class, PonderWindow, chat_stack);
  gtk_widget_class_bind_template_child (widget_class, PonderWindow, scroller);
  gtk_widget_class_bind_template_child (widget_class, PonderWindow, transcript);
  gtk_widget_class_bind_template_child (widget_class, PonderWindow, edit_revealer);
  gtk_widget_class_bind_template_child (widget_class, PonderWindow, composer);
  gtk_widget_class_bind_template_child (widget_class, PonderWindow, composer_box);
  gtk_widget_class_bind_template_child (widget_class, PonderWindow, composer_placeholder);
  gtk_widget_class_bind_template_child (widget_class, PonderWindow, send_button);
  gtk_widget_class_bind_template_child (widget_class, PonderWindow, stop_button);
  gtk_widget_class_bind_template_callback (widget_class, on_search_changed);
  gtk_widget_class_bind_template_callback (widget_class, on_conversation_activated);
  gtk_widget_class_bind_template_callback (widget_class, on_back_clicked);

  _ponder_window_class_actions_init (widget_class);
  _ponder_window_class_models_init (widget_class);
  _ponder_window_class_export_actions_init (widget_class);
}

static void
ponder_window_init (PonderWindow *self)
{
  GtkEventController *shortcuts;
  GtkDropTarget *drop;

  gtk_widget_init_template (GTK_WIDGET (self));
  _ponder_window_models_init (self);
  ponder_settings_bind_window (GTK_WINDOW (self));
  if (ponder_settings_get () != NULL)
    g_signal_connect_object (ponder_settings_get (), "changed::reasoning-display",
                             G_CALLBACK (_ponder_window_apply_reasoning_display), self,
                             G_CONNECT_SWAPPED);
  ponder_settings_get_default_sampling (&self->default_sampling);
  self->has_default_sampling = TRUE;

  self->cancellable = g_cancellable_new ();
  self->generation_reasoning = g_string_new (NULL);
  self->generation_answer = g_string_new (NULL);
  _ponder_window_init_transcript (self);
  _ponder_window_init_edit (self);

  /* Enter sends; Shift+Enter falls through to the text view (a new line). */
  shortcuts = gtk_shortcut_controller_new ();
  gtk_event_controller_set_propagation_phase (shortcuts, GTK_PHASE_CAPTURE);
  gtk_shortcut_controller_add_shortcut (GTK_SHORTCUT_CONTROLLER (shortcuts),
                                        gtk_shortcut_new (gtk_keyval_trigger_new (GDK_KEY_Return, 0),
                                                          gtk_named_action_new ("win.send")));
  gtk_shortcut_controller_add_shortcut (GTK_SHORTCUT_CONTROLLER (shortcuts),
                                        gtk_shortcut_new (gtk_keyval_trigger_new (GDK_KEY_KP_Enter, 0),
                                                          gtk_named_action_new ("win.send")));
  gtk_widget_add_controller (GTK_WIDGET (self->composer), shortcuts);

  /* A GGUF file dropped anywhere on the window is opened. */
  drop = gtk_drop_target_new (G_TYPE_FILE, GDK_ACTION_COPY);
  g_signal_connect_object (drop, "drop", G_CALLBACK (on_drop), self, G_CONNECT_SWAPPED);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (drop));

  /* GtkTextView has no placeholder in GTK 4.8: an overlaid label. */
  g_signal_connect_object (gtk_text_view_get_buffer (self->composer), "changed",
                           G_CALLBACK (on_composer_changed), self, G_CONNECT_SWAPPED);
}

/**
 * ponder_window_new:
 * @history: the open history store (the window keeps a reference)
 *
 * Also loads the most recently used model whose file is still there, if any.
 */
PonderWindow *
ponder_window_new (GtkApplication *application,
                   PonderHistory  *history)
{
  PonderWindow *self;
  g_autofree char *model_path = NULL;

  g_return_val_if_fail (GTK_IS_APPLICATION (application), NULL);
  g_return_val_if_fail (PONDER_IS_HISTORY (history), NULL);

  self = g_object_new (PONDER_TYPE_WINDOW, "application", application, NULL);
  self->history = g_object_ref (history);

  model_path = _ponder_window_dup_startup_model (self);
  if (model_path != NULL)
    ponder_window_load_model (self, model_path);
  else
    gtk_stack_set_visible_child_name (self->main_stack, "no-model");

  _ponder_window_models_refresh (self);
  _ponder_window_refresh_sidebar (self);
  _ponder_window_rebuild_transcript (self);
  ponder_markdown_warm_up ();

  return self;
}

gboolean
ponder_window_get_model_loaded (PonderWindow *self)
{
  g_return_val_if_fail (PONDER_IS_WINDOW (self), FALSE);

  return self->session != NULL && !self->loading;
}

gboolean
ponder_window_get_busy (PonderWindow *self)
{
  g_return_val_if_fail (PONDER_IS_WINDOW (self), FALSE);

  return _ponder_window_is_busy (self) || self->loading;
}

gint64
ponder_window_get_conversation_id (PonderWindow *self)
{
  g_return_val_if_fail (PONDER_IS_WINDOW (self), 0);

  return self->conversation_id;
}

/* Shows a stored conversation; 0 starts a new chat. */
void
ponder_window_open_conversation (PonderWindow *self,
                                 gint64        conversation_id)
{
  g_return_if_fail (PONDER_IS_WINDOW (self));

  if (_ponder_window_is_busy (self))
    {
      _ponder_window_toast (self, _("Stop the answer before switching conversations"));
      return;
    }
  self->conversation_id = conversation_id;
  self->editing = FALSE;
  _ponder_window_rebuild_transcript (self);
  if (conversation_id == 0)
    gtk_list_box_unselect_all (self->conversation_list);
}

void
ponder_window_set_composer_text (PonderWindow *self,
                                 const char   *text)
{
  g_return_if_fail (PONDER_IS_WINDOW (self));

  gtk_text_buffer_set_text (gtk_text_view_get_buffer (self->composer), text, -1);
}

/* Settings given to conversations this window starts (tests use greedy). */
void
ponder_window_set_default_sampling (PonderWindow                *self,
                                    const PonderHistorySampling *sampling)
{
  g_return_if_fail (PONDER_IS_WINDOW (self));

  self->has_default_sampling = sampling != NULL;
  if (sampling != NULL)
    self->default_sampling = *sampling;
}

GtkWidget *
ponder_window_get_transcript (PonderWindow *self)
{
  g_return_val_if_fail (PONDER_IS_WINDOW (self), NULL);

  return self->transcript;
}

GtkWidget *
ponder_window_get_conversation_list (PonderWindow *self)
{
  g_return_val_if_fail (PONDER_IS_WINDOW (self), NULL);

  return GTK_WIDGET (self->conversation_list);
}

GtkWidget *
ponder_window_get_search_entry (PonderWindow *self)
{
  g_return_val_if_fail (PONDER_IS_WINDOW (self), NULL);

  return GTK_WIDGET (self->search_entry);
}
