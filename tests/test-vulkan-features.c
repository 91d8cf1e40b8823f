/* test-vulkan-features.c: the matmul kernels that use GPU features (subgroup
 * reductions, integer dot products), forced onto lavapipe with
 * ponder_vk_test_gpu_kernels, against independent references.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * matmul_<type>_sg and matmul_f16_h (F16 read through 16-bit storage)
 * compute the same float products as matmul_<type>, so they are held to
 * the float reference of test-vulkan.c
 * (check_matmul_result: double dots over the CPU's dequantised rows,
 * within 3e-5 of sum |w x|).
 *
 * matmul_<type>_q8 multiply the weights' quants with x quantised to bytes,
 * so the reference (vulkan-test-util.h, check_q8_result) quantises x first,
 * from the definition, and takes double dots of the dequantised rows with
 * q * d; its tolerance allows for one q moved by a rounding tie. Inputs
 * include a block of zeros and a block of large values.
 *
 * Sizes are awkward: row counts that fill no workgroup (8 rows of 8 lanes
 * on lavapipe), batches of 1 (decode), 3 and 13 (a full and a partial
 * token batch of 8).
 */
#include <glib.h>
#include <math.h>
#include <string.h>

#include "quant.h"
#include "vulkan-device-private.h"
#include "vulkan-private.h"
#include "vulkan-test-util.h"

static bool
fixture_open (Fixture *f)
{
  return vulkan_fixture_open (f, g_getenv ("PONDER_TEST_VALIDATION") != NULL, false);
}

/* Random bytes with sane f16 scale fields (as test-vulkan.c's weights). */
/* x (n_tokens, n_in) in [-1, 1], but for a block of zeros and one of
 * values up to 50 (where n_in allows). */
static float *
test_inputs (uint32_t n_in,
             uint32_t n_tokens)
{
  float *x = random_floats ((size_t) n_in * n_tokens, 1.0);

  if (n_in >= 64)
    {
      memset (x, 0, 32 * sizeof *x);
      for (uint32_t i = 32; i < 64; i++)
        x[(size_t) (n_tokens - 1) * n_in + i] *= 50.0f;
    }
  return x;
}

/* The device must have what lavapipe has (subgroup arithmetic, integer
 * dot products), else the test is skipped with the reason. */
static bool
have_features (Fixture *f,
               unsigned needed)
{
  unsigned features = ponder_vk_matmul_features (f->dev);

  if ((features & needed) != needed)
    {
      g_test_skip_printf ("the device %s lacks the features (0x%x of 0x%x)",
                          ponder_vk_device_physical (f->dev)->props.deviceName, features,
                          needed);
      return false;
    }
  return true;
}

/* kernel on n_out random rows of type against the float (sg) or the
 * quantised (q8) reference. */
static void
check_kernel (Fixture        *f,
              PonderVkKernel  kernel,
              uint32_t        type,
              uint32_t        n_in,
              uint32_t        n_out,
              uint32_t        n_tokens,
              bool            q8)
{
  size_t row_bytes;
  uint8_t *w = random_weights (type, n_in, n_out, &row_bytes);
  float *x = test_inputs (n_in, n_tokens);
  float *y = g_new (float, (size_t) n_tokens * n_out);
  float *row = g_new (float, n_in);
  PonderVkBuffer wb, xb, yb;
  double worst;

  wb = upload_new (f, w, row_bytes * n_out, PONDER_VK_MEMORY_DEVICE);
  xb = upload_new (f, x, (size_t) n_tokens * n_in * 4, PONDER_VK_MEMORY_DEVICE);
  memset (y, 0xff, (size_t) n_tokens * n_out * 4);
  yb = upload_new (f, y, (size_t) n_tokens * n_out * 4, PONDER_VK_MEMORY_HOST);
  CHECK_OK (ponder_vk_begin (f->dev, ck));
  CHECK_OK (ponder_vk_op_matmul_kernel (f->dev, kernel, type, &wb, row_bytes, n_in, n_out, &xb,
                                        n_tokens, &yb, ck));
  CHECK_OK (ponder_vk_submit (f->dev, ck));
  CHECK_OK (ponder_vk_buffer_download (f->dev, &yb, 0, y, (size_t) n_tokens * n_out * 4, ck));
  if (q8)
    worst = check_q8_result (type, w, row_bytes, x, y, n_in, n_out, n_tokens);
  else
    worst = check_matmul_result (type, w, row_bytes, x, y, n_in, n_out, n_tokens, 0, row);
  g_test_message ("%s %u -> %u x %u tokens: worst error %.2g of the sum",
                  ponder_vk_kernel_info (kernel)->name, n_in, n_out, n_tokens, worst);
  ponder_vk_buffer_free (f->dev, &wb);
  ponder_vk_buffer_free (f->dev, &xb);
  ponder_vk_buffer_free (f->dev, &yb);
  g_free (w);
  g_free (x);
  g_free (y);
  g_free (row);
}

static const struct
{
  uint32_t       type;
  PonderVkKernel sg;
  PonderVkKernel q8; /* PONDER_VK_KERNEL_NONE: float kernels only */
  uint32_t       block;
} cases[] = {
  { PONDER_TYPE_F32, PONDER_VK_KERNEL_MATMUL_F32_SG, PONDER_VK_KERNEL_NONE, 1 },
  { PONDER_TYPE_F16, PONDER_VK_KERNEL_MATMUL_F16_SG, PONDER_VK_KERNEL_NONE, 1 },
  { PONDER_TYPE_BF16, PONDER_VK_KERNEL_MATMUL_BF16_SG, PONDER_VK_KERNEL_NONE, 1 },
  { PONDER_TYPE_Q8_0, PONDER_VK_KERNEL_MATMUL_Q8_0_SG, PONDER_VK_KERNEL_MATMUL_Q8_0_Q8, 32 },
  { PONDER_TYPE_Q4_0, PONDER_VK_KERNEL_MATMUL_Q4_0_SG, PONDER_VK_KERNEL_MATMUL_Q4_0_Q8, 32 },
  { PONDER_TYPE_Q5_0, PONDER_VK_KERNEL_MATMUL_Q5_0_SG, PONDER_VK_KERNEL_MATMUL_Q5_0_Q8, 32 },
  { PONDER_TYPE_Q4_1, PONDER_VK_KERNEL_MATMUL_Q4_1_SG, PONDER_VK_KERNEL_NONE, 32 },
  { PONDER_TYPE_Q5_1, PONDER_VK_KERNEL_MATMUL_Q5_1_SG, PONDER_VK_KERNEL_NONE, 32 },
  { PONDER_TYPE_Q2_K, PONDER_VK_KERNEL_MATMUL_Q2_K_SG, PONDER_VK_KERNEL_NONE, 256 },
  { PONDER_TYPE_Q3_K, PONDER_VK_KERNEL_MATMUL_Q3_K_SG, PONDER_VK_KERNEL_NONE, 256 },
  { PONDER_TYPE_Q4_K, PONDER_VK_KERNEL_MATMUL_Q4_K_SG, PONDER_VK_KERNEL_MATMUL_Q4_K_Q8, 256 },
  { PONDER_TYPE_Q5_K, PONDER_VK_KERNEL_MATMUL_Q5_K_SG, PONDER_VK_KERNEL_MATMUL_Q5_K_Q8, 256 },
  { PONDER_TYPE_Q6_K, PONDER_VK_KERNEL_MATMUL_Q6_K_SG, PONDER_VK_KERNEL_MATMUL_Q6_K_Q8, 256 },
};

/* n_in of about 1000 in whole blocks (and 333 / 1001 for F32, F16 and BF16,
 * whose rows need not be a multiple of 32 or 4). */
static uint32_t
awkward_n_in (uint32_t block,
              bool     odd)
{
  if (block == 1)
    return odd ? 1001 : 333;
  return block == 32 ? 32 * 37 : 256 * 3;
}

static void
test_subgroup (void)
{
  Fixture f;

  ponder_vk_test_gpu_kernels (true);
  if (fixture_open (&f))
    {
      if (have_features (&f, PONDER_VK_FEATURE_SUBGROUP))
        for (size_t c = 0; c < G_N_ELEMENTS (cases); c++)
          {
            check_kernel (&f, cases[c].sg, cases[c].type, awkward_n_in (cases[c].block, false),
                          67, 1, false);
            check_kernel (&f, cases[c].sg, cases[c].type, awkward_n_in (cases[c].block, true),
                          45, 13, false);
          }
      /* rows of a multiple of 4 read as f16vec4s, others one value at a time */
      if (have_features (&f, PONDER_VK_FEATURE_STORAGE16))
        {
          check_kernel (&f, PONDER_VK_KERNEL_MATMUL_F16_H, PONDER_TYPE_F16, 333, 67, 1, false);
          check_kernel (&f, PONDER_VK_KERNEL_MATMUL_F16_H, PONDER_TYPE_F16, 1001, 45, 13, false);
          check_kernel (&f, PONDER_VK_KERNEL_MATMUL_F16_H, PONDER_TYPE_F16, 1004, 67, 1, false);
          check_kernel (&f, PONDER_VK_KERNEL_MATMUL_F16_H, PONDER_TYPE_F16, 4 * 33, 45, 9, false);
        }
      fixture_close (&f);
    }
  ponder_vk_test_gpu_kernels (false);
}

static void
test_int8_dot (void)
{
  Fixture f;

  ponder_vk_test_gpu_kernels (true);
  if (fixture_open (&f))
    {
      if (have_features (&f, PONDER_VK_FEATURE_SUBGROUP | PONDER_VK_FEATURE_INT8_DOT))
        for (size_t c = 0; c < G_N_ELEMENTS (cases); c++)
          if (cases[c].q8 != PONDER_VK_KERNEL_NONE)
            {
              uint32_t n_in = awkward_n_in (cases[c].block, false);

              check_kernel (&f, cases[c].q8, cases[c].type, n_in, 67, 1, true);
              check_kernel (&f, cases[c].q8, cases[c].type, n_in, 45, 13, true);
              check_kernel (&f, cases[c].q8, cases[c].type, cases[c].block * 2, 131, 3, true);
            }
      fixture_close (&f);
    }
  ponder_vk_test_gpu_kernels (false);
}

/* Which kernel ponder_vk_op_matmul takes: lavapipe's texel kernels by
 * default; forced to the GPU choice, the integer-dot kernel for the six
 * types that have one, the subgroup kernel for the rest; hiding a type's
 * kernels hides its variants too, and a variant the device cannot run or
 * that reads another type is refused. */
static void
test_selection (void)
{
  Fixture f;
  PonderVkBuffer wb, xb, yb;
  PonderError error = { 0 };

  if (!fixture_open (&f))
    return;
  g_test_message ("%s: subgroup %u (arithmetic %d), integer dot %d (accelerated %d), 16-bit "
                  "storage %d", ponder_vk_device_physical (f.dev)->props.deviceName,
                  ponder_vk_device_physical (f.dev)->subgroup_size,
                  ponder_vk_device_physical (f.dev)->has_subgroup_arith,
                  ponder_vk_device_physical (f.dev)->has_int8_dot,
                  ponder_vk_device_physical (f.dev)->int8_dot_fast,
                  ponder_vk_device_physical (f.dev)->has_storage16);
  wb = upload_new (&f, NULL, 144 * 4, PONDER_VK_MEMORY_DEVICE);
  xb = upload_new (&f, NULL, 256 * 4, PONDER_VK_MEMORY_DEVICE);
  yb = upload_new (&f, NULL, 4 * 4, PONDER_VK_MEMORY_DEVICE);
  /* a CPU device, unless PONDER_VK_GPU_KERNELS=1 runs the suite as on a GPU */
  if (ponder_vk_matmul_features (f.dev) == 0)
    {
      g_assert_cmpint (ponder_vk_device_physical (f.dev)->kind, ==, PONDER_DEVICE_CPU);
      g_assert_cmpint (ponder_vk_matmul_kernel (f.dev, PONDER_TYPE_Q4_K, &wb, 144, 256, 4, &xb, 1),
                       ==, PONDER_VK_KERNEL_MATMUL_Q4_K_TX);
      /* the integer-dot kernel needs the GPU choice */
      g_assert_cmpint (ponder_vk_op_matmul_kernel (f.dev, PONDER_VK_KERNEL_MATMUL_Q4_K_Q8,
                                                   PONDER_TYPE_Q4_K, &wb, 144, 256, 4, &xb, 1,
                                                   &yb, &error), ==, PONDER_ERROR_UNSUPPORTED);
      g_assert_nonnull (strstr (error.message, "lacks the features"));
    }
  ponder_vk_test_gpu_kernels (true);
  if (have_features (&f, PONDER_VK_FEATURE_SUBGROUP | PONDER_VK_FEATURE_INT8_DOT))
    {
      for (size_t c = 0; c < G_N_ELEMENTS (cases); c++)
        if (cases[c].type != PONDER_TYPE_F16)
          g_assert_cmpint (ponder_vk_matmul_kernel (f.dev, cases[c].type, &wb, 0, 256, 1, &xb, 1),
                           ==, cases[c].q8 != PONDER_VK_KERNEL_NONE ? cases[c].q8 : cases[c].sg);
      g_assert_cmpint (ponder_vk_matmul_kernel (f.dev, PONDER_TYPE_F16, &wb, 0, 256, 1, &xb, 1),
                       ==, (ponder_vk_matmul_features (f.dev) & PONDER_VK_FEATURE_STORAGE16) != 0
                           ? PONDER_VK_KERNEL_MATMUL_F16_H : PONDER_VK_KERNEL_MATMUL_F16_SG);
      ponder_vk_test_hide_kernels (PONDER_TYPE_Q4_K, PONDER_VK_HIDE_MATMUL);
      g_assert_cmpint (ponder_vk_matmul_kernel (f.dev, PONDER_TYPE_Q4_K, &wb, 144, 256, 4, &xb, 1),
                       ==, PONDER_VK_KERNEL_NONE);
      g_assert_cmpint (ponder_vk_op_matmul_kernel (f.dev, PONDER_VK_KERNEL_MATMUL_Q4_K_Q8,
                                                   PONDER_TYPE_Q4_K, &wb, 144, 256, 4, &xb, 1,
                                                   &yb, &error), ==, PONDER_ERROR_UNSUPPORTED);
      ponder_vk_test_hide_kernels (PONDER_TYPE_Q4_K, 0);
      g_assert_cmpint (ponder_vk_op_matmul_kernel (f.dev, PONDER_VK_KERNEL_MATMUL_Q6_K_Q8,
                                                   PONDER_TYPE_Q4_K, &wb, 144, 256, 4, &xb, 1,
                                                   &yb, &error), ==, PONDER_ERROR_UNSUPPORTED);
      /* bad operands are refused before anything is recorded */
      CHECK_OK (ponder_vk_begin (f.dev, ck));
      g_assert_cmpint (ponder_vk_op_matmul_kernel (f.dev, PONDER_VK_KERNEL_MATMUL_Q4_K_Q8,
                                                   PONDER_TYPE_Q4_K, &wb, 144, 256, 5, &xb, 1,
                                                   &yb, &error), ==,
                       PONDER_ERROR_INVALID_ARGUMENT);
      CHECK_OK (ponder_vk_submit (f.dev, ck));
    }
  ponder_vk_test_gpu_kernels (false);
  ponder_vk_buffer_free (f.dev, &wb);
  ponder_vk_buffer_free (f.dev, &xb);
  ponder_vk_buffer_free (f.dev, &yb);
  fixture_close (&f);
}

/* Several products in one step through ponder_vk_op_matmul, as a forward
 * pass records them: each quantises its own x into the shared scratch,
 * which grows from the first product's size to the last's. */
static void
test_one_step (void)
{
  enum { N = 3 };
  const uint32_t n_in[N] = { 256, 512, 2048 }, n_tokens[N] = { 1, 9, 17 }, n_out = 19;
  PonderVkBuffer wb[N], xb[N], yb[N];
  uint8_t *w[N];
  float *x[N], *y[N];
  size_t row_bytes[N];
  Fixture f;

  ponder_vk_test_gpu_kernels (true);
  if (!fixture_open (&f))
    goto out;
  if (!have_features (&f, PONDER_VK_FEATURE_SUBGROUP | PONDER_VK_FEATURE_INT8_DOT))
    {
      fixture_close (&f);
      goto out;
    }
  for (int i = 0; i < N; i++)
    {
      w[i] = random_weights (PONDER_TYPE_Q4_K, n_in[i], n_out, &row_bytes[i]);
      x[i] = test_inputs (n_in[i], n_tokens[i]);
      y[i] = g_new (float, (size_t) n_tokens[i] * n_out);
      wb[i] = upload_new (&f, w[i], row_bytes[i] * n_out, PONDER_VK_MEMORY_DEVICE);
      xb[i] = upload_new (&f, x[i], (size_t) n_tokens[i] * n_in[i] * 4,
                          PONDER_VK_MEMORY_DEVICE);
      yb[i] = upload_new (&f, NULL, (size_t) n_tokens[i] * n_out * 4, PONDER_VK_MEMORY_HOST);
    }
  CHECK_OK (ponder_vk_begin (f.dev, ck));
  for (int i = 0; i < N; i++)
    CHECK_OK (ponder_vk_op_matmul (f.dev, PONDER_TYPE_Q4_K, &wb[i], row_bytes[i], n_in[i], n_out,
                                   &xb[i], n_tokens[i], &yb[i], ck));
  CHECK_OK (ponder_vk_submit (f.dev, ck));
  for (int i = 0; i < N; i++)
    {
      CHECK_OK (ponder_vk_buffer_download (f.dev, &yb[i], 0, y[i],
                                           (size_t) n_tokens[i] * n_out * 4, ck));
      check_q8_result (PONDER_TYPE_Q4_K, w[i], row_bytes[i], x[i], y[i], n_in[i], n_out,
                       n_tokens[i]);
      ponder_vk_buffer_free (f.dev, &wb[i]);
      ponder_vk_buffer_free (f.dev, &xb[i]);
      ponder_vk_buffer_free (f.dev, &yb[i]);
      g_free (w[i]);
      g_free (x[i]);
      g_free (y[i]);
    }
  fixture_close (&f);
out:
  ponder_vk_test_gpu_kernels (false);
}

/* Products that share their input quantise it once (Q, K and V read the
 * same x): three in a row record one quantize_q8; after x changes (an add
 * into it) the next product quantises again and sees the new x. */
static void
test_shared_input (void)
{
  enum { N = 3 };
  const uint32_t types[N] = { PONDER_TYPE_Q4_K, PONDER_TYPE_Q6_K, PONDER_TYPE_Q8_0 };
  const uint32_t n_in = 512, n_tokens = 5, n_out[N] = { 19, 23, 7 };
  PonderVkBuffer wb[N], xb, zb, yb[N + 1];
  uint8_t *w[N];
  float *x, *z, *y[N + 1];
  size_t row_bytes[N];
  uint32_t after_first, after_add;
  Fixture f;

  ponder_vk_test_gpu_kernels (true);
  if (!fixture_open (&f))
    goto out;
  if (!have_features (&f, PONDER_VK_FEATURE_SUBGROUP | PONDER_VK_FEATURE_INT8_DOT))
    {
      fixture_close (&f);
      goto out;
    }
  x = test_inputs (n_in, n_tokens);
  z = random_floats ((size_t) n_in * n_tokens, 1.0);
  xb = upload_new (&f, x, (size_t) n_tokens * n_in * 4, PONDER_VK_MEMORY_DEVICE);
  zb = upload_new (&f, z, (size_t) n_tokens * n_in * 4, PONDER_VK_MEMORY_DEVICE);
  for (int i = 0; i <= N; i++)
    {
      uint32_t rows = n_out[i % N];

      if (i < N)
        {
          w[i] = random_weights (types[i], n_in, rows, &row_bytes[i]);
          wb[i] = upload_new (&f, w[i], row_bytes[i] * rows, PONDER_VK_MEMORY_DEVICE);
        }
      y[i] = g_new (float, (size_t) n_tokens * rows);
      yb[i] = upload_new (&f, NULL, (size_t) n_tokens * rows * 4, PONDER_VK_MEMORY_HOST);
    }
  CHECK_OK (ponder_vk_begin (f.dev, ck));
  for (int i = 0; i < N; i++)
    CHECK_OK (ponder_vk_op_matmul (f.dev, types[i], &wb[i], row_bytes[i], n_in, n_out[i], &xb,
                                   n_tokens, &yb[i], ck));
  after_first = f.dev->n_recorded;
  CHECK_OK (ponder_vk_op_add (f.dev, &xb, &zb, n_in * n_tokens, ck));
  CHECK_OK (ponder_vk_op_matmul (f.dev, types[0], &wb[0], row_bytes[0], n_in, n_out[0], &xb,
                                 n_tokens, &yb[N], ck));
  after_add = f.dev->n_recorded;
  CHECK_OK (ponder_vk_submit (f.dev, ck));
  /* quantize_q8 and three products; the add, quantize_q8 and a product */
  g_assert_cmpuint (after_first, ==, 1 + N);
  g_assert_cmpuint (after_add, ==, 1 + N + 3);
  for (int i = 0; i <= N; i++)
    CHECK_OK (ponder_vk_buffer_download (f.dev, &yb[i], 0, y[i],
                                         (size_t) n_tokens * n_out[i % N] * 4, ck));
  for (int i = 0; i < N; i++)
    check_q8_result (types[i], w[i], row_bytes[i], x, y[i], n_in, n_out[i], n_tokens);
  for (size_t i = 0; i < (size_t) n_in * n_tokens; i++)
    x[i] += z[i]; /* as add.comp, one f32 addition */
  check_q8_result (types[0], w[0], row_bytes[0], x, y[N], n_in, n_out[0], n_tokens);
  for (int i = 0; i <= N; i++)
    {
      if (i < N)
        {
          ponder_vk_buffer_free (f.dev, &wb[i]);
          g_free (w[i]);
        }
      ponder_vk_buffer_free (f.dev, &yb[i]);
      g_free (y[i]);
    }
  ponder_vk_buffer_free (f.dev, &xb);
  ponder_vk_buffer_free (f.dev, &zb);
  g_free (x);
  g_free (z);
  fixture_close (&f);
out:
  ponder_vk_test_gpu_kernels (false);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/vulkan-features/selection", test_selection);
  g_test_add_func ("/vulkan-features/subgroup", test_subgroup);
  g_test_add_func ("/vulkan-features/int8-dot", test_int8_dot);
  g_test_add_func ("/vulkan-features/one-step", test_one_step);
  g_test_add_func ("/vulkan-features/shared-input", test_shared_input);
  return g_test_run ();
}
