"""Configdb use cases through the message bus, with in-memory adapters and a fixed clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from adapters.clock import FixedClock
from adapters.memory import InMemoryUnitOfWork, MemoryStore
from application.commands import (
    CreateObservatoryRecord,
    DeleteObservatoryRecord,
    ImportObservatory,
    SetInstrumentState,
    UpdateObservatoryRecord,
)
from application.handlers.observatory import COMMAND_HANDLERS
from application.messagebus import MessageBus
from application.observatory_views import availability_history, export_observatory, sites_view
from domain.changes import ChangeAction
from domain.errors import ConflictError, ValidationError
from domain.observatory_document import ImportPlan
from tests.unit.domain.observatory_fixtures import demo_data, snapshot

NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
def bus(store: MemoryStore, clock: FixedClock) -> MessageBus:
    return MessageBus(lambda: InMemoryUnitOfWork(store), COMMAND_HANDLERS, {}, {"clock": clock})


@pytest.fixture
def demo_bus(bus: MessageBus) -> MessageBus:
    bus.handle(ImportObservatory(demo_data(), actor="loader"))
    return bus


def test_importing_the_demo_into_an_empty_store_records_one_batch(bus: MessageBus, store: MemoryStore) -> None:
    plan = bus.handle(ImportObservatory(demo_data(), actor="alice"))
    assert isinstance(plan, ImportPlan)
    assert plan.created["sites"] == 7
    assert len(store.changes) == sum(plan.created.values())
    assert len({e.batch for e in store.changes}) == 1
    assert {(e.user, e.action) for e in store.changes} == {("alice", ChangeAction.CREATE)}
    assert store.observatory.find_site("ogg") is not None


def test_a_dry_run_import_writes_nothing(bus: MessageBus, store: MemoryStore) -> None:
    plan = bus.handle(ImportObservatory(demo_data(), dry_run=True))
    assert plan.created["instruments"] == 24
    assert store.observatory.sites == {}
    assert store.changes == []


def test_a_replace_import_deletes_what_the_file_does_not_mention(demo_bus: MessageBus, store: MemoryStore) -> None:
    demo_bus.handle(
        CreateObservatoryRecord("sites", {"code": "xyz", "lat": 1.0, "long": 2.0, "elevation": 3, "timezone": 0})
    )
    plan = demo_bus.handle(ImportObservatory(demo_data(), replace=True))
    assert plan.deleted == {"sites": 1}
    assert store.observatory.find_site("xyz") is None
    assert store.changes[-1].action == ChangeAction.DELETE


def test_a_refused_import_writes_nothing(bus: MessageBus, store: MemoryStore) -> None:
    data = demo_data()
    data["cameras"][12]["optical_element_groups"] = ["1m0 filterz"]
    with pytest.raises(ValidationError):
        bus.handle(ImportObservatory(data))
    assert store.observatory.sites == {}
    assert store.changes == []


def test_creating_a_record_stores_it_and_logs_every_field(
    demo_bus: MessageBus, store: MemoryStore, clock: FixedClock
) -> None:
    clock.advance(timedelta(hours=1))
    tlv = store.observatory.find_site("tlv")
    assert tlv is not None
    created = demo_bus.handle(CreateObservatoryRecord("enclosures", {"code": "domz", "site_id": tlv.id}, actor="bob"))
    assert store.observatory.enclosures[created.id] == created
    entry = store.changes[-1]
    assert (entry.kind, entry.entity_id, entry.user, entry.time) == ("enclosures", str(created.id), "bob", clock.now())
    assert entry.changes["code"] == [None, "domz"]


def test_a_refused_write_leaves_the_store_unchanged_and_logs_nothing(demo_bus: MessageBus, store: MemoryStore) -> None:
    before, entries = snapshot(store.observatory), len(store.changes)
    lsc = store.observatory.find_site("lsc")
    assert lsc is not None
    with pytest.raises(ValidationError) as caught:
        demo_bus.handle(CreateObservatoryRecord("enclosures", {"code": "doma", "site_id": lsc.id}))
    assert caught.value.errors == {"code": ['Enclosure code "doma" already exists at site "lsc"']}
    assert snapshot(store.observatory) == before
    assert len(store.changes) == entries


def test_a_refused_delete_leaves_the_store_unchanged(demo_bus: MessageBus, store: MemoryStore) -> None:
    before, entries = snapshot(store.observatory), len(store.changes)
    lsc = store.observatory.find_site("lsc")
    assert lsc is not None
    with pytest.raises(ConflictError, match='Site "lsc" still has 3 enclosures; delete them first'):
        demo_bus.handle(DeleteObservatoryRecord("sites", lsc.id))
    assert snapshot(store.observatory) == before
    assert len(store.changes) == entries


def test_an_update_logs_only_the_changed_fields(demo_bus: MessageBus, store: MemoryStore) -> None:
    telescope = store.observatory.find_telescope("cpt", "aqwa", "0m4a")
    assert telescope is not None
    demo_bus.handle(UpdateObservatoryRecord("telescopes", telescope.id, {"active": True, "horizon": 20}))
    entry = store.changes[-1]
    assert entry.action == ChangeAction.UPDATE
    assert entry.changes == {"active": [False, True], "horizon": [15.0, 20.0]}


def test_an_update_that_changes_nothing_logs_nothing(demo_bus: MessageBus, store: MemoryStore) -> None:
    entries = len(store.changes)
    ogg = store.observatory.find_site("ogg")
    assert ogg is not None
    demo_bus.handle(UpdateObservatoryRecord("sites", ogg.id, {"code": "ogg"}))
    assert len(store.changes) == entries


def test_export_gives_back_what_was_imported(demo_bus: MessageBus, store: MemoryStore) -> None:
    data = demo_data()
    exported = export_observatory(InMemoryUnitOfWork(store), data["name"], data["description"])
    assert exported["sites"][4]["code"] == "ogg"
    assert len(exported["cameras"]) == 45


def test_the_site_tree_serves_parent_urls_and_floats(demo_bus: MessageBus, store: MemoryStore) -> None:
    tree = sites_view(store.observatory, lambda kind, key: f"http://h/configdb/{kind}/{key}/")
    ogg = tree[4]
    telescope = ogg["enclosure_set"][0]["telescope_set"][1]
    assert telescope["enclosure"] == "http://h/configdb/enclosures/13/"
    assert telescope["__str__"] == "ogg.clma.2m0a"
    assert isinstance(telescope["aperture"], float)
    instrument = telescope["instrument_set"][0]
    assert instrument["__str__"] == "ogg.clma.2m0a.floyds01"
    assert instrument["science_cameras"][0]["optical_elements"] == {
        "slits": "slit_1.2as,slit_1.6as,slit_2.0as,slit_6.0as"
    }
    assert instrument["instrument_type"]["mode_types"][0]["default"] == "2m0_floyds_1"


def history(store: MemoryStore, clock: FixedClock, **kwargs: Any) -> list[dict[str, str]]:
    start = datetime(2010, 1, 1, tzinfo=UTC)
    result = availability_history(InMemoryUnitOfWork(store), clock.now(), start, clock.now(), **kwargs)
    intervals: list[dict[str, str]] = result["availability_intervals"]
    return intervals


def test_instrument_availability_follows_its_state_changes(
    demo_bus: MessageBus, store: MemoryStore, clock: FixedClock
) -> None:
    fa12 = store.observatory.find_instrument("fa12")
    assert fa12 is not None
    clock.advance(timedelta(hours=1))
    demo_bus.handle(SetInstrumentState(fa12.id, "MANUAL"))
    clock.advance(timedelta(hours=2))
    demo_bus.handle(SetInstrumentState(fa12.id, "SCHEDULABLE"))
    clock.advance(timedelta(hours=1))
    assert history(store, clock, instrument_code="fa12") == [
        {"start": "2026-11-20T15:00:00", "end": "2026-11-20T16:00:00"},
        {"start": "2026-11-20T12:00:00", "end": "2026-11-20T13:00:00"},
    ]


def test_telescope_availability_is_cut_by_its_active_flag(
    demo_bus: MessageBus, store: MemoryStore, clock: FixedClock
) -> None:
    telescope = store.observatory.find_telescope("coj", "doma", "1m0a")
    assert telescope is not None
    clock.advance(timedelta(hours=1))
    demo_bus.handle(UpdateObservatoryRecord("telescopes", telescope.id, {"active": False}))
    clock.advance(timedelta(hours=1))
    demo_bus.handle(UpdateObservatoryRecord("telescopes", telescope.id, {"active": True}))
    clock.advance(timedelta(hours=1))
    assert history(store, clock, telescope=("coj", "doma", "1m0a")) == [
        {"start": "2026-11-20T14:00:00", "end": "2026-11-20T15:00:00"},
        {"start": "2026-11-20T12:00:00", "end": "2026-11-20T13:00:00"},
    ]


def test_an_instrument_created_disabled_has_no_availability(
    demo_bus: MessageBus, store: MemoryStore, clock: FixedClock
) -> None:
    assert history(store, clock, instrument_code="fa07") == []
