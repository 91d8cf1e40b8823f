/* ponder-application.c — the application: history store, actions, windows
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "ponder-application"

#include <glib/gi18n.h>

#include "ponder-application.h"
#include "ponder-device.h"
#include "ponder-history-recovery.h"
#include "ponder-resources.h"
#include "ponder-settings.h"
#include "ponder-window.h"

struct _PonderApplication
{
  AdwApplication  parent_instance;

  PonderHistory  *history;
  GError         *history_error; /* why history is NULL */
  char           *pending_model; /* from the command line, until a window exists */
  gboolean        exit_after_startup;
};

G_DEFINE_FINAL_TYPE (PonderApplication, ponder_application, ADW_TYPE_APPLICATION)

static const struct
{
  const char *action;
  const char *accels[3];
} accels[] = {
  { "win.new-chat", { "<Control>n", NULL } },
  { "win.search", { "<Control>k", "<Control>f", NULL } },
  { "win.stop", { "Escape", NULL } },
  { "win.regenerate", { "<Control>r", NULL } },
  { "win.edit-last", { "<Control>e", NULL } },
  { "win.edit-last-answer", { "<Control><Shift>e", NULL } },
  { "win.continue", { "<Control><Shift>Return", NULL } },
  { "win.end-reasoning", { "<Control>Return", NULL } },
  { "win.copy-last", { "<Control><Shift>c", NULL } },
  { "win.delete-last", { "<Control><Shift>Delete", NULL } },
  { "win.conversation-settings", { "<Control><Shift>s", NULL } },
  { "win.open-model", { "<Control>o", NULL } },
  { "win.show-models", { "<Control>m", NULL } },
  { "win.reload-model", { "<Control><Shift>m", NULL } },
  { "win.cancel-load", { "Escape", NULL } },
  { "win.import-conversation", { "<Control><Shift>o", NULL } },
  { "win.show-help-overlay", { "<Control>question", NULL } },
  { "app.preferences", { "<Control>comma", NULL } },
  { "app.quit", { "<Control>q", NULL } },
};

/* The resources live in the static library: register them by name so the
 * linker cannot drop them (style.md 1.4). Safe to call more than once. */
void
ponder_register_resources (void)
{
  static gsize done = 0;

  if (g_once_init_enter (&done))
    {
      g_resources_register (ponder_get_resource ());
      g_once_init_leave (&done, 1);
    }
}

static void
quit_action (GSimpleAction *action,
             GVariant      *parameter,
             gpointer       user_data)
{
  g_application_quit (G_APPLICATION (user_data));
}

static void
about_action (GSimpleAction *action,
              GVariant      *parameter,
              gpointer       user_data)
{
  GtkApplication *app = GTK_APPLICATION (user_data);
  GtkWidget *about;

  about = g_object_new (ADW_TYPE_ABOUT_WINDOW,
                        "application-name", _("Ponder"),
                        "application-icon", PONDER_APP_ID,
                        "version", PACKAGE_VERSION,
                        "comments", _("Chat with DeepSeek-R1 models on this computer, offline"),
                        "license-type", GTK_LICENSE_GPL_3_0,
                        "transient-for", gtk_application_get_active_window (app),
                        "modal", TRUE,
                        NULL);
  gtk_window_present (GTK_WINDOW (about));
}

static void
on_reasoning_display_selected (AdwComboRow *row)
{
  GSettings *settings = ponder_settings_get ();

  if (settings != NULL)
    g_settings_set_enum (settings, "reasoning-display", adw_combo_row_get_selected (row));
}

/* "Past reasoning": collapsed, expanded or hidden (PonderReasoningDisplay
 * order, the schema's enum). */
static GtkWidget *
reasoning_display_row (void)
{
  const char *choices[] = { _("Collapsed"), _("Expanded"), _("Hidden"), NULL };
  g_autoptr(GtkStringList) model = gtk_string_list_new (choices);
  GtkWidget *row = adw_combo_row_new ();

  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), _("Past reasoning"));
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row),
                               _("How the reasoning of earlier answers is shown. It is kept "
                                 "either way, and never sent back to the model."));
  adw_combo_row_set_model (ADW_COMBO_ROW (row), G_LIST_MODEL (model));
  adw_combo_row_set_selected (ADW_COMBO_ROW (row), ponder_settings_get_reasoning_display ());
  g_signal_connect (row, "notify::selected", G_CALLBACK (on_reasoning_display_selected), NULL);
  gtk_widget_set_name (row, "reasoning-display-row");
  return row;
}

static void
preferences_action (GSimpleAction *action,
                    GVariant      *parameter,
                    gpointer       user_data)
{
  GtkApplication *app = GTK_APPLICATION (user_data);
  GtkWidget *prefs;
  GtkWidget *page = adw_preferences_page_new ();
  GtkWidget *group = adw_preferences_group_new ();
  GtkWidget *row = adw_action_row_new ();
  g_autofree char *model = ponder_settings_dup_model_path ();

  adw_preferences_group_set_title (ADW_PREFERENCES_GROUP (group), _("Model"));
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), _("Model file"));
  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row), model != NULL ? model : _("None"));
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (group), row);
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (group), ponder_device_row_new ());
  adw_preferences_page_add (ADW_PREFERENCES_PAGE (page), ADW_PREFERENCES_GROUP (group));

  group = adw_preferences_group_new ();
  adw_preferences_group_set_title (ADW_PREFERENCES_GROUP (group), _("Conversations"));
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (group), reasoning_display_row ());
  adw_preferences_page_add (ADW_PREFERENCES_PAGE (page), ADW_PREFERENCES_GROUP (group));

  prefs = adw_preferences_window_new ();
  adw_preferences_window_add (ADW_PREFERENCES_WINDOW (prefs), ADW_PREFERENCES_PAGE (page));
  gtk_window_set_transient_for (GTK_WINDOW (prefs), gtk_application_get_active_window (app));
  gtk_window_set_modal (GTK_WINDOW (prefs), TRUE);
  gtk_window_present (GTK_WINDOW (prefs));
}

static const GActionEntry app_actions[] = {
  { "quit", quit_action, NULL, NULL, NULL, { 0 } },
  { "about", about_action, NULL, NULL, NULL, { 0 } },
  { "preferences", preferences_action, NULL, NULL, NULL, { 0 } },
};

static void
ponder_application_startup (GApplication *application)
{
  PonderApplication *self = PONDER_APPLICATION (application);
  g_autofree char *path = NULL;
  g_autoptr(GError) error = NULL;
  guint i;

  ponder_register_resources ();

  G_APPLICATION_CLASS (ponder_application_parent_class)->startup (application);

  g_action_map_add_action_entries (G_ACTION_MAP (self), app_actions,
                                   G_N_ELEMENTS (app_actions), self);
  for (i = 0; i < G_N_ELEMENTS (accels); i++)
    gtk_application_set_accels_for_action (GTK_APPLICATION (self), accels[i].action,
                                           accels[i].accels);

  path = ponder_history_dup_default_path ();
  self->history = ponder_history_new (path, PONDER_HISTORY_DEFAULT_BUSY_TIMEOUT_MS, &error);
  if (self->history == NULL)
    {
      g_message ("Could not open the history %s: %s", path, error->message);
      self->history_error = g_steal_pointer (&error);
    }
}

static gboolean
quit_idle (gpointer data)
{
  g_application_quit (G_APPLICATION (data));
  return G_SOURCE_REMOVE;
}

static void
present_main_window (PonderApplication *self)
{
  GtkWindow *window = NULL;
  GList *l;

  for (l = gtk_application_get_windows (GTK_APPLICATION (self)); l != NULL; l = l->next)
    if (PONDER_IS_WINDOW (l->data))
      window = l->data;
  if (window == NULL)
    window = GTK_WINDOW (ponder_window_new (GTK_APPLICATION (self), self->history));
  gtk_window_present (window);

  if (self->pending_model != NULL)
    {
      g_autofree char *model = g_steal_pointer (&self->pending_model);

      ponder_window_load_model (PONDER_WINDOW (window), model);
    }
  if (self->exit_after_startup)
    g_idle_add_full (G_PRIORITY_LOW, quit_idle, g_object_ref (self), g_object_unref);
}

static void
history_recovered (GtkApplication *application,
                   PonderHistory  *history,
                   gpointer        user_data)
{
  PonderApplication *self = PONDER_APPLICATION (application);

  g_set_object (&self->history, history);
  g_clear_error (&self->history_error);
  present_main_window (self);
}

static void
ponder_application_activate (GApplication *application)
{
  PonderApplication *self = PONDER_APPLICATION (application);
  g_autofree char *path = NULL;

  if (self->history != NULL)
    {
      present_main_window (self);
      return;
    }
  if (self->history_error == NULL)
    return; /* the recovery dialog is already up */

  path = ponder_history_dup_default_path ();
  ponder_history_recovery_present (GTK_APPLICATION (self), path,
                                   PONDER_HISTORY_DEFAULT_BUSY_TIMEOUT_MS,
                                   self->history_error, history_recovered, NULL);
  g_clear_error (&self->history_error);
}

/* `ponder MODEL.gguf` opens the model in the window. */
static void
ponder_application_open (GApplication  *application,
                         GFile        **files,
                         gint           n_files,
                         const gchar   *hint)
{
  PonderApplication *self = PONDER_APPLICATION (application);

  if (n_files > 0)
    {
      g_free (self->pending_model);
      self->pending_model = g_file_get_path (files[0]);
    }
  if (n_files > 1)
    g_warning ("Ponder opens one model at a time; using %s", self->pending_model);
  g_application_activate (application);
}

static gint
ponder_application_handle_local_options (GApplication *application,
                                         GVariantDict *options)
{
  PonderApplication *self = PONDER_APPLICATION (application);

  if (g_variant_dict_contains (options, "exit-after-startup"))
    self->exit_after_startup = TRUE;
  return -1;
}

static void
ponder_application_dispose (GObject *object)
{
  PonderApplication *self = PONDER_APPLICATION (object);

  g_clear_object (&self->history);
  g_clear_error (&self->history_error);
  g_clear_pointer (&self->pending_model, g_free);

  G_OBJECT_CLASS (ponder_application_parent_class)->dispose (object);
}

static void
ponder_application_class_init (PonderApplicationClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GApplicationClass *app_class = G_APPLICATION_CLASS (klass);

  object_class->dispose = ponder_application_dispose;
  app_class->startup = ponder_application_startup;
  app_class->activate = ponder_application_activate;
  app_class->open = ponder_application_open;
  app_class->handle_local_options = ponder_application_handle_local_options;
}

static void
ponder_application_init (PonderApplication *self)
{
  static const GOptionEntry entries[] = {
    { "exit-after-startup", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_NONE, NULL,
      "Quit once the window is shown (a smoke test)", NULL },
    { NULL }
  };

  g_application_add_main_option_entries (G_APPLICATION (self), entries);
}

PonderApplication *
ponder_application_new (GApplicationFlags flags)
{
  return g_object_new (PONDER_TYPE_APPLICATION,
                       "application-id", PONDER_APP_ID,
                       "resource-base-path", "/io/github/ponder/Ponder",
                       "flags", flags,
                       NULL);
}

/* Borrowed; NULL when the database could not be opened. */
PonderHistory *
ponder_application_get_history (PonderApplication *self)
{
  g_return_val_if_fail (PONDER_IS_APPLICATION (self), NULL);

  return self->history;
}
