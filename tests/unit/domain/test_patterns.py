"""Dither and mosaic patterns (requests.md 7.2, 7.3): the reference cases H1-H3 of 8.7 and the geometry of each
pattern (spacing, orientation, centring, serpentine order), as examples and properties."""

from __future__ import annotations

import itertools
import math

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.errors import NON_FIELD, ValidationError
from domain.patterns import (
    MOSAIC_ICRS_ONLY,
    MOSAIC_NO_DETECTOR,
    MOSAIC_ONE_CONFIGURATION,
    MOSAIC_PAST_POLE,
    NEED_GRID,
    NEED_POINTS,
    NEED_SPACING,
    DetectorField,
    Pattern,
    PatternParameters,
    circular_mean_deg,
    dither_configuration,
    grid_offsets,
    line_offsets,
    mosaic_request,
    pattern_offsets,
    spacings_from_overlap,
    spiral_offsets,
)
from domain.requestgroups import (
    Configuration,
    Constraints,
    InstrumentConfig,
    Location,
    Request,
    Target,
    TargetType,
)
from tests.unit.domain.observatory_fixtures import demo_observatory

TOLERANCE = 1e-9


def p0_configuration(**changes: object) -> Configuration:
    """P0's configuration (requests.md 8.1)."""
    values: dict[str, object] = {
        "instrument_type": "1M0-SCICAM-SINISTRO",
        "type": "EXPOSE",
        "instrument_configs": (InstrumentConfig(100, 1, optical_elements={"filter": "air"}),),
        "target": Target.icrs("fake target", 34.4, 20),
        "constraints": Constraints(max_airmass=2.0),
    }
    values.update(changes)
    return Configuration(**values)  # type: ignore[arg-type]


def p0_request(*configurations: Configuration) -> Request:
    return Request.create(list(configurations) or [p0_configuration()], location=Location("1m0"))


def offsets_of(configuration: Configuration) -> list[tuple[float, float]]:
    return [(ic.extra_params["offset_ra"], ic.extra_params["offset_dec"]) for ic in configuration.instrument_configs]


def close(found: list[tuple[float, float]], wanted: list[tuple[float, float]]) -> bool:
    return len(found) == len(wanted) and all(
        math.isclose(fx, wx, abs_tol=1e-9) and math.isclose(fy, wy, abs_tol=1e-9)
        for (fx, fy), (wx, wy) in zip(found, wanted, strict=True)
    )


def refusal(call: object, *args: object) -> dict[str, object]:
    with pytest.raises(ValidationError) as caught:
        call(*args)  # type: ignore[operator]
    return caught.value.errors


# ---------------------------------------------------------------------------------------------------------
# H1-H3


def test_h1_a_three_point_line_dither_offsets_along_dec_and_writes_minus_zero_as_zero() -> None:
    parameters = PatternParameters(Pattern.LINE, num_points=3, point_spacing_arcsec=5, orientation_deg=0)
    dithered = dither_configuration(p0_configuration(), parameters)
    assert offsets_of(dithered) == [(0, 0), (0, 5), (0, 10)]
    assert all(math.copysign(1.0, x) == 1.0 for x, _ in offsets_of(dithered))  # -0.0 would be written "-0.0"
    assert dithered.extra_params["dither_pattern"] == "line"
    assert [ic.exposure_time for ic in dithered.instrument_configs] == [100, 100, 100]


def test_h2_a_grid_without_rows_is_refused() -> None:
    parameters = PatternParameters(Pattern.GRID, point_spacing_arcsec=5, num_columns=3)
    assert refusal(dither_configuration, p0_configuration(), parameters) == {NON_FIELD: [NEED_GRID]}
    assert NEED_GRID == "Must specify num_rows and num_columns when selecting a grid pattern"


def test_h3_a_request_with_two_configurations_cannot_be_mosaicked() -> None:
    request = p0_request(p0_configuration(), p0_configuration())
    parameters = PatternParameters(Pattern.LINE, num_points=3, point_spacing_arcsec=60)
    assert refusal(mosaic_request, request, parameters) == {"request": [MOSAIC_ONE_CONFIGURATION]}
    assert MOSAIC_ONE_CONFIGURATION == "Cannot expand a request for mosaicing with more than one configuration set"


# ---------------------------------------------------------------------------------------------------------
# Pattern rules


def test_line_and_spiral_need_a_number_of_points() -> None:
    for pattern in (Pattern.LINE, Pattern.SPIRAL):
        parameters = PatternParameters(pattern, point_spacing_arcsec=5)
        assert refusal(dither_configuration, p0_configuration(), parameters) == {NON_FIELD: [NEED_POINTS]}


def test_a_dither_needs_its_point_spacing_and_counts_of_at_least_one() -> None:
    assert refusal(dither_configuration, p0_configuration(), PatternParameters(Pattern.LINE, num_points=0)) == {
        "num_points": ["Ensure this value is greater than or equal to 1."],
        "point_spacing": ["This field is required."],
    }


def test_a_dither_larger_than_a_configuration_may_hold_is_refused() -> None:
    two = p0_configuration(instrument_configs=(InstrumentConfig(10, 1), InstrumentConfig(20, 1)))
    fits = PatternParameters(Pattern.LINE, num_points=50, point_spacing_arcsec=1)
    assert len(dither_configuration(two, fits).instrument_configs) == 100
    too_many = PatternParameters(Pattern.GRID, num_rows=7, num_columns=8, point_spacing_arcsec=1)
    assert refusal(dither_configuration, two, too_many) == {
        NON_FIELD: ["The pattern would make 112 instrument configurations; the limit is 100"]
    }


# ---------------------------------------------------------------------------------------------------------
# Geometry


def test_a_line_turns_from_north_through_east_with_the_orientation() -> None:
    assert close(line_offsets(3, 5, 90), [(0, 0), (-5, 0), (-10, 0)])
    assert close(line_offsets(2, 5, 180), [(0, 0), (0, -5)])
    half = math.sqrt(0.5) * 10
    assert close(line_offsets(2, 10, 45), [(0, 0), (-half, half)])


def test_a_centred_line_has_its_middle_on_the_target() -> None:
    assert close(line_offsets(3, 5, 0, center=True), [(0, -5), (0, 0), (0, 5)])
    assert close(line_offsets(4, 2, 90, center=True), [(3, 0), (1, 0), (-1, 0), (-3, 0)])


def test_a_grid_walks_its_columns_in_a_serpentine() -> None:
    assert close(grid_offsets(2, 3, 10, 20), [(0, 0), (0, 10), (20, 10), (20, 0), (40, 0), (40, 10)])


def test_a_grid_turns_with_the_orientation_and_centres_on_the_target() -> None:
    plain = grid_offsets(2, 3, 10, 20)
    assert close(grid_offsets(2, 3, 10, 20, 90), [(-y, x) for x, y in plain])
    assert close(grid_offsets(2, 3, 10, 20, 0, center=True), [(x - 20, y - 5) for x, y in plain])


def test_a_grid_line_spacing_defaults_to_the_point_spacing() -> None:
    parameters = PatternParameters(Pattern.GRID, num_rows=2, num_columns=2, point_spacing_arcsec=7)
    assert close(pattern_offsets(parameters), [(0, 0), (0, 7), (7, 7), (7, 0)])


def test_a_spiral_starts_on_the_target_and_winds_out_as_the_square_root_of_the_point_number() -> None:
    offsets = spiral_offsets(5, 3)
    assert offsets[0] == (0.0, 0.0)
    assert len(offsets) == 5
    for n, (x, y) in enumerate(offsets[1:], start=1):
        radius = math.sqrt(2 * 3 * n)
        assert math.isclose(math.hypot(x, y), radius)
        assert math.isclose(math.atan2(y, x) % (2 * math.pi), radius % (2 * math.pi), abs_tol=1e-9)
    assert spiral_offsets(1, 3) == [(0.0, 0.0)]


def test_dither_offsets_are_offset_major_and_rounded_to_three_decimals() -> None:
    two = p0_configuration(instrument_configs=(InstrumentConfig(10, 1), InstrumentConfig(20, 1)))
    parameters = PatternParameters(Pattern.LINE, num_points=2, point_spacing_arcsec=1 / 3, orientation_deg=0)
    dithered = dither_configuration(two, parameters)
    assert [ic.exposure_time for ic in dithered.instrument_configs] == [10, 20, 10, 20]
    assert offsets_of(dithered) == [(0, 0), (0, 0), (0, 0.333), (0, 0.333)]


spacings = st.floats(0.1, 1000, allow_nan=False)
angles = st.floats(-720, 720, allow_nan=False)


@given(st.integers(2, 30), spacings, angles)
def test_points_of_a_line_are_spacing_apart_whatever_the_orientation(n: int, spacing: float, angle: float) -> None:
    offsets = line_offsets(n, spacing, angle)
    for (x1, y1), (x2, y2) in itertools.pairwise(offsets):
        assert math.isclose(math.hypot(x2 - x1, y2 - y1), spacing, rel_tol=1e-9)
    assert close(offsets[:1], [(0.0, 0.0)])


@given(st.integers(1, 8), st.integers(1, 8), spacings, spacings, angles)
def test_centred_grids_average_to_the_target_and_keep_their_shape(
    rows: int, columns: int, point: float, line: float, angle: float
) -> None:
    centred = grid_offsets(rows, columns, point, line, angle, center=True)
    assert len(centred) == rows * columns
    assert math.isclose(sum(x for x, _ in centred) / len(centred), 0, abs_tol=1e-6 * (point + line))
    assert math.isclose(sum(y for _, y in centred) / len(centred), 0, abs_tol=1e-6 * (point + line))
    plain = grid_offsets(rows, columns, point, line, angle)
    # Centring is a translation: neighbours stay as far apart as they were.
    for i in range(len(plain) - 1):
        moved, kept = math.dist(centred[i], centred[i + 1]), math.dist(plain[i], plain[i + 1])
        assert math.isclose(moved, kept, rel_tol=1e-9, abs_tol=1e-9)


# ---------------------------------------------------------------------------------------------------------
# Mosaic


def test_a_mosaic_moves_dec_first_then_ra_by_the_new_cos_dec() -> None:
    request = p0_request(p0_configuration(target=Target.icrs("m", 100.0, 60.0)))
    along_dec = mosaic_request(request, PatternParameters(Pattern.LINE, num_points=2, point_spacing_arcsec=3600))
    assert [(c.target.ra, c.target.dec) for c in along_dec.configurations] == [(100.0, 60.0), (100.0, 61.0)]
    along_ra = mosaic_request(
        request, PatternParameters(Pattern.LINE, num_points=2, point_spacing_arcsec=3600, orientation_deg=90)
    )
    moved = along_ra.configurations[1].target
    assert moved.dec == 60.0
    assert math.isclose(moved.ra or 0, 100.0 - 2.0)  # one degree at cos(60) = 0.5


def test_a_mosaic_repeats_the_configuration_with_priorities_and_names_its_pattern() -> None:
    request = p0_request()
    request.extra_params["kept"] = True
    parameters = PatternParameters(Pattern.GRID, num_rows=2, num_columns=2, point_spacing_arcsec=600)
    tiled = mosaic_request(request, parameters)
    assert [c.priority for c in tiled.configurations] == [1, 2, 3, 4]
    assert tiled.extra_params == {"kept": True, "mosaic_pattern": "grid"}
    assert all(c.instrument_configs == p0_configuration().instrument_configs for c in tiled.configurations)
    assert (tiled.location, tiled.windows) == (request.location, request.windows)


def test_a_mosaic_wraps_ra_and_refuses_to_cross_a_pole() -> None:
    near_zero = p0_request(p0_configuration(target=Target.icrs("m", 0.1, 0.0)))
    parameters = PatternParameters(Pattern.LINE, num_points=2, point_spacing_arcsec=3600, orientation_deg=90)
    assert math.isclose(mosaic_request(near_zero, parameters).configurations[1].target.ra or 0, 359.1)
    near_pole = p0_request(p0_configuration(target=Target.icrs("m", 10.0, 89.9)))
    north = PatternParameters(Pattern.LINE, num_points=2, point_spacing_arcsec=3600)
    assert refusal(mosaic_request, near_pole, north) == {NON_FIELD: [MOSAIC_PAST_POLE]}


def test_only_icrs_targets_are_mosaicked_and_a_spacing_or_overlap_is_needed() -> None:
    satellite = Target("sat", TargetType.SATELLITE, altitude=30, azimuth=2)
    parameters = PatternParameters(Pattern.LINE, num_points=2, point_spacing_arcsec=60)
    assert refusal(mosaic_request, p0_request(p0_configuration(target=satellite)), parameters) == {
        "request": [MOSAIC_ICRS_ONLY]
    }
    assert refusal(mosaic_request, p0_request(), PatternParameters(Pattern.LINE, num_points=2)) == {
        NON_FIELD: [NEED_SPACING]
    }
    spiral = PatternParameters(Pattern.SPIRAL, num_points=2, point_spacing_arcsec=60)
    assert refusal(mosaic_request, p0_request(), spiral) == {"pattern": ['"spiral" is not a valid choice.']}
    overlap_only = PatternParameters(Pattern.LINE, num_points=2, point_overlap_percent=10)
    assert refusal(mosaic_request, p0_request(), overlap_only) == {NON_FIELD: [MOSAIC_NO_DETECTOR]}
    bad_overlap = PatternParameters(Pattern.LINE, num_points=2, point_overlap_percent=120)
    assert refusal(mosaic_request, p0_request(), bad_overlap) == {
        "point_overlap_percent": ["Ensure this value is less than or equal to 100.0."]
    }


def test_overlap_percentages_become_spacings_from_the_detector() -> None:
    floyds_like = DetectorField(2048, 512, 0.5, 0.0)
    parameters = PatternParameters(Pattern.GRID, num_rows=2, num_columns=2, point_overlap_percent=10)
    found = spacings_from_overlap(parameters, floyds_like)
    assert math.isclose(found.point_spacing_arcsec or 0, 512 * 0.5 * 0.9)  # along dec: the detector's y
    assert math.isclose(found.line_spacing_arcsec or 0, 2048 * 0.5 * 0.9)  # line overlap defaults to point
    separate = spacings_from_overlap(attrs.evolve(parameters, line_overlap_percent=50), floyds_like)
    assert math.isclose(separate.line_spacing_arcsec or 0, 2048 * 0.5 * 0.5)


def test_overlap_spacings_swap_when_the_pattern_runs_nearer_east_west() -> None:
    field = DetectorField(2048, 512, 0.5, 0.0)
    for orientation, swapped in (
        (0, False),
        (44, False),
        (45, True),
        (90, True),
        (134, True),
        (135, False),
        (225, True),
        (270, True),
        (315, False),
        (-90, True),
    ):
        found = spacings_from_overlap(
            PatternParameters(Pattern.LINE, num_points=2, point_overlap_percent=0, orientation_deg=orientation), field
        )
        assert math.isclose(found.point_spacing_arcsec or 0, (2048 if swapped else 512) * 0.5), orientation


def test_the_camera_orientation_turns_the_detector_before_the_overlap_is_measured() -> None:
    turned = DetectorField(2048, 512, 0.5, 90.0)
    found = spacings_from_overlap(PatternParameters(Pattern.LINE, num_points=2, point_overlap_percent=0), turned)
    assert math.isclose(found.point_spacing_arcsec or 0, 2048 * 0.5)
    assert math.isclose(found.line_spacing_arcsec or 0, 512 * 0.5)


def test_camera_orientations_average_on_the_circle() -> None:
    assert math.isclose(circular_mean_deg([359.8, 0.2]), 0.0, abs_tol=1e-9)
    assert math.isclose(circular_mean_deg([80.0, 90.0]), 85.0)
    assert math.isclose(circular_mean_deg([350.0, 340.0]), 345.0)


def test_the_demo_sinistro_field_is_its_4k_detector_at_about_zero_degrees() -> None:
    field = DetectorField.of(demo_observatory(), "1m0-scicam-sinistro")
    assert field is not None
    assert (field.pixels_x, field.pixels_y, field.pixel_scale_arcsec) == (4096, 4096, 0.389)
    assert field.orientation_deg < 1 or field.orientation_deg > 359  # 359.8 among them does not pull it to 180
    assert DetectorField.of(demo_observatory(), "NO-SUCH-TYPE") is None


def test_a_mosaic_by_overlap_uses_the_detector_field() -> None:
    field = DetectorField(4096, 4096, 0.389, 0.0)
    parameters = PatternParameters(Pattern.LINE, num_points=2, point_overlap_percent=10)
    tiled = mosaic_request(p0_request(), parameters, field)
    step_deg = (tiled.configurations[1].target.dec or 0) - (tiled.configurations[0].target.dec or 0)
    assert math.isclose(step_deg * 3600, 4096 * 0.389 * 0.9)
