"""The caller's own account over HTTP: the profile (api.md 5.1), its edits, the API token and the terms."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, patch, post, put
from litestar.params import RawBody
from litestar.status_codes import HTTP_200_OK

from adapters.serialization import FieldSpec, structure_fields
from application.commands import AcceptTerms, IssueToken, RevokeToken, UpdateProfile
from application.proposal_views import profile_view
from domain.accounts import PROFILE_FLAGS, PROFILE_TEXTS, User
from domain.errors import AuthenticationError, ValidationError, merge_errors
from domain.permissions import NO_CREDENTIALS
from entrypoints.http.auth import current_user
from entrypoints.http.errors import PORTAL_BODY_LIMIT
from entrypoints.http.wire import container_of, in_thread, json_body, to_wire, typed_query_value

TAGS = ["accounts"]

_USER_FIELDS = {
    "first_name": FieldSpec(str),
    "last_name": FieldSpec(str),
    "email": FieldSpec(str),
    "profile": FieldSpec(dict[str, Any]),
}
_PROFILE_FIELDS = {
    **{name: FieldSpec(bool) for name in PROFILE_FLAGS},
    **{name: FieldSpec(str) for name in PROFILE_TEXTS},
}


def signed_in(request: Request[Any, Any, Any]) -> tuple[int, User]:
    """The caller's user id and account; every route of this module needs one."""
    user = current_user(request)
    if user is None or user.id is None:
        raise AuthenticationError(NO_CREDENTIALS)
    return user.id, user


def _profile(request: Request[Any, Any, Any], user_id: int, include_time_allocations: bool) -> dict[str, Any]:
    container = container_of(request)
    uow = container.uow_factory()()
    with uow:
        user = uow.users.get(user_id)
    if user is None:  # deleted between authentication and now
        raise AuthenticationError("User inactive or deleted.")
    return to_wire(profile_view(uow, user, container.clock().now(), include_time_allocations))  # type: ignore[no-any-return]


def _read(request: Request[Any, Any, Any]) -> dict[str, Any]:
    user_id, user = signed_in(request)
    include = typed_query_value(request, "include_current_time_allocations", bool) or False
    if user.api_token is None:
        # Tokens are created lazily (requests.md 1.2): a user who signed in another way gets one now.
        container_of(request).bus().handle(IssueToken(user_id))
    return _profile(request, user_id, include)


def _edit(request: Request[Any, Any, Any], body: bytes) -> dict[str, Any]:
    user_id, _ = signed_in(request)
    data = json_body(request, body)
    errors: dict[str, Any] = {}
    try:
        changes = structure_fields(data, _USER_FIELDS)
    except ValidationError as error:
        errors, changes = error.errors, {}
    profile: dict[str, Any] = {}
    if isinstance(data, dict) and isinstance(data.get("profile"), dict):
        try:
            profile = structure_fields(data["profile"], _PROFILE_FIELDS)
        except ValidationError as error:
            merge_errors(errors, {"profile": error.errors})
    if errors:
        raise ValidationError(errors)
    changes.pop("profile", None)
    container_of(request).bus().handle(UpdateProfile(user_id, changes, profile))
    return _profile(request, user_id, False)


def _revoke(request: Request[Any, Any, Any]) -> dict[str, str]:
    user_id, _ = signed_in(request)
    container_of(request).bus().handle(RevokeToken(user_id))
    return {"message": "API token revoked."}


def _accept_terms(request: Request[Any, Any, Any]) -> dict[str, str]:
    user_id, _ = signed_in(request)
    container_of(request).bus().handle(AcceptTerms(user_id))
    return {"message": "Terms accepted"}


@get("/api/profile/", tags=TAGS)
async def read_profile(request: Request[Any, Any, Any]) -> dict[str, Any]:
    """The caller's account, profile settings, active proposals, usable instrument types and API token;
    ``?include_current_time_allocations=true`` adds each proposal's limits and current allocations."""
    return await in_thread(_read, request)  # type: ignore[no-any-return]


_WRITE: dict[str, Any] = {"status_code": HTTP_200_OK, "request_max_body_size": PORTAL_BODY_LIMIT, "tags": TAGS}


@patch("/api/profile/", **_WRITE)
async def update_profile(request: Request[Any, Any, Any], body: RawBody) -> dict[str, Any]:
    """Change the caller's names, email and nested ``profile`` settings; other keys are ignored."""
    return await in_thread(_edit, request, body)  # type: ignore[no-any-return]


@put("/api/profile/", **_WRITE)
async def replace_profile(request: Request[Any, Any, Any], body: RawBody) -> dict[str, Any]:
    """The same as PATCH: every field of the profile is optional, as upstream."""
    return await in_thread(_edit, request, body)  # type: ignore[no-any-return]


@post("/api/revoke_token/", status_code=HTTP_200_OK, tags=TAGS)
async def revoke_token(request: Request[Any, Any, Any]) -> dict[str, str]:
    """Replace the caller's API token with a fresh one; the old one stops working at once."""
    return await in_thread(_revoke, request)  # type: ignore[no-any-return]


@post("/api/profile/accept_terms/", status_code=HTTP_200_OK, tags=TAGS)
async def accept_terms(request: Request[Any, Any, Any]) -> dict[str, str]:
    """Record that the caller accepted the terms of use now."""
    return await in_thread(_accept_terms, request)  # type: ignore[no-any-return]


ROUTES = [read_profile, update_profile, replace_profile, revoke_token, accept_terms]
