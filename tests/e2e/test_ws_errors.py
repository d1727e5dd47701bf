"""Every error of the WebSocket contract, provoked (PROTOCOL.md §5.1, §5.2, §5.5): token errors, the
registration timeout, each "Invalid ..." of register, membership errors, bad JSON, wrong types,
huge and hostile values, the message size limit and the rate limit. Before registration each
error is {"error": ...} followed by close 1008; afterwards the connection stays open. The server
stays up and the other connections notice nothing (PROTOCOL.md §0.4)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time

import jwt
import pytest
import websockets
from websockets.exceptions import ConnectionClosed

from ws_harness import (Agent, RawWs, close_all, offline_msg, open_registered, peer_object, register_msg, run,
                        running_server)

MISSING = "Missing required fields: public_ip, public_port"


@pytest.fixture(scope="module")
def server():
    with running_server() as instance:
        yield instance


@pytest.fixture(scope="module")
def member(server):
    """A user with an address in an organization: registration can only fail because of the
    message itself."""
    rest = server.rest()
    owner = rest.new_user("owner")
    org = rest.create_org(owner, "10.50.0.0/24")
    rest.allocate(owner, org["id"])
    user, vip = rest.member_with_ip(org["id"], tag="member")
    return {"rest": rest, "owner": owner, "org": org, "user": user, "vip": vip}


async def refused(server, token, message, error: str, **open_options) -> None:
    agent = await Agent.open(server, token, **open_options)
    with contextlib.suppress(ConnectionClosed):  # a token error may have closed it already
        await agent.send(message)
    await agent.expect_error_close(error)


def without(*keys, **changes) -> dict:
    message = register_msg(relay_ip="198.51.100.1", relay_port=3478, agent_id="dev")
    for key in keys:
        del message[key]
    message.update(changes)
    return message


# -- token --------------------------------------------------------------------------------------------

def forge(server, member, **claims_and_options):
    key = claims_and_options.pop("key", server.secret_key)
    algorithm = claims_and_options.pop("algorithm", "HS256")
    now = int(time.time())
    stamp = jwt.decode(member["user"].token, options={"verify_signature": False})["stm"]
    claims = {"sub": str(member["user"].id), "stm": stamp, "iat": now, "exp": now + 600, "jti": "x" * 16}
    claims.update(claims_and_options)
    claims = {k: v for k, v in claims.items() if v is not None}
    return jwt.encode(claims, key, algorithm=algorithm)


def test_a_forged_token_with_the_right_key_is_accepted(server, member):
    """Guards the token tests below: the same forging with the server's key and valid claims works."""
    async def scenario():
        agent = await Agent.open(server, forge(server, member))
        assert (await agent.register())["virtual_ip"] == member["vip"]
        await agent.close()
    run(scenario())


@pytest.mark.parametrize("target, via_header", [("/ws", False), ("/ws/", False), ("/ws?token=", False),
                                                ("/ws/?token=", False), ("/ws", True)])
def test_missing_token(server, target, via_header):
    async def scenario():
        headers = {"Authorization": "Bearer "} if via_header else {}
        agent = Agent(await websockets.connect(server.ws_url(target), extra_headers=headers), "no-token")
        # The error comes right after the upgrade, before the client says anything.
        await agent.expect_error_close("No token provided")
    run(scenario())


@pytest.mark.parametrize("case", ["garbage", "three-dots", "wrong-key", "alg-none", "hs512", "expired",
                                  "not-yet-valid", "no-sub", "unknown-user", "no-exp", "header-garbage",
                                  "truncated"])
def test_invalid_token(server, member, case):
    token = {
        "garbage": lambda: "not-a-jwt",
        "three-dots": lambda: "a.b.c",
        "wrong-key": lambda: forge(server, member, key="another-secret-key-of-sufficient-length"),
        "alg-none": lambda: forge(server, member, key=None, algorithm="none"),
        "hs512": lambda: forge(server, member, algorithm="HS512"),
        "expired": lambda: forge(server, member, exp=int(time.time()) - 60),
        "not-yet-valid": lambda: forge(server, member, nbf=int(time.time()) + 3600),
        "no-sub": lambda: forge(server, member, sub=None),
        "unknown-user": lambda: forge(server, member, sub="987654321"),
        "no-exp": lambda: forge(server, member, exp=None),
        "header-garbage": lambda: "x" * 500,
        "truncated": lambda: member["user"].token[:-3],
    }[case]()

    async def scenario():
        via = "header" if case == "header-garbage" else "query"
        agent = await Agent.open(server, token, via=via)
        await agent.expect_error_close("Invalid token")
        # A token error is final: a register sent at once after the upgrade changes nothing.
        await refused(server, token, register_msg(), "Invalid token")
    run(scenario())


def test_token_of_a_deleted_user(server):
    rest = server.rest()
    doomed = rest.new_user("doomed")
    assert server.sql("DELETE FROM users WHERE id = %s", (doomed.id,)) == 1

    async def scenario():
        agent = await Agent.open(server, doomed.token)
        await agent.expect_error_close("Invalid token")
        agent = await Agent.open(server, doomed.token, via="header")
        await agent.expect_error_close("Invalid token")
    run(scenario())


def test_registration_timeout():
    with running_server(env={"REGISTER_TIMEOUT_SECONDS": "0.5"}) as server:
        rest = server.rest()
        owner = rest.new_user()
        org = rest.create_org(owner)
        rest.allocate(owner, org["id"])

        async def scenario():
            started = time.monotonic()
            silent = await Agent.open(server, owner.token, ping_interval=0.1)  # control frames do not count
            await silent.expect_error_close("Registration timeout", timeout=5)
            elapsed = time.monotonic() - started
            assert 0.4 <= elapsed <= 3, elapsed
            # Also without a token: the token error comes first, at once.
            started = time.monotonic()
            anonymous = await Agent.open(server, None)
            await anonymous.expect_error_close("No token provided")
            assert time.monotonic() - started < 0.4
            # A first frame that never completes does not hold the deadline off.
            raw = await asyncio.to_thread(RawWs.for_server, server, owner.token)
            started = time.monotonic()
            raw.sock.sendall(bytes([0x81, 0x80 | 100]) + b"\x00\x00\x00\x00" + b'{"type": "reg')
            messages, code = await asyncio.to_thread(raw.recv_close, 5)
            assert (messages, code) == ([{"error": "Registration timeout"}], 1008)
            assert 0.4 <= time.monotonic() - started <= 3
            raw.drop()
            # A registered connection outlives the registration deadline.
            agent = await open_registered(server, owner)
            await agent.expect_quiet(1.0)
            assert rest.online(owner, org["id"]) == {agent.virtual_ip: True}
            await agent.close()
        run(scenario())


# -- the register message -------------------------------------------------------------------------------

NOT_JSON = ["", " ", "not json", "{", '{"type": "register"', "{'type': 'register'}", "[1,]", '{"a" 1}',
            '{"type": "register"} trailing', "NaN", '{"type": "register", "public_port": 0x10}',
            '{"type":"register","type":"register","public_ip":"203.0.113.1","public_port":1}',
            '{"type":"register","public_ip":"203.0.113.1","public_port":1,"public_port":2}',
            '{"type":"register","public_ip":"203.0.113.1","public_port":1,"relay":{"a":1,"a":2}}']

NOT_REGISTER = [{"type": "ping"}, {"type": "signal", "to": "10.50.0.1", "data": {}}, {"type": "update"},
                {"type": "Register", "public_ip": "203.0.113.1", "public_port": 1},
                {"type": "register_agent", "public_ip": "203.0.113.1", "public_port": 1},
                {"public_ip": "203.0.113.1", "public_port": 1}, {"type": None}, {"type": ["register"]},
                {"type": {"register": True}}, {"type": 1}, [register_msg()], "null", "42", '"register"', "true",
                "[]", "{}"]

BAD_FIELDS = [
    (without("public_ip"), MISSING), (without("public_port"), MISSING),
    (without("public_ip", "public_port"), MISSING), (without(public_ip=None), MISSING),
    (without(public_port=None), MISSING), (without(public_ip=""), MISSING), (without(public_port=""), MISSING),
    (without(public_ip=None, public_port=None), MISSING),
    # public_ip: an IPv4 or IPv6 address, as a string
    (without(public_ip="999.0.0.1"), "Invalid public_ip"), (without(public_ip="203.0.113"), "Invalid public_ip"),
    (without(public_ip="localhost"), "Invalid public_ip"), (without(public_ip="203.0.113.1 "), "Invalid public_ip"),
    (without(public_ip=" 203.0.113.1"), "Invalid public_ip"), (without(public_ip="203.0.113.1/32"), "Invalid public_ip"),
    (without(public_ip="2001:db8::g"), "Invalid public_ip"), (without(public_ip=3405803777), "Invalid public_ip"),
    (without(public_ip=["203.0.113.1"]), "Invalid public_ip"), (without(public_ip={"ip": "203.0.113.1"}), "Invalid public_ip"),
    (without(public_ip=True), "Invalid public_ip"), (without(public_ip="203.0.113.1\u0000"), "Invalid public_ip"),
    (without(public_ip="' OR 1=1 --"), "Invalid public_ip"), (without(public_ip="a" * 10000), "Invalid public_ip"),
    # public_port: an integer 1-65535
    (without(public_port=0), "Invalid public_port"), (without(public_port=-1), "Invalid public_port"),
    (without(public_port=65536), "Invalid public_port"), (without(public_port=2 ** 31), "Invalid public_port"),
    (without(public_port=2 ** 64), "Invalid public_port"), (without(public_port=-2 ** 63), "Invalid public_port"),
    (without(public_port="50000"), "Invalid public_port"), (without(public_port=50000.0), "Invalid public_port"),
    (without(public_port=50000.5), "Invalid public_port"), (without(public_port=True), "Invalid public_port"),
    (without(public_port=False), "Invalid public_port"), (without(public_port=[50000]), "Invalid public_port"),
    (without(public_port={"port": 50000}), "Invalid public_port"),
    # relay_ip / relay_port: optional, but valid when present and not null
    (without(relay_ip="relay.example.com"), "Invalid relay_ip"), (without(relay_ip=""), "Invalid relay_ip"),
    (without(relay_ip=7), "Invalid relay_ip"), (without(relay_ip=["198.51.100.1"]), "Invalid relay_ip"),
    (without(relay_ip=False), "Invalid relay_ip"),
    (without(relay_port=0), "Invalid relay_port"), (without(relay_port=65536), "Invalid relay_port"),
    (without(relay_port="3478"), "Invalid relay_port"), (without(relay_port=3478.5), "Invalid relay_port"),
    (without(relay_port=True), "Invalid relay_port"), (without(relay_port={}), "Invalid relay_port"),
    # agent_id: a string of 1 to 128 printable characters
    (without(agent_id=""), "Invalid agent_id"), (without(agent_id="a" * 129), "Invalid agent_id"),
    (without(agent_id="\U0001F600" * 129), "Invalid agent_id"), (without(agent_id=5), "Invalid agent_id"),
    (without(agent_id=True), "Invalid agent_id"), (without(agent_id=["dev"]), "Invalid agent_id"),
    (without(agent_id={"id": "dev"}), "Invalid agent_id"), (without(agent_id="dev\u0000ice"), "Invalid agent_id"),
    (without(agent_id="dev\nice"), "Invalid agent_id"), (without(agent_id="dev\tice"), "Invalid agent_id"),
    (without(agent_id="\u202eecived"), "Invalid agent_id"), (without(agent_id="dev\u2066ice"), "Invalid agent_id"),
    (without(agent_id="dev\u0085ice"), "Invalid agent_id"), (without(agent_id="dev\u007fice"), "Invalid agent_id"),
    # organization_id: a positive integer
    (without(organization_id="1"), "Invalid organization_id"), (without(organization_id=0), "Invalid organization_id"),
    (without(organization_id=-5), "Invalid organization_id"), (without(organization_id=1.5), "Invalid organization_id"),
    (without(organization_id=True), "Invalid organization_id"), (without(organization_id=[1]), "Invalid organization_id"),
    (without(organization_id={}), "Invalid organization_id"),
]


def case_id(case) -> str:
    text = case if isinstance(case, str) else json.dumps(case, ensure_ascii=True)
    return text[:60]


@pytest.mark.parametrize("message", NOT_JSON, ids=case_id)
def test_register_not_json(server, member, message):
    run(refused(server, member["user"].token, message, "Invalid JSON"))


@pytest.mark.parametrize("message", NOT_REGISTER, ids=case_id)
def test_first_message_must_be_register(server, member, message):
    run(refused(server, member["user"].token, message, "First message must be register"))


@pytest.mark.parametrize("message, error", BAD_FIELDS, ids=[case_id(m) for m, _ in BAD_FIELDS])
def test_register_field_errors(server, member, message, error):
    run(refused(server, member["user"].token, message, error))


def test_refused_registrations_change_nothing(server, member):
    """After all those refusals the member's address is still offline and unlisted."""
    rest, owner, org = member["rest"], member["owner"], member["org"]
    assert rest.online(owner, org["id"])[member["vip"]] is False
    assert rest.peers(owner, org["id"]) == []


@pytest.mark.parametrize("message, peer_id", [
    (without(agent_id="a" * 128), "a" * 128),
    (without(agent_id="\U0001F600" * 128), "\U0001F600" * 128),  # 128 characters, 512 bytes
    (without(agent_id="x'); DROP TABLE users; --"), "x'); DROP TABLE users; --"),
    (without(agent_id="\"quoted\" \\back\\slash\\ </script> \u00e9\u4e2d"), "\"quoted\" \\back\\slash\\ </script> \u00e9\u4e2d"),
    (without(agent_id=" "), " "),
    (without(agent_id=None, relay_ip=None, relay_port=None, organization_id=None), None),
    (without("agent_id", "relay_ip", "relay_port"), None),
    (without(public_ip="::", public_port=1), "dev"),
    (without(public_ip="0.0.0.0", public_port=65535), "dev"),
    (without(public_ip="::ffff:203.0.113.1"), "dev"),
    ({**without(), "unknown_field": [1, {"x": None}]}, "dev"),
], ids=case_id)
def test_edge_values_are_accepted_and_echoed(server, member, message, peer_id):
    """Boundary and hostile-but-valid values register, and are echoed exactly (JSON-escaped)."""
    rest, owner, org, user, vip = (member[k] for k in ("rest", "owner", "org", "user", "vip"))

    async def scenario():
        watcher = await open_registered(server, owner, "watcher")
        agent = await Agent.open(server, user.token)
        response = await agent.register(message)
        assert response["virtual_ip"] == vip
        if peer_id is not None:
            assert response["peer_id"] == peer_id
        expected = peer_object(user, vip, peer_id=response["peer_id"], agent_id=message.get("agent_id"),
                               public_ip=message["public_ip"], public_port=message["public_port"],
                               relay_ip=message.get("relay_ip"), relay_port=message.get("relay_port"))
        await watcher.expect({"type": "peer_online", "peer": expected})
        assert [p for p in rest.peers(owner, org["id"]) if p["virtual_ip"] == vip] == [expected]
        await agent.close()
        await watcher.expect(offline_msg(expected))
        await watcher.close()
    run(scenario())
    # The SQL-looking agent_id did nothing to the users table.
    assert rest.call("POST", "/login", json={"email": user.email, "password": "password123"}).status_code == 200
    assert rest.call("GET", "/me", user).status_code == 200


def test_membership_errors(server):
    rest = server.rest()
    loner = rest.new_user("loner")
    owner = rest.new_user("owner")
    org = rest.create_org(owner, "10.51.0.0/24")
    other = rest.create_org(rest.new_user("other"), "10.52.0.0/24")
    joined = rest.new_user("joined")
    rest.join(joined, org["id"])
    device_only = rest.new_user("device-only")
    rest.join(device_only, org["id"])
    rest.allocate(device_only, org["id"], agent_id="laptop")
    two_orgs = rest.new_user("two-orgs")
    rest.join(two_orgs, org["id"])
    rest.join(two_orgs, other["id"])
    two_orgs_vip = rest.allocate(two_orgs, other["id"])

    async def scenario():
        await refused(server, loner.token, register_msg(), "User not member of any organization")
        await refused(server, loner.token, register_msg(organization_id=org["id"]), "User not member of organization")
        await refused(server, joined.token, register_msg(), "No virtual IP allocated for user in any organization")
        await refused(server, joined.token, register_msg(agent_id="laptop"),
                      "No virtual IP allocated for user in any organization")
        await refused(server, joined.token, register_msg(organization_id=org["id"]),
                      "No virtual IP allocated for user in organization")
        await refused(server, joined.token, register_msg(organization_id=other["id"]),
                      "User not member of organization")
        await refused(server, joined.token, register_msg(organization_id=2 ** 40), "User not member of organization")
        # Only a device has an address: without that agent_id there is no address for the caller.
        await refused(server, device_only.token, register_msg(), "No virtual IP allocated for user in any organization")
        await refused(server, device_only.token, register_msg(agent_id="phone", organization_id=org["id"]),
                      "No virtual IP allocated for user in organization")
        agent = await open_registered(server, device_only, agent_id="laptop")
        assert agent.peer_id == "laptop"
        await agent.close()
        # An address in one organization, none in the other.
        await refused(server, two_orgs.token, register_msg(organization_id=org["id"]),
                      "No virtual IP allocated for user in organization")
        agent = await open_registered(server, two_orgs)
        assert (agent.virtual_ip, agent.response["organization_id"]) == (two_orgs_vip, other["id"])
        await agent.close()
    run(scenario())


# -- after registration -------------------------------------------------------------------------------

def test_errors_after_registration_keep_the_connection(server):
    rest = server.rest()
    owner = rest.new_user()
    org = rest.create_org(owner, "10.53.0.0/24")
    rest.allocate(owner, org["id"])
    peer_user, _ = rest.member_with_ip(org["id"])

    async def scenario():
        agent = await open_registered(server, owner, "agent")
        other = await open_registered(server, peer_user, "other")
        await agent.recv()
        deep_ok = json.loads("[" * 30 + "]" * 30)
        cases = [(m, "Invalid JSON") for m in NOT_JSON] + [
            (register_msg(), "Already registered"), ("[]", "Unknown message type"), ('"ping"', "Unknown message type"),
            ({"type": "pong"}, "Unknown message type"), ({"type": "register_agent_response"}, "Unknown message type"),
            ({"type": "signal", "to": 1}, "Invalid signal"), ({"type": "signal"}, "Invalid signal"),
            ({"type": "signal", "to": "nobody", "data": deep_ok}, "Unknown peer"),
            ({"type": "update", "public_ip": "203.0.113.256"}, "Invalid public_ip"),
            ({"type": "update", "public_port": "1"}, "Invalid public_port"),
            ({"type": "update", "relay_ip": "x"}, "Invalid relay_ip"),
            ({"type": "update", "relay_port": 0}, "Invalid relay_port"),
            ('{"type":"signal","to":"' + other.virtual_ip + '","data":' + "[" * 5000 + "]" * 5000 + "}",
             "Invalid JSON"),
        ]
        for message, error in cases:
            await agent.send(message)
            await agent.expect({"error": error})
        # Nothing reached the other peer; both still work.
        assert await other.barrier() == []
        await agent.send({"type": "signal", "to": other.virtual_ip, "data": deep_ok})
        await other.expect({"type": "signal", "from": agent.peer_id, "from_virtual_ip": agent.virtual_ip,
                            "from_user_id": owner.id, "data": deep_ok})
        await agent.send({"type": "signal", "to": other.peer_id, "data": "\u0000\u202e\U0001F600'; --"})
        assert (await other.recv())["data"] == "\u0000\u202e\U0001F600'; --"
        await close_all(agent, other)
    run(scenario())


def test_lone_surrogates_never_reach_other_peers(server):
    """JSON may spell a lone UTF-16 surrogate ("\\ud800"), which has no UTF-8 form. Relaying it
    would put invalid UTF-8 into other peers' text frames (and make them fail with 1007): it must be
    refused, as an agent_id and as signal data, and the other peers must notice nothing."""
    rest = server.rest()
    owner = rest.new_user()
    org = rest.create_org(owner, "10.53.1.0/24")
    rest.allocate(owner, org["id"])
    peer_user, _ = rest.member_with_ip(org["id"])
    register_text = '{"type":"register","public_ip":"203.0.113.1","public_port":5,"agent_id":"x\\ud800y"}'

    async def scenario():
        watcher = await open_registered(server, owner, "watcher")
        agent = await Agent.open(server, peer_user.token)
        await agent.send(register_text)
        messages, code = [], None
        try:
            while True:
                messages.append(await asyncio.wait_for(agent.ws.recv(), 5))
        except ConnectionClosed:
            code = agent.ws.close_code
        assert code == 1008 and [json.loads(m) for m in messages] in (
            [{"error": "Invalid JSON"}], [{"error": "Invalid agent_id"}]), (messages, code)

        agent = await open_registered(server, peer_user, "sender")
        await watcher.recv()
        await agent.send('{"type":"signal","to":"%s","data":"\\udc00"}' % watcher.virtual_ip)
        assert await agent.recv() in ({"error": "Invalid JSON"}, {"error": "Invalid signal"})
        await agent.send('{"type":"update","public_ip":"\\ud800"}')
        assert await agent.recv() in ({"error": "Invalid JSON"}, {"error": "Invalid public_ip"})
        assert await watcher.barrier() == []
        assert [p["virtual_ip"] for p in rest.peers(owner, org["id"])] == [watcher.virtual_ip, agent.virtual_ip]
        await close_all(watcher, agent)
    run(scenario())


# -- size limit ------------------------------------------------------------------------------------------

def signal_of_size(to: str, size: int) -> str:
    text = json.dumps({"type": "signal", "to": to, "data": ""})
    text = text[:-2] + "x" * (size - len(text)) + text[-2:]
    assert len(text) == size
    return text


def test_message_size_limit(server):
    """Messages up to WS_MAX_MESSAGE_BYTES (64 KiB) are accepted; a larger one closes with 1009 —
    before registration (a 64 KiB agent_id) and after (the peer then goes offline)."""
    rest = server.rest()
    owner = rest.new_user()
    org = rest.create_org(owner, "10.54.0.0/24")
    rest.allocate(owner, org["id"])
    peer_user, peer_vip = rest.member_with_ip(org["id"])

    async def scenario():
        big = await Agent.open(server, owner.token)
        await big.send(json.dumps(register_msg(agent_id="a" * 65536)))
        await big.expect_close(1009)
        assert rest.peers(owner, org["id"]) == []

        agent = await open_registered(server, owner, "agent")
        receiver = await open_registered(server, peer_user, "receiver")
        await agent.recv()
        exact = signal_of_size(peer_vip, 65536)
        await agent.send(exact)
        got = await receiver.recv()
        assert got["type"] == "signal" and got["data"] == json.loads(exact)["data"]
        await agent.send(signal_of_size(peer_vip, 65537))
        await agent.expect_close(1009)
        await receiver.expect(offline_msg(peer_object(owner, agent.virtual_ip, peer_id=agent.peer_id)))
        assert await receiver.barrier() == []

        # Fragments adding up to more than the limit are one message over the limit too.
        raw = await asyncio.to_thread(RawWs.for_server, server, owner.token)
        raw.send_json(register_msg(agent_id="fragmented"))
        response = await asyncio.to_thread(raw.recv_json)
        peer = peer_object(owner, response["virtual_ip"], agent_id="fragmented")
        await receiver.expect({"type": "peer_online", "peer": peer})
        chunk = b"x" * 16384
        raw.send_frame(0x1, b'{"type":"signal","to":"' + peer_vip.encode() + b'","data":"', fin=False)
        for _ in range(4):
            raw.send_frame(0x0, chunk, fin=False)
        raw.send_frame(0x0, b'"}', fin=True)
        messages, code = await asyncio.to_thread(raw.recv_close)
        assert (messages, code) == ([], 1009)
        await receiver.expect(offline_msg(peer))
        assert await receiver.barrier() == []
        raw.drop()
        await receiver.close()

    run(scenario())


def _unmasked(raw: RawWs) -> None:
    raw.sock.sendall(bytes([0x81, 5]) + b"hello")  # client frames must be masked


PROTOCOL_VIOLATIONS = {
    "invalid-utf8-text": (lambda raw: raw.send_text(b'{"type":"ping","x":"\xff\xfe"}'), 1007),
    "unmasked-frame": (_unmasked, 1002),
    "reserved-opcode": (lambda raw: raw.send_frame(0x3, b"x"), 1002),
    "ping-over-125-bytes": (lambda raw: raw.send_frame(0x9, b"x" * 126), 1002),
}


@pytest.fixture(scope="module")
def short_idle_server():
    with running_server(env={"WS_PING_INTERVAL_SECONDS": "0.3", "WS_IDLE_TIMEOUT_SECONDS": "1"}) as instance:
        yield instance


def test_configured_message_size_limit():
    with running_server(env={"WS_MAX_MESSAGE_BYTES": 2048}) as server:
        rest = server.rest()
        owner = rest.new_user()
        org = rest.create_org(owner, "10.54.1.0/24")
        rest.allocate(owner, org["id"])
        peer_user, peer_vip = rest.member_with_ip(org["id"])

        async def scenario():
            agent = await open_registered(server, owner, "agent")
            receiver = await open_registered(server, peer_user, "receiver")
            await agent.recv()
            await agent.send(signal_of_size(peer_vip, 2048))
            assert (await receiver.recv())["type"] == "signal"
            await agent.send(signal_of_size(peer_vip, 2049))
            await agent.expect_close(1009)
            await receiver.expect(offline_msg(peer_object(owner, agent.virtual_ip, peer_id=agent.peer_id)))
            big = await Agent.open(server, owner.token)
            await big.send(json.dumps(register_msg(agent_id="a" * 2048)))
            await big.expect_close(1009)
            await receiver.close()
        run(scenario())


@pytest.mark.parametrize("violation", list(PROTOCOL_VIOLATIONS))
def test_protocol_violation_closes_and_goes_offline(short_idle_server, violation):
    """A WebSocket protocol violation closes the connection with the RFC 6455 code (1002, or 1007
    for text that is not UTF-8) and the peer goes offline — even when the client then neither
    answers the close frame nor closes TCP: within the idle timeout (1 s) plus slack at the latest."""
    server = short_idle_server
    act, code = PROTOCOL_VIOLATIONS[violation]
    rest = server.rest()
    owner = rest.new_user()
    org = rest.create_org(owner, "10.55.0.0/24")
    rest.allocate(owner, org["id"])
    watcher_user, _ = rest.member_with_ip(org["id"])

    async def scenario():
        watcher = await open_registered(server, watcher_user, "watcher")
        raw = await asyncio.to_thread(RawWs.for_server, server, owner.token)
        try:
            raw.send_json(register_msg(agent_id="violator"))
            response = await asyncio.to_thread(raw.recv_json)
            peer = peer_object(owner, response["virtual_ip"], agent_id="violator")
            await watcher.expect({"type": "peer_online", "peer": peer})
            act(raw)
            messages, got = await asyncio.to_thread(raw.recv_close)
            assert (messages, got) == ([], code)
            # The client keeps the TCP connection open and never answers the close frame.
            await watcher.expect(offline_msg(peer), timeout=1 + 2)
            assert rest.online(owner, org["id"])[peer["virtual_ip"]] is False
        finally:
            raw.drop()
            await watcher.close()
    run(scenario())


# -- rate limit -------------------------------------------------------------------------------------------

def test_rate_limit_drops_messages_and_keeps_the_connection():
    env = {"WS_RATE_LIMIT_PER_SECOND": "2", "WS_RATE_LIMIT_BURST": "5"}
    with running_server(env=env) as server:
        rest = server.rest()
        owner = rest.new_user()
        org = rest.create_org(owner, "10.56.0.0/24")
        rest.allocate(owner, org["id"])
        target_user, target_vip = rest.member_with_ip(org["id"])

        async def scenario():
            target = await open_registered(server, target_user, "target")
            sender = await open_registered(server, owner, "sender")  # the register took 1 of 5
            await target.recv()
            for n in range(10):
                await sender.send({"type": "signal", "to": target_vip, "data": n})
            answers = [await sender.recv() for _ in range(6)]
            assert answers == [{"error": "Rate limit exceeded"}] * 6
            received = [(await target.recv())["data"] for _ in range(4)]
            assert received == [0, 1, 2, 3]  # the other six were dropped
            # Tokens come back at 2 per second; the connection was kept.
            deadline = time.monotonic() + 5
            while True:
                await sender.send({"type": "ping"})
                answer = await sender.recv()
                if answer == {"type": "pong"}:
                    break
                assert answer == {"error": "Rate limit exceeded"}
                assert time.monotonic() < deadline, "the rate limit never let a message through again"
                await asyncio.sleep(0.25)
            await target.expect_quiet(0.2)
            await close_all(sender, target)
        run(scenario())


def test_default_rate_limit_burst(server):
    """Defaults: a burst of 100 (the register is one), then about 50 per second."""
    rest = server.rest()
    owner = rest.new_user()
    org = rest.create_org(owner, "10.57.0.0/24")
    rest.allocate(owner, org["id"])

    async def scenario():
        agent = await open_registered(server, owner)
        await asyncio.gather(*(agent.send({"type": "ping"}) for _ in range(200)))
        answers = [await agent.recv() for _ in range(200)]
        pongs = answers.count({"type": "pong"})
        assert answers[:99] == [{"type": "pong"}] * 99, answers[:99]
        assert pongs + answers.count({"error": "Rate limit exceeded"}) == 200
        assert 99 <= pongs <= 130, pongs
        await agent.close()
    run(scenario())


# -- everything at once, next to healthy peers --------------------------------------------------------------

def test_hostile_barrage_leaves_other_connections_untouched(server, member):
    rest = server.rest()
    owner = rest.new_user("bystander")
    org = rest.create_org(owner, "10.58.0.0/24")
    rest.allocate(owner, org["id"])
    friend, _ = rest.member_with_ip(org["id"], tag="friend")
    token = member["user"].token

    async def one(message, error):
        await refused(server, token, message, error)

    async def scenario():
        a = await open_registered(server, owner, "a")
        b = await open_registered(server, friend, "b")
        await a.recv()
        attempts = [one(m, "Invalid JSON") for m in NOT_JSON]
        attempts += [one(m, "First message must be register") for m in NOT_REGISTER]
        attempts += [one(m, e) for m, e in BAD_FIELDS]
        attempts += [refused(server, "x.y.z", register_msg(), "Invalid token") for _ in range(10)]
        attempts += [refused(server, None, register_msg(), "No token provided") for _ in range(10)]
        results = await asyncio.gather(*attempts, return_exceptions=True)
        failures = [r for r in results if isinstance(r, BaseException)]
        assert not failures, failures[:3]
        for agent in (a, b):
            assert await agent.barrier() == [], agent.name
        await a.send({"type": "signal", "to": b.virtual_ip, "data": "still here"})
        assert (await b.recv())["data"] == "still here"
        assert rest.call("GET", "/healthz").status_code == 200
        assert server.running
        await close_all(a, b)
    run(scenario(), 120)
