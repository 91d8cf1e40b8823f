/* ponder-math-private.h — shared between the ponder-math*.c files
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "ponder-math.h"

G_BEGIN_DECLS

typedef struct
{
  const char      *name;   /* without the backslash */
  const char      *utf8;
  PonderMathClass  cls;
  guint            flags;  /* PonderMathFlags: ITALIC, LARGE, LIMITS, NOLIMITS */
} PonderMathSymbol;

const PonderMathSymbol *_ponder_math_symbol_find   (const char *name);
const PonderMathSymbol *_ponder_math_function_find (const char *name);
double                  _ponder_math_space_find    (const char *name,
                                                    gboolean   *found);
void                    _ponder_math_restyle       (PonderMathNode *node,
                                                    const char     *font);

G_END_DECLS
