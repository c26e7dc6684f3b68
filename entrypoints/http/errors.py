"""The one table that maps errors to HTTP answers: JSON always, never a traceback."""

from __future__ import annotations

import logging
from typing import Any

from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, MethodNotAllowedException, NotFoundException
from litestar.status_codes import (
    HTTP_400_BAD_REQUEST,
    HTTP_401_UNAUTHORIZED,
    HTTP_403_FORBIDDEN,
    HTTP_404_NOT_FOUND,
    HTTP_405_METHOD_NOT_ALLOWED,
    HTTP_409_CONFLICT,
    HTTP_413_REQUEST_ENTITY_TOO_LARGE,
    HTTP_500_INTERNAL_SERVER_ERROR,
    HTTP_503_SERVICE_UNAVAILABLE,
)

from domain.errors import (
    AuthenticationError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
)
from domain.permissions import FORBIDDEN, NO_CREDENTIALS

logger = logging.getLogger(__name__)

NOT_FOUND = "Not found."
# api.md rule 21: bodies sent to the portal (/api/) may be up to 5 MiB.
PORTAL_BODY_LIMIT = 5 * 1024 * 1024
PORTAL_BODY_LIMIT_TEXT = "Request body too large (limit 5 MiB)."

# Components whose missing or invalid credentials are 401 (their own services did so upstream);
# the portal's /api/ answers 403 for both (api.md rule 4).
_REALMS_WITH_401 = ("/configdb/", "/downtime/")


class BadRequestError(Exception):
    """A request that is wrong as a whole (unparsable JSON, wrong media type): ``{"detail": ...}``."""

    def __init__(self, detail: str, status_code: int = HTTP_400_BAD_REQUEST) -> None:
        super().__init__(detail)
        self.detail = detail
        self.status_code = status_code


def _json(body: Any, status: int, headers: dict[str, str] | None = None) -> Response[Any]:
    return Response(content=body, status_code=status, media_type=MediaType.JSON, headers=headers)


def _auth_status(request: Request[Any, Any, Any]) -> int:
    return HTTP_401_UNAUTHORIZED if request.url.path.startswith(_REALMS_WITH_401) else HTTP_403_FORBIDDEN


def validation_error(_: Request[Any, Any, Any], exc: ValidationError) -> Response[Any]:
    return _json(exc.errors, HTTP_400_BAD_REQUEST)


def bad_request(_: Request[Any, Any, Any], exc: BadRequestError) -> Response[Any]:
    return _json({"detail": exc.detail}, exc.status_code)


def not_found(_: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    return _json({"detail": NOT_FOUND}, HTTP_404_NOT_FOUND)


def conflict(_: Request[Any, Any, Any], exc: ConflictError) -> Response[Any]:
    return _json({"detail": str(exc)}, HTTP_409_CONFLICT)


def authentication_failed(request: Request[Any, Any, Any], exc: AuthenticationError) -> Response[Any]:
    status = _auth_status(request)
    headers = {"WWW-Authenticate": "Token"} if status == HTTP_401_UNAUTHORIZED else None
    return _json({"detail": str(exc) or NO_CREDENTIALS}, status, headers)


def permission_denied(_: Request[Any, Any, Any], exc: PermissionDeniedError) -> Response[Any]:
    return _json({"detail": str(exc) or FORBIDDEN}, HTTP_403_FORBIDDEN)


def method_not_allowed(request: Request[Any, Any, Any], exc: MethodNotAllowedException) -> Response[Any]:
    allow = next((v for k, v in (exc.headers or {}).items() if k.lower() == "allow"), "")
    return _json({"detail": f'Method "{request.method}" not allowed.'}, HTTP_405_METHOD_NOT_ALLOWED, {"Allow": allow})


def http_exception(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    if exc.status_code == HTTP_413_REQUEST_ENTITY_TOO_LARGE:
        portal = request.url.path.startswith("/api/")
        return _json({"detail": PORTAL_BODY_LIMIT_TEXT if portal else "Request body too large"}, exc.status_code)
    if exc.status_code == HTTP_400_BAD_REQUEST and isinstance(exc.extra, dict | list):
        # Litestar's own parameter validation (a query parameter of the wrong type, say).
        return _json({"detail": exc.detail, "errors": exc.extra}, exc.status_code)
    return _json({"detail": exc.detail}, exc.status_code, dict(exc.headers or {}))


def storage_unavailable(_: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    logger.error("storage unavailable: %s", exc)
    return _json(
        {"detail": "The database is temporarily unavailable; try again shortly."}, HTTP_503_SERVICE_UNAVAILABLE
    )


def internal_error(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    logger.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return _json({"detail": "Internal server error; it has been logged."}, HTTP_500_INTERNAL_SERVER_ERROR)


def exception_handlers() -> dict[Any, Any]:
    """Every mapping from error to answer, in one place."""
    handlers: dict[Any, Any] = {
        ValidationError: validation_error,
        BadRequestError: bad_request,
        NotFoundError: not_found,
        NotFoundException: not_found,
        ConflictError: conflict,
        AuthenticationError: authentication_failed,
        PermissionDeniedError: permission_denied,
        MethodNotAllowedException: method_not_allowed,
        HTTPException: http_exception,
        Exception: internal_error,
    }
    try:
        from sqlalchemy.exc import DBAPIError

        handlers[DBAPIError] = storage_unavailable
    except ImportError:  # pragma: no cover - SQLAlchemy is a dependency; kept so the table reads whole
        pass
    return handlers
