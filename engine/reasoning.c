/* reasoning.c: splitting generated text into reasoning and answer.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * engine-spec.md 5.6. The think tags are single tokens in the distills'
 * vocabularies, but DeepSeek-V3/R1's vocabulary has no such tokens: the 671B
 * model writes "<think>" and "</think>" as text over several tokens ("<",
 * "think", ">\n"). So besides the token flags the splitter matches the literal
 * tags byte by byte, holding back a possible partial tag until the next token
 * shows whether it is one; a held "<" that turns out to be ordinary text is
 * released in order, and a tag is never shown.
 *
 * Rules:
 *  - "</think>" (token or text) in the reasoning switches to the answer;
 *  - "<think>" as the very first output (token or text) is swallowed and
 *    starts (or keeps) the reasoning: templates before 2025-02-09 ended the
 *    prompt at "<｜Assistant｜>" and the model opened its own think block;
 *  - tag tokens met anywhere else are markup and are not shown;
 *  - the answer's leading "\n\n" (what follows "</think>") is not shown;
 *  - a reasoning that never closes, or EOS before "</think>", just leaves the
 *    answer empty: finish() releases any held bytes as reasoning.
 */
#include "chat.h"

#include <string.h>

#define THINK_OPEN      "<think>"
#define THINK_OPEN_LEN  (sizeof THINK_OPEN - 1)
#define THINK_CLOSE     "</think>"
#define THINK_CLOSE_LEN (sizeof THINK_CLOSE - 1)

_Static_assert (THINK_CLOSE_LEN < sizeof ((PonderReasoningSplitter *) 0)->held,
                "held must hold a partial tag");

void
ponder_reasoning_splitter_init (PonderReasoningSplitter *splitter,
                                bool                     start_in_reasoning)
{
  memset (splitter, 0, sizeof *splitter);
  splitter->in_reasoning = start_in_reasoning;
}

/* The last place needle starts in text (n bytes, may hold NULs), or NULL. */
static const char *
last_occurrence (const char *text,
                 size_t      n,
                 const char *needle)
{
  size_t m = strlen (needle);

  for (size_t i = n >= m ? n - m + 1 : 0; i > 0; i--)
    if (memcmp (text + i - 1, needle, m) == 0)
      return text + i - 1;
  return NULL;
}

void
ponder_reasoning_splitter_init_continuing (PonderReasoningSplitter *splitter,
                                           const char              *turn,
                                           size_t                   len)
{
  const char *open = last_occurrence (turn, len, THINK_OPEN);
  const char *close = last_occurrence (turn, len, THINK_CLOSE);
  const char *end = turn + len;
  const char *after;

  ponder_reasoning_splitter_init (splitter, open != NULL && (close == NULL || close < open));
  if (close == NULL || splitter->in_reasoning)
    return;
  /* After a closed think block a "<think>" is markup, not a late opener. */
  splitter->seen_any = true;
  after = close + THINK_CLOSE_LEN;
  while (after < end && *after == '\n' && splitter->n_newlines_stripped < 2)
    {
      after++;
      splitter->n_newlines_stripped++;
    }
  splitter->answer_started = after < end;
}

static PonderPieceKind
current_kind (const PonderReasoningSplitter *splitter)
{
  return splitter->in_reasoning ? PONDER_PIECE_REASONING : PONDER_PIECE_ANSWER;
}

/* Emits one piece, dropping up to two newlines at the start of the answer
 * and never emitting an empty piece. */
static bool
emit_piece (PonderReasoningSplitter *splitter,
            PonderPieceKind          kind,
            const char              *text,
            size_t                   len,
            PonderSplitEmit          emit,
            void                    *user_data)
{
  if (kind == PONDER_PIECE_ANSWER && !splitter->answer_started)
    {
      while (len > 0 && text[0] == '\n' && splitter->n_newlines_stripped < 2)
        {
          text++;
          len--;
          splitter->n_newlines_stripped++;
        }
      if (len > 0)
        splitter->answer_started = true;
    }
  if (len == 0)
    return true;
  return emit (kind, text, len, user_data);
}

/* The held bytes were not a tag after all: emit them as text. */
static bool
release_held (PonderReasoningSplitter *splitter,
              PonderSplitEmit          emit,
              void                    *user_data)
{
  char copy[sizeof splitter->held];
  size_t n = splitter->n_held;

  memcpy (copy, splitter->held, n);
  splitter->n_held = 0;
  return emit_piece (splitter, current_kind (splitter), copy, n, emit, user_data);
}

/* Reasoning text: looks for "</think>", which may have begun in the held
 * bytes. THINK_CLOSE has '<' only at its start, so after a mismatch the
 * match can only restart at the current byte. */
static bool
scan_reasoning (PonderReasoningSplitter *splitter,
                const char              *text,
                size_t                   len,
                PonderSplitEmit          emit,
                void                    *user_data)
{
  size_t run_start = 0;             /* first byte of text not yet emitted */
  size_t match_start = 0;           /* where a match that began in text began */
  size_t matched = splitter->n_held;

  for (size_t i = 0; i < len; i++)
    {
      if (matched > 0 && text[i] != THINK_CLOSE[matched])
        {
          /* A false start: held bytes precede all of text, so they go first;
           * the part of the false start inside text stays in the run. */
          if (splitter->n_held > 0 && !release_held (splitter, emit, user_data))
            return false;
          matched = 0;
        }
      if (text[i] != THINK_CLOSE[matched])
        continue;
      if (matched == 0)
        match_start = i;
      matched++;
      if (matched < THINK_CLOSE_LEN)
        continue;

      /* A whole tag: held bytes, if any, were its start. */
      splitter->n_held = 0;
      if (match_start > run_start
          && !emit_piece (splitter, PONDER_PIECE_REASONING, text + run_start,
                          match_start - run_start, emit, user_data))
        return false;
      splitter->in_reasoning = false;
      return emit_piece (splitter, PONDER_PIECE_ANSWER, text + i + 1, len - i - 1,
                         emit, user_data);
    }

  if (matched == 0)
    return emit_piece (splitter, PONDER_PIECE_REASONING, text + run_start, len - run_start,
                       emit, user_data);
  if (splitter->n_held > 0)
    {
      /* The match began in the held bytes and all of text continues it. */
      memcpy (splitter->held + splitter->n_held, text, len);
      splitter->n_held += len;
      return true;
    }
  memcpy (splitter->held, text + match_start, len - match_start);
  splitter->n_held = len - match_start;
  return emit_piece (splitter, PONDER_PIECE_REASONING, text + run_start,
                     match_start - run_start, emit, user_data);
}

static bool
scan_text (PonderReasoningSplitter *splitter,
           const char              *text,
           size_t                   len,
           PonderSplitEmit          emit,
           void                    *user_data)
{
  if (splitter->in_reasoning)
    return scan_reasoning (splitter, text, len, emit, user_data);
  return emit_piece (splitter, PONDER_PIECE_ANSWER, text, len, emit, user_data);
}

/* The first output: holds back a possible "<think>" written as text. */
static bool
scan_start (PonderReasoningSplitter *splitter,
            const char              *text,
            size_t                   len,
            PonderSplitEmit          emit,
            void                    *user_data)
{
  char copy[sizeof splitter->held];
  size_t n_copy;
  size_t i = 0;

  while (i < len && splitter->n_held < THINK_OPEN_LEN
         && text[i] == THINK_OPEN[splitter->n_held])
    splitter->held[splitter->n_held++] = text[i++];
  if (splitter->n_held == THINK_OPEN_LEN)
    {
      splitter->n_held = 0;
      splitter->seen_any = true;
      splitter->in_reasoning = true;
      return scan_text (splitter, text + i, len - i, emit, user_data);
    }
  if (i == len)
    return true;

  /* Not "<think>": the held bytes are ordinary text, and may even begin
   * "</think>", so they are scanned like the rest. */
  splitter->seen_any = true;
  n_copy = splitter->n_held;
  memcpy (copy, splitter->held, n_copy);
  splitter->n_held = 0;
  return scan_text (splitter, copy, n_copy, emit, user_data)
         && scan_text (splitter, text + i, len - i, emit, user_data);
}

bool
ponder_reasoning_splitter_feed (PonderReasoningSplitter *splitter,
                                const char              *text,
                                size_t                   len,
                                bool                     is_think_open,
                                bool                     is_think_close,
                                PonderSplitEmit          emit,
                                void                    *user_data)
{
  if (text == NULL)
    len = 0;

  if (is_think_open || is_think_close)
    {
      bool first = !splitter->seen_any && splitter->n_held == 0;

      /* Whatever was held is not completed by a tag token: it was text. */
      if (splitter->n_held > 0 && !release_held (splitter, emit, user_data))
        return false;
      splitter->seen_any = true;
      if (is_think_open && first)
        splitter->in_reasoning = true;
      else if (is_think_close)
        splitter->in_reasoning = false;
      return true;
    }

  if (!splitter->seen_any)
    return scan_start (splitter, text, len, emit, user_data);
  return scan_text (splitter, text, len, emit, user_data);
}

bool
ponder_reasoning_splitter_finish (PonderReasoningSplitter *splitter,
                                  PonderSplitEmit          emit,
                                  void                    *user_data)
{
  if (splitter->n_held == 0)
    return true;
  return release_held (splitter, emit, user_data);
}
