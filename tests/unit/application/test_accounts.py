"""Accounts through the message bus: creating users, logging in for a token, resolving tokens."""

from __future__ import annotations

import pytest

from adapters.auth import Argon2PasswordHasher, SecretsTokenIssuer
from adapters.clock import SystemClock
from adapters.memory import InMemoryUnitOfWork, MemoryStore
from application.handlers import accounts
from application.messagebus import MessageBus
from domain.errors import AuthenticationError, ValidationError


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore()


@pytest.fixture
def bus(store: MemoryStore) -> MessageBus:
    return MessageBus(
        uow_factory=lambda: InMemoryUnitOfWork(store),
        command_handlers={
            accounts.CreateUser: accounts.create_user,
            accounts.ObtainToken: accounts.obtain_token,
        },
        event_handlers={},
        dependencies={
            "clock": SystemClock(),
            "password_hasher": Argon2PasswordHasher(time_cost=1),
            "token_issuer": SecretsTokenIssuer(),
        },
    )


def test_passwords_are_stored_only_as_argon2_hashes(bus: MessageBus, store: MemoryStore) -> None:
    bus.handle(accounts.CreateUser("ada", "s3cret", email="ada@example.org"))
    (user,) = store.users.values()
    assert "s3cret" not in user.password_hash
    assert user.password_hash.startswith("$argon2id$")


def test_login_returns_the_same_40_hex_token_every_time(bus: MessageBus) -> None:
    bus.handle(accounts.CreateUser("ada", "s3cret"))
    first = bus.handle(accounts.ObtainToken("ada", "s3cret"))
    assert len(first) == 40
    assert int(first, 16) >= 0
    assert bus.handle(accounts.ObtainToken("ADA", "s3cret")) == first


def test_login_accepts_the_email_address_as_the_username(bus: MessageBus) -> None:
    bus.handle(accounts.CreateUser("ada", "s3cret", email="Ada@Example.org"))
    assert bus.handle(accounts.ObtainToken("ada@example.org", "s3cret"))


@pytest.mark.parametrize(("username", "password"), [("ada", "wrong"), ("nobody", "s3cret")])
def test_wrong_credentials_are_refused_with_one_message(bus: MessageBus, username: str, password: str) -> None:
    bus.handle(accounts.CreateUser("ada", "s3cret"))
    with pytest.raises(ValidationError) as caught:
        bus.handle(accounts.ObtainToken(username, password))
    assert caught.value.errors == {"non_field_errors": ["Unable to log in with provided credentials."]}


def test_a_taken_username_is_refused_whatever_its_case(bus: MessageBus, store: MemoryStore) -> None:
    bus.handle(accounts.CreateUser("ada", "s3cret"))
    with pytest.raises(ValidationError) as caught:
        bus.handle(accounts.CreateUser("ADA", "other"))
    assert "username" in caught.value.errors
    assert len(store.users) == 1


@pytest.mark.parametrize("username", ["", "has space", "x" * 151, "semi;colon"])
def test_malformed_usernames_are_refused(bus: MessageBus, store: MemoryStore, username: str) -> None:
    with pytest.raises(ValidationError):
        bus.handle(accounts.CreateUser(username, "pw"))
    assert store.users == {}


def test_a_token_resolves_to_its_user_and_a_wrong_one_to_nobody(bus: MessageBus, store: MemoryStore) -> None:
    bus.handle(accounts.CreateUser("ada", "s3cret"))
    token = bus.handle(accounts.ObtainToken("ada", "s3cret"))
    assert accounts.user_for_token(InMemoryUnitOfWork(store), token).username == "ada"
    with pytest.raises(AuthenticationError, match="Invalid token"):
        accounts.user_for_token(InMemoryUnitOfWork(store), "0" * 40)


def test_an_inactive_users_token_is_refused(bus: MessageBus, store: MemoryStore) -> None:
    bus.handle(accounts.CreateUser("ada", "s3cret"))
    token = bus.handle(accounts.ObtainToken("ada", "s3cret"))
    next(iter(store.users.values())).is_active = False
    with pytest.raises(AuthenticationError, match="User inactive or deleted"):
        accounts.user_for_token(InMemoryUnitOfWork(store), token)
