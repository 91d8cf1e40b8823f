/* vulkan-none.c: ponder_list_devices for builds without the Vulkan backend.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Used when glslangValidator or the Vulkan headers were missing at build
 * time (meson option vulkan=auto); the CPU backend still runs.
 */
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
