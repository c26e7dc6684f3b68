"""SQLAlchemy storage of observations: rows in, domain objects out, what the verbs change written back on flush.

Stored as request groups are (see request_groups.py) rather than mapped: a status's summary is a frozen value object
kept in nullable columns of the status row, which a mapping could only build through hooks on the domain class, and
the lists filter through the request-group tables that this module joins as plain tables. So this repository
inserts a new observation as rows, builds domain objects from rows when reading, and remembers what it handed out;
``flush`` (run by the unit of work's commit, and before every read so reads see this unit of work's own changes)
writes back what changed: the observation's state, times, priority and modified time, and per status its state,
summary, charge and modified time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

import attrs
import sqlalchemy as sa
from sqlalchemy import orm

from adapters.sqlalchemy import tables
from adapters.sqlalchemy.request_groups import ordered, visibility_conditions
from application.ports import OBSERVATION_ORDER_KEYS, ObservationQuery, ObservationRepository, StatusQuery
from domain.observations import ConfigurationStatus, Observation, ObservationState, StatusState, Summary

_observations = tables.observations
_statuses = tables.configuration_statuses
_requests = tables.requests
_groups = tables.request_groups
_configurations = tables.configurations

# What may change in a stored observation: its state, times, priority and modified time, and per status id its
# state, summary, charge and modified time.
_StatusMarks = tuple[StatusState, Summary | None, float, datetime | None]
_Marks = tuple[ObservationState, datetime, datetime, int, datetime | None, dict[int, _StatusMarks]]


def _marks(observation: Observation) -> _Marks:
    statuses = {
        s.id: (s.state, s.summary, s.time_charged, s.modified)
        for s in observation.configuration_statuses
        if s.id is not None
    }
    return (
        observation.state,
        observation.start,
        observation.end,
        observation.priority,
        observation.modified,
        statuses,
    )


# ---------------------------------------------------------------------------------------------------------
# Domain objects to rows and back.


def _observation_row(observation: Observation) -> dict[str, Any]:
    return {
        "request_id": observation.request_id,
        "site": observation.site,
        "enclosure": observation.enclosure,
        "telescope": observation.telescope,
        "start": observation.start,
        "end": observation.end,
        "priority": observation.priority,
        "state": observation.state,
        "created": observation.created,
        "modified": observation.modified,
    }


def _summary_columns(summary: Summary | None) -> dict[str, Any]:
    if summary is None:
        return {
            "summary_start": None,
            "summary_end": None,
            "summary_state": None,
            "summary_reason": None,
            "summary_time_completed_s": None,
            "summary_events": None,
        }
    return {
        "summary_start": summary.start,
        "summary_end": summary.end,
        "summary_state": summary.state,
        "summary_reason": summary.reason,
        "summary_time_completed_s": summary.time_completed,
        "summary_events": summary.events,
    }


def _status_row(status: ConfigurationStatus, observation_id: int) -> dict[str, Any]:
    return {
        "observation_id": observation_id,
        "configuration_id": status.configuration_id,
        "instrument_name": status.instrument_name,
        "guide_camera_name": status.guide_camera_name,
        "state": status.state,
        "time_charged_h": status.time_charged,
        "modified": status.modified,
        **_summary_columns(status.summary),
    }


def _summary(row: sa.Row[Any]) -> Summary | None:
    if row.summary_start is None:
        return None
    return Summary(
        row.summary_start,
        row.summary_end,
        row.summary_state,
        row.summary_time_completed_s,
        row.summary_reason,
        row.summary_events,
    )


def _status(row: sa.Row[Any]) -> ConfigurationStatus:
    return ConfigurationStatus(
        row.configuration_id,
        row.instrument_name,
        row.guide_camera_name,
        state=row.state,
        summary=_summary(row),
        time_charged=row.time_charged_h,
        id=row.id,
        modified=row.modified,
    )


def _observation(row: sa.Row[Any], statuses: list[ConfigurationStatus]) -> Observation:
    return Observation(
        row.request_id,
        row.site,
        row.enclosure,
        row.telescope,
        row.start,
        row.end,
        statuses,
        row.priority,
        state=row.state,
        id=row.id,
        created=row.created,
        modified=row.modified,
    )


def _copy_fields(source: Any, target: Any, skip: frozenset[str] = frozenset()) -> None:
    for field in attrs.fields(type(source)):
        if field.init and field.name not in skip:
            setattr(target, field.name, getattr(source, field.name))


def _refresh(held: Observation, loaded: Observation) -> None:
    """Give ``held`` the stored state that ``loaded`` (read afresh) carries, in place: whoever holds the observation
    or one of its statuses sees what the lock protects. Its unread events stay."""
    held_statuses = {s.id: s for s in held.configuration_statuses}
    statuses: list[ConfigurationStatus] = []
    for status in loaded.configuration_statuses:
        same = held_statuses.get(status.id)
        if same is None:
            statuses.append(status)
            continue
        _copy_fields(status, same)
        statuses.append(same)
    _copy_fields(loaded, held, skip=frozenset({"configuration_statuses"}))
    held.configuration_statuses = statuses


# ---------------------------------------------------------------------------------------------------------
# Query clauses.


def _half_open(column: sa.ColumnElement[Any], after: datetime | None, before: datetime | None) -> list[Any]:
    """``after <= column < before`` for the bounds given (api.md 6)."""
    found: list[sa.ColumnElement[bool]] = []
    if after is not None:
        found.append(column >= after)
    if before is not None:
        found.append(column < before)
    return found


def _any_configuration(column: sa.ColumnElement[str], wanted: Iterable[str]) -> sa.ColumnElement[bool]:
    """Some configuration of the observation's request has one of these values, compared case-insensitively."""
    lowered = sorted({value.lower() for value in wanted})
    return (
        sa.exists()
        .where(_configurations.c.request_id == _observations.c.request_id, sa.func.lower(column).in_(lowered))
        .correlate(_observations)
    )


def _needs_request(q: ObservationQuery) -> bool:
    """Whether a filter reads the observation's request or group (only then are their tables joined)."""
    return bool(
        q.request_group_ids
        or q.observation_types
        or q.request_states
        or q.proposal is not None
        or q.submitter is not None
        or q.visible_proposals is not None
    )


def _observation_filters(q: ObservationQuery) -> list[sa.ColumnElement[bool]]:
    c = _observations.c
    found: list[sa.ColumnElement[bool]] = []
    if q.ids:
        found.append(c.id.in_(q.ids))
    for wanted, column in ((q.sites, c.site), (q.enclosures, c.enclosure), (q.telescopes, c.telescope)):
        if wanted:
            found.append(column.in_(wanted))
    found.extend(_half_open(c.start, q.start_after, q.start_before))
    found.extend(_half_open(c.end, q.end_after, q.end_before))
    found.extend(_half_open(c.modified, q.modified_after, None))
    found.extend(_half_open(c.created, q.created_after, q.created_before))
    if q.request_ids:
        found.append(c.request_id.in_(q.request_ids))
    if q.request_group_ids:
        found.append(_requests.c.request_group_id.in_(q.request_group_ids))
    if q.states:
        found.append(c.state.in_(q.states))
    if q.priority is not None:
        found.append(c.priority == q.priority)
    if q.observation_types:
        found.append(_groups.c.observation_type.in_(q.observation_types))
    if q.request_states:
        found.append(_requests.c.state.in_(q.request_states))
    if q.proposal is not None:
        found.append(_groups.c.proposal == q.proposal)
    if q.submitter is not None:
        found.append(_groups.c.submitter == q.submitter)
    if q.instrument_types:
        found.append(_any_configuration(_configurations.c.instrument_type, q.instrument_types))
    if q.configuration_types:
        found.append(_any_configuration(_configurations.c.type, q.configuration_types))
    found.extend(visibility_conditions(q.visible_proposals, q.own_in_proposals, q.own_submitter))
    return found


def _observation_order(order: Sequence[str], dialect: str) -> list[sa.ColumnElement[Any]]:
    state: sa.ColumnElement[Any] = _observations.c.state
    if dialect == "postgresql":
        # By code point, as in Python and SQLite, not by the cluster's locale.
        state = state.collate("C")
    expressions: Mapping[str, sa.ColumnElement[Any]] = {
        "id": _observations.c.id,
        "start": _observations.c.start,
        "end": _observations.c.end,
        "modified": _observations.c.modified,
        "created": _observations.c.created,
        "state": state,
    }
    clauses: list[sa.ColumnElement[Any]] = []
    for key in order:
        field = key.removeprefix("-")
        if field not in OBSERVATION_ORDER_KEYS:
            raise ValueError(f"cannot order observations by {key!r}")
        clauses.append(ordered(expressions[field], key.startswith("-")))
    clauses.append(_observations.c.id.desc())
    return clauses


def _status_filters(q: StatusQuery) -> list[sa.ColumnElement[bool]]:
    c = _statuses.c
    found: list[sa.ColumnElement[bool]] = []
    if q.instrument_names:
        found.append(c.instrument_name.in_(q.instrument_names))
    if q.guide_camera_names:
        found.append(c.guide_camera_name.in_(q.guide_camera_names))
    if q.states:
        found.append(c.state.in_(q.states))
    if q.sites:
        found.append(_observations.c.site.in_(q.sites))
    return found


# ---------------------------------------------------------------------------------------------------------
# The repository.


def _nothing() -> None:
    return None


class SqlAlchemyObservationRepository(ObservationRepository):
    """Observations as rows; the observations handed out are tracked until the session ends."""

    def __init__(self, session: orm.Session, *, before_reads: Callable[[], None] = _nothing) -> None:
        self._session = session
        # Writes the pending changes of the request groups, whose states the filters read (the unit of work passes
        # its request-group repository's flush), so a search sees everything this unit of work changed.
        self._before_reads = before_reads
        # One object per stored observation in this unit of work (an identity map), with its state as last written.
        self._tracked: dict[int, Observation] = {}
        self._written: dict[int, _Marks] = {}
        # Deleted observations stay here: their events must still reach the bus.
        self.seen: list[Observation] = []
        self._seen_ids: set[int] = set()

    def add(self, observation: Observation) -> None:
        if observation.id is not None:
            raise ValueError(f"observation {observation.id} is already stored")
        observation_id = self._session.execute(
            sa.insert(_observations).returning(_observations.c.id), _observation_row(observation)
        ).scalar_one()
        statuses = observation.configuration_statuses
        status_ids = _insert_ids(self._session, _statuses, [_status_row(s, observation_id) for s in statuses])
        observation.id = observation_id
        for status, status_id in zip(statuses, status_ids, strict=True):
            status.id = status_id
        self._track(observation)

    # The getters write only what the re-read of a locking read would otherwise overwrite: what they select by
    # (ids, request ids, status ids) never changes, so a full flush before each would only cost time, quadratic
    # time when a handler locks the observations of a list one by one.

    def get(self, observation_id: int, *, for_update: bool = False) -> Observation | None:
        if not for_update:
            found = self._load([observation_id])
        else:
            self._write([observation_id])
            found = self._load(self._lock(_observations.c.id == observation_id), fresh=True)
        return found[0] if found else None

    def containing_status(self, status_id: int) -> Observation | None:
        statement = sa.select(_statuses.c.observation_id).where(_statuses.c.id == status_id)
        observation_id = self._session.execute(statement).scalar_one_or_none()
        return None if observation_id is None else self.get(observation_id)

    def for_request(self, request_id: int, *, for_update: bool = False) -> list[Observation]:
        condition = _observations.c.request_id == request_id
        if for_update:
            self._write([i for i, o in self._tracked.items() if o.request_id == request_id])
            return self._load(self._lock(condition), fresh=True)
        statement = sa.select(_observations.c.id).where(condition).order_by(_observations.c.id)
        return self._load(self._session.scalars(statement).all())

    def delete(self, observation: Observation) -> None:
        assert observation.id is not None  # noqa: S101 - only stored observations can be deleted
        # The foreign key cascades too; deleting explicitly keeps SQLite correct even with it switched off.
        self._session.execute(sa.delete(_statuses).where(_statuses.c.observation_id == observation.id))
        self._session.execute(sa.delete(_observations).where(_observations.c.id == observation.id))
        self._tracked.pop(observation.id, None)
        self._written.pop(observation.id, None)
        self._remember(observation)

    def search(self, query: ObservationQuery) -> tuple[int, list[Observation]]:
        order = _observation_order(query.order, self._dialect())
        self._prepare_read()
        conditions = _observation_filters(query)
        source: sa.FromClause = _observations
        if _needs_request(query):
            source = _observations.join(_requests, _requests.c.id == _observations.c.request_id).join(
                _groups, _groups.c.id == _requests.c.request_group_id
            )
        count = self._session.execute(sa.select(sa.func.count()).select_from(source).where(*conditions)).scalar_one()
        ids = self._session.scalars(
            sa.select(_observations.c.id)
            .select_from(source)
            .where(*conditions)
            .order_by(*order)
            .limit(query.limit)
            .offset(query.offset)
        ).all()
        return count, self._load(ids)

    def search_statuses(self, query: StatusQuery) -> tuple[int, list[tuple[Observation, ConfigurationStatus]]]:
        self._prepare_read()
        conditions = _status_filters(query)
        joined = _statuses.join(_observations, _observations.c.id == _statuses.c.observation_id)
        count = self._session.execute(sa.select(sa.func.count()).select_from(joined).where(*conditions)).scalar_one()
        rows = self._session.execute(
            sa.select(_statuses.c.id, _statuses.c.observation_id)
            .select_from(joined)
            .where(*conditions)
            .order_by(_statuses.c.id.desc())
            .limit(query.limit)
            .offset(query.offset)
        ).all()
        loaded = self._load(list(dict.fromkeys(row.observation_id for row in rows)))
        observations = {observation.id: observation for observation in loaded}
        return count, [
            (observations[row.observation_id], observations[row.observation_id].status(row.id)) for row in rows
        ]

    def flush(self) -> None:
        """Write what the verbs changed in the tracked observations (the unit of work calls this before it commits)."""
        self._write(list(self._tracked))

    # --- internals -----------------------------------------------------------------------------------------------

    def _write(self, observation_ids: Iterable[int]) -> None:
        """Write what changed in these tracked observations since they were read or last written."""
        for observation_id in observation_ids:
            observation = self._tracked.get(observation_id)
            if observation is None:
                continue
            now = _marks(observation)
            before = self._written[observation_id]
            if now == before:
                continue
            if now[:5] != before[:5]:
                state, start, end, priority, modified, _ = now
                self._session.execute(
                    sa.update(_observations)
                    .where(_observations.c.id == observation_id)
                    .values(state=state, start=start, end=end, priority=priority, modified=modified)
                )
            for status_id, marks in now[5].items():
                if before[5].get(status_id) == marks:
                    continue
                status_state, summary, time_charged, status_modified = marks
                self._session.execute(
                    sa.update(_statuses)
                    .where(_statuses.c.id == status_id)
                    .values(
                        state=status_state,
                        time_charged_h=time_charged,
                        modified=status_modified,
                        **_summary_columns(summary),
                    )
                )
            self._written[observation_id] = now

    def _prepare_read(self) -> None:
        """Before a search: write this unit of work's pending changes, which its filters may read."""
        self._before_reads()
        self.flush()

    def _dialect(self) -> str:
        return self._session.get_bind().dialect.name

    def _lock(self, condition: sa.ColumnElement[bool]) -> list[int]:
        """Lock the observations meeting the condition until commit, where the database can; their ids by id."""
        if self._dialect() == "sqlite":
            # SQLite has no row locks, and its driver starts a transaction only at the first write: a write that
            # changes nothing takes the database's write lock now, so writers queue here (busy timeout) and every
            # read after it sees what the previous writer committed. It writes a plain column, not the key, so
            # SQLite has no children to check against the key.
            self._session.execute(sa.update(_observations).where(condition).values(priority=_observations.c.priority))
        statement = sa.select(_observations.c.id).where(condition).order_by(_observations.c.id).with_for_update()
        return list(self._session.scalars(statement).all())

    def _remember(self, observation: Observation) -> None:
        if id(observation) not in self._seen_ids:
            self._seen_ids.add(id(observation))
            self.seen.append(observation)

    def _track(self, observation: Observation) -> Observation:
        assert observation.id is not None  # noqa: S101 - stored observations have ids
        self._tracked[observation.id] = observation
        self._written[observation.id] = _marks(observation)
        self._remember(observation)
        return observation

    def _load(self, observation_ids: Sequence[int], *, fresh: bool = False) -> list[Observation]:
        """The observations with these ids that exist, in the order given; tracked ones as they are (or refreshed
        in place when ``fresh``), others from rows."""
        wanted = list(observation_ids) if fresh else [i for i in observation_ids if i not in self._tracked]
        found: set[int] = set()
        if wanted:
            for loaded in self._read(wanted):
                assert loaded.id is not None  # noqa: S101 - read from rows
                found.add(loaded.id)
                held = self._tracked.get(loaded.id)
                if held is None:
                    self._track(loaded)
                else:
                    _refresh(held, loaded)
                    self._written[loaded.id] = _marks(held)
        if fresh:
            return [self._tracked[i] for i in observation_ids if i in found]
        return [self._tracked[i] for i in observation_ids if i in self._tracked]

    def _read(self, observation_ids: list[int]) -> Iterable[Observation]:
        statuses: dict[int, list[ConfigurationStatus]] = {}
        for row in self._session.execute(
            sa.select(_statuses).where(_statuses.c.observation_id.in_(observation_ids)).order_by(_statuses.c.id)
        ):
            statuses.setdefault(row.observation_id, []).append(_status(row))
        for row in self._session.execute(sa.select(_observations).where(_observations.c.id.in_(observation_ids))):
            yield _observation(row, statuses.get(row.id, []))


def _insert_ids(session: orm.Session, table: sa.Table, rows: list[dict[str, Any]]) -> list[int]:
    """Insert the rows and return their new ids in the rows' order."""
    if not rows:
        return []
    statement = sa.insert(table).returning(table.c.id, sort_by_parameter_order=True)
    return list(session.scalars(statement, rows).all())
