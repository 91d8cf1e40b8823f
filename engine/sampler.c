/* sampler.c: from logits to the next token.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The steps, in order (tests/test_sampler.py re-implements them in numpy):
 *
 *  0. Masked ids (ponder_sampler_mask) get the logit -inf.
 *  1. Repetition penalty (CTRL, Keskar et al. 2019, as llama.cpp applies it):
 *     each distinct id among the last repeat_last_n accepted tokens has its
 *     logit divided by repeat_penalty if positive, multiplied if negative.
 *     repeat_last_n <= 0 or repeat_penalty == 1 turns it off; windows longer
 *     than 2^20 tokens are cut to that.
 *  2. temperature <= 0: greedy, the id of the largest logit (the lowest id
 *     among equals); the other steps do not change the argmax.
 *  3. Ids whose logit is -inf or NaN are dropped (masked padding ids).
 *  4. top_k > 0: keep the k largest logits (ties: lower id first).
 *  5. p_i = exp ((x_i - x_max) / temperature) / sum, over the candidates.
 *  6. min_p > 0: keep p_i >= min_p * p_max (at least the most probable),
 *     then renormalise.
 *  7. top_p < 1: sort by p descending and keep the shortest prefix whose
 *     cumulative probability reaches top_p (at least one), then renormalise.
 *  8. Draw with the sampler's xoshiro256** generator, seeded by splitmix64
 *     from params.seed as given: the same seed and logits give the same
 *     tokens. Seed 0 is an ordinary seed; a caller that wants varied runs
 *     picks a fresh seed itself (the engine reads no clock).
 *
 * For a 152k vocabulary nothing is sorted whole: top-k is a selection, and
 * top-p first drops every id with p < (1 - top_p) / (n - 1), which can never
 * be in the nucleus (if it were, the ids after it would all be smaller yet
 * hold more than 1 - top_p between fewer than n of them), then sorts the
 * rest in growing chunks until the cumulative sum reaches top_p.
 */
#include "sampler.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Longer than any context, so a caller's "everything" (a huge
 * repeat_last_n) costs 4 MiB rather than failing. */
#define MAX_WINDOW ((size_t) 1 << 20)

typedef struct
{
  float   value;  /* a logit, then a probability */
  int32_t id;
} Candidate;

struct PonderSampler
{
  PonderSamplerParams params;
  uint32_t   n_vocab;
  uint64_t   rng[4];      /* xoshiro256** state */
  size_t     window;      /* repeat_last_n, clamped to 0 .. MAX_WINDOW */
  int32_t   *recent;      /* (window) ring of accepted tokens */
  size_t     n_recent;    /* filled entries of recent */
  size_t     recent_next; /* the slot the next accepted token goes to */
  uint32_t  *penalised;   /* (n_vocab) the pass that last penalised each id */
  uint32_t   pass;
  int32_t   *masked;      /* (n_masked) ids never picked */
  size_t     n_masked;
  Candidate *cand;        /* (n_vocab) */
  size_t     n_cand;
  int32_t   *out_ids;     /* (n_vocab) for ponder_sampler_candidates(), lazily */
  float     *out_probs;   /* (n_vocab) */
};

PonderSamplerParams
ponder_sampler_params_default (void)
{
  PonderSamplerParams params;

  memset (&params, 0, sizeof params);
  params.temperature = 0.6f;
  params.top_k = 0;
  params.top_p = 0.95f;
  params.min_p = 0.0f;
  params.repeat_penalty = 1.0f;
  params.repeat_last_n = 64;
  params.seed = 0;
  return params;
}

PonderGenerateParams
ponder_generate_params_default (void)
{
  PonderGenerateParams params;

  memset (&params, 0, sizeof params);
  params.sampling = ponder_sampler_params_default ();
  params.max_tokens = 0;
  params.reasoning_budget = -1;
  params.skip_reasoning = false;
  params.on_piece = NULL;
  params.user_data = NULL;
  params.ignore_end_of_generation = false;
  return params;
}

/* ---- Random numbers ------------------------------------------------------- */

static uint64_t
splitmix64 (uint64_t *state)
{
  uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

static uint64_t
rotl (uint64_t x,
      int      k)
{
  return (x << k) | (x >> (64 - k));
}

/* xoshiro256** (Blackman and Vigna, 2018). */
static uint64_t
rng_next (uint64_t s[4])
{
  uint64_t result = rotl (s[1] * 5, 7) * 9;
  uint64_t t = s[1] << 17;

  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl (s[3], 45);
  return result;
}

/* Uniform in [0, 1) with 53 random bits. */
static double
rng_uniform (uint64_t s[4])
{
  return (double) (rng_next (s) >> 11) * 0x1.0p-53;
}

/* ---- Life cycle ------------------------------------------------------------ */

PonderSampler *
ponder_sampler_new (const PonderSamplerParams *params,
                    uint32_t                   n_vocab)
{
  PonderSampler *sampler;
  uint64_t seed_state;

  if (n_vocab == 0 || n_vocab > INT32_MAX)
    return NULL;
  sampler = calloc (1, sizeof *sampler);
  if (sampler == NULL)
    return NULL;
  sampler->params = params ? *params : ponder_sampler_params_default ();
  sampler->n_vocab = n_vocab;
  seed_state = sampler->params.seed;
  for (int i = 0; i < 4; i++)
    sampler->rng[i] = splitmix64 (&seed_state);

  if (sampler->params.repeat_last_n > 0)
    sampler->window = (size_t) sampler->params.repeat_last_n < MAX_WINDOW
                      ? (size_t) sampler->params.repeat_last_n : MAX_WINDOW;
  if (sampler->window > 0)
    sampler->recent = malloc (sampler->window * sizeof (int32_t));
  sampler->penalised = calloc (n_vocab, sizeof (uint32_t));
  sampler->cand = malloc ((size_t) n_vocab * sizeof (Candidate));
  if ((sampler->window > 0 && sampler->recent == NULL)
      || sampler->penalised == NULL || sampler->cand == NULL)
    {
      ponder_sampler_free (sampler);
      return NULL;
    }
  return sampler;
}

void
ponder_sampler_free (PonderSampler *sampler)
{
  if (sampler == NULL)
    return;
  free (sampler->recent);
  free (sampler->masked);
  free (sampler->penalised);
  free (sampler->cand);
  free (sampler->out_ids);
  free (sampler->out_probs);
  free (sampler);
}

bool
ponder_sampler_mask (PonderSampler *sampler,
                     const int32_t *ids,
                     size_t         n_ids)
{
  int32_t *masked = NULL;
  size_t n = 0;

  if (n_ids > 0)
    {
      masked = malloc (n_ids * sizeof (int32_t));
      if (masked == NULL)
        return false;
      for (size_t i = 0; i < n_ids; i++)
        if (ids[i] >= 0 && (uint32_t) ids[i] < sampler->n_vocab)
          masked[n++] = ids[i];
    }
  free (sampler->masked);
  sampler->masked = masked;
  sampler->n_masked = n;
  return true;
}

bool
ponder_sampler_is_greedy (const PonderSampler  *sampler,
                          const int32_t       **out_masked,
                          size_t               *out_n_masked)
{
  float penalty = sampler->params.repeat_penalty;

  *out_masked = sampler->masked;
  *out_n_masked = sampler->n_masked;
  /* The same conditions under which prepare_candidates takes its argmax
   * branch with the penalty a no-op, whatever the recent window holds. */
  return !(sampler->params.temperature > 0.0f) && (penalty == 1.0f || !(penalty > 0.0f));
}

void
ponder_sampler_accept (PonderSampler *sampler,
                       int32_t        token)
{
  if (sampler->window == 0 || token < 0 || (uint32_t) token >= sampler->n_vocab)
    return;
  sampler->recent[sampler->recent_next] = token;
  sampler->recent_next = (sampler->recent_next + 1) % sampler->window;
  if (sampler->n_recent < sampler->window)
    sampler->n_recent++;
}

/* ---- Steps ----------------------------------------------------------------- */

static void
apply_repeat_penalty (PonderSampler *sampler,
                      float         *logits)
{
  float penalty = sampler->params.repeat_penalty;

  if (sampler->n_recent == 0 || penalty == 1.0f || !(penalty > 0.0f))
    return;
  /* A fresh pass number marks the ids already penalised in this call, so a
   * token seen several times in the window is penalised once. */
  if (++sampler->pass == 0)
    {
      memset (sampler->penalised, 0, sampler->n_vocab * sizeof (uint32_t));
      sampler->pass = 1;
    }
  for (size_t i = 0; i < sampler->n_recent; i++)
    {
      int32_t id = sampler->recent[i];

      if (sampler->penalised[id] == sampler->pass)
        continue;
      sampler->penalised[id] = sampler->pass;
      logits[id] = logits[id] > 0.0f ? logits[id] / penalty : logits[id] * penalty;
    }
}

/* Whether a ranks before b: larger value, then lower id. */
static inline bool
ranks_before (const Candidate *a,
              const Candidate *b)
{
  return a->value > b->value || (a->value == b->value && a->id < b->id);
}

static int
compare_candidates (const void *pa,
                    const void *pb)
{
  const Candidate *a = pa;
  const Candidate *b = pb;

  if (ranks_before (a, b))
    return -1;
  return ranks_before (b, a) ? 1 : 0;
}

static inline void
swap_candidates (Candidate *a,
                 Candidate *b)
{
  Candidate t = *a;

  *a = *b;
  *b = t;
}

/* Rearranges c[0..n) so that c[0..k) are its k best, in no order
 * (quickselect with a median-of-three pivot; ids make the order total). */
static void
select_best (Candidate *c,
             size_t     n,
             size_t     k)
{
  size_t lo = 0;
  size_t hi = n;

  if (k == 0 || k >= n)
    return;
  while (hi - lo > 16)
    {
      size_t mid = lo + (hi - lo) / 2;
      size_t store = lo;

      /* Median of c[lo], c[mid], c[hi - 1] to c[hi - 1]. */
      if (ranks_before (&c[mid], &c[lo]))
        swap_candidates (&c[mid], &c[lo]);
      if (ranks_before (&c[hi - 1], &c[lo]))
        swap_candidates (&c[hi - 1], &c[lo]);
      if (ranks_before (&c[mid], &c[hi - 1]))
        swap_candidates (&c[mid], &c[hi - 1]);
      for (size_t i = lo; i < hi - 1; i++)
        if (ranks_before (&c[i], &c[hi - 1]))
          swap_candidates (&c[i], &c[store++]);
      swap_candidates (&c[store], &c[hi - 1]);
      if (k == store || k == store + 1)
        return;
      if (k < store)
        hi = store;
      else
        lo = store + 1;
    }
  qsort (c + lo, hi - lo, sizeof *c, compare_candidates);
}

/* Keeps the finite logits as candidates; +inf becomes FLT_MAX so that the
 * softmax below still works. Returns the number kept. */
static size_t
gather_candidates (PonderSampler *sampler,
                   const float   *logits)
{
  size_t n = 0;

  for (uint32_t i = 0; i < sampler->n_vocab; i++)
    {
      float x = logits[i];

      if (isnan (x) || x == -INFINITY)
        continue;
      sampler->cand[n].value = x > FLT_MAX ? FLT_MAX : x;
      sampler->cand[n].id = (int32_t) i;
      n++;
    }
  return n;
}

/* exp (x) for x <= 0, 0 below -87 (where float would go subnormal), with a
 * relative error under 1e-7. glibc's expf is ten times slower on arguments
 * that underflow, which most of a vocabulary does at temperature 0.6, and
 * this one has no branches, so the softmax loop vectorises. x = n ln 2 + r
 * with |r| <= ln 2 / 2; e^r is its Taylor series to r^7 (the next term is
 * under 6e-9); 2^n is built in the exponent bits. For x <= 0 the float's
 * bits, read as an unsigned integer, grow with |x|, so the range check is an
 * integer compare (a float compare would keep GCC from vectorising without
 * -fno-trapping-math). */
static inline float
exp_nonpositive (float x)
{
  const uint32_t minus_87 = 0xC2AE0000u;  /* -87.0f */
  const float round_magic = 12582912.0f;  /* 1.5 * 2^23: adding it rounds to an integer */
  uint32_t bits, under;
  int32_t exponent;
  float clamped, shifted, n, r, poly, scale, result;

  memcpy (&bits, &x, sizeof bits);
  under = 0u - (uint32_t) (bits > minus_87);
  bits ^= (bits ^ minus_87) & under;
  memcpy (&clamped, &bits, sizeof bits);

  shifted = clamped * 1.44269504f + round_magic;
  n = shifted - round_magic;
  r = clamped - n * 0.693145751953125f - n * 1.428606765330187e-06f; /* ln 2, hi + lo */
  poly = 1.0f + r * (1.0f + r * (1.0f / 2 + r * (1.0f / 6 + r * (1.0f / 24 + r * (1.0f / 120
         + r * (1.0f / 720 + r * (1.0f / 5040)))))));

  memcpy (&exponent, &shifted, sizeof exponent);
  exponent = (exponent - 0x4B400000 + 127) << 23;  /* n + 127 in the exponent field */
  memcpy (&scale, &exponent, sizeof scale);
  result = poly * scale;
  memcpy (&bits, &result, sizeof bits);
  bits &= ~under;
  memcpy (&result, &bits, sizeof bits);
  return result;
}

/* Turns the candidates' logits into probabilities; returns p_max. */
static double
softmax (Candidate *c,
         size_t     n,
         float      temperature)
{
  float max = -FLT_MAX;
  double sum = 0.0;

  for (size_t i = 0; i < n; i++)
    if (c[i].value > max)
      max = c[i].value;
  for (size_t i = 0; i < n; i++)
    c[i].value = exp_nonpositive ((c[i].value - max) / temperature);
  for (size_t i = 0; i < n; i++)
    sum += c[i].value;
  for (size_t i = 0; i < n; i++)
    c[i].value = (float) (c[i].value / sum);
  return 1.0 / sum;
}

static void
normalise (Candidate *c,
           size_t     n)
{
  double sum = 0.0;

  for (size_t i = 0; i < n; i++)
    sum += c[i].value;
  for (size_t i = 0; i < n; i++)
    c[i].value = (float) (c[i].value / sum);
}

static size_t
apply_min_p (Candidate *c,
             size_t     n,
             double     p_max,
             float      min_p)
{
  double threshold = min_p * p_max;
  size_t kept = 0;

  if (threshold > p_max)
    threshold = p_max;
  /* p_max went through a float; compare in float so the best always stays. */
  for (size_t i = 0; i < n; i++)
    if (c[i].value >= (float) threshold || c[i].value >= (float) p_max)
      c[kept++] = c[i];
  if (kept == 0)
    {
      select_best (c, n, 1);
      kept = 1;
    }
  normalise (c, kept);
  return kept;
}

static size_t
apply_top_p (Candidate *c,
             size_t     n,
             float      top_p)
{
  double cutoff = n > 1 ? (1.0 - top_p) / (double) (n - 1) : 0.0;
  float p_max = 0.0f;
  size_t m = 0;
  size_t sorted = 0;
  size_t chunk = 64;
  double cumulative = 0.0;

  if (n <= 1)
    return n;
  for (size_t i = 0; i < n; i++)
    if (c[i].value > p_max)
      p_max = c[i].value;
  if (cutoff > p_max)
    cutoff = p_max;
  for (size_t i = 0; i < n; i++)
    if (c[i].value >= (float) cutoff)
      swap_candidates (&c[i], &c[m++]);

  while (sorted < m)
    {
      size_t take = m - sorted < chunk ? m - sorted : chunk;

      select_best (c + sorted, m - sorted, take);
      qsort (c + sorted, take, sizeof *c, compare_candidates);
      for (size_t i = sorted; i < sorted + take; i++)
        {
          cumulative += c[i].value;
          if (cumulative >= top_p)
            {
              normalise (c, i + 1);
              return i + 1;
            }
        }
      sorted += take;
      chunk *= 4;
    }
  /* Rounding kept the sum just under top_p: keep every survivor. */
  normalise (c, m);
  return m;
}

/* Steps 1-7; leaves the candidates in sampler->cand[0..n_cand). */
static void
prepare_candidates (PonderSampler *sampler,
                    float         *logits)
{
  const PonderSamplerParams *p = &sampler->params;
  size_t n;
  double p_max;

  for (size_t i = 0; i < sampler->n_masked; i++)
    logits[sampler->masked[i]] = -INFINITY;
  apply_repeat_penalty (sampler, logits);

  n = p->temperature > 0.0f ? gather_candidates (sampler, logits) : 0;
  if (n == 0)
    {
      /* Greedy, or nothing finite to sample from: the argmax of everything
       * (id 0 if all are -inf or NaN). */
      int32_t best = 0;

      for (uint32_t i = 1; i < sampler->n_vocab; i++)
        if (logits[i] > logits[best] || (isnan (logits[best]) && !isnan (logits[i])))
          best = (int32_t) i;
      sampler->cand[0].id = best;
      sampler->cand[0].value = 1.0f;
      sampler->n_cand = 1;
      return;
    }

  if (p->top_k > 0 && (size_t) p->top_k < n)
    {
      select_best (sampler->cand, n, (size_t) p->top_k);
      n = (size_t) p->top_k;
    }
  p_max = softmax (sampler->cand, n, p->temperature);
  if (p->min_p > 0.0f)
    n = apply_min_p (sampler->cand, n, p_max, p->min_p);
  if (p->top_p < 1.0f)
    n = apply_top_p (sampler->cand, n, p->top_p > 0.0f ? p->top_p : 0.0f);
  sampler->n_cand = n;
}

/* Step 8 over sampler->cand[0..n_cand). */
static int32_t
draw (PonderSampler *sampler)
{
  double r, cumulative = 0.0, total = 0.0;

  if (sampler->n_cand == 1)
    return sampler->cand[0].id;
  for (size_t i = 0; i < sampler->n_cand; i++)
    total += sampler->cand[i].value;
  r = rng_uniform (sampler->rng) * total;
  for (size_t i = 0; i < sampler->n_cand; i++)
    {
      cumulative += sampler->cand[i].value;
      if (r < cumulative)
        return sampler->cand[i].id;
    }
  /* r fell past the sum by rounding: the last candidate that can be drawn. */
  for (size_t i = sampler->n_cand; i-- > 0;)
    if (sampler->cand[i].value > 0.0f)
      return sampler->cand[i].id;
  return sampler->cand[0].id;
}

int32_t
ponder_sampler_sample (PonderSampler *sampler,
                       float         *logits)
{
  prepare_candidates (sampler, logits);
  return draw (sampler);
}

/* ---- From a device's best logits ---------------------------------------- */

static bool
penalty_is_noop (const PonderSampler *sampler)
{
  float penalty = sampler->params.repeat_penalty;

  return penalty == 1.0f || !(penalty > 0.0f) || sampler->window == 0;
}

bool
ponder_sampler_top_usable (const PonderSampler *sampler,
                           uint32_t             capacity)
{
  const PonderSamplerParams *p = &sampler->params;

  return p->temperature > 0.0f && penalty_is_noop (sampler) && p->top_k >= 0
         && (uint32_t) p->top_k <= capacity;
}

float
ponder_sampler_temperature (const PonderSampler *sampler)
{
  return sampler->params.temperature;
}

/* Steps 4-7 when only the best top->n of the candidates are known. The list
 * is sorted, so every step keeps a prefix of it; the candidates are known
 * once a step cuts inside the list: top-k (the list holds the k best),
 * min-p (the first listed one below the threshold) or top-p (the nucleus
 * closes within it). Before the first such cut, the softmax needs the whole
 * vocabulary's normaliser, which the device summed. Returns false when no
 * cut falls inside the list. */
static bool
prepare_from_top (PonderSampler         *sampler,
                  const PonderTopLogits *top)
{
  const PonderSamplerParams *p = &sampler->params;
  size_t n = top->n;
  bool whole = top->n == top->n_finite;
  double p_max;

  if (!(p->temperature > 0.0f) || !penalty_is_noop (sampler) || top->n == 0
      || top->n > top->n_finite || !(top->sum_exp >= 1.0f))
    return false;
  for (size_t i = 0; i < n; i++)
    {
      sampler->cand[i].value = top->logits[i];
      sampler->cand[i].id = top->ids[i];
    }
  if (p->top_k > 0 && (size_t) p->top_k < top->n_finite)
    {
      if ((size_t) p->top_k > top->n)
        return false;
      n = (size_t) p->top_k;
      whole = true;
    }
  if (whole)
    p_max = softmax (sampler->cand, n, p->temperature);
  else
    {
      double sum = top->sum_exp;

      for (size_t i = 0; i < n; i++)
        sampler->cand[i].value
          = (float) (exp_nonpositive ((top->logits[i] - top->max) / p->temperature) / sum);
      p_max = 1.0 / sum;
    }

  if (p->min_p > 0.0f)
    {
      float threshold = (float) (p->min_p * p_max < p_max ? p->min_p * p_max : p_max);
      size_t kept = 1;

      while (kept < n && sampler->cand[kept].value >= threshold)
        kept++;
      if (kept == n && !whole)
        return false;
      n = kept;
      whole = true;
      normalise (sampler->cand, n);
    }
  if (p->top_p < 1.0f)
    {
      double top_p = p->top_p > 0.0f ? p->top_p : 0.0;
      double cumulative = 0.0;
      size_t i;

      for (i = 0; i < n; i++)
        {
          cumulative += sampler->cand[i].value;
          if (cumulative >= top_p)
            break;
        }
      if (i == n && !whole)
        return false;
      n = i < n ? i + 1 : n;
      whole = true;
      normalise (sampler->cand, n);
    }
  sampler->n_cand = n;
  return whole;
}

int32_t
ponder_sampler_sample_top (PonderSampler         *sampler,
                           const PonderTopLogits *top)
{
  if (!prepare_from_top (sampler, top))
    return -1;
  return draw (sampler);
}

static size_t
export_candidates (PonderSampler  *sampler,
                   const int32_t **out_ids,
                   const float   **out_probs)
{
  qsort (sampler->cand, sampler->n_cand, sizeof *sampler->cand, compare_candidates);
  for (size_t i = 0; i < sampler->n_cand; i++)
    {
      sampler->out_ids[i] = sampler->cand[i].id;
      sampler->out_probs[i] = sampler->cand[i].value;
    }
  *out_ids = sampler->out_ids;
  *out_probs = sampler->out_probs;
  return sampler->n_cand;
}

static bool
ensure_outputs (PonderSampler *sampler)
{
  if (sampler->out_ids == NULL)
    sampler->out_ids = malloc (sampler->n_vocab * sizeof (int32_t));
  if (sampler->out_probs == NULL)
    sampler->out_probs = malloc (sampler->n_vocab * sizeof (float));
  return sampler->out_ids != NULL && sampler->out_probs != NULL;
}

size_t
ponder_sampler_candidates_top (PonderSampler         *sampler,
                               const PonderTopLogits *top,
                               const int32_t        **out_ids,
                               const float          **out_probs)
{
  if (!ensure_outputs (sampler) || !prepare_from_top (sampler, top))
    return 0;
  return export_candidates (sampler, out_ids, out_probs);
}

size_t
ponder_sampler_candidates (PonderSampler  *sampler,
                           float          *logits,
                           const int32_t **out_ids,
                           const float   **out_probs)
{
  if (!ensure_outputs (sampler))
    return 0;
  prepare_candidates (sampler, logits);
  return export_candidates (sampler, out_ids, out_probs);
}
