/* vulkan-model-private.h: what backend-vulkan.c shares with vulkan-model.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <pthread.h>

#include "backend.h"
#include "vulkan-deepseek2.h"
#include "vulkan-private.h"

typedef struct
{
  const void     *host;  /* the pointer forward.c passes */
  PonderVkBuffer  buffer;
} WeightEntry;

struct PonderVkModel
{
  PonderVulkan             *vk;
  PonderVkDevice           *device;
  pthread_mutex_t           lock;
  const PonderModelWeights *weights;
  WeightEntry              *entries; /* sorted by host once loaded */
  size_t                    n_entries;
  size_t                    cap_entries;
  PonderVkDs2Model         *ds2;     /* deepseek2's fused expert buffers */
  uint32_t                  first_layer; /* layers before it run elsewhere */
  uint32_t                  end_layer;   /* layers from it on run on another device */
};

const PonderVkBuffer *ponder_vk_model_find_weight (const PonderVkModel *m,
                                                   const void          *host);

/* Tests and benchmarks: whether a Vulkan backend keeps and replays its
 * decode steps (on by default); off, every step is recorded. */
void ponder_backend_vulkan_set_replay (PonderBackend *be, bool on);
