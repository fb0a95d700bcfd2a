#!/usr/bin/env python3
"""Differential test of the optimizer: random .dck kernels run at -O0, -O2, -O3 and -O2
with bounds checks (--checked) must give bit-identical results.

Each program is a kernel over int, uint, long and float values with loads at computed
indices, integer and float arithmetic, comparisons, casts, ternaries, if/else, bounded
loops with break/continue, local arrays, vectors with swizzles, and calls to a random
helper function. Everything is well defined in DCK: divisors are made non-zero and never
-1, shift counts are masked, indices are reduced modulo the buffer length, and float
expressions avoid operations whose rounding could depend on evaluation order.

usage: difftest.py DCKRUN [--dckc DCKC] [--count N] [--seed S] [--keep DIR]
With --dckc, each program's C at -O2 must also be byte-identical over three compilations
(determinism: no output may depend on addresses or hash order).
Exit status 0 when every program agrees; the first disagreeing program is printed.
"""
import argparse
import os
import random
import subprocess
import sys
import tempfile

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
                e = f"clamp({e}, -1000.0, 1000.0)"
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
            return f"({t})v.{self.pick('xyzw')}"
        return f"({t})({self.vexpr('int4', d + 1)}).{self.pick('xyzw')}"

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


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dckrun")
    ap.add_argument("--dckc")
    ap.add_argument("--count", type=int, default=20)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--keep")
    args = ap.parse_args()
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
