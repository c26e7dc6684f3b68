"""Contract of DowntimeRepository: storage of downtimes, and every filter, order and page of the search."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import TYPE_CHECKING

import pytest
import sqlalchemy as sa

from application.ports import DowntimeQuery, UnitOfWork
from domain.downtime import Downtime

if TYPE_CHECKING:
    from conftest import Backend

UowFactory = Callable[[], UnitOfWork]

T0 = datetime(2026, 11, 25, 18, 0, tzinfo=UTC)


def hours(n: float) -> datetime:
    return T0 + timedelta(hours=n)


def downtime(
    start: float,
    end: float,
    telescope: str = "1m0a",
    *,
    site: str = "lsc",
    enclosure: str = "doma",
    instrument_type: str = "",
    reason: str = "",
    created: float = 0,
    modified: float | None = None,
) -> Downtime:
    return Downtime(
        None,
        hours(start),
        hours(end),
        site,
        enclosure,
        telescope,
        instrument_type,
        reason,
        created=hours(created),
        modified=hours(created if modified is None else modified),
    )


def store(uow_factory: UowFactory, *downtimes: Downtime) -> list[int]:
    with uow_factory() as uow:
        for item in downtimes:
            uow.downtimes.add(item)
        uow.commit()
    return [item.id for item in downtimes if item.id is not None]


def search(uow_factory: UowFactory, **query: object) -> tuple[int, list[int]]:
    with uow_factory() as uow:
        count, page = uow.downtimes.search(DowntimeQuery(**query))  # type: ignore[arg-type]
        return count, [item.id for item in page if item.id is not None]


def test_add_assigns_distinct_ids_and_get_returns_every_field(uow_factory: UowFactory) -> None:
    first = downtime(0, 8, reason="Mirror recoating", instrument_type="1M0-SCICAM-SINISTRO", created=-1, modified=-0.5)
    second = downtime(1, 2)
    ids = store(uow_factory, first, second)

    assert len(set(ids)) == 2
    with uow_factory() as uow:
        loaded = uow.downtimes.get(ids[0])
        assert loaded is not None
        assert (loaded.id, loaded.start, loaded.end) == (ids[0], hours(0), hours(8))
        assert (loaded.site, loaded.enclosure, loaded.telescope) == ("lsc", "doma", "1m0a")
        assert (loaded.instrument_type, loaded.reason) == ("1M0-SCICAM-SINISTRO", "Mirror recoating")
        assert (loaded.created, loaded.modified) == (hours(-1), hours(-0.5))
        assert loaded.events == []


def test_times_come_back_as_the_same_instant_to_the_microsecond(uow_factory: UowFactory) -> None:
    chile = timezone(timedelta(hours=-3))
    item = downtime(0, 1)
    item.start = datetime(2026, 11, 25, 15, 0, 0, 250001, tzinfo=chile)
    [downtime_id] = store(uow_factory, item)

    with uow_factory() as uow:
        loaded = uow.downtimes.get(downtime_id)
        assert loaded is not None
        assert loaded.start == datetime(2026, 11, 25, 18, 0, 0, 250001, tzinfo=UTC)


def test_a_database_returns_times_tagged_utc(sql_backend: Backend) -> None:
    item = downtime(0, 1)
    item.start = datetime(2026, 11, 25, 15, 0, tzinfo=timezone(timedelta(hours=-3)))
    [downtime_id] = store(sql_backend.uow_factory, item)

    with sql_backend.uow_factory() as uow:
        loaded = uow.downtimes.get(downtime_id)
        assert loaded is not None
        assert loaded.start == datetime(2026, 11, 25, 18, 0, tzinfo=UTC)
        times = (loaded.start, loaded.end, loaded.created, loaded.modified)
        assert all(time is not None and time.tzinfo is UTC for time in times)


def test_a_database_refuses_a_naive_time(sql_backend: Backend) -> None:
    item = downtime(0, 1)
    item.end = datetime(2026, 11, 26, 2, 0)

    with sql_backend.uow_factory() as uow, pytest.raises(sa.exc.StatementError, match="naive datetime"):
        uow.downtimes.add(item)


def test_an_unknown_id_gives_none(uow_factory: UowFactory) -> None:
    store(uow_factory, downtime(0, 1))
    with uow_factory() as uow:
        assert uow.downtimes.get(9999) is None


def test_changes_to_a_loaded_downtime_are_stored_on_commit(uow_factory: UowFactory) -> None:
    [downtime_id] = store(uow_factory, downtime(0, 1))
    with uow_factory() as uow:
        loaded = uow.downtimes.get(downtime_id)
        assert loaded is not None
        loaded.reason = "Extended"
        loaded.end = hours(5)
        uow.commit()

    with uow_factory() as uow:
        again = uow.downtimes.get(downtime_id)
        assert again is not None
        assert (again.reason, again.end) == ("Extended", hours(5))


def test_deleted_downtimes_are_gone_after_commit(uow_factory: UowFactory) -> None:
    kept, removed = store(uow_factory, downtime(0, 1), downtime(2, 3))
    with uow_factory() as uow:
        loaded = uow.downtimes.get(removed)
        assert loaded is not None
        uow.downtimes.delete(loaded)
        uow.commit()

    with uow_factory() as uow:
        assert uow.downtimes.get(removed) is None
        assert uow.downtimes.get(kept) is not None
    assert search(uow_factory) == (1, [kept])


def test_an_added_downtime_is_found_by_search_before_commit(uow_factory: UowFactory) -> None:
    with uow_factory() as uow:
        uow.downtimes.add(downtime(0, 1, reason="pending"))
        count, page = uow.downtimes.search(DowntimeQuery(reason_exact="pending"))
        assert count == 1
        assert page[0].reason == "pending"


# Filters


@pytest.fixture
def bounded(uow_factory: UowFactory) -> list[int]:
    """Three downtimes: [0, 2], [2, 4] and [4, 6] hours, created and modified at 0, 1, 2 and 10, 11, 12."""
    return store(
        uow_factory,
        downtime(0, 2, created=0, modified=10),
        downtime(2, 4, created=1, modified=11),
        downtime(4, 6, created=2, modified=12),
    )


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("starts_after", 2, [1, 2]),
        ("starts_before", 2, [0, 1]),
        ("ends_after", 4, [1, 2]),
        ("ends_before", 4, [0, 1]),
        ("created_after", 1, [1, 2]),
        ("created_before", 1, [0, 1]),
        ("modified_after", 11, [1, 2]),
        ("modified_before", 11, [0, 1]),
    ],
)
def test_every_time_bound_is_inclusive(
    uow_factory: UowFactory, bounded: list[int], field: str, value: float, expected: list[int]
) -> None:
    assert search(uow_factory, **{field: hours(value)}) == (len(expected), [bounded[i] for i in expected])


def test_overlap_with_a_window_touching_both_neighbours_includes_them(
    uow_factory: UowFactory, bounded: list[int]
) -> None:
    assert search(uow_factory, ends_after=hours(2), starts_before=hours(4)) == (3, bounded)
    assert search(uow_factory, ends_after=hours(2.5), starts_before=hours(3)) == (1, [bounded[1]])


def test_time_bounds_compare_instants_whatever_the_offset(uow_factory: UowFactory, bounded: list[int]) -> None:
    hawaii = timezone(timedelta(hours=-10))
    assert search(uow_factory, starts_after=hours(4).astimezone(hawaii)) == (1, [bounded[2]])


def test_code_filters_accept_several_values_and_combine_with_and(uow_factory: UowFactory) -> None:
    ids = store(
        uow_factory,
        downtime(0, 1, "1m0a"),
        downtime(0, 1, "1m0b"),
        downtime(0, 1, "2m0a", site="ogg", enclosure="clma", instrument_type="2M0-FLOYDS-SCICAM"),
        downtime(0, 1, "2m0a", site="ogg", enclosure="clma"),
        downtime(0, 1, "0m4a", site="coj", enclosure="clma"),
    )

    assert search(uow_factory, sites=("lsc", "ogg")) == (4, ids[:4])
    assert search(uow_factory, enclosures=("clma",)) == (3, ids[2:])
    assert search(uow_factory, telescopes=("1m0b", "0m4a")) == (2, [ids[1], ids[4]])
    assert search(uow_factory, instrument_types=("",)) == (4, [ids[0], ids[1], ids[3], ids[4]])
    assert search(uow_factory, instrument_types=("2M0-FLOYDS-SCICAM",)) == (1, [ids[2]])
    assert search(uow_factory, sites=("ogg",), enclosures=("clma",), instrument_types=("",)) == (1, [ids[3]])
    assert search(uow_factory, sites=("elp",)) == (0, [])


def test_reason_contains_ignores_case_and_treats_wildcards_literally(uow_factory: UowFactory) -> None:
    ids = store(
        uow_factory,
        downtime(0, 1, reason="FLOYDS detector vacuum pump-down"),
        downtime(0, 1, reason="Realtime session 100%_done"),
        downtime(0, 1, reason="Realtime session 1000 done"),
        downtime(0, 1, reason=""),
    )

    assert search(uow_factory, reason_contains="vacuum PUMP") == (1, [ids[0]])
    assert search(uow_factory, reason_contains="100%_") == (1, [ids[1]])
    assert search(uow_factory, reason_contains="realtime") == (2, ids[1:3])
    assert search(uow_factory, reason_contains="") == (4, ids)


def test_reason_exact_is_case_sensitive_and_whole(uow_factory: UowFactory) -> None:
    ids = store(uow_factory, downtime(0, 1, reason="obs 42"), downtime(0, 1, reason="obs 421"))

    assert search(uow_factory, reason_exact="obs 42") == (1, [ids[0]])
    assert search(uow_factory, reason_exact="OBS 42") == (0, [])
    assert search(uow_factory, reason_exact="") == (0, [])


# Order and pages


def test_default_order_is_created_then_id(uow_factory: UowFactory) -> None:
    ids = store(
        uow_factory,
        downtime(0, 1, created=5),
        downtime(0, 1, created=1),
        downtime(0, 1, created=5),
        downtime(0, 1, created=3),
    )

    assert search(uow_factory) == (4, [ids[1], ids[3], ids[0], ids[2]])


def test_descending_order_still_breaks_ties_by_ascending_id(uow_factory: UowFactory) -> None:
    ids = store(uow_factory, downtime(1, 2), downtime(3, 4), downtime(1, 5), downtime(3, 6))

    assert search(uow_factory, order=("-start",)) == (4, [ids[1], ids[3], ids[0], ids[2]])


def test_several_order_keys_with_mixed_directions(uow_factory: UowFactory) -> None:
    ids = store(
        uow_factory,
        downtime(1, 2, modified=7),
        downtime(1, 5, modified=7),
        downtime(0, 5, modified=9),
        downtime(0, 2, modified=8),
    )

    assert search(uow_factory, order=("start", "-end")) == (4, [ids[2], ids[3], ids[1], ids[0]])
    assert search(uow_factory, order=("-modified", "end")) == (4, [ids[2], ids[3], ids[0], ids[1]])


def test_pages_follow_the_order_and_the_count_ignores_the_page(uow_factory: UowFactory) -> None:
    ids = store(uow_factory, *(downtime(n, n + 1, created=n) for n in range(7)))

    assert search(uow_factory, limit=3) == (7, ids[:3])
    assert search(uow_factory, limit=3, offset=3) == (7, ids[3:6])
    assert search(uow_factory, limit=3, offset=6) == (7, ids[6:])
    assert search(uow_factory, limit=3, offset=9) == (7, [])
    assert search(uow_factory, order=("-end",), limit=2, offset=1) == (7, [ids[5], ids[4]])


def test_the_count_and_page_apply_the_filters(uow_factory: UowFactory) -> None:
    ids = store(uow_factory, *(downtime(n, n + 1, "1m0a" if n % 2 else "1m0b", created=n) for n in range(6)))

    assert search(uow_factory, telescopes=("1m0a",), limit=2, offset=1) == (3, [ids[3], ids[5]])
