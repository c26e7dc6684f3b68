"""Read side of accounts and proposals: the profile, proposals, semesters, memberships and invitations as
plain dicts in the portal's shapes (api.md 5.1, 5.2), each filtered by what the caller may see.

Datetimes stay datetime objects here; the HTTP layer writes them in the wire format.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from application.ports import RequestGroupQuery, UnitOfWork
from domain.accounts import PROFILE_FLAGS, PROFILE_TEXTS, User
from domain.errors import NotFoundError
from domain.permissions import Action, Actor, allowed, can_read, require
from domain.proposals import Proposal, Role, Semester, TimeAllocation, semester_containing

View = dict[str, Any]


def semester_view(semester: Semester) -> View:
    return {"id": semester.id, "start": semester.start, "end": semester.end}


def current_semester(uow: UnitOfWork, now: datetime) -> Semester | None:
    return semester_containing(uow.semesters.all(), now)


def allocation_view(allocation: TimeAllocation, proposal_id: str) -> View:
    return {
        "id": allocation.id,
        "semester": allocation.semester_id,
        "proposal": proposal_id,
        "instrument_types": list(allocation.instrument_types),
        **allocation.hours(),
    }


def _person(user: User | None, *, with_contact: bool) -> View:
    if user is None:
        return {"first_name": "", "last_name": "", "username": "", "institution": ""}
    person = {"first_name": user.first_name, "last_name": user.last_name, "username": user.username}
    if with_contact:
        person["email"] = user.email
    person["institution"] = user.institution
    return person


def proposal_view(proposal: Proposal, users: Mapping[int, User], actor: Actor, request_group_count: int = 0) -> View:
    """Shape 5.2. PIs' emails go to members and staff-view only; ``notes`` to staff only (requests.md 1.9)."""
    member_view = can_read(actor, proposal)
    view: View = {
        "id": proposal.id,
        "active": proposal.active,
        "title": proposal.title,
        "abstract": proposal.abstract,
        "tac_priority": proposal.tac_priority,
        "tac_rank": proposal.tac_rank,
        "sca": proposal.sca,
        "public": proposal.public,
        "non_science": proposal.non_science,
        "direct_submission": proposal.direct_submission,
        "tags": list(proposal.tags),
        "cis_see_all_requests": proposal.cis_see_all_requests,
        "pis": [_person(users.get(pi), with_contact=member_view) for pi in proposal.pi_ids()],
        "requestgroup_count": request_group_count,
        "coi_count": sum(1 for m in proposal.memberships if m.role is Role.CI),
        "timeallocation_set": [allocation_view(a, proposal.id) for a in proposal.allocations],
        "created": proposal.created,
        "modified": proposal.modified,
    }
    if actor.is_staff:
        view["notes"] = proposal.notes
    return view


def _users_of(uow: UnitOfWork, proposals: Iterable[Proposal]) -> dict[int, User]:
    return uow.users.get_many({m.user_id for p in proposals for m in p.memberships})


def visible_proposals(uow: UnitOfWork, actor: Actor) -> list[Proposal]:
    """The caller's proposals (every proposal for staff-view), ordered by id descending."""
    if actor.user_id is None:
        return []
    if actor.staff_view:
        return uow.proposals.all()
    return uow.proposals.for_member(actor.user_id)


def list_proposals(
    uow: UnitOfWork,
    actor: Actor,
    *,
    ids: Iterable[str] = (),
    active: bool | None = None,
    public: bool | None = None,
    semester: str | None = None,
    tags: Iterable[str] = (),
    title: str | None = None,
    tac_rank: int | None = None,
    tac_priority: int | None = None,
) -> list[View]:
    """The visible proposals matching every filter given (repeated ids and tags mean any of them)."""
    require(Action.LIST_OWN, actor)
    wanted_ids, wanted_tags = set(ids), set(tags)
    with uow:
        found = [
            p
            for p in visible_proposals(uow, actor)
            if (not wanted_ids or p.id in wanted_ids)
            and (active is None or p.active == active)
            and (public is None or p.public == public)
            and (semester is None or p.allocations_in(semester))
            and (not wanted_tags or wanted_tags & set(p.tags))
            and (title is None or title.casefold() in p.title.casefold())
            and (tac_rank is None or p.tac_rank == tac_rank)
            and (tac_priority is None or p.tac_priority == tac_priority)
        ]
        users = _users_of(uow, found)
        return [proposal_view(p, users, actor, _group_count(uow, p.id)) for p in found]


def get_proposal(uow: UnitOfWork, actor: Actor, proposal_id: str) -> View:
    """One proposal with its PIs and allocations; not found unless the caller may read it."""
    with uow:
        proposal = uow.proposals.get(proposal_id)
        if proposal is None:
            raise NotFoundError(f"proposal {proposal_id}")
        require(Action.READ_PROPOSAL, actor, proposal)
        users = _users_of(uow, [proposal])
        return proposal_view(proposal, users, actor, _group_count(uow, proposal.id))


def _group_count(uow: UnitOfWork, proposal_id: str) -> int:
    """How many request groups the proposal has (every member's: the PI's count, as upstream shows it)."""
    count, _ = uow.request_groups.search(RequestGroupQuery(proposal=proposal_id, limit=1))
    return count


def proposal_tags(uow: UnitOfWork, actor: Actor) -> list[str]:
    require(Action.LIST_OWN, actor)
    with uow:
        return sorted({tag for p in visible_proposals(uow, actor) for tag in p.tags})


def list_semesters(
    uow: UnitOfWork,
    *,
    contains: datetime | None = None,
    start_from: datetime | None = None,
    start_until: datetime | None = None,
    end_before: datetime | None = None,
    end_after: datetime | None = None,
    id_contains: str | None = None,
) -> list[View]:
    """Semesters newest first, filtered as api.md 3 lists (bounds as upstream: start >=, end <)."""
    with uow:
        semesters = uow.semesters.all()
    return [
        semester_view(s)
        for s in semesters
        if (contains is None or s.contains(contains))
        and (start_from is None or s.start >= start_from)
        and (start_until is None or s.start <= start_until)
        and (end_before is None or s.end < end_before)
        and (end_after is None or s.end > end_after)
        and (id_contains is None or id_contains.casefold() in s.id.casefold())
    ]


def get_semester(uow: UnitOfWork, semester_id: str) -> View:
    with uow:
        semester = uow.semesters.get(semester_id)
    if semester is None:
        raise NotFoundError(f"semester {semester_id}")
    return semester_view(semester)


def semester_time_allocations(uow: UnitOfWork, actor: Actor, semester_id: str) -> list[View]:
    """Staff: every allocation of the semester, with the proposal summary schedulers read."""
    require(Action.OPERATE, actor)
    with uow:
        if uow.semesters.get(semester_id) is None:
            raise NotFoundError(f"semester {semester_id}")
        proposals = [p for p in uow.proposals.all() if p.allocations_in(semester_id)]
        users = _users_of(uow, proposals)
    views = []
    for proposal in proposals:
        summary = {
            "id": proposal.id,
            "notes": proposal.notes,
            "tac_priority": proposal.tac_priority,
            "num_users": len(proposal.memberships),
            "tags": list(proposal.tags),
            "pis": [
                {"first_name": users[pi].first_name, "last_name": users[pi].last_name}
                for pi in proposal.pi_ids()
                if pi in users
            ],
        }
        for allocation in proposal.allocations_in(semester_id):
            views.append({**allocation_view(allocation, proposal.id), "proposal": summary})
    return views


# ---------------------------------------------------------------------------------------------------------
# Memberships and invitations


def member_time_used(uow: UnitOfWork, proposal_id: str, username: str, now: datetime) -> int:
    """Seconds of the member's pending and completed requests on the proposal this semester (requests.md 1.1)."""
    semester = current_semester(uow, now)
    return uow.request_groups.time_used(proposal_id, username, semester.start if semester else now)


def _membership_views(
    uow: UnitOfWork, proposal: Proposal, users: Mapping[int, User], pick: Any, now: datetime
) -> list[View]:
    views = []
    for membership in proposal.memberships:
        if not pick(proposal, membership):
            continue
        user = users.get(membership.user_id)
        views.append(
            {
                "id": membership.id,
                "username": user.username if user else "",
                "first_name": user.first_name if user else "",
                "last_name": user.last_name if user else "",
                "email": user.email if user else "",
                "role": membership.role.value,
                "proposal": proposal.id,
                "time_limit": membership.time_limit_s,
                "time_used_by_user": float(member_time_used(uow, proposal.id, user.username, now)) if user else 0.0,
                "simple_interface": user.simple_interface if user else False,
            }
        )
    return views


def list_memberships(
    uow: UnitOfWork,
    actor: Actor,
    now: datetime,
    *,
    proposal: str | None = None,
    role: str | None = None,
    username: str | None = None,
    first_name: str | None = None,
    last_name: str | None = None,
    email: str | None = None,
) -> list[View]:
    """The caller's own memberships and every membership of proposals they lead (all for staff-view)."""
    require(Action.LIST_OWN, actor)

    def pick(p: Proposal, m: Any) -> bool:
        return actor.staff_view or m.user_id == actor.user_id or p.role_of(actor.user_id) is Role.PI

    with uow:
        proposals = visible_proposals(uow, actor)
        users = _users_of(uow, proposals)
        views = [v for p in proposals for v in _membership_views(uow, p, users, pick, now)]
    text_filters = {"username": username, "first_name": first_name, "last_name": last_name, "email": email}
    return sorted(
        (
            v
            for v in views
            if (proposal is None or v["proposal"] == proposal)
            and (role is None or v["role"] == role.upper())
            and all(wanted is None or wanted.casefold() in v[k].casefold() for k, wanted in text_filters.items())
        ),
        key=lambda v: v["id"] or 0,
    )


def get_membership(uow: UnitOfWork, actor: Actor, membership_id: int, now: datetime) -> View:
    found = [v for v in list_memberships(uow, actor, now) if v["id"] == membership_id]
    if not found:
        raise NotFoundError(f"membership {membership_id}")
    return found[0]


def list_invitations(
    uow: UnitOfWork, actor: Actor, *, proposal: str | None = None, pending: bool | None = None
) -> list[View]:
    """Invitations of the proposals the caller leads (all for staff-view)."""
    require(Action.LIST_OWN, actor)
    with uow:
        proposals = [p for p in visible_proposals(uow, actor) if allowed(Action.LIST_INVITATIONS, actor, p)]
    views = [
        {
            "id": i.id,
            "role": i.role.value,
            "email": i.email,
            "time_limit": i.time_limit_s,
            "sent": i.sent,
            "used": i.used,
            "proposal": p.id,
        }
        for p in proposals
        for i in p.invitations
        if (proposal is None or p.id == proposal) and (pending is None or i.pending == pending)
    ]
    return sorted(views, key=lambda v: v["id"] or 0)


def get_invitation(uow: UnitOfWork, actor: Actor, invitation_id: int) -> View:
    found = [v for v in list_invitations(uow, actor) if v["id"] == invitation_id]
    if not found:
        raise NotFoundError(f"invitation {invitation_id}")
    return found[0]


# ---------------------------------------------------------------------------------------------------------
# The profile


def profile_view(uow: UnitOfWork, user: User, now: datetime, include_time_allocations: bool = False) -> View:
    """Shape 5.1: the user, their profile settings, active proposals and the instrument types they may use."""
    require(Action.LIST_OWN, Actor.of(user))
    with uow:
        semester = current_semester(uow, now)
        assert user.id is not None  # noqa: S101 - only stored users have profiles
        proposals = [p for p in uow.proposals.for_member(user.id) if p.active]
        used = (
            {p.id: member_time_used(uow, p.id, user.username, now) for p in proposals}
            if include_time_allocations
            else {}
        )
    proposal_views: list[View] = []
    available: list[str] = []
    for proposal in proposals:
        current = [] if semester is None else proposal.allocations_in(semester.id)
        entry: View = {"id": proposal.id, "title": proposal.title, "current": bool(current)}
        if include_time_allocations:
            membership = proposal.membership_of(user.id)
            entry["time_limit"] = membership.time_limit_s if membership else -1
            entry["time_used"] = float(used[proposal.id])
            entry["time_allocations"] = [allocation_view(a, proposal.id) for a in current]
        proposal_views.append(entry)
        for allocation in current:
            available.extend(code for code in allocation.instrument_types if code not in available)
    profile: View = {name: getattr(user, name) for name in (*PROFILE_FLAGS, *PROFILE_TEXTS)}
    profile.update(
        {
            "api_quota": {"used": 0, "allowed": "unlimited"},
            "terms_accepted": user.terms_accepted,
            "sciencecollaborationallocation": None,
            "password_expiration": None,
        }
    )
    return {
        "id": user.id,
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "is_staff": user.staff,
        "is_superuser": user.is_superuser,
        "profile": profile,
        "proposals": proposal_views,
        "available_instrument_types": sorted(available),
        "tokens": {"api_token": user.api_token, "archive": user.api_token},
        "proposal_notifications": [],
    }
