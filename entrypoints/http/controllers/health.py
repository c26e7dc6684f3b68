"""Health check for load balancers and process supervisors."""

from __future__ import annotations

from typing import Any

from litestar import Request, get

from entrypoints.http.wire import unit_of_work


@get("/health", sync_to_thread=True, tags=["operations"])
def health(request: Request[Any, Any, Any]) -> dict[str, Any]:
    """Whether this process can reach its storage; reports the observatory configuration version."""
    uow = unit_of_work(request)
    with uow:
        version = uow.observatory.version()
    return {"status": "ok", "observatory_version": version}


ROUTES = [health]
