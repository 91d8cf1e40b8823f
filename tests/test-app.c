/* test-app.c — drives the real window with the scripted model
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Run through run-ui-test.sh (Xvfb, throwaway XDG folders, the scripted
 * model in $PONDER_SCRIPTED_MODEL). The expected texts come from the
 * model's JSON sidecar, written by gen_model.py from the vocabulary, not
 * from this program. Screenshots of each state go to
 * $PONDER_BUILD_ROOT/tests/screenshots/.
 */

#include <adwaita.h>
#include <json-glib/json-glib.h>

#include "app-test-util.h"
#include "ponder-application.h"
#include "ponder-conversation-settings.h"
#include "ponder-markdown.h"
#include "ponder-message-row.h"
#include "ponder-window.h"

/* The search field's query has come back (it runs on a worker thread). */
static gboolean
search_done (gpointer data)
{
  return !ponder_window_get_search_pending (data);
}

static const char markdown_sample[] =
  "# Solving it\n\n"
  "We need **both** terms and *one* `x` here, not ~~three~~. A <span>tag</span> & more.\n\n"
  "1. First step\n2. Second step\n   - nested point\n\n"
  "> A quoted remark.\n\n"
  "| n | square | cube |\n|---|---:|---:|\n| 2 | 4 | 8 |\n| 3 | 9 | 27 |\n\n"
  "```python\ndef f(x):\n    return x * x\n```\n\n"
  "---\n\nThe answer is \\(\\boxed{42}\\).\n";

static char *expected_answer;
static char *expected_reasoning;

/* Iterates the main loop until @cond holds; FALSE after @timeout_ms. */
static void
load_sidecar (const char *model_path)
{
  g_autofree char *json_path = g_strconcat (model_path, ".json", NULL);
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  JsonObject *root;

  json_parser_load_from_file (parser, json_path, &error);
  g_assert_no_error (error);
  root = json_node_get_object (json_parser_get_root (parser));
  expected_answer = g_strdup (json_object_get_string_member (root, "answer"));
  expected_reasoning = g_strdup (json_object_get_string_member (root, "reasoning"));
}

static void
check_stored_answer (PonderHistory *history,
                     gint64         message_id)
{
  g_autoptr(PonderHistoryMessage) message = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *reasoning = NULL;

  message = ponder_history_get_message (history, message_id, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (message->content, ==, expected_answer);
  reasoning = g_strstrip (g_strdup (message->reasoning));
  g_assert_cmpstr (reasoning, ==, expected_reasoning);
  g_assert_true (message->complete);
  g_assert_cmpint (message->n_reasoning_tokens, >, 0);
}

static void
test_chat_flow (void)
{
  const char *model_path = g_getenv ("PONDER_SCRIPTED_MODEL");
  g_autoptr(PonderApplication) app = NULL;
  g_autoptr(PonderHistory) history2 = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *remembered = NULL;
  PonderHistory *history;
  PonderWindow *window;
  PonderMessageRow *row;
  GtkWidget *list;
  GtkWidget *first;
  gint64 conversation_id;

  if (model_path == NULL)
    {
      g_test_skip ("PONDER_SCRIPTED_MODEL is not set (run through run-ui-test.sh)");
      return;
    }
  load_sidecar (model_path);

  app = ponder_application_new (G_APPLICATION_NON_UNIQUE);
  g_application_register (G_APPLICATION (app), NULL, &error);
  g_assert_no_error (error);
  history = ponder_application_get_history (app);
  g_assert_nonnull (history);

  /* 1. No model yet: the empty state. */
  window = new_window (app, history);
  g_assert_false (ponder_window_get_model_loaded (window));
  screenshot (GTK_WIDGET (window), "01-no-model");

  /* 2. Load the scripted model off the main thread. */
  ponder_window_load_model (window, model_path);
  g_assert_true (wait_for (model_loaded, window, WAIT_MS));
  screenshot (GTK_WIDGET (window), "02-model-loaded");

  /* The shortcuts window comes from the resources (gtk/help-overlay.ui). */
  {
    GtkWindow *help;

    g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.show-help-overlay", NULL));
    help = GTK_WINDOW (gtk_application_window_get_help_overlay (GTK_APPLICATION_WINDOW (window)));
    g_assert_nonnull (help);
    screenshot (GTK_WIDGET (help), "02b-shortcuts");
    gtk_window_close (help);
    settle (100);
  }

  /* 3. Send a message; the answer streams into a reasoning card. */
  send (window, "What do you always say?");
  conversation_id = ponder_window_get_conversation_id (window);
  g_assert_cmpint (conversation_id, >, 0);
  g_assert_cmpuint (n_children (ponder_window_get_transcript (window)), ==, 2);
  row = row_at (window, 1);
  g_assert_cmpstr (ponder_message_row_get_answer_text (row), ==, expected_answer);
  g_assert_true (g_str_has_prefix (ponder_message_row_get_reasoning_title (row), "Thought for"));
  g_assert_false (ponder_message_row_get_expanded (row));
  check_stored_answer (history, ponder_message_row_get_message_id (row));
  screenshot (GTK_WIDGET (window), "03-answered");

  /* Copy gives the answer's markdown, not the reasoning. */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.copy-message", "x",
                                             ponder_message_row_get_message_id (row)));
  {
    GdkContentProvider *content = gdk_clipboard_get_content (gtk_widget_get_clipboard (GTK_WIDGET (window)));
    GValue value = G_VALUE_INIT;

    g_value_init (&value, G_TYPE_STRING);
    g_assert_nonnull (content);
    g_assert_true (gdk_content_provider_get_value (content, &value, NULL));
    g_assert_cmpstr (g_value_get_string (&value), ==, expected_answer);
    g_value_unset (&value);
  }

  /* The card opens on click and remembers it. */
  gtk_widget_activate_action (GTK_WIDGET (window), "win.set-reasoning-expanded", "(xb)",
                              ponder_message_row_get_message_id (row), TRUE);
  ponder_message_row_set_expanded (row, TRUE);
  screenshot (GTK_WIDGET (window), "04-reasoning-expanded");

  /* 4. Regenerate: a sibling answer, "2/2". */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.regenerate", NULL));
  g_assert_true (wait_for (idle_window, window, WAIT_MS));
  row = row_at (window, 1);
  g_assert_cmpstr (ponder_message_row_get_branch_label (row), ==, "2/2");
  g_assert_cmpstr (ponder_message_row_get_answer_text (row), ==, expected_answer);
  check_stored_answer (history, ponder_message_row_get_message_id (row));
  screenshot (GTK_WIDGET (window), "05-regenerated");

  /* The arrows move between the versions. */
  gtk_widget_activate_action (GTK_WIDGET (window), "win.sibling-step", "(xi)",
                              ponder_message_row_get_message_id (row), -1);
  row = row_at (window, 1);
  g_assert_cmpstr (ponder_message_row_get_branch_label (row), ==, "1/2");
  g_assert_true (ponder_message_row_get_expanded (row));

  /* 5. Edit the question: a sibling user message with its own answer. */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.edit-last", NULL));
  ponder_window_set_composer_text (window, "Say it again, <b>please</b> & thanks");
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.send", NULL));
  g_assert_true (wait_for (idle_window, window, WAIT_MS));
  g_assert_cmpuint (n_children (ponder_window_get_transcript (window)), ==, 2);
  g_assert_cmpstr (ponder_message_row_get_branch_label (row_at (window, 0)), ==, "2/2");
  g_assert_null (ponder_message_row_get_branch_label (row_at (window, 1)));
  screenshot (GTK_WIDGET (window), "06-edited");

  /* A follow-up question on the edited branch. */
  send (window, "And once more?");
  g_assert_cmpuint (n_children (ponder_window_get_transcript (window)), ==, 4);
  check_stored_answer (history, ponder_message_row_get_message_id (row_at (window, 3)));

  /* Stop right away: the window comes back idle with the answer kept,
   * whether the cancel or the end of the script came first. */
  ponder_window_set_composer_text (window, "Stop me");
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.send", NULL));
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.stop", NULL));
  g_assert_true (wait_for (idle_window, window, WAIT_MS));
  g_assert_cmpuint (n_children (ponder_window_get_transcript (window)), ==, 6);

  /* Per-conversation settings: the window's values reach the store. */
  {
    g_autoptr(PonderHistoryConversation) c = NULL;
    GList *toplevels;
    GList *l;
    PonderConversationSettings *dialog = NULL;

    g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.conversation-settings",
                                               NULL));
    toplevels = gtk_window_list_toplevels ();
    for (l = toplevels; l != NULL; l = l->next)
      if (PONDER_IS_CONVERSATION_SETTINGS (l->data))
        dialog = l->data;
    g_list_free (toplevels);
    g_assert_nonnull (dialog);
    screenshot (GTK_WIDGET (dialog), "06b-conversation-settings");
    ponder_conversation_settings_set_temperature (dialog, 0.3);
    gtk_window_close (GTK_WINDOW (dialog));
    settle (50);
    c = ponder_history_get_conversation (history, conversation_id, &error);
    g_assert_no_error (error);
    g_assert_cmpfloat_with_epsilon (c->sampling.temperature, 0.3, 1e-9);
    g_assert_cmpint (c->sampling.seed, ==, 1);
  }

  /* A message too long for the context asks first; Stop leaves it unanswered. */
  {
    g_autoptr(GString) huge = g_string_new (NULL);
    AdwMessageDialog *dialog = NULL;
    GList *toplevels;
    GList *l;
    guint before = n_children (ponder_window_get_transcript (window));

    while (huge->len < 60000)
      g_string_append (huge, "words and more words ");
    ponder_window_set_composer_text (window, huge->str);
    g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.send", NULL));
    g_assert_false (ponder_window_get_busy (window));
    toplevels = gtk_window_list_toplevels ();
    for (l = toplevels; l != NULL; l = l->next)
      if (ADW_IS_MESSAGE_DIALOG (l->data))
        dialog = l->data;
    g_list_free (toplevels);
    g_assert_nonnull (dialog);
    screenshot (GTK_WIDGET (dialog), "06c-context-full");
    adw_message_dialog_response (dialog, "cancel");
    gtk_window_destroy (GTK_WINDOW (dialog));
    settle (50);
    g_assert_false (ponder_window_get_busy (window));
    g_assert_cmpuint (n_children (ponder_window_get_transcript (window)), ==, before + 1);
    /* Take it back out (a soft delete) so the rest sees the short branch. */
    g_assert_true (ponder_history_delete_message (history,
                                                  ponder_message_row_get_message_id (row_at (window, before)),
                                                  &error));
    g_assert_no_error (error);
    ponder_window_open_conversation (window, conversation_id);
    g_assert_cmpuint (n_children (ponder_window_get_transcript (window)), ==, before);
  }

  /* 6. Restart: a new store on the same file and a new window find it all. */
  gtk_window_destroy (GTK_WINDOW (window));
  settle (50);
  remembered = ponder_settings_dup_model_path ();
  g_assert_cmpstr (remembered, ==, model_path);
  history2 = ponder_history_new (ponder_history_get_path (history), 5000, &error);
  g_assert_no_error (error);
  window = new_window (app, history2);
  g_assert_true (wait_for (model_loaded, window, WAIT_MS));
  list = ponder_window_get_conversation_list (window);
  g_assert_cmpuint (n_children (list), ==, 1);
  first = gtk_widget_get_first_child (list);
  g_signal_emit_by_name (list, "row-activated", first);
  g_assert_cmpint (ponder_window_get_conversation_id (window), ==, conversation_id);
  g_assert_cmpuint (n_children (ponder_window_get_transcript (window)), ==, 6);
  g_assert_cmpstr (ponder_message_row_get_branch_label (row_at (window, 0)), ==, "2/2");
  g_assert_cmpstr (ponder_message_row_get_answer_text (row_at (window, 3)), ==, expected_answer);
  screenshot (GTK_WIDGET (window), "07-restored");

  /* 7. Search finds the conversation by message text, and only it. */
  gtk_editable_set_text (GTK_EDITABLE (ponder_window_get_search_entry (window)), "fixed script");
  settle (400);
  g_assert_true (wait_for (search_done, window, WAIT_MS));
  g_assert_cmpuint (n_children (list), ==, 1);
  screenshot (GTK_WIDGET (window), "08-search");
  gtk_editable_set_text (GTK_EDITABLE (ponder_window_get_search_entry (window)), "zebracorn");
  settle (400);
  g_assert_true (wait_for (search_done, window, WAIT_MS));
  g_assert_cmpuint (n_children (list), ==, 0);

  gtk_editable_set_text (GTK_EDITABLE (ponder_window_get_search_entry (window)), "");
  settle (400);

  /* A stored markdown answer renders as blocks. */
  {
    g_autoptr(PonderHistoryMessage) user = ponder_history_message_new (PONDER_HISTORY_ROLE_USER,
                                                                       "Show me markdown");
    g_autoptr(PonderHistoryMessage) answer = ponder_history_message_new (PONDER_HISTORY_ROLE_ASSISTANT,
                                                                         markdown_sample);
    gint64 md_id = ponder_history_create_conversation (history2, "Markdown", NULL, &error);
    gint64 user_id;

    g_assert_no_error (error);
    user_id = ponder_history_add_message (history2, md_id, 0, user, &error);
    g_assert_no_error (error);
    g_free (answer->reasoning);
    answer->reasoning = g_strdup ("Let me lay it out with a table and code.");
    answer->reasoning_s = 75.0;
    answer->complete = TRUE;
    ponder_history_add_message (history2, md_id, user_id, answer, &error);
    g_assert_no_error (error);
    ponder_window_open_conversation (window, md_id);
    g_assert_cmpstr (ponder_message_row_get_reasoning_title (row_at (window, 1)), ==,
                     "Thought for 1 min 15 s");
    screenshot (GTK_WIDGET (window), "10-markdown");
    {
      /* A long conversation opens at its end. */
      GtkAdjustment *adj = gtk_scrolled_window_get_vadjustment (
        GTK_SCROLLED_WINDOW (gtk_widget_get_ancestor (ponder_window_get_transcript (window),
                                                      GTK_TYPE_SCROLLED_WINDOW)));

      g_assert_cmpfloat (gtk_adjustment_get_upper (adj), >, gtk_adjustment_get_page_size (adj));
      g_assert_cmpfloat (gtk_adjustment_get_value (adj), >=,
                         gtk_adjustment_get_upper (adj) - gtk_adjustment_get_page_size (adj) - 1);
    }
  }

  /* Rename, delete and undo from the sidebar's row actions. */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.rename-conversation",
                                             "(xs)", conversation_id, "Renamed <chat> & co"));
  {
    g_autoptr(PonderHistoryConversation) c = ponder_history_get_conversation (history2,
                                                                              conversation_id,
                                                                              &error);
    g_assert_no_error (error);
    g_assert_cmpstr (c->title, ==, "Renamed <chat> & co");
  }
  g_assert_cmpuint (n_children (list), ==, 2);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.delete-conversation",
                                             "x", conversation_id));
  g_assert_cmpuint (n_children (list), ==, 1);
  screenshot (GTK_WIDGET (window), "11-deleted-undo-toast");
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.undelete-conversation",
                                             "x", conversation_id));
  g_assert_cmpuint (n_children (list), ==, 2);

  /* 8. A narrow window folds the sidebar away. */
  gtk_editable_set_text (GTK_EDITABLE (ponder_window_get_search_entry (window)), "");
  gtk_window_set_default_size (GTK_WINDOW (window), 400, 700);
  settle (400);
  screenshot (GTK_WIDGET (window), "09-narrow");

  gtk_window_destroy (GTK_WINDOW (window));
  settle (50);
}

/* A row while the model thinks: "Thinking…", the last lines, Answer Now. */
static void
test_thinking_row (void)
{
  g_autoptr(PonderHistoryMessage) message = NULL;
  GtkWidget *window = gtk_window_new ();
  GtkWidget *row;

  message = ponder_history_message_new (PONDER_HISTORY_ROLE_ASSISTANT, "");
  message->id = 7;
  row = ponder_message_row_new (message, TRUE);
  ponder_message_row_append (PONDER_MESSAGE_ROW (row),
                             "Okay, the user asks for the sum.\nFirst line of work.\n"
                             "Second line: 2 + 2 = 4.\nThird line <b>not bold</b> & fine.\n"
                             "Fourth line, still going", NULL);
  g_assert_true (g_str_has_prefix (ponder_message_row_get_reasoning_title (PONDER_MESSAGE_ROW (row)),
                                   "Thinking…"));
  gtk_widget_set_size_request (row, 600, -1);
  gtk_window_set_child (GTK_WINDOW (window), row);
  gtk_window_present (GTK_WINDOW (window));
  screenshot (window, "00-thinking-row");

  ponder_message_row_append (PONDER_MESSAGE_ROW (row), NULL, "\n\nThe sum is 4.");
  g_assert_true (g_str_has_prefix (ponder_message_row_get_reasoning_title (PONDER_MESSAGE_ROW (row)),
                                   "Thought for"));
  g_assert_cmpstr (ponder_message_row_get_answer_text (PONDER_MESSAGE_ROW (row)), ==,
                   "The sum is 4.");
  gtk_window_destroy (GTK_WINDOW (window));
}

static GtkWidget *
find_label (GPtrArray  *labels,
            const char *text)
{
  guint i;

  for (i = 0; i < labels->len; i++)
    if (g_strcmp0 (gtk_label_get_text (g_ptr_array_index (labels, i)), text) == 0)
      return g_ptr_array_index (labels, i);
  return NULL;
}

/* The block structure cmark-gfm gives (CommonMark spec) maps to widgets. */
static void
test_markdown (void)
{
  GtkWidget *view = g_object_ref_sink (ponder_markdown_view_new (markdown_sample));
  g_autoptr(GPtrArray) labels = g_ptr_array_new ();
  g_autoptr(GPtrArray) grids = g_ptr_array_new ();
  g_autoptr(GPtrArray) separators = g_ptr_array_new ();
  g_autoptr(GString) huge = g_string_new (NULL);
  GtkWidget *heading;
  GtkWidget *para;
  GtkWidget *big;
  PangoAttrList *attrs;
  gint64 start;

  collect (view, labels, GTK_TYPE_LABEL);
  collect (view, grids, GTK_TYPE_GRID);
  collect (view, separators, GTK_TYPE_SEPARATOR);

  heading = find_label (labels, "Solving it");
  g_assert_nonnull (heading);
  g_assert_true (gtk_widget_has_css_class (heading, "title-1"));
  /* Emphasis is attributes on plain text; HTML stays literal. */
  para = find_label (labels, "We need both terms and one x here, not three. A <span>tag</span> & more.");
  g_assert_nonnull (para);
  g_assert_false (gtk_label_get_use_markup (GTK_LABEL (para)));
  attrs = gtk_label_get_attributes (GTK_LABEL (para));
  g_assert_nonnull (attrs);
  g_assert_nonnull (find_label (labels, "1."));
  g_assert_nonnull (find_label (labels, "2."));
  g_assert_nonnull (find_label (labels, "nested point"));
  g_assert_nonnull (find_label (labels, "A quoted remark."));
  {
    /* Code blocks are (highlighted) text views. */
    g_autoptr(GPtrArray) views = g_ptr_array_new ();
    GtkTextIter begin, end;
    g_autofree char *code = NULL;
    GtkTextBuffer *buffer;

    collect (view, views, GTK_TYPE_TEXT_VIEW);
    g_assert_cmpuint (views->len, ==, 1);
    buffer = gtk_text_view_get_buffer (g_ptr_array_index (views, 0));
    gtk_text_buffer_get_bounds (buffer, &begin, &end);
    code = gtk_text_buffer_get_text (buffer, &begin, &end, FALSE);
    g_assert_cmpstr (code, ==, "def f(x):\n    return x * x");
  }
  g_assert_nonnull (find_label (labels, "python"));
  g_assert_cmpuint (grids->len, ==, 1);
  g_assert_nonnull (gtk_grid_get_child_at (g_ptr_array_index (grids, 0), 2, 2));
  g_assert_cmpstr (gtk_label_get_text (GTK_LABEL (gtk_grid_get_child_at (g_ptr_array_index (grids, 0), 2, 2))),
                   ==, "27");
  g_assert_cmpuint (separators->len, ==, 1);
  g_object_unref (view);

  /* 100 KB on one line, full of markup-like noise, renders quickly. */
  while (huge->len < 100 * 1024)
    g_string_append (huge, "<b>&amp; *x* [y](z) ");
  start = g_get_monotonic_time ();
  big = g_object_ref_sink (ponder_markdown_view_new (huge->str));
  g_assert_cmpint (g_get_monotonic_time () - start, <, 5 * G_USEC_PER_SEC);
  g_object_unref (big);
}

/* Manual check with a slow model (PONDER_STREAM_MODEL): screenshots while
 * the answer streams, then Stop. Skipped in CI. */
static void
test_streaming_model (void)
{
  const char *model_path = g_getenv ("PONDER_STREAM_MODEL");
  g_autoptr(PonderApplication) app = NULL;
  g_autoptr(GError) error = NULL;
  PonderWindow *window;

  if (model_path == NULL)
    {
      g_test_skip ("PONDER_STREAM_MODEL is not set");
      return;
    }
  app = ponder_application_new (G_APPLICATION_NON_UNIQUE);
  g_application_register (G_APPLICATION (app), NULL, &error);
  g_assert_no_error (error);
  window = new_window (app, ponder_application_get_history (app));
  ponder_window_load_model (window, model_path);
  g_assert_true (wait_for (model_loaded, window, WAIT_MS));
  ponder_window_set_composer_text (window, "Why is the sky blue?");
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.send", NULL));
  settle (4000);
  screenshot (GTK_WIDGET (window), "20-streaming");
  g_assert_true (ponder_window_get_busy (window));
  ponder_message_row_set_expanded (row_at (window, 1), TRUE);
  settle (3000);
  screenshot (GTK_WIDGET (window), "21-streaming-expanded");
  {
    /* The partial answer reached the store (saved about once a second). */
    g_autoptr(PonderHistoryMessage) partial = NULL;

    partial = ponder_history_get_message (ponder_application_get_history (app),
                                          ponder_message_row_get_message_id (row_at (window, 1)),
                                          &error);
    g_assert_no_error (error);
    g_assert_cmpuint (strlen (partial->reasoning), >, 0);
    g_assert_false (partial->complete);
  }
  /* Answer Now closes the think block; the card turns into "Thought for". */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.end-reasoning", NULL));
  settle (3000);
  if (ponder_window_get_busy (window))
    g_assert_true (g_str_has_prefix (ponder_message_row_get_reasoning_title (row_at (window, 1)),
                                     "Thought for"));
  screenshot (GTK_WIDGET (window), "22-answer-now");
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.stop", NULL));
  g_assert_true (wait_for (idle_window, window, WAIT_MS));
  screenshot (GTK_WIDGET (window), "23-stopped");
  gtk_window_destroy (GTK_WINDOW (window));
  settle (50);
}

static void
test_thought_for (void)
{
  g_autofree char *a = ponder_format_thought_for (0.2);
  g_autofree char *b = ponder_format_thought_for (1.0);
  g_autofree char *c = ponder_format_thought_for (12.4);
  g_autofree char *d = ponder_format_thought_for (120.0);
  g_autofree char *e = ponder_format_thought_for (125.0);

  g_assert_cmpstr (a, ==, "Thought for less than a second");
  g_assert_cmpstr (b, ==, "Thought for 1 second");
  g_assert_cmpstr (c, ==, "Thought for 12 seconds");
  g_assert_cmpstr (d, ==, "Thought for 2 minutes");
  g_assert_cmpstr (e, ==, "Thought for 2 min 5 s");
}

/* Model text is never markup: a label shows "<b>" and "&" as typed. */
static void
test_no_markup (void)
{
  g_autoptr(PonderHistoryMessage) message = NULL;
  GtkWidget *row;

  message = ponder_history_message_new (PONDER_HISTORY_ROLE_ASSISTANT,
                                        "<span foreground='red'>x</span> & <b");
  g_free (message->reasoning);
  message->reasoning = g_strdup ("<i>think</i> &amp;");
  message->id = 1;
  row = g_object_ref_sink (ponder_message_row_new (message, FALSE));
  g_assert_cmpstr (ponder_message_row_get_answer_text (PONDER_MESSAGE_ROW (row)), ==,
                   "<span foreground='red'>x</span> & <b");
  g_object_unref (row);
}

int
main (int   argc,
      char *argv[])
{
  gtk_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
  adw_init ();
  ponder_register_resources ();

  g_test_add_func ("/ponder/app/thought-for", test_thought_for);
  g_test_add_func ("/ponder/app/no-markup", test_no_markup);
  g_test_add_func ("/ponder/app/thinking-row", test_thinking_row);
  g_test_add_func ("/ponder/app/markdown", test_markdown);
  g_test_add_func ("/ponder/app/chat-flow", test_chat_flow);
  g_test_add_func ("/ponder/app/streaming-model", test_streaming_model);

  return g_test_run ();
}
