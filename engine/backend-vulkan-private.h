/* backend-vulkan-private.h: what backend-vulkan.c shares with its parts
 * (besides vulkan-deepseek2.h's services).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "backend.h"
#include "vulkan-private.h"

/* backend-vulkan-pick.c: argmax and top logits on the device. init sets
 * be's argmax (and top_logits where sampling on the device pays). */
typedef struct PonderVkPicks PonderVkPicks;

PonderStatus   ponder_vk_picks_init    (PonderBackend *be, PonderVkPicks **out_picks,
                                        PonderError *error);
void           ponder_vk_picks_free    (PonderVkDevice *device, PonderVkPicks *picks);
PonderVkPicks *ponder_vk_backend_picks (PonderBackend *be);
