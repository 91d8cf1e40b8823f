/* test-vulkan.c: the Vulkan kernels against CPU references (the runtime
 * around them: test-vulkan-runtime.c).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Every kernel runs on random inputs of awkward sizes (not multiples of the
 * workgroup size or of the matmul token batch) and is compared with an
 * independent reference: ponder_dequantize_row plus a double-precision dot
 * product for the matmuls, double loops written from spec 3.2 for rmsnorm,
 * swiglu and add, the CPU backend for rope and attention. Weights are
 * random bytes with sane f16 scale fields, so no quantiser of ours is
 * involved.
 *
 * Tolerances: every matmul weight type dequantises exactly (f16 -> f32 is
 * exact), so the only error is float accumulation in the shader; the bound
 * is 3e-5 * sum |w_i x_i| (a single wrong element moves the result by about
 * 1/n_in of that sum, 30x more for n_in = 1024). rmsnorm: 1e-5 relative.
 * rope: 1e-6 * (|x0| + |x1|) bound (cos and sin come from the same
 * double-precision table as the CPU's, at positions past 8192). swiglu
 * and add: 1e-6 relative. attention: 2e-5 absolute (outputs are convex
 * combinations of values in [-1, 1]).
 *
 * With no Vulkan device the tests fail with the reason: CI installs
 * mesa-vulkan-drivers, so lavapipe is always there.
 */
#include <glib.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "backend.h"
#include "quant.h"
#include "threadpool.h"
#include "vulkan-private.h"
#include "vulkan-test-util.h"

static bool validation_mode;
static bool staging_mode;

static bool
fixture_open (Fixture *f)
{
  return vulkan_fixture_open (f, validation_mode, staging_mode);
}

static void
check_matmul (uint32_t type,
              uint32_t n_in,
              uint32_t n_out,
              uint32_t n_tokens)
{
  Fixture f;
  size_t row_bytes;
  uint8_t *w;
  float *x, *y, *row;
  PonderVkBuffer wb, xb, yb;
  PonderVkKernel k = PONDER_VK_KERNEL_NONE;
  double worst = 0.0;

  if (!fixture_open (&f))
    return;
  w = random_weights (type, n_in, n_out, &row_bytes);
  x = random_floats ((size_t) n_tokens * n_in, 1.0f);
  y = g_new (float, (size_t) n_tokens * n_out);
  row = g_new (float, n_in);
  wb = upload_new (&f, w, row_bytes * n_out, PONDER_VK_MEMORY_DEVICE);
  xb = upload_new (&f, x, (size_t) n_tokens * n_in * 4, PONDER_VK_MEMORY_DEVICE);
  yb = upload_new (&f, NULL, (size_t) n_tokens * n_out * 4, PONDER_VK_MEMORY_HOST);
  /* Every shape: the device's default, one row per invocation (lavapipe's),
   * a row split over 32 lanes (GPUs') and over a whole workgroup. */
  for (int shape = 0; shape < 4; shape++)
    {
      static const uint32_t shapes[4][2] = { { 0, 0 }, { 8, 1 }, { 64, 32 }, { 64, 64 } };

      memset (y, 0xff, (size_t) n_tokens * n_out * 4);
      CHECK_OK (ponder_vk_buffer_upload (f.dev, &yb, 0, y, (size_t) n_tokens * n_out * 4, ck));
      CHECK_OK (ponder_vk_begin (f.dev, ck));
      if (shape == 0)
        {
          k = ponder_vk_matmul_kernel (f.dev, type, &wb, row_bytes, n_in, n_out, &xb, n_tokens);
          /* lavapipe takes the texel-buffer kernels wherever x is read as vec4s */
          if (ponder_vk_matmul_features (f.dev) == 0)
            g_assert_cmpuint (ponder_vk_kernel_info (k)->texel != 0, ==, n_in % 4 == 0);
          CHECK_OK (ponder_vk_op_matmul (f.dev, type, &wb, row_bytes, n_in, n_out, &xb,
                                         n_tokens, &yb, ck));
        }
      else
        CHECK_OK (ponder_vk_op_matmul_shaped (f.dev, shapes[shape][0], shapes[shape][1], type,
                                              &wb, row_bytes, n_in, n_out, &xb, n_tokens, &yb,
                                              ck));
      CHECK_OK (ponder_vk_submit (f.dev, ck));
      CHECK_OK (ponder_vk_buffer_download (f.dev, &yb, 0, y, (size_t) n_tokens * n_out * 4, ck));
      /* a GPU's integer-dot kernels see x rounded to bytes (test-vulkan-features) */
      if (shape == 0 && ponder_vk_matmul_kernel_quantises (k))
        check_q8_result (type, w, row_bytes, x, y, n_in, n_out, n_tokens);
      else
        worst = MAX (worst, check_matmul_result (type, w, row_bytes, x, y, n_in, n_out,
                                                 n_tokens, shape, row));
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
  fixture_close (&f);
}

static void
test_matmul_f32 (void)
{
  check_matmul (PONDER_TYPE_F32, 333, 67, 1);
  check_matmul (PONDER_TYPE_F32, 1001, 45, 11);
  /* a multiple of 4 but not of 32: the texel kernels' partial last unit */
  check_matmul (PONDER_TYPE_F32, 332, 67, 1);
  check_matmul (PONDER_TYPE_F32, 1004, 45, 7);
}

static void
test_matmul_f16 (void)
{
  check_matmul (PONDER_TYPE_F16, 333, 67, 1);
  check_matmul (PONDER_TYPE_F16, 1001, 45, 9);
  check_matmul (PONDER_TYPE_F16, 1004, 45, 9);
}

static void
test_matmul_q8_0 (void)
{
  check_matmul (PONDER_TYPE_Q8_0, 32 * 37, 67, 1);
  check_matmul (PONDER_TYPE_Q8_0, 32 * 5, 131, 13);
}

static void
test_matmul_q4_k (void)
{
  check_matmul (PONDER_TYPE_Q4_K, 256 * 3, 67, 1);
  check_matmul (PONDER_TYPE_Q4_K, 256 * 5, 45, 10);
}

static void
test_matmul_q6_k (void)
{
  check_matmul (PONDER_TYPE_Q6_K, 256 * 3, 67, 1);
  check_matmul (PONDER_TYPE_Q6_K, 256 * 5, 45, 10);
}

static void
test_matmul_bf16 (void)
{
  check_matmul (PONDER_TYPE_BF16, 333, 67, 1);
  check_matmul (PONDER_TYPE_BF16, 1000, 45, 9);
}

static void
test_matmul_q4_0 (void)
{
  check_matmul (PONDER_TYPE_Q4_0, 32 * 37, 67, 1);
  check_matmul (PONDER_TYPE_Q4_0, 32 * 5, 131, 13);
}

static void
test_matmul_q5_0 (void)
{
  check_matmul (PONDER_TYPE_Q5_0, 32 * 37, 67, 1);
  check_matmul (PONDER_TYPE_Q5_0, 32 * 5, 131, 13);
}

static void
test_matmul_q4_1 (void)
{
  check_matmul (PONDER_TYPE_Q4_1, 32 * 37, 67, 1);
  check_matmul (PONDER_TYPE_Q4_1, 32 * 5, 131, 13);
}

static void
test_matmul_q5_1 (void)
{
  check_matmul (PONDER_TYPE_Q5_1, 32 * 37, 67, 1);
  check_matmul (PONDER_TYPE_Q5_1, 32 * 5, 131, 13);
}

static void
test_matmul_q5_k (void)
{
  check_matmul (PONDER_TYPE_Q5_K, 256 * 3, 67, 1);
  check_matmul (PONDER_TYPE_Q5_K, 256 * 5, 45, 10);
}

/* Rows of 1, 3 and 5 super-blocks, row counts that fill no workgroup, a
 * batch of one token (decode), of 10 (a full NB = 8 and a partial one) and
 * of 3; each also in the four shapes of check_matmul. */
static void
test_matmul_q2_k (void)
{
  check_matmul (PONDER_TYPE_Q2_K, 256 * 3, 67, 1);
  check_matmul (PONDER_TYPE_Q2_K, 256 * 5, 45, 10);
  check_matmul (PONDER_TYPE_Q2_K, 256, 131, 3);
}

static void
test_matmul_q3_k (void)
{
  check_matmul (PONDER_TYPE_Q3_K, 256 * 3, 67, 1);
  check_matmul (PONDER_TYPE_Q3_K, 256 * 5, 45, 10);
  check_matmul (PONDER_TYPE_Q3_K, 256, 131, 3);
}

/* Embedding rows gathered and dequantised on the device, against
 * ponder_dequantize_row: the same f32 arithmetic, where a fused multiply-add
 * may round once less, so 1e-6 of the row's largest magnitude. Ids repeat
 * and include the first and last rows; rows are awkward lengths. */
static void
check_embed (uint32_t type,
             uint32_t n_in)
{
  const uint32_t n_rows = 37, n_tokens = 11;
  const uint32_t ids[11] = { 36, 0, 5, 5, 17, 36, 1, 2, 30, 0, 9 };
  Fixture f;
  size_t row_bytes;
  uint8_t *w;
  float *y, *row;
  PonderVkBuffer wb, ib, yb;

  if (!fixture_open (&f))
    return;
  w = random_weights (type, n_in, n_rows, &row_bytes);
  y = g_new (float, (size_t) n_tokens * n_in);
  row = g_new (float, n_in);
  wb = upload_new (&f, w, row_bytes * n_rows, PONDER_VK_MEMORY_DEVICE);
  ib = upload_new (&f, ids, sizeof ids, PONDER_VK_MEMORY_DEVICE);
  yb = upload_new (&f, NULL, (size_t) n_tokens * n_in * 4, PONDER_VK_MEMORY_HOST);
  CHECK_OK (ponder_vk_begin (f.dev, ck));
  CHECK_OK (ponder_vk_op_embed (f.dev, type, &wb, row_bytes, n_in, n_rows, &ib, n_tokens, &yb,
                                ck));
  CHECK_OK (ponder_vk_submit (f.dev, ck));
  CHECK_OK (ponder_vk_buffer_download (f.dev, &yb, 0, y, (size_t) n_tokens * n_in * 4, ck));
  for (uint32_t t = 0; t < n_tokens; t++)
    {
      float big = 0.0f;

      ponder_dequantize_row ((PonderType) type, w + (size_t) ids[t] * row_bytes, row, n_in);
      for (uint32_t i = 0; i < n_in; i++)
        big = MAX (big, fabsf (row[i]));
      for (uint32_t i = 0; i < n_in; i++)
        if (!(fabsf (y[(size_t) t * n_in + i] - row[i]) <= 1e-6f * big))
          g_error ("embed %s: token %u (row %u) element %u: %.9g, expected %.9g",
                   ponder_type_info (type)->name, t, ids[t], i, y[(size_t) t * n_in + i],
                   row[i]);
    }
  ponder_vk_buffer_free (f.dev, &wb);
  ponder_vk_buffer_free (f.dev, &ib);
  ponder_vk_buffer_free (f.dev, &yb);
  g_free (w);
  g_free (y);
  g_free (row);
  fixture_close (&f);
}

static void
test_embed (void)
{
  check_embed (PONDER_TYPE_F32, 333);
  check_embed (PONDER_TYPE_F16, 45);
  check_embed (PONDER_TYPE_BF16, 70);
  check_embed (PONDER_TYPE_Q8_0, 32 * 3);
  check_embed (PONDER_TYPE_Q4_0, 32 * 5);
  check_embed (PONDER_TYPE_Q5_0, 32 * 7);
  check_embed (PONDER_TYPE_Q4_1, 32 * 7);
  check_embed (PONDER_TYPE_Q5_1, 32 * 7);
  check_embed (PONDER_TYPE_Q4_K, 256 * 2);
  check_embed (PONDER_TYPE_Q5_K, 256);
  check_embed (PONDER_TYPE_Q6_K, 256 * 3);
  check_embed (PONDER_TYPE_Q2_K, 256 * 3);
  check_embed (PONDER_TYPE_Q3_K, 256 * 2);
}

/* More rows than one grid axis allows (65535 on lavapipe): the y split. */
static void
test_matmul_tall (void)
{
  check_matmul (PONDER_TYPE_Q8_0, 32, 70001, 1);
}

/* The texel kernels' register tiles (vulkan-ops.c, texel_tile): token
 * counts on both sides of each tile size (1: decode; 2, 4, 8 tokens per
 * invocation, then several tiles) and row counts that leave the last tile
 * of 64 rows part-filled. */
static void
test_matmul_tiles (void)
{
  static const uint32_t types[] = { PONDER_TYPE_Q4_K, PONDER_TYPE_Q6_K, PONDER_TYPE_Q8_0,
                                    PONDER_TYPE_Q5_0, PONDER_TYPE_F16, PONDER_TYPE_F32 };
  static const uint32_t tokens[] = { 2, 3, 4, 5, 7, 8, 9, 17 };

  for (size_t i = 0; i < G_N_ELEMENTS (types); i++)
    for (size_t t = 0; t < G_N_ELEMENTS (tokens); t++)
      check_matmul (types[i], types[i] == PONDER_TYPE_F32 ? 260 : 256, 67 + 64 * (t % 2),
                    tokens[t]);
}

static void
test_rmsnorm (void)
{
  const uint32_t n = 1000, n_rows = 7;
  const float eps = 1e-6f;
  Fixture f;
  float *x, *w, *y;
  PonderVkBuffer xb, wb, yb;

  if (!fixture_open (&f))
    return;
  x = random_floats ((size_t) n * n_rows, 3.0f);
  w = random_floats (n, 2.0f);
  y = g_new (float, (size_t) n * n_rows);
  xb = upload_new (&f, x, (size_t) n * n_rows * 4, PONDER_VK_MEMORY_DEVICE);
  wb = upload_new (&f, w, (size_t) n * 4, PONDER_VK_MEMORY_DEVICE);
  yb = upload_new (&f, NULL, (size_t) n * n_rows * 4, PONDER_VK_MEMORY_HOST);
  CHECK_OK (ponder_vk_begin (f.dev, ck));
  CHECK_OK (ponder_vk_op_rmsnorm (f.dev, &xb, &wb, &yb, n_rows, n, eps, ck));
  CHECK_OK (ponder_vk_submit (f.dev, ck));
  CHECK_OK (ponder_vk_buffer_download (f.dev, &yb, 0, y, (size_t) n * n_rows * 4, ck));
  for (uint32_t r = 0; r < n_rows; r++)
    {
      double sum = 0.0, scale;

      for (uint32_t i = 0; i < n; i++)
        sum += (double) x[r * n + i] * x[r * n + i];
      scale = 1.0 / sqrt (sum / n + eps);
      for (uint32_t i = 0; i < n; i++)
        {
          double ref = w[i] * x[r * n + i] * scale;

          if (fabs (y[r * n + i] - ref) > 1e-5 * fabs (ref) + 1e-6)
            g_error ("rmsnorm row %u [%u]: gpu %.8g, reference %.8g", r, i, y[r * n + i], ref);
        }
    }
  ponder_vk_buffer_free (f.dev, &xb);
  ponder_vk_buffer_free (f.dev, &wb);
  ponder_vk_buffer_free (f.dev, &yb);
  g_free (x);
  g_free (w);
  g_free (y);
  fixture_close (&f);
}

static void
check_rope (PonderRopePairing pairing)
{
  const uint32_t n_tokens = 5, n_heads = 3, head_dim = 80, n_rot = 64, pos0 = 8190;
  const size_t n = (size_t) n_tokens * n_heads * head_dim;
  /* up to the last head's rotated dims, as deepseek2's latent rows end */
  const size_t tight = n - (head_dim - n_rot);
  PonderError error = { 0 };
  PonderThreadpool *pool;
  PonderBackend *cpu;
  PonderRope rope;
  PonderVkRopeParams vk_rope;
  Fixture f;
  float *x, *x0, *ref, *freq, *table;
  PonderVkBuffer xb, fb, tb;

  if (!fixture_open (&f))
    return;
  x = random_floats (n, 2.0f);
  ref = g_memdup2 (x, n * 4);
  x0 = g_memdup2 (x, n * 4);
  freq = g_new (float, n_rot / 2);
  for (uint32_t i = 0; i < n_rot / 2; i++)
    freq[i] = (float) pow (10000.0, -2.0 * i / n_rot);
  rope.pairing = pairing;
  rope.n_rot = n_rot;
  rope.mscale = 1.25f;
  rope.freq = freq;
  g_assert_cmpint (ponder_threadpool_new (1, &pool, &error), ==, PONDER_OK);
  g_assert_cmpint (ponder_backend_cpu_new (pool, n_tokens, head_dim * n_heads, &cpu, &error),
                   ==, PONDER_OK);
  cpu->rope (cpu, ref, n_tokens, n_heads, head_dim, pos0, &rope);
  vk_rope.n_rot = n_rot;
  vk_rope.mscale = rope.mscale;
  vk_rope.freq = freq;
  table = g_new (float, (size_t) n_tokens * n_rot);
  ponder_vk_rope_table (&vk_rope, pos0, n_tokens, table);
  xb = upload_new (&f, x, n * 4, PONDER_VK_MEMORY_HOST);
  fb = upload_new (&f, table, (size_t) n_tokens * n_rot * 4, PONDER_VK_MEMORY_HOST);
  CHECK_OK (ponder_vk_begin (f.dev, ck));
  CHECK_OK (ponder_vk_op_rope (f.dev, &xb, &fb, n_tokens, n_heads, head_dim, n_rot,
                               pairing == PONDER_ROPE_NEOX, ck));
  CHECK_OK (ponder_vk_submit (f.dev, ck));
  CHECK_OK (ponder_vk_buffer_download (f.dev, &xb, 0, x, n * 4, ck));
  for (size_t i = 0; i < n; i++)
    if (fabs (x[i] - ref[i]) > 1e-6 * 2.0 * 2.0 * rope.mscale)
      g_error ("rope %s [%zu]: gpu %.8g, cpu %.8g", pairing == PONDER_ROPE_NEOX ? "neox" : "norm",
               i, x[i], ref[i]);
  tb = upload_new (&f, x0, tight * 4, PONDER_VK_MEMORY_HOST);
  CHECK_OK (ponder_vk_begin (f.dev, ck));
  CHECK_OK (ponder_vk_op_rope (f.dev, &tb, &fb, n_tokens, n_heads, head_dim, n_rot,
                               pairing == PONDER_ROPE_NEOX, ck));
  CHECK_OK (ponder_vk_submit (f.dev, ck));
  CHECK_OK (ponder_vk_buffer_download (f.dev, &tb, 0, x, tight * 4, ck));
  for (size_t i = 0; i < tight; i++)
    if (fabs (x[i] - ref[i]) > 1e-6 * 2.0 * 2.0 * rope.mscale)
      g_error ("rope %s, tight buffer [%zu]: gpu %.8g, cpu %.8g",
               pairing == PONDER_ROPE_NEOX ? "neox" : "norm", i, x[i], ref[i]);
  cpu->free (cpu);
  ponder_threadpool_free (pool);
  ponder_vk_buffer_free (f.dev, &xb);
  ponder_vk_buffer_free (f.dev, &fb);
  ponder_vk_buffer_free (f.dev, &tb);
  g_free (x);
  g_free (x0);
  g_free (ref);
  g_free (freq);
  g_free (table);
  fixture_close (&f);
}

static void
test_rope_norm (void)
{
  check_rope (PONDER_ROPE_NORM);
}

static void
test_rope_neox (void)
{
  check_rope (PONDER_ROPE_NEOX);
}

/* chunk 0: the one-pass kernel; else decode (n_tokens 1) split over the keys
 * in chunks of chunk positions. Each runs twice: pos0 in the push constants,
 * then read from a step buffer (as replayed decode steps do). With an F16
 * cache the device and the CPU read the same halves. */
static void
check_attention_typed (uint32_t     n_tokens,
                       uint32_t     pos0,
                       uint32_t     n_head,
                       uint32_t     n_head_kv,
                       uint32_t     hd,
                       uint32_t     chunk,
                       PonderKvType type)
{
  const uint32_t n_ctx = pos0 + n_tokens, k_row = n_head_kv * hd, v_row = n_head_kv * hd;
  const size_t n_q = (size_t) n_tokens * n_head * hd;
  const float scale = 1.0f / sqrtf ((float) hd);
  PonderError error = { 0 };
  PonderThreadpool *pool;
  PonderBackend *cpu;
  PonderKvLayer layer;
  PonderKvCache cache = { 0 };
  Fixture f;
  float *q, *ref, *out;
  PonderVkBuffer qb, kb, vb, ob, pb, sb;
  uint32_t n_chunks = chunk > 0 ? (n_ctx + chunk - 1) / chunk : 1;

  if (!fixture_open (&f))
    return;
  q = random_floats (n_q, 2.0f);
  layer.k = random_floats ((size_t) n_ctx * k_row, 2.0f);
  layer.v = random_floats ((size_t) n_ctx * v_row, 1.0f);
  if (type == PONDER_KV_F16)
    {
      float *k32 = layer.k, *v32 = layer.v;

      layer.k = g_new (uint16_t, (size_t) n_ctx * k_row);
      layer.v = g_new (uint16_t, (size_t) n_ctx * v_row);
      ponder_kv_to_f16 (layer.k, k32, (size_t) n_ctx * k_row, false);
      ponder_kv_to_f16 (layer.v, v32, (size_t) n_ctx * v_row, false);
      g_free (k32);
      g_free (v32);
    }
  cache.n_layers = 1;
  cache.type = type; /* the device's cache layout, for the CPU's reference */
  cache.n_ctx = n_ctx;
  cache.k_row = k_row;
  cache.v_row = v_row;
  cache.layers = &layer;
  cache.n_tokens = pos0;
  ref = g_new (float, n_q);
  out = g_new (float, n_q);
  g_assert_cmpint (ponder_threadpool_new (1, &pool, &error), ==, PONDER_OK);
  g_assert_cmpint (ponder_backend_cpu_new (pool, n_tokens, n_head * hd, &cpu, &error), ==,
                   PONDER_OK);
  cpu->attention (cpu, q, &cache, &layer, pos0, n_tokens, n_head, n_head_kv, hd, hd, scale, ref);
  qb = upload_new (&f, q, n_q * 4, PONDER_VK_MEMORY_DEVICE);
  kb = upload_new (&f, layer.k, (size_t) n_ctx * k_row * ponder_kv_type_size (type),
                   PONDER_VK_MEMORY_DEVICE);
  vb = upload_new (&f, layer.v, (size_t) n_ctx * v_row * ponder_kv_type_size (type),
                   PONDER_VK_MEMORY_DEVICE);
  ob = upload_new (&f, NULL, n_q * 4, PONDER_VK_MEMORY_HOST);
  pb = upload_new (&f, NULL, (size_t) n_chunks * n_head * (hd + 2) * 4, PONDER_VK_MEMORY_DEVICE);
  sb = upload_new (&f, &pos0, 4, PONDER_VK_MEMORY_DEVICE);
  for (int mem = 0; mem < 2; mem++)
    {
      const PonderVkBuffer *step = mem ? &sb : NULL;

      /* an output the kernel leaves unwritten must fail */
      for (size_t i = 0; i < n_q; i++)
        out[i] = 1e30f;
      CHECK_OK (ponder_vk_buffer_upload (f.dev, &ob, 0, out, n_q * 4, ck));
      CHECK_OK (ponder_vk_begin (f.dev, ck));
      if (chunk > 0)
        CHECK_OK (ponder_vk_op_attention_decode (f.dev, &qb, &kb, &vb, &pb, &ob, step, pos0,
                                                 n_head, n_head_kv, hd, hd, k_row, v_row, chunk,
                                                 scale, type, ck));
      else
        CHECK_OK (ponder_vk_op_attention (f.dev, &qb, &kb, &vb, &ob, step, n_tokens, pos0,
                                          n_head, n_head_kv, hd, hd, k_row, v_row, scale, type,
                                          ck));
      CHECK_OK (ponder_vk_submit (f.dev, ck));
      CHECK_OK (ponder_vk_buffer_download (f.dev, &ob, 0, out, n_q * 4, ck));
      for (size_t i = 0; i < n_q; i++)
        if (!(fabs (out[i] - ref[i]) <= 2e-5))
          g_error ("attention %u tokens at %u, %u/%u heads of %u, chunk %u, %s cache, pos0 "
                   "from %s [%zu]: gpu %.8g, cpu %.8g", n_tokens, pos0, n_head, n_head_kv, hd,
                   chunk, ponder_kv_type_name (type), mem ? "memory" : "push", i, out[i],
                   ref[i]);
    }
  cpu->free (cpu);
  ponder_threadpool_free (pool);
  ponder_vk_buffer_free (f.dev, &qb);
  ponder_vk_buffer_free (f.dev, &kb);
  ponder_vk_buffer_free (f.dev, &vb);
  ponder_vk_buffer_free (f.dev, &ob);
  ponder_vk_buffer_free (f.dev, &pb);
  ponder_vk_buffer_free (f.dev, &sb);
  g_free (q);
  g_free (layer.k);
  g_free (layer.v);
  g_free (ref);
  g_free (out);
  fixture_close (&f);
}

static void
check_attention_chunked (uint32_t n_tokens,
                         uint32_t pos0,
                         uint32_t n_head,
                         uint32_t n_head_kv,
                         uint32_t hd,
                         uint32_t chunk)
{
  check_attention_typed (n_tokens, pos0, n_head, n_head_kv, hd, chunk, PONDER_KV_F32);
}

static void
check_attention (uint32_t n_tokens,
                 uint32_t pos0,
                 uint32_t n_head,
                 uint32_t n_head_kv,
                 uint32_t hd)
{
  check_attention_chunked (n_tokens, pos0, n_head, n_head_kv, hd, 0);
}

/* Prefill across two key tiles, decode deep into the cache, plain MHA. */
static void
test_attention (void)
{
  check_attention (3, 70, 6, 2, 40);
  check_attention (1, 150, 4, 1, 72);
  check_attention (5, 0, 3, 3, 24);
  check_attention_typed (3, 70, 6, 2, 40, 0, PONDER_KV_F16);
  check_attention_typed (5, 0, 3, 3, 24, 0, PONDER_KV_F16);
}

/* Decode split over the keys: chunks of a workgroup and more, an awkward
 * chunk with a short last one, a single chunk. */
static void
test_attention_split (void)
{
  check_attention_chunked (1, 1000, 6, 2, 40, 256);
  check_attention_chunked (1, 150, 4, 1, 72, 7);
  check_attention_chunked (1, 30, 3, 3, 24, 64);
  check_attention_typed (1, 1000, 6, 2, 40, 256, PONDER_KV_F16);
  check_attention_typed (1, 150, 4, 1, 72, 7, PONDER_KV_F16);
}

/* The store into an F16 cache rounds as the CPU's cache does (kv-cache.h,
 * itself checked bit for bit against numpy), and leaves other rows alone:
 * rows from the push constants and from the step buffer, keys only too. */
static void
check_kv_store_f16 (uint32_t n_tokens,
                    uint32_t pos0,
                    uint32_t k_row,
                    uint32_t v_row,
                    bool     from_memory)
{
  const uint32_t n_ctx = pos0 + n_tokens + 3;
  size_t v_alloc = v_row > 0 ? v_row : 2;
  Fixture f;
  float *k, *v;
  uint16_t *kc, *vc, *k_out, *v_out, *k_half, *v_half;

  if (!fixture_open (&f))
    return;
  k = random_floats ((size_t) n_tokens * k_row, 3.0f);
  v = random_floats ((size_t) n_tokens * v_alloc, 3.0f);
  k[1] = 65519.0f;   /* rounds to 65504 */
  k[2] = 1e-7f;      /* a subnormal half */
  k[3] = 1e6f;       /* overflows to inf */
  kc = g_new (uint16_t, (size_t) n_ctx * k_row);
  vc = g_new (uint16_t, (size_t) n_ctx * v_alloc);
  for (size_t i = 0; i < (size_t) n_ctx * k_row; i++)
    kc[i] = (uint16_t) (0x3c00 + i % 977);
  for (size_t i = 0; i < (size_t) n_ctx * v_alloc; i++)
    vc[i] = (uint16_t) (0xbc00 + i % 613);
  k_half = g_new (uint16_t, (size_t) n_tokens * k_row);
  v_half = g_new (uint16_t, (size_t) n_tokens * v_alloc);
  ponder_kv_to_f16 (k_half, k, (size_t) n_tokens * k_row, false);
  ponder_kv_to_f16 (v_half, v, (size_t) n_tokens * v_alloc, false);
  k_out = g_new (uint16_t, (size_t) n_ctx * k_row);
  v_out = g_new (uint16_t, (size_t) n_ctx * v_alloc);
  run_kv_store (&f, k, v, kc, vc, k_out, v_out, n_tokens, n_ctx, pos0, k_row, v_row, v_alloc,
                PONDER_KV_F16, from_memory);
  g_assert_cmphex (k_out[(size_t) pos0 * k_row + 1], ==, 0x7bff);
  g_assert_cmphex (k_out[(size_t) pos0 * k_row + 3], ==, 0x7c00);
  for (uint32_t p = 0; p < n_ctx; p++)
    {
      bool stored = p >= pos0 && p < pos0 + n_tokens;
      const uint16_t *k_want = stored ? k_half + (size_t) (p - pos0) * k_row
                                      : kc + (size_t) p * k_row;
      const uint16_t *v_want = stored && v_row > 0 ? v_half + (size_t) (p - pos0) * v_row
                                                   : vc + (size_t) p * v_alloc;

      if (memcmp (k_out + (size_t) p * k_row, k_want, k_row * 2) != 0)
        g_error ("F16 kv_store %u tokens at %u: key row %u differs", n_tokens, pos0, p);
      if (memcmp (v_out + (size_t) p * v_alloc, v_want, v_alloc * 2) != 0)
        g_error ("F16 kv_store %u tokens at %u: value row %u differs", n_tokens, pos0, p);
    }
  g_free (k);
  g_free (v);
  g_free (kc);
  g_free (vc);
  g_free (k_half);
  g_free (v_half);
  g_free (k_out);
  g_free (v_out);
  fixture_close (&f);
}

static void
test_kv_store_f16 (void)
{
  check_kv_store_f16 (5, 7, 48, 40, false);
  check_kv_store_f16 (1, 300, 96, 96, true);
  check_kv_store_f16 (3, 2, 576, 0, true); /* deepseek2's latent rows, keys only */
}

/* Greedy decoding's pick with the padding mask: a tie goes to the lower
 * index, NaN and masked indices never win, the mask may be shorter than the
 * vector (indices past it are unmasked), and all-masked gives 0xffffffff. */
static uint32_t
masked_argmax_reference (const float *x, uint32_t n, const uint32_t *mask, uint32_t n_words)
{
  uint32_t best = 0xffffffffu;

  for (uint32_t i = 0; i < n; i++)
    {
      bool is_masked = i / 32 < n_words && (mask[i / 32] >> (i % 32) & 1u);

      if (!is_masked && !isnan (x[i]) && (best == 0xffffffffu || x[i] > x[best]))
        best = i;
    }
  return best;
}

static void
test_argmax_masked (void)
{
  const uint32_t n = 151937, n_words = (n + 31) / 32 - 3;
  Fixture f;
  float *x;
  uint32_t *mask, best = 0;
  PonderVkBuffer xb, mb, bb;
  struct { uint32_t set_max; uint32_t masked; } cases[] = {
    { 7, 0 },                 /* nothing special: plain maximum */
    { 100000, 100000 },       /* the maximum is masked */
    { 151936, 5 },            /* the maximum lies past the mask's words */
  };

  if (!fixture_open (&f))
    return;
  x = random_floats (n, 4.0f);
  mask = g_new0 (uint32_t, n_words);
  xb = upload_new (&f, NULL, n * 4, PONDER_VK_MEMORY_HOST);
  mb = upload_new (&f, NULL, n_words * 4, PONDER_VK_MEMORY_HOST);
  bb = upload_new (&f, NULL, 4, PONDER_VK_MEMORY_HOST);
  for (uint32_t i = 0; i < n; i += 997)
    x[i] = NAN;
  for (size_t c = 0; c < G_N_ELEMENTS (cases); c++)
    {
      uint32_t ref;

      /* Two equal maxima below the planted one, so masking it leaves a tie. */
      x[cases[c].set_max] = 100.0f + c;
      x[3001] = x[2000] = 50.0f + c;
      memset (mask, 0, n_words * 4);
      for (uint32_t i = 131; i < n_words * 32; i += 4099)
        mask[i / 32] |= 1u << (i % 32);
      mask[cases[c].masked / 32] |= 1u << (cases[c].masked % 32);
      ref = masked_argmax_reference (x, n, mask, n_words);
      CHECK_OK (ponder_vk_buffer_upload (f.dev, &xb, 0, x, n * 4, ck));
      CHECK_OK (ponder_vk_buffer_upload (f.dev, &mb, 0, mask, n_words * 4, ck));
      CHECK_OK (ponder_vk_begin (f.dev, ck));
      CHECK_OK (ponder_vk_op_argmax (f.dev, &xb, n, &mb, n_words, &bb, ck));
      CHECK_OK (ponder_vk_submit (f.dev, ck));
      CHECK_OK (ponder_vk_buffer_download (f.dev, &bb, 0, &best, 4, ck));
      g_assert_cmpuint (best, ==, ref);
      x[cases[c].set_max] = 0.0f;
    }
  g_assert_cmpuint (best, ==, 151936); /* the last case's answer, worked by hand */
  /* Everything masked or NaN: no winner. */
  memset (mask, 0xff, n_words * 4);
  for (uint32_t i = n_words * 32; i < n; i++)
    x[i] = NAN;
  CHECK_OK (ponder_vk_buffer_upload (f.dev, &xb, 0, x, n * 4, ck));
  CHECK_OK (ponder_vk_buffer_upload (f.dev, &mb, 0, mask, n_words * 4, ck));
  CHECK_OK (ponder_vk_begin (f.dev, ck));
  CHECK_OK (ponder_vk_op_argmax (f.dev, &xb, n, &mb, n_words, &bb, ck));
  CHECK_OK (ponder_vk_submit (f.dev, ck));
  CHECK_OK (ponder_vk_buffer_download (f.dev, &bb, 0, &best, 4, ck));
  g_assert_cmpuint (best, ==, 0xffffffffu);
  ponder_vk_buffer_free (f.dev, &xb);
  ponder_vk_buffer_free (f.dev, &mb);
  ponder_vk_buffer_free (f.dev, &bb);
  g_free (x);
  g_free (mask);
  fixture_close (&f);
}

/* swiglu, add and argmax recorded into one command buffer, so the barriers
 * between dependent dispatches are exercised too: argmax reads the sum. */
static void
test_elementwise_step (void)
{
  const uint32_t n = 70001;
  Fixture f;
  float *gate, *up, *acc, *out;
  uint32_t best = 0, ref_best = 0;
  PonderVkBuffer gb, ub, ab, bb;

  if (!fixture_open (&f))
    return;
  gate = random_floats (n, 6.0f);
  up = random_floats (n, 2.0f);
  acc = random_floats (n, 1.0f);
  out = g_new (float, n);
  gb = upload_new (&f, gate, n * 4, PONDER_VK_MEMORY_DEVICE);
  ub = upload_new (&f, up, n * 4, PONDER_VK_MEMORY_DEVICE);
  ab = upload_new (&f, acc, n * 4, PONDER_VK_MEMORY_HOST);
  bb = upload_new (&f, NULL, 4, PONDER_VK_MEMORY_HOST);
  CHECK_OK (ponder_vk_begin (f.dev, ck));
  CHECK_OK (ponder_vk_op_swiglu (f.dev, &gb, &ub, n, ck));
  CHECK_OK (ponder_vk_op_add (f.dev, &ab, &gb, n, ck));
  CHECK_OK (ponder_vk_op_argmax (f.dev, &ab, n, NULL, 0, &bb, ck));
  CHECK_OK (ponder_vk_submit (f.dev, ck));
  CHECK_OK (ponder_vk_buffer_download (f.dev, &ab, 0, out, n * 4, ck));
  CHECK_OK (ponder_vk_buffer_download (f.dev, &bb, 0, &best, 4, ck));
  for (uint32_t i = 0; i < n; i++)
    {
      double g = gate[i];
      double ref = acc[i] + g / (1.0 + exp (-g)) * up[i];

      if (fabs (out[i] - ref) > 1e-6 * fabs (ref) + 1e-6)
        g_error ("swiglu + add [%u]: gpu %.8g, reference %.8g", i, out[i], ref);
      if (out[i] > out[ref_best])
        ref_best = i;
    }
  g_assert_cmpuint (best, ==, ref_best);
  ponder_vk_buffer_free (f.dev, &gb);
  ponder_vk_buffer_free (f.dev, &ub);
  ponder_vk_buffer_free (f.dev, &ab);
  ponder_vk_buffer_free (f.dev, &bb);
  g_free (gate);
  g_free (up);
  g_free (acc);
  g_free (out);
  fixture_close (&f);
}

/* Device buffers not mapped: uploads and downloads go through staging
 * buffers and copy commands, the path of a discrete GPU. */
static void
test_staging (void)
{
  staging_mode = true;
  test_rmsnorm ();
  check_matmul (PONDER_TYPE_Q4_K, 512, 33, 3);
  staging_mode = false;
}

/* Every kernel once with the Khronos validation layer and a messenger that
 * counts warnings and errors; fixture_close fails on any. */
static void
test_validation (void)
{
  validation_mode = true;
  test_elementwise_step ();
  test_rmsnorm ();
  test_rope_neox ();
  check_attention (2, 65, 4, 2, 16);
  check_attention_chunked (1, 100, 4, 2, 16, 32);
  check_attention_typed (1, 100, 4, 2, 16, 32, PONDER_KV_F16);
  check_attention_typed (2, 65, 4, 2, 16, 0, PONDER_KV_F16);
  check_kv_store_f16 (3, 2, 576, 0, true);
  check_matmul (PONDER_TYPE_F32, 40, 5, 2);
  check_matmul (PONDER_TYPE_F16, 40, 5, 2);
  check_matmul (PONDER_TYPE_Q8_0, 64, 5, 9);
  check_matmul (PONDER_TYPE_Q4_K, 256, 5, 2);
  check_matmul (PONDER_TYPE_Q6_K, 256, 5, 2);
  check_matmul (PONDER_TYPE_BF16, 40, 5, 1);
  check_matmul (PONDER_TYPE_Q4_0, 64, 5, 1);
  check_matmul (PONDER_TYPE_Q5_0, 64, 5, 2);
  check_matmul (PONDER_TYPE_Q5_K, 256, 5, 1);
  check_matmul (PONDER_TYPE_Q2_K, 256, 5, 9);
  check_matmul (PONDER_TYPE_Q3_K, 256, 5, 2);
  check_matmul (PONDER_TYPE_Q6_K, 256, 67, 5); /* a part-filled tile of 8 rows x 8 tokens */
  check_embed (PONDER_TYPE_Q4_K, 256);
  check_embed (PONDER_TYPE_Q3_K, 256);
  check_embed (PONDER_TYPE_F16, 45);
  test_staging ();
  validation_mode = false;
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/vulkan/matmul/f32", test_matmul_f32);
  g_test_add_func ("/vulkan/matmul/f16", test_matmul_f16);
  g_test_add_func ("/vulkan/matmul/q8_0", test_matmul_q8_0);
  g_test_add_func ("/vulkan/matmul/q4_k", test_matmul_q4_k);
  g_test_add_func ("/vulkan/matmul/q6_k", test_matmul_q6_k);
  g_test_add_func ("/vulkan/matmul/bf16", test_matmul_bf16);
  g_test_add_func ("/vulkan/matmul/q4_0", test_matmul_q4_0);
  g_test_add_func ("/vulkan/matmul/q5_0", test_matmul_q5_0);
  g_test_add_func ("/vulkan/matmul/q4_1", test_matmul_q4_1);
  g_test_add_func ("/vulkan/matmul/q5_1", test_matmul_q5_1);
  g_test_add_func ("/vulkan/matmul/q5_k", test_matmul_q5_k);
  g_test_add_func ("/vulkan/matmul/q2_k", test_matmul_q2_k);
  g_test_add_func ("/vulkan/matmul/q3_k", test_matmul_q3_k);
  g_test_add_func ("/vulkan/matmul/tall", test_matmul_tall);
  g_test_add_func ("/vulkan/matmul/tiles", test_matmul_tiles);
  g_test_add_func ("/vulkan/embed", test_embed);
  g_test_add_func ("/vulkan/rmsnorm", test_rmsnorm);
  g_test_add_func ("/vulkan/rope/norm", test_rope_norm);
  g_test_add_func ("/vulkan/rope/neox", test_rope_neox);
  g_test_add_func ("/vulkan/attention", test_attention);
  g_test_add_func ("/vulkan/attention/split", test_attention_split);
  g_test_add_func ("/vulkan/kv-store-f16", test_kv_store_f16);
  g_test_add_func ("/vulkan/elementwise-step", test_elementwise_step);
  g_test_add_func ("/vulkan/argmax-masked", test_argmax_masked);
  g_test_add_func ("/vulkan/staging", test_staging);
  g_test_add_func ("/validation/all-kernels", test_validation);
  return g_test_run ();
}
