"""The SQLAlchemy unit of work, and the one place that builds engines for SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from types import TracebackType
from typing import Any, Self

import sqlalchemy as sa
from sqlalchemy import orm
from sqlalchemy.engine import URL, make_url
from sqlalchemy.pool import StaticPool

from adapters.sqlalchemy.observations import SqlAlchemyObservationRepository
from adapters.sqlalchemy.repositories import (
    SqlAlchemyChangeLog,
    SqlAlchemyDowntimeRepository,
    SqlAlchemyDraftRepository,
    SqlAlchemyObservatoryRepository,
    SqlAlchemyProposalRepository,
    SqlAlchemySemesterRepository,
    SqlAlchemyUserRepository,
    start_mappers,
)
from adapters.sqlalchemy.request_groups import SqlAlchemyRequestGroupRepository
from application.ports import UnitOfWork
from domain.errors import ConflictError

SQLITE_BUSY_TIMEOUT_S = 30


def make_engine(url: str | URL, *, search_path: str | None = None, echo: bool = False) -> sa.Engine:
    """An engine for a database URL: ``sqlite:///path`` (or ``sqlite://`` in memory) or ``postgresql://...``.

    PostgreSQL URLs without a driver use psycopg 3. ``search_path`` (PostgreSQL only) puts every table in that
    schema, which lets tests give each run a schema of its own.
    """
    # Mapped before any application code runs, so every mapped entity the process creates is instrumented.
    start_mappers()
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        if search_path is not None:
            raise ValueError("search_path applies to PostgreSQL only")
        return _sqlite_engine(parsed, echo)
    if backend == "postgresql":
        connect_args: dict[str, Any] = {}
        if search_path is not None:
            connect_args["options"] = f"-csearch_path={search_path}"
        return sa.create_engine(parsed, connect_args=connect_args, pool_pre_ping=True, echo=echo)
    raise ValueError(f"unsupported database URL {parsed.render_as_string(hide_password=True)!r}")


def _sqlite_engine(url: URL, echo: bool) -> sa.Engine:
    in_memory = url.database in (None, "", ":memory:")
    engine = sa.create_engine(
        url,
        echo=echo,
        # The web server shares the engine between threads; the session, not the connection, is per request.
        connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_S},
        # An in-memory database lives as long as its one connection, so every session must share it.
        **({"poolclass": StaticPool} if in_memory else {}),
    )

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        try:
            # SQLite ignores foreign keys unless asked, per connection.
            cursor.execute("PRAGMA foreign_keys = ON")
            cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_S * 1000}")
            if not in_memory:
                # Readers then never block the writer, nor the writer the readers.
                cursor.execute("PRAGMA journal_mode = WAL")
        finally:
            cursor.close()

    return engine


def make_session_factory(engine: sa.Engine) -> orm.sessionmaker[orm.Session]:
    """The session factory a SqlAlchemyUnitOfWork expects."""
    start_mappers()
    return orm.sessionmaker(bind=engine, expire_on_commit=False)


class SqlAlchemyUnitOfWork(UnitOfWork):
    """One session per ``with`` block; leaving it without commit discards the work."""

    observatory: SqlAlchemyObservatoryRepository
    downtimes: SqlAlchemyDowntimeRepository
    users: SqlAlchemyUserRepository
    semesters: SqlAlchemySemesterRepository
    proposals: SqlAlchemyProposalRepository
    request_groups: SqlAlchemyRequestGroupRepository
    drafts: SqlAlchemyDraftRepository
    observations: SqlAlchemyObservationRepository
    changes: SqlAlchemyChangeLog

    def __init__(self, session_factory: Callable[[], orm.Session]) -> None:
        start_mappers()
        self._session_factory = session_factory
        self._session: orm.Session | None = None
        self._collected: list[object] = []

    def __enter__(self) -> Self:
        session = self._session_factory()
        # Objects outlive the unit of work (handlers return them, views read them after the block), as they
        # do with the in-memory adapter; expiring them on commit would make those reads fail once detached.
        session.expire_on_commit = False
        self._session = session
        self._collected = []
        self._build_repositories()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        session, self._session = self._session, None
        if session is not None:
            # close() rolls back what was not committed and detaches the objects without expiring them.
            session.close()

    def commit(self) -> None:
        # Request groups and observations are not mapped: their changes are written here, in the same transaction.
        self.request_groups.flush()
        self.observations.flush()
        try:
            self._require_session().commit()
        except sa.exc.IntegrityError as error:
            # Handlers check every rule before changing anything, so a constraint that fails here was broken by
            # another transaction meanwhile (two drafts renamed to one title at once): a conflict, not an outage.
            raise ConflictError("The data was changed by someone else meanwhile; try again") from error
        self.observatory.committed()
        self._collected.extend(self._pending_events())

    def rollback(self) -> None:
        # As in memory: objects read before the rollback are cut loose, and the next reads start afresh.
        self._require_session().close()
        for aggregate in self._aggregates():
            aggregate.events.clear()
        self._build_repositories()

    def collect_new_events(self) -> Iterator[object]:
        collected, self._collected = self._collected, []
        yield from collected

    def _build_repositories(self) -> None:
        session = self._require_session()
        self.observatory = SqlAlchemyObservatoryRepository(session)
        self.downtimes = SqlAlchemyDowntimeRepository(session)
        self.users = SqlAlchemyUserRepository(session)
        self.semesters = SqlAlchemySemesterRepository(session)
        self.proposals = SqlAlchemyProposalRepository(session)
        self.request_groups = SqlAlchemyRequestGroupRepository(session)
        self.drafts = SqlAlchemyDraftRepository(session)
        # Its filters read request and group states, so its reads first write the groups' pending changes.
        self.observations = SqlAlchemyObservationRepository(session, before_reads=self.request_groups.flush)
        self.changes = SqlAlchemyChangeLog(session)

    def _aggregates(self) -> list[Any]:
        found: dict[int, Any] = {}
        for aggregate in (
            *self.observatory.seen,
            *self.downtimes.seen,
            *self.users.seen,
            *self.semesters.seen,
            *self.proposals.seen,
            *self.request_groups.seen,
            *self.drafts.seen,
            *self.observations.seen,
        ):
            found.setdefault(id(aggregate), aggregate)
        return list(found.values())

    def _pending_events(self) -> list[object]:
        events: list[object] = []
        for aggregate in self._aggregates():
            events.extend(aggregate.events)
            aggregate.events.clear()
        return events

    def _require_session(self) -> orm.Session:
        if self._session is None:
            raise RuntimeError("the unit of work is used outside its 'with' block")
        return self._session
