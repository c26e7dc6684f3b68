"""The portal's two plots of demand over the next 24 hours (api.md 4.4): contention (configuration time of pending
requests per hour of right ascension, for one instrument type) and pressure (the share of pending requests'
time that falls on each quarter hour, given where and when they are visible).

Both read every pending request whatever the caller may see, and hide whose they are from all but staff: each
bin then holds one total under ``All Proposals``. The astronomy of pressure is the Visibility port's, through
the visibility check's own intervals (application.request_visibility).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from attrs import frozen

from application.ports import RequestQuery, UnitOfWork, Visibility
from application.request_visibility import request_downtimes, visible_intervals_by_site_for_each
from domain.duration import configuration_duration, overheads_from
from domain.instrument_catalogue import Catalogue
from domain.observatory import Observatory
from domain.permissions import Actor
from domain.requestgroups import Configuration, Request, RequestGroup, RequestState, TargetType
from domain.visibility import Interval, ObservingConstraints, SiderealTarget, TelescopeSite, union_intervals

ALL_PROPOSALS = "All Proposals"
HORIZON = timedelta(hours=24)
RA_HOURS = 24
PRESSURE_BIN = timedelta(minutes=15)
PRESSURE_BINS = 96
_PAGE = 1000
# The port has no question about the sky alone, so the night at a site is asked as when some star is observable
# under no rule but darkness: six stars on the celestial equator, 60 degrees apart, keep one at least 2.3 degrees
# up (airmass 25) at any latitude below 75 degrees, within hour angles of +-12 h, whatever the moon does.
_NIGHT_STARS = tuple(SiderealTarget(ra_deg=float(ra), dec_deg=0.0) for ra in range(0, 360, 60))
_DARKNESS_ONLY = ObservingConstraints(max_airmass=25.0, min_lunar_distance_deg=0.0, max_lunar_phase=1.0)

Bins = tuple[dict[str, float], ...]


@frozen
class Contention:
    """``GET /api/contention/{instrument_type}/``: seconds per proposal in each hour of right ascension."""

    instrument_type: str
    time_calculated: datetime
    bins: Bins  # RA_HOURS of them, hour 0 first


@frozen
class SiteNight:
    """A dark interval at a site, in hours from ``time_calculated`` (0 to 24)."""

    site: str
    start_h: float
    stop_h: float


@frozen
class Pressure:
    """``GET /api/pressure/``: pressure per proposal in each quarter hour from now."""

    site_nights: tuple[SiteNight, ...]
    time_bins: tuple[datetime, ...]
    instrument_type: str | None
    site: str | None
    time_calculated: datetime
    bins: Bins  # one per time bin


def _anonymised(bins: Sequence[dict[str, float]], actor: Actor) -> Bins:
    """Staff see each proposal; everyone else one total per bin (0 when empty)."""
    if actor.is_staff:
        return tuple(bins)
    return tuple({ALL_PROPOSALS: sum(found.values())} for found in bins)


def _pending_requests(uow: UnitOfWork) -> list[tuple[RequestGroup, Request]]:
    """Every PENDING request with its group, oldest first, whoever may see it (the plots hide whose it is)."""
    found: list[tuple[RequestGroup, Request]] = []
    while True:
        query = RequestQuery(states=(RequestState.PENDING,), order=("id",), limit=_PAGE, offset=len(found))
        count, page = uow.request_groups.search_requests(query)
        found.extend(page)
        if not page or len(found) >= count:
            return found


def _is_icrs(configuration: Configuration) -> bool:
    target = configuration.target
    return target.type is TargetType.ICRS and target.ra is not None and target.dec is not None


# ---------------------------------------------------------------------------------------------------------
# Contention


def contention(uow: UnitOfWork, actor: Actor, instrument_type: str, now: datetime) -> Contention:
    """PENDING requests with a window overlapping the next 24 hours: the time of each of their ICRS configurations
    of ``instrument_type`` (any case), summed per proposal in the hour of its target's right ascension."""
    with uow:
        observatory = uow.observatory.get()
        pending = _pending_requests(uow)
    wanted = instrument_type.casefold()
    overheads = overheads_from(observatory)
    bins: list[dict[str, float]] = [{} for _ in range(RA_HOURS)]
    for group, request in pending:
        if not any(w.start < now + HORIZON and w.end > now for w in request.windows):
            continue
        for configuration in request.configurations:
            if configuration.instrument_type.casefold() != wanted or not _is_icrs(configuration):
                continue
            if observatory.find_instrument_type(configuration.instrument_type) is None:
                continue  # a type removed from configdb since: its overheads are gone with it
            seconds = configuration_duration(configuration, overheads(configuration.instrument_type))
            hour = math.floor(float(configuration.target.ra or 0.0) / 15) % RA_HOURS
            bins[hour][group.proposal] = bins[hour].get(group.proposal, 0.0) + seconds
    return Contention(instrument_type, now, _anonymised(bins, actor))


# ---------------------------------------------------------------------------------------------------------
# Pressure


def pressure(
    uow: UnitOfWork,
    actor: Actor,
    visibility: Visibility,
    now: datetime,
    *,
    instrument_type: str | None = None,
    site: str | None = None,
) -> Pressure:
    """PENDING requests with an ICRS configuration (and one of ``instrument_type``, if given) and a window
    overlapping the next 24 hours. Each request's duration is spread evenly over the time it is visible (at
    ``site``, or anywhere) in the intervals after now long enough to hold it, and in each quarter hour divided
    among the schedulable telescopes of its first configuration's type at the sites where it is then visible."""
    with uow:
        observatory = uow.observatory.get()
        pending = [
            (group, request)
            for group, request in _pending_requests(uow)
            if _counts_for_pressure(request, now, instrument_type)
        ]
        downtimes = [request_downtimes(uow, request) for _, request in pending]
    sites = _sites(observatory, site)
    time_bins = tuple(now + PRESSURE_BIN * index for index in range(PRESSURE_BINS))
    by_request = visible_intervals_by_site_for_each([r for _, r in pending], observatory, visibility, downtimes)
    telescopes = _schedulable_telescopes(observatory)
    bins: list[dict[str, float]] = [{} for _ in time_bins]
    for (group, request), by_site in zip(pending, by_request, strict=True):
        usable = _usable_intervals(by_site or {}, sites, now, request.duration or 0)
        visible_s = sum(interval.seconds for intervals in usable.values() for interval in intervals)
        if visible_s < 1:
            continue
        base = (request.duration or 0) / visible_s
        itype = request.configurations[0].instrument_type.casefold()
        for index, moment in enumerate(time_bins):
            count = sum(
                telescopes.get((code, itype), 0)
                for code, intervals in usable.items()
                if any(interval.contains(moment) for interval in intervals)
            )
            if count:
                bins[index][group.proposal] = bins[index].get(group.proposal, 0.0) + base / count
    return Pressure(
        _site_nights(observatory, visibility, sites, now),
        time_bins,
        instrument_type,
        site,
        now,
        _anonymised(bins, actor),
    )


def _counts_for_pressure(request: Request, now: datetime, instrument_type: str | None) -> bool:
    if not any(w.start <= now + HORIZON and w.end >= now for w in request.windows):
        return False
    if not any(_is_icrs(c) for c in request.configurations):
        return False
    wanted = instrument_type.casefold() if instrument_type else None
    return wanted is None or any(c.instrument_type.casefold() == wanted for c in request.configurations)


def _sites(observatory: Observatory, site: str | None) -> list[str]:
    """The codes of the sites asked about: the one given (none if configdb has no such site), else every active
    site."""
    codes = [s.code for s in observatory.sorted_sites() if s.active or site is not None]
    return [code for code in codes if code == site] if site is not None else codes


def _usable_intervals(
    by_site: Mapping[str, Sequence[Interval]], sites: Sequence[str], now: datetime, duration_s: float
) -> dict[str, list[Interval]]:
    """Per site asked about, the visible intervals cut to start no earlier than now, keeping those that can still
    hold the request."""
    usable: dict[str, list[Interval]] = {}
    for code in sites:
        for interval in by_site.get(code, ()):
            if interval.end <= now:
                continue
            cut = Interval(max(interval.start, now), interval.end)
            if cut.seconds >= duration_s:
                usable.setdefault(code, []).append(cut)
    return usable


def _schedulable_telescopes(observatory: Observatory) -> dict[tuple[str, str], int]:
    """How many telescopes at each site have a schedulable instrument of each type (code in lower case)."""
    found: dict[tuple[str, str], set[int]] = {}
    for placed in Catalogue(observatory).offered_instruments(False):
        itype = observatory.instrument_types.get(placed.instrument.instrument_type_id)
        if itype is not None:
            found.setdefault((placed.site.code, itype.code.casefold()), set()).add(placed.telescope.id)
    return {key: len(ids) for key, ids in found.items()}


def _site_nights(
    observatory: Observatory, visibility: Visibility, sites: Sequence[str], now: datetime
) -> tuple[SiteNight, ...]:
    """The dark intervals of the next 24 hours at each site, in hours from now."""
    by_code = {s.code: s for s in observatory.sites.values()}
    probes = [
        TelescopeSite(
            site=code,
            enclosure="",
            telescope="",
            lat_deg=by_code[code].lat,
            long_deg=by_code[code].long,
            elevation_m=float(by_code[code].elevation),
            horizon_deg=0.0,
            ha_limit_neg_h=-12.0,
            ha_limit_pos_h=12.0,
        )
        for code in sites
    ]
    if not probes:
        return ()
    window = (Interval(now, now + HORIZON),)
    answers = visibility.visible_intervals(
        list(_NIGHT_STARS), probes, [window] * len(_NIGHT_STARS), [_DARKNESS_ONLY] * len(_NIGHT_STARS)
    )
    nights: list[SiteNight] = []
    for probe in probes:
        dark: tuple[Interval, ...] = ()
        for answer in answers:
            dark = union_intervals(dark, answer.get(probe.key, ()))
        for interval in dark:
            start_h = (max(interval.start, now) - now).total_seconds() / 3600
            stop_h = min((interval.end - now).total_seconds() / 3600, 24.0)
            nights.append(SiteNight(probe.site, start_h, stop_h))
    return tuple(nights)
