"""1,000 agents in one organization (PROTOCOL.md §5.3): 1,000 users, each with its own address,
register over 1,000 concurrent WebSockets held by this one asyncio process. Every agent must end
with exactly the set of the 999 others (existing_peers ∪ peer_online − peer_offline), each peer
announced once. Then 50 agents leave (the rest converge on 949) and come back (999 again). Then
SIGTERM: every connection gets 1001 and the process exits 0."""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import threading
import time

from websockets.exceptions import ConnectionClosed

from ws_harness import RESPONSE_KEYS, Agent, Rest, WsServer, register_msg, run

AGENTS = 1000
SUBNET = "10.128.0.0/22"  # 1022 host addresses
SETUP_THREADS = 8
CONVERGE_TIMEOUT = 120


class Tracker:
    """One agent's view of the organization, kept up to date from its messages."""

    def __init__(self, agent: Agent):
        self.agent = agent
        self.known: dict[str, str] = {}  # virtual_ip -> peer_id
        self.problems: list = []
        self.close_code: int | None = None

    def apply(self, message: dict) -> None:
        kind = message.get("type")
        if kind == "register_agent_response":
            if self.agent.response is not None or set(message) != RESPONSE_KEYS:
                self.problems.append(message)
            self.agent.response = message
            for peer in message["existing_peers"]:
                if peer["virtual_ip"] in self.known:
                    self.problems.append(("listed twice", peer))
                self.known[peer["virtual_ip"]] = peer["peer_id"]
        elif kind == "peer_online":
            peer = message["peer"]
            if peer["virtual_ip"] in self.known:
                self.problems.append(("online twice", peer))
            self.known[peer["virtual_ip"]] = peer["peer_id"]
        elif kind == "peer_offline":
            if self.known.pop(message["virtual_ip"], None) != message["peer_id"]:
                self.problems.append(("offline for an unknown peer", message))
        else:
            self.problems.append(message)

    async def run(self) -> None:
        try:
            async for raw in self.agent.ws:
                self.apply(json.loads(raw))
        except ConnectionClosed:
            pass
        self.close_code = self.agent.ws.close_code


def create_users(rest: Rest, org_id: int, count: int) -> list:
    """`count` users that joined `org_id` and hold an address there, created from a few threads
    (each with its own HTTP session)."""
    local = threading.local()

    def one(_):
        if not hasattr(local, "rest"):
            local.rest = Rest(rest.base_url)
        user = local.rest.new_user("scale")
        local.rest.join(user, org_id)
        return user, local.rest.allocate(user, org_id)

    with concurrent.futures.ThreadPoolExecutor(SETUP_THREADS) as pool:
        return list(pool.map(one, range(count)))


def test_thousand_agents_in_one_organization():
    server = WsServer().start()
    try:
        started = time.monotonic()
        rest = server.rest()
        owner = rest.new_user("scale-owner")
        org = rest.create_org(owner, SUBNET)
        members = [(owner, rest.allocate(owner, org["id"]))] + create_users(rest, org["id"], AGENTS - 1)
        all_vips = {vip for _, vip in members}
        assert len(all_vips) == AGENTS
        setup_seconds = time.monotonic() - started

        async def scenario():
            phase = time.monotonic()
            limit = asyncio.Semaphore(64)  # handshakes in flight at once

            async def connect(index, user):
                async with limit:
                    agent = await Agent.open(server, user.token, name=f"agent{index}", ping_interval=None,
                                             max_queue=None, open_timeout=60)
                tracker = Tracker(agent)
                task = asyncio.create_task(tracker.run())
                await agent.send(register_msg(public_ip=f"198.18.{index // 256}.{index % 256}",
                                              public_port=10000 + index, agent_id=f"agent-{index}"))
                return tracker, task

            async def converge(trackers, tasks, size):
                deadline = time.monotonic() + CONVERGE_TIMEOUT
                while any(len(t.known) != size for t in trackers):
                    behind = sum(1 for t in trackers if len(t.known) != size)
                    assert time.monotonic() < deadline, f"{behind} agents off {size} peers after {CONVERGE_TIMEOUT}s"
                    assert all(not task.done() for task in tasks), [t.close_code for t in trackers if t.close_code]
                    await asyncio.sleep(0.2)

            connected = await asyncio.gather(*(connect(i, user) for i, (user, _) in enumerate(members)))
            trackers = [tracker for tracker, _ in connected]
            tasks = [task for _, task in connected]
            await converge(trackers, tasks, AGENTS - 1)
            converge_seconds = time.monotonic() - phase

            def check(trackers):
                for (user, vip), tracker in zip(members, trackers):
                    assert tracker.agent.response is not None and tracker.agent.response["virtual_ip"] == vip
                    assert set(tracker.known) == all_vips - {vip}, tracker.agent.name
                    assert tracker.problems == [], (tracker.agent.name, tracker.problems[:3])
                    assert all(expected_ids[v] == p for v, p in tracker.known.items())

            expected_ids = {vip: f"agent-{i}" for i, (_, vip) in enumerate(members)}
            check(trackers)
            assert len(rest.peers(owner, org["id"])) == AGENTS
            assert all(rest.online(owner, org["id"]).values())

            # Churn: every 20th agent leaves; the others converge on 949, then they come back.
            churn = time.monotonic()
            leaving = list(range(0, AGENTS, 20))
            await asyncio.gather(*(trackers[i].agent.close() for i in leaving))
            await asyncio.gather(*(tasks[i] for i in leaving))
            staying = [i for i in range(AGENTS) if i not in leaving]
            await converge([trackers[i] for i in staying], [tasks[i] for i in staying], AGENTS - 1 - len(leaving))
            assert all(set(trackers[i].known) == all_vips - {members[i][1]} - {members[j][1] for j in leaving}
                       for i in staying)
            for i, (tracker, task) in zip(leaving, await asyncio.gather(*(connect(i, members[i][0])
                                                                          for i in leaving))):
                trackers[i], tasks[i] = tracker, task
            await converge(trackers, tasks, AGENTS - 1)
            check(trackers)
            churn_seconds = time.monotonic() - churn

            # SIGTERM with 1,000 clients connected.
            stop_started = time.monotonic()
            server.terminate()
            await asyncio.wait_for(asyncio.gather(*tasks), 30)
            codes = {t.close_code for t in trackers}
            assert codes == {1001}, codes
            code = await asyncio.to_thread(server.wait, 30)
            assert code == 0, server.log()
            return converge_seconds, churn_seconds, time.monotonic() - stop_started

        converge_seconds, churn_seconds, stop_seconds = run(scenario(), 300)
        print(f"\n1000 agents: REST setup {setup_seconds:.1f}s, registration and convergence "
              f"{converge_seconds:.1f}s, 50 leave and return {churn_seconds:.1f}s, shutdown {stop_seconds:.1f}s")
    finally:
        server.kill()
