/* test-vulkan-sample.c: sampling's reduction of the logits on the device
 * (shaders/topk_partial.comp, topk_merge.comp) against a reference that
 * sorts everything.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The reference keeps the logits that qualify (not NaN, -inf or masked; +inf
 * as FLT_MAX), sorts them with qsort (larger first, then lower index), and
 * sums exp ((x - largest) / T) in double. The device must give the same
 * count, the same best 64 bit for bit, and the sum to 2e-5 relative (float
 * partial sums in another order). Cases: a Qwen-sized vocabulary with the
 * default chunking, and small vocabularies cut into many tiny chunks (ties
 * across chunks, a chunk with nothing that qualifies, fewer than 64 in all),
 * once more under the validation layer.
 */
#include <glib.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "vulkan-private.h"
#include "vulkan-test-util.h"

typedef struct
{
  float    value;
  uint32_t index;
} Entry;

static int
compare_entries (const void *pa,
                 const void *pb)
{
  const Entry *a = pa, *b = pb;

  if (a->value != b->value)
    return a->value > b->value ? -1 : 1;
  return a->index < b->index ? -1 : a->index > b->index;
}

static bool
is_masked (const uint32_t *mask, uint32_t n_words, uint32_t i)
{
  return i / 32 < n_words && (mask[i / 32] >> (i % 32) & 1u);
}

static void
check_top (Fixture        *f,
           const float    *x,
           uint32_t        n,
           const uint32_t *mask,
           uint32_t        n_words,
           float           temperature,
           uint32_t        chunk,
           const char     *label)
{
  float inv_t = 1.0f / temperature;
  uint32_t got[PONDER_VK_TOPK_RECORD_WORDS];
  Entry *ref = g_new (Entry, n);
  uint32_t n_ref = 0, n_list;
  double sum = 0.0;
  float got_max, got_sum;
  PonderVkBuffer xb, mb, pb, rb, ob;

  for (uint32_t i = 0; i < n; i++)
    if (!isnan (x[i]) && x[i] != -INFINITY && !is_masked (mask, n_words, i))
      ref[n_ref++] = (Entry) { fminf (x[i], FLT_MAX), i };
  qsort (ref, n_ref, sizeof *ref, compare_entries);
  for (uint32_t i = 0; i < n_ref; i++)
    sum += exp (((double) ref[i].value - ref[0].value) / temperature);

  ponder_vk_test_topk_chunk (chunk);
  xb = upload_new (f, x, (size_t) n * 4, PONDER_VK_MEMORY_DEVICE);
  mb = upload_new (f, mask, (size_t) (n_words > 0 ? n_words : 1) * 4, PONDER_VK_MEMORY_HOST);
  pb = upload_new (f, &inv_t, 4, PONDER_VK_MEMORY_HOST);
  rb = upload_new (f, NULL, ponder_vk_topk_scratch_bytes (n), PONDER_VK_MEMORY_DEVICE);
  ob = upload_new (f, NULL, sizeof got, PONDER_VK_MEMORY_HOST);
  CHECK_OK (ponder_vk_begin (f->dev, ck));
  CHECK_OK (ponder_vk_op_top_logits (f->dev, &xb, n, n_words > 0 ? &mb : NULL, n_words, &pb,
                                     &rb, &ob, ck));
  CHECK_OK (ponder_vk_submit (f->dev, ck));
  CHECK_OK (ponder_vk_buffer_download (f->dev, &ob, 0, got, sizeof got, ck));
  ponder_vk_test_topk_chunk (0);

  n_list = MIN (n_ref, PONDER_VK_TOPK_CAPACITY);
  g_test_message ("%s: %u of %u qualify", label, n_ref, n);
  g_assert_cmpuint (got[0], ==, n_ref);
  g_assert_cmpuint (got[1], ==, n_list);
  for (uint32_t i = 0; i < n_list; i++)
    {
      float value;

      memcpy (&value, &got[4 + i], 4);
      g_assert_cmpuint (got[4 + PONDER_VK_TOPK_CAPACITY + i], ==, ref[i].index);
      g_assert_cmpfloat (value, ==, ref[i].value);
    }
  if (n_ref > 0)
    {
      memcpy (&got_max, &got[2], 4);
      memcpy (&got_sum, &got[3], 4);
      g_assert_cmpfloat (got_max, ==, ref[0].value);
      g_assert_cmpfloat (fabs (got_sum - sum), <=, 2e-5 * sum);
    }
  ponder_vk_buffer_free (f->dev, &xb);
  ponder_vk_buffer_free (f->dev, &mb);
  ponder_vk_buffer_free (f->dev, &pb);
  ponder_vk_buffer_free (f->dev, &rb);
  ponder_vk_buffer_free (f->dev, &ob);
  g_free (ref);
}

static float *
random_logits (GRand *rng, uint32_t n, double sigma)
{
  float *x = g_new (float, n);

  for (uint32_t i = 0; i < n; i++)
    x[i] = (float) (g_rand_double_range (rng, -1.0, 1.0) * sigma);
  return x;
}

static void
run_cases (bool validation)
{
  GRand *rng = g_rand_new_with_seed (20261203);
  uint32_t mask[64] = { 0 };
  Fixture f;
  float *x;

  if (!vulkan_fixture_open (&f, validation, false))
    {
      g_rand_free (rng);
      return;
    }

  /* Qwen's vocabulary, default chunks: a few planted peaks, NaN, a mask. */
  x = random_logits (rng, 151936, 4.0);
  for (uint32_t i = 0; i < 151936; i += 1009)
    x[i] = NAN;
  x[150000] = x[77] = 30.0f;
  x[151935] = 29.0f;
  mask[77 / 32] |= 1u << (77 % 32);
  check_top (&f, x, 151936, mask, 8, 0.6f, 0, "151936 logits, mask, NaN");
  g_free (x);

  /* Rounded logits: many ties, which must break to the lower index even
   * when they sit in different chunks; +inf counts as FLT_MAX. */
  x = random_logits (rng, 1000, 3.0);
  for (uint32_t i = 0; i < 1000; i++)
    x[i] = roundf (x[i]);
  x[500] = INFINITY;
  x[10] = -INFINITY;
  check_top (&f, x, 1000, mask, 0, 1.0f, 37, "1000 rounded logits, chunks of 37");
  check_top (&f, x, 1000, mask, 0, 0.3f, 1, "1000 rounded logits, chunks of 1");

  /* A chunk where nothing qualifies, and fewer than 64 in all. */
  memset (mask, 0, sizeof mask);
  for (uint32_t i = 0; i < 1000; i++)
    if (i % 7 != 0)
      x[i] = i < 400 ? -INFINITY : NAN;
  mask[0] = 0xffffffffu;
  check_top (&f, x, 1000, mask, 1, 0.6f, 50, "143 qualify, one chunk empty");

  /* Nothing qualifies at all. */
  for (uint32_t i = 0; i < 1000; i++)
    x[i] = NAN;
  check_top (&f, x, 1000, mask, 0, 0.6f, 100, "all NaN");
  g_free (x);

  fixture_close (&f);
  g_rand_free (rng);
}

static void
test_top_logits (void)
{
  run_cases (false);
}

static void
test_top_logits_validation (void)
{
  run_cases (true);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/vulkan/top-logits", test_top_logits);
  g_test_add_func ("/validation/top-logits", test_top_logits_validation);
  return g_test_run ();
}
