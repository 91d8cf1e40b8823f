/* cli-inspect.c: ponder-cli info, tokenize, detokenize and logits.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <getopt.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define MAX_TYPE_STATS 40

enum
{
  OPT_BACKEND = 1000, OPT_CTX, OPT_THREADS, OPT_AVAILABLE, OPT_PLAN_ONLY, OPT_GPU_LAYERS,
  OPT_AFTER
};

/* ---- info -------------------------------------------------------------- */

static void
print_bytes (const char *label, uint64_t bytes)
{
  printf ("%-22s %.2f GiB (%llu bytes)\n", label, bytes / (1024.0 * 1024.0 * 1024.0),
          (unsigned long long) bytes);
}

static void
print_info (const PonderModel *model, uint32_t n_ctx)
{
  PonderModelInfo info;
  PonderTypeStat stats[MAX_TYPE_STATS];
  size_t n_stats;
  uint32_t ctx;

  ponder_model_get_info (model, &info);
  ctx = n_ctx != 0 ? n_ctx : (info.n_ctx_train < 8192 ? info.n_ctx_train : 8192);
  printf ("%-22s %s\n", "name", info.name);
  printf ("%-22s %s\n", "architecture", info.architecture);
  printf ("%-22s %s\n", "chat format", info.chat_family);
  printf ("%-22s %s\n", "file type", info.file_type);
  printf ("%-22s %.2f B (%llu)\n", "parameters", info.n_params / 1e9,
          (unsigned long long) info.n_params);
  printf ("%-22s %u\n", "layers", info.n_layers);
  printf ("%-22s %u\n", "embedding length", info.n_embd);
  printf ("%-22s %u / %u (head size %u)\n", "heads / KV heads", info.n_head, info.n_head_kv,
          info.head_dim);
  printf ("%-22s %u\n", "feed-forward length", info.n_ff);
  printf ("%-22s %u\n", "vocabulary", info.n_vocab);
  printf ("%-22s %u\n", "training context", info.n_ctx_train);
  print_bytes ("file size", info.file_size_bytes);
  print_bytes ("weights", info.weight_bytes);
  print_bytes ("read per token", info.bytes_per_token);
  if (info.n_expert > 0)
    {
      /* MoE: a token reads the always-on weights and n_expert_used experts */
      print_bytes ("  always-on", info.bytes_per_token - info.routed_bytes_per_token);
      printf ("%-22s %.2f GiB (%llu bytes; %u of %u experts)\n", "  routed experts",
              info.routed_bytes_per_token / (1024.0 * 1024.0 * 1024.0),
              (unsigned long long) info.routed_bytes_per_token, info.n_expert_used,
              info.n_expert);
    }

  n_stats = ponder_model_get_type_stats (model, stats, MAX_TYPE_STATS);
  printf ("weight types:\n");
  for (size_t i = 0; i < n_stats && i < MAX_TYPE_STATS; i++)
    printf ("  %-8s %5u tensors  %10.1f MiB\n", stats[i].type_name, stats[i].n_tensors,
            stats[i].n_bytes / (1024.0 * 1024.0));

  printf ("memory at context %u:\n", ctx);
  printf ("%-22s ", "  KV cache type");
  cli_print_kv_type (stdout, &info);
  printf ("\n%-22s %llu bytes\n", "  KV per token", (unsigned long long) info.kv_bytes_per_token);
  print_bytes ("  KV cache", info.kv_bytes_per_token * ctx);
  print_bytes ("  weights + KV cache", info.weight_bytes + info.kv_bytes_per_token * ctx);
}

static void
print_plan (const PonderModelPlan *plan)
{
  printf ("memory plan at context %u on %s:\n", plan->n_ctx, plan->device_name);
  print_bytes ("  plan weights", plan->weight_bytes);
  printf ("%-22s %s\n", "  plan KV cache type", ponder_kv_type_name (plan->kv_type));
  printf ("%-22s %llu bytes\n", "  plan KV per token",
          (unsigned long long) plan->kv_bytes_per_token);
  print_bytes ("  plan KV cache", plan->kv_bytes);
  print_bytes ("  plan scratch", plan->scratch_bytes);
  print_bytes ("  plan total", plan->total_bytes);
  if (plan->host_expert_layers > 0)
    printf ("%-22s the routed experts of the last %u MoE layers, %.2f GiB (%llu bytes), "
            "in system memory\n", "  plan host experts", plan->host_expert_layers,
            plan->host_expert_bytes / (1024.0 * 1024.0 * 1024.0),
            (unsigned long long) plan->host_expert_bytes);
  if (plan->cpu_layers > 0)
    printf ("%-22s the first %u layers, %.2f GiB (%llu bytes), run by the CPU\n",
            "  plan CPU layers", plan->cpu_layers,
            plan->cpu_layer_bytes / (1024.0 * 1024.0 * 1024.0),
            (unsigned long long) plan->cpu_layer_bytes);
  if (plan->backend == PONDER_BACKEND_VULKAN && plan->n_devices == 0)
    print_bytes ("  plan on the device", plan->device_bytes);
  for (uint32_t d = 0; d < plan->n_devices; d++)
    {
      uint32_t end = d + 1 < plan->n_devices ? plan->device_first_layer[d + 1] : plan->n_layers;

      printf ("  plan device %u        layers %u-%u: %.2f GiB (%llu bytes) of %.2f GiB\n",
              d + 1, plan->device_first_layer[d], end - 1,
              plan->device_share_bytes[d] / (1024.0 * 1024.0 * 1024.0),
              (unsigned long long) plan->device_share_bytes[d],
              plan->device_memory_bytes[d] / (1024.0 * 1024.0 * 1024.0));
    }
  if (plan->available_bytes > 0)
    print_bytes ("  available", plan->available_bytes);
  else
    printf ("%-22s unknown\n", "  available");
  printf ("%-22s %s\n", "  fits", plan->fits ? "yes" : "no");
  printf ("%-22s %u\n", "  longest context", plan->max_fit_ctx);
}

int
cli_info (int argc, char **argv)
{
  static const struct option options[] = {
    { "model", required_argument, NULL, 'm' },
    { "ctx", required_argument, NULL, OPT_CTX },
    { "backend", required_argument, NULL, OPT_BACKEND },
    { "available", required_argument, NULL, OPT_AVAILABLE },
    { "plan-only", no_argument, NULL, OPT_PLAN_ONLY },
    CLI_DEVICE_OPTION,
    CLI_KV_TYPE_OPTION,
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  const char *model_path = NULL;
  PonderModel *model = NULL;
  PonderPlanParams plan_params = ponder_plan_params_default ();
  PonderModelPlan plan;
  PonderError error = { 0 };
  bool plan_only = false;
  long n_ctx = 0, available = 0;
  int opt, rc;

  while ((opt = getopt_long (argc, argv, "m:h", options, NULL)) != -1)
    {
      switch (opt)
        {
        case 'm':
          model_path = optarg;
          break;
        case OPT_CTX:
          if (!cli_parse_int (optarg, 1, UINT32_MAX, &n_ctx))
            return cli_usage_error ("bad --ctx '%s'", optarg);
          break;
        case OPT_BACKEND:
          if (!cli_parse_backend (optarg, &plan_params.backend))
            return cli_usage_error ("bad --backend '%s' (auto, cpu or vulkan)", optarg);
          break;
        case OPT_AVAILABLE:
          if (!cli_parse_int (optarg, 1, LONG_MAX, &available))
            return cli_usage_error ("bad --available '%s'", optarg);
          break;
        case OPT_PLAN_ONLY:
          plan_only = true;
          break;
        case CLI_OPT_DEVICE:
        case CLI_OPT_KV_TYPE:
          if ((rc = cli_load_option (opt, optarg)) != 0)
            return rc;
          break;
        case 'h':
          puts ("Usage: ponder-cli info -m MODEL.gguf [--ctx N] [--backend B]\n"
                "                       [--available BYTES] [--device LIST] [--plan-only]\n"
                "                       [--kv-type f16|f32]\n"
                "\n"
                "Prints the architecture, sizes, weight types and the memory the model\n"
                "needs with a context of N tokens (default: the session default), and\n"
                "the memory plan: what a load would take from the metadata alone,\n"
                "against the memory available now (or BYTES). --plan-only prints just\n"
                "the plan without loading the weights. --kv-type is the KV cache's\n"
                "element type (default f16; a plan on vulkan counts f32, which that\n"
                "backend keeps).");
          return 0;
        default:
          return 2;
        }
    }
  if (model_path == NULL)
    return cli_usage_error ("%s", "missing -m MODEL.gguf");
  plan_params.n_ctx = (uint32_t) n_ctx;
  plan_params.available_bytes = (uint64_t) available;
  plan_params.kv_type = cli_chosen_kv_type ();
  plan_params.n_devices = cli_chosen_devices (plan_params.devices);
  if (plan_params.n_devices == 1)
    {
      plan_params.device_index = plan_params.devices[0];
      plan_params.n_devices = 0;
    }
  if (ponder_model_plan (model_path, &plan_params, &plan, &error) != PONDER_OK)
    return cli_fail ("cannot plan the model", &error);
  if (plan_only)
    {
      printf ("%-22s %s\n", "name", plan.name);
      printf ("%-22s %s\n", "architecture", plan.architecture);
      printf ("%-22s %s\n", "file type", plan.file_type);
      printf ("%-22s %llu\n", "parameters", (unsigned long long) plan.n_params);
      printf ("%-22s %u\n", "training context", plan.n_ctx_train);
      print_bytes ("file size", plan.file_size_bytes);
      print_plan (&plan);
      return 0;
    }
  if ((rc = cli_load_model (model_path, PONDER_BACKEND_CPU, false, &model)) != 0)
    return rc;
  print_info (model, (uint32_t) n_ctx);
  print_plan (&plan);
  ponder_model_free (model);
  return 0;
}

/* ---- tokenize ---------------------------------------------------------- */

static char *
read_all_stdin (size_t *out_len)
{
  size_t cap = 4096, len = 0, got;
  char *buf = malloc (cap);

  while (buf != NULL && (got = fread (buf + len, 1, cap - len, stdin)) > 0)
    {
      len += got;
      if (len == cap)
        {
          char *bigger = realloc (buf, cap * 2);
          if (bigger == NULL)
            {
              free (buf);
              return NULL;
            }
          buf = bigger;
          cap *= 2;
        }
    }
  *out_len = len;
  return buf;
}

int
cli_tokenize (int argc, char **argv)
{
  static const struct option options[] = {
    { "model", required_argument, NULL, 'm' },
    { "special", no_argument, NULL, 's' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  const char *model_path = NULL;
  bool parse_special = false;
  PonderModel *model = NULL;
  PonderError error = { 0 };
  char *stdin_text = NULL;
  const char *text;
  size_t text_len, n_ids;
  int32_t *ids;
  int opt, rc;

  while ((opt = getopt_long (argc, argv, "m:sh", options, NULL)) != -1)
    {
      switch (opt)
        {
        case 'm':
          model_path = optarg;
          break;
        case 's':
          parse_special = true;
          break;
        case 'h':
          puts ("Usage: ponder-cli tokenize -m MODEL.gguf [--special] [TEXT]\n"
                "\n"
                "Prints the token ids of TEXT (or of standard input, byte for byte) as a\n"
                "JSON array. No BOS is added. With --special, special tokens written in the\n"
                "text become their ids.");
          return 0;
        default:
          return 2;
        }
    }
  if (optind < argc)
    {
      text = argv[optind];
      text_len = strlen (text);
    }
  else
    {
      stdin_text = read_all_stdin (&text_len);
      if (stdin_text == NULL)
        return cli_usage_error ("%s", "could not read standard input");
      text = stdin_text;
    }
  if ((rc = cli_load_model (model_path, PONDER_BACKEND_CPU, false, &model)) != 0)
    {
      free (stdin_text);
      return rc;
    }
  if (ponder_model_tokenize (model, text, text_len, parse_special, &ids, &n_ids, &error)
      != PONDER_OK)
    {
      free (stdin_text);
      ponder_model_free (model);
      return cli_fail ("tokenize", &error);
    }
  putchar ('[');
  for (size_t i = 0; i < n_ids; i++)
    printf (i == 0 ? "%d" : ",%d", ids[i]);
  puts ("]");
  ponder_free (ids);
  free (stdin_text);
  ponder_model_free (model);
  return 0;
}

/* ---- detokenize -------------------------------------------------------- */

static bool
parse_token_list (int argc, char **argv, int32_t **out_ids, size_t *out_n)
{
  int32_t *ids = NULL;
  size_t n = 0, cap = 0;

  /* Accepts "1 2 3", "1,2,3" and "[1, 2, 3]". */
  for (int a = 0; a < argc; a++)
    {
      char *copy = strdup (argv[a]);
      char *save = NULL;

      for (char *word = strtok_r (copy, " ,[]\n\t", &save); word != NULL;
           word = strtok_r (NULL, " ,[]\n\t", &save))
        {
          long id;

          if (!cli_parse_int (word, 0, INT32_MAX, &id))
            {
              fprintf (stderr, "ponder-cli: '%s' is not a token id\n", word);
              free (copy);
              free (ids);
              return false;
            }
          if (n == cap)
            {
              cap = cap ? cap * 2 : 64;
              ids = realloc (ids, cap * sizeof *ids);
            }
          ids[n++] = (int32_t) id;
        }
      free (copy);
    }
  *out_ids = ids;
  *out_n = n;
  return true;
}

int
cli_detokenize (int argc, char **argv)
{
  static const struct option options[] = {
    { "model", required_argument, NULL, 'm' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  const char *model_path = NULL;
  PonderModel *model = NULL;
  PonderError error = { 0 };
  int32_t *ids = NULL;
  size_t n_ids = 0, len;
  char *text;
  int opt, rc;

  while ((opt = getopt_long (argc, argv, "m:h", options, NULL)) != -1)
    {
      switch (opt)
        {
        case 'm':
          model_path = optarg;
          break;
        case 'h':
          puts ("Usage: ponder-cli detokenize -m MODEL.gguf ID...\n"
                "\n"
                "Prints the text of the token ids (separated by spaces or commas),\n"
                "special tokens written out, with no newline added.");
          return 0;
        default:
          return 2;
        }
    }
  if (!parse_token_list (argc - optind, argv + optind, &ids, &n_ids))
    return 2;
  if ((rc = cli_load_model (model_path, PONDER_BACKEND_CPU, false, &model)) != 0)
    {
      free (ids);
      return rc;
    }
  if (ponder_model_detokenize (model, ids, n_ids, &text, &len, &error) != PONDER_OK)
    {
      free (ids);
      ponder_model_free (model);
      return cli_fail ("detokenize", &error);
    }
  fwrite (text, 1, len, stdout);
  ponder_free (text);
  free (ids);
  ponder_model_free (model);
  return 0;
}

/* ---- logits ------------------------------------------------------------ */

static int
print_logits (PonderModel *model, const int32_t *ids, size_t n_ids, const int32_t *after,
              size_t n_after, long n_threads, bool step)
{
  PonderSessionParams params = ponder_session_params_default ();
  PonderSession *session = NULL;
  PonderError error = { 0 };
  PonderModelInfo info;
  float *logits;

  ponder_model_get_info (model, &info);
  params.n_threads = (int) n_threads;
  if (n_ids > params.n_ctx && params.n_ctx != 0)
    params.n_ctx = (uint32_t) n_ids;
  if (n_after > params.n_ctx && params.n_ctx != 0)
    params.n_ctx = (uint32_t) n_after;
  if (ponder_session_new (model, &params, &session, &error) != PONDER_OK)
    return cli_fail ("session", &error);
  logits = malloc ((n_ids > n_after ? n_ids : n_after) * (size_t) info.n_vocab
                   * sizeof *logits);
  if (logits == NULL)
    {
      ponder_session_free (session);
      fprintf (stderr, "ponder-cli: out of memory for %zu x %u logits\n", n_ids, info.n_vocab);
      return 1;
    }
  /* --after: those first, so that the tokens reuse the common prefix */
  if (n_after > 0
      && ponder_session_eval_logits (session, after, n_after, logits, &error) != PONDER_OK)
    {
      free (logits);
      ponder_session_free (session);
      return cli_fail ("logits --after", &error);
    }
  /* --step: one token per evaluation, the rest from the KV cache (the decode
   * path); each call's last row is that position's logits. */
  for (size_t n = step ? 1 : n_ids; n <= n_ids && step; n++)
    {
      float *tmp = malloc (n * (size_t) info.n_vocab * sizeof *tmp);

      if (tmp == NULL
          || ponder_session_eval_logits (session, ids, n, tmp, &error) != PONDER_OK)
        {
          free (tmp);
          free (logits);
          ponder_session_free (session);
          return cli_fail ("logits", &error);
        }
      memcpy (logits + (n - 1) * (size_t) info.n_vocab, tmp + (n - 1) * (size_t) info.n_vocab,
              info.n_vocab * sizeof *tmp);
      free (tmp);
    }
  if (!step && ponder_session_eval_logits (session, ids, n_ids, logits, &error) != PONDER_OK)
    {
      free (logits);
      ponder_session_free (session);
      return cli_fail ("logits", &error);
    }
  for (size_t t = 0; t < n_ids; t++)
    {
      const float *row = logits + t * (size_t) info.n_vocab;

      putchar ('[');
      for (uint32_t v = 0; v < info.n_vocab; v++)
        printf (v == 0 ? "%.9g" : ",%.9g", row[v]);
      puts ("]");
    }
  free (logits);
  ponder_session_free (session);
  return 0;
}

int
cli_logits (int argc, char **argv)
{
  static const struct option options[] = {
    { "model", required_argument, NULL, 'm' },
    { "tokens", required_argument, NULL, 't' },
    { "backend", required_argument, NULL, OPT_BACKEND },
    { "threads", required_argument, NULL, OPT_THREADS },
    { "step", no_argument, NULL, 's' },
    { "gpu-layers", required_argument, NULL, OPT_GPU_LAYERS },
    { "after", required_argument, NULL, OPT_AFTER },
    CLI_DEVICE_OPTION,
    CLI_DEVICE_MEMORY_OPTION,
    CLI_KV_TYPE_OPTION,
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  bool step = false;
  long gpu_layers = -1;
  const char *model_path = NULL, *tokens_text = NULL, *after_text = NULL;
  PonderBackendKind backend = PONDER_BACKEND_AUTO;
  PonderModel *model = NULL;
  int32_t *ids = NULL, *after = NULL;
  size_t n_ids = 0, n_after = 0;
  long n_threads = 0;
  int opt, rc;

  while ((opt = getopt_long (argc, argv, "m:t:h", options, NULL)) != -1)
    {
      switch (opt)
        {
        case 'm':
          model_path = optarg;
          break;
        case 't':
          tokens_text = optarg;
          break;
        case OPT_BACKEND:
          if (!cli_parse_backend (optarg, &backend))
            return cli_usage_error ("unknown backend '%s' (auto, cpu or vulkan)", optarg);
          break;
        case OPT_THREADS:
          if (!cli_parse_int (optarg, 0, 1024, &n_threads))
            return cli_usage_error ("bad --threads '%s'", optarg);
          break;
        case 's':
          step = true;
          break;
        case OPT_AFTER:
          after_text = optarg;
          break;
        case OPT_GPU_LAYERS:
          if (!cli_parse_gpu_layers (optarg, &gpu_layers))
            return cli_usage_error ("bad --gpu-layers '%s'", optarg);
          break;
        case CLI_OPT_DEVICE:
        case CLI_OPT_DEVICE_MEMORY:
        case CLI_OPT_KV_TYPE:
          if ((rc = cli_load_option (opt, optarg)) != 0)
            return rc;
          break;
        case 'h':
          puts ("Usage: ponder-cli logits -m MODEL.gguf --tokens 1,2,3 [--backend B]\n"
                "                         [--gpu-layers N] [--device LIST] [--threads N]\n"
                "                         [--device-memory MIB] [--step] [--after 1,2,4]\n"
                "                         [--kv-type f16|f32]\n"
                "\n"
                "Evaluates the tokens (no BOS added) and prints one line per position,\n"
                "each a JSON array of that position's logits over the vocabulary.\n"
                "--step evaluates one token at a time (the decode path). --after first\n"
                "evaluates other tokens, whose common prefix with --tokens then comes\n"
                "from the KV cache (as when an answer is regenerated). --kv-type is the\n"
                "KV cache's element type (default f16; the vulkan backend keeps f32).");
          return 0;
        default:
          return 2;
        }
    }
  if (tokens_text == NULL)
    return cli_usage_error ("%s", "logits needs --tokens");
  if (!parse_token_list (1, (char **) &tokens_text, &ids, &n_ids))
    return 2;
  if (after_text != NULL && !parse_token_list (1, (char **) &after_text, &after, &n_after))
    {
      free (ids);
      return 2;
    }
  if (n_ids == 0 || (after_text != NULL && n_after == 0))
    {
      free (ids);
      free (after);
      return cli_usage_error ("%s", n_ids == 0 ? "--tokens is empty" : "--after is empty");
    }
  if ((rc = cli_load_model_layers (model_path, backend, gpu_layers, false, &model)) != 0)
    {
      free (ids);
      free (after);
      return rc;
    }
  rc = print_logits (model, ids, n_ids, after, n_after, n_threads, step);
  free (ids);
  free (after);
  ponder_model_free (model);
  return rc;
}
