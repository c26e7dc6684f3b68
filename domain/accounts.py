"""Users of obsnet: who they are, how they prove it, and whether they are observatory staff."""

from __future__ import annotations

from datetime import datetime

from attrs import define, field


@define(slots=False, eq=False)
class User:
    """An account. The password is kept only as a slow salted hash; the API token is kept recoverably
    (the profile shows it, as upstream does) and always compared in constant time."""

    id: int | None
    username: str
    password_hash: str
    email: str = ""
    is_staff: bool = False
    is_active: bool = True
    api_token: str | None = None
    created: datetime | None = None
    events: list[object] = field(factory=list, init=False, repr=False)
