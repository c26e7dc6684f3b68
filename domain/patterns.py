"""Dither and mosaic patterns (requests.md 7.2, 7.3): offsets on the sky in arcseconds, and the configuration or
request they expand into. Pure geometry over domain values; nothing here is stored.

Offsets are (x, y) = (offset_ra, offset_dec) in arcseconds. Orientation is measured from North (+y) through East,
which is a counter-clockwise rotation of the pattern drawn with North up: a line at orientation 0 runs along +dec,
at 90 along -ra (x = -d sin theta, y = d cos theta).
"""

from __future__ import annotations

import enum
import math
from collections.abc import Sequence
from typing import Any

from attrs import evolve, field, frozen

from domain.errors import NON_FIELD, ErrorTree, ValidationError
from domain.observatory import InstrumentState, Observatory
from domain.request_documents import replace
from domain.requestgroups import Configuration, Request, TargetType

NEED_POINTS = "Must specify num_points when selecting a line or spiral pattern"
NEED_GRID = "Must specify num_rows and num_columns when selecting a grid pattern"
NEED_SPACING = "Must specify one of point_spacing or point_overlap_percent"
MOSAIC_ONE_CONFIGURATION = "Cannot expand a request for mosaicing with more than one configuration set"
MOSAIC_ICRS_ONLY = (
    "Mosaic expansion is only for ICRS Targets. Try using dither expansion for patterns with other target types"
)
MOSAIC_NO_DETECTOR = "The instrument type has no science camera to measure an overlap percentage against"
MOSAIC_PAST_POLE = "The mosaic pattern reaches past a celestial pole; reduce the spacing or the number of points"
# BEYOND: what one configuration and one request may hold on submission (api.md 8.2 B9), checked before the
# offsets are computed, so that an expansion answer can always be submitted and never costs unbounded work.
MAX_INSTRUMENT_CONFIGS = 100
MAX_CONFIGURATIONS = 100
OFFSET_DECIMALS = 3
MIN_COS_DEC = 0.001


class Pattern(enum.StrEnum):
    """Expansion patterns. ``custom`` (2.2) names hand-written offsets and has nothing to expand."""

    LINE = "line"
    GRID = "grid"
    SPIRAL = "spiral"


MOSAIC_EXPANSIONS = (Pattern.LINE, Pattern.GRID)

Offset = tuple[float, float]


@frozen
class PatternParameters:
    """The pattern fields of a dither or mosaic body (7.2, 7.3) as the client gave them; None means not given.

    ``point_spacing_arcsec`` is the distance between points along a line (and between rows of a grid),
    ``line_spacing_arcsec`` between the columns of a grid (defaulting to the point spacing).
    """

    pattern: Pattern = field(converter=Pattern)
    num_points: int | None = None
    point_spacing_arcsec: float | None = None
    line_spacing_arcsec: float | None = None
    num_rows: int | None = None
    num_columns: int | None = None
    orientation_deg: float = 0.0
    center: bool = False
    point_overlap_percent: float | None = None
    line_overlap_percent: float | None = None

    @property
    def point_count(self) -> int:
        """How many offsets the pattern gives (0 when its counts are missing)."""
        if self.pattern is Pattern.GRID:
            return (self.num_rows or 0) * (self.num_columns or 0)
        return self.num_points or 0


# ---------------------------------------------------------------------------------------------------------
# Rules on the parameters


def _field_errors(parameters: PatternParameters) -> ErrorTree:
    errors: ErrorTree = {}
    for name in ("num_points", "num_rows", "num_columns"):
        value = getattr(parameters, name)
        if value is not None and value < 1:
            errors[name] = ["Ensure this value is greater than or equal to 1."]
    for name in ("point_spacing_arcsec", "line_spacing_arcsec"):
        value = getattr(parameters, name)
        if value is not None and value < 0:
            errors[name.removesuffix("_arcsec")] = ["Ensure this value is greater than or equal to 0."]
    for name in ("point_overlap_percent", "line_overlap_percent"):
        value = getattr(parameters, name)
        if value is not None and not 0 <= value <= 100:
            bound = "greater than or equal to 0.0" if value < 0 else "less than or equal to 100.0"
            errors[name] = [f"Ensure this value is {bound}."]
    return errors


def pattern_errors(
    parameters: PatternParameters, *, overlap_allowed: bool, per_point: int, limit: int, what: str
) -> ErrorTree:
    """Field ranges, then the pattern's own rules (7.2, 7.3) as non-field errors; {} when the pattern can expand.

    ``overlap_allowed`` (mosaic) lets an overlap percentage stand in for the point spacing, which a dither must
    give. The expansion makes ``per_point`` ``what`` for each point, at most ``limit`` in all.
    """
    errors = _field_errors(parameters)
    if not overlap_allowed and parameters.point_spacing_arcsec is None:
        errors["point_spacing"] = ["This field is required."]
    if errors:
        return errors
    messages = []
    if parameters.pattern in (Pattern.LINE, Pattern.SPIRAL) and parameters.num_points is None:
        messages.append(NEED_POINTS)
    if parameters.pattern is Pattern.GRID and (parameters.num_rows is None or parameters.num_columns is None):
        messages.append(NEED_GRID)
    if parameters.point_spacing_arcsec is None and parameters.point_overlap_percent is None:
        messages.append(NEED_SPACING)
    made = parameters.point_count * per_point
    if not messages and made > limit:
        messages.append(f"The pattern would make {made} {what}; the limit is {limit}")
    return {NON_FIELD: messages} if messages else {}


def _check(errors: ErrorTree) -> None:
    if errors:
        raise ValidationError(errors)


# ---------------------------------------------------------------------------------------------------------
# Offsets


def _rotate(x: float, y: float, orientation_deg: float) -> Offset:
    """(x, y) turned by the orientation, North through East (counter-clockwise with North up)."""
    sin_o, cos_o = math.sin(math.radians(orientation_deg)), math.cos(math.radians(orientation_deg))
    return x * cos_o - y * sin_o, x * sin_o + y * cos_o


def line_offsets(
    num_points: int, spacing_arcsec: float, orientation_deg: float = 0.0, center: bool = False
) -> list[Offset]:
    """Points ``spacing`` apart along the orientation, from the origin (or with the line's middle on it)."""
    shift = -(num_points - 1) * spacing_arcsec / 2 if center else 0.0
    return [_rotate(0.0, i * spacing_arcsec + shift, orientation_deg) for i in range(num_points)]


def spiral_offsets(num_points: int, spacing_arcsec: float) -> list[Offset]:
    """The origin, then points about ``spacing`` apart along the Archimedean spiral r = theta: the n-th at
    radius (and angle, in radians) sqrt(2 x spacing x n). As upstream, orientation and centre do not apply."""
    offsets: list[Offset] = [(0.0, 0.0)]
    for n in range(1, num_points):
        radius = math.sqrt(2 * spacing_arcsec * n)
        offsets.append((radius * math.cos(radius), radius * math.sin(radius)))
    return offsets[:num_points]


def grid_offsets(
    num_rows: int,
    num_columns: int,
    point_spacing_arcsec: float,
    line_spacing_arcsec: float,
    orientation_deg: float = 0.0,
    center: bool = False,
) -> list[Offset]:
    """A serpentine grid: columns ``line_spacing`` apart along x, rows ``point_spacing`` apart along y, every
    second column walked backwards so the telescope never jumps back across the grid; rotated, optionally centred.
    """
    row_shift = -point_spacing_arcsec * (num_rows - 1) / 2 if center else 0.0
    column_shift = -line_spacing_arcsec * (num_columns - 1) / 2 if center else 0.0
    offsets = []
    for column in range(num_columns):
        rows = range(num_rows) if column % 2 == 0 else reversed(range(num_rows))
        for row in rows:
            x = column * line_spacing_arcsec + column_shift
            y = row * point_spacing_arcsec + row_shift
            offsets.append(_rotate(x, y, orientation_deg))
    return offsets


def pattern_offsets(parameters: PatternParameters) -> list[Offset]:
    """The offsets of a pattern whose parameters passed ``pattern_errors``."""
    spacing = parameters.point_spacing_arcsec or 0.0
    if parameters.pattern is Pattern.LINE:
        return line_offsets(parameters.num_points or 0, spacing, parameters.orientation_deg, parameters.center)
    if parameters.pattern is Pattern.SPIRAL:
        return spiral_offsets(parameters.num_points or 0, spacing)
    line_spacing = parameters.line_spacing_arcsec if parameters.line_spacing_arcsec is not None else spacing
    return grid_offsets(
        parameters.num_rows or 0,
        parameters.num_columns or 0,
        spacing,
        line_spacing,
        parameters.orientation_deg,
        parameters.center,
    )


def _written(value: float) -> float:
    """Rounded as the wire carries offsets, with -0 written as 0."""
    return round(value, OFFSET_DECIMALS) + 0.0


# ---------------------------------------------------------------------------------------------------------
# Dither (7.2)


def dither_configuration(configuration: Configuration, parameters: PatternParameters) -> Configuration:
    """The configuration with its instrument configs repeated once per offset, offset-major, each carrying
    ``offset_ra``/``offset_dec``, and ``dither_pattern`` set to the pattern."""
    _check(
        pattern_errors(
            parameters,
            overlap_allowed=False,
            per_point=max(len(configuration.instrument_configs), 1),
            limit=MAX_INSTRUMENT_CONFIGS,
            what="instrument configurations",
        )
    )
    instrument_configs = tuple(
        evolve(
            instrument_config,
            extra_params={**instrument_config.extra_params, "offset_ra": _written(x), "offset_dec": _written(y)},
        )
        for x, y in pattern_offsets(parameters)
        for instrument_config in configuration.instrument_configs
    )
    extra_params = {**configuration.extra_params, "dither_pattern": str(parameters.pattern)}
    return replace(configuration, instrument_configs=instrument_configs, extra_params=extra_params)


# ---------------------------------------------------------------------------------------------------------
# Mosaic (7.3)


@frozen
class DetectorField:
    """What an instrument type's science camera covers: detector pixels, pixel scale and the camera's angle
    (counter-clockwise from North), averaged over the instruments of the type."""

    pixels_x: int
    pixels_y: int
    pixel_scale_arcsec: float
    orientation_deg: float

    @classmethod
    def of(cls, observatory: Observatory, instrument_type: str) -> DetectorField | None:
        """The field of an instrument type (code in any case): the camera type of the first science camera in
        canonical order, and the circular mean of every science camera's orientation, so that 359.8 and 0.2
        average to 0, not 180. Instruments in service are preferred; None when the type has no camera."""
        itype = observatory.find_instrument_type(instrument_type)
        if itype is None:
            return None
        instruments = [i for i in observatory.canonical_instruments() if i.instrument_type_id == itype.id]
        in_service = [i for i in instruments if i.state is not InstrumentState.DISABLED]
        cameras = [
            observatory.cameras[camera_id]
            for instrument in in_service or instruments
            for camera_id in instrument.science_camera_ids
            if camera_id in observatory.cameras
        ]
        if not cameras:
            return None
        camera_type = observatory.camera_types.get(cameras[0].camera_type_id)
        if camera_type is None:
            return None
        return cls(
            camera_type.pixels_x,
            camera_type.pixels_y,
            camera_type.pscale,
            circular_mean_deg([camera.orientation for camera in cameras]),
        )


def circular_mean_deg(angles_deg: Sequence[float]) -> float:
    """The mean direction of angles in degrees, in [0, 360)."""
    sin_sum = sum(math.sin(math.radians(a)) for a in angles_deg)
    cos_sum = sum(math.cos(math.radians(a)) for a in angles_deg)
    mean = math.degrees(math.atan2(sin_sum, cos_sum)) % 360.0
    # atan2 of a tiny negative sine gives 359.99999...; snap values that round to 360 back to 0.
    return 0.0 if math.isclose(mean, 360.0, abs_tol=1e-9) else mean


def _nearer_east_west(orientation_deg: float) -> bool:
    """Whether the pattern runs nearer 90 or 270 degrees than 0 or 180; 45 and 225 count as East-West, 135 and
    315 as North-South (upstream leaves 315 undefined and fails on it)."""
    folded = orientation_deg % 180.0
    return 45.0 <= folded < 135.0


def spacings_from_overlap(parameters: PatternParameters, detector: DetectorField) -> PatternParameters:
    """Point and line spacings from the overlap percentages (7.3): the detector's extent along each axis,
    turned by the camera orientation, times the pixel scale, times (100 - overlap) %. The line overlap
    defaults to the point overlap; point and line swap when the pattern runs nearer East-West."""
    if parameters.point_overlap_percent is None:
        return parameters
    point_overlap = parameters.point_overlap_percent
    line_overlap = parameters.line_overlap_percent if parameters.line_overlap_percent is not None else point_overlap
    sin_o = math.sin(math.radians(detector.orientation_deg))
    cos_o = math.cos(math.radians(detector.orientation_deg))
    extent_x = detector.pixels_x * cos_o + detector.pixels_y * sin_o
    extent_y = -detector.pixels_x * sin_o + detector.pixels_y * cos_o
    point = abs(extent_y) * detector.pixel_scale_arcsec * (100.0 - point_overlap) / 100.0
    line = abs(extent_x) * detector.pixel_scale_arcsec * (100.0 - line_overlap) / 100.0
    if _nearer_east_west(parameters.orientation_deg):
        point, line = line, point
    return evolve(parameters, point_spacing_arcsec=point, line_spacing_arcsec=line)


def mosaic_request_errors(request: Request) -> ErrorTree:
    """What makes a request impossible to mosaic, keyed ``request`` as the body's field (7.3)."""
    if len(request.configurations) > 1:
        return {"request": [MOSAIC_ONE_CONFIGURATION]}
    if not request.configurations or request.configurations[0].target.type is not TargetType.ICRS:
        return {"request": [MOSAIC_ICRS_ONLY]}
    return {}


def mosaic_parameter_errors(parameters: PatternParameters) -> ErrorTree:
    """The pattern's rules for a mosaic: line or grid, a spacing or an overlap, at most 100 pointings."""
    if parameters.pattern not in MOSAIC_EXPANSIONS:
        return {"pattern": [f'"{parameters.pattern}" is not a valid choice.']}
    return pattern_errors(
        parameters, overlap_allowed=True, per_point=1, limit=MAX_CONFIGURATIONS, what="mosaic pointings"
    )


def _shifted(configuration: Configuration, offset: Offset) -> Configuration | None:
    """A copy pointed ``offset`` away: dec first, then ra scaled by the new cos(dec); None past a pole."""
    target = configuration.target
    if target.ra is None or target.dec is None:  # an ICRS target always has both once it passed the edge
        raise ValidationError({"request": [MOSAIC_ICRS_ONLY]})
    dec = target.dec + offset[1] / 3600.0
    if abs(dec) > 90.0:
        return None
    cos_dec = max(math.cos(math.radians(dec)), MIN_COS_DEC)
    # BEYOND: ra wraps into [0, 360) so that the answer can be submitted as it is.
    ra = (target.ra + offset[0] / 3600.0 / cos_dec) % 360.0
    return evolve(configuration, target=evolve(target, ra=ra, dec=dec), id=None)


def mosaic_request(request: Request, parameters: PatternParameters, detector: DetectorField | None = None) -> Request:
    """The request with its one configuration repeated at each pointing of the pattern (priorities 1..n) and
    ``extra_params.mosaic_pattern`` set. ``detector`` (the instrument type's field) turns overlap percentages
    into spacings; an overlap without a field to measure is refused."""
    _check(mosaic_request_errors(request))
    _check(mosaic_parameter_errors(parameters))
    if parameters.point_overlap_percent is not None:
        if detector is None:
            raise ValidationError.general(MOSAIC_NO_DETECTOR)
        parameters = spacings_from_overlap(parameters, detector)
    configuration = request.configurations[0]
    shifted = [_shifted(configuration, offset) for offset in pattern_offsets(parameters)]
    configurations = [c for c in shifted if c is not None]
    if len(configurations) < len(shifted):
        raise ValidationError.general(MOSAIC_PAST_POLE)
    extra_params: dict[str, Any] = {**request.extra_params, "mosaic_pattern": str(parameters.pattern)}
    return request.revised(configurations, extra_params=extra_params)
