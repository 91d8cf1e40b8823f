/* test-markdown.c — math parsing and layout, the math pre-pass, markdown widgets
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Expectations are worked by hand: parse trees written out as
 * S-expressions, geometry from TeX's rules (a 20 px font: superscripts
 * 0.363 em = 7.26 px up in text style, binary operators 4 mu = 4.44 px
 * apart, ...), never from this program's own output. Run through
 * run-ui-test.sh (Xvfb). Screenshots go to
 * $PONDER_BUILD_ROOT/tests/screenshots/markdown-*.png.
 */

#include <adwaita.h>
#include <gtksourceview/gtksource.h>
#include <pango/pangocairo.h>

#include "ponder-markdown.h"
#include "ponder-markdown-links.h"
#include "ponder-markdown-math.h"
#include "ponder-math.h"

#define PX 20.0

static PangoContext *context;
static PangoFontDescription *font;

/* Parse trees */

static void
check_tree (const char *tex,
            const char *expected)
{
  g_autoptr(PonderMathNode) node = ponder_math_parse (tex, -1);
  g_autofree char *got = NULL;

  g_assert_nonnull (node);
  got = ponder_math_node_to_string (node);
  if (g_strcmp0 (got, expected) != 0)
    g_error ("%s: expected %s, got %s", tex, expected, got);
}

static void
test_parse_constructs (void)
{
  check_tree ("\\frac{a}{b}", "(frac a b)");
  check_tree ("\\dfrac12", "(frac 1 2)");
  check_tree ("x^2", "(sup x 2)");
  check_tree ("x_i", "(sub x i)");
  check_tree ("x_i^2", "(subsup x i 2)");
  check_tree ("x^{2n}", "(sup x (row 2 n))");
  check_tree ("\\sqrt{x}", "(sqrt x)");
  check_tree ("\\sqrt[3]{x+1}", "(root 3 (row x +:bin 1))");
  check_tree ("a+b=c", "(row a +:bin b =:rel c)");
  check_tree ("-x", "(row −:bin x)");
  check_tree ("12.5", "12.5");
  check_tree ("\\alpha\\cdot\\beta", "(row α ⋅:bin β)");
  check_tree ("\\Gamma \\pi", "(row Γ π)");
  check_tree ("x \\leq y \\geq z \\neq w", "(row x ≤:rel y ≥:rel z ≠:rel w)");
  check_tree ("\\infty \\pm \\times \\to", "(row ∞ ±:bin ×:bin →:rel)");
  check_tree ("\\sum_{i=1}^{n} i", "(row (subsup ∑:op (row i =:rel 1) n) i)");
  check_tree ("\\int_0^1 x\\,dx", "(row (subsup ∫:op 0 1) x (space 0.17) d x)");
  check_tree ("\\text{if } x", "(row (text \"if \") x)");
  check_tree ("\\left( \\frac{1}{2} \\right)", "(left ( (frac 1 2) ))");
  check_tree ("\\left\\{ x \\right.", "(left { x .)");
  check_tree ("\\boxed{42}", "(boxed 42)");
  check_tree ("\\binom{n}{k}", "(left ( (binom n k) ))");
  check_tree ("f'(x)", "(row (sup f ′) (:open x ):close)");
  check_tree ("\\mathbb{R}", "ℝ");
  check_tree ("\\hat{x}", "(accent ˆ x)");
  check_tree ("\\overline{z}", "(accent over z)");
  check_tree ("\\lim_{x \\to 0}", "(sub lim:op (row x →:rel 0))");
  check_tree ("\\not= \\not\\in", "(row ≠:rel ∉:rel)");
  check_tree ("\\begin{pmatrix} a & b \\\\ c & d \\end{pmatrix}",
              "(left ( (array c (a & b) (c & d)) ))");
  check_tree ("\\begin{cases} 1 & x > 0 \\\\ 0 & \\text{else} \\end{cases}",
              "(left { (array l (1 & (row x >:rel 0)) (0 & (text \"else\"))) .)");
  check_tree ("a &= b \\\\ &= c", "(array rl (a & (row =:rel b)) ({} & (row =:rel c)))");
}

static void
test_parse_unknown (void)
{
  /* Unknown commands stay visible as their name; their arguments render. */
  check_tree ("\\foo{x}", "(row (error \"\\foo\") x)");
  check_tree ("\\", "(error \"\\\")");
  /* Stray closers and unbalanced groups are shown, not fatal. */
  check_tree ("a}b", "(row a b)");
  check_tree ("{a", "a");
  check_tree ("\\left( x", "(left ( x .)");
  check_tree ("x^", "(sup x {})");
  check_tree ("^2", "(sup {} 2)");
}

static void
test_parse_hostile (void)
{
  GString *deep = g_string_new (NULL);
  GString *fracs = g_string_new (NULL);
  GString *scripts = g_string_new ("x");
  g_autofree char *big = g_strnfill (100 * 1024, 'x');
  GRand *rand = g_rand_new_with_seed (6);
  static const char *tokens[] = {
    "{", "}", "^", "_", "\\frac", "\\sqrt", "[", "]", "\\left(", "\\right)", "\\left",
    "\\right", "&", "\\\\", "\\begin{pmatrix}", "\\end{pmatrix}", "\\begin{cases}",
    "\\end", "x", "2", "+", "=", "\\alpha", "\\boxed", "\\text{", "\\not", "'", "\\hat",
    "\\sum", "\\int", "\\lim", "\\mathbb", "\\foo", "\\", " ", "é", "\\big(",
    "\\overset", "\\binom", "\\begin{array}{", "\\operatorname*",
  };
  guint i;
  guint n;

  for (i = 0; i < 10000; i++)
    g_string_append_c (deep, '{');
  g_assert_null (ponder_math_parse (deep->str, -1));
  for (i = 0; i < 500; i++)
    g_string_append (fracs, "\\frac");
  /* 500 nested fractions pass the 4096-byte limit only as text. */
  g_assert_null (ponder_math_parse (fracs->str, -1));
  for (i = 0; i < 1000; i++)
    g_string_append (scripts, "^a");
  g_assert_null (ponder_math_parse (scripts->str, -1));
  g_assert_null (ponder_math_parse (big, -1));
  g_assert_null (ponder_math_parse ("\xff\xfe", -1));

  /* Random token soup: parse, lay out and print without crashing. */
  for (n = 0; n < 400; n++)
    {
      GString *soup = g_string_new (NULL);
      g_autoptr(PonderMathNode) node = NULL;

      for (i = 0; i < 120; i++)
        g_string_append (soup, tokens[g_rand_int_range (rand, 0, G_N_ELEMENTS (tokens))]);
      node = ponder_math_parse (soup->str, -1);
      if (node != NULL)
        {
          g_autoptr(PonderMathBox) box = ponder_math_layout (node, context, font, n % 2);
          g_autofree char *text = ponder_math_node_to_string (node);

          g_assert_nonnull (text);
          g_assert_true (isfinite (box->width) && isfinite (box->ascent));
        }
      g_string_free (soup, TRUE);
    }
  g_rand_free (rand);
  g_string_free (deep, TRUE);
  g_string_free (fracs, TRUE);
  g_string_free (scripts, TRUE);
}

/* Layout */

static PonderMathBox *
lay (const char *tex,
     gboolean    display)
{
  g_autoptr(PonderMathNode) node = ponder_math_parse (tex, -1);

  g_assert_nonnull (node);
  return ponder_math_layout (node, context, font, display);
}

static double
top (const PonderMathBox *b)
{
  return b->y - b->ascent;
}

static double
bottom (const PonderMathBox *b)
{
  return b->y + b->descent;
}

/* The font size of the first glyph inside @b. */
static double
glyph_size (const PonderMathBox *b)
{
  guint i;

  if (b->kind == PONDER_MATH_BOX_GLYPH)
    return b->size;
  for (i = 0; i < b->n_children; i++)
    if (b->children[i] != NULL)
      return glyph_size (b->children[i]);
  return 0;
}

static double
center_x (const PonderMathBox *b)
{
  return b->x + b->width / 2;
}

static void
test_layout_fraction (void)
{
  g_autoptr(PonderMathBox) text = lay ("\\frac{a}{b}", FALSE);
  g_autoptr(PonderMathBox) display = lay ("\\frac{a}{b}", TRUE);
  const PonderMathBox *num = text->children[0];
  const PonderMathBox *bar = text->children[1];
  const PonderMathBox *den = text->children[2];

  g_assert_cmpint (text->construct, ==, PONDER_MATH_FRAC);
  g_assert_cmpint (bar->kind, ==, PONDER_MATH_BOX_RULE);
  /* Numerator above the bar, the bar above the denominator. */
  g_assert_cmpfloat (bottom (num), <, top (bar));
  g_assert_cmpfloat (bottom (bar), <, top (den));
  /* Both centred on the bar. */
  g_assert_cmpfloat_with_epsilon (center_x (num), center_x (bar), 0.01);
  g_assert_cmpfloat_with_epsilon (center_x (den), center_x (bar), 0.01);
  /* The bar sits on the math axis, about a quarter em above the baseline. */
  g_assert_cmpfloat (bar->y, <, -0.15 * PX);
  g_assert_cmpfloat (bar->y, >, -0.35 * PX);
  /* TeX's minimum shifts in text style: num2 .394 em up, denom2 .345 em down. */
  g_assert_cmpfloat (num->y, <=, -0.394 * PX + 1e-6);
  g_assert_cmpfloat (den->y, >=, 0.345 * PX - 1e-6);
  /* Text-style fractions use script size, display ones text size. */
  g_assert_cmpfloat_with_epsilon (glyph_size (num), 0.7 * PX, 1e-6);
  g_assert_cmpfloat_with_epsilon (glyph_size (display->children[0]), PX, 1e-6);
  g_assert_cmpfloat (display->children[0]->y, <=, -0.677 * PX + 1e-6);
}

static void
test_layout_scripts (void)
{
  g_autoptr(PonderMathBox) sup = lay ("x^2", FALSE);
  g_autoptr(PonderMathBox) sub = lay ("x_i", FALSE);
  g_autoptr(PonderMathBox) both = lay ("x_i^2", FALSE);
  const PonderMathBox *base = sup->children[0];
  const PonderMathBox *s;
  double t = MAX (1.0, 0.055 * PX);

  g_assert_cmpint (sup->construct, ==, PONDER_MATH_SCRIPTS);
  g_assert_null (sup->children[1]);
  s = sup->children[2];
  /* Raised by sup2 = 0.363 em (a digit has no depth to push it further). */
  g_assert_cmpfloat_with_epsilon (s->y, -0.363 * PX, 0.01);
  g_assert_cmpfloat_with_epsilon (glyph_size (s), 0.7 * PX, 1e-6);
  g_assert_cmpfloat (s->x, >=, base->width - 0.01);

  s = sub->children[1];
  g_assert_cmpfloat (s->y, >=, 0.15 * PX - 1e-6);
  g_assert_cmpfloat (s->x, >=, sub->children[0]->width - 0.01);

  /* Both: subscript below the superscript with at least 4 rule widths between. */
  g_assert_cmpfloat (both->children[2]->y, <, 0);
  g_assert_cmpfloat (both->children[1]->y, >, 0);
  g_assert_cmpfloat (top (both->children[1]) - bottom (both->children[2]), >=, 4 * t - 1e-6);
}

static void
test_layout_limits (void)
{
  g_autoptr(PonderMathBox) display = lay ("\\sum_{i=1}^{n}", TRUE);
  g_autoptr(PonderMathBox) text = lay ("\\sum_{i=1}^{n}", FALSE);
  const PonderMathBox *op = display->children[0];
  const PonderMathBox *sub = display->children[1];
  const PonderMathBox *sup = display->children[2];

  /* Display: limits centred below and above the operator. */
  g_assert_cmpfloat_with_epsilon (center_x (sub), center_x (op), 0.01);
  g_assert_cmpfloat_with_epsilon (center_x (sup), center_x (op), 0.01);
  g_assert_cmpfloat (top (sub), >, bottom (op));
  g_assert_cmpfloat (bottom (sup), <, top (op));
  /* The display operator is larger than the text one. */
  g_assert_cmpfloat (op->ascent + op->descent, >,
                     text->children[0]->ascent + text->children[0]->descent);
  /* Text style: scripts to the right. */
  g_assert_cmpfloat (text->children[1]->x, >=, text->children[0]->width - 0.01);
  g_assert_cmpfloat (text->children[2]->x, >=, text->children[0]->width - 0.01);
}

static void
test_layout_sqrt (void)
{
  g_autoptr(PonderMathBox) root = lay ("\\sqrt{x}", FALSE);
  g_autoptr(PonderMathBox) cube = lay ("\\sqrt[3]{x}", FALSE);
  const PonderMathBox *radicand = root->children[0];
  const PonderMathBox *sign = root->children[2];
  const PonderMathBox *line = root->children[3];

  g_assert_cmpint (root->construct, ==, PONDER_MATH_SQRT);
  g_assert_cmpint (sign->kind, ==, PONDER_MATH_BOX_RADICAL);
  /* The sign is left of the radicand and taller; the overline covers it. */
  g_assert_cmpfloat (radicand->x, >=, sign->x + sign->width);
  g_assert_cmpfloat (sign->ascent, >, radicand->ascent);
  g_assert_cmpfloat (bottom (line), <, top (radicand));
  g_assert_cmpfloat (line->x, <=, radicand->x);
  g_assert_cmpfloat (line->x + line->width, >=, radicand->x + radicand->width);
  g_assert_null (root->children[1]);

  /* The index: scriptscript size (half), raised, left of the radicand. */
  g_assert_nonnull (cube->children[1]);
  g_assert_cmpfloat_with_epsilon (glyph_size (cube->children[1]), 0.5 * PX, 1e-6);
  g_assert_cmpfloat (cube->children[1]->y, <, 0);
  g_assert_cmpfloat (cube->children[1]->x + cube->children[1]->width, <=,
                     cube->children[0]->x);
}

static void
test_layout_spacing (void)
{
  g_autoptr(PonderMathBox) plus = lay ("a+b", FALSE);
  g_autoptr(PonderMathBox) eq = lay ("a=b", FALSE);
  g_autoptr(PonderMathBox) unary = lay ("-b", FALSE);
  g_autoptr(PonderMathBox) script = lay ("x^{a+b}", FALSE);
  const PonderMathBox *a = plus->children[0];
  const PonderMathBox *b;

  /* Binary operators get 4 mu on each side, relations 5 mu (1 mu = em/18). */
  g_assert_cmpfloat_with_epsilon (plus->children[1]->x - (a->x + a->width), 4 * PX / 18, 0.01);
  b = plus->children[2];
  g_assert_cmpfloat_with_epsilon (b->x - (plus->children[1]->x + plus->children[1]->width),
                                  4 * PX / 18, 0.01);
  g_assert_cmpfloat_with_epsilon (eq->children[1]->x - eq->children[0]->width, 5 * PX / 18,
                                  0.01);
  /* A leading minus is unary: no space. */
  g_assert_cmpfloat_with_epsilon (unary->children[1]->x, unary->children[0]->width, 0.01);
  /* No operator space in script style. */
  {
    const PonderMathBox *row = script->children[2];

    g_assert_cmpfloat_with_epsilon (row->children[1]->x,
                                    row->children[0]->x + row->children[0]->width, 0.01);
  }
}

static void
test_layout_delimiters_boxed (void)
{
  g_autoptr(PonderMathBox) paren = lay ("\\left( \\frac{a}{b} \\right)", TRUE);
  g_autoptr(PonderMathBox) small = lay ("\\left( x \\right)", FALSE);
  g_autoptr(PonderMathBox) boxed = lay ("\\boxed{42}", FALSE);
  g_autoptr(PonderMathBox) unknown = lay ("\\foo", FALSE);
  const PonderMathBox *left = paren->children[0];
  const PonderMathBox *content = paren->children[1];
  const PonderMathBox *frame;
  const PonderMathBox *inner;

  /* Stretched to the fraction (TeX: at least 90.1% of twice the larger
   * half-height about the axis), left of it, and drawn as a path. */
  g_assert_cmpint (left->kind, ==, PONDER_MATH_BOX_DELIM);
  g_assert_cmpfloat (left->ascent + left->descent, >=,
                     0.9 * (content->ascent + content->descent));
  g_assert_cmpfloat (paren->children[2]->x, >=, content->x + content->width - 0.01);
  /* Around a single letter the font's own parenthesis is used. */
  g_assert_cmpint (small->children[0]->kind, ==, PONDER_MATH_BOX_GLYPH);
  g_assert_cmpstr (small->children[0]->text, ==, "(");

  g_assert_cmpint (boxed->construct, ==, PONDER_MATH_BOXED);
  inner = boxed->children[0];
  frame = boxed->children[1];
  g_assert_cmpint (frame->kind, ==, PONDER_MATH_BOX_FRAME);
  g_assert_cmpfloat (frame->x, <, inner->x);
  g_assert_cmpfloat (frame->x + frame->width, >, inner->x + inner->width);
  g_assert_cmpfloat (frame->ascent, >, inner->ascent);
  g_assert_cmpfloat (frame->descent, >, inner->descent);

  g_assert_cmpint (unknown->kind, ==, PONDER_MATH_BOX_GLYPH);
  g_assert_true (unknown->error);
  g_assert_cmpstr (unknown->text, ==, "\\foo");
}

static void
test_layout_matrix (void)
{
  g_autoptr(PonderMathBox) m = lay ("\\begin{matrix} a & b \\\\ c & d \\end{matrix}", TRUE);
  const PonderMathBox *row0 = m->children[0];
  const PonderMathBox *row1 = m->children[1];

  g_assert_cmpuint (m->n_children, ==, 2);
  g_assert_cmpfloat (bottom (row0), <=, top (row1));
  g_assert_cmpfloat (row0->children[1]->x, >, row0->children[0]->x + row0->children[0]->width);
  /* Centred on the axis: as much above it as below. */
  g_assert_cmpfloat (m->ascent, >, m->descent);
}

/* The pre-pass */

static void
check_spans (const char *markdown,
             const char *expected)
{
  g_autoptr(GArray) spans = ponder_markdown_find_math (markdown, strlen (markdown));
  GString *got = g_string_new (NULL);
  guint i;

  for (i = 0; i < spans->len; i++)
    {
      PonderMathSpan *s = &g_array_index (spans, PonderMathSpan, i);

      g_string_append_printf (got, "%s[%.*s]", s->display ? "D" : "I",
                              (int) (s->tex_end - s->tex_start), markdown + s->tex_start);
    }
  if (g_strcmp0 (got->str, expected) != 0)
    g_error ("%s: expected %s, got %s", markdown, expected, got->str);
  g_string_free (got, TRUE);
}

static void
test_find_math (void)
{
  check_spans ("$5 and $10", "");
  check_spans ("It costs $5, or $10 with tax.", "");
  check_spans ("Let $x$ be", "I[x]");
  check_spans ("$x$5", "");
  /* The first $ after an opener must close it, or the opener is text. */
  check_spans ("like $5 and $10 here:\n\\[y\\]\nso $x \\in \\{2\\}$.", "D[y]I[x \\in \\{2\\}]");
  check_spans ("$ x$ and $x $", "");
  check_spans ("\\$5 and \\$6", "");
  check_spans ("\\(a_1\\) and \\[b\\] and $$c$$", "I[a_1]D[b]D[c]");
  check_spans ("`$x$` and $y$", "I[y]");
  check_spans ("``a ` $x$ `` $y$", "I[y]");
  check_spans ("```\n$x$ \\(y\\)\n```\n$z$", "I[z]");
  check_spans ("> ~~~tex\n> $x$\n> ~~~\n", "");
  check_spans ("$a\n\nb$", "");
  check_spans ("$$\nx = 1\n$$", "D[\nx = 1\n]");
  check_spans ("The answer is \\boxed{42}.", "I[\\boxed{42}]");
  check_spans ("**Final**\n\\boxed{\\frac{1}{2}}\n", "D[\\boxed{\\frac{1}{2}}]");
  check_spans ("\\boxed{unclosed", "");
  check_spans ("\\(\\boxed{7}\\)", "I[\\boxed{7}]");
  check_spans ("$a$$b$", "I[a]I[b]");
  check_spans ("\\( \\)", "");
}

static void
test_hide_math (void)
{
  const char *text = "a $x$ b \xf3\xb0\x80\x80 c";  /* the input forges a placeholder */
  g_autoptr(GArray) spans = ponder_markdown_find_math (text, strlen (text));
  g_autofree char *hidden = ponder_markdown_hide_math (text, strlen (text), spans);
  guint index = 99;

  g_assert_cmpuint (spans->len, ==, 1);
  g_assert_cmpstr (hidden, ==, "a \xf3\xb0\x80\x80 b \xef\xbf\xbd c");
  g_assert_true (ponder_markdown_math_placeholder (hidden + 2, &index));
  g_assert_cmpuint (index, ==, 0);
  g_assert_false (ponder_markdown_math_placeholder (hidden + 6, &index));
}

static void
test_find_math_hostile (void)
{
  GString *dollars = g_string_new (NULL);
  GString *boxes = g_string_new (NULL);
  GString *many = g_string_new (NULL);
  g_autoptr(GArray) a = NULL;
  g_autoptr(GArray) b = NULL;
  g_autoptr(GArray) c = NULL;
  guint i;

  while (dollars->len < 100 * 1024)
    g_string_append (dollars, "$a ");
  while (boxes->len < 100 * 1024)
    g_string_append (boxes, "\\boxed{\\(");
  for (i = 0; i < 3000; i++)
    g_string_append (many, "$x$ ");
  a = ponder_markdown_find_math (dollars->str, dollars->len);
  b = ponder_markdown_find_math (boxes->str, boxes->len);
  c = ponder_markdown_find_math (many->str, many->len);
  g_assert_cmpuint (a->len, ==, 0);
  g_assert_cmpuint (b->len, ==, 0);
  g_assert_cmpuint (c->len, ==, PONDER_MARKDOWN_MAX_MATH);
  g_string_free (dollars, TRUE);
  g_string_free (boxes, TRUE);
  g_string_free (many, TRUE);
}

/* Widgets */

static GPtrArray *
children (GtkWidget *box)
{
  GPtrArray *list = g_ptr_array_new ();
  GtkWidget *child;

  for (child = gtk_widget_get_first_child (box); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    g_ptr_array_add (list, child);
  return list;
}

static guint
count_formulas (GtkLabel           *label,
                PonderMathFormula **first)
{
  PangoAttrList *attrs = gtk_label_get_attributes (label);
  GSList *list;
  GSList *l;
  guint n = 0;

  if (attrs == NULL)
    return 0;
  list = pango_attr_list_get_attributes (attrs);
  for (l = list; l != NULL; l = l->next)
    {
      PonderMathFormula *formula;

      if (ponder_math_attr_get_formula (l->data, &formula))
        {
          if (n++ == 0 && first != NULL)
            *first = ponder_math_formula_ref (formula);
        }
    }
  g_slist_free_full (list, (GDestroyNotify) pango_attribute_destroy);
  return n;
}

static GtkWidget *
find_type (GtkWidget *root,
           GType      type)
{
  GtkWidget *child;

  if (G_TYPE_CHECK_INSTANCE_TYPE (root, type))
    return root;
  for (child = gtk_widget_get_first_child (root); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found = find_type (child, type);

      if (found != NULL)
        return found;
    }
  return NULL;
}

static void
test_widget_inline (void)
{
  GtkWidget *view = g_object_ref_sink (ponder_markdown_view_new ("Before \\(x^2\\) after"));
  g_autoptr(GPtrArray) list = children (view);
  g_autoptr(PonderMathFormula) formula = NULL;
  GtkLabel *label;

  g_assert_cmpuint (list->len, ==, 1);
  label = GTK_LABEL (list->pdata[0]);
  /* The TeX stays in the text (zero-width), so copying gives it back. */
  g_assert_cmpstr (gtk_label_get_text (label), ==, "Before \\(x^2\\) after");
  g_assert_cmpuint (count_formulas (label, &formula), ==, 1);
  g_assert_cmpstr (formula->source, ==, "x^2");
  g_assert_false (formula->display);
  g_object_unref (view);

  /* Code spans keep their dollars; unbalanced prices stay text. */
  view = g_object_ref_sink (ponder_markdown_view_new ("`$x$` costs $5 and $10"));
  g_ptr_array_unref (g_steal_pointer (&list));
  list = children (view);
  g_assert_cmpstr (gtk_label_get_text (GTK_LABEL (list->pdata[0])), ==, "$x$ costs $5 and $10");
  g_assert_cmpuint (count_formulas (GTK_LABEL (list->pdata[0]), NULL), ==, 0);
  g_object_unref (view);

  /* Underscores inside math are not emphasis. */
  view = g_object_ref_sink (ponder_markdown_view_new ("$a_1 + b_1$ and *c*"));
  g_ptr_array_unref (g_steal_pointer (&list));
  list = children (view);
  g_assert_cmpstr (gtk_label_get_text (GTK_LABEL (list->pdata[0])), ==, "$a_1 + b_1$ and c");
  g_object_unref (view);
}

static void
test_widget_display (void)
{
  GtkWidget *view = g_object_ref_sink (
    ponder_markdown_view_new ("Compute:\n\\[\n\\frac{1}{2}\n\\]\nwhere it ends.\n\n"
                              "$$\\sum_{i=1}^n i$$"));
  g_autoptr(GPtrArray) list = children (view);
  GtkWidget *math;

  g_assert_cmpuint (list->len, ==, 4);
  g_assert_cmpstr (gtk_label_get_text (GTK_LABEL (list->pdata[0])), ==, "Compute: ");
  math = find_type (list->pdata[1], PONDER_TYPE_MATH_VIEW);
  g_assert_nonnull (math);
  g_assert_cmpstr (ponder_math_view_get_formula (PONDER_MATH_VIEW (math))->source, ==,
                   "\n\\frac{1}{2}\n");
  g_assert_cmpint (ponder_math_view_get_formula (PONDER_MATH_VIEW (math))->root->construct, ==,
                   PONDER_MATH_FRAC);
  g_assert_cmpstr (gtk_label_get_text (GTK_LABEL (list->pdata[2])), ==, "where it ends.");
  g_assert_nonnull (find_type (list->pdata[3], PONDER_TYPE_MATH_VIEW));
  g_object_unref (view);

  /* Inside a heading, display math stays inline. */
  view = g_object_ref_sink (ponder_markdown_view_new ("# Sum $$x^2$$"));
  g_ptr_array_unref (g_steal_pointer (&list));
  list = children (view);
  g_assert_cmpuint (list->len, ==, 1);
  g_assert_cmpuint (count_formulas (GTK_LABEL (list->pdata[0]), NULL), ==, 1);
  g_object_unref (view);
}

static void
test_widget_code (void)
{
  const char *md = "```python\ndef f(x):\n    return $x$ * \\(y\\)\n```\n";
  GtkWidget *view = g_object_ref_sink (ponder_markdown_view_new (md));
  GtkWidget *source = find_type (view, GTK_SOURCE_TYPE_VIEW);
  GtkWidget *copy = find_type (view, GTK_TYPE_BUTTON);
  GtkTextBuffer *buffer;
  GtkSourceLanguage *language;
  GtkTextIter start, end;
  g_autofree char *text = NULL;

  g_assert_nonnull (source);
  buffer = gtk_text_view_get_buffer (GTK_TEXT_VIEW (source));
  language = gtk_source_buffer_get_language (GTK_SOURCE_BUFFER (buffer));
  g_assert_nonnull (language);
  g_assert_cmpstr (gtk_source_language_get_id (language), ==, "python3");
  gtk_text_buffer_get_bounds (buffer, &start, &end);
  text = gtk_text_buffer_get_text (buffer, &start, &end, FALSE);
  g_assert_cmpstr (text, ==, "def f(x):\n    return $x$ * \\(y\\)");
  g_assert_false (gtk_text_view_get_editable (GTK_TEXT_VIEW (source)));
  g_assert_nonnull (copy);
  g_assert_cmpstr (g_object_get_data (G_OBJECT (copy), "code"), ==, text);
  g_assert_nonnull (gtk_source_buffer_get_style_scheme (GTK_SOURCE_BUFFER (buffer)));
  g_object_unref (view);

  view = g_object_ref_sink (ponder_markdown_view_new ("```\nplain\n```\n"));
  source = find_type (view, GTK_SOURCE_TYPE_VIEW);
  buffer = gtk_text_view_get_buffer (GTK_TEXT_VIEW (source));
  g_assert_null (gtk_source_buffer_get_language (GTK_SOURCE_BUFFER (buffer)));
  g_object_unref (view);
}

static void
test_widget_hostile (void)
{
  GString *line = g_string_new (NULL);
  GString *mixed = g_string_new (NULL);
  GtkWidget *view;

  while (line->len < 100 * 1024)
    g_string_append (line, "<span>&amp; **x");
  while (mixed->len < 100 * 1024)
    g_string_append (mixed, "$a_{ \\(\\frac{{x\\) `$` \\[\\left( $$\\boxed{\n");
  view = g_object_ref_sink (ponder_markdown_view_new (line->str));
  g_assert_nonnull (gtk_widget_get_first_child (view));
  g_object_unref (view);
  view = g_object_ref_sink (ponder_markdown_view_new (mixed->str));
  g_assert_nonnull (gtk_widget_get_first_child (view));
  g_object_unref (view);
  g_string_free (line, TRUE);
  g_string_free (mixed, TRUE);
}

/* Screenshots */

static void
iterate (guint ms)
{
  gint64 end = g_get_monotonic_time () + ms * 1000;

  while (g_get_monotonic_time () < end)
    g_main_context_iteration (NULL, FALSE);
}

static void
screenshot (GtkWidget  *window,
            const char *name)
{
  g_autofree char *dir = g_build_filename (g_getenv ("PONDER_BUILD_ROOT"), "tests",
                                           "screenshots", NULL);
  g_autofree char *png = g_strdup_printf ("markdown-%s.png", name);
  g_autofree char *file = g_build_filename (dir, png, NULL);
  g_autoptr(GdkPaintable) paintable = gtk_widget_paintable_new (window);
  g_autoptr(GskRenderNode) node = NULL;
  g_autoptr(GdkTexture) texture = NULL;
  GtkSnapshot *snapshot;
  int width;
  int height;

  iterate (400);
  width = gtk_widget_get_width (window);
  height = gtk_widget_get_height (window);
  snapshot = gtk_snapshot_new ();
  gdk_paintable_snapshot (paintable, GDK_SNAPSHOT (snapshot), width, height);
  node = gtk_snapshot_free_to_node (snapshot);
  g_assert_nonnull (node);
  texture = gsk_renderer_render_texture (gtk_native_get_renderer (GTK_NATIVE (window)), node,
                                         &GRAPHENE_RECT_INIT (0, 0, width, height));
  g_mkdir_with_parents (dir, 0755);
  g_assert_true (gdk_texture_save_to_png (texture, file));
  g_test_message ("screenshot %s", file);
}

static const char sample[] =
  "## Solving $x^2 - 5x + 6 = 0$\n\n"
  "By the quadratic formula \\(x = \\frac{-b \\pm \\sqrt{b^2-4ac}}{2a}\\), with "
  "$a = 1$, $b = -5$ and $c = 6$ (prices like $5 and $10 stay text):\n"
  "\\[\n"
  "x_{1,2} = \\frac{5 \\pm \\sqrt{25 - 24}}{2} = \\left( \\frac{5 \\pm 1}{2} \\right)\n"
  "\\]\n"
  "so $x \\in \\{2, 3\\}$, $\\alpha \\leq \\beta \\neq \\gamma$, "
  "$\\sum_{i=1}^{n} i = \\frac{n(n+1)}{2}$ and $\\int_0^1 x^2\\,dx = \\tfrac13$.\n\n"
  "$$\\sum_{k=0}^{\\infty} \\frac{1}{k!} = e \\qquad \\lim_{n \\to \\infty} "
  "\\left(1 + \\frac{1}{n}\\right)^n = e$$\n\n"
  "$$f(x) = \\begin{cases} x^2 & x \\geq 0 \\\\ -x & \\text{otherwise} \\end{cases}"
  "\\quad \\sqrt[3]{27} = 3, \\; \\unknowncmd{y}$$\n\n"
  "```python\ndef roots(a, b, c):\n    d = (b * b - 4 * a * c) ** 0.5  # $not math$\n"
  "    return (-b + d) / (2 * a), (-b - d) / (2 * a)\n```\n\n"
  "**Final Answer**\n\\[\n\\boxed{x = 2 \\text{ or } x = 3}\n\\]\n";

static void
test_screenshot (void)
{
  GtkWidget *window = gtk_window_new ();
  GtkWidget *scroller = gtk_scrolled_window_new ();
  GtkWidget *view = ponder_markdown_view_new (sample);
  AdwStyleManager *styles = adw_style_manager_get_default ();

  gtk_widget_set_margin_start (view, 18);
  gtk_widget_set_margin_end (view, 18);
  gtk_widget_set_margin_top (view, 12);
  gtk_widget_set_margin_bottom (view, 12);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scroller), view);
  gtk_window_set_child (GTK_WINDOW (window), scroller);
  gtk_window_set_default_size (GTK_WINDOW (window), 760, 1000);
  gtk_window_present (GTK_WINDOW (window));
  screenshot (window, "math-light");
  adw_style_manager_set_color_scheme (styles, ADW_COLOR_SCHEME_FORCE_DARK);
  screenshot (window, "math-dark");
  adw_style_manager_set_color_scheme (styles, ADW_COLOR_SCHEME_DEFAULT);
  gtk_window_destroy (GTK_WINDOW (window));
}

/* The point at the middle of byte @index of @label's text, in its
 * coordinates. */
static void
point_of_index (GtkLabel *label,
                int       index,
                double   *x,
                double   *y)
{
  PangoRectangle rect;
  int offset_x, offset_y;

  pango_layout_index_to_pos (gtk_label_get_layout (label), index, &rect);
  gtk_label_get_layout_offsets (label, &offset_x, &offset_y);
  *x = offset_x + (rect.x + rect.width / 2.0) / PANGO_SCALE;
  *y = offset_y + (rect.y + rect.height / 2.0) / PANGO_SCALE;
}

static void
test_widget_links (void)
{
  static const char markdown[] =
    "Read [the guide](https://example.org/guide) or [this](javascript:alert(1)) first.";
  GtkWidget *window = gtk_window_new ();
  GtkWidget *view = ponder_markdown_view_new (markdown);
  g_autoptr(GPtrArray) list = children (view);
  GtkLabel *label;
  const char *text;
  double x, y;

  g_assert_cmpuint (list->len, ==, 1);
  label = GTK_LABEL (list->pdata[0]);
  text = gtk_label_get_text (label);
  g_assert_cmpstr (text, ==, "Read the guide or this first.");
  gtk_window_set_child (GTK_WINDOW (window), view);
  gtk_window_set_default_size (GTK_WINDOW (window), 600, 200);
  gtk_window_present (GTK_WINDOW (window));
  while (gtk_widget_get_width (GTK_WIDGET (label)) == 0)
    g_main_context_iteration (NULL, TRUE);

  /* On the words of each link, its target; elsewhere nothing. */
  point_of_index (label, strstr (text, "guide") - text, &x, &y);
  g_assert_cmpstr (ponder_markdown_link_at (label, x, y), ==, "https://example.org/guide");
  point_of_index (label, strstr (text, "the") - text, &x, &y);
  g_assert_cmpstr (ponder_markdown_link_at (label, x, y), ==, "https://example.org/guide");
  point_of_index (label, strstr (text, "this") - text + 1, &x, &y);
  g_assert_cmpstr (ponder_markdown_link_at (label, x, y), ==, "javascript:alert(1)");
  point_of_index (label, strstr (text, "Read") - text, &x, &y);
  g_assert_null (ponder_markdown_link_at (label, x, y));
  point_of_index (label, strstr (text, "first") - text, &x, &y);
  g_assert_null (ponder_markdown_link_at (label, x, y));

  /* Only web and mail targets are ever opened. */
  g_assert_true (ponder_markdown_link_can_open ("https://example.org/guide"));
  g_assert_true (ponder_markdown_link_can_open ("mailto:someone@example.org"));
  g_assert_false (ponder_markdown_link_can_open ("javascript:alert(1)"));
  g_assert_false (ponder_markdown_link_can_open ("file:///etc/passwd"));
  g_assert_false (ponder_markdown_link_can_open ("/relative/path"));
  gtk_window_destroy (GTK_WINDOW (window));
}

int
main (int    argc,
      char **argv)
{
  GtkWidget *label;

  gtk_test_init (&argc, &argv, NULL);
  adw_init ();
  gtk_source_init ();

  /* A fixed 20 px font makes the hand-worked numbers exact. */
  label = g_object_ref_sink (gtk_label_new (NULL));
  context = g_object_ref (gtk_widget_get_pango_context (label));
  font = pango_font_description_from_string ("Sans 20px");
  g_object_unref (label);

  g_test_add_func ("/math/parse/constructs", test_parse_constructs);
  g_test_add_func ("/math/parse/unknown", test_parse_unknown);
  g_test_add_func ("/math/parse/hostile", test_parse_hostile);
  g_test_add_func ("/math/layout/fraction", test_layout_fraction);
  g_test_add_func ("/math/layout/scripts", test_layout_scripts);
  g_test_add_func ("/math/layout/limits", test_layout_limits);
  g_test_add_func ("/math/layout/sqrt", test_layout_sqrt);
  g_test_add_func ("/math/layout/spacing", test_layout_spacing);
  g_test_add_func ("/math/layout/delimiters-boxed", test_layout_delimiters_boxed);
  g_test_add_func ("/math/layout/matrix", test_layout_matrix);
  g_test_add_func ("/markdown/find-math", test_find_math);
  g_test_add_func ("/markdown/hide-math", test_hide_math);
  g_test_add_func ("/markdown/find-math-hostile", test_find_math_hostile);
  g_test_add_func ("/markdown/widget/inline", test_widget_inline);
  g_test_add_func ("/markdown/widget/display", test_widget_display);
  g_test_add_func ("/markdown/widget/code", test_widget_code);
  g_test_add_func ("/markdown/widget/links", test_widget_links);
  g_test_add_func ("/markdown/widget/hostile", test_widget_hostile);
  g_test_add_func ("/markdown/screenshot", test_screenshot);
  return g_test_run ();
}
