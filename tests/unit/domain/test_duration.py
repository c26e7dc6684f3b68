"""Request durations on the demo observatory: the reference arithmetic of requests.md 4.5 (D1-D12), the demo-only
cases of observatory.md 7, the cases of requests.md 8 that pin a duration, and properties of the algorithm."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from attrs import evolve
from hypothesis import given
from hypothesis import strategies as st

from domain.duration import (
    LEGACY_AND,
    LEGACY_ONEOF,
    AllocationKey,
    ConfigurationDuration,
    InstrumentConfigDuration,
    InstrumentTypeOverheads,
    ModeOverheads,
    RequestDurationReport,
    RequestDurations,
    angular_distance_deg,
    durations_by_instrument_type,
    fill_window,
    overheads_from,
    request_duration,
    request_durations,
    request_durations_by_instrument_type,
    semester_of,
    sequence_durations,
    summed_durations_by_key,
    time_check_durations_by_key,
)
from domain.errors import ValidationError
from domain.observatory import Observatory
from domain.proposals import Semester
from domain.requestgroups import (
    AcquisitionConfig,
    Configuration,
    GuidingConfig,
    InstrumentConfig,
    Operator,
    Request,
    Target,
    Window,
)
from tests.unit.domain.observatory_fixtures import demo_observatory
from tests.unit.domain.request_strategies import demo_requests, floats

SINISTRO, FLOYDS = "1M0-SCICAM-SINISTRO", "2M0-FLOYDS-SCICAM"
QHY600, NRES, MUSCAT = "0M4-SCICAM-QHY600", "1M0-NRES-SCICAM", "2M0-SCICAM-MUSCAT"
P0_TARGET = Target.icrs("fake target", 34.4, 20)
P0_WINDOW = Window(datetime(2016, 9, 29, 21, 12, 18, tzinfo=UTC), datetime(2016, 10, 29, 21, 12, 19, tzinfo=UTC))
SEMESTERS = [
    Semester("2016B", datetime(2016, 9, 1, tzinfo=UTC), datetime(2016, 12, 31, tzinfo=UTC)),
    Semester("2017A", datetime(2017, 1, 1, tzinfo=UTC), datetime(2017, 7, 1, tzinfo=UTC)),
]


@pytest.fixture(scope="module")
def demo() -> Observatory:
    return demo_observatory()


# -- builders for the spec's payloads -----------------------------------------------------------------------


def exposures(seconds: float, count: int = 1, filter_: str = "air", **more: object) -> InstrumentConfig:
    return InstrumentConfig(seconds, count, optical_elements={"filter": filter_}, **more)


def slit(seconds: float, count: int = 1, code: str = "slit_6.0as") -> InstrumentConfig:
    return InstrumentConfig(seconds, count, optical_elements={"slit": code})


def sinistro(
    *configs: InstrumentConfig, kind: str = "EXPOSE", target: Target = P0_TARGET, **more: object
) -> Configuration:
    return Configuration(SINISTRO, kind, configs, target, **more)


def floyds(*configs: InstrumentConfig, kind: str = "SPECTRUM", **more: object) -> Configuration:
    return Configuration(FLOYDS, kind, configs, P0_TARGET, **more)


def request(*configurations: Configuration, repeats: int = 1) -> Request:
    return Request.create(configurations, windows=[P0_WINDOW], configuration_repeats=repeats)


MUSCAT_OUT = {f"narrowband_{channel}_position": "out" for channel in "griz"}

# Each case: the spec's label, the request, the duration in whole seconds.
REFERENCE_CASES: list[tuple[str, Callable[[], Request], int]] = [
    ("D1 / R1 / A", lambda: request(sinistro(exposures(100))), 226),
    ("D2 / R2 / B", lambda: request(floyds(slit(100))), 504),
    ("D3 / C", lambda: request(sinistro(exposures(1000, 1, "U"), exposures(10, 5, "U"), exposures(3, 3, "B"))), 1311),
    ("D4 / R25 / D", lambda: request(sinistro(exposures(600, 2)), repeats=3), 3843),
    (
        "D5 / R21 / E",
        lambda: request(sinistro(exposures(30), kind="REPEAT_EXPOSE", repeat_duration=500), repeats=2),
        1098,
    ),
    ("D7 / G", lambda: request(floyds(slit(20, code="slit_2.0as"), kind="LAMP_FLAT")), 334),
    (
        "D8 / H",
        lambda: request(
            floyds(slit(50), kind="LAMP_FLAT"), floyds(slit(60), kind="ARC"), floyds(slit(900), kind="SPECTRUM")
        ),
        1557,
    ),
    (
        "D9",
        lambda: request(sinistro(exposures(10)), sinistro(exposures(10), target=Target.icrs("other", 200.0, -40.0))),
        179,
    ),
    ("D10", lambda: request(sinistro(exposures(100), guiding_config=GuidingConfig("ON", optional=False))), 226),
    ("D11", lambda: request(floyds(slit(100), acquisition_config=AcquisitionConfig("WCS", 10))), 484),
    ("D12", lambda: request(sinistro(exposures(100, mode="central_2k_2x2"))), 223),
    ("R17", lambda: request(sinistro(exposures(100)), sinistro(exposures(100))), 357),
    ("I (QHY600)", lambda: request(Configuration(QHY600, "EXPOSE", [exposures(60, 3, "rp")], P0_TARGET)), 288),
    ("J (NRES)", lambda: request(Configuration(NRES, "NRES_SPECTRUM", [InstrumentConfig(900, 1)], P0_TARGET)), 1354),
    (
        "K (MuSCAT)",
        lambda: request(
            Configuration(MUSCAT, "EXPOSE", [InstrumentConfig(60, 2, optical_elements=MUSCAT_OUT)], P0_TARGET)
        ),
        250,
    ),
]


@pytest.mark.parametrize(("label", "build", "expected"), REFERENCE_CASES, ids=[c[0] for c in REFERENCE_CASES])
def test_reference_durations_on_the_demo_observatory(
    demo: Observatory, label: str, build: Callable[[], Request], expected: int
) -> None:
    assert request_duration(build(), demo) == expected


def test_reference_cases_hold_with_modes_named_as_validation_stores_them(demo: Observatory) -> None:
    # D1 and D2 with every default written out, as a stored request has them (R1, R2).
    d1 = sinistro(
        exposures(100, mode="full_frame"),
        acquisition_config=AcquisitionConfig("OFF"),
        guiding_config=GuidingConfig("OFF"),
    )
    d2 = floyds(
        InstrumentConfig(100, 1, mode="2m0_floyds_1", rotator_mode="VFLOAT", optical_elements={"slit": "slit_6.0as"}),
        acquisition_config=AcquisitionConfig("WCS"),
        guiding_config=GuidingConfig("ON"),
    )
    assert request_duration(request(d1), demo) == 226
    assert request_duration(request(d2), demo) == 504


def test_fill_window_stretches_the_repeat_to_the_largest_interval_d6_v10(demo: Observatory) -> None:
    original = request(sinistro(exposures(30), kind="REPEAT_EXPOSE", repeat_duration=250, fill_window=True))
    assert request_duration(original, demo) == 344
    filled = fill_window(original, 541.0, demo)
    assert filled[0].repeat_duration == 446
    assert request_duration(Request.create(filled, windows=[P0_WINDOW]), demo) == 540


def test_fill_window_is_ignored_on_a_non_repeat_type(demo: Observatory) -> None:
    original = request(sinistro(exposures(30), fill_window=True))
    assert fill_window(original, 5000.0, demo) == original.configurations


def test_fill_window_leaves_repeat_configurations_without_the_flag_alone(demo: Observatory) -> None:
    original = request(sinistro(exposures(30), kind="REPEAT_EXPOSE", repeat_duration=250))
    assert fill_window(original, 5000.0, demo)[0].repeat_duration == 250


def test_the_validate_endpoint_reports_request_configuration_and_instrument_config_durations_v12(
    demo: Observatory,
) -> None:
    report = request_durations([request(sinistro(exposures(100)))], [28800.0], demo)
    assert report == RequestDurations(
        226,
        (
            RequestDurationReport(
                226, (ConfigurationDuration(131.5, (InstrumentConfigDuration(115.5),)),), largest_interval=28800.0
            ),
        ),
    )


def test_the_validate_report_sums_request_durations_and_shows_repeat_bases(demo: Observatory) -> None:
    repeat = request(sinistro(exposures(30), kind="REPEAT_EXPOSE", repeat_duration=500), repeats=2)
    report = request_durations([request(sinistro(exposures(100))), repeat], [1.0, 2.0], demo)
    assert report.duration == 226 + 1098
    assert report.requests[1].configurations[0].duration == 500  # the base: no config padding for repeats
    assert report.requests[1].configurations[0].instrument_configs[0].duration == 45.5


# -- details of the walk -------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["", "not_a_mode", "FULL_FRAME"])
def test_an_empty_or_unknown_readout_mode_costs_the_default_and_codes_ignore_case(demo: Observatory, mode: str) -> None:
    assert request_duration(request(sinistro(exposures(100, mode=mode))), demo) == 226


def test_readout_mode_codes_are_matched_in_any_case(demo: Observatory) -> None:
    assert request_duration(request(sinistro(exposures(100, mode="CENTRAL_2K_2X2"))), demo) == 223


def test_without_a_default_readout_mode_an_unnamed_one_is_an_error(demo: Observatory) -> None:
    observatory = demo.copy()
    readout = next(g for g in observatory.mode_groups.values() if g.type == "readout" and g.default == "full_frame")
    observatory.update("genericmodegroups", readout.id, {"default": ""})
    with pytest.raises(ValidationError) as refused:
        request_duration(request(sinistro(exposures(100))), observatory)
    assert "Must set a readout mode, choose from full_frame, central_2k_2x2" in str(refused.value)


def test_an_unknown_instrument_type_is_refused(demo: Observatory) -> None:
    with pytest.raises(ValidationError):
        request_duration(request(Configuration("9M9-NOTHING", "EXPOSE", [exposures(1)], P0_TARGET)), demo)


def test_instrument_type_codes_are_matched_in_any_case(demo: Observatory) -> None:
    config = Configuration("1m0-scicam-sinistro", "expose", [exposures(100)], P0_TARGET)
    assert request_durations_by_instrument_type(request(config), demo) == {SINISTRO: 225.5}


def test_an_acquisition_exposure_of_zero_falls_back_to_the_instrument_types_default(demo: Observatory) -> None:
    assert request_duration(request(floyds(slit(100), acquisition_config=AcquisitionConfig("WCS", 0))), demo) == 504


def test_acquisition_is_forced_off_for_lamp_flats_whatever_the_request_says(demo: Observatory) -> None:
    config = floyds(slit(20, code="slit_2.0as"), kind="LAMP_FLAT", acquisition_config=AcquisitionConfig("WCS"))
    assert request_duration(request(config), demo) == 334


def test_acquisition_off_costs_nothing(demo: Observatory) -> None:
    assert request_duration(request(floyds(slit(100), acquisition_config=AcquisitionConfig("OFF"))), demo) == 384


def test_required_guiding_pays_its_mode_overhead(demo: Observatory) -> None:
    # NRES_SPECIAL costs 90 s; optional guiding costs nothing whatever the mode.
    def nres(guiding: GuidingConfig) -> Request:
        return request(
            Configuration(NRES, "NRES_SPECTRUM", [InstrumentConfig(900, 1)], P0_TARGET, guiding_config=guiding)
        )

    assert request_duration(nres(GuidingConfig("NRES_SPECIAL", optional=False)), demo) == 1354 + 90
    assert request_duration(nres(GuidingConfig("NRES_SPECIAL", optional=True)), demo) == 1354


def test_an_optical_element_type_without_a_group_costs_nothing(demo: Observatory) -> None:
    config = sinistro(InstrumentConfig(100, 1, optical_elements={"filter": "air", "grating": "x"}))
    assert request_duration(request(config), demo) == 226


def test_muscat_per_channel_times_do_not_enter_the_duration(demo: Observatory) -> None:
    channels = {"exposure_mode": "SYNCHRONOUS", **{f"exposure_time_{c}": 300 for c in "griz"}}
    config = InstrumentConfig(60, 2, optical_elements=MUSCAT_OUT, extra_params=channels)
    assert request_duration(request(Configuration(MUSCAT, "EXPOSE", [config], P0_TARGET)), demo) == 250


def test_optical_elements_compare_with_the_last_instrument_config_of_the_previous_configuration(
    demo: Observatory,
) -> None:
    # Second configuration starts with filter B after ending on B: no change; then V: one change (2 s).
    first = sinistro(exposures(10, filter_="U"), exposures(10, filter_="B"))
    second = sinistro(exposures(10, filter_="B"), exposures(10, filter_="V"))
    seconds = sequence_durations(request(first, second).configurations, overheads_from(demo))[SINISTRO]
    # first: 2 x 25.5 + 16 + (2 + 2) + slew 2 = 73; second: 51 + 16 + (0 + 2) + same target 0 = 69
    assert seconds == 73 + 69


def qhy_pair(ra2: float) -> Request:
    return request(
        Configuration(QHY600, "EXPOSE", [exposures(60, 1, "rp")], Target.icrs("a", 0.0, 0.0)),
        Configuration(QHY600, "EXPOSE", [exposures(60, 1, "rp")], Target.icrs("b", ra2, 0.0)),
    )


@pytest.mark.parametrize(
    ("ra2", "slew"),
    [(10.0, 2.0), (100.0, 360000 * 0.00003), (180.0, 15.0)],
    ids=["clamped to the minimum", "rate x distance", "clamped to the maximum"],
)
def test_slews_between_sidereal_targets_cost_rate_times_distance_clamped(
    demo: Observatory, ra2: float, slew: float
) -> None:
    # first: 66.5 + 10 + filter 3 + maximum slew 15 = 94.5; second: 66.5 + 10 + 0 (same filter) + slew
    seconds = sequence_durations(qhy_pair(ra2).configurations, overheads_from(demo))[QHY600]
    assert seconds == pytest.approx(94.5 + 76.5 + slew)


def test_a_non_sidereal_target_always_pays_the_maximum_slew(demo: Observatory) -> None:
    comet = Target("comet", "ORBITAL_ELEMENTS", scheme="MPC_COMET")
    pair = request(
        Configuration(QHY600, "EXPOSE", [exposures(60, 1, "rp")], comet),
        Configuration(QHY600, "EXPOSE", [exposures(60, 1, "rp")], comet),
    )
    assert sequence_durations(pair.configurations, overheads_from(demo))[QHY600] == 94.5 + 76.5 + 15


def test_the_observation_front_padding_is_shared_pro_rata_between_instrument_types(demo: Observatory) -> None:
    mixed = request(sinistro(exposures(100)), floyds(slit(100)))
    # Sinistro 135.5 (as D1 before padding); FLOYDS 141.5 + slit is a new element type (0 s) + same target (0)
    # + WCS 90 + 30 = 261.5, SPECTRUM after EXPOSE changes type at 0 s.
    by_type = request_durations_by_instrument_type(mixed, demo)
    assert by_type == {
        SINISTRO: pytest.approx(135.5 + 90 * 135.5 / 397),
        FLOYDS: pytest.approx(261.5 + 240 * 261.5 / 397),
    }
    assert request_duration(mixed, demo) == math.ceil(135.5 + 261.5 + (90 * 135.5 + 240 * 261.5) / 397)


def test_padding_is_shared_equally_when_nothing_else_costs_time() -> None:
    def free(code: str) -> InstrumentTypeOverheads:
        return InstrumentTypeOverheads(
            code, 0, 0, {"A": 10.0, "B": 30.0}[code], 0, ModeOverheads({}), ModeOverheads({}), ModeOverheads({}),
            {}, {}, frozenset(), 0, 0, 0, 0,
        )  # fmt: skip

    configs = [
        Configuration("A", "EXPOSE", [InstrumentConfig(0, 1)], P0_TARGET),
        Configuration("B", "EXPOSE", [InstrumentConfig(0, 1)], P0_TARGET),
    ]
    assert durations_by_instrument_type(configs, 1, free) == {"A": 5.0, "B": 15.0}


def test_mixed_types_can_shrink_when_an_exposure_grows_faithful_pro_rata_padding(demo: Observatory) -> None:
    # Pro-rata padding moves NRES's 270 s share towards the QHY600's 60 s as the QHY600 part grows, so the
    # total falls. Upstream computes the same; this pins it so a change is a decision, not an accident.
    def mixed(seconds: float) -> Request:
        return request(
            Configuration(NRES, "REPEAT_NRES_SPECTRUM", [InstrumentConfig(1, 1)], P0_TARGET, repeat_duration=0,
                          acquisition_config=AcquisitionConfig("OFF")),
            Configuration(QHY600, "EXPOSE", [exposures(seconds, 1, "rp")], P0_TARGET),
        )  # fmt: skip

    # NRES 0 + instrument change 30 + slew 2 = 32; QHY600 t + 6.5 + 10 + filter 3 + same target 0 = t + 19.5
    assert request_duration(mixed(0), demo) == math.ceil(51.5 + (270 * 32 + 60 * 19.5) / 51.5)  # 242
    assert request_duration(mixed(10), demo) == math.ceil(61.5 + (270 * 32 + 60 * 29.5) / 61.5)  # 231
    assert request_duration(mixed(10), demo) < request_duration(mixed(0), demo)


# -- allocation keys and group totals (4.3) ----------------------------------------------------------------


def test_allocation_keys_pair_the_windows_semester_with_each_instrument_type(demo: Observatory) -> None:
    mixed = request(sinistro(exposures(100)), floyds(slit(100)))
    totals = summed_durations_by_key([mixed], demo, SEMESTERS)
    assert set(totals) == {AllocationKey("2016B", SINISTRO), AllocationKey("2016B", FLOYDS)}


def test_group_totals_sum_for_single_and_take_the_rounded_maximum_for_many(demo: Observatory) -> None:
    d1, d12 = request(sinistro(exposures(100))), request(sinistro(exposures(100, mode="central_2k_2x2")))
    key = AllocationKey("2016B", SINISTRO)
    assert summed_durations_by_key([d1, d12], demo, SEMESTERS) == {key: 225.5 + 222.5}
    assert time_check_durations_by_key([d1, d12], Operator.SINGLE, demo, SEMESTERS) == {key: 448.0}
    assert time_check_durations_by_key([d1, d12], Operator.MANY, demo, SEMESTERS) == {key: 226.0}
    assert time_check_durations_by_key([d1, d12], LEGACY_ONEOF, demo, SEMESTERS) == {key: 226.0}
    assert time_check_durations_by_key([d1, d12], LEGACY_AND, demo, SEMESTERS) == {key: 226.0 + 223.0}


def test_a_request_whose_windows_fit_no_semester_has_no_allocation_key() -> None:
    spanning = Request.create(
        [sinistro(exposures(1))],
        windows=[Window(datetime(2016, 12, 30, tzinfo=UTC), datetime(2017, 1, 2, tzinfo=UTC))],
    )
    with pytest.raises(ValidationError) as refused:
        semester_of(spanning, SEMESTERS)
    assert "does not fit within any defined semester" in str(refused.value)


def test_the_semester_is_the_one_holding_all_the_windows() -> None:
    later = Window(datetime(2017, 2, 1, tzinfo=UTC), datetime(2017, 2, 2, tzinfo=UTC))
    assert semester_of(Request.create([sinistro(exposures(1))], windows=[later]), SEMESTERS).id == "2017A"


# -- angular distance ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b", "degrees"),
    [((0, 0), (90, 0), 90), ((0, 90), (123, -90), 180), ((10, 20), (10, 20), 0), ((0, 0), (0, 45), 45),
     ((359.5, 0), (0.5, 0), 1), ((0, 89), (180, 89), 2)],
)  # fmt: skip
def test_angular_distance_of_known_pairs(a: tuple[float, float], b: tuple[float, float], degrees: float) -> None:
    assert angular_distance_deg(*a, *b) == pytest.approx(degrees, abs=1e-9)


coordinates = st.tuples(floats(0, 360), floats(-90, 90))


@given(coordinates, coordinates, coordinates)
def test_angular_distance_is_a_metric_on_the_sphere(
    a: tuple[float, float], b: tuple[float, float], c: tuple[float, float]
) -> None:
    ab, ba = angular_distance_deg(*a, *b), angular_distance_deg(*b, *a)
    assert 0 <= ab <= 180
    assert ab == pytest.approx(ba, abs=1e-9)
    assert angular_distance_deg(*a, *c) <= ab + angular_distance_deg(*b, *c) + 1e-9


# -- properties ------------------------------------------------------------------------------------------------

DEMO = demo_observatory()
OVERHEADS = overheads_from(DEMO)


def grow_one_exposure(req: Request, which: int, extra: float, field_name: str) -> Request:
    index = which % len(req.configurations)
    configuration = req.configurations[index]
    ic_index = which % len(configuration.instrument_configs)
    old = configuration.instrument_configs[ic_index]
    grown = evolve(old, **{field_name: getattr(old, field_name) + extra})
    ics = list(configuration.instrument_configs)
    ics[ic_index] = grown
    configurations = list(req.configurations)
    configurations[index] = evolve(configuration, instrument_configs=ics)
    return evolve(req, configurations=configurations)


@given(demo_requests(single_type=True), st.integers(0, 20), floats(0, 5000))
def test_duration_never_decreases_when_an_exposure_time_grows(req: Request, which: int, extra: float) -> None:
    grown = grow_one_exposure(req, which, extra, "exposure_time")
    assert request_duration(grown, DEMO) >= request_duration(req, DEMO)


@given(demo_requests(), st.integers(0, 20), floats(0, 5000))
def test_the_sequence_cost_of_every_type_never_decreases_when_an_exposure_time_grows(
    req: Request, which: int, extra: float
) -> None:
    before = sequence_durations(req.configurations, OVERHEADS)
    after = sequence_durations(grow_one_exposure(req, which, extra, "exposure_time").configurations, OVERHEADS)
    assert all(after[code] >= before[code] for code in before)


@given(demo_requests(single_type=True), st.integers(0, 20), st.integers(0, 10))
def test_duration_never_decreases_when_an_exposure_count_grows(req: Request, which: int, extra: int) -> None:
    grown = grow_one_exposure(req, which, extra, "exposure_count")
    assert request_duration(grown, DEMO) >= request_duration(req, DEMO)


@given(demo_requests(), st.integers(1, 10))
def test_configuration_repeats_multiply_the_pre_padding_sum(req: Request, repeats: int) -> None:
    sequence = sequence_durations(req.configurations, OVERHEADS)
    once = durations_by_instrument_type(req.configurations, 1, OVERHEADS)
    repeated = durations_by_instrument_type(req.configurations, repeats, OVERHEADS)
    for code, cost in sequence.items():
        # Each type's padding share depends only on the proportions, which repeating does not change.
        assert repeated[code] - repeats * cost == pytest.approx(once[code] - cost, rel=1e-9, abs=1e-6)


@given(demo_requests())
def test_the_padding_added_lies_between_the_smallest_and_largest_front_padding(req: Request) -> None:
    sequence = sequence_durations(req.configurations, OVERHEADS)
    by_type = durations_by_instrument_type(req.configurations, req.configuration_repeats, OVERHEADS)
    padding = sum(by_type.values()) - req.configuration_repeats * sum(sequence.values())
    paddings = [OVERHEADS(code).observation_front_padding for code in by_type]
    assert min(paddings) - 1e-6 <= padding <= max(paddings) + 1e-6
    if len(by_type) == 1:
        assert padding == pytest.approx(paddings[0])


@given(demo_requests())
def test_the_request_duration_is_the_per_type_sum_rounded_up(req: Request) -> None:
    by_type = request_durations_by_instrument_type(req, DEMO)
    duration = request_duration(req, DEMO)
    assert isinstance(duration, int)
    assert 0 <= duration - sum(by_type.values()) < 1 + 1e-9


@given(st.lists(demo_requests(max_configurations=2), min_size=1, max_size=3))
def test_many_groups_never_need_more_than_the_sum_of_their_rounded_requests(requests: list[Request]) -> None:
    many = time_check_durations_by_key(requests, Operator.MANY, DEMO, SEMESTERS)
    every = time_check_durations_by_key(requests, LEGACY_AND, DEMO, SEMESTERS)
    summed = summed_durations_by_key(requests, DEMO, SEMESTERS)
    assert set(many) == set(every) == set(summed)
    for key in many:
        assert many[key] <= every[key]
        assert summed[key] <= every[key] + 1e-6
