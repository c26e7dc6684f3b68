"""Request objects as the JSON documents configdb's validation schemas read, and the way back.

Validation schemas (observatory.md 1.8) are written against the wire shape of a configuration, so the schema
checks see attrs values as plain dictionaries (``document``), and the defaults a schema fills in are written
back onto the values (``merge_document``). Schema errors are reported in the nested shape of requests.md 3.2
(``schema_error_tree``) or, for the mode rule, on one line as Cerberus users know them
(``describe_schema_errors``). The ``extra_params`` coercion of 2.13 lives here too: it normalises the same
documents before any schema reads them.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar, cast

import attrs

from domain.errors import NON_FIELD, ErrorTree
from domain.observatory import JsonDict
from domain.validation_schema import SchemaErrors

T = TypeVar("T")


# ---------------------------------------------------------------------------------------------------------
# extra_params coercion (2.13)


def coerce_value(value: Any) -> Any:
    """``"true"``/``"false"`` to booleans, numeric strings and integral floats to numbers; the rest unchanged."""
    if isinstance(value, bool | int) or value is None:
        return value
    if value in ("true", "True"):
        return True
    if value in ("false", "False"):
        return False
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return value
    elif isinstance(value, float):
        number = value
    else:
        return value
    if not math.isfinite(number):
        return value  # "nan" and "inf" parse as floats but cannot be stored as JSON numbers
    return int(number) if number.is_integer() else number


def coerce_extra_params(params: Mapping[str, Any]) -> JsonDict:
    """Every top-level value of an ``extra_params`` object coerced (2.13)."""
    return {key: coerce_value(value) for key, value in params.items()}


# ---------------------------------------------------------------------------------------------------------
# Documents: the wire-shaped dictionaries that validation schemas read, and writing their defaults back


def document(value: object) -> JsonDict:
    """An attrs value as the dictionary a validation schema sees: wire field names, lists, no null fields."""
    result = _plain(value)
    return result if isinstance(result, dict) else {}


def _plain(value: Any) -> Any:
    if attrs.has(type(value)):
        items = ((a.name, getattr(value, a.name)) for a in attrs.fields(type(value)))
        return {name: _plain(item) for name, item in items if item is not None}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, Mapping):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, enum.Enum):
        return value.value
    return value


def merge_document(value: T, normalised: Mapping[str, Any]) -> T:
    """The attrs value with the fields a schema normalised (defaults it filled in) written back."""
    changes: dict[str, Any] = {}
    cls: Any = type(value)  # an attrs class at run time; the TypeVar cannot say so to attrs' stubs
    for attribute in attrs.fields(cls):
        name = attribute.name
        if name not in normalised or not attribute.init:
            continue
        current, new = getattr(value, name), normalised[name]
        if attrs.has(type(current)) and isinstance(new, Mapping):
            new = merge_document(current, new)
        elif isinstance(current, tuple) and isinstance(new, list):
            new = tuple(
                merge_document(old, item) if attrs.has(type(old)) and isinstance(item, Mapping) else item
                for old, item in zip(current, new, strict=False)
            )
        if new != current:
            changes[name] = new
    return replace(value, **changes) if changes else value


def replace(value: T, **changes: Any) -> T:
    """``attrs.evolve`` without the attrs plugin's field typing, which cannot see through a ``tuple`` converter."""
    evolved: T = attrs.evolve(cast(Any, value), **changes)
    return evolved


def schema_error_tree(errors: SchemaErrors, doc: Mapping[str, Any]) -> ErrorTree:
    """Schema errors in the nested shape of 3.2: lists aligned by index with ``{}`` for clean items."""
    tree: ErrorTree = {}
    for key, problems in errors.items():
        tree[str(key)] = _problems_tree(problems, doc.get(key))
    return tree


def _problems_tree(problems: Sequence[Any], value: Any) -> Any:
    messages = [p for p in problems if not isinstance(p, Mapping)]
    nested: dict[Any, list[Any]] = {}
    for problem in problems:
        if isinstance(problem, Mapping):
            for key, more in problem.items():
                nested.setdefault(key, []).extend(more)
    if not nested:
        return messages
    if isinstance(value, list):
        items = [_item_tree(nested.get(index, []), item) for index, item in enumerate(value)]
        return items if not messages else {NON_FIELD: messages, "items": items}
    tree = schema_error_tree(nested, value if isinstance(value, Mapping) else {})
    if messages:
        tree[NON_FIELD] = messages
    return tree


def _item_tree(problems: Sequence[Any], item: Any) -> Any:
    if not problems:
        return {}
    result = _problems_tree(problems, item)
    return result if isinstance(result, dict) else {NON_FIELD: result}


def describe_schema_errors(errors: Mapping[Any, Sequence[Any]]) -> str:
    """Schema errors on one line as OCS users know them: ``extra_params{bin_x error: unallowed value 2}``."""
    parts: list[str] = []
    for key, problems in errors.items():
        for problem in problems:
            if isinstance(problem, Mapping):
                parts.append(f"{key}{{{describe_schema_errors(problem)}}}")
            else:
                parts.append(f"{key} error: {problem}")
    return ", ".join(parts)
