"""Organizations: create, list, show, join, invite codes (PROTOCOL.md §3)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from harness import (
    assert_recent, expect_error, expect_ok, expect_status_error, expect_validation, unique_name, utcnow,
)

NOT_FOUND = "Organization not found"
NOT_MEMBER = "You are not a member of this organization"
BAD_INVITE = "Invalid, expired or used-up invite code"
NEEDS_INVITE = "This organization requires an invite code"


def org_path(org_id, tail=""):
    return f"/organizations/{org_id}{tail}"


# -- POST /organizations ---------------------------------------------------------------------------

def test_create_answers_the_organization_and_makes_the_creator_its_owner(api):
    owner = api.new_user()
    name = unique_name()
    before = utcnow()
    org = expect_ok(api.post("/organizations", as_user=owner, json={"name": name, "subnet": "10.0.0.0/24"}))
    after = utcnow()
    assert set(org) == {"id", "name", "subnet", "owner_id", "join_policy", "created_at"}
    assert isinstance(org["id"], int) and org["id"] > 0
    assert (org["name"], org["subnet"], org["owner_id"], org["join_policy"]) == (name, "10.0.0.0/24", owner.id, "open")
    assert_recent(org["created_at"], before, after)
    [member] = api.members(owner, org["id"])
    assert set(member) == {"organization_id", "user_id", "email", "role", "joined_at"}
    assert (member["organization_id"], member["user_id"], member["email"], member["role"]) == \
        (org["id"], owner.id, owner.email, "owner")
    assert_recent(member["joined_at"], before, after)


def test_create_with_an_invite_policy(api):
    owner = api.new_user()
    org = api.create_org(owner, join_policy="invite")
    assert org["join_policy"] == "invite"
    assert api.create_org(owner, join_policy="open")["join_policy"] == "open"


def test_two_organizations_may_share_a_subnet(api):
    owner = api.new_user()
    first = api.create_org(owner, subnet="192.168.1.0/24")
    second = api.create_org(api.new_user(), subnet="192.168.1.0/24")
    assert first["id"] != second["id"] and first["subnet"] == second["subnet"]


NOT_PRIVATE = ("subnet must lie inside a private or shared range: 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16 "
               "or 100.64.0.0/10")


@pytest.mark.parametrize("subnet", ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/30", "100.64.12.0/22",
                                    "172.31.255.0/24", "100.127.255.252/30"])
def test_create_accepts_prefixes_from_8_to_30(api, subnet):
    assert api.create_org(api.new_user(), subnet=subnet)["subnet"] == subnet


@pytest.mark.parametrize("subnet, msg, kind", [
    ("10.0.0.5/24", "host bits must be zero (did you mean 10.0.0.0/24?)", "value_error.ipv4network.host_bits"),
    ("10.0.0.0/7", "prefix length must be between 8 and 30", "value_error.ipv4network.prefix"),
    ("10.0.0.0/31", "prefix length must be between 8 and 30", "value_error.ipv4network.prefix"),
    ("10.0.0.0/32", "prefix length must be between 8 and 30", "value_error.ipv4network.prefix"),
    ("0.0.0.0/0", "prefix length must be between 8 and 30", "value_error.ipv4network.prefix"),
    ("10.0.0.0", "value is not a valid IPv4 network", "value_error.ipv4network"),
    ("10.0.0.0/33", "value is not a valid IPv4 network", "value_error.ipv4network"),
    ("10.0.0/24", "value is not a valid IPv4 network", "value_error.ipv4network"),
    ("256.0.0.0/24", "value is not a valid IPv4 network", "value_error.ipv4network"),
    ("010.0.0.0/24", "value is not a valid IPv4 network", "value_error.ipv4network"),
    ("10.0.0.0/024", "value is not a valid IPv4 network", "value_error.ipv4network"),
    ("10.0.0.0/-1", "value is not a valid IPv4 network", "value_error.ipv4network"),
    (" 10.0.0.0/24", "value is not a valid IPv4 network", "value_error.ipv4network"),
    ("fd00::/64", "value is not a valid IPv4 network", "value_error.ipv4network"),
    ("", "value is not a valid IPv4 network", "value_error.ipv4network"),
    ("banana", "value is not a valid IPv4 network", "value_error.ipv4network"),
    # Only private (RFC 1918) and shared (RFC 6598) space; a suggestion only when itself valid.
    *[(subnet, NOT_PRIVATE, "value_error.ipv4network.not_private") for subnet in [
        "127.0.0.0/8", "127.0.0.0/24", "224.0.0.0/24", "0.0.0.0/8", "8.8.8.0/24", "169.254.0.0/16",
        "172.32.0.0/16", "100.128.0.0/16", "192.0.2.0/24", "255.255.255.0/24"]],
    ("10.0.0.0/0", "prefix length must be between 8 and 30", "value_error.ipv4network.prefix"),
    ("127.0.0.1/8", "host bits must be zero", "value_error.ipv4network.host_bits"),
])
def test_create_refuses_an_invalid_subnet(api, subnet, msg, kind):
    owner = api.new_user()
    expect_validation(api.post("/organizations", as_user=owner, json={"name": "n", "subnet": subnet}),
                      (["body", "subnet"], msg, kind))
    assert api.organizations(owner) == []


@pytest.mark.parametrize("name, msg, kind", [
    ("", "ensure this value has at least 1 characters", "value_error.any_str.min_length"),
    ("n" * 101, "ensure this value has at most 100 characters", "value_error.any_str.max_length"),
    ("é" * 101, "ensure this value has at most 100 characters", "value_error.any_str.max_length"),
    ("   ", "value must not be blank", "value_error.blank"),
    ("tab\there", "value must not contain control characters", "value_error.control_characters"),
    ("new\nline", "value must not contain control characters", "value_error.control_characters"),
    ("nul\u0000byte", "value must not contain control characters", "value_error.control_characters"),
    ("del\u007f", "value must not contain control characters", "value_error.control_characters"),
    ("c1\u0085", "value must not contain control characters", "value_error.control_characters"),
    ("bidi\u202eoverride", "value must not contain control characters", "value_error.control_characters"),
])
def test_create_refuses_an_invalid_name(api, name, msg, kind):
    owner = api.new_user()
    expect_validation(api.post("/organizations", as_user=owner, json={"name": name, "subnet": "10.0.0.0/24"}),
                      (["body", "name"], msg, kind))
    assert api.organizations(owner) == []


def test_create_accepts_names_of_1_and_100_characters(api):
    owner = api.new_user()
    for name in ("x", "n" * 100, "日" * 100, "Ünïcödé org 🚀"):
        assert api.create_org(owner, name=name)["name"] == name


def test_create_refuses_an_unknown_join_policy(api):
    owner = api.new_user()
    for policy in ("closed", "OPEN", ""):
        expect_validation(
            api.post("/organizations", as_user=owner, json={"name": "n", "subnet": "10.0.0.0/24", "join_policy": policy}),
            (["body", "join_policy"], "value is not a valid enumeration member; permitted: 'open', 'invite'",
             "type_error.enum"))
    assert api.organizations(owner) == []


def test_create_reports_every_invalid_field_at_once(api):
    owner = api.new_user()
    expect_validation(api.post("/organizations", as_user=owner, json={}),
                      (["body", "name"], "field required", "value_error.missing"),
                      (["body", "subnet"], "field required", "value_error.missing"))
    expect_validation(api.post("/organizations", as_user=owner, json={"name": 1, "subnet": 2, "join_policy": 3}),
                      (["body", "name"], "str type expected", "type_error.str"),
                      (["body", "subnet"], "str type expected", "type_error.str"),
                      (["body", "join_policy"], "str type expected", "type_error.str"))
    assert api.organizations(owner) == []


# -- GET /organizations, GET /organizations/{id} ---------------------------------------------------

def test_list_answers_the_callers_organizations_ordered_by_id(api):
    alice, bob = api.new_user("alice"), api.new_user("bob")
    assert api.organizations(alice) == []
    first = api.create_org(alice)
    bobs = api.create_org(bob)
    second = api.create_org(alice)
    api.join(alice, bobs["id"])
    listed = api.organizations(alice)
    assert listed == sorted([first, second, bobs], key=lambda o: o["id"])
    assert api.organizations(bob) == [bobs]


def test_show_answers_the_organization_to_its_members(api):
    owner, member = api.new_user(), api.new_user()
    org = api.create_org(owner)
    api.join(member, org["id"])
    assert expect_ok(api.get(org_path(org["id"]), as_user=owner)) == org
    assert expect_ok(api.get(org_path(org["id"]), as_user=member)) == org


def test_show_refuses_non_members_and_unknown_organizations(api):
    org = api.create_org(api.new_user())
    outsider = api.new_user()
    expect_error(api.get(org_path(org["id"]), as_user=outsider), 403, NOT_MEMBER)
    for unknown in (10_000_000, 9223372036854775807):
        expect_error(api.get(org_path(unknown), as_user=outsider), 404, NOT_FOUND)
    for impossible in (0, -1):  # ids are positive: no such organization can exist
        expect_validation(api.get(org_path(impossible), as_user=outsider),
                          (["path", "org_id"], "ensure this value is greater than 0", "value_error.number.not_gt"))


@pytest.mark.parametrize("org_id", ["abc", "1.5", "1e3", "0x10", "99999999999999999999", "%201", "-", "1abc"])
def test_organization_ids_in_the_path_must_be_integers(api, org_id):
    user = api.new_user()
    for method, tail in [("GET", ""), ("POST", "/join"), ("POST", "/invites"), ("GET", "/members"),
                         ("POST", "/allocate_ip"), ("GET", "/ips")]:
        expect_validation(api.request(method, org_path(org_id, tail), as_user=user, json={}),
                          (["path", "org_id"], "value is not a valid integer", "type_error.integer"))


# -- POST /organizations/{id}/join -----------------------------------------------------------------

def test_join_an_open_organization(api):
    owner, joiner = api.new_user(), api.new_user()
    org = api.create_org(owner)
    before = utcnow()
    membership = expect_ok(api.post(org_path(org["id"], "/join"), as_user=joiner))  # no body at all
    after = utcnow()
    assert set(membership) == {"organization_id", "user_id", "email", "role", "joined_at"}
    assert (membership["organization_id"], membership["user_id"], membership["email"], membership["role"]) == \
        (org["id"], joiner.id, joiner.email, "member")
    assert_recent(membership["joined_at"], before, after)
    assert api.members(owner, org["id"])[1] == membership
    assert api.organizations(joiner) == [org]


def test_join_with_an_empty_json_object_body(api):
    org = api.create_org(api.new_user())
    assert api.join(api.new_user(), org["id"])["role"] == "member"


def test_join_an_open_organization_ignores_an_invite_code(api):
    org = api.create_org(api.new_user())
    assert api.join(api.new_user(), org["id"], invite_code="whatever")["role"] == "member"


def test_join_twice_is_a_conflict(api):
    owner, joiner = api.new_user(), api.new_user()
    org = api.create_org(owner)
    api.join(joiner, org["id"])
    expect_error(api.post(org_path(org["id"], "/join"), as_user=joiner, json={}), 409,
                 "Already a member of this organization")
    expect_error(api.post(org_path(org["id"], "/join"), as_user=owner, json={}), 409,
                 "Already a member of this organization")
    assert [m["user_id"] for m in api.members(owner, org["id"])] == [owner.id, joiner.id]


def test_join_an_unknown_organization(api):
    expect_error(api.post(org_path(10_000_000, "/join"), as_user=api.new_user(), json={}), 404, NOT_FOUND)


def test_join_body_must_be_a_json_object_with_a_string_code(api):
    owner, joiner = api.new_user(), api.new_user()
    org = api.create_org(owner, join_policy="invite")
    expect_validation(api.post(org_path(org["id"], "/join"), as_user=joiner, json={"invite_code": 123}),
                      (["body", "invite_code"], "str type expected", "type_error.str"))
    expect_validation(api.post(org_path(org["id"], "/join"), as_user=joiner, json=["code"]),
                      (["body"], "value is not a valid dict", "type_error.dict"))
    expect_error(api.post(org_path(org["id"], "/join"), as_user=joiner, data="invite_code=x",
                          headers={"Content-Type": "application/x-www-form-urlencoded"}),
                 415, "Content-Type must be application/json")
    assert [m["user_id"] for m in api.members(owner, org["id"])] == [owner.id]


# -- invites ----------------------------------------------------------------------------------------

def create_invite(api, user, org_id, **body):
    return api.post(org_path(org_id, "/invites"), as_user=user, json=body)


def test_invite_defaults_to_one_use_for_a_week(api):
    owner = api.new_user()
    org = api.create_org(owner, join_policy="invite")
    before = utcnow()
    invite = expect_ok(api.post(org_path(org["id"], "/invites"), as_user=owner))  # no body
    after = utcnow()
    assert set(invite) == {"code", "max_uses", "expires_at"}
    assert isinstance(invite["code"], str) and len(invite["code"]) >= 16
    assert invite["max_uses"] == 1
    week = 7 * 24 * 3600
    assert_recent(invite["expires_at"], before + timedelta(seconds=week), after + timedelta(seconds=week))


def test_invite_with_explicit_terms(api):
    owner = api.new_user()
    org = api.create_org(owner, join_policy="invite")
    before = utcnow()
    invite = expect_ok(create_invite(api, owner, org["id"], max_uses=3, expires_in=120))
    assert invite["max_uses"] == 3
    assert_recent(invite["expires_at"], before + timedelta(seconds=120), utcnow() + timedelta(seconds=120))
    assert expect_ok(create_invite(api, owner, org["id"], max_uses=1_000_000, expires_in=31_536_000))["max_uses"] \
        == 1_000_000
    assert expect_ok(create_invite(api, owner, org["id"], max_uses=1, expires_in=60))["max_uses"] == 1


def test_invite_codes_are_unique(api):
    owner = api.new_user()
    org = api.create_org(owner, join_policy="invite")
    codes = {expect_ok(create_invite(api, owner, org["id"]))["code"] for _ in range(10)}
    assert len(codes) == 10


def test_join_an_invite_organization_with_a_code(api):
    owner, joiner = api.new_user(), api.new_user()
    org = api.create_org(owner, join_policy="invite")
    code = expect_ok(create_invite(api, owner, org["id"]))["code"]
    membership = api.join(joiner, org["id"], invite_code=code)
    assert (membership["user_id"], membership["role"]) == (joiner.id, "member")


def test_join_an_invite_organization_without_a_code_is_forbidden(api):
    owner, joiner = api.new_user(), api.new_user()
    org = api.create_org(owner, join_policy="invite")
    expect_error(api.post(org_path(org["id"], "/join"), as_user=joiner), 403, NEEDS_INVITE)
    expect_error(api.post(org_path(org["id"], "/join"), as_user=joiner, json={}), 403, NEEDS_INVITE)
    expect_error(api.post(org_path(org["id"], "/join"), as_user=joiner, json={"invite_code": None}), 403,
                 NEEDS_INVITE)
    assert [m["user_id"] for m in api.members(owner, org["id"])] == [owner.id]


def test_join_with_a_wrong_code_is_forbidden(api):
    owner, joiner = api.new_user(), api.new_user()
    org = api.create_org(owner, join_policy="invite")
    code = expect_ok(create_invite(api, owner, org["id"]))["code"]
    for wrong in ("", "x", code[:-1], code.upper() if code.upper() != code else code.lower(), code + "x"):
        expect_error(api.post(org_path(org["id"], "/join"), as_user=joiner, json={"invite_code": wrong}), 403,
                     BAD_INVITE)
    assert [m["user_id"] for m in api.members(owner, org["id"])] == [owner.id]
    api.join(joiner, org["id"], invite_code=code)  # the right code was not used up by the failures


def test_an_invite_code_is_used_up_after_max_uses(api):
    owner = api.new_user()
    org = api.create_org(owner, join_policy="invite")
    code = expect_ok(create_invite(api, owner, org["id"], max_uses=2))["code"]
    first, second, third = api.new_user(), api.new_user(), api.new_user()
    api.join(first, org["id"], invite_code=code)
    api.join(second, org["id"], invite_code=code)
    expect_error(api.post(org_path(org["id"], "/join"), as_user=third, json={"invite_code": code}), 403, BAD_INVITE)
    assert [m["user_id"] for m in api.members(owner, org["id"])] == [owner.id, first.id, second.id]


def test_a_refused_member_does_not_use_up_a_code(api):
    owner, member, newcomer = api.new_user(), api.new_user(), api.new_user()
    org = api.create_org(owner, join_policy="invite")
    code = expect_ok(create_invite(api, owner, org["id"], max_uses=2))["code"]
    api.join(member, org["id"], invite_code=code)
    expect_error(api.post(org_path(org["id"], "/join"), as_user=member, json={"invite_code": code}), 409,
                 "Already a member of this organization")
    api.join(newcomer, org["id"], invite_code=code)  # second use still available


def test_an_expired_invite_code_is_forbidden(api, server):
    owner, joiner = api.new_user(), api.new_user()
    org = api.create_org(owner, join_policy="invite")
    code = expect_ok(create_invite(api, owner, org["id"], expires_in=60))["code"]
    # The shortest lifetime is a minute; age the invite in the database rather than wait for it.
    changed = server.sql("UPDATE invites SET expires_at = expires_at - 3600000000 WHERE organization_id = %s",
                         (org["id"],))
    assert changed == 1
    expect_error(api.post(org_path(org["id"], "/join"), as_user=joiner, json={"invite_code": code}), 403, BAD_INVITE)
    assert [m["user_id"] for m in api.members(owner, org["id"])] == [owner.id]


def test_an_invite_code_only_opens_its_own_organization(api):
    owner = api.new_user()
    org_a = api.create_org(owner, join_policy="invite")
    org_b = api.create_org(owner, join_policy="invite")
    code_a = expect_ok(create_invite(api, owner, org_a["id"], max_uses=5))["code"]
    joiner = api.new_user()
    expect_error(api.post(org_path(org_b["id"], "/join"), as_user=joiner, json={"invite_code": code_a}), 403,
                 BAD_INVITE)
    assert [m["user_id"] for m in api.members(owner, org_b["id"])] == [owner.id]


def test_admins_may_create_invites_but_plain_members_may_not(api):
    owner, admin, member = api.new_user(), api.new_user(), api.new_user()
    org = api.create_org(owner, join_policy="open")
    api.join(admin, org["id"])
    api.join(member, org["id"])
    api.set_role(owner, org["id"], admin.id, "admin")
    assert expect_ok(create_invite(api, admin, org["id"]))["max_uses"] == 1
    expect_status_error(create_invite(api, member, org["id"]), 403)


def test_invite_refuses_non_members_and_unknown_organizations(api):
    org = api.create_org(api.new_user(), join_policy="invite")
    outsider = api.new_user()
    expect_error(create_invite(api, outsider, org["id"]), 403, NOT_MEMBER)
    expect_error(create_invite(api, outsider, 10_000_000), 404, NOT_FOUND)


@pytest.mark.parametrize("body, loc, msg, kind", [
    ({"max_uses": 0}, "max_uses", "ensure this value is greater than or equal to 1", "value_error.number.not_ge"),
    ({"max_uses": -5}, "max_uses", "ensure this value is greater than or equal to 1", "value_error.number.not_ge"),
    ({"max_uses": 1_000_001}, "max_uses", "ensure this value is less than or equal to 1000000",
     "value_error.number.not_le"),
    ({"max_uses": 2 ** 63}, "max_uses", None, "value_error.number.not_le"),
    ({"max_uses": 1.5}, "max_uses", "value is not a valid integer", "type_error.integer"),
    ({"max_uses": "3"}, "max_uses", "value is not a valid integer", "type_error.integer"),
    ({"max_uses": True}, "max_uses", "value is not a valid integer", "type_error.integer"),
    ({"expires_in": 59}, "expires_in", "ensure this value is greater than or equal to 60", "value_error.number.not_ge"),
    ({"expires_in": 31_536_001}, "expires_in", "ensure this value is less than or equal to 31536000",
     "value_error.number.not_le"),
    ({"expires_in": 1e300}, "expires_in", "value is not a valid integer", "type_error.integer"),
    ({"expires_in": [60]}, "expires_in", "value is not a valid integer", "type_error.integer"),
])
def test_invite_terms_out_of_range_are_refused(api, body, loc, msg, kind):
    owner = api.new_user()
    org = api.create_org(owner, join_policy="invite")
    expect_validation(create_invite(api, owner, org["id"], **body), (["body", loc], msg, kind))
