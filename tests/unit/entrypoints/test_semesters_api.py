"""Semesters and time allocations over HTTP (api.md 3; requests.md 1.3, 1.7, 1.10) through the TestClient."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from adapters.serialization import DATETIME_FORMAT_HELP
from entrypoints.container import Container
from tests.unit.entrypoints.portal_world import (
    FLOYDS,
    FORBIDDEN,
    INVALID_TOKEN,
    MAIN,
    MUSCAT,
    NOT_FOUND,
    NOT_PROVIDED,
    NRES,
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

SEMESTERS = "/api/semesters/"
ALLOCATIONS = "/api/timeallocations/"
LARGE_PAGE = {"detail": "Large offset/limit not allowed for anonymous users."}


@pytest.fixture
def world(container: Container) -> Iterator[World]:
    yield from load_world(container)


# --- Reading semesters --------------------------------------------------------------------------------------


def test_anyone_lists_semesters_newest_first(client: Client, world: World) -> None:
    body = ok(client.get(SEMESTERS))
    assert body == {
        "count": 2,
        "next": None,
        "previous": None,
        "results": [
            {"id": "2027A", "start": "2027-02-01T00:00:00Z", "end": "2027-08-01T00:00:00Z"},
            {"id": "2026B", "start": "2026-08-01T00:00:00Z", "end": "2027-02-01T00:00:00Z"},
        ],
    }


def test_anyone_reads_one_semester_with_or_without_the_slash(client: Client, world: World) -> None:
    expected = {"id": "2026B", "start": "2026-08-01T00:00:00Z", "end": "2027-02-01T00:00:00Z"}
    assert ok(client.get(f"{SEMESTERS}2026B/")) == expected
    assert ok(client.get(f"{SEMESTERS}2026B", headers=world.headers("ci"))) == expected
    assert refused(client.get(f"{SEMESTERS}2099Z/")) == (404, NOT_FOUND)


def test_an_invalid_token_is_refused_even_on_open_semester_reads(client: Client, world: World) -> None:
    bad = {"Authorization": "Token " + "b" * 40}
    assert refused(client.get(SEMESTERS, headers=bad)) == (403, INVALID_TOKEN)
    assert refused(client.get(f"{SEMESTERS}2026B/", headers=bad)) == (403, INVALID_TOKEN)


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"semester_contains": "2026-11-20T12:00:00Z"}, ["2026B"]),
        ({"semester_contains": "2027-03-01 00:00:00"}, ["2027A"]),  # a space and no zone, as api-examples send
        ({"semester_contains": "2026-11-20T14:00:00+02:00"}, ["2026B"]),
        ({"semester_contains": "2030-01-01"}, []),
        ({"start": "2027-01-01"}, ["2027A"]),
        ({"start_lte": "2027-01-01"}, ["2026B"]),
        ({"end": "2027-03-01"}, ["2026B"]),
        ({"end_gt": "2027-03-01"}, ["2027A"]),
        ({"id": "27"}, ["2027A"]),
        ({"id": "b"}, ["2026B"]),
    ],
)
def test_semester_filters(client: Client, world: World, params: dict[str, str], expected: list[str]) -> None:
    assert result_ids(client.get(SEMESTERS, params=params)) == expected


@pytest.mark.parametrize("name", ["semester_contains", "start", "start_lte", "end", "end_gt"])
@pytest.mark.parametrize("value", ["yesterday", "2026-13-01", "2026-11-31T00:00:00"])
def test_unparsable_semester_dates_are_refused(client: Client, world: World, name: str, value: str) -> None:
    assert refused(client.get(SEMESTERS, params={name: value})) == (400, {name: ["Enter a valid date/time."]})


def test_semester_list_pages(client: Client, world: World) -> None:
    first = ok(client.get(SEMESTERS, params={"limit": 1, "id": "20"}))
    assert [s["id"] for s in first["results"]] == ["2027A"]
    assert parse_qs(urlsplit(first["next"]).query) == {"id": ["20"], "limit": ["1"], "offset": ["1"]}
    assert [s["id"] for s in ok(client.get(first["next"]))["results"]] == ["2026B"]


def test_anonymous_callers_cannot_ask_for_huge_pages(client: Client, world: World) -> None:
    assert refused(client.get(SEMESTERS, params={"limit": 500})) == (400, LARGE_PAGE)
    assert refused(client.get(SEMESTERS, params={"offset": 20000})) == (400, LARGE_PAGE)
    assert ok(client.get(SEMESTERS, params={"limit": 100, "offset": 10000}))["results"] == []
    assert ok(client.get(SEMESTERS, params={"limit": 500}, headers=world.headers("ci")))["count"] == 2


# --- A semester's allocations (staff) -----------------------------------------------------------------------


def test_staff_read_a_semesters_allocations_as_a_bare_list(
    client: Client, world: World, staff_headers: dict[str, str]
) -> None:
    found = ok(client.get(f"{SEMESTERS}2026B/timeallocations/", headers=staff_headers))
    assert isinstance(found, list)
    assert sorted(a["instrument_types"][0] for a in found) == sorted([SINISTRO, FLOYDS, NRES])
    other = next(a for a in found if a["instrument_types"] == [NRES])
    assert other["proposal"] == {
        "id": OTHER,
        "notes": "",
        "tac_priority": 5,
        "num_users": 1,
        "tags": ["galaxies"],
        "pis": [{"first_name": "Olive", "last_name": "Outsider"}],
    }
    assert (other["std_allocation"], other["ipp_limit"], other["ipp_time_available"]) == (7.0, 0.7, 0.35)
    assert (
        ok(client.get(f"{SEMESTERS}2027A/timeallocations", headers=world.headers("staffview")))[0]["id"]
        == (world.allocation_ids[(MAIN, "2027A", QHY)])
    )


def test_semester_allocations_are_for_staff_only(client: Client, world: World, staff_headers: dict[str, str]) -> None:
    path = f"{SEMESTERS}2026B/timeallocations/"
    assert refused(client.get(path, headers=world.headers("pi"))) == (403, FORBIDDEN)
    assert refused(client.get(path)) == (403, NOT_PROVIDED)
    assert refused(client.get(f"{SEMESTERS}2099Z/timeallocations/", headers=staff_headers)) == (404, NOT_FOUND)


# --- Creating and moving semesters (staff) ------------------------------------------------------------------

NEW_SEMESTER = {"id": "2027B", "start": "2027-08-01T00:00:00Z", "end": "2028-02-01 00:00:00", "extra": "ignored"}


def test_staff_add_a_semester(client: Client, world: World, staff_headers: dict[str, str]) -> None:
    body = ok(client.post(SEMESTERS, json=NEW_SEMESTER, headers=staff_headers), 201)
    assert body == {"id": "2027B", "start": "2027-08-01T00:00:00Z", "end": "2028-02-01T00:00:00Z"}
    assert result_ids(client.get(SEMESTERS)) == ["2027B", "2027A", "2026B"]


@pytest.mark.parametrize(
    ("change", "errors"),
    [
        (
            {"id": "2026C", "start": "2026-12-01T00:00:00Z", "end": "2027-01-01T00:00:00Z"},
            {"non_field_errors": ["Semester 2026C overlaps 2026B"]},
        ),
        ({"end": "2027-08-01T00:00:00Z"}, {"end": ["End must be after start"]}),
        ({"end": "2027-07-01T00:00:00Z"}, {"end": ["End must be after start"]}),
        ({"id": "2027A"}, {"id": ["Semester 2027A already exists"]}),
        ({"id": "x" * 21}, {"id": ["Ensure this field has no more than 20 characters."]}),
        ({"start": "soon"}, {"start": [DATETIME_FORMAT_HELP]}),
        ({"start": None}, {"start": ["This field may not be null."]}),
    ],
)
def test_refused_semesters_store_nothing(
    client: Client,
    world: World,
    container: Container,
    staff_headers: dict[str, str],
    change: dict[str, Any],
    errors: dict[str, Any],
) -> None:
    before = stored_state(container)
    assert refused(client.post(SEMESTERS, json={**NEW_SEMESTER, **change}, headers=staff_headers)) == (400, errors)
    assert stored_state(container) == before


def test_new_semester_needs_every_field(
    client: Client, world: World, container: Container, staff_headers: dict[str, str]
) -> None:
    before = stored_state(container)
    required = ["This field is required."]
    expected = {"id": required, "start": required, "end": required}
    assert refused(client.post(SEMESTERS, json={}, headers=staff_headers)) == (400, expected)
    assert stored_state(container) == before


def test_staff_move_a_semester(client: Client, world: World, staff_headers: dict[str, str]) -> None:
    body = ok(client.patch(f"{SEMESTERS}2027A", json={"end": "2027-07-31T12:00:00Z"}, headers=staff_headers))
    assert body == {"id": "2027A", "start": "2027-02-01T00:00:00Z", "end": "2027-07-31T12:00:00Z"}
    assert ok(client.get(f"{SEMESTERS}2027A/"))["end"] == "2027-07-31T12:00:00Z"


def test_refused_semester_moves_change_nothing(
    client: Client, world: World, container: Container, staff_headers: dict[str, str]
) -> None:
    before = stored_state(container)
    overlap = client.patch(f"{SEMESTERS}2027A/", json={"start": "2027-01-01T00:00:00Z"}, headers=staff_headers)
    assert refused(overlap) == (400, {"non_field_errors": ["Semester 2027A overlaps 2026B"]})
    backwards = client.patch(f"{SEMESTERS}2027A/", json={"end": "2027-01-01T00:00:00Z"}, headers=staff_headers)
    assert refused(backwards) == (400, {"end": ["End must be after start"]})
    unknown = client.patch(f"{SEMESTERS}2099Z/", json={"end": "2100-01-01T00:00:00Z"}, headers=staff_headers)
    assert refused(unknown) == (404, NOT_FOUND)
    assert stored_state(container) == before


def test_only_staff_add_or_move_semesters(client: Client, world: World, container: Container) -> None:
    before = stored_state(container)
    for username in ("pi", "user"):
        headers = world.headers(username)
        assert refused(client.post(SEMESTERS, json=NEW_SEMESTER, headers=headers)) == (403, FORBIDDEN)
        move = client.patch(f"{SEMESTERS}2027A/", json={"end": "2027-07-01T00:00:00Z"}, headers=headers)
        assert refused(move) == (403, FORBIDDEN)
    assert refused(client.post(SEMESTERS, json=NEW_SEMESTER)) == (403, NOT_PROVIDED)
    assert stored_state(container) == before


# --- Time allocations (staff) -------------------------------------------------------------------------------

NEW_ALLOCATION = {
    "proposal": OTHER,
    "semester": "2027A",
    "instrument_types": ["1m0-scicam-sinistro", MUSCAT],
    "std_allocation": "40",
    "rr_allocation": 4,
    "note": "ignored",
}


def test_staff_allocate_time_with_ipp_defaults_and_canonical_codes(
    client: Client, world: World, staff_headers: dict[str, str]
) -> None:
    body = ok(client.post(ALLOCATIONS, json=NEW_ALLOCATION, headers=staff_headers), 201)
    assert isinstance(body["id"], int)
    assert body == {
        "id": body["id"],
        "semester": "2027A",
        "proposal": OTHER,
        "instrument_types": [SINISTRO, MUSCAT],
        "std_allocation": 40.0,
        "std_time_used": 0.0,
        "rr_allocation": 4.0,
        "rr_time_used": 0.0,
        "tc_allocation": 0.0,
        "tc_time_used": 0.0,
        "realtime_allocation": 0.0,
        "realtime_time_used": 0.0,
        "ipp_limit": 4.0,
        "ipp_time_available": 2.0,
    }
    served = ok(client.get(f"/api/proposals/{OTHER}/", headers=world.headers("outsider")))["timeallocation_set"]
    assert body in served


@pytest.mark.parametrize(
    ("change", "errors"),
    [
        ({"instrument_types": ["1M0-NOPE"]}, {"instrument_types": ["Unknown instrument type 1M0-NOPE"]}),
        ({"instrument_types": []}, {"instrument_types": ["This list may not be empty."]}),
        ({"instrument_types": SINISTRO}, {"instrument_types": ['Expected a list of items but got type "str".']}),
        ({"instrument_types": [{"code": SINISTRO}]}, {"instrument_types": ["Not a valid string."]}),
        ({"std_allocation": -1}, {"std_allocation": ["Ensure this value is greater than or equal to 0."]}),
        (
            {"tc_allocation": -2, "ipp_limit": -0.5},
            {
                "tc_allocation": ["Ensure this value is greater than or equal to 0."],
                "ipp_limit": ["Ensure this value is greater than or equal to 0."],
            },
        ),
        ({"rr_allocation": "many"}, {"rr_allocation": ["A valid number is required."]}),
        (
            {"proposal": MAIN, "semester": "2026B", "instrument_types": [MUSCAT]},
            {
                "instrument_types": [
                    f"Instrument type {MUSCAT} already has an allocation for proposal {MAIN} in semester 2026B"
                ]
            },
        ),
        ({"proposal": "NOPE"}, {"proposal": ['Invalid pk "NOPE" - object does not exist.']}),
        ({"semester": "2099Z"}, {"semester": ['Invalid pk "2099Z" - object does not exist.']}),
    ],
)
def test_refused_allocations_store_nothing(
    client: Client,
    world: World,
    container: Container,
    staff_headers: dict[str, str],
    change: dict[str, Any],
    errors: dict[str, Any],
) -> None:
    before = stored_state(container)
    response = client.post(ALLOCATIONS, json={**NEW_ALLOCATION, **change}, headers=staff_headers)
    assert refused(response) == (400, errors)
    assert stored_state(container) == before


def test_new_allocation_needs_proposal_semester_and_types(
    client: Client, world: World, container: Container, staff_headers: dict[str, str]
) -> None:
    before = stored_state(container)
    required = ["This field is required."]
    expected = {"proposal": required, "semester": required, "instrument_types": required}
    assert refused(client.post(ALLOCATIONS, json={"std_allocation": 1}, headers=staff_headers)) == (400, expected)
    assert stored_state(container) == before


def test_staff_revise_an_allocation(
    client: Client, world: World, container: Container, staff_headers: dict[str, str]
) -> None:
    allocation_id = world.allocation_ids[(MAIN, "2026B", FLOYDS)]
    change = {"std_allocation": 30, "std_time_used": 2.5, "instrument_types": [FLOYDS], "semester": "2027A"}
    body = ok(client.patch(f"{ALLOCATIONS}{allocation_id}", json=change, headers=staff_headers))
    assert (body["id"], body["semester"], body["proposal"]) == (allocation_id, "2026B", MAIN)
    assert (body["instrument_types"], body["std_allocation"], body["std_time_used"]) == ([FLOYDS], 30.0, 2.5)
    assert body["rr_allocation"] == 0.0
    stored = container.memory_store().proposals[MAIN].find_allocation(allocation_id)
    assert stored is not None
    assert (stored.instrument_types, stored.std_allocation) == ([FLOYDS], 30.0)


@pytest.mark.parametrize(
    ("change", "errors"),
    [
        ({"std_allocation": -3}, {"std_allocation": ["Ensure this value is greater than or equal to 0."]}),
        (
            {"instrument_types": [FLOYDS, SINISTRO]},
            {
                "instrument_types": [
                    f"Instrument type {SINISTRO} already has an allocation for proposal {MAIN} in semester 2026B"
                ]
            },
        ),
        ({"instrument_types": ["NOPE"]}, {"instrument_types": ["Unknown instrument type NOPE"]}),
        ({"rr_allocation": None}, {"rr_allocation": ["This field may not be null."]}),
    ],
)
def test_refused_allocation_revisions_change_nothing(
    client: Client,
    world: World,
    container: Container,
    staff_headers: dict[str, str],
    change: dict[str, Any],
    errors: dict[str, Any],
) -> None:
    before = stored_state(container)
    allocation_id = world.allocation_ids[(MAIN, "2026B", FLOYDS)]
    assert refused(client.patch(f"{ALLOCATIONS}{allocation_id}/", json=change, headers=staff_headers)) == (400, errors)
    assert stored_state(container) == before


def test_only_staff_allocate_or_revise_time(
    client: Client, world: World, container: Container, staff_headers: dict[str, str]
) -> None:
    before = stored_state(container)
    allocation_id = world.allocation_ids[(MAIN, "2026B", FLOYDS)]
    for username in ("pi", "ci"):
        headers = world.headers(username)
        assert refused(client.post(ALLOCATIONS, json=NEW_ALLOCATION, headers=headers)) == (403, FORBIDDEN)
        revise = client.patch(f"{ALLOCATIONS}{allocation_id}/", json={"std_allocation": 999}, headers=headers)
        assert refused(revise) == (403, FORBIDDEN)
    assert refused(client.post(ALLOCATIONS, json=NEW_ALLOCATION)) == (403, NOT_PROVIDED)
    unknown = client.patch(f"{ALLOCATIONS}99999/", json={"std_allocation": 1}, headers=staff_headers)
    assert refused(unknown) == (404, NOT_FOUND)
    assert stored_state(container) == before
