"""Registration, login, GET /me and bearer tokens (PROTOCOL.md §2)."""

from __future__ import annotations

import base64
import json
import time
import uuid

import jwt
import pytest

from harness import (
    DEFAULT_PASSWORD, Server, assert_recent, expect_error, expect_json, expect_ok, expect_validation,
    unique_email, utcnow,
)

INVALID_TOKEN = "Could not validate credentials"
BAD_LOGIN = "Incorrect email or password"


# -- POST /register ------------------------------------------------------------------------------

def test_register_answers_the_new_user_with_its_email_lower_cased(api):
    email = f"MiXeD-{uuid.uuid4().hex[:12]}@Example.COM"
    before = utcnow()
    body = expect_ok(api.post("/register", json={"email": email, "password": DEFAULT_PASSWORD}))
    assert set(body) == {"id", "email", "created_at"}
    assert isinstance(body["id"], int) and body["id"] > 0
    assert body["email"] == email.lower()
    assert_recent(body["created_at"], before, utcnow())


def test_register_gives_each_user_its_own_id(api):
    first, second = api.register(), api.register()
    assert first["id"] != second["id"]


def test_register_refuses_a_taken_email_whatever_its_case(api):
    email = unique_email()
    api.register(email)
    expect_error(api.post("/register", json={"email": email, "password": "another-password"}), 409,
                 "Email already registered")
    expect_error(api.post("/register", json={"email": email.upper(), "password": DEFAULT_PASSWORD}), 409,
                 "Email already registered")
    # The first password still works: the refused registrations changed nothing.
    assert api.login(email)


def test_register_requires_both_fields(api):
    expect_validation(api.post("/register", json={}),
                      (["body", "email"], "field required", "value_error.missing"),
                      (["body", "password"], "field required", "value_error.missing"))
    expect_validation(api.post("/register", json={"email": unique_email()}),
                      (["body", "password"], "field required", "value_error.missing"))
    expect_validation(api.post("/register", json={"email": None, "password": DEFAULT_PASSWORD}),
                      (["body", "email"], "field required", "value_error.missing"))


def test_register_refuses_a_missing_body(api):
    response = api.post("/register", data=b"", headers={"Content-Type": "application/json"})
    expect_validation(response, (["body"], "field required", "value_error.missing"))


@pytest.mark.parametrize("email", [
    "not-an-email", "@example.com", "user@", "user@@example.com", "user@example", "user@exa mple.com",
    "us er@example.com", ".user@example.com", "user.@example.com", "us..er@example.com",
    "user@-example.com", "user@example.123", "",
])
def test_register_refuses_an_invalid_email(api, email):
    expect_validation(api.post("/register", json={"email": email, "password": DEFAULT_PASSWORD}),
                      (["body", "email"], "value is not a valid email address", "value_error.email"))


def email_of_length(length: int) -> str:
    """A unique, valid address of `length` characters: a 12-character local part and a domain of
    63-character labels (the DNS maximum)."""
    local = unique_email("u")[:12]
    tail = length - len(local) - 1 - (3 * 64 + 4)  # three full labels with their dots, ".com"
    return f"{local}@{'a' * 63}.{'b' * 63}.{'c' * 63}.{'d' * tail}.com"


def test_register_accepts_an_email_of_254_characters_and_refuses_255(api):
    email_254, email_255 = email_of_length(254), email_of_length(255)
    assert (len(email_254), len(email_255)) == (254, 255)
    assert expect_ok(api.post("/register", json={"email": email_254, "password": DEFAULT_PASSWORD}))["email"] == email_254
    expect_validation(api.post("/register", json={"email": email_255, "password": DEFAULT_PASSWORD}),
                      (["body", "email"], "value is not a valid email address", "value_error.email"))


def test_register_refuses_a_local_part_over_64_characters(api):
    expect_validation(api.post("/register", json={"email": "l" * 65 + "@example.com", "password": DEFAULT_PASSWORD}),
                      (["body", "email"], "value is not a valid email address", "value_error.email"))
    local_64 = "l" * 52 + uuid.uuid4().hex[:12]
    assert api.register(local_64 + "@example.com")["email"] == local_64 + "@example.com"


def test_register_enforces_password_length_in_characters(api):
    expect_validation(api.post("/register", json={"email": unique_email(), "password": "1234567"}),
                      (["body", "password"], "ensure this value has at least 8 characters",
                       "value_error.any_str.min_length"))
    expect_validation(api.post("/register", json={"email": unique_email(), "password": "p" * 129}),
                      (["body", "password"], "ensure this value has at most 128 characters",
                       "value_error.any_str.max_length"))
    assert api.register(password="p" * 8)
    assert api.register(password="p" * 128)
    # Characters, not bytes: seven two-byte characters are too short, eight are enough; 128
    # four-byte characters are allowed, 129 are not.
    expect_validation(api.post("/register", json={"email": unique_email(), "password": "é" * 7}),
                      (["body", "password"], "ensure this value has at least 8 characters",
                       "value_error.any_str.min_length"))
    assert api.register(password="é" * 8)
    assert api.register(password="😀" * 128)
    expect_validation(api.post("/register", json={"email": unique_email(), "password": "😀" * 129}),
                      (["body", "password"], "ensure this value has at most 128 characters",
                       "value_error.any_str.max_length"))


def test_register_refuses_non_string_fields_without_coercion(api):
    expect_validation(api.post("/register", json={"email": 5, "password": 12345678}),
                      (["body", "email"], "str type expected", "type_error.str"),
                      (["body", "password"], "str type expected", "type_error.str"))
    expect_validation(api.post("/register", json={"email": [unique_email()], "password": {"a": 1}}),
                      (["body", "email"], "str type expected", "type_error.str"),
                      (["body", "password"], "str type expected", "type_error.str"))


def test_register_refuses_a_body_that_is_not_json(api):
    email = unique_email()
    response = api.post("/register", data=f"email={email}&password={DEFAULT_PASSWORD}",
                        headers={"Content-Type": "application/x-www-form-urlencoded"})
    expect_error(response, 415, "Content-Type must be application/json")
    response = api.post("/register", data=json.dumps({"email": email, "password": DEFAULT_PASSWORD}),
                        headers={"Content-Type": "text/plain"})
    expect_error(response, 415, "Content-Type must be application/json")
    expect_error(api.post("/login", json={"email": email, "password": DEFAULT_PASSWORD}), 401, BAD_LOGIN)


def test_register_accepts_json_with_a_charset_parameter(api):
    email = unique_email()
    response = api.post("/register", data=json.dumps({"email": email, "password": DEFAULT_PASSWORD}),
                        headers={"Content-Type": "application/json; charset=utf-8"})
    assert expect_ok(response)["email"] == email


# -- POST /login ---------------------------------------------------------------------------------

def test_login_answers_a_bearer_token(api):
    user = api.register()
    body = expect_ok(api.post("/login", json={"email": user["email"], "password": DEFAULT_PASSWORD}))
    assert set(body) == {"access_token", "token_type", "expires_in"}
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 1800
    assert isinstance(body["access_token"], str) and body["access_token"].count(".") == 2


def test_login_matches_the_email_case_insensitively(api):
    email = unique_email()
    api.register(email)
    assert expect_ok(api.post("/login", json={"email": email.upper(), "password": DEFAULT_PASSWORD}))


def test_login_accepts_the_oauth2_password_form(api):
    user = api.register()
    response = api.post("/login", data={"username": user["email"], "password": DEFAULT_PASSWORD})
    assert response.request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    body = expect_ok(response)
    assert body["token_type"] == "bearer"
    me = expect_ok(api.get("/me", headers={"Authorization": f"Bearer {body['access_token']}"}))
    assert me["id"] == user["id"]


@pytest.mark.parametrize("content_type", ["application/x-www-form-urlencoded; charset=UTF-8",
                                          "Application/X-WWW-Form-URLEncoded",
                                          "application/x-www-form-urlencoded ; charset=utf-8"])
def test_login_form_media_type_is_case_insensitive_and_takes_parameters(api, content_type):
    # RFC 9110 §8.3.1: type, subtype and parameter names are case-insensitive; whitespace may
    # surround the ";".
    user = api.register()
    response = api.post("/login", data=f"username={user['email']}&password={DEFAULT_PASSWORD}",
                        headers={"Content-Type": content_type})
    assert expect_ok(response)["token_type"] == "bearer"


def test_login_form_with_a_wrong_password_is_refused(api):
    user = api.register()
    expect_error(api.post("/login", data={"username": user["email"], "password": "wrong-password"}), 401,
                 BAD_LOGIN)


def test_login_form_requires_both_fields(api):
    expect_validation(api.post("/login", data={"username": unique_email()}),
                      (["body", "password"], "field required", "value_error.missing"))
    expect_validation(api.post("/login", data={"password": DEFAULT_PASSWORD}),
                      (["body", "username"], "field required", "value_error.missing"))


def test_login_with_a_wrong_password_or_an_unknown_email_gets_the_same_answer(api):
    user = api.register()
    wrong_password = api.post("/login", json={"email": user["email"], "password": "wrong-password"})
    unknown_email = api.post("/login", json={"email": unique_email(), "password": DEFAULT_PASSWORD})
    expect_error(wrong_password, 401, BAD_LOGIN)
    expect_error(unknown_email, 401, BAD_LOGIN)
    assert wrong_password.content == unknown_email.content


def test_login_with_an_over_long_email_is_just_refused(api):
    expect_error(api.post("/login", json={"email": "a" * 300 + "@example.com", "password": DEFAULT_PASSWORD}),
                 401, BAD_LOGIN)


def test_login_requires_both_fields_as_strings(api):
    expect_validation(api.post("/login", json={}),
                      (["body", "email"], "field required", "value_error.missing"),
                      (["body", "password"], "field required", "value_error.missing"))
    expect_validation(api.post("/login", json={"email": unique_email(), "password": 12345678}),
                      (["body", "password"], "str type expected", "type_error.str"))


def test_login_with_a_password_containing_a_nul_character_uses_all_of_it(api):
    password = "pass\u0000word-tail"
    user = api.register(password=password)
    assert api.login(user["email"], password)
    expect_error(api.post("/login", json={"email": user["email"], "password": "pass"}), 401, BAD_LOGIN)
    expect_error(api.post("/login", json={"email": user["email"], "password": "pass\u0000word-TAIL"}), 401,
                 BAD_LOGIN)


# -- GET /me -------------------------------------------------------------------------------------

def test_me_answers_the_authenticated_user(api):
    created = api.register()
    token = api.login(created["email"])
    me = expect_ok(api.get("/me", headers={"Authorization": f"Bearer {token}"}))
    assert me == created


def test_me_accepts_the_bearer_scheme_in_any_case(api):
    user = api.new_user()
    assert expect_ok(api.get("/me", headers={"Authorization": f"bearer {user.token}"}))["id"] == user.id
    assert expect_ok(api.get("/me", headers={"Authorization": f"BEARER {user.token}"}))["id"] == user.id


@pytest.mark.parametrize("authorization", [None, "", "Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "Token abc",
                                           "Bearerabc"])
def test_me_without_a_bearer_token_is_not_authenticated(api, authorization):
    headers = {} if authorization is None else {"Authorization": authorization}
    expect_error(api.get("/me", headers=headers), 401, "Not authenticated")


def test_every_authenticated_route_refuses_a_request_without_token(api):
    routes = [("GET", "/me"), ("POST", "/organizations"), ("GET", "/organizations"), ("GET", "/organizations/1"),
              ("POST", "/organizations/1/join"), ("POST", "/organizations/1/invites"),
              ("GET", "/organizations/1/members"), ("DELETE", "/organizations/1/members/1"),
              ("PATCH", "/organizations/1/members/1"), ("POST", "/organizations/1/allocate_ip"),
              ("GET", "/organizations/1/ips"), ("DELETE", "/organizations/1/ips/10.0.0.1")]
    for method, path in routes:
        expect_error(api.request(method, path, json={}), 401, "Not authenticated")
        expect_error(api.request(method, path, json={}, headers={"Authorization": "Bearer x.y.z"}), 401,
                     INVALID_TOKEN)


# -- tokens --------------------------------------------------------------------------------------

def test_server_tokens_are_hs256_jwts_with_the_contract_claims(api, server):
    user = api.new_user()
    header = jwt.get_unverified_header(user.token)
    assert header["alg"] == "HS256"
    claims = jwt.decode(user.token, server.secret_key, algorithms=["HS256"])
    assert claims["sub"] == str(user.id)
    assert isinstance(claims["iat"], int) and isinstance(claims["exp"], int)
    assert claims["exp"] - claims["iat"] == 1800
    assert abs(claims["iat"] - time.time()) < 120
    assert isinstance(claims["jti"], str) and claims["jti"]
    other = jwt.decode(api.login(user.email), server.secret_key, algorithms=["HS256"])
    assert other["jti"] != claims["jti"]


def stamp_of(token: str) -> str:
    """The user's token stamp, which every token of the user carries (claim "stm")."""
    return jwt.decode(token, options={"verify_signature": False})["stm"]


def test_a_token_minted_with_the_secret_key_is_accepted(api, server):
    user = api.new_user()
    now = int(time.time())
    token = jwt.encode({"sub": str(user.id), "stm": stamp_of(user.token), "iat": now, "exp": now + 300,
                        "jti": "minted-by-a-test"}, server.secret_key, algorithm="HS256")
    assert expect_ok(api.get("/me", headers={"Authorization": f"Bearer {token}"}))["id"] == user.id


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def forge(header: dict, claims: dict, signature: str) -> str:
    return f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(claims).encode())}.{signature}"


def forged_tokens(server, victim, own_token):
    """name -> token that must be refused. Each carries the victim's real token stamp, so that
    only what the name says is wrong with it."""
    key = server.secret_key
    now = int(time.time())
    victim_id = victim.id
    stamp = stamp_of(victim.token)

    def claims_for(user_id, lifetime=300, **extra):
        return {"sub": str(user_id), "stm": stamp, "iat": now, "exp": now + lifetime, "jti": "forged", **extra}

    head, payload, signature = own_token.split(".")
    tampered_claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    tampered_claims["sub"] = str(victim_id)
    return {
        "tampered payload": f"{head}.{b64url(json.dumps(tampered_claims).encode())}.{signature}",
        "wrong key": jwt.encode(claims_for(victim_id), "not-the-server-key", algorithm="HS256"),
        "alg none": forge({"alg": "none", "typ": "JWT"}, claims_for(victim_id), ""),
        "alg None with the real signature kept":
            f"{b64url(json.dumps({'alg': 'none', 'typ': 'JWT'}).encode())}.{payload}.{signature}",
        "HS512 with the real key": jwt.encode(claims_for(victim_id), key, algorithm="HS512"),
        "expired": jwt.encode({"sub": str(victim_id), "stm": stamp, "iat": now - 3600, "exp": now - 60}, key,
                              algorithm="HS256"),
        "nbf in the future": jwt.encode(claims_for(victim_id, nbf=now + 3600), key, algorithm="HS256"),
        "sub not a number": jwt.encode(claims_for("abc"), key, algorithm="HS256"),
        "sub a JSON number": jwt.encode({**claims_for(victim_id), "sub": victim_id}, key, algorithm="HS256"),
        "sub zero": jwt.encode(claims_for(0), key, algorithm="HS256"),
        "sub negative": jwt.encode(claims_for(-victim_id), key, algorithm="HS256"),
        "sub of no user": jwt.encode(claims_for(10_000_000), key, algorithm="HS256"),
        "no exp": jwt.encode({"sub": str(victim_id), "stm": stamp, "iat": now}, key, algorithm="HS256"),
        "no sub": jwt.encode({"stm": stamp, "iat": now, "exp": now + 300}, key, algorithm="HS256"),
        "no stamp": jwt.encode({"sub": str(victim_id), "iat": now, "exp": now + 300}, key, algorithm="HS256"),
        "another user's stamp": jwt.encode({**claims_for(victim_id), "stm": stamp_of(own_token)}, key,
                                           algorithm="HS256"),
        "stamp not a string": jwt.encode({**claims_for(victim_id), "stm": 1}, key, algorithm="HS256"),
        "signature removed": f"{head}.{payload}.",
        "signature of another token": f"{head}.{b64url(json.dumps(tampered_claims).encode())}."
                                      + jwt.encode(claims_for(victim_id), "x", algorithm="HS256").split(".")[2],
        "two parts": f"{head}.{payload}",
        "four parts": f"{own_token}.{signature}",
        "not base64": "!!!.???.***",
        "garbage": "garbage",
    }


FORGERIES = ["tampered payload", "wrong key", "alg none", "alg None with the real signature kept",
             "HS512 with the real key", "expired", "nbf in the future", "sub not a number", "sub a JSON number",
             "sub zero", "sub negative", "sub of no user", "no exp", "no sub", "no stamp", "another user's stamp",
             "stamp not a string", "signature removed",
             "signature of another token", "two parts", "four parts", "not base64", "garbage"]


@pytest.mark.parametrize("forgery", FORGERIES)
def test_a_forged_or_invalid_token_is_refused(api, server, forgery):
    attacker = api.new_user("attacker")
    victim = api.new_user("victim")
    token = forged_tokens(server, victim, attacker.token)[forgery]
    expect_error(api.get("/me", headers={"Authorization": f"Bearer {token}"}), 401, INVALID_TOKEN)
    # Nothing can be done with it either.
    response = api.post("/organizations", headers={"Authorization": f"Bearer {token}"},
                        json={"name": "forged", "subnet": "10.9.0.0/24"})
    expect_error(response, 401, INVALID_TOKEN)
    assert api.organizations(victim) == []


def test_a_token_signed_with_another_servers_key_is_refused(api, start_server):
    other = start_server()
    foreign_user = other.client().new_user()
    expect_error(api.get("/me", headers=foreign_user.headers), 401, INVALID_TOKEN)


def test_token_lifetime_follows_access_token_expire_minutes(start_server):
    short = start_server(env={"ACCESS_TOKEN_EXPIRE_MINUTES": "1"})
    client = short.client()
    user = client.register()
    body = expect_ok(client.post("/login", json={"email": user["email"], "password": DEFAULT_PASSWORD}))
    assert body["expires_in"] == 60
    claims = jwt.decode(body["access_token"], short.secret_key, algorithms=["HS256"])
    assert claims["exp"] - claims["iat"] == 60


def test_a_valid_token_keeps_working_for_many_requests(api):
    user = api.new_user()
    for _ in range(5):
        assert expect_json(api.get("/me", as_user=user), 200)["id"] == user.id


# -- tokens name their user for good (PROTOCOL.md §2) ----------------------------------------------

def test_every_token_carries_the_users_stamp(api, server):
    user = api.new_user()
    claims = jwt.decode(user.token, server.secret_key, algorithms=["HS256"])
    assert isinstance(claims["stm"], str) and len(claims["stm"]) == 32
    assert stamp_of(api.login(user.email)) == claims["stm"]
    assert stamp_of(api.new_user().token) != claims["stm"]


def test_logout_revokes_every_token_of_the_caller_and_only_theirs(api):
    user = api.new_user()
    second = api.login(user.email)
    other = api.new_user()
    assert expect_ok(api.post("/logout", as_user=user)) == {"status": "logged_out"}
    for token in (user.token, second):
        expect_error(api.get("/me", headers={"Authorization": f"Bearer {token}"}), 401, INVALID_TOKEN)
        expect_error(api.post("/logout", headers={"Authorization": f"Bearer {token}"}), 401, INVALID_TOKEN)
    assert expect_ok(api.get("/me", as_user=other))["id"] == other.id
    fresh = api.login(user.email)
    assert expect_ok(api.get("/me", headers={"Authorization": f"Bearer {fresh}"}))["id"] == user.id


def test_logout_needs_a_valid_token(api):
    expect_error(api.post("/logout"), 401, "Not authenticated")
    expect_error(api.post("/logout", headers={"Authorization": "Bearer garbage"}), 401, INVALID_TOKEN)


@pytest.mark.sqlite_only
def test_a_token_dies_with_a_database_reset_even_when_the_id_is_reused(start_server, tmp_path):
    """The same SECRET_KEY, a new database: the new user 1 is not the old user 1."""
    key = "k" * 64
    first = start_server(workdir=tmp_path / "a", secret_key=key)
    old = first.client().new_user("old")
    assert first.stop() == 0
    second = start_server(workdir=tmp_path / "b", secret_key=key)
    client = second.client()
    new = client.new_user("new")
    assert new.id == old.id, "the reset database reuses the id"
    expect_error(client.get("/me", headers=old.headers), 401, INVALID_TOKEN)
    assert expect_ok(client.get("/me", as_user=new))["email"] == new.email


def test_a_deleted_users_token_dies_with_them(api, server):
    user = api.new_user()
    server.sql("DELETE FROM users WHERE id = %s", (user.id,))
    expect_error(api.get("/me", as_user=user), 401, INVALID_TOKEN)


def test_issuer_and_audience_are_issued_and_required_when_configured(start_server):
    strict = start_server(env={"JWT_ISSUER": "https://vpn.example.com", "JWT_AUDIENCE": "mesh-agents"})
    client = strict.client()
    user = client.new_user()
    claims = jwt.decode(user.token, strict.secret_key, algorithms=["HS256"], audience="mesh-agents",
                        issuer="https://vpn.example.com")
    assert claims["sub"] == str(user.id)
    assert expect_ok(client.get("/me", as_user=user))["id"] == user.id
    now = int(time.time())
    base = {"sub": str(user.id), "stm": stamp_of(user.token), "iat": now, "exp": now + 300}
    accepted = {"audience in a list": {**base, "iss": "https://vpn.example.com", "aud": ["other", "mesh-agents"]}}
    refused = {
        "no iss": {**base, "aud": "mesh-agents"},
        "wrong iss": {**base, "iss": "https://evil.example.com", "aud": "mesh-agents"},
        "no aud": {**base, "iss": "https://vpn.example.com"},
        "wrong aud": {**base, "iss": "https://vpn.example.com", "aud": "other"},
        "aud a number": {**base, "iss": "https://vpn.example.com", "aud": 1},
    }
    for name, claims in accepted.items():
        token = jwt.encode(claims, strict.secret_key, algorithm="HS256")
        assert client.get("/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200, name
    for name, claims in refused.items():
        token = jwt.encode(claims, strict.secret_key, algorithm="HS256")
        response = client.get("/me", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401, (name, response.text)


@pytest.mark.parametrize("key", ["short", "x" * 31])
def test_a_signing_key_shorter_than_32_bytes_is_refused_at_start(binary, tmp_path, key):
    server = Server(binary, tmp_path, secret_key=key)
    with pytest.raises(RuntimeError, match="did not start"):
        server.start()
    assert "SECRET_KEY is too short" in server.log()
    assert server.wait() == 2
