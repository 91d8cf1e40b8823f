/* test-vulkan-deepseek2.c: the deepseek2 kernels (engine/vulkan-ops-deepseek2.c)
 * against references written from the formulas.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Random inputs of awkward sizes (rows not multiples of the workgroup, a
 * latent width that is not a multiple of 8, strided query rows), every
 * weight type the shaders read (F32, F16, Q8_0, Q4_0, Q5_0, Q4_1, Q5_1, Q2_K,
 * Q3_K, Q4_K, Q5_K, Q6_K; the IQ types of R1's dynamic quants and IQ4_NL,
 * their short-row fallback),
 * both workgroup shapes (one row per invocation as on lavapipe, 32 and 64
 * lanes per row as on GPUs), the routed experts in one buffer and cut into
 * chunks of experts. The
 * references: ponder_dequantize_row and double-precision loops for the
 * products and the latent attention; for the routing, the CPU's
 * ponder_deepseek2_route (plain C, sharing nothing with the shader), whose
 * ids must come out identical, ties included.
 *
 * Tolerances as in test-vulkan.c: products 3e-5 * sum |w_i x_i| (the only
 * error is f32 accumulation order); routing weights 1e-6 relative; the
 * attention 2e-5 absolute on outputs that are convex combinations of
 * values in [-1, 1].
 *
 * PONDER_TEST_VALIDATION=1 runs everything under the Khronos validation
 * layer and fails on any message.
 */
#include <glib.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "forward.h"
#include "quant.h"
#include "vulkan-deepseek2.h"
#include "vulkan-test-util.h"

static bool
fixture_open (Fixture *f)
{
  return vulkan_fixture_open (f, g_getenv ("PONDER_TEST_VALIDATION") != NULL, false);
}

/* A host-visible buffer holding data (or zeros). */
static PonderVkBuffer
buffer_new (Fixture    *f,
            const void *data,
            size_t      size)
{
  PonderVkBuffer buf;

  CHECK_OK (ponder_vk_buffer_new (f->dev, size, PONDER_VK_MEMORY_HOST, "test", &buf, ck));
  memset (buf.mapped, 0, size);
  if (data != NULL)
    memcpy (buf.mapped, data, size);
  return buf;
}

/* n_rows rows of n_in random weights of type as bytes, the scale fields
 * small enough that products stay of order one. */
/* Row r (of all the slices') dequantised, and its product with x. */
static double
dot_row (uint32_t       type,
         const uint8_t *w,
         size_t         row_bytes,
         size_t         r,
         const float   *x,
         uint32_t       n_in,
         double        *mag)
{
  float *row = g_new (float, n_in);
  double dot = 0.0;

  ponder_dequantize_row ((PonderType) type, w + r * row_bytes, row, n_in);
  *mag = 0.0;
  for (uint32_t i = 0; i < n_in; i++)
    {
      dot += (double) row[i] * x[i];
      *mag += fabs ((double) row[i] * x[i]);
    }
  g_free (row);
  return dot;
}

/* The shapes every product is run in: the device default, lavapipe's,
 * GPUs' (32 lanes per row, 2 rows per workgroup), a whole workgroup. */
static const uint32_t shapes[4][2] = { { 0, 0 }, { 8, 1 }, { 64, 32 }, { 64, 64 } };

static const uint32_t *
shape_of (int s)
{
  return s == 0 ? NULL : shapes[s];
}

static uint32_t
n_in_for (uint32_t type,
          uint32_t awkward)
{
  /* block formats need whole blocks; float rows take any length */
  const PonderTypeInfo *ti = ponder_type_info (type);

  return ti->block_size > 1 ? ti->block_size * (ti->block_size == 256 ? 1 : 3) : awkward;
}

/* ---- matmul_slices ----------------------------------------------------- */

static void
slices_case (uint32_t type,
             uint32_t n_in,
             uint32_t x_stride)
{
  uint32_t n_out = 19, n_slices = 5, n_tokens = 3;
  uint32_t n_items = n_tokens * n_slices;
  size_t row_bytes, x_len = (size_t) (n_items - 1) * x_stride + n_in;
  Fixture f;
  uint8_t *w;
  float *x;
  PonderVkBuffer wb, xb, yb;

  if (!fixture_open (&f))
    return;
  w = random_weights (type, n_in, (size_t) n_slices * n_out, &row_bytes);
  x = random_floats (x_len, 1.0);
  wb = buffer_new (&f, w, row_bytes * n_slices * n_out);
  xb = buffer_new (&f, x, x_len * 4);
  yb = buffer_new (&f, NULL, (size_t) n_items * n_out * 4);
  for (int s = 0; s < 4; s++)
    {
      float *y = yb.mapped;

      memset (y, 0xff, (size_t) n_items * n_out * 4);
      CHECK_OK (ponder_vk_begin (f.dev, ck));
      CHECK_OK (ponder_vk_op_matmul_slices (f.dev, type, &wb, row_bytes, n_in, n_out, n_slices,
                                            &xb, x_stride, n_items, &yb, shape_of (s), ck));
      CHECK_OK (ponder_vk_submit (f.dev, ck));
      for (uint32_t i = 0; i < n_items; i++)
        for (uint32_t r = 0; r < n_out; r++)
          {
            double mag, want = dot_row (type, w, row_bytes, (size_t) (i % n_slices) * n_out + r,
                                        x + (size_t) i * x_stride, n_in, &mag);

            if (fabs (y[(size_t) i * n_out + r] - want) > 3e-5 * mag + 1e-30)
              g_error ("shape %d item %u row %u: %.9g, expected %.9g", s, i, r,
                       y[(size_t) i * n_out + r], want);
          }
    }
  ponder_vk_buffer_free (f.dev, &wb);
  ponder_vk_buffer_free (f.dev, &xb);
  ponder_vk_buffer_free (f.dev, &yb);
  g_free (w);
  g_free (x);
  fixture_close (&f);
}

static void
check_slices (gconstpointer data)
{
  uint32_t type = GPOINTER_TO_UINT (data);
  uint32_t n_in = n_in_for (type, 37);

  slices_case (type, n_in, n_in + 7);
  /* rows and strides of a multiple of 4 floats: on lavapipe the texel
   * kernels (vulkan-ops-deepseek2.c) */
  n_in = n_in_for (type, 36);
  slices_case (type, n_in, n_in + 12);
}

/* ---- MoE gate/up and down ---------------------------------------------- */

/* n_used distinct experts of n_expert per token, some tokens sharing. */
static int32_t *
random_ids (uint32_t n_tokens,
            uint32_t n_used,
            uint32_t n_expert)
{
  int32_t *ids = g_new (int32_t, (size_t) n_tokens * n_used);

  for (uint32_t t = 0; t < n_tokens; t++)
    for (uint32_t k = 0; k < n_used; k++)
      {
        bool again;
        int32_t e;

        do
          {
            e = g_test_rand_int_range (0, (int32_t) n_expert);
            again = false;
            for (uint32_t j = 0; j < k; j++)
              again |= ids[t * n_used + j] == e;
          }
        while (again);
        ids[t * n_used + k] = e;
      }
  return ids;
}

static void
check_moe (gconstpointer data)
{
  uint32_t type = GPOINTER_TO_UINT (data);
  uint32_t n_expert = 7, n_used = 3, n_tokens = 5, n_slots = n_tokens * n_used;
  uint32_t E = n_in_for (type, 45), ff = n_in_for (type, 33);
  size_t gu_row, d_row;
  Fixture f;
  uint8_t *gu, *down;
  int32_t *ids;
  float *x, *wts, *y0, *h_want, *h_bound;
  /* the experts in one buffer, and in chunks of 3, 2 and 2 (as R1's
   * tensors are cut to fit a binding) */
  static const uint32_t chunks[2][4] = { { 0, 7 }, { 0, 3, 5, 7 } };
  static const uint32_t n_chunks[2] = { 1, 3 };
  PonderVkBuffer gub[3], db[3], xb, ib, wb, hb, yb;

  if (!fixture_open (&f))
    return;
  /* gate matrices then up matrices, each (n_expert, ff, E) */
  gu = random_weights (type, E, 2ull * n_expert * ff, &gu_row);
  down = random_weights (type, ff, (size_t) n_expert * E, &d_row);
  ids = random_ids (n_tokens, n_used, n_expert);
  x = random_floats ((size_t) n_tokens * E, 1.0);
  wts = random_floats (n_slots, 1.0);
  y0 = random_floats ((size_t) n_tokens * E, 1.0);
  h_want = g_new (float, (size_t) n_slots * ff);
  h_bound = g_new (float, (size_t) n_slots * ff);
  xb = buffer_new (&f, x, (size_t) n_tokens * E * 4);
  ib = buffer_new (&f, ids, n_slots * 4);
  wb = buffer_new (&f, wts, n_slots * 4);
  hb = buffer_new (&f, NULL, (size_t) n_slots * ff * 4);
  yb = buffer_new (&f, NULL, (size_t) n_tokens * E * 4);
  /* h from the reference's gate and up, so that down is checked on its own */
  for (uint32_t sl = 0; sl < n_slots; sl++)
    for (uint32_t r = 0; r < ff; r++)
      {
        double mag_g, mag_u, g, u, silu;
        size_t row = (size_t) ids[sl] * ff + r;

        g = dot_row (type, gu, gu_row, row, x + (size_t) (sl / n_used) * E, E, &mag_g);
        u = dot_row (type, gu, gu_row, (size_t) n_expert * ff + row,
                     x + (size_t) (sl / n_used) * E, E, &mag_u);
        silu = g / (1.0 + exp (-g));
        h_want[(size_t) sl * ff + r] = (float) (silu * u);
        /* g and u within 3e-5 of their magnitude sums; silu' is below 1.1 */
        h_bound[(size_t) sl * ff + r] = 3e-5 * (1.1 * mag_g * fabs (u) + fabs (silu) * mag_u)
                                        + 1e-6;
      }
  for (int s = 0; s < 4; s++)
    for (int acc = 0; acc < 2; acc++)
      {
        float *h = hb.mapped, *y = yb.mapped;
        int split = (s + acc) % 2;
        uint32_t nc = n_chunks[split];
        const uint32_t *bounds = chunks[split];

        for (uint32_t c = 0; c < nc; c++)
          {
            size_t e0 = bounds[c], n = bounds[c + 1] - e0, g = (size_t) ff * gu_row;

            gub[c] = buffer_new (&f, NULL, 2 * n * g);
            memcpy (gub[c].mapped, gu + e0 * g, n * g);
            memcpy ((uint8_t *) gub[c].mapped + n * g, gu + (n_expert + e0) * g, n * g);
            db[c] = buffer_new (&f, down + e0 * E * d_row, n * E * d_row);
          }

        memset (h, 0xff, (size_t) n_slots * ff * 4);
        memcpy (y, y0, (size_t) n_tokens * E * 4);
        CHECK_OK (ponder_vk_begin (f.dev, ck));
        for (uint32_t c = 0; c < nc; c++)
          CHECK_OK (ponder_vk_op_moe_gate_up (f.dev, type, &gub[c], gu_row, E, ff, bounds[c],
                                              bounds[c + 1] - bounds[c], &xb, n_tokens, n_used,
                                              &ib, &hb, shape_of (s), ck));
        CHECK_OK (ponder_vk_submit (f.dev, ck));
        for (size_t i = 0; i < (size_t) n_slots * ff; i++)
          {
            if (fabs (h[i] - h_want[i]) > h_bound[i])
              g_error ("gate/up shape %d chunks %u slot %zu row %zu: %.9g, expected %.9g", s,
                       nc, i / ff, i % ff, h[i], h_want[i]);
          }
        memcpy (h, h_want, (size_t) n_slots * ff * 4);
        CHECK_OK (ponder_vk_begin (f.dev, ck));
        for (uint32_t c = 0; c < nc; c++)
          CHECK_OK (ponder_vk_op_moe_down (f.dev, type, &db[c], d_row, ff, E, bounds[c],
                                           bounds[c + 1] - bounds[c], &hb, n_tokens, n_used,
                                           &ib, &wb, acc || c > 0, &yb, shape_of (s), ck));
        CHECK_OK (ponder_vk_submit (f.dev, ck));
        for (uint32_t t = 0; t < n_tokens; t++)
          for (uint32_t r = 0; r < E; r++)
            {
              double want = acc ? y0[(size_t) t * E + r] : 0.0, bound = 0.0;

              for (uint32_t k = 0; k < n_used; k++)
                {
                  uint32_t sl = t * n_used + k;
                  double mag, d = dot_row (type, down, d_row, (size_t) ids[sl] * E + r,
                                           h_want + (size_t) sl * ff, ff, &mag);

                  want += wts[sl] * d;
                  bound += fabs (wts[sl]) * mag;
                }
              if (fabs (y[(size_t) t * E + r] - want) > 3e-5 * bound + 1e-6)
                g_error ("down shape %d acc %d chunks %u token %u row %u: %.9g, expected %.9g",
                         s, acc, nc, t, r, y[(size_t) t * E + r], want);
            }
        for (uint32_t c = 0; c < nc; c++)
          {
            ponder_vk_buffer_free (f.dev, &gub[c]);
            ponder_vk_buffer_free (f.dev, &db[c]);
          }
      }
  ponder_vk_buffer_free (f.dev, &xb);
  ponder_vk_buffer_free (f.dev, &ib);
  ponder_vk_buffer_free (f.dev, &wb);
  ponder_vk_buffer_free (f.dev, &hb);
  ponder_vk_buffer_free (f.dev, &yb);
  g_free (gu);
  g_free (down);
  g_free (ids);
  g_free (x);
  g_free (wts);
  g_free (y0);
  g_free (h_want);
  g_free (h_bound);
  fixture_close (&f);
}

/* ---- Routing ------------------------------------------------------------- */

typedef struct
{
  const char *name;
  uint32_t    n_expert, n_used, n_groups, n_group_used, gating;
  bool        norm, bias, ties;
  float       scale;
  double      spread; /* logits in [-spread, spread] */
} RouteCase;

static const RouteCase route_cases[] = {
  /* R1: 256 experts, 8 of them, 8 groups of which 4 kept, sigmoid, bias */
  { "r1", 256, 8, 8, 4, 2, true, true, false, 2.5f, 3.0 },
  { "small", 64, 6, 8, 4, 2, true, true, false, 2.5f, 3.0 },
  /* exact ties between experts and between groups: lower index / later group */
  { "ties", 64, 6, 8, 4, 2, true, true, true, 2.5f, 3.0 },
  { "no-groups", 20, 5, 0, 0, 2, true, true, false, 1.0f, 3.0 },
  { "softmax", 60, 6, 1, 1, 1, false, false, false, 1.0f, 3.0 },
  /* exp overflows unless the largest logit over all experts is taken out */
  { "softmax-wide", 200, 6, 0, 0, 1, true, false, false, 1.0f, 60.0 },
  { "softplus", 48, 4, 4, 3, 4, true, false, false, 1.5f, 3.0 },
  { "ties-softmax", 40, 3, 0, 0, 1, true, false, true, 1.0f, 3.0 },
};

static void
check_route (gconstpointer data)
{
  const RouteCase *rc = data;
  uint32_t n_tokens = 9, n = rc->n_expert, k = rc->n_used;
  PonderHparams hp = { 0 };
  PonderVkRouteParams rp = { n, k, rc->n_groups, rc->n_group_used, rc->gating, rc->norm,
                             rc->scale };
  Fixture f;
  float *logits, *bias, *tmp, *want_w;
  int32_t *want_ids;
  PonderVkBuffer lb, bb, ib, wb;

  if (!fixture_open (&f))
    return;
  hp.n_expert = n;
  hp.n_expert_used = k;
  hp.n_expert_groups = rc->n_groups;
  hp.n_group_used = rc->n_group_used;
  hp.expert_gating = rc->gating;
  hp.expert_weights_norm = rc->norm;
  hp.expert_weights_scale = rc->scale;
  logits = random_floats ((size_t) n_tokens * n, rc->spread);
  bias = random_floats (n, rc->bias ? 0.1 : 0.0);
  if (rc->ties)
    for (uint32_t t = 0; t < n_tokens; t++)
      {
        float *l = logits + (size_t) t * n;

        /* a few repeated values, and (with groups) whole groups equal. No
         * negative logits: sigmoid (x) + sigmoid (-x) = 1 = 2 sigmoid (0),
         * so groups {1, -1} and {0, 0} would tie only up to rounding, which
         * the CPU and the device may round apart. */
        for (uint32_t e = 0; e < n; e++)
          l[e] = (float) g_test_rand_int_range (0, 4);
        if (rc->n_groups > 1)
          memcpy (l + n / rc->n_groups, l, n / rc->n_groups * sizeof *l);
        if (t == 0)
          memset (bias, 0, n * sizeof *bias);
      }
  tmp = g_new (float, 3 * (size_t) n + rc->n_groups + 1);
  want_ids = g_new (int32_t, (size_t) n_tokens * k);
  want_w = g_new (float, (size_t) n_tokens * k);
  for (uint32_t t = 0; t < n_tokens; t++)
    ponder_deepseek2_route (&hp, logits + (size_t) t * n, rc->bias ? bias : NULL, tmp,
                            want_ids + (size_t) t * k, want_w + (size_t) t * k);
  lb = buffer_new (&f, logits, (size_t) n_tokens * n * 4);
  bb = buffer_new (&f, bias, n * 4);
  ib = buffer_new (&f, NULL, (size_t) n_tokens * k * 4);
  wb = buffer_new (&f, NULL, (size_t) n_tokens * k * 4);
  CHECK_OK (ponder_vk_begin (f.dev, ck));
  CHECK_OK (ponder_vk_op_route (f.dev, &rp, &lb, rc->bias ? &bb : NULL, n_tokens, &ib, &wb,
                                ck));
  CHECK_OK (ponder_vk_submit (f.dev, ck));
  for (size_t i = 0; i < (size_t) n_tokens * k; i++)
    {
      int32_t got_id = ((int32_t *) ib.mapped)[i];
      float got_w = ((float *) wb.mapped)[i];

      if (got_id != want_ids[i] || fabsf (got_w - want_w[i]) > 1e-6f * fabsf (want_w[i]) + 1e-7f)
        g_error ("%s token %zu slot %zu: expert %d weight %.9g, expected %d %.9g", rc->name,
                 i / k, i % k, got_id, got_w, want_ids[i], want_w[i]);
    }
  ponder_vk_buffer_free (f.dev, &lb);
  ponder_vk_buffer_free (f.dev, &bb);
  ponder_vk_buffer_free (f.dev, &ib);
  ponder_vk_buffer_free (f.dev, &wb);
  g_free (logits);
  g_free (bias);
  g_free (tmp);
  g_free (want_ids);
  g_free (want_w);
  fixture_close (&f);
}

static void
test_route_refused (void)
{
  PonderVkRouteParams too_many = { 600, 8, 8, 4, 2, true, 1.0f };
  /* one kept group of 8 experts cannot hold 9 */
  PonderVkRouteParams few_groups = { 64, 9, 8, 1, 2, true, 1.0f };
  PonderVkBuffer b;
  PonderError error = { 0 };
  Fixture f;

  if (!fixture_open (&f))
    return;
  b = buffer_new (&f, NULL, 1 << 16);
  CHECK_OK (ponder_vk_begin (f.dev, ck));
  g_assert_cmpint (ponder_vk_op_route (f.dev, &too_many, &b, NULL, 1, &b, &b, &error), ==,
                   PONDER_ERROR_UNSUPPORTED);
  g_assert_nonnull (strstr (error.message, "600"));
  g_assert_cmpint (ponder_vk_op_route (f.dev, &few_groups, &b, NULL, 1, &b, &b, &error), ==,
                   PONDER_ERROR_UNSUPPORTED);
  ponder_vk_abort (f.dev);
  ponder_vk_buffer_free (f.dev, &b);
  fixture_close (&f);
}

/* ---- Latent attention ---------------------------------------------------- */

/* data: 0 no rope, 1 NORM pairs, 2 NEOX pairs, 3 NORM pairs over an F16
 * cache (the reference reads the same rounded values). */
static void
check_mla (gconstpointer data)
{
  int rope_mode = GPOINTER_TO_INT (data) == 3 ? 1 : GPOINTER_TO_INT (data);
  PonderKvType kv_type = GPOINTER_TO_INT (data) == 3 ? PONDER_KV_F16 : PONDER_KV_F32;
  uint32_t n_tokens = 3, pos0 = 70, H = 3, c = 40, r = 6, nope = 10, dk = nope + r;
  uint32_t n_ctx = pos0 + n_tokens, row = c + r, half = r / 2;
  float freq[3] = { 1.0f, 0.1f, 0.01f };
  PonderVkRopeParams rope = { r, 1.0f, freq };
  size_t rows = (size_t) n_tokens * H;
  float *qa, *q, *kv, *table;
  uint16_t *halves;
  double *s = g_new (double, n_ctx);
  PonderVkBuffer qab, qb, kvb, tb, ob, sb;
  Fixture f;

  if (!fixture_open (&f))
    return;
  qa = random_floats (rows * c, 0.3);
  q = random_floats (rows * dk, 1.0);
  kv = random_floats ((size_t) n_ctx * row, 1.0);
  halves = g_new (uint16_t, (size_t) n_ctx * row);
  ponder_kv_to_f16 (halves, kv, (size_t) n_ctx * row, false);
  if (kv_type == PONDER_KV_F16)
    for (size_t i = 0; i < (size_t) n_ctx * row; i++)
      kv[i] = ponder_fp16_to_fp32 (halves[i]);
  table = g_new (float, (size_t) n_tokens * r);
  ponder_vk_rope_table (&rope, pos0, n_tokens, table);
  qab = buffer_new (&f, qa, rows * c * 4);
  qb = buffer_new (&f, q, rows * dk * 4);
  kvb = kv_type == PONDER_KV_F16 ? buffer_new (&f, halves, (size_t) n_ctx * row * 2)
                                 : buffer_new (&f, kv, (size_t) n_ctx * row * 4);
  tb = buffer_new (&f, table, (size_t) n_tokens * r * 4);
  ob = buffer_new (&f, NULL, rows * c * 4);
  sb = buffer_new (&f, &pos0, 4);
  CHECK_OK (ponder_vk_begin (f.dev, ck));
  /* NORM pairs read pos0 from a step buffer (as replayed decode steps do) */
  CHECK_OK (ponder_vk_op_mla (f.dev, &qab, &qb, &kvb, rope_mode ? &tb : NULL, rope_mode == 2,
                              &ob, rope_mode == 1 ? &sb : NULL, n_tokens, pos0, H, c, r, nope,
                              0.3f, kv_type, ck));
  CHECK_OK (ponder_vk_submit (f.dev, ck));
  for (uint32_t t = 0; t < n_tokens; t++)
    for (uint32_t h = 0; h < H; h++)
      {
        const float *ql = qa + ((size_t) t * H + h) * c;
        const float *qr = q + ((size_t) t * H + h) * dk + nope;
        double pe[8], mx = -INFINITY, sum = 0.0;

        /* q_pe rotated as spec 3.2 says, pairs (2i, 2i + 1) or (i, i + r/2) */
        for (uint32_t i = 0; i < half; i++)
          {
            uint32_t a = rope_mode == 2 ? i : 2 * i, b = rope_mode == 2 ? i + half : 2 * i + 1;
            double cs = table[(t * half + i) * 2], sn = table[(t * half + i) * 2 + 1];

            pe[a] = rope_mode ? qr[a] * cs - qr[b] * sn : qr[a];
            pe[b] = rope_mode ? qr[a] * sn + qr[b] * cs : qr[b];
          }
        for (uint32_t p = 0; p <= pos0 + t; p++)
          {
            double d = 0.0;

            for (uint32_t i = 0; i < c; i++)
              d += (double) ql[i] * kv[(size_t) p * row + i];
            for (uint32_t i = 0; i < r; i++)
              d += pe[i] * kv[(size_t) p * row + c + i];
            s[p] = 0.3 * d;
            mx = fmax (mx, s[p]);
          }
        for (uint32_t p = 0; p <= pos0 + t; p++)
          sum += (s[p] = exp (s[p] - mx));
        for (uint32_t i = 0; i < c; i++)
          {
            double want = 0.0;
            float got = ((float *) ob.mapped)[((size_t) t * H + h) * c + i];

            for (uint32_t p = 0; p <= pos0 + t; p++)
              want += s[p] / sum * kv[(size_t) p * row + i];
            if (fabs (got - want) > 2e-5)
              g_error ("rope %d token %u head %u dim %u: %.9g, expected %.9g", rope_mode, t, h,
                       i, got, want);
          }
      }
  ponder_vk_buffer_free (f.dev, &qab);
  ponder_vk_buffer_free (f.dev, &qb);
  ponder_vk_buffer_free (f.dev, &kvb);
  ponder_vk_buffer_free (f.dev, &tb);
  ponder_vk_buffer_free (f.dev, &ob);
  ponder_vk_buffer_free (f.dev, &sb);
  g_free (qa);
  g_free (q);
  g_free (kv);
  g_free (halves);
  g_free (table);
  g_free (s);
  fixture_close (&f);
}

int
main (int    argc,
      char **argv)
{
  static const struct { const char *name; uint32_t type; } types[] = {
    { "f32", PONDER_TYPE_F32 }, { "f16", PONDER_TYPE_F16 }, { "q8_0", PONDER_TYPE_Q8_0 },
    { "q4_0", PONDER_TYPE_Q4_0 }, { "q5_0", PONDER_TYPE_Q5_0 }, { "q4_k", PONDER_TYPE_Q4_K },
    { "q6_k", PONDER_TYPE_Q6_K }, { "q4_1", PONDER_TYPE_Q4_1 }, { "q5_1", PONDER_TYPE_Q5_1 },
    { "q2_k", PONDER_TYPE_Q2_K }, { "q3_k", PONDER_TYPE_Q3_K }, { "q5_k", PONDER_TYPE_Q5_K },
    { "iq1_s", PONDER_TYPE_IQ1_S }, { "iq1_m", PONDER_TYPE_IQ1_M },
    { "iq2_xxs", PONDER_TYPE_IQ2_XXS }, { "iq3_xxs", PONDER_TYPE_IQ3_XXS },
    { "iq4_nl", PONDER_TYPE_IQ4_NL }, { "iq4_xs", PONDER_TYPE_IQ4_XS },
  };

  g_test_init (&argc, &argv, NULL);
  for (size_t i = 0; i < G_N_ELEMENTS (types); i++)
    {
      char *a = g_strdup_printf ("/deepseek2/slices/%s", types[i].name);
      char *b = g_strdup_printf ("/deepseek2/moe/%s", types[i].name);

      g_test_add_data_func (a, GUINT_TO_POINTER (types[i].type), check_slices);
      g_test_add_data_func (b, GUINT_TO_POINTER (types[i].type), check_moe);
      g_free (a);
      g_free (b);
    }
  for (size_t i = 0; i < G_N_ELEMENTS (route_cases); i++)
    {
      char *a = g_strdup_printf ("/deepseek2/route/%s", route_cases[i].name);

      g_test_add_data_func (a, &route_cases[i], check_route);
      g_free (a);
    }
  g_test_add_func ("/deepseek2/route/refused", test_route_refused);
  g_test_add_data_func ("/deepseek2/mla/no-rope", GINT_TO_POINTER (0), check_mla);
  g_test_add_data_func ("/deepseek2/mla/rope-norm", GINT_TO_POINTER (1), check_mla);
  g_test_add_data_func ("/deepseek2/mla/rope-neox", GINT_TO_POINTER (2), check_mla);
  g_test_add_data_func ("/deepseek2/mla/f16-cache", GINT_TO_POINTER (3), check_mla);
  return g_test_run ();
}
