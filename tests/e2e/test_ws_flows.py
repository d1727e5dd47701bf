"""Two- and three-agent flows (PROTOCOL.md §5.2–5.4): every field of every message, the address a
registration resolves to, signal, ping, update.

Each test builds its own users and organization on a server shared by the module.
"""

from __future__ import annotations

import asyncio
import uuid

import pytest

from ws_harness import (GENERATED_PEER_ID, OFFLINE_KEYS, PEER_KEYS, RESPONSE_KEYS, SIGNAL_KEYS, UUID4, Agent,
                        close_all, ip_key, offline_msg, open_registered, peer_object, register_msg, run,
                        running_server, wait_offline)


@pytest.fixture(scope="module")
def server():
    with running_server() as instance:
        yield instance


@pytest.fixture
def rest(server):
    return server.rest()


def check_response(response: dict, *, virtual_ip: str, organization: dict, existing: list,
                   peer_id: str | None) -> None:
    """A register_agent_response, field by field; peer_id None means "generated"."""
    assert set(response) == RESPONSE_KEYS, response
    assert response["type"] == "register_agent_response"
    assert response["status"] == "registered"
    assert response["virtual_ip"] == virtual_ip
    assert isinstance(response["connection_id"], str) and UUID4.match(response["connection_id"]), response
    assert uuid.UUID(response["connection_id"]).version == 4
    assert response["existing_peers"] == existing, response
    for peer in response["existing_peers"]:
        assert set(peer) == PEER_KEYS
    if peer_id is None:
        assert GENERATED_PEER_ID.match(response["peer_id"]), response
    else:
        assert response["peer_id"] == peer_id
    assert response["organization_id"] == organization["id"] and type(response["organization_id"]) is int
    assert response["subnet"] == organization["subnet"]


def test_two_agents_every_field(server, rest):
    owner = rest.new_user("owner")
    org = rest.create_org(owner, "10.20.0.0/16")
    owner_vip = rest.allocate(owner, org["id"])
    member, member_vip = rest.member_with_ip(org["id"])
    assert (owner_vip, member_vip) == ("10.20.0.1", "10.20.0.2")

    async def scenario():
        # Query-string token, no agent_id, no relay fields at all.
        first = await Agent.open(server, owner.token, name="owner")
        response = await first.request(register_msg("203.0.113.1", 50000))
        check_response(response, virtual_ip=owner_vip, organization=org, existing=[], peer_id=None)
        owner_peer = peer_object(owner, owner_vip, peer_id=response["peer_id"])
        assert owner_peer["agent_id"] is None and owner_peer["relay_ip"] is None

        # Authorization header, /ws/ path, agent_id and a relay.
        second = await Agent.open(server, member.token, via="header", path="/ws/", name="member")
        response2 = await second.request(register_msg("2001:db8::7", 65535, agent_id="member-phone",
                                                      relay_ip="198.51.100.1", relay_port=1))
        check_response(response2, virtual_ip=member_vip, organization=org, existing=[owner_peer],
                       peer_id="member-phone")
        assert response2["connection_id"] != response["connection_id"]
        member_peer = peer_object(member, member_vip, agent_id="member-phone", public_ip="2001:db8::7",
                                  public_port=65535, relay_ip="198.51.100.1", relay_port=1)

        online = await first.recv()
        assert online == {"type": "peer_online", "peer": member_peer}
        assert set(online) == {"type", "peer"} and set(online["peer"]) == PEER_KEYS
        assert await second.barrier() == []  # a new peer is not told about itself

        assert await first.barrier() == []
        await second.close()
        offline = await first.recv()
        assert offline == {"type": "peer_offline", "peer_id": "member-phone", "user_id": member.id,
                           "virtual_ip": member_vip}
        assert set(offline) == OFFLINE_KEYS
        assert await first.barrier() == []
        await first.close()

    run(scenario())


def test_three_agents_order_and_lifecycle(server, rest):
    owner = rest.new_user("owner")
    org = rest.create_org(owner, "172.16.0.0/24")
    users, vips = [owner], []
    # Addresses chosen so that text order (.10 < .100 < .9) differs from numeric order.
    vips.append(rest.allocate(owner, org["id"], virtual_ip="172.16.0.100"))
    for address in ("172.16.0.9", "172.16.0.10"):
        user, vip = rest.member_with_ip(org["id"], virtual_ip=address)
        users.append(user)
        vips.append(vip)
    assert vips == ["172.16.0.100", "172.16.0.9", "172.16.0.10"]

    async def scenario():
        agents, peers, ids = [], [], set()
        for index, (user, vip) in enumerate(zip(users, vips)):
            agent = await Agent.open(server, user.token, name=f"agent{index}")
            fields = dict(public_ip=f"192.0.2.{index + 1}", public_port=40000 + index,
                          relay_ip=None, relay_port=None)
            if index != 1:
                fields["agent_id"] = f"device-{index}"
            response = agent.response = await agent.request(register_msg(**fields))
            check_response(response, virtual_ip=vip, organization=org,
                           existing=sorted(peers, key=lambda p: ip_key(p["virtual_ip"])),
                           peer_id=fields.get("agent_id"))
            ids.add(response["connection_id"])
            peer = peer_object(user, vip, peer_id=response["peer_id"], agent_id=fields.get("agent_id"),
                               public_ip=fields["public_ip"], public_port=fields["public_port"])
            for earlier in agents:
                await earlier.expect({"type": "peer_online", "peer": peer})
            agents.append(agent)
            peers.append(peer)
        assert len(ids) == 3
        assert agents[2].response["existing_peers"] == [peers[1], peers[0]]  # .9 before .100

        for agent in agents:
            assert await agent.barrier() == []
        assert sorted(rest.peers(owner, org["id"]), key=lambda p: ip_key(p["virtual_ip"])) == [
            peers[1], peers[2], peers[0]]

        await agents[1].close()
        await agents[0].expect(offline_msg(peers[1]))
        await agents[2].expect(offline_msg(peers[1]))
        await agents[0].close()
        await agents[2].expect(offline_msg(peers[0]))
        assert await agents[2].barrier() == []
        assert rest.peers(owner, org["id"]) == [peers[2]]
        await agents[2].close()

    run(scenario())


def test_signal_by_virtual_ip_and_peer_id(server, rest):
    owner = rest.new_user("owner")
    org = rest.create_org(owner, "10.30.0.0/24")
    owner_vip = rest.allocate(owner, org["id"])
    member, member_vip = rest.member_with_ip(org["id"])
    third, third_vip = rest.member_with_ip(org["id"])

    async def scenario():
        a = await open_registered(server, owner, "a", agent_id="alpha")
        b = await open_registered(server, member, "b")  # generated peer_id
        c = await open_registered(server, third, "c", agent_id="gamma")
        await a.recv(), await a.recv(), await b.recv()  # peer_online notices

        payloads = [{"candidate": "candidate:1 1 UDP 2130706431 192.0.2.1 54400 typ host"},
                    [1, "two", {"three": 3.5}], "text", 42, -1.25, True, None, {}, []]
        for data in payloads:
            await a.send({"type": "signal", "to": member_vip, "data": data})
            got = await b.recv()
            assert got == {"type": "signal", "from": "alpha", "from_virtual_ip": owner_vip,
                           "from_user_id": owner.id, "data": data}
            assert set(got) == SIGNAL_KEYS
        # By the target's peer_id (generated), and from a peer with a generated peer_id.
        await a.send({"type": "signal", "to": b.peer_id, "data": {"by": "peer_id"}})
        await b.expect({"type": "signal", "from": "alpha", "from_virtual_ip": owner_vip,
                        "from_user_id": owner.id, "data": {"by": "peer_id"}})
        await b.send({"type": "signal", "to": "gamma", "data": {"k": "v"}})
        await c.expect({"type": "signal", "from": b.peer_id, "from_virtual_ip": member_vip,
                        "from_user_id": member.id, "data": {"k": "v"}})
        # `to` is tried as a virtual IP first, then as a peer_id: a peer_id that looks like an
        # address is reachable while no peer is online at that address.
        lookalike_user, lookalike_vip = rest.member_with_ip(org["id"], tag="lookalike")
        d = await open_registered(server, lookalike_user, "d", agent_id=owner_vip)
        for agent in (a, b, c):
            assert (await agent.recv())["type"] == "peer_online"
        await c.send({"type": "signal", "to": owner_vip, "data": "by address"})
        assert (await a.recv())["data"] == "by address"
        assert await d.barrier() == []
        await a.close()
        for agent in (b, c, d):
            assert (await agent.recv())["type"] == "peer_offline"
        await c.send({"type": "signal", "to": owner_vip, "data": "by peer_id"})
        await d.expect({"type": "signal", "from": "gamma", "from_virtual_ip": third_vip,
                        "from_user_id": third.id, "data": "by peer_id"})
        await d.close()
        for agent in (b, c):
            assert (await agent.recv())["type"] == "peer_offline"
        a = await open_registered(server, owner, "a", agent_id="alpha")
        for agent in (b, c):
            assert (await agent.recv())["type"] == "peer_online"

        # No "data": delivered with data null.
        await c.send({"type": "signal", "to": owner_vip})
        await a.expect({"type": "signal", "from": "gamma", "from_virtual_ip": third_vip,
                        "from_user_id": third.id, "data": None})

        # The sender gets no acknowledgement; nobody else gets a copy.
        for agent in (a, b, c):
            assert await agent.barrier() == []

        # Refused: unknown address in and out of the subnet, unknown peer_id, wrong types for "to".
        for to in ("10.30.0.200", "192.168.1.1", "nobody", "ALPHA", " alpha"):
            await a.send({"type": "signal", "to": to, "data": {}})
            await a.expect({"error": "Unknown peer"})
        for bad in ({"type": "signal", "data": {}}, {"type": "signal", "to": 5, "data": {}},
                    {"type": "signal", "to": None}, {"type": "signal", "to": ["10.30.0.2"]},
                    {"type": "signal", "to": {"virtual_ip": member_vip}}):
            await a.send(bad)
            await a.expect({"error": "Invalid signal"})
        # A peer that went offline is unknown.
        await c.close()
        await a.expect({"type": "peer_offline", "peer_id": "gamma", "user_id": third.id, "virtual_ip": third_vip})
        await b.recv()
        for to in (third_vip, "gamma"):
            await a.send({"type": "signal", "to": to, "data": 1})
            await a.expect({"error": "Unknown peer"})
        assert await b.barrier() == []
        await close_all(a, b)

    run(scenario())


def test_ping_pong_and_errors_keep_the_connection(server, rest):
    owner = rest.new_user("owner")
    org = rest.create_org(owner, "10.31.0.0/24")
    rest.allocate(owner, org["id"])
    member, _ = rest.member_with_ip(org["id"])

    async def scenario():
        a = await open_registered(server, owner, "a")
        b = await open_registered(server, member, "b")
        await a.recv()
        for _ in range(3):
            await a.send({"type": "ping"})
            assert await a.recv() == {"type": "pong"}
        await a.send({"type": "ping", "extra": [1, 2]})
        await a.expect({"type": "pong"})
        assert await b.barrier() == []  # pongs go to the sender only

        cases = [
            (register_msg(), "Already registered"),
            (register_msg(agent_id="other"), "Already registered"),
            ({"type": "teleport"}, "Unknown message type"),
            ({"type": "PING"}, "Unknown message type"),
            ({"type": 1}, "Unknown message type"),
            ({"no_type": True}, "Unknown message type"),
            ([{"type": "ping"}], "Unknown message type"),
            ("not json", "Invalid JSON"),
            ('{"type": "ping"', "Invalid JSON"),
            ('{"type": "ping", "type": "ping"}', "Invalid JSON"),
            ("", "Invalid JSON"),
        ]
        for message, error in cases:
            await a.send(message)
            await a.expect({"error": error})
        await a.send({"type": "ping"})
        await a.expect({"type": "pong"})
        assert await b.barrier() == []
        assert [p["virtual_ip"] for p in rest.peers(owner, org["id"])] == [a.virtual_ip, b.virtual_ip]
        await close_all(a, b)

    run(scenario())


def test_update_broadcasts_peer_update_to_the_others_only(server, rest):
    owner = rest.new_user("owner")
    org = rest.create_org(owner, "10.32.0.0/24")
    owner_vip = rest.allocate(owner, org["id"])
    member, member_vip = rest.member_with_ip(org["id"])
    late, late_vip = rest.member_with_ip(org["id"])

    async def scenario():
        a = await open_registered(server, owner, "a", agent_id="a-dev")
        b = await open_registered(server, member, "b")
        await a.recv()
        peer = peer_object(owner, owner_vip, agent_id="a-dev")

        async def update(message: dict, **changed):
            peer.update(changed)
            await a.send({"type": "update", **message})
            await b.expect({"type": "peer_update", "peer": dict(peer)})
            assert await a.barrier() == []  # not sent back to the updater

        await update({"public_ip": "198.51.100.20"}, public_ip="198.51.100.20")
        await update({"public_port": 60000}, public_port=60000)
        await update({"relay_ip": "198.51.100.21", "relay_port": 3478}, relay_ip="198.51.100.21", relay_port=3478)
        await update({"public_ip": "2001:db8::20", "public_port": 1, "relay_port": 3479},
                     public_ip="2001:db8::20", public_port=1, relay_port=3479)
        await update({"relay_ip": None, "relay_port": None}, relay_ip=None, relay_port=None)

        # Nothing changed: no broadcast.
        for unchanged in ({}, {"public_ip": "2001:db8::20"}, {"relay_ip": None}, {"public_port": 1}):
            await a.send({"type": "update", **unchanged})
            assert await a.barrier() == []
            assert await b.barrier() == []

        # Invalid values: the same errors as at registration; nothing changes, connection stays.
        for bad, error in (({"public_ip": "not-an-ip"}, "Invalid public_ip"),
                           ({"public_ip": None}, "Invalid public_ip"),
                           ({"public_ip": 3}, "Invalid public_ip"),
                           ({"public_port": 0}, "Invalid public_port"),
                           ({"public_port": "5000"}, "Invalid public_port"),
                           ({"public_port": 65536}, "Invalid public_port"),
                           ({"public_port": 5000.5}, "Invalid public_port"),
                           ({"relay_ip": "300.1.1.1"}, "Invalid relay_ip"),
                           ({"relay_port": -1}, "Invalid relay_port"),
                           ({"relay_port": True}, "Invalid relay_port"),
                           ({"public_ip": "198.51.100.99", "public_port": "x"}, "Invalid public_port")):
            await a.send({"type": "update", **bad})
            await a.expect({"error": error})
        assert await b.barrier() == []

        # The current values are what newcomers and REST see.
        c = await open_registered(server, late, "c")
        assert c.response["existing_peers"] == [peer, peer_object(member, member_vip, peer_id=b.peer_id)]
        assert await a.recv() == await b.recv() == {
            "type": "peer_online", "peer": peer_object(late, late_vip, peer_id=c.peer_id)}
        assert [p for p in rest.peers(member, org["id"]) if p["virtual_ip"] == owner_vip] == [peer]

        # An update reaches every other peer.
        await a.send({"type": "update", "public_port": 2})
        peer["public_port"] = 2
        await b.expect({"type": "peer_update", "peer": peer})
        await c.expect({"type": "peer_update", "peer": peer})
        assert await a.barrier() == []
        await close_all(a, b, c)

    run(scenario())


def test_address_choice_with_and_without_organization_id(server, rest):
    """With organization_id: the caller's allocation there (the device's if it has one). Without:
    the same rule over all of the caller's organizations, earliest allocation first."""
    user = rest.new_user("multi")
    first_org = rest.create_org(user, "10.40.0.0/24")
    second_org = rest.create_org(user, "10.41.0.0/24")
    second_own = rest.allocate(user, second_org["id"])          # earliest allocation
    first_own = rest.allocate(user, first_org["id"])
    first_laptop = rest.allocate(user, first_org["id"], agent_id="laptop")
    assert (second_own, first_own, first_laptop) == ("10.41.0.1", "10.40.0.1", "10.40.0.2")

    async def choose(**fields) -> dict:
        agent = await Agent.open(server, user.token)
        response = await agent.register(**fields)
        await agent.close()
        await wait_offline(rest, user, response["organization_id"], response["virtual_ip"])
        return response

    async def scenario():
        got = await choose()
        assert (got["virtual_ip"], got["organization_id"], got["subnet"]) == (second_own, second_org["id"],
                                                                               "10.41.0.0/24")
        got = await choose(organization_id=first_org["id"])
        assert (got["virtual_ip"], got["organization_id"], got["subnet"]) == (first_own, first_org["id"],
                                                                               "10.40.0.0/24")
        got = await choose(organization_id=first_org["id"], agent_id="laptop")
        assert (got["virtual_ip"], got["peer_id"]) == (first_laptop, "laptop")
        # The device has an address in the first organization only: without organization_id the
        # device's allocation still wins over the caller's own ones.
        got = await choose(agent_id="laptop")
        assert (got["virtual_ip"], got["organization_id"]) == (first_laptop, first_org["id"])
        # An agent_id without an allocation of its own uses the caller's own address.
        got = await choose(organization_id=second_org["id"], agent_id="laptop")
        assert (got["virtual_ip"], got["peer_id"], got["organization_id"]) == (second_own, "laptop",
                                                                               second_org["id"])
        got = await choose(agent_id="phone")
        assert (got["virtual_ip"], got["peer_id"]) == (second_own, "phone")
        got = await choose(organization_id=None)
        assert got["virtual_ip"] == second_own

        # One user, two devices online at once in one organization: they see each other.
        own = await open_registered(server, user, "own", organization_id=first_org["id"])
        laptop = await open_registered(server, user, "laptop", organization_id=first_org["id"], agent_id="laptop")
        assert laptop.response["existing_peers"] == [peer_object(user, first_own, peer_id=own.peer_id)]
        await own.expect({"type": "peer_online", "peer": peer_object(user, first_laptop, agent_id="laptop")})
        await close_all(own, laptop)

    run(scenario())


def test_messages_pipelined_behind_the_register(server, rest):
    """Messages sent right behind the register, before its answer, are handled after it, in order."""
    owner = rest.new_user("owner")
    org = rest.create_org(owner, "10.42.0.0/24")
    vip = rest.allocate(owner, org["id"])
    member, member_vip = rest.member_with_ip(org["id"])

    async def scenario():
        other = await open_registered(server, member, "other", agent_id="other")
        agent = await Agent.open(server, owner.token, name="pipelined")
        for message in (register_msg(agent_id="fast"), register_msg(), {"type": "ping"},
                        {"type": "signal", "to": member_vip, "data": "hi"}, {"type": "update", "public_port": 9}):
            await agent.send(message)
        response = await agent.recv()
        assert response["type"] == "register_agent_response" and response["peer_id"] == "fast"
        assert await agent.recv() == {"error": "Already registered"}
        assert await agent.recv() == {"type": "pong"}
        peer = peer_object(owner, vip, agent_id="fast")
        await other.expect({"type": "peer_online", "peer": peer})
        await other.expect({"type": "signal", "from": "fast", "from_virtual_ip": vip, "from_user_id": owner.id,
                            "data": "hi"})
        await other.expect({"type": "peer_update", "peer": {**peer, "public_port": 9}})
        assert await agent.barrier() == []
        await close_all(agent, other)

    run(scenario())


def test_registration_lands_where_the_database_says_at_registration(server, rest):
    """A single process reads where a registration may land together with the token check at the
    upgrade (one trip to the database per connection). What changes between the upgrade and the
    `register` must count: an address allocated meanwhile for the device, an address released, a
    membership removed."""
    owner = rest.new_user("owner")
    org = rest.create_org(owner, "10.42.0.0/24")
    member, member_own = rest.member_with_ip(org["id"])
    upgrade_done = 0.3  # the read ahead takes well under a millisecond here

    async def scenario():
        # A device address allocated after the upgrade wins over the user's own, as it would have.
        laptop = await Agent.open(server, member.token, name="laptop")
        await asyncio.sleep(upgrade_done)
        laptop_vip = rest.allocate(member, org["id"], agent_id="laptop")
        got = await laptop.register(agent_id="laptop")
        assert (got["virtual_ip"], got["peer_id"]) == (laptop_vip, "laptop")
        await laptop.close()
        await wait_offline(rest, member, org["id"], laptop_vip)

        # The user's own address released after the upgrade: no registration at the old address.
        phone = await Agent.open(server, member.token, name="phone")
        await asyncio.sleep(upgrade_done)
        rest.release(member, org["id"], member_own)
        await phone.send(register_msg(agent_id="phone", organization_id=org["id"]))
        await phone.expect_error_close("No virtual IP allocated for user in organization")

        # Removed from the organization after the upgrade: refused as a stranger.
        tablet = await Agent.open(server, member.token, name="tablet")
        await asyncio.sleep(upgrade_done)
        rest.remove_member(owner, org["id"], member.id)
        await tablet.send(register_msg(agent_id="laptop", organization_id=org["id"]))
        await tablet.expect_error_close("User not member of organization")
        assert rest.ips(owner, org["id"]) == []

    run(scenario())
