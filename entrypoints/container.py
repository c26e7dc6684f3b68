"""The composition root: builds the adapters named by the settings and hands them to the application."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from dependency_injector import containers, providers

from adapters.auth import Argon2PasswordHasher, SecretsTokenIssuer
from adapters.clock import SystemClock
from adapters.mail import LoggingMailer, SmtpMailer
from adapters.memory import InMemoryUnitOfWork, MemoryStore
from application.handlers import (
    accounts,
    downtime,
    drafts,
    notifications,
    observations,
    observatory,
    proposals,
    requestgroups,
)
from application.messagebus import MessageBus
from application.ports import Mailer, UnitOfWork
from entrypoints.config import MEMORY, Settings


def _storage_kind(database_url: str) -> str:
    return "memory" if database_url == MEMORY else "sqlalchemy"


def _memory_uow_factory(store: MemoryStore) -> Callable[[], UnitOfWork]:
    return lambda: InMemoryUnitOfWork(store)


def _sqlalchemy_engine(database_url: str) -> Any:
    from adapters.sqlalchemy.uow import make_engine

    return make_engine(database_url)


def _sqlalchemy_uow_factory(engine: Any) -> Callable[[], UnitOfWork]:
    from sqlalchemy.orm import sessionmaker

    from adapters.sqlalchemy.uow import SqlAlchemyUnitOfWork

    session_factory = sessionmaker(bind=engine, expire_on_commit=False)
    return lambda: SqlAlchemyUnitOfWork(session_factory)


def _astropy_visibility() -> Any:
    """The Visibility adapter, imported on first use: astropy takes seconds to load, which neither the CLI's
    other commands nor the app's start should pay."""
    from adapters.astropy_visibility import AstropyVisibility

    return AstropyVisibility()


def _visibility_hooks(visibility: Any) -> Any:
    from application.request_visibility import visibility_hooks

    return visibility_hooks(visibility)


def _mailer(smtp_url: str, mail_from: str) -> Mailer:
    """An SMTP relay when one is configured, else the log."""
    return SmtpMailer.from_url(smtp_url, mail_from) if smtp_url else LoggingMailer()


def _throttle_store() -> Any:
    """The counts of api.md rule 20 (entrypoints.http.throttle), imported on first use so the CLI need not load
    Litestar."""
    from entrypoints.http.throttle import InMemoryThrottleStore

    return InMemoryThrottleStore()


def _deferred_hooks(provider: Callable[[], Any]) -> Callable[[UnitOfWork, datetime], Any]:
    """What the bus hands the request-group handlers: builds the hooks factory at the first submission, not when
    the bus is built (every command builds the bus); a provider that gives None skips the sky check."""

    def factory(uow: UnitOfWork, now: datetime) -> Any:
        hooks = provider()
        return hooks(uow, now) if hooks is not None else None

    return factory


COMMAND_HANDLERS: dict[type, Callable[..., Any]] = {
    **accounts.COMMAND_HANDLERS,
    **proposals.COMMAND_HANDLERS,
    downtime.ScheduleDowntime: downtime.schedule_downtime,
    downtime.ReviseDowntime: downtime.revise_downtime,
    downtime.CancelDowntime: downtime.cancel_downtime,
    **observatory.COMMAND_HANDLERS,
    **requestgroups.COMMAND_HANDLERS,
    **drafts.COMMAND_HANDLERS,
    **observations.COMMAND_HANDLERS,
}
EVENT_HANDLERS: dict[type, list[Callable[..., Any]]] = {**proposals.EVENT_HANDLERS, **notifications.EVENT_HANDLERS}


class Container(containers.DeclarativeContainer):
    """One per process. ``settings`` is the only thing a caller must provide."""

    settings = providers.Dependency(instance_of=Settings)

    clock = providers.Singleton(SystemClock)
    password_hasher = providers.Singleton(Argon2PasswordHasher, time_cost=settings.provided.password_hash_time_cost)
    token_issuer = providers.Singleton(SecretsTokenIssuer)
    mailer = providers.Singleton(_mailer, settings.provided.smtp_url, settings.provided.mail_from)
    throttle_store = providers.Singleton(_throttle_store)

    # The astronomy: the airmass and pressure plots ask it directly (requests.md 7.4, api.md 4.4).
    visibility: providers.Provider[Any] = providers.Singleton(_astropy_visibility)
    # What request-group validation calls for the sky check of requests.md 3.8, over the same adapter: a factory
    # ``(uow, now) -> VisibilityHooks`` (None skips the check). The bus and the HTTP dry runs share it.
    visibility_hooks: providers.Provider[Any] = providers.Singleton(_visibility_hooks, visibility)

    memory_store = providers.Singleton(MemoryStore)
    engine = providers.Singleton(_sqlalchemy_engine, settings.provided.database_url)

    uow_factory = providers.Selector(
        providers.Callable(_storage_kind, settings.provided.database_url),
        memory=providers.Singleton(_memory_uow_factory, memory_store),
        sqlalchemy=providers.Singleton(_sqlalchemy_uow_factory, engine),
    )

    bus = providers.Singleton(
        MessageBus,
        uow_factory=uow_factory,
        command_handlers=providers.Object(COMMAND_HANDLERS),
        event_handlers=providers.Object(EVENT_HANDLERS),
        dependencies=providers.Dict(
            clock=clock,
            password_hasher=password_hasher,
            token_issuer=token_issuer,
            mailer=mailer,
            visibility_hooks=providers.Callable(_deferred_hooks, visibility_hooks.provider),
            # requests.md 6.4 step 4: FAILED observations after which a request is given up (0: never).
            max_failures_per_request=settings.provided.max_failures_per_request,
        ),
    )


def build_container(settings: Settings) -> Container:
    """A container for these settings; nothing is connected until first used."""
    return Container(settings=settings)


def upgrade_database(container: Container) -> None:
    """Bring the database schema to the newest migration (nothing to do for the in-memory store)."""
    if _storage_kind(container.settings().database_url) == "sqlalchemy":
        from adapters.sqlalchemy.migrate import upgrade

        upgrade(container.engine())
