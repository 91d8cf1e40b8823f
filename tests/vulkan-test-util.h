/* vulkan-test-util.h — the device fixture shared by the Vulkan op tests
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Each test opens the default device (lavapipe in CI) and, when run under
 * the Khronos validation layer, fails if the layer said anything.
 */
#pragma once

#include <glib.h>
#include <stdatomic.h>
#include <string.h>

#include "quant.h"
#include "vulkan-private.h"

typedef struct
{
  PonderVulkan   *vk;
  PonderVkDevice *dev;
} Fixture;

#define CHECK_OK(call)                                                  \
  G_STMT_START {                                                        \
    PonderError check_error_ = { 0 };                                   \
    PonderError *ck = &check_error_;                                    \
    if ((call) != PONDER_OK)                                            \
      g_error ("%s: %s", #call, check_error_.message);                  \
  } G_STMT_END

static inline bool
vulkan_fixture_open (Fixture *f,
                     bool     validation,
                     bool     force_staging)
{
  PonderVkParams params = ponder_vk_params_default ();
  PonderError error = { 0 };

  memset (f, 0, sizeof *f);
  params.validation = validation;
  params.force_staging = force_staging;
  if (ponder_vk_open (&params, &f->vk, &error) != PONDER_OK)
    {
      g_test_fail_printf ("no Vulkan device to test on: %s", error.message);
      return false;
    }
  if (ponder_vk_device_new (f->vk, -1, &params, &f->dev, &error) != PONDER_OK)
    {
      g_test_fail_printf ("opening the default Vulkan device: %s", error.message);
      ponder_vk_close (f->vk);
      return false;
    }
  return true;
}

static inline void
fixture_close (Fixture *f)
{
  unsigned n_messages = f->vk != NULL ? atomic_load (&f->vk->n_messages) : 0;

  ponder_vk_device_free (f->dev);
  if (f->vk != NULL && n_messages > 0)
    g_test_fail_printf ("%u validation messages; the first: %s", n_messages,
                        f->vk->first_message);
  ponder_vk_close (f->vk);
}

static inline float *
random_floats (size_t n,
               double scale)
{
  float *v = g_new (float, n);

  for (size_t i = 0; i < n; i++)
    v[i] = (float) g_test_rand_double_range (-scale, scale);
  return v;
}

static inline void
put_f16 (uint8_t *p,
         float    value)
{
  uint16_t h = ponder_fp32_to_fp16 (value);

  memcpy (p, &h, 2);
}
