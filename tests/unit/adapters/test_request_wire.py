"""The request language on the wire: what clients submit becomes domain objects or the exact DRF error tree,
and domain objects go back out in the portal's shapes (requests.md 2, 3.1, 3.2, 8.2; api.md rules 9-14, 24, 5.3,
8.2 B2-B10)."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from attrs import evolve
from hypothesis import given
from hypothesis import strategies as st

from adapters.request_wire import (
    Cadence,
    ParsedRequestGroup,
    configuration_json,
    parse_configuration,
    parse_request,
    parse_request_group,
    request_group_json,
    request_json,
)
from adapters.serialization import DATETIME_FORMAT_HELP
from domain.errors import NON_FIELD, ValidationError
from domain.permissions import Actor
from domain.proposals import Membership, Proposal, Role, Semester
from domain.request_validation import RequestGroupSubmission, validate_request_group
from domain.requestgroups import (
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
)
from tests.reference import P0, p0
from tests.unit.domain.observatory_fixtures import demo_observatory

NOW = datetime(2016, 9, 1, tzinfo=UTC)
REQUIRED = ["This field is required."]


def request0(body: dict[str, Any]) -> dict[str, Any]:
    request: dict[str, Any] = body["requests"][0]
    return request


def config0(body: dict[str, Any]) -> dict[str, Any]:
    configuration: dict[str, Any] = request0(body)["configurations"][0]
    return configuration


def ic0(body: dict[str, Any]) -> dict[str, Any]:
    instrument_config: dict[str, Any] = config0(body)["instrument_configs"][0]
    return instrument_config


def errors_of(body: Any) -> dict[str, Any]:
    with pytest.raises(ValidationError) as caught:
        parse_request_group(body, now=NOW)
    return caught.value.errors


def at_configuration(tree: dict[str, Any]) -> dict[str, Any]:
    """The error tree of a P0 payload whose only configuration has the errors ``tree``."""
    return {"requests": [{"configurations": [tree]}]}


def at_instrument_config(tree: dict[str, Any]) -> dict[str, Any]:
    return at_configuration({"instrument_configs": [tree]})


def parse_single_request(body: dict[str, Any]) -> Request:
    parsed = parse_request_group(body, now=NOW)
    assert len(parsed.requests) == 1
    return parsed.requests[0]


def parse_single_configuration(body: dict[str, Any]) -> Configuration:
    return parse_single_request(body).configurations[0]


# ---------------------------------------------------------------------------------------------------------
# P0 in and out


def p0_expected_configuration() -> Configuration:
    return Configuration(
        instrument_type="1M0-SCICAM-SINISTRO",
        type="EXPOSE",
        instrument_configs=[InstrumentConfig(100.0, 1, optical_elements={"filter": "air"})],
        target=Target.icrs("fake target", 34.4, 20.0),
        constraints=Constraints(max_airmass=2.0, min_lunar_distance=30.0, max_lunar_phase=1.0),
        priority=1,
    )


def test_p0_parses_into_the_domain_objects_with_unset_values_left_for_validation() -> None:
    parsed = parse_request_group(p0(), now=NOW)

    assert (parsed.proposal, parsed.name, parsed.ipp_value) == ("TEST_PROPOSAL", "test group", 1.0)
    assert (parsed.observation_type, parsed.operator) == (ObservationType.NORMAL, Operator.SINGLE)
    assert parsed.cadences == (None,)
    assert not parsed.has_cadence
    (request,) = parsed.requests
    assert request.location == Location("1m0")
    assert request.windows == [
        Window(datetime(2016, 9, 29, 21, 12, 18, tzinfo=UTC), datetime(2016, 10, 29, 21, 12, 19, tzinfo=UTC))
    ]
    assert request.configurations == [p0_expected_configuration()]
    configuration = request.configurations[0]
    # Defaults that need configdb stay visibly unset; validation fills them.
    assert configuration.acquisition_config == AcquisitionConfig(mode="")
    assert configuration.guiding_config == GuidingConfig(mode="", optional=True)
    assert configuration.instrument_configs[0].mode == ""
    assert request.acceptability_threshold is None
    assert (request.observation_note, request.optimization_type, request.configuration_repeats) == (
        "",
        OptimizationType.TIME,
        1,
    )
    assert request.id is None
    assert request.duration is None


R1_ECHO: dict[str, Any] = {
    "id": 17,
    "submitter": "pi",
    "proposal": "TEST_PROPOSAL",
    "name": "test group",
    "observation_type": "NORMAL",
    "operator": "SINGLE",
    "ipp_value": 1.0,
    "state": "PENDING",
    "created": "2016-09-01T00:00:00Z",
    "modified": "2016-09-01T00:00:00Z",
    "requests": [
        {
            "id": 31,
            "state": "PENDING",
            "duration": 226,
            "acceptability_threshold": 90.0,
            "configuration_repeats": 1,
            "optimization_type": "TIME",
            "observation_note": "",
            "extra_params": {},
            "suspend_until": None,
            "created": "2016-09-01T00:00:00Z",
            "modified": "2016-09-01T00:00:00Z",
            "location": {"telescope_class": "1m0"},
            "windows": [{"start": "2016-09-29T21:12:18Z", "end": "2016-10-29T21:12:19Z"}],
            "configurations": [
                {
                    "id": 44,
                    "priority": 1,
                    "type": "EXPOSE",
                    "instrument_type": "1M0-SCICAM-SINISTRO",
                    "extra_params": {},
                    "instrument_configs": [
                        {
                            "exposure_time": 100.0,
                            "exposure_count": 1,
                            "mode": "full_frame",
                            "rotator_mode": "",
                            "optical_elements": {"filter": "air"},
                            "extra_params": {"bin_x": 1, "bin_y": 1},
                        }
                    ],
                    "acquisition_config": {"mode": "OFF", "extra_params": {}},
                    # exposure_time is beyond 5.3's example: pyobs needs the key on the guiding config (api.md 4.3).
                    "guiding_config": {
                        "mode": "OFF",
                        "optional": True,
                        "optical_elements": {},
                        "exposure_time": None,
                        "extra_params": {},
                    },
                    "target": {
                        "name": "fake target",
                        "type": "ICRS",
                        "ra": 34.4,
                        "dec": 20.0,
                        "proper_motion_ra": 0.0,
                        "proper_motion_dec": 0.0,
                        "parallax": 0.0,
                        "epoch": 2000.0,
                        "extra_params": {},
                    },
                    "constraints": {
                        "max_airmass": 2.0,
                        "min_lunar_distance": 30.0,
                        "max_lunar_phase": 1.0,
                        "extra_params": {},
                    },
                }
            ],
        }
    ],
}


def submitted(parsed: ParsedRequestGroup, submitter: str = "pi") -> RequestGroup:
    return RequestGroup.submit(
        proposal=parsed.proposal,
        submitter=submitter,
        name=parsed.name,
        observation_type=parsed.observation_type,
        operator=parsed.operator,
        ipp_value=parsed.ipp_value,
        requests=parsed.requests,
        now=NOW,
    )


def as_validation_leaves_it(request: Request) -> None:
    """What validation and storage do to P0's request (R1): defaults filled, duration fixed, ids assigned."""
    request.configurations = [
        evolve(
            configuration,
            id=44,
            acquisition_config=evolve(configuration.acquisition_config, mode="OFF"),
            guiding_config=evolve(configuration.guiding_config, mode="OFF"),
            instrument_configs=[
                evolve(ic, mode="full_frame", extra_params={"bin_x": 1, "bin_y": 1})
                for ic in configuration.instrument_configs
            ],
        )
        for configuration in request.configurations
    ]
    request.acceptability_threshold, request.duration, request.id = 90.0, 226, 31


def test_p0_echoes_as_r1_once_validation_has_filled_the_defaults() -> None:
    group = submitted(parse_request_group(p0(), now=NOW))
    as_validation_leaves_it(group.requests[0])
    group.id = 17

    assert request_group_json(group) == R1_ECHO


def test_p0_through_the_real_validation_echoes_as_r1() -> None:
    parsed = parse_request_group(p0(), now=NOW)
    submission = RequestGroupSubmission(
        parsed.proposal, parsed.name, parsed.observation_type, parsed.operator, parsed.ipp_value, parsed.requests
    )
    proposal = Proposal("TEST_PROPOSAL", memberships=[Membership(1, 1, Role.PI)])
    semester = Semester("2016B", datetime(2016, 9, 1, tzinfo=UTC), datetime(2016, 12, 31, tzinfo=UTC))
    validated = validate_request_group(
        submission, observatory=demo_observatory(), semesters=[semester], proposal=proposal, actor=Actor(1), now=NOW
    )

    echoed = request_group_json(validated.submit("pi", NOW))

    expected = copy.deepcopy(R1_ECHO)
    del expected["id"], expected["requests"][0]["id"], expected["requests"][0]["configurations"][0]["id"]
    assert echoed == expected


def test_an_unsaved_group_is_echoed_without_ids_or_timestamps() -> None:
    parsed = parse_request_group(p0(), now=NOW)
    body = request_json(parsed.requests[0])

    assert not {"id", "created", "modified"} & set(body)
    assert "id" not in body["configurations"][0]
    assert body["configurations"][0]["priority"] == 1


@pytest.mark.parametrize(
    "variant",
    [
        {},
        {"observation_type": "RAPID_RESPONSE"},
        {"operator": "MANY"},
    ],
)
def test_an_echo_submitted_again_parses_into_the_same_request(variant: dict[str, Any]) -> None:
    body = p0(**variant)
    config0(body)["type"] = "REPEAT_EXPOSE"
    config0(body)["repeat_duration"] = 500
    ic0(body)["rois"] = [{"x1": 0, "x2": 100, "y1": None, "y2": 200}]
    config0(body)["target"].update({"proper_motion_ra": 3.5, "extra_params": {"v_magnitude": "12.5"}})
    request0(body).update({"observation_note": "note", "configuration_repeats": 2, "extra_params": {"x": [1, 2]}})
    parsed = parse_request_group(body, now=NOW)

    echo = request_group_json(submitted(parsed))
    again = parse_request_group(echo, now=NOW)

    assert again.requests[0].configurations == parsed.requests[0].configurations
    assert request_json(again.requests[0]) == request_json(parse_request_group(body, now=NOW).requests[0])


# ---------------------------------------------------------------------------------------------------------
# Bad inputs, api.md 8.2 B2-B10


def test_an_empty_body_names_every_required_top_level_field() -> None:
    assert errors_of({}) == {
        "proposal": REQUIRED,
        "name": REQUIRED,
        "observation_type": REQUIRED,
        "operator": REQUIRED,
        "ipp_value": REQUIRED,
        "requests": REQUIRED,
    }


@pytest.mark.parametrize(("body", "kind"), [([], "list"), ("text", "str"), (3, "int"), (None, "NoneType")])
def test_a_body_that_is_not_an_object_is_refused_as_a_whole(body: Any, kind: str) -> None:
    assert errors_of(body) == {NON_FIELD: [f"Invalid data. Expected a dictionary, but got {kind}."]}


def test_wrong_types_are_reported_at_their_nested_paths_all_at_once() -> None:
    body = p0(ipp_value="abc")
    ic0(body)["exposure_count"] = 1.5
    ic0(body)["optical_elements"] = "air"
    request0(body)["windows"][0]["start"] = "yesterday"

    assert errors_of(body) == {
        "ipp_value": ["A valid number is required."],
        "requests": [
            {
                "windows": [{"start": [DATETIME_FORMAT_HELP]}],
                "configurations": [
                    {
                        "instrument_configs": [
                            {
                                "exposure_count": ["A valid integer is required."],
                                "optical_elements": ['Expected a dictionary of items but got type "str".'],
                            }
                        ]
                    }
                ],
            }
        ],
    }


def test_requests_given_as_an_object_is_a_list_error() -> None:
    assert errors_of(p0(requests={})) == {"requests": ['Expected a list of items but got type "dict".']}


@pytest.mark.parametrize("key", ["target", "constraints", "acquisition_config", "guiding_config", "instrument_configs"])
def test_null_for_a_required_object_may_not_be_null(key: str) -> None:
    body = p0()
    config0(body)[key] = None

    assert errors_of(body) == at_configuration({key: ["This field may not be null."]})


@pytest.mark.parametrize("key", ["target", "constraints", "acquisition_config", "guiding_config"])
def test_a_required_object_key_must_be_present_even_if_empty(key: str) -> None:
    body = p0()
    del config0(body)[key]

    assert errors_of(body) == at_configuration({key: REQUIRED})


def test_an_object_given_as_something_else_is_an_invalid_data_error_inside_it() -> None:
    body = p0()
    config0(body)["target"] = "M31"

    assert errors_of(body) == at_configuration(
        {"target": {NON_FIELD: ["Invalid data. Expected a dictionary, but got str."]}}
    )


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf"), "NaN", "Infinity", "1e400"])
def test_non_finite_numbers_are_not_valid_numbers(value: Any) -> None:
    body = p0(ipp_value=value)
    config0(body)["target"]["ra"] = value

    assert errors_of(body) == {
        "ipp_value": ["A valid number is required."],
        **at_configuration({"target": {"ra": ["A valid number is required."]}}),
    }


def test_non_finite_numbers_inside_extra_params_are_refused() -> None:
    body = p0()
    ic0(body)["extra_params"] = {"defocus": float("inf")}

    assert errors_of(body) == at_instrument_config({"extra_params": ["A valid number is required."]})


def test_strings_over_their_limit_are_refused() -> None:
    body = p0(name="n" * 51)
    request0(body)["observation_note"] = "x" * 256
    config0(body)["target"]["name"] = "t" * 51
    ic0(body)["mode"] = "m" * 51

    too_long = "Ensure this field has no more than {} characters."
    assert errors_of(body) == {
        "name": [too_long.format(50)],
        "requests": [
            {
                "observation_note": [too_long.format(255)],
                "configurations": [
                    {
                        "target": {"name": [too_long.format(50)]},
                        "instrument_configs": [{"mode": [too_long.format(50)]}],
                    }
                ],
            }
        ],
    }


def test_strings_at_their_limit_are_accepted() -> None:
    body = p0(name="n" * 50)
    request0(body)["observation_note"] = "x" * 255

    assert parse_request_group(body, now=NOW).name == "n" * 50


def test_a_blank_group_name_may_not_be_blank() -> None:
    assert errors_of(p0(name="  ")) == {"name": ["This field may not be blank."]}


def test_null_characters_are_refused_as_drf_does() -> None:
    assert errors_of(p0(name="a\x00b")) == {"name": ["Null characters are not allowed."]}


def test_more_than_1000_requests_are_refused() -> None:
    body = p0()
    body["requests"] = [request0(body)] * 1001

    assert errors_of(body) == {"requests": ["Ensure this field has no more than 1000 elements."]}


def test_list_limits_apply_at_their_nested_paths() -> None:
    body = p0()
    request0(body)["windows"] = request0(body)["windows"] * 1001
    config0(body)["instrument_configs"] = config0(body)["instrument_configs"] * 101
    request0(body)["configurations"] = request0(body)["configurations"] * 101

    assert errors_of(body) == {
        "requests": [
            {
                "windows": ["Ensure this field has no more than 1000 elements."],
                "configurations": ["Ensure this field has no more than 100 elements."],
            }
        ]
    }
    request0(body)["configurations"] = request0(body)["configurations"][:1]
    request0(body)["windows"] = request0(body)["windows"][:1000]
    assert errors_of(body) == at_configuration(
        {"instrument_configs": ["Ensure this field has no more than 100 elements."]}
    )


def nested(depth: int) -> dict[str, Any]:
    value: dict[str, Any] = {}
    for _ in range(depth - 1):
        value = {"a": value}
    return value


def test_extra_params_over_64_kib_are_too_large() -> None:
    body = p0()
    ic0(body)["extra_params"] = {"blob": "x" * (64 * 1024)}
    request0(body)["extra_params"] = {"blob": "x" * (64 * 1024)}

    assert errors_of(body) == {
        "requests": [
            {
                "extra_params": ["extra_params is too large"],
                "configurations": [{"instrument_configs": [{"extra_params": ["extra_params is too large"]}]}],
            }
        ]
    }


def test_extra_params_nested_deeper_than_10_levels_are_too_large() -> None:
    body = p0()
    config0(body)["target"]["extra_params"] = nested(11)
    config0(body)["constraints"]["extra_params"] = nested(10)

    assert errors_of(body) == at_configuration({"target": {"extra_params": ["extra_params is too large"]}})


def test_extra_params_that_are_not_objects_are_refused() -> None:
    body = p0()
    config0(body)["extra_params"] = ["dither_pattern", "line"]

    assert errors_of(body) == at_configuration(
        {"extra_params": ['Expected a dictionary of items but got type "list".']}
    )


# ---------------------------------------------------------------------------------------------------------
# The reference cases of requests.md 8.2 that are decided by syntax


def test_r15_ra_over_360_gives_exactly_the_nested_error() -> None:
    body = p0()
    config0(body)["target"]["ra"] = 361

    assert errors_of(body) == {
        "requests": [{"configurations": [{"target": {"ra": ["Ensure this value is less than or equal to 360."]}}]}]
    }


def test_r16_a_missing_dec_is_required() -> None:
    body = p0()
    del config0(body)["target"]["dec"]

    assert errors_of(body) == at_configuration({"target": {"dec": REQUIRED}})


@pytest.mark.parametrize("missing", [None, ""])
def test_a_required_target_field_that_is_null_or_blank_counts_as_missing(missing: Any) -> None:
    body = p0()
    config0(body)["target"].update({"ra": missing, "name": missing})

    assert errors_of(body) == at_configuration({"target": {"ra": REQUIRED, "name": REQUIRED}})


def test_r18_empty_constraints_take_their_defaults() -> None:
    body = p0()
    config0(body)["constraints"] = {}

    constraints = parse_single_configuration(body).constraints
    assert constraints == Constraints(max_airmass=1.6, min_lunar_distance=30.0, max_lunar_phase=1.0)
    assert configuration_json(parse_single_configuration(body), always_rois=False)["constraints"] == {
        "max_airmass": 1.6,
        "min_lunar_distance": 30.0,
        "max_lunar_phase": 1.0,
        "extra_params": {},
    }


def test_r19_unknown_keys_are_ignored_at_every_level() -> None:
    body = p0(colour="red", state="COMPLETED", submitter="someone", id=9)
    request0(body).update({"unknown": 1, "duration": 5, "state": "CANCELED"})
    request0(body)["location"]["x"] = 1
    request0(body)["windows"][0]["x"] = 1
    config0(body).update({"x": 1, "priority": 7})
    config0(body)["target"]["x"] = 1
    config0(body)["constraints"]["max_lunar_distance"] = 50
    config0(body)["acquisition_config"]["x"] = 1
    config0(body)["guiding_config"]["x"] = 1
    ic0(body)["x"] = 1

    parsed = parse_request_group(body, now=NOW)

    plain = parse_request_group(p0(), now=NOW)
    assert evolve(parsed, requests=()) == evolve(plain, requests=())
    assert request_json(parsed.requests[0]) == request_json(plain.requests[0])
    assert "max_lunar_distance" not in configuration_json(parsed.requests[0].configurations[0], always_rois=False)
    assert parsed.requests[0].configurations[0].priority == 1


def test_r20_naive_and_space_separated_datetimes_are_utc() -> None:
    body = p0()
    request0(body)["windows"] = [{"start": "2016-09-29 21:12:18", "end": "2016-10-29T21:12:19"}]

    (window,) = parse_single_request(body).windows
    assert window == Window(
        datetime(2016, 9, 29, 21, 12, 18, tzinfo=UTC), datetime(2016, 10, 29, 21, 12, 19, tzinfo=UTC)
    )
    assert request_json(parse_single_request(body))["windows"] == [
        {"start": "2016-09-29T21:12:18Z", "end": "2016-10-29T21:12:19Z"}
    ]


def test_offsets_are_converted_to_utc() -> None:
    body = p0()
    request0(body)["windows"] = [{"start": "2016-09-30T00:12:18+03:00", "end": "2016-10-29T21:12:19+00:00"}]

    assert parse_single_request(body).windows[0].start == datetime(2016, 9, 29, 21, 12, 18, tzinfo=UTC)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("exposure_count", 0, "Ensure this value is greater than or equal to 1."),
        ("exposure_time", -1, "Ensure this value is greater than or equal to 0."),
        ("exposure_count", 2**31, "Ensure this value is less than or equal to 2147483647."),
    ],
)
def test_r37_exposure_count_and_time_bounds(field: str, value: Any, message: str) -> None:
    body = p0()
    ic0(body)[field] = value

    assert errors_of(body) == at_instrument_config({field: [message]})


def test_a_zero_exposure_time_is_allowed() -> None:
    body = p0()
    ic0(body)["exposure_time"] = 0

    assert parse_single_configuration(body).instrument_configs[0].exposure_time == 0.0


def test_r38_acquisition_and_guiding_exposure_limits() -> None:
    body = p0()
    config0(body)["acquisition_config"]["exposure_time"] = 61
    config0(body)["guiding_config"]["exposure_time"] = 121

    assert errors_of(body) == at_configuration(
        {
            "acquisition_config": {"exposure_time": ["Ensure this value is less than or equal to 60."]},
            "guiding_config": {"exposure_time": ["Ensure this value is less than or equal to 120."]},
        }
    )
    config0(body)["acquisition_config"]["exposure_time"] = 60
    config0(body)["guiding_config"]["exposure_time"] = 120
    configuration = parse_single_configuration(body)
    assert (configuration.acquisition_config.exposure_time, configuration.guiding_config.exposure_time) == (60, 120)


@pytest.mark.parametrize(
    ("where", "field", "value", "message"),
    [
        ("target", "dec", -90.5, "Ensure this value is greater than or equal to -90."),
        ("target", "dec", 91, "Ensure this value is less than or equal to 90."),
        ("target", "ra", -0.1, "Ensure this value is greater than or equal to 0."),
        ("target", "proper_motion_ra", 20001, "Ensure this value is less than or equal to 20000."),
        ("target", "parallax", 2001, "Ensure this value is less than or equal to 2000."),
        ("target", "epoch", 2101, "Ensure this value is less than or equal to 2100."),
        ("constraints", "max_airmass", 0.9, "Ensure this value is greater than or equal to 1.0."),
        ("constraints", "max_airmass", 26, "Ensure this value is less than or equal to 25.0."),
        ("constraints", "min_lunar_distance", 181, "Ensure this value is less than or equal to 180."),
        ("constraints", "max_lunar_phase", 1.5, "Ensure this value is less than or equal to 1."),
        ("constraints", "max_seeing", -1, "Ensure this value is greater than or equal to 0."),
        ("acquisition_config", "exposure_time", -1, "Ensure this value is greater than or equal to 0."),
        ("guiding_config", "optional", "", "Must be a valid boolean."),
    ],
)
def test_field_ranges_that_need_no_configdb(where: str, field: str, value: Any, message: str) -> None:
    body = p0()
    config0(body)[where][field] = value

    assert errors_of(body) == at_configuration({where: {field: [message]}})


def test_request_and_configuration_field_ranges() -> None:
    body = p0()
    request0(body).update({"configuration_repeats": 0, "acceptability_threshold": 101, "optimization_type": "SPEED"})
    config0(body)["repeat_duration"] = -5
    ic0(body)["rois"] = [{"x1": -1}, {}]

    assert errors_of(body) == {
        "requests": [
            {
                "configuration_repeats": ["Ensure this value is greater than or equal to 1."],
                "acceptability_threshold": ["Ensure this value is less than or equal to 100."],
                "optimization_type": ['"SPEED" is not a valid choice.'],
                "configurations": [
                    {
                        "repeat_duration": ["Ensure this value is greater than or equal to 0."],
                        "instrument_configs": [
                            {"rois": [{"x1": ["Ensure this value is greater than or equal to 0."]}, {}]}
                        ],
                    }
                ],
            }
        ]
    }


def test_the_3_2_example_collects_errors_from_every_level_in_one_tree() -> None:
    body = p0(operator="ALL")
    request0(body)["configurations"].append(copy.deepcopy(config0(body)))
    request0(body)["configurations"][1]["target"]["ra"] = 400
    request0(body)["windows"][0]["end"] = "2016-08-31T00:00:00Z"

    assert errors_of(body) == {
        "operator": ['"ALL" is not a valid choice.'],
        "requests": [
            {
                "windows": [{"end": ["Window end time must be in the future"]}],
                "configurations": [
                    {},
                    {"target": {"ra": ["Ensure this value is less than or equal to 360."]}},
                ],
            }
        ],
    }


def test_every_request_is_checked_and_errors_align_with_the_list() -> None:
    body = p0()
    body["requests"] = [request0(body), copy.deepcopy(request0(body)), copy.deepcopy(request0(body))]
    body["requests"][1]["configurations"][0]["instrument_configs"][0]["exposure_time"] = "long"

    assert errors_of(body) == {
        "requests": [
            {},
            {"configurations": [{"instrument_configs": [{"exposure_time": ["A valid number is required."]}]}]},
            {},
        ]
    }


# ---------------------------------------------------------------------------------------------------------
# Group fields


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("observation_type", "normal", '"normal" is not a valid choice.'),
        ("operator", "AND", '"AND" is not a valid choice.'),
        ("operator", "ONEOF", '"ONEOF" is not a valid choice.'),
        ("proposal", None, "Please provide a proposal."),
        ("proposal", "", "Please provide a proposal."),
        ("proposal", {"id": 1}, "Incorrect type. Expected pk value, received dict."),
        ("ipp_value", True, "A valid number is required."),
        ("name", None, "This field may not be null."),
        ("name", ["a"], "Not a valid string."),
    ],
)
def test_group_field_errors(field: str, value: Any, message: str) -> None:
    assert errors_of(p0(**{field: value})) == {field: [message]}


def test_a_group_without_requests_is_refused_on_requests() -> None:
    assert errors_of(p0(requests=[])) == {"requests": ["You must specify at least 1 request"]}


def test_numeric_strings_and_boolean_strings_are_read_as_clients_mean_them() -> None:
    body = p0(ipp_value="1.5")
    ic0(body).update({"exposure_time": "100", "exposure_count": "2"})
    config0(body)["target"].update({"ra": "34.4", "dec": "-20.5"})
    config0(body)["guiding_config"]["optional"] = "False"
    config0(body)["fill_window"] = "true"
    request0(body)["configuration_repeats"] = "3"
    parsed = parse_request_group(body, now=NOW)

    configuration = parsed.requests[0].configurations[0]
    assert parsed.ipp_value == 1.5
    assert (configuration.instrument_configs[0].exposure_time, configuration.instrument_configs[0].exposure_count) == (
        100.0,
        2,
    )
    assert (configuration.target.ra, configuration.target.dec) == (34.4, -20.5)
    assert configuration.guiding_config.optional is False
    assert configuration.fill_window is True
    assert parsed.requests[0].configuration_repeats == 3


@pytest.mark.parametrize(("text", "expected"), [("True", True), ("0", False), ("1", True), ("false", False)])
def test_boolean_strings_of_every_spelling_clients_send(text: str, expected: bool) -> None:
    body = p0()
    config0(body)["guiding_config"]["optional"] = text

    assert parse_single_configuration(body).guiding_config.optional is expected


def test_null_optional_target_numbers_mean_their_defaults() -> None:
    body = p0()
    config0(body)["target"].update(
        {"proper_motion_ra": None, "proper_motion_dec": None, "parallax": None, "epoch": None}
    )

    target = parse_single_configuration(body).target
    assert (target.proper_motion_ra, target.proper_motion_dec, target.parallax, target.epoch) == (0, 0, 0, 2000)


def test_cleared_form_fields_take_their_defaults() -> None:
    body = p0()
    request0(body).update(
        {
            "configuration_repeats": None,
            "optimization_type": None,
            "observation_note": None,
            "extra_params": None,
        }
    )
    config0(body)["constraints"]["max_airmass"] = None
    ic0(body).update({"mode": None, "rotator_mode": None, "extra_params": None})
    config0(body).update({"fill_window": None, "repeat_duration": None})

    request = parse_single_request(body)
    assert (request.configuration_repeats, request.optimization_type, request.observation_note) == (
        1,
        OptimizationType.TIME,
        "",
    )
    assert request.configurations[0].constraints.max_airmass == 1.6
    assert request.configurations[0].instrument_configs[0] == InstrumentConfig(
        100.0, 1, optical_elements={"filter": "air"}
    )


def test_empty_acquisition_and_guiding_configs_mean_all_defaults() -> None:
    body = p0()
    config0(body).update({"acquisition_config": {}, "guiding_config": {}})

    configuration = parse_single_configuration(body)
    assert configuration.acquisition_config == AcquisitionConfig()
    assert configuration.guiding_config == GuidingConfig()


def test_optical_element_keys_with_null_are_dropped() -> None:
    body = p0()
    ic0(body)["optical_elements"] = {"filter": "air", "slit": None, "grating": None}

    assert parse_single_configuration(body).instrument_configs[0].optical_elements == {"filter": "air"}


def test_an_optical_element_that_is_not_text_is_refused_under_its_key() -> None:
    body = p0()
    ic0(body)["optical_elements"] = {"filter": ["air"]}

    assert errors_of(body) == at_instrument_config({"optical_elements": {"filter": ["Not a valid string."]}})


def test_configuration_type_is_upper_cased_and_codes_are_kept_as_given() -> None:
    body = p0()
    config0(body).update({"type": "expose", "instrument_type": "1m0-scicam-sinistro"})
    ic0(body)["optical_elements"] = {"filter": "AIR"}

    configuration = parse_single_configuration(body)
    assert (configuration.type, configuration.instrument_type) == ("EXPOSE", "1m0-scicam-sinistro")
    assert configuration.instrument_configs[0].optical_elements == {"filter": "AIR"}


def test_required_configuration_codes_may_not_be_blank() -> None:
    body = p0()
    config0(body).update({"type": "", "instrument_type": " "})

    assert errors_of(body) == at_configuration(
        {"type": ["This field may not be blank."], "instrument_type": ["This field may not be blank."]}
    )


def test_fill_window_is_read_but_never_echoed() -> None:
    body = p0()
    config0(body)["fill_window"] = True

    configuration = parse_single_configuration(body)
    assert configuration.fill_window is True
    assert "fill_window" not in configuration_json(configuration, always_rois=False)


# ---------------------------------------------------------------------------------------------------------
# extra_params coercion, requests.md 2.13


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2", 2),
        ("1.15", 1.15),
        (3.0, 3),
        ("true", True),
        ("True", True),
        ("false", False),
        ("False", False),
        (True, True),
        ("", ""),
        (None, None),
        ("abc", "abc"),
        ({"a": "1"}, {"a": "1"}),
        ("NaN", "NaN"),
        ("1e400", "1e400"),
        ("TRUE", "TRUE"),
    ],
)
def test_extra_params_values_are_coerced_on_the_objects_that_coerce(value: Any, expected: Any) -> None:
    body = p0()
    for owner in (ic0(body), config0(body), config0(body)["target"], config0(body)["acquisition_config"]):
        owner["extra_params"] = {"k": value}
    config0(body)["guiding_config"]["extra_params"] = {"k": value}
    configuration = parse_single_configuration(body)

    coerced = [
        configuration.extra_params["k"],
        configuration.instrument_configs[0].extra_params["k"],
        configuration.target.extra_params["k"],
        configuration.acquisition_config.extra_params["k"],
        configuration.guiding_config.extra_params["k"],
    ]
    assert coerced == [expected] * 5
    assert all(type(item) is type(expected) for item in coerced)


def test_request_and_constraints_extra_params_are_not_coerced() -> None:
    body = p0()
    request0(body)["extra_params"] = {"mosaic_pattern": "line", "n": "2"}
    config0(body)["constraints"]["extra_params"] = {"n": "2"}
    request = parse_single_request(body)

    assert request.extra_params == {"mosaic_pattern": "line", "n": "2"}
    assert request.configurations[0].constraints.extra_params == {"n": "2"}


# ---------------------------------------------------------------------------------------------------------
# Targets


R29_TARGET = {
    "name": "minor planet",
    "type": "ORBITAL_ELEMENTS",
    "scheme": "MPC_MINOR_PLANET",
    "epochofel": 57660.0,
    "orbinc": 9.79429,
    "longascnode": 122.89434,
    "argofperih": 78.32783,
    "meandist": 0.770117,
    "meananom": 165.68604,
    "eccentricity": 0.5391962,
}


def with_target(target: dict[str, Any]) -> dict[str, Any]:
    body = p0()
    config0(body)["target"] = target
    return body


def test_an_orbital_elements_target_keeps_only_its_own_fields() -> None:
    target = parse_single_configuration(with_target({**R29_TARGET, "ra": 10, "altitude": 5})).target

    assert target.scheme is OrbitalScheme.MPC_MINOR_PLANET
    assert (target.ra, target.altitude) == (None, None)
    assert _target_echo(target) == {**R29_TARGET, "extra_params": {}}


def _target_echo(target: Target) -> dict[str, Any]:
    configuration = Configuration("X", "EXPOSE", [InstrumentConfig(1, 1)], target)
    echoed: dict[str, Any] = configuration_json(configuration, always_rois=False)["target"]
    return echoed


def test_an_orbital_elements_target_needs_its_scheme_fields() -> None:
    target = {key: value for key, value in R29_TARGET.items() if key not in ("meananom", "epochofel")}

    assert errors_of(with_target(target)) == at_configuration({"target": {"meananom": REQUIRED, "epochofel": REQUIRED}})


def test_an_orbital_elements_target_without_a_scheme_needs_one() -> None:
    target = {key: value for key, value in R29_TARGET.items() if key != "scheme"}

    assert errors_of(with_target(target)) == at_configuration({"target": {"scheme": REQUIRED}})


def test_a_satellite_target_needs_its_fields() -> None:
    target = {"name": "sat", "type": "SATELLITE", "altitude": 33, "azimuth": 2, "diff_altitude_rate": 0}

    assert errors_of(with_target(target)) == at_configuration(
        {
            "target": dict.fromkeys(
                ("diff_azimuth_rate", "diff_altitude_acceleration", "diff_azimuth_acceleration", "diff_epoch"),
                REQUIRED,
            )
        }
    )


def test_an_hour_angle_target_parses_for_validation_to_refuse_or_accept() -> None:
    target = parse_single_configuration(
        with_target({"type": "HOUR_ANGLE", "name": "ha", "hour_angle": 20, "dec": 30})
    ).target

    assert (target.type, target.hour_angle, target.dec) == (TargetType.HOUR_ANGLE, 20.0, 30.0)


@pytest.mark.parametrize(
    ("target_type", "expected"),
    [("FOO", {"type": ['"FOO" is not a valid choice.']}), ("", {"type": REQUIRED}), (None, {"type": REQUIRED})],
)
def test_a_target_type_must_be_one_of_the_four(target_type: Any, expected: dict[str, Any]) -> None:
    assert errors_of(with_target({"name": "x", "type": target_type, "ra": 1, "dec": 1})) == at_configuration(
        {"target": expected}
    )


# ---------------------------------------------------------------------------------------------------------
# Windows, location, cadence, DIRECT


def test_a_window_without_start_starts_now() -> None:
    body = p0()
    request0(body)["windows"] = [{"end": "2016-09-10T00:00:00Z"}]

    assert parse_single_request(body).windows == [Window(NOW, datetime(2016, 9, 10, tzinfo=UTC))]


def test_a_window_needs_an_end() -> None:
    body = p0()
    request0(body)["windows"] = [{"start": "2016-09-10T00:00:00Z"}, {"end": "2016-09-10T00:00:00Z"}]

    assert errors_of(body) == {"requests": [{"windows": [{"end": REQUIRED}, {}]}]}


def test_a_location_needs_a_telescope_class_and_defaults_the_rest_to_any() -> None:
    body = p0()
    request0(body)["location"] = {"site": "elp", "enclosure": None}
    assert errors_of(body) == {"requests": [{"location": {"telescope_class": REQUIRED}}]}

    request0(body)["location"] = {"telescope_class": "1m0", "site": "elp", "enclosure": None}
    location = parse_single_request(body).location
    assert location == Location("1m0", site="elp")
    assert request_json(parse_single_request(body))["location"] == {"telescope_class": "1m0", "site": "elp"}


def test_scheduled_requests_need_windows_and_a_location() -> None:
    body = p0()
    del request0(body)["windows"]
    del request0(body)["location"]

    assert errors_of(body) == {"requests": [{"windows": REQUIRED, "location": REQUIRED}]}


def test_direct_requests_need_no_windows_or_location_and_keep_instrument_names() -> None:
    body = p0(observation_type="DIRECT")
    del request0(body)["windows"]
    del request0(body)["location"]
    config0(body).update({"instrument_name": "fa05", "guide_camera_name": "ef06"})

    request = parse_single_request(body)
    assert (request.windows, request.location) == ([], None)
    assert (request.configurations[0].instrument_name, request.configurations[0].guide_camera_name) == ("fa05", "ef06")
    echoed = request_json(request)
    assert "location" not in echoed
    assert echoed["configurations"][0]["instrument_name"] == "fa05"


def test_scheduled_requests_ignore_instrument_names() -> None:
    body = p0()
    config0(body)["instrument_name"] = "fa05"

    assert parse_single_configuration(body).instrument_name == ""


CADENCE = {"start": "2016-09-01T00:00:00Z", "end": "2016-09-03T00:00:00Z", "period": 24, "jitter": 12}


def test_a_cadence_block_is_parsed_alongside_its_request_which_then_needs_no_windows() -> None:
    body = p0()
    request0(body)["cadence"] = CADENCE
    del request0(body)["windows"]

    parsed = parse_request_group(body, now=NOW)
    assert parsed.cadences == (Cadence(datetime(2016, 9, 1, tzinfo=UTC), datetime(2016, 9, 3, tzinfo=UTC), 24.0, 12.0),)
    assert parsed.has_cadence
    assert parsed.requests[0].windows == []


def test_cadence_fields_are_checked() -> None:
    body = p0()
    request0(body)["cadence"] = {"start": "soon", "end": "2016-08-30T00:00:00Z", "period": 0.01}

    assert errors_of(body) == {
        "requests": [
            {
                "cadence": {
                    "start": [DATETIME_FORMAT_HELP],
                    "end": ["End time must be in the future"],
                    "period": ["Ensure this value is greater than or equal to 0.02."],
                    "jitter": REQUIRED,
                }
            }
        ]
    }


def test_parse_request_reads_a_bare_request_and_reports_at_its_own_level() -> None:
    request = parse_request(request0(p0()), now=NOW)
    assert request.configurations == [p0_expected_configuration()]

    bad = request0(p0())
    bad["configurations"][0]["target"]["ra"] = 361
    with pytest.raises(ValidationError) as caught:
        parse_request(bad, now=NOW)
    assert caught.value.errors == {
        "configurations": [{"target": {"ra": ["Ensure this value is less than or equal to 360."]}}]
    }
    with_cadence = {**request0(p0()), "cadence": {"end": "2016-01-01"}}
    assert parse_request(with_cadence, now=NOW).windows == parse_request(request0(p0()), now=NOW).windows
    with pytest.raises(ValidationError) as caught:
        parse_request("request", now=NOW)
    assert caught.value.errors == {NON_FIELD: ["Invalid data. Expected a dictionary, but got str."]}


def test_parse_configuration_reads_a_bare_configuration() -> None:
    configuration = parse_configuration(config0(p0()))
    assert configuration == evolve(p0_expected_configuration(), priority=0)
    assert "priority" not in configuration_json(configuration, always_rois=False)

    with pytest.raises(ValidationError) as caught:
        parse_configuration({"type": "EXPOSE"})
    assert set(caught.value.errors) == {
        "instrument_type",
        "instrument_configs",
        "target",
        "constraints",
        "acquisition_config",
        "guiding_config",
    }


# ---------------------------------------------------------------------------------------------------------
# Output shapes


def repeat_configuration(**changes: Any) -> Configuration:
    return evolve(p0_expected_configuration(), type="REPEAT_EXPOSE", repeat_duration=500.0, **changes)


def test_rois_appear_in_the_detail_shape_only_when_there_are_some() -> None:
    plain = p0_expected_configuration()
    with_rois = evolve(
        plain, instrument_configs=[evolve(plain.instrument_configs[0], rois=[RegionOfInterest(0, 10, 0, 20)])]
    )

    assert "rois" not in configuration_json(plain, always_rois=False)["instrument_configs"][0]
    assert configuration_json(plain, always_rois=True)["instrument_configs"][0]["rois"] == []
    assert configuration_json(with_rois, always_rois=False)["instrument_configs"][0]["rois"] == [
        {"x1": 0, "x2": 10, "y1": 0, "y2": 20}
    ]


def test_scheduler_shapes_carry_rois_through_the_whole_group() -> None:
    group = submitted(parse_request_group(p0(), now=NOW))

    echoed = request_group_json(group, always_rois=True)
    assert echoed["requests"][0]["configurations"][0]["instrument_configs"][0]["rois"] == []


def test_repeat_duration_is_echoed_for_repeat_types_only() -> None:
    assert configuration_json(repeat_configuration(), always_rois=False)["repeat_duration"] == 500.0
    assert "repeat_duration" not in configuration_json(p0_expected_configuration(), always_rois=False)


def test_nulls_are_dropped_from_constraints_and_acquisition_but_kept_on_guiding() -> None:
    configuration = evolve(
        p0_expected_configuration(),
        constraints=Constraints(max_seeing=1.5),
        acquisition_config=AcquisitionConfig("WCS", exposure_time=10),
    )
    body = configuration_json(configuration, always_rois=False)

    assert body["constraints"] == {
        "max_airmass": 1.6,
        "min_lunar_distance": 30.0,
        "max_lunar_phase": 1.0,
        "max_seeing": 1.5,
        "extra_params": {},
    }
    assert body["acquisition_config"] == {"mode": "WCS", "exposure_time": 10, "extra_params": {}}
    assert body["guiding_config"]["exposure_time"] is None


def test_configurations_are_echoed_in_priority_order() -> None:
    first, second = p0_expected_configuration(), evolve(p0_expected_configuration(), type="STANDARD")
    request = Request.create([first, second], windows=[], location=Location("1m0"))
    request.configurations.reverse()

    assert [c["priority"] for c in request_json(request)["configurations"]] == [1, 2]


def test_output_is_plain_json() -> None:
    body = p0()
    config0(body)["target"] = R29_TARGET
    group = submitted(parse_request_group(body, now=NOW))

    text = json.dumps(request_group_json(group), allow_nan=False)
    assert '"scheme": "MPC_MINOR_PLANET"' in text


# ---------------------------------------------------------------------------------------------------------
# Random mutations of P0 are refused with a field-error tree, never with a crash


JSON_LEAVES = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats()
    | st.text(max_size=8)
    | st.sampled_from(
        ["", "1", "2.5", "-3", "true", "False", "NaN", "1e400", "2016-09-01 00:00:00", "ICRS", "EXPOSE", "\x00"]
    )
)
JSON_VALUES = st.recursive(
    JSON_LEAVES,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=6), children, max_size=3),
    max_leaves=8,
)
MUTATIONS = ("delete", "replace", "null", "wrap_in_list", "wrap_in_object", "duplicate", "empty")


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from paths(item, (*prefix, index))


def mutate(document: Any, path: tuple[Any, ...], mutation: str, replacement: Any) -> Any:
    if not path:
        return replacement if mutation != "wrap_in_list" else [document]
    parent = document
    for step in path[:-1]:
        parent = parent[step]
    key, old = path[-1], parent[path[-1]]
    if mutation == "delete":
        del parent[key]
    elif mutation == "replace":
        parent[key] = replacement
    elif mutation == "null":
        parent[key] = None
    elif mutation == "wrap_in_list":
        parent[key] = [old]
    elif mutation == "wrap_in_object":
        parent[key] = {"value": old}
    elif mutation == "duplicate" and isinstance(old, list):
        parent[key] = old + copy.deepcopy(old)
    elif mutation == "empty":
        parent[key] = type(old)() if isinstance(old, dict | list | str) else 0
    return document


def mutated(original: dict[str, Any]) -> st.SearchStrategy[Any]:
    @st.composite
    def strategy(draw: st.DrawFn) -> Any:
        document: Any = copy.deepcopy(original)
        for _ in range(draw(st.integers(min_value=1, max_value=4))):
            path = draw(st.sampled_from(list(paths(document))))
            document = mutate(document, path, draw(st.sampled_from(MUTATIONS)), draw(JSON_VALUES))
        return document

    return strategy()


def assert_mirrors(errors: Any, body: Any) -> None:
    """The error tree has DRF's shape and follows the payload: lists of items align with the submitted lists."""
    assert isinstance(errors, dict)
    assert errors
    for key, value in errors.items():
        assert isinstance(key, str)
        assert isinstance(value, dict | list)
        assert value
        if key == NON_FIELD or (isinstance(value, list) and all(isinstance(m, str) for m in value)):
            continue
        assert isinstance(body, dict)
        assert key in body
        if isinstance(value, dict):
            assert_mirrors(value, body[key])
            continue
        assert isinstance(body[key], list)
        assert len(value) == len(body[key])
        assert any(value)
        for item_errors, item in zip(value, body[key], strict=True):
            if item_errors:
                assert_mirrors(item_errors, item)


@given(mutated(P0))
def test_mutated_payloads_are_accepted_or_refused_with_a_mirroring_error_tree(body: Any) -> None:
    try:
        parsed = parse_request_group(body, now=NOW)
    except ValidationError as error:
        assert_mirrors(error.errors, body)
        json.dumps(error.errors, allow_nan=False)
        return
    echoed = request_group_json(submitted(parsed))
    json.dumps(echoed, allow_nan=False)
    assert parse_request_group(echoed, now=NOW).requests[0].configurations == parsed.requests[0].configurations


@given(mutated(request0(P0)))
def test_mutated_bare_requests_are_accepted_or_refused_with_a_mirroring_error_tree(body: Any) -> None:
    try:
        request_json(parse_request(body, now=NOW))
    except ValidationError as error:
        assert_mirrors(error.errors, body)


@given(mutated(config0(P0)))
def test_mutated_bare_configurations_are_accepted_or_refused_with_a_mirroring_error_tree(body: Any) -> None:
    try:
        configuration_json(parse_configuration(body), always_rois=True)
    except ValidationError as error:
        assert_mirrors(error.errors, body)


def test_codes_that_only_configdb_can_judge_are_left_to_validation() -> None:
    body = p0()
    request0(body)["location"] = {"telescope_class": "9m9", "site": "xyz", "enclosure": "doma"}
    config0(body).update({"type": "BIAS", "instrument_type": "NOPE", "repeat_duration": 100})
    config0(body)["acquisition_config"]["mode"] = "BRIGHTEST"
    ic0(body).update({"mode": "not_a_mode", "optical_elements": {"filter": "zz"}, "extra_params": {"defocus": 9}})
    config0(body)["target"].update({"type": "HOUR_ANGLE", "hour_angle": 20})

    request = parse_single_request(body)

    assert request.location == Location("9m9", site="xyz", enclosure="doma")
    configuration = request.configurations[0]
    assert (configuration.type, configuration.instrument_type, configuration.repeat_duration) == ("BIAS", "NOPE", 100)
    assert configuration.instrument_configs[0].optical_elements == {"filter": "zz"}
    assert configuration.target.type is TargetType.HOUR_ANGLE
