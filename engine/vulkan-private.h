/* vulkan-private.h: the Vulkan compute runtime (internal).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The loader is opened with dlopen at run time (no link-time libvulkan), so
 * every entry point goes through the dispatch tables below. There is no
 * global state: a PonderVulkan holds the library, the instance and the list
 * of physical devices; a PonderVkDevice holds one logical device with its
 * queue, pipelines, descriptor pools and the command buffer of the step
 * being recorded. Neither is thread-safe; one thread drives a device.
 *
 * Recording: ponder_vk_begin, then any number of ponder_vk_dispatch (each
 * waits for the previous one's writes through a barrier), then
 * ponder_vk_submit, which submits, waits on the fence and turns a failure
 * into a PonderError (device loss is PONDER_ERROR_DEVICE, and the device
 * refuses further work).
 */
#pragma once

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VK_NO_PROTOTYPES
#include <vulkan/vulkan.h>

#include "ponder-engine.h"

#define PONDER_VK_LOADER_DEFAULT "libvulkan.so.1"

/* Entry points resolved through vkGetInstanceProcAddr (instance level). */
#define PONDER_VK_INSTANCE_FNS(X)                   \
  X (vkDestroyInstance)                             \
  X (vkEnumeratePhysicalDevices)                    \
  X (vkGetPhysicalDeviceProperties)                 \
  X (vkGetPhysicalDeviceProperties2)                \
  X (vkGetPhysicalDeviceFeatures2)                  \
  X (vkGetPhysicalDeviceMemoryProperties)           \
  X (vkGetPhysicalDeviceQueueFamilyProperties)      \
  X (vkEnumerateDeviceExtensionProperties)          \
  X (vkCreateDevice)                                \
  X (vkGetDeviceProcAddr)

/* Entry points resolved through vkGetDeviceProcAddr. */
#define PONDER_VK_DEVICE_FNS(X)                     \
  X (vkDestroyDevice)                               \
  X (vkGetDeviceQueue)                              \
  X (vkDeviceWaitIdle)                              \
  X (vkCreateBuffer)                                \
  X (vkDestroyBuffer)                               \
  X (vkGetBufferMemoryRequirements)                 \
  X (vkAllocateMemory)                              \
  X (vkFreeMemory)                                  \
  X (vkBindBufferMemory)                            \
  X (vkMapMemory)                                   \
  X (vkUnmapMemory)                                 \
  X (vkCreateShaderModule)                          \
  X (vkDestroyShaderModule)                         \
  X (vkCreateDescriptorSetLayout)                   \
  X (vkDestroyDescriptorSetLayout)                  \
  X (vkCreatePipelineLayout)                        \
  X (vkDestroyPipelineLayout)                       \
  X (vkCreateComputePipelines)                      \
  X (vkDestroyPipeline)                             \
  X (vkCreatePipelineCache)                         \
  X (vkDestroyPipelineCache)                        \
  X (vkGetPipelineCacheData)                        \
  X (vkCreateDescriptorPool)                        \
  X (vkDestroyDescriptorPool)                       \
  X (vkResetDescriptorPool)                         \
  X (vkAllocateDescriptorSets)                      \
  X (vkUpdateDescriptorSets)                        \
  X (vkCreateCommandPool)                           \
  X (vkDestroyCommandPool)                          \
  X (vkAllocateCommandBuffers)                      \
  X (vkResetCommandPool)                            \
  X (vkBeginCommandBuffer)                          \
  X (vkEndCommandBuffer)                            \
  X (vkCmdBindPipeline)                             \
  X (vkCmdBindDescriptorSets)                       \
  X (vkCmdPushConstants)                            \
  X (vkCmdDispatch)                                 \
  X (vkCmdPipelineBarrier)                          \
  X (vkCmdCopyBuffer)                               \
  X (vkCreateBufferView)                            \
  X (vkDestroyBufferView)                           \
  X (vkCreateFence)                                 \
  X (vkDestroyFence)                                \
  X (vkResetFences)                                 \
  X (vkWaitForFences)                               \
  X (vkQueueSubmit)

#define PONDER_VK_DECLARE_FN(name) PFN_##name name;

typedef struct
{
  PONDER_VK_INSTANCE_FNS (PONDER_VK_DECLARE_FN)
  /* VK_EXT_debug_utils, NULL when the instance lacks it. */
  PFN_vkCreateDebugUtilsMessengerEXT  vkCreateDebugUtilsMessengerEXT;
  PFN_vkDestroyDebugUtilsMessengerEXT vkDestroyDebugUtilsMessengerEXT;
  PFN_vkSetDebugUtilsObjectNameEXT    vkSetDebugUtilsObjectNameEXT;
} PonderVkInstanceFns;

typedef struct
{
  PONDER_VK_DEVICE_FNS (PONDER_VK_DECLARE_FN)
} PonderVkDeviceFns;

/* What we learned about one physical device. */
typedef struct
{
  VkPhysicalDevice                 handle;
  VkPhysicalDeviceProperties       props;
  VkPhysicalDeviceMemoryProperties mem;
  PonderDeviceKind                 kind;
  uint64_t                         device_local_bytes; /* largest device-local heap */
  uint32_t                         subgroup_size;
  uint32_t                         queue_family;       /* first with compute */
  bool                             has_compute_queue;
  bool                             has_storage16;      /* storageBuffer16BitAccess */
  bool                             has_float16;        /* shaderFloat16 */
  bool                             has_int8_dot;       /* shaderIntegerDotProduct */
  bool                             has_int8_dot_ext;   /* VK_KHR_shader_integer_dot_product */
  bool                             int8_dot_fast;      /* ...4x8BitPackedSignedAccelerated */
  bool                             has_subgroup_arith; /* subgroup arithmetic in compute */
  bool                             uma;                /* every device-local type is host-visible */
} PonderVkPhysical;

typedef struct
{
  const char *loader_path;    /* NULL: libvulkan.so.1; tests point it at nothing */
  bool        validation;     /* enable VK_LAYER_KHRONOS_validation and count its messages */
  int         device_index;   /* -1: discrete > integrated > virtual > cpu */
  const char *cache_dir;      /* where the pipeline cache lives; NULL: memory only */
  bool        force_staging;  /* never map device buffers (tests the discrete-GPU path on UMA) */
} PonderVkParams;

PonderVkParams ponder_vk_params_default (void);

typedef struct
{
  void                    *library;
  PFN_vkGetInstanceProcAddr get_instance_proc_addr;
  VkInstance               instance;
  PonderVkInstanceFns      fn;
  uint32_t                 api_version;
  VkDebugUtilsMessengerEXT messenger;
  atomic_uint              n_messages;     /* validation warnings and errors so far */
  char                     first_message[PONDER_ERROR_MESSAGE_MAX];
  PonderVkPhysical        *devices;        /* (n_devices) */
  uint32_t                 n_devices;
  uint32_t                 default_device; /* index by the preference order */
} PonderVulkan;

/* Opens the loader, creates an instance and probes every device. Fails with
 * PONDER_ERROR_UNSUPPORTED "no Vulkan loader found (...)" when the library
 * cannot be opened, PONDER_ERROR_DEVICE "no Vulkan device" when the instance
 * lists none; nothing is left open on failure. */
PonderStatus ponder_vk_open  (const PonderVkParams *params,
                              PonderVulkan        **out_vk,
                              PonderError          *error);
void         ponder_vk_close (PonderVulkan         *vk);

/* Fills info from a probed device. */
void         ponder_vk_describe (const PonderVulkan *vk,
                                 uint32_t            index,
                                 PonderDeviceInfo   *info);

/* Maps a failed VkResult to a status: out of memory -> NO_MEMORY, anything
 * else (device lost included) -> DEVICE. what names the call. */
PonderStatus ponder_vk_check (VkResult     result,
                              const char  *what,
                              PonderError *error);

/* Kernels: one pipeline per (kernel, specialization constants). */
typedef enum
{
  PONDER_VK_KERNEL_RMSNORM,
  PONDER_VK_KERNEL_MATMUL_F32,
  PONDER_VK_KERNEL_MATMUL_F16,
  PONDER_VK_KERNEL_MATMUL_Q8_0,
  PONDER_VK_KERNEL_MATMUL_Q4_K,
  PONDER_VK_KERNEL_MATMUL_Q6_K,
  PONDER_VK_KERNEL_ROPE,
  PONDER_VK_KERNEL_SWIGLU,
  PONDER_VK_KERNEL_ADD,
  PONDER_VK_KERNEL_ARGMAX,
  PONDER_VK_KERNEL_ATTENTION,
  PONDER_VK_KERNEL_ADD_BIAS,
  PONDER_VK_KERNEL_MATMUL_Q4_0,
  PONDER_VK_KERNEL_MATMUL_Q5_0,
  PONDER_VK_KERNEL_MATMUL_Q4_1,
  PONDER_VK_KERNEL_MATMUL_Q5_1,
  PONDER_VK_KERNEL_MATMUL_Q5_K,
  PONDER_VK_KERNEL_MATMUL_BF16,
  /* embedding lookup: the matmul sources built with EMBED */
  PONDER_VK_KERNEL_EMBED_F32,
  PONDER_VK_KERNEL_EMBED_F16,
  PONDER_VK_KERNEL_EMBED_BF16,
  PONDER_VK_KERNEL_EMBED_Q8_0,
  PONDER_VK_KERNEL_EMBED_Q4_0,
  PONDER_VK_KERNEL_EMBED_Q5_0,
  PONDER_VK_KERNEL_EMBED_Q4_1,
  PONDER_VK_KERNEL_EMBED_Q5_1,
  PONDER_VK_KERNEL_EMBED_Q4_K,
  PONDER_VK_KERNEL_EMBED_Q5_K,
  PONDER_VK_KERNEL_EMBED_Q6_K,
  PONDER_VK_KERNEL_ATTENTION_SPLIT,
  PONDER_VK_KERNEL_ATTENTION_MERGE,
  PONDER_VK_KERNEL_KV_STORE,
  /* deepseek2 (vulkan-ops-deepseek2.c) */
  PONDER_VK_KERNEL_DS2_MATMUL_F32,
  PONDER_VK_KERNEL_DS2_MATMUL_F16,
  PONDER_VK_KERNEL_DS2_MATMUL_Q8_0,
  PONDER_VK_KERNEL_DS2_MATMUL_Q4_K,
  PONDER_VK_KERNEL_DS2_MATMUL_Q6_K,
  PONDER_VK_KERNEL_DS2_ROUTE,
  PONDER_VK_KERNEL_DS2_MLA,
  PONDER_VK_KERNEL_DS2_MATMUL_Q4_0,
  PONDER_VK_KERNEL_DS2_MATMUL_Q5_0,
  /* IQ types (shaders/iq_dequant.glsl), dense and deepseek2 */
  PONDER_VK_KERNEL_MATMUL_IQ1_S,
  PONDER_VK_KERNEL_MATMUL_IQ1_M,
  PONDER_VK_KERNEL_MATMUL_IQ2_XXS,
  PONDER_VK_KERNEL_MATMUL_IQ2_XS,
  PONDER_VK_KERNEL_MATMUL_IQ2_S,
  PONDER_VK_KERNEL_MATMUL_IQ3_XXS,
  PONDER_VK_KERNEL_MATMUL_IQ3_S,
  PONDER_VK_KERNEL_MATMUL_IQ4_NL,
  PONDER_VK_KERNEL_MATMUL_IQ4_XS,
  PONDER_VK_KERNEL_DS2_MATMUL_IQ1_S,
  PONDER_VK_KERNEL_DS2_MATMUL_IQ1_M,
  PONDER_VK_KERNEL_DS2_MATMUL_IQ2_XXS,
  PONDER_VK_KERNEL_DS2_MATMUL_IQ2_XS,
  PONDER_VK_KERNEL_DS2_MATMUL_IQ2_S,
  PONDER_VK_KERNEL_DS2_MATMUL_IQ3_XXS,
  PONDER_VK_KERNEL_DS2_MATMUL_IQ3_S,
  PONDER_VK_KERNEL_DS2_MATMUL_IQ4_NL,
  PONDER_VK_KERNEL_DS2_MATMUL_IQ4_XS,
  /* the last K-quants; deepseek2 experts through unit_<type>.glsl */
  PONDER_VK_KERNEL_MATMUL_Q2_K,
  PONDER_VK_KERNEL_MATMUL_Q3_K,
  PONDER_VK_KERNEL_EMBED_Q2_K,
  PONDER_VK_KERNEL_EMBED_Q3_K,
  PONDER_VK_KERNEL_DS2_MATMUL_Q4_1,
  PONDER_VK_KERNEL_DS2_MATMUL_Q5_1,
  PONDER_VK_KERNEL_DS2_MATMUL_Q2_K,
  PONDER_VK_KERNEL_DS2_MATMUL_Q3_K,
  PONDER_VK_KERNEL_DS2_MATMUL_Q5_K,
  /* matmul_<type>_tx: the dense products reading texel buffers (CPU devices) */
  PONDER_VK_KERNEL_MATMUL_F32_TX,
  PONDER_VK_KERNEL_MATMUL_F16_TX,
  PONDER_VK_KERNEL_MATMUL_BF16_TX,
  PONDER_VK_KERNEL_MATMUL_Q8_0_TX,
  PONDER_VK_KERNEL_MATMUL_Q4_0_TX,
  PONDER_VK_KERNEL_MATMUL_Q5_0_TX,
  PONDER_VK_KERNEL_MATMUL_Q4_1_TX,
  PONDER_VK_KERNEL_MATMUL_Q5_1_TX,
  PONDER_VK_KERNEL_MATMUL_Q2_K_TX,
  PONDER_VK_KERNEL_MATMUL_Q3_K_TX,
  PONDER_VK_KERNEL_MATMUL_Q4_K_TX,
  PONDER_VK_KERNEL_MATMUL_Q5_K_TX,
  PONDER_VK_KERNEL_MATMUL_Q6_K_TX,
  PONDER_VK_KERNEL_DS2_MATMUL_F32_TX,
  PONDER_VK_KERNEL_DS2_MATMUL_F16_TX,
  PONDER_VK_KERNEL_DS2_MATMUL_Q8_0_TX,
  PONDER_VK_KERNEL_DS2_MATMUL_Q4_0_TX,
  PONDER_VK_KERNEL_DS2_MATMUL_Q5_0_TX,
  PONDER_VK_KERNEL_DS2_MATMUL_Q4_1_TX,
  PONDER_VK_KERNEL_DS2_MATMUL_Q5_1_TX,
  PONDER_VK_KERNEL_DS2_MATMUL_Q2_K_TX,
  PONDER_VK_KERNEL_DS2_MATMUL_Q3_K_TX,
  PONDER_VK_KERNEL_DS2_MATMUL_Q4_K_TX,
  PONDER_VK_KERNEL_DS2_MATMUL_Q5_K_TX,
  PONDER_VK_KERNEL_DS2_MATMUL_Q6_K_TX,
  /* GPU features (non-CPU devices, or forced by ponder_vk_test_gpu_kernels):
   * matmul_<type>_sg reduce a row over a subgroup with subgroupAdd;
   * matmul_<type>_q8 take integer dot products with x quantised by
   * quantize_q8 (shaderIntegerDotProduct and subgroup arithmetic) */
  PONDER_VK_KERNEL_MATMUL_F32_SG,
  PONDER_VK_KERNEL_MATMUL_F16_SG,
  PONDER_VK_KERNEL_MATMUL_BF16_SG,
  PONDER_VK_KERNEL_MATMUL_Q8_0_SG,
  PONDER_VK_KERNEL_MATMUL_Q4_0_SG,
  PONDER_VK_KERNEL_MATMUL_Q5_0_SG,
  PONDER_VK_KERNEL_MATMUL_Q4_1_SG,
  PONDER_VK_KERNEL_MATMUL_Q5_1_SG,
  PONDER_VK_KERNEL_MATMUL_Q2_K_SG,
  PONDER_VK_KERNEL_MATMUL_Q3_K_SG,
  PONDER_VK_KERNEL_MATMUL_Q4_K_SG,
  PONDER_VK_KERNEL_MATMUL_Q5_K_SG,
  PONDER_VK_KERNEL_MATMUL_Q6_K_SG,
  PONDER_VK_KERNEL_MATMUL_Q8_0_Q8,
  PONDER_VK_KERNEL_MATMUL_Q4_0_Q8,
  PONDER_VK_KERNEL_MATMUL_Q5_0_Q8,
  PONDER_VK_KERNEL_MATMUL_Q4_K_Q8,
  PONDER_VK_KERNEL_MATMUL_Q5_K_Q8,
  PONDER_VK_KERNEL_MATMUL_Q6_K_Q8,
  PONDER_VK_KERNEL_MATMUL_F16_H, /* matmul_f16_sg reading f16 values (16-bit storage) */
  PONDER_VK_KERNEL_QUANTIZE_Q8,
  /* ds2_matmul_<type>_sg: deepseek2's products reduced with subgroupAdd */
  PONDER_VK_KERNEL_DS2_MATMUL_F32_SG,
  PONDER_VK_KERNEL_DS2_MATMUL_F16_SG,
  PONDER_VK_KERNEL_DS2_MATMUL_Q8_0_SG,
  PONDER_VK_KERNEL_DS2_MATMUL_Q4_0_SG,
  PONDER_VK_KERNEL_DS2_MATMUL_Q5_0_SG,
  PONDER_VK_KERNEL_DS2_MATMUL_Q4_1_SG,
  PONDER_VK_KERNEL_DS2_MATMUL_Q5_1_SG,
  PONDER_VK_KERNEL_DS2_MATMUL_Q2_K_SG,
  PONDER_VK_KERNEL_DS2_MATMUL_Q3_K_SG,
  PONDER_VK_KERNEL_DS2_MATMUL_Q4_K_SG,
  PONDER_VK_KERNEL_DS2_MATMUL_Q5_K_SG,
  PONDER_VK_KERNEL_DS2_MATMUL_Q6_K_SG,
  PONDER_VK_KERNEL_DS2_MATMUL_IQ1_S_SG,
  PONDER_VK_KERNEL_DS2_MATMUL_IQ1_M_SG,
  PONDER_VK_KERNEL_DS2_MATMUL_IQ2_XXS_SG,
  PONDER_VK_KERNEL_DS2_MATMUL_IQ2_XS_SG,
  PONDER_VK_KERNEL_DS2_MATMUL_IQ2_S_SG,
  PONDER_VK_KERNEL_DS2_MATMUL_IQ3_XXS_SG,
  PONDER_VK_KERNEL_DS2_MATMUL_IQ3_S_SG,
  PONDER_VK_KERNEL_DS2_MATMUL_IQ4_NL_SG,
  PONDER_VK_KERNEL_DS2_MATMUL_IQ4_XS_SG,
  /* matmul_<iq type>_sg: the IQ types' dense products, likewise */
  PONDER_VK_KERNEL_MATMUL_IQ1_S_SG,
  PONDER_VK_KERNEL_MATMUL_IQ1_M_SG,
  PONDER_VK_KERNEL_MATMUL_IQ2_XXS_SG,
  PONDER_VK_KERNEL_MATMUL_IQ2_XS_SG,
  PONDER_VK_KERNEL_MATMUL_IQ2_S_SG,
  PONDER_VK_KERNEL_MATMUL_IQ3_XXS_SG,
  PONDER_VK_KERNEL_MATMUL_IQ3_S_SG,
  PONDER_VK_KERNEL_MATMUL_IQ4_NL_SG,
  PONDER_VK_KERNEL_MATMUL_IQ4_XS_SG,
  /* sampling from the device's best logits (vulkan-ops-sample.c) */
  PONDER_VK_KERNEL_TOPK_PARTIAL,
  PONDER_VK_KERNEL_TOPK_MERGE,
  /* attention and the cache store over an F16 KV cache (kv_cache.glsl) */
  PONDER_VK_KERNEL_ATTENTION_F16,
  PONDER_VK_KERNEL_ATTENTION_SPLIT_F16,
  PONDER_VK_KERNEL_KV_STORE_F16,
  PONDER_VK_KERNEL_DS2_MLA_F16,
  PONDER_VK_N_KERNELS,
} PonderVkKernel;

#define PONDER_VK_MAX_BINDINGS 6 /* deepseek2's MoE and MLA kernels bind 5 */
/* Three uniform texel buffers follow the storage buffers in the shared
 * layout: the same memory as buffers[0] (R32_UINT words), buffers[1]
 * (R32G32B32A32_SFLOAT) and buffers[0] again (R32G32B32A32_UINT) of a kernel
 * with PONDER_VK_TEXEL_* set. On lavapipe a texel fetch is one vector
 * gather, while every storage-buffer load in a loop is a scalar loop over
 * the SIMD lanes with a branch per lane. */
#define PONDER_VK_TEXEL_BINDING 6
#define PONDER_VK_N_TEXEL       3
#define PONDER_VK_TEXEL_W       1u /* buffers[0] as words at binding 6 */
#define PONDER_VK_TEXEL_X       2u /* buffers[1] as vec4s at binding 7 */
#define PONDER_VK_TEXEL_W4      4u /* buffers[0] as uvec4s at binding 8 */
#define PONDER_VK_MAX_SPEC     4
#define PONDER_VK_PUSH_MAX     128 /* the guaranteed maxPushConstantsSize */

typedef struct
{
  const char     *name;
  const uint32_t *spirv;
  size_t          spirv_bytes;
  uint32_t        n_buffers;  /* storage buffers at bindings 0..n-1 */
  uint32_t        push_bytes; /* size of the shader's push-constant block */
  uint32_t        n_spec;     /* specialization constants, constant_id 0..n-1 */
  uint32_t        texel;      /* PONDER_VK_TEXEL_*: buffers also bound as texel buffers */
} PonderVkKernelInfo;

const PonderVkKernelInfo *ponder_vk_kernel_info (PonderVkKernel kernel);

/* Where a weight type has no kernel of a kind. */
#define PONDER_VK_KERNEL_NONE PONDER_VK_N_KERNELS

/* The kernels that read one weight type (vulkan-ops.c's table), and the
 * variants of its products that vulkan-ops-matmul.c and
 * vulkan-ops-deepseek2.c choose among by device. */
typedef struct
{
  PonderVkKernel matmul;          /* matmul_<type>: dense products, decode and prefill */
  PonderVkKernel embed;           /* embed_<type>: rows of an embedding table */
  PonderVkKernel expert;          /* ds2_matmul_<type>: deepseek2's slices and experts */
  PonderVkKernel matmul_texel;    /* _tx: through texel buffers (CPU devices) */
  PonderVkKernel matmul_subgroup; /* _sg: a row reduced with subgroupAdd (GPUs) */
  PonderVkKernel matmul_int8;     /* _q8: integer dot products with x quantised (GPUs) */
  PonderVkKernel expert_texel;    /* ds2_matmul_<type>_tx */
  PonderVkKernel expert_subgroup; /* ds2_matmul_<type>_sg */
} PonderVkTypeKernels;

/* A type without kernels has PONDER_VK_KERNEL_NONE in each. */
PonderVkTypeKernels ponder_vk_type_kernels (uint32_t type);

typedef struct PonderVkDevice PonderVkDevice;

/* Tests only: ponder_vk_type_kernels reports no kernel of the kinds given
 * (PONDER_VK_HIDE_* or-ed; 0 shows them again) for type, so that the
 * refusal of a weight type without shaders and the host gather of
 * embedding rows stay tested now that every type the CPU runs has them.
 * Process-wide: call it while no model is loading or running. */
#define PONDER_VK_HIDE_MATMUL 1u
#define PONDER_VK_HIDE_EMBED  2u
#define PONDER_VK_HIDE_EXPERT 4u
void ponder_vk_test_hide_kernels (uint32_t type, unsigned kinds);

/* Tests only: matmul kernel choice as on a GPU whatever the device kind
 * (the storage-buffer kernels, their subgroup and integer-dot variants
 * where the device has the features), so that lavapipe runs them; the
 * environment variable PONDER_VK_GPU_KERNELS=1 does the same for whole
 * programs (ponder-cli). Process-wide, like ponder_vk_test_hide_kernels.
 * PONDER_VK_INT8_DOT=0 (read when a device is made) keeps a device off the
 * integer-dot kernels: the float ones instead, to compare them on a GPU and
 * for tests that hold the device to float products. */
void ponder_vk_test_gpu_kernels (bool on);
/* How a device's matmuls are chosen: 0 as on a CPU device (texel-buffer
 * kernels), else PONDER_VK_FEATURE_* or-ed (tests, bench). */
#define PONDER_VK_FEATURE_GPU      1u /* GPU kernels and shapes (no texel buffers) */
#define PONDER_VK_FEATURE_SUBGROUP 2u
#define PONDER_VK_FEATURE_INT8_DOT 4u
#define PONDER_VK_FEATURE_STORAGE16 8u /* storageBuffer16BitAccess enabled */
unsigned ponder_vk_matmul_features (const PonderVkDevice *device);

/* Push-constant blocks, mirrored field for field by the shaders. */
typedef struct
{
  uint32_t n_in;
  uint32_t n_out;
  uint32_t n_tokens;
  uint32_t row_bytes;
} PonderVkMatmulPush;
_Static_assert (sizeof (PonderVkMatmulPush) == 16, "matmul_head.glsl Push");

typedef struct
{
  uint32_t n;
  uint32_t n_rows;
  float    eps;
} PonderVkRmsnormPush;
_Static_assert (sizeof (PonderVkRmsnormPush) == 12, "rmsnorm.comp Push");

typedef struct
{
  uint32_t n_tokens;
  uint32_t n_heads;
  uint32_t head_dim;
  uint32_t n_rot;
  uint32_t neox;
} PonderVkRopePush;
_Static_assert (sizeof (PonderVkRopePush) == 20, "rope.comp Push");

typedef struct
{
  uint32_t n;
} PonderVkElementwisePush;
_Static_assert (sizeof (PonderVkElementwisePush) == 4, "swiglu/add.comp Push");

typedef struct
{
  uint32_t n;
  uint32_t n_mask_words;
} PonderVkArgmaxPush;
_Static_assert (sizeof (PonderVkArgmaxPush) == 8, "argmax.comp Push");

typedef struct
{
  uint32_t n;
  uint32_t n_mask_words;
  uint32_t chunk;     /* logits per workgroup of the first pass */
  uint32_t n_chunks;
} PonderVkTopkPush;
_Static_assert (sizeof (PonderVkTopkPush) == 16, "topk_*.comp Push");

typedef struct
{
  uint32_t n_total;
  uint32_t n;
} PonderVkBiasPush;
_Static_assert (sizeof (PonderVkBiasPush) == 8, "add_bias.comp Push");

typedef struct
{
  uint32_t n_tokens;
  uint32_t n_head;
  uint32_t n_head_kv;
  uint32_t hd_k;
  uint32_t hd_v;
  uint32_t pos0;
  uint32_t k_row;
  uint32_t v_row;
  float    scale;
  uint32_t pos_in_memory; /* pos0 from the step buffer, not pos0 above */
} PonderVkAttentionPush;
_Static_assert (sizeof (PonderVkAttentionPush) == 40, "attention.comp Push");

typedef struct
{
  uint32_t n_head;
  uint32_t n_head_kv;
  uint32_t hd_k;
  uint32_t hd_v;
  uint32_t n_keys;
  uint32_t k_row;
  uint32_t v_row;
  uint32_t chunk;
  float    scale;
  uint32_t pos_in_memory; /* n_keys = the step buffer's pos0 + 1 */
} PonderVkAttentionSplitPush;
_Static_assert (sizeof (PonderVkAttentionSplitPush) == 40, "attention_split.comp Push");

typedef struct
{
  uint32_t n_head;
  uint32_t hd_v;
  uint32_t n_chunks;
} PonderVkAttentionMergePush;
_Static_assert (sizeof (PonderVkAttentionMergePush) == 12, "attention_merge.comp Push");

typedef struct
{
  uint32_t n_tokens;
  uint32_t k_row;
  uint32_t v_row;
  uint32_t pos0;
  uint32_t pos_in_memory;
} PonderVkKvStorePush;
_Static_assert (sizeof (PonderVkKvStorePush) == 20, "kv_store.comp Push");

/* Largest head dimension attention.comp keeps in shared memory. */
#define PONDER_VK_ATTENTION_MAX_HEAD_DIM 256

/* Rows of a matmul workgroup's batch (NB in matmul_head.glsl). */
#define PONDER_VK_MATMUL_BATCH 8

/* The parts of backend.h's PonderRope the table needs (kept here so this
 * header does not pull in the model headers). */
typedef struct
{
  uint32_t     n_rot;
  float        mscale;
  const float *freq; /* (n_rot / 2) */
} PonderVkRopeParams;

typedef enum
{
  PONDER_VK_MEMORY_DEVICE, /* weights, scratch: device-local, uploaded through staging */
  PONDER_VK_MEMORY_HOST,   /* read back or written by the host every step */
} PonderVkMemory;

typedef struct
{
  VkBuffer       buffer;
  VkDeviceMemory memory;
  VkDeviceSize   size;
  void          *mapped; /* non-NULL when host-visible (always HOST_COHERENT) */
  /* Where the shaders' view starts (a multiple of
   * minStorageBufferOffsetAlignment); 0 except in views made by
   * ponder_vk_buffer_view, which own nothing and are never freed. */
  VkDeviceSize   offset;
} PonderVkBuffer;

/* Creates a logical device on vk's device index (-1: the default). vk must
 * outlive it. */
PonderStatus ponder_vk_device_new  (PonderVulkan         *vk,
                                    int                   index,
                                    const PonderVkParams *params,
                                    PonderVkDevice      **out_device,
                                    PonderError          *error);
/* Writes the pipeline cache back (when a cache_dir was given) and frees. */
void         ponder_vk_device_free (PonderVkDevice       *device);
const PonderVkPhysical *ponder_vk_device_physical (const PonderVkDevice *device);
/* Pipelines created so far (the in-process table), for tests. */
uint32_t     ponder_vk_device_n_pipelines (const PonderVkDevice *device);

PonderStatus ponder_vk_buffer_new      (PonderVkDevice *device,
                                        size_t          size_bytes,
                                        PonderVkMemory  memory,
                                        const char     *name,
                                        PonderVkBuffer *out_buffer,
                                        PonderError    *error);
void         ponder_vk_buffer_free     (PonderVkDevice *device,
                                        PonderVkBuffer *buffer);
/* Copies host bytes in or out, through a staging buffer when the buffer is
 * not host-visible. Not while recording. */
PonderStatus ponder_vk_buffer_upload   (PonderVkDevice       *device,
                                        const PonderVkBuffer *buffer,
                                        size_t                offset,
                                        const void           *data,
                                        size_t                size_bytes,
                                        PonderError          *error);
PonderStatus ponder_vk_buffer_download (PonderVkDevice       *device,
                                        const PonderVkBuffer *buffer,
                                        size_t                offset,
                                        void                 *data,
                                        size_t                size_bytes,
                                        PonderError          *error);

PonderStatus ponder_vk_begin    (PonderVkDevice *device,
                                 PonderError    *error);

/* Records one dispatch after checking it: the group counts against the
 * device limits, the buffer count and push size against the kernel, the
 * number of specialization constants. spec[0] is the workgroup size (a
 * power of two). */
PonderStatus ponder_vk_dispatch (PonderVkDevice        *device,
                                 PonderVkKernel         kernel,
                                 const uint32_t        *spec,
                                 uint32_t               n_spec,
                                 const uint32_t         groups[3],
                                 const PonderVkBuffer **buffers,
                                 uint32_t               n_buffers,
                                 const void            *push,
                                 uint32_t               push_bytes,
                                 PonderError           *error);
PonderStatus ponder_vk_submit   (PonderVkDevice *device,
                                 PonderError    *error);
/* The same in two halves, so the host can work while the device runs:
 * submit_async returns once the work is queued, wait blocks until it is done
 * (a no-op when nothing is in flight). Nothing may be recorded in between. */
PonderStatus ponder_vk_submit_async (PonderVkDevice *device,
                                     PonderError    *error);
PonderStatus ponder_vk_wait         (PonderVkDevice *device,
                                     PonderError    *error);
/* Ends the step being recorded without running it (a cancelled or failed
 * step); nothing it recorded reaches the device. */
void         ponder_vk_abort    (PonderVkDevice *device);

/* Kept steps (vulkan-replay.c): a step begun with ponder_vk_begin_kept
 * instead of ponder_vk_begin takes the same dispatches and copies, but is
 * recorded only when its commands differ from every one replay keeps;
 * otherwise submission runs the kept command buffer again. Whatever
 * changes between such steps must come from buffer contents. Errors of
 * the recording itself (pipelines, descriptor sets) come from the
 * submission. A replay belongs to one device and one thread. */
typedef struct PonderVkReplay PonderVkReplay;

PonderStatus ponder_vk_replay_new    (PonderVkDevice *device, PonderVkReplay **out_replay,
                                      PonderError *error);
void         ponder_vk_replay_free   (PonderVkDevice *device, PonderVkReplay *replay);
/* Drops what replay keeps: the next kept step is recorded. */
void         ponder_vk_replay_forget (PonderVkReplay *replay);
/* Kept steps submitted so far that were replayed and recorded, and
 * whether the last one was replayed. */
void         ponder_vk_replay_counts (const PonderVkReplay *replay, uint64_t *out_replayed,
                                      uint64_t *out_recorded, bool *out_last_replayed);
PonderStatus ponder_vk_begin_kept    (PonderVkDevice *device, PonderVkReplay *replay,
                                      PonderError *error);
/* CLOCK_MONOTONIC seconds just before the last step was handed to the
 * queue: the end of its host work. Taken before the call because on a CPU
 * implementation the submission wakes threads that share the host's
 * cores and may run the step before the call returns. */
double       ponder_vk_submit_time   (const PonderVkDevice *device);
/* Records a copy of size_bytes from src at src_offset to dst at dst_offset
 * (absolute offsets, views' offsets are ignored), ordered after the
 * commands before it like a dispatch. */
PonderStatus ponder_vk_copy     (PonderVkDevice       *device,
                                 const PonderVkBuffer *src,
                                 size_t                src_offset,
                                 const PonderVkBuffer *dst,
                                 size_t                dst_offset,
                                 size_t                size_bytes,
                                 PonderError          *error);
/* A view of buffer from offset on (a multiple of the device's storage
 * buffer offset alignment, see ponder_vk_view_alignment). */
PonderVkBuffer ponder_vk_buffer_view (const PonderVkBuffer *buffer,
                                      VkDeviceSize          offset);
VkDeviceSize ponder_vk_view_alignment (const PonderVkDevice *device);
/* Whether bytes of buffer from its offset fit one texel-buffer view of
 * texel_bytes texels (the device's element limit and offset alignment). */
bool         ponder_vk_texel_fits (const PonderVkDevice *device, const PonderVkBuffer *buffer,
                                   uint32_t texel_bytes, uint64_t bytes);

/* A device-local buffer of at least size_bytes for the matmuls' quantised
 * x (vulkan-ops.c), grown on demand. Buffers it replaces stay alive until
 * the device is freed, since recorded steps may still read them. */
PonderStatus ponder_vk_q8_scratch (PonderVkDevice *device, size_t size_bytes,
                                   const PonderVkBuffer **out, PonderError *error);
/* Whether the scratch still holds x quantised (n_tokens rows of n_in), as
 * noted by ponder_vk_q8_note after the last command recorded (a product of
 * x into y_bytes of y): products that share an input (Q, K and V; gate and
 * up) quantise it once. */
bool         ponder_vk_q8_current (const PonderVkDevice *device, const PonderVkBuffer *x,
                                   uint32_t n_in, uint32_t n_tokens);
void         ponder_vk_q8_note    (PonderVkDevice *device, const PonderVkBuffer *x,
                                   uint32_t n_in, uint32_t n_tokens,
                                   const PonderVkBuffer *y, size_t y_bytes);

/* Splits n workgroups over x and y within the device's limits; the shaders
 * flatten them back (shaders/grid.glsl) and ignore the excess. */
PonderStatus ponder_vk_grid     (const PonderVkDevice *device,
                                 uint64_t              n_groups,
                                 uint32_t              groups[3],
                                 PonderError          *error);

/* The IQ codebooks for shaders/iq_dequant.glsl (vulkan-iq.c), made with
 * the device; the IQ matmul kernels bind them after their other buffers. */
PonderStatus ponder_vk_iq_tables_new (PonderVkDevice *device, PonderVkBuffer *out,
                                      PonderError *error);
const PonderVkBuffer *ponder_vk_iq_tables (const PonderVkDevice *device);

/* Ops (vulkan-ops.c): each records one dispatch. Buffers hold float rows
 * laid out as in backend.h unless said otherwise. */
PonderStatus ponder_vk_op_rmsnorm (PonderVkDevice *device, const PonderVkBuffer *x,
                                   const PonderVkBuffer *w, const PonderVkBuffer *out,
                                   uint32_t n_rows, uint32_t n, float eps, PonderError *error);
/* y (n_tokens, n_out) = x (n_tokens, n_in) times w transposed; w holds n_out
 * rows of row_bytes in type (F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q2_K, Q3_K,
 * Q4_K, Q5_K, Q6_K and the IQ types of spec 2.5: ponder_vk_matmul_supported). */
bool         ponder_vk_matmul_supported (uint32_t type);
/* Whether deepseek2's 3-D weights of type run on the device
 * (ponder_vk_op_matmul_slices, moe_gate_up, moe_down). */
bool         ponder_vk_expert_supported (uint32_t type);
/* out (n_tokens, n_in) = rows ids (uint32, n_tokens) of table, n_rows rows of
 * row_bytes in type, dequantised on the device. */
bool         ponder_vk_embed_supported (uint32_t type);
PonderStatus ponder_vk_op_embed (PonderVkDevice *device, uint32_t type,
                                 const PonderVkBuffer *table, size_t row_bytes,
                                 uint32_t n_in, uint32_t n_rows, const PonderVkBuffer *ids,
                                 uint32_t n_tokens, const PonderVkBuffer *out,
                                 PonderError *error);
PonderStatus ponder_vk_op_matmul  (PonderVkDevice *device, uint32_t type,
                                   const PonderVkBuffer *w, size_t row_bytes,
                                   uint32_t n_in, uint32_t n_out,
                                   const PonderVkBuffer *x, uint32_t n_tokens,
                                   const PonderVkBuffer *y, PonderError *error);
/* The kernel ponder_vk_op_matmul records for these operands: on a CPU
 * implementation the type's texel-buffer variant (kernel info texel != 0)
 * where the views fit, else matmul_<type>; PONDER_VK_KERNEL_NONE if none. */
PonderVkKernel ponder_vk_matmul_kernel (const PonderVkDevice *device, uint32_t type,
                                        const PonderVkBuffer *w, size_t row_bytes,
                                        uint32_t n_in, uint32_t n_out,
                                        const PonderVkBuffer *x, uint32_t n_tokens);
/* Whether kernel is an integer-dot one, whose products see x rounded to
 * bytes in blocks of 32 (quantize_q8.comp), not the float x. */
bool ponder_vk_matmul_kernel_quantises (PonderVkKernel kernel);
/* ponder_vk_op_matmul with the kernel chosen by the caller (tests, bench):
 * one of type's matmul kernels (base, texel, subgroup or integer-dot
 * variant); refused when the device lacks its features. */
PonderStatus ponder_vk_op_matmul_kernel (PonderVkDevice *device, PonderVkKernel kernel,
                                         uint32_t type, const PonderVkBuffer *w,
                                         size_t row_bytes, uint32_t n_in, uint32_t n_out,
                                         const PonderVkBuffer *x, uint32_t n_tokens,
                                         const PonderVkBuffer *y, PonderError *error);
/* The same with the workgroup shape chosen by the caller (tests, tuning):
 * always matmul_<type>, the storage-buffer kernel.
 * wg_size invocations, threads_per_row of them per output row. */
PonderStatus ponder_vk_op_matmul_shaped (PonderVkDevice *device, uint32_t wg_size,
                                         uint32_t threads_per_row, uint32_t type,
                                         const PonderVkBuffer *w, size_t row_bytes,
                                         uint32_t n_in, uint32_t n_out,
                                         const PonderVkBuffer *x, uint32_t n_tokens,
                                         const PonderVkBuffer *y, PonderError *error);
/* Writes the cos/sin table of rope for positions [pos0, pos0 + n_tokens) to
 * table (n_tokens, n_rot / 2, 2), computed in double and scaled by mscale,
 * exactly as the CPU backend does. */
void         ponder_vk_rope_table (const PonderVkRopeParams *rope, uint32_t pos0,
                                   uint32_t n_tokens, float *table);
/* x (n_tokens, n_heads, head_dim) rotated in place with table (n_tokens,
 * n_rot / 2, 2) from ponder_vk_rope_table. */
PonderStatus ponder_vk_op_rope    (PonderVkDevice *device, const PonderVkBuffer *x,
                                   const PonderVkBuffer *table, uint32_t n_tokens,
                                   uint32_t n_heads, uint32_t head_dim, uint32_t n_rot,
                                   bool neox, PonderError *error);
PonderStatus ponder_vk_op_swiglu  (PonderVkDevice *device, const PonderVkBuffer *gate,
                                   const PonderVkBuffer *up, uint32_t n, PonderError *error);
PonderStatus ponder_vk_op_add     (PonderVkDevice *device, const PonderVkBuffer *x,
                                   const PonderVkBuffer *y, uint32_t n, PonderError *error);
/* y (n_rows, n) += bias (n) on every row. */
PonderStatus ponder_vk_op_add_bias (PonderVkDevice *device, const PonderVkBuffer *y,
                                    const PonderVkBuffer *bias, uint32_t n_rows, uint32_t n,
                                    PonderError *error);
/* The position ops below take a step buffer: NULL, and pos0 goes into the
 * push constants; else the shader reads pos0 from the buffer's first uint32
 * when the step runs (it must then hold pos0, which the host still uses
 * for its bounds checks and the grid), so the recording does not depend on
 * the position and a decode step can be replayed (vulkan-replay.c). */

/* Causal GQA attention: out (n_tokens, n_head * hd_v) from q (n_tokens,
 * n_head * hd_k) over positions [0, pos0 + t] of k (n_ctx, k_row) and v
 * (n_ctx, v_row), a cache of kv_type in the layout of kv-cache.h (F16:
 * k_row and v_row even). */
PonderStatus ponder_vk_op_attention (PonderVkDevice *device, const PonderVkBuffer *q,
                                     const PonderVkBuffer *k, const PonderVkBuffer *v,
                                     const PonderVkBuffer *out, const PonderVkBuffer *step,
                                     uint32_t n_tokens, uint32_t pos0, uint32_t n_head,
                                     uint32_t n_head_kv, uint32_t hd_k, uint32_t hd_v,
                                     uint32_t k_row, uint32_t v_row, float scale,
                                     PonderKvType kv_type, PonderError *error);
/* The same for one query token at position pos0, split over the keys in
 * chunks of chunk positions (two dispatches); part is scratch of
 * ceil ((pos0 + 1) / chunk) * n_head * (hd_v + 2) floats. */
PonderStatus ponder_vk_op_attention_decode (PonderVkDevice *device, const PonderVkBuffer *q,
                                            const PonderVkBuffer *k, const PonderVkBuffer *v,
                                            const PonderVkBuffer *part,
                                            const PonderVkBuffer *out,
                                            const PonderVkBuffer *step, uint32_t pos0,
                                            uint32_t n_head, uint32_t n_head_kv, uint32_t hd_k,
                                            uint32_t hd_v, uint32_t k_row, uint32_t v_row,
                                            uint32_t chunk, float scale, PonderKvType kv_type,
                                            PonderError *error);
/* Rows [pos0, pos0 + n_tokens) of k_cache (n_ctx, k_row) and v_cache
 * (n_ctx, v_row) = k (n_tokens, k_row) and v (n_tokens, v_row): bit for
 * bit into an F32 cache, rounded to nearest even into an F16 one (rows
 * even); v_row 0 stores keys only (v and v_cache are then not written). */
PonderStatus ponder_vk_op_kv_store (PonderVkDevice *device, const PonderVkBuffer *k,
                                    const PonderVkBuffer *v, const PonderVkBuffer *k_cache,
                                    const PonderVkBuffer *v_cache, const PonderVkBuffer *step,
                                    uint32_t n_tokens, uint32_t pos0, uint32_t k_row,
                                    uint32_t v_row, PonderKvType kv_type, PonderError *error);
/* Bytes of one cached element (the rows a device takes: backend.h's
 * ponder_vk_kv_fits). */
size_t       ponder_vk_kv_elem_bytes (PonderKvType kv_type);
/* out[0] (uint32) = index of the largest of x (n), ties to the lowest, never
 * an index whose bit is set in mask (n_mask_words uint32; mask NULL: none);
 * 0xffffffff when every candidate is NaN or masked. */
PonderStatus ponder_vk_op_argmax  (PonderVkDevice *device, const PonderVkBuffer *x,
                                   uint32_t n, const PonderVkBuffer *mask,
                                   uint32_t n_mask_words, const PonderVkBuffer *out,
                                   PonderError *error);

/* Sampling's share of the logits, so that a pick reads back one record:
 * out (PONDER_VK_TOPK_RECORD_WORDS uint32) = [how many of x (n) qualify (not
 * NaN, -inf or masked), how many are listed, the largest (float bits), the
 * sum of exp ((x - largest) * inv_temperature) over them (float bits), the
 * best PONDER_VK_TOPK_CAPACITY values (larger, then lower index, first;
 * float bits), their indices]. params holds the float inv_temperature;
 * records is scratch of ponder_vk_topk_scratch_bytes (n). */
#define PONDER_VK_TOPK_CAPACITY     64u /* mirrors shaders/topk.glsl */
#define PONDER_VK_TOPK_RECORD_WORDS (4u + 2u * PONDER_VK_TOPK_CAPACITY)
uint64_t     ponder_vk_topk_scratch_bytes (uint32_t n);
PonderStatus ponder_vk_op_top_logits (PonderVkDevice *device, const PonderVkBuffer *x,
                                      uint32_t n, const PonderVkBuffer *mask,
                                      uint32_t n_mask_words, const PonderVkBuffer *params,
                                      const PonderVkBuffer *records,
                                      const PonderVkBuffer *out, PonderError *error);
/* Tests only: the logits per first-pass workgroup (0: the default), so that
 * a small vocabulary still spans several. */
void         ponder_vk_test_topk_chunk (uint32_t chunk);
