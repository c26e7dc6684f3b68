"""Use cases of accounts: creating users, logging in for a token, and resolving a token to its user."""

from __future__ import annotations

import hmac
import re

from attrs import frozen

from application.ports import Clock, PasswordHasher, TokenIssuer, UnitOfWork
from domain.accounts import User
from domain.errors import AuthenticationError, ValidationError

USERNAME = re.compile(r"[\w.@+-]{1,150}", re.ASCII)
BAD_CREDENTIALS = "Unable to log in with provided credentials."


@frozen
class CreateUser:
    username: str
    password: str
    email: str = ""
    is_staff: bool = False


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
    with uow:
        if uow.users.get_by_username(cmd.username) is not None:
            raise ValidationError.on("username", "A user with that username already exists.")
        if cmd.email and uow.users.get_by_email(cmd.email) is not None:
            raise ValidationError.on("email", "A user with that email already exists.")
        user = User(
            id=None,
            username=cmd.username,
            password_hash=password_hasher.hash(cmd.password),
            email=cmd.email,
            is_staff=cmd.is_staff,
            created=clock.now(),
        )
        uow.users.add(user)
        uow.commit()
        assert user.id is not None  # noqa: S101 - the repository assigns ids on add
        return UserView(user.id, user.username, user.email, user.is_staff)


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
