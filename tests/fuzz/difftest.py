#!/usr/bin/env python3
"""Differential test of the optimizer and of the backends.

Default mode: random .dck kernels run at -O0, -O2, -O3 and -O2 with bounds checks (--checked)
must give bit-identical results.

--backends: every program runs at -O2 on the CPU backend (the reference: its scalar code,
DCK_CPU_ISA=scalar; simd_isadiff compares the SIMD ISAs with it) and on every other route
present here, and must give the same results bit for bit (any NaN equals any NaN): OpenCL C
and OpenCL-environment SPIR-V on the OpenCL backend (PoCL; the SPIR-V through llvm-spirv -r),
Vulkan (lavapipe) and the MSL of dckc --target=msl compiled by clang++-16 through the Metal
shim with -Werror and run on the CPU (tests/msl/run.py). A route that is absent is reported
as SKIPPED; a route that does not build, fails or does not finish in --timeout seconds is a
failure. The programs of one run are also merged into one module (kernels r0, r1, ...), so
that each device compiler builds them once.

Each program is a kernel over int, uint, long and float values with loads at computed
indices, integer and float arithmetic, comparisons, casts, ternaries, if/else, bounded
loops with break/continue, local arrays, vectors with swizzles, and calls to a random
helper function. Everything is well defined in DCK: divisors are made non-zero and never
-1, shift counts are masked, indices are reduced modulo the buffer length, floats are
clamped into the destination's range before a conversion to an integer type, and float
expressions avoid operations whose rounding could depend on evaluation order.

usage: difftest.py DCKRUN [--dckc DCKC] [--count N] [--seed S] [--keep DIR]
       difftest.py DCKRUN --dckc DCKC --backends [--count N] [--seed S] [--jobs J] [--keep DIR]
                   [--clang CLANG] [--timeout SECONDS]
With --dckc (default mode), each program's C at -O2 must also be byte-identical over three
compilations (determinism: no output may depend on addresses or hash order).
Exit status 0 when every program agrees; the first disagreeing program is printed (every
disagreeing program with --backends).
"""
import argparse
import concurrent.futures
import math
import os
import shutil
import struct
import random
import re
import subprocess
import sys
import tempfile
import time

N = 97  # buffer length (odd, so modulo indexing mixes work-items)
LEVELS = ("-O0", "-O2", "-O3", "checked")


class Gen:
    def __init__(self, rng):
        self.r = rng
        self.vars = {"int": ["x", "k"], "uint": ["u"], "long": ["w"], "float": ["f"],
                     "int4": ["vi"], "float4": ["v"]}
        self.depth = 0
        self.nvar = 0
        self.in_helper = False  # the helper sees no buffers and cannot call itself

    def pick(self, seq):
        return self.r.choice(seq)

    def lit(self, t):
        r = self.r
        if t == "int":
            return str(r.choice([0, 1, 2, 3, 7, -1, -5, 100, 12345, -2147483647]))
        if t == "uint":
            return str(r.choice([0, 1, 3, 8, 255, 65535, 4000000000])) + "u"
        if t == "long":
            return str(r.choice([0, 1, -3, 9, 1 << 40, -(1 << 33), 1234567890123])) + "l"
        return r.choice(["0.0", "1.0", "0.5", "-2.25", "3.0", "1024.0", "0.125"])

    def expr(self, t, d=0):
        r = self.r
        if d > 3 or r.random() < 0.25:
            return self.pick(self.vars[t]) if r.random() < 0.7 else self.lit(t)
        c = r.randrange(9)
        a = lambda: self.expr(t, d + 1)
        if t == "float":
            if c == 0:
                return f"({a()} {self.pick(['+', '-', '*'])} {a()})"
            if c == 1:
                return f"{self.pick(['min', 'max'])}({a()}, {a()})"
            if c == 2:
                return f"(float)({self.expr('int', d + 1)} % 1000)"
            if c == 3:
                return f"({self.cond(d + 1)} ? {a()} : {a()})"
            if c == 4:
                return f"clamp({a()}, -4.0, 4.0)"
            if c == 5:
                return f"abs({a()})"
            if c == 6:
                return f"floor({a()})"
            if c == 7 and not self.in_helper:
                return f"helper({self.expr('int', d + 1)}, {a()})"
            if self.in_helper:
                return f"({a()} * 0.5)"
            return f"b[{self.index(d + 1)}]"
        if c == 0:
            op = self.pick(["+", "-", "*", "&", "|", "^"])
            return f"({a()} {op} {a()})"
        if c == 1:
            op = self.pick(["/", "%"])
            mask = "7" if t != "long" else "7l"
            one = {"int": "1", "uint": "1u", "long": "1l"}[t]
            return f"({a()} {op} (({a()} & {mask}) + {one}))"
        if c == 2:
            sh = "31u" if t != "long" else "63u"
            return f"({a()} {self.pick(['<<', '>>'])} ((uint){self.expr('int', d + 1)} & {sh}))"
        if c == 3:
            return f"({self.cond(d + 1)} ? {a()} : {a()})"
        if c == 4:
            src = self.pick([s for s in ("int", "uint", "long") if s != t] + ["float"])
            e = self.expr(src, d + 1)
            if src == "float":
                e = self.in_range(t, e)
            return f"({t})({e})"
        if c == 5:
            return f"{self.pick(['min', 'max'])}({a()}, {a()})"
        if c == 6:
            if self.in_helper:
                return f"({t})({a()} + {self.lit(t)})"
            return f"({t})a[{self.index(d + 1)}]"
        if c == 7:
            return f"(-({a()}))" if t != "uint" else f"(~({a()}))"
        if self.r.random() < 0.5:
            return f"({t})({self.in_range(t, 'v.' + self.pick('xyzw'))})"
        return f"({t})({self.vexpr('int4', d + 1)}).{self.pick('xyzw')}"

    def in_range(self, t, e):
        """float expression e clamped into integer type t's range (an out-of-range conversion
        gives an unspecified value in DCK; clamp takes NaN to the lower bound)"""
        return f"clamp({e}, {'0.0' if t == 'uint' else '-1000.0'}, 1000.0)"

    def vexpr(self, t, d=0):
        """An int4 or float4 expression."""
        r = self.r
        el = "int" if t == "int4" else "float"
        if d > 2 or r.random() < 0.3:
            return self.pick(self.vars[t]) if r.random() < 0.7 else f"{t}({self.expr(el, d + 1)})"
        c = r.randrange(8)
        a = lambda: self.vexpr(t, d + 1)
        if c == 0:
            ops = ["+", "-", "*"] + (["&", "|", "^"] if el == "int" else [])
            return f"({a()} {self.pick(ops)} {a()})"
        if c == 1:
            return f"({a()} * {self.expr(el, d + 1)})"  # vector op scalar: splat
        if c == 2:
            sw = "".join(r.choice("xyzw") for _ in range(4))
            return f"({a()}).{sw}"
        if c == 3:
            return f"{self.pick(['min', 'max'])}({a()}, {a()})"
        if c == 4:
            op = self.pick(["<", ">", "==", "!="])
            return f"select({a()}, {a()}, {a()} {op} {a()})"
        if c == 5:
            return f"{t}({self.expr(el, d + 1)}, {self.expr(el, d + 1)}, {self.expr(el, d + 1)}, {self.expr(el, d + 1)})"
        if c == 6:
            if el == "int":
                return f"(int4)clamp({self.vexpr('float4', d + 1)}, -1000.0, 1000.0)"
            return f"(float4)({self.vexpr('int4', d + 1)} % int4(1000))"
        if el == "float":
            return f"clamp({a()}, -8.0, 8.0)"
        return f"abs({a()})"

    def index(self, d):
        return f"(uint)(({self.expr('int', d)}) & 0x7fffffff) % len(a)"

    def cond(self, d):
        t = self.pick(["int", "uint", "long", "float"])
        op = self.pick(["<", "<=", ">", ">=", "==", "!="])
        c = f"({self.expr(t, d)} {op} {self.expr(t, d)})"
        if self.r.random() < 0.2:
            c = f"({c} {self.pick(['&&', '||'])} {self.cond(d + 1)})"
        return c

    def stmt(self, lvl):
        r = self.r
        ind = "    " * lvl
        c = r.randrange(8 if lvl < 4 else 4)
        if c <= 2:
            t = self.pick(["int", "uint", "long", "float"])
            return f"{ind}{self.pick(self.vars[t])} = {self.expr(t)};\n"
        if c == 3:
            t = self.pick(["int", "uint", "long", "float"])
            op = "+=" if t == "float" else self.pick(["+=", "-=", "*=", "^=", "|="])
            return f"{ind}{self.pick(self.vars[t])} {op} {self.expr(t)};\n"
        if c == 4:
            s = f"{ind}if ({self.cond(0)}) {{\n{self.block(lvl + 1)}{ind}}}"
            if r.random() < 0.5:
                s += f" else {{\n{self.block(lvl + 1)}{ind}}}"
            return s + "\n"
        if c == 5:
            self.nvar += 1
            iv = f"it{self.nvar}"  # not iN: i8/i16/i32/i64 are type names
            body = self.block(lvl + 1)
            extra = ""
            if r.random() < 0.4:
                extra = f"{ind}    if ({self.cond(0)}) {self.pick(['break', 'continue'])};\n"
            return (f"{ind}for (int {iv} = 0; {iv} < {r.randrange(1, 6)}; {iv}++) {{\n"
                    f"{extra}{ind}    x += {iv};\n{body}{ind}}}\n")
        if c == 6:
            return f"{ind}arr[(uint)({self.expr('int')}) & 3u] = {self.expr('int')};\n" \
                   f"{ind}k ^= arr[(uint)({self.expr('int')}) & 3u];\n"
        if r.random() < 0.5:
            return f"{ind}v.{self.pick(['xy', 'zw', 'yx', 'wz'])} += float2({self.expr('float')}, 1.0);\n"
        t = self.pick(["int4", "float4"])
        if r.random() < 0.5:
            return f"{ind}{self.vars[t][0]} = {self.vexpr(t)};\n"
        el = "int" if t == "int4" else "float"
        sw = self.pick(["x", "w", "zy", "xw"])
        val = self.expr(el) if len(sw) == 1 else f"{el}2({self.expr(el)}, {self.expr(el)})"
        return f"{ind}{self.vars[t][0]}.{sw} = {val};\n"

    def block(self, lvl):
        return "".join(self.stmt(lvl) for _ in range(self.r.randrange(1, 4)))

    def program(self):
        self.in_helper = True
        hb = self.expr("float")
        self.in_helper = False
        body = "".join(self.stmt(1) for _ in range(self.r.randrange(4, 10)))
        return f"""// generated by difftest.py
float helper(int n, float f) {{
    int x = n; int k = 3; uint u = 7u; long w = 11l; float4 v = float4(f); int4 vi = int4(n);
    return {hb};
}}

kernel void r(const int[] a, const float[] b, int[] o, uint[] ou, long[] ol, float[] of) {{
    uint gid = global_id(0);
    if (gid >= len(o)) return;
    int x = a[gid];
    int k = (int)gid;
    uint u = (uint)a[(gid + 1u) % len(a)] * 2654435761u;
    long w = (long)x * 1000003l;
    float f = b[gid];
    float4 v = float4(f, 1.0, 2.0, (float)x);
    int4 vi = int4(x, k, 3, -4);
    int arr[4] = {{1, 2, 3, 4}};
{body}    o[gid] = x + k + arr[0] + arr[3] + vi.x - vi.y + vi.z * 3 + vi.w * 5;
    ou[gid] = u;
    ol[gid] = w;
    of[gid] = f + v.x + v.y + v.z + v.w;
}}
"""


def run(dckrun, src, opt, outdir):
    outs = []
    # "checked" is -O2 with bounds checks compiled in: every index here is in range, so the
    # results must not change
    flags = ["-O2", "--checked"] if opt == "checked" else [opt]
    cmd = [dckrun, *flags, src, "r", "a=rand:%d:1" % N, "b=rand:%d:2" % N,
           "o=zeros:%d" % N, "ou=zeros:%d" % N, "ol=zeros:%d" % N, "of=zeros:%d" % N]
    for name in ("o", "ou", "ol", "of"):
        path = os.path.join(outdir, f"{name}{opt}.bin")
        cmd.append(f"--out={name}={path}")
        outs.append(path)
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    if p.returncode != 0:
        return None, p.stderr
    return b"".join(open(x, "rb").read() for x in outs), ""


# ---- --backends: every route against the CPU backend ----

OUTS = (("o", "i", 4), ("ou", "I", 4), ("ol", "q", 8), ("of", "f", 4))  # name, format, size
# PoCL builds a program in about a second: it runs the merged module (built once, then from
# its cache); the others take one program at a time (a smaller module compiles faster)
ROUTES = (("spirv-opencl", ["--backend=opencl", "--target=spirv-opencl"], True),
          ("opencl", ["--backend=opencl", "--target=opencl"], True),
          ("vulkan", ["--backend=vulkan"], False))


def sh(cmd, timeout, env=None):
    """(status, output); status None when it did not finish in time"""
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                           timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        return None, "did not finish in %d s: %s" % (timeout, " ".join(cmd))
    return p.returncode, p.stdout


def merged_name(text, n):
    """program n's text with its kernel named r<n> and its helper h<n>"""
    return text.replace("helper(", "h%d(" % n).replace("kernel void r(", "kernel void r%d(" % n)


def first_difference(got, want):
    """None when equal (floats: bit for bit, any NaN equal to any NaN), else where they differ"""
    off = 0
    for name, fmt, size in OUTS:
        for i in range(N):
            x, y = got[off:off + size], want[off:off + size]
            off += size
            if x == y:
                continue
            a, b = struct.unpack("<" + fmt, x)[0], struct.unpack("<" + fmt, y)[0]
            if fmt == "f" and math.isnan(a) and math.isnan(b):
                continue
            return "%s[%d] is %r (0x%s), the CPU gives %r (0x%s)" % (name, i, a, x[::-1].hex(), b, y[::-1].hex())
    return None


class Backends:
    def __init__(self, a, tmp):
        self.a, self.tmp = a, tmp
        self.env = dict(os.environ, DCK_QUIET="1", DCK_CPU_ISA="scalar")
        self.skipped = []
        self.times = {}
        rc, out = sh([a.dckrun, "--list-devices"], 60, self.env)
        devs = {l.split(":")[0] for l in (out or "").splitlines() if re.match(r"^\w+:0 ", l)}
        self.routes = []
        for name, opts, merged in ROUTES:
            be = opts[0].split("=")[1]
            if be not in devs:
                self.skipped.append("%s (no %s device)" % (name, be))
            elif name == "spirv-opencl" and not shutil.which(os.environ.get("DCK_LLVM_SPIRV", "llvm-spirv-15")):
                self.skipped.append("spirv-opencl (llvm-spirv-15 is not installed)")
            else:
                self.routes.append((name, opts, merged))
        self.msl = None
        if not shutil.which(a.clang):
            self.skipped.append("msl (%s is not installed)" % a.clang)
        else:
            sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "msl"))
            sys.dont_write_bytecode = True
            import run as mslrun  # tests/msl/run.py: the Metal shim's driver
            self.msl = mslrun
            self.msl_ctx = mslrun.Ctx(argparse.Namespace(dckc=a.dckc, dckrun=a.dckrun, clang=a.clang),
                                      os.path.join(tmp, "msl"))
            os.makedirs(self.msl_ctx.work, exist_ok=True)

    def inputs(self, first):
        """the input buffers (dckrun's rand: data, written once through tests/msl/run.py's
        copy of it) and the shim's launch description, shared by every program"""
        args = ["a=rand:%d:1" % N, "b=rand:%d:2" % N] + ["%s=zeros:%d" % (o[0], N) for o in OUTS]
        if self.msl:
            k, structs = self.msl.reflect(self.a.dckc, first)
            self.kernel = k["r"]
            self.prep = self.msl.prepare(self.kernel, structs, args, os.path.join(self.tmp, "inputs"))
            self.args = [c for c in self.prep["cli"] if not c.startswith("--local")]
        else:
            self.args = args

    def dckrun(self, opts, module, kernel, outdir):
        os.makedirs(outdir, exist_ok=True)
        cmd = [self.a.dckrun, "-O2", *opts, module, kernel, *self.args]
        cmd += ["--out=%s=%s" % (o[0], os.path.join(outdir, o[0] + ".bin")) for o in OUTS]
        rc, out = sh(cmd, self.a.timeout, self.env)
        if rc != 0:
            return None, "%s: %s" % ("exit status %d" % rc if rc is not None else "hang", out.strip()[-1500:])
        return b"".join(open(os.path.join(outdir, o[0] + ".bin"), "rb").read() for o in OUTS), ""

    def route(self, name, opts, module, srcs):
        """every program on one route (module: the merged one, else srcs): {n: (bytes or
        None, why)}"""
        res = {}
        t0 = time.time()
        for n in range(len(srcs)):
            outdir = os.path.join(self.tmp, name, "r%d" % n)
            res[n] = self.dckrun(opts, module, "r%d" % n, outdir) if module else \
                self.dckrun(opts, srcs[n], "r", outdir)
        self.times[name] = time.time() - t0
        return res

    def msl_one(self, src, n):
        t0 = time.time()
        r = self.msl_one_(src, n)
        self.times["msl"] = self.times.get("msl", 0) + time.time() - t0
        return r

    def msl_one_(self, src, n):
        outdir = os.path.join(self.tmp, "msl", "p%d" % n)
        os.makedirs(outdir, exist_ok=True)
        metal = os.path.join(outdir, "p%d.metal" % n)
        rc, out = sh([self.a.dckc, "-O2", "--target=msl", src, "-o", metal], 60)
        if rc != 0:
            return None, "dckc --target=msl: " + out.strip()[-1500:]
        try:
            text = open(metal).read()
            self.msl.exec_msl(self.msl_ctx, self.kernel, text, self.prep, outdir, 4, False, timeout=self.a.timeout)
        except (self.msl.Fail, self.msl.gen_driver.GenError) as e:
            return None, str(e)[:3000]
        return b"".join(open(os.path.join(outdir, "msl_%s.bin" % o[0]), "rb").read() for o in OUTS), ""


def cross_backends(a):
    if not a.dckc:
        print("--backends needs --dckc")
        return 2
    tmp = a.keep or tempfile.mkdtemp(prefix="dck-diffbe-")
    os.makedirs(tmp, exist_ok=True)
    srcs, merged = [], []
    for n in range(a.count):
        text = Gen(random.Random(a.seed * 100003 + n)).program()
        path = os.path.join(tmp, "p%d.dck" % n)
        with open(path, "w") as f:
            f.write(text)
        srcs.append(path)
        merged.append(merged_name(text, n))
    module = os.path.join(tmp, "all.dck")
    with open(module, "w") as f:
        f.write("\n".join(merged))
    B = Backends(a, tmp)
    if B.routes:  # compiled once for the merged routes (dckrun takes packages too)
        pkg = os.path.join(tmp, "all.dckpkg")
        rc, out = sh([a.dckc, "-O2", "--emit=package", "--target=opencl,spirv", "--spirv-env=opencl,vulkan",
                      module, "-o", pkg], 300)
        if rc != 0:
            print("FAIL %s: dckc --emit=package: %s" % (module, out.strip()[-2000:]))
            return 1
        module = pkg
    for s in B.skipped:
        print("SKIPPED: " + s)
    B.inputs(srcs[0])
    if B.msl:
        B.msl_ctx.pch(4)
        B.msl_ctx.rt_obj(4)
    jobs = {}
    with concurrent.futures.ThreadPoolExecutor(max_workers=a.jobs) as pool:
        # the longest first (a worker per route, the PoCL ones first), then the MSL programs
        # one by one: whichever worker is free takes the next
        for name, opts, merged in B.routes:
            jobs[name] = pool.submit(B.route, name, opts, module if merged else None, srcs)
        jobs["cpu"] = pool.submit(B.route, "cpu", ["--backend=cpu"], None, srcs)
        if B.msl:
            jobs["msl"] = {n: pool.submit(B.msl_one, srcs[n], n) for n in range(a.count)}
        res = {k: ({n: f.result() for n, f in v.items()} if isinstance(v, dict) else v.result())
               for k, v in jobs.items()}
    ref = res.pop("cpu")
    failed = 0
    for n in range(a.count):
        want, why = ref[n]
        bad = []
        if want is None:
            bad.append("the CPU backend (the reference) failed: " + why)
        else:
            for name in sorted(res):
                got, why = res[name][n]
                if got is None:
                    bad.append("%s failed: %s" % (name, why))
                    continue
                diff = first_difference(got, want)
                if diff:
                    bad.append("%s differs: %s" % (name, diff))
        if bad:
            failed += 1
            print("FAIL %s (also kernel r%d of %s):\n  %s" % (srcs[n], n, module, "\n  ".join(bad)))
    routes = ["cpu"] + sorted(res)
    print("%d of %d programs agree on %s (against cpu; seconds per route: %s)"
          % (a.count - failed, a.count, ", ".join(routes),
             ", ".join("%s %.0f" % (k, v) for k, v in sorted(B.times.items()))))
    if not failed and not a.keep:
        shutil.rmtree(tmp, ignore_errors=True)
    return 1 if failed else 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dckrun")
    ap.add_argument("--dckc")
    ap.add_argument("--count", type=int, default=20)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--keep")
    ap.add_argument("--backends", action="store_true", help="every backend against the CPU")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--clang", default="clang++-16")
    ap.add_argument("--timeout", type=int, default=60, help="--backends: seconds per run")
    args = ap.parse_args()
    if args.backends:
        return cross_backends(args)
    tmp = args.keep or tempfile.mkdtemp(prefix="dck-diff-")
    os.makedirs(tmp, exist_ok=True)
    passed = failed = 0
    for n in range(args.count):
        rng = random.Random(args.seed * 100003 + n)
        g = Gen(rng)
        # the helper may not reference buffers or names it lacks: regenerate until clean
        src_text = g.program()
        src = os.path.join(tmp, f"p{n}.dck")
        with open(src, "w") as fh:
            fh.write(src_text)
        if args.dckc:
            outs = set()
            for _ in range(3):
                p = subprocess.run([args.dckc, "-O2", "--target=c", src, "-o", "-"], capture_output=True, timeout=60)
                outs.add(p.stdout if p.returncode == 0 else b"error")
            if len(outs) != 1:
                print(f"FAIL {src}: three compilations at -O2 gave {len(outs)} different outputs")
                failed += 1
                break
        results = {}
        err = ""
        for opt in LEVELS:
            results[opt], e = run(args.dckrun, src, opt, tmp)
            err = err or e
        if any(v is None for v in results.values()):
            print(f"FAIL {src}: a run failed:\n{err}")
            failed += 1
            break
        if len(set(results.values())) != 1:
            sizes = [N * 4, N * 4, N * 8, N * 4]
            for opt in LEVELS[1:]:
                off = 0
                for name, size in zip(("o", "ou", "ol", "of"), sizes):
                    x, y = results["-O0"][off:off + size], results[opt][off:off + size]
                    if x != y:
                        esz = size // N
                        bad = [i for i in range(N) if x[i * esz:(i + 1) * esz] != y[i * esz:(i + 1) * esz]]
                        print(f"  {name} differs at -O0 vs {opt}, elements {bad[:8]}: "
                              f"{x[bad[0] * esz:(bad[0] + 1) * esz].hex()} vs {y[bad[0] * esz:(bad[0] + 1) * esz].hex()}")
                    off += size
            again = {opt: run(args.dckrun, src, opt, tmp)[0] for opt in LEVELS}
            print("  a second run of each level %s" % ("agrees: the difference is not reproducible"
                  if len(set(again.values())) == 1 else "disagrees as well"))
            print(f"FAIL {src}: {', '.join(LEVELS)} disagree")
            failed += 1
            break
        passed += 1
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
