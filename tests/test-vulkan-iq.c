/* test-vulkan-iq.c: the IQ weight types (spec 2.5) in the Vulkan matmul
 * (shaders/matmul_iq.comp, iq_dequant.glsl) against the CPU's dequantiser.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Weights are random valid blocks: every index, sign, grid-scale and delta
 * field of these formats takes any bit pattern, so the bytes are random and
 * only the f16 super-block scale is set to a finite value in [2^-10, 2^-6]
 * with a random sign (IQ1_M keeps it in the top nibbles of its four scale
 * words). The reference is ponder_dequantize_row, which test-quant holds
 * bit for bit to the numpy model written from the spec (tests/quants_iq.py).
 *
 * Two checks per type:
 *   exact: x is the identity (n_in one-hot tokens), so y is the
 *     dequantised matrix itself; every element must equal the CPU's
 *     exactly (the shader forms the same f32 products, and the other terms
 *     of each dot are zeros). This pins every lane, sign and scale.
 *   dot: random x, decode (1 token: the subgroup-broadcast path) and a
 *     prefill batch that is not a multiple of the shader's 8-token tile,
 *     rows not a multiple of the workgroup; |y - ref| <= 3e-5 sum |w x|
 *     against a double-precision dot (float accumulation order only).
 * Both in every workgroup shape (the device default, one row per
 * invocation, 32 and 64 lanes per row). With -p /validation the same runs
 * smaller under the Khronos validation layer and fails on any message.
 */
#include <glib.h>
#include <math.h>
#include <string.h>

#include "quant.h"
#include "vulkan-private.h"
#include "vulkan-test-util.h"

static bool validation_mode;

static const struct
{
  const char *name;
  uint32_t    type;
} iq_types[] = {
  { "iq1_s", PONDER_TYPE_IQ1_S }, { "iq1_m", PONDER_TYPE_IQ1_M },
  { "iq2_xxs", PONDER_TYPE_IQ2_XXS }, { "iq2_xs", PONDER_TYPE_IQ2_XS },
  { "iq2_s", PONDER_TYPE_IQ2_S }, { "iq3_xxs", PONDER_TYPE_IQ3_XXS },
  { "iq3_s", PONDER_TYPE_IQ3_S }, { "iq4_nl", PONDER_TYPE_IQ4_NL },
  { "iq4_xs", PONDER_TYPE_IQ4_XS },
};

static const uint32_t shapes[4][2] = { { 0, 0 }, { 8, 1 }, { 64, 32 }, { 64, 64 } };

static bool
fixture_open (Fixture *f)
{
  return vulkan_fixture_open (f, validation_mode, false);
}

/* n_rows rows of n_in weights of an IQ type: random blocks, see above. */
static uint8_t *
random_iq (uint32_t type,
           uint32_t n_in,
           uint32_t n_rows,
           size_t  *out_row_bytes)
{
  const PonderTypeInfo *ti = ponder_type_info (type);
  uint64_t row_bytes;
  size_t n_blocks, size;
  uint8_t *w;

  g_assert_true (ponder_type_row_bytes (type, n_in, &row_bytes));
  size = (size_t) row_bytes * n_rows;
  w = g_malloc (size);
  for (size_t i = 0; i < size; i++)
    w[i] = (uint8_t) g_test_rand_int_range (0, 256);
  n_blocks = size / ti->block_bytes;
  for (size_t b = 0; b < n_blocks; b++)
    {
      uint8_t *blk = w + b * ti->block_bytes;
      double mag = exp2 (g_test_rand_double_range (-10, -6));
      uint16_t d = ponder_fp32_to_fp16 ((float) (g_test_rand_bit () ? -mag : mag));

      if (type == PONDER_TYPE_IQ1_M)
        /* the f16's nibble k in the top nibble of scale word k */
        for (int k = 0; k < 4; k++)
          blk[48 + 2 * k + 1] = (uint8_t) ((blk[48 + 2 * k + 1] & 0x0f)
                                           | (((d >> (4 * k)) & 15) << 4));
      else
        memcpy (blk, &d, 2);
    }
  *out_row_bytes = (size_t) row_bytes;
  return w;
}

/* y (n_tokens, n_out) = x times w transposed in the given shape. */
static void
run_matmul (Fixture              *f,
            int                   shape,
            uint32_t              type,
            const PonderVkBuffer *wb,
            size_t                row_bytes,
            uint32_t              n_in,
            uint32_t              n_out,
            const PonderVkBuffer *xb,
            uint32_t              n_tokens,
            const PonderVkBuffer *yb,
            float                *y)
{
  size_t y_bytes = (size_t) n_tokens * n_out * 4;

  memset (y, 0xff, y_bytes);
  CHECK_OK (ponder_vk_buffer_upload (f->dev, yb, 0, y, y_bytes, ck));
  CHECK_OK (ponder_vk_begin (f->dev, ck));
  if (shape == 0)
    CHECK_OK (ponder_vk_op_matmul (f->dev, type, wb, row_bytes, n_in, n_out, xb, n_tokens, yb,
                                   ck));
  else
    CHECK_OK (ponder_vk_op_matmul_shaped (f->dev, shapes[shape][0], shapes[shape][1], type, wb,
                                          row_bytes, n_in, n_out, xb, n_tokens, yb, ck));
  CHECK_OK (ponder_vk_submit (f->dev, ck));
  CHECK_OK (ponder_vk_buffer_download (f->dev, yb, 0, y, y_bytes, ck));
}

/* The identity as input: y[t][r] must be the CPU's w[r][t] exactly. */
static void
check_exact (Fixture *fx,
             uint32_t type,
             uint32_t n_in,
             uint32_t n_out)
{
  Fixture f = *fx;
  size_t row_bytes;
  uint8_t *w;
  float *x, *y, *ref;
  PonderVkBuffer wb, xb, yb;

  w = random_iq (type, n_in, n_out, &row_bytes);
  x = g_new0 (float, (size_t) n_in * n_in);
  for (uint32_t i = 0; i < n_in; i++)
    x[(size_t) i * n_in + i] = 1.0f;
  y = g_new (float, (size_t) n_in * n_out);
  ref = g_new (float, (size_t) n_out * n_in);
  for (uint32_t r = 0; r < n_out; r++)
    ponder_dequantize_row ((PonderType) type, w + (size_t) r * row_bytes,
                           ref + (size_t) r * n_in, n_in);
  wb = upload_new (&f, w, row_bytes * n_out, PONDER_VK_MEMORY_DEVICE);
  xb = upload_new (&f, x, (size_t) n_in * n_in * 4, PONDER_VK_MEMORY_DEVICE);
  yb = upload_new (&f, NULL, (size_t) n_in * n_out * 4, PONDER_VK_MEMORY_HOST);
  for (int shape = 0; shape < 4; shape++)
    {
      run_matmul (&f, shape, type, &wb, row_bytes, n_in, n_out, &xb, n_in, &yb, y);
      for (uint32_t r = 0; r < n_out; r++)
        for (uint32_t i = 0; i < n_in; i++)
          {
            float got = y[(size_t) i * n_out + r], want = ref[(size_t) r * n_in + i];

            if (got != want)
              g_error ("%s exact, shape %d: row %u element %u (block %u, offset %u): "
                       "gpu %.9g, cpu %.9g", ponder_type_info (type)->name, shape, r, i,
                       i / ponder_type_info (type)->block_size,
                       i % ponder_type_info (type)->block_size, got, want);
          }
    }
  ponder_vk_buffer_free (f.dev, &wb);
  ponder_vk_buffer_free (f.dev, &xb);
  ponder_vk_buffer_free (f.dev, &yb);
  g_free (w);
  g_free (x);
  g_free (y);
  g_free (ref);
}

static void
check_dot (Fixture *fx,
           uint32_t type,
           uint32_t n_in,
           uint32_t n_out,
           uint32_t n_tokens)
{
  Fixture f = *fx;
  size_t row_bytes;
  uint8_t *w;
  float *x, *y, *row;
  PonderVkBuffer wb, xb, yb;
  double worst = 0.0;

  w = random_iq (type, n_in, n_out, &row_bytes);
  x = g_new (float, (size_t) n_tokens * n_in);
  for (size_t i = 0; i < (size_t) n_tokens * n_in; i++)
    x[i] = (float) g_test_rand_double_range (-1, 1);
  y = g_new (float, (size_t) n_tokens * n_out);
  row = g_new (float, n_in);
  wb = upload_new (&f, w, row_bytes * n_out, PONDER_VK_MEMORY_DEVICE);
  xb = upload_new (&f, x, (size_t) n_tokens * n_in * 4, PONDER_VK_MEMORY_DEVICE);
  yb = upload_new (&f, NULL, (size_t) n_tokens * n_out * 4, PONDER_VK_MEMORY_HOST);
  for (int shape = 0; shape < 4; shape++)
    {
      run_matmul (&f, shape, type, &wb, row_bytes, n_in, n_out, &xb, n_tokens, &yb, y);
      worst = MAX (worst, check_matmul_result (type, w, row_bytes, x, y, n_in, n_out, n_tokens,
                                               shape, row));
    }
  g_test_message ("%s %u -> %u x %u tokens: worst error %.2g of sum |w x|",
                  ponder_type_info (type)->name, n_in, n_out, n_tokens, worst);
  ponder_vk_buffer_free (f.dev, &wb);
  ponder_vk_buffer_free (f.dev, &xb);
  ponder_vk_buffer_free (f.dev, &yb);
  g_free (w);
  g_free (x);
  g_free (y);
  g_free (row);
}

static void
test_type (gconstpointer data)
{
  uint32_t type = GPOINTER_TO_UINT (data);
  uint32_t bs = ponder_type_info (type)->block_size;
  Fixture f;

  /* one device for all three, so each pipeline is compiled once */
  if (!fixture_open (&f))
    return;
  /* two blocks (IQ4_NL: five) by rows not a multiple of any workgroup */
  check_exact (&f, type, bs == 256 ? 512 : 160, 13);
  /* decode, and a batch of 10 (8-token tiles plus 2) */
  check_dot (&f, type, bs == 256 ? 256 * 3 : 32 * 7, 67, 1);
  check_dot (&f, type, bs == 256 ? 256 * 2 : 32 * 9, 45, 10);
  fixture_close (&f);
}

/* Whether the type reaches the shader at all: the backend's check. */
static void
test_supported (void)
{
  for (size_t i = 0; i < G_N_ELEMENTS (iq_types); i++)
    g_assert_true (ponder_vk_matmul_supported (iq_types[i].type));
}

/* Every IQ kernel once, small, under the validation layer. */
static void
test_validation (void)
{
  Fixture f;

  validation_mode = true;
  if (!fixture_open (&f))
    return;
  for (size_t i = 0; i < G_N_ELEMENTS (iq_types); i++)
    {
      uint32_t type = iq_types[i].type;
      uint32_t bs = ponder_type_info (type)->block_size;

      check_exact (&f, type, bs, 5);
      check_dot (&f, type, bs == 256 ? 256 : 64, 5, 1);
      check_dot (&f, type, bs == 256 ? 256 : 64, 5, 9);
    }
  fixture_close (&f);
  validation_mode = false;
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/vulkan-iq/supported", test_supported);
  for (size_t i = 0; i < G_N_ELEMENTS (iq_types); i++)
    {
      char *path = g_strdup_printf ("/vulkan-iq/matmul/%s", iq_types[i].name);

      g_test_add_data_func (path, GUINT_TO_POINTER (iq_types[i].type), test_type);
      g_free (path);
    }
  g_test_add_func ("/validation/iq-kernels", test_validation);
  return g_test_run ();
}
