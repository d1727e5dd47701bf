"""METRICS_TOKEN (PROTOCOL.md §6): with it, GET /metrics answers only to "Authorization: Bearer
<token>" (401 {"detail": "Not authenticated"} with WWW-Authenticate: Bearer otherwise); without it
/metrics is open as before. The token never appears in the server's log."""

from __future__ import annotations

import secrets

import pytest
import requests

from harness import HTTP_TIMEOUT

TOKEN = "metrics-" + secrets.token_hex(16)


def get_metrics(server, authorization: str | None = None) -> requests.Response:
    headers = {"Authorization": authorization} if authorization is not None else {}
    return requests.get(server.url + "/metrics", headers=headers, timeout=HTTP_TIMEOUT)


def assert_prometheus_text(response: requests.Response) -> None:
    assert response.status_code == 200, (response.status_code, response.text[:200])
    assert response.headers["Content-Type"].startswith("text/plain")
    assert "signaling_" in response.text and "# TYPE" in response.text, response.text[:300]


@pytest.fixture(scope="module")
def guarded(binary, tmp_path_factory):
    from harness import Server

    server = Server(binary, tmp_path_factory.mktemp("metrics-token"), env={"METRICS_TOKEN": TOKEN}).start()
    yield server
    assert server.stop() == 0, server.log()


@pytest.mark.parametrize("authorization", [
    None,                              # no header
    f"Bearer {TOKEN[:-1]}x",           # one byte wrong
    f"Bearer {TOKEN[:-1]}",            # a prefix
    f"Bearer {TOKEN}0",                # longer
    f"Basic {TOKEN}",                  # another scheme
    TOKEN,                             # no scheme
    "Bearer ",
])
def test_metrics_refuse_a_missing_or_wrong_token(guarded, authorization):
    response = get_metrics(guarded, authorization)
    assert response.status_code == 401, (authorization, response.status_code, response.text[:200])
    assert response.json() == {"detail": "Not authenticated"}
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert "signaling_" not in response.text


def test_metrics_answer_the_right_token(guarded):
    assert_prometheus_text(get_metrics(guarded, f"Bearer {TOKEN}"))
    assert_prometheus_text(get_metrics(guarded, f"bearer {TOKEN}"))  # the scheme is case-insensitive


def test_the_token_guards_only_metrics(guarded):
    assert requests.get(guarded.url + "/healthz", timeout=HTTP_TIMEOUT).status_code == 200


def test_the_token_is_never_logged(guarded):
    get_metrics(guarded, f"Bearer {TOKEN}")
    get_metrics(guarded, f"Bearer {TOKEN}x")
    assert TOKEN not in guarded.log()


def test_without_a_token_metrics_stay_open(start_server):
    server = start_server()
    assert_prometheus_text(get_metrics(server))
    assert_prometheus_text(get_metrics(server, "Bearer anything-at-all"))
