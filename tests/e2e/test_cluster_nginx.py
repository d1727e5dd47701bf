"""A real load balancer in front of the cluster (deploy/nginx/signaling-cluster.conf, used as it
is): Debian's nginx on port 8000 spreads three processes' REST and WebSocket traffic, and the seed
README's Python client, unchanged (it hard-codes ws://localhost:8000), registers through it and sees
the peers of the other processes.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from cluster_fixtures import REPO_ROOT, wait_until
from test_ws_seed_client import capture, registered_lines, start_seed, stop_seed
from ws_harness import Agent, Rest, close_all, offline_msg, peer_object, run

DEPLOYED = REPO_ROOT / "deploy" / "nginx" / "signaling-cluster.conf"
PORTS = (8001, 8002, 8003)  # the upstream servers of the deployed file
DEPLOYED_LOG = "/var/log/nginx/access.log"


class Nginx:
    """nginx with the deployed configuration included in a minimal nginx.conf of its own."""

    def __init__(self):
        binary = shutil.which("nginx") or "/usr/sbin/nginx"
        self.dir = Path(tempfile.mkdtemp(prefix="nginx-"))
        self.dir.chmod(0o755)
        user = "user root;\n" if os.geteuid() == 0 else ""
        temp = "\n".join(f"  {kind}_temp_path {self.dir}/{kind};" for kind in
                         ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
        # The deployed file as it is, but for where its access log goes.
        self.access_log = self.dir / "access.log"
        deployed = DEPLOYED.read_text()
        assert DEPLOYED_LOG in deployed, f"{DEPLOYED} no longer logs to {DEPLOYED_LOG}"
        (self.dir / "signaling-cluster.conf").write_text(deployed.replace(DEPLOYED_LOG, str(self.access_log)))
        (self.dir / "nginx.conf").write_text(
            f"{user}worker_processes 1;\npid {self.dir}/nginx.pid;\nerror_log {self.dir}/error.log;\n"
            f"events {{ worker_connections 1024; }}\n"
            f"http {{\n{temp}\n  include {self.dir}/signaling-cluster.conf;\n}}\n")
        self.process = subprocess.Popen([binary, "-p", str(self.dir), "-c", str(self.dir / "nginx.conf"),
                                         "-g", "daemon off;"], stderr=subprocess.PIPE)
        deadline = time.monotonic() + 60  # another suite may hold port 8000 for a while
        while True:
            try:
                socket.create_connection(("127.0.0.1", 8000), timeout=1).close()
                return
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"nginx did not start: {self.process.stderr.read().decode()}")
                time.sleep(0.1)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=20)
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def nginx():
    balancer = Nginx()
    yield balancer
    balancer.stop()


class Through:
    """What Agent.open needs of a server: the balancer's address."""

    def ws_url(self, path: str = "/ws") -> str:
        return f"ws://localhost:8000{path}"


def test_the_seed_client_through_nginx_sees_peers_on_every_process(cluster, nginx):
    c = cluster()
    processes = [c.start(port=port) for port in PORTS]
    rest = Rest("http://localhost:8000")  # every REST call through the balancer too
    owner = rest.new_user("seed")
    org = rest.create_org(owner, "10.0.0.0/24")
    seed_vip = rest.allocate(owner, org["id"])
    other, other_vip = rest.member_with_ip(org["id"], tag="other")
    third, third_vip = rest.member_with_ip(org["id"], tag="third")

    with capture() as (stdout, tap):
        async def scenario():
            first = await Agent.open(Through(), other.token, name="other")
            await first.register(agent_id="other-device")
            seed = start_seed(stdout, "seed", owner.token, "203.0.113.1", 50000)
            lines = await stdout.wait_lines("seed", 4, seed)
            registered_lines(seed_vip, lines, [("other-device", other_vip)])
            seed_peer = peer_object(owner, seed_vip, agent_id="python-agent-001")
            await first.expect({"type": "peer_online", "peer": seed_peer})

            last = await Agent.open(Through(), third.token, name="third")
            response = await last.register(agent_id="third-device")
            assert {p["peer_id"] for p in response["existing_peers"]} == {"other-device", "python-agent-001"}
            lines = await stdout.wait_lines("seed", 5, seed)
            assert lines[4] == "New peer online: third-device", lines
            await first.expect({"type": "peer_online", "peer": peer_object(third, third_vip, agent_id="third-device")})

            # least_conn put the three WebSockets on the three processes.
            rows = c.query("SELECT process_id FROM presence")
            assert len({process for (process,) in rows}) == 3, rows
            for process in processes:
                assert {p["peer_id"] for p in Rest(process.url).peers(owner, org["id"])} == {
                    "other-device", "python-agent-001", "third-device"}

            await stop_seed(seed)
            for agent in (first, last):
                await agent.expect(offline_msg(seed_peer))
            await close_all(first, last)
        run(scenario())
    wait_until(lambda: not c.query("SELECT 1 FROM presence"), 10, "every agent offline")

    # Every WebSocket upgrade carried a token in its query string; the access log has none of them.
    log = nginx.access_log.read_text()
    assert log.count('"GET /ws HTTP/1.1" 101') == 3, log
    assert "token=" not in log and owner.token not in log and other.token not in log, log
