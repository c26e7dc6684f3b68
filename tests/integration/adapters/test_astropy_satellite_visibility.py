"""The astropy Visibility adapter on SATELLITE targets (requests.md 2.9, 3.8): a local altitude and azimuth with
rates, against the same rules worked out independently with astropy.

The reference turns the drifted altitude and azimuth into a direction in astropy's ``AltAz`` frame at the site,
then takes the hour angle from astropy's ``HADec`` transform, the lunar distance as the separation from the moon
transformed into the same ``AltAz`` frame (topocentric), and the sun's altitude and the moon's phase as the tests
of fixed stars do. The adapter must agree with it at any instant except within seconds of an interval edge.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import astropy.units as u
import attrs
import numpy as np
import pytest
from astropy.coordinates import AltAz, EarthLocation, HADec, SkyCoord, get_body, get_sun
from astropy.time import Time

from adapters.astropy_visibility import AstropyVisibility
from domain.visibility import (
    MJD_ZERO,
    MOON_DOWN_ALT_DEG,
    Interval,
    ObservingConstraints,
    SatelliteTarget,
    SiderealTarget,
    TelescopeSite,
)
from tests.integration.adapters.test_astropy_visibility import R29, telescopes, visibility

__all__ = ["telescopes", "visibility"]  # the fixtures, shared with the tests of fixed stars and orbits

EDGE_TOLERANCE_S = 15.0  # the spec asks for a minute; sampled every minute and interpolated, edges are good to ~2 s
TWO_NIGHTS = Interval(datetime(2016, 10, 1, tzinfo=UTC), datetime(2016, 10, 3, tzinfo=UTC))
# Around the full moon of 2016-10-16, so that the lunar rules cut into the nights.
FULL_MOON_DAYS = Interval(datetime(2016, 10, 14, 12, tzinfo=UTC), datetime(2016, 10, 17, 12, tzinfo=UTC))
NO_MOON_RULES = ObservingConstraints(max_airmass=5.0, min_lunar_distance_deg=0.0)


def mjd(moment: datetime) -> float:
    return (moment - MJD_ZERO).total_seconds() / 86400.0


def visible_by_astropy(
    telescope: TelescopeSite, target: SatelliteTarget, constraints: ObservingConstraints, moments: Sequence[datetime]
) -> np.ndarray:
    """Whether every rule of requests.md 3.8 holds for the satellite at each moment, by astropy's reckoning."""
    location = EarthLocation.from_geodetic(
        telescope.long_deg * u.deg, telescope.lat_deg * u.deg, telescope.elevation_m * u.m
    )
    times = Time(list(moments))
    altaz = AltAz(obstime=times, location=location)
    dt = np.array([(m - MJD_ZERO).total_seconds() - target.diff_epoch_mjd * 86400 for m in moments])
    alt = np.radians(
        target.altitude_deg
        + (target.diff_altitude_rate_arcsec_per_s * dt + target.diff_altitude_acceleration_arcsec_per_s2 * dt**2 / 2)
        / 3600
    )
    az = np.radians(
        target.azimuth_deg
        + (target.diff_azimuth_rate_arcsec_per_s * dt + target.diff_azimuth_acceleration_arcsec_per_s2 * dt**2 / 2)
        / 3600
    )
    # The direction of the drifted angles (an altitude past 90 degrees has gone over the zenith), as AltAz holds it.
    direction = SkyCoord(
        az=np.arctan2(np.cos(alt) * np.sin(az), np.cos(alt) * np.cos(az)) * u.rad,
        alt=np.arcsin(np.sin(alt)) * u.rad,
        frame=altaz,
    )
    hour_angle_h = direction.transform_to(HADec(obstime=times, location=location)).ha.wrap_at(12 * u.hourangle).hour
    sun = get_sun(times)
    moon = get_body("moon", times, ephemeris="builtin")
    moon_altaz = moon.transform_to(altaz)
    elongation = sun.separation(moon).rad
    phase_angle = np.arctan2(
        sun.distance.au * np.sin(elongation), moon.distance.au - sun.distance.au * np.cos(elongation)
    )
    illuminated = (1 + np.cos(phase_angle)) / 2
    ha_low, ha_high = telescope.hour_angle_range_h
    altitude = direction.alt.deg
    visible: np.ndarray = (
        (altitude > max(constraints.min_altitude_deg, telescope.horizon_deg))
        & ((altitude < 90 - telescope.zenith_blind_spot_deg) | (telescope.zenith_blind_spot_deg == 0))
        & (hour_angle_h >= ha_low)
        & (hour_angle_h <= ha_high)
        & (sun.transform_to(altaz).alt.deg < constraints.twilight_sun_alt_deg)
        & (direction.separation(moon_altaz).deg > constraints.min_lunar_distance_deg)
        & ((illuminated <= constraints.max_lunar_phase) | (moon_altaz.alt.deg < MOON_DOWN_ALT_DEG))
    )
    return visible


def dark_by_astropy(telescope: TelescopeSite, window: Interval) -> list[tuple[datetime, datetime]]:
    """The nautical nights inside the window: the sun's altitude every minute, crossings of -12 degrees
    interpolated."""
    location = EarthLocation.from_geodetic(
        telescope.long_deg * u.deg, telescope.lat_deg * u.deg, telescope.elevation_m * u.m
    )
    minutes = int(window.seconds // 60)
    moments = [window.start + timedelta(minutes=k) for k in range(minutes + 1)]
    margin = -12.0 - get_sun(Time(moments)).transform_to(AltAz(obstime=Time(moments), location=location)).alt.deg
    edges: list[datetime] = [window.start] if margin[0] > 0 else []
    for k in np.flatnonzero(np.diff(np.sign(margin)) != 0).tolist():
        fraction = margin[k] / (margin[k] - margin[k + 1])
        edges.append(moments[k] + timedelta(minutes=float(fraction)))
    if margin[-1] > 0:
        edges.append(window.end)
    return list(zip(edges[0::2], edges[1::2], strict=True))


def covered(intervals: Sequence[Interval], moment: datetime) -> bool:
    return any(interval.contains(moment) for interval in intervals)


def seconds_apart(a: datetime, b: datetime) -> float:
    return abs((a - b).total_seconds())


# A few satellites, fixed and drifting, and constraints that make every rule bite somewhere near the full moon.
FULL_MOON_EPOCH = mjd(datetime(2016, 10, 15, 7, 12, tzinfo=UTC))
SATELLITES = [
    SatelliteTarget(60.0, 180.0),
    SatelliteTarget(30.0, 250.0, 2.0, -5.0, 0.0004, -0.001, FULL_MOON_EPOCH),
    SatelliteTarget(50.0, 20.0),
    SatelliteTarget(70.0, 300.0, 0.5, 3.0, 0.0, 0.0, FULL_MOON_EPOCH),
    SatelliteTarget(45.0, 120.0, -1.0, 8.0, 0.0, 0.0, FULL_MOON_EPOCH),
]
CONSTRAINTS = [
    ObservingConstraints(max_airmass=2.0, min_lunar_distance_deg=30.0),
    ObservingConstraints(max_airmass=3.0, min_lunar_distance_deg=20.0, max_lunar_phase=0.5),
    ObservingConstraints(max_airmass=1.6, min_lunar_distance_deg=45.0),
    ObservingConstraints(max_airmass=2.5, min_lunar_distance_deg=10.0),
    ObservingConstraints(max_airmass=2.0, min_lunar_distance_deg=60.0),
]
CHECKED = ("elp.doma.1m0a", "lsc.doma.1m0a", "ogg.clma.2m0a", "cpt.aqwa.0m4a")


@pytest.fixture(scope="module")
def full_moon_answer(
    visibility: AstropyVisibility, telescopes: dict[str, TelescopeSite]
) -> list[dict[str, tuple[Interval, ...]]]:
    answer = visibility.visible_intervals(
        SATELLITES, [telescopes[key] for key in CHECKED], [[FULL_MOON_DAYS]] * len(SATELLITES), CONSTRAINTS
    )
    return [dict(per_target) for per_target in answer]


# ---------------------------------------------------------------------------------------------------------
# Agreement with astropy


def test_every_satellite_edge_is_where_astropy_flips_within_fifteen_seconds(
    full_moon_answer: list[dict[str, tuple[Interval, ...]]], telescopes: dict[str, TelescopeSite]
) -> None:
    """Around each edge astropy's verdict is sampled every second; it flips within the tolerance of the edge."""
    checked = 0
    worst = 0.0
    for key in CHECKED:
        for index, (target, constraints) in enumerate(zip(SATELLITES, CONSTRAINTS, strict=True)):
            for interval in full_moon_answer[index][key]:
                for edge in (interval.start, interval.end):
                    if edge in (FULL_MOON_DAYS.start, FULL_MOON_DAYS.end):
                        continue
                    moments = [edge + timedelta(seconds=s) for s in range(-60, 61)]
                    verdicts = visible_by_astropy(telescopes[key], target, constraints, moments)
                    flips = np.flatnonzero(np.diff(verdicts.astype(int)) != 0) - 59.5
                    assert flips.size, f"{key} satellite {index}: astropy sees no edge near {edge}"
                    worst = max(worst, float(np.abs(flips).min()))
                    checked += 1
    assert worst < EDGE_TOLERANCE_S
    assert checked > 60  # nights, lunar cuts and drifts of four sites


def test_satellite_membership_agrees_with_astropy_away_from_edges(
    full_moon_answer: list[dict[str, tuple[Interval, ...]]], telescopes: dict[str, TelescopeSite]
) -> None:
    # Every 7 minutes (prime to the adapter's one-minute grid and the 5- and 10-minute sun and moon grids).
    moments = [FULL_MOON_DAYS.start + timedelta(minutes=7 * k + 3) for k in range(int(FULL_MOON_DAYS.seconds // 420))]
    seen = 0
    for key in CHECKED:
        for index, (target, constraints) in enumerate(zip(SATELLITES, CONSTRAINTS, strict=True)):
            intervals = full_moon_answer[index][key]
            expected = visible_by_astropy(telescopes[key], target, constraints, moments)
            got = np.array([covered(intervals, m) for m in moments])
            edges = [e for interval in intervals for e in (interval.start, interval.end)]
            for column in np.flatnonzero(expected != got).tolist():
                nearest = min((seconds_apart(moments[column], e) for e in edges), default=np.inf)
                assert nearest < EDGE_TOLERANCE_S, f"{key} satellite {index} at {moments[column]}"
            seen += int(expected.sum())
    assert seen > 1000  # a good part of three nights at four sites


# ---------------------------------------------------------------------------------------------------------
# Each rule, on its own


@pytest.mark.parametrize("key", ["elp.doma.1m0a", "lsc.doma.1m0a", "cpt.doma.1m0a"])
def test_a_satellite_fixed_high_in_the_south_is_visible_exactly_during_nautical_night(
    visibility: AstropyVisibility, telescopes: dict[str, TelescopeSite], key: str
) -> None:
    """Altitude 60, azimuth 180 is on the meridian (hour angle 0) north and south of the equator alike."""
    telescope = telescopes[key]
    (answer,) = visibility.visible_intervals(
        [SatelliteTarget(60.0, 180.0)], [telescope], [[TWO_NIGHTS]], [NO_MOON_RULES]
    )
    nights = dark_by_astropy(telescope, TWO_NIGHTS)
    assert len(answer[key]) == len(nights) >= 2
    for interval, (dusk, dawn) in zip(answer[key], nights, strict=True):
        assert seconds_apart(interval.start, dusk) < EDGE_TOLERANCE_S
        assert seconds_apart(interval.end, dawn) < EDGE_TOLERANCE_S


def test_a_satellite_below_the_horizon_is_never_visible(
    visibility: AstropyVisibility, telescopes: dict[str, TelescopeSite]
) -> None:
    window = Interval(datetime(2016, 9, 29, 21, 12, 18, tzinfo=UTC), datetime(2016, 10, 29, 21, 12, 19, tzinfo=UTC))
    every = list(telescopes.values())
    low = ObservingConstraints(max_airmass=25.0, min_lunar_distance_deg=0.0)  # airmass 25 is 2.3 degrees up
    (answer,) = visibility.visible_intervals([SatelliteTarget(5.0, 180.0)], every, [[window]], [low])
    assert all(intervals == () for intervals in answer.values())  # every horizon is at 15 degrees or more
    # At 20 degrees towards the equator (hour angle 0) it is above a 15 degree horizon, not above a 25 degree one.
    elp, ogg = telescopes["elp.doma.1m0a"], telescopes["ogg.clma.0m4b"]
    assert (elp.horizon_deg, ogg.horizon_deg) == (15.0, 25.0)
    (higher,) = visibility.visible_intervals([SatelliteTarget(20.0, 180.0)], [elp, ogg], [[window]], [low])
    assert len(higher[elp.key]) == 30
    assert higher[ogg.key] == ()


@pytest.mark.parametrize(
    ("rate", "acceleration", "seconds"),
    [
        pytest.param(-12.5, 0.0, 7200, id="steady descent for two hours"),
        pytest.param(0.0, -0.005, 6000, id="accelerating descent for 6000 s"),
    ],
)
def test_a_drifting_satellite_stops_being_visible_when_it_sinks_below_the_horizon(
    visibility: AstropyVisibility,
    telescopes: dict[str, TelescopeSite],
    rate: float,
    acceleration: float,
    seconds: int,
) -> None:
    """From altitude 40 due south at 05:00 UT (the middle of the night at elp) it reaches the 15 degree horizon
    ``seconds`` later: 40 + rate t + acceleration t^2 / 2 = 15 (in arcseconds). Before 05:00 the steady one was
    higher, up since dusk; the accelerating one (a parabola about 05:00) rose ``seconds`` before. The window ends
    at 08:00: drifting on, each goes round through the nadir and comes up in the north later in the night."""
    elp = telescopes["elp.doma.1m0a"]
    epoch = datetime(2016, 10, 1, 5, tzinfo=UTC)
    falling = SatelliteTarget(40.0, 180.0, rate, 0.0, acceleration, 0.0, mjd(epoch))
    sets = epoch + timedelta(seconds=seconds)
    assert falling.position_deg(sets)[0] == pytest.approx(15.0)
    window = Interval(TWO_NIGHTS.start, epoch + timedelta(hours=3))
    (answer,) = visibility.visible_intervals([falling], [elp], [[window]], [NO_MOON_RULES])
    (visible,) = answer[elp.key]
    (dusk, _), *_ = dark_by_astropy(elp, window)
    rises = dusk if acceleration == 0 else epoch - timedelta(seconds=seconds)
    assert seconds_apart(visible.start, rises) < EDGE_TOLERANCE_S
    assert seconds_apart(visible.end, sets) < 60  # the spec's minute
    assert seconds_apart(visible.end, sets) < 5  # what the adapter achieves


def test_the_lunar_distance_is_measured_from_the_moon_seen_at_the_site(
    visibility: AstropyVisibility, telescopes: dict[str, TelescopeSite]
) -> None:
    """Pointed where the full moon stands at 07:00 UT over elp, the satellite stays there while the moon moves on
    (about 15 degrees an hour across the local sky): it is visible once the moon is 30 degrees away."""
    elp = telescopes["elp.doma.1m0a"]
    midnight = datetime(2016, 10, 16, 7, tzinfo=UTC)
    location = EarthLocation.from_geodetic(elp.long_deg * u.deg, elp.lat_deg * u.deg, elp.elevation_m * u.m)
    moon = get_body("moon", Time(midnight), ephemeris="builtin").transform_to(
        AltAz(obstime=Time(midnight), location=location)
    )
    at_the_moon = SatelliteTarget(float(moon.alt.deg), float(moon.az.deg))
    window = Interval(midnight - timedelta(hours=4), midnight + timedelta(hours=4))
    strict = ObservingConstraints(max_airmass=3.0, min_lunar_distance_deg=30.0)
    (loose_answer, strict_answer) = visibility.visible_intervals(
        [at_the_moon] * 2, [elp], [[window]] * 2, [NO_MOON_RULES, strict]
    )
    assert loose_answer[elp.key] == (window,)
    edges = [e for interval in strict_answer[elp.key] for e in (interval.start, interval.end)]
    assert len(edges) == 4  # away from the moon before it comes, and after it has gone
    assert edges[1] < midnight - timedelta(hours=1)
    assert edges[2] > midnight + timedelta(hours=1)
    for edge in edges[1:3]:
        moments = [edge + timedelta(seconds=s) for s in (-EDGE_TOLERANCE_S, EDGE_TOLERANCE_S)]
        before, after = visible_by_astropy(elp, at_the_moon, strict, moments)
        assert before != after  # astropy's lunar distance crosses 30 degrees within the tolerance


def test_hour_angle_limits_apply_to_the_satellites_direction_and_are_mirrored_in_the_south(
    visibility: AstropyVisibility, telescopes: dict[str, TelescopeSite]
) -> None:
    """Low in the east (altitude 20, azimuth 90) is an hour angle of about -4.8 h at latitude +-30: outside the
    1-metre limits of +-4.6 h; inside -5 h .. +1 h in the north, but not in the south, where those limits mirror
    to -1 h .. +5 h and low in the west (azimuth 270, +4.8 h) is inside instead."""
    east, west = SatelliteTarget(20.0, 90.0), SatelliteTarget(20.0, 270.0)
    elp, lsc = telescopes["elp.doma.1m0a"], telescopes["lsc.doma.1m0a"]
    location = EarthLocation.from_geodetic(elp.long_deg * u.deg, elp.lat_deg * u.deg, elp.elevation_m * u.m)
    noon = Time("2016-10-01T12:00:00")
    hour_angle = SkyCoord(az=90 * u.deg, alt=20 * u.deg, frame=AltAz(obstime=noon, location=location)).transform_to(
        HADec(obstime=noon, location=location)
    )
    assert -5.0 < hour_angle.ha.wrap_at(12 * u.hourangle).hour < -4.6
    wide = [attrs.evolve(t, telescope="wide", ha_limit_neg_h=-5.0, ha_limit_pos_h=1.0) for t in (elp, lsc)]
    answer = visibility.visible_intervals([east, west], [elp, lsc, *wide], [[TWO_NIGHTS]] * 2, [NO_MOON_RULES] * 2)
    east_answer, west_answer = answer
    assert east_answer[elp.key] == east_answer[lsc.key] == ()
    assert west_answer[elp.key] == west_answer[lsc.key] == ()
    assert east_answer["elp.doma.wide"]
    assert east_answer["lsc.doma.wide"] == ()
    assert west_answer["elp.doma.wide"] == ()
    assert west_answer["lsc.doma.wide"]
    assert len(east_answer["elp.doma.wide"]) == len(dark_by_astropy(elp, TWO_NIGHTS))


def test_the_zenith_blind_spot_refuses_a_satellite_near_the_zenith(
    visibility: AstropyVisibility, telescopes: dict[str, TelescopeSite]
) -> None:
    ogg = telescopes["ogg.clma.2m0a"]  # a blind spot of 2 degrees around the zenith
    overhead, beside = SatelliteTarget(89.0, 0.0), SatelliteTarget(87.0, 0.0)
    answer = visibility.visible_intervals([overhead, beside], [ogg], [[TWO_NIGHTS]] * 2, [NO_MOON_RULES] * 2)
    assert answer[0][ogg.key] == ()
    assert len(answer[1][ogg.key]) == 2


def test_a_satellite_drifting_over_the_zenith_comes_down_on_the_other_side(
    visibility: AstropyVisibility, telescopes: dict[str, TelescopeSite]
) -> None:
    """Rising at 50 arcsec/s from altitude 20 in the south at 08:00 UT, it passes the zenith after 84 minutes
    (hidden by the blind spot for 2.4 minutes either side) and sets in the north 84 minutes later, at altitude
    160 (20 degrees up, facing north)."""
    ogg = attrs.evolve(telescopes["ogg.clma.2m0a"], horizon_deg=20.0)
    epoch = datetime(2016, 10, 1, 8, tzinfo=UTC)  # night at ogg is about 05:00-15:30 UT
    rising = SatelliteTarget(20.0, 180.0, 50.0, 0.0, 0.0, 0.0, mjd(epoch))
    (answer,) = visibility.visible_intervals(
        [rising], [ogg], [[Interval(epoch, epoch + timedelta(hours=4))]], [NO_MOON_RULES]
    )
    (up, down) = answer[ogg.key]
    assert seconds_apart(up.start, epoch) < 1
    blind_start = epoch + timedelta(seconds=(88 - 20) * 3600 / 50)
    blind_end = epoch + timedelta(seconds=(92 - 20) * 3600 / 50)
    set_time = epoch + timedelta(seconds=(160 - 20) * 3600 / 50)
    assert seconds_apart(up.end, blind_start) < 5
    assert seconds_apart(down.start, blind_end) < 5
    assert seconds_apart(down.end, set_time) < 5


# ---------------------------------------------------------------------------------------------------------
# Speed, mixing with other targets, pieces, downtimes


def test_a_drift_extrapolated_over_a_century_is_too_fast_to_follow_and_never_visible(
    visibility: AstropyVisibility, telescopes: dict[str, TelescopeSite]
) -> None:
    """R33's numbers (requests.md 8.2): accelerations of 5 and 0.99 arcsec/s^2 counted from MJD 22 (1858) make
    the target turn thousands of times a second by 2016; no grid follows that, and it is never counted visible.
    Absurd but finite drifts are answered too, quickly and without a warning."""
    r33 = SatelliteTarget(33.0, 2.0, 3.0, 4.0, 5.0, 0.99, 22.0)
    absurd = SatelliteTarget(90.0, 360.0, 1e300, -1e300, 1e300, 1e300, -1e300)
    window = Interval(datetime(2016, 9, 29, 21, 12, 18, tzinfo=UTC), datetime(2016, 10, 29, 21, 12, 19, tzinfo=UTC))
    every = list(telescopes.values())
    with np.errstate(all="raise"):
        answer = visibility.visible_intervals([r33, absurd], every, [[window]] * 2, [ObservingConstraints()] * 2)
    assert all(intervals == () for per_target in answer for intervals in per_target.values())


def test_a_satellite_fast_for_part_of_the_window_is_visible_only_while_it_is_slow_enough(
    visibility: AstropyVisibility, telescopes: dict[str, TelescopeSite]
) -> None:
    """Its azimuth accelerates from rest at 2 arcsec/s^2, which at altitude 60 moves it on the sky at t arcsec/s:
    half a degree a second (1800 arcsec/s) after 1800 s. It is followed until then, on a grid of about a
    second at the end."""
    elp = telescopes["elp.doma.1m0a"]
    epoch = datetime(2016, 10, 1, 5, tzinfo=UTC)
    spinning = SatelliteTarget(60.0, 180.0, 0.0, 0.0, 0.0, 2.0, mjd(epoch))
    window = Interval(epoch, epoch + timedelta(hours=1))
    loose = ObservingConstraints(max_airmass=5.0, min_lunar_distance_deg=0.0)
    open_limits = attrs.evolve(elp, telescope="open", ha_limit_neg_h=-12.0, ha_limit_pos_h=12.0)
    (answer,) = visibility.visible_intervals([spinning], [open_limits], [[window]], [loose])
    (followed,) = answer[open_limits.key]
    assert followed.start == epoch
    assert seconds_apart(followed.end, epoch + timedelta(seconds=1800)) < 2


def test_satellites_are_answered_in_order_among_stars_and_orbits(
    visibility: AstropyVisibility, telescopes: dict[str, TelescopeSite]
) -> None:
    lsc = telescopes["lsc.doma.1m0a"]
    window = [TWO_NIGHTS]
    star = SiderealTarget(ra_deg=34.4, dec_deg=-20.0)
    satellite = SatelliteTarget(50.0, 200.0, 1.0, -2.0, 0.0, 0.0, mjd(TWO_NIGHTS.start))
    constraints = ObservingConstraints(max_airmass=2.0)
    together = visibility.visible_intervals([satellite, star, R29, satellite], [lsc], [window] * 4, [constraints] * 4)
    alone = [visibility.visible_intervals([t], [lsc], [window], [constraints])[0] for t in (satellite, star, R29)]
    assert together == [alone[0], alone[1], alone[2], alone[0]]
    assert alone[0][lsc.key]
    assert alone[0][lsc.key] != alone[1][lsc.key]


def test_a_night_across_the_weekly_pieces_of_a_satellite_is_one_interval(
    visibility: AstropyVisibility, telescopes: dict[str, TelescopeSite]
) -> None:
    """Satellites are sampled a week at a time from their first window start; the pieces join seamlessly, and a
    satellite without windows gets nothing."""
    cpt = telescopes["cpt.doma.1m0a"]
    start = datetime(2016, 10, 1, tzinfo=UTC)
    boundary = start + timedelta(days=7)  # 02:00 local time at Sutherland: the satellite is up across it
    window = [Interval(start, start + timedelta(days=14))]
    satellite = SatelliteTarget(60.0, 180.0)
    answer = visibility.visible_intervals([satellite, satellite], [cpt], [window, []], [NO_MOON_RULES] * 2)
    (across,) = [i for i in answer[0][cpt.key] if i.start <= boundary <= i.end]
    assert across.start < boundary - timedelta(hours=2)
    assert across.end > boundary + timedelta(hours=1)
    nights = dark_by_astropy(cpt, window[0])
    assert len(answer[0][cpt.key]) == len(nights) == 15  # 14 nights and the end of the one the window opens in
    for interval, (dusk, dawn) in zip(answer[0][cpt.key], nights, strict=True):
        assert seconds_apart(interval.start, dusk) < EDGE_TOLERANCE_S
        assert seconds_apart(interval.end, dawn) < EDGE_TOLERANCE_S
    assert answer[1][cpt.key] == ()


def test_downtimes_and_windows_cut_a_satellites_nights(
    visibility: AstropyVisibility, telescopes: dict[str, TelescopeSite]
) -> None:
    elp = telescopes["elp.doma.1m0a"]
    first = Interval(datetime(2016, 10, 1, 3, tzinfo=UTC), datetime(2016, 10, 1, 9, tzinfo=UTC))
    second = Interval(datetime(2016, 10, 2, 4, tzinfo=UTC), datetime(2016, 10, 2, 5, tzinfo=UTC))
    down = Interval(datetime(2016, 10, 1, 5, tzinfo=UTC), datetime(2016, 10, 1, 6, tzinfo=UTC))
    (answer,) = visibility.visible_intervals(
        [SatelliteTarget(60.0, 180.0)], [elp], [[first, second]], [NO_MOON_RULES], {elp.key: [down]}
    )
    assert answer[elp.key] == (Interval(first.start, down.start), Interval(down.end, first.end), second)
