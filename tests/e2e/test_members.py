"""Members: list, remove or leave, change role (PROTOCOL.md §3)."""

from __future__ import annotations

import pytest

from harness import expect_error, expect_ok, expect_status_error, expect_validation

NOT_MEMBER = "You are not a member of this organization"
MEMBER_NOT_FOUND = "Member not found"


def members_path(org_id, user_id=None):
    return f"/organizations/{org_id}/members" + ("" if user_id is None else f"/{user_id}")


@pytest.fixture
def team(api):
    """An open organization with an owner, an admin and two plain members."""
    owner, admin, member, other = (api.new_user(tag) for tag in ("owner", "admin", "member", "other"))
    org = api.create_org(owner)
    for user in (admin, member, other):
        api.join(user, org["id"])
    api.set_role(owner, org["id"], admin.id, "admin")
    return org, owner, admin, member, other


def member_ids(api, user, org_id):
    return [m["user_id"] for m in api.members(user, org_id)]


# -- GET members -------------------------------------------------------------------------------------

def test_members_are_listed_in_join_order_with_their_roles(api, team):
    org, owner, admin, member, other = team
    listed = api.members(member, org["id"])
    assert [(m["organization_id"], m["user_id"], m["email"], m["role"]) for m in listed] == [
        (org["id"], owner.id, owner.email, "owner"),
        (org["id"], admin.id, admin.email, "admin"),
        (org["id"], member.id, member.email, "member"),
        (org["id"], other.id, other.email, "member"),
    ]
    joined = [m["joined_at"] for m in listed]
    assert joined == sorted(joined)


def test_members_refuses_non_members_and_unknown_organizations(api, team):
    org = team[0]
    outsider = api.new_user()
    expect_error(api.get(members_path(org["id"]), as_user=outsider), 403, NOT_MEMBER)
    expect_error(api.get(members_path(10_000_000), as_user=outsider), 404, "Organization not found")


# -- DELETE members/{user_id} --------------------------------------------------------------------

def test_owner_removes_a_member_and_its_addresses_are_released(api, team):
    org, owner, admin, member, other = team
    own = api.allocate(member, org["id"])
    device = api.allocate(member, org["id"], agent_id="laptop")
    kept = api.allocate(other, org["id"])
    answer = expect_ok(api.delete(members_path(org["id"], member.id), as_user=owner))
    assert answer == {"organization_id": org["id"], "user_id": member.id,
                      "released_ips": [own["virtual_ip"], device["virtual_ip"]]}
    assert member_ids(api, owner, org["id"]) == [owner.id, admin.id, other.id]
    assert [a["virtual_ip"] for a in api.ips(owner, org["id"])] == [kept["virtual_ip"]]
    # The removed member has lost its access ...
    expect_error(api.get(members_path(org["id"]), as_user=member), 403, NOT_MEMBER)
    expect_error(api.post(f"/organizations/{org['id']}/allocate_ip", as_user=member, json={}), 403, NOT_MEMBER)
    assert api.organizations(member) == []
    # ... and its addresses are handed out again, lowest first.
    assert api.allocate(admin, org["id"])["virtual_ip"] == own["virtual_ip"]
    assert api.allocate(owner, org["id"])["virtual_ip"] == device["virtual_ip"]


def test_owner_removes_an_admin(api, team):
    org, owner, admin, member, other = team
    answer = expect_ok(api.delete(members_path(org["id"], admin.id), as_user=owner))
    assert answer == {"organization_id": org["id"], "user_id": admin.id, "released_ips": []}
    assert member_ids(api, owner, org["id"]) == [owner.id, member.id, other.id]


def test_a_removed_user_may_join_again_as_a_plain_member(api, team):
    org, owner, admin, member, other = team
    expect_ok(api.delete(members_path(org["id"], admin.id), as_user=owner))
    assert api.join(admin, org["id"])["role"] == "member"


def test_admin_removes_a_plain_member(api, team):
    org, owner, admin, member, other = team
    expect_ok(api.delete(members_path(org["id"], member.id), as_user=admin))
    assert member_ids(api, owner, org["id"]) == [owner.id, admin.id, other.id]


def test_admin_may_not_remove_the_owner_or_another_admin(api, team):
    org, owner, admin, member, other = team
    api.set_role(owner, org["id"], other.id, "admin")
    expect_status_error(api.delete(members_path(org["id"], owner.id), as_user=admin), 403)
    expect_status_error(api.delete(members_path(org["id"], other.id), as_user=admin), 403)
    assert member_ids(api, owner, org["id"]) == [owner.id, admin.id, member.id, other.id]


def test_plain_member_may_not_remove_anyone_else(api, team):
    org, owner, admin, member, other = team
    for target in (owner, admin, other):
        expect_status_error(api.delete(members_path(org["id"], target.id), as_user=member), 403)
    assert member_ids(api, owner, org["id"]) == [owner.id, admin.id, member.id, other.id]


def test_a_member_leaves_by_removing_itself(api, team):
    org, owner, admin, member, other = team
    address = api.allocate(member, org["id"])["virtual_ip"]
    answer = expect_ok(api.delete(members_path(org["id"], member.id), as_user=member))
    assert answer == {"organization_id": org["id"], "user_id": member.id, "released_ips": [address]}
    assert member_ids(api, owner, org["id"]) == [owner.id, admin.id, other.id]
    assert api.ips(owner, org["id"]) == []


def test_an_admin_may_leave(api, team):
    org, owner, admin, member, other = team
    expect_ok(api.delete(members_path(org["id"], admin.id), as_user=admin))
    assert member_ids(api, owner, org["id"]) == [owner.id, member.id, other.id]


def test_the_owner_cannot_leave(api, team):
    org, owner = team[0], team[1]
    address = api.allocate(owner, org["id"])["virtual_ip"]
    expect_error(api.delete(members_path(org["id"], owner.id), as_user=owner), 409,
                 "The owner cannot leave the organization")
    assert api.members(owner, org["id"])[0]["role"] == "owner"
    assert [a["virtual_ip"] for a in api.ips(owner, org["id"])] == [address]


def test_removing_a_user_who_is_not_a_member(api, team):
    org, owner, admin = team[0], team[1], team[2]
    stranger = api.new_user()
    expect_error(api.delete(members_path(org["id"], stranger.id), as_user=owner), 404, MEMBER_NOT_FOUND)
    expect_error(api.delete(members_path(org["id"], 10_000_000), as_user=admin), 404, MEMBER_NOT_FOUND)


def test_removing_twice(api, team):
    org, owner, member = team[0], team[1], team[3]
    expect_ok(api.delete(members_path(org["id"], member.id), as_user=owner))
    expect_error(api.delete(members_path(org["id"], member.id), as_user=owner), 404, MEMBER_NOT_FOUND)


def test_remove_refuses_non_members_and_unknown_organizations(api, team):
    org, owner, member = team[0], team[1], team[3]
    outsider = api.new_user()
    expect_error(api.delete(members_path(org["id"], member.id), as_user=outsider), 403, NOT_MEMBER)
    expect_error(api.delete(members_path(10_000_000, member.id), as_user=outsider), 404, "Organization not found")
    assert member_ids(api, owner, org["id"])[2] == member.id


def test_member_ids_in_the_path_must_be_integers(api, team):
    org, owner = team[0], team[1]
    for method, body in (("DELETE", None), ("PATCH", {"role": "admin"})):
        response = api.request(method, members_path(org["id"], "me"), as_user=owner,
                               **({"json": body} if body else {}))
        expect_validation(response, (["path", "user_id"], "value is not a valid integer", "type_error.integer"))
        response = api.request(method, members_path("x", owner.id), as_user=owner, **({"json": body} if body else {}))
        expect_validation(response, (["path", "org_id"], "value is not a valid integer", "type_error.integer"))


# -- PATCH members/{user_id} -----------------------------------------------------------------------

def test_owner_promotes_and_demotes(api, team):
    org, owner, admin, member, other = team
    promoted = expect_ok(api.patch(members_path(org["id"], member.id), as_user=owner, json={"role": "admin"}))
    assert set(promoted) == {"organization_id", "user_id", "email", "role", "joined_at"}
    assert (promoted["organization_id"], promoted["user_id"], promoted["email"], promoted["role"]) == \
        (org["id"], member.id, member.email, "admin")
    listed = {m["user_id"]: m for m in api.members(owner, org["id"])}
    assert listed[member.id] == promoted
    demoted = expect_ok(api.patch(members_path(org["id"], admin.id), as_user=owner, json={"role": "member"}))
    assert demoted["role"] == "member"
    assert [m["role"] for m in api.members(owner, org["id"])] == ["owner", "member", "admin", "member"]
    # Promotion gives the admin's powers: the new admin removes a plain member.
    expect_ok(api.delete(members_path(org["id"], other.id), as_user=member))


def test_setting_the_same_role_again_is_harmless(api, team):
    org, owner, admin = team[0], team[1], team[2]
    assert expect_ok(api.patch(members_path(org["id"], admin.id), as_user=owner, json={"role": "admin"}))["role"] \
        == "admin"


def test_only_the_owner_changes_roles(api, team):
    org, owner, admin, member, other = team
    expect_status_error(api.patch(members_path(org["id"], member.id), as_user=admin, json={"role": "admin"}), 403)
    expect_status_error(api.patch(members_path(org["id"], other.id), as_user=member, json={"role": "admin"}), 403)
    expect_status_error(api.patch(members_path(org["id"], member.id), as_user=member, json={"role": "admin"}), 403)
    assert [m["role"] for m in api.members(owner, org["id"])] == ["owner", "admin", "member", "member"]


def test_the_owners_role_cannot_change(api, team):
    org, owner = team[0], team[1]
    expect_error(api.patch(members_path(org["id"], owner.id), as_user=owner, json={"role": "member"}), 409,
                 "The owner's role cannot be changed")
    assert api.members(owner, org["id"])[0]["role"] == "owner"


@pytest.mark.parametrize("body, msg, kind", [
    ({"role": "owner"}, "value is not a valid enumeration member; permitted: 'admin', 'member'", "type_error.enum"),
    ({"role": "superuser"}, "value is not a valid enumeration member; permitted: 'admin', 'member'", "type_error.enum"),
    ({"role": "Admin"}, "value is not a valid enumeration member; permitted: 'admin', 'member'", "type_error.enum"),
    ({"role": ""}, "value is not a valid enumeration member; permitted: 'admin', 'member'", "type_error.enum"),
    ({"role": 1}, "str type expected", "type_error.str"),
    ({"role": None}, "field required", "value_error.missing"),
    ({}, "field required", "value_error.missing"),
])
def test_role_must_be_admin_or_member(api, team, body, msg, kind):
    org, owner, member = team[0], team[1], team[3]
    expect_validation(api.patch(members_path(org["id"], member.id), as_user=owner, json=body),
                      (["body", "role"], msg, kind))
    assert [m["role"] for m in api.members(owner, org["id"])] == ["owner", "admin", "member", "member"]


def test_role_change_needs_a_body(api, team):
    org, owner, member = team[0], team[1], team[3]
    expect_validation(api.patch(members_path(org["id"], member.id), as_user=owner),
                      (["body"], "field required", "value_error.missing"))


def test_role_change_of_a_non_member(api, team):
    org, owner = team[0], team[1]
    expect_error(api.patch(members_path(org["id"], api.new_user().id), as_user=owner, json={"role": "admin"}), 404,
                 MEMBER_NOT_FOUND)


def test_role_change_refuses_non_members_and_unknown_organizations(api, team):
    org, owner, member = team[0], team[1], team[3]
    outsider = api.new_user()
    expect_error(api.patch(members_path(org["id"], member.id), as_user=outsider, json={"role": "admin"}), 403,
                 NOT_MEMBER)
    assert [m["role"] for m in api.members(owner, org["id"])] == ["owner", "admin", "member", "member"]
    expect_error(api.patch(members_path(10_000_000, member.id), as_user=outsider, json={"role": "admin"}), 404,
                 "Organization not found")
