/* model-load.c: ponder_model_load and ponder_model_free.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Opening the file, binding the weights, reading them in (into huge-page
 * memory, rearranged for the interleaved kernels, when the CPU runs the
 * model) and placing them on Vulkan devices when asked or found.
 */
#include "session-private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "error.h"
#include "quant.h"

/* ---- Loading --------------------------------------------------------------- */

/* Reads one byte per page of every tensor so the weights are resident before
 * the first token, reporting progress; the mapping makes this the real load. */
static PonderStatus
touch_weights (PonderModel             *model,
               const PonderModelParams *params,
               PonderError             *error)
{
  const uint64_t report_every = 32u << 20;
  uint64_t total = 0, done = 0, since_report = 0;
  volatile uint8_t sink = 0;
  size_t n = ponder_gguf_n_tensors (model->file);
  long page = sysconf (_SC_PAGESIZE);

  if (page <= 0)
    page = 4096;
  for (size_t i = 0; i < n; i++)
    total += ponder_gguf_tensor (model->file, i)->n_bytes;
  for (size_t i = 0; i < n; i++)
    {
      const PonderGgufTensor *t = ponder_gguf_tensor (model->file, i);
      uintptr_t start = (uintptr_t) t->data & ~(uintptr_t) (page - 1);

      /* Ask for the whole tensor at once so the kernel reads ahead in large
       * requests instead of faulting page by page; only advice. */
      if (t->n_bytes > 0)
        posix_madvise ((void *) start, (uintptr_t) t->data + t->n_bytes - start,
                       POSIX_MADV_WILLNEED);
      for (uint64_t off = 0; off < t->n_bytes; off += 4096)
        sink ^= t->data[off];
      done += t->n_bytes;
      since_report += t->n_bytes;
      if (params->progress != NULL && (since_report >= report_every || i + 1 == n))
        {
          since_report = 0;
          if (!params->progress (total ? (float) ((double) done / total) : 1.0f,
                                 params->progress_data))
            return ponder_error_set (error, PONDER_ERROR_CANCELLED, "loading was cancelled");
        }
    }
  (void) sink;
  return PONDER_OK;
}

static bool
report_move_progress (uint64_t done,
                      uint64_t total,
                      void    *data)
{
  const PonderModelParams *params = data;

  return params->progress (total ? (float) ((double) done / total) : 1.0f,
                           params->progress_data);
}

/* A weight with an interleaved kernel (quant-interleave.c) rearranged
 * for it; only whole 2-D matrices whose memory no other weight reads. */
static void
interleave_weight (PonderWeight *w)
{
  const PonderMatmulKernel *kernel;

  if (w->tensor == NULL || w->n_out % 8 != 0 || w->tensor->n_elements != w->n_in * w->n_out)
    return;
  kernel = ponder_matmul_kernel_interleaved (w->type);
  if (kernel != NULL && ponder_matmul_interleave (w->type, (void *) w->data, w->n_in, w->n_out))
    w->kernel = kernel;
}

/* Once the weights live in memory of our own: the dense matrices whose
 * type has an interleaved layout get it. The tied output is the token
 * table, which embedding reads row by row, and stays as it is. */
static void
interleave_weights (PonderModel *model)
{
  PonderModelWeights *w = &model->weights;

  if (!ponder_gguf_set_writable (model->file, true))
    {
      ponder_gguf_set_writable (model->file, false);  /* the parts it did open */
      return;
    }
  for (uint32_t il = 0; il < w->hp.n_layers; il++)
    {
      PonderLayer *l = &w->layers[il];
      PonderWeight *dense[] = { &l->wq, &l->wk, &l->wv, &l->wo, &l->w_gate, &l->w_up,
                                &l->w_down };

      for (size_t i = 0; i < sizeof dense / sizeof dense[0]; i++)
        interleave_weight (dense[i]);
    }
  if (!w->tied_output)
    interleave_weight (&w->output);
  ponder_gguf_set_writable (model->file, false);
}

/* The weights into huge-page memory (gguf-memory.c) and, there,
 * rearranged for the interleaved kernels; progress from params when given.
 * *moved stays false where the system would not. */
static PonderStatus
move_weights (PonderModel             *model,
              const PonderModelParams *params,
              bool                    *moved,
              PonderError             *error)
{
  PonderStatus status;

  status = ponder_gguf_move_to_memory (model->file,
                                       params != NULL && params->progress != NULL
                                       ? report_move_progress : NULL,
                                       (void *) params, moved, error);
  if (status == PONDER_OK && *moved)
    interleave_weights (model);
  return status;
}

/* For a model the CPU runs: its weights moved, read from the file with
 * progress; where that cannot be done, mapped and touched as for a
 * device. */
static PonderStatus
load_for_cpu (PonderModel             *model,
              const PonderModelParams *params,
              PonderError             *error)
{
  bool moved = false;
  PonderStatus status = move_weights (model, params, &moved, error);

  if (status == PONDER_OK && !moved)
    status = touch_weights (model, params, error);
  return status;
}

static int32_t
find_special (const PonderTokenizer *tok,
              const char            *text,
              int32_t                fallback)
{
  int32_t id = ponder_tokenizer_find_token (tok, text);

  return id >= 0 ? id : fallback;
}

static PonderStatus
describe_model (PonderModel *model,
                const char  *path)
{
  PonderGgufString name = { NULL, 0 };
  const char *base = strrchr (path, '/');
  size_t n = ponder_gguf_n_tensors (model->file);
  const PonderTokenizer *tok = model->tokenizer;

  for (size_t i = 0; i < n; i++)
    {
      const PonderGgufTensor *t = ponder_gguf_tensor (model->file, i);
      model->n_params += t->n_elements;
      model->weight_bytes += t->n_bytes;
    }
  model->bytes_per_token = ponder_model_bytes_per_token_split (model->file, &model->weights,
                                                               &model->routed_bytes_per_token);
  model->file_type = ponder_model_guess_file_type (model->file, model->file_type_buf,
                                                   sizeof model->file_type_buf);
  if (ponder_gguf_get_string (model->file, "general.name", &name) && name.len > 0)
    model->name = strndup (name.data, name.len);
  else
    model->name = strdup (base ? base + 1 : path);
  if (model->name == NULL)
    return PONDER_ERROR_NO_MEMORY;

  model->id_bos = find_special (tok, "<\xef\xbd\x9c" "begin\xe2\x96\x81of\xe2\x96\x81sentence"
                                "\xef\xbd\x9c>", ponder_tokenizer_bos (tok));
  model->id_eos = find_special (tok, "<\xef\xbd\x9c" "end\xe2\x96\x81of\xe2\x96\x81sentence"
                                "\xef\xbd\x9c>", ponder_tokenizer_eos (tok));
  model->id_user = find_special (tok, "<\xef\xbd\x9cUser\xef\xbd\x9c>", -1);
  model->id_assistant = find_special (tok, "<\xef\xbd\x9c" "Assistant\xef\xbd\x9c>", -1);
  model->id_think = find_special (tok, "<think>", -1);
  model->id_think_end = find_special (tok, "</think>", -1);
  return PONDER_OK;
}

/* The Vulkan devices, listed once per load: each listing opens an instance. */
typedef struct
{
  PonderDeviceInfo infos[16];
  size_t           n;
  PonderError      error;   /* why n is 0 */
} DeviceList;

static void
list_devices (DeviceList *list)
{
  memset (&list->error, 0, sizeof list->error);
  list->n = ponder_list_devices (list->infos, 16, &list->error);
  if (list->n > 16)
    list->n = 16;
}

/* A device's memory as the plan may use it: params->device_memory_bytes caps
 * it; 0 when unknown. */
static uint64_t
usable_memory (const PonderModelParams *params,
               uint64_t                 have)
{
  if (params->device_memory_bytes > 0 && (have == 0 || params->device_memory_bytes < have))
    return params->device_memory_bytes;
  return have;
}

/* The memory of device index (-1: the default one); 0 when unknown. */
static uint64_t
device_memory (const DeviceList *list,
               int32_t           index)
{
  for (size_t i = 0; i < list->n; i++)
    if (index >= 0 ? (size_t) index == i : list->infos[i].is_default)
      return list->infos[i].memory_bytes;
  return 0;
}

/* The device memory of each of params->devices, for the split. */
static PonderStatus
device_budgets (const DeviceList        *list,
                const PonderModelParams *params,
                uint64_t                *out_budgets,
                PonderError             *error)
{
  if (list->n == 0)
    {
      if (error != NULL)
        *error = list->error;
      return list->error.code != PONDER_OK ? list->error.code : PONDER_ERROR_DEVICE;
    }
  for (uint32_t d = 0; d < params->n_devices; d++)
    {
      if (params->devices[d] < 0 || (size_t) params->devices[d] >= list->n)
        return ponder_error_set (error, PONDER_ERROR_INVALID_ARGUMENT,
                                 "there is no device %d (%zu devices)", params->devices[d],
                                 list->n);
      out_budgets[d] = list->infos[params->devices[d]].memory_bytes;
    }
  return PONDER_OK;
}

/* The planner's placement on one device, where params leave it open: a
 * dense model's first layers on the CPU, or deepseek2's routed experts of
 * the last layers in system memory, when the device cannot hold them all. */
static void
plan_placement (PonderModel             *model,
                const PonderModelParams *params,
                const DeviceList        *list)
{
  const PonderHparams *hp = &model->weights.hp;
  bool experts = hp->arch == PONDER_ARCH_DEEPSEEK2;
  PonderKvType kv_type = ponder_plan_device_kv_type (hp, params->kv_type);
  uint64_t budget;

  if (experts ? params->host_expert_layers >= 0 : params->n_gpu_layers >= 0)
    return;
  budget = usable_memory (params, device_memory (list, params->device_index));
  if (experts)
    model->host_expert_layers = ponder_plan_place_experts (model->file, hp, ponder_default_ctx (hp),
                                                           kv_type, budget, -1, NULL);
  else
    model->n_host_layers = ponder_plan_cpu_layers (model->file, hp, ponder_default_ctx (hp), kv_type,
                                                   budget, NULL);
}

/* Refuses a split in which some device cannot hold its share, before
 * anything is allocated on any of them. */
static PonderStatus
check_split (const PonderModel       *model,
             const PonderModelParams *params,
             const uint64_t          *budgets,
             const uint32_t          *ends,
             PonderError             *error)
{
  const PonderHparams *hp = &model->weights.hp;
  uint32_t n_ctx = ponder_default_ctx (hp);
  uint32_t first = model->n_host_layers;

  for (uint32_t d = 0; d < params->n_devices; d++)
    {
      uint64_t have = usable_memory (params, budgets[d]), need;

      need = ponder_plan_split_share (model->file, hp, first, ends[d], n_ctx,
                                      ponder_plan_device_kv_type (hp, params->kv_type));
      if (have > 0 && need > have)
        return ponder_error_set (error, PONDER_ERROR_NO_MEMORY,
                                 "device %u of the split (index %d) needs %llu MiB for layers "
                                 "%u-%u at a context of %u, and has %llu MiB", d + 1,
                                 params->devices[d], (unsigned long long) (need >> 20), first,
                                 ends[d] - 1, n_ctx, (unsigned long long) (have >> 20));
      first = ends[d];
    }
  return PONDER_OK;
}

/* Uploads the device layers: after the CPU's (n_gpu_layers), split over
 * params->devices when there are several, the last device with the head.
 * list: the devices when the caller has listed them, else NULL. */
static PonderStatus
load_on_devices (PonderModel             *model,
                 const PonderModelParams *params,
                 const DeviceList        *list,
                 PonderError             *error)
{
  DeviceList own;
  uint32_t n_layers = model->weights.hp.n_layers;
  uint32_t n_devices = params->n_devices >= 2 ? params->n_devices : 1;
  uint32_t ends[PONDER_MAX_DEVICES] = { n_layers };
  uint64_t budgets[PONDER_MAX_DEVICES] = { 0 };
  uint32_t first;
  PonderStatus status = PONDER_OK;

  if (params->n_devices > PONDER_MAX_DEVICES)
    return ponder_error_set (error, PONDER_ERROR_INVALID_ARGUMENT,
                             "%u devices: at most %d", params->n_devices, PONDER_MAX_DEVICES);
  if (params->n_gpu_layers > 0 && (uint32_t) params->n_gpu_layers < n_layers)
    model->n_host_layers = n_layers - (uint32_t) params->n_gpu_layers;
  model->host_expert_layers = params->host_expert_layers > 0
                              ? (uint32_t) params->host_expert_layers : 0;
  if (list == NULL)
    {
      list_devices (&own);
      list = &own;
    }
  if (n_devices == 1)
    plan_placement (model, params, list);
  if (n_devices > 1 && model->weights.hp.arch == PONDER_ARCH_DEEPSEEK2)
    {
      /* The routed experts dominate: every device takes a share of each
       * layer's (expert parallelism), the first one everything else. */
      PonderVkModelParams vkp = { params->devices[0], false, NULL, model->host_expert_layers };
      uint64_t unused[PONDER_MAX_DEVICES];

      status = device_budgets (list, params, unused, error);
      vkp.memory_limit = params->device_memory_bytes;
      vkp.n_expert_devices = n_devices - 1;
      memcpy (vkp.expert_devices, params->devices + 1,
              (n_devices - 1) * sizeof *params->devices);
      if (status == PONDER_OK)
        status = ponder_vk_model_new (&model->weights, &vkp, &model->vk, error);
      if (status == PONDER_OK)
        model->n_expert_devices = n_devices;
      return status;
    }
  if (n_devices > 1)
    {
      status = device_budgets (list, params, budgets, error);
      if (status == PONDER_OK)
        status = ponder_plan_split_layers (model->file, &model->weights.hp,
                                           model->n_host_layers, n_devices, budgets, ends,
                                           error);
      if (status == PONDER_OK)
        status = check_split (model, params, budgets, ends, error);
    }
  first = model->n_host_layers;
  for (uint32_t d = 0; d < n_devices && status == PONDER_OK; d++)
    {
      PonderVkModelParams vkp = { n_devices > 1 ? params->devices[d] : params->device_index,
                                  false, NULL, model->host_expert_layers };
      bool last = d + 1 == n_devices;

      vkp.first_layer = first;
      vkp.end_layer = ends[d];
      vkp.memory_limit = params->device_memory_bytes;
      status = ponder_vk_model_new (&model->weights, &vkp,
                                    last ? &model->vk : &model->vk_split[d], error);
      if (status == PONDER_OK && !last)
        {
          model->vk_split_end[d] = ends[d];
          model->n_vk_split = d + 1;
        }
      if (status != PONDER_OK && n_devices > 1)
        ponder_error_prefix (error, "device %u of %u: ", d + 1, n_devices);
      first = ends[d];
    }
  return status;
}

static void
drop_devices (PonderModel *model)
{
  ponder_vk_model_free (model->vk);
  model->vk = NULL;
  for (uint32_t d = 0; d < model->n_vk_split; d++)
    ponder_vk_model_free (model->vk_split[d]);
  model->n_vk_split = 0;
  model->n_host_layers = 0;
  model->host_expert_layers = 0;
  model->n_expert_devices = 0;
}

/* AUTO: the default device when it is a real GPU, else (or when the model
 * cannot run there) the CPU, with the reason kept for ponder_model_get_info. */
static void
load_auto (PonderModel             *model,
           const PonderModelParams *params,
           DeviceList              *list,
           int32_t                  chosen)
{
  PonderModelParams vulkan = *params;
  PonderError error = { 0 };

  vulkan.backend = PONDER_BACKEND_VULKAN;
  if (vulkan.device_index < 0 && vulkan.n_devices < 2)
    vulkan.device_index = chosen;
  if (load_on_devices (model, &vulkan, list, &error) == PONDER_OK)
    return;
  drop_devices (model);
  snprintf (model->backend_note, sizeof model->backend_note, "%s: %s",
            list->infos[chosen].name, error.message);
}

PonderStatus
ponder_model_load (const char              *path,
                   const PonderModelParams *params,
                   PonderModel            **out_model,
                   PonderError             *error)
{
  PonderModelParams defaults = ponder_model_params_default ();
  PonderModel *model;
  PonderStatus status;
  bool cpu_only, is_auto;
  DeviceList auto_list;
  int32_t auto_device = -1;

  if (out_model != NULL)
    *out_model = NULL;
  if (path == NULL || out_model == NULL)
    return ponder_error_set (error, PONDER_ERROR_INVALID_ARGUMENT,
                             "ponder_model_load: path and out_model must be set");
  if (params == NULL)
    params = &defaults;
  if (ponder_kv_type_name (params->kv_type) == NULL)
    return ponder_error_set (error, PONDER_ERROR_INVALID_ARGUMENT,
                             "ponder_model_load: unknown KV cache type %d",
                             (int) params->kv_type);
  cpu_only = params->backend == PONDER_BACKEND_CPU || params->n_gpu_layers == 0;
  is_auto = params->backend == PONDER_BACKEND_AUTO && params->n_gpu_layers != 0;
  model = calloc (1, sizeof *model);
  if (model == NULL)
    return ponder_error_set (error, PONDER_ERROR_NO_MEMORY, "out of memory loading %s", path);

  status = ponder_gguf_open (path, &model->file, error);
  if (status == PONDER_OK)
    {
      status = ponder_model_bind (model->file, &model->weights, error);
      if (status != PONDER_OK)
        ponder_error_prefix (error, "%s: ", path);
    }
  if (status == PONDER_OK)
    status = ponder_tokenizer_new (model->file, &model->tokenizer, error);
  if (status == PONDER_OK)
    status = ponder_chat_detect_family (model->file, &model->family, error);
  if (status == PONDER_OK && describe_model (model, path) != PONDER_OK)
    status = ponder_error_set (error, PONDER_ERROR_NO_MEMORY, "out of memory loading %s", path);
  /* AUTO without a real GPU is a CPU model from the start, so its weights
   * are read once, into huge pages, with progress. */
  if (status == PONDER_OK && is_auto)
    {
      list_devices (&auto_list);
      auto_device = ponder_plan_auto_device (auto_list.infos, auto_list.n);
      cpu_only = auto_device < 0;
    }
  if (status == PONDER_OK && cpu_only)
    status = load_for_cpu (model, params, error);
  else if (status == PONDER_OK)
    status = touch_weights (model, params, error);
  /* No layer on the device is a CPU model. */
  if (status == PONDER_OK && params->backend == PONDER_BACKEND_VULKAN
      && params->n_gpu_layers != 0)
    {
      status = load_on_devices (model, params, NULL, error);
      if (status != PONDER_OK)
        ponder_error_prefix (error, "Vulkan: ");
    }
  else if (status == PONDER_OK && is_auto && !cpu_only)
    load_auto (model, params, &auto_list, auto_device);
  /* AUTO's device could not take the model: the weights, already read,
   * still move. */
  if (status == PONDER_OK && !cpu_only && model->vk == NULL && model->n_vk_split == 0)
    {
      bool moved = false;

      status = move_weights (model, NULL, &moved, error);
    }
  if (status != PONDER_OK)
    {
      ponder_model_free (model);
      return status;
    }
  /* The CPU layers of a partial offload share the cache's type, so a
   * device without the type means F32 for all. */
  model->kv_type = model->vk != NULL
                   ? ponder_plan_device_kv_type (&model->weights.hp, params->kv_type)
                   : params->kv_type;
  *out_model = model;
  return PONDER_OK;
}

void
ponder_model_free (PonderModel *model)
{
  if (model == NULL)
    return;
  ponder_vk_model_free (model->vk);
  for (uint32_t d = 0; d < model->n_vk_split; d++)
    ponder_vk_model_free (model->vk_split[d]);
  if (model->tokenizer != NULL)
    ponder_tokenizer_free (model->tokenizer);
  ponder_model_weights_clear (&model->weights);
  if (model->file != NULL)
    ponder_gguf_close (model->file);
  free (model->name);
  free (model);
}
