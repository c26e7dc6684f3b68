"""A small interpreter of the Cerberus-style validation schemas that configdb stores (observatory.md 1.8).

Schemas are plain JSON dictionaries of field -> rule dictionary. ``check_schema`` is the write-time check that a
schema only uses the supported vocabulary; ``validate`` applies defaults, then checks a document against it, and
returns the normalised document with an error tree worded as OCS users know it from Cerberus.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from typing import Any

RULES = frozenset(
    {
        "type",
        "required",
        "nullable",
        "allowed",
        "min",
        "max",
        "minlength",
        "maxlength",
        "regex",
        "default",
        "schema",
        "label",
        "description",
        "show",
    }
)
TYPES = frozenset({"string", "integer", "float", "number", "boolean", "dict", "list"})

# Cerberus keys list items by their integer index, so the tree is keyed by str (fields) or int (items).
SchemaErrors = dict[Any, list[Any]]


def check_schema(schema: object, path: str = "") -> list[str]:
    """Every reason the schema is not well formed, as 'Invalid validation_schema at <path>: <why>' messages."""
    if not isinstance(schema, Mapping):
        return [_invalid(path, "a schema must be a dictionary of field rules")]
    problems: list[str] = []
    for name, rules in schema.items():
        field_path = f"{path}.{name}" if path else str(name)
        problems.extend(_check_rules(rules, field_path))
    return problems


def _check_rules(rules: object, path: str) -> list[str]:
    if not isinstance(rules, Mapping):
        return [_invalid(path, "the rules of a field must be a dictionary")]
    problems: list[str] = []
    for rule, value in rules.items():
        if rule not in RULES:
            problems.append(_invalid(path, f'unknown rule "{rule}"'))
            continue
        why = _rule_value_problem(rule, value)
        if why:
            problems.append(_invalid(path, why))
    if "schema" in rules:
        kind = rules.get("type")
        nested = rules["schema"]
        if kind == "dict":
            problems.extend(check_schema(nested, f"{path}.schema"))
        elif kind == "list":
            problems.extend(_check_rules(nested, f"{path}.schema"))
        else:
            problems.append(_invalid(path, 'rule "schema" needs type "dict" or "list"'))
    return problems


def _rule_value_problem(rule: str, value: Any) -> str:
    """Why a rule's value is unusable, or ''."""
    if rule == "type" and value not in TYPES:
        return f'unknown type "{value}"'
    if rule in ("required", "nullable", "show") and not isinstance(value, bool):
        return f'rule "{rule}" must be true or false'
    if rule == "allowed" and not isinstance(value, list):
        return 'rule "allowed" must be a list'
    if rule in ("min", "max") and not _is_number(value):
        return f'rule "{rule}" must be a number'
    if rule in ("minlength", "maxlength") and not (_is_integer(value) and value >= 0):
        return f'rule "{rule}" must be a non-negative integer'
    if rule in ("label", "description") and not isinstance(value, str):
        return f'rule "{rule}" must be a string'
    if rule == "regex":
        if not isinstance(value, str):
            return 'rule "regex" must be a string'
        try:
            re.compile(value)
        except re.error as error:
            return f'rule "regex" is not a regular expression ({error})'
    return ""


def _invalid(path: str, why: str) -> str:
    return f"Invalid validation_schema at {path or '<root>'}: {why}"


def validate(document: Mapping[str, Any], schema: Mapping[str, Any]) -> tuple[dict[str, Any], SchemaErrors]:
    """The document with defaults filled in, and the errors left after normalising ({} when it is valid).

    Unknown keys are allowed at every level. The schema is assumed to pass ``check_schema``."""
    normalised = dict(document)
    errors: SchemaErrors = {}
    for name, rules in schema.items():
        if name not in normalised and "default" in rules:
            normalised[name] = copy.deepcopy(rules["default"])
        if name not in normalised:
            if rules.get("required", False):
                errors[name] = ["required field"]
            continue
        normalised[name], problems = _validate_value(normalised[name], rules)
        if problems:
            errors[name] = problems
    return normalised, errors


def _validate_value(value: Any, rules: Mapping[str, Any]) -> tuple[Any, list[Any]]:
    if value is None:
        return value, [] if rules.get("nullable", False) else ["null value not allowed"]
    kind = rules.get("type")
    if kind is not None and not _has_type(value, kind):
        return value, [f"must be of {kind} type"]
    problems: list[Any] = []
    if "allowed" in rules and value not in rules["allowed"]:
        problems.append(f"unallowed value {value}")
    if "min" in rules and _is_number(value) and value < rules["min"]:
        problems.append(f"min value is {rules['min']}")
    if "max" in rules and _is_number(value) and value > rules["max"]:
        problems.append(f"max value is {rules['max']}")
    if isinstance(value, str | list):
        if "minlength" in rules and len(value) < rules["minlength"]:
            problems.append(f"min length is {rules['minlength']}")
        if "maxlength" in rules and len(value) > rules["maxlength"]:
            problems.append(f"max length is {rules['maxlength']}")
    if "regex" in rules and isinstance(value, str) and re.fullmatch(rules["regex"], value) is None:
        problems.append(f"value does not match regex '{rules['regex']}'")
    if "schema" in rules:
        value, nested = _validate_nested(value, rules["schema"])
        if nested:
            problems.append(nested)
    return value, problems


def _validate_nested(value: Any, nested_rules: Mapping[str, Any]) -> tuple[Any, SchemaErrors]:
    if isinstance(value, Mapping):
        return validate(value, nested_rules)
    if isinstance(value, list):
        items: list[Any] = []
        errors: SchemaErrors = {}
        for index, item in enumerate(value):
            normalised, problems = _validate_value(item, nested_rules)
            items.append(normalised)
            if problems:
                errors[index] = problems
        return items, errors
    return value, {}


def _has_type(value: Any, kind: str) -> bool:
    checks = {
        "string": isinstance(value, str),
        "integer": _is_integer(value),
        "float": _is_number(value),
        "number": _is_number(value),
        "boolean": isinstance(value, bool),
        "dict": isinstance(value, Mapping),
        "list": isinstance(value, list),
    }
    return checks.get(kind, True)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_integer(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
