"""The errors the domain raises, one class per way a request can fail."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# A field-error tree as clients of the OCS parse it: keys are field names (or "non_field_errors"),
# values are lists of messages or nested trees of the same shape.
ErrorTree = dict[str, Any]

NON_FIELD = "non_field_errors"


class DomainError(Exception):
    """Base of every error raised on purpose by the core; anything else is a bug."""


class ValidationError(DomainError):
    """Input breaks a rule; carries field-keyed messages in the nested shape of the OCS API."""

    def __init__(self, errors: Mapping[str, Any]) -> None:
        self.errors: ErrorTree = dict(errors)
        super().__init__(_flatten_for_humans(self.errors))

    @classmethod
    def on(cls, field: str, message: str) -> ValidationError:
        """One message on one field (``NON_FIELD`` for rules that span fields)."""
        return cls({field: [message]})

    @classmethod
    def general(cls, message: str) -> ValidationError:
        """One message that belongs to no single field."""
        return cls({NON_FIELD: [message]})

    def messages(self) -> list[str]:
        """Every message with its field path, for command-line output."""
        return _flatten_for_humans(self.errors).split("; ")


class NotFoundError(DomainError):
    """The thing asked for does not exist (or the caller may not know that it exists)."""


class ConflictError(DomainError):
    """The change is well formed but clashes with stored state (still referenced, changed meanwhile)."""


class AuthenticationError(DomainError):
    """No credentials, or credentials that identify nobody."""


class PermissionDeniedError(DomainError):
    """The caller is known but may not do this."""


def merge_errors(target: ErrorTree, more: Mapping[str, Any]) -> ErrorTree:
    """Merge two field-error trees in place, concatenating message lists that share a path."""
    for key, value in more.items():
        if key not in target:
            target[key] = value
        elif isinstance(target[key], list) and isinstance(value, list):
            target[key] = [*target[key], *value]
        elif isinstance(target[key], dict) and isinstance(value, Mapping):
            merge_errors(target[key], value)
        else:
            target[key] = value
    return target


def _flatten_for_humans(errors: Mapping[str, Any], prefix: str = "") -> str:
    parts: list[str] = []
    for key, value in errors.items():
        path = key if not prefix else (prefix if key == NON_FIELD else f"{prefix}.{key}")
        if key == NON_FIELD and not prefix:
            path = ""
        if isinstance(value, Mapping):
            parts.append(_flatten_for_humans(value, path))
        elif isinstance(value, list):
            for item in value:
                if isinstance(item, Mapping):
                    parts.append(_flatten_for_humans(item, path))
                else:
                    parts.append(f"{path}: {item}" if path else str(item))
        else:
            parts.append(f"{path}: {value}" if path else str(value))
    return "; ".join(p for p in parts if p)
