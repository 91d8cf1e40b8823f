/* sampler.h: from logits to the next token.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Order: repetition penalty, top-k, temperature, softmax, min-p, top-p, draw.
 * Temperature 0 is greedy (argmax). The RNG is the sampler's own, seeded by
 * the caller, so the same seed and logits give the same tokens.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ponder-engine.h"

typedef struct PonderSampler PonderSampler;

PonderSampler *ponder_sampler_new    (const PonderSamplerParams *params,
                                      uint32_t                   n_vocab);
void           ponder_sampler_free   (PonderSampler             *sampler);

/* Never picks these ids (a model's padding ids, engine-spec 5.1): their
 * logits are taken as -inf. Replaces an earlier list; false if out of memory. */
bool           ponder_sampler_mask   (PonderSampler             *sampler,
                                      const int32_t             *ids,
                                      size_t                     n_ids);

/* True when the pick is the plain argmax of the logits outside the mask
 * (temperature 0 and no repetition penalty), so a device may make it;
 * *out_masked / *out_n_masked then give the mask (owned by the sampler). */
bool           ponder_sampler_is_greedy (const PonderSampler  *sampler,
                                         const int32_t       **out_masked,
                                         size_t               *out_n_masked);

/* The best logits of a vocabulary, as a device reduces them so that
 * sampling reads back a short list instead of every logit (masked ids,
 * NaN and -inf left out; +inf counts as FLT_MAX). */
typedef struct
{
  uint32_t       n_finite;  /* logits that qualify, over the whole vocabulary */
  uint32_t       n;         /* listed: min (n_finite, the device's capacity) */
  float          max;       /* the largest qualifying logit */
  float          sum_exp;   /* sum of exp ((x - max) / temperature) over all n_finite */
  const float   *logits;    /* (n) best first; equal logits: lower id first */
  const int32_t *ids;       /* (n) */
} PonderTopLogits;

/* True when a pick can come from the best `capacity` logits plus the
 * softmax normaliser: temperature > 0, no repetition penalty and top_k <=
 * capacity. Whether a given list suffices shows in ponder_sampler_sample_top. */
bool           ponder_sampler_top_usable (const PonderSampler *sampler,
                                          uint32_t             capacity);

/* The sampler's temperature (the device's normaliser depends on it). */
float          ponder_sampler_temperature (const PonderSampler *sampler);

/* Picks a token from a device's best logits, with the same rules as
 * ponder_sampler_sample. Returns -1, drawing nothing, when the list is too
 * short to know the candidates (the nucleus or min-p's survivors run past
 * it, or there is no cut at all): the caller then samples the full logits. */
int32_t        ponder_sampler_sample_top (PonderSampler         *sampler,
                                          const PonderTopLogits *top);

/* For tests: ponder_sampler_candidates from a device's best logits; 0 when
 * ponder_sampler_sample_top would return -1. */
size_t         ponder_sampler_candidates_top (PonderSampler         *sampler,
                                              const PonderTopLogits *top,
                                              const int32_t        **out_ids,
                                              const float          **out_probs);

/* Records a token for the repetition penalty window (prompt and output). */
void           ponder_sampler_accept (PonderSampler             *sampler,
                                      int32_t                    token);

/* Picks a token from logits (n_vocab floats; may be modified in place). */
int32_t        ponder_sampler_sample (PonderSampler             *sampler,
                                      float                     *logits);

/* For tests: every step of ponder_sampler_sample() but the draw. Returns the
 * number of surviving candidates and points *out_ids / *out_probs at them,
 * most probable first (ties: lower id first), with their final
 * probabilities (summing to 1). The arrays belong to the sampler and stay
 * valid until its next call; 0 only if an allocation failed. */
size_t         ponder_sampler_candidates (PonderSampler        *sampler,
                                          float                *logits,
                                          const int32_t       **out_ids,
                                          const float         **out_probs);
