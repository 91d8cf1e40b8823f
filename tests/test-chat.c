/* test-chat.c: the reasoning splitter (engine-spec.md 5.6) and the renderer's
 * argument checks.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Each case feeds a list of generated tokens and compares the reasoning and
 * answer text that come out with what the spec says they must be. The
 * expectations are written by hand from the rules, and the chunking tests
 * compare with a plain string split of the whole output.
 */
#include <glib.h>
#include <stdlib.h>
#include <string.h>

#include "chat.h"

#define OPEN  "\x01open"   /* stands for the <think> token in a token list */
#define CLOSE "\x01close"  /* stands for the </think> token */

typedef struct
{
  GString   *reasoning;
  GString   *answer;
  GPtrArray *pieces;      /* every emitted piece, for checks on each */
  int        stop_after;  /* emit returns false after this many pieces; -1 never */
} Output;

static bool
collect_cb (PonderPieceKind kind,
            const char     *text,
            size_t          len,
            void           *user_data)
{
  Output *out = user_data;

  g_assert_cmpuint (len, >, 0);
  g_string_append_len (kind == PONDER_PIECE_REASONING ? out->reasoning : out->answer, text,
                       (gssize) len);
  g_ptr_array_add (out->pieces, g_strndup (text, len));
  return out->stop_after < 0 || (int) out->pieces->len < out->stop_after;
}

static void
output_init (Output *out)
{
  out->reasoning = g_string_new (NULL);
  out->answer = g_string_new (NULL);
  out->pieces = g_ptr_array_new_with_free_func (g_free);
  out->stop_after = -1;
}

static void
output_clear (Output *out)
{
  g_string_free (out->reasoning, TRUE);
  g_string_free (out->answer, TRUE);
  g_ptr_array_unref (out->pieces);
}

/* Feeds tokens (OPEN / CLOSE for the tag tokens) and finishes. */
static void
run_tokens (bool                start_in_reasoning,
            const char * const *tokens,
            Output             *out)
{
  PonderReasoningSplitter splitter;

  ponder_reasoning_splitter_init (&splitter, start_in_reasoning);
  for (size_t i = 0; tokens[i] != NULL; i++)
    {
      bool open = strcmp (tokens[i], OPEN) == 0;
      bool close = strcmp (tokens[i], CLOSE) == 0;
      const char *text = open ? "<think>" : close ? "</think>" : tokens[i];

      g_assert_true (ponder_reasoning_splitter_feed (&splitter, text, strlen (text), open,
                                                     close, collect_cb, out));
    }
  g_assert_true (ponder_reasoning_splitter_finish (&splitter, collect_cb, out));
  g_assert_cmpuint (splitter.n_held, ==, 0);
}

static void
check_tokens (bool                start_in_reasoning,
              const char * const *tokens,
              const char         *want_reasoning,
              const char         *want_answer)
{
  Output out;

  output_init (&out);
  run_tokens (start_in_reasoning, tokens, &out);
  g_assert_cmpstr (out.reasoning->str, ==, want_reasoning);
  g_assert_cmpstr (out.answer->str, ==, want_answer);
  output_clear (&out);
}

static void
test_close_token (void)
{
  const char *tokens[] = { "Let me", " think.", CLOSE, "\n\n", "It is", " 4.", NULL };

  check_tokens (true, tokens, "Let me think.", "It is 4.");
}

static void
test_split_two_tokens (void)
{
  const char *tokens[] = { "abc</th", "ink>\n\nAnswer", NULL };
  PonderReasoningSplitter splitter;
  Output out;

  check_tokens (true, tokens, "abc", "Answer");

  /* The partial tag is held back, not shown and then taken back. */
  output_init (&out);
  ponder_reasoning_splitter_init (&splitter, true);
  g_assert_true (ponder_reasoning_splitter_feed (&splitter, "abc</th", 7, false, false,
                                                 collect_cb, &out));
  g_assert_cmpstr (out.reasoning->str, ==, "abc");
  g_assert_cmpuint (splitter.n_held, ==, 4);
  output_clear (&out);
}

static void
test_split_three_tokens (void)
{
  const char *tokens[] = { "x<", "/thi", "nk>y", NULL };
  const char *tokens_ends[] = { "x", "<", "/think", ">", "\n", "\ny", NULL };

  check_tokens (true, tokens, "x", "y");
  check_tokens (true, tokens_ends, "x", "y");
}

static void
test_false_starts (void)
{
  const char *angle[] = { "a <", "b> c", NULL };
  const char *thing[] = { "</thin", "g> ok", NULL };
  const char *double_lt[] = { "1 <", "</think>", "\n\n2", NULL };
  const char *twice[] = { "</th", "</think>x", NULL };
  const char *held_then_token[] = { "so </thi", CLOSE, "\n\nyes", NULL };
  Output out;
  PonderReasoningSplitter splitter;

  check_tokens (true, angle, "a <b> c", "");
  check_tokens (true, thing, "</thing> ok", "");
  check_tokens (true, double_lt, "1 <", "2");
  check_tokens (true, twice, "</th", "x");
  check_tokens (true, held_then_token, "so </thi", "yes");

  /* A held "<" is released, in order, as soon as the next byte rules the tag
   * out: "a " first, then "<" and "b> c". */
  output_init (&out);
  ponder_reasoning_splitter_init (&splitter, true);
  g_assert_true (ponder_reasoning_splitter_feed (&splitter, "a <", 3, false, false,
                                                 collect_cb, &out));
  g_assert_cmpstr (out.reasoning->str, ==, "a ");
  g_assert_true (ponder_reasoning_splitter_feed (&splitter, "b> c", 4, false, false,
                                                 collect_cb, &out));
  g_assert_cmpstr (out.reasoning->str, ==, "a <b> c");
  g_assert_cmpuint (splitter.n_held, ==, 0);
  output_clear (&out);
}

static void
test_never_closed (void)
{
  const char *tokens[] = { "thinking", "...", " <", NULL };
  const char *partial[] = { "hmm </thin", NULL };

  /* finish() releases what was held: it was reasoning text after all. */
  check_tokens (true, tokens, "thinking... <", "");
  check_tokens (true, partial, "hmm </thin", "");
}

static void
test_eos_before_close (void)
{
  /* The session stops at EOS without feeding it; the answer stays empty. */
  const char *tokens[] = { "I wonder", " whether", NULL };

  check_tokens (true, tokens, "I wonder whether", "");
}

static void
test_old_template_open_token (void)
{
  /* Before 2025-02-09 the prompt ended at <｜Assistant｜>; the model opened its
   * own think block. */
  const char *tokens[] = { OPEN, "\nreason", CLOSE, "\n\nans", NULL };
  const char *forced[] = { OPEN, "again", CLOSE, "\n\nok", NULL };

  check_tokens (false, tokens, "\nreason", "ans");
  check_tokens (true, forced, "again", "ok");
}

static void
test_open_text (void)
{
  /* DeepSeek-V3's vocabulary has no <think> token: "<" "think" ">\n". */
  const char *tokens[] = { "<", "think", ">\n", "Hmm", "</", "think", ">\n\n", "Yes", NULL };
  const char *not_tag[] = { "<thought>", " x", NULL };
  const char *close_first[] = { "</think>\n\nhi", NULL };
  const char *answer_start[] = { "<thi", "s is fine", NULL };

  check_tokens (false, tokens, "\nHmm", "Yes");
  check_tokens (true, tokens, "\nHmm", "Yes");
  check_tokens (true, not_tag, "<thought> x", "");
  check_tokens (true, close_first, "", "hi");
  check_tokens (false, answer_start, "", "<this is fine");
}

static void
test_later_tags (void)
{
  const char *open_later[] = { "a", OPEN, "b", NULL };
  const char *open_text_later[] = { "a", "<think>", "b", NULL };
  const char *close_in_answer[] = { "r", CLOSE, "x", CLOSE, "y", NULL };

  /* A tag token in the middle is markup; the same tag as text is text. */
  check_tokens (true, open_later, "ab", "");
  check_tokens (true, open_text_later, "a<think>b", "");
  check_tokens (true, close_in_answer, "r", "xy");
}

static void
test_answer_newlines (void)
{
  const char *three[] = { CLOSE, "\n\n\nx", NULL };
  const char *one_by_one[] = { CLOSE, "\n", "\n", "\n", "y", NULL };
  const char *one[] = { CLOSE, "\n", "z\n\n", NULL };
  const char *empty_reasoning[] = { "\n", CLOSE, "\n\nAnswer", NULL };

  check_tokens (true, three, "", "\nx");
  check_tokens (true, one_by_one, "", "\ny");
  check_tokens (true, one, "", "z\n\n");
  check_tokens (true, empty_reasoning, "\n", "Answer");
}

static void
test_stop (void)
{
  PonderReasoningSplitter splitter;
  Output out;

  output_init (&out);
  out.stop_after = 1;
  ponder_reasoning_splitter_init (&splitter, true);
  g_assert_false (ponder_reasoning_splitter_feed (&splitter, "a", 1, false, false,
                                                  collect_cb, &out));
  output_clear (&out);
}

/* Any chunking of the whole output gives the same split as cutting the string
 * at its first "</think>" (and dropping the answer's leading "\n\n"). */
static void
test_random_chunking (void)
{
  static const char *texts[] = {
    "reasoning with < and </ and </thin</think>\n\nanswer with </think> too",
    "<<</</t</th</thi</thin</think</think>\n\n<</think>",
    "no tag at all, just < and > and </thinking>",
    "</think>",
    "\xe4\xbd\xa0\xe5\xa5\xbd </think>\n\n\xf0\x9f\x98\x80 ok",
  };
  GRand *rand = g_rand_new_with_seed (1234);

  for (size_t t = 0; t < G_N_ELEMENTS (texts); t++)
    {
      const char *text = texts[t];
      const char *tag = strstr (text, "</think>");
      g_autofree char *want_reasoning = tag ? g_strndup (text, tag - text) : g_strdup (text);
      const char *want_answer = tag ? tag + 8 : "";

      if (g_str_has_prefix (want_answer, "\n\n"))
        want_answer += 2;
      for (int round = 0; round < 200; round++)
        {
          PonderReasoningSplitter splitter;
          Output out;
          size_t len = strlen (text);
          size_t pos = 0;

          output_init (&out);
          ponder_reasoning_splitter_init (&splitter, true);
          while (pos < len)
            {
              size_t n = round == 0 ? 1 : (size_t) g_rand_int_range (rand, 1, 6);

              n = MIN (n, len - pos);
              g_assert_true (ponder_reasoning_splitter_feed (&splitter, text + pos, n, false,
                                                             false, collect_cb, &out));
              pos += n;
            }
          g_assert_true (ponder_reasoning_splitter_finish (&splitter, collect_cb, &out));
          g_assert_cmpstr (out.reasoning->str, ==, want_reasoning);
          g_assert_cmpstr (out.answer->str, ==, want_answer);
          output_clear (&out);
        }
    }
  g_rand_free (rand);
}

/* Rendering is compared with the real templates in test_chat_template.py;
 * here only what Python cannot reach: bad arguments. */
static void
test_render_errors (void)
{
  PonderMessage bad_role[] = { { PONDER_ROLE_USER, "hi" }, { (PonderRole) 7, "x" } };
  PonderMessage ok[] = { { PONDER_ROLE_USER, "hi" } };
  PonderError error = { 0 };
  char *text = NULL;

  g_assert_cmpint (ponder_chat_render (PONDER_CHAT_R1_DISTILL_QWEN, bad_role, 2, true, &text,
                                       &error), ==, PONDER_ERROR_INVALID_ARGUMENT);
  g_assert_null (text);
  g_assert_nonnull (strstr (error.message, "message 1"));
  g_assert_cmpint (ponder_chat_render ((PonderChatFamily) 42, ok, 1, true, &text, &error), ==,
                   PONDER_ERROR_INVALID_ARGUMENT);
  g_assert_cmpint (ponder_chat_render (PONDER_CHAT_R1_FULL, NULL, 1, true, &text, NULL), ==,
                   PONDER_ERROR_INVALID_ARGUMENT);
  g_assert_cmpint (ponder_chat_render (PONDER_CHAT_R1_FULL, ok, 1, true, NULL, NULL), ==,
                   PONDER_ERROR_INVALID_ARGUMENT);
  g_assert_cmpint (ponder_chat_render (PONDER_CHAT_R1_FULL, NULL, 0, false, &text, NULL), ==,
                   PONDER_OK);
  g_assert_cmpstr (text, ==, "<｜begin▁of▁sentence｜>");
  free (text);
  g_assert_cmpstr (ponder_chat_family_name ((PonderChatFamily) 42), ==, "unknown");
}

/* Going on from a turn the prompt already holds: the continuation "tokens"
 * must come out exactly as the model adds them. */
static void
check_continuing (const char         *turn,
                  const char * const *tokens,
                  const char         *want_reasoning,
                  const char         *want_answer)
{
  PonderReasoningSplitter splitter;
  Output out;

  output_init (&out);
  ponder_reasoning_splitter_init_continuing (&splitter, turn, strlen (turn));
  for (size_t i = 0; tokens[i] != NULL; i++)
    g_assert_true (ponder_reasoning_splitter_feed (&splitter, tokens[i], strlen (tokens[i]),
                                                   false, false, collect_cb, &out));
  g_assert_true (ponder_reasoning_splitter_finish (&splitter, collect_cb, &out));
  g_assert_cmpstr (out.reasoning->str, ==, want_reasoning);
  g_assert_cmpstr (out.answer->str, ==, want_answer);
  output_clear (&out);
}

static void
test_continuing (void)
{
  const char *para[] = { "\n\n", "Second paragraph.", NULL };
  const char *plain[] = { " more", NULL };
  const char *close_then[] = { " done.", "</think>", "\n\n", "Answer.", NULL };

  /* Cut inside the answer right before a paragraph break: the break is the
   * model's text and is kept (the answer's leading blank is long gone). */
  check_continuing ("<think>\nhm</think>\n\nFirst paragraph.", para, "",
                    "\n\nSecond paragraph.");
  /* Cut right after the tag: the answer's leading "\n\n" is still dropped. */
  check_continuing ("<think>\nhm</think>", para, "", "Second paragraph.");
  /* One of the two newlines already in the turn: only one more is dropped. */
  check_continuing ("<think>\nhm</think>\n", para, "", "\nSecond paragraph.");
  /* Cut while thinking (the 671B model writes its tags as text): the rest
   * of the reasoning, then the answer. */
  check_continuing ("<think>\nLet me see", close_then, " done.", "Answer.");
  check_continuing ("<think>\nLet me see", plain, " more", "");
  /* No tag at all: an answer with nothing to strip but a leading blank. */
  check_continuing ("", para, "", "Second paragraph.");
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/reasoning/close-token", test_close_token);
  g_test_add_func ("/reasoning/split-two-tokens", test_split_two_tokens);
  g_test_add_func ("/reasoning/split-three-tokens", test_split_three_tokens);
  g_test_add_func ("/reasoning/false-starts", test_false_starts);
  g_test_add_func ("/reasoning/never-closed", test_never_closed);
  g_test_add_func ("/reasoning/continuing", test_continuing);
  g_test_add_func ("/reasoning/eos-before-close", test_eos_before_close);
  g_test_add_func ("/reasoning/old-template-open-token", test_old_template_open_token);
  g_test_add_func ("/reasoning/open-as-text", test_open_text);
  g_test_add_func ("/reasoning/later-tags", test_later_tags);
  g_test_add_func ("/reasoning/answer-newlines", test_answer_newlines);
  g_test_add_func ("/reasoning/stop", test_stop);
  g_test_add_func ("/reasoning/random-chunking", test_random_chunking);
  g_test_add_func ("/chat/render-errors", test_render_errors);
  return g_test_run ();
}
