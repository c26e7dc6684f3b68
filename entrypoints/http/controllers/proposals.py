"""Proposals, semesters, memberships, invitations and time allocations over HTTP (api.md 3, 5.2).

Thin on purpose: who may do what is the permission table's (domain.permissions), asked by the guards below
before a body is read and again by every use case; the shapes are the read side's (application.proposal_views).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from litestar import Request, delete, get, patch, post
from litestar.connection import ASGIConnection
from litestar.handlers import BaseRouteHandler
from litestar.params import FromPath, RawBody
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_204_NO_CONTENT

from adapters.serialization import FieldSpec, structure_fields
from application.commands import (
    AllocateTime,
    CreateProposal,
    CreateSemester,
    EditProposal,
    EditSemester,
    InviteMembers,
    RemoveMembership,
    ReviseAllocation,
    SetGlobalLimit,
    SetMembershipLimit,
    SetRequestVisibility,
    WithdrawInvitation,
)
from application.proposal_views import (
    allocation_view,
    get_invitation,
    get_membership,
    get_proposal,
    get_semester,
    list_invitations,
    list_memberships,
    list_proposals,
    list_semesters,
    proposal_tags,
    proposal_view,
    semester_time_allocations,
    semester_view,
)
from domain.accounts import INVALID_EMAIL
from domain.errors import ValidationError
from domain.permissions import Action, Actor, require
from domain.proposals import HOUR_FIELDS, Proposal
from entrypoints.http.auth import current_actor, signed_in
from entrypoints.http.errors import PORTAL_BODY_LIMIT
from entrypoints.http.wire import (
    BAD_DATETIME,
    BAD_NUMBER,
    bus_of,
    in_thread,
    json_body,
    now_of,
    page,
    page_bounds,
    query_value,
    query_values,
    string_list,
    to_wire,
    typed_query_value,
    unit_of_work,
)

DEFAULT_PAGE, MAX_PAGE = 10, 1000
PROPOSAL_ORDERING = ("id", "title", "tac_priority", "tac_rank", "created", "modified")

_PROPOSAL_FIELDS = {
    "title": FieldSpec(str, max_length=255),
    "abstract": FieldSpec(str),
    "active": FieldSpec(bool),
    "public": FieldSpec(bool),
    "non_science": FieldSpec(bool),
    "direct_submission": FieldSpec(bool),
    "tac_priority": FieldSpec(int),
    "tac_rank": FieldSpec(int),
    "sca": FieldSpec(str, max_length=20),
    "tags": FieldSpec(list[Any]),
    "notes": FieldSpec(str),
    "cis_see_all_requests": FieldSpec(bool),
}
_NEW_PROPOSAL = {
    "id": FieldSpec(str, required=True, max_length=255),
    **_PROPOSAL_FIELDS,
    "pis": FieldSpec(list[Any], required=True),
}
_PROPOSAL_EDIT = {"id": FieldSpec(str), **_PROPOSAL_FIELDS}
_INVITE = {"emails": FieldSpec(list[Any], required=True), "time_limit": FieldSpec(int)}
_HOURS = {"time_limit_hours": FieldSpec(float, required=True)}
_VISIBILITY = {"cis_see_all_requests": FieldSpec(bool, required=True)}
_SEMESTER = {
    "id": FieldSpec(str, required=True, max_length=20),
    "start": FieldSpec(datetime, required=True),
    "end": FieldSpec(datetime, required=True),
}
_SEMESTER_EDIT = {"start": FieldSpec(datetime), "end": FieldSpec(datetime)}
_ALLOCATION_HOURS = {name: FieldSpec(float) for name in HOUR_FIELDS}
_NEW_ALLOCATION = {
    "proposal": FieldSpec(str, required=True),
    "semester": FieldSpec(str, required=True),
    "instrument_types": FieldSpec(list[Any], required=True),
    **_ALLOCATION_HOURS,
}
_ALLOCATION_EDIT = {"instrument_types": FieldSpec(list[Any]), **_ALLOCATION_HOURS}


# ---------------------------------------------------------------------------------------------------------
# Plumbing


def administrators_only(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Guard: creating and editing proposals, semesters and allocations is the staff's (the table decides)."""
    require(Action.ADMINISTER, current_actor(connection))


def _body(request: Request[Any, Any, Any], body: bytes, specs: dict[str, FieldSpec], **kwargs: Any) -> dict[str, Any]:
    return structure_fields(json_body(request, body), specs, **kwargs)


def _paginated(request: Request[Any, Any, Any], views: list[dict[str, Any]], actor: Actor) -> dict[str, Any]:
    limit, offset = page_bounds(request, DEFAULT_PAGE, MAX_PAGE, anonymous=not actor.authenticated)
    return page(request, len(views), to_wire(views[offset : offset + limit]), limit, offset)


def _ordered(request: Request[Any, Any, Any], views: list[dict[str, Any]], keys: tuple[str, ...]) -> list[Any]:
    """Views sorted by ``?ordering=a,-b`` (default ``-id``); an unknown key is a 400, as upstream."""
    raw = query_value(request, "ordering") or "-id"
    wanted = [key.strip() for key in raw.split(",") if key.strip()] or ["-id"]
    for key in wanted:
        if key.removeprefix("-") not in keys:
            raise ValidationError.on("ordering", f"Select a valid choice. {key} is not one of the available choices.")
    ordered = list(views)
    for key in reversed(wanted):  # stable sorts, least significant key first
        name = key.removeprefix("-")
        ordered.sort(key=lambda view: (view[name] is not None, view[name]), reverse=key.startswith("-"))
    return ordered


def _date_filter(request: Request[Any, Any, Any], name: str) -> datetime | None:
    return typed_query_value(request, name, datetime, BAD_DATETIME)  # type: ignore[no-any-return]


def _proposal_answer(request: Request[Any, Any, Any], actor: Actor, proposal: Proposal) -> dict[str, Any]:
    """The 5.2 shape of a proposal a use case returned (staff without staff_view may not read it back)."""
    uow = unit_of_work(request)
    with uow:
        users = uow.users.get_many({m.user_id for m in proposal.memberships})
    return to_wire(proposal_view(proposal, users, actor))  # type: ignore[no-any-return]


def _hours_text(hours: float) -> str:
    return str(float(hours))


# ---------------------------------------------------------------------------------------------------------
# Proposals


def _list_proposals(request: Request[Any, Any, Any]) -> dict[str, Any]:
    actor = current_actor(request)
    # Only proposal tags are comma lists (api.md rule 8).
    tags = [tag.strip() for value in query_values(request, "tags") for tag in value.split(",") if tag.strip()]
    views = list_proposals(
        unit_of_work(request),
        actor,
        ids=query_values(request, "id"),
        active=typed_query_value(request, "active", bool),
        public=typed_query_value(request, "public", bool),
        semester=query_value(request, "semester"),
        tags=tags,
        title=query_value(request, "title"),
        tac_rank=typed_query_value(request, "tac_rank", int, BAD_NUMBER),
        tac_priority=typed_query_value(request, "tac_priority", int, BAD_NUMBER),
    )
    return _paginated(request, _ordered(request, views, PROPOSAL_ORDERING), actor)


def _read_proposal(request: Request[Any, Any, Any], proposal_id: str) -> dict[str, Any]:
    return to_wire(get_proposal(unit_of_work(request), current_actor(request), proposal_id))  # type: ignore[no-any-return]


def _tags(request: Request[Any, Any, Any]) -> list[str]:
    return proposal_tags(unit_of_work(request), current_actor(request))


def _proposal_values(fields: dict[str, Any]) -> dict[str, Any]:
    values = {name: value for name, value in fields.items() if name in _PROPOSAL_FIELDS}
    if "tags" in values:
        values["tags"] = string_list(values["tags"], "tags")
    return values


def _create_proposal(request: Request[Any, Any, Any], body: bytes) -> dict[str, Any]:
    actor = current_actor(request)
    fields = _body(request, body, _NEW_PROPOSAL)
    command = CreateProposal(actor, fields["id"], _proposal_values(fields), tuple(string_list(fields["pis"], "pis")))
    return _proposal_answer(request, actor, bus_of(request).handle(command))


def _edit_proposal(request: Request[Any, Any, Any], proposal_id: str, body: bytes) -> dict[str, Any]:
    actor = current_actor(request)
    fields = _body(request, body, _PROPOSAL_EDIT, partial=True)
    values = _proposal_values(fields)
    if "id" in fields:
        values["id"] = fields["id"]
    proposal = bus_of(request).handle(EditProposal(actor, proposal_id, values))
    return _proposal_answer(request, actor, proposal)


def _invite(request: Request[Any, Any, Any], proposal_id: str, body: bytes) -> dict[str, str]:
    fields = _body(request, body, _INVITE)
    emails = string_list(fields["emails"], "emails", INVALID_EMAIL)
    command = InviteMembers(current_actor(request), proposal_id, tuple(emails), fields.get("time_limit", -1))
    bus_of(request).handle(command)
    return {"message": "Co Investigator(s) invited"}


def _global_limit(request: Request[Any, Any, Any], proposal_id: str, body: bytes) -> dict[str, str]:
    hours = _body(request, body, _HOURS)["time_limit_hours"]
    bus_of(request).handle(SetGlobalLimit(current_actor(request), proposal_id, hours))
    return {"message": f"All CI time limits set to {_hours_text(hours)} hours"}


def _request_visibility(request: Request[Any, Any, Any], proposal_id: str, body: bytes) -> dict[str, Any]:
    allowed = _body(request, body, _VISIBILITY)["cis_see_all_requests"]
    actor = current_actor(request)
    proposal = bus_of(request).handle(SetRequestVisibility(actor, proposal_id, allowed))
    return _proposal_answer(request, actor, proposal)


_USER: dict[str, Any] = {"guards": [signed_in], "tags": ["proposals"]}
_USER_WRITE: dict[str, Any] = {**_USER, "status_code": HTTP_200_OK, "request_max_body_size": PORTAL_BODY_LIMIT}
_STAFF_WRITE: dict[str, Any] = {"guards": [administrators_only], "request_max_body_size": PORTAL_BODY_LIMIT}


@get("/api/proposals/", **_USER)
async def proposals(request: Request[Any, Any, Any]) -> dict[str, Any]:
    """The caller's proposals (every one for staff-view), newest id first; filters id (repeatable), active,
    semester, tags (comma list, any), public, title (contains), tac_rank, tac_priority; ``ordering``."""
    return await in_thread(_list_proposals, request)  # type: ignore[no-any-return]


@get("/api/proposals/tags/", **_USER)
async def tags(request: Request[Any, Any, Any]) -> list[str]:
    """Every distinct tag of the proposals the caller can see, as a bare list."""
    return await in_thread(_tags, request)  # type: ignore[no-any-return]


@get("/api/proposals/{proposal_id:str}/", **_USER)
async def proposal(request: Request[Any, Any, Any], proposal_id: FromPath[str]) -> dict[str, Any]:
    """One proposal with its PIs and allocations; another's is not found."""
    return await in_thread(_read_proposal, request, proposal_id)  # type: ignore[no-any-return]


@post("/api/proposals/", status_code=HTTP_201_CREATED, tags=["proposals"], **_STAFF_WRITE)
async def create_proposal(request: Request[Any, Any, Any], body: RawBody) -> dict[str, Any]:
    """Open a proposal (staff): the fields of a proposal plus ``pis``, usernames or email addresses."""
    return await in_thread(_create_proposal, request, body)  # type: ignore[no-any-return]


@patch("/api/proposals/{proposal_id:str}/", status_code=HTTP_200_OK, tags=["proposals"], **_STAFF_WRITE)
async def edit_proposal(request: Request[Any, Any, Any], proposal_id: FromPath[str], body: RawBody) -> dict[str, Any]:
    """Change a proposal's fields (staff); its id never changes."""
    return await in_thread(_edit_proposal, request, proposal_id, body)  # type: ignore[no-any-return]


@post("/api/proposals/{proposal_id:str}/invite/", **_USER_WRITE)
async def invite(request: Request[Any, Any, Any], proposal_id: FromPath[str], body: RawBody) -> dict[str, str]:
    """The PI invites co-investigators by email with a time limit in seconds (-1: none); known addresses
    become members at once, the others are emailed an invitation."""
    return await in_thread(_invite, request, proposal_id, body)  # type: ignore[no-any-return]


@post("/api/proposals/{proposal_id:str}/globallimit/", **_USER_WRITE)
async def global_limit(request: Request[Any, Any, Any], proposal_id: FromPath[str], body: RawBody) -> dict[str, str]:
    """The PI sets every CI's time limit at once, in hours (negative: no limit)."""
    return await in_thread(_global_limit, request, proposal_id, body)  # type: ignore[no-any-return]


@post("/api/proposals/{proposal_id:str}/request_visibility/", **_USER_WRITE)
async def request_visibility(
    request: Request[Any, Any, Any], proposal_id: FromPath[str], body: RawBody
) -> dict[str, Any]:
    """The PI chooses whether CIs see every member's requests or only their own."""
    return await in_thread(_request_visibility, request, proposal_id, body)  # type: ignore[no-any-return]


# ---------------------------------------------------------------------------------------------------------
# Semesters


def _list_semesters(request: Request[Any, Any, Any]) -> dict[str, Any]:
    actor = current_actor(request)  # open to anyone, but an invalid token is still refused
    views = list_semesters(
        unit_of_work(request),
        contains=_date_filter(request, "semester_contains"),
        start_from=_date_filter(request, "start"),
        start_until=_date_filter(request, "start_lte"),
        end_before=_date_filter(request, "end"),
        end_after=_date_filter(request, "end_gt"),
        id_contains=query_value(request, "id"),
    )
    return _paginated(request, views, actor)


def _read_semester(request: Request[Any, Any, Any], semester_id: str) -> dict[str, Any]:
    current_actor(request)
    return to_wire(get_semester(unit_of_work(request), semester_id))  # type: ignore[no-any-return]


def _semester_allocations(request: Request[Any, Any, Any], semester_id: str) -> list[dict[str, Any]]:
    return to_wire(semester_time_allocations(unit_of_work(request), current_actor(request), semester_id))  # type: ignore[no-any-return]


def _create_semester(request: Request[Any, Any, Any], body: bytes) -> dict[str, Any]:
    fields = _body(request, body, _SEMESTER)
    command = CreateSemester(current_actor(request), fields["id"], fields["start"], fields["end"])
    return to_wire(semester_view(bus_of(request).handle(command)))  # type: ignore[no-any-return]


def _edit_semester(request: Request[Any, Any, Any], semester_id: str, body: bytes) -> dict[str, Any]:
    fields = _body(request, body, _SEMESTER_EDIT, partial=True)
    command = EditSemester(current_actor(request), semester_id, fields.get("start"), fields.get("end"))
    return to_wire(semester_view(bus_of(request).handle(command)))  # type: ignore[no-any-return]


@get("/api/semesters/", tags=["semesters"])
async def semesters(request: Request[Any, Any, Any]) -> dict[str, Any]:
    """Semesters, newest first; filters semester_contains (a datetime), start (>=), start_lte, end (<),
    end_gt and id (contains). Open to anonymous callers."""
    return await in_thread(_list_semesters, request)  # type: ignore[no-any-return]


@get("/api/semesters/{semester_id:str}/", tags=["semesters"])
async def semester(request: Request[Any, Any, Any], semester_id: FromPath[str]) -> dict[str, Any]:
    """One semester."""
    return await in_thread(_read_semester, request, semester_id)  # type: ignore[no-any-return]


@get("/api/semesters/{semester_id:str}/timeallocations/", tags=["semesters"])
async def semester_allocations(request: Request[Any, Any, Any], semester_id: FromPath[str]) -> list[dict[str, Any]]:
    """Every time allocation of the semester with its proposal's summary, as a bare list (staff)."""
    return await in_thread(_semester_allocations, request, semester_id)  # type: ignore[no-any-return]


@post("/api/semesters/", status_code=HTTP_201_CREATED, tags=["semesters"], **_STAFF_WRITE)
async def create_semester(request: Request[Any, Any, Any], body: RawBody) -> dict[str, Any]:
    """Add a semester (staff); it may not overlap another."""
    return await in_thread(_create_semester, request, body)  # type: ignore[no-any-return]


@patch("/api/semesters/{semester_id:str}/", status_code=HTTP_200_OK, tags=["semesters"], **_STAFF_WRITE)
async def edit_semester(request: Request[Any, Any, Any], semester_id: FromPath[str], body: RawBody) -> dict[str, Any]:
    """Move a semester's start or end (staff); it may not overlap another."""
    return await in_thread(_edit_semester, request, semester_id, body)  # type: ignore[no-any-return]


# ---------------------------------------------------------------------------------------------------------
# Memberships and invitations


def _list_memberships(request: Request[Any, Any, Any]) -> dict[str, Any]:
    actor = current_actor(request)
    filters = {name: query_value(request, name) for name in ("proposal", "role", "username", "first_name")}
    filters |= {name: query_value(request, name) for name in ("last_name", "email")}
    now = now_of(request)
    return _paginated(request, list_memberships(unit_of_work(request), actor, now, **filters), actor)


def _read_membership(request: Request[Any, Any, Any], membership_id: int) -> dict[str, Any]:
    now = now_of(request)
    return to_wire(get_membership(unit_of_work(request), current_actor(request), membership_id, now))  # type: ignore[no-any-return]


def _membership_limit(request: Request[Any, Any, Any], membership_id: int, body: bytes) -> dict[str, str]:
    hours = _body(request, body, _HOURS)["time_limit_hours"]
    user, _ = bus_of(request).handle(SetMembershipLimit(current_actor(request), membership_id, hours))
    name = user.full_name if user is not None else ""
    return {"message": f"Time limit for {name} set to {_hours_text(hours)} hours"}


def _remove_membership(request: Request[Any, Any, Any], membership_id: int) -> None:
    bus_of(request).handle(RemoveMembership(current_actor(request), membership_id))


def _list_invitations(request: Request[Any, Any, Any]) -> dict[str, Any]:
    actor = current_actor(request)
    views = list_invitations(
        unit_of_work(request),
        actor,
        proposal=query_value(request, "proposal"),
        pending=typed_query_value(request, "pending", bool),
    )
    return _paginated(request, views, actor)


def _read_invitation(request: Request[Any, Any, Any], invitation_id: int) -> dict[str, Any]:
    return to_wire(get_invitation(unit_of_work(request), current_actor(request), invitation_id))  # type: ignore[no-any-return]


def _withdraw_invitation(request: Request[Any, Any, Any], invitation_id: int) -> None:
    bus_of(request).handle(WithdrawInvitation(current_actor(request), invitation_id))


_MEMBERS: dict[str, Any] = {**_USER, "tags": ["memberships"]}


@get("/api/memberships/", **_MEMBERS)
async def memberships(request: Request[Any, Any, Any]) -> dict[str, Any]:
    """The caller's memberships and every membership of the proposals they lead; filters proposal, role,
    username, first_name, last_name, email."""
    return await in_thread(_list_memberships, request)  # type: ignore[no-any-return]


@get("/api/memberships/{membership_id:int}/", **_MEMBERS)
async def membership(request: Request[Any, Any, Any], membership_id: FromPath[int]) -> dict[str, Any]:
    """One membership the caller can see."""
    return await in_thread(_read_membership, request, membership_id)  # type: ignore[no-any-return]


@post("/api/memberships/{membership_id:int}/limit/", **{**_USER_WRITE, "tags": ["memberships"]})
async def membership_limit(
    request: Request[Any, Any, Any], membership_id: FromPath[int], body: RawBody
) -> dict[str, str]:
    """The PI sets a CI's time limit in hours (negative: no limit)."""
    return await in_thread(_membership_limit, request, membership_id, body)  # type: ignore[no-any-return]


@delete("/api/memberships/{membership_id:int}/", status_code=HTTP_204_NO_CONTENT, **_MEMBERS)
async def remove_membership(request: Request[Any, Any, Any], membership_id: FromPath[int]) -> None:
    """The PI removes a CI; the PI cannot be removed here."""
    await in_thread(_remove_membership, request, membership_id)


@get("/api/invitations/", **_MEMBERS)
async def invitations(request: Request[Any, Any, Any]) -> dict[str, Any]:
    """Invitations of the proposals the caller leads (all for staff-view); filters proposal, pending."""
    return await in_thread(_list_invitations, request)  # type: ignore[no-any-return]


@get("/api/invitations/{invitation_id:int}/", **_MEMBERS)
async def invitation(request: Request[Any, Any, Any], invitation_id: FromPath[int]) -> dict[str, Any]:
    """One invitation of a proposal the caller leads."""
    return await in_thread(_read_invitation, request, invitation_id)  # type: ignore[no-any-return]


@delete("/api/invitations/{invitation_id:int}/", status_code=HTTP_204_NO_CONTENT, **_MEMBERS)
async def withdraw_invitation(request: Request[Any, Any, Any], invitation_id: FromPath[int]) -> None:
    """The PI withdraws a pending invitation (a used one stays: no-op)."""
    await in_thread(_withdraw_invitation, request, invitation_id)


# ---------------------------------------------------------------------------------------------------------
# Time allocations (staff)


def _allocation_hours(fields: dict[str, Any]) -> dict[str, float]:
    return {name: value for name, value in fields.items() if name in _ALLOCATION_HOURS}


def _allocate(request: Request[Any, Any, Any], body: bytes) -> dict[str, Any]:
    fields = _body(request, body, _NEW_ALLOCATION)
    types = string_list(fields["instrument_types"], "instrument_types")
    command = AllocateTime(
        current_actor(request), fields["proposal"], fields["semester"], tuple(types), _allocation_hours(fields)
    )
    return allocation_view(bus_of(request).handle(command), fields["proposal"])


def _revise_allocation(request: Request[Any, Any, Any], allocation_id: int, body: bytes) -> dict[str, Any]:
    fields = _body(request, body, _ALLOCATION_EDIT, partial=True)
    types = string_list(fields["instrument_types"], "instrument_types") if "instrument_types" in fields else None
    command = ReviseAllocation(
        current_actor(request), allocation_id, _allocation_hours(fields), tuple(types) if types is not None else None
    )
    proposal, allocation = bus_of(request).handle(command)
    return allocation_view(allocation, proposal.id)


@post("/api/timeallocations/", status_code=HTTP_201_CREATED, tags=["semesters"], **_STAFF_WRITE)
async def allocate(request: Request[Any, Any, Any], body: RawBody) -> dict[str, Any]:
    """Give a proposal hours in a semester on a set of instrument types sharing one pool (staff)."""
    return await in_thread(_allocate, request, body)  # type: ignore[no-any-return]


@patch("/api/timeallocations/{allocation_id:int}/", status_code=HTTP_200_OK, tags=["semesters"], **_STAFF_WRITE)
async def revise_allocation(
    request: Request[Any, Any, Any], allocation_id: FromPath[int], body: RawBody
) -> dict[str, Any]:
    """Change an allocation's hours or instrument types (staff)."""
    return await in_thread(_revise_allocation, request, allocation_id, body)  # type: ignore[no-any-return]


ROUTES = [
    proposals,
    tags,
    proposal,
    create_proposal,
    edit_proposal,
    invite,
    global_limit,
    request_visibility,
    semesters,
    semester,
    semester_allocations,
    create_semester,
    edit_semester,
    memberships,
    membership,
    membership_limit,
    remove_membership,
    invitations,
    invitation,
    withdraw_invitation,
    allocate,
    revise_allocation,
]
