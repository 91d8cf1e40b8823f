/* cli.h: helpers shared by the ponder-cli subcommands.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <stdbool.h>
#include <stdio.h>

#include "ponder-engine.h"

/* Prints "ponder-cli: WHAT: MESSAGE" to stderr and returns 1. */
int  cli_fail                (const char *what, const PonderError *error);
/* Prints a usage error to stderr and returns 2. */
int  cli_usage_error         (const char *format, const char *arg);

bool cli_parse_int           (const char *text, long min, long max, long *out);
bool cli_parse_float         (const char *text, double min, double max, double *out);
bool cli_parse_backend       (const char *text, PonderBackendKind *out);

/* Loads a model, printing errors; returns the exit code (0 on success). */
int  cli_load_model          (const char        *path,
                              PonderBackendKind  backend,
                              bool               show_progress,
                              PonderModel      **out_model);
/* The same with the layers on the Vulkan device (--gpu-layers; -1: all). */
int  cli_load_model_layers   (const char        *path,
                              PonderBackendKind  backend,
                              long               gpu_layers,
                              bool               show_progress,
                              PonderModel      **out_model);
/* Parses --gpu-layers N (0 or more). */
bool cli_parse_gpu_layers    (const char *text, long *out);
/* The options of the commands that load a model: --device LIST (one index
 * of `ponder-cli devices`, or several separated by commas), --device-memory
 * MIB (the most a device may hold) and --kv-type f16|f32 (the KV cache's
 * element type, default f16). Later loads and plans use them. */
enum { CLI_OPT_DEVICE = 3000, CLI_OPT_DEVICE_MEMORY, CLI_OPT_KV_TYPE };
#define CLI_DEVICE_OPTION        { "device", required_argument, NULL, CLI_OPT_DEVICE }
#define CLI_DEVICE_MEMORY_OPTION { "device-memory", required_argument, NULL, \
                                   CLI_OPT_DEVICE_MEMORY }
/* Takes one of them: 0, or the exit code of a usage error. */
int  cli_load_option         (int opt, const char *arg);
/* The devices --device gave (out: PONDER_MAX_DEVICES entries); 0 if none. */
uint32_t cli_chosen_devices  (int32_t *out);

#define CLI_KV_TYPE_OPTION       { "kv-type", required_argument, NULL, CLI_OPT_KV_TYPE }
#define CLI_KV_TYPE_HELP         "--kv-type f16|f32"
PonderKvType cli_chosen_kv_type (void);
/* "f16", or the type a load took instead and why ("f32 (f16 asked for; the
 * vulkan backend cannot keep it for this model)"). */
void cli_print_kv_type       (FILE *out, const PonderModelInfo *info);

/* The session that Ctrl-C cancels (NULL: Ctrl-C exits). */
void cli_set_running_session (PonderSession *session);

int  cli_chat                (int argc, char **argv);
int  cli_info                (int argc, char **argv);
int  cli_tokenize            (int argc, char **argv);
int  cli_detokenize          (int argc, char **argv);
int  cli_logits              (int argc, char **argv);
int  cli_bench               (int argc, char **argv);
int  cli_devices             (int argc, char **argv);
