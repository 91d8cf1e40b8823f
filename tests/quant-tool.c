/* quant-tool.c: drives engine/quant*.c for tests/test_quant.py.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 *   quant-tool types
 *       one line per id 0..63: id name block_size block_bytes can_compute
 *       row_bytes(1024 elements) (or "id - type-name-text" for unknown ids)
 *   quant-tool dequant TYPE IN N OUT
 *       dequantises N elements from raw blocks IN into float32 OUT
 *   quant-tool fp16 IN OUT
 *       float32 IN -> ponder_fp32_to_fp16 -> uint16 OUT
 *   quant-tool kv-f16 PATH IN OUT
 *       float32 IN -> ponder_kv_to_f16 (the KV cache's store) -> uint16 OUT, PATH c
 *       (portable) or f16c (exit 77 where the CPU lacks F16C)
 *   quant-tool matmul TYPE VARIANT W N ROWS X N_TOKENS OUT [CHUNK]
 *       W: ROWS rows of N elements of TYPE; X: float32 (N_TOKENS, N);
 *       OUT: float32 (N_TOKENS, ROWS); rows are computed in ranges of CHUNK
 *       (default all) to exercise row_begin/row_end. A VARIANT ending in
 *       -x8 (avx512-x8) is an interleaved kernel: W is rearranged with
 *       ponder_matmul_interleave first (ROWS a multiple of 8).
 */
#include "kv-cache.h"
#include "quant-private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static PonderType
type_by_name (const char *name)
{
  for (uint32_t id = 0; id < 64; id++)
    {
      const PonderTypeInfo *info = ponder_type_info (id);

      if (info != NULL && strcmp (info->name, name) == 0)
        return (PonderType) id;
    }
  fprintf (stderr, "unknown type %s\n", name);
  exit (2);
}

static void *
read_file (const char *path, size_t *size)
{
  FILE *f = fopen (path, "rb");
  void *buf;
  long len;

  if (f == NULL || fseek (f, 0, SEEK_END) != 0 || (len = ftell (f)) < 0)
    {
      perror (path);
      exit (2);
    }
  rewind (f);
  buf = malloc ((size_t) len + 64);
  if (buf == NULL || fread (buf, 1, (size_t) len, f) != (size_t) len)
    {
      perror (path);
      exit (2);
    }
  fclose (f);
  *size = (size_t) len;
  return buf;
}

static void
write_file (const char *path, const void *data, size_t size)
{
  FILE *f = fopen (path, "wb");

  if (f == NULL || fwrite (data, 1, size, f) != size || fclose (f) != 0)
    {
      perror (path);
      exit (2);
    }
}

static int
cmd_types (void)
{
  for (uint32_t id = 0; id < 64; id++)
    {
      const PonderTypeInfo *info = ponder_type_info (id);
      char buf[32];
      uint64_t rb = 0;

      if (info == NULL)
        {
          printf ("%u - %s\n", id, ponder_type_name (id, buf, sizeof buf));
          continue;
        }
      if (!ponder_type_row_bytes (id, 1024, &rb))
        rb = 0;
      printf ("%u %s %u %u %d %llu\n", id, ponder_type_name (id, buf, sizeof buf),
              info->block_size, info->block_bytes, info->can_compute ? 1 : 0,
              (unsigned long long) rb);
    }
  return 0;
}

static int
cmd_dequant (char **argv)
{
  PonderType type = type_by_name (argv[0]);
  size_t size;
  void *src = read_file (argv[1], &size);
  size_t n = strtoull (argv[2], NULL, 10);
  float *dst = malloc (n * sizeof (float) + 1);

  ponder_dequantize_row (type, src, dst, n);
  write_file (argv[3], dst, n * sizeof (float));
  free (src);
  free (dst);
  return 0;
}

static int
cmd_fp16 (char **argv)
{
  size_t size;
  float *src = read_file (argv[0], &size);
  size_t n = size / 4;
  uint16_t *dst = malloc (n * 2 + 1);

  for (size_t i = 0; i < n; i++)
    dst[i] = ponder_fp32_to_fp16 (src[i]);
  write_file (argv[1], dst, n * 2);
  free (src);
  free (dst);
  return 0;
}

static int
cmd_kv_f16 (char **argv)
{
  bool f16c = strcmp (argv[0], "f16c") == 0;
  size_t size, n;
  float *src;
  uint16_t *dst;

  if (!f16c && strcmp (argv[0], "c") != 0)
    {
      fprintf (stderr, "kv-f16: PATH is c or f16c\n");
      return 2;
    }
  if (f16c && !ponder_kv_have_f16c ())
    return 77;
  src = read_file (argv[1], &size);
  n = size / 4;
  dst = malloc (n * 2 + 1);
  ponder_kv_to_f16 (dst, src, n, f16c);
  write_file (argv[2], dst, n * 2);
  free (src);
  free (dst);
  return 0;
}

static int
cmd_matmul (int argc, char **argv)
{
  PonderType type = type_by_name (argv[0]);
  const PonderMatmulKernel *kernel = ponder_matmul_kernel_variant_get (type, argv[1]);
  size_t w_size, x_size;
  void *w = read_file (argv[2], &w_size);
  size_t n = strtoull (argv[3], NULL, 10);
  size_t rows = strtoull (argv[4], NULL, 10);
  float *x = read_file (argv[5], &x_size);
  size_t n_tokens = strtoull (argv[6], NULL, 10);
  size_t chunk = argc > 8 ? strtoull (argv[8], NULL, 10) : rows;
  void *prepared;
  float *y;

  if (kernel == NULL)
    {
      fprintf (stderr, "no %s kernel for %s\n", argv[1], argv[0]);
      return 77;
    }
  if (x_size != n * n_tokens * sizeof (float))
    {
      fprintf (stderr, "activation file has %zu bytes, expected %zu\n", x_size,
               n * n_tokens * sizeof (float));
      return 2;
    }
  /* an interleaved kernel's weights are rearranged first, as at load */
  if (strstr (argv[1], "-x8") != NULL && !ponder_matmul_interleave (type, w, n, rows))
    {
      fprintf (stderr, "%s: %zu rows cannot be interleaved\n", argv[0], rows);
      return 2;
    }
  prepared = malloc (ponder_matmul_input_row_bytes (kernel, n) * n_tokens + 1);
  y = calloc (n_tokens * rows + 1, sizeof (float));
  ponder_matmul_prepare_input (kernel, x, n, n, n_tokens, prepared);
  for (size_t r = 0; r < rows; r += chunk)
    ponder_matmul_rows (kernel, w, n, r, r + chunk < rows ? r + chunk : rows, prepared,
                        n_tokens, y, rows);
  write_file (argv[7], y, n_tokens * rows * sizeof (float));
  printf ("%s\n", ponder_matmul_kernel_variant (kernel));
  free (w);
  free (x);
  free (prepared);
  free (y);
  return 0;
}

int
main (int argc, char **argv)
{
  if (argc >= 2 && strcmp (argv[1], "types") == 0)
    return cmd_types ();
  if (argc == 6 && strcmp (argv[1], "dequant") == 0)
    return cmd_dequant (argv + 2);
  if (argc == 4 && strcmp (argv[1], "fp16") == 0)
    return cmd_fp16 (argv + 2);
  if (argc == 5 && strcmp (argv[1], "kv-f16") == 0)
    return cmd_kv_f16 (argv + 2);
  if ((argc == 10 || argc == 11) && strcmp (argv[1], "matmul") == 0)
    return cmd_matmul (argc - 2, argv + 2);
  fprintf (stderr, "usage: see the comment at the top of quant-tool.c\n");
  return 2;
}
