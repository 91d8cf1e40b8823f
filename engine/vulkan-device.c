/* vulkan-device.c: logical device, pipeline cache, buffers and copies.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Design (style.md 4.4): one descriptor-set layout with PONDER_VK_MAX_BINDINGS
 * storage buffers then PONDER_VK_N_TEXEL uniform texel buffers (views made
 * on first use, vulkan-dispatch.c) and one pipeline layout with a 128-byte push range shared
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
#include "vulkan-device-private.h"

PonderStatus
ponder_vk_device_check (PonderVkDevice *device,
                        VkResult        result,
                        const char     *what,
                        PonderError    *error)
{
  if (result == VK_ERROR_DEVICE_LOST)
    device->lost = true;
  return ponder_vk_check (result, what, error);
}

/* Short name for the call sites below (keeps them under 100 columns). */
static inline PonderStatus
check (PonderVkDevice *device,
       VkResult        result,
       const char     *what,
       PonderError    *error)
{
  return ponder_vk_device_check (device, result, what, error);
}

void
ponder_vk_device_name (PonderVkDevice *device,
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
  VkPhysicalDeviceShaderIntegerDotProductFeatures dot = {
    VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_INTEGER_DOT_PRODUCT_FEATURES
  };
  VkPhysicalDeviceVulkan11Features v11 = { VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_1_FEATURES };
  const char *extensions[1] = { VK_KHR_SHADER_INTEGER_DOT_PRODUCT_EXTENSION_NAME };
  PonderStatus status;

  queue.queueFamilyIndex = phys->queue_family;
  queue.queueCount = 1;
  queue.pQueuePriorities = &priority;
  info.queueCreateInfoCount = 1;
  info.pQueueCreateInfos = &queue;
  /* Only features the device has: the integer-dot matmul kernels
   * (vulkan-ops.c) need the first, matmul_f16_h the second; everything else
   * is Vulkan 1.1/1.2 core that needs no enabling (subgroup operations) or
   * is not used. */
  if (phys->has_storage16)
    {
      v11.storageBuffer16BitAccess = VK_TRUE;
      v11.pNext = (void *) info.pNext;
      info.pNext = &v11;
      device->storage16 = true;
    }
  if (phys->has_int8_dot && phys->has_int8_dot_ext)
    {
      dot.shaderIntegerDotProduct = VK_TRUE;
      dot.pNext = (void *) info.pNext;
      info.pNext = &dot;
      info.enabledExtensionCount = 1;
      info.ppEnabledExtensionNames = extensions;
      device->int8_dot = true;
    }
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
  VkDescriptorSetLayoutBinding bindings[PONDER_VK_MAX_BINDINGS + PONDER_VK_N_TEXEL];
  VkDescriptorSetLayoutCreateInfo set_info = {
    VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO
  };
  VkPushConstantRange push = { VK_SHADER_STAGE_COMPUTE_BIT, 0, PONDER_VK_PUSH_MAX };
  VkPipelineLayoutCreateInfo layout_info = { VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO };
  PonderStatus status;

  for (uint32_t i = 0; i < PONDER_VK_MAX_BINDINGS + PONDER_VK_N_TEXEL; i++)
    {
      bindings[i].binding = i;
      bindings[i].descriptorType = i < PONDER_VK_MAX_BINDINGS
                                   ? VK_DESCRIPTOR_TYPE_STORAGE_BUFFER
                                   : VK_DESCRIPTOR_TYPE_UNIFORM_TEXEL_BUFFER;
      bindings[i].descriptorCount = 1;
      bindings[i].stageFlags = VK_SHADER_STAGE_COMPUTE_BIT;
      bindings[i].pImmutableSamplers = NULL;
    }
  set_info.bindingCount = PONDER_VK_MAX_BINDINGS + PONDER_VK_N_TEXEL;
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

/* Kernels that read no texel buffer still get a valid view at those
 * bindings (as with the storage bindings, none is left undefined). */
static PonderStatus
create_dummy_views (PonderVkDevice *device,
                    PonderError    *error)
{
  PonderStatus status;

  device->views = calloc (PONDER_VK_MAX_VIEWS, sizeof *device->views);
  if (device->views == NULL)
    return ponder_error_set (error, PONDER_ERROR_NO_MEMORY, "out of memory opening a device");
  status = ponder_vk_buffer_new (device, 16, PONDER_VK_MEMORY_DEVICE, "texel dummy",
                                 &device->dummy, error);
  for (uint32_t slot = 0; slot < PONDER_VK_N_TEXEL && status == PONDER_OK; slot++)
    status = ponder_vk_texel_view (device, &device->dummy, slot, &device->dummy_views[slot],
                                   error);
  return status;
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
  device->force_staging = params->force_staging;
  device->env_gpu_kernels = getenv ("PONDER_VK_GPU_KERNELS") != NULL
                            && strcmp (getenv ("PONDER_VK_GPU_KERNELS"), "1") == 0;
  device->env_no_int8_dot = getenv ("PONDER_VK_INT8_DOT") != NULL
                            && strcmp (getenv ("PONDER_VK_INT8_DOT"), "0") == 0;
  status = create_logical_device (device, error);
  if (status == PONDER_OK)
    status = create_pipeline_cache (device, params, error);
  if (status == PONDER_OK)
    status = create_layouts (device, error);
  if (status == PONDER_OK)
    status = create_commands (device, error);
  if (status == PONDER_OK)
    status = ponder_vk_iq_tables_new (device, &device->iq_tables, error);
  if (status == PONDER_OK)
    status = create_dummy_views (device, error);
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
      ponder_vk_buffer_free (device, &device->iq_tables);
      ponder_vk_buffer_free (device, &device->dummy);
      ponder_vk_buffer_free (device, &device->q8_scratch);
      for (uint32_t i = 0; i < device->n_q8_retired; i++)
        ponder_vk_buffer_free (device, &device->q8_retired[i]);
      /* Views of buffers their owners did not free. */
      for (uint32_t i = 0; i < device->n_views; i++)
        device->fn.vkDestroyBufferView (device->device, device->views[i].view, NULL);
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
  free (device->views);
  free (device->cache_path);
  free (device);
}

PonderStatus
ponder_vk_q8_scratch (PonderVkDevice        *device,
                      size_t                 size_bytes,
                      const PonderVkBuffer **out,
                      PonderError           *error)
{
  PonderVkBuffer fresh;
  size_t size = (size_t) 64 << 10;
  PonderStatus status;

  if (device->q8_scratch.buffer != VK_NULL_HANDLE && device->q8_scratch.size >= size_bytes)
    {
      *out = &device->q8_scratch;
      return PONDER_OK;
    }
  /* Doubling, so that a growing prompt retires few buffers. */
  while (size < size_bytes && size < SIZE_MAX / 2)
    size *= 2;
  if (device->n_q8_retired == PONDER_VK_MAX_RETIRED)
    return ponder_error_set (error, PONDER_ERROR_NO_MEMORY,
                             "the quantised activations outgrew their scratch %u times",
                             PONDER_VK_MAX_RETIRED);
  status = ponder_vk_buffer_new (device, size, PONDER_VK_MEMORY_DEVICE, "q8 scratch", &fresh,
                                 error);
  if (status != PONDER_OK)
    return status;
  if (device->q8_scratch.buffer != VK_NULL_HANDLE)
    device->q8_retired[device->n_q8_retired++] = device->q8_scratch;
  device->q8_scratch = fresh;
  *out = &device->q8_scratch;
  return PONDER_OK;
}

bool
ponder_vk_q8_current (const PonderVkDevice *device,
                      const PonderVkBuffer *x,
                      uint32_t              n_in,
                      uint32_t              n_tokens)
{
  VkDeviceSize x_end = x->offset + (VkDeviceSize) n_in * n_tokens * 4;

  /* Nothing recorded since (no write to x or the scratch, no new step),
   * no buffer freed (a handle may come back for another buffer), and that
   * product did not write into x. */
  return device->q8_last.x == x->buffer && device->q8_last.offset == x->offset
         && device->q8_last.n_in == n_in && device->q8_last.n_tokens == n_tokens
         && device->q8_last.at == device->n_commands
         && device->q8_last.generation == device->generation
         && (device->q8_last.y != x->buffer || device->q8_last.y_end <= x->offset
             || x_end <= device->q8_last.y_begin);
}

void
ponder_vk_q8_note (PonderVkDevice       *device,
                   const PonderVkBuffer *x,
                   uint32_t              n_in,
                   uint32_t              n_tokens,
                   const PonderVkBuffer *y,
                   size_t                y_bytes)
{
  device->q8_last.y = y->buffer;
  device->q8_last.y_begin = y->offset;
  device->q8_last.y_end = y->offset + y_bytes;
  device->q8_last.x = x->buffer;
  device->q8_last.offset = x->offset;
  device->q8_last.n_in = n_in;
  device->q8_last.n_tokens = n_tokens;
  device->q8_last.at = device->n_commands;
  device->q8_last.generation = device->generation;
}

static bool force_gpu_kernels;

void
ponder_vk_test_gpu_kernels (bool on)
{
  force_gpu_kernels = on;
}

unsigned
ponder_vk_matmul_features (const PonderVkDevice *device)
{
  const PonderVkPhysical *phys = device->phys;
  uint32_t sg = phys->subgroup_size;
  unsigned features = PONDER_VK_FEATURE_GPU;
  bool forced = force_gpu_kernels || device->env_gpu_kernels;

  if (phys->kind == PONDER_DEVICE_CPU && !forced)
    return 0;
  /* A row per subgroup in workgroups of 64 (vulkan-ops.c): the size must
   * divide 64; below 4 a row would have too few lanes to be worth it. */
  if (phys->has_subgroup_arith && sg >= 4 && sg <= 64 && (sg & (sg - 1)) == 0)
    {
      features |= PONDER_VK_FEATURE_SUBGROUP;
      /* Integer dot products where the device says they beat emulating
       * them (else the float kernels are as good); forced, wherever they
       * run, so that lavapipe tests them. */
      if (device->int8_dot && (phys->int8_dot_fast || forced) && !device->env_no_int8_dot)
        features |= PONDER_VK_FEATURE_INT8_DOT;
      if (device->storage16)
        features |= PONDER_VK_FEATURE_STORAGE16;
    }
  return features;
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
               | VK_BUFFER_USAGE_TRANSFER_DST_BIT | VK_BUFFER_USAGE_UNIFORM_TEXEL_BUFFER_BIT;
  info.sharingMode = VK_SHARING_MODE_EXCLUSIVE;
  status = check (device, device->fn.vkCreateBuffer (device->device, &info, NULL, &buf.buffer),
                  "vkCreateBuffer", error);
  if (status != PONDER_OK)
    {
      ponder_error_prefix (error, "buffer %s (%zu bytes): ", name != NULL ? name : "?",
                           size_bytes);
      return status;
    }
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
      && (device->phys->mem.memoryTypes[type].propertyFlags & VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT)
      && !(device->force_staging && memory == PONDER_VK_MEMORY_DEVICE))
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
  ponder_vk_device_name (device, VK_OBJECT_TYPE_BUFFER, (uint64_t) buf.buffer, name);
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
    {
      /* A new buffer may reuse the handle: kept steps that bound this one
       * must not be replayed (vulkan-replay.c). */
      device->generation++;
      /* Its texel views go first; the table stays packed. */
      for (uint32_t i = 0; i < device->n_views;)
        if (device->views[i].buffer == buffer->buffer)
          {
            device->fn.vkDestroyBufferView (device->device, device->views[i].view, NULL);
            device->views[i] = device->views[--device->n_views];
          }
        else
          i++;
      device->fn.vkDestroyBuffer (device->device, buffer->buffer, NULL);
    }
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
