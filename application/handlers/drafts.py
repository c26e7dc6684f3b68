"""Use cases of drafts: write, revise and discard a draft of a request group (api.md 4.4).

The rules run in upstream's order, so clients get the same first error: the fields, then the proposal named
exists, then the author's title is free in it, then the writer is a member. Who may read or change an existing
draft is the permission table's (domain.permissions): a draft the caller may not read is not found, one they
may read but not change is denied.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from application.commands import DiscardDraft, ReviseDraft, WriteDraft
from application.ports import Clock, UnitOfWork
from domain.drafts import Draft
from domain.errors import NotFoundError, ValidationError
from domain.permissions import Action, Actor, allowed, require
from domain.proposals import Proposal


def _named_proposal(uow: UnitOfWork, proposal_id: str) -> Proposal:
    """The proposal a body names; an unknown one is a bad field, not a missing page."""
    proposal = uow.proposals.get(proposal_id)
    if proposal is None:
        raise ValidationError.on("proposal", f'Invalid pk "{proposal_id}" - object does not exist.')
    return proposal


def readable_draft(uow: UnitOfWork, actor: Actor, draft_id: int) -> tuple[Draft, Proposal]:
    """The draft and its proposal (call inside ``with uow``); not found unless the caller may read it."""
    draft = uow.drafts.get(draft_id)
    proposal = None if draft is None else uow.proposals.get(draft.proposal_id)
    if draft is None or proposal is None or not allowed(Action.READ_DRAFTS, actor, proposal):
        require(Action.LIST_OWN, actor)  # no credentials is answered as such, before "not found"
        raise NotFoundError(f"draft {draft_id}")
    return draft, proposal


def editable_draft(uow: UnitOfWork, actor: Actor, draft_id: int) -> Draft:
    """The draft (call inside ``with uow``): not found unless readable, denied unless the caller may change it."""
    draft, proposal = readable_draft(uow, actor, draft_id)
    require(Action.WRITE_DRAFTS, actor, proposal)
    return draft


def write_draft(cmd: WriteDraft, uow: UnitOfWork, clock: Clock) -> Draft:
    require(Action.LIST_OWN, cmd.actor)  # drafts need an account; membership is a validation rule, as upstream
    assert cmd.actor.user_id is not None  # noqa: S101 - require() refused anonymous callers
    with uow:
        proposal = _named_proposal(uow, cmd.proposal_id)
        draft = Draft.write(
            author_id=cmd.actor.user_id,
            proposal_id=proposal.id,
            title=cmd.title,
            content=cmd.content,
            may_write=allowed(Action.WRITE_DRAFTS, cmd.actor, proposal),
            holder=uow.drafts.find(cmd.actor.user_id, proposal.id, cmd.title),
            now=clock.now(),
        )
        uow.drafts.add(draft)
        uow.commit()
        return draft


def revise_draft(cmd: ReviseDraft, uow: UnitOfWork, clock: Clock) -> Draft:
    with uow:
        draft = editable_draft(uow, cmd.actor, cmd.draft_id)
        proposal = _named_proposal(uow, cmd.changes.get("proposal_id", draft.proposal_id))
        draft.revise(
            cmd.changes,
            may_write=allowed(Action.WRITE_DRAFTS, cmd.actor, proposal),
            holder=uow.drafts.find(*draft.revised_key(cmd.changes)),
            now=clock.now(),
        )
        uow.commit()
        return draft


def discard_draft(cmd: DiscardDraft, uow: UnitOfWork) -> None:
    with uow:
        uow.drafts.delete(editable_draft(uow, cmd.actor, cmd.draft_id))
        uow.commit()


COMMAND_HANDLERS: dict[type, Callable[..., Any]] = {
    WriteDraft: write_draft,
    ReviseDraft: revise_draft,
    DiscardDraft: discard_draft,
}
