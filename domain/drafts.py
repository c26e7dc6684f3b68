"""Drafts: request groups a proposal's members are still writing in the web form, kept as JSON text (api.md 4.4).

A draft is not a request group: nothing validates its content beyond being JSON, nothing schedules or charges
it. It belongs to its author and proposal, one title per author and proposal, and every member of the
proposal may read and change it (as upstream's portal lets them).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from attrs import define, field, frozen

from domain.errors import NON_FIELD, ErrorTree, ValidationError, merge_errors
from domain.rules import BusinessRule, check_rule

MAX_TITLE_LENGTH = 50
NOT_A_MEMBER = "You are not a member of that proposal"
NOT_JSON = "Content must be valid JSON"
NOT_UNIQUE = "The fields author, proposal, title must make a unique set."
BLANK = "This field may not be blank."
# The fields a client sets; id, author, created and modified belong to the system.
DATA_FIELDS = ("proposal_id", "title", "content")


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


@frozen
class TitleMustNotBeBlank:
    title: str
    field: str = "title"

    def is_broken(self) -> bool:
        return not self.title.strip()

    def message(self) -> str:
        return BLANK


@frozen
class TitleMustFitLimit:
    title: str
    field: str = "title"

    def is_broken(self) -> bool:
        return len(self.title) > MAX_TITLE_LENGTH

    def message(self) -> str:
        return f"Ensure this field has no more than {MAX_TITLE_LENGTH} characters."


@frozen
class ContentMustNotBeBlank:
    content: str
    field: str = "content"

    def is_broken(self) -> bool:
        return not self.content.strip()

    def message(self) -> str:
        return BLANK


@frozen
class ContentMustBeJson:
    """The content parses as strict JSON: the web form reads it back with ``JSON.parse``, which refuses the
    ``NaN`` and ``Infinity`` that Python's parser would let through."""

    content: str
    field: str = "content"

    def is_broken(self) -> bool:
        try:
            json.loads(self.content, parse_constant=_reject_constant)
        except (ValueError, RecursionError):
            return True
        return False

    def message(self) -> str:
        return NOT_JSON


@frozen
class DraftTitleMustBeUnique:
    """No author has two drafts of one title in one proposal; ``holder`` is the draft that has it now, if any."""

    holder: Draft | None
    draft_id: int | None = None
    field: str = NON_FIELD

    def is_broken(self) -> bool:
        return self.holder is not None and self.holder.id != self.draft_id

    def message(self) -> str:
        return NOT_UNIQUE


@frozen
class WriterMustBeMember:
    """Drafts are written only in proposals the writer may write drafts in (their own, per the permission table)."""

    may_write: bool
    field: str = NON_FIELD

    def is_broken(self) -> bool:
        return not self.may_write

    def message(self) -> str:
        return NOT_A_MEMBER


def field_errors(values: Mapping[str, Any]) -> ErrorTree:
    """Every field-level message for the ``title`` and ``content`` given (either may be absent), together, as
    clients expect one answer listing every bad field."""
    rules: list[BusinessRule] = []
    if "title" in values:
        rules += [TitleMustNotBeBlank(values["title"]), TitleMustFitLimit(values["title"])]
    if "content" in values:
        rules += [ContentMustNotBeBlank(values["content"]), ContentMustBeJson(values["content"])]
    errors: ErrorTree = {}
    for rule in rules:
        # One message per field, the first broken rule's: blank content is not reported as bad JSON too.
        if rule.is_broken() and rule.field not in errors:
            merge_errors(errors, {rule.field: [rule.message()]})
    return errors


def check_fields(values: Mapping[str, Any]) -> None:
    errors = field_errors(values)
    if errors:
        raise ValidationError(errors)


@define(slots=False, eq=False)
class Draft:
    """A request group being written: its author (a user id), proposal, title, and the form's JSON as text."""

    id: int | None
    author_id: int
    proposal_id: str
    title: str
    content: str
    created: datetime
    modified: datetime
    events: list[object] = field(factory=list, init=False, repr=False)

    @classmethod
    def write(
        cls,
        *,
        author_id: int,
        proposal_id: str,
        title: str,
        content: str,
        may_write: bool,
        holder: Draft | None,
        now: datetime,
    ) -> Draft:
        """A new draft. ``may_write``: whether the author may write drafts in the proposal; ``holder``: the
        author's draft of that title in that proposal, if there is one already."""
        check_fields({"title": title, "content": content})
        check_rule(DraftTitleMustBeUnique(holder))
        check_rule(WriterMustBeMember(may_write))
        return cls(None, author_id, proposal_id, title, content, now, now)

    def revise(self, changes: Mapping[str, Any], *, may_write: bool, holder: Draft | None, now: datetime) -> None:
        """New values for some data fields, checked as a whole; nothing changes when a rule is broken.

        ``may_write`` and ``holder`` are as for ``write``, for the draft as it would be after the change (its
        author keeps it: whoever edits a draft, it stays its author's)."""
        unknown = set(changes) - set(DATA_FIELDS)
        if unknown:
            raise ValueError(f"not data fields of a draft: {sorted(unknown)}")
        check_fields(changes)
        check_rule(DraftTitleMustBeUnique(holder, self.id))
        check_rule(WriterMustBeMember(may_write))
        for name, value in changes.items():
            setattr(self, name, value)
        self.modified = now

    def revised_key(self, changes: Mapping[str, Any]) -> tuple[int, str, str]:
        """The (author, proposal, title) the draft would have after these changes: what must stay unique."""
        return (
            self.author_id,
            changes.get("proposal_id", self.proposal_id),
            changes.get("title", self.title),
        )
