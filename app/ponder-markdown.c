/* ponder-markdown.c — markdown (cmark-gfm) to GTK widgets
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Each block becomes a widget: paragraphs and headings are labels whose
 * emphasis, code spans and links are PangoAttrLists built from the AST, so
 * model text is never parsed as Pango markup; code blocks are monospace
 * labels with a copy button; tables are GtkGrids. Raw HTML is shown as text.
 * Math is still shown as its TeX source.
 */

#define G_LOG_DOMAIN "ponder-markdown"

#include <glib/gi18n.h>
#include <cmark-gfm.h>
#include <cmark-gfm-core-extensions.h>

#include "ponder-markdown.h"

/* Deeper nesting is flattened to text: a hostile input cannot recurse the
 * widget builder into a stack overflow or a million-widget tree. */
#define MAX_DEPTH 16

static void render_block (GtkWidget *box, cmark_node *node, guint depth);

static gboolean
is_type (cmark_node *node,
         const char *name)
{
  return g_strcmp0 (cmark_node_get_type_string (node), name) == 0;
}

static void
add_attr (PangoAttrList  *attrs,
          PangoAttribute *attr,
          gsize           start,
          gsize           end)
{
  attr->start_index = start;
  attr->end_index = end;
  pango_attr_list_insert (attrs, attr);
}

/* Appends the inline content of @node to @text, styling it in @attrs. */
static void
collect_inlines (cmark_node    *node,
                 GString       *text,
                 PangoAttrList *attrs,
                 guint          depth)
{
  cmark_node *child;
  gsize start = text->len;
  const char *literal;

  switch (cmark_node_get_type (node))
    {
    case CMARK_NODE_TEXT:
    case CMARK_NODE_HTML_INLINE:
    case CMARK_NODE_HTML_BLOCK:
      literal = cmark_node_get_literal (node);
      g_string_append (text, literal != NULL ? literal : "");
      return;
    case CMARK_NODE_CODE:
      literal = cmark_node_get_literal (node);
      g_string_append (text, literal != NULL ? literal : "");
      add_attr (attrs, pango_attr_family_new ("monospace"), start, text->len);
      return;
    case CMARK_NODE_SOFTBREAK:
      g_string_append_c (text, ' ');
      return;
    case CMARK_NODE_LINEBREAK:
      g_string_append_c (text, '\n');
      return;
    default:
      break;
    }

  for (child = cmark_node_first_child (node); child != NULL; child = cmark_node_next (child))
    if (depth < MAX_DEPTH)
      collect_inlines (child, text, attrs, depth + 1);

  switch (cmark_node_get_type (node))
    {
    case CMARK_NODE_EMPH:
      add_attr (attrs, pango_attr_style_new (PANGO_STYLE_ITALIC), start, text->len);
      break;
    case CMARK_NODE_STRONG:
      add_attr (attrs, pango_attr_weight_new (PANGO_WEIGHT_BOLD), start, text->len);
      break;
    case CMARK_NODE_LINK:
      add_attr (attrs, pango_attr_underline_new (PANGO_UNDERLINE_SINGLE), start, text->len);
      add_attr (attrs, pango_attr_foreground_new (0x1c00, 0x7100, 0xd800), start, text->len);
      break;
    default:
      if (is_type (node, "strikethrough"))
        add_attr (attrs, pango_attr_strikethrough_new (TRUE), start, text->len);
      break;
    }
}

static GtkWidget *
text_label (const char    *text,
            PangoAttrList *attrs)
{
  GtkWidget *label = gtk_label_new (NULL);

  gtk_label_set_text (GTK_LABEL (label), text);
  if (attrs != NULL)
    gtk_label_set_attributes (GTK_LABEL (label), attrs);
  gtk_label_set_wrap (GTK_LABEL (label), TRUE);
  gtk_label_set_wrap_mode (GTK_LABEL (label), PANGO_WRAP_WORD_CHAR);
  gtk_label_set_selectable (GTK_LABEL (label), TRUE);
  gtk_label_set_xalign (GTK_LABEL (label), 0.0);
  gtk_widget_set_focusable (label, FALSE);
  return label;
}

static GtkWidget *
inline_label (cmark_node *node)
{
  g_autoptr(GString) text = g_string_new (NULL);
  PangoAttrList *attrs = pango_attr_list_new ();
  GtkWidget *label;

  collect_inlines (node, text, attrs, 0);
  label = text_label (text->str, attrs);
  pango_attr_list_unref (attrs);
  return label;
}

static void
on_copy_clicked (GtkButton *button)
{
  const char *text = g_object_get_data (G_OBJECT (button), "code");

  gdk_clipboard_set_text (gtk_widget_get_clipboard (GTK_WIDGET (button)), text);
}

static GtkWidget *
code_block (cmark_node *node)
{
  const char *literal = cmark_node_get_literal (node);
  const char *info = cmark_node_get_fence_info (node);
  g_autofree char *code = g_strdup (literal != NULL ? literal : "");
  GtkWidget *frame = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  GtkWidget *header = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  GtkWidget *lang = gtk_label_new (NULL);
  GtkWidget *copy = gtk_button_new_from_icon_name ("edit-copy-symbolic");
  GtkWidget *scroller = gtk_scrolled_window_new ();
  GtkWidget *label;
  gsize len = strlen (code);

  /* The last newline of a fence is not part of what people copy. */
  if (len > 0 && code[len - 1] == '\n')
    code[len - 1] = '\0';

  gtk_widget_add_css_class (frame, "code-block");
  gtk_widget_add_css_class (frame, "card");
  gtk_label_set_text (GTK_LABEL (lang), info != NULL && info[0] != '\0' ? info : _("code"));
  gtk_widget_add_css_class (lang, "dim-label");
  gtk_widget_add_css_class (lang, "caption");
  gtk_widget_set_hexpand (lang, TRUE);
  gtk_label_set_xalign (GTK_LABEL (lang), 0.0);
  gtk_widget_add_css_class (copy, "flat");
  gtk_widget_set_tooltip_text (copy, _("Copy Code"));
  gtk_accessible_update_property (GTK_ACCESSIBLE (copy), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("Copy Code"), -1);
  g_object_set_data_full (G_OBJECT (copy), "code", g_strdup (code), g_free);
  g_signal_connect (copy, "clicked", G_CALLBACK (on_copy_clicked), NULL);
  gtk_box_append (GTK_BOX (header), lang);
  gtk_box_append (GTK_BOX (header), copy);

  label = gtk_label_new (NULL);
  gtk_label_set_text (GTK_LABEL (label), code);
  gtk_label_set_selectable (GTK_LABEL (label), TRUE);
  gtk_label_set_xalign (GTK_LABEL (label), 0.0);
  gtk_widget_set_focusable (label, FALSE);
  gtk_widget_add_css_class (label, "monospace");
  gtk_widget_add_css_class (label, "code");
  gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (scroller), GTK_POLICY_AUTOMATIC,
                                  GTK_POLICY_NEVER);
  gtk_scrolled_window_set_propagate_natural_height (GTK_SCROLLED_WINDOW (scroller), TRUE);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scroller), label);

  gtk_box_append (GTK_BOX (frame), header);
  gtk_box_append (GTK_BOX (frame), scroller);
  return frame;
}

static GtkWidget *
table_grid (cmark_node *table)
{
  GtkWidget *grid = gtk_grid_new ();
  cmark_node *row;
  int r = 0;

  gtk_widget_add_css_class (grid, "md-table");
  gtk_grid_set_column_spacing (GTK_GRID (grid), 0);
  for (row = cmark_node_first_child (table); row != NULL; row = cmark_node_next (row), r++)
    {
      cmark_node *cell;
      int c = 0;

      for (cell = cmark_node_first_child (row); cell != NULL; cell = cmark_node_next (cell), c++)
        {
          GtkWidget *label = inline_label (cell);

          gtk_widget_add_css_class (label, r == 0 ? "md-table-header" : "md-table-cell");
          gtk_grid_attach (GTK_GRID (grid), label, c, r, 1, 1);
        }
    }
  /* Cells wrap, so the grid fits the width without its own scroller. */
  gtk_widget_set_halign (grid, GTK_ALIGN_START);
  return grid;
}

static GtkWidget *
list_block (cmark_node *list,
            guint       depth)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 4);
  gboolean ordered = cmark_node_get_list_type (list) == CMARK_ORDERED_LIST;
  int number = cmark_node_get_list_start (list);
  cmark_node *item;

  for (item = cmark_node_first_child (list); item != NULL; item = cmark_node_next (item))
    {
      GtkWidget *line = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
      GtkWidget *content = gtk_box_new (GTK_ORIENTATION_VERTICAL, 4);
      g_autofree char *marker = ordered ? g_strdup_printf ("%d.", number++) : g_strdup ("•");
      GtkWidget *bullet = gtk_label_new (marker);
      cmark_node *child;

      gtk_widget_set_valign (bullet, GTK_ALIGN_START);
      gtk_widget_add_css_class (bullet, "numeric");
      gtk_widget_set_hexpand (content, TRUE);
      for (child = cmark_node_first_child (item); child != NULL; child = cmark_node_next (child))
        render_block (content, child, depth + 1);
      gtk_box_append (GTK_BOX (line), bullet);
      gtk_box_append (GTK_BOX (line), content);
      gtk_box_append (GTK_BOX (box), line);
    }
  return box;
}

static void
render_block (GtkWidget  *box,
              cmark_node *node,
              guint       depth)
{
  GtkWidget *widget = NULL;
  cmark_node *child;

  if (depth >= MAX_DEPTH)
    {
      widget = inline_label (node);
      gtk_box_append (GTK_BOX (box), widget);
      return;
    }

  switch (cmark_node_get_type (node))
    {
    case CMARK_NODE_PARAGRAPH:
      widget = inline_label (node);
      break;
    case CMARK_NODE_HEADING:
      {
        static const char *classes[] = { "title-1", "title-2", "title-3", "title-4" };
        int level = CLAMP (cmark_node_get_heading_level (node), 1, 4);

        widget = inline_label (node);
        gtk_widget_add_css_class (widget, classes[level - 1]);
      }
      break;
    case CMARK_NODE_CODE_BLOCK:
      widget = code_block (node);
      break;
    case CMARK_NODE_HTML_BLOCK:
      widget = text_label (cmark_node_get_literal (node), NULL);
      break;
    case CMARK_NODE_THEMATIC_BREAK:
      widget = gtk_separator_new (GTK_ORIENTATION_HORIZONTAL);
      break;
    case CMARK_NODE_LIST:
      widget = list_block (node, depth);
      break;
    case CMARK_NODE_BLOCK_QUOTE:
      widget = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);
      gtk_widget_add_css_class (widget, "md-quote");
      for (child = cmark_node_first_child (node); child != NULL; child = cmark_node_next (child))
        render_block (widget, child, depth + 1);
      break;
    default:
      if (is_type (node, "table"))
        widget = table_grid (node);
      else
        widget = inline_label (node);
      break;
    }
  gtk_box_append (GTK_BOX (box), widget);
}

/**
 * ponder_markdown_view_new:
 *
 * Returns: (transfer floating): a vertical box with one widget per block
 */
GtkWidget *
ponder_markdown_view_new (const char *markdown)
{
  static const char *extensions[] = { "table", "strikethrough", "autolink" };
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 10);
  cmark_parser *parser;
  cmark_node *document;
  cmark_node *child;
  guint i;

  g_return_val_if_fail (markdown != NULL, NULL);

  cmark_gfm_core_extensions_ensure_registered ();
  parser = cmark_parser_new (CMARK_OPT_DEFAULT);
  for (i = 0; i < G_N_ELEMENTS (extensions); i++)
    {
      cmark_syntax_extension *ext = cmark_find_syntax_extension (extensions[i]);

      if (ext != NULL)
        cmark_parser_attach_syntax_extension (parser, ext);
    }
  cmark_parser_feed (parser, markdown, strlen (markdown));
  document = cmark_parser_finish (parser);

  gtk_widget_add_css_class (box, "markdown");
  for (child = cmark_node_first_child (document); child != NULL; child = cmark_node_next (child))
    render_block (box, child, 0);

  cmark_node_free (document);
  cmark_parser_free (parser);
  return box;
}
