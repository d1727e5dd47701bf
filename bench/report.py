#!/usr/bin/python3
"""Prints the results table (Markdown) from bench/results/*.json.

    /usr/bin/python3 bench/report.py
"""
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "lib"))
from common import RESULTS  # noqa: E402


def load():
    out = {}
    for f in sorted(RESULTS.glob("*.json")):
        r = json.loads(f.read_text())
        # The native generator's files (native-*, sweep-*, regression-reference) have tables of
        # their own: bench/native/run.py, sweep.py and check.py print them.
        if "benchmark" in r and "target" in r:
            out[(r["benchmark"], r["target"])] = r
    return out


def get(res, bench, target, fmt):
    r = res.get((bench, target))
    return fmt(r) if r else "—"


def ratio(res, bench, key, invert=False):
    o, b = res.get((bench, "ours")), res.get((bench, "baseline"))
    if not o or not b or not b.get(key) or not o.get(key):
        return "—"
    x = b[key] / o[key] if invert else o[key] / b[key]
    return f"{x:.0f}×" if x >= 10 else f"{x:.1f}×"


def errors(r):
    bad = {s: n for s, n in r.get("statuses", {}).items() if not s.startswith("2")}
    text = str(r["errors"])
    if bad:
        text += " (" + ", ".join(f"{n} × {s if s != '0' else 'dropped'}" for s, n in bad.items()) + ")"
    if r.get("timeouts"):
        text += f", {r['timeouts']} timeouts"
    return text


def main():
    res = load()
    rows = [("rest-read", "GET /organizations"),
            ("rest-write", "POST /organizations/1/allocate_ip {} (repeat)"),
            ("rest-ips", "GET /organizations/1/ips (200 allocations)"),
            ("rest-login", "POST /login (c=64; hash-bound)"),
            ("rest-login-512", "POST /login (c=512 > HASH_QUEUE_LIMIT)")]
    print("| REST benchmark | ours req/s | ours p50 / p99 ms | ours errors "
          "| baseline req/s | baseline p50 / p99 ms | baseline errors | ours ÷ baseline |")
    print("|---|---:|---:|---|---:|---:|---|---:|")
    lat = lambda r: f"{r['p50_ms']:g} / {r['p99_ms']:g}"  # noqa: E731
    for bench, label in rows:
        if not any((bench, t) in res for t in ("ours", "baseline")):
            continue
        cells = [label]
        for t in ("ours", "baseline"):
            cells += [get(res, bench, t, lambda r: f"{r['ok_rps']:,.1f}"
                          if r["ok_rps"] < 100 else f"{r['ok_rps']:,.0f}"),
                      get(res, bench, t, lat), get(res, bench, t, errors)]
        cells.append(ratio(res, bench, "ok_rps"))
        print("| " + " | ".join(cells) + " |")
    if any(k[0] == "rest-alloc" for k in res):
        cells = [get(res, "rest-alloc", "ours", lambda r: f"{r['n']:,} users allocate once (c=64)")]
        for t in ("ours", "baseline"):
            cells += [get(res, "rest-alloc", t, lambda r: f"{r['rps']:,.0f} ({r['total_s']:g} s total)"),
                      get(res, "rest-alloc", t, lat), get(res, "rest-alloc", t, errors)]
        cells.append(ratio(res, "rest-alloc", "total_s", invert=True))
        print("| " + " | ".join(cells) + " |")

    print()
    print("| WebSocket: N agents join one org | ours | baseline |")
    print("|---|---|---|")
    for n in sorted({int(k[0].rsplit("-", 1)[1]) for k in res if k[0].startswith("ws-join-")}):
        b = f"ws-join-{n}"
        print(f"| {n:,} agents: time until every agent has all others | "
              + " | ".join(get(res, b, t, lambda r: f"{r['join_s']:g} s"
                                + ("" if r["complete"] else f" ({r['agents_complete']} complete)"))
                           for t in ("ours", "baseline")) + " |")
        print(f"| {n:,} agents: frames delivered / expected | "
              + " | ".join(get(res, b, t, lambda r: f"{r['frames']:,} / {r['frames_expected']:,}")
                           for t in ("ours", "baseline")) + " |")
        print(f"| {n:,} agents: server VmRSS before → after (per connection) | "
              + " | ".join(get(res, b, t, lambda r: f"{r['rss_before_kib'] / 1024:.1f} → "
                                f"{r['rss_after_kib'] / 1024:.1f} MiB ({r['rss_per_conn_kib']:g} KiB)")
                           for t in ("ours", "baseline")) + " |")
        print(f"| {n:,} agents: CPU seconds server / load generator | "
              + " | ".join(get(res, b, t, lambda r: f"{r['server_cpu_s']:g} / {r['loadgen_cpu_s']:g}")
                           for t in ("ours", "baseline")) + " |")
    for n in sorted({int(k[0].rsplit("-", 1)[1]) for k in res if k[0].startswith("ws-fanout-")}):
        b = f"ws-fanout-{n}"
        fan = lambda kind: lambda r: (  # noqa: E731
            f"{r[kind + '_p50_ms']:g} / {r[kind + '_p99_ms']:g} ms "
            f"(all: {r[kind + '_all_p50_ms']:g} / {r[kind + '_all_p99_ms']:g})"
            if kind + "_p50_ms" in r else "n/a (no `update`)")
        print(f"| {n:,} agents: join → `peer_online` at each other, p50 / p99 | "
              + " | ".join(get(res, b, t, fan("join")) for t in ("ours", "baseline")) + " |")
        print(f"| {n:,} agents: `update` → `peer_update` at each other, p50 / p99 | "
              + " | ".join(get(res, b, t, fan("update")) for t in ("ours", "baseline")) + " |")
    if ("ws-signal", "ours") in res:
        r = res[("ws-signal", "ours")]
        print(f"| `signal` round trip A → B → A, p50 / p99 ({r['round_trips']} trips, "
              f"{r['lost']} lost) | {r['rtt_p50_ms']:g} / {r['rtt_p99_ms']:g} ms | n/a (no `signal`) |")

    cluster_table(res)

    dates = sorted(r["date"] for r in res.values())
    if dates:
        print(f"\nMeasured {dates[0]} … {dates[-1]}.")
        busy = [f"{b} {t} ({p}%)" for (b, t), r in sorted(res.items())
                for p in [max((v for k, v in r.items() if k.endswith("other_cpu_pct")), default=0)] if p >= 10]
        print("Other processes of the machine used ≥ 10% of a core during: " + ", ".join(busy)
              if busy else "Other processes of the machine used < 10% of a core in every measurement.")


def cluster_table(res):
    """The cluster benchmarks (bench/cluster/run.py), ours only."""
    rows = []
    if ("cluster-latency", "ours") in res:
        r = res[("cluster-latency", "ours")]
        for key, what in (("register_on_A_to_peer_online_at_B", "`register` on A → `peer_online` at B"),
                          ("register_on_A_to_peer_online_at_A", "`register` on A → `peer_online` at A"),
                          ("close_on_A_to_peer_offline_at_B", "close on A → `peer_offline` at B")):
            rows.append((what, f"p50 {r[key]['p50_ms']:g} ms, p99 {r[key]['p99_ms']:g} ms"))
    for seconds in (15, 3):
        r = res.get((f"cluster-kill-{seconds}s", "ours"))
        if r:
            rows.append((f"`kill -9` → last `peer_offline` ({r['agents']} agents, dead after {seconds} s)",
                         f"{r['last_offline_s']:g} s ({r['announced']} announced, {r['duplicates']} twice)"))
    if ("cluster-connect", "ours") in res:
        r = res[("cluster-connect", "ours")]
        for key, what in (("sqlite_1", "one process, SQLite"), ("postgres_1", "one process, PostgreSQL"),
                          ("postgres_3", "three processes, PostgreSQL")):
            rows.append((f"connect + register ({r['agents']:,} agents): {what}", f"{r[key]['registrations_per_s']:,}/s"))
    if ("cluster-writes", "ours") in res:
        r = res[("cluster-writes", "ours")]
        rows.append(("REST writes alone", f"{r['alone']['ok_rps']:,}/s"))
        for key, what in (("churn_on_the_same_database", "with presence churn on the same database"),
                          ("churn_on_another_database", "with the churn on another database (CPU only)")):
            if key in r:
                rows.append((f"REST writes {what}",
                             f"{r[key]['ok_rps']:,}/s ({r[key]['ratio_to_alone']:g}×, "
                             f"{r[key]['presence_changes_per_s']} presence changes/s)"))
    if rows:
        print("\n| Cluster (ours) | measured |\n|---|---|")
        for what, value in rows:
            print(f"| {what} | {value} |")


if __name__ == "__main__":
    main()
