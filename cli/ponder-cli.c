/* ponder-cli.c: the command-line client of the Ponder engine.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Subcommands: chat, info, tokenize, detokenize, logits, bench, devices. Everything
 * goes through engine/ponder-engine.h, exactly as the GTK app will.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "ponder-engine.h"

static PonderSession *volatile running_session;

static void
on_interrupt (int signum)
{
  /* ponder_session_cancel only stores an atomic flag, so it is safe here. */
  if (running_session != NULL)
    ponder_session_cancel (running_session);
  else
    _exit (130);
}

int
cli_fail (const char *what, const PonderError *error)
{
  fprintf (stderr, "ponder-cli: %s: %s\n", what, error->message);
  return 1;
}

int
cli_usage_error (const char *format, const char *arg)
{
  fprintf (stderr, "ponder-cli: ");
  fprintf (stderr, format, arg);
  fprintf (stderr, "\nTry 'ponder-cli --help'.\n");
  return 2;
}

bool
cli_parse_int (const char *text, long min, long max, long *out)
{
  char *end;
  long value;

  errno = 0;
  value = strtol (text, &end, 10);
  if (errno != 0 || end == text || *end != '\0' || value < min || value > max)
    return false;
  *out = value;
  return true;
}

bool
cli_parse_float (const char *text, double min, double max, double *out)
{
  char *end;
  double value;

  errno = 0;
  value = strtod (text, &end);
  if (errno != 0 || end == text || *end != '\0' || !(value >= min && value <= max))
    return false;
  *out = value;
  return true;
}

static bool
print_progress (float fraction, void *user_data)
{
  bool *shown = user_data;

  if (!isatty (STDERR_FILENO))
    return true;
  fprintf (stderr, "\rloading %3d%%", (int) (fraction * 100.0f + 0.5f));
  if (fraction >= 1.0f)
    fprintf (stderr, "\r             \r");
  *shown = true;
  return true;
}

int
cli_load_model (const char        *path,
                PonderBackendKind  backend,
                bool               show_progress,
                PonderModel      **out_model)
{
  return cli_load_model_layers (path, backend, -1, show_progress, out_model);
}

bool
cli_parse_gpu_layers (const char *text, long *out)
{
  return cli_parse_int (text, 0, 100000, out);
}

/* --device: the Vulkan devices to load on (none given: the default one). */
static int32_t chosen_devices[PONDER_MAX_DEVICES];
static uint32_t n_chosen_devices;

static bool
parse_devices (const char *text)
{
  char buf[128], *save = NULL;
  uint32_t n = 0;

  if (strlen (text) >= sizeof buf)
    return false;
  strcpy (buf, text);
  for (char *item = strtok_r (buf, ",", &save); item != NULL; item = strtok_r (NULL, ",", &save))
    {
      long index;

      if (n == PONDER_MAX_DEVICES || !cli_parse_int (item, 0, 1000, &index))
        return false;
      chosen_devices[n++] = (int32_t) index;
    }
  if (n == 0)
    return false;
  n_chosen_devices = n;
  return true;
}

/* --device-memory: plan as if the device had at most this much (0: all). */
static uint64_t device_memory_limit;

static bool
parse_device_memory (const char *text)
{
  long mib;

  if (!cli_parse_int (text, 1, 1L << 30, &mib))
    return false;
  device_memory_limit = (uint64_t) mib << 20;
  return true;
}

/* --kv-type: the cache's element type. */
static PonderKvType chosen_kv_type = PONDER_KV_F16;

static bool
parse_kv_type (const char *arg)
{
  if (strcmp (arg, "f16") == 0)
    chosen_kv_type = PONDER_KV_F16;
  else if (strcmp (arg, "f32") == 0)
    chosen_kv_type = PONDER_KV_F32;
  else
    return false;
  return true;
}

int
cli_load_option (int         opt,
                 const char *arg)
{
  if (opt == CLI_OPT_DEVICE)
    return parse_devices (arg) ? 0 : cli_usage_error ("bad --device '%s'", arg);
  if (opt == CLI_OPT_KV_TYPE)
    return parse_kv_type (arg) ? 0 : cli_usage_error ("bad --kv-type '%s' (f16 or f32)", arg);
  return parse_device_memory (arg) ? 0 : cli_usage_error ("bad --device-memory '%s'", arg);
}

uint32_t
cli_chosen_devices (int32_t *out)
{
  memcpy (out, chosen_devices, sizeof chosen_devices);
  return n_chosen_devices;
}

void
cli_print_kv_type (FILE *out, const PonderModelInfo *info)
{
  fprintf (out, "%s", ponder_kv_type_name (info->kv_type));
  if (info->kv_type != chosen_kv_type)
    fprintf (out, " (%s asked for; the %s backend cannot keep it for this model)",
             ponder_kv_type_name (chosen_kv_type), info->backend);
}


PonderKvType
cli_chosen_kv_type (void)
{
  return chosen_kv_type;
}

/* A split says where each layer runs, so that it can be checked. */
static void
print_split (const PonderModel *model)
{
  PonderModelInfo info;

  ponder_model_get_info (model, &info);
  if (info.backend_note != NULL)
    fprintf (stderr, "ponder-cli: not using %s; running on the CPU\n", info.backend_note);
  if (info.n_devices == 1 && info.device_first_layer[0] > 0)
    fprintf (stderr, "ponder-cli: layers 0-%u on the CPU, %u-%u on the device\n",
             info.device_first_layer[0] - 1, info.device_first_layer[0], info.n_layers - 1);
  if (info.host_expert_layers > 0)
    fprintf (stderr, "ponder-cli: the routed experts of the last %u MoE layers run on the CPU "
             "from system memory\n", info.host_expert_layers);
  if (info.n_expert_devices > 1)
    fprintf (stderr, "ponder-cli: the routed experts of each layer shared by %u devices\n",
             info.n_expert_devices);
  if (info.n_devices < 2)
    return;
  fprintf (stderr, "ponder-cli: layers");
  if (info.device_first_layer[0] > 0)
    fprintf (stderr, " 0-%u on the CPU,", info.device_first_layer[0] - 1);
  for (uint32_t d = 0; d < info.n_devices; d++)
    {
      uint32_t end = d + 1 < info.n_devices ? info.device_first_layer[d + 1] : info.n_layers;

      fprintf (stderr, " %u-%u on device %d (%s)%s", info.device_first_layer[d], end - 1,
               chosen_devices[d], info.device_names[d], d + 1 < info.n_devices ? "," : "\n");
    }
}

int
cli_load_model_layers (const char        *path,
                       PonderBackendKind  backend,
                       long               gpu_layers,
                       bool               show_progress,
                       PonderModel      **out_model)
{
  PonderModelParams params = ponder_model_params_default ();
  PonderError error = { 0 };
  bool shown = false;

  if (path == NULL)
    {
      fprintf (stderr, "ponder-cli: no model given (use -m FILE.gguf)\n");
      return 2;
    }
  params.backend = backend;
  params.n_gpu_layers = (int32_t) gpu_layers;
  params.device_memory_bytes = device_memory_limit;
  params.kv_type = chosen_kv_type;
  if (n_chosen_devices == 1)
    params.device_index = chosen_devices[0];
  else
    {
      params.n_devices = n_chosen_devices;
      memcpy (params.devices, chosen_devices, sizeof chosen_devices);
    }
  /* a developer switch until the memory planner places experts (issue 5) */
  if (getenv ("PONDER_HOST_EXPERT_LAYERS") != NULL)
    params.host_expert_layers = (int32_t) strtoul (getenv ("PONDER_HOST_EXPERT_LAYERS"), NULL,
                                                    10);
  if (show_progress)
    {
      params.progress = print_progress;
      params.progress_data = &shown;
    }
  /* The engine's messages already name the file. A model the Vulkan
   * backend cannot take (no driver, a weight type without a shader, too
   * little device memory) still runs on the CPU; a file that cannot be read
   * would fail there too. */
  if (ponder_model_load (path, &params, out_model, &error) != PONDER_OK
      && backend == PONDER_BACKEND_VULKAN
      && (error.code == PONDER_ERROR_UNSUPPORTED || error.code == PONDER_ERROR_DEVICE
          || error.code == PONDER_ERROR_NO_MEMORY))
    {
      fprintf (stderr, "ponder-cli: %s; using the CPU backend\n", error.message);
      params.backend = PONDER_BACKEND_CPU;
      error.code = PONDER_OK;
      ponder_model_load (path, &params, out_model, &error);
    }
  if (error.code != PONDER_OK)
    {
      fprintf (stderr, "ponder-cli: %s\n", error.message);
      return 1;
    }
  print_split (*out_model);
  return 0;
}

bool
cli_parse_backend (const char *text, PonderBackendKind *out)
{
  if (strcmp (text, "auto") == 0)
    *out = PONDER_BACKEND_AUTO;
  else if (strcmp (text, "cpu") == 0)
    *out = PONDER_BACKEND_CPU;
  else if (strcmp (text, "vulkan") == 0)
    *out = PONDER_BACKEND_VULKAN;
  else
    return false;
  return true;
}

void
cli_set_running_session (PonderSession *session)
{
  running_session = session;
}

static void
print_help (void)
{
  puts ("Usage: ponder-cli COMMAND [OPTIONS]\n"
        "\n"
        "Runs DeepSeek-R1 models from GGUF files on this computer, offline.\n"
        "\n"
        "Commands:\n"
        "  chat        chat with a model (one prompt with -p, or interactively)\n"
        "  info        describe a model file: architecture, sizes, weight types, memory\n"
        "  tokenize    print the token ids of a text as a JSON array\n"
        "  detokenize  print the text of token ids\n"
        "  logits      print the logits of every position of a token list\n"
        "  bench       measure prefill and decode speed\n"
        "  devices     list the Vulkan compute devices\n"
        "\n"
        "Run 'ponder-cli COMMAND --help' for the options of a command.");
}

int
main (int argc, char **argv)
{
  const char *command;
  struct sigaction action = { 0 };

  if (argc < 2)
    {
      print_help ();
      return 2;
    }
  command = argv[1];
  if (strcmp (command, "--help") == 0 || strcmp (command, "-h") == 0
      || strcmp (command, "help") == 0)
    {
      print_help ();
      return 0;
    }

  action.sa_handler = on_interrupt;
  sigemptyset (&action.sa_mask);
  sigaction (SIGINT, &action, NULL);

  /* Each subcommand parses its own options from argv[1..]. */
  if (strcmp (command, "chat") == 0)
    return cli_chat (argc - 1, argv + 1);
  if (strcmp (command, "info") == 0)
    return cli_info (argc - 1, argv + 1);
  if (strcmp (command, "tokenize") == 0)
    return cli_tokenize (argc - 1, argv + 1);
  if (strcmp (command, "detokenize") == 0)
    return cli_detokenize (argc - 1, argv + 1);
  if (strcmp (command, "logits") == 0)
    return cli_logits (argc - 1, argv + 1);
  if (strcmp (command, "bench") == 0)
    return cli_bench (argc - 1, argv + 1);
  if (strcmp (command, "devices") == 0)
    return cli_devices (argc - 1, argv + 1);
  return cli_usage_error ("unknown command '%s'", command);
}
