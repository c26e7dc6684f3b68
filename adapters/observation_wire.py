"""Observations on the wire: POSTed observations and PATCHed statuses into domain values, and the output shapes.

Input is the syntax level, as for request groups (adapters.request_wire, whose field readers this module shares so
that a datetime, a number or a text is read and refused with the same words everywhere): required keys, types,
enumerations, lengths. Whether a request, configuration, telescope or instrument exists, and whether an observation
fits its request, is the domain's (domain.observations.place) and the handlers'. Unknown keys are ignored at every
level (api.md rule 9); errors come in DRF's nested shape, lists of objects aligned by index with ``{}`` for the
items that are fine.

Output follows api.md 5.4 (the list shape, with the request and its configurations expanded by repeat), the
detail shape beside it, 5.5 (a configuration status and its summary) and requests.md 7.5 (a request's
observations).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from attrs import frozen

from adapters.request_wire import (
    MAX_INTEGER,
    _boolean,
    _choice,
    _datetime,
    _integer,
    _Invalid,
    _json_object,
    _many,
    _number,
    _Object,
    _raise,
    _text,
    configuration_json,
    request_json,
)
from adapters.serialization import FieldError, format_datetime
from domain.errors import ErrorTree, ValidationError
from domain.observations import (
    ConfigurationStatus,
    Observation,
    ObservationPlan,
    ObservationState,
    StatusPlan,
    StatusState,
    Summary,
)
from domain.requestgroups import Configuration, ObservationType, Request, RequestGroup

# scheduler.md 6.2: the summary's free-text state and reason.
MAX_SUMMARY_STATE = 50
MAX_SUMMARY_REASON = 200
ONLY_BAD_DATA = "An observation's state can only be set to BAD_DATA"
# Keys of the request in the observation list shape (api.md 5.4): no location, windows or creation time.
_NOT_IN_LIST_REQUEST = ("location", "windows", "created", "suspend_until")


# ---------------------------------------------------------------------------------------------------------
# Input


@frozen
class StatusReport:
    """A PATCH of a configuration status (scheduler.md 6.2), every key optional."""

    state: StatusState | None = None
    summary: Summary | None = None
    end: datetime | None = None
    exposures_start_at: datetime | None = None


@frozen
class ObservationRevision:
    """A staff PATCH of an observation (api.md 6): BAD_DATA, a new end, or both."""

    bad_data: bool = False
    end: datetime | None = None


def _primary_key(raw: Any) -> int:
    """A related object's id as DRF reads it: an integer or its digits; a larger one than any column holds does
    not exist."""
    if isinstance(raw, bool) or not isinstance(raw, int | str):
        raise FieldError(f"Incorrect type. Expected pk value, received {type(raw).__name__}.")
    text = str(raw).strip()
    if not text.lstrip("-").isdigit() or len(text) > 20:
        raise FieldError(f"Incorrect type. Expected pk value, received {type(raw).__name__}.")
    value = int(text)
    if not 0 < value <= MAX_INTEGER:
        raise FieldError(f'Invalid pk "{value}" - object does not exist.')
    return value


def _status_plan(raw: Any) -> StatusPlan:
    obj = _Object(raw)
    configuration = obj.get("configuration", _primary_key, required=True)
    instrument_name = obj.get("instrument_name", _text(blank=False, max_length=255), required=True)
    guide_camera_name = obj.get("guide_camera_name", _text(max_length=255))
    obj.check()
    return StatusPlan(configuration, instrument_name, guide_camera_name)


def _observation_plan(raw: Any) -> ObservationPlan:
    obj = _Object(raw)
    fields: dict[str, Any] = {
        "request_id": obj.get("request", _primary_key, required=True),
        "site": obj.get("site", _text(blank=False, max_length=255), required=True),
        "enclosure": obj.get("enclosure", _text(blank=False, max_length=255), required=True),
        "telescope": obj.get("telescope", _text(blank=False, max_length=255), required=True),
        "start": obj.get("start", _datetime, required=True),
        "end": obj.get("end", _datetime, required=True),
        "priority": obj.get("priority", _integer(0), default=10),  # upstream's PositiveIntegerField
        # Without statuses the rules choose one per configuration and repeat (domain.observations.default_statuses).
        "statuses": obj.get("configuration_statuses", _many(_status_plan, None), default=[]),
    }
    # The errors keep the wire's names: ``request`` and ``configuration_statuses``.
    obj.check()
    return ObservationPlan(**fields)


def parse_observation_plan(body: Any) -> ObservationPlan:
    """One POSTed observation, or ValidationError with its field errors."""
    try:
        return _observation_plan(body)
    except _Invalid as error:
        raise _raise(error) from None


def parse_observation_plans(items: list[Any]) -> tuple[list[tuple[int, ObservationPlan]], dict[int, ErrorTree]]:
    """The items of a POSTed list that are well formed, each with its index, and the errors of the others by
    index (the list's answer reports both, api.md 6)."""
    plans: list[tuple[int, ObservationPlan]] = []
    errors: dict[int, ErrorTree] = {}
    for index, item in enumerate(items):
        try:
            plans.append((index, parse_observation_plan(item)))
        except ValidationError as error:
            errors[index] = error.errors
    return plans, errors


def _summary(raw: Any) -> Summary:
    obj = _Object(raw)
    start = obj.get("start", _datetime, required=True)
    end = obj.get("end", _datetime, required=True)
    state = obj.get("state", _text(max_length=MAX_SUMMARY_STATE), required=True)
    time_completed = obj.get("time_completed", _number(), required=True)
    reason = obj.get("reason", _text(max_length=MAX_SUMMARY_REASON), default="")
    # Echoed as sent; an object, as pyobs decodes it as a map (api.md 5.5).
    events = obj.get("events", _json_object("events", coerce=False), default={})
    obj.check()
    try:
        return Summary(start, end, state, time_completed, reason, events)
    except ValidationError as error:  # the summary's own rules (X6, X7), already keyed under "summary"
        raise _Invalid(error.errors.get("summary", error.errors)) from None


def parse_status_report(body: Any) -> StatusReport:
    """A configuration status PATCH; ``instrument_name``, ``guide_camera_name`` and ``configuration`` are ignored
    on update (scheduler.md 6.2). A null value is the same as an absent one."""
    try:
        obj = _Object(body)
        report = StatusReport(
            state=obj.get("state", _choice(StatusState)),
            summary=obj.get("summary", _summary),
            end=obj.get("end", _datetime),
            exposures_start_at=obj.get("exposures_start_at", _datetime),
        )
        obj.check()
    except _Invalid as error:
        raise _raise(error) from None
    return report


def _bad_data_only(raw: Any) -> bool:
    state = _choice(ObservationState)(raw)
    if state is not ObservationState.BAD_DATA:
        raise FieldError(ONLY_BAD_DATA)
    return True


def parse_observation_revision(body: Any) -> ObservationRevision:
    """A staff PATCH of an observation: ``{"end": ...}`` and/or ``{"state": "BAD_DATA"}``; other keys ignored."""
    try:
        obj = _Object(body)
        revision = ObservationRevision(
            bad_data=obj.get("state", _bad_data_only, default=False), end=obj.get("end", _datetime)
        )
        obj.check()
    except _Invalid as error:
        raise _raise(error) from None
    return revision


NOTHING_TO_CANCEL = "Please submit observation ids or start and end times to cancel"


def _ids(raw: Any) -> list[int]:
    if not isinstance(raw, list):
        raise FieldError(f'Expected a list of items but got type "{type(raw).__name__}".')
    return [_primary_key(item) for item in raw]


def _codes(raw: Any) -> tuple[str, ...]:
    """One code or a list of them (the OCS takes one; a list means any of them)."""
    items = raw if isinstance(raw, list) else [raw]
    return tuple(_text(blank=False, max_length=255)(item) for item in items)


def parse_observation_cancel(body: Any) -> dict[str, Any]:
    """``POST /api/observations/cancel/`` into the fields of ``CancelObservations`` (api.md 6): ``ids``, or
    ``start`` and ``end`` with optional ``site``, ``enclosure``, ``telescope`` and the include flags."""
    try:
        obj = _Object(body)
        fields: dict[str, Any] = {
            "ids": obj.get("ids", _ids, default=[]),
            "start": obj.get("start", _datetime),
            "end": obj.get("end", _datetime),
            "sites": obj.get("site", _codes, default=()),
            "enclosures": obj.get("enclosure", _codes, default=()),
            "telescopes": obj.get("telescope", _codes, default=()),
            "include_normal": obj.get("include_normal", _boolean, default=True),
            "include_rr": obj.get("include_rr", _boolean, default=False),
            "include_direct": obj.get("include_direct", _boolean, default=False),
            "preemption_enabled": obj.get("preemption_enabled", _boolean, default=False),
        }
        obj.check()
    except _Invalid as error:
        raise _raise(error) from None
    if not fields["ids"] and (fields["start"] is None or fields["end"] is None):
        raise ValidationError.general(NOTHING_TO_CANCEL)
    return fields


# ---------------------------------------------------------------------------------------------------------
# Output


def summary_json(summary: Summary | None) -> dict[str, Any]:
    """A status's summary (api.md 5.5); ``{}`` until the telescope reports one."""
    if summary is None:
        return {}
    return {
        "start": format_datetime(summary.start),
        "end": format_datetime(summary.end),
        "state": summary.state,
        "reason": summary.reason,
        "time_completed": summary.time_completed,
        "events": dict(summary.events),
    }


def status_json(status: ConfigurationStatus) -> dict[str, Any]:
    """A configuration status (api.md 5.5), with the hours charged for it (requests.md 7.5)."""
    return {
        "id": status.id,
        "configuration": status.configuration_id,
        "instrument_name": status.instrument_name,
        "guide_camera_name": status.guide_camera_name,
        "state": str(status.state),
        "time_charged": status.time_charged,
        "summary": summary_json(status.summary),
    }


def _placement_json(observation: Observation) -> dict[str, Any]:
    return {
        "id": observation.id,
        "site": observation.site,
        "enclosure": observation.enclosure,
        "telescope": observation.telescope,
        "start": format_datetime(observation.start),
        "end": format_datetime(observation.end),
        "priority": observation.priority,
        "state": str(observation.state),
    }


def _timestamps(observation: Observation) -> dict[str, Any]:
    return {
        "created": None if observation.created is None else format_datetime(observation.created),
        "modified": None if observation.modified is None else format_datetime(observation.modified),
    }


def request_observation_json(observation: Observation) -> dict[str, Any]:
    """An observation as a request's observations list it (requests.md 7.5): no created/modified."""
    body = _placement_json(observation)
    body["request"] = observation.request_id
    body["configuration_statuses"] = [status_json(status) for status in observation.configuration_statuses]
    return body


def observation_detail_json(observation: Observation) -> dict[str, Any]:
    """The detail shape (``GET /api/observations/{id}/``, and the answer to a POST or PATCH)."""
    return request_observation_json(observation) | _timestamps(observation)


Expanded = list[tuple[int, Configuration, ConfigurationStatus]]


def _expanded(request: Request, statuses: Iterable[ConfigurationStatus]) -> Expanded:
    """Each status with its configuration and its priority among the repeats: repeat k of the configuration of
    priority p is ``p + k x n`` (api.md 5.4). Statuses are matched to their configuration in order, so the k-th
    status of a configuration is its k-th repeat."""
    configurations = request.configurations_in_order()
    queues: dict[int | None, deque[ConfigurationStatus]] = {c.id: deque() for c in configurations}
    for status in statuses:
        if status.configuration_id in queues:
            queues[status.configuration_id].append(status)
    count = len(configurations)
    expanded: Expanded = []
    repeat = 0
    while any(queues.values()):
        for number, configuration in enumerate(configurations, start=1):
            queue = queues[configuration.id]
            if queue:
                priority = (configuration.priority or number) + repeat * count
                expanded.append((priority, configuration, queue.popleft()))
        repeat += 1
    return expanded


def _list_configuration(priority: int, configuration: Configuration, status: ConfigurationStatus) -> dict[str, Any]:
    body = configuration_json(configuration, always_rois=True)
    body |= {
        "priority": priority,
        "configuration_status": status.id,
        "state": str(status.state),
        "instrument_name": status.instrument_name,
        "guide_camera_name": status.guide_camera_name,
        "summary": summary_json(status.summary),
    }
    return body


def observation_list_json(observation: Observation, group: RequestGroup, request: Request) -> dict[str, Any]:
    """The list shape of api.md 5.4: the observation, its group's fields, and its request with the configurations
    expanded by repeat, each carrying its status; REAL_TIME observations carry only the statuses' ids and states."""
    body = _placement_json(observation) | _timestamps(observation)
    body |= {
        "proposal": group.proposal,
        "submitter": group.submitter,
        "name": group.name,
        "ipp_value": group.ipp_value,
        "observation_type": str(group.observation_type),
        "request_group_id": group.id,
    }
    shown = {key: value for key, value in request_json(request).items() if key not in _NOT_IN_LIST_REQUEST}
    if group.observation_type is ObservationType.REAL_TIME:
        shown["configurations"] = [
            {"configuration_status": status.id, "state": str(status.state)}
            for status in observation.configuration_statuses
        ]
    else:
        shown["configurations"] = [
            _list_configuration(priority, configuration, status)
            for priority, configuration, status in _expanded(request, observation.configuration_statuses)
        ]
    body["request"] = shown
    return body


def scheduled_json(created: int, errors: dict[int, ErrorTree]) -> dict[str, Any]:
    """The answer to a POSTed list (api.md 6): how many were stored, and the errors by index (keys are text)."""
    return {"num_created": created, "errors": {str(index): tree for index, tree in sorted(errors.items())}}
