"""The Visibility port on astropy and NumPy, vectorised over targets x telescopes x time; nothing is downloaded.

astropy does what needs care and is done once per call: the targets' apparent places (proper motion, parallax,
aberration, precession-nutation into CIRS), the sun and the moon (``builtin`` ephemeris, no file to fetch) on an
hourly grid, the Earth rotation angle (UT1 from the IERS tables bundled with ``astropy-iers-data``). NumPy does
the rest for all targets and telescopes at once:

* **Altitude, airmass, hour angle, zenith blind spot** are closed-form in the hour angle for a fixed star, so each
  (target, telescope) gets its allowed hour-angle ranges analytically and they become time intervals through the
  Earth rotation angle, which is linear in time. These edges are exact (to the arcsecond-level approximations
  below); no time grid is involved.
* **Sun below twilight** is sampled per site on a 5-minute grid and the crossings are interpolated (edges good to
  about a second: the sun's altitude is nearly linear over 5 minutes).
* **Lunar distance** (topocentric) is screened geocentrically for every target on the hourly grid; only targets
  that come within the limit plus a safe margin are evaluated per site on a 10-minute grid with interpolated
  crossings. **Lunar phase** (illuminated fraction, or the moon down) is sampled per site.
* The interval sets are intersected as padded arrays (one row per target), windows first, then darkness, lunar
  rules, and the telescope's downtimes are cut out.

**Orbital targets** (two-body elements, requests.md 2.9) are sampled every ``orbit_step_s`` (an hour): their
geocentric astrometric place from a Kepler solution (elliptical, parabolic or hyperbolic) less the Earth's
heliocentric position (``builtin`` ephemeris), with one light-time iteration. Each sample stands for its step as a
fixed star: the target becomes one row per step, its windows cut to that step, computed a week at a time (so the
lunar rules' rows x samples arrays stay small), and the rows' intervals are united again at the end. Its motion
within half a step (well under 0.1 deg for anything but a close approach) moves edges by seconds. The place is
geocentric: the diurnal parallax (8.8"/distance in AU) is ignored, which matters only for objects within a few
lunar distances.

**Satellite targets** (requests.md 2.9 SATELLITE) point at an altitude and azimuth that drift quadratically from
their epoch, the same at every telescope. All their rules but darkness and the lunar phase are local, so they are
sampled on a time grid, every ``satellite_step_s`` (a minute) or, for a target that would move more than
``SATELLITE_MAX_MOVE_DEG`` between samples, every half, quarter... of it down to about a second: the altitude
against the horizon, the airmass and the zenith blind spot; the hour angle (the direction turned into hour angle
and declination at the telescope's latitude, the limits mirrored in the south as for stars); the angle to the
topocentric moon, taken in the same horizontal frame. Edges are interpolated between samples, so they are good to
a few seconds and never off by more than a step. Darkness and the lunar phase are the site's, as for stars. While
a target moves faster than ``SATELLITE_FASTEST_DEG_PER_S`` no step here follows it (nor does the quadratic drift
of a pointing describe anything real), so it does not count as visible then: an acceleration extrapolated over
years from its epoch is that fast (requests.md 8.2 R33's, counted from 1858, turns the target thousands of times
a second by 2016).

Approximations, each far below the one-minute edge accuracy requests.md 3.8 asks for: the target's apparent place
is computed once, at the middle of the span (its drift from aberration and precession is ~20"/month, i.e. about a
second of time); polar motion and diurnal aberration are ignored (< 1"); the sun's parallax (9") is ignored.
Altitudes are geometric (no refraction), with the geodetic latitude as the zenith, as astropy's ``AltAz`` with
zero pressure.
"""

from __future__ import annotations

import gc
import math
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from functools import partial

import astropy.units as u
import numpy as np
from astropy.coordinates import (
    CIRS,
    Distance,
    EarthLocation,
    SkyCoord,
    get_body,
    get_body_barycentric,
    get_sun,
    solar_system_ephemeris,
)
from astropy.time import Time

from application.ports import Visibility
from domain.visibility import (
    MOON_DOWN_ALT_DEG,
    AirmassSeries,
    Interval,
    ObservingConstraints,
    OrbitalTarget,
    SatelliteTarget,
    SiderealTarget,
    TelescopeSite,
    VisibilityTarget,
    intersect_intervals,
    normalise_intervals,
)

FloatArray = np.ndarray  # float64 arrays; NumPy's generic aliases add noise here and check nothing more

ERA_RATE_RAD_PER_S = 2.0 * math.pi * 1.00273781191135448 / 86400.0  # IAU 2000 Earth rotation angle rate
SIDEREAL_DAY_S = 2.0 * math.pi / ERA_RATE_RAD_PER_S
AU_M = 149_597_870_700.0
EMPTY_S = 1e-3  # intervals shorter than a millisecond are numerical slivers, not visibility
# Topocentric lunar distance differs from the geocentric one by at most the lunar parallax (61.5'); between two
# hourly samples the geocentric distance can dip by at most half an hour of lunar motion (0.3 deg).
MOON_SCREEN_MARGIN_DEG = 1.5
GAUSS_K = 0.01720209895  # the Gaussian gravitational constant: radians per day for a 1 AU orbit around the sun
OBLIQUITY_J2000_RAD = math.radians(84381.448 / 3600.0)  # the mean obliquity of the ecliptic at J2000
LIGHT_DAY_AU = 173.1446326846693  # the distance light travels in a day, in AU
NO_SECONDS = np.empty(0)
PIECE = timedelta(days=7)  # orbital and satellite targets are computed a week of windows at a time (see _compute)
ARCSEC_RAD = math.pi / (180.0 * 3600.0)
SATELLITE_MAX_MOVE_DEG = 0.5  # the most a satellite target may move between two samples of its grid
SATELLITE_FASTEST_DEG_PER_S = 0.5  # faster than this it is not followed (see the module docstring)
SATELLITE_SAMPLES = 1_000_000  # rows x samples computed at once: arrays of 8 MB


def configure_offline_astropy() -> None:
    """Make astropy work without a network: never fetch IERS or leap-second tables, use the bundled ones.

    Dates past the bundled IERS-A predictions fall back to extrapolated UT1 - UTC and zero polar motion
    (``iers_degraded_accuracy = "ignore"``): errors of under a second of time, far below our one minute.
    """
    from astropy.utils import data, iers

    iers.conf.auto_download = False
    iers.conf.auto_max_age = None
    iers.conf.iers_degraded_accuracy = "ignore"
    data.conf.allow_internet = False


@contextmanager
def _degraded_precision_accepted() -> Iterator[None]:
    """Silence what astropy and ERFA say about dates past the bundled tables: ``configure_offline_astropy``
    accepted that precision knowingly, and a warning turned into an error must not refuse a request."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r'ERFA function "\w+" yielded .* "dubious year')
        warnings.filterwarnings("ignore", message="Tried to get polar motions for times (after|before) IERS data")
        warnings.filterwarnings("ignore", message=r".*times are outside of range covered by IERS table")
        yield


class AstropyVisibility(Visibility):
    """requests.md 3.8 for many targets and telescopes in one call."""

    def __init__(
        self,
        sun_step_s: float = 300.0,
        moon_step_s: float = 600.0,
        ephemeris_step_s: float = 3600.0,
        orbit_step_s: float = 3600.0,
        satellite_step_s: float = 60.0,
    ) -> None:
        configure_offline_astropy()
        self._sun_step_s = sun_step_s
        self._moon_step_s = moon_step_s
        self._ephemeris_step_s = ephemeris_step_s
        self._orbit_step_s = orbit_step_s
        self._satellite_step_s = satellite_step_s

    def visible_intervals(
        self,
        targets: Sequence[VisibilityTarget],
        telescopes: Sequence[TelescopeSite],
        windows: Sequence[Sequence[Interval]],
        constraints: Sequence[ObservingConstraints],
        downtimes: Mapping[str, Sequence[Interval]] | None = None,
    ) -> list[Mapping[str, tuple[Interval, ...]]]:
        """Per target i, per telescope key (every telescope present): the normal intervals inside windows[i] when
        every rule of requests.md 3.8 holds under constraints[i], minus downtimes[key]; edges good to a minute."""
        computed = self.compute(targets, telescopes, windows, constraints, downtimes)
        return computed.materialise()

    def compute(
        self,
        targets: Sequence[VisibilityTarget],
        telescopes: Sequence[TelescopeSite],
        windows: Sequence[Sequence[Interval]],
        constraints: Sequence[ObservingConstraints],
        downtimes: Mapping[str, Sequence[Interval]] | None = None,
    ) -> VisibilityArrays:
        """The numerical part of ``visible_intervals``: interval edges as arrays, before any Interval is built."""
        with _degraded_precision_accepted():
            return self._compute(targets, telescopes, windows, constraints, downtimes)

    def _compute(
        self,
        targets: Sequence[VisibilityTarget],
        telescopes: Sequence[TelescopeSite],
        windows: Sequence[Sequence[Interval]],
        constraints: Sequence[ObservingConstraints],
        downtimes: Mapping[str, Sequence[Interval]] | None,
    ) -> VisibilityArrays:
        if not len(targets) == len(windows) == len(constraints):
            raise ValueError("targets, windows and constraints must have one entry per target")
        keys = [telescope.key for telescope in telescopes]
        if len(set(keys)) != len(keys):
            raise ValueError("telescope keys must be unique")
        normal_windows = [normalise_intervals(w) for w in windows]
        starts = [w[0].start for w in normal_windows if w]
        if not starts or not telescopes:
            return VisibilityArrays.empty(len(targets), keys)
        sidereal = [i for i, target in enumerate(targets) if isinstance(target, SiderealTarget)]
        if len(sidereal) == len(targets):
            return self._compute_fixed(targets, telescopes, normal_windows, constraints, downtimes)  # type: ignore[arg-type]  # all sidereal, checked just above
        parts: list[tuple[VisibilityArrays, list[int]]] = []
        if sidereal:
            fixed = self._compute_fixed(
                [targets[i] for i in sidereal],  # type: ignore[misc]  # sidereal by construction
                telescopes,
                [normal_windows[i] for i in sidereal],
                [constraints[i] for i in sidereal],
                downtimes,
            )
            parts.append((fixed, sidereal))
        orbital = [i for i, target in enumerate(targets) if isinstance(target, OrbitalTarget) and normal_windows[i]]
        parts += self._orbital_parts(targets, telescopes, normal_windows, constraints, downtimes, orbital)
        satellite = [i for i, t in enumerate(targets) if isinstance(t, SatelliteTarget) and normal_windows[i]]
        parts += self._satellite_parts(targets, telescopes, normal_windows, constraints, downtimes, satellite)
        return _united(parts, min(starts), len(targets), keys)

    def _orbital_parts(
        self,
        targets: Sequence[VisibilityTarget],
        telescopes: Sequence[TelescopeSite],
        normal_windows: Sequence[tuple[Interval, ...]],
        constraints: Sequence[ObservingConstraints],
        downtimes: Mapping[str, Sequence[Interval]] | None,
        orbital: Sequence[int],
    ) -> list[tuple[VisibilityArrays, list[int]]]:
        """The orbital targets (at ``orbital``, each with windows) as fixed stars, one row per sampling step, a week
        at a time: the rows x moon-samples arrays of the lunar rules stay small (a semester of steps against a
        semester of moon would take gigabytes)."""
        parts: list[tuple[VisibilityArrays, list[int]]] = []
        if not orbital:
            return parts
        origin = min(normal_windows[i][0].start for i in orbital)
        latest = max(normal_windows[i][-1].end for i in orbital)
        earth = _EarthTable(Time(origin), (latest - origin).total_seconds() / 86400.0)
        for cuts in _weekly(orbital, normal_windows):
            rows: list[SiderealTarget] = []
            row_windows: list[tuple[Interval, ...]] = []
            row_constraints: list[ObservingConstraints] = []
            parent: list[int] = []
            for index, cut in cuts:
                stars, star_windows = _orbital_rows(targets[index], cut, self._orbit_step_s, earth)  # type: ignore[arg-type]  # orbital by construction
                rows += stars
                row_windows += star_windows
                row_constraints += [constraints[index]] * len(stars)
                parent += [index] * len(stars)
            if rows:
                parts.append((self._compute_fixed(rows, telescopes, row_windows, row_constraints, downtimes), parent))
        return parts

    def _satellite_parts(
        self,
        targets: Sequence[VisibilityTarget],
        telescopes: Sequence[TelescopeSite],
        normal_windows: Sequence[tuple[Interval, ...]],
        constraints: Sequence[ObservingConstraints],
        downtimes: Mapping[str, Sequence[Interval]] | None,
        satellite: Sequence[int],
    ) -> list[tuple[VisibilityArrays, list[int]]]:
        """The satellite targets (at ``satellite``, each with windows): one sky for them all, sampled a week at a
        time, each target on the grid its speed needs that week (one part per week, grid and bunch of rows, so that
        no array grows past ``SATELLITE_SAMPLES``)."""
        parts: list[tuple[VisibilityArrays, list[int]]] = []
        if not satellite:
            return parts
        origin = min(normal_windows[i][0].start for i in satellite)
        span_s = (max(normal_windows[i][-1].end for i in satellite) - origin).total_seconds()
        motion = _SatelliteMotion([targets[i] for i in satellite], origin)  # type: ignore[misc]  # satellites by construction
        row_of = {index: row for row, index in enumerate(satellite)}
        sites = _Sites(telescopes)
        per_site: list[_SiteSky] = []  # built at first need: a target too fast to follow needs no sky
        for cuts in _weekly(satellite, normal_windows):
            if not cuts:
                continue
            first = (min(cut[0].start for _, cut in cuts) - origin).total_seconds()
            last = (max(cut[-1].end for _, cut in cuts) - origin).total_seconds()
            levels = motion.levels(np.array([row_of[index] for index, _ in cuts]), first, last, self._satellite_step_s)
            if (levels < 0).all():
                continue
            if not per_site:
                sky = _Sky(origin, span_s, self._ephemeris_step_s)
                per_site = [_SiteSky(sky, site, self._sun_step_s, self._moon_step_s) for site in sites.locations]
            for level in np.unique(levels[levels >= 0]).tolist():
                t = first + _grid(last - first, self._satellite_step_s / 2**level)
                group = np.flatnonzero(levels == level)
                for bunch in _chunks(len(group), max(1, SATELLITE_SAMPLES // len(t))):
                    members = [cuts[member] for member in group[bunch].tolist()]
                    found = _satellite_arrays(
                        motion.at(np.array([row_of[index] for index, _ in members]), t),
                        t,
                        [cut for _, cut in members],
                        [constraints[index] for index, _ in members],
                        telescopes,
                        sites,
                        per_site,
                        downtimes,
                    )
                    parts.append((found, [index for index, _ in members]))
        return parts

    def _compute_fixed(
        self,
        targets: Sequence[SiderealTarget],
        telescopes: Sequence[TelescopeSite],
        normal_windows: Sequence[tuple[Interval, ...]],
        constraints: Sequence[ObservingConstraints],
        downtimes: Mapping[str, Sequence[Interval]] | None,
    ) -> VisibilityArrays:
        keys = [telescope.key for telescope in telescopes]
        starts = [w[0].start for w in normal_windows if w]
        if not starts:
            return VisibilityArrays.empty(len(targets), keys)
        origin = min(starts)
        span_s = max((w[-1].end - origin).total_seconds() for w in normal_windows if w)
        sky = _Sky(origin, span_s, self._ephemeris_step_s)
        places = _apparent_places(targets, sky.time_at(span_s / 2))
        window_s, window_e = _padded_windows(normal_windows, origin)
        hull_s = window_s[:, 0]
        hull_e = np.array([(w[-1].end - origin).total_seconds() if w else np.nan for w in normal_windows])
        min_alt = np.array([c.min_altitude_deg for c in constraints])
        twilight = np.array([c.twilight_sun_alt_deg for c in constraints])
        lunar_distance = np.array([c.min_lunar_distance_deg for c in constraints])
        lunar_phase = np.array([c.max_lunar_phase for c in constraints])
        sites = _Sites(telescopes)
        moon_screen = sky.moon_screen(places.unit, lunar_distance + MOON_SCREEN_MARGIN_DEG)
        per_site = [
            _SiteSky(sky, site, self._sun_step_s, self._moon_step_s, (places, lunar_distance, moon_screen))
            for site in sites.locations
        ]
        starts_by_key: dict[str, FloatArray] = {}
        ends_by_key: dict[str, FloatArray] = {}
        for telescope, site_index in zip(telescopes, sites.index, strict=True):
            s, e = _hour_angle_intervals(telescope, places, min_alt, hull_s, hull_e, sky)
            starts_by_key[telescope.key], ends_by_key[telescope.key] = per_site[site_index].observable(
                s, e, (window_s, window_e), twilight, lunar_phase, (downtimes or {}).get(telescope.key, ())
            )
        return VisibilityArrays(origin, len(targets), keys, starts_by_key, ends_by_key)

    def airmass(
        self,
        target: SiderealTarget,
        telescopes: Sequence[TelescopeSite],
        start: datetime,
        end: datetime,
        step_s: float = 600.0,
    ) -> dict[str, AirmassSeries]:
        """Per telescope key: the geometric airmass (1 / cos z) at start, start + step, ... before end."""
        if step_s <= 0:
            raise ValueError("step_s must be positive")
        count = max(0, math.ceil((end - start).total_seconds() / step_s))
        offsets = np.arange(count) * step_s
        times = tuple(start + timedelta(seconds=float(x)) for x in offsets)
        if not count:
            return {telescope.key: AirmassSeries((), ()) for telescope in telescopes}
        with _degraded_precision_accepted():
            sky = _Sky(start, float(offsets[-1]), self._ephemeris_step_s, with_bodies=False)
            places = _apparent_places([target], sky.time_at(float(offsets[-1]) / 2))
        result = {}
        for telescope in telescopes:
            lat = math.radians(telescope.lat_deg)
            hour_angle = sky.era(offsets) + math.radians(telescope.long_deg) - places.ra[0]
            sin_alt = math.sin(lat) * math.sin(places.dec[0]) + math.cos(lat) * math.cos(places.dec[0]) * np.cos(
                hour_angle
            )
            airmass = np.where(sin_alt > 0, 1.0 / np.where(sin_alt > 0, sin_alt, 1.0), np.inf)
            result[telescope.key] = AirmassSeries(times, tuple(float(x) for x in airmass))
        return result


class VisibilityArrays:
    """Visible intervals as arrays: per telescope key, (targets x slots) start and end seconds from ``origin``,
    each row sorted, disjoint and not touching, unused slots NaN at the end."""

    def __init__(
        self,
        origin: datetime,
        target_count: int,
        keys: Sequence[str],
        starts: Mapping[str, FloatArray],
        ends: Mapping[str, FloatArray],
    ) -> None:
        self.origin = origin
        self.target_count = target_count
        self.keys = list(keys)
        self.starts = starts
        self.ends = ends

    @classmethod
    def empty(cls, target_count: int, keys: Sequence[str]) -> VisibilityArrays:
        nothing = np.full((target_count, 0), np.nan)
        return cls(
            datetime(2000, 1, 1, tzinfo=UTC),
            target_count,
            keys,
            dict.fromkeys(keys, nothing),
            dict.fromkeys(keys, nothing),
        )

    def materialise(self) -> list[Mapping[str, tuple[Interval, ...]]]:
        """The port's answer: per target, per telescope key, the Interval tuples."""
        # Hundreds of thousands of small objects trigger the cyclic collector over and over though none of them
        # can form a cycle; pausing it halves the time of a large answer.
        collecting = gc.isenabled()
        gc.disable()
        try:
            return self._materialise()
        finally:
            if collecting:
                gc.enable()

    def _materialise(self) -> list[Mapping[str, tuple[Interval, ...]]]:
        result: list[dict[str, tuple[Interval, ...]]] = [{} for _ in range(self.target_count)]
        origin_ts = self.origin.timestamp()
        at = datetime.fromtimestamp
        for key in self.keys:
            starts = (self.starts[key] + origin_ts).tolist()
            ends = (self.ends[key] + origin_ts).tolist()
            for row, (row_starts, row_ends) in enumerate(zip(starts, ends, strict=True)):
                result[row][key] = tuple(
                    [
                        Interval(at(s, UTC), at(e, UTC))
                        for s, e in zip(row_starts, row_ends, strict=True)
                        if s == s  # not NaN: an unused slot
                    ]
                )
        return list(result)


# ---------------------------------------------------------------------------------------------------------
# The sky: Earth rotation, sun and moon over one span, and the targets' apparent places


class _Places:
    """Apparent (CIRS) right ascensions and declinations in radians, and unit vectors, one row per target."""

    def __init__(self, ra: FloatArray, dec: FloatArray) -> None:
        self.ra = ra
        self.dec = dec
        self.unit = np.stack([np.cos(dec) * np.cos(ra), np.cos(dec) * np.sin(ra), np.sin(dec)], axis=-1)


def _apparent_places(targets: Sequence[SiderealTarget], when: Time) -> _Places:
    ra = np.array([t.ra_deg for t in targets], dtype=float)
    dec = np.array([t.dec_deg for t in targets], dtype=float)
    pm_ra = np.array([t.proper_motion_ra_mas_per_yr for t in targets], dtype=float)
    pm_dec = np.array([t.proper_motion_dec_mas_per_yr for t in targets], dtype=float)
    parallax = np.array([t.parallax_mas for t in targets], dtype=float)
    epoch = np.array([t.epoch_jyear for t in targets], dtype=float)
    out_ra, out_dec = np.empty_like(ra), np.empty_like(dec)
    moving = (pm_ra != 0) | (pm_dec != 0) | (parallax > 0)
    frame = CIRS(obstime=when)
    if (~moving).any():
        fixed = SkyCoord(ra=ra[~moving] * u.deg, dec=dec[~moving] * u.deg, frame="icrs").transform_to(frame)
        out_ra[~moving], out_dec[~moving] = fixed.ra.rad, fixed.dec.rad
    if moving.any():
        catalogue = SkyCoord(
            ra=ra[moving] * u.deg,
            dec=dec[moving] * u.deg,
            pm_ra_cosdec=pm_ra[moving] * u.mas / u.yr,
            pm_dec=pm_dec[moving] * u.mas / u.yr,
            # Without parallax the star is "far": astropy needs some distance to move it in space.
            distance=Distance(parallax=np.maximum(parallax[moving], 1e-6) * u.mas),
            obstime=Time(epoch[moving], format="jyear", scale="tcb"),
            frame="icrs",
        )
        with warnings.catch_warnings():
            # Far stars (no parallax) are given a floor distance by ERFA, which says so; that is what we want.
            warnings.filterwarnings("ignore", message='ERFA function "pmsafe" yielded .* "distance overridden')
            moved = catalogue.apply_space_motion(new_obstime=when).transform_to(frame)
        out_ra[moving], out_dec[moving] = moved.ra.rad, moved.dec.rad
    return _Places(out_ra, out_dec)


# ---------------------------------------------------------------------------------------------------------
# Orbital targets: two-body ephemerides, and one fixed-star row per sampling step


def _orbital_rows(
    target: OrbitalTarget, intervals: tuple[Interval, ...], step_s: float, earth: _EarthTable
) -> tuple[list[SiderealTarget], list[tuple[Interval, ...]]]:
    """One fixed star per step of ``step_s`` over the intervals, at the target's place in the middle of the step,
    with the intervals cut to the step (steps outside them left out)."""
    origin = intervals[0].start
    edges = np.append(np.arange(0.0, (intervals[-1].end - origin).total_seconds(), step_s), 0.0)
    edges[-1] = (intervals[-1].end - origin).total_seconds()
    middles = (edges[:-1] + edges[1:]) / 2
    start_time = Time(origin)
    start_time.format = "jd"  # as _Sky does: a leap second has no datetime
    ra_deg, dec_deg = orbital_places(target, start_time + middles * u.s, earth)
    rows: list[SiderealTarget] = []
    row_windows: list[tuple[Interval, ...]] = []
    for k in range(len(middles)):
        step = Interval(origin + timedelta(seconds=float(edges[k])), origin + timedelta(seconds=float(edges[k + 1])))
        cut = intersect_intervals(intervals, (step,))
        if cut:
            rows.append(SiderealTarget(float(ra_deg[k]), float(dec_deg[k])))
            row_windows.append(cut)
    return rows, row_windows


def _weekly(
    indices: Sequence[int], normal_windows: Sequence[tuple[Interval, ...]]
) -> Iterator[list[tuple[int, tuple[Interval, ...]]]]:
    """A week (``PIECE``) at a time from the earliest window of the targets at ``indices``: each of them with its
    windows cut to that week, those without any left out."""
    if not indices:
        return
    origin = min(normal_windows[i][0].start for i in indices)
    latest = max(normal_windows[i][-1].end for i in indices)
    while origin < latest:
        piece = (Interval(origin, min(latest, origin + PIECE)),)
        cuts = [(index, intersect_intervals(normal_windows[index], piece)) for index in indices]
        yield [(index, cut) for index, cut in cuts if cut]
        origin = piece[0].end


def _united(
    parts: Sequence[tuple[VisibilityArrays, Sequence[int]]], origin: datetime, count: int, keys: Sequence[str]
) -> VisibilityArrays:
    """One answer from parts computed separately: each part's rows belong to the targets listed with it, and a
    target's rows are united."""
    if not parts:
        return VisibilityArrays.empty(count, keys)
    # Where each target's rows are in each part (a part lists a target's rows contiguously).
    slices: list[list[tuple[int, slice]]] = [[] for _ in range(count)]
    for number, (_, rows) in enumerate(parts):
        listed = np.asarray(rows, dtype=int)
        firsts = np.flatnonzero(np.diff(listed, prepend=-1))
        for first, last in zip(firsts.tolist(), [*firsts[1:].tolist(), len(listed)], strict=True):
            slices[int(listed[first])].append((number, slice(first, last)))
    shifts = [(part.origin - origin).total_seconds() for part, _ in parts]
    starts_by_key: dict[str, FloatArray] = {}
    ends_by_key: dict[str, FloatArray] = {}
    for key in keys:
        united: list[tuple[FloatArray, FloatArray]] = []
        for pieces in slices:
            row_s = np.concatenate(
                [parts[n][0].starts[key][rows].ravel() + shifts[n] for n, rows in pieces] or [NO_SECONDS]
            )
            row_e = np.concatenate(
                [parts[n][0].ends[key][rows].ravel() + shifts[n] for n, rows in pieces] or [NO_SECONDS]
            )
            used = ~np.isnan(row_s)
            by_start = np.argsort(row_s[used])
            united.append(_sorted_merged(row_s[used][by_start][None, :], row_e[used][by_start][None, :]))
        out_width = max((part_s.shape[1] for part_s, _ in united), default=0)
        out_s, out_e = np.full((count, out_width), np.nan), np.full((count, out_width), np.nan)
        for index, (part_s, part_e) in enumerate(united):
            out_s[index, : part_s.shape[1]], out_e[index, : part_e.shape[1]] = part_s[0], part_e[0]
        starts_by_key[key], ends_by_key[key] = _compact(out_s, out_e)
    return VisibilityArrays(origin, count, keys, starts_by_key, ends_by_key)


class _EarthTable:
    """The Earth's heliocentric position (AU, ICRS axes) every hour from ``start`` for ``days``, interpolated
    linearly in between (its orbit bends by 1e-7 AU in an hour): one ephemeris call for all orbital targets."""

    def __init__(self, start: Time, days: float) -> None:
        grid_days = (np.arange(math.ceil(days * 24) + 4) - 1) / 24.0
        times = start + grid_days * u.day
        with solar_system_ephemeris.set("builtin"):
            earth = get_body_barycentric("earth", times).xyz.to_value(u.AU)
            sun = get_body_barycentric("sun", times).xyz.to_value(u.AU)
        self.grid_mjd = start.tt.mjd + grid_days
        self.xyz = (earth - sun).T

    def at(self, tt_mjd: FloatArray) -> FloatArray:
        return _interpolate(tt_mjd, self.grid_mjd, self.xyz)


def orbital_places(
    target: OrbitalTarget, times: Time, earth: _EarthTable | None = None
) -> tuple[FloatArray, FloatArray]:
    """The target's geocentric astrometric right ascension and declination (ICRS, degrees) at ``times``: the
    two-body heliocentric position, light time iterated once, less the Earth's heliocentric position (from
    ``earth`` when given, else computed at each time)."""
    tt_mjd = np.atleast_1d(times.tt.mjd)
    if earth is not None:
        earth_helio = earth.at(tt_mjd)
    else:
        with solar_system_ephemeris.set("builtin"):
            earth_xyz = get_body_barycentric("earth", times).xyz.to_value(u.AU)
            sun_xyz = get_body_barycentric("sun", times).xyz.to_value(u.AU)
        earth_helio = np.atleast_2d((earth_xyz - sun_xyz).T)
    geocentric = heliocentric_position(target, tt_mjd) - earth_helio
    light_days = np.linalg.norm(geocentric, axis=-1) / LIGHT_DAY_AU
    geocentric = heliocentric_position(target, tt_mjd - light_days) - earth_helio
    x, y, z = geocentric.T
    ra_deg = np.mod(np.degrees(np.arctan2(y, x)), 360.0)
    dec_deg = np.degrees(np.arctan2(z, np.hypot(x, y)))
    return ra_deg, dec_deg


def heliocentric_position(target: OrbitalTarget, tt_mjd: FloatArray) -> FloatArray:
    """Heliocentric equatorial (ICRS axes, J2000 mean equator) positions in AU, one row per time, of the
    two-body orbit the elements describe."""
    e = target.eccentricity
    if target.scheme == "MPC_COMET":
        q = float(target.perihelion_distance_au)  # type: ignore[arg-type]  # required for comets (OrbitalTarget)
        days = tt_mjd - float(target.epoch_of_perihelion_mjd)  # type: ignore[arg-type]  # required for comets
        if abs(e - 1.0) < 1e-9:
            x, y = _parabolic(q, days)
        elif e < 1.0:
            a = q / (1.0 - e)
            x, y = _elliptical(a, e, GAUSS_K / a**1.5 * days)
        else:
            x, y = _hyperbolic(q / (e - 1.0), e, days)
    else:
        a = float(target.mean_distance_au)  # type: ignore[arg-type]  # required for planets (OrbitalTarget)
        if target.daily_motion_deg_per_day is not None and target.scheme == "JPL_MAJOR_PLANET":
            motion = math.radians(target.daily_motion_deg_per_day)
        else:
            motion = GAUSS_K / a**1.5
        mean_anomaly = math.radians(target.mean_anomaly_deg or 0.0) + motion * (tt_mjd - target.epoch_of_elements_mjd)
        x, y = _elliptical(a, e, mean_anomaly)
    w, node, i = (
        math.radians(v) for v in (target.arg_perihelion_deg, target.long_asc_node_deg, target.inclination_deg)
    )
    p = np.array(
        [
            math.cos(w) * math.cos(node) - math.sin(w) * math.sin(node) * math.cos(i),
            math.cos(w) * math.sin(node) + math.sin(w) * math.cos(node) * math.cos(i),
            math.sin(w) * math.sin(i),
        ]
    )
    q_axis = np.array(
        [
            -math.sin(w) * math.cos(node) - math.cos(w) * math.sin(node) * math.cos(i),
            -math.sin(w) * math.sin(node) + math.cos(w) * math.cos(node) * math.cos(i),
            math.cos(w) * math.sin(i),
        ]
    )
    ecliptic = x[:, None] * p[None, :] + y[:, None] * q_axis[None, :]
    cos_eps, sin_eps = math.cos(OBLIQUITY_J2000_RAD), math.sin(OBLIQUITY_J2000_RAD)
    xe, ye, ze = ecliptic.T
    equatorial: FloatArray = np.stack([xe, ye * cos_eps - ze * sin_eps, ye * sin_eps + ze * cos_eps], axis=-1)
    return equatorial


def _elliptical(a: float, e: float, mean_anomaly: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Position in the orbital plane (x towards perihelion) from Kepler's equation E - e sin E = M."""
    m = np.mod(mean_anomaly + math.pi, 2 * math.pi) - math.pi
    big_e = m + e * np.sin(m) if e < 0.8 else np.where(m == 0, 0.0, np.pi * np.sign(m))
    for _ in range(60):
        step = (big_e - e * np.sin(big_e) - m) / (1.0 - e * np.cos(big_e))
        big_e = big_e - step
        if np.all(np.abs(step) < 1e-13):
            break
    return a * (np.cos(big_e) - e), a * math.sqrt(1.0 - e * e) * np.sin(big_e)


def _parabolic(q: float, days: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Barker's equation in closed form: D + D^3 / 3 = k t / sqrt(2 q^3) with D = tan(nu / 2)."""
    w = 3.0 * GAUSS_K * days / math.sqrt(2.0 * q**3)
    root = np.cbrt(w / 2 + np.sqrt(w * w / 4 + 1.0))
    d = root - 1.0 / root
    return q * (1.0 - d * d), 2.0 * q * d


def _hyperbolic(a: float, e: float, days: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Position in the orbital plane from e sinh H - H = M, with ``a`` the (positive) semi-major axis."""
    m = GAUSS_K / a**1.5 * days
    h = np.arcsinh(m / e)
    for _ in range(100):
        step = (e * np.sinh(h) - h - m) / (e * np.cosh(h) - 1.0)
        h = h - step
        if np.all(np.abs(step) < 1e-13):
            break
    return a * (e - np.cosh(h)), a * math.sqrt(e * e - 1.0) * np.sinh(h)


# ---------------------------------------------------------------------------------------------------------
# Satellite targets: a drifting altitude and azimuth, sampled on a grid as fine as their speed needs


class _SatelliteMotion:
    """Where satellite targets point at seconds t after ``origin``, one row per target: altitude and azimuth
    (radians, quadratic in the time since each target's epoch) and the speed on the sky (rad/s)."""

    def __init__(self, targets: Sequence[SatelliteTarget], origin: datetime) -> None:
        def column(values: list[float]) -> FloatArray:
            return np.array(values, dtype=float)[:, None]

        self.alt0 = column([math.radians(t.altitude_deg) for t in targets])
        self.az0 = column([math.radians(t.azimuth_deg) for t in targets])
        self.alt_rate = column([t.diff_altitude_rate_arcsec_per_s * ARCSEC_RAD for t in targets])
        self.az_rate = column([t.diff_azimuth_rate_arcsec_per_s * ARCSEC_RAD for t in targets])
        self.alt_acceleration = column([t.diff_altitude_acceleration_arcsec_per_s2 * ARCSEC_RAD for t in targets])
        self.az_acceleration = column([t.diff_azimuth_acceleration_arcsec_per_s2 * ARCSEC_RAD for t in targets])
        self.since_epoch = column([t.seconds_since_epoch(origin) for t in targets])

    def at(self, rows: FloatArray, t: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
        """Altitude, azimuth and speed of the targets at ``rows``, one column per time."""
        with np.errstate(over="ignore", invalid="ignore"):  # absurd drifts overflow; they are too fast anyway
            dt = self.since_epoch[rows] + t[None, :]
            alt = self.alt0[rows] + dt * (self.alt_rate[rows] + dt * self.alt_acceleration[rows] / 2)
            az = self.az0[rows] + dt * (self.az_rate[rows] + dt * self.az_acceleration[rows] / 2)
            alt_speed = self.alt_rate[rows] + dt * self.alt_acceleration[rows]
            az_speed = self.az_rate[rows] + dt * self.az_acceleration[rows]
            speed = np.hypot(alt_speed, np.cos(alt) * az_speed)
        return alt, az, speed

    def levels(self, rows: FloatArray, first: float, last: float, step_s: float) -> FloatArray:
        """For the targets at ``rows``, how finely to sample them from ``first`` to ``last``: level k samples
        every ``step_s / 2**k`` so that the target moves at most ``SATELLITE_MAX_MOVE_DEG`` between samples, up to
        the level at which one at ``SATELLITE_FASTEST_DEG_PER_S`` does; -1 for a target too fast in altitude alone
        throughout."""
        max_move = math.radians(SATELLITE_MAX_MOVE_DEG)
        fastest_allowed = math.radians(SATELLITE_FASTEST_DEG_PER_S)
        finest = max(0, math.ceil(math.log2(step_s * fastest_allowed / max_move)))
        with np.errstate(over="ignore", invalid="ignore"):
            ends = self.since_epoch[rows] + np.array([[first, last]])
            # The rates are linear in time: their largest and smallest magnitudes are at the ends, or zero between.
            alt_speed = self.alt_rate[rows] + ends * self.alt_acceleration[rows]
            az_speed = self.az_rate[rows] + ends * self.az_acceleration[rows]
            fastest = np.hypot(np.abs(alt_speed).max(axis=1), np.abs(az_speed).max(axis=1))
            turns = alt_speed[:, 0] * alt_speed[:, 1] <= 0
            slowest_in_altitude = np.where(turns, 0.0, np.abs(alt_speed).min(axis=1))
            wanted = np.ceil(np.log2(np.maximum(fastest * step_s / max_move, 1.0)))
        level = np.minimum(np.nan_to_num(wanted, nan=finest, posinf=finest), finest)
        followed = np.isfinite(fastest) & (slowest_in_altitude <= fastest_allowed)
        levels: FloatArray = np.where(followed, level, -1).astype(int)
        return levels


def _satellite_arrays(
    motion: tuple[FloatArray, FloatArray, FloatArray],
    t: FloatArray,
    windows: Sequence[tuple[Interval, ...]],
    constraints: Sequence[ObservingConstraints],
    telescopes: Sequence[TelescopeSite],
    sites: _Sites,
    per_site: Sequence[_SiteSky],
    downtimes: Mapping[str, Sequence[Interval]] | None,
) -> VisibilityArrays:
    """Satellite targets (one row per target: altitude, azimuth and speed sampled at ``t``) at every telescope:
    each rule of 3.8 as a margin that is positive where it holds, their minimum's runs on the grid, then the
    windows, darkness, lunar phase and downtimes as for fixed targets."""
    alt, az, speed = motion
    sky = per_site[0].sky
    east, north, up = np.cos(alt) * np.sin(az), np.cos(alt) * np.cos(az), np.sin(alt)
    followed = speed <= math.radians(SATELLITE_FASTEST_DEG_PER_S)  # NaN (an overflowed drift) is not
    window_s, window_e = _padded_windows(windows, sky.origin)
    min_alt = np.array([c.min_altitude_deg for c in constraints])
    twilight = np.array([c.twilight_sun_alt_deg for c in constraints])
    lunar_phase = np.array([c.max_lunar_phase for c in constraints])
    lunar_distance = np.array([c.min_lunar_distance_deg for c in constraints])
    moon_rows = np.flatnonzero(lunar_distance > 0)
    cos_moon_limit = np.cos(np.radians(lunar_distance[moon_rows]))[:, None]
    moon_at: dict[int, FloatArray] = {}
    starts_by_key: dict[str, FloatArray] = {}
    ends_by_key: dict[str, FloatArray] = {}
    for telescope, site_index in zip(telescopes, sites.index, strict=True):
        lat = math.radians(telescope.lat_deg)
        low = np.radians(np.maximum(min_alt, telescope.horizon_deg))
        margin = up - np.sin(low)[:, None]
        if telescope.zenith_blind_spot_deg > 0:
            margin = np.minimum(margin, math.cos(math.radians(telescope.zenith_blind_spot_deg)) - up)
        # The hour angle of the direction (east, north, up) at latitude lat; the allowed range as an arc of the
        # circle, so that the margin has no jump where the hour angle wraps at 12 h.
        ha_low, ha_high = (math.radians(limit_h * 15) for limit_h in telescope.hour_angle_range_h)
        half_width = (ha_high - ha_low) / 2
        if half_width < math.pi:
            hour_angle = np.arctan2(-east, math.cos(lat) * up - math.sin(lat) * north)
            off_centre = np.mod(hour_angle - (ha_low + ha_high) / 2 + math.pi, 2 * math.pi) - math.pi
            margin = np.minimum(margin, half_width - np.abs(off_centre))
        if moon_rows.size:
            if site_index not in moon_at:
                moon_at[site_index] = per_site[site_index].moon_horizontal(t)
            moon = moon_at[site_index]
            cos_distance = east[moon_rows] * moon[:, 0] + north[moon_rows] * moon[:, 1] + up[moon_rows] * moon[:, 2]
            margin[moon_rows] = np.minimum(margin[moon_rows], cos_moon_limit - cos_distance)
        margin = np.where(followed & np.isfinite(margin), margin, -1.0)
        s, e = _runs(t, margin)
        starts_by_key[telescope.key], ends_by_key[telescope.key] = per_site[site_index].observable(
            s, e, (window_s, window_e), twilight, lunar_phase, (downtimes or {}).get(telescope.key, ())
        )
    return VisibilityArrays(sky.origin, len(windows), [t.key for t in telescopes], starts_by_key, ends_by_key)


class _Sky:
    """Earth rotation, sun and moon for seconds ``t`` after ``origin``: sun and moon from astropy every
    ``ephemeris_step_s`` (they move at most 0.55 deg/h, so linear interpolation of their vectors is good to
    a few arcseconds), the Earth rotation angle linear in time from its value at ``origin``."""

    def __init__(self, origin: datetime, span_s: float, ephemeris_step_s: float, with_bodies: bool = True) -> None:
        self.origin = origin
        self.span_s = span_s
        # Julian dates, not datetimes: a time that lands in a leap second (2016-12-31 23:59:60) has no datetime,
        # and astropy turns times into their format's value when it builds frames.
        self._origin_time = Time(origin)
        self._origin_time.format = "jd"
        self._era0 = float(self._origin_time.earth_rotation_angle(0.0 * u.deg).rad)
        count = math.ceil(span_s / ephemeris_step_s) + 3
        self.ephemeris_t = (np.arange(count) - 1) * ephemeris_step_s
        if not with_bodies:  # the airmass needs only the Earth's rotation
            return
        times = self._origin_time + self.ephemeris_t * u.s
        frame = CIRS(obstime=times)
        self.sun_xyz = get_sun(times).transform_to(frame).cartesian.xyz.to_value(u.m).T
        with solar_system_ephemeris.set("builtin"):
            moon = get_body("moon", times)
        self.moon_xyz = moon.transform_to(frame).cartesian.xyz.to_value(u.m).T
        self.moon_unit = _unit(self.moon_xyz)

    def time_at(self, t: float) -> Time:
        return self._origin_time + t * u.s

    def era(self, t: FloatArray | float) -> FloatArray:
        return self._era0 + ERA_RATE_RAD_PER_S * np.asarray(t)

    def sun(self, t: FloatArray) -> FloatArray:
        return _interpolate(t, self.ephemeris_t, self.sun_xyz)

    def moon(self, t: FloatArray) -> FloatArray:
        return _interpolate(t, self.ephemeris_t, self.moon_xyz)

    def moon_screen(self, target_unit: FloatArray, limit_deg: FloatArray) -> FloatArray:
        """Whether each target comes within ``limit_deg`` of the geocentric moon on the ephemeris grid."""
        cos_limit = np.cos(np.radians(np.minimum(limit_deg, 180.0)))
        near = np.zeros(len(target_unit), dtype=bool)
        for rows in _chunks(len(target_unit), max(1, 4_000_000 // max(1, len(self.moon_unit)))):
            near[rows] = (target_unit[rows] @ self.moon_unit.T).max(axis=1) > cos_limit[rows]
        return near


def _interpolate(t: FloatArray, grid: FloatArray, values: FloatArray) -> FloatArray:
    return np.stack([np.interp(t, grid, values[:, axis]) for axis in range(values.shape[1])], axis=-1)


def _chunks(count: int, size: int) -> Iterator[slice]:
    for first in range(0, count, size):
        yield slice(first, min(count, first + size))


class _Sites:
    """Telescopes grouped by position: the sun and moon are computed once per distinct (lat, long, elevation)."""

    def __init__(self, telescopes: Sequence[TelescopeSite]) -> None:
        positions: dict[tuple[float, float, float], int] = {}
        self.index = [positions.setdefault((t.lat_deg, t.long_deg, t.elevation_m), len(positions)) for t in telescopes]
        self.locations = list(positions)


class _SiteSky:
    """What one site sees: darkness and lunar phase intervals (per limit), lunar-distance intervals per fixed
    target (when given), and the moon in the site's horizontal frame."""

    def __init__(
        self,
        sky: _Sky,
        position: tuple[float, float, float],
        sun_step_s: float,
        moon_step_s: float,
        fixed_targets: tuple[_Places, FloatArray, FloatArray] | None = None,
    ) -> None:
        """``fixed_targets``: the places, lunar distance limits (degrees) and moon screen of the fixed targets
        whose lunar-distance intervals are wanted."""
        lat_deg, long_deg, elevation_m = position
        self.sky = sky
        self._lat = math.radians(lat_deg)
        self._long = math.radians(long_deg)
        location = EarthLocation.from_geodetic(long_deg * u.deg, lat_deg * u.deg, elevation_m * u.m)
        self._itrs_m = np.array([location.x.to_value(u.m), location.y.to_value(u.m), location.z.to_value(u.m)])
        self._sun_t = _grid(sky.span_s, sun_step_s)
        self._sun_sin_alt = np.einsum("ij,ij->i", _unit(sky.sun(self._sun_t)), self._zenith(self._sun_t))
        self._moon_t = _grid(sky.span_s, moon_step_s)
        moon_topocentric = sky.moon(self._moon_t) - self._observer(self._moon_t)
        self._moon_unit = _unit(moon_topocentric)
        self._moon_sin_alt = np.einsum("ij,ij->i", self._moon_unit, self._zenith(self._moon_t))
        sun_from_moon = sky.sun(self._moon_t) - sky.moon(self._moon_t)
        cos_phase_angle = np.einsum("ij,ij->i", _unit(sun_from_moon), -_unit(sky.moon(self._moon_t)))
        self._illuminated = (1.0 + cos_phase_angle) / 2.0
        self._dark: dict[float, tuple[FloatArray, FloatArray]] = {}
        self._phase: dict[float, tuple[FloatArray, FloatArray]] = {}
        if fixed_targets is None:
            self.moon_rows = np.empty(0, dtype=int)
            self.moon_ok = _runs(self._moon_t, np.empty((0, len(self._moon_t))))
            return
        places, lunar_distance_deg, moon_screen = fixed_targets
        self.moon_rows = np.flatnonzero(moon_screen & (lunar_distance_deg > 0))
        cos_limit = np.cos(np.radians(lunar_distance_deg[self.moon_rows]))
        margin = cos_limit[:, None] - places.unit[self.moon_rows] @ self._moon_unit.T
        self.moon_ok = _runs(self._moon_t, margin)

    def _zenith(self, t: FloatArray) -> FloatArray:
        """The local vertical (geodetic) in CIRS at each time."""
        theta = self.sky.era(t) + self._long
        cos_lat = math.cos(self._lat)
        return np.stack(
            [cos_lat * np.cos(theta), cos_lat * np.sin(theta), np.full_like(theta, math.sin(self._lat))], axis=-1
        )

    def _observer(self, t: FloatArray) -> FloatArray:
        """The observatory's geocentric position in CIRS (metres) at each time, polar motion ignored."""
        era = self.sky.era(t)
        x, y, z = self._itrs_m
        cos_era, sin_era = np.cos(era), np.sin(era)
        return np.stack([x * cos_era - y * sin_era, x * sin_era + y * cos_era, np.full_like(era, z)], axis=-1)

    def horizontal_basis(self, t: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
        """The local east, north and up (geodetic) unit vectors in CIRS at each time, one row per time."""
        theta = self.sky.era(t) + self._long
        sin_lat, cos_lat = math.sin(self._lat), math.cos(self._lat)
        east = np.stack([-np.sin(theta), np.cos(theta), np.zeros_like(theta)], axis=-1)
        north = np.stack([-sin_lat * np.cos(theta), -sin_lat * np.sin(theta), np.full_like(theta, cos_lat)], axis=-1)
        return east, north, self._zenith(t)

    def moon_horizontal(self, t: FloatArray) -> FloatArray:
        """The topocentric moon's direction as (east, north, up) components, one row per time."""
        moon = _unit(self.sky.moon(t) - self._observer(t))
        return np.stack([np.einsum("ij,ij->i", moon, axis) for axis in self.horizontal_basis(t)], axis=-1)

    def observable(
        self,
        s: FloatArray,
        e: FloatArray,
        windows: tuple[FloatArray, FloatArray],
        twilight_deg: FloatArray,
        max_lunar_phase: FloatArray,
        downtimes: Sequence[Interval],
    ) -> tuple[FloatArray, FloatArray]:
        """Each target's intervals where its own rules hold (one row per target) cut to its windows, darkness and
        the lunar rules at this site, less a telescope's downtimes: rows sorted, touching intervals merged."""
        s, e = _clip_rowwise(s, e, *windows)
        s, e = self.restrict(s, e, twilight_deg, max_lunar_phase)
        down = normalise_intervals(downtimes)
        if down:
            s, e = _clip_sorted(s, e, *_complement(down, self.sky.origin, self.sky.span_s))
        return _sorted_merged(s, e)

    def restrict(
        self, s: FloatArray, e: FloatArray, twilight_deg: FloatArray, max_lunar_phase: FloatArray
    ) -> tuple[FloatArray, FloatArray]:
        """Each target's intervals (one row per target) cut to darkness and the lunar rules at this site."""
        s, e = _by_value(s, e, twilight_deg, lambda value, qs, qe: _clip_sorted(qs, qe, *self.dark(value)))
        phase_limited = np.where(max_lunar_phase < 1.0, max_lunar_phase, np.nan)
        s, e = _by_value(s, e, phase_limited, lambda value, qs, qe: _clip_sorted(qs, qe, *self.phase_ok(value)))
        return _on_rows(s, e, self.moon_rows, lambda qs, qe: _clip_rowwise(qs, qe, *self.moon_ok))

    def dark(self, twilight_deg: float) -> tuple[FloatArray, FloatArray]:
        """Sorted intervals when the sun is below ``twilight_deg``."""
        if twilight_deg not in self._dark:
            margin = math.sin(math.radians(twilight_deg)) - self._sun_sin_alt
            s, e = _runs(self._sun_t, margin[None, :])
            self._dark[twilight_deg] = (s[0], e[0])
        return self._dark[twilight_deg]

    def phase_ok(self, max_phase: float) -> tuple[FloatArray, FloatArray]:
        """Sorted intervals when the moon is at most ``max_phase`` illuminated, or down."""
        if max_phase not in self._phase:
            moon_down = math.sin(math.radians(MOON_DOWN_ALT_DEG)) - self._moon_sin_alt
            margin = np.maximum(max_phase - self._illuminated, moon_down)
            s, e = _runs(self._moon_t, margin[None, :])
            self._phase[max_phase] = (s[0], e[0])
        return self._phase[max_phase]


def _grid(span_s: float, step_s: float) -> FloatArray:
    return np.append(np.arange(0.0, span_s, step_s), span_s)


def _unit(vectors: FloatArray) -> FloatArray:
    unit: FloatArray = vectors / np.linalg.norm(vectors, axis=-1, keepdims=True)
    return unit


# ---------------------------------------------------------------------------------------------------------
# Interval sets as padded arrays: one row per target, NaN in unused slots (start and end together)


def _hour_angle_intervals(
    telescope: TelescopeSite,
    places: _Places,
    min_alt_deg: FloatArray,
    hull_s: FloatArray,
    hull_e: FloatArray,
    sky: _Sky,
) -> tuple[FloatArray, FloatArray]:
    """When each target is above the airmass limit and the horizon, inside the hour-angle limits and outside the
    zenith blind spot, within the hull of its windows: closed form in the hour angle, which grows linearly."""
    lat = math.radians(telescope.lat_deg)
    sin_dec, cos_dec = np.sin(places.dec), np.cos(places.dec)
    # sin(alt) = sin(lat) sin(dec) + cos(lat) cos(dec) cos(H); a pole (cos dec = 0) gives +-inf, handled below.
    scale = np.maximum(math.cos(lat) * cos_dec, 1e-300)
    low_alt = np.radians(np.maximum(min_alt_deg, telescope.horizon_deg))
    cos_h_low = (np.sin(low_alt) - math.sin(lat) * sin_dec) / scale
    half_width = np.where(cos_h_low <= -1, math.pi, np.arccos(np.clip(cos_h_low, -1, 1)))
    half_width = np.where(cos_h_low > 1, np.nan, half_width)  # never high enough
    ha_low_h, ha_high_h = telescope.hour_angle_range_h
    low = np.maximum(-half_width, math.radians(ha_low_h * 15))
    high = np.minimum(half_width, math.radians(ha_high_h * 15))
    pieces = [(low, high)]
    if telescope.zenith_blind_spot_deg > 0:
        cos_h_blind = (math.cos(math.radians(telescope.zenith_blind_spot_deg)) - math.sin(lat) * sin_dec) / scale
        blind = np.arccos(np.clip(cos_h_blind, -1, 1))  # |H| < blind is too close to the zenith
        reaches = cos_h_blind < 1
        pieces = [
            (low, np.where(reaches, np.minimum(high, -blind), high)),
            (np.where(reaches, np.maximum(low, blind), np.nan), high),
        ]
    hour_angle_at_hull = sky.era(hull_s) + math.radians(telescope.long_deg) - places.ra
    lengths = hull_e - hull_s
    longest = float(lengths[~np.isnan(lengths)].max(initial=0.0))
    cycles = np.arange(-1, math.ceil(longest / SIDEREAL_DAY_S) + 1)
    starts, ends = [], []
    for a, b in pieces:
        a = np.where(a <= b, a, np.nan)
        first = hull_s + np.mod(a - hour_angle_at_hull, 2 * math.pi) / ERA_RATE_RAD_PER_S
        s = first[:, None] + cycles[None, :] * SIDEREAL_DAY_S
        e = s + ((b - a) / ERA_RATE_RAD_PER_S)[:, None]
        starts.append(np.maximum(s, hull_s[:, None]))
        ends.append(np.minimum(e, hull_e[:, None]))
    return _compact(np.concatenate(starts, axis=1), np.concatenate(ends, axis=1))


def _padded_windows(windows: Sequence[Sequence[Interval]], origin: datetime) -> tuple[FloatArray, FloatArray]:
    width = max(1, max(len(w) for w in windows))
    s = np.full((len(windows), width), np.nan)
    e = np.full((len(windows), width), np.nan)
    for row, intervals in enumerate(windows):
        for column, interval in enumerate(intervals):
            s[row, column] = (interval.start - origin).total_seconds()
            e[row, column] = (interval.end - origin).total_seconds()
    return s, e


def _complement(intervals: Sequence[Interval], origin: datetime, span_s: float) -> tuple[FloatArray, FloatArray]:
    """The gaps of a normal interval tuple inside [0, span_s], as sorted arrays of seconds from origin."""
    edges = [-1.0]
    for interval in intervals:
        edges += [(interval.start - origin).total_seconds(), (interval.end - origin).total_seconds()]
    edges.append(span_s + 1.0)
    return np.array(edges[0::2]), np.array(edges[1::2])


def _compact(s: FloatArray, e: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Drop empty slots: valid intervals first (in their order), as few columns as the fullest row needs."""
    valid = (e - s) > EMPTY_S
    counts = valid.sum(axis=1)
    width = int(counts.max(initial=0))
    if width == 0:
        empty = np.full((s.shape[0], 0), np.nan)
        return empty, empty.copy()
    order = np.argsort(~valid, axis=1, kind="stable")[:, :width]
    s, e = np.take_along_axis(s, order, axis=1), np.take_along_axis(e, order, axis=1)
    unused = np.arange(width)[None, :] >= counts[:, None]
    s[unused] = np.nan
    e[unused] = np.nan
    return s, e


def _sorted_merged(s: FloatArray, e: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Rows sorted by start with touching intervals merged (the sets are disjoint already)."""
    order = np.argsort(np.where(np.isnan(s), np.inf, s), axis=1)
    s, e = np.take_along_axis(s, order, axis=1), np.take_along_axis(e, order, axis=1)
    if s.shape[1] < 2:
        return s, e
    joined = s[:, 1:] <= e[:, :-1] + EMPTY_S  # NaN compares False: never joined
    no = np.zeros((len(s), 1), dtype=bool)
    run_starts = np.where(np.concatenate([no, joined], axis=1), np.nan, s)
    run_ends = np.where(np.concatenate([joined, no], axis=1), np.nan, e)
    # A run's first start and last end, in order; both lists have one entry per run, so they stay aligned.
    first_s, _ = _compact(run_starts, np.where(np.isnan(run_starts), np.nan, np.inf))
    last_e, _ = _compact(run_ends, np.where(np.isnan(run_ends), np.nan, np.inf))
    return first_s, last_e


def _clip_rowwise(qs: FloatArray, qe: FloatArray, ls: FloatArray, le: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Row by row, the intersection of two disjoint interval sets: every pairwise overlap (they are disjoint)."""
    s = np.maximum(qs[:, :, None], ls[:, None, :]).reshape(len(qs), -1)
    e = np.minimum(qe[:, :, None], le[:, None, :]).reshape(len(qs), -1)
    return _compact(s, e)


def _clip_sorted(qs: FloatArray, qe: FloatArray, ls: FloatArray, le: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Every row's intervals intersected with one sorted disjoint list shared by all rows (found by bisection)."""
    if ls.size == 0 or qs.size == 0:
        empty = np.full((qs.shape[0], 0), np.nan)
        return empty, empty.copy()
    first = np.searchsorted(le, qs, side="right")  # the first listed interval ending after the start
    stop = np.searchsorted(ls, qe, side="left")  # listed intervals starting before the end
    counts = np.where(np.isnan(qs), 0, np.maximum(stop - first, 0))
    starts, ends = [], []
    for k in range(int(counts.max(initial=0))):
        index = np.minimum(first + k, ls.size - 1)
        used = k < counts
        starts.append(np.where(used, np.maximum(qs, ls[index]), np.nan))
        ends.append(np.where(used, np.minimum(qe, le[index]), np.nan))
    if not starts:
        empty = np.full((qs.shape[0], 0), np.nan)
        return empty, empty.copy()
    return _compact(np.concatenate(starts, axis=1), np.concatenate(ends, axis=1))


def _on_rows(
    s: FloatArray,
    e: FloatArray,
    rows: FloatArray,
    operation: Callable[[FloatArray, FloatArray], tuple[FloatArray, FloatArray]],
) -> tuple[FloatArray, FloatArray]:
    """Apply an interval operation to some rows only; the others keep their intervals."""
    if rows.size == 0:
        return s, e
    new_s, new_e = operation(s[rows], e[rows])
    width = max(s.shape[1], new_s.shape[1])
    out_s = np.full((s.shape[0], width), np.nan)
    out_e = np.full((s.shape[0], width), np.nan)
    out_s[:, : s.shape[1]], out_e[:, : s.shape[1]] = s, e
    out_s[rows], out_e[rows] = np.nan, np.nan
    out_s[rows, : new_s.shape[1]], out_e[rows, : new_s.shape[1]] = new_s, new_e
    return _compact(out_s, out_e)


def _by_value(
    s: FloatArray,
    e: FloatArray,
    values: FloatArray,
    operation: Callable[[float, FloatArray, FloatArray], tuple[FloatArray, FloatArray]],
) -> tuple[FloatArray, FloatArray]:
    """Apply a value-dependent interval operation to the rows holding each distinct value (NaN: none)."""
    for value in np.unique(values[~np.isnan(values)]).tolist():
        s, e = _on_rows(s, e, np.flatnonzero(values == value), partial(operation, value))
    return s, e


def _runs(t: FloatArray, margin: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Per row, the intervals where a sampled margin is positive, edges at the interpolated zero crossings."""
    rows, n = margin.shape
    if rows == 0:
        empty = np.full((0, 0), np.nan)
        return empty, empty.copy()
    ok = margin > 0
    padded = np.zeros((rows, n + 2), dtype=np.int8)
    padded[:, 1:-1] = ok
    step = np.diff(padded, axis=1)  # +1 at a run's first sample, -1 just after its last
    rise_row, rise_col = np.nonzero(step == 1)
    fall_row, fall_col = np.nonzero(step == -1)

    def crossing(row: FloatArray, before: FloatArray) -> FloatArray:
        after = before + 1
        f0, f1 = margin[row, before], margin[row, after]
        fraction = np.clip(f0 / np.where(f0 != f1, f0 - f1, 1.0), 0.0, 1.0)
        moment: FloatArray = t[before] + fraction * (t[after] - t[before])
        return moment

    inner_rise = rise_col > 0
    starts = np.full(rise_col.shape, t[0])
    starts[inner_rise] = crossing(rise_row[inner_rise], rise_col[inner_rise] - 1)
    inner_fall = fall_col < n
    ends = np.full(fall_col.shape, t[-1])
    ends[inner_fall] = crossing(fall_row[inner_fall], fall_col[inner_fall] - 1)
    counts = np.bincount(rise_row, minlength=rows)
    width = int(counts.max(initial=0))
    slot = np.arange(rise_row.size) - np.repeat(np.cumsum(counts) - counts, counts)
    out_s = np.full((rows, max(width, 0)), np.nan)
    out_e = np.full((rows, max(width, 0)), np.nan)
    out_s[rise_row, slot] = starts
    out_e[fall_row, slot] = ends
    return out_s, out_e
