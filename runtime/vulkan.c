/* vulkan.c: the Vulkan compute backend (rt.h has the backend contract).
 *
 * libvulkan.so.1 (the loader) is dlopen'ed, never linked. Devices are the physical devices
 * that have a compute queue family. Per context: one VkInstance, one VkDevice with every
 * shader feature the kernels may need that the device has (float64, int64, int16, int8,
 * float16, 8/16-bit storage, int64 atomics, scalar block layout) and one compute queue.
 *
 * Buffers are storage buffers. Memory is device-local and host-visible where the device has
 * such a type (lavapipe: all memory; discrete GPUs: the BAR), so transfers and maps are
 * memcpy; otherwise device-local memory with transfers through a staging buffer.
 *
 * Modules come from the package's "spirv-vulkan" blob: one VkShaderModule per module, and per
 * kernel a descriptor set layout (bindings 0..nbuf-1 the buffers in .dck order, then the
 * checked-mode record, then a uniform block when the scalars exceed 128 bytes) and a pipeline
 * layout; compute pipelines are created on first use per (kernel, work-group size), the size
 * given by specialization constants 0, 1, 2 (GPU kernel ABI in the team brief). The scalars
 * (by-value parameters, each buffer's uint length, the global size x, y, z) are one block with
 * C layout rules, in push constants when it fits in 128 bytes.
 *
 * Launches record one command buffer each (barrier from earlier work, dispatch split into
 * parts of at most maxComputeWorkGroupCount groups with vkCmdDispatchBase, timestamps)
 * and submit it with a fence: dck_launch returns before the work is done. dck_queue_finish
 * waits for the queue's fences. Validation: when VK_INSTANCE_LAYERS names
 * VK_LAYER_KHRONOS_validation (or $DCK_VULKAN_VALIDATION=1 adds it), a debug-utils messenger
 * turns every warning or error message into a failure of the next call on the context
 * (and counts it: rt_vulkan_validation_messages()).
 */
#include <vulkan/vulkan.h>

#include "rt.h"
#include "abi/abi.h"

#include <dlfcn.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the dlopen'ed API ---- */

// clang-format off
#define VK_INSTANCE_FUNCS(X) \
    X(vkDestroyInstance) X(vkEnumeratePhysicalDevices) X(vkGetPhysicalDeviceProperties) \
    X(vkGetPhysicalDeviceProperties2) X(vkGetPhysicalDeviceFeatures) X(vkGetPhysicalDeviceFeatures2) \
    X(vkGetPhysicalDeviceQueueFamilyProperties) X(vkGetPhysicalDeviceMemoryProperties) X(vkCreateDevice) \
    X(vkGetDeviceProcAddr) X(vkCreateDebugUtilsMessengerEXT) X(vkDestroyDebugUtilsMessengerEXT) \
    X(vkEnumerateDeviceExtensionProperties)

#define VK_DEVICE_FUNCS(X) \
    X(vkDestroyDevice) X(vkGetDeviceQueue) X(vkQueueSubmit) X(vkQueueWaitIdle) X(vkDeviceWaitIdle) \
    X(vkCreateBuffer) X(vkDestroyBuffer) X(vkGetBufferMemoryRequirements) X(vkAllocateMemory) X(vkFreeMemory) \
    X(vkBindBufferMemory) X(vkMapMemory) X(vkUnmapMemory) X(vkCreateShaderModule) X(vkDestroyShaderModule) \
    X(vkCreateDescriptorSetLayout) X(vkDestroyDescriptorSetLayout) X(vkCreatePipelineLayout) \
    X(vkDestroyPipelineLayout) X(vkCreateComputePipelines) X(vkDestroyPipeline) X(vkCreateDescriptorPool) \
    X(vkDestroyDescriptorPool) X(vkAllocateDescriptorSets) X(vkUpdateDescriptorSets) X(vkCreateCommandPool) \
    X(vkDestroyCommandPool) X(vkAllocateCommandBuffers) X(vkFreeCommandBuffers) X(vkBeginCommandBuffer) \
    X(vkEndCommandBuffer) X(vkCmdBindPipeline) X(vkCmdBindDescriptorSets) X(vkCmdPushConstants) \
    X(vkCmdDispatch) X(vkCmdDispatchBase) X(vkCmdPipelineBarrier) X(vkCmdCopyBuffer) X(vkCmdWriteTimestamp) X(vkCmdResetQueryPool) \
    X(vkCreateFence) X(vkDestroyFence) X(vkWaitForFences) X(vkGetFenceStatus) X(vkCreateQueryPool) \
    X(vkDestroyQueryPool) X(vkGetQueryPoolResults)
// clang-format on

typedef struct VkFns {
    PFN_vkGetInstanceProcAddr vkGetInstanceProcAddr;
#define X(f) PFN_##f f;
    VK_INSTANCE_FUNCS(X)
    VK_DEVICE_FUNCS(X)
#undef X
} VkFns;

static void *vk_lib;
static PFN_vkGetInstanceProcAddr vk_gipa;
static PFN_vkCreateInstance vk_create_instance;
static PFN_vkEnumerateInstanceLayerProperties vk_enum_layers;
static PFN_vkEnumerateInstanceExtensionProperties vk_enum_exts;
static pthread_once_t vk_once = PTHREAD_ONCE_INIT;
static char vk_load_error[512];
static atomic_uint vk_validation_count;

unsigned rt_vulkan_validation_messages(void);
unsigned rt_vulkan_validation_messages(void) { return atomic_load(&vk_validation_count); }

static void vk_load(void)
{
    vk_lib = dlopen("libvulkan.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!vk_lib) vk_lib = dlopen("libvulkan.so", RTLD_NOW | RTLD_LOCAL);
    if (!vk_lib) {
        const char *e = dlerror();
        snprintf(vk_load_error, sizeof vk_load_error,
                 "cannot load libvulkan.so.1 (%s); install the Vulkan loader "
                 "(libvulkan1) and a driver (e.g. mesa-vulkan-drivers)",
                 e ? e : "not found");
        return;
    }
    *(void **)&vk_gipa = dlsym(vk_lib, "vkGetInstanceProcAddr");
    if (!vk_gipa) {
        snprintf(vk_load_error, sizeof vk_load_error,
                 "libvulkan.so.1 has no vkGetInstanceProcAddr");
        return;
    }
    vk_create_instance = (PFN_vkCreateInstance)vk_gipa(NULL, "vkCreateInstance");
    vk_enum_layers =
        (PFN_vkEnumerateInstanceLayerProperties)vk_gipa(NULL, "vkEnumerateInstanceLayerProperties");
    vk_enum_exts = (PFN_vkEnumerateInstanceExtensionProperties)vk_gipa(
        NULL, "vkEnumerateInstanceExtensionProperties");
    if (!vk_create_instance || !vk_enum_layers || !vk_enum_exts)
        snprintf(vk_load_error, sizeof vk_load_error, "the Vulkan loader lacks vkCreateInstance");
}

static const char *vk_err(VkResult r)
{
    switch (r) {
// clang-format off
#define E(x) case x: return #x;
    E(VK_SUCCESS) E(VK_NOT_READY) E(VK_TIMEOUT) E(VK_INCOMPLETE) E(VK_ERROR_OUT_OF_HOST_MEMORY)
    E(VK_ERROR_OUT_OF_DEVICE_MEMORY) E(VK_ERROR_INITIALIZATION_FAILED) E(VK_ERROR_DEVICE_LOST)
    E(VK_ERROR_MEMORY_MAP_FAILED) E(VK_ERROR_LAYER_NOT_PRESENT) E(VK_ERROR_EXTENSION_NOT_PRESENT)
    E(VK_ERROR_FEATURE_NOT_PRESENT) E(VK_ERROR_INCOMPATIBLE_DRIVER) E(VK_ERROR_TOO_MANY_OBJECTS)
    E(VK_ERROR_FORMAT_NOT_SUPPORTED) E(VK_ERROR_FRAGMENTED_POOL) E(VK_ERROR_OUT_OF_POOL_MEMORY)
    E(VK_ERROR_INVALID_SHADER_NV) E(VK_ERROR_UNKNOWN)
#undef E
            // clang-format on
            default : return "VkResult error";
    }
}

static dck_status vk_status_of(VkResult r)
{
    return r == VK_ERROR_OUT_OF_HOST_MEMORY || r == VK_ERROR_OUT_OF_DEVICE_MEMORY
               ? DCK_ERROR_OUT_OF_MEMORY
               : DCK_ERROR_UNSUPPORTED;
}

static dck_status vk_fail(VkResult r, const char *call, const char *what)
{
    return rt_error(vk_status_of(r), "%s: %s failed with %s (%d)", what, call, vk_err(r), (int)r);
}

/* ---- instances ---- */

static bool env_has(const char *var, const char *word)
{
    const char *v = getenv(var);
    return v && strstr(v, word) != NULL;
}

static bool layer_present(const char *name)
{
    uint32_t n = 0;
    if (vk_enum_layers(&n, NULL) != VK_SUCCESS || !n) return false;
    VkLayerProperties *props = calloc(n, sizeof *props);
    bool found = false;
    if (props && vk_enum_layers(&n, props) == VK_SUCCESS)
        for (uint32_t i = 0; i < n && !found; i++) found = strcmp(props[i].layerName, name) == 0;
    free(props);
    return found;
}

static bool instance_ext_present(const char *name)
{
    uint32_t n = 0;
    if (vk_enum_exts(NULL, &n, NULL) != VK_SUCCESS || !n) return false;
    VkExtensionProperties *props = calloc(n, sizeof *props);
    bool found = false;
    if (props && vk_enum_exts(NULL, &n, props) == VK_SUCCESS)
        for (uint32_t i = 0; i < n && !found; i++)
            found = strcmp(props[i].extensionName, name) == 0;
    free(props);
    return found;
}

typedef struct VkInst {
    VkInstance instance;
    VkFns f;
    VkDebugUtilsMessengerEXT messenger;
} VkInst;

static VKAPI_ATTR VkBool32 VKAPI_CALL
on_validation(VkDebugUtilsMessageSeverityFlagBitsEXT sev, VkDebugUtilsMessageTypeFlagsEXT type,
              const VkDebugUtilsMessengerCallbackDataEXT *data, void *user)
{
    /* GENERAL messages are the loader's notes ("env var VK_INSTANCE_LAYERS defined ...") */
    if (!(sev & (VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT |
                 VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT)) ||
        !(type & (VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT |
                  VK_DEBUG_UTILS_MESSAGE_TYPE_PERFORMANCE_BIT_EXT)))
        return VK_FALSE;
    atomic_fetch_add(&vk_validation_count, 1);
    char *slot = user; /* the context's first message (512 bytes), or NULL */
    fprintf(stderr, "dck vulkan validation: %s\n",
            data && data->pMessage ? data->pMessage : "(no message)");
    if (slot && !slot[0])
        snprintf(slot, 512, "%s", data && data->pMessage ? data->pMessage : "(no message)");
    return VK_FALSE;
}

static dck_status inst_create(VkInst *vi, char *validation_slot)
{
    memset(vi, 0, sizeof vi[0]);
    pthread_once(&vk_once, vk_load);
    if (vk_load_error[0]) return rt_error(DCK_ERROR_BACKEND_UNAVAILABLE, "%s", vk_load_error);
    const char *layers[1];
    uint32_t nlayers = 0;
    const char *vv = getenv("DCK_VULKAN_VALIDATION");
    bool want_validation = (vv && strcmp(vv, "1") == 0) ||
                           env_has("VK_INSTANCE_LAYERS", "VK_LAYER_KHRONOS_validation");
    if (vv && strcmp(vv, "1") == 0 && layer_present("VK_LAYER_KHRONOS_validation"))
        layers[nlayers++] = "VK_LAYER_KHRONOS_validation";
    const char *exts[1];
    uint32_t nexts = 0;
    bool debug = want_validation && validation_slot &&
                 instance_ext_present(VK_EXT_DEBUG_UTILS_EXTENSION_NAME);
    if (debug) exts[nexts++] = VK_EXT_DEBUG_UTILS_EXTENSION_NAME;
    VkApplicationInfo app = {
        VK_STRUCTURE_TYPE_APPLICATION_INFO, NULL, "dck", 1, "libdckrt", 1, VK_API_VERSION_1_2};
    VkDebugUtilsMessengerCreateInfoEXT dbg = {0};
    dbg.sType = VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CREATE_INFO_EXT;
    dbg.messageSeverity = VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT |
                          VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT;
    dbg.messageType = VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT |
                      VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT |
                      VK_DEBUG_UTILS_MESSAGE_TYPE_PERFORMANCE_BIT_EXT;
    dbg.pfnUserCallback = on_validation;
    dbg.pUserData = validation_slot;
    VkInstanceCreateInfo ci = {0};
    ci.sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO;
    ci.pNext = debug ? &dbg : NULL; /* also covers instance creation and destruction */
    ci.pApplicationInfo = &app;
    ci.enabledLayerCount = nlayers;
    ci.ppEnabledLayerNames = layers;
    ci.enabledExtensionCount = nexts;
    ci.ppEnabledExtensionNames = exts;
    VkResult r = vk_create_instance(&ci, NULL, &vi->instance);
    if (r != VK_SUCCESS)
        return rt_error(
            DCK_ERROR_BACKEND_UNAVAILABLE, "vkCreateInstance failed with %s (%d)%s", vk_err(r),
            (int)r, r == VK_ERROR_INCOMPATIBLE_DRIVER ? ": no Vulkan 1.2 driver is installed" : "");
    vi->f.vkGetInstanceProcAddr = vk_gipa;
#define X(fn) vi->f.fn = (PFN_##fn)vk_gipa(vi->instance, #fn);
    VK_INSTANCE_FUNCS(X)
    VK_DEVICE_FUNCS(X)
#undef X
    if (!vi->f.vkEnumeratePhysicalDevices || !vi->f.vkCreateDevice ||
        !vi->f.vkGetPhysicalDeviceFeatures2 || !vi->f.vkCmdDispatch || !vi->f.vkDestroyInstance) {
        if (vi->f.vkDestroyInstance) vi->f.vkDestroyInstance(vi->instance, NULL);
        vi->instance = VK_NULL_HANDLE;
        return rt_error(DCK_ERROR_BACKEND_UNAVAILABLE,
                        "the Vulkan loader lacks Vulkan 1.2 entry points");
    }
    if (debug && vi->f.vkCreateDebugUtilsMessengerEXT)
        vi->f.vkCreateDebugUtilsMessengerEXT(vi->instance, &dbg, NULL, &vi->messenger);
    return DCK_SUCCESS;
}

static void inst_destroy(VkInst *vi)
{
    if (!vi->instance) return;
    if (vi->messenger && vi->f.vkDestroyDebugUtilsMessengerEXT)
        vi->f.vkDestroyDebugUtilsMessengerEXT(vi->instance, vi->messenger, NULL);
    vi->f.vkDestroyInstance(vi->instance, NULL);
    vi->instance = VK_NULL_HANDLE;
}

/* Physical devices with a compute queue, in the loader's order (at most cap). */
static uint32_t compute_devices(VkInst *vi, VkPhysicalDevice *out, uint32_t cap)
{
    uint32_t n = 0;
    if (vi->f.vkEnumeratePhysicalDevices(vi->instance, &n, NULL) != VK_SUCCESS || !n) return 0;
    VkPhysicalDevice all[32];
    if (n > 32) n = 32;
    if (vi->f.vkEnumeratePhysicalDevices(vi->instance, &n, all) < 0) return 0;
    uint32_t m = 0;
    for (uint32_t i = 0; i < n && m < cap; i++) {
        uint32_t nq = 0;
        vi->f.vkGetPhysicalDeviceQueueFamilyProperties(all[i], &nq, NULL);
        VkQueueFamilyProperties qf[16];
        if (nq > 16) nq = 16;
        vi->f.vkGetPhysicalDeviceQueueFamilyProperties(all[i], &nq, qf);
        bool compute = false;
        for (uint32_t q = 0; q < nq; q++) compute |= (qf[q].queueFlags & VK_QUEUE_COMPUTE_BIT) != 0;
        VkPhysicalDeviceProperties p;
        vi->f.vkGetPhysicalDeviceProperties(all[i], &p);
        if (compute && p.apiVersion >= VK_API_VERSION_1_2) out[m++] = all[i];
    }
    return m;
}

/* The shader features DCK kernels may use, restricted to what the device has. */
typedef struct VkFeat {
    VkPhysicalDeviceFeatures2 f2;
    VkPhysicalDeviceVulkan11Features f11;
    VkPhysicalDeviceVulkan12Features f12;
} VkFeat;

static void query_features(VkInst *vi, VkPhysicalDevice pd, VkFeat *have, VkFeat *use)
{
    memset(have, 0, sizeof *have);
    have->f2.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2;
    have->f11.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_1_FEATURES;
    have->f12.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES;
    have->f2.pNext = &have->f11;
    have->f11.pNext = &have->f12;
    vi->f.vkGetPhysicalDeviceFeatures2(pd, &have->f2);
    memset(use, 0, sizeof *use);
    use->f2.sType = have->f2.sType;
    use->f11.sType = have->f11.sType;
    use->f12.sType = have->f12.sType;
    use->f2.pNext = &use->f11;
    use->f11.pNext = &use->f12;
    use->f2.features.shaderFloat64 = have->f2.features.shaderFloat64;
    use->f2.features.shaderInt64 = have->f2.features.shaderInt64;
    use->f2.features.shaderInt16 = have->f2.features.shaderInt16;
    use->f11.storageBuffer16BitAccess = have->f11.storageBuffer16BitAccess;
    use->f11.uniformAndStorageBuffer16BitAccess = have->f11.uniformAndStorageBuffer16BitAccess;
    use->f11.storagePushConstant16 = have->f11.storagePushConstant16;
    use->f12.shaderFloat16 = have->f12.shaderFloat16;
    use->f12.shaderInt8 = have->f12.shaderInt8;
    use->f12.storageBuffer8BitAccess = have->f12.storageBuffer8BitAccess;
    use->f12.uniformAndStorageBuffer8BitAccess = have->f12.uniformAndStorageBuffer8BitAccess;
    use->f12.storagePushConstant8 = have->f12.storagePushConstant8;
    use->f12.shaderBufferInt64Atomics = have->f12.shaderBufferInt64Atomics;
    use->f12.shaderSharedInt64Atomics = have->f12.shaderSharedInt64Atomics;
    use->f12.scalarBlockLayout = have->f12.scalarBlockLayout;
    use->f12.vulkanMemoryModel = have->f12.vulkanMemoryModel;
    use->f12.vulkanMemoryModelDeviceScope = have->f12.vulkanMemoryModelDeviceScope;
}

/* Whether the physical device offers extension `name`. */
static int device_ext_present(VkInst *vi, VkPhysicalDevice pd, const char *name)
{
    uint32_t n = 0;
    if (!vi->f.vkEnumerateDeviceExtensionProperties ||
        vi->f.vkEnumerateDeviceExtensionProperties(pd, NULL, &n, NULL) != VK_SUCCESS || !n)
        return 0;
    VkExtensionProperties *e = malloc(n * sizeof *e);
    if (!e) return 0;
    int found = 0;
    if (vi->f.vkEnumerateDeviceExtensionProperties(pd, NULL, &n, e) >= 0)
        for (uint32_t i = 0; i < n && !found; i++) found = !strcmp(e[i].extensionName, name);
    free(e);
    return found;
}

/* Compute units where the driver says: streaming multiprocessors on NVIDIA
 * (VK_NV_shader_sm_builtins), compute units on AMD (VK_AMD_shader_core_properties); core Vulkan
 * has no such property, and 0 means unknown. */
static uint32_t compute_unit_count(VkInst *vi, VkPhysicalDevice pd)
{
    if (device_ext_present(vi, pd, VK_NV_SHADER_SM_BUILTINS_EXTENSION_NAME)) {
        VkPhysicalDeviceShaderSMBuiltinsPropertiesNV sm;
        memset(&sm, 0, sizeof sm);
        sm.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_SM_BUILTINS_PROPERTIES_NV;
        VkPhysicalDeviceProperties2 p2 = {VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2, &sm, {0}};
        vi->f.vkGetPhysicalDeviceProperties2(pd, &p2);
        return sm.shaderSMCount;
    }
    if (device_ext_present(vi, pd, VK_AMD_SHADER_CORE_PROPERTIES_EXTENSION_NAME)) {
        VkPhysicalDeviceShaderCorePropertiesAMD amd;
        memset(&amd, 0, sizeof amd);
        amd.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_CORE_PROPERTIES_AMD;
        VkPhysicalDeviceProperties2 p2 = {
            VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2, &amd, {0}};
        vi->f.vkGetPhysicalDeviceProperties2(pd, &p2);
        return amd.shaderEngineCount * amd.shaderArraysPerEngineCount *
               amd.computeUnitsPerShaderArray;
    }
    return 0;
}

static void fill_info(VkInst *vi, VkPhysicalDevice pd, uint32_t index, dck_device_info *info)
{
    memset(info, 0, sizeof *info);
    VkPhysicalDeviceSubgroupProperties sg = {
        VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_PROPERTIES, NULL, 0, 0, 0, 0};
    VkPhysicalDeviceDriverProperties drv;
    memset(&drv, 0, sizeof drv);
    drv.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_DRIVER_PROPERTIES;
    sg.pNext = &drv;
    VkPhysicalDeviceProperties2 p2 = {VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2, &sg, {0}};
    vi->f.vkGetPhysicalDeviceProperties2(pd, &p2);
    const VkPhysicalDeviceProperties *p = &p2.properties;
    snprintf(info->name, sizeof info->name, "%.127s", p->deviceName);
    info->backend = DCK_BACKEND_VULKAN;
    snprintf(info->backend_name, sizeof info->backend_name, "vulkan");
    info->index = index;
    snprintf(info->driver, sizeof info->driver, "%.28s %.30s", drv.driverName, drv.driverInfo);
    VkPhysicalDeviceMemoryProperties mp;
    vi->f.vkGetPhysicalDeviceMemoryProperties(pd, &mp);
    for (uint32_t h = 0; h < mp.memoryHeapCount; h++)
        if (mp.memoryHeaps[h].flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT)
            info->global_memory_bytes += mp.memoryHeaps[h].size;
    info->max_shared_bytes = p->limits.maxComputeSharedMemorySize;
    info->compute_units = compute_unit_count(vi, pd);
    uint32_t inv = p->limits.maxComputeWorkGroupInvocations;
    info->max_work_group_size = inv > 1024 ? 1024 : inv;
    for (int d = 0; d < 3; d++) {
        uint32_t v = p->limits.maxComputeWorkGroupSize[d];
        info->max_work_group_dims[d] = v > 1024 ? 1024 : v;
    }
    info->subgroup_size = sg.subgroupSize ? sg.subgroupSize : 1;
    info->device_type = p->deviceType == VK_PHYSICAL_DEVICE_TYPE_CPU ? DCK_DEVICE_CPU
                        : p->deviceType == VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU ||
                                p->deviceType == VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU ||
                                p->deviceType == VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU
                            ? DCK_DEVICE_GPU
                            : DCK_DEVICE_OTHER;
    VkFeat have, use;
    query_features(vi, pd, &have, &use);
    if (have.f2.features.shaderFloat64) info->features |= DCK_FEATURE_FP64;
    if (have.f12.shaderFloat16 && have.f11.storageBuffer16BitAccess)
        info->features |= DCK_FEATURE_FP16;
    if (have.f12.shaderBufferInt64Atomics) info->features |= DCK_FEATURE_INT64_ATOMICS;
    if ((sg.supportedStages & VK_SHADER_STAGE_COMPUTE_BIT) &&
        (sg.supportedOperations & VK_SUBGROUP_FEATURE_ARITHMETIC_BIT))
        info->features |= DCK_FEATURE_SUBGROUPS;
    if (p->deviceType == VK_PHYSICAL_DEVICE_TYPE_CPU ||
        p->deviceType == VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU)
        info->features |= DCK_FEATURE_UNIFIED_MEMORY;
}

/* Device list, computed once per process (creating an instance costs milliseconds). */
static pthread_once_t vk_enum_once = PTHREAD_ONCE_INIT;
static dck_device_info vk_infos[16];
static uint32_t vk_ninfos;
static char vk_enum_error[512];
static VkInst vk_enum_instance; /* kept: see vk_enumerate_once */

static void vk_enumerate_once(void)
{
    VkInst vi;
    if (inst_create(&vi, NULL)) {
        snprintf(vk_enum_error, sizeof vk_enum_error, "%s", dck_last_error());
        return;
    }
    VkPhysicalDevice pds[16];
    vk_ninfos = compute_devices(&vi, pds, 16);
    for (uint32_t i = 0; i < vk_ninfos; i++) fill_info(&vi, pds[i], i, &vk_infos[i]);
    if (!vk_ninfos)
        snprintf(
            vk_enum_error, sizeof vk_enum_error,
            "the Vulkan loader found no Vulkan 1.2 device with a compute "
            "queue (set VK_DRIVER_FILES to the driver's ICD file if one is installed elsewhere)");
    /* The instance stays for the life of the process: destroying it makes the loader unload the
     * drivers, and some (Mesa) then lose one-time allocations, which leak checkers report. */
    vk_enum_instance = vi;
}

static dck_status vk_enumerate(uint32_t *count, dck_device_info *infos)
{
    pthread_once(&vk_enum_once, vk_enumerate_once);
    if (vk_enum_error[0]) return rt_error(DCK_ERROR_BACKEND_UNAVAILABLE, "%s", vk_enum_error);
    if (!infos) {
        *count = vk_ninfos;
        return DCK_SUCCESS;
    }
    uint32_t m = *count < vk_ninfos ? *count : vk_ninfos;
    memcpy(infos, vk_infos, m * sizeof *infos);
    *count = m;
    return DCK_SUCCESS;
}

/* ---- contexts ---- */

typedef struct VkSub VkSub;

typedef struct VkCtx {
    VkInst vi;
    VkFns *f;
    VkPhysicalDevice pd;
    VkDevice dev;
    VkQueue queue;
    uint32_t family;
    bool timestamps;
    double ts_period; /* ns per tick */
    uint64_t ts_mask;
    int64_t ts_offset; /* CLOCK_MONOTONIC ns - device ns (under mu; see sub_complete) */
    bool have_offset;
    VkPhysicalDeviceMemoryProperties mem;
    VkPhysicalDeviceLimits limits;
    pthread_mutex_t mu; /* the VkQueue, submissions, pipelines, the oob record */
    VkCommandPool pool; /* command buffers of every submission (under mu) */
    VkBuffer oob;       /* checked mode: uint[8], host-visible */
    VkDeviceMemory oob_mem;
    uint32_t *oob_map;
    char validation[512]; /* the first validation message not yet reported */
    bool force_staging;   /* $DCK_VULKAN_STAGING=1: buffers are never mapped (tests
                                       the discrete-GPU path on host-visible-only devices) */
} VkCtx;

static dck_status validation_check(VkCtx *c)
{
    if (!c->validation[0]) return DCK_SUCCESS;
    dck_status st =
        rt_error(DCK_ERROR_UNSUPPORTED, "the Vulkan validation layer reported: %s", c->validation);
    c->validation[0] = 0;
    return st;
}

/* A memory type with all of `want` among typeBits, or -1. */
static int find_memory(const VkCtx *c, uint32_t bits, VkMemoryPropertyFlags want)
{
    for (uint32_t i = 0; i < c->mem.memoryTypeCount; i++)
        if ((bits & (1u << i)) && (c->mem.memoryTypes[i].propertyFlags & want) == want)
            return (int)i;
    return -1;
}

/* A buffer with its own memory: host-visible device-local if possible (host_visible_only:
 * any host-visible coherent memory), else device-local. */
static VkResult make_buffer(VkCtx *c, VkDeviceSize size, VkBufferUsageFlags usage, bool host_only,
                            VkBuffer *buf, VkDeviceMemory *mem, void **map)
{
    VkFns *f = c->f;
    VkBufferCreateInfo bi = {0};
    bi.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO;
    bi.size = size;
    bi.usage = usage;
    bi.sharingMode = VK_SHARING_MODE_EXCLUSIVE;
    *map = NULL;
    *mem = VK_NULL_HANDLE;
    VkResult r = f->vkCreateBuffer(c->dev, &bi, NULL, buf);
    if (r != VK_SUCCESS) return r;
    VkMemoryRequirements req;
    f->vkGetBufferMemoryRequirements(c->dev, *buf, &req);
    const VkMemoryPropertyFlags hv =
        VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
    int types[2] = {
        host_only ? find_memory(c, req.memoryTypeBits, hv)
                  : find_memory(c, req.memoryTypeBits, hv | VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT),
        host_only ? -1 : find_memory(c, req.memoryTypeBits, VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT)};
    r = VK_ERROR_OUT_OF_DEVICE_MEMORY;
    for (int t = 0; t < 2 && r != VK_SUCCESS; t++) {
        if (types[t] < 0) continue;
        VkMemoryAllocateInfo ai = {VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO, NULL, req.size,
                                   (uint32_t)types[t]};
        r = f->vkAllocateMemory(c->dev, &ai, NULL, mem);
        if (r != VK_SUCCESS) continue;
        if ((r = f->vkBindBufferMemory(c->dev, *buf, *mem, 0)) == VK_SUCCESS &&
            (c->mem.memoryTypes[types[t]].propertyFlags & hv) == hv &&
            (host_only || !c->force_staging))
            r = f->vkMapMemory(c->dev, *mem, 0, VK_WHOLE_SIZE, 0, map);
        if (r != VK_SUCCESS) {
            f->vkFreeMemory(c->dev, *mem, NULL);
            *mem = VK_NULL_HANDLE;
            *map = NULL;
        }
    }
    if (r != VK_SUCCESS) {
        f->vkDestroyBuffer(c->dev, *buf, NULL);
        *buf = VK_NULL_HANDLE;
    }
    return r;
}

static void free_buffer(VkCtx *c, VkBuffer buf, VkDeviceMemory mem)
{
    if (buf) c->f->vkDestroyBuffer(c->dev, buf, NULL);
    if (mem) c->f->vkFreeMemory(c->dev, mem, NULL); /* implicitly unmapped */
}

/* Serializes creating and destroying instances and devices across contexts: contexts created
 * and destroyed by several threads at once hung NVIDIA's driver (580.159, H100) every time
 * (exec::modules_from_several_threads); serialized, it passes. */
static pthread_mutex_t vk_life_mu = PTHREAD_MUTEX_INITIALIZER;

static void vk_fini_locked(dck_context ctx)
{
    VkCtx *c = ctx->backend_data;
    if (!c) return;
    if (c->dev) {
        c->f->vkDeviceWaitIdle(c->dev);
        free_buffer(c, c->oob, c->oob_mem);
        if (c->pool) c->f->vkDestroyCommandPool(c->dev, c->pool, NULL);
        c->f->vkDestroyDevice(c->dev, NULL);
    }
    inst_destroy(&c->vi);
    pthread_mutex_destroy(&c->mu);
    rt_free(ctx, c);
    ctx->backend_data = NULL;
}

static void vk_fini(dck_context ctx)
{
    pthread_mutex_lock(&vk_life_mu);
    vk_fini_locked(ctx);
    pthread_mutex_unlock(&vk_life_mu);
}

/* Mesa's software Vulkan driver (lavapipe, device "llvmpipe ..."): its shader compiler ends a
 * work-item's loops after 65535 iterations in total (all its loops counted together), so a
 * kernel with longer loops silently gives wrong results. Measured on Mesa 22.3.6: a loop of
 * n >= 65536 iterations runs 65535; nested loops of 4 x 40000 run 65533 inner iterations. */
static bool is_llvmpipe(VkInst *vi, VkPhysicalDevice pd, const char *name)
{
    VkPhysicalDeviceDriverProperties drv;
    memset(&drv, 0, sizeof drv);
    drv.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_DRIVER_PROPERTIES;
    VkPhysicalDeviceProperties2 p2 = {VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2, &drv, {0}};
    vi->f.vkGetPhysicalDeviceProperties2(pd, &p2);
    return drv.driverID == VK_DRIVER_ID_MESA_LLVMPIPE || strstr(name, "llvmpipe") != NULL;
}

static atomic_bool llvmpipe_warned; /* the warning is given once per process */

static dck_status vk_init_locked(dck_context ctx, uint32_t index)
{
    VkCtx *c = rt_calloc(ctx, sizeof *c);
    if (!c) return rt_error(DCK_ERROR_OUT_OF_MEMORY, "out of memory creating a Vulkan context");
    pthread_mutex_init(&c->mu, NULL);
    ctx->backend_data = c;
    c->f = &c->vi.f;
    const char *stg = getenv("DCK_VULKAN_STAGING");
    c->force_staging = stg && strcmp(stg, "1") == 0;
    dck_status st = inst_create(&c->vi, c->validation);
    if (st) {
        vk_fini_locked(ctx);
        return st;
    }
    VkPhysicalDevice pds[16];
    uint32_t n = compute_devices(&c->vi, pds, 16);
    if (index >= n) {
        vk_fini_locked(ctx);
        return rt_error(DCK_ERROR_DEVICE_NOT_FOUND,
                        "backend 'vulkan' has %u device%s; index %u does not exist", n,
                        n == 1 ? "" : "s", index);
    }
    c->pd = pds[index];
    fill_info(&c->vi, c->pd, index, &ctx->device.info);
    if (is_llvmpipe(&c->vi, c->pd, ctx->device.info.name) &&
        !atomic_exchange(&llvmpipe_warned, true))
        rt_warn("Vulkan device '%s' is Mesa's software driver (lavapipe), which stops the loops of "
                "a work-item after 65535 iterations in total without an error: kernels with "
                "longer loops give wrong results there (the cpu backend runs them correctly)",
                ctx->device.info.name);
    VkPhysicalDeviceProperties props;
    c->f->vkGetPhysicalDeviceProperties(c->pd, &props);
    c->limits = props.limits;
    c->ts_period = props.limits.timestampPeriod;
    c->f->vkGetPhysicalDeviceMemoryProperties(c->pd, &c->mem);
    uint32_t nq = 0;
    VkQueueFamilyProperties qf[16];
    c->f->vkGetPhysicalDeviceQueueFamilyProperties(c->pd, &nq, NULL);
    if (nq > 16) nq = 16;
    c->f->vkGetPhysicalDeviceQueueFamilyProperties(c->pd, &nq, qf);
    int best = -1;
    for (uint32_t q = 0; q < nq; q++) {
        if (!(qf[q].queueFlags & VK_QUEUE_COMPUTE_BIT)) continue;
        /* prefer a compute family with timestamps, then one without graphics */
        if (best < 0 || (qf[q].timestampValidBits && !qf[best].timestampValidBits) ||
            (!(qf[q].queueFlags & VK_QUEUE_GRAPHICS_BIT) &&
             (qf[best].queueFlags & VK_QUEUE_GRAPHICS_BIT) &&
             qf[q].timestampValidBits >= qf[best].timestampValidBits))
            best = (int)q;
    }
    c->family = (uint32_t)best;
    uint32_t bits = qf[best].timestampValidBits;
    c->timestamps = bits > 0 && c->ts_period > 0;
    c->ts_mask = bits >= 64 ? UINT64_MAX : (1ull << bits) - 1;
    VkFeat have, use;
    query_features(&c->vi, c->pd, &have, &use);
    float prio = 1.0f;
    VkDeviceQueueCreateInfo qci = {
        VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO, NULL, 0, c->family, 1, &prio};
    VkDeviceCreateInfo dci = {0};
    dci.sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO;
    dci.pNext = &use.f2;
    dci.queueCreateInfoCount = 1;
    dci.pQueueCreateInfos = &qci;
    VkResult r = c->f->vkCreateDevice(c->pd, &dci, NULL, &c->dev);
    if (r != VK_SUCCESS) {
        c->dev = VK_NULL_HANDLE;
        vk_fini_locked(ctx);
        return vk_fail(r, "vkCreateDevice", ctx->device.info.name);
    }
    c->f->vkGetDeviceQueue(c->dev, c->family, 0, &c->queue);
    VkCommandPoolCreateInfo pci = {VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO, NULL,
                                   VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT, c->family};
    if ((r = c->f->vkCreateCommandPool(c->dev, &pci, NULL, &c->pool)) != VK_SUCCESS) {
        vk_fini_locked(ctx);
        return vk_fail(r, "vkCreateCommandPool", ctx->device.info.name);
    }
    return validation_check(c);
}

static dck_status vk_init(dck_context ctx, uint32_t index)
{
    pthread_mutex_lock(&vk_life_mu);
    dck_status st = vk_init_locked(ctx, index);
    pthread_mutex_unlock(&vk_life_mu);
    return st;
}

/* ---- submissions ---- */

struct VkSub {
    VkSub *next; /* in its queue's in-flight list */
    VkCommandBuffer cb;
    VkFence fence;
    VkDescriptorPool dpool;
    VkQueryPool qpool;
    VkBuffer staging; /* transfers through staging memory */
    VkDeviceMemory staging_mem;
    uint64_t host_t0;
    uint64_t ts0_ns, ts1_ns; /* device timestamps around the work (ns), read at completion */
    bool done, has_ts, submitted;
    int refs; /* the queue's list + an event */
};

typedef struct VkQ {
    VkSub *inflight; /* newest first */
} VkQ;

/* Releases the Vulkan objects of a finished submission; reads its timestamps. Under c->mu. */
static void sub_complete(VkCtx *c, VkSub *s)
{
    if (s->done) return;
    VkFns *f = c->f;
    if (s->qpool && s->has_ts && !s->submitted) s->has_ts = false;
    if (s->qpool && s->has_ts) {
        uint64_t ts[2] = {0, 0};
        if (f->vkGetQueryPoolResults(c->dev, s->qpool, 0, 2, sizeof ts, ts, sizeof ts[0],
                                     VK_QUERY_RESULT_64_BIT | VK_QUERY_RESULT_WAIT_BIT) ==
            VK_SUCCESS) {
            s->ts0_ns = (uint64_t)((double)(ts[0] & c->ts_mask) * c->ts_period);
            s->ts1_ns =
                s->ts0_ns + (uint64_t)((double)((ts[1] - ts[0]) & c->ts_mask) * c->ts_period);
            /* the device clock's offset to CLOCK_MONOTONIC: the work cannot start before its
               submission, so host_t0 - ts0 is a lower bound; the largest one seen is kept */
            int64_t off = (int64_t)(s->host_t0 - s->ts0_ns);
            if (!c->have_offset || off > c->ts_offset) c->ts_offset = off;
            c->have_offset = true;
        } else {
            s->has_ts = false;
        }
    }
    if (s->qpool) f->vkDestroyQueryPool(c->dev, s->qpool, NULL);
    if (s->dpool) f->vkDestroyDescriptorPool(c->dev, s->dpool, NULL);
    if (s->fence) f->vkDestroyFence(c->dev, s->fence, NULL);
    if (s->cb) f->vkFreeCommandBuffers(c->dev, c->pool, 1, &s->cb);
    free_buffer(c, s->staging, s->staging_mem);
    s->qpool = VK_NULL_HANDLE;
    s->dpool = VK_NULL_HANDLE;
    s->fence = VK_NULL_HANDLE;
    s->cb = VK_NULL_HANDLE;
    s->staging = VK_NULL_HANDLE;
    s->staging_mem = VK_NULL_HANDLE;
    s->done = true;
}

static void sub_unref(dck_context ctx, VkSub *s)
{
    if (--s->refs == 0) rt_free(ctx, s);
}

/* Waits for a submission (under c->mu). */
static dck_status sub_wait(dck_context ctx, VkCtx *c, VkSub *s)
{
    if (s->done) return DCK_SUCCESS;
    VkResult r = c->f->vkWaitForFences(c->dev, 1, &s->fence, VK_TRUE, UINT64_MAX);
    if (r != VK_SUCCESS) return vk_fail(r, "vkWaitForFences", ctx->device.info.name);
    sub_complete(c, s);
    return DCK_SUCCESS;
}

static dck_status vk_queue_create(dck_queue q)
{
    VkQ *vq = rt_calloc(q->ctx, sizeof *vq);
    if (!vq) return rt_error(DCK_ERROR_OUT_OF_MEMORY, "out of memory creating a queue");
    q->backend_data = vq;
    return DCK_SUCCESS;
}

static dck_status queue_finish_locked(dck_queue q, VkCtx *c)
{
    VkQ *vq = q->backend_data;
    dck_status first = DCK_SUCCESS;
    while (vq->inflight) {
        VkSub *s = vq->inflight;
        dck_status st = sub_wait(q->ctx, c, s);
        if (st && !first) first = st;
        if (st) sub_complete(c, s); /* a lost device: release anyway */
        vq->inflight = s->next;
        sub_unref(q->ctx, s);
    }
    if (!first) first = validation_check(c);
    return first;
}

static dck_status vk_queue_finish(dck_queue q)
{
    VkCtx *c = q->ctx->backend_data;
    pthread_mutex_lock(&c->mu);
    dck_status st = queue_finish_locked(q, c);
    pthread_mutex_unlock(&c->mu);
    return st;
}

static void vk_queue_destroy(dck_queue q)
{
    if (!q->backend_data) return;
    vk_queue_finish(q);
    rt_free(q->ctx, q->backend_data);
    q->backend_data = NULL;
}

/* Drops finished submissions of a queue without waiting (keeps the list short). Under mu. */
static void queue_reap(dck_context ctx, VkCtx *c, VkQ *vq)
{
    VkSub **pp = &vq->inflight;
    while (*pp) {
        VkSub *s = *pp;
        if (!s->done && c->f->vkGetFenceStatus(c->dev, s->fence) == VK_SUCCESS) sub_complete(c, s);
        if (s->done) {
            *pp = s->next;
            sub_unref(ctx, s);
        } else {
            pp = &s->next;
        }
    }
}

/* A new submission with a command buffer in the recording state. Under mu. */
static dck_status sub_begin(dck_context ctx, VkCtx *c, bool timestamps, VkSub **out)
{
    VkFns *f = c->f;
    VkSub *s = rt_calloc(ctx, sizeof *s);
    if (!s) return rt_error(DCK_ERROR_OUT_OF_MEMORY, "out of memory submitting Vulkan work");
    s->refs = 1;
    VkCommandBufferAllocateInfo ai = {VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO, NULL, c->pool,
                                      VK_COMMAND_BUFFER_LEVEL_PRIMARY, 1};
    VkResult r = f->vkAllocateCommandBuffers(c->dev, &ai, &s->cb);
    VkFenceCreateInfo fi = {VK_STRUCTURE_TYPE_FENCE_CREATE_INFO, NULL, 0};
    if (r == VK_SUCCESS) r = f->vkCreateFence(c->dev, &fi, NULL, &s->fence);
    if (r == VK_SUCCESS && timestamps && c->timestamps) {
        VkQueryPoolCreateInfo qi = {
            VK_STRUCTURE_TYPE_QUERY_POOL_CREATE_INFO, NULL, 0, VK_QUERY_TYPE_TIMESTAMP, 2, 0};
        r = f->vkCreateQueryPool(c->dev, &qi, NULL, &s->qpool);
        s->has_ts = r == VK_SUCCESS;
    }
    VkCommandBufferBeginInfo bi = {VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO, NULL,
                                   VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT, NULL};
    if (r == VK_SUCCESS) r = f->vkBeginCommandBuffer(s->cb, &bi);
    if (r != VK_SUCCESS) {
        sub_complete(c, s);
        rt_free(ctx, s);
        return vk_fail(r, "recording a command buffer", ctx->device.info.name);
    }
    /* in order with everything submitted earlier to the queue (and host writes) */
    VkMemoryBarrier mb = {VK_STRUCTURE_TYPE_MEMORY_BARRIER, NULL,
                          VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT |
                              VK_ACCESS_HOST_WRITE_BIT,
                          VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT |
                              VK_ACCESS_TRANSFER_READ_BIT | VK_ACCESS_TRANSFER_WRITE_BIT};
    f->vkCmdPipelineBarrier(s->cb,
                            VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT |
                                VK_PIPELINE_STAGE_HOST_BIT,
                            VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT,
                            0, 1, &mb, 0, NULL, 0, NULL);
    if (s->has_ts) f->vkCmdResetQueryPool(s->cb, s->qpool, 0, 2);
    *out = s;
    return DCK_SUCCESS;
}

/* Ends and submits (under mu). On failure the submission is released. */
static dck_status sub_submit(dck_context ctx, VkCtx *c, VkSub *s)
{
    VkFns *f = c->f;
    VkMemoryBarrier mb = {VK_STRUCTURE_TYPE_MEMORY_BARRIER, NULL,
                          VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT,
                          VK_ACCESS_HOST_READ_BIT};
    f->vkCmdPipelineBarrier(s->cb,
                            VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT,
                            VK_PIPELINE_STAGE_HOST_BIT, 0, 1, &mb, 0, NULL, 0, NULL);
    VkResult r = f->vkEndCommandBuffer(s->cb);
    VkSubmitInfo si = {0};
    si.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO;
    si.commandBufferCount = 1;
    si.pCommandBuffers = &s->cb;
    s->host_t0 = rt_now_ns();
    if (r == VK_SUCCESS) r = f->vkQueueSubmit(c->queue, 1, &si, s->fence);
    if (r != VK_SUCCESS) {
        sub_complete(c, s);
        rt_free(ctx, s);
        return vk_fail(r, "vkQueueSubmit", ctx->device.info.name);
    }
    s->submitted = true;
    return DCK_SUCCESS;
}

/* Waits for every queue of the context: transfers and frees order after queued work. */
static dck_status finish_everything(dck_context ctx) { return rt_finish_all(ctx); }

/* ---- buffers ---- */

typedef struct VkBuf {
    VkBuffer buf;
    VkDeviceMemory mem;
    void *map;    /* persistent mapping (host-visible memory) or NULL */
    void *shadow; /* dck_buffer_map of device-only memory */
    uint32_t map_flags;
} VkBuf;

static dck_status vk_buffer_alloc(dck_context ctx, dck_buffer b)
{
    VkCtx *c = ctx->backend_data;
    char l[80];
    if (b->size > c->limits.maxStorageBufferRange)
        return rt_error(DCK_ERROR_BUFFER_TOO_LARGE,
                        "buffer%s of %llu bytes exceeds the largest storage buffer of "
                        "Vulkan device '%s' (maxStorageBufferRange: %u bytes)",
                        rt_buffer_label(b, l, sizeof l), (unsigned long long)b->size,
                        ctx->device.info.name, c->limits.maxStorageBufferRange);
    VkBuf *vb = rt_calloc(ctx, sizeof *vb);
    if (!vb) return rt_error(DCK_ERROR_OUT_OF_MEMORY, "out of memory creating a buffer");
    VkResult r = make_buffer(c, b->size ? b->size : 16,
                             VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_TRANSFER_SRC_BIT |
                                 VK_BUFFER_USAGE_TRANSFER_DST_BIT,
                             false, &vb->buf, &vb->mem, &vb->map);
    if (r != VK_SUCCESS) {
        rt_free(ctx, vb);
        return rt_error(vk_status_of(r), "cannot allocate buffer%s of %llu bytes on '%s': %s (%d)",
                        rt_buffer_label(b, l, sizeof l), (unsigned long long)b->size,
                        ctx->device.info.name, vk_err(r), (int)r);
    }
    b->backend_data = vb;
    return DCK_SUCCESS;
}

static void vk_buffer_free(dck_context ctx, dck_buffer b)
{
    VkCtx *c = ctx->backend_data;
    VkBuf *vb = b->backend_data;
    if (!vb) return;
    finish_everything(ctx); /* Vulkan objects must not die while queued work uses them */
    free_buffer(c, vb->buf, vb->mem);
    rt_free(ctx, vb->shadow);
    rt_free(ctx, vb);
    b->backend_data = NULL;
}

/* Device-only memory: a copy through a staging buffer, submitted and waited for. */
static dck_status staged_copy(dck_buffer b, uint64_t off, uint64_t size, const void *src, void *dst)
{
    dck_context ctx = b->ctx;
    VkCtx *c = ctx->backend_data;
    VkBuf *vb = b->backend_data;
    pthread_mutex_lock(&c->mu);
    VkSub *s = NULL;
    void *map = NULL;
    dck_status st = sub_begin(ctx, c, false, &s);
    if (!st) {
        VkResult r = make_buffer(
            c, size, VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT, true,
            &s->staging, &s->staging_mem, &map);
        if (r != VK_SUCCESS || !map) {
            st = vk_fail(r != VK_SUCCESS ? r : VK_ERROR_MEMORY_MAP_FAILED, "staging buffer",
                         ctx->device.info.name);
            c->f->vkEndCommandBuffer(s->cb);
            sub_complete(c, s);
            rt_free(ctx, s);
        } else {
            VkBufferCopy region = {src ? 0 : off, src ? off : 0, size};
            if (src) memcpy(map, src, (size_t)size);
            c->f->vkCmdCopyBuffer(s->cb, src ? s->staging : vb->buf, src ? vb->buf : s->staging, 1,
                                  &region);
            if (!(st = sub_submit(ctx, c, s))) {
                /* wait without sub_complete: it frees the staging memory read below */
                VkResult w = c->f->vkWaitForFences(c->dev, 1, &s->fence, VK_TRUE, UINT64_MAX);
                if (w != VK_SUCCESS)
                    st = vk_fail(w, "vkWaitForFences", ctx->device.info.name);
                else if (dst)
                    memcpy(dst, map, (size_t)size);
                sub_complete(c, s);
                rt_free(ctx, s);
            }
        }
    }
    pthread_mutex_unlock(&c->mu);
    return st;
}

static dck_status vk_buffer_write(dck_buffer b, uint64_t off, uint64_t size, const void *src)
{
    VkBuf *vb = b->backend_data;
    if (!size) return DCK_SUCCESS;
    dck_status st = finish_everything(b->ctx);
    if (st) return st;
    if (!vb->map) return staged_copy(b, off, size, src, NULL);
    memcpy((char *)vb->map + off, src, (size_t)size);
    return DCK_SUCCESS;
}

static dck_status vk_buffer_read(dck_buffer b, uint64_t off, uint64_t size, void *dst)
{
    VkBuf *vb = b->backend_data;
    if (!size) return DCK_SUCCESS;
    dck_status st = finish_everything(b->ctx);
    if (st) return st;
    if (!vb->map) return staged_copy(b, off, size, NULL, dst);
    memcpy(dst, (const char *)vb->map + off, (size_t)size);
    return DCK_SUCCESS;
}

static dck_status vk_buffer_map(dck_buffer b, uint32_t flags, void **out)
{
    VkBuf *vb = b->backend_data;
    dck_status st = finish_everything(b->ctx);
    if (st) return st;
    if (vb->map) {
        *out = vb->map;
        return DCK_SUCCESS;
    }
    void *p = rt_alloc_aligned(b->ctx, b->size ? (size_t)b->size : 1, RT_ALIGN);
    if (!p)
        return rt_error(DCK_ERROR_OUT_OF_MEMORY, "out of memory mapping a buffer of %llu bytes",
                        (unsigned long long)b->size);
    if ((st = vk_buffer_read(b, 0, b->size, p))) {
        rt_free(b->ctx, p);
        return st;
    }
    vb->shadow = p;
    vb->map_flags = flags;
    *out = p;
    return DCK_SUCCESS;
}

static dck_status vk_buffer_unmap(dck_buffer b)
{
    VkBuf *vb = b->backend_data;
    if (!vb->shadow) return DCK_SUCCESS; /* host-visible coherent: nothing to do */
    dck_status st =
        vb->map_flags & DCK_MAP_WRITE ? vk_buffer_write(b, 0, b->size, vb->shadow) : DCK_SUCCESS;
    rt_free(b->ctx, vb->shadow);
    vb->shadow = NULL;
    return st;
}

/* ---- modules ---- */

typedef struct VkPipe {
    uint32_t local[3];
    VkPipeline pipeline;
} VkPipe;

typedef struct VkKernel {
    VkDescriptorSetLayout dsl;
    VkPipelineLayout layout;
    uint32_t nbuf;       /* storage buffers (params), then oob, then uniform */
    uint32_t block_size; /* the scalar block */
    bool uniform;        /* the block is a uniform buffer (> 128 bytes) */
    bool checked;
    VkPipe *pipes;
    uint32_t npipes, cap;
} VkKernel;

typedef struct VkMod {
    VkShaderModule shader;
    bool num_workgroups; /* the SPIR-V reads NumWorkgroups: dispatches cannot be split */
    uint32_t nkernels;
    VkKernel *kernels;
} VkMod;

static uint32_t align_up(uint32_t v, uint32_t a) { return a > 1 ? (v + a - 1) / a * a : v; }

static void vk_module_unload(dck_module m)
{
    VkMod *vm = m->backend_data;
    if (!vm) return;
    VkCtx *c = m->ctx->backend_data;
    finish_everything(m->ctx);
    for (uint32_t i = 0; i < vm->nkernels; i++) {
        VkKernel *k = &vm->kernels[i];
        for (uint32_t j = 0; j < k->npipes; j++)
            c->f->vkDestroyPipeline(c->dev, k->pipes[j].pipeline, NULL);
        rt_free(m->ctx, k->pipes);
        if (k->layout) c->f->vkDestroyPipelineLayout(c->dev, k->layout, NULL);
        if (k->dsl) c->f->vkDestroyDescriptorSetLayout(c->dev, k->dsl, NULL);
    }
    rt_free(m->ctx, vm->kernels);
    if (vm->shader) c->f->vkDestroyShaderModule(c->dev, vm->shader, NULL);
    rt_free(m->ctx, vm);
    m->backend_data = NULL;
}

static dck_status vk_module_load(dck_context ctx, const RtPackage *pkg, const RtBlob *blob,
                                 dck_module m)
{
    VkCtx *c = ctx->backend_data;
    const char *src = m->abi->source_name ? m->abi->source_name : "<module>";
    if (strcmp(blob->target, "spirv-vulkan") != 0)
        return rt_error(DCK_ERROR_UNSUPPORTED, "backend 'vulkan' cannot load target '%s'",
                        blob->target);
    if (blob->size < 20 || blob->size % 4)
        return rt_error(DCK_ERROR_INVALID_MODULE, "the SPIR-V of '%s' is malformed (%llu bytes)",
                        src, (unsigned long long)blob->size);
    dck_status vst = rt_package_check_spirv(pkg, blob);
    if (vst) return vst;
    VkMod *vm = rt_calloc(ctx, sizeof *vm);
    if (!vm) return rt_error(DCK_ERROR_OUT_OF_MEMORY, "out of memory loading '%s'", src);
    m->backend_data = vm;
    /* the blob's bytes may be unaligned inside the package: copy to 32-bit words */
    uint32_t *words = rt_alloc(ctx, (size_t)blob->size);
    if (!words) return rt_error(DCK_ERROR_OUT_OF_MEMORY, "out of memory loading '%s'", src);
    memcpy(words, blob->data, (size_t)blob->size);
    /* OpDecorate %x BuiltIn NumWorkgroups anywhere? (then a dispatch is never split, since
       each part would see its own group count) */
    for (size_t w = 5, nw = (size_t)blob->size / 4; w < nw;) {
        uint32_t len = words[w] >> 16, op = words[w] & 0xffffu;
        if (!len) break;
        if (op == 71 /* OpDecorate */ && len >= 4 && w + 3 < nw &&
            words[w + 2] == 11 /* BuiltIn */ && words[w + 3] == 24 /* NumWorkgroups */)
            vm->num_workgroups = true;
        w += len;
    }
    VkShaderModuleCreateInfo si = {VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO, NULL, 0,
                                   (size_t)blob->size, words};
    VkResult r = c->f->vkCreateShaderModule(c->dev, &si, NULL, &vm->shader);
    rt_free(ctx, words);
    if (r != VK_SUCCESS)
        return rt_error(
            DCK_ERROR_JIT,
            "Vulkan device '%s' rejects the SPIR-V of '%s': vkCreateShaderModule failed "
            "with %s (%d)",
            ctx->device.info.name, src, vk_err(r), (int)r);
    vm->nkernels = m->abi->nkernels;
    vm->kernels = rt_calloc(ctx, (vm->nkernels ? vm->nkernels : 1) * sizeof *vm->kernels);
    if (!vm->kernels) return rt_error(DCK_ERROR_OUT_OF_MEMORY, "out of memory loading '%s'", src);
    bool checked_ctx = (ctx->flags & DCK_CONTEXT_CHECKED) != 0;
    for (uint32_t i = 0; i < vm->nkernels; i++) {
        const dck_abi_kernel *ak = &m->abi->kernels[i];
        VkKernel *k = &vm->kernels[i];
        k->checked = checked_ctx || (ak->flags & DCK_ABI_KERNEL_CHECKED);
        for (uint32_t j = 0; j < ak->nparams; j++)
            k->nbuf += ak->params[j].kind == DCK_ABI_PARAM_BUFFER;
        AbiBlock layout = abi_scalar_block(ak->params, ak->nparams, NULL, NULL);
        k->block_size = layout.size;
        k->uniform = abi_block_in_uniform(&layout);
        if (k->uniform && k->block_size > c->limits.maxUniformBufferRange)
            return rt_error(DCK_ERROR_UNSUPPORTED,
                            "kernel '%s' of '%s' has %u bytes of scalar parameters; device "
                            "'%s' allows %u",
                            ak->name, src, k->block_size, ctx->device.info.name,
                            c->limits.maxUniformBufferRange);
        VkDescriptorSetLayoutBinding binds[80];
        uint32_t nb = 0;
        uint32_t total = k->nbuf + (k->checked ? 1 : 0) + (k->uniform ? 1 : 0);
        if (total > 80 || k->nbuf > c->limits.maxPerStageDescriptorStorageBuffers)
            return rt_error(DCK_ERROR_UNSUPPORTED,
                            "kernel '%s' of '%s' has %u buffer parameters; device '%s' allows "
                            "%u per kernel",
                            ak->name, src, k->nbuf, ctx->device.info.name,
                            c->limits.maxPerStageDescriptorStorageBuffers);
        for (uint32_t j = 0; j < total; j++) {
            VkDescriptorSetLayoutBinding *bd = &binds[nb++];
            memset(bd, 0, sizeof *bd);
            bd->binding = j;
            bd->descriptorType = k->uniform && j == total - 1 ? VK_DESCRIPTOR_TYPE_UNIFORM_BUFFER
                                                              : VK_DESCRIPTOR_TYPE_STORAGE_BUFFER;
            bd->descriptorCount = 1;
            bd->stageFlags = VK_SHADER_STAGE_COMPUTE_BIT;
        }
        VkDescriptorSetLayoutCreateInfo dli = {VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO,
                                               NULL, 0, nb, binds};
        if ((r = c->f->vkCreateDescriptorSetLayout(c->dev, &dli, NULL, &k->dsl)) != VK_SUCCESS)
            return vk_fail(r, "vkCreateDescriptorSetLayout", ak->name);
        VkPushConstantRange pcr = {VK_SHADER_STAGE_COMPUTE_BIT, 0, k->block_size};
        VkPipelineLayoutCreateInfo pli = {VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO,
                                          NULL,
                                          0,
                                          1,
                                          &k->dsl,
                                          k->uniform ? 0u : 1u,
                                          k->uniform ? NULL : &pcr};
        if ((r = c->f->vkCreatePipelineLayout(c->dev, &pli, NULL, &k->layout)) != VK_SUCCESS)
            return vk_fail(r, "vkCreatePipelineLayout", ak->name);
    }
    return validation_check(c);
}

/* The pipeline of kernel ki for this work-group size (created on first use; under mu). */
static dck_status get_pipeline(dck_context ctx, VkCtx *c, dck_module m, uint32_t ki,
                               const uint32_t local[3], VkPipeline *out)
{
    VkMod *vm = m->backend_data;
    VkKernel *k = &vm->kernels[ki];
    for (uint32_t i = 0; i < k->npipes; i++)
        if (!memcmp(k->pipes[i].local, local, sizeof k->pipes[i].local)) {
            *out = k->pipes[i].pipeline;
            return DCK_SUCCESS;
        }
    if (k->npipes == k->cap) {
        uint32_t cap = k->cap ? k->cap * 2 : 4;
        VkPipe *p = rt_alloc(ctx, cap * sizeof *p);
        if (!p) return rt_error(DCK_ERROR_OUT_OF_MEMORY, "out of memory creating a pipeline");
        if (k->npipes) memcpy(p, k->pipes, k->npipes * sizeof *p);
        rt_free(ctx, k->pipes);
        k->pipes = p;
        k->cap = cap;
    }
    VkSpecializationMapEntry me[3] = {{0, 0, 4}, {1, 4, 4}, {2, 8, 4}};
    VkSpecializationInfo spec = {3, me, 12, local};
    VkComputePipelineCreateInfo pi = {0};
    pi.sType = VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO;
    pi.stage.sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO;
    pi.stage.stage = VK_SHADER_STAGE_COMPUTE_BIT;
    pi.stage.module = vm->shader;
    pi.stage.pName = m->abi->kernels[ki].name;
    /* Always specialized, a fixed [[workgroup]] kernel too (local is then its declared size):
     * a module's WorkgroupSize built-in (the spec-constant size of the kernels without
     * [[workgroup]]) takes precedence over every entry point's LocalSize, so leaving the
     * constants at their default 1 would run a fixed kernel with one work-item per group. */
    pi.stage.pSpecializationInfo = &spec;
    pi.layout = k->layout;
    pi.flags = VK_PIPELINE_CREATE_DISPATCH_BASE_BIT; /* large launches are split (vk_launch) */
    VkPipeline pl = VK_NULL_HANDLE;
    VkResult r = c->f->vkCreateComputePipelines(c->dev, VK_NULL_HANDLE, 1, &pi, NULL, &pl);
    if (r != VK_SUCCESS)
        return rt_error(
            DCK_ERROR_JIT,
            "Vulkan device '%s' cannot build kernel '%s' of '%s' for work-groups of (%u, "
            "%u, %u): vkCreateComputePipelines failed with %s (%d)",
            ctx->device.info.name, m->abi->kernels[ki].name,
            m->abi->source_name ? m->abi->source_name : "<module>", local[0], local[1], local[2],
            vk_err(r), (int)r);
    if (c->validation[0]) { /* never run what the validation layer rejected */
        c->f->vkDestroyPipeline(c->dev, pl, NULL);
        dck_status st = validation_check(c);
        rt_error_prefix("kernel '%s'", m->abi->kernels[ki].name);
        return st;
    }
    memcpy(k->pipes[k->npipes].local, local, sizeof k->pipes[k->npipes].local);
    k->pipes[k->npipes++].pipeline = pl;
    *out = pl;
    return DCK_SUCCESS;
}

/* ---- launches and events ---- */

/* Records the dispatch of groups[0..2], split into parts of at most the device's group count
 * per dimension with vkCmdDispatchBase (WorkgroupId and GlobalInvocationId include the base). */
static void dispatch_split(VkCtx *c, VkCommandBuffer cb, const uint32_t groups[3])
{
    const uint32_t *max = c->limits.maxComputeWorkGroupCount;
    if (groups[0] <= max[0] && groups[1] <= max[1] && groups[2] <= max[2]) {
        c->f->vkCmdDispatch(cb, groups[0], groups[1], groups[2]);
        return;
    }
    for (uint64_t z = 0; z < groups[2]; z += max[2])
        for (uint64_t y = 0; y < groups[1]; y += max[1])
            for (uint64_t x = 0; x < groups[0]; x += max[0])
                c->f->vkCmdDispatchBase(
                    cb, (uint32_t)x, (uint32_t)y, (uint32_t)z,
                    (uint32_t)(groups[0] - x < max[0] ? groups[0] - x : max[0]),
                    (uint32_t)(groups[1] - y < max[1] ? groups[1] - y : max[1]),
                    (uint32_t)(groups[2] - z < max[2] ? groups[2] - z : max[2]));
}

static dck_status vk_launch(dck_queue q, const RtLaunch *l, dck_cpu_oob *oob, void **ev_out)
{
    dck_context ctx = q->ctx;
    VkCtx *c = ctx->backend_data;
    VkMod *vm = l->module->backend_data;
    VkFns *f = c->f;
    if (!vm || l->kernel_index >= vm->nkernels)
        return rt_error(DCK_ERROR_INVALID_MODULE, "kernel '%s' has no SPIR-V in this module",
                        l->kernel_name);
    const dck_abi_kernel *ak = l->k;
    VkKernel *k = &vm->kernels[l->kernel_index];
    if (ak->shared_bytes > c->limits.maxComputeSharedMemorySize)
        return rt_error(DCK_ERROR_UNSUPPORTED,
                        "kernel '%s' needs %u bytes of shared memory; Vulkan device '%s' has "
                        "%u per work-group",
                        l->kernel_name, ak->shared_bytes, ctx->device.info.name,
                        c->limits.maxComputeSharedMemorySize);
    if (oob && !k->checked)
        return rt_error(DCK_ERROR_INVALID_MODULE, "kernel '%s' was loaded without bounds checks",
                        l->kernel_name);
    for (int d = 0; d < 3; d++)
        if (l->groups[d] > c->limits.maxComputeWorkGroupCount[d] && vm->num_workgroups)
            return rt_error(
                DCK_ERROR_INVALID_RANGE,
                "kernel '%s': %u work-groups in dimension %d exceed the maximum "
                "%u of Vulkan device '%s', and the kernel reads num_groups() so the launch cannot be "
                "split",
                l->kernel_name, l->groups[d], d, c->limits.maxComputeWorkGroupCount[d],
                ctx->device.info.name);
    uint64_t ngroups = (uint64_t)l->groups[0] * l->groups[1] * l->groups[2];
    if (ngroups == 0 && !oob) return DCK_SUCCESS;
    /* the scalar block */
    uint32_t offs[64], lens[64];
    if (ak->nparams > 64)
        return rt_error(DCK_ERROR_UNSUPPORTED, "kernel '%s' has more than 64 parameters",
                        l->kernel_name);
    AbiBlock layout = abi_scalar_block(ak->params, ak->nparams, offs, lens);
    uint32_t bsize = layout.size, goff = layout.gsize_off;
    /* the SPIR-V declares a uniform block as an array of uvec4: the buffer bound must cover
     * whole 16-byte words (the tail is zero) */
    if (k->uniform) bsize = align_up(bsize, 16);
    unsigned char *block = rt_calloc(ctx, bsize);
    if (!block)
        return rt_error(DCK_ERROR_OUT_OF_MEMORY, "out of memory launching '%s'", l->kernel_name);
    for (uint32_t i = 0; i < ak->nparams; i++) {
        const dck_abi_param *p = &ak->params[i];
        if (p->kind == DCK_ABI_PARAM_VALUE) {
            memcpy(block + offs[i], l->args[i], p->size);
        } else {
            uint32_t n = (uint32_t)l->bufs[i]->count;
            memcpy(block + lens[i], &n, 4);
        }
    }
    memcpy(block + goff, l->global, 12);

    pthread_mutex_lock(&c->mu);
    queue_reap(ctx, c, q->backend_data);
    VkPipeline pl = VK_NULL_HANDLE;
    VkSub *s = NULL;
    dck_status st = get_pipeline(ctx, c, l->module, l->kernel_index, l->local, &pl);
    if (!st && oob && !c->oob) {
        void *map = NULL;
        VkResult r = make_buffer(c, 32, VK_BUFFER_USAGE_STORAGE_BUFFER_BIT, true, &c->oob,
                                 &c->oob_mem, &map);
        if (r != VK_SUCCESS || !map)
            st = vk_fail(r ? r : VK_ERROR_MEMORY_MAP_FAILED, "vkAllocateMemory",
                         "checked-mode record");
        c->oob_map = map;
    }
    VkBuffer ubo = VK_NULL_HANDLE;
    VkDeviceMemory ubo_mem = VK_NULL_HANDLE;
    if (!st) st = sub_begin(ctx, c, ev_out != NULL, &s);
    if (!st && k->uniform) {
        void *map = NULL;
        VkResult r =
            make_buffer(c, bsize, VK_BUFFER_USAGE_UNIFORM_BUFFER_BIT, true, &ubo, &ubo_mem, &map);
        if (r != VK_SUCCESS || !map)
            st = vk_fail(r ? r : VK_ERROR_MEMORY_MAP_FAILED, "vkAllocateMemory",
                         "scalar parameter block");
        else
            memcpy(map, block, bsize);
        s->staging = ubo; /* released with the submission */
        s->staging_mem = ubo_mem;
    }
    uint32_t total = k->nbuf + (k->checked ? 1 : 0) + (k->uniform ? 1 : 0);
    VkDescriptorSet set = VK_NULL_HANDLE;
    if (!st && total) {
        VkDescriptorPoolSize sizes[2] = {{VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, total},
                                         {VK_DESCRIPTOR_TYPE_UNIFORM_BUFFER, 1}};
        VkDescriptorPoolCreateInfo dpi = {
            VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO, NULL, 0, 1, k->uniform ? 2u : 1u, sizes};
        VkResult r = f->vkCreateDescriptorPool(c->dev, &dpi, NULL, &s->dpool);
        VkDescriptorSetAllocateInfo dai = {VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO, NULL,
                                           s->dpool, 1, &k->dsl};
        if (r == VK_SUCCESS) r = f->vkAllocateDescriptorSets(c->dev, &dai, &set);
        if (r != VK_SUCCESS) st = vk_fail(r, "vkAllocateDescriptorSets", l->kernel_name);
    }
    if (!st && total) {
        VkDescriptorBufferInfo infos[80];
        VkWriteDescriptorSet writes[80];
        uint32_t nw = 0;
        for (uint32_t i = 0; i < ak->nparams && !st; i++) {
            if (ak->params[i].kind != DCK_ABI_PARAM_BUFFER) continue;
            dck_buffer b = l->bufs[i];
            VkBuf *vb = b->backend_data;
            infos[nw].buffer = vb->buf;
            infos[nw].offset = 0;
            infos[nw].range = VK_WHOLE_SIZE;
            nw++;
        }
        if (k->checked) infos[nw++] = (VkDescriptorBufferInfo){c->oob, 0, VK_WHOLE_SIZE};
        if (k->uniform) infos[nw++] = (VkDescriptorBufferInfo){ubo, 0, VK_WHOLE_SIZE};
        for (uint32_t j = 0; j < nw; j++) {
            memset(&writes[j], 0, sizeof writes[j]);
            writes[j].sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET;
            writes[j].dstSet = set;
            writes[j].dstBinding = j;
            writes[j].descriptorCount = 1;
            writes[j].descriptorType = k->uniform && j == nw - 1
                                           ? VK_DESCRIPTOR_TYPE_UNIFORM_BUFFER
                                           : VK_DESCRIPTOR_TYPE_STORAGE_BUFFER;
            writes[j].pBufferInfo = &infos[j];
        }
        f->vkUpdateDescriptorSets(c->dev, nw, writes, 0, NULL);
    }
    if (!st) {
        if (oob) memset(c->oob_map, 0, 32); /* earlier checked launches completed (synchronous) */
        f->vkCmdBindPipeline(s->cb, VK_PIPELINE_BIND_POINT_COMPUTE, pl);
        if (total)
            f->vkCmdBindDescriptorSets(s->cb, VK_PIPELINE_BIND_POINT_COMPUTE, k->layout, 0, 1, &set,
                                       0, NULL);
        if (!k->uniform)
            f->vkCmdPushConstants(s->cb, k->layout, VK_SHADER_STAGE_COMPUTE_BIT, 0, bsize, block);
        if (s->has_ts) /* once earlier work is done with the compute stage: this one starts */
            f->vkCmdWriteTimestamp(s->cb, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, s->qpool, 0);
        if (ngroups != 0) dispatch_split(c, s->cb, l->groups);
        if (s->has_ts)
            f->vkCmdWriteTimestamp(s->cb, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, s->qpool, 1);
        if (c->validation[0]) { /* recording was rejected: do not submit */
            st = validation_check(c);
            f->vkEndCommandBuffer(s->cb);
            sub_complete(c, s);
            rt_free(ctx, s);
            s = NULL;
        } else {
            st = sub_submit(ctx, c, s);
            if (st) s = NULL; /* released by sub_submit */
        }
    } else if (s) {
        f->vkEndCommandBuffer(s->cb);
        sub_complete(c, s);
        rt_free(ctx, s);
        s = NULL;
    }
    if (!st) {
        VkQ *vq = q->backend_data;
        s->next = vq->inflight;
        vq->inflight = s;
        if (oob) {
            st = sub_wait(ctx, c, s);
            if (!st) {
                const uint32_t *rec = c->oob_map;
                oob->hit = (int32_t)rec[0];
                oob->param = rec[1];
                oob->line = rec[2];
                oob->is_write = rec[3];
                oob->index = (uint64_t)rec[4] | (uint64_t)rec[5] << 32;
                oob->len = (uint64_t)rec[6] | (uint64_t)rec[7] << 32;
            }
        }
        if (!st && ev_out) {
            s->refs++;
            *ev_out = s;
        }
    }
    if (!st) st = validation_check(c);
    pthread_mutex_unlock(&c->mu);
    rt_free(ctx, block);
    return st;
}

static dck_status vk_event_wait(dck_context ctx, void *p)
{
    VkCtx *c = ctx->backend_data;
    pthread_mutex_lock(&c->mu);
    dck_status st = sub_wait(ctx, c, p);
    pthread_mutex_unlock(&c->mu);
    return st;
}

/* The device timestamps on the host clock, through one offset for every submission of the
 * context (so the launches of a queue map in device order, without overlap). */
static dck_status vk_event_times(dck_context ctx, void *p, uint64_t *start, uint64_t *end)
{
    VkCtx *c = ctx->backend_data;
    VkSub *s = p;
    pthread_mutex_lock(&c->mu);
    dck_status st = sub_wait(ctx, c, s);
    if (!st && s->has_ts) {
        *start = (uint64_t)((int64_t)s->ts0_ns + c->ts_offset);
        *end = (uint64_t)((int64_t)s->ts1_ns + c->ts_offset);
    } else if (!st) {
        *start = *end = s->host_t0;
    }
    pthread_mutex_unlock(&c->mu);
    return st;
}

static void vk_event_release(dck_context ctx, void *p)
{
    VkCtx *c = ctx->backend_data;
    pthread_mutex_lock(&c->mu);
    sub_unref(ctx, p);
    pthread_mutex_unlock(&c->mu);
}

const RtBackend rt_backend_vulkan = {
    .name = "vulkan",
    .id = DCK_BACKEND_VULKAN,
    .targets = "spirv-vulkan",
    .enumerate = vk_enumerate,
    .init = vk_init,
    .fini = vk_fini,
    .buffer_alloc = vk_buffer_alloc,
    .buffer_free = vk_buffer_free,
    .buffer_write = vk_buffer_write,
    .buffer_read = vk_buffer_read,
    .buffer_map = vk_buffer_map,
    .buffer_unmap = vk_buffer_unmap,
    .module_load = vk_module_load,
    .module_unload = vk_module_unload,
    .queue_create = vk_queue_create,
    .queue_finish = vk_queue_finish,
    .queue_destroy = vk_queue_destroy,
    .launch = vk_launch,
    .event_wait = vk_event_wait,
    .event_times = vk_event_times,
    .event_release = vk_event_release,
};
