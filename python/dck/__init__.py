"""dck: run DCK kernels and pipelines on NumPy arrays, through libdckrt (ctypes).

    import dck, numpy as np
    m = dck.compile("saxpy.dck")                   # or .dck source text, or dck.load("k.dckpkg")
    m.saxpy(2.0, x, y)                             # y = 2x + y, in place

Arrays are copied to device buffers for the launch and the ones the kernel may write
(non-const `T[]` parameters) are copied back into the same array. docs/python.md is the
reference; every failure raises dck.Error with the runtime's status name and message.
"""
import atexit
import collections
import ctypes
import os
import statistics
import threading
import warnings

import numpy as np

from . import _ffi

__version__ = "0.1.0"
__all__ = ["Error", "Device", "Context", "Module", "Kernel", "Param", "Buffer", "Event",
           "Bench", "devices", "compile", "load", "context", "bench", "library_path"]

_lib, library_path, library_found_by = _ffi.load()
if (library_found_by.startswith("the copy") and "DCK_STDLIB_DIR" not in os.environ and
        os.path.isdir(os.path.join(_ffi._PKG_LIB, "stdlib", "dck"))):
    # the copied library's compiled-in stdlib path is the source tree it was built in: point
    # it at the copy of stdlib/ installed with it instead (#include <dck/...>)
    os.environ["DCK_STDLIB_DIR"] = os.path.join(_ffi._PKG_LIB, "stdlib")


class Error(Exception):
    """A failure of the runtime or of an argument: .status is the dck_status name
    ("DCK_ERROR_ARGUMENT_TYPE"), .code its value, .message the runtime's message."""

    def __init__(self, status, message):
        self.status = status
        self.code = _ffi.STATUS_CODES.get(status, None)
        self.message = message
        super().__init__("%s: %s" % (status, message) if message else status)


def _check(st):
    if st != _ffi.SUCCESS:
        name = _lib.dck_status_string(st).decode()
        msg = (_lib.dck_last_error() or b"").decode(errors="replace")
        raise Error(name, msg)


# ---- types ----

_DTYPES = {
    _ffi.TYPE_BOOL: np.dtype(np.bool_),
    _ffi.TYPE_I8: np.dtype(np.int8),
    _ffi.TYPE_U8: np.dtype(np.uint8),
    _ffi.TYPE_I16: np.dtype(np.int16),
    _ffi.TYPE_U16: np.dtype(np.uint16),
    _ffi.TYPE_I32: np.dtype(np.int32),
    _ffi.TYPE_U32: np.dtype(np.uint32),
    _ffi.TYPE_I64: np.dtype(np.int64),
    _ffi.TYPE_U64: np.dtype(np.uint64),
    _ffi.TYPE_F16: np.dtype(np.float16),
    _ffi.TYPE_F32: np.dtype(np.float32),
    _ffi.TYPE_F64: np.dtype(np.float64),
}
_TYPE_OF_DTYPE = {v: k for k, v in _DTYPES.items()}


# ---- devices and contexts ----

Device = collections.namedtuple("Device", [
    "backend", "index", "name", "type", "driver", "global_memory", "max_shared_memory",
    "compute_units", "max_work_group_size", "max_work_group_dims", "subgroup_size",
    "features"])
Device.__doc__ = """A device: backend ("cpu", "opencl", ...), index within the backend, name,
type ("cpu", "gpu", "other"), driver, memory sizes in bytes, limits, and features (a
frozenset of "fp64", "fp16", "int64_atomics", "float_atomics", "subgroups",
"unified_memory", "cpu_avx2", ...). Pass one as device= to compile() or load()."""


def _device(info):
    feats = frozenset(n for n, bit in _ffi.FEATURES.items() if info.features & bit)
    return Device(info.backend_name.decode(), info.index, info.name.decode(errors="replace"),
                  _ffi.DEVICE_TYPES.get(info.device_type, "other"),
                  info.driver.decode(errors="replace"), info.global_memory_bytes,
                  info.max_shared_bytes, info.compute_units, info.max_work_group_size,
                  tuple(info.max_work_group_dims), info.subgroup_size, feats)


def _backend_code(backend):
    if backend is None:
        backend = "auto"
    if isinstance(backend, str):
        if backend not in _ffi.BACKENDS:
            raise Error("DCK_ERROR_INVALID_ARGUMENT",
                        "unknown backend '%s' (one of: %s)" % (backend, ", ".join(_ffi.BACKENDS)))
        return _ffi.BACKENDS[backend]
    raise Error("DCK_ERROR_INVALID_ARGUMENT", "backend must be a name such as 'cpu', got %r"
                % (backend,))


def devices(backend="auto"):
    """The devices present, best first (backend="auto": every backend's; "cpu", "opencl",
    ...: that backend's). A backend that is not built in or whose driver is missing has none."""
    code = _backend_code(backend)
    n = _ffi.u32(0)
    _check(_lib.dck_enumerate_devices(code, ctypes.byref(n), None))
    if n.value == 0:
        return []
    infos = (_ffi.dck_device_info * n.value)()
    _check(_lib.dck_enumerate_devices(code, ctypes.byref(n), infos))
    return [_device(infos[i]) for i in range(n.value)]


class Context:
    """A device opened for use, with its in-order queue. Modules and buffers belong to one.
    dck.context() returns a shared one per (backend, device, checked); compile() and load()
    use it."""

    def __init__(self, backend="auto", device=None, checked=False, num_threads=0):
        if isinstance(device, Device):
            if backend not in (None, "auto", device.backend):
                raise Error("DCK_ERROR_INVALID_ARGUMENT", "backend '%s' and device %s:%d "
                            "disagree" % (backend, device.backend, device.index))
            backend, device = device.backend, device.index
        desc = _ffi.dck_context_desc()
        desc.backend = _backend_code(backend)
        desc.device_index = int(device or 0)
        desc.flags = _ffi.CONTEXT_CHECKED if checked else 0
        desc.num_threads = int(num_threads)
        h = ctypes.c_void_p()
        _check(_lib.dck_context_create(ctypes.byref(desc), ctypes.byref(h)))
        self._h = h
        self.checked = bool(checked)
        q = ctypes.c_void_p()
        try:
            _check(_lib.dck_queue_create(h, None, ctypes.byref(q)))
        except Error:
            _lib.dck_context_destroy(h)
            self._h = None
            raise
        self._q = q
        dev = ctypes.c_void_p()
        _check(_lib.dck_context_get_device(h, ctypes.byref(dev)))
        info = _ffi.dck_device_info()
        _check(_lib.dck_device_get_info(dev, ctypes.byref(info)))
        self.device = _device(info)
        why = ctypes.c_char_p()
        _check(_lib.dck_context_get_auto_reason(h, ctypes.byref(why)))
        self.auto_reason = (why.value or b"").decode()
        self._lock = threading.Lock()

    @property
    def alive(self):
        return self._h is not None

    def _handle(self):
        if self._h is None:
            raise Error("DCK_ERROR_INVALID_ARGUMENT", "the context was closed")
        return self._h

    def pool_stats(self):
        """The buffer pool's statistics as a dict (bytes_in_use, peak_bytes_in_use, ...)."""
        s = _ffi.dck_pool_stats()
        _check(_lib.dck_context_get_pool_stats(self._handle(), ctypes.byref(s)))
        return {name: getattr(s, name) for name, _ in s._fields_}

    def buffer(self, data=None, shape=None, dtype=None, vec=1, name=None):
        """A device buffer (dck.Buffer), from an array or of a shape and dtype (undefined
        contents); vec=N makes the last axis (of N) one element, for `floatN[]` parameters."""
        return Buffer(self, data, shape, dtype, vec, name)

    def close(self):
        """Releases the context and everything in it (modules, buffers). Idempotent."""
        if self._h is not None:
            h, self._h = self._h, None
            _lib.dck_queue_destroy(self._q)
            _check(_lib.dck_context_destroy(h))

    def __repr__(self):
        return "<dck.Context %s:%d '%s'%s>" % (self.device.backend, self.device.index,
                                                self.device.name,
                                                " checked" if self.checked else "")


_contexts = {}
_contexts_lock = threading.Lock()


def context(backend="auto", device=None, checked=False):
    """The shared Context of (backend, device, checked), created on first use."""
    if isinstance(device, Device):
        key = (device.backend, device.index, bool(checked))
    else:
        key = (backend or "auto", int(device or 0), bool(checked))
    with _contexts_lock:
        ctx = _contexts.get(key)
        if ctx is None or not ctx.alive:
            ctx = Context(backend, device, checked)
            _contexts[key] = ctx
        return ctx


_shared_context = context


@atexit.register
def _close_all():
    with _contexts_lock:
        for ctx in _contexts.values():
            try:
                ctx.close()
            except Error:
                pass
        _contexts.clear()


# ---- modules ----

def _is_path(src):
    if isinstance(src, os.PathLike):
        return True
    return isinstance(src, str) and "\n" not in src and len(src) < 4096 and os.path.isfile(src)


def _options(defines, include_dirs, opt_level, checked, target, keep):
    o = _ffi.dck_module_options()
    if defines:
        if isinstance(defines, dict):
            defines = [k if v is None else "%s=%s" % (k, v) for k, v in defines.items()]
        elif isinstance(defines, str):
            defines = [defines]
        arr = (ctypes.c_char_p * len(defines))(*[str(d).encode() for d in defines])
        keep.append(arr)
        o.defines, o.ndefines = arr, len(defines)
    if include_dirs:
        if isinstance(include_dirs, (str, os.PathLike)):
            include_dirs = [include_dirs]
        arr = (ctypes.c_char_p * len(include_dirs))(*[os.fsencode(d) for d in include_dirs])
        keep.append(arr)
        o.include_dirs, o.ninclude_dirs = arr, len(include_dirs)
    o.opt_level = -1 if opt_level is None else int(opt_level)
    o.flags = _ffi.MODULE_CHECKED if checked else 0
    if target:
        o.target = target.encode()
    return o


def compile(source, backend="auto", checked=False, defines=None, include_dirs=None,
            device=None, opt_level=None, context=None):
    """Compiles .dck code for a device and returns its Module. `source` is a path (str or
    os.PathLike naming an existing file) or the source text. defines: {"N": 64} or
    ["N=64", "FAST"]; include_dirs: folders for #include "..."; device: an index within
    `backend` or a dck.Device; checked: bounds-checked accesses (checked mode); context: a
    dck.Context of your own instead of the shared one of (backend, device, checked)."""
    ctx = context or _shared_context(backend, device, checked)
    keep = []
    opts = _options(defines, include_dirs, opt_level, checked, None, keep)
    h = ctypes.c_void_p()
    if _is_path(source):
        path = os.fsencode(os.fspath(source))
        _check(_lib.dck_module_create_from_source(ctx._handle(), path, None, ctypes.byref(opts),
                                                  ctypes.byref(h)))
    else:
        if not isinstance(source, str):
            raise Error("DCK_ERROR_INVALID_ARGUMENT",
                        "dck.compile expects .dck source text or a path, got %s"
                        % type(source).__name__)
        if "\n" not in source and source.endswith(".dck"):
            raise Error("DCK_ERROR_IO", "cannot read '%s': no such file" % source)
        _check(_lib.dck_module_create_from_source(ctx._handle(), b"<string>", source.encode(),
                                                  ctypes.byref(opts), ctypes.byref(h)))
    return Module(ctx, h)


def load(package, backend="auto", checked=False, device=None, target=None, context=None):
    """Loads a .dckpkg package (dckc --emit=package): a path or the package's bytes. The best
    target for the device is loaded, or `target` ("opencl", "spirv-opencl", ...). Bounds
    checks come with the package (dckc --checked); checked=True gives a checked context."""
    ctx = context or _shared_context(backend, device, checked)
    keep = []
    opts = _options(None, None, None, checked, target, keep)
    h = ctypes.c_void_p()
    if isinstance(package, (bytes, bytearray, memoryview)):
        data = bytes(package)
        _check(_lib.dck_module_create_from_package(ctx._handle(), data, len(data),
                                                   ctypes.byref(opts), ctypes.byref(h)))
    else:
        _check(_lib.dck_module_create_from_file(ctx._handle(), os.fsencode(os.fspath(package)),
                                                ctypes.byref(opts), ctypes.byref(h)))
    return Module(ctx, h)


class Module:
    """A compiled module: its kernels and pipelines are attributes (m.saxpy) and items
    (m["saxpy"]), each a callable dck.Kernel."""

    def __init__(self, ctx, handle):
        self.context = ctx
        self._h = handle
        info = _ffi.dck_module_info()
        _check(_lib.dck_module_get_info(handle, ctypes.byref(info)))
        self.source_name = info.source_name.decode() if info.source_name else None
        self.target = info.target.decode() if info.target else None
        self.cache_hit = {1: True, 0: False}.get(info.cache_hit)
        self.cache_path = info.cache_path.decode() if info.cache_path else None
        self._kernels = {}
        for i in range(info.nkernels):
            kh = ctypes.c_void_p()
            _check(_lib.dck_module_get_kernel_at(handle, i, ctypes.byref(kh)))
            k = Kernel(self, kh)
            self._kernels[k.name] = k

    @property
    def device(self):
        return self.context.device

    @property
    def names(self):
        """Names of the kernels and pipelines, in declaration order."""
        return list(self._kernels)

    def __getitem__(self, name):
        k = self._kernels.get(name)
        if k is None:
            raise Error("DCK_ERROR_NOT_FOUND", "no kernel or pipeline '%s' in the module "
                        "(it has: %s)" % (name, ", ".join(self._kernels) or "none"))
        return k

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            return self.__getitem__(name)
        except Error as e:
            raise AttributeError(e.message) from None

    def __contains__(self, name):
        return name in self._kernels

    def __dir__(self):
        return list(super().__dir__()) + list(self._kernels)

    def buffer(self, data=None, shape=None, dtype=None, vec=1, name=None):
        """A device buffer in this module's context (see Context.buffer)."""
        return self.context.buffer(data, shape, dtype, vec, name)

    def __del__(self):
        h, self._h = getattr(self, "_h", None), None
        if h and self.context.alive:
            _lib.dck_module_destroy(h)

    def __repr__(self):
        return "<dck.Module %s on %s:%d (%s): %s>" % (
            self.source_name or "package", self.device.backend, self.device.index,
            self.target, ", ".join(self._kernels))


# ---- parameters, buffers ----

class Param:
    """One parameter of a kernel or pipeline, from the module's reflection."""

    def __init__(self, info):
        self.name = info.name.decode()
        self.is_buffer = info.kind == _ffi.PARAM_BUFFER
        self.writable = self.is_buffer and info.access == _ffi.ACCESS_READ_WRITE
        self.type = info.type
        self.vec = info.vec
        self.size = info.size
        self.align = info.align
        self.type_name = info.type_name.decode()
        # NumPy dtype of one scalar (of a vector's component); None for structs
        self.dtype = _DTYPES.get(self.type)

    @property
    def decl(self):
        """The parameter as declared: "const float[] x"."""
        if self.is_buffer:
            return "%s%s[] %s" % ("" if self.writable else "const ", self.type_name, self.name)
        return "%s %s" % (self.type_name, self.name)

    def __repr__(self):
        return "<dck.Param %s>" % self.decl


class Buffer:
    """Device memory holding an array: pass it to kernels instead of a NumPy array to keep
    data on the device between launches (no copies). numpy() reads it back, write() fills
    it. Element type and vector width come from the dtype and `vec` (the last axis)."""

    def __init__(self, ctx, data=None, shape=None, dtype=None, vec=1, name=None):
        if data is not None:
            data = np.ascontiguousarray(data, dtype=dtype)
            shape, dtype = data.shape, data.dtype
        elif shape is None or dtype is None:
            raise Error("DCK_ERROR_INVALID_ARGUMENT", "dck.Buffer needs data, or shape and dtype")
        dtype = np.dtype(dtype)
        shape = (shape,) if np.isscalar(shape) else tuple(int(s) for s in shape)
        vec = int(vec or 1)
        if vec > 1 and (not shape or shape[-1] != vec):
            raise Error("DCK_ERROR_INVALID_ARGUMENT", "vec=%d needs a last axis of %d, the "
                        "shape is %s" % (vec, vec, shape))
        self.context, self.shape, self.dtype, self.vec = ctx, shape, dtype, vec
        self.count = int(np.prod(shape[:-1] if vec > 1 else shape, dtype=np.int64))
        desc = _ffi.dck_buffer_desc()
        desc.count = self.count
        desc.elem_size = dtype.itemsize * vec
        desc.size = desc.count * desc.elem_size
        desc.type = _TYPE_OF_DTYPE.get(dtype, _ffi.TYPE_STRUCT if dtype.fields else
                                       _ffi.TYPE_UNKNOWN)
        desc.vec = vec
        if name:
            self._name = name.encode()
            desc.name = self._name
        if data is not None and data.size:
            desc.initial_data = data.ctypes.data
        self.nbytes = desc.size
        h = ctypes.c_void_p()
        _check(_lib.dck_buffer_create(ctx._handle(), ctypes.byref(desc), ctypes.byref(h)))
        self._h = h

    def numpy(self):
        """A new NumPy array with the buffer's contents."""
        self.context._handle()
        out = np.empty(self.shape, self.dtype)
        if self.nbytes:
            _check(_lib.dck_buffer_read(self._h, 0, self.nbytes, out.ctypes.data))
        return out

    def write(self, data):
        """Copies an array of the buffer's shape and dtype into it."""
        self.context._handle()
        data = np.ascontiguousarray(data)
        if data.dtype != self.dtype or data.size * self.dtype.itemsize != self.nbytes:
            raise Error("DCK_ERROR_INVALID_ARGUMENT", "writing %s %s into a buffer of %s %s"
                        % (data.dtype, data.shape, self.dtype, self.shape))
        if self.nbytes:
            _check(_lib.dck_buffer_write(self._h, 0, self.nbytes, data.ctypes.data))

    def __len__(self):
        return self.count

    def __del__(self):
        h, self._h = getattr(self, "_h", None), None
        if h and self.context.alive:
            _lib.dck_buffer_destroy(h)

    def __repr__(self):
        return "<dck.Buffer %s %s%s>" % (self.dtype, self.shape,
                                          " vec=%d" % self.vec if self.vec > 1 else "")


# ---- kernels and launches ----

def _err(kind, k, i, p, what):
    return Error(kind, "argument %d ('%s') of %s '%s' %s" % (i + 1, p.name, k.kind, k.name, what))


def _int_value(k, i, p, v, dtype):
    if isinstance(v, (bool, np.bool_)):
        v = int(v)
    if not isinstance(v, (int, np.integer)):
        raise _err("DCK_ERROR_ARGUMENT_TYPE", k, i, p, "expects an integer ('%s'), got %s"
                   % (p.type_name, _describe(v)))
    info = np.iinfo(dtype)
    if not info.min <= int(v) <= info.max:
        raise _err("DCK_ERROR_ARGUMENT_TYPE", k, i, p, "expects a '%s', got %d, which does "
                   "not fit (%d..%d)" % (p.type_name, int(v), info.min, info.max))
    return int(v)


def _scalar(k, i, p, v, dtype):
    """One scalar (or vector component) checked against the parameter's type."""
    if dtype == np.bool_:
        if isinstance(v, (bool, np.bool_)) or (isinstance(v, (int, np.integer)) and v in (0, 1)):
            return bool(v)
        raise _err("DCK_ERROR_ARGUMENT_TYPE", k, i, p, "expects a bool, got %s" % _describe(v))
    if dtype.kind in "iu":
        return _int_value(k, i, p, v, dtype)
    if isinstance(v, np.ndarray) and v.ndim == 0:
        v = v[()]
    if not isinstance(v, (int, float, np.integer, np.floating)) or isinstance(v, (bool, np.bool_)):
        raise _err("DCK_ERROR_ARGUMENT_TYPE", k, i, p, "expects a '%s', got %s"
                   % (p.type_name, _describe(v)))
    try:
        f = float(v)
    except OverflowError:  # an int beyond any double
        f = None
    if f is None or (np.isfinite(f) and abs(f) > float(np.finfo(dtype).max)):
        raise _err("DCK_ERROR_ARGUMENT_TYPE", k, i, p, "expects a '%s', got %s, which does "
                   "not fit" % (p.type_name, repr(f) if f is not None else
                                "an integer of %d digits" % len(str(v))))
    return f


def _describe(v):
    if isinstance(v, np.ndarray):
        return "an array of %s %s" % (v.dtype, v.shape)
    if isinstance(v, Buffer):
        return "a dck.Buffer of %s %s" % (v.dtype, v.shape)
    if isinstance(v, np.generic):
        return "a NumPy %s (%r)" % (v.dtype, v)
    return "a %s (%r)" % (type(v).__name__, v) if not isinstance(v, (list, tuple)) or \
        len(v) < 9 else "a %s of %d items" % (type(v).__name__, len(v))


def _value_bytes(k, i, p, v):
    """The bytes of a by-value argument for parameter p."""
    if p.dtype is None:  # struct
        if isinstance(v, (bytes, bytearray)):
            b = bytes(v)
        elif isinstance(v, (np.void, np.ndarray)) and v.dtype.fields is not None and \
                v.size == 1:
            b = np.ascontiguousarray(v).tobytes()
        else:
            raise _err("DCK_ERROR_ARGUMENT_TYPE", k, i, p, "expects a '%s' (a NumPy structured "
                       "scalar of %d bytes), got %s" % (p.type_name, p.size, _describe(v)))
        if len(b) != p.size:
            raise _err("DCK_ERROR_ARGUMENT_TYPE", k, i, p, "expects a '%s' of %d bytes, got %d "
                       "bytes" % (p.type_name, p.size, len(b)))
        return b
    if p.vec > 1:
        if isinstance(v, np.ndarray):
            v = v.tolist() if v.ndim == 1 else v
        if not isinstance(v, (tuple, list)) or len(v) != p.vec:
            raise _err("DCK_ERROR_ARGUMENT_TYPE", k, i, p, "expects a '%s' (a tuple of %d), got "
                       "%s" % (p.type_name, p.vec, _describe(v)))
        comps = [_scalar(k, i, p, c, p.dtype) for c in v]
    else:
        comps = [_scalar(k, i, p, v, p.dtype)]
    b = np.array(comps, dtype=p.dtype).tobytes()
    return b + bytes(p.size - len(b))  # a 3-vector has the size of a 4-vector


def _array_for(k, i, p, a):
    """(contiguous array to upload, element count, write-back function or None)."""
    if not isinstance(a, np.ndarray):
        hint = "; convert it with np.asarray(..., dtype=np.%s)" % p.dtype.name \
            if p.dtype is not None and isinstance(a, (list, tuple)) else ""
        raise _err("DCK_ERROR_ARGUMENT_TYPE", k, i, p, "expects a NumPy array or dck.Buffer for "
                   "'%s', got %s%s" % (p.decl, _describe(a), hint))
    if p.dtype is None:  # a struct element: a structured dtype of the same size
        if a.dtype.fields is None or a.dtype.itemsize != p.size:
            raise _err("DCK_ERROR_ARGUMENT_TYPE", k, i, p, "expects an array of '%s' (a NumPy "
                       "structured dtype of %d bytes), got %s" % (p.type_name, p.size,
                                                                  _describe(a)))
        lanes, store = 1, 1
    else:
        if a.dtype != p.dtype:
            raise _err("DCK_ERROR_ARGUMENT_TYPE", k, i, p, "expects an array of %s for '%s', got "
                       "%s (convert it with .astype(np.%s))" % (p.dtype.name, p.decl,
                                                               _describe(a), p.dtype.name))
        lanes = p.vec
        store = p.size // p.dtype.itemsize  # 4 for a 3-vector
        if lanes > 1 and (a.ndim < 1 or a.shape[-1] not in (lanes, store)):
            raise _err("DCK_ERROR_ARGUMENT_TYPE", k, i, p, "expects an array of %s whose last "
                       "axis has %d components for '%s', got %s" % (p.dtype.name, lanes, p.decl,
                                                                  _describe(a)))
    if p.writable and not a.flags.writeable:
        raise _err("DCK_ERROR_ARGUMENT_TYPE", k, i, p, "is a read-only array, but '%s' may be "
                   "written by the %s" % (p.decl, k.kind))
    if lanes > 1 and a.shape[-1] != store:  # float3 given as (..., 3): pad to (..., 4)
        data = np.zeros(a.shape[:-1] + (store,), a.dtype)
        data[..., :lanes] = a
        back = (lambda d, a=a: a.__setitem__(Ellipsis, d[..., :lanes])) if p.writable else None
        return data, data.size // store, back
    data = np.ascontiguousarray(a)
    count = data.size // (store if lanes > 1 else 1)
    if data is a or not p.writable:
        return data, count, None
    return data, count, (lambda d, a=a: a.__setitem__(Ellipsis, d))


class Kernel:
    """A kernel or pipeline of a module. Call it with its arguments, positional or by
    parameter name, plus for kernels global_size= (int or tuple; default: the shape of the
    last buffer argument) and local_size=; timed=True returns the launch's time in seconds;
    wait=False returns a dck.Event at once (the arrays are written back at its wait())."""

    def __init__(self, module, handle):
        self.module = module
        self._h = handle
        info = _ffi.dck_kernel_info()
        _check(_lib.dck_kernel_get_info(handle, ctypes.byref(info)))
        self.name = info.name.decode()
        self.kind = "pipeline" if info.kind == _ffi.PIPELINE else "kernel"
        self.workgroup = tuple(info.workgroup) if any(info.workgroup) else None
        self.shared_bytes = info.shared_bytes
        self.uses_barrier = bool(info.uses_barrier)
        self.line = info.line
        self.dims = info.dims
        self.params = []
        for j in range(info.nparams):
            pi = _ffi.dck_param_info()
            _check(_lib.dck_kernel_get_param(handle, j, ctypes.byref(pi)))
            self.params.append(Param(pi))

    @property
    def signature(self):
        return "%s %s(%s)" % (self.kind, self.name, ", ".join(p.decl for p in self.params))

    def __repr__(self):
        return "<dck.Kernel %s>" % self.signature

    def _bind(self, args, kwargs):
        n = len(self.params)
        names = [p.name for p in self.params]
        bad = [kw for kw in kwargs if kw not in names]
        if bad:
            raise Error("DCK_ERROR_ARGUMENT_COUNT", "%s '%s' has no parameter '%s' (%s)"
                        % (self.kind, self.name, bad[0], self.signature))
        if len(args) > n:
            raise Error("DCK_ERROR_ARGUMENT_COUNT", "%s '%s' expects %d arguments (%s), got %d"
                        % (self.kind, self.name, n, ", ".join(p.decl for p in self.params),
                           len(args) + len(kwargs)))
        vals = list(args) + [None] * (n - len(args))
        given = [True] * len(args) + [False] * (n - len(args))
        for kw, v in kwargs.items():
            j = names.index(kw)
            if given[j]:
                raise Error("DCK_ERROR_ARGUMENT_COUNT", "argument '%s' of %s '%s' given twice"
                            % (kw, self.kind, self.name))
            vals[j], given[j] = v, True
        if not all(given):
            missing = [names[j] for j in range(n) if not given[j]]
            raise Error("DCK_ERROR_ARGUMENT_COUNT", "%s '%s' expects %d arguments (%s), got %d "
                        "(missing: %s)" % (self.kind, self.name, n,
                                           ", ".join(p.decl for p in self.params),
                                           sum(given), ", ".join(missing)))
        return vals

    def _range(self, vals, global_size, local_size):
        if self.kind == "pipeline":
            if global_size is not None or local_size is not None:
                raise Error("DCK_ERROR_INVALID_RANGE", "pipeline '%s' sizes its own launches: "
                            "global_size and local_size are for kernels" % self.name)
            return None
        if global_size is None:
            global_size = self._default_global(vals)
        g = (global_size,) if np.isscalar(global_size) else tuple(global_size)
        if not 1 <= len(g) <= 3:
            raise Error("DCK_ERROR_INVALID_RANGE", "global_size has %d dimensions (1 to 3)"
                        % len(g))
        rng = _ffi.dck_range()
        rng.dims = len(g)
        for d, x in enumerate(g):
            if not isinstance(x, (int, np.integer)) or not 0 <= int(x) <= 0xFFFFFFFF:
                raise Error("DCK_ERROR_INVALID_RANGE", "global_size %r: each size must be an "
                            "integer in 0..2^32-1" % (global_size,))
            getattr(rng, "global")[d] = int(x)
        if local_size is not None:
            loc = (local_size,) if np.isscalar(local_size) else tuple(local_size)
            if len(loc) != len(g):
                raise Error("DCK_ERROR_INVALID_RANGE", "local_size %r and global_size %r have "
                            "different dimensions" % (local_size, global_size))
            for d, x in enumerate(loc):
                if not isinstance(x, (int, np.integer)) or not 0 <= int(x) <= 0xFFFFFFFF:
                    raise Error("DCK_ERROR_INVALID_RANGE", "local_size %r: each size must be "
                                "an integer in 0..2^32-1" % (local_size,))
                rng.local[d] = int(x)
        if self.dims > len(g):
            warnings.warn("kernel '%s' reads global_id(%d) but is launched in %d dimension%s "
                          "(global_size=%r)" % (self.name, self.dims - 1, len(g),
                                                "" if len(g) == 1 else "s", global_size),
                          stacklevel=3)
        return rng

    def _default_global(self, vals):
        for p, v in reversed(list(zip(self.params, vals))):
            if not p.is_buffer:
                continue
            if isinstance(v, Buffer):
                shape = v.shape[:-1] if v.vec > 1 else v.shape
            elif isinstance(v, np.ndarray):
                shape = v.shape[:-1] if p.vec > 1 else v.shape
            else:
                break
            dims = max(self.dims, 1)
            if dims == 1:
                return int(np.prod(shape, dtype=np.int64))
            if len(shape) == dims:
                return tuple(reversed(shape))  # x is the last (fastest) axis
            raise Error("DCK_ERROR_INVALID_RANGE", "kernel '%s' is %d-D: give global_size= "
                        "(the last buffer '%s' has shape %s)" % (self.name, dims, p.name,
                                                                 shape))
        raise Error("DCK_ERROR_INVALID_RANGE", "kernel '%s': give global_size= (no buffer "
                    "argument to size the launch from)" % self.name)

    def __call__(self, *args, global_size=None, local_size=None, timed=False, wait=True,
                 **kwargs):
        vals = self._bind(args, kwargs)
        ctx = self.module.context
        ctx._handle()  # raises once the context is closed
        n = len(vals)
        cargs = (_ffi.dck_arg * max(n, 1))()
        keep, made, backs = [], [], []
        arrays = []  # (index, array) of the array arguments so far, for the overlap check
        try:
            for i, (p, v) in enumerate(zip(self.params, vals)):
                a = cargs[i]
                if p.is_buffer:
                    a.kind = _ffi.ARG_BUFFER
                    if isinstance(v, Buffer):
                        if v.context is not ctx:
                            raise _err("DCK_ERROR_ARGUMENT_TYPE", self, i, p, "is a dck.Buffer "
                                       "of another context (%r)" % v.context)
                        a.buffer = v._h
                        continue
                    data, count, back = _array_for(self, i, p, v)
                    for (j, other) in arrays:
                        if np.may_share_memory(other, v) and (p.writable or
                                                               self.params[j].writable):
                            raise Error("DCK_ERROR_ALIASING", "arguments %d ('%s') and %d ('%s') "
                                        "of %s '%s' overlap and one is written"
                                        % (j + 1, self.params[j].name, i + 1, p.name, self.kind,
                                           self.name))
                    arrays.append((i, v))
                    desc = _ffi.dck_buffer_desc()
                    desc.count, desc.elem_size = count, p.size
                    desc.size = count * p.size
                    desc.type = p.type
                    desc.vec = p.vec
                    desc.name = p.name.encode()
                    if data.size:
                        desc.initial_data = data.ctypes.data
                    h = ctypes.c_void_p()
                    _check(_lib.dck_buffer_create(ctx._handle(), ctypes.byref(desc),
                                                  ctypes.byref(h)))
                    made.append(h)
                    a.buffer = h
                    if p.writable:
                        backs.append((h, data, desc.size, back))
                else:
                    b = _value_bytes(self, i, p, v)
                    cb = ctypes.create_string_buffer(b, len(b))
                    keep.append(cb)
                    a.kind = _ffi.ARG_VALUE
                    a.type = p.type
                    a.vec = p.vec
                    a.size = p.size
                    if p.type == _ffi.TYPE_STRUCT:
                        a.type_name = p.type_name.encode()
                    a.ptr = ctypes.cast(cb, ctypes.c_void_p)
            rng = self._range(vals, global_size, local_size)
            ev = ctypes.c_void_p()
            with ctx._lock:
                _check(_lib.dck_launch(ctx._q, self._h, ctypes.byref(rng) if rng else None, n,
                                       cargs, ctypes.byref(ev)))
            event = Event(self, ev, made, backs, keep)
            made = []  # the event owns the buffers now
            if not wait:
                return event
            with ctx._lock:
                st = _lib.dck_queue_finish(ctx._q)
            if st != _ffi.SUCCESS:
                event.release()
                _check(st)
            try:
                event.wait()
                return event.elapsed if timed else None
            finally:
                event.release()
        finally:
            if ctx.alive:
                for h in made:
                    _lib.dck_buffer_destroy(h)


class Event:
    """A launch in flight, from k(..., wait=False). wait() waits for it and copies the arrays
    it wrote back into them (read them only after that); elapsed and times wait first. The
    launch's temporary buffers live until then."""

    def __init__(self, kernel, handle, bufs, backs, keep):
        self.kernel = kernel
        self._ctx = kernel.module.context
        self._h, self._bufs, self._backs, self._keep = handle, bufs, backs, keep
        self._done = False

    def wait(self):
        """Waits for the launch and copies written arrays back (once; later calls return)."""
        if self._done:
            return self
        try:
            self._ctx._handle()  # raises once the context is closed
            _check(_lib.dck_event_wait(self._h))
            for h, data, size, back in self._backs:
                if size:
                    _check(_lib.dck_buffer_read(h, 0, size, data.ctypes.data))
                if back:
                    back(data)
        finally:
            self._done = True
            self._free_buffers()
        return self

    @property
    def done(self):
        """True once wait() has run."""
        return self._done

    @property
    def times(self):
        """(start, end) of the launch in ns of CLOCK_MONOTONIC (device timestamps on
        OpenCL, Vulkan and CUDA, on the host's scale)."""
        self.wait()
        s, e = _ffi.u64(), _ffi.u64()
        _check(_lib.dck_event_get_times(self._handle(), ctypes.byref(s), ctypes.byref(e)))
        return s.value, e.value

    @property
    def elapsed(self):
        """The launch's time in seconds (device time where the backend measures it)."""
        self.wait()
        ns = _ffi.u64()
        _check(_lib.dck_event_elapsed_ns(self._handle(), ctypes.byref(ns)))
        return ns.value * 1e-9

    def _handle(self):
        self._ctx._handle()
        if self._h is None:
            raise Error("DCK_ERROR_INVALID_ARGUMENT", "the event was released")
        return self._h

    def _free_buffers(self):
        bufs, self._bufs, self._backs, self._keep = self._bufs, [], [], []
        if self._ctx.alive:
            for h in bufs:
                _lib.dck_buffer_destroy(h)

    def release(self):
        """Releases the event and the launch's buffers without copying anything back."""
        self._done = True
        self._free_buffers()
        h, self._h = self._h, None
        if h and self._ctx.alive:
            _lib.dck_event_destroy(h)

    def __del__(self):
        if getattr(self, "_h", None) is None:
            return
        try:
            if not self._done and self._ctx.alive:
                self.wait()
        except Exception:  # noqa: BLE001 (a destructor must not raise)
            pass
        finally:
            self.release()

    def __repr__(self):
        return "<dck.Event %s '%s'%s>" % (self.kernel.kind, self.kernel.name,
                                          " done" if self._done else "")


Bench = collections.namedtuple("Bench", ["median", "min", "max", "times"])
Bench.__doc__ = "Launch times in seconds (device time where the backend measures it)."


def bench(kernel, *args, repeat=10, warmup=1, **kwargs):
    """Launches kernel(*args, **kwargs) `warmup` times, then `repeat` times timed; returns
    dck.Bench(median, min, max, times) in seconds. Pass dck.Buffers to time the kernel
    alone: NumPy arrays are copied in and out around every launch (not timed)."""
    for _ in range(warmup):
        kernel(*args, **kwargs)
    times = [kernel(*args, timed=True, **kwargs) for _ in range(max(1, repeat))]
    return Bench(statistics.median(times), min(times), max(times), times)
