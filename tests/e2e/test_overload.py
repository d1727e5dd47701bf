"""Back-pressure (PROTOCOL.md §1): a flood of logins against a small, slow hashing pool is turned
away with 503 + Retry-After, while requests that need no hashing keep being answered.

Nothing here is judged by wall-clock time. Every request takes a ticket from one counter when it
is sent and another when its answer arrives; "answered during the flood" means a health check's
whole round trip fits inside the round trip of a login."""

from __future__ import annotations

import itertools
import threading
import time
from dataclasses import dataclass

from harness import DEFAULT_PASSWORD, Client, expect_error, expect_ok, unique_email

FLOOD_CONFIG = {"HASH_THREADS": "1", "HASH_QUEUE_LIMIT": "2",
                "PASSWORD_HASH_MEMORY_KIB": "65536", "PASSWORD_HASH_ITERATIONS": "3"}
FLOODERS = 8


@dataclass
class Exchange:
    sent: int
    answered: int
    status: int
    retry_after: str | None
    body: dict


class Clock:
    """A logical clock shared by every thread of the test."""

    def __init__(self):
        self._ticks = itertools.count()
        self._lock = threading.Lock()

    def tick(self) -> int:
        with self._lock:
            return next(self._ticks)

    def exchange(self, send) -> Exchange:
        sent = self.tick()
        response = send()
        answered = self.tick()
        return Exchange(sent, answered, response.status_code, response.headers.get("Retry-After"), response.json())


def overlapping(logins: list[Exchange], probe: Exchange) -> list[Exchange]:
    """Logins sent before `probe` was sent and answered after `probe` was answered."""
    return [x for x in logins if x.sent < probe.sent and x.answered > probe.answered]


def test_a_login_flood_gets_503_while_health_and_me_keep_answering(start_server):
    server = start_server(env=FLOOD_CONFIG)
    setup = server.client()
    email = unique_email("flood")
    setup.register(email)
    user = setup.new_user("watcher")

    clock = Clock()
    stop = threading.Event()
    busy = threading.Event()
    logins: list[Exchange] = []
    lock = threading.Lock()

    failures: list[Exception] = []

    def flood():
        client = Client(server.url)
        try:
            while not stop.is_set():
                exchange = clock.exchange(
                    lambda: client.post("/login", json={"email": email, "password": DEFAULT_PASSWORD}))
                with lock:
                    logins.append(exchange)
                if exchange.status == 503:
                    busy.set()
                    time.sleep(0.005)  # the flooder's own pace after a refusal; not a synchronisation
        except Exception as failure:  # a connection error is a failure of the server, reported below
            failures.append(failure)

    threads = [threading.Thread(target=flood) for _ in range(FLOODERS)]
    for thread in threads:
        thread.start()
    probes: list[tuple[Exchange, Exchange]] = []
    try:
        assert busy.wait(timeout=60), "the flood never saturated the hashing pool"
        watcher = Client(server.url)
        for _ in range(5):
            health = clock.exchange(lambda: watcher.get("/healthz"))
            me = clock.exchange(lambda: watcher.get("/me", as_user=user))
            probes.append((health, me))
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    assert not failures, failures

    refused = [x for x in logins if x.status == 503]
    served = [x for x in logins if x.status == 200]
    assert refused and served
    assert {x.status for x in logins} == {200, 503}
    for x in refused:
        assert x.body == {"detail": "Server busy, retry later"}
        assert x.retry_after is not None and x.retry_after.isdigit() and int(x.retry_after) >= 1
    for x in served:
        assert x.body["token_type"] == "bearer"
    for health, me in probes:
        assert (health.status, health.body) == (200, {"status": "ok"})
        assert (me.status, me.body["id"]) == (200, user.id)
        assert overlapping(logins, health), "no login was pending while /healthz was answered"
        assert overlapping(logins, me), "no login was pending while /me was answered"

    # Once the flood is over the pool serves again.
    assert setup.login(email)


def test_registration_is_also_turned_away_when_the_pool_is_full(start_server):
    server = start_server(env={**FLOOD_CONFIG, "HASH_QUEUE_LIMIT": "1"})
    email = unique_email("holder")
    server.client().register(email)
    holding = threading.Event()
    release = threading.Event()
    results: list[int] = []

    def keep_the_pool_busy():
        client = Client(server.url)
        while not release.is_set():
            results.append(client.post("/login", json={"email": email, "password": DEFAULT_PASSWORD}).status_code)
            holding.set()

    holder = threading.Thread(target=keep_the_pool_busy)
    holder.start()
    refused_emails = []
    try:
        assert holding.wait(timeout=60)
        for attempt in range(200):
            newcomer = unique_email(f"newcomer{attempt}")
            response = Client(server.url).post("/register", json={"email": newcomer, "password": DEFAULT_PASSWORD})
            if response.status_code == 503:
                expect_error(response, 503, "Server busy, retry later")
                refused_emails.append(newcomer)
                if len(refused_emails) == 3:
                    break
            else:
                assert response.status_code == 200, response.text
    finally:
        release.set()
        holder.join(timeout=120)
    assert refused_emails, "registration was never refused while the pool was busy"
    assert results and set(results) <= {200, 503}
    # A refused registration created nothing.
    client = server.client()
    for refused in refused_emails:
        expect_error(client.post("/login", json={"email": refused, "password": DEFAULT_PASSWORD}), 401,
                     "Incorrect email or password")
    assert expect_ok(client.post("/register", json={"email": refused_emails[0], "password": DEFAULT_PASSWORD}))
