#!/usr/bin/python3
"""Cluster scenarios of the native load generator: ours as K processes on one PostgreSQL.

    /usr/bin/python3 bench/native/cluster.py                    # connect, storm, fanout: K=3, then K=1
    /usr/bin/python3 bench/native/cluster.py storm fanout memory
    /usr/bin/python3 bench/native/cluster.py --processes 2 --no-reference
    /usr/bin/python3 bench/native/cluster.py --env IO_THREADS=1   # any server setting, every process
    /usr/bin/python3 bench/native/cluster.py --quick            # tiny sizes, results under build/
    /usr/bin/python3 bench/native/cluster.py --smoke            # CI: tiny, every scenario, < 60 s

Starts one throwaway PostgreSQL (scripts/test-postgres.sh, as bench/cluster/run.py does, through
bench/lib/pgcluster.py). For each scenario: on a fresh schema, K server processes in cluster mode
(DATABASE_URL=postgresql://…; abuse limits off and cheap hashing as in bench/lib/common.py), and
sig-loadgen with --ports spreading the agents' WebSockets over them round-robin by agent index
(REST set-up on the first; fanout's newcomer always on the first, so the receivers on the others
measure the cross-process path). Then the same against one process on PostgreSQL (K=1) for
reference. Every run checks each agent's peers by identity (sig-loadgen --ports): a peer_online
missing, repeated or unexpected on any process is a functional failure.

Prints a table and writes bench/results/native-cluster-<scenario>.json (--quick: under
build/bench-native/cluster-quick/; --smoke: nothing). The server binary is copied first, so a
rebuild during the run cannot change it between K and the reference.

Exit status: 1 when a run failed functionally (missing, repeated or wrong messages, errors, a
server that did not start or died), never because of a figure.
"""
import argparse
import hashlib
import json
import os
import resource
import shutil
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
import pgcluster  # noqa: E402

sys.path.insert(0, str(HERE))
import run as native  # noqa: E402  (its sig-loadgen result parsing)

BUILD = ROOT / "build/bench-native"
LOADGEN = BUILD / "sig-loadgen"
SCENARIOS = ["connect", "storm", "fanout", "memory"]
DEFAULT_SCENARIOS = ["connect", "storm", "fanout"]

SIZES = {
    "full": {
        "connect": ["-n", "3000", "--org-size", "5", "--window", "500"],
        "storm": ["-n", "1000"],
        "fanout": ["-n", "1000", "--rounds", "20"],
        "memory": ["-n", "6000", "--org-size", "5", "--steps", "2000,4000,6000", "--source-addrs", "4"],
    },
    "quick": {
        "connect": ["-n", "300", "--org-size", "5", "--window", "100"],
        "storm": ["-n", "100"],
        "fanout": ["-n", "100", "--rounds", "5"],
        "memory": ["-n", "600", "--org-size", "5", "--steps", "300,600"],
    },
    "smoke": {
        "connect": ["-n", "100", "--org-size", "5", "--window", "50"],
        "storm": ["-n", "60"],
        "fanout": ["-n", "30", "--rounds", "5"],
        "memory": ["-n", "200", "--org-size", "5", "--steps", "100,200"],
    },
}

# Rows of the table: (label, result key, unit, higher is better).
METRICS = {
    "connect": [("connects+registers/s", "per_s", "/s", True),
                ("connect→response p50", "latency_p50_ms", "ms", False),
                ("connect→response p99", "latency_p99_ms", "ms", False),
                ("all know their org", "all_known_s", "s", False)],
    "storm": [("everybody knows everybody", "elapsed_s", "s", False),
              ("delivered msgs/s", "msgs_per_s", "/s", True),
              ("all upgraded", "all_upgraded_s", "s", False),
              ("all registered", "all_registered_s", "s", False)],
    "fanout": [("last peer_online p50", "online_last_p50_ms", "ms", False),
               ("last peer_online p99", "online_last_p99_ms", "ms", False),
               ("  on the newcomer's process, p50", "online_same_last_p50_ms", "ms", False),
               ("  on the other processes, p50", "online_cross_last_p50_ms", "ms", False),
               ("last peer_offline p50", "offline_last_p50_ms", "ms", False),
               ("last peer_offline p99", "offline_last_p99_ms", "ms", False),
               ("  on the other processes, p50", "offline_cross_last_p50_ms", "ms", False)],
    "memory": [("RSS growth per idle agent (sum)", "bytes_per_agent", "B", False),
               ("RSS after set-up (sum)", "rss_before_kib", "KiB", False),
               ("RSS at the last step (sum)", "rss_last_kib", "KiB", False)],
}
CPU = [("server CPU (all processes)", "server_cpu_s", "s"), ("PostgreSQL CPU", "postgres_cpu_s", "s"),
       ("sig-loadgen CPU", "loadgen_cpu_s", "s"), ("other processes' CPU", "other_cpu_pct", "% of a core")]


def build():
    if not (BUILD / "build.ninja").exists():
        subprocess.run(["cmake", "-S", str(HERE), "-B", str(BUILD), "-G", "Ninja", "-DCMAKE_BUILD_TYPE=Release"],
                       check=True, stdout=subprocess.DEVNULL)
    subprocess.run(["cmake", "--build", str(BUILD), "-j2"], check=True, stdout=subprocess.DEVNULL)


def server_binary(given):
    """The server to run: --server-bin, $OURS_BIN, build/bench's, else build/release's."""
    if given:
        return Path(given).resolve()
    if "OURS_BIN" in os.environ:
        return common.OURS_BIN
    for candidate in (ROOT / "build/bench/bin/signaling-server", ROOT / "build/release/bin/signaling-server"):
        if candidate.exists():
            return candidate
    raise SystemExit("no signaling-server: build one (cmake --preset release) or set OURS_BIN")


def machine_busy_seconds():
    v = [int(x) for x in open("/proc/stat").readline().split()[1:]]
    return (v[0] + v[1] + v[2] + v[5] + v[6]) / os.sysconf("SC_CLK_TCK")


LOG_LEVELS = ("error", "critical")
WAIT_QUIET = True  # before each run, wait (BENCH_QUIET_WAIT s at most) for a quiet machine


def log_findings(text):
    """Lines of a server log at error level or above, and the number of warnings (the expected
    one about the cheap password hashing left out)."""
    errors, warnings = [], 0
    for line in text.splitlines():
        parts = line.split(None, 3)
        level = parts[2] if len(parts) > 2 else ""
        if level in LOG_LEVELS:
            errors.append(line)
        elif level == "warning" and "password hashing cost" not in line:
            warnings += 1
    return errors, warnings


def run_one(pg, binary, scenario, k, args, env, timeout):
    """K fresh processes on a fresh schema, sig-loadgen `scenario` over them: its JSON result with
    CPU figures, or a failure record."""
    if WAIT_QUIET:
        common.wait_quiet()
    url = pg.new_schema()
    processes = []
    try:
        try:
            for _ in range(k):
                processes.append(pgcluster.Process(url, env, binary))
        except RuntimeError as e:
            return {"scenario": scenario, "ok": False, "processes": k, "failures": [str(e)]}
        cmd = [str(LOADGEN), scenario, "--ports", ",".join(str(p.port) for p in processes)] + args
        if scenario == "memory":
            cmd += ["--server-pid", ",".join(str(p.pid) for p in processes)]
        shown = [scenario, f"--ports <{k} processes>"] + args
        print("   $ sig-loadgen " + " ".join(shown), flush=True)
        cpu0 = [p.cpu_seconds() for p in processes]
        pg0, kids0, busy0 = pg.cpu_seconds(), resource.getrusage(resource.RUSAGE_CHILDREN), machine_busy_seconds()
        t0 = time.perf_counter()
        try:
            out = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            return {"scenario": scenario, "ok": False, "processes": k,
                    "failures": [f"sig-loadgen timed out after {timeout} s"]}
        wall = time.perf_counter() - t0
        kids = resource.getrusage(resource.RUSAGE_CHILDREN)
        server_cpu = sum(p.cpu_seconds() for p in processes) - sum(cpu0)
        pg_cpu = pg.cpu_seconds() - pg0
        loadgen_cpu = kids.ru_utime + kids.ru_stime - kids0.ru_utime - kids0.ru_stime
        other = max(0.0, machine_busy_seconds() - busy0 - server_cpu - pg_cpu - loadgen_cpu)
        res = native.loadgen_result(scenario, out)
        if scenario == "memory" and res.get("steps"):
            res["rss_last_kib"] = res["steps"][-1]["rss_kib"]
        # CPU over the whole run, set-up included: who was busy.
        res.update(processes=k, server_cpu_s=round(server_cpu, 2), postgres_cpu_s=round(pg_cpu, 2),
                   loadgen_cpu_s=round(loadgen_cpu, 2), other_cpu_pct=round(100 * other / wall),
                   run_wall_s=round(wall, 2), cmd="sig-loadgen " + " ".join(shown))
        if out.returncode != 0 and res.get("ok"):
            res["ok"] = False
            res.setdefault("failures", []).append(f"sig-loadgen exited {out.returncode}")
        log_errors, log_warnings = [], 0
        for i, p in enumerate(processes):
            if p.proc.poll() is not None:
                res["ok"] = False
                res.setdefault("failures", []).append(f"process {i} exited with {p.proc.returncode}")
            errors, warnings = log_findings(p.log_text())
            log_errors += [f"process {i}: {e}" for e in errors]
            log_warnings += warnings
        res["server_log_errors"] = log_errors[:10]
        res["server_log_error_count"] = len(log_errors)
        res["server_log_warnings"] = log_warnings
        for e in log_errors[:5]:
            print("   log: " + e, flush=True)
        if not res.get("ok"):
            for i, p in enumerate(processes):
                tail = p.log_text().splitlines()[-15:]
                if tail:
                    print(f"   --- process {i} (port {p.port}) log, last lines:\n      " + "\n      ".join(tail))
        return res
    finally:
        for p in processes:
            p.stop()


# ---------------------------------------------------------------- table

def fmt(v):
    if v is None or (isinstance(v, (int, float)) and v < 0):
        return "—"
    if isinstance(v, float) and v < 100:
        return f"{v:.3g}"
    return f"{v:,.0f}"


def ratio_value(a, b, key):
    if not a or not b or not a.get("ok") or not b.get("ok"):
        return None
    x, y = a.get(key), b.get(key)
    if not isinstance(x, (int, float)) or not isinstance(y, (int, float)) or x <= 0 or y <= 0:
        return None
    return round(x / y, 3)


def ratio(a, b, key):
    r = ratio_value(a, b, key)
    return "—" if r is None else f"{r:.2f}×"


def check_cell(res):
    if res is None:
        return "—"
    if not res.get("ok"):
        return "FAILED"
    pc = res.get("peer_check")
    return "ok" if pc is None else f"ok ({pc.get('agents_checked')} agents' peers)"


def table(results, k, reference):
    labels = [f"K={k}"] + (["K=1"] if reference else [])
    rows = [["scenario", "figure"] + labels + ([f"K={k} ÷ K=1"] if reference else [])]
    for scenario, by in results.items():
        a, b = by.get(f"k{k}"), by.get("k1")
        for label, key, unit, _higher in METRICS[scenario] + [(lbl, key, unit, None) for lbl, key, unit in CPU]:
            cells = [fmt(r.get(key)) + " " + unit if r and r.get("ok") and key in r else
                     ("FAILED" if r and not r.get("ok") else "—") for r in (a, b)[:len(labels)]]
            if all(c == "—" for c in cells):
                continue
            shown_ratio = ratio(a, b, key) if key != "other_cpu_pct" else ""
            rows.append([scenario, label] + cells + ([shown_ratio] if reference else []))
        rows.append([scenario, "functional check"] + [check_cell(r) for r in (a, b)[:len(labels)]] +
                    ([""] if reference else []))
    native.print_rows(rows)


# ---------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("scenarios", nargs="*", choices=SCENARIOS + [[]],
                    help=f"default: {' '.join(DEFAULT_SCENARIOS)} (--smoke: all)")
    ap.add_argument("--processes", "-k", type=int, default=3, help="K, the processes of the cluster (default 3)")
    ap.add_argument("--no-reference", action="store_true", help="skip the one-process (K=1) reference runs")
    ap.add_argument("--quick", action="store_true", help="tiny sizes; results under build/bench-native/cluster-quick")
    ap.add_argument("--smoke", action="store_true",
                    help="CI: tiny sizes, every scenario, K and K=1, no waiting for a quiet machine, no files; "
                         "exit 1 only on a functional failure")
    ap.add_argument("--set", action="append", default=[], metavar="SCENARIO=ARGS",
                    help="sig-loadgen arguments for SCENARIO, comma-separated (e.g. storm=-n,2000): replace the "
                         "defaults")
    ap.add_argument("--env", action="append", default=[], metavar="NAME=VALUE",
                    help="a server setting for every process (e.g. IO_THREADS=1); repeatable")
    ap.add_argument("--server-bin", help="default: $OURS_BIN, build/bench's, else build/release's signaling-server")
    ap.add_argument("--timeout", type=float, default=600, help="per sig-loadgen run (s)")
    ap.add_argument("--no-build", action="store_true", help="do not (re)build sig-loadgen")
    a = ap.parse_args()
    if a.processes < 1:
        ap.error("--processes must be at least 1")
    scenarios = a.scenarios or (SCENARIOS if a.smoke else DEFAULT_SCENARIOS)
    sizes = SIZES["smoke" if a.smoke else "quick" if a.quick else "full"]
    overrides = {}
    for s in a.set:
        name, _, rest = s.partition("=")
        if name not in SCENARIOS:
            ap.error(f"--set: unknown scenario {name}")
        overrides[name] = [x for x in rest.split(",") if x]
    env = {}
    for s in a.env:
        name, eq, value = s.partition("=")
        if not eq:
            ap.error(f"--env wants NAME=VALUE, not {s}")
        env[name] = value
    global WAIT_QUIET
    WAIT_QUIET = not a.smoke  # CI: no waiting for a quiet machine
    counts = [a.processes] + ([1] if not a.no_reference and a.processes != 1 else [])
    out_dir = None if a.smoke else (BUILD / "cluster-quick" if a.quick else common.RESULTS)

    if not a.no_build:
        build()
    original = server_binary(a.server_bin)
    work = Path(tempfile.mkdtemp(prefix="native-cluster-"))
    binary = work / "signaling-server"
    shutil.copy2(original, binary)
    digest = hashlib.sha256(binary.read_bytes()).hexdigest()[:16]
    built = time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(original.stat().st_mtime))
    # The commit checked out, and whether the server's sources differ from it (the binary may be
    # older or newer than both: its sha256 and time say which build it was).
    head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                          text=True).stdout.strip()
    sources_dirty = bool(subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--", "src", "cmake",
                                         "CMakeLists.txt"], capture_output=True, text=True).stdout.strip())
    print(f"== server {original} (sha256 {digest}…, copied), K={a.processes}"
          + (", reference K=1" if 1 in counts and a.processes != 1 else ""), flush=True)

    t_start = time.time()
    results, failed = {}, []
    pg = pgcluster.Postgres()
    try:
        pg_version = pg.version()
        for scenario in scenarios:
            args = overrides.get(scenario, sizes[scenario])
            results[scenario] = {}
            loadavg = open("/proc/loadavg").read().split()[:3]
            for k in counts:
                print(f"== {scenario} / K={k}", flush=True)
                res = run_one(pg, binary, scenario, k, args, env, 60 if a.smoke else a.timeout)
                results[scenario][f"k{k}"] = res
                if not res.get("ok"):
                    failed.append(f"{scenario} K={k}: {'; '.join(res.get('failures', []))}")
            if out_dir:
                out_dir.mkdir(parents=True, exist_ok=True)
                by = results[scenario]
                record = {
                    "scenario": scenario, "date": time.strftime("%Y-%m-%dT%H:%M:%S"), "loadavg": loadavg,
                    "nproc": os.cpu_count(), "processes": a.processes, "loadgen_args": args, "server_env": env,
                    "server_bin": common.repo_path(original), "server_sha256": digest, "server_bin_mtime": built,
                    "git_head_at_run": head, "server_sources_dirty_at_run": sources_dirty, "postgres": pg_version,
                    "what": ("sig-loadgen --ports: agents' WebSockets round-robin over K server processes on one "
                             "PostgreSQL (fresh schema per run); k1 = one process on the same PostgreSQL"),
                    "results": by,
                }
                if len(counts) > 1:
                    record["ratios_k_over_k1"] = {
                        key: ratio_value(by.get(f"k{a.processes}"), by.get("k1"), key)
                        for _, key, _, _ in METRICS[scenario]}
                (out_dir / f"native-cluster-{scenario}.json").write_text(json.dumps(record, indent=1) + "\n")
    finally:
        pg.stop()
        shutil.rmtree(work, ignore_errors=True)
    print()
    table(results, a.processes, len(counts) > 1)
    print(f"\n{time.time() - t_start:.0f} s" + (f"; results in {out_dir}" if out_dir else ""))
    if failed:
        print("\nfunctional failures:\n  " + "\n  ".join(failed))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
