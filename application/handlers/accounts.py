"""Use cases of accounts: creating users, logging in for a token, and resolving a token to its user."""

from __future__ import annotations

import hmac
from collections.abc import Callable
from typing import Any

from attrs import frozen

from application.commands import AcceptTerms, IssueToken, RevokeToken, UpdateProfile
from application.ports import Clock, PasswordHasher, TokenIssuer, UnitOfWork
from domain.accounts import (
    MAX_NAME_LENGTH,
    MAX_PROFILE_TEXT,
    PROFILE_TEXTS,
    USERNAME,
    User,
    UserRegistered,
    normalise_email,
)
from domain.errors import AuthenticationError, NotFoundError, ValidationError

BAD_CREDENTIALS = "Unable to log in with provided credentials."


@frozen
class CreateUser:
    username: str
    password: str
    email: str = ""
    is_staff: bool = False
    first_name: str = ""
    last_name: str = ""
    staff_view: bool = False


@frozen
class ObtainToken:
    """Log in with a username (or email) and password; the answer is the user's API token."""

    username: str
    password: str


@frozen
class UserView:
    """What the outside sees of a user: never the password hash."""

    id: int
    username: str
    email: str
    is_staff: bool


def create_user(cmd: CreateUser, uow: UnitOfWork, clock: Clock, password_hasher: PasswordHasher) -> UserView:
    if not USERNAME.fullmatch(cmd.username):
        raise ValidationError.on(
            "username", "Enter a valid username: up to 150 letters, digits and @/./+/-/_ characters."
        )
    if not cmd.password:
        raise ValidationError.on("password", "This field may not be blank.")
    email = _valid_email(cmd.email) if cmd.email else ""
    if cmd.staff_view and not cmd.is_staff:
        raise ValidationError({"profile": {"staff_view": ["Only staff may set staff_view"]}})
    with uow:
        if uow.users.get_by_username(cmd.username) is not None:
            raise ValidationError.on("username", "A user with that username already exists.")
        if email and uow.users.get_by_email(email) is not None:
            raise ValidationError.on("email", "A user with that email already exists.")
        user = User(
            id=None,
            username=cmd.username,
            password_hash=password_hasher.hash(cmd.password),
            email=email,
            is_staff=cmd.is_staff,
            created=clock.now(),
            first_name=cmd.first_name,
            last_name=cmd.last_name,
            staff_view=cmd.staff_view,
        )
        uow.users.add(user)
        assert user.id is not None  # noqa: S101 - the repository assigns ids on add
        if email:
            user.events.append(UserRegistered(user.id, email))
        uow.commit()
        return UserView(user.id, user.username, user.email, user.is_staff)


def _valid_email(email: str) -> str:
    try:
        return normalise_email(email)
    except ValueError as error:
        raise ValidationError.on("email", str(error)) from None


def obtain_token(cmd: ObtainToken, uow: UnitOfWork, password_hasher: PasswordHasher, token_issuer: TokenIssuer) -> str:
    with uow:
        if "@" in cmd.username:
            user = uow.users.get_by_email(cmd.username) or uow.users.get_by_username(cmd.username)
        else:
            user = uow.users.get_by_username(cmd.username)
        if user is None or not user.is_active or not password_hasher.verify(user.password_hash, cmd.password):
            raise ValidationError.general(BAD_CREDENTIALS)
        if user.api_token is None:
            user.api_token = token_issuer.new_token()
            uow.commit()
        return user.api_token


def user_for_token(uow: UnitOfWork, token: str) -> User:
    """The active user a token belongs to; AuthenticationError with the OCS wording otherwise."""
    with uow:
        user = uow.users.get_by_token(token)
    if user is None or user.api_token is None or not hmac.compare_digest(user.api_token, token):
        raise AuthenticationError("Invalid token.")
    if not user.is_active:
        raise AuthenticationError("User inactive or deleted.")
    return user


def _user(uow: UnitOfWork, user_id: int) -> User:
    user = uow.users.get(user_id)
    if user is None:
        raise NotFoundError(f"user {user_id}")
    return user


def update_profile(cmd: UpdateProfile, uow: UnitOfWork) -> User:
    """Names, email and profile settings of the caller; all checked before anything changes."""
    changes: dict[str, Any] = dict(cmd.changes)
    errors: dict[str, Any] = {}
    for name in ("first_name", "last_name"):
        if name in changes and len(changes[name]) > MAX_NAME_LENGTH:
            errors[name] = [f"Ensure this field has no more than {MAX_NAME_LENGTH} characters."]
    for name in PROFILE_TEXTS:
        if len(cmd.profile.get(name, "")) > MAX_PROFILE_TEXT:
            errors.setdefault("profile", {})[name] = [
                f"Ensure this field has no more than {MAX_PROFILE_TEXT} characters."
            ]
    if "email" in changes:
        try:
            changes["email"] = _valid_email(changes["email"])
        except ValidationError as error:
            errors.update(error.errors)
    if errors:
        raise ValidationError(errors)
    with uow:
        user = _user(uow, cmd.user_id)
        if "email" in changes:
            holder = uow.users.get_by_email(changes["email"])
            if holder is not None and holder.id != user.id:
                raise ValidationError.on("email", "User with this email already exists")
        user.edit(changes, dict(cmd.profile))
        uow.commit()
        return user


def revoke_token(cmd: RevokeToken, uow: UnitOfWork, token_issuer: TokenIssuer) -> str:
    with uow:
        user = _user(uow, cmd.user_id)
        user.replace_token(token_issuer.new_token())
        uow.commit()
        assert user.api_token is not None  # noqa: S101 - just replaced
        return user.api_token


def issue_token(cmd: IssueToken, uow: UnitOfWork, token_issuer: TokenIssuer) -> str:
    with uow:
        user = _user(uow, cmd.user_id)
        if user.api_token is None:
            user.replace_token(token_issuer.new_token())
            uow.commit()
        assert user.api_token is not None  # noqa: S101 - set above when missing
        return user.api_token


def accept_terms(cmd: AcceptTerms, uow: UnitOfWork, clock: Clock) -> None:
    with uow:
        _user(uow, cmd.user_id).accept_terms(clock.now())
        uow.commit()


COMMAND_HANDLERS: dict[type, Callable[..., Any]] = {
    CreateUser: create_user,
    ObtainToken: obtain_token,
    UpdateProfile: update_profile,
    RevokeToken: revoke_token,
    IssueToken: issue_token,
    AcceptTerms: accept_terms,
}
