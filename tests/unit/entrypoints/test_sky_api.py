"""The sky plots over HTTP (requests.md 7.4, api.md 4.2 and 4.4) on the reference world of requests.md 8.1: a
request's airmass, stored or posted, contention and pressure; shapes, time formats, who sees what. The
container's Visibility adapter is a double here (the astropy one has its own tests, and H4 runs on it in
tests/integration/adapters/test_sky_plots.py)."""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from typing import Any

import pytest
from dependency_injector import providers

from adapters.clock import FixedClock
from application.request_visibility import NOT_VISIBLE
from domain.observatory import Observatory
from entrypoints.container import Container
from tests.unit.application.sky_fixtures import DailySky
from tests.unit.domain.observatory_fixtures import demo_observatory
from tests.unit.entrypoints.portal_world import NOT_FOUND, Client, ok, refused
from tests.unit.entrypoints.request_world import (
    NOW,
    OTHER,
    SINISTRO,
    TEST,
    World,
    load_world,
    p0,
    submitted,
)

AIRMASS = "/api/airmass/"
AIRMASS_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$")
# Soon: a window that overlaps the next 24 hours of the reference clock.
SOON = [{"start": "2016-09-01T06:00:00Z", "end": "2016-09-03T06:00:00Z"}]


@pytest.fixture
def observatory() -> Observatory:
    return demo_observatory()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
def world(container: Container) -> Iterator[World]:
    yield from load_world(container)


@pytest.fixture
def sky(container: Container) -> Iterator[DailySky]:
    """Every target visible 02:00-03:00 UTC at elp and 10:00-10:30 at coj; submissions skip the sky check."""
    double = DailySky({"elp": (2.0, 3.0), "coj": (10.0, 10.5)})
    container.visibility.override(providers.Object(double))
    container.visibility_hooks.override(providers.Object(None))
    yield double
    container.visibility_hooks.reset_last_overriding()
    container.visibility.reset_last_overriding()


def bare_request(**changes: Any) -> dict[str, Any]:
    """P0's request, as ``POST /api/airmass/`` takes it."""
    request: dict[str, Any] = copy.deepcopy(p0()["requests"][0])
    request.update(changes)
    return request


def stored_request_id(client: Client, world: World, who: str = "pi", **changes: Any) -> int:
    body = p0(**changes)
    if who == "outsider":
        body["proposal"] = OTHER
    return submitted(client, world, body, who)["requests"][0]["id"]  # type: ignore[no-any-return]


# ---------------------------------------------------------------------------------------------------------
# GET /api/requests/{id}/airmass/


def test_a_requests_airmass_has_a_series_per_site_with_minutes_and_its_limit(
    client: Client, world: World, sky: DailySky
) -> None:
    request_id = stored_request_id(client, world)
    body = ok(client.get(f"/api/requests/{request_id}/airmass/", headers=world.headers("pi")))
    assert set(body) == {"airmass_data", "airmass_limit"}
    assert body["airmass_limit"] == 2.0
    assert list(body["airmass_data"]) == ["coj", "elp"]
    elp = body["airmass_data"]["elp"]
    assert set(elp) == {"times", "airmasses"}
    assert all(AIRMASS_TIME.match(moment) for moment in elp["times"])
    # P0's window opens 2016-09-29T21:12:18: the first elp night is the next morning's, six samples a night.
    assert elp["times"][:7] == [f"2016-09-30T02:{m}0" for m in range(6)] + ["2016-10-01T02:00"]
    assert len(elp["times"]) == len(elp["airmasses"]) == 30 * 6
    assert body["airmass_data"]["coj"]["times"][:3] == ["2016-09-30T10:00", "2016-09-30T10:10", "2016-09-30T10:20"]
    # Without a slash, the same answer.
    assert ok(client.get(f"/api/requests/{request_id}/airmass", headers=world.headers("pi"))) == body


def test_a_request_the_caller_may_not_see_has_no_airmass(client: Client, world: World, sky: DailySky) -> None:
    request_id = stored_request_id(client, world)
    assert refused(client.get(f"/api/requests/{request_id}/airmass/")) == (404, NOT_FOUND)
    outsider = client.get(f"/api/requests/{request_id}/airmass/", headers=world.headers("outsider"))
    assert refused(outsider) == (404, NOT_FOUND)
    assert refused(client.get(f"/api/requests/{request_id + 1}/airmass/", headers=world.headers("pi"))) == (
        404,
        NOT_FOUND,
    )
    assert refused(client.get("/api/requests/99999999999/airmass/", headers=world.headers("pi")))[0] == 404
    invalid = client.get(f"/api/requests/{request_id}/airmass/", headers={"Authorization": "Token " + "0" * 40})
    assert refused(invalid) == (403, {"detail": "Invalid token."})


def test_a_public_proposals_request_has_its_airmass_for_anyone(client: Client, world: World, sky: DailySky) -> None:
    request_id = stored_request_id(client, world, who="outsider")
    assert list(ok(client.get(f"/api/requests/{request_id}/airmass/"))["airmass_data"]) == ["coj", "elp"]


# ---------------------------------------------------------------------------------------------------------
# POST /api/airmass/


def test_anyone_may_post_a_bare_request_for_its_airmass(client: Client, world: World, sky: DailySky) -> None:
    body = ok(client.post(AIRMASS, json=bare_request()))
    assert body["airmass_limit"] == 2.0
    assert body["airmass_data"]["elp"]["times"][0] == "2016-09-30T02:00"
    signed_in = ok(client.post(AIRMASS, json=bare_request(), headers=world.headers("pi")))
    assert signed_in == body


def test_an_invalid_posted_request_is_answered_200_with_its_errors(client: Client, world: World, sky: DailySky) -> None:
    missing = bare_request()
    del missing["configurations"]
    assert refused(client.post(AIRMASS, json=missing)) == (200, {"configurations": ["This field is required."]})
    unknown = bare_request()
    unknown["configurations"][0]["instrument_type"] = "1M0-NOPE"
    status, errors = refused(client.post(AIRMASS, json=unknown))
    assert status == 200
    assert set(errors) == {"configurations"}
    never = bare_request(location={"telescope_class": "1m0", "site": "lsc"})  # the double never shows lsc
    assert refused(client.post(AIRMASS, json=never)) == (200, {"non_field_errors": [NOT_VISIBLE]})
    assert client.post(AIRMASS, content=b"{", headers={"Content-Type": "application/json"}).status_code == 400


# ---------------------------------------------------------------------------------------------------------
# GET /api/contention/{instrument_type}/


def test_contention_bins_configuration_time_by_right_ascension_and_hides_proposals_from_non_staff(
    client: Client, world: World, sky: DailySky
) -> None:
    submitted(client, world, p0(requests=[bare_request(windows=SOON)]))
    body = ok(client.get(f"/api/contention/{SINISTRO}/"))
    assert set(body) == {"ra_hours", "instrument_type", "time_calculated", "contention_data"}
    assert body["ra_hours"] == list(range(24))
    assert (body["instrument_type"], body["time_calculated"]) == (SINISTRO, "2016-09-01T00:00:00Z")
    assert len(body["contention_data"]) == 24
    assert body["contention_data"][0] == {"All Proposals": 0}
    (anonymous,) = body["contention_data"][2].values()  # P0's target stands at RA 34.4 deg: hour 2
    assert anonymous > 100
    staff = ok(client.get(f"/api/contention/{SINISTRO}", headers=world.headers("staffview")))
    assert staff["contention_data"][2] == {TEST: anonymous}
    assert staff["contention_data"][0] == {}


# ---------------------------------------------------------------------------------------------------------
# GET /api/pressure/


def test_pressure_has_96_quarter_hours_with_site_nights_and_hides_proposals_from_non_staff(
    client: Client, world: World, sky: DailySky
) -> None:
    submitted(client, world, p0(requests=[bare_request(windows=SOON)]))
    body = ok(client.get("/api/pressure/"))
    assert set(body) == {"site_nights", "time_bins", "instrument_type", "site", "time_calculated", "pressure_data"}
    assert (body["instrument_type"], body["site"], body["time_calculated"]) == ("all", "all", "2016-09-01T00:00:00Z")
    assert body["time_bins"][:2] == ["2016-09-01T00:00:00Z", "2016-09-01T00:15:00Z"]
    assert len(body["time_bins"]) == len(body["pressure_data"]) == 96
    assert {"name": "elp", "start": 2.0, "stop": 3.0} in body["site_nights"]
    assert {"name": "coj", "start": 10.0, "stop": 10.5} in body["site_nights"]
    assert body["pressure_data"][0] == {"All Proposals": 0}
    # The window opens at 06:00, after elp's night: the request weighs on coj's, 10:00-10:30.
    weighed = [index for index, found in enumerate(body["pressure_data"]) if found["All Proposals"] > 0]
    assert weighed == [40, 41]
    staff = ok(client.get("/api/pressure", headers=world.headers("staffview")))
    assert staff["pressure_data"][40] == {TEST: body["pressure_data"][40]["All Proposals"]}
    assert staff["pressure_data"][0] == {}
    narrowed = ok(client.get("/api/pressure/?instrument=2M0-FLOYDS-SCICAM&site=elp"))
    assert (narrowed["instrument_type"], narrowed["site"]) == ("2M0-FLOYDS-SCICAM", "elp")
    assert [night["name"] for night in narrowed["site_nights"]] == ["elp"]
    assert all(found == {"All Proposals": 0} for found in narrowed["pressure_data"])
