#!/usr/bin/env python3
"""Writes tests/fuzz/corpus-runtime: seed programs for fuzz_runtime.c, deterministic (fixed
seeds). Each seed is a run of operations (one byte each, see fuzz_runtime.c) with random
operand bytes: every operation kind in every seed file family, so that the replay in ctest
reaches each entry point with bad arguments. Usage: make_runtime_corpus.py [OUT_DIR]"""
import os
import random
import sys

out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus-runtime")
os.makedirs(out, exist_ok=True)
NOPS = 12
n = 0
for family in range(NOPS + 4):
    for seed in range(8):
        rng = random.Random(family * 1000 + seed)
        data = bytearray()
        # buffers first (most operations need one), then the family's operation many times
        for _ in range(3):
            data.append(0)
            data += bytes(rng.randrange(256) for _ in range(24))
        for _ in range(rng.randrange(4, 16)):
            op = family if family < NOPS else rng.randrange(NOPS)
            data.append(op)
            data += bytes(rng.randrange(256) for _ in range(rng.randrange(8, 48)))
        with open(os.path.join(out, "seed-%02d-%d" % (family, seed)), "wb") as f:
            f.write(bytes(data))
        n += 1
print("wrote %d seeds to %s" % (n, out))
