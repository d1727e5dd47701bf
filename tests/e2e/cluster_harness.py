"""Several signaling-server processes on one PostgreSQL database, behind the interface of one
WsServer, so that the WebSocket suite runs across processes unchanged: each WebSocket connection and
each REST call goes to the next process in turn, so that agents of one test are spread over all
of them and every flow (presence, take-over, removals, signals) crosses processes.

E2E_CLUSTER_PROCESSES=N (N >= 2, with E2E_DATABASE=postgres) turns it on for running_server().
"""

from __future__ import annotations

import itertools
import os
import tempfile
import threading
from pathlib import Path

import harness
from ws_harness import Rest, WsServer


def cluster_size() -> int:
    """Processes per test server (1: no cluster)."""
    return max(1, int(os.environ.get("E2E_CLUSTER_PROCESSES", "1") or 1))


class RotatingRest(Rest):
    """A Rest whose every call goes to the next process."""

    def __init__(self, base_urls: list[str]):
        super().__init__(base_urls[0])
        self._next = itertools.cycle(base_urls)
        self._lock = threading.Lock()

    def call(self, method, path, user=None, **kwargs):
        with self._lock:
            self.base_url = next(self._next)
        return super().call(method, path, user, **kwargs)


class ClusterWsServer:
    """N WsServer processes sharing one database (one PostgreSQL schema) and one SECRET_KEY."""

    def __init__(self, processes: int, *, host: str = "127.0.0.1", port: int = 0, env: dict | None = None,
                 workdir: Path | None = None):
        assert harness.database_backend() == "postgres", "a cluster needs E2E_DATABASE=postgres"
        self._tmp = None
        if workdir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="ws-cluster-")
            workdir = Path(self._tmp.name)
        database = Path(workdir) / "cluster.db"  # names the shared schema (harness.schema_for)
        self.members: list[WsServer] = []
        for i in range(processes):
            member = WsServer(host=host, port=port if i == 0 else 0, env=env, workdir=Path(workdir) / f"p{i}")
            member.database = database
            self.members.append(member)
        for member in self.members[1:]:
            member.secret_key = self.members[0].secret_key
        self._turn = itertools.cycle(range(processes))
        self._lock = threading.Lock()

    # -- lifecycle -------------------------------------------------------------------------------------

    def start(self, bind_retry_seconds: float = 0) -> "ClusterWsServer":
        for i, member in enumerate(self.members):
            member.start(bind_retry_seconds=bind_retry_seconds if i == 0 else 0)
        return self

    def close(self) -> None:
        try:
            codes = [member.stop() for member in self.members]
            assert codes == [0] * len(codes), f"exit codes {codes} on SIGTERM; logs:\n{self.log()}"
        finally:
            if self._tmp is not None:
                self._tmp.cleanup()

    def stop(self) -> int:
        codes = [member.stop() for member in self.members]
        return next((code for code in codes if code != 0), 0)

    def terminate(self) -> None:
        for member in self.members:
            member.terminate()

    def wait(self, timeout: float = harness.STOP_TIMEOUT) -> int:
        codes = [member.wait(timeout) for member in self.members]
        return next((code for code in codes if code != 0), 0)

    def kill(self) -> None:
        for member in self.members:
            member.kill()

    @property
    def running(self) -> bool:
        return all(member.running for member in self.members)

    def log(self) -> str:
        return "\n".join(f"--- process {i} ---\n{member.log()}" for i, member in enumerate(self.members))

    # -- what tests use ----------------------------------------------------------------------------------

    def _next(self) -> WsServer:
        with self._lock:
            return self.members[next(self._turn)]

    @property
    def port(self) -> int:
        return self._next().port

    @property
    def url(self) -> str:
        return self._next().url

    @property
    def connect_host(self) -> str:
        return self.members[0].connect_host

    @property
    def secret_key(self) -> str:
        return self.members[0].secret_key

    @property
    def process(self):
        return self.members[0].process

    def ws_url(self, path: str = "/ws") -> str:
        return self._next().ws_url(path)

    def rest(self) -> RotatingRest:
        return RotatingRest([member.url for member in self.members])

    def rss_kib(self) -> int:
        return sum(member.rss_kib() for member in self.members)

    def sql(self, statement: str, parameters: tuple = ()) -> int:
        return self.members[0].sql(statement, parameters)
