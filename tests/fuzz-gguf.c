/* fuzz-gguf.c: libFuzzer target for the GGUF parser.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Built and run by run_fuzz_gguf.py with clang -fsanitize=fuzzer,address.
 * After a successful parse it touches every byte range the parser handed
 * out (strings, arrays, tensor data), so that AddressSanitizer sees any
 * pointer the bounds checks let through. Without -DPONDER_LIBFUZZER it is a
 * plain program that replays the files named on its command line.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gguf.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static volatile uint8_t sink;

static void
touch (const void *p,
       uint64_t    n)
{
  const uint8_t *b = p;

  if (n == 0)
    return;
  sink ^= b[0];
  sink ^= b[n - 1];
}

static void
walk (const PonderGgufFile *file)
{
  PonderGgufString str;
  uint64_t u;
  int64_t i;
  double f;
  bool b;

  for (size_t k = 0; k < ponder_gguf_n_kv (file); k++)
    {
      const PonderGgufKv *kv = ponder_gguf_kv (file, k);

      if (ponder_gguf_find_kv (file, kv->key) != kv)
        abort ();
      ponder_gguf_get_uint (file, kv->key, &u);
      ponder_gguf_get_int (file, kv->key, &i);
      ponder_gguf_get_float (file, kv->key, &f);
      ponder_gguf_get_bool (file, kv->key, &b);
      if (ponder_gguf_get_string (file, kv->key, &str))
        touch (str.data, str.len);
      if (kv->type != PONDER_GGUF_ARRAY)
        continue;
      for (uint64_t j = 0; j < kv->array_len; j++)
        {
          if (kv->array_type == PONDER_GGUF_STRING)
            touch (kv->array_strings[j].data, kv->array_strings[j].len);
          else
            {
              ponder_gguf_array_int (kv, j, &i);
              ponder_gguf_array_float (kv, j, &f);
            }
        }
    }
  for (size_t t = 0; t < ponder_gguf_n_tensors (file); t++)
    {
      const PonderGgufTensor *tensor = ponder_gguf_tensor (file, t);

      if (ponder_gguf_find_tensor (file, tensor->name) != tensor)
        abort ();
      touch (tensor->data, tensor->n_bytes);
    }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  PonderGgufFile *file = NULL;
  PonderError error;

  if (ponder_gguf_parse (data, size, "fuzz", &file, &error) == PONDER_OK)
    {
      walk (file);
      ponder_gguf_close (file);
    }
  else if (file != NULL || strncmp (error.message, "fuzz: ", 6) != 0)
    abort ();
  return 0;
}

#ifndef PONDER_LIBFUZZER
int
main (int    argc,
      char **argv)
{
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
