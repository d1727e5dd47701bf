#!/usr/bin/python3
"""REST benchmarks, ours vs the FastAPI baseline, each on a freshly started server.

    /usr/bin/python3 bench/rest/run.py BENCH... [--target ours|baseline] [-d 10] [-c 64]

BENCH: read | write | ips | login | login-overload | alloc | all
  read            GET /organizations with a valid token (authenticated read)
  write           POST /organizations/1/allocate_ip {} repeated (idempotent authenticated write)
  ips             GET /organizations/1/ips with 200 allocations
  login           POST /login for 30 s (hash-bound; ours at its default Argon2id cost, baseline
                  bcrypt cost 12)
  login-overload  POST /login with 512 connections, ours only: > HASH_QUEUE_LIMIT (256) -> 503
  alloc           N users (2,000) each POST allocate_ip once, 64 at a time: total time
read/write/ips/login use wrk (bench/rest/request.lua): -t2, keep-alive, 3 s warm-up, then the
measured run. alloc uses a small asyncio client (every request has a different token).
"""
import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lib"))
from common import (PASSWORD, TARGETS, CpuMeter, HttpConn, Server, percentile, save,  # noqa: E402
                    setup_org)

LUA = Path(__file__).with_name("request.lua")


def wrk(server, method, path, token="", body="", duration=10, conns=64, threads=2):
    env = dict(os.environ, BENCH_METHOD=method, BENCH_PATH=path, BENCH_TOKEN=token,
               BENCH_BODY=body)
    cmd = ["wrk", f"-t{threads}", f"-c{conns}", f"-d{duration}s", "--timeout", "30s",
           "-s", str(LUA), server.url]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True).stdout
    line = next(l for l in out.splitlines() if l.startswith("RESULT "))
    r = json.loads(line[len("RESULT "):])
    ok = sum(n for s, n in r["statuses"].items() if s.startswith("2"))
    return {
        "cmd": " ".join(cmd[:-3] + ["request.lua", "URL"]) + f"  # {method} {path}",
        "rps": round(r["requests"] / (r["duration_us"] / 1e6), 1),
        "ok_rps": round(ok / (r["duration_us"] / 1e6), 1),
        "p50_ms": round(r["p50_us"] / 1000, 2),
        "p99_ms": round(r["p99_us"] / 1000, 2),
        "max_ms": round(r["max_us"] / 1000, 2),
        "requests": r["requests"],
        "errors": r["socket_errors"] + r["timeouts"] + r["non2xx"],
        "statuses": r["statuses"],
        "retry_after": r["retry_after"],
        "timeouts": r["timeouts"],
    }


def measure(name, server, method, path, token="", body="", args=None, conns=None, duration=None):
    conns = conns or args.c
    wrk(server, method, path, token, body, duration=3, conns=conns)  # warm-up
    server.wait_idle()
    meter = CpuMeter(server)
    r = wrk(server, method, path, token, body, duration=duration or args.d, conns=conns)
    r.update(meter.read(), rss_kib=server.rss_kib())
    return save(name, server.target, r)


def bench_read(target, args):
    with Server(target, fast_hash=True) as s:
        _, tokens = setup_org(s, 1, allocate=False)
        measure("rest-read", s, "GET", "/organizations", tokens[0], args=args)


def bench_write(target, args):
    with Server(target, fast_hash=True) as s:
        org, tokens = setup_org(s, 1, allocate=True)
        measure("rest-write", s, "POST", f"/organizations/{org}/allocate_ip", tokens[0], "{}",
                args=args)


def bench_ips(target, args):
    with Server(target, fast_hash=True) as s:
        org, tokens = setup_org(s, 200, allocate=True)
        measure("rest-ips", s, "GET", f"/organizations/{org}/ips", tokens[0], args=args)


def register_one(server, email):
    async def go():
        c = await HttpConn.open(server.port)
        st, body = await c.request("POST", "/register", body={"email": email, "password": PASSWORD})
        assert st == 200, (st, body)
        await c.close()
    asyncio.run(go())


def bench_login(target, args, name="rest-login", conns=None):
    # Default hashing cost on both sides: ours Argon2id 19 MiB x 2 passes, baseline bcrypt 12.
    # 30 s, not 10: the baseline completes ~6 logins/s, so 64 queued logins take ~10 s each.
    with Server(target) as s:
        register_one(s, "login@bench.example.com")
        body = json.dumps({"email": "login@bench.example.com", "password": PASSWORD})
        measure(name, s, "POST", "/login", "", body, args=args, conns=conns,
                duration=args.login_d)


def bench_login_overload(target, args):
    if target == "ours":
        bench_login(target, args, "rest-login-512", conns=512)


def bench_alloc(target, args):
    n, conns = args.n, args.c
    with Server(target, fast_hash=True) as s:
        org, tokens = setup_org(s, n, allocate=False, subnet="10.0.0.0/16", prefix="alloc")
        s.wait_idle()
        latencies, ips, statuses, samples = [], set(), {}, {}

        async def worker(queue):
            c = await HttpConn.open(s.port)
            while queue:
                t = queue.pop()
                t0 = time.perf_counter()
                st, body = await c.request("POST", f"/organizations/{org}/allocate_ip", t, {})
                latencies.append(time.perf_counter() - t0)
                statuses[str(st)] = statuses.get(str(st), 0) + 1
                if st == 200:
                    ips.add(json.loads(body)["virtual_ip"])
                else:
                    samples.setdefault(str(st), body.decode(errors="replace")[:200])
            await c.close()

        async def go():
            queue = tokens[::-1]
            await asyncio.gather(*(worker(queue) for _ in range(conns)))

        t0, meter = time.perf_counter(), CpuMeter(s)
        asyncio.run(go())
        total = time.perf_counter() - t0
        save("rest-alloc", target, {
            "cmd": f"bench/rest/run.py alloc -n {n} -c {conns}",
            "n": n, "total_s": round(total, 2), "rps": round(n / total, 1),
            "p50_ms": round(percentile(latencies, 50) * 1000, 2),
            "p99_ms": round(percentile(latencies, 99) * 1000, 2),
            "errors": n - statuses.get("200", 0), "statuses": statuses,
            "distinct_ips": len(ips), "error_bodies": samples, "rss_kib": s.rss_kib(),
            **meter.read()})


BENCHES = {"read": bench_read, "write": bench_write, "ips": bench_ips, "login": bench_login,
           "login-overload": bench_login_overload, "alloc": bench_alloc}


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("bench", nargs="+", choices=list(BENCHES) + ["all"])
    p.add_argument("--target", choices=TARGETS, action="append")
    p.add_argument("-d", type=int, default=10, help="measured seconds per wrk run (10)")
    p.add_argument("-c", type=int, default=64, help="concurrent connections (64)")
    p.add_argument("--login-d", type=int, default=30, help="measured seconds for login (30)")
    p.add_argument("-n", type=int, default=2000, help="users for alloc (2000)")
    args = p.parse_args()
    names = list(BENCHES) if "all" in args.bench else args.bench
    for name in names:
        for target in args.target or TARGETS:
            BENCHES[name](target, args)


if __name__ == "__main__":
    main()
