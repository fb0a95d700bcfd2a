#!/usr/bin/env python3
"""Regenerates tests/fuzz/corpus-package: the seed corpus of the .dckpkg reader fuzzer.

    tests/fuzz/make_package_corpus.py DCKC

Valid packages of a few tests/exec kernels (every target of this dckc, checked and not), and
mutants of one of them that each exercise one rejection: truncated, trailing bytes, corrupted
contents (checksum), a future format version, and structural errors behind a correct checksum
(section out of range, count mismatch, string out of the table, unterminated string table,
parameter range, blob out of range, blobs out of order, unknown flags). The fuzzer's replay
(ctest fuzz_replay_package_corpus) must run them all without a sanitizer report.
"""
import os
import struct
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
OUT = os.path.join(HERE, "corpus-package")
HEADER = 80 + 16 * 7
SEC = {"strings": 0, "kernels": 1, "pipelines": 2, "params": 3, "code": 4, "consts": 5, "blobs": 6}


def fnv(data):
    h = 0xcbf29ce484222325
    for b in data:
        h = ((h ^ b) * 0x100000001b3) & 0xffffffffffffffff
    return h


def seal(b):
    """Sets the file size and checksum fields of a package image."""
    b = bytearray(b)
    b[16:24] = struct.pack("<Q", len(b))
    b[24:32] = b"\0" * 8
    b[24:32] = struct.pack("<Q", fnv(b))
    return bytes(b)


def section(b, name):
    off, size = struct.unpack_from("<QQ", b, 80 + 16 * SEC[name])
    return off, size


def compile_pkg(dckc, src, args):
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "p.dckpkg")
        subprocess.run([dckc, "--emit=package", "--target=all", *args, src, "-o", out], check=True)
        return open(out, "rb").read()


def main():
    dckc = sys.argv[1]
    os.makedirs(OUT, exist_ok=True)
    for f in os.listdir(OUT):
        os.remove(os.path.join(OUT, f))
    files = {}
    for name in ["saxpy", "pipeline3", "matmul_tiled", "features", "histogram"]:
        src = os.path.join(ROOT, "tests", "exec", name + ".dck")
        if os.path.exists(src):
            files["valid-" + name] = compile_pkg(dckc, src, [])
    files["valid-saxpy-checked"] = compile_pkg(dckc, os.path.join(ROOT, "tests", "exec", "saxpy.dck"), ["--checked", "-O0"])
    base = files["valid-pipeline3"]

    def put(name, data):
        files["bad-" + name] = data

    put("empty", b"")
    put("magic-only", base[:8])
    put("header-only", base[:HEADER])
    put("truncated-half", base[: len(base) // 2])
    put("trailing", base + b"\0\0\0\0")
    corrupt = bytearray(base)
    corrupt[len(corrupt) - 3] ^= 0x55
    put("checksum", bytes(corrupt))
    b = bytearray(base)
    b[8:12] = struct.pack("<I", 2)
    put("future-version", seal(b))
    b = bytearray(base)
    b[32:36] = struct.pack("<I", 99)
    put("future-abi", seal(b))
    b = bytearray(base)
    struct.pack_into("<Q", b, 80 + 16 * SEC["code"], len(base) + 64)
    put("section-outside", seal(b))
    b = bytearray(base)
    struct.pack_into("<I", b, 40, struct.unpack_from("<I", b, 40)[0] + 1)  # nkernels + 1
    put("count-mismatch", seal(b))
    b = bytearray(base)
    off, _ = section(b, "kernels")
    struct.pack_into("<I", b, off, 0x7fffff00)  # kernel name outside the string table
    put("string-outside", seal(b))
    b = bytearray(base)
    off, size = section(b, "strings")
    b[off + size - 1] = ord("x")  # string table without its final NUL
    put("strings-unterminated", seal(b))
    b = bytearray(base)
    off, _ = section(b, "kernels")
    struct.pack_into("<I", b, off + 8, 0xffffffff)  # nparams of kernel 0
    put("param-range", seal(b))
    b = bytearray(base)
    off, _ = section(b, "params")
    struct.pack_into("<I", b, off + 16, 9)  # vec of param 0
    put("param-vec", seal(b))
    b = bytearray(base)
    off, _ = section(b, "pipelines")
    struct.pack_into("<I", b, off + 24, 0xfffffff0)  # ncode of pipeline 0
    put("code-range", seal(b))
    b = bytearray(base)
    off, _ = section(b, "blobs")
    struct.pack_into("<Q", b, off + 16, len(base))  # size of blob 0
    put("blob-outside", seal(b))
    b = bytearray(base)
    off, _ = section(b, "blobs")
    boff, bsize = struct.unpack_from("<QQ", b, off + 8)
    b[boff + bsize] = ord("x")  # text blob without its NUL
    put("blob-unterminated", seal(b))
    b = bytearray(base)
    b[36:40] = struct.pack("<I", 0x80)
    put("flags", seal(b))
    multi = files.get("valid-features")
    if multi:
        b = bytearray(multi)
        off, size = section(b, "blobs")
        if size >= 48:  # swap the first two blob records: out of order
            r0, r1 = bytes(b[off:off + 24]), bytes(b[off + 24:off + 48])
            b[off:off + 24], b[off + 24:off + 48] = r1, r0
            put("blobs-order", seal(b))
    for name, data in sorted(files.items()):
        with open(os.path.join(OUT, name + ".dckpkg"), "wb") as f:
            f.write(data)
    print(f"{len(files)} files in {os.path.relpath(OUT, ROOT)}")


if __name__ == "__main__":
    main()
