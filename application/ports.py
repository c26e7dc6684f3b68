"""The ports: what the application needs from the outside world, as Protocols that adapters implement."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from types import TracebackType
from typing import Protocol, Self

from attrs import frozen

from domain.accounts import User
from domain.changes import ChangeEntry
from domain.downtime import Downtime
from domain.observatory import Observatory
from domain.proposals import Proposal, Semester


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

    def get(self, proposal_id: str) -> Proposal | None:
        """The proposal with this id, or None."""
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
