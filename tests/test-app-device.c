/* test-app-device.c — where models run: the preference, the load, the words
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Run through run-ui-test.sh (Xvfb, memory GSettings, the scripted model in
 * $PONDER_SCRIPTED_MODEL). The device list the Preferences row must show is
 * read from ponder_list_devices here; on CI the only device is Mesa's
 * llvmpipe (kind CPU), which "auto" never picks. Screenshots go to
 * $PONDER_BUILD_ROOT/tests/screenshots/device-*.png.
 */

#include <glib/gstdio.h>

#include "app-test-util.h"
#include "ponder-device.h"
#include "ponder-model-load.h"
#include "ponder-engine.h"
#include "ponder-settings.h"
#include "ponder-window-models.h"

#define NO_SUCH_DEVICE "Imaginary GPU 9000"

static PonderDeviceInfo devices[16];
static size_t n_devices;

static GtkWidget *
find_named (GtkWidget  *root,
            const char *name)
{
  if (g_strcmp0 (gtk_widget_get_name (root), name) == 0)
    return root;
  for (GtkWidget *child = gtk_widget_get_first_child (root); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found = find_named (child, name);

      if (found != NULL)
        return found;
    }
  return NULL;
}

static gboolean
row_listed (gpointer row)
{
  return g_object_get_data (G_OBJECT (row), "device-row-listed") != NULL;
}

/* Opens Preferences and returns its device row once the devices are in. */
static AdwComboRow *
open_device_row (PonderApplication *app)
{
  GtkWindow *prefs;
  GtkWidget *row;

  g_action_group_activate_action (G_ACTION_GROUP (app), "preferences", NULL);
  prefs = find_toplevel (ADW_TYPE_PREFERENCES_WINDOW);
  g_assert_nonnull (prefs);
  row = find_named (GTK_WIDGET (prefs), "device-row");
  g_assert_nonnull (row);
  g_assert_true (wait_for (row_listed, row, WAIT_MS));
  return ADW_COMBO_ROW (row);
}

static const char *
row_label (AdwComboRow *row,
           guint        index)
{
  return gtk_string_list_get_string (GTK_STRING_LIST (adw_combo_row_get_model (row)), index);
}

static guint
row_n_items (AdwComboRow *row)
{
  return g_list_model_get_n_items (adw_combo_row_get_model (row));
}

static void
close_root (GtkWidget *widget)
{
  gtk_window_destroy (GTK_WINDOW (gtk_widget_get_root (widget)));
  settle (50);
}

static PonderApplication *
new_app (void)
{
  PonderApplication *app = ponder_application_new (G_APPLICATION_NON_UNIQUE);
  g_autoptr(GError) error = NULL;

  g_application_register (G_APPLICATION (app), NULL, &error);
  g_assert_no_error (error);
  return app;
}

static gboolean
not_loading (gpointer data)
{
  return !ponder_window_get_loading (data);
}

/* Loads the scripted model with the "device" setting at @device. */
static void
popdown (PonderWindow *window)
{
  gtk_menu_button_popdown (GTK_MENU_BUTTON (ponder_window_get_model_button (window)));
  settle (100);
}

static PonderWindow *
load_with (PonderApplication *app,
           const char        *device)
{
  PonderWindow *window = new_window (app, ponder_application_get_history (app));

  ponder_settings_set_device (device);
  ponder_window_load_model (window, g_getenv ("PONDER_SCRIPTED_MODEL"));
  g_assert_true (wait_for (not_loading, window, WAIT_MS));
  g_assert_true (ponder_window_get_model_loaded (window));
  g_assert_null (find_toplevel (ADW_TYPE_MESSAGE_DIALOG));
  return window;
}

/* Opens the header's model menu and returns the "running on" label in it. */
static GtkLabel *
popup_running_label (PonderWindow *window)
{
  GtkMenuButton *button = GTK_MENU_BUTTON (ponder_window_get_model_button (window));
  GtkWidget *label;

  gtk_menu_button_popup (button);
  settle (100);
  label = find_named (GTK_WIDGET (gtk_menu_button_get_popover (button)), "running-label");
  g_assert_nonnull (label);
  g_assert_true (gtk_widget_get_visible (label));
  return GTK_LABEL (label);
}

static const PonderDeviceInfo *
lavapipe (void)
{
  for (size_t i = 0; i < n_devices; i++)
    if (devices[i].kind == PONDER_DEVICE_CPU)
      return &devices[i];
  return NULL;
}

/* The row lists Automatic, CPU and every device; a choice lands in
 * GSettings and comes back into a new row; a stored name that is gone
 * stays listed, marked, and is not overwritten by opening Preferences. */
static void
test_preference (void)
{
  g_autoptr(PonderApplication) app = new_app ();
  GSettings *settings = ponder_settings_get ();
  PonderWindow *window = new_window (app, ponder_application_get_history (app));
  g_autofree char *stored = NULL;
  AdwComboRow *row;

  g_settings_reset (settings, "device");
  {
    /* No model: the menu says nothing about a device. */
    GtkMenuButton *button = GTK_MENU_BUTTON (ponder_window_get_model_button (window));
    GtkWidget *popover;
    GtkWidget *label;

    gtk_menu_button_popup (button);
    settle (100);
    popover = GTK_WIDGET (gtk_menu_button_get_popover (button));
    label = find_named (popover, "running-label");
    g_assert_true (label == NULL || !gtk_widget_get_visible (label));
    screenshot (popover, "device-00-menu-no-model");
    popdown (window);
  }
  row = open_device_row (app);
  g_assert_cmpuint (row_n_items (row), ==, 2 + n_devices);
  g_assert_cmpstr (row_label (row, 0), ==, "Automatic");
  g_assert_cmpstr (row_label (row, 1), ==, "CPU");
  for (size_t i = 0; i < n_devices; i++)
    g_assert_true (g_str_has_prefix (row_label (row, 2 + i), devices[i].name));
  g_assert_cmpuint (adw_combo_row_get_selected (row), ==, 0);
  screenshot (GTK_WIDGET (gtk_widget_get_root (GTK_WIDGET (row))), "device-01-preferences");

  adw_combo_row_set_selected (row, 1);
  stored = g_settings_get_string (settings, "device");
  g_assert_cmpstr (stored, ==, "cpu");
  g_clear_pointer (&stored, g_free);
  if (n_devices > 0)
    {
      adw_combo_row_set_selected (row, 2);
      stored = g_settings_get_string (settings, "device");
      g_assert_cmpstr (stored, ==, devices[0].name);
      g_clear_pointer (&stored, g_free);
    }
  close_root (GTK_WIDGET (row));

  row = open_device_row (app);
  g_assert_cmpuint (adw_combo_row_get_selected (row), ==, n_devices > 0 ? 2 : 1);
  close_root (GTK_WIDGET (row));

  g_settings_set_string (settings, "device", NO_SUCH_DEVICE);
  row = open_device_row (app);
  g_assert_cmpuint (row_n_items (row), ==, 3 + n_devices);
  g_assert_cmpuint (adw_combo_row_get_selected (row), ==, 2 + n_devices);
  g_assert_nonnull (strstr (row_label (row, 2 + n_devices), NO_SUCH_DEVICE));
  g_assert_nonnull (strstr (row_label (row, 2 + n_devices), "not found"));
  stored = g_settings_get_string (settings, "device");
  g_assert_cmpstr (stored, ==, NO_SUCH_DEVICE);
  screenshot (GTK_WIDGET (gtk_widget_get_root (GTK_WIDGET (row))), "device-02-missing");
  close_root (GTK_WIDGET (row));

  g_settings_reset (settings, "device");
  gtk_window_destroy (GTK_WINDOW (window));
  settle (50);
}

static void
test_cpu (void)
{
  g_autoptr(PonderApplication) app = new_app ();
  PonderWindow *window = load_with (app, "cpu");
  PonderModelInfo info;

  g_assert_true (ponder_window_get_model_info (window, &info));
  g_assert_cmpstr (info.backend, ==, "cpu");
  g_assert_null (info.device_name);
  g_assert_cmpstr (ponder_window_get_running_text (window), ==, "Running on the CPU");
  g_assert_cmpstr (gtk_label_get_text (popup_running_label (window)), ==,
                   "Running on the CPU");
  g_assert_cmpstr (gtk_widget_get_tooltip_text (ponder_window_get_model_button (window)), ==,
                   "Running on the CPU");
  popdown (window);
  g_settings_reset (ponder_settings_get (), "device");
  gtk_window_destroy (GTK_WINDOW (window));
  settle (50);
}

/* lavapipe is a Vulkan device of kind CPU: "auto" passes it over, naming it
 * runs the model there. */
static void
test_lavapipe (void)
{
  const PonderDeviceInfo *device = lavapipe ();
  g_autoptr(PonderApplication) app = NULL;
  g_autofree char *expected = NULL;
  PonderWindow *window;
  PonderModelInfo info;
  GtkLabel *label;
  PonderModelsDialog *dialog;
  GtkWidget *running_row;

  if (device == NULL)
    {
      g_test_skip ("no Vulkan device of kind CPU (lavapipe)");
      return;
    }
  app = new_app ();
  window = load_with (app, device->name);
  g_assert_true (ponder_window_get_model_info (window, &info));
  g_assert_cmpstr (info.backend, ==, "vulkan");
  g_assert_cmpstr (info.device_name, ==, device->name);
  expected = g_strdup_printf ("Running on %s (Vulkan on the CPU)", device->name);
  g_assert_cmpstr (ponder_window_get_running_text (window), ==, expected);
  label = popup_running_label (window);
  g_assert_cmpstr (gtk_label_get_text (label), ==, expected);
  screenshot (GTK_WIDGET (gtk_menu_button_get_popover (GTK_MENU_BUTTON (
                ponder_window_get_model_button (window)))), "device-04-menu-vulkan");
  popdown (window);

  /* The models dialog says it too, under the model in use. */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.show-models", NULL));
  dialog = ponder_window_get_models_dialog (window);
  g_assert_nonnull (dialog);
  running_row = find_named (GTK_WIDGET (dialog), "running-row");
  g_assert_nonnull (running_row);
  g_assert_cmpstr (adw_action_row_get_subtitle (ADW_ACTION_ROW (running_row)), ==, expected);
  adw_expander_row_set_expanded (ADW_EXPANDER_ROW (ponder_models_dialog_get_row (dialog, 0)),
                                 TRUE);
  screenshot (GTK_WIDGET (dialog), "device-09-models-dialog");
  gtk_window_destroy (GTK_WINDOW (dialog));
  settle (50);
  g_settings_reset (ponder_settings_get (), "device");
  gtk_window_destroy (GTK_WINDOW (window));
  settle (50);
}

/* A stored device that is gone: the model still loads, as "auto" would
 * place it, and the words say what happened; no error dialog. */
static void
test_missing_device (void)
{
  g_autoptr(PonderApplication) app = new_app ();
  PonderWindow *window = load_with (app, NO_SUCH_DEVICE);
  gboolean has_gpu = FALSE;
  PonderModelInfo info;
  const char *text;

  for (size_t i = 0; i < n_devices; i++)
    has_gpu |= devices[i].kind == PONDER_DEVICE_DISCRETE
               || devices[i].kind == PONDER_DEVICE_INTEGRATED;
  g_assert_true (ponder_window_get_model_info (window, &info));
  if (!has_gpu)
    g_assert_cmpstr (info.backend, ==, "cpu");
  text = ponder_window_get_running_text (window);
  g_assert_nonnull (text);
  if (!has_gpu)
    g_assert_true (g_str_has_prefix (text, "Running on the CPU\n"));
  g_assert_nonnull (strstr (text, "“" NO_SUCH_DEVICE "” chosen in Preferences was not found"));
  g_assert_cmpstr (gtk_label_get_text (popup_running_label (window)), ==, text);
  screenshot (GTK_WIDGET (gtk_menu_button_get_popover (GTK_MENU_BUTTON (
                ponder_window_get_model_button (window)))), "device-05-menu-missing");
  popdown (window);
  screenshot (GTK_WIDGET (window), "device-06-window-toast");
  g_settings_reset (ponder_settings_get (), "device");
  gtk_window_destroy (GTK_WINDOW (window));
  settle (50);
}

/* A model the shaders cannot run: heads of 288 dimensions (attention holds
 * at most 256 in shared memory, as test_vulkan_forward.py's fallback check). */
static char *
make_wide_heads_model (void)
{
  g_autofree char *tests = g_build_filename (g_getenv ("PONDER_SOURCE_ROOT"), "tests", NULL);
  g_autofree char *dir = g_dir_make_tmp ("ponder-device-XXXXXX", NULL);
  char *out = g_build_filename (dir, "wide-heads.gguf", NULL);
  g_autofree char *code = g_strdup_printf (
    "import sys; sys.path.insert(0, sys.argv[1]); import gen_model; "
    "cfg = gen_model.make_config('llama', 'tiny'); cfg['head_dim'] = 288; "
    "gen_model.generate(sys.argv[2], 'llama', 'tiny', 'F32', seed=5, cfg=cfg)");
  const char *argv[] = { "/usr/bin/python3", "-c", code, tests, out, NULL };
  g_autoptr(GError) error = NULL;
  int status = -1;

  g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL, NULL, NULL,
                &status, &error);
  g_assert_no_error (error);
  g_assert_true (g_spawn_check_wait_status (status, NULL));
  return out;
}

/* A named device that cannot run the model: it loads on the CPU instead,
 * and the words give the engine's reason. */
static void
test_device_refuses (void)
{
  const PonderDeviceInfo *device = lavapipe ();
  g_autoptr(PonderApplication) app = NULL;
  g_autofree char *path = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *expected = NULL;
  PonderWindow *window;
  PonderModelInfo info;
  const char *text;

  if (device == NULL)
    {
      g_test_skip ("no Vulkan device of kind CPU (lavapipe)");
      return;
    }
  path = make_wide_heads_model ();
  app = new_app ();
  window = new_window (app, ponder_application_get_history (app));
  ponder_settings_set_device (device->name);
  ponder_window_load_model (window, path);
  g_assert_true (wait_for (not_loading, window, WAIT_MS));
  g_assert_null (find_toplevel (ADW_TYPE_MESSAGE_DIALOG));
  g_assert_true (ponder_window_get_model_info (window, &info));
  g_assert_cmpstr (info.backend, ==, "cpu");
  text = ponder_window_get_running_text (window);
  expected = g_strdup_printf ("Running on the CPU\nCould not use %s (", device->name);
  g_assert_true (g_str_has_prefix (text, expected));
  g_assert_nonnull (strstr (text, "head dimensions"));
  g_assert_true (g_str_has_suffix (text, "), so it runs on the CPU."));
  g_assert_cmpstr (gtk_label_get_text (popup_running_label (window)), ==, text);
  screenshot (GTK_WIDGET (gtk_menu_button_get_popover (GTK_MENU_BUTTON (
                ponder_window_get_model_button (window)))), "device-08-menu-refused");
  popdown (window);

  g_settings_reset (ponder_settings_get (), "device");
  gtk_window_destroy (GTK_WINDOW (window));
  settle (50);
  dir = g_path_get_dirname (path);
  g_unlink (path);
  g_rmdir (dir);
}

/* The button of the toast that offers a reload, under @widget; NULL if none. */
static GtkWidget *
find_reload_button (GtkWidget *widget)
{
  g_autoptr(GPtrArray) buttons = g_ptr_array_new ();

  collect (widget, buttons, GTK_TYPE_BUTTON);
  for (guint i = 0; i < buttons->len; i++)
    if (g_strcmp0 (gtk_button_get_label (g_ptr_array_index (buttons, i)), "_Reload Now") == 0)
      return g_ptr_array_index (buttons, i);
  return NULL;
}

/* Choosing a device while a model is loaded offers to load it again there. */
static void
test_reload (void)
{
  const PonderDeviceInfo *device = lavapipe ();
  g_autoptr(PonderApplication) app = NULL;
  PonderWindow *window;
  PonderModelInfo info;
  AdwComboRow *row;
  GtkWidget *button;
  guint index = 0;
  g_autofree char *expected = NULL;

  if (device == NULL)
    {
      g_test_skip ("no Vulkan device of kind CPU (lavapipe)");
      return;
    }
  app = new_app ();
  window = load_with (app, "cpu");
  g_assert_true (ponder_window_get_model_info (window, &info));
  g_assert_cmpstr (info.backend, ==, "cpu");
  g_assert_cmpstr (gtk_label_get_text (popup_running_label (window)), ==, "Running on the CPU");
  popdown (window);

  row = open_device_row (app);
  g_assert_null (find_reload_button (GTK_WIDGET (gtk_widget_get_root (GTK_WIDGET (row)))));
  for (guint i = 0; i < n_devices; i++)
    if (&devices[i] == device)
      index = 2 + i;
  adw_combo_row_set_selected (row, index);
  button = find_reload_button (GTK_WIDGET (gtk_widget_get_root (GTK_WIDGET (row))));
  g_assert_nonnull (button);
  screenshot (GTK_WIDGET (gtk_widget_get_root (GTK_WIDGET (row))), "device-07-reload-toast");
  g_signal_emit_by_name (button, "clicked");
  g_assert_true (ponder_window_get_loading (window));
  g_assert_true (wait_for (not_loading, window, WAIT_MS));
  g_assert_true (ponder_window_get_model_info (window, &info));
  g_assert_cmpstr (info.backend, ==, "vulkan");
  g_assert_cmpstr (info.device_name, ==, device->name);
  expected = g_strdup_printf ("Running on %s (Vulkan on the CPU)", device->name);
  g_assert_cmpstr (gtk_label_get_text (popup_running_label (window)), ==, expected);
  popdown (window);
  close_root (GTK_WIDGET (row));
  g_settings_reset (ponder_settings_get (), "device");
  gtk_window_destroy (GTK_WINDOW (window));
  settle (50);
}

/* The words for placements these machines cannot produce (a GPU, a partial
 * offload, experts in system memory, AUTO's note), from hand-made info. */
static void
test_words (void)
{
  PonderDeviceInfo gpu = { .name = "NVIDIA H200", .kind = PONDER_DEVICE_DISCRETE,
                           .memory_bytes = 150000000000u };
  PonderModelInfo info = { .backend = "vulkan", .device_name = "NVIDIA H200",
                           .n_devices = 1, .device_first_layer = { 6 } };
  PonderDeviceChoice choice;
  g_autofree char *offload = NULL;
  g_autofree char *experts = NULL;
  g_autofree char *unknown = NULL;
  g_autofree char *note = NULL;
  g_autofree char *label = NULL;

  ponder_device_choice_resolve (&choice, "NVIDIA H200", &gpu, 1);
  g_assert_cmpint (choice.backend, ==, PONDER_BACKEND_VULKAN);
  g_assert_cmpint (choice.device_index, ==, 0);
  g_assert_null (choice.missing);
  offload = ponder_device_describe_model (&info, &choice, NULL);
  g_assert_cmpstr (offload, ==, "Running on NVIDIA H200 (GPU)\nLayers 0–5 on the CPU");

  info.device_first_layer[0] = 0;
  info.host_expert_layers = 3;
  experts = ponder_device_describe_model (&info, &choice, NULL);
  g_assert_cmpstr (experts, ==, "Running on NVIDIA H200 (GPU)\n"
                                "Experts of the last 3 layers on the CPU");
  /* Not in the list: no claim about what kind of device it is. */
  unknown = ponder_device_describe_model (&info, NULL, NULL);
  g_assert_true (g_str_has_prefix (unknown, "Running on NVIDIA H200 (Vulkan)\n"));
  ponder_device_choice_clear (&choice);

  ponder_device_choice_resolve (&choice, "Radeon 780M", &gpu, 1);
  g_assert_cmpint (choice.backend, ==, PONDER_BACKEND_AUTO);
  g_assert_cmpint (choice.device_index, ==, -1);
  g_assert_cmpstr (choice.missing, ==, "Radeon 780M");
  memset (&info, 0, sizeof info);
  info.backend = "cpu";
  info.backend_note = "NVIDIA H200: out of device memory";
  note = ponder_device_describe_model (&info, &choice, NULL);
  g_assert_cmpstr (note, ==, "Running on the CPU\n"
                             "Not on the GPU: NVIDIA H200: out of device memory\n"
                             "The device “Radeon 780M” chosen in Preferences was not found, "
                             "so Ponder chose one.");
  ponder_device_choice_clear (&choice);

  ponder_device_choice_resolve (&choice, "cpu", &gpu, 1);
  g_assert_cmpint (choice.backend, ==, PONDER_BACKEND_CPU);
  ponder_device_choice_clear (&choice);

  /* GLib joins a size and its unit with a no-break space. */
  label = ponder_device_dup_label (&gpu);
  g_assert_cmpstr (label, ==, "NVIDIA H200 (graphics card, 150.0\xc2\xa0GB)");
}

/* The plan shown before a load says what the planner keeps off the device. */
static void
test_plan_text (void)
{
  PonderModelPlan plan = { 0 };
  g_autofree char *dense = NULL, *experts = NULL, *plain = NULL;
  g_autofree char *size = g_format_size (3000000);

  g_strlcpy (plan.device_name, "Test GPU", sizeof plan.device_name);
  plan.backend = PONDER_BACKEND_VULKAN;
  plan.n_layers = 28;
  plan.n_ctx = 4096;
  plan.total_bytes = 9000000;
  plan.available_bytes = 8000000;
  plain = ponder_model_format_plan (&plan);
  g_assert_null (strstr (plain, "CPU"));
  plan.cpu_layers = 3;
  plan.cpu_layer_bytes = 3000000;
  dense = ponder_model_format_plan (&plan);
  g_assert_nonnull (strstr (dense, "(layers 0–2) stays in system memory"));
  g_assert_nonnull (strstr (dense, size));
  plan.cpu_layers = 0;
  plan.host_expert_layers = 4;
  plan.host_expert_bytes = 3000000;
  experts = ponder_model_format_plan (&plan);
  g_assert_nonnull (strstr (experts, "the routed experts of layers 24–27"));
}

int
main (int   argc,
      char *argv[])
{
  gtk_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
  adw_init ();
  ponder_register_resources ();
  n_devices = MIN (ponder_list_devices (devices, G_N_ELEMENTS (devices), NULL),
                   G_N_ELEMENTS (devices));

  if (g_getenv ("PONDER_SCRIPTED_MODEL") == NULL)
    {
      g_printerr ("PONDER_SCRIPTED_MODEL is not set (run through run-ui-test.sh)\n");
      return 77;
    }
  g_test_add_func ("/ponder/device/words", test_words);
  g_test_add_func ("/ponder/device/preference", test_preference);
  g_test_add_func ("/ponder/device/cpu", test_cpu);
  g_test_add_func ("/ponder/device/lavapipe", test_lavapipe);
  g_test_add_func ("/ponder/device/missing-device", test_missing_device);
  g_test_add_func ("/ponder/device/reload", test_reload);
  g_test_add_func ("/ponder/device/device-refuses", test_device_refuses);
  g_test_add_func ("/ponder/device/plan-text", test_plan_text);
  return g_test_run ();
}
