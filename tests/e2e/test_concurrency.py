"""Races (PROTOCOL.md §4: "the database enforces it"): many clients released at the same instant
against one uniqueness rule; exactly the allowed number win and the state shows no duplicate."""

from __future__ import annotations

import threading

from harness import DEFAULT_PASSWORD, Client, expect_error, expect_ok, unique_email


def race(api, count, request):
    """Runs request(client, i) in `count` threads, each with its own connection, all released by
    one barrier; returns the responses in thread order."""
    start = threading.Barrier(count)
    responses = [None] * count
    failures = []

    def run(i):
        client = Client(api.base_url)
        try:
            start.wait(timeout=60)
            responses[i] = request(client, i)
        except Exception as failure:  # reported below
            failures.append(failure)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not failures, failures
    assert not any(thread.is_alive() for thread in threads)
    return responses


def allocate_path(org_id):
    return f"/organizations/{org_id}/allocate_ip"


def test_40_users_allocating_at_once_get_40_distinct_addresses(api):
    owner = api.new_user()
    org = api.create_org(owner, subnet="10.40.0.0/24")
    users = [api.new_user(f"c{i}") for i in range(40)]
    for user in users:
        api.join(user, org["id"])
    responses = race(api, 40, lambda client, i: client.post(allocate_path(org["id"]), as_user=users[i], json={}))
    allocations = [expect_ok(r) for r in responses]
    assert [a["user_id"] for a in allocations] == [u.id for u in users]
    got = [a["virtual_ip"] for a in allocations]
    assert sorted(got) == sorted(f"10.40.0.{i}" for i in range(1, 41))  # distinct, and the 40 lowest
    listed = api.ips(owner, org["id"])
    assert sorted(x["virtual_ip"] for x in listed) == sorted(got)
    assert {x["virtual_ip"]: x["user_id"] for x in listed} == {a["virtual_ip"]: a["user_id"] for a in allocations}


def test_one_device_allocating_many_times_at_once_gets_one_address(api):
    owner = api.new_user()
    org = api.create_org(owner, subnet="10.41.0.0/24")
    responses = race(api, 20, lambda client, i: client.post(allocate_path(org["id"]), as_user=owner,
                                                             json={"agent_id": "same"}))
    assert {expect_ok(r)["virtual_ip"] for r in responses} == {"10.41.0.1"}
    assert [x["virtual_ip"] for x in api.ips(owner, org["id"])] == ["10.41.0.1"]


def test_a_full_subnet_is_never_overfilled(api):
    owner = api.new_user()
    org = api.create_org(owner, subnet="10.42.0.0/29")  # 6 hosts
    users = [api.new_user() for _ in range(12)]
    for user in users:
        api.join(user, org["id"])
    responses = race(api, 12, lambda client, i: client.post(allocate_path(org["id"]), as_user=users[i], json={}))
    won = [r for r in responses if r.status_code == 200]
    for r in responses:
        if r.status_code != 200:
            expect_error(r, 409, "No free IP address in subnet")
    assert sorted(r.json()["virtual_ip"] for r in won) == [f"10.42.0.{i}" for i in range(1, 7)]
    assert len(api.ips(owner, org["id"])) == 6


def test_one_specific_address_asked_for_by_many_goes_to_one(api):
    owner = api.new_user()
    org = api.create_org(owner, subnet="10.43.0.0/24")
    users = [api.new_user() for _ in range(10)]
    for user in users:
        api.join(user, org["id"])
    responses = race(api, 10, lambda client, i: client.post(allocate_path(org["id"]), as_user=users[i],
                                                            json={"virtual_ip": "10.43.0.10"}))
    winners = [i for i, r in enumerate(responses) if r.status_code == 200]
    assert len(winners) == 1
    for i, r in enumerate(responses):
        if i not in winners:
            expect_error(r, 409, "Virtual IP already allocated")
    assert [(x["virtual_ip"], x["user_id"]) for x in api.ips(owner, org["id"])] == \
        [("10.43.0.10", users[winners[0]].id)]


def test_registering_one_email_at_once_creates_one_account(api):
    email = unique_email("race")
    responses = race(api, 10, lambda client, i: client.post("/register", json={"email": email,
                                                                               "password": f"password-{i}"}))
    winners = [i for i, r in enumerate(responses) if r.status_code == 200]
    assert len(winners) == 1
    for i, r in enumerate(responses):
        if i not in winners:
            expect_error(r, 409, "Email already registered")
    assert api.login(email, f"password-{winners[0]}")


def test_joining_at_once_makes_one_membership(api):
    owner, joiner = api.new_user(), api.new_user()
    org = api.create_org(owner)
    responses = race(api, 10, lambda client, i: client.post(f"/organizations/{org['id']}/join", as_user=joiner,
                                                            json={}))
    assert sorted(r.status_code for r in responses) == [200] + [409] * 9
    assert [m["user_id"] for m in api.members(owner, org["id"])] == [owner.id, joiner.id]


def test_an_invite_code_is_never_used_more_than_max_uses(api):
    owner = api.new_user()
    org = api.create_org(owner, join_policy="invite")
    code = expect_ok(api.post(f"/organizations/{org['id']}/invites", as_user=owner, json={"max_uses": 3}))["code"]
    users = [api.new_user() for _ in range(10)]
    responses = race(api, 10, lambda client, i: client.post(f"/organizations/{org['id']}/join", as_user=users[i],
                                                            json={"invite_code": code}))
    joined = [users[i].id for i, r in enumerate(responses) if r.status_code == 200]
    assert len(joined) == 3
    for r in responses:
        if r.status_code != 200:
            expect_error(r, 403, "Invalid, expired or used-up invite code")
    assert sorted(m["user_id"] for m in api.members(owner, org["id"])[1:]) == sorted(joined)


def test_concurrent_logins_all_succeed(api):
    user = api.register()
    responses = race(api, 10, lambda client, i: client.post("/login", json={"email": user["email"],
                                                                            "password": DEFAULT_PASSWORD}))
    tokens = {expect_ok(r)["access_token"] for r in responses}
    assert len(tokens) == 10  # each carries its own jti
