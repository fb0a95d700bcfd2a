#!/usr/bin/env python3
"""report.py RESULTS_DIR: merges kernels.json and compile.json (written by bench/run.sh) into
results.json with the machine named, and writes results.md (the tables), the plots
kernels.png, fusion.png, compile.png, and the tables between the markers of README.md."""
import datetime
import json
import os
import platform
import subprocess
import sys

IMPLS = ["dck", "dck-scalar", "dck-opencl", "c-omp", "opencl", "halide"]


def machine():
    model = "unknown CPU"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        load = open("/proc/loadavg").read().split()[:3]
    except OSError:
        load = []
    try:
        gcc = subprocess.run(["gcc", "--version"], capture_output=True, text=True).stdout.splitlines()[0]
    except OSError:
        gcc = "?"
    return {"cpu": model, "cores": os.cpu_count(), "threads_used": 2, "kernel": platform.release(),
            "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "loadavg_at_report": load, "gcc": gcc}


def fmt(x, nd=2):
    return "—" if x is None else ("%.*f" % (nd, x))


def main():
    d = sys.argv[1]
    kern = json.load(open(os.path.join(d, "kernels.json")))["results"]
    comp_path = os.path.join(d, "compile.json")
    comp = json.load(open(comp_path))["rows"] if os.path.exists(comp_path) else []
    m = machine()
    json.dump({"machine": m, "kernels": kern, "compile": comp}, open(os.path.join(d, "results.json"), "w"), indent=1)

    benches = []
    for r in kern:
        if r["bench"] not in benches:
            benches.append(r["bench"])
    by = {(r["bench"], r["impl"]): r for r in kern}
    stream = max([r["metric"] or 0 for r in kern if r["bench"].startswith("stream")] or [0])

    md = ["# DCK benchmark results", "",
          "Machine: %s, %s cores (2 threads used everywhere), Linux %s, %s; load average when written: %s." %
          (m["cpu"], m["cores"], m["kernel"], m["date"], " ".join(m["loadavg_at_report"])), "",
          "Each cell: median time in ms and the rate (unit per row). Ratio columns: DCK (default ISA) speed over "
          "the peer's (> 1: DCK faster). Memory-bound rows also give DCK's share of the STREAM ceiling "
          "(%.1f GB/s measured in the same run)." % stream, "",
          "| benchmark | unit | " + " | ".join(IMPLS) + " | dck/dck-scalar | dck/c-omp | dck/opencl | dck/halide | of STREAM |",
          "|" + "---|" * (len(IMPLS) + 7)]
    for b in benches:
        unit = next(r["unit"] for r in kern if r["bench"] == b)
        cells = []
        for i in IMPLS:
            r = by.get((b, i))
            if not r:
                cells.append("")
            elif r["ms"] is None:
                cells.append(r["status"].split(":")[0])
            else:
                cells.append("%s ms / %s" % (fmt(r["ms"], 1), fmt(r["metric"])))
        dck = by.get((b, "dck"))
        ratios = []
        for peer in ["dck-scalar", "c-omp", "opencl", "halide"]:
            p = by.get((b, peer))
            if dck and p and dck["ms"] and p["ms"]:
                ratios.append("%.2f×" % (p["ms"] / dck["ms"]))
            else:
                ratios.append("")
        share = ""
        if dck and dck["metric"] and unit == "GB/s" and stream and not b.startswith("stream"):
            share = "%.0f %%" % (100 * dck["metric"] / stream)
        md.append("| %s | %s | %s | %s | %s |" % (b, unit, " | ".join(cells), " | ".join(ratios), share))
    fu, un = by.get(("pipe3-fused", "dck")), by.get(("pipe3-unfused", "dck"))
    if fu and un and fu["ms"] and un["ms"]:
        md += ["", "Pipeline fusion: the fused pipeline runs %.2f× faster than its three kernels launched "
               "unfused (DCK, default ISA)." % (un["ms"] / fu["ms"])]
    bad = [r for r in kern if r["status"] not in ("ok",) and not r["status"].startswith("n/a")]
    if bad:
        md += ["", "Results that failed their correctness check (not timed):", ""]
        md += ["- %s / %s: %s" % (r["bench"], r["impl"], r["status"]) for r in bad]
    if comp:
        md += ["", "## Compile speed", "", "Wall time of the whole process, median of several runs.", "",
               "| tool | 1 kernel (ms) | 100 kernels (ms) | per extra kernel (ms) | CPU: 1 kernel / per extra (ms) "
               "| goal (1 / extra) | status |",
               "|---|---|---|---|---|---|---|"]
        for r in comp:
            goal = ""
            if "goal_one_ms" in r:
                ok1 = r["one_ms"] <= r["goal_one_ms"]
                ok2 = r["per_extra_ms"] <= r["goal_per_extra_ms"]
                c1 = r.get("one_cpu_ms", 1e9) <= r["goal_one_ms"]
                c2 = r.get("per_extra_cpu_ms", 1e9) <= r["goal_per_extra_ms"]
                goal = "≤ %d / ≤ %d: wall %s, CPU %s" % (r["goal_one_ms"], r["goal_per_extra_ms"],
                                                         "met" if ok1 and ok2 else "missed",
                                                         "met" if c1 and c2 else "missed")
            cpu = fmt(r.get("one_cpu_ms"), 1)
            if r.get("per_extra_cpu_ms") is not None:
                cpu += " / " + fmt(r.get("per_extra_cpu_ms"))
            md.append("| %s | %s | %s | %s | %s | %s | %s |" % (r["tool"], fmt(r.get("one_ms"), 1),
                                                               fmt(r.get("hundred_ms"), 1),
                                                               fmt(r.get("per_extra_ms")), cpu, goal, r["status"]))
    open(os.path.join(d, "results.md"), "w").write("\n".join(md) + "\n")
    print("\n".join(md))
    # the README's copies of the tables (between its markers)
    readme = os.path.join(os.path.dirname(os.path.abspath(__file__)), "README.md")
    if os.path.exists(readme):
        text = open(readme).read()
        split = md.index("## Compile speed") if "## Compile speed" in md else len(md)
        parts = {"results": md[2:split], "compile": md[split + 4:] if split < len(md) else []}
        for key, lines in parts.items():
            a, b = "<!-- %s: written by report.py -->" % key, "<!-- /%s -->" % key
            if a in text and b in text:
                head, rest = text.split(a, 1)
                text = head + a + "\n" + "\n".join(lines).strip() + "\n" + b + rest.split(b, 1)[1]
        open(readme, "w").write(text)

    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("(matplotlib not installed: no plots)")
        return
    rows = [b for b in benches if not b.startswith("stream") and by.get((b, "c-omp")) and by[(b, "c-omp")]["ms"]]
    fig, ax = plt.subplots(figsize=(12, 5))
    w = 0.8 / len(IMPLS)
    for k, i in enumerate(IMPLS):
        vals = []
        for b in rows:
            r = by.get((b, i))
            vals.append(by[(b, "c-omp")]["ms"] / r["ms"] if r and r["ms"] else 0)
        ax.bar([x + k * w for x in range(len(rows))], vals, w, label=i)
    ax.set_xticks([x + 0.4 - w / 2 for x in range(len(rows))])
    ax.set_xticklabels(rows, rotation=30, ha="right")
    ax.axhline(1.0, color="gray", lw=0.8)
    ax.set_ylabel("speed relative to c-omp (higher is better)")
    ax.set_title("DCK benchmarks — %s, 2 threads, %s" % (m["cpu"], m["date"]))
    ax.legend()
    fig.tight_layout()
    fig.savefig(os.path.join(d, "kernels.png"), dpi=110)
    impls = [i for i in IMPLS if by.get(("pipe3-fused", i), {}).get("ms") and by.get(("pipe3-unfused", i), {}).get("ms")]
    if impls:
        fig, ax = plt.subplots(figsize=(7, 4))
        xs = range(len(impls))
        ax.bar([x - 0.2 for x in xs], [by[("pipe3-unfused", i)]["ms"] for i in impls], 0.4, label="unfused (3 launches)")
        ax.bar([x + 0.2 for x in xs], [by[("pipe3-fused", i)]["ms"] for i in impls], 0.4, label="fused")
        ax.set_xticks(list(xs))
        ax.set_xticklabels(impls)
        ax.set_ylabel("ms (lower is better)")
        ax.set_title("Three-stage pipeline, 32M floats — %s" % m["date"])
        ax.legend()
        fig.tight_layout()
        fig.savefig(os.path.join(d, "fusion.png"), dpi=110)
    if comp:
        rs = [r for r in comp if r.get("one_ms")]
        fig, ax = plt.subplots(figsize=(9, 4))
        ax.barh([r["tool"] for r in rs], [r["one_ms"] for r in rs], color="tab:blue", label="1 kernel")
        ax.set_xscale("log")
        ax.set_xlabel("wall time, ms (log scale)")
        ax.set_title("Compile time of one small kernel — %s" % m["date"])
        fig.tight_layout()
        fig.savefig(os.path.join(d, "compile.png"), dpi=110)


if __name__ == "__main__":
    main()
