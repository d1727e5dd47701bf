#!/usr/bin/python3
"""Cluster benchmarks (PROTOCOL.md §7): several server processes on one PostgreSQL.

    /usr/bin/python3 bench/cluster/run.py [latency] [kill] [connect] [writes]   (default: all)

Each benchmark starts a throwaway PostgreSQL (scripts/test-postgres.sh: a fresh cluster in a
temporary directory, fsync off) and fresh server processes (build/bench/bin/signaling-server).

latency   cross-process event latency: 200 times, an agent registers on process A; time from its
          `register` frame to the `peer_online` about it at a watcher on process B, and (for
          comparison) at a watcher on A itself; then it leaves: time to `peer_offline` at B.
kill      time from `kill -9` of process B (200 agents) to the last `peer_offline` about them at a
          watcher on A, with CLUSTER_DEAD_AFTER_SECONDS at its default (15) and at 3.
connect   connect + register rate: 3,000 agents (orgs of 5), 200 connecting at a time, all on one
          process, then spread over three; and one process on SQLite for reference.
writes    REST write throughput (POST /organizations, wrk, 16 connections, 10 s) on process A of
          three: alone; while 150 agents spread over the three register and leave in a loop (every
          registration and every leave is a presence write and a NOTIFY); and while the same churn
          runs on a second PostgreSQL server, sharing only the CPU: if the drop is the same, the
          database's locks (NOTIFY's included) are not what slows the writes.

The load generator shares the 2 cores with PostgreSQL and the servers: its CPU time is recorded
beside the servers' and the database's, to show who was busy.
"""
import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lib"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "rest"))
import wsclient  # noqa: E402
from common import ROOT, HttpConn, login_stamps, mint_token, percentile, save, wait_quiet  # noqa: E402
from pgcluster import Postgres, Process  # noqa: E402  (shared with bench/native/cluster.py)

try:
    import uvloop
except ImportError:
    uvloop = None

class Agent:
    """A signaling agent on one process; records when it heard of which peer."""

    def __init__(self, process, token, name):
        self.process, self.token, self.name = process, token, name
        self.registered = asyncio.Event()
        self.online, self.offline = {}, {}  # peer_id -> receive time (the first)
        self.offline_count = {}  # peer_id -> peer_offline messages about it
        self.closed = False

    async def start(self, agent_id=None):
        self.ws = await wsclient.connect(self.process.port, f"/ws?token={self.token}", self.received)
        self.sent_at = time.perf_counter()
        self.ws.send_text(json.dumps({"type": "register", "agent_id": agent_id or self.name,
                                      "public_ip": "198.51.100.1", "public_port": 40000}))

    def received(self, raw, now):
        msg = json.loads(raw)
        kind = msg.get("type")
        if kind == "register_agent_response":
            self.registered_at = now
            self.registered.set()
        elif kind == "peer_online":
            self.online[msg["peer"]["peer_id"]] = now
        elif kind == "peer_offline":
            self.offline.setdefault(msg["peer_id"], now)
            self.offline_count[msg["peer_id"]] = self.offline_count.get(msg["peer_id"], 0) + 1
        elif "error" in msg:
            print(f"{self.name}: {msg}")

    async def close(self):
        self.ws.close()
        await asyncio.wait_for(self.ws.closed, 10)


async def rest(process, method, path, token=None, body=None):
    conn = await HttpConn.open(process.port)
    try:
        status, payload = await conn.request(method, path, token, body)
        assert status == 200, (method, path, status, payload)
        return json.loads(payload)
    finally:
        await conn.close()


def token_stamps(database_url, ids):
    """{user id: token_stamp} of `ids`, read from the servers' PostgreSQL database."""
    import psycopg2
    db = psycopg2.connect(database_url)  # the URL's options=-csearch_path=... selects the schema
    try:
        with db.cursor() as cur:
            cur.execute("SELECT id, token_stamp FROM users WHERE id = ANY(%s)", (list(ids),))
            stamps = dict(cur.fetchall())
    finally:
        db.close()
    missing = [i for i in ids if not stamps.get(i)]
    assert not missing, f"no token stamp for users {missing[:5]}"
    return stamps


async def users(process, count, prefix):
    """`count` users registered through `process`; their tokens (minted with SECRET_KEY and each
    user's token stamp: read from PostgreSQL; on SQLite, whose file the server holds exclusively,
    from one /login each)."""
    conns = [await HttpConn.open(process.port) for _ in range(8)]
    ids, emails = [None] * count, [f"{prefix}-{i}-{uuid.uuid4().hex[:6]}@bench.example.com" for i in range(count)]

    async def worker(conn, indices):
        for i in indices:
            status, body = await conn.request("POST", "/register", body={"email": emails[i], "password": "password123"})
            assert status == 200, body
            ids[i] = json.loads(body)["id"]
    await asyncio.gather(*(worker(c, range(k, count, 8)) for k, c in enumerate(conns)))
    for c in conns:
        await c.close()
    if process.database_url.startswith("sqlite:"):
        stamps = await login_stamps(process.port, zip(ids, emails), "password123")
    else:
        stamps = token_stamps(process.database_url, ids)
    return [mint_token(i, stamps[i]) for i in ids]


async def organization(process, tokens, subnet="10.0.0.0/16"):
    """tokens[0] creates it; everyone joins and gets an address. Returns the organization id."""
    org = (await rest(process, "POST", "/organizations", tokens[0], {"name": "bench", "subnet": subnet}))["id"]
    conns = [await HttpConn.open(process.port) for _ in range(8)]

    async def worker(conn, indices):
        for i in indices:
            if i:
                status, body = await conn.request("POST", f"/organizations/{org}/join", tokens[i], {})
                assert status == 200, body
            status, body = await conn.request("POST", f"/organizations/{org}/allocate_ip", tokens[i], {})
            assert status == 200, body
    await asyncio.gather(*(worker(c, range(k, len(tokens), 8)) for k, c in enumerate(conns)))
    for c in conns:
        await c.close()
    return org


def ms(values):
    return {"p50_ms": round(percentile(values, 50), 2), "p99_ms": round(percentile(values, 99), 2),
            "max_ms": round(max(values), 2) if values else None, "samples": len(values)}


# ------------------------------------------------------------------------------------------- latency

async def bench_latency(postgres):
    url = postgres.new_schema()
    a, b = Process(url), Process(url)
    try:
        rounds = 200
        tokens = await users(a, rounds + 2, "lat")
        await organization(a, tokens)
        watcher_b = Agent(b, tokens[0], "watcher-b")
        watcher_a = Agent(a, tokens[1], "watcher-a")
        for w in (watcher_b, watcher_a):
            await w.start()
            await w.registered.wait()
        cross, same, offline = [], [], []
        for r in range(rounds):
            agent = Agent(a, tokens[2 + r], f"r{r}")
            await agent.start()
            await agent.registered.wait()
            deadline = time.perf_counter() + 10
            while agent.name not in watcher_b.online or agent.name not in watcher_a.online:
                assert time.perf_counter() < deadline, "peer_online never arrived"
                await asyncio.sleep(0.0005)
            cross.append((watcher_b.online[agent.name] - agent.sent_at) * 1000)
            same.append((watcher_a.online[agent.name] - agent.sent_at) * 1000)
            left_at = time.perf_counter()
            await agent.close()
            while agent.name not in watcher_b.offline:
                assert time.perf_counter() < deadline + 10, "peer_offline never arrived"
                await asyncio.sleep(0.0005)
            offline.append((watcher_b.offline[agent.name] - left_at) * 1000)
        save("cluster-latency", "ours", {
            "register_on_A_to_peer_online_at_B": ms(cross),
            "register_on_A_to_peer_online_at_A": ms(same),
            "close_on_A_to_peer_offline_at_B": ms(offline),
            "method": f"{rounds} agents, one at a time; 2 processes on one PostgreSQL"})
    finally:
        a.stop()
        b.stop()


# ---------------------------------------------------------------------------------------------- kill

async def bench_kill(postgres, dead_after):
    url = postgres.new_schema()
    env = {} if dead_after is None else {"CLUSTER_DEAD_AFTER_SECONDS": str(dead_after)}
    a, b = Process(url, env), Process(url, env)
    try:
        count = 200
        tokens = await users(a, count + 1, "kill")
        await organization(a, tokens)
        watcher = Agent(a, tokens[0], "watcher")
        await watcher.start()
        await watcher.registered.wait()
        doomed = [Agent(b, tokens[1 + i], f"d{i}") for i in range(count)]
        for d in doomed:
            await d.start()
        await asyncio.gather(*(d.registered.wait() for d in doomed))
        while len(watcher.online) < count:
            await asyncio.sleep(0.01)
        killed_at = time.perf_counter()
        b.kill()
        deadline = killed_at + 120
        while len(watcher.offline) < count and time.perf_counter() < deadline:
            await asyncio.sleep(0.01)
        await asyncio.sleep(3)  # room for a duplicate to arrive
        times = sorted((t - killed_at) for t in watcher.offline.values())
        save(f"cluster-kill-{dead_after or 15}s", "ours", {
            "agents": count, "announced": len(times),
            "first_offline_s": round(times[0], 2) if times else None,
            "last_offline_s": round(times[-1], 2) if times else None,
            "dead_after_s": dead_after or 15,
            "duplicates": sum(n - 1 for n in watcher.offline_count.values())})
    finally:
        a.stop()
        b.stop()


# ------------------------------------------------------------------------------------------- connect

async def connect_rate(processes, tokens, concurrency=200):
    """Every token connects and registers (to processes round-robin), `concurrency` at a time."""
    queue = list(enumerate(tokens))[::-1]
    agents = []

    async def worker():
        while queue:
            i, token = queue.pop()
            agent = Agent(processes[i % len(processes)], token, f"c{i}")
            await agent.start()
            await agent.registered.wait()
            agents.append(agent)
    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    for agent in agents:
        agent.ws.close()
    await asyncio.sleep(1)
    return len(tokens) / elapsed


async def bench_connect(postgres):
    count, per_org = 3000, 5
    results = {}
    # On one machine the processes share its cores: three processes get one I/O thread each.
    for label, process_count, database, env in (("sqlite_1", 1, "sqlite", {}), ("postgres_1", 1, "postgres", {}),
                                                ("postgres_3", 3, "postgres", {"IO_THREADS": "1"})):
        tmp = Path(tempfile.mkdtemp(prefix="bench-connect-"))
        url = postgres.new_schema() if database == "postgres" else f"sqlite:///{tmp}/s.db"
        processes = [Process(url, env) for _ in range(process_count)]
        try:
            tokens = await users(processes[0], count, "conn")
            for first in range(0, count, per_org):
                await organization(processes[0], tokens[first:first + per_org], f"10.{first // 256 % 256}.{first % 256}.0/24")
            wait_quiet()
            cpu0 = [p.cpu_seconds() for p in processes]
            pg0 = postgres.backends_cpu_seconds()
            own0 = time.process_time()
            rate = await connect_rate(processes, tokens)
            results[label] = {"registrations_per_s": round(rate),
                              "server_cpu_s": round(sum(p.cpu_seconds() for p in processes) - sum(cpu0), 1),
                              "postgres_cpu_s": round(postgres.backends_cpu_seconds() - pg0, 1),
                              "loadgen_cpu_s": round(time.process_time() - own0, 1)}
            print(label, results[label])
        finally:
            for p in processes:
                p.stop()
            shutil.rmtree(tmp, ignore_errors=True)
    save("cluster-connect", "ours", dict(results, agents=count, organization_size=per_org, concurrency=200))


# -------------------------------------------------------------------------------------------- writes

def wrk_writes(process, token, duration=10):
    lua = ROOT / "bench" / "rest" / "request.lua"
    env = dict(os.environ, BENCH_METHOD="POST", BENCH_PATH="/organizations", BENCH_TOKEN=token,
               BENCH_BODY=json.dumps({"name": "w", "subnet": "10.0.0.0/24"}))
    out = subprocess.run(["wrk", "-t1", "-c16", f"-d{duration}s", "--timeout", "30s", "-s", str(lua), process.url],
                         env=env, capture_output=True, text=True, check=True).stdout
    r = json.loads(next(l for l in out.splitlines() if l.startswith("RESULT "))[len("RESULT "):])
    ok = sum(n for s, n in r["statuses"].items() if s.startswith("2"))
    return {"ok_rps": round(ok / (r["duration_us"] / 1e6)), "p50_ms": round(r["p50_us"] / 1000, 2),
            "p99_ms": round(r["p99_us"] / 1000, 2), "errors": r["socket_errors"] + r["timeouts"] + r["non2xx"]}


async def churn(processes, tokens, stop):
    """Agents register and leave in a loop, spread over the processes, until `stop` is set."""
    counts = {"registrations": 0}

    async def one(i, token):
        while not stop.is_set():
            agent = Agent(processes[i % len(processes)], token, f"churn{i}")
            await agent.start()
            await agent.registered.wait()
            counts["registrations"] += 1
            await agent.close()
    await asyncio.gather(*(one(i, t) for i, t in enumerate(tokens)))
    return counts["registrations"]


async def bench_writes(postgres):
    """REST writes on process A of a cluster: alone; while agents churn on the same database (every
    registration and leave a presence write and a NOTIFY there); and while the same churn runs on a
    second PostgreSQL server (so that the two loads share the CPU but no database). If the drop is
    the same both times, it is the CPU they share, not the database's locks (NOTIFY's included)."""
    url = postgres.new_schema()
    writers = [Process(url) for _ in range(3)]
    elsewhere = Postgres()
    other_url = elsewhere.new_schema()
    others = [Process(other_url) for _ in range(3)]
    try:
        writer = (await users(writers[0], 1, "writer"))[0]
        results = {}
        wrk_writes(writers[0], writer, 3)  # warm-up
        wait_quiet()
        results["alone"] = await asyncio.to_thread(wrk_writes, writers[0], writer)
        for label, cluster in (("churn_on_the_same_database", writers), ("churn_on_another_database", others)):
            churners = await users(cluster[0], 151, "churn")
            await organization(cluster[0], churners, "10.1.0.0/16")
            wait_quiet()
            stop = asyncio.Event()
            # The churn runs on the two other processes: the writer is a member of the cluster (it
            # hears every notification) only in the first case.
            churning = asyncio.create_task(churn(cluster[1:], churners[1:], stop))
            await asyncio.sleep(2)
            started = time.perf_counter()
            busy = await asyncio.to_thread(wrk_writes, writers[0], writer)
            elapsed = time.perf_counter() - started
            stop.set()
            registrations = await churning
            busy["presence_changes_per_s"] = round(2 * registrations / (elapsed + 2))
            busy["ratio_to_alone"] = round(busy["ok_rps"] / results["alone"]["ok_rps"], 2)
            results[label] = busy
        save("cluster-writes", "ours", dict(results, method=(
            "wrk POST /organizations, 1 thread, 16 connections, 10 s, on process A of 3; churn: 150 agents "
            "register and leave in a loop over 3 processes")))
    finally:
        for p in writers + others:
            p.stop()
        elsewhere.stop()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("benches", nargs="*", default=["latency", "kill", "connect", "writes"])
    args = parser.parse_args()
    if uvloop:
        uvloop.install()
    postgres = Postgres()
    try:
        for name in args.benches:
            wait_quiet()
            if name == "latency":
                asyncio.run(bench_latency(postgres))
            elif name == "kill":
                asyncio.run(bench_kill(postgres, None))
                asyncio.run(bench_kill(postgres, 3))
            elif name == "connect":
                asyncio.run(bench_connect(postgres))
            elif name == "writes":
                asyncio.run(bench_writes(postgres))
            else:
                raise SystemExit(f"unknown benchmark {name}")
    finally:
        postgres.stop()


if __name__ == "__main__":
    main()
