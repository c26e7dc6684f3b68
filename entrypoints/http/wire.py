"""Helpers every controller uses: reading JSON bodies, list pagination, and query-parameter parsing."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from datetime import datetime
from enum import Enum
from functools import partial
from typing import Any
from urllib.parse import urlencode

import anyio
from litestar import Request

from adapters.request_wire import MAX_INTEGER
from adapters.serialization import format_datetime, parse_datetime, structure_value
from application.messagebus import MessageBus
from application.ports import UnitOfWork
from domain.errors import NotFoundError, ValidationError
from entrypoints.http.errors import BadRequestError


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not valid JSON")


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _reject_lone_surrogates(document: Any) -> None:
    """A surrogate without its pair (a ``\\ud800`` escape, or raw bytes, which json.loads decodes with
    surrogatepass) makes a string no UTF-8 can hold: echoed in an error or stored, it would fail the response's
    encoding (a 500), so it is a parse error like any text that is not Unicode. Iterative, because the document
    may nest as deep as the parser allowed."""
    pending = [document]
    while pending:
        value = pending.pop()
        if isinstance(value, str):
            if _LONE_SURROGATE.search(value):
                raise ValueError("lone surrogate in a string: the text is not valid Unicode")
        elif isinstance(value, dict):
            pending.extend(value)
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)


def json_body(request: Request[Any, Any, Any], body: bytes) -> Any:
    """The parsed JSON body; 415 for another media type, 400 ``JSON parse error - ...`` when unparsable."""
    media_type = request.headers.get("content-type", "application/json").split(";")[0].strip().lower()
    if media_type not in ("application/json", ""):
        raise BadRequestError(f'Unsupported media type "{media_type}" in request.', 415)
    try:
        document = json.loads(body or b"{}", parse_constant=_reject_constant)
        _reject_lone_surrogates(document)
        return document
    except (ValueError, RecursionError) as error:
        raise BadRequestError(f"JSON parse error - {error}") from None


def query_values(request: Request[Any, Any, Any], name: str) -> list[str]:
    """Every non-empty value of a repeatable query parameter (repeats mean OR)."""
    return [value for value in request.query_params.getall(name, []) if value != ""]


def query_value(request: Request[Any, Any, Any], name: str) -> str | None:
    """The last non-empty value of a query parameter, or None."""
    values = query_values(request, name)
    return values[-1] if values else None


def typed_query_value(request: Request[Any, Any, Any], name: str, wanted: Any, message: str | None = None) -> Any:
    """A query parameter structured into ``wanted`` (None when absent); a bad value is a 400 on that name."""
    raw = query_value(request, name)
    if raw is None:
        return None
    try:
        return structure_value(raw, wanted, name)
    except ValidationError:
        if message is None:
            raise
        raise ValidationError.on(name, message) from None


ANONYMOUS_MAX_LIMIT, ANONYMOUS_MAX_OFFSET = 100, 10_000
LARGE_ANONYMOUS_PAGE = "Large offset/limit not allowed for anonymous users."


def page_bounds(
    request: Request[Any, Any, Any], default_limit: int, max_limit: int, *, anonymous: bool = False
) -> tuple[int, int]:
    """``limit`` and ``offset`` from the query string; larger limits are clamped, negative ones refused.

    Anonymous callers asking for more than 100 items or an offset past 10000 are refused (api.md rule 6),
    so that open lists cannot be scraped in a few calls."""
    bounds = []
    for name, default in (("limit", default_limit), ("offset", 0)):
        raw = query_value(request, name)
        if raw is None:
            bounds.append(default)
            continue
        if not raw.isdigit():
            raise ValidationError.on(name, "A valid non-negative integer is required.")
        bounds.append(int(raw))
    limit, offset = bounds
    if anonymous and (limit > ANONYMOUS_MAX_LIMIT or offset > ANONYMOUS_MAX_OFFSET):
        raise BadRequestError(LARGE_ANONYMOUS_PAGE)
    return min(limit, max_limit) if limit > 0 else default_limit, offset


def page(
    request: Request[Any, Any, Any], count: int, results: Sequence[Any], limit: int, offset: int
) -> dict[str, Any]:
    """The ``{count, next, previous, results}`` envelope with absolute links that keep the other parameters."""

    def link(new_offset: int) -> str:
        params = [(k, v) for k, v in request.query_params.multi_items() if k not in ("limit", "offset")]
        params += [("limit", str(limit)), ("offset", str(new_offset))]
        return f"{str(request.url).split('?')[0]}?{urlencode(params)}"

    return {
        "count": count,
        "next": link(offset + limit) if offset + limit < count else None,
        "previous": link(max(offset - limit, 0)) if offset > 0 else None,
        "results": list(results),
    }


def string_list(values: list[Any], field: str, message: str = "Not a valid string.") -> list[str]:
    """The items of a JSON list that must all be strings; anything else is a 400 on ``field``."""
    if not all(isinstance(item, str) for item in values):
        raise ValidationError.on(field, message)
    return list(values)


def to_wire(value: Any) -> Any:
    """A view with every datetime written in the wire format (api.md rule 10), at any depth."""
    if isinstance(value, datetime):
        return format_datetime(value)
    if isinstance(value, dict):
        return {key: to_wire(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [to_wire(item) for item in value]
    return value


def container_of(request: Request[Any, Any, Any]) -> Any:
    """The process's dependency container (entrypoints.container), which the app carries in its state."""
    return request.app.state.container


def unit_of_work(request: Request[Any, Any, Any]) -> UnitOfWork:
    """A fresh unit of work for one read or write of this request."""
    return container_of(request).uow_factory()()  # type: ignore[no-any-return]


def bus_of(request: Request[Any, Any, Any]) -> MessageBus:
    return container_of(request).bus()  # type: ignore[no-any-return]


def now_of(request: Request[Any, Any, Any]) -> datetime:
    """The container's clock: fixed in tests, the system's in a server."""
    return container_of(request).clock().now()  # type: ignore[no-any-return]


def base_url(request: Request[Any, Any, Any]) -> str:
    """The scheme and host the client used, without a trailing slash, for absolute links."""
    return str(request.base_url).rstrip("/")


async def in_thread(work: Callable[..., Any], *args: Any) -> Any:
    """Run blocking work (storage) off the event loop.

    Handlers are async and offload their work themselves: Litestar 2.25 hands back an unawaited coroutine from
    a ``sync_to_thread`` handler once PUT and PATCH handlers share its path."""
    return await anyio.to_thread.run_sync(partial(work, *args))


# ---------------------------------------------------------------------------------------------------------
# Query strings and path ids (api.md rules 6 and 8)

BAD_CHOICE = "Select a valid choice. {} is not one of the available choices."
BAD_DATETIME = "Enter a valid date/time."
BAD_NUMBER = "Enter a number."


class QueryFilters:
    """Reads the query string's filters, collecting every bad value so that one 400 names them all."""

    def __init__(self, request: Request[Any, Any, Any]) -> None:
        self.request = request
        self.errors: dict[str, list[str]] = {}

    def _each(self, name: str, convert: Callable[[str], Any], message: Callable[[str], str]) -> tuple[Any, ...]:
        found = []
        for raw in query_values(self.request, name):
            try:
                found.append(convert(raw))
            except ValueError:  # FieldError included
                self.errors.setdefault(name, []).append(message(raw))
                break
        return tuple(found)

    def choices(self, name: str, enum: type[Enum]) -> tuple[Any, ...]:
        """Every value of a repeatable enumeration filter (repeats mean OR)."""
        return self._each(name, enum, BAD_CHOICE.format)

    def choice(self, name: str, enum: type[Enum]) -> Any:
        found = self.choices(name, enum)
        return found[-1] if found else None

    def integers(self, name: str) -> tuple[int, ...]:
        return self._each(name, _stored_integer, lambda _: BAD_NUMBER)

    def integer(self, name: str) -> int | None:
        found = self.integers(name)
        return found[-1] if found else None

    def number(self, name: str) -> float | None:
        found = self._each(name, _finite, lambda _: BAD_NUMBER)
        return found[-1] if found else None

    def datetime(self, name: str) -> datetime | None:
        found = self._each(name, parse_datetime, lambda _: BAD_DATETIME)
        return found[-1] if found else None

    def text(self, name: str) -> str | None:
        return query_value(self.request, name)

    def texts(self, name: str) -> tuple[str, ...]:
        return tuple(query_values(self.request, name))

    def order(self, keys: frozenset[str]) -> tuple[str, ...]:
        """``order`` or ``ordering`` (a comma list of keys, each optionally prefixed with "-"); default ``-id``."""
        for name in ("order", "ordering"):
            raw = query_value(self.request, name)
            if raw is None:
                continue
            wanted = tuple(key.strip() for key in raw.split(",") if key.strip())
            bad = [key for key in wanted if key.removeprefix("-") not in keys]
            if bad:
                self.errors[name] = [BAD_CHOICE.format(bad[0])]
            elif wanted:
                return wanted
        return ("-id",)

    def check(self) -> None:
        if self.errors:
            raise ValidationError(self.errors)


def _stored_integer(raw: str) -> int:
    """An integer a stored id can equal; larger ones are refused rather than handed to a 32-bit column."""
    value = int(raw)
    if abs(value) > MAX_INTEGER:
        raise ValueError(raw)
    return value


def existing_id(value: int, kind: str) -> int:
    """A path id; one no column can hold is simply not found."""
    if not 0 < value <= MAX_INTEGER:
        raise NotFoundError(f"{kind} {value}")
    return value


def _finite(raw: str) -> float:
    value = float(raw)
    if value != value or value in (float("inf"), float("-inf")):
        raise ValueError(raw)
    return value
