"""In-memory adapters: real implementations of every port, kept in process memory.

They serve the demo without a database and are the test doubles of the application tests. A unit of work
copies the committed state on entry and publishes its copy on commit, so rollback is real.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime
from operator import attrgetter
from types import TracebackType
from typing import Any, Self

import attrs

from application.ports import (
    ChangeLog,
    DowntimeQuery,
    DowntimeRepository,
    Mailer,
    ObservatoryRepository,
    ProposalRepository,
    SemesterRepository,
    UnitOfWork,
    UserRepository,
)
from domain.accounts import User
from domain.changes import ChangeEntry
from domain.downtime import Downtime
from domain.errors import ConflictError
from domain.observatory import Observatory
from domain.proposals import Proposal, Semester


@attrs.define
class MemoryStore:
    """The committed state that in-memory units of work share; one per database, as it were."""

    observatory: Observatory = attrs.field(factory=Observatory)
    downtimes: dict[int, Downtime] = attrs.field(factory=dict)
    users: dict[int, User] = attrs.field(factory=dict)
    semesters: dict[str, Semester] = attrs.field(factory=dict)
    proposals: dict[str, Proposal] = attrs.field(factory=dict)
    changes: list[ChangeEntry] = attrs.field(factory=list)
    next_ids: dict[str, int] = attrs.field(factory=dict)
    lock: threading.RLock = attrs.field(factory=threading.RLock)

    def copy(self) -> MemoryStore:
        return MemoryStore(
            observatory=self.observatory.copy(),
            # evolve, not deepcopy: the classes may also be mapped by SQLAlchemy in this process, and a deep copy
            # would share the mapper's per-object state between the original and the copy.
            downtimes={key: attrs.evolve(downtime) for key, downtime in self.downtimes.items()},
            users={key: attrs.evolve(user) for key, user in self.users.items()},
            semesters={key: attrs.evolve(semester) for key, semester in self.semesters.items()},
            proposals={key: copy_proposal(proposal) for key, proposal in self.proposals.items()},
            changes=list(self.changes),
            # Shared, not copied: like a database sequence, an id once handed out is never handed out again.
            next_ids=self.next_ids,
            lock=self.lock,
        )

    def next_id(self, kind: str) -> int:
        self.next_ids[kind] = self.next_ids.get(kind, 0) + 1
        return self.next_ids[kind]


class InMemoryObservatoryRepository(ObservatoryRepository):
    def __init__(self, state: MemoryStore, committed: MemoryStore | None = None) -> None:
        self._state = state
        # The shared committed store, when ``state`` is a unit of work's copy of it: a save is refused as soon
        # as another unit of work has committed a newer version, as a database's conditional UPDATE would.
        self._committed = committed
        self._base_version = state.observatory.version
        # The copies handed out carry the events the caller records; the unit of work collects them on commit.
        self.seen: list[Observatory] = []

    def get(self) -> Observatory:
        observatory = self._state.observatory.copy()
        self.seen.append(observatory)
        return observatory

    def save(self, observatory: Observatory) -> None:
        if observatory.version != self._state.observatory.version or self.committed_elsewhere():
            raise ConflictError("The observatory configuration was changed by someone else; try again")
        saved = observatory.copy()
        saved.version = observatory.version + 1
        self._state.observatory = saved
        observatory.version = saved.version
        if all(seen is not observatory for seen in self.seen):
            self.seen.append(observatory)

    def version(self) -> int:
        return self._state.observatory.version

    def saved(self) -> bool:
        """Whether this repository stored a new version."""
        return self._state.observatory.version != self._base_version

    def committed_elsewhere(self) -> bool:
        """Whether someone else committed a version since this repository's state was copied."""
        return self._committed is not None and self._committed.observatory.version != self._base_version


def _matches_downtime(d: Downtime, q: DowntimeQuery) -> bool:
    bounds: list[tuple[datetime | None, datetime | None, int]] = [
        (q.starts_after, d.start, 1),
        (q.starts_before, d.start, -1),
        (q.ends_after, d.end, 1),
        (q.ends_before, d.end, -1),
        (q.created_after, d.created, 1),
        (q.created_before, d.created, -1),
        (q.modified_after, d.modified, 1),
        (q.modified_before, d.modified, -1),
    ]
    for bound, value, sign in bounds:
        if bound is None:
            continue
        # A time never set matches no bound, as NULL does in SQL.
        if value is None or (sign > 0 and value < bound) or (sign < 0 and value > bound):
            return False
    for wanted, code in (
        (q.sites, d.site),
        (q.enclosures, d.enclosure),
        (q.telescopes, d.telescope),
        (q.instrument_types, d.instrument_type),
    ):
        if wanted and code not in wanted:
            return False
    if q.reason_contains is not None and q.reason_contains.casefold() not in d.reason.casefold():
        return False
    return q.reason_exact is None or d.reason == q.reason_exact


class InMemoryDowntimeRepository(DowntimeRepository):
    def __init__(self, state: MemoryStore) -> None:
        self._state = state
        # Kept beyond the store too: a deleted downtime's events must still reach the bus.
        self.seen: list[Downtime] = []

    def add(self, downtime: Downtime) -> None:
        downtime.id = self._state.next_id("downtime")
        self._state.downtimes[downtime.id] = downtime
        self.seen.append(downtime)

    def get(self, downtime_id: int) -> Downtime | None:
        return self._state.downtimes.get(downtime_id)

    def delete(self, downtime: Downtime) -> None:
        assert downtime.id is not None  # noqa: S101 - only stored downtimes can be deleted
        self._state.downtimes.pop(downtime.id, None)
        self.seen.append(downtime)

    def search(self, query: DowntimeQuery) -> tuple[int, list[Downtime]]:
        found = [d for d in self._state.downtimes.values() if _matches_downtime(d, query)]
        found.sort(key=_downtime_id)
        # Stable sorts from the last key to the first give a multi-key order with mixed directions.
        for key in reversed(query.order):
            found.sort(key=attrgetter(key.lstrip("-")), reverse=key.startswith("-"))
        return len(found), found[query.offset : query.offset + query.limit]


def _downtime_id(downtime: Downtime) -> int:
    return downtime.id or 0


def token_digest(token: str) -> str:
    """The index under which a token is looked up (tokens are random, so a fast hash is the right one)."""
    return hashlib.sha256(token.encode()).hexdigest()


class InMemoryUserRepository(UserRepository):
    def __init__(self, state: MemoryStore) -> None:
        self._state = state

    def add(self, user: User) -> None:
        if self.get_by_username(user.username) is not None:
            raise ConflictError(f'A user named "{user.username}" already exists')
        user.id = self._state.next_id("user")
        self._state.users[user.id] = user

    def get(self, user_id: int) -> User | None:
        return self._state.users.get(user_id)

    def get_by_username(self, username: str) -> User | None:
        wanted = username.casefold()
        return next((u for u in self._state.users.values() if u.username.casefold() == wanted), None)

    def get_by_email(self, email: str) -> User | None:
        wanted = email.casefold()
        return next((u for u in self._state.users.values() if u.email and u.email.casefold() == wanted), None)

    def get_by_token(self, token: str) -> User | None:
        digest = token_digest(token)
        return next(
            (u for u in self._state.users.values() if u.api_token and token_digest(u.api_token) == digest),
            None,
        )

    def get_many(self, user_ids: Iterable[int]) -> dict[int, User]:
        return {i: self._state.users[i] for i in set(user_ids) if i in self._state.users}


class InMemorySemesterRepository(SemesterRepository):
    def __init__(self, state: MemoryStore) -> None:
        self._state = state

    def add(self, semester: Semester) -> None:
        if semester.id in self._state.semesters:
            raise ConflictError(f"Semester {semester.id} already exists")
        self._state.semesters[semester.id] = semester

    def get(self, semester_id: str) -> Semester | None:
        return self._state.semesters.get(semester_id)

    def all(self) -> list[Semester]:
        return sorted(self._state.semesters.values(), key=attrgetter("start"), reverse=True)


def copy_proposal(proposal: Proposal) -> Proposal:
    """A copy sharing nothing mutable with the original (evolve, not deepcopy: see MemoryStore.copy)."""
    return attrs.evolve(
        proposal,
        tags=list(proposal.tags),
        memberships=[attrs.evolve(m) for m in proposal.memberships],
        invitations=[attrs.evolve(i) for i in proposal.invitations],
        allocations=[attrs.evolve(a, instrument_types=list(a.instrument_types)) for a in proposal.allocations],
    )


class InMemoryProposalRepository(ProposalRepository):
    def __init__(self, state: MemoryStore) -> None:
        self._state = state

    def add(self, proposal: Proposal) -> None:
        if proposal.id in self._state.proposals:
            raise ConflictError(f"Proposal {proposal.id} already exists")
        self._state.proposals[proposal.id] = proposal

    def get(self, proposal_id: str) -> Proposal | None:
        return self._state.proposals.get(proposal_id)

    def all(self) -> list[Proposal]:
        return sorted(self._state.proposals.values(), key=attrgetter("id"), reverse=True)

    def for_member(self, user_id: int) -> list[Proposal]:
        return [p for p in self.all() if p.membership_of(user_id) is not None]

    def with_pending_invitation(self, email: str) -> list[Proposal]:
        return [p for p in self.all() if any(i.pending and i.email == email for i in p.invitations)]

    def containing_membership(self, membership_id: int) -> Proposal | None:
        return next((p for p in self.all() if p.find_membership(membership_id)), None)

    def containing_invitation(self, invitation_id: int) -> Proposal | None:
        return next((p for p in self.all() if any(i.id == invitation_id for i in p.invitations)), None)

    def containing_allocation(self, allocation_id: int) -> Proposal | None:
        return next((p for p in self.all() if p.find_allocation(allocation_id)), None)

    def assign_child_ids(self) -> None:
        """Give new memberships, invitations and allocations their ids, as a database does on flush."""
        for proposal in self._state.proposals.values():
            for kind, children in (
                ("membership", proposal.memberships),
                ("invitation", proposal.invitations),
                ("allocation", proposal.allocations),
            ):
                for child in children:
                    if child.id is None:
                        child.id = self._state.next_id(kind)


class InMemoryMailer(Mailer):
    """Keeps every message in a list: the demo's and the tests' outbox."""

    def __init__(self) -> None:
        self.outbox: list[tuple[str, str, str]] = []

    def send(self, to: str, subject: str, body: str) -> None:
        self.outbox.append((to, subject, body))


class InMemoryChangeLog(ChangeLog):
    def __init__(self, state: MemoryStore) -> None:
        self._state = state

    def add(self, entries: Sequence[ChangeEntry]) -> None:
        self._state.changes.extend(entries)

    def search(
        self, kind: str | None = None, entity_id: str | None = None, since: datetime | None = None
    ) -> list[ChangeEntry]:
        found = [
            e
            for e in self._state.changes
            if (kind is None or e.kind == kind)
            and (entity_id is None or e.entity_id == entity_id)
            and (since is None or e.time >= since)
        ]
        # Oldest first, as the port says, even if entries were appended out of time order; ties keep their order.
        return sorted(found, key=attrgetter("time"))


class InMemoryUnitOfWork(UnitOfWork):
    """Works on a private copy of the store; commit publishes the copy, anything else discards it."""

    def __init__(self, store: MemoryStore) -> None:
        self._store = store
        self._work: MemoryStore | None = None

    def __enter__(self) -> Self:
        self._store.lock.acquire()
        self._begin()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            self.rollback()
        finally:
            self._store.lock.release()

    def _begin(self) -> None:
        # What the copy was taken from: commit publishes only what this unit of work changed relative to it,
        # so two units of work open at once (nested in one thread) do not undo each other's commits.
        self._base_downtimes = dict(self._store.downtimes)
        self._base_users = dict(self._store.users)
        self._base_semesters = dict(self._store.semesters)
        self._base_proposals = dict(self._store.proposals)
        self._base_changes = len(self._store.changes)
        self._work = self._store.copy()
        self.observatory = InMemoryObservatoryRepository(self._work, self._store)
        self.downtimes = InMemoryDowntimeRepository(self._work)
        self.users = InMemoryUserRepository(self._work)
        self.semesters = InMemorySemesterRepository(self._work)
        self.proposals = InMemoryProposalRepository(self._work)
        self.changes = InMemoryChangeLog(self._work)
        self._seen: list[object] = []

    def commit(self) -> None:
        assert self._work is not None  # noqa: S101 - commit outside "with" is a programming error
        if self.observatory.saved() and self.observatory.committed_elsewhere():
            raise ConflictError("The observatory configuration was changed by someone else; try again")
        self.proposals.assign_child_ids()
        self._collected = [*getattr(self, "_collected", []), *self._pending_events()]
        # Publish copies, so objects the caller still holds cannot change the committed state.
        if self.observatory.saved():
            self._store.observatory = self._work.observatory.copy()
        _publish_changed(self._store.downtimes, self._base_downtimes, self._work.downtimes)
        _publish_changed(self._store.users, self._base_users, self._work.users)
        _publish_changed(self._store.semesters, self._base_semesters, self._work.semesters)
        _publish_changed(self._store.proposals, self._base_proposals, self._work.proposals, copy_proposal)
        self._store.changes = [*self._store.changes, *self._work.changes[self._base_changes :]]
        self._begin()

    def rollback(self) -> None:
        self._begin()

    def _pending_events(self) -> list[object]:
        assert self._work is not None  # noqa: S101
        aggregates: dict[int, object] = {}
        for aggregate in (
            *self.observatory.seen,
            *self.downtimes.seen,
            self._work.observatory,
            *self._work.downtimes.values(),
            *self._work.users.values(),
            *self._work.semesters.values(),
            *self._work.proposals.values(),
        ):
            aggregates.setdefault(id(aggregate), aggregate)
        found: list[object] = []
        for aggregate in aggregates.values():
            events = getattr(aggregate, "events", [])
            found.extend(events)
            events.clear()
        return found

    def collect_new_events(self) -> Iterator[object]:
        yield from getattr(self, "_collected", [])
        self._collected = []


def _publish_changed(
    committed: dict[Any, Any],
    base: dict[Any, Any],
    work: dict[Any, Any],
    copy: Callable[[Any], Any] = attrs.evolve,
) -> None:
    """Apply to the committed entities what changed from ``base`` to ``work`` (added, changed, removed)."""
    for key in base.keys() - work.keys():
        committed.pop(key, None)
    for key, entity in work.items():
        before = base.get(key)
        if before is None or _data(before) != _data(entity):
            committed[key] = copy(entity)


def _data(entity: Any) -> dict[str, Any]:
    # Nested attrs children (a proposal's memberships) compare by value, so a changed child counts.
    return attrs.asdict(entity, recurse=True, filter=lambda attribute, _: attribute.init)
