/* moe-cpu.c: the CPU's deepseek2 ops: per-head products and the MoE FFN
 * (the fused latent attention is in mla-cpu.c).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A small MoE model spends its decode time in many small products, so the
 * routed experts of a layer run as three pool jobs whatever the number of
 * experts: (1) the gate and up rows of every selected expert and the shared
 * expert, in chunks handed out from one counter; (2) SwiGLU and the
 * preparation of each expert's hidden vector for its down matrix; (3) the
 * down rows of every expert. Tokens are grouped by expert (a counting sort
 * of the routing), so in prefill each expert's slice of the 3-D tensor is
 * read once for all the tokens routed to it.
 */
#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "backend-cpu-private.h"
#include "quant.h"

/* ---- Per-slice products ------------------------------------------------- */

typedef struct
{
  const PonderWeight *w;
  uint32_t            n_slices;
  const float        *x;        /* (n_tokens, n_slices, n_in) */
  uint32_t            n_tokens;
  float              *y;        /* (n_tokens, n_slices, n_out) */
  uint8_t            *prepared; /* (n_slices, n_tokens, in_row) */
  size_t              in_row;
  atomic_uint         next;
} SlicesTask;

/* One work item is one slice: its worker prepares that slice's inputs
 * (strided over the tokens) and multiplies all its rows, so the whole op
 * is a single pool job. */
static void
slices_task (void *data,
             int   ith,
             int   nth)
{
  SlicesTask *task = data;
  const PonderWeight *w = task->w;
  unsigned s;

  (void) ith;
  (void) nth;
  while ((s = atomic_fetch_add_explicit (&task->next, 1, memory_order_relaxed))
         < task->n_slices)
    {
      uint8_t *prep = task->prepared + (size_t) s * task->n_tokens * task->in_row;

      ponder_matmul_prepare_input (w->kernel, task->x + (size_t) s * w->n_in,
                                   (size_t) task->n_slices * w->n_in, w->n_in, task->n_tokens,
                                   prep);
      ponder_matmul_rows (w->kernel, w->data + (size_t) s * w->n_out * w->row_bytes, w->n_in,
                          0, w->n_out, prep, task->n_tokens, task->y + (size_t) s * w->n_out,
                          (size_t) task->n_slices * w->n_out);
    }
}

void
ponder_cpu_matmul_slices (PonderBackend      *be,
                          const PonderWeight *w,
                          uint32_t            n_slices,
                          const float        *x,
                          uint32_t            n_tokens,
                          float              *y)
{
  CpuBackend *cpu = (CpuBackend *) be;
  SlicesTask task;
  size_t in_row = ponder_matmul_input_row_bytes (w->kernel, w->n_in);
  uint32_t chunk = n_tokens;

  /* The prepared inputs of all slices must fit the scratch (sized for
   * max_tokens rows of max_n_in = n_slices * n_in floats per slot). */
  while (chunk > 1 && (size_t) chunk * n_slices * in_row > cpu->prepared_bytes)
    chunk = (chunk + 1) / 2;
  for (uint32_t t0 = 0; t0 < n_tokens; t0 += chunk)
    {
      memset (&task, 0, sizeof task);
      task.w = w;
      task.n_slices = n_slices;
      task.x = x + (size_t) t0 * n_slices * w->n_in;
      task.n_tokens = n_tokens - t0 < chunk ? n_tokens - t0 : chunk;
      task.y = y + (size_t) t0 * n_slices * w->n_out;
      task.prepared = cpu->prepared;
      task.in_row = in_row;
      atomic_store (&task.next, 0);
      ponder_threadpool_run (cpu->pool, slices_task, &task);
    }
}

/* ---- Mixture of experts ------------------------------------------------- */

#define MAX_X_KERNELS 4

typedef struct
{
  PonderWeight gate, up, down; /* this expert's matrices (slices resolved) */
  uint32_t     slot0;          /* its first slot */
  uint32_t     n;              /* tokens routed to it */
  int          kg, ku;         /* index of the gate / up kernel's prepared x */
  size_t       chunk0;         /* its first gate/up chunk */
  size_t       down_chunk0;    /* its first down chunk */
} Group;

typedef struct
{
  uint8_t  *arena;
  size_t    arena_bytes;
  Group    *groups;         /* (n_expert + 1) */
  uint32_t *count;          /* (n_expert) */
  size_t    n_groups_alloc;
} MoeScratch;

typedef struct
{
  Group                    *groups;
  uint32_t                  n_groups;
  const PonderMatmulKernel *xk[MAX_X_KERNELS];
  uint8_t                  *xgath[MAX_X_KERNELS]; /* (n_slots, xrow[k]) gathered inputs */
  size_t                    xrow[MAX_X_KERNELS];
  uint32_t                  n_slots;
  uint32_t                  ff_max;
  float                    *hg;                   /* (n_slots, ff_max) */
  float                    *hu;                   /* (n_slots, ff_max) */
  uint8_t                  *dprep;                /* (n_slots, drow_max) */
  size_t                    drow_max;
  float                    *ybuf;                 /* (n_slots, n_embd) */
  uint32_t                  n_embd;
  uint32_t                 *slot_group;           /* (n_slots) */
  size_t                    chunk_rows;
  size_t                    n_chunks;
  size_t                    n_down_chunks;
  atomic_size_t             next;
} MoeTask;

static size_t
chunks_of (size_t rows,
           size_t chunk)
{
  return (rows + chunk - 1) / chunk;
}

static void
gate_up_task (void *data,
              int   ith,
              int   nth)
{
  MoeTask *task = data;
  size_t c;

  (void) ith;
  (void) nth;
  while ((c = atomic_fetch_add_explicit (&task->next, 1, memory_order_relaxed)) < task->n_chunks)
    {
      uint32_t g = 0;
      const Group *gr;
      const PonderWeight *w;
      size_t per, local, r0, r1;
      int k;
      float *y;

      /* groups are few (at most n_used per token + 1 busy ones in decode) */
      while (g + 1 < task->n_groups && task->groups[g + 1].chunk0 <= c)
        g++;
      gr = &task->groups[g];
      per = chunks_of (gr->gate.n_out, task->chunk_rows);
      local = c - gr->chunk0;
      w = local < per ? &gr->gate : &gr->up;
      k = local < per ? gr->kg : gr->ku;
      y = local < per ? task->hg : task->hu;
      if (local >= per)
        local -= per;
      r0 = local * task->chunk_rows;
      r1 = r0 + task->chunk_rows < w->n_out ? r0 + task->chunk_rows : w->n_out;
      ponder_matmul_rows (w->kernel, w->data, w->n_in, r0, r1,
                          task->xgath[k] + (size_t) gr->slot0 * task->xrow[k], gr->n,
                          y + (size_t) gr->slot0 * task->ff_max, task->ff_max);
    }
}

static void
swiglu_prepare_task (void *data,
                     int   ith,
                     int   nth)
{
  MoeTask *task = data;
  size_t begin, end;

  ponder_split_range (task->n_slots, ith, nth, &begin, &end);
  for (size_t s = begin; s < end; s++)
    {
      const Group *gr = &task->groups[task->slot_group[s]];
      float *g = task->hg + s * task->ff_max;
      const float *u = task->hu + s * task->ff_max;
      size_t ff = gr->gate.n_out;
      size_t drow = ponder_matmul_input_row_bytes (gr->down.kernel, ff);

      for (size_t i = 0; i < ff; i++)
        g[i] = g[i] / (1.0f + expf (-g[i])) * u[i];
      /* a group's prepared rows are packed at its own kernel's row size */
      ponder_matmul_prepare_input (gr->down.kernel, g, task->ff_max, ff, 1,
                                   task->dprep + (size_t) gr->slot0 * task->drow_max
                                   + (s - gr->slot0) * drow);
    }
}

static void
down_task (void *data,
           int   ith,
           int   nth)
{
  MoeTask *task = data;
  size_t c;

  (void) ith;
  (void) nth;
  while ((c = atomic_fetch_add_explicit (&task->next, 1, memory_order_relaxed))
         < task->n_down_chunks)
    {
      uint32_t g = 0;
      const Group *gr;
      size_t r0, r1;

      while (g + 1 < task->n_groups && task->groups[g + 1].down_chunk0 <= c)
        g++;
      gr = &task->groups[g];
      r0 = (c - gr->down_chunk0) * task->chunk_rows;
      r1 = r0 + task->chunk_rows < gr->down.n_out ? r0 + task->chunk_rows : gr->down.n_out;
      ponder_matmul_rows (gr->down.kernel, gr->down.data, gr->down.n_in, r0, r1,
                          task->dprep + (size_t) gr->slot0 * task->drow_max, gr->n,
                          task->ybuf + (size_t) gr->slot0 * task->n_embd, task->n_embd);
    }
}

static PonderWeight
slice_of (const PonderWeight *w,
          uint32_t            e)
{
  PonderWeight s = *w;

  s.data = w->data + (size_t) e * w->n_out * w->row_bytes;
  return s;
}

static int
kernel_slot (MoeTask                  *task,
             int                      *n_k,
             const PonderMatmulKernel *kernel,
             size_t                    n_in)
{
  for (int i = 0; i < *n_k; i++)
    if (task->xk[i] == kernel)
      return i;
  task->xk[*n_k] = kernel;
  task->xrow[*n_k] = ponder_matmul_input_row_bytes (kernel, n_in);
  return (*n_k)++;
}

static bool
ensure_scratch (CpuBackend *cpu,
                size_t      bytes,
                size_t      n_expert)
{
  MoeScratch *m = cpu->moe_scratch;

  if (m == NULL)
    {
      m = calloc (1, sizeof *m);
      if (m == NULL)
        return false;
      cpu->moe_scratch = m;
    }
  if (m->arena_bytes < bytes)
    {
      free (m->arena);
      m->arena = malloc (bytes);
      m->arena_bytes = m->arena != NULL ? bytes : 0;
    }
  if (m->n_groups_alloc < n_expert + 1)
    {
      free (m->groups);
      free (m->count);
      m->groups = malloc ((n_expert + 1) * sizeof *m->groups);
      m->count = malloc ((n_expert + 1) * sizeof *m->count);
      m->n_groups_alloc = m->groups != NULL && m->count != NULL ? n_expert + 1 : 0;
    }
  return m->arena != NULL && m->n_groups_alloc >= n_expert + 1;
}

void
ponder_cpu_moe_free (CpuBackend *cpu)
{
  MoeScratch *m = cpu->moe_scratch;

  if (m == NULL)
    return;
  free (m->arena);
  free (m->groups);
  free (m->count);
  free (m);
  cpu->moe_scratch = NULL;
}

#define ALIGN64(n) (((n) + 63) & ~(size_t) 63)

void
ponder_cpu_moe (PonderBackend     *be,
                const PonderLayer *l,
                const float       *x,
                uint32_t           n_tokens,
                uint32_t           n_used,
                const int32_t     *ids,
                const float       *weights,
                float             *out)
{
  CpuBackend *cpu = (CpuBackend *) be;
  uint32_t n_expert = (uint32_t) (l->gate_exps.tensor->ne[2]);
  uint32_t E = (uint32_t) l->gate_exps.n_in;
  bool shared = l->gate_shexp.tensor != NULL;
  uint32_t n_slots = n_tokens * n_used + (shared ? n_tokens : 0);
  int nth = ponder_threadpool_size (cpu->pool);
  MoeTask task;
  MoeScratch *m;
  uint32_t *slot_of, *slot_token;
  size_t bytes, off, total_rows = 0, xrow_max, n_k_sz;
  uint8_t *xprep[MAX_X_KERNELS];
  int n_k = 0;
  uint32_t n_groups = 0;

  memset (&task, 0, sizeof task);
  task.n_slots = n_slots;
  task.n_embd = E;
  task.ff_max = (uint32_t) l->gate_exps.n_out;
  if (shared && l->gate_shexp.n_out > task.ff_max)
    task.ff_max = (uint32_t) l->gate_shexp.n_out;
  /* kernels preparing x: gate/up of the routed and the shared experts */
  kernel_slot (&task, &n_k, l->gate_exps.kernel, E);
  kernel_slot (&task, &n_k, l->up_exps.kernel, E);
  if (shared)
    {
      kernel_slot (&task, &n_k, l->gate_shexp.kernel, E);
      kernel_slot (&task, &n_k, l->up_shexp.kernel, E);
    }
  xrow_max = 0;
  for (int k = 0; k < n_k; k++)
    if (task.xrow[k] > xrow_max)
      xrow_max = task.xrow[k];
  task.drow_max = ponder_matmul_input_row_bytes (l->down_exps.kernel, l->down_exps.n_in);
  if (shared)
    {
      size_t d = ponder_matmul_input_row_bytes (l->down_shexp.kernel, l->down_shexp.n_in);
      if (d > task.drow_max)
        task.drow_max = d;
    }
  n_k_sz = (size_t) n_k;
  bytes = n_k_sz * ALIGN64 ((size_t) n_tokens * xrow_max)
          + n_k_sz * ALIGN64 ((size_t) n_slots * xrow_max)
          + 2 * ALIGN64 ((size_t) n_slots * task.ff_max * sizeof (float))
          + ALIGN64 ((size_t) n_slots * task.drow_max)
          + ALIGN64 ((size_t) n_slots * E * sizeof (float))
          + 3 * ALIGN64 ((size_t) n_slots * sizeof (uint32_t));
  if (!ensure_scratch (cpu, bytes, n_expert))
    {
      /* Out of memory mid-inference: there is no error channel in the op
       * table, so give zero output rather than garbage. */
      memset (out, 0, (size_t) n_tokens * E * sizeof (float));
      return;
    }
  m = cpu->moe_scratch;
  off = 0;
#define TAKE(n) (off += ALIGN64 (n), m->arena + off - ALIGN64 (n))
  for (int k = 0; k < n_k; k++)
    xprep[k] = TAKE ((size_t) n_tokens * xrow_max);
  for (int k = 0; k < n_k; k++)
    task.xgath[k] = TAKE ((size_t) n_slots * xrow_max);
  task.hg = (float *) TAKE ((size_t) n_slots * task.ff_max * sizeof (float));
  task.hu = (float *) TAKE ((size_t) n_slots * task.ff_max * sizeof (float));
  task.dprep = TAKE ((size_t) n_slots * task.drow_max);
  task.ybuf = (float *) TAKE ((size_t) n_slots * E * sizeof (float));
  task.slot_group = (uint32_t *) TAKE ((size_t) n_slots * sizeof (uint32_t));
  slot_of = (uint32_t *) TAKE ((size_t) n_slots * sizeof (uint32_t));
  slot_token = (uint32_t *) TAKE ((size_t) n_slots * sizeof (uint32_t));
#undef TAKE

  /* Group the (token, k) pairs by expert: a counting sort. */
  memset (m->count, 0, n_expert * sizeof *m->count);
  for (size_t i = 0; i < (size_t) n_tokens * n_used; i++)
    m->count[ids[i]]++;
  task.groups = m->groups;
  {
    uint32_t slot = 0;

    for (uint32_t e = 0; e < n_expert; e++)
      if (m->count[e] > 0)
        {
          Group *gr = &m->groups[n_groups];

          gr->gate = slice_of (&l->gate_exps, e);
          gr->up = slice_of (&l->up_exps, e);
          gr->down = slice_of (&l->down_exps, e);
          gr->kg = kernel_slot (&task, &n_k, gr->gate.kernel, E);
          gr->ku = kernel_slot (&task, &n_k, gr->up.kernel, E);
          gr->slot0 = slot;
          gr->n = 0;
          slot += m->count[e];
          m->count[e] = n_groups++; /* now: the expert's group */
        }
    for (uint32_t t = 0; t < n_tokens; t++)
      for (uint32_t k = 0; k < n_used; k++)
        {
          Group *gr = &m->groups[m->count[ids[(size_t) t * n_used + k]]];
          uint32_t s = gr->slot0 + gr->n++;

          slot_of[(size_t) t * n_used + k] = s;
          slot_token[s] = t;
          task.slot_group[s] = (uint32_t) (gr - m->groups);
        }
    if (shared)
      {
        Group *gr = &m->groups[n_groups];

        gr->gate = l->gate_shexp;
        gr->up = l->up_shexp;
        gr->down = l->down_shexp;
        gr->kg = kernel_slot (&task, &n_k, gr->gate.kernel, E);
        gr->ku = kernel_slot (&task, &n_k, gr->up.kernel, E);
        gr->slot0 = slot;
        gr->n = n_tokens;
        for (uint32_t t = 0; t < n_tokens; t++)
          {
            slot_token[slot + t] = t;
            task.slot_group[slot + t] = n_groups;
          }
        n_groups++;
      }
  }
  task.n_groups = n_groups;

  /* Prepare x once per kernel, then gather each slot's row. */
  for (int k = 0; k < n_k; k++)
    {
      ponder_matmul_prepare_input (task.xk[k], x, E, E, n_tokens, xprep[k]);
      for (uint32_t s = 0; s < n_slots; s++)
        memcpy (task.xgath[k] + (size_t) s * task.xrow[k],
                xprep[k] + (size_t) slot_token[s] * task.xrow[k], task.xrow[k]);
    }

  for (uint32_t g = 0; g < n_groups; g++)
    total_rows += 2 * task.groups[g].gate.n_out;
  /* about eight chunks per thread, multiples of 16 rows */
  task.chunk_rows = (total_rows / ((size_t) nth * 8) + 15) / 16 * 16;
  if (task.chunk_rows < 16)
    task.chunk_rows = 16;
  task.n_chunks = 0;
  task.n_down_chunks = 0;
  for (uint32_t g = 0; g < n_groups; g++)
    {
      Group *gr = &task.groups[g];

      gr->chunk0 = task.n_chunks;
      task.n_chunks += chunks_of (gr->gate.n_out, task.chunk_rows)
                       + chunks_of (gr->up.n_out, task.chunk_rows);
      gr->down_chunk0 = task.n_down_chunks;
      task.n_down_chunks += chunks_of (gr->down.n_out, task.chunk_rows);
    }
  atomic_store (&task.next, 0);
  ponder_threadpool_run (cpu->pool, gate_up_task, &task);
  /* in decode (a few slots) a pool job costs more than the work */
  if ((size_t) n_slots * task.ff_max >= 8192 && nth > 1)
    ponder_threadpool_run (cpu->pool, swiglu_prepare_task, &task);
  else
    swiglu_prepare_task (&task, 0, 1);
  atomic_store (&task.next, 0);
  ponder_threadpool_run (cpu->pool, down_task, &task);

  /* out_t = sum_k w_tk y_slot(t,k) + y_shared(t) */
  for (uint32_t t = 0; t < n_tokens; t++)
    {
      float *o = out + (size_t) t * E;

      if (shared)
        memcpy (o, task.ybuf + (size_t) (n_slots - n_tokens + t) * E, E * sizeof (float));
      else
        memset (o, 0, E * sizeof (float));
      for (uint32_t k = 0; k < n_used; k++)
        {
          const float *y = task.ybuf + (size_t) slot_of[(size_t) t * n_used + k] * E;
          float wk = weights[(size_t) t * n_used + k];

          for (uint32_t i = 0; i < E; i++)
            o[i] += wk * y[i];
        }
    }
}
