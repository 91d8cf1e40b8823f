/* ponder-markdown-links.c — links in rendered messages
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Links are styled ranges of a plain-text label (the model's text is never
 * Pango markup), so GtkLabel's own link support cannot be used. Hovering a
 * link shows its target as a tooltip and a hand cursor; a click (not a drag
 * that selects text) opens it. Only web and mail addresses are opened: a
 * model can write any target, and file: or custom schemes could start
 * programs.
 */

#define G_LOG_DOMAIN "ponder-markdown"

#include <glib/gi18n.h>

#include "ponder-markdown-links.h"

typedef struct
{
  guint  start; /* byte range in the label's text */
  guint  end;
  char  *target;
} Link;

static void
link_clear (gpointer data)
{
  Link *link = data;

  g_free (link->target);
}

/* The array of Link of @label, or NULL. */
static GArray *
links_of (GtkLabel *label)
{
  return g_object_get_data (G_OBJECT (label), "ponder-links");
}

/**
 * ponder_markdown_link_at:
 * @x, @y: a point in @label's coordinates
 *
 * Returns: (nullable): the target of the link under the point, owned by
 * the label.
 */
const char *
ponder_markdown_link_at (GtkLabel *label,
                         double    x,
                         double    y)
{
  GArray *links = links_of (label);
  PangoLayout *layout;
  int offset_x, offset_y, index, trailing;

  if (links == NULL)
    return NULL;
  layout = gtk_label_get_layout (label);
  gtk_label_get_layout_offsets (label, &offset_x, &offset_y);
  if (!pango_layout_xy_to_index (layout, (int) ((x - offset_x) * PANGO_SCALE),
                                 (int) ((y - offset_y) * PANGO_SCALE), &index, &trailing))
    return NULL;
  for (guint i = 0; i < links->len; i++)
    {
      Link *link = &g_array_index (links, Link, i);

      if ((guint) index >= link->start && (guint) index < link->end)
        return link->target;
    }
  return NULL;
}

gboolean
ponder_markdown_link_can_open (const char *target)
{
  g_autofree char *scheme = target != NULL ? g_uri_parse_scheme (target) : NULL;

  return scheme != NULL && (g_ascii_strcasecmp (scheme, "http") == 0
                            || g_ascii_strcasecmp (scheme, "https") == 0
                            || g_ascii_strcasecmp (scheme, "mailto") == 0);
}

static void
on_motion (GtkEventControllerMotion *motion,
           double                    x,
           double                    y,
           gpointer                  user_data)
{
  GtkLabel *label = GTK_LABEL (gtk_event_controller_get_widget (GTK_EVENT_CONTROLLER (motion)));
  const char *target = ponder_markdown_link_at (label, x, y);

  gtk_widget_set_tooltip_text (GTK_WIDGET (label), target);
  gtk_widget_set_cursor_from_name (GTK_WIDGET (label), target != NULL ? "pointer" : NULL);
}

static void
on_released (GtkGestureClick *click,
             int              n_press,
             double           x,
             double           y,
             gpointer         user_data)
{
  GtkWidget *widget = gtk_event_controller_get_widget (GTK_EVENT_CONTROLLER (click));
  GtkLabel *label = GTK_LABEL (widget);
  const char *target = ponder_markdown_link_at (label, x, y);
  int start, end;

  if (target == NULL || n_press != 1 || !ponder_markdown_link_can_open (target))
    return;
  /* A press-drag-release selects text; only a plain click opens. */
  if (gtk_label_get_selection_bounds (label, &start, &end) && start != end)
    return;
  gtk_show_uri (GTK_WINDOW (gtk_widget_get_root (widget)), target, GDK_CURRENT_TIME);
}

/**
 * ponder_markdown_links_attach:
 * @ranges: (element-type PonderMarkdownLinkRange): the links of @label's text
 *
 * Makes the ranges of @label behave as links. The targets are copied.
 */
void
ponder_markdown_links_attach (GtkLabel *label,
                              GArray   *ranges)
{
  GArray *links;
  GtkEventController *motion;
  GtkGesture *click;
  g_autoptr(GString) description = g_string_new (NULL);

  if (ranges == NULL || ranges->len == 0)
    return;
  links = g_array_sized_new (FALSE, FALSE, sizeof (Link), ranges->len);
  g_array_set_clear_func (links, link_clear);
  for (guint i = 0; i < ranges->len; i++)
    {
      PonderMarkdownLinkRange *range = &g_array_index (ranges, PonderMarkdownLinkRange, i);
      Link link = { range->start, range->end, g_strdup (range->target) };

      g_array_append_val (links, link);
      g_string_append_printf (description, "%s%s", i > 0 ? ", " : "", range->target);
    }
  g_object_set_data_full (G_OBJECT (label), "ponder-links", links,
                          (GDestroyNotify) g_array_unref);

  motion = gtk_event_controller_motion_new ();
  g_signal_connect (motion, "motion", G_CALLBACK (on_motion), NULL);
  gtk_widget_add_controller (GTK_WIDGET (label), motion);
  click = gtk_gesture_click_new ();
  g_signal_connect (click, "released", G_CALLBACK (on_released), NULL);
  gtk_widget_add_controller (GTK_WIDGET (label), GTK_EVENT_CONTROLLER (click));

  /* A screen reader hears where the links in this text go. */
  gtk_accessible_update_property (GTK_ACCESSIBLE (label),
                                  GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, description->str, -1);
}
