/* tokenize-tool.c: a line protocol over the engine's tokenizer, driven by
 * test_tokenizer.py (which holds the reference ids and does the checking).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Usage: tokenize-tool VOCAB.gguf < commands
 * Loading fails: prints "error STATUS: MESSAGE" and exits 2.
 * Commands (one header line each; answers are one line, "ok ..." or
 * "error STATUS: MESSAGE"):
 *   e P N\n<N bytes>   encode, P = 1 parses special tokens -> "ok ID ID ..."
 *   d N ID...          token bytes concatenated             -> "ok HEX"
 *   s N ID...          streaming decode, one push per id, then flush
 *                                                       -> "ok HEX,HEX,...,HEX"
 *   u N\n<N bytes>     streaming decode of raw bytes, one push per byte
 *   f N\n<N bytes>     find_token                           -> "ok ID"
 *   i                  -> "ok N_VOCAB BOS EOS ADD_BOS"
 *   g ID               is_end_of_generation                 -> "ok 0|1"
 *   t P N\n<N bytes>   encode, print only the count and the time in ms
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gguf.h"
#include "tokenizer.h"

static void
print_hex (const char *bytes,
           size_t      len)
{
  for (size_t i = 0; i < len; i++)
    printf ("%02x", (unsigned char) bytes[i]);
}

static char *
read_payload (size_t n)
{
  char *text = malloc (n + 1);

  if (text == NULL || fread (text, 1, n, stdin) != n)
    {
      fprintf (stderr, "tokenize-tool: short payload\n");
      exit (3);
    }
  text[n] = '\0';
  return text;
}

static int32_t *
read_ids (size_t n)
{
  int32_t *ids = calloc (n + 1, sizeof *ids);

  for (size_t i = 0; i < n; i++)
    if (scanf ("%d", &ids[i]) != 1)
      {
        fprintf (stderr, "tokenize-tool: short id list\n");
        exit (3);
      }
  return ids;
}

static void
encode (const PonderTokenizer *tok,
        int                    parse_special,
        size_t                 n,
        int                    timed)
{
  char *text = read_payload (n);
  int32_t *ids = NULL;
  size_t n_ids = 0;
  PonderError error = { 0 };
  struct timespec t0, t1;
  PonderStatus status;

  clock_gettime (CLOCK_MONOTONIC, &t0);
  status = ponder_tokenizer_encode (tok, text, n, parse_special != 0, &ids, &n_ids, &error);
  clock_gettime (CLOCK_MONOTONIC, &t1);
  if (status != PONDER_OK)
    printf ("error %s: %s", ponder_status_name (status), error.message);
  else if (timed)
    printf ("ok %zu %.3f", n_ids,
            (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6);
  else
    {
      printf ("ok");
      for (size_t i = 0; i < n_ids; i++)
        printf (" %d", ids[i]);
    }
  printf ("\n");
  free (ids);
  free (text);
}

static void
decode (const PonderTokenizer *tok,
        size_t                 n)
{
  int32_t *ids = read_ids (n);

  printf ("ok ");
  for (size_t i = 0; i < n; i++)
    {
      size_t len = 0;
      const char *bytes = ponder_tokenizer_token_bytes (tok, ids[i], &len);

      if (bytes == NULL)
        printf ("<none>");
      else
        print_hex (bytes, len);
    }
  printf ("\n");
  free (ids);
}

/* Each chunk is what one push returned; the checker verifies that every
 * chunk is whole UTF-8. */
static void
stream_chunks (const char **chunks,
               size_t      *lens,
               size_t       n)
{
  PonderUtf8Stream stream = { { 0 }, 0 };

  printf ("ok ");
  for (size_t i = 0; i < n; i++)
    {
      char *out = malloc (lens[i] + 8);
      size_t written = ponder_utf8_stream_push (&stream, chunks[i], lens[i], out);

      if (written > lens[i] + 8)
        printf ("OVERFLOW");
      print_hex (out, written);
      printf (",");
      free (out);
    }
  {
    char out[8];
    size_t written = ponder_utf8_stream_flush (&stream, out);

    print_hex (out, written);
  }
  printf ("\n");
}

static void
stream_ids (const PonderTokenizer *tok,
            size_t                 n)
{
  int32_t *ids = read_ids (n);
  const char **chunks = calloc (n + 1, sizeof *chunks);
  size_t *lens = calloc (n + 1, sizeof *lens);

  for (size_t i = 0; i < n; i++)
    {
      chunks[i] = ponder_tokenizer_token_bytes (tok, ids[i], &lens[i]);
      if (chunks[i] == NULL)
        chunks[i] = "";
    }
  stream_chunks (chunks, lens, n);
  free (chunks);
  free (lens);
  free (ids);
}

static void
stream_bytes (size_t n)
{
  char *text = read_payload (n);
  const char **chunks = calloc (n + 1, sizeof *chunks);
  size_t *lens = calloc (n + 1, sizeof *lens);

  for (size_t i = 0; i < n; i++)
    {
      chunks[i] = text + i;
      lens[i] = 1;
    }
  stream_chunks (chunks, lens, n);
  free (chunks);
  free (lens);
  free (text);
}

int
main (int    argc,
      char **argv)
{
  PonderGgufFile *file = NULL;
  PonderTokenizer *tok = NULL;
  PonderError error = { 0 };
  PonderStatus status;
  char command[8];

  if (argc != 2)
    {
      fprintf (stderr, "usage: tokenize-tool VOCAB.gguf < commands\n");
      return 2;
    }
  status = ponder_gguf_open (argv[1], &file, &error);
  if (status == PONDER_OK)
    status = ponder_tokenizer_new (file, &tok, &error);
  if (status != PONDER_OK)
    {
      printf ("error %s: %s\n", ponder_status_name (status), error.message);
      ponder_gguf_close (file);
      return 2;
    }
  /* The tokenizer copies what it needs: the file may go at once. */
  ponder_gguf_close (file);

  while (scanf ("%7s", command) == 1)
    {
      int flag = 0, id = 0;
      size_t n = 0;

      if (strcmp (command, "e") == 0 || strcmp (command, "t") == 0)
        {
          if (scanf ("%d %zu", &flag, &n) != 2 || getchar () != '\n')
            return 3;
          encode (tok, flag, n, command[0] == 't');
        }
      else if (strcmp (command, "d") == 0 && scanf ("%zu", &n) == 1)
        decode (tok, n);
      else if (strcmp (command, "s") == 0 && scanf ("%zu", &n) == 1)
        stream_ids (tok, n);
      else if (strcmp (command, "u") == 0 && scanf ("%zu", &n) == 1 && getchar () == '\n')
        stream_bytes (n);
      else if (strcmp (command, "f") == 0 && scanf ("%zu", &n) == 1 && getchar () == '\n')
        {
          char *text = read_payload (n);

          printf ("ok %d\n", ponder_tokenizer_find_token (tok, text));
          free (text);
        }
      else if (strcmp (command, "i") == 0)
        printf ("ok %u %d %d %d\n", ponder_tokenizer_n_vocab (tok), ponder_tokenizer_bos (tok),
                ponder_tokenizer_eos (tok), ponder_tokenizer_add_bos (tok) ? 1 : 0);
      else if (strcmp (command, "g") == 0 && scanf ("%d", &id) == 1)
        printf ("ok %d\n", ponder_tokenizer_is_end_of_generation (tok, id) ? 1 : 0);
      else
        {
          fprintf (stderr, "tokenize-tool: bad command \"%s\"\n", command);
          return 3;
        }
      fflush (stdout);
    }
  ponder_tokenizer_free (tok);
  return 0;
}
