"""The validation-schema interpreter of observatory.md 1.8: write-time checks, normalisation and messages."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.validation_schema import check_schema, validate
from tests.unit.domain.strategies import schemas_with_documents

BINNING = {
    "extra_params": {
        "type": "dict",
        "default": {},
        "schema": {
            "bin_x": {"type": "integer", "allowed": [1], "default": 1},
            "defocus": {"type": "float", "min": -5.0, "max": 5.0},
        },
    }
}
BRIGHTEST = {
    "extra_params": {
        "type": "dict",
        "required": True,
        "schema": {"acquire_radius": {"type": "float", "min": 0.0, "max": 15.0, "required": True}},
    }
}


def test_defaults_are_filled_in_nested_dictionaries() -> None:
    normalised, errors = validate({"exposure_time": 10}, BINNING)
    assert errors == {}
    assert normalised == {"exposure_time": 10, "extra_params": {"bin_x": 1}}


@pytest.mark.parametrize(
    ("document", "schema", "errors"),
    [
        ({}, BRIGHTEST, {"extra_params": ["required field"]}),
        ({"extra_params": {}}, BRIGHTEST, {"extra_params": [{"acquire_radius": ["required field"]}]}),
        (
            {"extra_params": {"acquire_radius": 20}},
            BRIGHTEST,
            {"extra_params": [{"acquire_radius": ["max value is 15.0"]}]},
        ),
        ({"extra_params": {"defocus": -6}}, BINNING, {"extra_params": [{"defocus": ["min value is -5.0"]}]}),
        ({"extra_params": {"bin_x": 3}}, BINNING, {"extra_params": [{"bin_x": ["unallowed value 3"]}]}),
        ({"extra_params": {"defocus": "far"}}, BINNING, {"extra_params": [{"defocus": ["must be of float type"]}]}),
        ({"extra_params": {"defocus": True}}, BINNING, {"extra_params": [{"defocus": ["must be of float type"]}]}),
        ({"extra_params": None}, BINNING, {"extra_params": ["null value not allowed"]}),
    ],
)
def test_violations_use_the_cerberus_wording(document: dict[str, Any], schema: dict[str, Any], errors: Any) -> None:
    assert validate(document, schema)[1] == errors


def test_list_items_are_checked_and_reported_by_index() -> None:
    schema = {
        "instrument_configs": {
            "type": "list",
            "schema": {"type": "dict", "schema": {"exposure_time": {"type": "float", "max": 60.0}}},
        }
    }
    _, errors = validate({"instrument_configs": [{"exposure_time": 30}, {"exposure_time": 90}]}, schema)
    assert errors == {"instrument_configs": [{1: [{"exposure_time": ["max value is 60.0"]}]}]}


def test_nullable_fields_accept_null_and_unknown_keys_are_allowed() -> None:
    schema = {"x": {"type": "integer", "nullable": True}}
    assert validate({"x": None, "other": "anything"}, schema) == ({"x": None, "other": "anything"}, {})


def test_strings_are_checked_for_length_and_pattern() -> None:
    schema = {"name": {"type": "string", "minlength": 2, "maxlength": 3, "regex": "[a-z]+"}}
    assert validate({"name": "A"}, schema)[1] == {"name": ["min length is 2", "value does not match regex '[a-z]+'"]}


@pytest.mark.parametrize(
    ("schema", "message"),
    [
        (
            {"extra_params": {"type": "dict", "schema": {"bin_x": {"alowed": [1]}}}},
            'Invalid validation_schema at extra_params.schema.bin_x: unknown rule "alowed"',
        ),
        ({"x": {"type": "flot"}}, 'Invalid validation_schema at x: unknown type "flot"'),
        ({"x": {"min": "low"}}, 'Invalid validation_schema at x: rule "min" must be a number'),
        ({"x": {"required": "yes"}}, 'Invalid validation_schema at x: rule "required" must be true or false'),
        ({"x": {"schema": {}}}, 'Invalid validation_schema at x: rule "schema" needs type "dict" or "list"'),
        ({"x": 3}, "Invalid validation_schema at x: the rules of a field must be a dictionary"),
        ([], "Invalid validation_schema at <root>: a schema must be a dictionary of field rules"),
        ({"x": {"regex": "("}}, 'Invalid validation_schema at x: rule "regex" is not a regular expression'),
    ],
)
def test_malformed_schemas_are_reported_with_their_path(schema: Any, message: str) -> None:
    problems = check_schema(schema)
    assert len(problems) == 1
    assert problems[0].startswith(message)


def test_the_demo_schemas_are_well_formed() -> None:
    from tests.unit.domain.observatory_fixtures import demo_observatory

    obs = demo_observatory()
    schemas = [t.validation_schema for t in obs.instrument_types.values()]
    schemas += [m.validation_schema for m in obs.modes.values()]
    assert all(check_schema(s) == [] for s in schemas)
    assert any(schemas)


@given(schemas_with_documents())
def test_generated_schemas_are_well_formed_and_accept_their_documents(
    case: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    schema, document = case
    assert check_schema(schema) == []
    normalised, errors = validate(document, schema)
    assert errors == {}
    assert all(name in normalised for name, rules in schema.items() if "default" in rules)


@given(schemas_with_documents())
def test_normalising_twice_changes_nothing(case: tuple[dict[str, Any], dict[str, Any]]) -> None:
    schema, document = case
    normalised, _ = validate(document, schema)
    assert validate(normalised, schema) == (normalised, {})


@given(st.floats(-1e6, 1e6, allow_nan=False), st.floats(-1e6, 1e6, allow_nan=False))
def test_a_number_fails_exactly_when_it_is_out_of_bounds(value: float, bound: float) -> None:
    _, errors = validate({"x": value}, {"x": {"type": "float", "max": bound}})
    assert (errors == {"x": [f"max value is {bound}"]}) == (value > bound)
    assert (errors == {}) == (value <= bound)


@given(schemas_with_documents())
def test_an_unknown_rule_anywhere_is_refused(case: tuple[dict[str, Any], dict[str, Any]]) -> None:
    schema, _ = case
    broken = {**schema, "added": {"type": "integer", "maxx": 3}}
    assert check_schema(broken) == ['Invalid validation_schema at added: unknown rule "maxx"']
