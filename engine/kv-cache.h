/* kv-cache.h: per-layer keys and values, and the tokens they belong to.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Stored as F16 (IEEE half, the default) or F32: at 8192 positions a 1.5B
 * model's cache is 0.45 or 0.9 GiB, and at long contexts attention reads
 * about as many cache bytes per token as weight bytes. K is stored after
 * RoPE (spec 3.2). Position p of every layer holds token tokens[p].
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ponder-engine.h"

/* Elements of the cache's type (float, or uint16_t half bits). */
typedef struct
{
  void *k; /* (n_ctx, k_row) */
  void *v; /* (n_ctx, v_row); NULL when v_row is 0 (deepseek2) */
} PonderKvLayer;

typedef struct
{
  PonderKvType   type;
  uint32_t       n_layers;
  uint32_t       n_ctx;
  uint32_t       k_row;     /* n_head_kv * head_dim_k elements */
  uint32_t       v_row;     /* n_head_kv * head_dim_v elements */
  PonderKvLayer *layers;    /* (n_layers) */
  int32_t       *tokens;    /* (n_ctx) the tokens whose K/V are valid */
  uint32_t       n_tokens;  /* valid positions [0, n_tokens) */
} PonderKvCache;

PonderStatus ponder_kv_cache_init_type (PonderKvCache *cache,
                                        PonderKvType   type,
                                        uint32_t       n_layers,
                                        uint32_t       n_ctx,
                                        uint32_t       k_row,
                                        uint32_t       v_row,
                                        PonderError   *error);
/* An F32 cache: what a device backend's tests hand to begin_step. */
PonderStatus ponder_kv_cache_init      (PonderKvCache *cache,
                                        uint32_t       n_layers,
                                        uint32_t       n_ctx,
                                        uint32_t       k_row,
                                        uint32_t       v_row,
                                        PonderError   *error);
void         ponder_kv_cache_clear     (PonderKvCache *cache);

/* Bytes of one element of type (2 or 4). */
size_t       ponder_kv_type_size       (PonderKvType type);

/* Bytes per position over all layers. */
uint64_t     ponder_kv_cache_bytes_per_token (PonderKvType type,
                                              uint32_t     n_layers,
                                              uint32_t     k_row,
                                              uint32_t     v_row);

/* Whether this CPU converts halves in hardware (x86 F16C). */
bool         ponder_kv_have_f16c       (void);

/* dst = src rounded to half, to nearest even, the bits of x86's vcvtps2ph:
 * subnormal halves kept, overflow to infinity, a NaN quiet with its sign and
 * the top 10 bits of its payload. f16c: with that instruction (only where
 * ponder_kv_have_f16c); else portable C, which gives the same bits. */
void         ponder_kv_to_f16          (uint16_t    *dst,
                                        const float *src,
                                        size_t       n,
                                        bool         f16c);

/* How many of tokens[0, n) can be kept: the longest common prefix with the
 * cache, but at most n - 1 so that the last token is always evaluated (its
 * logits are needed). Drops everything after it from the cache. */
uint32_t     ponder_kv_cache_reuse (PonderKvCache *cache,
                                    const int32_t *tokens,
                                    uint32_t       n);

/* Records tokens[0, n) as occupying positions [pos, pos + n). */
void         ponder_kv_cache_commit (PonderKvCache *cache,
                                     uint32_t       pos,
                                     const int32_t *tokens,
                                     uint32_t       n);
