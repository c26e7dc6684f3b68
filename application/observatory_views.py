"""Read side of configdb: the exact JSON shapes of observatory.md 2.3, the export, and availability history (2.6).

Shape builders are pure functions of an ``Observatory`` snapshot; parent links are absolute URLs made by the
``url_for(kind, id)`` callback the HTTP layer passes in. Fields the spec serves as JSON numbers with a decimal
point are Python floats here, and unset defaults are "" (never None).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

from application.ports import UnitOfWork
from domain.changes import ChangeAction, ChangeEntry
from domain.errors import NotFoundError
from domain.instrument_catalogue import Catalogue
from domain.observatory import (
    Camera,
    CameraType,
    ConfigurationTypeProperties,
    Enclosure,
    GenericMode,
    GenericModeGroup,
    Instrument,
    InstrumentState,
    InstrumentType,
    JsonDict,
    Observatory,
    OpticalElement,
    OpticalElementGroup,
    Site,
    Telescope,
)
from domain.observatory_document import export

UrlFor = Callable[[str, Any], str]


def site_view(obs: Observatory, site: Site, url_for: UrlFor) -> JsonDict:
    """A site with its nested enclosures, telescopes and instruments (the /sites/ contract)."""
    return {
        "id": site.id,
        "name": site.name,
        "code": site.code,
        "active": site.active,
        "timezone": site.timezone,
        "restart": site.restart,
        "tz": site.tz,
        "lat": float(site.lat),
        "long": float(site.long),
        "elevation": site.elevation,
        "enclosure_set": [enclosure_view(obs, e, url_for) for e in obs.enclosures_of(site.id)],
        "__str__": site.code,
    }


def enclosure_view(obs: Observatory, enclosure: Enclosure, url_for: UrlFor) -> JsonDict:
    """An enclosure with its nested telescopes."""
    return {
        "id": enclosure.id,
        "name": enclosure.name,
        "code": enclosure.code,
        "active": enclosure.active,
        "site": url_for("sites", enclosure.site_id),
        "telescope_set": [telescope_view(obs, t, url_for) for t in obs.telescopes_of(enclosure.id)],
        "__str__": obs.enclosure_path(enclosure),
    }


def telescope_view(obs: Observatory, telescope: Telescope, url_for: UrlFor) -> JsonDict:
    """A telescope with its nested instruments."""
    t = telescope
    return {
        "id": t.id,
        "serial_number": t.serial_number,
        "name": t.name,
        "code": t.code,
        "active": t.active,
        "aperture": float(t.aperture),
        "lat": float(t.lat),
        "slew_rate": float(t.slew_rate),
        "minimum_slew_overhead": float(t.minimum_slew_overhead),
        "instrument_change_overhead": float(t.instrument_change_overhead),
        "long": float(t.long),
        "enclosure": url_for("enclosures", t.enclosure_id),
        "horizon": float(t.horizon),
        "ha_limit_pos": float(t.ha_limit_pos),
        "ha_limit_neg": float(t.ha_limit_neg),
        "telescope_front_padding": float(t.telescope_front_padding),
        "zenith_blind_spot": float(t.zenith_blind_spot),
        "maximum_slew_overhead": float(t.maximum_slew_overhead),
        "instrument_set": [instrument_view(obs, i, url_for) for i in obs.instruments_of(t.id)],
        "__str__": obs.telescope_path(t),
    }


def instrument_view(obs: Observatory, instrument: Instrument, url_for: UrlFor) -> JsonDict:
    """An instrument with its cameras and instrument type in full."""
    return {
        "id": instrument.id,
        "code": instrument.code,
        "state": instrument.state.value,
        "telescope": url_for("telescopes", instrument.telescope_id),
        "autoguider_camera": camera_view(obs, obs.cameras[instrument.autoguider_camera_id]),
        "science_cameras": [camera_view(obs, obs.cameras[c]) for c in instrument.science_camera_ids],
        "instrument_type": instrument_type_view(obs, obs.instrument_types[instrument.instrument_type_id]),
        "__str__": obs.instrument_path(instrument),
    }


def camera_view(obs: Observatory, camera: Camera) -> JsonDict:
    """A camera with its type and optical element groups, and the derived type -> element codes map."""
    groups = [obs.optical_element_groups[g] for g in camera.optical_element_group_ids]
    return {
        "id": camera.id,
        "code": camera.code,
        "camera_type": camera_type_view(obs.camera_types[camera.camera_type_id]),
        "orientation": float(camera.orientation),
        "optical_elements": {
            g.type: ",".join(obs.optical_elements[e].code for e in g.element_ids if e in obs.optical_elements)
            for g in groups
        },
        "optical_element_groups": [optical_element_group_view(obs, g) for g in groups],
        "host": camera.host,
    }


def camera_type_view(camera_type: CameraType) -> JsonDict:
    """A camera type."""
    return {
        "id": camera_type.id,
        "size": camera_type.size,
        "pscale": float(camera_type.pscale),
        "name": camera_type.name,
        "code": camera_type.code,
        "pixels_x": camera_type.pixels_x,
        "pixels_y": camera_type.pixels_y,
        "max_rois": camera_type.max_rois,
    }


def optical_element_view(element: OpticalElement) -> JsonDict:
    """An optical element."""
    return {"id": element.id, "name": element.name, "code": element.code, "schedulable": element.schedulable}


def optical_element_group_view(obs: Observatory, group: OpticalElementGroup) -> JsonDict:
    """An optical element group with its elements in membership order."""
    return {
        "id": group.id,
        "name": group.name,
        "type": group.type,
        "optical_elements": [optical_element_view(obs.optical_elements[e]) for e in group.element_ids],
        "element_change_overhead": float(group.element_change_overhead),
        "default": group.default or "",
    }


def instrument_type_view(obs: Observatory, itype: InstrumentType) -> JsonDict:
    """An instrument type with its mode groups and configuration types."""
    return {
        "id": itype.id,
        "name": itype.name,
        "code": itype.code,
        "fixed_overhead_per_exposure": float(itype.fixed_overhead_per_exposure),
        "instrument_category": itype.instrument_category,
        "observation_front_padding": float(itype.observation_front_padding),
        "acquire_exposure_time": float(itype.acquire_exposure_time),
        "default_configuration_type": itype.default_configuration_type,
        "mode_types": [mode_group_view(obs, g) for g in obs.mode_groups_of(itype.id)],
        "default_acceptability_threshold": float(itype.default_acceptability_threshold),
        "config_front_padding": float(itype.config_front_padding),
        "allow_self_guiding": itype.allow_self_guiding,
        "configuration_types": [configuration_type_row_view(obs, r) for r in obs.configuration_types_of(itype.id)],
        "validation_schema": copy.deepcopy(itype.validation_schema),
    }


def mode_group_view(obs: Observatory, group: GenericModeGroup) -> JsonDict:
    """A generic mode group as nested in ``mode_types``."""
    return {
        "id": group.id,
        "type": group.type,
        "modes": [mode_view(m) for m in obs.modes_of(group.id)],
        "default": group.default or "",
    }


def mode_view(mode: GenericMode) -> JsonDict:
    """A generic mode."""
    return {
        "id": mode.id,
        "name": mode.name,
        "overhead": float(mode.overhead),
        "code": mode.code,
        "schedulable": mode.schedulable,
        "validation_schema": copy.deepcopy(mode.validation_schema),
    }


def configuration_type_row_view(obs: Observatory, row: ConfigurationTypeProperties) -> JsonDict:
    """A configuration type of an instrument type, as nested in ``configuration_types``."""
    configuration_type = obs.configuration_types.get(row.configuration_type)
    return {
        "name": configuration_type.name if configuration_type else "",
        "code": row.configuration_type,
        "config_change_overhead": float(row.config_change_overhead),
        "schedulable": row.schedulable,
        "force_acquisition_off": row.force_acquisition_off,
        "requires_optical_elements": row.requires_optical_elements,
        "validation_schema": copy.deepcopy(row.validation_schema),
    }


def configuration_type_properties_view(row: ConfigurationTypeProperties) -> JsonDict:
    """A row of the flat /configurationtypeproperties/ collection."""
    return {
        "id": row.id,
        "configuration_type": row.configuration_type,
        "instrument_type": row.instrument_type_id,
        "config_change_overhead": float(row.config_change_overhead),
        "schedulable": row.schedulable,
        "force_acquisition_off": row.force_acquisition_off,
        "requires_optical_elements": row.requires_optical_elements,
        "validation_schema": copy.deepcopy(row.validation_schema),
    }


def record_view(obs: Observatory, kind: str, key: Any, url_for: UrlFor) -> JsonDict:
    """The read shape of one record of a flat collection (and of its detail route); NotFoundError if absent."""
    record = obs.records[kind].get(key)
    if record is None:
        raise NotFoundError("Not found.")
    builders: dict[str, Callable[[Any], JsonDict]] = {
        "sites": lambda r: site_view(obs, r, url_for),
        "enclosures": lambda r: enclosure_view(obs, r, url_for),
        "telescopes": lambda r: telescope_view(obs, r, url_for),
        "instruments": lambda r: instrument_view(obs, r, url_for),
        "cameras": lambda r: camera_view(obs, r),
        "cameratypes": camera_type_view,
        "opticalelements": optical_element_view,
        "opticalelementgroups": lambda r: optical_element_group_view(obs, r),
        "instrumenttypes": lambda r: instrument_type_view(obs, r),
        # The flat route adds the owner, which the nested shape implies; clients ignore unknown keys.
        "genericmodegroups": lambda r: {**mode_group_view(obs, r), "instrument_type": r.instrument_type_id},
        "genericmodes": mode_view,
        "configurationtypeproperties": configuration_type_properties_view,
        "configurationtypes": lambda r: {"name": r.name, "code": r.code},
        "instrumentcategories": lambda r: {"code": r.code},
        "modetypes": lambda r: {"id": r.id},
    }
    return builders[kind](record)


def ordered_keys(obs: Observatory, kind: str) -> list[Any]:
    """The keys of a collection in serving order: canonical for the physical tree, else by key."""
    if kind == "sites":
        return [s.id for s in obs.sorted_sites()]
    if kind == "enclosures":
        return [e.id for s in obs.sorted_sites() for e in obs.enclosures_of(s.id)]
    if kind == "telescopes":
        return [t.id for t in obs.canonical_telescopes()]
    if kind == "instruments":
        return [i.id for i in obs.canonical_instruments()]
    return sorted(obs.records[kind])


def collection_view(obs: Observatory, kind: str, url_for: UrlFor) -> list[JsonDict]:
    """Every record of a collection in serving order (filtering and paging are the caller's)."""
    return [record_view(obs, kind, key, url_for) for key in ordered_keys(obs, kind)]


def sites_view(obs: Observatory, url_for: UrlFor) -> list[JsonDict]:
    """The whole nested tree, sites by code."""
    return collection_view(obs, "sites", url_for)


# --- Queries ------------------------------------------------------------------------------------------------------


def observatory_snapshot(uow: UnitOfWork) -> Observatory:
    """One consistent snapshot of the configuration for a read or a validation pass."""
    with uow:
        return uow.observatory.get()


def export_observatory(uow: UnitOfWork, name: str = "", description: str = "") -> JsonDict:
    """The whole configuration as an observatory document (section 6)."""
    return export(observatory_snapshot(uow), name=name, description=description)


# --- Availability history (2.6) ------------------------------------------------------------------------------------

Period = tuple[datetime, datetime | None]  # an open period has no end yet


def _periods(entries: Iterable[ChangeEntry], kind: str, entity_id: str, field: str, on_value: Any) -> list[Period]:
    """When a record's field had ``on_value``, from its change-log entries (creation records every field)."""
    periods: list[Period] = []
    since: datetime | None = None
    mine = sorted((e for e in entries if e.kind == kind and e.entity_id == entity_id), key=lambda e: e.time)
    for entry in mine:
        if entry.action == ChangeAction.DELETE:
            is_on = False
        elif field in entry.changes:
            is_on = entry.changes[field][1] == on_value
        else:
            continue
        if is_on and since is None:
            since = entry.time
        elif not is_on and since is not None:
            periods.append((since, entry.time))
            since = None
    if since is not None:
        periods.append((since, None))
    return periods


def instrument_schedulable_periods(entries: Iterable[ChangeEntry], instrument_id: int) -> list[Period]:
    """When the instrument's state was SCHEDULABLE, oldest first."""
    return _periods(entries, "instruments", str(instrument_id), "state", InstrumentState.SCHEDULABLE.value)


def telescope_active_periods(entries: Iterable[ChangeEntry], telescope_id: int) -> list[Period]:
    """When the telescope's own ``active`` flag was true, oldest first."""
    return _periods(entries, "telescopes", str(telescope_id), "active", True)


def telescope_available_periods(
    entries: Sequence[ChangeEntry], telescope_id: int, instrument_ids: Iterable[int], now: datetime
) -> list[Period]:
    """The union of the instruments' schedulable periods intersected with the telescope's active periods."""
    closed = [(s, e or now) for i in instrument_ids for s, e in instrument_schedulable_periods(entries, i)]
    union = _union(closed)
    active = [(s, e or now) for s, e in telescope_active_periods(entries, telescope_id)]
    result: list[Period] = []
    for start, end in union:
        for a_start, a_end in active:
            low, high = max(start, a_start), min(end, a_end)
            if low < high:
                result.append((low, high))
    return result


def _union(periods: Iterable[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    merged: list[tuple[datetime, datetime]] = []
    for start, end in sorted(periods):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def availability_intervals(periods: Iterable[Period], start: datetime, end: datetime, now: datetime) -> JsonDict:
    """The response body of 2.6: periods overlapping [start, end], whole and newest first; open ones end now."""
    closed = [(s, e or now) for s, e in periods]
    overlapping = [(s, e) for s, e in closed if s <= end and e >= start]
    overlapping.sort(key=lambda p: p[0], reverse=True)
    return {
        "availability_intervals": [
            {"start": s.strftime("%Y-%m-%dT%H:%M:%S"), "end": e.strftime("%Y-%m-%dT%H:%M:%S")} for s, e in overlapping
        ]
    }


def availability_history(
    uow: UnitOfWork,
    now: datetime,
    start: datetime,
    end: datetime,
    instrument_code: str | None = None,
    telescope: tuple[str, str, str] | None = None,
) -> JsonDict:
    """Availability of one instrument (by code) or one telescope (site, enclosure, telescope codes)."""
    with uow:
        obs = uow.observatory.get()
        if instrument_code is not None:
            instrument = obs.find_instrument(instrument_code)
            if instrument is None:
                raise NotFoundError(f"No instrument found with code {instrument_code}")
            entries = uow.changes.search(kind="instruments", entity_id=str(instrument.id))
            return availability_intervals(instrument_schedulable_periods(entries, instrument.id), start, end, now)
        if telescope is None:
            raise ValueError("give an instrument code or a telescope")
        found = obs.find_telescope(*telescope)
        if found is None:
            raise NotFoundError(f"No telescope found with code {'.'.join(telescope)}")
        instrument_ids = [i.id for i in obs.instruments_of(found.id)]
        entries = [
            *uow.changes.search(kind="telescopes", entity_id=str(found.id)),
            *[e for i in instrument_ids for e in uow.changes.search(kind="instruments", entity_id=str(i))],
        ]
        periods = telescope_available_periods(entries, found.id, instrument_ids, now)
        return availability_intervals(periods, start, end, now)


def schedulable_instrument_types(obs: Observatory) -> list[str]:
    """Codes of the instrument types the network offers, sorted: at least one SCHEDULABLE instrument on a
    telescope whose site, enclosure and telescope are all active (observatory.md 1.5)."""
    return Catalogue(obs).offered_type_codes(include_unschedulable=False)
