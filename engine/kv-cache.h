/* kv-cache.h: per-layer keys and values, and the tokens they belong to.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Stored in F32: on the CPU the attention reads them with plain float loads
 * and the cache of a 1.5B model at 8192 positions is 0.9 GiB. K is stored
 * after RoPE (spec 3.2). Position p of every layer holds token tokens[p].
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ponder-engine.h"

typedef struct
{
  float *k; /* (n_ctx, k_row) */
  float *v; /* (n_ctx, v_row); NULL when v_row is 0 (deepseek2) */
} PonderKvLayer;

typedef struct
{
  uint32_t       n_layers;
  uint32_t       n_ctx;
  uint32_t       k_row;     /* n_head_kv * head_dim_k floats */
  uint32_t       v_row;     /* n_head_kv * head_dim_v floats */
  PonderKvLayer *layers;    /* (n_layers) */
  int32_t       *tokens;    /* (n_ctx) the tokens whose K/V are valid */
  uint32_t       n_tokens;  /* valid positions [0, n_tokens) */
} PonderKvCache;

PonderStatus ponder_kv_cache_init  (PonderKvCache *cache,
                                    uint32_t       n_layers,
                                    uint32_t       n_ctx,
                                    uint32_t       k_row,
                                    uint32_t       v_row,
                                    PonderError   *error);
void         ponder_kv_cache_clear (PonderKvCache *cache);

/* Bytes per position over all layers. */
uint64_t     ponder_kv_cache_bytes_per_token (uint32_t n_layers,
                                              uint32_t k_row,
                                              uint32_t v_row);

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
