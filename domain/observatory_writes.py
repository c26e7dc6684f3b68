"""The write verbs of the observatory aggregate: create, update and delete records, composite writes included.

Every verb works on a copy of the records and swaps it in only when the whole resulting tree passes the
invariants, so a refused write leaves the observatory exactly as it was. Values arrive with domain field names
and Python values already structured from JSON (ints, floats, strings, booleans, lists, dicts).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from domain.errors import NON_FIELD, ConflictError, ErrorTree, NotFoundError, ValidationError, merge_errors
from domain.observatory import KINDS_BY_NAME, REFERENCES, Observatory
from domain.observatory_rules import Problem, coerce, describe, field_types, label, problems, required_fields

# Fields that are not record fields but describe related records written together with this one (2.5).
COMPOSITE_FIELDS: dict[str, tuple[str, ...]] = {
    "opticalelementgroups": ("optical_elements",),
    "instrumenttypes": ("configuration_types",),
    "genericmodegroups": ("modes", "mode_ids"),
}
# Records that belong to another one and go with it when it is deleted.
OWNED: dict[str, tuple[tuple[str, str], ...]] = {
    "instrumenttypes": (
        ("configurationtypeproperties", "instrument_type_id"),
        ("genericmodegroups", "instrument_type_id"),
    ),
    "genericmodegroups": (("genericmodes", "group_id"),),
}
# The children that block deleting a node of the physical tree.
CHILDREN = {"sites": ("enclosures", "site_id"), "enclosures": ("telescopes", "enclosure_id"),
            "telescopes": ("instruments", "telescope_id")}  # fmt: skip
_NOUNS = {
    "enclosures": "enclosure",
    "telescopes": "telescope",
    "instruments": "instrument",
    "cameras": "camera",
    "opticalelementgroups": "optical element group",
    "instrumenttypes": "instrument type",
    "configurationtypeproperties": "instrument type configuration",
    "genericmodegroups": "mode group",
}

# Where a related record written by a composite verb shows in the error body: (field, index, list length).
ChildSlots = dict[tuple[str, Any], tuple[str, int, int]]


def _kind_or_error(kind: str) -> str:
    if kind not in KINDS_BY_NAME:
        raise NotFoundError(f'Unknown kind "{kind}"')
    return kind


def next_id(table: Mapping[Any, Any]) -> int:
    """The id a new record of a kind gets: one more than the largest in use."""
    return max((k for k in table if isinstance(k, int)), default=0) + 1


def build_record(kind: str, values: Mapping[str, Any], base: Any = None, partial: bool = False) -> Any:
    """A record from domain field values: evolved from ``base`` when partial, else from the defaults.

    Raises ValidationError for unknown fields, wrong types and missing required fields."""
    types = field_types(kind)
    key_field = KINDS_BY_NAME[kind].key
    errors: ErrorTree = {}
    clean: dict[str, Any] = {}
    for name, value in values.items():
        if name not in types:
            errors[name] = ["Unknown field."]
            continue
        if name == "id" and key_field == "id" and base is not None:
            continue  # an id never changes; DRF ignores read-only fields the same way
        clean[name], problem = coerce(types[name], value)
        if problem:
            errors[name] = [problem]
    if errors:
        raise ValidationError(errors)
    if base is not None and key_field != "id" and key_field in clean and clean[key_field] != getattr(base, key_field):
        raise ValidationError.on(key_field, "This field cannot be changed; delete the record and create another.")
    if partial:
        return attrs.evolve(base, **clean)
    if base is not None:
        clean.setdefault(key_field, getattr(base, key_field))
    missing = [name for name in required_fields(kind) if name not in clean]
    if missing:
        raise ValidationError({name: ["This field is required."] for name in missing})
    return KINDS_BY_NAME[kind].record_class(**clean)


def _split(kind: str, values: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    composite = COMPOSITE_FIELDS.get(kind, ())
    plain = {k: v for k, v in values.items() if k not in composite}
    extras = {k: v for k, v in values.items() if k in composite}
    return plain, extras


def create(obs: Observatory, kind: str, values: Mapping[str, Any]) -> Any:
    """Add a record (and the related records of its composite fields); return the stored record."""
    table_name = _kind_or_error(kind)
    plain, extras = _split(kind, values)
    work = obs.copy()
    table = work.records[table_name]
    key_field = KINDS_BY_NAME[kind].key
    if key_field == "id" and field_types(kind)["id"] == "int":
        key: Any = next_id(table)
        plain = {**plain, "id": key}
        record = build_record(kind, plain)
    else:
        record = build_record(kind, plain)
        key = getattr(record, key_field)
        if key in table:
            raise ValidationError.on(key_field, f'{label(kind)} {key_field} "{key}" already exists')
    table[key] = record
    slots = _apply_composite(work, kind, key, extras)
    _commit(obs, work, (kind, key), slots)
    return obs.records[kind][key]


def update(obs: Observatory, kind: str, key: Any, values: Mapping[str, Any], partial: bool = True) -> Any:
    """Change a record: PATCH semantics when partial, PUT (omitted optional fields reset) otherwise."""
    table_name = _kind_or_error(kind)
    current = obs.records[table_name].get(key)
    if current is None:
        raise NotFoundError("Not found.")
    plain, extras = _split(kind, values)
    work = obs.copy()
    work.records[kind][key] = build_record(kind, plain, base=current, partial=partial)
    if not partial and KINDS_BY_NAME[kind].key == "id":
        work.records[kind][key] = attrs.evolve(work.records[kind][key], id=key)
    slots = _apply_composite(work, kind, key, extras)
    _commit(obs, work, (kind, key), slots)
    return obs.records[kind][key]


def delete(obs: Observatory, kind: str, key: Any) -> None:
    """Remove a record and the parts it owns; refuse while other records still need it."""
    table_name = _kind_or_error(kind)
    record = obs.records[table_name].get(key)
    if record is None:
        raise NotFoundError("Not found.")
    blocker = _blocker(obs, kind, key, record)
    if blocker:
        raise ConflictError(blocker)
    work = obs.copy()
    _remove_with_parts(work, kind, key)
    found = problems(work)
    if found:
        name = describe(obs, kind, record)
        raise ConflictError(f'{label(kind)} "{name}" cannot be deleted: {_unique_messages(found)[0]}')
    obs.records = work.records


def _remove_with_parts(work: Observatory, kind: str, key: Any) -> None:
    work.records[kind].pop(key, None)
    for part_kind, link in OWNED.get(kind, ()):
        for part_key in [k for k, r in work.records[part_kind].items() if getattr(r, link) == key]:
            _remove_with_parts(work, part_kind, part_key)


def _count(kind: str, number: int) -> str:
    noun = _NOUNS.get(kind, label(kind).lower())
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def _blocker(obs: Observatory, kind: str, key: Any, record: Any) -> str:
    """Why the record cannot go (children or references left), or ''."""
    name = describe(obs, kind, record)
    if kind in CHILDREN:
        child_kind, link = CHILDREN[kind]
        children = [r for r in obs.records[child_kind].values() if getattr(r, link) == key]
        if children:
            return f'{label(kind)} "{name}" still has {_count(child_kind, len(children))}; delete them first'
    owned = {(part_kind, link) for part_kind, link in OWNED.get(kind, ())}
    for referrer_kind, links in REFERENCES.items():
        for link, target in links.items():
            if target != kind or (referrer_kind, link) in owned or CHILDREN.get(kind) == (referrer_kind, link):
                continue
            users = [r for r in obs.records[referrer_kind].values() if _refers(getattr(r, link), key)]
            if users:
                names = ", ".join(sorted(describe(obs, referrer_kind, r) for r in users)[:3])
                more = ", ..." if len(users) > 3 else ""
                return (
                    f'{label(kind)} "{name}" is still used by {_count(referrer_kind, len(users))} '
                    f"({names}{more}); change or delete them first"
                )
    return ""


def _refers(value: Any, key: Any) -> bool:
    return key in value if isinstance(value, tuple) else bool(value == key)


# --- Composite writes (2.5) --------------------------------------------------------------------------------------


def _apply_composite(work: Observatory, kind: str, key: Any, extras: Mapping[str, Any]) -> ChildSlots:
    if kind == "opticalelementgroups" and "optical_elements" in extras:
        return _write_group_elements(work, key, extras["optical_elements"])
    if kind == "instrumenttypes" and "configuration_types" in extras:
        return _write_configuration_types(work, key, extras["configuration_types"])
    if kind == "genericmodegroups" and "modes" in extras:
        return _write_modes(work, key, extras["modes"])
    if kind == "genericmodegroups" and "mode_ids" in extras:
        _assign_modes(work, key, extras["mode_ids"])
    return {}


def _items(field_name: str, items: Any) -> list[Mapping[str, Any]]:
    if not isinstance(items, list) or not all(isinstance(i, Mapping) for i in items):
        raise ValidationError.on(field_name, "Expected a list of objects.")
    return list(items)


def _nested_error(field_name: str, index: int, count: int, error: ValidationError) -> ValidationError:
    slots: list[ErrorTree] = [{} for _ in range(count)]
    slots[index] = error.errors
    return ValidationError({field_name: slots})


def _write_group_elements(work: Observatory, group_key: int, raw: Any) -> ChildSlots:
    """Get-or-create each element by code and make them the group's members, in the order given."""
    items = _items("optical_elements", raw)
    slots: ChildSlots = {}
    member_ids: list[int] = []
    by_code = {e.code: e.id for e in work.optical_elements.values()}
    for index, item in enumerate(items):
        code = item.get("code")
        if isinstance(code, str) and code in by_code:
            member_ids.append(by_code[code])
            continue
        element_id = next_id(work.optical_elements)
        try:
            element = build_record("opticalelements", {**item, "id": element_id})
        except ValidationError as error:
            raise _nested_error("optical_elements", index, len(items), error) from None
        work.optical_elements[element_id] = element
        by_code[element.code] = element_id
        slots[("opticalelements", element_id)] = ("optical_elements", index, len(items))
        member_ids.append(element_id)
    group = work.optical_element_groups[group_key]
    # Through a dict: mypy's attrs plugin mistypes the parameter of a field whose converter is ``tuple``.
    membership: dict[str, Any] = {"element_ids": tuple(member_ids)}
    work.optical_element_groups[group_key] = attrs.evolve(group, **membership)
    return slots


def _write_configuration_types(work: Observatory, type_key: int, raw: Any) -> ChildSlots:
    """Replace the instrument type's configuration type rows; a row keeps its id while its code stays."""
    items = _items("configuration_types", raw)
    table = work.configuration_type_properties
    existing: dict[str, int] = {r.configuration_type: r.id for r in table.values() if r.instrument_type_id == type_key}
    for row_id in existing.values():
        del table[row_id]
    slots: ChildSlots = {}
    for index, item in enumerate(items):
        code = item.get("configuration_type")
        reused = existing.pop(code, None) if isinstance(code, str) else None
        row_id = reused if reused is not None else max(next_id(table), next_id(dict.fromkeys(existing.values())))
        values = {**item, "id": row_id, "instrument_type_id": type_key}
        try:
            table[row_id] = build_record("configurationtypeproperties", values)
        except ValidationError as error:
            raise _nested_error("configuration_types", index, len(items), error) from None
        slots[("configurationtypeproperties", row_id)] = ("configuration_types", index, len(items))
    return slots


def _write_modes(work: Observatory, group_key: int, raw: Any) -> ChildSlots:
    """Replace the group's modes; a mode keeps its id while its code stays."""
    items = _items("modes", raw)
    table = work.modes
    existing: dict[str, int] = {m.code: m.id for m in table.values() if m.group_id == group_key}
    for mode_id in existing.values():
        del table[mode_id]
    slots: ChildSlots = {}
    for index, item in enumerate(items):
        code = item.get("code")
        reused = existing.pop(code, None) if isinstance(code, str) else None
        mode_id = reused if reused is not None else max(next_id(table), next_id(dict.fromkeys(existing.values())))
        try:
            table[mode_id] = build_record("genericmodes", {**item, "id": mode_id, "group_id": group_key})
        except ValidationError as error:
            raise _nested_error("modes", index, len(items), error) from None
        slots[("genericmodes", mode_id)] = ("modes", index, len(items))
    return slots


def _assign_modes(work: Observatory, group_key: int, raw: Any) -> None:
    """Make the listed modes the group's modes; in our model a mode has one group, so it moves here."""
    mode_ids, problem = coerce("ids", raw)
    if problem:
        raise ValidationError.on("mode_ids", problem)
    unknown = [m for m in mode_ids if m not in work.modes]
    if unknown:
        raise ValidationError({"mode_ids": [f"Generic mode {m} does not exist." for m in unknown]})
    for mode_id, mode in list(work.modes.items()):
        if mode.group_id == group_key and mode_id not in mode_ids:
            del work.modes[mode_id]
    for mode_id in mode_ids:
        work.modes[mode_id] = attrs.evolve(work.modes[mode_id], group_id=group_key)


# --- Turning problems into the error body of the write ------------------------------------------------------------


def _commit(obs: Observatory, work: Observatory, primary: tuple[str, Any], slots: ChildSlots) -> None:
    found = problems(work)
    if found:
        raise ValidationError(error_tree(found, primary, slots))
    obs.records = work.records


def error_tree(found: Sequence[Problem], primary: tuple[str, Any], slots: ChildSlots) -> ErrorTree:
    """Field errors of the written record (and its composite parts, DRF list style); when the write broke
    only other records, their messages as ``non_field_errors``."""
    errors: ErrorTree = {}
    nested: dict[str, list[ErrorTree]] = {}
    for problem in found:
        where = (problem.kind, problem.key)
        if where == primary:
            merge_errors(errors, {problem.field: [problem.message]})
        elif where in slots:
            field_name, index, count = slots[where]
            items = nested.setdefault(field_name, [{} for _ in range(count)])
            merge_errors(items[index], {problem.field: [problem.message]})
    for field_name, items in nested.items():
        errors[field_name] = [*errors.get(field_name, []), *items] if field_name in errors else items
    if not errors:
        errors[NON_FIELD] = _unique_messages(found)
    return errors


def _unique_messages(found: Sequence[Problem]) -> list[str]:
    return list(dict.fromkeys(p.message for p in found))
