/* ponder-models-dialog.c — the model library: list, load, context, forget
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A preferences window built in code, one expander row per imported model.
 * The rows show what the library stored at import, so a model whose file
 * has gone is still listed, marked as missing, and can be forgotten. Its
 * buttons run the main window's actions (win.switch-model, ...), which own
 * the loading and the store; the window pushes the new list back with
 * ponder_models_dialog_set_models().
 */

#define G_LOG_DOMAIN "ponder-models"

#include <glib/gi18n.h>

#include "ponder-device.h"
#include "ponder-model-load.h"
#include "ponder-models-dialog.h"
#include "ponder-settings.h"

#define CTX_STEP 256

struct _PonderModelsDialog
{
  AdwPreferencesWindow  parent_instance;

  AdwPreferencesGroup  *group;
  GtkWidget            *empty_row;
  GPtrArray            *rows;     /* the AdwExpanderRows, in list order */
  char                 *shown;    /* what the rows show, to skip needless rebuilds */
  char                 *running;  /* where the loaded model runs, for its row */
  GtkWindow            *window;   /* weak: the main window whose actions we run */
};

G_DEFINE_FINAL_TYPE (PonderModelsDialog, ponder_models_dialog, ADW_TYPE_PREFERENCES_WINDOW)

static char *
format_params (guint64 n)
{
  /* TRANSLATORS: parameter counts, "7.6 B parameters" (billions) etc. */
  if (n >= 1000000000u)
    return g_strdup_printf (_("%.1f B parameters"), n / 1e9);
  if (n >= 1000000u)
    return g_strdup_printf (_("%.0f M parameters"), n / 1e6);
  return g_strdup_printf (_("%.0f K parameters"), n / 1e3);
}

gboolean
ponder_model_get_file_missing (const PonderHistoryModel *model)
{
  return !g_file_test (model->path, G_FILE_TEST_IS_REGULAR);
}

char *
ponder_model_dup_summary (const PonderHistoryModel *model)
{
  g_autofree char *params = format_params (model->n_params);
  g_autofree char *size = g_format_size (model->file_size_bytes);
  g_autofree char *ctx = ponder_model_format_context (model->n_ctx_train);

  /* TRANSLATORS: architecture · parameters · quantisation · file size · context */
  return g_strdup_printf (_("%s · %s · %s · %s · %s context"), model->architecture, params,
                          model->file_type, size, ctx);
}

static void
run_window_action (PonderModelsDialog *self,
                   const char         *action,
                   GVariant           *target)
{
  g_autoptr(GVariant) owned = target != NULL ? g_variant_ref_sink (target) : NULL;
  GtkWindow *window = self->window;

  if (window == NULL)
    return;
  if (owned != NULL)
    gtk_widget_activate_action_variant (GTK_WIDGET (window), action, owned);
  else
    gtk_widget_activate_action_variant (GTK_WIDGET (window), action, NULL);
}

static gint64
widget_model_id (GtkWidget *widget)
{
  gint64 *id = g_object_get_data (G_OBJECT (widget), "model-id");

  return id != NULL ? *id : 0;
}

static void
set_widget_model_id (GtkWidget *widget,
                     gint64     id)
{
  g_object_set_data_full (G_OBJECT (widget), "model-id", g_memdup2 (&id, sizeof id), g_free);
}

static void
on_load_clicked (PonderModelsDialog *self,
                 GtkButton          *button)
{
  run_window_action (self, "win.switch-model",
                     g_variant_new_int64 (widget_model_id (GTK_WIDGET (button))));
}

static void
on_remove_clicked (PonderModelsDialog *self,
                   GtkButton          *button)
{
  run_window_action (self, "win.remove-model",
                     g_variant_new_int64 (widget_model_id (GTK_WIDGET (button))));
}

static void
on_import_clicked (PonderModelsDialog *self)
{
  run_window_action (self, "win.open-model", NULL);
}

static void
on_context_changed (PonderModelsDialog *self,
                    GtkSpinButton      *spin)
{
  guint n_ctx = (guint) gtk_spin_button_get_value_as_int (spin);

  run_window_action (self, "win.set-model-context",
                     g_variant_new ("(xu)", widget_model_id (GTK_WIDGET (spin)), n_ctx));
}

static GtkWidget *
icon_button (const char *icon,
             const char *label)
{
  GtkWidget *button = gtk_button_new_from_icon_name (icon);

  gtk_widget_set_valign (button, GTK_ALIGN_CENTER);
  gtk_widget_add_css_class (button, "flat");
  gtk_widget_set_tooltip_text (button, label);
  gtk_accessible_update_property (GTK_ACCESSIBLE (button), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  label, -1);
  return button;
}

/* The memory plan at the row's context length, made from the file's
 * metadata only when the row is opened or its context changes. */
static void
update_memory_row (GtkWidget *memory_row)
{
  const char *path = g_object_get_data (G_OBJECT (memory_row), "path");
  GtkSpinButton *spin = g_object_get_data (G_OBJECT (memory_row), "spin");
  PonderPlanParams params = ponder_plan_params_default ();
  PonderError error = { 0 };
  PonderModelPlan plan;
  g_autofree char *text = NULL;
  g_autofree char *device = ponder_settings_dup_device ();
  PonderDeviceInfo devices[PONDER_DEVICE_LIST_MAX];
  PonderDeviceChoice choice;
  size_t n = 0;

  /* Planned where the next load would run it. "auto" leaves the listing to
   * the planner; a named device needs the list to be found. */
  if (g_strcmp0 (device, "auto") != 0 && g_strcmp0 (device, "cpu") != 0)
    n = MIN (ponder_list_devices (devices, PONDER_DEVICE_LIST_MAX, NULL),
             PONDER_DEVICE_LIST_MAX);
  ponder_device_choice_resolve (&choice, device, devices, n);
  params.n_ctx = (guint) gtk_spin_button_get_value_as_int (spin);
  ponder_device_choice_plan (&choice, &params);
  if (ponder_model_plan (path, &params, &plan, &error) != PONDER_OK)
    {
      g_autoptr(GError) app_error = ponder_model_error_from_engine (error.code, error.message,
                                                                    path);

      ponder_device_choice_clear (&choice);
      adw_action_row_set_subtitle (ADW_ACTION_ROW (memory_row), app_error->message);
      return;
    }
  ponder_device_choice_clear (&choice);
  text = ponder_model_format_plan (&plan);
  if (!plan.fits)
    {
      g_autofree char *more = g_strdup_printf (_("%s It will not fit; %u tokens would."), text,
                                               plan.max_fit_ctx);

      g_free (text);
      text = g_steal_pointer (&more);
    }
  adw_action_row_set_subtitle (ADW_ACTION_ROW (memory_row), text);
}

static void
on_row_expanded (GtkWidget  *row,
                 GParamSpec *pspec,
                 GtkWidget  *memory_row)
{
  if (adw_expander_row_get_expanded (ADW_EXPANDER_ROW (row)))
    update_memory_row (memory_row);
}

static GtkWidget *
memory_row_new (const PonderHistoryModel *model,
                GtkWidget                *spin)
{
  GtkWidget *row = adw_action_row_new ();

  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), _("Memory"));
  g_object_set_data_full (G_OBJECT (row), "path", g_strdup (model->path), g_free);
  g_object_set_data (G_OBJECT (row), "spin", spin);
  g_signal_connect_object (spin, "value-changed", G_CALLBACK (update_memory_row), row,
                           G_CONNECT_SWAPPED);
  return row;
}

static GtkWidget *
context_row (PonderModelsDialog       *self,
             const PonderHistoryModel *model)
{
  GtkWidget *row = adw_action_row_new ();
  guint upper = MAX (model->n_ctx_train, CTX_STEP);
  guint value = model->n_ctx != 0 ? model->n_ctx : MIN (upper, 8192);
  GtkWidget *spin = gtk_spin_button_new_with_range (CTX_STEP, upper, CTX_STEP);

  gtk_spin_button_set_value (GTK_SPIN_BUTTON (spin), value);
  gtk_widget_set_valign (spin, GTK_ALIGN_CENTER);
  set_widget_model_id (spin, model->id);
  g_signal_connect_object (spin, "value-changed", G_CALLBACK (on_context_changed), self,
                           G_CONNECT_SWAPPED);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), _("Context length"));
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row),
                               _("Tokens the model can see at once; longer takes more memory. "
                                 "Used from the next load."));
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), spin);
  adw_action_row_set_activatable_widget (ADW_ACTION_ROW (row), spin);
  gtk_accessible_update_property (GTK_ACCESSIBLE (spin), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("Context length"), -1);
  g_object_set_data (G_OBJECT (row), "spin", spin);
  return row;
}

static GtkWidget *
model_row (PonderModelsDialog       *self,
           const PonderHistoryModel *model,
           gboolean                  current)
{
  GtkWidget *row = adw_expander_row_new ();
  GtkWidget *path_row = adw_action_row_new ();
  GtkWidget *remove = icon_button ("user-trash-symbolic", _("Remove from the Library"));
  gboolean missing = ponder_model_get_file_missing (model);
  g_autofree char *summary = ponder_model_dup_summary (model);
  g_autofree char *subtitle = NULL;

  /* Names come from the files: never markup. */
  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), model->name);
  if (missing)
    subtitle = g_strdup_printf (_("File not found: %s"), model->path);
  adw_expander_row_set_subtitle (ADW_EXPANDER_ROW (row), missing ? subtitle : summary);
  set_widget_model_id (row, model->id);

  if (missing)
    {
      GtkWidget *icon = gtk_image_new_from_icon_name ("dialog-warning-symbolic");

      gtk_widget_add_css_class (icon, "error");
      gtk_widget_set_tooltip_text (icon, _("The file is missing"));
      adw_expander_row_add_prefix (ADW_EXPANDER_ROW (row), icon);
      gtk_widget_add_css_class (row, "model-missing");
    }
  else if (current)
    {
      GtkWidget *label = gtk_label_new (_("Loaded"));

      gtk_widget_add_css_class (label, "dim-label");
      adw_expander_row_add_action (ADW_EXPANDER_ROW (row), label);
    }
  else
    {
      GtkWidget *load = gtk_button_new_with_mnemonic (_("_Load"));

      gtk_widget_set_valign (load, GTK_ALIGN_CENTER);
      set_widget_model_id (load, model->id);
      g_signal_connect_object (load, "clicked", G_CALLBACK (on_load_clicked), self,
                               G_CONNECT_SWAPPED);
      adw_expander_row_add_action (ADW_EXPANDER_ROW (row), load);
    }
  set_widget_model_id (remove, model->id);
  g_signal_connect_object (remove, "clicked", G_CALLBACK (on_remove_clicked), self,
                           G_CONNECT_SWAPPED);
  adw_expander_row_add_action (ADW_EXPANDER_ROW (row), remove);

  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (path_row), FALSE);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (path_row), _("File"));
  adw_action_row_set_subtitle (ADW_ACTION_ROW (path_row), model->path);
  adw_expander_row_add_row (ADW_EXPANDER_ROW (row), path_row);
  if (current && self->running != NULL)
    {
      GtkWidget *device_row = adw_action_row_new ();

      /* Device names come from drivers: never markup. */
      adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (device_row), FALSE);
      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (device_row), _("Device"));
      adw_action_row_set_subtitle (ADW_ACTION_ROW (device_row), self->running);
      gtk_widget_set_name (device_row, "running-row");
      adw_expander_row_add_row (ADW_EXPANDER_ROW (row), device_row);
    }
  if (!missing)
    {
      GtkWidget *ctx_row = context_row (self, model);
      GtkWidget *spin = g_object_get_data (G_OBJECT (ctx_row), "spin");
      GtkWidget *memory_row = memory_row_new (model, spin);

      g_object_set_data (G_OBJECT (row), "spin", spin);
      adw_expander_row_add_row (ADW_EXPANDER_ROW (row), ctx_row);
      adw_expander_row_add_row (ADW_EXPANDER_ROW (row), memory_row);
      g_signal_connect_object (row, "notify::expanded", G_CALLBACK (on_row_expanded),
                               memory_row, 0);
    }
  return row;
}

static void
ponder_models_dialog_dispose (GObject *object)
{
  PonderModelsDialog *self = PONDER_MODELS_DIALOG (object);

  g_clear_weak_pointer (&self->window);
  g_clear_pointer (&self->rows, g_ptr_array_unref);
  g_clear_pointer (&self->shown, g_free);
  g_clear_pointer (&self->running, g_free);

  G_OBJECT_CLASS (ponder_models_dialog_parent_class)->dispose (object);
}

static void
ponder_models_dialog_class_init (PonderModelsDialogClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = ponder_models_dialog_dispose;
}

static void
ponder_models_dialog_init (PonderModelsDialog *self)
{
  AdwPreferencesPage *page = ADW_PREFERENCES_PAGE (adw_preferences_page_new ());
  GtkWidget *import = gtk_button_new ();
  GtkWidget *content = adw_button_content_new ();

  self->rows = g_ptr_array_new ();
  gtk_window_set_title (GTK_WINDOW (self), _("Models"));
  gtk_window_set_default_size (GTK_WINDOW (self), 640, 520);
  adw_preferences_window_set_search_enabled (ADW_PREFERENCES_WINDOW (self), FALSE);

  self->group = ADW_PREFERENCES_GROUP (adw_preferences_group_new ());
  adw_preferences_group_set_title (self->group, _("Imported Models"));
  adw_preferences_group_set_description (self->group,
                                         _("GGUF files Ponder remembers. Removing one forgets "
                                           "it here; the file itself stays on disk."));
  adw_button_content_set_icon_name (ADW_BUTTON_CONTENT (content), "list-add-symbolic");
  adw_button_content_set_label (ADW_BUTTON_CONTENT (content), _("_Import…"));
  adw_button_content_set_use_underline (ADW_BUTTON_CONTENT (content), TRUE);
  gtk_button_set_child (GTK_BUTTON (import), content);
  gtk_widget_add_css_class (import, "flat");
  g_signal_connect_object (import, "clicked", G_CALLBACK (on_import_clicked), self,
                           G_CONNECT_SWAPPED);
  adw_preferences_group_set_header_suffix (self->group, import);

  self->empty_row = adw_action_row_new ();
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self->empty_row), _("No models yet"));
  adw_action_row_set_subtitle (ADW_ACTION_ROW (self->empty_row),
                               _("Import a DeepSeek-R1 model in GGUF format, or drop one on "
                                 "the main window."));
  adw_preferences_group_add (self->group, self->empty_row);

  adw_preferences_page_add (page, self->group);
  adw_preferences_window_add (ADW_PREFERENCES_WINDOW (self), page);
}

/**
 * ponder_models_dialog_new:
 * @window: the main window; the dialog runs its win.* model actions
 */
PonderModelsDialog *
ponder_models_dialog_new (GtkWindow *window)
{
  PonderModelsDialog *self;

  g_return_val_if_fail (GTK_IS_WINDOW (window), NULL);

  self = g_object_new (PONDER_TYPE_MODELS_DIALOG,
                       "transient-for", window,
                       "modal", FALSE,
                       "destroy-with-parent", TRUE,
                       NULL);
  g_set_weak_pointer (&self->window, window);
  return self;
}

/* Everything a row shows, except the context length, which its spin
 * button shows and the user may be changing. */
static char *
describe_models (GPtrArray  *models,
                 gint64      current_id,
                 const char *running)
{
  GString *out = g_string_new (NULL);

  g_string_append_printf (out, "%" G_GINT64_FORMAT " %s\n", current_id,
                          running != NULL ? running : "");
  for (guint i = 0; models != NULL && i < models->len; i++)
    {
      const PonderHistoryModel *m = g_ptr_array_index (models, i);

      g_string_append_printf (out, "%" G_GINT64_FORMAT " %d %s %s %s %s %" G_GUINT64_FORMAT
                              " %" G_GUINT64_FORMAT " %u\n", m->id,
                              ponder_model_get_file_missing (m), m->path, m->name,
                              m->architecture, m->file_type, m->n_params, m->file_size_bytes,
                              m->n_ctx_train);
    }
  return g_string_free (out, FALSE);
}

/* A context chosen elsewhere (the "will not fit" dialog) reaches the spin. */
static void
sync_contexts (PonderModelsDialog *self,
               GPtrArray          *models)
{
  for (guint i = 0; models != NULL && i < models->len && i < self->rows->len; i++)
    {
      const PonderHistoryModel *m = g_ptr_array_index (models, i);
      GtkSpinButton *spin = g_object_get_data (g_ptr_array_index (self->rows, i), "spin");

      if (spin != NULL && m->n_ctx != 0
          && (guint) gtk_spin_button_get_value_as_int (spin) != m->n_ctx)
        gtk_spin_button_set_value (spin, m->n_ctx);
    }
}

/**
 * ponder_models_dialog_set_models:
 * @models: (element-type PonderHistoryModel): the library, in display order
 * @current_id: the loaded model's id, or 0
 * @running: (nullable): where the loaded model runs, in words
 */
void
ponder_models_dialog_set_models (PonderModelsDialog *self,
                                 GPtrArray          *models,
                                 gint64              current_id,
                                 const char         *running)
{
  g_autofree char *shown = NULL;

  g_return_if_fail (PONDER_IS_MODELS_DIALOG (self));

  /* The window refreshes whenever it is activated; rebuilding rows that
   * did not change would close the one the user opened. */
  shown = describe_models (models, current_id, running);
  if (g_strcmp0 (shown, self->shown) == 0)
    {
      sync_contexts (self, models);
      return;
    }
  g_free (self->shown);
  self->shown = g_steal_pointer (&shown);
  g_free (self->running);
  self->running = g_strdup (running);

  for (guint i = 0; i < self->rows->len; i++)
    adw_preferences_group_remove (self->group, g_ptr_array_index (self->rows, i));
  g_ptr_array_set_size (self->rows, 0);

  for (guint i = 0; models != NULL && i < models->len; i++)
    {
      const PonderHistoryModel *model = g_ptr_array_index (models, i);
      GtkWidget *row = model_row (self, model, model->id == current_id);

      adw_preferences_group_add (self->group, row);
      g_ptr_array_add (self->rows, row);
    }
  gtk_widget_set_visible (self->empty_row, self->rows->len == 0);
}

guint
ponder_models_dialog_get_n_models (PonderModelsDialog *self)
{
  g_return_val_if_fail (PONDER_IS_MODELS_DIALOG (self), 0);

  return self->rows->len;
}

/* Returns: (transfer none): the AdwExpanderRow of the model at @index */
GtkWidget *
ponder_models_dialog_get_row (PonderModelsDialog *self,
                              guint               index)
{
  g_return_val_if_fail (PONDER_IS_MODELS_DIALOG (self), NULL);
  g_return_val_if_fail (index < self->rows->len, NULL);

  return g_ptr_array_index (self->rows, index);
}
