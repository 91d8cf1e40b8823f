/* kv-cache.c: KV storage and prefix reuse.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "kv-cache.h"

#include <stdlib.h>
#include <string.h>

#include "error.h"

uint64_t
ponder_kv_cache_bytes_per_token (uint32_t n_layers,
                                 uint32_t k_row,
                                 uint32_t v_row)
{
  return (uint64_t) n_layers * ((uint64_t) k_row + v_row) * sizeof (float);
}

PonderStatus
ponder_kv_cache_init (PonderKvCache *cache,
                      uint32_t       n_layers,
                      uint32_t       n_ctx,
                      uint32_t       k_row,
                      uint32_t       v_row,
                      PonderError   *error)
{
  memset (cache, 0, sizeof *cache);
  cache->n_layers = n_layers;
  cache->n_ctx = n_ctx;
  cache->k_row = k_row;
  cache->v_row = v_row;
  cache->layers = calloc (n_layers, sizeof *cache->layers);
  cache->tokens = calloc (n_ctx, sizeof *cache->tokens);
  if (cache->layers == NULL || cache->tokens == NULL)
    goto no_memory;
  for (uint32_t il = 0; il < n_layers; il++)
    {
      /* calloc, not malloc: untouched pages of a large context stay unbacked. */
      cache->layers[il].k = calloc ((size_t) n_ctx * k_row, sizeof (float));
      /* deepseek2's latent cache has no separate values (v_row 0) */
      cache->layers[il].v = v_row > 0 ? calloc ((size_t) n_ctx * v_row, sizeof (float)) : NULL;
      if (cache->layers[il].k == NULL || (v_row > 0 && cache->layers[il].v == NULL))
        goto no_memory;
    }
  return PONDER_OK;

no_memory:
  ponder_kv_cache_clear (cache);
  return ponder_error_set (error, PONDER_ERROR_NO_MEMORY,
                           "out of memory for a KV cache of %u positions (%llu MiB)", n_ctx,
                           (unsigned long long) (ponder_kv_cache_bytes_per_token (n_layers,
                                                                                  k_row, v_row)
                                                 * n_ctx >> 20));
}

void
ponder_kv_cache_clear (PonderKvCache *cache)
{
  if (cache->layers != NULL)
    for (uint32_t il = 0; il < cache->n_layers; il++)
      {
        free (cache->layers[il].k);
        free (cache->layers[il].v);
      }
  free (cache->layers);
  free (cache->tokens);
  memset (cache, 0, sizeof *cache);
}

uint32_t
ponder_kv_cache_reuse (PonderKvCache *cache,
                       const int32_t *tokens,
                       uint32_t       n)
{
  uint32_t common = 0;

  while (common < cache->n_tokens && common < n && cache->tokens[common] == tokens[common])
    common++;
  if (n > 0 && common >= n)
    common = n - 1;
  cache->n_tokens = common;
  return common;
}

void
ponder_kv_cache_commit (PonderKvCache *cache,
                        uint32_t       pos,
                        const int32_t *tokens,
                        uint32_t       n)
{
  memcpy (cache->tokens + pos, tokens, (size_t) n * sizeof *tokens);
  cache->n_tokens = pos + n;
}
