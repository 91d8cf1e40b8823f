/* ponder-settings.c — what Ponder remembers between runs (GSettings)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The schema is data/io.github.ponder.Ponder.gschema.xml. Versions before
 * GSettings kept the model path in ~/.config/ponder/settings.ini; it is
 * carried over once and the key file removed.
 */

#define G_LOG_DOMAIN "ponder-settings"

#include <glib/gi18n.h>
#include <glib/gstdio.h>

#include "ponder-settings.h"

#define SCHEMA_ID "io.github.ponder.Ponder"

/**
 * ponder_settings_get:
 *
 * An uninstalled build whose schema cannot be found still runs: it warns
 * once and remembers nothing, rather than aborting in g_settings_new().
 *
 * Returns: (transfer none) (nullable): the application's settings
 */
GSettings *
ponder_settings_get (void)
{
  static GSettings *settings;
  static gsize looked_up;

  if (g_once_init_enter (&looked_up))
    {
      GSettingsSchemaSource *source = g_settings_schema_source_get_default ();
      g_autoptr(GSettingsSchema) schema = NULL;

      if (source != NULL)
        schema = g_settings_schema_source_lookup (source, SCHEMA_ID, TRUE);
      if (schema != NULL)
        settings = g_settings_new_full (schema, NULL, NULL);
      else
        g_warning ("The settings schema %s is not installed, so nothing will be remembered "
                   "(run meson install, or point GSETTINGS_SCHEMA_DIR at the build's data "
                   "folder)", SCHEMA_ID);
      g_once_init_leave (&looked_up, 1);
    }
  return settings;
}

/* The model path from the key file of earlier versions, moved into @settings. */
static char *
migrate_key_file (GSettings *settings)
{
  g_autofree char *path = g_build_filename (g_get_user_config_dir (), "ponder",
                                            "settings.ini", NULL);
  g_autoptr(GKeyFile) key_file = g_key_file_new ();
  g_autofree char *model = NULL;

  if (!g_key_file_load_from_file (key_file, path, G_KEY_FILE_NONE, NULL))
    return NULL;
  model = g_key_file_get_string (key_file, "model", "path", NULL);
  if (model != NULL && model[0] != '\0' && g_settings_set_string (settings, "model-path", model))
    g_unlink (path);
  return g_steal_pointer (&model);
}

/**
 * ponder_settings_dup_model_path:
 *
 * Returns: (transfer full) (nullable): the model opened at start-up
 */
char *
ponder_settings_dup_model_path (void)
{
  GSettings *settings = ponder_settings_get ();
  g_autofree char *path = NULL;

  if (settings == NULL)
    return NULL;
  path = g_settings_get_string (settings, "model-path");
  if (path[0] == '\0')
    {
      g_clear_pointer (&path, g_free);
      path = migrate_key_file (settings);
    }
  return g_steal_pointer (&path);
}

void
ponder_settings_set_model_path (const char *path)
{
  GSettings *settings = ponder_settings_get ();

  g_return_if_fail (path != NULL);

  if (settings != NULL)
    g_settings_set_string (settings, "model-path", path);
}

/* Size and maximized state follow the window and come back at the next start;
 * GTK 4 keeps default-width/height at the unmaximized size. */
void
ponder_settings_bind_window (GtkWindow *window)
{
  GSettings *settings = ponder_settings_get ();

  g_return_if_fail (GTK_IS_WINDOW (window));

  if (settings == NULL)
    return;
  g_settings_bind (settings, "window-width", window, "default-width", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (settings, "window-height", window, "default-height", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (settings, "window-maximized", window, "maximized", G_SETTINGS_BIND_DEFAULT);
}

/* Sampling for new conversations; R1's recommendation without a schema. */
void
ponder_settings_get_default_sampling (PonderHistorySampling *sampling)
{
  GSettings *settings = ponder_settings_get ();

  g_return_if_fail (sampling != NULL);

  ponder_history_sampling_init_default (sampling);
  if (settings == NULL)
    return;
  sampling->temperature = g_settings_get_double (settings, "temperature");
  sampling->top_p = g_settings_get_double (settings, "top-p");
  sampling->top_k = g_settings_get_int (settings, "top-k");
  sampling->min_p = g_settings_get_double (settings, "min-p");
  sampling->repeat_penalty = g_settings_get_double (settings, "repeat-penalty");
  sampling->max_tokens = g_settings_get_int (settings, "max-tokens");
  sampling->reasoning_budget = g_settings_get_int (settings, "reasoning-budget");
}

PonderReasoningDisplay
ponder_settings_get_reasoning_display (void)
{
  GSettings *settings = ponder_settings_get ();

  if (settings == NULL)
    return PONDER_REASONING_COLLAPSED;
  return (PonderReasoningDisplay) g_settings_get_enum (settings, "reasoning-display");
}

/**
 * ponder_settings_dup_device:
 *
 * Returns: (transfer full): where models run: "auto", "cpu" or a Vulkan
 *   device's name; "auto" without a schema
 */
char *
ponder_settings_dup_device (void)
{
  GSettings *settings = ponder_settings_get ();

  if (settings == NULL)
    return g_strdup ("auto");
  return g_settings_get_string (settings, "device");
}

void
ponder_settings_set_device (const char *device)
{
  GSettings *settings = ponder_settings_get ();

  g_return_if_fail (device != NULL);

  if (settings != NULL)
    g_settings_set_string (settings, "device", device);
}
