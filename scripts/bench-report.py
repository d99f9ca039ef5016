#!/usr/bin/env python3
"""The table of BENCHMARKS.md from a `cargo bench -p breaker-runtime` run.

    cargo bench -p breaker-runtime                  # writes $CARGO_TARGET_DIR/criterion
    python3 scripts/bench-report.py                 # the time table, in markdown
    python3 scripts/bench-report.py --instructions  # + instructions per call (valgrind)
    python3 scripts/bench-report.py --memory        # + the memory bench's lines

For every benchmark it shows criterion's mean and the best sample (the fastest
time per iteration among its samples): on a busy machine the mean carries the
other processes' load, the best sample much less of it. Ratios use the mean.
"""

import argparse
import glob
import json
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))

# (group, label, bare id or None); every group has ours/recloser/failsafe where they exist.
GROUPS = [
    ("closed_sync", "Closed, sync call", "bare"),
    ("closed_async_poll", "Closed, async (one poll, no-op waker)", "bare"),
    ("closed_async_tokio", "Closed, async (tokio current-thread)", "bare"),
    ("rejected", "Rejected (open, long reset_timeout)", None),
    ("half_open", "Half-open admission + release", None),
]
POLICIES = [
    ("consecutive", "consecutive", None),
    ("count_window", "count window (100 calls, rate 0.5)", "count_window_recloser"),
    ("time_window", "time window (60 s, rate 0.5)", "time_window_failsafe"),
    ("slow_call", "slow-call tracking (1 s)", None),
]


def load(bench_id):
    """(mean ns, best-sample ns) of one benchmark, or None."""
    d = os.path.join(TARGET, "criterion", bench_id, "new")
    try:
        with open(os.path.join(d, "estimates.json")) as f:
            mean = json.load(f)["mean"]["point_estimate"]
        with open(os.path.join(d, "sample.json")) as f:
            s = json.load(f)
        best = min(t / i for t, i in zip(s["times"], s["iters"]))
        return mean, best
    except (OSError, KeyError, ValueError):
        return None


def ns(v):
    if v is None:
        return "–"
    mean, best = v
    return f"{fmt(mean)} ({fmt(best)})"


def fmt(x):
    if x >= 1000:
        return f"{x / 1000:.2f} µs"
    return f"{x:.1f} ns"


def ratio(a, b):
    """How many times b is slower than a (means)."""
    if a is None or b is None:
        return "–"
    return f"{b[0] / a[0]:.2f}×"


def time_table():
    out = [
        "| case | bare | ours | recloser | failsafe | ours − bare | recloser / ours | failsafe / ours |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for group, label, bare_id in GROUPS:
        bare = load(f"{group}/{bare_id}") if bare_id else None
        ours, rc, fs = (load(f"{group}/{p}") for p in ("ours", "recloser", "failsafe"))
        over = f"{ours[0] - bare[0]:.1f} ns" if ours and bare else "–"
        out.append(
            f"| {label} | {ns(bare)} | {ns(ours)} | {ns(rc)} | {ns(fs)} | {over} | {ratio(ours, rc)} | {ratio(ours, fs)} |"
        )
    bare = load("policy/bare")
    for name, label, peer in POLICIES:
        ours = load(f"policy/{name}")
        p = load(f"policy/{peer}") if peer else None
        rc = p if peer and "recloser" in peer else None
        fs = p if peer and "failsafe" in peer else None
        over = f"{ours[0] - bare[0]:.1f} ns" if ours and bare else "–"
        out.append(
            f"| Closed, policy: {label} | {ns(bare)} | {ns(ours)} | {ns(rc)} | {ns(fs)} | {over} | {ratio(ours, rc)} | {ratio(ours, fs)} |"
        )
    for kind in ("async", "sync"):
        plain, ann = load(f"annotated/{kind}_plain"), load(f"annotated/{kind}_annotated")
        over = f"{ann[0] - plain[0]:.1f} ns" if plain and ann else "–"
        out.append(
            f"| `#[circuit_breaker]` {kind} fn vs plain | {ns(plain)} | {ns(ann)} | – | – | {over} | – | – |"
        )
    first = [load(f"first_call/{p}") for p in ("ours_register", "recloser_build", "failsafe_build")]
    out.append(
        f"| First call: create + register (peers: build only) | – | {ns(first[0])} | {ns(first[1])} | {ns(first[2])} | – | – | – |"
    )
    out.append("")
    out.append(
        "| 2 threads on one breaker, Closed | 1 thread | 2 threads | 2-thread / 1-thread throughput (best samples) |"
    )
    out.append("|---|---|---|---|")
    for p in ("ours", "recloser", "failsafe"):
        one, two = load(f"threads/{p}_1"), load(f"threads/{p}_2")
        r = f"{2 * one[0] / two[0]:.2f}× ({2 * one[1] / two[1]:.2f}×)" if one and two else "–"
        out.append(f"| {p} | {ns(one)} per call | {ns(two)} per call per thread | {r} |")
    return "\n".join(out)


def bench_binary(name):
    paths = [
        p
        for p in glob.glob(os.path.join(TARGET, "release", "deps", f"{name}-*"))
        if os.access(p, os.X_OK) and not p.endswith(".d")
    ]
    if not paths:
        sys.exit(f"no {name} bench binary under {TARGET}: run `cargo bench -p breaker-runtime` first")
    return max(paths, key=os.path.getmtime)


def instructions():
    """Instructions per call of every case of the instructions driver, by callgrind."""
    binary = bench_binary("instructions")
    src = open(os.path.join(ROOT, "breaker-runtime", "benches", "instructions.rs")).read()
    cases = re.findall(r'^    "([a-z_/]+)",$', src, re.M)

    def total(case, n):
        r = subprocess.run(
            ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", binary, case, str(n)],
            capture_output=True,
            text=True,
        )
        m = re.search(r"Collected : (\d+)", r.stderr)
        if not m:
            sys.exit(f"callgrind failed on {case}:\n{r.stderr}")
        return int(m.group(1))

    out = ["| case | instructions per call |", "|---|---|"]
    for case in cases:
        per = (total(case, 200_000) - total(case, 100_000)) / 100_000
        out.append(f"| {case} | {per:.0f} |")
    return "\n".join(out)


def memory():
    r = subprocess.run([bench_binary("memory")], capture_output=True, text=True, check=True)
    return "```text\n" + r.stdout.strip() + "\n```"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--instructions", action="store_true", help="count instructions per call with callgrind")
    ap.add_argument("--memory", action="store_true", help="run the memory bench and show its lines")
    args = ap.parse_args()
    print("Times: criterion's mean (best sample).\n")
    print(time_table())
    if args.instructions:
        print("\n" + instructions())
    if args.memory:
        print("\n" + memory())


if __name__ == "__main__":
    main()
