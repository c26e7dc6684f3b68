"""Read side of drafts: the drafts each caller may see, as plain dicts in the portal's shape (api.md 4.4).

Datetimes stay datetime objects here; the HTTP layer writes them in the wire format.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from application.handlers.drafts import editable_draft, readable_draft
from application.ports import DraftQuery, UnitOfWork
from domain.accounts import User
from domain.drafts import Draft
from domain.permissions import Action, Actor, allowed, require

View = dict[str, Any]


def draft_view(draft: Draft, authors: Mapping[int, User]) -> View:
    """``{id, author, proposal, title, content, created, modified}``, the author by username."""
    author = authors.get(draft.author_id)
    return {
        "id": draft.id,
        "author": author.username if author is not None else "",
        "proposal": draft.proposal_id,
        "title": draft.title,
        "content": draft.content,
        "created": draft.created,
        "modified": draft.modified,
    }


def _views(uow: UnitOfWork, drafts: Iterable[Draft]) -> list[View]:
    found = list(drafts)
    authors = uow.users.get_many({d.author_id for d in found})
    return [draft_view(d, authors) for d in found]


def visible_draft_proposals(uow: UnitOfWork, actor: Actor) -> frozenset[str] | None:
    """The proposals whose drafts the caller reads (None: every proposal's, for staff-view)."""
    if allowed(Action.READ_DRAFTS, actor):  # a standing that reads drafts of any proposal
        return None
    if actor.user_id is None:
        return frozenset()
    return frozenset(p.id for p in uow.proposals.for_member(actor.user_id) if allowed(Action.READ_DRAFTS, actor, p))


def list_drafts(uow: UnitOfWork, actor: Actor, *, limit: int, offset: int) -> tuple[int, list[View]]:
    """How many drafts the caller may see, and one page of them, most recently modified first."""
    require(Action.LIST_OWN, actor)
    with uow:
        query = DraftQuery(visible_draft_proposals(uow, actor), limit=limit, offset=offset)
        count, page = uow.drafts.search(query)
        return count, _views(uow, page)


def get_draft(uow: UnitOfWork, actor: Actor, draft_id: int) -> View:
    """One draft; not found unless the caller may read it."""
    with uow:
        draft, _ = readable_draft(uow, actor, draft_id)
        return _views(uow, [draft])[0]


def describe_draft(uow: UnitOfWork, draft: Draft) -> View:
    """The view of a draft a use case returned (its author looked up afresh)."""
    with uow:
        return _views(uow, [draft])[0]


def check_editable(uow: UnitOfWork, actor: Actor, draft_id: int) -> None:
    """Refuse as a change would (not found, then denied), so that the HTTP layer answers so before reading a
    body, as upstream looks the draft up first."""
    with uow:
        editable_draft(uow, actor, draft_id)
