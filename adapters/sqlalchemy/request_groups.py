"""SQLAlchemy storage of request groups: rows in, domain objects out, state changes written back on flush.

The request language is a tree of frozen attrs values under two entities (RequestGroup and Request), which an
imperative mapping could not instrument. So this repository is not mapped: it inserts a new group as rows, builds
domain objects from rows when reading, and remembers the state of every group it hands out; ``flush`` (run by the
unit of work's commit, and before every query so reads see this unit of work's own changes) writes back what the
domain verbs changed. Only states, ``suspend_until`` and ``modified`` can change: a group's content is fixed at
submission. The value objects kept in JSON columns go through the tolerant store converter.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

import attrs
import sqlalchemy as sa
from sqlalchemy import orm

from adapters.serialization import STORE
from adapters.sqlalchemy import tables
from application.ports import (
    REQUEST_GROUP_ORDER_KEYS,
    REQUEST_ORDER_KEYS,
    RequestGroupQuery,
    RequestGroupRepository,
    RequestQuery,
)
from domain.requestgroups import (
    AcquisitionConfig,
    Configuration,
    Constraints,
    GuidingConfig,
    InstrumentConfig,
    Location,
    Request,
    RequestGroup,
    RequestState,
    Target,
    Window,
)

_groups = tables.request_groups
_requests = tables.requests
_windows = tables.windows
_configurations = tables.configurations

_TIME_USED_STATES = (RequestState.PENDING, RequestState.COMPLETED)
# The JSON column's type for the converter (typed Any: cattrs' stubs expect a class, not a generic alias).
_INSTRUMENT_CONFIGS: Any = list[InstrumentConfig]

# What may change in a stored group: its state and modified time, and per request id its state, suspend_until
# and modified time.
_RequestMarks = tuple[RequestState, datetime | None, datetime | None]
_Marks = tuple[RequestState, datetime | None, dict[int, _RequestMarks]]


def _marks(group: RequestGroup) -> _Marks:
    requests = {r.id: (r.state, r.suspend_until, r.modified) for r in group.requests if r.id is not None}
    return group.state, group.modified, requests


# ---------------------------------------------------------------------------------------------------------
# Domain objects to rows and back.


def _group_row(group: RequestGroup) -> dict[str, Any]:
    return {
        "proposal": group.proposal,
        "submitter": group.submitter,
        "name": group.name,
        "observation_type": group.observation_type,
        "operator": group.operator,
        "ipp_value": group.ipp_value,
        "state": group.state,
        "created": group.created,
        "modified": group.modified,
    }


def _request_row(request: Request, group_id: int) -> dict[str, Any]:
    location = request.location
    return {
        "request_group_id": group_id,
        "state": request.state,
        "location_telescope_class": None if location is None else location.telescope_class,
        "location_site": "" if location is None else location.site,
        "location_enclosure": "" if location is None else location.enclosure,
        "location_telescope": "" if location is None else location.telescope,
        "observation_note": request.observation_note,
        "optimization_type": request.optimization_type,
        "acceptability_threshold": request.acceptability_threshold,
        "configuration_repeats": request.configuration_repeats,
        "extra_params": request.extra_params,
        "duration": request.duration,
        "suspend_until": request.suspend_until,
        "created": request.created,
        "modified": request.modified,
    }


def _target_json(target: Target) -> dict[str, Any]:
    # Only the fields of the target's type are stored (requests.md 2.9, the fixed quirk).
    kept = target.type_fields().keys()
    data: dict[str, Any] = STORE.unstructure(target)
    return {name: value for name, value in data.items() if name in kept}


def _configuration_row(configuration: Configuration, request_id: int) -> dict[str, Any]:
    # fill_window is input only (requests.md 3.8), so it has no column.
    return {
        "request_id": request_id,
        "priority": configuration.priority,
        "instrument_type": configuration.instrument_type,
        "type": configuration.type,
        "repeat_duration": configuration.repeat_duration,
        "instrument_name": configuration.instrument_name,
        "guide_camera_name": configuration.guide_camera_name,
        "target": _target_json(configuration.target),
        "constraints": STORE.unstructure(configuration.constraints),
        "acquisition_config": STORE.unstructure(configuration.acquisition_config),
        "guiding_config": STORE.unstructure(configuration.guiding_config),
        "instrument_configs": STORE.unstructure(list(configuration.instrument_configs), _INSTRUMENT_CONFIGS),
        "extra_params": configuration.extra_params,
    }


def _configuration(row: sa.Row[Any]) -> Configuration:
    return Configuration(
        instrument_type=row.instrument_type,
        type=row.type,
        instrument_configs=STORE.structure(row.instrument_configs, _INSTRUMENT_CONFIGS),
        target=STORE.structure(row.target, Target),
        constraints=STORE.structure(row.constraints, Constraints),
        acquisition_config=STORE.structure(row.acquisition_config, AcquisitionConfig),
        guiding_config=STORE.structure(row.guiding_config, GuidingConfig),
        repeat_duration=row.repeat_duration,
        extra_params=row.extra_params,
        priority=row.priority,
        instrument_name=row.instrument_name,
        guide_camera_name=row.guide_camera_name,
        id=row.id,
    )


def _request(row: sa.Row[Any], configurations: list[Configuration], windows: list[Window]) -> Request:
    location = None
    if row.location_telescope_class is not None:
        location = Location(
            row.location_telescope_class, row.location_site, row.location_enclosure, row.location_telescope
        )
    return Request(
        configurations,
        windows,
        location,
        observation_note=row.observation_note,
        optimization_type=row.optimization_type,
        acceptability_threshold=row.acceptability_threshold,
        configuration_repeats=row.configuration_repeats,
        extra_params=row.extra_params,
        id=row.id,
        duration=row.duration,
        state=row.state,
        suspend_until=row.suspend_until,
        created=row.created,
        modified=row.modified,
    )


def _request_group(row: sa.Row[Any], requests: list[Request]) -> RequestGroup:
    return RequestGroup(
        row.proposal,
        row.submitter,
        row.name,
        row.observation_type,
        row.operator,
        row.ipp_value,
        requests,
        id=row.id,
        state=row.state,
        created=row.created,
        modified=row.modified,
    )


# ---------------------------------------------------------------------------------------------------------
# Query clauses.


def visibility_conditions(
    visible: frozenset[str] | None, own_in: frozenset[str], own: str | None
) -> list[sa.ColumnElement[bool]]:
    """The visibility rule of RequestGroupQuery as conditions on the request-group table (observations share it)."""
    if visible is None:
        return []
    clauses: list[sa.ColumnElement[bool]] = [_groups.c.proposal.in_(sorted(visible))]
    if own is not None and own_in:
        clauses.append(sa.and_(_groups.c.proposal.in_(sorted(own_in)), _groups.c.submitter == own))
    return [sa.or_(*clauses)]


def _any_request(*conditions: sa.ColumnElement[bool]) -> sa.ColumnElement[bool]:
    return sa.exists().where(_requests.c.request_group_id == _groups.c.id, *conditions).correlate(_groups)


def _any_child(child: sa.Table, *conditions: sa.ColumnElement[bool]) -> sa.ColumnElement[bool]:
    """Some window or configuration of some request of the group meets the conditions."""
    return (
        sa.exists()
        .where(child.c.request_id == _requests.c.id, _requests.c.request_group_id == _groups.c.id, *conditions)
        .correlate(_groups)
    )


def _bounded(column: sa.ColumnElement[Any], after: datetime | None, before: datetime | None) -> list[Any]:
    found: list[sa.ColumnElement[bool]] = []
    if after is not None:
        found.append(column >= after)
    if before is not None:
        found.append(column <= before)
    return found


def _group_filters(q: RequestGroupQuery) -> list[sa.ColumnElement[bool]]:
    c = _groups.c
    found: list[sa.ColumnElement[bool]] = []
    if q.ids:
        found.append(c.id.in_(q.ids))
    if q.states:
        found.append(c.state.in_(q.states))
    if q.exclude_states:
        found.append(c.state.not_in(q.exclude_states))
    if q.proposal is not None:
        found.append(c.proposal == q.proposal)
    if q.name_contains is not None:
        found.append(c.name.icontains(q.name_contains, autoescape=True))
    if q.user_contains is not None:
        found.append(c.submitter.icontains(q.user_contains, autoescape=True))
    if q.submitter is not None:
        found.append(c.submitter == q.submitter)
    if q.observation_types:
        found.append(c.observation_type.in_(q.observation_types))
    if q.operator is not None:
        found.append(c.operator == q.operator)
    if q.ipp_value is not None:
        found.append(c.ipp_value == q.ipp_value)
    found.extend(_bounded(c.created, q.created_after, q.created_before))
    # Each bound on its own: one request may satisfy one bound and another request the other.
    found.extend(_any_request(bound) for bound in _bounded(_requests.c.modified, q.modified_after, q.modified_before))
    if q.telescope_classes:
        found.append(_any_request(_requests.c.location_telescope_class.in_(q.telescope_classes)))
    if q.target_contains is not None:
        name = _configurations.c.target["name"].as_string()
        found.append(_any_child(_configurations, name.icontains(q.target_contains, autoescape=True)))
    if q.request_id is not None:
        found.append(_any_request(_requests.c.id == q.request_id))
    starts = _bounded(_windows.c.start, q.window_starts_after, q.window_starts_before)
    if starts:
        # One window must meet both bounds.
        found.append(_any_child(_windows, *starts))
    found.extend(visibility_conditions(q.visible_proposals, q.own_in_proposals, q.own_submitter))
    return found


def ordered(expression: sa.ColumnElement[Any], descending: bool) -> sa.ColumnElement[Any]:
    # An unset value sorts as the largest, PostgreSQL's default, asked of SQLite too (the memory adapter agrees).
    return expression.desc().nulls_first() if descending else expression.asc().nulls_last()


def _group_order(order: Sequence[str], dialect: str) -> list[sa.ColumnElement[Any]]:
    latest_end = (
        sa.select(sa.func.max(_windows.c.end))
        .join(_requests, _windows.c.request_id == _requests.c.id)
        .where(_requests.c.request_group_id == _groups.c.id)
        .correlate(_groups)
        .scalar_subquery()
    )
    name: sa.ColumnElement[str] = _groups.c.name
    if dialect == "postgresql":
        # By code point, as in Python and SQLite, not by the cluster's locale.
        name = name.collate("C")
    expressions: Mapping[str, sa.ColumnElement[Any]] = {
        "id": _groups.c.id,
        "name": name,
        "modified": _groups.c.modified,
        "created": _groups.c.created,
        "end": latest_end,
    }
    clauses: list[sa.ColumnElement[Any]] = []
    for key in order:
        field = key.removeprefix("-")
        if field not in REQUEST_GROUP_ORDER_KEYS:
            raise ValueError(f"cannot order request groups by {key!r}")
        clauses.append(ordered(expressions[field], key.startswith("-")))
    clauses.append(_groups.c.id.desc())
    return clauses


def _request_order(order: Sequence[str]) -> list[sa.ColumnElement[Any]]:
    clauses: list[sa.ColumnElement[Any]] = []
    for key in order:
        field = key.removeprefix("-")
        if field not in REQUEST_ORDER_KEYS:
            raise ValueError(f"cannot order requests by {key!r}")
        clauses.append(ordered(_requests.c[field], key.startswith("-")))
    clauses.append(_requests.c.id.desc())
    return clauses


# ---------------------------------------------------------------------------------------------------------
# The repository.


class SqlAlchemyRequestGroupRepository(RequestGroupRepository):
    """Request groups as rows; the groups handed out are tracked until the session ends."""

    def __init__(self, session: orm.Session) -> None:
        self._session = session
        # One object per stored group in this unit of work (an identity map), with its state as last written.
        self._tracked: dict[int, RequestGroup] = {}
        self._written: dict[int, _Marks] = {}
        self.seen: list[RequestGroup] = []

    def add(self, group: RequestGroup) -> None:
        if group.id is not None:
            raise ValueError(f"request group {group.id} is already stored")
        group.id = self._session.execute(sa.insert(_groups).returning(_groups.c.id), _group_row(group)).scalar_one()
        request_ids = self._insert_ids(_requests, [_request_row(r, group.id) for r in group.requests])
        # Windows and configurations keep their order through their ids, which are assigned in row order.
        self._insert_ids(
            _windows,
            [
                {"request_id": request_id, "start": w.start, "end": w.end}
                for r, request_id in zip(group.requests, request_ids, strict=True)
                for w in r.windows
            ],
        )
        configuration_ids = iter(
            self._insert_ids(
                _configurations,
                [
                    _configuration_row(c, request_id)
                    for r, request_id in zip(group.requests, request_ids, strict=True)
                    for c in r.configurations
                ],
            )
        )
        for request, request_id in zip(group.requests, request_ids, strict=True):
            request.id = request_id
            request.configurations = [attrs.evolve(c, id=next(configuration_ids)) for c in request.configurations]
        self._track(group)

    def get(self, group_id: int, *, for_update: bool = False) -> RequestGroup | None:
        self.flush()
        if for_update:
            if self._dialect() == "sqlite":
                # No row locks in SQLite, and its driver begins a transaction at the first write: a write that
                # changes nothing takes the database's write lock now, so the group is read after the previous
                # writer committed (as the proposal repository does).
                self._session.execute(sa.update(_groups).where(_groups.c.id == group_id).values(name=_groups.c.name))
            statement = sa.select(_groups.c.id).where(_groups.c.id == group_id).with_for_update()
            if self._session.execute(statement).first() is None:
                return None
        found = self._load([group_id])
        return found[0] if found else None

    def containing_request(self, request_id: int, *, for_update: bool = False) -> RequestGroup | None:
        self.flush()
        statement = sa.select(_requests.c.request_group_id).where(_requests.c.id == request_id)
        group_id = self._session.execute(statement).scalar_one_or_none()
        return None if group_id is None else self.get(group_id, for_update=for_update)

    def search(self, query: RequestGroupQuery) -> tuple[int, list[RequestGroup]]:
        self.flush()
        conditions = _group_filters(query)
        count = self._session.execute(sa.select(sa.func.count()).select_from(_groups).where(*conditions)).scalar_one()
        ids = self._session.scalars(
            sa.select(_groups.c.id)
            .where(*conditions)
            .order_by(*_group_order(query.order, self._dialect()))
            .limit(query.limit)
            .offset(query.offset)
        ).all()
        return count, self._load(ids)

    def search_requests(self, query: RequestQuery) -> tuple[int, list[tuple[RequestGroup, Request]]]:
        self.flush()
        conditions = visibility_conditions(query.visible_proposals, query.own_in_proposals, query.own_submitter)
        if query.ids:
            conditions.append(_requests.c.id.in_(query.ids))
        if query.states:
            conditions.append(_requests.c.state.in_(query.states))
        if query.telescope_classes:
            conditions.append(_requests.c.location_telescope_class.in_(query.telescope_classes))
        joined = _requests.join(_groups, _groups.c.id == _requests.c.request_group_id)
        count = self._session.execute(sa.select(sa.func.count()).select_from(joined).where(*conditions)).scalar_one()
        rows = self._session.execute(
            sa.select(_requests.c.id, _requests.c.request_group_id)
            .select_from(joined)
            .where(*conditions)
            .order_by(*_request_order(query.order))
            .limit(query.limit)
            .offset(query.offset)
        ).all()
        groups = {group.id: group for group in self._load(list(dict.fromkeys(row.request_group_id for row in rows)))}
        return count, [(groups[row.request_group_id], groups[row.request_group_id].request(row.id)) for row in rows]

    def time_used(self, proposal_id: str, submitter: str, since: datetime) -> int:
        self.flush()
        statement = (
            sa.select(sa.func.coalesce(sa.func.sum(_requests.c.duration), 0))
            .select_from(_requests.join(_groups, _groups.c.id == _requests.c.request_group_id))
            .where(
                _groups.c.proposal == proposal_id,
                _groups.c.submitter == submitter,
                _groups.c.state.in_(_TIME_USED_STATES),
                _requests.c.state.in_(_TIME_USED_STATES),
                _requests.c.created >= since,
            )
        )
        return int(self._session.execute(statement).scalar_one())

    def flush(self) -> None:
        """Write the state changes of the tracked groups (the unit of work calls this before it commits)."""
        for group_id, group in self._tracked.items():
            now = _marks(group)
            before = self._written[group_id]
            if now == before:
                continue
            if now[:2] != before[:2]:
                self._session.execute(
                    sa.update(_groups).where(_groups.c.id == group_id).values(state=now[0], modified=now[1])
                )
            for request_id, (state, suspend_until, modified) in now[2].items():
                if before[2].get(request_id) != (state, suspend_until, modified):
                    self._session.execute(
                        sa.update(_requests)
                        .where(_requests.c.id == request_id)
                        .values(state=state, suspend_until=suspend_until, modified=modified)
                    )
            self._written[group_id] = now

    # --- internals -----------------------------------------------------------------------------------------------

    def _dialect(self) -> str:
        return self._session.get_bind().dialect.name

    def _insert_ids(self, table: sa.Table, rows: list[dict[str, Any]]) -> list[int]:
        """Insert the rows and return their new ids in the rows' order."""
        if not rows:
            return []
        statement = sa.insert(table).returning(table.c.id, sort_by_parameter_order=True)
        return list(self._session.scalars(statement, rows).all())

    def _track(self, group: RequestGroup) -> RequestGroup:
        assert group.id is not None  # noqa: S101 - stored groups have ids
        self._tracked[group.id] = group
        self._written[group.id] = _marks(group)
        self.seen.append(group)
        return group

    def _load(self, group_ids: Sequence[int]) -> list[RequestGroup]:
        """The groups with these ids that exist, in the order given; tracked ones as they are, others from rows."""
        missing = [group_id for group_id in group_ids if group_id not in self._tracked]
        if missing:
            for group in self._read(missing):
                self._track(group)
        return [self._tracked[group_id] for group_id in group_ids if group_id in self._tracked]

    def _read(self, group_ids: list[int]) -> Iterable[RequestGroup]:
        of_groups = sa.select(_requests.c.id).where(_requests.c.request_group_id.in_(group_ids))
        windows: dict[int, list[Window]] = {}
        for row in self._session.execute(
            sa.select(_windows).where(_windows.c.request_id.in_(of_groups)).order_by(_windows.c.id)
        ):
            windows.setdefault(row.request_id, []).append(Window(row.start, row.end))
        configurations: dict[int, list[Configuration]] = {}
        for row in self._session.execute(
            sa.select(_configurations).where(_configurations.c.request_id.in_(of_groups)).order_by(_configurations.c.id)
        ):
            configurations.setdefault(row.request_id, []).append(_configuration(row))
        requests: dict[int, list[Request]] = {}
        for row in self._session.execute(
            sa.select(_requests).where(_requests.c.request_group_id.in_(group_ids)).order_by(_requests.c.id)
        ):
            request = _request(row, configurations.get(row.id, []), windows.get(row.id, []))
            requests.setdefault(row.request_group_id, []).append(request)
        for row in self._session.execute(sa.select(_groups).where(_groups.c.id.in_(group_ids))):
            yield _request_group(row, requests.get(row.id, []))
