/* gguf-lookup.c: the name indexes of a parsed GGUF file and typed look-ups.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "gguf-private.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

const char *const ponder_gguf_value_type_names[PONDER_GGUF_N_VALUE_TYPES] = {
  "UINT8", "INT8", "UINT16", "INT16", "UINT32", "INT32", "FLOAT32",
  "BOOL", "STRING", "ARRAY", "UINT64", "INT64", "FLOAT64",
};

const uint8_t ponder_gguf_value_type_sizes[PONDER_GGUF_N_VALUE_TYPES] = {
  1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8,
};

/* ---- name index ------------------------------------------------------ */

static uint64_t
hash_name (const char *s)
{
  uint64_t h = UINT64_C (14695981039346656037); /* FNV-1a */

  for (; *s != '\0'; s++)
    h = (h ^ (uint8_t) *s) * UINT64_C (1099511628211);
  return h;
}

static size_t
slots_for (size_t n)
{
  size_t cap = 16;

  while (cap < 2 * n)
    cap *= 2;
  return cap;
}

/* Finds name in slots (index+1 per slot); returns the slot where it is or
 * the empty slot where it would go. */
static size_t
slot_lookup (const uint32_t *slots,
             size_t          cap,
             const char     *name,
             const char   *(*name_of) (const void *items, uint32_t index),
             const void     *items)
{
  size_t mask = cap - 1;
  size_t i = (size_t) hash_name (name) & mask;

  while (slots[i] != 0 && strcmp (name_of (items, slots[i] - 1), name) != 0)
    i = (i + 1) & mask;
  return i;
}

static const char *
kv_name_of (const void *items,
            uint32_t    index)
{
  return ((const PonderGgufKv *) items)[index].key;
}

static const char *
tensor_name_of (const void *items,
                uint32_t    index)
{
  return ((const PonderGgufTensor *) items)[index].name;
}

PonderStatus
ponder_gguf_index_kvs (PonderGgufFile *file,
                       PonderError    *error)
{
  size_t cap = slots_for (file->n_kv);
  uint32_t *slots = calloc (cap, sizeof *slots);

  if (slots == NULL)
    return ponder_error_set (error, PONDER_ERROR_NO_MEMORY,
                             "out of memory indexing %zu keys", file->n_kv);
  free (file->kv_slots);
  file->kv_slots = slots;
  file->kv_slots_cap = cap;
  for (size_t k = 0; k < file->n_kv; k++)
    {
      size_t s = slot_lookup (slots, cap, file->kvs[k].key, kv_name_of, file->kvs);

      if (slots[s] != 0)
        return ponder_error_set (error, PONDER_ERROR_FORMAT,
                                 "key '%.200s' appears twice (key/values %u and %zu)",
                                 file->kvs[k].key, slots[s] - 1, k);
      slots[s] = (uint32_t) k + 1;
    }
  return PONDER_OK;
}

PonderStatus
ponder_gguf_index_tensors (PonderGgufFile *file,
                           PonderError    *error)
{
  size_t cap = slots_for (file->n_tensors);
  uint32_t *slots = calloc (cap, sizeof *slots);

  if (slots == NULL)
    return ponder_error_set (error, PONDER_ERROR_NO_MEMORY,
                             "out of memory indexing %zu tensors", file->n_tensors);
  free (file->tensor_slots);
  file->tensor_slots = slots;
  file->tensor_slots_cap = cap;
  for (size_t t = 0; t < file->n_tensors; t++)
    {
      const PonderGgufTensor *tensor = &file->tensors[t];
      size_t s = slot_lookup (slots, cap, tensor->name, tensor_name_of, file->tensors);

      if (slots[s] != 0)
        {
          const PonderGgufTensor *first = &file->tensors[slots[s] - 1];

          if (file->n_parts > 1)
            return ponder_error_set (error, PONDER_ERROR_FORMAT,
                                     "tensor '%s' appears twice, in parts %u and %u "
                                     "of the split model",
                                     tensor->name, first->split_index + 1,
                                     tensor->split_index + 1);
          return ponder_error_set (error, PONDER_ERROR_FORMAT,
                                   "tensor '%s' appears twice (tensor infos %u and %zu)",
                                   tensor->name, slots[s] - 1, t);
        }
      slots[s] = (uint32_t) t + 1;
    }
  return PONDER_OK;
}


/* ---- accessors ------------------------------------------------------- */

uint32_t
ponder_gguf_version (const PonderGgufFile *file)
{
  return file->version;
}

const char *
ponder_gguf_path (const PonderGgufFile *file)
{
  return file->name;
}

uint64_t
ponder_gguf_total_bytes (const PonderGgufFile *file)
{
  return file->total_bytes;
}

uint32_t
ponder_gguf_n_splits (const PonderGgufFile *file)
{
  return file->n_parts;
}

size_t
ponder_gguf_n_kv (const PonderGgufFile *file)
{
  return file->n_kv;
}

const PonderGgufKv *
ponder_gguf_kv (const PonderGgufFile *file,
                size_t                index)
{
  return index < file->n_kv ? &file->kvs[index] : NULL;
}

const PonderGgufKv *
ponder_gguf_find_kv (const PonderGgufFile *file,
                     const char           *key)
{
  size_t s;

  if (key == NULL || file->kv_slots == NULL)
    return NULL;
  s = slot_lookup (file->kv_slots, file->kv_slots_cap, key, kv_name_of, file->kvs);
  return file->kv_slots[s] != 0 ? &file->kvs[file->kv_slots[s] - 1] : NULL;
}

size_t
ponder_gguf_n_tensors (const PonderGgufFile *file)
{
  return file->n_tensors;
}

const PonderGgufTensor *
ponder_gguf_tensor (const PonderGgufFile *file,
                    size_t                index)
{
  return index < file->n_tensors ? &file->tensors[index] : NULL;
}

const PonderGgufTensor *
ponder_gguf_find_tensor (const PonderGgufFile *file,
                         const char           *name)
{
  size_t s;

  if (name == NULL || file->tensor_slots == NULL)
    return NULL;
  s = slot_lookup (file->tensor_slots, file->tensor_slots_cap, name, tensor_name_of,
                   file->tensors);
  return file->tensor_slots[s] != 0 ? &file->tensors[file->tensor_slots[s] - 1] : NULL;
}

static bool
is_unsigned_type (PonderGgufType type)
{
  return type == PONDER_GGUF_UINT8 || type == PONDER_GGUF_UINT16
         || type == PONDER_GGUF_UINT32 || type == PONDER_GGUF_UINT64;
}

static bool
is_signed_type (PonderGgufType type)
{
  return type == PONDER_GGUF_INT8 || type == PONDER_GGUF_INT16
         || type == PONDER_GGUF_INT32 || type == PONDER_GGUF_INT64;
}

bool
ponder_gguf_get_uint (const PonderGgufFile *file,
                      const char           *key,
                      uint64_t             *out)
{
  const PonderGgufKv *kv = ponder_gguf_find_kv (file, key);

  if (kv == NULL)
    return false;
  if (is_unsigned_type (kv->type))
    *out = kv->value.u64;
  else if (is_signed_type (kv->type) && kv->value.i64 >= 0)
    *out = (uint64_t) kv->value.i64;
  else
    return false;
  return true;
}

bool
ponder_gguf_get_int (const PonderGgufFile *file,
                     const char           *key,
                     int64_t              *out)
{
  const PonderGgufKv *kv = ponder_gguf_find_kv (file, key);

  if (kv == NULL)
    return false;
  if (is_signed_type (kv->type))
    *out = kv->value.i64;
  else if (is_unsigned_type (kv->type) && kv->value.u64 <= INT64_MAX)
    *out = (int64_t) kv->value.u64;
  else
    return false;
  return true;
}

bool
ponder_gguf_get_float (const PonderGgufFile *file,
                       const char           *key,
                       double               *out)
{
  const PonderGgufKv *kv = ponder_gguf_find_kv (file, key);

  if (kv == NULL)
    return false;
  if (kv->type == PONDER_GGUF_FLOAT32 || kv->type == PONDER_GGUF_FLOAT64)
    *out = kv->value.f64;
  else if (is_signed_type (kv->type))
    *out = (double) kv->value.i64;
  else if (is_unsigned_type (kv->type))
    *out = (double) kv->value.u64;
  else
    return false;
  return true;
}

bool
ponder_gguf_get_bool (const PonderGgufFile *file,
                      const char           *key,
                      bool                 *out)
{
  const PonderGgufKv *kv = ponder_gguf_find_kv (file, key);

  if (kv == NULL || kv->type != PONDER_GGUF_BOOL)
    return false;
  *out = kv->value.u64 != 0;
  return true;
}

bool
ponder_gguf_get_string (const PonderGgufFile *file,
                        const char           *key,
                        PonderGgufString     *out)
{
  const PonderGgufKv *kv = ponder_gguf_find_kv (file, key);

  if (kv == NULL || kv->type != PONDER_GGUF_STRING)
    return false;
  *out = kv->value.str;
  return true;
}

/* Loads element index of a numeric array as either an int or a double. */
static bool
array_element (const PonderGgufKv *kv,
               uint64_t            index,
               int64_t            *out_int,
               double             *out_float,
               bool               *out_is_float)
{
  unsigned size;
  uint64_t bits;
  float f32;

  if (kv == NULL || kv->type != PONDER_GGUF_ARRAY || index >= kv->array_len
      || kv->array_type == PONDER_GGUF_STRING || kv->array_type == PONDER_GGUF_ARRAY)
    return false;
  size = ponder_gguf_value_type_sizes[kv->array_type];
  bits = ponder_gguf_load_le (kv->array_data + index * size, size);
  *out_is_float = false;
  switch (kv->array_type)
    {
    case PONDER_GGUF_INT8:  *out_int = (int8_t) bits; break;
    case PONDER_GGUF_INT16: *out_int = (int16_t) bits; break;
    case PONDER_GGUF_INT32: *out_int = (int32_t) bits; break;
    case PONDER_GGUF_INT64: *out_int = (int64_t) bits; break;
    case PONDER_GGUF_UINT64:
      if (bits > INT64_MAX)
        {
          *out_float = (double) bits;
          *out_is_float = true;
          return true;
        }
      *out_int = (int64_t) bits;
      break;
    case PONDER_GGUF_FLOAT32:
      {
        uint32_t b32 = (uint32_t) bits;

        memcpy (&f32, &b32, sizeof f32);
        *out_float = f32;
        *out_is_float = true;
      }
      break;
    case PONDER_GGUF_FLOAT64:
      memcpy (out_float, &bits, sizeof *out_float);
      *out_is_float = true;
      break;
    default: /* UINT8, UINT16, UINT32, BOOL */
      *out_int = (int64_t) bits;
      break;
    }
  return true;
}

bool
ponder_gguf_array_int (const PonderGgufKv *kv,
                       uint64_t            index,
                       int64_t            *out)
{
  int64_t i;
  double f;
  bool is_float;

  if (!array_element (kv, index, &i, &f, &is_float) || is_float)
    return false;
  *out = i;
  return true;
}

bool
ponder_gguf_array_float (const PonderGgufKv *kv,
                         uint64_t            index,
                         double             *out)
{
  int64_t i;
  double f;
  bool is_float;

  if (!array_element (kv, index, &i, &f, &is_float))
    return false;
  *out = is_float ? f : (double) i;
  return true;
}

bool
ponder_gguf_string_equals (PonderGgufString  str,
                           const char       *text)
{
  size_t n = strlen (text);

  return str.len == n && (n == 0 || memcmp (str.data, text, n) == 0);
}
