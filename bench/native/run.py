#!/usr/bin/python3
"""Native load generator runs: ours vs the FastAPI baseline vs sig-ceiling, one server at a time.

    /usr/bin/python3 bench/native/run.py                      # every scenario, every server
    /usr/bin/python3 bench/native/run.py storm fanout         # some scenarios
    /usr/bin/python3 bench/native/run.py --target ours --target ceiling
    /usr/bin/python3 bench/native/run.py storm --set storm=-n,2000   # other sizes (all servers)
    /usr/bin/python3 bench/native/run.py --smoke              # tiny, ours only, for CI

Builds build/bench-native (sig-loadgen, sig-ceiling) and, when missing, build/bench's
signaling-server. Each scenario gets a fresh server: ours as bench/lib/common.py starts it (abuse
limits off, cheap hashing, fresh SQLite), the baseline via BASELINE_RUN (users seeded into its
database, tokens minted, as common.py does; skipped when BASELINE_RUN is absent), sig-ceiling.
Prints a table and writes bench/results/native-<scenario>.json (not with --smoke).

Exit status: non-zero when a scenario failed functionally (wrong or missing messages, errors,
a server that did not start), never because of a figure.
"""
import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT / "bench/lib"))
# The machine is shared: by default wait at most 30 s (not 10 min) for others' work to calm down.
os.environ.setdefault("BENCH_QUIET_WAIT", "30")
import common  # noqa: E402

BUILD = ROOT / "build/bench-native"
LOADGEN = BUILD / "sig-loadgen"
CEILING = BUILD / "sig-ceiling"
SCENARIOS = ["rest", "connect", "storm", "fanout", "memory", "relay"]
TARGETS = ["ours", "baseline", "ceiling"]

# Sizes per server. The baseline gets smaller ones: its registration scans every connection
# (O(N) per register), its REST set-up runs at ~200 requests/s, and it has no `signal`.
SIZES = {
    "ours": {
        "rest": ["--connections", "32", "--duration", "5", "--warmup", "1"],
        "connect": ["-n", "5000", "--org-size", "5", "--window", "500", "--source-addrs", "8"],
        "storm": ["-n", "1000"],
        "fanout": ["-n", "1000", "--rounds", "50"],
        "memory": ["-n", "19000", "--org-size", "5", "--steps", "1000,5000,10000,19000", "--source-addrs", "16"],
        "relay": ["--pairs", "200", "--rate", "40", "--duration", "5", "--warmup", "1"],
    },
    "baseline": {
        "rest": ["--connections", "32", "--duration", "3", "--warmup", "1"],
        "connect": ["-n", "1000", "--org-size", "5", "--window", "500", "--setup-connections", "4"],
        "storm": ["-n", "200", "--setup-connections", "4"],
        "fanout": ["-n", "200", "--rounds", "20", "--setup-connections", "4"],
        "memory": ["-n", "1000", "--org-size", "5", "--steps", "500,1000", "--setup-connections", "4"],
    },
    "smoke": {
        "rest": ["--connections", "8", "--duration", "1", "--warmup", "0.2"],
        "connect": ["-n", "100", "--org-size", "5", "--window", "50", "--source-addrs", "2"],
        "storm": ["-n", "50"],
        "fanout": ["-n", "20", "--rounds", "5"],
        "memory": ["-n", "200", "--org-size", "5", "--steps", "100,200"],
        "relay": ["--pairs", "10", "--rate", "20", "--duration", "1", "--warmup", "0.3"],
    },
}
SIZES["ceiling"] = SIZES["ours"]

# The headline figure of each scenario: (result key, unit, higher is better, size keys).
HEADLINE = {
    "rest": ("per_s", "req/s", True, ["connections"]),
    "connect": ("per_s", "/s", True, ["n", "org_size"]),
    "storm": ("elapsed_s", "s", False, ["n"]),
    "fanout": ("online_last_p99_ms", "ms", False, ["n"]),
    "memory": ("bytes_per_agent", "B/agent", False, ["n"]),
    "relay": ("rtt_p99_ms", "ms", False, ["pairs"]),
}


def target_check(scenario, res, ceiling):
    """(target text, verdict) for ours' result, from the performance issue."""
    if res is None:
        return "", "—"
    if not res.get("ok"):
        return "", "FAILED"
    if scenario == "memory":
        text = "≤ 4,096 B/agent at 19,000"
        if res["n"] != 19000:
            return text, f"n/a (n={res['n']})"
        return text, "meets" if 0 <= res["bytes_per_agent"] <= 4096 else "misses"
    if scenario == "connect":
        text = "≥ 8,000/s (orgs of 5)"
        return text, "meets" if res["per_s"] >= 8000 else "misses"
    if scenario == "storm":
        text = "1,000 peers: ≤ 1.5 s, ≥ 320k msgs/s"
        if res["n"] != 1000:
            return text, f"n/a (n={res['n']})"
        good = res["elapsed_s"] <= 1.5 and res["msgs_per_s"] >= 320000
        return text, "meets" if good else "misses"
    if scenario == "fanout":
        text = "1,000 peers: p99 ≤ 1.2× ceiling"
        if res["n"] != 1000:
            return text, f"n/a (n={res['n']})"
        if not ceiling or not ceiling.get("ok") or ceiling.get("n") != res["n"]:
            return text, "n/a (no ceiling run)"
        return text, "meets" if res["online_last_p99_ms"] <= 1.2 * ceiling["online_last_p99_ms"] else "misses"
    if scenario == "rest":
        text = "≥ 40,000 req/s (32 conns)"
        if res["connections"] != 32:
            return text, f"n/a (c={res['connections']})"
        return text, "meets" if res["per_s"] >= 40000 else "misses"
    return "", "—"


# ---------------------------------------------------------------- build

def build():
    # OURS_BIN (bench/lib/common.py) names a server built elsewhere, e.g. CI's Release build.
    if "OURS_BIN" not in os.environ and not (ROOT / "build/bench/bin/signaling-server").exists():
        print("== building build/bench (signaling-server)", flush=True)
        subprocess.run(["cmake", "--preset", "release", "-B", "build/bench", "-DSIG_BUILD_TESTS=OFF"], cwd=ROOT,
                       check=True, stdout=subprocess.DEVNULL)
        subprocess.run(["cmake", "--build", "build/bench", "--target", "signaling-server", "-j2"], cwd=ROOT,
                       check=True, stdout=subprocess.DEVNULL)
    if not (BUILD / "build.ninja").exists():
        subprocess.run(["cmake", "-S", str(HERE), "-B", str(BUILD), "-G", "Ninja", "-DCMAKE_BUILD_TYPE=Release"],
                       check=True, stdout=subprocess.DEVNULL)
    subprocess.run(["cmake", "--build", str(BUILD), "-j2"], check=True, stdout=subprocess.DEVNULL)


# ---------------------------------------------------------------- servers

class Ceiling:
    """sig-ceiling on a free loopback port, with the interface of common.Server that we use."""

    def __init__(self):
        self.target = "ceiling"
        self.port = common.free_port()
        self.proc = subprocess.Popen([str(CEILING), "--port", str(self.port)], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        self.pid = self.proc.pid
        common.wait_serving(f"http://127.0.0.1:{self.port}/openapi.json", self.proc, "sig-ceiling did not start",
                            timeout=10)

    def cpu_seconds(self):
        fields = open(f"/proc/{self.pid}/stat").read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self):
        self.proc.terminate()
        self.proc.wait(10)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def start(target):
    if target == "ceiling":
        return Ceiling()
    return common.Server(target, fast_hash=True)


def baseline_tokens(server, n, directory):
    """The baseline's users seeded into its database and their minted tokens in a file, as
    bench/lib/common.py does (its bcrypt /register would take 0.3 s per user)."""
    ids = common.seed_users(server, n, prefix="u")
    path = Path(directory) / "tokens"
    path.write_text("".join(common.mint_token(i) + "\n" for i in ids))
    return str(path)


def users_needed(scenario, args):
    def opt(name, default):
        return int(args[args.index(name) + 1]) if name in args else default
    n = opt("-n", 1000)
    if scenario == "rest":
        return opt("--connections", 32)
    if scenario == "fanout":
        return n + min(opt("--rounds", 50), 4)
    if scenario == "memory" and "--steps" in args:
        return max(int(s) for s in args[args.index("--steps") + 1].split(","))
    if scenario == "relay":
        return 2 * opt("--pairs", 200)
    return n


# ---------------------------------------------------------------- one run

def loadgen_result(scenario, completed):
    """The JSON result of a finished sig-loadgen run (a failure record when it printed none);
    echoes its human line and its stderr other than progress."""
    lines = [x for x in completed.stdout.splitlines() if x.strip()]
    try:
        res = json.loads(lines[-1])
    except (IndexError, json.JSONDecodeError):
        res = {"scenario": scenario, "ok": False,
               "failures": [f"sig-loadgen exited {completed.returncode} without a result: "
                            f"{completed.stderr.strip()[-500:]}"]}
    if lines and not lines[0].startswith("{"):
        print("   " + lines[0], flush=True)
    for line in completed.stderr.splitlines():
        if not line.startswith(("setup:", "memory:")):
            print("   ! " + line, flush=True)
    return res


def run_one(scenario, target, args, timeout):
    """Starts a fresh `target`, runs sig-loadgen `scenario` against it; returns its JSON result
    (with CPU figures added) or a failure record."""
    try:
        server = start(target)
    except RuntimeError as e:
        return {"scenario": scenario, "ok": False, "failures": [str(e)]}
    with server, tempfile.TemporaryDirectory(prefix="native-") as tmp:
        cmd = [str(LOADGEN), scenario, "--port", str(server.port)] + args
        if scenario == "memory":
            cmd += ["--server-pid", str(server.pid)]
        if target == "baseline":
            cmd += ["--tokens-file", baseline_tokens(server, users_needed(scenario, args), tmp)]
        # As recorded: no path of this machine (the binary by name, the temporary tokens file hidden).
        shown = " ".join(["sig-loadgen", scenario] + ["<tokens-file>" if w.startswith(tmp) else w for w in cmd[4:]])
        print("   $ " + shown, flush=True)
        cpu0, kids0 = server.cpu_seconds(), resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        try:
            p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            return {"scenario": scenario, "ok": False, "failures": [f"sig-loadgen timed out after {timeout} s"]}
        wall = time.perf_counter() - t0
        kids = resource.getrusage(resource.RUSAGE_CHILDREN)
        res = loadgen_result(scenario, p)
        # CPU over the whole run, set-up included: which side was busy.
        res.update(server_cpu_s=round(server.cpu_seconds() - cpu0, 2),
                   loadgen_cpu_s=round(kids.ru_utime + kids.ru_stime - kids0.ru_utime - kids0.ru_stime, 2),
                   run_wall_s=round(wall, 2), cmd=shown)
        if target != "ceiling" and server.proc.poll() is not None:
            res["ok"] = False
            res.setdefault("failures", []).append(f"{target} exited with {server.proc.returncode}")
        return res


# ---------------------------------------------------------------- table

def print_rows(rows):
    """Prints rows of strings as an aligned text table; the first row is the header."""
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for i, r in enumerate(rows):
        print(" | ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())
        if i == 0:
            print("-+-".join("-" * w for w in widths))


def fmt(v):
    if v is None:
        return "—"
    if isinstance(v, float) and v < 100:
        return f"{v:.3g}"
    return f"{v:,.0f}"


def cell(scenario, res):
    if res is None:
        return "—"
    if not res.get("ok"):
        return "FAILED"
    key, unit, _, sizes = HEADLINE[scenario]
    return f"{fmt(res.get(key))} {unit} ({', '.join(f'{k}={res.get(k)}' for k in sizes)})"


def ratio(scenario, a, b):
    key, _, higher, sizes = HEADLINE[scenario]
    if not a or not b or not a.get("ok") or not b.get("ok"):
        return "—"
    if any(a.get(k) != b.get(k) for k in sizes):
        return "n/a (sizes differ)"
    x, y = a.get(key), b.get(key)
    if not x or not y or x < 0 or y < 0:
        return "—"
    return f"{x / y:.2f}× " + ("(higher is better)" if higher else "(lower is better)")


def table(results, smoke=False):
    rows = [["scenario", "ours", "baseline", "ceiling", "ours÷baseline", "ours÷ceiling", "target", "verdict"]]
    for scenario, by in results.items():
        target, verdict = target_check(scenario, by.get("ours"), by.get("ceiling"))
        if smoke and verdict != "FAILED":
            target, verdict = "(smoke: functional check only)", "ok" if by.get("ours") else "—"
        rows.append([scenario, cell(scenario, by.get("ours")), cell(scenario, by.get("baseline")),
                     cell(scenario, by.get("ceiling")), ratio(scenario, by.get("ours"), by.get("baseline")),
                     ratio(scenario, by.get("ours"), by.get("ceiling")), target, verdict])
    print_rows(rows)


# ---------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("scenarios", nargs="*", choices=SCENARIOS + [[]], help="default: all")
    ap.add_argument("--target", action="append", choices=TARGETS, help="default: all (--smoke: ours)")
    ap.add_argument("--smoke", action="store_true", help="every scenario tiny, ours only; exit 1 on a functional failure")
    ap.add_argument("--set", action="append", default=[], metavar="SCENARIO=ARGS",
                    help="sig-loadgen arguments for SCENARIO on every server, comma-separated "
                         "(e.g. storm=-n,2000): replaces the defaults")
    ap.add_argument("--timeout", type=float, default=600, help="per sig-loadgen run (s)")
    ap.add_argument("--no-build", action="store_true")
    a = ap.parse_args()
    scenarios = a.scenarios or SCENARIOS
    targets = a.target or (["ours"] if a.smoke else TARGETS)
    overrides = {}
    for s in a.set:
        name, _, rest = s.partition("=")
        if name not in SCENARIOS:
            ap.error(f"--set: unknown scenario {name}")
        overrides[name] = [x for x in rest.split(",") if x]
    if a.smoke:
        common.wait_quiet = lambda *args, **kw: None  # CI: no waiting for a quiet machine
    if not a.no_build:
        build()
    if "baseline" in targets and not common.BASELINE_RUN.exists():
        print(f"== baseline skipped: {common.BASELINE_RUN} not found (set BASELINE_RUN)")
        targets = [t for t in targets if t != "baseline"]
    t_start = time.time()
    results, failed = {}, []
    for scenario in scenarios:
        results[scenario] = {}
        for target in targets:
            sizes = SIZES["smoke" if a.smoke else target]
            if scenario not in sizes:
                print(f"== {scenario} / {target}: skipped (not supported there)")
                continue
            args = overrides.get(scenario, sizes[scenario])
            print(f"== {scenario} / {target}", flush=True)
            res = run_one(scenario, target, args, 60 if a.smoke else a.timeout)
            results[scenario][target] = res
            if not res.get("ok"):
                failed.append(f"{scenario}/{target}: {'; '.join(res.get('failures', []))}")
        if not a.smoke:
            by = results[scenario]
            target_text, verdict = target_check(scenario, by.get("ours"), by.get("ceiling"))
            common.RESULTS.mkdir(parents=True, exist_ok=True)
            (common.RESULTS / f"native-{scenario}.json").write_text(json.dumps({
                "scenario": scenario, "date": time.strftime("%Y-%m-%dT%H:%M:%S"),
                "loadavg": open("/proc/loadavg").read().split()[:3], "nproc": os.cpu_count(),
                "target": target_text, "verdict": verdict, "results": by}, indent=1) + "\n")
    print()
    table(results, a.smoke)
    print(f"\n{time.time() - t_start:.0f} s")
    if failed:
        print("\nfunctional failures:\n  " + "\n  ".join(failed))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
