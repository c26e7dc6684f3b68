"""The request language on the wire: submitted request-group JSON into domain objects, and domain objects out.

Input is the *syntax* level of requests.md 3.1: JSON shapes, types, required keys, enumerations, the ranges a
field carries on its own (ra 0..360, exposure_count >= 1, ...) and the size limits of api.md 8.2 (B6, B7, B9,
B10). Anything that needs configdb, the store or an object's other fields (codes exist, modes, a window inside a
semester, eccentricity per scheme, counts of windows and configurations) is left to semantic validation, which
receives objects built here with the unset values still visible (empty modes, ``acceptability_threshold`` None,
ROI bounds None) so that it can fill configdb's defaults.

Every error in the whole tree is collected before one ValidationError is raised, keyed as DRF keys it and as
clients parse it (requests.md 3.2): lists of strings at leaves, nested objects for objects, and lists aligned by
index for lists of objects, with ``{}`` for the items that are fine.

What real clients send is accepted (api.md rules 9-14, 24): unknown keys at every level are ignored, naive or
space-separated datetimes are UTC, numeric and boolean strings are read as such, ``null`` for an optional field
means its default, and optical-element keys whose value is ``null`` are dropped.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from datetime import datetime
from enum import Enum
from typing import Any

from attrs import frozen

from adapters.serialization import (
    DATETIME_FORMAT_HELP,
    NOT_NULL,
    REQUIRED,
    WIRE,
    FieldError,
    format_datetime,
    parse_datetime,
)
from domain.cadence import CADENCE_END_PAST, Cadence
from domain.errors import NON_FIELD, ValidationError
from domain.request_documents import coerce_extra_params
from domain.requestgroups import (
    TARGET_TYPE_FIELDS,
    AcquisitionConfig,
    Configuration,
    Constraints,
    GuidingConfig,
    InstrumentConfig,
    Location,
    ObservationType,
    Operator,
    OptimizationType,
    OrbitalScheme,
    RegionOfInterest,
    Request,
    RequestGroup,
    Target,
    TargetType,
    Window,
    is_repeat_type,
    required_target_fields,
)

BLANK = "This field may not be blank."
NULL_CHARACTERS = "Null characters are not allowed."
NO_PROPOSAL = "Please provide a proposal."
NO_REQUESTS = "You must specify at least 1 request"
WINDOW_END_PAST = "Window end time must be in the future"

# BEYOND limits (api.md 8.2 B9, B10): bounded work per submission, whatever the body size limit lets through.
MAX_REQUESTS = 1000
MAX_WINDOWS = 1000
MAX_CONFIGURATIONS = 100
MAX_INSTRUMENT_CONFIGS = 100
MAX_JSON_OBJECT_BYTES = 64 * 1024
MAX_JSON_OBJECT_DEPTH = 10  # the extra_params object itself is level 1
# What DRF gives model integer fields, and what a 32-bit integer column holds.
MAX_INTEGER = 2_147_483_647


# ---------------------------------------------------------------------------------------------------------
# Results


@frozen
class ParsedRequestGroup:
    """A submitted group that is well formed, ready for semantic validation.

    ``requests`` carry priorities 1..n (``Request.create``); ``cadences`` is aligned with them, None where a
    request has no cadence block. The submitter is the caller and is not part of the body.
    """

    proposal: str
    name: str
    observation_type: ObservationType
    operator: Operator
    ipp_value: float
    requests: tuple[Request, ...]
    cadences: tuple[Cadence | None, ...]

    @property
    def has_cadence(self) -> bool:
        return any(cadence is not None for cadence in self.cadences)


# ---------------------------------------------------------------------------------------------------------
# Reading one JSON object, collecting its errors


class _Invalid(Exception):
    """A field's errors in DRF's shape: a nested tree for an object, a list of trees for a list of objects."""

    def __init__(self, detail: dict[str, Any] | list[Any]) -> None:
        super().__init__(detail)
        self.detail = detail


Parse = Callable[[Any], Any]


def _type_name(value: Any) -> str:
    return type(value).__name__


class _Object:
    """One JSON object being read: the values of the fields asked for, and the errors under their keys."""

    def __init__(self, raw: Any) -> None:
        if not isinstance(raw, dict):
            raise _Invalid({NON_FIELD: [f"Invalid data. Expected a dictionary, but got {_type_name(raw)}."]})
        self.raw: dict[str, Any] = raw
        self.errors: dict[str, Any] = {}

    def get(
        self, name: str, parse: Parse, *, required: bool = False, default: Any = None, null_message: str = NOT_NULL
    ) -> Any:
        """The parsed value of ``name``; ``default`` when absent or null (a cleared optional field) or invalid."""
        if name not in self.raw:
            if required:
                self.errors[name] = [REQUIRED]
            return default
        raw = self.raw[name]
        if raw is None:
            if required:
                self.errors[name] = [null_message]
            return default
        try:
            return parse(raw)
        except FieldError as error:
            self.errors[name] = [str(error)]
        except _Invalid as error:
            self.errors[name] = error.detail
        return default

    def fail(self, name: str, message: str) -> None:
        self.errors.setdefault(name, [message])

    def check(self) -> None:
        """Raise the object's errors, if any; after this every value read is valid."""
        if self.errors:
            raise _Invalid(self.errors)


# ---------------------------------------------------------------------------------------------------------
# Leaf parsers (each raises FieldError with the DRF message)


def _bounds(value: float, low: float | None, high: float | None) -> None:
    if low is not None and value < low:
        raise FieldError(f"Ensure this value is greater than or equal to {low}.")
    if high is not None and value > high:
        raise FieldError(f"Ensure this value is less than or equal to {high}.")


def _number(low: float | None = None, high: float | None = None) -> Parse:
    def parse(raw: Any) -> float:
        value: float = WIRE.structure(raw, float)
        _bounds(value, low, high)
        return value

    return parse


def _integer(low: int | None = None, high: int = MAX_INTEGER) -> Parse:
    def parse(raw: Any) -> int:
        value: int = WIRE.structure(raw, int)
        _bounds(value, low, high)
        return value

    return parse


def _storable(text: str) -> str:
    """Refuse text no store can hold: NUL characters (as DRF does) and lone surrogates."""
    if "\x00" in text:
        raise FieldError(NULL_CHARACTERS)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise FieldError("Not a valid string.") from None
    return text


def _text(*, max_length: int | None = None, blank: bool = True, upper: bool = False) -> Parse:
    """A DRF CharField: numbers become their text, surrounding whitespace is trimmed."""

    def parse(raw: Any) -> str:
        text = _storable(WIRE.structure(raw, str).strip())
        if not text and not blank:
            raise FieldError(BLANK)
        if max_length is not None and len(text) > max_length:
            raise FieldError(f"Ensure this field has no more than {max_length} characters.")
        return text.upper() if upper else text

    return parse


def _boolean(raw: Any) -> bool:
    value: bool = WIRE.structure(raw, bool)
    return value


def _choice(enum: type[Enum]) -> Parse:
    """An exact enumeration value. Not through WIRE: cattrs dispatches a StrEnum to the ``str`` hook."""

    def parse(raw: Any) -> Any:
        try:
            return enum(raw)
        except ValueError:
            raise FieldError(f'"{raw}" is not a valid choice.') from None

    return parse


def _blank_is_missing(parse: Parse) -> Parse:
    """For target fields, where ``""`` counts as missing (requests.md 2.9)."""

    def wrapped(raw: Any) -> Any:
        if isinstance(raw, str) and not raw.strip():
            return None
        return parse(raw)

    return wrapped


def _datetime(raw: Any) -> datetime:
    try:
        return parse_datetime(raw)
    except OverflowError:  # a valid text whose UTC instant falls outside datetime's range (year 1 at +01:00)
        raise FieldError(DATETIME_FORMAT_HELP) from None


def _future(now: datetime, message: str) -> Parse:
    def parse(raw: Any) -> datetime:
        value = _datetime(raw)
        if value < now:
            raise FieldError(message)
        return value

    return parse


def _proposal_id(raw: Any) -> str:
    """A proposal primary key: a string (numbers are read as their text); whether it exists is semantic."""
    if isinstance(raw, bool) or not isinstance(raw, str | int | float):
        raise FieldError(f"Incorrect type. Expected pk value, received {_type_name(raw)}.")
    if raw == "":
        raise FieldError(NO_PROPOSAL)
    value: str = _storable(WIRE.structure(raw, str))
    return value


def _json_depth_and_finite(value: Any, depth: int) -> None:
    """Walk a JSON value, refusing depth beyond the limit, non-finite numbers and unstorable text."""
    if depth > MAX_JSON_OBJECT_DEPTH:
        raise _TooLarge
    if isinstance(value, dict):
        for key, item in value.items():
            _storable(str(key))
            _json_depth_and_finite(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            _json_depth_and_finite(item, depth + 1)
    elif isinstance(value, float) and not math.isfinite(value):
        raise FieldError("A valid number is required.")
    elif isinstance(value, str):
        _storable(value)


class _TooLarge(Exception):
    pass


def _json_object(name: str, *, coerce: bool) -> Parse:
    """A free JSON object (``extra_params``, guiding ``optical_elements``) within the BEYOND size limits."""

    def parse(raw: Any) -> dict[str, Any]:
        if not isinstance(raw, dict):
            raise FieldError(f'Expected a dictionary of items but got type "{_type_name(raw)}".')
        try:
            _json_depth_and_finite(raw, 1)
        except _TooLarge:
            raise FieldError(f"{name} is too large") from None
        size = len(json.dumps(raw, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))
        if size > MAX_JSON_OBJECT_BYTES:
            raise FieldError(f"{name} is too large")
        if coerce:
            return coerce_extra_params(raw)
        return dict(raw)

    return parse


def _extra_params(*, coerce: bool) -> Parse:
    return _json_object("extra_params", coerce=coerce)


def _many(parse_item: Parse, limit: int | None) -> Parse:
    """A list of objects; item errors are aligned by index with ``{}`` for good items, as DRF does."""

    def parse(raw: Any) -> list[Any]:
        if not isinstance(raw, list):
            raise FieldError(f'Expected a list of items but got type "{_type_name(raw)}".')
        if limit is not None and len(raw) > limit:
            raise FieldError(f"Ensure this field has no more than {limit} elements.")
        items: list[Any] = []
        errors: list[Any] = []
        for item in raw:
            try:
                items.append(parse_item(item))
                errors.append({})
            except _Invalid as error:
                errors.append(error.detail)
        if any(errors):
            raise _Invalid(errors)
        return items

    return parse


def _optical_elements(raw: Any) -> dict[str, str]:
    """Singular group type -> element code; keys whose value is null are dropped (api.md rule 24)."""
    if not isinstance(raw, dict):
        raise FieldError(f'Expected a dictionary of items but got type "{_type_name(raw)}".')
    elements: dict[str, str] = {}
    errors: dict[str, Any] = {}
    for key, value in raw.items():
        if value is None:
            continue
        try:
            elements[_storable(key)] = _text()(value)
        except FieldError as error:
            errors[key] = [str(error)]
    if errors:
        raise _Invalid(errors)
    return elements


# ---------------------------------------------------------------------------------------------------------
# Objects of the tree (requests.md 2.5-2.12)


# Target numbers and their own ranges (2.9); None = unbounded on that side.
_TARGET_NUMBERS: Mapping[str, tuple[float | None, float | None]] = {
    "ra": (0, 360),
    "dec": (-90, 90),
    "hour_angle": (None, None),
    "proper_motion_ra": (None, 20000),
    "proper_motion_dec": (None, 20000),
    "parallax": (None, 2000),
    "epoch": (None, 2100),
    "altitude": (0, 90),
    "azimuth": (0, 360),
    "diff_altitude_rate": (None, None),
    "diff_azimuth_rate": (None, None),
    "diff_altitude_acceleration": (None, None),
    "diff_azimuth_acceleration": (None, None),
    "diff_epoch": (None, None),
    "epochofel": (10000, 100000),
    "orbinc": (0, 180),
    "longascnode": (0, 360),
    "longofperih": (0, 360),
    "argofperih": (0, 360),
    "meandist": (None, None),
    "perihdist": (None, None),
    "eccentricity": (0, None),
    "meanlong": (None, None),
    "meananom": (0, 360),
    "dailymot": (None, None),
    "epochofperih": (361, 240000),
}
# Optional target numbers whose null (or absence) means the spec's default (api.md rule 24).
_TARGET_DEFAULTS: Mapping[str, float] = {
    "proper_motion_ra": 0.0,
    "proper_motion_dec": 0.0,
    "parallax": 0.0,
    "epoch": 2000.0,
}


def _target(raw: Any) -> Target:
    obj = _Object(raw)
    values: dict[str, Any] = {
        name: obj.get(name, _blank_is_missing(_number(low, high))) for name, (low, high) in _TARGET_NUMBERS.items()
    }
    values["name"] = obj.get("name", _blank_is_missing(_text(max_length=50)))
    values["type"] = target_type = obj.get("type", _blank_is_missing(_choice(TargetType)))
    values["scheme"] = scheme = obj.get("scheme", _blank_is_missing(_choice(OrbitalScheme)))
    extra_params = obj.get("extra_params", _extra_params(coerce=True), default={})
    required = required_target_fields(target_type, scheme) if target_type is not None else ("name", "type")
    for name in required:
        if values.get(name) is None and name not in obj.errors:
            obj.fail(name, REQUIRED)
    obj.check()
    own = {name: values[name] for name in TARGET_TYPE_FIELDS[target_type]}
    defaults = {name: own.get(name) if own.get(name) is not None else value for name, value in _TARGET_DEFAULTS.items()}
    return Target(**{**own, **defaults, "name": values["name"], "type": target_type, "extra_params": extra_params})


def _constraints(raw: Any) -> Constraints:
    obj = _Object(raw)
    constraints = Constraints(
        max_airmass=obj.get("max_airmass", _number(1.0, 25.0), default=1.6),
        min_lunar_distance=obj.get("min_lunar_distance", _number(0, 180), default=30.0),
        max_lunar_phase=obj.get("max_lunar_phase", _number(0, 1), default=1.0),
        max_seeing=obj.get("max_seeing", _number(0)),
        min_transparency=obj.get("min_transparency", _number()),
        extra_params=obj.get("extra_params", _extra_params(coerce=False), default={}),
    )
    obj.check()
    return constraints


def _acquisition_config(raw: Any) -> AcquisitionConfig:
    obj = _Object(raw)
    config = AcquisitionConfig(
        mode=obj.get("mode", _text(), default=""),
        exposure_time=obj.get("exposure_time", _number(0, 60)),
        extra_params=obj.get("extra_params", _extra_params(coerce=True), default={}),
    )
    obj.check()
    return config


def _guiding_config(raw: Any) -> GuidingConfig:
    obj = _Object(raw)
    config = GuidingConfig(
        mode=obj.get("mode", _text(), default=""),
        optional=obj.get("optional", _boolean, default=True),
        optical_elements=obj.get("optical_elements", _json_object("optical_elements", coerce=False), default={}),
        exposure_time=obj.get("exposure_time", _number(0, 120)),
        extra_params=obj.get("extra_params", _extra_params(coerce=True), default={}),
    )
    obj.check()
    return config


def _region_of_interest(raw: Any) -> RegionOfInterest:
    obj = _Object(raw)
    roi = RegionOfInterest(**{name: obj.get(name, _integer(0)) for name in ("x1", "x2", "y1", "y2")})
    obj.check()
    return roi


def _instrument_config(raw: Any) -> InstrumentConfig:
    obj = _Object(raw)
    exposure_time = obj.get("exposure_time", _number(0), required=True)
    exposure_count = obj.get("exposure_count", _integer(1), required=True)
    mode = obj.get("mode", _text(max_length=50), default="")
    rotator_mode = obj.get("rotator_mode", _text(), default="")
    optical_elements = obj.get("optical_elements", _optical_elements, default={})
    extra_params = obj.get("extra_params", _extra_params(coerce=True), default={})
    rois = obj.get("rois", _many(_region_of_interest, None), default=[])
    obj.check()
    return InstrumentConfig(
        exposure_time=exposure_time,
        exposure_count=exposure_count,
        mode=mode,
        rotator_mode=rotator_mode,
        optical_elements=optical_elements,
        extra_params=extra_params,
        rois=rois,
    )


def _configuration_parser(*, direct: bool) -> Callable[[Any], Configuration]:
    """Configurations; ``instrument_name``/``guide_camera_name`` are read only where they mean something."""

    def parse(raw: Any) -> Configuration:
        obj = _Object(raw)
        fields: dict[str, Any] = {
            "instrument_type": obj.get("instrument_type", _text(blank=False), required=True),
            "type": obj.get("type", _text(blank=False, upper=True), required=True),
            "repeat_duration": obj.get("repeat_duration", _number(0)),
            "fill_window": obj.get("fill_window", _boolean, default=False),
            "extra_params": obj.get("extra_params", _extra_params(coerce=True), default={}),
            "instrument_configs": obj.get(
                "instrument_configs", _many(_instrument_config, MAX_INSTRUMENT_CONFIGS), required=True
            ),
            "target": obj.get("target", _target, required=True),
            "constraints": obj.get("constraints", _constraints, required=True),
            "acquisition_config": obj.get("acquisition_config", _acquisition_config, required=True),
            "guiding_config": obj.get("guiding_config", _guiding_config, required=True),
        }
        if direct:
            fields["instrument_name"] = obj.get("instrument_name", _text(), default="")
            fields["guide_camera_name"] = obj.get("guide_camera_name", _text(), default="")
        obj.check()
        return Configuration(**fields)

    return parse


def _location(raw: Any) -> Location:
    obj = _Object(raw)
    location = Location(
        telescope_class=obj.get("telescope_class", _text(blank=False), required=True),
        site=obj.get("site", _text(), default=""),
        enclosure=obj.get("enclosure", _text(), default=""),
        telescope=obj.get("telescope", _text(), default=""),
    )
    obj.check()
    return location


def _window_parser(now: datetime) -> Parse:
    def parse(raw: Any) -> Window:
        obj = _Object(raw)
        start = obj.get("start", _datetime, default=now)
        end = obj.get("end", _future(now, WINDOW_END_PAST), required=True)
        obj.check()
        return Window(start, end)

    return parse


def _cadence_parser(now: datetime) -> Parse:
    def parse(raw: Any) -> Cadence:
        obj = _Object(raw)
        start = obj.get("start", _datetime, required=True)
        end = obj.get("end", _future(now, CADENCE_END_PAST), required=True)
        period = obj.get("period", _number(0.02), required=True)
        jitter = obj.get("jitter", _number(0.02), required=True)
        obj.check()
        return Cadence(start, end, period, jitter)

    return parse


def _request_parser(observation_type: ObservationType | None, now: datetime) -> Callable[[Any], tuple[Request, Any]]:
    """Requests with their cadence block (or None).

    Windows and location are required for scheduled types (and when the type is unknown, the common case);
    windows are not required of a request with a cadence block, whose windows the cadence endpoint makes.
    """
    scheduled = observation_type is None or observation_type.is_scheduled
    direct = not scheduled

    def parse(raw: Any) -> tuple[Request, Cadence | None]:
        obj = _Object(raw)
        cadence = obj.get("cadence", _cadence_parser(now))
        has_cadence = isinstance(obj.raw.get("cadence"), dict)
        configurations = obj.get(
            "configurations", _many(_configuration_parser(direct=direct), MAX_CONFIGURATIONS), required=True
        )
        fields: dict[str, Any] = {
            "location": obj.get("location", _location, required=scheduled),
            "windows": obj.get(
                "windows", _many(_window_parser(now), MAX_WINDOWS), required=scheduled and not has_cadence, default=[]
            ),
            "observation_note": obj.get("observation_note", _text(max_length=255), default=""),
            "optimization_type": obj.get("optimization_type", _choice(OptimizationType), default=OptimizationType.TIME),
            "acceptability_threshold": obj.get("acceptability_threshold", _number(0, 100)),
            "configuration_repeats": obj.get("configuration_repeats", _integer(1), default=1),
            "extra_params": obj.get("extra_params", _extra_params(coerce=False), default={}),
        }
        obj.check()
        return Request.create(configurations, **fields), cadence

    return parse


# ---------------------------------------------------------------------------------------------------------
# Entry points


def _raise(error: _Invalid) -> ValidationError:
    detail = error.detail
    return ValidationError(detail if isinstance(detail, dict) else {NON_FIELD: detail})


def parse_request_group(body: Any, *, now: datetime) -> ParsedRequestGroup:
    """A submitted request group as domain objects, or ValidationError with every syntax error of the tree.

    ``now`` is the start of a window given without one (requests.md 2.6), and window and cadence ends before
    it are refused on the field, as DRF does.
    """
    try:
        obj = _Object(body)
        fields = {
            "proposal": obj.get("proposal", _proposal_id, required=True, null_message=NO_PROPOSAL),
            "name": obj.get("name", _text(max_length=50, blank=False), required=True),
            "observation_type": obj.get("observation_type", _choice(ObservationType), required=True),
            "operator": obj.get("operator", _choice(Operator), required=True),
            "ipp_value": obj.get("ipp_value", _number(), required=True),
        }
        parse_requests = _many(_request_parser(fields["observation_type"], now), MAX_REQUESTS)
        parsed = obj.get("requests", parse_requests, required=True)
        if parsed == [] and "requests" not in obj.errors:
            obj.fail("requests", NO_REQUESTS)
        obj.check()
    except _Invalid as error:
        raise _raise(error) from None
    return ParsedRequestGroup(
        **fields,
        requests=tuple(request for request, _ in parsed),
        cadences=tuple(cadence for _, cadence in parsed),
    )


def parse_request(body: Any, *, now: datetime) -> Request:
    """A bare request (airmass, mosaic) of a scheduled type; a cadence block is ignored here, windows are not."""
    if isinstance(body, dict):
        body = {key: value for key, value in body.items() if key != "cadence"}
    try:
        request, _ = _request_parser(None, now)(body)
    except _Invalid as error:
        raise _raise(error) from None
    return request


def parse_configuration(body: Any) -> Configuration:
    """A bare configuration (dither); ``instrument_name``/``guide_camera_name`` are kept if given."""
    try:
        return _configuration_parser(direct=True)(body)
    except _Invalid as error:
        raise _raise(error) from None


# ---------------------------------------------------------------------------------------------------------
# Output shapes (api.md 5.3, requests.md 2.14)


def _assigned(body: dict[str, Any], **fields: Any) -> dict[str, Any]:
    """Add server-assigned fields that have been assigned; an unsaved object has no id and no timestamps."""
    for name, value in fields.items():
        if value is not None:
            body[name] = format_datetime(value) if isinstance(value, datetime) else value
    return body


def _optional_datetime(value: datetime | None) -> str | None:
    return None if value is None else format_datetime(value)


def _target_json(target: Target) -> dict[str, Any]:
    return {
        name: str(value) if isinstance(value, Enum) else (dict(value) if isinstance(value, dict) else value)
        for name, value in target.type_fields().items()
    }


def _instrument_config_json(config: InstrumentConfig, *, always_rois: bool) -> dict[str, Any]:
    body: dict[str, Any] = {
        "exposure_time": config.exposure_time,
        "exposure_count": config.exposure_count,
        "mode": config.mode,
        "rotator_mode": config.rotator_mode,
        "optical_elements": dict(config.optical_elements),
        "extra_params": dict(config.extra_params),
    }
    if config.rois or always_rois:
        body["rois"] = [{"x1": r.x1, "x2": r.x2, "y1": r.y1, "y2": r.y2} for r in config.rois]
    return body


def configuration_json(configuration: Configuration, *, always_rois: bool) -> dict[str, Any]:
    """A configuration as echoed: ``rois`` only when non-empty unless ``always_rois`` (the scheduler's shapes).

    ``repeat_duration`` appears for repeat types only; ``fill_window`` never; ``priority`` once assigned.
    """
    body = _assigned({}, id=configuration.id, priority=configuration.priority or None)
    body |= {
        "type": configuration.type,
        "instrument_type": configuration.instrument_type,
        "extra_params": dict(configuration.extra_params),
        "instrument_configs": [
            _instrument_config_json(config, always_rois=always_rois) for config in configuration.instrument_configs
        ],
        "acquisition_config": _acquisition_json(configuration.acquisition_config),
        "guiding_config": _guiding_json(configuration.guiding_config),
        "target": _target_json(configuration.target),
        "constraints": _constraints_json(configuration.constraints),
    }
    if is_repeat_type(configuration.type):
        body["repeat_duration"] = configuration.repeat_duration
    if configuration.instrument_name:
        body["instrument_name"] = configuration.instrument_name
    if configuration.guide_camera_name:
        body["guide_camera_name"] = configuration.guide_camera_name
    return body


def _acquisition_json(config: AcquisitionConfig) -> dict[str, Any]:
    body: dict[str, Any] = {"mode": config.mode, "extra_params": dict(config.extra_params)}
    if config.exposure_time is not None:
        body["exposure_time"] = config.exposure_time
    return body


def _guiding_json(config: GuidingConfig) -> dict[str, Any]:
    # exposure_time is kept even when null: pyobs decodes the guiding config with that key (api.md 4.3).
    return {
        "mode": config.mode,
        "optional": config.optional,
        "optical_elements": dict(config.optical_elements),
        "exposure_time": config.exposure_time,
        "extra_params": dict(config.extra_params),
    }


def _constraints_json(constraints: Constraints) -> dict[str, Any]:
    body: dict[str, Any] = {
        "max_airmass": constraints.max_airmass,
        "min_lunar_distance": constraints.min_lunar_distance,
        "max_lunar_phase": constraints.max_lunar_phase,
    }
    if constraints.max_seeing is not None:
        body["max_seeing"] = constraints.max_seeing
    if constraints.min_transparency is not None:
        body["min_transparency"] = constraints.min_transparency
    body["extra_params"] = dict(constraints.extra_params)
    return body


def _location_json(location: Location) -> dict[str, str]:
    parts = {
        "telescope_class": location.telescope_class,
        "site": location.site,
        "enclosure": location.enclosure,
        "telescope": location.telescope,
    }
    return {name: value for name, value in parts.items() if value}


def request_json(request: Request, *, always_rois: bool = False) -> dict[str, Any]:
    """A request in the detail shape (api.md 5.3); ``location`` is absent when the request has none (DIRECT)."""
    body = _assigned({}, id=request.id)
    body |= {
        "state": str(request.state),
        "duration": request.duration,
        "acceptability_threshold": request.acceptability_threshold,
        "configuration_repeats": request.configuration_repeats,
        "optimization_type": str(request.optimization_type),
        "observation_note": request.observation_note,
        "extra_params": dict(request.extra_params),
        "suspend_until": _optional_datetime(request.suspend_until),
    }
    _assigned(body, created=request.created, modified=request.modified)
    if request.location is not None:
        body["location"] = _location_json(request.location)
    body["windows"] = [{"start": format_datetime(w.start), "end": format_datetime(w.end)} for w in request.windows]
    body["configurations"] = [
        configuration_json(configuration, always_rois=always_rois)
        for configuration in request.configurations_in_order()
    ]
    return body


def request_group_json(group: RequestGroup, *, always_rois: bool = False) -> dict[str, Any]:
    """A request group in the detail / create-response shape (api.md 5.3)."""
    body = _assigned({}, id=group.id)
    body |= {
        "submitter": group.submitter,
        "proposal": group.proposal,
        "name": group.name,
        "observation_type": str(group.observation_type),
        "operator": str(group.operator),
        "ipp_value": group.ipp_value,
        "state": str(group.state),
    }
    _assigned(body, created=group.created, modified=group.modified)
    body["requests"] = [request_json(request, always_rois=always_rois) for request in group.requests]
    return body
