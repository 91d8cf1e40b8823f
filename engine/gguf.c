/* gguf.c: a strict GGUF v2/v3 parser over a byte buffer, and look-ups.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Layout and checks follow ../shared/docs/engine-spec.md section 1 and
 * style.md 4.2. Every length, count and offset is checked against the bytes
 * that are left before anything is read or allocated from it, so a hostile
 * buffer can make the parser fail but never read outside [data, data+size).
 * Messages are built as "<what>: <problem>" at the point of failure and get
 * "key 'x': " / "tensor 'y': " and finally "<file>: " prefixed on the way up.
 */
#include "gguf-private.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "quant.h"

#define GGUF_MAGIC             0x46554747u /* "GGUF" read as a little-endian u32 */
#define GGUF_DEFAULT_ALIGNMENT 32u
/* llama.cpp's caps on one string and one array (engine-spec 1.4). */
#define GGUF_MAX_STRING_BYTES  (UINT64_C (1) << 30)
#define GGUF_MAX_ARRAY_LEN     (UINT64_C (1) << 30)
#define GGUF_MAX_KEY_BYTES     65535u
#define GGUF_MAX_NAME_BYTES    63u  /* ggml keeps names in 64-byte buffers */
/* Nested arrays are stored undecoded; the limit keeps the validating
 * recursion shallow on hostile input. */
#define GGUF_MAX_ARRAY_DEPTH   8
/* Smallest possible records: key length + 1-byte key + type + 1-byte
 * value, and name length + 1-byte name + n_dims + one dim + type + offset. */
#define GGUF_MIN_KV_BYTES      14u
#define GGUF_MIN_TENSOR_BYTES  33u

typedef struct
{
  const uint8_t *data;
  uint64_t       size;
  uint64_t       pos;
  PonderError   *error;
} Cursor;

/* ---- little-endian reads --------------------------------------------- */

static PonderStatus
past_end (Cursor     *c,
          uint64_t    need,
          const char *what)
{
  return ponder_error_set (c->error, PONDER_ERROR_FORMAT,
                           "%s at byte %" PRIu64 " runs past the end of the file "
                           "(needs %" PRIu64 " bytes, the file has %" PRIu64 ")",
                           what, c->pos, need, c->size);
}

/* Points *out at the next n bytes and advances, or fails naming what. */
static PonderStatus
take (Cursor         *c,
      uint64_t        n,
      const char     *what,
      const uint8_t **out)
{
  if (n > c->size - c->pos)
    return past_end (c, n, what);
  *out = c->data + c->pos;
  c->pos += n;
  return PONDER_OK;
}

static PonderStatus
read_uint (Cursor     *c,
           unsigned    n_bytes,
           const char *what,
           uint64_t   *out)
{
  const uint8_t *p = NULL;
  PonderStatus status = take (c, n_bytes, what, &p);

  if (status != PONDER_OK)
    return status;
  *out = ponder_gguf_load_le (p, n_bytes);
  return PONDER_OK;
}

/* Reads a u64 length and the bytes after it, which must fit in what is left
 * and under max_len. */
static PonderStatus
read_string (Cursor           *c,
             uint64_t          max_len,
             const char       *what,
             PonderGgufString *out)
{
  uint64_t len;
  uint64_t at = c->pos;
  const uint8_t *p = NULL;
  PonderStatus status = read_uint (c, 8, what, &len);

  if (status != PONDER_OK)
    return status;
  if (len > max_len)
    return ponder_error_set (c->error, PONDER_ERROR_FORMAT,
                             "%s at byte %" PRIu64 " has length %" PRIu64
                             ", more than the limit of %" PRIu64 " bytes",
                             what, at, len, max_len);
  if (len > c->size - c->pos)
    return ponder_error_set (c->error, PONDER_ERROR_FORMAT,
                             "%s at byte %" PRIu64 " has length %" PRIu64
                             " but only %" PRIu64 " bytes are left in the file",
                             what, at, len, c->size - c->pos);
  status = take (c, len, what, &p);
  if (status != PONDER_OK)
    return status;
  out->data = (const char *) p;
  out->len = len;
  return PONDER_OK;
}

/* A NUL-terminated copy of a name; fails on embedded NULs, which would make
 * the C string differ from the name the file uses. */
static PonderStatus
copy_name (PonderGgufString  str,
           const char       *what,
           PonderError      *error,
           char            **out)
{
  char *copy;

  if (memchr (str.data, '\0', str.len) != NULL)
    return ponder_error_set (error, PONDER_ERROR_FORMAT,
                             "%s contains a NUL byte", what);
  copy = malloc (str.len + 1);
  if (copy == NULL)
    return ponder_error_set (error, PONDER_ERROR_NO_MEMORY,
                             "out of memory copying %s", what);
  memcpy (copy, str.data, str.len);
  copy[str.len] = '\0';
  *out = copy;
  return PONDER_OK;
}

/* ---- values ---------------------------------------------------------- */

static PonderStatus
check_value_type (Cursor     *c,
                  uint64_t    type,
                  const char *what)
{
  if (type < PONDER_GGUF_N_VALUE_TYPES)
    return PONDER_OK;
  return ponder_error_set (c->error, PONDER_ERROR_FORMAT,
                           "%s %" PRIu64 " at byte %" PRIu64 " is not a GGUF value type "
                           "(0..12)", what, type, c->pos - 4);
}

static PonderStatus
check_bool (Cursor        *c,
            const uint8_t *p,
            uint64_t       n)
{
  for (uint64_t i = 0; i < n; i++)
    if (p[i] > 1)
      return ponder_error_set (c->error, PONDER_ERROR_FORMAT,
                               "bool at byte %" PRIu64 " has value %u (must be 0 or 1)",
                               (uint64_t) (p + i - c->data), p[i]);
  return PONDER_OK;
}

static PonderStatus
read_scalar (Cursor         *c,
             PonderGgufType  type,
             PonderGgufKv   *kv)
{
  const uint8_t *p = NULL;
  unsigned n = (unsigned) type < PONDER_GGUF_N_VALUE_TYPES ? ponder_gguf_value_type_sizes[type] : 0;
  uint64_t bits;
  PonderStatus status;
  float f32;
  double f64;

  if (type == PONDER_GGUF_STRING)
    return read_string (c, GGUF_MAX_STRING_BYTES, "string value", &kv->value.str);
  status = take (c, n, "value", &p);
  if (status != PONDER_OK)
    return status;
  bits = ponder_gguf_load_le (p, n);
  switch (type)
    {
    case PONDER_GGUF_BOOL:
      status = check_bool (c, p, 1);
      kv->value.u64 = bits;
      break;
    case PONDER_GGUF_UINT8:
    case PONDER_GGUF_UINT16:
    case PONDER_GGUF_UINT32:
    case PONDER_GGUF_UINT64:
      kv->value.u64 = bits;
      break;
    case PONDER_GGUF_INT8:
      kv->value.i64 = (int8_t) bits;
      break;
    case PONDER_GGUF_INT16:
      kv->value.i64 = (int16_t) bits;
      break;
    case PONDER_GGUF_INT32:
      kv->value.i64 = (int32_t) bits;
      break;
    case PONDER_GGUF_INT64:
      kv->value.i64 = (int64_t) bits;
      break;
    case PONDER_GGUF_FLOAT32:
      {
        uint32_t b32 = (uint32_t) bits;

        memcpy (&f32, &b32, sizeof f32);
        kv->value.f64 = f32;
      }
      break;
    case PONDER_GGUF_FLOAT64:
      memcpy (&f64, &bits, sizeof f64);
      kv->value.f64 = f64;
      break;
    case PONDER_GGUF_STRING:
    case PONDER_GGUF_ARRAY:
    default:
      break;
    }
  return status;
}

/* Reads an array header (element type and count) and checks the count. */
static PonderStatus
read_array_header (Cursor         *c,
                   PonderGgufType *out_type,
                   uint64_t       *out_len)
{
  uint64_t type;
  uint64_t len;
  uint64_t min_elem;
  PonderStatus status = read_uint (c, 4, "array element type", &type);

  if (status == PONDER_OK)
    status = check_value_type (c, type, "array element type");
  if (status == PONDER_OK)
    status = read_uint (c, 8, "array length", &len);
  if (status != PONDER_OK)
    return status;
  if (len > GGUF_MAX_ARRAY_LEN)
    return ponder_error_set (c->error, PONDER_ERROR_FORMAT,
                             "array of %" PRIu64 " elements is longer than the limit "
                             "of %" PRIu64, len, GGUF_MAX_ARRAY_LEN);
  /* a string element takes at least its 8-byte length, a nested array 12 */
  min_elem = type == PONDER_GGUF_STRING ? 8 : type == PONDER_GGUF_ARRAY ? 12
             : ponder_gguf_value_type_sizes[type];
  if (len > (c->size - c->pos) / min_elem)
    return ponder_error_set (c->error, PONDER_ERROR_FORMAT,
                             "array of %" PRIu64 " %s elements at byte %" PRIu64
                             " cannot fit in the %" PRIu64 " bytes left in the file",
                             len, ponder_gguf_value_type_names[type], c->pos, c->size - c->pos);
  *out_type = (PonderGgufType) type;
  *out_len = len;
  return PONDER_OK;
}

/* Walks over an array's elements without storing them (nested arrays). */
static PonderStatus
skip_array_elements (Cursor         *c,
                     PonderGgufType  type,
                     uint64_t        len,
                     int             depth)
{
  const uint8_t *p = NULL;
  PonderGgufString str;
  PonderGgufType inner_type;
  uint64_t inner_len;
  PonderStatus status = PONDER_OK;

  if (type == PONDER_GGUF_STRING)
    {
      for (uint64_t i = 0; i < len && status == PONDER_OK; i++)
        status = read_string (c, GGUF_MAX_STRING_BYTES, "array string", &str);
      return status;
    }
  if (type != PONDER_GGUF_ARRAY)
    {
      /* len * size cannot overflow: read_array_header bounded len by the
       * bytes left divided by the element size */
      status = take (c, len * ponder_gguf_value_type_sizes[type], "array data", &p);
      if (status == PONDER_OK && type == PONDER_GGUF_BOOL)
        status = check_bool (c, p, len);
      return status;
    }
  if (depth >= GGUF_MAX_ARRAY_DEPTH)
    return ponder_error_set (c->error, PONDER_ERROR_FORMAT,
                             "arrays nested more than %d deep at byte %" PRIu64,
                             GGUF_MAX_ARRAY_DEPTH, c->pos);
  for (uint64_t i = 0; i < len && status == PONDER_OK; i++)
    {
      status = read_array_header (c, &inner_type, &inner_len);
      if (status == PONDER_OK)
        status = skip_array_elements (c, inner_type, inner_len, depth + 1);
    }
  return status;
}

static PonderStatus
read_array (Cursor       *c,
            PonderGgufKv *kv)
{
  PonderGgufString *strings;
  PonderStatus status = read_array_header (c, &kv->array_type, &kv->array_len);

  if (status != PONDER_OK)
    return status;
  kv->array_data = c->data + c->pos;
  if (kv->array_type != PONDER_GGUF_STRING)
    return skip_array_elements (c, kv->array_type, kv->array_len, 1);

  /* the length check above bounds this by the file size / 8 */
  strings = calloc (kv->array_len > 0 ? kv->array_len : 1, sizeof *strings);
  if (strings == NULL)
    return ponder_error_set (c->error, PONDER_ERROR_NO_MEMORY,
                             "out of memory for an array of %" PRIu64 " strings",
                             kv->array_len);
  kv->array_strings = strings;
  for (uint64_t i = 0; i < kv->array_len; i++)
    {
      status = read_string (c, GGUF_MAX_STRING_BYTES, "array string", &strings[i]);
      if (status != PONDER_OK)
        {
          ponder_error_prefix (c->error, "element %" PRIu64 ": ", i);
          return status;
        }
    }
  return PONDER_OK;
}

/* ---- records --------------------------------------------------------- */

static PonderStatus
read_kv (Cursor         *c,
         PonderGgufFile *file,
         size_t          index)
{
  PonderGgufKv *kv = &file->kvs[index];
  PonderGgufString key;
  uint64_t type;
  PonderStatus status = read_string (c, GGUF_MAX_KEY_BYTES, "key", &key);

  if (status == PONDER_OK && key.len == 0)
    status = ponder_error_set (c->error, PONDER_ERROR_FORMAT, "the key is empty");
  if (status == PONDER_OK)
    status = copy_name (key, "the key", c->error, (char **) &kv->key);
  if (status != PONDER_OK)
    {
      ponder_error_prefix (c->error, "key/value %zu: ", index);
      return status;
    }
  file->n_kv = index + 1; /* kv->key is now owned by the file */

  status = read_uint (c, 4, "value type", &type);
  if (status == PONDER_OK)
    status = check_value_type (c, type, "value type");
  if (status == PONDER_OK)
    {
      kv->type = (PonderGgufType) type;
      if (kv->type == PONDER_GGUF_ARRAY)
        status = read_array (c, kv);
      else
        status = read_scalar (c, kv->type, kv);
    }
  if (status != PONDER_OK)
    ponder_error_prefix (c->error, "key '%.200s': ", kv->key);
  return status;
}

/* Element count, type and byte size of a tensor whose shape and raw type id
 * were read, with every overflow and block-size check of engine-spec 1.5. */
static PonderStatus
size_tensor (Cursor           *c,
             PonderGgufTensor *t)
{
  int32_t type_id = (int32_t) t->type;
  uint64_t row_bytes;
  const PonderTypeInfo *info;

  /* nelements must stay below INT64_MAX, as in llama.cpp */
  t->n_elements = 1;
  for (unsigned d = 0; d < PONDER_GGUF_MAX_DIMS; d++)
    {
      if (t->ne[d] != 0 && t->n_elements > (uint64_t) (INT64_MAX - 1) / t->ne[d])
        return ponder_error_set (c->error, PONDER_ERROR_FORMAT,
                                 "shape [%" PRIu64 ", %" PRIu64 ", %" PRIu64 ", %" PRIu64
                                 "] has too many elements (overflow)",
                                 t->ne[0], t->ne[1], t->ne[2], t->ne[3]);
      t->n_elements *= t->ne[d];
    }

  info = ponder_type_info (t->type);
  if (info == NULL)
    {
      /* ids below 40 that are not in the table are formats ggml removed;
       * higher ones are newer than this reader */
      return ponder_error_set (c->error,
                               type_id >= 40 ? PONDER_ERROR_UNSUPPORTED : PONDER_ERROR_FORMAT,
                               "unsupported tensor type id %" PRId32 " (%s)", type_id,
                               type_id < 0 ? "negative"
                               : type_id < 40 ? "a removed ggml format"
                               : "newer than this version of Ponder");
    }
  if (t->ne[0] % info->block_size != 0)
    return ponder_error_set (c->error, PONDER_ERROR_FORMAT,
                             "row length %" PRIu64 " is not a multiple of %s's block "
                             "size %u", t->ne[0], info->name, info->block_size);
  if (!ponder_type_row_bytes (t->type, t->ne[0], &row_bytes))
    return ponder_error_set (c->error, PONDER_ERROR_FORMAT,
                             "row of %" PRIu64 " %s elements has no valid byte size",
                             t->ne[0], info->name);
  t->n_bytes = row_bytes;
  for (unsigned d = 1; d < PONDER_GGUF_MAX_DIMS; d++)
    {
      if (t->ne[d] != 0 && t->n_bytes > UINT64_MAX / t->ne[d])
        return ponder_error_set (c->error, PONDER_ERROR_FORMAT,
                                 "byte size of the shape overflows 64 bits");
      t->n_bytes *= t->ne[d];
    }
  return PONDER_OK;
}

/* Reads one tensor info; *offset gets the data offset it claims. */
static PonderStatus
read_tensor_info (Cursor           *c,
                  PonderGgufTensor *t,
                  uint64_t         *offset)
{
  PonderGgufString name;
  uint64_t n_dims = 0;
  uint64_t raw_type = 0;
  PonderStatus status = read_string (c, UINT64_MAX, "tensor name", &name);

  if (status == PONDER_OK && (name.len == 0 || name.len > GGUF_MAX_NAME_BYTES))
    status = ponder_error_set (c->error, PONDER_ERROR_FORMAT,
                               "tensor name of %" PRIu64 " bytes (must be 1..%u)",
                               name.len, GGUF_MAX_NAME_BYTES);
  if (status == PONDER_OK)
    status = copy_name (name, "the tensor name", c->error, (char **) &t->name);
  if (status != PONDER_OK)
    return status;

  status = read_uint (c, 4, "dimension count", &n_dims);
  if (status == PONDER_OK && (n_dims < 1 || n_dims > PONDER_GGUF_MAX_DIMS))
    status = ponder_error_set (c->error, PONDER_ERROR_FORMAT,
                               "%" PRIu64 " dimensions (must be 1..%d)",
                               n_dims, PONDER_GGUF_MAX_DIMS);
  t->n_dims = (uint32_t) n_dims;
  for (unsigned d = 0; d < PONDER_GGUF_MAX_DIMS; d++)
    t->ne[d] = 1;
  for (unsigned d = 0; d < n_dims && status == PONDER_OK; d++)
    {
      status = read_uint (c, 8, "dimension", &t->ne[d]);
      if (status == PONDER_OK && t->ne[d] > INT64_MAX)
        status = ponder_error_set (c->error, PONDER_ERROR_FORMAT,
                                   "dimension %u is negative (%" PRId64 ")",
                                   d, (int64_t) t->ne[d]);
    }
  if (status == PONDER_OK)
    status = read_uint (c, 4, "type", &raw_type);
  if (status == PONDER_OK)
    status = read_uint (c, 8, "data offset", offset);
  if (status != PONDER_OK)
    return status;
  t->type = (uint32_t) raw_type;
  return size_tensor (c, t);
}

static PonderStatus
read_header (Cursor         *c,
             PonderGgufFile *file,
             uint64_t       *n_tensors,
             uint64_t       *n_kv)
{
  uint64_t magic;
  uint64_t version;
  PonderStatus status = read_uint (c, 4, "magic", &magic);

  if (status != PONDER_OK)
    return status;
  if (magic != GGUF_MAGIC)
    return ponder_error_set (c->error, PONDER_ERROR_FORMAT,
                             "not a GGUF file (magic bytes %02x %02x %02x %02x, "
                             "expected 47 47 55 46 \"GGUF\")",
                             c->data[0], c->data[1], c->data[2], c->data[3]);
  status = read_uint (c, 4, "version", &version);
  if (status != PONDER_OK)
    return status;
  /* a byte-swapped writer turns 3 into 0x03000000: low 16 bits zero */
  if (version != 0 && (version & 0xffff) == 0)
    return ponder_error_set (c->error, PONDER_ERROR_UNSUPPORTED,
                             "big-endian (byte-swapped) GGUF file (version word "
                             "0x%08" PRIx64 "); only little-endian files are supported",
                             version);
  if (version == 1)
    return ponder_error_set (c->error, PONDER_ERROR_UNSUPPORTED,
                             "GGUF version 1 is obsolete; convert the model again "
                             "(versions 2 and 3 are supported)");
  if (version < 2 || version > 3)
    return ponder_error_set (c->error, PONDER_ERROR_UNSUPPORTED,
                             "unsupported GGUF version %" PRIu64
                             " (versions 2 and 3 are supported)", version);
  file->version = (uint32_t) version;

  status = read_uint (c, 8, "tensor count", n_tensors);
  if (status == PONDER_OK)
    status = read_uint (c, 8, "key/value count", n_kv);
  if (status != PONDER_OK)
    return status;
  if (*n_tensors > INT64_MAX || *n_kv > INT64_MAX)
    return ponder_error_set (c->error, PONDER_ERROR_FORMAT,
                             "negative tensor or key/value count (%" PRId64 ", %" PRId64 ")",
                             (int64_t) *n_tensors, (int64_t) *n_kv);
  if (*n_kv > (c->size - c->pos) / GGUF_MIN_KV_BYTES
      || *n_tensors > (c->size - c->pos) / GGUF_MIN_TENSOR_BYTES
      || *n_kv > UINT32_MAX - 1 || *n_tensors > UINT32_MAX - 1)
    return ponder_error_set (c->error, PONDER_ERROR_FORMAT,
                             "%" PRIu64 " key/values and %" PRIu64 " tensors cannot fit "
                             "in the %" PRIu64 " bytes after the header",
                             *n_kv, *n_tensors, c->size - c->pos);
  return PONDER_OK;
}

static PonderStatus
read_alignment (PonderGgufFile *file,
                PonderError    *error)
{
  const PonderGgufKv *kv = ponder_gguf_find_kv (file, "general.alignment");

  file->alignment = GGUF_DEFAULT_ALIGNMENT;
  if (kv == NULL)
    return PONDER_OK;
  if (kv->type != PONDER_GGUF_UINT32)
    return ponder_error_set (error, PONDER_ERROR_FORMAT,
                             "key 'general.alignment' has type %s, expected UINT32",
                             ponder_gguf_value_type_names[kv->type]);
  if (kv->value.u64 == 0 || (kv->value.u64 & (kv->value.u64 - 1)) != 0)
    return ponder_error_set (error, PONDER_ERROR_FORMAT,
                             "general.alignment is %" PRIu64 ", not a power of two",
                             kv->value.u64);
  file->alignment = (uint32_t) kv->value.u64;
  return PONDER_OK;
}

/* Checks that the data offsets are packed in order and aligned
 * (engine-spec 1.6) and that every tensor's bytes lie inside the file. */
static PonderStatus
place_tensors (PonderGgufFile *file,
               const uint64_t *offsets,
               uint64_t        tensor_infos_end,
               PonderError    *error)
{
  uint64_t align = file->alignment;
  uint64_t expected = 0;

  if (file->n_tensors == 0)
    {
      file->data_start = file->size;
      return PONDER_OK;
    }
  /* tensor_infos_end <= size, so this cannot overflow */
  file->data_start = (tensor_infos_end + align - 1) / align * align;
  for (size_t i = 0; i < file->n_tensors; i++)
    {
      PonderGgufTensor *t = &file->tensors[i];
      uint64_t padded;

      if (offsets[i] != expected)
        return ponder_error_set (error, PONDER_ERROR_FORMAT,
                                 "tensor '%s' has offset %" PRIu64 ", expected %" PRIu64
                                 " (data must be packed in order with alignment %u)",
                                 t->name, offsets[i], expected, file->alignment);
      if (file->data_start > file->size
          || expected > file->size - file->data_start
          || t->n_bytes > file->size - file->data_start - expected)
        return ponder_error_set (error, PONDER_ERROR_FORMAT,
                                 "tensor '%s' data ends at byte %.0f but the file has "
                                 "%" PRIu64 " bytes (truncated or incomplete download?)",
                                 t->name,
                                 (double) file->data_start + (double) expected
                                 + (double) t->n_bytes, file->size);
      t->data = file->data + file->data_start + expected;
      /* both terms are below the file size, so the sum fits */
      padded = (t->n_bytes + align - 1) / align * align;
      expected += padded;
    }
  return PONDER_OK;
}

/* Makes room for entry index in *items (capacity *cap entries). The counts
 * in the header are only claims, so memory grows with the records actually
 * read rather than being taken up front. */
static bool
reserve (void   **items,
         size_t  *cap,
         size_t   index,
         size_t   item_size)
{
  size_t new_cap = *cap > 0 ? *cap : 64;
  void *grown;

  if (index < *cap)
    return true;
  while (new_cap <= index)
    new_cap *= 2;
  grown = realloc (*items, new_cap * item_size);
  if (grown == NULL)
    return false;
  memset ((char *) grown + *cap * item_size, 0, (new_cap - *cap) * item_size);
  *items = grown;
  *cap = new_cap;
  return true;
}

static PonderStatus
read_kvs (Cursor         *c,
          PonderGgufFile *file,
          uint64_t        n_kv)
{
  PonderStatus status = PONDER_OK;

  for (size_t i = 0; i < n_kv && status == PONDER_OK; i++)
    {
      if (!reserve ((void **) &file->kvs, &file->kvs_cap, i, sizeof *file->kvs))
        return ponder_error_set (c->error, PONDER_ERROR_NO_MEMORY,
                                 "out of memory for %zu key/values", i + 1);
      status = read_kv (c, file, i);
    }
  if (status == PONDER_OK)
    status = ponder_gguf_index_kvs (file, c->error);
  return status;
}

/* Reads the tensor infos; *offsets gets a malloc'd array of the offsets
 * they claim. */
static PonderStatus
read_tensor_infos (Cursor          *c,
                   PonderGgufFile  *file,
                   uint64_t         n_tensors,
                   uint64_t       **offsets)
{
  size_t offsets_cap = 0;
  PonderStatus status = PONDER_OK;

  for (size_t i = 0; i < n_tensors && status == PONDER_OK; i++)
    {
      PonderGgufTensor *t;

      if (!reserve ((void **) &file->tensors, &file->tensors_cap, i, sizeof *file->tensors)
          || !reserve ((void **) offsets, &offsets_cap, i, sizeof **offsets))
        return ponder_error_set (c->error, PONDER_ERROR_NO_MEMORY,
                                 "out of memory for %zu tensors", i + 1);
      t = &file->tensors[i];
      status = read_tensor_info (c, t, &(*offsets)[i]);
      if (t->name != NULL)
        file->n_tensors = i + 1; /* the name is now owned by the file */
      if (status != PONDER_OK && t->name != NULL)
        ponder_error_prefix (c->error, "tensor '%s': ", t->name);
      else if (status != PONDER_OK)
        ponder_error_prefix (c->error, "tensor info %zu: ", i);
    }
  return status;
}

static PonderStatus
parse_body (Cursor         *c,
            PonderGgufFile *file)
{
  uint64_t n_tensors = 0;
  uint64_t n_kv = 0;
  uint64_t *offsets = NULL;
  PonderStatus status = read_header (c, file, &n_tensors, &n_kv);

  if (status == PONDER_OK)
    status = read_kvs (c, file, n_kv);
  if (status == PONDER_OK)
    status = read_alignment (file, c->error);
  if (status == PONDER_OK)
    status = read_tensor_infos (c, file, n_tensors, &offsets);
  if (status == PONDER_OK)
    status = ponder_gguf_index_tensors (file, c->error);
  if (status == PONDER_OK)
    status = place_tensors (file, offsets, c->pos, c->error);
  free (offsets);
  return status;
}

PonderStatus
ponder_gguf_parse (const uint8_t   *data,
                   size_t           size,
                   const char      *display_name,
                   PonderGgufFile **out_file,
                   PonderError     *error)
{
  PonderGgufFile *file;
  Cursor c = { .data = data, .size = size, .pos = 0, .error = error };
  PonderStatus status;

  if (out_file == NULL || (data == NULL && size > 0))
    return ponder_error_set (error, PONDER_ERROR_INVALID_ARGUMENT,
                             "ponder_gguf_parse: no buffer or no result pointer");
  *out_file = NULL;
  if (display_name == NULL)
    display_name = "(buffer)";
  file = calloc (1, sizeof *file);
  if (file != NULL)
    file->name = strdup (display_name);
  if (file == NULL || file->name == NULL)
    {
      free (file);
      return ponder_error_set (error, PONDER_ERROR_NO_MEMORY, "%s: out of memory",
                               display_name);
    }
  file->data = data;
  file->size = size;
  file->total_bytes = size;
  file->n_parts = 1;
  status = parse_body (&c, file);
  if (status != PONDER_OK)
    {
      ponder_error_prefix (error, "%s: ", display_name);
      ponder_gguf_close (file);
      return status;
    }
  *out_file = file;
  return PONDER_OK;
}
