/* ponder-math.h — a small TeX subset: parse tree, box layout, drawing
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The parse tree and the laid-out boxes are plain structs so that tests can
 * walk them and check geometry against hand-worked expectations.
 */

#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

/* Longer formulas are shown as their source: layout cost stays bounded. */
#define PONDER_MATH_MAX_SOURCE 4096

typedef enum
{
  PONDER_MATH_ROW,        /* children: items */
  PONDER_MATH_SYMBOL,     /* text: one atom (letter, number, operator) */
  PONDER_MATH_TEXT,       /* text: roman text from \text{} or \operatorname{} */
  PONDER_MATH_FRAC,       /* children: numerator, denominator */
  PONDER_MATH_SQRT,       /* children: radicand, index (may be NULL) */
  PONDER_MATH_SCRIPTS,    /* children: base, sub, sup (each may be NULL) */
  PONDER_MATH_DELIMITED,  /* text: left, text2: right; children: content */
  PONDER_MATH_DELIM,      /* text: a fixed-size delimiter (\big( ...); amount: em */
  PONDER_MATH_BOXED,      /* children: content */
  PONDER_MATH_ACCENT,     /* text: accent; children: content */
  PONDER_MATH_SPACE,      /* amount: width in em */
  PONDER_MATH_ARRAY,      /* text: column alignments; children: ROWs of cells */
  PONDER_MATH_ERROR,      /* text: source shown as it was (unknown command) */
} PonderMathKind;

/* TeX's atom classes, which decide the spacing between neighbours. */
typedef enum
{
  PONDER_MATH_ORD,
  PONDER_MATH_OP,
  PONDER_MATH_BIN,
  PONDER_MATH_REL,
  PONDER_MATH_OPEN,
  PONDER_MATH_CLOSE,
  PONDER_MATH_PUNCT,
} PonderMathClass;

typedef enum
{
  PONDER_MATH_FLAG_ITALIC   = 1 << 0,
  PONDER_MATH_FLAG_BOLD     = 1 << 1,
  PONDER_MATH_FLAG_LIMITS   = 1 << 2,  /* scripts above/below in display style */
  PONDER_MATH_FLAG_NOLIMITS = 1 << 3,
  PONDER_MATH_FLAG_LARGE    = 1 << 4,  /* big operator: \sum, \int */
  PONDER_MATH_FLAG_NOBAR    = 1 << 5,  /* \binom */
  PONDER_MATH_FLAG_DISPLAY  = 1 << 6,  /* \dfrac: forces display style */
  PONDER_MATH_FLAG_SMALL    = 1 << 7,  /* \tfrac: forces text style */
  PONDER_MATH_FLAG_OVER     = 1 << 8,  /* accent is a rule above (\overline) */
  PONDER_MATH_FLAG_UNDER    = 1 << 9,  /* accent is a rule below (\underline) */
  PONDER_MATH_FLAG_ALWAYS_LIMITS = 1 << 10, /* \overset, \underset, \limits */
} PonderMathFlags;

typedef struct _PonderMathNode PonderMathNode;

struct _PonderMathNode
{
  PonderMathKind   kind;
  PonderMathClass  cls;
  guint            flags;
  char            *text;
  char            *text2;
  double           amount;
  PonderMathNode **children;
  guint            n_children;
};

PonderMathNode *ponder_math_parse          (const char     *tex,
                                            gssize          len);
void            ponder_math_node_free      (PonderMathNode *node);
char           *ponder_math_node_to_string (const PonderMathNode *node);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PonderMathNode, ponder_math_node_free)

/* Laid-out boxes. Every box has its origin on its baseline at its left
 * edge; (x, y) place that origin relative to the parent's origin, y down. */
typedef enum
{
  PONDER_MATH_BOX_GROUP,    /* children; construct says which node made it */
  PONDER_MATH_BOX_GLYPH,    /* layout */
  PONDER_MATH_BOX_RULE,     /* a filled bar (fraction line, overline) */
  PONDER_MATH_BOX_DELIM,    /* a stretched delimiter drawn as a path (text) */
  PONDER_MATH_BOX_RADICAL,  /* the root sign */
  PONDER_MATH_BOX_FRAME,    /* the \boxed outline */
} PonderMathBoxKind;

typedef struct _PonderMathBox PonderMathBox;

struct _PonderMathBox
{
  PonderMathBoxKind kind;
  PonderMathKind    construct;
  double            x;
  double            y;
  double            width;
  double            ascent;
  double            descent;
  double            thickness;   /* rules and strokes */
  double            size;        /* font size in pixels where it was laid out */
  double            baseline;    /* glyphs: the baseline's offset in the layout */
  gboolean          error;
  char             *text;
  PangoLayout      *layout;
  PonderMathBox   **children;    /* entries may be NULL (a missing script) */
  guint             n_children;
};

/* A formula laid out once for a font; shared (reference counted) by the
 * Pango shape attributes and widgets that show it. */
typedef struct _PonderMathFormula PonderMathFormula;

struct _PonderMathFormula
{
  char                 *source;   /* the TeX, without delimiters */
  gboolean              display;
  PangoFontDescription *font;     /* the text font it was laid out for */
  PonderMathBox        *root;     /* NULL when the TeX could not be parsed */
};

PonderMathFormula *ponder_math_formula_new   (const char         *tex,
                                              gboolean            display,
                                              PangoContext       *context);
PonderMathFormula *ponder_math_formula_ref   (PonderMathFormula  *formula);
void               ponder_math_formula_unref (PonderMathFormula  *formula);
void               ponder_math_formula_draw  (PonderMathFormula  *formula,
                                              cairo_t            *cr,
                                              double              x,
                                              double              baseline);

PonderMathBox     *ponder_math_layout        (const PonderMathNode *node,
                                              PangoContext       *context,
                                              const PangoFontDescription *font,
                                              gboolean            display);
void               ponder_math_box_free      (PonderMathBox      *box);
void               ponder_math_box_draw      (const PonderMathBox *box,
                                              cairo_t            *cr,
                                              double              x,
                                              double              baseline);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PonderMathBox, ponder_math_box_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PonderMathFormula, ponder_math_formula_unref)

/* Widgets: display math, and inline math inside a GtkLabel. */
#define PONDER_TYPE_MATH_VIEW (ponder_math_view_get_type ())
G_DECLARE_FINAL_TYPE (PonderMathView, ponder_math_view, PONDER, MATH_VIEW, GtkWidget)

GtkWidget         *ponder_math_view_new         (const char    *tex);
PonderMathFormula *ponder_math_view_get_formula (PonderMathView *self);

PangoAttribute    *ponder_math_inline_attr      (PonderMathFormula *formula);
void               ponder_math_label_prepare    (GtkLabel      *label);
gboolean           ponder_math_attr_get_formula (PangoAttribute *attr,
                                                 PonderMathFormula **formula);

G_END_DECLS
