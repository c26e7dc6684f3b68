"""The one place that configures cattrs: turning wire JSON into typed values with the OCS's error messages.

Clients of the OCS parse Django REST framework's error texts, so the primitive hooks raise exactly those
("A valid integer is required.", "This field is required.", ...). ``structure_fields`` applies the hooks to a
flat body described by field specs and collects every problem into one field-keyed ValidationError.
"""

from __future__ import annotations

import functools
import math
import operator
import re
from collections.abc import Mapping
from datetime import UTC, date, datetime, time
from enum import Enum, StrEnum
from typing import Any

import cattrs
from attrs import frozen

from domain.errors import NON_FIELD, ValidationError

REQUIRED = "This field is required."
NOT_NULL = "This field may not be null."
DATETIME_FORMAT_HELP = (
    "Datetime has wrong format. Use one of these formats instead: YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z]."
)
_TRUE = {True, "true", "True", "TRUE", "1", "yes", "on"}
_FALSE = {False, "false", "False", "FALSE", "0", "no", "off"}
_DATE_ONLY = re.compile(r"\d{4}-\d{2}-\d{2}")


class FieldError(ValueError):
    """A value that cannot become the wanted type; its text is the message clients see."""


def _to_int(value: Any, _: type) -> int:
    if isinstance(value, bool):
        raise FieldError("A valid integer is required.")
    if isinstance(value, int):
        return value
    try:
        number = float(value) if isinstance(value, float | str) else math.nan
    except ValueError:
        number = math.nan
    if not math.isfinite(number) or number != int(number) or (isinstance(value, str) and len(value) > 50):
        raise FieldError("A valid integer is required.")
    return int(number)


def _to_float(value: Any, _: type) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise FieldError("A valid number is required.")
    try:
        number = float(value)
    except (ValueError, OverflowError):
        raise FieldError("A valid number is required.") from None
    if not math.isfinite(number):
        raise FieldError("A valid number is required.")
    return number


def _to_bool(value: Any, _: type) -> bool:
    if isinstance(value, bool | int | str) and value in _TRUE:
        return True
    if isinstance(value, bool | int | str) and value in _FALSE:
        return False
    raise FieldError("Must be a valid boolean.")


def _to_str(value: Any, _: type) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise FieldError("Not a valid string.")
    return str(value)


def parse_datetime(value: Any) -> datetime:
    """ISO 8601 with 'T' or a space, optional fraction and offset; naive means UTC; a bare date is midnight."""
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str) and _DATE_ONLY.fullmatch(value.strip()):
        try:
            parsed = datetime.combine(date.fromisoformat(value.strip()), time())
        except ValueError:  # well formed but impossible, such as 2026-13-01
            raise FieldError(DATETIME_FORMAT_HELP) from None
    elif isinstance(value, str):
        text = value.strip()
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            raise FieldError(DATETIME_FORMAT_HELP) from None
        if len(text) < 16:
            raise FieldError(DATETIME_FORMAT_HELP)
    else:
        raise FieldError(DATETIME_FORMAT_HELP)
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except OverflowError:  # an offset that moves the instant before year 1 or after 9999
        raise FieldError(DATETIME_FORMAT_HELP) from None


def format_datetime(value: datetime) -> str:
    """UTC as ``YYYY-MM-DDTHH:MM:SSZ``, with microseconds only when there are any (api.md rule 10)."""
    value = value.astimezone(UTC)
    pattern = "%Y-%m-%dT%H:%M:%S.%fZ" if value.microsecond else "%Y-%m-%dT%H:%M:%SZ"
    return value.strftime(pattern)


def _to_datetime(value: Any, _: type) -> datetime:
    return parse_datetime(value)


def _to_enum(value: Any, cls: type[Enum]) -> Enum:
    try:
        return cls(value)
    except ValueError:
        raise FieldError(f'"{value}" is not a valid choice.') from None


def _to_id_list(value: Any, _: type) -> tuple[int, ...]:
    if not isinstance(value, list):
        raise FieldError(f'Expected a list of items but got type "{type(value).__name__}".')
    try:
        return tuple(_to_int(item, int) for item in value)
    except FieldError:
        raise FieldError("Incorrect type. Expected pk value.") from None


def _to_dict(value: Any, _: type) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise FieldError(f'Expected a dictionary of items but got type "{type(value).__name__}".')
    return value


def _to_list(value: Any, _: type) -> list[Any]:
    if not isinstance(value, list):
        raise FieldError(f'Expected a list of items but got type "{type(value).__name__}".')
    return value


def make_wire_converter() -> cattrs.Converter:
    """The converter for HTTP bodies and query strings: lenient about spelling, strict about meaning."""
    converter = cattrs.Converter()
    converter.register_structure_hook(int, _to_int)
    converter.register_structure_hook(float, _to_float)
    converter.register_structure_hook(bool, _to_bool)
    converter.register_structure_hook(str, _to_str)
    converter.register_structure_hook(datetime, _to_datetime)
    # Generic aliases are not classes, so they are matched by predicate.
    aliases: tuple[tuple[Any, Any], ...] = (
        (tuple[int, ...], _to_id_list),
        (dict[str, Any], _to_dict),
        (list[Any], _to_list),
    )
    for alias, hook in aliases:
        converter.register_structure_hook_func(functools.partial(operator.eq, alias), hook)
    converter.register_structure_hook_func(lambda t: isinstance(t, type) and issubclass(t, Enum), _to_enum)
    return converter


WIRE = make_wire_converter()


@frozen
class FieldSpec:
    """How one field of a flat body is read: its type, whether it must be given, and simple bounds."""

    type: Any
    required: bool = False
    nullable: bool = False
    max_length: int | None = None


def structure_fields(body: Any, specs: Mapping[str, FieldSpec], *, partial: bool = False) -> dict[str, Any]:
    """Typed values for the fields present in ``body`` (unknown keys ignored, as OCS clients expect).

    Required fields are enforced unless ``partial`` (PATCH). Every problem is collected before raising.
    """
    if not isinstance(body, dict):
        kind = "list" if isinstance(body, list) else type(body).__name__
        raise ValidationError.general(f"Invalid data. Expected a dictionary, but got {kind}.")
    values: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for name, spec in specs.items():
        if name not in body:
            if spec.required and not partial:
                errors[name] = [REQUIRED]
            continue
        raw = body[name]
        if raw is None:
            if spec.nullable:
                values[name] = None
            else:
                errors[name] = [NOT_NULL]
            continue
        try:
            value = WIRE.structure(raw, spec.type)
        except FieldError as error:
            errors[name] = [str(error)]
            continue
        if spec.max_length is not None and isinstance(value, str) and len(value) > spec.max_length:
            errors[name] = [f"Ensure this field has no more than {spec.max_length} characters."]
            continue
        values[name] = value
    if errors:
        raise ValidationError(errors)
    return values


def structure_value(raw: Any, wanted: Any, field: str) -> Any:
    """One typed value (a query parameter, say), with the error keyed by ``field``."""
    try:
        return WIRE.structure(raw, wanted)
    except FieldError as error:
        raise ValidationError.on(field or NON_FIELD, str(error)) from None


def make_store_converter() -> cattrs.Converter:
    """The converter for values kept in JSON columns: tolerant, so rows written by an older or newer obsnet load.

    Unknown keys are ignored and missing ones take the class's defaults; enums are stored as their values.
    """
    converter = cattrs.Converter(forbid_extra_keys=False)
    # By class, not by predicate: class hooks win, and a StrEnum would otherwise pass through as a str subclass.
    converter.register_unstructure_hook(StrEnum, _enum_value)
    converter.register_unstructure_hook(Enum, _enum_value)
    return converter


def _enum_value(value: Enum) -> Any:
    return value.value


STORE = make_store_converter()
