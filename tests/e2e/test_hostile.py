"""Hostile input (PROTOCOL.md §0.4): bad input gets a clear 4xx and changes nothing. Every case
below is sent by a legitimate member of a populated organization, and the organization, its
members, its addresses and the caller's account are compared before and after."""

from __future__ import annotations

import json

import pytest

from harness import DEFAULT_PASSWORD, expect_error, expect_json, expect_ok, expect_validation, unique_email

SQL = "'; DROP TABLE users; --"
JSON = {"Content-Type": "application/json"}


@pytest.fixture
def world(api):
    owner, member = api.new_user("owner"), api.new_user("member")
    org = api.create_org(owner, subnet="10.77.0.0/24")
    api.join(member, org["id"])
    api.allocate(owner, org["id"])
    api.allocate(member, org["id"], agent_id="laptop")
    return {"org": org, "owner": owner, "member": member}


def snapshot(api, world):
    org_id, owner, member = world["org"]["id"], world["owner"], world["member"]
    return {
        "org": expect_ok(api.get(f"/organizations/{org_id}", as_user=owner)),
        "orgs of owner": api.organizations(owner),
        "orgs of member": api.organizations(member),
        "members": api.members(owner, org_id),
        "ips": api.ips(owner, org_id),
        "me": expect_ok(api.get("/me", as_user=member)),
    }


@pytest.fixture
def unchanged(api, world):
    """Yields; afterwards the world must look exactly as before and the server must still answer."""
    before = snapshot(api, world)
    yield
    assert snapshot(api, world) == before
    assert expect_ok(api.get("/healthz")) == {"status": "ok"}


def raw(api, method, path, body: bytes, user=None, content_type="application/json"):
    return api.request(method, path, as_user=user, data=body, headers={"Content-Type": content_type})


# -- SQL-looking text is data ----------------------------------------------------------------------

@pytest.mark.parametrize("email", [SQL, f"{SQL}@example.com", "x@example.com' OR '1'='1", "admin'--@example.com;",
                                   "a@b.com\"); DELETE FROM users; --"])
def test_sql_in_an_email_is_an_invalid_email(api, world, unchanged, email):
    expect_validation(api.post("/register", json={"email": email, "password": DEFAULT_PASSWORD}),
                      (["body", "email"], "value is not a valid email address", "value_error.email"))
    expect_error(api.post("/login", json={"email": email, "password": DEFAULT_PASSWORD}), 401,
                 "Incorrect email or password")
    expect_error(api.post("/login", json={"email": "' OR 1=1 --", "password": "' OR 1=1 --"}), 401,
                 "Incorrect email or password")


def test_quotes_in_a_valid_email_are_stored_literally(api, world, unchanged):
    email = f"o'brien+{unique_email()}"
    created = api.register(email)
    assert created["email"] == email
    assert api.login(email)
    expect_error(api.post("/login", json={"email": "o'brien+%", "password": DEFAULT_PASSWORD}), 401,
                 "Incorrect email or password")


@pytest.mark.parametrize("name", [SQL, "x' OR '1'='1", "Robert'); DROP TABLE organizations;--", "%", "_", "\\"])
def test_sql_in_an_organization_name_is_stored_literally(api, name):
    owner = api.new_user()
    org = api.create_org(owner, name=name)
    assert org["name"] == name
    assert expect_ok(api.get(f"/organizations/{org['id']}", as_user=owner))["name"] == name
    assert api.organizations(owner) == [org]


def test_sql_in_an_agent_id_is_stored_literally(api, world):
    member, org_id = world["member"], world["org"]["id"]
    allocation = api.allocate(member, org_id, agent_id=SQL)
    assert allocation["agent_id"] == SQL
    assert [a["agent_id"] for a in api.ips(member, org_id)] == [None, "laptop", SQL]
    assert api.allocate(member, org_id, agent_id=SQL) == allocation


def test_sql_in_an_invite_code_opens_nothing(api, world, unchanged):
    owner = api.new_user()
    org = api.create_org(owner, join_policy="invite")
    for code in (SQL, "' OR '1'='1", "%", "*"):
        expect_error(api.post(f"/organizations/{org['id']}/join", as_user=world["member"], json={"invite_code": code}),
                     403, "Invalid, expired or used-up invite code")
    assert [m["user_id"] for m in api.members(owner, org["id"])] == [owner.id]


def test_sql_in_path_segments_is_a_validation_error(api, world, unchanged):
    owner, org_id = world["owner"], world["org"]["id"]
    expect_validation(api.get("/organizations/1 OR 1=1/members", as_user=owner),
                      (["path", "org_id"], "value is not a valid integer", "type_error.integer"))
    expect_validation(api.delete(f"/organizations/{org_id}/ips/10.77.0.1' OR '1'='1", as_user=owner),
                      (["path", "virtual_ip"], "value is not a valid IPv4 address", "value_error.ipv4address"))
    expect_validation(api.delete(f"/organizations/{org_id}/members/1;DROP TABLE users", as_user=owner),
                      (["path", "user_id"], "value is not a valid integer", "type_error.integer"))


# -- huge strings ----------------------------------------------------------------------------------

def test_huge_strings_are_refused(api, world, unchanged):
    owner, member, org_id = world["owner"], world["member"], world["org"]["id"]
    huge = "A" * 60_000
    expect_validation(api.post("/register", json={"email": huge + "@example.com", "password": DEFAULT_PASSWORD}),
                      (["body", "email"], "value is not a valid email address", "value_error.email"))
    expect_validation(api.post("/register", json={"email": unique_email(), "password": huge}),
                      (["body", "password"], "ensure this value has at most 128 characters",
                       "value_error.any_str.max_length"))
    expect_error(api.post("/login", json={"email": member.email, "password": huge}), 401, "Incorrect email or password")
    expect_validation(api.post("/organizations", as_user=owner, json={"name": huge, "subnet": "10.0.0.0/24"}),
                      (["body", "name"], "ensure this value has at most 100 characters",
                       "value_error.any_str.max_length"))
    expect_validation(api.post("/organizations", as_user=owner, json={"name": "n", "subnet": huge}),
                      (["body", "subnet"], "value is not a valid IPv4 network", "value_error.ipv4network"))
    expect_validation(api.post(f"/organizations/{org_id}/allocate_ip", as_user=member, json={"agent_id": huge}),
                      (["body", "agent_id"], "agent_id must be 1 to 128 printable characters", "value_error.agent_id"))
    expect_validation(api.post(f"/organizations/{org_id}/allocate_ip", as_user=member,
                               json={"agent_id": "new", "virtual_ip": huge}),
                      (["body", "virtual_ip"], "value is not a valid IPv4 address", "value_error.ipv4address"))
    expect_validation(api.patch(f"/organizations/{org_id}/members/{member.id}", as_user=owner, json={"role": huge}),
                      (["body", "role"], None, "type_error.enum"))
    invite_only = api.create_org(api.new_user(), join_policy="invite")
    expect_error(api.post(f"/organizations/{invite_only['id']}/join", as_user=member, json={"invite_code": huge}),
                 403, "Invalid, expired or used-up invite code")


def test_a_body_over_64_kib_is_too_large(api, world, unchanged):
    owner = world["owner"]
    body = json.dumps({"name": "n" * 70_000, "subnet": "10.0.0.0/24"}).encode()
    expect_error(raw(api, "POST", "/organizations", body, owner), 413, "Request body too large")


# -- wrong JSON types --------------------------------------------------------------------------------

@pytest.mark.parametrize("value", [5, 5.5, True, [], ["x"], {}, {"a": "b"}])
def test_a_non_string_where_a_string_is_expected(api, world, unchanged, value):
    owner, member, org_id = world["owner"], world["member"], world["org"]["id"]
    str_error = ("str type expected", "type_error.str")
    expect_validation(api.post("/register", json={"email": value, "password": DEFAULT_PASSWORD}),
                      (["body", "email"], *str_error))
    expect_validation(api.post("/login", json={"email": member.email, "password": value}),
                      (["body", "password"], *str_error))
    expect_validation(api.post("/organizations", as_user=owner, json={"name": value, "subnet": "10.0.0.0/24"}),
                      (["body", "name"], *str_error))
    expect_validation(api.post("/organizations", as_user=owner, json={"name": "n", "subnet": value}),
                      (["body", "subnet"], *str_error))
    expect_validation(api.post("/organizations", as_user=owner,
                               json={"name": "n", "subnet": "10.0.0.0/24", "join_policy": value}),
                      (["body", "join_policy"], *str_error))
    expect_validation(api.post(f"/organizations/{org_id}/allocate_ip", as_user=member, json={"agent_id": value}),
                      (["body", "agent_id"], *str_error))
    expect_validation(api.post(f"/organizations/{org_id}/allocate_ip", as_user=member, json={"virtual_ip": value}),
                      (["body", "virtual_ip"], *str_error))
    expect_validation(api.patch(f"/organizations/{org_id}/members/{member.id}", as_user=owner, json={"role": value}),
                      (["body", "role"], *str_error))
    expect_validation(api.post(f"/organizations/{org_id}/join", as_user=api.new_user(), json={"invite_code": value}),
                      (["body", "invite_code"], *str_error))


@pytest.mark.parametrize("body", [b"[]", b'["name", "subnet"]', b'"text"', b"42", b"true", b"null"])
def test_a_json_body_that_is_not_an_object(api, world, unchanged, body):
    owner, org_id = world["owner"], world["org"]["id"]
    not_a_dict = (["body"], "value is not a valid dict", "type_error.dict")
    expect_validation(raw(api, "POST", "/register", body), not_a_dict)
    expect_validation(raw(api, "POST", "/organizations", body, owner), not_a_dict)
    expect_validation(raw(api, "POST", f"/organizations/{org_id}/allocate_ip", body, owner), not_a_dict)
    expect_validation(raw(api, "POST", f"/organizations/{org_id}/invites", body, owner), not_a_dict)


# -- malformed JSON ----------------------------------------------------------------------------------

@pytest.mark.parametrize("body, offset", [
    (b'{"name": "n", "subnet": ', 24),
    (b'{"name": "n" "subnet": "10.0.0.0/24"}', 13),
    (b"{'name': 'n'}", 1),
    (b'{"name": "n", "subnet": "10.0.0.0/24",}', 38),
    (b'{"name": "n", "subnet": "10.0.0.0/24"} trailing', 39),
    (b'{"name": "n", "subnet": "10.0.0.0/24"}/* comment */', 38),
    (b'{"name": NaN, "subnet": "10.0.0.0/24"}', 9),
    (b'{"name": "n", "max": Infinity}', 21),
    (b"\xef\xbb\xbf{}", 0),
    (b" ", 1),
])
def test_malformed_json_reports_the_byte_offset(api, world, unchanged, body, offset):
    expect_validation(raw(api, "POST", "/organizations", body, world["owner"]),
                      (["body", offset], "Expecting value", "value_error.jsondecode"))


@pytest.mark.parametrize("text", [
    b"\xff", b"\xc3\x28", b"\xc0\xaf", b"\xed\xa0\x80", b"\xf8\x88\x80\x80\x80", b"\xf4\x90\x80\x80", b"\xe2\x82",
])
def test_invalid_utf8_in_a_json_body(api, world, unchanged, text):
    owner = world["owner"]
    body = b'{"name": "bad' + text + b'", "subnet": "10.0.0.0/24"}'
    response = raw(api, "POST", "/organizations", body, owner)
    [error] = expect_json(response, 422)["detail"]
    assert error["loc"][0] == "body" and isinstance(error["loc"][1], int) and error["type"] == "value_error.jsondecode"
    response = raw(api, "POST", "/register", b'{"email": "a' + text + b'@example.com", "password": "password123"}')
    [error] = expect_json(response, 422)["detail"]
    assert error["type"] == "value_error.jsondecode"


def test_a_lone_surrogate_escape_is_malformed_json(api, world, unchanged):
    body = b'{"name": "\\ud800", "subnet": "10.0.0.0/24"}'
    [error] = expect_json(raw(api, "POST", "/organizations", body, world["owner"]), 422)["detail"]
    assert error["type"] == "value_error.jsondecode"


def test_invalid_utf8_in_the_login_form(api, world, unchanged):
    response = raw(api, "POST", "/login", b"username=%ff%fe&password=password123",
                   content_type="application/x-www-form-urlencoded")
    expect_validation(response, (["body", "username"], "invalid UTF-8", "value_error.unicode"))


def test_duplicate_keys_are_refused(api, world, unchanged):
    owner, member, org_id = world["owner"], world["member"], world["org"]["id"]
    body = b'{"name": "first", "subnet": "10.0.0.0/24", "name": "second"}'
    [error] = expect_json(raw(api, "POST", "/organizations", body, owner), 422)["detail"]
    assert (error["msg"], error["type"]) == ("Duplicate key", "value_error.jsondecode")
    assert error["loc"][0] == "body" and isinstance(error["loc"][1], int) and len(error["loc"]) == 2
    body = b'{"role": "member", "role": "admin"}'
    [error] = expect_json(raw(api, "PATCH", f"/organizations/{org_id}/members/{member.id}", body, owner), 422)["detail"]
    assert (error["loc"][0], error["msg"]) == ("body", "Duplicate key")
    body = b'{"email": "a@example.com", "password": "password123", "x": {"k": 1, "k": 2}}'
    [error] = expect_json(raw(api, "POST", "/register", body), 422)["detail"]
    assert error["msg"] == "Duplicate key"
    form = b"username=a%40example.com&password=x&password=y"
    expect_validation(raw(api, "POST", "/login", form, content_type="application/x-www-form-urlencoded"),
                      (["body", "password"], "Duplicate key", "value_error.duplicate"))


@pytest.mark.parametrize("depth", [33, 1000, 10_000])  # 10 000 levels of {"a":1} still fit in 64 KiB
def test_deeply_nested_json_is_refused(api, world, unchanged, depth):
    owner, org_id = world["owner"], world["org"]["id"]
    arrays = depth - 1  # inside the body object
    nested = b'{"name": "n", "subnet": "10.0.0.0/24", "x": ' + b"[" * arrays + b"]" * arrays + b"}"
    [error] = expect_json(raw(api, "POST", "/organizations", nested, owner), 422)["detail"]
    assert (error["msg"], error["type"]) == ("JSON nested too deeply", "value_error.jsondecode")
    objects = b'{"a":' * depth + b"1" + b"}" * depth
    [error] = expect_json(raw(api, "POST", f"/organizations/{org_id}/allocate_ip", objects, owner), 422)["detail"]
    assert error["msg"] == "JSON nested too deeply"


def test_nesting_of_32_levels_is_fine(api, world, unchanged):
    body = b'{"email": "x", "password": "y", "extra": ' + b"[" * 31 + b"]" * 31 + b"}"
    expect_validation(raw(api, "POST", "/register", body),
                      (["body", "email"], "value is not a valid email address", "value_error.email"),
                      (["body", "password"], "ensure this value has at least 8 characters",
                       "value_error.any_str.min_length"))


# -- numbers out of range ----------------------------------------------------------------------------

@pytest.mark.parametrize("literal, msg, kind", [
    (b"0", "ensure this value is greater than or equal to 1", "value_error.number.not_ge"),
    (b"-9223372036854775808", "ensure this value is greater than or equal to 1", "value_error.number.not_ge"),
    (b"9223372036854775807", "ensure this value is less than or equal to 1000000", "value_error.number.not_le"),
    (b"18446744073709551615", "ensure this value is less than or equal to 9223372036854775807",
     "value_error.number.not_le"),
    (b"18446744073709551616", "value is not a valid integer", "type_error.integer"),
    (b"-9223372036854775809", "value is not a valid integer", "type_error.integer"),
    (b"2.0", "value is not a valid integer", "type_error.integer"),
    (b"1e3", "value is not a valid integer", "type_error.integer"),
])
def test_numbers_out_of_range(api, world, unchanged, literal, msg, kind):
    owner, org_id = world["owner"], world["org"]["id"]
    response = raw(api, "POST", f"/organizations/{org_id}/invites", b'{"max_uses": ' + literal + b"}", owner)
    expect_validation(response, (["body", "max_uses"], msg, kind))


@pytest.mark.parametrize("literal", [b"1" + b"0" * 400, b"1e400", b"-1e400"])
def test_numbers_beyond_a_double_are_not_json_we_accept(api, world, unchanged, literal):
    """Numbers that only fit as infinity have no JSON form to send on: refused as malformed JSON."""
    owner, org_id = world["owner"], world["org"]["id"]
    body = b'{"max_uses": ' + literal + b"}"
    response = raw(api, "POST", f"/organizations/{org_id}/invites", body, owner)
    expect_validation(response, (["body", len(body) - 1], "Number out of range", "value_error.jsondecode"))


# -- NUL and control characters ----------------------------------------------------------------------

def test_nul_characters_are_refused_where_text_must_be_printable(api, world, unchanged):
    owner, member, org_id = world["owner"], world["member"], world["org"]["id"]
    expect_validation(api.post("/register", json={"email": "nul\u0000@example.com", "password": DEFAULT_PASSWORD}),
                      (["body", "email"], "value is not a valid email address", "value_error.email"))
    expect_validation(api.post("/organizations", as_user=owner, json={"name": "a\u0000b", "subnet": "10.0.0.0/24"}),
                      (["body", "name"], "value must not contain control characters", "value_error.control_characters"))
    expect_validation(api.post("/organizations", as_user=owner, json={"name": "n", "subnet": "10.0.0.0/24\u0000"}),
                      (["body", "subnet"], "value is not a valid IPv4 network", "value_error.ipv4network"))
    expect_validation(api.post(f"/organizations/{org_id}/allocate_ip", as_user=member, json={"agent_id": "a\u0000"}),
                      (["body", "agent_id"], "agent_id must be 1 to 128 printable characters", "value_error.agent_id"))
    expect_validation(api.post(f"/organizations/{org_id}/allocate_ip", as_user=member,
                               json={"agent_id": "n", "virtual_ip": "10.77.0.9\u0000"}),
                      (["body", "virtual_ip"], "value is not a valid IPv4 address", "value_error.ipv4address"))
    expect_validation(api.patch(f"/organizations/{org_id}/members/{member.id}", as_user=owner,
                                json={"role": "admin\u0000"}),
                      (["body", "role"], None, "type_error.enum"))
    expect_error(api.post("/login", json={"email": member.email + "\u0000", "password": DEFAULT_PASSWORD}), 401,
                 "Incorrect email or password")


def test_raw_nul_bytes_in_json_are_malformed(api, world, unchanged):
    body = b'{"name": "a\x00b", "subnet": "10.0.0.0/24"}'
    expect_validation(raw(api, "POST", "/organizations", body, world["owner"]),
                      (["body", 11], "Expecting value", "value_error.jsondecode"))
    expect_validation(raw(api, "POST", "/organizations", b"\x00", world["owner"]),
                      (["body", 0], "Expecting value", "value_error.jsondecode"))


def test_nul_in_path_segments(api, world, unchanged):
    owner, org_id = world["owner"], world["org"]["id"]
    expect_validation(api.get(f"/organizations/{org_id}%00/members", as_user=owner),
                      (["path", "org_id"], "value is not a valid integer", "type_error.integer"))
    expect_validation(api.delete(f"/organizations/{org_id}/ips/10.77.0.1%00", as_user=owner),
                      (["path", "virtual_ip"], "value is not a valid IPv4 address", "value_error.ipv4address"))


# -- wrong content types -----------------------------------------------------------------------------

@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data",
                                          "application/xml", "application/jsonx", "json"])
def test_non_json_content_types_are_refused(api, world, unchanged, content_type):
    body = json.dumps({"name": "n", "subnet": "10.0.0.0/24"}).encode()
    expect_error(raw(api, "POST", "/organizations", body, world["owner"], content_type=content_type), 415,
                 "Content-Type must be application/json")


def test_json_variants_of_the_content_type_are_accepted(api):
    owner = api.new_user()
    for content_type in ("application/json", "Application/JSON", "application/json; charset=utf-8",
                         "application/merge-patch+json"):
        body = json.dumps({"name": content_type, "subnet": "10.0.0.0/24"}).encode()
        assert expect_ok(raw(api, "POST", "/organizations", body, owner, content_type=content_type))["name"] == \
            content_type
