"""Contention and pressure of pending requests over the next 24 hours (api.md 4.4) over a double of the
Visibility port: what counts, how it is binned and shared, and what non-staff see."""

from __future__ import annotations

from datetime import timedelta

import pytest

from application.contention import (
    ALL_PROPOSALS,
    PRESSURE_BINS,
    RA_HOURS,
    SiteNight,
    contention,
    pressure,
)
from domain.duration import configuration_duration, overheads_from
from domain.permissions import Actor
from domain.requestgroups import Location, Target
from tests.unit.application.sky_fixtures import (
    FLOYDS,
    NOW,
    OTHER,
    SINISTRO,
    TEST,
    DailySky,
    SkyWorld,
    configuration,
    sky_request,
)
from tests.unit.domain.observatory_fixtures import demo_observatory

STAFF = Actor(1, is_staff=True)
SOON = NOW + timedelta(hours=12)


def seconds(exposure_time: float, instrument_type: str = SINISTRO) -> float:
    """The configuration time of one exposure (requests.md 4.2 step 3)."""
    config = configuration(exposure_time=exposure_time, instrument_type=instrument_type)
    return configuration_duration(config, overheads_from(demo_observatory())(instrument_type))


# ---------------------------------------------------------------------------------------------------------
# Contention


def test_configuration_time_is_summed_per_proposal_in_the_hour_of_its_right_ascension() -> None:
    world = SkyWorld()
    world.store_request(sky_request(configuration(34.4, exposure_time=100), start=SOON))
    world.store_request(sky_request(configuration(40.0, exposure_time=200), start=SOON))
    world.store_request(sky_request(configuration(359.9, exposure_time=100), start=SOON), proposal=OTHER)
    world.store_request(  # only the configuration of the type asked about counts
        sky_request(configuration(100.0), configuration(200.0, instrument_type=FLOYDS), start=SOON)
    )
    found = contention(world.uow(), STAFF, SINISTRO, NOW)
    assert (found.instrument_type, found.time_calculated, len(found.bins)) == (SINISTRO, NOW, RA_HOURS)
    assert found.bins[2] == {TEST: pytest.approx(seconds(100) + seconds(200))}
    assert found.bins[23] == {OTHER: pytest.approx(seconds(100))}
    assert found.bins[6] == {TEST: pytest.approx(seconds(100))}
    assert found.bins[13] == {}
    assert seconds(100) > 100


def test_only_pending_icrs_requests_of_the_type_with_a_window_in_the_next_day_count() -> None:
    world = SkyWorld()
    world.store_request(sky_request(start=NOW + timedelta(hours=24)))  # starts as the day ends
    world.store_request(sky_request(start=NOW - timedelta(days=2), days=2))  # ended as it began
    satellite = Target("sat", "SATELLITE", altitude=30, azimuth=20)
    world.store_request(sky_request(configuration(target=satellite), start=SOON))
    world.store_request(sky_request(configuration(instrument_type=FLOYDS), start=SOON))
    canceled = world.store_request(sky_request(start=SOON))
    with world.uow() as uow:
        group = uow.request_groups.containing_request(canceled.id or 0)
        assert group is not None
        group.cancel(NOW)
        uow.commit()
    assert all(found == {} for found in contention(world.uow(), STAFF, SINISTRO, NOW).bins)
    world.store_request(sky_request(start=NOW - timedelta(days=1), days=1.01))
    # The type matches in any case, and is echoed as asked.
    found = contention(world.uow(), STAFF, SINISTRO.lower(), NOW)
    assert found.instrument_type == SINISTRO.lower()
    assert found.bins[2] == {TEST: pytest.approx(seconds(100))}


def test_everyone_but_staff_sees_one_total_per_hour() -> None:
    world = SkyWorld()
    world.store_request(sky_request(configuration(34.4, exposure_time=100), start=SOON))
    world.store_request(sky_request(configuration(34.4, exposure_time=100), start=SOON), proposal=OTHER)
    for actor in (Actor.anonymous(), Actor(7, username="someone")):
        bins = contention(world.uow(), actor, SINISTRO, NOW).bins
        assert bins[2] == {ALL_PROPOSALS: pytest.approx(2 * seconds(100))}
        assert bins[0] == {ALL_PROPOSALS: 0}
        assert len(bins) == RA_HOURS


# ---------------------------------------------------------------------------------------------------------
# Pressure


def two_requests(world: SkyWorld) -> None:
    """One at elp (one Sinistro telescope), one at coj (two), each over two days from now."""
    world.store_request(sky_request(start=NOW, days=2, location=Location("1m0", "elp")))
    world.store_request(sky_request(start=NOW, days=2, location=Location("1m0", "coj")), proposal=OTHER)


def quarter(hours: float) -> int:
    return round(hours * 4)


def test_a_requests_duration_is_spread_over_its_visible_time_and_shared_among_the_telescopes() -> None:
    world = SkyWorld()
    two_requests(world)
    sky = DailySky({"elp": (2.0, 5.0), "coj": (10.0, 11.0)})
    found = pressure(world.uow(), STAFF, sky, NOW)
    elp = 226 / (2 * 3 * 3600)  # two nights of three hours
    coj = 226 / (2 * 1 * 3600) / 2  # two nights of an hour, two telescopes
    for index, bin_ in enumerate(found.bins):
        if quarter(2) <= index < quarter(5):
            assert bin_ == {TEST: pytest.approx(elp)}
        elif quarter(10) <= index < quarter(11):
            assert bin_ == {OTHER: pytest.approx(coj)}
        else:
            assert bin_ == {}
    assert found.time_bins == tuple(NOW + timedelta(minutes=15 * i) for i in range(PRESSURE_BINS))
    assert (found.instrument_type, found.site, found.time_calculated) == (None, None, NOW)
    assert set(found.site_nights) == {SiteNight("elp", 2.0, 5.0), SiteNight("coj", 10.0, 11.0)}


def test_intervals_already_over_or_too_short_for_the_request_do_not_count() -> None:
    world = SkyWorld()
    world.store_request(sky_request(start=NOW, days=2, location=Location("1m0", "elp"), duration=3 * 3600))
    now = NOW + timedelta(hours=3)  # the first night has two of its three hours left: too short
    found = pressure(world.uow(), STAFF, DailySky({"elp": (2.0, 5.0)}), now)
    counted = {index for index, bin_ in enumerate(found.bins) if bin_}
    assert counted == set(range(quarter(23), PRESSURE_BINS))  # the second night, from 02:00 the next day
    assert found.bins[quarter(23)] == {TEST: pytest.approx(1.0)}  # all of it in its only usable interval
    assert found.site_nights == (SiteNight("elp", 0.0, 2.0), SiteNight("elp", 23.0, 24.0))


def test_the_instrument_and_the_site_narrow_the_pressure() -> None:
    world = SkyWorld()
    two_requests(world)
    sky = DailySky({"elp": (2.0, 5.0), "coj": (10.0, 11.0)})
    floyds = pressure(world.uow(), STAFF, sky, NOW, instrument_type=FLOYDS)
    assert floyds.instrument_type == FLOYDS
    assert all(bin_ == {} for bin_ in floyds.bins)
    at_coj = pressure(world.uow(), STAFF, sky, NOW, instrument_type=SINISTRO.lower(), site="coj")
    assert {key for bin_ in at_coj.bins for key in bin_} == {OTHER}
    assert at_coj.site_nights == (SiteNight("coj", 10.0, 11.0),)
    assert at_coj.site == "coj"
    nowhere = pressure(world.uow(), STAFF, sky, NOW, site="mars")
    assert nowhere.site_nights == ()
    assert all(bin_ == {} for bin_ in nowhere.bins)


def test_everyone_but_staff_sees_one_total_per_quarter_hour() -> None:
    world = SkyWorld()
    two_requests(world)
    found = pressure(world.uow(), Actor.anonymous(), DailySky({"elp": (2.0, 5.0), "coj": (2.0, 3.0)}), NOW)
    assert len(found.bins) == PRESSURE_BINS
    elp, coj = 226 / (6 * 3600), 226 / (2 * 3600) / 2
    assert found.bins[quarter(2)] == {ALL_PROPOSALS: pytest.approx(elp + coj)}
    assert found.bins[quarter(4)] == {ALL_PROPOSALS: pytest.approx(elp)}
    assert found.bins[0] == {ALL_PROPOSALS: 0}


def test_pressure_asks_the_port_once_for_every_request() -> None:
    world = SkyWorld()
    two_requests(world)
    sky = DailySky({"elp": (2.0, 5.0)})
    pressure(world.uow(), STAFF, sky, NOW)
    requests_call, nights_call = sky.visible_calls
    assert len(requests_call[0]) == 2  # both requests' targets in one call
    assert len(nights_call[0]) == 6  # the stars that stand for darkness
    assert all(key.endswith("..") for key in nights_call[1])
