"""The visibility check around the port (requests.md 3.8): candidate telescopes, intersection of targets,
downtimes, union per site, clipping to now and the messages. The astronomy is a double here; the astropy
adapter has its own tests."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta

import attrs
import pytest

from application.request_visibility import (
    NOT_VISIBLE,
    candidate_telescopes,
    largest_after,
    visibility_messages,
    visible_intervals_by_site,
)
from domain.observatory import InstrumentState
from domain.requestgroups import Configuration, InstrumentConfig, Location, Request, Target, Window
from domain.visibility import (
    Interval,
    ObservingConstraints,
    OrbitalTarget,
    SatelliteTarget,
    SiderealTarget,
    TelescopeSite,
    VisibilityTarget,
    subtract_intervals,
)
from tests.unit.domain.observatory_fixtures import demo_observatory

START = datetime(2016, 10, 1, tzinfo=UTC)
SINISTRO = "1M0-SCICAM-SINISTRO"


class SkyDouble:
    """Every target is visible during ``hours`` of each day (UTC), per telescope key, minus downtimes."""

    def __init__(self, hours: Mapping[str, tuple[int, int]] | None = None) -> None:
        self.hours = hours
        self.calls: list[tuple[int, list[str]]] = []

    def visible_intervals(
        self,
        targets: Sequence[SiderealTarget],
        telescopes: Sequence[TelescopeSite],
        windows: Sequence[Sequence[Interval]],
        constraints: Sequence[ObservingConstraints],
        downtimes: Mapping[str, Sequence[Interval]] | None = None,
    ) -> list[Mapping[str, tuple[Interval, ...]]]:
        self.calls.append((len(targets), [t.key for t in telescopes]))
        answers = []
        for index in range(len(targets)):
            answer = {}
            for telescope in telescopes:
                intervals: tuple[Interval, ...] = tuple(windows[index])
                if self.hours is not None:
                    first, last = self.hours.get(f"{telescope.key}#{index}", self.hours.get(telescope.key, (0, 0)))
                    day = windows[index][0].start.replace(hour=0, minute=0, second=0)
                    nights = [
                        Interval(day + timedelta(days=d, hours=first), day + timedelta(days=d, hours=last))
                        for d in range(3)
                        if last > first
                    ]
                    intervals = tuple(i for w in intervals for n in nights for i in _overlap(w, n))
                answer[telescope.key] = subtract_intervals(intervals, (downtimes or {}).get(telescope.key, ()))
            answers.append(answer)
        return answers

    def airmass(self, *args: object, **kwargs: object) -> dict[str, object]:  # pragma: no cover - not used here
        raise NotImplementedError


def _overlap(a: Interval, b: Interval) -> list[Interval]:
    start, end = max(a.start, b.start), min(a.end, b.end)
    return [Interval(start, end)] if end > start else []


def request(*targets: tuple[float, float], hours: int = 24, location: Location | None = None) -> Request:
    configurations = [
        Configuration(
            SINISTRO,
            "EXPOSE",
            [InstrumentConfig(100, 1, optical_elements={"filter": "air"})],
            Target.icrs(f"t{n}", ra, dec),
        )
        for n, (ra, dec) in enumerate(targets)
    ]
    return Request.create(
        configurations,
        windows=[Window(START, START + timedelta(hours=hours))],
        location=location or Location("1m0"),
        duration=226,
    )


def test_the_candidates_are_the_schedulable_one_metre_sinistros_of_the_reference_world() -> None:
    keys = sorted(t.key for t in candidate_telescopes(request((34.4, 20)), demo_observatory()))
    assert keys == [
        "coj.doma.1m0a",
        "coj.domb.1m0a",
        "cpt.doma.1m0a",
        "cpt.domc.1m0a",
        "elp.doma.1m0a",
        "lsc.doma.1m0a",
    ]


def test_a_location_narrows_the_candidates_and_staff_may_use_a_manual_instrument_there() -> None:
    observatory = demo_observatory()
    at_lsc = request((34.4, 20), location=Location("1m0", "lsc"))
    assert [t.key for t in candidate_telescopes(at_lsc, observatory)] == ["lsc.doma.1m0a"]
    manual = next(
        i
        for i in observatory.instruments.values()
        if i.state is InstrumentState.MANUAL and observatory.instrument_types[i.instrument_type_id].code == SINISTRO
    )
    telescope = observatory.telescopes[manual.telescope_id]
    enclosure = observatory.enclosures[telescope.enclosure_id]
    site = observatory.sites[enclosure.site_id]
    full = request((34.4, 20), location=Location("1m0", site.code, enclosure.code, telescope.code))
    assert candidate_telescopes(full, observatory) == []
    assert [t.key for t in candidate_telescopes(full, observatory, staff=True)] == [
        f"{site.code}.{enclosure.code}.{telescope.code}"
    ]


def test_every_target_must_be_observable_at_once_and_sites_take_the_union_of_their_telescopes() -> None:
    sky = SkyDouble({"elp.doma.1m0a#0": (2, 8), "elp.doma.1m0a#1": (5, 10), "coj.doma.1m0a": (10, 12)})
    by_site = visible_intervals_by_site(request((1, 1), (50, 50)), demo_observatory(), sky, {})
    assert by_site is not None
    assert sky.calls[0][0] == 2  # one vectorised call for both targets
    assert [(i.start.hour, i.end.hour) for i in by_site["elp"]] == [(5, 8)]
    assert [(i.start.hour, i.end.hour) for i in by_site["coj"]] == [(10, 12)]
    assert by_site["cpt"] == ()


def test_downtimes_are_subtracted_and_the_largest_interval_counts_only_the_future() -> None:
    sky = SkyDouble({"elp.doma.1m0a": (0, 10)})
    downtime = {"elp.doma.1m0a": [Interval(START + timedelta(hours=2), START + timedelta(hours=6))]}
    by_site = visible_intervals_by_site(request((1, 1)), demo_observatory(), sky, downtime)
    assert by_site is not None
    assert largest_after(by_site, START) == 4 * 3600  # 6:00-10:00 beats 0:00-2:00
    assert largest_after(by_site, START + timedelta(hours=8)) == 2 * 3600
    assert largest_after(by_site, START + timedelta(hours=11)) == 0


def test_the_refusals_of_3_8() -> None:
    r = request((1, 1))
    assert visibility_messages(r, 0) == [NOT_VISIBLE]
    (short,) = visibility_messages(r, 108)  # W120's 0.03 h against 226 s
    assert "the target will only be visible for a maximum of 0.03 hours within the time window" in short
    assert "0.06 hours" in short
    assert visibility_messages(r, 541) == []


def test_requests_without_a_target_the_port_can_compute_are_not_checked() -> None:
    hour_angle = request((1, 1))
    hour_angle.configurations[0] = attrs.evolve(
        hour_angle.configurations[0], target=Target("ha", "HOUR_ANGLE", hour_angle=1.0, dec=-20.0)
    )
    assert visible_intervals_by_site(hour_angle, demo_observatory(), SkyDouble(), {}) is None


R29_ELEMENTS = {
    "epochofel": 57660.0,
    "orbinc": 9.79429,
    "longascnode": 122.89434,
    "argofperih": 78.32783,
    "meandist": 0.770117,
    "meananom": 165.68604,
    "eccentricity": 0.5391962,
}
COMET_ELEMENTS = {**R29_ELEMENTS, "eccentricity": 0.99, "perihdist": 1.0, "epochofperih": 57400.0}


def with_targets(*targets: Target) -> Request:
    """The reference request with its configurations pointed at these targets, one each."""
    r = request(*[(1, 1)] * len(targets))
    for index, target in enumerate(targets):
        r.configurations[index] = attrs.evolve(r.configurations[index], target=target)
    return r


class RecordingSky(SkyDouble):
    """The SkyDouble, keeping the targets the port was asked about."""

    def __init__(self) -> None:
        super().__init__()
        self.targets: list[VisibilityTarget] = []

    def visible_intervals(
        self,
        targets: Sequence[VisibilityTarget],  # type: ignore[override]  # the double's own is sidereal
        telescopes: Sequence[TelescopeSite],
        windows: Sequence[Sequence[Interval]],
        constraints: Sequence[ObservingConstraints],
        downtimes: Mapping[str, Sequence[Interval]] | None = None,
    ) -> list[Mapping[str, tuple[Interval, ...]]]:
        self.targets.extend(targets)
        return super().visible_intervals(targets, telescopes, windows, constraints, downtimes)  # type: ignore[arg-type]


def test_orbital_targets_of_the_supported_schemes_reach_the_port() -> None:
    sky = RecordingSky()
    r = with_targets(
        Target("r29", "ORBITAL_ELEMENTS", scheme="MPC_MINOR_PLANET", **R29_ELEMENTS),
        Target("r31", "ORBITAL_ELEMENTS", scheme="MPC_COMET", **COMET_ELEMENTS),
        Target("jupiter", "ORBITAL_ELEMENTS", scheme="JPL_MAJOR_PLANET", dailymot=0.083, **R29_ELEMENTS),
    )
    assert visible_intervals_by_site(r, demo_observatory(), sky, {}) is not None
    assert [(t.scheme, t.eccentricity) for t in sky.targets if isinstance(t, OrbitalTarget)] == [
        ("MPC_MINOR_PLANET", 0.5391962),
        ("MPC_COMET", 0.99),
        ("JPL_MAJOR_PLANET", 0.5391962),
    ]
    comet = sky.targets[1]
    assert isinstance(comet, OrbitalTarget)
    assert (comet.perihelion_distance_au, comet.epoch_of_perihelion_mjd) == (1.0, 57400.0)
    assert visibility_messages(r, 3600) == []


@pytest.mark.parametrize("scheme", ["ASA_MAJOR_PLANET", "ASA_MINOR_PLANET", "ASA_COMET", "JPL_MINOR_PLANET"])
def test_orbital_schemes_without_an_ephemeris_refuse_the_request_with_a_clear_message(scheme: str) -> None:
    target = Target(
        "x", "ORBITAL_ELEMENTS", scheme=scheme, longofperih=1.0, meanlong=2.0, dailymot=0.1, **COMET_ELEMENTS
    )
    r = with_targets(Target.icrs("star", 1, 1), target)
    sky = RecordingSky()
    by_site = visible_intervals_by_site(r, demo_observatory(), sky, {})
    assert by_site is not None  # the star is still checked; the scheme is not asked about
    assert all(isinstance(t, SiderealTarget) for t in sky.targets)
    assert visibility_messages(r, 10 * 3600) == [
        f"Visibility cannot be computed for orbital scheme {scheme}; use MPC_MINOR_PLANET, MPC_COMET or "
        "JPL_MAJOR_PLANET"
    ]
    alone = with_targets(target)
    assert visible_intervals_by_site(alone, demo_observatory(), RecordingSky(), {}) is None
    assert visibility_messages(alone, 10 * 3600) == visibility_messages(r, 10 * 3600)


R33_SATELLITE = Target(
    "satellite",
    "SATELLITE",
    altitude=33,
    azimuth=2,
    diff_altitude_rate=3,
    diff_azimuth_rate=4,
    diff_altitude_acceleration=5,
    diff_azimuth_acceleration=0.99,
    diff_epoch=22,
)


def test_satellite_targets_reach_the_port_as_a_fixed_pointing() -> None:
    sky = RecordingSky()
    r = with_targets(R33_SATELLITE, Target("ha", "HOUR_ANGLE", hour_angle=1.0, dec=-20.0))
    by_site = visible_intervals_by_site(r, demo_observatory(), sky, {})
    assert by_site is not None  # the satellite alone makes the request checked
    # Rates and accelerations are left out (request_visibility.satellite_target says why): R33 is accepted.
    assert sky.targets == [SatelliteTarget(33, 2)]
    assert sky.calls[0][0] == 1  # the hour-angle target is not asked about


def test_a_request_whose_only_satellite_is_never_visible_is_refused() -> None:
    sky = SkyDouble({})  # nothing visible anywhere
    r = with_targets(R33_SATELLITE)
    by_site = visible_intervals_by_site(r, demo_observatory(), sky, {})
    assert by_site is not None
    assert largest_after(by_site, START) == 0
    assert visibility_messages(r, largest_after(by_site, START)) == [NOT_VISIBLE]


def test_incomplete_satellites_and_hour_angle_targets_stay_unchecked() -> None:
    r = with_targets(
        Target("sat", "SATELLITE", azimuth=20),  # field validation refuses it before this step
        Target("ha", "HOUR_ANGLE", hour_angle=1.0, dec=-20.0),
    )
    sky = RecordingSky()
    assert visible_intervals_by_site(r, demo_observatory(), sky, {}) is None
    assert sky.targets == []
    assert visibility_messages(r, 3600) == []
