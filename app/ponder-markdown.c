/* ponder-markdown.c — markdown (cmark-gfm) to GTK widgets
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Each block becomes a widget: paragraphs and headings are labels whose
 * emphasis, code spans and links are PangoAttrLists built from the AST, so
 * model text is never parsed as Pango markup; code blocks are GtkSourceView
 * views highlighted for the fence's language, with a copy button; tables
 * are GtkGrids. Raw HTML is shown as text.
 *
 * Math is found before cmark runs (ponder-markdown-math.c) and stands in
 * the text as placeholder characters. Inline formulas become shape
 * attributes of their label; the label's text keeps the TeX source behind
 * them (zero-width), so copying a selection gives the TeX. Display math
 * that is a direct part of a paragraph splits it, centred on its own line.
 */

#define G_LOG_DOMAIN "ponder-markdown"

#include <glib/gi18n.h>
#include <adwaita.h>
#include <cmark-gfm.h>
#include <cmark-gfm-core-extensions.h>
#include <gtksourceview/gtksource.h>

#include "ponder-markdown.h"
#include "ponder-markdown-links.h"
#include "ponder-markdown-math.h"
#include "ponder-math.h"

/* Deeper nesting is flattened to text: a hostile input cannot recurse the
 * widget builder into a stack overflow or a million-widget tree. */
#define MAX_DEPTH 16

typedef struct
{
  const char   *source;   /* the markdown as written (spans index into it) */
  GArray       *spans;    /* PonderMathSpan */
  PangoContext *context;  /* fonts for laying out formulas */
} Render;

/* Inline content being gathered into one label. */
typedef struct
{
  Render        *render;
  GString       *text;
  PangoAttrList *attrs;
  gboolean       has_math;
  GtkWidget     *split_box;  /* display math splits the paragraph into here */
  GArray        *links;      /* PonderMarkdownLinkRange in text */
} Inlines;

static void render_block (Render *r, GtkWidget *box, cmark_node *node, guint depth);

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

static const PonderMathSpan *
span_at (Render *r,
         guint   index)
{
  return index < r->spans->len ? &g_array_index (r->spans, PonderMathSpan, index) : NULL;
}

/* @literal with every placeholder turned back into the TeX it hides: code
 * and raw HTML show exactly what was written. */
static char *
restore_math (Render     *r,
              const char *literal)
{
  GString *out = g_string_new (NULL);
  const char *p;

  if (literal == NULL)
    return g_string_free (out, FALSE);
  for (p = literal; *p != '\0';)
    {
      const PonderMathSpan *span;
      guint index;

      if (ponder_markdown_math_placeholder (p, &index) && (span = span_at (r, index)) != NULL)
        {
          g_string_append_len (out, r->source + span->start, span->end - span->start);
          p = g_utf8_next_char (p);
          continue;
        }
      g_string_append_c (out, *p++);
    }
  return g_string_free (out, FALSE);
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

/* Appends @len bytes of text; the first words after split-off display
 * math lose their leading blank. */
static void
append_text (Inlines    *in,
             const char *text,
             gsize       len)
{
  if (in->text->len == 0 && in->split_box != NULL)
    while (len > 0 && g_ascii_isspace (*text))
      text++, len--;
  g_string_append_len (in->text, text, len);
}

static gboolean
only_blanks (const char *text)
{
  for (; *text != '\0'; text++)
    if (!g_ascii_isspace (*text))
      return FALSE;
  return TRUE;
}

static GtkWidget *
finish_label (Inlines *in)
{
  GtkWidget *label = text_label (in->text->str, in->attrs);

  if (in->has_math)
    ponder_math_label_prepare (GTK_LABEL (label));
  ponder_markdown_links_attach (GTK_LABEL (label), in->links);
  g_array_set_size (in->links, 0);
  g_string_truncate (in->text, 0);
  pango_attr_list_unref (in->attrs);
  in->attrs = pango_attr_list_new ();
  in->has_math = FALSE;
  return label;
}

static GtkWidget *
display_math (const char *tex)
{
  GtkWidget *view = ponder_math_view_new (tex);
  GtkWidget *scroller;

  if (ponder_math_view_get_formula (PONDER_MATH_VIEW (view))->root == NULL)
    {
      g_object_ref_sink (view);
      g_object_unref (view);
      return NULL;
    }
  /* A formula wider than the message scrolls rather than widening it. */
  scroller = gtk_scrolled_window_new ();
  gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (scroller), GTK_POLICY_AUTOMATIC,
                                  GTK_POLICY_NEVER);
  gtk_scrolled_window_set_propagate_natural_height (GTK_SCROLLED_WINDOW (scroller), TRUE);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scroller), view);
  gtk_widget_add_css_class (scroller, "math-display");
  return scroller;
}

/* Inline math: the formula's shape on the first character of its source,
 * the rest of the source present but zero-sized (for copy and screen
 * readers). Beyond the parser's limits the source shows as text. */
static void
append_inline_math (Inlines              *in,
                    const PonderMathSpan *span)
{
  Render *r = in->render;
  g_autofree char *tex = g_strndup (r->source + span->tex_start, span->tex_end - span->tex_start);
  g_autoptr(PonderMathFormula) formula = ponder_math_formula_new (tex, span->display,
                                                                  r->context);
  gsize start = in->text->len;
  gsize i;

  g_string_append_len (in->text, r->source + span->start, span->end - span->start);
  /* A newline would end the Pango paragraph, even when hidden. */
  for (i = start; i < in->text->len; i++)
    if (in->text->str[i] == '\n' || in->text->str[i] == '\r')
      in->text->str[i] = ' ';
  if (formula->root == NULL)
    return;

  add_attr (in->attrs, ponder_math_inline_attr (formula), start, start + 1);
  if (in->text->len > start + 1)
    {
      PangoRectangle none = { 0, 0, 0, 0 };

      add_attr (in->attrs, pango_attr_shape_new (&none, &none), start + 1, in->text->len);
    }
  in->has_math = TRUE;
}

static void
collect_text (Inlines    *in,
              const char *literal,
              gboolean    may_split)
{
  const char *p = literal;
  const char *run = literal;

  while (*p != '\0')
    {
      const PonderMathSpan *span;
      guint index;

      if (!ponder_markdown_math_placeholder (p, &index) ||
          (span = span_at (in->render, index)) == NULL)
        {
          p++;
          continue;
        }
      append_text (in, run, p - run);
      if (span->display && may_split && in->split_box != NULL)
        {
          g_autofree char *tex = g_strndup (in->render->source + span->tex_start,
                                            span->tex_end - span->tex_start);
          GtkWidget *display = display_math (tex);

          if (display != NULL)
            {
              if (!only_blanks (in->text->str))
                gtk_box_append (GTK_BOX (in->split_box), finish_label (in));
              else
                g_string_truncate (in->text, 0);
              gtk_box_append (GTK_BOX (in->split_box), display);
            }
          else
            append_inline_math (in, span);
        }
      else
        append_inline_math (in, span);
      p = g_utf8_next_char (p);
      run = p;
    }
  append_text (in, run, p - run);
}

/* Appends the inline content of @node, styling it in in->attrs. Display
 * math may split the paragraph only where no styled span is open. */
static void
collect_inlines (Inlines    *in,
                 cmark_node *node,
                 guint       depth)
{
  cmark_node *child;
  gsize start = in->text->len;

  switch (cmark_node_get_type (node))
    {
    case CMARK_NODE_TEXT:
      collect_text (in, cmark_node_get_literal (node) ? cmark_node_get_literal (node) : "",
                    depth == 1);
      return;
    case CMARK_NODE_HTML_INLINE:
    case CMARK_NODE_HTML_BLOCK:
      {
        g_autofree char *literal = restore_math (in->render, cmark_node_get_literal (node));

        append_text (in, literal, strlen (literal));
      }
      return;
    case CMARK_NODE_CODE:
      {
        g_autofree char *literal = restore_math (in->render, cmark_node_get_literal (node));

        start = in->text->len;
        g_string_append (in->text, literal);
        add_attr (in->attrs, pango_attr_family_new ("monospace"), start, in->text->len);
      }
      return;
    case CMARK_NODE_SOFTBREAK:
      append_text (in, " ", 1);
      return;
    case CMARK_NODE_LINEBREAK:
      append_text (in, "\n", 1);
      return;
    default:
      break;
    }

  for (child = cmark_node_first_child (node); child != NULL; child = cmark_node_next (child))
    if (depth < MAX_DEPTH)
      collect_inlines (in, child, depth + 1);

  switch (cmark_node_get_type (node))
    {
    case CMARK_NODE_EMPH:
      add_attr (in->attrs, pango_attr_style_new (PANGO_STYLE_ITALIC), start, in->text->len);
      break;
    case CMARK_NODE_STRONG:
      add_attr (in->attrs, pango_attr_weight_new (PANGO_WEIGHT_BOLD), start, in->text->len);
      break;
    case CMARK_NODE_LINK:
      if (in->text->len > start && cmark_node_get_url (node) != NULL)
        {
          PonderMarkdownLinkRange link = { start, in->text->len, cmark_node_get_url (node) };

          g_array_append_val (in->links, link);
        }
      add_attr (in->attrs, pango_attr_underline_new (PANGO_UNDERLINE_SINGLE), start,
                in->text->len);
      add_attr (in->attrs, pango_attr_foreground_new (0x1c00, 0x7100, 0xd800), start,
                in->text->len);
      break;
    default:
      if (is_type (node, "strikethrough"))
        add_attr (in->attrs, pango_attr_strikethrough_new (TRUE), start, in->text->len);
      break;
    }
}

static GtkWidget *
inline_label (Render     *r,
              cmark_node *node)
{
  Inlines in = { r, g_string_new (NULL), pango_attr_list_new (), FALSE, NULL,
                 g_array_new (FALSE, FALSE, sizeof (PonderMarkdownLinkRange)) };
  GtkWidget *label;

  collect_inlines (&in, node, 0);
  label = finish_label (&in);
  g_string_free (in.text, TRUE);
  pango_attr_list_unref (in.attrs);
  g_array_unref (in.links);
  return label;
}

/* A paragraph: one label, or labels and display formulas in turn. */
static void
paragraph (Render     *r,
           GtkWidget  *box,
           cmark_node *node)
{
  Inlines in = { r, g_string_new (NULL), pango_attr_list_new (), FALSE, box,
                 g_array_new (FALSE, FALSE, sizeof (PonderMarkdownLinkRange)) };

  collect_inlines (&in, node, 0);
  if (!only_blanks (in.text->str))
    gtk_box_append (GTK_BOX (box), finish_label (&in));
  g_string_free (in.text, TRUE);
  pango_attr_list_unref (in.attrs);
  g_array_unref (in.links);
}

static void
on_copy_clicked (GtkButton *button)
{
  const char *text = g_object_get_data (G_OBJECT (button), "code");

  gdk_clipboard_set_text (gtk_widget_get_clipboard (GTK_WIDGET (button)), text);
}

/* The fence's first word to a GtkSourceView language: common short names
 * first, then the word as a file extension. */
static GtkSourceLanguage *
fence_language (const char *info)
{
  static const char *aliases[][2] = {
    { "py", "python3" }, { "python", "python3" }, { "py3", "python3" },
    { "javascript", "js" }, { "node", "js" }, { "ts", "typescript" },
    { "bash", "sh" }, { "shell", "sh" }, { "zsh", "sh" }, { "console", "sh" },
    { "c++", "cpp" }, { "cxx", "cpp" }, { "hpp", "cpp" }, { "h", "c" },
    { "cs", "c-sharp" }, { "csharp", "c-sharp" }, { "c#", "c-sharp" },
    { "rs", "rust" }, { "rb", "ruby" }, { "yml", "yaml" }, { "md", "markdown" },
    { "tex", "latex" }, { "golang", "go" }, { "kt", "kotlin" }, { "dockerfile", "docker" },
    { "make", "makefile" }, { "patch", "diff" }, { "jl", "julia" }, { "hs", "haskell" },
    { "pl", "perl" }, { "ps1", "powershell" }, { "vb", "vbnet" }, { "htm", "html" },
  };
  GtkSourceLanguageManager *manager = gtk_source_language_manager_get_default ();
  GtkSourceLanguage *language;
  g_autofree char *word = NULL;
  g_autofree char *file = NULL;
  const char *end;
  guint i;

  if (info == NULL)
    return NULL;
  while (*info == ' ' || *info == '\t')
    info++;
  for (end = info; *end != '\0' && *end != ' ' && *end != '\t' && *end != '{'; end++)
    ;
  if (end == info || end - info > 32)
    return NULL;
  word = g_ascii_strdown (info, end - info);
  for (i = 0; i < G_N_ELEMENTS (aliases); i++)
    if (g_str_equal (word, aliases[i][0]))
      return gtk_source_language_manager_get_language (manager, aliases[i][1]);
  language = gtk_source_language_manager_get_language (manager, word);
  if (language != NULL)
    return language;
  file = g_strconcat ("code.", word, NULL);
  return gtk_source_language_manager_guess_language (manager, file, NULL);
}

static void
follow_style (GtkSourceBuffer *buffer)
{
  GtkSourceStyleSchemeManager *schemes = gtk_source_style_scheme_manager_get_default ();
  gboolean dark = adw_style_manager_get_dark (adw_style_manager_get_default ());
  GtkSourceStyleScheme *scheme;

  scheme = gtk_source_style_scheme_manager_get_scheme (schemes,
                                                       dark ? "Adwaita-dark" : "Adwaita");
  if (scheme == NULL)
    scheme = gtk_source_style_scheme_manager_get_scheme (schemes,
                                                         dark ? "classic-dark" : "classic");
  gtk_source_buffer_set_style_scheme (buffer, scheme);
}

static GtkWidget *
source_view (const char *code,
             const char *info)
{
  GtkSourceBuffer *buffer = gtk_source_buffer_new (NULL);
  GtkSourceLanguage *language = fence_language (info);
  GtkWidget *view;

  gtk_source_buffer_set_language (buffer, language);
  gtk_source_buffer_set_highlight_syntax (buffer, language != NULL);
  gtk_source_buffer_set_highlight_matching_brackets (buffer, FALSE);
  gtk_text_buffer_set_text (GTK_TEXT_BUFFER (buffer), code, -1);
  follow_style (buffer);
  /* The scheme follows the light/dark switch for as long as the buffer lives. */
  g_signal_connect_object (adw_style_manager_get_default (), "notify::dark",
                           G_CALLBACK (follow_style), buffer, G_CONNECT_SWAPPED);

  view = gtk_source_view_new_with_buffer (buffer);
  g_object_unref (buffer);
  gtk_text_view_set_editable (GTK_TEXT_VIEW (view), FALSE);
  gtk_text_view_set_cursor_visible (GTK_TEXT_VIEW (view), FALSE);
  gtk_text_view_set_monospace (GTK_TEXT_VIEW (view), TRUE);
  gtk_text_view_set_wrap_mode (GTK_TEXT_VIEW (view), GTK_WRAP_NONE);
  gtk_widget_add_css_class (view, "code");
  gtk_accessible_update_property (GTK_ACCESSIBLE (view), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("Code"), -1);
  return view;
}

static GtkWidget *
code_block (Render     *r,
            cmark_node *node)
{
  const char *info = cmark_node_get_fence_info (node);
  g_autofree char *code = restore_math (r, cmark_node_get_literal (node));
  GtkWidget *frame = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  GtkWidget *header = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  GtkWidget *lang = gtk_label_new (NULL);
  GtkWidget *copy = gtk_button_new_from_icon_name ("edit-copy-symbolic");
  GtkWidget *scroller = gtk_scrolled_window_new ();
  gsize len = strlen (code);

  /* The last newline of a fence is not part of what people copy. */
  if (len > 0 && code[len - 1] == '\n')
    code[len - 1] = '\0';

  gtk_widget_add_css_class (frame, "code-block");
  gtk_widget_add_css_class (frame, "card");
  gtk_label_set_text (GTK_LABEL (lang), info != NULL && info[0] != '\0' ? info : _("code"));
  gtk_label_set_ellipsize (GTK_LABEL (lang), PANGO_ELLIPSIZE_END);
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

  gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (scroller), GTK_POLICY_AUTOMATIC,
                                  GTK_POLICY_NEVER);
  gtk_scrolled_window_set_propagate_natural_height (GTK_SCROLLED_WINDOW (scroller), TRUE);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scroller), source_view (code, info));

  gtk_box_append (GTK_BOX (frame), header);
  gtk_box_append (GTK_BOX (frame), scroller);
  return frame;
}

static GtkWidget *
table_grid (Render     *r,
            cmark_node *table)
{
  GtkWidget *grid = gtk_grid_new ();
  cmark_node *row;
  int n = 0;

  gtk_widget_add_css_class (grid, "md-table");
  gtk_grid_set_column_spacing (GTK_GRID (grid), 0);
  for (row = cmark_node_first_child (table); row != NULL; row = cmark_node_next (row), n++)
    {
      cmark_node *cell;
      int c = 0;

      for (cell = cmark_node_first_child (row); cell != NULL; cell = cmark_node_next (cell), c++)
        {
          GtkWidget *label = inline_label (r, cell);

          gtk_widget_add_css_class (label, n == 0 ? "md-table-header" : "md-table-cell");
          gtk_grid_attach (GTK_GRID (grid), label, c, n, 1, 1);
        }
    }
  /* Cells wrap, so the grid fits the width without its own scroller. */
  gtk_widget_set_halign (grid, GTK_ALIGN_START);
  return grid;
}

static GtkWidget *
list_block (Render     *r,
            cmark_node *list,
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
        render_block (r, content, child, depth + 1);
      gtk_box_append (GTK_BOX (line), bullet);
      gtk_box_append (GTK_BOX (line), content);
      gtk_box_append (GTK_BOX (box), line);
    }
  return box;
}

static void
render_block (Render     *r,
              GtkWidget  *box,
              cmark_node *node,
              guint       depth)
{
  GtkWidget *widget = NULL;
  cmark_node *child;

  if (depth >= MAX_DEPTH)
    {
      widget = inline_label (r, node);
      gtk_box_append (GTK_BOX (box), widget);
      return;
    }

  switch (cmark_node_get_type (node))
    {
    case CMARK_NODE_PARAGRAPH:
      paragraph (r, box, node);
      return;
    case CMARK_NODE_HEADING:
      {
        static const char *classes[] = { "title-1", "title-2", "title-3", "title-4" };
        int level = CLAMP (cmark_node_get_heading_level (node), 1, 4);

        widget = inline_label (r, node);
        gtk_widget_add_css_class (widget, classes[level - 1]);
      }
      break;
    case CMARK_NODE_CODE_BLOCK:
      widget = code_block (r, node);
      break;
    case CMARK_NODE_HTML_BLOCK:
      {
        g_autofree char *literal = restore_math (r, cmark_node_get_literal (node));

        widget = text_label (literal, NULL);
      }
      break;
    case CMARK_NODE_THEMATIC_BREAK:
      widget = gtk_separator_new (GTK_ORIENTATION_HORIZONTAL);
      break;
    case CMARK_NODE_LIST:
      widget = list_block (r, node, depth);
      break;
    case CMARK_NODE_BLOCK_QUOTE:
      widget = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);
      gtk_widget_add_css_class (widget, "md-quote");
      for (child = cmark_node_first_child (node); child != NULL; child = cmark_node_next (child))
        render_block (r, widget, child, depth + 1);
      break;
    default:
      if (is_type (node, "table"))
        widget = table_grid (r, node);
      else
        widget = inline_label (r, node);
      break;
    }
  gtk_box_append (GTK_BOX (box), widget);
}

static gboolean
warm_up (gpointer user_data)
{
  GtkSourceStyleSchemeManager *schemes;

  gtk_source_init ();
  gtk_source_language_manager_get_language_ids (gtk_source_language_manager_get_default ());
  schemes = gtk_source_style_scheme_manager_get_default ();
  gtk_source_style_scheme_manager_get_scheme (schemes, "Adwaita");
  gtk_source_style_scheme_manager_get_scheme (schemes, "Adwaita-dark");
  return G_SOURCE_REMOVE;
}

/**
 * ponder_markdown_warm_up:
 *
 * Once the main loop is idle, sets up GtkSourceView and reads its language
 * list and style schemes (XML files): the first conversation opened used
 * to pay for that, about 40 ms of CPU in bench-app.
 */
void
ponder_markdown_warm_up (void)
{
  static gsize done;

  if (g_once_init_enter (&done))
    {
      g_idle_add_full (G_PRIORITY_LOW, warm_up, NULL, NULL);
      g_once_init_leave (&done, 1);
    }
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
  g_autofree char *valid = NULL;
  g_autofree char *hidden = NULL;
  g_autoptr(GArray) spans = NULL;
  cmark_parser *parser;
  cmark_node *document;
  cmark_node *child;
  Render render;
  gsize len;
  guint i;

  g_return_val_if_fail (markdown != NULL, NULL);

  gtk_source_init ();
  valid = g_utf8_make_valid (markdown, -1);
  len = strlen (valid);
  spans = ponder_markdown_find_math (valid, len);
  hidden = ponder_markdown_hide_math (valid, len, spans);
  render.source = valid;
  render.spans = spans;
  render.context = gtk_widget_get_pango_context (box);

  cmark_gfm_core_extensions_ensure_registered ();
  parser = cmark_parser_new (CMARK_OPT_DEFAULT);
  for (i = 0; i < G_N_ELEMENTS (extensions); i++)
    {
      cmark_syntax_extension *ext = cmark_find_syntax_extension (extensions[i]);

      if (ext != NULL)
        cmark_parser_attach_syntax_extension (parser, ext);
    }
  cmark_parser_feed (parser, hidden, strlen (hidden));
  document = cmark_parser_finish (parser);

  gtk_widget_add_css_class (box, "markdown");
  for (child = cmark_node_first_child (document); child != NULL; child = cmark_node_next (child))
    render_block (&render, box, child, 0);

  cmark_node_free (document);
  cmark_parser_free (parser);
  return box;
}
