"""The request helpers that expand without storing, over HTTP (api.md 4.1 cadence, 4.2 mosaic, 4.4 dither): TOM and
the api-examples post a request group, request or configuration with pattern parameters and resubmit the 200
answer unchanged.

Thin on purpose: bodies become domain objects at the edge (adapters.request_wire for the request language, the
wire converter for the pattern fields), the use cases of application.request_helpers expand and check them, and
the answers go out in the shapes of api.md 5.3.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from litestar import Request, post
from litestar.params import RawBody
from litestar.status_codes import HTTP_200_OK

from adapters.request_wire import (
    configuration_json,
    parse_configuration,
    parse_request,
    parse_request_group,
    request_group_json,
    request_json,
)
from adapters.serialization import REQUIRED, FieldSpec, structure_fields
from application.handlers.requestgroups import HooksFactory
from application.request_helpers import dither, expand_cadence, mosaic
from domain.errors import ErrorTree, ValidationError, merge_errors
from domain.patterns import Pattern, PatternParameters
from entrypoints.http.auth import current_actor, signed_in
from entrypoints.http.errors import PORTAL_BODY_LIMIT
from entrypoints.http.wire import container_of, in_thread, json_body, unit_of_work

# The pattern fields of 7.2 and 7.3. ``null`` means the default, as a cleared TOM form field does (api.md 24).
_PATTERN_FIELDS = {
    "pattern": FieldSpec(str, required=True),
    "num_points": FieldSpec(int, nullable=True),
    "point_spacing": FieldSpec(float, nullable=True),
    "line_spacing": FieldSpec(float, nullable=True),
    "num_rows": FieldSpec(int, nullable=True),
    "num_columns": FieldSpec(int, nullable=True),
    "orientation": FieldSpec(float, nullable=True),
    "center": FieldSpec(bool, nullable=True),
}
_MOSAIC_FIELDS = {
    **_PATTERN_FIELDS,
    "point_overlap_percent": FieldSpec(float, nullable=True),
    "line_overlap_percent": FieldSpec(float, nullable=True),
}


def _hooks(request: Request[Any, Any, Any]) -> HooksFactory | None:
    """The sky check the container wires in (None: every cadence window counts as visible)."""
    return container_of(request).visibility_hooks()  # type: ignore[no-any-return]


def _pattern_and(
    body: Any, specs: dict[str, FieldSpec], nested: str, parse: Callable[[Any], Any]
) -> tuple[PatternParameters, Any]:
    """The pattern fields and the nested object (``configuration`` or ``request``), every syntax error of
    both in one 400 as DRF reports a serializer with a nested one."""
    errors: ErrorTree = {}
    fields: dict[str, Any] = {}
    try:
        fields = structure_fields(body, specs)
    except ValidationError as error:
        if not isinstance(body, dict):
            raise
        errors = error.errors
    # Read as text and matched here: the wire converter's str hook would take a StrEnum before its enum hook.
    if "pattern" in fields and fields["pattern"] not in set(Pattern):
        errors["pattern"] = [f'"{fields["pattern"]}" is not a valid choice.']
    parsed = None
    if nested not in body:
        errors[nested] = [REQUIRED]
    else:
        try:
            parsed = parse(body[nested])
        except ValidationError as error:
            merge_errors(errors, {nested: error.errors})
    if errors:
        raise ValidationError(errors)
    parameters = PatternParameters(
        pattern=Pattern(fields["pattern"]),
        num_points=fields.get("num_points"),
        point_spacing_arcsec=fields.get("point_spacing"),
        line_spacing_arcsec=fields.get("line_spacing"),
        num_rows=fields.get("num_rows"),
        num_columns=fields.get("num_columns"),
        orientation_deg=fields.get("orientation") or 0.0,
        center=bool(fields.get("center")),
        point_overlap_percent=fields.get("point_overlap_percent"),
        line_overlap_percent=fields.get("line_overlap_percent"),
    )
    return parameters, parsed


def _cadence(request: Request[Any, Any, Any], body: bytes) -> dict[str, Any]:
    now = container_of(request).clock().now()
    parsed = parse_request_group(json_body(request, body), now=now)
    group = expand_cadence(unit_of_work(request), current_actor(request), parsed, now, _hooks(request))
    return request_group_json(group)


def _dither(request: Request[Any, Any, Any], body: bytes) -> dict[str, Any]:
    parameters, configuration = _pattern_and(
        json_body(request, body), _PATTERN_FIELDS, "configuration", parse_configuration
    )
    expanded = dither(unit_of_work(request), current_actor(request), configuration, parameters)
    return configuration_json(expanded, always_rois=False)


def _mosaic(request: Request[Any, Any, Any], body: bytes) -> dict[str, Any]:
    now = container_of(request).clock().now()
    parameters, bare = _pattern_and(
        json_body(request, body), _MOSAIC_FIELDS, "request", lambda raw: parse_request(raw, now=now)
    )
    expanded = mosaic(unit_of_work(request), current_actor(request), bare, parameters)
    return request_json(expanded)


_HELPER: dict[str, Any] = {
    "status_code": HTTP_200_OK,
    "guards": [signed_in],
    "request_max_body_size": PORTAL_BODY_LIMIT,
}


@post("/api/requestgroups/cadence/", tags=["requestgroups"], **_HELPER)
async def cadence(request: Request[Any, Any, Any], body: RawBody) -> dict[str, Any]:
    """Expand each request's ``cadence`` block into one request per visible window (requests.md 7.1): 200 with
    the group to submit (operator MANY when several requests result), nothing stored; 400 with the errors."""
    return await in_thread(_cadence, request, body)  # type: ignore[no-any-return]


@post("/api/configurations/dither/", tags=["requests"], **_HELPER)
async def dither_configuration(request: Request[Any, Any, Any], body: RawBody) -> dict[str, Any]:
    """Repeat a configuration's instrument configs at the offsets of a line, grid or spiral pattern (requests.md
    7.2): 200 with the configuration to submit, nothing stored; 400 with the errors."""
    return await in_thread(_dither, request, body)  # type: ignore[no-any-return]


@post("/api/requests/mosaic/", tags=["requests"], **_HELPER)
async def mosaic_request(request: Request[Any, Any, Any], body: RawBody) -> dict[str, Any]:
    """Repeat a request's one ICRS configuration at the pointings of a line or grid pattern (requests.md 7.3),
    spacings given or from overlap percentages of the detector: 200 with the request, nothing stored."""
    return await in_thread(_mosaic, request, body)  # type: ignore[no-any-return]


ROUTES = [cadence, dither_configuration, mosaic_request]
