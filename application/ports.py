"""The ports: what the application needs from the outside world, as Protocols that adapters implement."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from types import TracebackType
from typing import Protocol, Self

from attrs import frozen

from domain.accounts import User
from domain.changes import ChangeEntry
from domain.downtime import Downtime
from domain.drafts import Draft
from domain.observations import ConfigurationStatus, Observation, ObservationState, StatusState
from domain.observatory import Observatory
from domain.proposals import Proposal, Semester
from domain.requestgroups import ObservationType, Operator, Request, RequestGroup, RequestState
from domain.visibility import (
    AirmassSeries,
    Interval,
    ObservingConstraints,
    SiderealTarget,
    TelescopeSite,
    VisibilityTarget,
)


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        ...


class PasswordHasher(Protocol):
    def hash(self, password: str) -> str:
        """A salted slow hash of the password, self-describing (algorithm and parameters included)."""
        ...

    def verify(self, password_hash: str, password: str) -> bool:
        """Whether the password matches the hash; never raises for a wrong password."""
        ...


class TokenIssuer(Protocol):
    def new_token(self) -> str:
        """A fresh API token: 40 lower-case hex characters from a cryptographic random source."""
        ...


class ObservatoryRepository(Protocol):
    def get(self) -> Observatory:
        """The current configuration, as a copy the caller may change and pass to ``save``."""
        ...

    def save(self, observatory: Observatory) -> None:
        """Store every difference between ``observatory`` and the stored configuration and bump the version;
        raise ConflictError when another writer committed since ``observatory.version`` was read."""
        ...

    def version(self) -> int:
        """The committed version counter (cheap: consumers key their caches on it)."""
        ...


@frozen
class DowntimeQuery:
    """Filters (ANDed), ordering and one page of the downtime list (observatory.md 3.3)."""

    starts_after: datetime | None = None
    starts_before: datetime | None = None
    ends_after: datetime | None = None
    ends_before: datetime | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None
    modified_after: datetime | None = None
    modified_before: datetime | None = None
    sites: tuple[str, ...] = ()
    enclosures: tuple[str, ...] = ()
    telescopes: tuple[str, ...] = ()
    instrument_types: tuple[str, ...] = ()
    reason_contains: str | None = None
    reason_exact: str | None = None
    # Keys among start, end, created, modified, each optionally prefixed with "-"; ties break on id.
    order: tuple[str, ...] = ("created",)
    limit: int = 1000
    offset: int = 0


class DowntimeRepository(Protocol):
    def add(self, downtime: Downtime) -> None:
        """Store a new downtime and assign its id."""
        ...

    def get(self, downtime_id: int) -> Downtime | None:
        """The downtime with this id, or None; changes to it are stored on commit."""
        ...

    def delete(self, downtime: Downtime) -> None:
        """Remove a downtime loaded through this repository."""
        ...

    def search(self, query: DowntimeQuery) -> tuple[int, list[Downtime]]:
        """The number of downtimes matching the filters, and the requested page of them in order."""
        ...


class UserRepository(Protocol):
    """Users returned by the getters are tracked: changes made to them are stored on commit."""

    def add(self, user: User) -> None:
        """Store a new user and assign its id; ConflictError if the username is taken."""
        ...

    def get(self, user_id: int) -> User | None:
        """The user with this id, or None."""
        ...

    def get_by_username(self, username: str) -> User | None:
        """The user with this username (compared case-insensitively), or None."""
        ...

    def get_by_email(self, email: str) -> User | None:
        """The user with this email address (compared case-insensitively), or None."""
        ...

    def get_by_token(self, token: str) -> User | None:
        """The user a token may belong to (found through a digest index), or None; the caller still
        compares the key in constant time."""
        ...

    def get_many(self, user_ids: Iterable[int]) -> dict[int, User]:
        """The users with these ids that exist, by id."""
        ...


class SemesterRepository(Protocol):
    """Semesters returned by the getters are tracked: changes made to them are stored on commit."""

    def add(self, semester: Semester) -> None:
        """Store a new semester; ConflictError if its id is taken."""
        ...

    def get(self, semester_id: str) -> Semester | None:
        """The semester with this id, or None."""
        ...

    def all(self) -> list[Semester]:
        """Every semester, newest start first."""
        ...


class ProposalRepository(Protocol):
    """Proposals are aggregates with their memberships, invitations and allocations; the getters return
    tracked proposals whose changes (children added or removed included) are stored on commit, and children
    added to them get their ids by then."""

    def add(self, proposal: Proposal) -> None:
        """Store a new proposal; ConflictError if its id is taken."""
        ...

    def get(self, proposal_id: str, *, for_update: bool = False) -> Proposal | None:
        """The proposal with this id, or None; ``for_update`` locks it until commit where the database can, so
        two writers spending its hours run one after the other."""
        ...

    def all(self) -> list[Proposal]:
        """Every proposal, ordered by id descending (the portal's default order)."""
        ...

    def for_member(self, user_id: int) -> list[Proposal]:
        """The proposals the user is a member of (any role), ordered by id descending."""
        ...

    def with_pending_invitation(self, email: str) -> list[Proposal]:
        """The proposals holding an unused invitation addressed to this (lower-cased) email."""
        ...

    def containing_membership(self, membership_id: int) -> Proposal | None:
        """The proposal a membership belongs to, or None."""
        ...

    def containing_invitation(self, invitation_id: int) -> Proposal | None:
        """The proposal an invitation belongs to, or None."""
        ...

    def containing_allocation(self, allocation_id: int) -> Proposal | None:
        """The proposal a time allocation belongs to, or None."""
        ...


# Keys the request group list may be ordered by (api.md 4.1), each optionally prefixed with "-"; ``end`` is the
# latest window end of any of the group's requests. Ties break on id, newest first.
REQUEST_GROUP_ORDER_KEYS = frozenset({"id", "name", "modified", "created", "end"})
# Keys the request list may be ordered by (api.md 4.2); ties break on id, newest first.
REQUEST_ORDER_KEYS = frozenset({"id", "state"})


@frozen
class RequestGroupQuery:
    """Filters (ANDed), visibility, ordering and one page of the request group list (api.md 4.1 and 4.3).

    Text filters ending in ``_contains`` compare case-insensitively. Filters on requests, windows or
    configurations match a group when any one of its requests (windows, configurations) matches.
    """

    ids: tuple[int, ...] = ()
    states: tuple[RequestState, ...] = ()
    exclude_states: tuple[RequestState, ...] = ()
    proposal: str | None = None
    name_contains: str | None = None
    # The submitter's username contains this (the ``user`` filter); ``submitter`` is the exact username.
    user_contains: str | None = None
    submitter: str | None = None
    observation_types: tuple[ObservationType, ...] = ()
    operator: Operator | None = None
    ipp_value: float | None = None
    # On the group's own ``created``.
    created_after: datetime | None = None
    created_before: datetime | None = None
    # On any of its requests' ``modified``.
    modified_after: datetime | None = None
    modified_before: datetime | None = None
    # On request locations.
    telescope_classes: tuple[str, ...] = ()
    # Any configuration's target name contains this.
    target_contains: str | None = None
    # The group holding this request.
    request_id: int | None = None
    # The scheduler feed (api.md 4.3): some window of the group *starts* within these bounds (both inclusive).
    window_starts_after: datetime | None = None
    window_starts_before: datetime | None = None
    # Visibility (requests.md 1.8), computed by the caller from domain.permissions: a group is visible when its
    # proposal is in ``visible_proposals`` (None: every group is), or when its proposal is in
    # ``own_in_proposals`` and ``own_submitter`` submitted it.
    visible_proposals: frozenset[str] | None = None
    own_in_proposals: frozenset[str] = frozenset()
    own_submitter: str | None = None
    # Keys among REQUEST_GROUP_ORDER_KEYS, each optionally prefixed with "-".
    order: tuple[str, ...] = ("-id",)
    limit: int = 1000
    offset: int = 0


@frozen
class RequestQuery:
    """Filters, visibility, ordering and one page of the request list (api.md 4.2); a request is visible when its
    group is."""

    ids: tuple[int, ...] = ()
    states: tuple[RequestState, ...] = ()
    telescope_classes: tuple[str, ...] = ()
    # Visibility (requests.md 1.8), computed by the caller from domain.permissions: a group is visible when its
    # proposal is in ``visible_proposals`` (None: every group is), or when its proposal is in
    # ``own_in_proposals`` and ``own_submitter`` submitted it.
    visible_proposals: frozenset[str] | None = None
    own_in_proposals: frozenset[str] = frozenset()
    own_submitter: str | None = None
    # Keys among REQUEST_ORDER_KEYS, each optionally prefixed with "-".
    order: tuple[str, ...] = ("-id",)
    limit: int = 1000
    offset: int = 0


class RequestGroupRepository(Protocol):
    """Request groups are aggregates with their requests, windows and configurations. The getters return
    tracked groups: state changes made through their verbs (group and request states, ``suspend_until``,
    ``modified``) are stored on commit; their content is fixed at submission and never rewritten."""

    def add(self, group: RequestGroup) -> None:
        """Store a new group; its id and the ids of its requests and configurations are set when this returns."""
        ...

    def get(self, group_id: int, *, for_update: bool = False) -> RequestGroup | None:
        """The group with this id, or None; ``for_update`` locks its row until commit where the database can."""
        ...

    def containing_request(self, request_id: int, *, for_update: bool = False) -> RequestGroup | None:
        """The group holding the request with this id, or None (locked as ``get`` does)."""
        ...

    def search(self, query: RequestGroupQuery) -> tuple[int, list[RequestGroup]]:
        """The number of visible groups matching the filters, and the requested page of them in order."""
        ...

    def search_requests(self, query: RequestQuery) -> tuple[int, list[tuple[RequestGroup, Request]]]:
        """The number of visible requests matching the filters, and the requested page of them in order, each
        with its group."""
        ...

    def time_used(self, proposal_id: str, submitter: str, since: datetime) -> int:
        """Seconds of the submitter's PENDING or COMPLETED requests in PENDING or COMPLETED groups of the proposal,
        created on or after ``since`` (requests.md 1.1); requests without a duration count nothing."""
        ...


# Keys the observation list may be ordered by (api.md 6), each optionally prefixed with "-"; ties break on id,
# newest first.
OBSERVATION_ORDER_KEYS = frozenset({"id", "start", "end", "modified", "created", "state"})


@frozen
class ObservationQuery:
    """Filters (ANDed), visibility, ordering and one page of the observation list (api.md 6).

    Filters on the request or its group (``observation_types``, ``request_states``, ``proposal``, ``submitter``,
    ``instrument_types``, ``configuration_types``) match through the observation's request; a request matches
    ``instrument_types`` or ``configuration_types`` when any of its configurations does (case-insensitively).
    """

    ids: tuple[int, ...] = ()
    sites: tuple[str, ...] = ()
    enclosures: tuple[str, ...] = ()
    telescopes: tuple[str, ...] = ()
    start_after: datetime | None = None  # start >= this
    start_before: datetime | None = None  # start < this
    end_after: datetime | None = None  # end >= this
    end_before: datetime | None = None  # end < this
    modified_after: datetime | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None
    request_ids: tuple[int, ...] = ()
    request_group_ids: tuple[int, ...] = ()
    states: tuple[ObservationState, ...] = ()
    priority: int | None = None
    observation_types: tuple[ObservationType, ...] = ()
    request_states: tuple[RequestState, ...] = ()
    proposal: str | None = None
    submitter: str | None = None  # exact username of the group's submitter (the ``user`` filter)
    instrument_types: tuple[str, ...] = ()
    configuration_types: tuple[str, ...] = ()
    # Visibility, as in RequestGroupQuery: an observation is visible when its request group is.
    visible_proposals: frozenset[str] | None = None
    own_in_proposals: frozenset[str] = frozenset()
    own_submitter: str | None = None
    # Keys among OBSERVATION_ORDER_KEYS, each optionally prefixed with "-".
    order: tuple[str, ...] = ("-id",)
    limit: int = 1000
    offset: int = 0


@frozen
class StatusQuery:
    """Filters (ANDed) and one page of the configuration status list (api.md 6), ordered by id newest first."""

    instrument_names: tuple[str, ...] = ()
    guide_camera_names: tuple[str, ...] = ()
    states: tuple[StatusState, ...] = ()
    sites: tuple[str, ...] = ()
    limit: int = 1000
    offset: int = 0


class ObservationRepository(Protocol):
    """Observations are aggregates with their configuration statuses (summaries included). The getters return
    tracked observations: state changes, summaries, charges and ``end`` are stored on commit."""

    def add(self, observation: Observation) -> None:
        """Store a new observation; its id and its statuses' ids are set when this returns."""
        ...

    def get(self, observation_id: int, *, for_update: bool = False) -> Observation | None:
        """The observation with this id, or None; ``for_update`` locks it until commit where the database can
        (and reloads it, so what is returned is what the lock protects)."""
        ...

    def containing_status(self, status_id: int) -> Observation | None:
        """The observation holding the configuration status with this id, or None (not locked)."""
        ...

    def for_request(self, request_id: int, *, for_update: bool = False) -> list[Observation]:
        """The request's observations ordered by id (locked as ``get`` does)."""
        ...

    def delete(self, observation: Observation) -> None:
        """Remove an observation loaded through this repository, with its statuses."""
        ...

    def search(self, query: ObservationQuery) -> tuple[int, list[Observation]]:
        """The number of visible observations matching the filters, and the requested page of them in order."""
        ...

    def search_statuses(self, query: StatusQuery) -> tuple[int, list[tuple[Observation, ConfigurationStatus]]]:
        """The number of statuses matching the filters, and the requested page of them, each with its
        observation."""
        ...


@frozen
class DraftQuery:
    """Visibility and one page of the draft list (api.md 4.4), ordered by ``modified`` newest first, ties by id
    newest first."""

    # Drafts of these proposals are visible (None: every draft is), computed by the caller from domain.permissions.
    visible_proposals: frozenset[str] | None = None
    limit: int = 1000
    offset: int = 0


class DraftRepository(Protocol):
    """Drafts returned by the getters are tracked: changes made to them are stored on commit."""

    def add(self, draft: Draft) -> None:
        """Store a new draft and assign its id; ConflictError if its author already has a draft of that title in
        that proposal (also raised by ``commit`` when a change makes two drafts share them)."""
        ...

    def get(self, draft_id: int) -> Draft | None:
        """The draft with this id, or None."""
        ...

    def find(self, author_id: int, proposal_id: str, title: str) -> Draft | None:
        """The author's draft of this title (compared exactly) in this proposal, or None."""
        ...

    def delete(self, draft: Draft) -> None:
        """Remove a draft loaded through this repository."""
        ...

    def search(self, query: DraftQuery) -> tuple[int, list[Draft]]:
        """The number of visible drafts, and the requested page of them in order."""
        ...


class Mailer(Protocol):
    def send(self, to: str, subject: str, body: str) -> None:
        """Deliver one plain-text email (or hand it to whatever delivers mail here)."""
        ...


class ChangeLog(Protocol):
    def add(self, entries: Sequence[ChangeEntry]) -> None:
        """Append entries to the log."""
        ...

    def search(
        self, kind: str | None = None, entity_id: str | None = None, since: datetime | None = None
    ) -> list[ChangeEntry]:
        """Entries matching the filters, oldest first."""
        ...


class UnitOfWork(Protocol):
    observatory: ObservatoryRepository
    downtimes: DowntimeRepository
    users: UserRepository
    semesters: SemesterRepository
    proposals: ProposalRepository
    request_groups: RequestGroupRepository
    drafts: DraftRepository
    observations: ObservationRepository
    changes: ChangeLog

    def __enter__(self) -> Self:
        """Start one atomic piece of work."""
        ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """End it; anything not committed is rolled back."""
        ...

    def commit(self) -> None:
        """Make every change of this unit of work durable and visible to others."""
        ...

    def rollback(self) -> None:
        """Discard every change since the last commit."""
        ...

    def collect_new_events(self) -> Iterator[object]:
        """Events recorded by aggregates touched in this unit of work, each yielded once."""
        ...


class Visibility(Protocol):
    """Astronomy for the pragmatic rule (requests.md 3.8), the airmass endpoint (7.4) and the scheduler (1.5)."""

    def visible_intervals(
        self,
        targets: Sequence[VisibilityTarget],
        telescopes: Sequence[TelescopeSite],
        windows: Sequence[Sequence[Interval]],
        constraints: Sequence[ObservingConstraints],
        downtimes: Mapping[str, Sequence[Interval]] | None = None,
    ) -> list[Mapping[str, tuple[Interval, ...]]]:
        """Per target i (sidereal, orbital or satellite), per telescope key (every telescope present): the normal
        intervals inside windows[i] when every rule of requests.md 3.8 holds under constraints[i], minus
        downtimes[key]."""
        ...

    def airmass(
        self,
        target: SiderealTarget,
        telescopes: Sequence[TelescopeSite],
        start: datetime,
        end: datetime,
        step_s: float = 600.0,
    ) -> dict[str, AirmassSeries]:
        """Per telescope key: the geometric airmass (1 / cos z) at start, start + step, ... before end."""
        ...
