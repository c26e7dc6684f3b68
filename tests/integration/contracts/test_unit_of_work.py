"""Contract of UnitOfWork: atomic commit, real rollback, and the events of everything touched, each once."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import attrs
import pytest

from application.ports import DowntimeQuery, UnitOfWork
from domain.accounts import User
from domain.changes import ChangeEntry
from domain.downtime import Downtime
from domain.observatory import Observatory

UowFactory = Callable[[], UnitOfWork]

T0 = datetime(2026, 11, 25, 18, 0, tzinfo=UTC)


def downtime(reason: str = "") -> Downtime:
    return Downtime(None, T0, T0 + timedelta(hours=1), "lsc", "doma", "1m0a", reason=reason, created=T0, modified=T0)


def user(username: str) -> User:
    return User(None, username, "argon2$hash")


def log_entry() -> ChangeEntry:
    return ChangeEntry(T0, "ada", "sites", "80", "update", {"name": ["a", "b"]})


def count_downtimes(uow_factory: UowFactory) -> int:
    with uow_factory() as uow:
        return uow.downtimes.search(DowntimeQuery())[0]


def write_everything(uow: UnitOfWork, observatory: Observatory) -> None:
    uow.downtimes.add(downtime())
    uow.users.add(user("ada"))
    uow.changes.add([log_entry()])
    uow.observatory.save(observatory)


def assert_nothing_stored(uow_factory: UowFactory) -> None:
    with uow_factory() as uow:
        assert uow.downtimes.search(DowntimeQuery()) == (0, [])
        assert uow.users.get_by_username("ada") is None
        assert uow.changes.search() == []
        assert uow.observatory.version() == 0
        assert not uow.observatory.get().sites


def test_work_left_without_commit_is_discarded(uow_factory: UowFactory, sample_observatory: Observatory) -> None:
    with uow_factory() as uow:
        write_everything(uow, sample_observatory)

    assert_nothing_stored(uow_factory)


def test_an_exception_in_the_block_discards_the_work_and_propagates(
    uow_factory: UowFactory, sample_observatory: Observatory
) -> None:
    def fail_halfway() -> None:
        with uow_factory() as uow:
            write_everything(uow, sample_observatory)
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        fail_halfway()

    assert_nothing_stored(uow_factory)


def test_commit_makes_every_change_visible_to_later_units_of_work(
    uow_factory: UowFactory, sample_observatory: Observatory
) -> None:
    with uow_factory() as uow:
        write_everything(uow, sample_observatory)
        uow.commit()

    with uow_factory() as uow:
        assert uow.downtimes.search(DowntimeQuery())[0] == 1
        assert uow.users.get_by_username("ada") is not None
        assert uow.changes.search() == [log_entry()]
        assert uow.observatory.get().sites == sample_observatory.sites


def test_rollback_discards_work_since_the_last_commit_only(uow_factory: UowFactory) -> None:
    with uow_factory() as uow:
        uow.downtimes.add(downtime("kept"))
        uow.commit()
        uow.downtimes.add(downtime("discarded"))
        uow.rollback()
        uow.downtimes.add(downtime("added after the rollback"))
        uow.commit()

    with uow_factory() as uow:
        _, page = uow.downtimes.search(DowntimeQuery())
    assert [item.reason for item in page] == ["kept", "added after the rollback"]


def test_changes_to_a_loaded_downtime_are_undone_by_rollback(uow_factory: UowFactory) -> None:
    with uow_factory() as uow:
        uow.downtimes.add(downtime("original"))
        uow.commit()
    with uow_factory() as uow:
        [loaded] = uow.downtimes.search(DowntimeQuery())[1]
        loaded.reason = "changed"
        uow.rollback()
        uow.commit()

    with uow_factory() as uow:
        assert [item.reason for item in uow.downtimes.search(DowntimeQuery())[1]] == ["original"]


def test_objects_stay_readable_after_the_block_ends(uow_factory: UowFactory) -> None:
    with uow_factory() as uow:
        added = downtime("readable")
        uow.downtimes.add(added)
        uow.users.add(user("ada"))
        uow.commit()
    with uow_factory() as uow:
        loaded = uow.users.get_by_username("ada")

    assert added.id is not None
    assert (added.reason, added.end) == ("readable", T0 + timedelta(hours=1))
    assert loaded is not None
    assert (loaded.username, loaded.is_active) == ("ada", True)


def test_a_unit_of_work_can_be_entered_again_after_it_ended(uow_factory: UowFactory) -> None:
    uow = uow_factory()
    with uow:
        uow.downtimes.add(downtime())
        uow.commit()
    with uow:
        uow.downtimes.add(downtime())
        uow.commit()

    assert count_downtimes(uow_factory) == 2


def test_committed_events_of_every_touched_aggregate_are_collected_once(
    uow_factory: UowFactory, sample_observatory: Observatory
) -> None:
    with uow_factory() as uow:
        uow.downtimes.add(downtime("changed later"))
        uow.downtimes.add(downtime("deleted later"))
        uow.users.add(user("ada"))
        uow.observatory.save(sample_observatory)
        uow.commit()
    list(uow.collect_new_events())

    with uow_factory() as uow:
        added = downtime("new")
        added.events.append("downtime scheduled")
        uow.downtimes.add(added)
        _, (changed, deleted) = uow.downtimes.search(DowntimeQuery(reason_contains="later"))
        changed.events.append("downtime changed")
        deleted.events.append("downtime cancelled")
        uow.downtimes.delete(deleted)
        ada = uow.users.get_by_username("ada")
        assert ada is not None
        ada.events.append("user changed")
        observatory = uow.observatory.get()
        observatory.events.append("configuration changed")
        uow.observatory.save(observatory)
        uow.commit()

    events = list(uow.collect_new_events())
    assert sorted(map(str, events)) == [
        "configuration changed",
        "downtime cancelled",
        "downtime changed",
        "downtime scheduled",
        "user changed",
    ]
    assert list(uow.collect_new_events()) == []


def test_events_of_discarded_work_are_never_collected(uow_factory: UowFactory) -> None:
    with uow_factory() as uow:
        discarded = downtime()
        discarded.events.append("rolled back")
        uow.downtimes.add(discarded)
        uow.rollback()
        kept = downtime()
        kept.events.append("committed")
        uow.downtimes.add(kept)
        uow.commit()
        left = downtime()
        left.events.append("never committed")
        uow.downtimes.add(left)

    assert list(uow.collect_new_events()) == ["committed"]


def test_events_recorded_on_an_observatory_copy_are_collected_on_commit(
    uow_factory: UowFactory, sample_observatory: Observatory
) -> None:
    with uow_factory() as uow:
        sample_observatory.events.append("imported")
        uow.observatory.save(sample_observatory)
        uow.commit()

    assert list(uow.collect_new_events()) == ["imported"]


def test_a_downtime_loaded_twice_in_one_unit_of_work_is_one_object(uow_factory: UowFactory) -> None:
    with uow_factory() as uow:
        uow.downtimes.add(downtime())
        uow.commit()
    with uow_factory() as uow:
        _, [first] = uow.downtimes.search(DowntimeQuery())
        assert first.id is not None
        assert uow.downtimes.get(first.id) is first
        assert uow.downtimes.search(DowntimeQuery())[1] == [first]
        first.events.append("once")
        uow.commit()

    assert list(uow.collect_new_events()) == ["once"]


def test_observatory_records_are_unchanged_by_edits_to_a_copy_that_was_not_saved(
    uow_factory: UowFactory, sample_observatory: Observatory
) -> None:
    with uow_factory() as uow:
        uow.observatory.save(sample_observatory)
        uow.commit()
    with uow_factory() as uow:
        observatory = uow.observatory.get()
        observatory.sites[80] = attrs.evolve(observatory.sites[80], name="unsaved")
        uow.commit()

    with uow_factory() as uow:
        assert uow.observatory.get().sites[80].name == "Cerro Tololo"
        assert uow.observatory.version() == 1
