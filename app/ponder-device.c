/* ponder-device.c — where models run: the device preference and its words
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The "device" setting holds "auto", "cpu" or a Vulkan device's name; names
 * outlive the indices, which change with drivers and cards. Listing devices
 * opens a Vulkan instance (tens of milliseconds), so the Preferences row
 * lists them on a worker thread and the model load resolves the setting on
 * its own thread. A name that is no longer there means "auto", with a note,
 * never an error.
 */

#define G_LOG_DOMAIN "ponder-device"

#include <glib/gi18n.h>

#include "ponder-device.h"
#include "ponder-settings.h"
#include "ponder-window.h"

void
ponder_device_choice_resolve (PonderDeviceChoice     *choice,
                              const char             *setting,
                              const PonderDeviceInfo *devices,
                              size_t                  n_devices)
{
  g_return_if_fail (choice != NULL);

  memset (choice, 0, sizeof *choice);
  choice->backend = PONDER_BACKEND_AUTO;
  choice->device_index = -1;
  choice->n_devices = MIN (n_devices, PONDER_DEVICE_LIST_MAX);
  if (choice->n_devices > 0)
    memcpy (choice->devices, devices, choice->n_devices * sizeof *devices);

  if (setting == NULL || setting[0] == '\0' || g_strcmp0 (setting, "auto") == 0)
    return;
  if (g_strcmp0 (setting, "cpu") == 0)
    {
      choice->backend = PONDER_BACKEND_CPU;
      return;
    }
  /* Two identical cards share a name: the first one is meant. */
  for (size_t i = 0; i < choice->n_devices; i++)
    if (strcmp (choice->devices[i].name, setting) == 0)
      {
        choice->backend = PONDER_BACKEND_VULKAN;
        choice->device_index = (int32_t) i;
        return;
      }
  choice->missing = g_strdup (setting);
}

void
ponder_device_choice_clear (PonderDeviceChoice *choice)
{
  g_clear_pointer (&choice->missing, g_free);
}

void
ponder_device_choice_plan (const PonderDeviceChoice *choice,
                           PonderPlanParams         *params)
{
  params->backend = choice->backend;
  params->device_index = choice->device_index;
}


void
ponder_device_choice_model (const PonderDeviceChoice *choice,
                            PonderModelParams        *params)
{
  params->backend = choice->backend;
  params->device_index = choice->device_index;
}

/* "NVIDIA GeForce RTX 4090 (graphics card, 24.0 GB)", for the Preferences list. */
char *
ponder_device_dup_label (const PonderDeviceInfo *device)
{
  g_autofree char *memory = g_format_size (device->memory_bytes);

  switch (device->kind)
    {
    case PONDER_DEVICE_DISCRETE:
      /* TRANSLATORS: a device name, then its memory ("24.0 GB") */
      return g_strdup_printf (_("%s (graphics card, %s)"), device->name, memory);
    case PONDER_DEVICE_INTEGRATED:
      return g_strdup_printf (_("%s (integrated graphics)"), device->name);
    case PONDER_DEVICE_CPU:
      /* TRANSLATORS: a Vulkan driver that computes on the processor (lavapipe) */
      return g_strdup_printf (_("%s (Vulkan on the CPU)"), device->name);
    case PONDER_DEVICE_VIRTUAL:
    case PONDER_DEVICE_OTHER:
    default:
      return g_strdup (device->name);
    }
}

static const PonderDeviceInfo *
find_device (const PonderDeviceChoice *choice,
             const char               *name)
{
  for (size_t i = 0; name != NULL && i < choice->n_devices; i++)
    if (strcmp (choice->devices[i].name, name) == 0)
      return &choice->devices[i];
  return NULL;
}

/**
 * ponder_device_describe_model:
 * @choice: (nullable): the devices listed for the load, to tell a GPU from
 *   a CPU implementation, and a preferred device that was not found
 * @fallback_note: (nullable): why a chosen device could not be used
 *
 * Returns: (transfer full): "Running on …", then one line per note
 */
char *
ponder_device_describe_model (const PonderModelInfo    *info,
                              const PonderDeviceChoice *choice,
                              const char               *fallback_note)
{
  GString *out = g_string_new (NULL);
  const PonderDeviceInfo *device = NULL;

  g_return_val_if_fail (info != NULL, NULL);

  if (choice != NULL)
    device = find_device (choice, info->device_name);
  if (g_strcmp0 (info->backend, "vulkan") != 0 || info->device_name == NULL)
    g_string_append (out, _("Running on the CPU"));
  else if (device != NULL && (device->kind == PONDER_DEVICE_DISCRETE
                              || device->kind == PONDER_DEVICE_INTEGRATED))
    g_string_append_printf (out, _("Running on %s (GPU)"), info->device_name);
  else if (device != NULL && device->kind == PONDER_DEVICE_CPU)
    g_string_append_printf (out, _("Running on %s (Vulkan on the CPU)"), info->device_name);
  else
    g_string_append_printf (out, _("Running on %s (Vulkan)"), info->device_name);

  if (info->n_devices > 1)
    {
      g_string_append_c (out, '\n');
      g_string_append_printf (out, _("Layers shared among %u devices"), info->n_devices);
    }
  if (info->n_devices > 0 && info->device_first_layer[0] > 0)
    {
      g_string_append_c (out, '\n');
      /* TRANSLATORS: a partial offload; %u is the last layer on the CPU */
      g_string_append_printf (out, _("Layers 0–%u on the CPU"), info->device_first_layer[0] - 1);
    }
  if (info->host_expert_layers > 0)
    {
      g_string_append_c (out, '\n');
      g_string_append_printf (out, _("Experts of the last %u layers on the CPU"),
                              info->host_expert_layers);
    }
  if (info->backend_note != NULL)
    {
      g_string_append_c (out, '\n');
      /* TRANSLATORS: the engine's reason, in English: "device: why" */
      g_string_append_printf (out, _("Not on the GPU: %s"), info->backend_note);
    }
  if (fallback_note != NULL)
    {
      g_string_append_c (out, '\n');
      g_string_append (out, fallback_note);
    }
  if (choice != NULL && choice->missing != NULL)
    {
      g_string_append_c (out, '\n');
      g_string_append_printf (out, _("The device “%s” chosen in Preferences was not found, "
                                     "so Ponder chose one."), choice->missing);
    }
  return g_string_free (out, FALSE);
}

/* ---- listing on a worker thread ------------------------------------------- */

typedef struct
{
  GArray *devices;
  char   *reason;
} ListResult;

static void
list_result_free (gpointer data)
{
  ListResult *result = data;

  g_array_unref (result->devices);
  g_free (result->reason);
  g_free (result);
}

static void
list_thread (GTask        *task,
             gpointer      source_object,
             gpointer      task_data,
             GCancellable *cancellable)
{
  ListResult *result = g_new0 (ListResult, 1);
  PonderDeviceInfo devices[PONDER_DEVICE_LIST_MAX];
  PonderError error = { 0 };
  size_t n = ponder_list_devices (devices, PONDER_DEVICE_LIST_MAX, &error);

  n = MIN (n, PONDER_DEVICE_LIST_MAX);
  result->devices = g_array_sized_new (FALSE, FALSE, sizeof (PonderDeviceInfo), n);
  g_array_append_vals (result->devices, devices, n);
  if (n == 0)
    result->reason = g_strdup (error.message);
  g_task_return_pointer (task, result, list_result_free);
}

void
ponder_device_list_async (GCancellable        *cancellable,
                          GAsyncReadyCallback  callback,
                          gpointer             user_data)
{
  g_autoptr(GTask) task = g_task_new (NULL, cancellable, callback, user_data);

  g_task_set_source_tag (task, ponder_device_list_async);
  g_task_set_name (task, "[ponder-list-devices]");
  g_task_run_in_thread (task, list_thread);
}

/**
 * ponder_device_list_finish:
 * @out_reason: (out) (optional): why there are none, when there are none
 *
 * Returns: (transfer full) (element-type PonderDeviceInfo): the devices,
 *   possibly none; %NULL only when cancelled
 */
GArray *
ponder_device_list_finish (GAsyncResult  *result,
                           char         **out_reason)
{
  ListResult *list = g_task_propagate_pointer (G_TASK (result), NULL);
  GArray *devices;

  if (list == NULL)
    return NULL;
  devices = g_array_ref (list->devices);
  if (out_reason != NULL)
    *out_reason = g_steal_pointer (&list->reason);
  list_result_free (list);
  return devices;
}

/* ---- the Preferences row -------------------------------------------------- */

/* Setting values in the row's order; the row's model holds their labels. */
typedef struct
{
  GPtrArray *values;
  gboolean   filling;  /* a rebuild moves the selection: not the user's choice */
} RowData;

static void
row_data_free (gpointer data)
{
  RowData *row_data = data;

  g_ptr_array_unref (row_data->values);
  g_free (row_data);
}

static void
fill_row (AdwComboRow            *row,
          const PonderDeviceInfo *devices,
          guint                   n_devices,
          gboolean                listed)
{
  RowData *data = g_object_get_data (G_OBJECT (row), "device-row-data");
  g_autoptr(GtkStringList) labels = gtk_string_list_new (NULL);
  g_autofree char *stored = ponder_settings_dup_device ();
  guint selected = 0;

  g_ptr_array_set_size (data->values, 0);
  g_ptr_array_add (data->values, g_strdup ("auto"));
  gtk_string_list_append (labels, _("Automatic"));
  g_ptr_array_add (data->values, g_strdup ("cpu"));
  gtk_string_list_append (labels, _("CPU"));
  if (g_strcmp0 (stored, "cpu") == 0)
    selected = 1;
  for (guint i = 0; i < n_devices; i++)
    {
      g_autofree char *label = ponder_device_dup_label (&devices[i]);

      if (selected == 0 && g_strcmp0 (stored, devices[i].name) == 0)
        selected = data->values->len;
      g_ptr_array_add (data->values, g_strdup (devices[i].name));
      gtk_string_list_append (labels, label);
    }
  /* Kept in the list so that opening Preferences does not forget it. */
  if (selected == 0 && g_strcmp0 (stored, "auto") != 0 && g_strcmp0 (stored, "cpu") != 0)
    {
      g_autofree char *label = listed
        ? g_strdup_printf (_("%s (not found: automatic)"), stored)
        : g_strdup (stored);

      selected = data->values->len;
      g_ptr_array_add (data->values, g_strdup (stored));
      gtk_string_list_append (labels, label);
    }

  data->filling = TRUE;
  adw_combo_row_set_model (row, G_LIST_MODEL (labels));
  adw_combo_row_set_selected (row, selected);
  data->filling = FALSE;
}

static void
on_devices_listed (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(AdwComboRow) row = user_data;
  g_autofree char *reason = NULL;
  g_autoptr(GArray) devices = ponder_device_list_finish (result, &reason);

  if (devices == NULL)
    return;
  fill_row (row, (PonderDeviceInfo *) devices->data, devices->len, TRUE);
  if (devices->len == 0 && reason != NULL)
    {
      g_autofree char *subtitle = g_strdup_printf (_("Where models run. A change applies to "
                                                     "the next model load. No GPU: %s."),
                                                   reason);

      adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);
    }
  g_object_set_data (G_OBJECT (row), "device-row-listed", GINT_TO_POINTER (TRUE));
}

static void
on_reload_clicked (AdwToast  *toast,
                   GtkWidget *window)
{
  gtk_widget_activate_action (window, "win.reload-model", NULL);
}

static void
on_device_selected (AdwComboRow *row)
{
  RowData *data = g_object_get_data (G_OBJECT (row), "device-row-data");
  guint selected = adw_combo_row_get_selected (row);
  GtkRoot *prefs = gtk_widget_get_root (GTK_WIDGET (row));
  GtkWindow *window = NULL;
  AdwToast *toast;

  if (data->filling || selected >= data->values->len)
    return;
  ponder_settings_set_device (g_ptr_array_index (data->values, selected));

  /* The loaded model stays where it is until it is loaded again: offer it. */
  if (ADW_IS_PREFERENCES_WINDOW (prefs))
    window = gtk_window_get_transient_for (GTK_WINDOW (prefs));
  if (!PONDER_IS_WINDOW (window) || !ponder_window_get_model_loaded (PONDER_WINDOW (window)))
    return;
  toast = adw_toast_new (_("The model in use moves at its next load"));
  adw_toast_set_button_label (toast, _("_Reload Now"));
  g_signal_connect_object (toast, "button-clicked", G_CALLBACK (on_reload_clicked), window, 0);
  adw_preferences_window_add_toast (ADW_PREFERENCES_WINDOW (prefs), toast);
}

/**
 * ponder_device_row_new:
 *
 * The "Device" row of Preferences: Automatic, CPU and every Vulkan device,
 * listed on a worker thread (the row shows the stored choice until then).
 * Its data "device-row-listed" turns TRUE once the list is in.
 *
 * Returns: (transfer floating): an #AdwComboRow named "device-row"
 */
GtkWidget *
ponder_device_row_new (void)
{
  GtkWidget *row = adw_combo_row_new ();
  RowData *data = g_new0 (RowData, 1);

  data->values = g_ptr_array_new_with_free_func (g_free);
  g_object_set_data_full (G_OBJECT (row), "device-row-data", data, row_data_free);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), _("Device"));
  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row),
                               _("Where models run. A change applies to the next model load."));
  gtk_widget_set_name (row, "device-row");
  fill_row (ADW_COMBO_ROW (row), NULL, 0, FALSE);
  g_signal_connect (row, "notify::selected", G_CALLBACK (on_device_selected), NULL);
  ponder_device_list_async (NULL, on_devices_listed, g_object_ref (row));
  return row;
}
