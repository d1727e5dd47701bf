#!/usr/bin/python3
"""WebSocket benchmarks, ours vs the FastAPI baseline, each on a freshly started server.

    /usr/bin/python3 bench/ws/run.py mesh -n 200 [--target ours|baseline]
    /usr/bin/python3 bench/ws/run.py mesh -n 1000
    /usr/bin/python3 bench/ws/run.py signal

mesh N   N agents (N users of one organization, each with its own virtual IP) connect and register
         at once. ws-join-N: time until every agent knows all N-1 others (existing_peers +
         peer_online), frames delivered, server VmRSS before/after and per connection.
         Then, with the N agents still connected, ws-fanout-N:
           join:   20 times, one more agent registers; latency from its `register` frame to the
                   `peer_online` about it at each of the N (both servers), then it leaves;
           update: 20 times, agent 0 sends `update`; latency to `peer_update` at each of the
                   N-1 others (ours only: the baseline has no `update`).
         Reported: p50/p99 over every (round, receiver) pair and p50/p99 of the time until the
         last receiver of a round had it.
signal   two agents; A sends `signal` to B, B signals back on receipt; round-trip p50/p99 over 400
         round trips paced at 40/s (the default rate limit is 50 messages/s). Ours only.

The load generator is this single Python process: asyncio + uvloop with the minimal WebSocket
client of bench/lib/wsclient.py (the `websockets` library was the bottleneck at 1,000 agents).
The results record its CPU time next to the server's, to show which side was the bottleneck.
"""
import argparse
import asyncio
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lib"))
import wsclient  # noqa: E402
from common import TARGETS, CpuMeter, Server, percentile, save, setup_org  # noqa: E402

try:
    import uvloop
except ImportError:  # plain asyncio works too, only slower
    uvloop = None

ROUNDS = 20


class Agent:
    """One signaling agent: connects, registers, and tracks the peers it was told about."""

    def __init__(self, server, token, index):
        self.port, self.path = server.port, f"/ws?token={token}"
        self.index = index
        self.peers = set()  # virtual IPs of the other online peers
        self.frames = 0
        self.virtual_ip = None
        self.registered = asyncio.Event()
        self.on_message = None  # optional hook(agent, msg, receive_time)

    async def start(self):
        self.ws = await wsclient.connect(self.port, self.path, self.received)
        self.t_register = time.perf_counter()
        self.send({"type": "register", "agent_id": f"agent-{self.index}",
                   "public_ip": f"198.51.100.{self.index % 250 + 1}",
                   "public_port": 40000 + self.index % 20000})

    def send(self, msg):
        self.ws.send_text(json.dumps(msg))

    def received(self, raw, now):
        self.frames += 1
        msg = json.loads(raw)
        kind = msg.get("type")
        if kind == "register_agent_response":
            self.virtual_ip = msg["virtual_ip"]
            self.peers.update(p["virtual_ip"] for p in msg["existing_peers"])
            self.registered.set()
        elif kind == "peer_online":
            self.peers.add(msg["peer"]["virtual_ip"])
        elif kind == "peer_offline":
            self.peers.discard(msg["virtual_ip"])
        elif "error" in msg:
            print(f"agent {self.index}: {msg}")
        if self.on_message:
            self.on_message(self, msg, now)

    async def close(self):
        self.ws.close()
        await asyncio.wait_for(self.ws.closed, 10)


async def wait_until(cond, timeout, step=0.01):
    end = time.perf_counter() + timeout
    while not cond():
        if time.perf_counter() > end:
            return False
        await asyncio.sleep(step)
    return True


async def fanout_rounds(agents, receivers, start_round, predicate):
    """ROUNDS times: start_round(r) sends something and returns its send time; every receiver
    records when predicate(msg, r) first holds. Returns per-receiver latencies and per-round
    'last receiver' latencies, in ms."""
    per_receiver, last = [], []
    for r in range(ROUNDS):
        got = {}

        def hook(agent, msg, now):
            if predicate(msg, r):
                got.setdefault(agent.index, now)
        for a in agents:
            a.on_message = hook
        t_send = await start_round(r)
        ok = await wait_until(lambda: len(got) >= len(receivers), 60, 0.001)
        if not ok:
            print(f"round {r}: only {len(got)}/{len(receivers)} receivers")
        lat = [(t - t_send) * 1000 for t in got.values()]
        per_receiver += lat
        last.append(max(lat) if lat else float("nan"))
        for a in agents:
            a.on_message = None
        await asyncio.sleep(0.1)
    return per_receiver, last


def stats(prefix, per_receiver, last):
    return {f"{prefix}_p50_ms": round(percentile(per_receiver, 50), 2),
            f"{prefix}_p99_ms": round(percentile(per_receiver, 99), 2),
            f"{prefix}_all_p50_ms": round(percentile(last, 50), 2),
            f"{prefix}_all_p99_ms": round(percentile(last, 99), 2)}


async def mesh(server, tokens, n):
    agents = [Agent(server, tokens[i], i) for i in range(n)]
    extra = [Agent(server, tokens[n + r], n + r) for r in range(ROUNDS)]
    rss0 = server.rss_kib()
    meter, t0 = CpuMeter(server), time.perf_counter()
    await asyncio.gather(*(a.start() for a in agents))
    done = await wait_until(lambda: all(len(a.peers) == n - 1 for a in agents), 300)
    join_s = time.perf_counter() - t0
    cpu = meter.read()
    await asyncio.sleep(1)
    rss1 = server.rss_kib()
    join = {
        "cmd": f"bench/ws/run.py mesh -n {n}", "n": n, "complete": done,
        "agents_complete": sum(len(a.peers) == n - 1 for a in agents),
        "join_s": round(join_s, 2),
        "frames": sum(a.frames for a in agents),
        "frames_expected": n + n * (n - 1) // 2,
        "rss_before_kib": rss0, "rss_after_kib": rss1,
        "rss_per_conn_kib": round((rss1 - rss0) / n, 1), **cpu}
    save(f"ws-join-{n}", server.target, join)

    # Fan-out 1: one more agent joins; time to peer_online at each of the n others.
    async def join_round(r):
        if r:  # the previous newcomer leaves first; wait for its peer_offline everywhere
            prev = extra[r - 1]
            await prev.close()
            await wait_until(lambda: all(prev.virtual_ip not in a.peers for a in agents), 60)
        await extra[r].start()
        return extra[r].t_register

    meter = CpuMeter(server)
    pr, last = await fanout_rounds(
        agents, agents, join_round,
        lambda m, r: m.get("type") == "peer_online"
        and m["peer"]["agent_id"] == f"agent-{n + r}")
    fan = {"cmd": f"bench/ws/run.py mesh -n {n}", "n": n, **stats("join", pr, last),
           **{"join_" + k: v for k, v in meter.read().items()}}
    await extra[-1].close()

    # Fan-out 2 (ours): agent 0 sends update; time to peer_update at the n-1 others.
    if server.target == "ours":
        async def update_round(r):
            t = time.perf_counter()
            agents[0].send({"type": "update", "public_port": 10000 + r})
            return t
        meter = CpuMeter(server)
        pr, last = await fanout_rounds(
            agents, agents[1:], update_round,
            lambda m, r: m.get("type") == "peer_update" and m["peer"]["public_port"] == 10000 + r)
        fan.update(stats("update", pr, last),
                   **{"update_" + k: v for k, v in meter.read().items()})
    save(f"ws-fanout-{n}", server.target, fan)
    await asyncio.gather(*(a.close() for a in agents))


async def signal(server, tokens, rounds=400, warmup=20):
    a, b = Agent(server, tokens[0], 0), Agent(server, tokens[1], 1)
    for x in (a, b):
        await x.start()
        await x.registered.wait()
    replies = {}  # seq -> time A got B's answer

    def b_answers(agent, msg, now):
        if msg.get("type") == "signal":
            b.send({"type": "signal", "to": a.virtual_ip, "data": msg["data"]})

    def a_records(agent, msg, now):
        if msg.get("type") == "signal":
            replies[msg["data"]["seq"]] = now
    b.on_message, a.on_message = b_answers, a_records
    rtts, meter = [], None
    for i in range(warmup + rounds):
        if i == warmup:
            meter = CpuMeter(server)
        t = time.perf_counter()
        a.send({"type": "signal", "to": b.virtual_ip, "data": {"seq": i}})
        if not await wait_until(lambda: replies.get(i), 5, 0.0002):
            print(f"signal {i}: no answer")
        elif i >= warmup:
            rtts.append((replies[i] - t) * 1000)
        await asyncio.sleep(max(0, 0.025 - (time.perf_counter() - t)))  # 40/s
    save("ws-signal", server.target, {
        "cmd": "bench/ws/run.py signal", "round_trips": len(rtts),
        "lost": rounds - len(rtts), "rtt_p50_ms": round(percentile(rtts, 50), 3),
        "rtt_p99_ms": round(percentile(rtts, 99), 3), **meter.read()})
    await a.close()
    await b.close()


def run(coro):
    if uvloop:
        uvloop.install()
    asyncio.run(coro)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("bench", choices=["mesh", "signal"])
    p.add_argument("-n", type=int, default=200, help="agents for mesh (200)")
    p.add_argument("--target", choices=TARGETS, action="append")
    args = p.parse_args()
    for target in args.target or TARGETS:
        if args.bench == "signal":
            if target == "ours":  # the baseline has no signal message
                with Server(target, fast_hash=True) as s:
                    _, tokens = setup_org(s, 2)
                    run(signal(s, tokens))
        else:
            with Server(target, fast_hash=True) as s:
                _, tokens = setup_org(s, args.n + ROUNDS)
                s.wait_idle()
                run(mesh(s, tokens, args.n))


if __name__ == "__main__":
    main()
