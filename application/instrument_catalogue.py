"""The portal's instrument catalogue (``GET /api/instruments/``, api.md 4.4 and 5.6): what can be requested.

Clients build their forms from it (the TOM Toolkit's instrument, filter, readout and configuration-type choices and
the request's ``location.telescope_class``), so it describes instrument *types* as users see them: only the types
with an instrument offered at the chosen location, the optical elements of those instruments' science cameras, and
the type's modes, configuration types and camera geometry.

The nested mode, element and configuration-type objects are configdb's own read shapes (observatory_views), as
upstream's portal passes configdb's dictionaries through; they therefore also carry configdb's ``id``.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Iterable, Iterator

from application.observatory_views import (
    configuration_type_row_view,
    mode_group_view,
    optical_element_view,
)
from domain.instrument_catalogue import Catalogue
from domain.observatory import (
    CameraType,
    Instrument,
    InstrumentType,
    JsonDict,
    Observatory,
    Telescope,
)
from domain.observatory import telescope_class as class_of_aperture  # the filter parameter takes the plain name

Codes = str | Iterable[str] | None


def instrument_catalogue(
    observatory: Observatory,
    *,
    staff: bool,
    only_schedulable: bool = False,
    instrument_type: Codes = None,
    site: Codes = None,
    enclosure: Codes = None,
    telescope_class: Codes = None,
    telescope: Codes = None,
) -> dict[str, JsonDict]:
    """The catalogue keyed by instrument type code, in code order.

    Non-staff callers always get the schedulable view: types with a SCHEDULABLE instrument on an active site,
    enclosure and telescope, and only schedulable optical elements and modes. Staff get every instrument that is
    not DISABLED (still only where site, enclosure and telescope are active) and every element and mode, unless
    they ask for ``only_schedulable``, which shows them exactly what a non-staff user sees.

    Each filter takes one code or several (several mean OR, api.md rule 8); an empty filter is no filter. Instrument
    types and telescope classes match case-insensitively, site, enclosure and telescope codes exactly
    (observatory.md 1.2). A value nothing matches gives an empty catalogue, not an error.
    """
    schedulable_only = only_schedulable or not staff
    wanted_types = {code.casefold() for code in _codes(instrument_type)}
    wanted_sites = set(_codes(site))
    wanted_enclosures = set(_codes(enclosure))
    wanted_classes = {code.casefold() for code in _codes(telescope_class)}
    wanted_telescopes = set(_codes(telescope))

    hosts: dict[int, list[tuple[Instrument, Telescope]]] = {}
    for site_code, enclosure_code, host, instrument in _offered_instruments(observatory, schedulable_only):
        itype = observatory.instrument_types.get(instrument.instrument_type_id)
        if itype is None:
            continue
        if (
            (wanted_types and itype.code.casefold() not in wanted_types)
            or (wanted_sites and site_code not in wanted_sites)
            or (wanted_enclosures and enclosure_code not in wanted_enclosures)
            or (wanted_telescopes and host.code not in wanted_telescopes)
            or (wanted_classes and class_of_aperture(host.aperture).casefold() not in wanted_classes)
        ):
            continue
        hosts.setdefault(itype.id, []).append((instrument, host))

    types = sorted((observatory.instrument_types[type_id] for type_id in hosts), key=lambda t: t.code)
    return {itype.code: _entry(observatory, itype, hosts[itype.id], schedulable_only) for itype in types}


def _codes(value: Codes) -> tuple[str, ...]:
    # A bare string is one code, not a sequence of one-letter codes.
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,) if value else ()
    return tuple(code for code in value if code)


def _offered_instruments(obs: Observatory, schedulable_only: bool) -> Iterator[tuple[str, str, Telescope, Instrument]]:
    """Instruments that may be offered (domain.instrument_catalogue: the rule validation uses), in canonical
    order, with their site and enclosure codes and telescope; every non-DISABLED one for staff who did not ask
    for schedulable ones."""
    for placed in Catalogue(obs).offered_instruments(include_unschedulable=not schedulable_only):
        yield placed.site.code, placed.enclosure.code, placed.telescope, placed.instrument


def _entry(
    obs: Observatory, itype: InstrumentType, hosts: list[tuple[Instrument, Telescope]], schedulable_only: bool
) -> JsonDict:
    instruments = [instrument for instrument, _ in hosts]
    _, first_host = hosts[0]
    return {
        "type": itype.instrument_category,
        # The class of the first telescope (canonical order) hosting an instrument listed here; from its aperture.
        "class": class_of_aperture(first_host.aperture),
        "name": itype.name,
        "optical_elements": _optical_elements(obs, instruments, schedulable_only),
        "modes": _modes(obs, itype, schedulable_only),
        "default_acceptability_threshold": float(itype.default_acceptability_threshold),
        # Every configuration type, flagged: the TOM Toolkit offers only those marked schedulable itself.
        "configuration_types": {
            row.configuration_type: configuration_type_row_view(obs, row)
            for row in obs.configuration_types_of(itype.id)
        },
        "default_configuration_type": itype.default_configuration_type,
        "validation_schema": copy.deepcopy(itype.validation_schema),
        "camera_type": _camera_type(obs, instruments),
    }


def _optical_elements(obs: Observatory, instruments: list[Instrument], schedulable_only: bool) -> JsonDict:
    """Group type -> elements of the instruments' science cameras, each code once per group type.

    Elements keep the order in which they are first met (instruments in canonical order, cameras and groups in
    their own order); ``default`` comes from the group where the element was first met, as upstream."""
    found: dict[str, list[JsonDict]] = {}
    seen: dict[str, set[str]] = {}
    for instrument in instruments:
        for camera_id in instrument.science_camera_ids:
            for group_id in obs.cameras[camera_id].optical_element_group_ids:
                group = obs.optical_element_groups[group_id]
                elements = found.setdefault(group.type, [])
                codes = seen.setdefault(group.type, set())
                for element_id in group.element_ids:
                    element = obs.optical_elements[element_id]
                    if element.code in codes or (schedulable_only and not element.schedulable):
                        continue
                    codes.add(element.code)
                    elements.append({**optical_element_view(element), "default": element.code == group.default})
    return found


def _modes(obs: Observatory, itype: InstrumentType, schedulable_only: bool) -> JsonDict:
    """Mode type -> the type's mode group, without its non-schedulable modes for the schedulable view."""
    groups: JsonDict = {}
    for group in obs.mode_groups_of(itype.id):
        view = mode_group_view(obs, group)
        if schedulable_only:
            view["modes"] = [mode for mode in view["modes"] if mode["schedulable"]]
        groups[group.type] = view
    return groups


def _camera_type(obs: Observatory, instruments: list[Instrument]) -> JsonDict:
    """Geometry of the first listed instrument's cameras (every unit of a type is assumed alike, observatory.md
    1.1); the orientation is the mean over every listed science camera."""
    first = instruments[0]
    science = obs.camera_types[obs.cameras[first.science_camera_ids[0]].camera_type_id]
    guider = obs.camera_types[obs.cameras[first.autoguider_camera_id].camera_type_id]
    orientations = [obs.cameras[c].orientation for instrument in instruments for c in instrument.science_camera_ids]
    return {
        "science_field_of_view": field_of_view_arcmin(science),
        "autoguider_field_of_view": field_of_view_arcmin(guider),
        "pixel_scale": float(science.pscale),
        "pixels_x": science.pixels_x,
        "pixels_y": science.pixels_y,
        "orientation": mean_angle_deg(orientations),
    }


def field_of_view_arcmin(camera_type: CameraType) -> float:
    """The detector's side in arcminutes, pixels x pixel scale / 60, along its longer axis (api.md 5.6).

    Rounded to 4 decimals (well under an arcsecond) so that float noise such as 14.080000000000002 is not served."""
    return round(max(camera_type.pixels_x, camera_type.pixels_y) * camera_type.pscale / 60.0, 4)


def mean_angle_deg(angles_deg: list[float]) -> float:
    """The circular mean in [0, 360): detectors mounted at 359.8 and 0.2 degrees average to 0, not 180."""
    if not angles_deg:
        return 0.0
    x = sum(math.cos(math.radians(a)) for a in angles_deg)
    y = sum(math.sin(math.radians(a)) for a in angles_deg)
    # Rounded so that identical angles come back as given (45.0, not 45.00000000000001).
    mean = round(math.degrees(math.atan2(y, x)) % 360.0, 6)
    return 0.0 if mean == 360.0 else mean
