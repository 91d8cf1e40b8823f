/* ponder-math-parse.c — TeX subset to a parse tree
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A recursive-descent parser for the math that chat models write: groups,
 * scripts, fractions, roots, \left...\right, accents, font switches, text,
 * matrices/cases/aligned environments and the usual symbols. Unknown
 * commands become ERROR nodes that show their name, so nothing is silently
 * dropped. Nesting depth and node count are capped: past either, parsing
 * fails and the caller shows the source as text.
 */

#define G_LOG_DOMAIN "ponder-math"

#include <string.h>

#include "ponder-math-private.h"

#define MAX_DEPTH 40
#define MAX_NODES 20000

enum
{
  STOP_BRACE   = 1 << 0,  /* '}' ends the row */
  STOP_RIGHT   = 1 << 1,  /* \right ends the row */
  STOP_CELL    = 1 << 2,  /* '&', '\\' and \end end the row */
  STOP_BRACKET = 1 << 3,  /* ']' ends the row (root index) */
};

typedef struct
{
  const char *s;
  gsize       pos;
  gsize       len;
  guint       depth;
  guint       nodes;
  gboolean    failed;
} Parser;

static PonderMathNode *parse_atom     (Parser *p);
static PonderMathNode *parse_row      (Parser *p,
                                       guint   stop);
static PonderMathNode *parse_argument (Parser *p);

static PonderMathNode *
node_new (Parser         *p,
          PonderMathKind  kind)
{
  PonderMathNode *node = g_new0 (PonderMathNode, 1);

  node->kind = kind;
  if (++p->nodes > MAX_NODES)
    p->failed = TRUE;
  return node;
}

static PonderMathNode *
symbol_new (Parser          *p,
            const char      *text,
            PonderMathClass  cls,
            guint            flags)
{
  PonderMathNode *node = node_new (p, PONDER_MATH_SYMBOL);

  node->text = g_strdup (text);
  node->cls = cls;
  node->flags = flags;
  return node;
}

static void
node_set_children (PonderMathNode *node,
                   GPtrArray      *children)
{
  node->n_children = children->len;
  node->children = (PonderMathNode **) g_ptr_array_free (children, FALSE);
}

static PonderMathNode *
node_with (Parser         *p,
           PonderMathKind  kind,
           guint           n,
           ...)
{
  PonderMathNode *node = node_new (p, kind);
  va_list args;
  guint i;

  node->n_children = n;
  node->children = g_new0 (PonderMathNode *, n);
  va_start (args, n);
  for (i = 0; i < n; i++)
    node->children[i] = va_arg (args, PonderMathNode *);
  va_end (args);
  return node;
}

static void
skip_space (Parser *p)
{
  while (p->pos < p->len && g_ascii_isspace (p->s[p->pos]))
    p->pos++;
}

static gboolean
peek (Parser *p,
      char    c)
{
  skip_space (p);
  return p->pos < p->len && p->s[p->pos] == c;
}

static void
advance_char (Parser *p)
{
  if (p->pos < p->len)
    p->pos = g_utf8_next_char (p->s + p->pos) - p->s;
  if (p->pos > p->len)
    p->pos = p->len;
}

/* Reads a control sequence at p->pos (which holds '\'): a run of letters,
 * or one character. A lone backslash at the end gives "". */
static char *
read_command (Parser *p)
{
  gsize start;

  p->pos++;
  start = p->pos;
  if (p->pos >= p->len)
    return g_strdup ("");
  if (g_ascii_isalpha (p->s[p->pos]))
    {
      while (p->pos < p->len && g_ascii_isalpha (p->s[p->pos]))
        p->pos++;
    }
  else
    advance_char (p);
  return g_strndup (p->s + start, p->pos - start);
}

static char *
peek_command (Parser *p)
{
  gsize saved = p->pos;
  char *name;

  if (p->pos >= p->len || p->s[p->pos] != '\\')
    return NULL;
  name = read_command (p);
  p->pos = saved;
  return name;
}

/* The text of a braced argument, unparsed (\text{}, environment names).
 * Without a brace, one character. */
static char *
read_raw_argument (Parser *p)
{
  GString *out = g_string_new (NULL);
  guint level = 0;

  skip_space (p);
  if (p->pos >= p->len)
    return g_string_free (out, FALSE);
  if (p->s[p->pos] != '{')
    {
      gsize start = p->pos;

      advance_char (p);
      g_string_append_len (out, p->s + start, p->pos - start);
      return g_string_free (out, FALSE);
    }
  p->pos++;
  while (p->pos < p->len)
    {
      char c = p->s[p->pos];

      if (c == '\\' && p->pos + 1 < p->len && !g_ascii_isalpha (p->s[p->pos + 1]))
        {
          /* \% \{ \$ and friends stand for the character itself. */
          p->pos++;
          g_string_append_c (out, p->s[p->pos]);
          p->pos++;
          continue;
        }
      if (c == '{')
        level++;
      else if (c == '}')
        {
          if (level == 0)
            {
              p->pos++;
              break;
            }
          level--;
        }
      g_string_append_c (out, c);
      p->pos++;
    }
  return g_string_free (out, FALSE);
}

static PonderMathNode *
parse_group (Parser *p)
{
  PonderMathNode *row;

  p->pos++;  /* '{' */
  row = parse_row (p, STOP_BRACE);
  if (p->pos < p->len && p->s[p->pos] == '}')
    p->pos++;
  return row;
}

static PonderMathNode *
char_symbol (Parser     *p,
             const char *start,
             gsize       len)
{
  static const struct { char c; const char *text; PonderMathClass cls; } ascii[] = {
    { '+', "+", PONDER_MATH_BIN }, { '-', "−", PONDER_MATH_BIN }, { '*', "∗", PONDER_MATH_BIN },
    { '=', "=", PONDER_MATH_REL }, { '<', "<", PONDER_MATH_REL }, { '>', ">", PONDER_MATH_REL },
    { ':', ":", PONDER_MATH_REL }, { '(', "(", PONDER_MATH_OPEN }, { '[', "[", PONDER_MATH_OPEN },
    { ')', ")", PONDER_MATH_CLOSE }, { ']', "]", PONDER_MATH_CLOSE },
    { '!', "!", PONDER_MATH_CLOSE }, { '?', "?", PONDER_MATH_CLOSE },
    { ',', ",", PONDER_MATH_PUNCT }, { ';', ";", PONDER_MATH_PUNCT },
  };
  g_autofree char *text = g_strndup (start, len);
  guint i;

  if (len == 1 && g_ascii_isalpha (start[0]))
    return symbol_new (p, text, PONDER_MATH_ORD, PONDER_MATH_FLAG_ITALIC);
  if (len == 1)
    for (i = 0; i < G_N_ELEMENTS (ascii); i++)
      if (ascii[i].c == start[0])
        return symbol_new (p, ascii[i].text, ascii[i].cls, 0);
  if (len == 1 && start[0] == '~')
    {
      PonderMathNode *space = node_new (p, PONDER_MATH_SPACE);

      space->amount = 1.0 / 3;
      return space;
    }
  return symbol_new (p, text, PONDER_MATH_ORD, 0);
}

static char *
read_delimiter (Parser *p)
{
  static const struct { const char *name; const char *text; } named[] = {
    { "{", "{" }, { "}", "}" }, { "lbrace", "{" }, { "rbrace", "}" }, { "langle", "⟨" },
    { "rangle", "⟩" }, { "lvert", "|" }, { "rvert", "|" }, { "vert", "|" }, { "|", "‖" },
    { "Vert", "‖" }, { "lVert", "‖" }, { "rVert", "‖" }, { "lfloor", "⌊" },
    { "rfloor", "⌋" }, { "lceil", "⌈" }, { "rceil", "⌉" }, { "lbrack", "[" },
    { "rbrack", "]" }, { "backslash", "\\" },
  };
  gsize start;

  skip_space (p);
  if (p->pos >= p->len)
    return g_strdup ("");
  if (p->s[p->pos] == '\\')
    {
      g_autofree char *name = read_command (p);
      guint i;

      for (i = 0; i < G_N_ELEMENTS (named); i++)
        if (strcmp (named[i].name, name) == 0)
          return g_strdup (named[i].text);
      return g_strdup ("");
    }
  start = p->pos;
  advance_char (p);
  if (p->s[start] == '.')
    return g_strdup ("");
  if (p->s[start] == '<')
    return g_strdup ("⟨");
  if (p->s[start] == '>')
    return g_strdup ("⟩");
  return g_strndup (p->s + start, p->pos - start);
}

static const struct { const char *name; const char *font; } font_commands[] = {
  { "mathrm", "rm" }, { "mathup", "rm" }, { "mathsf", "rm" }, { "mathtt", "rm" },
  { "mathit", "it" }, { "mathbf", "bf" }, { "boldsymbol", "bm" }, { "bm", "bm" },
  { "mathbb", "bb" }, { "mathcal", "cal" }, { "mathscr", "cal" }, { "mathfrak", "frak" },
};

static const struct { const char *name; const char *accent; guint flags; } accents[] = {
  { "hat", "ˆ", 0 }, { "widehat", "ˆ", 0 }, { "tilde", "˜", 0 }, { "widetilde", "˜", 0 },
  { "vec", "→", 0 }, { "overrightarrow", "→", 0 }, { "overleftarrow", "←", 0 },
  { "dot", "˙", 0 }, { "ddot", "¨", 0 }, { "check", "ˇ", 0 }, { "breve", "˘", 0 },
  { "acute", "´", 0 }, { "grave", "`", 0 }, { "mathring", "˚", 0 },
  { "bar", NULL, PONDER_MATH_FLAG_OVER }, { "overline", NULL, PONDER_MATH_FLAG_OVER },
  { "underline", NULL, PONDER_MATH_FLAG_UNDER },
  { "overbrace", NULL, PONDER_MATH_FLAG_OVER | PONDER_MATH_FLAG_ALWAYS_LIMITS },
  { "underbrace", NULL, PONDER_MATH_FLAG_UNDER | PONDER_MATH_FLAG_ALWAYS_LIMITS },
};

static PonderMathNode *parse_environment (Parser *p);

static PonderMathNode *
parse_negation (Parser *p)
{
  static const char *pairs[][2] = {
    { "=", "≠" }, { "∈", "∉" }, { "<", "≮" }, { ">", "≯" }, { "≤", "≰" }, { "≥", "≱" },
    { "≡", "≢" }, { "⊂", "⊄" }, { "⊆", "⊈" }, { "∼", "≁" }, { "≈", "≉" }, { "∣", "∤" },
    { "∥", "∦" }, { "⊃", "⊅" },
  };
  PonderMathNode *next = parse_argument (p);
  guint i;

  if (next == NULL || next->kind != PONDER_MATH_SYMBOL)
    return next;
  for (i = 0; i < G_N_ELEMENTS (pairs); i++)
    if (strcmp (next->text, pairs[i][0]) == 0)
      {
        g_free (next->text);
        next->text = g_strdup (pairs[i][1]);
        return next;
      }
  /* Otherwise the combining long solidus overlay. */
  {
    char *slashed = g_strconcat (next->text, "\xcc\xb8", NULL);

    g_free (next->text);
    next->text = slashed;
  }
  return next;
}

static PonderMathNode *
parse_sized_delimiter (Parser     *p,
                       const char *name)
{
  static const struct { const char *prefix; double em; } sizes[] = {
    { "Bigg", 3.0 }, { "bigg", 2.4 }, { "Big", 1.8 }, { "big", 1.2 },
  };
  PonderMathNode *node = node_new (p, PONDER_MATH_DELIM);
  gsize plen = 0;
  guint i;

  for (i = 0; i < G_N_ELEMENTS (sizes); i++)
    if (g_str_has_prefix (name, sizes[i].prefix))
      {
        node->amount = sizes[i].em;
        plen = strlen (sizes[i].prefix);
        break;
      }
  node->text = read_delimiter (p);
  node->cls = PONDER_MATH_ORD;
  if (name[plen] == 'l')
    node->cls = PONDER_MATH_OPEN;
  else if (name[plen] == 'r')
    node->cls = PONDER_MATH_CLOSE;
  else if (node->text[0] != '\0' && strchr ("([{", node->text[0]) != NULL)
    node->cls = PONDER_MATH_OPEN;
  else if (node->text[0] != '\0' && strchr (")]}", node->text[0]) != NULL)
    node->cls = PONDER_MATH_CLOSE;
  return node;
}

static PonderMathNode *
parse_left_right (Parser *p)
{
  PonderMathNode *node = node_new (p, PONDER_MATH_DELIMITED);
  PonderMathNode *content;

  node->text = read_delimiter (p);
  content = parse_row (p, STOP_RIGHT);
  skip_space (p);
  if (p->pos < p->len && p->s[p->pos] == '\\')
    {
      g_free (read_command (p));  /* \right */
      node->text2 = read_delimiter (p);
    }
  else
    node->text2 = g_strdup ("");
  node->n_children = 1;
  node->children = g_new0 (PonderMathNode *, 1);
  node->children[0] = content;
  return node;
}

static PonderMathNode *
text_node (Parser          *p,
           char            *text,
           PonderMathClass  cls,
           guint            flags)
{
  PonderMathNode *node = node_new (p, PONDER_MATH_TEXT);

  node->text = text;
  node->cls = cls;
  node->flags = flags;
  return node;
}

static PonderMathNode *
space_node (Parser *p,
            double  em)
{
  PonderMathNode *node = node_new (p, PONDER_MATH_SPACE);

  node->amount = em;
  return node;
}

/* Commands that take arguments or change structure; NULL when @name is
 * not one of them (*handled stays FALSE). */
static PonderMathNode *
parse_structural (Parser     *p,
                  const char *name,
                  gboolean   *handled)
{
  guint i;

  *handled = TRUE;
  if (g_str_equal (name, "frac") || g_str_equal (name, "dfrac") || g_str_equal (name, "tfrac") ||
      g_str_equal (name, "cfrac"))
    {
      PonderMathNode *num = parse_argument (p);
      PonderMathNode *den = parse_argument (p);
      PonderMathNode *frac = node_with (p, PONDER_MATH_FRAC, 2, num, den);

      if (name[0] == 'd' || name[0] == 'c')
        frac->flags |= PONDER_MATH_FLAG_DISPLAY;
      else if (name[0] == 't')
        frac->flags |= PONDER_MATH_FLAG_SMALL;
      return frac;
    }
  if (g_str_has_suffix (name, "binom") && strlen (name) <= 6)
    {
      PonderMathNode *top = parse_argument (p);
      PonderMathNode *bottom = parse_argument (p);
      PonderMathNode *frac = node_with (p, PONDER_MATH_FRAC, 2, top, bottom);
      PonderMathNode *delimited = node_with (p, PONDER_MATH_DELIMITED, 1, frac);

      frac->flags |= PONDER_MATH_FLAG_NOBAR;
      if (name[0] == 'd')
        frac->flags |= PONDER_MATH_FLAG_DISPLAY;
      else if (name[0] == 't')
        frac->flags |= PONDER_MATH_FLAG_SMALL;
      delimited->text = g_strdup ("(");
      delimited->text2 = g_strdup (")");
      return delimited;
    }
  if (g_str_equal (name, "sqrt"))
    {
      PonderMathNode *index = NULL;
      PonderMathNode *radicand;

      if (peek (p, '['))
        {
          p->pos++;
          index = parse_row (p, STOP_BRACKET);
          if (p->pos < p->len && p->s[p->pos] == ']')
            p->pos++;
        }
      radicand = parse_argument (p);
      return node_with (p, PONDER_MATH_SQRT, 2, radicand, index);
    }
  if (g_str_equal (name, "left"))
    return parse_left_right (p);
  if (g_str_has_prefix (name, "big") || g_str_has_prefix (name, "Big"))
    return parse_sized_delimiter (p, name);
  if (g_str_equal (name, "boxed") || g_str_equal (name, "fbox"))
    return node_with (p, PONDER_MATH_BOXED, 1, parse_argument (p));
  if (g_str_has_prefix (name, "text") || g_str_equal (name, "mbox") ||
      g_str_equal (name, "hbox"))
    {
      guint flags = 0;

      if (g_str_equal (name, "textit") || g_str_equal (name, "textsl"))
        flags = PONDER_MATH_FLAG_ITALIC;
      else if (g_str_equal (name, "textbf"))
        flags = PONDER_MATH_FLAG_BOLD;
      if (g_str_equal (name, "textcolor"))
        {
          g_free (read_raw_argument (p));
          return parse_argument (p);
        }
      return text_node (p, read_raw_argument (p), PONDER_MATH_ORD, flags);
    }
  if (g_str_equal (name, "operatorname") || g_str_equal (name, "mathop"))
    {
      guint flags = 0;

      if (p->pos < p->len && p->s[p->pos] == '*')
        {
          p->pos++;
          flags = PONDER_MATH_FLAG_LIMITS;
        }
      return text_node (p, read_raw_argument (p), PONDER_MATH_OP, flags);
    }
  for (i = 0; i < G_N_ELEMENTS (font_commands); i++)
    if (g_str_equal (name, font_commands[i].name))
      {
        PonderMathNode *arg = parse_argument (p);

        if (arg != NULL)
          _ponder_math_restyle (arg, font_commands[i].font);
        return arg;
      }
  for (i = 0; i < G_N_ELEMENTS (accents); i++)
    if (g_str_equal (name, accents[i].name))
      {
        PonderMathNode *accent = node_with (p, PONDER_MATH_ACCENT, 1, parse_argument (p));

        accent->text = g_strdup (accents[i].accent);
        accent->flags = accents[i].flags;
        return accent;
      }
  if (g_str_equal (name, "overset") || g_str_equal (name, "stackrel") ||
      g_str_equal (name, "underset"))
    {
      PonderMathNode *extra = parse_argument (p);
      PonderMathNode *base = parse_argument (p);
      PonderMathNode *scripts;

      if (name[0] == 'u')
        scripts = node_with (p, PONDER_MATH_SCRIPTS, 3, base, extra, NULL);
      else
        scripts = node_with (p, PONDER_MATH_SCRIPTS, 3, base, NULL, extra);
      scripts->flags = PONDER_MATH_FLAG_ALWAYS_LIMITS;
      scripts->cls = name[1] == 't' ? PONDER_MATH_REL : PONDER_MATH_ORD;
      return scripts;
    }
  if (g_str_equal (name, "begin"))
    return parse_environment (p);
  if (g_str_equal (name, "end") || g_str_equal (name, "label") || g_str_equal (name, "color"))
    {
      g_free (read_raw_argument (p));
      return NULL;
    }
  if (g_str_equal (name, "not"))
    return parse_negation (p);
  if (g_str_equal (name, "pmod"))
    {
      GPtrArray *items = g_ptr_array_new ();
      PonderMathNode *row = node_new (p, PONDER_MATH_ROW);

      g_ptr_array_add (items, space_node (p, 1.0));
      g_ptr_array_add (items, symbol_new (p, "(", PONDER_MATH_OPEN, 0));
      g_ptr_array_add (items, text_node (p, g_strdup ("mod"), PONDER_MATH_ORD, 0));
      g_ptr_array_add (items, space_node (p, 1.0 / 3));
      g_ptr_array_add (items, parse_argument (p));
      g_ptr_array_add (items, symbol_new (p, ")", PONDER_MATH_CLOSE, 0));
      node_set_children (row, items);
      return row;
    }
  if (g_str_equal (name, "mod"))
    return text_node (p, g_strdup ("mod"), PONDER_MATH_BIN, 0);
  if (g_str_equal (name, "tag"))
    {
      char *tag = read_raw_argument (p);
      PonderMathNode *text = text_node (p, g_strdup_printf ("(%s)", tag), PONDER_MATH_ORD, 0);

      g_free (tag);
      return node_with (p, PONDER_MATH_ROW, 2, space_node (p, 2.0), text);
    }
  if (g_str_has_suffix (name, "phantom"))
    {
      ponder_math_node_free (parse_argument (p));
      return NULL;
    }
  if (g_str_equal (name, "displaystyle") || g_str_equal (name, "textstyle") ||
      g_str_equal (name, "scriptstyle") || g_str_equal (name, "nonumber") ||
      g_str_equal (name, "notag") || g_str_equal (name, "right") ||
      g_str_equal (name, "middle") || g_str_equal (name, "nolimits") ||
      g_str_equal (name, "limits") || g_str_equal (name, "\\") || g_str_equal (name, "cr") ||
      g_str_equal (name, "qedhere") || g_str_equal (name, "scriptscriptstyle"))
    return NULL;
  *handled = FALSE;
  return NULL;
}

static PonderMathNode *
parse_command (Parser *p)
{
  g_autofree char *name = read_command (p);
  const PonderMathSymbol *sym;
  PonderMathNode *node;
  gboolean handled;
  double em;

  if (name[0] == '\0')
    {
      node = node_new (p, PONDER_MATH_ERROR);
      node->text = g_strdup ("\\");
      return node;
    }
  node = parse_structural (p, name, &handled);
  if (handled)
    return node;
  if ((sym = _ponder_math_symbol_find (name)) != NULL)
    return symbol_new (p, sym->utf8, sym->cls, sym->flags);
  if ((sym = _ponder_math_function_find (name)) != NULL)
    return symbol_new (p, sym->utf8, sym->cls, sym->flags);
  em = _ponder_math_space_find (name, &handled);
  if (handled)
    return space_node (p, em);

  node = node_new (p, PONDER_MATH_ERROR);
  node->text = g_strconcat ("\\", name, NULL);
  return node;
}

static PonderMathNode *
parse_number (Parser *p)
{
  gsize start = p->pos;
  g_autofree char *text = NULL;

  while (p->pos < p->len && (g_ascii_isdigit (p->s[p->pos]) ||
                             (p->s[p->pos] == '.' && p->pos + 1 < p->len &&
                              g_ascii_isdigit (p->s[p->pos + 1]))))
    p->pos++;
  text = g_strndup (p->s + start, p->pos - start);
  return symbol_new (p, text, PONDER_MATH_ORD, 0);
}

static PonderMathNode *
parse_atom (Parser *p)
{
  PonderMathNode *node;
  gsize start;
  char c;

  skip_space (p);
  if (p->pos >= p->len)
    return NULL;
  if (++p->depth > MAX_DEPTH)
    {
      p->failed = TRUE;
      p->depth--;
      return NULL;
    }

  c = p->s[p->pos];
  start = p->pos;
  if (c == '{')
    node = parse_group (p);
  else if (c == '\\')
    node = parse_command (p);
  else if (g_ascii_isdigit (c))
    node = parse_number (p);
  else
    {
      advance_char (p);
      node = char_symbol (p, p->s + start, p->pos - start);
    }
  p->depth--;
  return node;
}

/* One token as an argument: a group, a command or a single character. */
static PonderMathNode *
parse_argument (Parser *p)
{
  gsize start;

  skip_space (p);
  if (p->pos >= p->len || p->s[p->pos] == '}' || p->s[p->pos] == '&')
    return node_new (p, PONDER_MATH_ROW);
  if (p->s[p->pos] == '{' || p->s[p->pos] == '\\')
    return parse_atom (p);
  start = p->pos;
  advance_char (p);
  return char_symbol (p, p->s + start, p->pos - start);
}

static void
attach_script (Parser    *p,
               GPtrArray *items)
{
  PonderMathNode *last = items->len > 0 ? g_ptr_array_index (items, items->len - 1) : NULL;
  char c = p->s[p->pos];
  guint slot = c == '_' ? 1 : 2;
  PonderMathNode *script;

  if (last == NULL || last->kind != PONDER_MATH_SCRIPTS || last->children[slot] != NULL ||
      (last->flags & PONDER_MATH_FLAG_ALWAYS_LIMITS && last->children[0] != NULL &&
       last->children[0]->kind != PONDER_MATH_SYMBOL))
    {
      PonderMathNode *base = last != NULL ? g_ptr_array_steal_index (items, items->len - 1) : NULL;
      PonderMathNode *chain = base;
      guint links = 0;

      /* x^a^b^c... nests without recursing here: bound it all the same. */
      while (chain != NULL && chain->kind == PONDER_MATH_SCRIPTS && links++ <= MAX_DEPTH)
        chain = chain->children[0];
      if (links > MAX_DEPTH)
        p->failed = TRUE;

      last = node_with (p, PONDER_MATH_SCRIPTS, 3, base, NULL, NULL);
      if (base != NULL && (base->kind == PONDER_MATH_ACCENT || base->kind == PONDER_MATH_SYMBOL))
        last->flags |= base->flags & (PONDER_MATH_FLAG_ALWAYS_LIMITS | PONDER_MATH_FLAG_LIMITS);
      if (base != NULL)
        last->cls = base->cls;
      g_ptr_array_add (items, last);
    }

  if (c == '\'')
    {
      GString *primes = g_string_new (NULL);

      while (p->pos < p->len && p->s[p->pos] == '\'')
        {
          g_string_append (primes, "′");
          p->pos++;
        }
      script = symbol_new (p, primes->str, PONDER_MATH_ORD, 0);
      g_string_free (primes, TRUE);
      if (p->pos < p->len && p->s[p->pos] == '^')
        {
          p->pos++;
          script = node_with (p, PONDER_MATH_ROW, 2, script, parse_argument (p));
        }
      slot = 2;
    }
  else
    {
      p->pos++;
      script = parse_argument (p);
    }
  if (script == NULL)
    script = node_new (p, PONDER_MATH_ROW);
  last->children[slot] = script;
}

static gboolean
row_ends (Parser *p,
          guint   stop)
{
  char c = p->s[p->pos];
  g_autofree char *name = NULL;

  if (c == '}' && (stop & STOP_BRACE))
    return TRUE;
  if (c == ']' && (stop & STOP_BRACKET))
    return TRUE;
  if (c == '&' && (stop & STOP_CELL))
    return TRUE;
  if (c != '\\')
    return FALSE;
  name = peek_command (p);
  if (g_str_equal (name, "right"))
    return (stop & STOP_RIGHT) != 0;
  if (g_str_equal (name, "\\") || g_str_equal (name, "cr") || g_str_equal (name, "end"))
    return (stop & STOP_CELL) != 0;
  return FALSE;
}

static PonderMathNode *
parse_row (Parser *p,
           guint   stop)
{
  PonderMathNode *row = node_new (p, PONDER_MATH_ROW);
  GPtrArray *items = g_ptr_array_new ();

  while (!p->failed)
    {
      gsize before;
      g_autofree char *name = NULL;
      char c;

      skip_space (p);
      if (p->pos >= p->len || row_ends (p, stop))
        break;
      c = p->s[p->pos];
      before = p->pos;
      if (c == '}' || c == '&' || c == ']')
        {
          /* Stray closer: TeX would stop; we show the character. */
          if (c == ']')
            g_ptr_array_add (items, symbol_new (p, "]", PONDER_MATH_CLOSE, 0));
          p->pos++;
          continue;
        }
      if (c == '^' || c == '_' || c == '\'')
        {
          attach_script (p, items);
          continue;
        }
      name = peek_command (p);
      if (name != NULL && (g_str_equal (name, "limits") || g_str_equal (name, "nolimits")) &&
          items->len > 0)
        {
          PonderMathNode *last = g_ptr_array_index (items, items->len - 1);

          last->flags &= ~(PONDER_MATH_FLAG_LIMITS | PONDER_MATH_FLAG_NOLIMITS);
          last->flags |= name[0] == 'l' ? PONDER_MATH_FLAG_ALWAYS_LIMITS
                                        : PONDER_MATH_FLAG_NOLIMITS;
        }
      {
        PonderMathNode *item = parse_atom (p);

        if (item != NULL)
          g_ptr_array_add (items, item);
      }
      if (p->pos == before)
        advance_char (p);
    }
  node_set_children (row, items);
  return row;
}

static gboolean
row_is_empty (PonderMathNode *row)
{
  return row->n_children == 0 ||
         (row->n_children == 1 && row->children[0]->kind == PONDER_MATH_ROW &&
          row->children[0]->n_children == 0);
}

/* Rows of '&'-separated cells up to \end (or the end of the source). */
static PonderMathNode *
parse_cells (Parser  *p,
             gboolean top_level)
{
  PonderMathNode *array = node_new (p, PONDER_MATH_ARRAY);
  GPtrArray *rows = g_ptr_array_new ();
  GPtrArray *cells = g_ptr_array_new ();

  while (!p->failed)
    {
      g_autofree char *name = NULL;

      g_ptr_array_add (cells, parse_row (p, STOP_CELL));
      skip_space (p);
      if (p->pos >= p->len)
        break;
      if (p->s[p->pos] == '&')
        {
          p->pos++;
          continue;
        }
      name = read_command (p);
      if (g_str_equal (name, "end"))
        {
          g_free (read_raw_argument (p));
          if (!top_level)
            break;
          continue;
        }
      /* \\ or \cr: a new row; an optional [2pt] spacing is dropped. */
      if (peek (p, '['))
        while (p->pos < p->len && p->s[p->pos++] != ']')
          ;
      {
        PonderMathNode *row = node_new (p, PONDER_MATH_ROW);

        node_set_children (row, g_steal_pointer (&cells));
        g_ptr_array_add (rows, row);
        cells = g_ptr_array_new ();
      }
    }
  if (cells->len > 1 || (cells->len == 1 && !row_is_empty (g_ptr_array_index (cells, 0))) ||
      rows->len == 0)
    {
      PonderMathNode *row = node_new (p, PONDER_MATH_ROW);

      node_set_children (row, cells);
      g_ptr_array_add (rows, row);
    }
  else
    {
      g_ptr_array_set_free_func (cells, (GDestroyNotify) ponder_math_node_free);
      g_ptr_array_free (cells, TRUE);
    }
  node_set_children (array, rows);
  return array;
}

static PonderMathNode *
parse_environment (Parser *p)
{
  static const struct { const char *name; const char *align; const char *l, *r; } envs[] = {
    { "matrix", "c", NULL, NULL }, { "smallmatrix", "c", NULL, NULL },
    { "pmatrix", "c", "(", ")" }, { "bmatrix", "c", "[", "]" }, { "Bmatrix", "c", "{", "}" },
    { "vmatrix", "c", "|", "|" }, { "Vmatrix", "c", "‖", "‖" }, { "cases", "l", "{", "" },
    { "dcases", "l", "{", "" }, { "rcases", "l", "", "}" }, { "aligned", "rl", NULL, NULL },
    { "align", "rl", NULL, NULL }, { "align*", "rl", NULL, NULL },
    { "alignat", "rl", NULL, NULL }, { "alignat*", "rl", NULL, NULL },
    { "alignedat", "rl", NULL, NULL }, { "split", "rl", NULL, NULL },
    { "eqnarray", "rcl", NULL, NULL }, { "eqnarray*", "rcl", NULL, NULL },
  };
  g_autofree char *name = read_raw_argument (p);
  const char *align = "c";
  const char *left = NULL;
  const char *right = NULL;
  g_autofree char *spec = NULL;
  PonderMathNode *array;
  guint i;

  for (i = 0; i < G_N_ELEMENTS (envs); i++)
    if (g_str_equal (name, envs[i].name))
      {
        align = envs[i].align;
        left = envs[i].l;
        right = envs[i].r;
      }
  if (g_str_has_prefix (name, "alignat") || g_str_has_prefix (name, "alignedat"))
    g_free (read_raw_argument (p));
  if (g_str_equal (name, "array"))
    {
      GString *cols = g_string_new (NULL);
      g_autofree char *raw = read_raw_argument (p);
      const char *c;

      for (c = raw; *c != '\0'; c++)
        if (*c == 'l' || *c == 'c' || *c == 'r')
          g_string_append_c (cols, *c);
      if (cols->len == 0)
        g_string_append_c (cols, 'c');
      spec = g_string_free (cols, FALSE);
      align = spec;
    }

  array = parse_cells (p, FALSE);
  array->text = g_strdup (align);
  if (left != NULL)
    {
      PonderMathNode *delimited = node_with (p, PONDER_MATH_DELIMITED, 1, array);

      delimited->text = g_strdup (left);
      delimited->text2 = g_strdup (right);
      return delimited;
    }
  return array;
}

/**
 * ponder_math_parse:
 * @tex: TeX source without its delimiters
 * @len: its length, or -1
 *
 * Returns: (transfer full) (nullable): the tree, or %NULL when the source
 *   is too long, not UTF-8, or nested or sized past the limits
 */
PonderMathNode *
ponder_math_parse (const char *tex,
                   gssize      len)
{
  Parser p = { 0 };
  PonderMathNode *array;
  PonderMathNode *result;
  gboolean has_columns = FALSE;
  guint i;

  g_return_val_if_fail (tex != NULL, NULL);

  if (len < 0)
    len = strlen (tex);
  if (len > PONDER_MATH_MAX_SOURCE || !g_utf8_validate (tex, len, NULL))
    return NULL;
  p.s = tex;
  p.len = len;

  /* Top-level '\\' and '&' (display math written without aligned) lay
   * out as rows, aligned when there are columns. */
  array = parse_cells (&p, TRUE);
  if (p.failed)
    {
      ponder_math_node_free (array);
      return NULL;
    }
  if (array->n_children == 1 && array->children[0]->n_children == 1)
    {
      result = g_steal_pointer (&array->children[0]->children[0]);
      ponder_math_node_free (array);
      /* A lone item stands for itself, so the root is the construct. */
      if (result->kind == PONDER_MATH_ROW && result->n_children == 1)
        {
          PonderMathNode *item = g_steal_pointer (&result->children[0]);

          ponder_math_node_free (result);
          result = item;
        }
      return result;
    }
  for (i = 0; i < array->n_children; i++)
    has_columns |= array->children[i]->n_children > 1;
  array->text = g_strdup (has_columns ? "rl" : "c");
  return array;
}
