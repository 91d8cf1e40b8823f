/* ponder-markdown-math.h — finding TeX math in markdown before cmark sees it
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* At most this many formulas per message; the rest stay text. */
#define PONDER_MARKDOWN_MAX_MATH 1000

typedef struct
{
  gsize    start;      /* the span in the source, delimiters included */
  gsize    end;
  gsize    tex_start;  /* the TeX inside the delimiters */
  gsize    tex_end;
  gboolean display;    /* $$ $$, \[ \], or a \boxed{} alone on its line */
} PonderMathSpan;

GArray   *ponder_markdown_find_math        (const char *text,
                                            gsize       len);
char     *ponder_markdown_hide_math        (const char *text,
                                            gsize       len,
                                            GArray     *spans);
gboolean  ponder_markdown_math_placeholder (const char *p,
                                            guint      *index);

G_END_DECLS
