"""Users of obsnet: who they are, how they prove it, their profile settings, and whether they are staff."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from attrs import define, field, frozen

from domain.errors import ValidationError

USERNAME = re.compile(r"[\w.@+-]{1,150}", re.ASCII)
# Deliberately plain: one @, no spaces, a dot in the domain; what mail servers accept is decided by sending.
EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s.]+(\.[^@\s.]+)+")
MAX_NAME_LENGTH = 150
MAX_PROFILE_TEXT = 200
INVALID_EMAIL = "Enter a valid email address."

# The profile settings a user may change for themselves (requests.md 1.1); staff_view only if staff.
PROFILE_FLAGS = (
    "education_user",
    "notifications_enabled",
    "notifications_on_authored_only",
    "simple_interface",
    "view_authored_requests_only",
    "staff_view",
)
PROFILE_TEXTS = ("institution", "title")


def normalise_email(email: str) -> str:
    """The stored form of an address: trimmed and lower-cased; ValueError with the client message if malformed."""
    cleaned = email.strip().lower()
    if not EMAIL.fullmatch(cleaned) or len(cleaned) > 254:
        raise ValueError(INVALID_EMAIL)
    return cleaned


@frozen
class UserRegistered:
    """A user now exists with this email: pending invitations addressed to it can be accepted."""

    user_id: int
    email: str


@frozen
class UserEmailChanged:
    """A user's address changed: pending invitations addressed to the new one can be accepted."""

    user_id: int
    email: str


@define(slots=False, eq=False)
class User:
    """An account with its profile (one per user, so its fields live on the user).

    The password is kept only as a slow salted hash; the API token is kept recoverably (the profile shows
    it, as upstream does) and always compared in constant time."""

    id: int | None
    username: str
    password_hash: str
    email: str = ""
    is_staff: bool = False
    is_active: bool = True
    api_token: str | None = None
    created: datetime | None = None
    first_name: str = ""
    last_name: str = ""
    is_superuser: bool = False
    institution: str = ""
    title: str = ""
    education_user: bool = False
    notifications_enabled: bool = False
    notifications_on_authored_only: bool = False
    simple_interface: bool = False
    view_authored_requests_only: bool = False
    staff_view: bool = False
    terms_accepted: datetime | None = None
    events: list[object] = field(factory=list, init=False, repr=False)

    @property
    def staff(self) -> bool:
        """Observatory staff; a superuser is staff for every rule (requests.md 1.1)."""
        return self.is_staff or self.is_superuser

    @property
    def sees_everything(self) -> bool:
        """Staff who asked to view as staff see every proposal's data (requests.md 1.8)."""
        return self.staff and self.staff_view

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip() or self.username

    def edit(self, changes: dict[str, Any], profile: dict[str, Any]) -> None:
        """Change names, email and profile settings; every problem is reported before anything changes.

        ``changes`` may hold first_name, last_name and email (already normalised and checked for uniqueness);
        ``profile`` the settings of PROFILE_FLAGS and PROFILE_TEXTS."""
        if profile.get("staff_view") and not self.staff:
            raise ValidationError({"profile": {"staff_view": ["Only staff may set staff_view"]}})
        old_email = self.email
        for name in ("first_name", "last_name", "email"):
            if name in changes:
                setattr(self, name, changes[name])
        for name in (*PROFILE_FLAGS, *PROFILE_TEXTS):
            if name in profile:
                setattr(self, name, profile[name])
        if self.id is not None and self.email and self.email != old_email:
            self.events.append(UserEmailChanged(self.id, self.email))

    def replace_token(self, token: str) -> None:
        """Revoke the current API token: from now on only ``token`` authenticates this user."""
        self.api_token = token

    def accept_terms(self, now: datetime) -> None:
        self.terms_accepted = now
