/* vulkan-instance.c: opening the loader, the instance, probing devices.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * libvulkan.so.1 is opened with dlopen so that Ponder starts (and runs on
 * the CPU) on a machine with no Vulkan at all; the reason is kept in the
 * error for the caller to show.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "vulkan-private.h"

PonderVkParams
ponder_vk_params_default (void)
{
  PonderVkParams params = { 0 };

  params.device_index = -1;
  return params;
}

PonderStatus
ponder_vk_check (VkResult     result,
                 const char  *what,
                 PonderError *error)
{
  switch (result)
    {
    case VK_SUCCESS:
      return PONDER_OK;
    case VK_ERROR_OUT_OF_HOST_MEMORY:
      return ponder_error_set (error, PONDER_ERROR_NO_MEMORY, "%s: out of host memory", what);
    case VK_ERROR_OUT_OF_DEVICE_MEMORY:
      return ponder_error_set (error, PONDER_ERROR_NO_MEMORY, "%s: out of device memory", what);
    case VK_ERROR_DEVICE_LOST:
      return ponder_error_set (error, PONDER_ERROR_DEVICE,
                               "%s: the Vulkan device was lost; reload on the CPU or "
                               "another device", what);
    default:
      return ponder_error_set (error, PONDER_ERROR_DEVICE, "%s failed (VkResult %d)",
                               what, (int) result);
    }
}

static VKAPI_ATTR VkBool32 VKAPI_CALL
on_debug_message (VkDebugUtilsMessageSeverityFlagBitsEXT      severity,
                  VkDebugUtilsMessageTypeFlagsEXT             types,
                  const VkDebugUtilsMessengerCallbackDataEXT *data,
                  void                                       *user_data)
{
  PonderVulkan *vk = user_data;

  /* Count, never print: the engine does not write to stderr. The first
   * message is kept so a failing test can say what it was. */
  if (atomic_fetch_add (&vk->n_messages, 1) == 0 && data != NULL && data->pMessage != NULL)
    snprintf (vk->first_message, sizeof vk->first_message, "%s", data->pMessage);
  return VK_FALSE;
}

static bool
has_layer (PFN_vkEnumerateInstanceLayerProperties enumerate,
           const char                            *name)
{
  VkLayerProperties *layers;
  uint32_t n = 0;
  bool found = false;

  if (enumerate (&n, NULL) != VK_SUCCESS || n == 0)
    return false;
  layers = calloc (n, sizeof *layers);
  if (layers == NULL)
    return false;
  if (enumerate (&n, layers) == VK_SUCCESS)
    for (uint32_t i = 0; i < n && !found; i++)
      found = strcmp (layers[i].layerName, name) == 0;
  free (layers);
  return found;
}

static bool
has_instance_extension (PFN_vkEnumerateInstanceExtensionProperties enumerate,
                        const char                                *name)
{
  VkExtensionProperties *exts;
  uint32_t n = 0;
  bool found = false;

  if (enumerate (NULL, &n, NULL) != VK_SUCCESS || n == 0)
    return false;
  exts = calloc (n, sizeof *exts);
  if (exts == NULL)
    return false;
  if (enumerate (NULL, &n, exts) == VK_SUCCESS)
    for (uint32_t i = 0; i < n && !found; i++)
      found = strcmp (exts[i].extensionName, name) == 0;
  free (exts);
  return found;
}

static PonderStatus
open_loader (PonderVulkan         *vk,
             const PonderVkParams *params,
             PonderError          *error)
{
  const char *path = params->loader_path != NULL ? params->loader_path : PONDER_VK_LOADER_DEFAULT;
  const char *why;

  vk->library = dlopen (path, RTLD_NOW | RTLD_LOCAL);
  if (vk->library == NULL)
    {
      why = dlerror ();
      return ponder_error_set (error, PONDER_ERROR_UNSUPPORTED, "no Vulkan loader found (%s)",
                               why != NULL ? why : path);
    }
  /* dlsym returns void *; the cast to a function pointer is what POSIX
   * requires to work. */
  *(void **) &vk->get_instance_proc_addr = dlsym (vk->library, "vkGetInstanceProcAddr");
  if (vk->get_instance_proc_addr == NULL)
    return ponder_error_set (error, PONDER_ERROR_UNSUPPORTED,
                             "no Vulkan loader found (%s has no vkGetInstanceProcAddr)", path);
  return PONDER_OK;
}

static PonderStatus
create_instance (PonderVulkan         *vk,
                 const PonderVkParams *params,
                 PonderError          *error)
{
  PFN_vkGetInstanceProcAddr gipa = vk->get_instance_proc_addr;
  PFN_vkCreateInstance create = (PFN_vkCreateInstance) gipa (NULL, "vkCreateInstance");
  PFN_vkEnumerateInstanceVersion version =
    (PFN_vkEnumerateInstanceVersion) gipa (NULL, "vkEnumerateInstanceVersion");
  PFN_vkEnumerateInstanceLayerProperties layers =
    (PFN_vkEnumerateInstanceLayerProperties) gipa (NULL, "vkEnumerateInstanceLayerProperties");
  PFN_vkEnumerateInstanceExtensionProperties exts = (PFN_vkEnumerateInstanceExtensionProperties)
    gipa (NULL, "vkEnumerateInstanceExtensionProperties");
  const char *layer_names[1] = { "VK_LAYER_KHRONOS_validation" };
  const char *ext_names[1] = { VK_EXT_DEBUG_UTILS_EXTENSION_NAME };
  VkApplicationInfo app = { VK_STRUCTURE_TYPE_APPLICATION_INFO };
  VkInstanceCreateInfo info = { VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO };
  bool debug_utils;
  uint32_t api = VK_API_VERSION_1_0;
  PonderStatus status;
  VkResult result;

  if (create == NULL || exts == NULL || layers == NULL)
    return ponder_error_set (error, PONDER_ERROR_UNSUPPORTED,
                             "the Vulkan loader lacks vkCreateInstance");
  if (version == NULL || version (&api) != VK_SUCCESS || api < VK_API_VERSION_1_2)
    return ponder_error_set (error, PONDER_ERROR_UNSUPPORTED,
                             "the Vulkan loader offers version %u.%u, Ponder needs 1.2",
                             VK_API_VERSION_MAJOR (api), VK_API_VERSION_MINOR (api));
  vk->api_version = VK_API_VERSION_1_2;
  app.pApplicationName = "Ponder";
  app.pEngineName = "ponder-engine";
  app.apiVersion = vk->api_version;
  info.pApplicationInfo = &app;
  debug_utils = has_instance_extension (exts, VK_EXT_DEBUG_UTILS_EXTENSION_NAME);
  if (debug_utils)
    {
      info.enabledExtensionCount = 1;
      info.ppEnabledExtensionNames = ext_names;
    }
  if (params->validation)
    {
      if (!has_layer (layers, layer_names[0]))
        return ponder_error_set (error, PONDER_ERROR_UNSUPPORTED,
                                 "validation asked for, but %s is not installed", layer_names[0]);
      info.enabledLayerCount = 1;
      info.ppEnabledLayerNames = layer_names;
    }
  result = create (&info, NULL, &vk->instance);
  /* The loader answers INCOMPATIBLE_DRIVER when it finds no driver at all. */
  if (result == VK_ERROR_INCOMPATIBLE_DRIVER)
    return ponder_error_set (error, PONDER_ERROR_DEVICE,
                             "no Vulkan device (the loader found no driver for Vulkan 1.2; "
                             "on Debian, mesa-vulkan-drivers provides one for the CPU)");
  status = ponder_vk_check (result, "vkCreateInstance", error);
  if (status != PONDER_OK)
    return status;

#define PONDER_VK_LOAD_INSTANCE_FN(name)                                \
  vk->fn.name = (PFN_##name) gipa (vk->instance, #name);                \
  if (vk->fn.name == NULL)                                              \
    return ponder_error_set (error, PONDER_ERROR_UNSUPPORTED,           \
                             "the Vulkan instance lacks %s", #name);
  PONDER_VK_INSTANCE_FNS (PONDER_VK_LOAD_INSTANCE_FN)
#undef PONDER_VK_LOAD_INSTANCE_FN

  if (debug_utils)
    {
      vk->fn.vkCreateDebugUtilsMessengerEXT = (PFN_vkCreateDebugUtilsMessengerEXT)
        gipa (vk->instance, "vkCreateDebugUtilsMessengerEXT");
      vk->fn.vkDestroyDebugUtilsMessengerEXT = (PFN_vkDestroyDebugUtilsMessengerEXT)
        gipa (vk->instance, "vkDestroyDebugUtilsMessengerEXT");
      vk->fn.vkSetDebugUtilsObjectNameEXT = (PFN_vkSetDebugUtilsObjectNameEXT)
        gipa (vk->instance, "vkSetDebugUtilsObjectNameEXT");
    }
  return PONDER_OK;
}

static PonderStatus
create_messenger (PonderVulkan *vk,
                  PonderError  *error)
{
  VkDebugUtilsMessengerCreateInfoEXT info = {
    VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CREATE_INFO_EXT
  };

  if (vk->fn.vkCreateDebugUtilsMessengerEXT == NULL)
    return ponder_error_set (error, PONDER_ERROR_UNSUPPORTED,
                             "validation asked for, but VK_EXT_debug_utils is missing");
  info.messageSeverity = VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT
                         | VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT;
  info.messageType = VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT
                     | VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT
                     | VK_DEBUG_UTILS_MESSAGE_TYPE_PERFORMANCE_BIT_EXT;
  info.pfnUserCallback = on_debug_message;
  info.pUserData = vk;
  return ponder_vk_check (vk->fn.vkCreateDebugUtilsMessengerEXT (vk->instance, &info, NULL,
                                                                 &vk->messenger),
                          "vkCreateDebugUtilsMessengerEXT", error);
}

static bool
has_device_extension (PonderVulkan *vk,
                      VkPhysicalDevice pd,
                      const char     *name)
{
  VkExtensionProperties *exts;
  uint32_t n = 0;
  bool found = false;

  if (vk->fn.vkEnumerateDeviceExtensionProperties (pd, NULL, &n, NULL) != VK_SUCCESS || n == 0)
    return false;
  exts = calloc (n, sizeof *exts);
  if (exts == NULL)
    return false;
  if (vk->fn.vkEnumerateDeviceExtensionProperties (pd, NULL, &n, exts) == VK_SUCCESS)
    for (uint32_t i = 0; i < n && !found; i++)
      found = strcmp (exts[i].extensionName, name) == 0;
  free (exts);
  return found;
}

static PonderDeviceKind
kind_of (VkPhysicalDeviceType type)
{
  switch (type)
    {
    case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU:
      return PONDER_DEVICE_DISCRETE;
    case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU:
      return PONDER_DEVICE_INTEGRATED;
    case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU:
      return PONDER_DEVICE_VIRTUAL;
    case VK_PHYSICAL_DEVICE_TYPE_CPU:
      return PONDER_DEVICE_CPU;
    case VK_PHYSICAL_DEVICE_TYPE_OTHER:
    default:
      return PONDER_DEVICE_OTHER;
    }
}

static void
probe_memory (PonderVulkan     *vk,
              PonderVkPhysical *dev)
{
  bool any_local = false;

  vk->fn.vkGetPhysicalDeviceMemoryProperties (dev->handle, &dev->mem);
  for (uint32_t h = 0; h < dev->mem.memoryHeapCount; h++)
    if ((dev->mem.memoryHeaps[h].flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT)
        && dev->mem.memoryHeaps[h].size > dev->device_local_bytes)
      dev->device_local_bytes = dev->mem.memoryHeaps[h].size;
  /* UMA: every device-local type can be mapped, so uploads skip staging. */
  dev->uma = true;
  for (uint32_t t = 0; t < dev->mem.memoryTypeCount; t++)
    {
      VkMemoryPropertyFlags f = dev->mem.memoryTypes[t].propertyFlags;

      if (f & VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT)
        {
          any_local = true;
          if (!(f & VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT))
            dev->uma = false;
        }
    }
  dev->uma = dev->uma && any_local;
}

static void
probe_queues (PonderVulkan     *vk,
              PonderVkPhysical *dev)
{
  VkQueueFamilyProperties families[16];
  uint32_t n = 16;

  vk->fn.vkGetPhysicalDeviceQueueFamilyProperties (dev->handle, &n, families);
  for (uint32_t i = 0; i < n && !dev->has_compute_queue; i++)
    if (families[i].queueFlags & VK_QUEUE_COMPUTE_BIT)
      {
        dev->queue_family = i;
        dev->has_compute_queue = true;
      }
}

static void
probe_device (PonderVulkan     *vk,
              PonderVkPhysical *dev)
{
  VkPhysicalDeviceSubgroupProperties subgroup = {
    VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_PROPERTIES
  };
  VkPhysicalDeviceProperties2 props2 = { VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2 };
  VkPhysicalDeviceShaderIntegerDotProductFeatures dot = {
    VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_INTEGER_DOT_PRODUCT_FEATURES
  };
  VkPhysicalDeviceShaderIntegerDotProductProperties dot_props = {
    VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_INTEGER_DOT_PRODUCT_PROPERTIES
  };
  VkPhysicalDeviceVulkan12Features v12 = { VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES };
  VkPhysicalDeviceVulkan11Features v11 = { VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_1_FEATURES };
  VkPhysicalDeviceFeatures2 features2 = { VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2 };
  bool dot_ext;

  vk->fn.vkGetPhysicalDeviceProperties (dev->handle, &dev->props);
  dev->kind = kind_of (dev->props.deviceType);
  probe_memory (vk, dev);
  probe_queues (vk, dev);
  if (dev->props.apiVersion < VK_API_VERSION_1_2)
    return; /* the feature structs below are 1.2 core; leave them false */
  /* Integer dot product is core in 1.3, an extension before; the instance
   * asks for 1.2, so using it takes the extension (vulkan-device.c). */
  dev->has_int8_dot_ext = has_device_extension (vk, dev->handle,
                                                VK_KHR_SHADER_INTEGER_DOT_PRODUCT_EXTENSION_NAME);
  dot_ext = dev->props.apiVersion >= VK_API_VERSION_1_3 || dev->has_int8_dot_ext;
  props2.pNext = &subgroup;
  subgroup.pNext = dot_ext ? &dot_props : NULL;
  vk->fn.vkGetPhysicalDeviceProperties2 (dev->handle, &props2);
  dev->subgroup_size = subgroup.subgroupSize;
  dev->has_subgroup_arith = (subgroup.supportedStages & VK_SHADER_STAGE_COMPUTE_BIT)
                            && (subgroup.supportedOperations & VK_SUBGROUP_FEATURE_ARITHMETIC_BIT);
  dev->int8_dot_fast = dot_ext && dot_props.integerDotProduct4x8BitPackedSignedAccelerated;
  features2.pNext = &v11;
  v11.pNext = &v12;
  v12.pNext = dot_ext ? &dot : NULL;
  vk->fn.vkGetPhysicalDeviceFeatures2 (dev->handle, &features2);
  dev->has_storage16 = v11.storageBuffer16BitAccess;
  dev->has_float16 = v12.shaderFloat16;
  dev->has_int8_dot = dot_ext && dot.shaderIntegerDotProduct;
}

static int
kind_rank (PonderDeviceKind kind)
{
  switch (kind)
    {
    case PONDER_DEVICE_DISCRETE:
      return 0;
    case PONDER_DEVICE_INTEGRATED:
      return 1;
    case PONDER_DEVICE_VIRTUAL:
      return 2;
    case PONDER_DEVICE_CPU:
      return 3;
    case PONDER_DEVICE_OTHER:
    default:
      return 4;
    }
}

static PonderStatus
enumerate_devices (PonderVulkan *vk,
                   PonderError  *error)
{
  VkPhysicalDevice *handles;
  uint32_t n = 0;
  int best_rank = 99;
  PonderStatus status;

  status = ponder_vk_check (vk->fn.vkEnumeratePhysicalDevices (vk->instance, &n, NULL),
                            "vkEnumeratePhysicalDevices", error);
  if (status != PONDER_OK)
    return status;
  if (n == 0)
    return ponder_error_set (error, PONDER_ERROR_DEVICE,
                             "no Vulkan device (the loader lists no driver; on Debian, "
                             "mesa-vulkan-drivers provides one for the CPU)");
  handles = calloc (n, sizeof *handles);
  vk->devices = calloc (n, sizeof *vk->devices);
  if (handles == NULL || vk->devices == NULL)
    {
      free (handles);
      return ponder_error_set (error, PONDER_ERROR_NO_MEMORY, "out of memory listing devices");
    }
  status = ponder_vk_check (vk->fn.vkEnumeratePhysicalDevices (vk->instance, &n, handles),
                            "vkEnumeratePhysicalDevices", error);
  if (status != PONDER_OK)
    {
      free (handles);
      return status;
    }
  for (uint32_t i = 0; i < n; i++)
    {
      PonderVkPhysical *dev = &vk->devices[i];

      dev->handle = handles[i];
      probe_device (vk, dev);
      /* A device without a compute queue or 1.2 cannot run our shaders. */
      if (dev->has_compute_queue && dev->props.apiVersion >= VK_API_VERSION_1_2
          && kind_rank (dev->kind) < best_rank)
        {
          best_rank = kind_rank (dev->kind);
          vk->default_device = i;
        }
    }
  vk->n_devices = n;
  free (handles);
  if (best_rank == 99)
    return ponder_error_set (error, PONDER_ERROR_DEVICE,
                             "no usable Vulkan device (%u listed, none with Vulkan 1.2 compute)",
                             n);
  return PONDER_OK;
}

PonderStatus
ponder_vk_open (const PonderVkParams *params,
                PonderVulkan        **out_vk,
                PonderError          *error)
{
  PonderVkParams defaults = ponder_vk_params_default ();
  PonderVulkan *vk;
  PonderStatus status;

  *out_vk = NULL;
  if (params == NULL)
    params = &defaults;
  vk = calloc (1, sizeof *vk);
  if (vk == NULL)
    return ponder_error_set (error, PONDER_ERROR_NO_MEMORY, "out of memory opening Vulkan");
  atomic_init (&vk->n_messages, 0);
  status = open_loader (vk, params, error);
  if (status == PONDER_OK)
    status = create_instance (vk, params, error);
  if (status == PONDER_OK && params->validation)
    status = create_messenger (vk, error);
  if (status == PONDER_OK)
    status = enumerate_devices (vk, error);
  if (status != PONDER_OK)
    {
      ponder_vk_close (vk);
      return status;
    }
  *out_vk = vk;
  return PONDER_OK;
}

void
ponder_vk_close (PonderVulkan *vk)
{
  if (vk == NULL)
    return;
  if (vk->messenger != VK_NULL_HANDLE)
    vk->fn.vkDestroyDebugUtilsMessengerEXT (vk->instance, vk->messenger, NULL);
  if (vk->instance != VK_NULL_HANDLE && vk->fn.vkDestroyInstance != NULL)
    vk->fn.vkDestroyInstance (vk->instance, NULL);
  if (vk->library != NULL)
    dlclose (vk->library);
  free (vk->devices);
  free (vk);
}

void
ponder_vk_describe (const PonderVulkan *vk,
                    uint32_t            index,
                    PonderDeviceInfo   *info)
{
  const PonderVkPhysical *dev = &vk->devices[index];

  memset (info, 0, sizeof *info);
  snprintf (info->name, sizeof info->name, "%s", dev->props.deviceName);
  info->kind = dev->kind;
  info->memory_bytes = dev->device_local_bytes;
  info->subgroup_size = dev->subgroup_size;
  info->has_float16 = dev->has_float16;
  info->has_storage16 = dev->has_storage16;
  info->has_int8_dot = dev->has_int8_dot;
  info->is_default = index == vk->default_device;
}

size_t
ponder_list_devices (PonderDeviceInfo *out,
                     size_t            max,
                     PonderError      *error)
{
  PonderVulkan *vk;
  size_t n;

  if (ponder_vk_open (NULL, &vk, error) != PONDER_OK)
    return 0;
  n = vk->n_devices;
  for (size_t i = 0; i < n && i < max; i++)
    ponder_vk_describe (vk, (uint32_t) i, &out[i]);
  ponder_vk_close (vk);
  return n;
}
