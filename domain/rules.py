"""Business rules as small objects named as assertions, and the one function that enforces them."""

from __future__ import annotations

from typing import Protocol

from domain.errors import NON_FIELD, ValidationError


class BusinessRule(Protocol):
    """A rule that may be broken; ``field`` names where the error belongs (``non_field_errors`` if nowhere)."""

    @property
    def field(self) -> str: ...

    def is_broken(self) -> bool: ...

    def message(self) -> str: ...


def check_rule(rule: BusinessRule) -> None:
    """Raise a ValidationError carrying the rule's message on its field when the rule is broken."""
    if rule.is_broken():
        raise ValidationError.on(rule.field or NON_FIELD, rule.message())
