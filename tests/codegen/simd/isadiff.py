#!/usr/bin/env python3
"""Differential test of the SIMD variants: the random kernels of tests/fuzz/difftest.py
(int, uint, long and float arithmetic, computed indices, if/else, loops with break and
continue, local arrays, vectors, a helper call) run with DCK_CPU_ISA=scalar and with each
SIMD ISA this CPU has (sse4, avx2, avx512), at -O2 and -O2 --checked: the results must be
bit-identical. The launch is 97 work-items, so gangs end partly masked.

usage: isadiff.py DCKRUN [--count N] [--seed S] [--keep DIR]
Exit status 0 when every program agrees; the first disagreeing program is printed.
"""
import argparse
import importlib.util
import os
import random
import sys
import tempfile

here = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location("difftest", os.path.join(here, "..", "..", "fuzz", "difftest.py"))
difftest = importlib.util.module_from_spec(spec)
spec.loader.exec_module(difftest)


def cpu_isas():
    flags = set()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
                    break
    except OSError:
        pass
    isas = []
    if "sse4_2" in flags:
        isas.append("sse4")
    if "avx2" in flags and "fma" in flags:
        isas.append("avx2")
    if {"avx512f", "avx512bw", "avx512dq", "avx512vl"} <= flags:
        isas.append("avx512")
    if os.uname().machine == "aarch64":
        isas.append("neon")
    return isas


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dckrun")
    ap.add_argument("--count", type=int, default=8)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--keep")
    args = ap.parse_args()
    isas = cpu_isas()
    if not isas:
        print("SKIPPED: this CPU has no SIMD ISA the vectorizer targets")
        return 77
    tmp = args.keep or tempfile.mkdtemp(prefix="dck-isadiff-")
    os.makedirs(tmp, exist_ok=True)
    passed = 0
    for n in range(args.count):
        g = difftest.Gen(random.Random(args.seed * 100003 + n))
        src = os.path.join(tmp, f"p{n}.dck")
        with open(src, "w") as fh:
            fh.write(g.program())
        for level in ("-O2", "checked"):
            results = {}
            for isa in ["scalar"] + isas:
                os.environ["DCK_CPU_ISA"] = isa
                results[isa], err = difftest.run(args.dckrun, src, level, tmp)
                if results[isa] is None:
                    print(f"FAIL {src} ({isa}, {level}): the run failed:\n{err}")
                    return 1
            if len(set(results.values())) != 1:
                bad = [isa for isa in isas if results[isa] != results["scalar"]]
                print(f"FAIL {src} ({level}): {', '.join(bad)} differ from scalar")
                return 1
        passed += 1
    print(f"{passed} programs agree on scalar, {', '.join(isas)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
