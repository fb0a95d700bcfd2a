"""ctypes mirror of runtime/include/dck.h and the loading of libdckrt.

Every structure here must match dck.h field for field: python/tests/test_layout.py compiles
a C program against the header and compares each struct's size and each field's offset with
these (a wrong width would pass garbage silently). Enums are C ints.

Where libdckrt comes from, first found wins:
  1. $DCK_LIBRARY (a path to libdckrt.so);
  2. the copy `pip install ./python` put inside the package (dck/_lib/libdckrt.so), taken
     from the build next to it, so the library and this mirror come from the same commit;
  3. the installed library: ctypes.util.find_library("dckrt"), then pkg-config's libdir for
     dckrt (cmake --install into a prefix that ldconfig has not indexed), then the usual
     prefixes.
"""
import ctypes
import ctypes.util
import os
import shutil
import subprocess

c_int = ctypes.c_int
u32 = ctypes.c_uint32
i32 = ctypes.c_int32
u64 = ctypes.c_uint64
i64 = ctypes.c_int64
vp = ctypes.c_void_p
cstr = ctypes.c_char_p

# dck_status
SUCCESS = 0
STATUS_NAMES = {
    0: "DCK_SUCCESS",
    -1: "DCK_ERROR_INVALID_ARGUMENT",
    -2: "DCK_ERROR_OUT_OF_MEMORY",
    -3: "DCK_ERROR_BACKEND_UNAVAILABLE",
    -4: "DCK_ERROR_DEVICE_NOT_FOUND",
    -5: "DCK_ERROR_BUFFER_TOO_LARGE",
    -6: "DCK_ERROR_OUT_OF_RANGE",
    -7: "DCK_ERROR_COMPILE",
    -8: "DCK_ERROR_JIT",
    -9: "DCK_ERROR_INVALID_MODULE",
    -10: "DCK_ERROR_NOT_FOUND",
    -11: "DCK_ERROR_ARGUMENT_COUNT",
    -12: "DCK_ERROR_ARGUMENT_TYPE",
    -13: "DCK_ERROR_INVALID_RANGE",
    -14: "DCK_ERROR_OUT_OF_BOUNDS",
    -15: "DCK_ERROR_ALIASING",
    -16: "DCK_ERROR_INVALID_PROGRAM",
    -17: "DCK_ERROR_IO",
    -18: "DCK_ERROR_UNSUPPORTED",
    -19: "DCK_ERROR_BUFFER_MAPPED",
}
STATUS_CODES = {v: k for k, v in STATUS_NAMES.items()}

# dck_type
TYPE_BOOL, TYPE_I8, TYPE_U8, TYPE_I16, TYPE_U16, TYPE_I32, TYPE_U32 = range(7)
TYPE_I64, TYPE_U64, TYPE_F16, TYPE_F32, TYPE_F64 = range(7, 12)
TYPE_STRUCT = 100
TYPE_UNKNOWN = 255

# dck_backend
BACKENDS = {"auto": 0, "cpu": 1, "cuda": 2, "opencl": 3, "vulkan": 4, "metal": 5}

FEATURES = {
    "fp64": 1 << 0,
    "fp16": 1 << 1,
    "int64_atomics": 1 << 2,
    "float_atomics": 1 << 3,
    "subgroups": 1 << 4,
    "unified_memory": 1 << 5,
    "cpu_sse4": 1 << 16,
    "cpu_avx2": 1 << 17,
    "cpu_avx512": 1 << 18,
    "cpu_neon": 1 << 19,
    "cpu_fma": 1 << 20,
    "cpu_f16c": 1 << 21,
}
DEVICE_TYPES = {0: "cpu", 1: "gpu", 2: "other"}

CONTEXT_CHECKED = 1
MODULE_CHECKED = 1
KERNEL, PIPELINE = 0, 1
PARAM_VALUE, PARAM_BUFFER = 0, 1
ACCESS_READ, ACCESS_READ_WRITE = 1, 3
ARG_BUFFER, ARG_VALUE = 0, 1


class dck_device_info(ctypes.Structure):
    _fields_ = [
        ("next", vp),
        ("name", ctypes.c_char * 128),
        ("backend", c_int),
        ("backend_name", ctypes.c_char * 16),
        ("index", u32),
        ("global_memory_bytes", u64),
        ("max_shared_bytes", u64),
        ("compute_units", u32),
        ("max_work_group_size", u32),
        ("max_work_group_dims", u32 * 3),
        ("subgroup_size", u32),
        ("features", u64),
        ("device_type", c_int),
        ("driver", ctypes.c_char * 64),
    ]


class dck_context_desc(ctypes.Structure):
    _fields_ = [
        ("next", vp),
        ("backend", c_int),
        ("backend_name", cstr),
        ("device_index", u32),
        ("flags", u32),
        ("num_threads", u32),
        ("allocator", vp),
        ("trace_path", cstr),
    ]


class dck_pool_stats(ctypes.Structure):
    _fields_ = [
        ("bytes_in_use", u64),
        ("peak_bytes_in_use", u64),
        ("bytes_cached", u64),
        ("allocations", u64),
        ("allocations_from_pool", u64),
        ("frees", u64),
    ]


class dck_buffer_desc(ctypes.Structure):
    _fields_ = [
        ("next", vp),
        ("size", u64),
        ("count", u64),
        ("elem_size", u32),
        ("type", c_int),
        ("vec", u32),
        ("initial_data", vp),
        ("name", cstr),
    ]


class dck_buffer_info(ctypes.Structure):
    _fields_ = [
        ("next", vp),
        ("size", u64),
        ("count", u64),
        ("elem_size", u32),
        ("type", c_int),
        ("vec", u32),
        ("name", cstr),
    ]


class dck_module_options(ctypes.Structure):
    _fields_ = [
        ("next", vp),
        ("defines", ctypes.POINTER(cstr)),
        ("ndefines", u32),
        ("include_dirs", ctypes.POINTER(cstr)),
        ("ninclude_dirs", u32),
        ("opt_level", i32),
        ("flags", u32),
        ("target", cstr),
    ]


class dck_module_info(ctypes.Structure):
    _fields_ = [
        ("next", vp),
        ("source_name", cstr),
        ("nkernels", u32),
        ("cache_hit", i32),
        ("cache_path", cstr),
        ("target", cstr),
    ]


class dck_kernel_info(ctypes.Structure):
    _fields_ = [
        ("next", vp),
        ("name", cstr),
        ("kind", c_int),
        ("nparams", u32),
        ("workgroup", u32 * 3),
        ("shared_bytes", u32),
        ("uses_barrier", u32),
        ("line", u32),
        ("dims", u32),
    ]


class dck_param_info(ctypes.Structure):
    _fields_ = [
        ("next", vp),
        ("name", cstr),
        ("kind", c_int),
        ("access", c_int),
        ("type", c_int),
        ("vec", u32),
        ("size", u32),
        ("align", u32),
        ("type_name", cstr),
    ]


class dck_arg_value_union(ctypes.Union):
    _fields_ = [
        ("i32", i32),
        ("u32", u32),
        ("i64", i64),
        ("u64", u64),
        ("f32", ctypes.c_float),
        ("f64", ctypes.c_double),
        ("bytes", ctypes.c_ubyte * 16),
    ]


class dck_arg(ctypes.Structure):
    _fields_ = [
        ("kind", c_int),
        ("type", c_int),
        ("vec", u32),
        ("size", u32),
        ("type_name", cstr),
        ("buffer", vp),
        ("ptr", vp),
        ("v", dck_arg_value_union),
    ]


class dck_queue_desc(ctypes.Structure):
    _fields_ = [("next", vp), ("flags", u32)]


class dck_range(ctypes.Structure):
    _fields_ = [("dims", u32), ("global", u32 * 3), ("local", u32 * 3)]


# Every mirrored struct with its C name (the layout test walks this list).
STRUCTS = [
    dck_device_info,
    dck_context_desc,
    dck_pool_stats,
    dck_buffer_desc,
    dck_buffer_info,
    dck_module_options,
    dck_module_info,
    dck_kernel_info,
    dck_param_info,
    dck_arg,
    dck_queue_desc,
    dck_range,
]

P = ctypes.POINTER
# name: (argument types); every function returns dck_status unless listed in _RESTYPES.
_PROTOTYPES = {
    "dck_status_string": [c_int],
    "dck_last_error": [],
    "dck_enumerate_devices": [c_int, P(u32), P(dck_device_info)],
    "dck_backend_available": [c_int],
    "dck_backend_from_name": [cstr, P(c_int)],
    "dck_context_create": [P(dck_context_desc), P(vp)],
    "dck_context_destroy": [vp],
    "dck_context_get_device": [vp, P(vp)],
    "dck_context_get_auto_reason": [vp, P(cstr)],
    "dck_device_get_info": [vp, P(dck_device_info)],
    "dck_context_get_pool_stats": [vp, P(dck_pool_stats)],
    "dck_buffer_create": [vp, P(dck_buffer_desc), P(vp)],
    "dck_buffer_destroy": [vp],
    "dck_buffer_get_info": [vp, P(dck_buffer_info)],
    "dck_buffer_write": [vp, u64, u64, vp],
    "dck_buffer_read": [vp, u64, u64, vp],
    "dck_module_create_from_source": [vp, cstr, cstr, P(dck_module_options), P(vp)],
    "dck_module_create_from_package": [vp, vp, ctypes.c_size_t, P(dck_module_options), P(vp)],
    "dck_module_create_from_file": [vp, cstr, P(dck_module_options), P(vp)],
    "dck_module_destroy": [vp],
    "dck_module_get_info": [vp, P(dck_module_info)],
    "dck_module_get_kernel": [vp, cstr, P(vp)],
    "dck_module_get_kernel_at": [vp, u32, P(vp)],
    "dck_kernel_get_info": [vp, P(dck_kernel_info)],
    "dck_kernel_get_param": [vp, u32, P(dck_param_info)],
    "dck_queue_create": [vp, P(dck_queue_desc), P(vp)],
    "dck_queue_destroy": [vp],
    "dck_queue_finish": [vp],
    "dck_launch": [vp, vp, P(dck_range), u32, P(dck_arg), P(vp)],
    "dck_event_wait": [vp],
    "dck_event_get_times": [vp, P(u64), P(u64)],
    "dck_event_elapsed_ns": [vp, P(u64)],
    "dck_event_destroy": [vp],
}
_RESTYPES = {"dck_status_string": cstr, "dck_last_error": cstr}

_PKG_LIB = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_lib")


def _candidates():
    """Where libdckrt may be, in the order tried, as (path, how it was found)."""
    out = []
    env = os.environ.get("DCK_LIBRARY")
    if env:
        return [(env, "$DCK_LIBRARY")]
    out.append((os.path.join(_PKG_LIB, "libdckrt.so"), "the copy installed with the package"))
    name = ctypes.util.find_library("dckrt")
    if name:
        out.append((name, "find_library('dckrt')"))
    if shutil.which("pkg-config"):
        try:
            libdir = subprocess.run(["pkg-config", "--variable=libdir", "dckrt"],
                                    capture_output=True, text=True, timeout=10).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            libdir = ""
        if libdir:
            out.append((os.path.join(libdir, "libdckrt.so"), "pkg-config dckrt"))
    for d in ("/usr/local/lib", "/usr/local/lib64", "/usr/lib", "/usr/lib64"):
        out.append((os.path.join(d, "libdckrt.so"), "prefix " + d))
    return out


def load():
    """Loads libdckrt and declares its functions; returns (CDLL, path, how)."""
    tried = []
    for path, how in _candidates():
        if os.sep in path and not os.path.exists(path):
            tried.append("%s (%s): absent" % (path, how))
            continue
        try:
            lib = ctypes.CDLL(path)
        except OSError as e:
            tried.append("%s (%s): %s" % (path, how, e))
            continue
        for fn, argtypes in _PROTOTYPES.items():
            f = getattr(lib, fn)
            f.argtypes = argtypes
            f.restype = _RESTYPES.get(fn, c_int)
        return lib, path, how
    raise ImportError("dck: cannot find libdckrt; set DCK_LIBRARY to the path of libdckrt.so "
                      "(e.g. build/runtime/libdckrt.so) or install DCK (cmake --install). "
                      "Tried:\n  " + "\n  ".join(tried))
