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
    OBSERVATION_ORDER_KEYS,
    REQUEST_GROUP_ORDER_KEYS,
    REQUEST_ORDER_KEYS,
    ChangeLog,
    DowntimeQuery,
    DowntimeRepository,
    DraftQuery,
    DraftRepository,
    Mailer,
    ObservationQuery,
    ObservationRepository,
    ObservatoryRepository,
    ProposalRepository,
    RequestGroupQuery,
    RequestGroupRepository,
    RequestQuery,
    SemesterRepository,
    StatusQuery,
    UnitOfWork,
    UserRepository,
)
from domain.accounts import User
from domain.changes import ChangeEntry
from domain.downtime import Downtime
from domain.drafts import NOT_UNIQUE, Draft
from domain.errors import ConflictError
from domain.observations import ConfigurationStatus, Observation, ObservationState
from domain.observatory import Observatory
from domain.proposals import Proposal, Semester
from domain.requestgroups import Configuration, Request, RequestGroup, RequestState, Target


@attrs.define
class MemoryStore:
    """The committed state that in-memory units of work share; one per database, as it were."""

    observatory: Observatory = attrs.field(factory=Observatory)
    downtimes: dict[int, Downtime] = attrs.field(factory=dict)
    users: dict[int, User] = attrs.field(factory=dict)
    semesters: dict[str, Semester] = attrs.field(factory=dict)
    proposals: dict[str, Proposal] = attrs.field(factory=dict)
    request_groups: dict[int, RequestGroup] = attrs.field(factory=dict)
    drafts: dict[int, Draft] = attrs.field(factory=dict)
    observations: dict[int, Observation] = attrs.field(factory=dict)
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
            # Shared until handed out: committed groups are never changed in place (commit replaces them), and
            # the repository copies a group before anyone may change it, so a copy per group per unit of work
            # is paid only for the groups that unit of work reads.
            request_groups=dict(self.request_groups),
            drafts={key: attrs.evolve(draft) for key, draft in self.drafts.items()},
            # Shared until handed out, as request groups are.
            observations=dict(self.observations),
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

    def get(self, proposal_id: str, *, for_update: bool = False) -> Proposal | None:
        # A unit of work holds the store's lock throughout, so writers are serialised already.
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


# ---------------------------------------------------------------------------------------------------------
# Request groups.

_TIME_USED_STATES = frozenset({RequestState.PENDING, RequestState.COMPLETED})


def copy_request_group(group: RequestGroup) -> RequestGroup:
    """A copy sharing no entity with the original (the frozen values inside are shared); events are not copied."""
    return attrs.evolve(
        group,
        requests=[
            attrs.evolve(r, configurations=list(r.configurations), windows=list(r.windows)) for r in group.requests
        ],
    )


def stored_request_group(group: RequestGroup) -> RequestGroup:
    """The copy a database would give back: input-only ``fill_window`` dropped, targets with their type's fields
    only (requests.md 2.9: off-type values are never stored)."""
    stored = copy_request_group(group)
    for request in stored.requests:
        request.configurations = [_stored_configuration(c) for c in request.configurations]
    return stored


def _stored_configuration(configuration: Configuration) -> Configuration:
    target = Target(**configuration.target.type_fields())
    if target == configuration.target and not configuration.fill_window:
        return configuration
    return attrs.evolve(configuration, target=target, fill_window=False)


def _state_marks(group: RequestGroup) -> tuple[object, ...]:
    """What may change in a stored group (its content is fixed at submission): compared to find changed groups."""
    return (
        group.state,
        group.modified,
        tuple((r.id, r.state, r.suspend_until, r.modified) for r in group.requests),
    )


def _group_visible(
    group: RequestGroup, visible: frozenset[str] | None, own_in: frozenset[str], own: str | None
) -> bool:
    if visible is None or group.proposal in visible:
        return True
    return own is not None and group.proposal in own_in and group.submitter == own


def _contains(text: str, part: str) -> bool:
    return part.casefold() in text.casefold()


def _within(value: datetime | None, after: datetime | None, before: datetime | None) -> bool:
    # A time never set matches no bound, as NULL does in SQL.
    if after is None and before is None:
        return True
    return value is not None and (after is None or value >= after) and (before is None or value <= before)


def _matches_group(g: RequestGroup, q: RequestGroupQuery) -> bool:
    requests = g.requests
    checks = (
        not q.ids or g.id in q.ids,
        not q.states or g.state in q.states,
        g.state not in q.exclude_states,
        q.proposal is None or g.proposal == q.proposal,
        q.name_contains is None or _contains(g.name, q.name_contains),
        q.user_contains is None or _contains(g.submitter, q.user_contains),
        q.submitter is None or g.submitter == q.submitter,
        not q.observation_types or g.observation_type in q.observation_types,
        q.operator is None or g.operator is q.operator,
        q.ipp_value is None or g.ipp_value == q.ipp_value,
        _within(g.created, q.created_after, q.created_before),
        # Each bound on its own: one request may satisfy one bound and another request the other.
        q.modified_after is None or any(_within(r.modified, q.modified_after, None) for r in requests),
        q.modified_before is None or any(_within(r.modified, None, q.modified_before) for r in requests),
        not q.telescope_classes
        or any(r.location is not None and r.location.telescope_class in q.telescope_classes for r in requests),
        q.target_contains is None
        or any(_contains(c.target.name, q.target_contains) for r in requests for c in r.configurations),
        q.request_id is None or any(r.id == q.request_id for r in requests),
        (q.window_starts_after is None and q.window_starts_before is None)
        or any(_within(w.start, q.window_starts_after, q.window_starts_before) for r in requests for w in r.windows),
    )
    return all(checks) and _group_visible(g, q.visible_proposals, q.own_in_proposals, q.own_submitter)


def _sort(items: list[Any], order: Sequence[str], value: Callable[[Any, str], Any], allowed: frozenset[str]) -> None:
    """Sort in place by the keys (each optionally "-"), ties by id descending; an unset value sorts as the
    largest, as NULL does in PostgreSQL (the SQL adapter asks SQLite for the same)."""
    items.sort(key=lambda item: value(item, "id"), reverse=True)
    # Stable sorts from the last key to the first give a multi-key order with mixed directions.
    for key in reversed(order):
        name = key.removeprefix("-")
        if name not in allowed:
            raise ValueError(f"cannot order by {key!r}")

        def sort_key(item: Any, name: str = name) -> tuple[bool, Any]:
            found = value(item, name)
            return (found is None, found)

        items.sort(key=sort_key, reverse=key.startswith("-"))


def _group_value(group: RequestGroup, name: str) -> Any:
    return group.max_window_time if name == "end" else getattr(group, name)


def _request_value(pair: tuple[RequestGroup, Request], name: str) -> Any:
    value = getattr(pair[1], name)
    return value.value if isinstance(value, RequestState) else value


class InMemoryRequestGroupRepository(RequestGroupRepository):
    """Hands out copies of the committed groups; the unit of work publishes the copies whose states changed."""

    def __init__(self, state: MemoryStore) -> None:
        self._state = state
        # The groups handed out or added by this unit of work (each a copy of its own, which also replaces the
        # shared committed group in ``state``), with their state marks as handed out (None: added here).
        self._own: dict[int, RequestGroup] = {}
        self._marks: dict[int, tuple[object, ...] | None] = {}
        self.seen: list[RequestGroup] = []

    def add(self, group: RequestGroup) -> None:
        if group.id is not None:
            raise ValueError(f"request group {group.id} is already stored")
        group.id = self._state.next_id("request_group")
        for request in group.requests:
            request.id = self._state.next_id("request")
            request.configurations = [
                c if c.id is not None else attrs.evolve(c, id=self._state.next_id("configuration"))
                for c in request.configurations
            ]
        self._state.request_groups[group.id] = group
        self._own[group.id] = group
        self._marks[group.id] = None
        self.seen.append(group)

    def get(self, group_id: int, *, for_update: bool = False) -> RequestGroup | None:
        group = self._state.request_groups.get(group_id)
        return None if group is None else self._track(group)

    def containing_request(self, request_id: int, *, for_update: bool = False) -> RequestGroup | None:
        group = next(
            (g for g in self._state.request_groups.values() if any(r.id == request_id for r in g.requests)), None
        )
        return None if group is None else self._track(group)

    def search(self, query: RequestGroupQuery) -> tuple[int, list[RequestGroup]]:
        found = [g for g in self._state.request_groups.values() if _matches_group(g, query)]
        _sort(found, query.order, _group_value, REQUEST_GROUP_ORDER_KEYS)
        page = found[query.offset : query.offset + query.limit]
        return len(found), [self._track(g) for g in page]

    def search_requests(self, query: RequestQuery) -> tuple[int, list[tuple[RequestGroup, Request]]]:
        found = [
            (g, r)
            for g in self._state.request_groups.values()
            if _group_visible(g, query.visible_proposals, query.own_in_proposals, query.own_submitter)
            for r in g.requests
            if (not query.ids or r.id in query.ids)
            and (not query.states or r.state in query.states)
            and (
                not query.telescope_classes
                or (r.location is not None and r.location.telescope_class in query.telescope_classes)
            )
        ]
        _sort(found, query.order, _request_value, REQUEST_ORDER_KEYS)
        page: list[tuple[RequestGroup, Request]] = []
        for group, request in found[query.offset : query.offset + query.limit]:
            tracked = self._track(group)
            page.append((tracked, next(r for r in tracked.requests if r.id == request.id)))
        return len(found), page

    def time_used(self, proposal_id: str, submitter: str, since: datetime) -> int:
        return sum(
            r.duration or 0
            for g in self._state.request_groups.values()
            if g.proposal == proposal_id and g.submitter == submitter and g.state in _TIME_USED_STATES
            for r in g.requests
            if r.state in _TIME_USED_STATES and r.created is not None and r.created >= since
        )

    def changed(self) -> list[RequestGroup]:
        """The groups added, or handed out and changed since, in this unit of work."""
        return [
            group
            for group_id, group in self._own.items()
            if self._marks[group_id] is None or self._marks[group_id] != _state_marks(group)
        ]

    def _track(self, group: RequestGroup) -> RequestGroup:
        assert group.id is not None  # noqa: S101 - stored groups have ids
        own = self._own.get(group.id)
        if own is None:
            own = copy_request_group(group)
            self._own[group.id] = own
            self._marks[group.id] = _state_marks(own)
            self._state.request_groups[group.id] = own
            self.seen.append(own)
        return own


# ---------------------------------------------------------------------------------------------------------
# Observations.


def copy_observation(observation: Observation) -> Observation:
    """A copy sharing no entity with the original (the frozen summaries are shared); events are not copied."""
    return attrs.evolve(
        observation, configuration_statuses=[attrs.evolve(s) for s in observation.configuration_statuses]
    )


def _observation_marks(observation: Observation) -> tuple[object, ...]:
    """What may change in a stored observation (what the SQL adapter writes back): compared to find changed ones."""
    return (
        observation.state,
        observation.start,
        observation.end,
        observation.priority,
        observation.modified,
        tuple((s.id, s.state, s.summary, s.time_charged, s.modified) for s in observation.configuration_statuses),
    )


def _half_open(value: datetime | None, after: datetime | None, before: datetime | None) -> bool:
    """``after <= value < before`` for the bounds given; a time never set matches no bound, as NULL in SQL."""
    if after is None and before is None:
        return True
    return value is not None and (after is None or value >= after) and (before is None or value < before)


def _any_ignoring_case(values: Iterable[str], wanted: Iterable[str]) -> bool:
    # lower(), not casefold(): the SQL adapter compares with the databases' LOWER().
    lowered = {w.lower() for w in wanted}
    return any(v.lower() in lowered for v in values)


def _matches_observation(o: Observation, q: ObservationQuery, owner: tuple[RequestGroup, Request] | None) -> bool:
    if owner is None:
        # Every stored observation has its request (the database's foreign key); one without matches nothing.
        return False
    g, r = owner
    checks = (
        not q.ids or o.id in q.ids,
        not q.sites or o.site in q.sites,
        not q.enclosures or o.enclosure in q.enclosures,
        not q.telescopes or o.telescope in q.telescopes,
        _half_open(o.start, q.start_after, q.start_before),
        _half_open(o.end, q.end_after, q.end_before),
        _half_open(o.modified, q.modified_after, None),
        _half_open(o.created, q.created_after, q.created_before),
        not q.request_ids or o.request_id in q.request_ids,
        not q.request_group_ids or g.id in q.request_group_ids,
        not q.states or o.state in q.states,
        q.priority is None or o.priority == q.priority,
        not q.observation_types or g.observation_type in q.observation_types,
        not q.request_states or r.state in q.request_states,
        q.proposal is None or g.proposal == q.proposal,
        q.submitter is None or g.submitter == q.submitter,
        not q.instrument_types or _any_ignoring_case((c.instrument_type for c in r.configurations), q.instrument_types),
        not q.configuration_types or _any_ignoring_case((c.type for c in r.configurations), q.configuration_types),
    )
    return all(checks) and _group_visible(g, q.visible_proposals, q.own_in_proposals, q.own_submitter)


def _matches_status(o: Observation, s: ConfigurationStatus, q: StatusQuery) -> bool:
    return (
        (not q.instrument_names or s.instrument_name in q.instrument_names)
        and (not q.guide_camera_names or s.guide_camera_name in q.guide_camera_names)
        and (not q.states or s.state in q.states)
        and (not q.sites or o.site in q.sites)
    )


def _observation_value(observation: Observation, name: str) -> Any:
    value = getattr(observation, name)
    return value.value if isinstance(value, ObservationState) else value


def _status_id(pair: tuple[Observation, ConfigurationStatus]) -> int:
    return pair[1].id or 0


class InMemoryObservationRepository(ObservationRepository):
    """Hands out copies of the committed observations, as the request-group repository does; the filters on
    requests and groups read the request groups of the same unit of work, its own changes included."""

    def __init__(self, state: MemoryStore) -> None:
        self._state = state
        # The observations handed out or added by this unit of work (each a copy of its own, which also replaces
        # the shared committed one in ``state``), with their marks as handed out (None: added here).
        self._own: dict[int, Observation] = {}
        self._marks: dict[int, tuple[object, ...] | None] = {}
        self.deleted: set[int] = set()
        # Kept beyond the store too: a deleted observation's events must still reach the bus.
        self.seen: list[Observation] = []

    def add(self, observation: Observation) -> None:
        if observation.id is not None:
            raise ValueError(f"observation {observation.id} is already stored")
        observation.id = self._state.next_id("observation")
        for status in observation.configuration_statuses:
            status.id = self._state.next_id("configuration_status")
        self._state.observations[observation.id] = observation
        self._own[observation.id] = observation
        self._marks[observation.id] = None
        self.seen.append(observation)

    def get(self, observation_id: int, *, for_update: bool = False) -> Observation | None:
        # A unit of work holds the store's lock throughout: writers are serialised and what it holds is current.
        found = self._state.observations.get(observation_id)
        return None if found is None else self._track(found)

    def containing_status(self, status_id: int) -> Observation | None:
        found = next(
            (o for o in self._state.observations.values() if any(s.id == status_id for s in o.configuration_statuses)),
            None,
        )
        return None if found is None else self._track(found)

    def for_request(self, request_id: int, *, for_update: bool = False) -> list[Observation]:
        found = [o for o in self._state.observations.values() if o.request_id == request_id]
        found.sort(key=_observation_id)
        return [self._track(o) for o in found]

    def delete(self, observation: Observation) -> None:
        assert observation.id is not None  # noqa: S101 - only stored observations can be deleted
        self._state.observations.pop(observation.id, None)
        self._own.pop(observation.id, None)
        self._marks.pop(observation.id, None)
        self.deleted.add(observation.id)
        if observation not in self.seen:
            self.seen.append(observation)

    def search(self, query: ObservationQuery) -> tuple[int, list[Observation]]:
        owners = {r.id: (g, r) for g in self._state.request_groups.values() for r in g.requests}
        found = [
            o for o in self._state.observations.values() if _matches_observation(o, query, owners.get(o.request_id))
        ]
        _sort(found, query.order, _observation_value, OBSERVATION_ORDER_KEYS)
        page = found[query.offset : query.offset + query.limit]
        return len(found), [self._track(o) for o in page]

    def search_statuses(self, query: StatusQuery) -> tuple[int, list[tuple[Observation, ConfigurationStatus]]]:
        found = [
            (o, s)
            for o in self._state.observations.values()
            for s in o.configuration_statuses
            if _matches_status(o, s, query)
        ]
        found.sort(key=_status_id, reverse=True)
        page: list[tuple[Observation, ConfigurationStatus]] = []
        for observation, status in found[query.offset : query.offset + query.limit]:
            tracked = self._track(observation)
            page.append((tracked, tracked.status(status.id or 0)))
        return len(found), page

    def changed(self) -> list[Observation]:
        """The observations added, or handed out and changed since, in this unit of work (deleted ones aside)."""
        return [
            observation
            for observation_id, observation in self._own.items()
            if self._marks[observation_id] is None or self._marks[observation_id] != _observation_marks(observation)
        ]

    def _track(self, observation: Observation) -> Observation:
        assert observation.id is not None  # noqa: S101 - stored observations have ids
        own = self._own.get(observation.id)
        if own is None:
            own = copy_observation(observation)
            self._own[observation.id] = own
            self._marks[observation.id] = _observation_marks(own)
            self._state.observations[observation.id] = own
            self.seen.append(own)
        return own


def _observation_id(observation: Observation) -> int:
    return observation.id or 0


# ---------------------------------------------------------------------------------------------------------
# Drafts.


def _draft_key(draft: Draft) -> tuple[int, str, str]:
    return (draft.author_id, draft.proposal_id, draft.title)


class InMemoryDraftRepository(DraftRepository):
    def __init__(self, state: MemoryStore) -> None:
        self._state = state

    def add(self, draft: Draft) -> None:
        if self.find(*_draft_key(draft)) is not None:
            raise ConflictError(NOT_UNIQUE)
        draft.id = self._state.next_id("draft")
        self._state.drafts[draft.id] = draft

    def get(self, draft_id: int) -> Draft | None:
        return self._state.drafts.get(draft_id)

    def find(self, author_id: int, proposal_id: str, title: str) -> Draft | None:
        return next((d for d in self._state.drafts.values() if _draft_key(d) == (author_id, proposal_id, title)), None)

    def delete(self, draft: Draft) -> None:
        assert draft.id is not None  # noqa: S101 - only stored drafts can be deleted
        self._state.drafts.pop(draft.id, None)

    def search(self, query: DraftQuery) -> tuple[int, list[Draft]]:
        visible = query.visible_proposals
        found = [d for d in self._state.drafts.values() if visible is None or d.proposal_id in visible]
        found.sort(key=lambda d: (d.modified, d.id or 0), reverse=True)
        return len(found), found[query.offset : query.offset + query.limit]

    def check_unique(self) -> None:
        """Refuse, as the database's unique constraint would, a change that left two drafts with one key."""
        keys = [_draft_key(d) for d in self._state.drafts.values()]
        if len(keys) != len(set(keys)):
            raise ConflictError(NOT_UNIQUE)


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
        self._base_drafts = dict(self._store.drafts)
        self._base_changes = len(self._store.changes)
        self._work = self._store.copy()
        self.observatory = InMemoryObservatoryRepository(self._work, self._store)
        self.downtimes = InMemoryDowntimeRepository(self._work)
        self.users = InMemoryUserRepository(self._work)
        self.semesters = InMemorySemesterRepository(self._work)
        self.proposals = InMemoryProposalRepository(self._work)
        self.request_groups = InMemoryRequestGroupRepository(self._work)
        self.drafts = InMemoryDraftRepository(self._work)
        self.observations = InMemoryObservationRepository(self._work)
        self.changes = InMemoryChangeLog(self._work)
        self._seen: list[object] = []

    def commit(self) -> None:
        assert self._work is not None  # noqa: S101 - commit outside "with" is a programming error
        if self.observatory.saved() and self.observatory.committed_elsewhere():
            raise ConflictError("The observatory configuration was changed by someone else; try again")
        self.proposals.assign_child_ids()
        self.drafts.check_unique()
        self._collected = [*getattr(self, "_collected", []), *self._pending_events()]
        # Publish copies, so objects the caller still holds cannot change the committed state.
        if self.observatory.saved():
            self._store.observatory = self._work.observatory.copy()
        _publish_changed(self._store.downtimes, self._base_downtimes, self._work.downtimes)
        _publish_changed(self._store.users, self._base_users, self._work.users)
        _publish_changed(self._store.semesters, self._base_semesters, self._work.semesters)
        _publish_changed(self._store.proposals, self._base_proposals, self._work.proposals, copy_proposal)
        _publish_changed(self._store.drafts, self._base_drafts, self._work.drafts)
        for group in self.request_groups.changed():
            assert group.id is not None  # noqa: S101 - added groups get their ids at once
            self._store.request_groups[group.id] = stored_request_group(group)
        for observation in self.observations.changed():
            assert observation.id is not None  # noqa: S101 - added observations get their ids at once
            self._store.observations[observation.id] = copy_observation(observation)
        for observation_id in self.observations.deleted:
            self._store.observations.pop(observation_id, None)
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
            *self.request_groups.seen,
            *self.observations.seen,
            self._work.observatory,
            *self._work.downtimes.values(),
            *self._work.users.values(),
            *self._work.semesters.values(),
            *self._work.proposals.values(),
            *self._work.drafts.values(),
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
