/* test-gguf.c: the GGUF reader against files written by an independent
 * Python writer (make-gguf-fixtures.py), hostile files, and the real vocab
 * files in shared/testdata.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The fixture script writes manifest.tsv describing every valid file (each
 * key, value and tensor, with SHA-256 of the tensor bytes) and how each
 * hostile file must fail (status and a piece of the message); one test case
 * is registered per manifest entry.
 */
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>

#include "gguf.h"
#include "quant.h"

static char *fixtures_dir;

typedef struct
{
  char  *name;
  char **header;   /* the 'file' record's fields */
  GPtrArray *records; /* (char **) kv/arr/nest/tensor records */
  char  *status;   /* 'bad' records */
  char  *substring;
  gint64 min_valid; /* 'truncate' records */
} Entry;

static char *
fixture_path (const char *name)
{
  return g_build_filename (fixtures_dir, name, NULL);
}

static GBytes *
hex_decode (const char *hex)
{
  gsize n = strlen (hex) / 2;
  guint8 *out = g_malloc (n + 1);

  for (gsize i = 0; i < n; i++)
    out[i] = (guint8) (g_ascii_xdigit_value (hex[2 * i]) * 16
                       + g_ascii_xdigit_value (hex[2 * i + 1]));
  return g_bytes_new_take (out, n);
}

static void
assert_string_is (PonderGgufString str,
                  const char      *hex)
{
  g_autoptr (GBytes) want = hex_decode (hex);
  gsize n;
  const guint8 *w = g_bytes_get_data (want, &n);

  g_assert_cmpuint (str.len, ==, n);
  if (n > 0)
    g_assert_cmpmem (str.data, str.len, w, n);
}

static guint64
load_le (const guint8 *p,
         guint         n)
{
  guint64 v = 0;

  for (guint i = 0; i < n; i++)
    v |= (guint64) p[i] << (8 * i);
  return v;
}

static const guint value_sizes[13] = { 1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8 };

static gboolean
is_signed (guint type)
{
  return type == PONDER_GGUF_INT8 || type == PONDER_GGUF_INT16
         || type == PONDER_GGUF_INT32 || type == PONDER_GGUF_INT64;
}

static gboolean
is_float (guint type)
{
  return type == PONDER_GGUF_FLOAT32 || type == PONDER_GGUF_FLOAT64;
}

static void
check_scalar (const PonderGgufKv *kv,
              guint               type,
              const char         *value)
{
  g_assert_cmpuint (kv->type, ==, type);
  if (type == PONDER_GGUF_STRING)
    assert_string_is (kv->value.str, value);
  else if (is_float (type))
    g_assert_cmpfloat (kv->value.f64, ==, g_ascii_strtod (value, NULL));
  else if (is_signed (type))
    g_assert_cmpint (kv->value.i64, ==, g_ascii_strtoll (value, NULL, 10));
  else
    g_assert_cmpuint (kv->value.u64, ==, g_ascii_strtoull (value, NULL, 10));
}

/* Element j of the manifest's comma list against the raw array bytes and
 * against the array_int / array_float accessors. */
static void
check_array_element (const PonderGgufKv *kv,
                     guint64             j,
                     const char         *want)
{
  guint size = value_sizes[kv->array_type];
  guint64 bits = load_le (kv->array_data + j * size, size);
  gint64 i;
  double f;

  if (kv->array_type == PONDER_GGUF_FLOAT32)
    {
      float f32;
      guint32 b32 = (guint32) bits;

      memcpy (&f32, &b32, 4);
      g_assert_cmpfloat (f32, ==, g_ascii_strtod (want, NULL));
      g_assert_true (ponder_gguf_array_float (kv, j, &f));
      g_assert_cmpfloat (f, ==, g_ascii_strtod (want, NULL));
      g_assert_false (ponder_gguf_array_int (kv, j, &i));
    }
  else if (kv->array_type == PONDER_GGUF_FLOAT64)
    {
      memcpy (&f, &bits, 8);
      g_assert_cmpfloat (f, ==, g_ascii_strtod (want, NULL));
      g_assert_true (ponder_gguf_array_float (kv, j, &f));
      g_assert_cmpfloat (f, ==, g_ascii_strtod (want, NULL));
    }
  else if (is_signed (kv->array_type))
    {
      g_assert_true (ponder_gguf_array_int (kv, j, &i));
      g_assert_cmpint (i, ==, g_ascii_strtoll (want, NULL, 10));
      g_assert_true (ponder_gguf_array_float (kv, j, &f));
      g_assert_cmpfloat (f, ==, (double) g_ascii_strtoll (want, NULL, 10));
    }
  else
    {
      guint64 u = g_ascii_strtoull (want, NULL, 10);

      g_assert_cmpuint (bits, ==, u);
      /* an unsigned value above INT64_MAX has no int64 form */
      g_assert_cmpint (ponder_gguf_array_int (kv, j, &i), ==, u <= G_MAXINT64);
      if (u <= G_MAXINT64)
        g_assert_cmpint (i, ==, (gint64) u);
    }
}

static void
check_array (const PonderGgufKv *kv,
             char              **rec)
{
  guint type = (guint) g_ascii_strtoull (rec[2], NULL, 10);
  guint64 len = g_ascii_strtoull (rec[3], NULL, 10);
  g_auto (GStrv) values = g_strsplit (rec[4], ",", -1);

  g_assert_cmpuint (kv->type, ==, PONDER_GGUF_ARRAY);
  g_assert_cmpuint (kv->array_type, ==, type);
  g_assert_cmpuint (kv->array_len, ==, len);
  if (len == 0)
    return;
  g_assert_cmpuint (g_strv_length (values), ==, len);
  for (guint64 j = 0; j < len; j++)
    {
      if (type == PONDER_GGUF_STRING)
        assert_string_is (kv->array_strings[j], values[j]);
      else
        check_array_element (kv, j, values[j]);
    }
  /* out of range and past the end */
  {
    gint64 i;
    double f;

    g_assert_false (ponder_gguf_array_int (kv, len, &i));
    g_assert_false (ponder_gguf_array_float (kv, len, &f));
  }
}

static void
check_tensor (const PonderGgufFile   *file,
              const PonderGgufTensor *t,
              char                  **rec,
              const guint8           *base)
{
  g_auto (GStrv) ne = g_strsplit (rec[4], ",", -1);
  guint64 n_elements = 1;
  g_autofree char *sha = NULL;

  g_assert_cmpstr (t->name, ==, rec[1]);
  g_assert_cmpuint (t->type, ==, g_ascii_strtoull (rec[2], NULL, 10));
  g_assert_cmpuint (t->n_dims, ==, g_ascii_strtoull (rec[3], NULL, 10));
  for (guint d = 0; d < 4; d++)
    {
      g_assert_cmpuint (t->ne[d], ==, g_ascii_strtoull (ne[d], NULL, 10));
      n_elements *= t->ne[d];
    }
  g_assert_cmpuint (t->n_elements, ==, n_elements);
  g_assert_cmpuint (t->n_bytes, ==, g_ascii_strtoull (rec[5], NULL, 10));
  g_assert_cmpuint (t->split_index, ==, g_ascii_strtoull (rec[6], NULL, 10));
  if (base != NULL)
    g_assert_cmpuint ((guint64) (t->data - base), ==, g_ascii_strtoull (rec[7], NULL, 10));
  sha = g_compute_checksum_for_data (G_CHECKSUM_SHA256, t->n_bytes > 0 ? t->data : (guint8 *) "",
                                     t->n_bytes);
  g_assert_cmpstr (sha, ==, rec[8]);
  g_assert_true (ponder_gguf_find_tensor (file, t->name) == t);
}

static void
check_file (const Entry          *e,
            const PonderGgufFile *file,
            const guint8         *base)
{
  size_t i_kv = 0;
  size_t i_tensor = 0;

  g_assert_cmpuint (ponder_gguf_version (file), ==, g_ascii_strtoull (e->header[2], NULL, 10));
  g_assert_cmpuint (ponder_gguf_n_kv (file), ==, g_ascii_strtoull (e->header[4], NULL, 10));
  g_assert_cmpuint (ponder_gguf_n_tensors (file), ==, g_ascii_strtoull (e->header[5], NULL, 10));
  if (base == NULL)
    {
      g_assert_cmpuint (ponder_gguf_n_splits (file), ==,
                        g_ascii_strtoull (e->header[6], NULL, 10));
      g_assert_cmpuint (ponder_gguf_total_bytes (file), ==,
                        g_ascii_strtoull (e->header[7], NULL, 10));
    }
  for (guint r = 0; r < e->records->len; r++)
    {
      char **rec = g_ptr_array_index (e->records, r);

      if (g_str_equal (rec[0], "tensor"))
        {
          check_tensor (file, ponder_gguf_tensor (file, i_tensor++), rec, base);
          continue;
        }
      {
        const PonderGgufKv *kv = ponder_gguf_kv (file, i_kv++);

        g_assert_nonnull (kv);
        g_assert_cmpstr (kv->key, ==, rec[1]);
        g_assert_true (ponder_gguf_find_kv (file, rec[1]) == kv);
        if (g_str_equal (rec[0], "kv"))
          check_scalar (kv, (guint) g_ascii_strtoull (rec[2], NULL, 10), rec[3]);
        else if (g_str_equal (rec[0], "arr"))
          check_array (kv, rec);
        else
          {
            g_assert_cmpuint (kv->type, ==, PONDER_GGUF_ARRAY);
            g_assert_cmpuint (kv->array_type, ==, PONDER_GGUF_ARRAY);
            g_assert_cmpuint (kv->array_len, ==, g_ascii_strtoull (rec[2], NULL, 10));
          }
      }
    }
  g_assert_cmpuint (i_kv, ==, ponder_gguf_n_kv (file));
  g_assert_cmpuint (i_tensor, ==, ponder_gguf_n_tensors (file));
  g_assert_null (ponder_gguf_kv (file, i_kv));
  g_assert_null (ponder_gguf_tensor (file, i_tensor));
  g_assert_null (ponder_gguf_find_kv (file, "no.such.key"));
  g_assert_null (ponder_gguf_find_tensor (file, "no.such.tensor"));
}

static void
test_valid_open (gconstpointer data)
{
  const Entry *e = data;
  g_autofree char *path = fixture_path (e->name);
  PonderGgufFile *file = NULL;
  PonderError error = { 0 };
  PonderStatus status = ponder_gguf_open (path, &file, &error);

  if (status != PONDER_OK)
    g_error ("%s", error.message);
  /* a split model is known by its first part, whichever part was opened */
  if (g_ascii_strtoull (e->header[6], NULL, 10) > 1)
    memcpy (strstr (path, "-of-") - 5, "00001", 5);
  g_assert_cmpstr (ponder_gguf_path (file), ==, path);
  check_file (e, file, NULL);
  ponder_gguf_close (file);
}

static bool
huge_pages_expected (void)
{
  g_autofree char *mode = NULL;
  g_autofree char *meminfo = NULL;
  const char *avail;

  if (!g_file_get_contents ("/sys/kernel/mm/transparent_hugepage/enabled", &mode, NULL, NULL)
      || !g_file_get_contents ("/proc/meminfo", &meminfo, NULL, NULL))
    return false;
  avail = strstr (meminfo, "MemAvailable:");
  return (strstr (mode, "[always]") != NULL || strstr (mode, "[madvise]") != NULL)
         && avail != NULL && g_ascii_strtoull (avail + 13, NULL, 10) > (2u << 20);
}

/* The /proc/self/maps line of the mapping that holds p. */
static char *
maps_line_of (const void *p)
{
  g_autofree char *maps = NULL;
  g_auto (GStrv) lines = NULL;

  g_assert_true (g_file_get_contents ("/proc/self/maps", &maps, NULL, NULL));
  lines = g_strsplit (maps, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      guint64 lo = g_ascii_strtoull (lines[i], NULL, 16);
      const char *dash = strchr (lines[i], '-');
      guint64 hi = dash ? g_ascii_strtoull (dash + 1, NULL, 16) : 0;

      if ((guint64) (uintptr_t) p >= lo && (guint64) (uintptr_t) p < hi)
        return g_strdup (lines[i]);
    }
  return NULL;
}

static bool
count_progress (uint64_t done,
                uint64_t total,
                void    *data)
{
  guint64 *calls = data;

  g_assert_cmpuint (done, <=, total);
  (*calls)++;
  return true;
}

/* Moved into huge-page memory, every key, value and tensor byte reads as
 * before, at the same addresses, and the tensors no longer live in a file
 * mapping. */
static void
test_valid_move (gconstpointer data)
{
  const Entry *e = data;
  g_autofree char *path = fixture_path (e->name);
  PonderGgufFile *file = NULL;
  PonderError error = { 0 };
  bool moved = false;
  guint64 calls = 0;
  const PonderGgufTensor *t;

  if (ponder_gguf_open (path, &file, &error) != PONDER_OK)
    g_error ("%s", error.message);
  t = ponder_gguf_n_tensors (file) > 0 ? ponder_gguf_tensor (file, 0) : NULL;
  if (ponder_gguf_move_to_memory (file, count_progress, &calls, &moved, &error) != PONDER_OK)
    g_error ("%s", error.message);
  g_assert_true (moved == huge_pages_expected ());
  if (moved)
    g_assert_cmpuint (calls, >=, ponder_gguf_n_splits (file));
  check_file (e, file, NULL);
  if (moved && t != NULL && t->n_bytes > 0)
    {
      g_autofree char *line = maps_line_of (t->data);
      g_auto (GStrv) fields = NULL;

      g_assert_nonnull (line);
      fields = g_strsplit_set (line, " ", -1);
      /* address perms offset dev inode [path]: anonymous means inode 0 */
      g_assert_cmpstr (fields[1], ==, "r--p");
      g_assert_cmpstr (fields[4], ==, "0");
    }
  ponder_gguf_close (file);
}

static bool
cancel_progress (uint64_t done,
                 uint64_t total,
                 void    *data)
{
  return false;
}

static void
test_move_cancelled (void)
{
  g_autofree char *path = fixture_path ("tensors-a64.gguf");
  PonderGgufFile *file = NULL;
  PonderError error = { 0 };
  bool moved = true;
  PonderStatus status;
  g_autofree char *line = NULL;

  g_assert_cmpint (ponder_gguf_open (path, &file, &error), ==, PONDER_OK);
  status = ponder_gguf_move_to_memory (file, cancel_progress, NULL, &moved, &error);
  /* Without huge pages nothing is copied, so there is nothing to cancel. */
  if (huge_pages_expected ())
    {
      g_assert_cmpint (status, ==, PONDER_ERROR_CANCELLED);
      g_assert_nonnull (strstr (error.message, "cancelled"));
    }
  else
    g_assert_cmpint (status, ==, PONDER_OK);
  g_assert_false (moved);
  /* still the file's mapping, and readable */
  line = maps_line_of (ponder_gguf_tensor (file, 0)->data);
  g_assert_nonnull (line);
  g_assert_nonnull (strstr (line, "tensors-a64.gguf"));
  ponder_gguf_close (file);
}

/* The same file through ponder_gguf_parse on an exactly sized heap copy, so
 * that tensor data offsets can be checked too. */
static void
test_valid_parse (gconstpointer data)
{
  const Entry *e = data;
  g_autofree char *path = fixture_path (e->name);
  g_autofree char *contents = NULL;
  gsize size;
  PonderGgufFile *file = NULL;
  PonderError error = { 0 };

  g_assert_true (g_file_get_contents (path, &contents, &size, NULL));
  if (ponder_gguf_parse ((guint8 *) contents, size, e->name, &file, &error) != PONDER_OK)
    g_error ("%s", error.message);
  g_assert_cmpuint (ponder_gguf_n_splits (file), ==, 1);
  g_assert_cmpuint (ponder_gguf_total_bytes (file), ==, size);
  check_file (e, file, (guint8 *) contents);
  ponder_gguf_close (file);
}

static PonderStatus
status_from_name (const char *name)
{
  if (g_str_equal (name, "format"))
    return PONDER_ERROR_FORMAT;
  if (g_str_equal (name, "unsupported"))
    return PONDER_ERROR_UNSUPPORTED;
  if (g_str_equal (name, "io"))
    return PONDER_ERROR_IO;
  g_assert_not_reached ();
}

static void
test_hostile (gconstpointer data)
{
  const Entry *e = data;
  g_autofree char *path = fixture_path (e->name);
  g_autofree char *prefix = g_strconcat (path, ": ", NULL);
  PonderGgufFile *file = NULL;
  PonderError error = { 0 };
  PonderStatus status = ponder_gguf_open (path, &file, &error);

  g_test_message ("%s", error.message);
  g_assert_null (file);
  g_assert_cmpint (status, ==, status_from_name (e->status));
  g_assert_cmpint (error.code, ==, status);
  g_assert_nonnull (strstr (error.message, e->substring));
  /* a single-file problem names the file first; a split problem names the
   * part (checked by the substring) */
  if (strstr (e->name, "-of-") == NULL && !g_str_equal (e->name, "renamed.gguf"))
    {
      g_autofree char *contents = NULL;
      gsize size;
      PonderError error2 = { 0 };

      g_assert_true (g_str_has_prefix (error.message, prefix));
      /* the buffer parser agrees */
      g_assert_true (g_file_get_contents (path, &contents, &size, NULL));
      g_assert_cmpint (ponder_gguf_parse ((guint8 *) contents, size, e->name, &file, &error2),
                       ==, status);
      g_assert_null (file);
      g_assert_true (g_str_has_prefix (error2.message, e->name));
      g_assert_nonnull (strstr (error2.message, e->substring));
    }
}

/* Every prefix of a small valid file fails cleanly until its last tensor's
 * bytes are complete; the trailing padding may be cut. */
static void
test_every_prefix (gconstpointer data)
{
  const Entry *e = data;
  g_autofree char *path = fixture_path (e->name);
  g_autofree char *contents = NULL;
  gsize size;

  g_assert_true (g_file_get_contents (path, &contents, &size, NULL));
  for (gsize len = 0; len <= size; len++)
    {
      guint8 *copy = g_memdup2 (contents, len);
      PonderGgufFile *file = NULL;
      PonderError error = { 0 };
      PonderStatus status = ponder_gguf_parse (copy, len, "small.gguf", &file, &error);

      if ((gint64) len < e->min_valid)
        {
          if (status != PONDER_ERROR_FORMAT)
            g_error ("prefix of %zu bytes: status %d (%s)", len, status, error.message);
          g_assert_null (file);
          g_assert_true (g_str_has_prefix (error.message, "small.gguf: "));
        }
      else
        {
          if (status != PONDER_OK)
            g_error ("prefix of %zu bytes: %s", len, error.message);
          g_assert_cmpuint (ponder_gguf_n_tensors (file), ==, 2);
          ponder_gguf_close (file);
        }
      g_free (copy);
    }
}

/* Random byte changes in a small file: any outcome but a crash, and an
 * error always comes with a message. */
static void
test_random_mutations (gconstpointer data)
{
  const Entry *e = data;
  g_autofree char *path = fixture_path (e->name);
  g_autofree char *contents = NULL;
  gsize size;
  GRand *rand = g_rand_new_with_seed (1234);

  g_assert_true (g_file_get_contents (path, &contents, &size, NULL));
  for (int round = 0; round < 3000; round++)
    {
      guint8 *copy = g_memdup2 (contents, size);
      gsize len = size;
      int n_changes = g_rand_int_range (rand, 1, 5);
      PonderGgufFile *file = NULL;
      PonderError error = { 0 };

      for (int k = 0; k < n_changes; k++)
        copy[g_rand_int_range (rand, 0, (gint32) size)] = (guint8) g_rand_int_range (rand, 0, 256);
      if (g_rand_boolean (rand))
        len = g_rand_int_range (rand, 0, (gint32) size + 1);
      if (ponder_gguf_parse (copy, len, "m.gguf", &file, &error) == PONDER_OK)
        {
          for (size_t t = 0; t < ponder_gguf_n_tensors (file); t++)
            {
              const PonderGgufTensor *tensor = ponder_gguf_tensor (file, t);

              g_assert_true (tensor->data >= copy);
              g_assert_cmpuint ((gsize) (tensor->data - copy) + tensor->n_bytes, <=, len);
            }
          ponder_gguf_close (file);
        }
      else
        g_assert_true (g_str_has_prefix (error.message, "m.gguf: "));
      g_free (copy);
    }
  g_rand_free (rand);
}

/* Typed getters and their conversions, on the all-types file. */
static void
test_getters (void)
{
  g_autofree char *path = fixture_path ("kv-all-v3.gguf");
  PonderGgufFile *file = NULL;
  PonderGgufString str;
  guint64 u;
  gint64 i;
  double f;
  bool b;

  g_assert_cmpint (ponder_gguf_open (path, &file, NULL), ==, PONDER_OK);
  g_assert_true (ponder_gguf_get_uint (file, "test.uint8", &u));
  g_assert_cmpuint (u, ==, 255);
  g_assert_true (ponder_gguf_get_int (file, "test.uint32", &i));
  g_assert_cmpint (i, ==, 4294967295);
  g_assert_false (ponder_gguf_get_uint (file, "test.int8", &u));  /* -128 */
  g_assert_true (ponder_gguf_get_int (file, "test.int64", &i));
  g_assert_cmpint (i, ==, G_MININT64);
  g_assert_false (ponder_gguf_get_int (file, "test.uint64", &i)); /* > INT64_MAX */
  g_assert_true (ponder_gguf_get_uint (file, "test.uint64", &u));
  g_assert_cmpuint (u, ==, G_MAXUINT64);
  g_assert_true (ponder_gguf_get_float (file, "test.float32", &f));
  g_assert_cmpfloat (f, ==, (double) 3.14159f);
  g_assert_true (ponder_gguf_get_float (file, "test.int16", &f));
  g_assert_cmpfloat (f, ==, -32768.0);
  g_assert_false (ponder_gguf_get_float (file, "test.string", &f));
  g_assert_false (ponder_gguf_get_uint (file, "test.float64", &u));
  g_assert_false (ponder_gguf_get_uint (file, "test.string", &u));
  g_assert_true (ponder_gguf_get_bool (file, "test.bool_true", &b));
  g_assert_true (b);
  g_assert_true (ponder_gguf_get_bool (file, "test.bool_false", &b));
  g_assert_false (b);
  g_assert_false (ponder_gguf_get_bool (file, "test.uint8", &b));
  g_assert_true (ponder_gguf_get_string (file, "general.architecture", &str));
  g_assert_true (ponder_gguf_string_equals (str, "qwen2"));
  g_assert_false (ponder_gguf_string_equals (str, "qwen"));
  g_assert_false (ponder_gguf_string_equals (str, "qwen22"));
  g_assert_true (ponder_gguf_get_string (file, "test.empty_string", &str));
  g_assert_true (ponder_gguf_string_equals (str, ""));
  g_assert_false (ponder_gguf_get_string (file, "test.uint8", &str));
  g_assert_false (ponder_gguf_get_uint (file, "missing", &u));
  g_assert_false (ponder_gguf_array_int (ponder_gguf_find_kv (file, "test.arr.string"), 0, &i));
  g_assert_false (ponder_gguf_array_int (ponder_gguf_find_kv (file, "test.uint8"), 0, &i));
  g_assert_false (ponder_gguf_array_float (ponder_gguf_find_kv (file, "test.arr.nested"), 0, &f));
  ponder_gguf_close (file);
}

static void
test_open_errors (void)
{
  PonderGgufFile *file = NULL;
  PonderError error = { 0 };

  g_assert_cmpint (ponder_gguf_open (fixtures_dir, &file, &error), ==, PONDER_ERROR_IO);
  g_assert_nonnull (strstr (error.message, "not a regular file"));
  g_assert_cmpint (ponder_gguf_open ("/nonexistent/x.gguf", &file, &error), ==, PONDER_ERROR_IO);
  g_assert_true (g_str_has_prefix (error.message, "/nonexistent/x.gguf: cannot open"));
  /* a NULL error is allowed */
  g_assert_cmpint (ponder_gguf_open ("/nonexistent/x.gguf", &file, NULL), ==, PONDER_ERROR_IO);
  g_assert_cmpint (ponder_gguf_parse (NULL, 4, "x", &file, &error), ==,
                   PONDER_ERROR_INVALID_ARGUMENT);
  g_assert_null (file);
  ponder_gguf_close (NULL);
}

/* ---- the real vocab files -------------------------------------------- */

typedef struct
{
  const char *file;
  const char *pre;
  guint64     n_tokens;
  guint64     n_merges;
  guint64     bos;
  guint64     eos;
  const char *eos_text;
  gboolean    add_bos;
} VocabFacts;

/* Read from the files with tests/gguf_writer.py's reader (and matching the
 * published vocab sizes). */
static const VocabFacts vocab_facts[] = {
  { "ggml-vocab-deepseek-coder.gguf", "deepseek-coder", 32256, 31757, 32013, 32014,
    "<\xef\xbd\x9c" "end\xe2\x96\x81of\xe2\x96\x81sentence\xef\xbd\x9c>", TRUE },
  { "ggml-vocab-deepseek-llm.gguf", "deepseek-llm", 102400, 99757, 100000, 100001,
    "<\xef\xbd\x9c" "end\xe2\x96\x81of\xe2\x96\x81sentence\xef\xbd\x9c>", TRUE },
  { "vocab-deepseek-r1-qwen.gguf", "deepseek-r1-qwen", 151936, 151387, 151646, 151643,
    "<\xef\xbd\x9c" "end\xe2\x96\x81of\xe2\x96\x81sentence\xef\xbd\x9c>", TRUE },
  { "vocab-deepseek-v3.gguf", "deepseek-v3", 129280, 127741, 0, 1,
    "<\xef\xbd\x9c" "end\xe2\x96\x81of\xe2\x96\x81sentence\xef\xbd\x9c>", TRUE },
  { "vocab-llama3.gguf", "llama-bpe", 128256, 280147, 128000, 128009, "<|eot_id|>", TRUE },
  { "vocab-qwen3.gguf", "qwen2", 151936, 151387, 151643, 151645, "<|im_end|>", FALSE },
};

static void
test_vocab_files (void)
{
  const char *root = g_getenv ("PONDER_SHARED_TESTDATA");

  if (root == NULL)
    {
      g_test_skip ("PONDER_SHARED_TESTDATA is not set");
      return;
    }
  for (guint v = 0; v < G_N_ELEMENTS (vocab_facts); v++)
    {
      const VocabFacts *facts = &vocab_facts[v];
      g_autofree char *path = g_build_filename (root, "tokenizer", facts->file, NULL);
      PonderGgufFile *file = NULL;
      PonderError error = { 0 };
      PonderGgufString str;
      const PonderGgufKv *tokens;
      const PonderGgufKv *types;
      guint64 u;
      gint64 i;
      bool b;

      if (ponder_gguf_open (path, &file, &error) != PONDER_OK)
        g_error ("%s", error.message);
      g_assert_cmpuint (ponder_gguf_version (file), ==, 3);
      g_assert_cmpuint (ponder_gguf_n_tensors (file), ==, 0);
      g_assert_true (ponder_gguf_get_string (file, "tokenizer.ggml.model", &str));
      g_assert_true (ponder_gguf_string_equals (str, "gpt2"));
      g_assert_true (ponder_gguf_get_string (file, "tokenizer.ggml.pre", &str));
      g_assert_true (ponder_gguf_string_equals (str, facts->pre));
      tokens = ponder_gguf_find_kv (file, "tokenizer.ggml.tokens");
      g_assert_cmpuint (tokens->array_type, ==, PONDER_GGUF_STRING);
      g_assert_cmpuint (tokens->array_len, ==, facts->n_tokens);
      types = ponder_gguf_find_kv (file, "tokenizer.ggml.token_type");
      g_assert_cmpuint (types->array_type, ==, PONDER_GGUF_INT32);
      g_assert_cmpuint (types->array_len, ==, facts->n_tokens);
      g_assert_true (ponder_gguf_array_int (types, facts->eos, &i));
      g_assert_cmpint (i, ==, 3); /* CONTROL */
      g_assert_cmpuint (ponder_gguf_find_kv (file, "tokenizer.ggml.merges")->array_len, ==,
                        facts->n_merges);
      g_assert_true (ponder_gguf_get_uint (file, "tokenizer.ggml.bos_token_id", &u));
      g_assert_cmpuint (u, ==, facts->bos);
      g_assert_true (ponder_gguf_get_uint (file, "tokenizer.ggml.eos_token_id", &u));
      g_assert_cmpuint (u, ==, facts->eos);
      g_assert_true (ponder_gguf_string_equals (tokens->array_strings[facts->eos],
                                                facts->eos_text));
      g_assert_true (ponder_gguf_get_bool (file, "tokenizer.ggml.add_bos_token", &b));
      g_assert_cmpint (b, ==, facts->add_bos);
      /* "!" is the first byte-level token of every one of these vocabularies
       * except DeepSeek-V3's, whose token 0 is its BOS */
      if (facts->bos != 0)
        g_assert_true (ponder_gguf_string_equals (tokens->array_strings[0], "!"));
      ponder_gguf_close (file);
    }
}

/* Prefixes of a real multi-megabyte file at spread-out lengths fail cleanly. */
static void
test_vocab_prefixes (void)
{
  const char *root = g_getenv ("PONDER_SHARED_TESTDATA");
  g_autofree char *path = NULL;
  g_autofree char *contents = NULL;
  gsize size;
  GRand *rand = g_rand_new_with_seed (99);

  if (root == NULL)
    {
      g_test_skip ("PONDER_SHARED_TESTDATA is not set");
      return;
    }
  path = g_build_filename (root, "tokenizer", "vocab-deepseek-v3.gguf", NULL);
  g_assert_true (g_file_get_contents (path, &contents, &size, NULL));
  for (int k = 0; k < 60; k++)
    {
      gsize len = (gsize) g_rand_double_range (rand, 0, (double) size);
      guint8 *copy = g_memdup2 (contents, len);
      PonderGgufFile *file = NULL;
      PonderError error = { 0 };

      g_assert_cmpint (ponder_gguf_parse (copy, len, "v3", &file, &error), ==,
                       PONDER_ERROR_FORMAT);
      g_assert_true (g_str_has_prefix (error.message, "v3: "));
      g_free (copy);
    }
  g_rand_free (rand);
}

/* ---- set-up ------------------------------------------------------------ */

static void
make_fixtures (void)
{
  const char *src = g_getenv ("PONDER_SOURCE_ROOT");
  const char *python = g_getenv ("PONDER_PYTHON");
  g_autofree char *script = NULL;
  g_autoptr (GError) error = NULL;
  int wait_status = 0;
  g_autofree char *err = NULL;
  char *argv[4];

  if (src == NULL)
    g_error ("PONDER_SOURCE_ROOT is not set (run through meson test)");
  script = g_build_filename (src, "tests", "make-gguf-fixtures.py", NULL);
  argv[0] = (char *) (python != NULL ? python : "/usr/bin/python3");
  argv[1] = script;
  argv[2] = fixtures_dir;
  argv[3] = NULL;
  if (!g_spawn_sync (NULL, argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, NULL, &err,
                     &wait_status, &error)
      || !g_spawn_check_wait_status (wait_status, &error))
    g_error ("make-gguf-fixtures.py failed: %s\n%s", error->message, err ? err : "");
}

static GPtrArray *
load_manifest (void)
{
  g_autofree char *path = fixture_path ("manifest.tsv");
  g_autofree char *text = NULL;
  g_auto (GStrv) lines = NULL;
  GPtrArray *entries = g_ptr_array_new ();
  Entry *current = NULL;

  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  lines = g_strsplit (text, "\n", -1);
  for (guint l = 0; lines[l] != NULL; l++)
    {
      char **f = g_strsplit (lines[l], "\t", -1);

      if (f[0] == NULL || f[0][0] == '\0')
        {
          g_strfreev (f);
          continue;
        }
      if (g_str_equal (f[0], "file") || g_str_equal (f[0], "bad")
          || g_str_equal (f[0], "truncate"))
        {
          current = g_new0 (Entry, 1);
          current->name = g_strdup (f[1]);
          current->records = g_ptr_array_new ();
          g_ptr_array_add (entries, current);
          if (g_str_equal (f[0], "bad"))
            {
              current->status = g_strdup (f[2]);
              current->substring = g_strdup (f[3]);
            }
          else if (g_str_equal (f[0], "truncate"))
            current->min_valid = g_ascii_strtoll (f[2], NULL, 10);
          current->header = f;
        }
      else if (g_str_equal (f[0], "end"))
        g_strfreev (f);
      else
        g_ptr_array_add (current->records, f);
    }
  return entries;
}

static void
remove_tree (const char *dir)
{
  GDir *d = g_dir_open (dir, 0, NULL);
  const char *name;

  if (d == NULL)
    return;
  while ((name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *p = g_build_filename (dir, name, NULL);

      g_unlink (p);
    }
  g_dir_close (d);
  g_rmdir (dir);
}

int
main (int    argc,
      char **argv)
{
  GPtrArray *entries;
  int rc;

  g_test_init (&argc, &argv, NULL);
  fixtures_dir = g_dir_make_tmp ("ponder-gguf-XXXXXX", NULL);
  g_assert_nonnull (fixtures_dir);
  make_fixtures ();
  entries = load_manifest ();
  for (guint i = 0; i < entries->len; i++)
    {
      Entry *e = g_ptr_array_index (entries, i);
      g_autofree char *open_name = NULL;
      g_autofree char *parse_name = NULL;
      g_autofree char *move_name = NULL;

      if (g_str_equal (e->header[0], "file"))
        {
          open_name = g_strdup_printf ("/gguf/valid/open/%s", e->name);
          g_test_add_data_func (open_name, e, test_valid_open);
          move_name = g_strdup_printf ("/gguf/valid/move/%s", e->name);
          g_test_add_data_func (move_name, e, test_valid_move);
          if (g_ascii_strtoull (e->header[6], NULL, 10) == 1)
            {
              parse_name = g_strdup_printf ("/gguf/valid/parse/%s", e->name);
              g_test_add_data_func (parse_name, e, test_valid_parse);
            }
        }
      else if (g_str_equal (e->header[0], "bad"))
        {
          open_name = g_strdup_printf ("/gguf/hostile/%s", e->name);
          g_test_add_data_func (open_name, e, test_hostile);
        }
      else
        {
          g_test_add_data_func ("/gguf/truncate/every-prefix", e, test_every_prefix);
          g_test_add_data_func ("/gguf/truncate/random-mutations", e, test_random_mutations);
        }
    }
  g_test_add_func ("/gguf/getters", test_getters);
  g_test_add_func ("/gguf/open-errors", test_open_errors);
  g_test_add_func ("/gguf/move-cancelled", test_move_cancelled);
  g_test_add_func ("/gguf/vocab/files", test_vocab_files);
  g_test_add_func ("/gguf/vocab/prefixes", test_vocab_prefixes);
  rc = g_test_run ();
  remove_tree (fixtures_dir);
  return rc;
}
