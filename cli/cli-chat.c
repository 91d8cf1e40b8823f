/* cli-chat.c: ponder-cli chat and bench.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The answer goes to standard output and the reasoning to standard error, so
 * that `ponder-cli chat -p ... > answer.txt` keeps only the answer while a
 * terminal shows both, the reasoning dimmed.
 */
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

enum
{
  OPT_BACKEND = 1000,
  OPT_CTX,
  OPT_THREADS,
  OPT_TEMPERATURE,
  OPT_TOP_K,
  OPT_TOP_P,
  OPT_MIN_P,
  OPT_REPEAT_PENALTY,
  OPT_REPEAT_LAST_N,
  OPT_SEED,
  OPT_MAX_TOKENS,
  OPT_HIDE_REASONING,
  OPT_REASONING_BUDGET,
  OPT_SKIP_REASONING,
  OPT_STATS,
  OPT_JSON,
  OPT_GPU_LAYERS,
};

typedef struct
{
  const char          *model_path;
  const char          *prompt;
  const char          *system;
  PonderBackendKind    backend;
  long                 gpu_layers;
  PonderSessionParams  session;
  PonderGenerateParams generate;
  bool                 hide_reasoning;
  bool                 show_stats;
} ChatOptions;

typedef struct
{
  bool    hide_reasoning;
  bool    dim;               /* stderr is a terminal: dim the reasoning */
  bool    in_reasoning_text; /* reasoning printed and not yet ended by a newline */
  char   *answer;            /* the answer so far, kept for the next turn */
  size_t  answer_len;
  size_t  answer_cap;
} ChatOutput;

static void
append_answer (ChatOutput *out, const char *text, size_t len)
{
  if (out->answer_len + len + 1 > out->answer_cap)
    {
      size_t cap = (out->answer_len + len + 1) * 2;
      char *bigger = realloc (out->answer, cap);

      if (bigger == NULL)
        return;
      out->answer = bigger;
      out->answer_cap = cap;
    }
  memcpy (out->answer + out->answer_len, text, len);
  out->answer_len += len;
  out->answer[out->answer_len] = '\0';
}

static void
end_reasoning_text (ChatOutput *out)
{
  if (!out->in_reasoning_text)
    return;
  fputs (out->dim ? "\033[0m\n\n" : "\n", stderr);
  out->in_reasoning_text = false;
}

static bool
on_piece (PonderPieceKind kind, const char *text, size_t len, void *user_data)
{
  ChatOutput *out = user_data;

  if (kind == PONDER_PIECE_REASONING)
    {
      if (out->hide_reasoning)
        return true;
      if (out->dim && !out->in_reasoning_text)
        fputs ("\033[2m", stderr);
      out->in_reasoning_text = true;
      fwrite (text, 1, len, stderr);
      return true;
    }
  end_reasoning_text (out);
  fwrite (text, 1, len, stdout);
  fflush (stdout);
  append_answer (out, text, len);
  return true;
}

static void
print_stats (const PonderStats *stats)
{
  static const char *reasons[] = { "end of turn", "max tokens", "cancelled", "context full" };

  fprintf (stderr,
           "[%u prompt tokens (%u reused), %u generated (%u reasoning); "
           "first token after %.2f s; prefill %.1f t/s, decode %.1f t/s; %u picked on the "
           "device; %s]\n",
           stats->n_prompt_tokens, stats->n_reused_tokens, stats->n_generated_tokens,
           stats->n_reasoning_tokens, stats->time_to_first_token_s, stats->prefill_tokens_per_s,
           stats->decode_tokens_per_s, stats->n_device_picks,
           stats->stop_reason <= PONDER_STOP_CONTEXT_FULL ? reasons[stats->stop_reason] : "?");
  /* a GPU's decode steps: run again as recorded, or recorded (host time each) */
  if (stats->n_replayed_steps + stats->n_recorded_steps > 0)
    fprintf (stderr, "[decode steps on the device: %u replayed (%.3f ms of host time each), "
             "%u recorded (%.3f ms each)]\n", stats->n_replayed_steps, stats->replay_host_ms,
             stats->n_recorded_steps, stats->record_host_ms);
}

/* Generates one assistant turn for messages; the answer is left in out. */
static int
chat_turn (PonderSession       *session,
           const ChatOptions   *options,
           const PonderMessage *messages,
           size_t               n_messages,
           ChatOutput          *out)
{
  PonderGenerateParams params = options->generate;
  PonderError error = { 0 };
  PonderStats stats = { 0 };
  PonderStatus status;

  out->answer_len = 0;
  params.on_piece = on_piece;
  params.user_data = out;
  cli_set_running_session (session);
  status = ponder_session_generate_chat (session, messages, n_messages, &params, &stats, &error);
  cli_set_running_session (NULL);
  end_reasoning_text (out);
  putchar ('\n');
  fflush (stdout);
  if (status != PONDER_OK)
    return cli_fail ("generate", &error);
  if (options->show_stats)
    print_stats (&stats);
  return 0;
}

static char *
read_line (void)
{
  size_t cap = 0;
  char *line = NULL;
  ssize_t len = getline (&line, &cap, stdin);

  if (len < 0)
    {
      free (line);
      return NULL;
    }
  if (len > 0 && line[len - 1] == '\n')
    line[len - 1] = '\0';
  return line;
}

static void
free_turns (PonderMessage *messages, size_t n)
{
  for (size_t i = 0; i < n; i++)
    free ((char *) messages[i].content);
}

/* Interactive chat: each line is a user turn; "/reset" starts over and
 * "/quit" (or end of input) leaves. */
static int
chat_interactive (PonderSession *session, const ChatOptions *options, ChatOutput *out)
{
  PonderMessage *messages = NULL;
  size_t n = 0, cap = 0;
  bool tty = isatty (STDIN_FILENO);
  int rc = 0;

  if (options->system != NULL)
    {
      cap = 16;
      messages = calloc (cap, sizeof *messages);
      messages[n++] = (PonderMessage) { PONDER_ROLE_SYSTEM, strdup (options->system) };
    }
  for (;;)
    {
      char *line;

      if (tty)
        fputs ("> ", stdout), fflush (stdout);
      if ((line = read_line ()) == NULL || strcmp (line, "/quit") == 0)
        {
          free (line);
          break;
        }
      if (line[0] == '\0')
        {
          free (line);
          continue;
        }
      if (strcmp (line, "/reset") == 0)
        {
          size_t keep = options->system != NULL ? 1 : 0;

          free_turns (messages + keep, n - keep);
          n = keep;
          free (line);
          continue;
        }
      if (n + 2 > cap)
        {
          cap = cap ? cap * 2 : 16;
          messages = realloc (messages, cap * sizeof *messages);
        }
      messages[n++] = (PonderMessage) { PONDER_ROLE_USER, line };
      if ((rc = chat_turn (session, options, messages, n, out)) != 0)
        break;
      messages[n++] = (PonderMessage) { PONDER_ROLE_ASSISTANT,
                                        strdup (out->answer ? out->answer : "") };
    }
  free_turns (messages, n);
  free (messages);
  return rc;
}

static int
run_chat (const ChatOptions *options)
{
  PonderModel *model = NULL;
  PonderSession *session = NULL;
  PonderError error = { 0 };
  ChatOutput out = { 0 };
  int rc;

  if ((rc = cli_load_model_layers (options->model_path, options->backend, options->gpu_layers,
                                   true, &model)) != 0)
    return rc;
  if (ponder_session_new (model, &options->session, &session, &error) != PONDER_OK)
    {
      ponder_model_free (model);
      return cli_fail ("session", &error);
    }
  out.hide_reasoning = options->hide_reasoning;
  out.dim = isatty (STDERR_FILENO);
  if (options->show_stats)
    {
      PonderModelInfo info;

      ponder_model_get_info (model, &info);
      fprintf (stderr, "[%s backend; KV cache ", info.backend);
      cli_print_kv_type (stderr, &info);
      fprintf (stderr, ", %llu bytes per token]\n", (unsigned long long) info.kv_bytes_per_token);
    }
  if (options->prompt != NULL)
    {
      PonderMessage messages[2];
      size_t n = 0;

      if (options->system != NULL)
        messages[n++] = (PonderMessage) { PONDER_ROLE_SYSTEM, options->system };
      messages[n++] = (PonderMessage) { PONDER_ROLE_USER, options->prompt };
      rc = chat_turn (session, options, messages, n, &out);
    }
  else
    rc = chat_interactive (session, options, &out);
  free (out.answer);
  ponder_session_free (session);
  ponder_model_free (model);
  return rc;
}

static const char chat_help[] =
  "Usage: ponder-cli chat -m MODEL.gguf [-p PROMPT] [OPTIONS]\n"
  "\n"
  "Chats with a model. With -p, answers one prompt and exits; otherwise reads\n"
  "one user turn per line from standard input (/reset starts over, /quit\n"
  "leaves). The answer goes to standard output, the reasoning to standard error.\n"
  "Ctrl-C stops the answer being generated.\n"
  "\n"
  "  -m, --model FILE          the GGUF file (any part of a split model)\n"
  "  -p, --prompt TEXT         one prompt, then exit\n"
  "  -s, --system TEXT         system prompt (R1 works best without one)\n"
  "      --temperature T       default 0.6; 0 is greedy\n"
  "      --top-k N             default 0 (off)\n"
  "      --top-p P             default 0.95\n"
  "      --min-p P             default 0 (off)\n"
  "      --repeat-penalty R    default 1 (off)\n"
  "      --repeat-last-n N     tokens the penalty looks back over (default 64)\n"
  "      --seed N              same seed, same output\n"
  "      --max-tokens N        stop after N generated tokens (0: until the context is full)\n"
  "      --reasoning-budget N  close the reasoning after N tokens\n"
  "      --skip-reasoning      answer at once, with an empty reasoning block\n"
  "      --hide-reasoning      do not print the reasoning\n"
  "      --ctx N               context window in tokens (default: min(training, 8192))\n"
  "      --threads N           CPU threads (default: one per core)\n"
  "      --backend B           auto (a GPU when there is one), cpu or vulkan\n"
  "      --gpu-layers N        with vulkan: only the last N layers on the device\n"
  "                            (default: as many as fit)\n"
  "      --device LIST         with vulkan: device index (see ponder-cli devices), or\n"
  "                            several (0,1): a dense model's layers are split over\n"
  "                            them, a DeepSeek MoE's experts shared by them\n"
  "      --device-memory MIB   with vulkan: use at most this much of each device; what\n"
  "                            does not fit stays on the CPU (first layers, or a\n"
  "                            DeepSeek MoE's experts of the last layers)\n"
  "      --kv-type T           the KV cache's element type: f16 (default; half the\n"
  "                            memory) or f32 (exact)\n"
  "      --stats               print the backend and cache type after loading and\n"
  "                            timings after each answer";

static int
parse_chat_option (int opt, ChatOptions *options)
{
  PonderSamplerParams *sampling = &options->generate.sampling;
  double f;
  long n;

  switch (opt)
    {
    case 'm': options->model_path = optarg; return 0;
    case 'p': options->prompt = optarg; return 0;
    case 's': options->system = optarg; return 0;
    case OPT_HIDE_REASONING: options->hide_reasoning = true; return 0;
    case OPT_SKIP_REASONING: options->generate.skip_reasoning = true; return 0;
    case OPT_STATS: options->show_stats = true; return 0;
    case OPT_BACKEND:
      return cli_parse_backend (optarg, &options->backend)
             ? 0 : cli_usage_error ("unknown backend '%s' (auto, cpu or vulkan)", optarg);
    case OPT_GPU_LAYERS:
      return cli_parse_gpu_layers (optarg, &options->gpu_layers)
             ? 0 : cli_usage_error ("bad --gpu-layers '%s'", optarg);
    case CLI_OPT_DEVICE:
    case CLI_OPT_DEVICE_MEMORY:
    case CLI_OPT_KV_TYPE:
      return cli_load_option (opt, optarg);
    case OPT_TEMPERATURE:
      if (!cli_parse_float (optarg, 0, 100, &f))
        return cli_usage_error ("bad --temperature '%s'", optarg);
      sampling->temperature = (float) f;
      return 0;
    case OPT_TOP_P:
      if (!cli_parse_float (optarg, 0, 1, &f))
        return cli_usage_error ("bad --top-p '%s' (0 to 1)", optarg);
      sampling->top_p = (float) f;
      return 0;
    case OPT_MIN_P:
      if (!cli_parse_float (optarg, 0, 1, &f))
        return cli_usage_error ("bad --min-p '%s' (0 to 1)", optarg);
      sampling->min_p = (float) f;
      return 0;
    case OPT_REPEAT_PENALTY:
      if (!cli_parse_float (optarg, 0.01, 100, &f))
        return cli_usage_error ("bad --repeat-penalty '%s'", optarg);
      sampling->repeat_penalty = (float) f;
      return 0;
    case OPT_TOP_K:
      if (!cli_parse_int (optarg, 0, INT32_MAX, &n))
        return cli_usage_error ("bad --top-k '%s'", optarg);
      sampling->top_k = (int32_t) n;
      return 0;
    case OPT_REPEAT_LAST_N:
      if (!cli_parse_int (optarg, 0, INT32_MAX, &n))
        return cli_usage_error ("bad --repeat-last-n '%s'", optarg);
      sampling->repeat_last_n = (int32_t) n;
      return 0;
    case OPT_SEED:
      {
        char *end;
        unsigned long long seed = strtoull (optarg, &end, 10);

        if (end == optarg || *end != '\0')
          return cli_usage_error ("bad --seed '%s'", optarg);
        sampling->seed = seed;
        return 0;
      }
    case OPT_MAX_TOKENS:
      if (!cli_parse_int (optarg, 0, INT32_MAX, &n))
        return cli_usage_error ("bad --max-tokens '%s'", optarg);
      options->generate.max_tokens = (int32_t) n;
      return 0;
    case OPT_REASONING_BUDGET:
      if (!cli_parse_int (optarg, -1, INT32_MAX, &n))
        return cli_usage_error ("bad --reasoning-budget '%s'", optarg);
      options->generate.reasoning_budget = (int32_t) n;
      return 0;
    case OPT_CTX:
      if (!cli_parse_int (optarg, 1, UINT32_MAX, &n))
        return cli_usage_error ("bad --ctx '%s'", optarg);
      options->session.n_ctx = (uint32_t) n;
      return 0;
    case OPT_THREADS:
      if (!cli_parse_int (optarg, 0, 1024, &n))
        return cli_usage_error ("bad --threads '%s'", optarg);
      options->session.n_threads = (int) n;
      return 0;
    case 'h':
      puts (chat_help);
      return -1;
    default:
      return 2;
    }
}

int
cli_chat (int argc, char **argv)
{
  static const struct option options_table[] = {
    { "model", required_argument, NULL, 'm' },
    { "prompt", required_argument, NULL, 'p' },
    { "system", required_argument, NULL, 's' },
    { "temperature", required_argument, NULL, OPT_TEMPERATURE },
    { "top-k", required_argument, NULL, OPT_TOP_K },
    { "top-p", required_argument, NULL, OPT_TOP_P },
    { "min-p", required_argument, NULL, OPT_MIN_P },
    { "repeat-penalty", required_argument, NULL, OPT_REPEAT_PENALTY },
    { "repeat-last-n", required_argument, NULL, OPT_REPEAT_LAST_N },
    { "seed", required_argument, NULL, OPT_SEED },
    { "max-tokens", required_argument, NULL, OPT_MAX_TOKENS },
    { "reasoning-budget", required_argument, NULL, OPT_REASONING_BUDGET },
    { "skip-reasoning", no_argument, NULL, OPT_SKIP_REASONING },
    { "hide-reasoning", no_argument, NULL, OPT_HIDE_REASONING },
    { "ctx", required_argument, NULL, OPT_CTX },
    { "threads", required_argument, NULL, OPT_THREADS },
    { "backend", required_argument, NULL, OPT_BACKEND },
    { "gpu-layers", required_argument, NULL, OPT_GPU_LAYERS },
    CLI_DEVICE_OPTION,
    CLI_DEVICE_MEMORY_OPTION,
    CLI_KV_TYPE_OPTION,
    { "stats", no_argument, NULL, OPT_STATS },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  ChatOptions options = { 0 };
  int opt, rc;

  options.backend = PONDER_BACKEND_AUTO;
  options.gpu_layers = -1;
  options.session = ponder_session_params_default ();
  options.generate = ponder_generate_params_default ();
  while ((opt = getopt_long (argc, argv, "m:p:s:h", options_table, NULL)) != -1)
    if ((rc = parse_chat_option (opt, &options)) != 0)
      return rc < 0 ? 0 : rc;
  if (optind < argc)
    return cli_usage_error ("unexpected argument '%s' (quote the prompt after -p)", argv[optind]);
  return run_chat (&options);
}

/* ---- bench ------------------------------------------------------------- */

typedef struct
{
  const char       *model_path;
  PonderBackendKind backend;
  long              gpu_layers;
  long              n_prompt;
  long              n_generate;
  long              n_threads;
  long              repetitions;
  bool              json;
} BenchOptions;

static int
compare_doubles (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return (x > y) - (x < y);
}

static double
median (double *values, size_t n)
{
  qsort (values, n, sizeof *values, compare_doubles);
  return n % 2 ? values[n / 2] : 0.5 * (values[n / 2 - 1] + values[n / 2]);
}

static void
print_json_string (const char *text)
{
  putchar ('"');
  for (const unsigned char *c = (const unsigned char *) text; *c != '\0'; c++)
    {
      if (*c == '"' || *c == '\\')
        printf ("\\%c", *c);
      else if (*c < 0x20)
        printf ("\\u%04x", *c);
      else
        putchar (*c);
    }
  putchar ('"');
}

/* One run: prefill n_prompt tokens from an empty cache, then decode
 * n_generate greedy tokens past any end-of-turn token. */
static int
bench_once (PonderSession *session, const BenchOptions *options, const int32_t *prompt,
            PonderStats *stats)
{
  PonderGenerateParams params = ponder_generate_params_default ();
  PonderError error = { 0 };

  params.sampling.temperature = 0;
  params.max_tokens = (int32_t) options->n_generate;
  params.ignore_end_of_generation = true;
  ponder_session_reset (session);
  if (ponder_session_generate_tokens (session, prompt, (size_t) options->n_prompt, &params,
                                      stats, &error) != PONDER_OK)
    return cli_fail ("bench", &error);
  return 0;
}

static int
run_bench (const BenchOptions *options, PonderModel *model)
{
  PonderSessionParams session_params = ponder_session_params_default ();
  PonderSession *session = NULL;
  PonderError error = { 0 };
  PonderModelInfo info;
  PonderStats stats;
  double prefill[64], decode[64];
  int32_t *prompt;
  int rc = 0;

  ponder_model_get_info (model, &info);
  session_params.n_threads = (int) options->n_threads;
  session_params.n_ctx = (uint32_t) (options->n_prompt + options->n_generate + 16);
  if (ponder_session_new (model, &session_params, &session, &error) != PONDER_OK)
    return cli_fail ("session", &error);
  prompt = malloc ((size_t) options->n_prompt * sizeof *prompt);
  for (long i = 0; i < options->n_prompt; i++)
    prompt[i] = (int32_t) ((1000 + i * 7919) % info.n_vocab);
  /* A run that is not counted: a device compiles its pipelines on first
   * use, and the first pass faults the mapped weights in. */
  {
    BenchOptions warm_up = *options;

    warm_up.n_generate = 2;
    rc = bench_once (session, &warm_up, prompt, &stats);
  }
  for (long r = 0; r < options->repetitions && rc == 0; r++)
    {
      rc = bench_once (session, options, prompt, &stats);
      prefill[r] = stats.prefill_tokens_per_s;
      decode[r] = stats.decode_tokens_per_s;
    }
  if (rc == 0)
    {
      double prefill_tps = median (prefill, (size_t) options->repetitions);
      double decode_tps = median (decode, (size_t) options->repetitions);

      if (options->json)
        {
          fputs ("{\"model\": ", stdout);
          print_json_string (info.name);
          fputs (", \"architecture\": ", stdout);
          print_json_string (info.architecture);
          fputs (", \"file_type\": ", stdout);
          print_json_string (info.file_type);
          printf (", \"kv_type\": \"%s\"", ponder_kv_type_name (info.kv_type));
          printf (", \"n_prompt\": %ld, \"n_generate\": %ld, \"threads\": %ld, "
                  "\"repetitions\": %ld, \"bytes_per_token\": %llu, "
                  "\"prefill_tps\": %.3f, \"decode_tps\": %.3f}\n",
                  options->n_prompt, options->n_generate, options->n_threads,
                  options->repetitions, (unsigned long long) info.bytes_per_token,
                  prefill_tps, decode_tps);
        }
      else
        printf ("%s (%s, %s, KV %s): prefill %ld tokens %.2f t/s, decode %ld tokens %.2f t/s "
                "(%.2f GB/s of weights), median of %ld\n",
                info.name, info.architecture, info.file_type,
                ponder_kv_type_name (info.kv_type), options->n_prompt, prefill_tps,
                options->n_generate, decode_tps, decode_tps * info.bytes_per_token / 1e9,
                options->repetitions);
    }
  free (prompt);
  ponder_session_free (session);
  return rc;
}

int
cli_bench (int argc, char **argv)
{
  static const struct option options_table[] = {
    { "model", required_argument, NULL, 'm' },
    { "prompt-tokens", required_argument, NULL, 'p' },
    { "gen-tokens", required_argument, NULL, 'n' },
    { "repetitions", required_argument, NULL, 'r' },
    { "threads", required_argument, NULL, OPT_THREADS },
    { "backend", required_argument, NULL, OPT_BACKEND },
    { "gpu-layers", required_argument, NULL, OPT_GPU_LAYERS },
    CLI_DEVICE_OPTION,
    CLI_DEVICE_MEMORY_OPTION,
    CLI_KV_TYPE_OPTION,
    { "json", no_argument, NULL, OPT_JSON },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  BenchOptions options = { NULL, PONDER_BACKEND_AUTO, -1, 64, 32, 0, 3, false };
  PonderModel *model = NULL;
  int opt, rc;

  while ((opt = getopt_long (argc, argv, "m:p:n:r:h", options_table, NULL)) != -1)
    {
      switch (opt)
        {
        case 'm':
          options.model_path = optarg;
          break;
        case 'p':
          if (!cli_parse_int (optarg, 1, 1 << 20, &options.n_prompt))
            return cli_usage_error ("bad -p '%s'", optarg);
          break;
        case 'n':
          if (!cli_parse_int (optarg, 0, 1 << 20, &options.n_generate))
            return cli_usage_error ("bad -n '%s'", optarg);
          break;
        case 'r':
          if (!cli_parse_int (optarg, 1, 64, &options.repetitions))
            return cli_usage_error ("bad -r '%s' (1 to 64)", optarg);
          break;
        case OPT_THREADS:
          if (!cli_parse_int (optarg, 0, 1024, &options.n_threads))
            return cli_usage_error ("bad --threads '%s'", optarg);
          break;
        case OPT_BACKEND:
          if (!cli_parse_backend (optarg, &options.backend))
            return cli_usage_error ("unknown backend '%s' (auto, cpu or vulkan)", optarg);
          break;
        case OPT_GPU_LAYERS:
          if (!cli_parse_gpu_layers (optarg, &options.gpu_layers))
            return cli_usage_error ("bad --gpu-layers '%s'", optarg);
          break;
        case CLI_OPT_DEVICE:
        case CLI_OPT_DEVICE_MEMORY:
        case CLI_OPT_KV_TYPE:
          if ((rc = cli_load_option (opt, optarg)) != 0)
            return rc;
          break;
        case OPT_JSON:
          options.json = true;
          break;
        case 'h':
          puts ("Usage: ponder-cli bench -m MODEL.gguf [-p N] [-n N] [-r N] [--threads N]\n"
                "                        [--backend B] [--gpu-layers N] [--device LIST]\n"
                "                        [--device-memory MIB] [--kv-type f16|f32] [--json]\n"
                "\n"
                "Measures prefill of N prompt tokens (-p, default 64) and greedy decode\n"
                "of N tokens (-n, default 32), each repeated -r times (default 3) after\n"
                "one uncounted warm-up run, and prints the medians in tokens per second.\n"
                "--kv-type is the KV cache's element type (default f16). With --json,\n"
                "one JSON object with prefill_tps, decode_tps and the kv_type used.");
          return 0;
        default:
          return 2;
        }
    }
  if ((rc = cli_load_model_layers (options.model_path, options.backend, options.gpu_layers,
                                   false, &model)) != 0)
    return rc;
  rc = run_bench (&options, model);
  ponder_model_free (model);
  return rc;
}
