/* test-app-transcript.c — long conversations in the window's transcript
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Run through run-ui-test.sh (Xvfb, the scripted model). A long conversation
 * opens with its newest rows only; scrolling up builds the older ones above
 * without moving what is on screen; switching a version keeps the rows
 * before it. Row order is checked against the store's active path, and
 * positions against GTK's own layout.
 */

#include <math.h>

#include "app-test-util.h"

#define N_MESSAGES 80

typedef struct
{
  PonderApplication *app;
  PonderHistory     *history;
  PonderWindow      *window;
} Fixture;

static gboolean
fixture_open (Fixture *f)
{
  g_autoptr(GError) error = NULL;
  const char *model_path = g_getenv ("PONDER_SCRIPTED_MODEL");

  if (model_path == NULL)
    {
      g_test_skip ("PONDER_SCRIPTED_MODEL is not set (run through run-ui-test.sh)");
      return FALSE;
    }
  f->app = ponder_application_new (G_APPLICATION_NON_UNIQUE);
  g_application_register (G_APPLICATION (f->app), NULL, &error);
  g_assert_no_error (error);
  f->history = ponder_application_get_history (f->app);
  f->window = new_window (f->app, f->history);
  ponder_window_load_model (f->window, model_path);
  g_assert_true (wait_for (model_loaded, f->window, WAIT_MS));
  return TRUE;
}

static void
fixture_close (Fixture *f)
{
  gtk_window_destroy (GTK_WINDOW (f->window));
  settle (50);
  g_clear_object (&f->app);
}

/* A conversation of @n messages, every answer with reasoning; the ids in
 * path order go to @ids. */
static gint64
make_conversation (PonderHistory *history,
                   guint          n,
                   GArray        *ids)
{
  g_autoptr(GError) error = NULL;
  gint64 id = ponder_history_create_conversation (history, "Long", "r1", &error);
  gint64 parent = 0;
  guint i;

  g_assert_no_error (error);
  for (i = 0; i < n; i++)
    {
      g_autofree char *text = g_strdup_printf ("Message %u.\nIt has a second line, and a "
                                               "third\nto give the row some height.", i);
      g_autoptr(PonderHistoryMessage) m =
        ponder_history_message_new (i % 2 ? PONDER_HISTORY_ROLE_ASSISTANT
                                          : PONDER_HISTORY_ROLE_USER, text);

      if (i % 2)
        {
          g_free (m->reasoning);
          m->reasoning = g_strdup_printf ("Reasoning behind answer %u", i);
          m->reasoning_s = 3.0;
        }
      m->complete = TRUE;
      parent = ponder_history_add_message (history, id, parent, m, &error);
      g_assert_no_error (error);
      g_array_append_val (ids, parent);
    }
  return id;
}

static GtkAdjustment *
vadjustment (PonderWindow *window)
{
  GtkWidget *scroller = gtk_widget_get_ancestor (ponder_window_get_transcript (window),
                                                 GTK_TYPE_SCROLLED_WINDOW);

  return gtk_scrolled_window_get_vadjustment (GTK_SCROLLED_WINDOW (scroller));
}

/* The rows are the newest messages, in path order. */
static void
assert_rows_are_path_suffix (PonderWindow *window,
                             GArray       *ids)
{
  g_autoptr(GPtrArray) rows = transcript_rows (window);
  guint offset;
  guint i;

  g_assert_cmpuint (rows->len, >, 0);
  g_assert_cmpuint (rows->len, <=, ids->len);
  offset = ids->len - rows->len;
  for (i = 0; i < rows->len; i++)
    g_assert_cmpint (ponder_message_row_get_message_id (g_ptr_array_index (rows, i)), ==,
                     g_array_index (ids, gint64, offset + i));
}

/* Until no more rows come and the last ones have been laid out: the row
 * count unchanged over three looks 100 ms apart (a loaded machine may run
 * the idle that builds them late). */
static void
settle_rows (PonderWindow *window)
{
  guint stable = 0;
  guint n = n_children (ponder_window_get_transcript (window));

  while (stable < 3)
    {
      guint now;

      settle (100);
      now = n_children (ponder_window_get_transcript (window));
      stable = now == n ? stable + 1 : 0;
      n = now;
    }
}

static double
y_in_scroller (PonderWindow *window,
               GtkWidget    *row)
{
  GtkWidget *scroller = gtk_widget_get_ancestor (row, GTK_TYPE_SCROLLED_WINDOW);
  double x = 0.0;
  double y = 0.0;

  g_assert_true (gtk_widget_translate_coordinates (row, scroller, 0, 0, &x, &y));
  return y;
}

static void
test_lazy_rows (void)
{
  Fixture f = { 0 };
  g_autoptr(GArray) ids = g_array_new (FALSE, FALSE, sizeof (gint64));
  GtkAdjustment *adj;
  gint64 conversation;
  guint n_rows;
  guint rounds;

  if (!fixture_open (&f))
    return;
  conversation = make_conversation (f.history, N_MESSAGES, ids);
  ponder_window_open_conversation (f.window, conversation);
  settle_rows (f.window);

  /* It opens at its end, with only some of its rows. */
  adj = vadjustment (f.window);
  n_rows = n_children (ponder_window_get_transcript (f.window));
  g_test_message ("%u of %u rows built at first", n_rows, N_MESSAGES);
  g_assert_cmpuint (n_rows, <, N_MESSAGES / 2);
  assert_rows_are_path_suffix (f.window, ids);
  g_assert_cmpfloat (gtk_adjustment_get_upper (adj), >, 2 * gtk_adjustment_get_page_size (adj));
  g_assert_cmpfloat (gtk_adjustment_get_value (adj), >=,
                     gtk_adjustment_get_upper (adj) - gtk_adjustment_get_page_size (adj) - 1);
  screenshot (GTK_WIDGET (f.window), "transcript-01-opened");

  /* Scrolling to the top builds older rows above; the row that was at the
   * top stays where it was on screen. */
  for (rounds = 0; rounds < N_MESSAGES; rounds++)
    {
      GtkWidget *top = gtk_widget_get_first_child (ponder_window_get_transcript (f.window));
      double value = gtk_adjustment_get_value (adj);
      double expected = y_in_scroller (f.window, top) + value;
      guint n;

      n_rows = n_children (ponder_window_get_transcript (f.window));
      if (n_rows == N_MESSAGES)
        break;
      gtk_adjustment_set_value (adj, 0.0);
      settle_rows (f.window);
      n = n_children (ponder_window_get_transcript (f.window));
      g_assert_cmpuint (n, >, n_rows);
      assert_rows_are_path_suffix (f.window, ids);
      /* Without the shift it would sit below the new rows, not at the top. */
      g_assert_true (gtk_widget_get_parent (top) == ponder_window_get_transcript (f.window));
      g_assert_cmpfloat (fabs (y_in_scroller (f.window, top) - expected), <=, 2.0);
    }
  g_assert_cmpuint (n_children (ponder_window_get_transcript (f.window)), ==, N_MESSAGES);
  assert_rows_are_path_suffix (f.window, ids);
  screenshot (GTK_WIDGET (f.window), "transcript-02-scrolled-up");
  fixture_close (&f);
}

static void
test_keeps_rows (void)
{
  Fixture f = { 0 };
  g_autoptr(GArray) ids = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autoptr(PonderHistoryMessage) other = NULL;
  g_autoptr(GPtrArray) before = NULL;
  g_autoptr(GPtrArray) after = NULL;
  g_autoptr(GError) error = NULL;
  const guint k = 5;  /* an answer in the middle */
  gint64 conversation;
  gint64 other_id;
  guint i;

  if (!fixture_open (&f))
    return;
  conversation = make_conversation (f.history, 8, ids);
  ponder_window_open_conversation (f.window, conversation);
  settle (200);
  g_assert_cmpuint (n_children (ponder_window_get_transcript (f.window)), ==, 8);
  before = g_ptr_array_new_with_free_func (g_object_unref);
  for (i = 0; i < 8; i++)
    g_ptr_array_add (before, g_object_ref (row_at (f.window, i)));

  /* A second version of answer k, made the shown one by the version arrow. */
  other = ponder_history_message_new (PONDER_HISTORY_ROLE_ASSISTANT, "Another answer");
  other->complete = TRUE;
  other_id = ponder_history_add_message (f.history, conversation,
                                         g_array_index (ids, gint64, k - 1), other, &error);
  g_assert_no_error (error);
  g_assert_true (ponder_history_select_message (f.history, g_array_index (ids, gint64, k),
                                                &error));
  g_assert_no_error (error);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (f.window), "win.sibling-step", "(xi)",
                                             g_array_index (ids, gint64, k), 1));
  settle (100);
  after = transcript_rows (f.window);
  g_assert_cmpuint (after->len, ==, k + 1);
  for (i = 0; i < k; i++)
    g_assert_true (g_ptr_array_index (after, i) == g_ptr_array_index (before, i));
  g_assert_cmpint (ponder_message_row_get_message_id (g_ptr_array_index (after, k)), ==,
                   other_id);
  g_assert_cmpstr (ponder_message_row_get_branch_label (g_ptr_array_index (after, k)), ==,
                   "2/2");

  /* Back: the rows before the branch point are still the same widgets, the
   * old answer and what follows it are shown again. */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (f.window), "win.sibling-step", "(xi)",
                                             other_id, -1));
  settle (100);
  g_clear_pointer (&after, g_ptr_array_unref);
  after = transcript_rows (f.window);
  g_assert_cmpuint (after->len, ==, 8);
  for (i = 0; i < k; i++)
    g_assert_true (g_ptr_array_index (after, i) == g_ptr_array_index (before, i));
  assert_rows_are_path_suffix (f.window, ids);
  g_assert_cmpstr (ponder_message_row_get_branch_label (g_ptr_array_index (after, k)), ==,
                   "1/2");
  fixture_close (&f);
}

/* The collapsed card does not lay out its trace; opening it shows it. */
static void
test_reasoning_shown_when_opened (void)
{
  Fixture f = { 0 };
  g_autoptr(GArray) ids = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autoptr(GPtrArray) labels = g_ptr_array_new ();
  PonderMessageRow *answer;
  gboolean found = FALSE;
  guint i;

  if (!fixture_open (&f))
    return;
  ponder_window_open_conversation (f.window, make_conversation (f.history, 2, ids));
  settle (100);
  answer = row_at (f.window, 1);
  g_assert_false (ponder_message_row_get_expanded (answer));
  ponder_message_row_set_expanded (answer, TRUE);
  collect (GTK_WIDGET (answer), labels, GTK_TYPE_LABEL);
  for (i = 0; i < labels->len; i++)
    found |= g_strcmp0 (gtk_label_get_text (g_ptr_array_index (labels, i)),
                        "Reasoning behind answer 1") == 0;
  g_assert_true (found);
  screenshot (GTK_WIDGET (f.window), "transcript-03-reasoning-open");
  fixture_close (&f);
}

/* The row a preferences window's widget tree holds under @name, or NULL. */
static GtkWidget *
find_named (GtkWidget  *root,
            const char *name)
{
  GtkWidget *child;

  if (g_strcmp0 (gtk_widget_get_name (root), name) == 0)
    return root;
  for (child = gtk_widget_get_first_child (root); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found = find_named (child, name);

      if (found != NULL)
        return found;
    }
  return NULL;
}

/* The past-reasoning preference, chosen in Preferences, applies at once to
 * the rows shown: hidden, expanded, collapsed. The reasoning stays stored. */
static void
test_reasoning_display_preference (void)
{
  Fixture f = { 0 };
  g_autoptr(GArray) ids = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autoptr(GSettings) settings = NULL;
  g_autoptr(PonderHistoryMessage) stored = NULL;
  GListModel *toplevels;
  GtkWidget *combo = NULL;
  PonderMessageRow *answer;

  if (!fixture_open (&f))
    return;
  settings = g_settings_new ("io.github.ponder.Ponder");
  g_settings_set_enum (settings, "reasoning-display", 0);
  ponder_window_open_conversation (f.window, make_conversation (f.history, 2, ids));
  settle (100);
  answer = row_at (f.window, 1);
  g_assert_true (ponder_message_row_get_reasoning_shown (answer));
  g_assert_false (ponder_message_row_get_expanded (answer));

  g_action_group_activate_action (G_ACTION_GROUP (f.app), "preferences", NULL);
  settle (100);
  toplevels = gtk_window_get_toplevels (); /* owned by GTK */
  for (guint i = 0; combo == NULL && i < g_list_model_get_n_items (toplevels); i++)
    {
      g_autoptr(GtkWidget) window = g_list_model_get_item (toplevels, i);

      combo = find_named (window, "reasoning-display-row");
    }
  g_assert_nonnull (combo);

  screenshot (GTK_WIDGET (gtk_widget_get_root (combo)), "transcript-04-preferences");
  adw_combo_row_set_selected (ADW_COMBO_ROW (combo), 2);
  settle (50);
  g_assert_cmpstr (g_settings_get_string (settings, "reasoning-display"), ==, "hidden");
  g_assert_false (ponder_message_row_get_reasoning_shown (answer));
  stored = ponder_history_get_message (f.history, g_array_index (ids, gint64, 1), NULL);
  g_assert_cmpstr (stored->reasoning, ==, "Reasoning behind answer 1");

  adw_combo_row_set_selected (ADW_COMBO_ROW (combo), 1);
  settle (50);
  g_assert_true (ponder_message_row_get_reasoning_shown (answer));
  g_assert_true (ponder_message_row_get_expanded (answer));

  adw_combo_row_set_selected (ADW_COMBO_ROW (combo), 0);
  settle (50);
  g_assert_true (ponder_message_row_get_reasoning_shown (answer));
  g_assert_false (ponder_message_row_get_expanded (answer));
  gtk_window_destroy (GTK_WINDOW (gtk_widget_get_root (combo)));
  fixture_close (&f);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  gtk_init ();
  adw_init ();
  ponder_register_resources ();

  g_test_add_func ("/transcript/lazy-rows", test_lazy_rows);
  g_test_add_func ("/transcript/keeps-rows", test_keeps_rows);
  g_test_add_func ("/transcript/reasoning-shown-when-opened", test_reasoning_shown_when_opened);
  g_test_add_func ("/transcript/reasoning-display-preference",
                   test_reasoning_display_preference);
  return g_test_run ();
}
