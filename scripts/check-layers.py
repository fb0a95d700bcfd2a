#!/usr/bin/env python3
"""check-layers.py: the project's folders import one way.

Layers, bottom up (a file may include headers of its own folder and of the layers below):
  base      arena, strings, files, the type and builtin tables
  abi       the kernel ABI and package format shared by codegen and the runtime (self-contained)
  lang      the frontend
  compiler  the IR, its analyses and passes, lowering
  codegen   the backends
  driver    the compiler as a library (dckc.h) and the dckc command
  runtime   libdckrt and dckrun: reaches the compiler only through driver/dckc.h
Cross-folder includes are written from the repository root ("base/util.h"), never with "../".
Exit 0 when every #include "..." in those folders keeps the rules; else each offence is printed.
"""
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RANK = {"base": 0, "abi": 0, "lang": 1, "compiler": 2, "codegen": 3, "driver": 4, "runtime": 5}
# what each folder may include beyond its own files (None: every lower layer)
ALLOWED = {
    "base": {"base"},
    "abi": {"abi"},
    "runtime": {"base", "abi", "runtime", "driver/dckc.h"},
}
GENERATED = {"lang": {"parser.h", "lexer.h"}}
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def allowed(src_dir, target):
    tdir = target.split("/")[0]
    rules = ALLOWED.get(src_dir)
    if rules is not None:
        return tdir in rules or target in rules
    return tdir in RANK and RANK[tdir] <= RANK[src_dir] and tdir != "runtime"


def main():
    bad = []
    nfiles = nincl = 0
    for d in RANK:
        for dirpath, _, names in os.walk(os.path.join(ROOT, d)):
            for n in sorted(names):
                if not n.endswith((".c", ".h", ".inc", ".m", ".l", ".y", ".def")):
                    continue
                path = os.path.join(dirpath, n)
                rel = os.path.relpath(path, ROOT)
                here = os.path.dirname(rel)
                nfiles += 1
                with open(path, encoding="utf-8", errors="replace") as f:
                    text = f.read()
                for m in INCLUDE.finditer(text):
                    inc = m.group(1)
                    nincl += 1
                    line = text.count("\n", 0, m.start()) + 1
                    where = "%s:%d: #include \"%s\"" % (rel, line, inc)
                    if ".." in inc.split("/"):
                        bad.append(where + ": write cross-folder includes from the root, not with '..'")
                        continue
                    if "/" not in inc:
                        if os.path.exists(os.path.join(ROOT, here, inc)):
                            continue
                        if d == "runtime" and os.path.exists(os.path.join(ROOT, "runtime/include", inc)):
                            continue
                        if inc in GENERATED.get(d, ()):
                            continue
                        bad.append(where + ": not a file of %s/" % here)
                        continue
                    if not os.path.exists(os.path.join(ROOT, inc)):
                        bad.append(where + ": no such file in the tree")
                        continue
                    if not allowed(d, inc):
                        bad.append(where + ": %s/ may not include from %s" % (d, inc.split("/")[0]))
    for b in bad:
        print(b)
    print("check-layers: %d files, %d includes, %d offences" % (nfiles, nincl, len(bad)))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
