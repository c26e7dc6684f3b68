"""Accounts over HTTP: logging in for an API token."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

from litestar import Request, post
from litestar.status_codes import HTTP_200_OK

from adapters.serialization import FieldSpec, structure_fields
from application.handlers.accounts import ObtainToken
from entrypoints.http.wire import bus_of, json_body

_LOGIN = {"username": FieldSpec(str, required=True), "password": FieldSpec(str, required=True)}


@post("/api/api-token-auth/", status_code=HTTP_200_OK, sync_to_thread=True, tags=["accounts"])
def obtain_token(request: Request[Any, Any, Any], body: bytes) -> dict[str, str]:
    """Exchange a username (or email) and password, as JSON or a form, for the user's API token."""
    if request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        data: Any = dict(parse_qsl(body.decode("utf-8", "replace")))
    else:
        data = json_body(request, body)
    fields = structure_fields(data, _LOGIN)
    token = bus_of(request).handle(ObtainToken(fields["username"], fields["password"]))
    return {"token": token}


ROUTES = [obtain_token]
