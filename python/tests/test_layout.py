"""The ctypes mirror (dck/_ffi.py) against runtime/include/dck.h: a C program compiled now
prints every mirrored struct's size, each field's offset and size, the enum sizes and the
constants' values, and they must equal ctypes'. A wrong field width would otherwise give
silently wrong results."""
import ctypes
import os
import re
import shutil
import subprocess

import pytest

from dck import _ffi

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
INCLUDE = os.environ.get("DCK_INCLUDE_DIR", os.path.join(ROOT, "runtime", "include"))
HEADER = os.path.join(INCLUDE, "dck.h")


def _fields(struct, prefix=""):
    """(C member path, ctypes offset, ctypes size) of every field, unions' members too."""
    for name, ctype in struct._fields_:
        f = getattr(struct, name)
        yield prefix + name, f.offset, f.size
        if isinstance(ctype, type) and issubclass(ctype, ctypes.Union):
            for sub, _ in ctype._fields_:
                g = getattr(ctype, sub)
                yield prefix + name + "." + sub, f.offset + g.offset, g.size


def _constants():
    """(C expression, value in the mirror) of every constant the mirror copies."""
    out = [(n, c) for c, n in _ffi.STATUS_NAMES.items()]
    types = ["BOOL", "I8", "U8", "I16", "U16", "I32", "U32", "I64", "U64", "F16", "F32", "F64",
             "STRUCT", "UNKNOWN"]
    out += [("DCK_TYPE_" + t, getattr(_ffi, "TYPE_" + t)) for t in types]
    out += [("DCK_BACKEND_" + b.upper(), c) for b, c in _ffi.BACKENDS.items()]
    out += [("DCK_FEATURE_" + f.upper(), bit) for f, bit in _ffi.FEATURES.items()]
    out += [("DCK_DEVICE_" + t.upper(), c) for c, t in _ffi.DEVICE_TYPES.items()]
    out += [("DCK_CONTEXT_CHECKED", _ffi.CONTEXT_CHECKED),
            ("DCK_MODULE_CHECKED", _ffi.MODULE_CHECKED),
            ("DCK_KERNEL", _ffi.KERNEL), ("DCK_PIPELINE", _ffi.PIPELINE),
            ("DCK_PARAM_VALUE", _ffi.PARAM_VALUE), ("DCK_PARAM_BUFFER", _ffi.PARAM_BUFFER),
            ("DCK_ACCESS_READ", _ffi.ACCESS_READ),
            ("DCK_ACCESS_READ_WRITE", _ffi.ACCESS_READ_WRITE),
            ("DCK_ARG_BUFFER", _ffi.ARG_BUFFER), ("DCK_ARG_VALUE", _ffi.ARG_VALUE)]
    return out


@pytest.fixture(scope="module")
def c_layout(tmp_path_factory):
    cc = os.environ.get("CC", "cc")
    if not shutil.which(cc):
        pytest.fail("no C compiler '%s' to check the struct layouts with (the CPU backend "
                    "needs one too)" % cc)
    lines = ["#include <stdio.h>", "#include <stddef.h>", '#include "dck.h"',
             "#define F(T, m) printf(#T \".\" #m \" %zu %zu\\n\", offsetof(T, m), "
             "sizeof(((T *)0)->m))",
             "int main(void) {"]
    for s in _ffi.STRUCTS:
        lines.append('printf("%s %%zu %%zu\\n", sizeof(%s), _Alignof(%s));'
                     % (s.__name__, s.__name__, s.__name__))
        for path, _, _ in _fields(s):
            lines.append("F(%s, %s);" % (s.__name__, path))
    for e in ["dck_status", "dck_type", "dck_backend", "dck_device_type", "dck_kernel_kind",
              "dck_param_kind", "dck_access", "dck_arg_kind"]:
        lines.append('printf("enum %s %%zu\\n", sizeof(%s));' % (e, e))
    for expr, _ in _constants():
        lines.append('printf("const %s %%lld\\n", (long long)(%s));' % (expr, expr))
    lines += ["return 0;", "}"]
    d = tmp_path_factory.mktemp("layout")
    src, exe = d / "layout.c", d / "layout"
    src.write_text("\n".join(lines) + "\n")
    subprocess.run([cc, "-std=c11", "-I", INCLUDE, str(src), "-o", str(exe)], check=True)
    out = subprocess.run([str(exe)], check=True, capture_output=True, text=True).stdout
    table = {}
    for line in out.splitlines():
        key, *nums = line.rsplit(" ", 2) if not line.startswith(("enum ", "const ")) else \
            line.split(" ", 2)[1:]
        table[key] = tuple(int(n) for n in nums) if not line.startswith(("enum ", "const ")) \
            else int(nums[0])
    return table


@pytest.mark.parametrize("struct", _ffi.STRUCTS, ids=lambda s: s.__name__)
def test_struct_layout(c_layout, struct):
    name = struct.__name__
    assert c_layout[name] == (ctypes.sizeof(struct), ctypes.alignment(struct)), \
        "%s: C (size, align) %s, ctypes %s" % (name, c_layout[name],
                                               (ctypes.sizeof(struct), ctypes.alignment(struct)))
    for path, off, size in _fields(struct):
        assert c_layout[name + "." + path] == (off, size), \
            "%s.%s: C (offset, size) %s, ctypes %s" % (name, path, c_layout[name + "." + path],
                                                       (off, size))


def test_enums_are_ints(c_layout):
    for key, size in c_layout.items():
        if isinstance(size, int) and key.startswith("dck_") and "." not in key:
            assert size == ctypes.sizeof(ctypes.c_int), key


def test_constants(c_layout):
    for expr, value in _constants():
        assert c_layout[expr] == value, "%s: C %d, mirror %d" % (expr, c_layout[expr], value)


def test_every_struct_of_the_header_used_is_mirrored():
    """Each function the mirror declares exists in dck.h with as many parameters, and every
    struct those functions take is in _ffi.STRUCTS."""
    text = open(HEADER).read()
    mirrored = {s.__name__ for s in _ffi.STRUCTS}
    for fn, argtypes in _ffi._PROTOTYPES.items():
        m = re.search(r"\b%s\s*\(([^)]*)\)\s*;" % fn, text)
        assert m, "%s is not declared in dck.h" % fn
        params = m.group(1).strip()
        n = 0 if params in ("", "void") else params.count(",") + 1
        assert n == len(argtypes), "%s: %d parameters in dck.h, %d in the mirror" % (
            fn, n, len(argtypes))
        for st in re.findall(r"\b(dck_\w+)\s*\*", params):
            if st not in ("dck_context", "dck_device", "dck_buffer", "dck_module", "dck_kernel",
                          "dck_queue", "dck_event", "dck_backend", "dck_batch"):
                assert st in mirrored, "%s takes %s, which the mirror lacks" % (fn, st)
