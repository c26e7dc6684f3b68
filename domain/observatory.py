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
from typing import Any

from attrs import define, field, frozen

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
