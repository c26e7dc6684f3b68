"""The whole observatory as one JSON document (observatory.md section 6): parse, import by natural key, export.

Errors of a document are one flat map from JSON path to messages, e.g.
``{"sites[4].enclosures[0].telescopes[1]": ['unknown key "horizn"'],
"cameras[12].optical_element_groups[0]": ['unknown group "1m0 filterz"']}``: the path names the object (or the
field, or the list item) at fault, so every problem of a file can be listed at once, one per line. Problems of the
document as a whole (format, version, unknown top-level keys) are under ``non_field_errors``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Mapping
from typing import Any

import attrs
from attrs import frozen

from domain.errors import NON_FIELD, ErrorTree, ValidationError
from domain.observatory import KINDS, KINDS_BY_NAME, REFERENCES, JsonDict, Observatory, RecordChange, diff
from domain.observatory_rules import coerce, field_types, label, problems, required_fields
from domain.observatory_writes import build_record

FORMAT = "obsnet-observatory"
FORMAT_VERSION = 1

# The plain fields of each object of the file, in the order export writes them; links and nested lists follow.
PLAIN_FIELDS: dict[str, tuple[str, ...]] = {
    "configurationtypes": ("code", "name"),
    "opticalelements": ("code", "name", "schedulable"),
    "opticalelementgroups": ("name", "type", "element_change_overhead", "default"),
    "cameratypes": ("code", "name", "size", "pscale", "pixels_x", "pixels_y", "max_rois"),
    "cameras": ("code", "orientation", "host"),
    "instrumenttypes": (
        "code",
        "name",
        "instrument_category",
        "fixed_overhead_per_exposure",
        "observation_front_padding",
        "config_front_padding",
        "acquire_exposure_time",
        "default_acceptability_threshold",
        "allow_self_guiding",
        "default_configuration_type",
        "validation_schema",
    ),
    "configurationtypeproperties": (
        "code",
        "schedulable",
        "config_change_overhead",
        "force_acquisition_off",
        "requires_optical_elements",
        "validation_schema",
    ),
    "genericmodegroups": ("type", "default"),
    "genericmodes": ("code", "name", "overhead", "schedulable", "validation_schema"),
    "sites": ("code", "name", "active", "lat", "long", "elevation", "timezone", "tz", "restart"),
    "enclosures": ("code", "name", "active"),
    "telescopes": (
        "code",
        "name",
        "serial_number",
        "active",
        "aperture",
        "lat",
        "long",
        "horizon",
        "ha_limit_neg",
        "ha_limit_pos",
        "zenith_blind_spot",
        "slew_rate",
        "minimum_slew_overhead",
        "maximum_slew_overhead",
        "instrument_change_overhead",
        "telescope_front_padding",
    ),
    "instruments": ("code", "state", "autoguider_type"),
}
# Document keys that differ from the domain field names, per kind (document key -> domain field).
RENAMED: dict[str, dict[str, str]] = {
    "configurationtypeproperties": {"code": "configuration_type"},
    "cameras": {"camera_type": "camera_type_id", "optical_element_groups": "optical_element_group_ids"},
    "opticalelementgroups": {"optical_elements": "element_ids"},
    "instruments": {
        "instrument_type": "instrument_type_id",
        "science_cameras": "science_camera_ids",
        "autoguider_camera": "autoguider_camera_id",
    },
}
TOP_LEVEL_KEYS = (
    "format",
    "format_version",
    "name",
    "description",
    "mode_types",
    "instrument_categories",
    "configuration_types",
    "optical_elements",
    "optical_element_groups",
    "camera_types",
    "cameras",
    "instrument_types",
    "sites",
    "demo_downtimes",
)


@frozen
class ObservatoryDocument:
    """A checked document: its configuration as a fresh ``Observatory`` with ids in document order."""

    name: str
    description: str
    observatory: Observatory
    demo_downtimes: tuple[JsonDict, ...] = ()
    # (kind, key in ``observatory``) -> the JSON path of the object that produced it, for error messages.
    paths: dict[tuple[str, Any], str] = attrs.field(factory=dict)


@frozen
class ImportPlan:
    """What an import changes (or would change, for a dry run): record counts per kind, and the changes."""

    created: dict[str, int]
    updated: dict[str, int]
    deleted: dict[str, int]
    changes: tuple[RecordChange, ...]

    def summary(self) -> str:
        """One line: 'created 120, updated 3, deleted 0 records'."""
        totals = (sum(self.created.values()), sum(self.updated.values()), sum(self.deleted.values()))
        return "created {}, updated {}, deleted {} records".format(*totals)


# --- Parsing ----------------------------------------------------------------------------------------------------


class _DocumentReader:
    """Builds a fresh Observatory from a document, collecting every problem with its JSON path."""

    def __init__(self) -> None:
        self.obs = Observatory()
        self.errors: dict[str, list[str]] = {}
        self.paths: dict[tuple[str, Any], str] = {}
        # Codes and names the file refers to, resolved to the ids given in this document.
        self.by_name: dict[str, dict[str, int]] = {k: {} for k in ("opticalelements", "opticalelementgroups")}
        self.by_name.update({k: {} for k in ("cameratypes", "cameras", "instrumenttypes")})
        # Names of objects that were refused (their problem is reported); references to them stay silent.
        self.broken: dict[str, set[str]] = {k: set() for k in self.by_name}

    def error(self, path: str, message: str) -> None:
        self.errors.setdefault(path or NON_FIELD, []).append(message)

    def read_object(self, data: Any, path: str, kind: str, extra_keys: tuple[str, ...] = ()) -> dict[str, Any] | None:
        """The domain values of one object's plain fields; None when the object cannot be built at all."""
        if not isinstance(data, Mapping):
            self.error(path, "Expected an object.")
            return None
        plain = PLAIN_FIELDS[kind]
        for key in data:
            if key not in plain and key not in extra_keys:
                self.error(path, f'unknown key "{key}"')
        renamed = RENAMED.get(kind, {})
        types = field_types(kind)
        required = required_fields(kind)
        values: dict[str, Any] = {}
        complete = True
        for key in plain:
            name = renamed.get(key, key)
            if key not in data:
                if name in required:
                    self.error(f"{path}.{key}", "This field is required.")
                    complete = False
                continue
            value, problem = coerce(types[name], data[key])
            if problem:
                self.error(f"{path}.{key}", problem)
                complete = complete and name not in required
                continue
            values[name] = value
        return values if complete else None

    def list_at(self, data: Mapping[str, Any], key: str, path: str, required: bool = False) -> list[Any]:
        if key not in data:
            if required:
                self.error(f"{path}.{key}" if path else key, "This field is required.")
            return []
        value = data[key]
        if not isinstance(value, list):
            self.error(f"{path}.{key}" if path else key, "Expected a list.")
            return []
        return value

    def resolve(self, kind: str, name: Any, path: str, what: str) -> int | None:
        folded = name.casefold() if isinstance(name, str) and kind in ("cameratypes", "instrumenttypes") else name
        found = self.by_name[kind].get(folded) if isinstance(folded, str) else None
        if found is None and folded not in self.broken[kind]:
            self.error(path, f'unknown {what} "{name}"')
        return found

    def mark_broken(self, kind: str, data: Any, name_field: str) -> None:
        """Remember the name of an object that could not be built, so references to it add no noise."""
        name = data.get(name_field) if isinstance(data, Mapping) else None
        if isinstance(name, str):
            self.broken[kind].add(name.casefold() if kind in ("cameratypes", "instrumenttypes") else name)

    def add(self, kind: str, values: dict[str, Any], path: str) -> Any:
        """Store a record with the next id of its kind (or its code), remember its path; None if unbuildable."""
        table = self.obs.records[kind]
        key_field = KINDS_BY_NAME[kind].key
        if key_field == "id" and field_types(kind)["id"] == "int":
            values = {**values, "id": len(table) + 1}
        try:
            record = build_record(kind, values)
        except ValidationError:
            return None  # its missing fields were reported while reading it
        key = getattr(record, key_field)
        table[key] = record
        self.paths[(kind, key)] = path
        return key


def parse_document(data: Any) -> ObservatoryDocument:
    """Check a whole document and build its configuration; raise one ValidationError listing every problem."""
    reader = _DocumentReader()
    if not isinstance(data, Mapping):
        raise ValidationError.general("An observatory document must be a JSON object.")
    for key in data:
        if key not in TOP_LEVEL_KEYS:
            reader.error("", f'unknown key "{key}"')
    if data.get("format") != FORMAT:
        reader.error("format", f'must be "{FORMAT}"')
    if data.get("format_version") != FORMAT_VERSION:
        reader.error("format_version", f"unsupported format_version {data.get('format_version')!r}; this is 1")
    name, description = data.get("name", ""), data.get("description", "")
    for key, value in (("name", name), ("description", description)):
        if not isinstance(value, str):
            reader.error(key, "Not a valid string.")
    _read_catalogue(reader, data)
    for index, site in enumerate(reader.list_at(data, "sites", "")):
        _read_site(reader, site, f"sites[{index}]")
    downtimes = reader.list_at(data, "demo_downtimes", "")
    if reader.errors:
        raise ValidationError(reader.errors)
    tree_problems = _problems_at_paths(reader.obs, reader.paths)
    if tree_problems:
        raise ValidationError(tree_problems)
    return ObservatoryDocument(
        name=str(name),
        description=str(description),
        observatory=reader.obs,
        demo_downtimes=tuple(dict(d) for d in downtimes if isinstance(d, Mapping)),
        paths=reader.paths,
    )


def _read_catalogue(reader: _DocumentReader, data: Mapping[str, Any]) -> None:
    for key, kind in (("mode_types", "modetypes"), ("instrument_categories", "instrumentcategories")):
        key_field = KINDS_BY_NAME[kind].key
        for index, code in enumerate(reader.list_at(data, key, "")):
            path = f"{key}[{index}]"
            if not isinstance(code, str):
                reader.error(path, "Not a valid string.")
            elif code in reader.obs.records[kind]:
                reader.error(path, f'duplicate "{code}"')
            else:
                reader.add(kind, {key_field: code}, path)
    for index, item in enumerate(reader.list_at(data, "configuration_types", "")):
        path = f"configuration_types[{index}]"
        values = reader.read_object(item, path, "configurationtypes")
        if values is not None and values["code"] in reader.obs.configuration_types:
            reader.error(f"{path}.code", f'duplicate code "{values["code"]}"')
        elif values is not None:
            reader.add("configurationtypes", values, path)
    for index, item in enumerate(reader.list_at(data, "optical_elements", "")):
        path = f"optical_elements[{index}]"
        values = reader.read_object(item, path, "opticalelements")
        _add_named(reader, "opticalelements", values, path, "code", item)
    for index, item in enumerate(reader.list_at(data, "optical_element_groups", "")):
        path = f"optical_element_groups[{index}]"
        values = reader.read_object(item, path, "opticalelementgroups", ("optical_elements",))
        if values is not None:
            codes = reader.list_at(item, "optical_elements", path, required=True)
            resolved = [reader.resolve("opticalelements", c, f"{path}.optical_elements[{i}]", "optical element")
                        for i, c in enumerate(codes)]  # fmt: skip
            values["element_ids"] = tuple(r for r in resolved if r is not None)
        _add_named(reader, "opticalelementgroups", values, path, "name", item)
    for index, item in enumerate(reader.list_at(data, "camera_types", "")):
        path = f"camera_types[{index}]"
        _add_named(reader, "cameratypes", reader.read_object(item, path, "cameratypes"), path, "code", item)
    for index, item in enumerate(reader.list_at(data, "cameras", "")):
        _read_camera(reader, item, f"cameras[{index}]")
    for index, item in enumerate(reader.list_at(data, "instrument_types", "")):
        _read_instrument_type(reader, item, f"instrument_types[{index}]")


def _add_named(
    reader: _DocumentReader, kind: str, values: dict[str, Any] | None, path: str, name_field: str, item: Any
) -> None:
    key = reader.add(kind, values, path) if values is not None else None
    if values is None or key is None:
        reader.mark_broken(kind, item, name_field)
        return
    name = str(values[name_field])
    folded = name.casefold() if kind in ("cameratypes", "instrumenttypes") else name
    # The first of two records with one code wins the name; the duplicate is reported by the tree check.
    reader.by_name[kind].setdefault(folded, key)


def _read_camera(reader: _DocumentReader, item: Any, path: str) -> None:
    values = reader.read_object(item, path, "cameras", ("camera_type", "optical_element_groups"))
    if values is None or "camera_type" not in item:
        if isinstance(item, Mapping) and "camera_type" not in item:
            reader.error(f"{path}.camera_type", "This field is required.")
        reader.mark_broken("cameras", item, "code")
        return
    camera_type = reader.resolve("cameratypes", item["camera_type"], f"{path}.camera_type", "camera type")
    groups = reader.list_at(item, "optical_element_groups", path)
    resolved = [
        reader.resolve("opticalelementgroups", g, f"{path}.optical_element_groups[{i}]", "group")
        for i, g in enumerate(groups)
    ]
    if camera_type is None:
        reader.mark_broken("cameras", item, "code")
        return
    values.update(camera_type_id=camera_type, optical_element_group_ids=tuple(r for r in resolved if r is not None))
    _add_named(reader, "cameras", values, path, "code", item)


def _read_instrument_type(reader: _DocumentReader, item: Any, path: str) -> None:
    values = reader.read_object(item, path, "instrumenttypes", ("configuration_types", "mode_groups"))
    type_id = len(reader.obs.instrument_types) + 1
    _add_named(reader, "instrumenttypes", values, path, "code", item)
    if type_id not in reader.obs.instrument_types:
        return
    for index, row in enumerate(reader.list_at(item, "configuration_types", path)):
        row_path = f"{path}.configuration_types[{index}]"
        row_values = reader.read_object(row, row_path, "configurationtypeproperties")
        if row_values is not None:
            reader.add("configurationtypeproperties", {**row_values, "instrument_type_id": type_id}, row_path)
    for index, group in enumerate(reader.list_at(item, "mode_groups", path)):
        group_path = f"{path}.mode_groups[{index}]"
        group_values = reader.read_object(group, group_path, "genericmodegroups", ("modes",))
        if group_values is None:
            continue
        group_id = reader.add("genericmodegroups", {**group_values, "instrument_type_id": type_id}, group_path)
        for mode_index, mode in enumerate(reader.list_at(group, "modes", group_path, required=True)):
            mode_path = f"{group_path}.modes[{mode_index}]"
            mode_values = reader.read_object(mode, mode_path, "genericmodes")
            if mode_values is not None and group_id is not None:
                reader.add("genericmodes", {**mode_values, "group_id": group_id}, mode_path)


def _read_site(reader: _DocumentReader, item: Any, path: str) -> None:
    values = reader.read_object(item, path, "sites", ("enclosures",))
    site_id = reader.add("sites", values, path) if values is not None else None
    if site_id is None:
        return
    for index, enclosure in enumerate(reader.list_at(item, "enclosures", path)):
        enclosure_path = f"{path}.enclosures[{index}]"
        enclosure_values = reader.read_object(enclosure, enclosure_path, "enclosures", ("telescopes",))
        if enclosure_values is None:
            continue
        enclosure_id = reader.add("enclosures", {**enclosure_values, "site_id": site_id}, enclosure_path)
        for t_index, telescope in enumerate(reader.list_at(enclosure, "telescopes", enclosure_path)):
            telescope_path = f"{enclosure_path}.telescopes[{t_index}]"
            telescope_values = reader.read_object(telescope, telescope_path, "telescopes", ("instruments",))
            if telescope_values is None:
                continue
            telescope_id = reader.add("telescopes", {**telescope_values, "enclosure_id": enclosure_id}, telescope_path)
            for i_index, instrument in enumerate(reader.list_at(telescope, "instruments", telescope_path)):
                _read_instrument(reader, instrument, f"{telescope_path}.instruments[{i_index}]", telescope_id)


def _read_instrument(reader: _DocumentReader, item: Any, path: str, telescope_id: int) -> None:
    links = ("instrument_type", "science_cameras", "autoguider_camera")
    values = reader.read_object(item, path, "instruments", links)
    if values is None:
        return
    for key in ("instrument_type", "autoguider_camera"):
        if key not in item:
            reader.error(f"{path}.{key}", "This field is required.")
    type_id = reader.resolve(
        "instrumenttypes", item.get("instrument_type"), f"{path}.instrument_type", "instrument type"
    )
    guider = reader.resolve("cameras", item.get("autoguider_camera"), f"{path}.autoguider_camera", "camera")
    cameras = [
        reader.resolve("cameras", c, f"{path}.science_cameras[{i}]", "camera")
        for i, c in enumerate(reader.list_at(item, "science_cameras", path, required=True))
    ]
    if type_id is None or guider is None or None in cameras:
        return
    values.update(
        telescope_id=telescope_id, instrument_type_id=type_id, autoguider_camera_id=guider, science_camera_ids=cameras
    )
    reader.add("instruments", values, path)


_DOMAIN_TO_DOCUMENT = {kind: {v: k for k, v in names.items()} for kind, names in RENAMED.items()}


def _problems_at_paths(obs: Observatory, paths: Mapping[tuple[str, Any], str]) -> ErrorTree:
    """The tree's broken invariants keyed by the JSON path of the object (and field) at fault."""
    errors: dict[str, list[str]] = {}
    for problem in problems(obs):
        path = paths.get((problem.kind, problem.key), f"{problem.kind}[{problem.key}]")
        if problem.field != NON_FIELD:
            path = f"{path}.{_DOMAIN_TO_DOCUMENT.get(problem.kind, {}).get(problem.field, problem.field)}"
        errors.setdefault(path, []).append(problem.message)
    return dict(errors)


def read_demo_downtimes(data: Mapping[str, Any]) -> list[JsonDict]:
    """The ``demo_downtimes`` of a document, as written (the demo loader turns them into downtimes)."""
    found = data.get("demo_downtimes", [])
    return [dict(d) for d in found] if isinstance(found, list) else []


# --- Import --------------------------------------------------------------------------------------------------------


def natural_key(obs: Observatory, kind: str, record: Any) -> Hashable:
    """The key by which an import matches a record of the file with a stored one (6.3)."""
    if kind == "enclosures":
        return (_code(obs.sites, record.site_id), record.code)
    if kind == "telescopes":
        enclosure = obs.enclosures.get(record.enclosure_id)
        return (natural_key(obs, "enclosures", enclosure) if enclosure else None, record.code)
    if kind in ("cameratypes", "instrumenttypes"):
        return str(record.code).casefold()
    if kind == "opticalelementgroups":
        return str(record.name)
    if kind == "configurationtypeproperties":
        return (_code(obs.instrument_types, record.instrument_type_id).casefold(), record.configuration_type)
    if kind == "genericmodegroups":
        return (_code(obs.instrument_types, record.instrument_type_id).casefold(), record.type)
    if kind == "genericmodes":
        group = obs.mode_groups.get(record.group_id)
        return (natural_key(obs, "genericmodegroups", group) if group else None, record.code)
    return getattr(record, KINDS_BY_NAME[kind].key)  # type: ignore[no-any-return]


def _code(table: Mapping[int, Any], key: int) -> str:
    found = table.get(key)
    return str(found.code) if found is not None else "?"


# Parts of an instrument type (and modes of a group) are its description: the file's list replaces them.
_PARTS: dict[str, tuple[str, str]] = {
    "configurationtypeproperties": ("instrumenttypes", "instrument_type_id"),
    "genericmodegroups": ("instrumenttypes", "instrument_type_id"),
    "genericmodes": ("genericmodegroups", "group_id"),
}


def import_into(observatory: Observatory, document: ObservatoryDocument, replace: bool) -> ImportPlan:
    """Upsert the document's records by natural key; with ``replace``, delete what it does not mention.

    New records get ids after the largest in use, in document order (1, 2, ... on an empty observatory). The
    observatory changes only if the whole result is valid; the plan lists what changed."""
    fresh = document.observatory
    result: dict[str, dict[Any, Any]] = {k.name: ({} if replace else dict(observatory.records[k.name])) for k in KINDS}
    id_maps: dict[str, dict[Any, Any]] = {}
    paths: dict[tuple[str, Any], str] = {}
    for kind in KINDS:
        stored = {natural_key(observatory, kind.name, r): key for key, r in observatory.records[kind.name].items()}
        counter = _ids_after(observatory.records[kind.name])
        id_map = id_maps.setdefault(kind.name, {})
        for fresh_key, record in fresh.records[kind.name].items():
            target = stored.get(natural_key(fresh, kind.name, record))
            if target is None:
                target = next(counter) if kind.key == "id" and isinstance(fresh_key, int) else fresh_key
            id_map[fresh_key] = target
            result[kind.name][target] = _translate(kind.name, record, target, id_maps)
            paths[(kind.name, target)] = document.paths.get((kind.name, fresh_key), f"{kind.name}[{fresh_key}]")
        owner = _PARTS.get(kind.name)
        if owner is not None and not replace:
            owner_kind, link = owner
            mentioned, kept = set(id_maps[owner_kind].values()), set(id_map.values())
            for key in [k for k, r in result[kind.name].items() if getattr(r, link) in mentioned and k not in kept]:
                del result[kind.name][key]
    candidate = Observatory(observatory.version, result)
    found = problems(candidate)
    if found:
        raise ValidationError(_problems_at_paths(candidate, paths))
    changes = diff(observatory, candidate)
    observatory.records = candidate.records
    return _plan(changes)


def _ids_after(table: Mapping[Any, Any]) -> Any:
    start = max((k for k in table if isinstance(k, int)), default=0) + 1
    return iter(range(start, 2**62))


def _translate(kind: str, record: Any, key: Any, id_maps: Mapping[str, Mapping[Any, Any]]) -> Any:
    changes: dict[str, Any] = {}
    if KINDS_BY_NAME[kind].key == "id" and isinstance(key, int):
        changes["id"] = key
    for name, target in REFERENCES.get(kind, {}).items():
        if field_types(kind)[name] == "ids":
            changes[name] = tuple(id_maps[target][v] for v in getattr(record, name))
        elif field_types(kind)[name] == "int":
            changes[name] = id_maps[target][getattr(record, name)]
    return attrs.evolve(record, **changes)


def _plan(changes: list[RecordChange]) -> ImportPlan:
    created = Counter(c.kind for c in changes if c.before is None)
    deleted = Counter(c.kind for c in changes if c.after is None)
    updated = Counter(c.kind for c in changes if c.before is not None and c.after is not None)
    return ImportPlan(dict(created), dict(updated), dict(deleted), tuple(changes))


# --- Export --------------------------------------------------------------------------------------------------------


def _plain(kind: str, record: Any) -> JsonDict:
    renamed = RENAMED.get(kind, {})
    out: JsonDict = {}
    for key in PLAIN_FIELDS[kind]:
        value = getattr(record, renamed.get(key, key))
        out[key] = value.value if hasattr(value, "value") else value
    return out


def codes(table: Mapping[int, Any], ids: tuple[int, ...]) -> list[str]:
    """The codes of the records with these ids, in the same order."""
    return [str(table[i].code) for i in ids]


def _by_id(table: Mapping[Any, Any]) -> list[Any]:
    return [table[k] for k in sorted(table)]


def export(observatory: Observatory, name: str = "", description: str = "") -> JsonDict:
    """The whole configuration in the document format: physical tree in canonical order, catalogue in id order.

    The name and description are not part of the configuration, so the caller supplies them."""
    obs = observatory
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "name": name,
        "description": description,
        "mode_types": list(obs.mode_types),
        "instrument_categories": list(obs.instrument_categories),
        "configuration_types": [_plain("configurationtypes", c) for c in obs.configuration_types.values()],
        "optical_elements": [_plain("opticalelements", e) for e in _by_id(obs.optical_elements)],
        "optical_element_groups": [
            {**_plain("opticalelementgroups", g), "optical_elements": codes(obs.optical_elements, g.element_ids)}
            for g in _by_id(obs.optical_element_groups)
        ],
        "camera_types": [_plain("cameratypes", t) for t in _by_id(obs.camera_types)],
        "cameras": [
            {
                **_plain("cameras", c),
                "camera_type": obs.camera_types[c.camera_type_id].code,
                "optical_element_groups": [obs.optical_element_groups[g].name for g in c.optical_element_group_ids],
            }
            for c in _by_id(obs.cameras)
        ],
        "instrument_types": [_export_instrument_type(obs, t) for t in _by_id(obs.instrument_types)],
        "sites": [
            {
                **_plain("sites", site),
                "enclosures": [
                    {
                        **_plain("enclosures", enclosure),
                        "telescopes": [
                            {
                                **_plain("telescopes", telescope),
                                "instruments": [
                                    {
                                        **_plain("instruments", i),
                                        "instrument_type": obs.instrument_types[i.instrument_type_id].code,
                                        "science_cameras": codes(obs.cameras, i.science_camera_ids),
                                        "autoguider_camera": obs.cameras[i.autoguider_camera_id].code,
                                    }
                                    for i in obs.instruments_of(telescope.id)
                                ],
                            }
                            for telescope in obs.telescopes_of(enclosure.id)
                        ],
                    }
                    for enclosure in obs.enclosures_of(site.id)
                ],
            }
            for site in obs.sorted_sites()
        ],
    }


def _export_instrument_type(obs: Observatory, itype: Any) -> JsonDict:
    return {
        **_plain("instrumenttypes", itype),
        "configuration_types": [_plain("configurationtypeproperties", r) for r in obs.configuration_types_of(itype.id)],
        "mode_groups": [
            {
                **_plain("genericmodegroups", g),
                "modes": [_plain("genericmodes", m) for m in obs.modes_of(g.id)],
            }
            for g in obs.mode_groups_of(itype.id)
        ],
    }


def describe_kind(kind: str) -> str:
    """The human name of a kind, for plan output ("Optical element group")."""
    return label(kind)
