"""Use cases of the configuration database: record writes, instrument states and whole-document imports.

Each handler loads the observatory, applies one verb, saves it and appends one change-log entry per changed
record (all entries of one command share a batch id), then commits. A refused verb raises before anything is
saved, and leaving the unit of work without commit discards everything.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

import attrs

from application.commands import (
    CreateObservatoryRecord,
    DeleteObservatoryRecord,
    ImportObservatory,
    SetInstrumentState,
    UpdateObservatoryRecord,
)
from application.ports import Clock, UnitOfWork
from domain.changes import ChangeAction, ChangeEntry
from domain.observatory import Instrument, Observatory, RecordChange, diff
from domain.observatory_document import ImportPlan, import_into, parse_document


def create_observatory_record(cmd: CreateObservatoryRecord, uow: UnitOfWork, clock: Clock) -> Any:
    """Create the record; return it as stored (with its id)."""
    return _write(uow, clock, cmd.actor, lambda obs: obs.create(cmd.kind, cmd.values))


def update_observatory_record(cmd: UpdateObservatoryRecord, uow: UnitOfWork, clock: Clock) -> Any:
    """Update the record; return it as stored."""
    return _write(uow, clock, cmd.actor, lambda obs: obs.update(cmd.kind, cmd.key, cmd.values, cmd.partial))


def delete_observatory_record(cmd: DeleteObservatoryRecord, uow: UnitOfWork, clock: Clock) -> None:
    """Delete the record (and the parts it owns)."""
    _write(uow, clock, cmd.actor, lambda obs: obs.delete(cmd.kind, cmd.key))


def set_instrument_state(cmd: SetInstrumentState, uow: UnitOfWork, clock: Clock) -> Instrument:
    """Change an instrument's state; the change log entry is what the availability history reads."""
    result: Instrument = _write(
        uow, clock, cmd.actor, lambda obs: obs.set_instrument_state(cmd.instrument_id, cmd.state)
    )
    return result


def import_observatory(cmd: ImportObservatory, uow: UnitOfWork, clock: Clock) -> ImportPlan:
    """Check the whole document, then apply it (unless a dry run); return the plan of what changes."""
    document = parse_document(cmd.document)
    with uow:
        observatory = uow.observatory.get()
        plan = import_into(observatory, document, replace=cmd.replace)
        if cmd.dry_run or not plan.changes:
            return plan
        uow.observatory.save(observatory)
        uow.changes.add(change_entries(plan.changes, clock.now(), cmd.actor, _batch_id("import")))
        uow.commit()
    return plan


def _write(uow: UnitOfWork, clock: Clock, actor: str, verb: Callable[[Observatory], Any]) -> Any:
    with uow:
        observatory = uow.observatory.get()
        before = observatory.copy()
        result = verb(observatory)
        changes = diff(before, observatory)
        if changes:
            uow.observatory.save(observatory)
            uow.changes.add(change_entries(changes, clock.now(), actor, _batch_id("write")))
            uow.commit()
    return result


def _batch_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex}"


def change_entries(changes: Sequence[RecordChange], now: datetime, user: str, batch: str) -> list[ChangeEntry]:
    """One change-log entry per changed record, with every changed field as [old, new] JSON values."""
    entries = []
    for change in changes:
        before = _fields(change.before)
        after = _fields(change.after)
        if change.before is None:
            action = ChangeAction.CREATE
        elif change.after is None:
            action = ChangeAction.DELETE
        else:
            action = ChangeAction.UPDATE
        names = list(dict.fromkeys([*after, *before]))
        fields = {n: [before.get(n), after.get(n)] for n in names if before.get(n) != after.get(n)}
        entries.append(ChangeEntry(now, user, change.kind, str(change.key), action, fields, batch))
    return entries


def _fields(record: Any) -> dict[str, Any]:
    if record is None:
        return {}
    return {name: _json(value) for name, value in attrs.asdict(record, recurse=False).items()}


def _json(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, Mapping):
        return dict(value)
    return value


COMMAND_HANDLERS: dict[type, Callable[..., Any]] = {
    CreateObservatoryRecord: create_observatory_record,
    UpdateObservatoryRecord: update_observatory_record,
    DeleteObservatoryRecord: delete_observatory_record,
    SetInstrumentState: set_instrument_state,
    ImportObservatory: import_observatory,
}
