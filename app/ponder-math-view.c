/* ponder-math-view.c — formulas on screen: display widget and inline shapes
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Display math is a PonderMathView, a widget that draws one formula
 * centred. Inline math lives inside an ordinary GtkLabel: the formula's
 * place in the text is a Pango shape attribute the size of the formula,
 * and a cairo shape renderer on the label's Pango context draws it at the
 * spot Pango chose. So inline math wraps with the text and takes the
 * label's colour, in light and dark styles alike.
 */

#define G_LOG_DOMAIN "ponder-math"

#include <math.h>
#include <pango/pangocairo.h>

#include "ponder-math-private.h"

/* Room on both sides, so inline math does not touch the words around it. */
#define INLINE_PAD 1.5
#define DISPLAY_PAD_X 4
#define DISPLAY_PAD_Y 6

static void
formula_clear (PonderMathFormula *formula)
{
  g_free (formula->source);
  g_clear_pointer (&formula->font, pango_font_description_free);
  g_clear_pointer (&formula->root, ponder_math_box_free);
}

/**
 * ponder_math_formula_new:
 * @tex: TeX without its delimiters
 * @display: display style
 * @context: the Pango context (and so the font) of the text around it
 *
 * Returns: (transfer full): a formula whose root is %NULL when @tex could
 *   not be parsed within the limits
 */
PonderMathFormula *
ponder_math_formula_new (const char   *tex,
                         gboolean      display,
                         PangoContext *context)
{
  PonderMathFormula *formula = g_atomic_rc_box_new0 (PonderMathFormula);
  g_autoptr(PonderMathNode) node = ponder_math_parse (tex, -1);

  formula->source = g_strdup (tex);
  formula->display = display;
  formula->font = pango_font_description_copy (pango_context_get_font_description (context));
  if (node != NULL)
    formula->root = ponder_math_layout (node, context, formula->font, display);
  return formula;
}

PonderMathFormula *
ponder_math_formula_ref (PonderMathFormula *formula)
{
  return g_atomic_rc_box_acquire (formula);
}

void
ponder_math_formula_unref (PonderMathFormula *formula)
{
  g_atomic_rc_box_release_full (formula, (GDestroyNotify) formula_clear);
}

void
ponder_math_formula_draw (PonderMathFormula *formula,
                          cairo_t           *cr,
                          double             x,
                          double             baseline)
{
  if (formula->root != NULL)
    ponder_math_box_draw (formula->root, cr, x, baseline);
}

/* Inline math */

static gpointer
formula_copy (gconstpointer data)
{
  return ponder_math_formula_ref ((PonderMathFormula *) data);
}

/**
 * ponder_math_attr_get_formula:
 *
 * Returns: whether @attr is a shape attribute made by
 *   ponder_math_inline_attr(); if so, *@formula is its (borrowed) formula
 */
gboolean
ponder_math_attr_get_formula (PangoAttribute     *attr,
                              PonderMathFormula **formula)
{
  PangoAttrShape *shape = (PangoAttrShape *) attr;

  if (attr->klass->type != PANGO_ATTR_SHAPE || shape->copy_func != formula_copy)
    return FALSE;
  *formula = shape->data;
  return TRUE;
}

/**
 * ponder_math_inline_attr:
 *
 * A shape attribute as wide and tall as @formula (its root must not be
 * %NULL); set its start and end to cover one character of a label
 * prepared with ponder_math_label_prepare().
 *
 * Returns: (transfer full): the attribute
 */
PangoAttribute *
ponder_math_inline_attr (PonderMathFormula *formula)
{
  const PonderMathBox *root = formula->root;
  PangoRectangle logical;
  PangoRectangle ink;

  g_return_val_if_fail (root != NULL, NULL);
  logical.x = 0;
  logical.y = (int) (-root->ascent * PANGO_SCALE);
  logical.width = (int) ((root->width + 2 * INLINE_PAD) * PANGO_SCALE);
  logical.height = (int) ((root->ascent + root->descent) * PANGO_SCALE);
  /* Antialiased edges reach a little past the boxes. */
  ink = logical;
  ink.y -= 2 * PANGO_SCALE;
  ink.height += 4 * PANGO_SCALE;
  return pango_attr_shape_new_with_data (&ink, &logical, ponder_math_formula_ref (formula),
                                         formula_copy,
                                         (GDestroyNotify) ponder_math_formula_unref);
}

static void
render_shape (cairo_t        *cr,
              PangoAttrShape *attr,
              gboolean        do_path,
              gpointer        data)
{
  PonderMathFormula *formula;
  double x;
  double y;

  /* Characters that carry an empty shape (the hidden TeX source) and
   * shapes that are not ours draw nothing. */
  if (do_path || !ponder_math_attr_get_formula ((PangoAttribute *) attr, &formula))
    return;
  if (!cairo_has_current_point (cr))
    return;
  cairo_get_current_point (cr, &x, &y);
  cairo_new_path (cr);
  ponder_math_formula_draw (formula, cr, x + INLINE_PAD, y);
}

/* The label's real font is known once it is styled: formulas laid out for
 * another font (a heading, a caption) are laid out again. */
static void
relayout_on_map (GtkWidget *widget)
{
  GtkLabel *label = GTK_LABEL (widget);
  PangoContext *context = gtk_widget_get_pango_context (widget);
  const PangoFontDescription *font = pango_context_get_font_description (context);
  PangoAttrList *attrs = gtk_label_get_attributes (label);
  PangoAttrList *fresh;
  gboolean changed = FALSE;
  GSList *list;
  GSList *l;

  if (attrs == NULL || font == NULL)
    return;
  fresh = pango_attr_list_new ();
  list = pango_attr_list_get_attributes (attrs);
  for (l = list; l != NULL; l = l->next)
    {
      PangoAttribute *attr = l->data;
      PonderMathFormula *old;

      if (ponder_math_attr_get_formula (attr, &old) &&
          !pango_font_description_equal (old->font, font))
        {
          g_autoptr(PonderMathFormula) formula = ponder_math_formula_new (old->source,
                                                                          old->display, context);

          if (formula->root != NULL)
            {
              PangoAttribute *replacement = ponder_math_inline_attr (formula);

              replacement->start_index = attr->start_index;
              replacement->end_index = attr->end_index;
              pango_attribute_destroy (attr);
              attr = replacement;
              changed = TRUE;
            }
        }
      pango_attr_list_insert (fresh, attr);
    }
  g_slist_free (list);
  if (changed)
    gtk_label_set_attributes (label, fresh);
  pango_attr_list_unref (fresh);
}

/**
 * ponder_math_label_prepare:
 *
 * Makes @label draw the formulas of its shape attributes.
 */
void
ponder_math_label_prepare (GtkLabel *label)
{
  PangoContext *context = gtk_widget_get_pango_context (GTK_WIDGET (label));

  pango_cairo_context_set_shape_renderer (context, render_shape, NULL, NULL);
  g_signal_connect (label, "map", G_CALLBACK (relayout_on_map), NULL);
}

/* Display math */

struct _PonderMathView
{
  GtkWidget          parent_instance;
  char              *tex;
  PonderMathFormula *formula;
};

G_DEFINE_FINAL_TYPE (PonderMathView, ponder_math_view, GTK_TYPE_WIDGET)

static void
ensure_formula (PonderMathView *self)
{
  PangoContext *context = gtk_widget_get_pango_context (GTK_WIDGET (self));
  const PangoFontDescription *font = pango_context_get_font_description (context);

  if (self->formula != NULL && pango_font_description_equal (self->formula->font, font))
    return;
  g_clear_pointer (&self->formula, ponder_math_formula_unref);
  self->formula = ponder_math_formula_new (self->tex, TRUE, context);
}

static void
ponder_math_view_measure (GtkWidget      *widget,
                          GtkOrientation  orientation,
                          int             for_size,
                          int            *minimum,
                          int            *natural,
                          int            *minimum_baseline,
                          int            *natural_baseline)
{
  PonderMathView *self = PONDER_MATH_VIEW (widget);
  const PonderMathBox *root;

  ensure_formula (self);
  root = self->formula->root;
  if (root == NULL)
    *minimum = *natural = 0;
  else if (orientation == GTK_ORIENTATION_HORIZONTAL)
    *minimum = *natural = (int) ceil (root->width) + 2 * DISPLAY_PAD_X;
  else
    *minimum = *natural = (int) ceil (root->ascent + root->descent) + 2 * DISPLAY_PAD_Y;
}

static void
ponder_math_view_snapshot (GtkWidget   *widget,
                           GtkSnapshot *snapshot)
{
  PonderMathView *self = PONDER_MATH_VIEW (widget);
  int width = gtk_widget_get_width (widget);
  int height = gtk_widget_get_height (widget);
  const PonderMathBox *root;
  GdkRGBA color;
  cairo_t *cr;
  double x;

  ensure_formula (self);
  root = self->formula->root;
  if (root == NULL || width <= 0 || height <= 0)
    return;
  gtk_style_context_get_color (gtk_widget_get_style_context (widget), &color);
  x = MAX (DISPLAY_PAD_X, (width - root->width) / 2);
  cr = gtk_snapshot_append_cairo (snapshot, &GRAPHENE_RECT_INIT (0, 0, width, height));
  gdk_cairo_set_source_rgba (cr, &color);
  ponder_math_box_draw (root, cr, x, DISPLAY_PAD_Y + root->ascent);
  cairo_destroy (cr);
}

static void
ponder_math_view_finalize (GObject *object)
{
  PonderMathView *self = PONDER_MATH_VIEW (object);

  g_free (self->tex);
  g_clear_pointer (&self->formula, ponder_math_formula_unref);
  G_OBJECT_CLASS (ponder_math_view_parent_class)->finalize (object);
}

static void
ponder_math_view_class_init (PonderMathViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->finalize = ponder_math_view_finalize;
  widget_class->measure = ponder_math_view_measure;
  widget_class->snapshot = ponder_math_view_snapshot;
  gtk_widget_class_set_css_name (widget_class, "math");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_IMG);
}

static void
ponder_math_view_init (PonderMathView *self)
{
}

/**
 * ponder_math_view_new:
 * @tex: TeX without its delimiters
 *
 * Returns: (transfer floating): a widget showing @tex in display style,
 *   centred; screen readers get the TeX source
 */
GtkWidget *
ponder_math_view_new (const char *tex)
{
  PonderMathView *self = g_object_new (PONDER_TYPE_MATH_VIEW, NULL);

  self->tex = g_strdup (tex);
  ensure_formula (self);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_LABEL, tex, -1);
  return GTK_WIDGET (self);
}

/**
 * ponder_math_view_get_formula:
 *
 * Returns: (transfer none): the laid-out formula (root %NULL when the TeX
 *   was beyond the parser's limits)
 */
PonderMathFormula *
ponder_math_view_get_formula (PonderMathView *self)
{
  g_return_val_if_fail (PONDER_IS_MATH_VIEW (self), NULL);

  ensure_formula (self);
  return self->formula;
}
