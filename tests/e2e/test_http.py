"""HTTP transport conventions (PROTOCOL.md §1): unknown paths and methods, size limits, keep-alive,
CORS, malformed requests and the whole-request read deadline."""

from __future__ import annotations

import http.client
import json
import socket
import time

import pytest
import requests

from harness import DEFAULT_PASSWORD, Server, expect_error, expect_ok, unique_email

SLOW_CLIENT_BOUND = 10  # seconds: generous upper bound for a 1 s read deadline


def connect(server) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=30)
    return sock


def read_until_closed(sock: socket.socket, limit_seconds: float) -> bytes:
    """Everything the server sends until it closes the connection; fails if it is still open after
    `limit_seconds`."""
    sock.settimeout(limit_seconds)
    received = b""
    try:
        while chunk := sock.recv(65536):
            received += chunk
    except ConnectionResetError:
        pass
    except socket.timeout:
        pytest.fail(f"the server kept the connection open for more than {limit_seconds} s; got {received!r}")
    return received


def parse_response(raw: bytes) -> tuple[int, dict[str, str], bytes]:
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return status, headers, body


def read_response(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    """Exactly one response (headers, then Content-Length bytes of body); the connection stays open."""
    sock.settimeout(30)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, f"connection closed after {data!r}"
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status, headers, _ = parse_response(head + b"\r\n\r\n")
    length = int(headers.get("content-length", "0")) if not 100 <= status < 200 else 0
    while len(body) < length:
        chunk = sock.recv(65536)
        assert chunk, "connection closed in the middle of a body"
        body += chunk
    assert len(body) == length, "more bytes than one response"
    return status, headers, body


# -- routing -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/nope", "/organizations/1/nope", "/organizations/1/members/2/3", "/REGISTER",
                                  "/organizations//members", "/ws-not", "/"])
def test_unknown_paths_are_not_found(api, path):
    expect_error(api.get(path), 404, "Not Found")
    expect_error(api.post(path, json={}), 404, "Not Found")


@pytest.mark.parametrize("method, path, allowed", [
    ("GET", "/register", {"POST"}),
    ("DELETE", "/login", {"POST"}),
    ("PUT", "/organizations", {"GET", "POST"}),
    ("POST", "/me", {"GET"}),
    ("PUT", "/organizations/1/members/2", {"DELETE", "PATCH"}),
    ("GET", "/organizations/1/allocate_ip", {"POST"}),
    ("POST", "/healthz", {"GET"}),
])
def test_a_wrong_method_is_not_allowed(api, method, path, allowed):
    response = api.request(method, path, json={})
    expect_error(response, 405, "Method Not Allowed")
    assert {m.strip() for m in response.headers["Allow"].split(",")} == allowed


def test_one_trailing_slash_is_ignored(api):
    user = api.new_user()
    assert expect_ok(api.get("/me/", as_user=user))["id"] == user.id
    assert expect_ok(api.get("/organizations/", as_user=user)) == []


def test_query_strings_do_not_change_the_route(api):
    user = api.new_user()
    assert expect_ok(api.get("/me?x=1&y", as_user=user))["id"] == user.id


# -- size limits ---------------------------------------------------------------------------------------

def test_a_body_of_exactly_64_kib_is_read_and_one_byte_more_is_too_large(api):
    user = api.new_user()
    start = b'{"name": "n", "subnet": "10.0.0.0/24", "pad": "'
    end = b'"}'
    exact = start + b"x" * (64 * 1024 - len(start) - len(end)) + end
    assert len(exact) == 64 * 1024
    headers = {"Content-Type": "application/json"}
    assert expect_ok(api.post("/organizations", as_user=user, data=exact, headers=headers))["name"] == "n"
    over = start + b"x" * (64 * 1024 - len(start) - len(end) + 1) + end
    expect_error(api.post("/organizations", as_user=user, data=over, headers=headers), 413, "Request body too large")
    assert len(api.organizations(user)) == 1


def test_a_huge_body_is_refused_without_reading_it_all(api):
    user = api.new_user()
    response = api.post("/organizations", as_user=user, data=b"x" * (8 * 1024 * 1024),
                        headers={"Content-Type": "application/json"})
    expect_error(response, 413, "Request body too large")


def test_a_chunked_body_over_the_limit_is_too_large(server, api):
    # A raw socket: the answer may arrive (and the server close) while the client is still sending,
    # which requests' chunked upload does not survive.
    user = api.new_user()
    with connect(server) as sock:
        sock.sendall(f"POST /organizations HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {user.token}\r\n"
                     "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n".encode())
        try:
            for _ in range(100):
                sock.sendall(b"400\r\n" + b"x" * 1024 + b"\r\n")
            sock.sendall(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass
        status, _, body = parse_response(read_until_closed(sock, SLOW_CLIENT_BOUND))
    assert (status, json.loads(body)) == (413, {"detail": "Request body too large"})
    assert api.organizations(user) == []


def test_a_small_chunked_body_is_read(api):
    user = api.new_user()

    def chunks():
        yield b'{"name": "chunked", '
        yield b'"subnet": "10.0.0.0/24"}'

    response = api.post("/organizations", as_user=user, data=chunks(), headers={"Content-Type": "application/json"})
    assert expect_ok(response)["name"] == "chunked"


@pytest.mark.parametrize("coding", ["gzip, chunked", "gzip", "deflate, chunked", "identity", "chunked, chunked"])
def test_a_transfer_coding_other_than_chunked_is_not_implemented(server, api, coding):
    """RFC 9112 §6.1: 501, not a body misread as empty; nothing is created."""
    user = api.new_user()
    with connect(server) as sock:
        sock.sendall(f"POST /organizations HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {user.token}\r\n"
                     f"Content-Type: application/json\r\nTransfer-Encoding: {coding}\r\n\r\n"
                     "5\r\nhello\r\n0\r\n\r\n".encode())
        status, _, body = parse_response(read_until_closed(sock, SLOW_CLIENT_BOUND))
    assert (status, json.loads(body)) == (501, {"detail": "Transfer-Encoding not supported"})
    assert api.organizations(user) == []


def test_headers_over_8_kib_are_refused(api):
    expect_error(api.get("/healthz", headers={"X-Padding": "p" * 9000}), 431, "Request header fields too large")
    user = api.new_user()
    expect_error(api.get("/me", headers={"Authorization": "Bearer " + "a" * 10_000}), 431,
                 "Request header fields too large")
    assert expect_ok(api.get("/me", as_user=user, headers={"X-Padding": "p" * 4000}))["id"] == user.id


# -- malformed HTTP ------------------------------------------------------------------------------------

@pytest.mark.parametrize("request_bytes", [
    b"GARBAGE\r\n\r\n",
    b"GET /healthz HTTP/9.9\r\n\r\n",
    b"GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
    b"POST /register HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
    b"GET /healthz HTTP/1.1\r\nBad Header\r\n\r\n",
])
def test_a_malformed_request_gets_400_and_the_connection_closed(server, request_bytes):
    with connect(server) as sock:
        sock.sendall(request_bytes)
        status, headers, body = parse_response(read_until_closed(sock, SLOW_CLIENT_BOUND))
    assert status == 400
    assert json.loads(body) == {"detail": "Malformed HTTP request"}


def test_expect_100_continue(server):
    email = unique_email()
    body = json.dumps({"email": email, "password": DEFAULT_PASSWORD}).encode()
    with connect(server) as sock:
        sock.sendall(b"POST /register HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Expect: 100-continue\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n")
        interim, _, _ = read_response(sock)
        assert interim == 100
        sock.sendall(body)
        status, _, answer = read_response(sock)
    assert status == 200 and json.loads(answer)["email"] == email


def test_expect_100_continue_with_a_body_over_the_limit_is_refused_at_once(server):
    with connect(server) as sock:
        sock.sendall(b"POST /register HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Expect: 100-continue\r\nContent-Length: 1000000\r\n\r\n")
        status, _, body = read_response(sock)
    assert (status, json.loads(body)) == (413, {"detail": "Request body too large"})


def test_interim_and_no_content_responses_carry_no_content_length(server):
    # RFC 9110 §8.6: a server MUST NOT send Content-Length in a 1xx or 204 response.
    with connect(server) as sock:
        sock.sendall(b"POST /register HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Expect: 100-continue\r\nContent-Length: 2\r\n\r\n")
        status, interim_headers, _ = read_response(sock)
        assert status == 100
        sock.sendall(b"{}")
        assert read_response(sock)[0] == 422
        sock.sendall(b"OPTIONS /login HTTP/1.1\r\nHost: x\r\nOrigin: https://app.example\r\n"
                     b"Access-Control-Request-Method: POST\r\n\r\n")
        status, preflight_headers, _ = read_response(sock)
        assert status == 204
    assert "content-length" not in interim_headers, interim_headers
    assert "content-length" not in preflight_headers, preflight_headers


# -- keep-alive ----------------------------------------------------------------------------------------

def test_many_requests_share_one_connection(server):
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    email = unique_email()
    steps = [
        ("GET", "/healthz", None, {}),
        ("POST", "/register", {"email": email, "password": DEFAULT_PASSWORD}, {}),
        ("POST", "/login", {"email": email, "password": DEFAULT_PASSWORD}, {}),
        ("GET", "/nope", None, {}),                             # an error keeps the connection too
        ("POST", "/register", {"email": "bad"}, {}),            # so does a validation error
    ]
    conn.connect()
    sock = conn.sock
    local = sock.getsockname()
    token = None
    statuses = []
    for method, path, body, headers in steps:
        payload = None if body is None else json.dumps(body)
        all_headers = {"Content-Type": "application/json", **headers}
        conn.request(method, path, body=payload, headers=all_headers)
        response = conn.getresponse()
        data = json.loads(response.read())
        statuses.append(response.status)
        if path == "/login":
            token = data["access_token"]
        assert not response.will_close, (path, response.getheaders())
        assert conn.sock is sock
    conn.request("GET", "/me", headers={"Authorization": f"Bearer {token}"})
    response = conn.getresponse()
    assert json.loads(response.read())["email"] == email
    assert conn.sock is sock and sock.getsockname() == local
    assert statuses == [200, 200, 200, 404, 422]
    conn.close()


def test_a_requests_session_reuses_its_connection(server):
    session = requests.Session()
    ports = set()
    for _ in range(5):
        response = session.get(server.url + "/healthz", stream=True, timeout=30)
        ports.add(response.raw._connection.sock.getsockname()[1])
        assert response.json() == {"status": "ok"}
        response.close()
    assert len(ports) == 1


def test_pipelined_requests_are_answered_in_order(server):
    with connect(server) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
                     b"GET /nope HTTP/1.1\r\nHost: x\r\n\r\n"
                     b"GET /readyz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        raw = read_until_closed(sock, SLOW_CLIENT_BOUND)
    bodies = []
    while raw:
        status, headers, rest = parse_response(raw)
        length = int(headers["content-length"])
        bodies.append((status, json.loads(rest[:length])))
        raw = rest[length:]
    assert bodies == [(200, {"status": "ok"}), (404, {"detail": "Not Found"}), (200, {"status": "ready"})]


def test_connection_close_is_honoured(server):
    with connect(server) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        status, headers, body = parse_response(read_until_closed(sock, SLOW_CLIENT_BOUND))
    assert (status, json.loads(body)) == (200, {"status": "ok"})


def test_http_1_0_without_keep_alive_is_closed_after_the_answer(server):
    with connect(server) as sock:
        sock.sendall(b"GET /healthz HTTP/1.0\r\n\r\n")
        status, headers, body = parse_response(read_until_closed(sock, SLOW_CLIENT_BOUND))
    assert (status, json.loads(body)) == (200, {"status": "ok"})


# -- CORS ----------------------------------------------------------------------------------------------

def test_cors_allows_any_origin_by_default(api):
    response = api.get("/healthz", headers={"Origin": "https://app.example"})
    assert response.headers.get("Access-Control-Allow-Origin") == "*"
    error = api.get("/me", headers={"Origin": "https://app.example"})
    assert error.status_code == 401 and error.headers.get("Access-Control-Allow-Origin") == "*"
    # A page's script may read the request id to quote, and when to retry.
    for answer in (response, error):
        exposed = {h.strip().lower() for h in answer.headers.get("Access-Control-Expose-Headers", "").split(",")}
        assert {"x-request-id", "retry-after"} <= exposed, answer.headers
        assert answer.headers.get("X-Request-Id")
    assert "Access-Control-Allow-Origin" not in api.get("/healthz").headers


def test_cors_preflight(api):
    response = api.request("OPTIONS", "/organizations", headers={
        "Origin": "https://app.example", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type, x-request-id"})
    assert response.status_code == 204
    assert response.headers.get("Access-Control-Allow-Origin") == "*"
    methods = {m.strip() for m in response.headers.get("Access-Control-Allow-Methods", "").split(",")}
    assert {"GET", "POST", "PATCH", "DELETE"} <= methods
    allowed_headers = {h.strip().lower() for h in response.headers.get("Access-Control-Allow-Headers", "").split(",")}
    assert {"authorization", "content-type", "x-request-id"} <= allowed_headers


def test_cors_with_configured_origins(start_server):
    server = start_server(env={"CORS_ORIGINS": "https://app.example, https://admin.example"})
    client = server.client()
    for origin in ("https://app.example", "https://admin.example"):
        response = client.get("/healthz", headers={"Origin": origin})
        assert response.headers.get("Access-Control-Allow-Origin") == origin
        assert "Origin" in response.headers.get("Vary", "")
        preflight = client.request("OPTIONS", "/login", headers={"Origin": origin,
                                                                  "Access-Control-Request-Method": "POST"})
        assert preflight.status_code == 204 and preflight.headers.get("Access-Control-Allow-Origin") == origin
    response = client.get("/healthz", headers={"Origin": "https://evil.example"})
    assert response.status_code == 200 and "Access-Control-Allow-Origin" not in response.headers
    preflight = client.request("OPTIONS", "/login", headers={"Origin": "https://evil.example",
                                                              "Access-Control-Request-Method": "POST"})
    assert "Access-Control-Allow-Origin" not in preflight.headers


# -- read deadline (slow clients) ----------------------------------------------------------------------

@pytest.fixture(scope="module")
def impatient_server(binary, tmp_path_factory):
    server = Server(binary, tmp_path_factory.mktemp("impatient"), env={"HTTP_READ_TIMEOUT_SECONDS": "1"}).start()
    yield server
    assert server.stop() == 0, server.log()


def test_half_a_request_line_then_silence_is_disconnected(impatient_server):
    with connect(impatient_server) as sock:
        sock.sendall(b"GET /hea")
        # Meanwhile the server serves others.
        assert expect_ok(impatient_server.client().get("/healthz")) == {"status": "ok"}
        received = read_until_closed(sock, SLOW_CLIENT_BOUND)
    assert b"200" not in received


def test_headers_trickled_byte_by_byte_hit_the_whole_request_deadline(impatient_server):
    request = b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + b"X-Slow: " + b"s" * 200 + b"\r\n\r\n"
    with connect(impatient_server) as sock:
        started = time.monotonic()
        closed = False
        for byte in request:
            try:
                sock.sendall(bytes([byte]))
            except (BrokenPipeError, ConnectionResetError):
                closed = True
                break
            sock.settimeout(0.1)  # the client's own pace: one byte per 0.1 s, never a full request in time
            try:
                if sock.recv(65536) == b"":
                    closed = True
                    break
            except socket.timeout:
                pass
            except ConnectionResetError:
                closed = True
                break
            if time.monotonic() - started > SLOW_CLIENT_BOUND:
                break
    assert closed, "a client trickling its headers was never cut off"


def test_a_body_that_never_arrives_is_disconnected(impatient_server):
    with connect(impatient_server) as sock:
        sock.sendall(b"POST /register HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 100\r\n\r\n{\"email\":")
        received = read_until_closed(sock, SLOW_CLIENT_BOUND)
    assert b"200 OK" not in received


def test_an_idle_keep_alive_connection_is_closed(impatient_server):
    with connect(impatient_server) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        received = read_until_closed(sock, SLOW_CLIENT_BOUND)
    status, _, body = parse_response(received)
    assert (status, json.loads(body)) == (200, {"status": "ok"})
