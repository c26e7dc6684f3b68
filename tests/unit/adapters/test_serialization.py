"""Wire conversion: what OCS clients send becomes typed values, with the messages they parse on failure."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.serialization import (
    DATETIME_FORMAT_HELP,
    FieldError,
    FieldSpec,
    format_datetime,
    parse_datetime,
    structure_fields,
)
from domain.errors import ValidationError

SPECS = {
    "count": FieldSpec(int, required=True),
    "ratio": FieldSpec(float),
    "flag": FieldSpec(bool),
    "name": FieldSpec(str, max_length=3),
    "when": FieldSpec(datetime),
    "ids": FieldSpec(tuple[int, ...]),
}


def errors_of(body: object, partial: bool = False) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as caught:
        structure_fields(body, SPECS, partial=partial)
    return caught.value.errors


def test_numeric_and_boolean_strings_are_accepted_as_clients_send_them() -> None:
    values = structure_fields({"count": "12", "ratio": "2.49", "flag": "False", "ids": [1, "2"]}, SPECS)
    assert values == {"count": 12, "ratio": 2.49, "flag": False, "ids": (1, 2)}


def test_unknown_keys_are_ignored() -> None:
    assert structure_fields({"count": 1, "colour": "red"}, SPECS) == {"count": 1}


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"count": 1.5}, "count", "A valid integer is required."),
        ({"count": True}, "count", "A valid integer is required."),
        ({"count": 1, "ratio": "abc"}, "ratio", "A valid number is required."),
        ({"count": 1, "ratio": "NaN"}, "ratio", "A valid number is required."),
        ({"count": 1, "ratio": 1e400}, "ratio", "A valid number is required."),
        ({"count": 1, "flag": ""}, "flag", "Must be a valid boolean."),
        ({"count": 1, "name": "abcd"}, "name", "Ensure this field has no more than 3 characters."),
        ({"count": 1, "name": None}, "name", "This field may not be null."),
        ({"count": 1, "when": "tomorrow"}, "when", DATETIME_FORMAT_HELP),
        ({}, "count", "This field is required."),
    ],
)
def test_bad_values_get_the_messages_ocs_clients_parse(body: dict[str, object], field: str, message: str) -> None:
    assert errors_of(body)[field] == [message]


def test_every_bad_field_is_reported_at_once() -> None:
    assert set(errors_of({"ratio": "x", "flag": "maybe"})) == {"count", "ratio", "flag"}


def test_partial_bodies_need_no_required_fields() -> None:
    assert structure_fields({"ratio": 1}, SPECS, partial=True) == {"ratio": 1.0}


def test_a_list_instead_of_an_object_is_refused_as_a_whole() -> None:
    assert errors_of([1, 2]) == {"non_field_errors": ["Invalid data. Expected a dictionary, but got list."]}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-25T18:00:00Z", datetime(2026, 11, 25, 18, tzinfo=UTC)),
        ("2026-11-25 18:00:00", datetime(2026, 11, 25, 18, tzinfo=UTC)),
        ("2026-11-25T20:00:00+02:00", datetime(2026, 11, 25, 18, tzinfo=UTC)),
        ("2026-11-25T18:00:00.250000", datetime(2026, 11, 25, 18, 0, 0, 250000, tzinfo=UTC)),
        ("2026-11-25", datetime(2026, 11, 25, tzinfo=UTC)),
    ],
)
def test_datetimes_in_every_form_clients_send_become_utc(text: str, expected: datetime) -> None:
    assert parse_datetime(text) == expected


@given(
    st.datetimes(
        min_value=datetime(1970, 1, 1),
        max_value=datetime(2200, 1, 1),
        timezones=st.sampled_from([UTC, timezone(timedelta(hours=-10)), timezone(timedelta(hours=5, minutes=30))]),
    )
)
def test_formatted_datetimes_parse_back_to_the_same_instant(moment: datetime) -> None:
    text = format_datetime(moment)
    assert text.endswith("Z")
    assert parse_datetime(text) == moment


def test_a_datetime_whose_offset_leaves_the_calendar_is_a_format_error_not_a_crash() -> None:
    with pytest.raises(FieldError):
        parse_datetime("0001-01-01T00:00:00+01:00")
