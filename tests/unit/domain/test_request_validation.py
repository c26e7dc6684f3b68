"""Semantic validation of request groups on the demo observatory: the reference cases of requests.md 8.2, 8.3 and
8.4 that need configdb, the semesters or the proposal, with the exact error trees and the defaults stored.

Covered: R1-R14, R16-R18, R21-R36, R39; V1-V6, V10, V11; T1-T5, T20. The syntax cases (R15, R19, R20, R37,
R38) belong to the edge, visibility (V7-V9) to the visibility port, time (T6-T19) to the application layer.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from attrs import evolve

from domain.errors import ErrorTree, ValidationError
from domain.observatory import Observatory
from domain.permissions import Actor
from domain.proposals import Membership, Proposal, Role, Semester
from domain.request_documents import coerce_value, describe_schema_errors
from domain.request_validation import (
    RequestGroupSubmission,
    ValidatedRequestGroup,
    validate_request_group,
    window_without_start,
)
from domain.requestgroups import (
    OFF,
    AcquisitionConfig,
    Configuration,
    Constraints,
    GuidingConfig,
    InstrumentConfig,
    Location,
    ObservationType,
    OrbitalScheme,
    RegionOfInterest,
    Request,
    RequestState,
    Target,
    TargetType,
    Window,
)
from tests.unit.domain.observatory_fixtures import demo_observatory

# -- the reference world of requests.md 8.1 -----------------------------------------------------------------

NOW = datetime(2016, 9, 1, tzinfo=UTC)
SEMESTERS = (
    Semester("2016B", datetime(2016, 9, 1, tzinfo=UTC), datetime(2016, 12, 31, tzinfo=UTC)),
    Semester("2017A", datetime(2017, 1, 1, tzinfo=UTC), datetime(2017, 7, 1, tzinfo=UTC)),
)
PI, CI, OUTSIDER = Actor(1), Actor(2), Actor(3)
STAFF = Actor(4, is_staff=True)  # member of nothing
STAFF_VIEW = Actor(5, is_staff=True, staff_view=True)
# Not in 8.1: a staff member who is also a CI of TEST_PROPOSAL, for the rules that let staff use more.
STAFF_MEMBER = Actor(6, is_staff=True)


def proposals() -> dict[str, Proposal]:
    return {
        "TEST_PROPOSAL": Proposal(
            "TEST_PROPOSAL",
            memberships=[Membership(1, 1, Role.PI), Membership(2, 2, Role.CI), Membership(6, 6, Role.CI)],
        ),
        "OTHER_PROPOSAL": Proposal("OTHER_PROPOSAL", public=True, memberships=[Membership(3, 3, Role.PI)]),
        "SLEEPY_PROPOSAL": Proposal("SLEEPY_PROPOSAL", active=False, memberships=[Membership(4, 1, Role.PI)]),
    }


SINISTRO, FLOYDS, MUSCAT = "1M0-SCICAM-SINISTRO", "2M0-FLOYDS-SCICAM", "2M0-SCICAM-MUSCAT"
P0_START = datetime(2016, 9, 29, 21, 12, 18, tzinfo=UTC)
P0_END = datetime(2016, 10, 29, 21, 12, 19, tzinfo=UTC)
W541 = Window(datetime(2016, 10, 1, 8, 0, tzinfo=UTC), datetime(2016, 10, 1, 8, 9, 1, tzinfo=UTC))


@pytest.fixture(scope="module")
def demo() -> Observatory:
    return demo_observatory()


# -- payload P0 and its variants, as the edge hands them over (codes as given, modes empty) -----------------


def p0_instrument_config(**changes: Any) -> InstrumentConfig:
    return evolve(InstrumentConfig(100, 1, optical_elements={"filter": "air"}), **changes)


def p0_configuration(*instrument_configs: InstrumentConfig, **changes: Any) -> Configuration:
    configuration = Configuration(
        SINISTRO,
        "EXPOSE",
        instrument_configs or (p0_instrument_config(),),
        Target.icrs("fake target", 34.4, 20),
        constraints=Constraints(max_airmass=2.0, min_lunar_distance=30.0, max_lunar_phase=1.0),
    )
    return evolve(configuration, **changes)


def floyds_configuration(**changes: Any) -> Configuration:
    slit = InstrumentConfig(100, 1, optical_elements={"slit": "slit_6.0as"})
    return p0_configuration(slit, **{"instrument_type": FLOYDS, "type": "SPECTRUM", **changes})


def p0_request(*configurations: Configuration, **changes: Any) -> Request:
    fields: dict[str, Any] = {"windows": [Window(P0_START, P0_END)], "location": Location("1m0"), **changes}
    return Request(list(configurations or (p0_configuration(),)), **fields)


def floyds_request(**changes: Any) -> Request:
    return p0_request(floyds_configuration(**changes), location=Location("2m0"))


def p0(*requests: Request, **changes: Any) -> RequestGroupSubmission:
    submission = RequestGroupSubmission(
        "TEST_PROPOSAL", "test group", "NORMAL", "SINGLE", 1.0, requests or (p0_request(),)
    )
    return evolve(submission, **changes)


def validated(
    demo: Observatory, submission: RequestGroupSubmission | None = None, actor: Actor = PI, **more: Any
) -> ValidatedRequestGroup:
    submission = submission or p0()
    return validate_request_group(
        submission,
        observatory=demo,
        semesters=SEMESTERS,
        proposal=proposals().get(submission.proposal),
        actor=actor,
        now=NOW,
        **more,
    )


def refusal(demo: Observatory, submission: RequestGroupSubmission, actor: Actor = PI, **more: Any) -> ErrorTree:
    with pytest.raises(ValidationError) as raised:
        validated(demo, submission, actor, **more)
    return raised.value.errors


def configuration_errors(tree: ErrorTree) -> Any:
    return tree["requests"][0]["configurations"][0]


def only_configuration_refusal(message: str) -> ErrorTree:
    return {"requests": [{"configurations": [{"non_field_errors": [message]}]}]}


def only_request_refusal(message: str) -> ErrorTree:
    return {"requests": [{"non_field_errors": [message]}]}


# -- 8.2: submissions that pass, and the defaults they store -------------------------------------------------


def test_p0_is_stored_with_every_default_filled_r1(demo: Observatory) -> None:
    group = validated(demo)
    request = group.requests[0]
    configuration = request.configurations[0]
    instrument_config = configuration.instrument_configs[0]
    assert request.duration == 226
    assert request.acceptability_threshold == 90
    assert request.windows == [Window(P0_START, P0_END)]
    assert configuration.priority == 1
    assert configuration.acquisition_config.mode == OFF
    assert (configuration.guiding_config.mode, configuration.guiding_config.optional) == (OFF, True)
    assert instrument_config.mode == "full_frame"
    assert instrument_config.extra_params == {"bin_x": 1, "bin_y": 1}
    assert instrument_config.rotator_mode == ""
    target = configuration.target
    assert (target.proper_motion_ra, target.proper_motion_dec, target.parallax, target.epoch) == (0, 0, 0, 2000)
    assert group.proposal.id == "TEST_PROPOSAL"


def test_floyds_gets_its_acquisition_guiding_rotator_readout_and_threshold_defaults_r2(demo: Observatory) -> None:
    request = validated(demo, p0(floyds_request())).requests[0]
    configuration = request.configurations[0]
    instrument_config = configuration.instrument_configs[0]
    assert request.duration == 504
    assert configuration.acquisition_config.mode == "WCS"
    assert configuration.guiding_config.mode == "ON"
    assert instrument_config.rotator_mode == "VFLOAT"
    assert instrument_config.mode == "2m0_floyds_1"
    assert request.acceptability_threshold == 100


@pytest.mark.parametrize("given", ["", "WCS"])
def test_a_lamp_flat_forces_acquisition_off_r3(demo: Observatory, given: str) -> None:
    request = floyds_request(type="LAMP_FLAT", acquisition_config=AcquisitionConfig(given))
    configuration = validated(demo, p0(request)).requests[0].configurations[0]
    assert configuration.acquisition_config.mode == OFF


def test_codes_are_matched_in_any_case_and_stored_as_configdb_spells_them_r7(demo: Observatory) -> None:
    configuration = p0_configuration(
        p0_instrument_config(optical_elements={"filter": "AIR"}, mode="FULL_FRAME"),
        instrument_type="1m0-scicam-sinistro",
        type="expose",
        guiding_config=GuidingConfig("on"),
    )
    stored = validated(demo, p0(p0_request(configuration))).requests[0].configurations[0]
    assert stored.instrument_type == SINISTRO
    assert stored.type == "EXPOSE"
    assert stored.instrument_configs[0].optical_elements == {"filter": "air"}
    assert stored.instrument_configs[0].mode == "full_frame"
    assert stored.guiding_config.mode == "ON"


def test_extra_params_strings_are_coerced_to_numbers_before_the_schemas_read_them_r13(demo: Observatory) -> None:
    configuration = p0_configuration(p0_instrument_config(extra_params={"defocus": "2"}))
    stored = validated(demo, p0(p0_request(configuration))).requests[0].configurations[0]
    defocus = stored.instrument_configs[0].extra_params["defocus"]
    assert defocus == 2
    assert isinstance(defocus, int)


def test_two_configurations_get_priorities_in_submitted_order_r17(demo: Observatory) -> None:
    request = validated(demo, p0(p0_request(p0_configuration(), p0_configuration()))).requests[0]
    assert [c.priority for c in request.configurations] == [1, 2]
    assert request.duration == 357


def test_empty_constraints_keep_the_spec_defaults_r18(demo: Observatory) -> None:
    stored = validated(demo, p0(p0_request(p0_configuration(constraints=Constraints())))).requests[0]
    constraints = stored.configurations[0].constraints
    assert (constraints.max_airmass, constraints.min_lunar_distance, constraints.max_lunar_phase) == (1.6, 30, 1)


def test_a_repeat_configuration_is_priced_on_its_repeat_duration_r21(demo: Observatory) -> None:
    configuration = p0_configuration(p0_instrument_config(exposure_time=30), type="REPEAT_EXPOSE", repeat_duration=500)
    request = validated(demo, p0(p0_request(configuration, configuration_repeats=2))).requests[0]
    assert request.duration == 1098


def test_configuration_repeats_multiply_the_sequence_r25(demo: Observatory) -> None:
    configuration = p0_configuration(p0_instrument_config(exposure_time=600, exposure_count=2))
    assert validated(demo, p0(p0_request(configuration, configuration_repeats=3))).requests[0].duration == 3843


def test_offsets_without_a_pattern_make_a_custom_dither_r27(demo: Observatory) -> None:
    configuration = p0_configuration(p0_instrument_config(extra_params={"offset_ra": 5}))
    stored = validated(demo, p0(p0_request(configuration))).requests[0].configurations[0]
    assert stored.extra_params["dither_pattern"] == "custom"


def mpc_minor_planet(**changes: Any) -> Target:
    target = Target(
        "asteroid",
        TargetType.ORBITAL_ELEMENTS,
        scheme=OrbitalScheme.MPC_MINOR_PLANET,
        epochofel=57660.0,
        orbinc=9.79429,
        longascnode=122.89434,
        argofperih=78.32783,
        meandist=0.770117,
        meananom=165.68604,
        eccentricity=0.5391962,
    )
    return evolve(target, **changes)


SATELLITE = Target(
    "satellite",
    TargetType.SATELLITE,
    altitude=33,
    azimuth=2,
    diff_altitude_rate=3,
    diff_azimuth_rate=4,
    diff_altitude_acceleration=5,
    diff_azimuth_acceleration=0.99,
    diff_epoch=22,
)


@pytest.mark.parametrize(
    "target",
    [
        pytest.param(mpc_minor_planet(), id="R29 minor planet"),
        pytest.param(
            mpc_minor_planet(scheme=OrbitalScheme.MPC_COMET, eccentricity=0.99, perihdist=1.0, epochofperih=57400.0),
            id="R31 comet with a high eccentricity",
        ),
        pytest.param(SATELLITE, id="R33 satellite"),
    ],
)
def test_non_sidereal_targets_with_the_fields_of_their_scheme_pass(demo: Observatory, target: Target) -> None:
    stored = validated(demo, p0(p0_request(p0_configuration(target=target)))).requests[0]
    assert stored.configurations[0].target == target


def test_a_window_without_start_starts_now_v5(demo: Observatory) -> None:
    request = p0_request(windows=[window_without_start(datetime(2016, 9, 10, tzinfo=UTC))])
    stored = validated(demo, p0(request)).requests[0]
    assert stored.windows == [Window(NOW, datetime(2016, 9, 10, tzinfo=UTC))]


def test_fill_window_stretches_the_repeat_to_the_largest_interval_and_is_not_stored_v10(demo: Observatory) -> None:
    configuration = p0_configuration(
        p0_instrument_config(exposure_time=30), type="REPEAT_EXPOSE", repeat_duration=250, fill_window=True
    )
    seen: list[Request] = []

    def largest_interval(request: Request) -> float:
        seen.append(request)
        return 541.0

    request = validated(demo, p0(p0_request(configuration, windows=[W541])), largest_interval=largest_interval)
    stored = request.requests[0]
    assert stored.configurations[0].repeat_duration == 446
    assert stored.duration == 540
    assert not stored.configurations[0].fill_window
    assert seen[0].configurations[0].instrument_configs[0].mode == "full_frame"  # asked after the defaults


def test_fill_window_on_a_non_repeat_type_is_ignored(demo: Observatory) -> None:
    configuration = p0_configuration(fill_window=True)
    stored = validated(demo, p0(p0_request(configuration)), largest_interval=lambda _request: 5000.0).requests[0]
    assert stored.duration == 226
    assert not stored.configurations[0].fill_window


def test_the_validated_group_submits_as_a_pending_group_of_the_proposal(demo: Observatory) -> None:
    group = validated(demo).submit("pi", NOW)
    assert (group.proposal, group.submitter, group.state) == ("TEST_PROPOSAL", "pi", RequestState.PENDING)
    assert group.requests[0].duration == 226


def test_muscat_gets_its_default_exposure_mode_and_needs_the_channel_times(demo: Observatory) -> None:
    elements = {f"narrowband_{channel}_position": "out" for channel in "griz"}
    times = {f"exposure_time_{channel}": 60 for channel in "griz"}
    muscat = p0_configuration(
        InstrumentConfig(60, 2, optical_elements=elements, extra_params=times), instrument_type=MUSCAT
    )
    request = p0_request(muscat, location=Location("2m0"))
    stored = validated(demo, p0(request)).requests[0].configurations[0].instrument_configs[0]
    assert stored.extra_params["exposure_mode"] == "SYNCHRONOUS"

    without_times = evolve(muscat, instrument_configs=[InstrumentConfig(60, 2, optical_elements=elements)])
    tree = refusal(demo, p0(p0_request(without_times, location=Location("2m0"))))
    [message] = configuration_errors(tree)["non_field_errors"]
    assert message.startswith("Exposure mode SYNCHRONOUS requirements are not met: extra_params{")
    assert "exposure_time_g error: required field" in message


# -- 8.2: configuration refusals (3.4) ------------------------------------------------------------------------


def test_a_configuration_type_the_instrument_does_not_offer_is_refused_r4(demo: Observatory) -> None:
    tree = refusal(demo, p0(floyds_request(type="EXPOSE")))
    assert tree == only_configuration_refusal("configuration type EXPOSE is not valid for instrument type " + FLOYDS)


def test_an_acquisition_mode_whose_schema_is_not_met_names_the_missing_field_r5(demo: Observatory) -> None:
    tree = refusal(demo, p0(floyds_request(acquisition_config=AcquisitionConfig("BRIGHTEST"))))
    [message] = configuration_errors(tree)["non_field_errors"]
    assert "Acquisition mode BRIGHTEST requirements are not met" in message
    assert "acquire_radius" in message
    assert message.endswith("extra_params{acquire_radius error: required field}")


def test_brightest_acquisition_with_its_radius_passes(demo: Observatory) -> None:
    acquisition = AcquisitionConfig("brightest", extra_params={"acquire_radius": "5"})
    stored = validated(demo, p0(floyds_request(acquisition_config=acquisition))).requests[0].configurations[0]
    assert stored.acquisition_config == AcquisitionConfig("BRIGHTEST", extra_params={"acquire_radius": 5})


def test_a_non_schedulable_configuration_type_is_refused_to_users_r6(demo: Observatory) -> None:
    tree = refusal(demo, p0(p0_request(p0_configuration(type="BIAS"))))
    assert tree == only_configuration_refusal(
        f"configuration type BIAS is not schedulable for instrument type {SINISTRO}"
    )


def test_a_staff_member_may_ask_for_a_non_schedulable_configuration_type(demo: Observatory) -> None:
    stored = validated(demo, p0(p0_request(p0_configuration(type="BIAS"))), actor=STAFF_MEMBER)
    assert stored.requests[0].configurations[0].acquisition_config.mode == OFF  # BIAS forces acquisition off


@pytest.mark.parametrize(
    ("elements", "message"),
    [
        pytest.param({"filter": "zz"}, "optical element zz of type filter is not available", id="R8"),
        pytest.param({}, f"Must set optical element of type filter for instrument type {SINISTRO}", id="R9"),
        pytest.param({"filter": "ND"}, "optical element ND of type filter is not available", id="R39"),
        pytest.param(
            {"filter": "air", "grating": "x"},
            f"optical_element of type grating is not available on {SINISTRO} instruments",
            id="unknown element type",
        ),
    ],
)
def test_optical_elements_must_exist_on_the_instrument_type(
    demo: Observatory, elements: dict[str, str], message: str
) -> None:
    configuration = p0_configuration(p0_instrument_config(optical_elements=elements))
    assert refusal(demo, p0(p0_request(configuration))) == only_configuration_refusal(message)


def test_a_staff_member_may_use_a_non_schedulable_optical_element_r39(demo: Observatory) -> None:
    configuration = p0_configuration(p0_instrument_config(optical_elements={"filter": "nd"}))
    stored = validated(demo, p0(p0_request(configuration)), actor=STAFF_MEMBER).requests[0]
    assert stored.configurations[0].instrument_configs[0].optical_elements == {"filter": "ND"}


def test_configuration_types_that_need_no_optical_elements_pass_without_them(demo: Observatory) -> None:
    script = p0_configuration(
        p0_instrument_config(optical_elements={}), type="SCRIPT", extra_params={"script_name": "focus.py"}
    )
    assert validated(demo, p0(p0_request(script))).requests[0].configurations[0].type == "SCRIPT"


def test_a_readout_mode_the_instrument_does_not_have_is_refused_r11(demo: Observatory) -> None:
    configuration = p0_configuration(p0_instrument_config(mode="not_a_mode"))
    assert refusal(demo, p0(p0_request(configuration))) == only_configuration_refusal(
        f"Readout mode not_a_mode is not available for instrument type {SINISTRO}"
    )


def test_a_binning_the_readout_mode_does_not_allow_is_refused_r12(demo: Observatory) -> None:
    configuration = p0_configuration(p0_instrument_config(extra_params={"bin_x": 2}))
    assert refusal(demo, p0(p0_request(configuration))) == only_configuration_refusal(
        "Readout mode full_frame requirements are not met: extra_params{bin_x error: unallowed value 2}"
    )


def test_a_non_schedulable_mode_is_for_staff_only(demo: Observatory) -> None:
    nres = p0_configuration(InstrumentConfig(900, 1), instrument_type="1M0-NRES-SCICAM", type="NRES_SPECTRUM")
    special = evolve(nres, guiding_config=GuidingConfig("NRES_SPECIAL"))
    tree = refusal(demo, p0(p0_request(special)))
    assert tree == only_configuration_refusal(
        "Guiding mode NRES_SPECIAL is not available for instrument type 1M0-NRES-SCICAM"
    )
    stored = validated(demo, p0(p0_request(special)), actor=STAFF_MEMBER).requests[0].configurations[0]
    assert stored.guiding_config.mode == "NRES_SPECIAL"


def test_an_instrument_type_schema_error_is_nested_at_its_field_r14(demo: Observatory) -> None:
    configuration = p0_configuration(p0_instrument_config(extra_params={"defocus": 9}))
    tree = refusal(demo, p0(p0_request(configuration)))
    assert tree == {
        "requests": [
            {"configurations": [{"instrument_configs": [{"extra_params": {"defocus": ["max value is 5.0"]}}]}]}
        ]
    }


def test_a_configuration_type_schema_error_is_nested_at_its_field_r36(demo: Observatory) -> None:
    configuration = p0_configuration(
        p0_instrument_config(exposure_time=10), p0_instrument_config(exposure_time=100), type="SKY_FLAT"
    )
    tree = refusal(demo, p0(p0_request(configuration)))
    assert tree == {
        "requests": [{"configurations": [{"instrument_configs": [{}, {"exposure_time": ["max value is 60.0"]}]}]}]
    }


def test_a_target_without_a_field_of_its_type_is_refused_on_that_field_r16(demo: Observatory) -> None:
    configuration = p0_configuration(target=Target("fake target", TargetType.ICRS, ra=34.4))
    tree = refusal(demo, p0(p0_request(configuration)))
    assert tree == {"requests": [{"configurations": [{"target": {"dec": ["This field is required."]}}]}]}


def test_a_repeat_type_needs_a_repeat_duration_r22(demo: Observatory) -> None:
    configuration = p0_configuration(type="REPEAT_EXPOSE")
    assert refusal(demo, p0(p0_request(configuration))) == only_configuration_refusal(
        "Must specify a configuration repeat_duration for REPEAT_EXPOSE type configurations."
    )


def test_a_repeat_duration_must_hold_one_pass_of_the_instrument_configs_r23(demo: Observatory) -> None:
    configuration = p0_configuration(p0_instrument_config(exposure_time=30), type="REPEAT_EXPOSE", repeat_duration=40)
    [message] = configuration_errors(refusal(demo, p0(p0_request(configuration))))["non_field_errors"]
    assert message == (
        "Configuration repeat_duration of 40 is less than the minimum of 45.5 required to repeat at least once"
    )


def test_only_repeat_types_take_a_repeat_duration_r24(demo: Observatory) -> None:
    configuration = p0_configuration(repeat_duration=100)
    assert refusal(demo, p0(p0_request(configuration))) == only_configuration_refusal(
        "You may only specify a repeat_duration for REPEAT_* type configurations."
    )


def test_a_script_configuration_needs_a_script_name_r26(demo: Observatory) -> None:
    assert refusal(demo, p0(p0_request(p0_configuration(type="SCRIPT")))) == only_configuration_refusal(
        "Must specify a script_name in extra_params for SCRIPT configuration type"
    )


def test_a_dither_pattern_needs_offsets_r28(demo: Observatory) -> None:
    configuration = p0_configuration(extra_params={"dither_pattern": "line"})
    [message] = configuration_errors(refusal(demo, p0(p0_request(configuration))))["non_field_errors"]
    assert "did not supply any non-zero dither offsets" in message


def test_an_unknown_dither_pattern_is_refused(demo: Observatory) -> None:
    configuration = p0_configuration(
        p0_instrument_config(extra_params={"offset_dec": 3}), extra_params={"dither_pattern": "zigzag"}
    )
    assert refusal(demo, p0(p0_request(configuration))) == only_configuration_refusal(
        "Invalid dither pattern zigzag set in the configuration extra_params, choose from line, grid, spiral, custom"
    )


def test_an_orbit_too_eccentric_for_its_scheme_is_refused_on_the_scheme_r30(demo: Observatory) -> None:
    configuration = p0_configuration(target=mpc_minor_planet(eccentricity=0.99))
    target_errors = configuration_errors(refusal(demo, p0(p0_request(configuration))))["target"]
    assert list(target_errors) == ["scheme"]
    assert "requires eccentricity to be lower than 0.9" in target_errors["scheme"][0]


def test_orbital_elements_need_the_fields_of_their_scheme(demo: Observatory) -> None:
    configuration = p0_configuration(target=mpc_minor_planet(scheme=OrbitalScheme.MPC_COMET))
    target_errors = configuration_errors(refusal(demo, p0(p0_request(configuration))))["target"]
    assert target_errors == {"perihdist": ["This field is required."], "epochofperih": ["This field is required."]}


def test_an_instrument_type_nobody_offers_is_refused_on_the_field(demo: Observatory) -> None:
    tree = refusal(demo, p0(p0_request(p0_configuration(instrument_type="1M0-SCICAM-SBIG"))))
    [message] = configuration_errors(tree)["instrument_type"]
    assert message.startswith("Invalid instrument type 1M0-SCICAM-SBIG. Valid instruments may include: ")
    assert SINISTRO in message


def test_regions_of_interest_are_filled_to_the_detector_and_checked(demo: Observatory) -> None:
    configuration = p0_configuration(p0_instrument_config(rois=[RegionOfInterest(x1=100, y2=2000)]))
    stored = validated(demo, p0(p0_request(configuration))).requests[0].configurations[0]
    assert stored.instrument_configs[0].rois == (RegionOfInterest(100, 4096, 0, 2000),)

    cases = {
        "Must submit at least one bound for a region of interest": [RegionOfInterest()],
        "Region of interest pixels start must be less than pixels end": [RegionOfInterest(x1=500, x2=100)],
        f"Regions of interest for instrument type {SINISTRO} must be in range 0<=x<=4096 and 0<=y<=4096": [
            RegionOfInterest(x2=5000)
        ],
        f"Instrument type {SINISTRO} supports up to 1 regions of interest": [
            RegionOfInterest(x1=1),
            RegionOfInterest(x1=2),
        ],
    }
    for message, rois in cases.items():
        refused = p0_configuration(p0_instrument_config(rois=rois))
        assert refusal(demo, p0(p0_request(refused))) == only_configuration_refusal(message)


def test_every_configuration_problem_is_reported_at_once_in_the_spec_order(demo: Observatory) -> None:
    configuration = p0_configuration(
        p0_instrument_config(mode="not_a_mode", optical_elements={"filter": "zz"}),
        type="REPEAT_EXPOSE",
        guiding_config=GuidingConfig("SIDEWAYS"),
    )
    assert configuration_errors(refusal(demo, p0(p0_request(configuration)))) == {
        "non_field_errors": [
            f"Guiding mode SIDEWAYS is not available for instrument type {SINISTRO}",
            f"Readout mode not_a_mode is not available for instrument type {SINISTRO}",
            "optical element zz of type filter is not available",
            "Must specify a configuration repeat_duration for REPEAT_EXPOSE type configurations.",
        ]
    }


# -- 8.2: location and request refusals (3.6, 3.7) ----------------------------------------------------------


def test_an_instrument_type_not_offered_at_the_location_is_refused_r10(demo: Observatory) -> None:
    tree = refusal(demo, p0(p0_request(floyds_configuration())))
    [message] = tree["requests"][0]["non_field_errors"]
    assert message.startswith(f"Invalid instrument type '{FLOYDS}' at site=Any, enc=Any, tel=Any.")
    assert list(tree) == ["requests"]


def test_non_schedulable_instruments_are_offered_to_staff_only_at_a_fully_given_location(
    demo: Observatory,
) -> None:
    manual_telescope = Location("1m0", "lsc", "domb", "1m0a")  # fa03 is MANUAL
    tree = refusal(demo, p0(p0_request(location=manual_telescope)))
    [message] = tree["requests"][0]["non_field_errors"]
    assert message.startswith(f"Invalid instrument type '{SINISTRO}' at site=lsc, enc=domb, tel=1m0a.")
    assert validated(demo, p0(p0_request(location=manual_telescope)), actor=STAFF_MEMBER)

    partly_given = Location("1m0", "lsc", "domb")
    [hint] = refusal(demo, p0(p0_request(location=partly_given)), actor=STAFF_MEMBER)["requests"][0]["non_field_errors"]
    assert "site, enclosure and telescope" in hint


def test_an_enclosure_needs_a_site_r34(demo: Observatory) -> None:
    tree = refusal(demo, p0(p0_request(location=Location("1m0", enclosure="doma"))))
    assert tree == {"requests": [{"location": {"non_field_errors": ["Must specify a site with an enclosure."]}}]}


def test_an_unknown_site_is_not_a_valid_choice_r35(demo: Observatory) -> None:
    tree = refusal(demo, p0(p0_request(location=Location("1m0", site="xyz"))))
    assert tree == {"requests": [{"location": {"site": ['"xyz" is not a valid choice.']}}]}


def test_known_codes_must_belong_to_one_another(demo: Observatory) -> None:
    tree = refusal(demo, p0(p0_request(location=Location("1m0", "ogg", "doma"))))
    assert tree == {"requests": [{"location": {"non_field_errors": ["Enclosure doma not valid. Valid choices: clma"]}}]}


def test_an_unknown_mosaic_pattern_is_refused(demo: Observatory) -> None:
    tree = refusal(demo, p0(p0_request(extra_params={"mosaic_pattern": "spiral"})))
    assert tree == only_request_refusal(
        "Invalid mosaic pattern spiral set in the request extra_params, choose from line, grid, custom"
    )


def test_request_rules_wait_until_its_children_are_clean(demo: Observatory) -> None:
    """A FLOYDS configuration at a 1 m location with a bad filter: the configuration error only (3.1)."""
    bad = floyds_configuration(instrument_configs=[InstrumentConfig(100, 1, optical_elements={"slit": "zz"})])
    tree = refusal(demo, p0(p0_request(bad)), largest_interval=lambda _request: 0.0)
    assert tree == only_configuration_refusal("optical element zz of type slit is not available")


# -- 8.3: windows, semesters and the visibility hook ---------------------------------------------------------


def test_a_window_ending_in_the_past_is_refused_on_its_end_v1(demo: Observatory) -> None:
    request = p0_request(windows=[Window(P0_START, datetime(2016, 8, 31, tzinfo=UTC))])
    tree = refusal(demo, p0(request))
    assert tree == {"requests": [{"windows": [{"end": ["Window end time must be in the future"]}]}]}


def test_a_window_ending_before_it_starts_is_refused_v2(demo: Observatory) -> None:
    window = Window(datetime(2016, 10, 2, tzinfo=UTC), datetime(2016, 10, 1, tzinfo=UTC))
    [message] = refusal(demo, p0(p0_request(windows=[window])))["requests"][0]["windows"][0]["non_field_errors"]
    assert "cannot be earlier than window start" in message
    assert message == "Window end '2016-10-01T00:00:00Z' cannot be earlier than window start '2016-10-02T00:00:00Z'"


def test_a_window_across_the_semester_gap_fits_no_semester_v3(demo: Observatory) -> None:
    window = Window(datetime(2016, 12, 30, tzinfo=UTC), datetime(2017, 1, 2, tzinfo=UTC))
    tree = refusal(demo, p0(p0_request(windows=[window])))
    assert tree == {
        "requests": [
            {"windows": [{"non_field_errors": ["The observation window does not fit within any defined semester."]}]}
        ]
    }


def test_windows_in_two_semesters_are_refused_v4(demo: Observatory) -> None:
    later = Window(datetime(2017, 2, 1, tzinfo=UTC), datetime(2017, 2, 2, tzinfo=UTC))
    tree = refusal(demo, p0(p0_request(windows=[Window(P0_START, P0_END), later])))
    assert tree == {"requests": [{"windows": ["The observation windows must all be in the same semester"]}]}


def test_a_scheduled_request_needs_a_window_v6(demo: Observatory) -> None:
    tree = refusal(demo, p0(p0_request(windows=[])))
    assert tree == {"requests": [{"windows": ["You must specify at least 1 window"]}]}


def test_only_one_configuration_may_fill_the_window_v11(demo: Observatory) -> None:
    repeat = p0_configuration(
        p0_instrument_config(exposure_time=30), type="REPEAT_EXPOSE", repeat_duration=250, fill_window=True
    )
    tree = refusal(demo, p0(p0_request(repeat, repeat, windows=[W541])), largest_interval=lambda _r: 541.0)
    assert tree == {"requests": [{"configurations": ["Only one configuration can have `fill_window` set"]}]}


def test_field_errors_of_several_requests_come_back_together_aligned_by_index(demo: Observatory) -> None:
    past = p0_request(windows=[Window(P0_START, datetime(2016, 8, 31, tzinfo=UTC))])
    bias = p0_request(p0_configuration(type="BIAS"))
    tree = refusal(demo, p0(p0_request(), past, bias, operator="MANY"))
    assert tree["requests"][0] == {}
    assert tree["requests"][1] == {"windows": [{"end": ["Window end time must be in the future"]}]}
    assert "not schedulable" in tree["requests"][2]["configurations"][0]["non_field_errors"][0]


def test_visibility_errors_are_reported_on_the_request_before_any_group_rule(demo: Observatory) -> None:
    message = "According to the constraints of the request, the target will not be visible within the time window."

    def not_visible(request: Request, largest_s: float) -> list[str]:
        assert request.duration == 226
        return [message] if largest_s <= 0 else []

    tree = refusal(demo, p0(), actor=OUTSIDER, largest_interval=lambda _request: 0.0, visibility_errors=not_visible)
    assert tree == only_request_refusal(message)
    assert validated(demo, largest_interval=lambda _request: 3600.0, visibility_errors=not_visible)


# -- 8.4 and 3.1 level 3: the group rules ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("submission", "actor", "message"),
    [
        pytest.param(p0(), OUTSIDER, "You do not belong to the proposal you are trying to submit with", id="T1"),
        pytest.param(
            p0(proposal="SLEEPY_PROPOSAL"),
            PI,
            "The proposal you are trying to submit with is currently inactive",
            id="T2",
        ),
        pytest.param(p0(ipp_value=2.5), PI, "requestgroups ipp_value must be >= 0.5, <= 2.0", id="T3 high"),
        pytest.param(p0(ipp_value=0.4), PI, "requestgroups ipp_value must be >= 0.5, <= 2.0", id="T3 low"),
        pytest.param(
            p0(operator="MANY"), PI, "'Many' type requestgroups must have more than one child request.", id="T4"
        ),
        pytest.param(
            p0(p0_request(), p0_request()),
            PI,
            "'Single' type requestgroups must have exactly one child request.",
            id="T5",
        ),
        pytest.param(p0(), STAFF, "You do not belong to the proposal you are trying to submit with", id="T20"),
        pytest.param(p0(), STAFF_VIEW, "You do not belong to the proposal you are trying to submit with", id="T20v"),
        pytest.param(
            p0(p0_request(p0_configuration(target=Target("ha", TargetType.HOUR_ANGLE, hour_angle=20, dec=30)))),
            PI,
            "HOUR_ANGLE Target type not supported in scheduled observations",
            id="R32",
        ),
    ],
)
def test_group_rules_refuse_with_one_message(
    demo: Observatory, submission: RequestGroupSubmission, actor: Actor, message: str
) -> None:
    assert refusal(demo, submission, actor) == {"non_field_errors": [message]}


def test_only_the_first_broken_group_rule_is_reported(demo: Observatory) -> None:
    submission = p0(p0_request(), p0_request(), proposal="SLEEPY_PROPOSAL", ipp_value=3.0)
    assert refusal(demo, submission, OUTSIDER) == {
        "non_field_errors": ["You do not belong to the proposal you are trying to submit with"]
    }


def test_a_ci_may_submit(demo: Observatory) -> None:
    assert validated(demo, actor=CI).requests[0].duration == 226


def test_an_unknown_proposal_is_an_invalid_pk_reported_with_the_field_errors(demo: Observatory) -> None:
    past = p0_request(windows=[Window(P0_START, datetime(2016, 8, 31, tzinfo=UTC))])
    assert refusal(demo, p0(proposal="NOPE")) == {"proposal": ['Invalid pk "NOPE" - object does not exist.']}
    assert refusal(demo, p0(past, proposal="NOPE")) == {
        "proposal": ['Invalid pk "NOPE" - object does not exist.'],
        "requests": [{"windows": [{"end": ["Window end time must be in the future"]}]}],
    }


def test_a_group_needs_a_request(demo: Observatory) -> None:
    submission = evolve(p0(), requests=())
    assert refusal(demo, submission) == {"requests": ["You must specify at least 1 request"]}


def test_direct_groups_take_hour_angle_targets_without_windows_or_location(demo: Observatory) -> None:
    hour_angle = Target("ha", TargetType.HOUR_ANGLE, hour_angle=2, dec=30)
    direct = p0_request(p0_configuration(target=hour_angle), windows=[], location=None)
    group = validated(demo, p0(direct, observation_type=ObservationType.DIRECT), largest_interval=lambda _r: 0.0)
    assert group.requests[0].configurations[0].target == hour_angle


def test_a_scheduled_request_needs_a_location(demo: Observatory) -> None:
    tree = refusal(demo, p0(p0_request(location=None)))
    assert tree == {"requests": [{"location": ["This field is required."]}]}


# -- the helpers -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("true", True),
        ("False", False),
        ("2", 2),
        ("1.15", 1.15),
        (3.0, 3),
        (True, True),
        ("", ""),
        (None, None),
        ("abc", "abc"),
        ("nan", "nan"),
        ({"a": "1"}, {"a": "1"}),
    ],
)
def test_extra_params_values_are_coerced_as_the_spec_says(given: object, expected: object) -> None:
    coerced = coerce_value(given)
    assert coerced == expected
    assert type(coerced) is type(expected)


def test_schema_errors_read_on_one_line_as_cerberus_users_know_them() -> None:
    errors: dict[Any, list[Any]] = {"extra_params": [{"bin_x": ["unallowed value 5"], "bin_y": ["required field"]}]}
    assert describe_schema_errors(errors) == "extra_params{bin_x error: unallowed value 5, bin_y error: required field}"
