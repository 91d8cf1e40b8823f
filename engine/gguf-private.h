/* gguf-private.h: the layout of PonderGgufFile, shared by gguf.c (parsing,
 * look-ups) and gguf-open.c (mapping files, split models).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "gguf.h"

/* Where files are mapped and huge-page copies placed: on a 2 MiB grid,
 * the size of an x86-64 transparent huge page, so moving a copy onto a
 * mapping keeps its huge pages whole. */
#define PONDER_GGUF_MAP_ALIGN ((size_t) 2 << 20)

struct PonderGgufFile
{
  char              *name;            /* path or display name, for messages */
  const uint8_t     *data;            /* the whole file (data[0..size)) */
  uint64_t           size;
  void              *mapping;         /* our own mmap, or NULL for a caller buffer */
  size_t             mapping_size;
  bool               in_memory;       /* mapping moved into anonymous memory */

  uint32_t           version;
  uint32_t           alignment;
  uint64_t           data_start;      /* file offset of the tensor data section */

  PonderGgufKv      *kvs;             /* (n_kv) */
  size_t             n_kv;
  size_t             kvs_cap;         /* allocated entries of kvs */
  uint32_t          *kv_slots;        /* (kv_slots_cap) open-addressing index+1, 0 = empty */
  size_t             kv_slots_cap;

  PonderGgufTensor  *tensors;         /* (n_tensors) merged over all parts */
  size_t             tensors_cap;
  size_t             n_tensors;
  uint32_t          *tensor_slots;    /* (tensor_slots_cap) */
  size_t             tensor_slots_cap;

  PonderGgufFile   **parts;           /* (n_parts) parts[0] is this file; NULL if not split */
  uint32_t           n_parts;
  uint64_t           total_bytes;     /* all parts */
};

/* Builds the name index over file->tensors; fails naming the first name
 * that occurs twice (which_part says where each copy lives). */
PonderStatus ponder_gguf_index_tensors (PonderGgufFile *file,
                                        PonderError    *error);

#define PONDER_GGUF_N_VALUE_TYPES 13u

/* Names ("UINT32") and byte sizes of the value types; size 0 for STRING and
 * ARRAY, whose size depends on the data. */
extern const char *const ponder_gguf_value_type_names[PONDER_GGUF_N_VALUE_TYPES];
extern const uint8_t     ponder_gguf_value_type_sizes[PONDER_GGUF_N_VALUE_TYPES];

/* Builds the key index over file->kvs; fails naming a key that occurs
 * twice. */
PonderStatus ponder_gguf_index_kvs     (PonderGgufFile *file,
                                        PonderError    *error);

/* An n_bytes (<= 8) little-endian unsigned integer at p. */
static inline uint64_t
ponder_gguf_load_le (const uint8_t *p,
                     unsigned       n_bytes)
{
  uint64_t v = 0;

  for (unsigned i = 0; i < n_bytes; i++)
    v |= (uint64_t) p[i] << (8 * i);
  return v;
}
