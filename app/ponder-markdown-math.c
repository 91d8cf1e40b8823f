/* ponder-markdown-math.c — finding TeX math in markdown before cmark sees it
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * cmark would eat the backslashes of \( and \[ and read the _ and * of TeX
 * as emphasis, so math is found in the raw text first and each formula is
 * replaced by one placeholder character (U+F0000 + its index, from a
 * private-use plane) that cmark passes through untouched.
 *
 * The rules:
 * - \( \) and \[ \] and $$ $$ always delimit math.
 * - $ $ (inline) follows pandoc's rule, made stricter: the opening $ must
 *   be followed by a non-space; the next unescaped $ must close it, and it
 *   only does when it follows a non-space and is not followed by a digit.
 *   Otherwise the opening $ is a plain dollar. So "$5 and $10" is text
 *   (the second $ follows a space), "$x$" is math, "$5 and 6$" is math (as
 *   in pandoc). \$ is always a dollar sign.
 * - A bare \boxed{...} outside other math is math (R1 writes it so); alone
 *   on its line it is shown as display math.
 * - No formula crosses a blank line (a paragraph end), and none starts
 *   inside a code span or a fenced code block. Indented code blocks are not
 *   recognised here; a placeholder that ends up inside any code is turned
 *   back into its source by the renderer.
 * - Searches are bounded (MAX_SCAN bytes), so hostile input stays linear.
 * Text that already holds characters of that private-use plane has them
 * replaced by U+FFFD, so model text cannot forge a placeholder.
 */

#include <string.h>

#include "ponder-markdown-math.h"

#define MAX_SCAN 8192
#define PLACEHOLDER_BASE 0xF0000

typedef enum
{
  CLOSE_PAREN,    /* \) */
  CLOSE_BRACKET,  /* \] */
  DOUBLE_DOLLAR,  /* $$ */
  DOLLAR,         /* $ after a non-space, not before a digit */
} Closer;

typedef struct
{
  const char *s;
  gsize       len;
  GArray     *spans;
} Scan;

static gboolean
is_space (char c)
{
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Whether the line starting at @pos holds only blanks (a paragraph end). */
static gboolean
blank_line_at (Scan *sc,
               gsize pos)
{
  while (pos < sc->len && (sc->s[pos] == ' ' || sc->s[pos] == '\t' || sc->s[pos] == '\r'))
    pos++;
  return pos >= sc->len || sc->s[pos] == '\n';
}

/* Offset of the closer at or after @from, in the same paragraph and
 * within MAX_SCAN bytes; -1 when there is none. */
static gssize
find_closer (Scan   *sc,
             gsize   from,
             Closer  closer)
{
  gsize i = from;

  while (i < sc->len)
    {
      char c = sc->s[i];

      if (i - from > MAX_SCAN || (c == '\n' && blank_line_at (sc, i + 1)))
        return -1;
      if (c == '\\' && i + 1 < sc->len)
        {
          if ((closer == CLOSE_PAREN && sc->s[i + 1] == ')') ||
              (closer == CLOSE_BRACKET && sc->s[i + 1] == ']'))
            return i;
          i += 2;
          continue;
        }
      if (c == '$')
        {
          if (closer == DOUBLE_DOLLAR && i + 1 < sc->len && sc->s[i + 1] == '$')
            return i;
          if (closer == DOLLAR)
            {
              /* The first $ closes or nothing does: "$5 and $10" is text. */
              if (i > from && !is_space (sc->s[i - 1]) &&
                  !(i + 1 < sc->len && g_ascii_isdigit (sc->s[i + 1])))
                return i;
              return -1;
            }
        }
      i++;
    }
  return -1;
}

/* The offset of the '}' that closes the '{' at @open, or -1. */
static gssize
match_brace (Scan *sc,
             gsize open)
{
  guint level = 0;
  gsize i;

  for (i = open; i < sc->len && i - open <= MAX_SCAN; i++)
    {
      char c = sc->s[i];

      if (c == '\\')
        i++;
      else if (c == '{')
        level++;
      else if (c == '}' && --level == 0)
        return i;
      else if (c == '\n' && blank_line_at (sc, i + 1))
        return -1;
    }
  return -1;
}

static gboolean
has_content (Scan *sc,
             gsize start,
             gsize end)
{
  gsize i;

  for (i = start; i < end; i++)
    if (!is_space (sc->s[i]))
      return TRUE;
  return FALSE;
}

static void
add_span (Scan    *sc,
          gsize    start,
          gsize    end,
          gsize    tex_start,
          gsize    tex_end,
          gboolean display)
{
  PonderMathSpan span = { start, end, tex_start, tex_end, display };

  g_array_append_val (sc->spans, span);
}

/* Whether only blanks surround [start, end) on its line. */
static gboolean
alone_on_line (Scan *sc,
               gsize start,
               gsize end)
{
  gsize i;

  for (i = start; i > 0 && sc->s[i - 1] != '\n'; i--)
    if (!is_space (sc->s[i - 1]))
      return FALSE;
  for (i = end; i < sc->len && sc->s[i] != '\n'; i++)
    if (!is_space (sc->s[i]))
      return FALSE;
  return TRUE;
}

/* A fence line (``` or ~~~, after blanks and quote markers): its
 * character and length, 0 when the line is not a fence. */
static gsize
fence_at (Scan *sc,
          gsize pos,
          char *fence_char)
{
  gsize n = 0;

  while (pos < sc->len && (sc->s[pos] == ' ' || sc->s[pos] == '\t' || sc->s[pos] == '>'))
    pos++;
  if (pos >= sc->len || (sc->s[pos] != '`' && sc->s[pos] != '~'))
    return 0;
  *fence_char = sc->s[pos];
  while (pos + n < sc->len && sc->s[pos + n] == *fence_char)
    n++;
  return n >= 3 ? n : 0;
}

static gsize
next_line (Scan *sc,
           gsize pos)
{
  const char *nl = memchr (sc->s + pos, '\n', sc->len - pos);

  return nl != NULL ? (gsize) (nl - sc->s) + 1 : sc->len;
}

/* Skips a code span opened by the backtick run at @pos. */
static gsize
skip_code_span (Scan *sc,
                gsize pos)
{
  gsize n = 0;
  gsize i;

  while (pos + n < sc->len && sc->s[pos + n] == '`')
    n++;
  for (i = pos + n; i < sc->len && i - pos <= MAX_SCAN;)
    {
      if (sc->s[i] == '`')
        {
          gsize m = 0;

          while (i + m < sc->len && sc->s[i + m] == '`')
            m++;
          if (m == n)
            return i + m;
          i += m;
          continue;
        }
      if (sc->s[i] == '\n' && blank_line_at (sc, i + 1))
        break;
      i++;
    }
  return pos + n;  /* no closing run: the backticks are literal */
}

/* Tries the math opener at @i; returns the offset after the formula, or
 * @i when there is none there. */
static gsize
try_math (Scan *sc,
          gsize i)
{
  const char *s = sc->s;
  gssize close;

  if (s[i] == '\\' && i + 1 < sc->len && (s[i + 1] == '(' || s[i + 1] == '['))
    {
      close = find_closer (sc, i + 2, s[i + 1] == '(' ? CLOSE_PAREN : CLOSE_BRACKET);
      if (close < 0 || !has_content (sc, i + 2, close))
        return i;
      add_span (sc, i, close + 2, i + 2, close, s[i + 1] == '[');
      return close + 2;
    }
  if (s[i] == '\\' && sc->len - i > 7 && strncmp (s + i, "\\boxed{", 7) == 0)
    {
      close = match_brace (sc, i + 6);
      if (close < 0)
        return i;
      add_span (sc, i, close + 1, i, close + 1, alone_on_line (sc, i, close + 1));
      return close + 1;
    }
  if (s[i] == '$' && i + 1 < sc->len && s[i + 1] == '$')
    {
      close = find_closer (sc, i + 2, DOUBLE_DOLLAR);
      if (close < 0 || !has_content (sc, i + 2, close))
        return i;
      add_span (sc, i, close + 2, i + 2, close, TRUE);
      return close + 2;
    }
  if (s[i] == '$' && i + 1 < sc->len && !is_space (s[i + 1]))
    {
      close = find_closer (sc, i + 1, DOLLAR);
      if (close < 0)
        return i;
      add_span (sc, i, close + 1, i + 1, close, FALSE);
      return close + 1;
    }
  return i;
}

/**
 * ponder_markdown_find_math:
 *
 * Returns: (transfer full): the formulas of @text as #PonderMathSpan, in
 *   order and not overlapping
 */
GArray *
ponder_markdown_find_math (const char *text,
                           gsize       len)
{
  Scan sc = { text, len, g_array_new (FALSE, FALSE, sizeof (PonderMathSpan)) };
  gboolean line_start = TRUE;
  gsize fence_len = 0;
  char fence_char = 0;
  gsize i = 0;

  while (i < len && sc.spans->len < PONDER_MARKDOWN_MAX_MATH)
    {
      char c;

      if (line_start)
        {
          char ch = 0;
          gsize n = fence_at (&sc, i, &ch);

          line_start = FALSE;
          if (fence_len > 0)
            {
              if (n >= fence_len && ch == fence_char)
                fence_len = 0;
              i = next_line (&sc, i);
              line_start = TRUE;
              continue;
            }
          if (n > 0)
            {
              fence_len = n;
              fence_char = ch;
              i = next_line (&sc, i);
              line_start = TRUE;
              continue;
            }
        }

      c = text[i];
      if (c == '\n')
        {
          i++;
          line_start = TRUE;
        }
      else if (c == '`')
        i = skip_code_span (&sc, i);
      else if (c == '\\' || c == '$')
        {
          gsize after = try_math (&sc, i);

          if (after > i)
            {
              /* A formula may end a line; the next begins fresh. */
              i = after;
              line_start = i > 0 && text[i - 1] == '\n';
            }
          else if (i + 1 < len && text[i + 1] != '\n' &&
                   (c == '\\' || text[i + 1] == '$'))
            i += 2;  /* an escaped character, or a $$ that opens nothing */
          else
            i++;
        }
      else
        i++;
    }
  return sc.spans;
}

/**
 * ponder_markdown_hide_math:
 * @spans: from ponder_markdown_find_math() on the same text
 *
 * Returns: (transfer full): @text with each formula replaced by its
 *   placeholder character
 */
char *
ponder_markdown_hide_math (const char *text,
                           gsize       len,
                           GArray     *spans)
{
  GString *out = g_string_sized_new (len + 16);
  gsize pos = 0;
  guint k;

  for (k = 0; k <= spans->len; k++)
    {
      gsize until = k < spans->len ? g_array_index (spans, PonderMathSpan, k).start : len;
      gsize i;

      /* Copy, defusing characters that would read as placeholders. */
      for (i = pos; i < until; i++)
        {
          if ((guchar) text[i] == 0xF3 && i + 1 < until && (guchar) text[i + 1] >= 0xB0 &&
              (guchar) text[i + 1] <= 0xBF)
            {
              g_string_append (out, "\xef\xbf\xbd");
              i += 3;
              continue;
            }
          g_string_append_c (out, text[i]);
        }
      if (k < spans->len)
        {
          g_string_append_unichar (out, PLACEHOLDER_BASE + k);
          pos = g_array_index (spans, PonderMathSpan, k).end;
        }
    }
  return g_string_free (out, FALSE);
}

/**
 * ponder_markdown_math_placeholder:
 * @p: a position in text made by ponder_markdown_hide_math()
 *
 * Returns: whether a placeholder starts at @p; if so *@index is its span
 */
gboolean
ponder_markdown_math_placeholder (const char *p,
                                  guint      *index)
{
  gunichar c;

  if ((guchar) p[0] != 0xF3 || (guchar) p[1] < 0xB0 || (guchar) p[1] > 0xBF)
    return FALSE;
  c = g_utf8_get_char (p);
  if (c < PLACEHOLDER_BASE || c >= PLACEHOLDER_BASE + PONDER_MARKDOWN_MAX_MATH)
    return FALSE;
  *index = c - PLACEHOLDER_BASE;
  return TRUE;
}
