"""Fixtures of the end-to-end suite.

- `server`: one signaling-server shared by the whole session (fresh database, fast hashing);
  tests isolate themselves by creating their own users and organizations.
- `api`: a client of that server.
- `start_server`: starts a dedicated server with extra configuration; every server it started
  is stopped with SIGTERM at the end of the test, which must make it exit with code 0.
"""

from __future__ import annotations

import shutil

import pytest

from harness import Client, Server, ServerBinaryMissing, database_backend, server_binary


def pytest_configure(config):
    config.addinivalue_line("markers", "sqlite_only: about the SQLite file itself (skipped on PostgreSQL)")
    config.addinivalue_line("markers", "postgres_only: about what only PostgreSQL has (skipped on SQLite)")


def pytest_collection_modifyitems(config, items):
    backend = database_backend()
    for item in items:
        if "sqlite_only" in item.keywords and backend != "sqlite":
            item.add_marker(pytest.mark.skip(reason="about the SQLite file"))
        if "postgres_only" in item.keywords and backend != "postgres":
            item.add_marker(pytest.mark.skip(reason="about PostgreSQL"))


@pytest.fixture(scope="session")
def binary():
    try:
        return server_binary()
    except ServerBinaryMissing as missing:
        pytest.exit(str(missing), returncode=4)


@pytest.fixture(scope="session")
def server(binary, tmp_path_factory):
    shared = Server(binary, tmp_path_factory.mktemp("shared-server")).start()
    yield shared
    code = shared.stop()
    assert code == 0, f"the shared server exited with {code} on SIGTERM; its log:\n{shared.log()}"


@pytest.fixture
def api(server) -> Client:
    return server.client()


@pytest.fixture
def start_server(binary, tmp_path_factory):
    """start_server(env={...}, workdir=None, host=..., port=..., secret_key=..., args=[...]) -> a
    started Server. A fixed port that another suite holds is waited for up to a minute."""
    started: list[Server] = []

    def start(*, workdir=None, **options) -> Server:
        instance = Server(binary, workdir or tmp_path_factory.mktemp("server"), **options)
        started.append(instance)
        return instance.start(bind_retry_seconds=60 if instance.requested_port else 0)

    yield start
    failures = []
    for instance in started:
        if instance.process is None:
            continue
        was_running = instance.running
        code = instance.stop()
        if was_running and code != 0:
            failures.append(f"exit code {code} on SIGTERM; log:\n{instance.log()}")
    assert not failures, "\n".join(failures)


# -- the cluster suite (test_cluster_*.py) ----------------------------------------------------------

@pytest.fixture(scope="session")
def cluster_postgres():
    """A PostgreSQL of the cluster suite's own: its tests restart it and cut processes off it."""
    from cluster_fixtures import Postgres, suite_postgres_state

    state = suite_postgres_state()
    postgres = Postgres(state)
    yield postgres
    postgres.stop()
    shutil.rmtree(state, ignore_errors=True)


@pytest.fixture
def cluster(binary, cluster_postgres):
    """cluster(env={...}) -> a Cluster (cluster_fixtures.py) whose processes the test starts; every
    process still running at the end is stopped with SIGTERM and must exit with code 0."""
    from cluster_fixtures import Cluster

    made = []

    def make(env=None):
        made.append(Cluster(cluster_postgres, env))
        return made[-1]

    yield make
    problems = [problem for c in made for problem in c.close()]
    assert not problems, "\n".join(problems)
