"""The airmass plot of a request (requests.md 7.4): for its first configuration's target, at each site that can
take it, the airmass every ten minutes inside the request's visible intervals, and the limit to draw across.

Sites and intervals are the visibility check's own (application.request_visibility: the candidate telescopes of
the first configuration's instrument type, every target observable at once, downtimes cut out); the astronomy is
the Visibility port's. Both endpoints share ``airmass_plot``: ``GET /api/requests/{id}/airmass/`` for a stored
request, ``POST /api/airmass/`` for a bare one, validated first as a request of a submission is.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

from attrs import frozen

from application.ports import UnitOfWork, Visibility
from application.request_views import get_request
from application.request_visibility import (
    candidate_telescopes,
    largest_visible,
    request_downtimes,
    sidereal_target,
    visibility_messages,
    visible_intervals_by_site_for_each,
)
from domain.observatory import Observatory
from domain.permissions import Actor
from domain.request_validation import validate_request
from domain.requestgroups import Constraints, Request, Target
from domain.visibility import Interval, TelescopeSite, normalise_intervals

AIRMASS_STEP_S = 600  # ten minutes (7.4)


@frozen
class SiteAirmass:
    """The samples at one site, in time order."""

    times: tuple[datetime, ...]
    airmasses: tuple[float, ...]


@frozen
class AirmassPlot:
    """``airmass_data`` by site code (only sites with samples) and ``airmass_limit``."""

    sites: Mapping[str, SiteAirmass]
    airmass_limit: float


def airmass_limit(request: Request) -> float:
    """The max_airmass of the request's distinct (target, constraints) pairs, averaged (7.4: with one pair, its
    own limit)."""
    distinct: list[tuple[Target, Constraints]] = []
    for configuration in request.configurations:
        pair = (configuration.target, configuration.constraints)
        if pair not in distinct:
            distinct.append(pair)
    if not distinct:
        return Constraints().max_airmass
    return sum(constraints.max_airmass for _, constraints in distinct) / len(distinct)


def airmass_plot(
    request: Request,
    observatory: Observatory,
    visibility: Visibility,
    by_site: Mapping[str, Sequence[Interval]] | None,
    *,
    staff: bool = False,
) -> AirmassPlot:
    """The plot from the request's visible intervals per site (``visible_intervals_by_site``). Samples lie on
    whole ten minutes of UTC inside the intervals, one port call per site; only an ICRS first target has any
    (the port knows no other kind), and the airmass is computed at the site's first candidate telescope."""
    limit = airmass_limit(request)
    target = sidereal_target(request.configurations[0].target) if request.configurations else None
    if target is None or not by_site:
        return AirmassPlot({}, limit)
    first_at: dict[str, TelescopeSite] = {}
    for candidate in candidate_telescopes(request, observatory, staff=staff):
        first_at.setdefault(candidate.site, candidate)
    sites: dict[str, SiteAirmass] = {}
    for site, found in by_site.items():
        intervals = normalise_intervals(found)
        telescope = first_at.get(site)
        if not intervals or telescope is None:
            continue
        start = _grid_floor(intervals[0].start)
        series = visibility.airmass(target, [telescope], start, intervals[-1].end, AIRMASS_STEP_S)[telescope.key]
        samples = _inside(series.times, series.airmasses, intervals)
        if samples:
            times, airmasses = zip(*samples, strict=True)
            sites[site] = SiteAirmass(tuple(times), tuple(airmasses))
    return AirmassPlot(sites, limit)


def _grid_floor(moment: datetime) -> datetime:
    """The whole ten minutes of UTC at or before ``moment``."""
    seconds = math.floor(moment.timestamp() / AIRMASS_STEP_S) * AIRMASS_STEP_S
    return datetime.fromtimestamp(seconds, UTC)


def _inside(
    times: Sequence[datetime], airmasses: Sequence[float], intervals: Sequence[Interval]
) -> list[tuple[datetime, float]]:
    """The samples inside the (normal) intervals; both run in time order, so one pass over each."""
    kept: list[tuple[datetime, float]] = []
    index = 0
    for moment, value in zip(times, airmasses, strict=True):
        while index < len(intervals) and intervals[index].end <= moment:
            index += 1
        if index == len(intervals):
            break
        if intervals[index].contains(moment) and math.isfinite(value):
            kept.append((moment, value))
    return kept


def stored_request_airmass(uow: UnitOfWork, actor: Actor, visibility: Visibility, request_id: int) -> AirmassPlot:
    """``GET /api/requests/{id}/airmass/``: not found unless the caller may see the request."""
    _, request = get_request(uow, actor, request_id)
    with uow:
        observatory = uow.observatory.get()
        downtimes = request_downtimes(uow, request)
    (by_site,) = visible_intervals_by_site_for_each(
        [request], observatory, visibility, [downtimes], staff=actor.is_staff
    )
    return airmass_plot(request, observatory, visibility, by_site, staff=actor.is_staff)


def submitted_request_airmass(
    uow: UnitOfWork, actor: Actor, visibility: Visibility, request: Request, now: datetime
) -> AirmassPlot:
    """``POST /api/airmass/``: the bare request is first checked as a request of a submitted group is (configdb,
    location, windows and semesters, instrument availability, the visibility check of 3.8), raising
    ValidationError with its error tree; the visible intervals that check computed are the plot's."""
    with uow:
        observatory = uow.observatory.get()
        semesters = uow.semesters.all()
    computed: list[dict[str, tuple[Interval, ...]] | None] = []

    def largest_interval(checked: Request) -> float:
        with uow:
            downtimes = request_downtimes(uow, checked)
        (by_site,) = visible_intervals_by_site_for_each(
            [checked], observatory, visibility, [downtimes], staff=actor.is_staff
        )
        computed.append(by_site)
        return largest_visible(by_site, checked, now)

    validated = validate_request(
        request,
        observatory=observatory,
        semesters=semesters,
        actor=actor,
        now=now,
        largest_interval=largest_interval,
        visibility_errors=visibility_messages,
    )
    return airmass_plot(validated, observatory, visibility, computed[-1] if computed else None, staff=actor.is_staff)
