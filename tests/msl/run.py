#!/usr/bin/env python3
"""run.py: the MSL execution tests. Every kernel of tests/exec/*.dck is emitted as Metal
Shading Language (dckc --target=msl), compiled as C++ through the Metal shim
(tests/msl/include/metal_stdlib) with -Werror, run on the CPU by a driver generated from the
kernel's signature (gen_driver.py + shim_runtime.cpp: one fiber per work-item, real
threadgroup memory and barriers), and its buffers are compared with the CPU backend
(dckrun --backend=cpu) run on the same inputs. Also:
  * every emitted kernel passes the shim's address-space checking mode (-fsyntax-only as
    C++ for OpenCL), and tests/msl/negative/*.metal must FAIL that mode;
  * the hand-written MSL in tests/msl/hand/ (the shim's own tests, each naming the .dck
    kernel it implements on a `// DCK: file kernel` line) runs the same way;
  * checked mode (dckc --checked): same results, an untouched out-of-bounds record;
  * tests/msl/exec/*.dck: kernels of our own that run the same way (features.dck without its
    double, which Metal lacks; half constants, which dckc spells as Metal half literals).
Every .metal reaches clang through gen_driver.half_literals (2.0h -> 2.0_h: C++ takes only
literal suffixes that begin with '_'; the shim defines ""_h and ""_H).

usage: run.py --dckc DCKC --dckrun DCKRUN [--clang clang++-16] [--only NAME] [--keep DIR]
              [--hand-only] [--update]
Exit 77 (ctest: skipped) when clang++-16 is absent. --update regenerates the shim's
generated header (include/msl_shim/swizzles.inc); these tests have no other goldens."""
import argparse
import math
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
INCLUDE = os.path.join(HERE, "include")
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import gen_driver  # noqa: E402

# dck_abi_scalar -> (struct format, size, kind)
SCALARS = {
    "DCK_ABI_BOOL": ("B", 1, "int"), "DCK_ABI_I8": ("b", 1, "int"), "DCK_ABI_U8": ("B", 1, "int"),
    "DCK_ABI_I16": ("h", 2, "int"), "DCK_ABI_U16": ("H", 2, "int"), "DCK_ABI_I32": ("i", 4, "int"),
    "DCK_ABI_U32": ("I", 4, "int"), "DCK_ABI_I64": ("q", 8, "int"), "DCK_ABI_U64": ("Q", 8, "int"),
    "DCK_ABI_F16": ("e", 2, "float"), "DCK_ABI_F32": ("f", 4, "float"), "DCK_ABI_F64": ("d", 8, "float"),
}
IR_SCALARS = {"bool": "DCK_ABI_BOOL", "char": "DCK_ABI_I8", "uchar": "DCK_ABI_U8", "short": "DCK_ABI_I16",
              "ushort": "DCK_ABI_U16", "int": "DCK_ABI_I32", "uint": "DCK_ABI_U32", "long": "DCK_ABI_I64",
              "ulong": "DCK_ABI_U64", "half": "DCK_ABI_F16", "float": "DCK_ABI_F32", "double": "DCK_ABI_F64"}
TOL = {"e": 2e-3, "f": 1e-5, "d": 1e-12}
KERNEL_SUBGROUP = 4
KERNEL_BARRIER = 1
CXXFLAGS = ["-std=c++17", "-O1", "-Wall", "-Werror", "-Wno-unknown-attributes", "-ffp-contract=off"]
CHECKFLAGS = ["-x", "clcpp", "-cl-std=clc++2021", "-cl-no-stdinc", "-fsyntax-only", "-Werror",
              "-Wno-unknown-attributes"]


class Fail(Exception):
    pass


def run(cmd, **kw):
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kw)


# ---- reflection (the C backend's dck_abi tables) and struct layouts (the IR) ----
def reflect(dckc, dck, extra=()):
    r = run([dckc, "--target=c", *extra, dck, "-o", "/dev/stdout"])
    if r.returncode:
        raise Fail("dckc --target=c %s failed:\n%s" % (dck, r.stdout))
    text = r.stdout
    params = {}
    for m in re.finditer(r"static const dck_abi_param dck_kp_(\w+)\[\d+\] = \{\n(.*?)\n\};", text, re.S):
        plist = []
        for pm in re.finditer(r'\{"(\w+)", DCK_ABI_PARAM_(VALUE|BUFFER), (\d+), (DCK_ABI_\w+), (\d+), (\d+), (\d+), '
                              r'"([^"]*)"\}', m.group(2)):
            plist.append({"name": pm.group(1), "buffer": pm.group(2) == "BUFFER", "const": pm.group(3) == "1",
                          "scalar": pm.group(4), "vec": int(pm.group(5)), "size": int(pm.group(6)),
                          "align": int(pm.group(7)), "type": pm.group(8)})
        params[m.group(1)] = plist
    kernels = {}
    for m in re.finditer(r'\{"(\w+)", (\d+), dck_kp_(\w+), \{(\d+), (\d+), (\d+)\}, \d+, [^,]+, (\d+), (\d+), ', text):
        kernels[m.group(1)] = {"name": m.group(1), "params": params[m.group(3)],
                               "wg": [int(m.group(k)) for k in (4, 5, 6)], "flags": int(m.group(7))}
    if not kernels and re.search(r"^\s*kernel\s", open(dck).read(), re.M):
        raise Fail("no kernel found in the C backend's reflection tables (has their format changed?)")
    r = run([dckc, "--emit=ir", *extra, dck, "-o", "/dev/stdout"])
    structs = {}
    for m in re.finditer(r"^struct (\w+) \{(.*?)\} size\((\d+)\) align\((\d+)\)", r.stdout, re.M):
        fields = [tuple(x.strip() for x in f.split(":")) for f in m.group(2).split(";") if f.strip()]
        structs[m.group(1)] = {"fields": fields, "size": int(m.group(3)), "align": int(m.group(4))}
    return kernels, structs


def type_layout(tname, structs):
    """(size, align, [(offset, fmt)]) of a .dck type: what compare() looks at (no padding)"""
    m = re.match(r"^(bool|u?char|u?short|u?int|u?long|half|float|double)([234]?)$", tname)
    if m:
        fmt, size, _ = SCALARS[IR_SCALARS[m.group(1)]]
        n = int(m.group(2) or 1)
        full = size * (4 if n == 3 else n)
        return full, full, [(k * size, fmt) for k in range(n)]
    if tname in structs:
        st = structs[tname]
        items, off = [], 0
        for fname, ftype in st["fields"]:
            am = re.match(r"^(\w+)((?:\[\d+\])+)$", ftype)  # an array field: int[8], float[2][3]
            count = 1
            if am:
                ftype = am.group(1)
                for d in re.findall(r"\d+", am.group(2)):
                    count *= int(d)
            fs, fa, fi = type_layout(ftype, structs)
            off = (off + fa - 1) // fa * fa
            for c in range(count):
                items += [(off + c * fs + o, f) for o, f in fi]
            off += fs * count
        return st["size"], st["align"], items
    raise Fail("cannot lay out type '%s'" % tname)


# ---- inputs ----
def splitmix(state):
    state = (state + 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF
    z = state
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & 0xFFFFFFFFFFFFFFFF
    return state, z ^ (z >> 31)


def rand_bytes(p, count, seed):
    """floats in [0, 1), integers in [0, 100), bools 0/1 (as dckrun's rand:)"""
    fmt, size, kind = SCALARS[p["scalar"]]
    out = bytearray()
    state = seed
    for _ in range(count):
        elem = bytearray()
        for _c in range(p["vec"]):
            state, r = splitmix(state)
            if kind == "float":
                v = (r >> 40) * 2.0 ** -24
            elif p["scalar"] == "DCK_ABI_BOOL":
                v = r >> 63
            else:
                v = (r >> 32) % 100
            elem += struct.pack("<" + fmt, v)
        elem += bytes(p["size"] - len(elem))
        out += elem
    return bytes(out)


def value_bytes(p, text):
    fmt, size, kind = SCALARS[p["scalar"]]
    vals = [v.strip() for v in text.split(",")]
    if len(vals) == 1 and p["vec"] > 1:
        vals = vals * p["vec"]
    if len(vals) != p["vec"]:
        raise Fail("value '%s' for '%s' (%s)" % (text, p["name"], p["type"]))
    b = b"".join(struct.pack("<" + fmt, float(v) if kind == "float" else int(v, 0)) for v in vals)
    return b + bytes(p["size"] - len(b))


def run_lines(dck):
    runs = {}
    with open(dck) as f:
        for line in f:
            m = re.match(r"^// RUN: (\w+)(.*)$", line)
            if m:
                runs[m.group(1)] = m.group(2).split()
    return runs


def synth_args(k):
    """arguments for a kernel no RUN line names (e.g. one launched by a pipeline)"""
    args = []
    for i, p in enumerate(k["params"]):
        if p["buffer"]:
            args.append("%s=%s:256%s" % (p["name"], "zeros" if p["scalar"] == "DCK_ABI_STRUCT" else "rand",
                                         "" if p["scalar"] == "DCK_ABI_STRUCT" else ":%d" % (i + 1)))
        else:
            kind = SCALARS[p["scalar"]][2] if p["scalar"] in SCALARS else None
            if kind is None:
                return None
            args.append("%s=%s" % (p["name"], "1.5" if kind == "float" else "3"))
    return args


def choose_local(k, dims, glob):
    if k["wg"][0]:
        return list(k["wg"])
    defaults = [[64, 1, 1], [16, 4, 1], [8, 4, 2]][dims - 1]
    local = []
    for d in range(3):
        g, df = glob[d], defaults[d]
        if k["flags"] & KERNEL_BARRIER:
            local.append(next((x for x in range(df, 1, -1) if g % x == 0), 1) if g else df)
        else:
            local.append(g if g and g < df else df)
    return local


# ---- one kernel ----
class Ctx:
    def __init__(self, a, work):
        self.a = a
        self.work = work
        self.rt_objs = {}
        self.pchs = {}

    def pch(self, width):
        """the shim precompiled (execution mode): the per-kernel compiles take 0.1 s, not 1 s"""
        if width not in self.pchs:
            hdr = os.path.join(self.work, "shim_w%d.h" % width)
            with open(hdr, "w") as f:
                f.write("#include <metal_stdlib>\n")
            out = hdr + ".pch"
            r = run([self.a.clang, *CXXFLAGS, "-I", INCLUDE, "-DMSL_SHIM_SIMD_WIDTH=%d" % width, "-x", "c++-header",
                     hdr, "-o", out])
            if r.returncode:
                raise Fail("the shim does not compile:\n" + r.stdout[:4000])
            self.pchs[width] = out
        return self.pchs[width]

    def rt_obj(self, width):
        if width not in self.rt_objs:
            obj = os.path.join(self.work, "shim_runtime_w%d.o" % width)
            r = run([self.a.clang, *CXXFLAGS, "-Wextra", "-I", INCLUDE, "-DMSL_SHIM_SIMD_WIDTH=%d" % width, "-c",
                     os.path.join(HERE, "shim_runtime.cpp"), "-o", obj])
            if r.returncode:
                raise Fail("shim_runtime.cpp does not compile:\n" + r.stdout)
            self.rt_objs[width] = obj
        return self.rt_objs[width]


def prepare(k, structs, args_text, outdir):
    """input files, the ABI scalar block, the dckrun command line for the CPU reference"""
    os.makedirs(outdir, exist_ok=True)
    given, glob = {}, None
    for a in args_text:
        if a.startswith("--global="):
            glob = [int(x) for x in a[len("--global="):].split(",")]
        elif a.startswith("--"):
            raise Fail("unsupported RUN option " + a)
        else:
            n, v = a.split("=", 1)
            given[n] = v
    bufs, block, cli = [], b"", []
    max_align = 4
    for i, p in enumerate(k["params"]):
        spec = given.get(p["name"])
        if spec is None:
            raise Fail("no argument for parameter '%s'" % p["name"])
        if p["buffer"]:
            m = re.match(r"^(zeros|rand):(\d+)(?::(\d+))?$", spec)
            if not m:
                raise Fail("buffer argument '%s=%s'" % (p["name"], spec))
            count = int(m.group(2))
            if p["scalar"] == "DCK_ABI_STRUCT":
                esize, _, items = type_layout(p["type"], structs)
            else:
                esize, items = p["size"], type_layout(p["type"], structs)[2]
            data = bytes(count * esize) if m.group(1) == "zeros" else \
                rand_bytes(p, count, int(m.group(3)) if m.group(3) else i + 1)
            path = os.path.join(outdir, "in_%s.bin" % p["name"])
            with open(path, "wb") as f:
                f.write(data)
            bufs.append({"p": p, "count": count, "esize": esize, "items": items, "in": path})
            cli.append("%s=@%s" % (p["name"], path))
        else:
            b = value_bytes(p, spec)
            block += bytes((-len(block)) % p["align"]) + b
            max_align = max(max_align, p["align"])
            cli.append("%s=%s" % (p["name"], spec))
    for b in bufs:
        block += bytes((-len(block)) % 4) + struct.pack("<I", b["count"])
    if glob is None:
        glob = [bufs[-1]["count"]] if bufs else [1]
    dims = len(glob)
    glob3 = glob + [1] * (3 - dims)
    block += struct.pack("<3I", *glob3)
    block += bytes((-len(block)) % max_align)
    args_path = os.path.join(outdir, "args.bin")
    with open(args_path, "wb") as f:
        f.write(block)
    if dims > 1 or any(x.startswith("--global") for x in args_text):
        cli.append("--global=" + ",".join(str(x) for x in glob))
    local = choose_local(k, dims, glob3)
    if not k["wg"][0]:  # the CPU reference runs with the same work-group size (its own default
        cli.append("--local=" + ",".join(str(x) for x in local[:dims]))  # differs from a GPU's)
    groups = [(glob3[d] + local[d] - 1) // local[d] for d in range(3)]
    return {"bufs": bufs, "args": args_path, "args_size": len(block), "cli": cli, "local": local,
            "groups": groups}


def compare(b, got, want):
    if len(got) != len(want):
        return "%s: %d bytes, expected %d" % (b["p"]["name"], len(got), len(want))
    if got == want:
        return None
    for i in range(b["count"]):
        base = i * b["esize"]
        for off, fmt in b["items"]:
            at = base + off
            size = struct.calcsize("<" + fmt)
            x = struct.unpack_from("<" + fmt, got, at)[0]
            y = struct.unpack_from("<" + fmt, want, at)[0]
            if fmt in TOL:
                if (math.isnan(x) and math.isnan(y)) or x == y:
                    continue
                if not (abs(x - y) <= TOL[fmt] * max(1.0, abs(y))):
                    return "%s[%d] (+%d): got %.9g, expected %.9g" % (b["p"]["name"], i, off, x, y)
            elif got[at:at + size] != want[at:at + size]:
                return "%s[%d] (+%d): got %d, expected %d" % (b["p"]["name"], i, off, x, y)
    return None


def cpu_reference(ctx, dck, k, prep, outdir, extra):
    cmd = [ctx.a.dckrun, "--backend=cpu", *extra, dck, k["name"], *prep["cli"]]
    for b in prep["bufs"]:
        cmd.append("--out=%s=%s" % (b["p"]["name"], os.path.join(outdir, "cpu_%s.bin" % b["p"]["name"])))
    r = run(cmd)
    if r.returncode:
        raise Fail("dckrun --backend=cpu failed: %s\n%s" % (" ".join(cmd), r.stdout))


def run_msl(ctx, k, metal_text, prep, outdir, width, checked):
    exec_msl(ctx, k, metal_text, prep, outdir, width, checked)
    for b in prep["bufs"]:
        with open(os.path.join(outdir, "msl_%s.bin" % b["p"]["name"]), "rb") as f:
            got = f.read()
        with open(os.path.join(outdir, "cpu_%s.bin" % b["p"]["name"]), "rb") as f:
            want_b = f.read()
        why = compare(b, got, want_b)
        if why:
            raise Fail("MSL result differs from the CPU backend: " + why)
    if checked:
        with open(os.path.join(outdir, "oob.bin"), "rb") as f:
            rec = struct.unpack("<8I", f.read())
        if rec[0]:
            raise Fail("checked mode reported an out-of-bounds access that the CPU did not: %s" % (rec,))


def exec_msl(ctx, k, metal_text, prep, outdir, width, checked, timeout=300):
    """builds the kernel with the shim and runs it: buffer b's result is outdir/msl_<b>.bin,
    checked mode's record outdir/oob.bin"""
    # MSL entry points are named "dck_k_" + the kernel (abi/abi.h: abi_entry_symbol)
    rewritten, thunk, params = gen_driver.generate(metal_text, "dck_k_" + k["name"], prep["args_size"])
    with open(os.path.join(outdir, "kernel.metal"), "w") as f:
        f.write(rewritten)
    with open(os.path.join(outdir, "thunk.cpp"), "w") as f:
        f.write(thunk)
    exe = os.path.join(outdir, "driver")
    r = run([ctx.a.clang, *CXXFLAGS, "-include-pch", ctx.pch(width), "-I", INCLUDE, "-I", outdir,
             "-DMSL_SHIM_SIMD_WIDTH=%d" % width, os.path.join(outdir, "thunk.cpp"), ctx.rt_obj(width), "-o", exe])
    if r.returncode:
        raise Fail("the MSL does not compile through the shim:\n" + r.stdout[:6000])
    nbuf = len(prep["bufs"])
    bound = sorted(p["index"] for p in params if p["attr"] == "buffer")
    want = list(range(nbuf + (2 if checked else 1)))
    if bound != want:
        raise Fail("[[buffer(k)]] indices %s, the ABI wants %s" % (bound, want))
    lines = ["groups %d %d %d" % tuple(prep["groups"]), "local %d %d %d" % tuple(prep["local"]),
             "simd %d" % width]
    for i, b in enumerate(prep["bufs"]):
        lines.append("block %d %d %s %s" % (i, b["count"] * b["esize"], b["in"],
                                            os.path.join(outdir, "msl_%s.bin" % b["p"]["name"])))
    oob = os.path.join(outdir, "oob.bin")
    if checked:
        lines.append("block %d 32 - %s" % (nbuf, oob))
    lines.append("block %d %d %s -" % (nbuf + (1 if checked else 0), prep["args_size"], prep["args"]))
    launch = os.path.join(outdir, "launch.txt")
    with open(launch, "w") as f:
        f.write("\n".join(lines) + "\n")
    try:
        r = run([exe, launch], timeout=timeout)
    except subprocess.TimeoutExpired:
        raise Fail("the driver did not finish in %d s (a kernel that does not terminate?)" % timeout)
    if r.returncode:
        raise Fail("the driver failed (status %d):\n%s" % (r.returncode, r.stdout[-3000:]))


def shim_source(ctx, metal_path):
    """a copy of the .metal file as the shim's compilers take it (half literals 2.0h spelled
    2.0_h: gen_driver.half_literals), whose diagnostics name the original file and lines"""
    fd, out = tempfile.mkstemp(suffix=".metal", dir=ctx.work)
    os.close(fd)
    gen_driver.write_shim_source(metal_path, out)
    return out


def check_address_spaces(ctx, metal_path):
    return run([ctx.a.clang, *CHECKFLAGS, "-I", INCLUDE, shim_source(ctx, metal_path)])


class Skip(Exception):
    pass


def test_kernel(ctx, dck, k, structs, metal_text, args_text, tag, checked=False, synthesized=False):
    outdir = os.path.join(ctx.work, tag)
    prep = prepare(k, structs, args_text, outdir)
    if synthesized:
        # arguments made up here may not suit the kernel: the CPU backend in checked mode says
        r = run([ctx.a.dckrun, "--backend=cpu", "--checked", dck, k["name"], *prep["cli"]])
        if r.returncode:
            raise Skip("synthesized arguments do not suit it (add a line to tests/msl/args.txt): " +
                       r.stdout.strip().splitlines()[-1])
    cpu_reference(ctx, dck, k, prep, outdir, ["--checked"] if checked else [])
    # the CPU backend's subgroups have one work-item: compare subgroup kernels at that width
    width = 1 if k["flags"] & KERNEL_SUBGROUP else 4
    run_msl(ctx, k, metal_text, prep, outdir, width, checked)


def emit_msl(ctx, dck, outdir, checked):
    os.makedirs(outdir, exist_ok=True)
    path = os.path.join(outdir, os.path.basename(dck)[:-4] + (".checked" if checked else "") + ".metal")
    r = run([ctx.a.dckc, "--target=msl", *(["--checked"] if checked else []), dck, "-o", path])
    if r.returncode:
        raise Fail("dckc --target=msl failed:\n" + r.stdout)
    r = run([ctx.a.clang, *CXXFLAGS, "-include-pch", ctx.pch(4), "-DMSL_SHIM_SIMD_WIDTH=4", "-fsyntax-only",
             "-I", INCLUDE, "-x", "c++", shim_source(ctx, path)])
    if r.returncode:
        raise Fail("the emitted MSL does not compile as C++ through the shim (-Werror):\n" + r.stdout[:6000])
    r = check_address_spaces(ctx, path)
    if r.returncode:
        raise Fail("the emitted MSL fails the address-space check:\n" + r.stdout[:6000])
    with open(path) as f:
        return f.read()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dckc")
    ap.add_argument("--dckrun")
    ap.add_argument("--clang", default="clang++-16")
    ap.add_argument("--only", help="run only the .dck files whose name contains this")
    ap.add_argument("--keep", help="work in this directory and keep it")
    ap.add_argument("--hand-only", action="store_true", help="only the shim tests (hand-written MSL)")
    ap.add_argument("--update", action="store_true")
    a = ap.parse_args()
    if a.update:
        return subprocess.call([sys.executable, os.path.join(HERE, "gen_swizzles.py")])
    if not shutil.which(a.clang):
        print("SKIPPED: %s is not installed (scripts/setup.sh installs clang-16)" % a.clang)
        return 77
    if not a.dckc or not a.dckrun:
        ap.error("--dckc and --dckrun are required")
    r = run([sys.executable, os.path.join(HERE, "gen_swizzles.py"), "--check"])
    failures, passed, skipped = [], 0, []
    if r.returncode:
        failures.append("include/msl_shim/swizzles.inc is not what gen_swizzles.py writes (run.py --update)")
    work = a.keep or tempfile.mkdtemp(prefix="dck-msl-")
    os.makedirs(work, exist_ok=True)
    ctx = Ctx(a, work)

    jobs = []  # (label, fn): run by two workers (the machine is shared), reported in order

    def attempt(label, fn):
        jobs.append((label, fn))

    # 1. the address-space checking mode rejects what Metal rejects
    for neg in sorted(os.listdir(os.path.join(HERE, "negative"))):
        path = os.path.join(HERE, "negative", neg)

        def negative(path=path):
            ok_cpp = run([a.clang, *CXXFLAGS, "-fsyntax-only", "-I", INCLUDE, "-x", "c++", shim_source(ctx, path)])
            if ok_cpp.returncode:
                raise Fail("must compile in execution mode (only the address spaces are wrong):\n" + ok_cpp.stdout)
            r = check_address_spaces(ctx, path)
            if r.returncode == 0:
                raise Fail("the address-space check accepted it")
            if "address space" not in r.stdout:
                raise Fail("rejected for another reason:\n" + r.stdout)
        attempt("negative/%s is rejected by the address-space check" % neg, negative)

    # 1b. runtime/metal.m cannot be built here: check its syntax and types against stub headers
    def metal_m():
        r = run(["clang-16", "-fsyntax-only", "-x", "objective-c", "-fblocks", "-fobjc-runtime=macosx-10.15",
                 "-std=gnu11", "-Wall", "-Wextra", "-Werror", "-I", os.path.join(HERE, "objc_stub"),
                 "-I", os.path.join(ROOT, "runtime"), "-I", os.path.join(ROOT, "runtime", "include"), "-I", ROOT,
                 os.path.join(ROOT, "runtime", "metal.m")])
        if r.returncode:
            raise Fail(r.stdout[:4000])
    if shutil.which("clang-16") and os.path.exists(os.path.join(ROOT, "runtime", "metal.m")):
        attempt("runtime/metal.m passes clang-16 -fsyntax-only against tests/msl/objc_stub", metal_m)

    # 2. hand-written MSL (the shim's own tests)
    for hand in sorted(os.listdir(os.path.join(HERE, "hand"))):
        path = os.path.join(HERE, "hand", hand)
        with open(path) as f:
            text = f.read()
        m = re.search(r"^// DCK: (\S+) (\w+)((?: .*)?)$", text, re.M)
        if not m:
            continue
        dck = os.path.join(ROOT, m.group(1))
        if a.only and a.only not in hand:
            continue

        def hand_test(path=path, text=text, dck=dck, kname=m.group(2), extra=m.group(3).split(), hand=hand):
            kernels, structs = reflect(a.dckc, dck)
            r = check_address_spaces(ctx, path)
            if r.returncode:
                raise Fail("address-space check:\n" + r.stdout)
            args = extra or run_lines(dck).get(kname)
            test_kernel(ctx, dck, kernels[kname], structs, text, args, "hand-" + hand[:-6])
        attempt("hand/%s" % hand, hand_test)

    # 3. every kernel of tests/exec as emitted by dckc --target=msl
    r = run([a.dckc, "--target=msl", os.path.join(ROOT, "tests/exec/vadd.dck"), "-o", "/dev/null"])
    if r.returncode == 2 and not a.hand_only:
        skipped.append("dckc has no msl target yet: %s" % r.stdout.strip().splitlines()[0])
    elif not a.hand_only:
        exec_dirs = [os.path.join(ROOT, "tests", "exec"), os.path.join(HERE, "exec")]
        overrides = {}
        with open(os.path.join(HERE, "args.txt")) as f:
            for line in f:
                w = line.split()
                if w and not w[0].startswith("#"):
                    overrides[(w[0], w[1])] = w[2:]
        corpus = [(d, n) for d in exec_dirs for n in sorted(os.listdir(d))]
        for exec_dir, name in corpus:
            if not name.endswith(".dck") or (a.only and a.only not in name):
                continue
            dck = os.path.join(exec_dir, name)
            runs = run_lines(dck)
            for checked in (False, True):
                suffix = " (checked)" if checked else ""

                def one_file(dck=dck, name=name, runs=runs, checked=checked, suffix=suffix):
                    extra = ["--checked"] if checked else []
                    kernels, structs = reflect(a.dckc, dck, extra)
                    text = emit_msl(ctx, dck, os.path.join(work, "emit"), checked)
                    results = []
                    for kname in sorted(kernels):
                        label = "%s %s%s" % (name, kname, suffix)
                        na = re.search(r"/\* kernel %s is not available on this target: (.*?) \*/" % kname, text)
                        if na:
                            results.append(("skip", label, "dckc: " + na.group(1)))
                            continue
                        args = runs.get(kname) or overrides.get((name, kname))
                        synthesized = args is None
                        if synthesized:
                            args = synth_args(kernels[kname])
                        if args is None:
                            results.append(("skip", label, "no RUN line and no synthesizable arguments"))
                            continue
                        tag = "%s-%s%s" % (name[:-4], kname, "-checked" if checked else "")
                        try:
                            test_kernel(ctx, dck, kernels[kname], structs, text, args, tag, checked, synthesized)
                            results.append(("ok", label, ""))
                        except Skip as e:
                            results.append(("skip", label, str(e)))
                        except (Fail, gen_driver.GenError, subprocess.TimeoutExpired) as e:
                            results.append(("fail", label, str(e)))
                    return results
                attempt("%s%s" % (name, suffix), one_file)

    from concurrent.futures import ThreadPoolExecutor

    def guarded(fn):
        try:
            out = fn()
            return out if isinstance(out, list) else [("ok", None, "")]
        except Skip as e:
            return [("skip", None, str(e))]
        except (Fail, gen_driver.GenError, subprocess.TimeoutExpired) as e:
            return [("fail", None, str(e))]
        except Exception:  # a bug here must fail the test visibly, not stop the others
            import traceback
            return [("fail", None, "run.py error:\n" + traceback.format_exc())]
    try:  # built once, before the workers share them
        for w in (1, 4):
            ctx.pch(w)
            ctx.rt_obj(w)
    except Fail as e:
        jobs = [("the shim and its runtime compile", lambda e=e: (_ for _ in ()).throw(e))]
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = [(label, pool.submit(guarded, fn)) for label, fn in jobs]
        for label, fut in futures:
            for status, sub, why in fut.result():
                sub = sub or label
                if status == "ok":
                    passed += 1
                    print("ok    %s" % sub)
                elif status == "skip":
                    skipped.append("%s: %s" % (sub, why))
                else:
                    failures.append("%s: %s" % (sub, why))
                    print("FAIL  %s: %s" % (sub, why.splitlines()[0] if why else ""))

    for s in skipped:
        print("skipped: " + s)
    print("%d passed, %d failed, %d skipped" % (passed, len(failures), len(skipped)))
    if not a.keep:
        shutil.rmtree(work, ignore_errors=True)
    if failures:
        print("\n".join("FAILED: " + f for f in failures))
        return 1
    if skipped and not passed:
        print("SKIPPED: nothing could run")
        return 77
    return 0


if __name__ == "__main__":
    sys.exit(main())
