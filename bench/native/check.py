#!/usr/bin/python3
"""Benchmark regression check, to run before submitting a change to the server.

    /usr/bin/python3 bench/native/check.py                    # every scenario, ~1-2 min
    /usr/bin/python3 bench/native/check.py storm fanout       # some scenarios
    /usr/bin/python3 bench/native/check.py --tolerance 0.4 --tolerance relay=0.6
    /usr/bin/python3 bench/native/check.py --update-reference # rewrite the committed reference
    /usr/bin/python3 bench/native/check.py --output /tmp/main.json          # keep this run's figures
    /usr/bin/python3 bench/native/check.py --against /tmp/main.json         # ours vs a saved run
    /usr/bin/python3 bench/native/check.py --against bench/results/native-fanout.json

Each scenario runs at a short but meaningful size against ours and sig-ceiling, one right after
the other, and each metric becomes a ratio ours ÷ ceiling. Absolute figures follow the machine
(a busy or slower machine moves every figure); the ceiling runs on the same machine at the same
moment, so the ratio tracks what ours itself does. The ratios are compared with those of
bench/results/regression-reference.json: a ratio worse than the reference by more than the
tolerance (default 25 %) is a regression. "Worse by 25 %" means 1.25× the reference for a
lower-is-better metric (time, bytes) and the reference ÷ 1.25 for a higher-is-better one (rates):
the same slowdown of ours trips both alike.

With --against FILE, ours is compared with the `ours` result (--against-target) that FILE
recorded instead of a fresh ceiling run, at the sizes FILE recorded; the expected ratio is then
1.0 (no worse than FILE). FILE is a check.py output (--output, the reference) or a run.py
bench/results/native-<scenario>.json.

A scenario whose ratio is out of tolerance is run again (--retries, default 1) and the better
attempt is kept: a single noisy reading on a shared machine should not fail the check, a real
regression shows again.

Exit status: 1 on a regression, a functional failure (ours or the ceiling: missing or wrong
messages, errors, a server that died) or a reference that cannot be used; 0 otherwise.
"""
import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
# Waiting for a quiet machine before every server start: at most 10 s here (run.py: 30 s), the
# check runs twelve servers and a developer waits for it.
os.environ.setdefault("BENCH_QUIET_WAIT", "10")
import run as native  # noqa: E402  (bench/native/run.py: build, servers, one sig-loadgen run)

common = native.common
REFERENCE = native.ROOT / "bench/results/regression-reference.json"
DEFAULT_TOLERANCE = 0.25
# Scenarios noisier than that on this 2-core machine with ours unchanged: relay's round trip is
# a fraction of a millisecond (ratios 1.82, 1.86, 2.46 in three runs within a minute).
SCENARIO_TOLERANCE = {"relay": 0.5}
RUN_TIMEOUT = 180  # s per sig-loadgen run; the check's sizes take a few seconds each

# The check's sizes: each scenario a few seconds, large enough that the figure is not noise.
SIZES = {
    "rest": ["--connections", "32", "--duration", "3", "--warmup", "1"],
    "connect": ["-n", "2000", "--org-size", "5", "--window", "500", "--source-addrs", "4"],
    "storm": ["-n", "1000"],  # 500: the ceiling's time varied by ±15 % between fresh servers, 1,000 by ±7 %
    "fanout": ["-n", "500", "--rounds", "20"],
    "memory": ["-n", "2000", "--org-size", "5", "--steps", "1000,2000"],
    "relay": ["--pairs", "100", "--rate", "40", "--duration", "3", "--warmup", "1"],
}

# What is compared: scenario -> [(result key, label, higher is better)]. Medians rather than p99
# where the sample is small (fanout: 20 rounds, so its p99 is the maximum of 20 readings), so that
# the check follows the server and not the scheduler. relay's rate is the offered rate on both
# servers, so its round trip is the figure.
METRICS = {
    "rest": [("per_s", "req/s", True)],
    "connect": [("per_s", "registered/s", True)],
    "storm": [("elapsed_s", "all know all (s)", False)],
    "fanout": [("online_last_p50_ms", "last peer_online p50 (ms)", False),
               ("offline_last_p50_ms", "last peer_offline p50 (ms)", False)],
    "memory": [("bytes_per_agent", "bytes/agent", False)],
    "relay": [("rtt_p50_ms", "round trip p50 (ms)", False)],
}

# Arguments of a recorded sig-loadgen command line that describe the run, not its size.
NOT_SIZE_ARGS = {"--server-pid", "--tokens-file", "--setup-connections", "--port"}


# ---------------------------------------------------------------- tolerances

def parse_tolerances(values):
    """--tolerance values ("0.3" or "storm=0.5") -> (default, {scenario: tolerance}), so that one
    noisy scenario can be loosened without loosening the others. A plain value replaces every
    default, SCENARIO_TOLERANCE's too; SCENARIO=F wins over both."""
    default, given = None, {}
    for v in values:
        name, sep, number = v.rpartition("=")
        try:
            tol = float(number)
        except ValueError:
            raise SystemExit(f"--tolerance {v}: not a number")
        if tol < 0:
            raise SystemExit(f"--tolerance {v}: negative")
        if not sep:
            default = tol
        elif name in SIZES:
            given[name] = tol
        else:
            raise SystemExit(f"--tolerance {v}: unknown scenario {name}")
    if default is None:
        return DEFAULT_TOLERANCE, {**SCENARIO_TOLERANCE, **given}
    return default, given


def allowed_ratio(reference, tolerance, higher):
    """The worst ratio still accepted: the same relative slowdown for rates and for times."""
    return reference / (1 + tolerance) if higher else reference * (1 + tolerance)


# ---------------------------------------------------------------- measuring

def other_cpu_pct(busy_s, res, wall_s):
    """Share of one core that other processes used during a run (approximate: the server's start
    and stop are in `busy_s` but not in its CPU figure). Tells whether a bad ratio may be noise."""
    if wall_s <= 0:
        return None
    own = res.get("server_cpu_s", 0) + res.get("loadgen_cpu_s", 0)
    return max(0, round(100 * (busy_s - own) / wall_s))


def measure(scenario, target, args):
    """One sig-loadgen run against a fresh `target` (run.py's run_one), with the CPU that other
    processes used meanwhile added as `other_cpu_pct`."""
    if target == "ceiling":
        common.wait_quiet()  # common.Server waits for ours; the ceiling deserves the same
    print(f"== {scenario} / {target}", flush=True)
    busy0, t0 = common._busy_seconds(), time.perf_counter()
    res = native.run_one(scenario, target, args, RUN_TIMEOUT)
    res["other_cpu_pct"] = other_cpu_pct(common._busy_seconds() - busy0, res, time.perf_counter() - t0)
    return res


def ratio(ours, other, key):
    """ours ÷ other for one metric, or None when either side has no usable figure."""
    if not ours or not other or not ours.get("ok") or not other.get("ok"):
        return None
    x, y = ours.get(key), other.get(key)
    if not isinstance(x, (int, float)) or not isinstance(y, (int, float)) or x < 0 or y <= 0:
        return None
    return x / y


# ---------------------------------------------------------------- judging

def judge(scenario, attempt, expected, tolerance):
    """Table rows for one attempt at one scenario: for each metric the ratio, the reference ratio
    (`expected`: {key: ratio}, a text saying why there is none, or None when the run is the new
    reference), the limit and the verdict."""
    ours, other = attempt["ours"], attempt["other"]
    failures = [f"{side}: {'; '.join(r.get('failures') or ['failed'])}"
                for side, r in (("ours", ours), (attempt["other_name"], other)) if r and not r.get("ok")]
    rows = []
    for key, label, higher in METRICS[scenario]:
        row = {"scenario": scenario, "metric": label, "key": key, "higher": higher,
               "ours": ours.get(key) if ours else None, "other": other.get(key) if other else None,
               "ratio": ratio(ours, other, key), "reference": None, "allowed": None}
        if failures:
            row["verdict"] = "FAILED: " + " | ".join(failures)
        elif row["ratio"] is None:
            row["verdict"] = "FAILED: no figure to compare"
        elif expected is None:
            row["verdict"] = "recorded"
        elif isinstance(expected, str):
            row["verdict"] = "FAILED: " + expected
        elif key not in expected:
            row["verdict"] = "FAILED: no reference ratio for this metric (--update-reference)"
        else:
            row["reference"] = expected[key]
            row["allowed"] = allowed_ratio(expected[key], tolerance, higher)
            row["verdict"] = verdict(row["ratio"], expected[key], row["allowed"], tolerance, higher)
        rows.append(row)
    return rows


def verdict(value, reference, allowed, tolerance, higher):
    """ok / REGRESSION; also says when ours got better by more than the tolerance, since the
    reference then hides the next regression of that size (main() then suggests an update)."""
    worse = value < allowed if higher else value > allowed
    if worse:
        return "REGRESSION"
    improved = value > reference * (1 + tolerance) if higher else value < reference / (1 + tolerance)
    return "ok (improved)" if improved else "ok"


def failed(rows):
    """The rows that make the check fail."""
    return [r for r in rows if not (r["verdict"].startswith("ok") or r["verdict"] == "recorded")]


# ---------------------------------------------------------------- reference and other files

def shown(path):
    """A path as the developer typed it: relative to the repository when inside it."""
    path = Path(path).resolve()
    return str(path.relative_to(native.ROOT)) if path.is_relative_to(native.ROOT) else str(path)


def load_json(path):
    try:
        return json.loads(Path(path).read_text())
    except (OSError, json.JSONDecodeError) as e:
        raise SystemExit(f"cannot read {path}: {e}")


def reference_ratios(reference, scenario, args):
    """{key: ratio} the reference recorded for `scenario`, or a text saying why it cannot be used
    (ratios of other sizes do not compare)."""
    if reference is None:
        return f"no reference file {shown(REFERENCE)} (--update-reference)"
    entry = reference.get("scenarios", {}).get(scenario)
    if not entry:
        return "no reference for this scenario (--update-reference)"
    if entry.get("args") != args:
        return f"reference is for other sizes ({' '.join(entry.get('args', []))}): --update-reference"
    return entry.get("ratios", {})


def recorded_results(path):
    """{scenario: {target: result}} from a check.py output (or the reference) or from run.py's
    native-<scenario>.json."""
    data = load_json(path)
    if "scenarios" in data:
        return {s: {t: e[t] for t in ("ours", "ceiling", "baseline") if e.get(t)}
                for s, e in data["scenarios"].items()}
    if "scenario" in data and "results" in data:
        return {data["scenario"]: data["results"]}
    raise SystemExit(f"{path}: neither a check.py nor a run.py result file")


def size_args(result):
    """The sig-loadgen size arguments of a recorded result (its `cmd`), so that ours runs at the
    sizes the recorded figure was measured at."""
    words = result.get("cmd", "").split()[2:]  # sig-loadgen SCENARIO ...
    args, skip = [], False
    for w in words:
        if skip:
            skip = False
        elif w in NOT_SIZE_ARGS:
            skip = True
        else:
            args.append(w)
    return args


def git_commit():
    """The commit the measured server was presumably built from (the work tree's HEAD)."""
    p = subprocess.run(["git", "-C", str(native.ROOT), "describe", "--always", "--dirty"],
                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    return p.stdout.strip() or None


def binary_time():
    """When the measured server binary was built: HEAD alone does not say which build ran."""
    try:
        return time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(common.OURS_BIN.stat().st_mtime))
    except OSError:
        return None


def write_results(path, attempts):
    """This run's raw results and ratios, in the reference's format: usable as the reference and
    as an --against file."""
    scenarios = {}
    for scenario, a in attempts.items():
        if a["other_name"] != "ceiling":
            continue  # --against runs have no ceiling figure: nothing to make a reference of
        scenarios[scenario] = {
            "args": a["args"],
            "ratios": {k: round(ratio(a["ours"], a["other"], k), 4)
                       for k, _, _ in METRICS[scenario] if ratio(a["ours"], a["other"], k) is not None},
            "ours": a["ours"], "ceiling": a["other"]}
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(json.dumps({
        "what": "bench/native/check.py: ratios ours ÷ sig-ceiling at the check's sizes",
        "date": time.strftime("%Y-%m-%dT%H:%M:%S"), "commit": git_commit(),
        "ours_bin": common.repo_path(common.OURS_BIN), "ours_bin_mtime": binary_time(), "nproc": os.cpu_count(),
        "loadavg": open("/proc/loadavg").read().split()[:3], "scenarios": scenarios}, indent=1) + "\n")
    print(f"wrote {shown(path)}")


# ---------------------------------------------------------------- table

def fmt_ratio(r):
    return "—" if r is None else f"{r:.3f}"


def print_table(rows, other_name):
    header = ["scenario", "metric", "ours", other_name, "ratio", "reference", "allowed", "verdict"]
    lines = [header]
    for r in rows:
        allowed = "—" if r["allowed"] is None else ("≥ " if r["higher"] else "≤ ") + fmt_ratio(r["allowed"])
        lines.append([r["scenario"], r["metric"], native.fmt(r["ours"]), native.fmt(r["other"]),
                      fmt_ratio(r["ratio"]), fmt_ratio(r["reference"]), allowed, r["verdict"]])
    native.print_rows(lines)


def print_machine_note(attempts):
    """Warns when other processes were busy: the ratios of such a run are less reliable."""
    busy = {f"{s}/{side}": r.get("other_cpu_pct") for s, a in attempts.items()
            for side, r in (("ours", a["ours"]), ("ceiling", a["other"]))
            if a["other_name"] == "ceiling" and r and (r.get("other_cpu_pct") or 0) >= 20}
    if busy:
        print("\nnote: other processes were busy during " +
              ", ".join(f"{k} ({v}% of a core)" for k, v in busy.items()) +
              ": those ratios are less reliable")


# ---------------------------------------------------------------- main

def plan(a):
    """[(scenario, size args, recorded figure or None)]: the check's sizes, or with --against
    the sizes of each recorded result."""
    scenarios = a.scenarios or list(SIZES)
    if not a.against:
        return [(s, SIZES[s], None) for s in scenarios]
    recorded = {}
    for path in a.against:
        recorded.update(recorded_results(path))
    steps = []
    for s in scenarios:
        res = recorded.get(s, {}).get(a.against_target)
        if res is None:
            if a.scenarios:
                print(f"== {s}: not in --against files for {a.against_target}, skipped")
            continue
        steps.append((s, size_args(res), res))
    if not steps:
        raise SystemExit(f"--against: no {a.against_target} result for the chosen scenarios")
    return steps


def measure_pairs(scenario, args, recorded, runs):
    """One attempt: `runs` times ours (and the ceiling right before it, unless comparing with a
    `recorded` result); keeps the run whose first metric's ratio is the median, so that one lucky
    or unlucky reading does not become the figure. Stops at the first functional failure."""
    pairs = []
    for _ in range(runs):
        other = recorded if recorded is not None else measure(scenario, "ceiling", args)
        pair = {"args": args, "ours": measure(scenario, "ours", args), "other": other,
                "other_name": "recorded" if recorded is not None else "ceiling"}
        key = METRICS[scenario][0][0]
        if ratio(pair["ours"], pair["other"], key) is None:
            return pair
        pairs.append((ratio(pair["ours"], pair["other"], key), len(pairs), pair))
    if runs > 1:
        print(f"== {scenario}: {key} ratios " + ", ".join(fmt_ratio(r) for r, _, _ in pairs) + "; the median is kept")
    return sorted(pairs)[(len(pairs) - 1) // 2][2]


def why_retry(attempt, rows):
    """The ratios out of tolerance and how busy the machine was: a discarded attempt's figures
    appear nowhere else, and a busy machine explains most of them."""
    ratios = ", ".join(f"{r['key']} {fmt_ratio(r['ratio'])} vs allowed {fmt_ratio(r['allowed'])}" for r in rows)
    busy = [f"{res['other_cpu_pct']}% of a core during {side}"
            for side, res in (("ours", attempt["ours"]), ("the ceiling", attempt["other"]))
            if res and res.get("other_cpu_pct") is not None]
    return ratios + (f"; other processes: {', '.join(busy)}" if busy else "")


def check_scenario(scenario, args, recorded, expected, tolerance, retries, runs):
    """Runs one scenario (again while it looks like a regression, up to `retries` times) and
    returns (attempt, rows) of the best attempt: the one with the fewest failed rows."""
    best = None
    for n in range(1 + retries):
        if n:
            print(f"== {scenario}: out of tolerance ({why_retry(best[0], failed(best[1]))}), "
                  f"attempt {n + 1} of {1 + retries}", flush=True)
        attempt = measure_pairs(scenario, args, recorded, runs)
        rows = judge(scenario, attempt, expected, tolerance)
        if n:
            for r in rows:
                r["verdict"] += f" (attempt {n + 1})"
        if best is None or len(failed(rows)) <= len(failed(best[1])):
            best = (attempt, rows)
        functional = any(r["verdict"].startswith("FAILED") for r in rows)
        if not failed(rows) or functional or not isinstance(expected, dict):
            break  # passed, or a failure that running again would not change
    return best


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("scenarios", nargs="*", choices=list(SIZES) + [[]], help="default: all")
    ap.add_argument("--tolerance", action="append", default=[], metavar="[SCENARIO=]FRACTION",
                    help=f"allowed worsening of a ratio, default {DEFAULT_TOLERANCE} (25 %%); "
                         "SCENARIO=FRACTION for one scenario; repeatable")
    ap.add_argument("--update-reference", action="store_true",
                    help=f"measure and (re)write {shown(REFERENCE)} instead of checking")
    ap.add_argument("--against", action="append", metavar="FILE",
                    help="compare ours with a recorded result instead of a ceiling run; repeatable")
    ap.add_argument("--against-target", default="ours", choices=native.TARGETS,
                    help="which recorded server --against compares with (default ours)")
    ap.add_argument("--output", metavar="FILE", help="also write this run's results there (reference format)")
    ap.add_argument("--retries", type=int, default=1, help="reruns of a scenario out of tolerance (default 1)")
    ap.add_argument("--runs", type=int, help="runs per scenario, the median ratio kept "
                                             "(default 1; 3 with --update-reference)")
    ap.add_argument("--no-build", action="store_true")
    a = ap.parse_args()
    if a.update_reference and a.against:
        ap.error("--update-reference measures against the ceiling: not with --against")
    default_tol, scenario_tol = parse_tolerances(a.tolerance)
    steps = plan(a)
    reference = None
    if not a.update_reference and not a.against and REFERENCE.exists():
        reference = load_json(REFERENCE)

    if not a.no_build:
        native.build()
    print(f"ours: {common.OURS_BIN} (OURS_BIN)", flush=True)
    t_start = time.time()
    attempts, rows = {}, []
    for scenario, args, recorded in steps:
        tolerance = scenario_tol.get(scenario, default_tol)
        if a.update_reference:
            expected = None  # this run becomes the reference: nothing to judge against
        elif recorded is not None:
            expected = {k: 1.0 for k, _, _ in METRICS[scenario]}  # no worse than the recorded run
        else:
            expected = reference_ratios(reference, scenario, args)
        retries = 0 if a.update_reference else a.retries
        runs = a.runs or (3 if a.update_reference else 1)
        attempts[scenario], scenario_rows = check_scenario(scenario, args, recorded, expected, tolerance,
                                                           retries, runs)
        rows += scenario_rows

    print()
    print_table(rows, f"recorded {a.against_target}" if a.against else "ceiling")
    print_machine_note(attempts)
    print(f"\n{time.time() - t_start:.0f} s")
    bad = failed(rows)
    if a.output:
        write_results(a.output, attempts)
    if a.update_reference:
        if bad:
            print("\nreference NOT written: a scenario failed functionally")
            return 1
        write_results(REFERENCE, attempts)
    if not a.against and any(r["verdict"].startswith("ok (improved)") for r in rows):
        print("\nsome ratios are better than the reference by more than the tolerance: once that is "
              "confirmed, --update-reference (committed with the change) lets the check catch the next "
              "regression of that size")
    if bad:
        print(f"\n{len(bad)} check(s) failed:")
        for r in bad:
            print(f"  {r['scenario']} {r['metric']}: {r['verdict']}")
        return 1
    print("\nbenchmark check passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
