/* vulkan-test-util.h — the device fixture shared by the Vulkan op tests
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Each test opens the default device (lavapipe in CI) and, when run under
 * the Khronos validation layer, fails if the layer said anything.
 */
#pragma once

#include <glib.h>
#include <math.h>
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

/* A buffer of size bytes, filled from data unless it is NULL. */
static inline PonderVkBuffer
upload_new (Fixture        *f,
            const void     *data,
            size_t          size,
            PonderVkMemory  memory)
{
  PonderVkBuffer buf;

  CHECK_OK (ponder_vk_buffer_new (f->dev, size, memory, "test", &buf, ck));
  if (data != NULL)
    CHECK_OK (ponder_vk_buffer_upload (f->dev, &buf, 0, data, size, ck));
  return buf;
}

/* Stores n_tokens rows of k (k_row floats) and v (v_row floats, rows
 * v_alloc apart) at pos0 into caches that start as kc and vc (n_ctx rows of
 * kv_type elements), with pos0 from the push constants or, from_memory,
 * from a step buffer; the caches come back in k_out and v_out. */
static inline void
run_kv_store (Fixture      *f,
              const float  *k,
              const float  *v,
              const void   *kc,
              const void   *vc,
              void         *k_out,
              void         *v_out,
              uint32_t      n_tokens,
              uint32_t      n_ctx,
              uint32_t      pos0,
              uint32_t      k_row,
              uint32_t      v_row,
              size_t        v_alloc,
              PonderKvType  kv_type,
              bool          from_memory)
{
  size_t elem = kv_type == PONDER_KV_F16 ? 2 : 4;
  PonderVkBuffer kb, vb, kcb, vcb, sb;

  kb = upload_new (f, k, (size_t) n_tokens * k_row * 4, PONDER_VK_MEMORY_DEVICE);
  vb = upload_new (f, v, (size_t) n_tokens * v_alloc * 4, PONDER_VK_MEMORY_DEVICE);
  kcb = upload_new (f, kc, (size_t) n_ctx * k_row * elem, PONDER_VK_MEMORY_DEVICE);
  vcb = upload_new (f, vc, (size_t) n_ctx * v_alloc * elem, PONDER_VK_MEMORY_DEVICE);
  /* the step buffer's pos0 is the only one the shader can see */
  sb = upload_new (f, &pos0, 4, PONDER_VK_MEMORY_HOST);
  CHECK_OK (ponder_vk_begin (f->dev, ck));
  CHECK_OK (ponder_vk_op_kv_store (f->dev, &kb, &vb, &kcb, &vcb, from_memory ? &sb : NULL,
                                   n_tokens, pos0, k_row, v_row, kv_type, ck));
  CHECK_OK (ponder_vk_submit (f->dev, ck));
  CHECK_OK (ponder_vk_buffer_download (f->dev, &kcb, 0, k_out, (size_t) n_ctx * k_row * elem,
                                       ck));
  CHECK_OK (ponder_vk_buffer_download (f->dev, &vcb, 0, v_out, (size_t) n_ctx * v_alloc * elem,
                                       ck));
  ponder_vk_buffer_free (f->dev, &kb);
  ponder_vk_buffer_free (f->dev, &vb);
  ponder_vk_buffer_free (f->dev, &kcb);
  ponder_vk_buffer_free (f->dev, &vcb);
  ponder_vk_buffer_free (f->dev, &sb);
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

/* n_rows rows of n_in random weights of type, as raw bytes: random quants
 * (and sub-block scales), with block scales small enough that products stay
 * near 1, so that no quantiser of ours is involved. */
static inline uint8_t *
random_weights (uint32_t type,
                uint32_t n_in,
                size_t   n_rows,
                size_t  *out_row_bytes)
{
  const PonderTypeInfo *ti = ponder_type_info (type);
  uint64_t row_bytes;
  uint8_t *w;

  g_assert_true (ponder_type_row_bytes (type, n_in, &row_bytes));
  w = g_malloc (row_bytes * n_rows);
  for (size_t i = 0; i < row_bytes * n_rows; i++)
    w[i] = (uint8_t) g_test_rand_int_range (0, 256);
  for (size_t b = 0; b < n_in / ti->block_size * n_rows; b++)
    {
      uint8_t *blk = w + b * ti->block_bytes;
      float v;
      uint32_t bits;

      switch (type)
        {
        case PONDER_TYPE_F32:
          v = (float) g_test_rand_double_range (-1, 1);
          memcpy (blk, &v, 4);
          break;
        case PONDER_TYPE_F16:
          put_f16 (blk, (float) g_test_rand_double_range (-1, 1));
          break;
        case PONDER_TYPE_BF16:
          v = (float) g_test_rand_double_range (-1, 1);
          memcpy (&bits, &v, 4);
          blk[0] = (uint8_t) (bits >> 16);
          blk[1] = (uint8_t) (bits >> 24);
          break;
        case PONDER_TYPE_Q8_0:
        case PONDER_TYPE_Q4_0:
        case PONDER_TYPE_Q5_0:
          put_f16 (blk, (float) g_test_rand_double_range (-0.02, 0.02));
          break;
        case PONDER_TYPE_Q4_1:
        case PONDER_TYPE_Q5_1:
          /* d and the offset m */
          put_f16 (blk, (float) g_test_rand_double_range (-0.02, 0.02));
          put_f16 (blk + 2, (float) g_test_rand_double_range (-0.2, 0.2));
          break;
        case PONDER_TYPE_Q4_K:
        case PONDER_TYPE_Q5_K:
          put_f16 (blk, (float) g_test_rand_double_range (0.0, 0.01));
          put_f16 (blk + 2, (float) g_test_rand_double_range (0.0, 0.01));
          break;
        case PONDER_TYPE_Q2_K:
          /* d and dmin after the scales and quants */
          put_f16 (blk + 80, (float) g_test_rand_double_range (0.0, 0.02));
          put_f16 (blk + 82, (float) g_test_rand_double_range (0.0, 0.02));
          break;
        case PONDER_TYPE_Q3_K:
          put_f16 (blk + 108, (float) g_test_rand_double_range (-0.01, 0.01));
          break;
        case PONDER_TYPE_Q6_K:
          put_f16 (blk + 208, (float) g_test_rand_double_range (-0.01, 0.01));
          break;
        case PONDER_TYPE_IQ1_M:
          {
            /* the f16 scale's nibble k is the top nibble of scale word k
             * (every other bit of an IQ block may be random) */
            uint16_t d = ponder_fp32_to_fp16 ((float) g_test_rand_double_range (-0.01, 0.01));

            for (int k = 0; k < 4; k++)
              blk[49 + 2 * k] = (uint8_t) ((blk[49 + 2 * k] & 15) | (((d >> (4 * k)) & 15) << 4));
          }
          break;
        case PONDER_TYPE_IQ1_S:
        case PONDER_TYPE_IQ2_XXS:
        case PONDER_TYPE_IQ3_XXS:
        case PONDER_TYPE_IQ4_NL:
        case PONDER_TYPE_IQ4_XS:
          put_f16 (blk, (float) g_test_rand_double_range (-0.01, 0.01));
          break;
        default:
          g_assert_not_reached ();
        }
    }
  *out_row_bytes = row_bytes;
  return w;
}

/* Checks y (n_tokens, n_out), a device product of the rows w of type with x
 * (n_tokens, n_in), against double-precision dots over the CPU's
 * dequantised rows (row: scratch of n_in floats): each within 3e-5 of
 * sum |w x|. Returns the worst error relative to that sum. */
static inline double
check_matmul_result (uint32_t       type,
                     const uint8_t *w,
                     size_t         row_bytes,
                     const float   *x,
                     const float   *y,
                     uint32_t       n_in,
                     uint32_t       n_out,
                     uint32_t       n_tokens,
                     int            shape,
                     float         *row)
{
  double worst = 0.0;

  for (uint32_t r = 0; r < n_out; r++)
    {
      ponder_dequantize_row ((PonderType) type, w + (size_t) r * row_bytes, row, n_in);
      for (uint32_t t = 0; t < n_tokens; t++)
        {
          const float *xt = x + (size_t) t * n_in;
          double dot = 0.0, mag = 0.0, err;

          for (uint32_t i = 0; i < n_in; i++)
            {
              dot += (double) row[i] * xt[i];
              mag += fabs ((double) row[i] * xt[i]);
            }
          err = fabs (y[(size_t) t * n_out + r] - dot);
          if (!(err <= 3e-5 * mag + 1e-7))
            g_error ("%s %u -> %u, shape %d, token %u of %u, row %u: gpu %.8g, ref %.8g",
                     ponder_type_info (type)->name, n_in, n_out, shape, t, n_tokens, r,
                     y[(size_t) t * n_out + r], dot);
          worst = MAX (worst, err / (mag + 1e-30));
        }
    }
  return worst;
}

/* The integer-dot kernels' x (matmul_<type>_q8, quantize_q8.comp), written
 * from the definition: blocks of 32, d = max |x| / 127 in f32, q = x / d
 * rounded to nearest, ties to even (0 for a zero block). xq (n) gets q * d,
 * d (n / 32) the block scales. */
static inline void
quantise_q8_reference (const float *x,
                       size_t       n,
                       double      *xq,
                       float       *d)
{
  for (size_t b = 0; b < n / 32; b++)
    {
      float amax = 0.0f;

      for (int i = 0; i < 32; i++)
        amax = fmaxf (amax, fabsf (x[b * 32 + i]));
      d[b] = amax / 127.0f;
      for (int i = 0; i < 32; i++)
        {
          /* nearbyint in the default mode: to nearest, ties to even */
          double q = d[b] > 0.0f ? nearbyint ((double) x[b * 32 + i] / d[b]) : 0.0;

          xq[b * 32 + i] = fmin (fmax (q, -127.0), 127.0) * d[b];
        }
    }
}

/* check_matmul_result for an integer-dot kernel: double dots of the CPU's
 * dequantised rows with x quantised as above. Tolerance: 3e-5 of
 * sum |w q d| for the float arithmetic, plus twice the largest |w_i| d of
 * the row: the shader rounds x * (1 / d), which can land on the other side
 * of a tie from x / d and move one q by one (a wrong nibble, scale or block
 * moves the result by about |w x| for a whole element or more). Returns the
 * worst error relative to sum |w q d|. */
static inline double
check_q8_result (uint32_t       type,
                 const uint8_t *w,
                 size_t         row_bytes,
                 const float   *x,
                 const float   *y,
                 uint32_t       n_in,
                 uint32_t       n_out,
                 uint32_t       n_tokens)
{
  double *xq = g_new (double, (size_t) n_in * n_tokens);
  float *d = g_new (float, (size_t) n_in * n_tokens / 32);
  float *row = g_new (float, n_in);
  double worst = 0.0;

  quantise_q8_reference (x, (size_t) n_in * n_tokens, xq, d);
  for (uint32_t r = 0; r < n_out; r++)
    {
      ponder_dequantize_row ((PonderType) type, w + (size_t) r * row_bytes, row, n_in);
      for (uint32_t t = 0; t < n_tokens; t++)
        {
          const double *xt = xq + (size_t) t * n_in;
          double dot = 0.0, mag = 0.0, flip = 0.0, err;

          for (uint32_t i = 0; i < n_in; i++)
            {
              dot += row[i] * xt[i];
              mag += fabs (row[i] * xt[i]);
              flip = fmax (flip, fabs (row[i]) * d[((size_t) t * n_in + i) / 32]);
            }
          err = fabs (y[(size_t) t * n_out + r] - dot);
          if (!(err <= 3e-5 * mag + 2.0 * flip + 1e-7))
            g_error ("%s q8 %u -> %u, token %u of %u, row %u: gpu %.8g, ref %.8g (bound %.3g)",
                     ponder_type_info (type)->name, n_in, n_out, t, n_tokens, r,
                     y[(size_t) t * n_out + r], dot, 3e-5 * mag + 2.0 * flip);
          worst = MAX (worst, err / (mag + 1e-30));
        }
    }
  g_free (xq);
  g_free (d);
  g_free (row);
  return worst;
}
