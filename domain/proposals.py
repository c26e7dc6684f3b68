"""Who may ask for telescope time: semesters, proposals, their members, invitations and time allocations.

A proposal is one aggregate with its memberships, pending invitations and time allocations, so the rules
that span them (no instrument type in two allocations of a semester, never without a PI) hold on every
change. Units follow requests.md: allocation hours, membership time limits in seconds (-1 = unlimited).
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from attrs import define, field, frozen

from domain.accounts import INVALID_EMAIL, normalise_email
from domain.errors import NON_FIELD, ValidationError
from domain.rules import check_rule

SEMESTER_ID = re.compile(r"[A-Za-z0-9._-]{1,20}")
PROPOSAL_ID = re.compile(r"[A-Za-z0-9._-]{1,255}")
UNLIMITED = -1
FORBIDDEN_PI_LIMIT = "Cannot set a time limit on a PI membership"
CANNOT_REMOVE_PI = "Cannot remove the PI of a proposal"

# Allocation pools, each with its allocated and used hours.
POOLS = ("std", "rr", "tc", "realtime")
HOUR_FIELDS = (
    *(f"{pool}_{part}" for pool in POOLS for part in ("allocation", "time_used")),
    "ipp_limit",
    "ipp_time_available",
)
PROPOSAL_FIELDS = (
    "title",
    "abstract",
    "active",
    "public",
    "non_science",
    "direct_submission",
    "tac_priority",
    "tac_rank",
    "sca",
    "tags",
    "notes",
    "cis_see_all_requests",
)


# ---------------------------------------------------------------------------------------------------------
# Semesters


@define(slots=False, eq=False)
class Semester:
    """A period of time allocation, such as 2026B; semesters never overlap."""

    id: str
    start: datetime
    end: datetime
    events: list[object] = field(factory=list, init=False, repr=False)

    @classmethod
    def define(cls, semester_id: str, start: datetime, end: datetime, others: Iterable[Semester]) -> Semester:
        """A new semester, checked against the ones that exist."""
        if not SEMESTER_ID.fullmatch(semester_id):
            raise ValidationError.on("id", "Enter a valid semester id: up to 20 letters, digits, '.', '-' or '_'.")
        semester = cls(semester_id, start, end)
        semester.check(others)
        return semester

    def reschedule(self, start: datetime, end: datetime, others: Iterable[Semester]) -> None:
        """Move the semester's bounds, keeping it clear of every other semester."""
        old = (self.start, self.end)
        self.start, self.end = start, end
        try:
            self.check(o for o in others if o.id != self.id)
        except ValidationError:
            self.start, self.end = old
            raise

    def check(self, others: Iterable[Semester]) -> None:
        check_rule(SemesterMustEndAfterStart(self))
        for other in others:
            check_rule(SemestersMustNotOverlap(self, other))

    def contains(self, moment: datetime) -> bool:
        return self.start <= moment <= self.end

    def covers(self, start: datetime, end: datetime) -> bool:
        """Whether the whole interval lies within the semester."""
        return self.start <= start and end <= self.end


@frozen
class SemesterMustEndAfterStart:
    semester: Semester
    field: str = "end"

    def is_broken(self) -> bool:
        return self.semester.end <= self.semester.start

    def message(self) -> str:
        return "End must be after start"


@frozen
class SemestersMustNotOverlap:
    semester: Semester
    other: Semester
    field: str = NON_FIELD

    def is_broken(self) -> bool:
        if self.other.id == self.semester.id:
            return False
        # Touching bounds do not overlap: one semester may end the instant the next begins.
        return self.semester.start < self.other.end and self.other.start < self.semester.end

    def message(self) -> str:
        return f"Semester {self.semester.id} overlaps {self.other.id}"


def semester_containing(semesters: Iterable[Semester], moment: datetime) -> Semester | None:
    """The semester with start <= moment <= end (the later one if moment is a shared boundary)."""
    found = [s for s in semesters if s.contains(moment)]
    return max(found, key=lambda s: s.start) if found else None


# ---------------------------------------------------------------------------------------------------------
# Members, invitations, allocations


class Role(enum.StrEnum):
    PI = "PI"
    CI = "CI"


def limit_from_hours(hours: float) -> int:
    """A time limit in seconds from hours as a PI types them: negative hours mean unlimited."""
    return UNLIMITED if hours < 0 else round(hours * 3600)


def _check_time_limit(seconds: int, field_name: str = "time_limit") -> None:
    if seconds < UNLIMITED:
        raise ValidationError.on(field_name, "Ensure this value is greater than or equal to -1.")


@define(slots=False, eq=False)
class Membership:
    id: int | None
    user_id: int
    role: Role = field(converter=Role)
    time_limit_s: int = UNLIMITED


@define(slots=False, eq=False)
class Invitation:
    """A CI invitation sent to an address nobody has signed up with yet; pending while ``used`` is None."""

    id: int | None
    email: str
    time_limit_s: int = UNLIMITED
    role: Role = field(default=Role.CI, converter=Role)
    sent: datetime | None = None
    used: datetime | None = None

    @property
    def pending(self) -> bool:
        return self.used is None


@define(slots=False, eq=False)
class TimeAllocation:
    """Hours of one semester that a proposal may spend on a set of instrument types, pool by pool."""

    id: int | None
    semester_id: str
    instrument_types: list[str]
    std_allocation: float = 0.0
    std_time_used: float = 0.0
    rr_allocation: float = 0.0
    rr_time_used: float = 0.0
    tc_allocation: float = 0.0
    tc_time_used: float = 0.0
    realtime_allocation: float = 0.0
    realtime_time_used: float = 0.0
    ipp_limit: float = 0.0
    ipp_time_available: float = 0.0

    def hours(self) -> dict[str, float]:
        return {name: getattr(self, name) for name in HOUR_FIELDS}


def check_hours(hours: Mapping[str, float]) -> None:
    """Every hour value must be zero or more (used hours may exceed the allocation: charging comes after)."""
    errors = {name: ["Ensure this value is greater than or equal to 0."] for name, value in hours.items() if value < 0}
    if errors:
        raise ValidationError(errors)


def with_ipp_defaults(hours: Mapping[str, float]) -> dict[str, float]:
    """IPP limit and balance default to 10 % and 5 % of the standard allocation (requests.md 1.7)."""
    filled = dict(hours)
    standard = filled.get("std_allocation", 0.0)
    filled.setdefault("ipp_limit", standard / 10)
    filled.setdefault("ipp_time_available", standard / 20)
    return filled


# ---------------------------------------------------------------------------------------------------------
# The proposal aggregate


@frozen
class MembersInvited:
    """Invitations went out to addresses without an account; each should get an email."""

    proposal_id: str
    emails: tuple[str, ...]


@define(slots=False, eq=False)
class Proposal:
    id: str
    title: str = ""
    abstract: str = ""
    active: bool = True
    public: bool = False
    non_science: bool = False
    direct_submission: bool = False
    tac_priority: int = 0
    tac_rank: int = 0
    sca: str = ""
    tags: list[str] = field(factory=list)
    notes: str = ""
    # BEYOND: whether CIs see every member's requests; otherwise a CI sees only the ones they submitted.
    cis_see_all_requests: bool = False
    created: datetime | None = None
    modified: datetime | None = None
    memberships: list[Membership] = field(factory=list)
    invitations: list[Invitation] = field(factory=list)
    allocations: list[TimeAllocation] = field(factory=list)
    events: list[object] = field(factory=list, init=False, repr=False)

    @classmethod
    def open(cls, proposal_id: str, values: Mapping[str, Any], pi_user_ids: Iterable[int], now: datetime) -> Proposal:
        """A new proposal led by the given PIs (at least one)."""
        if not PROPOSAL_ID.fullmatch(proposal_id):
            raise ValidationError.on("id", "Enter a valid proposal id: up to 255 letters, digits, '.', '-' or '_'.")
        _check_values(values)
        pis = list(dict.fromkeys(pi_user_ids))
        if not pis:
            raise ValidationError.on("pis", "A proposal needs a PI")
        proposal = cls(proposal_id, created=now, modified=now, **values)
        proposal.memberships = [Membership(None, user_id, Role.PI) for user_id in pis]
        return proposal

    # -- reading --------------------------------------------------------------------------------------------

    def membership_of(self, user_id: int | None) -> Membership | None:
        return next((m for m in self.memberships if m.user_id == user_id), None)

    def role_of(self, user_id: int | None) -> Role | None:
        membership = self.membership_of(user_id)
        return membership.role if membership else None

    def pi_ids(self) -> list[int]:
        return [m.user_id for m in self.memberships if m.role is Role.PI]

    def allocations_in(self, semester_id: str) -> list[TimeAllocation]:
        return [a for a in self.allocations if a.semester_id == semester_id]

    def allocation_for(self, semester_id: str, instrument_type: str) -> TimeAllocation | None:
        """The allocation of that semester whose pool covers the instrument type (case-insensitive)."""
        wanted = instrument_type.casefold()
        return next(
            (
                a
                for a in self.allocations_in(semester_id)
                if any(code.casefold() == wanted for code in a.instrument_types)
            ),
            None,
        )

    def find_membership(self, membership_id: int) -> Membership | None:
        return next((m for m in self.memberships if m.id == membership_id), None)

    def find_allocation(self, allocation_id: int) -> TimeAllocation | None:
        return next((a for a in self.allocations if a.id == allocation_id), None)

    # -- editing (staff) -------------------------------------------------------------------------------------

    def edit(self, values: Mapping[str, Any], now: datetime) -> None:
        """Change descriptive fields and flags; the id never changes."""
        if "id" in values and values["id"] != self.id:
            raise ValidationError.on("id", "Proposal id cannot be changed")
        changes = {k: v for k, v in values.items() if k != "id"}
        _check_values(changes)
        for name, value in changes.items():
            setattr(self, name, value)
        self.modified = now

    def allow_cis_to_see_all_requests(self, allowed: bool, now: datetime) -> None:
        """The PI's choice: CIs see every member's requests, or only the ones they submitted."""
        self.cis_see_all_requests = allowed
        self.modified = now

    def add_member(self, user_id: int, role: Role, time_limit_s: int = UNLIMITED) -> Membership:
        """Make a user a member (staff tools and accepted invitations); an existing member keeps their role."""
        _check_time_limit(time_limit_s)
        existing = self.membership_of(user_id)
        if existing is not None:
            return existing
        membership = Membership(None, user_id, role, UNLIMITED if role is Role.PI else time_limit_s)
        self.memberships.append(membership)
        return membership

    def set_role(self, user_id: int, role: Role) -> None:
        """Staff tools: change a member's role, never leaving the proposal without a PI."""
        membership = self.membership_of(user_id)
        if membership is None:
            raise ValidationError.on("user", "That user is not a member of this proposal")
        if membership.role is Role.PI and role is Role.CI and len(self.pi_ids()) == 1:
            raise ValidationError.general("A proposal cannot be left without a PI")
        membership.role = role
        if role is Role.PI:
            membership.time_limit_s = UNLIMITED

    # -- PI actions ------------------------------------------------------------------------------------------

    def remove_member(self, membership_id: int) -> None:
        """Remove a CI; the PI is changed only through staff tools."""
        membership = self.find_membership(membership_id)
        if membership is None:
            raise ValidationError.general("No such membership in this proposal")
        if membership.role is Role.PI:
            raise _detail(CANNOT_REMOVE_PI)
        self.memberships.remove(membership)

    def set_time_limit(self, membership_id: int, hours: float) -> Membership:
        membership = self.find_membership(membership_id)
        if membership is None:
            raise ValidationError.general("No such membership in this proposal")
        if membership.role is Role.PI:
            raise _detail(FORBIDDEN_PI_LIMIT)
        membership.time_limit_s = limit_from_hours(hours)
        return membership

    def set_global_limit(self, hours: float) -> None:
        """The same time limit for every CI at once."""
        for membership in self.memberships:
            if membership.role is Role.CI:
                membership.time_limit_s = limit_from_hours(hours)

    def invite(
        self,
        emails: Iterable[str],
        time_limit_s: int,
        users_by_email: Mapping[str, int],
        inviter_id: int,
        now: datetime,
    ) -> None:
        """Invite CIs by email: known addresses become members at once, others get a pending invitation.

        ``users_by_email`` maps lower-cased addresses of existing users to their ids. Nothing changes if any
        address is malformed or already belongs to a member (the inviter included)."""
        _check_time_limit(time_limit_s)
        cleaned: list[str] = []
        for email in emails:
            try:
                cleaned.append(normalise_email(email))
            except ValueError:
                raise ValidationError.on("emails", INVALID_EMAIL) from None
        if not cleaned:
            raise ValidationError.on("emails", "Enter at least one email address.")
        member_ids = {m.user_id for m in self.memberships} | {inviter_id}
        for email in cleaned:
            if users_by_email.get(email) in member_ids:
                raise ValidationError.on("emails", f"{email} is already a member of this proposal")
        invited: list[str] = []
        for email in dict.fromkeys(cleaned):
            user_id = users_by_email.get(email)
            if user_id is not None:
                self.add_member(user_id, Role.CI, time_limit_s)
                continue
            pending = next((i for i in self.invitations if i.pending and i.email == email), None)
            if pending is None:
                self.invitations.append(Invitation(None, email, time_limit_s, Role.CI, now))
            else:
                # Inviting again refreshes the invitation rather than stacking a second one.
                pending.time_limit_s, pending.sent = time_limit_s, now
            invited.append(email)
        if invited:
            self.events.append(MembersInvited(self.id, tuple(invited)))

    def accept_invitations(self, email: str, user_id: int, now: datetime) -> int:
        """Someone with this address now has an account: every pending invitation for it becomes a membership."""
        accepted = 0
        for invitation in self.invitations:
            if invitation.pending and invitation.email == email.strip().lower():
                self.add_member(user_id, invitation.role, invitation.time_limit_s)
                invitation.used = now
                accepted += 1
        return accepted

    def withdraw_invitation(self, invitation_id: int) -> None:
        """Delete a pending invitation; a used one stays (deleting it is a no-op)."""
        invitation = next((i for i in self.invitations if i.id == invitation_id), None)
        if invitation is not None and invitation.pending:
            self.invitations.remove(invitation)

    # -- time allocations (staff) ----------------------------------------------------------------------------

    def allocate(
        self, semester_id: str, instrument_types: Iterable[str], hours: Mapping[str, float], known_types: Iterable[str]
    ) -> TimeAllocation:
        """A new allocation; ``known_types`` are configdb's instrument type codes (matched case-insensitively)."""
        codes = _canonical_types(instrument_types, known_types)
        check_hours(hours)
        self._check_types_free(semester_id, codes, None)
        allocation = TimeAllocation(None, semester_id, codes, **with_ipp_defaults(hours))
        self.allocations.append(allocation)
        return allocation

    def revise_allocation(
        self,
        allocation_id: int,
        hours: Mapping[str, float],
        instrument_types: Iterable[str] | None,
        known_types: Iterable[str],
    ) -> TimeAllocation:
        allocation = self.find_allocation(allocation_id)
        if allocation is None:
            raise ValidationError.general("No such time allocation in this proposal")
        check_hours(hours)
        codes = allocation.instrument_types
        if instrument_types is not None:
            codes = _canonical_types(instrument_types, known_types)
            self._check_types_free(allocation.semester_id, codes, allocation)
        allocation.instrument_types = codes
        for name, value in hours.items():
            setattr(allocation, name, value)
        return allocation

    def remove_allocation(self, allocation_id: int) -> None:
        allocation = self.find_allocation(allocation_id)
        if allocation is not None:
            self.allocations.remove(allocation)

    def _check_types_free(self, semester_id: str, codes: list[str], ignore: TimeAllocation | None) -> None:
        for code in codes:
            holder = self.allocation_for(semester_id, code)
            if holder is not None and holder is not ignore:
                raise ValidationError.on(
                    "instrument_types",
                    f"Instrument type {code} already has an allocation for proposal {self.id} in semester "
                    f"{semester_id}",
                )


def _canonical_types(instrument_types: Iterable[str], known_types: Iterable[str]) -> list[str]:
    known = {code.casefold(): code for code in known_types}
    codes: list[str] = []
    for code in instrument_types:
        canonical = known.get(code.casefold())
        if canonical is None:
            raise ValidationError.on("instrument_types", f"Unknown instrument type {code}")
        if canonical not in codes:
            codes.append(canonical)
    if not codes:
        raise ValidationError.on("instrument_types", "This list may not be empty.")
    return codes


def _check_values(values: Mapping[str, Any]) -> None:
    errors: dict[str, list[str]] = {}
    for name in ("tac_priority", "tac_rank"):
        if values.get(name, 0) < 0:
            errors[name] = ["Ensure this value is greater than or equal to 0."]
    if len(values.get("title", "")) > 255:
        errors["title"] = ["Ensure this field has no more than 255 characters."]
    if len(values.get("sca", "")) > 20:
        errors["sca"] = ["Ensure this field has no more than 20 characters."]
    unknown = set(values) - set(PROPOSAL_FIELDS)
    if unknown:
        errors[NON_FIELD] = [f"Unknown proposal fields: {', '.join(sorted(unknown))}"]
    if errors:
        raise ValidationError(errors)


def _detail(message: str) -> ValidationError:
    """A refusal that belongs to the request as a whole, answered as ``{"detail": ...}`` (requests.md 1.10)."""
    return ValidationError({"detail": message})
