/* kv-cache.c: KV storage and prefix reuse.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "kv-cache.h"

#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "quant.h"

const char *
ponder_kv_type_name (PonderKvType type)
{
  switch (type)
    {
    case PONDER_KV_F16:
      return "f16";
    case PONDER_KV_F32:
      return "f32";
    default:
      return NULL;
    }
}

size_t
ponder_kv_type_size (PonderKvType type)
{
  return type == PONDER_KV_F16 ? sizeof (uint16_t) : sizeof (float);
}

uint64_t
ponder_kv_cache_bytes_per_token (PonderKvType type,
                                 uint32_t     n_layers,
                                 uint32_t     k_row,
                                 uint32_t     v_row)
{
  return (uint64_t) n_layers * ((uint64_t) k_row + v_row) * ponder_kv_type_size (type);
}

bool
ponder_kv_have_f16c (void)
{
#if defined(__x86_64__) || defined(__i386__)
  return __builtin_cpu_supports ("avx") && __builtin_cpu_supports ("f16c");
#else
  return false;
#endif
}

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

__attribute__ ((target ("avx,f16c"))) static void
to_f16_f16c (uint16_t    *dst,
             const float *src,
             size_t       n)
{
  size_t i = 0;

  for (; i + 8 <= n; i += 8)
    _mm_storeu_si128 ((__m128i *) (dst + i),
                      _mm256_cvtps_ph (_mm256_loadu_ps (src + i), _MM_FROUND_TO_NEAREST_INT));
  for (; i < n; i++)
    dst[i] = (uint16_t) _cvtss_sh (src[i], _MM_FROUND_TO_NEAREST_INT);
}
#endif

void
ponder_kv_to_f16 (uint16_t    *dst,
                  const float *src,
                  size_t       n,
                  bool         f16c)
{
#if defined(__x86_64__) || defined(__i386__)
  if (f16c)
    {
      to_f16_f16c (dst, src, n);
      return;
    }
#else
  (void) f16c;
#endif
  for (size_t i = 0; i < n; i++)
    dst[i] = ponder_fp32_to_fp16 (src[i]);
}

PonderStatus
ponder_kv_cache_init (PonderKvCache *cache,
                      uint32_t       n_layers,
                      uint32_t       n_ctx,
                      uint32_t       k_row,
                      uint32_t       v_row,
                      PonderError   *error)
{
  return ponder_kv_cache_init_type (cache, PONDER_KV_F32, n_layers, n_ctx, k_row, v_row, error);
}

PonderStatus
ponder_kv_cache_init_type (PonderKvCache *cache,
                           PonderKvType   type,
                           uint32_t       n_layers,
                           uint32_t       n_ctx,
                           uint32_t       k_row,
                           uint32_t       v_row,
                           PonderError   *error)
{
  size_t size = ponder_kv_type_size (type);

  memset (cache, 0, sizeof *cache);
  if (ponder_kv_type_name (type) == NULL)
    return ponder_error_set (error, PONDER_ERROR_INVALID_ARGUMENT,
                             "unknown KV cache type %d", (int) type);
  cache->type = type;
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
      cache->layers[il].k = calloc ((size_t) n_ctx * k_row, size);
      /* deepseek2's latent cache has no separate values (v_row 0) */
      cache->layers[il].v = v_row > 0 ? calloc ((size_t) n_ctx * v_row, size) : NULL;
      if (cache->layers[il].k == NULL || (v_row > 0 && cache->layers[il].v == NULL))
        goto no_memory;
    }
  return PONDER_OK;

no_memory:
  ponder_kv_cache_clear (cache);
  return ponder_error_set (error, PONDER_ERROR_NO_MEMORY,
                           "out of memory for a KV cache of %u positions (%llu MiB)", n_ctx,
                           (unsigned long long) (ponder_kv_cache_bytes_per_token (type, n_layers,
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
