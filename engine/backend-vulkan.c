/* backend-vulkan.c: backend.h on a Vulkan device.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * forward.c hands the backend float pointers. Here every pointer the
 * backend gives out (alloc_activations) is a reserved, inaccessible range
 * of host address space standing for a device buffer of the same size, and
 * every weight pointer (matrix data, norm and bias vectors) stands for the
 * buffer it was uploaded to at load. An op resolves its pointers to
 * (buffer, offset) and records one dispatch; nothing runs until end_step
 * submits the whole step as one command buffer. The only host memory an op
 * may write is a pointer the backend does not know (the logits), which is
 * filled from a host-visible buffer after the step. Because the reserved
 * ranges are PROT_NONE, a host access to an activation by mistake faults at
 * once instead of reading stale data.
 *
 * The weights' device buffers are the model's (vulkan-model.c).
 *
 * Embedding rows are gathered and dequantised on the device from the
 * uploaded table; a table of a type without a kernel stays in the file
 * mapping and its rows are dequantised on the host and copied in. The KV
 * cache lives in one pair of device buffers per layer.
 *
 * Decode steps (one token) are kept steps (vulkan-replay.c): the ops are
 * called as always, but the step is recorded only when its commands differ
 * from a kept one, else the kept command buffer runs again. What changes
 * from token to token reaches the shaders through host-visible memory
 * written before the submission: the token id (ids), the RoPE table, and
 * the position (the step buffer, read by the KV store, attention and
 * deepseek2's latent attention). Decode attention takes one more chunk of
 * keys every ATTN_CHUNK positions, which changes its grid: that step is
 * recorded, the following ones replay it. (A fixed partition over n_ctx
 * would replay throughout, but every step at a short position would run
 * and merge the empty chunks of a long context; one recording per 256
 * tokens costs about a millisecond of host time.) A deepseek2 model whose routed
 * experts run on the host or on peer devices submits in the middle of a
 * step, so its steps are recorded every time.
 */
#include "backend.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "backend-vulkan-private.h"
#include "error.h"
#include "quant.h"
#include "vulkan-deepseek2.h"
#include "vulkan-model-private.h"
#include "vulkan-private.h"

/* ---- The backend --------------------------------------------------------------- */

typedef struct
{
  void           *base;  /* reserved, inaccessible host range of bytes */
  size_t          bytes;
  PonderVkBuffer  buffer;
} Activation;

#define MAX_ACTIVATIONS 32

/* Keys per workgroup of the split decode attention. */
#define ATTN_CHUNK 256u

typedef struct
{
  PonderBackend    base;
  PonderVkModel   *model;
  PonderVkDevice  *dev;
  uint32_t         max_tokens;
  Activation       acts[MAX_ACTIVATIONS];
  uint32_t         n_acts;
  /* KV cache of the session (begin_step's cache), one pair per layer */
  const PonderKvCache *kv_cache;
  PonderKvCache    kv_shape;   /* the type and sizes kv_k and kv_v were made for */
  PonderVkBuffer  *kv_k;
  PonderVkBuffer  *kv_v;
  PonderVkBuffer   attn_part;  /* split decode attention's chunks (ATTN_CHUNK keys each) */
  uint32_t         kv_layers;
  /* host-visible: embedding rows and RoPE table written before the step */
  PonderVkBuffer   embed_in;   /* (max_tokens, n_embd) */
  PonderVkBuffer   ids;        /* (max_tokens) uint32 token ids of the step */
  PonderVkBuffer   rope_table; /* (max_tokens, n_rot) */
  PonderVkBuffer   host_out;   /* an op's output to host memory (the logits) */
  PonderVkBuffer   scratch;    /* device: inputs at offsets the device cannot bind */
  PonderVkBuffer   step;       /* host-visible: the step's pos0 (uint32) for the shaders */
  /* decode steps kept and replayed (vulkan-replay.c) */
  PonderVkReplay  *replay;
  bool             replay_on;
  bool             kept;       /* this step is a kept one */
  uint32_t         step_pos0;
  uint32_t         step_n;
  double           t_begin;    /* monotonic seconds at begin_step */
  PonderStepCounts counts;
  /* the step */
  bool             in_step;
  bool             rope_ready;
  uint32_t         rope_pos0;
  uint32_t         rope_n;
  float           *readback;   /* host destination of host_out, or NULL */
  size_t           readback_bytes;
  PonderStatus     status;     /* first failure of the step's ops */
  PonderError      error;
  PonderVkDs2Backend *ds2;     /* deepseek2 scratch (backend-vulkan-deepseek2.c) */
  PonderVkPicks   *picks;      /* argmax and top logits (backend-vulkan-pick.c) */
} VkBackend;

static VkBackend *
vkb (PonderBackend *be)
{
  return (VkBackend *) be;
}

/* Keeps the first failure; later ops of the step are skipped. */
static bool
failed (VkBackend   *b,
        PonderStatus status)
{
  if (status != PONDER_OK && b->status == PONDER_OK)
    b->status = status;
  return b->status != PONDER_OK;
}

static bool
step_failed (VkBackend *b)
{
  if (b->status == PONDER_OK && !b->in_step)
    b->status = ponder_error_set (&b->error, PONDER_ERROR_INVALID_ARGUMENT,
                                  "Vulkan backend: an op outside begin_step/end_step");
  return b->status != PONDER_OK;
}

/* The buffer and byte offset behind a pointer from alloc_activations, or a
 * weight; false for host memory. */
static bool
resolve (VkBackend             *b,
         const void            *p,
         const PonderVkBuffer **out_buffer,
         size_t                *out_offset)
{
  const PonderVkBuffer *w;

  for (uint32_t i = 0; i < b->n_acts; i++)
    {
      const uint8_t *base = b->acts[i].base;

      if ((const uint8_t *) p >= base && (const uint8_t *) p < base + b->acts[i].bytes)
        {
          *out_buffer = &b->acts[i].buffer;
          *out_offset = (size_t) ((const uint8_t *) p - base);
          return true;
        }
    }
  w = ponder_vk_model_find_weight (b->model, p);
  if (w == NULL)
    return false;
  *out_buffer = w;
  *out_offset = 0;
  return true;
}

/* A view of bytes at p for a shader to read; an offset the device cannot
 * bind is copied to the scratch buffer first. */
static bool
input (VkBackend      *b,
       const void     *p,
       size_t          bytes,
       PonderVkBuffer *out_view)
{
  const PonderVkBuffer *buf;
  size_t off;

  if (!resolve (b, p, &buf, &off))
    return !failed (b, ponder_error_set (&b->error, PONDER_ERROR_INVALID_ARGUMENT,
                                         "Vulkan backend: an input is not on the device"));
  if (off % ponder_vk_view_alignment (b->dev) == 0)
    {
      *out_view = ponder_vk_buffer_view (buf, off);
      return true;
    }
  if (bytes > b->scratch.size)
    return !failed (b, ponder_error_set (&b->error, PONDER_ERROR_INVALID_ARGUMENT,
                                         "Vulkan backend: an unaligned input of %zu bytes",
                                         bytes));
  if (failed (b, ponder_vk_copy (b->dev, buf, off, &b->scratch, 0, bytes, &b->error)))
    return false;
  *out_view = b->scratch;
  return true;
}

/* A view to write to; host memory (the logits) goes through host_out and
 * is copied out after the step. */
static bool
output (VkBackend      *b,
        void           *p,
        size_t          bytes,
        PonderVkBuffer *out_view)
{
  const PonderVkBuffer *buf;
  size_t off;
  PonderStatus status;

  if (resolve (b, p, &buf, &off))
    {
      if (off % ponder_vk_view_alignment (b->dev) != 0)
        return !failed (b, ponder_error_set (&b->error, PONDER_ERROR_INVALID_ARGUMENT,
                                             "Vulkan backend: an unaligned output"));
      *out_view = ponder_vk_buffer_view (buf, off);
      return true;
    }
  if (b->readback != NULL)
    return !failed (b, ponder_error_set (&b->error, PONDER_ERROR_INVALID_ARGUMENT,
                                         "Vulkan backend: two host outputs in one step"));
  if (b->host_out.size < bytes)
    {
      /* Nothing recorded in this step uses host_out yet. */
      ponder_vk_buffer_free (b->dev, &b->host_out);
      status = ponder_vk_buffer_new (b->dev, bytes, PONDER_VK_MEMORY_HOST, "host-out",
                                     &b->host_out, &b->error);
      if (failed (b, status))
        return false;
    }
  b->readback = p;
  b->readback_bytes = bytes;
  *out_view = b->host_out;
  return true;
}

static float *
vk_alloc_activations (PonderBackend *be,
                      size_t         n)
{
  VkBackend *b = vkb (be);
  Activation *a;
  PonderError error;

  if (b->n_acts == MAX_ACTIVATIONS || n == 0)
    return NULL;
  a = &b->acts[b->n_acts];
  a->bytes = n * sizeof (float);
  a->base = mmap (NULL, a->bytes, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (a->base == MAP_FAILED)
    return NULL;
  if (ponder_vk_buffer_new (b->dev, a->bytes, PONDER_VK_MEMORY_DEVICE, "activations",
                            &a->buffer, &error) != PONDER_OK)
    {
      munmap (a->base, a->bytes);
      return NULL;
    }
  b->n_acts++;
  return a->base;
}

static void
vk_embed (PonderBackend      *be,
          const PonderWeight *table,
          const int32_t      *ids,
          uint32_t            n_tokens,
          float              *out)
{
  VkBackend *b = vkb (be);
  size_t n = table->n_in, bytes = (size_t) n_tokens * n * sizeof (float);
  const PonderVkBuffer *buf, *tb = ponder_vk_model_find_weight (b->model, table->data);
  PonderVkBuffer ov;
  size_t off;

  if (step_failed (b))
    return;
  /* a tied table is on the device as the output matrix even where its
   * type has no embedding kernel */
  if (tb != NULL && ponder_vk_embed_supported (table->type) && n_tokens <= b->max_tokens)
    {
      if (!output (b, out, bytes, &ov))
        return;
      memcpy (b->ids.mapped, ids, n_tokens * sizeof (int32_t));
      failed (b, ponder_vk_op_embed (b->dev, table->type, tb, table->row_bytes, (uint32_t) n,
                                     (uint32_t) table->n_out, &b->ids, n_tokens, &ov,
                                     &b->error));
      return;
    }
  if (bytes > b->embed_in.size || !resolve (b, out, &buf, &off))
    {
      failed (b, ponder_error_set (&b->error, PONDER_ERROR_INVALID_ARGUMENT,
                                   "Vulkan backend: embedding of %u tokens does not fit",
                                   n_tokens));
      return;
    }
  for (uint32_t t = 0; t < n_tokens; t++)
    ponder_dequantize_row (table->type, table->data + (size_t) ids[t] * table->row_bytes,
                           (float *) b->embed_in.mapped + t * n, n);
  failed (b, ponder_vk_copy (b->dev, &b->embed_in, 0, buf, off, bytes, &b->error));
}

/* The residual stream from the CPU layers of a partial offload. */
static void
vk_upload (PonderBackend *be,
           float         *dst,
           const float   *src,
           size_t         n)
{
  VkBackend *b = vkb (be);
  const PonderVkBuffer *buf;
  size_t off;

  if (step_failed (b))
    return;
  if (n * sizeof (float) > b->embed_in.size || !resolve (b, dst, &buf, &off))
    {
      failed (b, ponder_error_set (&b->error, PONDER_ERROR_INVALID_ARGUMENT,
                                   "Vulkan backend: an upload of %zu floats does not fit", n));
      return;
    }
  memcpy (b->embed_in.mapped, src, n * sizeof (float));
  failed (b, ponder_vk_copy (b->dev, &b->embed_in, 0, buf, off, n * sizeof (float), &b->error));
}

static void
vk_download (PonderBackend *be,
             float         *dst,
             const float   *src,
             size_t         n)
{
  VkBackend *b = vkb (be);
  const PonderVkBuffer *buf;
  size_t off;
  PonderVkBuffer out;

  if (step_failed (b))
    return;
  if (!resolve (b, src, &buf, &off))
    {
      failed (b, ponder_error_set (&b->error, PONDER_ERROR_INVALID_ARGUMENT,
                                   "Vulkan backend: a download not from the device"));
      return;
    }
  if (output (b, dst, n * sizeof (float), &out))
    failed (b, ponder_vk_copy (b->dev, buf, off, &out, 0, n * sizeof (float), &b->error));
}

static void
vk_rmsnorm (PonderBackend *be,
            const float   *x,
            const float   *w,
            uint32_t       n_rows,
            uint32_t       n,
            float          eps,
            float         *out)
{
  VkBackend *b = vkb (be);
  size_t bytes = (size_t) n_rows * n * sizeof (float);
  PonderVkBuffer xv, wv, ov;

  if (step_failed (b) || !input (b, x, bytes, &xv) || !input (b, w, n * sizeof (float), &wv)
      || !output (b, out, bytes, &ov))
    return;
  failed (b, ponder_vk_op_rmsnorm (b->dev, &xv, &wv, &ov, n_rows, n, eps, &b->error));
}

static void
vk_matmul (PonderBackend      *be,
           const PonderWeight *w,
           const float        *x,
           uint32_t            n_tokens,
           float              *y)
{
  VkBackend *b = vkb (be);
  PonderVkBuffer wv, xv, yv;

  if (step_failed (b) || !input (b, w->data, w->n_out * w->row_bytes, &wv)
      || !input (b, x, (size_t) n_tokens * w->n_in * sizeof (float), &xv)
      || !output (b, y, (size_t) n_tokens * w->n_out * sizeof (float), &yv))
    return;
  failed (b, ponder_vk_op_matmul (b->dev, w->type, &wv, w->row_bytes, (uint32_t) w->n_in,
                                  (uint32_t) w->n_out, &xv, n_tokens, &yv, &b->error));
}

static void
vk_matmul_multi (PonderBackend       *be,
                 uint32_t             n_weights,
                 const PonderWeight **w,
                 const float         *x,
                 uint32_t             n_tokens,
                 float              **y)
{
  for (uint32_t j = 0; j < n_weights; j++)
    vk_matmul (be, w[j], x, n_tokens, y[j]);
}

static void
vk_add_bias (PonderBackend *be,
             float         *y,
             const float   *bias,
             uint32_t       n_rows,
             uint32_t       n)
{
  VkBackend *b = vkb (be);
  PonderVkBuffer yv, bv;

  if (step_failed (b) || !output (b, y, (size_t) n_rows * n * sizeof (float), &yv)
      || !input (b, bias, n * sizeof (float), &bv))
    return;
  failed (b, ponder_vk_op_add_bias (b->dev, &yv, &bv, n_rows, n, &b->error));
}

static void
vk_rope (PonderBackend    *be,
         float            *x,
         uint32_t          n_tokens,
         uint32_t          n_heads,
         uint32_t          head_dim,
         uint32_t          pos0,
         const PonderRope *rope)
{
  VkBackend *b = vkb (be);
  PonderVkRopeParams params = { rope->n_rot, rope->mscale, rope->freq };
  PonderVkBuffer xv;

  /* the last head's rotated dims end the range (deepseek2's latent rows) */
  if (step_failed (b) || n_tokens == 0 || n_heads == 0
      || !output (b, x, (((size_t) n_tokens * n_heads - 1) * head_dim + rope->n_rot) * 4, &xv))
    return;
  /* One table serves every layer of the step; the device reads it when the
   * step runs, so it cannot change within a step. */
  if (!b->rope_ready)
    {
      if ((size_t) n_tokens * rope->n_rot * sizeof (float) > b->rope_table.size)
        {
          failed (b, ponder_error_set (&b->error, PONDER_ERROR_INVALID_ARGUMENT,
                                       "Vulkan backend: RoPE over %u tokens", n_tokens));
          return;
        }
      ponder_vk_rope_table (&params, pos0, n_tokens, b->rope_table.mapped);
      b->rope_ready = true;
      b->rope_pos0 = pos0;
      b->rope_n = n_tokens;
    }
  else if (b->rope_pos0 != pos0 || b->rope_n != n_tokens)
    {
      failed (b, ponder_error_set (&b->error, PONDER_ERROR_INVALID_ARGUMENT,
                                   "Vulkan backend: two RoPE positions in one step"));
      return;
    }
  failed (b, ponder_vk_op_rope (b->dev, &xv, &b->rope_table, n_tokens, n_heads, head_dim,
                                rope->n_rot, rope->pairing == PONDER_ROPE_NEOX, &b->error));
}

static bool
kv_layer (VkBackend           *b,
          const PonderKvCache *cache,
          const PonderKvLayer *kv,
          uint32_t            *out_il)
{
  if (cache != b->kv_cache || kv < cache->layers || kv >= cache->layers + cache->n_layers)
    return !failed (b, ponder_error_set (&b->error, PONDER_ERROR_INVALID_ARGUMENT,
                                         "Vulkan backend: not the step's KV cache"));
  *out_il = (uint32_t) (kv - cache->layers);
  return true;
}

static void
vk_kv_store (PonderBackend       *be,
             const PonderKvCache *cache,
             PonderKvLayer       *kv,
             uint32_t             pos0,
             uint32_t             n_tokens,
             const float         *k,
             const float         *v)
{
  VkBackend *b = vkb (be);
  size_t k_bytes = (size_t) n_tokens * cache->k_row * 4;
  size_t v_bytes = (size_t) n_tokens * cache->v_row * 4;
  const PonderVkBuffer *step;
  PonderVkBuffer kv_view, vv_view;
  uint32_t il = 0;

  if (step_failed (b) || !kv_layer (b, cache, kv, &il))
    return;
  if (pos0 + n_tokens > cache->n_ctx)
    {
      failed (b, ponder_error_set (&b->error, PONDER_ERROR_INVALID_ARGUMENT,
                                   "Vulkan backend: KV store at %u..%u", pos0, pos0 + n_tokens));
      return;
    }
  /* the position comes from the step buffer, so the store replays */
  step = ponder_vk_backend_step (be, pos0);
  if (step == NULL || !input (b, k, k_bytes, &kv_view)
      || (cache->v_row > 0 && !input (b, v, v_bytes, &vv_view)))
    return;
  if (cache->v_row == 0)
    vv_view = kv_view;
  failed (b, ponder_vk_op_kv_store (b->dev, &kv_view, &vv_view, &b->kv_k[il], &b->kv_v[il], step,
                                    n_tokens, pos0, cache->k_row, cache->v_row, cache->type,
                                    &b->error));
}

static void
vk_attention (PonderBackend       *be,
              const float         *q,
              const PonderKvCache *cache,
              const PonderKvLayer *kv,
              uint32_t             pos0,
              uint32_t             n_tokens,
              uint32_t             n_head,
              uint32_t             n_head_kv,
              uint32_t             hd_k,
              uint32_t             hd_v,
              float                scale,
              float               *out)
{
  VkBackend *b = vkb (be);
  const PonderVkBuffer *step;
  PonderVkBuffer qv, ov;
  uint32_t il = 0;

  if (step_failed (b) || !kv_layer (b, cache, kv, &il)
      || (step = ponder_vk_backend_step (be, pos0)) == NULL
      || !input (b, q, (size_t) n_tokens * n_head * hd_k * 4, &qv)
      || !output (b, out, (size_t) n_tokens * n_head * hd_v * 4, &ov))
    return;
  /* Decode past one chunk: split over the keys, so that a long context is
   * spread over many workgroups instead of one per head. */
  if (n_tokens == 1 && pos0 + 1 > ATTN_CHUNK
      && ((uint64_t) pos0 + ATTN_CHUNK) / ATTN_CHUNK * n_head * (hd_v + 2) * 4
         <= b->attn_part.size)
    failed (b, ponder_vk_op_attention_decode (b->dev, &qv, &b->kv_k[il], &b->kv_v[il],
                                              &b->attn_part, &ov, step, pos0, n_head, n_head_kv,
                                              hd_k, hd_v, cache->k_row, cache->v_row, ATTN_CHUNK,
                                              scale, cache->type, &b->error));
  else
    failed (b, ponder_vk_op_attention (b->dev, &qv, &b->kv_k[il], &b->kv_v[il], &ov, step,
                                       n_tokens, pos0, n_head, n_head_kv, hd_k, hd_v,
                                       cache->k_row, cache->v_row, scale, cache->type,
                                       &b->error));
}

static void
vk_swiglu (PonderBackend *be,
           float         *gate,
           const float   *up,
           size_t         n)
{
  VkBackend *b = vkb (be);
  PonderVkBuffer gv, uv;

  if (step_failed (b) || !output (b, gate, n * 4, &gv) || !input (b, up, n * 4, &uv))
    return;
  failed (b, ponder_vk_op_swiglu (b->dev, &gv, &uv, (uint32_t) n, &b->error));
}

static void
vk_add (PonderBackend *be,
        float         *x,
        const float   *y,
        size_t         n)
{
  VkBackend *b = vkb (be);
  PonderVkBuffer xv, yv;

  if (step_failed (b) || !output (b, x, n * 4, &xv) || !input (b, y, n * 4, &yv))
    return;
  failed (b, ponder_vk_op_add (b->dev, &xv, &yv, (uint32_t) n, &b->error));
}

/* ---- Steps ----------------------------------------------------------------- */

static void
free_kv (VkBackend *b)
{
  for (uint32_t il = 0; il < b->kv_layers; il++)
    {
      if (b->kv_k != NULL)
        ponder_vk_buffer_free (b->dev, &b->kv_k[il]);
      if (b->kv_v != NULL)
        ponder_vk_buffer_free (b->dev, &b->kv_v[il]);
    }
  free (b->kv_k);
  free (b->kv_v);
  ponder_vk_buffer_free (b->dev, &b->attn_part);
  b->kv_k = b->kv_v = NULL;
  b->kv_layers = 0;
  b->kv_cache = NULL;
}

static PonderStatus
ensure_kv (VkBackend           *b,
           const PonderKvCache *cache,
           PonderError         *error)
{
  size_t elem = ponder_vk_kv_elem_bytes (cache->type);
  PonderStatus status = PONDER_OK;

  /* A cache is known by its address and its shape: another one may come
   * to live at a freed one's address. */
  if (cache == b->kv_cache && cache->type == b->kv_shape.type
      && cache->n_ctx == b->kv_shape.n_ctx && cache->n_layers == b->kv_shape.n_layers
      && cache->k_row == b->kv_shape.k_row && cache->v_row == b->kv_shape.v_row)
    return PONDER_OK;
  if (!ponder_vk_kv_fits (cache->type, cache->k_row, cache->v_row))
    return ponder_error_set (error, PONDER_ERROR_UNSUPPORTED,
                             "a Vulkan device keeps an F16 KV cache only in rows of an even "
                             "number of elements (these are %u/%u); use an F32 cache",
                             cache->k_row, cache->v_row);
  free_kv (b);
  b->kv_k = calloc (cache->n_layers, sizeof *b->kv_k);
  b->kv_v = calloc (cache->n_layers, sizeof *b->kv_v);
  if (b->kv_k == NULL || b->kv_v == NULL)
    status = ponder_error_set (error, PONDER_ERROR_NO_MEMORY, "out of memory");
  /* Layers run by the CPU keep theirs in the cache's host arrays, layers of
   * another device on that device. */
  for (uint32_t il = b->model->first_layer; il < b->model->end_layer && status == PONDER_OK;
       il++)
    {
      b->kv_layers = il + 1;
      status = ponder_vk_buffer_new (b->dev, (size_t) cache->n_ctx * cache->k_row * elem,
                                     PONDER_VK_MEMORY_DEVICE, "kv-k", &b->kv_k[il], error);
      if (status == PONDER_OK)
        status = ponder_vk_buffer_new (b->dev, (size_t) cache->n_ctx * cache->v_row * elem,
                                       PONDER_VK_MEMORY_DEVICE, "kv-v", &b->kv_v[il], error);
    }
  if (status == PONDER_OK)
    {
      const PonderHparams *hp = &b->model->weights->hp;
      size_t n_chunks = ((size_t) cache->n_ctx + ATTN_CHUNK - 1) / ATTN_CHUNK;

      status = ponder_vk_buffer_new (b->dev, n_chunks * hp->n_head * (hp->head_dim_v + 2) * 4,
                                     PONDER_VK_MEMORY_DEVICE, "attn-part", &b->attn_part,
                                     error);
    }
  if (status != PONDER_OK)
    {
      free_kv (b);
      ponder_error_prefix (error, "KV cache of %u positions on the device: ", cache->n_ctx);
      return status;
    }
  b->kv_cache = cache;
  b->kv_shape = *cache;
  return PONDER_OK;
}

static PonderStatus
ensure_scratch (VkBackend   *b,
                PonderError *error)
{
  size_t need = 0;

  for (uint32_t i = 0; i < b->n_acts; i++)
    if (b->acts[i].bytes > need)
      need = b->acts[i].bytes;
  if (b->scratch.size >= need)
    return PONDER_OK;
  ponder_vk_buffer_free (b->dev, &b->scratch);
  return ponder_vk_buffer_new (b->dev, need, PONDER_VK_MEMORY_DEVICE, "scratch", &b->scratch,
                               error);
}

static double
now_s (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (double) ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* A decode step was submitted: its host time, from begin_step until it
 * went to the queue, counts as replayed or recorded. */
static void
count_step (VkBackend *b)
{
  double t = ponder_vk_submit_time (b->dev) - b->t_begin;
  uint64_t replayed = 0, recorded = 0;
  bool last_replayed = false;

  if (b->kept)
    ponder_vk_replay_counts (b->replay, &replayed, &recorded, &last_replayed);
  if (last_replayed)
    {
      b->counts.n_replayed++;
      b->counts.replayed_s += t;
    }
  else
    {
      b->counts.n_recorded++;
      b->counts.recorded_s += t;
    }
}

static void
vk_step_counts (PonderBackend    *be,
                PonderStepCounts *out)
{
  *out = vkb (be)->counts;
}

static PonderStatus
vk_begin_step (PonderBackend *be,
               PonderKvCache *cache,
               uint32_t       pos0,
               uint32_t       n_tokens,
               PonderError   *error)
{
  VkBackend *b = vkb (be);
  PonderStatus status;

  b->t_begin = now_s ();
  if (n_tokens > b->max_tokens)
    return ponder_error_set (error, PONDER_ERROR_INVALID_ARGUMENT,
                             "a step of %u tokens exceeds the Vulkan backend's %u", n_tokens,
                             b->max_tokens);
  pthread_mutex_lock (&b->model->lock);
  status = ensure_kv (b, cache, error);
  if (status == PONDER_OK)
    status = ensure_scratch (b, error);
  /* decode steps are kept, unless deepseek2 submits in the middle of them
   * (experts on the host or on peer devices) */
  b->kept = n_tokens == 1 && b->replay_on && !ponder_vk_ds2_backend_splits (b->ds2);
  if (status == PONDER_OK)
    status = b->kept ? ponder_vk_begin_kept (b->dev, b->replay, error)
                     : ponder_vk_begin (b->dev, error);
  if (status != PONDER_OK)
    {
      pthread_mutex_unlock (&b->model->lock);
      return status;
    }
  /* the device reads it when the step runs: a step never changes it */
  *(uint32_t *) b->step.mapped = pos0;
  b->step_pos0 = pos0;
  b->step_n = n_tokens;
  b->in_step = true;
  b->rope_ready = false;
  b->readback = NULL;
  b->status = PONDER_OK;
  b->error.code = PONDER_OK;
  b->error.message[0] = '\0';
  return PONDER_OK;
}

static PonderStatus
vk_end_step (PonderBackend *be,
             bool           run,
             PonderError   *error)
{
  VkBackend *b = vkb (be);
  PonderStatus status = b->status;

  if (!b->in_step)
    return ponder_error_set (error, PONDER_ERROR_INVALID_ARGUMENT,
                             "Vulkan backend: end_step without begin_step");
  b->in_step = false;
  if (status != PONDER_OK && error != NULL)
    *error = b->error;
  if (!run || status != PONDER_OK)
    ponder_vk_abort (b->dev);
  else
    {
      status = ponder_vk_submit_async (b->dev, error);
      if (status == PONDER_OK && b->step_n == 1)
        count_step (b);
      if (status == PONDER_OK)
        status = ponder_vk_wait (b->dev, error);
      if (status == PONDER_OK && b->readback != NULL)
        memcpy (b->readback, b->host_out.mapped, b->readback_bytes);
    }
  pthread_mutex_unlock (&b->model->lock);
  return status;
}

static void
vk_free (PonderBackend *be)
{
  VkBackend *b = vkb (be);

  if (b == NULL)
    return;
  ponder_vk_replay_free (b->dev, b->replay);
  free_kv (b);
  for (uint32_t i = 0; i < b->n_acts; i++)
    {
      ponder_vk_buffer_free (b->dev, &b->acts[i].buffer);
      munmap (b->acts[i].base, b->acts[i].bytes);
    }
  ponder_vk_buffer_free (b->dev, &b->embed_in);
  ponder_vk_buffer_free (b->dev, &b->ids);
  ponder_vk_buffer_free (b->dev, &b->rope_table);
  ponder_vk_buffer_free (b->dev, &b->host_out);
  ponder_vk_buffer_free (b->dev, &b->scratch);
  ponder_vk_buffer_free (b->dev, &b->step);
  ponder_vk_picks_free (b->dev, b->picks);
  ponder_vk_ds2_backend_free (b->dev, b->ds2);
  free (b);
}

PonderStatus
ponder_backend_vulkan_new (PonderVkModel  *model,
                           uint32_t        max_tokens,
                           PonderBackend **out_backend,
                           PonderError    *error)
{
  const PonderHparams *hp = &model->weights->hp;
  VkBackend *b;
  PonderStatus status;

  *out_backend = NULL;
  b = calloc (1, sizeof *b);
  if (b == NULL)
    return ponder_error_set (error, PONDER_ERROR_NO_MEMORY, "out of memory");
  b->model = model;
  b->dev = model->device;
  b->max_tokens = max_tokens;
  b->base.name = "vulkan";
  b->base.free = vk_free;
  b->base.begin_step = vk_begin_step;
  b->base.end_step = vk_end_step;
  b->base.alloc_activations = vk_alloc_activations;
  b->base.embed = vk_embed;
  b->base.upload = vk_upload;
  b->base.download = vk_download;
  b->base.rmsnorm = vk_rmsnorm;
  b->base.matmul = vk_matmul;
  b->base.matmul_multi = vk_matmul_multi;
  b->base.add_bias = vk_add_bias;
  b->base.rope = vk_rope;
  b->base.kv_store = vk_kv_store;
  b->base.attention = vk_attention;
  b->base.swiglu = vk_swiglu;
  b->base.add = vk_add;
  b->base.kv_types = PONDER_KV_TYPE_BIT (PONDER_KV_F16) | PONDER_KV_TYPE_BIT (PONDER_KV_F32);
  b->base.step_counts = vk_step_counts;
  b->replay_on = true;
  status = ponder_vk_buffer_new (b->dev, (size_t) max_tokens * hp->n_embd * 4,
                                 PONDER_VK_MEMORY_HOST, "embed-in", &b->embed_in, error);
  if (status == PONDER_OK)
    status = ponder_vk_buffer_new (b->dev, (size_t) max_tokens * hp->n_rot * 4,
                                   PONDER_VK_MEMORY_HOST, "rope-table", &b->rope_table, error);
  if (status == PONDER_OK)
    status = ponder_vk_buffer_new (b->dev, (size_t) max_tokens * 4, PONDER_VK_MEMORY_HOST, "ids",
                                   &b->ids, error);
  if (status == PONDER_OK)
    status = ponder_vk_buffer_new (b->dev, 4, PONDER_VK_MEMORY_HOST, "step", &b->step, error);
  if (status == PONDER_OK)
    status = ponder_vk_replay_new (b->dev, &b->replay, error);
  if (status == PONDER_OK)
    status = ponder_vk_picks_init (&b->base, &b->picks, error);
  if (status == PONDER_OK && hp->arch == PONDER_ARCH_DEEPSEEK2)
    status = ponder_vk_ds2_backend_init (&b->base, model->ds2, model->weights, max_tokens,
                                         &b->ds2, error);
  if (status != PONDER_OK)
    {
      vk_free (&b->base);
      return status;
    }
  *out_backend = &b->base;
  return PONDER_OK;
}

/* ---- Services for backend-vulkan-deepseek2.c ------------------------------ */

PonderVkDevice *
ponder_vk_backend_device (PonderBackend *be)
{
  return vkb (be)->dev;
}

PonderVkDs2Backend *
ponder_vk_backend_ds2 (PonderBackend *be)
{
  return vkb (be)->ds2;
}

PonderVkPicks *
ponder_vk_backend_picks (PonderBackend *be)
{
  return vkb (be)->picks;
}

bool
ponder_vk_backend_ready (PonderBackend *be)
{
  return !step_failed (vkb (be));
}

bool
ponder_vk_backend_input (PonderBackend  *be,
                         const void     *p,
                         size_t          bytes,
                         PonderVkBuffer *out_view)
{
  return input (vkb (be), p, bytes, out_view);
}

bool
ponder_vk_backend_output (PonderBackend  *be,
                          void           *p,
                          size_t          bytes,
                          PonderVkBuffer *out_view)
{
  return output (vkb (be), p, bytes, out_view);
}

bool
ponder_vk_backend_failed (PonderBackend *be,
                          PonderStatus   status)
{
  return failed (vkb (be), status);
}

PonderError *
ponder_vk_backend_error (PonderBackend *be)
{
  return &vkb (be)->error;
}

bool
ponder_vk_backend_kv (PonderBackend       *be,
                      const PonderKvCache *cache,
                      const PonderKvLayer *kv,
                      PonderVkBuffer      *out_k)
{
  VkBackend *b = vkb (be);
  uint32_t il = 0;

  if (!kv_layer (b, cache, kv, &il))
    return false;
  *out_k = b->kv_k[il];
  return true;
}

const PonderVkBuffer *
ponder_vk_backend_rope_table (PonderBackend *be,
                              uint32_t       pos0,
                              uint32_t       n_tokens)
{
  VkBackend *b = vkb (be);

  if (!b->rope_ready || b->rope_pos0 != pos0 || b->rope_n != n_tokens)
    return NULL;
  return &b->rope_table;
}

const PonderVkBuffer *
ponder_vk_backend_step (PonderBackend *be,
                        uint32_t       pos0)
{
  VkBackend *b = vkb (be);

  if (b->step_pos0 != pos0)
    {
      failed (b, ponder_error_set (&b->error, PONDER_ERROR_INVALID_ARGUMENT,
                                   "Vulkan backend: an op at position %u in the step at %u",
                                   pos0, b->step_pos0));
      return NULL;
    }
  return &b->step;
}

void
ponder_backend_vulkan_set_replay (PonderBackend *be,
                                  bool           on)
{
  VkBackend *b = vkb (be);

  b->replay_on = on;
  if (!on)
    ponder_vk_replay_forget (b->replay);
}
