"""The downtime HTTP API of observatory.md 3.3 and 3.5, through Litestar's TestClient over in-memory adapters."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from importlib import resources
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from litestar.testing import TestClient

from adapters.clock import FixedClock
from application.handlers.downtime import create_demo_downtimes
from domain.downtime import COMBINATION_UNKNOWN, Downtime
from domain.observatory import Observatory
from domain.observatory_document import parse_document
from entrypoints.container import Container

API = "/downtime/api/"
FLOYDS = {
    "start": "2026-11-25T18:00:00Z",
    "end": "2026-11-26T02:00:00Z",
    "site": "ogg",
    "enclosure": "clma",
    "telescope": "2m0a",
    "instrument_type": "2M0-FLOYDS-SCICAM",
    "reason": "FLOYDS detector vacuum pump-down",
}
NOT_PROVIDED = {"detail": "Authentication credentials were not provided."}
INVALID_TOKEN = {"detail": "Invalid token."}
FORBIDDEN = {"detail": "You do not have permission to perform this action."}
NOT_FOUND = {"detail": "Not found."}


def create(client: TestClient, headers: dict[str, str], **overrides: Any) -> dict[str, Any]:
    response = client.post(API, json={**FLOYDS, **overrides}, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def stored(client: TestClient) -> list[dict[str, Any]]:
    response = client.get(API, params={"limit": 10000})
    assert response.status_code == 200
    return response.json()["results"]  # type: ignore[no-any-return]


def ids(response: Any) -> list[int]:
    assert response.status_code == 200, response.text
    return [d["id"] for d in response.json()["results"]]


@pytest.fixture
def existing(client: TestClient, staff_headers: dict[str, str]) -> dict[str, Any]:
    """One stored downtime, so that refusals can be shown to leave it untouched."""
    body = create(client, staff_headers, reason="Existing")
    del body["warnings"]
    return body


# --- Shape --------------------------------------------------------------------------------------------------


def test_created_downtime_is_served_in_the_upstream_shape_with_timestamps_last(
    client: TestClient, staff_headers: dict[str, str]
) -> None:
    body = create(client, staff_headers)
    served = client.get(f"{API}{body['id']}/").json()
    assert list(served) == [
        "id",
        "start",
        "end",
        "site",
        "enclosure",
        "telescope",
        "instrument_type",
        "reason",
        "created",
        "modified",
    ]
    assert served == {**FLOYDS, "id": 1, "created": "2026-11-20T12:00:00Z", "modified": "2026-11-20T12:00:00Z"}


def test_datetimes_are_served_without_fractions_of_a_second(
    client: TestClient, staff_headers: dict[str, str], clock: FixedClock
) -> None:
    clock.advance(timedelta(microseconds=250))
    body = create(client, staff_headers, start="2026-11-25T18:00:00.75Z")
    assert (body["start"], body["created"]) == ("2026-11-25T18:00:00Z", "2026-11-20T12:00:00Z")


@pytest.mark.parametrize(
    ("sent", "served"),
    [
        ("2026-11-25T18:00:00Z", "2026-11-25T18:00:00Z"),
        ("2026-11-25T18:00:00", "2026-11-25T18:00:00Z"),
        ("2026-11-25 18:00:00", "2026-11-25T18:00:00Z"),
        ("2026-11-25T20:00:00+02:00", "2026-11-25T18:00:00Z"),
        ("2026-11-25 08:00:00-10:00", "2026-11-25T18:00:00Z"),
    ],
    ids=["zulu", "naive", "space", "offset", "space-and-negative-offset"],
)
def test_datetimes_in_every_accepted_spelling_are_stored_as_utc(
    client: TestClient, staff_headers: dict[str, str], sent: str, served: str
) -> None:
    assert create(client, staff_headers, start=sent)["start"] == served


def test_instrument_type_is_stored_as_configdb_spells_it(client: TestClient, staff_headers: dict[str, str]) -> None:
    assert create(client, staff_headers, instrument_type="2m0-floyds-SciCam")["instrument_type"] == "2M0-FLOYDS-SCICAM"


def test_instrument_type_and_reason_default_to_empty(client: TestClient, staff_headers: dict[str, str]) -> None:
    body = {k: v for k, v in FLOYDS.items() if k not in ("instrument_type", "reason")}
    response = client.post(API, json=body, headers=staff_headers)
    assert response.status_code == 201
    assert (response.json()["instrument_type"], response.json()["reason"]) == ("", "")


@pytest.mark.parametrize("path", ["/downtime/api/", "/downtime/api", "/downtime/api/1/", "/downtime/api/1"])
def test_routes_answer_with_and_without_the_trailing_slash(
    client: TestClient, existing: dict[str, Any], path: str
) -> None:
    response = client.get(path)
    assert response.status_code == 200
    assert "id" in response.json() or response.json()["count"] == 1


def test_post_without_trailing_slash_creates_too(client: TestClient, staff_headers: dict[str, str]) -> None:
    assert client.post("/downtime/api", json=FLOYDS, headers=staff_headers).status_code == 201


# --- Section 8 cases on the network --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "where",
    [
        {"site": "coj", "enclosure": "aqwa", "telescope": "1m0a", "instrument_type": ""},
        {"site": "ogg", "enclosure": "clma", "telescope": "2m0a", "instrument_type": "1M0-NRES-SCICAM"},
        {"site": "ogg", "enclosure": "doma", "telescope": "1m0a", "instrument_type": ""},
    ],
    ids=["coj.aqwa.1m0a", "nres-not-on-ogg-2m0a", "telescope-of-another-site"],
)
def test_valid_codes_in_a_combination_configdb_lacks_are_refused(
    client: TestClient, staff_headers: dict[str, str], existing: dict[str, Any], where: dict[str, str]
) -> None:
    response = client.post(API, json={**FLOYDS, **where}, headers=staff_headers)
    assert (response.status_code, response.json()) == (400, {"non_field_errors": [COMBINATION_UNKNOWN]})
    assert stored(client) == [existing]


def test_a_disabled_instrument_type_on_an_inactive_site_can_be_taken_down(
    client: TestClient, staff_headers: dict[str, str]
) -> None:
    where = {"site": "tlv", "enclosure": "doma", "telescope": "1m0a", "instrument_type": "1M0-NRES-SCICAM"}
    assert create(client, staff_headers, **where)["site"] == "tlv"


# --- Bad inputs of 3.5: exact answer, nothing changed --------------------------------------------------------

BAD_BODIES = [
    ({k: v for k, v in FLOYDS.items() if k != "start"}, {"start": ["This field is required."]}),
    (
        {**FLOYDS, "start": "tomorrow"},
        {
            "start": [
                "Datetime has wrong format. Use one of these formats instead: "
                "YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z]."
            ]
        },
    ),
    ({**FLOYDS, "end": FLOYDS["start"]}, {"non_field_errors": ["End time must be after start time"]}),
    ({**FLOYDS, "end": "2026-11-25T17:00:00Z"}, {"non_field_errors": ["End time must be after start time"]}),
    ({**FLOYDS, "site": "xyz"}, {"site": ['"xyz" is not a valid choice.']}),
    ({**FLOYDS, "enclosure": "xyz"}, {"enclosure": ['"xyz" is not a valid choice.']}),
    ({**FLOYDS, "telescope": "xyz"}, {"telescope": ['"xyz" is not a valid choice.']}),
    ({**FLOYDS, "instrument_type": "xyz"}, {"instrument_type": ['"xyz" is not a valid choice.']}),
    ({**FLOYDS, "site": "oggg"}, {"site": ["Ensure this field has no more than 3 characters."]}),
    ({**FLOYDS, "enclosure": "clmaa"}, {"enclosure": ["Ensure this field has no more than 4 characters."]}),
    ({**FLOYDS, "telescope": "2m0aa"}, {"telescope": ["Ensure this field has no more than 4 characters."]}),
    ({**FLOYDS, "reason": "x" * 3001}, {"reason": ["Ensure this field has no more than 3000 characters."]}),
    ({**FLOYDS, "site": 5}, {"site": ['"5" is not a valid choice.']}),
]
BAD_IDS = [
    "missing-start",
    "start-not-a-date",
    "zero-length",
    "end-before-start",
    "unknown-site",
    "unknown-enclosure",
    "unknown-telescope",
    "unknown-instrument-type",
    "long-site",
    "long-enclosure",
    "long-telescope",
    "long-reason",
    "site-a-number",
]


@pytest.mark.parametrize(("body", "errors"), BAD_BODIES, ids=BAD_IDS)
def test_a_bad_new_downtime_gets_the_exact_400_and_stores_nothing(
    client: TestClient, staff_headers: dict[str, str], existing: dict[str, Any], body: Any, errors: Any
) -> None:
    response = client.post(API, json=body, headers=staff_headers)
    assert (response.status_code, response.json()) == (400, errors)
    assert stored(client) == [existing]


@pytest.mark.parametrize(("body", "errors"), BAD_BODIES, ids=BAD_IDS)
def test_a_bad_replacement_gets_the_exact_400_and_changes_nothing(
    client: TestClient, staff_headers: dict[str, str], existing: dict[str, Any], body: Any, errors: Any
) -> None:
    response = client.put(f"{API}{existing['id']}/", json=body, headers=staff_headers)
    assert (response.status_code, response.json()) == (400, errors)
    assert stored(client) == [existing]


def test_malformed_json_is_a_parse_error_and_stores_nothing(
    client: TestClient, staff_headers: dict[str, str], existing: dict[str, Any]
) -> None:
    response = client.post(API, content=b'{"start": ', headers={**staff_headers, "Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json()["detail"].startswith("JSON parse error - ")
    assert stored(client) == [existing]


def test_a_body_over_one_mebibyte_is_refused(
    client: TestClient, staff_headers: dict[str, str], existing: dict[str, Any]
) -> None:
    response = client.post(API, json={**FLOYDS, "padding": "x" * (1024 * 1024)}, headers=staff_headers)
    assert response.status_code == 413
    assert stored(client) == [existing]


def test_a_patch_that_breaks_the_merged_downtime_changes_nothing(
    client: TestClient, staff_headers: dict[str, str], existing: dict[str, Any]
) -> None:
    response = client.patch(f"{API}{existing['id']}/", json={"start": "2026-11-27T00:00:00Z"}, headers=staff_headers)
    assert (response.status_code, response.json()) == (400, {"non_field_errors": ["End time must be after start time"]})
    assert stored(client) == [existing]


@pytest.mark.parametrize(
    ("method", "body"),
    [("get", None), ("patch", {"reason": "x"}), ("put", FLOYDS), ("delete", None)],
)
def test_an_unknown_id_is_not_found(
    client: TestClient, staff_headers: dict[str, str], existing: dict[str, Any], method: str, body: Any
) -> None:
    kwargs: dict[str, Any] = {"headers": staff_headers} if body is None else {"headers": staff_headers, "json": body}
    response = client.request(method.upper(), f"{API}999/", **kwargs)
    assert (response.status_code, response.json()) == (404, NOT_FOUND)
    assert stored(client) == [existing]


# --- Who may write --------------------------------------------------------------------------------------------

WRITES = [
    ("POST", API, FLOYDS),
    ("PUT", API + "1/", {**FLOYDS, "reason": "changed"}),
    ("PATCH", API + "1/", {"reason": "changed"}),
    ("DELETE", API + "1/", None),
]


@pytest.mark.parametrize(("method", "path", "body"), WRITES, ids=[w[0] for w in WRITES])
@pytest.mark.parametrize(
    ("who", "status", "answer"),
    [
        ("anonymous", 401, NOT_PROVIDED),
        ("bad-token", 401, INVALID_TOKEN),
        ("non-staff", 403, FORBIDDEN),
    ],
)
def test_only_staff_may_write(
    client: TestClient,
    user_headers: dict[str, str],
    existing: dict[str, Any],
    method: str,
    path: str,
    body: Any,
    who: str,
    status: int,
    answer: dict[str, str],
) -> None:
    headers = {
        "anonymous": {},
        "bad-token": {"Authorization": "Token " + "0" * 40},
        "non-staff": user_headers,
    }[who]
    response = client.request(method, path, json=body, headers=headers)
    assert (response.status_code, response.json()) == (status, answer)
    assert stored(client) == [existing]


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [(m, p, b, s) for (m, p, b), s in zip(WRITES, (201, 200, 200, 204), strict=True)],
    ids=[w[0] for w in WRITES],
)
def test_staff_may_write(
    client: TestClient,
    staff_headers: dict[str, str],
    existing: dict[str, Any],
    method: str,
    path: str,
    body: Any,
    status: int,
) -> None:
    response = client.request(method, path, json=body, headers=staff_headers)
    assert response.status_code == status
    assert stored(client) != [existing]


@pytest.mark.parametrize("path", [API, API + "1/", "/downtime/calendar.ics"])
def test_reads_need_no_credentials_but_refuse_a_bad_token(
    client: TestClient, existing: dict[str, Any], path: str
) -> None:
    assert client.get(path).status_code == 200
    response = client.get(path, headers={"Authorization": "Token " + "0" * 40})
    assert (response.status_code, response.json()) == (401, INVALID_TOKEN)


# --- Updates ---------------------------------------------------------------------------------------------------


def test_patch_changes_only_the_fields_sent_and_moves_modified(
    client: TestClient, staff_headers: dict[str, str], existing: dict[str, Any], clock: FixedClock
) -> None:
    clock.advance(timedelta(hours=1))
    response = client.patch(f"{API}{existing['id']}/", json={"reason": "Pump failed"}, headers=staff_headers)
    assert response.status_code == 200
    assert response.json() == {**existing, "reason": "Pump failed", "modified": "2026-11-20T13:00:00Z"}
    assert stored(client) == [response.json()]


def test_put_requires_every_required_field(
    client: TestClient, staff_headers: dict[str, str], existing: dict[str, Any]
) -> None:
    response = client.put(f"{API}{existing['id']}/", json={"reason": "only this"}, headers=staff_headers)
    assert response.status_code == 400
    assert set(response.json()) == {"start", "end", "site", "enclosure", "telescope"}
    assert stored(client) == [existing]


def test_put_can_move_a_downtime_to_another_telescope(
    client: TestClient, staff_headers: dict[str, str], existing: dict[str, Any]
) -> None:
    moved = {**FLOYDS, "site": "coj", "enclosure": "doma", "telescope": "1m0a", "instrument_type": ""}
    response = client.put(f"{API}{existing['id']}/", json=moved, headers=staff_headers)
    assert response.status_code == 200
    assert (response.json()["site"], response.json()["telescope"]) == ("coj", "1m0a")


def test_delete_removes_the_downtime(
    client: TestClient, staff_headers: dict[str, str], existing: dict[str, Any]
) -> None:
    assert client.delete(f"{API}{existing['id']}/", headers=staff_headers).status_code == 204
    assert client.get(f"{API}{existing['id']}/").status_code == 404
    assert stored(client) == []


def test_writes_are_recorded_in_the_change_log_under_the_staff_username(
    client: TestClient, staff_headers: dict[str, str], existing: dict[str, Any], container: Container
) -> None:
    client.patch(f"{API}{existing['id']}/", json={"reason": "x"}, headers=staff_headers)
    with container.uow_factory()() as uow:
        entries = uow.changes.search(kind="downtime", entity_id=str(existing["id"]))
    assert [(e.action, e.user) for e in entries] == [("create", "staff"), ("update", "staff")]


def test_create_warns_about_overlapping_downtimes_on_the_same_telescope_but_stores_it(
    client: TestClient, staff_headers: dict[str, str], existing: dict[str, Any]
) -> None:
    body = create(client, staff_headers, instrument_type="", start="2026-11-26T01:00:00Z", end="2026-11-26T05:00:00Z")
    assert len(body["warnings"]) == 1
    assert f"downtime {existing['id']} on ogg.clma.2m0a" in body["warnings"][0]
    second = create(client, staff_headers, start="2026-11-26T01:30:00Z", end="2026-11-26T03:00:00Z")
    assert [w.split(" on ")[0] for w in second["warnings"]] == [
        f"Overlaps downtime {existing['id']}",
        f"Overlaps downtime {body['id']}",
    ]
    assert len(stored(client)) == 3


def test_create_has_no_warnings_when_downtimes_only_touch(
    client: TestClient, staff_headers: dict[str, str], existing: dict[str, Any]
) -> None:
    body = create(client, staff_headers, start=FLOYDS["end"], end="2026-11-26T05:00:00Z")
    assert body["warnings"] == []


# --- Filters ---------------------------------------------------------------------------------------------------


@pytest.fixture
def week(client: TestClient, staff_headers: dict[str, str], clock: FixedClock) -> dict[str, int]:
    """Four downtimes on three telescopes, created an hour apart."""
    made = {}
    for name, fields in {
        "floyds": {},
        "muscat": {"instrument_type": "2M0-SCICAM-MUSCAT", "reason": "MuSCAT cooling", "start": "2026-11-26T02:00:00Z"},
        "coj": {
            "site": "coj",
            "instrument_type": "",
            "reason": "Enclosure maintenance",
            "start": "2026-11-23T00:00:00Z",
            "end": "2026-11-24T00:00:00Z",
        },
        "lsc": {
            "site": "lsc",
            "enclosure": "doma",
            "telescope": "1m0a",
            "instrument_type": "",
            "reason": "floyds-unrelated mirror work",
            "start": "2026-11-28T00:00:00Z",
            "end": "2026-11-29T00:00:00Z",
        },
    }.items():
        if "start" in fields and "end" not in fields:
            fields["end"] = "2026-11-26T06:00:00Z"
        made[name] = create(client, staff_headers, **fields)["id"]
        clock.advance(timedelta(hours=1))
    return made


def test_overlap_query_includes_downtimes_that_touch_the_window(client: TestClient, week: dict[str, int]) -> None:
    # floyds ends exactly at the window's start; lsc starts exactly at its end.
    response = client.get(API, params={"ends_after": "2026-11-26 02:00:00", "starts_before": "2026-11-28 00:00:00"})
    assert ids(response) == [week["floyds"], week["muscat"], week["lsc"]]


def test_overlap_query_excludes_downtimes_a_second_outside_the_window(client: TestClient, week: dict[str, int]) -> None:
    response = client.get(API, params={"ends_after": "2026-11-26 02:00:01", "starts_before": "2026-11-27 23:59:59"})
    assert ids(response) == [week["muscat"]]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"starts_after": "2026-11-26T02:00:00Z"}, ["muscat", "lsc"]),
        ({"starts_before": "2026-11-25T18:00:00Z"}, ["floyds", "coj"]),
        ({"ends_before": "2026-11-26T02:00:00Z"}, ["floyds", "coj"]),
        ({"ends_after": "2026-11-26T06:00:00Z"}, ["muscat", "lsc"]),
        ({"created_after": "2026-11-20T13:00:00Z"}, ["muscat", "coj", "lsc"]),
        ({"created_before": "2026-11-20T13:00:00Z"}, ["floyds", "muscat"]),
        ({"modified_after": "2026-11-20T15:00:00Z"}, ["lsc"]),
        ({"modified_before": "2026-11-20T12:00:00"}, ["floyds"]),
    ],
)
def test_date_bounds_are_inclusive(
    client: TestClient, week: dict[str, int], params: dict[str, str], expected: list[str]
) -> None:
    assert ids(client.get(API, params=params)) == [week[name] for name in expected]


def test_repeated_code_parameters_mean_any_of(client: TestClient, week: dict[str, int]) -> None:
    response = client.get(API, params=[("site", "coj"), ("site", "lsc")])
    assert ids(response) == [week["coj"], week["lsc"]]


def test_code_filters_combine_with_and(client: TestClient, week: dict[str, int]) -> None:
    response = client.get(API, params=[("site", "ogg"), ("instrument_type", "2m0-scicam-muscat")])
    assert ids(response) == [week["muscat"]]


def test_an_empty_instrument_type_filter_is_ignored_not_whole_telescope_only(
    client: TestClient, week: dict[str, int]
) -> None:
    assert len(ids(client.get(API, params={"instrument_type": "", "site": ""}))) == 4


def test_reason_is_a_case_insensitive_substring_and_reason_exact_is_exact(
    client: TestClient, week: dict[str, int]
) -> None:
    assert ids(client.get(API, params={"reason": "FLOYDS"})) == [week["floyds"], week["lsc"]]
    assert ids(client.get(API, params={"reason_exact": "MuSCAT cooling"})) == [week["muscat"]]
    assert ids(client.get(API, params={"reason_exact": "muscat cooling"})) == []


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, ["floyds", "muscat", "coj", "lsc"]),
        ({"order": "start"}, ["coj", "floyds", "muscat", "lsc"]),
        ({"order": "-start"}, ["lsc", "muscat", "floyds", "coj"]),
        ({"ordering": "-end"}, ["lsc", "muscat", "floyds", "coj"]),
        ({"order": "end,-created"}, ["coj", "floyds", "muscat", "lsc"]),
        ({"order": "-modified"}, ["lsc", "coj", "muscat", "floyds"]),
    ],
)
def test_ordering_by_one_or_several_keys(
    client: TestClient, week: dict[str, int], params: dict[str, str], expected: list[str]
) -> None:
    assert ids(client.get(API, params=params)) == [week[name] for name in expected]


def test_default_order_breaks_equal_created_times_by_id(client: TestClient, staff_headers: dict[str, str]) -> None:
    made = [
        create(client, staff_headers, start=f"2026-11-2{day}T00:00:00Z", end=f"2026-11-2{day}T06:00:00Z")["id"]
        for day in (7, 5, 6)
    ]
    assert ids(client.get(API)) == sorted(made)


@pytest.mark.parametrize(
    ("params", "errors"),
    [
        ({"starts_after": "soon"}, {"starts_after": ["Enter a valid date/time."]}),
        ({"modified_before": "2026-13-01"}, {"modified_before": ["Enter a valid date/time."]}),
        ({"site": "xyz"}, {"site": ["Select a valid choice. xyz is not one of the available choices."]}),
        ({"telescope": "9m9"}, {"telescope": ["Select a valid choice. 9m9 is not one of the available choices."]}),
        (
            {"instrument_type": "NOPE"},
            {"instrument_type": ["Select a valid choice. NOPE is not one of the available choices."]},
        ),
        ({"order": "colour"}, {"order": ["Select a valid choice. colour is not one of the available choices."]}),
        ({"ordering": "start,-id"}, {"ordering": ["Select a valid choice. -id is not one of the available choices."]}),
        ({"limit": "-1"}, {"limit": ["A valid non-negative integer is required."]}),
    ],
)
def test_a_bad_filter_is_a_field_keyed_400(
    client: TestClient, existing: dict[str, Any], params: dict[str, str], errors: dict[str, Any]
) -> None:
    response = client.get(API, params=params)
    assert (response.status_code, response.json()) == (400, errors)


def test_unknown_query_parameters_are_ignored(client: TestClient, existing: dict[str, Any]) -> None:
    assert ids(client.get(API, params={"colour": "blue"})) == [existing["id"]]


# --- Pagination --------------------------------------------------------------------------------------------------


@pytest.fixture
def many(container: Container, clock: FixedClock) -> int:
    """1005 downtimes, stored in one unit of work (through HTTP this would take minutes)."""
    start = datetime(2026, 11, 25, tzinfo=UTC)
    with container.uow_factory()() as uow:
        observatory = uow.observatory.get()
        for n in range(1005):
            uow.downtimes.add(
                Downtime.schedule(
                    observatory,
                    start=start + timedelta(hours=n),
                    end=start + timedelta(hours=n + 1),
                    site="ogg",
                    enclosure="clma",
                    telescope="0m4b",
                    reason=f"#{n}",
                    now=clock.now(),
                )
            )
        uow.commit()
    return 1005


def test_the_default_page_is_1000_with_a_next_link(client: TestClient, many: int) -> None:
    body = client.get(API).json()
    assert (body["count"], len(body["results"]), body["previous"]) == (many, 1000, None)
    assert parse_qs(urlsplit(body["next"]).query) == {"limit": ["1000"], "offset": ["1000"]}
    assert len(client.get(body["next"]).json()["results"]) == 5


def test_the_portal_gets_everything_with_limit_10000(client: TestClient, many: int) -> None:
    body = client.get(API, params={"limit": 10000}).json()
    assert (body["count"], len(body["results"]), body["next"]) == (many, many, None)


def test_limits_above_10000_are_clamped(client: TestClient, many: int) -> None:
    body = client.get(API, params={"limit": 20000, "offset": 1000}).json()
    assert parse_qs(urlsplit(body["previous"]).query) == {"limit": ["10000"], "offset": ["0"]}


def test_page_links_keep_the_filters(client: TestClient, many: int) -> None:
    body = client.get(API, params={"limit": 2, "offset": 2, "telescope": "0m4b", "order": "-start"}).json()
    assert [d["reason"] for d in body["results"]] == ["#1002", "#1001"]
    previous, following = (parse_qs(urlsplit(body[key]).query) for key in ("previous", "next"))
    assert previous == {"telescope": ["0m4b"], "order": ["-start"], "limit": ["2"], "offset": ["0"]}
    assert following["offset"] == ["4"]
    assert [d["reason"] for d in client.get(body["next"]).json()["results"]] == ["#1000", "#999"]


# --- iCalendar feed ------------------------------------------------------------------------------------------------


def test_calendar_feed_has_one_event_per_downtime(client: TestClient, week: dict[str, int]) -> None:
    response = client.get("/downtime/calendar.ics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/calendar")
    text = response.text
    assert text.startswith("BEGIN:VCALENDAR\r\n")
    assert text.endswith("END:VCALENDAR\r\n")
    assert text.count("BEGIN:VEVENT") == 4
    assert f"UID:downtime-{week['floyds']}@testserver.local\r\n" in text
    assert "DTSTART:20261125T180000Z\r\nDTEND:20261126T020000Z\r\n" in text


def test_calendar_feed_takes_the_list_filters(client: TestClient, week: dict[str, int]) -> None:
    text = client.get("/downtime/calendar.ics", params={"site": "coj"}).text
    assert text.count("BEGIN:VEVENT") == 1
    assert "SUMMARY:Downtime coj.clma.2m0a\r\n" in text


def test_calendar_lines_are_folded_at_75_octets(client: TestClient, staff_headers: dict[str, str]) -> None:
    create(client, staff_headers, reason="Ω" * 200)
    lines = client.get("/downtime/calendar.ics").text.split("\r\n")
    assert max(len(line.encode()) for line in lines) <= 75
    unfolded = client.get("/downtime/calendar.ics").text.replace("\r\n ", "")
    assert "DESCRIPTION:" + "Ω" * 200 + "\r\n" in unfolded


# --- The shipped demo network (observatory.md section 8) -----------------------------------------------------------


def _demo_document() -> Any:
    text = resources.files("entrypoints.data").joinpath("demo-observatory.json").read_text()
    return parse_document(json.loads(text))


class TestOnTheDemoNetwork:
    @pytest.fixture
    def observatory(self) -> Observatory:
        return _demo_document().observatory  # type: ignore[no-any-return]

    @pytest.mark.parametrize(
        "where",
        [
            {"site": "coj", "enclosure": "aqwa", "telescope": "1m0a", "instrument_type": ""},
            {"site": "ogg", "enclosure": "clma", "telescope": "2m0a", "instrument_type": "1M0-NRES-SCICAM"},
        ],
        ids=["coj.aqwa.1m0a", "nres-on-ogg.clma.2m0a"],
    )
    def test_combinations_the_demo_lacks_are_refused(
        self, client: TestClient, staff_headers: dict[str, str], where: dict[str, str]
    ) -> None:
        response = client.post(API, json={**FLOYDS, **where}, headers=staff_headers)
        assert (response.status_code, response.json()) == (400, {"non_field_errors": [COMBINATION_UNKNOWN]})
        assert stored(client) == []

    def test_the_disabled_nres_at_inactive_tlv_can_be_taken_down(
        self, client: TestClient, staff_headers: dict[str, str]
    ) -> None:
        where = {"site": "tlv", "enclosure": "doma", "telescope": "1m0a", "instrument_type": "1m0-nres-scicam"}
        assert create(client, staff_headers, **where)["instrument_type"] == "1M0-NRES-SCICAM"

    def test_every_demo_downtime_is_valid_on_the_demo_network(
        self, client: TestClient, container: Container, clock: FixedClock
    ) -> None:
        entries = _demo_document().demo_downtimes
        assert create_demo_downtimes(container.uow_factory()(), clock, entries) == len(entries) > 0
        first = stored(client)[0]
        assert (first["site"], first["start"], first["end"]) == ("lsc", "2026-11-18T00:00:00Z", "2026-11-21T00:00:00Z")
