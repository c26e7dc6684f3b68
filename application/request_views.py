"""Read side of request groups and requests: what each caller may see (requests.md 1.8), as query clauses the
repositories apply, and lookups that answer "not found" for what the caller may not see."""

from __future__ import annotations

import attrs

from application.handlers.requestgroups import visible_group
from application.ports import RequestGroupQuery, RequestQuery, UnitOfWork
from domain.errors import NotFoundError
from domain.permissions import Actor, RequestVisibility, request_visibility
from domain.requestgroups import Request, RequestGroup


@attrs.frozen
class VisibilityClause:
    """The proposals whose groups the caller sees all of, and those where only their own groups show."""

    visible_proposals: frozenset[str] | None
    own_in_proposals: frozenset[str]
    own_submitter: str | None


def visibility_clause(uow: UnitOfWork, actor: Actor) -> VisibilityClause:
    """Staff-view see everything; anonymous callers the public proposals; others their proposals' groups as
    the permission table says (a faithful quirk: public groups of other proposals do not show in their lists)."""
    if actor.staff_view:
        return VisibilityClause(None, frozenset(), None)
    if actor.user_id is None:
        public = frozenset(p.id for p in uow.proposals.all() if p.public)
        return VisibilityClause(public, frozenset(), None)
    everything: set[str] = set()
    own: set[str] = set()
    for proposal in uow.proposals.for_member(actor.user_id):
        seen = request_visibility(actor, proposal)
        if seen is RequestVisibility.ALL:
            everything.add(proposal.id)
        elif seen is RequestVisibility.OWN:
            own.add(proposal.id)
    return VisibilityClause(frozenset(everything), frozenset(own), actor.username)


def search_request_groups(uow: UnitOfWork, actor: Actor, query: RequestGroupQuery) -> tuple[int, list[RequestGroup]]:
    """The page of groups matching the filters among those the caller may see."""
    with uow:
        clause = visibility_clause(uow, actor)
        return uow.request_groups.search(attrs.evolve(query, **attrs.asdict(clause, recurse=False)))


def search_requests(
    uow: UnitOfWork, actor: Actor, query: RequestQuery
) -> tuple[int, list[tuple[RequestGroup, Request]]]:
    """The page of requests matching the filters among those the caller may see, each with its group."""
    with uow:
        clause = visibility_clause(uow, actor)
        return uow.request_groups.search_requests(attrs.evolve(query, **attrs.asdict(clause, recurse=False)))


def get_request_group(uow: UnitOfWork, actor: Actor, group_id: int) -> RequestGroup:
    with uow:
        return visible_group(uow, actor, uow.request_groups.get(group_id))


def get_request(uow: UnitOfWork, actor: Actor, request_id: int) -> tuple[RequestGroup, Request]:
    """A request and its group; not found unless the caller may see the group."""
    with uow:
        group = visible_group(uow, actor, uow.request_groups.containing_request(request_id))
    request = next((r for r in group.requests if r.id == request_id), None)
    if request is None:  # pragma: no cover - containing_request found it there
        raise NotFoundError(f"request {request_id}")
    return group, request
