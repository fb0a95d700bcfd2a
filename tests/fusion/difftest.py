#!/usr/bin/env python3
"""Differential test of pipeline fusion: random pipelines run at -O0 (never fused) and -O2
(fused where the pass finds it legal) through dckrun must give bit-identical outputs.

Each pipeline chains 2-6 launches of kernels from a pool (own-index elementwise, in-place
update, neighbour read, a barrier/shared-memory block sum, a 2-input combine) through
temporaries and output buffers, with sizes that sometimes differ (len(in1) is N or N + 3),
launches sometimes under an `if` or in a loop, and scalar arguments that are constants,
parameters or changing locals. Every temporary is written before it is read, so the
program is deterministic. The fusion report of each program is also checked to be
byte-identical over two compilations.

usage: difftest.py DCKRUN DCKC [--count N] [--seed S] [--keep DIR]
"""
import argparse
import os
import random
import subprocess
import sys
import tempfile

N = 96  # a multiple of the block kernel's work-group size

KERNELS = """
kernel void ew(float a, const float[] x, float[] y) {
    uint i = global_id(0);
    if (i < len(y)) y[i] = a * x[i] + 0.25;
}
kernel void upd(float a, const float[] x, float[] y) {
    uint i = global_id(0);
    if (i < len(y)) y[i] = y[i] * 0.5 + a * x[i];
}
kernel void nb(const float[] x, float[] y) {
    uint i = global_id(0);
    if (i < len(y)) {
        if (i + 1 < len(y)) y[i] = x[i + 1] - x[i];
        else y[i] = x[i];
    }
}
kernel void comb(const float[] x, const float[] z, float[] y) {
    uint i = global_id(0);
    if (i < len(y)) y[i] = max(x[i], z[i]) - 0.5 * min(x[i], z[i]);
}
[[workgroup(32)]]
kernel void blk(const float[] x, float[] y) {
    shared float s[32];
    uint l = local_id(0), i = global_id(0);
    s[l] = x[i];
    barrier();
    float t = 0.0;
    for (uint k = 0; k < 32; k++) t += s[k];
    y[i] = t / 32.0 + x[i];
}
"""


def gen(r, name):
    temps = ["t%d" % k for k in range(r.randint(1, 3))]
    written = ["in0", "in1"]
    lines = []
    lines.append("    float k = 1.0;")
    for t in temps:
        lines.append("    float %s[len(in0)];" % t)
    dsts = temps + ["out0", "out1"]
    nlaunch = r.randint(2, 6)
    for _ in range(nlaunch):
        kern = r.choice(["ew", "ew", "upd", "nb", "comb", "ew", "blk"])
        dst = r.choice(dsts)
        if kern == "upd" and dst not in written:
            kern = "ew"
        srcs = [w for w in written if w != dst]
        x = r.choice(srcs)
        size = r.choice(["len(in0)", "len(in0)", "len(%s)" % dst, "len(in1)"])
        if kern == "blk":
            size = "len(in0)"
        scal = r.choice(["1.5", "s", "k"])
        if kern in ("ew", "upd"):
            call = "%s<<<%s>>>(%s, %s, %s);" % (kern, size, scal, x, dst)
        elif kern == "comb":
            z = r.choice(srcs)
            call = "comb<<<%s>>>(%s, %s, %s);" % (size, x, z, dst)
        elif kern == "blk":
            call = "blk<<<%s, 32>>>(%s, %s);" % (size, x, dst)
        else:
            call = "nb<<<%s>>>(%s, %s);" % (size, x, dst)
        shape = r.random()
        if shape < 0.1 and dst in written:
            lines.append("    if (s > 0.0) { %s }" % call)  # s > 0 in every run: always taken
        elif shape < 0.2 and dst in written:
            lines.append("    for (int j = 0; j < 2; j++) { %s }" % call)
        else:
            lines.append("    " + call)
        if r.random() < 0.15:
            lines.append("    k = k + 1.0;")
        if dst not in written:
            written.append(dst)
    body = "\n".join(lines)
    return "pipeline %s(float s, const float[] in0, const float[] in1, float[] out0, float[] out1) {\n%s\n}\n" % (
        name, body)


def run(cmd):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    return p.returncode, p.stdout.decode(errors="replace")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dckrun")
    ap.add_argument("dckc")
    ap.add_argument("--count", type=int, default=10)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--keep")
    a = ap.parse_args()
    r = random.Random(a.seed)
    tmp = a.keep or tempfile.mkdtemp(prefix="dck-fusion-diff-")
    os.makedirs(tmp, exist_ok=True)
    fused_any = 0
    for n in range(a.count):
        src = os.path.join(tmp, "p%d.dck" % n)
        with open(src, "w") as f:
            f.write(KERNELS + gen(r, "p"))
        n1 = r.choice([N, N + 3])
        outs = {}
        for lvl in ("-O0", "-O2"):
            o0, o1 = os.path.join(tmp, "p%d%s.out0" % (n, lvl)), os.path.join(tmp, "p%d%s.out1" % (n, lvl))
            rc, log = run([a.dckrun, lvl, "--backend=cpu", src, "p", "s=1.5", "in0=rand:%d:1" % N,
                           "in1=rand:%d:2" % n1, "out0=zeros:%d" % N, "out1=zeros:%d" % N,
                           "--out=out0=" + o0, "--out=out1=" + o1])
            if rc != 0:
                print("FAIL %s at %s: dckrun exited %d\n%s" % (src, lvl, rc, log))
                return 1
            outs[lvl] = open(o0, "rb").read() + open(o1, "rb").read()
        if outs["-O0"] != outs["-O2"]:
            print("FAIL %s (len(in1) = %d): -O0 and -O2 outputs differ" % (src, n1))
            print(open(src).read())
            return 1
        reps = []
        for _ in range(2):
            rc, log = run([a.dckc, "--report=fusion", "--emit=ir", "-o", os.devnull, src])
            if rc != 0:
                print("FAIL %s: dckc exited %d\n%s" % (src, rc, log))
                return 1
            reps.append(log)
        if reps[0] != reps[1]:
            print("FAIL %s: the fusion report differs between two compilations" % src)
            return 1
        if "fused " in reps[0]:
            fused_any += 1
    print("%d random pipelines agree at -O0 and -O2 (%d with fused launches)" % (a.count, fused_any))
    if fused_any == 0:
        print("FAIL: no program fused anything: the test does not exercise fusion")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
