"""Use cases of semesters, proposals, memberships, invitations and time allocations.

Every handler checks the caller against domain.permissions before it loads anything it may change, and
commits once: a refused command stores nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from application.commands import (
    AddMember,
    AllocateTime,
    CreateProposal,
    CreateSemester,
    EditProposal,
    EditSemester,
    ImportTacResult,
    InviteMembers,
    RemoveMembership,
    ReviseAllocation,
    SetGlobalLimit,
    SetMembershipLimit,
    SetRequestVisibility,
    WithdrawInvitation,
)
from application.ports import Clock, Mailer, UnitOfWork
from domain.accounts import User, UserEmailChanged, UserRegistered
from domain.errors import NotFoundError, ValidationError
from domain.permissions import Action, require
from domain.proposals import (
    HOUR_FIELDS,
    PROPOSAL_FIELDS,
    MembersInvited,
    Proposal,
    Role,
    Semester,
    TimeAllocation,
)


def instrument_type_codes(uow: UnitOfWork) -> list[str]:
    """Every instrument type code configdb knows: what allocations may name."""
    return [t.code for t in uow.observatory.get().instrument_types.values()]


def find_user(uow: UnitOfWork, name: str) -> User | None:
    """A user by username, or by email when the name holds an @ (as logins do)."""
    if "@" in name:
        return uow.users.get_by_email(name) or uow.users.get_by_username(name)
    return uow.users.get_by_username(name)


def _proposal(uow: UnitOfWork, proposal_id: str) -> Proposal:
    proposal = uow.proposals.get(proposal_id)
    if proposal is None:
        raise NotFoundError(f"proposal {proposal_id}")
    return proposal


def _with_proposal(uow: UnitOfWork, found: Proposal | None, what: str) -> Proposal:
    if found is None:
        raise NotFoundError(what)
    return found


# ---------------------------------------------------------------------------------------------------------
# Semesters (staff)


def create_semester(cmd: CreateSemester, uow: UnitOfWork) -> Semester:
    require(Action.ADMINISTER, cmd.actor)
    with uow:
        if uow.semesters.get(cmd.semester_id) is not None:
            raise ValidationError.on("id", f"Semester {cmd.semester_id} already exists")
        semester = Semester.define(cmd.semester_id, cmd.start, cmd.end, uow.semesters.all())
        uow.semesters.add(semester)
        uow.commit()
        return semester


def edit_semester(cmd: EditSemester, uow: UnitOfWork) -> Semester:
    require(Action.ADMINISTER, cmd.actor)
    with uow:
        semester = uow.semesters.get(cmd.semester_id)
        if semester is None:
            raise NotFoundError(f"semester {cmd.semester_id}")
        semester.reschedule(cmd.start or semester.start, cmd.end or semester.end, uow.semesters.all())
        uow.commit()
        return semester


# ---------------------------------------------------------------------------------------------------------
# Proposals (staff)


def _pi_ids(uow: UnitOfWork, names: tuple[str, ...], field_name: str = "pis") -> list[int]:
    ids: list[int] = []
    for name in names:
        user = find_user(uow, name)
        if user is None or user.id is None:
            raise ValidationError.on(
                field_name, f"No user {name}: create the account first (obsnet users create {name.split('@')[0]})"
            )
        ids.append(user.id)
    return ids


def create_proposal(cmd: CreateProposal, uow: UnitOfWork, clock: Clock) -> Proposal:
    require(Action.ADMINISTER, cmd.actor)
    with uow:
        if uow.proposals.get(cmd.proposal_id) is not None:
            raise ValidationError.on("id", f"Proposal {cmd.proposal_id} already exists")
        proposal = Proposal.open(cmd.proposal_id, cmd.values, _pi_ids(uow, cmd.pis), clock.now())
        uow.proposals.add(proposal)
        uow.commit()
        return proposal


def edit_proposal(cmd: EditProposal, uow: UnitOfWork, clock: Clock) -> Proposal:
    with uow:
        proposal = _proposal(uow, cmd.proposal_id)
        require(Action.ADMINISTER, cmd.actor, proposal)
        proposal.edit(cmd.values, clock.now())
        uow.commit()
        return proposal


def add_member(cmd: AddMember, uow: UnitOfWork) -> Proposal:
    with uow:
        proposal = _proposal(uow, cmd.proposal_id)
        require(Action.ADMINISTER, cmd.actor, proposal)
        user = find_user(uow, cmd.user)
        if user is None or user.id is None:
            raise ValidationError.on("user", f"No user {cmd.user}")
        try:
            role = Role(cmd.role.upper())
        except ValueError:
            raise ValidationError.on("role", f'"{cmd.role}" is not a valid choice.') from None
        if proposal.membership_of(user.id) is None:
            proposal.add_member(user.id, role, cmd.time_limit_s)
        else:
            proposal.set_role(user.id, role)
        uow.commit()
        return proposal


# ---------------------------------------------------------------------------------------------------------
# Members (the PI)


def invite_members(cmd: InviteMembers, uow: UnitOfWork, clock: Clock) -> Proposal:
    with uow:
        proposal = _proposal(uow, cmd.proposal_id)
        require(Action.MANAGE_MEMBERS, cmd.actor, proposal)
        assert cmd.actor.user_id is not None  # noqa: S101 - require() refused anonymous callers
        users_by_email: dict[str, int] = {}
        for email in cmd.emails:
            user = uow.users.get_by_email(email.strip())
            if user is not None and user.id is not None:
                users_by_email[user.email.lower()] = user.id
        proposal.invite(cmd.emails, cmd.time_limit_s, users_by_email, cmd.actor.user_id, clock.now())
        uow.commit()
        return proposal


def remove_membership(cmd: RemoveMembership, uow: UnitOfWork) -> None:
    with uow:
        proposal = _with_proposal(uow, uow.proposals.containing_membership(cmd.membership_id), "membership")
        require(Action.MANAGE_MEMBERS, cmd.actor, proposal)
        proposal.remove_member(cmd.membership_id)
        uow.commit()


def set_membership_limit(cmd: SetMembershipLimit, uow: UnitOfWork) -> tuple[User | None, int]:
    """The member's user and new limit in seconds."""
    with uow:
        proposal = _with_proposal(uow, uow.proposals.containing_membership(cmd.membership_id), "membership")
        require(Action.MANAGE_MEMBERS, cmd.actor, proposal)
        membership = proposal.set_time_limit(cmd.membership_id, cmd.hours)
        uow.commit()
        return uow.users.get(membership.user_id), membership.time_limit_s


def set_global_limit(cmd: SetGlobalLimit, uow: UnitOfWork) -> None:
    with uow:
        proposal = _proposal(uow, cmd.proposal_id)
        require(Action.MANAGE_MEMBERS, cmd.actor, proposal)
        proposal.set_global_limit(cmd.hours)
        uow.commit()


def withdraw_invitation(cmd: WithdrawInvitation, uow: UnitOfWork) -> None:
    with uow:
        proposal = _with_proposal(uow, uow.proposals.containing_invitation(cmd.invitation_id), "invitation")
        require(Action.MANAGE_MEMBERS, cmd.actor, proposal)
        proposal.withdraw_invitation(cmd.invitation_id)
        uow.commit()


def set_request_visibility(cmd: SetRequestVisibility, uow: UnitOfWork, clock: Clock) -> Proposal:
    with uow:
        proposal = _proposal(uow, cmd.proposal_id)
        require(Action.SET_REQUEST_VISIBILITY, cmd.actor, proposal)
        proposal.allow_cis_to_see_all_requests(cmd.cis_see_all_requests, clock.now())
        uow.commit()
        return proposal


# ---------------------------------------------------------------------------------------------------------
# Time allocations (staff)


def _invalid_pk(field_name: str, key: str) -> ValidationError:
    return ValidationError.on(field_name, f'Invalid pk "{key}" - object does not exist.')


def allocate_time(cmd: AllocateTime, uow: UnitOfWork) -> TimeAllocation:
    require(Action.ADMINISTER, cmd.actor)
    with uow:
        proposal = uow.proposals.get(cmd.proposal_id)
        if proposal is None:
            # The proposal is named in the body: a bad field, not a missing page.
            raise _invalid_pk("proposal", cmd.proposal_id)
        if uow.semesters.get(cmd.semester_id) is None:
            raise _invalid_pk("semester", cmd.semester_id)
        allocation = proposal.allocate(cmd.semester_id, cmd.instrument_types, cmd.hours, instrument_type_codes(uow))
        uow.commit()
        return allocation


def revise_allocation(cmd: ReviseAllocation, uow: UnitOfWork) -> tuple[Proposal, TimeAllocation]:
    with uow:
        proposal = _with_proposal(uow, uow.proposals.containing_allocation(cmd.allocation_id), "time allocation")
        require(Action.ADMINISTER, cmd.actor, proposal)
        allocation = proposal.revise_allocation(
            cmd.allocation_id, cmd.hours, cmd.instrument_types, instrument_type_codes(uow)
        )
        uow.commit()
        return proposal, allocation


def import_tac_result(cmd: ImportTacResult, uow: UnitOfWork, clock: Clock) -> dict[str, int]:
    """Apply every entry or none (a dry run none at all); errors are reported per entry (``{"entry 3": {...}}``)."""
    require(Action.ADMINISTER, cmd.actor)
    with uow:
        known_types = instrument_type_codes(uow)
        errors: dict[str, Any] = {}
        counts = {"proposals created": 0, "proposals updated": 0, "allocations": 0}
        for number, entry in enumerate(cmd.entries, start=1):
            try:
                _import_entry(uow, entry, known_types, counts, clock)
            except ValidationError as error:
                errors[f"entry {number}"] = error.errors
        if errors:
            raise ValidationError(errors)
        if cmd.dry_run:
            uow.rollback()
        else:
            uow.commit()
        return counts


def _import_entry(
    uow: UnitOfWork, entry: dict[str, Any], known_types: list[str], counts: dict[str, int], clock: Clock
) -> None:
    proposal_id = str(entry.get("id", "")).strip()
    if not proposal_id:
        raise ValidationError.on("id", "This field is required.")
    values = {name: entry[name] for name in PROPOSAL_FIELDS if name in entry}
    pis = tuple(name for name in str(entry.get("pi", "")).split(";") if name.strip())
    proposal = uow.proposals.get(proposal_id)
    if proposal is None:
        if not pis:
            raise ValidationError.on("pi", "This field is required.")
        proposal = Proposal.open(proposal_id, values, _pi_ids(uow, tuple(p.strip() for p in pis), "pi"), clock.now())
        uow.proposals.add(proposal)
        counts["proposals created"] += 1
    else:
        proposal.edit(values, clock.now())
        for user_id in _pi_ids(uow, tuple(p.strip() for p in pis), "pi"):
            proposal.add_member(user_id, Role.PI)
            proposal.set_role(user_id, Role.PI)
        counts["proposals updated"] += 1
    for allocation in entry.get("allocations", []):
        semester_id = str(allocation.get("semester", ""))
        if uow.semesters.get(semester_id) is None:
            raise _invalid_pk("semester", semester_id)
        hours = {name: allocation[name] for name in HOUR_FIELDS if name in allocation}
        proposal.allocate(semester_id, allocation.get("instrument_types", []), hours, known_types)
        counts["allocations"] += 1


# ---------------------------------------------------------------------------------------------------------
# Event handlers


def accept_pending_invitations(event: UserRegistered | UserEmailChanged, uow: UnitOfWork, clock: Clock) -> None:
    """Someone signed up (or changed their address) with an invited email: they become a member."""
    with uow:
        for proposal in uow.proposals.with_pending_invitation(event.email):
            proposal.accept_invitations(event.email, event.user_id, clock.now())
        uow.commit()


def send_invitation_emails(event: MembersInvited, uow: UnitOfWork, mailer: Mailer) -> None:
    """Each invited address gets a note on how to join."""
    with uow:
        proposal = uow.proposals.get(event.proposal_id)
        title = proposal.title if proposal else event.proposal_id
    for email in event.emails:
        mailer.send(
            email,
            f"Invitation to join proposal {event.proposal_id}",
            f"You have been invited to join the proposal {event.proposal_id} ({title}) as a co-investigator.\n"
            f"Register an account with this email address ({email}) and you will be added to it.",
        )


COMMAND_HANDLERS: dict[type, Callable[..., Any]] = {
    CreateSemester: create_semester,
    EditSemester: edit_semester,
    CreateProposal: create_proposal,
    EditProposal: edit_proposal,
    AddMember: add_member,
    InviteMembers: invite_members,
    RemoveMembership: remove_membership,
    SetMembershipLimit: set_membership_limit,
    SetGlobalLimit: set_global_limit,
    WithdrawInvitation: withdraw_invitation,
    SetRequestVisibility: set_request_visibility,
    AllocateTime: allocate_time,
    ReviseAllocation: revise_allocation,
    ImportTacResult: import_tac_result,
}
EVENT_HANDLERS: dict[type, list[Callable[..., Any]]] = {
    UserRegistered: [accept_pending_invitations],
    UserEmailChanged: [accept_pending_invitations],
    MembersInvited: [send_invitation_emails],
}
