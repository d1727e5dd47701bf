"""Liveness, back-pressure and shutdown (PROTOCOL.md §5.5, §6): peers that vanish without a close
frame, peers that go silent, peers that stop reading, and SIGTERM with clients connected.

Short intervals are configured so that every wait is a few seconds at most; the bounds asserted
are generous (the contract's promise is "announced offline", these tests add "promptly")."""

from __future__ import annotations

import asyncio
import socket
import struct
import time

import pytest

from ws_harness import (Agent, Closed, RawWs, close_all, offline_msg, open_registered, peer_object,
                        register_msg, run, running_server)

PING = 0.3
IDLE = 1.5
PROMPT = 2.0  # "promptly": an abrupt close is noticed well within this


@pytest.fixture(scope="module")
def server():
    env = {"WS_PING_INTERVAL_SECONDS": PING, "WS_IDLE_TIMEOUT_SECONDS": IDLE}
    with running_server(env=env) as instance:
        yield instance


def org_with_watcher(server, subnet: str):
    """An organization, a watcher user and a subject user, both with addresses."""
    rest = server.rest()
    watcher = rest.new_user("watcher")
    org = rest.create_org(watcher, subnet)
    rest.allocate(watcher, org["id"])
    subject, subject_vip = rest.member_with_ip(org["id"], tag="subject")
    return rest, org, watcher, subject, subject_vip


async def raw_registered(server, user, **fields) -> tuple[RawWs, dict]:
    raw = await asyncio.to_thread(RawWs.for_server, server, user.token, rcvbuf=fields.pop("rcvbuf", None))
    raw.send_json(register_msg(**fields))
    response = await asyncio.to_thread(raw.recv_json)
    assert response["type"] == "register_agent_response", response
    return raw, response


@pytest.mark.parametrize("how", ["tcp-reset", "tcp-fin", "websockets-transport-abort"])
def test_vanished_client_is_announced_offline_promptly(server, how):
    rest, org, watcher_user, subject, subject_vip = org_with_watcher(server, "10.60.0.0/24")

    async def scenario():
        watcher = await open_registered(server, watcher_user, "watcher")
        if how == "websockets-transport-abort":
            agent = await open_registered(server, subject, "subject", agent_id="gone")
            vanish = agent.ws.transport.abort
        else:
            raw, _ = await raw_registered(server, subject, agent_id="gone")
            vanish = raw.abort if how == "tcp-reset" else raw.drop
        peer = peer_object(subject, subject_vip, agent_id="gone")
        await watcher.expect({"type": "peer_online", "peer": peer})
        started = time.monotonic()
        vanish()
        await watcher.expect(offline_msg(peer), timeout=PROMPT)
        assert time.monotonic() - started < PROMPT
        assert await watcher.barrier() == []  # exactly once
        assert rest.online(watcher_user, org["id"])[subject_vip] is False
        assert [p["virtual_ip"] for p in rest.peers(watcher_user, org["id"])] == [watcher.virtual_ip]
        await watcher.close()
    run(scenario())


def test_silent_client_is_pinged_then_dropped_after_the_idle_timeout(server):
    """A client that completed the handshake and registered, then sends nothing at all (no pongs):
    the server pings it every WS_PING_INTERVAL_SECONDS and, WS_IDLE_TIMEOUT_SECONDS after its last
    frame, closes it (1000 "idle timeout") and announces it offline."""
    rest, org, watcher_user, subject, subject_vip = org_with_watcher(server, "10.61.0.0/24")

    async def scenario():
        watcher = await open_registered(server, watcher_user, "watcher")
        raw, _ = await raw_registered(server, subject, agent_id="mute")
        registered_at = time.monotonic()
        peer = peer_object(subject, subject_vip, agent_id="mute")
        await watcher.expect({"type": "peer_online", "peer": peer})

        def read_until_close():
            pings = 0
            while True:
                opcode, payload = raw.recv_frame(IDLE + 3)
                if opcode == 0x9:
                    pings += 1
                elif opcode == 0x8:
                    return pings, struct.unpack("!H", payload[:2])[0], payload[2:].decode()
                else:
                    raise AssertionError(f"unexpected frame {opcode} {payload!r}")

        reader = asyncio.create_task(asyncio.to_thread(read_until_close))
        await watcher.expect(offline_msg(peer), timeout=IDLE + 3)
        elapsed = time.monotonic() - registered_at
        assert IDLE - 0.2 <= elapsed <= IDLE + 3, elapsed
        pings, code, reason = await asyncio.wait_for(reader, 5)
        assert pings >= 2, pings  # every 0.3 s during 1.5 s
        assert (code, reason) == (1000, "idle timeout")
        assert rest.online(watcher_user, org["id"])[subject_vip] is False
        assert await watcher.barrier() == []
        raw.drop()
        await watcher.close()
    run(scenario())


def test_client_that_stops_reading_is_dropped_by_the_idle_timeout(server):
    """A python-websockets client whose transport stops reading (so it answers no ping) is
    announced offline; once it reads again it finds the 1000 "idle timeout" close."""
    rest, org, watcher_user, subject, subject_vip = org_with_watcher(server, "10.62.0.0/24")

    async def scenario():
        watcher = await open_registered(server, watcher_user, "watcher")
        paused = await open_registered(server, subject, "paused", connect={"ping_interval": None})
        peer = peer_object(subject, subject_vip, peer_id=paused.peer_id)
        await watcher.expect({"type": "peer_online", "peer": peer})
        started = time.monotonic()
        paused.ws.transport.pause_reading()
        await watcher.expect(offline_msg(peer), timeout=IDLE + 3)
        assert IDLE - 0.2 <= time.monotonic() - started <= IDLE + 3
        paused.ws.transport.resume_reading()
        await paused.expect_close(1000, reason="idle timeout")
        await watcher.close()
    run(scenario())


def test_quiet_but_healthy_client_stays_online(server):
    """No messages, only the library's automatic pongs: pongs are inbound frames, so a healthy
    client outlives the idle timeout several times over."""
    rest, org, watcher_user, subject, subject_vip = org_with_watcher(server, "10.63.0.0/24")

    async def scenario():
        watcher = await open_registered(server, watcher_user, "watcher", connect={"ping_interval": None})
        quiet = await open_registered(server, subject, "quiet", connect={"ping_interval": None})
        await watcher.recv()
        await watcher.expect_quiet(2 * IDLE + 0.5)
        assert rest.online(watcher_user, org["id"]) == {watcher.virtual_ip: True, subject_vip: True}
        assert await quiet.barrier() == []
        await close_all(watcher, quiet)
    run(scenario())


def rss_ok(before_kib: int, after_kib: int, limit_mib: int = 200) -> None:
    assert after_kib - before_kib < limit_mib * 1024, (before_kib, after_kib)


def test_stalled_reader_is_dropped_and_others_keep_up():
    """A registered client that never reads (small receive buffer) while a sender floods it with
    large signals: its queue passes WS_QUEUE_LIMIT_BYTES, it is closed with 1013 and announced
    offline; the healthy watcher receives every message meant for it, promptly and in order; the
    server's memory stays bounded."""
    env = {"WS_QUEUE_LIMIT_BYTES": 65536, "WS_SEND_TIMEOUT_SECONDS": 30, "WS_RATE_LIMIT_PER_SECOND": 100000,
           "WS_RATE_LIMIT_BURST": 100000}
    with running_server(env=env) as server:
        rest, org, watcher_user, subject, subject_vip = org_with_watcher(server, "10.64.0.0/24")
        sender_user, sender_vip = rest.member_with_ip(org["id"], tag="sender")

        async def scenario():
            watcher = await open_registered(server, watcher_user, "watcher")
            stalled, _ = await raw_registered(server, subject, agent_id="stalled", rcvbuf=4096)
            stalled_peer = peer_object(subject, subject_vip, agent_id="stalled")
            await watcher.expect({"type": "peer_online", "peer": stalled_peer})
            sender = await open_registered(server, sender_user, "sender", agent_id="sender")
            sender_peer = peer_object(sender_user, sender_vip, agent_id="sender")
            await watcher.expect({"type": "peer_online", "peer": sender_peer})
            rss_before = server.rss_kib()

            received: list = []
            arrived = asyncio.Event()

            async def collect():
                while True:
                    received.append(await watcher.recv(60))
                    arrived.set()

            collector = asyncio.create_task(collect())
            blob = "z" * 30000
            offline = offline_msg(stalled_peer)
            sent_to_watcher = 0
            started = time.monotonic()
            for n in range(3000):  # at most ~90 MB for the stalled peer
                await sender.send({"type": "signal", "to": subject_vip, "data": blob})
                if n % 10 == 0:
                    await sender.send({"type": "signal", "to": watcher.virtual_ip, "data": sent_to_watcher})
                    sent_to_watcher += 1
                await asyncio.sleep(0)  # send() need not yield: let the collector run
                if offline in received:
                    break
            else:
                raise AssertionError("the stalled peer was never dropped")
            dropped_after = time.monotonic() - started
            # The sender is a peer of the organization too: it heard the drop, and "Unknown peer"
            # for the signals it sent to the dropped peer after that.
            await sender.send({"type": "signal", "to": subject_vip, "data": "late"})
            answers = await sender.barrier()
            assert answers.count(offline) == 1, answers[:3]
            errors = [a for a in answers if a != offline]
            assert errors and all(a == {"error": "Unknown peer"} for a in errors), errors[:3]
            for _ in range(20):
                await sender.send({"type": "update", "public_port": 1000 + sent_to_watcher})
                await sender.send({"type": "signal", "to": watcher.virtual_ip, "data": sent_to_watcher})
                sent_to_watcher += 1
            deadline = time.monotonic() + 5
            while sum(1 for m in received if m.get("type") == "signal") < sent_to_watcher:
                assert time.monotonic() < deadline, f"the watcher fell behind: {len(received)} messages"
                arrived.clear()
                await asyncio.wait_for(arrived.wait(), 5)
            collector.cancel()

            signals = [m["data"] for m in received if m.get("type") == "signal"]
            assert signals == list(range(sent_to_watcher))
            assert all(m["from"] == "sender" for m in received if m.get("type") == "signal")
            assert received.count(offline) == 1
            updates = [m for m in received if m.get("type") == "peer_update"]
            assert [u["peer"]["public_port"] for u in updates] == [1000 + n for n in range(sent_to_watcher - 20,
                                                                                          sent_to_watcher)]
            assert len(received) == sent_to_watcher + 1 + 20
            assert await sender.barrier() == []  # the sender was neither throttled nor dropped
            rss_ok(rss_before, server.rss_kib())
            assert rest.online(watcher_user, org["id"])[subject_vip] is False

            # The stalled client, reading at last: what was already on its way, then 1013.
            def drain():
                return stalled.recv_close(timeout=20)
            messages, code = await asyncio.to_thread(drain)
            assert code == 1013
            assert all(m.get("type") in ("signal", "peer_online") for m in messages), messages[-3:]
            stalled.drop()
            await close_all(watcher, sender)
            return dropped_after

        dropped_after = run(scenario(), 120)
        assert dropped_after < 30, dropped_after


def test_peer_that_takes_no_data_is_dropped_after_the_send_timeout():
    """With a large queue allowance, a peer whose TCP window stays shut is dropped when one frame
    has waited WS_SEND_TIMEOUT_SECONDS; the others hear peer_offline."""
    env = {"WS_QUEUE_LIMIT_BYTES": 256 * 1024 * 1024, "WS_SEND_TIMEOUT_SECONDS": 0.5,
           "WS_RATE_LIMIT_PER_SECOND": 100000, "WS_RATE_LIMIT_BURST": 100000}
    with running_server(env=env) as server:
        rest, org, watcher_user, subject, subject_vip = org_with_watcher(server, "10.65.0.0/24")

        async def scenario():
            watcher = await open_registered(server, watcher_user, "watcher")
            stalled, _ = await raw_registered(server, subject, agent_id="shut", rcvbuf=4096)
            peer = peer_object(subject, subject_vip, agent_id="shut")
            await watcher.expect({"type": "peer_online", "peer": peer})
            rss_before = server.rss_kib()
            blob = "q" * 60000
            for n in range(2000):
                await watcher.send({"type": "signal", "to": subject_vip, "data": blob})
                if n % 20 == 19:
                    answers = await watcher.barrier()
                    if offline_msg(peer) in answers:
                        assert answers.count(offline_msg(peer)) == 1
                        break
                    assert all(a == {"error": "Unknown peer"} for a in answers), answers[:3]
            else:
                raise AssertionError("the stalled peer was never dropped")
            rss_ok(rss_before, server.rss_kib())
            assert rest.online(watcher_user, org["id"])[subject_vip] is False
            stalled.drop()
            await watcher.close()
        run(scenario(), 120)


def test_sigterm_closes_every_websocket_with_1001_and_exits_0():
    with running_server() as server:
        rest = server.rest()
        owner = rest.new_user()
        org = rest.create_org(owner, "10.66.0.0/24")
        rest.allocate(owner, org["id"])
        members = [rest.member_with_ip(org["id"])[0] for _ in range(3)]

        async def scenario():
            agents = [await open_registered(server, owner, "owner")]
            agents += [await open_registered(server, m, f"m{i}") for i, m in enumerate(members[:2])]
            pending = await Agent.open(server, members[2].token, name="unregistered")
            raw, _ = await raw_registered(server, members[2], agent_id="raw")
            started = time.monotonic()
            server.terminate()

            def raw_close():
                try:
                    while True:
                        raw.recv_json(10)
                except Closed as closed:
                    raw.send_close(closed.code)
                    raw.wait_eof(10)
                    raw.drop()
                    return closed.code
            raw_task = asyncio.create_task(asyncio.to_thread(raw_close))
            for agent in agents + [pending]:
                with pytest.raises(AssertionError):
                    while True:  # whatever presence news was in flight, then the close
                        await agent.recv(10)
                assert agent.ws.close_code == 1001, (agent.name, agent.ws.close_code)
            assert await asyncio.wait_for(raw_task, 15) == 1001
            code = await asyncio.to_thread(server.wait, 15)
            assert code == 0, server.log()
            assert time.monotonic() - started < 5, "well-behaved clients should not hold the shutdown up"
            # Nothing listens any more.
            with pytest.raises(OSError):
                socket.create_connection((server.connect_host, server.port), timeout=2).close()
        run(scenario(), 60)
