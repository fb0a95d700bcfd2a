#!/usr/bin/env python3
"""Derive the polynomial coefficients of the SPIR-V backend's accurate float math (Vulkan).

codegen/cg_spirv_fn.c computes exp, log, log2, asin, acos, atan, atan2, sinh, cosh and tanh
as a range reduction plus a polynomial on the reduced interval. This script fits every one of
those polynomials itself: a weighted least-squares fit on Chebyshev nodes of the reduced
interval, minimizing the relative error of the whole function, refined towards the minimax
fit by Lawson's iteration (the weights are multiplied by the current residual). The fit runs
in 40-digit arithmetic (mpmath); the report gives the maximum relative error of the fit on a
dense grid with the coefficients as float64 and after rounding them to float32 (what the
SPIR-V constants hold). It also derives the splitting constants of the range reductions.

Usage: python3 scripts/fit_coeffs.py     (deterministic; its output is pasted into
cg_spirv_fn.c; needs mpmath: pip install mpmath)
"""
import struct

import mpmath as mp

mp.mp.dps = 40
NODES = 160
LAWSON_ITERS = 60
GRID = 4000


def f32(v):
    return struct.unpack("<f", struct.pack("<f", float(v)))[0]


def cheb_nodes(a, b, n):
    return [mp.mpf(a + b) / 2 + mp.mpf(b - a) / 2 * mp.cos(mp.pi * (2 * k + 1) / (2 * n))
            for k in range(n)]


def fit(spec):
    """spec: lo, hi (interval of the polynomial variable u), n (coefficients), and
    basis(u) -> (scale, offset, exact): the approximation is offset + scale * P(u) and the
    relative error (offset + scale * P(u) - exact) / exact is minimized."""
    n = spec["n"]
    us = cheb_nodes(spec["lo"], spec["hi"], NODES)
    rows, rhs = [], []
    for u in us:
        s, off, ex = spec["basis"](u)
        rows.append([s * u ** j / ex for j in range(n)])
        rhs.append((ex - off) / ex)
    w = [mp.mpf(1)] * len(us)
    c = None
    for _ in range(LAWSON_ITERS):
        A = mp.matrix(n, n)
        y = mp.matrix(n, 1)
        for r, b, wi in zip(rows, rhs, w):
            for i in range(n):
                y[i] += wi * r[i] * b
                for j in range(n):
                    A[i, j] += wi * r[i] * r[j]
        c = mp.lu_solve(A, y)
        res = [abs(sum(r[j] * c[j] for j in range(n)) - b) for r, b in zip(rows, rhs)]
        tot = sum(wi * ri for wi, ri in zip(w, res))
        w = [wi * ri / tot for wi, ri in zip(w, res)]
    return [c[j] for j in range(n)]


def max_rel(spec, coef):
    lo, hi, worst = mp.mpf(spec["lo"]), mp.mpf(spec["hi"]), mp.mpf(0)
    for k in range(GRID + 1):
        u = lo + (hi - lo) * k / GRID
        s, off, ex = spec["basis"](u)
        if ex == 0:
            continue
        p = mp.mpf(0)
        for cj in reversed(coef):
            p = p * u + cj
        worst = max(worst, abs((off + s * p - ex) / ex))
    return worst


SQH = mp.sqrt(mp.mpf(1) / 2)
T8 = mp.tan(mp.pi / 8)

SPECS = [
    # exp(r) = 1 + r + r^2 P(r), r in [-ln2/2, ln2/2] (after x = n ln2 + r)
    ("EXP", "m_exp", dict(lo=-mp.log(2) / 2, hi=mp.log(2) / 2, n=6,
                          basis=lambda r: (r * r, 1 + r, mp.exp(r)))),
    # log(1+x) = x - x^2/2 + x^3 P(x), x in [sqrt(1/2) - 1, sqrt(2) - 1]
    ("LOG", "m_log", dict(lo=SQH - 1, hi=mp.sqrt(2) - 1, n=9,
                          basis=lambda x: (x ** 3, x - x * x / 2, mp.log1p(x)))),
    # atan(x) = x + x^3 P(x^2), |x| <= tan(pi/8); u = x^2
    ("ATAN", "atan_pos", dict(lo=0, hi=T8 ** 2, n=4,
                              basis=lambda z: (mp.sqrt(z) * z, mp.sqrt(z), mp.atan(mp.sqrt(z))))),
    # asin(x) = x + x^3 P(x^2), |x| <= 1/2; u = x^2
    ("ASIN", "asin_pos", dict(lo=0, hi=mp.mpf(1) / 4, n=5,
                              basis=lambda z: (mp.sqrt(z) * z, mp.sqrt(z), mp.asin(mp.sqrt(z))))),
    # sinh(x) = x + x^3 P(x^2), |x| <= 1; u = x^2
    ("SINH", "m_sinh_cosh_tanh", dict(lo=0, hi=1, n=4,
                                      basis=lambda z: (mp.sqrt(z) * z, mp.sqrt(z), mp.sinh(mp.sqrt(z))))),
    # tanh(x) = x + x^3 P(x^2), |x| <= 0.625; u = x^2
    ("TANH", "m_sinh_cosh_tanh", dict(lo=0, hi=mp.mpf(0.625) ** 2, n=5,
                                      basis=lambda z: (mp.sqrt(z) * z, mp.sqrt(z), mp.tanh(mp.sqrt(z))))),
]


def main():
    print("/* polynomial coefficients, highest power first (Horner order) */")
    for name, where, spec in SPECS:
        c = fit(spec)
        c32 = [mp.mpf(f32(v)) for v in c]
        e64 = max_rel(spec, [mp.mpf(float(v)) for v in c])
        e32 = max_rel(spec, c32)
        print("/* %s (%s): %d coefficients on [%.9g, %.9g]; max relative error\n"
              " * %.3e (float64 coefficients), %.3e (rounded to float32) */"
              % (name, where, spec["n"], float(spec["lo"]), float(spec["hi"]), float(e64), float(e32)))
        vals = ["%.9e" % f32(v) for v in reversed(c32)]
        lines = [", ".join(vals[i:i + 4]) for i in range(0, len(vals), 4)]
        print("static const double MF_%s_P[] = {%s};" % (name, ",\n    ".join(lines)))
    # splitting constants: ln2 = LN2_HI + LN2_LO with LN2_HI = ln2 rounded to 9 bits after the
    # point, so n * LN2_HI is exact in float for |n| < 2^15
    ln2 = mp.log(2)
    hi = mp.nint(ln2 * 512) / 512
    print("/* Cody-Waite split of ln 2 (9 fraction bits in the high part) */")
    print("#define MF_LN2_HI %.17g" % float(hi))
    print("#define MF_LN2_LO %.17g" % float(ln2 - hi))
    print("#define MF_LOG2E %.17g /* 1/ln 2 */" % float(1 / ln2))
    print("#define MF_LOG2E_M1 %.17g /* 1/ln 2 - 1 */" % float(1 / ln2 - 1))
    print("#define MF_SQRT_HALF %.17g" % float(SQH))
    print("#define MF_TAN_PI_8 %.17g /* sqrt 2 - 1 */" % float(T8))
    print("#define MF_TAN_3PI_8 %.17g /* sqrt 2 + 1 */" % float(mp.tan(3 * mp.pi / 8)))
    print("#define MF_PI %.17g" % float(mp.pi))
    print("#define MF_PI_2 %.17g" % float(mp.pi / 2))
    print("#define MF_PI_4 %.17g" % float(mp.pi / 4))
    print("#define MF_TANH_ONE %.9g /* above: tanh rounds to 1 in float (2 e^-2x < 2^-25) */"
          % float(mp.ceil(13 * ln2 * 2 ** 20) / 2 ** 20))
    print("#define MF_EXP_LO %.17g /* below: exp underflows to 0 in float (ln 2^-150 rounded down) */"
          % float(mp.floor(mp.log(mp.mpf(2) ** -150))))
    print("#define MF_EXP_HI %.17g /* above: exp overflows float (ln FLT_MAX rounded up) */"
          % float(mp.ceil(mp.log((2 - mp.mpf(2) ** -23) * mp.mpf(2) ** 127))))


if __name__ == "__main__":
    main()
