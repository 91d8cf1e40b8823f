/* ponder-engine.h: the public API of libponder-engine.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Everything the app and the CLI may use. All handles are opaque. Every
 * fallible call returns a PonderStatus and fills an optional PonderError with
 * a message a user can read. The library never prints, exits or reads the
 * environment. A PonderModel may be shared by several sessions; a
 * PonderSession is used from one thread at a time, except for the functions
 * documented as thread-safe (cancel, end_reasoning).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum
{
  PONDER_OK = 0,
  PONDER_ERROR_INVALID_ARGUMENT, /* the caller passed something meaningless */
  PONDER_ERROR_IO,               /* a file could not be opened, read or mapped */
  PONDER_ERROR_FORMAT,           /* a file is truncated, corrupt or hostile */
  PONDER_ERROR_UNSUPPORTED,      /* unknown architecture, weight type, tokenizer, template */
  PONDER_ERROR_NO_MEMORY,        /* an allocation failed or the model does not fit */
  PONDER_ERROR_CONTEXT_FULL,     /* the request does not fit in the context window */
  PONDER_ERROR_CANCELLED,        /* ponder_session_cancel() or a progress callback said stop */
  PONDER_ERROR_DEVICE,           /* a compute device failed or was lost */
} PonderStatus;

#define PONDER_ERROR_MESSAGE_MAX 512

typedef struct
{
  PonderStatus code;
  char         message[PONDER_ERROR_MESSAGE_MAX];
} PonderError;

/* A short, stable English name of a status code ("format error", ...). */
const char *ponder_status_name (PonderStatus status);

typedef struct PonderModel   PonderModel;
typedef struct PonderSession PonderSession;

typedef enum
{
  PONDER_BACKEND_AUTO = 0,
  PONDER_BACKEND_CPU,
  PONDER_BACKEND_VULKAN,
} PonderBackendKind;

/* Returns false to cancel the load. Called on the loading thread. */
typedef bool (*PonderProgressFunc) (float fraction, void *user_data);

#define PONDER_MAX_DEVICES 8

/* The element type of the KV cache: every layer's keys and values per
 * context position (deepseek2: the latent rows). F16 halves the cache and
 * the bytes attention reads per token at long contexts, as llama.cpp's
 * default cache does; F32 keeps the keys and values exact. */
typedef enum
{
  PONDER_KV_F16 = 0, /* IEEE half, rounded to nearest even (the default) */
  PONDER_KV_F32,
} PonderKvType;

/* "f16" or "f32"; NULL for a value that is not a PonderKvType. */
const char *ponder_kv_type_name (PonderKvType type);

typedef struct
{
  PonderBackendKind  backend;       /* AUTO: Vulkan on the default device when it is a
                                       real GPU and the model runs there, else the CPU */
  PonderProgressFunc progress;
  void              *progress_data;
  int32_t            device_index;  /* Vulkan device (ponder_list_devices order); -1: the
                                       default one */
  int32_t            host_expert_layers; /* Vulkan, deepseek2: the routed experts of the
                                            last N MoE layers stay in system memory and
                                            run on the CPU (0: all on the device); -1:
                                            as ponder_model_plan places them */
  uint64_t           device_memory_bytes; /* Vulkan: plan as if each device had at most
                                             this much memory (0: what it has) */
  int32_t            n_gpu_layers;  /* Vulkan, dense models: the last N layers on the
                                       device, the others on the CPU (partial offload);
                                       -1: all on the device */
  /* Vulkan, several GPUs (n_devices >= 2, devices in ponder_list_devices
   * order): a dense model's device layers are split into consecutive shares
   * (a pipeline) in proportion to each device's memory, the last also running
   * the output head; deepseek2's routed experts of every MoE layer are
   * shared equally instead (expert parallelism), the first device running
   * everything else. An index may repeat: that device is opened again as
   * another logical device (how this is tested on one GPU). device_index is
   * then unused. */
  uint32_t           n_devices;
  int32_t            devices[PONDER_MAX_DEVICES];
  /* The sessions' KV cache (F16 by default). A backend that lacks the type
   * stores F32 instead (the Vulkan backend, for now); PonderModelInfo.kv_type
   * says what a load uses. */
  PonderKvType       kv_type;
} PonderModelParams;

PonderModelParams ponder_model_params_default (void);

/* Loads a GGUF file (for split files, any part; the others are found beside
 * it). The model is freed with ponder_model_free(). With the VULKAN backend
 * the weights are uploaded to the device; a model or machine the Vulkan
 * backend cannot serve fails with a message saying why (the caller may then
 * load it on the CPU). */
PonderStatus      ponder_model_load           (const char              *path,
                                               const PonderModelParams *params,
                                               PonderModel            **out_model,
                                               PonderError             *error);
void              ponder_model_free           (PonderModel             *model);

typedef struct
{
  const char *architecture;      /* "qwen2", "llama", "qwen3", ... */
  const char *name;              /* general.name, or the file name */
  const char *chat_family;       /* "deepseek-r1-distill-qwen", ... */
  const char *file_type;         /* "Q4_K_M", "Q8_0", "F16", ... best guess */
  uint64_t    n_params;
  uint64_t    file_size_bytes;   /* all split parts */
  uint64_t    weight_bytes;      /* bytes of all tensors */
  uint64_t    bytes_per_token;   /* weight bytes read per decoded token */
  uint32_t    n_layers;
  uint32_t    n_embd;
  uint32_t    n_head;
  uint32_t    n_head_kv;
  uint32_t    head_dim;
  uint32_t    n_ff;
  uint32_t    n_vocab;
  uint32_t    n_ctx_train;
  uint64_t    kv_bytes_per_token; /* KV cache bytes per context position */
  PonderKvType kv_type;          /* what the cache holds: the requested type, or F32
                                    where the backend lacks it */
  /* Mixture of experts (0 for dense models). bytes_per_token includes the
   * routed share; always-on bytes = bytes_per_token - routed_bytes_per_token. */
  uint64_t    routed_bytes_per_token; /* the n_expert_used of n_expert routed experts */
  uint32_t    n_expert;
  uint32_t    n_expert_used;
  const char *backend;           /* "cpu" or "vulkan" */
  const char *device_name;       /* the Vulkan device, or NULL on the CPU */
  /* The Vulkan devices in use (several with a split), each with the first
   * layer it runs; layers before the first one's run on the CPU. */
  uint32_t    n_devices;
  uint32_t    device_first_layer[PONDER_MAX_DEVICES];
  const char *device_names[PONDER_MAX_DEVICES];
  uint32_t    n_expert_devices;  /* deepseek2: devices sharing each layer's routed
                                    experts (expert parallelism); 0: one */
  uint32_t    host_expert_layers; /* deepseek2 on Vulkan: the last MoE layers whose
                                     routed experts stay in system memory */
  const char *backend_note;      /* AUTO on a machine with a GPU that the model could
                                    not use: why (the device and the reason), else NULL */
} PonderModelInfo;

/* Strings in the info stay valid until the model is freed. */
void              ponder_model_get_info       (const PonderModel *model,
                                               PonderModelInfo   *out_info);

typedef struct
{
  const char *type_name;  /* "Q4_K" */
  uint32_t    n_tensors;
  uint64_t    n_bytes;
} PonderTypeStat;

/* Fills up to max_stats entries, one per weight type present; returns how
 * many types the model has. */
size_t            ponder_model_get_type_stats (const PonderModel *model,
                                               PonderTypeStat    *out_stats,
                                               size_t             max_stats);

/* ---- Tokens ---------------------------------------------------------- */

/* Tokenizes text (no BOS added). With parse_special, special and added
 * tokens written in the text become their ids. *out_ids is malloc'd; free it
 * with ponder_free(). */
PonderStatus      ponder_model_tokenize       (const PonderModel *model,
                                               const char        *text,
                                               size_t             text_len,
                                               bool               parse_special,
                                               int32_t          **out_ids,
                                               size_t            *out_n_ids,
                                               PonderError       *error);

/* The bytes of token id (special tokens as their text). Borrowed until the
 * model is freed; NULL for an id out of range. */
const char       *ponder_model_token_bytes    (const PonderModel *model,
                                               int32_t            id,
                                               size_t            *out_len);

/* Concatenates the bytes of ids into a malloc'd NUL-terminated string. */
PonderStatus      ponder_model_detokenize     (const PonderModel *model,
                                               const int32_t     *ids,
                                               size_t             n_ids,
                                               char             **out_text,
                                               size_t            *out_len,
                                               PonderError       *error);

void              ponder_free                 (void              *memory);

/* ---- Chat ------------------------------------------------------------- */

typedef enum
{
  PONDER_ROLE_SYSTEM,
  PONDER_ROLE_USER,
  PONDER_ROLE_ASSISTANT,
} PonderRole;

typedef struct
{
  PonderRole  role;
  const char *content;   /* for assistant turns: the answer (may still hold a
                            think block; everything up to the last </think>
                            is dropped, as the R1 templates do) */
} PonderMessage;

/* Renders a conversation in the model's R1 chat format, ending with the
 * generation prompt "<｜Assistant｜><think>\n" when add_generation_prompt.
 * *out_text is malloc'd; free with ponder_free(). */
PonderStatus      ponder_model_render_chat    (const PonderModel   *model,
                                               const PonderMessage *messages,
                                               size_t               n_messages,
                                               bool                 add_generation_prompt,
                                               char               **out_text,
                                               PonderError         *error);

/* ---- Sessions ----------------------------------------------------------- */

typedef struct
{
  uint32_t n_ctx;     /* context window in tokens; 0 = min (training context, 8192) */
  int      n_threads; /* CPU worker threads; 0 = one per core */
} PonderSessionParams;

PonderSessionParams ponder_session_params_default (void);

PonderStatus      ponder_session_new          (PonderModel               *model,
                                               const PonderSessionParams *params,
                                               PonderSession            **out_session,
                                               PonderError               *error);
void              ponder_session_free         (PonderSession             *session);
uint32_t          ponder_session_n_ctx        (const PonderSession       *session);

typedef struct
{
  float    temperature;     /* 0 = greedy */
  int32_t  top_k;           /* 0 = off */
  float    top_p;           /* 1 = off */
  float    min_p;           /* 0 = off */
  float    repeat_penalty;  /* 1 = off */
  int32_t  repeat_last_n;   /* tokens looked back for the penalty */
  uint64_t seed;
} PonderSamplerParams;

/* DeepSeek's recommendation for R1: temperature 0.6, top-p 0.95. */
PonderSamplerParams ponder_sampler_params_default (void);

typedef enum
{
  PONDER_PIECE_REASONING,
  PONDER_PIECE_ANSWER,
} PonderPieceKind;

/* Called on the generating thread with each complete UTF-8 piece. Return
 * false to stop generating (the same as a cancel). */
typedef bool (*PonderPieceFunc) (PonderPieceKind kind,
                                 const char     *text,
                                 size_t          len,
                                 void           *user_data);

typedef enum
{
  PONDER_STOP_END_OF_TURN,   /* the model ended its answer */
  PONDER_STOP_MAX_TOKENS,
  PONDER_STOP_CANCELLED,
  PONDER_STOP_CONTEXT_FULL,
} PonderStopReason;

typedef struct
{
  PonderSamplerParams sampling;
  int32_t             max_tokens;       /* 0 = until the context is full */
  int32_t             reasoning_budget; /* reasoning tokens before the think
                                           block is closed; -1 = unlimited */
  bool                skip_reasoning;   /* start with an empty think block */
  PonderPieceFunc     on_piece;
  void               *user_data;
  bool                ignore_end_of_generation; /* benchmarks: generate exactly
                                                   max_tokens, past EOS */
} PonderGenerateParams;

PonderGenerateParams ponder_generate_params_default (void);

typedef struct
{
  uint32_t         n_prompt_tokens;
  uint32_t         n_reused_tokens;   /* prompt tokens found in the KV cache */
  uint32_t         n_generated_tokens;
  uint32_t         n_reasoning_tokens;
  double           time_to_first_token_s;
  double           reasoning_time_s;
  double           prefill_tokens_per_s;
  double           decode_tokens_per_s;
  PonderStopReason stop_reason;
  uint32_t         n_device_picks;    /* tokens picked from what the GPU reduced the
                                         logits to (the argmax when greedy, else the
                                         best 64 and their softmax normaliser), so
                                         that the logits were not read back */
  uint32_t         n_replayed_steps;  /* decode steps a GPU ran from a command buffer
                                         recorded for an earlier token */
  uint32_t         n_recorded_steps;  /* decode steps recorded anew on a GPU */
  double           replay_host_ms;    /* mean host time of a replayed and of a */
  double           record_host_ms;    /* recorded step, until its submission */
} PonderStats;

/* Renders messages with the chat template, reuses the longest cached token
 * prefix, and generates the assistant's turn, streaming pieces. */
PonderStatus      ponder_session_generate_chat   (PonderSession              *session,
                                                  const PonderMessage        *messages,
                                                  size_t                      n_messages,
                                                  const PonderGenerateParams *params,
                                                  PonderStats                *out_stats,
                                                  PonderError                *error);

/* The same from raw prompt tokens (BOS included by the caller). The reasoning
 * splitter starts in the answer state unless the prompt ends inside an open
 * think block. */
PonderStatus      ponder_session_generate_tokens (PonderSession              *session,
                                                  const int32_t              *prompt,
                                                  size_t                      n_prompt,
                                                  const PonderGenerateParams *params,
                                                  PonderStats                *out_stats,
                                                  PonderError                *error);

/* Evaluates tokens (reusing the cached prefix) and writes the logits of
 * every position to out_logits (n_tokens * n_vocab floats). */
PonderStatus      ponder_session_eval_logits     (PonderSession              *session,
                                                  const int32_t              *tokens,
                                                  size_t                      n_tokens,
                                                  float                      *out_logits,
                                                  PonderError                *error);

/* Thread-safe: stops the running generation at the next token. */
void              ponder_session_cancel          (PonderSession              *session);

/* Thread-safe: closes the think block now and lets the model answer. */
void              ponder_session_end_reasoning   (PonderSession              *session);

/* Forgets the cached tokens. */
void              ponder_session_reset           (PonderSession              *session);

/* Compute devices (Vulkan). */
typedef enum
{
  PONDER_DEVICE_OTHER,
  PONDER_DEVICE_DISCRETE,
  PONDER_DEVICE_INTEGRATED,
  PONDER_DEVICE_VIRTUAL,
  PONDER_DEVICE_CPU,        /* a CPU implementation such as Mesa's lavapipe */
} PonderDeviceKind;

typedef struct
{
  char             name[256];
  PonderDeviceKind kind;
  uint64_t         memory_bytes;   /* largest device-local heap */
  uint32_t         subgroup_size;
  bool             has_float16;    /* shaderFloat16 */
  bool             has_storage16;  /* 16-bit storage buffers */
  bool             has_int8_dot;   /* shaderIntegerDotProduct */
  bool             is_default;     /* the one the Vulkan backend picks first */
} PonderDeviceInfo;

/* Writes up to max devices to out (which may be NULL when max is 0) and
 * returns how many exist. Returns 0 with error saying why ("no Vulkan loader
 * found", "no Vulkan device", built without Vulkan) when there are none.
 * Any thread; it opens and closes its own Vulkan instance. */
size_t            ponder_list_devices (PonderDeviceInfo *out,
                                       size_t            max,
                                       PonderError      *error);

/* ---- Memory plan ---------------------------------------------------------- */

typedef struct
{
  uint32_t          n_ctx;           /* 0 = the session default: min (training context, 8192) */
  PonderBackendKind backend;         /* AUTO: where ponder_model_load() would run it */
  uint64_t          available_bytes; /* memory to plan against; 0 = what the system has
                                        available now (or the Vulkan device's memory) */
  int32_t           host_expert_layers; /* deepseek2 on Vulkan: the routed experts of
                                           the last N MoE layers in system memory; -1:
                                           as many as needed for the rest to fit */
  int32_t           device_index;    /* the Vulkan device to plan for (-1: the one
                                        a load would choose) */
  uint32_t          n_devices;       /* Vulkan, a dense model over several devices (as
                                        PonderModelParams.devices); available_bytes
                                        then caps each one */
  int32_t           devices[PONDER_MAX_DEVICES];
  PonderKvType      kv_type;         /* the cache asked for (as PonderModelParams) */
} PonderPlanParams;

PonderPlanParams ponder_plan_params_default (void);

typedef struct
{
  /* What the file is (from its metadata; no weights are read). */
  char              name[256];            /* general.name, or the file name */
  char              architecture[32];
  char              file_type[32];        /* "Q4_K_M", ... best guess */
  uint64_t          n_params;
  uint64_t          file_size_bytes;      /* all split parts */
  uint32_t          n_ctx_train;
  uint32_t          n_layers;
  /* Where and how much, for a session of n_ctx positions. */
  PonderBackendKind backend;              /* CPU or VULKAN, never AUTO */
  char              device_name[256];     /* "CPU (system memory)" or the Vulkan device */
  uint32_t          n_ctx;
  uint64_t          weight_bytes;         /* tensors mapped from the file, plus weights
                                             converted at load (deepseek2 attn_kv_b) */
  PonderKvType      kv_type;              /* the cache's type: F32 on Vulkan for now */
  uint64_t          kv_bytes_per_token;   /* of kv_type (deepseek2: the latent) */
  uint64_t          kv_bytes;             /* n_ctx positions, with their token ids */
  uint64_t          scratch_bytes;        /* activations of one batch, matmul scratch,
                                             logits: what the session allocates up front */
  uint64_t          total_bytes;          /* weight_bytes + kv_bytes + scratch_bytes */
  /* deepseek2 on Vulkan: the routed experts of the last host_expert_layers
   * MoE layers (host_expert_bytes) stay in system memory, run by the CPU;
   * the device holds device_bytes = total_bytes - host_expert_bytes
   * - cpu_layer_bytes. */
  uint32_t          host_expert_layers;
  uint64_t          host_expert_bytes;
  /* Dense models on Vulkan: the first cpu_layers layers (their weights and
   * cache, cpu_layer_bytes) run on the CPU when the device cannot hold all. */
  uint32_t          cpu_layers;
  uint64_t          cpu_layer_bytes;
  uint64_t          device_bytes;
  uint64_t          available_bytes;      /* what it was planned against; 0 = unknown */
  bool              fits;                 /* device_bytes <= available_bytes (true if
                                             unknown) */
  uint32_t          max_fit_ctx;          /* the longest context that fits, a multiple of 256
                                             up to n_ctx_train; 0 if not even 256 fits */
  /* With several devices: each one's layers (from its first to the next
   * one's), what it holds (layers, their cache, the head on the last, the
   * scratch) and its memory; fits then says whether every share fits. */
  uint32_t          n_devices;
  uint32_t          device_first_layer[PONDER_MAX_DEVICES];
  uint64_t          device_share_bytes[PONDER_MAX_DEVICES];
  uint64_t          device_memory_bytes[PONDER_MAX_DEVICES];
} PonderModelPlan;

/* Plans a load of path from the GGUF metadata alone: opens the file (all
 * split parts) and checks its hyperparameters, but reads no weights. Any
 * thread. Errors are those ponder_model_load() would give for the same
 * metadata (IO, FORMAT, UNSUPPORTED). */
PonderStatus      ponder_model_plan           (const char              *path,
                                               const PonderPlanParams  *params,
                                               PonderModelPlan         *out_plan,
                                               PonderError             *error);

#ifdef __cplusplus
}
#endif
