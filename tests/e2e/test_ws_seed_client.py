"""The seed README's Python client ("Example: Python Client"), run unchanged against a server on
localhost:8000 (PROTOCOL.md §0.1: a client written against the seed works unchanged).

`connect_and_register` below is copied character for character from the seed README. It hard-codes
ws://localhost:8000 and agent_id "python-agent-001", prints what it receives and never returns:
each run is an asyncio task whose printed lines are captured (per task) and which is cancelled
once the assertions are done. What the seed client cannot print (a signal frame it received) is
observed through python-websockets' own frame log, without touching the client's code.
"""

from __future__ import annotations

import contextlib
import io
import logging
import sys
import time

import pytest
import websockets.frames

from ws_harness import Agent, UUID4, offline_msg, peer_object, running_server, run

# ---- copied verbatim from the seed README ("Example: Python Client"); do not edit --------------
import asyncio
import websockets
import json

async def connect_and_register(token, public_ip, public_port):
    uri = f"ws://localhost:8000/ws?token={token}"
    
    async with websockets.connect(uri) as websocket:
        # Send registration message
        register_msg = {
            "type": "register",
            "agent_id": "python-agent-001",
            "public_ip": public_ip,
            "public_port": public_port,
            "relay_ip": None,
            "relay_port": None
        }
        await websocket.send(json.dumps(register_msg))
        
        # Listen for messages
        async for message in websocket:
            data = json.loads(message)
            
            if data.get("type") == "register_agent_response":
                print(f"Registered! Virtual IP: {data['virtual_ip']}")
                print(f"Connection ID: {data['connection_id']}")
                print(f"Existing peers: {len(data['existing_peers'])}")
                
                # Store peers in memory
                for peer in data['existing_peers']:
                    print(f"  - Peer: {peer['peer_id']} ({peer['virtual_ip']})")
            
            elif data.get("type") == "peer_online":
                print(f"New peer online: {data['peer']['peer_id']}")
            
            elif data.get("error"):
                print(f"Error: {data['error']}")
# ---- end of the seed's code ---------------------------------------------------------------------

SEED_AGENT_ID = "python-agent-001"
PRINT_TIMEOUT = 10


class TaskStdout(io.TextIOBase):
    """sys.stdout replacement: what a registered asyncio task prints is kept per task name."""

    def __init__(self, fallback):
        self.fallback = fallback
        self.printed: dict[str, str] = {}

    def track(self, name: str) -> None:
        self.printed[name] = ""

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        try:
            task = asyncio.current_task()
        except RuntimeError:
            task = None
        name = task.get_name() if task is not None else None
        if name in self.printed:
            self.printed[name] += text
            return len(text)
        return self.fallback.write(text)

    def lines(self, name: str) -> list[str]:
        return self.printed[name].splitlines()

    async def wait_lines(self, name: str, count: int, task: asyncio.Task) -> list[str]:
        """Waits until `name` printed at least `count` lines (the task must stay alive)."""
        deadline = time.monotonic() + PRINT_TIMEOUT
        while len(self.lines(name)) < count:
            if task.done():
                raise AssertionError(f"{name} ended early ({task!r}); it printed {self.lines(name)}")
            if time.monotonic() > deadline:
                raise AssertionError(f"{name} printed only {self.lines(name)} within {PRINT_TIMEOUT}s")
            await asyncio.sleep(0.01)
        return self.lines(name)


class FrameTap(logging.Handler):
    """Text frames received by python-websockets clients, per connection, from the library's own
    debug log ("< TEXT ..."): a way to see what the seed client received without changing it."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.frames: dict[int, list[dict]] = {}

    def emit(self, record: logging.LogRecord) -> None:
        if record.msg != "< %s" or not record.args:
            return
        frame = record.args[0]
        if getattr(frame, "opcode", None) is websockets.frames.Opcode.TEXT:
            self.frames.setdefault(id(record.websocket), []).append(json.loads(frame.data))

    def of(self, virtual_ip: str) -> list[dict]:
        """The messages of the connection whose registration answer carried `virtual_ip`."""
        for messages in self.frames.values():
            if messages and messages[0].get("type") == "register_agent_response" \
                    and messages[0].get("virtual_ip") == virtual_ip:
                return messages
        raise AssertionError(f"no client connection registered at {virtual_ip}")


@contextlib.contextmanager
def capture():
    """Per-task stdout and the websockets frame tap, installed for the duration of a test (inside
    the test body: pytest re-installs its own sys.stdout around each phase)."""
    stdout, original = TaskStdout(sys.stdout), sys.stdout
    tap = FrameTap()
    logger = logging.getLogger("websockets.client")
    saved = (logger.level, logger.propagate)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    logger.addHandler(tap)
    sys.stdout = stdout
    try:
        yield stdout, tap
    finally:
        sys.stdout = original
        logger.removeHandler(tap)
        logger.setLevel(saved[0])
        logger.propagate = saved[1]


def start_seed(stdout: TaskStdout, name: str, token: str, public_ip: str, public_port: int) -> asyncio.Task:
    stdout.track(name)
    return asyncio.create_task(connect_and_register(token=token, public_ip=public_ip, public_port=public_port),
                               name=name)


async def stop_seed(*tasks: asyncio.Task) -> None:
    for task in tasks:
        assert not task.done(), f"the seed client ended on its own: {task!r}"
        task.cancel()
    for task in tasks:
        with pytest.raises(asyncio.CancelledError):
            await task


def registered_lines(virtual_ip: str, lines: list[str], existing: list[tuple[str, str]]) -> None:
    assert lines[0] == f"Registered! Virtual IP: {virtual_ip}", lines
    assert lines[1].startswith("Connection ID: ") and UUID4.match(lines[1][len("Connection ID: "):]), lines
    assert lines[2] == f"Existing peers: {len(existing)}", lines
    assert lines[3:3 + len(existing)] == [f"  - Peer: {peer_id} ({vip})" for peer_id, vip in existing], lines


def seed_peer(user, virtual_ip: str, public_ip: str, public_port: int) -> dict:
    return peer_object(user, virtual_ip, agent_id=SEED_AGENT_ID, public_ip=public_ip, public_port=public_port)


def test_seed_python_client_registers_and_sees_peers():
    with capture() as (stdout, tap), running_server(host="0.0.0.0", port=8000) as server:
        rest = server.rest()
        owner = rest.new_user("seed")
        org = rest.create_org(owner, "10.0.0.0/24")
        seed_vip = rest.allocate(owner, org["id"])
        early, early_vip = rest.member_with_ip(org["id"], tag="early")
        late, late_vip = rest.member_with_ip(org["id"], tag="late")

        async def scenario():
            # A peer already online, with a relay: the seed client lists it.
            first = await Agent.open(server, early.token, name="early")
            await first.register(agent_id="early-device", public_ip="198.51.100.7", public_port=41000,
                                 relay_ip="198.51.100.8", relay_port=41001)

            seed = start_seed(stdout, "seed", owner.token, "203.0.113.1", 50000)
            lines = await stdout.wait_lines("seed", 4, seed)
            registered_lines(seed_vip, lines, [("early-device", early_vip)])
            assert len(lines) == 4, lines
            seed_as_peer = seed_peer(owner, seed_vip, "203.0.113.1", 50000)
            await first.expect({"type": "peer_online", "peer": seed_as_peer})

            # A peer coming online later: the seed client prints it.
            second = await Agent.open(server, late.token, name="late")
            response = await second.register(public_ip="2001:db8::1", public_port=1)
            assert response["existing_peers"] == sorted(
                [seed_as_peer, peer_object(early, early_vip, agent_id="early-device", public_ip="198.51.100.7",
                                           public_port=41000, relay_ip="198.51.100.8", relay_port=41001)],
                key=lambda p: tuple(map(int, p["virtual_ip"].split("."))))
            lines = await stdout.wait_lines("seed", 5, seed)
            assert lines[4] == f"New peer online: {second.peer_id}", lines
            await first.expect({"type": "peer_online", "peer": peer_object(
                late, late_vip, peer_id=second.peer_id, public_ip="2001:db8::1", public_port=1)})

            # What the seed connection received, frame by frame (it ignores peer_offline and signal).
            assert [m.get("type") for m in tap.of(seed_vip)] == ["register_agent_response", "peer_online"]
            assert await first.barrier() == [] and await second.barrier() == []
            assert len(stdout.lines("seed")) == 5, stdout.lines("seed")  # no "Error: ..." line

            assert {p["virtual_ip"] for p in rest.peers(owner, org["id"])} == {seed_vip, early_vip, late_vip}

            await stop_seed(seed)  # leaving its `async with` closes the connection normally
            await first.expect(offline_msg(seed_as_peer))
            await second.expect(offline_msg(seed_as_peer))
            assert rest.online(owner, org["id"])[seed_vip] is False
            await first.close()
            await second.close()

        run(scenario(), 60)


def test_two_users_run_the_seed_client_at_once():
    """The seed hard-codes agent_id "python-agent-001": two users running it share that peer_id.
    Both register at their own addresses and see each other; a signal addressed to the shared
    peer_id is ambiguous ("Unknown peer") while one addressed to a virtual IP is delivered."""
    with capture() as (stdout, tap), running_server(host="0.0.0.0", port=8000) as server:
        rest = server.rest()
        alice = rest.new_user("alice")
        org = rest.create_org(alice, "10.0.0.0/24")
        alice_vip = rest.allocate(alice, org["id"])
        bob, bob_vip = rest.member_with_ip(org["id"], tag="bob")
        carol, carol_vip = rest.member_with_ip(org["id"], tag="carol")
        assert alice_vip != bob_vip

        async def scenario():
            a = start_seed(stdout, "alice", alice.token, "203.0.113.1", 50000)
            registered_lines(alice_vip, await stdout.wait_lines("alice", 3, a), [])
            b = start_seed(stdout, "bob", bob.token, "203.0.113.2", 50002)
            lines = await stdout.wait_lines("bob", 4, b)
            registered_lines(bob_vip, lines, [(SEED_AGENT_ID, alice_vip)])
            lines = await stdout.wait_lines("alice", 4, a)
            assert lines[3] == f"New peer online: {SEED_AGENT_ID}", lines

            alice_peer = seed_peer(alice, alice_vip, "203.0.113.1", 50000)
            bob_peer = seed_peer(bob, bob_vip, "203.0.113.2", 50002)
            observer = await Agent.open(server, carol.token, name="carol")
            response = await observer.register(agent_id="carol-laptop")
            assert response["existing_peers"] == [alice_peer, bob_peer]
            assert (await stdout.wait_lines("alice", 5, a))[4] == "New peer online: carol-laptop"
            assert (await stdout.wait_lines("bob", 5, b))[4] == "New peer online: carol-laptop"

            # Ambiguous peer_id: refused, delivered to nobody.
            await observer.send({"type": "signal", "to": SEED_AGENT_ID, "data": {"n": 1}})
            await observer.expect({"error": "Unknown peer"})
            # By virtual IP: delivered to exactly that connection.
            await observer.send({"type": "signal", "to": bob_vip, "data": {"n": 2}})
            assert await observer.barrier() == []  # no error came back
            expected = {"type": "signal", "from": "carol-laptop", "from_virtual_ip": carol_vip,
                        "from_user_id": carol.id, "data": {"n": 2}}
            deadline = time.monotonic() + PRINT_TIMEOUT
            while expected not in tap.of(bob_vip) and time.monotonic() < deadline:
                await asyncio.sleep(0.01)
            assert [m.get("type") for m in tap.of(bob_vip)] == [
                "register_agent_response", "peer_online", "signal"], tap.of(bob_vip)
            assert tap.of(bob_vip)[2] == expected
            assert [m.get("type") for m in tap.of(alice_vip)] == [
                "register_agent_response", "peer_online", "peer_online"], tap.of(alice_vip)

            assert sorted(p["virtual_ip"] for p in rest.peers(carol, org["id"])) == sorted(
                [alice_vip, bob_vip, carol_vip])
            # Signals printed nothing: each seed client printed exactly its five lines.
            assert len(stdout.lines("alice")) == 5 and len(stdout.lines("bob")) == 5

            await stop_seed(a)
            await observer.expect(offline_msg(alice_peer))
            # The shared peer_id is no longer ambiguous: it now names Bob's connection.
            await observer.send({"type": "signal", "to": SEED_AGENT_ID, "data": "hello"})
            assert await observer.barrier() == []
            deadline = time.monotonic() + PRINT_TIMEOUT
            while len(tap.of(bob_vip)) < 5 and time.monotonic() < deadline:
                await asyncio.sleep(0.01)
            assert tap.of(bob_vip)[3:] == [offline_msg(alice_peer), {**expected, "data": "hello"}]
            await stop_seed(b)
            await observer.expect(offline_msg(bob_peer))
            await observer.close()

        run(scenario(), 60)
