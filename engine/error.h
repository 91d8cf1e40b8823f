/* error.h: filling a PonderError.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "ponder-engine.h"

/* Sets error (which may be NULL) to code and the printf-style message, and
 * returns code, so that callers can write `return ponder_error_set (...)`. */
PonderStatus ponder_error_set (PonderError *error,
                               PonderStatus code,
                               const char  *format,
                               ...) __attribute__ ((format (printf, 3, 4)));

/* Prefixes an already-set message with more context ("model.gguf: ..."). */
void         ponder_error_prefix (PonderError *error,
                                  const char  *format,
                                  ...) __attribute__ ((format (printf, 2, 3)));
