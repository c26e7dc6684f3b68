"""The helpers that expand without storing, over HTTP (api.md 4.1 cadence, 4.2 mosaic, 4.4 dither): each
endpoint's answer on P0 (requests.md 8.1), the answer resubmitted as TOM does, and the refusals of 8.6, 8.7 and
api.md 8.2. The demo observatory, clock 2016-09-01; the conftest's ``user`` leads TEST_PROPOSAL. The cadence cases
hold whichever sky check the container wires in: with none every window counts as visible, and on the demo
network's real sky C1 and C3 give the same counts (requests.md 8.6). C7's empty sky is in the application tests."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import pytest
from litestar.testing import TestClient

from adapters.clock import FixedClock
from application.commands import AllocateTime, CreateProposal, CreateSemester
from domain.observatory import Observatory
from domain.permissions import Actor
from entrypoints.container import Container
from tests.unit.domain.observatory_fixtures import demo_observatory

NOW = datetime(2016, 9, 1, tzinfo=UTC)
SINISTRO = "1M0-SCICAM-SINISTRO"
CADENCE, DITHER, MOSAIC = "/api/requestgroups/cadence/", "/api/configurations/dither/", "/api/requests/mosaic/"
GROUPS = "/api/requestgroups/"
NOT_PROVIDED = {"detail": "Authentication credentials were not provided."}
HOURS = {"std_allocation": 100.0, "rr_allocation": 10.0, "tc_allocation": 10.0, "ipp_limit": 10.0}
HOURS |= {"ipp_time_available": 5.0}
CONFIGURATION: dict[str, Any] = {
    "type": "EXPOSE",
    "instrument_type": SINISTRO,
    "target": {"name": "fake target", "type": "ICRS", "ra": 34.4, "dec": 20},
    "instrument_configs": [
        {"exposure_time": 100, "exposure_count": 1, "optical_elements": {"filter": "air"}, "extra_params": {}}
    ],
    "constraints": {"max_airmass": 2.0, "min_lunar_distance": 30.0, "max_lunar_phase": 1.0},
    "acquisition_config": {"extra_params": {}},
    "guiding_config": {"extra_params": {}},
}
REQUEST: dict[str, Any] = {
    "location": {"telescope_class": "1m0"},
    "windows": [{"start": "2016-09-29T21:12:18Z", "end": "2016-10-29T21:12:19Z"}],
    "configurations": [CONFIGURATION],
}
P0: dict[str, Any] = {
    "proposal": "TEST_PROPOSAL",
    "name": "test group",
    "observation_type": "NORMAL",
    "operator": "SINGLE",
    "ipp_value": 1.0,
    "requests": [REQUEST],
}


@pytest.fixture
def observatory() -> Observatory:
    return demo_observatory()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
def world(container: Container) -> Container:
    """Semester 2016B and TEST_PROPOSAL led by ``user``, with NORMAL hours on the Sinistro."""
    bus, operator = container.bus(), Actor.operator()
    bus.handle(CreateSemester(operator, "2016B", NOW, datetime(2016, 12, 31, tzinfo=UTC)))
    bus.handle(CreateProposal(operator, "TEST_PROPOSAL", {"title": "Test proposal"}, ("user",)))
    bus.handle(AllocateTime(operator, "TEST_PROPOSAL", "2016B", (SINISTRO,), HOURS))
    return container


def cadence_body(**cadence: Any) -> dict[str, Any]:
    body = copy.deepcopy(P0)
    body["requests"][0]["windows"] = []
    body["requests"][0]["cadence"] = {
        "start": "2016-09-01T00:00:00Z",
        "end": "2016-09-03T00:00:00Z",
        "period": 24,
        "jitter": 12,
        **cadence,
    }
    return body


def dither_body(**fields: Any) -> dict[str, Any]:
    return {"configuration": copy.deepcopy(CONFIGURATION), **fields}


def mosaic_body(**fields: Any) -> dict[str, Any]:
    return {"request": copy.deepcopy(REQUEST), **fields}


def post(client: TestClient[Any], path: str, body: Any, headers: dict[str, str]) -> tuple[int, Any]:
    response = client.post(path, json=body, headers=headers)
    return response.status_code, response.json()


def stored_groups(container: Container) -> dict[Any, Any]:
    return dict(container.memory_store().request_groups)


# ---------------------------------------------------------------------------------------------------------
# Cadence


def test_c1_cadence_answers_the_expanded_group_which_submits_unchanged(
    client: TestClient[Any], user_headers: dict[str, str], world: Container
) -> None:
    status, group = post(client, CADENCE, cadence_body(), user_headers)
    assert status == 200, group
    assert group["operator"] == "MANY"
    assert "id" not in group
    assert [r["windows"] for r in group["requests"]] == [
        [{"start": "2016-09-01T00:00:00Z", "end": "2016-09-01T06:00:00Z"}],
        [{"start": "2016-09-01T18:00:00Z", "end": "2016-09-02T06:00:00Z"}],
    ]
    assert [r["duration"] for r in group["requests"]] == [226, 226]
    assert all("cadence" not in r and "id" not in r for r in group["requests"])
    assert stored_groups(world) == {}
    status, submitted = post(client, GROUPS, group, user_headers)
    assert status == 201, submitted
    assert len(submitted["requests"]) == 2


def test_c3_a_one_day_cadence_keeps_the_single_operator(
    client: TestClient[Any], user_headers: dict[str, str], world: Container
) -> None:
    status, group = post(client, CADENCE, cadence_body(end="2016-09-02T00:00:00Z"), user_headers)
    assert status == 200, group
    assert group["operator"] == "SINGLE"
    assert len(group["requests"]) == 1


def test_c5_c6_cadence_refusals_name_the_field(
    client: TestClient[Any], user_headers: dict[str, str], world: Container
) -> None:
    with_windows = cadence_body()
    with_windows["requests"][0]["windows"] = copy.deepcopy(REQUEST["windows"])
    assert post(client, CADENCE, with_windows, user_headers) == (
        400,
        {"requests": [{"windows": ["Cadence requests may not contain windows"]}]},
    )
    status, errors = post(client, CADENCE, cadence_body(end="2016-08-30T00:00:00Z"), user_headers)
    assert status == 400
    assert errors["requests"][0]["cadence"]["end"] == ["End time must be in the future"]
    status, errors = post(client, CADENCE, cadence_body(start="2016-09-04T00:00:00Z"), user_headers)
    assert (status, errors) == (
        400,
        {"requests": [{"cadence": {"non_field_errors": ["Cadence end must be after cadence start"]}}]},
    )
    assert stored_groups(world) == {}


def test_an_expanded_cadence_that_breaks_a_group_rule_is_a_400_in_the_nested_shape(
    client: TestClient[Any], user_headers: dict[str, str], world: Container
) -> None:
    status, errors = post(client, CADENCE, {**cadence_body(), "ipp_value": 2.5}, user_headers)
    assert (status, errors) == (400, {"non_field_errors": ["requestgroups ipp_value must be >= 0.5, <= 2.0"]})


def test_cadence_needs_a_user_and_answers_without_the_trailing_slash(
    client: TestClient[Any], user_headers: dict[str, str], world: Container
) -> None:
    assert post(client, CADENCE, cadence_body(), {}) == (403, NOT_PROVIDED)
    assert client.post(CADENCE.rstrip("/"), json=cadence_body(), headers=user_headers).status_code == 200


def test_a_malformed_cadence_body_is_a_400(client: TestClient[Any], user_headers: dict[str, str]) -> None:
    response = client.post(CADENCE, content=b'{"name": ', headers={**user_headers, "content-type": "application/json"})
    assert response.status_code == 400
    assert response.json()["detail"].startswith("JSON parse error")
    assert post(client, CADENCE, [], user_headers) == (
        400,
        {"non_field_errors": ["Invalid data. Expected a dictionary, but got list."]},
    )


# ---------------------------------------------------------------------------------------------------------
# Dither


def test_h1_dither_answers_the_configuration_with_a_line_of_offsets(
    client: TestClient[Any], user_headers: dict[str, str]
) -> None:
    body = dither_body(pattern="line", num_points=3, point_spacing=5, orientation=0, center="False")
    status, configuration = post(client, DITHER, body, user_headers)
    assert status == 200, configuration
    offsets = [
        (ic["extra_params"]["offset_ra"], ic["extra_params"]["offset_dec"])
        for ic in configuration["instrument_configs"]
    ]
    assert offsets == [(0, 0), (0, 5), (0, 10)]
    assert configuration["extra_params"]["dither_pattern"] == "line"
    assert [ic["mode"] for ic in configuration["instrument_configs"]] == ["full_frame"] * 3  # checked and filled


def test_a_dithered_configuration_submits_unchanged(
    client: TestClient[Any], user_headers: dict[str, str], world: Container
) -> None:
    body = dither_body(pattern="grid", num_rows=2, num_columns=2, point_spacing=10, center=True)
    status, configuration = post(client, DITHER, body, user_headers)
    assert status == 200, configuration
    group = copy.deepcopy(P0)
    group["requests"][0]["configurations"] = [configuration]
    status, submitted = post(client, GROUPS, group, user_headers)
    assert status == 201, submitted
    assert len(submitted["requests"][0]["configurations"][0]["instrument_configs"]) == 4


def test_h2_and_other_dither_refusals(client: TestClient[Any], user_headers: dict[str, str]) -> None:
    grid = dither_body(pattern="grid", point_spacing=5, num_columns=2)
    assert post(client, DITHER, grid, user_headers) == (
        400,
        {"non_field_errors": ["Must specify num_rows and num_columns when selecting a grid pattern"]},
    )
    assert post(client, DITHER, dither_body(pattern="custom", point_spacing=5), user_headers) == (
        400,
        {"pattern": ['"custom" is not a valid choice.']},
    )
    assert post(client, DITHER, {"pattern": "line", "num_points": "x"}, user_headers) == (
        400,
        {"num_points": ["A valid integer is required."], "configuration": ["This field is required."]},
    )
    bad = dither_body(pattern="line", num_points=2, point_spacing=5, center="")
    bad["configuration"]["target"]["ra"] = 400
    assert post(client, DITHER, bad, user_headers) == (
        400,
        {
            "center": ["Must be a valid boolean."],
            "configuration": {"target": {"ra": ["Ensure this value is less than or equal to 360."]}},
        },
    )
    unknown = dither_body(pattern="line", num_points=2, point_spacing=5)
    unknown["configuration"]["instrument_type"] = "1M0-NOTHING"
    status, errors = post(client, DITHER, unknown, user_headers)
    assert status == 400
    assert errors["configuration"]["instrument_type"][0].startswith("Invalid instrument type 1M0-NOTHING.")


def test_dither_needs_a_user(client: TestClient[Any]) -> None:
    assert post(client, DITHER, dither_body(pattern="line", num_points=2, point_spacing=5), {}) == (
        403,
        NOT_PROVIDED,
    )


# ---------------------------------------------------------------------------------------------------------
# Mosaic


def test_mosaic_by_overlap_answers_the_request_tiled_along_dec(
    client: TestClient[Any], user_headers: dict[str, str], world: Container
) -> None:
    body = mosaic_body(pattern="line", num_points=3, point_overlap_percent=10)
    status, request = post(client, MOSAIC, body, user_headers)
    assert status == 200, request
    assert request["extra_params"] == {"mosaic_pattern": "line"}
    decs = [c["target"]["dec"] for c in request["configurations"]]
    # The demo Sinistro's 4k detector at 0.389"/px, 10 % overlap; its cameras' mean angle (0.01 deg) tilts it a little.
    step_arcsec = 4096 * 0.389 * 0.9
    assert decs == pytest.approx([20, 20 + step_arcsec / 3600, 20 + 2 * step_arcsec / 3600], rel=1e-4)
    assert [c["priority"] for c in request["configurations"]] == [1, 2, 3]
    group = copy.deepcopy(P0)
    group["requests"] = [request]
    status, submitted = post(client, GROUPS, group, user_headers)
    assert status == 201, submitted
    assert submitted["requests"][0]["extra_params"] == {"mosaic_pattern": "line"}


def test_h3_and_other_mosaic_refusals(client: TestClient[Any], user_headers: dict[str, str]) -> None:
    two = mosaic_body(pattern="line", num_points=2, point_spacing=60)
    two["request"]["configurations"] = [CONFIGURATION, CONFIGURATION]
    assert post(client, MOSAIC, two, user_headers) == (
        400,
        {"request": ["Cannot expand a request for mosaicing with more than one configuration set"]},
    )
    satellite = mosaic_body(pattern="line", num_points=2, point_spacing=60)
    satellite["request"]["configurations"][0]["target"] = {
        "name": "sat",
        "type": "SATELLITE",
        **dict.fromkeys(("altitude", "azimuth", "diff_altitude_rate", "diff_azimuth_rate"), 1),
        **dict.fromkeys(("diff_altitude_acceleration", "diff_azimuth_acceleration", "diff_epoch"), 1),
    }
    status, errors = post(client, MOSAIC, satellite, user_headers)
    assert status == 400
    assert "Mosaic expansion is only for ICRS Targets" in errors["request"][0]
    assert post(client, MOSAIC, mosaic_body(pattern="grid", num_rows=2, num_columns=2), user_headers) == (
        400,
        {"non_field_errors": ["Must specify one of point_spacing or point_overlap_percent"]},
    )
    assert post(client, MOSAIC, mosaic_body(pattern="spiral", num_points=2, point_spacing=5), user_headers) == (
        400,
        {"pattern": ['"spiral" is not a valid choice.']},
    )
    assert post(client, MOSAIC, {"pattern": "line"}, user_headers) == (
        400,
        {"request": ["This field is required."]},
    )


def test_mosaic_needs_a_user_and_answers_without_the_trailing_slash(
    client: TestClient[Any], user_headers: dict[str, str]
) -> None:
    body = mosaic_body(pattern="line", num_points=2, point_spacing=60)
    assert post(client, MOSAIC, body, {}) == (403, NOT_PROVIDED)
    assert client.post(MOSAIC.rstrip("/"), json=body, headers=user_headers).status_code == 200
