"""The demo: the shipped demo observatory, demo users and downtimes around today, loaded idempotently."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

from application.commands import ImportObservatory
from application.handlers.accounts import CreateUser
from application.handlers.downtime import create_demo_downtimes
from entrypoints.container import Container

# (username, password, staff)
DEMO_USERS = (("demo", "demo", False), ("admin", "admin", True))


def demo_document() -> dict[str, Any]:
    """The demo observatory document shipped inside the package."""
    text = resources.files("entrypoints.data").joinpath("demo-observatory.json").read_text(encoding="utf-8")
    document: dict[str, Any] = json.loads(text)
    return document


def load_demo(container: Container) -> list[str]:
    """Load what the demo needs, creating only what is missing; returns lines to show the operator."""
    bus = container.bus()
    document = demo_document()
    plan = bus.handle(ImportObservatory(document, actor="demo"))
    lines = [f"demo observatory: {plan.summary()}"]
    uow_factory = container.uow_factory()
    for username, password, staff in DEMO_USERS:
        with uow_factory() as uow:
            exists = uow.users.get_by_username(username) is not None
        if not exists:
            bus.handle(CreateUser(username, password, email=f"{username}@example.org", is_staff=staff))
    created = create_demo_downtimes(uow_factory(), container.clock(), document.get("demo_downtimes", []))
    lines.append(f"demo downtimes: created {created}")
    lines.append("demo credentials: user demo / password demo; staff user admin / password admin")
    return lines
