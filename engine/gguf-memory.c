/* gguf-memory.c: moving a mapped model file into huge-page memory.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Decoding on the CPU reads every weight once a token. Mapped from the file,
 * the weights sit in the page cache in 4 KiB pages: a TLB miss every 4 KiB,
 * and the hardware prefetchers stop at every page boundary. Copied into
 * anonymous memory with transparent huge pages, the same reads come in
 * 2 MiB pages: on the 2-core VM, two threads read 1 GiB at 33 GB/s instead
 * of 25.5 (tests/bench/bandwidth with and without huge pages). The copy is
 * moved onto the mapping's own address range (mremap), so every pointer
 * into the file stays valid and nothing else has to know.
 */
#define _GNU_SOURCE

#include "gguf-private.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "error.h"

#define COPY_CHUNK_BYTES ((size_t) 32 << 20)
/* Left free after the copy, for the KV cache, scratch and everything else. */
#define KEEP_FREE_BYTES ((uint64_t) 1 << 30)

static bool
huge_pages_enabled (void)
{
  char mode[128] = "";
  FILE *f = fopen ("/sys/kernel/mm/transparent_hugepage/enabled", "r");

  if (f == NULL)
    return false;
  if (fgets (mode, sizeof mode, f) == NULL)
    mode[0] = '\0';
  fclose (f);
  return strstr (mode, "[always]") != NULL || strstr (mode, "[madvise]") != NULL;
}

/* MemAvailable of /proc/meminfo in bytes: free memory plus what the kernel
 * can reclaim, such as the page cache holding the file itself. 0 if
 * unknown. */
static uint64_t
memory_available (void)
{
  char line[256];
  unsigned long long kib = 0;
  FILE *f = fopen ("/proc/meminfo", "r");

  if (f == NULL)
    return 0;
  while (fgets (line, sizeof line, f) != NULL)
    if (sscanf (line, "MemAvailable: %llu kB", &kib) == 1)
      break;
  fclose (f);
  return (uint64_t) kib * 1024;
}

static size_t
round_up (size_t n,
          size_t multiple)
{
  return (n + multiple - 1) / multiple * multiple;
}

/* Copies one part's mapping into fresh huge-page memory and moves that
 * memory onto the mapping's addresses. *moved stays false when the system
 * refuses a step; the file mapping is then left as it was. */
static PonderStatus
move_part (PonderGgufFile             *part,
           PonderGgufMoveProgressFunc  progress,
           void                       *progress_data,
           uint64_t                   *done,
           uint64_t                    total,
           bool                       *moved,
           PonderError                *error)
{
  size_t page = (size_t) sysconf (_SC_PAGESIZE);
  size_t length = round_up (part->mapping_size, page);
  size_t reserved = length + PONDER_GGUF_MAP_ALIGN;
  uint8_t *reserve, *copy;

  *moved = false;
  reserve = mmap (NULL, reserved, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (reserve == MAP_FAILED)
    return PONDER_OK;
  copy = (uint8_t *) round_up ((uintptr_t) reserve, PONDER_GGUF_MAP_ALIGN);
  /* Only advice: without it (THP in "madvise" mode) the copy gets 4 KiB
   * pages and merely costs the time of the copy. */
  madvise (copy, length, MADV_HUGEPAGE);
  madvise (part->mapping, length, MADV_SEQUENTIAL);
  for (size_t off = 0; off < part->mapping_size; off += COPY_CHUNK_BYTES)
    {
      size_t n = part->mapping_size - off < COPY_CHUNK_BYTES ? part->mapping_size - off
                                                               : COPY_CHUNK_BYTES;

      memcpy (copy + off, (const uint8_t *) part->mapping + off, n);
      /* Unmaps the pages just copied (the page cache keeps them, free to
       * reclaim), so the process never holds the model twice. */
      madvise ((uint8_t *) part->mapping + off, round_up (n, page), MADV_DONTNEED);
      *done += n;
      if (progress != NULL && !progress (*done, total, progress_data))
        {
          munmap (reserve, reserved);
          return ponder_error_set (error, PONDER_ERROR_CANCELLED, "loading was cancelled");
        }
    }
  if (mremap (copy, length, length, MREMAP_MAYMOVE | MREMAP_FIXED, part->mapping)
      == MAP_FAILED)
    {
      munmap (reserve, reserved);
      return PONDER_OK;
    }
  /* The slack around the copy, on either side of the moved range. */
  if (copy > reserve)
    munmap (reserve, (size_t) (copy - reserve));
  if (copy + length < reserve + reserved)
    munmap (copy + length, (size_t) (reserve + reserved - (copy + length)));
  /* Read-only as the file mapping was, so a stray write still faults. */
  mprotect (part->mapping, length, PROT_READ);
  part->in_memory = true;
  *moved = true;
  return PONDER_OK;
}

bool
ponder_gguf_set_writable (PonderGgufFile *file,
                          bool            writable)
{
  PonderGgufFile *single[1] = { file };
  PonderGgufFile **parts = file->parts != NULL ? file->parts : single;
  uint32_t n_parts = file->parts != NULL ? file->n_parts : 1;
  size_t page = (size_t) sysconf (_SC_PAGESIZE);
  bool ok = true;

  for (uint32_t p = 0; p < n_parts; p++)
    {
      /* whole mappings only: a part of one would split its huge pages */
      if (!parts[p]->in_memory
          || mprotect (parts[p]->mapping, round_up (parts[p]->mapping_size, page),
                       writable ? PROT_READ | PROT_WRITE : PROT_READ) != 0)
        ok = false;
    }
  return ok;
}

PonderStatus
ponder_gguf_move_to_memory (PonderGgufFile             *file,
                            PonderGgufMoveProgressFunc  progress,
                            void                       *progress_data,
                            bool                       *out_moved,
                            PonderError                *error)
{
  PonderGgufFile *single[1] = { file };
  PonderGgufFile **parts = file->parts != NULL ? file->parts : single;
  uint32_t n_parts = file->parts != NULL ? file->n_parts : 1;
  uint64_t total = 0, done = 0;
  bool all = true;

  *out_moved = false;
  for (uint32_t p = 0; p < n_parts; p++)
    {
      if (parts[p]->mapping == NULL)
        return PONDER_OK;  /* a caller's buffer, or an empty file */
      total += parts[p]->mapping_size;
    }
  if (!huge_pages_enabled () || memory_available () < total + KEEP_FREE_BYTES)
    return PONDER_OK;
  for (uint32_t p = 0; p < n_parts; p++)
    {
      bool moved;
      PonderStatus status = move_part (parts[p], progress, progress_data, &done, total,
                                       &moved, error);

      if (status != PONDER_OK)
        return status;
      all = all && moved;
    }
  *out_moved = all;
  return PONDER_OK;
}
