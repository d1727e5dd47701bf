#!/usr/bin/python3
"""Sweeps of the native scenarios over sizes, and their plots (gnuplot, PNG) for BENCHMARKS.md.

    /usr/bin/python3 bench/native/sweep.py                    # every sweep, every server (long: a quiet machine)
    /usr/bin/python3 bench/native/sweep.py fanout storm       # some sweeps
    /usr/bin/python3 bench/native/sweep.py --target baseline  # one server again, the others' data kept
    /usr/bin/python3 bench/native/sweep.py --plots-only       # redraw from the saved data
    /usr/bin/python3 bench/native/sweep.py --quick            # tiny sizes, to try the machinery

Sweeps (x: what varies; ours and ceiling at every size, the baseline at the sizes it can take):

    fanout  receivers N: last receiver's peer_online p50 / p99 (ms)
    memory  idle registered agents: server VmRSS (MiB), from one memory run's steps
    storm   peers N: time until every agent knows all N-1 others (s)
    rest    keep-alive connections: GET /organizations per second

Each point is one sig-loadgen run against a fresh server (bench/native/run.py's run_one).
Data: bench/results/sweep-<name>.json (raw results) and .dat (the plotted columns, one block per
server); plots: docs/bench/<name>.png drawn by bench/native/plots/<name>.gp. --quick writes under
build/bench-native/sweep-quick/ instead, so its tiny figures never replace the real ones.
Running some servers (--target) replaces their points and keeps the others'.

Exit status: 1 when a run failed functionally (its point is left out) or a plot could not be drawn.
"""
import argparse
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import run as native  # noqa: E402  (bench/native/run.py: build, servers, one sig-loadgen run)

common = native.common
PLOTS = HERE / "plots"
TARGETS = ["ceiling", "ours", "baseline"]  # run in this order at each size
LEGEND_ORDER = ["ours", "ceiling", "baseline"]
RUN_TIMEOUT = 900  # s per sig-loadgen run: storm 2,000 and memory 19,000 on ours take a while
# The baseline's set-up runs at ~200 requests/s and its registration scans every connection:
# fewer set-up connections (as run.py) and only small sizes.
BASELINE_SETUP = ["--setup-connections", "4"]


@dataclass
class Sweep:
    """One plot: a scenario run at several sizes (or, for memory, one run read step by step)."""
    scenario: str
    sizes: dict          # {"full"|"quick": {target: [x, ...]}}
    columns: list        # .dat columns after x: result keys (memory: step keys)
    x_name: str          # the .dat's first column

    def args(self, x, target, quick):
        """sig-loadgen arguments for size x on target."""
        raise NotImplementedError

    def rows(self, result):
        """The .dat rows [x, columns...] of one successful result."""
        return [[result[self.x_name]] + [result.get(c) for c in self.columns]]


class FanoutSweep(Sweep):
    def args(self, x, target, quick):
        return ["-n", str(x), "--rounds", "5" if quick else "20"] + (BASELINE_SETUP if target == "baseline" else [])


class StormSweep(Sweep):
    def args(self, x, target, quick):
        return ["-n", str(x)] + (BASELINE_SETUP if target == "baseline" else [])


class RestSweep(Sweep):
    def args(self, x, target, quick):
        timing = ["--duration", "1", "--warmup", "0.2"] if quick else ["--duration", "3", "--warmup", "1"]
        return ["--connections", str(x)] + timing


class MemorySweep(Sweep):
    """x is the largest step; the points are the steps of that one run, plus the server's RSS
    after set-up at 0 agents (the baseline's RSS starts far higher: Python)."""

    def args(self, x, target, quick):
        steps = [s for s in (250, 500, 1000, 2000, 5000, 10000, 19000) if s < x] + [x]
        if quick:
            steps = [x // 2, x]
        extra = BASELINE_SETUP if target == "baseline" else ["--source-addrs", "16"] if x > 5000 else []
        return ["-n", str(x), "--org-size", "5", "--steps", ",".join(map(str, steps))] + extra

    def rows(self, result):
        first = [[0, round(result["rss_before_kib"] / 1024, 2), None]]
        return first + [[s["agents"], round(s["rss_kib"] / 1024, 2), s["bytes_per_agent"]] for s in result["steps"]]


BIG = [100, 250, 500, 1000, 2000]
SWEEPS = {
    "fanout": FanoutSweep(
        "fanout", {"full": {"ours": BIG, "ceiling": BIG, "baseline": [100, 200]},
                   "quick": {"ours": [20, 50], "ceiling": [20, 50], "baseline": [20]}},
        ["online_last_p50_ms", "online_last_p99_ms", "offline_last_p50_ms", "offline_last_p99_ms"], "n"),
    "memory": MemorySweep(
        "memory", {"full": {"ours": [19000], "ceiling": [19000], "baseline": [1000]},
                   "quick": {"ours": [200], "ceiling": [200], "baseline": [100]}},
        ["rss_mib", "bytes_per_agent"], "agents"),
    "storm": StormSweep(
        "storm", {"full": {"ours": BIG[1:], "ceiling": BIG[1:], "baseline": [100, 200]},
                  "quick": {"ours": [20, 50], "ceiling": [20, 50], "baseline": [20]}},
        ["elapsed_s", "all_upgraded_s", "all_registered_s", "msgs_per_s"], "n"),
    "rest": RestSweep(
        "rest", {"full": {t: [1, 4, 16, 32, 64] for t in TARGETS},
                 "quick": {t: [1, 4] for t in TARGETS}},
        ["per_s", "p50_ms", "p99_ms"], "connections"),
}


# ---------------------------------------------------------------- where things go

def places(quick):
    """(results directory, plots directory): the real ones, or a scratch place for --quick."""
    if quick:
        scratch = native.BUILD / "sweep-quick"
        return scratch, scratch
    return common.RESULTS, native.ROOT / "docs/bench"


def load(results_dir, name):
    """The saved sweep (its runs by target), or an empty one."""
    path = results_dir / f"sweep-{name}.json"
    if path.exists():
        return json.loads(path.read_text())
    return {"name": name, "runs": []}


def save(results_dir, data):
    results_dir.mkdir(parents=True, exist_ok=True)
    path = results_dir / f"sweep-{data['name']}.json"
    path.write_text(json.dumps(data, indent=1) + "\n")
    print(f"wrote {path}")


# ---------------------------------------------------------------- measuring

def measure(scenario, target, args):
    """One run against a fresh `target`. The ceiling gets the same wait for a quiet machine that
    common.Server gives ours and the baseline."""
    if target == "ceiling":
        common.wait_quiet()
    print(f"== {scenario} / {target}: {' '.join(args)}", flush=True)
    return native.run_one(scenario, target, args, RUN_TIMEOUT)


def run_sweep(name, sweep, targets, quick, data):
    """Runs every size of `sweep` on `targets` (servers interleaved at each size, so that they
    see the same machine), replacing those targets' runs in `data`. Returns the failures."""
    sizes = sweep.sizes["quick" if quick else "full"]
    xs = sorted({x for t in targets for x in sizes.get(t, [])})
    runs = [r for r in data["runs"] if r["target"] not in targets]
    failures = []
    for x in xs:
        for target in [t for t in TARGETS if t in targets and x in sizes.get(t, [])]:
            args = sweep.args(x, target, quick)
            res = measure(sweep.scenario, target, args)
            runs.append({"target": target, "x": x, "args": args, "date": time.strftime("%Y-%m-%dT%H:%M:%S"),
                         "loadavg": open("/proc/loadavg").read().split()[:3], "result": res})
            if not res.get("ok"):
                failures.append(f"{name} {target} x={x}: {'; '.join(res.get('failures', []))}")
    data.update(runs=runs, quick=quick, nproc=os.cpu_count(), ours_bin=common.repo_path(common.OURS_BIN))
    return failures


# ---------------------------------------------------------------- plotting

def write_dat(results_dir, name, sweep, data):
    """The plotted columns, one block per server (gnuplot `index "ours"`), rows sorted by x.
    Returns the servers that have at least one point, in plotting order."""
    lines, series = [], []
    for target in LEGEND_ORDER:
        rows = sorted((row for r in data["runs"] if r["target"] == target and r["result"].get("ok")
                       for row in sweep.rows(r["result"])), key=lambda row: row[0])
        if not rows:
            continue
        series.append(target)
        lines += [f"# {target}", "# " + " ".join([sweep.x_name] + sweep.columns)]
        lines += [" ".join("?" if v is None else str(v) for v in row) for row in rows]
        lines += ["", ""]  # two blank lines end a gnuplot data block
    path = results_dir / f"sweep-{name}.dat"
    path.write_text("\n".join(lines) + "\n")
    return path, series


def subtitle(data):
    """When and how the data were taken, printed under the plot's title."""
    dates = sorted(r["date"][:10] for r in data["runs"])
    when = dates[0] if dates and dates[0] == dates[-1] else f"{dates[0]} … {dates[-1]}" if dates else "?"
    text = f"{when}, {data.get('nproc', '?')} cores shared by server and load generator"
    return text + ("; QUICK (tiny sizes): not for BENCHMARKS.md" if data.get("quick") else "")


def plot(name, dat, series, data, plots_dir):
    """Draws plots/<name>.gp into <plots_dir>/<name>.png; returns an error text or None."""
    if not series:
        return f"{name}: no successful run to plot"
    plots_dir.mkdir(parents=True, exist_ok=True)
    png = plots_dir / f"{name}.png"
    variables = {"datafile": dat, "outfile": png, "series": " ".join(series), "subtitle": subtitle(data),
                 "common": PLOTS / "common.gp"}
    setting = "; ".join(f"{k}='{str(v).replace(chr(39), '')}'" for k, v in variables.items())
    p = subprocess.run(["gnuplot", "-e", setting, str(PLOTS / f"{name}.gp")], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True)
    noise = [x for x in p.stderr.splitlines() if "Skipping data file with no valid points" not in x and x.strip()]
    if p.returncode != 0:
        return f"{name}: gnuplot failed: {' / '.join(noise)[-500:]}"
    print(f"wrote {png}" + (f" (gnuplot: {' / '.join(noise)})" if noise else ""))
    return None


# ---------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("names", nargs="*", choices=list(SWEEPS) + [[]], help="default: all")
    ap.add_argument("--target", action="append", choices=TARGETS, help="servers to run (default: all)")
    ap.add_argument("--quick", action="store_true", help="tiny sizes, written under build/bench-native/sweep-quick/")
    ap.add_argument("--plots-only", action="store_true", help="no runs: redraw from the saved data")
    ap.add_argument("--no-build", action="store_true")
    a = ap.parse_args()
    names = a.names or list(SWEEPS)
    targets = a.target or list(TARGETS)
    results_dir, plots_dir = places(a.quick)
    if not a.plots_only:
        if not a.no_build:
            native.build()
        if "baseline" in targets and not common.BASELINE_RUN.exists():
            print(f"== baseline skipped: {common.BASELINE_RUN} not found (set BASELINE_RUN)")
            targets = [t for t in targets if t != "baseline"]
        print(f"ours: {common.OURS_BIN} (OURS_BIN)", flush=True)

    problems = []
    for name in names:
        sweep, data = SWEEPS[name], load(results_dir, name)
        if not a.plots_only:
            problems += run_sweep(name, sweep, targets, a.quick, data)
            save(results_dir, data)
        elif not data["runs"]:
            problems.append(f"{name}: no saved data in {results_dir} (run the sweep first)")
            continue
        dat, series = write_dat(results_dir, name, sweep, data)
        error = plot(name, dat, series, data, plots_dir)
        if error:
            problems.append(error)
    if problems:
        print("\nproblems:\n  " + "\n  ".join(problems))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
