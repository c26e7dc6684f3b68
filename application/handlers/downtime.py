"""Use cases of the downtime database: schedule, revise and cancel downtimes, and read them back."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from attrs import evolve, frozen

from application.ports import Clock, DowntimeQuery, UnitOfWork
from domain.changes import ChangeAction, ChangeEntry
from domain.downtime import DATA_FIELDS, CodeChoices, Downtime
from domain.errors import NotFoundError, ValidationError

CHANGE_KIND = "downtime"
DEMO_ACTOR = "demo"


@frozen
class ScheduleDowntime:
    """Plan a new downtime; ``actor`` is the username recorded in the change log."""

    start: datetime
    end: datetime
    site: str
    enclosure: str
    telescope: str
    instrument_type: str = ""
    reason: str = ""
    actor: str = "system"


@frozen
class ReviseDowntime:
    """Change some data fields of a downtime; a field left None keeps its value (PATCH; PUT gives them all)."""

    downtime_id: int
    start: datetime | None = None
    end: datetime | None = None
    site: str | None = None
    enclosure: str | None = None
    telescope: str | None = None
    instrument_type: str | None = None
    reason: str | None = None
    actor: str = "system"

    def changes(self) -> dict[str, Any]:
        """The fields this command sets."""
        return {name: getattr(self, name) for name in DATA_FIELDS if getattr(self, name) is not None}


@frozen
class CancelDowntime:
    """Delete a downtime."""

    downtime_id: int
    actor: str = "system"


@frozen
class DowntimeView:
    """A downtime as readers see it."""

    id: int
    start: datetime
    end: datetime
    site: str
    enclosure: str
    telescope: str
    instrument_type: str
    reason: str
    created: datetime
    modified: datetime

    @classmethod
    def of(cls, downtime: Downtime) -> DowntimeView:
        """The view of a stored downtime."""
        assert downtime.id is not None  # noqa: S101 - views are made of stored downtimes only
        assert downtime.created is not None  # noqa: S101 - set when scheduled
        assert downtime.modified is not None  # noqa: S101 - set when scheduled
        return cls(
            downtime.id,
            downtime.start,
            downtime.end,
            downtime.site,
            downtime.enclosure,
            downtime.telescope,
            downtime.instrument_type,
            downtime.reason,
            downtime.created,
            downtime.modified,
        )


def _log(uow: UnitOfWork, now: datetime, actor: str, downtime_id: int, action: ChangeAction, changes: Any) -> None:
    entry = ChangeEntry(now, actor, CHANGE_KIND, str(downtime_id), action, dict(changes))
    uow.changes.add([entry])


def _schedule(cmd: ScheduleDowntime, uow: UnitOfWork, now: datetime) -> Downtime:
    downtime = Downtime.schedule(
        uow.observatory.get(),
        start=cmd.start,
        end=cmd.end,
        site=cmd.site,
        enclosure=cmd.enclosure,
        telescope=cmd.telescope,
        instrument_type=cmd.instrument_type,
        reason=cmd.reason,
        now=now,
    )
    uow.downtimes.add(downtime)
    assert downtime.id is not None  # noqa: S101 - the repository assigns ids on add
    created = {name: [None, value] for name, value in downtime.as_json().items()}
    _log(uow, now, cmd.actor, downtime.id, ChangeAction.CREATE, created)
    return downtime


def schedule_downtime(cmd: ScheduleDowntime, uow: UnitOfWork, clock: Clock) -> DowntimeView:
    """Check the downtime against the live configuration, store it and log its creation."""
    with uow:
        downtime = _schedule(cmd, uow, clock.now())
        uow.commit()
        return DowntimeView.of(downtime)


def _load(uow: UnitOfWork, downtime_id: int) -> Downtime:
    downtime = uow.downtimes.get(downtime_id)
    if downtime is None:
        raise NotFoundError(f"no downtime {downtime_id}")
    return downtime


def revise_downtime(cmd: ReviseDowntime, uow: UnitOfWork, clock: Clock) -> DowntimeView:
    """Apply the changes if the merged downtime obeys every rule; log the fields that changed."""
    with uow:
        downtime = _load(uow, cmd.downtime_id)
        now = clock.now()
        changed = downtime.revise(uow.observatory.get(), cmd.changes(), now=now)
        if changed:
            _log(uow, now, cmd.actor, cmd.downtime_id, ChangeAction.UPDATE, changed)
            uow.commit()
        return DowntimeView.of(downtime)


def cancel_downtime(cmd: CancelDowntime, uow: UnitOfWork, clock: Clock) -> None:
    """Delete the downtime and log what it was."""
    with uow:
        downtime = _load(uow, cmd.downtime_id)
        removed = downtime.cancel()
        uow.downtimes.delete(downtime)
        _log(uow, clock.now(), cmd.actor, cmd.downtime_id, ChangeAction.DELETE, removed)
        uow.commit()


# --- Queries -----------------------------------------------------------------------------------------------


def _canonical_filters(uow: UnitOfWork, query: DowntimeQuery) -> DowntimeQuery:
    """The query with each code checked against configdb and instrument types spelled as configdb does."""
    if not (query.sites or query.enclosures or query.telescopes or query.instrument_types):
        return query
    choices = CodeChoices.of(uow.observatory.get())

    def spell(field_name: str, codes: tuple[str, ...]) -> tuple[str, ...]:
        spelled = []
        for code in codes:
            known = choices.spelling(field_name, code)
            if known is None:
                raise ValidationError.on(
                    field_name, f"Select a valid choice. {code} is not one of the available choices."
                )
            spelled.append(known)
        return tuple(spelled)

    return evolve(
        query,
        sites=spell("site", query.sites),
        enclosures=spell("enclosure", query.enclosures),
        telescopes=spell("telescope", query.telescopes),
        instrument_types=spell("instrument_type", query.instrument_types),
    )


def search_downtimes(uow: UnitOfWork, query: DowntimeQuery) -> tuple[int, list[DowntimeView]]:
    """How many downtimes match, and the requested page of them; an unknown code in a filter is refused."""
    with uow:
        count, found = uow.downtimes.search(_canonical_filters(uow, query))
        return count, [DowntimeView.of(d) for d in found]


def get_downtime(uow: UnitOfWork, downtime_id: int) -> DowntimeView:
    """One downtime; NotFoundError when there is none with that id."""
    with uow:
        return DowntimeView.of(_load(uow, downtime_id))


def overlapping_downtimes(uow: UnitOfWork, downtime_id: int) -> list[DowntimeView]:
    """Other downtimes on the same telescope whose intervals overlap this one's (touching ends do not).

    Overlaps are allowed (observatory.md 3.2); this feeds the create answer's ``warnings`` and never blocks.
    """
    with uow:
        downtime = _load(uow, downtime_id)
        query = DowntimeQuery(
            ends_after=downtime.start,
            starts_before=downtime.end,
            sites=(downtime.site,),
            enclosures=(downtime.enclosure,),
            telescopes=(downtime.telescope,),
            order=("start",),
            limit=10_000,
        )
        _, found = uow.downtimes.search(query)
        return [
            DowntimeView.of(d)
            for d in found
            if d.id != downtime_id and d.start < downtime.end and d.end > downtime.start
        ]


# --- Demo --------------------------------------------------------------------------------------------------


def create_demo_downtimes(uow: UnitOfWork, clock: Clock, entries: Sequence[Mapping[str, Any]]) -> int:
    """Create the demo file's ``demo_downtimes`` relative to today; returns how many were created.

    Each starts at 00:00 UTC today plus ``start_offset_hours`` and lasts ``duration_hours``. One with the same
    site, enclosure, telescope and reason as an existing downtime is skipped, so restarts do not pile them up.
    """
    now = clock.now()
    midnight = datetime.combine(now.astimezone(UTC).date(), datetime.min.time(), tzinfo=UTC)
    created = 0
    with uow:
        for entry in entries:
            existing, _ = uow.downtimes.search(
                DowntimeQuery(
                    sites=(entry["site"],),
                    enclosures=(entry["enclosure"],),
                    telescopes=(entry["telescope"],),
                    reason_exact=entry.get("reason", ""),
                    limit=1,
                )
            )
            if existing:
                continue
            start = midnight + timedelta(hours=float(entry["start_offset_hours"]))
            cmd = ScheduleDowntime(
                start=start,
                end=start + timedelta(hours=float(entry["duration_hours"])),
                site=entry["site"],
                enclosure=entry["enclosure"],
                telescope=entry["telescope"],
                instrument_type=entry.get("instrument_type", ""),
                reason=entry.get("reason", ""),
                actor=DEMO_ACTOR,
            )
            _schedule(cmd, uow, now)
            created += 1
        uow.commit()
    return created
