"""Who is calling: the token scheme, and the one place where HTTP routes check permissions."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.handlers import BaseRouteHandler

from application.handlers.accounts import user_for_token
from domain.accounts import User
from domain.errors import AuthenticationError
from domain.permissions import Action, Actor, require

_ANONYMOUS = object()


def current_user(connection: ASGIConnection[Any, Any, Any, Any]) -> User | None:
    """The user of ``Authorization: Token <key>``, None without the header; an invalid token is refused
    even where anonymous reads are allowed (api.md rule 4)."""
    cached = connection.scope.get("state", {}).get("obsnet_user", _ANONYMOUS)
    if cached is not _ANONYMOUS:
        return cached  # type: ignore[no-any-return]
    header = connection.headers.get("authorization")
    user = None
    if header:
        keyword, _, key = header.strip().partition(" ")
        if keyword.lower() in ("token", "bearer"):
            if not key:
                raise AuthenticationError("Invalid token header. No credentials provided.")
            if " " in key.strip():
                raise AuthenticationError("Invalid token header. Token string should not contain spaces.")
            container = connection.app.state.container
            user = user_for_token(container.uow_factory()(), key.strip())
    connection.scope.setdefault("state", {})["obsnet_user"] = user
    return user


def current_actor(connection: ASGIConnection[Any, Any, Any, Any]) -> Actor:
    """The caller as the permission table sees them (domain.permissions)."""
    return Actor.of(current_user(connection))


def signed_in(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Guard: the caller must be a user; refused (403 on the portal) before the body is read, as upstream."""
    require(Action.LIST_OWN, current_actor(connection))


def staff_only(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Guard for configdb and downtime writes: the permission table decides (observatory staff)."""
    require(Action.EDIT_OBSERVATORY, current_actor(connection))


def actor_name(request: Request[Any, Any, Any]) -> str:
    """The username recorded in change logs for this request ("anonymous" without a token)."""
    user = current_user(request)
    return user.username if user else "anonymous"
