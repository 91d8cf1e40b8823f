/* test-i18n.c — the window in German and Simplified Chinese
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Usage: test-i18n LANGUAGE (de or zh_CN), through run-ui-test.sh with
 * PONDER_LOCALEDIR at the build's po/ folder. The app starts with no model;
 * the shown texts must be the translations typed below by hand (not read
 * from the catalogue), every glyph must have a font (no boxes for CJK), and
 * a screenshot goes to $PONDER_BUILD_ROOT/tests/screenshots/i18n-LANGUAGE.png.
 */

#include <adwaita.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <locale.h>

#include "ponder-application.h"
#include "ponder-window.h"

#define WAIT_MS 30000

typedef struct
{
  const char *language;
  const char *shown[4];     /* texts that must be on screen */
  const char *english[4];   /* their English originals, which must not be */
} Expectation;

static const Expectation expectations[] = {
  { "de",
    { "Kein Modell geladen", "Modell öffnen …", "Neuer Chat", "Unterhaltungen durchsuchen" },
    { "No Model Loaded", "Open a Model…", "New Chat", "Search conversations" } },
  { "zh_CN",
    { "未加载模型", "打开模型(O)…", "新对话", "搜索对话" },
    { "No Model Loaded", "Open a Model…", "New Chat", "Search conversations" } },
};

static const char *language;

static gboolean
tick (gpointer data)
{
  return G_SOURCE_CONTINUE;
}

static gboolean
main_window_mapped (GtkApplication *app)
{
  GList *l;

  for (l = gtk_application_get_windows (app); l != NULL; l = l->next)
    if (PONDER_IS_WINDOW (l->data) && gtk_widget_get_mapped (l->data))
      return TRUE;
  return FALSE;
}

static void
settle (guint ms)
{
  gint64 end = g_get_monotonic_time () + (gint64) ms * 1000;
  guint id = g_timeout_add (5, tick, NULL);

  while (g_get_monotonic_time () < end)
    g_main_context_iteration (NULL, TRUE);
  g_source_remove (id);
}

/* Mapped labels, by their text without mnemonic underlines. */
static void
collect_labels (GtkWidget  *widget,
                GHashTable *labels)
{
  GtkWidget *child;

  if (!gtk_widget_get_mapped (widget))
    return;
  if (GTK_IS_LABEL (widget))
    g_hash_table_insert (labels, g_strdup (gtk_label_get_text (GTK_LABEL (widget))), widget);
  for (child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    collect_labels (child, labels);
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
  int width = gtk_widget_get_width (widget);
  int height = gtk_widget_get_height (widget);
  GtkSnapshot *snapshot = gtk_snapshot_new ();

  g_assert_cmpint (width, >, 0);
  g_mkdir_with_parents (dir, 0755);
  gdk_paintable_snapshot (paintable, GDK_SNAPSHOT (snapshot), width, height);
  node = gtk_snapshot_free_to_node (snapshot);
  g_assert_nonnull (node);
  graphene_rect_init (&bounds, 0, 0, width, height);
  texture = gsk_renderer_render_texture (gtk_native_get_renderer (GTK_NATIVE (widget)),
                                         node, &bounds);
  g_assert_true (gdk_texture_save_to_png (texture, file));
  g_test_message ("screenshot: %s", file);
}

static void
test_window_translated (void)
{
  const Expectation *want = NULL;
  g_autoptr(PonderApplication) app = NULL;
  g_autoptr(GHashTable) labels = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(GError) error = NULL;
  g_autofree char *shot = NULL;
  GtkWidget *window = NULL;
  gint64 end;
  GList *l;

  for (guint i = 0; i < G_N_ELEMENTS (expectations); i++)
    if (g_str_equal (expectations[i].language, language))
      want = &expectations[i];
  g_assert_nonnull (want);

  app = ponder_application_new (G_APPLICATION_NON_UNIQUE);
  g_application_register (G_APPLICATION (app), NULL, &error);
  g_assert_no_error (error);
  g_application_activate (G_APPLICATION (app));

  end = g_get_monotonic_time () + WAIT_MS * 1000;
  while (!main_window_mapped (GTK_APPLICATION (app)) && g_get_monotonic_time () < end)
    g_main_context_iteration (NULL, TRUE);
  g_assert_true (main_window_mapped (GTK_APPLICATION (app)));
  settle (300);

  for (l = gtk_application_get_windows (GTK_APPLICATION (app)); l != NULL; l = l->next)
    if (PONDER_IS_WINDOW (l->data))
      window = l->data;
  collect_labels (window, labels);

  for (guint i = 0; i < G_N_ELEMENTS (want->shown) && want->shown[i] != NULL; i++)
    {
      GtkWidget *label = g_hash_table_lookup (labels, want->shown[i]);
      PangoLayout *layout;

      if (label == NULL)
        {
          GHashTableIter iter;
          gpointer text;

          g_hash_table_iter_init (&iter, labels);
          while (g_hash_table_iter_next (&iter, &text, NULL))
            g_test_message ("shown: “%s”", (const char *) text);
          g_error ("“%s” is not on screen in %s", want->shown[i], language);
        }
      g_assert_null (g_hash_table_lookup (labels, want->english[i]));

      /* Every character must come from a font: unknown glyphs are the boxes
       * a missing CJK font would draw. */
      layout = gtk_label_get_layout (GTK_LABEL (label));
      g_assert_cmpint (pango_layout_get_unknown_glyphs_count (layout), ==, 0);
    }

  shot = g_strconcat ("i18n-", language, NULL);
  screenshot (window, shot);
  gtk_window_destroy (GTK_WINDOW (window));
  settle (50);
}

int
main (int   argc,
      char *argv[])
{
  const char *locale_dir = g_getenv ("PONDER_LOCALEDIR");

  gtk_test_init (&argc, &argv, NULL);
  if (argc != 2)
    g_error ("usage: test-i18n LANGUAGE");
  language = argv[1];
  g_assert_nonnull (locale_dir);

  /* gtk_test_init() picks a fixed locale; LANGUAGE needs one that is not
   * plain "C", and C.UTF-8 is built into glibc. */
  g_assert_nonnull (setlocale (LC_ALL, "C.UTF-8"));
  g_setenv ("LANGUAGE", language, TRUE);
  bindtextdomain (GETTEXT_PACKAGE, locale_dir);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

  g_test_add_func ("/i18n/window-translated", test_window_translated);
  return g_test_run ();
}
