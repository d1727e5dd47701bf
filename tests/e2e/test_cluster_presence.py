"""Several server processes on one PostgreSQL (PROTOCOL.md §7): agents spread over three processes
see one organization, whichever process they are on: existing_peers, peer_online, peer_offline,
peer_update and signal cross processes; take-over across processes leaves one winner; a removal
on one process closes the connection on another and wins against a registration in flight; a
process started late knows who is online; allocate_ip hammered through all three hands out
distinct addresses.

Which process serves what is chosen by each test (cluster_fixtures.py); the WebSocket suite also
runs whole across three processes (E2E_CLUSTER_PROCESSES, e2e_ws_cluster).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading

import pytest
import requests

from cluster_fixtures import wait_until
from ws_harness import (Agent, Rest, close_all, offline_msg, open_registered, peer_object, register_msg, run)


def organization(rest: Rest, subnet: str, members: int):
    """An owner, an organization and `members` users who joined it and hold an address."""
    owner = rest.new_user("owner")
    org = rest.create_org(owner, subnet)
    return owner, org, [rest.member_with_ip(org["id"]) for _ in range(members)]


def peers_by_ip(rest: Rest, user, org_id: int) -> dict:
    return {p["virtual_ip"]: p["peer_id"] for p in rest.peers(user, org_id)}


def test_every_flow_crosses_processes(cluster):
    c = cluster()
    processes = [c.start(), c.start(), c.start()]
    owner, org, members = organization(c.rest(0), "10.80.0.0/24", 3)
    (u0, ip0), (u1, ip1), (u2, ip2) = members

    async def scenario():
        a0 = await open_registered(processes[0], u0, "a0", agent_id="a0")
        assert a0.response["existing_peers"] == []
        a1 = await open_registered(processes[1], u1, "a1", agent_id="a1")
        assert a1.response["existing_peers"] == [peer_object(u0, ip0, agent_id="a0")]
        await a0.expect({"type": "peer_online", "peer": peer_object(u1, ip1, agent_id="a1")})
        a2 = await open_registered(processes[2], u2, "a2", agent_id="a2", relay_ip="198.51.100.9", relay_port=3478)
        assert sorted(p["peer_id"] for p in a2.response["existing_peers"]) == ["a0", "a1"]
        p2 = peer_object(u2, ip2, agent_id="a2", relay_ip="198.51.100.9", relay_port=3478)
        for agent in (a0, a1):
            await agent.expect({"type": "peer_online", "peer": p2})

        # Every process answers GET /peers the same.
        for i in range(3):
            assert peers_by_ip(c.rest(i), owner, org["id"]) == {ip0: "a0", ip1: "a1", ip2: "a2"}

        # Signals, by virtual IP and by peer_id, one of them as long as a message may be.
        await a2.send({"type": "signal", "to": ip0, "data": {"candidate": "x"}})
        await a0.expect({"type": "signal", "from": "a2", "from_virtual_ip": ip2, "from_user_id": u2.id,
                         "data": {"candidate": "x"}})
        long_data = "s" * 60_000
        await a0.send({"type": "signal", "to": "a1", "data": long_data})
        await a1.expect({"type": "signal", "from": "a0", "from_virtual_ip": ip0, "from_user_id": u0.id,
                         "data": long_data})

        # Updates.
        await a1.send({"type": "update", "public_port": 41000})
        moved = {**peer_object(u1, ip1, agent_id="a1"), "public_port": 41000}
        for agent in (a0, a2):
            await agent.expect({"type": "peer_update", "peer": moved})

        # Leaving: announced once to each of the others.
        await a1.close()
        for agent in (a0, a2):
            await agent.expect(offline_msg(moved))
        for i in range(3):
            wait_until(lambda i=i: peers_by_ip(c.rest(i), owner, org["id"]) == {ip0: "a0", ip2: "a2"}, 5,
                       f"process {i} lists the two left")
        for agent in (a0, a2):
            assert await agent.barrier() == []
        await close_all(a0, a2)
    run(scenario())


def test_a_take_over_on_another_process_closes_the_older_connection(cluster):
    c = cluster()
    processes = [c.start(), c.start(), c.start()]
    owner, org, [(user, vip), (watcher_user, watcher_ip)] = organization(c.rest(1), "10.81.0.0/24", 2)

    async def scenario():
        watcher = await open_registered(processes[2], watcher_user, "watcher")
        old = await open_registered(processes[0], user, "old", agent_id="device")
        await watcher.expect({"type": "peer_online", "peer": peer_object(user, vip, agent_id="device")})
        new = await open_registered(processes[1], user, "new", agent_id="device", public_port=50001)
        assert new.response["existing_peers"] == [peer_object(watcher_user, watcher_ip, peer_id=watcher.peer_id)]
        await old.expect_close(4000, reason="replaced")
        await watcher.expect(offline_msg(peer_object(user, vip, agent_id="device")))
        await watcher.expect({"type": "peer_online", "peer": peer_object(user, vip, agent_id="device", public_port=50001)})
        assert await watcher.barrier() == []
        rows = c.query("SELECT connection_id FROM presence WHERE virtual_ip = %s",
                       (int.from_bytes(bytes(map(int, vip.split("."))), "big"),))
        assert rows == [(new.response["connection_id"],)]
        await close_all(watcher, new)
    run(scenario())


def test_simultaneous_registrations_on_three_processes_leave_exactly_one(cluster):
    c = cluster()
    processes = [c.start(), c.start(), c.start()]
    owner, org, [(user, vip), (watcher_user, _)] = organization(c.rest(0), "10.82.0.0/24", 2)

    async def scenario():
        watcher = await open_registered(processes[0], watcher_user, "watcher")
        agents = [await Agent.open(processes[i % 3], user.token, name=f"c{i}") for i in range(9)]
        await asyncio.gather(*(a.send(register_msg(agent_id=f"c{i}")) for i, a in enumerate(agents)))

        async def outcome(agent):
            try:
                while True:
                    await asyncio.wait_for(agent.ws.recv(), 2.0)
            except asyncio.TimeoutError:
                return None
            except Exception:
                return agent.ws.close_code

        codes = await asyncio.gather(*(outcome(a) for a in agents))
        assert sorted(codes, key=str) == [4000] * 8 + [None], codes
        survivor = agents[codes.index(None)]
        # The watcher's notices add up to the survivor online, and nothing else.
        online = {}
        for notice in await watcher.barrier():
            if notice["type"] == "peer_online":
                assert notice["peer"]["virtual_ip"] not in online, notice
                online[notice["peer"]["virtual_ip"]] = notice["peer"]["peer_id"]
            else:
                assert online.pop(notice["virtual_ip"]) == notice["peer_id"], notice
        assert online == {vip: survivor.name}
        for i in range(3):
            assert peers_by_ip(c.rest(i), owner, org["id"])[vip] == survivor.name
        await close_all(watcher, survivor)
    run(scenario())


def test_a_removal_on_one_process_closes_the_connection_on_another(cluster):
    c = cluster()
    processes = [c.start(), c.start(), c.start()]
    owner, org, [(member, member_ip), (device_owner, device_ip), (watcher_user, _)] = organization(
        c.rest(0), "10.83.0.0/24", 3)

    async def scenario():
        watcher = await open_registered(processes[2], watcher_user, "watcher")
        removed = await open_registered(processes[1], member, "removed", agent_id="m")
        released = await open_registered(processes[0], device_owner, "released", agent_id="d")
        await watcher.expect({"type": "peer_online", "peer": peer_object(member, member_ip, agent_id="m")})
        await watcher.expect({"type": "peer_online", "peer": peer_object(device_owner, device_ip, agent_id="d")})

        c.rest(0).remove_member(owner, org["id"], member.id)  # on process 0; the agent is on 1
        await removed.expect_close(4001, reason="removed", before_options=([], [
            {"type": "peer_online", "peer": peer_object(device_owner, device_ip, agent_id="d")}]))
        await watcher.expect(offline_msg(peer_object(member, member_ip, agent_id="m")))
        await released.expect(offline_msg(peer_object(member, member_ip, agent_id="m")))

        c.rest(2).release(owner, org["id"], device_ip)  # on process 2; the agent is on 0
        await released.expect_close(4001, reason="removed")
        await watcher.expect(offline_msg(peer_object(device_owner, device_ip, agent_id="d")))
        assert await watcher.barrier() == []
        for i in range(3):
            assert member_ip not in peers_by_ip(c.rest(i), owner, org["id"])
            assert device_ip not in peers_by_ip(c.rest(i), owner, org["id"])
        await watcher.close()
    run(scenario())


def test_a_registration_racing_with_a_removal_never_leaves_a_non_member_online(cluster):
    """The member's agent registers on one process while the owner removes the member through
    another: once the removal has answered, the member is not online anywhere, and stays so."""
    c = cluster()
    processes = [c.start(), c.start(), c.start()]
    rest = c.rest(0)
    owner = rest.new_user("owner")
    org = rest.create_org(owner, "10.84.0.0/24")
    rounds, online_after = 25, []

    async def scenario():
        watcher_user, _ = rest.member_with_ip(org["id"], tag="watcher")
        watcher = await open_registered(processes[0], watcher_user, "watcher")
        for round_ in range(rounds):
            member, member_ip = rest.member_with_ip(org["id"])
            agent = await Agent.open(processes[1 + round_ % 2], member.token, name=f"member{round_}")
            removal = asyncio.create_task(asyncio.to_thread(
                c.rest(2 - round_ % 2).remove_member, owner, org["id"], member.id))
            await agent.send(register_msg(agent_id="racer"))
            await removal
            if any(p["virtual_ip"] == member_ip for i in range(3) for p in c.rest(i).peers(owner, org["id"])):
                online_after.append(round_)
            # Whatever it was told first, the agent's connection ends.
            with pytest.raises(Exception):
                while True:
                    await asyncio.wait_for(agent.ws.recv(), 5)
            assert agent.ws.close_code in (1008, 4001), agent.ws.close_code
        # The watcher heard of each member that came online exactly one offline, and ends alone.
        online = set()
        for notice in await watcher.barrier():
            if notice["type"] == "peer_online":
                online.add(notice["peer"]["virtual_ip"])
            else:
                online.remove(notice["virtual_ip"])
        assert online == set()
        assert c.query("SELECT peer_id FROM presence") == [(watcher.peer_id,)]
        await watcher.close()
    run(scenario(), timeout=120)
    assert online_after == [], f"members listed online after their removal in rounds {online_after}"


def test_a_process_started_late_knows_who_is_online(cluster):
    c = cluster()
    first, second = c.start(), c.start()
    owner, org, [(u0, ip0), (u1, ip1), (u2, ip2)] = organization(c.rest(0), "10.85.0.0/24", 3)

    async def scenario():
        a0 = await open_registered(first, u0, "a0", agent_id="a0")
        a1 = await open_registered(second, u1, "a1", agent_id="a1")
        late = c.start()
        assert peers_by_ip(c.rest(2), owner, org["id"]) == {ip0: "a0", ip1: "a1"}
        a2 = await open_registered(late, u2, "a2", agent_id="a2")
        assert sorted(p["peer_id"] for p in a2.response["existing_peers"]) == ["a0", "a1"]
        await a1.close()
        await a2.expect(offline_msg(peer_object(u1, ip1, agent_id="a1")))
        await a2.send({"type": "signal", "to": "a0", "data": 1})
        await a0.expect({"type": "peer_online", "peer": peer_object(u1, ip1, agent_id="a1")})
        await a0.expect({"type": "peer_online", "peer": peer_object(u2, ip2, agent_id="a2")})
        await a0.expect(offline_msg(peer_object(u1, ip1, agent_id="a1")))
        await a0.expect({"type": "signal", "from": "a2", "from_virtual_ip": ip2, "from_user_id": u2.id, "data": 1})
        await close_all(a0, a2)
    run(scenario())


def test_allocations_hammered_through_three_processes_are_distinct_and_the_rest_is_409(cluster):
    c = cluster()
    for _ in range(3):
        c.start()
    rest = c.rest(0)
    owner = rest.new_user("owner")
    org = rest.create_org(owner, "10.86.0.0/27")  # 30 host addresses
    users = []
    for _ in range(44):
        user = rest.new_user("hammer")
        rest.join(user, org["id"])
        users.append(user)
    start = threading.Barrier(len(users))

    def allocate(index: int) -> requests.Response:
        session = requests.Session()
        start.wait()
        return session.post(f"{c.members[index % 3].url}/organizations/{org['id']}/allocate_ip",
                            headers=users[index].headers, json={}, timeout=30)

    with concurrent.futures.ThreadPoolExecutor(len(users)) as pool:
        answers = list(pool.map(allocate, range(len(users))))
    granted = [a.json()["virtual_ip"] for a in answers if a.status_code == 200]
    refused = [a for a in answers if a.status_code != 200]
    assert len(granted) == 30 and len(set(granted)) == 30, granted
    assert len(refused) == 14
    for answer in refused:
        assert answer.status_code == 409 and answer.json() == {"detail": "No free IP address in subnet"}, answer.text
    assert sorted(int(a.split(".")[3]) for a in granted) == list(range(1, 31))
