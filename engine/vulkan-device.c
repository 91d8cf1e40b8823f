/* vulkan-device.c: logical device, buffers, pipelines, recording.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Design (style.md 4.4): one descriptor-set layout with PONDER_VK_MAX_BINDINGS
 * storage buffers and one pipeline layout with a 128-byte push range shared
 * by every kernel; pipelines built lazily per (kernel, specialization
 * constants) into an in-process table, on top of one VkPipelineCache that is
 * loaded from and written back to cache_dir. Descriptor sets come from
 * pools that are reset after each submitted step (a new pool is chained on
 * when a step needs more sets).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "vulkan-private.h"

#define SETS_PER_POOL     256
#define MAX_POOLS         64
#define MAX_PIPELINES     64

typedef struct
{
  PonderVkKernel kernel;
  uint32_t       spec[PONDER_VK_MAX_SPEC];
  uint32_t       n_spec;
  VkPipeline     pipeline;
} PipelineEntry;

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
  PipelineEntry           pipelines[MAX_PIPELINES];
  uint32_t                n_pipelines;
  VkShaderModule          modules[PONDER_VK_N_KERNELS];
  VkDescriptorPool        pools[MAX_POOLS];
  uint32_t                n_pools;        /* created */
  uint32_t                pool_in_use;    /* index sets are taken from */
  VkCommandPool           command_pool;
  VkCommandBuffer         cmd;
  VkFence                 fence;
  bool                    recording;
  uint32_t                n_recorded;     /* dispatches in this step */
  bool                    lost;           /* VK_ERROR_DEVICE_LOST seen: refuse work */
};

static PonderStatus
check (PonderVkDevice *device,
       VkResult        result,
       const char     *what,
       PonderError    *error)
{
  if (result == VK_ERROR_DEVICE_LOST)
    device->lost = true;
  return ponder_vk_check (result, what, error);
}

static void
name_object (PonderVkDevice *device,
             VkObjectType    type,
             uint64_t        handle,
             const char     *name)
{
  VkDebugUtilsObjectNameInfoEXT info = { VK_STRUCTURE_TYPE_DEBUG_UTILS_OBJECT_NAME_INFO_EXT };

  /* Names make validation messages and RenderDoc captures readable. */
  if (device->vk->fn.vkSetDebugUtilsObjectNameEXT == NULL || name == NULL)
    return;
  info.objectType = type;
  info.objectHandle = handle;
  info.pObjectName = name;
  device->vk->fn.vkSetDebugUtilsObjectNameEXT (device->device, &info);
}

static PonderStatus
create_logical_device (PonderVkDevice *device,
                       PonderError    *error)
{
  const PonderVkPhysical *phys = device->phys;
  float priority = 1.0f;
  VkDeviceQueueCreateInfo queue = { VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO };
  VkDeviceCreateInfo info = { VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO };
  PonderStatus status;

  queue.queueFamilyIndex = phys->queue_family;
  queue.queueCount = 1;
  queue.pQueuePriorities = &priority;
  info.queueCreateInfoCount = 1;
  info.pQueueCreateInfos = &queue;
  status = check (device, device->vk->fn.vkCreateDevice (phys->handle, &info, NULL,
                                                         &device->device),
                  "vkCreateDevice", error);
  if (status != PONDER_OK)
    return status;

#define PONDER_VK_LOAD_DEVICE_FN(name)                                              \
  device->fn.name = (PFN_##name) device->vk->fn.vkGetDeviceProcAddr (device->device, #name); \
  if (device->fn.name == NULL)                                                      \
    return ponder_error_set (error, PONDER_ERROR_UNSUPPORTED,                       \
                             "the Vulkan device %s lacks %s", phys->props.deviceName, #name);
  PONDER_VK_DEVICE_FNS (PONDER_VK_LOAD_DEVICE_FN)
#undef PONDER_VK_LOAD_DEVICE_FN

  device->fn.vkGetDeviceQueue (device->device, phys->queue_family, 0, &device->queue);
  return PONDER_OK;
}

static char *
cache_file_path (const PonderVkPhysical *phys,
                 const char             *cache_dir)
{
  char uuid[2 * VK_UUID_SIZE + 1];
  size_t len;
  char *path;

  for (int i = 0; i < VK_UUID_SIZE; i++)
    snprintf (uuid + 2 * i, 3, "%02x", phys->props.pipelineCacheUUID[i]);
  /* Keyed by everything that invalidates a driver's cache. */
  len = strlen (cache_dir) + 128;
  path = malloc (len);
  if (path != NULL)
    snprintf (path, len, "%s/vk-pipelines-%04x-%04x-%08x-%s.bin", cache_dir,
              phys->props.vendorID, phys->props.deviceID, phys->props.driverVersion, uuid);
  return path;
}

static void *
read_cache_file (const char *path,
                 size_t     *out_size)
{
  FILE *f = fopen (path, "rb");
  void *data = NULL;
  long size;

  *out_size = 0;
  if (f == NULL)
    return NULL;
  if (fseek (f, 0, SEEK_END) == 0 && (size = ftell (f)) > 0 && size < (64L << 20)
      && fseek (f, 0, SEEK_SET) == 0 && (data = malloc ((size_t) size)) != NULL)
    {
      if (fread (data, 1, (size_t) size, f) == (size_t) size)
        *out_size = (size_t) size;
      else
        {
          free (data);
          data = NULL;
        }
    }
  fclose (f);
  return data;
}

static PonderStatus
create_pipeline_cache (PonderVkDevice       *device,
                       const PonderVkParams *params,
                       PonderError          *error)
{
  VkPipelineCacheCreateInfo info = { VK_STRUCTURE_TYPE_PIPELINE_CACHE_CREATE_INFO };
  void *data = NULL;
  size_t size = 0;
  VkResult result;

  if (params->cache_dir != NULL)
    {
      device->cache_path = cache_file_path (device->phys, params->cache_dir);
      if (device->cache_path != NULL)
        data = read_cache_file (device->cache_path, &size);
    }
  /* The driver checks the header (vendor, device, UUID) and ignores a
   * stale or foreign blob, so a bad file only costs the compile time. */
  info.initialDataSize = size;
  info.pInitialData = data;
  result = device->fn.vkCreatePipelineCache (device->device, &info, NULL, &device->cache);
  if (result != VK_SUCCESS && data != NULL)
    {
      info.initialDataSize = 0;
      info.pInitialData = NULL;
      result = device->fn.vkCreatePipelineCache (device->device, &info, NULL, &device->cache);
    }
  free (data);
  return check (device, result, "vkCreatePipelineCache", error);
}

static void
save_pipeline_cache (PonderVkDevice *device)
{
  size_t size = 0;
  void *data;
  FILE *f;
  char *tmp;

  if (device->cache_path == NULL || device->cache == VK_NULL_HANDLE)
    return;
  if (device->fn.vkGetPipelineCacheData (device->device, device->cache, &size, NULL)
      != VK_SUCCESS || size == 0)
    return;
  data = malloc (size);
  tmp = malloc (strlen (device->cache_path) + 5);
  if (data != NULL && tmp != NULL
      && device->fn.vkGetPipelineCacheData (device->device, device->cache, &size, data)
         == VK_SUCCESS)
    {
      /* Write then rename, so a crash never leaves half a cache. The cache
       * is an optimisation: failures are silent. */
      sprintf (tmp, "%s.tmp", device->cache_path);
      f = fopen (tmp, "wb");
      if (f != NULL)
        {
          bool ok = fwrite (data, 1, size, f) == size;

          if (fclose (f) == 0 && ok)
            rename (tmp, device->cache_path);
          else
            remove (tmp);
        }
    }
  free (tmp);
  free (data);
}

static PonderStatus
create_layouts (PonderVkDevice *device,
                PonderError    *error)
{
  VkDescriptorSetLayoutBinding bindings[PONDER_VK_MAX_BINDINGS];
  VkDescriptorSetLayoutCreateInfo set_info = {
    VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO
  };
  VkPushConstantRange push = { VK_SHADER_STAGE_COMPUTE_BIT, 0, PONDER_VK_PUSH_MAX };
  VkPipelineLayoutCreateInfo layout_info = { VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO };
  PonderStatus status;

  for (uint32_t i = 0; i < PONDER_VK_MAX_BINDINGS; i++)
    {
      bindings[i].binding = i;
      bindings[i].descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER;
      bindings[i].descriptorCount = 1;
      bindings[i].stageFlags = VK_SHADER_STAGE_COMPUTE_BIT;
      bindings[i].pImmutableSamplers = NULL;
    }
  set_info.bindingCount = PONDER_VK_MAX_BINDINGS;
  set_info.pBindings = bindings;
  status = check (device, device->fn.vkCreateDescriptorSetLayout (device->device, &set_info,
                                                                  NULL, &device->set_layout),
                  "vkCreateDescriptorSetLayout", error);
  if (status != PONDER_OK)
    return status;
  layout_info.setLayoutCount = 1;
  layout_info.pSetLayouts = &device->set_layout;
  layout_info.pushConstantRangeCount = 1;
  layout_info.pPushConstantRanges = &push;
  return check (device, device->fn.vkCreatePipelineLayout (device->device, &layout_info, NULL,
                                                           &device->pipeline_layout),
                "vkCreatePipelineLayout", error);
}

static PonderStatus
create_commands (PonderVkDevice *device,
                 PonderError    *error)
{
  VkCommandPoolCreateInfo pool_info = { VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO };
  VkCommandBufferAllocateInfo alloc = { VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO };
  VkFenceCreateInfo fence_info = { VK_STRUCTURE_TYPE_FENCE_CREATE_INFO };
  PonderStatus status;

  pool_info.flags = VK_COMMAND_POOL_CREATE_TRANSIENT_BIT;
  pool_info.queueFamilyIndex = device->phys->queue_family;
  status = check (device, device->fn.vkCreateCommandPool (device->device, &pool_info, NULL,
                                                          &device->command_pool),
                  "vkCreateCommandPool", error);
  if (status != PONDER_OK)
    return status;
  alloc.commandPool = device->command_pool;
  alloc.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY;
  alloc.commandBufferCount = 1;
  status = check (device, device->fn.vkAllocateCommandBuffers (device->device, &alloc,
                                                               &device->cmd),
                  "vkAllocateCommandBuffers", error);
  if (status != PONDER_OK)
    return status;
  return check (device, device->fn.vkCreateFence (device->device, &fence_info, NULL,
                                                  &device->fence),
                "vkCreateFence", error);
}

PonderStatus
ponder_vk_device_new (PonderVulkan         *vk,
                      int                   index,
                      const PonderVkParams *params,
                      PonderVkDevice      **out_device,
                      PonderError          *error)
{
  PonderVkParams defaults = ponder_vk_params_default ();
  PonderVkDevice *device;
  PonderStatus status;

  *out_device = NULL;
  if (params == NULL)
    params = &defaults;
  if (index < 0)
    index = (int) vk->default_device;
  if ((uint32_t) index >= vk->n_devices)
    return ponder_error_set (error, PONDER_ERROR_INVALID_ARGUMENT,
                             "Vulkan device index %d out of range (there are %u)",
                             index, vk->n_devices);
  if (!vk->devices[index].has_compute_queue
      || vk->devices[index].props.apiVersion < VK_API_VERSION_1_2)
    return ponder_error_set (error, PONDER_ERROR_UNSUPPORTED,
                             "Vulkan device %d (%s) has no Vulkan 1.2 compute queue", index,
                             vk->devices[index].props.deviceName);
  device = calloc (1, sizeof *device);
  if (device == NULL)
    return ponder_error_set (error, PONDER_ERROR_NO_MEMORY, "out of memory opening a device");
  device->vk = vk;
  device->phys = &vk->devices[index];
  status = create_logical_device (device, error);
  if (status == PONDER_OK)
    status = create_pipeline_cache (device, params, error);
  if (status == PONDER_OK)
    status = create_layouts (device, error);
  if (status == PONDER_OK)
    status = create_commands (device, error);
  if (status != PONDER_OK)
    {
      ponder_error_prefix (error, "%s: ", device->phys->props.deviceName);
      ponder_vk_device_free (device);
      return status;
    }
  *out_device = device;
  return PONDER_OK;
}

void
ponder_vk_device_free (PonderVkDevice *device)
{
  if (device == NULL)
    return;
  if (device->device != VK_NULL_HANDLE)
    {
      device->fn.vkDeviceWaitIdle (device->device);
      save_pipeline_cache (device);
      for (uint32_t i = 0; i < device->n_pipelines; i++)
        device->fn.vkDestroyPipeline (device->device, device->pipelines[i].pipeline, NULL);
      for (int k = 0; k < PONDER_VK_N_KERNELS; k++)
        if (device->modules[k] != VK_NULL_HANDLE)
          device->fn.vkDestroyShaderModule (device->device, device->modules[k], NULL);
      for (uint32_t i = 0; i < device->n_pools; i++)
        device->fn.vkDestroyDescriptorPool (device->device, device->pools[i], NULL);
      if (device->fence != VK_NULL_HANDLE)
        device->fn.vkDestroyFence (device->device, device->fence, NULL);
      if (device->command_pool != VK_NULL_HANDLE)
        device->fn.vkDestroyCommandPool (device->device, device->command_pool, NULL);
      if (device->pipeline_layout != VK_NULL_HANDLE)
        device->fn.vkDestroyPipelineLayout (device->device, device->pipeline_layout, NULL);
      if (device->set_layout != VK_NULL_HANDLE)
        device->fn.vkDestroyDescriptorSetLayout (device->device, device->set_layout, NULL);
      if (device->cache != VK_NULL_HANDLE)
        device->fn.vkDestroyPipelineCache (device->device, device->cache, NULL);
      device->fn.vkDestroyDevice (device->device, NULL);
    }
  free (device->cache_path);
  free (device);
}

const PonderVkPhysical *
ponder_vk_device_physical (const PonderVkDevice *device)
{
  return device->phys;
}

uint32_t
ponder_vk_device_n_pipelines (const PonderVkDevice *device)
{
  return device->n_pipelines;
}

/* Buffers ---------------------------------------------------------------- */

static int
find_memory_type (const PonderVkPhysical *phys,
                  uint32_t                allowed,
                  VkMemoryPropertyFlags   want)
{
  for (uint32_t t = 0; t < phys->mem.memoryTypeCount; t++)
    if ((allowed & (1u << t)) && (phys->mem.memoryTypes[t].propertyFlags & want) == want)
      return (int) t;
  return -1;
}

static int
choose_memory_type (const PonderVkPhysical *phys,
                    uint32_t                allowed,
                    PonderVkMemory          memory)
{
  const VkMemoryPropertyFlags local = VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT;
  const VkMemoryPropertyFlags host = VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT
                                     | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
  int t = -1;

  if (memory == PONDER_VK_MEMORY_DEVICE)
    {
      /* Mappable device memory (UMA, lavapipe, ReBAR) saves the staging copy. */
      if (phys->uma)
        t = find_memory_type (phys, allowed, local | host);
      if (t < 0)
        t = find_memory_type (phys, allowed, local);
    }
  else
    {
      t = find_memory_type (phys, allowed, host | VK_MEMORY_PROPERTY_HOST_CACHED_BIT);
      if (t < 0)
        t = find_memory_type (phys, allowed, host);
    }
  return t;
}

PonderStatus
ponder_vk_buffer_new (PonderVkDevice *device,
                      size_t          size_bytes,
                      PonderVkMemory  memory,
                      const char     *name,
                      PonderVkBuffer *out_buffer,
                      PonderError    *error)
{
  VkBufferCreateInfo info = { VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO };
  VkMemoryAllocateInfo alloc = { VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO };
  VkMemoryRequirements req;
  PonderVkBuffer buf = { 0 };
  PonderStatus status;
  int type;

  memset (out_buffer, 0, sizeof *out_buffer);
  if (device->lost)
    return ponder_error_set (error, PONDER_ERROR_DEVICE, "the Vulkan device was lost");
  /* Shaders read words: round up so the last partial word is in range. */
  info.size = ((VkDeviceSize) size_bytes + 15) & ~(VkDeviceSize) 15;
  if (info.size == 0)
    info.size = 16;
  info.usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_TRANSFER_SRC_BIT
               | VK_BUFFER_USAGE_TRANSFER_DST_BIT;
  info.sharingMode = VK_SHARING_MODE_EXCLUSIVE;
  status = check (device, device->fn.vkCreateBuffer (device->device, &info, NULL, &buf.buffer),
                  "vkCreateBuffer", error);
  if (status != PONDER_OK)
    return status;
  buf.size = info.size;
  device->fn.vkGetBufferMemoryRequirements (device->device, buf.buffer, &req);
  type = choose_memory_type (device->phys, req.memoryTypeBits, memory);
  if (type < 0)
    {
      ponder_vk_buffer_free (device, &buf);
      return ponder_error_set (error, PONDER_ERROR_UNSUPPORTED,
                               "%s: no suitable Vulkan memory type for buffer %s",
                               device->phys->props.deviceName, name != NULL ? name : "?");
    }
  alloc.allocationSize = req.size;
  alloc.memoryTypeIndex = (uint32_t) type;
  status = check (device, device->fn.vkAllocateMemory (device->device, &alloc, NULL, &buf.memory),
                  "vkAllocateMemory", error);
  if (status == PONDER_OK)
    status = check (device, device->fn.vkBindBufferMemory (device->device, buf.buffer,
                                                           buf.memory, 0),
                    "vkBindBufferMemory", error);
  if (status == PONDER_OK
      && (device->phys->mem.memoryTypes[type].propertyFlags & VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT))
    status = check (device, device->fn.vkMapMemory (device->device, buf.memory, 0, VK_WHOLE_SIZE,
                                                    0, &buf.mapped),
                    "vkMapMemory", error);
  if (status != PONDER_OK)
    {
      ponder_vk_buffer_free (device, &buf);
      ponder_error_prefix (error, "buffer %s (%zu bytes): ", name != NULL ? name : "?",
                           size_bytes);
      return status;
    }
  name_object (device, VK_OBJECT_TYPE_BUFFER, (uint64_t) buf.buffer, name);
  *out_buffer = buf;
  return PONDER_OK;
}

void
ponder_vk_buffer_free (PonderVkDevice *device,
                       PonderVkBuffer *buffer)
{
  if (buffer->mapped != NULL)
    device->fn.vkUnmapMemory (device->device, buffer->memory);
  if (buffer->buffer != VK_NULL_HANDLE)
    device->fn.vkDestroyBuffer (device->device, buffer->buffer, NULL);
  if (buffer->memory != VK_NULL_HANDLE)
    device->fn.vkFreeMemory (device->device, buffer->memory, NULL);
  memset (buffer, 0, sizeof *buffer);
}

/* Copies between a host-visible staging buffer and buffer with a one-off
 * command buffer. */
static PonderStatus
staged_copy (PonderVkDevice       *device,
             const PonderVkBuffer *buffer,
             size_t                offset,
             void                 *data,
             size_t                size_bytes,
             bool                  upload,
             PonderError          *error)
{
  VkCommandBufferBeginInfo begin = { VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO };
  PonderVkBuffer staging;
  VkBufferCopy region = { 0 };
  PonderStatus status;

  status = ponder_vk_buffer_new (device, size_bytes, PONDER_VK_MEMORY_HOST, "staging", &staging,
                                 error);
  if (status != PONDER_OK)
    return status;
  if (upload)
    memcpy (staging.mapped, data, size_bytes);
  region.srcOffset = upload ? 0 : offset;
  region.dstOffset = upload ? offset : 0;
  region.size = size_bytes;
  begin.flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT;
  device->fn.vkResetCommandPool (device->device, device->command_pool, 0);
  status = check (device, device->fn.vkBeginCommandBuffer (device->cmd, &begin),
                  "vkBeginCommandBuffer", error);
  if (status == PONDER_OK)
    {
      device->fn.vkCmdCopyBuffer (device->cmd, upload ? staging.buffer : buffer->buffer,
                                  upload ? buffer->buffer : staging.buffer, 1, &region);
      device->recording = true;
      device->n_recorded = 0;
      status = ponder_vk_submit (device, error);
    }
  if (status == PONDER_OK && !upload)
    memcpy (data, staging.mapped, size_bytes);
  ponder_vk_buffer_free (device, &staging);
  return status;
}

static PonderStatus
check_copy (PonderVkDevice       *device,
            const PonderVkBuffer *buffer,
            size_t                offset,
            size_t                size_bytes,
            PonderError          *error)
{
  if (device->recording)
    return ponder_error_set (error, PONDER_ERROR_INVALID_ARGUMENT,
                             "buffer copy while a step is being recorded");
  if (device->lost)
    return ponder_error_set (error, PONDER_ERROR_DEVICE, "the Vulkan device was lost");
  if (offset > buffer->size || size_bytes > buffer->size - offset)
    return ponder_error_set (error, PONDER_ERROR_INVALID_ARGUMENT,
                             "buffer copy of %zu bytes at %zu overruns a buffer of %llu",
                             size_bytes, offset, (unsigned long long) buffer->size);
  return PONDER_OK;
}

PonderStatus
ponder_vk_buffer_upload (PonderVkDevice       *device,
                         const PonderVkBuffer *buffer,
                         size_t                offset,
                         const void           *data,
                         size_t                size_bytes,
                         PonderError          *error)
{
  PonderStatus status = check_copy (device, buffer, offset, size_bytes, error);

  if (status != PONDER_OK || size_bytes == 0)
    return status;
  if (buffer->mapped != NULL)
    {
      memcpy ((uint8_t *) buffer->mapped + offset, data, size_bytes);
      return PONDER_OK;
    }
  return staged_copy (device, buffer, offset, (void *) data, size_bytes, true, error);
}

PonderStatus
ponder_vk_buffer_download (PonderVkDevice       *device,
                           const PonderVkBuffer *buffer,
                           size_t                offset,
                           void                 *data,
                           size_t                size_bytes,
                           PonderError          *error)
{
  PonderStatus status = check_copy (device, buffer, offset, size_bytes, error);

  if (status != PONDER_OK || size_bytes == 0)
    return status;
  if (buffer->mapped != NULL)
    {
      memcpy (data, (const uint8_t *) buffer->mapped + offset, size_bytes);
      return PONDER_OK;
    }
  return staged_copy (device, buffer, offset, data, size_bytes, false, error);
}

/* Pipelines ---------------------------------------------------------------- */

static PonderStatus
get_module (PonderVkDevice *device,
            PonderVkKernel  kernel,
            VkShaderModule *out_module,
            PonderError    *error)
{
  const PonderVkKernelInfo *info = ponder_vk_kernel_info (kernel);
  VkShaderModuleCreateInfo create = { VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO };
  PonderStatus status;

  if (device->modules[kernel] == VK_NULL_HANDLE)
    {
      create.codeSize = info->spirv_bytes;
      create.pCode = info->spirv;
      status = check (device, device->fn.vkCreateShaderModule (device->device, &create, NULL,
                                                               &device->modules[kernel]),
                      "vkCreateShaderModule", error);
      if (status != PONDER_OK)
        {
          ponder_error_prefix (error, "kernel %s: ", info->name);
          return status;
        }
    }
  *out_module = device->modules[kernel];
  return PONDER_OK;
}

/* Returns the pipeline of (kernel, spec), building it on first use. */
static PonderStatus
get_pipeline (PonderVkDevice  *device,
              PonderVkKernel   kernel,
              const uint32_t  *spec,
              uint32_t         n_spec,
              VkPipeline      *out_pipeline,
              PonderError     *error)
{
  const PonderVkKernelInfo *info = ponder_vk_kernel_info (kernel);
  VkSpecializationMapEntry entries[PONDER_VK_MAX_SPEC];
  VkSpecializationInfo spec_info = { 0 };
  VkComputePipelineCreateInfo create = { VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO };
  PipelineEntry *entry;
  VkShaderModule module;
  PonderStatus status;
  char name[96];

  for (uint32_t i = 0; i < device->n_pipelines; i++)
    {
      entry = &device->pipelines[i];
      if (entry->kernel == kernel && entry->n_spec == n_spec
          && memcmp (entry->spec, spec, n_spec * sizeof *spec) == 0)
        {
          *out_pipeline = entry->pipeline;
          return PONDER_OK;
        }
    }
  if (device->n_pipelines == MAX_PIPELINES)
    return ponder_error_set (error, PONDER_ERROR_UNSUPPORTED,
                             "kernel %s: more than %d pipeline variants", info->name,
                             MAX_PIPELINES);
  status = get_module (device, kernel, &module, error);
  if (status != PONDER_OK)
    return status;
  for (uint32_t i = 0; i < n_spec; i++)
    {
      entries[i].constantID = i;
      entries[i].offset = i * sizeof (uint32_t);
      entries[i].size = sizeof (uint32_t);
    }
  spec_info.mapEntryCount = n_spec;
  spec_info.pMapEntries = entries;
  spec_info.dataSize = n_spec * sizeof (uint32_t);
  spec_info.pData = spec;
  create.stage.sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO;
  create.stage.stage = VK_SHADER_STAGE_COMPUTE_BIT;
  create.stage.module = module;
  create.stage.pName = "main";
  create.stage.pSpecializationInfo = &spec_info;
  create.layout = device->pipeline_layout;
  entry = &device->pipelines[device->n_pipelines];
  status = check (device, device->fn.vkCreateComputePipelines (device->device, device->cache, 1,
                                                               &create, NULL, &entry->pipeline),
                  "vkCreateComputePipelines", error);
  if (status != PONDER_OK)
    {
      ponder_error_prefix (error, "kernel %s: ", info->name);
      return status;
    }
  entry->kernel = kernel;
  entry->n_spec = n_spec;
  memcpy (entry->spec, spec, n_spec * sizeof *spec);
  device->n_pipelines++;
  snprintf (name, sizeof name, "%s/wg%u", info->name, n_spec > 0 ? spec[0] : 0);
  name_object (device, VK_OBJECT_TYPE_PIPELINE, (uint64_t) entry->pipeline, name);
  *out_pipeline = entry->pipeline;
  return PONDER_OK;
}

/* Descriptors -------------------------------------------------------------- */

static PonderStatus
add_pool (PonderVkDevice *device,
          PonderError    *error)
{
  VkDescriptorPoolSize size = { VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
                                SETS_PER_POOL * PONDER_VK_MAX_BINDINGS };
  VkDescriptorPoolCreateInfo info = { VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO };

  if (device->n_pools == MAX_POOLS)
    return ponder_error_set (error, PONDER_ERROR_UNSUPPORTED,
                             "a step needs more than %d descriptor sets",
                             MAX_POOLS * SETS_PER_POOL);
  info.maxSets = SETS_PER_POOL;
  info.poolSizeCount = 1;
  info.pPoolSizes = &size;
  return check (device, device->fn.vkCreateDescriptorPool (device->device, &info, NULL,
                                                           &device->pools[device->n_pools++]),
                "vkCreateDescriptorPool", error);
}

/* Takes a set from the pools of this step, chaining a new pool when the
 * current one is spent; all are reset once the step has run. */
static PonderStatus
take_set (PonderVkDevice  *device,
          VkDescriptorSet *out_set,
          PonderError     *error)
{
  VkDescriptorSetAllocateInfo alloc = { VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO };
  PonderStatus status;
  VkResult result;

  alloc.descriptorSetCount = 1;
  alloc.pSetLayouts = &device->set_layout;
  for (;;)
    {
      if (device->pool_in_use == device->n_pools)
        {
          status = add_pool (device, error);
          if (status != PONDER_OK)
            return status;
        }
      alloc.descriptorPool = device->pools[device->pool_in_use];
      result = device->fn.vkAllocateDescriptorSets (device->device, &alloc, out_set);
      if (result != VK_ERROR_OUT_OF_POOL_MEMORY && result != VK_ERROR_FRAGMENTED_POOL)
        return check (device, result, "vkAllocateDescriptorSets", error);
      device->pool_in_use++;
    }
}

static void
reset_pools (PonderVkDevice *device)
{
  for (uint32_t i = 0; i < device->n_pools; i++)
    device->fn.vkResetDescriptorPool (device->device, device->pools[i], 0);
  device->pool_in_use = 0;
}

/* Recording ---------------------------------------------------------------- */

PonderStatus
ponder_vk_begin (PonderVkDevice *device,
                 PonderError    *error)
{
  VkCommandBufferBeginInfo begin = { VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO };
  PonderStatus status;

  if (device->lost)
    return ponder_error_set (error, PONDER_ERROR_DEVICE, "the Vulkan device was lost");
  if (device->recording)
    return ponder_error_set (error, PONDER_ERROR_INVALID_ARGUMENT,
                             "ponder_vk_begin while already recording");
  device->fn.vkResetCommandPool (device->device, device->command_pool, 0);
  begin.flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT;
  status = check (device, device->fn.vkBeginCommandBuffer (device->cmd, &begin),
                  "vkBeginCommandBuffer", error);
  if (status != PONDER_OK)
    return status;
  device->recording = true;
  device->n_recorded = 0;
  return PONDER_OK;
}

static PonderStatus
check_dispatch (const PonderVkDevice      *device,
                const PonderVkKernelInfo  *info,
                const uint32_t            *spec,
                uint32_t                   n_spec,
                const uint32_t             groups[3],
                const PonderVkBuffer     **buffers,
                uint32_t                   n_buffers,
                uint32_t                   push_bytes,
                PonderError               *error)
{
  const VkPhysicalDeviceLimits *limits = &device->phys->props.limits;

  if (!device->recording)
    return ponder_error_set (error, PONDER_ERROR_INVALID_ARGUMENT,
                             "kernel %s: dispatch outside ponder_vk_begin/submit", info->name);
  if (n_spec != info->n_spec || n_spec > PONDER_VK_MAX_SPEC)
    return ponder_error_set (error, PONDER_ERROR_INVALID_ARGUMENT,
                             "kernel %s: %u specialization constants, the shader has %u",
                             info->name, n_spec, info->n_spec);
  if (n_spec > 0 && (spec[0] == 0 || (spec[0] & (spec[0] - 1)) != 0
                     || spec[0] > limits->maxComputeWorkGroupSize[0]
                     || spec[0] > limits->maxComputeWorkGroupInvocations))
    return ponder_error_set (error, PONDER_ERROR_INVALID_ARGUMENT,
                             "kernel %s: workgroup size %u is not a power of two within %u",
                             info->name, spec[0], limits->maxComputeWorkGroupSize[0]);
  if (n_buffers != info->n_buffers)
    return ponder_error_set (error, PONDER_ERROR_INVALID_ARGUMENT,
                             "kernel %s: %u buffers, the shader binds %u", info->name,
                             n_buffers, info->n_buffers);
  for (uint32_t i = 0; i < n_buffers; i++)
    if (buffers[i] == NULL || buffers[i]->buffer == VK_NULL_HANDLE)
      return ponder_error_set (error, PONDER_ERROR_INVALID_ARGUMENT,
                               "kernel %s: buffer %u is not allocated", info->name, i);
  if (push_bytes != info->push_bytes)
    return ponder_error_set (error, PONDER_ERROR_INVALID_ARGUMENT,
                             "kernel %s: %u push-constant bytes, the shader declares %u",
                             info->name, push_bytes, info->push_bytes);
  for (int d = 0; d < 3; d++)
    if (groups[d] == 0 || groups[d] > limits->maxComputeWorkGroupCount[d])
      return ponder_error_set (error, PONDER_ERROR_UNSUPPORTED,
                               "kernel %s: %u workgroups on axis %d, the device allows 1..%u",
                               info->name, groups[d], d, limits->maxComputeWorkGroupCount[d]);
  return PONDER_OK;
}

static void
write_set (PonderVkDevice        *device,
           VkDescriptorSet        set,
           const PonderVkBuffer **buffers,
           uint32_t               n_buffers)
{
  VkDescriptorBufferInfo infos[PONDER_VK_MAX_BINDINGS];
  VkWriteDescriptorSet writes[PONDER_VK_MAX_BINDINGS];

  /* Every binding of the shared layout gets a buffer (bindings a kernel
   * does not use repeat its first), so no descriptor is left undefined. */
  for (uint32_t i = 0; i < PONDER_VK_MAX_BINDINGS; i++)
    {
      const PonderVkBuffer *b = buffers[i < n_buffers ? i : 0];

      infos[i].buffer = b->buffer;
      infos[i].offset = 0;
      infos[i].range = VK_WHOLE_SIZE;
      memset (&writes[i], 0, sizeof writes[i]);
      writes[i].sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET;
      writes[i].dstSet = set;
      writes[i].dstBinding = i;
      writes[i].descriptorCount = 1;
      writes[i].descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER;
      writes[i].pBufferInfo = &infos[i];
    }
  device->fn.vkUpdateDescriptorSets (device->device, PONDER_VK_MAX_BINDINGS, writes, 0, NULL);
}

static void
record_barrier (PonderVkDevice *device)
{
  VkMemoryBarrier barrier = { VK_STRUCTURE_TYPE_MEMORY_BARRIER };

  /* Each op reads what the one before wrote; a global barrier is the
   * simplest correct order and costs little next to the dispatches. */
  barrier.srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT;
  barrier.dstAccessMask = VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT;
  device->fn.vkCmdPipelineBarrier (device->cmd, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT,
                                   VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, 0, 1, &barrier,
                                   0, NULL, 0, NULL);
}

PonderStatus
ponder_vk_dispatch (PonderVkDevice        *device,
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
  const PonderVkKernelInfo *info;
  VkPipeline pipeline;
  VkDescriptorSet set;
  PonderStatus status;

  if ((unsigned) kernel >= PONDER_VK_N_KERNELS)
    return ponder_error_set (error, PONDER_ERROR_INVALID_ARGUMENT, "unknown kernel %d",
                             (int) kernel);
  info = ponder_vk_kernel_info (kernel);
  status = check_dispatch (device, info, spec, n_spec, groups, buffers, n_buffers, push_bytes,
                           error);
  if (status == PONDER_OK)
    status = get_pipeline (device, kernel, spec, n_spec, &pipeline, error);
  if (status == PONDER_OK)
    status = take_set (device, &set, error);
  if (status != PONDER_OK)
    return status;
  write_set (device, set, buffers, n_buffers);
  if (device->n_recorded > 0)
    record_barrier (device);
  device->fn.vkCmdBindPipeline (device->cmd, VK_PIPELINE_BIND_POINT_COMPUTE, pipeline);
  device->fn.vkCmdBindDescriptorSets (device->cmd, VK_PIPELINE_BIND_POINT_COMPUTE,
                                      device->pipeline_layout, 0, 1, &set, 0, NULL);
  if (push_bytes > 0)
    device->fn.vkCmdPushConstants (device->cmd, device->pipeline_layout,
                                   VK_SHADER_STAGE_COMPUTE_BIT, 0, push_bytes, push);
  device->fn.vkCmdDispatch (device->cmd, groups[0], groups[1], groups[2]);
  device->n_recorded++;
  return PONDER_OK;
}

PonderStatus
ponder_vk_submit (PonderVkDevice *device,
                  PonderError    *error)
{
  VkSubmitInfo submit = { VK_STRUCTURE_TYPE_SUBMIT_INFO };
  VkMemoryBarrier barrier = { VK_STRUCTURE_TYPE_MEMORY_BARRIER };
  PonderStatus status;

  if (!device->recording)
    return ponder_error_set (error, PONDER_ERROR_INVALID_ARGUMENT,
                             "ponder_vk_submit without ponder_vk_begin");
  device->recording = false;
  /* Make the last writes visible to the host's reads of mapped memory. */
  barrier.srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT;
  barrier.dstAccessMask = VK_ACCESS_HOST_READ_BIT;
  device->fn.vkCmdPipelineBarrier (device->cmd, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT
                                   | VK_PIPELINE_STAGE_TRANSFER_BIT,
                                   VK_PIPELINE_STAGE_HOST_BIT, 0, 1, &barrier, 0, NULL, 0, NULL);
  status = check (device, device->fn.vkEndCommandBuffer (device->cmd), "vkEndCommandBuffer",
                  error);
  if (status == PONDER_OK)
    status = check (device, device->fn.vkResetFences (device->device, 1, &device->fence),
                    "vkResetFences", error);
  if (status == PONDER_OK)
    {
      submit.commandBufferCount = 1;
      submit.pCommandBuffers = &device->cmd;
      status = check (device, device->fn.vkQueueSubmit (device->queue, 1, &submit,
                                                        device->fence),
                      "vkQueueSubmit", error);
    }
  if (status == PONDER_OK)
    status = check (device, device->fn.vkWaitForFences (device->device, 1, &device->fence,
                                                        VK_TRUE, UINT64_MAX),
                    "vkWaitForFences", error);
  reset_pools (device);
  return status;
}

PonderStatus
ponder_vk_grid (const PonderVkDevice *device,
                uint64_t              n_groups,
                uint32_t              groups[3],
                PonderError          *error)
{
  const uint32_t *max = device->phys->props.limits.maxComputeWorkGroupCount;
  uint64_t x = n_groups < max[0] ? n_groups : max[0];
  uint64_t y;

  if (x == 0)
    x = 1;
  y = (n_groups + x - 1) / x;
  if (y == 0)
    y = 1;
  if (y > max[1])
    return ponder_error_set (error, PONDER_ERROR_UNSUPPORTED,
                             "%llu workgroups exceed the device's %u x %u grid",
                             (unsigned long long) n_groups, max[0], max[1]);
  groups[0] = (uint32_t) x;
  groups[1] = (uint32_t) y;
  groups[2] = 1;
  return PONDER_OK;
}
