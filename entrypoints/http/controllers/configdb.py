"""The configuration database over HTTP under /configdb/: the OCS read API, staff writes, import and export."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from litestar import Request, delete, get, patch, post, put
from litestar.params import FromPath, RawBody
from litestar.status_codes import HTTP_200_OK

from adapters.serialization import parse_datetime
from application.commands import (
    CreateObservatoryRecord,
    DeleteObservatoryRecord,
    ImportObservatory,
    UpdateObservatoryRecord,
)
from application.observatory_views import (
    availability_history,
    export_observatory,
    observatory_snapshot,
    ordered_keys,
    record_view,
)
from domain.errors import NotFoundError, ValidationError
from domain.observatory import KINDS_BY_NAME, InstrumentState, Observatory
from domain.observatory_rules import field_types
from domain.observatory_writes import COMPOSITE_FIELDS
from entrypoints.http.auth import actor_name, staff_only
from entrypoints.http.errors import BadRequestError
from entrypoints.http.wire import (
    base_url,
    container_of,
    in_thread,
    json_body,
    page,
    page_bounds,
    query_value,
    query_values,
)

PAGE_SIZE = 1000
WRITE_LIMIT = 1024 * 1024
IMPORT_LIMIT = 50 * 1024 * 1024

# Write bodies name links as upstream's write-only fields do (2.5); the domain names them by what they hold.
WIRE_TO_DOMAIN: dict[str, dict[str, str]] = {
    "instruments": {"science_cameras_ids": "science_camera_ids"},
    "opticalelementgroups": {"optical_element_ids": "element_ids"},
    "genericmodegroups": {"instrument_type": "instrument_type_id"},
    "configurationtypeproperties": {"instrument_type": "instrument_type_id"},
}
_BOOLEANS = {"true": True, "True": True, "1": True, "false": False, "False": False, "0": False}

Filter = Callable[[Observatory, Any, str], bool]


def _snapshot(request: Request[Any, Any, Any]) -> Observatory:
    return observatory_snapshot(container_of(request).uow_factory()())


def _url_for(request: Request[Any, Any, Any]) -> Callable[[str, Any], str]:
    base = base_url(request)
    return lambda kind, key: f"{base}/configdb/{kind}/{key}/"


def _kind(kind: str) -> str:
    if kind not in KINDS_BY_NAME:
        raise NotFoundError("Not found.")
    return kind


def _key(kind: str, raw: str) -> Any:
    if KINDS_BY_NAME[kind].key != "id" or kind == "modetypes":
        return raw
    if not raw.isdigit():
        raise NotFoundError("Not found.")
    return int(raw)


def _boolean(name: str, raw: str) -> bool:
    if raw not in _BOOLEANS:
        raise ValidationError.on(name, "Must be a valid boolean.")
    return _BOOLEANS[raw]


def _number(name: str, raw: str) -> float:
    try:
        return float(raw)
    except ValueError:
        raise ValidationError.on(name, "Enter a number.") from None


def _integer(name: str, raw: str) -> int:
    if not raw.lstrip("-").isdigit():
        raise ValidationError.on(name, "Enter a whole number.")
    return int(raw)


def _instrument_type_code(obs: Observatory, type_id: int) -> str:
    itype = obs.instrument_types.get(type_id)
    return itype.code.casefold() if itype else ""


def _instrument_location(obs: Observatory, instrument: Any) -> tuple[str, str, str]:
    telescope = obs.telescopes[instrument.telescope_id]
    enclosure = obs.enclosures[telescope.enclosure_id]
    return obs.sites[enclosure.site_id].code, enclosure.code, telescope.code


def _located_in(position: int, wanted: set[str], obs: Observatory, instrument: Any) -> bool:
    return _instrument_location(obs, instrument)[position] in wanted


def _attribute_is(attribute: str, wanted: Any, obs: Observatory, record: Any) -> bool:
    return bool(getattr(record, attribute) == wanted)


def _instrument_filters(request: Request[Any, Any, Any]) -> list[Callable[[Observatory, Any], bool]]:
    tests: list[Callable[[Observatory, Any], bool]] = []
    for position, name in enumerate(("site", "enclosure", "telescope")):
        wanted = query_values(request, name)
        if wanted:
            tests.append(functools.partial(_located_in, position, set(wanted)))
    types = {code.casefold() for code in query_values(request, "instrument_type")}
    if types:
        tests.append(lambda obs, r: _instrument_type_code(obs, r.instrument_type_id) in types)
    camera_types = {code.casefold() for code in query_values(request, "camera_type")}
    if camera_types:
        tests.append(
            lambda obs, r: any(
                obs.camera_types[obs.cameras[c].camera_type_id].code.casefold() in camera_types
                for c in r.science_camera_ids
            )
        )
    science = {_integer("science_cameras", v) for v in query_values(request, "science_cameras")}
    if science:
        tests.append(lambda obs, r: bool(science & set(r.science_camera_ids)))
    guiders = {_integer("autoguider_camera", v) for v in query_values(request, "autoguider_camera")}
    if guiders:
        tests.append(lambda obs, r: r.autoguider_camera_id in guiders)
    states = query_values(request, "state")
    for state in states:
        if state not in InstrumentState.__members__:
            raise ValidationError.on("state", f"Select a valid choice. {state} is not one of the available choices.")
    if states:
        tests.append(lambda obs, r: r.state.value in states)
    return tests


# kind -> query parameter -> how to read it and which record attribute it must equal
_SIMPLE_FILTERS: dict[str, dict[str, tuple[str, Callable[[str, str], Any]]]] = {
    "sites": {"code": ("code", lambda n, v: v), "name": ("name", lambda n, v: v)},
    "enclosures": {"code": ("code", lambda n, v: v), "name": ("name", lambda n, v: v), "site": ("site_id", _integer)},
    "telescopes": {
        "code": ("code", lambda n, v: v),
        "name": ("name", lambda n, v: v),
        "enclosure": ("enclosure_id", _integer),
        "aperture": ("aperture", _number),
        "lat": ("lat", _number),
        "long": ("long", _number),
        "horizon": ("horizon", _number),
    },
    "cameras": {"code": ("code", lambda n, v: v), "camera_type": ("camera_type_id", _integer)},
    "cameratypes": {"name": ("name", lambda n, v: v), "pscale": ("pscale", _number)},
    "instrumenttypes": {
        "code": ("code", lambda n, v: v),
        "name": ("name", lambda n, v: v),
        "instrument_category": ("instrument_category", lambda n, v: v),
    },
    "opticalelementgroups": {"name": ("name", lambda n, v: v), "type": ("type", lambda n, v: v)},
    "opticalelements": {
        "id": ("id", _integer),
        "code": ("code", lambda n, v: v),
        "name": ("name", lambda n, v: v),
        "schedulable": ("schedulable", _boolean),
    },
    "genericmodes": {
        "code": ("code", lambda n, v: v),
        "name": ("name", lambda n, v: v),
        "schedulable": ("schedulable", _boolean),
    },
}


def _filters(request: Request[Any, Any, Any], kind: str) -> list[Callable[[Observatory, Any], bool]]:
    tests: list[Callable[[Observatory, Any], bool]] = []
    for name, (attribute, read) in _SIMPLE_FILTERS.get(kind, {}).items():
        raw = query_value(request, name)
        if raw is not None:
            wanted = read(name, raw)
            tests.append(functools.partial(_attribute_is, attribute, wanted))
    if kind == "opticalelementgroups":
        members = {_integer("optical_elements", v) for v in query_values(request, "optical_elements")}
        if members:
            tests.append(lambda obs, r: bool(members & set(r.element_ids)))
    if kind == "instruments":
        tests.extend(_instrument_filters(request))
    return tests


def _ordered(request: Request[Any, Any, Any], kind: str, obs: Observatory, keys: list[Any]) -> list[Any]:
    ordering = query_value(request, "ordering")
    if kind != "instruments" or not ordering or ordering.lstrip("-") not in ("id", "code", "state"):
        return keys  # unknown ordering names are ignored, as upstream
    name = ordering.lstrip("-")
    table = obs.instruments
    return sorted(keys, key=lambda k: getattr(table[k], name), reverse=ordering.startswith("-"))


@get("/configdb/{kind:str}/", tags=["configdb"])
async def list_records(request: Request[Any, Any, Any], kind: FromPath[str]) -> dict[str, Any]:
    """A configdb collection, paginated; /configdb/sites/ is the whole nested tree clients read."""
    return await in_thread(_list_records_sync, request, kind)  # type: ignore[no-any-return]


def _list_records_sync(request: Request[Any, Any, Any], kind: str) -> dict[str, Any]:
    kind = _kind(kind)
    limit, offset = page_bounds(request, PAGE_SIZE, PAGE_SIZE)
    tests = _filters(request, kind)
    obs = _snapshot(request)
    table = obs.records[kind]
    keys = [k for k in ordered_keys(obs, kind) if all(test(obs, table[k]) for test in tests)]
    keys = _ordered(request, kind, obs, keys)
    url_for = _url_for(request)
    results = [record_view(obs, kind, key, url_for) for key in keys[offset : offset + limit]]
    return page(request, len(keys), results, limit, offset)


@get("/configdb/{kind:str}/{key:str}/", tags=["configdb"])
async def get_record(request: Request[Any, Any, Any], kind: FromPath[str], key: FromPath[str]) -> dict[str, Any]:
    """One record of a configdb collection in the same shape as in its list."""
    return await in_thread(_get_record_sync, request, kind, key)  # type: ignore[no-any-return]


def _get_record_sync(request: Request[Any, Any, Any], kind: str, key: str) -> dict[str, Any]:
    kind = _kind(kind)
    return record_view(_snapshot(request), kind, _key(kind, key), _url_for(request))


def _domain_values(kind: str, body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        kind_name = "list" if isinstance(body, list) else type(body).__name__
        raise ValidationError.general(f"Invalid data. Expected a dictionary, but got {kind_name}.")
    renames = WIRE_TO_DOMAIN.get(kind, {})
    known = set(field_types(kind)) | set(COMPOSITE_FIELDS.get(kind, ()))
    values = {renames.get(name, name): value for name, value in body.items()}
    # Unknown keys are ignored, as the OCS's own write API does; the id is assigned, never taken.
    return {name: value for name, value in values.items() if name in known and name != "id"}


def _wire_errors(kind: str, error: ValidationError) -> ValidationError:
    back = {domain: wire for wire, domain in WIRE_TO_DOMAIN.get(kind, {}).items()}
    return ValidationError({back.get(name, name): messages for name, messages in error.errors.items()})


def _write(request: Request[Any, Any, Any], kind: str, command: Any) -> dict[str, Any]:
    try:
        record = container_of(request).bus().handle(command)
    except ValidationError as error:
        raise _wire_errors(kind, error) from None
    key = getattr(record, KINDS_BY_NAME[kind].key)
    return record_view(_snapshot(request), kind, key, _url_for(request))


@post(
    "/configdb/{kind:str}/",
    guards=[staff_only],
    request_max_body_size=WRITE_LIMIT,
    tags=["configdb"],
)
async def create_record(request: Request[Any, Any, Any], kind: FromPath[str], body: RawBody) -> dict[str, Any]:
    """Create a configdb record (staff); the whole resulting tree must stay valid."""
    return await in_thread(_create_record_sync, request, kind, body)  # type: ignore[no-any-return]


def _create_record_sync(request: Request[Any, Any, Any], kind: str, body: bytes) -> dict[str, Any]:
    kind = _kind(kind)
    values = _domain_values(kind, json_body(request, body))
    return _write(request, kind, CreateObservatoryRecord(kind, values, actor=actor_name(request)))


def _update(request: Request[Any, Any, Any], kind: str, key: str, body: bytes, partial: bool) -> dict[str, Any]:
    kind = _kind(kind)
    parsed_key = _key(kind, key)
    values = _domain_values(kind, json_body(request, body))
    command = UpdateObservatoryRecord(kind, parsed_key, values, partial=partial, actor=actor_name(request))
    return _write(request, kind, command)


@patch(
    "/configdb/{kind:str}/{key:str}/",
    guards=[staff_only],
    request_max_body_size=WRITE_LIMIT,
    tags=["configdb"],
)
async def patch_record(
    request: Request[Any, Any, Any], kind: FromPath[str], key: FromPath[str], body: RawBody
) -> dict[str, Any]:
    """Change some fields of a configdb record (staff), e.g. an instrument's ``state``."""
    return await in_thread(_patch_record_sync, request, kind, key, body)  # type: ignore[no-any-return]


def _patch_record_sync(request: Request[Any, Any, Any], kind: str, key: str, body: bytes) -> dict[str, Any]:
    return _update(request, kind, key, body, partial=True)


@put(
    "/configdb/{kind:str}/{key:str}/",
    guards=[staff_only],
    request_max_body_size=WRITE_LIMIT,
    tags=["configdb"],
)
async def put_record(
    request: Request[Any, Any, Any], kind: FromPath[str], key: FromPath[str], body: RawBody
) -> dict[str, Any]:
    """Replace a configdb record (staff); omitted optional fields return to their defaults."""
    return await in_thread(_put_record_sync, request, kind, key, body)  # type: ignore[no-any-return]


def _put_record_sync(request: Request[Any, Any, Any], kind: str, key: str, body: bytes) -> dict[str, Any]:
    return _update(request, kind, key, body, partial=False)


@delete("/configdb/{kind:str}/{key:str}/", guards=[staff_only], tags=["configdb"])
async def delete_record(request: Request[Any, Any, Any], kind: FromPath[str], key: FromPath[str]) -> None:
    """Delete a configdb record (staff); refused with 409 while anything still refers to it."""
    await in_thread(_delete_record_sync, request, kind, key)


def _delete_record_sync(request: Request[Any, Any, Any], kind: str, key: str) -> None:
    kind = _kind(kind)
    container_of(request).bus().handle(DeleteObservatoryRecord(kind, _key(kind, key), actor=actor_name(request)))


@get("/configdb/export/", tags=["configdb"])
async def export(request: Request[Any, Any, Any]) -> dict[str, Any]:
    """The whole observatory as one document in the import format."""
    return await in_thread(_export_sync, request)  # type: ignore[no-any-return]


def _export_sync(request: Request[Any, Any, Any]) -> dict[str, Any]:
    return export_observatory(container_of(request).uow_factory()())


@post(
    "/configdb/import/",
    guards=[staff_only],
    request_max_body_size=IMPORT_LIMIT,
    status_code=HTTP_200_OK,
    tags=["configdb"],
)
async def import_document(request: Request[Any, Any, Any], body: RawBody) -> dict[str, Any]:
    """Load a whole observatory document (staff), all or nothing; ``?replace=true``, ``?dry_run=true``."""
    return await in_thread(_import_document_sync, request, body)  # type: ignore[no-any-return]


def _import_document_sync(request: Request[Any, Any, Any], body: bytes) -> dict[str, Any]:
    flags = {name: _boolean(name, query_value(request, name) or "false") for name in ("replace", "dry_run")}
    document = json_body(request, body)
    if not isinstance(document, dict):
        raise ValidationError.general("Invalid data. Expected an observatory document (a JSON object).")
    command = ImportObservatory(document, replace=flags["replace"], dry_run=flags["dry_run"], actor=actor_name(request))
    plan = container_of(request).bus().handle(command)
    return {
        "dry_run": flags["dry_run"],
        "summary": plan.summary(),
        "created": plan.created,
        "updated": plan.updated,
        "deleted": plan.deleted,
    }


@get("/configdb/api/availability_history/", tags=["configdb"])
async def get_availability_history(request: Request[Any, Any, Any]) -> dict[str, Any]:
    """When an instrument (``instrument_id=<code>``) or a telescope (site_id, enclosure_id, telescope_id)
    was schedulable, newest first."""
    return await in_thread(_get_availability_history_sync, request)  # type: ignore[no-any-return]


def _get_availability_history_sync(request: Request[Any, Any, Any]) -> dict[str, Any]:
    container = container_of(request)
    now = container.clock().now()
    try:
        start = parse_datetime(query_value(request, "start") or "2010-01-01")
        end = parse_datetime(query_value(request, "end")) if query_value(request, "end") else now
    except ValueError as error:
        raise BadRequestError(f"Invalid start or end: {error}") from None
    instrument = query_value(request, "instrument_id")
    telescope = tuple(query_value(request, name) or "" for name in ("site_id", "enclosure_id", "telescope_id"))
    if instrument is None and not all(telescope):
        raise BadRequestError("Must supply either instrument_id or site_id, enclosure_id, and telescope_id in params")
    uow = container.uow_factory()()
    try:
        if instrument is not None:
            return availability_history(uow, now, start, end, instrument_code=instrument)
        return availability_history(uow, now, start, end, telescope=(telescope[0], telescope[1], telescope[2]))
    except NotFoundError as error:
        raise BadRequestError(str(error), 404) from None


ROUTES = [
    export,
    import_document,
    get_availability_history,
    list_records,
    get_record,
    create_record,
    patch_record,
    put_record,
    delete_record,
]
