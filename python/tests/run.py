#!/usr/bin/env python3
"""Runs the dck package's pytest suite for ctest against a build: the package from python/,
libdckrt and dckc from the build. Exit 77 (ctest: skipped) when this interpreter lacks
numpy or pytest, saying so; scripts/setup.sh installs both (python3-numpy, python3-pytest).
Usage: run.py LIBDCKRT DCKC [pytest arguments...]"""
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
missing = []
for mod in ("numpy", "pytest"):
    try:
        __import__(mod)
    except ImportError:
        missing.append(mod)
if missing:
    print("SKIPPED: %s has no %s (Debian: apt-get install python3-numpy python3-pytest, or "
          "scripts/setup.sh)" % (sys.executable, " and ".join(missing)))
    sys.exit(77)
env = dict(os.environ, DCK_LIBRARY=os.path.abspath(sys.argv[1]),
           DCKC=os.path.abspath(sys.argv[2]), PYTHONDONTWRITEBYTECODE="1")
cmd = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-ra", "-q"] + \
    (sys.argv[3:] or [HERE])
print(" ".join(cmd), flush=True)
sys.exit(subprocess.run(cmd, env=env, cwd=HERE).returncode)
