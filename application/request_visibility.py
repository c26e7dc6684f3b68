"""The visibility check of requests.md 3.8 as validation uses it: which telescopes may take a request, the
intervals its targets are observable in there (through the Visibility port), minus downtimes, and the
messages when that is not enough.

``visibility_hooks(visibility)`` is what the composition root hands the request-group use cases: a factory
that, inside a unit of work, gives validation its two callbacks.
"""

from __future__ import annotations

from datetime import datetime

from application.handlers.requestgroups import HooksFactory, VisibilityHooks
from application.ports import DowntimeQuery, UnitOfWork, Visibility
from domain.instrument_catalogue import Catalogue
from domain.observatory import Observatory
from domain.requestgroups import Request, TargetType
from domain.visibility import (
    Interval,
    ObservingConstraints,
    SiderealTarget,
    TelescopeSite,
    intersect_intervals,
    longest_interval,
    normalise_intervals,
    union_intervals,
)

NOT_VISIBLE = (
    "According to the constraints of the request, the target will not be visible within the time window. Check "
    "that the target is in the nighttime sky. Consider modifying the time window or loosening the airmass or lunar "
    "separation constraints. If the target is non sidereal, double check that the provided elements are correct."
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


def _pairs(request: Request) -> list[tuple[SiderealTarget, ObservingConstraints]]:
    """The distinct sidereal (target, constraints) pairs of the request; all must be observable at once."""
    pairs: list[tuple[SiderealTarget, ObservingConstraints]] = []
    for configuration in request.configurations:
        target, constraints = configuration.target, configuration.constraints
        if target.type is not TargetType.ICRS or target.ra is None or target.dec is None:
            continue
        pair = (
            SiderealTarget(
                target.ra,
                target.dec,
                target.proper_motion_ra,
                target.proper_motion_dec,
                target.parallax,
                target.epoch,
            ),
            ObservingConstraints(constraints.max_airmass, constraints.min_lunar_distance, constraints.max_lunar_phase),
        )
        if pair not in pairs:
            pairs.append(pair)
    return pairs


def visible_intervals_by_site(
    request: Request,
    observatory: Observatory,
    visibility: Visibility,
    downtimes: dict[str, list[Interval]],
    *,
    staff: bool = False,
) -> dict[str, tuple[Interval, ...]] | None:
    """Per site, the union over its candidate telescopes of the intervals in which every target of the request
    is observable (3.8 steps 1-4, before clipping to now); None when the request has no sidereal target (the
    check is then not made: orbital elements and satellites are not supported by the port yet)."""
    pairs = _pairs(request)
    if not pairs:
        return None
    telescopes = candidate_telescopes(request, observatory, staff=staff)
    windows = normalise_intervals(Interval(w.start, w.end) for w in request.windows)
    if not telescopes or not windows:
        return {}
    answers = visibility.visible_intervals(
        [target for target, _ in pairs],
        telescopes,
        [windows] * len(pairs),
        [constraints for _, constraints in pairs],
        downtimes,
    )
    by_site: dict[str, tuple[Interval, ...]] = {}
    for telescope in telescopes:
        common: tuple[Interval, ...] = windows
        for answer in answers:
            common = intersect_intervals(common, answer.get(telescope.key, ()))
        by_site[telescope.site] = union_intervals(by_site.get(telescope.site, ()), common)
    return by_site


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
    """The request-level refusals of 3.8 steps 6 and 7."""
    if largest_s <= 0:
        return [NOT_VISIBLE]
    duration = request.duration or 0
    if largest_s <= duration:
        return [TOO_SHORT.format(largest=largest_s / 3600, duration=duration / 3600)]
    return []


def _downtimes(uow: UnitOfWork, request: Request) -> dict[str, list[Interval]]:
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

        def largest_interval(request: Request) -> float:
            # Keyed by what the answer depends on, not by object identity: validation builds (and drops)
            # several versions of one request, and a freed object's id may be reused by another.
            key = (
                request.location,
                tuple(request.windows),
                tuple(c.instrument_type.casefold() for c in request.configurations[:1]),
                tuple(_pairs(request)),
            )
            if key not in cache:
                by_site = visible_intervals_by_site(request, observatory, visibility, _downtimes(uow, request))
                # No sidereal target: the check is not made, so the whole window counts.
                if by_site is None:
                    windows = [Interval(w.start, w.end) for w in request.windows if w.end > w.start]
                    by_site = {"": normalise_intervals(windows)}
                cache[key] = largest_after(by_site, now)
            return cache[key]

        return VisibilityHooks(largest_interval, visibility_messages)

    return factory
