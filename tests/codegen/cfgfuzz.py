#!/usr/bin/env python3
"""cfgfuzz.py: random structured control flow for every structured backend.

Generates seeded .dck programs whose helper functions (inlined by dckc) nest if/else, early
returns from inside nested ifs and loops, for/while/do-while loops with break and continue,
and ternaries, and whose kernel may call them from a loop it leaves by return or break;
every path writes out[gid] = f(x[gid]). Each program is compiled by dckc for
SPIR-V (Vulkan and OpenCL environments, validated in-process by spirv-val), OpenCL C, CUDA C
and MSL, and each output is checked by an independent compiler where one is installed:
llvm-spirv -r (the OpenCL-environment SPIR-V), PoCL (OpenCL C, through clbuild), NVRTC (CUDA C,
through nvrtc_check) and clang++-16 with the Metal shim (MSL). Every --exec-every-th seed is
also run, and its results must equal the CPU backend's (dckrun --backend=cpu): on Vulkan
(lavapipe), on OpenCL from the OpenCL C and from the SPIR-V (PoCL), and as MSL through the
shim (tests/msl/run.py); a device that is absent is skipped and said so.

usage: cfgfuzz.py DCKC DCKRUN [--seeds=A:B] [--check-every=N] [--exec-every=N] [--jobs=N]
                  [--keep=DIR] [--no-exec] [--clbuild=PATH] [--nvrtc=PATH] [--print=SEED]
Defaults: seeds 1:150, every seed checked by the targets' compilers and executed, 2 jobs
(--check-every/--exec-every=N: only seeds that N divides; executed seeds are always checked).
The full range of docs/backends.md is
  cfgfuzz.py DCKC DCKRUN --seeds=1000:2999 --check-every=2 --exec-every=25 --clbuild=... --nvrtc=...
Exit 0 when every seed passed, else 1.
"""
import argparse
import concurrent.futures
import os
import random
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# the runtime warns on stderr when it selects lavapipe; outputs are compared whole
os.environ.setdefault("DCK_QUIET", "1")

N = 64  # work-items per run


class Gen:
    def __init__(self, seed):
        self.r = random.Random(seed)
        self.out = []

    def expr(self, vars_, depth=0):
        r = self.r
        k = r.randrange(10 if depth < 2 else 3)
        if k == 0 or not vars_:
            return "%du" % r.randrange(0, 20)
        if k in (1, 2):
            return r.choice(vars_)
        a = self.expr(vars_, depth + 1)
        b = self.expr(vars_, depth + 1)
        if k == 3:
            return "(%s %s %s)" % (a, r.choice(["+", "-", "*", "^", "&", "|"]), b)
        if k == 4:
            return "(%s ? %s : %s)" % (self.cond(vars_, depth + 1), a, b)
        if k == 5 and self.callable_:
            return "%s(%s, %s)" % (r.choice(self.callable_), a, b)
        return "(%s + %s)" % (a, b)

    def cond(self, vars_, depth=0):
        r = self.r
        a = self.expr(vars_, depth + 1)
        c = "(%s %s %du)" % (a, r.choice(["<", ">", "==", "!=", "<=", ">="]), r.randrange(0, 60))
        if depth < 2 and r.random() < 0.2:
            c = "(%s %s %s)" % (c, r.choice(["&&", "||"]), self.cond(vars_, depth + 1))
        return c

    def block(self, vars_, ind, depth, inloop):
        r = self.r
        lines = []
        nst = r.randrange(1, 4)
        for _ in range(nst):
            lines += self.stmt(vars_, ind, depth, inloop)
        return lines

    def stmt(self, vars_, ind, depth, inloop):
        r = self.r
        sp = "    " * ind
        choices = ["assign", "assign"]
        if depth < 4:
            choices += ["if", "if", "ifelse", "loop", "while", "dowhile"]
        if inloop:
            choices += ["break", "continue"]
        choices += ["return"]
        k = r.choice(choices)
        if k == "assign":
            v = r.choice(["a", "b", "t"])
            return ["%s%s = %s;" % (sp, v, self.expr(vars_))]
        if k == "return":
            return ["%sif %s return %s;" % (sp, self.cond(vars_), self.expr(vars_))] if r.random() < 0.6 \
                else ["%sif %s {" % (sp, self.cond(vars_)), "%s    %s = %s;" % (sp, r.choice(["a", "b", "t"]), self.expr(vars_)),
                      "%s    return %s;" % (sp, self.expr(vars_)), "%s}" % sp]
        if k in ("break", "continue"):
            return ["%sif %s %s;" % (sp, self.cond(vars_), k)]
        if k in ("if", "ifelse"):
            lines = ["%sif %s {" % (sp, self.cond(vars_))]
            lines += self.block(vars_, ind + 1, depth + 1, inloop)
            if k == "ifelse":
                lines.append("%s} else {" % sp)
                lines += self.block(vars_, ind + 1, depth + 1, inloop)
            lines.append("%s}" % sp)
            return lines
        self.nloop += 1
        iv = "n%d" % self.nloop
        if k == "loop":
            lines = ["%sfor (uint %s = 0u; %s < %du; %s++) {" % (sp, iv, iv, r.randrange(1, 6), iv)]
            lines += self.block(vars_ + [iv], ind + 1, depth + 1, True)
            lines.append("%s}" % sp)
            return lines
        if k == "dowhile":
            # do-while with a counter advanced first: continue jumps to the condition
            lines = ["%suint %s = 0u;" % (sp, iv), "%sdo {" % sp, "%s    %s++;" % (sp, iv)]
            lines += self.block(vars_ + [iv], ind + 1, depth + 1, True)
            lines.append("%s} while (%s < %du);" % (sp, iv, r.randrange(1, 5)))
            return lines
        # while with a counter advanced first (so continue cannot loop forever)
        lines = ["%suint %s = 0u;" % (sp, iv),
                 "%swhile (%s < %du) {" % (sp, iv, r.randrange(1, 6)),
                 "%s    %s++;" % (sp, iv)]
        lines += self.block(vars_ + [iv], ind + 1, depth + 1, True)
        lines.append("%s}" % sp)
        return lines

    def program(self):
        r = self.r
        nf = r.randrange(1, 4)
        self.callable_ = []
        src = ["// generated by cfgfuzz.py"]
        for fi in range(nf):
            self.nloop = 0
            name = "h%d" % fi
            vars_ = ["a", "b", "t"]
            src.append("uint %s(uint a, uint b) {" % name)
            src.append("    uint t = a ^ b;")
            src += self.block(vars_, 1, 0, False)
            src.append("    return %s;" % self.expr(vars_))
            src.append("}")
            self.callable_.append(name)
        self.nloop = 0
        callee = self.callable_[-1]
        src.append("kernel void k(const uint[] x, uint[] out) {")
        src.append("    uint g = global_id(0);")
        src.append("    if (g >= len(out)) return;")
        src.append("    uint v = x[g];")
        if r.random() < 0.5:
            src.append("    if (v %% %du == 0u) {" % r.randrange(3, 9))
            src.append("        out[g] = %s(v, g) + 1000u;" % r.choice(self.callable_))
            src.append("        return;")
            src.append("    }")
        if r.random() < 0.4:
            # a kernel loop calling the helpers, left by a kernel return or a break
            src.append("    for (uint i = 0u; i < %du; i++) {" % r.randrange(1, 4))
            src.append("        v = %s(v, i) ^ i;" % r.choice(self.callable_))
            src.append("        if ((v & %du) == %du) {" % (r.randrange(1, 8), r.randrange(0, 4)))
            src.append("            out[g] = v;")
            src.append("            return;")
            src.append("        }")
            src.append("        if (v %% %du == 1u) break;" % r.randrange(2, 7))
            src.append("    }")
        src.append("    out[g] = %s(v, g);" % callee)
        src.append("}")
        return "\n".join(src) + "\n"


def run(cmd, timeout=120):
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout)
    except subprocess.TimeoutExpired:
        return -1, "timed out after %d s: %s" % (timeout, " ".join(cmd))
    return p.returncode, p.stdout.decode(errors="replace")


def last_line(out):
    lines = [l for l in out.strip().splitlines() if l.strip()]
    return lines[-1] if lines else ""


class Env:
    """what this machine can check and run"""

    def __init__(self, opts, dckc, dckrun, tmp):
        self.dckc, self.dckrun, self.tmp = dckc, dckrun, tmp
        self.llvm_spirv = shutil.which(os.environ.get("LLVM_SPIRV", "llvm-spirv-15"))
        self.clbuild = opts.get("clbuild") or None
        self.nvrtc = opts.get("nvrtc") or None
        self.clang = shutil.which(opts.get("clang", "clang++-16"))
        self.devices = set()
        self.no_exec = "no-exec" in opts
        self.msl = None
        if "no-exec" not in opts:
            rc, out = run([dckrun, "--list-devices"])
            for be in ("vulkan", "opencl"):
                if any(l.startswith(be + ":0") for l in out.splitlines()):
                    self.devices.add(be)
        if self.clang:
            sys.path.insert(0, os.path.join(ROOT, "tests", "msl"))
            sys.dont_write_bytecode = True
            import run as mslrun  # noqa: E402 (tests/msl/run.py: the shim driver)

            self.msl = mslrun
            a = argparse.Namespace(dckc=dckc, dckrun=dckrun, clang=self.clang)
            self.msl_ctx = mslrun.Ctx(a, os.path.join(tmp, "msl"))
            os.makedirs(self.msl_ctx.work, exist_ok=True)
            self.msl_ctx.pch(4)
            self.msl_ctx.rt_obj(4)

    def skipped(self):
        s = []
        if not self.llvm_spirv:
            s.append("llvm-spirv -r (not installed)")
        if not self.clbuild:
            s.append("OpenCL C build (no --clbuild)")
        if not self.nvrtc:
            s.append("CUDA C build (no --nvrtc)")
        if not self.clang:
            s.append("MSL (clang++-16 not installed)")
        for be in ("vulkan", "opencl"):
            if self.no_exec:
                s.append("execution on %s (--no-exec)" % be)
            elif be not in self.devices:
                s.append("execution on %s (no device)" % be)
        return s


def check_seed(env, seed, check, execute):
    """None when the seed passes, else why it failed"""
    try:
        return check_one(env, seed, check, execute)
    except Exception as e:  # a harness failure fails the seed, not the run
        return "harness error: %r" % (e,)


def check_one(env, seed, check, execute):
    path = os.path.join(env.tmp, "p%d.dck" % seed)
    with open(path, "w") as f:
        f.write(Gen(seed).program())
    outs = {}
    for tag, args in (("vulkan.spv", ["--target=spirv", "--spirv-env=vulkan"]),
                      ("opencl.spv", ["--target=spirv", "--spirv-env=opencl"]),
                      ("cl", ["--target=opencl"]), ("cu", ["--target=cuda"]), ("metal", ["--target=msl"])):
        outs[tag] = path[:-4] + "." + tag
        rc, out = run([env.dckc, *args, "-o", outs[tag], path])
        if rc != 0:
            return "dckc %s rc=%d: %s" % (" ".join(args), rc, last_line(out))
    checks = []
    if not check:
        pass
    elif env.llvm_spirv:
        checks.append(("llvm-spirv -r", [env.llvm_spirv, "-r", outs["opencl.spv"], "-o", path + ".bc"]))
    if env.clbuild and check:
        checks.append(("PoCL build of the OpenCL C", [env.clbuild, "--label", path, outs["cl"]]))
    if env.nvrtc and check:
        checks.append(("NVRTC", [env.nvrtc, "--label", path, outs["cu"]]))
    if env.clang and check:
        checks.append(("clang++ with the Metal shim",
                       [env.clang, *env.msl.CXXFLAGS, "-include-pch", env.msl_ctx.pch(4), "-DMSL_SHIM_SIMD_WIDTH=4",
                        "-fsyntax-only", "-I", env.msl.INCLUDE, "-x", "c++", outs["metal"]]))
    for what, cmd in checks:
        rc, out = run(cmd)
        if rc not in (0, 77):
            return "%s rejects it: %s" % (what, out.strip()[-400:])
    if not execute:
        return None
    args = ["x=rand:%d:%d" % (N, seed), "out=zeros:%d" % N, "--print=out"]
    rc, want = run([env.dckrun, "--backend=cpu", path, "k", *args], timeout=900)
    if rc != 0:
        return "cpu run failed: " + want[-300:]
    runs = []
    if "vulkan" in env.devices:
        runs.append(("vulkan", ["--backend=vulkan"]))
    if "opencl" in env.devices:
        runs.append(("opencl (OpenCL C)", ["--backend=opencl", "--target=opencl"]))
        if env.llvm_spirv:
            runs.append(("opencl (SPIR-V)", ["--backend=opencl", "--target=spirv-opencl"]))
    for what, opt in runs:
        rc, got = run([env.dckrun, *opt, path, "k", *args], timeout=300)
        if (rc, got.strip()) != (0, want.strip()):
            return "%s differs from the CPU: rc=%d %s" % (what, rc, got.strip()[-300:])
    if env.msl:
        try:
            kernels, structs = env.msl.reflect(env.dckc, path)
            with open(outs["metal"]) as f:
                text = f.read()
            env.msl.test_kernel(env.msl_ctx, path, kernels["k"], structs, text, args[:2], "s%d" % seed)
        except env.msl.Fail as e:
            return "MSL (shim): " + str(e)[:400]
    return None


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    opts = dict(a[2:].split("=", 1) if "=" in a else (a[2:], "") for a in sys.argv[1:] if a.startswith("--"))
    if "print" in opts:
        sys.stdout.write(Gen(int(opts["print"])).program())
        return 0
    dckc, dckrun = os.path.abspath(args[0]), os.path.abspath(args[1])
    lo, hi = (int(v) for v in opts.get("seeds", "1:150").split(":"))
    tmp = opts.get("keep") or tempfile.mkdtemp(prefix="cfgfuzz")
    os.makedirs(tmp, exist_ok=True)
    for k in ("clbuild", "nvrtc"):
        if opts.get(k):
            opts[k] = os.path.abspath(opts[k])
    env = Env(opts, dckc, dckrun, tmp)
    for s in env.skipped():
        print("SKIPPED: " + s)
    every = int(opts.get("exec-every", "1"))
    cevery = int(opts.get("check-every", "1"))
    execute = "no-exec" not in opts
    seeds = list(range(lo, hi + 1))
    fails = []
    with concurrent.futures.ThreadPoolExecutor(max_workers=int(opts.get("jobs", "2"))) as pool:
        futs = {s: pool.submit(check_seed, env, s, s % cevery == 0 or (execute and s % every == 0),
                                execute and s % every == 0) for s in seeds}
        for s in seeds:
            bad = futs[s].result()
            if bad:
                fails.append(s)
                print("FAIL seed %d (%s): %s" % (s, os.path.join(tmp, "p%d.dck" % s), bad), flush=True)
    nexec = sum(1 for s in seeds if execute and s % every == 0)
    nchk = sum(1 for s in seeds if s % cevery == 0 or (execute and s % every == 0))
    print("cfgfuzz: %d/%d seeds passed (all compiled for spirv-vulkan and spirv-opencl, validated, and for "
          "opencl, cuda, msl; %d checked by the targets' compilers, %d executed)"
          % (len(seeds) - len(fails), len(seeds), nchk, nexec))
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
