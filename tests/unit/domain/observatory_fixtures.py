"""The demo observatory as test data: parsed once, imported fresh for each test that needs it."""

from __future__ import annotations

import copy
import json
from functools import cache
from importlib import resources
from typing import Any

from domain.observatory import Observatory
from domain.observatory_document import import_into, parse_document


@cache
def _demo_data() -> dict[str, Any]:
    text = resources.files("entrypoints.data").joinpath("demo-observatory.json").read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def demo_data() -> dict[str, Any]:
    """A private deep copy of the shipped demo document."""
    return copy.deepcopy(_demo_data())


def demo_observatory() -> Observatory:
    """The demo network imported into an empty observatory (ids in document order)."""
    obs = Observatory()
    import_into(obs, parse_document(demo_data()), replace=False)
    return obs


def snapshot(obs: Observatory) -> dict[str, dict[Any, Any]]:
    """Every record, for comparing before and after a refused write."""
    return {kind: dict(table) for kind, table in obs.records.items()}
