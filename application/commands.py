"""Commands of the application: frozen imperative requests, one handler each, dispatched by the message bus."""

from __future__ import annotations

from typing import Any

from attrs import field, frozen


def _frozen_copy(values: Any) -> dict[str, Any]:
    return dict(values)


@frozen
class CreateObservatoryRecord:
    """Add a configdb record of ``kind`` (a route name such as "telescopes") from domain field values.

    Composite fields of observatory.md 2.5 are accepted too: ``optical_elements`` on opticalelementgroups,
    ``configuration_types`` on instrumenttypes, ``modes`` or ``mode_ids`` on genericmodegroups."""

    kind: str
    values: dict[str, Any] = field(converter=_frozen_copy)
    actor: str = "system"


@frozen
class UpdateObservatoryRecord:
    """Change a configdb record: PATCH when ``partial``, else PUT (omitted optional fields take defaults)."""

    kind: str
    key: Any
    values: dict[str, Any] = field(converter=_frozen_copy)
    partial: bool = True
    actor: str = "system"


@frozen
class DeleteObservatoryRecord:
    """Remove a configdb record; refused while children or references remain."""

    kind: str
    key: Any
    actor: str = "system"


@frozen
class SetInstrumentState:
    """Move an instrument to another life-cycle state (DISABLED ... SCHEDULABLE)."""

    instrument_id: int
    state: str
    actor: str = "system"


@frozen
class ImportObservatory:
    """Import a whole observatory document (observatory.md 6): upsert by natural key, optionally replacing
    everything the document does not mention; a dry run computes the plan and writes nothing."""

    document: dict[str, Any] = field(converter=_frozen_copy)
    replace: bool = False
    dry_run: bool = False
    actor: str = "system"
