"""What the cluster survives (PROTOCOL.md §7): a process killed with SIGKILL (its peers announced
offline once, within CLUSTER_DEAD_AFTER_SECONDS), PostgreSQL restarted under connected agents
(503 and a failing /readyz meanwhile, then everyone converges), a process cut off the database
for a moment (it catches up on what it missed) and for long (the others declare it dead; it
closes its agents with 1012 so that they register again).
"""

from __future__ import annotations

import asyncio
import threading
import time

import requests

from cluster_fixtures import DEAD_AFTER, wait_until
from ws_harness import Agent, close_all, offline_msg, open_registered, peer_object, register_msg, run


def organization(rest, subnet: str, members: int):
    owner = rest.new_user("owner")
    org = rest.create_org(owner, subnet)
    return owner, org, [rest.member_with_ip(org["id"]) for _ in range(members)]


async def expect_all(agent, messages: list) -> None:
    """`messages` arrive at `agent`, in any order (they come from several processes)."""
    got = [await agent.recv() for _ in messages]
    assert sorted(got, key=str) == sorted(messages, key=str), f"{agent.name}: {got}"


def online_msg(user, ip: str, agent_id: str) -> dict:
    return {"type": "peer_online", "peer": peer_object(user, ip, agent_id=agent_id)}


def status(url: str, path: str = "/readyz") -> int:
    try:
        return requests.get(url + path, timeout=5).status_code
    except requests.RequestException:
        return 0


def test_a_killed_process_has_its_peers_announced_offline_once(cluster):
    c = cluster()
    processes = [c.start(), c.start(), c.start()]
    owner, org, users = organization(c.rest(0), "10.90.0.0/24", 5)
    (u0, ip0), (u1, ip1), (u1b, ip1b), (u2, ip2), (late_user, _) = users

    async def scenario():
        a0 = await open_registered(processes[0], u0, "a0", agent_id="a0")
        doomed = [await open_registered(processes[1], u1, "d1", agent_id="d1"),
                  await open_registered(processes[1], u1b, "d2", agent_id="d2")]
        a2 = await open_registered(processes[2], u2, "a2", agent_id="a2")
        for peer in (peer_object(u1, ip1, agent_id="d1"), peer_object(u1b, ip1b, agent_id="d2"),
                     peer_object(u2, ip2, agent_id="a2")):
            await a0.expect({"type": "peer_online", "peer": peer})

        killed_at = time.monotonic()
        processes[1].kill()  # SIGKILL: no goodbye
        expected = [offline_msg(peer_object(u1, ip1, agent_id="d1")), offline_msg(peer_object(u1b, ip1b, agent_id="d2"))]
        for survivor in (a0, a2):
            got = [await survivor.recv(DEAD_AFTER + 5) for _ in expected]
            assert sorted(got, key=str) == sorted(expected, key=str), got
        elapsed = time.monotonic() - killed_at
        assert elapsed <= DEAD_AFTER + 2, f"announced {elapsed:.2f}s after the kill"
        # Exactly once: nothing more, even after other survivors' reaping rounds.
        await asyncio.sleep(DEAD_AFTER / 2)
        for survivor in (a0, a2):
            assert await survivor.barrier() == []
        assert c.query("SELECT count(*) FROM presence WHERE process_id NOT IN (SELECT id FROM processes)") == [(0,)]
        assert c.query("SELECT count(*) FROM processes") == [(2,)]
        for i in (0, 2):
            assert {p["peer_id"] for p in c.rest(i).peers(owner, org["id"])} == {"a0", "a2"}
        late = await open_registered(processes[2], late_user, "late", agent_id="late")
        assert sorted(p["peer_id"] for p in late.response["existing_peers"]) == ["a0", "a2"]
        await close_all(a0, a2, late, *doomed)
    run(scenario())


def test_agents_stay_connected_across_a_postgresql_restart_and_converge(cluster):
    c = cluster()
    processes = [c.start(), c.start(), c.start()]
    owner, org, users = organization(c.rest(0), "10.91.0.0/24", 5)
    (u0, ip0), (u1, ip1), (u2, ip2), (leaver_user, leaver_ip), (newcomer_user, newcomer_ip) = users

    async def scenario():
        a0 = await open_registered(processes[0], u0, "a0", agent_id="a0")
        a1 = await open_registered(processes[1], u1, "a1", agent_id="a1")
        a2 = await open_registered(processes[2], u2, "a2", agent_id="a2")
        leaver = await open_registered(processes[1], leaver_user, "leaver", agent_id="leaver")
        await expect_all(a0, [online_msg(u1, ip1, "a1"), online_msg(u2, ip2, "a2"),
                              online_msg(leaver_user, leaver_ip, "leaver")])
        await expect_all(a1, [online_msg(u2, ip2, "a2"), online_msg(leaver_user, leaver_ip, "leaver")])
        await expect_all(a2, [online_msg(leaver_user, leaver_ip, "leaver")])

        restarting = threading.Thread(target=c.postgres.restart, args=(3,))
        restarting.start()
        # While it is down: not ready, writes answer 503, registrations fail cleanly.
        await asyncio.to_thread(wait_until, lambda: all(status(p.url) == 503 for p in processes), 20,
                                "every process reports the database down")
        answer = requests.post(f"{processes[0].url}/organizations", headers=owner.headers,
                               json={"name": "during", "subnet": "10.92.0.0/24"}, timeout=30)
        assert answer.status_code == 503, answer.text
        assert answer.headers.get("Retry-After")
        refused = await Agent.open(processes[2], newcomer_user.token, name="refused")
        await refused.send(register_msg(agent_id="refused"))
        await refused.expect_error_close("Registration failed", timeout=15)
        await leaver.close()  # its end is written once the database is back
        await asyncio.to_thread(restarting.join)

        await asyncio.to_thread(wait_until, lambda: all(status(p.url) == 200 for p in processes), 30,
                                "every process ready again")
        for agent in (a0, a1, a2):
            await agent.expect(offline_msg(peer_object(leaver_user, leaver_ip, agent_id="leaver")), timeout=15)
        newcomer = await open_registered(processes[0], newcomer_user, "newcomer", agent_id="newcomer")
        assert sorted(p["peer_id"] for p in newcomer.response["existing_peers"]) == ["a0", "a1", "a2"]
        for agent in (a0, a1, a2):
            await agent.expect({"type": "peer_online", "peer": peer_object(newcomer_user, newcomer_ip,
                                                                           agent_id="newcomer")})
            assert await agent.barrier() == []
        for i in range(3):
            assert {p["peer_id"] for p in c.rest(i).peers(owner, org["id"])} == {"a0", "a1", "a2", "newcomer"}
        await close_all(a0, a1, a2, newcomer)
    run(scenario(), timeout=120)


def test_a_process_cut_off_for_a_moment_catches_up_on_what_it_missed(cluster):
    c = cluster()
    cut_off = c.start(through_cut=True)
    other = c.start()
    owner, org, [(u0, ip0), (u1, ip1), (u2, ip2)] = organization(c.rest(1), "10.93.0.0/24", 3)

    async def scenario():
        a0 = await open_registered(cut_off, u0, "a0", agent_id="a0")
        a1 = await open_registered(other, u1, "a1", agent_id="a1")
        await a0.expect({"type": "peer_online", "peer": peer_object(u1, ip1, agent_id="a1")})
        # The other process may not have heard of a0 yet when a1 registered (a busy machine):
        # then a1 learns of it now, before the cut.
        if peer_object(u0, ip0, agent_id="a0") not in a1.response["existing_peers"]:
            await a1.expect({"type": "peer_online", "peer": peer_object(u0, ip0, agent_id="a0")})

        c.cuts[0].cut()
        await asyncio.to_thread(wait_until, lambda: status(cut_off.url) == 503, 10, "the cut-off process not ready")
        # What it cannot hear now, it must learn from the presence table afterwards.
        a2 = await open_registered(other, u2, "a2", agent_id="a2")
        await a1.send({"type": "update", "public_port": 7})
        await a1.barrier()
        await asyncio.sleep(0.3)
        c.cuts[0].restore()

        # Different peers: in whichever order the reconciliation finds them.
        missed = [await a0.recv(10), await a0.recv()]
        assert sorted(missed, key=str) == sorted([
            {"type": "peer_online", "peer": peer_object(u2, ip2, agent_id="a2")},
            {"type": "peer_update", "peer": {**peer_object(u1, ip1, agent_id="a1"), "public_port": 7}}], key=str)
        await asyncio.to_thread(wait_until, lambda: status(cut_off.url) == 200, 10, "ready again")
        assert await a0.barrier() == []
        # It was never declared dead: its agent stayed online for the others.
        assert await a1.barrier() == []
        await a2.expect({"type": "peer_update", "peer": {**peer_object(u1, ip1, agent_id="a1"), "public_port": 7}})
        assert await a2.barrier() == []
        await close_all(a0, a1, a2)
    run(scenario())


def test_a_process_cut_off_for_long_is_declared_dead_and_its_agents_register_again(cluster):
    c = cluster()
    cut_off = c.start(through_cut=True)
    other = c.start()
    owner, org, [(u0, ip0), (u1, ip1)] = organization(c.rest(1), "10.94.0.0/24", 2)

    async def scenario():
        a0 = await open_registered(cut_off, u0, "a0", agent_id="a0")
        a1 = await open_registered(other, u1, "a1", agent_id="a1")
        await a0.expect({"type": "peer_online", "peer": peer_object(u1, ip1, agent_id="a1")})
        # The other process may not have heard of a0 yet when a1 registered (a busy machine):
        # then a1 learns of it now, before the cut.
        if peer_object(u0, ip0, agent_id="a0") not in a1.response["existing_peers"]:
            await a1.expect({"type": "peer_online", "peer": peer_object(u0, ip0, agent_id="a0")})

        c.cuts[0].cut()
        # The others declare it dead and announce its agent offline, once.
        await a1.expect(offline_msg(peer_object(u0, ip0, agent_id="a0")), timeout=DEAD_AFTER + 5)
        c.cuts[0].restore()
        # Back, it learns it was declared dead: its agents are closed with 1012 to register again.
        await a0.expect_close(1012, timeout=15, reason="presence lost",
                              before_options=([], [offline_msg(peer_object(u1, ip1, agent_id="a1"))]))
        again = await open_registered(cut_off, u0, "again", agent_id="a0")
        assert again.response["existing_peers"] == [peer_object(u1, ip1, agent_id="a1")]
        await a1.expect({"type": "peer_online", "peer": peer_object(u0, ip0, agent_id="a0")})
        assert await a1.barrier() == []
        await close_all(a1, again)
    run(scenario(), timeout=90)
