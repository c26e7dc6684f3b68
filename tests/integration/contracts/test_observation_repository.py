"""Contract of ObservationRepository: the observation with its statuses and summaries stored whole, changes by the
verbs kept on commit only, deletion, locking reads that see the latest commit, events collected once, and every
filter, order, visibility clause and page of the observation and status lists."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import attrs
import pytest
import sqlalchemy as sa

from application.ports import ObservationQuery, StatusQuery, UnitOfWork
from domain.observations import (
    ConfigurationStatus,
    Disposal,
    Observation,
    ObservationsScheduled,
    ObservationState,
    ObservationStateChanged,
    StatusState,
    Summary,
)
from domain.requestgroups import ObservationType, Operator, Request, RequestGroup, RequestState
from tests.integration.conftest import BACKENDS, Backend, open_backend
from tests.integration.contracts.request_builders import FLOYDS, SINISTRO, T0, configuration, days, group, request
from tests.integration.contracts.test_request_group_repository import add, add_proposals, as_data

UowFactory = Callable[[], UnitOfWork]

PENDING, IN_PROGRESS, COMPLETED = ObservationState.PENDING, ObservationState.IN_PROGRESS, ObservationState.COMPLETED
FAILED, CANCELED, ABORTED = ObservationState.FAILED, ObservationState.CANCELED, ObservationState.ABORTED
BAD_DATA = ObservationState.BAD_DATA
NESTED_EVENTS = {"a": {"b": [1, 2.5, "x", None, True]}, "ünïcode": "ok", "empty": {}}


@pytest.fixture
def uow_factory(uow_factory: UowFactory) -> UowFactory:
    """The store with the proposals that request groups refer to."""
    add_proposals(uow_factory)
    return uow_factory


def stored_group(uow_factory: UowFactory, *requests: Request, **fields: Any) -> RequestGroup:
    """A group stored and committed: its request and configuration ids are set."""
    item = group(*requests, **fields)
    add(uow_factory, item)
    return item


def observation(
    on: Request,
    *,
    site: str = "lsc",
    enclosure: str = "doma",
    telescope: str = "1m0a",
    start: float = 1.0,
    hours: float = 1.0,
    instruments: Sequence[tuple[str, str]] = (),
    repeats: int = 1,
    priority: int = 10,
    now: datetime = T0,
) -> Observation:
    """A PENDING observation of the request, ``start`` days from T0, with one status per configuration and repeat
    (instrument and guide camera names taken in turn from ``instruments``, fa12 guiding itself by default)."""
    configurations = list(on.configurations) * repeats
    names = list(instruments) or [("fa12", "fa12")] * len(configurations)
    statuses = [
        ConfigurationStatus(c.id or 0, name, guider) for c, (name, guider) in zip(configurations, names, strict=True)
    ]
    begin = days(start)
    return Observation.schedule(
        request_id=on.id or 0,
        site=site,
        enclosure=enclosure,
        telescope=telescope,
        start=begin,
        end=begin + timedelta(hours=hours),
        statuses=statuses,
        now=now,
        priority=priority,
    )


def summary(start: float, seconds: float, state: str = "COMPLETED", **more: Any) -> Summary:
    begin = days(start)
    return Summary(begin, begin + timedelta(seconds=seconds), state, more.pop("time_completed", seconds), **more)


def store(uow_factory: UowFactory, *observations: Observation) -> list[int]:
    with uow_factory() as uow:
        for item in observations:
            uow.observations.add(item)
        uow.commit()
    return [item.id for item in observations if item.id is not None]


def load(uow_factory: UowFactory, observation_id: int) -> Observation:
    with uow_factory() as uow:
        loaded = uow.observations.get(observation_id)
    assert loaded is not None
    return loaded


def report(item: Observation, index: int, state: StatusState | None, found: Summary | None, at: float) -> None:
    item.report(item.configuration_statuses[index], state=state, summary=found, now=days(at))


# ---------------------------------------------------------------------------------------------------------
# Storage of the aggregate.


def rich_observation(on: Request) -> Observation:
    """Four statuses (two configurations, repeated), away from every default: summaries with and without events,
    a charge, a failure, guide cameras set and empty, a priority, times with microseconds."""
    item = observation(
        on,
        site="ogg",
        enclosure="clma",
        telescope="2m0a",
        start=1.25,
        hours=3,
        instruments=[("fa12", "fa12"), ("floyds01", ""), ("fa12", "fa12"), ("floyds01", "kb42")],
        repeats=2,
        priority=25,
        now=days(0.5),
    )
    report(item, 0, StatusState.COMPLETED, summary(1.25, 100, events=NESTED_EVENTS, time_completed=99.5), 1.3)
    item.charge(item.configuration_statuses[0], 0.123456789)
    report(item, 1, StatusState.ATTEMPTED, None, 1.31)
    report(item, 2, StatusState.FAILED, summary(1.3, 50, "FAILED", reason="Weather", time_completed=0.0), 1.32)
    return item


def test_a_stored_observation_comes_back_with_every_field(uow_factory: UowFactory) -> None:
    item = stored_group(uow_factory, request(configuration("M31"), configuration("M33", FLOYDS)))
    original = rich_observation(item.requests[0])
    assert original.state is FAILED
    [observation_id] = store(uow_factory, original)
    expected = as_data(original)

    with uow_factory() as uow:
        loaded = uow.observations.get(observation_id)
        assert loaded is not None
        status_id = loaded.configuration_statuses[3].id
        assert status_id is not None
        by_status = uow.observations.containing_status(status_id)
        by_request = uow.observations.for_request(item.requests[0].id or 0)

    for found in (loaded, by_status, *by_request):
        assert found is not None
        assert as_data(found) == expected
    assert loaded.events == []
    assert loaded is not original
    # Types, not just equal values: the domain compares states by identity and times must be aware UTC.
    assert type(loaded.state) is ObservationState
    assert [type(s.state) for s in loaded.configuration_statuses] == [StatusState] * 4
    assert isinstance(loaded.configuration_statuses, list)
    completed, attempted, failed, pending = loaded.configuration_statuses
    assert completed.summary is not None
    assert failed.summary is not None
    assert attempted.summary is None
    assert pending.summary is None
    assert completed.summary.events == NESTED_EVENTS
    assert isinstance(completed.summary.events, dict)
    assert failed.summary.events == {}
    assert (failed.summary.reason, failed.summary.state, failed.summary.time_completed) == ("Weather", "FAILED", 0)
    assert completed.time_charged == 0.123456789
    assert [s.guide_camera_name for s in loaded.configuration_statuses] == ["fa12", "", "fa12", "kb42"]
    moments = [loaded.start, loaded.end, loaded.created, loaded.modified]
    moments += [s.modified for s in loaded.configuration_statuses]
    moments += [completed.summary.start, completed.summary.end, failed.summary.start, failed.summary.end]
    assert all(moment is not None and moment.utcoffset() == timedelta(0) for moment in moments)
    assert loaded.start == days(1.25)
    assert loaded.start.microsecond == T0.microsecond


def test_add_assigns_ids_to_the_observation_and_its_statuses(uow_factory: UowFactory) -> None:
    item = stored_group(uow_factory, request(configuration("M31"), configuration("M33")))
    first = observation(item.requests[0], repeats=2)
    second = observation(item.requests[0], start=2)
    with uow_factory() as uow:
        uow.observations.add(first)
        uow.observations.add(second)
        # Set once add returns: the POST answers with them right after commit.
        status_ids = [s.id for o in (first, second) for s in o.configuration_statuses]
        observation_ids = [first.id, second.id]
        uow.commit()
    assert None not in observation_ids
    assert len(set(observation_ids)) == 2
    assert None not in status_ids
    assert len(set(status_ids)) == 6
    assert first.id is not None
    loaded = load(uow_factory, first.id)
    assert [s.id for s in loaded.configuration_statuses] == status_ids[:4]
    assert [s.configuration_id for s in loaded.configuration_statuses] == [
        c.id for c in item.requests[0].configurations * 2
    ]


def test_an_observation_cannot_be_added_twice(uow_factory: UowFactory) -> None:
    item = stored_group(uow_factory)
    added = observation(item.requests[0])
    store(uow_factory, added)
    with uow_factory() as uow, pytest.raises(ValueError, match="already stored"):
        uow.observations.add(added)


def test_the_getters_find_one_object_per_observation_or_nothing(uow_factory: UowFactory) -> None:
    item = stored_group(uow_factory, request(), request(), operator=Operator.MANY)
    first_request, second_request = item.requests
    later, other, earlier = (
        observation(first_request, start=3),
        observation(second_request),
        observation(first_request, start=1),
    )
    later_id, _, earlier_id = store(uow_factory, later, other, earlier)
    status_id = later.configuration_statuses[0].id or 0
    with uow_factory() as uow:
        found = uow.observations.get(later_id)
        assert found is not None
        assert found.start == days(3)
        # One object per observation in a unit of work, however it was reached.
        assert uow.observations.containing_status(status_id) is found
        assert uow.observations.get(later_id, for_update=True) is found
        assert uow.observations.search(ObservationQuery(ids=(later_id,)))[1] == [found]
        # Statuses newest first: the later observation's, stored first, comes last.
        assert uow.observations.search_statuses(StatusQuery())[1][-1] == (found, found.configuration_statuses[0])
        # Ordered by id, not by start.
        by_request = uow.observations.for_request(first_request.id or 0)
        assert [o.id for o in by_request] == [later_id, earlier_id]
        assert by_request[0] is found
        assert uow.observations.for_request(first_request.id or 0, for_update=True) == by_request
        assert uow.observations.get(10_000) is None
        assert uow.observations.get(10_000, for_update=True) is None
        assert uow.observations.containing_status(10_000) is None
        assert uow.observations.for_request(10_000) == []
        assert uow.observations.for_request(10_000, for_update=True) == []


# ---------------------------------------------------------------------------------------------------------
# Changes by the verbs, rollback, deletion.


def test_changes_by_the_verbs_are_stored_on_commit(uow_factory: UowFactory) -> None:
    item = stored_group(uow_factory, request(configuration("M31"), configuration("M33")))
    on = item.requests[0]
    reported, bad, canceled, aborted = (
        observation(on, start=1),
        observation(on, start=2),
        observation(on, start=3),
        observation(on, start=0.5, hours=24),
    )
    ids = store(uow_factory, reported, bad, canceled, aborted)
    changed: list[Observation] = []
    with uow_factory() as uow:
        loaded = [uow.observations.get(observation_id) for observation_id in ids]
        first, second, third, fourth = (o for o in loaded if o is not None)
        report(first, 0, StatusState.COMPLETED, summary(1, 30), 1.1)
        first.charge(first.configuration_statuses[0], 0.25)
        # A second report replaces the summary (an upsert) and a later charge replaces the first.
        report(first, 0, None, summary(1, 45, events={"seeing": "1.2"}), 1.2)
        assert first.charge(first.configuration_statuses[0], 0.5) == 0.25
        report(first, 1, StatusState.FAILED, summary(1.05, 10, "FAILED", reason="Dome closed"), 1.3)
        first.end = days(1.5)
        report(second, 0, StatusState.COMPLETED, summary(2, 30), 2.1)
        report(second, 1, StatusState.COMPLETED, summary(2.1, 30), 2.2)
        second.charge(second.configuration_statuses[1], 0.75)
        assert second.mark_bad_data(days(2.5), statuses_too=True) == {on.configurations[1].id: 0.75}
        assert third.cancel(days(1)) is Disposal.CANCEL
        assert fourth.cancel(days(1)) is Disposal.ABORT
        changed = [first, second, third, fourth]
        uow.commit()

    assert [o.state for o in changed] == [FAILED, BAD_DATA, CANCELED, ABORTED]
    for expected in changed:
        stored = load(uow_factory, expected.id or 0)
        assert as_data(stored) == as_data(expected)
    stored = load(uow_factory, ids[0])
    assert stored.end == days(1.5)
    assert stored.modified == days(1.3)
    completed = stored.configuration_statuses[0]
    assert completed.summary == summary(1, 45, events={"seeing": "1.2"})
    assert completed.time_charged == 0.5
    assert completed.modified == days(1.2)
    stored = load(uow_factory, ids[1])
    assert [s.state for s in stored.configuration_statuses] == [StatusState.BAD_DATA] * 2
    assert [s.time_charged for s in stored.configuration_statuses] == [0.0, 0.0]


def test_a_charge_alone_is_stored(uow_factory: UowFactory) -> None:
    # A correction of a charge changes nothing but the status's hours (no state, no modified time).
    item = stored_group(uow_factory, request(configuration("M31"), configuration("M33")))
    [observation_id] = store(uow_factory, observation(item.requests[0]))
    with uow_factory() as uow:
        loaded = uow.observations.get(observation_id)
        assert loaded is not None
        assert loaded.charge(loaded.configuration_statuses[1], 0.3) == 0.3
        uow.commit()
    assert [s.time_charged for s in load(uow_factory, observation_id).configuration_statuses] == [0.0, 0.3]


def test_changes_are_discarded_on_rollback_and_without_commit(uow_factory: UowFactory) -> None:
    item = stored_group(uow_factory)
    [observation_id] = store(uow_factory, observation(item.requests[0]))
    with uow_factory() as uow:
        loaded = uow.observations.get(observation_id)
        assert loaded is not None
        report(loaded, 0, StatusState.COMPLETED, summary(1, 30), 1.1)
        loaded.charge(loaded.configuration_statuses[0], 1.0)
        uow.rollback()
        again = uow.observations.get(observation_id)
        assert again is not None
        assert again.state is PENDING
        assert again.configuration_statuses[0].summary is None
        uow.commit()
    with uow_factory() as uow:
        loaded = uow.observations.get(observation_id)
        assert loaded is not None
        report(loaded, 0, StatusState.ATTEMPTED, None, 1.1)
        loaded.end = days(3)
        uow.observations.add(observation(item.requests[0], start=5))
    stored = load(uow_factory, observation_id)
    assert stored.state is PENDING
    assert stored.configuration_statuses[0].state is StatusState.PENDING
    assert stored.end == days(1) + timedelta(hours=1)
    assert stored.modified == T0
    with uow_factory() as uow:
        assert uow.observations.search(ObservationQuery())[0] == 1
        assert uow.observations.search_statuses(StatusQuery())[0] == 1


def test_delete_removes_the_observation_and_its_statuses(uow_factory: UowFactory) -> None:
    item = stored_group(uow_factory, request(configuration("M31"), configuration("M33")))
    kept, deleted = observation(item.requests[0], start=1), observation(item.requests[0], start=5)
    kept_id, deleted_id = store(uow_factory, kept, deleted)
    deleted_status = deleted.configuration_statuses[0].id or 0
    with uow_factory() as uow:
        loaded = uow.observations.get(deleted_id)
        assert loaded is not None
        uow.observations.delete(loaded)
        assert uow.observations.get(deleted_id) is None
        # Deletion is not stored before commit: leaving without it keeps the observation.
    assert load(uow_factory, deleted_id).id == deleted_id
    with uow_factory() as uow:
        loaded = uow.observations.get(deleted_id)
        assert loaded is not None
        uow.observations.delete(loaded)
        assert uow.observations.get(deleted_id) is None
        assert uow.observations.containing_status(deleted_status) is None
        assert [o.id for o in uow.observations.for_request(item.requests[0].id or 0)] == [kept_id]
        assert uow.observations.search(ObservationQuery())[0] == 1
        uow.commit()
    with uow_factory() as uow:
        assert uow.observations.get(deleted_id) is None
        assert uow.observations.containing_status(deleted_status) is None
        count, page = uow.observations.search_statuses(StatusQuery())
        assert count == 2
        assert {o.id for o, _ in page} == {kept_id}


def test_an_observation_added_and_deleted_in_one_unit_of_work_leaves_nothing(uow_factory: UowFactory) -> None:
    item = stored_group(uow_factory)
    with uow_factory() as uow:
        added = observation(item.requests[0])
        uow.observations.add(added)
        uow.observations.delete(added)
        uow.commit()
    with uow_factory() as uow:
        assert uow.observations.search(ObservationQuery()) == (0, [])
        assert uow.observations.search_statuses(StatusQuery()) == (0, [])


def test_reads_in_a_unit_of_work_see_its_own_uncommitted_changes(uow_factory: UowFactory) -> None:
    item = stored_group(uow_factory)
    [observation_id] = store(uow_factory, observation(item.requests[0]))
    with uow_factory() as uow:
        loaded = uow.observations.get(observation_id)
        loaded_group = uow.request_groups.get(item.id or 0)
        assert loaded is not None
        assert loaded_group is not None
        report(loaded, 0, StatusState.ATTEMPTED, None, 1.1)
        loaded_group.complete_request(loaded_group.requests[0], days(1.2))
        query = ObservationQuery(states=(IN_PROGRESS,), request_states=(RequestState.COMPLETED,))
        assert uow.observations.search(query) == (1, [loaded])
        statuses = StatusQuery(states=(StatusState.ATTEMPTED,))
        assert uow.observations.search_statuses(statuses) == (1, [(loaded, loaded.configuration_statuses[0])])
        added = observation(item.requests[0], start=2)
        uow.observations.add(added)
        assert uow.observations.search(ObservationQuery(states=(PENDING,))) == (1, [added])


# ---------------------------------------------------------------------------------------------------------
# Locking reads.


def test_a_locking_read_keeps_the_changes_this_unit_of_work_made(uow_factory: UowFactory) -> None:
    item = stored_group(uow_factory)
    request_id = item.requests[0].id or 0
    first_id, second_id = store(uow_factory, observation(item.requests[0]), observation(item.requests[0], start=2))
    with uow_factory() as uow:
        first, second = uow.observations.get(first_id), uow.observations.get(second_id)
        assert first is not None
        assert second is not None
        report(first, 0, StatusState.ATTEMPTED, None, 1.1)
        assert uow.observations.get(first_id, for_update=True) is first
        assert first.state is IN_PROGRESS
        report(second, 0, StatusState.COMPLETED, summary(2, 30), 2.1)
        second.charge(second.configuration_statuses[0], 0.2)
        assert uow.observations.for_request(request_id, for_update=True) == [first, second]
        assert (second.state, second.configuration_statuses[0].time_charged) == (COMPLETED, 0.2)
        uow.commit()
    assert load(uow_factory, first_id).state is IN_PROGRESS
    assert load(uow_factory, second_id).configuration_statuses[0].summary == summary(2, 30)


@pytest.fixture
def sql_uow_factory(sql_backend: Backend) -> UowFactory:
    """As ``uow_factory``, over the SQL backends only: an in-memory unit of work holds its store's lock
    throughout, so no other unit of work commits while it runs."""
    add_proposals(sql_backend.uow_factory)
    return sql_backend.uow_factory


def test_a_locking_read_returns_what_another_unit_of_work_committed_meanwhile(sql_uow_factory: UowFactory) -> None:
    uow_factory = sql_uow_factory
    item = stored_group(uow_factory)
    [observation_id] = store(uow_factory, observation(item.requests[0]))
    with uow_factory() as uow:
        held = uow.observations.get(observation_id)
        assert held is not None
        status = held.configuration_statuses[0]
        with uow_factory() as other:
            changed = other.observations.get(observation_id)
            assert changed is not None
            report(changed, 0, StatusState.COMPLETED, summary(1, 30), 1.1)
            changed.charge(changed.configuration_statuses[0], 0.5)
            other.commit()
        assert held.state is PENDING
        assert uow.observations.get(observation_id, for_update=True) is held
        # Refreshed in place: whoever holds the observation or its status sees what the lock protects.
        assert held.state is COMPLETED
        assert held.configuration_statuses[0] is status
        assert (status.state, status.summary, status.time_charged) == (StatusState.COMPLETED, summary(1, 30), 0.5)
        assert held.modified == days(1.1)
        # A change made now is written over the fresh state, not the stale one.
        held.mark_bad_data(days(2))
        uow.commit()
    stored = load(uow_factory, observation_id)
    assert stored.state is BAD_DATA
    assert stored.configuration_statuses[0].summary == summary(1, 30)
    assert stored.configuration_statuses[0].time_charged == 0.0


def test_a_locking_read_by_request_refreshes_every_observation(sql_uow_factory: UowFactory) -> None:
    uow_factory = sql_uow_factory
    item = stored_group(uow_factory)
    first_id, second_id = store(uow_factory, observation(item.requests[0]), observation(item.requests[0], start=2))
    with uow_factory() as uow:
        held = uow.observations.for_request(item.requests[0].id or 0)
        with uow_factory() as other:
            gone = other.observations.get(second_id)
            assert gone is not None
            other.observations.delete(gone)
            changed = other.observations.get(first_id)
            assert changed is not None
            changed.cancel(days(0.5))
            other.commit()
        fresh = uow.observations.for_request(item.requests[0].id or 0, for_update=True)
        assert fresh == held[:1]
        assert fresh[0].state is CANCELED
        assert uow.observations.get(second_id, for_update=True) is None


@pytest.mark.postgres
def test_locking_reads_lock_the_observation_rows_on_postgresql(tmp_path: Path) -> None:
    # PostgreSQL only: SQLite's writers take the whole database (next test), memory its store's lock.
    with open_backend("postgres", tmp_path) as backend:
        assert backend.engine is not None
        add_proposals(backend.uow_factory)
        item = stored_group(backend.uow_factory)
        [observation_id] = store(backend.uow_factory, observation(item.requests[0]))
        lock = sa.text("SELECT id FROM observations WHERE id = :id FOR UPDATE NOWAIT")
        for take in ("get", "for_request"):
            with backend.uow_factory() as uow:
                if take == "get":
                    assert uow.observations.get(observation_id, for_update=True) is not None
                else:
                    assert uow.observations.for_request(item.requests[0].id or 0, for_update=True) != []
                with backend.engine.connect() as other, pytest.raises(sa.exc.OperationalError, match="lock"):
                    other.execute(lock, {"id": observation_id})
            with backend.engine.connect() as other:
                # The lock ends with the unit of work.
                assert other.execute(lock, {"id": observation_id}).scalar_one() == observation_id


def test_a_locking_read_takes_the_write_lock_on_sqlite(tmp_path: Path) -> None:
    with open_backend("sqlite", tmp_path) as backend:
        assert backend.engine is not None
        add_proposals(backend.uow_factory)
        item = stored_group(backend.uow_factory)
        [observation_id] = store(backend.uow_factory, observation(item.requests[0]))
        path = str(backend.engine.url.database)
        with backend.uow_factory() as uow:
            assert uow.observations.get(observation_id, for_update=True) is not None
            other = sqlite3.connect(path, timeout=0, isolation_level=None)
            try:
                with pytest.raises(sqlite3.OperationalError, match="locked"):
                    other.execute("BEGIN IMMEDIATE")
            finally:
                other.close()
        other = sqlite3.connect(path, timeout=0, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")
            other.execute("ROLLBACK")
        finally:
            other.close()


# ---------------------------------------------------------------------------------------------------------
# Events.


def test_events_of_scheduling_and_state_changes_are_collected_once_after_commit(uow_factory: UowFactory) -> None:
    item = stored_group(uow_factory)
    request_id = item.requests[0].id or 0
    added = observation(item.requests[0], site="coj")
    with uow_factory() as uow:
        uow.observations.add(added)
        assert list(uow.collect_new_events()) == []
        uow.commit()
        assert list(uow.collect_new_events()) == [ObservationsScheduled(("coj",))]
        assert list(uow.collect_new_events()) == []
    observation_id = added.id or 0
    with uow_factory() as uow:
        loaded = uow.observations.get(observation_id)
        assert loaded is not None
        report(loaded, 0, StatusState.ATTEMPTED, None, 1.1)
        uow.commit()
        assert list(uow.collect_new_events()) == [
            ObservationStateChanged(observation_id, request_id, PENDING, IN_PROGRESS)
        ]
    with uow_factory() as uow:
        [found] = uow.observations.search(ObservationQuery())[1]
        report(found, 0, StatusState.FAILED, summary(1, 10, "FAILED"), 1.2)
        uow.rollback()
        uow.commit()
        assert list(uow.collect_new_events()) == []
    with uow_factory() as uow:
        [found] = uow.observations.for_request(request_id)
        assert found.cancel(days(1)) is Disposal.ABORT
        # A deleted observation's events still reach the bus.
        uow.observations.delete(found)
        uow.commit()
        assert list(uow.collect_new_events()) == [
            ObservationStateChanged(observation_id, request_id, IN_PROGRESS, ABORTED)
        ]


# ---------------------------------------------------------------------------------------------------------
# The observation list: filters, visibility, order, pages.


@attrs.frozen
class World:
    """Six observations (o1..o6, stored in that order) with eight statuses (s1..s8) on the requests of three
    groups, spread over every filter, in a store that the list tests only read (one store per backend)."""

    uow_factory: UowFactory
    ids: dict[str, int]
    status_ids: dict[str, int]
    request_ids: dict[str, int]
    group_ids: dict[str, int]

    def names(self, observations: list[Observation]) -> list[str]:
        by_id = {observation_id: name for name, observation_id in self.ids.items()}
        return [by_id[o.id or 0] for o in observations]

    def status_names(self, statuses: list[ConfigurationStatus]) -> list[str]:
        by_id = {status_id: name for name, status_id in self.status_ids.items()}
        return [by_id[s.id or 0] for s in statuses]


def build_world(uow_factory: UowFactory) -> World:
    groups = {
        # rA1 images, rA2 takes spectra.
        "gA": group(
            request(configuration("M31")),
            request(configuration("M33", FLOYDS, type="SPECTRUM")),
            operator=Operator.MANY,
        ),
        "gB": group(
            request(configuration("NGC 1", SINISTRO), configuration("NGC 1", FLOYDS, type="ARC")),
            proposal="BETA",
            submitter="bob",
            observation_type=ObservationType.RAPID_RESPONSE,
        ),
        "gC": group(
            request(configuration("Sat"), windows=(), telescope_class=None),
            proposal="GAMMA",
            submitter="cyd",
            observation_type=ObservationType.DIRECT,
        ),
    }
    group_ids = dict(zip(groups, add(uow_factory, *groups.values()), strict=True))
    ra1, ra2 = groups["gA"].requests
    [rb1] = groups["gB"].requests
    [rc1] = groups["gC"].requests
    observations = {
        "o1": observation(ra1, start=1, now=T0),
        "o2": observation(ra1, enclosure="domb", start=2, instruments=[("fa14", "fa14")], priority=20, now=days(0.5)),
        "o3": observation(
            ra2,
            site="ogg",
            enclosure="clma",
            telescope="2m0a",
            start=1.5,
            hours=14,
            instruments=[("floyds01", "kb42")],
            now=days(1),
        ),
        "o4": observation(rb1, site="coj", start=3, instruments=[("fa03", "fa03"), ("fa03", "")], now=days(1.5)),
        "o5": observation(rb1, start=4, instruments=[("fa12", "fa12"), ("fa12", "")], priority=30, now=days(2)),
        "o6": observation(
            rc1, telescope="1m0b", start=0.5, hours=0.5, instruments=[("fa16", "")], priority=5, now=days(2)
        ),
    }
    ids = dict(zip(observations, store(uow_factory, *observations.values()), strict=True))
    with uow_factory() as uow:
        loaded = {name: uow.observations.get(observation_id) for name, observation_id in ids.items()}
        o2, o3, o4, o5 = (loaded[name] for name in ("o2", "o3", "o4", "o5"))
        assert o2 is not None
        assert o3 is not None
        assert o4 is not None
        assert o5 is not None
        report(o2, 0, StatusState.ATTEMPTED, None, 2)
        report(o3, 0, StatusState.COMPLETED, summary(1.5, 600), 1.6)
        report(o4, 0, StatusState.COMPLETED, summary(3, 30), 3.05)
        report(o4, 1, StatusState.FAILED, summary(3.05, 30, "FAILED"), 3.1)
        assert o5.cancel(days(3.5)) is Disposal.CANCEL
        ga, gc = uow.request_groups.get(group_ids["gA"]), uow.request_groups.get(group_ids["gC"])
        assert ga is not None
        assert gc is not None
        ga.complete_request(ga.requests[1], days(1.7))
        gc.cancel(days(2.6))
        uow.commit()
    assert [o.state for o in (o2, o3, o4, o5)] == [IN_PROGRESS, COMPLETED, FAILED, CANCELED]
    status_ids = {
        f"s{n}": s.id or 0
        for n, s in enumerate((s for o in observations.values() for s in o.configuration_statuses), 1)
    }
    request_ids = {"rA1": ra1.id or 0, "rA2": ra2.id or 0, "rB1": rb1.id or 0, "rC1": rc1.id or 0}
    return World(uow_factory, ids, status_ids, request_ids, group_ids)


@pytest.fixture(scope="module", params=BACKENDS)
def world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with open_backend(request.param, tmp_path_factory.mktemp("world")) as backend:
        add_proposals(backend.uow_factory)
        yield build_world(backend.uow_factory)


def search(world: World, **fields: Any) -> list[str]:
    with world.uow_factory() as uow:
        count, page = uow.observations.search(ObservationQuery(**fields))
        for found in page:
            assert uow.observations.get(found.id or 0) is found
    names = world.names(page)
    assert count == len(names)
    return names


ALL = ["o6", "o5", "o4", "o3", "o2", "o1"]
HOUR = timedelta(hours=1)

# Starts (days): o6 0.5, o1 1, o3 1.5, o2 2, o4 3, o5 4. Ends: o6 0.52, o1 1.04, o2 2.04, o3 2.08, o4 3.04, o5 4.04.
# Created: o1 0, o2 0.5, o3 1, o4 1.5, o5 and o6 2. Modified: o1 0, o3 1.6, o2 and o6 2, o4 3.1, o5 3.5.
FILTERS: list[tuple[dict[str, Any], list[str]]] = [
    ({}, ALL),
    ({"sites": ("lsc",)}, ["o6", "o5", "o2", "o1"]),
    ({"sites": ("lsc", "ogg")}, ["o6", "o5", "o3", "o2", "o1"]),
    ({"sites": ("LSC",)}, []),
    ({"enclosures": ("doma",)}, ["o6", "o5", "o4", "o1"]),
    ({"telescopes": ("1m0b",)}, ["o6"]),
    ({"sites": ("lsc",), "enclosures": ("doma",), "telescopes": ("1m0a",)}, ["o5", "o1"]),
    # Lower bounds include the bound, upper bounds exclude it.
    ({"start_after": days(2)}, ["o5", "o4", "o2"]),
    ({"start_before": days(2)}, ["o6", "o3", "o1"]),
    ({"start_after": days(1), "start_before": days(2)}, ["o3", "o1"]),
    ({"end_after": days(2) + HOUR}, ["o5", "o4", "o3", "o2"]),
    ({"end_before": days(1) + HOUR}, ["o6"]),
    ({"modified_after": days(3)}, ["o5", "o4"]),
    ({"modified_after": days(2)}, ["o6", "o5", "o4", "o2"]),
    ({"created_after": days(1.5)}, ["o6", "o5", "o4"]),
    ({"created_before": days(1.5)}, ["o3", "o2", "o1"]),
    ({"created_after": days(0.5), "created_before": days(2)}, ["o4", "o3", "o2"]),
    ({"states": (PENDING,)}, ["o6", "o1"]),
    ({"states": (COMPLETED, FAILED)}, ["o4", "o3"]),
    ({"states": (CANCELED,)}, ["o5"]),
    ({"states": (IN_PROGRESS,)}, ["o2"]),
    ({"priority": 10}, ["o4", "o3", "o1"]),
    ({"priority": 99}, []),
    ({"observation_types": (ObservationType.RAPID_RESPONSE,)}, ["o5", "o4"]),
    ({"observation_types": (ObservationType.NORMAL, ObservationType.DIRECT)}, ["o6", "o3", "o2", "o1"]),
    ({"request_states": (RequestState.COMPLETED,)}, ["o3"]),
    ({"request_states": (RequestState.PENDING,)}, ["o5", "o4", "o2", "o1"]),
    ({"request_states": (RequestState.CANCELED, RequestState.COMPLETED)}, ["o6", "o3"]),
    ({"proposal": "BETA"}, ["o5", "o4"]),
    ({"proposal": "beta"}, []),
    ({"submitter": "ada"}, ["o3", "o2", "o1"]),
    ({"submitter": "ad"}, []),
    # Any configuration of the request, compared case-insensitively.
    ({"instrument_types": ("1m0-scicam-sinistro",)}, ["o6", "o5", "o4", "o2", "o1"]),
    ({"instrument_types": (FLOYDS,)}, ["o5", "o4", "o3"]),
    ({"instrument_types": ("0M4-SCICAM-QHY600",)}, []),
    ({"configuration_types": ("arc",)}, ["o5", "o4"]),
    ({"configuration_types": ("SPECTRUM", "expose")}, ALL),
    # The site software's fetch (api.md 6, pyobs).
    (
        {"sites": ("lsc",), "states": (PENDING, IN_PROGRESS), "end_after": days(1), "start_before": days(3)},
        ["o2", "o1"],
    ),
    ({"proposal": "ALPHA", "instrument_types": (FLOYDS,)}, ["o3"]),
    ({"proposal": "ALPHA", "states": (FAILED,)}, []),
]


@pytest.mark.parametrize(("fields", "expected"), FILTERS)
def test_each_filter_selects_its_observations(world: World, fields: dict[str, Any], expected: list[str]) -> None:
    assert search(world, **fields) == expected


def test_ids_requests_and_groups_select_their_observations(world: World) -> None:
    ids, requests, groups = world.ids, world.request_ids, world.group_ids
    assert search(world, ids=(ids["o1"], ids["o3"])) == ["o3", "o1"]
    assert search(world, ids=(10_000,)) == []
    assert search(world, request_ids=(requests["rA1"],)) == ["o2", "o1"]
    assert search(world, request_ids=(requests["rA2"], requests["rC1"])) == ["o6", "o3"]
    assert search(world, request_group_ids=(groups["gA"],)) == ["o3", "o2", "o1"]
    assert search(world, request_group_ids=(groups["gB"], groups["gC"])) == ["o6", "o5", "o4"]
    assert search(world, request_group_ids=(groups["gA"],), request_ids=(requests["rB1"],)) == []


VISIBILITY: list[tuple[dict[str, Any], list[str]]] = [
    ({"visible_proposals": None}, ALL),
    ({"visible_proposals": frozenset()}, []),
    ({"visible_proposals": frozenset({"ALPHA"})}, ["o3", "o2", "o1"]),
    (
        {"visible_proposals": frozenset({"GAMMA"}), "own_in_proposals": frozenset({"BETA"}), "own_submitter": "bob"},
        ["o6", "o5", "o4"],
    ),
    (
        {"visible_proposals": frozenset(), "own_in_proposals": frozenset({"ALPHA", "BETA"}), "own_submitter": "ada"},
        ["o3", "o2", "o1"],
    ),
    ({"visible_proposals": frozenset(), "own_in_proposals": frozenset({"ALPHA", "BETA"})}, []),
    # No restriction means no restriction, whatever the own clause says.
    ({"own_in_proposals": frozenset({"BETA"}), "own_submitter": "ada"}, ALL),
    ({"visible_proposals": frozenset({"ALPHA", "BETA"}), "states": (PENDING,)}, ["o1"]),
]


@pytest.mark.parametrize(("fields", "expected"), VISIBILITY)
def test_the_visibility_clause_hides_what_the_caller_may_not_read(
    world: World, fields: dict[str, Any], expected: list[str]
) -> None:
    assert search(world, **fields) == expected


ORDERS: list[tuple[tuple[str, ...], list[str]]] = [
    (("-id",), ALL),
    (("id",), ["o1", "o2", "o3", "o4", "o5", "o6"]),
    (("start",), ["o6", "o1", "o3", "o2", "o4", "o5"]),
    (("-start",), ["o5", "o4", "o2", "o3", "o1", "o6"]),
    (("end",), ["o6", "o1", "o2", "o3", "o4", "o5"]),
    (("-end",), ["o5", "o4", "o3", "o2", "o1", "o6"]),
    # o5 and o6 were created together: ties newest first.
    (("created",), ["o1", "o2", "o3", "o4", "o6", "o5"]),
    (("-created",), ALL),
    (("modified",), ["o1", "o3", "o6", "o2", "o4", "o5"]),
    (("-modified",), ["o5", "o4", "o6", "o2", "o3", "o1"]),
    # By state name, by code point whatever the database's locale.
    (("state",), ["o5", "o3", "o4", "o2", "o6", "o1"]),
    (("-state", "id"), ["o1", "o6", "o2", "o4", "o3", "o5"]),
    (("-modified", "-start"), ["o5", "o4", "o2", "o6", "o3", "o1"]),
    (("state", "-start"), ["o5", "o3", "o4", "o2", "o1", "o6"]),
]


@pytest.mark.parametrize(("order", "expected"), ORDERS)
def test_observations_come_in_the_order_asked(world: World, order: tuple[str, ...], expected: list[str]) -> None:
    assert search(world, order=order) == expected


def test_an_unknown_order_key_is_refused(world: World) -> None:
    with world.uow_factory() as uow, pytest.raises(ValueError, match="cannot order"):
        uow.observations.search(ObservationQuery(order=("priority",)))


def test_a_page_counts_every_match(world: World) -> None:
    with world.uow_factory() as uow:
        count, page = uow.observations.search(ObservationQuery(limit=2, offset=1))
        assert (count, world.names(page)) == (6, ["o5", "o4"])
        count, page = uow.observations.search(ObservationQuery(states=(PENDING,), limit=1, offset=1))
        assert (count, world.names(page)) == (2, ["o1"])
        count, page = uow.observations.search(ObservationQuery(proposal="ALPHA", order=("start",), limit=2))
        assert (count, world.names(page)) == (3, ["o1", "o3"])
        assert uow.observations.search(ObservationQuery(offset=6)) == (6, [])
        assert uow.observations.search(ObservationQuery(limit=0))[0] == 6


# ---------------------------------------------------------------------------------------------------------
# The configuration status list.


def search_statuses(world: World, **fields: Any) -> list[str]:
    with world.uow_factory() as uow:
        count, page = uow.observations.search_statuses(StatusQuery(**fields))
        for found, status in page:
            assert any(s is status for s in found.configuration_statuses)
            assert uow.observations.get(found.id or 0) is found
    names = world.status_names([status for _, status in page])
    assert count == len(names)
    return names


# s1 o1 fa12/fa12 PENDING; s2 o2 fa14/fa14 ATTEMPTED; s3 o3 floyds01/kb42 COMPLETED; s4 o4 fa03/fa03 COMPLETED;
# s5 o4 fa03/"" FAILED; s6 o5 fa12/fa12 PENDING; s7 o5 fa12/"" PENDING; s8 o6 fa16/"" PENDING.
STATUS_FILTERS: list[tuple[dict[str, Any], list[str]]] = [
    ({}, ["s8", "s7", "s6", "s5", "s4", "s3", "s2", "s1"]),
    ({"instrument_names": ("fa12",)}, ["s7", "s6", "s1"]),
    ({"instrument_names": ("fa12", "fa03")}, ["s7", "s6", "s5", "s4", "s1"]),
    ({"instrument_names": ("FA12",)}, []),
    ({"guide_camera_names": ("",)}, ["s8", "s7", "s5"]),
    ({"guide_camera_names": ("kb42", "fa14")}, ["s3", "s2"]),
    ({"states": (StatusState.PENDING,)}, ["s8", "s7", "s6", "s1"]),
    ({"states": (StatusState.COMPLETED, StatusState.FAILED)}, ["s5", "s4", "s3"]),
    ({"sites": ("lsc",)}, ["s8", "s7", "s6", "s2", "s1"]),
    ({"sites": ("coj", "ogg")}, ["s5", "s4", "s3"]),
    ({"instrument_names": ("fa12",), "states": (StatusState.PENDING,), "sites": ("lsc",)}, ["s7", "s6", "s1"]),
    ({"instrument_names": ("fa12",), "guide_camera_names": ("",)}, ["s7"]),
]


@pytest.mark.parametrize(("fields", "expected"), STATUS_FILTERS)
def test_the_status_list_filters(world: World, fields: dict[str, Any], expected: list[str]) -> None:
    assert search_statuses(world, **fields) == expected


def test_the_status_list_pages_and_shares_observations(world: World) -> None:
    with world.uow_factory() as uow:
        count, page = uow.observations.search_statuses(StatusQuery(limit=2, offset=1))
        assert (count, world.status_names([s for _, s in page])) == (8, ["s7", "s6"])
        # Two statuses of one observation on a page come with the one observation object.
        assert page[0][0] is page[1][0]
        assert world.names([page[0][0]]) == ["o5"]
        count, page = uow.observations.search_statuses(StatusQuery(sites=("lsc",), limit=2, offset=4))
        assert (count, world.status_names([s for _, s in page])) == (5, ["s1"])
        assert uow.observations.search_statuses(StatusQuery(offset=8)) == (8, [])
        assert uow.observations.search_statuses(StatusQuery(limit=0))[0] == 8
