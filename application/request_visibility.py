"""The visibility check of requests.md 3.8 as validation uses it: which telescopes may take a request, the
intervals its targets are observable in there (through the Visibility port), minus downtimes, and the
messages when that is not enough.

The port computes ICRS targets, SATELLITE targets (a local altitude and azimuth with rates) and orbital elements
of the schemes MPC_MINOR_PLANET, MPC_COMET and JPL_MAJOR_PLANET; other orbital schemes refuse the request at this
step (requests.md 2.9). HOUR_ANGLE targets (DIRECT and REAL_TIME groups only) are not checked: they add nothing to
the intersection, and a request of only those counts its whole window.

``visibility_hooks(visibility)`` is what the composition root hands the request-group use cases: a factory
that, inside a unit of work, gives validation its two callbacks.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from datetime import datetime

from application.handlers.requestgroups import HooksFactory, VisibilityHooks
from application.ports import DowntimeQuery, UnitOfWork, Visibility
from domain.errors import ValidationError
from domain.instrument_catalogue import Catalogue
from domain.observatory import Observatory
from domain.requestgroups import Request, Target, TargetType
from domain.visibility import (
    ORBITAL_SCHEMES,
    Interval,
    ObservingConstraints,
    OrbitalTarget,
    SatelliteTarget,
    SiderealTarget,
    TelescopeSite,
    VisibilityTarget,
    intersect_intervals,
    longest_interval,
    normalise_intervals,
    subtract_intervals,
    union_intervals,
)

NOT_VISIBLE = (
    "According to the constraints of the request, the target will not be visible within the time window. Check "
    "that the target is in the nighttime sky. Consider modifying the time window or loosening the airmass or lunar "
    "separation constraints. If the target is non sidereal, double check that the provided elements are correct."
)
UNSUPPORTED_SCHEME = (
    "Visibility cannot be computed for orbital scheme {scheme}; use MPC_MINOR_PLANET, MPC_COMET or JPL_MAJOR_PLANET"
)
TOO_SHORT = (
    "According to the constraints of the request, the target will only be visible for a maximum of {largest:.2f} "
    "hours within the time window. This is less than the duration of your request {duration:.2f} hours. Consider "
    "expanding the time window or loosening the airmass or lunar separation constraints."
)


def candidate_telescopes(request: Request, observatory: Observatory, *, staff: bool = False) -> list[TelescopeSite]:
    """Telescopes of the request's location offering its first configuration's instrument type (3.8 step 1),
    in canonical order; staff with a fully set location may also use instruments that are not schedulable."""
    location = request.location
    if location is None or not request.configurations:
        return []
    wanted = request.configurations[0].instrument_type.casefold()
    found: dict[str, TelescopeSite] = {}
    for placed in Catalogue(observatory).offered_instruments(staff and location.is_fully_set):
        itype = observatory.instrument_types.get(placed.instrument.instrument_type_id)
        if (
            itype is not None
            and itype.code.casefold() == wanted
            and placed.telescope_class == location.telescope_class
            and location.site in ("", placed.site.code)
            and location.enclosure in ("", placed.enclosure.code)
            and location.telescope in ("", placed.telescope.code)
        ):
            site = TelescopeSite.of(placed.site, placed.enclosure, placed.telescope)
            found.setdefault(site.key, site)
    return list(found.values())


def sidereal_target(target: Target) -> SiderealTarget | None:
    """The target as the Visibility port takes a fixed star: ICRS targets only."""
    if target.type is not TargetType.ICRS or target.ra is None or target.dec is None:
        return None
    return SiderealTarget(
        target.ra, target.dec, target.proper_motion_ra, target.proper_motion_dec, target.parallax, target.epoch
    )


def orbital_target(target: Target) -> OrbitalTarget | None:
    """The target as the Visibility port takes orbital elements: the schemes it supports only, with their fields
    (None otherwise; field validation refuses missing fields first)."""
    scheme = target.scheme
    if target.type is not TargetType.ORBITAL_ELEMENTS or scheme is None or scheme.value not in ORBITAL_SCHEMES:
        return None
    needed = (target.epochofel, target.orbinc, target.longascnode, target.argofperih, target.eccentricity)
    if any(value is None for value in needed):
        return None
    try:
        return OrbitalTarget(
            scheme.value,
            target.epochofel,  # type: ignore[arg-type]  # checked not None just above
            target.orbinc,  # type: ignore[arg-type]
            target.longascnode,  # type: ignore[arg-type]
            target.argofperih,  # type: ignore[arg-type]
            target.eccentricity,  # type: ignore[arg-type]
            mean_distance_au=target.meandist,
            mean_anomaly_deg=target.meananom,
            daily_motion_deg_per_day=target.dailymot,
            perihelion_distance_au=target.perihdist,
            epoch_of_perihelion_mjd=target.epochofperih,
        )
    except ValidationError:
        return None


def satellite_target(target: Target) -> SatelliteTarget | None:
    """The target as the Visibility port takes a SATELLITE: its altitude and azimuth as a fixed pointing (None
    otherwise; field validation refuses missing or out-of-range fields first).

    Decision: the rates and accelerations are left out of the sky check. They describe how the mount tracks once
    the pass has begun, counted from ``diff_epoch``, which clients set to the pass itself; carried across a
    window of days (or from the epoch of R33, MJD 22, to 2016) they spin the pointing round the sky many times a
    second, and the request would be refused although upstream accepts it (R33: 201, as rise_set checks a
    satellite against darkness only). The fixed pointing keeps the rules of 3.8 that mean something for it:
    darkness, horizon, airmass, hour angle and the moon."""
    if target.type is not TargetType.SATELLITE or target.altitude is None or target.azimuth is None:
        return None
    try:
        return SatelliteTarget(target.altitude, target.azimuth)
    except ValidationError:
        return None


def port_target(target: Target) -> VisibilityTarget | None:
    """The target as the Visibility port takes it, or None when the port cannot check it."""
    return sidereal_target(target) or orbital_target(target) or satellite_target(target)


def unsupported_schemes(request: Request) -> list[str]:
    """The orbital schemes of the request's targets that the port has no ephemeris for, in order, once each."""
    found: list[str] = []
    for configuration in request.configurations:
        target = configuration.target
        scheme = target.scheme.value if target.scheme is not None else ""
        if target.type is TargetType.ORBITAL_ELEMENTS and scheme and scheme not in ORBITAL_SCHEMES + tuple(found):
            found.append(scheme)
    return found


def _pairs(request: Request) -> list[tuple[VisibilityTarget, ObservingConstraints]]:
    """The distinct (target, constraints) pairs the port can check; all must be observable at once."""
    pairs: list[tuple[VisibilityTarget, ObservingConstraints]] = []
    for configuration in request.configurations:
        target, constraints = port_target(configuration.target), configuration.constraints
        if target is None:
            continue
        pair = (
            target,
            ObservingConstraints(constraints.max_airmass, constraints.min_lunar_distance, constraints.max_lunar_phase),
        )
        if pair not in pairs:
            pairs.append(pair)
    return pairs


def visible_intervals_by_site(
    request: Request,
    observatory: Observatory,
    visibility: Visibility,
    downtimes: Mapping[str, Sequence[Interval]],
    *,
    staff: bool = False,
) -> dict[str, tuple[Interval, ...]] | None:
    """Per site, the union over its candidate telescopes of the intervals in which every target of the request
    is observable (3.8 steps 1-4, before clipping to now); None when the request has no target the port can
    check (the check is then not made: hour-angle targets, unsupported orbital schemes)."""
    return visible_intervals_by_site_for_each([request], observatory, visibility, [downtimes], staff=staff)[0]


def visible_intervals_by_site_for_each(
    requests: Sequence[Request],
    observatory: Observatory,
    visibility: Visibility,
    downtimes: Sequence[Mapping[str, Sequence[Interval]]],
    *,
    staff: bool = False,
) -> list[dict[str, tuple[Interval, ...]] | None]:
    """``visible_intervals_by_site`` for each of many requests, ``downtimes[i]`` being request i's, in one call
    of the port: the pressure plot asks about every pending request at once, and the adapter's cost is mostly per
    call. Downtimes are subtracted here, after the port, since they differ by request (by instrument type)."""
    rows: list[tuple[int, VisibilityTarget, ObservingConstraints, tuple[Interval, ...]]] = []
    telescopes_of: list[list[TelescopeSite]] = []
    answers_of: list[dict[str, tuple[Interval, ...]] | None] = []
    every_telescope: dict[str, TelescopeSite] = {}
    for index, request in enumerate(requests):
        pairs = _pairs(request)
        telescopes = candidate_telescopes(request, observatory, staff=staff) if pairs else []
        windows = normalise_intervals(Interval(w.start, w.end) for w in request.windows)
        telescopes_of.append(telescopes if windows else [])
        answers_of.append(None if not pairs else {})
        if not telescopes or not windows:
            continue
        rows.extend((index, target, constraints, windows) for target, constraints in pairs)
        for telescope in telescopes:
            every_telescope.setdefault(telescope.key, telescope)
    if not rows:
        return answers_of
    answers = visibility.visible_intervals(
        [target for _, target, _, _ in rows],
        list(every_telescope.values()),
        [windows for _, _, _, windows in rows],
        [constraints for _, _, constraints, _ in rows],
    )
    rows_of: dict[int, list[int]] = {}
    for row, (index, _, _, _) in enumerate(rows):
        rows_of.setdefault(index, []).append(row)
    for index, row_numbers in rows_of.items():
        by_site: dict[str, tuple[Interval, ...]] = {}
        windows = rows[row_numbers[0]][3]
        for telescope in telescopes_of[index]:
            common: tuple[Interval, ...] = windows
            for row in row_numbers:
                common = intersect_intervals(common, answers[row].get(telescope.key, ()))
            common = subtract_intervals(common, downtimes[index].get(telescope.key, ()))
            by_site[telescope.site] = union_intervals(by_site.get(telescope.site, ()), common)
        answers_of[index] = by_site
    return answers_of


def largest_visible(by_site: dict[str, tuple[Interval, ...]] | None, request: Request, now: datetime) -> float:
    """The request's largest interval after now (3.8 step 4) from ``visible_intervals_by_site``'s answer; None
    (no target the port can check) means the check is not made, so the whole window counts."""
    if by_site is None:
        by_site = {"": normalise_intervals(Interval(w.start, w.end) for w in request.windows if w.end > w.start)}
    return largest_after(by_site, now)


def largest_after(by_site: dict[str, tuple[Interval, ...]], now: datetime) -> float:
    """Seconds of the longest single interval over all sites, counting only its part after now (3.8 step 4)."""
    best = 0.0
    for intervals in by_site.values():
        clipped = [Interval(max(i.start, now), i.end) for i in intervals if i.end > now]
        longest = longest_interval(clipped)
        if longest is not None:
            best = max(best, longest.seconds)
    return best


def visibility_messages(request: Request, largest_s: float) -> list[str]:
    """The request-level refusals of 3.8 steps 6 and 7, after the one for orbital schemes the port cannot
    compute (2.9: upstream fails with a server error there)."""
    unsupported = unsupported_schemes(request)
    if unsupported:
        return [UNSUPPORTED_SCHEME.format(scheme=scheme) for scheme in unsupported]
    if largest_s <= 0:
        return [NOT_VISIBLE]
    duration = request.duration or 0
    if largest_s <= duration:
        return [TOO_SHORT.format(largest=largest_s / 3600, duration=duration / 3600)]
    return []


def request_downtimes(uow: UnitOfWork, request: Request) -> dict[str, list[Interval]]:
    """Downtimes overlapping the request's windows, per telescope key, for the whole telescope or this type."""
    start, end = request.earliest_window_start, request.latest_window_end
    if start is None or end is None or not request.configurations:
        return {}
    wanted = request.configurations[0].instrument_type.casefold()
    _, found = uow.downtimes.search(DowntimeQuery(ends_after=start, starts_before=end, limit=100_000))
    by_key: dict[str, list[Interval]] = {}
    for downtime in found:
        if downtime.instrument_type and downtime.instrument_type.casefold() != wanted:
            continue
        key = f"{downtime.site}.{downtime.enclosure}.{downtime.telescope}"
        by_key.setdefault(key, []).append(Interval(downtime.start, downtime.end))
    return by_key


def visibility_hooks(visibility: Visibility) -> HooksFactory:
    """The factory the request-group use cases call inside their unit of work."""

    def factory(uow: UnitOfWork, now: datetime) -> VisibilityHooks:
        observatory = uow.observatory.get()
        cache: dict[object, float] = {}

        def key_of(request: Request) -> object:
            # Keyed by what the answer depends on, not by object identity: validation builds (and drops)
            # several versions of one request, and a freed object's id may be reused by another.
            return (
                request.location,
                tuple(request.windows),
                tuple(c.instrument_type.casefold() for c in request.configurations[:1]),
                tuple(_pairs(request)),
            )

        def compute(requests: Sequence[Request]) -> None:
            missing = list({key_of(r): r for r in requests if key_of(r) not in cache}.items())
            if not missing:
                return
            found = visible_intervals_by_site_for_each(
                [r for _, r in missing], observatory, visibility, [request_downtimes(uow, r) for _, r in missing]
            )
            for (key, request), by_site in zip(missing, found, strict=True):
                cache[key] = largest_visible(by_site, request, now)

        def largest_interval(request: Request) -> float:
            compute([request])
            return cache[key_of(request)]

        def prefetch(requests: Sequence[Request]) -> None:
            # One port call for the whole group (the adapter's cost is mostly per call); a request that is
            # not well formed yet is left for validation to refuse, and asked about later if at all.
            sound = [r for r in requests if r.windows and all(w.end > w.start for w in r.windows)]
            with contextlib.suppress(ValidationError):
                compute(sound)

        return VisibilityHooks(largest_interval, visibility_messages, prefetch)

    return factory
