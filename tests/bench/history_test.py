#!/usr/bin/env python3
"""bench/history.py on made-up histories: a run whose DCK/peer ratio drops by 40 %, 20 % or 8 %
is reported severe, moderate or minor, and the exit status follows --fail-on; a run where DCK
and its peer both slow down by half (a noisy moment) is no regression; another machine's runs
are not a baseline; a drop inside the baseline's own spread is not minor."""
import json
import os
import subprocess
import sys
import tempfile

root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
tool = os.path.join(root, "bench", "history.py")
tmp = tempfile.mkdtemp(prefix="dck-history-")
fails = 0


def run_of(dck, peer, cpu="AMD EPYC", date="2026-12-01 00:00 UTC", extra=None):
    kernels = [{"bench": "saxpy", "impl": "dck", "unit": "GB/s", "ms": 1.0, "metric": dck, "status": "ok"},
               {"bench": "saxpy", "impl": "c-omp", "unit": "GB/s", "ms": 1.0, "metric": peer, "status": "ok"}]
    kernels += extra or []
    return {"machine": {"cpu": cpu, "cores": 2, "date": date}, "kernels": kernels, "compile": {"rows": []}}


def history(runs, name):
    path = os.path.join(tmp, name + ".jsonl")
    for i, r in enumerate(runs):
        d = os.path.join(tmp, "%s-%d" % (name, i))
        os.makedirs(d)
        json.dump(r, open(os.path.join(d, "results.json"), "w"))
        subprocess.run([sys.executable, tool, "append", d, "--history", path, "--commit", "c%d" % i],
                       check=True, capture_output=True)
    return path


def report(path, fail_on="severe"):
    p = subprocess.run([sys.executable, tool, "report", "--history", path, "--fail-on", fail_on],
                       capture_output=True, text=True)
    return p.returncode, p.stdout


def expect(what, cond, out):
    global fails
    if not cond:
        fails += 1
        print("FAIL: %s\n%s" % (what, out))


base = [run_of(30, 40), run_of(30.3, 40), run_of(29.7, 40)]  # ratio 0.75, spread 2 %
for drop, level in ((0.40, "SEVERE"), (0.20, "MODERATE"), (0.08, "MINOR")):
    h = history(base + [run_of(30 * (1 - drop), 40)], "drop%d" % int(drop * 100))
    rc, out = report(h)
    expect("a drop of %d %% is %s" % (drop * 100, level), level in out and "saxpy dck/c-omp" in out, out)
    expect("--fail-on=severe: exit %d for %s" % (level == "SEVERE", level), rc == (1 if level == "SEVERE" else 0), out)
    rc, out = report(h, "minor")
    expect("--fail-on=minor: exit 1 for %s" % level, rc == 1, out)
    rc, out = report(h, "never")
    expect("--fail-on=never: exit 0", rc == 0, out)

h = history(base + [run_of(15, 20)], "noisy")  # both halved: the ratio holds
rc, out = report(h, "minor")
expect("DCK and its peer slowed alike: no regression", rc == 0 and "0 severe, 0 moderate, 0 minor" in out, out)

h = history([run_of(30, 40, cpu="Other CPU")] * 3 + [run_of(15, 40)], "othermachine")
rc, out = report(h, "minor")
expect("another machine is no baseline", rc == 0 and "median of 0 earlier" in out, out)

wide = [run_of(30, 40), run_of(27, 40), run_of(33, 40)]  # spread 20 %
h = history(wide + [run_of(28, 40)], "spread")  # a 7 % drop within that spread
rc, out = report(h, "minor")
expect("a drop inside the baseline's spread is not minor", rc == 0, out)

p = subprocess.run([sys.executable, tool, "report", "--history", os.path.join(tmp, "none.jsonl")],
                   capture_output=True, text=True)
expect("an empty history: exit 2", p.returncode == 2, p.stderr)

# the history kept in the repository parses and names its machine and commit
with open(os.path.join(root, "bench", "history.jsonl")) as f:
    lines = [json.loads(l) for l in f if l.strip()]
expect("bench/history.jsonl has entries with commit, machine and ratios",
       lines and all(e.get("commit") and e["machine"].get("cpu") and e.get("ratios") for e in lines), "")

subprocess.run(["rm", "-rf", tmp])
print("history: %d failures" % fails)
sys.exit(1 if fails else 0)
