/* backend-cpu-private.h: the CPU backend's state, shared with the
 * deepseek2 ops in moe-cpu.c and mla-cpu.c.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backend.h"
#include "threadpool.h"

typedef struct
{
  PonderBackend     base;
  PonderThreadpool *pool;
  uint8_t          *prepared;       /* (prepared_bytes) kernel input rows */
  size_t            prepared_bytes;
  float            *rope_cs;        /* (max_tokens, n_rot / 2, 2) cos and sin */
  const PonderRope *rope_cs_rope;   /* what rope_cs holds: these parameters, */
  uint32_t          rope_cs_pos0;   /* at these positions */
  uint32_t          rope_cs_n;
  uint32_t          max_tokens;
  bool              have_avx2;      /* AVX2 and FMA, for attention */
  size_t            max_n_in;
  void            **allocations;    /* (n_allocations) activation buffers */
  size_t            n_allocations;
  void             *moe_scratch;    /* moe-cpu.c */
} CpuBackend;

/* moe-cpu.c, mla-cpu.c */
void ponder_cpu_matmul_slices (PonderBackend *be, const PonderWeight *w, uint32_t n_slices,
                               const float *x, uint32_t n_tokens, float *y);
void ponder_cpu_moe           (PonderBackend *be, const PonderLayer *l, const float *x,
                               uint32_t n_tokens, uint32_t n_used, const int32_t *ids,
                               const float *weights, float *out);
void ponder_cpu_moe_free      (CpuBackend *cpu);
void ponder_cpu_mla_attention (PonderBackend *be, const PonderLayer *l,
                               const PonderHparams *hp, const float *cq, float *q,
                               const PonderKvCache *cache, const PonderKvLayer *kv,
                               uint32_t pos0, uint32_t n_tokens, float *qa, float *olat,
                               float *out);
