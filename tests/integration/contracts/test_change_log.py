"""Contract of ChangeLog: entries come back whole, filtered, oldest first."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from application.ports import UnitOfWork
from domain.changes import ChangeAction, ChangeEntry

UowFactory = Callable[[], UnitOfWork]

T0 = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def entry(minutes: int, kind: str = "instruments", entity_id: str = "110", **values: object) -> ChangeEntry:
    defaults: dict[str, object] = {"user": "ada", "action": ChangeAction.UPDATE, "changes": {}, "batch": ""}
    defaults.update(values)
    return ChangeEntry(T0 + timedelta(minutes=minutes), kind=kind, entity_id=entity_id, **defaults)  # type: ignore[arg-type]


def append(uow_factory: UowFactory, *entries: ChangeEntry) -> None:
    with uow_factory() as uow:
        uow.changes.add(entries)
        uow.commit()


def test_entries_come_back_with_every_field(uow_factory: UowFactory) -> None:
    original = entry(
        0,
        "telescopes",
        "100",
        user="staff",
        action="create",
        changes={"active": [None, True], "name": [None, "1 Meter"], "ha": [[1.5, -2], {"nested": None}]},
        batch="import-7",
    )
    append(uow_factory, original)

    with uow_factory() as uow:
        [loaded] = uow.changes.search()

    assert loaded == original
    assert loaded.action is ChangeAction.CREATE
    assert loaded.time.utcoffset() == timedelta(0)


def test_search_filters_by_kind_entity_and_time_combined(uow_factory: UowFactory) -> None:
    entries = [
        entry(0, "instruments", "110"),
        entry(1, "instruments", "111"),
        entry(2, "telescopes", "110"),
        entry(3, "instruments", "110", action=ChangeAction.DELETE),
    ]
    append(uow_factory, *entries)

    with uow_factory() as uow:
        assert uow.changes.search(kind="instruments") == [entries[0], entries[1], entries[3]]
        assert uow.changes.search(entity_id="110") == [entries[0], entries[2], entries[3]]
        assert uow.changes.search(kind="instruments", entity_id="110") == [entries[0], entries[3]]
        assert uow.changes.search(since=T0 + timedelta(minutes=2)) == entries[2:]
        assert uow.changes.search(kind="telescopes", since=T0 + timedelta(minutes=3)) == []
        assert uow.changes.search(kind="sites") == []


def test_entries_are_returned_oldest_first_whatever_the_order_they_were_added_in(uow_factory: UowFactory) -> None:
    late, early, same_time = entry(5, entity_id="a"), entry(1, entity_id="b"), entry(5, entity_id="c")
    append(uow_factory, late, early)
    append(uow_factory, same_time)

    with uow_factory() as uow:
        assert uow.changes.search() == [early, late, same_time]


def test_adding_nothing_is_allowed_and_uncommitted_entries_are_discarded(uow_factory: UowFactory) -> None:
    append(uow_factory)
    with uow_factory() as uow:
        uow.changes.add([entry(0)])

    with uow_factory() as uow:
        assert uow.changes.search() == []
