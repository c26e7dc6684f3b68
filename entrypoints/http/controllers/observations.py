"""Observations and the telescopes' feedback over HTTP (api.md 5.4, 5.5, 6; requests.md 7.5): the observation
list and detail, placing observations (the scheduler's or a site's POST), staff verdicts on an observation, the
configuration statuses the sites read and PATCH, and a request's observations.

Thin on purpose: bodies become domain values at the edge (adapters.observation_wire), the use cases check and
store them (application.handlers.observations), and what each caller may see is the read side's
(application.observation_views).
"""

from __future__ import annotations

from typing import Any

import attrs
from litestar import Request, get, patch, post
from litestar.connection import ASGIConnection
from litestar.handlers import BaseRouteHandler
from litestar.params import FromPath, RawBody
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from adapters.observation_wire import (
    observation_detail_json,
    observation_list_json,
    parse_observation_cancel,
    parse_observation_plan,
    parse_observation_plans,
    parse_observation_revision,
    parse_status_report,
    request_observation_json,
    scheduled_json,
    status_json,
)
from application.commands import (
    CancelObservations,
    ReportConfigurationStatus,
    ReviseObservation,
    ScheduleObservations,
)
from application.handlers.observations import ScheduledObservations
from application.observation_views import (
    get_observation,
    get_status,
    observations_of_request,
    search_observations,
    search_statuses,
)
from application.ports import OBSERVATION_ORDER_KEYS, ObservationQuery, StatusQuery
from domain.errors import NotFoundError, ValidationError
from domain.observations import ObservationState, StatusState
from domain.permissions import Action, require
from domain.requestgroups import ObservationType, RequestState
from entrypoints.http.auth import current_actor, signed_in

# One query-string reader and one path-id check for every portal list, shared with the request-group routes.
from entrypoints.http.errors import PORTAL_BODY_LIMIT
from entrypoints.http.wire import (
    QueryFilters,
    bus_of,
    existing_id,
    in_thread,
    json_body,
    page,
    page_bounds,
    query_value,
    unit_of_work,
)

DEFAULT_PAGE, MAX_PAGE = 10, 1000
TAGS = ["observations"]
STATUS_TAGS = ["configurationstatus"]


def operators_only(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Guard: the configuration statuses are the telescopes' and the staff's (403 before the body is read)."""
    require(Action.OPERATE, current_actor(connection))


def _paged(request: Request[Any, Any, Any]) -> tuple[int, int]:
    anonymous = not current_actor(request).authenticated
    return page_bounds(request, DEFAULT_PAGE, MAX_PAGE, anonymous=anonymous)


def _observation_query(request: Request[Any, Any, Any]) -> ObservationQuery:
    """The filters of api.md 6 ("Observation list filters"), every bad value reported at once."""
    read = QueryFilters(request)
    query = ObservationQuery(
        ids=read.integers("id"),
        sites=read.texts("site"),
        enclosures=read.texts("enclosure"),
        telescopes=read.texts("telescope"),
        start_after=read.datetime("start_after"),
        start_before=read.datetime("start_before"),
        end_after=read.datetime("end_after"),
        end_before=read.datetime("end_before"),
        modified_after=read.datetime("modified_after"),
        created_after=read.datetime("created_after"),
        created_before=read.datetime("created_before"),
        request_ids=read.integers("request_id")[-1:],
        request_group_ids=read.integers("request_group_id")[-1:],
        states=read.choices("state", ObservationState),
        priority=read.integer("priority"),
        observation_types=read.choices("observation_type", ObservationType),
        request_states=read.choices("request_state", RequestState),
        proposal=read.text("proposal"),
        submitter=read.text("user"),
        instrument_types=read.texts("instrument_type"),
        configuration_types=read.texts("configuration_type"),
        order=read.order(OBSERVATION_ORDER_KEYS),
    )
    read.check()
    return query


def _status_query(request: Request[Any, Any, Any]) -> StatusQuery:
    read = QueryFilters(request)
    query = StatusQuery(
        instrument_names=read.texts("instrument_name"),
        guide_camera_names=read.texts("guide_camera_name"),
        states=read.choices("state", StatusState),
        sites=read.texts("site"),
    )
    read.check()
    return query


# ---------------------------------------------------------------------------------------------------------
# Observations


def _list_observations(request: Request[Any, Any, Any]) -> dict[str, Any]:
    query = _observation_query(request)
    limit, offset = _paged(request)
    count, found = search_observations(
        unit_of_work(request), current_actor(request), attrs.evolve(query, limit=limit, offset=offset)
    )
    results = [observation_list_json(item.observation, item.group, item.request) for item in found]
    return page(request, count, results, limit, offset)


def _read_observation(request: Request[Any, Any, Any], observation_id: int) -> dict[str, Any]:
    observation_id = existing_id(observation_id, "observation")
    query = _observation_query(request)
    if query.ids and observation_id not in query.ids:  # an ``id`` filter that excludes the one asked for
        raise NotFoundError(f"observation {observation_id}")
    found = get_observation(unit_of_work(request), current_actor(request), observation_id, query)
    return observation_detail_json(found.observation)


def _schedule(request: Request[Any, Any, Any], body: bytes) -> Any:
    """One object: 201 with its detail, or 400 with its errors. A list: each well-formed item is placed if it
    is valid, and the answer counts them and gives the errors of the others by index (api.md 6)."""
    data = json_body(request, body)
    actor = current_actor(request)
    if not isinstance(data, list):
        plan = parse_observation_plan(data)
        result: ScheduledObservations = bus_of(request).handle(ScheduleObservations(actor, [plan]))
        if result.errors:
            raise ValidationError(result.errors[0])
        return observation_detail_json(result.created[0])
    plans, errors = parse_observation_plans(data)
    result = bus_of(request).handle(ScheduleObservations(actor, [plan for _, plan in plans]))
    for position, tree in result.errors.items():
        errors[plans[position][0]] = tree
    return scheduled_json(len(result.created), errors)


def _revise(request: Request[Any, Any, Any], observation_id: int, body: bytes) -> dict[str, Any]:
    observation_id = existing_id(observation_id, "observation")
    revision = parse_observation_revision(json_body(request, body))
    command = ReviseObservation(current_actor(request), observation_id, revision.bad_data, revision.end)
    return observation_detail_json(bus_of(request).handle(command))


def _cancel(request: Request[Any, Any, Any], body: bytes) -> dict[str, Any]:
    fields = parse_observation_cancel(json_body(request, body))
    return {"canceled": bus_of(request).handle(CancelObservations(current_actor(request), **fields))}


def _request_observations(request: Request[Any, Any, Any], request_id: int) -> list[dict[str, Any]]:
    found = observations_of_request(
        unit_of_work(request),
        current_actor(request),
        existing_id(request_id, "request"),
        exclude_canceled=query_value(request, "exclude_canceled") is not None,
    )
    return [request_observation_json(observation) for observation in found]


_WRITE: dict[str, Any] = {"guards": [signed_in], "request_max_body_size": PORTAL_BODY_LIMIT, "tags": TAGS}


@get("/api/observations/", tags=TAGS)
async def observations(request: Request[Any, Any, Any]) -> dict[str, Any]:
    """The observations the caller may see (those of the request groups they may see), newest first, each with
    its request and configurations expanded by repeat. Filters: site, enclosure, telescope, state,
    observation_type, request_state, instrument_type, configuration_type (all repeatable), start_after/before,
    end_after/before, modified_after, created_after/before, request_id, request_group_id, user, proposal,
    priority, id; ``ordering`` by start, end, modified, created, state or id."""
    return await in_thread(_list_observations, request)  # type: ignore[no-any-return]


@post("/api/observations/", status_code=HTTP_201_CREATED, **_WRITE)
async def schedule_observations(request: Request[Any, Any, Any], body: RawBody) -> Any:
    """Place observations (staff, or members of a direct-submission proposal on its requests): one object is
    answered with its detail or 400; a list with ``{"num_created": n, "errors": {"<index>": {...}}}``, the valid
    items stored and 201 even when none is."""
    return await in_thread(_schedule, request, body)


@get("/api/observations/{observation_id:int}/", tags=TAGS)
async def observation(request: Request[Any, Any, Any], observation_id: FromPath[int]) -> dict[str, Any]:
    """One observation the caller may see, with its configuration statuses; the list's filters narrow it too."""
    return await in_thread(_read_observation, request, observation_id)  # type: ignore[no-any-return]


@patch("/api/observations/{observation_id:int}/", status_code=HTTP_200_OK, **_WRITE)
async def revise_observation(
    request: Request[Any, Any, Any], observation_id: FromPath[int], body: RawBody
) -> dict[str, Any]:
    """Staff mark a finished observation BAD_DATA (``{"state": "BAD_DATA"}``, refunding its time) or move its end
    into the future (``{"end": ...}``, cancelling the PENDING observations it then overlaps)."""
    return await in_thread(_revise, request, observation_id, body)  # type: ignore[no-any-return]


@post("/api/observations/cancel/", status_code=HTTP_200_OK, **_WRITE)
async def cancel_observations(request: Request[Any, Any, Any], body: RawBody) -> dict[str, Any]:
    """Take observations off the schedule (staff, or members of a direct-submission proposal on its own): by
    ``ids``, or those overlapping ``start``..``end`` on the ``site``/``enclosure``/``telescope`` given, of the kinds
    ``include_normal`` (default), ``include_rr`` and ``include_direct``; running ones only with
    ``preemption_enabled``. Answers ``{"canceled": n}``."""
    return await in_thread(_cancel, request, body)  # type: ignore[no-any-return]


@get("/api/requests/{request_id:int}/observations/", tags=["requests"])
async def request_observations(request: Request[Any, Any, Any], request_id: FromPath[int]) -> list[Any]:
    """The observations of a request the caller may see, as a bare list ordered by id; ``exclude_canceled``
    (any non-empty value) leaves out the CANCELED ones."""
    return await in_thread(_request_observations, request, request_id)  # type: ignore[no-any-return]


# ---------------------------------------------------------------------------------------------------------
# Configuration statuses (staff)


def _list_statuses(request: Request[Any, Any, Any]) -> dict[str, Any]:
    query = _status_query(request)
    limit, offset = _paged(request)
    count, found = search_statuses(
        unit_of_work(request), current_actor(request), attrs.evolve(query, limit=limit, offset=offset)
    )
    return page(request, count, [status_json(status) for _, status in found], limit, offset)


def _read_status(request: Request[Any, Any, Any], status_id: int) -> dict[str, Any]:
    status_id = existing_id(status_id, "configuration status")
    return status_json(get_status(unit_of_work(request), current_actor(request), status_id))


def _report(request: Request[Any, Any, Any], status_id: int, body: bytes) -> dict[str, Any]:
    status_id = existing_id(status_id, "configuration status")
    report = parse_status_report(json_body(request, body))
    command = ReportConfigurationStatus(
        current_actor(request), status_id, report.state, report.summary, report.end, report.exposures_start_at
    )
    _, status = bus_of(request).handle(command)
    return status_json(status)


_STAFF: dict[str, Any] = {"guards": [operators_only], "tags": STATUS_TAGS}


@get("/api/configurationstatus/", **_STAFF)
async def configuration_statuses(request: Request[Any, Any, Any]) -> dict[str, Any]:
    """The configuration statuses, newest first (staff). Filters: instrument_name, guide_camera_name, state and
    site, each repeatable."""
    return await in_thread(_list_statuses, request)  # type: ignore[no-any-return]


@get("/api/configurationstatus/{status_id:int}/", **_STAFF)
async def configuration_status(request: Request[Any, Any, Any], status_id: FromPath[int]) -> dict[str, Any]:
    """One configuration status with its summary (``{}`` until reported)."""
    return await in_thread(_read_status, request, status_id)  # type: ignore[no-any-return]


@patch(
    "/api/configurationstatus/{status_id:int}/",
    status_code=HTTP_200_OK,
    request_max_body_size=PORTAL_BODY_LIMIT,
    **_STAFF,
)
async def report_configuration_status(
    request: Request[Any, Any, Any], status_id: FromPath[int], body: RawBody
) -> dict[str, Any]:
    """A telescope's report (staff): a new ``state``, a ``summary`` of what ran (charged, and settling the request
    and its group), and a predicted ``end`` or ``exposures_start_at`` that moves the observation's end."""
    return await in_thread(_report, request, status_id, body)  # type: ignore[no-any-return]


ROUTES = [
    observations,
    schedule_observations,
    observation,
    revise_observation,
    cancel_observations,
    request_observations,
    configuration_statuses,
    configuration_status,
    report_configuration_status,
]
