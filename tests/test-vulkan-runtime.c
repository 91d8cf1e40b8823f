/* test-vulkan-runtime.c: the Vulkan runtime around the kernels: device
 * listing and choice, a missing loader, malformed dispatches, the pipeline
 * cache and allocation failure, each an error the caller can handle.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * With no Vulkan device the tests fail with the reason: CI installs
 * mesa-vulkan-drivers, so lavapipe is always there.
 */
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>

#include "backend.h"
#include "threadpool.h"
#include "vulkan-private.h"
#include "vulkan-test-util.h"

/* PONDER_TEST_VALIDATION: with the Khronos validation layer, every message
 * a failure (the malformed dispatches must be refused before the driver). */
static bool
fixture_open (Fixture *f)
{
  return vulkan_fixture_open (f, g_getenv ("PONDER_TEST_VALIDATION") != NULL, false);
}

/* A malformed dispatch is an error, never an abort, and leaves the device
 * usable. */
static void
test_dispatch_checks (void)
{
  PonderVkElementwisePush push = { 4 };
  PonderVkRmsnormPush wrong_push = { 0 };
  const uint32_t wg = 256, bad_wg = 100;
  uint32_t groups[3] = { 1, 1, 1 };
  uint32_t huge[3] = { 1, 1, UINT32_MAX };
  PonderError error = { 0 };
  PonderVkBuffer a, b;
  const PonderVkBuffer *bufs[2];
  Fixture f;

  if (!fixture_open (&f))
    return;
  a = upload_new (&f, NULL, 16, PONDER_VK_MEMORY_HOST);
  b = upload_new (&f, NULL, 16, PONDER_VK_MEMORY_HOST);
  bufs[0] = &a;
  bufs[1] = &b;
  g_assert_cmpint (ponder_vk_dispatch (f.dev, PONDER_VK_KERNEL_ADD, &wg, 1, groups, bufs, 2,
                                       &push, sizeof push, &error), ==,
                   PONDER_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error.message, "outside"));
  CHECK_OK (ponder_vk_begin (f.dev, ck));
  g_assert_cmpint (ponder_vk_dispatch (f.dev, PONDER_VK_KERNEL_ADD, &wg, 1, groups, bufs, 1,
                                       &push, sizeof push, &error), ==,
                   PONDER_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error.message, "1 buffers, the shader binds 2"));
  g_assert_cmpint (ponder_vk_dispatch (f.dev, PONDER_VK_KERNEL_ADD, &wg, 1, groups, bufs, 2,
                                       &wrong_push, sizeof wrong_push, &error), ==,
                   PONDER_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error.message, "push-constant"));
  g_assert_cmpint (ponder_vk_dispatch (f.dev, PONDER_VK_KERNEL_ADD, &bad_wg, 1, groups, bufs, 2,
                                       &push, sizeof push, &error), ==,
                   PONDER_ERROR_INVALID_ARGUMENT);
  g_assert_cmpint (ponder_vk_dispatch (f.dev, PONDER_VK_KERNEL_ADD, &wg, 0, groups, bufs, 2,
                                       &push, sizeof push, &error), ==,
                   PONDER_ERROR_INVALID_ARGUMENT);
  g_assert_cmpint (ponder_vk_dispatch (f.dev, PONDER_VK_KERNEL_ADD, &wg, 1, huge, bufs, 2,
                                       &push, sizeof push, &error), ==,
                   PONDER_ERROR_UNSUPPORTED);
  g_assert_nonnull (strstr (error.message, "workgroups on axis 2"));
  g_assert_cmpint (ponder_vk_op_matmul (f.dev, PONDER_TYPE_Q4_K, &a, 144, 255, 1, &b, 1, &b,
                                        &error), ==, PONDER_ERROR_INVALID_ARGUMENT);
  /* Q8_K (only ever the CPU's activation blocks) and the IQ embedding
   * tables have no shader. */
  g_assert_cmpint (ponder_vk_op_matmul (f.dev, PONDER_TYPE_Q8_K, &a, 292, 256, 1, &b, 1, &b,
                                        &error), ==, PONDER_ERROR_UNSUPPORTED);
  g_assert_nonnull (strstr (error.message, "Q8_K"));
  g_assert_cmpint (ponder_vk_op_embed (f.dev, PONDER_TYPE_IQ2_XXS, &a, 66, 256, 1, &b, 1, &b,
                                       &error), ==, PONDER_ERROR_UNSUPPORTED);
  /* The valid dispatch still runs after the refusals. */
  CHECK_OK (ponder_vk_dispatch (f.dev, PONDER_VK_KERNEL_ADD, &wg, 1, groups, bufs, 2, &push,
                                sizeof push, ck));
  CHECK_OK (ponder_vk_submit (f.dev, ck));
  ponder_vk_buffer_free (f.dev, &a);
  ponder_vk_buffer_free (f.dev, &b);
  fixture_close (&f);
}

/* The in-process table builds each variant once; the disk cache is written
 * on free and accepted when the device is opened again. */
static void
test_pipeline_cache (void)
{
  PonderVkParams params = ponder_vk_params_default ();
  g_autofree char *dir = g_dir_make_tmp ("ponder-vk-XXXXXX", NULL);
  PonderError error = { 0 };
  PonderVkDevice *dev;
  PonderVkBuffer a, b;
  GDir *listing;
  const char *name;
  int n_files = 0;
  Fixture f;

  if (!fixture_open (&f))
    return;
  params.cache_dir = dir;
  g_assert_cmpint (ponder_vk_device_new (f.vk, -1, &params, &dev, &error), ==, PONDER_OK);
  g_assert_cmpint (ponder_vk_buffer_new (dev, 64, PONDER_VK_MEMORY_HOST, "a", &a, &error), ==,
                   PONDER_OK);
  g_assert_cmpint (ponder_vk_buffer_new (dev, 64, PONDER_VK_MEMORY_HOST, "b", &b, &error), ==,
                   PONDER_OK);
  for (int step = 0; step < 3; step++)
    {
      CHECK_OK (ponder_vk_begin (dev, ck));
      CHECK_OK (ponder_vk_op_add (dev, &a, &b, 16, ck));
      CHECK_OK (ponder_vk_op_swiglu (dev, &a, &b, 16, ck));
      CHECK_OK (ponder_vk_op_add (dev, &b, &a, 16, ck));
      CHECK_OK (ponder_vk_submit (dev, ck));
    }
  g_assert_cmpuint (ponder_vk_device_n_pipelines (dev), ==, 2);
  ponder_vk_buffer_free (dev, &a);
  ponder_vk_buffer_free (dev, &b);
  ponder_vk_device_free (dev);
  listing = g_dir_open (dir, 0, NULL);
  g_assert_nonnull (listing);
  while ((name = g_dir_read_name (listing)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);

      g_assert_true (g_str_has_prefix (name, "vk-pipelines-"));
      n_files++;
      g_assert_cmpint (g_unlink (path), ==, 0);
    }
  g_dir_close (listing);
  g_assert_cmpint (n_files, ==, 1);
  g_assert_cmpint (g_rmdir (dir), ==, 0);
  fixture_close (&f);
}

static void
test_devices (void)
{
  PonderDeviceInfo infos[8];
  PonderError error = { 0 };
  size_t n = ponder_list_devices (infos, G_N_ELEMENTS (infos), &error);
  int n_default = 0;

  if (n == 0)
    {
      g_test_fail_printf ("no Vulkan device: %s", error.message);
      return;
    }
  for (size_t i = 0; i < n && i < G_N_ELEMENTS (infos); i++)
    {
      g_test_message ("device %zu: %s, kind %d, %" G_GUINT64_FORMAT " bytes, subgroup %u", i,
                      infos[i].name, infos[i].kind, infos[i].memory_bytes, infos[i].subgroup_size);
      g_assert_cmpuint (strlen (infos[i].name), >, 0);
      g_assert_cmpuint (infos[i].memory_bytes, >, 0);
      n_default += infos[i].is_default;
    }
  g_assert_cmpint (n_default, ==, 1);
}

/* No loader: the reason is reported and the CPU backend still works. */
static void
test_no_loader (void)
{
  PonderVkParams params = ponder_vk_params_default ();
  PonderError error = { 0 };
  PonderVulkan *vk = (PonderVulkan *) 1;
  PonderThreadpool *pool;
  PonderBackend *cpu;
  float x[3] = { 1, 2, 3 }, w[3] = { 1, 1, 2 }, y[3];
  double scale = 1.0 / sqrt (14.0 / 3.0);

  params.loader_path = "/nonexistent/libvulkan.so.1";
  g_assert_cmpint (ponder_vk_open (&params, &vk, &error), ==, PONDER_ERROR_UNSUPPORTED);
  g_assert_null (vk);
  g_assert_nonnull (strstr (error.message, "no Vulkan loader found"));
  g_assert_nonnull (strstr (error.message, "/nonexistent/libvulkan.so.1"));
  g_assert_cmpint (ponder_threadpool_new (1, &pool, &error), ==, PONDER_OK);
  g_assert_cmpint (ponder_backend_cpu_new (pool, 1, 3, &cpu, &error), ==, PONDER_OK);
  cpu->rmsnorm (cpu, x, w, 1, 3, 0.0f, y);
  g_assert_cmpfloat_with_epsilon (y[2], 6.0 * scale, 1e-6);
  cpu->free (cpu);
  ponder_threadpool_free (pool);
}

/* An allocation the device cannot satisfy is PONDER_ERROR_NO_MEMORY, not a
 * crash, and the device keeps working. */
static void
test_out_of_memory (void)
{
  PonderError error = { 0 };
  PonderVkBuffer huge, small;
  Fixture f;

  if (!fixture_open (&f))
    return;
  g_assert_cmpint (ponder_vk_buffer_new (f.dev, (size_t) 1 << 46, PONDER_VK_MEMORY_DEVICE,
                                         "huge", &huge, &error), ==, PONDER_ERROR_NO_MEMORY);
  g_test_message ("%s", error.message);
  g_assert_nonnull (strstr (error.message, "huge"));
  g_assert_true (huge.buffer == VK_NULL_HANDLE);
  small = upload_new (&f, NULL, 64, PONDER_VK_MEMORY_HOST);
  ponder_vk_buffer_free (f.dev, &small);
  fixture_close (&f);
}

/* Device index override: every listed device opens by index, and an index
 * past the list is an error. */
static void
test_device_index (void)
{
  PonderError error = { 0 };
  PonderVkDevice *dev = NULL;
  Fixture f;

  if (!fixture_open (&f))
    return;
  for (uint32_t i = 0; i < f.vk->n_devices; i++)
    if (f.vk->devices[i].has_compute_queue)
      {
        g_assert_cmpint (ponder_vk_device_new (f.vk, (int) i, NULL, &dev, &error), ==, PONDER_OK);
        g_assert_true (ponder_vk_device_physical (dev) == &f.vk->devices[i]);
        ponder_vk_device_free (dev);
      }
  g_assert_cmpint (ponder_vk_device_new (f.vk, (int) f.vk->n_devices, NULL, &dev, &error), ==,
                   PONDER_ERROR_INVALID_ARGUMENT);
  g_assert_null (dev);
  g_assert_nonnull (strstr (error.message, "out of range"));
  fixture_close (&f);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/vulkan/devices", test_devices);
  g_test_add_func ("/vulkan/no-loader", test_no_loader);
  g_test_add_func ("/vulkan/dispatch-checks", test_dispatch_checks);
  g_test_add_func ("/vulkan/pipeline-cache", test_pipeline_cache);
  g_test_add_func ("/vulkan/out-of-memory", test_out_of_memory);
  g_test_add_func ("/vulkan/device-index", test_device_index);
  return g_test_run ();
}
