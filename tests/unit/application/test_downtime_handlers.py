"""Downtime use cases through the message bus, with in-memory adapters and a fixed clock."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from importlib import resources

import pytest

from adapters.clock import FixedClock
from adapters.memory import InMemoryUnitOfWork, MemoryStore
from application.handlers import downtime as handlers
from application.handlers.downtime import CancelDowntime, ReviseDowntime, ScheduleDowntime
from application.messagebus import MessageBus
from application.ports import DowntimeQuery
from domain.downtime import COMBINATION_UNKNOWN, DowntimeScheduled
from domain.errors import NotFoundError, ValidationError
from tests.unit.domain.test_downtime import small_observatory

T0 = datetime(2026, 11, 25, 18, tzinfo=UTC)
NOW = datetime(2026, 11, 20, 12, 30, tzinfo=UTC)


@pytest.fixture
def store() -> MemoryStore:
    store = MemoryStore()
    with InMemoryUnitOfWork(store) as uow:
        uow.observatory.save(small_observatory())
        uow.commit()
    return store


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
def seen() -> list[object]:
    return []


@pytest.fixture
def bus(store: MemoryStore, clock: FixedClock, seen: list[object]) -> MessageBus:
    return MessageBus(
        uow_factory=lambda: InMemoryUnitOfWork(store),
        command_handlers={
            ScheduleDowntime: handlers.schedule_downtime,
            ReviseDowntime: handlers.revise_downtime,
            CancelDowntime: handlers.cancel_downtime,
        },
        event_handlers={DowntimeScheduled: [lambda event, uow: seen.append(event)]},
        dependencies={"clock": clock},
    )


def uow_of(store: MemoryStore) -> InMemoryUnitOfWork:
    return InMemoryUnitOfWork(store)


def floyds(**overrides: object) -> ScheduleDowntime:
    fields: dict[str, object] = {
        "start": T0,
        "end": T0 + timedelta(hours=8),
        "site": "ogg",
        "enclosure": "clma",
        "telescope": "2m0a",
        "instrument_type": "2M0-FLOYDS-SCICAM",
        "reason": "FLOYDS detector vacuum pump-down",
        "actor": "ada",
    }
    fields.update(overrides)
    return ScheduleDowntime(**fields)  # type: ignore[arg-type]


def test_scheduling_stores_the_downtime_with_clock_times_and_returns_its_view(
    bus: MessageBus, store: MemoryStore
) -> None:
    view = bus.handle(floyds(instrument_type="2m0-floyds-scicam"))
    assert (view.id, view.instrument_type, view.created, view.modified) == (1, "2M0-FLOYDS-SCICAM", NOW, NOW)
    assert store.downtimes[1].instrument_type == "2M0-FLOYDS-SCICAM"


def test_scheduling_logs_every_field_as_created_with_iso_datetimes(bus: MessageBus, store: MemoryStore) -> None:
    bus.handle(floyds())
    (entry,) = store.changes
    assert (entry.kind, entry.entity_id, entry.user, entry.action, entry.time) == (
        "downtime",
        "1",
        "ada",
        "create",
        NOW,
    )
    assert entry.changes["start"] == [None, "2026-11-25T18:00:00+00:00"]
    assert entry.changes["telescope"] == [None, "2m0a"]


def test_scheduling_publishes_downtime_scheduled_for_the_scheduler(bus: MessageBus, seen: list[object]) -> None:
    bus.handle(floyds())
    (event,) = seen
    assert isinstance(event, DowntimeScheduled)
    assert (event.slot.telescope, event.slot.start) == ("2m0a", T0)


def test_a_refused_downtime_stores_and_logs_nothing(bus: MessageBus, store: MemoryStore) -> None:
    with pytest.raises(ValidationError) as caught:
        bus.handle(floyds(site="coj", enclosure="aqwa", telescope="1m0a", instrument_type=""))
    assert caught.value.errors == {"non_field_errors": [COMBINATION_UNKNOWN]}
    assert (store.downtimes, store.changes) == ({}, [])


def test_downtimes_are_checked_against_the_configuration_as_it_is_now(bus: MessageBus, store: MemoryStore) -> None:
    with uow_of(store) as uow:
        obs = uow.observatory.get()
        tlv = next(s for s in obs.sites.values() if s.code == "tlv")
        del obs.sites[tlv.id]
        uow.observatory.save(obs)
        uow.commit()
    with pytest.raises(ValidationError) as caught:
        bus.handle(floyds(site="tlv", enclosure="doma", telescope="1m0a", instrument_type=""))
    assert caught.value.errors == {"site": ['"tlv" is not a valid choice.']}


def test_revising_applies_the_changes_logs_them_and_moves_modified(
    bus: MessageBus, store: MemoryStore, clock: FixedClock
) -> None:
    bus.handle(floyds())
    clock.advance(timedelta(hours=2))
    view = bus.handle(ReviseDowntime(1, reason="Pump failed again", actor="bob"))
    assert (view.reason, view.created, view.modified) == ("Pump failed again", NOW, NOW + timedelta(hours=2))
    assert store.downtimes[1].reason == "Pump failed again"
    update = store.changes[-1]
    assert (update.action, update.user) == ("update", "bob")
    assert update.changes == {"reason": ["FLOYDS detector vacuum pump-down", "Pump failed again"]}


def test_revising_into_a_broken_downtime_changes_nothing(bus: MessageBus, store: MemoryStore) -> None:
    bus.handle(floyds())
    with pytest.raises(ValidationError) as caught:
        bus.handle(ReviseDowntime(1, end=T0 - timedelta(hours=1)))
    assert caught.value.errors == {"non_field_errors": ["End time must be after start time"]}
    assert store.downtimes[1].end == T0 + timedelta(hours=8)
    assert len(store.changes) == 1


def test_revising_with_no_real_change_logs_nothing(bus: MessageBus, store: MemoryStore, clock: FixedClock) -> None:
    bus.handle(floyds())
    clock.advance(timedelta(hours=1))
    view = bus.handle(ReviseDowntime(1, site="ogg"))
    assert (view.modified, len(store.changes)) == (NOW, 1)


def test_cancelling_deletes_the_downtime_and_logs_what_it_was(bus: MessageBus, store: MemoryStore) -> None:
    bus.handle(floyds())
    bus.handle(CancelDowntime(1, actor="bob"))
    assert store.downtimes == {}
    removed = store.changes[-1]
    assert (removed.action, removed.entity_id, removed.changes["site"]) == ("delete", "1", ["ogg", None])


@pytest.mark.parametrize("command", [ReviseDowntime(99, reason="x"), CancelDowntime(99)])
def test_revising_or_cancelling_an_unknown_downtime_is_not_found(bus: MessageBus, command: object) -> None:
    with pytest.raises(NotFoundError):
        bus.handle(command)


def test_get_downtime_returns_the_view_or_not_found(bus: MessageBus, store: MemoryStore) -> None:
    bus.handle(floyds())
    assert handlers.get_downtime(uow_of(store), 1).reason == "FLOYDS detector vacuum pump-down"
    with pytest.raises(NotFoundError):
        handlers.get_downtime(uow_of(store), 2)


def test_search_matches_instrument_types_case_insensitively(bus: MessageBus, store: MemoryStore) -> None:
    bus.handle(floyds())
    bus.handle(floyds(instrument_type=""))
    count, found = handlers.search_downtimes(uow_of(store), DowntimeQuery(instrument_types=("2m0-floyds-SCICAM",)))
    assert (count, [d.id for d in found]) == (1, [1])


@pytest.mark.parametrize(
    ("query", "field"),
    [
        (DowntimeQuery(sites=("ogg", "xyz")), "site"),
        (DowntimeQuery(enclosures=("xyz",)), "enclosure"),
        (DowntimeQuery(telescopes=("xyz",)), "telescope"),
        (DowntimeQuery(instrument_types=("xyz",)), "instrument_type"),
    ],
)
def test_search_refuses_a_code_configdb_does_not_know(store: MemoryStore, query: DowntimeQuery, field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        handlers.search_downtimes(uow_of(store), query)
    assert caught.value.errors == {field: ["Select a valid choice. xyz is not one of the available choices."]}


def test_overlapping_downtimes_are_those_on_the_same_telescope_sharing_time(
    bus: MessageBus, store: MemoryStore
) -> None:
    bus.handle(floyds())  # 1: the one asked about
    bus.handle(floyds(start=T0 + timedelta(hours=7), end=T0 + timedelta(hours=9)))  # 2: overlaps
    bus.handle(floyds(start=T0 + timedelta(hours=8), end=T0 + timedelta(hours=9)))  # 3: only touches
    bus.handle(floyds(telescope="0m4b", instrument_type=""))  # 4: another telescope
    bus.handle(floyds(instrument_type=""))  # 5: whole telescope, same time
    assert [d.id for d in handlers.overlapping_downtimes(uow_of(store), 1)] == [5, 2]


DEMO_ENTRIES = [
    {
        "site": "lsc",
        "enclosure": "doma",
        "telescope": "1m0a",
        "instrument_type": "",
        "start_offset_hours": -48,
        "duration_hours": 72,
        "reason": "Primary mirror re-aluminising",
    },
    {
        "site": "ogg",
        "enclosure": "clma",
        "telescope": "2m0a",
        "instrument_type": "2M0-FLOYDS-SCICAM",
        "start_offset_hours": 24,
        "duration_hours": 8,
        "reason": "FLOYDS detector vacuum pump-down",
    },
]


def test_demo_downtimes_start_from_midnight_utc_of_today(store: MemoryStore, clock: FixedClock) -> None:
    assert handlers.create_demo_downtimes(uow_of(store), clock, DEMO_ENTRIES) == 2
    first, second = (store.downtimes[i] for i in (1, 2))
    midnight = datetime(2026, 11, 20, tzinfo=UTC)
    assert (first.start, first.end) == (midnight - timedelta(hours=48), midnight + timedelta(hours=24))
    assert (second.start, second.end, second.created) == (
        midnight + timedelta(hours=24),
        midnight + timedelta(hours=32),
        NOW,
    )
    assert {e.user for e in store.changes} == {"demo"}


def test_demo_downtimes_are_not_created_twice_across_restarts(store: MemoryStore, clock: FixedClock) -> None:
    handlers.create_demo_downtimes(uow_of(store), clock, DEMO_ENTRIES)
    clock.advance(timedelta(days=1))
    assert handlers.create_demo_downtimes(uow_of(store), clock, DEMO_ENTRIES) == 0
    assert len(store.downtimes) == 2


def test_the_shipped_demo_file_lists_downtimes_in_the_shape_the_loader_reads() -> None:
    document = json.loads(resources.files("entrypoints.data").joinpath("demo-observatory.json").read_text())
    keys = {"site", "enclosure", "telescope", "instrument_type", "reason", "start_offset_hours", "duration_hours"}
    assert document["demo_downtimes"]
    assert all(set(entry) == keys for entry in document["demo_downtimes"])


def test_a_bad_demo_entry_refuses_the_whole_batch(store: MemoryStore, clock: FixedClock) -> None:
    bad = {**DEMO_ENTRIES[0], "site": "xyz"}
    with pytest.raises(ValidationError):
        handlers.create_demo_downtimes(uow_of(store), clock, [DEMO_ENTRIES[1], bad])
    assert store.downtimes == {}
