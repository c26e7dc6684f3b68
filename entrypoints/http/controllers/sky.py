"""The portal's sky plots over HTTP (requests.md 7.4, api.md 4.2 and 4.4): a request's airmass, stored or posted,
and the contention and pressure of pending requests over the next 24 hours.

Thin on purpose: the use cases (application.airmass, application.contention) read the requests and ask the
Visibility adapter the container provides; here are only the shapes, with airmass times written
``YYYY-MM-DDTHH:MM`` (no seconds, no zone) as the portal's plots expect, and every other time in the wire format.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.params import FromPath, RawBody
from litestar.status_codes import HTTP_200_OK

from adapters.request_wire import MAX_INTEGER, parse_request
from adapters.serialization import format_datetime
from application.airmass import AirmassPlot, stored_request_airmass, submitted_request_airmass
from application.contention import contention, pressure
from application.ports import Visibility
from domain.errors import NotFoundError, ValidationError
from entrypoints.http.auth import current_actor
from entrypoints.http.errors import PORTAL_BODY_LIMIT
from entrypoints.http.wire import container_of, in_thread, json_body, now_of, query_value, unit_of_work

AIRMASS_TIME_FORMAT = "%Y-%m-%dT%H:%M"


def _visibility(request: Request[Any, Any, Any]) -> Visibility:
    return container_of(request).visibility()  # type: ignore[no-any-return]


def _airmass_json(plot: AirmassPlot) -> dict[str, Any]:
    return {
        "airmass_data": {
            site: {
                "times": [moment.strftime(AIRMASS_TIME_FORMAT) for moment in samples.times],
                "airmasses": list(samples.airmasses),
            }
            for site, samples in plot.sites.items()
        },
        "airmass_limit": plot.airmass_limit,
    }


def _stored_airmass(request: Request[Any, Any, Any], request_id: int) -> dict[str, Any]:
    if not 0 < request_id <= MAX_INTEGER:  # no stored request has such an id
        raise NotFoundError(f"request {request_id}")
    plot = stored_request_airmass(unit_of_work(request), current_actor(request), _visibility(request), request_id)
    return _airmass_json(plot)


def _posted_airmass(request: Request[Any, Any, Any], body: bytes) -> dict[str, Any]:
    actor, now = current_actor(request), now_of(request)
    try:
        bare = parse_request(json_body(request, body), now=now)
        plot = submitted_request_airmass(unit_of_work(request), actor, _visibility(request), bare, now)
    except ValidationError as error:
        return dict(error.errors)  # upstream answers the serializer's errors with 200 (requests.md 9)
    return _airmass_json(plot)


def _contention(request: Request[Any, Any, Any], instrument_type: str) -> dict[str, Any]:
    found = contention(unit_of_work(request), current_actor(request), instrument_type, now_of(request))
    return {
        "ra_hours": list(range(len(found.bins))),
        "instrument_type": found.instrument_type,
        "time_calculated": format_datetime(found.time_calculated),
        "contention_data": list(found.bins),
    }


def _pressure(request: Request[Any, Any, Any]) -> dict[str, Any]:
    found = pressure(
        unit_of_work(request),
        current_actor(request),
        _visibility(request),
        now_of(request),
        instrument_type=query_value(request, "instrument"),
        site=query_value(request, "site"),
    )
    return {
        "site_nights": [{"name": n.site, "start": n.start_h, "stop": n.stop_h} for n in found.site_nights],
        "time_bins": [format_datetime(moment) for moment in found.time_bins],
        "instrument_type": found.instrument_type or "all",
        "site": found.site or "all",
        "time_calculated": format_datetime(found.time_calculated),
        "pressure_data": list(found.bins),
    }


@get("/api/requests/{request_id:int}/airmass/", tags=["requests"])
async def request_airmass(request: Request[Any, Any, Any], request_id: FromPath[int]) -> dict[str, Any]:
    """Airmass of a request the caller may see, every ten minutes of its visible intervals at each site that can
    take it (its first configuration's target and instrument type), and ``airmass_limit``."""
    return await in_thread(_stored_airmass, request, request_id)  # type: ignore[no-any-return]


@post("/api/airmass/", status_code=HTTP_200_OK, request_max_body_size=PORTAL_BODY_LIMIT, tags=["requests"])
async def posted_airmass(request: Request[Any, Any, Any], body: RawBody) -> dict[str, Any]:
    """The airmass plot of a bare request (configurations, windows, location), checked as a submitted request
    is; an invalid one is answered 200 with its field errors."""
    return await in_thread(_posted_airmass, request, body)  # type: ignore[no-any-return]


@get("/api/contention/{instrument_type:str}/", tags=["requests"])
async def instrument_contention(request: Request[Any, Any, Any], instrument_type: FromPath[str]) -> dict[str, Any]:
    """Seconds of PENDING ICRS configurations of the instrument type with a window in the next 24 hours, per hour
    of right ascension; per proposal for staff, as ``All Proposals`` for everyone else."""
    return await in_thread(_contention, request, instrument_type)  # type: ignore[no-any-return]


@get("/api/pressure/", tags=["requests"])
async def request_pressure(request: Request[Any, Any, Any]) -> dict[str, Any]:
    """The pressure of PENDING requests on the next 24 hours in quarter-hour bins, with the nights of each site;
    ``instrument`` (a type code) and ``site`` narrow it; per proposal for staff, as ``All Proposals`` otherwise."""
    return await in_thread(_pressure, request)  # type: ignore[no-any-return]


ROUTES = [request_airmass, posted_airmass, instrument_contention, request_pressure]
