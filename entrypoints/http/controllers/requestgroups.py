"""Request groups and requests over HTTP (api.md 4.1, 4.2, 5.3): list, submit, read, cancel, the validate and
max_allowable_ipp dry runs, and staff suspending a request.

Thin on purpose: the body becomes domain objects at the edge (adapters.request_wire), the use cases check and
store it (application.handlers.requestgroups), and what each caller may see is the read side's
(application.request_views). Filters are read here from the query string, as DRF's filter sets read them, and
also narrow detail lookups (a filtered-out group or request is not found).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import attrs
from litestar import Request, get, patch, post
from litestar.connection import ASGIConnection
from litestar.handlers import BaseRouteHandler
from litestar.params import FromPath, RawBody
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from adapters.request_wire import ParsedRequestGroup, parse_request_group, request_group_json, request_json
from adapters.serialization import FieldError, format_datetime, parse_datetime
from application.commands import CancelRequestGroup, SubmitRequestGroup, SuspendRequest
from application.handlers.requestgroups import HooksFactory, max_allowable_ipp_for, validate_submission
from application.ports import REQUEST_GROUP_ORDER_KEYS, REQUEST_ORDER_KEYS, RequestGroupQuery, RequestQuery, UnitOfWork
from application.request_views import search_request_groups, search_requests
from domain.errors import NotFoundError, ValidationError
from domain.permissions import Action, Actor, require
from domain.request_validation import SubmittedRequestGroup
from domain.requestgroups import ObservationType, Operator, RequestGroup, RequestState
from domain.requestgroups import Request as DomainRequest
from entrypoints.http.auth import current_actor, signed_in
from entrypoints.http.errors import PORTAL_BODY_LIMIT
from entrypoints.http.throttle import CANCEL, CREATE, VALIDATE, throttled
from entrypoints.http.wire import (
    QueryFilters,
    container_of,
    existing_id,
    in_thread,
    json_body,
    now_of,
    page,
    page_bounds,
    unit_of_work,
)

DEFAULT_PAGE, MAX_PAGE = 10, 1000
CADENCE_REFUSED = "Please use the cadence endpoint to expand your cadence request"
SUSPEND_REQUIRED = "The suspend_until value must be set on update requests"
# The ``order`` filter of upstream's filter set offers these (and ``id``); ``ordering`` takes the same names.
GROUP_ORDER_KEYS = REQUEST_GROUP_ORDER_KEYS
TAGS = ["requestgroups"]


# ---------------------------------------------------------------------------------------------------------
# Plumbing


def suspenders_only(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Guard: suspending requests is the observatory staff's (403 before the body is read)."""
    require(Action.SUSPEND_REQUESTS, current_actor(connection))


def _group_query(request: Request[Any, Any, Any]) -> RequestGroupQuery:
    """The filters of api.md 4.1, every bad value reported at once."""
    read = QueryFilters(request)
    query = RequestGroupQuery(
        ids=read.integers("id"),
        states=read.choices("state", RequestState),
        exclude_states=read.choices("exclude_state", RequestState),
        proposal=read.text("proposal"),
        name_contains=read.text("name"),
        user_contains=read.text("user"),
        submitter=read.text("submitter"),
        observation_types=read.choices("observation_type", ObservationType),
        operator=read.choice("operator", Operator),
        ipp_value=read.number("ipp_value"),
        created_after=read.datetime("created_after"),
        created_before=read.datetime("created_before"),
        modified_after=read.datetime("modified_after"),
        modified_before=read.datetime("modified_before"),
        telescope_classes=read.texts("telescope_class"),
        target_contains=read.text("target"),
        request_id=read.integer("request_id"),
        order=read.order(GROUP_ORDER_KEYS),
    )
    read.check()
    return query


def _request_query(request: Request[Any, Any, Any], ids: tuple[int, ...] = ()) -> RequestQuery:
    """The filters of api.md 4.2; ``ids`` (a detail lookup) narrows them to one request."""
    read = QueryFilters(request)
    query = RequestQuery(
        ids=ids,
        states=read.choices("state", RequestState),
        telescope_classes=read.texts("telescope_class"),
        order=read.order(REQUEST_ORDER_KEYS),
    )
    read.check()
    return query


def _paged(request: Request[Any, Any, Any], actor: Actor) -> tuple[int, int]:
    return page_bounds(request, DEFAULT_PAGE, MAX_PAGE, anonymous=not actor.authenticated)


def _list_shape(body: dict[str, Any]) -> dict[str, Any]:
    """A request in the list shape of requests.md 2.14: the detail shape without ``created``."""
    return {key: value for key, value in body.items() if key != "created"}


def _group_list_shape(group: RequestGroup) -> dict[str, Any]:
    body = request_group_json(group)
    body["requests"] = [_list_shape(item) for item in body["requests"]]
    return body


def _parsed(request: Request[Any, Any, Any], body: bytes) -> ParsedRequestGroup:
    """The submitted group, syntax-checked; a cadence block belongs to the cadence endpoint (requests.md 2.4)."""
    parsed = parse_request_group(json_body(request, body), now=now_of(request))
    if parsed.has_cadence:
        refused = [{"cadence": [CADENCE_REFUSED]} if cadence is not None else {} for cadence in parsed.cadences]
        raise ValidationError({"requests": refused})
    return parsed


DryRun = Callable[[UnitOfWork, Actor, SubmittedRequestGroup, datetime, HooksFactory | None], dict[str, Any]]


def _dry_run(request: Request[Any, Any, Any], work: DryRun, parsed: ParsedRequestGroup) -> dict[str, Any]:
    """Run validate or max_allowable_ipp with the same visibility check a submission gets."""
    return work(
        unit_of_work(request), current_actor(request), parsed, now_of(request), container_of(request).visibility_hooks()
    )


# ---------------------------------------------------------------------------------------------------------
# Request groups


def _list_groups(request: Request[Any, Any, Any]) -> dict[str, Any]:
    actor = current_actor(request)
    query = _group_query(request)
    limit, offset = _paged(request, actor)
    count, groups = search_request_groups(unit_of_work(request), actor, attrs.evolve(query, limit=limit, offset=offset))
    return page(request, count, [_group_list_shape(group) for group in groups], limit, offset)


def _read_group(request: Request[Any, Any, Any], group_id: int) -> dict[str, Any]:
    actor, group_id = current_actor(request), existing_id(group_id, "request group")
    query = _group_query(request)
    if query.ids and group_id not in query.ids:  # an ``id`` filter that excludes the group asked for
        raise NotFoundError(f"request group {group_id}")
    _, groups = search_request_groups(
        unit_of_work(request), actor, attrs.evolve(query, ids=(group_id,), limit=1, offset=0)
    )
    if not groups:
        raise NotFoundError(f"request group {group_id}")
    return request_group_json(groups[0])


def _submit(request: Request[Any, Any, Any], body: bytes) -> dict[str, Any]:
    parsed = _parsed(request, body)
    group = container_of(request).bus().handle(SubmitRequestGroup(current_actor(request), parsed))
    return request_group_json(group)


def _cancel(request: Request[Any, Any, Any], group_id: int) -> dict[str, Any]:
    group_id = existing_id(group_id, "request group")
    group = container_of(request).bus().handle(CancelRequestGroup(current_actor(request), group_id))
    return request_group_json(group)


def _validate(request: Request[Any, Any, Any], body: bytes) -> dict[str, Any]:
    try:
        parsed = _parsed(request, body)
    except ValidationError as error:
        return {"request_durations": {}, "errors": error.errors}
    answer = _dry_run(request, validate_submission, parsed)
    durations = answer["request_durations"]
    if attrs.has(type(durations)):
        durations = attrs.asdict(durations)
    return {"request_durations": durations, "errors": answer["errors"]}


def _max_allowable_ipp(request: Request[Any, Any, Any], body: bytes) -> dict[str, Any]:
    try:
        parsed = _parsed(request, body)
    except ValidationError as error:
        return {"errors": error.errors}
    answer = _dry_run(request, max_allowable_ipp_for, parsed)
    if "errors" in answer:
        return {"errors": answer["errors"]}
    return {
        semester: {itype: attrs.asdict(allowance) for itype, allowance in by_type.items()}
        for semester, by_type in answer.items()
    }


_WRITE: dict[str, Any] = {"guards": [signed_in], "request_max_body_size": PORTAL_BODY_LIMIT, "tags": TAGS}


@get("/api/requestgroups/", tags=TAGS)
async def request_groups(request: Request[Any, Any, Any]) -> dict[str, Any]:
    """The request groups the caller may see, newest first. Filters: id, state and exclude_state (repeatable),
    proposal, name (contains), user (submitter contains), submitter, observation_type (repeatable), operator,
    ipp_value, created_after/before, modified_after/before (any request's), telescope_class (repeatable),
    target (name contains), request_id; ``order`` or ``ordering`` by name, modified, created, end or id."""
    return await in_thread(_list_groups, request)  # type: ignore[no-any-return]


@post("/api/requestgroups/", status_code=HTTP_201_CREATED, **_WRITE)
async def submit_request_group(request: Request[Any, Any, Any], body: RawBody) -> dict[str, Any]:
    """Submit a request group (requests.md 3): stored PENDING with its defaults filled and its IPP debited, or
    400 with every field error in the nested shape and nothing stored; 429 once the caller's creates are spent."""
    return await in_thread(throttled(CREATE, _submit), request, body)  # type: ignore[no-any-return]


@get("/api/requestgroups/{group_id:int}/", tags=TAGS)
async def request_group(request: Request[Any, Any, Any], group_id: FromPath[int]) -> dict[str, Any]:
    """One request group the caller may see (another's is not found); the list's filters narrow it too."""
    return await in_thread(_read_group, request, group_id)  # type: ignore[no-any-return]


@post("/api/requestgroups/{group_id:int}/cancel/", status_code=HTTP_200_OK, **_WRITE)
async def cancel_request_group(request: Request[Any, Any, Any], group_id: FromPath[int]) -> dict[str, Any]:
    """Cancel a PENDING group and its PENDING requests, crediting their IPP back; an already canceled group is
    answered unchanged, a finished one is refused; 429 once the caller's cancels are spent."""
    return await in_thread(throttled(CANCEL, _cancel), request, group_id)  # type: ignore[no-any-return]


@post("/api/requestgroups/validate/", status_code=HTTP_200_OK, **_WRITE)
async def validate_request_group(request: Request[Any, Any, Any], body: RawBody) -> dict[str, Any]:
    """Check a request group without storing it: 200 with ``request_durations`` and ``errors``, or 429 once the
    caller's validations are spent (api.md rule 20)."""
    return await in_thread(throttled(VALIDATE, _validate), request, body)  # type: ignore[no-any-return]


@post("/api/requestgroups/max_allowable_ipp/", status_code=HTTP_200_OK, **_WRITE)
async def max_allowable_ipp(request: Request[Any, Any, Any], body: RawBody) -> dict[str, Any]:
    """The IPP range a request group could be submitted with, per semester and instrument type; 200 with
    ``errors`` when the group is invalid."""
    return await in_thread(_max_allowable_ipp, request, body)  # type: ignore[no-any-return]


# ---------------------------------------------------------------------------------------------------------
# Requests


def _found_request(request: Request[Any, Any, Any], request_id: int) -> tuple[RequestGroup, DomainRequest]:
    actor, request_id = current_actor(request), existing_id(request_id, "request")
    query = attrs.evolve(_request_query(request, ids=(request_id,)), limit=1, offset=0)
    _, found = search_requests(unit_of_work(request), actor, query)
    if not found:
        raise NotFoundError(f"request {request_id}")
    return found[0]


def _list_requests(request: Request[Any, Any, Any]) -> dict[str, Any]:
    actor = current_actor(request)
    query = _request_query(request)
    limit, offset = _paged(request, actor)
    count, found = search_requests(unit_of_work(request), actor, attrs.evolve(query, limit=limit, offset=offset))
    return page(request, count, [_list_shape(request_json(item)) for _, item in found], limit, offset)


def _read_request(request: Request[Any, Any, Any], request_id: int) -> dict[str, Any]:
    _, found = _found_request(request, request_id)
    return request_json(found)


def _suspend(request: Request[Any, Any, Any], request_id: int, body: bytes) -> dict[str, Any]:
    """Only ``suspend_until`` is read (requests.md 6.7); the domain refuses past values and non-PENDING requests."""
    data = json_body(request, body)
    if data is None:
        raise ValidationError.general("No data provided")
    if not isinstance(data, dict):
        raise ValidationError.general(f"Invalid data. Expected a dictionary, but got {type(data).__name__}.")
    if "suspend_until" not in data:
        raise ValidationError.on("suspend_until", SUSPEND_REQUIRED)
    try:
        until = None if data["suspend_until"] is None else parse_datetime(data["suspend_until"])
    except FieldError as error:
        raise ValidationError.on("suspend_until", str(error)) from None
    command = SuspendRequest(current_actor(request), existing_id(request_id, "request"), until)
    suspended = container_of(request).bus().handle(command)
    return {"suspend_until": None if suspended.suspend_until is None else format_datetime(suspended.suspend_until)}


@get("/api/requests/", tags=["requests"])
async def requests(request: Request[Any, Any, Any]) -> dict[str, Any]:
    """The requests of the groups the caller may see, newest first; filters state and telescope_class
    (repeatable); ``ordering`` by id or state."""
    return await in_thread(_list_requests, request)  # type: ignore[no-any-return]


@get("/api/requests/{request_id:int}/", tags=["requests"])
async def request_detail(request: Request[Any, Any, Any], request_id: FromPath[int]) -> dict[str, Any]:
    """One request the caller may see; the list's filters narrow it too."""
    return await in_thread(_read_request, request, request_id)  # type: ignore[no-any-return]


@patch(
    "/api/requests/{request_id:int}/",
    status_code=HTTP_200_OK,
    guards=[suspenders_only],
    request_max_body_size=PORTAL_BODY_LIMIT,
    tags=["requests"],
)
async def suspend_request(request: Request[Any, Any, Any], request_id: FromPath[int], body: RawBody) -> dict[str, Any]:
    """Staff keep a PENDING request out of scheduling until ``suspend_until`` (null lifts it); other keys are
    ignored."""
    return await in_thread(_suspend, request, request_id, body)  # type: ignore[no-any-return]


ROUTES = [
    request_groups,
    submit_request_group,
    request_group,
    cancel_request_group,
    validate_request_group,
    max_allowable_ipp,
    requests,
    request_detail,
    suspend_request,
]
