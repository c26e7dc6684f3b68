"""What the configuration database offers to requests: which instruments take requests where, and what each
instrument type has (modes, configuration types, optical elements, detector), read once per validation pass.
"""

from __future__ import annotations

from collections.abc import Mapping

import attrs
from attrs import field, frozen

from domain.observatory import (
    CameraType,
    ConfigurationTypeProperties,
    Enclosure,
    GenericMode,
    Instrument,
    InstrumentState,
    InstrumentType,
    Observatory,
    OpticalElement,
    Site,
    Telescope,
    telescope_class,
)

# ---------------------------------------------------------------------------------------------------------
# What configdb offers, read once per validation pass


@frozen
class PlacedInstrument:
    """An instrument with the nodes above it, for matching against a request's location."""

    instrument: Instrument
    telescope: Telescope
    enclosure: Enclosure
    site: Site

    @property
    def telescope_class(self) -> str:
        return telescope_class(self.telescope.aperture)

    @property
    def is_active(self) -> bool:
        return self.site.active and self.enclosure.active and self.telescope.active


@frozen
class ModeGroup:
    """One mode group of an instrument type with its modes in id order."""

    type: str
    default: str
    modes: tuple[GenericMode, ...]


@frozen
class InstrumentTypeCapabilities:
    """What one instrument type offers: modes, configuration types, optical elements and detector geometry."""

    instrument_type: InstrumentType
    mode_groups: Mapping[str, ModeGroup]
    configuration_types: Mapping[str, ConfigurationTypeProperties]
    optical_elements: Mapping[str, tuple[OpticalElement, ...]]  # plural group type -> elements
    camera_type: CameraType | None

    @property
    def code(self) -> str:
        return self.instrument_type.code


def is_offered(placed: PlacedInstrument, include_unschedulable: bool) -> bool:
    """Whether the instrument takes requests: SCHEDULABLE (or, for staff, any state but DISABLED) under active
    site, enclosure and telescope (observatory.md 1.5)."""
    state = placed.instrument.state
    if include_unschedulable:
        return placed.is_active and state is not InstrumentState.DISABLED
    return placed.is_active and state is InstrumentState.SCHEDULABLE


@attrs.define
class Catalogue:
    """Read-only lookups over one observatory snapshot; each is computed once per validation pass."""

    observatory: Observatory
    _placed: list[PlacedInstrument] | None = None
    _capabilities: dict[int, InstrumentTypeCapabilities] = field(factory=dict)

    def placed_instruments(self) -> list[PlacedInstrument]:
        """Every instrument with its telescope, enclosure and site, in canonical order."""
        if self._placed is None:
            obs = self.observatory
            self._placed = []
            for site in obs.sorted_sites():
                for enclosure in obs.enclosures_of(site.id):
                    for telescope in obs.telescopes_of(enclosure.id):
                        self._placed.extend(
                            PlacedInstrument(i, telescope, enclosure, site) for i in obs.instruments_of(telescope.id)
                        )
        return self._placed

    def offered_instruments(self, include_unschedulable: bool) -> list[PlacedInstrument]:
        return [p for p in self.placed_instruments() if is_offered(p, include_unschedulable)]

    def offered_type_codes(self, include_unschedulable: bool) -> list[str]:
        """Codes of the instrument types somebody may request, sorted."""
        types = self.observatory.instrument_types
        ids = {p.instrument.instrument_type_id for p in self.offered_instruments(include_unschedulable)}
        return sorted(types[i].code for i in ids if i in types)

    def offered_type(self, code: str, include_unschedulable: bool) -> InstrumentType | None:
        """The instrument type with this code (any case) if an offered instrument has it."""
        found = self.observatory.find_instrument_type(code)
        if found is None or found.code not in self.offered_type_codes(include_unschedulable):
            return None
        return found

    def capabilities(self, instrument_type: InstrumentType) -> InstrumentTypeCapabilities:
        if instrument_type.id not in self._capabilities:
            self._capabilities[instrument_type.id] = self._read_capabilities(instrument_type)
        return self._capabilities[instrument_type.id]

    def _read_capabilities(self, instrument_type: InstrumentType) -> InstrumentTypeCapabilities:
        obs = self.observatory
        groups = {
            group.type: ModeGroup(group.type, group.default, tuple(obs.modes_of(group.id)))
            for group in obs.mode_groups_of(instrument_type.id)
        }
        configuration_types = {row.configuration_type: row for row in obs.configuration_types_of(instrument_type.id)}
        # Optical elements and the detector come from the installed units of the type (any state but DISABLED).
        installed = [
            p.instrument
            for p in self.placed_instruments()
            if p.instrument.instrument_type_id == instrument_type.id
            and p.instrument.state is not InstrumentState.DISABLED
        ]
        elements: dict[str, dict[int, OpticalElement]] = {}
        for instrument in installed:
            for camera_id in instrument.science_camera_ids:
                camera = obs.cameras.get(camera_id)
                for group_id in camera.optical_element_group_ids if camera else ():
                    group = obs.optical_element_groups[group_id]
                    members = elements.setdefault(group.type, {})
                    for element_id in group.element_ids:
                        members.setdefault(element_id, obs.optical_elements[element_id])
        camera_type = None
        if installed and installed[0].science_camera_ids:
            camera = obs.cameras.get(installed[0].science_camera_ids[0])
            camera_type = obs.camera_types.get(camera.camera_type_id) if camera else None
        return InstrumentTypeCapabilities(
            instrument_type,
            groups,
            configuration_types,
            {kind: tuple(members.values()) for kind, members in elements.items()},
            camera_type,
        )
