/* test-deepseek2.c: deepseek2 expert routing (engine-spec 4.3) on cases
 * worked out by hand from the spec's formulas.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The logits of each case are chosen so that a wrong rule gives a different
 * selection: a strong expert inside a weak group (group-limited top-k), a
 * bias that changes the choice but must not change the weights, softmax
 * gating of old files, ties.
 */
#include <glib.h>
#include <math.h>
#include <string.h>

#include "forward.h"

static double
sigmoid (double z)
{
  return 1.0 / (1.0 + exp (-z));
}

static PonderHparams
routing_hp (uint32_t n_expert,
            uint32_t n_used,
            uint32_t n_groups,
            uint32_t n_groups_used,
            uint32_t gating,
            bool     norm,
            float    scale)
{
  PonderHparams hp;

  memset (&hp, 0, sizeof hp);
  hp.n_expert = n_expert;
  hp.n_expert_used = n_used;
  hp.n_expert_groups = n_groups;
  hp.n_group_used = n_groups_used;
  hp.expert_gating = gating;
  hp.expert_weights_norm = norm;
  hp.expert_weights_scale = scale;
  return hp;
}

/* 8 experts in 4 groups of 2, 2 groups kept, top 3, sigmoid, normalised,
 * scale 2.5. Sigmoid scores: e0 .881, e1 .731, e2 .0067, e3 .924, e4 .953,
 * e5 .119, e6 .5, e7 .5. Group sums (two largest = both): g0 1.612,
 * g1 .931, g2 1.072, g3 1.0: keep g0 and g2. Expert 3 is the second
 * strongest overall but its group is dropped: selection 4, 0, 1 (without
 * groups it would be 4, 3, 0). */
static void
test_groups (void)
{
  PonderHparams hp = routing_hp (8, 3, 4, 2, 2, true, 2.5f);
  const float logits[8] = { 2.0f, 1.0f, -5.0f, 2.5f, 3.0f, -2.0f, 0.0f, 0.0f };
  float tmp[3 * 8 + 4], w[3];
  int32_t ids[3];
  double s4 = sigmoid (3.0), s0 = sigmoid (2.0), s1 = sigmoid (1.0), sum = s4 + s0 + s1;

  ponder_deepseek2_route (&hp, logits, NULL, tmp, ids, w);
  g_assert_cmpint (ids[0], ==, 4);
  g_assert_cmpint (ids[1], ==, 0);
  g_assert_cmpint (ids[2], ==, 1);
  g_assert_cmpfloat_with_epsilon (w[0], 2.5 * s4 / sum, 1e-6);
  g_assert_cmpfloat_with_epsilon (w[1], 2.5 * s0 / sum, 1e-6);
  g_assert_cmpfloat_with_epsilon (w[2], 2.5 * s1 / sum, 1e-6);

  /* the same without groups: the strong expert 3 is chosen */
  hp = routing_hp (8, 3, 0, 0, 2, true, 2.5f);
  ponder_deepseek2_route (&hp, logits, NULL, tmp, ids, w);
  g_assert_cmpint (ids[0], ==, 4);
  g_assert_cmpint (ids[1], ==, 3);
  g_assert_cmpint (ids[2], ==, 0);
}

/* The bias chooses, the unbiased scores weigh (spec 4.3 steps 2, 3, 6):
 * biased scores .731, .711, 1.0, .269 choose 2 then 0; the weights are
 * sigmoid (0) = .5 and sigmoid (1) = .731, normalised. */
static void
test_bias_selects_only (void)
{
  PonderHparams hp = routing_hp (4, 2, 0, 0, 2, true, 1.0f);
  const float logits[4] = { 1.0f, 0.9f, 0.0f, -1.0f };
  const float bias[4] = { 0.0f, 0.0f, 0.5f, 0.0f };
  float tmp[3 * 4], w[2];
  int32_t ids[2];
  double s2 = 0.5, s0 = sigmoid (1.0);

  ponder_deepseek2_route (&hp, logits, bias, tmp, ids, w);
  g_assert_cmpint (ids[0], ==, 2);
  g_assert_cmpint (ids[1], ==, 0);
  g_assert_cmpfloat_with_epsilon (w[0], s2 / (s2 + s0), 1e-6);
  g_assert_cmpfloat_with_epsilon (w[1], s0 / (s2 + s0), 1e-6);

  /* not normalised: the raw sigmoid scores times the scale */
  hp = routing_hp (4, 2, 0, 0, 2, false, 2.0f);
  ponder_deepseek2_route (&hp, logits, bias, tmp, ids, w);
  g_assert_cmpfloat_with_epsilon (w[0], 2.0 * s2, 1e-6);
  g_assert_cmpfloat_with_epsilon (w[1], 2.0 * s0, 1e-6);
}

/* Old V2 files: softmax over all experts, weights not normalised. */
static void
test_softmax (void)
{
  PonderHparams hp = routing_hp (4, 2, 0, 0, 1, false, 1.0f);
  const float logits[4] = { 0.0f, 1.0f, 2.0f, 3.0f };
  float tmp[3 * 4], w[2];
  int32_t ids[2];
  double z = 1.0 + exp (1.0) + exp (2.0) + exp (3.0);

  ponder_deepseek2_route (&hp, logits, NULL, tmp, ids, w);
  g_assert_cmpint (ids[0], ==, 3);
  g_assert_cmpint (ids[1], ==, 2);
  g_assert_cmpfloat_with_epsilon (w[0], exp (3.0) / z, 1e-6);
  g_assert_cmpfloat_with_epsilon (w[1], exp (2.0) / z, 1e-6);
}

/* Exact ties go to the lower expert index (a stable top-k). */
static void
test_ties (void)
{
  PonderHparams hp = routing_hp (6, 3, 3, 2, 2, true, 1.0f);
  const float logits[6] = { 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f };
  float tmp[3 * 6 + 3], w[3];
  int32_t ids[3];

  ponder_deepseek2_route (&hp, logits, NULL, tmp, ids, w);
  /* the third group is dropped on the tie, then 0, 1, 2 */
  g_assert_cmpint (ids[0], ==, 0);
  g_assert_cmpint (ids[1], ==, 1);
  g_assert_cmpint (ids[2], ==, 2);
  for (int j = 0; j < 3; j++)
    g_assert_cmpfloat_with_epsilon (w[j], 1.0 / 3.0, 1e-6);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/deepseek2/route/groups", test_groups);
  g_test_add_func ("/deepseek2/route/bias-selects-only", test_bias_selects_only);
  g_test_add_func ("/deepseek2/route/softmax", test_softmax);
  g_test_add_func ("/deepseek2/route/ties", test_ties);
  return g_test_run ();
}
