"""The invariants of the observatory configuration (observatory.md 1.2-1.4), checked over the whole tree.

``problems`` lists every broken rule as a ``Problem`` tied to one record and one field; the write verbs turn the
problems of the record being written into field errors, and the importer turns them into JSON paths. Messages
for single-field ranges use the wording OCS clients know from Django REST Framework (2.8).
"""

from __future__ import annotations

import enum
import re
import zoneinfo
from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable, Mapping
from functools import cache
from typing import Any

import attrs
from attrs import frozen

from domain.errors import NON_FIELD, ErrorTree, merge_errors
from domain.observatory import (
    KINDS,
    KINDS_BY_NAME,
    REFERENCES,
    AutoguiderType,
    InstrumentState,
    Observatory,
)
from domain.validation_schema import check_schema


@frozen
class Problem:
    """One broken rule on one record; ``field`` is a domain field name or ``non_field_errors``.

    ``rule`` tags dangling references ("exists"), which the importer reports by code instead."""

    kind: str
    key: Any
    field: str
    message: str
    rule: str = ""


# --- Field types, shared with the importer ----------------------------------------------------------------------

_TYPE_NAMES = {
    "int": "int",
    "float": "float",
    "str": "str",
    "bool": "bool",
    "JsonDict": "dict",
    "tuple[int, ...]": "ids",
    "InstrumentState": "state",
    "AutoguiderType": "autoguider",
}
_CHOICES: dict[str, type[enum.StrEnum]] = {"state": InstrumentState, "autoguider": AutoguiderType}


@cache
def field_types(kind: str) -> dict[str, str]:
    """Each field of a kind's records and its value type: int, float, str, bool, dict, ids, state, autoguider."""
    record_class = KINDS_BY_NAME[kind].record_class
    return {a.name: _TYPE_NAMES[str(a.type)] for a in attrs.fields(record_class)}


@cache
def required_fields(kind: str) -> tuple[str, ...]:
    """The fields of a kind that have no default (the key included)."""
    record_class = KINDS_BY_NAME[kind].record_class
    return tuple(a.name for a in attrs.fields(record_class) if a.default is attrs.NOTHING)


def coerce(field_type: str, value: Any) -> tuple[Any, str]:
    """The value as the record stores it, or the DRF-style message saying why it has the wrong type."""
    if field_type == "float":
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value), ""
        return value, "A valid number is required."
    if field_type == "int":
        if isinstance(value, int) and not isinstance(value, bool):
            return value, ""
        return value, "A valid integer is required."
    if field_type == "str":
        return (value, "") if isinstance(value, str) else (value, "Not a valid string.")
    if field_type == "bool":
        return (value, "") if isinstance(value, bool) else (value, "Must be a valid boolean.")
    if field_type == "dict":
        return (dict(value), "") if isinstance(value, Mapping) else (value, "Expected a dictionary of items.")
    if field_type == "ids":
        if isinstance(value, list | tuple) and all(isinstance(v, int) and not isinstance(v, bool) for v in value):
            return tuple(value), ""
        return value, "Expected a list of ids."
    choices = _CHOICES[field_type]
    try:
        return choices(value), ""
    except ValueError:
        return value, f'"{value}" is not a valid choice.'


# --- Single-field rules ------------------------------------------------------------------------------------------

_AT_LEAST_ZERO = (0.0, None)
# kind -> field -> (minimum, maximum), inclusive; None leaves that side open.
RANGES: dict[str, dict[str, tuple[float | None, float | None]]] = {
    "sites": {"lat": (-90, 90), "long": (-180, 180), "elevation": (-500, 10000), "timezone": (-12, 14)},
    "telescopes": {
        "lat": (-90, 90),
        "long": (-180, 180),
        "horizon": (0, 90),
        "ha_limit_neg": (-12, 0),
        "ha_limit_pos": (0, 12),
        "zenith_blind_spot": (0, 90),
        "slew_rate": _AT_LEAST_ZERO,
        "minimum_slew_overhead": _AT_LEAST_ZERO,
        "maximum_slew_overhead": _AT_LEAST_ZERO,
        "instrument_change_overhead": _AT_LEAST_ZERO,
        "telescope_front_padding": _AT_LEAST_ZERO,
    },
    "cameratypes": {"pixels_x": _AT_LEAST_ZERO, "pixels_y": _AT_LEAST_ZERO, "max_rois": _AT_LEAST_ZERO},
    "opticalelementgroups": {"element_change_overhead": _AT_LEAST_ZERO},
    "cameras": {"orientation": (0, 360)},
    "instrumenttypes": {
        "fixed_overhead_per_exposure": _AT_LEAST_ZERO,
        "observation_front_padding": _AT_LEAST_ZERO,
        "config_front_padding": _AT_LEAST_ZERO,
        "acquire_exposure_time": _AT_LEAST_ZERO,
        "default_acceptability_threshold": (0, 100),
    },
    "configurationtypeproperties": {"config_change_overhead": _AT_LEAST_ZERO},
    "genericmodes": {"overhead": _AT_LEAST_ZERO},
}
POSITIVE: dict[str, tuple[str, ...]] = {"telescopes": ("aperture",), "cameratypes": ("pscale",)}
MAX_LENGTHS: dict[str, dict[str, int]] = {"sites": {"name": 200}, "telescopes": {"serial_number": 50}}

_LOWER_CODE = 'lower-case letters, digits, "-" or "_"'
_UPPER_CODE = 'upper-case letters, digits, "-" or "_"'
# kind -> (key field, full-match pattern, what the message says the code must be)
CODE_FORMATS: dict[str, tuple[str, str, str]] = {
    "sites": ("code", r"[a-z0-9]{3}", "Site code must be 3 lower-case letters or digits"),
    "enclosures": ("code", r"[a-z0-9]{1,4}", "Enclosure code must be 1 to 4 lower-case letters or digits"),
    "telescopes": ("code", r"[a-z0-9]{1,4}", "Telescope code must be 1 to 4 lower-case letters or digits"),
    "instruments": ("code", r"[a-z0-9_-]{1,64}", f"Instrument code must be 1 to 64 {_LOWER_CODE}"),
    "cameras": ("code", r"[a-z0-9_-]{1,64}", f"Camera code must be 1 to 64 {_LOWER_CODE}"),
    "instrumenttypes": ("code", r"[A-Z0-9_-]+", f"Instrument type code must be {_UPPER_CODE}"),
    "cameratypes": ("code", r"[A-Z0-9_-]+", f"Camera type code must be {_UPPER_CODE}"),
    "configurationtypes": ("code", r"[A-Z0-9_-]+", f"Configuration type code must be {_UPPER_CODE}"),
}
# Names and codes with no format beyond "not blank".
NOT_BLANK: dict[str, tuple[str, ...]] = {
    "opticalelements": ("code", "name"),
    "opticalelementgroups": ("name", "type"),
    "cameratypes": ("name",),
    "instrumenttypes": ("name",),
    "instrumentcategories": ("code",),
    "modetypes": ("id",),
    "genericmodes": ("code",),
}
SCHEMA_OWNERS = ("instrumenttypes", "configurationtypeproperties", "genericmodes")


def _number(value: float) -> str:
    """90.0 -> '90', 0.5 -> '0.5', as DRF prints its limits."""
    return str(int(value)) if float(value).is_integer() else str(value)


@cache
def _known_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def _field_problems(kind: str, key: Any, record: Any) -> Iterable[Problem]:
    for name, (low, high) in RANGES.get(kind, {}).items():
        value = getattr(record, name)
        if low is not None and value < low:
            yield Problem(kind, key, name, f"Ensure this value is greater than or equal to {_number(low)}.")
        if high is not None and value > high:
            yield Problem(kind, key, name, f"Ensure this value is less than or equal to {_number(high)}.")
    for name in POSITIVE.get(kind, ()):
        if getattr(record, name) <= 0:
            yield Problem(kind, key, name, "Ensure this value is greater than 0.")
    for name, limit in MAX_LENGTHS.get(kind, {}).items():
        if len(getattr(record, name)) > limit:
            yield Problem(kind, key, name, f"Ensure this field has no more than {limit} characters.")
    if kind in CODE_FORMATS:
        name, pattern, rule = CODE_FORMATS[kind]
        code = getattr(record, name)
        if re.fullmatch(pattern, code) is None:
            yield Problem(kind, key, name, f'{rule}, got "{code}"')
    for name in NOT_BLANK.get(kind, ()):
        if not getattr(record, name):
            yield Problem(kind, key, name, "This field may not be blank.")
    if kind == "sites":
        if record.tz not in _known_zones():
            yield Problem(kind, key, "tz", f'"{record.tz}" is not a known IANA time zone.')
        if re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d:[0-5]\d", record.restart) is None:
            yield Problem(kind, key, "restart", "Time has wrong format. Use one of these formats instead: hh:mm:ss.")
    if kind in SCHEMA_OWNERS:
        for message in check_schema(record.validation_schema):
            yield Problem(kind, key, "validation_schema", message)


# --- Rules across records --------------------------------------------------------------------------------------

_LABELS = {
    "sites": "Site",
    "enclosures": "Enclosure",
    "telescopes": "Telescope",
    "instruments": "Instrument",
    "cameras": "Camera",
    "cameratypes": "Camera type",
    "opticalelements": "Optical element",
    "opticalelementgroups": "Optical element group",
    "instrumenttypes": "Instrument type",
    "instrumentcategories": "Instrument category",
    "configurationtypes": "Configuration type",
    "configurationtypeproperties": "Configuration type properties",
    "modetypes": "Mode type",
    "genericmodegroups": "Generic mode group",
    "genericmodes": "Generic mode",
}


def label(kind: str) -> str:
    """The human name of a kind ("Camera type")."""
    return _LABELS[kind]


def describe(obs: Observatory, kind: str, record: Any) -> str:
    """The name people use for a record: a dotted path, a code or a group name."""
    if kind == "enclosures":
        return obs.enclosure_path(record)
    if kind == "telescopes":
        return obs.telescope_path(record)
    if kind == "instruments":
        return obs.instrument_path(record)
    if kind == "opticalelementgroups":
        return str(record.name)
    if kind == "modetypes":
        return str(record.id)
    if kind == "configurationtypeproperties":
        owner = obs.instrument_types.get(record.instrument_type_id)
        return f"{owner.code if owner else '?'} {record.configuration_type}"
    if kind == "genericmodegroups":
        owner = obs.instrument_types.get(record.instrument_type_id)
        return f"{owner.code if owner else '?'} {record.type}"
    return str(record.code)


def _duplicates(
    obs: Observatory,
    kind: str,
    field_name: str,
    key_of: Callable[[Any], Hashable],
    message: Callable[[Any, Any], str],
) -> Iterable[Problem]:
    """A problem on every record that shares its key with another; the message names one of the others."""
    groups: dict[Hashable, list[tuple[Any, Any]]] = defaultdict(list)
    for key, record in obs.records[kind].items():
        groups[key_of(record)].append((key, record))
    for members in groups.values():
        for key, record in members if len(members) > 1 else ():
            other = next(r for k, r in members if k != key)
            yield Problem(kind, key, field_name, message(record, other))


def _uniqueness(obs: Observatory) -> Iterable[Problem]:
    def site_code(enclosure: Any) -> str:
        site = obs.sites.get(enclosure.site_id)
        return site.code if site else "?"

    def enclosure_name(telescope: Any) -> str:
        enclosure = obs.enclosures.get(telescope.enclosure_id)
        return obs.enclosure_path(enclosure) if enclosure else "?"

    yield from _duplicates(obs, "sites", "code", lambda r: r.code, lambda r, _: f'Site code "{r.code}" already exists')
    yield from _duplicates(
        obs,
        "enclosures",
        "code",
        lambda r: (r.site_id, r.code),
        lambda r, _: f'Enclosure code "{r.code}" already exists at site "{site_code(r)}"',
    )
    yield from _duplicates(
        obs,
        "telescopes",
        "code",
        lambda r: (r.enclosure_id, r.code),
        lambda r, _: f'Telescope code "{r.code}" already exists at enclosure "{enclosure_name(r)}"',
    )
    yield from _duplicates(
        obs,
        "instruments",
        "code",
        lambda r: r.code,
        lambda r, o: f'Instrument code "{r.code}" is already used by {obs.instrument_path(o)}',
    )
    for kind, name, fold in (
        ("cameras", "code", False),
        ("cameratypes", "code", True),
        ("instrumenttypes", "code", True),
        ("opticalelements", "code", False),
        ("opticalelementgroups", "name", False),
    ):
        yield from _duplicates(obs, kind, name, _code_key(name, fold), _already_exists(kind, name))
    yield from _duplicates(
        obs,
        "configurationtypeproperties",
        NON_FIELD,
        lambda r: (r.instrument_type_id, r.configuration_type),
        lambda r, _: "The fields instrument_type, configuration_type must make a unique set.",
    )
    yield from _duplicates(
        obs,
        "genericmodegroups",
        "type",
        lambda r: (r.instrument_type_id, r.type),
        lambda r, _: f"{_type_code(obs, r.instrument_type_id)} already has a {r.type} mode group",
    )
    yield from _duplicates(
        obs,
        "genericmodes",
        "code",
        lambda r: (r.group_id, r.code),
        lambda r, _: f'Mode code "{r.code}" already exists in {_group_name(obs, r.group_id)}',
    )


def _code_key(name: str, fold: bool) -> Callable[[Any], Hashable]:
    def key_of(record: Any) -> Hashable:
        value = str(getattr(record, name))
        return value.casefold() if fold else value

    return key_of


def _already_exists(kind: str, name: str) -> Callable[[Any, Any], str]:
    def message(record: Any, _other: Any) -> str:
        return f'{label(kind)} {name} "{getattr(record, name)}" already exists'

    return message


def _type_code(obs: Observatory, instrument_type_id: int) -> str:
    found = obs.instrument_types.get(instrument_type_id)
    return found.code if found else "?"


def _group_name(obs: Observatory, group_id: int, sentence_start: bool = False) -> str:
    group = obs.mode_groups.get(group_id)
    article = "The" if sentence_start else "the"
    if group is None:
        return f"{article} unknown mode group {group_id}"
    return f"{article} {group.type} mode group of {_type_code(obs, group.instrument_type_id)}"


def _missing_message(kind: str, key: Any) -> str:
    return f'{label(kind)} "{key}" does not exist.' if isinstance(key, str) else f"{label(kind)} {key} does not exist."


def _references(obs: Observatory) -> Iterable[Problem]:
    for kind, links in REFERENCES.items():
        for key, record in obs.records[kind].items():
            for name, target in links.items():
                value = getattr(record, name)
                targets = obs.records[target]
                for wanted in value if isinstance(value, tuple) else (value,):
                    if wanted not in targets:
                        yield Problem(kind, key, name, _missing_message(target, wanted), rule="exists")


def _cross_field(obs: Observatory) -> Iterable[Problem]:
    for key, telescope in obs.telescopes.items():
        if telescope.maximum_slew_overhead < telescope.minimum_slew_overhead:
            yield Problem(
                "telescopes",
                key,
                NON_FIELD,
                f"maximum_slew_overhead ({telescope.maximum_slew_overhead}) must not be less than "
                f"minimum_slew_overhead ({telescope.minimum_slew_overhead})",
            )
    for key, group in obs.optical_element_groups.items():
        if not group.element_ids:
            yield Problem("opticalelementgroups", key, "element_ids", "This list may not be empty.")
        members = {obs.optical_elements[i].code for i in group.element_ids if i in obs.optical_elements}
        if group.default and group.default not in members:
            message = f'Default optical element "{group.default}" is not a member of group "{group.name}"'
            yield Problem("opticalelementgroups", key, NON_FIELD, message)
    for key, camera in obs.cameras.items():
        seen: set[str] = set()
        for group_id in camera.optical_element_group_ids:
            carried = obs.optical_element_groups.get(group_id)
            if carried is not None and carried.type in seen:
                message = f'Camera {camera.code} already has an optical element group of type "{carried.type}"'
                yield Problem("cameras", key, "optical_element_group_ids", message)
            if carried is not None:
                seen.add(carried.type)
    offered: dict[int, set[str]] = defaultdict(set)
    for row in obs.configuration_type_properties.values():
        offered[row.instrument_type_id].add(row.configuration_type)
    for key, itype in obs.instrument_types.items():
        if itype.default_configuration_type not in offered[key]:
            message = f'Default configuration type "{itype.default_configuration_type}" is not offered by {itype.code}'
            yield Problem("instrumenttypes", key, NON_FIELD, message)
    modes_by_group: dict[int, set[str]] = defaultdict(set)
    for mode in obs.modes.values():
        modes_by_group[mode.group_id].add(mode.code)
    for key, mode_group in obs.mode_groups.items():
        members = modes_by_group[key]
        if not members:
            yield Problem(
                "genericmodegroups", key, "modes", f"{_group_name(obs, key, sentence_start=True)} has no modes"
            )
        if mode_group.default and mode_group.default not in members:
            message = f'Default mode "{mode_group.default}" is not a member of {_group_name(obs, key)}'
            yield Problem("genericmodegroups", key, NON_FIELD, message)
    for key, instrument in obs.instruments.items():
        if not instrument.science_camera_ids:
            yield Problem("instruments", key, "science_camera_ids", "An instrument needs at least one science camera.")


def problems(obs: Observatory) -> list[Problem]:
    """Every broken invariant of the whole tree; empty when it is valid."""
    found: list[Problem] = []
    for kind in KINDS:
        for key, record in obs.records[kind.name].items():
            found.extend(_field_problems(kind.name, key, record))
    found.extend(_uniqueness(obs))
    found.extend(_references(obs))
    found.extend(_cross_field(obs))
    return found


def problems_by_record(found: Iterable[Problem]) -> ErrorTree:
    """A whole-tree error body: kind -> record key -> field -> messages."""
    tree: ErrorTree = {}
    for problem in found:
        merge_errors(tree, {problem.kind: {str(problem.key): {problem.field: [problem.message]}}})
    return tree
