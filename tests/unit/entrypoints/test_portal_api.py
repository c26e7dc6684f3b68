"""Proposals over HTTP (api.md 3, 5.2; requests.md 1.4-1.6, 1.8, 1.10) through the TestClient.

Every refusal is checked twice: the exact answer, and a store that did not change (and no email sent).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from entrypoints.container import Container
from tests.unit.entrypoints.portal_world import (
    FLOYDS,
    FORBIDDEN,
    INVALID_TOKEN,
    MAIN,
    NOT_FOUND,
    NOT_PROVIDED,
    OLD,
    OTHER,
    QHY,
    SINISTRO,
    Client,
    World,
    load_world,
    ok,
    refused,
    result_ids,
    stored_state,
)

API = "/api/proposals/"
PROPOSAL_KEYS = {
    "id",
    "active",
    "title",
    "abstract",
    "tac_priority",
    "tac_rank",
    "sca",
    "public",
    "non_science",
    "direct_submission",
    "tags",
    "pis",
    "requestgroup_count",
    "coi_count",
    "timeallocation_set",
}
ALLOCATION_KEYS = {
    "id",
    "semester",
    "proposal",
    "instrument_types",
    "std_allocation",
    "std_time_used",
    "rr_allocation",
    "rr_time_used",
    "tc_allocation",
    "tc_time_used",
    "realtime_allocation",
    "realtime_time_used",
    "ipp_limit",
    "ipp_time_available",
}


@pytest.fixture
def world(container: Container) -> Iterator[World]:
    yield from load_world(container)


def listed(client: Client, world: World, username: str, **params: Any) -> Any:
    return client.get(API, headers=world.headers(username), params=params)


def membership_of(container: Container, proposal_id: str, user_id: int) -> Any:
    proposal = container.memory_store().proposals[proposal_id]
    return next((m for m in proposal.memberships if m.user_id == user_id), None)


# --- Listing ------------------------------------------------------------------------------------------------


def test_list_is_an_envelope_of_the_callers_proposals_newest_id_first(client: Client, world: World) -> None:
    body = ok(listed(client, world, "pi"))
    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] == 2
    assert body["next"] is None
    assert body["previous"] is None
    assert [p["id"] for p in body["results"]] == [MAIN, OLD]
    assert set(body["results"][0]) >= PROPOSAL_KEYS


@pytest.mark.parametrize(
    ("username", "expected"),
    [
        ("pi", [MAIN, OLD]),
        ("ci", [MAIN]),
        ("outsider", [OTHER]),
        ("user", []),
        ("staff", []),  # staff without staff_view read like anybody else
        ("staffview", [OTHER, MAIN, OLD]),
    ],
)
def test_each_caller_lists_only_what_they_may_read(
    client: Client, world: World, username: str, expected: list[str]
) -> None:
    assert result_ids(listed(client, world, username)) == expected


def test_proposal_lists_need_credentials(client: Client, world: World) -> None:
    for path in (API, f"{API}{MAIN}/", f"{API}tags/"):
        assert refused(client.get(path)) == (403, NOT_PROVIDED)
        assert refused(client.get(path, headers={"Authorization": "Token " + "a" * 40})) == (403, INVALID_TOKEN)


def test_list_pages_with_absolute_links_that_keep_the_other_parameters(client: Client, world: World) -> None:
    first = ok(listed(client, world, "staffview", limit=1, ordering="id"))
    assert first["count"] == 3
    assert [p["id"] for p in first["results"]] == [OLD]
    assert first["previous"] is None
    link = urlsplit(first["next"])
    assert link.scheme == "http"
    assert link.path.rstrip("/") == API.rstrip("/")  # Litestar hands the path over without its optional slash
    assert parse_qs(link.query) == {"ordering": ["id"], "limit": ["1"], "offset": ["1"]}
    second = ok(client.get(first["next"], headers=world.headers("staffview")))
    assert [p["id"] for p in second["results"]] == [MAIN]
    assert parse_qs(urlsplit(second["previous"]).query)["offset"] == ["0"]
    last = ok(listed(client, world, "staffview", limit=1, offset=2, ordering="id"))
    assert last["next"] is None
    assert [p["id"] for p in last["results"]] == [OTHER]


def test_list_limits_are_clamped_and_bad_ones_refused(client: Client, world: World) -> None:
    assert len(ok(listed(client, world, "staffview", limit=5000))["results"]) == 3
    for bad in ("-1", "abc"):
        answer = refused(listed(client, world, "staffview", limit=bad))
        assert answer == (400, {"limit": ["A valid non-negative integer is required."]})


def test_repeated_id_filter_means_any_of_them(client: Client, world: World) -> None:
    response = client.get(f"{API}?id={MAIN}&id={OTHER}", headers=world.headers("staffview"))
    assert result_ids(response) == [OTHER, MAIN]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"active": "False"}, [OLD]),
        ({"active": "true"}, [OTHER, MAIN]),
        ({"semester": "2027A"}, [MAIN]),
        ({"semester": "2026B"}, [OTHER, MAIN]),
        ({"tags": "galaxies,comets"}, [OTHER, MAIN]),
        ({"tags": "comets"}, [MAIN]),
        ({"public": "true"}, [OTHER]),
        ({"title": "GALAXIES"}, [OTHER]),
        ({"tac_priority": "10"}, [MAIN]),
        ({"tac_rank": "2"}, [MAIN]),
        ({"ordering": "tac_priority"}, [OLD, OTHER, MAIN]),
        ({"ordering": "-tac_priority"}, [MAIN, OTHER, OLD]),
        ({"ordering": "-tac_rank,id"}, [MAIN, OLD, OTHER]),
        ({"unknown": "ignored"}, [OTHER, MAIN, OLD]),
    ],
)
def test_list_filters(client: Client, world: World, params: dict[str, str], expected: list[str]) -> None:
    assert result_ids(listed(client, world, "staffview", **params)) == expected


@pytest.mark.parametrize(
    ("params", "errors"),
    [
        ({"active": "maybe"}, {"active": ["Must be a valid boolean."]}),
        ({"tac_priority": "high"}, {"tac_priority": ["Enter a number."]}),
        ({"ordering": "pi"}, {"ordering": ["Select a valid choice. pi is not one of the available choices."]}),
    ],
)
def test_bad_list_filters_are_refused(
    client: Client, world: World, params: dict[str, str], errors: dict[str, Any]
) -> None:
    assert refused(listed(client, world, "staffview", **params)) == (400, errors)


# --- Detail and tags ----------------------------------------------------------------------------------------


def test_member_reads_the_proposal_with_pis_and_allocations(client: Client, world: World) -> None:
    body = ok(client.get(f"{API}{MAIN}", headers=world.headers("ci")))
    assert set(body) >= PROPOSAL_KEYS
    assert "notes" not in body
    assert body["pis"] == [
        {
            "first_name": "Ada",
            "last_name": "Lovelace",
            "username": "pi",
            "email": "ada@example.org",
            "institution": "",
        }
    ]
    assert (body["coi_count"], body["requestgroup_count"], body["tac_priority"]) == (1, 0, 10)
    allocations = body["timeallocation_set"]
    assert sorted((a["semester"], a["instrument_types"][0]) for a in allocations) == [
        ("2026B", SINISTRO),
        ("2026B", FLOYDS),
        ("2027A", QHY),
    ]
    assert all(set(a) == ALLOCATION_KEYS for a in allocations)
    assert isinstance(body["created"], str)
    assert body["created"].endswith("Z")


def test_staff_view_reads_any_proposal_with_its_notes(client: Client, world: World) -> None:
    body = ok(client.get(f"{API}{OTHER}/", headers=world.headers("staffview")))
    assert body["notes"] == ""
    assert ok(client.get(f"{API}{MAIN}/", headers=world.headers("staffview")))["notes"] == "Staff only: renewed twice."


@pytest.mark.parametrize(
    ("username", "proposal_id"), [("outsider", MAIN), ("pi", OTHER), ("staff", MAIN), ("pi", "NOPE")]
)
def test_proposals_the_caller_may_not_read_are_not_found(
    client: Client, world: World, username: str, proposal_id: str
) -> None:
    assert refused(client.get(f"{API}{proposal_id}/", headers=world.headers(username))) == (404, NOT_FOUND)


@pytest.mark.parametrize(
    ("username", "expected"),
    [
        ("pi", ["comets", "solar-system"]),
        ("outsider", ["galaxies"]),
        ("user", []),
        ("staffview", ["comets", "galaxies", "solar-system"]),
    ],
)
def test_tags_are_a_bare_list_over_visible_proposals(
    client: Client, world: World, username: str, expected: list[str]
) -> None:
    assert ok(client.get(f"{API}tags", headers=world.headers(username))) == expected


def test_a_non_member_sees_the_other_proposal_nowhere(client: Client, world: World) -> None:
    headers = world.headers("pi")
    assert OTHER not in result_ids(client.get(API, headers=headers))
    assert result_ids(client.get(API, headers=headers, params={"id": OTHER})) == []
    assert client.get(f"{API}{OTHER}/", headers=headers).status_code == 404
    assert "galaxies" not in ok(client.get(f"{API}tags/", headers=headers))
    memberships = ok(client.get("/api/memberships/", headers=headers, params={"limit": 100}))["results"]
    assert OTHER not in {m["proposal"] for m in memberships}
    assert result_ids(client.get("/api/memberships/", headers=headers, params={"proposal": OTHER})) == []
    invitations = ok(client.get("/api/invitations/", headers=headers))["results"]
    assert OTHER not in {i["proposal"] for i in invitations}
    profile = ok(client.get("/api/profile/", headers=headers))
    assert OTHER not in {p["id"] for p in profile["proposals"]}


# --- Invitations by the PI ----------------------------------------------------------------------------------


def invite(client: Client, world: World, username: str, body: Any, proposal_id: str = MAIN) -> Any:
    return client.post(f"{API}{proposal_id}/invite/", json=body, headers=world.headers(username))


def test_pi_invites_a_new_address_and_an_existing_user(client: Client, world: World, container: Container) -> None:
    body = {"emails": ["Newbie@Example.org", "OLIVE@example.org"], "time_limit": 7200}
    assert ok(invite(client, world, "pi", body)) == {"message": "Co Investigator(s) invited"}
    outsider = membership_of(container, MAIN, world.user_ids["outsider"])
    assert outsider.role.value == "CI"
    assert outsider.time_limit_s == 7200
    pending = ok(client.get("/api/invitations/", headers=world.headers("pi"), params={"pending": "true"}))
    assert {(i["email"], i["time_limit"]) for i in pending["results"]} == {
        ("newbie@example.org", 7200),
        ("newcomer@example.org", 3600),
    }
    assert [to for to, _, _ in world.outbox.outbox] == ["newbie@example.org"]
    # The new CI now sees the proposal.
    assert ok(client.get(f"{API}{MAIN}/", headers=world.headers("outsider")))["coi_count"] == 2


def test_invitation_without_a_time_limit_is_unlimited(client: Client, world: World) -> None:
    ok(invite(client, world, "pi", {"emails": ["newbie@example.org"]}))
    found = ok(client.get("/api/invitations/", headers=world.headers("pi"), params={"pending": "true"}))["results"]
    assert {i["email"]: i["time_limit"] for i in found}["newbie@example.org"] == -1


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({"emails": ["not-an-address"]}, {"emails": ["Enter a valid email address."]}),
        ({"emails": ["ok@example.org", "bad@"]}, {"emails": ["Enter a valid email address."]}),
        ({"emails": [42]}, {"emails": ["Enter a valid email address."]}),
        ({"emails": ["ADA@example.org"]}, {"emails": ["ada@example.org is already a member of this proposal"]}),
        ({"emails": ["charles@example.org"]}, {"emails": ["charles@example.org is already a member of this proposal"]}),
        ({"emails": []}, {"emails": ["Enter at least one email address."]}),
        ({"emails": "a@example.org"}, {"emails": ['Expected a list of items but got type "str".']}),
        ({}, {"emails": ["This field is required."]}),
        ({"emails": ["a@example.org"], "time_limit": "lots"}, {"time_limit": ["A valid integer is required."]}),
        (
            {"emails": ["a@example.org"], "time_limit": -5},
            {"time_limit": ["Ensure this value is greater than or equal to -1."]},
        ),
        (["a@example.org"], {"non_field_errors": ["Invalid data. Expected a dictionary, but got list."]}),
    ],
)
def test_refused_invitations_answer_the_error_and_store_and_send_nothing(
    client: Client, world: World, container: Container, body: Any, errors: dict[str, Any]
) -> None:
    before = stored_state(container)
    assert refused(invite(client, world, "pi", body)) == (400, errors)
    assert stored_state(container) == before
    assert world.outbox.outbox == []


@pytest.mark.parametrize(
    "action",
    [
        ("invite", {"emails": ["a@example.org"]}),
        ("globallimit", {"time_limit_hours": 1}),
        ("request_visibility", {"cis_see_all_requests": True}),
    ],
)
def test_pi_actions_refuse_cis_hide_from_others_and_need_credentials(
    client: Client, world: World, container: Container, action: tuple[str, dict[str, Any]]
) -> None:
    name, body = action
    before = stored_state(container)
    path = f"{API}{MAIN}/{name}/"
    assert refused(client.post(path, json=body, headers=world.headers("ci"))) == (403, FORBIDDEN)
    assert refused(client.post(path, json=body, headers=world.headers("outsider"))) == (404, NOT_FOUND)
    assert refused(client.post(path, json=body, headers=world.headers("staff"))) == (404, NOT_FOUND)
    assert refused(client.post(path, json=body)) == (403, NOT_PROVIDED)
    assert refused(client.post(f"{API}NOPE/{name}/", json=body, headers=world.headers("pi"))) == (404, NOT_FOUND)
    assert stored_state(container) == before
    assert world.outbox.outbox == []


# --- Global limit and request visibility --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("hours", "message", "seconds"),
    [(2.5, "2.5", 9000), (1, "1.0", 3600), ("0.5", "0.5", 1800), (-1, "-1.0", -1)],
)
def test_pi_sets_every_ci_limit_at_once(
    client: Client, world: World, container: Container, hours: Any, message: str, seconds: int
) -> None:
    response = client.post(f"{API}{MAIN}/globallimit", json={"time_limit_hours": hours}, headers=world.headers("pi"))
    assert ok(response) == {"message": f"All CI time limits set to {message} hours"}
    assert membership_of(container, MAIN, world.user_ids["ci"]).time_limit_s == seconds
    assert membership_of(container, MAIN, world.user_ids["pi"]).time_limit_s == -1


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({}, {"time_limit_hours": ["This field is required."]}),
        ({"time_limit_hours": "lots"}, {"time_limit_hours": ["A valid number is required."]}),
        ({"time_limit_hours": None}, {"time_limit_hours": ["This field may not be null."]}),
    ],
)
def test_refused_global_limits_change_nothing(
    client: Client, world: World, container: Container, body: dict[str, Any], errors: dict[str, Any]
) -> None:
    before = stored_state(container)
    response = client.post(f"{API}{MAIN}/globallimit/", json=body, headers=world.headers("pi"))
    assert refused(response) == (400, errors)
    assert stored_state(container) == before


def test_pi_lets_cis_see_every_members_requests(client: Client, world: World) -> None:
    path = f"{API}{MAIN}/request_visibility/"
    body = ok(client.post(path, json={"cis_see_all_requests": True}, headers=world.headers("pi")))
    assert body["id"] == MAIN
    assert body["cis_see_all_requests"] is True
    assert ok(client.get(f"{API}{MAIN}/", headers=world.headers("ci")))["cis_see_all_requests"] is True
    body = ok(client.post(path, json={"cis_see_all_requests": "false"}, headers=world.headers("pi")))
    assert body["cis_see_all_requests"] is False


def test_request_visibility_needs_its_flag(client: Client, world: World, container: Container) -> None:
    before = stored_state(container)
    response = client.post(f"{API}{MAIN}/request_visibility/", json={}, headers=world.headers("pi"))
    assert refused(response) == (400, {"cis_see_all_requests": ["This field is required."]})
    assert stored_state(container) == before


# --- Staff: creating and editing proposals ------------------------------------------------------------------

NEW: dict[str, Any] = {
    "id": "LCO2027A-007",
    "title": "Variable stars",
    "abstract": "Light curves.",
    "tac_priority": 20,
    "tags": ["stars"],
    "notes": "Fast track",
    "pis": ["user", "olive@example.org"],
    "unknown": "ignored",
}


def test_staff_open_a_proposal_led_by_users_named_or_by_email(
    client: Client, world: World, container: Container, staff_headers: dict[str, str]
) -> None:
    body = ok(client.post(API, json=NEW, headers=staff_headers), 201)
    assert set(body) >= PROPOSAL_KEYS
    assert (body["id"], body["title"], body["tac_priority"], body["tags"]) == (
        NEW["id"],
        "Variable stars",
        20,
        ["stars"],
    )
    assert body["notes"] == "Fast track"
    assert body["active"] is True
    assert "unknown" not in body
    assert sorted(p["username"] for p in body["pis"]) == ["outsider", "user"]
    stored = container.memory_store().proposals[NEW["id"]]
    assert sorted(stored.pi_ids()) == sorted([world.user_ids["user"], world.user_ids["outsider"]])
    assert result_ids(listed(client, world, "user")) == [NEW["id"]]


def test_staff_view_may_open_proposals_too(client: Client, world: World) -> None:
    ok(client.post(API.rstrip("/"), json=NEW, headers=world.headers("staffview")), 201)
    assert ok(client.get(f"{API}{NEW['id']}", headers=world.headers("staffview")))["title"] == "Variable stars"


@pytest.mark.parametrize(
    ("change", "errors"),
    [
        ({"id": MAIN}, {"id": [f"Proposal {MAIN} already exists"]}),
        ({"id": "has space"}, {"id": ["Enter a valid proposal id: up to 255 letters, digits, '.', '-' or '_'."]}),
        ({"pis": ["nobody"]}, {"pis": ["No user nobody: create the account first (obsnet users create nobody)"]}),
        ({"pis": []}, {"pis": ["A proposal needs a PI"]}),
        ({"pis": "user"}, {"pis": ['Expected a list of items but got type "str".']}),
        ({"tac_priority": -1}, {"tac_priority": ["Ensure this value is greater than or equal to 0."]}),
        ({"tac_rank": 1.5}, {"tac_rank": ["A valid integer is required."]}),
        ({"title": "x" * 256}, {"title": ["Ensure this field has no more than 255 characters."]}),
        ({"sca": "x" * 21}, {"sca": ["Ensure this field has no more than 20 characters."]}),
        ({"tags": "stars"}, {"tags": ['Expected a list of items but got type "str".']}),
        ({"tags": ["stars", 3]}, {"tags": ["Not a valid string."]}),
        ({"active": "maybe"}, {"active": ["Must be a valid boolean."]}),
    ],
)
def test_refused_new_proposals_store_nothing(
    client: Client,
    world: World,
    container: Container,
    staff_headers: dict[str, str],
    change: dict[str, Any],
    errors: dict[str, Any],
) -> None:
    before = stored_state(container)
    assert refused(client.post(API, json={**NEW, **change}, headers=staff_headers)) == (400, errors)
    assert stored_state(container) == before


def test_new_proposal_needs_an_id_and_pis(
    client: Client, world: World, container: Container, staff_headers: dict[str, str]
) -> None:
    before = stored_state(container)
    response = client.post(API, json={"title": "Nameless"}, headers=staff_headers)
    assert refused(response) == (400, {"id": ["This field is required."], "pis": ["This field is required."]})
    assert stored_state(container) == before


def test_only_staff_open_or_edit_proposals(client: Client, world: World, container: Container) -> None:
    before = stored_state(container)
    for username in ("pi", "ci", "user"):
        headers = world.headers(username)
        assert refused(client.post(API, json=NEW, headers=headers)) == (403, FORBIDDEN)
        assert refused(client.patch(f"{API}{MAIN}/", json={"title": "Mine"}, headers=headers)) == (403, FORBIDDEN)
    assert refused(client.post(API, json=NEW)) == (403, NOT_PROVIDED)
    assert refused(client.patch(f"{API}{MAIN}/", json={"title": "Mine"})) == (403, NOT_PROVIDED)
    # The staff check comes before the body is read.
    assert refused(client.post(API, content=b"{", headers=world.headers("pi"))) == (403, FORBIDDEN)
    assert stored_state(container) == before


def test_staff_edit_a_proposal(client: Client, world: World, staff_headers: dict[str, str]) -> None:
    change = {"id": MAIN, "title": "Comets, renewed", "tags": ["comets"], "tac_priority": 12, "pis": ["ignored"]}
    body = ok(client.patch(f"{API}{MAIN}", json=change, headers=staff_headers))
    assert (body["title"], body["tags"], body["tac_priority"]) == ("Comets, renewed", ["comets"], 12)
    assert body["abstract"] == "Nuclei and comae."
    assert body["modified"] == "2026-11-20T12:00:00Z"
    read = ok(client.get(f"{API}{MAIN}/", headers=world.headers("pi")))
    assert (read["title"], read["tags"], read["tac_priority"]) == ("Comets, renewed", ["comets"], 12)
    assert [p["username"] for p in read["pis"]] == ["pi"]


def test_deactivated_proposal_leaves_the_profile(client: Client, world: World, staff_headers: dict[str, str]) -> None:
    ok(client.patch(f"{API}{MAIN}/", json={"active": False}, headers=staff_headers))
    assert ok(client.get("/api/profile/", headers=world.headers("ci")))["proposals"] == []
    assert result_ids(listed(client, world, "ci", active="false")) == [MAIN]


@pytest.mark.parametrize(
    ("change", "errors"),
    [
        ({"id": "RENAMED"}, {"id": ["Proposal id cannot be changed"]}),
        ({"tac_rank": -3}, {"tac_rank": ["Ensure this value is greater than or equal to 0."]}),
        ({"title": None}, {"title": ["This field may not be null."]}),
        ({"tags": [None]}, {"tags": ["Not a valid string."]}),
    ],
)
def test_refused_proposal_edits_change_nothing(
    client: Client,
    world: World,
    container: Container,
    staff_headers: dict[str, str],
    change: dict[str, Any],
    errors: dict[str, Any],
) -> None:
    before = stored_state(container)
    assert refused(client.patch(f"{API}{MAIN}/", json=change, headers=staff_headers)) == (400, errors)
    assert stored_state(container) == before


def test_editing_an_unknown_proposal_is_not_found(client: Client, world: World, staff_headers: dict[str, str]) -> None:
    assert refused(client.patch(f"{API}NOPE/", json={"title": "x"}, headers=staff_headers)) == (404, NOT_FOUND)


def test_proposals_cannot_be_replaced_or_deleted(client: Client, world: World, staff_headers: dict[str, str]) -> None:
    for method in ("PUT", "DELETE"):
        response = client.request(method, f"{API}{MAIN}/", headers=staff_headers)
        assert refused(response) == (405, {"detail": f'Method "{method}" not allowed.'})
        assert "PATCH" in response.headers["allow"]
