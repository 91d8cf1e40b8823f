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
  PonderVkBuffer          q8_scratch;     /* ponder_vk_q8_scratch */
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
