"""Visibility for 10,000 targets x 20 telescopes x 7 days: the vectorised adapter against a per-target astropy loop.

Both run in the same process on the same problem: the 18 telescopes of the demo network plus two more (so 20, at
7 distinct sites), targets spread over the sky as the scheduler benchmark draws them (RA uniform, Dec uniform in
sin dec over -80..+80, airmass limit 1.6-2.0, a fifth of them with a lunar phase limit of 0.5, a few with proper
motion), one 7-day window around the full moon of 2016-10-16 and a few downtimes. The loop is the
straightforward astropy program, given its best chance: per target and site one ``AltAz`` transform over a
5-minute grid (with astropy's ``ErfaAstromInterpolator``), hour angle and lunar distance by spherical trigonometry
in that frame, the sun and the topocentric moon per site computed once; per rule the runs of the grid with
interpolated edges, intersected with the domain's interval algebra. It is too slow to run for every target, so it
runs on the first
``--loop-targets`` and its time is extrapolated per target (said so in the output). Its intervals are compared
with the vectorised ones on that common subset: the largest edge difference, and any interval found by only one.

    python benchmarks/visibility_vectorised.py [--targets 10000] [--loop-targets 20] [--days 7] [--repeats 3]
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
import warnings
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import NamedTuple

import astropy
import astropy.units as u
import attrs
import numpy as np
from astropy.coordinates import AltAz, EarthLocation, SkyCoord, get_body, get_sun
from astropy.coordinates.erfa_astrom import ErfaAstromInterpolator, erfa_astrom
from astropy.time import Time

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from adapters.astropy_visibility import AstropyVisibility
from domain.visibility import (
    MOON_DOWN_ALT_DEG,
    Interval,
    ObservingConstraints,
    SiderealTarget,
    TelescopeSite,
    intersect_intervals,
    normalise_intervals,
    subtract_intervals,
)
from tests.unit.domain.observatory_fixtures import demo_observatory

START = datetime(2016, 10, 12, tzinfo=UTC)
GRID_S = 300.0
# astropy's own remedy for slow transforms over many times: ERFA's astrometry parameters interpolated from an
# hourly grid. It gives the loop its best chance (about 5x faster transforms) at a cost of milliarcseconds.
ASTROM_STEP = 3600 * u.s
FAR_STAR_WARNING = 'ERFA function "pmsafe" yielded .* "distance overridden'


def telescopes() -> list[TelescopeSite]:
    observatory = demo_observatory()
    found = []
    for telescope in observatory.telescopes.values():
        enclosure = observatory.enclosures[telescope.enclosure_id]
        found.append(TelescopeSite.of(observatory.sites[enclosure.site_id], enclosure, telescope))
    by_key = {t.key: t for t in found}
    # Two more, so that there are 20: a second 1 m at tfn and a 1 m with a higher horizon at ogg.
    found.append(attrs.evolve(by_key["tfn.aqwa.0m4a"], enclosure="doma", telescope="1m0a", ha_limit_neg_h=-4.6,
                              ha_limit_pos_h=4.6, horizon_deg=15.0))  # fmt: skip
    found.append(attrs.evolve(by_key["ogg.clma.0m4b"], enclosure="domb", telescope="1m0a", horizon_deg=20.0))
    return found


def problem(count: int, days: float) -> tuple[list[SiderealTarget], list[ObservingConstraints], list[Interval]]:
    rng = np.random.default_rng(20161016)
    ra = rng.uniform(0, 360, count)
    dec = np.degrees(np.arcsin(rng.uniform(math.sin(math.radians(-80)), math.sin(math.radians(80)), count)))
    moving = rng.random(count) < 0.05
    pm_ra = np.where(moving, rng.normal(0, 200, count), 0.0)
    pm_dec = np.where(moving, rng.normal(0, 200, count), 0.0)
    parallax = np.where(moving, rng.uniform(1, 100, count), 0.0)
    targets = [
        SiderealTarget(float(a), float(d), float(pa), float(pd), float(p))
        for a, d, pa, pd, p in zip(ra, dec, pm_ra, pm_dec, parallax, strict=True)
    ]
    airmass = rng.uniform(1.6, 2.0, count)
    phase = np.where(rng.random(count) < 0.2, 0.5, 1.0)
    constraints = [
        ObservingConstraints(max_airmass=float(a), min_lunar_distance_deg=30.0, max_lunar_phase=float(p))
        for a, p in zip(airmass, phase, strict=True)
    ]
    return targets, constraints, [Interval(START, START + timedelta(days=days))]


def downtimes(found: Sequence[TelescopeSite]) -> dict[str, list[Interval]]:
    return {
        found[2].key: [Interval(START + timedelta(hours=14), START + timedelta(hours=18))],
        found[8].key: [Interval(START + timedelta(days=1, hours=6), START + timedelta(days=1, hours=9))],
        found[12].key: [Interval(START + timedelta(days=3), START + timedelta(days=4))],
    }


# ---------------------------------------------------------------------------------------------------------
# The per-target astropy loop


class SiteSky(NamedTuple):
    """What the loop computes once per site: its frame, the sun's altitude, the topocentric moon (radians)."""

    frame: AltAz
    lat_rad: float
    sun_alt: np.ndarray
    moon_alt: np.ndarray
    moon_az: np.ndarray


class LoopVisibility:
    """The straightforward astropy program, one target at a time."""

    def __init__(self, found: Sequence[TelescopeSite], window: Interval) -> None:
        self.window = window
        count = int(window.seconds // GRID_S) + 1
        self.moments = [window.start + timedelta(seconds=GRID_S * k) for k in range(count)]
        if self.moments[-1] < window.end:
            self.moments.append(window.end)
        self.times = Time(self.moments)
        self.seconds = np.array([(m - window.start).total_seconds() for m in self.moments])
        self.sites: dict[tuple[float, float, float], SiteSky] = {}
        sun = get_sun(self.times)
        moon = get_body("moon", self.times, ephemeris="builtin")
        elongation = sun.separation(moon).rad
        phase_angle = np.arctan2(
            sun.distance.au * np.sin(elongation), moon.distance.au - sun.distance.au * np.cos(elongation)
        )
        self.illuminated = (1 + np.cos(phase_angle)) / 2
        for telescope in found:
            position = (telescope.lat_deg, telescope.long_deg, telescope.elevation_m)
            if position in self.sites:
                continue
            location = EarthLocation.from_geodetic(position[1] * u.deg, position[0] * u.deg, position[2] * u.m)
            frame = AltAz(obstime=self.times, location=location)
            with erfa_astrom.set(ErfaAstromInterpolator(ASTROM_STEP)):
                moon_altaz = moon.transform_to(frame)
                sun_alt = sun.transform_to(frame).alt.deg
            self.sites[position] = SiteSky(
                frame=frame,
                lat_rad=math.radians(position[0]),
                sun_alt=sun_alt,
                moon_alt=moon_altaz.alt.rad,
                moon_az=moon_altaz.az.rad,
            )

    def visible_intervals(
        self,
        target: SiderealTarget,
        found: Sequence[TelescopeSite],
        constraints: ObservingConstraints,
        down: dict[str, list[Interval]],
    ) -> dict[str, tuple[Interval, ...]]:
        star = SkyCoord(
            ra=target.ra_deg * u.deg,
            dec=target.dec_deg * u.deg,
            pm_ra_cosdec=target.proper_motion_ra_mas_per_yr * u.mas / u.yr,
            pm_dec=target.proper_motion_dec_mas_per_yr * u.mas / u.yr,
            distance=(1000.0 / max(target.parallax_mas, 1e-6)) * u.pc,
            obstime=Time(target.epoch_jyear, format="jyear"),
        )
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=FAR_STAR_WARNING)
            star = star.apply_space_motion(new_obstime=self.times[len(self.times) // 2])
        per_site: dict[tuple[float, float, float], tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        result = {}
        for telescope in found:
            position = (telescope.lat_deg, telescope.long_deg, telescope.elevation_m)
            site = self.sites[position]
            if position not in per_site:
                with erfa_astrom.set(ErfaAstromInterpolator(ASTROM_STEP)):
                    altaz = star.transform_to(site.frame)
                alt, az = altaz.alt.rad, altaz.az.rad
                # Hour angle and lunar distance by spherical trigonometry in the same (observed) frame: what
                # astropy's AltAz -> HADec rotation and separation compute, without a round trip through ICRS.
                hour_angle = (
                    np.degrees(
                        np.arctan2(
                            -np.sin(az) * np.cos(alt),
                            math.cos(site.lat_rad) * np.sin(alt) - math.sin(site.lat_rad) * np.cos(alt) * np.cos(az),
                        )
                    )
                    / 15
                )
                cos_distance = np.sin(alt) * np.sin(site.moon_alt) + np.cos(alt) * np.cos(site.moon_alt) * np.cos(
                    az - site.moon_az
                )
                per_site[position] = (np.degrees(alt), hour_angle, np.degrees(np.arccos(np.clip(cos_distance, -1, 1))))
            alt, hour_angle, moon_distance = per_site[position]
            ha_low, ha_high = telescope.hour_angle_range_h
            margins = [
                alt - max(constraints.min_altitude_deg, telescope.horizon_deg),
                90 - telescope.zenith_blind_spot_deg - alt,
                hour_angle - ha_low,
                ha_high - hour_angle,
                constraints.twilight_sun_alt_deg - site.sun_alt,
                moon_distance - constraints.min_lunar_distance_deg,
                np.maximum(
                    (constraints.max_lunar_phase - self.illuminated) * 100,
                    MOON_DOWN_ALT_DEG - np.degrees(site.moon_alt),
                ),
            ]
            intervals: tuple[Interval, ...] = (self.window,)
            for margin in margins:
                intervals = intersect_intervals(intervals, self._runs(margin))
            result[telescope.key] = subtract_intervals(intervals, down.get(telescope.key, []))
        return result

    def _runs(self, margin: np.ndarray) -> tuple[Interval, ...]:
        """Where the margin is positive, edges interpolated linearly between grid samples."""
        ok = margin > 0
        runs = []
        start: float | None = 0.0 if ok[0] else None
        for k in range(1, len(ok)):
            if ok[k] == ok[k - 1]:
                continue
            f0, f1 = margin[k - 1], margin[k]
            crossing = self.seconds[k - 1] + (self.seconds[k] - self.seconds[k - 1]) * f0 / (f0 - f1)
            if ok[k]:
                start = crossing
            elif start is not None and crossing > start:
                runs.append((start, crossing))
                start = None
        if start is not None and ok[-1]:
            runs.append((start, self.seconds[-1]))
        base = self.window.start
        return normalise_intervals(
            Interval(base + timedelta(seconds=float(a)), base + timedelta(seconds=float(b))) for a, b in runs if b > a
        )


# ---------------------------------------------------------------------------------------------------------
# Comparison


def compare(
    fast: Sequence[Mapping[str, tuple[Interval, ...]]], loop: Sequence[Mapping[str, tuple[Interval, ...]]]
) -> tuple[float, int, float, int]:
    """The largest edge difference (minutes) over intervals both sides found; how many intervals only one side
    found, and the longest of those (minutes); how many intervals were compared."""
    worst_s, only_one, longest_alone_s, compared = 0.0, 0, 0.0, 0
    for fast_row, loop_row in zip(fast, loop, strict=False):
        for key, loop_intervals in loop_row.items():
            fast_intervals = fast_row[key]
            used = set()
            for interval in loop_intervals:
                overlapping = [
                    i for i, f in enumerate(fast_intervals) if f.start < interval.end and interval.start < f.end
                ]
                if len(overlapping) != 1:
                    only_one += 1
                    longest_alone_s = max(longest_alone_s, interval.seconds)
                    continue
                other = fast_intervals[overlapping[0]]
                used.add(overlapping[0])
                compared += 1
                worst_s = max(
                    worst_s,
                    abs((other.start - interval.start).total_seconds()),
                    abs((other.end - interval.end).total_seconds()),
                )
            for i, f in enumerate(fast_intervals):
                if i not in used:
                    only_one += 1
                    longest_alone_s = max(longest_alone_s, f.seconds)
    return worst_s / 60, only_one, longest_alone_s / 60, compared


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--targets", type=int, default=10_000)
    parser.add_argument("--loop-targets", type=int, default=20)
    parser.add_argument("--days", type=float, default=7.0)
    parser.add_argument("--repeats", type=int, default=3, help="vectorised runs; the median is reported")
    args = parser.parse_args()
    found = telescopes()
    targets, constraints, window = problem(args.targets, args.days)
    down = downtimes(found)
    windows = [window] * len(targets)
    visibility = AstropyVisibility()

    # Warm-up, not timed: both sides read the IERS tables and initialise astropy's transform graph once.
    visibility.visible_intervals(targets[:2], found, windows[:2], constraints[:2], down)
    LoopVisibility(found[:1], window[0])

    runs = []
    for _ in range(args.repeats):
        started = time.perf_counter()
        arrays = visibility.compute(targets, found, windows, constraints, down)
        arrays_s = time.perf_counter() - started
        fast = arrays.materialise()
        runs.append((time.perf_counter() - started, arrays_s))
    fast_s, arrays_s = sorted(runs)[len(runs) // 2]  # the median run
    interval_count = sum(len(intervals) for row in fast for intervals in row.values())

    started = time.perf_counter()
    loop = LoopVisibility(found, window[0])
    loop_setup_s = time.perf_counter() - started
    loop_answers = []
    started = time.perf_counter()
    for index in range(args.loop_targets):
        if index % 5 == 0:
            print(f"  loop: {index}/{args.loop_targets} targets", file=sys.stderr)
        loop_answers.append(loop.visible_intervals(targets[index], found, constraints[index], down))
    loop_per_target_s = (time.perf_counter() - started) / args.loop_targets
    loop_estimate_s = loop_setup_s + loop_per_target_s * len(targets)
    worst_min, only_one, longest_alone_min, compared = compare(fast[: args.loop_targets], loop_answers)

    print(
        f"Visibility of {len(targets)} targets x {len(found)} telescopes x {args.days:g} days "
        f"({os.cpu_count()} CPUs, astropy {astropy.__version__}, numpy {np.__version__})"
    )
    print(
        f"  vectorised adapter      {fast_s:7.2f} s  (median of {args.repeats} runs: arrays {arrays_s:.2f} s, "
        f"Interval objects {fast_s - arrays_s:.2f} s; {interval_count} intervals)"
    )
    print(
        f"  per-target astropy loop {loop_estimate_s:7.1f} s  estimated: measured on {args.loop_targets} targets "
        f"({loop_per_target_s:.3f} s per target) plus {loop_setup_s:.2f} s of sun and moon per site, "
        f"extrapolated to {len(targets)} targets"
    )
    print(f"  ratio loop/vectorised   {loop_estimate_s / fast_s:7.0f} x")
    print(
        f"  edges on the common {args.loop_targets} targets: {compared} intervals compared, largest edge "
        f"difference {worst_min:.2f} min; {only_one} intervals found by one side only"
        + (f" (longest {longest_alone_min:.2f} min)" if only_one else "")
    )


if __name__ == "__main__":
    main()
