"""Tenant isolation (PROTOCOL.md §0.3, §5.3): two organizations with the same subnet, 10.0.0.0/24,
hold the same virtual IPs. An agent only ever learns about peers of its own organization, whatever
the message (existing_peers, peer_online, peer_offline, peer_update, signal)."""

from __future__ import annotations

import pytest

from ws_harness import close_all, offline_msg, open_registered, peer_object, run, running_server

SUBNET = "10.0.0.0/24"


@pytest.fixture(scope="module")
def server():
    with running_server() as instance:
        yield instance


def test_same_subnet_organizations_never_see_each_other(server):
    rest = server.rest()
    alpha_owner, beta_owner = rest.new_user("alpha"), rest.new_user("beta")
    alpha = rest.create_org(alpha_owner, SUBNET)
    beta = rest.create_org(beta_owner, SUBNET)
    assert alpha["subnet"] == beta["subnet"] == SUBNET
    a1_vip = rest.allocate(alpha_owner, alpha["id"])
    b1_vip = rest.allocate(beta_owner, beta["id"])
    alpha_member, a2_vip = rest.member_with_ip(alpha["id"], tag="alpha-member")
    beta_member, b2_vip = rest.member_with_ip(beta["id"], tag="beta-member")
    assert a1_vip == b1_vip == "10.0.0.1" and a2_vip == b2_vip == "10.0.0.2"

    async def scenario():
        a1 = await open_registered(server, alpha_owner, "a1", agent_id="alpha-1")
        assert a1.response["existing_peers"] == []
        b1 = await open_registered(server, beta_owner, "b1", agent_id="beta-1")
        assert b1.response["existing_peers"] == []  # a1 is online in the same subnet, other tenant
        assert (b1.response["organization_id"], a1.response["organization_id"]) == (beta["id"], alpha["id"])

        a2 = await open_registered(server, alpha_member, "a2", agent_id="alpha-2")
        a2_peer = peer_object(alpha_member, a2_vip, agent_id="alpha-2")
        assert a2.response["existing_peers"] == [peer_object(alpha_owner, a1_vip, agent_id="alpha-1")]
        await a1.expect({"type": "peer_online", "peer": a2_peer})

        # Same virtual IP as a2 in the other organization: no take-over, no notice across tenants.
        b2 = await open_registered(server, beta_member, "b2", agent_id="beta-2")
        b2_peer = peer_object(beta_member, b2_vip, agent_id="beta-2")
        assert b2.response["existing_peers"] == [peer_object(beta_owner, b1_vip, agent_id="beta-1")]
        await b1.expect({"type": "peer_online", "peer": b2_peer})

        # update: only the updater's organization hears it.
        await a2.send({"type": "update", "public_port": 61000})
        await a1.expect({"type": "peer_update", "peer": {**a2_peer, "public_port": 61000}})
        await b2.send({"type": "update", "relay_ip": "198.51.100.2", "relay_port": 9})
        await b1.expect({"type": "peer_update", "peer": {**b2_peer, "relay_ip": "198.51.100.2", "relay_port": 9}})

        # signal by a virtual IP that exists in both organizations: delivered inside the sender's.
        await a1.send({"type": "signal", "to": "10.0.0.2", "data": "for alpha-2"})
        await a2.expect({"type": "signal", "from": "alpha-1", "from_virtual_ip": a1_vip,
                         "from_user_id": alpha_owner.id, "data": "for alpha-2"})
        await b1.send({"type": "signal", "to": "10.0.0.2", "data": "for beta-2"})
        await b2.expect({"type": "signal", "from": "beta-1", "from_virtual_ip": b1_vip,
                         "from_user_id": beta_owner.id, "data": "for beta-2"})
        # signal to another organization's peer_id: unknown.
        for sender, foreign in ((b1, "alpha-2"), (b2, "alpha-1"), (a1, "beta-2"), (a2, "beta-1")):
            await sender.send({"type": "signal", "to": foreign, "data": {"leak": True}})
            await sender.expect({"error": "Unknown peer"})
        # An address online only in the other organization: unknown here.
        b3_owner = rest.new_user("beta-3")
        rest.join(b3_owner, beta["id"])
        b3_vip = rest.allocate(b3_owner, beta["id"])
        assert b3_vip == "10.0.0.3"
        b3 = await open_registered(server, b3_owner, "b3")
        await b1.recv(), await b2.recv()
        await a1.send({"type": "signal", "to": b3_vip, "data": {"leak": True}})
        await a1.expect({"error": "Unknown peer"})
        await a1.send({"type": "signal", "to": b3.peer_id, "data": {"leak": True}})
        await a1.expect({"error": "Unknown peer"})

        # peer_offline: only the leaver's organization hears it.
        await a2.close()
        await a1.expect(offline_msg(a2_peer))
        await b3.close()
        await b1.expect(offline_msg(peer_object(b3_owner, b3_vip, peer_id=b3.peer_id)))
        await b2.expect(offline_msg(peer_object(b3_owner, b3_vip, peer_id=b3.peer_id)))

        # Nothing else reached anybody.
        for agent in (a1, b1, b2):
            assert await agent.barrier() == [], agent.name

        # REST presence is per organization too.
        assert [p["peer_id"] for p in rest.peers(alpha_owner, alpha["id"])] == ["alpha-1"]
        assert sorted(p["peer_id"] for p in rest.peers(beta_owner, beta["id"])) == ["beta-1", "beta-2"]
        assert rest.online(alpha_owner, alpha["id"]) == {"10.0.0.1": True, "10.0.0.2": False}
        assert rest.online(beta_owner, beta["id"]) == {"10.0.0.1": True, "10.0.0.2": True, "10.0.0.3": False}
        response = rest.call("GET", f"/organizations/{beta['id']}/peers", alpha_owner)
        assert response.status_code == 403, response.text
        await close_all(a1, b1, b2)

    run(scenario())


def test_one_user_in_two_same_subnet_organizations(server):
    """A user holding 10.0.0.1 in two organizations can be online in both at once: neither
    registration replaces the other, and each sees only its own organization."""
    rest = server.rest()
    user = rest.new_user("both")
    left = rest.create_org(user, SUBNET)
    right = rest.create_org(user, SUBNET)
    assert rest.allocate(user, left["id"]) == rest.allocate(user, right["id"]) == "10.0.0.1"
    neighbour, neighbour_vip = rest.member_with_ip(right["id"], tag="neighbour")

    async def scenario():
        n = await open_registered(server, neighbour, "neighbour", agent_id="n")
        in_left = await open_registered(server, user, "left", organization_id=left["id"], agent_id="dev")
        assert in_left.response["existing_peers"] == []
        assert await n.barrier() == []
        in_right = await open_registered(server, user, "right", organization_id=right["id"], agent_id="dev")
        assert in_right.response["existing_peers"] == [peer_object(neighbour, neighbour_vip, agent_id="n")]
        me_right = peer_object(user, "10.0.0.1", agent_id="dev")
        await n.expect({"type": "peer_online", "peer": me_right})
        assert await in_left.barrier() == []  # not replaced, not told

        # A signal to "dev" from the right organization reaches the right-hand connection only.
        await n.send({"type": "signal", "to": "dev", "data": 7})
        await in_right.expect({"type": "signal", "from": "n", "from_virtual_ip": neighbour_vip,
                               "from_user_id": neighbour.id, "data": 7})
        assert await in_left.barrier() == []

        await in_left.close()
        assert await n.barrier() == [] and await in_right.barrier() == []
        assert rest.online(user, right["id"])["10.0.0.1"] is True
        await in_right.close()
        await n.expect(offline_msg(me_right))
        await n.close()

    run(scenario())
