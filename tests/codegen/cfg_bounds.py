#!/usr/bin/env python3
"""cfg_bounds.py: time and memory bounds of the structured backends on large control flow.

The structured targets (SPIR-V, OpenCL C, CUDA C, MSL) turn the CFG into structured code
(compiler/ir_cfg.c). Issue 21 measured cfgfuzz.py --print=1021 at over 200 s and 8.3 GB for
--target=spirv (0.19 s for --target=c) and seed 12 at 56 s and 3.5 GB before an internal error;
after the structurizer's rewrite, programs made of many inlined copies of a function still grew
with the square of their size: 4096 copies of a one-loop helper took 2 GB for --target=opencl
(natural loops kept a byte per block id and an exit array of every block, per loop; the region
tree's tidying copied each lifted arm into its parent list), and SPIR-V's in-process validator
takes time that grows with the square of a function's blocks (78 000 blocks: 87 s), so
--target=spirv refuses a function of more than 16384 blocks with an error that says so.

Each case runs dckc with a limit on its address space and a timeout; it must finish in both
with the expected result: compiled, or (SPIR-V over the limit) the "too large for SPIR-V"
error. --sanitized (an ASan build: its shadow memory does not fit an address-space limit)
keeps only the time limits, five times longer.

usage: cfg_bounds.py DCKC [--sanitized] [--keep DIR]
"""
import argparse
import os
import random
import resource
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
MB = 1 << 20


def helper_calls(depth, width, calls, seed=1):
    """a helper whose loops nest `depth` deep, each level `width` statements of if/else with
    break, continue or return, called (and inlined) `calls` times by the kernel"""
    r = random.Random(seed)
    out = []

    def level(d, ind):
        sp = "    " * ind
        for w in range(width):
            c = r.randrange(6)
            cond = "((a ^ %du) %% %du == %du)" % (r.randrange(100), r.randrange(2, 7), r.randrange(2))
            if d < depth and w == width // 2:
                iv = "i%d_%d" % (d, w)
                out.append("%sfor (uint %s = 0u; %s < %du; %s++) {" % (sp, iv, iv, r.randrange(2, 5), iv))
                out.append("%s    a = a * 3u + %s;" % (sp, iv))
                level(d + 1, ind + 1)
                out.append("%s}" % sp)
            elif c == 0 and d > 0:
                out.append("%sif %s break;" % (sp, cond))
            elif c == 1 and d > 0:
                out.append("%sif %s continue;" % (sp, cond))
            elif c == 2:
                out.append("%sif %s return a + %du;" % (sp, cond, w))
            elif c == 3:
                out.append("%sif %s { a += %du; if ((a & 1u) == 0u) return a; } else { b ^= a; }" % (sp, cond, w))
            else:
                out.append("%sa = (a ^ b) + %du;" % (sp, w))

    out.append("uint h(uint a, uint b) {")
    level(0, 1)
    out.append("    return a ^ b;")
    out.append("}")
    out.append("kernel void k(const uint[] x, uint[] y) {")
    out.append("    uint g = global_id(0);")
    out.append("    if (g >= len(y)) return;")
    out.append("    uint v = x[g];")
    for i in range(calls):
        out.append("    v = h(v, %du);" % i)
        out.append("    if (v == %du) { y[g] = v; return; }" % i)
    out.append("    y[g] = v;")
    out.append("}")
    return "\n".join(out) + "\n"


def cfgfuzz(seed):
    r = subprocess.run([sys.executable, os.path.join(HERE, "cfgfuzz.py"), "--print=%d" % seed],
                       stdout=subprocess.PIPE, text=True, check=True)
    return r.stdout


TOO_LARGE = "too large for SPIR-V"
# name, source, dckc options, seconds, MiB of address space, expected: None (compiles) or a
# message of the error it must end with
CASES = [
    ("cfgfuzz seed 1021 (200 s and 8.3 GB once)", lambda: cfgfuzz(1021), ["--target=spirv"], 10, 512, None),
    ("cfgfuzz seed 1021, OpenCL environment", lambda: cfgfuzz(1021), ["--target=spirv", "--spirv-env=opencl"], 10, 512, None),
    ("cfgfuzz seed 12 (56 s and 3.5 GB once)", lambda: cfgfuzz(12), ["--target=spirv"], 10, 512, None),
    ("cfgfuzz seed 12, MSL", lambda: cfgfuzz(12), ["--target=msl"], 10, 512, None),
    # 4096 inlined copies of a one-loop helper: 2 GB for OpenCL C before
    ("4096 inlined loops, OpenCL C", lambda: helper_calls(1, 4, 4096), ["--target=opencl"], 30, 1024, None),
    ("4096 inlined loops, CUDA C", lambda: helper_calls(1, 4, 4096), ["--target=cuda"], 30, 1024, None),
    # 256 copies of a helper with 8 nested loops: 717 MB for OpenCL C, 822 MB and 15 s for SPIR-V
    ("256 inlined 8-deep loop nests, MSL", lambda: helper_calls(8, 4, 256), ["--target=msl"], 30, 512, None),
    ("256 inlined 8-deep loop nests, SPIR-V (refused)", lambda: helper_calls(8, 4, 256), ["--target=spirv"], 30, 768,
     TOO_LARGE),
    # over the SPIR-V limit: a quick, clear error (157 s and 2.3 GB before)
    ("4096 inlined loops, SPIR-V (refused)", lambda: helper_calls(1, 4, 4096), ["--target=spirv"], 30, 1024,
     TOO_LARGE),
    ("4096 inlined loops, package for every target (refused)", lambda: helper_calls(1, 4, 4096),
     ["--emit=package", "--target=c,opencl,spirv,msl"], 60, 1536, TOO_LARGE),
    # just under it: validated in a few seconds
    ("800 inlined loops, SPIR-V (16 000 blocks)", lambda: helper_calls(1, 4, 800), ["--target=spirv"], 60, 768, None),
    ("deep nesting: 64 loops in one another", lambda: helper_calls(64, 4, 1), ["--target=spirv"], 20, 512, None),
]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dckc")
    ap.add_argument("--sanitized", action="store_true")
    ap.add_argument("--keep")
    a = ap.parse_args()
    tmp = a.keep or tempfile.mkdtemp(prefix="dck-cfgb-")
    os.makedirs(tmp, exist_ok=True)
    failed = 0
    for i, (name, make, opts, secs, mib, want) in enumerate(CASES):
        path = os.path.join(tmp, "c%d.dck" % i)
        with open(path, "w") as f:
            f.write(make())
        limit = None if a.sanitized else mib * MB
        secs = secs * 5 if a.sanitized else secs

        def cap():
            if limit:
                resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

        t0 = time.time()
        try:
            p = subprocess.run([a.dckc, *opts, path, "-o", os.path.join(tmp, "c%d.out" % i)],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               timeout=secs, preexec_fn=cap)
            rc, out = p.returncode, p.stdout
        except subprocess.TimeoutExpired:
            rc, out = None, ""
        dt = time.time() - t0
        if rc is None:
            why = "did not finish in %d s" % secs
        elif want is None and rc != 0:
            why = "exit status %d%s: %s" % (rc, " (out of its %d MiB?)" % mib if limit else "",
                                           out.strip()[-600:])
        elif want is not None and (rc != 1 or want not in out):
            why = "expected exit status 1 and '%s', got %d: %s" % (want, rc, out.strip()[-600:])
        else:
            why = None
        print("%s %s (%.1f s%s)" % ("ok  " if not why else "FAIL", name, dt,
                                    ", %d MiB allowed" % mib if limit else ""))
        if why:
            print("     " + why + "\n     dckc %s %s" % (" ".join(opts), path))
            failed += 1
    print("cfg bounds: %d of %d cases within their bounds" % (len(CASES) - failed, len(CASES)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
