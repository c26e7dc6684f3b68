"""The append-only change log: who changed what, when, from which value to which (observatory.md 1.9)."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from attrs import field, frozen


class ChangeAction(enum.StrEnum):
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"


@frozen
class ChangeEntry:
    """One changed entity. ``changes`` maps each changed field to ``[old, new]`` (JSON values)."""

    time: datetime
    user: str
    kind: str
    entity_id: str
    action: ChangeAction = field(converter=ChangeAction)
    changes: dict[str, list[Any]] = field(factory=dict)
    batch: str = ""
