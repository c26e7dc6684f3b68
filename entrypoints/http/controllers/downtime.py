"""The downtime database over HTTP under /downtime/api/ (observatory.md 3.3), plus its iCalendar feed."""

from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import Any

from litestar import Request, Response, delete, get, patch, post, put
from litestar.params import FromPath, RawBody
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_204_NO_CONTENT

from adapters.serialization import FieldError, FieldSpec, format_datetime, parse_datetime, structure_fields
from application.handlers.downtime import (
    CancelDowntime,
    DowntimeView,
    ReviseDowntime,
    ScheduleDowntime,
    get_downtime,
    overlapping_downtimes,
    search_downtimes,
)
from application.ports import DowntimeQuery
from domain.downtime import MAX_REASON_LENGTH
from domain.errors import ValidationError
from entrypoints.http.auth import actor_name, current_user, staff_only
from entrypoints.http.wire import (
    bus_of,
    in_thread,
    json_body,
    page,
    page_bounds,
    query_value,
    query_values,
    unit_of_work,
)

PREFIX = "/downtime/api"
TAGS = ["downtime"]
WRITE_BODY_LIMIT = 1024 * 1024
DEFAULT_PAGE, MAX_PAGE = 1000, 10_000  # the portal asks for limit=10000 and must get it whole

_FIELDS = {
    "start": FieldSpec(datetime, required=True),
    "end": FieldSpec(datetime, required=True),
    "site": FieldSpec(str, required=True, max_length=3),
    "enclosure": FieldSpec(str, required=True, max_length=4),
    "telescope": FieldSpec(str, required=True, max_length=4),
    "instrument_type": FieldSpec(str),
    "reason": FieldSpec(str, max_length=MAX_REASON_LENGTH),
}
_DATE_FILTERS = (
    "starts_after",
    "starts_before",
    "ends_after",
    "ends_before",
    "created_after",
    "created_before",
    "modified_after",
    "modified_before",
)
_ORDER_KEYS = ("start", "end", "created", "modified")


def _wire_datetime(value: datetime) -> str:
    # The scheduler parses exactly YYYY-MM-DDTHH:MM:SSZ, so fractions of a second are never served here.
    return format_datetime(value.replace(microsecond=0))


def downtime_json(view: DowntimeView) -> dict[str, Any]:
    """The wire shape, in upstream's key order with the BEYOND timestamps last."""
    return {
        "id": view.id,
        "start": _wire_datetime(view.start),
        "end": _wire_datetime(view.end),
        "site": view.site,
        "enclosure": view.enclosure,
        "telescope": view.telescope,
        "instrument_type": view.instrument_type,
        "reason": view.reason,
        "created": _wire_datetime(view.created),
        "modified": _wire_datetime(view.modified),
    }


def _order(request: Request[Any, Any, Any]) -> tuple[str, ...]:
    name = "order" if query_value(request, "order") is not None else "ordering"
    raw = query_value(request, name)
    if raw is None:
        return DowntimeQuery().order
    keys = tuple(key.strip() for key in raw.split(",") if key.strip())
    for key in keys:
        if key.removeprefix("-") not in _ORDER_KEYS:
            raise ValidationError.on(name, f"Select a valid choice. {key} is not one of the available choices.")
    return keys or DowntimeQuery().order


def _date_filter(request: Request[Any, Any, Any], name: str) -> datetime | None:
    raw = query_value(request, name)
    if raw is None:
        return None
    try:
        return parse_datetime(raw)
    except (FieldError, ValueError):
        # ValueError too: a well-shaped but impossible date ("2026-13-01") fails inside the date constructor.
        raise ValidationError.on(name, "Enter a valid date/time.") from None


def _query(request: Request[Any, Any, Any], default_limit: int, max_limit: int) -> DowntimeQuery:
    limit, offset = page_bounds(request, default_limit, max_limit)
    bounds = {name: _date_filter(request, name) for name in _DATE_FILTERS}
    return DowntimeQuery(
        **bounds,
        sites=tuple(query_values(request, "site")),
        enclosures=tuple(query_values(request, "enclosure")),
        telescopes=tuple(query_values(request, "telescope")),
        instrument_types=tuple(query_values(request, "instrument_type")),
        reason_contains=query_value(request, "reason"),
        reason_exact=query_value(request, "reason_exact"),
        order=_order(request),
        limit=limit,
        offset=offset,
    )


def _list(request: Request[Any, Any, Any]) -> dict[str, Any]:
    current_user(request)  # reads are open, but a token that identifies nobody is still refused
    query = _query(request, DEFAULT_PAGE, MAX_PAGE)
    count, found = search_downtimes(unit_of_work(request), query)
    return page(request, count, [downtime_json(v) for v in found], query.limit, query.offset)


def _read(request: Request[Any, Any, Any], downtime_id: int) -> dict[str, Any]:
    current_user(request)
    return downtime_json(get_downtime(unit_of_work(request), downtime_id))


def _overlap_warning(other: DowntimeView) -> str:
    what = other.instrument_type or "the whole telescope"
    return (
        f"Overlaps downtime {other.id} on {other.site}.{other.enclosure}.{other.telescope} ({what}) "
        f"from {_wire_datetime(other.start)} to {_wire_datetime(other.end)}"
    )


def _create(request: Request[Any, Any, Any], body: bytes) -> dict[str, Any]:
    fields = structure_fields(json_body(request, body), _FIELDS)
    view = bus_of(request).handle(ScheduleDowntime(**fields, actor=actor_name(request)))
    warnings = [_overlap_warning(other) for other in overlapping_downtimes(unit_of_work(request), view.id)]
    return {**downtime_json(view), "warnings": warnings}


def _revise(request: Request[Any, Any, Any], downtime_id: int, body: bytes, *, full: bool) -> dict[str, Any]:
    # Not found comes before a bad body, as upstream answers for an unknown id whatever is sent.
    get_downtime(unit_of_work(request), downtime_id)
    fields = structure_fields(json_body(request, body), _FIELDS, partial=not full)
    view = bus_of(request).handle(ReviseDowntime(downtime_id, **fields, actor=actor_name(request)))
    return downtime_json(view)


def _delete(request: Request[Any, Any, Any], downtime_id: int) -> None:
    bus_of(request).handle(CancelDowntime(downtime_id, actor=actor_name(request)))


@get(PREFIX + "/", tags=TAGS)
async def list_downtimes(request: Request[Any, Any, Any]) -> dict[str, Any]:
    """Downtimes matching every filter given; overlap with [a, b] is ``ends_after=a&starts_before=b``."""
    return await in_thread(_list, request)  # type: ignore[no-any-return]


@get(PREFIX + "/{downtime_id:int}/", tags=TAGS)
async def read_downtime(request: Request[Any, Any, Any], downtime_id: FromPath[int]) -> dict[str, Any]:
    """One downtime."""
    return await in_thread(_read, request, downtime_id)  # type: ignore[no-any-return]


_WRITE: dict[str, Any] = {"guards": [staff_only], "request_max_body_size": WRITE_BODY_LIMIT, "tags": TAGS}


@post(PREFIX + "/", status_code=HTTP_201_CREATED, **_WRITE)
async def create_downtime(request: Request[Any, Any, Any], body: RawBody) -> dict[str, Any]:
    """Schedule a downtime (staff). ``warnings`` names overlapping downtimes on the same telescope; they are
    allowed and never block."""
    return await in_thread(_create, request, body)  # type: ignore[no-any-return]


@put(PREFIX + "/{downtime_id:int}/", status_code=HTTP_200_OK, **_WRITE)
async def replace_downtime(
    request: Request[Any, Any, Any], downtime_id: FromPath[int], body: RawBody
) -> dict[str, Any]:
    """Replace a downtime's fields (staff); start, end, site, enclosure and telescope are required."""
    return await in_thread(partial(_revise, full=True), request, downtime_id, body)  # type: ignore[no-any-return]


@patch(PREFIX + "/{downtime_id:int}/", status_code=HTTP_200_OK, **_WRITE)
async def update_downtime(request: Request[Any, Any, Any], downtime_id: FromPath[int], body: RawBody) -> dict[str, Any]:
    """Change some of a downtime's fields (staff); the merged result obeys the same rules as a new one."""
    return await in_thread(partial(_revise, full=False), request, downtime_id, body)  # type: ignore[no-any-return]


@delete(PREFIX + "/{downtime_id:int}/", status_code=HTTP_204_NO_CONTENT, guards=[staff_only], tags=TAGS)
async def delete_downtime(request: Request[Any, Any, Any], downtime_id: FromPath[int]) -> None:
    """Delete a downtime (staff)."""
    await in_thread(_delete, request, downtime_id)


def _ics_text(value: str) -> str:
    return (
        value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\r\n", "\\n").replace("\n", "\\n")
    )


def _ics_fold(line: str) -> list[str]:
    # RFC 5545 lines are at most 75 octets; a continuation line starts with one space, which counts.
    parts, current = [], ""
    for char in line:
        if len((current + char).encode()) > 75:
            parts.append(current)
            current = " "
        current += char
    return [*parts, current]


def _ics_time(value: datetime) -> str:
    return _wire_datetime(value).replace("-", "").replace(":", "")


def _calendar(request: Request[Any, Any, Any]) -> Response[str]:
    current_user(request)
    query = _query(request, MAX_PAGE, MAX_PAGE)
    _, found = search_downtimes(unit_of_work(request), query)
    host = request.url.hostname or "obsnet"
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//obsnet//downtime//EN", "CALSCALE:GREGORIAN"]
    for view in found:
        where = f"{view.site}.{view.enclosure}.{view.telescope}"
        what = f" {view.instrument_type}" if view.instrument_type else ""
        lines += [
            "BEGIN:VEVENT",
            f"UID:downtime-{view.id}@{host}",
            f"DTSTAMP:{_ics_time(view.modified)}",
            f"DTSTART:{_ics_time(view.start)}",
            f"DTEND:{_ics_time(view.end)}",
            f"SUMMARY:{_ics_text(f'Downtime {where}{what}')}",
            f"DESCRIPTION:{_ics_text(view.reason)}",
            f"LOCATION:{_ics_text(where)}",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    text = "".join(folded + "\r\n" for line in lines for folded in _ics_fold(line))
    return Response(text, media_type="text/calendar; charset=utf-8")


@get("/downtime/calendar.ics", tags=TAGS)
async def downtime_calendar(request: Request[Any, Any, Any]) -> Response[str]:
    """Every downtime matching the list filters as an iCalendar feed, one event per downtime."""
    return await in_thread(_calendar, request)  # type: ignore[no-any-return]


ROUTES = [
    list_downtimes,
    read_downtime,
    create_downtime,
    replace_downtime,
    update_downtime,
    delete_downtime,
    downtime_calendar,
]
