"""Machinery of the cluster suite (test_cluster_*.py): a PostgreSQL of its own, which the tests stop,
restart and cut off (scripts/test-postgres.sh), and clusters of signaling-server processes on it,
each process reachable directly, so that a test says which process an agent or a REST call uses.

- `Postgres`: the suite's own throwaway server (restarting it must not disturb other suites).
- `TcpCut`: a loopback proxy between one process and PostgreSQL, to cut that process off alone.
- `Cluster`: processes sharing one schema and one SECRET_KEY; more can start later.
"""

from __future__ import annotations

import os
import secrets
import select
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from pathlib import Path

import psycopg2

import harness
from ws_harness import Rest, WsServer

REPO_ROOT = Path(__file__).resolve().parents[2]
DEAD_AFTER = 3.0  # CLUSTER_DEAD_AFTER_SECONDS of these tests


class Postgres:
    def __init__(self, state: Path):
        self.state = state
        self._script = REPO_ROOT / "scripts" / "test-postgres.sh"
        subprocess.run([str(self._script), "start", str(state)], check=True, timeout=120)
        self.url = (state / "url").read_text().strip()
        self.port = int((state / "port").read_text())

    def restart(self, seconds_down: float = 0) -> None:
        subprocess.run([str(self._script), "restart", str(self.state), str(seconds_down)], check=True, timeout=120)

    def stop(self) -> None:
        subprocess.run([str(self._script), "stop", str(self.state)], check=False, timeout=120)

    def schema_url(self, schema: str, port: int | None = None) -> str:
        url = self.url if port is None else self.url.replace(f":{self.port}/", f":{port}/")
        return url + f"?options=-csearch_path%3D{schema}"

    def create_schema(self) -> str:
        schema = "cluster_" + uuid.uuid4().hex[:12]
        with psycopg2.connect(self.url) as db, db.cursor() as cursor:
            cursor.execute(f"CREATE SCHEMA {schema}")
        return schema

    def query(self, schema: str, sql: str, parameters: tuple = ()) -> list[tuple]:
        with psycopg2.connect(self.schema_url(schema)) as db, db.cursor() as cursor:
            cursor.execute(sql, parameters)
            return cursor.fetchall() if cursor.description else []


class TcpCut:
    """Forwards a free loopback port to PostgreSQL until cut(); restore() forwards again."""

    def __init__(self, upstream_port: int):
        self.upstream_port = upstream_port
        self.port = 0
        self._listener: socket.socket | None = None
        self._pairs: list[tuple[socket.socket, socket.socket]] = []
        self._running = False
        self._thread: threading.Thread | None = None
        self.restore()

    def restore(self) -> None:
        self._listener = socket.socket()
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", self.port))
        self._listener.listen(64)
        self.port = self._listener.getsockname()[1]
        self._running = True
        self._thread = threading.Thread(target=self._forward, daemon=True)
        self._thread.start()

    def cut(self) -> None:
        self._running = False
        if self._thread:
            self._thread.join()
        self._listener.close()
        for a, b in self._pairs:
            a.close()
            b.close()
        self._pairs = []

    def _forward(self) -> None:
        while self._running:
            sockets = [self._listener] + [s for pair in self._pairs for s in pair]
            ready, _, _ = select.select(sockets, [], [], 0.05)
            for s in ready:
                if s is self._listener:
                    client, _ = s.accept()
                    try:
                        server = socket.create_connection(("127.0.0.1", self.upstream_port))
                    except OSError:
                        client.close()
                        continue
                    self._pairs.append((client, server))
                    continue
                pair = next(p for p in self._pairs if s in p)
                other = pair[1] if s is pair[0] else pair[0]
                try:
                    data = s.recv(65536)
                    if data:
                        other.sendall(data)
                        continue
                except OSError:
                    pass
                pair[0].close()
                pair[1].close()
                self._pairs.remove(pair)


class Cluster:
    """Processes of one cluster: one PostgreSQL schema, one SECRET_KEY, short liveness timings."""

    def __init__(self, postgres: Postgres, env: dict | None = None):
        self.postgres = postgres
        self.schema = postgres.create_schema()
        self.secret_key = secrets.token_hex(32)
        self.env = {"CLUSTER_DEAD_AFTER_SECONDS": str(DEAD_AFTER), **(env or {})}
        self._tmp = tempfile.TemporaryDirectory(prefix="cluster-")
        self.members: list[WsServer] = []
        self.cuts: dict[int, TcpCut] = {}

    def start(self, *, port: int = 0, through_cut: bool = False, env: dict | None = None) -> WsServer:
        """Starts one more process (on a fixed port if given); `through_cut`: its database
        connections go through a TcpCut (self.cuts[its index]) that the test can cut."""
        index = len(self.members)
        database_port = None
        if through_cut:
            self.cuts[index] = TcpCut(self.postgres.port)
            database_port = self.cuts[index].port
        member = WsServer(port=port, workdir=Path(self._tmp.name) / f"p{index}",
                          env={**self.env, **(env or {}),
                               "DATABASE_URL": self.postgres.schema_url(self.schema, database_port)})
        member.secret_key = self.secret_key
        self.members.append(member.start(bind_retry_seconds=60 if port else 0))
        return member

    def rest(self, index: int = 0) -> Rest:
        return Rest(self.members[index].url)

    def query(self, sql: str, parameters: tuple = ()) -> list[tuple]:
        return self.postgres.query(self.schema, sql, parameters)

    def close(self) -> list[str]:
        """Stops what still runs; the problems found (exit codes other than 0)."""
        problems = []
        for i, member in enumerate(self.members):
            if member.running:
                code = member.stop()
                if code != 0:
                    problems.append(f"process {i} exited with {code}; its log:\n{member.log()}")
        for cut in self.cuts.values():
            cut.cut()
        self._tmp.cleanup()
        return problems


def wait_until(condition, timeout: float, what: str, interval: float = 0.05):
    """Polls `condition` until it returns a true value (returned), at most `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout}s: {what}")
        time.sleep(interval)


def suite_postgres_state() -> Path:
    return Path(tempfile.mkdtemp(prefix="cluster-postgres-state-"))


__all__ = ["Cluster", "DEAD_AFTER", "Postgres", "TcpCut", "suite_postgres_state", "wait_until", "os"]
