"""Contract of SemesterRepository: string ids, aware UTC bounds, newest first, tracked changes and events."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from application.ports import UnitOfWork
from domain.errors import ConflictError
from domain.proposals import Semester

UowFactory = Callable[[], UnitOfWork]


def semester(semester_id: str, start: tuple[int, int], end: tuple[int, int]) -> Semester:
    return Semester(semester_id, datetime(*start, 1, tzinfo=UTC), datetime(*end, 1, tzinfo=UTC))


A = ("2026A", (2026, 2), (2026, 8))
B = ("2026B", (2026, 8), (2027, 2))
OLD = ("2025B", (2025, 8), (2026, 2))


def add(uow_factory: UowFactory, *semesters: Semester) -> None:
    with uow_factory() as uow:
        for item in semesters:
            uow.semesters.add(item)
        uow.commit()


def test_a_stored_semester_comes_back_with_its_id_and_aware_utc_bounds(uow_factory: UowFactory) -> None:
    start = datetime(2026, 2, 1, 0, 0, 0, 123456, tzinfo=UTC)
    add(uow_factory, Semester("LCO-2026A.x_1", start, start + timedelta(days=181, hours=12)))

    with uow_factory() as uow:
        loaded = uow.semesters.get("LCO-2026A.x_1")
        assert loaded is not None
        assert (loaded.id, loaded.start, loaded.end) == ("LCO-2026A.x_1", start, start + timedelta(days=181, hours=12))
        assert loaded.start.utcoffset() == timedelta(0)
        assert loaded.end.utcoffset() == timedelta(0)
        assert loaded.events == []
        assert uow.semesters.get("2026a") is None
        assert uow.semesters.get("missing") is None


def test_all_lists_the_newest_start_first(uow_factory: UowFactory) -> None:
    add(uow_factory, semester(*A), semester(*OLD))
    add(uow_factory, semester(*B))

    with uow_factory() as uow:
        assert [item.id for item in uow.semesters.all()] == ["2026B", "2026A", "2025B"]


def test_an_empty_store_has_no_semesters(uow_factory: UowFactory) -> None:
    with uow_factory() as uow:
        assert uow.semesters.all() == []


def test_a_taken_id_is_a_conflict(uow_factory: UowFactory) -> None:
    add(uow_factory, semester(*A))

    with uow_factory() as uow, pytest.raises(ConflictError):
        uow.semesters.add(semester("2026A", (2030, 1), (2030, 6)))


def test_an_id_added_earlier_in_the_same_unit_of_work_is_a_conflict(uow_factory: UowFactory) -> None:
    with uow_factory() as uow:
        uow.semesters.add(semester(*A))
        with pytest.raises(ConflictError):
            uow.semesters.add(semester(*A))


def test_a_rescheduled_semester_is_stored_on_commit(uow_factory: UowFactory) -> None:
    add(uow_factory, semester(*A), semester(*B))
    new_end = datetime(2026, 7, 15, tzinfo=UTC)
    with uow_factory() as uow:
        loaded = uow.semesters.get("2026A")
        assert loaded is not None
        loaded.reschedule(loaded.start, new_end, uow.semesters.all())
        uow.commit()

    with uow_factory() as uow:
        stored = uow.semesters.get("2026A")
        assert stored is not None
        assert stored.end == new_end


def test_changes_left_without_commit_are_discarded(uow_factory: UowFactory) -> None:
    add(uow_factory, semester(*A))
    with uow_factory() as uow:
        loaded = uow.semesters.get("2026A")
        assert loaded is not None
        loaded.end = datetime(2026, 5, 1, tzinfo=UTC)
        uow.semesters.add(semester(*B))

    with uow_factory() as uow:
        stored = uow.semesters.get("2026A")
        assert stored is not None
        assert stored.end == datetime(2026, 8, 1, tzinfo=UTC)
        assert uow.semesters.get("2026B") is None


def test_a_semester_read_twice_in_one_unit_of_work_is_one_object(uow_factory: UowFactory) -> None:
    add(uow_factory, semester(*A))

    with uow_factory() as uow:
        first = uow.semesters.get("2026A")
        assert first is not None
        assert uow.semesters.all() == [first]
        assert uow.semesters.all()[0] is first


def test_events_of_added_and_loaded_semesters_are_collected_after_commit(uow_factory: UowFactory) -> None:
    add(uow_factory, semester(*A))

    with uow_factory() as uow:
        added = semester(*B)
        added.events.append("semester defined")
        uow.semesters.add(added)
        [_, loaded] = uow.semesters.all()
        loaded.events.append("semester rescheduled")
        uow.commit()

    assert sorted(map(str, uow.collect_new_events())) == ["semester defined", "semester rescheduled"]
    assert list(uow.collect_new_events()) == []
