"""Semesters, proposals, members, invitations and time allocations: the rules of requests.md 1.3-1.7."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.errors import ValidationError
from domain.proposals import (
    MembersInvited,
    Proposal,
    Role,
    Semester,
    limit_from_hours,
    semester_containing,
)

NOW = datetime(2026, 11, 20, tzinfo=UTC)
B = Semester("2026B", datetime(2026, 8, 1, tzinfo=UTC), datetime(2027, 2, 1, tzinfo=UTC))
TYPES = ["1M0-SCICAM-SINISTRO", "2M0-FLOYDS-SCICAM", "0M4-SCICAM-QHY600"]
PI, CI, OTHER = 1, 2, 3


def make_proposal() -> Proposal:
    proposal = Proposal.open("LCO2026B-001", {"title": "Supernovae"}, [PI], NOW)
    proposal.add_member(CI, Role.CI)
    for number, membership in enumerate(proposal.memberships, start=1):
        membership.id = number
    return proposal


# -- semesters ---------------------------------------------------------------------------------------------


def test_a_semester_must_end_after_it_starts() -> None:
    with pytest.raises(ValidationError) as refused:
        Semester.define("2027A", B.end, B.end, [])
    assert refused.value.errors == {"end": ["End must be after start"]}


def test_overlapping_semesters_are_refused_with_both_ids() -> None:
    with pytest.raises(ValidationError) as refused:
        Semester.define("2026C", B.start + timedelta(days=10), B.end + timedelta(days=10), [B])
    assert refused.value.errors == {"non_field_errors": ["Semester 2026C overlaps 2026B"]}


def test_a_semester_may_start_the_instant_the_previous_one_ends() -> None:
    nxt = Semester.define("2027A", B.end, datetime(2027, 8, 1, tzinfo=UTC), [B])
    assert semester_containing([B, nxt], B.end) is nxt
    assert semester_containing([B, nxt], NOW) is B
    assert semester_containing([B, nxt], datetime(2030, 1, 1, tzinfo=UTC)) is None


def test_rescheduling_into_another_semester_is_refused_and_changes_nothing() -> None:
    nxt = Semester("2027A", B.end, datetime(2027, 8, 1, tzinfo=UTC))
    with pytest.raises(ValidationError):
        nxt.reschedule(B.start, nxt.end, [B, nxt])
    assert nxt.start == B.end


def test_semester_ids_are_short_codes() -> None:
    with pytest.raises(ValidationError) as refused:
        Semester.define("2026 B/x", B.start, B.end, [])
    assert "id" in refused.value.errors


@given(st.lists(st.tuples(st.integers(0, 100), st.integers(1, 30)), max_size=12))
def test_accepted_semesters_never_overlap_and_refusals_name_a_real_overlap(spans: list[tuple[int, int]]) -> None:
    origin = datetime(2020, 1, 1, tzinfo=UTC)
    accepted: list[Semester] = []
    for number, (start_day, length) in enumerate(spans):
        start, end = origin + timedelta(days=start_day), origin + timedelta(days=start_day + length)
        try:
            accepted.append(Semester.define(f"S{number}", start, end, accepted))
        except ValidationError:
            assert any(start < other.end and other.start < end for other in accepted)
    for first in accepted:
        for second in accepted:
            if first is not second:
                assert first.end <= second.start or second.end <= first.start


# -- proposals and members ---------------------------------------------------------------------------------


def test_a_proposal_opens_with_its_pi_as_an_unlimited_member() -> None:
    proposal = make_proposal()
    assert proposal.pi_ids() == [PI]
    assert proposal.role_of(CI) is Role.CI
    assert proposal.role_of(OTHER) is None
    assert all(m.time_limit_s == -1 for m in proposal.memberships)


def test_a_proposal_needs_a_pi_and_a_valid_id() -> None:
    with pytest.raises(ValidationError):
        Proposal.open("P1", {}, [], NOW)
    with pytest.raises(ValidationError):
        Proposal.open("has space", {}, [PI], NOW)


def test_the_proposal_id_cannot_be_changed() -> None:
    proposal = make_proposal()
    with pytest.raises(ValidationError) as refused:
        proposal.edit({"id": "NEW", "title": "Renamed"}, NOW)
    assert refused.value.errors == {"id": ["Proposal id cannot be changed"]}
    assert proposal.title == "Supernovae"


def test_editing_changes_the_given_fields_only() -> None:
    proposal = make_proposal()
    proposal.edit({"id": proposal.id, "tac_priority": 30, "public": True}, NOW + timedelta(hours=1))
    assert (proposal.tac_priority, proposal.public, proposal.title) == (30, True, "Supernovae")
    assert proposal.modified == NOW + timedelta(hours=1)


def test_negative_tac_values_are_refused() -> None:
    with pytest.raises(ValidationError) as refused:
        make_proposal().edit({"tac_priority": -1}, NOW)
    assert refused.value.errors == {"tac_priority": ["Ensure this value is greater than or equal to 0."]}


def test_the_pi_cannot_be_removed_but_a_ci_can() -> None:
    proposal = make_proposal()
    pi_membership, ci_membership = proposal.memberships
    with pytest.raises(ValidationError) as refused:
        proposal.remove_member(pi_membership.id or 0)
    assert refused.value.errors == {"detail": "Cannot remove the PI of a proposal"}
    proposal.remove_member(ci_membership.id or 0)
    assert proposal.role_of(CI) is None
    assert proposal.pi_ids() == [PI]


def test_the_last_pi_cannot_become_a_ci() -> None:
    proposal = make_proposal()
    with pytest.raises(ValidationError):
        proposal.set_role(PI, Role.CI)
    proposal.set_role(CI, Role.PI)
    proposal.set_role(PI, Role.CI)
    assert proposal.pi_ids() == [CI]


@pytest.mark.parametrize(("hours", "seconds"), [(1.0, 3600), (0.05, 180), (2.5, 9000), (0, 0), (-1, -1), (-0.5, -1)])
def test_time_limits_are_set_in_hours_and_stored_in_seconds(hours: float, seconds: int) -> None:
    assert limit_from_hours(hours) == seconds
    proposal = make_proposal()
    assert proposal.set_time_limit(2, hours).time_limit_s == seconds


def test_a_pi_membership_takes_no_time_limit() -> None:
    proposal = make_proposal()
    with pytest.raises(ValidationError) as refused:
        proposal.set_time_limit(1, 3)
    assert refused.value.errors == {"detail": "Cannot set a time limit on a PI membership"}


def test_a_global_limit_sets_every_ci_and_no_pi() -> None:
    proposal = make_proposal()
    proposal.add_member(OTHER, Role.CI)
    proposal.set_global_limit(2.5)
    assert {m.user_id: m.time_limit_s for m in proposal.memberships} == {PI: -1, CI: 9000, OTHER: 9000}


# -- invitations -------------------------------------------------------------------------------------------


def test_inviting_a_known_address_makes_a_member_and_an_unknown_one_an_invitation() -> None:
    proposal = make_proposal()
    proposal.invite(["Known@Example.org", "new@example.org"], 3600, {"known@example.org": OTHER}, PI, NOW)
    assert proposal.membership_of(OTHER) is not None
    assert proposal.membership_of(OTHER).time_limit_s == 3600  # type: ignore[union-attr]
    (invitation,) = proposal.invitations
    assert (invitation.email, invitation.time_limit_s, invitation.pending) == ("new@example.org", 3600, True)
    assert proposal.events == [MembersInvited(proposal.id, ("new@example.org",))]


@pytest.mark.parametrize("bad", ["not-an-email", "a@b", "two@@example.org", "spa ce@example.org", ""])
def test_a_malformed_address_refuses_the_whole_invitation(bad: str) -> None:
    proposal = make_proposal()
    with pytest.raises(ValidationError) as refused:
        proposal.invite(["fine@example.org", bad], -1, {}, PI, NOW)
    assert refused.value.errors == {"emails": ["Enter a valid email address."]}
    assert proposal.invitations == []
    assert proposal.events == []


def test_inviting_oneself_or_a_member_is_refused() -> None:
    proposal = make_proposal()
    for email, user_id in (("pi@example.org", PI), ("ci@example.org", CI)):
        with pytest.raises(ValidationError) as refused:
            proposal.invite([email], -1, {email: user_id}, PI, NOW)
        assert refused.value.errors == {"emails": [f"{email} is already a member of this proposal"]}
    assert len(proposal.memberships) == 2


def test_inviting_again_refreshes_the_pending_invitation() -> None:
    proposal = make_proposal()
    proposal.invite(["new@example.org"], 60, {}, PI, NOW)
    proposal.invite(["new@example.org"], 120, {}, PI, NOW + timedelta(days=1))
    (invitation,) = proposal.invitations
    assert (invitation.time_limit_s, invitation.sent) == (120, NOW + timedelta(days=1))


def test_accepting_turns_pending_invitations_into_memberships_once() -> None:
    proposal = make_proposal()
    proposal.invite(["new@example.org"], 600, {}, PI, NOW)
    assert proposal.accept_invitations("New@Example.org", OTHER, NOW) == 1
    assert proposal.membership_of(OTHER).time_limit_s == 600  # type: ignore[union-attr]
    assert proposal.invitations[0].used == NOW
    assert proposal.accept_invitations("new@example.org", OTHER, NOW) == 0


def test_only_pending_invitations_can_be_withdrawn() -> None:
    proposal = make_proposal()
    proposal.invite(["a@example.org", "b@example.org"], -1, {}, PI, NOW)
    first, second = proposal.invitations
    first.id, second.id = 1, 2
    proposal.accept_invitations("a@example.org", OTHER, NOW)
    proposal.withdraw_invitation(1)
    proposal.withdraw_invitation(2)
    assert proposal.invitations == [first]


# -- time allocations --------------------------------------------------------------------------------------


def test_an_allocation_takes_canonical_codes_and_ipp_defaults() -> None:
    proposal = make_proposal()
    allocation = proposal.allocate("2026B", ["1m0-scicam-sinistro"], {"std_allocation": 100}, TYPES)
    assert allocation.instrument_types == ["1M0-SCICAM-SINISTRO"]
    assert (allocation.ipp_limit, allocation.ipp_time_available) == (10.0, 5.0)
    assert proposal.allocation_for("2026B", "1M0-SCICAM-SINISTRO") is allocation
    assert proposal.allocation_for("2027A", "1M0-SCICAM-SINISTRO") is None


def test_an_unknown_instrument_type_is_refused() -> None:
    with pytest.raises(ValidationError) as refused:
        make_proposal().allocate("2026B", ["1M0-NOPE"], {}, TYPES)
    assert refused.value.errors == {"instrument_types": ["Unknown instrument type 1M0-NOPE"]}


def test_negative_hours_are_refused_per_field() -> None:
    proposal = make_proposal()
    with pytest.raises(ValidationError) as refused:
        proposal.allocate("2026B", TYPES[:1], {"std_allocation": -1, "rr_allocation": 2}, TYPES)
    assert refused.value.errors == {"std_allocation": ["Ensure this value is greater than or equal to 0."]}
    assert proposal.allocations == []


def test_an_instrument_type_has_one_pool_per_semester() -> None:
    proposal = make_proposal()
    proposal.allocate("2026B", TYPES[:2], {}, TYPES)
    with pytest.raises(ValidationError) as refused:
        proposal.allocate("2026B", [TYPES[1], TYPES[2]], {}, TYPES)
    assert refused.value.errors == {
        "instrument_types": [
            "Instrument type 2M0-FLOYDS-SCICAM already has an allocation for proposal LCO2026B-001 in semester 2026B"
        ]
    }
    proposal.allocate("2027A", TYPES[1:], {}, TYPES)  # another semester is another pool
    assert len(proposal.allocations) == 2


def test_revising_an_allocation_keeps_the_one_pool_rule() -> None:
    proposal = make_proposal()
    first = proposal.allocate("2026B", TYPES[:1], {}, TYPES)
    second = proposal.allocate("2026B", TYPES[1:2], {}, TYPES)
    first.id, second.id = 1, 2
    with pytest.raises(ValidationError):
        proposal.revise_allocation(2, {}, TYPES[:2], TYPES)
    assert second.instrument_types == TYPES[1:2]
    proposal.revise_allocation(1, {"std_time_used": 150.0}, TYPES[:1] + TYPES[2:], TYPES)
    assert first.std_time_used == 150.0  # used hours may exceed the allocation: charging is after the fact
    assert first.instrument_types == [TYPES[0], TYPES[2]]
