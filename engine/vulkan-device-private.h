/* vulkan-device-private.h: the PonderVkDevice struct, shared by
 * vulkan-device.c (device, buffers) and vulkan-dispatch.c (pipelines,
 * descriptors, recording).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "vulkan-private.h"

#define PONDER_VK_SETS_PER_POOL 256
#define PONDER_VK_MAX_POOLS     64
#define PONDER_VK_MAX_PIPELINES 256
#define PONDER_VK_MAX_VIEWS     4096
#define PONDER_VK_MAX_RETIRED   32 /* outgrown q8 scratch buffers (doubling from 64 KiB) */

/* A texel-buffer view of a buffer from offset to its end, made on first use
 * and destroyed with the buffer. */
typedef struct
{
  VkBuffer     buffer;
  VkDeviceSize offset;
  VkFormat     format;
  VkBufferView view;
} PonderVkViewEntry;

typedef struct
{
  PonderVkKernel kernel;
  uint32_t       spec[PONDER_VK_MAX_SPEC];
  uint32_t       n_spec;
  VkPipeline     pipeline;
} PonderVkPipelineEntry;

struct PonderVkDevice
{
  PonderVulkan           *vk;
  const PonderVkPhysical *phys;
  VkDevice                device;
  PonderVkDeviceFns       fn;
  VkQueue                 queue;
  VkPipelineCache         cache;
  char                   *cache_path;     /* NULL: not saved */
  VkDescriptorSetLayout   set_layout;
  VkPipelineLayout        pipeline_layout;
  PonderVkPipelineEntry           pipelines[PONDER_VK_MAX_PIPELINES];
  uint32_t                n_pipelines;
  VkShaderModule          modules[PONDER_VK_N_KERNELS];
  VkDescriptorPool        pools[PONDER_VK_MAX_POOLS];
  uint32_t                n_pools;        /* created */
  uint32_t                pool_in_use;    /* index sets are taken from */
  VkCommandPool           command_pool;
  VkCommandBuffer         cmd;
  VkFence                 fence;
  bool                    recording;
  bool                    in_flight;      /* submitted, not yet waited for */
  uint32_t                n_recorded;     /* dispatches in this step */
  PonderVkReplay         *keeping;        /* the kept step being collected, or NULL */
  uint64_t                generation;     /* buffers freed so far (vulkan-replay.c) */
  double                  submit_s;       /* monotonic seconds before the last vkQueueSubmit */
  bool                    force_staging;  /* PonderVkParams.force_staging */
  bool                    lost;           /* VK_ERROR_DEVICE_LOST seen: refuse work */
  PonderVkBuffer          iq_tables;      /* codebooks of the IQ shaders (vulkan-iq.c) */
  PonderVkViewEntry      *views;          /* PONDER_VK_MAX_VIEWS, n_views used */
  uint32_t                n_views;
  PonderVkBuffer          dummy;          /* behind the texel bindings a kernel does not use */
  VkBufferView            dummy_views[PONDER_VK_N_TEXEL];
  bool                    int8_dot;       /* shaderIntegerDotProduct enabled */
  bool                    storage16;      /* storageBuffer16BitAccess enabled */
  bool                    env_gpu_kernels; /* PONDER_VK_GPU_KERNELS=1 when it was made */
  bool                    env_no_int8_dot; /* PONDER_VK_INT8_DOT=0 likewise */
  PonderVkBuffer          q8_scratch;     /* ponder_vk_q8_scratch */
  uint64_t                n_commands;     /* begins, dispatches and copies so far */
  struct
  {
    VkBuffer     x;                       /* whose quantisation q8_scratch holds */
    VkDeviceSize offset;
    uint32_t     n_in, n_tokens;
    VkBuffer     y;                       /* what that product wrote */
    VkDeviceSize y_begin, y_end;
    uint64_t     at, generation;          /* n_commands, generation then */
  } q8_last;
  PonderVkBuffer          q8_retired[PONDER_VK_MAX_RETIRED];
  uint32_t                n_q8_retired;
};

/* Texel formats of the bindings after the storage buffers. */
extern const VkFormat ponder_vk_texel_formats[PONDER_VK_N_TEXEL];
extern const uint32_t ponder_vk_texel_bytes[PONDER_VK_N_TEXEL];
/* The view of buffer (from its offset) in format, made on first use. */
PonderStatus ponder_vk_texel_view (PonderVkDevice       *device,
                                   const PonderVkBuffer *buffer,
                                   uint32_t              slot,
                                   VkBufferView         *out_view,
                                   PonderError          *error);

/* ponder_vk_check that also marks the device lost on VK_ERROR_DEVICE_LOST. */
PonderStatus ponder_vk_device_check (PonderVkDevice *device,
                                     VkResult        result,
                                     const char     *what,
                                     PonderError    *error);
/* Names an object for validation messages and debuggers (VK_EXT_debug_utils). */
void         ponder_vk_device_name  (PonderVkDevice *device,
                                     VkObjectType    type,
                                     uint64_t        handle,
                                     const char     *name);

/* Recording into a command buffer other than the device's step (a kept
 * step's, vulkan-replay.c): the barrier between commands, the one before
 * the host reads, and one dispatch with its descriptor set from pools. */
void         ponder_vk_record_barrier      (PonderVkDevice *device, VkCommandBuffer cmd);
void         ponder_vk_record_host_barrier (PonderVkDevice *device, VkCommandBuffer cmd);
/* Notes the time for ponder_vk_submit_time, just before vkQueueSubmit. */
void         ponder_vk_mark_submit         (PonderVkDevice *device);
PonderStatus ponder_vk_record_dispatch (PonderVkDevice *device, VkCommandBuffer cmd,
                                        VkDescriptorPool *pools, uint32_t *n_pools,
                                        uint32_t *pool_in_use, PonderVkKernel kernel,
                                        const uint32_t *spec, uint32_t n_spec,
                                        const uint32_t groups[3],
                                        const PonderVkBuffer **buffers, uint32_t n_buffers,
                                        const void *push, uint32_t push_bytes,
                                        PonderError *error);

/* vulkan-replay.c's side of vulkan-dispatch.c while device->keeping is set:
 * checked commands go to the log; submission replays or records it. */
PonderStatus ponder_vk_replay_log_dispatch (PonderVkDevice *device, PonderVkKernel kernel,
                                            const uint32_t *spec, uint32_t n_spec,
                                            const uint32_t groups[3],
                                            const PonderVkBuffer **buffers, uint32_t n_buffers,
                                            const void *push, uint32_t push_bytes,
                                            PonderError *error);
PonderStatus ponder_vk_replay_log_copy (PonderVkDevice *device, const PonderVkBuffer *src,
                                        size_t src_offset, const PonderVkBuffer *dst,
                                        size_t dst_offset, size_t size_bytes,
                                        PonderError *error);
void         ponder_vk_replay_abort    (PonderVkDevice *device);
PonderStatus ponder_vk_replay_submit   (PonderVkDevice *device, PonderError *error);
