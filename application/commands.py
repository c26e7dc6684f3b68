"""Commands of the application: frozen imperative requests, one handler each, dispatched by the message bus."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from attrs import field, frozen

from domain.observations import ObservationPlan, StatusState, Summary
from domain.permissions import Actor
from domain.request_validation import SubmittedRequestGroup


def _frozen_copy(values: Any) -> dict[str, Any]:
    return dict(values)


# Typed rather than ``converter=tuple``: mypy's attrs plugin would type the parameter ``Iterable[_T_co]`` with the
# type variable unsolved, and refuse every argument at the call sites.
def _names(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(values)


def _entries(values: Iterable[dict[str, Any]]) -> tuple[dict[str, Any], ...]:
    return tuple(values)


@frozen
class CreateObservatoryRecord:
    """Add a configdb record of ``kind`` (a route name such as "telescopes") from domain field values.

    Composite fields of observatory.md 2.5 are accepted too: ``optical_elements`` on opticalelementgroups,
    ``configuration_types`` on instrumenttypes, ``modes`` or ``mode_ids`` on genericmodegroups."""

    kind: str
    values: dict[str, Any] = field(converter=_frozen_copy)
    actor: str = "system"


@frozen
class UpdateObservatoryRecord:
    """Change a configdb record: PATCH when ``partial``, else PUT (omitted optional fields take defaults)."""

    kind: str
    key: Any
    values: dict[str, Any] = field(converter=_frozen_copy)
    partial: bool = True
    actor: str = "system"


@frozen
class DeleteObservatoryRecord:
    """Remove a configdb record; refused while children or references remain."""

    kind: str
    key: Any
    actor: str = "system"


@frozen
class SetInstrumentState:
    """Move an instrument to another life-cycle state (DISABLED ... SCHEDULABLE)."""

    instrument_id: int
    state: str
    actor: str = "system"


@frozen
class ImportObservatory:
    """Import a whole observatory document (observatory.md 6): upsert by natural key, optionally replacing
    everything the document does not mention; a dry run computes the plan and writes nothing."""

    document: dict[str, Any] = field(converter=_frozen_copy)
    replace: bool = False
    dry_run: bool = False
    actor: str = "system"


# ---------------------------------------------------------------------------------------------------------
# Accounts, semesters and proposals. ``actor`` is who asks: every handler checks it against the permission
# table of domain.permissions before changing anything.


@frozen
class UpdateProfile:
    """A user changes their own names, email and profile settings (PATCH /api/profile/)."""

    user_id: int
    changes: dict[str, Any] = field(converter=_frozen_copy)
    profile: dict[str, Any] = field(converter=_frozen_copy)


@frozen
class RevokeToken:
    """Replace the user's API token with a fresh one; the old one stops working at once."""

    user_id: int


@frozen
class IssueToken:
    """Give the user an API token if they have none yet (tokens are created lazily); returns the token."""

    user_id: int


@frozen
class AcceptTerms:
    user_id: int


@frozen
class CreateSemester:
    actor: Actor
    semester_id: str
    start: datetime
    end: datetime


@frozen
class EditSemester:
    actor: Actor
    semester_id: str
    start: datetime | None = None
    end: datetime | None = None


@frozen
class CreateProposal:
    """Open a proposal led by the users named in ``pis`` (usernames or email addresses)."""

    actor: Actor
    proposal_id: str
    values: dict[str, Any] = field(converter=_frozen_copy)
    pis: tuple[str, ...] = field(converter=_names)


@frozen
class EditProposal:
    actor: Actor
    proposal_id: str
    values: dict[str, Any] = field(converter=_frozen_copy)


@frozen
class AddMember:
    """Staff tools: make an existing user (username or email) a member with a role."""

    actor: Actor
    proposal_id: str
    user: str
    role: str
    time_limit_s: int = -1


@frozen
class InviteMembers:
    """The PI invites CIs by email, each with this time limit in seconds (-1 = unlimited)."""

    actor: Actor
    proposal_id: str
    emails: tuple[str, ...] = field(converter=_names)
    time_limit_s: int = -1


@frozen
class RemoveMembership:
    actor: Actor
    membership_id: int


@frozen
class SetMembershipLimit:
    actor: Actor
    membership_id: int
    hours: float


@frozen
class SetGlobalLimit:
    actor: Actor
    proposal_id: str
    hours: float


@frozen
class WithdrawInvitation:
    actor: Actor
    invitation_id: int


@frozen
class SetRequestVisibility:
    """The PI decides whether CIs see every member's requests or only their own."""

    actor: Actor
    proposal_id: str
    cis_see_all_requests: bool


@frozen
class AllocateTime:
    """Give a proposal hours in a semester on a set of instrument types (one shared pool)."""

    actor: Actor
    proposal_id: str
    semester_id: str
    instrument_types: tuple[str, ...] = field(converter=_names)
    hours: dict[str, float] = field(converter=_frozen_copy)


@frozen
class ReviseAllocation:
    actor: Actor
    allocation_id: int
    hours: dict[str, float] = field(converter=_frozen_copy)
    instrument_types: tuple[str, ...] | None = None


@frozen
class ImportTacResult:
    """A whole TAC result, all or nothing: proposals (PIs by email or username) with their allocations.

    Each entry is ``{"id", "pi", <proposal fields>, "allocations": [{"semester", "instrument_types",
    <hour fields>}]}``; an entry whose proposal exists adds to it (fields updated, allocations added).
    A dry run checks every entry against the stored state and writes nothing."""

    actor: Actor
    entries: tuple[dict[str, Any], ...] = field(converter=_entries)
    dry_run: bool = False


# ---------------------------------------------------------------------------------------------------------
# Request groups. ``submission`` is what the edge parsed (codes as given, defaults not yet filled).


@frozen
class SubmitRequestGroup:
    """Validate a request group and store it, debiting IPP; refused as a whole with the nested error tree."""

    actor: Actor
    submission: SubmittedRequestGroup


@frozen
class CancelRequestGroup:
    """Cancel a group and its pending requests, crediting back the IPP they had spent."""

    actor: Actor
    group_id: int


# ---------------------------------------------------------------------------------------------------------
# Drafts (api.md 4.4). ``actor`` is who asks; a new draft's author is the actor.


@frozen
class WriteDraft:
    """Store a new draft of a request group in a proposal the actor is a member of."""

    actor: Actor
    proposal_id: str
    title: str
    content: str


@frozen
class ReviseDraft:
    """Change some of a draft's ``proposal_id``, ``title`` and ``content`` (all three for a replacement)."""

    actor: Actor
    draft_id: int
    changes: dict[str, Any] = field(converter=_frozen_copy)


@frozen
class DiscardDraft:
    actor: Actor
    draft_id: int


@frozen
class SuspendRequest:
    """Staff keep a PENDING request out of scheduling until a time (None lifts it), requests.md 6.7."""

    actor: Actor
    request_id: int
    until: datetime | None


@frozen
class ExpireRequestGroups:
    """The expiry job (requests.md 6.6): requests whose last window has ended become WINDOW_EXPIRED."""


# ---------------------------------------------------------------------------------------------------------
# Observations and telescope feedback (requests.md 6, scheduler.md 6)


def _plans(values: Iterable[ObservationPlan]) -> tuple[ObservationPlan, ...]:
    return tuple(values)


@frozen
class ScheduleObservations:
    """Create observations: all of them when each is valid, else each valid one alone (api.md 6)."""

    actor: Actor
    plans: tuple[ObservationPlan, ...] = field(converter=_plans)


@frozen
class ReportConfigurationStatus:
    """A telescope's PATCH of a configuration status (scheduler.md 6.2): any of a new state, a summary, and a
    predicted ``end`` or ``exposures_start_at`` that moves the observation's end."""

    actor: Actor
    status_id: int
    state: StatusState | None = None
    summary: Summary | None = None
    end: datetime | None = None
    exposures_start_at: datetime | None = None


@frozen
class ReviseObservation:
    """Staff PATCH of an observation (api.md 6): mark it BAD_DATA, or move its end into the future."""

    actor: Actor
    observation_id: int
    bad_data: bool = False
    end: datetime | None = None


def _ids(values: Iterable[int]) -> tuple[int, ...]:
    return tuple(values)


@frozen
class CancelObservations:
    """Take observations off the schedule (api.md 6): those with these ids, or those overlapping [start, end) on
    the telescopes named, of the kinds included; running ones only with ``preemption_enabled``."""

    actor: Actor
    ids: tuple[int, ...] = field(default=(), converter=_ids)
    start: datetime | None = None
    end: datetime | None = None
    sites: tuple[str, ...] = field(default=(), converter=_names)
    enclosures: tuple[str, ...] = field(default=(), converter=_names)
    telescopes: tuple[str, ...] = field(default=(), converter=_names)
    include_normal: bool = True
    include_rr: bool = False
    include_direct: bool = False
    preemption_enabled: bool = False
