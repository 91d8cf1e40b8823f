/* vulkan-expert-peers.c: expert parallelism for deepseek2 on several devices.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The main device (backend-vulkan-deepseek2.c) holds everything a token
 * passes through once (attention, routers, shared experts, the head) and
 * the first share of every MoE layer's routed experts; each peer here holds
 * one further share and nothing else. For each MoE layer the main device
 * hands the peers the MoE input and its routing through host memory; each
 * peer runs the slots that picked its experts on its own thread while the
 * main device runs its own, and its partial sum comes back to be added.
 * Decode then reads every expert byte on the device that holds it, all
 * devices at once, so it grows with the number of devices as the routed
 * experts dominate R1's bytes per token.
 *
 * Peers are separate VkDevices with their own instance, so that opening
 * one physical device several times (the test setup) is just a repeat.
 * Each has a worker thread for the life of the model, woken per layer.
 */
#include "vulkan-deepseek2.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

typedef struct
{
  PonderVulkan         *vk;
  PonderVkDevice       *device;
  PonderVkExpertChunks *experts; /* (n_layers) */
  /* the step: host-visible inputs and partial sum, device scratch */
  PonderVkBuffer        x, ids, weights, out, h;
  uint32_t              cap_tokens;
  uint32_t              cap_slots;
  /* the job of the running layer */
  const PonderLayer    *layer;
  uint32_t              il;
  uint32_t              n_tokens;
  uint32_t              n_used;
  /* a worker per peer for the life of the model: started at the first
   * layer it gets, then woken for each one */
  pthread_t             thread;
  bool                  has_thread;
  pthread_mutex_t       lock;
  pthread_cond_t        wake;
  bool                  job;       /* a layer waits to be run */
  bool                  running;   /* started and not yet waited for */
  bool                  quit;
  bool                  has_work;
  PonderStatus          status;
  PonderError           error;
} Peer;

struct PonderVkExpertPeers
{
  const PonderModelWeights *weights;
  Peer                     *peers;
  uint32_t                  n_peers;
};

uint32_t
ponder_vk_expert_peers_count (const PonderVkExpertPeers *peers)
{
  return peers != NULL ? peers->n_peers : 0;
}

static void
free_step_buffers (Peer *p)
{
  ponder_vk_buffer_free (p->device, &p->x);
  ponder_vk_buffer_free (p->device, &p->ids);
  ponder_vk_buffer_free (p->device, &p->weights);
  ponder_vk_buffer_free (p->device, &p->out);
  ponder_vk_buffer_free (p->device, &p->h);
  p->cap_tokens = 0;
  p->cap_slots = 0;
}

/* Grows the step buffers to n_tokens rows (they start at one batch). */
static PonderStatus
ensure_step_buffers (Peer                     *p,
                     const PonderModelWeights *w,
                     uint32_t                  n_tokens,
                     uint32_t                  n_used,
                     PonderError              *error)
{
  size_t rows = (size_t) n_tokens * w->hp.n_embd * 4;
  size_t slots = (size_t) n_tokens * n_used;
  size_t ff = w->hp.n_ff_expert > 0 ? w->hp.n_ff_expert : 1;
  PonderStatus status;

  if (n_tokens <= p->cap_tokens && slots <= p->cap_slots)
    return PONDER_OK;
  free_step_buffers (p);
  status = ponder_vk_buffer_new (p->device, rows, PONDER_VK_MEMORY_HOST, "peer-x", &p->x,
                                 error);
  if (status == PONDER_OK)
    status = ponder_vk_buffer_new (p->device, rows, PONDER_VK_MEMORY_HOST, "peer-out", &p->out,
                                   error);
  if (status == PONDER_OK)
    status = ponder_vk_buffer_new (p->device, slots * 4, PONDER_VK_MEMORY_HOST, "peer-ids",
                                   &p->ids, error);
  if (status == PONDER_OK)
    status = ponder_vk_buffer_new (p->device, slots * 4, PONDER_VK_MEMORY_HOST,
                                   "peer-weights", &p->weights, error);
  if (status == PONDER_OK)
    status = ponder_vk_buffer_new (p->device, slots * ff * 4, PONDER_VK_MEMORY_DEVICE,
                                   "peer-h", &p->h, error);
  if (status != PONDER_OK)
    {
      free_step_buffers (p);
      return status;
    }
  p->cap_tokens = n_tokens;
  p->cap_slots = (uint32_t) slots;
  return PONDER_OK;
}

static void
peer_run (Peer *p)
{
  const PonderLayer *l = p->layer;

  p->status = ponder_vk_begin (p->device, &p->error);
  if (p->status == PONDER_OK)
    {
      p->status = ponder_vk_ds2_record_experts (p->device, l, &p->experts[p->il],
                                                (uint32_t) l->gate_exps.n_in, &p->x,
                                                p->n_tokens, p->n_used, &p->ids, &p->weights,
                                                &p->h, false, &p->out, &p->error);
      if (p->status == PONDER_OK)
        p->status = ponder_vk_submit (p->device, &p->error);
      else
        ponder_vk_abort (p->device);
    }
}

static void *
peer_worker (void *data)
{
  Peer *p = data;

  pthread_mutex_lock (&p->lock);
  for (;;)
    {
      while (!p->job && !p->quit)
        pthread_cond_wait (&p->wake, &p->lock);
      if (p->quit)
        break;
      pthread_mutex_unlock (&p->lock);
      peer_run (p);
      pthread_mutex_lock (&p->lock);
      p->job = false;
      pthread_cond_broadcast (&p->wake);
    }
  pthread_mutex_unlock (&p->lock);
  return NULL;
}

PonderStatus
ponder_vk_expert_peers_start (PonderVkExpertPeers *peers,
                              const PonderLayer   *l,
                              uint32_t             il,
                              const float         *x,
                              uint32_t             n_tokens,
                              uint32_t             n_used,
                              const int32_t       *ids,
                              const float         *weights,
                              PonderError         *error)
{
  size_t rows = (size_t) n_tokens * peers->weights->hp.n_embd * 4;
  size_t slots = (size_t) n_tokens * n_used * 4;
  PonderStatus status = PONDER_OK;

  for (uint32_t i = 0; i < peers->n_peers && status == PONDER_OK; i++)
    {
      Peer *p = &peers->peers[i];

      p->has_work = p->experts[il].n_chunks > 0;
      if (!p->has_work)
        continue;
      status = ensure_step_buffers (p, peers->weights, n_tokens, n_used, error);
      if (status != PONDER_OK)
        break;
      memcpy (p->x.mapped, x, rows);
      memcpy (p->ids.mapped, ids, slots);
      memcpy (p->weights.mapped, weights, slots);
      p->layer = l;
      p->il = il;
      p->n_tokens = n_tokens;
      p->n_used = n_used;
      p->status = PONDER_OK;
      if (!p->has_thread)
        {
          if (pthread_create (&p->thread, NULL, peer_worker, p) != 0)
            {
              status = ponder_error_set (error, PONDER_ERROR_NO_MEMORY,
                                         "cannot start a thread for expert device %u", i + 1);
              break;
            }
          p->has_thread = true;
        }
      pthread_mutex_lock (&p->lock);
      p->job = true;
      p->running = true;
      pthread_cond_broadcast (&p->wake);
      pthread_mutex_unlock (&p->lock);
    }
  if (status != PONDER_OK)
    {
      /* the caller gives up on the layer: no peer may go on reading */
      const float *ignored[PONDER_MAX_DEVICES];

      ponder_vk_expert_peers_wait (peers, ignored, NULL);
    }
  return status;
}

PonderStatus
ponder_vk_expert_peers_wait (PonderVkExpertPeers *peers,
                             const float        **partials,
                             PonderError         *error)
{
  PonderStatus status = PONDER_OK;

  for (uint32_t i = 0; i < peers->n_peers; i++)
    {
      Peer *p = &peers->peers[i];

      partials[i] = NULL;
      if (!p->running)
        continue;
      pthread_mutex_lock (&p->lock);
      while (p->job)
        pthread_cond_wait (&p->wake, &p->lock);
      pthread_mutex_unlock (&p->lock);
      p->running = false;
      if (p->status != PONDER_OK && status == PONDER_OK)
        {
          status = p->status;
          if (error != NULL)
            {
              *error = p->error;
              ponder_error_prefix (error, "expert device %u: ", i + 1);
            }
        }
      partials[i] = p->out.mapped;
    }
  return status;
}

PonderStatus
ponder_vk_expert_peers_new (const PonderModelWeights *w,
                            const PonderVkParams     *params,
                            const int32_t            *devices,
                            uint32_t                  n_devices,
                            const uint32_t           *bounds,
                            uint32_t                  host_layers,
                            uint64_t                  max_buffer,
                            PonderVkExpertPeers     **out,
                            PonderError              *error)
{
  const PonderHparams *hp = &w->hp;
  PonderVkExpertPeers *peers = calloc (1, sizeof *peers);
  PonderStatus status = PONDER_OK;

  *out = peers;
  if (peers == NULL || (peers->peers = calloc (n_devices, sizeof *peers->peers)) == NULL)
    return ponder_error_set (error, PONDER_ERROR_NO_MEMORY, "out of memory");
  peers->weights = w;
  for (uint32_t i = 0; i < n_devices && status == PONDER_OK; i++)
    {
      Peer *p = &peers->peers[i];
      PonderVkParams vkp = *params;

      pthread_mutex_init (&p->lock, NULL);
      pthread_cond_init (&p->wake, NULL);
      peers->n_peers = i + 1;
      vkp.device_index = devices[i];
      status = ponder_vk_open (&vkp, &p->vk, error);
      if (status == PONDER_OK)
        status = ponder_vk_device_new (p->vk, devices[i], &vkp, &p->device, error);
      if (status == PONDER_OK && (p->experts = calloc (hp->n_layers, sizeof *p->experts)) == NULL)
        status = ponder_error_set (error, PONDER_ERROR_NO_MEMORY, "out of memory");
      if (status == PONDER_OK && max_buffer == 0)
        {
          /* as ponder_vk_ds2_upload chooses for the main device */
          uint64_t range
            = ponder_vk_device_physical (p->device)->props.limits.maxStorageBufferRange;

          max_buffer = range < (1ull << 30) ? range : 1ull << 30;
        }
      for (uint32_t il = 0; il < hp->n_layers && status == PONDER_OK; il++)
        {
          const PonderLayer *l = &w->layers[il];

          if (l->router.tensor == NULL || ponder_vk_ds2_host_layer (hp, il, host_layers)
              || bounds[i] >= bounds[i + 1])
            continue;
          status = ponder_vk_ds2_upload_experts (p->device, l, bounds[i], bounds[i + 1],
                                                 max_buffer, &p->experts[il], error);
        }
      if (status != PONDER_OK)
        ponder_error_prefix (error, "expert device %u: ", i + 1);
    }
  return status;
}

uint32_t
ponder_vk_expert_peers_n_messages (const PonderVkExpertPeers *peers,
                                   const char               **out_first)
{
  uint32_t n = 0;

  for (uint32_t i = 0; peers != NULL && i < peers->n_peers; i++)
    if (peers->peers[i].vk != NULL)
      {
        uint32_t mine = atomic_load (&peers->peers[i].vk->n_messages);

        if (mine > 0 && n == 0 && out_first != NULL)
          *out_first = peers->peers[i].vk->first_message;
        n += mine;
      }
  return n;
}

void
ponder_vk_expert_peers_free (PonderVkExpertPeers *peers)
{
  if (peers == NULL)
    return;
  for (uint32_t i = 0; peers->peers != NULL && i < peers->n_peers; i++)
    {
      Peer *p = &peers->peers[i];

      if (p->has_thread)
        {
          pthread_mutex_lock (&p->lock);
          while (p->job)
            pthread_cond_wait (&p->wake, &p->lock);
          p->quit = true;
          pthread_cond_broadcast (&p->wake);
          pthread_mutex_unlock (&p->lock);
          pthread_join (p->thread, NULL);
        }
      pthread_mutex_destroy (&p->lock);
      pthread_cond_destroy (&p->wake);
      if (p->device != NULL)
        {
          for (uint32_t il = 0; p->experts != NULL && il < peers->weights->hp.n_layers; il++)
            ponder_vk_ds2_free_experts (p->device, &p->experts[il]);
          free_step_buffers (p);
          ponder_vk_device_free (p->device);
        }
      free (p->experts);
      ponder_vk_close (p->vk);
    }
  free (peers->peers);
  free (peers);
}
