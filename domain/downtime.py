"""Planned downtime of a telescope, or of one instrument type on it (observatory.md section 3)."""

from __future__ import annotations

from datetime import datetime

from attrs import define, field


@define(slots=False, eq=False)
class Downtime:
    """A period when a telescope (``instrument_type == ""``) or one instrument type on it cannot observe.

    Downtimes hold codes, not references: renaming or deleting a telescope leaves them untouched.
    """

    id: int | None
    start: datetime
    end: datetime
    site: str
    enclosure: str
    telescope: str
    instrument_type: str = ""
    reason: str = ""
    created: datetime | None = None
    modified: datetime | None = None
    events: list[object] = field(factory=list, init=False, repr=False)
