"""SQLAlchemy repositories: the observatory as one snapshot over its tables; mapped downtimes, users, proposals.

Downtime, User, Semester and Proposal (with its memberships, invitations and time allocations) are mapped
imperatively onto their tables (the domain classes stay plain attrs classes), so the session's identity map
tracks changes and stores them on commit, as the ports promise. The observatory is not mapped: it is an
aggregate of frozen records, loaded whole into a snapshot and saved as the difference between the snapshot
it was read from and the one handed back.
"""

from __future__ import annotations

import enum
import threading
import weakref
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import attrs
import sqlalchemy as sa
from sqlalchemy import orm

from adapters.memory import token_digest
from adapters.sqlalchemy import tables
from application.ports import (
    ChangeLog,
    DowntimeQuery,
    DowntimeRepository,
    DraftQuery,
    DraftRepository,
    ObservatoryRepository,
    ProposalRepository,
    SemesterRepository,
    UserRepository,
)
from domain.accounts import User
from domain.changes import ChangeEntry
from domain.downtime import Downtime
from domain.drafts import NOT_UNIQUE, Draft
from domain.errors import ConflictError
from domain.observatory import KINDS, KINDS_BY_NAME, Observatory, RecordChange, diff
from domain.proposals import Invitation, Membership, Proposal, Semester, TimeAllocation

# ---------------------------------------------------------------------------------------------------------
# Imperative mapping of the domain's entities.

mapper_registry = orm.registry(metadata=tables.metadata)
_mapping_lock = threading.Lock()


def start_mappers() -> None:
    """Map the domain's entities onto their tables; safe to call more than once (units of work call it)."""
    with _mapping_lock:
        if sa.inspect(Downtime, raiseerr=False) is not None:
            return
        mapper_registry.map_imperatively(Downtime, tables.downtimes)
        mapper_registry.map_imperatively(
            User,
            tables.users,
            properties={
                "_username_key": tables.users.c.username_key,
                "_api_token_sha256": tables.users.c.api_token_sha256,
            },
        )
        mapper_registry.map_imperatively(Semester, tables.semesters)
        _map_proposal()
        mapper_registry.map_imperatively(Draft, tables.drafts)
        for cls in (Downtime, User, Semester, Proposal, Draft):
            # Loading from a row bypasses __init__, which is what creates the unmapped events list.
            sa.event.listen(cls, "load", _give_events_list)
        sa.event.listen(User, "before_insert", _derive_user_keys)
        sa.event.listen(User, "before_update", _derive_user_keys)


def _map_proposal() -> None:
    children: dict[str, tuple[type, sa.Table]] = {
        "memberships": (Membership, tables.memberships),
        "invitations": (Invitation, tables.invitations),
        "allocations": (TimeAllocation, tables.time_allocations),
    }
    properties: dict[str, Any] = {}
    for name, (cls, table) in children.items():
        # The owning proposal's id is a column only: the domain reaches children through the proposal.
        mapper_registry.map_imperatively(cls, table, properties={"_proposal_id": table.c.proposal_id})
        properties[name] = orm.relationship(
            cls,
            # A child dropped from its list is deleted, as the aggregate owns it.
            cascade="all, delete-orphan",
            order_by=table.c.id,
            # Loaded with the proposal, because proposals outlive their session (handlers return them, views
            # read them after the block) and a lazy load on a detached proposal would fail.
            lazy="selectin",
        )
    mapper_registry.map_imperatively(Proposal, tables.proposals, properties=properties)


def _give_events_list(target: Downtime | User | Semester | Proposal | Draft, _context: object) -> None:
    target.events = []


def _derive_user_keys(_mapper: object, _connection: object, user: User) -> None:
    user._username_key = user.username.casefold()  # type: ignore[attr-defined]  # mapped column, not an attrs field
    user._api_token_sha256 = token_digest(user.api_token) if user.api_token else None  # type: ignore[attr-defined]


# ---------------------------------------------------------------------------------------------------------
# The observatory.


class _SnapshotCache:
    """The last snapshot loaded from each engine, so reads between writes do not reload the whole tree.

    Keyed weakly by engine: a disposed test database takes its entry with it. A snapshot is only ever stored
    from a transaction that has not written, so it always matches a committed version.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_engine: weakref.WeakKeyDictionary[sa.Engine, Observatory] = weakref.WeakKeyDictionary()

    def get(self, engine: sa.Engine, version: int) -> Observatory | None:
        with self._lock:
            snapshot = self._by_engine.get(engine)
        return snapshot if snapshot is not None and snapshot.version == version else None

    def put(self, engine: sa.Engine, snapshot: Observatory) -> None:
        with self._lock:
            current = self._by_engine.get(engine)
            if current is None or current.version <= snapshot.version:
                self._by_engine[engine] = snapshot


snapshot_cache = _SnapshotCache()


def _column_value(value: Any) -> Any:
    return value.value if isinstance(value, enum.Enum) else value


class SqlAlchemyObservatoryRepository(ObservatoryRepository):
    """Loads the configuration as one snapshot and saves the records that differ from it."""

    def __init__(self, session: orm.Session) -> None:
        self._session = session
        # The unchanged snapshot of each version handed out, to diff against on save.
        self._loaded: dict[int, Observatory] = {}
        # After a save the transaction holds uncommitted rows: serve them from here, and keep them out of the
        # shared cache until commit.
        self._written: Observatory | None = None
        self.seen: list[Observatory] = []

    def get(self) -> Observatory:
        snapshot = self._written if self._written is not None else self._read_snapshot()
        self._loaded[snapshot.version] = snapshot
        observatory = snapshot.copy()
        self.seen.append(observatory)
        return observatory

    def save(self, observatory: Observatory) -> None:
        loaded = self._loaded.get(observatory.version)
        if loaded is None:
            # Not read through this unit of work: diff against what is stored now, if it is that version.
            loaded = self._read_snapshot()
            if loaded.version != observatory.version:
                raise ConflictError("The observatory configuration was changed by someone else; try again")
        # Bump the counter first: it takes the row lock, so a concurrent writer fails here before writing rows.
        bumped = self._session.execute(
            sa.update(tables.observatory_version)
            .where(tables.observatory_version.c.version == observatory.version)
            .values(version=tables.observatory_version.c.version + 1)
        )
        if bumped.rowcount != 1:  # type: ignore[attr-defined]  # a DML result always has a row count
            raise ConflictError("The observatory configuration was changed by someone else; try again")
        self._apply(diff(loaded, observatory))
        observatory.version += 1
        saved = observatory.copy()
        self._written = saved
        self._loaded[saved.version] = saved
        if observatory not in self.seen:
            self.seen.append(observatory)

    def version(self) -> int:
        if self._written is not None:
            return self._written.version
        return int(self._session.execute(sa.select(tables.observatory_version.c.version)).scalar_one())

    def committed(self) -> None:
        """The unit of work committed: later reads come from the database again (and its cache)."""
        self._written = None

    def _engine(self) -> sa.Engine:
        bind = self._session.get_bind()
        return bind if isinstance(bind, sa.Engine) else bind.engine

    def _read_snapshot(self) -> Observatory:
        engine = self._engine()
        while True:
            version = self.version()
            cached = snapshot_cache.get(engine, version)
            if cached is not None:
                return cached
            snapshot = self._load(version)
            # Outside a snapshot-isolated transaction a writer may commit between the table reads; the counter
            # moves with every commit, so an unchanged counter proves the tables were read at one version.
            if self.version() == version:
                snapshot_cache.put(engine, snapshot)
                return snapshot

    def _load(self, version: int) -> Observatory:
        observatory = Observatory(version)
        for kind in KINDS:
            table = tables.OBSERVATORY_TABLES[kind.name]
            members: dict[str, dict[Any, list[int]]] = {}
            for association in tables.ASSOCIATIONS[kind.name]:
                rows = self._session.execute(
                    sa.select(association.table).order_by(
                        association.table.c[association.owner], association.table.c.position
                    )
                )
                by_owner: dict[Any, list[int]] = defaultdict(list)
                for row in rows.mappings():
                    by_owner[row[association.owner]].append(row[association.member])
                members[association.field] = by_owner
            records = observatory.table(kind.name)
            for row in self._session.execute(sa.select(table)).mappings():
                values = dict(row)
                key = values[kind.key]
                for field_name, by_owner in members.items():
                    values[field_name] = tuple(by_owner.get(key, ()))
                records[key] = kind.record_class(**values)
        return observatory

    def _apply(self, changes: list[RecordChange]) -> None:
        # Creates and updates go first, in dependency order, so every record they refer to exists; deletions
        # follow in reverse order, when nothing refers to the deleted records any more (an update may be what
        # dropped the last reference, e.g. an instrument switching away from a camera that is then deleted).
        upserts = [change for change in changes if change.after is not None]
        deletions = [change for change in changes if change.after is None]
        for kind in KINDS:
            self._write_kind(kind.name, [c for c in upserts if c.kind == kind.name])
        for kind in reversed(KINDS):
            keys = [c.key for c in deletions if c.kind == kind.name]
            if keys:
                self._delete_owned(kind.name, keys)
                table = tables.OBSERVATORY_TABLES[kind.name]
                self._session.execute(sa.delete(table).where(table.c[kind.key].in_(keys)))

    def _write_kind(self, kind_name: str, changes: list[RecordChange]) -> None:
        if not changes:
            return
        table = tables.OBSERVATORY_TABLES[kind_name]
        key_column = table.c[KINDS_BY_NAME[kind_name].key]
        created = [_row(table, c.after) for c in changes if c.before is None]
        if created:
            self._session.execute(sa.insert(table), created)
        for change in changes:
            if change.before is not None:
                self._session.execute(
                    sa.update(table).where(key_column == change.key).values(_row(table, change.after))
                )
        for association in tables.ASSOCIATIONS[kind_name]:
            changed = [
                c
                for c in changes
                if c.before is None or getattr(c.before, association.field) != getattr(c.after, association.field)
            ]
            owners = [c.key for c in changed if c.before is not None]
            if owners:
                self._session.execute(
                    sa.delete(association.table).where(association.table.c[association.owner].in_(owners))
                )
            rows = [
                {association.owner: c.key, "position": position, association.member: member}
                for c in changed
                for position, member in enumerate(getattr(c.after, association.field))
            ]
            if rows:
                self._session.execute(sa.insert(association.table), rows)

    def _delete_owned(self, kind_name: str, keys: list[Any]) -> None:
        # The foreign keys cascade too; deleting explicitly keeps SQLite correct even with them switched off.
        for association in tables.ASSOCIATIONS[kind_name]:
            self._session.execute(sa.delete(association.table).where(association.table.c[association.owner].in_(keys)))


def _row(table: sa.Table, record: Any) -> dict[str, Any]:
    return {
        field.name: _column_value(getattr(record, field.name))
        for field in attrs.fields(type(record))
        if field.name in table.c
    }


# ---------------------------------------------------------------------------------------------------------
# Downtime.

_DOWNTIME_BOUNDS = (
    ("starts_after", "start", True),
    ("starts_before", "start", False),
    ("ends_after", "end", True),
    ("ends_before", "end", False),
    ("created_after", "created", True),
    ("created_before", "created", False),
    ("modified_after", "modified", True),
    ("modified_before", "modified", False),
)
_DOWNTIME_CODES = (
    ("sites", "site"),
    ("enclosures", "enclosure"),
    ("telescopes", "telescope"),
    ("instrument_types", "instrument_type"),
)
_DOWNTIME_ORDER_KEYS = frozenset({"start", "end", "created", "modified"})


def _downtime_filters(query: DowntimeQuery) -> list[sa.ColumnElement[bool]]:
    columns = tables.downtimes.c
    conditions: list[sa.ColumnElement[bool]] = []
    for attribute, column, is_lower in _DOWNTIME_BOUNDS:
        bound: datetime | None = getattr(query, attribute)
        if bound is not None:
            conditions.append(columns[column] >= bound if is_lower else columns[column] <= bound)
    for attribute, column in _DOWNTIME_CODES:
        wanted: tuple[str, ...] = getattr(query, attribute)
        if wanted:
            conditions.append(columns[column].in_(wanted))
    if query.reason_contains is not None:
        conditions.append(columns.reason.icontains(query.reason_contains, autoescape=True))
    if query.reason_exact is not None:
        conditions.append(columns.reason == query.reason_exact)
    return conditions


def _downtime_order(order: Sequence[str]) -> list[sa.ColumnElement[Any]]:
    columns = tables.downtimes.c
    clauses: list[sa.ColumnElement[Any]] = []
    for key in order:
        name = key.removeprefix("-")
        if name not in _DOWNTIME_ORDER_KEYS:
            raise ValueError(f"cannot order downtimes by {key!r}")
        clauses.append(columns[name].desc() if key.startswith("-") else columns[name].asc())
    clauses.append(columns.id.asc())
    return clauses


class SqlAlchemyDowntimeRepository(DowntimeRepository):
    def __init__(self, session: orm.Session) -> None:
        self._session = session
        self.seen: list[Downtime] = []

    def add(self, downtime: Downtime) -> None:
        self._session.add(downtime)
        self._session.flush()
        self.seen.append(downtime)

    def get(self, downtime_id: int) -> Downtime | None:
        downtime = self._session.get(Downtime, downtime_id)
        if downtime is not None:
            self.seen.append(downtime)
        return downtime

    def delete(self, downtime: Downtime) -> None:
        self._session.delete(downtime)
        self.seen.append(downtime)

    def search(self, query: DowntimeQuery) -> tuple[int, list[Downtime]]:
        conditions = _downtime_filters(query)
        count = self._session.execute(
            sa.select(sa.func.count()).select_from(tables.downtimes).where(*conditions)
        ).scalar_one()
        page = list(
            self._session.scalars(
                sa.select(Downtime)
                .where(*conditions)
                .order_by(*_downtime_order(query.order))
                .limit(query.limit)
                .offset(query.offset)
            )
        )
        self.seen.extend(page)
        return count, page


# ---------------------------------------------------------------------------------------------------------
# Users.


class SqlAlchemyUserRepository(UserRepository):
    def __init__(self, session: orm.Session) -> None:
        self._session = session
        self.seen: list[User] = []

    def add(self, user: User) -> None:
        if self.get_by_username(user.username) is not None:
            raise ConflictError(f'A user named "{user.username}" already exists')
        self._session.add(user)
        self._session.flush()
        self.seen.append(user)

    def get(self, user_id: int) -> User | None:
        return self._track(self._session.get(User, user_id))

    def get_by_username(self, username: str) -> User | None:
        column = tables.users.c.username_key
        return self._first(sa.select(User).where(column == username.casefold()))

    def get_by_email(self, email: str) -> User | None:
        if not email:
            return None
        column = tables.users.c.email
        return self._first(sa.select(User).where(sa.func.lower(column) == email.lower()).order_by(tables.users.c.id))

    def get_by_token(self, token: str) -> User | None:
        column = tables.users.c.api_token_sha256
        return self._first(sa.select(User).where(column == token_digest(token)))

    def get_many(self, user_ids: Iterable[int]) -> dict[int, User]:
        wanted = set(user_ids)
        if not wanted:
            return {}
        found: dict[int, User] = {}
        for user in self._session.scalars(sa.select(User).where(tables.users.c.id.in_(wanted))):
            assert user.id is not None  # noqa: S101 - a stored user has an id
            found[user.id] = user
            self._track(user)
        return found

    def _first(self, statement: sa.Select[Any]) -> User | None:
        user: User | None = self._session.scalars(statement.limit(1)).first()
        return self._track(user)

    def _track(self, user: User | None) -> User | None:
        if user is not None and user not in self.seen:
            self.seen.append(user)
        return user


# ---------------------------------------------------------------------------------------------------------
# Semesters and proposals.


class SqlAlchemySemesterRepository(SemesterRepository):
    def __init__(self, session: orm.Session) -> None:
        self._session = session
        # The semesters handed out or added, whose events the unit of work collects; ``seen`` keeps them alive,
        # so their id()s stay unique.
        self.seen: list[Semester] = []
        self._seen_ids: set[int] = set()

    def add(self, semester: Semester) -> None:
        if self._session.get(Semester, semester.id) is not None:
            raise ConflictError(f"Semester {semester.id} already exists")
        self._session.add(semester)
        self._session.flush()
        self._track(semester)

    def get(self, semester_id: str) -> Semester | None:
        semester = self._session.get(Semester, semester_id)
        return None if semester is None else self._track(semester)

    def all(self) -> list[Semester]:
        columns = tables.semesters.c
        found = self._session.scalars(sa.select(Semester).order_by(columns.start.desc(), columns.id.desc()))
        return [self._track(semester) for semester in found]

    def _track(self, semester: Semester) -> Semester:
        if id(semester) not in self._seen_ids:
            self._seen_ids.add(id(semester))
            self.seen.append(semester)
        return semester


class SqlAlchemyProposalRepository(ProposalRepository):
    def __init__(self, session: orm.Session) -> None:
        self._session = session
        # As for semesters: a listing may hand out many proposals, so membership is checked by id(), not a scan.
        self.seen: list[Proposal] = []
        self._seen_ids: set[int] = set()

    def add(self, proposal: Proposal) -> None:
        if self._session.get(Proposal, proposal.id) is not None:
            raise ConflictError(f"Proposal {proposal.id} already exists")
        self._session.add(proposal)
        self._session.flush()
        self._track(proposal)

    def get(self, proposal_id: str, *, for_update: bool = False) -> Proposal | None:
        # The row lock serialises writers that spend the proposal's hours (requests.md 5.2, api.md B27); the
        # allocations are read after it is granted, so the second writer sees what the first committed.
        if for_update and self._session.get_bind().dialect.name == "sqlite":
            # SQLite has no row locks, and its driver starts a transaction only at the first write: a write that
            # changes nothing takes the database's write lock now, so writers queue here (busy timeout) and
            # every read after it sees what the previous writer committed.
            proposals = tables.proposals.c
            self._session.execute(
                sa.update(tables.proposals).where(proposals.id == proposal_id).values(id=proposals.id)
            )
        proposal = self._session.get(
            Proposal, proposal_id, with_for_update=for_update or None, populate_existing=for_update
        )
        return None if proposal is None else self._track(proposal)

    def all(self) -> list[Proposal]:
        return self._many(sa.true())

    def for_member(self, user_id: int) -> list[Proposal]:
        members = tables.memberships.c
        return self._many(tables.proposals.c.id.in_(sa.select(members.proposal_id).where(members.user_id == user_id)))

    def with_pending_invitation(self, email: str) -> list[Proposal]:
        invitations = tables.invitations.c
        pending = sa.select(invitations.proposal_id).where(invitations.email == email, invitations.used.is_(None))
        return self._many(tables.proposals.c.id.in_(pending))

    def containing_membership(self, membership_id: int) -> Proposal | None:
        return self._owner_of(tables.memberships, membership_id)

    def containing_invitation(self, invitation_id: int) -> Proposal | None:
        return self._owner_of(tables.invitations, invitation_id)

    def containing_allocation(self, allocation_id: int) -> Proposal | None:
        return self._owner_of(tables.time_allocations, allocation_id)

    def _owner_of(self, children: sa.Table, child_id: int) -> Proposal | None:
        owners = self._many(
            tables.proposals.c.id.in_(sa.select(children.c.proposal_id).where(children.c.id == child_id))
        )
        return owners[0] if owners else None

    def _many(self, condition: sa.ColumnElement[bool]) -> list[Proposal]:
        order: sa.ColumnElement[str] = tables.proposals.c.id
        if self._session.get_bind().dialect.name == "postgresql":
            # Ids compare by code point, as in Python and SQLite, not by the database's locale: under en_US
            # case and punctuation barely count ("AC" sorts above "ab.c"), so the order would depend on how
            # the cluster was initialised.
            order = order.collate("C")
        statement = sa.select(Proposal).where(condition).order_by(order.desc())
        return [self._track(proposal) for proposal in self._session.scalars(statement)]

    def _track(self, proposal: Proposal) -> Proposal:
        if id(proposal) not in self._seen_ids:
            self._seen_ids.add(id(proposal))
            self.seen.append(proposal)
        return proposal


# ---------------------------------------------------------------------------------------------------------
# Drafts.


class SqlAlchemyDraftRepository(DraftRepository):
    def __init__(self, session: orm.Session) -> None:
        self._session = session
        # As for proposals: a page may hand out many drafts, so membership is checked by id(), not a scan.
        self.seen: list[Draft] = []
        self._seen_ids: set[int] = set()

    def add(self, draft: Draft) -> None:
        if self.find(draft.author_id, draft.proposal_id, draft.title) is not None:
            raise ConflictError(NOT_UNIQUE)
        self._session.add(draft)
        try:
            self._session.flush()
        except sa.exc.IntegrityError:
            # Another transaction stored the same key since the look-up above.
            raise ConflictError(NOT_UNIQUE) from None
        self._track(draft)

    def get(self, draft_id: int) -> Draft | None:
        draft = self._session.get(Draft, draft_id)
        return None if draft is None else self._track(draft)

    def find(self, author_id: int, proposal_id: str, title: str) -> Draft | None:
        columns = tables.drafts.c
        statement = sa.select(Draft).where(
            columns.author_id == author_id, columns.proposal_id == proposal_id, columns.title == title
        )
        draft = self._session.scalars(statement.limit(1)).first()
        return None if draft is None else self._track(draft)

    def delete(self, draft: Draft) -> None:
        self._session.delete(draft)
        self._track(draft)

    def search(self, query: DraftQuery) -> tuple[int, list[Draft]]:
        columns = tables.drafts.c
        conditions: list[sa.ColumnElement[bool]] = []
        if query.visible_proposals is not None:
            conditions.append(columns.proposal_id.in_(query.visible_proposals))
        count = self._session.execute(
            sa.select(sa.func.count()).select_from(tables.drafts).where(*conditions)
        ).scalar_one()
        page = self._session.scalars(
            sa.select(Draft)
            .where(*conditions)
            .order_by(columns.modified.desc(), columns.id.desc())
            .limit(query.limit)
            .offset(query.offset)
        )
        return count, [self._track(draft) for draft in page]

    def _track(self, draft: Draft) -> Draft:
        if id(draft) not in self._seen_ids:
            self._seen_ids.add(id(draft))
            self.seen.append(draft)
        return draft


# ---------------------------------------------------------------------------------------------------------
# The change log.


class SqlAlchemyChangeLog(ChangeLog):
    def __init__(self, session: orm.Session) -> None:
        self._session = session

    def add(self, entries: Sequence[ChangeEntry]) -> None:
        if entries:
            self._session.execute(
                sa.insert(tables.change_log),
                [
                    {
                        "time": e.time,
                        "user": e.user,
                        "kind": e.kind,
                        "entity_id": e.entity_id,
                        "action": e.action.value,
                        "changes": e.changes,
                        "batch": e.batch,
                    }
                    for e in entries
                ],
            )

    def search(
        self, kind: str | None = None, entity_id: str | None = None, since: datetime | None = None
    ) -> list[ChangeEntry]:
        log = tables.change_log.c
        statement = sa.select(tables.change_log).order_by(log.time, log.id)
        if kind is not None:
            statement = statement.where(log.kind == kind)
        if entity_id is not None:
            statement = statement.where(log.entity_id == entity_id)
        if since is not None:
            statement = statement.where(log.time >= since)
        return [
            ChangeEntry(
                time=row.time,
                user=row.user,
                kind=row.kind,
                entity_id=row.entity_id,
                action=row.action,
                changes=row.changes,
                batch=row.batch,
            )
            for row in self._session.execute(statement)
        ]
