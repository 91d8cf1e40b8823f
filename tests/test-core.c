/* test-core.c: unit tests of the engine core's pieces: RoPE (both pairings,
 * frequency factors, YaRN), GQA causal attention with online softmax, the
 * thread pool and KV prefix reuse.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Expected values come from numpy written from engine-spec.md 3.2 (the RoPE
 * vectors below) or from a naive double-precision implementation in this
 * file (attention), never from the engine itself.
 */
#include <glib.h>
#include <math.h>
#include <stdatomic.h>
#include <string.h>

#include "backend.h"
#include "backend-cpu-private.h"
#include "kv-cache.h"
#include "quant.h"
#include "threadpool.h"

static const float rope_x[8] = { 0.3f, -1.2f, 0.7f, 2.0f, -0.5f, 0.25f, 1.5f, -0.8f };

static PonderHparams
rope_hparams (PonderRopePairing pairing)
{
  PonderHparams hp;

  memset (&hp, 0, sizeof hp);
  hp.rope_pairing = pairing;
  hp.n_rot = 8;
  hp.head_dim_k = 8;
  hp.rope_base = 10000.0f;
  hp.rope_factor = 1.0f;
  hp.rope_mscale = 1.0f;
  hp.yarn_beta_fast = 32.0f;
  hp.yarn_beta_slow = 1.0f;
  return hp;
}

typedef struct
{
  PonderThreadpool *pool;
  PonderBackend    *be;
} Fixture;

static void
fixture_init (Fixture *f,
              int      n_threads)
{
  g_assert_cmpint (ponder_threadpool_new (n_threads, &f->pool, NULL), ==, PONDER_OK);
  g_assert_cmpint (ponder_backend_cpu_new (f->pool, 4, 256, &f->be, NULL), ==, PONDER_OK);
}

static void
fixture_clear (Fixture *f)
{
  f->be->free (f->be);
  ponder_threadpool_free (f->pool);
}

static void
check_rope (PonderRopePairing pairing,
            const float      *freq_factors,
            uint32_t          pos,
            const double     *expected)
{
  PonderHparams hp = rope_hparams (pairing);
  PonderRope rope;
  Fixture f;
  float x[2][8];

  fixture_init (&f, 2);
  g_assert_cmpint (ponder_rope_init (&rope, &hp, freq_factors, NULL), ==, PONDER_OK);
  /* Two heads with the same vector: both must rotate identically. */
  memcpy (x[0], rope_x, sizeof rope_x);
  memcpy (x[1], rope_x, sizeof rope_x);
  f.be->rope (f.be, &x[0][0], 1, 2, 8, pos, &rope);
  for (int h = 0; h < 2; h++)
    for (int i = 0; i < 8; i++)
      g_assert_cmpfloat_with_epsilon (x[h][i], expected[i], 1e-5);
  ponder_rope_clear (&rope);
  fixture_clear (&f);
}

static void
test_rope_norm (void)
{
  static const double expected[8] = { -0.127653739, 1.230327, 0.0776951291, 2.11753712,
                                      -0.507273892, 0.234889758, 1.50239325, -0.795496407 };
  check_rope (PONDER_ROPE_NORM, NULL, 3, expected);
}

static void
test_rope_neox (void)
{
  static const double expected[8] = { -0.226437745, -1.22028384, 0.654691773, 2.002391,
                                      0.537332251, -0.115790126, 1.5203219, -0.793996409 };
  check_rope (PONDER_ROPE_NEOX, NULL, 3, expected);
}

static void
test_rope_freq_factors (void)
{
  static const float ff[4] = { 1.0f, 2.0f, 4.0f, 8.0f };
  static const double expected[8] = { 1.01455459, -0.707586726, -0.0282347159, 2.11877389,
                                      -0.504298216, 0.241212166, 1.50069943, -0.798687194 };
  check_rope (PONDER_ROPE_NORM, ff, 7, expected);
}

/* spec 3.5: qwen3 (n_rot 128, base 1e6, s = 4, L = 32768) has low = 23 and
 * high = 40: pairs up to 23 keep their frequency, pairs from 40 on are
 * divided by 4, and M = 1 + 0.1 ln 4. */
static void
test_rope_yarn (void)
{
  PonderHparams hp = rope_hparams (PONDER_ROPE_NEOX);
  PonderRope rope;

  hp.n_rot = 128;
  hp.head_dim_k = 128;
  hp.rope_base = 1e6f;
  hp.rope_yarn = true;
  hp.rope_factor = 4.0f;
  hp.rope_ctx_orig = 32768;
  hp.yarn_ext_factor = 1.0f;
  hp.rope_mscale = 1.0f + 0.1f * logf (4.0f);
  g_assert_cmpint (ponder_rope_init (&rope, &hp, NULL, NULL), ==, PONDER_OK);
  for (int i = 0; i < 64; i++)
    {
      double f = pow (1e6, -2.0 * i / 128.0);
      double expected;

      if (i <= 23)
        expected = f;
      else if (i >= 40)
        expected = f / 4.0;
      else
        {
          double ramp = 1.0 - (i - 23) / 17.0;
          expected = f / 4.0 * (1.0 - ramp) + f * ramp;
        }
      g_assert_cmpfloat_with_epsilon (rope.freq[i] / expected, 1.0, 1e-5);
    }
  g_assert_cmpfloat_with_epsilon (rope.mscale, 1.1386294, 1e-6);
  ponder_rope_clear (&rope);
}

/* ---- Attention ------------------------------------------------------------ */

static void
naive_attention (const float *q,
                 const float *k,
                 const float *v,
                 uint32_t     pos0,
                 uint32_t     n_tokens,
                 uint32_t     n_head,
                 uint32_t     n_head_kv,
                 uint32_t     hd,
                 float        scale,
                 double      *out)
{
  for (uint32_t t = 0; t < n_tokens; t++)
    for (uint32_t h = 0; h < n_head; h++)
      {
        uint32_t g = h / (n_head / n_head_kv);
        double scores[64], max = -INFINITY, sum = 0.0;

        for (uint32_t s = 0; s <= pos0 + t; s++)
          {
            double d = 0.0;
            for (uint32_t i = 0; i < hd; i++)
              d += (double) q[(t * n_head + h) * hd + i] * k[(s * n_head_kv + g) * hd + i];
            scores[s] = d * scale;
            max = fmax (max, scores[s]);
          }
        for (uint32_t s = 0; s <= pos0 + t; s++)
          sum += scores[s] = exp (scores[s] - max);
        for (uint32_t i = 0; i < hd; i++)
          {
            double o = 0.0;
            for (uint32_t s = 0; s <= pos0 + t; s++)
              o += scores[s] / sum * v[(s * n_head_kv + g) * hd + i];
            out[(t * n_head + h) * hd + i] = o;
          }
      }
}

/* IEEE half bits as a value, from the definition (sign, 5-bit exponent
 * biased by 15, 10-bit fraction; exponent 0 subnormal). */
static float
half_value (uint16_t h)
{
  int e = (h >> 10) & 31, m = h & 1023;
  double v = e == 0 ? ldexp (m, -24) : e == 31 ? (m ? NAN : INFINITY) : ldexp (1024 + m, e - 25);

  return (float) (h & 0x8000 ? -v : v);
}

/* Element i of a cache row array of type as a float. */
static float
cache_get (PonderKvType type, const void *row, size_t i)
{
  return type == PONDER_KV_F16 ? half_value (((const uint16_t *) row)[i])
                               : ((const float *) row)[i];
}

/* Writes x, which must be exact in half when type is F16 (so that any
 * correct rounding gives the same bits). */
static void
cache_set (PonderKvType type, void *row, size_t i, float x)
{
  if (type == PONDER_KV_F16)
    {
      ((uint16_t *) row)[i] = ponder_fp32_to_fp16 (x);
      g_assert_cmpfloat (half_value (((uint16_t *) row)[i]), ==, x);
    }
  else
    ((float *) row)[i] = x;
}

/* hd 16 takes the AVX2 path where the CPU has it (with F16C for an F16
 * cache), hd 12 the generic one. The reference reads back what the store
 * wrote; an F16 store must be within half's rounding of its input. */
static void
check_attention (int          n_threads,
                 uint32_t     HD,
                 PonderKvType type)
{
  /* 30 to 32 positions per token: several blocks of PONDER_CPU_SCORE_BLOCK
   * keys, the last one part-filled */
  enum { N_HEAD = 4, N_KV = 2, MAX_HD = 16, N_CTX = 36, POS0 = 29, N_TOK = 3 };
  PonderKvCache cache;
  Fixture f;
  float q[N_TOK * N_HEAD * MAX_HD], kin[N_TOK * N_KV * MAX_HD], vin[N_TOK * N_KV * MAX_HD];
  float out[N_TOK * N_HEAD * MAX_HD];
  float kr[N_CTX * N_KV * MAX_HD], vr[N_CTX * N_KV * MAX_HD];
  double ref[N_TOK * N_HEAD * MAX_HD];
  GRand *rand = g_rand_new_with_seed (42);
  void *kc, *vc;

  fixture_init (&f, n_threads);
  g_assert_cmpint (ponder_kv_cache_init_type (&cache, type, 1, N_CTX, N_KV * HD, N_KV * HD,
                                              NULL), ==, PONDER_OK);
  kc = cache.layers[0].k;
  vc = cache.layers[0].v;
  /* Earlier positions already in the cache (multiples of 1/256, exact in
   * half); large scores exercise the running-maximum rescaling. */
  for (uint32_t i = 0; i < POS0 * N_KV * HD; i++)
    {
      cache_set (type, kc, i, g_rand_int_range (rand, -512, 513) / 256.0f);
      cache_set (type, vc, i, g_rand_int_range (rand, -256, 257) / 256.0f);
    }
  for (uint32_t i = 0; i < N_TOK * N_KV * HD; i++)
    {
      kin[i] = (float) g_rand_double_range (rand, -2.0, 2.0);
      vin[i] = (float) g_rand_double_range (rand, -1.0, 1.0);
    }
  for (uint32_t i = 0; i < N_TOK * N_HEAD * HD; i++)
    q[i] = (float) g_rand_double_range (rand, -3.0, 3.0);
  /* A sentinel beyond the causal horizon must not leak in (60000: exact
   * in half, whose largest value is 65504). */
  for (uint32_t i = (POS0 + N_TOK) * N_KV * HD; i < N_CTX * N_KV * HD; i++)
    {
      cache_set (type, kc, i, 60000.0f);
      cache_set (type, vc, i, 60000.0f);
    }

  f.be->kv_store (f.be, &cache, &cache.layers[0], POS0, N_TOK, kin, vin);
  for (uint32_t i = 0; i < N_CTX * N_KV * HD; i++)
    {
      kr[i] = cache_get (type, kc, i);
      vr[i] = cache_get (type, vc, i);
    }
  for (uint32_t i = 0; i < N_TOK * N_KV * HD; i++)
    {
      /* half: 11 significant bits, round to nearest; subnormal below 2^-14 */
      double tol = type == PONDER_KV_F16 ? fmax (ldexp (fabs (kin[i]), -11), ldexp (1, -25)) : 0;

      g_assert_cmpfloat (fabs (kr[POS0 * N_KV * HD + i] - kin[i]), <=, tol);
      tol = type == PONDER_KV_F16 ? fmax (ldexp (fabs (vin[i]), -11), ldexp (1, -25)) : 0;
      g_assert_cmpfloat (fabs (vr[POS0 * N_KV * HD + i] - vin[i]), <=, tol);
    }
  f.be->attention (f.be, q, &cache, &cache.layers[0], POS0, N_TOK, N_HEAD, N_KV, HD, HD,
                   0.25f, out);
  naive_attention (q, kr, vr, POS0, N_TOK, N_HEAD, N_KV, HD, 0.25f, ref);
  for (uint32_t i = 0; i < N_TOK * N_HEAD * HD; i++)
    g_assert_cmpfloat_with_epsilon (out[i], ref[i], 1e-5);
  /* Decoding one token (the last), where groups are sliced across threads. */
  memset (out, 0, sizeof out);
  f.be->attention (f.be, q + (N_TOK - 1) * N_HEAD * HD, &cache, &cache.layers[0],
                   POS0 + N_TOK - 1, 1, N_HEAD, N_KV, HD, HD, 0.25f, out);
  for (uint32_t i = 0; i < N_HEAD * HD; i++)
    g_assert_cmpfloat_with_epsilon (out[i], ref[(N_TOK - 1) * N_HEAD * HD + i], 1e-5);
  ponder_kv_cache_clear (&cache);
  g_rand_free (rand);
  fixture_clear (&f);
}

static void
test_attention (void)
{
  for (PonderKvType type = PONDER_KV_F16; type <= PONDER_KV_F32; type++)
    {
      check_attention (1, 16, type);
      check_attention (2, 16, type);
      check_attention (8, 16, type);
      check_attention (1, 12, type);
      check_attention (8, 12, type);
    }
}

#if defined(__x86_64__) || defined(__i386__)
/* Attention's vector exp against libm's, over x <= 0: relative error under
 * 2e-7 down to -87, exactly 0 below (and for -inf), exactly 1 at 0. */
__attribute__ ((target ("avx2,fma,f16c"))) static void
check_exp8 (void)
{
  float x[8], y[8];
  double worst = 0.0;

  for (int i = 0; i <= 90000; i += 8)
    {
      for (int j = 0; j < 8; j++)
        x[j] = -(float) (i + j) / 1000.0f - (float) j * 1e-4f;
      _mm256_storeu_ps (y, ponder_cpu_exp8_nonpositive (_mm256_loadu_ps (x)));
      for (int j = 0; j < 8; j++)
        if (x[j] >= -87.0f)
          worst = fmax (worst, fabs (y[j] - exp ((double) x[j])) / exp ((double) x[j]));
        else
          g_assert_cmpfloat (y[j], ==, 0.0f);
    }
  g_test_message ("exp8: worst relative error %.3g", worst);
  g_assert_cmpfloat (worst, <, 2e-7);
  for (int j = 0; j < 8; j++)
    x[j] = j == 0 ? 0.0f : -INFINITY;
  _mm256_storeu_ps (y, ponder_cpu_exp8_nonpositive (_mm256_loadu_ps (x)));
  g_assert_cmpfloat (y[0], ==, 1.0f);
  for (int j = 1; j < 8; j++)
    g_assert_cmpfloat (y[j], ==, 0.0f);
}

static void
test_exp8 (void)
{
  if (!__builtin_cpu_supports ("avx2") || !__builtin_cpu_supports ("fma"))
    {
      g_test_skip ("no AVX2 and FMA");
      return;
    }
  check_exp8 ();
}
#endif

static void
test_swiglu_rmsnorm (void)
{
  Fixture f;
  float gate[5000], up[5000];
  float x[2][4] = { { 1, 2, 3, 4 }, { -1, 0, 0, 1 } }, w[4] = { 1, 2, 1, 0.5f };

  fixture_init (&f, 2);
  for (int i = 0; i < 5000; i++)
    {
      gate[i] = (i - 2500) / 500.0f;
      up[i] = 0.5f + i / 5000.0f;
    }
  f.be->swiglu (f.be, gate, up, 5000);
  for (int i = 0; i < 5000; i++)
    {
      double g = (i - 2500) / 500.0;
      g_assert_cmpfloat_with_epsilon (gate[i], g / (1.0 + exp (-g)) * (0.5 + i / 5000.0), 1e-5);
    }
  /* rms of (1,2,3,4) = sqrt (7.5); eps 0 */
  f.be->rmsnorm (f.be, &x[0][0], w, 2, 4, 0.0f, &x[0][0]);
  g_assert_cmpfloat_with_epsilon (x[0][1], 2.0 * 2.0 / sqrt (7.5), 1e-6);
  g_assert_cmpfloat_with_epsilon (x[0][3], 0.5 * 4.0 / sqrt (7.5), 1e-6);
  g_assert_cmpfloat_with_epsilon (x[1][0], -1.0 / sqrt (0.5), 1e-6);
  fixture_clear (&f);
}

/* ---- Thread pool and KV reuse ---------------------------------------------- */

typedef struct
{
  atomic_long sum;
  atomic_int  calls;
} PoolData;

static void
pool_task (void *data,
           int   ith,
           int   nth)
{
  PoolData *d = data;
  size_t begin, end;

  ponder_split_range (1000, ith, nth, &begin, &end);
  for (size_t i = begin; i < end; i++)
    atomic_fetch_add (&d->sum, (long) i);
  atomic_fetch_add (&d->calls, 1);
}

static void
test_threadpool (void)
{
  for (int n = 1; n <= 4; n++)
    {
      PonderThreadpool *pool;

      g_assert_cmpint (ponder_threadpool_new (n, &pool, NULL), ==, PONDER_OK);
      for (int round = 0; round < 2000; round++)
        {
          PoolData d = { 0, 0 };
          ponder_threadpool_run (pool, pool_task, &d);
          g_assert_cmpint (atomic_load (&d.sum), ==, 999 * 1000 / 2);
          g_assert_cmpint (atomic_load (&d.calls), ==, n);
          if (round == 1000)
            g_usleep (100000); /* let the helpers fall asleep, then wake them */
        }
      ponder_threadpool_free (pool);
    }
}

static void
test_kv_reuse (void)
{
  PonderKvCache cache;
  const int32_t a[6] = { 1, 2, 3, 4, 5, 6 };
  const int32_t b[5] = { 1, 2, 9, 4, 5 };

  g_assert_cmpint (ponder_kv_cache_init (&cache, 2, 16, 4, 4, NULL), ==, PONDER_OK);
  g_assert_cmpuint (ponder_kv_cache_reuse (&cache, a, 6), ==, 0);
  ponder_kv_cache_commit (&cache, 0, a, 6);
  /* Same prompt: all but the last token, whose logits are needed. */
  g_assert_cmpuint (ponder_kv_cache_reuse (&cache, a, 6), ==, 5);
  ponder_kv_cache_commit (&cache, 5, a + 5, 1);
  /* Longer prompt: the whole cache. */
  g_assert_cmpuint (ponder_kv_cache_reuse (&cache, (const int32_t[]) { 1, 2, 3, 4, 5, 6, 7 },
                                           7), ==, 6);
  g_assert_cmpuint (cache.n_tokens, ==, 6);
  /* An edit at index 2 keeps two tokens and drops the rest. */
  g_assert_cmpuint (ponder_kv_cache_reuse (&cache, b, 5), ==, 2);
  g_assert_cmpuint (cache.n_tokens, ==, 2);
  g_assert_cmpuint (ponder_kv_cache_bytes_per_token (PONDER_KV_F32, 2, 4, 4), ==, 64);
  g_assert_cmpuint (ponder_kv_cache_bytes_per_token (PONDER_KV_F16, 2, 4, 4), ==, 32);
  /* issue 5: R1's latent rows, 61 layers of 512 + 64 halves */
  g_assert_cmpuint (ponder_kv_cache_bytes_per_token (PONDER_KV_F16, 61, 512 + 64, 0), ==,
                    70272);
  ponder_kv_cache_clear (&cache);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/core/rope/norm", test_rope_norm);
  g_test_add_func ("/core/rope/neox", test_rope_neox);
  g_test_add_func ("/core/rope/freq-factors", test_rope_freq_factors);
  g_test_add_func ("/core/rope/yarn", test_rope_yarn);
  g_test_add_func ("/core/attention/gqa-causal", test_attention);
#if defined(__x86_64__) || defined(__i386__)
  g_test_add_func ("/core/attention/exp8", test_exp8);
#endif
  g_test_add_func ("/core/ops/swiglu-rmsnorm", test_swiglu_rmsnorm);
  g_test_add_func ("/core/threadpool", test_threadpool);
  g_test_add_func ("/core/kv-cache/reuse", test_kv_reuse);
  return g_test_run ();
}
