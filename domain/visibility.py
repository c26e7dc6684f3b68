"""What the Visibility port speaks: time intervals and their algebra, sidereal, orbital and satellite targets,
constraints, sites.

Plain frozen data and pure functions, no astronomy library: the ``Visibility`` port (application/ports.py) takes
and returns these, and the adapter behind it (adapters/astropy_visibility.py) does the astronomy. The rules they
encode are requests.md 3.8: nautical twilight, telescope horizon and hour-angle limits (mirrored south of the
equator), zenith blind spot, airmass as ``1 / cos z`` of the geometric zenith distance, lunar distance and phase.

Intervals are half-open, ``[start, end)``, with timezone-aware UTC ends. The set operations take any iterables of
intervals (overlapping, touching, unsorted) and return *normal* tuples: sorted, non-empty, pairwise disjoint and
not touching (touching intervals are merged), so two equal sets always compare equal.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from attrs import Attribute, field, frozen

from domain.errors import ValidationError
from domain.observatory import Enclosure, Site, Telescope

NAUTICAL_TWILIGHT_DEG = -12.0  # the sun must be below this altitude (requests.md 3.8)
MOON_DOWN_ALT_DEG = -0.833  # the moon's centre below this altitude counts as "down" (requests.md 3.8)
MJD_ZERO = datetime(1858, 11, 17, tzinfo=UTC)  # modified Julian date 0


def _aware(moment: datetime) -> bool:
    return moment.tzinfo is not None and moment.utcoffset() is not None


@frozen(order=True)
class Interval:
    """A non-empty half-open time interval ``[start, end)``."""

    start: datetime
    end: datetime

    def __attrs_post_init__(self) -> None:
        # One check for both ends, UTC first: adapters build intervals by the hundred thousand.
        if (self.start.tzinfo is not UTC or self.end.tzinfo is not UTC) and not (
            _aware(self.start) and _aware(self.end)
        ):
            raise ValidationError.general("Interval ends must be timezone-aware (UTC).")
        if self.end <= self.start:
            raise ValidationError.general(f"Interval end {self.end} must be after its start {self.start}.")

    @property
    def seconds(self) -> float:
        return (self.end - self.start).total_seconds()

    def contains(self, moment: datetime) -> bool:
        """Whether ``moment`` lies in ``[start, end)``."""
        return self.start <= moment < self.end


Intervals = tuple[Interval, ...]


def normalise_intervals(intervals: Iterable[Interval]) -> Intervals:
    """The same set of instants as a normal tuple: sorted, disjoint, touching intervals merged."""
    merged: list[Interval] = []
    for interval in sorted(intervals):
        if merged and interval.start <= merged[-1].end:
            if interval.end > merged[-1].end:
                merged[-1] = Interval(merged[-1].start, interval.end)
        else:
            merged.append(interval)
    return tuple(merged)


def union_intervals(first: Iterable[Interval], second: Iterable[Interval]) -> Intervals:
    """The instants in either set."""
    return normalise_intervals([*first, *second])


def intersect_intervals(first: Iterable[Interval], second: Iterable[Interval]) -> Intervals:
    """The instants in both sets."""
    a, b = normalise_intervals(first), normalise_intervals(second)
    result: list[Interval] = []
    i = j = 0
    while i < len(a) and j < len(b):
        start, end = max(a[i].start, b[j].start), min(a[i].end, b[j].end)
        if start < end:
            result.append(Interval(start, end))
        if a[i].end <= b[j].end:
            i += 1
        else:
            j += 1
    return tuple(result)


def subtract_intervals(first: Iterable[Interval], second: Iterable[Interval]) -> Intervals:
    """The instants in ``first`` and not in ``second``."""
    removed = normalise_intervals(second)
    result: list[Interval] = []
    j = 0
    for interval in normalise_intervals(first):
        start = interval.start
        while j < len(removed) and removed[j].end <= start:
            j += 1
        k = j
        while k < len(removed) and removed[k].start < interval.end:
            if removed[k].start > start:
                result.append(Interval(start, removed[k].start))
            start = max(start, removed[k].end)
            k += 1
        if start < interval.end:
            result.append(Interval(start, interval.end))
    return tuple(result)


def longest_interval(intervals: Iterable[Interval]) -> Interval | None:
    """The longest interval (the earliest of equally long ones), or None for an empty set."""
    best: Interval | None = None
    for interval in normalise_intervals(intervals):
        if best is None or interval.seconds > best.seconds:
            best = interval
    return best


def _within(low: float, high: float) -> Any:
    def check(_instance: object, attribute: Attribute[Any], value: float) -> None:
        if not (low <= value <= high) or math.isnan(value):
            raise ValidationError.on(attribute.name, f"Must be between {low} and {high}, got {value}.")

    return check


@frozen
class SiderealTarget:
    """A fixed star as requests.md 2.9 gives it (ICRS).

    ``proper_motion_ra_mas_per_yr`` is on the sky, i.e. already multiplied by cos dec (2.9, 3.8).
    """

    ra_deg: float = field(validator=_within(0.0, 360.0))
    dec_deg: float = field(validator=_within(-90.0, 90.0))
    proper_motion_ra_mas_per_yr: float = 0.0
    proper_motion_dec_mas_per_yr: float = 0.0
    parallax_mas: float = field(default=0.0, validator=_within(0.0, 2000.0))
    epoch_jyear: float = 2000.0


MPC_MINOR_PLANET = "MPC_MINOR_PLANET"
MPC_COMET = "MPC_COMET"
JPL_MAJOR_PLANET = "JPL_MAJOR_PLANET"
# The orbital schemes the port can compute (requests.md 2.9); the others are refused before it is asked.
ORBITAL_SCHEMES = (MPC_MINOR_PLANET, MPC_COMET, JPL_MAJOR_PLANET)
_ORBITAL_FIELDS = {
    MPC_MINOR_PLANET: ("mean_distance_au", "mean_anomaly_deg"),
    MPC_COMET: ("perihelion_distance_au", "epoch_of_perihelion_mjd"),
    JPL_MAJOR_PLANET: ("mean_distance_au", "mean_anomaly_deg", "daily_motion_deg_per_day"),
}


@frozen
class OrbitalTarget:
    """A solar-system body given by two-body heliocentric elements (requests.md 2.9), referred to the mean
    ecliptic and equinox of J2000; epochs are MJD (TT).

    ``scheme`` says which elements are used: MPC_MINOR_PLANET the mean distance and mean anomaly at
    ``epoch_of_elements_mjd`` (mean motion from Kepler's third law); JPL_MAJOR_PLANET the same with the given daily
    motion; MPC_COMET the perihelion distance and time (elliptical, parabolic or hyperbolic by the eccentricity).
    """

    scheme: str = field(validator=lambda _i, _a, value: _check_scheme(value))
    epoch_of_elements_mjd: float
    inclination_deg: float = field(validator=_within(0.0, 180.0))
    long_asc_node_deg: float
    arg_perihelion_deg: float
    eccentricity: float = field(validator=_within(0.0, 1e6))
    mean_distance_au: float | None = None
    mean_anomaly_deg: float | None = None
    daily_motion_deg_per_day: float | None = None
    perihelion_distance_au: float | None = None
    epoch_of_perihelion_mjd: float | None = None

    def __attrs_post_init__(self) -> None:
        missing = [name for name in _ORBITAL_FIELDS[self.scheme] if getattr(self, name) is None]
        if missing:
            raise ValidationError.general(f"Orbital elements of scheme {self.scheme} need {', '.join(missing)}.")
        if self.scheme != MPC_COMET and self.eccentricity >= 1.0:
            raise ValidationError.general(f"Scheme {self.scheme} needs an elliptical orbit (eccentricity below 1).")
        distance = self.perihelion_distance_au if self.scheme == MPC_COMET else self.mean_distance_au
        if distance is not None and not distance > 0:
            raise ValidationError.general(f"Orbital elements of scheme {self.scheme} need a positive distance.")


def _check_scheme(scheme: str) -> None:
    if scheme not in ORBITAL_SCHEMES:
        raise ValidationError.on("scheme", f"Visibility supports the schemes {', '.join(ORBITAL_SCHEMES)}.")


def _finite(_instance: object, attribute: Attribute[Any], value: float) -> None:
    if not math.isfinite(value):
        raise ValidationError.on(attribute.name, f"Must be a finite number, got {value}.")


@frozen
class SatelliteTarget:
    """A pointing fixed in the local horizontal frame with a slow drift (requests.md 2.9 SATELLITE, 3.8).

    At time t, dt seconds after ``diff_epoch_mjd`` (MJD, UTC), it points at altitude
    ``altitude_deg + rate dt + acceleration dt^2 / 2`` and likewise in azimuth (north through east), rates in
    arcsec/s and accelerations in arcsec/s^2; the same altitude and azimuth at every telescope. An altitude
    carried past 90 degrees goes on over the zenith (the direction of altitude 100, azimuth a is altitude 80,
    azimuth a + 180).
    """

    altitude_deg: float = field(validator=_within(0.0, 90.0))
    azimuth_deg: float = field(validator=_within(0.0, 360.0))
    diff_altitude_rate_arcsec_per_s: float = field(default=0.0, validator=_finite)
    diff_azimuth_rate_arcsec_per_s: float = field(default=0.0, validator=_finite)
    diff_altitude_acceleration_arcsec_per_s2: float = field(default=0.0, validator=_finite)
    diff_azimuth_acceleration_arcsec_per_s2: float = field(default=0.0, validator=_finite)
    diff_epoch_mjd: float = field(default=0.0, validator=_finite)  # irrelevant without rates

    def seconds_since_epoch(self, moment: datetime) -> float:
        """Seconds from ``diff_epoch_mjd`` to ``moment`` (UTC, leap seconds not counted)."""
        return (moment - MJD_ZERO).total_seconds() - self.diff_epoch_mjd * 86400.0

    def position_deg(self, moment: datetime) -> tuple[float, float]:
        """Altitude and azimuth in degrees at ``moment``, as drifted: not reduced to 0..90 and 0..360."""
        dt = self.seconds_since_epoch(moment)
        altitude_arcsec = (
            self.diff_altitude_rate_arcsec_per_s * dt + self.diff_altitude_acceleration_arcsec_per_s2 * dt * dt / 2
        )
        azimuth_arcsec = (
            self.diff_azimuth_rate_arcsec_per_s * dt + self.diff_azimuth_acceleration_arcsec_per_s2 * dt * dt / 2
        )
        return self.altitude_deg + altitude_arcsec / 3600.0, self.azimuth_deg + azimuth_arcsec / 3600.0


# What the Visibility port computes: fixed stars, two-body orbits and local horizontal pointings.
VisibilityTarget = SiderealTarget | OrbitalTarget | SatelliteTarget


@frozen
class ObservingConstraints:
    """When a target counts as observable (requests.md 2.10 and 3.8); defaults are the request defaults."""

    max_airmass: float = field(default=1.6, validator=_within(1.0, 25.0))
    min_lunar_distance_deg: float = field(default=30.0, validator=_within(0.0, 180.0))
    max_lunar_phase: float = field(default=1.0, validator=_within(0.0, 1.0))
    twilight_sun_alt_deg: float = field(default=NAUTICAL_TWILIGHT_DEG, validator=_within(-90.0, 90.0))

    @property
    def min_altitude_deg(self) -> float:
        """The altitude at which the airmass ``1 / cos z`` reaches ``max_airmass``."""
        return math.degrees(math.asin(1.0 / self.max_airmass))


@frozen
class TelescopeSite:
    """One telescope as the visibility rules see it (observatory.md 1.3); ``key`` is ``site.enclosure.telescope``."""

    site: str
    enclosure: str
    telescope: str
    lat_deg: float = field(validator=_within(-90.0, 90.0))
    long_deg: float = field(validator=_within(-180.0, 360.0))
    elevation_m: float
    horizon_deg: float = field(validator=_within(0.0, 90.0))
    ha_limit_neg_h: float = field(validator=_within(-12.0, 0.0))
    ha_limit_pos_h: float = field(validator=_within(0.0, 12.0))
    zenith_blind_spot_deg: float = field(default=0.0, validator=_within(0.0, 90.0))

    @classmethod
    def of(cls, site: Site, enclosure: Enclosure, telescope: Telescope) -> TelescopeSite:
        """From configdb records: the telescope's own coordinates, the site's elevation (as the portal does)."""
        return cls(
            site=site.code,
            enclosure=enclosure.code,
            telescope=telescope.code,
            lat_deg=telescope.lat,
            long_deg=telescope.long,
            elevation_m=float(site.elevation),
            horizon_deg=telescope.horizon,
            ha_limit_neg_h=telescope.ha_limit_neg,
            ha_limit_pos_h=telescope.ha_limit_pos,
            zenith_blind_spot_deg=telescope.zenith_blind_spot,
        )

    @property
    def key(self) -> str:
        return f"{self.site}.{self.enclosure}.{self.telescope}"

    @property
    def hour_angle_range_h(self) -> tuple[float, float]:
        """The allowed hour angles: configdb's limits north of the equator, mirrored south of it.

        QUIRK (*faithful*, requests.md 3.8): LCO's rise_set mirrors the limits in the south and observatories
        calibrate their configdb values against it.
        """
        if self.lat_deg < 0:
            return (-self.ha_limit_pos_h, -self.ha_limit_neg_h)
        return (self.ha_limit_neg_h, self.ha_limit_pos_h)


@frozen
class AirmassSeries:
    """Airmass samples of one target at one telescope; ``math.inf`` where the target is below the horizon."""

    times: tuple[datetime, ...]
    airmasses: tuple[float, ...]
