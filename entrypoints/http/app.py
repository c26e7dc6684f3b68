"""The web application: every component under its own prefix in one stateless Litestar app."""

from __future__ import annotations

from typing import Any

import anyio
from litestar import Litestar
from litestar.config.cors import CORSConfig
from litestar.enums import ScopeType
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin, SwaggerRenderPlugin
from litestar.types import ASGIApp, HTTPResponseBodyEvent, HTTPResponseStartEvent, Receive, Scope, Send

from entrypoints.container import Container
from entrypoints.http.controllers import (
    accounts,
    configdb,
    downtime,
    drafts,
    health,
    instruments,
    observations,
    profile,
    proposals,
    request_helpers,
    requestgroups,
    sky,
)
from entrypoints.http.errors import exception_handlers

# Upper bound for any request body; the routes that need less set their own (configdb writes 1 MiB).
MAX_BODY_BYTES = 50 * 1024 * 1024


def timeout_middleware(timeout_s: float) -> Any:
    """Answer 503 when a request runs longer than ``timeout_s`` and no response has started yet."""

    def factory(app: ASGIApp) -> ASGIApp:
        async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != ScopeType.HTTP:
                await app(scope, receive, send)
                return
            started = False

            async def tracking_send(message: Any) -> None:
                nonlocal started
                started = True
                await send(message)

            with anyio.move_on_after(timeout_s) as cancel_scope:
                await app(scope, receive, tracking_send)
            if cancel_scope.cancelled_caught and not started:
                body = b'{"detail":"The request took too long and was stopped; try again or narrow it."}'
                start: HTTPResponseStartEvent = {
                    "type": "http.response.start",
                    "status": 503,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
                }
                await send(start)
                end: HTTPResponseBodyEvent = {"type": "http.response.body", "body": body, "more_body": False}
                await send(end)

        return middleware

    return factory


def create_app(container: Container) -> Litestar:
    """Build the app around a container; the app itself keeps no state beyond it."""
    settings = container.settings()
    app = Litestar(
        route_handlers=[
            *health.ROUTES,
            *accounts.ROUTES,
            *profile.ROUTES,
            *proposals.ROUTES,
            *configdb.ROUTES,
            *downtime.ROUTES,
            *instruments.ROUTES,
            *requestgroups.ROUTES,
            *observations.ROUTES,
            *request_helpers.ROUTES,
            *drafts.ROUTES,
            *sky.ROUTES,
        ],
        exception_handlers=exception_handlers(),
        middleware=[timeout_middleware(settings.request_timeout_s)],
        cors_config=CORSConfig(allow_origins=["*"], allow_credentials=True),
        request_max_body_size=MAX_BODY_BYTES,
        openapi_config=OpenAPIConfig(
            title="obsnet",
            version="0.1.0",
            description="Observatory control system compatible with the LCO OCS HTTP API.",
            path="/schema",
            render_plugins=[JsonRenderPlugin(path="/openapi.json"), SwaggerRenderPlugin(path="/")],
        ),
        debug=False,
    )
    app.state.container = container
    return app
