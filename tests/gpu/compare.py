#!/usr/bin/env python3
"""compare.py A B: compares two `dckrun --print` outputs number by number.

Integers must match exactly; floats within a relative tolerance of 1e-4 (absolute 1e-5 near
zero): the GPU's libdevice math differs from glibc by a few ulp and atomics add in another
order. Prints the first differences; exit status 0 when equal, 1 otherwise."""
import re
import sys

NUM = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?|[-+]?(?:inf|nan)")


def lines(path):
    out = {}
    with open(path) as f:
        for line in f:
            if ":" not in line:
                continue
            name, rest = line.split(":", 1)
            vals = rest.split("=", 1)[1] if "=" in rest else rest
            out[name.strip()] = NUM.findall(vals)
    return out


def main():
    a, b = lines(sys.argv[1]), lines(sys.argv[2])
    bad = 0
    for name in sorted(set(a) | set(b)):
        x, y = a.get(name), b.get(name)
        if x is None or y is None or len(x) != len(y):
            print(f"  {name}: missing or of another length ({len(x or [])} vs {len(y or [])})")
            bad += 1
            continue
        for i, (u, v) in enumerate(zip(x, y)):
            if u == v:
                continue
            try:
                fu, fv = float(u), float(v)
            except ValueError:
                fu = fv = None
            floaty = "." in u or "." in v or "e" in u.lower() or "n" in u.lower()
            if fu is not None and floaty and abs(fu - fv) <= max(1e-5, 1e-4 * max(abs(fu), abs(fv))):
                continue
            print(f"  {name}[{i}]: {u} vs {v}")
            bad += 1
            if bad > 8:
                print("  ...")
                return 1
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
