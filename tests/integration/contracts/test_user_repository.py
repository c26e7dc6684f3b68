"""Contract of UserRepository: ids, case-insensitive names and emails, token look-up, profiles, tracked changes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from application.ports import UnitOfWork
from domain.accounts import User
from domain.errors import ConflictError

UowFactory = Callable[[], UnitOfWork]

TOKEN = "0123456789abcdef0123456789abcdef01234567"
OTHER_TOKEN = "fedcba9876543210fedcba9876543210fedcba98"


def user(username: str, email: str = "", token: str | None = None, **values: object) -> User:
    return User(None, username, "argon2$hash", email=email, api_token=token, **values)  # type: ignore[arg-type]


def add(uow_factory: UowFactory, *users: User) -> list[int]:
    with uow_factory() as uow:
        for item in users:
            uow.users.add(item)
        uow.commit()
    return [item.id for item in users if item.id is not None]


def test_add_assigns_ids_and_get_returns_every_field(uow_factory: UowFactory) -> None:
    created = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    ids = add(
        uow_factory,
        user("Ada", "ada@example.org", TOKEN, is_staff=True, created=created),
        user("bob", is_active=False),
    )

    assert len(set(ids)) == 2
    with uow_factory() as uow:
        ada = uow.users.get(ids[0])
        assert ada is not None
        assert (ada.id, ada.username, ada.password_hash, ada.email) == (ids[0], "Ada", "argon2$hash", "ada@example.org")
        assert (ada.is_staff, ada.is_active, ada.api_token, ada.created) == (True, True, TOKEN, created)
        bob = uow.users.get(ids[1])
        assert bob is not None
        assert (bob.email, bob.is_staff, bob.is_active, bob.api_token, bob.created) == ("", False, False, None, None)
        assert uow.users.get(9999) is None


def test_usernames_are_found_whatever_their_case(uow_factory: UowFactory) -> None:
    [ada] = add(uow_factory, user("Ada.Lovelace"))

    with uow_factory() as uow:
        found = [uow.users.get_by_username(spelling) for spelling in ("Ada.Lovelace", "ada.lovelace", "ADA.LOVELACE")]
        assert [item.id if item else None for item in found] == [ada, ada, ada]
        assert uow.users.get_by_username("ada") is None


def test_a_username_taken_in_another_case_is_a_conflict(uow_factory: UowFactory) -> None:
    add(uow_factory, user("Ada"))

    with uow_factory() as uow, pytest.raises(ConflictError):
        uow.users.add(user("aDA"))


def test_a_username_added_earlier_in_the_same_unit_of_work_is_a_conflict(uow_factory: UowFactory) -> None:
    with uow_factory() as uow:
        uow.users.add(user("ada"))
        with pytest.raises(ConflictError):
            uow.users.add(user("Ada"))


def test_emails_are_found_whatever_their_case_and_an_empty_email_finds_nobody(uow_factory: UowFactory) -> None:
    ada, _ = add(uow_factory, user("ada", "Ada@Example.org"), user("bob"))

    with uow_factory() as uow:
        found = uow.users.get_by_email("ada@EXAMPLE.ORG")
        assert found is not None
        assert found.id == ada
        assert uow.users.get_by_email("bob@example.org") is None
        assert uow.users.get_by_email("") is None


def test_users_are_found_by_their_token_only(uow_factory: UowFactory) -> None:
    ada, _ = add(uow_factory, user("ada", token=TOKEN), user("bob"))

    with uow_factory() as uow:
        found = uow.users.get_by_token(TOKEN)
        assert found is not None
        assert found.id == ada
        assert uow.users.get_by_token(OTHER_TOKEN) is None
        assert uow.users.get_by_token(TOKEN.upper()) is None
        assert uow.users.get_by_token("") is None


def test_changes_to_a_loaded_user_are_stored_and_a_new_token_replaces_the_old(uow_factory: UowFactory) -> None:
    [ada] = add(uow_factory, user("ada", token=TOKEN))
    with uow_factory() as uow:
        loaded = uow.users.get_by_username("ada")
        assert loaded is not None
        loaded.api_token = OTHER_TOKEN
        loaded.is_staff = True
        loaded.username = "Ada"
        uow.commit()

    with uow_factory() as uow:
        assert uow.users.get_by_token(TOKEN) is None
        found = uow.users.get_by_token(OTHER_TOKEN)
        assert found is not None
        assert (found.id, found.is_staff, found.username) == (ada, True, "Ada")
        assert uow.users.get_by_username("ADA") is found


def test_a_token_set_in_this_unit_of_work_is_found_before_commit(uow_factory: UowFactory) -> None:
    add(uow_factory, user("ada"))
    with uow_factory() as uow:
        loaded = uow.users.get_by_username("ada")
        assert loaded is not None
        loaded.api_token = TOKEN
        assert uow.users.get_by_token(TOKEN) is loaded


def test_profile_fields_are_stored_and_changes_to_them_too(uow_factory: UowFactory) -> None:
    accepted = datetime(2026, 3, 4, 5, 6, 7, 890000, tzinfo=UTC)
    profile = {
        "first_name": "Ada",
        "last_name": "Lovelace-Byron",
        "is_superuser": True,
        "institution": "Analytical Engines Ltd. (ünïcode)",
        "title": "Countess",
        "education_user": True,
        "notifications_enabled": True,
        "notifications_on_authored_only": True,
        "simple_interface": True,
        "view_authored_requests_only": True,
        "staff_view": True,
        "terms_accepted": accepted,
    }
    ada, bob = add(uow_factory, user("ada", **profile), user("bob"))

    with uow_factory() as uow:
        stored = uow.users.get(ada)
        assert stored is not None
        assert {name: getattr(stored, name) for name in profile} == profile
        assert stored.terms_accepted is not None
        assert stored.terms_accepted.utcoffset() == timedelta(0)
        plain = uow.users.get(bob)
        assert plain is not None
        defaults = User(None, "bob", "argon2$hash")
        assert {name: getattr(plain, name) for name in profile} == {name: getattr(defaults, name) for name in profile}
        plain.edit({"first_name": "Bob", "last_name": "B"}, {"simple_interface": True, "institution": "LCO"})
        plain.accept_terms(accepted)
        uow.commit()

    with uow_factory() as uow:
        changed = uow.users.get(bob)
        assert changed is not None
        assert (changed.full_name, changed.simple_interface, changed.institution) == ("Bob B", True, "LCO")
        assert changed.terms_accepted == accepted


def test_get_many_returns_the_users_that_exist_by_id(uow_factory: UowFactory) -> None:
    ada, bob, cyd = add(uow_factory, user("ada"), user("bob"), user("cyd"))

    with uow_factory() as uow:
        found = uow.users.get_many([cyd, 99999, ada, ada])
        assert sorted(found) == sorted([ada, cyd])
        assert {key: item.username for key, item in found.items()} == {ada: "ada", cyd: "cyd"}
        assert found[ada] is uow.users.get(ada)
        assert uow.users.get_many(iter([bob])).keys() == {bob}
        assert uow.users.get_many([]) == {}
        assert uow.users.get_many([99999]) == {}


def test_users_from_get_many_are_tracked_and_their_events_collected(uow_factory: UowFactory) -> None:
    ada, bob = add(uow_factory, user("ada"), user("bob"))

    with uow_factory() as uow:
        found = uow.users.get_many([ada, bob])
        found[ada].is_staff = True
        found[bob].events.append("bob changed")
        uow.commit()

    assert list(uow.collect_new_events()) == ["bob changed"]
    with uow_factory() as uow:
        stored = uow.users.get(ada)
        assert stored is not None
        assert stored.is_staff
