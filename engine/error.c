/* error.c: filling a PonderError.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

PonderStatus
ponder_error_set (PonderError *error,
                  PonderStatus code,
                  const char  *format,
                  ...)
{
  va_list args;

  if (error == NULL)
    return code;
  error->code = code;
  va_start (args, format);
  vsnprintf (error->message, sizeof error->message, format, args);
  va_end (args);
  return code;
}

void
ponder_error_prefix (PonderError *error,
                     const char  *format,
                     ...)
{
  char prefix[PONDER_ERROR_MESSAGE_MAX];
  char joined[PONDER_ERROR_MESSAGE_MAX];
  size_t n_prefix, n_rest;
  va_list args;

  if (error == NULL)
    return;
  va_start (args, format);
  vsnprintf (prefix, sizeof prefix, format, args);
  va_end (args);
  /* Truncation is fine here: the message is cut at the buffer's end. */
  n_prefix = strlen (prefix);
  memcpy (joined, prefix, n_prefix);
  n_rest = strnlen (error->message, sizeof joined - 1 - n_prefix);
  memcpy (joined + n_prefix, error->message, n_rest);
  joined[n_prefix + n_rest] = '\0';
  memcpy (error->message, joined, sizeof joined);
}

const char *
ponder_status_name (PonderStatus status)
{
  switch (status)
    {
    case PONDER_OK: return "ok";
    case PONDER_ERROR_INVALID_ARGUMENT: return "invalid argument";
    case PONDER_ERROR_IO: return "input/output error";
    case PONDER_ERROR_FORMAT: return "format error";
    case PONDER_ERROR_UNSUPPORTED: return "unsupported";
    case PONDER_ERROR_NO_MEMORY: return "out of memory";
    case PONDER_ERROR_CONTEXT_FULL: return "context full";
    case PONDER_ERROR_CANCELLED: return "cancelled";
    case PONDER_ERROR_DEVICE: return "device error";
    default: return "unknown error";
    }
}
