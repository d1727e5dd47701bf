"""Presence through REST (PROTOCOL.md §3, §4): GET /organizations/{id}/peers and the "online" flag
of GET /organizations/{id}/ips follow the WebSocket registrations; removing a member or releasing
an address closes that peer's connection (4001) and announces it offline exactly once."""

from __future__ import annotations

import pytest

from ws_harness import (Agent, close_all, ip_key, offline_msg, open_registered, peer_object, register_msg, run,
                        running_server)


@pytest.fixture(scope="module")
def server():
    with running_server() as instance:
        yield instance


def by_ip(peers: list) -> list:
    return sorted(peers, key=lambda p: ip_key(p["virtual_ip"]))


def test_peers_and_ips_follow_registrations(server):
    rest = server.rest()
    owner = rest.new_user("owner")
    org = rest.create_org(owner, "10.80.0.0/24")
    owner_vip = rest.allocate(owner, org["id"])
    member, member_vip = rest.member_with_ip(org["id"])
    idle, idle_vip = rest.member_with_ip(org["id"], tag="idle")  # allocated, never connects
    laptop_vip = rest.allocate(member, org["id"], agent_id="laptop")

    async def scenario():
        assert rest.peers(owner, org["id"]) == []
        assert rest.online(owner, org["id"]) == {owner_vip: False, member_vip: False, idle_vip: False,
                                                 laptop_vip: False}
        a = await open_registered(server, owner, "a", public_ip="198.51.100.1", public_port=1000,
                                  relay_ip="198.51.100.2", relay_port=1001)
        a_peer = peer_object(owner, owner_vip, peer_id=a.peer_id, public_ip="198.51.100.1", public_port=1000,
                             relay_ip="198.51.100.2", relay_port=1001)
        assert rest.peers(owner, org["id"]) == [a_peer]
        b = await open_registered(server, member, "b", agent_id="laptop")
        b_peer = peer_object(member, laptop_vip, agent_id="laptop")
        await a.recv()
        # Every member sees the same list, whatever its role.
        for viewer in (owner, member, idle):
            assert by_ip(rest.peers(viewer, org["id"])) == [a_peer, b_peer]
            assert rest.online(viewer, org["id"]) == {owner_vip: True, member_vip: False, idle_vip: False,
                                                      laptop_vip: True}
        rows = rest.ips(owner, org["id"])
        assert all(set(row) == {"user_id", "email", "agent_id", "virtual_ip", "allocated_at", "online"}
                   for row in rows)
        assert [r["agent_id"] for r in rows if r["virtual_ip"] == laptop_vip] == ["laptop"]
        # A non-member sees neither list.
        outsider = rest.new_user("outsider")
        for path in ("peers", "ips"):
            assert rest.call("GET", f"/organizations/{org['id']}/{path}", outsider).status_code == 403

        # Updates show in REST.
        await b.send({"type": "update", "public_port": 4242})
        await a.expect({"type": "peer_update", "peer": {**b_peer, "public_port": 4242}})
        assert by_ip(rest.peers(idle, org["id"]))[1]["public_port"] == 4242

        await b.close()
        await a.expect(offline_msg(b_peer))
        assert rest.peers(member, org["id"]) == [a_peer]
        assert rest.online(owner, org["id"])[laptop_vip] is False
        await a.close()
    run(scenario())


def test_removing_a_member_closes_its_connections(server):
    rest = server.rest()
    owner = rest.new_user("owner")
    org = rest.create_org(owner, "10.81.0.0/24")
    rest.allocate(owner, org["id"])
    member, member_vip = rest.member_with_ip(org["id"])
    device_vip = rest.allocate(member, org["id"], agent_id="tablet")
    bystander, bystander_vip = rest.member_with_ip(org["id"], tag="bystander")

    async def scenario():
        a = await open_registered(server, owner, "owner")
        c = await open_registered(server, bystander, "bystander")
        own = await open_registered(server, member, "own")
        tablet = await open_registered(server, member, "tablet", agent_id="tablet")
        # (received one by one rather than up to a barrier: with several processes, a ping's pong
        # does not wait for news from the other processes; and a process may not have heard of an
        # agent of another process yet when the next one registers: then it comes as peer_online)
        agents = (a, c, own, tablet)
        for agent in agents:
            known = {p["virtual_ip"] for p in agent.response["existing_peers"]}
            missing = {other.virtual_ip for other in agents if other is not agent} - known
            news = [await agent.recv() for _ in missing]
            assert {(n["type"], n["peer"]["virtual_ip"]) for n in news} == {("peer_online", ip) for ip in missing}
            assert await agent.barrier() == []
        own_peer = peer_object(member, member_vip, peer_id=own.peer_id)
        tablet_peer = peer_object(member, device_vip, agent_id="tablet")

        removed = rest.remove_member(owner, org["id"], member.id)
        assert removed["organization_id"] == org["id"] and removed["user_id"] == member.id
        assert sorted(removed["released_ips"], key=ip_key) == [member_vip, device_vip]

        # Both connections of the removed member close with 4001. Whichever is taken offline first
        # may still be announced to the other one before that one's own close.
        for closing, sibling in ((own, tablet_peer), (tablet, own_peer)):
            await closing.expect_close(4001, reason="removed", before_options=([], [offline_msg(sibling)]))
        for watcher in (a, c):
            notices = [await watcher.recv(), await watcher.recv()]
            assert sorted(notices, key=lambda n: ip_key(n["virtual_ip"])) == [offline_msg(own_peer),
                                                                               offline_msg(tablet_peer)]
            await watcher.expect_quiet(0.3)  # exactly once each, also after the closes completed
        assert {p["virtual_ip"] for p in rest.peers(owner, org["id"])} == {a.virtual_ip, bystander_vip}
        assert member_vip not in rest.online(owner, org["id"])

        # The former member cannot come back without joining again.
        again = await Agent.open(server, member.token)
        await again.send(register_msg())
        await again.expect_error_close("User not member of any organization")
        await close_all(a, c)
    run(scenario())


def test_leaving_closes_the_leavers_connection(server):
    rest = server.rest()
    owner = rest.new_user("owner")
    org = rest.create_org(owner, "10.82.0.0/24")
    rest.allocate(owner, org["id"])
    member, member_vip = rest.member_with_ip(org["id"])

    async def scenario():
        a = await open_registered(server, owner, "owner")
        m = await open_registered(server, member, "member")
        await a.recv()
        rest.remove_member(member, org["id"], member.id)  # a member removes itself: leave
        await m.expect_close(4001, reason="removed")
        await a.expect(offline_msg(peer_object(member, member_vip, peer_id=m.peer_id)))
        await a.expect_quiet(0.3)
        await a.close()
    run(scenario())


def test_releasing_an_address_closes_the_peer_using_it(server):
    rest = server.rest()
    owner = rest.new_user("owner")
    org = rest.create_org(owner, "10.83.0.0/24")
    rest.allocate(owner, org["id"])
    member, member_vip = rest.member_with_ip(org["id"])
    device_vip = rest.allocate(member, org["id"], agent_id="console")
    spare, spare_vip = rest.member_with_ip(org["id"], tag="spare")

    async def scenario():
        a = await open_registered(server, owner, "owner")
        own = await open_registered(server, member, "own")
        console = await open_registered(server, member, "console", agent_id="console")
        for _ in range(2):
            await a.recv()
        await own.recv()

        # The holder releases its device address: only that connection goes.
        released = rest.release(member, org["id"], device_vip)
        assert released["virtual_ip"] == device_vip
        await console.expect_close(4001, reason="removed")
        console_peer = peer_object(member, device_vip, agent_id="console")
        await a.expect(offline_msg(console_peer))
        await own.expect(offline_msg(console_peer))
        for agent in (a, own):
            await agent.expect_quiet(0.3)

        # The owner releases the member's own address.
        rest.release(owner, org["id"], member_vip)
        await own.expect_close(4001, reason="removed")
        await a.expect(offline_msg(peer_object(member, member_vip, peer_id=own.peer_id)))
        await a.expect_quiet(0.3)

        # Releasing an address nobody is using notifies nobody.
        rest.release(owner, org["id"], spare_vip)
        await a.expect_quiet(0.3)
        assert rest.peers(owner, org["id"]) == [peer_object(owner, a.virtual_ip, peer_id=a.peer_id)]
        assert rest.online(owner, org["id"]) == {a.virtual_ip: True}

        # Without an address the member cannot register any more.
        again = await Agent.open(server, member.token)
        await again.send(register_msg())
        await again.expect_error_close("No virtual IP allocated for user in any organization")
        # A new allocation (the lowest free address: a released one) works again.
        assert rest.allocate(member, org["id"]) == member_vip
        back = await open_registered(server, member, "back")
        assert back.virtual_ip == member_vip
        await a.expect({"type": "peer_online", "peer": peer_object(member, member_vip, peer_id=back.peer_id)})
        await close_all(a, back)
    run(scenario())


def test_removal_from_one_organization_keeps_the_other(server):
    """A user online in two organizations and removed from one: only that organization's connection
    is closed; the other stays online and its organization hears nothing."""
    rest = server.rest()
    user = rest.new_user("two-homes")
    first_owner, second_owner = rest.new_user("first"), rest.new_user("second")
    first = rest.create_org(first_owner, "10.84.0.0/24")
    second = rest.create_org(second_owner, "10.84.0.0/24")
    rest.allocate(first_owner, first["id"])
    rest.allocate(second_owner, second["id"])
    for org in (first, second):
        rest.join(user, org["id"])
    first_vip, second_vip = rest.allocate(user, first["id"]), rest.allocate(user, second["id"])

    async def scenario():
        a = await open_registered(server, first_owner, "first-owner")
        b = await open_registered(server, second_owner, "second-owner")
        in_first = await open_registered(server, user, "in-first", organization_id=first["id"])
        in_second = await open_registered(server, user, "in-second", organization_id=second["id"])
        await a.recv(), await b.recv()

        rest.remove_member(first_owner, first["id"], user.id)
        await in_first.expect_close(4001, reason="removed")
        await a.expect(offline_msg(peer_object(user, first_vip, peer_id=in_first.peer_id)))
        for agent in (a, b, in_second):
            await agent.expect_quiet(0.3)
        assert rest.online(second_owner, second["id"])[second_vip] is True
        await b.send({"type": "signal", "to": second_vip, "data": "still here"})
        assert (await in_second.recv())["data"] == "still here"
        await close_all(a, b, in_second)
    run(scenario())
