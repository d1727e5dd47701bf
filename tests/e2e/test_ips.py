"""Virtual IPs: allocate, list, release (PROTOCOL.md §4)."""

from __future__ import annotations

import ipaddress
from datetime import timedelta

import pytest

from harness import (
    assert_recent, expect_error, expect_ok, expect_status_error, expect_validation, utcnow,
)

NOT_MEMBER = "You are not a member of this organization"
FULL = "No free IP address in subnet"
TAKEN = "Virtual IP already allocated"
NOT_ALLOCATED = "Virtual IP not allocated"


def allocate_path(org_id):
    return f"/organizations/{org_id}/allocate_ip"


def ip_path(org_id, address):
    return f"/organizations/{org_id}/ips/{address}"


def addresses(api, user, org_id):
    return [a["virtual_ip"] for a in api.ips(user, org_id)]


@pytest.fixture
def org_with_owner(api):
    owner = api.new_user("owner")
    return api.create_org(owner, subnet="10.20.0.0/24"), owner


# -- allocate ----------------------------------------------------------------------------------------

def test_allocate_answers_the_lowest_host_address(api, org_with_owner):
    org, owner = org_with_owner
    before = utcnow()
    allocation = expect_ok(api.post(allocate_path(org["id"]), as_user=owner, json={}))
    assert set(allocation) == {"organization_id", "user_id", "agent_id", "virtual_ip", "allocated_at"}
    assert (allocation["organization_id"], allocation["user_id"], allocation["agent_id"], allocation["virtual_ip"]) \
        == (org["id"], owner.id, None, "10.20.0.1")
    assert_recent(allocation["allocated_at"], before, utcnow())


def test_allocate_without_a_body(api, org_with_owner):
    org, owner = org_with_owner
    assert expect_ok(api.post(allocate_path(org["id"]), as_user=owner))["virtual_ip"] == "10.20.0.1"


def test_allocate_is_idempotent(api, org_with_owner):
    org, owner = org_with_owner
    first = api.allocate(owner, org["id"])
    assert api.allocate(owner, org["id"]) == first
    assert api.allocate(owner, org["id"], agent_id=None) == first
    assert addresses(api, owner, org["id"]) == ["10.20.0.1"]


def test_members_get_consecutive_addresses(api, org_with_owner):
    org, owner = org_with_owner
    users = [owner] + [api.new_user() for _ in range(3)]
    for user in users[1:]:
        api.join(user, org["id"])
    got = [api.allocate(user, org["id"])["virtual_ip"] for user in users]
    assert got == ["10.20.0.1", "10.20.0.2", "10.20.0.3", "10.20.0.4"]


def test_each_device_of_a_user_gets_its_own_address(api, org_with_owner):
    org, owner = org_with_owner
    own = api.allocate(owner, org["id"])
    laptop = api.allocate(owner, org["id"], agent_id="laptop")
    phone = api.allocate(owner, org["id"], agent_id="phone")
    assert (own["agent_id"], laptop["agent_id"], phone["agent_id"]) == (None, "laptop", "phone")
    assert [own["virtual_ip"], laptop["virtual_ip"], phone["virtual_ip"]] == ["10.20.0.1", "10.20.0.2", "10.20.0.3"]
    assert api.allocate(owner, org["id"], agent_id="laptop") == laptop


def test_two_users_may_use_the_same_agent_id(api, org_with_owner):
    org, owner = org_with_owner
    other = api.new_user()
    api.join(other, org["id"])
    mine = api.allocate(owner, org["id"], agent_id="agent-123")
    theirs = api.allocate(other, org["id"], agent_id="agent-123")
    assert mine["virtual_ip"] != theirs["virtual_ip"]


def test_agent_id_accepts_1_to_128_printable_characters(api, org_with_owner):
    org, owner = org_with_owner
    for agent_id in ("a", "x" * 128, "路由器-1", "with space", "'; DROP TABLE allocations; --"):
        assert api.allocate(owner, org["id"], agent_id=agent_id)["agent_id"] == agent_id
    listed = {a["agent_id"] for a in api.ips(owner, org["id"])}
    assert "'; DROP TABLE allocations; --" in listed and "x" * 128 in listed


@pytest.mark.parametrize("agent_id", ["", "x" * 129, "tab\tchar", "nul\u0000", "esc\u001b[31m", "bidi\u202e"])
def test_agent_id_out_of_bounds_is_refused(api, org_with_owner, agent_id):
    org, owner = org_with_owner
    expect_validation(api.post(allocate_path(org["id"]), as_user=owner, json={"agent_id": agent_id}),
                      (["body", "agent_id"], "agent_id must be 1 to 128 printable characters", "value_error.agent_id"))
    assert api.ips(owner, org["id"]) == []


def test_allocate_fields_must_be_strings(api, org_with_owner):
    org, owner = org_with_owner
    expect_validation(api.post(allocate_path(org["id"]), as_user=owner, json={"agent_id": 7, "virtual_ip": 169082881}),
                      (["body", "agent_id"], "str type expected", "type_error.str"),
                      (["body", "virtual_ip"], "str type expected", "type_error.str"))
    assert api.ips(owner, org["id"]) == []


def test_allocate_a_specific_address(api, org_with_owner):
    org, owner = org_with_owner
    chosen = api.allocate(owner, org["id"], virtual_ip="10.20.0.77")
    assert (chosen["virtual_ip"], chosen["agent_id"]) == ("10.20.0.77", None)
    assert api.allocate(owner, org["id"], virtual_ip="10.20.0.77") == chosen  # idempotent
    assert api.allocate(owner, org["id"]) == chosen


def test_automatic_allocation_skips_a_specifically_taken_address(api, org_with_owner):
    org, owner = org_with_owner
    api.allocate(owner, org["id"], agent_id="fixed", virtual_ip="10.20.0.2")
    got = [api.allocate(owner, org["id"], agent_id=f"d{i}")["virtual_ip"] for i in range(3)]
    assert got == ["10.20.0.1", "10.20.0.3", "10.20.0.4"]


def test_a_specific_address_held_by_someone_else_is_a_conflict(api, org_with_owner):
    org, owner = org_with_owner
    other = api.new_user()
    api.join(other, org["id"])
    api.allocate(owner, org["id"], virtual_ip="10.20.0.9")
    expect_error(api.post(allocate_path(org["id"]), as_user=other, json={"virtual_ip": "10.20.0.9"}), 409, TAKEN)
    api.allocate(owner, org["id"], agent_id="auto")  # takes 10.20.0.1
    expect_error(api.post(allocate_path(org["id"]), as_user=other, json={"virtual_ip": "10.20.0.1"}), 409, TAKEN)
    assert [(a["user_id"], a["virtual_ip"]) for a in api.ips(owner, org["id"])] == \
        [(owner.id, "10.20.0.1"), (owner.id, "10.20.0.9")]


def test_a_device_holding_an_address_cannot_ask_for_another(api, org_with_owner):
    org, owner = org_with_owner
    api.allocate(owner, org["id"])
    expect_error(api.post(allocate_path(org["id"]), as_user=owner, json={"virtual_ip": "10.20.0.50"}), 409,
                 "This device already holds another virtual IP")
    assert addresses(api, owner, org["id"]) == ["10.20.0.1"]


@pytest.mark.parametrize("address, msg, kind", [
    ("10.20.1.5", "address is not a host address of the organization subnet 10.20.0.0/24",
     "value_error.ipv4address.outside_subnet"),
    ("10.20.0.0", "address is not a host address of the organization subnet 10.20.0.0/24",
     "value_error.ipv4address.outside_subnet"),
    ("10.20.0.255", "address is not a host address of the organization subnet 10.20.0.0/24",
     "value_error.ipv4address.outside_subnet"),
    ("192.168.0.1", "address is not a host address of the organization subnet 10.20.0.0/24",
     "value_error.ipv4address.outside_subnet"),
    ("10.20.0.256", "value is not a valid IPv4 address", "value_error.ipv4address"),
    ("10.20.0", "value is not a valid IPv4 address", "value_error.ipv4address"),
    ("010.20.0.1", "value is not a valid IPv4 address", "value_error.ipv4address"),
    ("10.20.0.1/32", "value is not a valid IPv4 address", "value_error.ipv4address"),
    ("::1", "value is not a valid IPv4 address", "value_error.ipv4address"),
    ("::ffff:10.20.0.1", "value is not a valid IPv4 address", "value_error.ipv4address"),
    ("", "value is not a valid IPv4 address", "value_error.ipv4address"),
    ("localhost", "value is not a valid IPv4 address", "value_error.ipv4address"),
])
def test_a_specific_address_must_be_a_host_of_the_subnet(api, org_with_owner, address, msg, kind):
    org, owner = org_with_owner
    expect_validation(api.post(allocate_path(org["id"]), as_user=owner, json={"virtual_ip": address}),
                      (["body", "virtual_ip"], msg, kind))
    assert api.ips(owner, org["id"]) == []


def test_allocate_refuses_non_members_and_unknown_organizations(api, org_with_owner):
    org, owner = org_with_owner
    outsider = api.new_user()
    expect_error(api.post(allocate_path(org["id"]), as_user=outsider, json={}), 403, NOT_MEMBER)
    expect_error(api.post(allocate_path(org["id"]), as_user=outsider, json={"virtual_ip": "10.20.0.5"}), 403,
                 NOT_MEMBER)
    expect_error(api.post(allocate_path(10_000_000), as_user=outsider, json={}), 404, "Organization not found")
    assert api.ips(owner, org["id"]) == []


def test_a_slash_30_holds_two_hosts_then_is_full(api):
    owner, second, third = api.new_user(), api.new_user(), api.new_user()
    org = api.create_org(owner, subnet="10.30.0.0/30")
    api.join(second, org["id"])
    api.join(third, org["id"])
    assert api.allocate(owner, org["id"])["virtual_ip"] == "10.30.0.1"
    assert api.allocate(second, org["id"])["virtual_ip"] == "10.30.0.2"
    expect_error(api.post(allocate_path(org["id"]), as_user=third, json={}), 409, FULL)
    expect_error(api.post(allocate_path(org["id"]), as_user=owner, json={"agent_id": "extra"}), 409, FULL)
    for address in ("10.30.0.0", "10.30.0.3"):  # network and broadcast are never handed out
        expect_validation(api.post(allocate_path(org["id"]), as_user=third, json={"virtual_ip": address}),
                          (["body", "virtual_ip"], None, "value_error.ipv4address.outside_subnet"))
    assert addresses(api, owner, org["id"]) == ["10.30.0.1", "10.30.0.2"]
    # Freeing one makes room again.
    expect_ok(api.delete(ip_path(org["id"], "10.30.0.1"), as_user=owner))
    assert api.allocate(third, org["id"])["virtual_ip"] == "10.30.0.1"
    expect_error(api.post(allocate_path(org["id"]), as_user=owner, json={}), 409, FULL)


# -- list --------------------------------------------------------------------------------------------

def test_list_is_ordered_by_address_with_emails_and_online_false(api, org_with_owner):
    org, owner = org_with_owner
    other = api.new_user()
    api.join(other, org["id"])
    api.allocate(other, org["id"], virtual_ip="10.20.0.200")
    api.allocate(owner, org["id"], agent_id="b", virtual_ip="10.20.0.100")
    api.allocate(owner, org["id"], virtual_ip="10.20.0.30")
    api.allocate(other, org["id"], agent_id="phone")  # 10.20.0.1
    before = utcnow()
    listed = expect_ok(api.get(f"/organizations/{org['id']}/ips", as_user=other))
    for entry in listed:
        assert set(entry) == {"user_id", "email", "agent_id", "virtual_ip", "allocated_at", "online"}
        assert entry["online"] is False
        assert_recent(entry["allocated_at"], before - timedelta(minutes=1), before)
    assert [(a["virtual_ip"], a["user_id"], a["email"], a["agent_id"]) for a in listed] == [
        ("10.20.0.1", other.id, other.email, "phone"),
        ("10.20.0.30", owner.id, owner.email, None),
        ("10.20.0.100", owner.id, owner.email, "b"),
        ("10.20.0.200", other.id, other.email, None),
    ]


def test_list_orders_numerically_not_as_text(api):
    owner = api.new_user()
    org = api.create_org(owner, subnet="10.0.0.0/16")
    for address in ("10.0.10.1", "10.0.2.1", "10.0.1.200", "10.0.1.3"):
        api.allocate(owner, org["id"], agent_id=address, virtual_ip=address)
    listed = addresses(api, owner, org["id"])
    assert listed == sorted(listed, key=ipaddress.IPv4Address) == ["10.0.1.3", "10.0.1.200", "10.0.2.1", "10.0.10.1"]


def test_list_refuses_non_members_and_unknown_organizations(api, org_with_owner):
    org, owner = org_with_owner
    outsider = api.new_user()
    expect_error(api.get(f"/organizations/{org['id']}/ips", as_user=outsider), 403, NOT_MEMBER)
    expect_error(api.get("/organizations/10000000/ips", as_user=outsider), 404, "Organization not found")


# -- release -----------------------------------------------------------------------------------------

def test_the_holder_releases_its_address_and_it_is_reused(api, org_with_owner):
    org, owner = org_with_owner
    member = api.new_user()
    api.join(member, org["id"])
    api.allocate(owner, org["id"])                       # .1
    held = api.allocate(member, org["id"])               # .2
    api.allocate(owner, org["id"], agent_id="laptop")    # .3
    released = expect_ok(api.delete(ip_path(org["id"], "10.20.0.2"), as_user=member))
    assert released == held
    assert addresses(api, owner, org["id"]) == ["10.20.0.1", "10.20.0.3"]
    again = api.allocate(member, org["id"], agent_id="new-device")
    assert again["virtual_ip"] == "10.20.0.2"
    assert api.allocate(owner, org["id"], agent_id="next")["virtual_ip"] == "10.20.0.4"


def test_lowest_released_address_is_reused_first(api, org_with_owner):
    org, owner = org_with_owner
    for i in range(5):
        api.allocate(owner, org["id"], agent_id=f"d{i}")  # .1 .. .5
    for address in ("10.20.0.4", "10.20.0.2"):
        expect_ok(api.delete(ip_path(org["id"], address), as_user=owner))
    assert api.allocate(owner, org["id"], agent_id="n1")["virtual_ip"] == "10.20.0.2"
    assert api.allocate(owner, org["id"], agent_id="n2")["virtual_ip"] == "10.20.0.4"
    assert api.allocate(owner, org["id"], agent_id="n3")["virtual_ip"] == "10.20.0.6"


def test_a_released_address_can_be_asked_for_specifically(api, org_with_owner):
    org, owner = org_with_owner
    for i in range(3):
        api.allocate(owner, org["id"], agent_id=f"d{i}")
    expect_ok(api.delete(ip_path(org["id"], "10.20.0.2"), as_user=owner))
    assert api.allocate(owner, org["id"], agent_id="pick", virtual_ip="10.20.0.2")["virtual_ip"] == "10.20.0.2"
    assert api.allocate(owner, org["id"], agent_id="auto")["virtual_ip"] == "10.20.0.4"


def test_a_released_specific_address_above_the_others_is_free_again(api, org_with_owner):
    org, owner = org_with_owner
    api.allocate(owner, org["id"], agent_id="far", virtual_ip="10.20.0.9")
    expect_ok(api.delete(ip_path(org["id"], "10.20.0.9"), as_user=owner))
    other = api.new_user()
    api.join(other, org["id"])
    assert api.allocate(other, org["id"], virtual_ip="10.20.0.9")["user_id"] == other.id


def test_owner_and_admin_release_anyones_address_members_only_their_own(api, org_with_owner):
    org, owner = org_with_owner
    admin, member, other = api.new_user(), api.new_user(), api.new_user()
    for user in (admin, member, other):
        api.join(user, org["id"])
    api.set_role(owner, org["id"], admin.id, "admin")
    api.allocate(member, org["id"])                                    # .1
    api.allocate(other, org["id"])                                     # .2
    api.allocate(owner, org["id"])                                     # .3
    expect_status_error(api.delete(ip_path(org["id"], "10.20.0.1"), as_user=other), 403)
    expect_status_error(api.delete(ip_path(org["id"], "10.20.0.3"), as_user=member), 403)
    assert addresses(api, owner, org["id"]) == ["10.20.0.1", "10.20.0.2", "10.20.0.3"]
    assert expect_ok(api.delete(ip_path(org["id"], "10.20.0.1"), as_user=admin))["user_id"] == member.id
    assert expect_ok(api.delete(ip_path(org["id"], "10.20.0.2"), as_user=owner))["user_id"] == other.id
    assert expect_ok(api.delete(ip_path(org["id"], "10.20.0.3"), as_user=admin))["user_id"] == owner.id
    assert api.ips(owner, org["id"]) == []


def test_releasing_an_unallocated_address(api, org_with_owner):
    org, owner = org_with_owner
    expect_error(api.delete(ip_path(org["id"], "10.20.0.1"), as_user=owner), 404, NOT_ALLOCATED)
    expect_error(api.delete(ip_path(org["id"], "192.168.0.1"), as_user=owner), 404, NOT_ALLOCATED)
    api.allocate(owner, org["id"])
    expect_ok(api.delete(ip_path(org["id"], "10.20.0.1"), as_user=owner))
    expect_error(api.delete(ip_path(org["id"], "10.20.0.1"), as_user=owner), 404, NOT_ALLOCATED)


@pytest.mark.parametrize("address", ["abc", "10.20.0", "10.20.0.256", "010.20.0.1", "10.20.0.1:80", "::1",
                                     "10.20.0.1 "])
def test_releasing_something_that_is_not_an_ipv4_address(api, org_with_owner, address):
    org, owner = org_with_owner
    api.allocate(owner, org["id"])
    expect_validation(api.delete(ip_path(org["id"], address), as_user=owner),
                      (["path", "virtual_ip"], "value is not a valid IPv4 address", "value_error.ipv4address"))
    assert addresses(api, owner, org["id"]) == ["10.20.0.1"]


def test_release_refuses_non_members_and_unknown_organizations(api, org_with_owner):
    org, owner = org_with_owner
    api.allocate(owner, org["id"])
    outsider = api.new_user()
    expect_error(api.delete(ip_path(org["id"], "10.20.0.1"), as_user=outsider), 403, NOT_MEMBER)
    expect_error(api.delete(ip_path(10_000_000, "10.20.0.1"), as_user=outsider), 404, "Organization not found")
    assert addresses(api, owner, org["id"]) == ["10.20.0.1"]


# -- the per-member quota (PROTOCOL.md §4: MAX_ADDRESSES_PER_MEMBER) ---------------------------------

QUOTA = "Address quota exceeded: a member may hold at most {} addresses in an organization"


def test_a_plain_member_holds_at_most_16_addresses_by_default(api, org_with_owner):
    org, owner = org_with_owner
    member = api.new_user("member")
    api.join(member, org["id"])
    got = [api.allocate(member, org["id"], agent_id=f"d{i}")["virtual_ip"] for i in range(16)]
    assert len(set(got)) == 16
    expect_error(api.post(allocate_path(org["id"]), as_user=member, json={"agent_id": "d16"}), 409, QUOTA.format(16))
    expect_error(api.post(allocate_path(org["id"]), as_user=member, json={"virtual_ip": "10.20.0.200"}), 409,
                 QUOTA.format(16))
    # What the member holds is still theirs (idempotent), and the others are not held back.
    assert api.allocate(member, org["id"], agent_id="d3")["virtual_ip"] == got[3]
    late = api.new_user("late")
    api.join(late, org["id"])
    assert api.allocate(late, org["id"])["virtual_ip"] == "10.20.0.17"
    # Releasing one makes room again.
    expect_ok(api.delete(ip_path(org["id"], got[0]), as_user=member))
    assert api.allocate(member, org["id"], agent_id="d16")["virtual_ip"] == got[0]


def test_owners_and_admins_are_not_limited(start_server):
    client = start_server(env={"MAX_ADDRESSES_PER_MEMBER": "2"}).client()
    owner = client.new_user("owner")
    org = client.create_org(owner, subnet="10.21.0.0/24")
    admin = client.new_user("admin")
    client.join(admin, org["id"])
    client.set_role(owner, org["id"], admin.id, "admin")
    for user in (owner, admin):
        assert len({client.allocate(user, org["id"], agent_id=f"d{i}")["virtual_ip"] for i in range(5)}) == 5
    member = client.new_user("member")
    client.join(member, org["id"])
    client.allocate(member, org["id"], agent_id="a")
    client.allocate(member, org["id"], agent_id="b")
    expect_error(client.post(allocate_path(org["id"]), as_user=member, json={"agent_id": "c"}), 409,
                 QUOTA.format(2))
    # A member demoted from admin keeps what it holds but gets no more.
    client.set_role(owner, org["id"], admin.id, "member")
    expect_error(client.post(allocate_path(org["id"]), as_user=admin, json={"agent_id": "x"}), 409, QUOTA.format(2))
    assert len(client.ips(owner, org["id"])) == 12


def test_the_quota_holds_under_concurrent_requests(start_server):
    """One member fires 30 allocations with distinct agent ids at once: exactly the quota lands."""
    from test_concurrency import race

    server = start_server(env={"MAX_ADDRESSES_PER_MEMBER": "4", "DATABASE_THREADS": "8"})
    client = server.client()
    owner = client.new_user("owner")
    org = client.create_org(owner, subnet="10.22.0.0/24")
    member = client.new_user("member")
    client.join(member, org["id"])
    responses = race(client, 30, lambda c, i: c.post(allocate_path(org["id"]), as_user=member,
                                                      json={"agent_id": f"dev{i}"}))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] * 4 + [409] * 26, statuses
    assert len(client.ips(owner, org["id"])) == 4


def test_a_quota_of_zero_means_no_limit(start_server):
    client = start_server(env={"MAX_ADDRESSES_PER_MEMBER": "0"}).client()
    owner = client.new_user("owner")
    org = client.create_org(owner, subnet="10.23.0.0/27")
    member = client.new_user("member")
    client.join(member, org["id"])
    assert len({client.allocate(member, org["id"], agent_id=f"d{i}")["virtual_ip"] for i in range(30)}) == 30
    expect_error(client.post(allocate_path(org["id"]), as_user=member, json={"agent_id": "more"}), 409, FULL)
