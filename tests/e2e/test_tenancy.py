"""Tenant isolation (PROTOCOL.md §0.3, §0.4): a member of organization A, whatever its role there,
is refused every request on organization B, and B is left exactly as it was."""

from __future__ import annotations

import pytest

from harness import expect_error, expect_ok

NOT_MEMBER = "You are not a member of this organization"


@pytest.fixture
def tenants(api):
    """Two invite-only organizations on the same subnet, each with an owner, an admin and a member
    holding addresses; A's people are strangers to B."""
    world = {}
    for tag in ("a", "b"):
        owner, admin, member = api.new_user(f"{tag}-owner"), api.new_user(f"{tag}-admin"), api.new_user(f"{tag}-member")
        org = api.create_org(owner, subnet="10.99.0.0/24", join_policy="invite")
        for user in (admin, member):
            code = expect_ok(api.post(f"/organizations/{org['id']}/invites", as_user=owner, json={}))["code"]
            api.join(user, org["id"], invite_code=code)
        api.set_role(owner, org["id"], admin.id, "admin")
        for user in (owner, admin, member):
            api.allocate(user, org["id"])
        api.allocate(member, org["id"], agent_id="phone")
        world[tag] = {"org": org, "owner": owner, "admin": admin, "member": member}
    return world


def snapshot(api, side):
    """Everything B's owner can see of B."""
    org_id, owner = side["org"]["id"], side["owner"]
    return {
        "org": expect_ok(api.get(f"/organizations/{org_id}", as_user=owner)),
        "members": api.members(owner, org_id),
        "ips": api.ips(owner, org_id),
        "orgs": api.organizations(owner),
    }


def hostile_requests(a, b):
    """(method, path, body) that a user of A sends against B."""
    org_b = b["org"]["id"]
    return [
        ("GET", f"/organizations/{org_b}", None),
        ("GET", f"/organizations/{org_b}/members", None),
        ("GET", f"/organizations/{org_b}/ips", None),
        ("POST", f"/organizations/{org_b}/allocate_ip", {}),
        ("POST", f"/organizations/{org_b}/allocate_ip", {"virtual_ip": "10.99.0.200"}),
        ("POST", f"/organizations/{org_b}/allocate_ip", {"agent_id": "sneaky"}),
        ("POST", f"/organizations/{org_b}/invites", {}),
        ("POST", f"/organizations/{org_b}/invites", {"max_uses": 100}),
        ("DELETE", f"/organizations/{org_b}/ips/10.99.0.1", None),
        ("DELETE", f"/organizations/{org_b}/ips/10.99.0.3", None),
        ("DELETE", f"/organizations/{org_b}/members/{b['member'].id}", None),
        ("DELETE", f"/organizations/{org_b}/members/{b['admin'].id}", None),
        ("DELETE", f"/organizations/{org_b}/members/{b['owner'].id}", None),
        ("PATCH", f"/organizations/{org_b}/members/{b['member'].id}", {"role": "admin"}),
        ("PATCH", f"/organizations/{org_b}/members/{b['admin'].id}", {"role": "member"}),
    ]


@pytest.mark.parametrize("role", ["owner", "admin", "member"])
def test_a_user_of_one_organization_is_refused_everything_on_another(api, tenants, role):
    a, b = tenants["a"], tenants["b"]
    attacker = a[role]
    before = snapshot(api, b)
    for method, path, body in hostile_requests(a, b):
        kwargs = {} if body is None else {"json": body}
        response = api.request(method, path, as_user=attacker, **kwargs)
        expect_error(response, 403, NOT_MEMBER)
    assert snapshot(api, b) == before
    assert all(o["id"] != b["org"]["id"] for o in api.organizations(attacker))


def test_removing_oneself_from_another_organization_is_refused(api, tenants):
    a, b = tenants["a"], tenants["b"]
    before = snapshot(api, b)
    expect_error(api.delete(f"/organizations/{b['org']['id']}/members/{a['member'].id}", as_user=a["member"]), 403,
                 NOT_MEMBER)
    assert snapshot(api, b) == before


def test_an_invite_code_of_one_organization_does_not_open_another(api, tenants):
    a, b = tenants["a"], tenants["b"]
    code_a = expect_ok(api.post(f"/organizations/{a['org']['id']}/invites", as_user=a["owner"],
                                json={"max_uses": 10}))["code"]
    outsider = api.new_user()
    before = snapshot(api, b)
    expect_error(api.post(f"/organizations/{b['org']['id']}/join", as_user=outsider, json={"invite_code": code_a}),
                 403, "Invalid, expired or used-up invite code")
    expect_error(api.post(f"/organizations/{b['org']['id']}/join", as_user=a["owner"], json={"invite_code": code_a}),
                 403, "Invalid, expired or used-up invite code")
    assert snapshot(api, b) == before


def test_same_subnet_addresses_stay_separate(api, tenants):
    a, b = tenants["a"], tenants["b"]
    # Both organizations handed out the same addresses, each to its own people.
    ips_a = api.ips(a["owner"], a["org"]["id"])
    ips_b = api.ips(b["owner"], b["org"]["id"])
    assert [x["virtual_ip"] for x in ips_a] == [x["virtual_ip"] for x in ips_b] == \
        ["10.99.0.1", "10.99.0.2", "10.99.0.3", "10.99.0.4"]
    people_a = {a[r].id for r in ("owner", "admin", "member")}
    people_b = {b[r].id for r in ("owner", "admin", "member")}
    assert {x["user_id"] for x in ips_a} == people_a
    assert {x["user_id"] for x in ips_b} == people_b
    # Releasing in A never touches B's equal address.
    expect_ok(api.delete(f"/organizations/{a['org']['id']}/ips/10.99.0.1", as_user=a["owner"]))
    assert api.ips(b["owner"], b["org"]["id"]) == ips_b


def test_listings_only_show_the_callers_organization(api, tenants):
    a, b = tenants["a"], tenants["b"]
    emails_b = {b[r].email for r in ("owner", "admin", "member")}
    for role in ("owner", "admin", "member"):
        user = a[role]
        assert not emails_b & {m["email"] for m in api.members(user, a["org"]["id"])}
        assert not emails_b & {x["email"] for x in api.ips(user, a["org"]["id"])}
        assert [o["id"] for o in api.organizations(user)] == [a["org"]["id"]]
