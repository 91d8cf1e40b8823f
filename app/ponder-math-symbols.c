/* ponder-math-symbols.c — the TeX control words we know, as Unicode
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Names and code points are the standard LaTeX/amssymb ones (facts, from
 * the Unicode math tables). Lowercase Greek is italic as in TeX; capitals
 * are upright.
 */

#include <string.h>

#include "ponder-math-private.h"

#define I PONDER_MATH_FLAG_ITALIC
#define ORD PONDER_MATH_ORD
#define BIN PONDER_MATH_BIN
#define REL PONDER_MATH_REL
#define OPN PONDER_MATH_OPEN
#define CLS PONDER_MATH_CLOSE
#define PCT PONDER_MATH_PUNCT
#define OP PONDER_MATH_OP
#define BIG (PONDER_MATH_FLAG_LARGE | PONDER_MATH_FLAG_LIMITS)
#define INT (PONDER_MATH_FLAG_LARGE | PONDER_MATH_FLAG_NOLIMITS)

static const PonderMathSymbol symbols[] = {
  /* Greek */
  { "alpha", "α", ORD, I }, { "beta", "β", ORD, I }, { "gamma", "γ", ORD, I },
  { "delta", "δ", ORD, I }, { "epsilon", "ϵ", ORD, I }, { "varepsilon", "ε", ORD, I },
  { "zeta", "ζ", ORD, I }, { "eta", "η", ORD, I }, { "theta", "θ", ORD, I },
  { "vartheta", "ϑ", ORD, I }, { "iota", "ι", ORD, I }, { "kappa", "κ", ORD, I },
  { "lambda", "λ", ORD, I }, { "mu", "μ", ORD, I }, { "nu", "ν", ORD, I },
  { "xi", "ξ", ORD, I }, { "omicron", "ο", ORD, I }, { "pi", "π", ORD, I },
  { "varpi", "ϖ", ORD, I }, { "rho", "ρ", ORD, I }, { "varrho", "ϱ", ORD, I },
  { "sigma", "σ", ORD, I }, { "varsigma", "ς", ORD, I }, { "tau", "τ", ORD, I },
  { "upsilon", "υ", ORD, I }, { "phi", "ϕ", ORD, I }, { "varphi", "φ", ORD, I },
  { "chi", "χ", ORD, I }, { "psi", "ψ", ORD, I }, { "omega", "ω", ORD, I },
  { "Gamma", "Γ", ORD, 0 }, { "Delta", "Δ", ORD, 0 }, { "Theta", "Θ", ORD, 0 },
  { "Lambda", "Λ", ORD, 0 }, { "Xi", "Ξ", ORD, 0 }, { "Pi", "Π", ORD, 0 },
  { "Sigma", "Σ", ORD, 0 }, { "Upsilon", "Υ", ORD, 0 }, { "Phi", "Φ", ORD, 0 },
  { "Psi", "Ψ", ORD, 0 }, { "Omega", "Ω", ORD, 0 },
  /* binary operators */
  { "pm", "±", BIN, 0 }, { "mp", "∓", BIN, 0 }, { "times", "×", BIN, 0 },
  { "div", "÷", BIN, 0 }, { "cdot", "⋅", BIN, 0 }, { "circ", "∘", BIN, 0 },
  { "bullet", "∙", BIN, 0 }, { "ast", "∗", BIN, 0 }, { "star", "⋆", BIN, 0 },
  { "cup", "∪", BIN, 0 }, { "cap", "∩", BIN, 0 }, { "wedge", "∧", BIN, 0 },
  { "land", "∧", BIN, 0 }, { "vee", "∨", BIN, 0 }, { "lor", "∨", BIN, 0 },
  { "oplus", "⊕", BIN, 0 }, { "ominus", "⊖", BIN, 0 }, { "otimes", "⊗", BIN, 0 },
  { "odot", "⊙", BIN, 0 }, { "setminus", "∖", BIN, 0 }, { "sqcup", "⊔", BIN, 0 },
  { "sqcap", "⊓", BIN, 0 }, { "uplus", "⊎", BIN, 0 }, { "bmod", "mod", BIN, 0 },
  { "dagger", "†", BIN, 0 }, { "ddagger", "‡", BIN, 0 }, { "wr", "≀", BIN, 0 },
  /* relations and arrows */
  { "leq", "≤", REL, 0 }, { "le", "≤", REL, 0 }, { "geq", "≥", REL, 0 },
  { "ge", "≥", REL, 0 }, { "neq", "≠", REL, 0 }, { "ne", "≠", REL, 0 },
  { "leqslant", "⩽", REL, 0 }, { "geqslant", "⩾", REL, 0 }, { "nleq", "≰", REL, 0 },
  { "ngeq", "≱", REL, 0 }, { "approx", "≈", REL, 0 }, { "equiv", "≡", REL, 0 },
  { "sim", "∼", REL, 0 }, { "simeq", "≃", REL, 0 }, { "cong", "≅", REL, 0 },
  { "propto", "∝", REL, 0 }, { "ll", "≪", REL, 0 }, { "gg", "≫", REL, 0 },
  { "lesssim", "≲", REL, 0 }, { "gtrsim", "≳", REL, 0 }, { "prec", "≺", REL, 0 },
  { "succ", "≻", REL, 0 }, { "preceq", "⪯", REL, 0 }, { "succeq", "⪰", REL, 0 },
  { "subset", "⊂", REL, 0 }, { "supset", "⊃", REL, 0 }, { "subseteq", "⊆", REL, 0 },
  { "supseteq", "⊇", REL, 0 }, { "subsetneq", "⊊", REL, 0 }, { "supsetneq", "⊋", REL, 0 },
  { "in", "∈", REL, 0 }, { "notin", "∉", REL, 0 }, { "ni", "∋", REL, 0 },
  { "perp", "⊥", REL, 0 }, { "parallel", "∥", REL, 0 }, { "mid", "∣", REL, 0 },
  { "nmid", "∤", REL, 0 }, { "asymp", "≍", REL, 0 }, { "doteq", "≐", REL, 0 },
  { "vdash", "⊢", REL, 0 }, { "models", "⊨", REL, 0 }, { "coloneqq", "≔", REL, 0 },
  { "to", "→", REL, 0 }, { "rightarrow", "→", REL, 0 }, { "gets", "←", REL, 0 },
  { "leftarrow", "←", REL, 0 }, { "leftrightarrow", "↔", REL, 0 },
  { "Rightarrow", "⇒", REL, 0 }, { "Leftarrow", "⇐", REL, 0 },
  { "Leftrightarrow", "⇔", REL, 0 }, { "implies", "⟹", REL, 0 },
  { "impliedby", "⟸", REL, 0 }, { "iff", "⟺", REL, 0 }, { "mapsto", "↦", REL, 0 },
  { "longrightarrow", "⟶", REL, 0 }, { "longleftarrow", "⟵", REL, 0 },
  { "Longrightarrow", "⟹", REL, 0 }, { "Longleftarrow", "⟸", REL, 0 },
  { "longleftrightarrow", "⟷", REL, 0 }, { "Longleftrightarrow", "⟺", REL, 0 },
  { "longmapsto", "⟼", REL, 0 }, { "uparrow", "↑", REL, 0 }, { "downarrow", "↓", REL, 0 },
  { "Uparrow", "⇑", REL, 0 }, { "Downarrow", "⇓", REL, 0 }, { "nearrow", "↗", REL, 0 },
  { "searrow", "↘", REL, 0 }, { "hookrightarrow", "↪", REL, 0 },
  { "rightleftharpoons", "⇌", REL, 0 }, { "triangleq", "≜", REL, 0 },
  /* ordinary symbols */
  { "infty", "∞", ORD, 0 }, { "partial", "∂", ORD, 0 }, { "nabla", "∇", ORD, 0 },
  { "forall", "∀", ORD, 0 }, { "exists", "∃", ORD, 0 }, { "nexists", "∄", ORD, 0 },
  { "emptyset", "∅", ORD, 0 }, { "varnothing", "∅", ORD, 0 }, { "neg", "¬", ORD, 0 },
  { "lnot", "¬", ORD, 0 }, { "angle", "∠", ORD, 0 }, { "triangle", "△", ORD, 0 },
  { "ell", "ℓ", ORD, 0 }, { "hbar", "ℏ", ORD, 0 }, { "Re", "ℜ", ORD, 0 },
  { "Im", "ℑ", ORD, 0 }, { "aleph", "ℵ", ORD, 0 }, { "prime", "′", ORD, 0 },
  { "degree", "°", ORD, 0 }, { "ldots", "…", ORD, 0 }, { "dots", "…", ORD, 0 },
  { "cdots", "⋯", ORD, 0 }, { "dotsc", "…", ORD, 0 }, { "dotsb", "⋯", ORD, 0 },
  { "vdots", "⋮", ORD, 0 }, { "ddots", "⋱", ORD, 0 }, { "therefore", "∴", REL, 0 },
  { "because", "∵", REL, 0 }, { "checkmark", "✓", ORD, 0 }, { "square", "□", ORD, 0 },
  { "Box", "□", ORD, 0 }, { "blacksquare", "■", ORD, 0 }, { "qed", "∎", ORD, 0 },
  { "diamond", "⋄", BIN, 0 }, { "S", "§", ORD, 0 }, { "P", "¶", ORD, 0 },
  { "clubsuit", "♣", ORD, 0 }, { "heartsuit", "♡", ORD, 0 }, { "spadesuit", "♠", ORD, 0 },
  { "diamondsuit", "♢", ORD, 0 }, { "flat", "♭", ORD, 0 }, { "sharp", "♯", ORD, 0 },
  { "top", "⊤", ORD, 0 }, { "bot", "⊥", ORD, 0 }, { "imath", "ı", ORD, I },
  { "jmath", "ȷ", ORD, I }, { "wp", "℘", ORD, 0 }, { "mho", "℧", ORD, 0 },
  { "backslash", "\\", ORD, 0 }, { "%", "%", ORD, 0 }, { "$", "$", ORD, 0 },
  { "&", "&", ORD, 0 }, { "#", "#", ORD, 0 }, { "_", "_", ORD, 0 },
  { "vert", "|", ORD, 0 }, { "Vert", "‖", ORD, 0 }, { "|", "‖", ORD, 0 },
  { "colon", ":", PCT, 0 }, { "cdotp", "⋅", PCT, 0 }, { "ldotp", ".", PCT, 0 },
  /* delimiters */
  { "{", "{", OPN, 0 }, { "}", "}", CLS, 0 }, { "lbrace", "{", OPN, 0 },
  { "rbrace", "}", CLS, 0 }, { "langle", "⟨", OPN, 0 }, { "rangle", "⟩", CLS, 0 },
  { "lfloor", "⌊", OPN, 0 }, { "rfloor", "⌋", CLS, 0 }, { "lceil", "⌈", OPN, 0 },
  { "rceil", "⌉", CLS, 0 }, { "lvert", "|", OPN, 0 }, { "rvert", "|", CLS, 0 },
  { "lVert", "‖", OPN, 0 }, { "rVert", "‖", CLS, 0 }, { "lbrack", "[", OPN, 0 },
  { "rbrack", "]", CLS, 0 },
  /* large operators */
  { "sum", "∑", OP, BIG }, { "prod", "∏", OP, BIG }, { "coprod", "∐", OP, BIG },
  { "bigcup", "⋃", OP, BIG }, { "bigcap", "⋂", OP, BIG }, { "bigvee", "⋁", OP, BIG },
  { "bigwedge", "⋀", OP, BIG }, { "bigoplus", "⨁", OP, BIG }, { "bigotimes", "⨂", OP, BIG },
  { "bigodot", "⨀", OP, BIG }, { "biguplus", "⨄", OP, BIG }, { "bigsqcup", "⨆", OP, BIG },
  { "int", "∫", OP, INT }, { "iint", "∬", OP, INT }, { "iiint", "∭", OP, INT },
  { "oint", "∮", OP, INT },
};

/* Upright operator names; those with LIMITS take limits below in display. */
static const PonderMathSymbol functions[] = {
  { "sin", "sin", OP, 0 }, { "cos", "cos", OP, 0 }, { "tan", "tan", OP, 0 },
  { "cot", "cot", OP, 0 }, { "sec", "sec", OP, 0 }, { "csc", "csc", OP, 0 },
  { "arcsin", "arcsin", OP, 0 }, { "arccos", "arccos", OP, 0 },
  { "arctan", "arctan", OP, 0 }, { "sinh", "sinh", OP, 0 }, { "cosh", "cosh", OP, 0 },
  { "tanh", "tanh", OP, 0 }, { "coth", "coth", OP, 0 }, { "log", "log", OP, 0 },
  { "ln", "ln", OP, 0 }, { "lg", "lg", OP, 0 }, { "exp", "exp", OP, 0 },
  { "det", "det", OP, PONDER_MATH_FLAG_LIMITS }, { "dim", "dim", OP, 0 },
  { "ker", "ker", OP, 0 }, { "hom", "hom", OP, 0 }, { "arg", "arg", OP, 0 },
  { "deg", "deg", OP, 0 }, { "gcd", "gcd", OP, PONDER_MATH_FLAG_LIMITS },
  { "lcm", "lcm", OP, PONDER_MATH_FLAG_LIMITS }, { "Pr", "Pr", OP, PONDER_MATH_FLAG_LIMITS },
  { "max", "max", OP, PONDER_MATH_FLAG_LIMITS }, { "min", "min", OP, PONDER_MATH_FLAG_LIMITS },
  { "sup", "sup", OP, PONDER_MATH_FLAG_LIMITS }, { "inf", "inf", OP, PONDER_MATH_FLAG_LIMITS },
  { "lim", "lim", OP, PONDER_MATH_FLAG_LIMITS },
  { "liminf", "lim inf", OP, PONDER_MATH_FLAG_LIMITS },
  { "limsup", "lim sup", OP, PONDER_MATH_FLAG_LIMITS },
  { "argmax", "arg max", OP, PONDER_MATH_FLAG_LIMITS },
  { "argmin", "arg min", OP, PONDER_MATH_FLAG_LIMITS },
};

static const struct { const char *name; double em; } spaces[] = {
  { ",", 3.0 / 18 }, { "thinspace", 3.0 / 18 }, { ":", 4.0 / 18 }, { ">", 4.0 / 18 },
  { "medspace", 4.0 / 18 }, { ";", 5.0 / 18 }, { "thickspace", 5.0 / 18 },
  { "!", -3.0 / 18 }, { "negthinspace", -3.0 / 18 }, { " ", 1.0 / 3 },
  { "quad", 1.0 }, { "qquad", 2.0 }, { "enspace", 0.5 },
};

static const PonderMathSymbol *
find_in (const PonderMathSymbol *table,
         gsize                   n,
         const char             *name)
{
  gsize i;

  for (i = 0; i < n; i++)
    if (strcmp (table[i].name, name) == 0)
      return &table[i];
  return NULL;
}

const PonderMathSymbol *
_ponder_math_symbol_find (const char *name)
{
  return find_in (symbols, G_N_ELEMENTS (symbols), name);
}

const PonderMathSymbol *
_ponder_math_function_find (const char *name)
{
  return find_in (functions, G_N_ELEMENTS (functions), name);
}

double
_ponder_math_space_find (const char *name,
                         gboolean   *found)
{
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (spaces); i++)
    if (strcmp (spaces[i].name, name) == 0)
      {
        *found = TRUE;
        return spaces[i].em;
      }
  *found = FALSE;
  return 0;
}

/* Letters to Unicode mathematical alphanumerics (\mathbb, \mathcal,
 * \mathfrak). The holes in those blocks are the older letterlike symbols. */
void
_ponder_math_restyle (PonderMathNode *node,
                      const char     *font)
{
  static const char *bb[26] = { [2] = "ℂ", [7] = "ℍ", [13] = "ℕ", [15] = "ℙ", [16] = "ℚ",
                                [17] = "ℝ", [25] = "ℤ" };
  static const char *cal[26] = { [1] = "ℬ", [4] = "ℰ", [5] = "ℱ", [7] = "ℋ", [8] = "ℐ",
                                 [11] = "ℒ", [12] = "ℳ", [17] = "ℛ" };
  static const char *frak[26] = { [2] = "ℭ", [7] = "ℌ", [8] = "ℑ", [17] = "ℜ", [25] = "ℨ" };
  guint i;

  for (i = 0; i < node->n_children; i++)
    if (node->children[i] != NULL)
      _ponder_math_restyle (node->children[i], font);
  if (node->kind != PONDER_MATH_SYMBOL || node->text == NULL)
    return;

  if (strcmp (font, "rm") == 0)
    node->flags &= ~PONDER_MATH_FLAG_ITALIC;
  else if (strcmp (font, "bf") == 0)
    node->flags = (node->flags & ~PONDER_MATH_FLAG_ITALIC) | PONDER_MATH_FLAG_BOLD;
  else if (strcmp (font, "bm") == 0)
    node->flags |= PONDER_MATH_FLAG_BOLD;
  else if (strcmp (font, "it") == 0)
    node->flags |= PONDER_MATH_FLAG_ITALIC;
  else if (node->text[0] >= 'A' && node->text[0] <= 'Z' && node->text[1] == '\0')
    {
      guint k = node->text[0] - 'A';
      const char *special = NULL;
      gunichar base = 0;
      char buf[8] = { 0 };

      if (strcmp (font, "bb") == 0)
        special = bb[k], base = 0x1D538;
      else if (strcmp (font, "cal") == 0)
        special = cal[k], base = 0x1D49C;
      else if (strcmp (font, "frak") == 0)
        special = frak[k], base = 0x1D504;
      if (base == 0)
        return;
      if (special == NULL)
        g_unichar_to_utf8 (base + k, buf);
      g_free (node->text);
      node->text = g_strdup (special != NULL ? special : buf);
      node->flags &= ~PONDER_MATH_FLAG_ITALIC;
    }
}
