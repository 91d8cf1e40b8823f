/* tokenizer-pre.c: pre-tokenizers, the regex lists that cut text into pieces
 * before BPE (engine-spec.md 5.3).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Each list is applied as Hugging Face's Sequence of Split pre-tokenizers
 * with the "Isolated" behaviour: every regex cuts every current piece into
 * its matches and the unmatched gaps between them, and the next regex runs
 * on each resulting piece on its own (so '$' and look-aheads see the end of
 * the piece, not of the text). The patterns use PCRE2 in UTF + UCP mode.
 */
#define PCRE2_CODE_UNIT_WIDTH 8

#include "tokenizer-private.h"
#include "error.h"

#include <pcre2.h>
#include <stdlib.h>
#include <string.h>

#define MAX_REGEXES 8

/* The case-insensitive contractions, then letters, digits, punctuation
 * runs and whitespace, as in GPT-2's and the Qwen/Llama tokenizer.json. */
#define R_QWEN \
  "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}" \
  "| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"
#define R_LLAMA \
  "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}" \
  "| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"
#define R_GPT2 \
  "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+"
/* DeepSeek-V3: digit groups, then CJK (U+4E00-U+9FA5, Hiragana, Katakana),
 * then the general split. The first class is the 32 ASCII punctuation
 * characters. */
#define R_DS1 "\\p{N}{1,3}"
#define R_DS2 "[\\x{4E00}-\\x{9FA5}\\x{3040}-\\x{309F}\\x{30A0}-\\x{30FF}]+"
#define R_DS3 \
  "[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+" \
  "|[^\\r\\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+| ?[\\p{P}\\p{S}]+[\\r\\n]*" \
  "|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"
/* The older DeepSeek LLM / Coder tokenizers: newlines alone, words with at
 * most one leading space, punctuation runs, trailing whitespace, CJK/Hangul
 * runs, digits. The LLM's letter class is the cased letters (Lu, Ll, Lt):
 * its tokenizer.json lists their ranges explicitly. "(?<!\s)" makes the
 * trailing-whitespace regex fail at once inside a run instead of rescanning
 * it from every position (same matches, linear time). */
#define R_NEWLINE "[\\r\\n]"
#define R_DSLLM_WORD "\\s?\\p{L&}+"
#define R_DSLLM_PUNCT \
  "\\s?[!-/:-~\\x{FF01}-\\x{FF0F}\\x{FF1A}-\\x{FF5E}\\x{2018}-\\x{201F}\\x{3000}-\\x{3002}]+"
#define R_TRAILING_SPACE "(?<!\\s)\\s+$"
#define R_CJK_HANGUL "[\\x{4E00}-\\x{9FA5}\\x{0800}-\\x{4E00}\\x{AC00}-\\x{D7FF}]+"
#define R_DSCODER_WORD "\\s?\\p{L}+"
#define R_DSCODER_PUNCT "\\s?\\p{P}+"

typedef struct
{
  const char *names[4];
  const char *regexes[MAX_REGEXES];
  bool        ignore_merges;
  bool        nfc;
} PreSpec;

static const PreSpec pre_specs[] = {
  { { "qwen2", "deepseek-r1-qwen" }, { R_QWEN }, false, true },
  { { "llama-bpe", "llama3", "llama-v3" }, { R_LLAMA }, true, false },
  { { "deepseek-v3" }, { R_DS1, R_DS2, R_DS3 }, false, false },
  { { "deepseek-llm" },
    { R_NEWLINE, R_DSLLM_WORD, R_DSLLM_PUNCT, R_TRAILING_SPACE, R_CJK_HANGUL, "\\p{N}+" },
    false, false },
  { { "deepseek-coder" },
    { R_NEWLINE, R_DSCODER_WORD, R_DSCODER_PUNCT, R_CJK_HANGUL, "\\p{N}" },
    false, false },
  { { "default", "gpt2", "gpt-2" }, { R_GPT2 }, false, false },
};

struct PonderPreTokenizer
{
  const PreSpec *spec;
  pcre2_code    *codes[MAX_REGEXES];
  size_t         n_codes;
};

static const PreSpec *
find_spec (const char *pre_name)
{
  for (size_t i = 0; i < sizeof pre_specs / sizeof pre_specs[0]; i++)
    for (size_t j = 0; j < 4 && pre_specs[i].names[j] != NULL; j++)
      if (strcmp (pre_specs[i].names[j], pre_name) == 0)
        return &pre_specs[i];
  return NULL;
}

PonderStatus
ponder_pretok_new (const char          *pre_name,
                   PonderPreTokenizer **out_pretok,
                   PonderError         *error)
{
  const PreSpec *spec = find_spec (pre_name);
  PonderPreTokenizer *pretok;

  *out_pretok = NULL;
  if (spec == NULL)
    return ponder_error_set (error, PONDER_ERROR_UNSUPPORTED,
                             "tokenizer: pre-tokenizer \"%s\" (tokenizer.ggml.pre) is not "
                             "supported; known: qwen2, deepseek-r1-qwen, llama-bpe, "
                             "deepseek-v3, deepseek-llm, deepseek-coder, default",
                             pre_name);
  pretok = calloc (1, sizeof *pretok);
  if (pretok == NULL)
    return ponder_error_set (error, PONDER_ERROR_NO_MEMORY, "tokenizer: out of memory");
  pretok->spec = spec;

  for (size_t i = 0; i < MAX_REGEXES && spec->regexes[i] != NULL; i++)
    {
      int code_error = 0;
      PCRE2_SIZE offset = 0;
      pcre2_code *code = pcre2_compile ((PCRE2_SPTR) spec->regexes[i], PCRE2_ZERO_TERMINATED,
                                        PCRE2_UTF | PCRE2_UCP | PCRE2_NO_UTF_CHECK,
                                        &code_error, &offset, NULL);

      if (code == NULL)
        {
          PCRE2_UCHAR message[256];

          pcre2_get_error_message (code_error, message, sizeof message);
          ponder_pretok_free (pretok);
          /* Our own pattern failed: a bug or a PCRE2 built without Unicode. */
          return ponder_error_set (error, PONDER_ERROR_UNSUPPORTED,
                                   "tokenizer: regex %zu of \"%s\" does not compile at "
                                   "offset %zu: %s", i, pre_name, (size_t) offset,
                                   (const char *) message);
        }
      /* JIT is only an accelerator: matching falls back to the interpreter
       * when it is unavailable. */
      pcre2_jit_compile (code, PCRE2_JIT_COMPLETE);
      pretok->codes[pretok->n_codes++] = code;
    }
  *out_pretok = pretok;
  return PONDER_OK;
}

void
ponder_pretok_free (PonderPreTokenizer *pretok)
{
  if (pretok == NULL)
    return;
  for (size_t i = 0; i < pretok->n_codes; i++)
    pcre2_code_free (pretok->codes[i]);
  free (pretok);
}

bool
ponder_pretok_ignore_merges (const PonderPreTokenizer *pretok)
{
  return pretok->spec->ignore_merges;
}

bool
ponder_pretok_nfc (const PonderPreTokenizer *pretok)
{
  return pretok->spec->nfc;
}

typedef struct
{
  const PonderPreTokenizer *pretok;
  pcre2_match_data         *match;
  PonderPretokFunc           func;
  void                     *user_data;
} SplitState;

static PonderStatus split_level (SplitState  *state,
                                 size_t       level,
                                 const char  *text,
                                 size_t       len,
                                 PonderError *error);

/* Runs one regex; on JIT stack exhaustion retries with the interpreter,
 * whose heap-based backtracking has no such small limit. */
static int
match_at (const pcre2_code *code,
          const char       *text,
          size_t            len,
          size_t            start,
          pcre2_match_data *match)
{
  int rc = pcre2_match (code, (PCRE2_SPTR) text, len, start, PCRE2_NO_UTF_CHECK, match, NULL);

  if (rc == PCRE2_ERROR_JIT_STACKLIMIT)
    rc = pcre2_match (code, (PCRE2_SPTR) text, len, start,
                      PCRE2_NO_UTF_CHECK | PCRE2_NO_JIT, match, NULL);
  return rc;
}

static PonderStatus
emit (SplitState  *state,
      size_t       level,
      const char  *text,
      size_t       len,
      PonderError *error)
{
  if (len == 0)
    return PONDER_OK;
  if (level + 1 < state->pretok->n_codes)
    return split_level (state, level + 1, text, len, error);
  return state->func (text, len, state->user_data, error);
}

static PonderStatus
split_level (SplitState  *state,
             size_t       level,
             const char  *text,
             size_t       len,
             PonderError *error)
{
  const pcre2_code *code = state->pretok->codes[level];
  size_t pos = 0;     /* start of the next search */
  size_t gap = 0;     /* start of the unmatched text before the next match */
  PonderStatus status;

  while (pos <= len)
    {
      PCRE2_SIZE *ovector;
      size_t start, end;
      int rc = match_at (code, text, len, pos, state->match);

      if (rc == PCRE2_ERROR_NOMATCH)
        break;
      if (rc < 0)
        {
          PCRE2_UCHAR message[256];

          pcre2_get_error_message (rc, message, sizeof message);
          return ponder_error_set (error, PONDER_ERROR_INVALID_ARGUMENT,
                                   "tokenizer: pre-tokenizer regex %zu failed on a %zu-byte "
                                   "piece: %s", level, len, (const char *) message);
        }
      ovector = pcre2_get_ovector_pointer (state->match);
      start = ovector[0];
      end = ovector[1];
      if ((status = emit (state, level, text + gap, start - gap, error)) != PONDER_OK)
        return status;
      if ((status = emit (state, level, text + start, end - start, error)) != PONDER_OK)
        return status;
      gap = end;
      if (end > start)
        pos = end;
      else
        {
          /* An empty match: step over one whole character. */
          uint32_t cp;
          size_t n = pos < len ? ponder_unicode_decode_utf8 (text + pos, len - pos, &cp) : 1;

          pos += n > 0 ? n : 1;
        }
    }
  return emit (state, level, text + gap, len - gap, error);
}

PonderStatus
ponder_pretok_split (const PonderPreTokenizer *pretok,
                     const char               *text,
                     size_t                    len,
                     PonderPretokFunc           func,
                     void                     *user_data,
                     PonderError              *error)
{
  SplitState state = { pretok, NULL, func, user_data };
  PonderStatus status;

  if (len == 0)
    return PONDER_OK;
  if (pretok->n_codes == 0)
    return func (text, len, user_data, error);
  state.match = pcre2_match_data_create (1, NULL);
  if (state.match == NULL)
    return ponder_error_set (error, PONDER_ERROR_NO_MEMORY, "tokenizer: out of memory");
  status = split_level (&state, 0, text, len, error);
  pcre2_match_data_free (state.match);
  return status;
}
