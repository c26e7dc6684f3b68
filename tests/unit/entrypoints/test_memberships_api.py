"""Memberships and invitations over HTTP (api.md 3; requests.md 1.5, 1.6, 1.8, 1.10) through the TestClient."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from application.handlers.accounts import CreateUser
from entrypoints.container import Container
from tests.unit.entrypoints.portal_world import (
    FORBIDDEN,
    INVALID_TOKEN,
    MAIN,
    NOT_FOUND,
    NOT_PROVIDED,
    OLD,
    OTHER,
    Client,
    World,
    load_world,
    ok,
    refused,
    result_ids,
    stored_state,
)

MEMBERSHIPS = "/api/memberships/"
INVITATIONS = "/api/invitations/"
MEMBERSHIP_KEYS = {
    "id",
    "username",
    "first_name",
    "last_name",
    "email",
    "role",
    "proposal",
    "time_limit",
    "time_used_by_user",
    "simple_interface",
}


@pytest.fixture
def world(container: Container) -> Iterator[World]:
    yield from load_world(container)


def member_id(world: World, proposal_id: str, username: str) -> int:
    return world.membership_ids[(proposal_id, username)]


def stored_limit(container: Container, world: World, username: str) -> int:
    proposal = container.memory_store().proposals[MAIN]
    membership = proposal.membership_of(world.user_ids[username])
    assert membership is not None
    return membership.time_limit_s


# --- Reading memberships ------------------------------------------------------------------------------------


def test_memberships_list_in_the_portal_shape(client: Client, world: World) -> None:
    body = ok(client.get(MEMBERSHIPS, headers=world.headers("pi")))
    assert body["count"] == 3
    ci = next(m for m in body["results"] if m["username"] == "ci")
    assert set(ci) == MEMBERSHIP_KEYS
    assert ci == {
        "id": member_id(world, MAIN, "ci"),
        "username": "ci",
        "first_name": "Charles",
        "last_name": "Babbage",
        "email": "charles@example.org",
        "role": "CI",
        "proposal": MAIN,
        "time_limit": -1,
        "time_used_by_user": 0.0,
        "simple_interface": False,
    }


@pytest.mark.parametrize(
    ("username", "expected"),
    [
        # The PI sees every membership of the proposals they lead.
        ("pi", {(MAIN, "pi"), (MAIN, "ci"), (OLD, "pi")}),
        # A CI sees only their own.
        ("ci", {(MAIN, "ci")}),
        ("outsider", {(OTHER, "outsider")}),
        ("user", set()),
        ("staffview", {(MAIN, "pi"), (MAIN, "ci"), (OLD, "pi"), (OTHER, "outsider")}),
    ],
)
def test_each_caller_lists_the_memberships_they_may_see(
    client: Client, world: World, username: str, expected: set[tuple[str, str]]
) -> None:
    body = ok(client.get(MEMBERSHIPS, headers=world.headers(username), params={"limit": 100}))
    assert {(m["proposal"], m["username"]) for m in body["results"]} == expected


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"proposal": MAIN}, {(MAIN, "pi"), (MAIN, "ci")}),
        ({"role": "CI"}, {(MAIN, "ci")}),
        ({"role": "pi"}, {(MAIN, "pi"), (OLD, "pi"), (OTHER, "outsider")}),
        ({"username": "outs"}, {(OTHER, "outsider")}),
        ({"first_name": "charl"}, {(MAIN, "ci")}),
        ({"last_name": "LOVELACE"}, {(MAIN, "pi"), (OLD, "pi")}),
        ({"email": "olive@"}, {(OTHER, "outsider")}),
        ({"proposal": MAIN, "role": "PI"}, {(MAIN, "pi")}),
    ],
)
def test_membership_filters(
    client: Client, world: World, params: dict[str, str], expected: set[tuple[str, str]]
) -> None:
    body = ok(client.get(MEMBERSHIPS, headers=world.headers("staffview"), params=params))
    assert {(m["proposal"], m["username"]) for m in body["results"]} == expected


def test_membership_list_pages(client: Client, world: World) -> None:
    first = ok(client.get(MEMBERSHIPS, headers=world.headers("staffview"), params={"limit": 2}))
    assert first["count"] == 4
    assert len(first["results"]) == 2
    rest = ok(client.get(first["next"], headers=world.headers("staffview")))
    assert len(rest["results"]) == 2
    assert rest["next"] is None
    seen = [m["id"] for m in first["results"] + rest["results"]]
    assert seen == sorted(seen)


def test_memberships_read_one_by_one(client: Client, world: World) -> None:
    ci_membership = member_id(world, MAIN, "ci")
    assert ok(client.get(f"{MEMBERSHIPS}{ci_membership}", headers=world.headers("pi")))["username"] == "ci"
    assert ok(client.get(f"{MEMBERSHIPS}{ci_membership}/", headers=world.headers("ci")))["role"] == "CI"


@pytest.mark.parametrize(
    ("username", "proposal_id", "member"),
    [("ci", MAIN, "pi"), ("outsider", MAIN, "ci"), ("pi", OTHER, "outsider"), ("staff", MAIN, "pi")],
)
def test_memberships_the_caller_may_not_see_are_not_found(
    client: Client, world: World, username: str, proposal_id: str, member: str
) -> None:
    path = f"{MEMBERSHIPS}{member_id(world, proposal_id, member)}/"
    assert refused(client.get(path, headers=world.headers(username))) == (404, NOT_FOUND)
    assert refused(client.get(f"{MEMBERSHIPS}99999/", headers=world.headers(username))) == (404, NOT_FOUND)


# --- Time limits --------------------------------------------------------------------------------------------


def limit(client: Client, world: World, username: str, membership_id: int, body: Any) -> Any:
    return client.post(f"{MEMBERSHIPS}{membership_id}/limit/", json=body, headers=world.headers(username))


def test_pi_sets_a_ci_time_limit_named_after_the_member(client: Client, world: World, container: Container) -> None:
    response = limit(client, world, "pi", member_id(world, MAIN, "ci"), {"time_limit_hours": 1.0})
    assert ok(response) == {"message": "Time limit for Charles Babbage set to 1.0 hours"}
    assert stored_limit(container, world, "ci") == 3600
    served = ok(client.get(f"{MEMBERSHIPS}{member_id(world, MAIN, 'ci')}/", headers=world.headers("ci")))
    assert served["time_limit"] == 3600


def test_limit_message_uses_the_username_of_a_member_without_names(client: Client, world: World) -> None:
    ok(client.post(f"/api/proposals/{MAIN}/invite/", json={"emails": ["sv@example.org"]}, headers=world.headers("pi")))
    found = ok(client.get(MEMBERSHIPS, headers=world.headers("pi"), params={"username": "staffview"}))["results"]
    response = limit(client, world, "pi", found[0]["id"], {"time_limit_hours": "2"})
    assert ok(response) == {"message": "Time limit for staffview set to 2.0 hours"}


def test_negative_hours_mean_no_limit(client: Client, world: World, container: Container) -> None:
    ok(limit(client, world, "pi", member_id(world, MAIN, "ci"), {"time_limit_hours": 3}))
    ok(limit(client, world, "pi", member_id(world, MAIN, "ci"), {"time_limit_hours": -1}))
    assert stored_limit(container, world, "ci") == -1


@pytest.mark.parametrize(
    ("username", "member", "body", "answer"),
    [
        ("pi", "pi", {"time_limit_hours": 1}, (400, {"detail": "Cannot set a time limit on a PI membership"})),
        ("pi", "ci", {}, (400, {"time_limit_hours": ["This field is required."]})),
        ("pi", "ci", {"time_limit_hours": "soon"}, (400, {"time_limit_hours": ["A valid number is required."]})),
        ("ci", "ci", {"time_limit_hours": 100}, (403, FORBIDDEN)),
        ("ci", "pi", {"time_limit_hours": 100}, (403, FORBIDDEN)),
        ("outsider", "ci", {"time_limit_hours": 1}, (404, NOT_FOUND)),
        ("staff", "ci", {"time_limit_hours": 1}, (404, NOT_FOUND)),
    ],
)
def test_refused_limits_change_nothing(
    client: Client,
    world: World,
    container: Container,
    username: str,
    member: str,
    body: dict[str, Any],
    answer: tuple[int, Any],
) -> None:
    before = stored_state(container)
    assert refused(limit(client, world, username, member_id(world, MAIN, member), body)) == answer
    assert stored_state(container) == before


# --- Removing members ---------------------------------------------------------------------------------------


def test_pi_removes_a_ci(client: Client, world: World) -> None:
    response = client.delete(f"{MEMBERSHIPS}{member_id(world, MAIN, 'ci')}/", headers=world.headers("pi"))
    assert response.status_code == 204
    assert response.content == b""
    assert result_ids(client.get(MEMBERSHIPS, headers=world.headers("ci"))) == []
    assert refused(client.get(f"/api/proposals/{MAIN}/", headers=world.headers("ci"))) == (404, NOT_FOUND)
    assert ok(client.get("/api/profile/", headers=world.headers("ci")))["proposals"] == []


@pytest.mark.parametrize(
    ("username", "member", "answer"),
    [
        ("pi", "pi", (400, {"detail": "Cannot remove the PI of a proposal"})),
        ("ci", "ci", (403, FORBIDDEN)),
        ("ci", "pi", (403, FORBIDDEN)),
        ("outsider", "ci", (404, NOT_FOUND)),
    ],
)
def test_refused_removals_change_nothing(
    client: Client, world: World, container: Container, username: str, member: str, answer: tuple[int, Any]
) -> None:
    before = stored_state(container)
    response = client.delete(f"{MEMBERSHIPS}{member_id(world, MAIN, member)}", headers=world.headers(username))
    assert refused(response) == answer
    assert stored_state(container) == before


# --- Invitations --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("username", "expected"),
    [("pi", [MAIN]), ("ci", []), ("outsider", [OTHER]), ("staffview", [MAIN, OTHER]), ("user", [])],
)
def test_invitations_are_listed_to_the_pi_and_staff_view(
    client: Client, world: World, username: str, expected: list[str]
) -> None:
    body = ok(client.get(INVITATIONS, headers=world.headers(username)))
    assert [i["proposal"] for i in body["results"]] == expected


def test_invitation_shape(client: Client, world: World) -> None:
    body = ok(client.get(f"{INVITATIONS}{world.invitation_ids[MAIN]}", headers=world.headers("pi")))
    assert body == {
        "id": world.invitation_ids[MAIN],
        "role": "CI",
        "email": "newcomer@example.org",
        "time_limit": 3600,
        "sent": "2026-11-20T12:00:00Z",
        "used": None,
        "proposal": MAIN,
    }


def test_invitation_filters(client: Client, world: World, container: Container) -> None:
    container.bus().handle(CreateUser("newcomer", "pw", email="newcomer@example.org"))  # accepts MAIN's invitation
    headers = world.headers("staffview")
    assert result_ids(client.get(INVITATIONS, headers=headers, params={"pending": "true"})) == [
        world.invitation_ids[OTHER]
    ]
    used = ok(client.get(INVITATIONS, headers=headers, params={"pending": "False"}))["results"]
    assert [i["id"] for i in used] == [world.invitation_ids[MAIN]]
    assert used[0]["used"] == "2026-11-20T12:00:00Z"
    assert result_ids(client.get(INVITATIONS, headers=headers, params={"proposal": OTHER})) == [
        world.invitation_ids[OTHER]
    ]
    bad = client.get(INVITATIONS, headers=headers, params={"pending": "perhaps"})
    assert refused(bad) == (400, {"pending": ["Must be a valid boolean."]})


@pytest.mark.parametrize(("username", "proposal_id"), [("ci", MAIN), ("outsider", MAIN), ("pi", OTHER)])
def test_invitations_the_caller_may_not_list_are_not_found(
    client: Client, world: World, username: str, proposal_id: str
) -> None:
    path = f"{INVITATIONS}{world.invitation_ids[proposal_id]}/"
    assert refused(client.get(path, headers=world.headers(username))) == (404, NOT_FOUND)


def test_pi_withdraws_a_pending_invitation(client: Client, world: World) -> None:
    path = f"{INVITATIONS}{world.invitation_ids[MAIN]}/"
    assert client.delete(path, headers=world.headers("pi")).status_code == 204
    assert result_ids(client.get(INVITATIONS, headers=world.headers("pi"))) == []
    assert refused(client.get(path, headers=world.headers("pi"))) == (404, NOT_FOUND)


def test_withdrawing_a_used_invitation_is_a_no_op(client: Client, world: World, container: Container) -> None:
    container.bus().handle(CreateUser("newcomer", "pw", email="newcomer@example.org"))
    before = stored_state(container)
    response = client.delete(f"{INVITATIONS}{world.invitation_ids[MAIN]}", headers=world.headers("pi"))
    assert response.status_code == 204
    assert stored_state(container) == before


@pytest.mark.parametrize(
    ("username", "proposal_id", "answer"),
    [("ci", MAIN, (403, FORBIDDEN)), ("outsider", MAIN, (404, NOT_FOUND)), ("pi", OTHER, (404, NOT_FOUND))],
)
def test_refused_withdrawals_change_nothing(
    client: Client, world: World, container: Container, username: str, proposal_id: str, answer: tuple[int, Any]
) -> None:
    before = stored_state(container)
    path = f"{INVITATIONS}{world.invitation_ids[proposal_id]}/"
    assert refused(client.delete(path, headers=world.headers(username))) == answer
    assert stored_state(container) == before


# --- Credentials --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", MEMBERSHIPS),
        ("GET", f"{MEMBERSHIPS}1/"),
        ("POST", f"{MEMBERSHIPS}2/limit/"),
        ("DELETE", f"{MEMBERSHIPS}2/"),
        ("GET", INVITATIONS),
        ("GET", f"{INVITATIONS}1/"),
        ("DELETE", f"{INVITATIONS}1/"),
    ],
)
def test_membership_endpoints_need_credentials(
    client: Client, world: World, container: Container, method: str, path: str
) -> None:
    before = stored_state(container)
    assert refused(client.request(method, path, json={"time_limit_hours": 1})) == (403, NOT_PROVIDED)
    revoked = {"Authorization": "Token " + "c" * 40}
    assert refused(client.request(method, path, headers=revoked, json={"time_limit_hours": 1})) == (
        403,
        INVALID_TOKEN,
    )
    assert stored_state(container) == before
