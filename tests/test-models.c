/* test-models.c — the model library and loading, through the real window
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Run through run-ui-test.sh (Xvfb, throwaway XDG folders, the scripted
 * model in $PONDER_SCRIPTED_MODEL). A second model comes from gen_model.py.
 * Everything goes through the window's actions: import two models, see
 * them listed, switch, cancel a load, remove one, a missing file, a load
 * that will not fit (both ways out) and a file that is not a model;
 * removing with undo, the model in use too; which model a start opens.
 * Screenshots go to $PONDER_BUILD_ROOT/tests/screenshots/models-*.png.
 */

#include <glib/gstdio.h>

#include "app-test-util.h"
#include "ponder-model-load.h"
#include "ponder-settings.h"
#include "ponder-window-models.h"

static char *tmp_dir;

static gboolean
not_loading (gpointer data)
{
  return !ponder_window_get_loading (data);
}

static char *
make_model (const char *name,
            const char *type)
{
  g_autofree char *script = g_build_filename (g_getenv ("PONDER_SOURCE_ROOT"), "tests",
                                              "gen_model.py", NULL);
  char *out = g_build_filename (tmp_dir, name, NULL);
  const char *argv[] = { "/usr/bin/python3", script, "model", "--arch", "qwen2", "--preset",
                         "tiny", "--type", type, "--out", out, NULL };
  g_autoptr(GError) error = NULL;
  int status = -1;

  g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL, NULL, NULL,
                &status, &error);
  g_assert_no_error (error);
  g_assert_true (g_spawn_check_wait_status (status, NULL));
  return out;
}

static void
activate (PonderWindow *window,
          const char   *action,
          GVariant     *target)
{
  g_assert_true (gtk_widget_activate_action_variant (GTK_WIDGET (window), action, target));
}

static void
load_and_wait (PonderWindow *window,
               const char   *path)
{
  ponder_window_load_model (window, path);
  g_assert_true (ponder_window_get_loading (window));
  g_assert_true (wait_for (not_loading, window, WAIT_MS));
}

static GPtrArray *
library (PonderHistory *history)
{
  g_autoptr(GError) error = NULL;
  GPtrArray *models = ponder_history_list_models (history, &error);

  g_assert_no_error (error);
  return models;
}

/* The newest message dialog; NULL when none is open. */
static AdwMessageDialog *
find_message_dialog (void)
{
  return (AdwMessageDialog *) find_toplevel (ADW_TYPE_MESSAGE_DIALOG);
}

static void
answer_dialog (AdwMessageDialog *dialog,
               const char       *response)
{
  adw_message_dialog_response (dialog, response);
  gtk_window_destroy (GTK_WINDOW (dialog));
  settle (50);
}

/* Model ids of the header menu's first section, in order. */
static GArray *
menu_ids (PonderWindow *window)
{
  GMenuModel *menu = ponder_window_get_models_menu (window);
  GMenuModel *section = g_menu_model_get_item_link (menu, 0, G_MENU_LINK_SECTION);
  GArray *ids = g_array_new (FALSE, FALSE, sizeof (gint64));

  for (int i = 0; section != NULL && i < g_menu_model_get_n_items (section); i++)
    {
      g_autoptr(GVariant) target = g_menu_model_get_item_attribute_value (section, i,
                                                                          G_MENU_ATTRIBUTE_TARGET,
                                                                          G_VARIANT_TYPE_INT64);
      gint64 id = g_variant_get_int64 (target);

      g_array_append_val (ids, id);
    }
  g_clear_object (&section);
  return ids;
}

/* A label under @widget showing @text (mnemonics resolved), or NULL. */
static GtkWidget *
find_label_text (GtkWidget  *widget,
                 const char *text)
{
  g_autoptr(GPtrArray) labels = g_ptr_array_new ();

  collect (widget, labels, GTK_TYPE_LABEL);
  for (guint i = 0; i < labels->len; i++)
    if (g_strcmp0 (gtk_label_get_text (g_ptr_array_index (labels, i)), text) == 0)
      return g_ptr_array_index (labels, i);
  return NULL;
}

/* TRUE when a label under @widget starts with @prefix and holds @part. */
static gboolean
label_with_prefix (GtkWidget  *widget,
                   const char *prefix,
                   const char *part)
{
  g_autoptr(GPtrArray) labels = g_ptr_array_new ();

  collect (widget, labels, GTK_TYPE_LABEL);
  for (guint i = 0; i < labels->len; i++)
    {
      const char *text = gtk_label_get_text (g_ptr_array_index (labels, i));

      if (g_str_has_prefix (text, prefix) && strstr (text, part) != NULL)
        return TRUE;
    }
  return FALSE;
}

/* The button under @widget with this tooltip, label or icon; NULL if none. */
static GtkWidget *
find_button (GtkWidget  *widget,
             const char *tooltip,
             const char *label,
             const char *icon)
{
  g_autoptr(GPtrArray) buttons = g_ptr_array_new ();

  collect (widget, buttons, GTK_TYPE_BUTTON);
  for (guint i = 0; i < buttons->len; i++)
    {
      GtkWidget *button = g_ptr_array_index (buttons, i);
      GtkButton *b = GTK_BUTTON (button);

      if ((tooltip != NULL && g_strcmp0 (gtk_widget_get_tooltip_text (button), tooltip) == 0)
          || (label != NULL && g_strcmp0 (gtk_button_get_label (b), label) == 0)
          || (icon != NULL && g_strcmp0 (gtk_button_get_icon_name (b), icon) == 0))
        return button;
    }
  return NULL;
}

/* Clicks the trash button of the dialog's row for @id. */
static void
click_remove (PonderModelsDialog *dialog,
              gint64              id)
{
  for (guint i = 0; i < ponder_models_dialog_get_n_models (dialog); i++)
    {
      GtkWidget *row = ponder_models_dialog_get_row (dialog, i);
      GtkWidget *button = find_button (row, "Remove from the Library", NULL, NULL);

      g_assert_nonnull (button);
      if (g_object_get_data (G_OBJECT (row), "model-id") != NULL
          && *(gint64 *) g_object_get_data (G_OBJECT (row), "model-id") == id)
        {
          /* As during a real click, held while the list is rebuilt under it. */
          g_object_ref (button);
          g_signal_emit_by_name (button, "clicked");
          g_object_unref (button);
          settle (50);
          return;
        }
    }
  g_assert_not_reached ();
}

/* The close button of the toast whose button reads "_Undo" under @widget. */
static GtkWidget *
toast_close_button (GtkWidget *widget)
{
  GtkWidget *undo = find_button (widget, NULL, "_Undo", NULL);

  g_assert_nonnull (undo);
  return find_button (gtk_widget_get_parent (undo), NULL, NULL, "window-close-symbolic");
}

static guint
library_size (PonderHistory *history)
{
  g_autoptr(GPtrArray) models = library (history);

  return models->len;
}

static const char *
row_subtitle (PonderModelsDialog *dialog,
              guint               index)
{
  return adw_expander_row_get_subtitle (ADW_EXPANDER_ROW (ponder_models_dialog_get_row (dialog,
                                                                                      index)));
}

static const char *
row_title (PonderModelsDialog *dialog,
           guint               index)
{
  return adw_preferences_row_get_title (ADW_PREFERENCES_ROW (ponder_models_dialog_get_row (dialog,
                                                                                         index)));
}

static void
test_library (void)
{
  const char *scripted = g_getenv ("PONDER_SCRIPTED_MODEL");
  g_autoptr(PonderApplication) app = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *second = NULL;
  g_autofree char *copy = NULL;
  g_autofree char *junk = NULL;
  g_autofree char *contents = NULL;
  gsize length;
  PonderHistory *history;
  PonderWindow *window;
  PonderModelsDialog *dialog;
  AdwMessageDialog *message;
  g_autoptr(GPtrArray) models = NULL;
  g_autoptr(GArray) ids = NULL;
  gint64 a_id, b_id, c_id;

  if (scripted == NULL)
    {
      g_test_skip ("PONDER_SCRIPTED_MODEL is not set (run through run-ui-test.sh)");
      return;
    }
  second = make_model ("second-q8.gguf", "Q8_0");

  app = ponder_application_new (G_APPLICATION_NON_UNIQUE);
  g_application_register (G_APPLICATION (app), NULL, &error);
  g_assert_no_error (error);
  history = ponder_application_get_history (app);
  window = new_window (app, history);
  g_assert_cmpint (ponder_window_get_model_id (window), ==, 0);
  screenshot (GTK_WIDGET (window), "models-01-empty");

  /* Import two models: each is remembered and listed, newest use first. */
  load_and_wait (window, scripted);
  g_assert_true (ponder_window_get_model_loaded (window));
  a_id = ponder_window_get_model_id (window);
  g_assert_cmpint (a_id, >, 0);
  load_and_wait (window, second);
  b_id = ponder_window_get_model_id (window);
  g_assert_cmpint (b_id, >, 0);
  g_assert_cmpint (b_id, !=, a_id);
  models = library (history);
  g_assert_cmpuint (models->len, ==, 2);
  g_assert_cmpint (((PonderHistoryModel *) models->pdata[0])->id, ==, b_id);
  g_assert_cmpstr (((PonderHistoryModel *) models->pdata[0])->name, ==, "qwen2-tiny-Q8_0");
  g_assert_cmpstr (((PonderHistoryModel *) models->pdata[0])->file_type, ==, "Q8_0");
  g_assert_cmpstr (((PonderHistoryModel *) models->pdata[1])->architecture, ==, "qwen2");
  g_assert_cmpuint (((PonderHistoryModel *) models->pdata[1])->n_ctx_train, ==, 4096);
  g_clear_pointer (&models, g_ptr_array_unref);
  ids = menu_ids (window);
  g_assert_cmpuint (ids->len, ==, 2);
  g_assert_cmpint (g_array_index (ids, gint64, 0), ==, b_id);
  g_clear_pointer (&ids, g_array_unref);
  {
    /* The header menu: its labels keep the name's underscores. */
    GtkWidget *button = ponder_window_get_model_button (window);
    GtkPopover *popover;

    gtk_menu_button_popup (GTK_MENU_BUTTON (button));
    popover = gtk_menu_button_get_popover (GTK_MENU_BUTTON (button));
    g_assert_nonnull (popover);
    g_assert_nonnull (find_label_text (GTK_WIDGET (popover), "qwen2-tiny-Q8_0 (in use)"));
    g_assert_nonnull (find_label_text (GTK_WIDGET (popover), "qwen2-scripted-F16"));
    screenshot (GTK_WIDGET (popover), "models-02b-header-menu");
    gtk_menu_button_popdown (GTK_MENU_BUTTON (button));
  }

  activate (window, "win.show-models", NULL);
  dialog = ponder_window_get_models_dialog (window);
  g_assert_nonnull (dialog);
  g_assert_cmpuint (ponder_models_dialog_get_n_models (dialog), ==, 2);
  g_assert_cmpstr (row_title (dialog, 0), ==, "qwen2-tiny-Q8_0");
  g_assert_true (g_str_has_prefix (row_subtitle (dialog, 0), "qwen2 · "));
  g_assert_nonnull (strstr (row_subtitle (dialog, 0), "Q8_0"));
  g_assert_nonnull (strstr (row_subtitle (dialog, 0), "4 K context"));
  adw_expander_row_set_expanded (ADW_EXPANDER_ROW (ponder_models_dialog_get_row (dialog, 1)),
                                 TRUE);
  /* An opened row shows the memory plan at its context length, and follows
   * a change of it (stored for the model's next load). */
  g_assert_true (label_with_prefix (ponder_models_dialog_get_row (dialog, 1),
                                    "Needs ", "with a context of 4096 tokens"));
  screenshot (GTK_WIDGET (dialog), "models-02-two-models");
  {
    g_autoptr(GPtrArray) spins = g_ptr_array_new ();
    g_autoptr(PonderHistoryModel) stored = NULL;

    collect (ponder_models_dialog_get_row (dialog, 1), spins, GTK_TYPE_SPIN_BUTTON);
    g_assert_cmpuint (spins->len, ==, 1);
    gtk_spin_button_set_value (g_ptr_array_index (spins, 0), 2048);
    g_assert_true (label_with_prefix (ponder_models_dialog_get_row (dialog, 1),
                                      "Needs ", "with a context of 2048 tokens"));
    stored = ponder_history_get_model (history, a_id, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (stored->n_ctx, ==, 2048);
  }

  /* Switch back to the first through the header's action. */
  activate (window, "win.switch-model", g_variant_new_int64 (a_id));
  g_assert_true (wait_for (not_loading, window, WAIT_MS));
  g_assert_cmpint (ponder_window_get_model_id (window), ==, a_id);
  g_assert_true (ponder_window_get_model_loaded (window));
  g_assert_cmpuint (ponder_models_dialog_get_n_models (dialog), ==, 2);
  g_assert_cmpstr (row_title (dialog, 0), ==, "qwen2-scripted-F16");
  screenshot (GTK_WIDGET (window), "models-03-switched");

  /* Cancel: the load stops, the model in use stays. */
  activate (window, "win.switch-model", g_variant_new_int64 (b_id));
  g_assert_true (ponder_window_get_loading (window));
  activate (window, "win.cancel-load", NULL);
  g_assert_true (wait_for (not_loading, window, WAIT_MS));
  g_assert_cmpint (ponder_window_get_model_id (window), ==, a_id);
  g_assert_true (ponder_window_get_model_loaded (window));
  screenshot_after (GTK_WIDGET (window), "models-04-cancelled", 100);

  /* The loading page: progress bar, plan, Cancel (caught before the first
   * progress poll, so the bar may still be empty). */
  activate (window, "win.switch-model", g_variant_new_int64 (b_id));
  screenshot_after (GTK_WIDGET (window), "models-05-loading", 40);
  g_assert_true (wait_for (not_loading, window, WAIT_MS));
  g_assert_cmpint (ponder_window_get_model_id (window), ==, b_id);

  /* Remove the one not in use from its row: it leaves the menu and the
   * list at once, with an undo toast in the dialog; the store keeps it
   * until the toast goes, so Undo brings it back as it was. */
  {
    g_autoptr(PonderHistoryModel) before = ponder_history_get_model (history, a_id, &error);
    g_autoptr(PonderHistoryModel) after = NULL;
    GtkWidget *undo;

    g_assert_no_error (error);
    click_remove (dialog, a_id);
    ids = menu_ids (window);
    g_assert_cmpuint (ids->len, ==, 1);
    g_assert_cmpint (g_array_index (ids, gint64, 0), ==, b_id);
    g_clear_pointer (&ids, g_array_unref);
    g_assert_cmpuint (ponder_models_dialog_get_n_models (dialog), ==, 1);
    g_assert_cmpstr (row_title (dialog, 0), ==, "qwen2-tiny-Q8_0");
    g_assert_cmpuint (library_size (history), ==, 2);
    g_assert_nonnull (find_label_text (GTK_WIDGET (dialog),
                                       "“qwen2-scripted-F16” removed from the library"));
    screenshot (GTK_WIDGET (dialog), "models-05b-removed-undo");
    undo = find_button (GTK_WIDGET (dialog), NULL, "_Undo", NULL);
    g_assert_nonnull (undo);
    g_signal_emit_by_name (undo, "clicked");
    /* Until the toast has slid away (its button would be found again). */
    settle (600);
    g_assert_cmpuint (ponder_models_dialog_get_n_models (dialog), ==, 2);
    ids = menu_ids (window);
    g_assert_cmpuint (ids->len, ==, 2);
    g_clear_pointer (&ids, g_array_unref);
    after = ponder_history_get_model (history, a_id, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (after->n_ctx, ==, 2048);
    g_assert_cmpint (after->last_used_us, ==, before->last_used_us);
    g_assert_cmpstr (after->path, ==, scripted);

    /* Removed again, and the toast closed: now the store forgets it. (Not
     * while it still slides in: libadwaita 1.2 can crash on that.) */
    click_remove (dialog, a_id);
    settle (600);
    g_assert_cmpuint (ponder_models_dialog_get_n_models (dialog), ==, 1);
    g_assert_cmpuint (library_size (history), ==, 2);
    g_signal_emit_by_name (toast_close_button (GTK_WIDGET (dialog)), "clicked");
    settle (100);
    g_assert_cmpuint (library_size (history), ==, 1);
    ids = menu_ids (window);
    g_assert_cmpuint (ids->len, ==, 1);
    g_assert_cmpint (g_array_index (ids, gint64, 0), ==, b_id);
    g_clear_pointer (&ids, g_array_unref);
    g_assert_cmpuint (ponder_models_dialog_get_n_models (dialog), ==, 1);
  }

  /* A model whose file went away is listed as missing and refused in words. */
  copy = g_build_filename (tmp_dir, "copy.gguf", NULL);
  g_assert_true (g_file_get_contents (scripted, &contents, &length, NULL));
  g_assert_true (g_file_set_contents (copy, contents, length, NULL));
  load_and_wait (window, copy);
  c_id = ponder_window_get_model_id (window);
  activate (window, "win.switch-model", g_variant_new_int64 (b_id));
  g_assert_true (wait_for (not_loading, window, WAIT_MS));
  g_assert_cmpint (g_unlink (copy), ==, 0);
  activate (window, "win.show-models", NULL);
  g_assert_cmpuint (ponder_models_dialog_get_n_models (dialog), ==, 2);
  g_assert_true (g_str_has_prefix (row_subtitle (dialog, 1), "File not found: "));
  screenshot (GTK_WIDGET (dialog), "models-06-missing");
  activate (window, "win.switch-model", g_variant_new_int64 (c_id));
  g_assert_false (ponder_window_get_loading (window));
  message = find_message_dialog ();
  g_assert_nonnull (message);
  g_assert_cmpstr (adw_message_dialog_get_heading (message), ==, "Model File Missing");
  answer_dialog (message, "close");
  g_assert_cmpint (ponder_window_get_model_id (window), ==, b_id);
  gtk_window_destroy (GTK_WINDOW (dialog));
  settle (50);

  /* Will not fit: room for 1024 positions of the default 4096. The shorter
   * context is offered, taken, and remembered for the model. */
  {
    PonderModelPlan plan;
    PonderError perror = { 0 };
    g_autoptr(PonderHistoryModel) stored = NULL;
    guint64 per_pos;

    g_assert_cmpint (ponder_model_plan (scripted, NULL, &plan, &perror), ==, PONDER_OK);
    per_pos = plan.kv_bytes_per_token + 4;
    ponder_window_set_memory_limit (window, plan.weight_bytes + plan.scratch_bytes
                                            + 1100 * per_pos);
    load_and_wait (window, scripted);
    g_assert_cmpint (ponder_window_get_model_id (window), ==, b_id);
    message = find_message_dialog ();
    g_assert_nonnull (message);
    g_assert_nonnull (strstr (adw_message_dialog_get_heading (message), "Will Not Fit"));
    g_assert_true (adw_message_dialog_has_response (message, "shorter"));
    screenshot (GTK_WIDGET (message), "models-07-wont-fit");
    answer_dialog (message, "shorter");
    g_assert_true (wait_for (not_loading, window, WAIT_MS));
    g_assert_true (ponder_window_get_model_loaded (window));
    stored = ponder_history_find_model (history, scripted, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (stored->n_ctx, ==, 1024);
    g_assert_cmpint (ponder_window_get_model_id (window), ==, stored->id);

    /* Not even the weights fit: only Load Anyway, which loads. */
    ponder_window_set_memory_limit (window, 64 * 1024);
    load_and_wait (window, second);
    message = find_message_dialog ();
    g_assert_nonnull (message);
    g_assert_false (adw_message_dialog_has_response (message, "shorter"));
    screenshot (GTK_WIDGET (message), "models-08-wont-fit-at-all");
    answer_dialog (message, "anyway");
    g_assert_true (wait_for (not_loading, window, WAIT_MS));
    g_assert_cmpint (ponder_window_get_model_id (window), ==, b_id);
    ponder_window_set_memory_limit (window, 0);
  }

  /* A file that is not a model: an error a user can act on, nothing imported. */
  junk = g_build_filename (tmp_dir, "notes.gguf", NULL);
  g_assert_true (g_file_set_contents (junk, "these are my notes, not a model", -1, NULL));
  load_and_wait (window, junk);
  message = find_message_dialog ();
  g_assert_nonnull (message);
  g_assert_nonnull (strstr (adw_message_dialog_get_body (message), "damaged"));
  g_assert_nonnull (strstr (adw_message_dialog_get_body (message), "notes.gguf"));
  screenshot (GTK_WIDGET (message), "models-09-not-a-model");
  answer_dialog (message, "close");
  g_assert_cmpint (ponder_window_get_model_id (window), ==, b_id);
  models = library (history);
  g_assert_cmpuint (models->len, ==, 3);

  gtk_window_destroy (GTK_WINDOW (window));
  settle (50);
}

static char *
copy_model (const char *name)
{
  g_autofree char *contents = NULL;
  char *path = g_build_filename (tmp_dir, name, NULL);
  gsize length;

  g_assert_true (g_file_get_contents (g_getenv ("PONDER_SCRIPTED_MODEL"), &contents, &length,
                                      NULL));
  g_assert_true (g_file_set_contents (path, contents, length, NULL));
  return path;
}

static gint64
library_id (PonderHistory *history,
            const char    *path)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PonderHistoryModel) model = ponder_history_find_model (history, path, &error);

  g_assert_no_error (error);
  g_assert_nonnull (model);
  return model->id;
}

/* The tests of this file share one store: start from an empty library. */
static void
clear_library (PonderHistory *history)
{
  g_autoptr(GPtrArray) models = library (history);
  g_autoptr(GError) error = NULL;

  for (guint i = 0; i < models->len; i++)
    {
      ponder_history_remove_model (history,
                                   ((PonderHistoryModel *) g_ptr_array_index (models, i))->id,
                                   &error);
      g_assert_no_error (error);
    }
}

/* A window as at start-up, once its first load (if any) is over. */
static PonderWindow *
start_window (PonderApplication *app)
{
  PonderWindow *window = new_window (app, ponder_application_get_history (app));

  g_assert_true (wait_for (not_loading, window, WAIT_MS));
  return window;
}

static void
close_window (PonderWindow *window)
{
  gtk_window_destroy (GTK_WINDOW (window));
  settle (100);
}

/* The model in use can be removed: it stays loaded and answers; once the
 * removal is final it is no longer remembered, and the next start opens
 * nothing, without an error. */
static void
test_remove_in_use (void)
{
  g_autoptr(PonderApplication) app = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;
  g_autofree char *remembered = NULL;
  PonderHistory *history;
  PonderWindow *window;
  PonderModelsDialog *dialog;
  gint64 id;

  if (g_getenv ("PONDER_SCRIPTED_MODEL") == NULL)
    {
      g_test_skip ("PONDER_SCRIPTED_MODEL is not set (run through run-ui-test.sh)");
      return;
    }
  path = copy_model ("in-use.gguf");
  ponder_settings_set_model_path ("");
  app = ponder_application_new (G_APPLICATION_NON_UNIQUE);
  g_application_register (G_APPLICATION (app), NULL, &error);
  g_assert_no_error (error);
  history = ponder_application_get_history (app);
  clear_library (history);
  window = start_window (app);
  load_and_wait (window, path);
  id = library_id (history, path);
  g_assert_cmpint (ponder_window_get_model_id (window), ==, id);

  /* The dialog closed at once, its toast with it: the removal is final
   * (this used to crash while the toast was sliding in). */
  activate (window, "win.show-models", NULL);
  dialog = ponder_window_get_models_dialog (window);
  click_remove (dialog, id);
  gtk_window_destroy (GTK_WINDOW (dialog));
  settle (400);
  g_assert_cmpuint (library_size (history), ==, 0);
  g_assert_true (ponder_window_get_model_loaded (window));

  /* Imported again, removed again, this time with the toast kept up. */
  load_and_wait (window, path);
  id = library_id (history, path);
  activate (window, "win.show-models", NULL);
  dialog = ponder_window_get_models_dialog (window);
  click_remove (dialog, id);
  g_assert_cmpuint (ponder_models_dialog_get_n_models (dialog), ==, 0);
  g_assert_nonnull (find_label_text (GTK_WIDGET (dialog),
                                     "“qwen2-scripted-F16” removed (still loaded)"));
  screenshot (GTK_WIDGET (dialog), "models-10-removed-in-use");
  g_assert_true (ponder_window_get_model_loaded (window));
  send (window, "Hello");
  g_assert_cmpuint (n_children (ponder_window_get_transcript (window)), ==, 2);

  /* Closing the window with the toast up makes the removal final. */
  close_window (window);
  g_assert_cmpuint (library_size (history), ==, 0);
  remembered = ponder_settings_dup_model_path ();
  g_assert_true (remembered == NULL || remembered[0] == '\0');

  window = start_window (app);
  g_assert_false (ponder_window_get_model_loaded (window));
  g_assert_null (find_message_dialog ());
  close_window (window);
}

/* A start opens the library's most recently used model whose file is
 * there, then the one the settings remember, then none, quietly. */
static void
test_startup_model (void)
{
  g_autoptr(PonderApplication) app = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *first = NULL;
  g_autofree char *second = NULL;
  g_autofree char *third = NULL;
  PonderHistory *history;
  PonderWindow *window;
  gint64 first_id;
  gint64 second_id;

  if (g_getenv ("PONDER_SCRIPTED_MODEL") == NULL)
    {
      g_test_skip ("PONDER_SCRIPTED_MODEL is not set (run through run-ui-test.sh)");
      return;
    }
  first = copy_model ("start-first.gguf");
  second = copy_model ("start-second.gguf");
  third = copy_model ("start-third.gguf");
  ponder_settings_set_model_path ("");
  app = ponder_application_new (G_APPLICATION_NON_UNIQUE);
  g_application_register (G_APPLICATION (app), NULL, &error);
  g_assert_no_error (error);
  history = ponder_application_get_history (app);
  clear_library (history);

  /* Nothing known: nothing opened. */
  window = start_window (app);
  g_assert_cmpint (ponder_window_get_model_id (window), ==, 0);
  g_assert_false (ponder_window_get_model_loaded (window));
  load_and_wait (window, first);
  load_and_wait (window, second);
  first_id = library_id (history, first);
  second_id = library_id (history, second);
  close_window (window);

  /* The settings name the first; the library used the second last. */
  ponder_settings_set_model_path (first);
  window = start_window (app);
  g_assert_true (ponder_window_get_model_loaded (window));
  g_assert_cmpint (ponder_window_get_model_id (window), ==, second_id);
  close_window (window);

  /* Its file gone: the most recent one still there. */
  g_assert_cmpint (g_unlink (second), ==, 0);
  window = start_window (app);
  g_assert_cmpint (ponder_window_get_model_id (window), ==, first_id);
  close_window (window);

  /* None left in the library: the file the settings name. */
  g_assert_cmpint (g_unlink (first), ==, 0);
  ponder_settings_set_model_path (third);
  window = start_window (app);
  g_assert_true (ponder_window_get_model_loaded (window));
  g_assert_cmpint (ponder_window_get_model_id (window), ==, library_id (history, third));
  close_window (window);

  /* That gone too: the empty state, no error dialog. */
  g_assert_cmpint (g_unlink (third), ==, 0);
  window = new_window (app, history);
  g_assert_false (ponder_window_get_loading (window));
  settle (200);
  g_assert_false (ponder_window_get_model_loaded (window));
  g_assert_cmpint (ponder_window_get_model_id (window), ==, 0);
  g_assert_null (find_message_dialog ());
  g_assert_nonnull (find_label_text (GTK_WIDGET (window), "No Model Loaded"));
  screenshot (GTK_WIDGET (window), "models-11-start-file-gone");
  close_window (window);
}

/* The loader itself: a cancel reaches the engine, which stops reading. */
static void
test_load_cancel (void)
{
  const char *scripted = g_getenv ("PONDER_SCRIPTED_MODEL");
  g_autoptr(PonderModelLoad) load = NULL;
  PonderModel *model;
  PonderSession *session;
  double fraction = -1.0;

  if (scripted == NULL)
    {
      g_test_skip ("PONDER_SCRIPTED_MODEL is not set (run through run-ui-test.sh)");
      return;
    }
  load = ponder_model_load_start (scripted, 0, TRUE, 0, NULL);
  ponder_model_load_cancel (load);
  while (ponder_model_load_poll (load, &fraction) == PONDER_MODEL_LOAD_RUNNING)
    g_usleep (1000);
  g_assert_cmpint (ponder_model_load_poll (load, NULL), ==, PONDER_MODEL_LOAD_CANCELLED);
  g_assert_true (ponder_model_load_get_engine_stopped (load));
  g_assert_null (ponder_model_load_steal_model (load));
  g_clear_pointer (&load, ponder_model_load_free);

  load = ponder_model_load_start (scripted, 512, TRUE, 0, NULL);
  while (ponder_model_load_poll (load, &fraction) == PONDER_MODEL_LOAD_RUNNING)
    g_usleep (1000);
  g_assert_cmpint (ponder_model_load_poll (load, NULL), ==, PONDER_MODEL_LOAD_DONE);
  g_assert_cmpfloat (fraction, ==, 1.0);
  g_assert_cmpuint (ponder_model_load_get_plan (load)->n_ctx, ==, 512);
  model = ponder_model_load_steal_model (load);
  session = ponder_model_load_steal_session (load);
  g_assert_nonnull (model);
  g_assert_cmpuint (ponder_session_n_ctx (session), ==, 512);
  ponder_session_free (session);
  ponder_model_free (model);
}

/* Engine failures become the app's errors with the file named. */
static void
test_error_words (void)
{
  g_autofree char *missing = g_build_filename (tmp_dir, "gone.gguf", NULL);
  PonderModelPlan plan;
  PonderError perror = { 0 };
  PonderStatus status;
  g_autoptr(GError) error = NULL;

  status = ponder_model_plan (missing, NULL, &plan, &perror);
  g_assert_cmpint (status, ==, PONDER_ERROR_IO);
  error = ponder_model_error_from_engine (status, perror.message, missing);
  g_assert_error (error, PONDER_MODEL_ERROR, PONDER_MODEL_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, "gone.gguf"));
  g_clear_error (&error);
  error = ponder_model_error_from_engine (PONDER_ERROR_NO_MEMORY, "x", missing);
  g_assert_error (error, PONDER_MODEL_ERROR, PONDER_MODEL_ERROR_NO_MEMORY);
  g_assert_nonnull (strstr (error->message, "shorter context"));
}

/* Manual check with a large model (PONDER_BIG_MODEL): the loading page
 * with its plan and progress, then Cancel. Skipped in CI. */
static void
test_big_model (void)
{
  const char *path = g_getenv ("PONDER_BIG_MODEL");
  g_autoptr(PonderApplication) app = NULL;
  g_autoptr(GError) error = NULL;
  PonderWindow *window;

  if (path == NULL)
    {
      g_test_skip ("PONDER_BIG_MODEL is not set");
      return;
    }
  app = ponder_application_new (G_APPLICATION_NON_UNIQUE);
  g_application_register (G_APPLICATION (app), NULL, &error);
  g_assert_no_error (error);
  window = new_window (app, ponder_application_get_history (app));
  ponder_window_load_model (window, path);
  screenshot_after (GTK_WIDGET (window), "models-20-loading-big", 150);
  activate (window, "win.cancel-load", NULL);
  g_assert_true (wait_for (not_loading, window, WAIT_MS));
  screenshot_after (GTK_WIDGET (window), "models-21-big-cancelled", 100);
  gtk_window_destroy (GTK_WINDOW (window));
  settle (50);
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GError) error = NULL;
  int rc;

  gtk_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
  adw_init ();
  ponder_register_resources ();
  tmp_dir = g_dir_make_tmp ("ponder-models-XXXXXX", &error);
  g_assert_no_error (error);

  g_test_add_func ("/ponder/models/error-words", test_error_words);
  g_test_add_func ("/ponder/models/load-cancel", test_load_cancel);
  g_test_add_func ("/ponder/models/library", test_library);
  g_test_add_func ("/ponder/models/big-model", test_big_model);
  g_test_add_func ("/ponder/models/remove-in-use", test_remove_in_use);
  g_test_add_func ("/ponder/models/startup-model", test_startup_model);

  rc = g_test_run ();
  {
    const char *name;
    GDir *dir = g_dir_open (tmp_dir, 0, NULL);

    while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
      {
        g_autofree char *path = g_build_filename (tmp_dir, name, NULL);
        g_unlink (path);
      }
    if (dir != NULL)
      g_dir_close (dir);
    g_rmdir (tmp_dir);
  }
  return rc;
}
