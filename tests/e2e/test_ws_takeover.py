"""Take-over (PROTOCOL.md §5.2): a new registration that resolves to a virtual IP already online
replaces the older connection: the older one gets close 4000 ("replaced"), the others see
peer_offline for it and then peer_online for the new one, and a late close of the replaced
connection never takes the new one offline."""

from __future__ import annotations

import asyncio
import json

import pytest
from websockets.exceptions import ConnectionClosed

from cluster_harness import cluster_size
from ws_harness import (Agent, RawWs, close_all, offline_msg, open_registered, peer_object,
                        register_msg, run, running_server)


@pytest.fixture(scope="module")
def server():
    with running_server() as instance:
        yield instance


def setup_org(server, subnet):
    rest = server.rest()
    observer = rest.new_user("observer")
    org = rest.create_org(observer, subnet)
    observer_vip = rest.allocate(observer, org["id"])
    user, vip = rest.member_with_ip(org["id"], tag="roaming")
    return rest, org, observer, observer_vip, user, vip


def test_second_connection_replaces_the_first(server):
    rest, org, observer_user, observer_vip, user, vip = setup_org(server, "10.70.0.0/24")

    async def scenario():
        observer = await open_registered(server, observer_user, "observer", agent_id="obs")
        observer_peer = peer_object(observer_user, observer_vip, agent_id="obs")
        old = await open_registered(server, user, "old", agent_id="laptop", public_port=50000)
        old_peer = peer_object(user, vip, agent_id="laptop", public_port=50000)
        await observer.expect({"type": "peer_online", "peer": old_peer})

        new = await Agent.open(server, user.token, name="new")
        response = await new.register(agent_id="laptop", public_port=50001)  # its NAT mapping moved
        new_peer = peer_object(user, vip, agent_id="laptop", public_port=50001)
        assert response["virtual_ip"] == vip
        assert response["existing_peers"] == [observer_peer]  # not the connection it replaced
        assert response["connection_id"] != old.response["connection_id"]

        await old.expect_close(4000, reason="replaced")
        await observer.expect(offline_msg(old_peer))
        await observer.expect({"type": "peer_online", "peer": new_peer})

        # The replaced connection's close has been processed by now (its closing handshake is
        # over); it changed nothing: no second peer_offline, the new connection stays online.
        await observer.expect_quiet(0.5)
        assert rest.peers(observer_user, org["id"]) == [observer_peer, new_peer]
        assert rest.online(observer_user, org["id"])[vip] is True
        await observer.send({"type": "signal", "to": vip, "data": "still you?"})
        await new.expect({"type": "signal", "from": "obs", "from_virtual_ip": observer_vip,
                          "from_user_id": observer_user.id, "data": "still you?"})
        assert await new.barrier() == []

        await new.close()
        await observer.expect(offline_msg(new_peer))
        assert await observer.barrier() == []
        await observer.close()

    run(scenario())


@pytest.mark.parametrize("late", ["close-frame-then-fin", "tcp-reset", "never-answers"])
def test_late_close_of_the_replaced_connection(server, late):
    """The replaced connection is a raw socket that reads the 4000 close frame but answers late (or
    never): whatever it finally does cannot take the new registration offline."""
    rest, org, observer_user, observer_vip, user, vip = setup_org(server, "10.71.0.0/24")

    async def scenario():
        observer = await open_registered(server, observer_user, "observer")
        raw = await asyncio.to_thread(RawWs.for_server, server, user.token)
        raw.send_json(register_msg(public_port=40000))
        first = await asyncio.to_thread(raw.recv_json)
        old_peer = peer_object(user, vip, peer_id=first["peer_id"], public_port=40000)
        await observer.expect({"type": "peer_online", "peer": old_peer})

        new = await open_registered(server, user, "new", public_port=40001)
        new_peer = peer_object(user, vip, peer_id=new.peer_id, public_port=40001)
        assert new.peer_id != first["peer_id"]  # both generated
        await observer.expect(offline_msg(old_peer))
        await observer.expect({"type": "peer_online", "peer": new_peer})

        messages, code = await asyncio.to_thread(raw.recv_close)
        assert (messages, code) == ([], 4000)
        # New traffic while the old socket lingers unanswered goes to the new connection.
        await observer.send({"type": "update", "public_port": 1})
        await new.expect({"type": "peer_update", "peer": {**peer_object(observer_user, observer_vip,
                                                                         peer_id=observer.peer_id),
                                                          "public_port": 1}})
        if late == "close-frame-then-fin":
            raw.send_close(4000)
            await asyncio.to_thread(raw.wait_eof)  # the server finished the closing handshake
            raw.drop()
        elif late == "tcp-reset":
            raw.abort()
        else:
            pass  # the server gives up on the closing handshake on its own

        await observer.expect_quiet(0.5 if late != "never-answers" else 6)
        assert [p["virtual_ip"] for p in rest.peers(observer_user, org["id"])] == [observer_vip, vip]
        assert [p for p in rest.peers(observer_user, org["id"]) if p["virtual_ip"] == vip] == [new_peer]
        await observer.send({"type": "signal", "to": vip, "data": 1})
        assert (await new.recv())["data"] == 1
        if late == "never-answers":
            raw.drop()
        await close_all(new)
        await observer.expect(offline_msg(new_peer))
        await observer.close()

    run(scenario())


def test_takeover_with_another_peer_id_and_device_addresses(server):
    """Take-over is by virtual IP: a registration with another agent_id that resolves to the same
    address replaces the old one (the offline names the old peer_id); a device address of the same
    user is a different address and is not affected."""
    rest, org, observer_user, observer_vip, user, vip = setup_org(server, "10.72.0.0/24")
    device_vip = rest.allocate(user, org["id"], agent_id="desktop")

    async def scenario():
        observer = await open_registered(server, observer_user, "observer")
        own = await open_registered(server, user, "own", agent_id="phone")
        desktop = await open_registered(server, user, "desktop", agent_id="desktop")
        assert (own.virtual_ip, desktop.virtual_ip) == (vip, device_vip)
        phone_peer = peer_object(user, vip, agent_id="phone")
        desktop_peer = peer_object(user, device_vip, agent_id="desktop")
        await observer.expect({"type": "peer_online", "peer": phone_peer})
        await observer.expect({"type": "peer_online", "peer": desktop_peer})
        await own.expect({"type": "peer_online", "peer": desktop_peer})

        tablet = await open_registered(server, user, "tablet", agent_id="tablet")  # no address of its own
        tablet_peer = peer_object(user, vip, agent_id="tablet")
        assert tablet.response["existing_peers"] == [
            peer_object(observer_user, observer_vip, peer_id=observer.peer_id), desktop_peer]
        await own.expect_close(4000, reason="replaced")
        for watcher in (observer, desktop):
            await watcher.expect(offline_msg(phone_peer))
            await watcher.expect({"type": "peer_online", "peer": tablet_peer})
        for agent in (observer, desktop, tablet):
            assert await agent.barrier() == []

        # Repeated take-overs: each replaced connection gets 4000, each step exactly one pair.
        current, current_peer = tablet, tablet_peer
        for n in range(3):
            nxt = await open_registered(server, user, f"again{n}", agent_id=f"again{n}")
            nxt_peer = peer_object(user, vip, agent_id=f"again{n}")
            await current.expect_close(4000, reason="replaced")
            for watcher in (observer, desktop):
                await watcher.expect(offline_msg(current_peer))
                await watcher.expect({"type": "peer_online", "peer": nxt_peer})
            current, current_peer = nxt, nxt_peer
        await observer.expect_quiet(0.3)
        assert rest.online(observer_user, org["id"]) == {observer_vip: True, vip: True, device_vip: True}
        await close_all(observer, desktop, current)

    run(scenario())


def test_simultaneous_registrations_leave_exactly_one_online(server):
    """Ten connections of one user register at once: exactly one stays, nine get 4000, and the
    observer's notices add up to that one being online."""
    rest, org, observer_user, observer_vip, user, vip = setup_org(server, "10.73.0.0/24")

    async def scenario():
        observer = await open_registered(server, observer_user, "observer")
        agents = [await Agent.open(server, user.token, name=f"c{i}") for i in range(10)]
        await asyncio.gather(*(a.send(register_msg(agent_id=f"c{i}")) for i, a in enumerate(agents)))

        async def outcome(agent):
            """(messages received, close code or None if still open after a quiet second)."""
            messages = []
            while True:
                try:
                    messages.append(json.loads(await asyncio.wait_for(agent.ws.recv(), 1.0)))
                except asyncio.TimeoutError:
                    return messages, None
                except ConnectionClosed:
                    return messages, agent.ws.close_code

        outcomes = await asyncio.gather(*(outcome(a) for a in agents))
        codes = [code for _, code in outcomes]
        assert sorted(codes, key=str) == [4000] * 9 + [None], codes
        survivor = agents[codes.index(None)]
        notices = await observer.barrier()
        online = {}
        for notice in notices:
            if notice["type"] == "peer_online":
                assert notice["peer"]["virtual_ip"] not in online, notices
                online[notice["peer"]["virtual_ip"]] = notice["peer"]["peer_id"]
            else:
                assert notice["type"] == "peer_offline" and online.get(notice["virtual_ip"]) == notice["peer_id"], notices
                del online[notice["virtual_ip"]]
        assert online == {vip: survivor.name}
        if cluster_size() == 1:
            assert len(notices) == 19
        # else: across processes, a registration that a later one beat to the database is refused
        # before it was ever online (4000 without a register_agent_response): fewer notices.
        await observer.expect_quiet(0.3)
        assert [p["peer_id"] for p in rest.peers(observer_user, org["id"]) if p["virtual_ip"] == vip] == [survivor.name]
        await close_all(observer, survivor)
        # Every one of them was registered (the observer saw each of them online), so each must
        # have received its register_agent_response before its 4000.
        missing = [agent.name for agent, (messages, _) in zip(agents, outcomes)
                   if not messages or messages[0].get("type") != "register_agent_response"]
        if cluster_size() == 1:
            assert not missing, f"replaced before receiving their register_agent_response: {missing}"
        else:
            assert all(messages == [] for (messages, _), agent in zip(outcomes, agents) if agent.name in missing)

    run(scenario())
