"""The configuration database: the observatory's structure from site down to instrument modes.

The whole configuration is one aggregate, ``Observatory``: its invariants (unique codes per parent, defaults
that are members, nothing deleted while referenced) span the tree, and every write is checked against the
whole resulting tree. It is small (hundreds of records), so it is loaded and saved as a unit.

Records are frozen: a change replaces a record with an evolved copy, which makes snapshots, diffs and
copy-on-commit cheap and exact. Links between records are ids (or codes for the catalogue kinds that upstream
keys by code), never object references.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any

from attrs import define, field, frozen

from domain.errors import ValidationError

JsonDict = dict[str, Any]


class InstrumentState(enum.StrEnum):
    """Life-cycle state of an instrument (observatory.md 1.5)."""

    DISABLED = "DISABLED"
    MANUAL = "MANUAL"
    COMMISSIONING = "COMMISSIONING"
    STANDBY = "STANDBY"
    SCHEDULABLE = "SCHEDULABLE"


class AutoguiderType(enum.StrEnum):
    """How an instrument guides; informational."""

    IN_CAMERA = "InCamera"
    OFF_AXIS = "OffAxis"
    SELF_GUIDE = "SelfGuide"


SEEDED_MODE_TYPES = ("readout", "acquisition", "guiding", "exposure", "rotator")


@frozen
class Site:
    id: int
    code: str
    lat: float
    long: float
    elevation: int
    timezone: int
    name: str = ""
    active: bool = True
    tz: str = "Etc/UTC"
    restart: str = "00:00:00"


@frozen
class Enclosure:
    id: int
    site_id: int
    code: str
    name: str = ""
    active: bool = True


@frozen
class Telescope:
    id: int
    enclosure_id: int
    code: str
    aperture: float
    lat: float
    long: float
    horizon: float
    ha_limit_neg: float
    ha_limit_pos: float
    name: str = ""
    serial_number: str = ""
    active: bool = True
    zenith_blind_spot: float = 0.0
    slew_rate: float = 0.0
    minimum_slew_overhead: float = 0.0
    maximum_slew_overhead: float = 0.0
    instrument_change_overhead: float = 0.0
    telescope_front_padding: float = 90.0


@frozen
class CameraType:
    id: int
    code: str
    name: str
    pscale: float
    size: str = ""
    pixels_x: int = 0
    pixels_y: int = 0
    max_rois: int = 0


@frozen
class OpticalElement:
    id: int
    code: str
    name: str
    schedulable: bool = True


@frozen
class OpticalElementGroup:
    id: int
    name: str
    type: str
    element_ids: tuple[int, ...] = field(default=(), converter=tuple)
    default: str = ""
    element_change_overhead: float = 0.0


@frozen
class Camera:
    id: int
    code: str
    camera_type_id: int
    orientation: float = 0.0
    host: str = ""
    optical_element_group_ids: tuple[int, ...] = field(default=(), converter=tuple)


@frozen
class ConfigurationType:
    code: str
    name: str = ""


@frozen
class InstrumentCategory:
    code: str


@frozen
class ModeType:
    id: str


@frozen
class InstrumentType:
    id: int
    code: str
    name: str
    instrument_category: str
    default_configuration_type: str
    fixed_overhead_per_exposure: float = 1.0
    observation_front_padding: float = 90.0
    config_front_padding: float = 0.0
    acquire_exposure_time: float = 0.0
    default_acceptability_threshold: float = 90.0
    allow_self_guiding: bool = True
    validation_schema: JsonDict = field(factory=dict)


@frozen
class ConfigurationTypeProperties:
    id: int
    instrument_type_id: int
    configuration_type: str
    config_change_overhead: float = 0.0
    schedulable: bool = True
    force_acquisition_off: bool = False
    requires_optical_elements: bool = True
    validation_schema: JsonDict = field(factory=dict)


@frozen
class GenericModeGroup:
    id: int
    instrument_type_id: int
    type: str
    default: str = ""


@frozen
class GenericMode:
    id: int
    group_id: int
    code: str
    name: str = ""
    overhead: float = 0.0
    schedulable: bool = True
    validation_schema: JsonDict = field(factory=dict)


@frozen
class Instrument:
    id: int
    telescope_id: int
    code: str
    instrument_type_id: int
    science_camera_ids: tuple[int, ...] = field(converter=tuple)
    autoguider_camera_id: int
    state: InstrumentState = field(default=InstrumentState.DISABLED, converter=InstrumentState)
    autoguider_type: AutoguiderType = field(default=AutoguiderType.OFF_AXIS, converter=AutoguiderType)


Record = (
    Site
    | Enclosure
    | Telescope
    | CameraType
    | OpticalElement
    | OpticalElementGroup
    | Camera
    | ConfigurationType
    | InstrumentCategory
    | ModeType
    | InstrumentType
    | ConfigurationTypeProperties
    | GenericModeGroup
    | GenericMode
    | Instrument
)


@frozen
class Kind:
    """One kind of record in the aggregate: its name (as in the API routes), class and key attribute."""

    name: str
    record_class: type[Any]
    key: str = "id"


# Dependency order: a record only refers to kinds listed before it. Storage writes in this order and
# deletes in the reverse one; the import file lists its catalogue in the same order.
KINDS: tuple[Kind, ...] = (
    Kind("modetypes", ModeType),
    Kind("instrumentcategories", InstrumentCategory, key="code"),
    Kind("configurationtypes", ConfigurationType, key="code"),
    Kind("opticalelements", OpticalElement),
    Kind("opticalelementgroups", OpticalElementGroup),
    Kind("cameratypes", CameraType),
    Kind("cameras", Camera),
    Kind("instrumenttypes", InstrumentType),
    Kind("configurationtypeproperties", ConfigurationTypeProperties),
    Kind("genericmodegroups", GenericModeGroup),
    Kind("genericmodes", GenericMode),
    Kind("sites", Site),
    Kind("enclosures", Enclosure),
    Kind("telescopes", Telescope),
    Kind("instruments", Instrument),
)
KINDS_BY_NAME = {kind.name: kind for kind in KINDS}

# Every link between records: kind -> field -> the kind it points at. A tuple field holds several links.
REFERENCES: dict[str, dict[str, str]] = {
    "opticalelementgroups": {"element_ids": "opticalelements"},
    "cameras": {"camera_type_id": "cameratypes", "optical_element_group_ids": "opticalelementgroups"},
    "instrumenttypes": {
        "instrument_category": "instrumentcategories",
        "default_configuration_type": "configurationtypes",
    },
    "configurationtypeproperties": {
        "instrument_type_id": "instrumenttypes",
        "configuration_type": "configurationtypes",
    },
    "genericmodegroups": {"instrument_type_id": "instrumenttypes", "type": "modetypes"},
    "genericmodes": {"group_id": "genericmodegroups"},
    "enclosures": {"site_id": "sites"},
    "telescopes": {"enclosure_id": "enclosures"},
    "instruments": {
        "telescope_id": "telescopes",
        "instrument_type_id": "instrumenttypes",
        "science_camera_ids": "cameras",
        "autoguider_camera_id": "cameras",
    },
}


@define(slots=False, eq=False)
class Observatory:
    """The whole configuration: one dictionary of records per kind, keyed by the kind's key.

    ``version`` counts committed changes; storage refuses to save over a newer version than the one loaded,
    so two writers never silently overwrite each other.
    """

    version: int = 0
    records: dict[str, dict[Any, Any]] = field(factory=lambda: {kind.name: {} for kind in KINDS})
    events: list[object] = field(factory=list, init=False)

    def copy(self) -> Observatory:
        """An independent copy (records are immutable, so copying the dictionaries suffices)."""
        return Observatory(self.version, {name: dict(table) for name, table in self.records.items()})

    def table(self, kind: str) -> dict[Any, Any]:
        """The records of one kind, keyed by that kind's key."""
        return self.records[kind]

    @property
    def sites(self) -> dict[int, Site]:
        return self.records["sites"]

    @property
    def enclosures(self) -> dict[int, Enclosure]:
        return self.records["enclosures"]

    @property
    def telescopes(self) -> dict[int, Telescope]:
        return self.records["telescopes"]

    @property
    def instruments(self) -> dict[int, Instrument]:
        return self.records["instruments"]

    @property
    def cameras(self) -> dict[int, Camera]:
        return self.records["cameras"]

    @property
    def camera_types(self) -> dict[int, CameraType]:
        return self.records["cameratypes"]

    @property
    def optical_elements(self) -> dict[int, OpticalElement]:
        return self.records["opticalelements"]

    @property
    def optical_element_groups(self) -> dict[int, OpticalElementGroup]:
        return self.records["opticalelementgroups"]

    @property
    def configuration_types(self) -> dict[str, ConfigurationType]:
        return self.records["configurationtypes"]

    @property
    def instrument_categories(self) -> dict[str, InstrumentCategory]:
        return self.records["instrumentcategories"]

    @property
    def mode_types(self) -> dict[str, ModeType]:
        return self.records["modetypes"]

    @property
    def instrument_types(self) -> dict[int, InstrumentType]:
        return self.records["instrumenttypes"]

    @property
    def configuration_type_properties(self) -> dict[int, ConfigurationTypeProperties]:
        return self.records["configurationtypeproperties"]

    @property
    def mode_groups(self) -> dict[int, GenericModeGroup]:
        return self.records["genericmodegroups"]

    @property
    def modes(self) -> dict[int, GenericMode]:
        return self.records["genericmodes"]

    # --- Reads in canonical order (observatory.md 1.2) -------------------------------------------------------

    def sorted_sites(self) -> list[Site]:
        """Every site, by code."""
        return sorted(self.sites.values(), key=lambda s: s.code)

    def enclosures_of(self, site_id: int) -> list[Enclosure]:
        """The site's enclosures, by code."""
        return sorted((e for e in self.enclosures.values() if e.site_id == site_id), key=lambda e: e.code)

    def telescopes_of(self, enclosure_id: int) -> list[Telescope]:
        """The enclosure's telescopes, by code."""
        return sorted((t for t in self.telescopes.values() if t.enclosure_id == enclosure_id), key=lambda t: t.code)

    def instruments_of(self, telescope_id: int) -> list[Instrument]:
        """The telescope's instruments, by code."""
        return sorted((i for i in self.instruments.values() if i.telescope_id == telescope_id), key=lambda i: i.code)

    def canonical_telescopes(self) -> list[Telescope]:
        """Every telescope in canonical order: site code, enclosure code, telescope code."""
        return [t for s in self.sorted_sites() for e in self.enclosures_of(s.id) for t in self.telescopes_of(e.id)]

    def canonical_instruments(self) -> list[Instrument]:
        """Every instrument in canonical order."""
        return [i for t in self.canonical_telescopes() for i in self.instruments_of(t.id)]

    def configuration_types_of(self, instrument_type_id: int) -> list[ConfigurationTypeProperties]:
        """The instrument type's configuration type rows, in id order."""
        rows = self.configuration_type_properties.values()
        return sorted((r for r in rows if r.instrument_type_id == instrument_type_id), key=lambda r: r.id)

    def mode_groups_of(self, instrument_type_id: int) -> list[GenericModeGroup]:
        """The instrument type's mode groups, in id order."""
        groups = self.mode_groups.values()
        return sorted((g for g in groups if g.instrument_type_id == instrument_type_id), key=lambda g: g.id)

    def modes_of(self, group_id: int) -> list[GenericMode]:
        """The group's modes, in id order."""
        return sorted((m for m in self.modes.values() if m.group_id == group_id), key=lambda m: m.id)

    # --- Names and lookups by code -----------------------------------------------------------------------------

    def enclosure_path(self, enclosure: Enclosure) -> str:
        """``ogg.clma``; unknown parents show as '?' so a broken tree can still be described."""
        site = self.sites.get(enclosure.site_id)
        return f"{site.code if site else '?'}.{enclosure.code}"

    def telescope_path(self, telescope: Telescope) -> str:
        """``ogg.clma.2m0a``."""
        enclosure = self.enclosures.get(telescope.enclosure_id)
        return f"{self.enclosure_path(enclosure) if enclosure else '?.?'}.{telescope.code}"

    def instrument_path(self, instrument: Instrument) -> str:
        """``ogg.clma.2m0a.floyds01``."""
        telescope = self.telescopes.get(instrument.telescope_id)
        return f"{self.telescope_path(telescope) if telescope else '?.?.?'}.{instrument.code}"

    def find_site(self, code: str) -> Site | None:
        """The site with this code (exact), or None."""
        return next((s for s in self.sites.values() if s.code == code), None)

    def find_enclosure(self, site_code: str, enclosure_code: str) -> Enclosure | None:
        """The enclosure with these codes (exact), or None."""
        site = self.find_site(site_code)
        if site is None:
            return None
        return next((e for e in self.enclosures.values() if e.site_id == site.id and e.code == enclosure_code), None)

    def find_telescope(self, site_code: str, enclosure_code: str, telescope_code: str) -> Telescope | None:
        """The telescope with this site/enclosure/telescope triple (exact codes), or None."""
        enclosure = self.find_enclosure(site_code, enclosure_code)
        if enclosure is None:
            return None
        found = (t for t in self.telescopes.values() if t.enclosure_id == enclosure.id and t.code == telescope_code)
        return next(found, None)

    def find_instrument(self, code: str) -> Instrument | None:
        """The instrument with this code (exact; codes are network-unique), or None."""
        return next((i for i in self.instruments.values() if i.code == code), None)

    def find_instrument_type(self, code: str) -> InstrumentType | None:
        """The instrument type with this code compared case-insensitively (clients send old spellings), or None."""
        wanted = code.casefold()
        return next((t for t in self.instrument_types.values() if t.code.casefold() == wanted), None)

    def find_camera(self, code: str) -> Camera | None:
        """The camera with this code, or None."""
        return next((c for c in self.cameras.values() if c.code == code), None)

    def first_telescope_hosting(self, instrument_type_id: int) -> Telescope | None:
        """The first telescope in canonical order with an instrument of this type, in any state (1.6)."""
        for telescope in self.canonical_telescopes():
            if any(i.instrument_type_id == instrument_type_id for i in self.instruments_of(telescope.id)):
                return telescope
        return None

    def instrument_type_codes_on(self, telescope_id: int) -> set[str]:
        """Codes of the instrument types carried by the telescope's instruments, whatever their state."""
        types = self.instrument_types
        return {
            types[i.instrument_type_id].code
            for i in self.instruments.values()
            if i.telescope_id == telescope_id and i.instrument_type_id in types
        }

    # --- Writes: every verb checks the whole resulting tree and changes nothing when it refuses -------------

    def create(self, kind: str, values: Mapping[str, Any]) -> Any:
        """Add a record of a kind from domain field values (plus the composite fields of 2.5); return it."""
        from domain.observatory_writes import create

        return create(self, kind, values)

    def update(self, kind: str, key: Any, values: Mapping[str, Any], partial: bool = True) -> Any:
        """Change a record (PATCH when partial, else PUT: omitted optional fields fall back to defaults)."""
        from domain.observatory_writes import update

        return update(self, kind, key, values, partial)

    def delete(self, kind: str, key: Any) -> None:
        """Remove a record; ConflictError while children or references remain, NotFoundError if missing."""
        from domain.observatory_writes import delete

        delete(self, kind, key)

    def set_instrument_state(self, instrument_id: int, state: str) -> Instrument:
        """Move an instrument to another life-cycle state (1.5)."""
        result: Instrument = self.update("instruments", instrument_id, {"state": state})
        return result

    def replace_records(self, records: dict[str, dict[Any, Any]]) -> None:
        """Swap in a whole new set of records after checking them; used by verbs and the importer."""
        candidate = Observatory(self.version, records)
        candidate.check()
        self.records = records

    def check(self) -> None:
        """Raise a ValidationError naming every broken invariant of 1.4, keyed by kind, then record key."""
        from domain.observatory_rules import problems, problems_by_record

        found = problems(self)
        if found:
            raise ValidationError(problems_by_record(found))


def telescope_class(aperture_m: float) -> str:
    """The telescope class of an aperture: whole metres, 'm', first decimal rounded (2.124 -> '2m1')."""
    tenths = round(aperture_m * 10 + 1e-9)
    return f"{tenths // 10}m{tenths % 10}"


@frozen
class RecordChange:
    """One record that differs between two snapshots; ``before`` is None when created, ``after`` when deleted."""

    kind: str
    key: Any
    before: Any
    after: Any


def diff(before: Observatory, after: Observatory) -> list[RecordChange]:
    """Every record created, changed or deleted between two snapshots, kind by kind in ``KINDS`` order.

    Storage with foreign keys applies the deletions in reverse order and the rest in this order."""
    changes: list[RecordChange] = []
    for kind in KINDS:
        old, new = before.records[kind.name], after.records[kind.name]
        for key, record in new.items():
            previous = old.get(key)
            if previous != record:
                changes.append(RecordChange(kind.name, key, previous, record))
        changes.extend(RecordChange(kind.name, key, record, None) for key, record in old.items() if key not in new)
    return changes
