/* vulkan-model.c: a model's weights uploaded to a Vulkan device.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Every weight forward.c may pass (matrix data, norm and bias vectors) gets
 * a device buffer at load; the backend (backend-vulkan.c) finds a weight's
 * buffer from its host pointer, by binary search over the sorted entries.
 */
#include "backend.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "quant.h"
#include "vulkan-deepseek2.h"
#include "vulkan-model-private.h"
#include "vulkan-private.h"

static int
compare_entries (const void *a,
                 const void *b)
{
  uintptr_t x = (uintptr_t) ((const WeightEntry *) a)->host;
  uintptr_t y = (uintptr_t) ((const WeightEntry *) b)->host;

  return x < y ? -1 : x > y;
}

/* The buffer a weight pointer of the model was uploaded to, or NULL. */
const PonderVkBuffer *
ponder_vk_model_find_weight (const PonderVkModel *m,
                             const void          *host)
{
  WeightEntry key = { host, { 0 } };
  const WeightEntry *e = bsearch (&key, m->entries, m->n_entries, sizeof key, compare_entries);

  return e != NULL ? &e->buffer : NULL;
}

static PonderStatus
upload (PonderVkModel *m,
        const void    *host,
        size_t         bytes,
        const char    *name,
        PonderError   *error)
{
  WeightEntry *e;
  PonderStatus status;

  if (host == NULL)
    return PONDER_OK;
  /* A tied output matrix is the embedding table: one copy. */
  for (size_t i = 0; i < m->n_entries; i++)
    if (m->entries[i].host == host)
      return PONDER_OK;
  if (m->n_entries == m->cap_entries)
    {
      size_t cap = m->cap_entries ? 2 * m->cap_entries : 64;
      WeightEntry *grown = realloc (m->entries, cap * sizeof *grown);

      if (grown == NULL)
        return ponder_error_set (error, PONDER_ERROR_NO_MEMORY, "out of memory");
      m->entries = grown;
      m->cap_entries = cap;
    }
  e = &m->entries[m->n_entries];
  e->host = host;
  status = ponder_vk_buffer_new (m->device, bytes, PONDER_VK_MEMORY_DEVICE, name, &e->buffer,
                                 error);
  if (status != PONDER_OK)
    return status;
  m->n_entries++;
  return ponder_vk_buffer_upload (m->device, &e->buffer, 0, host, bytes, error);
}

static PonderStatus
check_matrix (const PonderWeight *w,
              PonderError        *error)
{
  char type[32];

  if (ponder_vk_matmul_supported (w->type))
    return PONDER_OK;
  return ponder_error_set (error, PONDER_ERROR_UNSUPPORTED,
                           "the Vulkan backend has no matmul for %s weights (%s)",
                           ponder_type_name (w->type, type, sizeof type),
                           w->tensor != NULL ? w->tensor->name : "?");
}

static PonderStatus
upload_matrix (PonderVkModel      *m,
               const PonderWeight *w,
               PonderError        *error)
{
  return upload (m, w->data, w->n_out * w->row_bytes, w->tensor ? w->tensor->name : "weight",
                 error);
}

/* Every check that can fail without touching the device, so that a model
 * the shaders cannot run is refused before anything is allocated. */
static PonderStatus
check_model (const PonderModelWeights *w,
             uint32_t                  host_expert_layers,
             uint32_t                  first_layer,
             uint32_t                  end_layer,
             uint32_t                  experts_kept,
             uint64_t                 *out_bytes,
             PonderError              *error)
{
  const PonderHparams *hp = &w->hp;
  uint64_t bytes = 0;
  PonderStatus status;

  if (hp->head_dim_k > PONDER_VK_ATTENTION_MAX_HEAD_DIM
      || hp->head_dim_v > PONDER_VK_ATTENTION_MAX_HEAD_DIM || hp->n_rot == 0
      || hp->n_rot % 2 != 0 || hp->n_rot > hp->head_dim_k)
    return ponder_error_set (error, PONDER_ERROR_UNSUPPORTED,
                             "the Vulkan backend supports head dimensions up to %d with an "
                             "even RoPE width (this model: %u/%u, n_rot %u)",
                             PONDER_VK_ATTENTION_MAX_HEAD_DIM, hp->head_dim_k, hp->head_dim_v,
                             hp->n_rot);
  if ((first_layer > 0 || end_layer < hp->n_layers)
      && (hp->arch == PONDER_ARCH_DEEPSEEK2 || first_layer >= end_layer))
    return ponder_error_set (error, PONDER_ERROR_UNSUPPORTED,
                             "layers %u to %u of %u of %s on one device: splitting this "
                             "architecture's layers is not supported",
                             first_layer, end_layer, hp->n_layers, hp->arch_name);
  status = PONDER_OK;
  if (end_layer == hp->n_layers)
    {
      status = check_matrix (&w->output, error);
      bytes += w->output.n_out * w->output.row_bytes;
    }
  if (first_layer == 0 && ponder_vk_embed_supported (w->token_embd.type)
      && (w->token_embd.data != w->output.data || end_layer < hp->n_layers))
    bytes += w->token_embd.n_out * w->token_embd.row_bytes;
  for (uint32_t il = first_layer; il < end_layer && status == PONDER_OK; il++)
    {
      const PonderLayer *l = &w->layers[il];
      const PonderWeight *mats[] = { &l->wq, &l->wk, &l->wv, &l->wo, &l->w_gate, &l->w_up,
                                     &l->w_down };

      for (size_t i = 0; i < sizeof mats / sizeof *mats && status == PONDER_OK; i++)
        {
          status = check_matrix (mats[i], error);
          bytes += mats[i]->n_out * mats[i]->row_bytes;
        }
    }
  if (status == PONDER_OK && hp->arch == PONDER_ARCH_DEEPSEEK2)
    status = ponder_vk_ds2_check (w, host_expert_layers, experts_kept, &bytes, error);
  *out_bytes = bytes;
  return status;
}

/* Expert parallelism: device d (0 this one, then the expert devices) holds
 * experts [share_end (d - 1), share_end (d)); 0 when there is no split. */
static uint32_t
expert_share_end (const PonderHparams       *hp,
                  const PonderVkModelParams *params,
                  uint32_t                   d)
{
  uint32_t n = params != NULL ? params->n_expert_devices + 1 : 1;

  return n > 1 ? (uint32_t) ((uint64_t) hp->n_expert * (d + 1) / n) : 0;
}

static PonderStatus
add_expert_devices (PonderVkModel             *m,
                    const PonderVkParams      *vkp,
                    const PonderVkModelParams *params,
                    PonderError               *error)
{
  const PonderHparams *hp = &m->weights->hp;
  uint32_t bounds[PONDER_MAX_DEVICES];
  PonderVkExpertPeers *peers = NULL;
  PonderStatus status;

  if (params->n_expert_devices >= PONDER_MAX_DEVICES
      || hp->n_expert < params->n_expert_devices + 1)
    return ponder_error_set (error, PONDER_ERROR_INVALID_ARGUMENT,
                             "%u experts cannot be shared by %u devices", hp->n_expert,
                             params->n_expert_devices + 1);
  for (uint32_t d = 0; d <= params->n_expert_devices; d++)
    bounds[d] = expert_share_end (hp, params, d);
  status = ponder_vk_expert_peers_new (m->weights, vkp, params->expert_devices,
                                       params->n_expert_devices, bounds,
                                       params->host_expert_layers, params->max_expert_buffer,
                                       &peers, error);
  /* dm owns them even half made, so that one free path releases them */
  ponder_vk_ds2_set_peers (m->ds2, peers);
  return status;
}

static PonderStatus
upload_model (PonderVkModel             *m,
              const PonderVkModelParams *params,
              PonderError               *error)
{
  const PonderModelWeights *w = m->weights;
  const PonderHparams *hp = &w->hp;
  size_t n_q = (size_t) hp->n_head * hp->head_dim_k;
  size_t n_k = (size_t) hp->n_head_kv * hp->head_dim_k;
  size_t n_v = (size_t) hp->n_head_kv * hp->head_dim_v;
  size_t e = hp->n_embd * sizeof (float);
  PonderStatus status;

  /* Only the first device embeds, only the last one has the head. */
  status = PONDER_OK;
  if (m->first_layer == 0 && ponder_vk_embed_supported (w->token_embd.type))
    status = upload_matrix (m, &w->token_embd, error);
  if (status == PONDER_OK && m->end_layer == hp->n_layers)
    status = upload (m, w->output_norm, e, "output_norm", error);
  if (status == PONDER_OK && m->end_layer == hp->n_layers)
    status = upload_matrix (m, &w->output, error);
  for (uint32_t il = m->first_layer; il < m->end_layer && status == PONDER_OK; il++)
    {
      const PonderLayer *l = &w->layers[il];
      const PonderWeight *mats[] = { &l->wq, &l->wk, &l->wv, &l->wo, &l->w_gate, &l->w_up,
                                     &l->w_down };

      status = upload (m, l->attn_norm, e, "attn_norm", error);
      if (status == PONDER_OK)
        status = upload (m, l->ffn_norm, e, "ffn_norm", error);
      if (status == PONDER_OK)
        status = upload (m, l->bq, n_q * sizeof (float), "attn_q.bias", error);
      if (status == PONDER_OK)
        status = upload (m, l->bk, n_k * sizeof (float), "attn_k.bias", error);
      if (status == PONDER_OK)
        status = upload (m, l->bv, n_v * sizeof (float), "attn_v.bias", error);
      if (status == PONDER_OK)
        status = upload (m, l->q_norm, hp->head_dim_k * sizeof (float), "attn_q_norm", error);
      if (status == PONDER_OK)
        status = upload (m, l->k_norm, hp->head_dim_k * sizeof (float), "attn_k_norm", error);
      for (size_t i = 0; i < sizeof mats / sizeof *mats && status == PONDER_OK; i++)
        status = upload_matrix (m, mats[i], error);
    }
  if (status == PONDER_OK && hp->arch == PONDER_ARCH_DEEPSEEK2)
    status = ponder_vk_ds2_upload (m, m->device, w, params ? params->host_expert_layers : 0,
                                   params ? params->max_expert_buffer : 0,
                                   expert_share_end (hp, params, 0), &m->ds2, error);
  if (status == PONDER_OK)
    qsort (m->entries, m->n_entries, sizeof *m->entries, compare_entries);
  return status;
}

PonderStatus
ponder_vk_model_new (const PonderModelWeights  *weights,
                     const PonderVkModelParams *params,
                     PonderVkModel            **out_model,
                     PonderError               *error)
{
  PonderVkParams vkp = ponder_vk_params_default ();
  const PonderVkPhysical *phys;
  PonderVkModel *m;
  PonderStatus status;
  uint64_t bytes = 0;
  uint32_t first_layer, end_layer;

  *out_model = NULL;
  first_layer = params != NULL ? params->first_layer : 0;
  end_layer = params != NULL && params->end_layer > 0 ? params->end_layer
                                                      : weights->hp.n_layers;
  if (end_layer > weights->hp.n_layers)
    return ponder_error_set (error, PONDER_ERROR_INVALID_ARGUMENT,
                             "layers up to %u of a model of %u", end_layer,
                             weights->hp.n_layers);
  /* with expert devices this one keeps only the first share */
  status = check_model (weights, params != NULL ? params->host_expert_layers : 0, first_layer,
                        end_layer,
                        params != NULL && params->n_expert_devices > 0
                        ? expert_share_end (&weights->hp, params, 0) : weights->hp.n_expert,
                        &bytes, error);
  if (status != PONDER_OK)
    return status;
  m = calloc (1, sizeof *m);
  if (m == NULL)
    return ponder_error_set (error, PONDER_ERROR_NO_MEMORY, "out of memory");
  pthread_mutex_init (&m->lock, NULL);
  m->weights = weights;
  m->first_layer = first_layer;
  m->end_layer = end_layer;
  vkp.device_index = params != NULL ? params->device_index : -1;
  vkp.validation = params != NULL && params->validation;
  if (params != NULL && params->loader_path != NULL)
    vkp.loader_path = params->loader_path;
  status = ponder_vk_open (&vkp, &m->vk, error);
  if (status == PONDER_OK)
    status = ponder_vk_device_new (m->vk, vkp.device_index, &vkp, &m->device, error);
  if (status == PONDER_OK)
    {
      /* Refuse a model that cannot fit before allocating any of it. */
      uint64_t have;

      phys = ponder_vk_device_physical (m->device);
      have = phys->device_local_bytes;
      if (params != NULL && params->memory_limit > 0
          && (have == 0 || params->memory_limit < have))
        have = params->memory_limit;
      if (have > 0 && bytes > have)
        status = ponder_error_set (error, PONDER_ERROR_NO_MEMORY,
                                   "%s: the weights need %.1f MiB, the device has %.1f MiB",
                                   phys->props.deviceName, bytes / 1048576.0,
                                   have / 1048576.0);
    }
  if (status == PONDER_OK)
    status = upload_model (m, params, error);
  if (status == PONDER_OK && params != NULL && params->n_expert_devices > 0)
    {
      if (weights->hp.arch != PONDER_ARCH_DEEPSEEK2)
        status = ponder_error_set (error, PONDER_ERROR_INVALID_ARGUMENT,
                                   "expert devices for %s, which has no experts",
                                   weights->hp.arch_name);
      else
        status = add_expert_devices (m, &vkp, params, error);
    }
  if (status != PONDER_OK)
    {
      ponder_vk_model_free (m);
      return status;
    }
  *out_model = m;
  return PONDER_OK;
}

void
ponder_vk_model_free (PonderVkModel *m)
{
  if (m == NULL)
    return;
  for (size_t i = 0; i < m->n_entries; i++)
    ponder_vk_buffer_free (m->device, &m->entries[i].buffer);
  free (m->entries);
  ponder_vk_ds2_model_free (m->device, m->ds2);
  ponder_vk_device_free (m->device);
  ponder_vk_close (m->vk);
  pthread_mutex_destroy (&m->lock);
  free (m);
}

const char *
ponder_vk_model_device_name (const PonderVkModel *m)
{
  return ponder_vk_device_physical (m->device)->props.deviceName;
}

uint32_t
ponder_vk_model_n_messages (const PonderVkModel *m,
                            const char         **out_first)
{
  uint32_t n = atomic_load (&m->vk->n_messages);

  if (out_first != NULL)
    *out_first = m->vk->first_message;
  /* the expert devices' instances count their own */
  return n + ponder_vk_ds2_peer_messages (m->ds2, n == 0 ? out_first : NULL);
}

PonderStatus
ponder_vk_model_upload (PonderVkModel *m,
                        const void    *host,
                        size_t         bytes,
                        const char    *name,
                        PonderError   *error)
{
  return upload (m, host, bytes, name, error);
}
