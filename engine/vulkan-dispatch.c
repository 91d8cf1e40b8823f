/* vulkan-dispatch.c: pipelines, descriptor sets and step recording.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Pipelines are built lazily per (kernel, specialization constants) into
 * the device's in-process table, through its VkPipelineCache. Every
 * dispatch is checked before it is recorded (style.md 4.4): a malformed one
 * is an error, never an abort.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "error.h"
#include "vulkan-device-private.h"

/* Short name for the call sites below (keeps them under 100 columns). */
static inline PonderStatus
check (PonderVkDevice *device,
       VkResult        result,
       const char     *what,
       PonderError    *error)
{
  return ponder_vk_device_check (device, result, what, error);
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
  PonderVkPipelineEntry *entry;
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
  if (device->n_pipelines == PONDER_VK_MAX_PIPELINES)
    return ponder_error_set (error, PONDER_ERROR_UNSUPPORTED,
                             "kernel %s: more than %d pipeline variants", info->name,
                             PONDER_VK_MAX_PIPELINES);
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
  ponder_vk_device_name (device, VK_OBJECT_TYPE_PIPELINE, (uint64_t) entry->pipeline, name);
  *out_pipeline = entry->pipeline;
  return PONDER_OK;
}

/* Descriptors -------------------------------------------------------------- */

static PonderStatus
add_pool (PonderVkDevice   *device,
          VkDescriptorPool *pools,
          uint32_t         *n_pools,
          PonderError      *error)
{
  VkDescriptorPoolSize sizes[2] = {
    { VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, PONDER_VK_SETS_PER_POOL * PONDER_VK_MAX_BINDINGS },
    { VK_DESCRIPTOR_TYPE_UNIFORM_TEXEL_BUFFER, PONDER_VK_SETS_PER_POOL * PONDER_VK_N_TEXEL },
  };
  VkDescriptorPoolCreateInfo info = { VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO };

  if (*n_pools == PONDER_VK_MAX_POOLS)
    return ponder_error_set (error, PONDER_ERROR_UNSUPPORTED,
                             "a step needs more than %d descriptor sets",
                             PONDER_VK_MAX_POOLS * PONDER_VK_SETS_PER_POOL);
  info.maxSets = PONDER_VK_SETS_PER_POOL;
  info.poolSizeCount = 2;
  info.pPoolSizes = sizes;
  return check (device, device->fn.vkCreateDescriptorPool (device->device, &info, NULL,
                                          &pools[(*n_pools)++]),
                "vkCreateDescriptorPool", error);
}

/* Takes a set from pools (the device's for this step, reset once it has
 * run, or a kept recording's), chaining a new pool when the current one is
 * spent. */
static PonderStatus
take_set (PonderVkDevice   *device,
          VkDescriptorPool *pools,
          uint32_t         *n_pools,
          uint32_t         *pool_in_use,
          VkDescriptorSet  *out_set,
          PonderError      *error)
{
  VkDescriptorSetAllocateInfo alloc = { VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO };
  PonderStatus status;
  VkResult result;

  alloc.descriptorSetCount = 1;
  alloc.pSetLayouts = &device->set_layout;
  for (;;)
    {
      if (*pool_in_use == *n_pools)
        {
          status = add_pool (device, pools, n_pools, error);
          if (status != PONDER_OK)
            return status;
        }
      alloc.descriptorPool = pools[*pool_in_use];
      result = device->fn.vkAllocateDescriptorSets (device->device, &alloc, out_set);
      if (result != VK_ERROR_OUT_OF_POOL_MEMORY && result != VK_ERROR_FRAGMENTED_POOL)
        return check (device, result, "vkAllocateDescriptorSets", error);
      (*pool_in_use)++;
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
  if (device->recording || device->in_flight)
    return ponder_error_set (error, PONDER_ERROR_INVALID_ARGUMENT,
                             "ponder_vk_begin while %s",
                             device->recording ? "already recording" : "a submission runs");
  device->fn.vkResetCommandPool (device->device, device->command_pool, 0);
  begin.flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT;
  status = check (device, device->fn.vkBeginCommandBuffer (device->cmd, &begin),
                  "vkBeginCommandBuffer", error);
  if (status != PONDER_OK)
    return status;
  device->recording = true;
  device->n_recorded = 0;
  device->n_commands++;
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

const VkFormat ponder_vk_texel_formats[PONDER_VK_N_TEXEL] = {
  VK_FORMAT_R32_UINT, VK_FORMAT_R32G32B32A32_SFLOAT, VK_FORMAT_R32G32B32A32_UINT,
};
const uint32_t ponder_vk_texel_bytes[PONDER_VK_N_TEXEL] = { 4, 16, 16 };
/* Which of a kernel's buffers each texel binding shows. */
static const uint32_t texel_buffer[PONDER_VK_N_TEXEL] = { 0, 1, 0 };

/* Elements of one view of buffer from its offset in texels of texel_bytes. */
static uint64_t
texel_elements (const PonderVkDevice *device,
                const PonderVkBuffer *buffer,
                uint32_t              texel_bytes)
{
  uint64_t n = buffer->size / texel_bytes;
  uint64_t max = device->phys->props.limits.maxTexelBufferElements;

  return n < max ? n : max;
}

bool
ponder_vk_texel_fits (const PonderVkDevice *device,
                      const PonderVkBuffer *buffer,
                      uint32_t              texel_bytes,
                      uint64_t              bytes)
{
  VkDeviceSize align = device->phys->props.limits.minTexelBufferOffsetAlignment;

  /* A full view table makes the caller take its storage-buffer kernel
   * rather than fail (a dispatch may need a view for each texel binding). */
  return device->n_views + PONDER_VK_N_TEXEL <= PONDER_VK_MAX_VIEWS
         && (align == 0 || buffer->offset % align == 0)
         && bytes <= texel_elements (device, buffer, texel_bytes) * texel_bytes;
}

PonderStatus
ponder_vk_texel_view (PonderVkDevice       *device,
                      const PonderVkBuffer *buffer,
                      uint32_t              slot,
                      VkBufferView         *out_view,
                      PonderError          *error)
{
  VkBufferViewCreateInfo info = { VK_STRUCTURE_TYPE_BUFFER_VIEW_CREATE_INFO };
  VkFormat format = ponder_vk_texel_formats[slot];
  PonderVkViewEntry *e;
  PonderStatus status;

  for (uint32_t i = 0; i < device->n_views; i++)
    {
      e = &device->views[i];
      if (e->buffer == buffer->buffer && e->offset == buffer->offset && e->format == format)
        {
          *out_view = e->view;
          return PONDER_OK;
        }
    }
  if (device->n_views == PONDER_VK_MAX_VIEWS)
    return ponder_error_set (error, PONDER_ERROR_UNSUPPORTED,
                             "more than %d texel-buffer views", PONDER_VK_MAX_VIEWS);
  if (texel_elements (device, buffer, ponder_vk_texel_bytes[slot]) == 0)
    return ponder_error_set (error, PONDER_ERROR_INVALID_ARGUMENT,
                             "a buffer of %llu bytes is too small for a texel view",
                             (unsigned long long) buffer->size);
  info.buffer = buffer->buffer;
  info.format = format;
  info.offset = buffer->offset;
  info.range = texel_elements (device, buffer, ponder_vk_texel_bytes[slot])
               * ponder_vk_texel_bytes[slot];
  e = &device->views[device->n_views];
  status = check (device, device->fn.vkCreateBufferView (device->device, &info, NULL, &e->view),
                  "vkCreateBufferView", error);
  if (status != PONDER_OK)
    return status;
  e->buffer = buffer->buffer;
  e->offset = buffer->offset;
  e->format = format;
  device->n_views++;
  *out_view = e->view;
  return PONDER_OK;
}

/* The texel views a kernel reads (the dummy ones elsewhere). */
static PonderStatus
texel_views (PonderVkDevice           *device,
             const PonderVkKernelInfo *info,
             const PonderVkBuffer    **buffers,
             VkBufferView              views[PONDER_VK_N_TEXEL],
             PonderError              *error)
{
  PonderStatus status = PONDER_OK;

  for (uint32_t slot = 0; slot < PONDER_VK_N_TEXEL && status == PONDER_OK; slot++)
    if (info->texel & (1u << slot))
      status = ponder_vk_texel_view (device, buffers[texel_buffer[slot]], slot, &views[slot],
                                     error);
    else
      views[slot] = device->dummy_views[slot];
  return status;
}

static void
write_set (PonderVkDevice        *device,
           VkDescriptorSet        set,
           const PonderVkBuffer **buffers,
           uint32_t               n_buffers,
           const VkBufferView     views[PONDER_VK_N_TEXEL])
{
  VkDescriptorBufferInfo infos[PONDER_VK_MAX_BINDINGS];
  VkWriteDescriptorSet writes[PONDER_VK_MAX_BINDINGS + PONDER_VK_N_TEXEL];

  /* Every binding of the shared layout gets a buffer (bindings a kernel
   * does not use repeat its first), so no descriptor is left undefined. */
  for (uint32_t i = 0; i < PONDER_VK_MAX_BINDINGS; i++)
    {
      const PonderVkBuffer *b = buffers[i < n_buffers ? i : 0];

      infos[i].buffer = b->buffer;
      infos[i].offset = b->offset;
      infos[i].range = VK_WHOLE_SIZE;
      memset (&writes[i], 0, sizeof writes[i]);
      writes[i].sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET;
      writes[i].dstSet = set;
      writes[i].dstBinding = i;
      writes[i].descriptorCount = 1;
      writes[i].descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER;
      writes[i].pBufferInfo = &infos[i];
    }
  for (uint32_t slot = 0; slot < PONDER_VK_N_TEXEL; slot++)
    {
      VkWriteDescriptorSet *w = &writes[PONDER_VK_MAX_BINDINGS + slot];

      memset (w, 0, sizeof *w);
      w->sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET;
      w->dstSet = set;
      w->dstBinding = PONDER_VK_TEXEL_BINDING + slot;
      w->descriptorCount = 1;
      w->descriptorType = VK_DESCRIPTOR_TYPE_UNIFORM_TEXEL_BUFFER;
      w->pTexelBufferView = &views[slot];
    }
  device->fn.vkUpdateDescriptorSets (device->device, PONDER_VK_MAX_BINDINGS + PONDER_VK_N_TEXEL,
                                     writes, 0, NULL);
}

void
ponder_vk_record_barrier (PonderVkDevice  *device,
                          VkCommandBuffer  cmd)
{
  VkMemoryBarrier barrier = { VK_STRUCTURE_TYPE_MEMORY_BARRIER };

  /* Each op reads what the one before wrote; a global barrier is the
   * simplest correct order and costs little next to the dispatches. Copies
   * (KV stores, embeddings) take part like dispatches. */
  const VkPipelineStageFlags stages = VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT
                                      | VK_PIPELINE_STAGE_TRANSFER_BIT;

  barrier.srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT;
  barrier.dstAccessMask = VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT
                          | VK_ACCESS_TRANSFER_READ_BIT | VK_ACCESS_TRANSFER_WRITE_BIT;
  device->fn.vkCmdPipelineBarrier (cmd, stages, stages, 0, 1, &barrier, 0, NULL, 0, NULL);
}

void
ponder_vk_record_host_barrier (PonderVkDevice  *device,
                               VkCommandBuffer  cmd)
{
  VkMemoryBarrier barrier = { VK_STRUCTURE_TYPE_MEMORY_BARRIER };

  /* Make the last writes visible to the host's reads of mapped memory. */
  barrier.srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT;
  barrier.dstAccessMask = VK_ACCESS_HOST_READ_BIT;
  device->fn.vkCmdPipelineBarrier (cmd, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT
                                   | VK_PIPELINE_STAGE_TRANSFER_BIT,
                                   VK_PIPELINE_STAGE_HOST_BIT, 0, 1, &barrier, 0, NULL, 0, NULL);
}

PonderStatus
ponder_vk_record_dispatch (PonderVkDevice        *device,
                           VkCommandBuffer        cmd,
                           VkDescriptorPool      *pools,
                           uint32_t              *n_pools,
                           uint32_t              *pool_in_use,
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
  const PonderVkKernelInfo *info = ponder_vk_kernel_info (kernel);
  VkBufferView views[PONDER_VK_N_TEXEL];
  VkPipeline pipeline = VK_NULL_HANDLE; /* set by get_pipeline; gcc cannot tell */
  VkDescriptorSet set;
  PonderStatus status;

  status = get_pipeline (device, kernel, spec, n_spec, &pipeline, error);
  if (status == PONDER_OK)
    status = texel_views (device, info, buffers, views, error);
  if (status == PONDER_OK)
    status = take_set (device, pools, n_pools, pool_in_use, &set, error);
  if (status != PONDER_OK)
    return status;
  write_set (device, set, buffers, n_buffers, views);
  device->fn.vkCmdBindPipeline (cmd, VK_PIPELINE_BIND_POINT_COMPUTE, pipeline);
  device->fn.vkCmdBindDescriptorSets (cmd, VK_PIPELINE_BIND_POINT_COMPUTE,
                                      device->pipeline_layout, 0, 1, &set, 0, NULL);
  if (push_bytes > 0)
    device->fn.vkCmdPushConstants (cmd, device->pipeline_layout, VK_SHADER_STAGE_COMPUTE_BIT, 0,
                                   push_bytes, push);
  device->fn.vkCmdDispatch (cmd, groups[0], groups[1], groups[2]);
  return PONDER_OK;
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
  PonderStatus status;

  if ((unsigned) kernel >= PONDER_VK_N_KERNELS)
    return ponder_error_set (error, PONDER_ERROR_INVALID_ARGUMENT, "unknown kernel %d",
                             (int) kernel);
  device->n_commands++; /* failed ones too: only ever a needless re-quantisation */
  info = ponder_vk_kernel_info (kernel);
  status = check_dispatch (device, info, spec, n_spec, groups, buffers, n_buffers, push_bytes,
                           error);
  if (status != PONDER_OK)
    return status;
  /* a kept step is recorded, if at all, when it is submitted */
  if (device->keeping != NULL)
    return ponder_vk_replay_log_dispatch (device, kernel, spec, n_spec, groups, buffers,
                                          n_buffers, push, push_bytes, error);
  if (device->n_recorded > 0)
    ponder_vk_record_barrier (device, device->cmd);
  status = ponder_vk_record_dispatch (device, device->cmd, device->pools, &device->n_pools,
                                      &device->pool_in_use, kernel, spec, n_spec, groups,
                                      buffers, n_buffers, push, push_bytes, error);
  if (status == PONDER_OK)
    device->n_recorded++;
  return status;
}

PonderStatus
ponder_vk_copy (PonderVkDevice       *device,
                const PonderVkBuffer *src,
                size_t                src_offset,
                const PonderVkBuffer *dst,
                size_t                dst_offset,
                size_t                size_bytes,
                PonderError          *error)
{
  VkBufferCopy region;

  device->n_commands++;
  if (!device->recording)
    return ponder_error_set (error, PONDER_ERROR_INVALID_ARGUMENT,
                             "buffer copy outside ponder_vk_begin/submit");
  if (src == NULL || dst == NULL || src->buffer == VK_NULL_HANDLE
      || dst->buffer == VK_NULL_HANDLE || src_offset > src->offset + src->size
      || size_bytes > src->offset + src->size - src_offset
      || dst_offset > dst->offset + dst->size
      || size_bytes > dst->offset + dst->size - dst_offset)
    return ponder_error_set (error, PONDER_ERROR_INVALID_ARGUMENT,
                             "buffer copy of %zu bytes (%zu -> %zu) overruns a buffer",
                             size_bytes, src_offset, dst_offset);
  if (size_bytes == 0)
    return PONDER_OK;
  if (device->keeping != NULL)
    return ponder_vk_replay_log_copy (device, src, src_offset, dst, dst_offset, size_bytes,
                                      error);
  if (device->n_recorded > 0)
    ponder_vk_record_barrier (device, device->cmd);
  region.srcOffset = src_offset;
  region.dstOffset = dst_offset;
  region.size = size_bytes;
  device->fn.vkCmdCopyBuffer (device->cmd, src->buffer, dst->buffer, 1, &region);
  device->n_recorded++;
  return PONDER_OK;
}

void
ponder_vk_abort (PonderVkDevice *device)
{
  if (!device->recording)
    return;
  if (device->keeping != NULL)
    {
      ponder_vk_replay_abort (device);
      return;
    }
  device->recording = false;
  device->fn.vkEndCommandBuffer (device->cmd);
  device->fn.vkResetCommandPool (device->device, device->command_pool, 0);
  reset_pools (device);
}

PonderVkBuffer
ponder_vk_buffer_view (const PonderVkBuffer *buffer,
                       VkDeviceSize          offset)
{
  PonderVkBuffer view = *buffer;

  view.offset = buffer->offset + offset;
  view.size = offset < buffer->size ? buffer->size - offset : 0;
  view.mapped = NULL;
  return view;
}

VkDeviceSize
ponder_vk_view_alignment (const PonderVkDevice *device)
{
  VkDeviceSize a = device->phys->props.limits.minStorageBufferOffsetAlignment;

  return a > 0 ? a : 1;
}

PonderStatus
ponder_vk_submit (PonderVkDevice *device,
                  PonderError    *error)
{
  PonderStatus status = ponder_vk_submit_async (device, error);

  return status == PONDER_OK ? ponder_vk_wait (device, error) : status;
}

PonderStatus
ponder_vk_wait (PonderVkDevice *device,
                PonderError    *error)
{
  PonderStatus status;

  if (!device->in_flight)
    return PONDER_OK;
  device->in_flight = false;
  status = check (device, device->fn.vkWaitForFences (device->device, 1, &device->fence,
                                                      VK_TRUE, UINT64_MAX),
                  "vkWaitForFences", error);
  reset_pools (device);
  return status;
}

PonderStatus
ponder_vk_submit_async (PonderVkDevice *device,
                        PonderError    *error)
{
  VkSubmitInfo submit = { VK_STRUCTURE_TYPE_SUBMIT_INFO };
  PonderStatus status;

  if (!device->recording)
    return ponder_error_set (error, PONDER_ERROR_INVALID_ARGUMENT,
                             "ponder_vk_submit without ponder_vk_begin");
  if (device->keeping != NULL)
    return ponder_vk_replay_submit (device, error);
  device->recording = false;
  ponder_vk_record_host_barrier (device, device->cmd);
  status = check (device, device->fn.vkEndCommandBuffer (device->cmd), "vkEndCommandBuffer",
                  error);
  if (status == PONDER_OK)
    status = check (device, device->fn.vkResetFences (device->device, 1, &device->fence),
                    "vkResetFences", error);
  if (status == PONDER_OK)
    {
      ponder_vk_mark_submit (device);
      submit.commandBufferCount = 1;
      submit.pCommandBuffers = &device->cmd;
      status = check (device, device->fn.vkQueueSubmit (device->queue, 1, &submit,
                                       device->fence),
                      "vkQueueSubmit", error);
    }
  if (status == PONDER_OK)
    device->in_flight = true;
  else
    reset_pools (device);
  return status;
}

void
ponder_vk_mark_submit (PonderVkDevice *device)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  device->submit_s = (double) ts.tv_sec + ts.tv_nsec * 1e-9;
}

double
ponder_vk_submit_time (const PonderVkDevice *device)
{
  return device->submit_s;
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
