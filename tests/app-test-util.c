/* app-test-util.c — helpers shared by the tests that drive the real window
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <json-glib/json-glib.h>

#include "app-test-util.h"

static gboolean
tick (gpointer data)
{
  return G_SOURCE_CONTINUE;
}

gboolean
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

static gboolean
always_false (gpointer data)
{
  return FALSE;
}

void
settle (guint ms)
{
  wait_for (always_false, NULL, ms);
}

gboolean
model_loaded (gpointer data)
{
  return ponder_window_get_model_loaded (data);
}

gboolean
idle_window (gpointer data)
{
  return !ponder_window_get_busy (data);
}

static gboolean
allocated (gpointer data)
{
  return gtk_widget_get_mapped (data) && gtk_widget_get_width (data) > 0;
}

void
screenshot (GtkWidget  *widget,
            const char *name)
{
  screenshot_after (widget, name, 300);
}

/* @settle_ms: how long the frame clock may run first; short to catch a
 * state that lasts only a moment (a load in progress). */
void
screenshot_after (GtkWidget  *widget,
                  const char *name,
                  guint       settle_ms)
{
  g_autofree char *dir = g_build_filename (g_getenv ("PONDER_BUILD_ROOT"), "tests",
                                           "screenshots", NULL);
  g_autofree char *file = NULL;
  g_autofree char *png = g_strconcat (name, ".png", NULL);
  g_autoptr(GdkPaintable) paintable = NULL;
  g_autoptr(GtkSnapshot) snapshot = NULL;
  g_autoptr(GskRenderNode) node = NULL;
  g_autoptr(GdkTexture) texture = NULL;
  GskRenderer *renderer;
  graphene_rect_t bounds;
  int width;
  int height;
  guint tries;

  g_assert_true (wait_for (allocated, widget, WAIT_MS));
  settle (settle_ms);
  width = gtk_widget_get_width (widget);
  height = gtk_widget_get_height (widget);
  g_mkdir_with_parents (dir, 0755);
  file = g_build_filename (dir, png, NULL);

  /* While text streams, a frame may be mid-layout and draw nothing: retry. */
  paintable = gtk_widget_paintable_new (widget);
  for (tries = 0; node == NULL && tries < 50; tries++)
    {
      if (tries > 0)
        settle (50);
      width = gtk_widget_get_width (widget);
      height = gtk_widget_get_height (widget);
      snapshot = gtk_snapshot_new ();
      gdk_paintable_snapshot (paintable, GDK_SNAPSHOT (snapshot), width, height);
      node = gtk_snapshot_free_to_node (g_steal_pointer (&snapshot));
    }
  g_assert_nonnull (node);
  renderer = gtk_native_get_renderer (gtk_widget_get_native (widget));
  graphene_rect_init (&bounds, 0, 0, width, height);
  texture = gsk_renderer_render_texture (renderer, node, &bounds);
  g_assert_true (gdk_texture_save_to_png (texture, file));
  g_test_message ("screenshot %s", file);
}

GPtrArray *
transcript_rows (PonderWindow *window)
{
  GPtrArray *rows = g_ptr_array_new ();
  GtkWidget *child;

  for (child = gtk_widget_get_first_child (ponder_window_get_transcript (window));
       child != NULL; child = gtk_widget_get_next_sibling (child))
    g_ptr_array_add (rows, child);
  return rows;
}

guint
n_children (GtkWidget *widget)
{
  GtkWidget *child;
  guint n = 0;

  for (child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    n++;
  return n;
}

PonderMessageRow *
row_at (PonderWindow *window,
        guint         index)
{
  g_autoptr(GPtrArray) rows = transcript_rows (window);

  g_assert_cmpuint (index, <, rows->len);
  return PONDER_MESSAGE_ROW (g_ptr_array_index (rows, index));
}

void
send (PonderWindow *window,
      const char   *text)
{
  ponder_window_set_composer_text (window, text);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.send", NULL));
  g_assert_true (ponder_window_get_busy (window));
  g_assert_true (wait_for (idle_window, window, WAIT_MS));
}

PonderWindow *
new_window (PonderApplication *app,
            PonderHistory     *history)
{
  PonderWindow *window = ponder_window_new (GTK_APPLICATION (app), history);
  PonderHistorySampling greedy;

  ponder_history_sampling_init_default (&greedy);
  greedy.temperature = 0.0;
  greedy.seed = 1;
  ponder_window_set_default_sampling (window, &greedy);
  gtk_window_set_default_size (GTK_WINDOW (window), 1000, 700);
  gtk_window_present (GTK_WINDOW (window));
  return window;
}

void
collect (GtkWidget  *widget,
         GPtrArray  *out,
         GType       type)
{
  GtkWidget *child;

  if (G_TYPE_CHECK_INSTANCE_TYPE (widget, type))
    g_ptr_array_add (out, widget);
  for (child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    collect (child, out, type);
}

void
sidecar_load (const char      *model_path,
              ScriptedSidecar *out)
{
  g_autofree char *json_path = g_strconcat (model_path, ".json", NULL);
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  JsonObject *root;

  json_parser_load_from_file (parser, json_path, &error);
  g_assert_no_error (error);
  root = json_node_get_object (json_parser_get_root (parser));
  out->answer = g_strdup (json_object_get_string_member (root, "answer"));
  out->reasoning = g_strdup (json_object_get_string_member (root, "reasoning"));
  out->n_reasoning_ids = json_array_get_length (json_object_get_array_member (root,
                                                                              "reasoning_ids"));
}

GtkWindow *
find_toplevel (GType type)
{
  GList *toplevels = gtk_window_list_toplevels ();
  GtkWindow *found = NULL;
  GList *l;

  for (l = toplevels; l != NULL; l = l->next)
    if (G_TYPE_CHECK_INSTANCE_TYPE (l->data, type) && gtk_widget_get_visible (l->data))
      found = l->data;
  g_list_free (toplevels);
  return found;
}
