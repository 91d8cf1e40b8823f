/* vulkan-none.c: the Vulkan entry points for builds without the Vulkan backend.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Used when glslangValidator or the Vulkan headers were missing at build
 * time (meson option vulkan=auto); the CPU backend still runs.
 */
#include "backend.h"
#include "error.h"
#include "ponder-engine.h"

size_t
ponder_list_devices (PonderDeviceInfo *out,
                     size_t            max,
                     PonderError      *error)
{
  ponder_error_set (error, PONDER_ERROR_UNSUPPORTED,
                    "this build has no Vulkan backend (glslangValidator or the Vulkan "
                    "headers were missing when it was configured)");
  return 0;
}

PonderStatus
ponder_vk_model_new (const PonderModelWeights  *weights,
                     const PonderVkModelParams *params,
                     PonderVkModel            **out_model,
                     PonderError               *error)
{
  (void) weights;
  (void) params;
  *out_model = NULL;
  return ponder_error_set (error, PONDER_ERROR_UNSUPPORTED,
                           "this build has no Vulkan backend (glslangValidator or the Vulkan "
                           "headers were missing when it was configured)");
}

void
ponder_vk_model_free (PonderVkModel *model)
{
  (void) model;
}

const char *
ponder_vk_model_device_name (const PonderVkModel *model)
{
  (void) model;
  return "none";
}

uint32_t
ponder_vk_model_n_messages (const PonderVkModel *model,
                            const char         **out_first)
{
  (void) model;
  if (out_first != NULL)
    *out_first = "";
  return 0;
}

PonderStatus
ponder_backend_vulkan_new (PonderVkModel  *model,
                           uint32_t        max_tokens,
                           PonderBackend **out_backend,
                           PonderError    *error)
{
  (void) model;
  (void) max_tokens;
  *out_backend = NULL;
  return ponder_error_set (error, PONDER_ERROR_UNSUPPORTED, "this build has no Vulkan backend");
}
