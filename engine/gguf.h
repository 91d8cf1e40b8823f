/* gguf.h: a strict GGUF v2/v3 reader over mmap, with split files.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Every count, length and offset read from a file is checked before use; a
 * bad file gives PONDER_ERROR_FORMAT with a message that names the file and
 * what is wrong. All pointers handed out point into the mapping or into the
 * PonderGgufFile and stay valid until ponder_gguf_close().
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ponder-engine.h"

typedef enum
{
  PONDER_GGUF_UINT8   = 0,
  PONDER_GGUF_INT8    = 1,
  PONDER_GGUF_UINT16  = 2,
  PONDER_GGUF_INT16   = 3,
  PONDER_GGUF_UINT32  = 4,
  PONDER_GGUF_INT32   = 5,
  PONDER_GGUF_FLOAT32 = 6,
  PONDER_GGUF_BOOL    = 7,
  PONDER_GGUF_STRING  = 8,
  PONDER_GGUF_ARRAY   = 9,
  PONDER_GGUF_UINT64  = 10,
  PONDER_GGUF_INT64   = 11,
  PONDER_GGUF_FLOAT64 = 12,
} PonderGgufType;

/* A string inside the mapping: not NUL-terminated. */
typedef struct
{
  const char *data;
  uint64_t    len;
} PonderGgufString;

typedef struct
{
  const char             *key;          /* NUL-terminated copy */
  PonderGgufType          type;
  /* scalars (type != ARRAY) */
  union
  {
    uint64_t         u64;   /* any unsigned integer type, and bool */
    int64_t          i64;   /* any signed integer type */
    double           f64;   /* FLOAT32 and FLOAT64 */
    PonderGgufString str;
  } value;
  /* arrays (type == ARRAY) */
  PonderGgufType          array_type;
  uint64_t                array_len;
  const uint8_t          *array_data;    /* raw little-endian elements (numeric arrays) */
  const PonderGgufString *array_strings; /* decoded elements (string arrays) */
} PonderGgufKv;

#define PONDER_GGUF_MAX_DIMS 4

typedef struct
{
  const char    *name;                     /* NUL-terminated copy */
  uint32_t       type;                     /* a PonderType (quant.h) */
  uint32_t       n_dims;
  uint64_t       ne[PONDER_GGUF_MAX_DIMS]; /* ne[0] is the row length; unused dims are 1 */
  uint64_t       n_elements;
  uint64_t       n_bytes;
  const uint8_t *data;                     /* into the mapping of its part */
  uint32_t       split_index;              /* which part of a split model holds it */
} PonderGgufTensor;

typedef struct PonderGgufFile PonderGgufFile;

/* Opens and maps a file. If it is one part of a split model
 * (NAME-0000N-of-0000M.gguf, or split.count metadata), every part is opened
 * and the tensors of all parts are merged; the key/values are the first
 * part's. */
PonderStatus            ponder_gguf_open         (const char      *path,
                                                  PonderGgufFile **out_file,
                                                  PonderError     *error);

/* Parses a buffer the caller owns and keeps alive until close (fuzzing,
 * tests). display_name is used in error messages. */
PonderStatus            ponder_gguf_parse        (const uint8_t   *data,
                                                  size_t           size,
                                                  const char      *display_name,
                                                  PonderGgufFile **out_file,
                                                  PonderError     *error);

void                    ponder_gguf_close        (PonderGgufFile  *file);

/* Called with the bytes copied so far; returning false cancels. */
typedef bool (*PonderGgufMoveProgressFunc) (uint64_t done,
                                            uint64_t total,
                                            void    *data);

/* Copies an opened file (every part) from its file mapping into anonymous
 * memory backed by transparent huge pages, at the same addresses, so the
 * CPU streams weights through 2 MiB pages instead of 4 KiB ones. Sets
 * *out_moved when it did; it does not when huge pages are disabled, when
 * the copy would leave under 1 GiB of memory available, or when the system
 * refuses, and the file stays mapped as before. Fails only when progress
 * cancels. */
PonderStatus            ponder_gguf_move_to_memory (PonderGgufFile             *file,
                                                    PonderGgufMoveProgressFunc  progress,
                                                    void                       *progress_data,
                                                    bool                       *out_moved,
                                                    PonderError                *error);

/* After ponder_gguf_move_to_memory moved every part: makes the memory
 * writable, for rearranging weights in place, or read-only again. False
 * when a part is still a file mapping or the system refuses. */
bool                    ponder_gguf_set_writable (PonderGgufFile *file,
                                                  bool            writable);

uint32_t                ponder_gguf_version      (const PonderGgufFile *file);
const char             *ponder_gguf_path         (const PonderGgufFile *file); /* first part */
uint64_t                ponder_gguf_total_bytes  (const PonderGgufFile *file); /* all parts */
uint32_t                ponder_gguf_n_splits     (const PonderGgufFile *file);

size_t                  ponder_gguf_n_kv         (const PonderGgufFile *file);
const PonderGgufKv     *ponder_gguf_kv           (const PonderGgufFile *file, size_t index);
const PonderGgufKv     *ponder_gguf_find_kv      (const PonderGgufFile *file, const char *key);

size_t                  ponder_gguf_n_tensors    (const PonderGgufFile *file);
const PonderGgufTensor *ponder_gguf_tensor       (const PonderGgufFile *file, size_t index);
const PonderGgufTensor *ponder_gguf_find_tensor  (const PonderGgufFile *file, const char *name);

/* Typed look-ups. Each returns false when the key is absent or has a type
 * that cannot represent the request (a negative value for get_uint, a
 * non-number for get_float); integer types convert among themselves. */
bool ponder_gguf_get_uint   (const PonderGgufFile *file, const char *key, uint64_t *out);
bool ponder_gguf_get_int    (const PonderGgufFile *file, const char *key, int64_t *out);
bool ponder_gguf_get_float  (const PonderGgufFile *file, const char *key, double *out);
bool ponder_gguf_get_bool   (const PonderGgufFile *file, const char *key, bool *out);
bool ponder_gguf_get_string (const PonderGgufFile *file, const char *key, PonderGgufString *out);

/* Element i of a numeric array kv converted to int64 / double; false when out
 * of range or not numeric. */
bool ponder_gguf_array_int   (const PonderGgufKv *kv, uint64_t index, int64_t *out);
bool ponder_gguf_array_float (const PonderGgufKv *kv, uint64_t index, double *out);

/* Compares a PonderGgufString with a C string. */
bool ponder_gguf_string_equals (PonderGgufString str, const char *text);
