/* test-utf8-stream.c: the streaming UTF-8 decoder (tokenizer.h).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * References: Unicode 15 section 3.9, table 3-8 (U+FFFD for each maximal
 * ill-formed subpart), GLib's g_utf8_validate, and well-formed text that
 * must pass through unchanged however it is chunked.
 */
#include <glib.h>
#include <string.h>

#include "tokenizer.h"

#define FFFD "\xef\xbf\xbd"

/* g_utf8_validate stops at NUL, which is a whole character here. */
static gboolean
is_whole_utf8 (const char *data,
               size_t      len)
{
  const char *nul;

  while ((nul = memchr (data, '\0', len)) != NULL)
    {
      if (!g_utf8_validate_len (data, (gsize) (nul - data), NULL))
        return FALSE;
      len -= (size_t) (nul - data) + 1;
      data = nul + 1;
    }
  return g_utf8_validate_len (data, len, NULL);
}

/* Pushes data in chunks of chunk bytes (0: all at once) and flushes;
 * checks every push against the len + 8 bound and for whole characters. */
static GString *
run_stream (const char *data,
            size_t      len,
            size_t      chunk)
{
  PonderUtf8Stream stream = { { 0 }, 0 };
  GString *result = g_string_new (NULL);
  size_t pos = 0;
  char flush_out[8];
  size_t n;

  if (chunk == 0)
    chunk = len > 0 ? len : 1;
  while (pos < len)
    {
      size_t piece = MIN (chunk, len - pos);
      char *out = g_malloc (piece + 8);
      size_t written = ponder_utf8_stream_push (&stream, data + pos, piece, out);

      g_assert_cmpuint (written, <=, piece + 8);
      g_assert_true (is_whole_utf8 (out, written));
      g_string_append_len (result, out, written);
      g_free (out);
      pos += piece;
    }
  n = ponder_utf8_stream_flush (&stream, flush_out);
  g_assert_cmpuint (n, <=, sizeof flush_out);
  g_assert_true (is_whole_utf8 (flush_out, n));
  g_string_append_len (result, flush_out, n);
  g_assert_cmpuint (stream.n_pending, ==, 0);
  return result;
}

static void
test_table_3_8 (void)
{
  /* Unicode's own example: 61 F1 80 80 E1 80 C2 62 80 63 80 BF 64. */
  static const char input[] = "\x61\xF1\x80\x80\xE1\x80\xC2\x62\x80\x63\x80\xBF\x64";
  static const char want[] = "a" FFFD FFFD FFFD "b" FFFD "c" FFFD FFFD "d";
  GString *got = run_stream (input, sizeof input - 1, 1);

  g_assert_cmpstr (got->str, ==, want);
  g_string_free (got, TRUE);
}

static void
test_table_3_8_one_push (void)
{
  /* All at once the full answer needs 22 bytes but out only promises
   * 13 + 8: the decoder must stay inside that, using '?' where U+FFFD would
   * not fit, and still emit every well-formed character. */
  static const char input[] = "\x61\xF1\x80\x80\xE1\x80\xC2\x62\x80\x63\x80\xBF\x64";
  GString *got = run_stream (input, sizeof input - 1, 0);
  GString *letters = g_string_new (NULL);

  for (const char *p = got->str; *p != '\0'; p = g_utf8_next_char (p))
    if (g_ascii_isalpha (*p))
      g_string_append_c (letters, *p);
  g_assert_cmpstr (letters->str, ==, "abcd");
  g_assert_cmpuint (got->len, <=, sizeof input - 1 + 8);
  g_string_free (letters, TRUE);
  g_string_free (got, TRUE);
}

static void
test_split_characters (void)
{
  static const char text[] = "a\xc3\xa9 \xe4\xb8\xad \xf0\x9f\xa6\x99 z";   /* "aé 中 🦙 z" */
  PonderUtf8Stream stream = { { 0 }, 0 };
  char out[16];

  /* The llama emoji byte by byte: nothing until its last byte. */
  g_assert_cmpuint (ponder_utf8_stream_push (&stream, "\xf0", 1, out), ==, 0);
  g_assert_cmpuint (ponder_utf8_stream_push (&stream, "\x9f", 1, out), ==, 0);
  g_assert_cmpuint (ponder_utf8_stream_push (&stream, "\xa6", 1, out), ==, 0);
  g_assert_cmpuint (ponder_utf8_stream_push (&stream, "\x99", 1, out), ==, 4);
  g_assert_cmpmem (out, 4, "\xf0\x9f\xa6\x99", 4);

  for (size_t chunk = 0; chunk <= 5; chunk++)
    {
      GString *got = run_stream (text, sizeof text - 1, chunk);

      g_assert_cmpstr (got->str, ==, text);
      g_string_free (got, TRUE);
    }
}

static void
test_flush_incomplete (void)
{
  GString *got = run_stream ("ok\xe4\xb8", 4, 1);

  /* A truncated character is one maximal subpart: one U+FFFD. */
  g_assert_cmpstr (got->str, ==, "ok" FFFD);
  g_string_free (got, TRUE);
  got = run_stream ("\xe4\xb8" "a", 3, 2);
  g_assert_cmpstr (got->str, ==, FFFD "a");
  g_string_free (got, TRUE);
}

static void
test_ill_formed (void)
{
  static const struct { const char *in; size_t len; const char *want; } cases[] = {
    { "\xed\xa0\x80", 3, FFFD FFFD FFFD },   /* surrogate: E0..9F only after ED */
    { "\xc0\xaf", 2, FFFD FFFD },            /* overlong */
    { "\xf4\x90\x80\x80", 4, FFFD FFFD FFFD FFFD }, /* above U+10FFFF */
    { "\xe0\x80\x80", 3, FFFD FFFD FFFD },
    { "\xf0\x9f\xa6" "a", 4, FFFD "a" },
    { "\xff", 1, FFFD },
    { "\0x", 2, NULL },
  };

  for (size_t i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      GString *got = run_stream (cases[i].in, cases[i].len, 1);

      if (cases[i].want == NULL)
        g_assert_cmpmem (got->str, got->len, cases[i].in, cases[i].len);
      else
        g_assert_cmpstr (got->str, ==, cases[i].want);
      g_string_free (got, TRUE);
    }
}

static void
test_random_bytes (void)
{
  GRand *rand = g_rand_new_with_seed (1234);

  /* Any bytes in any chunking: bounded, whole characters, and well-formed
   * input comes back unchanged. */
  for (int round = 0; round < 2000; round++)
    {
      size_t len = (size_t) g_rand_int_range (rand, 0, 40);
      char *data = g_malloc (len + 1);
      GString *got;

      for (size_t i = 0; i < len; i++)
        data[i] = (char) (g_rand_boolean (rand) ? g_rand_int_range (rand, 0x80, 0x100)
                                                : g_rand_int_range (rand, 0x20, 0x80));
      got = run_stream (data, len, (size_t) g_rand_int_range (rand, 0, 6));
      if (is_whole_utf8 (data, len))
        g_assert_cmpmem (got->str, got->len, data, len);
      g_string_free (got, TRUE);
      g_free (data);
    }
  g_rand_free (rand);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/utf8-stream/table-3-8", test_table_3_8);
  g_test_add_func ("/utf8-stream/table-3-8-one-push", test_table_3_8_one_push);
  g_test_add_func ("/utf8-stream/split-characters", test_split_characters);
  g_test_add_func ("/utf8-stream/flush-incomplete", test_flush_incomplete);
  g_test_add_func ("/utf8-stream/ill-formed", test_ill_formed);
  g_test_add_func ("/utf8-stream/random-bytes", test_random_bytes);
  return g_test_run ();
}
