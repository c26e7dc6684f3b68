"""Fixtures for HTTP tests: an app over in-memory adapters with a small observatory, a fixed clock and two users.

Override ``observatory`` in a test module to serve another configuration (the demo network, say). Building the
app and hashing passwords cost about half a second, so both happen once per session; every test still gets a
store of its own (a fresh copy holding only the observatory and the two users) and its own clock.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import attrs
import pytest
from dependency_injector import providers
from litestar import Litestar
from litestar.testing import TestClient

from adapters.clock import FixedClock
from adapters.memory import InMemoryUnitOfWork, MemoryStore
from application.handlers.accounts import CreateUser
from domain.observatory import Observatory
from entrypoints.config import Settings
from entrypoints.container import Container, build_container
from entrypoints.http.app import create_app
from tests.unit.domain.test_downtime import small_observatory

STAFF = ("staff", "staff-password")
USER = ("user", "user-password")
# Noon, so that "today" is unambiguous whatever a test adds or subtracts in hours.
FIXED_NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


@attrs.frozen
class _Session:
    container: Container
    app: Litestar
    accounts: MemoryStore
    tokens: dict[str, str]


@pytest.fixture(scope="session")
def _session() -> _Session:
    container = build_container(Settings(database_url="memory", password_hash_time_cost=1))
    app = create_app(container)
    bus = container.bus()
    bus.handle(CreateUser(*STAFF, is_staff=True))
    bus.handle(CreateUser(*USER))
    tokens = {}
    with TestClient(app) as client:
        for username, password in (STAFF, USER):
            response = client.post("/api/api-token-auth/", json={"username": username, "password": password})
            assert response.status_code == 200, response.text
            tokens[username] = response.json()["token"]
    return _Session(container, app, container.memory_store(), tokens)


@pytest.fixture
def observatory() -> Observatory:
    return small_observatory()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(FIXED_NOW)


@pytest.fixture
def container(_session: _Session, observatory: Observatory, clock: FixedClock) -> Iterator[Container]:
    store = MemoryStore(
        users={key: attrs.evolve(user) for key, user in _session.accounts.users.items()},
        next_ids={"user": len(_session.accounts.users)},
    )
    with InMemoryUnitOfWork(store) as uow:
        uow.observatory.save(observatory)
        uow.commit()
    container = _session.container
    container.memory_store.override(providers.Object(store))
    container.clock.override(providers.Object(clock))
    # The bus and the unit-of-work factory captured the previous store and clock; rebuild them.
    container.reset_singletons()
    yield container
    container.memory_store.reset_override()
    container.clock.reset_override()
    container.reset_singletons()


@pytest.fixture
def client(_session: _Session, container: Container) -> Iterator[TestClient]:
    with TestClient(_session.app) as client:
        yield client


@pytest.fixture
def staff_headers(_session: _Session, client: TestClient) -> dict[str, str]:
    return {"Authorization": f"Token {_session.tokens[STAFF[0]]}"}


@pytest.fixture
def user_headers(_session: _Session, client: TestClient) -> dict[str, str]:
    return {"Authorization": f"Token {_session.tokens[USER[0]]}"}
