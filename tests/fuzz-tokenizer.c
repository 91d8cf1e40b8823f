/* fuzz-tokenizer.c: libFuzzer target for the tokenizer.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Built and run by run_fuzz_tokenizer.py with clang -fsanitize=fuzzer,address.
 * Two modes, chosen by PONDER_FUZZ_MODE:
 *   text   the input is text for the vocabularies named in PONDER_FUZZ_VOCABS
 *          (':'-separated GGUF paths; the first byte picks one and the
 *          special-token flag). Ids must be in range and decode back to the
 *          input byte for byte: these vocabularies (Llama-3, DeepSeek-V3)
 *          have no normaliser and byte-level BPE covers every byte string.
 *          The streaming decoder must return whole characters within its
 *          len + 8 bound and, for well-formed input, the same bytes.
 *   vocab  the input is a GGUF file; loading it as a tokenizer must fail
 *          cleanly or give a tokenizer that encodes and decodes a few
 *          strings without crashing.
 * Without -DPONDER_LIBFUZZER it is a plain program that replays the files
 * named on its command line (PONDER_FUZZ_MODE and PONDER_FUZZ_VOCABS as
 * above).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gguf.h"
#include "tokenizer.h"

#define MAX_VOCABS 4

int LLVMFuzzerInitialize (int *argc, char ***argv);
int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static PonderTokenizer *vocabs[MAX_VOCABS];
static size_t n_vocabs;
static bool vocab_mode;

int
LLVMFuzzerInitialize (int    *argc,
                      char ***argv)
{
  const char *mode = getenv ("PONDER_FUZZ_MODE");
  const char *list = getenv ("PONDER_FUZZ_VOCABS");
  char *copy, *path, *save = NULL;

  vocab_mode = mode != NULL && strcmp (mode, "vocab") == 0;
  if (vocab_mode)
    return 0;
  if (list == NULL)
    {
      fprintf (stderr, "fuzz-tokenizer: set PONDER_FUZZ_VOCABS\n");
      exit (2);
    }
  copy = strdup (list);
  for (path = strtok_r (copy, ":", &save); path != NULL && n_vocabs < MAX_VOCABS;
       path = strtok_r (NULL, ":", &save))
    {
      PonderGgufFile *file = NULL;
      PonderError error;

      if (ponder_gguf_open (path, &file, &error) != PONDER_OK
          || ponder_tokenizer_new (file, &vocabs[n_vocabs], &error) != PONDER_OK)
        {
          fprintf (stderr, "fuzz-tokenizer: %s\n", error.message);
          exit (2);
        }
      ponder_gguf_close (file);
      n_vocabs++;
    }
  free (copy);
  return 0;
}

/* Well-formedness by the definition (Unicode table 3-7), written apart
 * from the engine's scanner. */
static bool
is_whole_utf8 (const char *text,
               size_t      len)
{
  static const uint32_t min_cp[4] = { 0, 0x80, 0x800, 0x10000 };
  const uint8_t *s = (const uint8_t *) text;
  size_t i = 0;

  while (i < len)
    {
      uint8_t c = s[i];
      size_t k;
      uint32_t cp;

      if (c < 0x80)
        {
          i++;
          continue;
        }
      if ((c & 0xE0) == 0xC0)
        k = 1, cp = c & 0x1F;
      else if ((c & 0xF0) == 0xE0)
        k = 2, cp = c & 0x0F;
      else if ((c & 0xF8) == 0xF0)
        k = 3, cp = c & 0x07;
      else
        return false;
      if (len - i <= k)
        return false;
      for (size_t j = 1; j <= k; j++)
        {
          if ((s[i + j] & 0xC0) != 0x80)
            return false;
          cp = (cp << 6) | (s[i + j] & 0x3F);
        }
      if (cp < min_cp[k] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return false;
      i += k + 1;
    }
  return true;
}

static void
fuzz_text (const uint8_t *data,
           size_t         size)
{
  PonderTokenizer *tok;
  bool parse_special;
  const char *text;
  size_t len, n_ids = 0, total = 0, streamed = 0;
  int32_t *ids = NULL;
  char *decoded, *joined;
  PonderError error;
  PonderUtf8Stream stream = { { 0 }, 0 };

  if (size == 0 || n_vocabs == 0)
    return;
  tok = vocabs[data[0] % n_vocabs];
  parse_special = (data[0] & 0x80) != 0;
  text = (const char *) data + 1;
  len = size - 1;
  if (ponder_tokenizer_encode (tok, text, len, parse_special, &ids, &n_ids, &error) != PONDER_OK)
    abort ();

  decoded = malloc (len * 4 + 64);
  joined = malloc (len * 4 + 64);
  for (size_t i = 0; i < n_ids; i++)
    {
      size_t n = 0;
      const char *bytes = ponder_tokenizer_token_bytes (tok, ids[i], &n);
      size_t w;

      if (bytes == NULL || total + n > len)
        abort ();     /* out of range, or more bytes than went in */
      memcpy (decoded + total, bytes, n);
      total += n;
      w = ponder_utf8_stream_push (&stream, bytes, n, joined + streamed);
      if (w > n + 8 || !is_whole_utf8 (joined + streamed, w))
        abort ();
      streamed += w;
    }
  streamed += ponder_utf8_stream_flush (&stream, joined + streamed);
  if (total != len || memcmp (decoded, text, len) != 0)
    abort ();
  if (is_whole_utf8 (text, len) && (streamed != len || memcmp (joined, text, len) != 0))
    abort ();
  free (decoded);
  free (joined);
  free (ids);
}

static void
fuzz_vocab (const uint8_t *data,
            size_t         size)
{
  static const char *const probes[] = {
    "Hello, world! 123", "<s>", " \n\n\t x", "\xe4\xb8\xad\xff", "<|im_end|>",
  };
  PonderGgufFile *file = NULL;
  PonderTokenizer *tok = NULL;
  PonderError error;

  if (ponder_gguf_parse (data, size, "fuzz", &file, &error) != PONDER_OK)
    return;
  if (ponder_tokenizer_new (file, &tok, &error) != PONDER_OK)
    {
      if (tok != NULL || strncmp (error.message, "fuzz: ", 6) != 0)
        abort ();
      ponder_gguf_close (file);
      return;
    }
  ponder_gguf_close (file);   /* the tokenizer must not point into it */
  for (size_t p = 0; p < sizeof probes / sizeof probes[0]; p++)
    for (int special = 0; special < 2; special++)
      {
        int32_t *ids = NULL;
        size_t n_ids = 0, n;

        if (ponder_tokenizer_encode (tok, probes[p], strlen (probes[p]), special != 0,
                                     &ids, &n_ids, &error) != PONDER_OK)
          continue;
        for (size_t i = 0; i < n_ids; i++)
          if (ponder_tokenizer_token_bytes (tok, ids[i], &n) == NULL)
            abort ();
        free (ids);
      }
  ponder_tokenizer_find_token (tok, "<s>");
  ponder_tokenizer_is_end_of_generation (tok, 0);
  ponder_tokenizer_free (tok);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  if (vocab_mode)
    fuzz_vocab (data, size);
  else
    fuzz_text (data, size);
  return 0;
}

#ifndef PONDER_LIBFUZZER
int
main (int    argc,
      char **argv)
{
  LLVMFuzzerInitialize (&argc, &argv);
  for (int a = 1; a < argc; a++)
    {
      FILE *fp = fopen (argv[a], "rb");
      uint8_t *buf;
      long size;

      if (fp == NULL || fseek (fp, 0, SEEK_END) != 0 || (size = ftell (fp)) < 0)
        return 2;
      rewind (fp);
      buf = malloc (size > 0 ? (size_t) size : 1);
      if (buf == NULL || fread (buf, 1, (size_t) size, fp) != (size_t) size)
        return 2;
      fclose (fp);
      LLVMFuzzerTestOneInput (buf, (size_t) size);
      free (buf);
    }
  return 0;
}
#endif
