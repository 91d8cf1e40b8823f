/* backend.h: the operations the forward pass needs, behind function pointers.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * forward.c is written once against this table. A backend is chosen per
 * layer at load time (the forward pass keeps one pointer per layer), so a
 * Vulkan backend can take some layers and the CPU the rest. Activations are
 * float buffers the backend hands out with alloc_activations, so a GPU
 * backend may give host-visible device memory; the CPU backend gives plain
 * memory. Rows are tokens: a buffer of shape (n_tokens, n) has token t's
 * vector at t * n. Every op acts on a batch of n_tokens rows.
 *
 * The deepseek2 ops are at the end of the table (per-slice products of a
 * 3-D weight, the MoE FFN driven by a routing result, the fused latent
 * attention); a backend without them leaves them NULL and cannot run that
 * architecture. Routing (top-k over router logits) is plain C in
 * forward-deepseek2.c unless the backend has a route op (a device backend,
 * so that the expert ids never leave the device).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kv-cache.h"
#include "model.h"
#include "ponder-engine.h"

/* RoPE parameters with everything that does not depend on the position
 * precomputed: theta_i(p) = p * freq[i], magnitude mscale (spec 3.2). */
typedef struct
{
  PonderRopePairing pairing;
  uint32_t          n_rot;
  float             mscale;
  float            *freq; /* (n_rot / 2) base^(-2i/n_rot) / ff_i, YaRN-blended */
} PonderRope;

PonderStatus ponder_rope_init  (PonderRope          *rope,
                                const PonderHparams *hp,
                                const float         *freq_factors, /* (n_rot / 2) or NULL */
                                PonderError         *error);
void         ponder_rope_clear (PonderRope          *rope);

typedef struct PonderBackend PonderBackend;

/* A device backend's decode steps: those that ran a command buffer kept
 * from an earlier step and those recorded anew, with the host time each
 * kind took from begin_step until the step was submitted. */
typedef struct
{
  uint64_t n_replayed;
  uint64_t n_recorded;
  double   replayed_s;
  double   recorded_s;
} PonderStepCounts;

/* What a device reduces the logits to for sampling, laid out as the
 * device writes it (shaders/topk.glsl); ponder_top_logits_view turns it into
 * the sampler's PonderTopLogits. */
#define PONDER_TOP_LOGITS_CAPACITY 64
typedef struct
{
  uint32_t n_finite;
  uint32_t n;
  float    max;
  float    sum_exp;
  float    logits[PONDER_TOP_LOGITS_CAPACITY];
  int32_t  ids[PONDER_TOP_LOGITS_CAPACITY];
} PonderTopLogitsRecord;

#define PONDER_MATMUL_MAX_MULTI 3

/* A set of cache element types, as in PonderBackend.kv_types. */
#define PONDER_KV_TYPE_BIT(type) (1u << (unsigned) (type))

struct PonderBackend
{
  const char *name;

  /* The cache types kv_store, attention and mla_attention take
   * (PONDER_KV_TYPE_BIT of each); 0 means F32 only, so that a backend
   * written before there was a choice needs no change. */
  unsigned kv_types;

  void   (*free)              (PonderBackend *be);

  /* Brackets one forward step (ponder_forward_run); both may be NULL (the
   * CPU runs each op as it is called). A device backend records the ops
   * between them and runs them all in end_step, with run false when the
   * step was cancelled (nothing runs). Buffers the ops write that the
   * backend did not hand out (the logits) are filled when end_step
   * returns. Errors of the ops in between are reported by end_step. */
  PonderStatus (*begin_step) (PonderBackend *be, PonderKvCache *cache, uint32_t pos0,
                              uint32_t n_tokens, PonderError *error);
  PonderStatus (*end_step)   (PonderBackend *be, bool run, PonderError *error);

  /* dst (n floats, from alloc_activations) = src (n floats of host memory),
   * within a step; NULL in the CPU backend. */
  void   (*upload)   (PonderBackend *be, float *dst, const float *src, size_t n);

  /* dst (n floats of host memory) = src (n floats from alloc_activations),
   * within a step, filled when end_step returns (the residual stream handed
   * to the next device of a split); NULL in the CPU backend. */
  void   (*download) (PonderBackend *be, float *dst, const float *src, size_t n);

  /* Returns a buffer of n floats valid until the backend is freed. */
  float *(*alloc_activations) (PonderBackend *be, size_t n);

  /* out (n_tokens, n_in) = dequantised rows ids of table. */
  void   (*embed)    (PonderBackend *be, const PonderWeight *table, const int32_t *ids,
                      uint32_t n_tokens, float *out);

  /* out (n_rows, n) = rmsnorm of each row of x with weight w (n); out may be x. */
  void   (*rmsnorm)  (PonderBackend *be, const float *x, const float *w, uint32_t n_rows,
                      uint32_t n, float eps, float *out);

  /* y (n_tokens, w->n_out) = x (n_tokens, w->n_in) times w transposed. */
  void   (*matmul)   (PonderBackend *be, const PonderWeight *w, const float *x,
                      uint32_t n_tokens, float *y);

  /* The same for n_weights (<= PONDER_MATMUL_MAX_MULTI) matrices that share
   * the input x and n_in, as one parallel job: y[j] = x times w[j]
   * transposed. */
  void   (*matmul_multi) (PonderBackend *be, uint32_t n_weights, const PonderWeight **w,
                          const float *x, uint32_t n_tokens, float **y);

  /* y (n_rows, n) += bias (n) on every row. */
  void   (*add_bias) (PonderBackend *be, float *y, const float *bias, uint32_t n_rows,
                      uint32_t n);

  /* Rotates the first rope->n_rot dims of every head of x (n_tokens, n_heads,
   * head_dim) in place; token t sits at position pos0 + t. */
  void   (*rope)     (PonderBackend *be, float *x, uint32_t n_tokens, uint32_t n_heads,
                      uint32_t head_dim, uint32_t pos0, const PonderRope *rope);

  /* Stores k (n_tokens, k_row) and v (n_tokens, v_row) at positions
   * [pos0, pos0 + n_tokens) of layer kv. */
  void   (*kv_store) (PonderBackend *be, const PonderKvCache *cache, PonderKvLayer *kv,
                      uint32_t pos0, uint32_t n_tokens, const float *k, const float *v);

  /* Causal GQA attention: out (n_tokens, n_head * hd_v) from q (n_tokens,
   * n_head * hd_k) over positions [0, pos0 + t] of kv for token t. */
  void   (*attention) (PonderBackend *be, const float *q, const PonderKvCache *cache,
                       const PonderKvLayer *kv, uint32_t pos0, uint32_t n_tokens,
                       uint32_t n_head, uint32_t n_head_kv, uint32_t hd_k, uint32_t hd_v,
                       float scale, float *out);

  /* gate (n) = silu (gate) * up. */
  void   (*swiglu)   (PonderBackend *be, float *gate, const float *up, size_t n);

  /* x (n) += y. */
  void   (*add)      (PonderBackend *be, float *x, const float *y, size_t n);

  /* Greedy decoding's pick without reading the logits back: *out_id = the
   * index of the largest of the n floats of x (from alloc_activations), ties
   * to the lowest, never one of masked (n_masked ids); -1 when none
   * qualifies (all NaN or masked). Written when end_step returns. NULL: the
   * caller reads the logits back and picks on the host. */
  void   (*argmax)   (PonderBackend *be, const float *x, uint32_t n, const int32_t *masked,
                      size_t n_masked, int32_t *out_id);

  /* Decode steps (one token) run so far, as PonderStepCounts; NULL in a
   * backend that records nothing ahead (the CPU). */
  void   (*step_counts) (PonderBackend *be, PonderStepCounts *out);

  /* Sampling without reading the logits back: *out = the best
   * PONDER_TOP_LOGITS_CAPACITY of the n floats of x (from alloc_activations)
   * outside masked, their count and softmax normaliser at temperature
   * (sampler.h's PonderTopLogits, with the arrays inline). Written when
   * end_step returns. NULL: the caller samples on the host. */
  void   (*top_logits) (PonderBackend *be, const float *x, uint32_t n, const int32_t *masked,
                        size_t n_masked, float temperature, PonderTopLogitsRecord *out);

  /* ---- deepseek2 (NULL in backends that cannot run it) ---- */

  /* Per-slice products of a 3-D weight (w: one slice's n_in, n_out; slice s
   * at w->data + s * n_out * row_bytes): y (n_tokens, n_slices, n_out) row
   * (t, s) = matrix s times x (n_tokens, n_slices, n_in) row (t, s). */
  void   (*matmul_slices) (PonderBackend *be, const PonderWeight *w, uint32_t n_slices,
                           const float *x, uint32_t n_tokens, float *y);

  /* Routed experts plus the shared expert of one MoE layer: out (n_tokens,
   * n_embd) = sum_k weights[t, k] Expert_ids[t, k] (x_t) + Shared (x_t), each
   * expert a SwiGLU FFN. ids, weights: (n_tokens, n_used). */
  void   (*moe)      (PonderBackend *be, const PonderLayer *l, const float *x,
                      uint32_t n_tokens, uint32_t n_used, const int32_t *ids,
                      const float *weights, float *out);

  /* Absorbed MLA (spec 4.4) after the cache store, all in one: per head
   * q_abs = W_UK_h^T q_nope, softmax over the latent rows [c_kv | k_pe] of
   * kv at positions [0, pos0 + t], o = W_UV_h (sum p c_kv). q (n_tokens,
   * n_head, dk) holds the RoPE'd queries, or, when cq (n_tokens, q_lora,
   * normalised) is given, receives them: q = W_q_b c_q and RoPE at the
   * positions of the last rope call (the one on k_pe). out (n_tokens,
   * n_head, dv); qa and olat are scratch of (n_tokens, n_head, kv_lora)
   * each. May be NULL: the forward then uses matmul_slices and attention. */
  void   (*mla_attention) (PonderBackend *be, const PonderLayer *l, const PonderHparams *hp,
                           const float *cq, float *q, const PonderKvCache *cache,
                           const PonderKvLayer *kv,
                           uint32_t pos0, uint32_t n_tokens, float *qa, float *olat,
                           float *out);

  /* MoE routing of spec 4.3 (ponder_deepseek2_route's rule) for n_tokens
   * rows of router logits (n_tokens, n_expert); bias (n_expert) or NULL.
   * ids and weights (n_tokens, n_expert_used) are then buffers from
   * alloc_activations that moe reads. NULL: the forward routes on the host
   * and hands moe host arrays. */
  void   (*route)    (PonderBackend *be, const PonderHparams *hp, const float *bias,
                      const float *logits, uint32_t n_tokens, int32_t *ids, float *weights);
};

typedef struct PonderThreadpool PonderThreadpool;

/* The CPU backend runs its parallel ops on pool (borrowed, owned by the
 * session). max_tokens and max_n_in size its scratch for prepared matmul
 * inputs. */
PonderStatus ponder_backend_cpu_new (PonderThreadpool *pool,
                                     uint32_t          max_tokens,
                                     size_t            max_n_in,
                                     PonderBackend   **out_backend,
                                     PonderError      *error);

/* ---- Vulkan (backend-vulkan.c; vulkan-none.c without Vulkan) ---- */

/* The weights of one model on one Vulkan device, uploaded at load and shared
 * by the backends of the model's sessions (which take turns on the device:
 * a step holds it from begin_step to end_step). */
typedef struct PonderVkModel PonderVkModel;

typedef struct
{
  int         device_index; /* -1: the default (discrete > integrated > CPU) */
  bool        validation;   /* Khronos validation layer, messages counted */
  const char *loader_path;  /* NULL: libvulkan.so.1 */
  uint32_t    host_expert_layers; /* deepseek2: the routed experts of the last N MoE
                                     layers stay in system memory, run by the CPU */
  uint64_t    max_expert_buffer;  /* deepseek2: bytes per buffer of routed experts
                                     (tests); 0: the device's binding range, <= 1 GiB */
  uint32_t    first_layer;  /* dense partial offload: layers before it stay on the
                               CPU and are not uploaded (0: all on the device) */
  uint32_t    end_layer;    /* dense, several devices: layers from it on run on
                               another device, which also holds the output head
                               (0: n_layers, this device has the head) */
  /* deepseek2, several devices: each of these holds an equal share of every
   * MoE layer's routed experts (expert parallelism), this one the first */
  uint32_t    n_expert_devices;
  int32_t     expert_devices[PONDER_MAX_DEVICES - 1];
  uint64_t    memory_limit; /* refuse weights over this many bytes (0: the heap's size) */
} PonderVkModelParams;

/* Opens the device and uploads every weight the dense forward pass reads
 * (an untied token_embd stays on the host: rows are gathered there).
 * UNSUPPORTED, naming the reason, for an architecture or weight type the
 * shaders lack. */
PonderStatus ponder_vk_model_new  (const PonderModelWeights  *weights,
                                   const PonderVkModelParams *params,
                                   PonderVkModel            **out_model,
                                   PonderError               *error);
void         ponder_vk_model_free (PonderVkModel             *model);
const char  *ponder_vk_model_device_name (const PonderVkModel *model);
/* Validation messages seen so far (0 without params.validation). */
uint32_t     ponder_vk_model_n_messages  (const PonderVkModel *model,
                                          const char         **out_first);

/* Whether these backends keep a cache of type with rows of k_row/v_row
 * elements: F32 always, F16 when each row is whole 32-bit words (the
 * shaders read halves in pairs; every real model's rows are even). A load
 * decides the sessions' cache type with it before any backend exists. */
static inline bool
ponder_vk_kv_fits (PonderKvType type,
                   uint32_t     k_row,
                   uint32_t     v_row)
{
  return type == PONDER_KV_F32 || (type == PONDER_KV_F16 && k_row % 2 == 0 && v_row % 2 == 0);
}

/* A backend over model's device for batches of up to max_tokens; the KV
 * cache given to begin_step lives on the device (its host arrays are not
 * touched). */
PonderStatus ponder_backend_vulkan_new (PonderVkModel  *model,
                                        uint32_t        max_tokens,
                                        PonderBackend **out_backend,
                                        PonderError    *error);
