/* ponder-window-models.c — the window's model part: library, loading, plan
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Opening a GGUF file imports it into the library (the history store's
 * models table) and loads it. A load runs on its own thread
 * (PonderModelLoad); a 100 ms timer moves the progress bar and picks up the
 * memory plan, which the worker makes from the metadata before it reads any
 * weight. A plan that does not fit stops the load and asks: load anyway, a
 * shorter context that fits, or cancel. The model in use stays loaded until
 * the new one is ready, so a cancelled or failed load changes nothing.
 */

#define G_LOG_DOMAIN "ponder-window"

#include <glib/gi18n.h>

#include "ponder-model-load.h"
#include "ponder-models-dialog.h"
#include "ponder-window-models.h"
#include "ponder-window-private.h"

#define LOAD_POLL_MS 100

static void start_load (PonderWindow *self,
                        const char   *path,
                        guint         n_ctx,
                        gboolean      check_fit);

/* ---- the library ---------------------------------------------------------- */

static void
update_model_button (PonderWindow *self)
{
  GtkLabel *label = g_object_get_data (G_OBJECT (self->model_button), "label");

  gtk_label_set_text (label, self->model_name != NULL ? self->model_name : _("No Model"));
}

/* Rebuilds the header's model menu and the models dialog from the store. */
void
_ponder_window_models_refresh (PonderWindow *self)
{
  g_autoptr(GPtrArray) models = NULL;
  g_autoptr(GError) error = NULL;

  if (self->history == NULL || self->pending_model_removals == NULL)
    return;
  models = ponder_history_list_models (self->history, &error);
  if (models == NULL)
    _ponder_window_report_error (self, _("Could not read the model library"), error);
  for (guint i = models != NULL ? models->len : 0; i > 0; i--)
    {
      const PonderHistoryModel *model = g_ptr_array_index (models, i - 1);

      if (g_hash_table_contains (self->pending_model_removals, &model->id))
        g_ptr_array_remove_index (models, i - 1);
    }

  g_menu_remove_all (self->models_list);
  for (guint i = 0; models != NULL && i < models->len; i++)
    {
      const PonderHistoryModel *model = g_ptr_array_index (models, i);
      g_autoptr(GMenuItem) item = NULL;
      g_auto(GStrv) parts = g_strsplit (model->name, "_", -1);
      /* Menus read "_" as a mnemonic; "__" is a plain underscore
       * ("Q4_K_M" must not lose its underscores). */
      g_autofree char *name = g_strjoinv ("__", parts);
      g_autofree char *label = NULL;

      if (ponder_model_get_file_missing (model))
        /* TRANSLATORS: a model in the header menu whose file is gone */
        label = g_strdup_printf (_("%s (file missing)"), name);
      else if (model->id == self->model_id)
        /* TRANSLATORS: the model in use, in the header menu */
        label = g_strdup_printf (_("%s (in use)"), name);
      else
        label = g_strdup (name);
      item = g_menu_item_new (label, NULL);
      g_menu_item_set_action_and_target_value (item, "win.switch-model",
                                               g_variant_new_int64 (model->id));
      g_menu_append_item (self->models_list, item);
    }

  if (self->models_dialog != NULL)
    ponder_models_dialog_set_models (self->models_dialog, models, self->model_id,
                                     self->session != NULL ? self->running_text : NULL);
  update_model_button (self);
}

static void
import_plan (PonderWindow          *self,
             const char            *path,
             const PonderModelPlan *plan)
{
  g_autoptr(PonderHistoryModel) model = ponder_history_model_new (path);
  g_autoptr(GError) error = NULL;

  g_free (model->name);
  model->name = g_strdup (plan->name);
  g_free (model->architecture);
  model->architecture = g_strdup (plan->architecture);
  g_free (model->file_type);
  model->file_type = g_strdup (plan->file_type);
  model->n_params = plan->n_params;
  model->file_size_bytes = plan->file_size_bytes;
  model->n_ctx_train = plan->n_ctx_train;
  self->loading_model_id = ponder_history_add_model (self->history, model, &error);
  if (self->loading_model_id == 0)
    _ponder_window_report_error (self, _("Could not remember the model"), error);
  /* Imported again while its removal could still be undone: it stays. */
  g_hash_table_remove (self->pending_model_removals, &self->loading_model_id);
  _ponder_window_models_refresh (self);
}

/* ---- loading -------------------------------------------------------------- */

static void
show_error (PonderWindow *self,
            const char   *heading,
            const char   *body)
{
  GtkWidget *dialog = adw_message_dialog_new (GTK_WINDOW (self), heading, body);

  adw_message_dialog_add_response (ADW_MESSAGE_DIALOG (dialog), "close", _("_Close"));
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
leave_loading (PonderWindow *self)
{
  self->loading = FALSE;
  g_clear_handle_id (&self->load_poll_id, g_source_remove);
  g_clear_pointer (&self->model_load, ponder_model_load_free);
  gtk_stack_set_visible_child_name (self->main_stack, self->session != NULL ? "chat" : "no-model");
  _ponder_window_models_refresh (self);
  _ponder_window_update_actions (self);
}

static void
on_wont_fit_response (PonderWindow     *self,
                      const char       *response,
                      AdwMessageDialog *dialog)
{
  const char *path = g_object_get_data (G_OBJECT (dialog), "path");
  guint fit_ctx = GPOINTER_TO_UINT (g_object_get_data (G_OBJECT (dialog), "fit-ctx"));
  guint n_ctx = GPOINTER_TO_UINT (g_object_get_data (G_OBJECT (dialog), "n-ctx"));
  gint64 model_id = self->loading_model_id;

  if (g_strcmp0 (response, "anyway") == 0)
    start_load (self, path, n_ctx, FALSE);
  else if (g_strcmp0 (response, "shorter") == 0)
    {
      if (model_id != 0)
        ponder_history_set_model_context (self->history, model_id, fit_ctx, NULL);
      start_load (self, path, fit_ctx, TRUE);
    }
}

static void
ask_wont_fit (PonderWindow          *self,
              const char            *path,
              const PonderModelPlan *plan)
{
  g_autofree char *needs = ponder_model_format_plan (plan);
  g_autofree char *body = NULL;
  g_autofree char *heading = g_strdup_printf (_("“%s” Will Not Fit in Memory"), plan->name);
  g_autofree char *shorter = NULL;
  GtkWidget *dialog;

  body = g_strdup_printf (_("%s\n\nLoading it anyway can make the whole computer very slow "
                            "while it swaps, or fail part-way."), needs);
  dialog = adw_message_dialog_new (GTK_WINDOW (self), heading, body);
  adw_message_dialog_add_response (ADW_MESSAGE_DIALOG (dialog), "cancel", _("_Cancel"));
  if (plan->max_fit_ctx >= 256 && plan->max_fit_ctx < plan->n_ctx)
    {
      shorter = g_strdup_printf (_("Use %u Tokens of Context"), plan->max_fit_ctx);
      adw_message_dialog_add_response (ADW_MESSAGE_DIALOG (dialog), "shorter", shorter);
      adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "shorter",
                                                  ADW_RESPONSE_SUGGESTED);
      adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), "shorter");
    }
  else
    adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  adw_message_dialog_add_response (ADW_MESSAGE_DIALOG (dialog), "anyway", _("Load _Anyway"));
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "anyway",
                                              ADW_RESPONSE_DESTRUCTIVE);
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  g_object_set_data_full (G_OBJECT (dialog), "path", g_strdup (path), g_free);
  g_object_set_data (G_OBJECT (dialog), "fit-ctx", GUINT_TO_POINTER (plan->max_fit_ctx));
  g_object_set_data (G_OBJECT (dialog), "n-ctx", GUINT_TO_POINTER (plan->n_ctx));
  g_signal_connect_object (dialog, "response", G_CALLBACK (on_wont_fit_response), self,
                           G_CONNECT_SWAPPED);
  gtk_window_present (GTK_WINDOW (dialog));
}

/* The menu's last section, and the button's tooltip: where the model runs.
 * The section goes while no model runs (an empty one leaves a separator);
 * the popover makes a new slot for the label each time it comes back. */
static void
update_running (PonderWindow *self)
{
  gboolean shown = self->running_text != NULL && self->session != NULL;
  gboolean present = g_menu_model_get_n_items (G_MENU_MODEL (self->models_menu)) == 3;
  GtkPopoverMenu *popover;

  gtk_label_set_text (GTK_LABEL (self->running_label), shown ? self->running_text : "");
  gtk_widget_set_visible (self->running_label, shown);
  gtk_widget_set_tooltip_text (self->model_button, shown ? self->running_text : NULL);
  if (shown && !present)
    {
      g_menu_append_section (self->models_menu, NULL, G_MENU_MODEL (self->running_section));
      popover = GTK_POPOVER_MENU (gtk_menu_button_get_popover (
                                    GTK_MENU_BUTTON (self->model_button)));
      if (gtk_widget_get_parent (self->running_label) == NULL)
        gtk_popover_menu_add_child (popover, self->running_label, "running");
    }
  else if (!shown && present)
    g_menu_remove (self->models_menu, 2);
}

static void
take_loaded_model (PonderWindow    *self,
                   PonderModelLoad *load)
{
  PonderModelInfo info;
  const char *missing = ponder_model_load_get_missing_device (load);

  g_clear_pointer (&self->session, ponder_session_free);
  g_clear_pointer (&self->model, ponder_model_free);
  self->model = ponder_model_load_steal_model (load);
  self->session = ponder_model_load_steal_session (load);
  ponder_model_get_info (self->model, &info);
  g_free (self->model_name);
  self->model_name = g_strdup (info.name);
  self->model_id = self->loading_model_id;
  if (self->model_id != 0)
    ponder_history_touch_model (self->history, self->model_id, NULL);
  ponder_settings_set_model_path (ponder_model_load_get_path (load));

  g_free (self->model_path);
  self->model_path = g_strdup (ponder_model_load_get_path (load));
  g_free (self->running_text);
  self->running_text = ponder_model_load_describe_device (load, self->model);
  update_running (self);
  if (missing != NULL)
    {
      /* A toast's title is markup; the name comes from the driver. */
      g_autofree char *name = g_markup_escape_text (missing, -1);
      g_autofree char *text = g_strdup_printf (_("“%s” was not found: the model runs where "
                                                 "Ponder chose"), name);

      _ponder_window_toast (self, text);
    }
}

static gboolean
poll_load (gpointer user_data)
{
  PonderWindow *self = PONDER_WINDOW (user_data);
  PonderModelLoad *load = self->model_load;
  const PonderModelPlan *plan = ponder_model_load_get_plan (load);
  g_autofree char *path = g_strdup (ponder_model_load_get_path (load));
  PonderModelLoadState state;
  double fraction = 0.0;

  state = ponder_model_load_poll (load, &fraction);
  /* Before the weights are read (the metadata and the vocabulary), the
   * engine reports nothing: show that work goes on. */
  if (fraction > 0.0)
    gtk_progress_bar_set_fraction (self->load_progress, fraction);
  else
    gtk_progress_bar_pulse (self->load_progress);
  if (plan != NULL && !self->load_planned)
    {
      g_autofree char *text = ponder_model_format_plan (plan);
      g_autofree char *title = g_strdup_printf (_("Loading “%s”…"), plan->name);

      self->load_planned = TRUE;
      adw_status_page_set_title (self->loading_page, title);
      gtk_label_set_text (self->load_plan_label, text);
      import_plan (self, path, plan);
    }
  if (state == PONDER_MODEL_LOAD_RUNNING)
    return G_SOURCE_CONTINUE;

  self->load_poll_id = 0;
  if (state == PONDER_MODEL_LOAD_DONE)
    {
      take_loaded_model (self, load);
      leave_loading (self);
      _ponder_window_update_title (self);
      gtk_widget_grab_focus (GTK_WIDGET (self->composer));
    }
  else if (state == PONDER_MODEL_LOAD_CANCELLED)
    {
      leave_loading (self);
      _ponder_window_toast (self, _("Loading cancelled"));
    }
  else
    {
      const GError *error = ponder_model_load_get_error (load);

      if (g_error_matches (error, PONDER_MODEL_ERROR, PONDER_MODEL_ERROR_WONT_FIT)
          && plan != NULL)
        {
          PonderModelPlan copy = *plan;

          leave_loading (self);
          ask_wont_fit (self, path, &copy);
        }
      else
        {
          g_autofree char *message = g_strdup (error != NULL ? error->message : "");

          leave_loading (self);
          show_error (self, _("Could Not Load the Model"), message);
        }
    }
  return G_SOURCE_REMOVE;
}

static void
start_load (PonderWindow *self,
            const char   *path,
            guint         n_ctx,
            gboolean      check_fit)
{
  g_autofree char *base = g_path_get_basename (path);
  g_autofree char *title = g_strdup_printf (_("Loading “%s”…"), base);
  g_autofree char *device = ponder_settings_dup_device ();

  /* The newest choice wins: a load still running is cancelled. */
  g_clear_handle_id (&self->load_poll_id, g_source_remove);
  g_clear_pointer (&self->model_load, ponder_model_load_free);

  self->loading = TRUE;
  self->load_planned = FALSE;
  self->loading_model_id = 0;
  adw_status_page_set_title (self->loading_page, title);
  gtk_label_set_text (self->load_plan_label, _("Reading the model’s description…"));
  gtk_progress_bar_set_fraction (self->load_progress, 0.0);
  gtk_stack_set_visible_child_name (self->main_stack, "loading");

  self->model_load = ponder_model_load_start (path, n_ctx, check_fit, self->memory_limit,
                                              device);
  self->load_poll_id = g_timeout_add (LOAD_POLL_MS, poll_load, self);
  _ponder_window_update_actions (self);
}

/**
 * ponder_window_load_model:
 *
 * Imports @path into the library and loads it off the main thread, with the
 * context length chosen for it. A load that will not fit asks first.
 */
void
ponder_window_load_model (PonderWindow *self,
                          const char   *path)
{
  g_autoptr(PonderHistoryModel) known = NULL;

  g_return_if_fail (PONDER_IS_WINDOW (self));
  g_return_if_fail (path != NULL);

  if (_ponder_window_is_busy (self))
    {
      _ponder_window_toast (self, _("Stop the answer before changing the model"));
      return;
    }
  if (self->history != NULL)
    known = ponder_history_find_model (self->history, path, NULL);
  start_load (self, path, known != NULL ? known->n_ctx : 0, TRUE);
}

/**
 * _ponder_window_dup_startup_model:
 *
 * The model to open at start-up: the library's most recently used model
 * whose file is still there, else the file the settings remember (from
 * before the library, or never imported) if it is still there.
 *
 * Returns: (transfer full) (nullable): its path; %NULL to start with none
 */
char *
_ponder_window_dup_startup_model (PonderWindow *self)
{
  g_autoptr(GPtrArray) models = ponder_history_list_models (self->history, NULL);
  g_autofree char *remembered = NULL;

  /* Most recently used first; never loaded (a failed import) at the end. */
  for (guint i = 0; models != NULL && i < models->len; i++)
    {
      const PonderHistoryModel *model = g_ptr_array_index (models, i);

      if (model->last_used_us > 0 && !ponder_model_get_file_missing (model))
        return g_strdup (model->path);
    }
  remembered = ponder_settings_dup_model_path ();
  if (remembered != NULL && g_file_test (remembered, G_FILE_TEST_IS_REGULAR))
    return g_steal_pointer (&remembered);
  return NULL;
}

/* ---- actions -------------------------------------------------------------- */

static void
switch_model_action (GtkWidget  *widget,
                     const char *action_name,
                     GVariant   *parameter)
{
  PonderWindow *self = PONDER_WINDOW (widget);
  g_autoptr(PonderHistoryModel) model = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;

  model = ponder_history_get_model (self->history, g_variant_get_int64 (parameter), &error);
  if (model == NULL)
    {
      _ponder_window_report_error (self, _("Could not switch the model"), error);
      return;
    }
  if (model->id == self->model_id && self->session != NULL)
    return;
  if (ponder_model_get_file_missing (model))
    {
      text = g_strdup_printf (_("The file of “%s” is missing (%s). Import it again from where "
                                "it is now, or remove it from the library."),
                              model->name, model->path);
      show_error (self, _("Model File Missing"), text);
      return;
    }
  ponder_window_load_model (self, model->path);
}

/* The removal becomes final: the library forgets the model. The loaded
 * model stays usable; it is only no longer remembered, and no longer
 * opened at the next start. */
static void
purge_model (PonderWindow *self,
             gint64        id)
{
  g_autoptr(PonderHistoryModel) model = NULL;
  g_autofree char *remembered = NULL;
  g_autoptr(GError) error = NULL;

  if (!g_hash_table_remove (self->pending_model_removals, &id))
    return;
  model = ponder_history_get_model (self->history, id, NULL);
  if (!ponder_history_remove_model (self->history, id, &error)
      && !g_error_matches (error, PONDER_HISTORY_ERROR, PONDER_HISTORY_ERROR_NOT_FOUND))
    {
      _ponder_window_report_error (self, _("Could not remove the model"), error);
      return;
    }
  if (id == self->model_id)
    self->model_id = 0;
  if (id == self->loading_model_id)
    self->loading_model_id = 0;
  remembered = ponder_settings_dup_model_path ();
  if (model != NULL && g_strcmp0 (remembered, model->path) == 0)
    ponder_settings_set_model_path ("");
}

static void
on_remove_undone (AdwToast     *toast,
                  PonderWindow *self)
{
  gint64 *id = g_object_get_data (G_OBJECT (toast), "model-id");

  if (self->disposed)
    return;
  g_hash_table_remove (self->pending_model_removals, id);
  _ponder_window_models_refresh (self);
}

static void
on_remove_toast_dismissed (AdwToast     *toast,
                           PonderWindow *self)
{
  gint64 *id = g_object_get_data (G_OBJECT (toast), "model-id");

  /* At dispose the window purges what is left itself. No refresh: the
   * lists already leave the model out, and rebuilding the dialog from
   * here, while it closes with the toast still sliding in, crashed. */
  if (!self->disposed)
    purge_model (self, *id);
}

/* The model leaves the lists at once, and the library when its undo toast
 * goes; the toast shows in the models dialog when that is where the
 * removal was asked for. */
static void
remove_model_action (GtkWidget  *widget,
                     const char *action_name,
                     GVariant   *parameter)
{
  PonderWindow *self = PONDER_WINDOW (widget);
  gint64 id = g_variant_get_int64 (parameter);
  g_autoptr(PonderHistoryModel) model = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *name = NULL;
  g_autofree char *text = NULL;
  AdwToast *toast;

  model = ponder_history_get_model (self->history, id, &error);
  if (model == NULL)
    {
      _ponder_window_report_error (self, _("Could not remove the model"), error);
      return;
    }
  /* A toast's title is markup; the name comes from the file. */
  name = g_markup_escape_text (model->name[0] != '\0' ? model->name : model->path, -1);
  if (self->loading && id == self->loading_model_id)
    {
      text = g_strdup_printf (_("“%s” is loading: cancel the load before removing it"), name);
      toast = adw_toast_new (text);
    }
  else
    {
      if (!g_hash_table_add (self->pending_model_removals, g_memdup2 (&id, sizeof id)))
        return;
      if (id == self->model_id && self->session != NULL)
        text = g_strdup_printf (_("“%s” removed (still loaded)"), name);
      else
        text = g_strdup_printf (_("“%s” removed from the library"), name);
      toast = adw_toast_new (text);
      adw_toast_set_button_label (toast, _("_Undo"));
      g_object_set_data_full (G_OBJECT (toast), "model-id", g_memdup2 (&id, sizeof id),
                              g_free);
      g_signal_connect_object (toast, "button-clicked", G_CALLBACK (on_remove_undone), self, 0);
      g_signal_connect_object (toast, "dismissed", G_CALLBACK (on_remove_toast_dismissed),
                               self, 0);
      _ponder_window_models_refresh (self);
    }
  if (self->models_dialog != NULL && gtk_widget_get_visible (GTK_WIDGET (self->models_dialog)))
    adw_preferences_window_add_toast (ADW_PREFERENCES_WINDOW (self->models_dialog), toast);
  else
    adw_toast_overlay_add_toast (self->toast_overlay, toast);
}

static void
set_model_context_action (GtkWidget  *widget,
                          const char *action_name,
                          GVariant   *parameter)
{
  PonderWindow *self = PONDER_WINDOW (widget);
  g_autoptr(GError) error = NULL;
  gint64 id;
  guint32 n_ctx;

  g_variant_get (parameter, "(xu)", &id, &n_ctx);
  if (!ponder_history_set_model_context (self->history, id, n_ctx, &error))
    _ponder_window_report_error (self, _("Could not change the context length"), error);
}

static void
show_models_action (GtkWidget  *widget,
                    const char *action_name,
                    GVariant   *parameter)
{
  PonderWindow *self = PONDER_WINDOW (widget);

  if (self->models_dialog == NULL)
    {
      PonderModelsDialog *dialog = ponder_models_dialog_new (GTK_WINDOW (self));

      g_set_weak_pointer (&self->models_dialog, dialog);
    }
  /* Files may have moved since the list was drawn. */
  _ponder_window_models_refresh (self);
  gtk_window_present (GTK_WINDOW (self->models_dialog));
}

/* The same file again, placed by the device setting as it is now. */
static void
reload_model_action (GtkWidget  *widget,
                     const char *action_name,
                     GVariant   *parameter)
{
  PonderWindow *self = PONDER_WINDOW (widget);
  g_autofree char *path = g_strdup (self->model_path);

  if (path != NULL && self->session != NULL)
    ponder_window_load_model (self, path);
}

static void
cancel_load_action (GtkWidget  *widget,
                    const char *action_name,
                    GVariant   *parameter)
{
  PonderWindow *self = PONDER_WINDOW (widget);

  if (self->model_load != NULL)
    ponder_model_load_cancel (self->model_load);
}

/* ---- window glue ---------------------------------------------------------- */

void
_ponder_window_update_model_actions (PonderWindow *self)
{
  gboolean busy = _ponder_window_is_busy (self);

  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.switch-model", !busy);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.cancel-load", self->model_load != NULL);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.reload-model",
                                 !busy && !self->loading && self->session != NULL);
  gtk_widget_set_sensitive (self->model_button, !busy && !self->loading);
}

void
_ponder_window_class_models_init (GtkWidgetClass *widget_class)
{
  gtk_widget_class_install_action (widget_class, "win.switch-model", "x", switch_model_action);
  gtk_widget_class_install_action (widget_class, "win.remove-model", "x", remove_model_action);
  gtk_widget_class_install_action (widget_class, "win.set-model-context", "(xu)",
                                   set_model_context_action);
  gtk_widget_class_install_action (widget_class, "win.show-models", NULL, show_models_action);
  gtk_widget_class_install_action (widget_class, "win.cancel-load", NULL, cancel_load_action);
  gtk_widget_class_install_action (widget_class, "win.reload-model", NULL, reload_model_action);

  gtk_widget_class_bind_template_child (widget_class, PonderWindow, model_button);
  gtk_widget_class_bind_template_child (widget_class, PonderWindow, loading_page);
  gtk_widget_class_bind_template_child (widget_class, PonderWindow, load_progress);
  gtk_widget_class_bind_template_child (widget_class, PonderWindow, load_plan_label);
}

/* Coming back to the window (from a file manager, say) re-checks which
 * model files are still there. */
static void
on_active_changed (PonderWindow *self,
                   GParamSpec   *pspec,
                   gpointer      user_data)
{
  if (gtk_window_is_active (GTK_WINDOW (self)))
    _ponder_window_models_refresh (self);
}

void
_ponder_window_models_init (PonderWindow *self)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  GtkWidget *label = gtk_label_new (NULL);
  g_autoptr(GMenu) tools = NULL;
  g_autoptr(GMenuItem) running_item = NULL;

  /* A long model name must not push the header's other buttons away. */
  gtk_label_set_ellipsize (GTK_LABEL (label), PANGO_ELLIPSIZE_END);
  gtk_label_set_max_width_chars (GTK_LABEL (label), 28);
  gtk_box_append (GTK_BOX (box), label);
  gtk_box_append (GTK_BOX (box), gtk_image_new_from_icon_name ("pan-down-symbolic"));
  gtk_menu_button_set_child (GTK_MENU_BUTTON (self->model_button), box);
  g_object_set_data (G_OBJECT (self->model_button), "label", label);

  self->pending_model_removals = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free,
                                                        NULL);
  /* Only the library's section is rebuilt on refresh, so the popover keeps
   * the slot of the custom label in the last one (update_running). */
  self->models_menu = g_menu_new ();
  self->models_list = g_menu_new ();
  tools = g_menu_new ();
  g_menu_append (tools, _("_Import a Model…"), "win.open-model");
  g_menu_append (tools, _("_Manage Models…"), "win.show-models");
  self->running_section = g_menu_new ();
  running_item = g_menu_item_new (NULL, NULL);
  g_menu_item_set_attribute (running_item, "custom", "s", "running");
  g_menu_append_item (self->running_section, running_item);
  g_menu_append_section (self->models_menu, NULL, G_MENU_MODEL (self->models_list));
  g_menu_append_section (self->models_menu, NULL, G_MENU_MODEL (tools));
  gtk_menu_button_set_menu_model (GTK_MENU_BUTTON (self->model_button),
                                  G_MENU_MODEL (self->models_menu));

  self->running_label = g_object_ref_sink (gtk_label_new (NULL));
  gtk_label_set_wrap (GTK_LABEL (self->running_label), TRUE);
  gtk_label_set_max_width_chars (GTK_LABEL (self->running_label), 36);
  gtk_label_set_xalign (GTK_LABEL (self->running_label), 0.0);
  gtk_label_set_selectable (GTK_LABEL (self->running_label), FALSE);
  gtk_widget_add_css_class (self->running_label, "dim-label");
  gtk_widget_set_margin_start (self->running_label, 12);
  gtk_widget_set_margin_end (self->running_label, 12);
  gtk_widget_set_margin_top (self->running_label, 6);
  gtk_widget_set_margin_bottom (self->running_label, 6);
  gtk_widget_set_name (self->running_label, "running-label");
  update_model_button (self);
  update_running (self);
  g_signal_connect (self, "notify::is-active", G_CALLBACK (on_active_changed), NULL);
}

/* Cancels a load in flight (joining its thread) and closes the dialog. */
void
_ponder_window_models_dispose (PonderWindow *self)
{
  g_clear_handle_id (&self->load_poll_id, g_source_remove);
  g_clear_pointer (&self->model_load, ponder_model_load_free);
  /* Closing the window while an undo toast is up makes the removal final. */
  if (self->pending_model_removals != NULL && self->history != NULL)
    {
      g_autoptr(GList) ids = g_hash_table_get_keys (self->pending_model_removals);

      for (GList *l = ids; l != NULL; l = l->next)
        purge_model (self, *(gint64 *) l->data);
    }
  g_clear_pointer (&self->pending_model_removals, g_hash_table_unref);
  if (self->models_dialog != NULL)
    gtk_window_destroy (GTK_WINDOW (self->models_dialog));
  g_clear_weak_pointer (&self->models_dialog);
  g_clear_object (&self->models_menu);
  g_clear_object (&self->models_list);
  g_clear_pointer (&self->running_text, g_free);
  g_clear_object (&self->running_section);
  g_clear_object (&self->running_label);
  g_clear_pointer (&self->model_path, g_free);
}

/* ---- for tests ------------------------------------------------------------ */

gint64
ponder_window_get_model_id (PonderWindow *self)
{
  g_return_val_if_fail (PONDER_IS_WINDOW (self), 0);

  return self->model_id;
}

/* Returns: (transfer none) (nullable): the open models dialog */
PonderModelsDialog *
ponder_window_get_models_dialog (PonderWindow *self)
{
  g_return_val_if_fail (PONDER_IS_WINDOW (self), NULL);

  return self->models_dialog;
}

/* Returns: (transfer none): the header's model button */
GtkWidget *
ponder_window_get_model_button (PonderWindow *self)
{
  g_return_val_if_fail (PONDER_IS_WINDOW (self), NULL);

  return self->model_button;
}

/* Returns: (transfer none): the header's model menu */
GMenuModel *
ponder_window_get_models_menu (PonderWindow *self)
{
  g_return_val_if_fail (PONDER_IS_WINDOW (self), NULL);

  return G_MENU_MODEL (self->models_menu);
}

/* Plans loads against @bytes instead of the memory available now (0 to
 * go back to that): to try a smaller machine's limits. */
void
ponder_window_set_memory_limit (PonderWindow *self,
                                guint64       bytes)
{
  g_return_if_fail (PONDER_IS_WINDOW (self));

  self->memory_limit = bytes;
}

/* Returns: (nullable): "Running on …" for the loaded model, with notes */
const char *
ponder_window_get_running_text (PonderWindow *self)
{
  g_return_val_if_fail (PONDER_IS_WINDOW (self), NULL);

  return self->session != NULL ? self->running_text : NULL;
}

/* FALSE when no model is loaded. The strings live as long as the model. */
gboolean
ponder_window_get_model_info (PonderWindow    *self,
                              PonderModelInfo *out_info)
{
  g_return_val_if_fail (PONDER_IS_WINDOW (self), FALSE);
  g_return_val_if_fail (out_info != NULL, FALSE);

  if (self->model == NULL || self->session == NULL)
    return FALSE;
  ponder_model_get_info (self->model, out_info);
  return TRUE;
}

gboolean
ponder_window_get_loading (PonderWindow *self)
{
  g_return_val_if_fail (PONDER_IS_WINDOW (self), FALSE);

  return self->loading;
}
