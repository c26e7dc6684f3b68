"""The portal's instrument catalogue over HTTP: ``GET /api/instruments/`` (api.md 4.4, shape 5.6)."""

from __future__ import annotations

from typing import Any

from litestar import Request, get

from application.instrument_catalogue import instrument_catalogue
from application.observatory_views import observatory_snapshot
from entrypoints.http.auth import current_actor
from entrypoints.http.wire import in_thread, query_values, typed_query_value, unit_of_work

TAGS = ["instruments"]


def _catalogue(request: Request[Any, Any, Any]) -> dict[str, Any]:
    actor = current_actor(request)  # anonymous is fine; an invalid token is still refused
    # Non-staff always get the schedulable view, so the flag is only read (and checked) for staff.
    only_schedulable = bool(actor.is_staff and typed_query_value(request, "only_schedulable", bool))
    observatory = observatory_snapshot(unit_of_work(request))
    return instrument_catalogue(
        observatory,
        staff=actor.is_staff,
        only_schedulable=only_schedulable,
        instrument_type=query_values(request, "instrument_type"),
        site=query_values(request, "site"),
        enclosure=query_values(request, "enclosure"),
        telescope_class=query_values(request, "telescope_class"),
        telescope=query_values(request, "telescope"),
    )


@get("/api/instruments/", tags=TAGS)
async def list_instruments(request: Request[Any, Any, Any]) -> dict[str, Any]:
    """Requestable instrument types keyed by code, with their optical elements, modes, configuration types and
    camera geometry; filters ``instrument_type``, ``site``, ``enclosure``, ``telescope_class``, ``telescope``
    (repeat for OR). Staff also see non-schedulable instruments, elements and modes unless
    ``only_schedulable=true``."""
    return await in_thread(_catalogue, request)  # type: ignore[no-any-return]


ROUTES = [list_instruments]
