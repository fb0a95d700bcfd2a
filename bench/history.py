#!/usr/bin/env python3
"""history.py: the performance history of the benchmark suite (bench/history.jsonl).

  history.py append RESULTS_DIR [--history FILE] [--commit SHA]
      appends one line for the run in RESULTS_DIR/results.json: the machine, the date, the
      commit, every figure with its peers of the same run, and the ratios DCK / peer.
  history.py report [--history FILE] [--plot FILE.png] [--fail-on minor|moderate|severe|never]
      compares the newest entry with the earlier entries of the same machine and prints the
      regressions in three levels. Exit status: 1 when a regression at or above --fail-on
      (default: severe) is found, 2 on bad input, else 0.

Why ratios: this machine is shared and noisy, and a slow moment slows DCK and its peers alike.
A figure is judged by its ratio to a peer measured in the same run (dck / gcc -O3 -fopenmp,
dck / PoCL, dck / Halide), so the noise of the moment cancels. The baseline of a ratio is its
median over the last BASELINE_RUNS earlier entries of the same machine (same CPU model and core
count); the change is ratio_now / baseline - 1. Levels (drops; gains are reported as such):

  minor     a drop of 5 % or more   (and beyond 2 x the baseline's own spread)
  moderate  a drop of 15 % or more
  severe    a drop of 30 % or more

Compile speed is the ratio of each peer's compile time in the same run (nvcc, clang-16 on the
same kernels as CUDA C / OpenCL C) to dckc's, per target; a run without that peer compares dckc's
CPU times directly, with the same levels on the slowdown, marked "absolute" in the report.
"""
import argparse
import datetime
import json
import os
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_HISTORY = os.path.join(HERE, "history.jsonl")
DCK_IMPLS = ["dck", "dck-scalar", "dck-opencl"]
PEERS = ["c-omp", "opencl", "halide"]
LEVELS = [("severe", 0.30), ("moderate", 0.15), ("minor", 0.05)]
BASELINE_RUNS = 5


def git_commit():
    try:
        sha = subprocess.run(["git", "-C", HERE, "rev-parse", "HEAD"], capture_output=True,
                             text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", HERE, "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True).stdout.strip()
        return sha + ("-dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def entry_of(results, commit):
    """One history line from a results.json (bench/report.py's merge of the run)."""
    figures = [r for r in results.get("kernels", []) if r.get("status") == "ok"]
    by = {(r["bench"], r["impl"]): r["metric"] for r in figures}
    ratios = {}
    for (bench, impl), v in sorted(by.items()):
        if impl not in DCK_IMPLS:
            continue
        for peer in PEERS:
            p = by.get((bench, peer))
            if p:
                ratios["%s %s/%s" % (bench, impl, peer)] = v / p
    # compile speed: against the peer of the same run (clang compiling OpenCL C) where it
    # was measured, else the CPU times themselves ("absolute")
    compile_ms = {}
    comp = results.get("compile", [])
    rows = [r for r in (comp.get("rows", []) if isinstance(comp, dict) else comp) if r.get("status") == "ok"]
    peers = [r for r in rows if not r["tool"].startswith("dckc") and r.get("one_cpu_ms")]
    for row in rows:
        if not row["tool"].startswith("dckc"):
            continue
        for peer in peers:
            if row.get("one_cpu_ms"):
                ratios["compile %s/%s" % (row["tool"].split()[-1], peer["tool"].split()[0])] = \
                    peer["one_cpu_ms"] / row["one_cpu_ms"]
        for key in ("one_cpu_ms", "per_extra_cpu_ms"):
            if not peers and isinstance(row.get(key), (int, float)):
                compile_ms["%s %s" % (row["tool"], key)] = row[key]
    m = results.get("machine", {})
    return {
        "date": m.get("date") or datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": commit,
        "machine": {"cpu": m.get("cpu", "?"), "cores": m.get("cores"), "threads_used": m.get("threads_used"),
                    "kernel": m.get("kernel"), "gcc": m.get("gcc"), "load": m.get("loadavg_at_report")},
        "figures": [{k: r[k] for k in ("bench", "impl", "unit", "ms", "metric")} for r in figures],
        "ratios": ratios,
        "compile_cpu_ms": compile_ms,
    }


def load(path):
    entries = []
    if not os.path.exists(path):
        return entries
    with open(path) as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            try:
                entries.append(json.loads(line))
            except json.JSONDecodeError as e:
                sys.exit("history.py: %s:%d: not JSON (%s)" % (path, n, e))
    return entries


def same_machine(a, b):
    return a["machine"].get("cpu") == b["machine"].get("cpu") and a["machine"].get("cores") == b["machine"].get("cores")


def level_of(drop, spread):
    """The level of a relative drop (0.2 = 20 % worse), or None."""
    for name, limit in LEVELS:
        if drop >= limit and (name != "minor" or drop > 2 * spread):
            return name
    return None


def compare(entries):
    """Findings for the newest entry: (level or None, key, now, base, change, kind)."""
    now = entries[-1]
    earlier = [e for e in entries[:-1] if same_machine(e, now)][-BASELINE_RUNS:]
    found = []
    if not earlier:
        return found, 0
    for kind, field, higher_better in (("ratio", "ratios", True), ("absolute", "compile_cpu_ms", False)):
        for key, v in sorted(now.get(field, {}).items()):
            past = [e[field][key] for e in earlier if key in e.get(field, {})]
            if not past or v <= 0:
                continue
            base = statistics.median(past)
            if base <= 0:
                continue
            spread = (max(past) - min(past)) / base if len(past) > 1 else 0.0
            change = v / base - 1 if higher_better else base / v - 1  # > 0: better
            found.append((level_of(-change, spread) if change < 0 else None, key, v, base, change, kind))
    return found, len(earlier)


def plot(entries, path):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("history.py: matplotlib is not installed (python3-matplotlib): no plot")
        return
    now = entries[-1]
    mine = [e for e in entries if same_machine(e, now)]
    keys = sorted({k for e in mine for k in e.get("ratios", {}) if "/c-omp" in k and k.split()[1].startswith("dck/")})
    fig, ax = plt.subplots(figsize=(11, 6))
    for k in keys:
        xs = [i for i, e in enumerate(mine) if k in e["ratios"]]
        ax.plot(xs, [mine[i]["ratios"][k] for i in xs], marker="o", label=k.split()[0])
    ax.axhline(1.0, color="gray", linewidth=0.8)
    ax.set_yscale("log")
    ax.set_xticks(range(len(mine)))
    ax.set_xticklabels([e["date"][:10] + "\n" + e["commit"][:7] for e in mine], fontsize=7)
    ax.set_ylabel("DCK / gcc -O3 -fopenmp (same run; log scale)")
    ax.set_title("DCK speed relative to plain C over time (%s)" % now["machine"].get("cpu"))
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    print("history.py: wrote %s" % path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    a = sub.add_parser("append")
    a.add_argument("results_dir")
    a.add_argument("--history", default=DEFAULT_HISTORY)
    a.add_argument("--commit")
    r = sub.add_parser("report")
    r.add_argument("--history", default=DEFAULT_HISTORY)
    r.add_argument("--plot")
    r.add_argument("--fail-on", default="severe", choices=["minor", "moderate", "severe", "never"])
    args = ap.parse_args()

    if args.cmd == "append":
        path = os.path.join(args.results_dir, "results.json")
        try:
            results = json.load(open(path))
        except (OSError, json.JSONDecodeError) as e:
            print("history.py: cannot read %s: %s" % (path, e), file=sys.stderr)
            return 2
        e = entry_of(results, args.commit or git_commit())
        if not e["figures"]:
            print("history.py: %s has no figures; nothing appended" % path, file=sys.stderr)
            return 2
        with open(args.history, "a") as f:
            f.write(json.dumps(e, sort_keys=True) + "\n")
        print("history.py: appended the run of %s (%d figures, %d ratios) to %s"
              % (e["date"], len(e["figures"]), len(e["ratios"]), args.history))
        return 0

    entries = load(args.history)
    if not entries:
        print("history.py: %s is empty" % args.history, file=sys.stderr)
        return 2
    found, nbase = compare(entries)
    now = entries[-1]
    print("performance history: %d runs; the newest (%s, %s) against the median of %d earlier run(s) "
          "on %s" % (len(entries), now["date"], now["commit"][:12], nbase, now["machine"].get("cpu")))
    counts = {name: 0 for name, _ in LEVELS}
    for level, key, v, base, change, kind in sorted(found, key=lambda f: f[4]):
        if level:
            counts[level] += 1
            print("  %-8s %-40s %8.3f (was %.3f, %+.0f %%)%s" % (level.upper(), key, v, base, 100 * change,
                                                                  "  [absolute]" if kind == "absolute" else ""))
    gains = [f for f in found if f[4] >= 0.15]
    for _, key, v, base, change, kind in sorted(gains, key=lambda f: -f[4])[:10]:
        print("  better   %-40s %8.3f (was %.3f, %+.0f %%)" % (key, v, base, 100 * change))
    print("regressions: %d severe, %d moderate, %d minor (of %d figures compared)"
          % (counts["severe"], counts["moderate"], counts["minor"], len(found)))
    if args.plot:
        plot(entries, args.plot)
    order = [name for name, _ in LEVELS]  # severe, moderate, minor
    if args.fail_on != "never":
        worst = order[: order.index(args.fail_on) + 1]
        if any(counts[n] for n in worst):
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
