/* sampler.h: from logits to the next token.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Order: repetition penalty, top-k, temperature, softmax, min-p, top-p, draw.
 * Temperature 0 is greedy (argmax). The RNG is the sampler's own, seeded by
 * the caller, so the same seed and logits give the same tokens.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "ponder-engine.h"

typedef struct PonderSampler PonderSampler;

PonderSampler *ponder_sampler_new    (const PonderSamplerParams *params,
                                      uint32_t                   n_vocab);
void           ponder_sampler_free   (PonderSampler             *sampler);

/* Records a token for the repetition penalty window (prompt and output). */
void           ponder_sampler_accept (PonderSampler             *sampler,
                                      int32_t                    token);

/* Picks a token from logits (n_vocab floats; may be modified in place). */
int32_t        ponder_sampler_sample (PonderSampler             *sampler,
                                      float                     *logits);
