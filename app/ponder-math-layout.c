/* ponder-math-layout.c — parse tree to positioned boxes, and drawing
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * TeX's model, simplified: four styles (display, text, script,
 * scriptscript), atom classes for spacing, glyph boxes measured by their
 * ink (so fractions and scripts sit tight), fraction bars and big
 * operators centred on the math axis (the middle of a minus sign). The
 * shift and gap constants are TeX's own values for Computer Modern
 * (num1 .677 em, denom1 .686 em, sup1 .413 em, sub1 .15 em, ...). Glyphs
 * are Pango layouts in a serif face; rules, root signs and stretched
 * delimiters are cairo paths. Drawing uses the cairo source colour, so
 * math follows the text colour of light and dark styles.
 */

#define G_LOG_DOMAIN "ponder-math"

#include <math.h>
#include <string.h>
#include <pango/pangocairo.h>

#include "ponder-math-private.h"

#define MATH_FAMILY "DejaVu Serif, Liberation Serif, serif"

typedef enum { STYLE_D, STYLE_T, STYLE_S, STYLE_SS } Style;

typedef struct
{
  PangoContext         *context;
  PangoFontDescription *font;
  double                base_px;
  double                axis;  /* at base size, pixels above the baseline */
} Layout;

static PonderMathBox *layout_node (Layout *l, const PonderMathNode *node, Style style);

static double
style_scale (Style style)
{
  return style == STYLE_SS ? 0.5 : style == STYLE_S ? 0.7 : 1.0;
}

static double
em (Layout *l,
    Style   style)
{
  return MAX (l->base_px * style_scale (style), 5.0);
}

static double
axis (Layout *l,
      Style   style)
{
  return l->axis * em (l, style) / l->base_px;
}

static double
thickness (Layout *l,
           Style   style)
{
  return MAX (1.0, 0.055 * em (l, style));
}

static Style
script_style (Style style)
{
  return style <= STYLE_T ? STYLE_S : STYLE_SS;
}

static PonderMathBox *
box_new (PonderMathBoxKind kind,
         PonderMathKind    construct)
{
  PonderMathBox *box = g_new0 (PonderMathBox, 1);

  box->kind = kind;
  box->construct = construct;
  return box;
}

static void
box_add (PonderMathBox *parent,
         PonderMathBox *child,
         double         x,
         double         y)
{
  parent->children = g_renew (PonderMathBox *, parent->children, parent->n_children + 1);
  parent->children[parent->n_children++] = child;
  if (child != NULL)
    {
      child->x = x;
      child->y = y;
    }
}

/* Ascent and descent of a group from where its children sit. */
static void
box_fit (PonderMathBox *box)
{
  guint i;

  box->ascent = 0;
  box->descent = 0;
  for (i = 0; i < box->n_children; i++)
    {
      PonderMathBox *c = box->children[i];

      if (c == NULL)
        continue;
      box->ascent = MAX (box->ascent, c->ascent - c->y);
      box->descent = MAX (box->descent, c->descent + c->y);
    }
}

void
ponder_math_box_free (PonderMathBox *box)
{
  guint i;

  if (box == NULL)
    return;
  for (i = 0; i < box->n_children; i++)
    ponder_math_box_free (box->children[i]);
  g_free (box->children);
  g_clear_object (&box->layout);
  g_free (box->text);
  g_free (box);
}

static PonderMathBox *
glyph (Layout     *l,
       const char *text,
       double      size,
       guint       flags)
{
  PonderMathBox *box = box_new (PONDER_MATH_BOX_GLYPH, PONDER_MATH_SYMBOL);
  PangoFontDescription *desc = pango_font_description_copy (l->font);
  PangoRectangle ink;
  PangoRectangle logical;

  pango_font_description_set_absolute_size (desc, size * PANGO_SCALE);
  if (flags & PONDER_MATH_FLAG_ITALIC)
    pango_font_description_set_style (desc, PANGO_STYLE_ITALIC);
  if (flags & PONDER_MATH_FLAG_BOLD)
    pango_font_description_set_weight (desc, PANGO_WEIGHT_BOLD);
  box->layout = pango_layout_new (l->context);
  pango_layout_set_font_description (box->layout, desc);
  pango_layout_set_text (box->layout, text, -1);
  pango_font_description_free (desc);

  pango_layout_get_extents (box->layout, &ink, &logical);
  box->text = g_strdup (text);
  box->size = size;
  box->baseline = (double) pango_layout_get_baseline (box->layout) / PANGO_SCALE;
  /* Italic letters lean past their advance: keep the overhang. */
  box->width = (double) MAX (logical.width, ink.x + ink.width) / PANGO_SCALE;
  if (ink.height > 0)
    {
      box->ascent = box->baseline - (double) ink.y / PANGO_SCALE;
      box->descent = (double) (ink.y + ink.height) / PANGO_SCALE - box->baseline;
    }
  return box;
}

static PonderMathBox *
empty (PonderMathKind construct,
       double         width)
{
  PonderMathBox *box = box_new (PONDER_MATH_BOX_GROUP, construct);

  box->width = width;
  return box;
}

static PonderMathBox *
rule (double width,
      double t)
{
  PonderMathBox *box = box_new (PONDER_MATH_BOX_RULE, PONDER_MATH_SYMBOL);

  box->width = width;
  box->ascent = t / 2;
  box->descent = t / 2;
  box->thickness = t;
  return box;
}

/* Spacing in mu (1/18 em) between two atom classes, from TeX's table;
 * negative entries are dropped in script styles. */
static int
class_space (PonderMathClass left,
             PonderMathClass right,
             Style           style)
{
  static const signed char table[7][7] = {
    /*            ord  op bin rel open close punct */
    /* ord   */ {  0,  3, -4, -5,  0,  0,  0 },
    /* op    */ {  3,  3,  0, -5,  0,  0,  0 },
    /* bin   */ { -4, -4,  0,  0, -4,  0,  0 },
    /* rel   */ { -5, -5,  0,  0, -5,  0,  0 },
    /* open  */ {  0,  0,  0,  0,  0,  0,  0 },
    /* close */ {  0,  3, -4, -5,  0,  0,  0 },
    /* punct */ { -3, -3,  0, -3, -3, -3, -3 },
  };
  int mu = table[left][right];

  if (mu < 0)
    return style >= STYLE_S ? 0 : -mu;
  return mu;
}

static PonderMathClass
node_class (const PonderMathNode *node)
{
  switch (node->kind)
    {
    case PONDER_MATH_SYMBOL:
    case PONDER_MATH_TEXT:
    case PONDER_MATH_DELIM:
    case PONDER_MATH_SCRIPTS:
      return node->cls;
    case PONDER_MATH_ROW:
    case PONDER_MATH_FRAC:
    case PONDER_MATH_SQRT:
    case PONDER_MATH_DELIMITED:
    case PONDER_MATH_BOXED:
    case PONDER_MATH_ACCENT:
    case PONDER_MATH_SPACE:
    case PONDER_MATH_ARRAY:
    case PONDER_MATH_ERROR:
    default:
      return PONDER_MATH_ORD;
    }
}

/* A row, optionally laid out as if an ordinary atom came before it (the
 * right-hand cells of aligned, where "&=" still wants space before =). */
static PonderMathBox *
layout_row (Layout               *l,
            const PonderMathNode *node,
            Style                 style,
            gboolean              lead)
{
  PonderMathBox *row = box_new (PONDER_MATH_BOX_GROUP, PONDER_MATH_ROW);
  g_autofree PonderMathClass *classes = g_new0 (PonderMathClass, node->n_children + 1);
  gboolean has_prev = lead;
  PonderMathClass prev = PONDER_MATH_ORD;
  gint last_atom = -1;
  double x = 0;
  guint i;

  /* TeX's rule: a binary operator with no left operand is ordinary. */
  for (i = 0; i < node->n_children; i++)
    {
      const PonderMathNode *child = node->children[i];
      PonderMathClass cls;

      if (child == NULL || child->kind == PONDER_MATH_SPACE)
        continue;
      cls = node_class (child);
      if (cls == PONDER_MATH_BIN &&
          (last_atom < 0 ? !lead : (classes[last_atom] == PONDER_MATH_BIN ||
                                    classes[last_atom] == PONDER_MATH_OP ||
                                    classes[last_atom] == PONDER_MATH_REL ||
                                    classes[last_atom] == PONDER_MATH_OPEN ||
                                    classes[last_atom] == PONDER_MATH_PUNCT)))
        cls = PONDER_MATH_ORD;
      if (last_atom >= 0 && classes[last_atom] == PONDER_MATH_BIN &&
          (cls == PONDER_MATH_REL || cls == PONDER_MATH_CLOSE || cls == PONDER_MATH_PUNCT))
        classes[last_atom] = PONDER_MATH_ORD;
      classes[i] = cls;
      last_atom = i;
    }
  if (last_atom >= 0 && classes[last_atom] == PONDER_MATH_BIN)
    classes[last_atom] = PONDER_MATH_ORD;

  for (i = 0; i < node->n_children; i++)
    {
      const PonderMathNode *child = node->children[i];
      PonderMathBox *box;

      if (child == NULL)
        continue;
      box = layout_node (l, child, style);
      if (child->kind != PONDER_MATH_SPACE)
        {
          if (has_prev)
            x += class_space (prev, classes[i], style) * em (l, style) / 18.0;
          prev = classes[i];
          has_prev = TRUE;
        }
      box_add (row, box, x, 0);
      x += box->width;
    }
  row->width = MAX (x, 0);
  box_fit (row);
  return row;
}

static PonderMathBox *
layout_symbol (Layout               *l,
               const PonderMathNode *node,
               Style                 style)
{
  PonderMathBox *box;
  PonderMathBox *group;
  gboolean integral;
  double scale;
  double center;

  if (!(node->flags & PONDER_MATH_FLAG_LARGE))
    return glyph (l, node->text, em (l, style), node->flags);

  /* Big operators grow in display style and centre on the axis. */
  integral = g_str_has_prefix (node->text, "∫") || g_str_has_prefix (node->text, "∬") ||
             g_str_has_prefix (node->text, "∭") || g_str_has_prefix (node->text, "∮");
  scale = style == STYLE_D ? (integral ? 1.8 : 1.6) : (integral ? 1.25 : 1.15);
  box = glyph (l, node->text, em (l, style) * scale, node->flags);
  group = box_new (PONDER_MATH_BOX_GROUP, PONDER_MATH_SYMBOL);
  center = (box->descent - box->ascent) / 2;
  box_add (group, box, 0, -axis (l, style) - center);
  group->width = box->width;
  box_fit (group);
  return group;
}

static Style
fraction_style (const PonderMathNode *node,
                Style                 style,
                Style                *outer)
{
  if (node->flags & PONDER_MATH_FLAG_DISPLAY)
    *outer = STYLE_D;
  else if (node->flags & PONDER_MATH_FLAG_SMALL)
    *outer = MAX (style, STYLE_T);
  else
    *outer = style;
  return *outer == STYLE_D ? STYLE_T : *outer == STYLE_T ? STYLE_S : STYLE_SS;
}

static PonderMathBox *
layout_frac (Layout               *l,
             const PonderMathNode *node,
             Style                 style)
{
  PonderMathBox *frac = box_new (PONDER_MATH_BOX_GROUP, PONDER_MATH_FRAC);
  gboolean bar = !(node->flags & PONDER_MATH_FLAG_NOBAR);
  Style outer;
  Style inner = fraction_style (node, style, &outer);
  PonderMathBox *num = layout_node (l, node->children[0], inner);
  PonderMathBox *den = layout_node (l, node->children[1], inner);
  double e = em (l, outer);
  double t = thickness (l, outer);
  double a = axis (l, outer);
  double gap = outer == STYLE_D ? 3 * t : t;
  double pad = 0.12 * e;
  double w = MAX (num->width, den->width) + 2 * pad;
  double num_y;
  double den_y;

  if (!bar)
    gap = outer == STYLE_D ? 3.5 * t : 1.5 * t;
  num_y = -(a + t / 2 + gap + num->descent);
  den_y = -a + t / 2 + gap + den->ascent;
  num_y = MIN (num_y, -(outer == STYLE_D ? 0.677 : 0.394) * e);
  den_y = MAX (den_y, (outer == STYLE_D ? 0.686 : 0.345) * e);

  box_add (frac, num, (w - num->width) / 2, num_y);
  box_add (frac, bar ? rule (w - pad * 0.6, t) : NULL, pad * 0.3, -a);
  box_add (frac, den, (w - den->width) / 2, den_y);
  frac->width = w;
  box_fit (frac);
  return frac;
}

static PonderMathBox *
layout_sqrt (Layout               *l,
             const PonderMathNode *node,
             Style                 style)
{
  PonderMathBox *root = box_new (PONDER_MATH_BOX_GROUP, PONDER_MATH_SQRT);
  PonderMathBox *radicand = layout_node (l, node->children[0], style);
  PonderMathBox *index = NULL;
  PonderMathBox *sign = box_new (PONDER_MATH_BOX_RADICAL, PONDER_MATH_SQRT);
  double e = em (l, style);
  double t = thickness (l, style);
  double gap = style == STYLE_D ? 0.18 * e : 0.12 * e;
  double top = MAX (radicand->ascent, 0.7 * e) + gap + t;
  double bottom = MAX (radicand->descent, 0.15 * e) + 0.05 * e;
  double sign_w = 0.45 * e + 0.05 * (top + bottom);
  double shift = 0;

  if (node->children[1] != NULL)
    {
      index = layout_node (l, node->children[1], STYLE_SS);
      shift = MAX (0, index->width - 0.55 * sign_w);
    }
  sign->width = sign_w;
  sign->ascent = top;
  sign->descent = bottom;
  sign->thickness = t;

  box_add (root, radicand, shift + sign_w + 0.05 * e, 0);
  box_add (root, index, shift + 0.55 * sign_w - (index != NULL ? index->width : 0),
           bottom - 0.6 * (top + bottom) - (index != NULL ? index->descent : 0));
  box_add (root, sign, shift, 0);
  box_add (root, rule (radicand->width + 0.15 * e, t), shift + sign_w, -(top - t / 2));
  root->width = shift + sign_w + radicand->width + 0.15 * e;
  box_fit (root);
  return root;
}

static gboolean
takes_limits (const PonderMathNode *node,
              Style                 style)
{
  const PonderMathNode *base = node->children[0];

  if (node->flags & PONDER_MATH_FLAG_ALWAYS_LIMITS)
    return TRUE;
  if (style != STYLE_D || base == NULL || (base->flags & PONDER_MATH_FLAG_NOLIMITS))
    return FALSE;
  return (base->flags & (PONDER_MATH_FLAG_LIMITS | PONDER_MATH_FLAG_ALWAYS_LIMITS)) != 0;
}

static PonderMathBox *
layout_scripts (Layout               *l,
                const PonderMathNode *node,
                Style                 style)
{
  PonderMathBox *scripts = box_new (PONDER_MATH_BOX_GROUP, PONDER_MATH_SCRIPTS);
  const PonderMathNode *base_node = node->children[0];
  PonderMathBox *base = base_node != NULL ? layout_node (l, base_node, style) : NULL;
  Style ss = script_style (style);
  PonderMathBox *sub = node->children[1] != NULL ? layout_node (l, node->children[1], ss) : NULL;
  PonderMathBox *sup = node->children[2] != NULL ? layout_node (l, node->children[2], ss) : NULL;
  double e = em (l, style);
  double base_w = base != NULL ? base->width : 0;
  double base_asc = base != NULL ? base->ascent : 0;
  double base_desc = base != NULL ? base->descent : 0;

  if (takes_limits (node, style))
    {
      double gap = 0.12 * e;
      double w = MAX (base_w, MAX (sub != NULL ? sub->width : 0, sup != NULL ? sup->width : 0));

      box_add (scripts, base, (w - base_w) / 2, 0);
      box_add (scripts, sub, sub != NULL ? (w - sub->width) / 2 : 0,
               sub != NULL ? base_desc + gap + sub->ascent : 0);
      box_add (scripts, sup, sup != NULL ? (w - sup->width) / 2 : 0,
               sup != NULL ? -(base_asc + gap + sup->descent) : 0);
      scripts->width = w;
    }
  else
    {
      /* A glyph's scripts sit at fixed shifts; a taller base pushes them
       * out from its own top and bottom. */
      gboolean simple = base == NULL || base->kind == PONDER_MATH_BOX_GLYPH;
      double t = thickness (l, style);
      double u = (style == STYLE_D ? 0.413 : 0.363) * e;
      double v = (sup != NULL ? 0.247 : 0.15) * e;
      double script_w = 0;

      if (!simple)
        {
          u = MAX (u, base_asc - 0.27 * e);
          v = MAX (v, base_desc + 0.05 * e);
        }
      if (sup != NULL)
        u = MAX (u, sup->descent + 0.11 * e);
      if (sub != NULL)
        v = MAX (v, sub->ascent - 0.344 * e);
      if (sub != NULL && sup != NULL && (v - sub->ascent) - (sup->descent - u) < 4 * t)
        v = 4 * t + sub->ascent + sup->descent - u;

      box_add (scripts, base, 0, 0);
      box_add (scripts, sub, base_w, v);
      box_add (scripts, sup, base_w + 0.03 * e, -u);
      if (sub != NULL)
        script_w = sub->width;
      if (sup != NULL)
        script_w = MAX (script_w, sup->width + 0.03 * e);
      scripts->width = base_w + script_w + 0.05 * e;
    }
  box_fit (scripts);
  return scripts;
}

/* A delimiter at least @height tall, centred on the axis: the font's own
 * glyph while that is tall enough, else a drawn path. */
static PonderMathBox *
delimiter (Layout     *l,
           const char *text,
           double      height,
           Style       style)
{
  double e = em (l, style);
  PonderMathBox *box;

  if (text == NULL || text[0] == '\0')
    return empty (PONDER_MATH_DELIM, 0.12 * e);
  if (height <= 1.15 * e || strstr ("()[]{}|‖⟨⟩⌊⌋⌈⌉", text) == NULL)
    return glyph (l, text, e, 0);

  box = box_new (PONDER_MATH_BOX_DELIM, PONDER_MATH_DELIM);
  box->text = g_strdup (text);
  box->thickness = thickness (l, style) * 1.2;
  box->ascent = height / 2 + axis (l, style);
  box->descent = height / 2 - axis (l, style);
  if (strchr ("()", text[0]) != NULL)
    box->width = MIN (0.35 * e + 0.04 * height, 0.7 * e);
  else if (strchr ("{}", text[0]) != NULL)
    box->width = MIN (0.4 * e + 0.04 * height, 0.7 * e);
  else
    box->width = 0.4 * e;
  return box;
}

static PonderMathBox *
layout_delimited (Layout               *l,
                  const PonderMathNode *node,
                  Style                 style)
{
  PonderMathBox *group = box_new (PONDER_MATH_BOX_GROUP, PONDER_MATH_DELIMITED);
  PonderMathBox *content = layout_node (l, node->children[0], style);
  double a = axis (l, style);
  double half = MAX (content->ascent - a, content->descent + a);
  double height = MAX (2 * half * 0.901, 2 * half - 0.5 * em (l, style));
  PonderMathBox *left = delimiter (l, node->text, height, style);
  PonderMathBox *right = delimiter (l, node->text2, height, style);

  box_add (group, left, 0, 0);
  box_add (group, content, left->width, 0);
  box_add (group, right, left->width + content->width, 0);
  group->width = left->width + content->width + right->width;
  box_fit (group);
  return group;
}

static PonderMathBox *
layout_boxed (Layout               *l,
              const PonderMathNode *node,
              Style                 style)
{
  PonderMathBox *group = box_new (PONDER_MATH_BOX_GROUP, PONDER_MATH_BOXED);
  PonderMathBox *content = layout_node (l, node->children[0], style);
  PonderMathBox *frame = box_new (PONDER_MATH_BOX_FRAME, PONDER_MATH_BOXED);
  double t = thickness (l, style);
  double pad = 0.25 * em (l, style);

  frame->thickness = t;
  frame->width = content->width + 2 * (pad + t);
  frame->ascent = content->ascent + pad + t;
  frame->descent = content->descent + pad + t;
  box_add (group, content, pad + t, 0);
  box_add (group, frame, 0, 0);
  group->width = frame->width;
  box_fit (group);
  return group;
}

static PonderMathBox *
layout_accent (Layout               *l,
               const PonderMathNode *node,
               Style                 style)
{
  PonderMathBox *group = box_new (PONDER_MATH_BOX_GROUP, PONDER_MATH_ACCENT);
  PonderMathBox *content = layout_node (l, node->children[0], style);
  double e = em (l, style);
  double t = thickness (l, style);
  double gap = 0.08 * e;

  box_add (group, content, 0, 0);
  if (node->flags & PONDER_MATH_FLAG_OVER)
    box_add (group, rule (content->width, t), 0, -(content->ascent + gap + t / 2));
  else if (node->flags & PONDER_MATH_FLAG_UNDER)
    box_add (group, rule (content->width, t), 0, content->descent + gap + t / 2);
  else
    {
      gboolean arrow = g_str_equal (node->text, "→") || g_str_equal (node->text, "←");
      PonderMathBox *mark = glyph (l, node->text, arrow ? 0.7 * e : e, 0);
      double skew = content->kind == PONDER_MATH_BOX_GLYPH &&
                    (node->children[0]->flags & PONDER_MATH_FLAG_ITALIC) ? 0.08 * e : 0;

      box_add (group, mark, (content->width - mark->width) / 2 + skew,
               -(MAX (content->ascent, 0.45 * e) + 0.05 * e) - mark->descent);
    }
  group->width = content->width;
  box_fit (group);
  return group;
}

static char
column_align (const char *spec,
              guint       column)
{
  gsize n = spec != NULL ? strlen (spec) : 0;

  if (n == 0)
    return 'c';
  if (g_str_equal (spec, "rl") || g_str_equal (spec, "rcl"))
    return spec[column % n];
  return spec[MIN (column, n - 1)];
}

static PonderMathBox *
layout_array (Layout               *l,
              const PonderMathNode *node,
              Style                 style)
{
  PonderMathBox *array = box_new (PONDER_MATH_BOX_GROUP, PONDER_MATH_ARRAY);
  gboolean aligned = node->text != NULL && node->text[0] == 'r' && strlen (node->text) <= 3 &&
                     node->text[strlen (node->text) - 1] == 'l';
  Style cell_style = aligned ? style : MAX (style, STYLE_T);
  double e = em (l, cell_style);
  guint n_rows = node->n_children;
  guint n_cols = 0;
  g_autofree double *col_w = NULL;
  g_autofree double *col_x = NULL;
  g_autofree PonderMathBox **cells = NULL;
  double total_h = 0;
  double y;
  guint r, c;

  for (r = 0; r < n_rows; r++)
    n_cols = MAX (n_cols, node->children[r]->n_children);
  col_w = g_new0 (double, n_cols + 1);
  col_x = g_new0 (double, n_cols + 1);
  cells = g_new0 (PonderMathBox *, (gsize) n_rows * n_cols + 1);

  for (r = 0; r < n_rows; r++)
    {
      const PonderMathNode *row = node->children[r];

      for (c = 0; c < row->n_children; c++)
        {
          const PonderMathNode *cell = row->children[c];
          gboolean lead = aligned && c % 2 == 1;
          PonderMathBox *box;

          if (cell->kind == PONDER_MATH_ROW)
            box = layout_row (l, cell, cell_style, lead);
          else
            box = layout_node (l, cell, cell_style);
          cells[r * n_cols + c] = box;
          col_w[c] = MAX (col_w[c], box->width);
        }
    }
  for (c = 1; c <= n_cols; c++)
    {
      double gap = aligned ? (c % 2 == 1 ? 0 : 1.5 * e) : 1.0 * e;

      col_x[c] = col_x[c - 1] + col_w[c - 1] + (c < n_cols ? gap : 0);
    }

  for (r = 0; r < n_rows; r++)
    {
      PonderMathBox *row = box_new (PONDER_MATH_BOX_GROUP, PONDER_MATH_ROW);

      for (c = 0; c < n_cols; c++)
        {
          PonderMathBox *cell = cells[r * n_cols + c];
          char align = column_align (node->text, c);
          double x = col_x[c];

          if (cell == NULL)
            continue;
          if (align == 'r')
            x += col_w[c] - cell->width;
          else if (align == 'c')
            x += (col_w[c] - cell->width) / 2;
          box_add (row, cell, x, 0);
        }
      row->width = col_x[n_cols];
      box_fit (row);
      /* A strut, so that rows of short cells keep an even pitch. */
      row->ascent = MAX (row->ascent, 0.72 * e);
      row->descent = MAX (row->descent, 0.25 * e);
      box_add (array, row, 0, 0);
      total_h += row->ascent + row->descent + (r > 0 ? 0.3 * e : 0);
    }

  y = -(axis (l, style) + total_h / 2);
  for (r = 0; r < n_rows; r++)
    {
      PonderMathBox *row = array->children[r];

      row->y = y + row->ascent;
      y += row->ascent + row->descent + 0.3 * e;
    }
  array->width = col_x[n_cols];
  box_fit (array);
  return array;
}

static PonderMathBox *
layout_node (Layout               *l,
             const PonderMathNode *node,
             Style                 style)
{
  PonderMathBox *box;

  if (node == NULL)
    return empty (PONDER_MATH_ROW, 0);
  switch (node->kind)
    {
    case PONDER_MATH_ROW:
      return layout_row (l, node, style, FALSE);
    case PONDER_MATH_SYMBOL:
      return layout_symbol (l, node, style);
    case PONDER_MATH_TEXT:
      box = glyph (l, node->text, em (l, style), node->flags);
      box->construct = PONDER_MATH_TEXT;
      return box;
    case PONDER_MATH_ERROR:
      box = glyph (l, node->text, em (l, style), 0);
      box->construct = PONDER_MATH_ERROR;
      box->error = TRUE;
      return box;
    case PONDER_MATH_SPACE:
      return empty (PONDER_MATH_SPACE, node->amount * em (l, style));
    case PONDER_MATH_DELIM:
      return delimiter (l, node->text, node->amount * em (l, style), style);
    case PONDER_MATH_FRAC:
      return layout_frac (l, node, style);
    case PONDER_MATH_SQRT:
      return layout_sqrt (l, node, style);
    case PONDER_MATH_SCRIPTS:
      return layout_scripts (l, node, style);
    case PONDER_MATH_DELIMITED:
      return layout_delimited (l, node, style);
    case PONDER_MATH_BOXED:
      return layout_boxed (l, node, style);
    case PONDER_MATH_ACCENT:
      return layout_accent (l, node, style);
    case PONDER_MATH_ARRAY:
      return layout_array (l, node, style);
    default:
      return empty (PONDER_MATH_ROW, 0);
    }
}

static double
font_pixels (PangoContext               *context,
             const PangoFontDescription *font)
{
  double size = (double) pango_font_description_get_size (font) / PANGO_SCALE;
  double dpi = pango_cairo_context_get_resolution (context);

  if (size <= 0)
    size = 10;
  if (pango_font_description_get_size_is_absolute (font))
    return size;
  return size * (dpi > 0 ? dpi : 96.0) / 72.0;
}

/**
 * ponder_math_layout:
 * @font: the surrounding text's font; math takes its size
 * @display: display style (big operators, limits, larger fractions)
 *
 * Returns: (transfer full): the root box
 */
PonderMathBox *
ponder_math_layout (const PonderMathNode       *node,
                    PangoContext               *context,
                    const PangoFontDescription *font,
                    gboolean                    display)
{
  Layout l = { 0 };
  PonderMathBox *minus;
  PonderMathBox *root;

  l.context = context;
  l.base_px = font_pixels (context, font);
  l.font = pango_font_description_from_string (MATH_FAMILY);
  l.axis = 0.25 * l.base_px;
  minus = glyph (&l, "−", l.base_px, 0);
  if (minus->ascent + minus->descent > 0)
    l.axis = (minus->ascent - minus->descent) / 2;
  ponder_math_box_free (minus);

  root = layout_node (&l, node, display ? STYLE_D : STYLE_T);
  pango_font_description_free (l.font);
  return root;
}

static void
draw_delimiter (const PonderMathBox *box,
                cairo_t             *cr,
                double               x,
                double               y)
{
  double top = y - box->ascent;
  double bottom = y + box->descent;
  double mid = (top + bottom) / 2;
  double w = box->width;
  double h = bottom - top;
  const char *t = box->text;

  cairo_set_line_width (cr, box->thickness);
  if (g_str_equal (t, "("))
    {
      cairo_move_to (cr, x + 0.8 * w, top);
      cairo_curve_to (cr, x + 0.1 * w, top + 0.25 * h, x + 0.1 * w, bottom - 0.25 * h,
                      x + 0.8 * w, bottom);
    }
  else if (g_str_equal (t, ")"))
    {
      cairo_move_to (cr, x + 0.2 * w, top);
      cairo_curve_to (cr, x + 0.9 * w, top + 0.25 * h, x + 0.9 * w, bottom - 0.25 * h,
                      x + 0.2 * w, bottom);
    }
  else if (g_str_equal (t, "[") || g_str_equal (t, "⌈") || g_str_equal (t, "⌊") ||
           g_str_equal (t, "]") || g_str_equal (t, "⌉") || g_str_equal (t, "⌋"))
    {
      /* Brackets and their floor/ceiling halves, mirrored for the right. */
      gboolean left = g_str_equal (t, "[") || g_str_equal (t, "⌈") || g_str_equal (t, "⌊");
      gboolean has_top = !g_str_equal (t, "⌊") && !g_str_equal (t, "⌋");
      gboolean has_bottom = !g_str_equal (t, "⌈") && !g_str_equal (t, "⌉");
      double stem = left ? x + 0.3 * w : x + 0.7 * w;
      double tip = left ? x + 0.8 * w : x + 0.2 * w;

      if (has_top)
        {
          cairo_move_to (cr, tip, top);
          cairo_line_to (cr, stem, top);
        }
      else
        cairo_move_to (cr, stem, top);
      cairo_line_to (cr, stem, bottom);
      if (has_bottom)
        cairo_line_to (cr, tip, bottom);
    }
  else if (g_str_equal (t, "{") || g_str_equal (t, "}"))
    {
      double s = g_str_equal (t, "{") ? 1 : -1;
      double x0 = s > 0 ? x : x + w;

      cairo_move_to (cr, x0 + s * 0.85 * w, top);
      cairo_curve_to (cr, x0 + s * 0.4 * w, top, x0 + s * 0.5 * w, mid - 0.05 * h,
                      x0 + s * 0.1 * w, mid);
      cairo_curve_to (cr, x0 + s * 0.5 * w, mid + 0.05 * h, x0 + s * 0.4 * w, bottom,
                      x0 + s * 0.85 * w, bottom);
    }
  else if (g_str_equal (t, "⟨"))
    {
      cairo_move_to (cr, x + 0.8 * w, top);
      cairo_line_to (cr, x + 0.2 * w, mid);
      cairo_line_to (cr, x + 0.8 * w, bottom);
    }
  else if (g_str_equal (t, "⟩"))
    {
      cairo_move_to (cr, x + 0.2 * w, top);
      cairo_line_to (cr, x + 0.8 * w, mid);
      cairo_line_to (cr, x + 0.2 * w, bottom);
    }
  else if (g_str_equal (t, "‖"))
    {
      cairo_move_to (cr, x + 0.3 * w, top);
      cairo_line_to (cr, x + 0.3 * w, bottom);
      cairo_move_to (cr, x + 0.7 * w, top);
      cairo_line_to (cr, x + 0.7 * w, bottom);
    }
  else
    {
      cairo_move_to (cr, x + 0.5 * w, top);
      cairo_line_to (cr, x + 0.5 * w, bottom);
    }
  cairo_stroke (cr);
}

static void
draw_box (const PonderMathBox *box,
          cairo_t             *cr,
          double               ox,
          double               oy)
{
  double x = ox + box->x;
  double y = oy + box->y;
  guint i;

  switch (box->kind)
    {
    case PONDER_MATH_BOX_GLYPH:
      if (box->error)
        {
          cairo_save (cr);
          cairo_set_source_rgb (cr, 0.85, 0.25, 0.2);
        }
      cairo_move_to (cr, x, y - box->baseline);
      pango_cairo_show_layout (cr, box->layout);
      if (box->error)
        cairo_restore (cr);
      break;
    case PONDER_MATH_BOX_RULE:
      cairo_rectangle (cr, x, y - box->ascent, box->width, box->ascent + box->descent);
      cairo_fill (cr);
      break;
    case PONDER_MATH_BOX_FRAME:
      cairo_set_line_width (cr, box->thickness);
      cairo_rectangle (cr, x + box->thickness / 2, y - box->ascent + box->thickness / 2,
                       box->width - box->thickness, box->ascent + box->descent - box->thickness);
      cairo_stroke (cr);
      break;
    case PONDER_MATH_BOX_RADICAL:
      {
        double top = y - box->ascent + box->thickness / 2;
        double bottom = y + box->descent;
        double h = bottom - top;
        double w = box->width;

        cairo_set_line_width (cr, box->thickness);
        cairo_set_line_join (cr, CAIRO_LINE_JOIN_ROUND);
        cairo_move_to (cr, x + 0.05 * w, bottom - 0.42 * h);
        cairo_line_to (cr, x + 0.2 * w, bottom - 0.5 * h);
        cairo_line_to (cr, x + 0.5 * w, bottom);
        cairo_line_to (cr, x + w, top);
        cairo_stroke (cr);
      }
      break;
    case PONDER_MATH_BOX_DELIM:
      draw_delimiter (box, cr, x, y);
      break;
    case PONDER_MATH_BOX_GROUP:
    default:
      break;
    }
  for (i = 0; i < box->n_children; i++)
    if (box->children[i] != NULL)
      draw_box (box->children[i], cr, x, y);
}

/**
 * ponder_math_box_draw:
 * @x: where the box's left edge goes
 * @baseline: where its baseline goes
 *
 * Draws in the current cairo source colour.
 */
void
ponder_math_box_draw (const PonderMathBox *box,
                      cairo_t             *cr,
                      double               x,
                      double               baseline)
{
  g_return_if_fail (box != NULL);
  draw_box (box, cr, x - box->x, baseline - box->y);
}
