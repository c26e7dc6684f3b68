"""Contract of ProposalRepository: the aggregate with its memberships, invitations and allocations, stored whole.

Children added to a loaded proposal get their ids by commit, children dropped from its lists are gone, and
work left without commit changes nothing, children included.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import attrs
import pytest

from application.ports import UnitOfWork
from domain.accounts import User
from domain.errors import ConflictError
from domain.proposals import (
    UNLIMITED,
    Invitation,
    Membership,
    MembersInvited,
    Proposal,
    Role,
    Semester,
    TimeAllocation,
)

UowFactory = Callable[[], UnitOfWork]

T0 = datetime(2026, 11, 25, 18, 0, 0, 250000, tzinfo=UTC)
TYPES = ("1M0-SCICAM-SINISTRO", "2M0-FLOYDS-SCICAM", "0M4-SCICAM-QHY600")


@attrs.frozen
class World:
    """Users and semesters that proposals refer to (a database insists they exist)."""

    ada: int
    bob: int
    cyd: int
    dan: int


@pytest.fixture
def world(uow_factory: UowFactory) -> World:
    users = [User(None, name, "argon2$hash", email=f"{name}@example.org") for name in ("ada", "bob", "cyd", "dan")]
    with uow_factory() as uow:
        for user in users:
            uow.users.add(user)
        uow.semesters.add(Semester("2026A", datetime(2026, 2, 1, tzinfo=UTC), datetime(2026, 8, 1, tzinfo=UTC)))
        uow.semesters.add(Semester("2026B", datetime(2026, 8, 1, tzinfo=UTC), datetime(2027, 2, 1, tzinfo=UTC)))
        uow.commit()
    ids: list[int] = []
    for user in users:
        assert user.id is not None
        ids.append(user.id)
    return World(*ids)


def proposal(proposal_id: str, pi: int, **values: Any) -> Proposal:
    return Proposal.open(proposal_id, values, [pi], T0)


def add(uow_factory: UowFactory, *proposals: Proposal) -> None:
    with uow_factory() as uow:
        for item in proposals:
            uow.proposals.add(item)
        uow.commit()


def full_proposal(world: World) -> Proposal:
    """Every field away from its default, and children of every kind."""
    return Proposal(
        "LCO2026B-007",
        title="Supernovae in nearby galaxies",
        abstract="Light curves.\nMany of them: ünïcode and 'quotes'.",
        active=False,
        public=True,
        non_science=True,
        direct_submission=True,
        tac_priority=30,
        tac_rank=2,
        sca="SCA-1",
        tags=["transients", "key project"],
        notes="Renewed from 2026A.",
        cis_see_all_requests=True,
        created=T0,
        modified=T0 + timedelta(days=3),
        memberships=[
            Membership(None, world.ada, Role.PI),
            Membership(None, world.bob, Role.CI, 7200),
        ],
        invitations=[
            Invitation(None, "new@example.org", 3600, Role.CI, T0),
            Invitation(None, "old@example.org", UNLIMITED, Role.CI, T0 - timedelta(days=9), T0 - timedelta(days=2)),
        ],
        allocations=[
            TimeAllocation(None, "2026B", [TYPES[0], TYPES[2]], *(0.5 + n for n in range(10))),
            TimeAllocation(None, "2026A", [TYPES[1]], std_allocation=12.25, ipp_limit=1.225, ipp_time_available=0.6),
        ],
    )


def as_data(item: Any) -> dict[str, Any]:
    """Every constructor field, recursively: what a stored proposal must give back."""
    return attrs.asdict(item, recurse=True, filter=lambda attribute, _: attribute.init)


def child_ids(item: Proposal) -> list[list[int | None]]:
    return [[child.id for child in children] for children in (item.memberships, item.invitations, item.allocations)]


def test_a_stored_proposal_comes_back_with_every_field_and_child(uow_factory: UowFactory, world: World) -> None:
    original = full_proposal(world)
    add(uow_factory, original)
    expected = as_data(original)

    with uow_factory() as uow:
        loaded = uow.proposals.get("LCO2026B-007")
        assert loaded is not None
        assert as_data(loaded) == expected
        assert loaded.events == []
        # Types, not just equal values: the domain compares roles by identity and times must be aware UTC.
        assert all(type(child.role) is Role for child in (*loaded.memberships, *loaded.invitations))
        assert [m.role for m in loaded.memberships] == [Role.PI, Role.CI]
        times = [loaded.created, loaded.modified, *(i.sent for i in loaded.invitations), loaded.invitations[1].used]
        assert all(moment is not None and moment.utcoffset() == timedelta(0) for moment in times)
        assert isinstance(loaded.tags, list)
        assert all(isinstance(children, list) for children in (loaded.memberships, loaded.allocations))
        assert loaded.invitations[0].pending
        assert not loaded.invitations[1].pending
    ids = [child_id for children in child_ids(original) for child_id in children]
    assert None not in ids


def test_a_proposal_with_default_values_round_trips(uow_factory: UowFactory, world: World) -> None:
    original = Proposal("minimal")
    add(uow_factory, original)

    with uow_factory() as uow:
        loaded = uow.proposals.get("minimal")
        assert loaded is not None
        assert as_data(loaded) == as_data(Proposal("minimal"))
        assert uow.proposals.get("MINIMAL") is None
        assert uow.proposals.get("unknown") is None


def test_all_and_for_member_list_proposals_by_id_descending(uow_factory: UowFactory, world: World) -> None:
    # Ids whose code-point order differs from a locale's (case, punctuation): the order must not depend on it.
    first = proposal("LCO2026A-002", world.ada)
    first.add_member(world.bob, Role.CI)
    second = proposal("ab", world.bob)
    third = proposal("a-b", world.cyd)
    fourth = proposal("Ab", world.bob)
    fifth = proposal("ab.c", world.ada)
    fifth.add_member(world.bob, Role.PI)
    add(uow_factory, first, second, third)
    add(uow_factory, fourth, fifth)

    with uow_factory() as uow:
        assert [p.id for p in uow.proposals.all()] == ["ab.c", "ab", "a-b", "LCO2026A-002", "Ab"]
        assert [p.id for p in uow.proposals.for_member(world.bob)] == ["ab.c", "ab", "LCO2026A-002", "Ab"]
        assert [p.id for p in uow.proposals.for_member(world.cyd)] == ["a-b"]
        assert uow.proposals.for_member(world.dan) == []
        assert uow.proposals.for_member(99999) == []


def test_an_empty_store_has_no_proposals(uow_factory: UowFactory) -> None:
    with uow_factory() as uow:
        assert uow.proposals.all() == []


def test_children_added_to_a_loaded_proposal_get_ids_at_commit_and_are_stored(
    uow_factory: UowFactory, world: World
) -> None:
    add(uow_factory, full_proposal(world))
    with uow_factory() as uow:
        loaded = uow.proposals.get("LCO2026B-007")
        assert loaded is not None
        before = child_ids(loaded)
        member = loaded.add_member(world.cyd, Role.CI, 1800)
        loaded.invite(["Someone@Example.org"], 900, {}, world.ada, T0)
        allocation = loaded.allocate("2026A", [TYPES[0].lower()], {"std_allocation": 4.0}, TYPES)
        uow.commit()
        invitation = loaded.invitations[-1]

    new_ids = [member.id, invitation.id, allocation.id]
    assert None not in new_ids
    assert child_ids(loaded) == [[*old, new] for old, new in zip(before, new_ids, strict=True)]
    with uow_factory() as uow:
        stored = uow.proposals.get("LCO2026B-007")
        assert stored is not None
        assert as_data(stored) == as_data(loaded)
        assert (stored.memberships[-1].user_id, stored.memberships[-1].time_limit_s) == (world.cyd, 1800)
        assert (stored.invitations[-1].email, stored.invitations[-1].sent) == ("someone@example.org", T0)
        assert stored.allocations[-1].instrument_types == [TYPES[0]]
        assert (stored.allocations[-1].ipp_limit, stored.allocations[-1].ipp_time_available) == (0.4, 0.2)


def test_children_of_a_new_proposal_have_ids_after_commit(uow_factory: UowFactory, world: World) -> None:
    opened = proposal("new", world.ada)
    opened.add_member(world.bob, Role.CI, 60)
    opened.invite(["x@example.org"], 60, {}, world.ada, T0)
    opened.allocate("2026A", [TYPES[1]], {"std_allocation": 1.0}, TYPES)
    add(uow_factory, opened)

    ids = child_ids(opened)
    assert [len(children) for children in ids] == [2, 1, 1]
    assert None not in [child_id for children in ids for child_id in children]
    with uow_factory() as uow:
        stored = uow.proposals.get("new")
        assert stored is not None
        assert child_ids(stored) == ids


def test_children_removed_from_a_proposal_are_gone_after_commit(uow_factory: UowFactory, world: World) -> None:
    add(uow_factory, full_proposal(world))
    with uow_factory() as uow:
        loaded = uow.proposals.get("LCO2026B-007")
        assert loaded is not None
        ci, pending, allocation = loaded.memberships[1], loaded.invitations[0], loaded.allocations[0]
        assert ci.id is not None
        assert pending.id is not None
        assert allocation.id is not None
        loaded.remove_member(ci.id)
        loaded.withdraw_invitation(pending.id)
        loaded.remove_allocation(allocation.id)
        uow.commit()

    with uow_factory() as uow:
        stored = uow.proposals.get("LCO2026B-007")
        assert stored is not None
        assert [m.user_id for m in stored.memberships] == [world.ada]
        assert [i.email for i in stored.invitations] == ["old@example.org"]
        assert [a.semester_id for a in stored.allocations] == ["2026A"]
        assert uow.proposals.containing_membership(ci.id) is None
        assert uow.proposals.containing_invitation(pending.id) is None
        assert uow.proposals.containing_allocation(allocation.id) is None
        assert uow.proposals.for_member(world.bob) == []


def test_changes_to_children_are_stored_on_commit(uow_factory: UowFactory, world: World) -> None:
    add(uow_factory, full_proposal(world))
    used = T0 + timedelta(days=1)
    with uow_factory() as uow:
        loaded = uow.proposals.get("LCO2026B-007")
        assert loaded is not None
        bob = loaded.memberships[1]
        assert bob.id is not None
        loaded.set_time_limit(bob.id, 3.5)
        accepted = loaded.accept_invitations("new@example.org", world.cyd, used)
        loaded.set_role(world.cyd, Role.PI)
        allocation = loaded.allocations[1]
        assert allocation.id is not None
        loaded.revise_allocation(allocation.id, {"std_time_used": 2.5}, [TYPES[1], TYPES[0]], TYPES)
        uow.commit()

    assert accepted == 1
    with uow_factory() as uow:
        stored = uow.proposals.get("LCO2026B-007")
        assert stored is not None
        assert as_data(stored) == as_data(loaded)
        assert [(m.user_id, m.role, m.time_limit_s) for m in stored.memberships] == [
            (world.ada, Role.PI, UNLIMITED),
            (world.bob, Role.CI, 12600),
            (world.cyd, Role.PI, UNLIMITED),
        ]
        assert stored.invitations[0].used == used
        assert (stored.allocations[1].instrument_types, stored.allocations[1].std_time_used) == (
            [TYPES[1], TYPES[0]],
            2.5,
        )


def test_lists_changed_in_place_are_stored_on_commit(uow_factory: UowFactory, world: World) -> None:
    add(uow_factory, full_proposal(world))
    with uow_factory() as uow:
        loaded = uow.proposals.get("LCO2026B-007")
        assert loaded is not None
        loaded.tags.append("renewed")
        loaded.allocations[1].instrument_types.append(TYPES[2])
        uow.commit()

    with uow_factory() as uow:
        stored = uow.proposals.get("LCO2026B-007")
        assert stored is not None
        assert stored.tags == ["transients", "key project", "renewed"]
        assert stored.allocations[1].instrument_types == [TYPES[1], TYPES[2]]


def test_work_left_without_commit_changes_neither_fields_nor_children(uow_factory: UowFactory, world: World) -> None:
    add(uow_factory, full_proposal(world))
    with uow_factory() as uow:
        expected = as_data(uow.proposals.get("LCO2026B-007"))

    with uow_factory() as uow:
        loaded = uow.proposals.get("LCO2026B-007")
        assert loaded is not None
        loaded.edit({"title": "Changed", "tags": ["other"], "tac_rank": 9}, T0 + timedelta(days=30))
        loaded.tags.append("more")
        loaded.add_member(world.cyd, Role.CI)
        loaded.set_global_limit(1.0)
        loaded.invite(["fresh@example.org"], 60, {}, world.ada, T0)
        first_allocation = loaded.allocations[0]
        assert first_allocation.id is not None
        loaded.remove_allocation(first_allocation.id)
        loaded.allocations[0].std_allocation = 99.0
        uow.proposals.add(proposal("never-committed", world.dan))

    with uow_factory() as uow:
        assert as_data(uow.proposals.get("LCO2026B-007")) == expected
        assert uow.proposals.get("never-committed") is None
        assert uow.proposals.for_member(world.cyd) == []
        assert uow.proposals.with_pending_invitation("fresh@example.org") == []


def test_rollback_discards_changes_to_a_proposal_and_its_children(uow_factory: UowFactory, world: World) -> None:
    add(uow_factory, full_proposal(world))
    with uow_factory() as uow:
        expected = as_data(uow.proposals.get("LCO2026B-007"))

    with uow_factory() as uow:
        loaded = uow.proposals.get("LCO2026B-007")
        assert loaded is not None
        loaded.title = "Rolled back"
        loaded.memberships[1].time_limit_s = 1
        loaded.add_member(world.dan, Role.CI)
        loaded.invitations.clear()
        uow.rollback()
        uow.commit()

    with uow_factory() as uow:
        assert as_data(uow.proposals.get("LCO2026B-007")) == expected


def test_pending_invitations_are_found_by_email_and_used_ones_are_not(uow_factory: UowFactory, world: World) -> None:
    waiting = proposal("waiting", world.ada)
    waiting.invitations.append(Invitation(None, "x@example.org", sent=T0))
    accepted = proposal("accepted", world.ada)
    accepted.invitations.append(Invitation(None, "x@example.org", sent=T0, used=T0 + timedelta(hours=1)))
    other = proposal("other", world.bob)
    other.invitations.append(Invitation(None, "y@example.org", sent=T0))
    also = proposal("also", world.cyd)
    also.invitations.extend([Invitation(None, "x@example.org", sent=T0), Invitation(None, "x@example.org")])
    add(uow_factory, waiting, accepted, other, also)

    with uow_factory() as uow:
        assert [p.id for p in uow.proposals.with_pending_invitation("x@example.org")] == ["waiting", "also"]
        assert [p.id for p in uow.proposals.with_pending_invitation("y@example.org")] == ["other"]
        assert uow.proposals.with_pending_invitation("z@example.org") == []


def test_the_proposal_holding_a_child_is_found_by_the_child_id(uow_factory: UowFactory, world: World) -> None:
    first = full_proposal(world)
    second = proposal("second", world.cyd)
    second.add_member(world.dan, Role.CI)
    second.invite(["z@example.org"], 60, {}, world.cyd, T0)
    second.allocate("2026B", [TYPES[0]], {}, TYPES)
    add(uow_factory, first, second)
    all_ids = [child_id for item in (first, second) for ids in child_ids(item) for child_id in ids]
    unknown = max(child_id for child_id in all_ids if child_id is not None) + 1000

    with uow_factory() as uow:
        for item in (first, second):
            for membership in item.memberships:
                assert membership.id is not None
                found = uow.proposals.containing_membership(membership.id)
                assert found is not None
                assert found.id == item.id
            for invitation in item.invitations:
                assert invitation.id is not None
                found = uow.proposals.containing_invitation(invitation.id)
                assert found is not None
                assert found.id == item.id
            for allocation in item.allocations:
                assert allocation.id is not None
                found = uow.proposals.containing_allocation(allocation.id)
                assert found is not None
                assert found.id == item.id
        assert uow.proposals.containing_membership(unknown) is None
        assert uow.proposals.containing_invitation(unknown) is None
        assert uow.proposals.containing_allocation(unknown) is None


def test_a_taken_id_is_a_conflict(uow_factory: UowFactory, world: World) -> None:
    add(uow_factory, proposal("taken", world.ada))

    with uow_factory() as uow, pytest.raises(ConflictError):
        uow.proposals.add(proposal("taken", world.bob))


def test_an_id_added_earlier_in_the_same_unit_of_work_is_a_conflict(uow_factory: UowFactory, world: World) -> None:
    with uow_factory() as uow:
        uow.proposals.add(proposal("twice", world.ada))
        with pytest.raises(ConflictError):
            uow.proposals.add(proposal("twice", world.bob))


def test_a_proposal_reached_twice_in_one_unit_of_work_is_one_object(uow_factory: UowFactory, world: World) -> None:
    add(uow_factory, full_proposal(world))

    with uow_factory() as uow:
        first = uow.proposals.get("LCO2026B-007")
        assert first is not None
        assert uow.proposals.all()[0] is first
        assert uow.proposals.for_member(world.bob)[0] is first
        assert uow.proposals.with_pending_invitation("new@example.org")[0] is first
        assert first.memberships[0].id is not None
        assert uow.proposals.containing_membership(first.memberships[0].id) is first


def test_proposals_stay_readable_after_the_block_ends(uow_factory: UowFactory, world: World) -> None:
    add(uow_factory, full_proposal(world))
    with uow_factory() as uow:
        [listed] = uow.proposals.all()

    assert [m.user_id for m in listed.memberships] == [world.ada, world.bob]
    assert [i.email for i in listed.invitations] == ["new@example.org", "old@example.org"]
    assert [a.semester_id for a in listed.allocations] == ["2026B", "2026A"]
    assert listed.tags == ["transients", "key project"]


def test_events_of_added_and_loaded_proposals_are_collected_after_commit(uow_factory: UowFactory, world: World) -> None:
    add(uow_factory, proposal("loaded", world.ada))

    with uow_factory() as uow:
        added = proposal("added", world.bob)
        added.events.append("proposal opened")
        uow.proposals.add(added)
        [loaded] = uow.proposals.for_member(world.ada)
        loaded.events.append("proposal edited")
        loaded.invite(["Cyd@example.org", "stranger@example.org"], 60, {"cyd@example.org": world.cyd}, world.ada, T0)
        uow.commit()

    events = list(uow.collect_new_events())
    assert sorted(map(str, events)) == sorted(
        ["proposal opened", "proposal edited", str(MembersInvited("loaded", ("stranger@example.org",)))]
    )
    assert list(uow.collect_new_events()) == []
    assert loaded.events == []
    with uow_factory() as uow:
        assert [p.id for p in uow.proposals.for_member(world.cyd)] == ["loaded"]


def test_events_of_discarded_work_are_never_collected(uow_factory: UowFactory, world: World) -> None:
    add(uow_factory, proposal("p", world.ada))

    with uow_factory() as uow:
        loaded = uow.proposals.get("p")
        assert loaded is not None
        loaded.invite(["first@example.org"], 60, {}, world.ada, T0)
        uow.rollback()
        kept = uow.proposals.get("p")
        assert kept is not None
        kept.invite(["second@example.org"], 60, {}, world.ada, T0)
        uow.commit()
        left = uow.proposals.get("p")
        assert left is not None
        left.invite(["third@example.org"], 60, {}, world.ada, T0)

    assert list(uow.collect_new_events()) == [MembersInvited("p", ("second@example.org",))]
