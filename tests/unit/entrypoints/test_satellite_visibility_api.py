"""SATELLITE targets through the sky check of requests.md 3.8 over HTTP, on the container's astropy adapter: a
request whose only target never rises above the horizon is refused on the request, one fixed high in the night
sky is accepted."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from adapters.clock import FixedClock
from domain.observatory import Observatory
from entrypoints.container import Container
from tests.unit.domain.observatory_fixtures import demo_observatory
from tests.unit.entrypoints.request_world import (
    NOW,
    VALIDATE,
    World,
    configuration_of,
    load_world,
    p0,
    refusal,
    submitted,
)


@pytest.fixture
def observatory() -> Observatory:
    return demo_observatory()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
def world(container: Container) -> Iterator[World]:
    yield from load_world(container)


def with_satellite(altitude: float, azimuth: float, **drift: float) -> dict[str, Any]:
    """P0 (a 30-day window from 2016-09-29, 1-metre telescopes) pointed at a SATELLITE target."""
    body = p0()
    configuration_of(body)["target"] = {
        "name": "satellite",
        "type": "SATELLITE",
        "altitude": altitude,
        "azimuth": azimuth,
        "diff_altitude_rate": 0,
        "diff_azimuth_rate": 0,
        "diff_altitude_acceleration": 0,
        "diff_azimuth_acceleration": 0,
        "diff_epoch": 57660,
        **drift,
    }
    return body


def test_a_request_whose_only_target_is_a_satellite_below_the_horizon_is_refused(client: Any, world: World) -> None:
    status, answer = refusal(client, world, with_satellite(5, 180))  # every 1-metre horizon is at 15 degrees
    assert status == 400
    (message,) = answer["requests"][0]["non_field_errors"]
    assert "the target will not be visible within the time window" in message
    status, answer = refusal(client, world, with_satellite(5, 180), path=VALIDATE)
    assert status == 200
    assert "the target will not be visible within the time window" in str(answer["errors"])


def test_a_satellite_fixed_high_over_the_meridian_is_accepted_with_the_nights_as_its_intervals(
    client: Any, world: World
) -> None:
    echoed = submitted(client, world, with_satellite(60, 180))
    assert echoed["requests"][0]["configurations"][0]["target"]["altitude"] == 60
    status, answer = refusal(client, world, with_satellite(60, 180), path=VALIDATE)
    assert status == 200
    assert answer["errors"] == {}
    largest_h = answer["request_durations"]["requests"][0]["largest_interval"] / 3600
    assert 9 < largest_h < 12  # a nautical night at one of the 1-metre sites in October


def test_r33_is_accepted_on_the_real_sky_its_drift_left_out_of_the_check(client: Any, world: World) -> None:
    """requests.md R33: rates 3/4 arcsec/s and accelerations 5/0.99 arcsec/s^2 counted from MJD 22 would spin the
    pointing round the sky; the check takes altitude 33, azimuth 2 as a fixed pointing and the group is stored."""
    body = with_satellite(
        33,
        2,
        diff_altitude_rate=3,
        diff_azimuth_rate=4,
        diff_altitude_acceleration=5,
        diff_azimuth_acceleration=0.99,
        diff_epoch=22,
    )
    echoed = submitted(client, world, body)
    assert echoed["requests"][0]["configurations"][0]["target"]["diff_epoch"] == 22
