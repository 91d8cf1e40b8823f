/* test-settings.c — what Ponder remembers, through GSettings
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Run through run-ui-test.sh (memory settings backend, throwaway XDG
 * folders, Xvfb for the window test) with GSETTINGS_SCHEMA_DIR at the
 * build's compiled schema. Expected values are typed from the schema's
 * documentation and DeepSeek's R1 advice, not read back from the schema.
 */

#include <adwaita.h>
#include <glib/gstdio.h>

#include "ponder-settings.h"

static void
test_model_path (void)
{
  g_autofree char *none = NULL;
  g_autofree char *path = NULL;

  g_settings_reset (ponder_settings_get (), "model-path");
  none = ponder_settings_dup_model_path ();
  g_assert_null (none);

  ponder_settings_set_model_path ("/models/DeepSeek-R1-Distill-Qwen-1.5B-Q4_K_M.gguf");
  path = ponder_settings_dup_model_path ();
  g_assert_cmpstr (path, ==, "/models/DeepSeek-R1-Distill-Qwen-1.5B-Q4_K_M.gguf");
}

/* Versions before GSettings kept the path in ~/.config/ponder/settings.ini. */
static void
test_key_file_migrated (void)
{
  g_autofree char *dir = g_build_filename (g_get_user_config_dir (), "ponder", NULL);
  g_autofree char *ini = g_build_filename (dir, "settings.ini", NULL);
  g_autofree char *path = NULL;
  g_autofree char *again = NULL;
  g_autoptr(GError) error = NULL;

  g_settings_reset (ponder_settings_get (), "model-path");
  g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
  g_file_set_contents (ini, "[model]\npath=/old/place/model.gguf\n", -1, &error);
  g_assert_no_error (error);

  path = ponder_settings_dup_model_path ();
  g_assert_cmpstr (path, ==, "/old/place/model.gguf");
  g_assert_false (g_file_test (ini, G_FILE_TEST_EXISTS));
  again = ponder_settings_dup_model_path ();
  g_assert_cmpstr (again, ==, "/old/place/model.gguf");
}

static void
test_default_sampling (void)
{
  GSettings *settings = ponder_settings_get ();
  PonderHistorySampling sampling;

  /* R1's advice: temperature 0.6, top-p 0.95, every other filter off. */
  ponder_settings_get_default_sampling (&sampling);
  g_assert_cmpfloat_with_epsilon (sampling.temperature, 0.6, 1e-12);
  g_assert_cmpfloat_with_epsilon (sampling.top_p, 0.95, 1e-12);
  g_assert_cmpint (sampling.top_k, ==, 0);
  g_assert_cmpfloat (sampling.min_p, ==, 0.0);
  g_assert_cmpfloat (sampling.repeat_penalty, ==, 1.0);
  g_assert_cmpint (sampling.max_tokens, ==, 0);
  g_assert_cmpint (sampling.reasoning_budget, ==, -1);
  g_assert_cmpint (sampling.seed, ==, -1);

  g_settings_set_double (settings, "temperature", 0.0);
  g_settings_set_int (settings, "top-k", 40);
  g_settings_set_int (settings, "reasoning-budget", 512);
  ponder_settings_get_default_sampling (&sampling);
  g_assert_cmpfloat (sampling.temperature, ==, 0.0);
  g_assert_cmpint (sampling.top_k, ==, 40);
  g_assert_cmpint (sampling.reasoning_budget, ==, 512);
  g_settings_reset (settings, "temperature");
  g_settings_reset (settings, "top-k");
  g_settings_reset (settings, "reasoning-budget");
}

static void
test_reasoning_display (void)
{
  GSettings *settings = ponder_settings_get ();

  g_assert_cmpint (ponder_settings_get_reasoning_display (), ==, PONDER_REASONING_COLLAPSED);
  g_assert_true (g_settings_set_string (settings, "reasoning-display", "hidden"));
  g_assert_cmpint (ponder_settings_get_reasoning_display (), ==, PONDER_REASONING_HIDDEN);
  g_assert_true (g_settings_set_string (settings, "reasoning-display", "expanded"));
  g_assert_cmpint (ponder_settings_get_reasoning_display (), ==, PONDER_REASONING_EXPANDED);
  g_settings_reset (settings, "reasoning-display");
}

/* Where models run: "auto" unless chosen; any name is kept as written. */
static void
test_device (void)
{
  GSettings *settings = ponder_settings_get ();
  g_autofree char *initial = ponder_settings_dup_device ();
  g_autofree char *cpu = NULL;
  g_autofree char *named = NULL;

  g_assert_cmpstr (initial, ==, "auto");
  ponder_settings_set_device ("cpu");
  cpu = ponder_settings_dup_device ();
  g_assert_cmpstr (cpu, ==, "cpu");
  ponder_settings_set_device ("NVIDIA GeForce RTX 4090");
  named = g_settings_get_string (settings, "device");
  g_assert_cmpstr (named, ==, "NVIDIA GeForce RTX 4090");
  g_settings_reset (settings, "device");
}

/* A window starts at the remembered size and writes back where it ends.
 * (Maximizing needs a window manager, which Xvfb alone lacks.) */
static void
test_window_size (void)
{
  GSettings *settings = ponder_settings_get ();
  GtkWidget *window;
  int width, height;

  g_settings_set_int (settings, "window-width", 812);
  g_settings_set_int (settings, "window-height", 603);
  window = gtk_window_new ();
  ponder_settings_bind_window (GTK_WINDOW (window));
  gtk_window_get_default_size (GTK_WINDOW (window), &width, &height);
  g_assert_cmpint (width, ==, 812);
  g_assert_cmpint (height, ==, 603);

  gtk_window_set_default_size (GTK_WINDOW (window), 640, 480);
  g_assert_cmpint (g_settings_get_int (settings, "window-width"), ==, 640);
  g_assert_cmpint (g_settings_get_int (settings, "window-height"), ==, 480);
  g_assert_false (g_settings_get_boolean (settings, "window-maximized"));
  gtk_window_destroy (GTK_WINDOW (window));
}

int
main (int   argc,
      char *argv[])
{
  gtk_test_init (&argc, &argv, NULL);
  g_assert_nonnull (ponder_settings_get ());

  g_test_add_func ("/settings/model-path", test_model_path);
  g_test_add_func ("/settings/key-file-migrated", test_key_file_migrated);
  g_test_add_func ("/settings/default-sampling", test_default_sampling);
  g_test_add_func ("/settings/reasoning-display", test_reasoning_display);
  g_test_add_func ("/settings/device", test_device);
  g_test_add_func ("/settings/window-size", test_window_size);
  return g_test_run ();
}
