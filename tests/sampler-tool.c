/* sampler-tool.c: drives the sampler for tests/test_sampler.py.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Reads commands from stdin, one per line, and answers on stdout:
 *   new T TOP_K TOP_P MIN_P PENALTY LAST_N SEED N_VOCAB
 *                         makes a sampler (replacing the previous one)
 *   accept ID...          records tokens for the repetition penalty
 *   mask ID...            ids never to pick (ponder_sampler_mask)
 *   load PATH             reads N_VOCAB little-endian float32 logits
 *   cand                  "N" then N lines "ID PROB": the final candidates
 *   draw COUNT            COUNT sampled ids on one line (the logits are
 *                         reloaded before each draw, since sampling may
 *                         modify them)
 *   bench COUNT           times COUNT samples: "SECONDS_PER_SAMPLE"
 *   top PATH              as cand, from a device's best logits (PonderTopLogits
 *                         in a file: u32 n_finite, u32 n, f32 max, f32 sum_exp,
 *                         n f32 logits, n i32 ids); "0" when the list is too short
 *   drawtop PATH COUNT    COUNT draws from that list (-1: too short)
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sampler.h"

static PonderSampler *sampler;
static uint32_t n_vocab;
static float *logits;  /* (n_vocab) as loaded */
static float *scratch; /* (n_vocab) what the sampler may modify */

static int
cmd_new (const char *args)
{
  PonderSamplerParams params = ponder_sampler_params_default ();
  unsigned long long seed;

  if (sscanf (args, "%f %d %f %f %f %d %llu %u", &params.temperature, &params.top_k,
              &params.top_p, &params.min_p, &params.repeat_penalty, &params.repeat_last_n,
              &seed, &n_vocab) != 8)
    return -1;
  params.seed = seed;
  ponder_sampler_free (sampler);
  sampler = ponder_sampler_new (&params, n_vocab);
  free (logits);
  free (scratch);
  logits = calloc (n_vocab, sizeof (float));
  scratch = calloc (n_vocab, sizeof (float));
  return sampler && logits && scratch ? 0 : -1;
}

static int
cmd_accept (char *args)
{
  char *token = strtok (args, " \n");

  for (; token != NULL; token = strtok (NULL, " \n"))
    ponder_sampler_accept (sampler, (int32_t) strtol (token, NULL, 10));
  return 0;
}

static int
cmd_mask (char *args)
{
  int32_t ids[4096];
  size_t n = 0;
  char *token = strtok (args, " \n");

  for (; token != NULL && n < 4096; token = strtok (NULL, " \n"))
    ids[n++] = (int32_t) strtol (token, NULL, 10);
  return ponder_sampler_mask (sampler, ids, n) ? 0 : -1;
}

static int
cmd_load (char *args)
{
  FILE *f;
  size_t n;

  args[strcspn (args, "\n")] = '\0';
  f = fopen (args, "rb");
  if (f == NULL)
    return -1;
  n = fread (logits, sizeof (float), n_vocab, f);
  fclose (f);
  return n == n_vocab ? 0 : -1;
}

static int
cmd_cand (void)
{
  const int32_t *ids;
  const float *probs;
  size_t n;

  memcpy (scratch, logits, n_vocab * sizeof (float));
  n = ponder_sampler_candidates (sampler, scratch, &ids, &probs);
  printf ("%zu\n", n);
  for (size_t i = 0; i < n; i++)
    printf ("%d %.9g\n", ids[i], probs[i]);
  return n > 0 ? 0 : -1;
}

static int
cmd_draw (const char *args)
{
  long count = strtol (args, NULL, 10);

  for (long i = 0; i < count; i++)
    {
      memcpy (scratch, logits, n_vocab * sizeof (float));
      printf (i ? " %d" : "%d", ponder_sampler_sample (sampler, scratch));
    }
  printf ("\n");
  return 0;
}

static int
cmd_top (char *args,
         bool  candidates)
{
  PonderTopLogits top;
  uint32_t head[4];
  float *values = NULL;
  int32_t *ids = NULL;
  long count = 0;
  char *path = strtok (args, " \n");
  char *count_arg = strtok (NULL, " \n");
  FILE *f = path != NULL ? fopen (path, "rb") : NULL;
  int status = -1;

  if (f == NULL || fread (head, sizeof head, 1, f) != 1)
    goto out;
  top.n_finite = head[0];
  top.n = head[1];
  memcpy (&top.max, &head[2], sizeof top.max);
  memcpy (&top.sum_exp, &head[3], sizeof top.sum_exp);
  values = calloc (top.n + 1, sizeof *values);
  ids = calloc (top.n + 1, sizeof *ids);
  if (values == NULL || ids == NULL || fread (values, sizeof *values, top.n, f) != top.n
      || fread (ids, sizeof *ids, top.n, f) != top.n)
    goto out;
  top.logits = values;
  top.ids = ids;
  if (candidates)
    {
      const int32_t *out_ids;
      const float *probs;
      size_t n = ponder_sampler_candidates_top (sampler, &top, &out_ids, &probs);

      printf ("%zu\n", n);
      for (size_t i = 0; i < n; i++)
        printf ("%d %.9g\n", out_ids[i], probs[i]);
    }
  else
    {
      count = count_arg != NULL ? strtol (count_arg, NULL, 10) : 0;
      for (long i = 0; i < count; i++)
        printf (i ? " %d" : "%d", ponder_sampler_sample_top (sampler, &top));
      printf ("\n");
    }
  status = 0;
out:
  if (f != NULL)
    fclose (f);
  free (values);
  free (ids);
  return status;
}

static int
cmd_bench (const char *args)
{
  long count = strtol (args, NULL, 10);
  struct timespec t0, t1;
  double seconds = 0.0;

  for (long i = 0; i < count; i++)
    {
      memcpy (scratch, logits, n_vocab * sizeof (float));
      clock_gettime (CLOCK_MONOTONIC, &t0);
      ponder_sampler_sample (sampler, scratch);
      clock_gettime (CLOCK_MONOTONIC, &t1);
      seconds += (double) (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) * 1e-9;
    }
  printf ("%.9g\n", count > 0 ? seconds / (double) count : 0.0);
  return 0;
}

int
main (void)
{
  static char line[1 << 20];

  while (fgets (line, sizeof line, stdin) != NULL)
    {
      int status;

      if (strncmp (line, "new ", 4) == 0)
        status = cmd_new (line + 4);
      else if (sampler == NULL)
        status = -1;
      else if (strncmp (line, "accept", 6) == 0)
        status = cmd_accept (line + 6);
      else if (strncmp (line, "mask", 4) == 0)
        status = cmd_mask (line + 4);
      else if (strncmp (line, "load ", 5) == 0)
        status = cmd_load (line + 5);
      else if (strncmp (line, "cand", 4) == 0)
        status = cmd_cand ();
      else if (strncmp (line, "draw ", 5) == 0)
        status = cmd_draw (line + 5);
      else if (strncmp (line, "top ", 4) == 0)
        status = cmd_top (line + 4, true);
      else if (strncmp (line, "drawtop ", 8) == 0)
        status = cmd_top (line + 8, false);
      else if (strncmp (line, "bench ", 6) == 0)
        status = cmd_bench (line + 6);
      else
        status = -1;
      if (status != 0)
        {
          fprintf (stderr, "sampler-tool: command failed: %s", line);
          return 1;
        }
      fflush (stdout);
    }
  ponder_sampler_free (sampler);
  free (logits);
  free (scratch);
  return 0;
}
