/* test-app-edit.c — editing answers, continuing, deleting; shortcuts; accessibility
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Run through run-ui-test.sh with the scripted model, whose greedy answer to
 * any prompt is a fixed script (its JSON sidecar, written by gen_model.py,
 * gives the texts). Screenshots go to $PONDER_BUILD_ROOT/tests/screenshots/.
 */

#include <sqlite3.h>

#include "app-test-util.h"
#include "ponder-engine.h"

static ScriptedSidecar script;

typedef struct
{
  PonderApplication *app;
  PonderHistory     *history;
  PonderWindow      *window;
  const char        *model_path;
} Fixture;

static gboolean
fixture_open (Fixture *f)
{
  g_autoptr(GError) error = NULL;

  f->model_path = g_getenv ("PONDER_SCRIPTED_MODEL");
  if (f->model_path == NULL)
    {
      g_test_skip ("PONDER_SCRIPTED_MODEL is not set (run through run-ui-test.sh)");
      return FALSE;
    }
  sidecar_load (f->model_path, &script);
  f->app = ponder_application_new (G_APPLICATION_NON_UNIQUE);
  g_application_register (G_APPLICATION (f->app), NULL, &error);
  g_assert_no_error (error);
  f->history = ponder_application_get_history (f->app);
  f->window = new_window (f->app, f->history);
  ponder_window_load_model (f->window, f->model_path);
  g_assert_true (wait_for (model_loaded, f->window, WAIT_MS));
  return TRUE;
}

static void
fixture_close (Fixture *f)
{
  if (f->window != NULL)
    gtk_window_destroy (GTK_WINDOW (f->window));
  settle (50);
  g_clear_object (&f->app);
}

static PonderHistoryMessage *
stored (PonderHistory *history,
        gint64         message_id)
{
  g_autoptr(GError) error = NULL;
  PonderHistoryMessage *message = ponder_history_get_message (history, message_id, &error);

  g_assert_no_error (error);
  return message;
}

static void
set_max_tokens (Fixture *f,
                gint     max_tokens)
{
  g_autoptr(PonderHistoryConversation) c = NULL;
  g_autoptr(GError) error = NULL;

  c = ponder_history_get_conversation (f->history, ponder_window_get_conversation_id (f->window),
                                       &error);
  g_assert_no_error (error);
  c->sampling.max_tokens = max_tokens;
  ponder_history_set_conversation_settings (f->history, c->id, c->model, c->system_prompt,
                                            &c->sampling, &error);
  g_assert_no_error (error);
}

/* Prompt tokens of a hand-written conversation, counted by the engine's
 * own renderer and tokenizer on a separately loaded copy of the model. */
static guint
count_prompt (const char          *model_path,
              const PonderMessage *messages,
              gsize                n_messages)
{
  PonderModelParams params = ponder_model_params_default ();
  PonderError error = { 0 };
  PonderModel *model = NULL;
  char *text = NULL;
  int32_t *ids = NULL;
  size_t n_ids = 0;

  g_assert_cmpint (ponder_model_load (model_path, &params, &model, &error), ==, PONDER_OK);
  g_assert_cmpint (ponder_model_render_chat (model, messages, n_messages, TRUE, &text, &error),
                   ==, PONDER_OK);
  g_assert_cmpint (ponder_model_tokenize (model, text, strlen (text), TRUE, &ids, &n_ids, &error),
                   ==, PONDER_OK);
  ponder_free (text);
  ponder_free (ids);
  ponder_model_free (model);
  return (guint) n_ids;
}

/* Rows of the store itself, hidden or not: what "really deleted" means. */
static gint
count_rows (PonderHistory *history,
            gint64         message_id)
{
  sqlite3 *db = NULL;
  sqlite3_stmt *stmt = NULL;
  gint n;

  g_assert_cmpint (sqlite3_open_v2 (ponder_history_get_path (history), &db,
                                    SQLITE_OPEN_READONLY, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_prepare_v2 (db, "SELECT count(*) FROM messages WHERE id = ?1", -1,
                                       &stmt, NULL), ==, SQLITE_OK);
  sqlite3_bind_int64 (stmt, 1, message_id);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  n = sqlite3_column_int (stmt, 0);
  sqlite3_finalize (stmt);
  sqlite3_close (db);
  return n;
}

static char *
text_view_text (GtkWidget *view)
{
  GtkTextBuffer *buffer = gtk_text_view_get_buffer (GTK_TEXT_VIEW (view));
  GtkTextIter start, end;

  gtk_text_buffer_get_bounds (buffer, &start, &end);
  return gtk_text_buffer_get_text (buffer, &start, &end, FALSE);
}

/* An answer edited by hand is a sibling of the model's; the next turn is
 * built on the edited text, without any reasoning. */
static void
test_edit_answer (void)
{
  Fixture f = { 0 };
  g_autoptr(PonderHistoryMessage) original = NULL;
  g_autoptr(PonderHistoryMessage) edited = NULL;
  g_autoptr(PonderHistoryMessage) follow_up = NULL;
  g_autoptr(GPtrArray) views = g_ptr_array_new ();
  g_autofree char *shown_answer = NULL;
  g_autofree char *shown_reasoning = NULL;
  const char *question = "What do you always say?";
  const char *new_answer = "An answer written by hand, with <b>markup</b> & more.";
  const char *next = "And what next?";
  GtkWindow *dialog;
  gint64 original_id;
  guint expected;
  guint with_original;

  if (!fixture_open (&f))
    return;
  send (f.window, question);
  original_id = ponder_message_row_get_message_id (row_at (f.window, 1));

  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (f.window), "win.edit-answer", "x",
                                             original_id));
  dialog = find_toplevel (ADW_TYPE_MESSAGE_DIALOG);
  g_assert_nonnull (dialog);
  collect (GTK_WIDGET (dialog), views, GTK_TYPE_TEXT_VIEW);
  g_assert_cmpuint (views->len, ==, 2);
  shown_answer = text_view_text (g_ptr_array_index (views, 0));
  shown_reasoning = g_strstrip (text_view_text (g_ptr_array_index (views, 1)));
  g_assert_cmpstr (shown_answer, ==, script.answer);
  g_assert_cmpstr (shown_reasoning, ==, script.reasoning);
  gtk_text_buffer_set_text (gtk_text_view_get_buffer (g_ptr_array_index (views, 0)),
                            new_answer, -1);
  gtk_text_buffer_set_text (gtk_text_view_get_buffer (g_ptr_array_index (views, 1)),
                            "My own line of thought.", -1);
  screenshot (GTK_WIDGET (dialog), "30-edit-answer-dialog");
  adw_message_dialog_response (ADW_MESSAGE_DIALOG (dialog), "save");
  gtk_window_destroy (dialog);
  settle (50);

  /* The edit is shown as version 2 of 2; the original is untouched. */
  g_assert_cmpuint (n_children (ponder_window_get_transcript (f.window)), ==, 2);
  g_assert_cmpstr (ponder_message_row_get_answer_text (row_at (f.window, 1)), ==, new_answer);
  g_assert_cmpstr (ponder_message_row_get_branch_label (row_at (f.window, 1)), ==, "2/2");
  original = stored (f.history, original_id);
  g_assert_cmpstr (original->content, ==, script.answer);
  edited = stored (f.history, ponder_message_row_get_message_id (row_at (f.window, 1)));
  g_assert_cmpint (edited->id, !=, original_id);
  g_assert_cmpint (edited->parent_id, ==, original->parent_id);
  g_assert_cmpstr (edited->reasoning, ==, "My own line of thought.");
  g_assert_true (edited->complete);
  screenshot (GTK_WIDGET (f.window), "31-answer-edited");

  /* The follow-up's prompt is the hand-written chat with the edited answer
   * (reasoning left out), not the one with the model's answer. */
  send (f.window, next);
  g_assert_cmpuint (n_children (ponder_window_get_transcript (f.window)), ==, 4);
  follow_up = stored (f.history, ponder_message_row_get_message_id (row_at (f.window, 3)));
  g_assert_cmpstr (follow_up->content, ==, script.answer);
  {
    PonderMessage chat[] = {
      { PONDER_ROLE_USER, question },
      { PONDER_ROLE_ASSISTANT, new_answer },
      { PONDER_ROLE_USER, next },
    };
    PonderMessage chat_original[] = {
      { PONDER_ROLE_USER, question },
      { PONDER_ROLE_ASSISTANT, script.answer },
      { PONDER_ROLE_USER, next },
    };

    expected = count_prompt (f.model_path, chat, G_N_ELEMENTS (chat));
    with_original = count_prompt (f.model_path, chat_original, G_N_ELEMENTS (chat_original));
  }
  g_assert_cmpuint (expected, !=, with_original);
  g_assert_cmpint (follow_up->n_prompt_tokens, ==, (gint) expected);

  /* The model's version is still one arrow away, with nothing after it. */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (f.window), "win.sibling-step", "(xi)",
                                             edited->id, -1));
  g_assert_cmpuint (n_children (ponder_window_get_transcript (f.window)), ==, 2);
  g_assert_cmpstr (ponder_message_row_get_answer_text (row_at (f.window, 1)), ==, script.answer);
  fixture_close (&f);
}

/* An answer cut off by max_tokens goes on from its saved text, in the
 * answer and in the middle of the reasoning, ending exactly as the script. */
static void
test_continue (void)
{
  Fixture f = { 0 };
  g_autoptr(PonderHistoryMessage) cut = NULL;
  g_autoptr(PonderHistoryMessage) done = NULL;
  g_autofree char *reasoning = NULL;
  PonderMessageRow *row;
  gint64 message_id;
  guint first_prompt;
  guint tries;
  /* the reasoning, "</think>", "\n\n", then two answer tokens */
  gint cut_in_answer = (gint) script.n_reasoning_ids + 4;

  if (!fixture_open (&f))
    return;
  first_prompt = count_prompt (f.model_path,
                               (PonderMessage[]) { { PONDER_ROLE_USER, "Cut me short" } }, 1);

  {
    PonderHistorySampling sampling;

    ponder_history_sampling_init_default (&sampling);
    sampling.temperature = 0.0;
    sampling.max_tokens = cut_in_answer;
    ponder_window_set_default_sampling (f.window, &sampling);
  }
  send (f.window, "Cut me short");
  row = row_at (f.window, 1);
  message_id = ponder_message_row_get_message_id (row);
  cut = stored (f.history, message_id);
  g_assert_false (cut->complete);
  g_assert_cmpuint (strlen (cut->content), >, 0);
  g_assert_cmpuint (strlen (cut->content), <, strlen (script.answer));
  g_assert_true (g_str_has_prefix (script.answer, cut->content));
  g_assert_cmpint (cut->n_reasoning_tokens + cut->n_answer_tokens, ==, cut_in_answer);
  screenshot (GTK_WIDGET (f.window), "32-cut-off");

  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (f.window), "win.continue", NULL));
  g_assert_true (ponder_window_get_busy (f.window));
  g_assert_true (wait_for (idle_window, f.window, WAIT_MS));
  g_assert_cmpuint (n_children (ponder_window_get_transcript (f.window)), ==, 2);
  row = row_at (f.window, 1);
  g_assert_cmpint (ponder_message_row_get_message_id (row), ==, message_id);
  g_assert_null (ponder_message_row_get_branch_label (row));
  g_assert_cmpstr (ponder_message_row_get_answer_text (row), ==, script.answer);
  done = stored (f.history, message_id);
  g_assert_true (done->complete);
  g_assert_cmpstr (done->content, ==, script.answer);
  reasoning = g_strstrip (g_strdup (done->reasoning));
  g_assert_cmpstr (reasoning, ==, script.reasoning);
  g_assert_cmpint (done->n_reasoning_tokens, ==, (gint) script.n_reasoning_ids);
  /* The continuation's prompt is the first prompt plus every token the
   * model had written: all of it is in the KV cache, only the end is new. */
  g_assert_cmpint (done->n_prompt_tokens, ==, (gint) first_prompt + cut_in_answer);
  screenshot (GTK_WIDGET (f.window), "33-continued");

  /* Cut inside the reasoning, then continued a few tokens at a time. */
  g_clear_pointer (&done, ponder_history_message_free);
  g_clear_pointer (&reasoning, g_free);
  set_max_tokens (&f, 5);
  gtk_widget_activate_action (GTK_WIDGET (f.window), "win.regenerate", NULL);
  g_assert_true (wait_for (idle_window, f.window, WAIT_MS));
  message_id = ponder_message_row_get_message_id (row_at (f.window, 1));
  done = stored (f.history, message_id);
  g_assert_false (done->complete);
  g_assert_cmpstr (done->content, ==, "");
  g_assert_cmpstr (ponder_message_row_get_reasoning_title (row_at (f.window, 1)), ==,
                   "Stopped while thinking");
  screenshot (GTK_WIDGET (f.window), "34-cut-while-thinking");
  for (tries = 0; !done->complete && tries < 10; tries++)
    {
      g_assert_true (gtk_widget_activate_action (GTK_WIDGET (f.window), "win.continue-message",
                                                 "x", message_id));
      g_assert_true (wait_for (idle_window, f.window, WAIT_MS));
      g_clear_pointer (&done, ponder_history_message_free);
      done = stored (f.history, message_id);
    }
  g_assert_true (done->complete);
  g_assert_cmpuint (tries, >=, 3);
  g_assert_cmpstr (done->content, ==, script.answer);
  reasoning = g_strstrip (g_strdup (done->reasoning));
  g_assert_cmpstr (reasoning, ==, script.reasoning);
  g_assert_cmpstr (ponder_message_row_get_branch_label (row_at (f.window, 1)), ==, "2/2");
  fixture_close (&f);
}

/* Delete hides a message and its replies; Undo brings them back as they
 * were; once the undo window is over the rows leave the database. */
static void
test_delete_undo (void)
{
  Fixture f = { 0 };
  g_autoptr(PonderHistory) reopened = NULL;
  g_autoptr(GError) error = NULL;
  gint64 question_id;
  gint64 answer_id;
  gint64 deleted_id;
  gint64 conversation_id;

  if (!fixture_open (&f))
    return;
  send (f.window, "First question");
  send (f.window, "Second question");
  conversation_id = ponder_window_get_conversation_id (f.window);
  g_assert_cmpuint (n_children (ponder_window_get_transcript (f.window)), ==, 4);
  question_id = ponder_message_row_get_message_id (row_at (f.window, 2));
  answer_id = ponder_message_row_get_message_id (row_at (f.window, 3));

  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (f.window), "win.delete-message", "x",
                                             question_id));
  g_assert_cmpuint (n_children (ponder_window_get_transcript (f.window)), ==, 2);
  g_assert_null (ponder_history_get_message (f.history, answer_id, &error));
  g_assert_error (error, PONDER_HISTORY_ERROR, PONDER_HISTORY_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_cmpint (count_rows (f.history, answer_id), ==, 1);
  screenshot (GTK_WIDGET (f.window), "35-deleted-undo-toast");

  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (f.window), "win.undelete-message", "x",
                                             question_id));
  g_assert_cmpuint (n_children (ponder_window_get_transcript (f.window)), ==, 4);
  g_assert_cmpstr (ponder_message_row_get_answer_text (row_at (f.window, 2)), ==,
                   "Second question");
  g_assert_cmpint (ponder_message_row_get_message_id (row_at (f.window, 3)), ==, answer_id);

  /* Delete the last answer alone (its shortcut's action), then quit: the
   * store loses it for good, and the rest is still there. */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (f.window), "win.delete-last", NULL));
  g_assert_cmpuint (n_children (ponder_window_get_transcript (f.window)), ==, 3);
  deleted_id = answer_id;
  g_assert_cmpint (count_rows (f.history, deleted_id), ==, 1);
  gtk_window_destroy (GTK_WINDOW (f.window));
  f.window = NULL;
  settle (50);
  g_assert_cmpint (count_rows (f.history, deleted_id), ==, 0);
  g_assert_cmpint (count_rows (f.history, question_id), ==, 1);

  reopened = ponder_history_new (ponder_history_get_path (f.history), 5000, &error);
  g_assert_no_error (error);
  f.window = new_window (f.app, reopened);
  ponder_window_open_conversation (f.window, conversation_id);
  g_assert_cmpuint (n_children (ponder_window_get_transcript (f.window)), ==, 3);

  /* A sidebar row's menu (Rename, Delete) is made when first opened. */
  {
    g_autoptr(GPtrArray) menus = g_ptr_array_new ();
    GtkMenuButton *menu;

    collect (ponder_window_get_conversation_list (f.window), menus, GTK_TYPE_MENU_BUTTON);
    g_assert_cmpuint (menus->len, >, 0);
    menu = g_ptr_array_index (menus, 0);
    g_assert_null (gtk_menu_button_get_menu_model (menu));
    gtk_menu_button_popup (menu);
    g_assert_nonnull (gtk_menu_button_get_menu_model (menu));
    g_assert_cmpint (g_menu_model_get_n_items (gtk_menu_button_get_menu_model (menu)), ==, 2);
    gtk_menu_button_popdown (menu);
  }
  fixture_close (&f);
}

/* Every action with a shortcut is in the shortcuts window, and every
 * command without a per-message target has a shortcut. */
static void
test_shortcuts (void)
{
  g_autoptr(PonderApplication) app = ponder_application_new (G_APPLICATION_NON_UNIQUE);
  g_autoptr(GPtrArray) shortcuts = g_ptr_array_new ();
  g_autoptr(GHashTable) listed = g_hash_table_new (g_str_hash, g_str_equal);
  g_auto(GStrv) actions = NULL;
  g_autoptr(GError) error = NULL;
  /* Reached another way: Enter in the composer, Escape (win.stop) while
   * editing, the sidebar row's menu, the message rows' own buttons. */
  const char *no_accel[] = { "win.send", "win.cancel-edit", NULL };
  GtkWidget *help;
  PonderWindow *window;
  GType type;
  GType owner;
  const char *name;
  const GVariantType *parameter;
  const char *property;
  guint n_checked = 0;
  guint i;

  g_application_register (G_APPLICATION (app), NULL, &error);
  g_assert_no_error (error);
  window = new_window (app, ponder_application_get_history (app));
  help = GTK_WIDGET (gtk_application_window_get_help_overlay (GTK_APPLICATION_WINDOW (window)));
  g_assert_nonnull (help);
  collect (help, shortcuts, GTK_TYPE_SHORTCUTS_SHORTCUT);
  g_assert_cmpuint (shortcuts->len, >, 5);
  for (i = 0; i < shortcuts->len; i++)
    {
      g_autofree char *action = NULL;
      g_autofree char *accelerator = NULL;

      g_object_get (g_ptr_array_index (shortcuts, i), "action-name", &action,
                    "accelerator", &accelerator, NULL);
      if (action != NULL)
        {
          g_auto(GStrv) accels = gtk_application_get_accels_for_action (GTK_APPLICATION (app),
                                                                        action);

          /* A listed action must have a key, or the window shows a blank. */
          g_assert_cmpuint (g_strv_length (accels), >, 0);
          g_hash_table_add (listed, (gpointer) g_intern_string (action));
        }
      else
        g_assert_true (accelerator != NULL && accelerator[0] != '\0');
    }

  actions = gtk_application_list_action_descriptions (GTK_APPLICATION (app));
  for (i = 0; actions[i] != NULL; i++)
    {
      g_auto(GStrv) accels = gtk_application_get_accels_for_action (GTK_APPLICATION (app),
                                                                    actions[i]);

      if (accels[0] == NULL)
        continue;
      if (!g_hash_table_contains (listed, g_intern_string (actions[i])))
        g_error ("%s has a shortcut but is not in the shortcuts window", actions[i]);
      n_checked++;
    }
  g_assert_cmpuint (n_checked, >=, 12);

  /* Each window command without a parameter has its own key. */
  type = G_OBJECT_TYPE (window);
  for (i = 0; gtk_widget_class_query_action (g_type_class_peek (type), i, &owner, &name,
                                             &parameter, &property); i++)
    {
      g_auto(GStrv) accels = NULL;

      if (parameter != NULL || g_strv_contains (no_accel, name)
          || !g_str_has_prefix (name, "win."))
        continue;
      accels = gtk_application_get_accels_for_action (GTK_APPLICATION (app), name);
      if (accels[0] == NULL)
        g_error ("%s has no keyboard shortcut", name);
    }
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.show-help-overlay", NULL));
  screenshot (help, "36-shortcuts");
  gtk_window_close (GTK_WINDOW (help));
  gtk_window_destroy (GTK_WINDOW (window));
  settle (50);
}

/* ---- accessibility ---------------------------------------------------------- */

static gboolean
has_text_label (GtkWidget *widget)
{
  GtkWidget *child;

  if (GTK_IS_LABEL (widget) && gtk_label_get_text (GTK_LABEL (widget))[0] != '\0'
      && gtk_widget_get_visible (widget))
    return TRUE;
  for (child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    if (has_text_label (child))
      return TRUE;
  return FALSE;
}

/* A name a screen reader can say: an explicit label, a labelling widget,
 * or visible text inside the control. */
static gboolean
has_name (GtkWidget *widget)
{
  return gtk_test_accessible_has_property (GTK_ACCESSIBLE (widget),
                                           GTK_ACCESSIBLE_PROPERTY_LABEL)
         || gtk_test_accessible_has_relation (GTK_ACCESSIBLE (widget),
                                              GTK_ACCESSIBLE_RELATION_LABELLED_BY)
         || has_text_label (widget);
}

static gboolean
is_showing (GtkWidget *widget)
{
  for (; widget != NULL; widget = gtk_widget_get_parent (widget))
    if (!gtk_widget_get_visible (widget) || !gtk_widget_get_child_visible (widget))
      return FALSE;
  return TRUE;
}

/* Every control shown has a name and takes keyboard focus. */
static guint
check_controls (GtkWidget *root)
{
  GType types[] = { GTK_TYPE_BUTTON, GTK_TYPE_MENU_BUTTON, GTK_TYPE_TEXT_VIEW,
                    GTK_TYPE_SEARCH_ENTRY, GTK_TYPE_ENTRY, GTK_TYPE_SWITCH,
                    GTK_TYPE_SPIN_BUTTON, GTK_TYPE_LIST_BOX_ROW };
  guint n = 0;
  guint t;
  guint i;

  for (t = 0; t < G_N_ELEMENTS (types); t++)
    {
      g_autoptr(GPtrArray) found = g_ptr_array_new ();

      collect (root, found, types[t]);
      for (i = 0; i < found->len; i++)
        {
          GtkWidget *w = g_ptr_array_index (found, i);

          /* A menu button's inner button is named by the menu button. */
          if (!is_showing (w) || GTK_IS_MENU_BUTTON (gtk_widget_get_parent (w)))
            continue;
          if (!has_name (w))
            g_error ("a %s (%s) has no accessible name", G_OBJECT_TYPE_NAME (w),
                     gtk_widget_get_css_name (w));
          if (!gtk_widget_get_focusable (w) && !GTK_IS_MENU_BUTTON (w)
              && !GTK_IS_SEARCH_ENTRY (w) && !GTK_IS_ENTRY (w) && !GTK_IS_SPIN_BUTTON (w))
            g_error ("a %s (%s) cannot take keyboard focus", G_OBJECT_TYPE_NAME (w),
                     gtk_widget_get_css_name (w));
          n++;
        }
    }
  return n;
}

static GtkWidget *
find_labelled (GtkWidget  *root,
               GType       type,
               const char *label)
{
  g_autoptr(GPtrArray) found = g_ptr_array_new ();
  guint i;

  collect (root, found, type);
  for (i = 0; i < found->len; i++)
    {
      g_autofree char *error = gtk_test_accessible_check_property (g_ptr_array_index (found, i),
                                                                   GTK_ACCESSIBLE_PROPERTY_LABEL,
                                                                   label);
      if (error == NULL)
        return g_ptr_array_index (found, i);
    }
  return NULL;
}

static void
test_accessibility (void)
{
  Fixture f = { 0 };
  g_autofree char *thought = NULL;
  PonderMessageRow *row;
  GtkWidget *card;
  GtkWidget *previous;
  GtkWidget *version;
  GtkWidget *answer_group;

  if (!fixture_open (&f))
    return;
  send (f.window, "Read this to me");
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (f.window), "win.regenerate", NULL));
  g_assert_true (wait_for (idle_window, f.window, WAIT_MS));
  settle (100);
  row = row_at (f.window, 1);

  /* The conversation: each message is a named group holding its text. */
  gtk_test_accessible_assert_role (GTK_ACCESSIBLE (row), GTK_ACCESSIBLE_ROLE_GROUP);
  answer_group = find_labelled (ponder_window_get_transcript (f.window), PONDER_TYPE_MESSAGE_ROW,
                                "Answer");
  g_assert_true (answer_group == GTK_WIDGET (row));
  g_assert_nonnull (find_labelled (ponder_window_get_transcript (f.window),
                                   PONDER_TYPE_MESSAGE_ROW, "Your message"));
  gtk_test_accessible_assert_state (GTK_ACCESSIBLE (row), GTK_ACCESSIBLE_STATE_BUSY, FALSE);

  /* The reasoning card says what it is and whether it is open. */
  thought = g_strdup (ponder_message_row_get_reasoning_title (row));
  g_assert_true (g_str_has_prefix (thought, "Thought for"));
  card = find_labelled (GTK_WIDGET (row), GTK_TYPE_BUTTON, thought);
  g_assert_nonnull (card);
  gtk_test_accessible_assert_state (GTK_ACCESSIBLE (card), GTK_ACCESSIBLE_STATE_EXPANDED, FALSE);
  g_signal_emit_by_name (card, "clicked");
  gtk_test_accessible_assert_state (GTK_ACCESSIBLE (card), GTK_ACCESSIBLE_STATE_EXPANDED, TRUE);
  g_assert_true (ponder_message_row_get_expanded (row));

  /* The branch arrows and the count between them. */
  previous = find_labelled (GTK_WIDGET (row), GTK_TYPE_BUTTON, "Previous version");
  g_assert_nonnull (previous);
  g_assert_nonnull (find_labelled (GTK_WIDGET (row), GTK_TYPE_BUTTON, "Next version"));
  version = find_labelled (GTK_WIDGET (row), GTK_TYPE_LABEL, "Version 2 of 2");
  g_assert_nonnull (version);
  g_assert_cmpstr (gtk_label_get_text (GTK_LABEL (version)), ==, "2/2");
  g_assert_nonnull (find_labelled (GTK_WIDGET (row), GTK_TYPE_BUTTON, "Edit Answer"));
  g_assert_nonnull (find_labelled (GTK_WIDGET (row), GTK_TYPE_BUTTON, "Delete with Its Replies"));

  /* Every control in the window, the shortcuts window and the answer
   * editor has a name and a keyboard path. */
  g_assert_cmpuint (check_controls (GTK_WIDGET (f.window)), >, 15);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (f.window), "win.edit-last-answer",
                                             NULL));
  {
    GtkWindow *dialog = find_toplevel (ADW_TYPE_MESSAGE_DIALOG);

    g_assert_nonnull (dialog);
    settle (100);
    g_assert_cmpuint (check_controls (GTK_WIDGET (dialog)), >=, 4);
    gtk_window_destroy (dialog);
  }
  g_assert_cmpuint (check_controls (GTK_WIDGET (gtk_application_window_get_help_overlay (
                      GTK_APPLICATION_WINDOW (f.window)))), >=, 0);
  fixture_close (&f);
}

int
main (int   argc,
      char *argv[])
{
  /* The test backend keeps the accessible tree GTK would hand to AT-SPI. */
  g_setenv ("GTK_A11Y", "test", TRUE);
  gtk_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
  adw_init ();
  ponder_register_resources ();

  g_test_add_func ("/ponder/app-edit/edit-answer", test_edit_answer);
  g_test_add_func ("/ponder/app-edit/continue", test_continue);
  g_test_add_func ("/ponder/app-edit/delete-undo", test_delete_undo);
  g_test_add_func ("/ponder/app-edit/shortcuts", test_shortcuts);
  g_test_add_func ("/ponder/app-edit/accessibility", test_accessibility);

  return g_test_run ();
}
