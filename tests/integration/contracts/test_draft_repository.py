"""Contract of DraftRepository: drafts stored whole, one per author, proposal and title, listed newest change first."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import attrs
import pytest
import sqlalchemy as sa

from application.ports import DraftQuery, UnitOfWork
from domain.accounts import User
from domain.drafts import Draft
from domain.errors import ConflictError
from domain.proposals import Proposal

if TYPE_CHECKING:
    from conftest import Backend

UowFactory = Callable[[], UnitOfWork]

T0 = datetime(2026, 11, 25, 18, 0, 0, 250000, tzinfo=UTC)
P1, P2, P3 = "LCO2026B-001", "LCO2026B-002", "LCO2026B-003"


@attrs.frozen
class World:
    """Users and proposals that drafts refer to (a database insists they exist)."""

    ada: int
    bob: int


@pytest.fixture
def world(uow_factory: UowFactory) -> World:
    users = [User(None, name, "argon2$hash", email=f"{name}@example.org") for name in ("ada", "bob")]
    with uow_factory() as uow:
        for user in users:
            uow.users.add(user)
        uow.commit()
    ada, bob = (user.id for user in users)
    assert ada is not None
    assert bob is not None
    with uow_factory() as uow:
        for proposal_id in (P1, P2, P3):
            uow.proposals.add(Proposal.open(proposal_id, {}, [ada], T0))
        uow.commit()
    return World(ada, bob)


def draft(
    author: int, proposal: str = P1, title: str = "M31 mosaic", *, minutes: float = 0, content: str = '{"name": "M31"}'
) -> Draft:
    when = T0 + timedelta(minutes=minutes)
    return Draft(None, author, proposal, title, content, when, when)


def store(uow_factory: UowFactory, *drafts: Draft) -> list[int]:
    with uow_factory() as uow:
        for item in drafts:
            uow.drafts.add(item)
        uow.commit()
    return [item.id for item in drafts if item.id is not None]


def fields(item: Draft | None) -> dict[str, object] | None:
    if item is None:
        return None
    return attrs.asdict(item, filter=lambda attribute, _: attribute.name != "events")


def search(uow_factory: UowFactory, **query: object) -> tuple[int, list[int | None]]:
    with uow_factory() as uow:
        count, page = uow.drafts.search(DraftQuery(**query))  # type: ignore[arg-type]
        return count, [item.id for item in page]


def test_add_assigns_distinct_ids_and_get_returns_every_field(uow_factory: UowFactory, world: World) -> None:
    content = '{"name": "Ünïcode \'quotes\'", "requests": [{"windows": []}], "ipp_value": 1.05}'
    first = draft(world.ada, content=content)
    second = draft(world.bob, P2, "x" * 50, minutes=1)
    ids = store(uow_factory, first, second)

    assert len(set(ids)) == 2
    with uow_factory() as uow:
        assert fields(uow.drafts.get(ids[0])) == fields(first)
        assert fields(uow.drafts.get(ids[1])) == fields(second)
        loaded = uow.drafts.get(ids[0])
    assert loaded is not None
    assert loaded.created == T0
    assert loaded.created.tzinfo is not None
    assert loaded.events == []


def test_an_unknown_id_gives_none(uow_factory: UowFactory, world: World) -> None:
    with uow_factory() as uow:
        assert uow.drafts.get(12345) is None


def test_find_matches_author_proposal_and_exact_title(uow_factory: UowFactory, world: World) -> None:
    (draft_id,) = store(uow_factory, draft(world.ada, P1, "M31 mosaic"))

    with uow_factory() as uow:
        found = uow.drafts.find(world.ada, P1, "M31 mosaic")
        assert found is not None
        assert found.id == draft_id
        assert uow.drafts.find(world.bob, P1, "M31 mosaic") is None
        assert uow.drafts.find(world.ada, P2, "M31 mosaic") is None
        assert uow.drafts.find(world.ada, P1, "m31 mosaic") is None
        assert uow.drafts.find(world.ada, P1, "M31") is None


def test_changes_to_a_loaded_draft_are_stored_on_commit(uow_factory: UowFactory, world: World) -> None:
    (draft_id,) = store(uow_factory, draft(world.ada))
    later = T0 + timedelta(hours=2)

    with uow_factory() as uow:
        loaded = uow.drafts.get(draft_id)
        assert loaded is not None
        loaded.revise(
            {"proposal_id": P2, "title": "Renamed", "content": "[1, 2]"}, may_write=True, holder=None, now=later
        )
        uow.commit()

    with uow_factory() as uow:
        stored = uow.drafts.get(draft_id)
    assert stored is not None
    assert (stored.proposal_id, stored.title, stored.content, stored.created, stored.modified) == (
        P2,
        "Renamed",
        "[1, 2]",
        T0,
        later,
    )


def test_work_left_without_commit_changes_nothing(uow_factory: UowFactory, world: World) -> None:
    (draft_id,) = store(uow_factory, draft(world.ada))

    with uow_factory() as uow:
        loaded = uow.drafts.get(draft_id)
        assert loaded is not None
        loaded.title = "Changed"
        uow.drafts.add(draft(world.bob, title="Never stored"))
    with uow_factory() as uow:
        loaded = uow.drafts.get(draft_id)
        assert loaded is not None
        uow.drafts.delete(loaded)
        uow.rollback()

    with uow_factory() as uow:
        stored = uow.drafts.get(draft_id)
        assert stored is not None
        assert stored.title == "M31 mosaic"
        assert uow.drafts.find(world.bob, P1, "Never stored") is None
        assert uow.drafts.search(DraftQuery())[0] == 1


def test_deleted_drafts_are_gone_after_commit(uow_factory: UowFactory, world: World) -> None:
    kept, deleted = store(uow_factory, draft(world.ada), draft(world.bob))

    with uow_factory() as uow:
        loaded = uow.drafts.get(deleted)
        assert loaded is not None
        uow.drafts.delete(loaded)
        uow.commit()

    with uow_factory() as uow:
        assert uow.drafts.get(deleted) is None
        assert uow.drafts.get(kept) is not None


def test_a_second_draft_of_one_title_by_one_author_in_one_proposal_is_a_conflict(
    uow_factory: UowFactory, world: World
) -> None:
    store(uow_factory, draft(world.ada))

    with uow_factory() as uow, pytest.raises(ConflictError):
        uow.drafts.add(draft(world.ada, minutes=5))
    with uow_factory() as uow:
        assert uow.drafts.search(DraftQuery())[0] == 1


def test_a_title_added_earlier_in_the_same_unit_of_work_is_a_conflict(uow_factory: UowFactory, world: World) -> None:
    with uow_factory() as uow:
        uow.drafts.add(draft(world.ada))
        with pytest.raises(ConflictError):
            uow.drafts.add(draft(world.ada))


def test_the_same_title_is_free_for_another_author_or_proposal(uow_factory: UowFactory, world: World) -> None:
    ids = store(uow_factory, draft(world.ada), draft(world.bob), draft(world.ada, P2))

    assert len(set(ids)) == 3


def test_renaming_onto_a_taken_title_is_a_conflict_at_commit_and_changes_nothing(
    uow_factory: UowFactory, world: World
) -> None:
    _, renamed = store(uow_factory, draft(world.ada, title="Taken"), draft(world.ada, title="Free"))

    with uow_factory() as uow:
        loaded = uow.drafts.get(renamed)
        assert loaded is not None
        loaded.title = "Taken"
        with pytest.raises(ConflictError):
            uow.commit()

    with uow_factory() as uow:
        stored = uow.drafts.get(renamed)
        assert stored is not None
        assert stored.title == "Free"


def test_search_orders_by_modified_newest_first_then_id_newest_first(uow_factory: UowFactory, world: World) -> None:
    old, tie_a, tie_b, new = store(
        uow_factory,
        draft(world.ada, title="old", minutes=-60),
        draft(world.ada, title="tie a"),
        draft(world.bob, title="tie b"),
        draft(world.bob, P2, title="new", minutes=30),
    )

    assert search(uow_factory) == (4, [new, tie_b, tie_a, old])


def test_a_revised_draft_moves_to_the_front(uow_factory: UowFactory, world: World) -> None:
    first, second = store(uow_factory, draft(world.ada, title="first"), draft(world.ada, title="second", minutes=1))

    with uow_factory() as uow:
        loaded = uow.drafts.get(first)
        assert loaded is not None
        loaded.revise({"content": "{}"}, may_write=True, holder=None, now=T0 + timedelta(minutes=2))
        uow.commit()

    assert search(uow_factory) == (2, [first, second])


def test_pages_follow_the_order_and_the_count_ignores_the_page(uow_factory: UowFactory, world: World) -> None:
    ids = store(uow_factory, *(draft(world.ada, title=f"draft {n}", minutes=n) for n in range(5)))

    assert search(uow_factory, limit=2, offset=1) == (5, [ids[3], ids[2]])
    assert search(uow_factory, limit=10, offset=4) == (5, [ids[0]])
    assert search(uow_factory, limit=10, offset=5) == (5, [])


def test_search_shows_only_the_visible_proposals(uow_factory: UowFactory, world: World) -> None:
    in_p1, in_p2, in_p3 = store(uow_factory, draft(world.ada, P1), draft(world.ada, P2), draft(world.bob, P3))

    assert search(uow_factory, visible_proposals=frozenset({P1, P3})) == (2, [in_p3, in_p1])
    assert search(uow_factory, visible_proposals=frozenset()) == (0, [])
    assert search(uow_factory, visible_proposals=None)[0] == 3
    assert in_p2 in search(uow_factory)[1]


def test_drafts_stay_readable_after_the_block_ends(uow_factory: UowFactory, world: World) -> None:
    store(uow_factory, draft(world.ada))

    with uow_factory() as uow:
        _, page = uow.drafts.search(DraftQuery())
    assert [(d.title, d.content, d.modified) for d in page] == [("M31 mosaic", '{"name": "M31"}', T0)]


def test_the_database_deletes_a_proposals_drafts_with_it(sql_backend: Backend) -> None:
    uow_factory = sql_backend.uow_factory
    with uow_factory() as uow:
        user = User(None, "ada", "argon2$hash")
        uow.users.add(user)
        assert user.id is not None
        uow.proposals.add(Proposal.open(P1, {}, [user.id], T0))
        uow.proposals.add(Proposal.open(P2, {}, [user.id], T0))
        uow.commit()
    gone, kept = store(uow_factory, draft(user.id, P1), draft(user.id, P2))

    assert sql_backend.engine is not None
    with sql_backend.engine.begin() as connection:
        connection.execute(sa.text("DELETE FROM proposals WHERE id = :p"), {"p": P1})

    with uow_factory() as uow:
        assert uow.drafts.get(gone) is None
        assert uow.drafts.get(kept) is not None
