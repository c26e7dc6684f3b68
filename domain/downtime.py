"""Planned downtime of a telescope, or of one instrument type on it (observatory.md section 3)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from attrs import define, field, frozen

from domain.errors import NON_FIELD, ValidationError, merge_errors
from domain.observatory import Observatory
from domain.rules import BusinessRule, check_rule

MAX_REASON_LENGTH = 3000
COMBINATION_UNKNOWN = "The site, enclosure, telescope, and instrument_type combination does not exist in Configdb"
# The fields a client sets; id, created and modified belong to the system.
DATA_FIELDS = ("start", "end", "site", "enclosure", "telescope", "instrument_type", "reason")


@frozen
class CodeChoices:
    """The codes a downtime may name, read from one configdb snapshot.

    Instrument types are keyed case-folded (clients send old mixed-case spellings) and map to the spelling
    configdb stores; site, enclosure and telescope codes are matched exactly (observatory.md 1.2).
    """

    sites: frozenset[str]
    enclosures: frozenset[str]
    telescopes: frozenset[str]
    instrument_types: Mapping[str, str]
    # (site, enclosure, telescope) -> case-folded instrument type codes of every instrument on it, any state.
    carried: Mapping[tuple[str, str, str], frozenset[str]]

    @classmethod
    def of(cls, observatory: Observatory) -> CodeChoices:
        """The choices offered by this snapshot of the configuration."""
        type_codes = {t.id: t.code for t in observatory.instrument_types.values()}
        carried: dict[int, set[str]] = {}
        for instrument in observatory.instruments.values():
            code = type_codes.get(instrument.instrument_type_id)
            if code is not None:
                carried.setdefault(instrument.telescope_id, set()).add(code.casefold())
        triples: dict[tuple[str, str, str], frozenset[str]] = {}
        for telescope in observatory.telescopes.values():
            enclosure = observatory.enclosures.get(telescope.enclosure_id)
            site = observatory.sites.get(enclosure.site_id) if enclosure else None
            if enclosure is not None and site is not None:
                key = (site.code, enclosure.code, telescope.code)
                triples[key] = frozenset(carried.get(telescope.id, ()))
        return cls(
            sites=frozenset(s.code for s in observatory.sites.values()),
            enclosures=frozenset(e.code for e in observatory.enclosures.values()),
            telescopes=frozenset(t.code for t in observatory.telescopes.values()),
            instrument_types={code.casefold(): code for code in type_codes.values()},
            carried=triples,
        )

    def known(self, field_name: str) -> Mapping[str, str]:
        """For one code field, a mapping from how a client may write a known code to how configdb spells it."""
        if field_name == "instrument_type":
            return self.instrument_types
        codes = {"site": self.sites, "enclosure": self.enclosures, "telescope": self.telescopes}[field_name]
        return {code: code for code in codes}

    def spelling(self, field_name: str, code: str) -> str | None:
        """The code as configdb spells it, or None when configdb does not know it."""
        key = code.casefold() if field_name == "instrument_type" else code
        return self.known(field_name).get(key)


@frozen
class EndMustFollowStart:
    """A downtime lasts a positive time: zero-length and reversed intervals are refused."""

    start: datetime
    end: datetime

    @property
    def field(self) -> str:
        return NON_FIELD

    def is_broken(self) -> bool:
        return self.end <= self.start

    def message(self) -> str:
        return "End time must be after start time"


@frozen
class CodeMustBeKnownToConfigdb:
    """A site, enclosure, telescope or (non-empty) instrument type code exists somewhere in configdb."""

    field: str
    code: str
    choices: CodeChoices

    def is_broken(self) -> bool:
        if self.field == "instrument_type" and self.code == "":
            return False
        return self.choices.spelling(self.field, self.code) is None

    def message(self) -> str:
        return f'"{self.code}" is not a valid choice.'


@frozen
class CombinationMustExistInConfigdb:
    """The telescope is in that enclosure at that site, and carries the instrument type if one is named.

    Instruments in any state count (DISABLED included): downtime is planned for hardware being worked on.
    """

    site: str
    enclosure: str
    telescope: str
    instrument_type: str
    choices: CodeChoices

    @property
    def field(self) -> str:
        return NON_FIELD

    def is_broken(self) -> bool:
        carried = self.choices.carried.get((self.site, self.enclosure, self.telescope))
        if carried is None:
            return True
        return bool(self.instrument_type) and self.instrument_type.casefold() not in carried

    def message(self) -> str:
        return COMBINATION_UNKNOWN


@frozen
class ReasonMustFitLimit:
    """The reason is free text of at most 3000 characters (in-process callers skip the HTTP edge's check)."""

    reason: str

    @property
    def field(self) -> str:
        return "reason"

    def is_broken(self) -> bool:
        return len(self.reason) > MAX_REASON_LENGTH

    def message(self) -> str:
        return f"Ensure this field has no more than {MAX_REASON_LENGTH} characters."


def check_downtime(
    observatory: Observatory,
    *,
    start: datetime,
    end: datetime,
    site: str,
    enclosure: str,
    telescope: str,
    instrument_type: str,
    reason: str,
) -> str:
    """Enforce every rule of observatory.md 3.2 and return the instrument type as configdb spells it.

    Field errors are collected together, as clients expect one answer listing every bad field; the rules
    that span fields are checked only once every field is valid, and the first broken one is reported.
    """
    choices = CodeChoices.of(observatory)
    field_rules: list[BusinessRule] = [
        CodeMustBeKnownToConfigdb("site", site, choices),
        CodeMustBeKnownToConfigdb("enclosure", enclosure, choices),
        CodeMustBeKnownToConfigdb("telescope", telescope, choices),
        CodeMustBeKnownToConfigdb("instrument_type", instrument_type, choices),
        ReasonMustFitLimit(reason),
    ]
    errors: dict[str, Any] = {}
    for rule in field_rules:
        if rule.is_broken():
            merge_errors(errors, {rule.field: [rule.message()]})
    if errors:
        raise ValidationError(errors)
    check_rule(EndMustFollowStart(start, end))
    check_rule(CombinationMustExistInConfigdb(site, enclosure, telescope, instrument_type, choices))
    return choices.spelling("instrument_type", instrument_type) or ""


@frozen
class DowntimeSlot:
    """What is down and when: the facts a consumer (the scheduler) needs to re-plan."""

    site: str
    enclosure: str
    telescope: str
    instrument_type: str
    start: datetime
    end: datetime


@frozen
class DowntimeScheduled:
    """A downtime was created.

    It names the slot rather than the id: the id is assigned by storage after the event is recorded, and
    re-planning needs only the telescope and the window.
    """

    slot: DowntimeSlot


@frozen
class DowntimeChanged:
    """A downtime was revised; both slots are affected (it may have moved to another telescope)."""

    downtime_id: int
    before: DowntimeSlot
    after: DowntimeSlot


@frozen
class DowntimeCancelled:
    """A downtime was deleted; its slot is free again."""

    downtime_id: int
    slot: DowntimeSlot


def _json_value(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


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

    @classmethod
    def schedule(
        cls,
        observatory: Observatory,
        *,
        start: datetime,
        end: datetime,
        site: str,
        enclosure: str,
        telescope: str,
        instrument_type: str = "",
        reason: str = "",
        now: datetime,
    ) -> Downtime:
        """A new downtime checked against this configdb snapshot; records DowntimeScheduled."""
        spelled = check_downtime(
            observatory,
            start=start,
            end=end,
            site=site,
            enclosure=enclosure,
            telescope=telescope,
            instrument_type=instrument_type,
            reason=reason,
        )
        downtime = cls(None, start, end, site, enclosure, telescope, spelled, reason, created=now, modified=now)
        downtime.events.append(DowntimeScheduled(downtime.slot()))
        return downtime

    def revise(self, observatory: Observatory, changes: Mapping[str, Any], *, now: datetime) -> dict[str, list[Any]]:
        """Apply new values for some of the data fields, checking the merged result as a whole.

        Returns ``{field: [old, new]}`` (JSON values) for the fields that really changed; records DowntimeChanged
        only when something did. Nothing changes when a rule is broken.
        """
        unknown = set(changes) - set(DATA_FIELDS)
        if unknown:
            raise ValueError(f"not data fields of a downtime: {sorted(unknown)}")
        merged = {name: changes.get(name, getattr(self, name)) for name in DATA_FIELDS}
        merged["instrument_type"] = check_downtime(observatory, **merged)
        before = self.slot()
        diff = {
            name: [_json_value(getattr(self, name)), _json_value(value)]
            for name, value in merged.items()
            if getattr(self, name) != value
        }
        if diff:
            for name, value in merged.items():
                setattr(self, name, value)
            self.modified = now
            assert self.id is not None  # noqa: S101 - only stored downtimes are revised
            self.events.append(DowntimeChanged(self.id, before, self.slot()))
        return diff

    def cancel(self) -> dict[str, list[Any]]:
        """Mark the downtime for deletion: records DowntimeCancelled; returns ``{field: [old, None]}``."""
        assert self.id is not None  # noqa: S101 - only stored downtimes are cancelled
        self.events.append(DowntimeCancelled(self.id, self.slot()))
        return {name: [_json_value(getattr(self, name)), None] for name in DATA_FIELDS}

    def slot(self) -> DowntimeSlot:
        """What this downtime blocks, and when."""
        return DowntimeSlot(self.site, self.enclosure, self.telescope, self.instrument_type, self.start, self.end)

    def as_json(self) -> dict[str, Any]:
        """The data fields as JSON values (datetimes in ISO 8601), for the change log."""
        return {name: _json_value(getattr(self, name)) for name in DATA_FIELDS}
