/* plan.c: how much memory a load would take, from the GGUF metadata alone.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The app asks before it loads, so that a model that cannot fit is refused
 * with the numbers instead of thrashing the machine. The sizes follow what
 * ponder_model_load() and ponder_session_new() allocate: the mapped tensors
 * (all of them are touched at load), the weights deepseek2's legacy layout
 * converts, the KV cache of n_ctx positions (F32 on a Vulkan device, the
 * type asked for on the CPU), and the session's up-front
 * buffers for one batch of PONDER_BATCH_TOKENS. Small per-call buffers (the
 * MoE arena, rope tables) are left out; they are kilobytes to a few MiB.
 */
#include "session-private.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "quant.h"

#define PLAN_CTX_STEP 256u

PonderPlanParams
ponder_plan_params_default (void)
{
  PonderPlanParams params = { .backend = PONDER_BACKEND_AUTO, .host_expert_layers = -1,
                              .device_index = -1 };

  return params;
}

/* MemAvailable counts reclaimable page cache, which is where the mapped
 * weights will live; MemFree would refuse loads that work. */
static uint64_t
system_available_bytes (void)
{
  FILE *f = fopen ("/proc/meminfo", "r");
  char line[256];
  uint64_t kib = 0;
  long pages, page_size;

  if (f != NULL)
    {
      while (fgets (line, sizeof line, f) != NULL)
        if (sscanf (line, "MemAvailable: %" SCNu64 " kB", &kib) == 1)
          break;
      fclose (f);
      if (kib > 0)
        return kib * 1024;
    }
  pages = sysconf (_SC_AVPHYS_PAGES);
  page_size = sysconf (_SC_PAGESIZE);
  return pages > 0 && page_size > 0 ? (uint64_t) pages * (uint64_t) page_size : 0;
}

/* deepseek2 files without attn_k_b/attn_v_b carry attn_kv_b, which the
 * loader re-lays out into two new buffers of the same element count (F32
 * stays F32, anything else becomes F16). */
static uint64_t
converted_bytes (const PonderGgufFile *file,
                 const PonderHparams  *hp)
{
  uint64_t total = 0;
  char name[64];

  if (hp->arch != PONDER_ARCH_DEEPSEEK2)
    return 0;
  for (uint32_t il = 0; il < hp->n_layers; il++)
    {
      const PonderGgufTensor *t;
      uint64_t esz;

      snprintf (name, sizeof name, "blk.%u.attn_k_b.weight", il);
      if (ponder_gguf_find_tensor (file, name) != NULL)
        continue;
      snprintf (name, sizeof name, "blk.%u.attn_kv_b.weight", il);
      t = ponder_gguf_find_tensor (file, name);
      if (t == NULL)
        continue;
      esz = t->type == PONDER_TYPE_F32 ? 4 : 2;
      total += (uint64_t) hp->n_head * hp->kv_lora_rank * (hp->qk_nope + hp->head_dim_v) * esz;
    }
  return total;
}

/* The floats ponder_forward_init() and its deepseek2 part allocate, the CPU
 * backend's prepared inputs and RoPE table, and the logits. */
static uint64_t
scratch_bytes (const PonderHparams *hp)
{
  const uint64_t T = PONDER_BATCH_TOKENS;
  uint64_t n_q = (uint64_t) hp->n_head * hp->head_dim_k;
  uint64_t n_k = (uint64_t) hp->n_head_kv * hp->head_dim_k;
  uint64_t n_v = (uint64_t) hp->n_head_kv * hp->head_dim_v;
  uint64_t n_o = (uint64_t) hp->n_head * hp->head_dim_v;
  uint64_t n_xn = n_o > hp->n_embd ? n_o : hp->n_embd;
  uint64_t max_n_in = ponder_model_max_n_in (hp);
  uint64_t floats = T * (2 * (uint64_t) hp->n_embd + n_xn + n_q + n_k + n_v
                         + 2 * (uint64_t) hp->n_ff);
  uint64_t bytes;

  if (hp->arch == PONDER_ARCH_DEEPSEEK2)
    {
      uint64_t H = hp->n_head, c = hp->kv_lora_rank, r = hp->qk_rope;
      uint64_t n_used = hp->n_expert_used ? hp->n_expert_used : 1;

      floats += T * ((hp->q_lora_rank ? hp->q_lora_rank : 1) + (c + r) + H * hp->qk_nope
                     + H * c + H * (c + r) + H * c + (hp->n_expert ? hp->n_expert : 1) + n_used);
      floats += T * n_used;                                    /* expert ids (int32) */
      floats += 3 * (uint64_t) hp->n_expert + hp->n_expert_groups + 1;  /* routing */
    }
  bytes = floats * sizeof (float);
  bytes += PONDER_MATMUL_MAX_MULTI * T * (max_n_in * sizeof (float) + 256);
  bytes += (T * max_n_in + 2) * sizeof (float);
  bytes += (uint64_t) hp->n_vocab * sizeof (float);
  return bytes;
}

/* The routed experts' bytes of layer il (0 for a dense layer). */
static uint64_t
layer_expert_bytes (const PonderGgufFile *file,
                    uint32_t              il)
{
  static const char *const names[] = { "ffn_gate_exps", "ffn_up_exps", "ffn_down_exps" };
  uint64_t bytes = 0;

  for (size_t i = 0; i < sizeof names / sizeof *names; i++)
    {
      char name[64];
      const PonderGgufTensor *t;

      snprintf (name, sizeof name, "blk.%u.%s.weight", il, names[i]);
      t = ponder_gguf_find_tensor (file, name);
      if (t != NULL)
        bytes += t->n_bytes;
    }
  return bytes;
}

static uint64_t
all_weight_bytes (const PonderGgufFile *file)
{
  uint64_t bytes = 0;

  for (size_t i = 0; i < ponder_gguf_n_tensors (file); i++)
    bytes += ponder_gguf_tensor (file, i)->n_bytes;
  return bytes;
}

/* The cache of n_ctx positions. */
static uint64_t
kv_bytes (const PonderHparams *hp,
          uint32_t             n_ctx,
          PonderKvType         kv_type)
{
  uint32_t k_row, v_row;

  ponder_model_kv_rows (hp, &k_row, &v_row);
  /* Each cached position also keeps its token id for prefix reuse. */
  return (ponder_kv_cache_bytes_per_token (kv_type, hp->n_layers, k_row, v_row)
          + sizeof (int32_t)) * (uint64_t) n_ctx;
}

PonderKvType
ponder_plan_device_kv_type (const PonderHparams *hp,
                            PonderKvType         asked)
{
  uint32_t k_row, v_row;

  ponder_model_kv_rows (hp, &k_row, &v_row);
  return ponder_vk_kv_fits (asked, k_row, v_row) ? asked : PONDER_KV_F32;
}

/* The tensors of layer il ("blk.<il>."), in bytes. */
static uint64_t
layer_tensor_bytes (const PonderGgufFile *file,
                    uint32_t              il)
{
  char prefix[32];
  size_t len = (size_t) snprintf (prefix, sizeof prefix, "blk.%u.", il);
  uint64_t bytes = 0;

  for (size_t i = 0; i < ponder_gguf_n_tensors (file); i++)
    {
      const PonderGgufTensor *t = ponder_gguf_tensor (file, i);

      if (strncmp (t->name, prefix, len) == 0)
        bytes += t->n_bytes;
    }
  return bytes;
}

uint32_t
ponder_plan_cpu_layers (const PonderGgufFile *file,
                        const PonderHparams  *hp,
                        uint32_t              n_ctx,
                        PonderKvType          kv_type,
                        uint64_t              available,
                        uint64_t             *out_cpu_bytes)
{
  uint64_t need = all_weight_bytes (file) + kv_bytes (hp, n_ctx, kv_type) + scratch_bytes (hp);
  uint64_t kv_layer = (kv_bytes (hp, n_ctx, kv_type) - sizeof (int32_t) * (uint64_t) n_ctx)
                      / (hp->n_layers ? hp->n_layers : 1);
  uint64_t cpu_bytes = 0;
  uint32_t h = 0;

  /* The first layers go to the CPU (the device keeps the head): at least
   * one layer stays on the device, or the plan is that none fits. */
  while (available > 0 && need > available && h + 1 < hp->n_layers)
    {
      uint64_t bytes = layer_tensor_bytes (file, h) + kv_layer;

      cpu_bytes += bytes;
      need -= bytes;
      h++;
    }
  if (out_cpu_bytes != NULL)
    *out_cpu_bytes = cpu_bytes;
  return h;
}

int32_t
ponder_plan_auto_device (const PonderDeviceInfo *devices,
                         size_t                  n)
{
  /* A CPU implementation of Vulkan (lavapipe) is far slower than the CPU
   * backend on the same cores; only a real GPU is worth it. */
  for (size_t i = 0; i < n; i++)
    if (devices[i].is_default
        && (devices[i].kind == PONDER_DEVICE_DISCRETE
            || devices[i].kind == PONDER_DEVICE_INTEGRATED))
      return (int32_t) i;
  return -1;
}

uint32_t
ponder_plan_place_experts (const PonderGgufFile *file,
                           const PonderHparams  *hp,
                           uint32_t              n_ctx,
                           PonderKvType          kv_type,
                           uint64_t              available,
                           int32_t               host_layers,
                           uint64_t             *out_host_bytes)
{
  uint64_t need = all_weight_bytes (file) + converted_bytes (file, hp)
                  + kv_bytes (hp, n_ctx, kv_type) + scratch_bytes (hp);
  uint64_t host_bytes = 0;
  uint32_t n_moe = hp->n_layers > hp->n_leading_dense ? hp->n_layers - hp->n_leading_dense : 0;
  uint32_t h = 0;

  /* From the last layer back: the first layers' experts keep the device. */
  while (h < n_moe
         && (host_layers >= 0 ? h < (uint32_t) host_layers : available > 0 && need > available))
    {
      uint64_t bytes = layer_expert_bytes (file, hp->n_layers - 1 - h);

      host_bytes += bytes;
      need -= bytes;
      h++;
    }
  if (out_host_bytes != NULL)
    *out_host_bytes = host_bytes;
  return h;
}

static void
copy_string (char       *dst,
             size_t      size,
             const char *src,
             size_t      len)
{
  if (len >= size)
    len = size - 1;
  memcpy (dst, src, len);
  dst[len] = '\0';
}

static PonderStatus
describe (const char           *path,
          const PonderGgufFile *file,
          const PonderHparams  *hp,
          PonderModelPlan      *plan)
{
  PonderGgufString name = { NULL, 0 };
  char type_buf[32];
  const char *base = strrchr (path, '/');
  const char *file_type = ponder_model_guess_file_type (file, type_buf, sizeof type_buf);

  if (ponder_gguf_get_string (file, "general.name", &name) && name.len > 0)
    copy_string (plan->name, sizeof plan->name, name.data, name.len);
  else
    copy_string (plan->name, sizeof plan->name, base ? base + 1 : path,
                 strlen (base ? base + 1 : path));
  copy_string (plan->architecture, sizeof plan->architecture, hp->arch_name,
               strlen (hp->arch_name));
  copy_string (plan->file_type, sizeof plan->file_type, file_type, strlen (file_type));
  plan->file_size_bytes = ponder_gguf_total_bytes (file);
  plan->n_ctx_train = hp->n_ctx_train;
  plan->n_layers = hp->n_layers;
  for (size_t i = 0; i < ponder_gguf_n_tensors (file); i++)
    {
      const PonderGgufTensor *t = ponder_gguf_tensor (file, i);

      plan->n_params += t->n_elements;
      plan->weight_bytes += t->n_bytes;
    }
  return PONDER_OK;
}

static PonderStatus
choose_device (const PonderPlanParams *params,
               PonderModelPlan        *plan,
               uint64_t               *out_available,
               PonderError            *error)
{
  PonderDeviceInfo devices[16];
  size_t n = 0;
  int32_t chosen = -1;

  if (params->backend == PONDER_BACKEND_AUTO)
    {
      n = ponder_list_devices (devices, 16, NULL);
      chosen = ponder_plan_auto_device (devices, n < 16 ? n : 16);
    }
  if (params->backend == PONDER_BACKEND_CPU
      || (params->backend == PONDER_BACKEND_AUTO && chosen < 0))
    {
      plan->backend = PONDER_BACKEND_CPU;
      copy_string (plan->device_name, sizeof plan->device_name, "CPU (system memory)",
                   strlen ("CPU (system memory)"));
      *out_available = params->available_bytes ? params->available_bytes
                                               : system_available_bytes ();
      return PONDER_OK;
    }
  if (chosen < 0)
    n = ponder_list_devices (devices, 16, error);
  if (n == 0)
    return error != NULL && error->code != PONDER_OK
           ? error->code : ponder_error_set (error, PONDER_ERROR_DEVICE, "no Vulkan device");
  if (n > 16)
    n = 16;
  plan->backend = PONDER_BACKEND_VULKAN;
  if (params->device_index >= (int32_t) n)
    return ponder_error_set (error, PONDER_ERROR_INVALID_ARGUMENT,
                             "there is no device %d (%zu devices)", params->device_index, n);
  for (size_t i = 0; i < n; i++)
    if (params->device_index >= 0 ? (size_t) params->device_index == i
                                  : devices[i].is_default || i == 0)
      {
        copy_string (plan->device_name, sizeof plan->device_name, devices[i].name,
                     strlen (devices[i].name));
        *out_available = devices[i].memory_bytes;
      }
  if (params->available_bytes)
    *out_available = params->available_bytes;
  return PONDER_OK;
}

/* The longest context every device of a split has room for: each holds
 * the cache of its own layers. */
static uint32_t
split_max_fit_ctx (const PonderModelPlan *plan,
                   const PonderHparams   *hp)
{
  uint64_t best = hp->n_ctx_train;

  for (uint32_t d = 0; d < plan->n_devices; d++)
    {
      uint32_t end = d + 1 < plan->n_devices ? plan->device_first_layer[d + 1] : hp->n_layers;
      uint64_t per_pos = plan->kv_bytes_per_token / hp->n_layers
                         * (end - plan->device_first_layer[d]);
      uint64_t fixed = plan->device_share_bytes[d] - per_pos * plan->n_ctx;
      uint64_t have = plan->device_memory_bytes[d];

      if (have == 0 || per_pos == 0)
        continue;
      if (fixed >= have)
        return 0;
      if ((have - fixed) / per_pos < best)
        best = (have - fixed) / per_pos;
    }
  return (uint32_t) (best / PLAN_CTX_STEP * PLAN_CTX_STEP);
}

static PonderStatus plan_split (const PonderGgufFile *file, const PonderHparams *hp,
                                const PonderPlanParams *params, PonderModelPlan *plan,
                                PonderError *error);

PonderStatus
ponder_model_plan (const char             *path,
                   const PonderPlanParams *params,
                   PonderModelPlan        *out_plan,
                   PonderError            *error)
{
  PonderPlanParams defaults = ponder_plan_params_default ();
  PonderGgufFile *file = NULL;
  const PonderGgufTensor *embd;
  PonderHparams hp;
  PonderStatus status;
  uint32_t k_row, v_row;
  uint64_t available = 0, fixed, per_pos, cpu_kv_per_pos;

  if (path == NULL || out_plan == NULL)
    return ponder_error_set (error, PONDER_ERROR_INVALID_ARGUMENT,
                             "ponder_model_plan: path and out_plan must be set");
  if (params == NULL)
    params = &defaults;
  memset (out_plan, 0, sizeof *out_plan);
  if (ponder_kv_type_name (params->kv_type) == NULL)
    return ponder_error_set (error, PONDER_ERROR_INVALID_ARGUMENT,
                             "ponder_model_plan: unknown KV cache type %d",
                             (int) params->kv_type);

  status = ponder_gguf_open (path, &file, error);
  if (status != PONDER_OK)
    return status;
  status = ponder_model_read_hparams (file, &hp, error);
  if (status != PONDER_OK)
    {
      ponder_error_prefix (error, "%s: ", path);
      ponder_gguf_close (file);
      return status;
    }
  embd = ponder_gguf_find_tensor (file, "token_embd.weight");
  if (embd == NULL || embd->n_dims != 2 || embd->ne[1] > UINT32_MAX)
    {
      ponder_gguf_close (file);
      return ponder_error_set (error, PONDER_ERROR_FORMAT,
                               "%s: token_embd.weight is missing or not a matrix", path);
    }
  hp.n_vocab = (uint32_t) embd->ne[1];

  describe (path, file, &hp, out_plan);
  out_plan->weight_bytes += converted_bytes (file, &hp);

  status = choose_device (params, out_plan, &available, error);
  out_plan->n_ctx = params->n_ctx;
  if (out_plan->n_ctx == 0)
    out_plan->n_ctx = hp.n_ctx_train < 8192 ? hp.n_ctx_train : 8192;
  /* as ponder_model_load decides it: a device without the type, F32 */
  out_plan->kv_type = out_plan->backend == PONDER_BACKEND_VULKAN
                      ? ponder_plan_device_kv_type (&hp, params->kv_type) : params->kv_type;
  if (status == PONDER_OK && hp.arch == PONDER_ARCH_DEEPSEEK2
      && out_plan->backend == PONDER_BACKEND_VULKAN)
    out_plan->host_expert_layers
      = ponder_plan_place_experts (file, &hp, out_plan->n_ctx, out_plan->kv_type, available,
                                   params->host_expert_layers, &out_plan->host_expert_bytes);
  else if (status == PONDER_OK && out_plan->backend == PONDER_BACKEND_VULKAN
           && params->n_devices >= 2)
    status = plan_split (file, &hp, params, out_plan, error);
  else if (status == PONDER_OK && out_plan->backend == PONDER_BACKEND_VULKAN)
    out_plan->cpu_layers = ponder_plan_cpu_layers (file, &hp, out_plan->n_ctx, out_plan->kv_type,
                                                   available, &out_plan->cpu_layer_bytes);
  ponder_gguf_close (file);
  if (status != PONDER_OK)
    return status;

  ponder_model_kv_rows (&hp, &k_row, &v_row);
  out_plan->kv_bytes_per_token = ponder_kv_cache_bytes_per_token (out_plan->kv_type, hp.n_layers,
                                                                  k_row, v_row);
  /* Each cached position also keeps its token id for prefix reuse. */
  per_pos = out_plan->kv_bytes_per_token + sizeof (int32_t);
  out_plan->kv_bytes = per_pos * out_plan->n_ctx;
  out_plan->scratch_bytes = scratch_bytes (&hp);
  out_plan->total_bytes = out_plan->weight_bytes + out_plan->scratch_bytes + out_plan->kv_bytes;
  out_plan->device_bytes = out_plan->total_bytes - out_plan->host_expert_bytes
                           - out_plan->cpu_layer_bytes;
  /* The CPU layers' cache stays in system memory at any context. */
  cpu_kv_per_pos = out_plan->kv_bytes_per_token / (hp.n_layers ? hp.n_layers : 1)
                   * out_plan->cpu_layers;
  per_pos -= cpu_kv_per_pos;
  fixed = out_plan->weight_bytes + out_plan->scratch_bytes - out_plan->host_expert_bytes
          - (out_plan->cpu_layer_bytes - cpu_kv_per_pos * out_plan->n_ctx);
  out_plan->available_bytes = available;
  out_plan->fits = available == 0 || out_plan->device_bytes <= available;
  /* Split: each device against its own memory. */
  if (out_plan->n_devices > 0)
    out_plan->fits = true;
  for (uint32_t d = 0; d < out_plan->n_devices; d++)
    if (out_plan->device_memory_bytes[d] > 0
        && out_plan->device_share_bytes[d] > out_plan->device_memory_bytes[d])
      out_plan->fits = false;

  if (available == 0)
    out_plan->max_fit_ctx = hp.n_ctx_train;
  else if (fixed < available)
    {
      uint64_t n = (available - fixed) / per_pos;

      if (n > hp.n_ctx_train)
        n = hp.n_ctx_train;
      out_plan->max_fit_ctx = (uint32_t) (n / PLAN_CTX_STEP * PLAN_CTX_STEP);
    }
  if (out_plan->n_devices > 0)
    out_plan->max_fit_ctx = split_max_fit_ctx (out_plan, &hp);
  return PONDER_OK;
}

/* ---- Layers over several devices ------------------------------------------ */

/* The output head's bytes (the embedding table when the two are tied). */
static uint64_t
head_bytes (const PonderGgufFile *file)
{
  const PonderGgufTensor *t = ponder_gguf_find_tensor (file, "output.weight");

  if (t == NULL)
    t = ponder_gguf_find_tensor (file, "token_embd.weight");
  return t != NULL ? t->n_bytes : 0;
}

uint64_t
ponder_plan_split_share (const PonderGgufFile *file,
                         const PonderHparams  *hp,
                         uint32_t              first_layer,
                         uint32_t              end_layer,
                         uint32_t              n_ctx,
                         PonderKvType          kv_type)
{
  uint64_t kv_layer = (kv_bytes (hp, n_ctx, kv_type) - sizeof (int32_t) * (uint64_t) n_ctx)
                      / (hp->n_layers ? hp->n_layers : 1);
  uint64_t bytes = scratch_bytes (hp);

  for (uint32_t il = first_layer; il < end_layer; il++)
    bytes += layer_tensor_bytes (file, il) + kv_layer;
  if (end_layer == hp->n_layers)
    bytes += head_bytes (file);
  return bytes;
}

PonderStatus
ponder_plan_split_layers (const PonderGgufFile *file,
                          const PonderHparams  *hp,
                          uint32_t              first_layer,
                          uint32_t              n_devices,
                          const uint64_t       *budgets,
                          uint32_t             *out_end,
                          PonderError          *error)
{
  uint32_t n_layers = hp->n_layers;
  long double total = 0.0L, budget_total = 0.0L, budget_seen = 0.0L, done = 0.0L;
  uint32_t end = first_layer;

  if (n_devices == 0 || first_layer >= n_layers || n_layers - first_layer < n_devices)
    return ponder_error_set (error, PONDER_ERROR_INVALID_ARGUMENT,
                             "%u layers cannot be split over %u devices",
                             first_layer < n_layers ? n_layers - first_layer : 0, n_devices);
  for (uint32_t il = first_layer; il < n_layers; il++)
    total += layer_tensor_bytes (file, il);
  total += head_bytes (file);
  for (uint32_t d = 0; d < n_devices; d++)
    budget_total += budgets[d];
  for (uint32_t d = 0; d + 1 < n_devices; d++)
    {
      /* Where this device's share of the bytes should end, had every device
       * a share in proportion to its memory (equal ones without figures). */
      long double target;
      uint32_t last_allowed = n_layers - (n_devices - 1 - d);

      budget_seen += budget_total > 0.0L ? budgets[d] : 1.0L;
      target = total * budget_seen / (budget_total > 0.0L ? budget_total : n_devices);
      /* At least one layer; then more while that brings the end closer. */
      done += layer_tensor_bytes (file, end);
      end++;
      while (end < last_allowed)
        {
          long double next = done + layer_tensor_bytes (file, end);

          if (fabsl (next - target) >= fabsl (done - target))
            break;
          done = next;
          end++;
        }
      out_end[d] = end;
    }
  out_end[n_devices - 1] = n_layers;
  return PONDER_OK;
}

/* Each device's layers and share for a dense model over params->devices. */
static PonderStatus
plan_split (const PonderGgufFile   *file,
            const PonderHparams    *hp,
            const PonderPlanParams *params,
            PonderModelPlan        *plan,
            PonderError            *error)
{
  PonderDeviceInfo devices[16];
  size_t n = ponder_list_devices (devices, 16, error);
  uint32_t ends[PONDER_MAX_DEVICES], first = 0;
  PonderStatus status;

  if (params->n_devices > PONDER_MAX_DEVICES || hp->arch == PONDER_ARCH_DEEPSEEK2)
    return ponder_error_set (error, PONDER_ERROR_UNSUPPORTED,
                             "a plan over %u devices of a %s model", params->n_devices,
                             hp->arch_name);
  for (uint32_t d = 0; d < params->n_devices; d++)
    {
      if (params->devices[d] < 0 || (size_t) params->devices[d] >= n || n > 16)
        return ponder_error_set (error, PONDER_ERROR_INVALID_ARGUMENT,
                                 "there is no device %d (%zu devices)", params->devices[d], n);
      plan->device_memory_bytes[d] = devices[params->devices[d]].memory_bytes;
      if (params->available_bytes > 0 && params->available_bytes < plan->device_memory_bytes[d])
        plan->device_memory_bytes[d] = params->available_bytes;
    }
  status = ponder_plan_split_layers (file, hp, 0, params->n_devices, plan->device_memory_bytes,
                                     ends, error);
  for (uint32_t d = 0; d < params->n_devices && status == PONDER_OK; d++)
    {
      plan->device_first_layer[d] = first;
      plan->device_share_bytes[d] = ponder_plan_split_share (file, hp, first, ends[d],
                                                             plan->n_ctx, plan->kv_type);
      first = ends[d];
    }
  plan->n_devices = status == PONDER_OK ? params->n_devices : 0;
  return status;
}
