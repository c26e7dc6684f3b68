"""Drafts: the field rules, one title per author and proposal, and members-only writing, in upstream's order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from domain.drafts import BLANK, NOT_A_MEMBER, NOT_JSON, NOT_UNIQUE, Draft, field_errors
from domain.errors import ValidationError

NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)
LATER = NOW + timedelta(hours=1)
TOO_LONG = "Ensure this field has no more than 50 characters."


def write(**changes: Any) -> Draft:
    values: dict[str, Any] = {
        "author_id": 7,
        "proposal_id": "P1",
        "title": "M31 mosaic",
        "content": '{"name": "M31"}',
        "may_write": True,
        "holder": None,
        "now": NOW,
    }
    return Draft.write(**(values | changes))


def stored(draft_id: int = 1, **changes: Any) -> Draft:
    draft = write(**changes)
    draft.id = draft_id
    return draft


def refusal(call: Any) -> dict[str, Any]:
    with pytest.raises(ValidationError) as caught:
        call()
    return caught.value.errors


def test_a_new_draft_belongs_to_its_author_and_is_created_and_modified_now() -> None:
    draft = write()

    assert (draft.id, draft.author_id, draft.proposal_id, draft.title) == (None, 7, "P1", "M31 mosaic")
    assert draft.content == '{"name": "M31"}'
    assert draft.created == draft.modified == NOW


@pytest.mark.parametrize(
    "content",
    [
        '{"a": [1, 2.5, null, true]}',
        "[]",
        '"text"',
        "3",
        "null",
        '  {"spaced": 1}  ',
        '{"deep": ' * 50 + "1" + "}" * 50,
    ],
)
def test_any_json_document_is_content(content: str) -> None:
    assert field_errors({"content": content}) == {}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("foo: bar", NOT_JSON),
        ('{"a": 1', NOT_JSON),
        ("{'single': 'quotes'}", NOT_JSON),
        ('{"a": NaN}', NOT_JSON),
        ("Infinity", NOT_JSON),
        ("[" * 100_000, NOT_JSON),
        ("", BLANK),
        ("   ", BLANK),
    ],
)
def test_content_that_is_not_json_is_refused(content: str, message: str) -> None:
    assert field_errors({"content": content}) == {"content": [message]}


@pytest.mark.parametrize(
    ("title", "errors"),
    [
        ("x" * 50, {}),
        ("ü" * 50, {}),
        ("x" * 51, {"title": [TOO_LONG]}),
        ("", {"title": [BLANK]}),
        (" \t", {"title": [BLANK]}),
    ],
)
def test_a_title_is_one_to_fifty_characters(title: str, errors: dict[str, Any]) -> None:
    assert field_errors({"title": title}) == errors


def test_every_bad_field_is_reported_at_once() -> None:
    errors = refusal(lambda: write(title="x" * 51, content="nope"))

    assert errors == {"title": [TOO_LONG], "content": [NOT_JSON]}


def test_fields_are_checked_before_the_title_clash_and_the_clash_before_membership() -> None:
    holder = stored(9)

    assert refusal(lambda: write(content="", holder=holder, may_write=False)) == {"content": [BLANK]}
    assert refusal(lambda: write(holder=holder, may_write=False)) == {"non_field_errors": [NOT_UNIQUE]}
    assert refusal(lambda: write(may_write=False)) == {"non_field_errors": [NOT_A_MEMBER]}


def test_a_revision_changes_the_given_fields_and_the_modified_time_only() -> None:
    draft = stored()

    draft.revise({"title": "Renamed", "content": "[]"}, may_write=True, holder=None, now=LATER)

    assert (draft.proposal_id, draft.title, draft.content) == ("P1", "Renamed", "[]")
    assert (draft.author_id, draft.created, draft.modified) == (7, NOW, LATER)


def test_a_draft_holding_its_own_title_is_no_clash() -> None:
    draft = stored(3)

    draft.revise({"content": "{}"}, may_write=True, holder=draft, now=LATER)

    assert draft.content == "{}"


@pytest.mark.parametrize(
    ("changes", "may_write", "holds", "errors"),
    [
        ({"content": "{"}, True, False, {"content": [NOT_JSON]}),
        ({"title": ""}, True, False, {"title": [BLANK]}),
        ({"title": "Taken"}, True, True, {"non_field_errors": [NOT_UNIQUE]}),
        ({"proposal_id": "P2"}, False, False, {"non_field_errors": [NOT_A_MEMBER]}),
    ],
)
def test_a_refused_revision_changes_nothing(
    changes: dict[str, Any], may_write: bool, holds: bool, errors: dict[str, Any]
) -> None:
    draft = stored(1)
    before = (draft.proposal_id, draft.title, draft.content, draft.modified)

    assert refusal(
        lambda: draft.revise(changes, may_write=may_write, holder=stored(2) if holds else None, now=LATER)
    ) == (errors)
    assert (draft.proposal_id, draft.title, draft.content, draft.modified) == before


def test_only_data_fields_can_be_revised() -> None:
    with pytest.raises(ValueError, match="author_id"):
        stored().revise({"author_id": 8}, may_write=True, holder=None, now=LATER)


def test_the_key_after_a_revision_keeps_the_author() -> None:
    draft = stored()

    assert draft.revised_key({"title": "New"}) == (7, "P1", "New")
    assert draft.revised_key({"proposal_id": "P2"}) == (7, "P2", "M31 mosaic")
