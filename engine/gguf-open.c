/* gguf-open.c: mapping GGUF files and joining the parts of split models.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Split models (engine-spec 1.8) are written by llama-gguf-split as
 * PREFIX-00001-of-0000N.gguf ... each a complete GGUF file with split.no
 * (0-based), split.count and, in the first, split.tensors.count. Opening any
 * part opens all of them; the key/values are the first part's and the
 * tensor list is the concatenation of all parts' lists.
 */
#include "gguf-private.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"

/* llama.cpp's split file names use at most five digits. */
#define GGUF_MAX_SPLITS 99999u

/* Maps fd at an address on PONDER_GGUF_MAP_ALIGN's grid, so that a later
 * ponder_gguf_move_to_memory can put huge pages there: moved to an address
 * off that grid, they would be split into 4 KiB ones. */
static void *
map_aligned (int    fd,
             size_t size)
{
  const size_t align = PONDER_GGUF_MAP_ALIGN;
  size_t page = (size_t) sysconf (_SC_PAGESIZE);
  size_t length = (size + page - 1) / page * page;
  uint8_t *reserve, *start;

  reserve = mmap (NULL, length + align, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                  -1, 0);
  if (reserve == MAP_FAILED)
    return mmap (NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
  start = (uint8_t *) (((uintptr_t) reserve + align - 1) & ~(uintptr_t) (align - 1));
  if (mmap (start, size, PROT_READ, MAP_PRIVATE | MAP_FIXED, fd, 0) == MAP_FAILED)
    {
      munmap (reserve, length + align);
      return MAP_FAILED;
    }
  if (start > reserve)
    munmap (reserve, (size_t) (start - reserve));
  munmap (start + length, (size_t) (reserve + length + align - (start + length)));
  return start;
}

static PonderStatus
map_file (const char      *path,
          PonderGgufFile **out_file,
          PonderError     *error)
{
  struct stat st;
  void *mapping = NULL;
  PonderStatus status;
  int fd = open (path, O_RDONLY | O_CLOEXEC);

  if (fd < 0)
    return ponder_error_set (error, PONDER_ERROR_IO, "%s: cannot open: %s",
                             path, strerror (errno));
  if (fstat (fd, &st) != 0)
    {
      status = ponder_error_set (error, PONDER_ERROR_IO, "%s: cannot stat: %s",
                                 path, strerror (errno));
      close (fd);
      return status;
    }
  if (!S_ISREG (st.st_mode))
    {
      close (fd);
      return ponder_error_set (error, PONDER_ERROR_IO, "%s: not a regular file", path);
    }
  if ((uint64_t) st.st_size > SIZE_MAX)
    {
      close (fd);
      return ponder_error_set (error, PONDER_ERROR_NO_MEMORY,
                               "%s: %" PRIu64 " bytes do not fit in the address space",
                               path, (uint64_t) st.st_size);
    }
  /* an empty file cannot be mapped; the parser reports it as truncated */
  if (st.st_size > 0)
    {
      mapping = map_aligned (fd, (size_t) st.st_size);
      if (mapping == MAP_FAILED)
        {
          status = ponder_error_set (error, PONDER_ERROR_IO, "%s: cannot map: %s",
                                     path, strerror (errno));
          close (fd);
          return status;
        }
    }
  /* the mapping keeps the file alive; the descriptor is not needed */
  close (fd);
  status = ponder_gguf_parse (mapping, (size_t) st.st_size, path, out_file, error);
  if (status != PONDER_OK)
    {
      if (mapping != NULL)
        munmap (mapping, (size_t) st.st_size);
      return status;
    }
  (*out_file)->mapping = mapping;
  (*out_file)->mapping_size = (size_t) st.st_size;
  return PONDER_OK;
}

/* Reads an integer split.* key of any integer type; -1 when absent. */
static PonderStatus
split_key (const PonderGgufFile *file,
           const char           *key,
           int64_t              *out,
           PonderError          *error)
{
  uint64_t v;

  *out = -1;
  if (ponder_gguf_find_kv (file, key) == NULL)
    return PONDER_OK;
  if (!ponder_gguf_get_uint (file, key, &v) || v > INT64_MAX)
    return ponder_error_set (error, PONDER_ERROR_FORMAT,
                             "%s: key '%s' is not a valid count", file->name, key);
  *out = (int64_t) v;
  return PONDER_OK;
}

/* Finds the "-0000N-of-0000M.gguf" suffix of path; returns the prefix length
 * and N and M, or false if path does not end like that. */
static bool
parse_split_name (const char *path,
                  size_t     *prefix_len,
                  unsigned   *number,
                  unsigned   *count)
{
  static const char tail[] = "-00000-of-00000.gguf";
  size_t len = strlen (path);
  const char *s;

  if (len < sizeof tail - 1)
    return false;
  s = path + len - (sizeof tail - 1);
  for (size_t i = 0; i < sizeof tail - 1; i++)
    {
      bool want_digit = tail[i] == '0';
      bool is_digit = s[i] >= '0' && s[i] <= '9';

      if (want_digit != is_digit || (!want_digit && s[i] != tail[i]))
        return false;
    }
  *prefix_len = len - (sizeof tail - 1);
  *number = (unsigned) strtoul (s + 1, NULL, 10);
  *count = (unsigned) strtoul (s + 10, NULL, 10);
  return true;
}

static char *
split_path (const char *path,
            size_t      prefix_len,
            unsigned    index,
            unsigned    count)
{
  size_t size = prefix_len + 32;
  char *out = malloc (size);

  if (out != NULL)
    snprintf (out, size, "%.*s-%05u-of-%05u.gguf", (int) prefix_len, path, index + 1, count);
  return out;
}

/* Checks that part (opened as position index) agrees with the first part. */
static PonderStatus
check_part (const PonderGgufFile *part,
            unsigned              index,
            unsigned              count,
            PonderError          *error)
{
  int64_t no;
  int64_t part_count;
  PonderStatus status = split_key (part, "split.no", &no, error);

  if (status == PONDER_OK)
    status = split_key (part, "split.count", &part_count, error);
  if (status != PONDER_OK)
    return status;
  if (part_count != (int64_t) count)
    return ponder_error_set (error, PONDER_ERROR_FORMAT,
                             "%s: split.count is %" PRId64 " but the first part says %u",
                             part->name, part_count, count);
  if (no != (int64_t) index)
    return ponder_error_set (error, PONDER_ERROR_FORMAT,
                             "%s: split.no is %" PRId64 ", expected %u for part %u of %u",
                             part->name, no, index, index + 1, count);
  return PONDER_OK;
}

/* Appends the tensors of parts[1..] to parts[0]'s list, moving ownership of
 * their names, then checks names and the announced total. */
static PonderStatus
merge_parts (PonderGgufFile *root,
             PonderError    *error)
{
  size_t total = 0;
  int64_t announced;
  PonderGgufTensor *merged;
  PonderStatus status;

  for (uint32_t p = 0; p < root->n_parts; p++)
    total += root->parts[p]->n_tensors;
  merged = calloc (total > 0 ? total : 1, sizeof *merged);
  if (merged == NULL)
    return ponder_error_set (error, PONDER_ERROR_NO_MEMORY,
                             "%s: out of memory for %zu tensors", root->name, total);
  total = 0;
  for (uint32_t p = 0; p < root->n_parts; p++)
    {
      PonderGgufFile *part = root->parts[p];

      for (size_t t = 0; t < part->n_tensors; t++)
        {
          merged[total] = part->tensors[t];
          merged[total].split_index = p;
          total++;
        }
      if (p > 0)
        part->n_tensors = 0; /* the names now belong to root */
      root->total_bytes += p > 0 ? part->size : 0;
    }
  free (root->tensors);
  root->tensors = merged;
  root->n_tensors = total;
  status = ponder_gguf_index_tensors (root, error);
  if (status != PONDER_OK)
    {
      ponder_error_prefix (error, "%s: ", root->name);
      return status;
    }
  status = split_key (root, "split.tensors.count", &announced, error);
  if (status == PONDER_OK && announced >= 0 && (uint64_t) announced != total)
    status = ponder_error_set (error, PONDER_ERROR_FORMAT,
                               "%s: split.tensors.count is %" PRId64 " but the %u parts "
                               "hold %zu tensors", root->name, announced, root->n_parts,
                               total);
  return status;
}

/* Opens the other parts of the split model that `opened` belongs to and
 * returns the first part, holding them all. Takes ownership of opened. */
static PonderStatus
open_split (PonderGgufFile  *opened,
            unsigned         count,
            PonderGgufFile **out_root,
            PonderError     *error)
{
  PonderGgufFile **parts;
  size_t prefix_len;
  unsigned name_no;
  unsigned name_count;
  int64_t opened_no;
  PonderStatus status = split_key (opened, "split.no", &opened_no, error);

  if (status != PONDER_OK)
    {
      ponder_gguf_close (opened);
      return status;
    }
  if (opened_no < 0 || opened_no >= count)
    {
      if (opened_no < 0)
        status = ponder_error_set (error, PONDER_ERROR_FORMAT,
                                   "%s: split.count is %u but split.no is missing",
                                   opened->name, count);
      else
        status = ponder_error_set (error, PONDER_ERROR_FORMAT,
                                   "%s: split.no is %" PRId64 " but split.count is %u",
                                   opened->name, opened_no, count);
      ponder_gguf_close (opened);
      return status;
    }
  if (!parse_split_name (opened->name, &prefix_len, &name_no, &name_count)
      || name_count != count || name_no != (unsigned) opened_no + 1)
    {
      status = ponder_error_set (error, PONDER_ERROR_FORMAT,
                                 "%s: this is part %" PRId64 " (0-based) of a model split "
                                 "in %u, but its name does not end in -%05u-of-%05u.gguf, "
                                 "so the other parts cannot be found",
                                 opened->name, opened_no, count,
                                 (unsigned) (opened_no + 1), count);
      ponder_gguf_close (opened);
      return status;
    }
  parts = calloc (count, sizeof *parts);
  if (parts == NULL)
    {
      ponder_gguf_close (opened);
      return ponder_error_set (error, PONDER_ERROR_NO_MEMORY, "out of memory");
    }
  parts[opened_no] = opened;
  for (unsigned i = 0; i < count && status == PONDER_OK; i++)
    {
      char *path;

      if (parts[i] == NULL)
        {
          path = split_path (opened->name, prefix_len, i, count);
          if (path == NULL)
            status = ponder_error_set (error, PONDER_ERROR_NO_MEMORY, "out of memory");
          else
            status = map_file (path, &parts[i], error);
          if (status != PONDER_OK)
            ponder_error_prefix (error, "part %u of %u of a split model: ", i + 1, count);
          free (path);
        }
      if (status == PONDER_OK)
        status = check_part (parts[i], i, count, error);
    }
  if (status == PONDER_OK)
    {
      parts[0]->parts = parts;
      parts[0]->n_parts = count;
      status = merge_parts (parts[0], error);
      if (status != PONDER_OK)
        {
          ponder_gguf_close (parts[0]);
          return status;
        }
      *out_root = parts[0];
      return PONDER_OK;
    }
  for (unsigned i = 0; i < count; i++)
    ponder_gguf_close (parts[i]);
  free (parts);
  return status;
}

PonderStatus
ponder_gguf_open (const char      *path,
                  PonderGgufFile **out_file,
                  PonderError     *error)
{
  PonderGgufFile *file;
  int64_t count;
  PonderStatus status;

  if (path == NULL || out_file == NULL)
    return ponder_error_set (error, PONDER_ERROR_INVALID_ARGUMENT,
                             "ponder_gguf_open: no path or no result pointer");
  *out_file = NULL;
  status = map_file (path, &file, error);
  if (status != PONDER_OK)
    return status;
  status = split_key (file, "split.count", &count, error);
  if (status != PONDER_OK)
    {
      ponder_gguf_close (file);
      return status;
    }
  /* absent, 0 or 1 all mean a whole model (merged files keep count 0) */
  if (count <= 1)
    {
      *out_file = file;
      return PONDER_OK;
    }
  if (count > GGUF_MAX_SPLITS)
    {
      status = ponder_error_set (error, PONDER_ERROR_FORMAT,
                                 "%s: split.count %" PRId64 " is more than %u parts",
                                 path, count, GGUF_MAX_SPLITS);
      ponder_gguf_close (file);
      return status;
    }
  return open_split (file, (unsigned) count, out_file, error);
}

static void
free_single (PonderGgufFile *file)
{
  for (size_t i = 0; i < file->n_kv; i++)
    {
      free ((char *) file->kvs[i].key);
      free ((PonderGgufString *) file->kvs[i].array_strings);
    }
  for (size_t i = 0; i < file->n_tensors; i++)
    free ((char *) file->tensors[i].name);
  free (file->kvs);
  free (file->kv_slots);
  free (file->tensors);
  free (file->tensor_slots);
  if (file->mapping != NULL)
    munmap (file->mapping, file->mapping_size);
  free (file->name);
  free (file);
}

void
ponder_gguf_close (PonderGgufFile *file)
{
  if (file == NULL)
    return;
  if (file->parts != NULL)
    {
      for (uint32_t p = 1; p < file->n_parts; p++)
        free_single (file->parts[p]);
      free (file->parts);
    }
  free_single (file);
}
