#!/usr/bin/env python3
"""Runs docs/tutorial.md as a reader would: every ```sh block is run in order in one shell
(HOME is a fresh folder, so `~/dck-tutorial` and `~/dck` are too), every ```c block that opens
with a file name comment (`// saxpy.dck`) is saved under that name where the reader works
first, and every block of `$ command` plus its expected output is run and its output compared
(whitespace folded; the device's name may differ). Exit 0: the page works verbatim.
Usage: tests/docs/tutorial.py BUILD_DIR   (from the repository root)"""
import os
import re
import subprocess
import sys
import tempfile

root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
build = os.path.abspath(sys.argv[1]) if len(sys.argv) > 1 else os.path.join(root, "build")
page = open(os.path.join(root, "docs", "tutorial.md")).read()
blocks = re.findall(r"```(\w*)\n(.*?)```", page, re.S)

home = tempfile.mkdtemp(prefix="dck-tutorial-")
env = dict(os.environ, HOME=home)
script = ["set -e", "cd " + root]  # the page starts in the repository root
fails = []
ncmd = 0
for lang, body in blocks:
    first = body.split("\n", 1)[0].strip()
    m = re.fullmatch(r"//\s*([\w.-]+\.dck)", first)
    if lang == "c" and m:
        # a file to save where the reader works (the folder the shell is in at that point)
        script.append("cat > %s <<'DCK_EOF'\n%sDCK_EOF" % (m.group(1), body))
    elif lang == "sh":
        for line in body.splitlines():
            cmd = line.split("#")[0].strip() if not line.lstrip().startswith("cc ") else line.strip()
            if cmd:
                ncmd += 1
                script.append(cmd)
    elif lang == "" and body.lstrip().startswith("$ "):
        lines = body.strip().splitlines()
        cmd = lines[0][2:]
        want = " ".join(" ".join(lines[1:]).split())
        script.append("{ %s; } > .out 2>&1 || true" % cmd)
        script.append("echo '@@%d'; cat .out" % len(fails + [None]))
        fails.append(want)
text = "\n".join(script)
if build != os.path.join(root, "build"):  # a build folder elsewhere: the tools are there
    text = text.replace("$PWD/build/", build + "/").replace("$DCK/build", build)
res = subprocess.run(["bash", "-c", text], env=env, capture_output=True, text=True,
                     timeout=600)
out = res.stdout + res.stderr
bad = 0
if res.returncode != 0:
    print(out[-3000:])
    print("FAIL: a command of the tutorial failed (exit %d)" % res.returncode)
    bad += 1
for k, want in enumerate(fails, 1):
    m = re.search(r"@@%d\n(.*?)(?=@@\d+\n|\Z)" % k, res.stdout, re.S)
    got = " ".join(m.group(1).split()) if m else ""
    dev = re.compile(r"\(device '[^']*'\)")
    if dev.sub("(device)", want) not in dev.sub("(device)", got):
        print("FAIL: expected output %d:\n  want: %s\n  got:  %s" % (k, want, got))
        bad += 1
for must in ["saxpy.c", "saxpy_host"]:
    if not os.path.exists(os.path.join(home, "dck-tutorial", must)):
        print("FAIL: ~/dck-tutorial/%s was not made" % must)
        bad += 1
if "correct" not in res.stdout:
    print(res.stdout[-2000:])
    print("FAIL: the C program did not say 'correct'")
    bad += 1
print("tutorial: %d commands, %d expected outputs, %d failures" % (ncmd, len(fails), bad))
subprocess.run(["rm", "-rf", home])
sys.exit(1 if bad else 0)
