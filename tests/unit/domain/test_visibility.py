"""The data of the Visibility port: interval algebra (with properties), constraints and telescope sites."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta, timezone
from itertools import pairwise

import pytest
from hypothesis import given

from domain.errors import ValidationError
from domain.visibility import (
    MJD_ZERO,
    Interval,
    ObservingConstraints,
    SatelliteTarget,
    SiderealTarget,
    TelescopeSite,
    intersect_intervals,
    longest_interval,
    normalise_intervals,
    subtract_intervals,
    union_intervals,
)
from tests.unit.domain.observatory_fixtures import demo_observatory
from tests.unit.domain.visibility_strategies import at, interval_lists, probe_minutes


def covers(intervals: Sequence[Interval], minutes: float) -> bool:
    return any(interval.contains(at(minutes)) for interval in intervals)


def is_normal(intervals: Sequence[Interval]) -> bool:
    return all(a.end < b.start for a, b in pairwise(intervals))


# ---------------------------------------------------------------------------------------------------------
# Interval


def test_interval_refuses_naive_times() -> None:
    with pytest.raises(ValidationError):
        Interval(datetime(2016, 10, 1), datetime(2016, 10, 2))


def test_interval_refuses_an_end_not_after_its_start() -> None:
    with pytest.raises(ValidationError, match="must be after its start"):
        Interval(at(5), at(5))
    with pytest.raises(ValidationError):
        Interval(at(5), at(4))


def test_interval_accepts_any_aware_zone_and_is_half_open() -> None:
    plus_two = timezone(timedelta(hours=2))
    interval = Interval(datetime(2016, 10, 1, 2, tzinfo=plus_two), datetime(2016, 10, 1, 0, 1, tzinfo=UTC))
    assert interval.seconds == 60
    assert interval.contains(datetime(2016, 10, 1, tzinfo=UTC))
    assert not interval.contains(datetime(2016, 10, 1, 0, 1, tzinfo=UTC))


def test_touching_intervals_merge_into_one() -> None:
    assert normalise_intervals([Interval(at(5), at(9)), Interval(at(0), at(5))]) == (Interval(at(0), at(9)),)


def test_subtracting_a_downtime_splits_an_interval() -> None:
    night = [Interval(at(0), at(60))]
    assert subtract_intervals(night, [Interval(at(10), at(20)), Interval(at(50), at(70))]) == (
        Interval(at(0), at(10)),
        Interval(at(20), at(50)),
    )


def test_longest_interval_is_the_earliest_of_the_longest() -> None:
    assert longest_interval([]) is None
    pieces = [Interval(at(30), at(40)), Interval(at(0), at(10)), Interval(at(12), at(15))]
    assert longest_interval(pieces) == Interval(at(0), at(10))


@given(interval_lists)
def test_normalising_keeps_every_instant_and_gives_a_normal_tuple(intervals: list[Interval]) -> None:
    normal = normalise_intervals(intervals)
    assert is_normal(normal)
    assert normalise_intervals(normal) == normal
    for minutes in probe_minutes:
        assert covers(normal, minutes) == covers(intervals, minutes)


@given(interval_lists, interval_lists)
def test_union_holds_the_instants_of_either(first: list[Interval], second: list[Interval]) -> None:
    union = union_intervals(first, second)
    assert is_normal(union)
    assert union == union_intervals(second, first)
    for minutes in probe_minutes:
        assert covers(union, minutes) == (covers(first, minutes) or covers(second, minutes))


@given(interval_lists, interval_lists)
def test_intersection_holds_the_instants_of_both(first: list[Interval], second: list[Interval]) -> None:
    both = intersect_intervals(first, second)
    assert is_normal(both)
    assert both == intersect_intervals(second, first)
    for minutes in probe_minutes:
        assert covers(both, minutes) == (covers(first, minutes) and covers(second, minutes))


@given(interval_lists, interval_lists)
def test_difference_holds_the_instants_of_the_first_only(first: list[Interval], second: list[Interval]) -> None:
    difference = subtract_intervals(first, second)
    assert is_normal(difference)
    for minutes in probe_minutes:
        assert covers(difference, minutes) == (covers(first, minutes) and not covers(second, minutes))
    # Cutting out and adding back what was cut out gives the original set.
    assert union_intervals(difference, intersect_intervals(first, second)) == normalise_intervals(first)


@given(interval_lists)
def test_total_length_never_grows_by_intersecting(intervals: list[Interval]) -> None:
    window = [Interval(at(10), at(40))]
    inside = intersect_intervals(intervals, window)
    assert sum(i.seconds for i in inside) <= min(
        sum(i.seconds for i in normalise_intervals(intervals)), window[0].seconds
    )


# ---------------------------------------------------------------------------------------------------------
# Targets, constraints, telescopes


def test_constraint_defaults_are_the_request_defaults_and_nautical_twilight() -> None:
    constraints = ObservingConstraints()
    assert (constraints.max_airmass, constraints.min_lunar_distance_deg, constraints.max_lunar_phase) == (1.6, 30, 1)
    assert constraints.twilight_sun_alt_deg == -12.0


def test_airmass_two_means_thirty_degrees_of_altitude() -> None:
    assert ObservingConstraints(max_airmass=2.0).min_altitude_deg == pytest.approx(30.0)
    assert ObservingConstraints(max_airmass=1.0).min_altitude_deg == pytest.approx(90.0)


def test_out_of_range_values_are_refused() -> None:
    with pytest.raises(ValidationError):
        ObservingConstraints(max_airmass=0.5)
    with pytest.raises(ValidationError):
        SiderealTarget(ra_deg=10, dec_deg=91)
    with pytest.raises(ValidationError):
        SiderealTarget(ra_deg=math.nan, dec_deg=0)


def test_a_satellite_target_drifts_from_its_epoch_by_its_rates_and_accelerations_in_arcseconds() -> None:
    epoch = datetime(2016, 10, 1, 5, tzinfo=UTC)
    satellite = SatelliteTarget(
        altitude_deg=40.0,
        azimuth_deg=350.0,
        diff_altitude_rate_arcsec_per_s=-12.5,
        diff_azimuth_rate_arcsec_per_s=36.0,
        diff_altitude_acceleration_arcsec_per_s2=0.01,
        diff_azimuth_acceleration_arcsec_per_s2=-0.02,
        diff_epoch_mjd=57662.0 + 5 / 24,  # 2016-10-01T05:00:00Z
    )
    assert satellite.seconds_since_epoch(epoch) == pytest.approx(0.0, abs=1e-4)
    assert satellite.position_deg(epoch) == pytest.approx((40.0, 350.0))
    hour_later = epoch + timedelta(hours=1)
    altitude, azimuth = satellite.position_deg(hour_later)
    assert altitude == pytest.approx(40.0 + (-12.5 * 3600 + 0.01 * 3600**2 / 2) / 3600)  # 40 - 12.5 + 18
    assert azimuth == pytest.approx(350.0 + (36.0 * 3600 - 0.02 * 3600**2 / 2) / 3600)  # carried past 360
    earlier = satellite.position_deg(epoch - timedelta(minutes=10))
    assert earlier[0] == pytest.approx(40.0 + (12.5 * 600 + 0.01 * 600**2 / 2) / 3600)


def test_a_satellite_epoch_is_a_modified_julian_date() -> None:
    assert MJD_ZERO + timedelta(days=57662) == datetime(2016, 10, 1, tzinfo=UTC)
    satellite = SatelliteTarget(30.0, 10.0, diff_epoch_mjd=57662.5)
    assert satellite.seconds_since_epoch(datetime(2016, 10, 2, tzinfo=UTC)) == pytest.approx(43200.0)


@pytest.mark.parametrize(
    "fields",
    [
        {"altitude_deg": 90.5, "azimuth_deg": 0.0},
        {"altitude_deg": -1.0, "azimuth_deg": 0.0},
        {"altitude_deg": 30.0, "azimuth_deg": 360.1},
        {"altitude_deg": 30.0, "azimuth_deg": 0.0, "diff_altitude_rate_arcsec_per_s": math.inf},
        {"altitude_deg": 30.0, "azimuth_deg": 0.0, "diff_azimuth_acceleration_arcsec_per_s2": math.nan},
        {"altitude_deg": 30.0, "azimuth_deg": 0.0, "diff_epoch_mjd": -math.inf},
    ],
)
def test_a_satellite_target_refuses_out_of_range_or_non_finite_values(fields: dict[str, float]) -> None:
    with pytest.raises(ValidationError):
        SatelliteTarget(**fields)


def test_telescope_site_takes_the_telescope_position_and_the_site_elevation() -> None:
    observatory = demo_observatory()
    telescope = next(t for t in observatory.telescopes.values() if t.code == "2m0a" and t.lat > 0)
    enclosure = observatory.enclosures[telescope.enclosure_id]
    site = observatory.sites[enclosure.site_id]
    described = TelescopeSite.of(site, enclosure, telescope)
    assert described.key == "ogg.clma.2m0a"
    assert (described.lat_deg, described.long_deg, described.elevation_m) == (
        telescope.lat,
        telescope.long,
        site.elevation,
    )
    assert (described.horizon_deg, described.zenith_blind_spot_deg) == (25.0, 2.0)
    assert described.hour_angle_range_h == (telescope.ha_limit_neg, telescope.ha_limit_pos)


def test_hour_angle_limits_are_mirrored_south_of_the_equator() -> None:
    north = TelescopeSite("elp", "doma", "1m0a", 30.68, -104.02, 2070, 15, -1.0, 3.0)
    south = TelescopeSite("lsc", "doma", "1m0a", -30.17, -70.80, 2198, 15, -1.0, 3.0)
    assert north.hour_angle_range_h == (-1.0, 3.0)
    assert south.hour_angle_range_h == (-3.0, 1.0)
