/* ponder-math-tree.c — freeing and printing math parse trees
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "ponder-math-private.h"

void
ponder_math_node_free (PonderMathNode *node)
{
  guint i;

  if (node == NULL)
    return;
  for (i = 0; i < node->n_children; i++)
    ponder_math_node_free (node->children[i]);
  g_free (node->children);
  g_free (node->text);
  g_free (node->text2);
  g_free (node);
}

static void
append_node (GString              *out,
             const PonderMathNode *node)
{
  static const char *classes[] = { "", ":op", ":bin", ":rel", ":open", ":close", ":punct" };
  guint i;

  if (node == NULL)
    {
      g_string_append (out, "{}");
      return;
    }
  switch (node->kind)
    {
    case PONDER_MATH_ROW:
      if (node->n_children == 1)
        {
          append_node (out, node->children[0]);
          return;
        }
      if (node->n_children == 0)
        {
          g_string_append (out, "{}");
          return;
        }
      g_string_append (out, "(row");
      break;
    case PONDER_MATH_SYMBOL:
      g_string_append_printf (out, "%s%s", node->text, classes[node->cls]);
      return;
    case PONDER_MATH_TEXT:
      g_string_append_printf (out, "(text \"%s\")", node->text);
      return;
    case PONDER_MATH_ERROR:
      g_string_append_printf (out, "(error \"%s\")", node->text);
      return;
    case PONDER_MATH_SPACE:
      g_string_append_printf (out, "(space %.2f)", node->amount);
      return;
    case PONDER_MATH_DELIM:
      g_string_append_printf (out, "(delim %s %.1f)", node->text, node->amount);
      return;
    case PONDER_MATH_FRAC:
      g_string_append (out, node->flags & PONDER_MATH_FLAG_NOBAR ? "(binom" : "(frac");
      break;
    case PONDER_MATH_SQRT:
      if (node->children[1] != NULL)
        {
          g_string_append (out, "(root ");
          append_node (out, node->children[1]);
          g_string_append_c (out, ' ');
          append_node (out, node->children[0]);
          g_string_append_c (out, ')');
          return;
        }
      g_string_append (out, "(sqrt ");
      append_node (out, node->children[0]);
      g_string_append_c (out, ')');
      return;
    case PONDER_MATH_SCRIPTS:
      g_string_append (out, node->children[1] == NULL ? "(sup " :
                            node->children[2] == NULL ? "(sub " : "(subsup ");
      append_node (out, node->children[0]);
      for (i = 1; i < 3; i++)
        if (node->children[i] != NULL)
          {
            g_string_append_c (out, ' ');
            append_node (out, node->children[i]);
          }
      g_string_append_c (out, ')');
      return;
    case PONDER_MATH_DELIMITED:
      g_string_append_printf (out, "(left %s ", node->text[0] ? node->text : ".");
      append_node (out, node->children[0]);
      g_string_append_printf (out, " %s)", node->text2[0] ? node->text2 : ".");
      return;
    case PONDER_MATH_BOXED:
      g_string_append (out, "(boxed");
      break;
    case PONDER_MATH_ACCENT:
      g_string_append_printf (out, "(accent %s",
                              node->text != NULL ? node->text :
                              node->flags & PONDER_MATH_FLAG_UNDER ? "under" : "over");
      break;
    case PONDER_MATH_ARRAY:
      g_string_append_printf (out, "(array %s", node->text != NULL ? node->text : "c");
      for (i = 0; i < node->n_children; i++)
        {
          guint j;

          g_string_append (out, " (");
          for (j = 0; j < node->children[i]->n_children; j++)
            {
              if (j > 0)
                g_string_append (out, " & ");
              append_node (out, node->children[i]->children[j]);
            }
          g_string_append_c (out, ')');
        }
      g_string_append_c (out, ')');
      return;
    default:
      g_string_append (out, "(?");
      break;
    }
  for (i = 0; i < node->n_children; i++)
    {
      g_string_append_c (out, ' ');
      append_node (out, node->children[i]);
    }
  g_string_append_c (out, ')');
}

/**
 * ponder_math_node_to_string:
 *
 * A compact S-expression of the tree, for tests: symbols print as their
 * text with a class suffix when not ordinary ("+:bin"), one-item rows as
 * their item.
 *
 * Returns: (transfer full): the string
 */
char *
ponder_math_node_to_string (const PonderMathNode *node)
{
  GString *out = g_string_new (NULL);

  append_node (out, node);
  return g_string_free (out, FALSE);
}
