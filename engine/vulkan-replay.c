/* vulkan-replay.c: decode steps recorded once and replayed.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A step begun with ponder_vk_begin_kept is not recorded as its ops come:
 * each checked dispatch or copy is appended to a log of plain values
 * (kernel, specialization constants, grid, buffer handles and offsets, push
 * constants). At submission the log is compared with the logs of the
 * replay's kept command buffers: when one equals it, that command buffer
 * is submitted again as it is (its descriptor sets were never reset), else
 * the log is recorded into the least recently used slot, which keeps it.
 * The comparison is what makes a replay correct: the same commands on the
 * same buffers would have been recorded. What changes between decode steps
 * must therefore reach the shaders through memory (token ids, the RoPE
 * table and the position in host-visible buffers) and not through the
 * log, else every step differs and is recorded anew; a change of structure
 * (another kernel, another grid, as when decode attention gains a chunk of
 * keys every 256 positions, or the logits read back instead of picked on
 * the device) is simply a recording.
 *
 * Three slots keep a greedy step (argmax), a sampled one (the device's
 * top logits) and a full-logits step apart.
 * A buffer freed since a slot was recorded may have handed its handle to
 * a new one: the device counts frees (generation) and a slot recorded
 * before the last free is never replayed. A step that fails or is
 * aborted leaves the slots as they were: a slot is kept only once it was
 * recorded completely.
 *
 * Why: recording costs the host, per dispatch, a descriptor set, nine
 * descriptor writes, binds, push constants and a barrier. Measured with
 * bench-vulkan-replay on the 2-core VM (lavapipe, noisy): a decode step of
 * qwen2-0.5b (~340 dispatches) takes 1.0-1.2 ms of host time recorded and
 * 0.11 ms replayed (the ops still walk and log), 1.5B 1.8-1.9 vs 0.14-0.17
 * ms. On lavapipe the device runs on the same CPUs and a step takes
 * 100+ ms, so decode t/s does not move. Expected on a discrete GPU, not
 * measured: a 1.5B Q4_K_M step reads ~1.1 GB, ~0.35 ms at an H100's 3.35
 * TB/s; the host's work is serial with it (each token waits for the last
 * pick), so recording at this VM's 1.8 ms (a real driver's descriptor
 * writes cost more than lavapipe's) would hold decode near 450 t/s, while
 * replaying at ~0.15 ms leaves the step GPU-bound.
 */
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "vulkan-device-private.h"

#define N_SLOTS 3

enum
{
  COMMAND_DISPATCH,
  COMMAND_COPY,
};

/* One command of a step, zeroed before it is filled so that logs compare
 * with memcmp. A copy's source and destination are bindings 0 and 1 (their
 * offsets absolute), its byte count binding 0's size. */
typedef struct
{
  uint32_t kind;
  uint32_t kernel;
  uint32_t n_spec;
  uint32_t spec[PONDER_VK_MAX_SPEC];
  uint32_t groups[3];
  uint32_t n_buffers;
  uint32_t push_bytes;
  struct
  {
    VkBuffer     buffer;
    VkDeviceSize offset;
    VkDeviceSize size;
  } bind[PONDER_VK_MAX_BINDINGS];
  uint8_t  push[PONDER_VK_PUSH_MAX];
} Command;

typedef struct
{
  Command *commands;
  uint32_t n;
  uint32_t cap;
} Log;

typedef struct
{
  VkCommandPool    command_pool;
  VkCommandBuffer  cmd;
  VkDescriptorPool pools[PONDER_VK_MAX_POOLS];
  uint32_t         n_pools;
  uint32_t         pool_in_use;
  Log              log;        /* what cmd holds */
  bool             valid;
  uint64_t         generation; /* the device's buffer frees when it was recorded */
  uint64_t         last_used;
} Slot;

struct PonderVkReplay
{
  Slot     slots[N_SLOTS];
  Log      log;          /* the step being collected */
  uint64_t clock;
  bool     last_replayed;
  uint64_t n_replayed;
  uint64_t n_recorded;
};

static inline PonderStatus
check (PonderVkDevice *device,
       VkResult        result,
       const char     *what,
       PonderError    *error)
{
  return ponder_vk_device_check (device, result, what, error);
}

PonderStatus
ponder_vk_replay_new (PonderVkDevice  *device,
                      PonderVkReplay **out_replay,
                      PonderError     *error)
{
  VkCommandPoolCreateInfo pool_info = { VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO };
  VkCommandBufferAllocateInfo alloc = { VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO };
  PonderVkReplay *replay;
  PonderStatus status = PONDER_OK;

  *out_replay = NULL;
  replay = calloc (1, sizeof *replay);
  if (replay == NULL)
    return ponder_error_set (error, PONDER_ERROR_NO_MEMORY, "out of memory");
  pool_info.queueFamilyIndex = device->phys->queue_family;
  alloc.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY;
  alloc.commandBufferCount = 1;
  for (uint32_t i = 0; i < N_SLOTS && status == PONDER_OK; i++)
    {
      Slot *slot = &replay->slots[i];

      status = check (device, device->fn.vkCreateCommandPool (device->device, &pool_info, NULL,
                                                              &slot->command_pool),
                      "vkCreateCommandPool", error);
      alloc.commandPool = slot->command_pool;
      if (status == PONDER_OK)
        status = check (device, device->fn.vkAllocateCommandBuffers (device->device, &alloc,
                                                                     &slot->cmd),
                        "vkAllocateCommandBuffers", error);
    }
  if (status != PONDER_OK)
    {
      ponder_vk_replay_free (device, replay);
      return status;
    }
  *out_replay = replay;
  return PONDER_OK;
}

void
ponder_vk_replay_free (PonderVkDevice *device,
                       PonderVkReplay *replay)
{
  if (replay == NULL)
    return;
  if (device->keeping == replay)
    ponder_vk_abort (device);
  for (uint32_t i = 0; i < N_SLOTS; i++)
    {
      Slot *slot = &replay->slots[i];

      for (uint32_t p = 0; p < slot->n_pools; p++)
        device->fn.vkDestroyDescriptorPool (device->device, slot->pools[p], NULL);
      if (slot->command_pool != VK_NULL_HANDLE)
        device->fn.vkDestroyCommandPool (device->device, slot->command_pool, NULL);
      free (slot->log.commands);
    }
  free (replay->log.commands);
  free (replay);
}

void
ponder_vk_replay_forget (PonderVkReplay *replay)
{
  for (uint32_t i = 0; i < N_SLOTS; i++)
    replay->slots[i].valid = false;
}

void
ponder_vk_replay_counts (const PonderVkReplay *replay,
                         uint64_t             *out_replayed,
                         uint64_t             *out_recorded,
                         bool                 *out_last_replayed)
{
  *out_replayed = replay->n_replayed;
  *out_recorded = replay->n_recorded;
  *out_last_replayed = replay->last_replayed;
}

PonderStatus
ponder_vk_begin_kept (PonderVkDevice *device,
                      PonderVkReplay *replay,
                      PonderError    *error)
{
  if (device->lost)
    return ponder_error_set (error, PONDER_ERROR_DEVICE, "the Vulkan device was lost");
  if (device->recording || device->in_flight)
    return ponder_error_set (error, PONDER_ERROR_INVALID_ARGUMENT,
                             "ponder_vk_begin_kept while %s",
                             device->recording ? "already recording" : "a submission runs");
  device->recording = true;
  device->keeping = replay;
  device->n_recorded = 0;
  device->n_commands++;
  replay->log.n = 0;
  return PONDER_OK;
}

static Command *
append (PonderVkReplay *replay,
        PonderError    *error)
{
  Log *log = &replay->log;
  Command *c;

  if (log->n == log->cap)
    {
      uint32_t cap = log->cap > 0 ? 2 * log->cap : 256;
      Command *grown = realloc (log->commands, cap * sizeof *grown);

      if (grown == NULL)
        {
          ponder_error_set (error, PONDER_ERROR_NO_MEMORY, "out of memory for a step's log");
          return NULL;
        }
      log->commands = grown;
      log->cap = cap;
    }
  c = &log->commands[log->n++];
  memset (c, 0, sizeof *c);
  return c;
}

PonderStatus
ponder_vk_replay_log_dispatch (PonderVkDevice        *device,
                               PonderVkKernel         kernel,
                               const uint32_t        *spec,
                               uint32_t               n_spec,
                               const uint32_t         groups[3],
                               const PonderVkBuffer **buffers,
                               uint32_t               n_buffers,
                               const void            *push,
                               uint32_t               push_bytes,
                               PonderError           *error)
{
  Command *c = append (device->keeping, error);

  if (c == NULL)
    return PONDER_ERROR_NO_MEMORY;
  c->kind = COMMAND_DISPATCH;
  c->kernel = (uint32_t) kernel;
  c->n_spec = n_spec;
  memcpy (c->spec, spec, n_spec * sizeof *spec);
  memcpy (c->groups, groups, sizeof c->groups);
  c->n_buffers = n_buffers;
  for (uint32_t i = 0; i < n_buffers; i++)
    {
      c->bind[i].buffer = buffers[i]->buffer;
      c->bind[i].offset = buffers[i]->offset;
      c->bind[i].size = buffers[i]->size;
    }
  c->push_bytes = push_bytes;
  if (push_bytes > 0)
    memcpy (c->push, push, push_bytes);
  return PONDER_OK;
}

PonderStatus
ponder_vk_replay_log_copy (PonderVkDevice       *device,
                           const PonderVkBuffer *src,
                           size_t                src_offset,
                           const PonderVkBuffer *dst,
                           size_t                dst_offset,
                           size_t                size_bytes,
                           PonderError          *error)
{
  Command *c = append (device->keeping, error);

  if (c == NULL)
    return PONDER_ERROR_NO_MEMORY;
  c->kind = COMMAND_COPY;
  c->n_buffers = 2;
  c->bind[0].buffer = src->buffer;
  c->bind[0].offset = src_offset;
  c->bind[0].size = size_bytes;
  c->bind[1].buffer = dst->buffer;
  c->bind[1].offset = dst_offset;
  return PONDER_OK;
}

void
ponder_vk_replay_abort (PonderVkDevice *device)
{
  device->keeping->log.n = 0;
  device->keeping = NULL;
  device->recording = false;
}

static bool
logs_equal (const Log *a,
            const Log *b)
{
  return a->n == b->n && memcmp (a->commands, b->commands, a->n * sizeof *a->commands) == 0;
}

/* Records slot's log into its command buffer, with descriptor sets from
 * its own pools; a failure leaves the slot invalid. */
static PonderStatus
record_slot (PonderVkDevice *device,
             Slot           *slot,
             PonderError    *error)
{
  VkCommandBufferBeginInfo begin = { VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO };
  PonderStatus status;

  slot->valid = false;
  device->fn.vkResetCommandPool (device->device, slot->command_pool, 0);
  for (uint32_t p = 0; p < slot->n_pools; p++)
    device->fn.vkResetDescriptorPool (device->device, slot->pools[p], 0);
  slot->pool_in_use = 0;
  status = check (device, device->fn.vkBeginCommandBuffer (slot->cmd, &begin),
                  "vkBeginCommandBuffer", error);
  for (uint32_t i = 0; i < slot->log.n && status == PONDER_OK; i++)
    {
      const Command *c = &slot->log.commands[i];
      PonderVkBuffer views[PONDER_VK_MAX_BINDINGS];
      const PonderVkBuffer *bufs[PONDER_VK_MAX_BINDINGS];

      if (i > 0)
        ponder_vk_record_barrier (device, slot->cmd);
      if (c->kind == COMMAND_COPY)
        {
          VkBufferCopy region = { c->bind[0].offset, c->bind[1].offset, c->bind[0].size };

          device->fn.vkCmdCopyBuffer (slot->cmd, c->bind[0].buffer, c->bind[1].buffer, 1,
                                      &region);
          continue;
        }
      for (uint32_t b = 0; b < c->n_buffers; b++)
        {
          memset (&views[b], 0, sizeof views[b]);
          views[b].buffer = c->bind[b].buffer;
          views[b].offset = c->bind[b].offset;
          views[b].size = c->bind[b].size;
          bufs[b] = &views[b];
        }
      status = ponder_vk_record_dispatch (device, slot->cmd, slot->pools, &slot->n_pools,
                                          &slot->pool_in_use, (PonderVkKernel) c->kernel,
                                          c->spec, c->n_spec, c->groups, bufs, c->n_buffers,
                                          c->push, c->push_bytes, error);
    }
  if (status == PONDER_OK)
    {
      ponder_vk_record_host_barrier (device, slot->cmd);
      status = check (device, device->fn.vkEndCommandBuffer (slot->cmd), "vkEndCommandBuffer",
                      error);
    }
  if (status != PONDER_OK)
    {
      device->fn.vkResetCommandPool (device->device, slot->command_pool, 0);
      return status;
    }
  slot->valid = true;
  slot->generation = device->generation;
  return PONDER_OK;
}

PonderStatus
ponder_vk_replay_submit (PonderVkDevice *device,
                         PonderError    *error)
{
  PonderVkReplay *replay = device->keeping;
  VkSubmitInfo submit = { VK_STRUCTURE_TYPE_SUBMIT_INFO };
  Slot *slot = NULL;
  PonderStatus status = PONDER_OK;
  Log spare;

  device->keeping = NULL;
  device->recording = false;
  replay->clock++;
  for (uint32_t i = 0; i < N_SLOTS && slot == NULL; i++)
    if (replay->slots[i].valid && replay->slots[i].generation == device->generation
        && logs_equal (&replay->slots[i].log, &replay->log))
      slot = &replay->slots[i];
  replay->last_replayed = slot != NULL;
  if (slot == NULL)
    {
      /* an invalid slot first, else the one used longest ago */
      slot = &replay->slots[0];
      for (uint32_t i = 1; i < N_SLOTS && slot->valid; i++)
        if (!replay->slots[i].valid || replay->slots[i].last_used < slot->last_used)
          slot = &replay->slots[i];
      spare = slot->log;
      slot->log = replay->log;
      replay->log = spare;
      status = record_slot (device, slot, error);
    }
  replay->log.n = 0;
  if (status == PONDER_OK)
    status = check (device, device->fn.vkResetFences (device->device, 1, &device->fence),
                    "vkResetFences", error);
  if (status == PONDER_OK)
    {
      ponder_vk_mark_submit (device);
      submit.commandBufferCount = 1;
      submit.pCommandBuffers = &slot->cmd;
      status = check (device, device->fn.vkQueueSubmit (device->queue, 1, &submit,
                                                        device->fence),
                      "vkQueueSubmit", error);
    }
  if (status != PONDER_OK)
    {
      /* a lost device or a failed submission: nothing of it is trusted */
      slot->valid = false;
      replay->last_replayed = false;
      return status;
    }
  slot->last_used = replay->clock;
  if (replay->last_replayed)
    replay->n_replayed++;
  else
    replay->n_recorded++;
  device->in_flight = true;
  return PONDER_OK;
}
