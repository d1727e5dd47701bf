"""ICE servers for agents (PROTOCOL.md §5.3): with STUN_URLS / TURN_URLS / TURN_SECRET the
register_agent_response carries "ice_servers", whose TURN credentials a real coturn (started here on
loopback with the same secret, use-auth-secret) accepts for an Allocate, and refuses once forged or
expired; fresh credentials are re-sent as {"type": "ice_servers"} before the last ones expire.
Without the settings the answer is exactly what it was.

Runs unchanged on a cluster (E2E_CLUSTER_PROCESSES): every process gets the same settings and the
same coturn, and credentials made by any of them are valid there."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time

import pytest

from turn_harness import Coturn, allocate, turnserver_binary
from ws_harness import RESPONSE_KEYS, Agent, register_msg, run, running_server

SECRET = "turn-" + secrets.token_hex(16)
DAY = 86400
SHORT_TTL = 2  # seconds: the re-send comes at 80 % of it

pytestmark = pytest.mark.skipif(turnserver_binary() is None,
                                reason="turnserver missing: scripts/install-deps.sh installs Debian's coturn")


@pytest.fixture(scope="module")
def coturn():
    turn = Coturn(SECRET).start()
    yield turn
    turn.stop()


def ice_env(turn: Coturn, ttl: int | None = None) -> dict:
    env = {"STUN_URLS": turn.stun_url, "TURN_URLS": turn.turn_url, "TURN_SECRET": SECRET}
    if ttl is not None:
        env["TURN_CREDENTIAL_TTL_SECONDS"] = ttl
    return env


def expected_credential(username: str, secret: str = SECRET) -> str:
    """coturn's REST password, computed here independently of the server."""
    return base64.b64encode(hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()).decode()


def one_member(server):
    rest = server.rest()
    user = rest.new_user("ice")
    org = rest.create_org(user, "10.91.0.0/24")
    rest.allocate(user, org["id"])
    return user


async def register_with_ice(server, user) -> tuple[Agent, dict]:
    agent = await Agent.open(server, user.token, name="ice")
    response = await agent.request(register_msg())
    assert response.get("type") == "register_agent_response", response
    assert set(response) == RESPONSE_KEYS | {"ice_servers"}, response
    return agent, response


def turn_entry(ice_servers: list, turn: Coturn, user) -> tuple[str, str, int]:
    """Checks the RTCIceServer list (STUN entry without credentials, TURN entry with the user's);
    returns the TURN username, credential and expiry."""
    assert len(ice_servers) == 2, ice_servers
    assert ice_servers[0] == {"urls": [turn.stun_url]}, ice_servers
    entry = ice_servers[1]
    assert set(entry) == {"urls", "username", "credential"} and entry["urls"] == [turn.turn_url], entry
    expiry, _, user_id = entry["username"].partition(":")
    assert user_id == str(user.id), entry
    assert entry["credential"] == expected_credential(entry["username"]), entry
    return entry["username"], entry["credential"], int(expiry)


def test_without_settings_the_register_answer_has_no_ice_servers():
    with running_server() as server:
        user = one_member(server)

        async def scenario():
            agent = await Agent.open(server, user.token)
            response = await agent.register()  # asserts the keys are exactly RESPONSE_KEYS
            assert "ice_servers" not in response
            await agent.expect_quiet(0.5)  # and nothing is re-sent
            await agent.close()

        run(scenario())


def test_issued_turn_credentials_allocate_a_relay_on_coturn_and_forged_ones_do_not(coturn):
    with running_server(env=ice_env(coturn)) as server:
        user = one_member(server)

        async def scenario():
            agent, response = await register_with_ice(server, user)
            await agent.close()
            return response

        response = run(scenario())
        username, credential, expiry = turn_entry(response["ice_servers"], coturn, user)
        assert abs(expiry - (time.time() + DAY)) < 60, f"expiry {expiry} is not a day from now"

        granted = allocate(coturn.port, username, credential)
        assert granted.relayed is not None and granted.relayed[0] == "127.0.0.1", (granted, coturn.log())

        forged = credential[:4] + ("A" if credential[4] != "A" else "B") + credential[5:]
        assert allocate(coturn.port, username, forged).error_code == 401
        later = f"{expiry + DAY}:{user.id}"  # a longer life than issued, same password
        assert allocate(coturn.port, later, credential).error_code == 401
        other_user = f"{expiry}:{user.id + 1}"
        assert allocate(coturn.port, other_user, credential).error_code == 401


def test_credentials_are_re_sent_before_they_expire_and_expired_ones_are_refused(coturn):
    with running_server(env=ice_env(coturn, ttl=SHORT_TTL)) as server:
        user = one_member(server)

        async def scenario():
            agent, response = await register_with_ice(server, user)
            registered_at = time.monotonic()
            resent = []
            for _ in range(2):  # it keeps refreshing, one lifetime after the other
                message = await agent.recv(timeout=SHORT_TTL * 2)
                resent.append((time.monotonic() - registered_at, message))
            await agent.close()
            return response, resent

        response, resent = run(scenario())
        first = turn_entry(response["ice_servers"], coturn, user)
        expiries = [first[2]]
        for elapsed, message in resent:
            assert set(message) == {"type", "ice_servers"} and message["type"] == "ice_servers", message
            expiries.append(turn_entry(message["ice_servers"], coturn, user)[2])
        assert expiries == sorted(set(expiries)), f"each re-send brings a later expiry: {expiries}"
        # Before the credentials in hand expire (a lifetime after registering), not long before.
        assert 0.5 * SHORT_TTL <= resent[0][0] < SHORT_TTL, resent
        assert SHORT_TTL < resent[1][0] < 2 * SHORT_TTL, resent

        latest = turn_entry(resent[-1][1]["ice_servers"], coturn, user)
        while time.time() < first[2] + 1:  # coturn reads the expiry in whole seconds
            time.sleep(0.1)
        expired = allocate(coturn.port, first[0], first[1])
        assert expired.error_code == 401, expired
        if time.time() < latest[2]:  # fresh ones work (while they are fresh: two seconds is short)
            granted = allocate(coturn.port, latest[0], latest[1])
            assert granted.relayed is not None or time.time() >= latest[2], (granted, coturn.log())
