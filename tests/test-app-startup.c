/* test-app-startup.c — the app's files: a history that will not open,
 * conversations exported and imported
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Run through run-ui-test.sh (Xvfb, throwaway XDG folders). A damaged
 * database must not turn into a silent empty history: the app explains and
 * offers a way out, and the damaged file survives, renamed. A locked one
 * offers a retry that works once the lock is gone.
 */

#include <adwaita.h>
#include <glib/gstdio.h>

#include "history-test-util.h"
#include "ponder-application.h"
#include "ponder-window.h"
#include "ponder-window-export.h"

#define WAIT_MS 30000

static gboolean
tick (gpointer data)
{
  return G_SOURCE_CONTINUE;
}

typedef gboolean (*Condition) (gpointer data);

static gboolean
wait_for (Condition cond,
          gpointer  data,
          guint     timeout_ms)
{
  gint64 end = g_get_monotonic_time () + (gint64) timeout_ms * 1000;
  guint id = g_timeout_add (5, tick, NULL);
  gboolean ok;

  while (!(ok = cond (data)) && g_get_monotonic_time () < end)
    g_main_context_iteration (NULL, TRUE);
  g_source_remove (id);
  return ok;
}

static AdwMessageDialog *
find_dialog (void)
{
  GListModel *toplevels = gtk_window_get_toplevels (); /* owned by GTK */
  AdwMessageDialog *found = NULL;

  for (guint i = 0; i < g_list_model_get_n_items (toplevels); i++)
    {
      g_autoptr(GObject) item = g_list_model_get_item (toplevels, i);

      if (ADW_IS_MESSAGE_DIALOG (item) && gtk_widget_get_visible (GTK_WIDGET (item)))
        found = ADW_MESSAGE_DIALOG (item);
    }
  return found;
}

static gboolean
dialog_shown (gpointer data)
{
  return find_dialog () != NULL;
}

static gboolean
main_window_shown (gpointer data)
{
  GList *l;

  for (l = gtk_application_get_windows (data); l != NULL; l = l->next)
    if (PONDER_IS_WINDOW (l->data) && gtk_widget_get_mapped (l->data))
      return TRUE;
  return FALSE;
}

static void
screenshot (GtkWidget  *widget,
            const char *name)
{
  g_autofree char *dir = g_build_filename (g_getenv ("PONDER_BUILD_ROOT"), "tests",
                                           "screenshots", NULL);
  g_autofree char *png = g_strconcat (name, ".png", NULL);
  g_autofree char *file = g_build_filename (dir, png, NULL);
  g_autoptr(GdkPaintable) paintable = gtk_widget_paintable_new (widget);
  g_autoptr(GskRenderNode) node = NULL;
  g_autoptr(GdkTexture) texture = NULL;
  graphene_rect_t bounds;
  int width, height;

  /* Let the dialog get its size and draw once. */
  for (guint i = 0; i < 40; i++)
    g_main_context_iteration (NULL, FALSE), g_usleep (5000);
  width = gtk_widget_get_width (widget);
  height = gtk_widget_get_height (widget);
  g_assert_cmpint (width, >, 0);
  g_mkdir_with_parents (dir, 0755);
  for (guint tries = 0; node == NULL && tries < 50; tries++)
    {
      GtkSnapshot *snapshot = gtk_snapshot_new ();

      gdk_paintable_snapshot (paintable, GDK_SNAPSHOT (snapshot), width, height);
      node = gtk_snapshot_free_to_node (snapshot);
      if (node == NULL)
        g_main_context_iteration (NULL, FALSE);
    }
  g_assert_nonnull (node);
  graphene_rect_init (&bounds, 0, 0, width, height);
  texture = gsk_renderer_render_texture (gtk_native_get_renderer (GTK_NATIVE (widget)),
                                         node, &bounds);
  g_assert_true (gdk_texture_save_to_png (texture, file));
}

static void
remove_history_files (const char *path)
{
  g_autofree char *dir = g_path_get_dirname (path);
  GDir *d = g_dir_open (dir, 0, NULL);
  const char *name;

  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *file = g_build_filename (dir, name, NULL);
      g_unlink (file);
    }
  if (d != NULL)
    g_dir_close (d);
}

/* The names of the files beside @path that start with its name plus
 * ".corrupt-". */
static GPtrArray *
kept_copies (const char *path)
{
  g_autofree char *dir = g_path_get_dirname (path);
  g_autofree char *base = g_path_get_basename (path);
  g_autofree char *prefix = g_strconcat (base, ".corrupt-", NULL);
  GPtrArray *found = g_ptr_array_new_with_free_func (g_free);
  GDir *d = g_dir_open (dir, 0, NULL);
  const char *name;

  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    if (g_str_has_prefix (name, prefix) && strchr (name + strlen (prefix), '-') != NULL
        && !g_str_has_suffix (name, "-wal") && !g_str_has_suffix (name, "-shm"))
      g_ptr_array_add (found, g_build_filename (dir, name, NULL));
  if (d != NULL)
    g_dir_close (d);
  return found;
}

static void
test_damaged_history (void)
{
  g_autofree char *path = ponder_history_dup_default_path ();
  g_autofree char *dir = g_path_get_dirname (path);
  g_autoptr(GString) garbage = g_string_new (NULL);
  g_autoptr(PonderApplication) app = NULL;
  g_autoptr(GPtrArray) kept = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *kept_contents = NULL;
  AdwMessageDialog *dialog;
  gsize kept_len;

  remove_history_files (path);
  g_mkdir_with_parents (dir, 0700);
  for (guint i = 0; i < 2000; i++)
    g_string_append (garbage, "these bytes are not an SQLite database. ");
  g_assert_true (g_file_set_contents (path, garbage->str, garbage->len, NULL));

  app = ponder_application_new (G_APPLICATION_NON_UNIQUE);
  g_application_register (G_APPLICATION (app), NULL, &error);
  g_assert_no_error (error);
  g_assert_null (ponder_application_get_history (app));
  g_application_activate (G_APPLICATION (app));

  /* No window pretending the history is empty: a dialog saying why. */
  g_assert_true (wait_for (dialog_shown, NULL, WAIT_MS));
  g_assert_false (main_window_shown (app));
  dialog = find_dialog ();
  g_assert_nonnull (strstr (adw_message_dialog_get_heading (dialog), "damaged"));
  g_assert_nonnull (strstr (adw_message_dialog_get_body (dialog), path));
  g_assert_true (adw_message_dialog_has_response (dialog, "new"));
  g_assert_true (adw_message_dialog_has_response (dialog, "quit"));
  screenshot (GTK_WIDGET (dialog), "30-history-damaged");

  adw_message_dialog_response (dialog, "new");
  g_assert_true (wait_for (main_window_shown, app, WAIT_MS));
  g_assert_nonnull (ponder_application_get_history (app));

  /* The damaged bytes are all still there, under a new name. */
  kept = kept_copies (path);
  g_assert_cmpuint (kept->len, ==, 1);
  g_assert_true (g_file_get_contents (kept->pdata[0], &kept_contents, &kept_len, NULL));
  g_assert_cmpuint (kept_len, ==, garbage->len);
  g_assert_cmpmem (kept_contents, kept_len, garbage->str, garbage->len);
  /* ... and the new history works. */
  g_assert_cmpint (ponder_history_create_conversation (ponder_application_get_history (app),
                                                       "after recovery", NULL, &error),
                   >, 0);
  g_assert_no_error (error);
}

static void
test_locked_history (void)
{
  g_autofree char *path = ponder_history_dup_default_path ();
  g_autofree char *dir = g_path_get_dirname (path);
  g_autoptr(PonderApplication) app = NULL;
  g_autoptr(GPtrArray) kept = NULL;
  g_autoptr(GError) error = NULL;
  AdwMessageDialog *dialog;
  sqlite3 *other;

  remove_history_files (path);
  g_mkdir_with_parents (dir, 0700);
  /* Another program holds a write lock on the file before Ponder opens it. */
  other = history_test_raw_open (path);
  history_test_raw_exec (other, "CREATE TABLE t (x); BEGIN EXCLUSIVE; INSERT INTO t VALUES (1);");

  app = ponder_application_new (G_APPLICATION_NON_UNIQUE);
  g_application_register (G_APPLICATION (app), NULL, &error);
  g_assert_no_error (error);
  g_assert_null (ponder_application_get_history (app));
  g_application_activate (G_APPLICATION (app));

  g_assert_true (wait_for (dialog_shown, NULL, WAIT_MS));
  dialog = find_dialog ();
  g_assert_nonnull (strstr (adw_message_dialog_get_heading (dialog), "Another program"));
  g_assert_true (adw_message_dialog_has_response (dialog, "retry"));
  g_assert_false (adw_message_dialog_has_response (dialog, "new"));
  screenshot (GTK_WIDGET (dialog), "31-history-locked");

  /* The other program lets go; trying again opens the history, keeping the
   * other program's data (nothing was moved or reset). */
  history_test_raw_exec (other, "COMMIT;");
  sqlite3_close (other);
  adw_message_dialog_response (dialog, "retry");
  g_assert_true (wait_for (main_window_shown, app, WAIT_MS));
  g_assert_nonnull (ponder_application_get_history (app));
  other = history_test_raw_open (path);
  g_assert_cmpint (history_test_raw_int (other, "SELECT count(*) FROM t"), ==, 1);
  sqlite3_close (other);
  kept = kept_copies (path);
  g_assert_cmpuint (kept->len, ==, 0);
}

static gint64
add_message (PonderHistory     *history,
             gint64             conversation_id,
             gint64             parent_id,
             PonderHistoryRole  role,
             const char        *content,
             const char        *reasoning)
{
  PonderHistoryMessage message = { 0 };
  g_autoptr(GError) error = NULL;
  gint64 id;

  message.role = role;
  message.content = (char *) content;
  message.reasoning = (char *) reasoning;
  message.complete = TRUE;
  id = ponder_history_add_message (history, conversation_id, parent_id, &message, &error);
  g_assert_no_error (error);
  return id;
}

static char *
read_file (GFile *file)
{
  char *contents = NULL;

  g_assert_true (g_file_load_contents (file, NULL, &contents, NULL, NULL, NULL));
  return contents;
}

static void
test_export_import (void)
{
  g_autofree char *path = ponder_history_dup_default_path ();
  g_autofree char *tmp = g_dir_make_tmp ("ponder-export-XXXXXX", NULL);
  g_autofree char *md_path = g_build_filename (tmp, "chat.md", NULL);
  g_autofree char *json_path = g_build_filename (tmp, "chat.json", NULL);
  g_autofree char *bad_path = g_build_filename (tmp, "no", "such", "folder.md", NULL);
  g_autoptr(GFile) md_file = g_file_new_for_path (md_path);
  g_autoptr(GFile) json_file = g_file_new_for_path (json_path);
  g_autoptr(GFile) bad_file = g_file_new_for_path (bad_path);
  g_autoptr(PonderApplication) app = NULL;
  g_autoptr(GPtrArray) original = NULL;
  g_autoptr(GPtrArray) imported = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *markdown = NULL;
  PonderHistory *history;
  PonderWindow *window;
  gint64 conversation, question, imported_id;

  remove_history_files (path);
  app = ponder_application_new (G_APPLICATION_NON_UNIQUE);
  g_application_register (G_APPLICATION (app), NULL, &error);
  g_assert_no_error (error);
  history = ponder_application_get_history (app);
  g_assert_nonnull (history);
  window = ponder_window_new (GTK_APPLICATION (app), history);
  gtk_window_present (GTK_WINDOW (window));

  /* Nothing shown yet: export says so instead of writing an empty file. */
  g_assert_false (ponder_window_export_conversation (window, "markdown", md_file, &error));
  g_assert_error (error, PONDER_HISTORY_ERROR, PONDER_HISTORY_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_false (g_file_query_exists (md_file, NULL));

  conversation = ponder_history_create_conversation (history, "Sums & <tags>", NULL, &error);
  g_assert_no_error (error);
  question = add_message (history, conversation, 0, PONDER_HISTORY_ROLE_USER,
                          "What is 17 + 25?", "");
  add_message (history, conversation, question, PONDER_HISTORY_ROLE_ASSISTANT,
               "It is **42**.", "17 + 25: 7 + 5 = 12, carry 1, 1 + 2 + 1 = 4.");
  ponder_window_open_conversation (window, conversation);

  g_assert_true (ponder_window_export_conversation (window, "markdown", md_file, &error));
  g_assert_no_error (error);
  markdown = read_file (md_file);
  g_assert_nonnull (strstr (markdown, "What is 17 + 25?"));
  g_assert_nonnull (strstr (markdown, "It is **42**."));
  g_assert_nonnull (strstr (markdown, "carry 1"));

  g_assert_true (ponder_window_export_conversation (window, "json", json_file, &error));
  g_assert_no_error (error);

  /* A folder that does not exist: an error, no crash, nothing written. */
  g_assert_false (ponder_window_export_conversation (window, "markdown", bad_file, &error));
  g_assert_nonnull (error);
  g_clear_error (&error);

  /* Importing adds a second conversation with the same messages and shows
   * it; the original stays. */
  imported_id = ponder_window_import_conversation (window, json_file, &error);
  g_assert_no_error (error);
  g_assert_cmpint (imported_id, >, 0);
  g_assert_cmpint (imported_id, !=, conversation);
  g_assert_cmpint (ponder_window_get_conversation_id (window), ==, imported_id);
  original = ponder_history_list_active_path (history, conversation, &error);
  imported = ponder_history_list_active_path (history, imported_id, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (original->len, ==, 2);
  g_assert_cmpuint (imported->len, ==, original->len);
  for (guint i = 0; i < original->len; i++)
    {
      PonderHistoryMessage *a = original->pdata[i], *b = imported->pdata[i];

      g_assert_cmpint (a->role, ==, b->role);
      g_assert_cmpstr (a->content, ==, b->content);
      g_assert_cmpstr (a->reasoning, ==, b->reasoning);
    }

  /* A file that is not an export is refused with a reason. */
  g_assert_true (g_file_replace_contents (json_file, "{\"not\": \"ours\"}", 15, NULL, FALSE,
                                          G_FILE_CREATE_NONE, NULL, NULL, NULL));
  g_assert_cmpint (ponder_window_import_conversation (window, json_file, &error), ==, 0);
  g_assert_nonnull (error);
  g_clear_error (&error);

  gtk_window_destroy (GTK_WINDOW (window));
  g_unlink (md_path);
  g_unlink (json_path);
  g_rmdir (tmp);
}

static gboolean
model_loaded (gpointer data)
{
  GList *l;

  for (l = gtk_application_get_windows (data); l != NULL; l = l->next)
    if (PONDER_IS_WINDOW (l->data) && ponder_window_get_model_loaded (l->data))
      return TRUE;
  return FALSE;
}

/* `ponder MODEL.gguf`: the file given on the command line is loaded. */
static void
test_open_model_file (void)
{
  const char *model_path = g_getenv ("PONDER_SCRIPTED_MODEL");
  g_autofree char *path = ponder_history_dup_default_path ();
  g_autoptr(PonderApplication) app = NULL;
  g_autoptr(GFile) model = NULL;
  g_autoptr(GError) error = NULL;

  if (model_path == NULL)
    {
      g_test_fail_printf ("PONDER_SCRIPTED_MODEL is not set (run through run-ui-test.sh)");
      return;
    }
  remove_history_files (path);
  model = g_file_new_for_path (model_path);
  app = ponder_application_new (G_APPLICATION_NON_UNIQUE | G_APPLICATION_HANDLES_OPEN);
  g_application_register (G_APPLICATION (app), NULL, &error);
  g_assert_no_error (error);
  g_application_open (G_APPLICATION (app), &model, 1, "");
  g_assert_true (wait_for (main_window_shown, app, WAIT_MS));
  g_assert_true (wait_for (model_loaded, app, WAIT_MS));
}

int
main (int   argc,
      char *argv[])
{
  gtk_test_init (&argc, &argv, NULL);
  adw_init ();
  g_test_add_func ("/app-startup/damaged-history", test_damaged_history);
  g_test_add_func ("/app-startup/locked-history", test_locked_history);
  g_test_add_func ("/app-files/export-import", test_export_import);
  g_test_add_func ("/app-files/open-model-file", test_open_model_file);
  return g_test_run ();
}
