"""Drafts of request groups over HTTP (api.md 4.4): the web form's saved work, shared by a proposal's members.

Thin on purpose: who may read or change a draft is the permission table's (domain.permissions), asked by the
use cases; the shape is the read side's (application.draft_views).
"""

from __future__ import annotations

from functools import partial
from typing import Any

from litestar import Request, delete, get, patch, post, put
from litestar.params import FromPath, RawBody
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_204_NO_CONTENT

from adapters.serialization import FieldSpec, structure_fields
from application.commands import DiscardDraft, ReviseDraft, WriteDraft
from application.draft_views import check_editable, describe_draft, get_draft, list_drafts
from domain.drafts import field_errors
from domain.errors import ErrorTree, ValidationError, merge_errors
from entrypoints.http.auth import current_actor, signed_in
from entrypoints.http.errors import PORTAL_BODY_LIMIT
from entrypoints.http.wire import bus_of, in_thread, json_body, page, page_bounds, to_wire, unit_of_work

PATH = "/api/drafts/"
TAGS = ["drafts"]
DEFAULT_PAGE, MAX_PAGE = 10, 1000

# The proposal is any JSON scalar naming a proposal (a number is looked up as its text, as upstream).
_FIELDS = {
    "proposal": FieldSpec(Any, required=True),
    "title": FieldSpec(str, required=True),
    "content": FieldSpec(str, required=True),
}


def _proposal_key(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValidationError.on("proposal", f"Incorrect type. Expected pk value, received {type(value).__name__}.")
    return str(value)


def _values(request: Request[Any, Any, Any], body: bytes, *, partial: bool) -> dict[str, Any]:
    """The draft fields of a body as command values (``proposal_id``, ``title``, ``content``).

    Every field's messages come in one answer, as upstream's serializer gives them: a missing title is reported
    together with content that is not JSON, so the domain's field rules run here on every field that parsed
    (and again in the use case, for callers that do not come through HTTP).
    """
    data = json_body(request, body)
    errors: ErrorTree = {}
    try:
        fields = structure_fields(data, _FIELDS, partial=partial)
    except ValidationError as error:
        if not isinstance(data, dict):
            raise
        errors = error.errors
        parsed = {name: value for name, value in data.items() if name in _FIELDS and name not in errors}
        fields = structure_fields(parsed, _FIELDS, partial=True)
    if "proposal" in fields:
        try:
            fields["proposal"] = _proposal_key(fields["proposal"])
        except ValidationError as error:
            merge_errors(errors, error.errors)
            del fields["proposal"]
    # Surrounding whitespace is dropped before any check, as upstream's text fields do.
    texts: dict[str, str] = {name: fields[name].strip() for name in ("title", "content") if name in fields}
    merge_errors(errors, {name: messages for name, messages in field_errors(texts).items() if name not in errors})
    if errors:
        raise ValidationError(errors)
    values = {"proposal_id": fields["proposal"]} if "proposal" in fields else {}
    return values | texts


def _list(request: Request[Any, Any, Any]) -> dict[str, Any]:
    actor = current_actor(request)
    limit, offset = page_bounds(request, DEFAULT_PAGE, MAX_PAGE, anonymous=not actor.authenticated)
    count, views = list_drafts(unit_of_work(request), actor, limit=limit, offset=offset)
    return page(request, count, to_wire(views), limit, offset)


def _read(request: Request[Any, Any, Any], draft_id: int) -> dict[str, Any]:
    return to_wire(get_draft(unit_of_work(request), current_actor(request), draft_id))  # type: ignore[no-any-return]


def _write(request: Request[Any, Any, Any], body: bytes) -> dict[str, Any]:
    values = _values(request, body, partial=False)
    draft = bus_of(request).handle(WriteDraft(current_actor(request), **values))
    return to_wire(describe_draft(unit_of_work(request), draft))  # type: ignore[no-any-return]


def _revise(request: Request[Any, Any, Any], draft_id: int, body: bytes, *, full: bool) -> dict[str, Any]:
    actor = current_actor(request)
    # Not found and denied come before a bad body, as upstream looks the draft up first.
    check_editable(unit_of_work(request), actor, draft_id)
    values = _values(request, body, partial=not full)
    draft = bus_of(request).handle(ReviseDraft(actor, draft_id, values))
    return to_wire(describe_draft(unit_of_work(request), draft))  # type: ignore[no-any-return]


def _discard(request: Request[Any, Any, Any], draft_id: int) -> None:
    bus_of(request).handle(DiscardDraft(current_actor(request), draft_id))


_READ: dict[str, Any] = {"guards": [signed_in], "tags": TAGS}
_WRITE: dict[str, Any] = {**_READ, "request_max_body_size": PORTAL_BODY_LIMIT}


@get(PATH, **_READ)
async def drafts(request: Request[Any, Any, Any]) -> dict[str, Any]:
    """The drafts of the caller's proposals (every one for staff-view), most recently modified first."""
    return await in_thread(_list, request)  # type: ignore[no-any-return]


@post(PATH, status_code=HTTP_201_CREATED, **_WRITE)
async def write_draft(request: Request[Any, Any, Any], body: RawBody) -> dict[str, Any]:
    """Save a draft (``proposal``, ``title`` of at most 50 characters, ``content`` as JSON text) in a proposal the
    caller is a member of; the caller is its author, with one draft per title and proposal."""
    return await in_thread(_write, request, body)  # type: ignore[no-any-return]


@get(PATH + "{draft_id:int}/", **_READ)
async def draft(request: Request[Any, Any, Any], draft_id: FromPath[int]) -> dict[str, Any]:
    """One draft of the caller's proposals; another proposal's is not found."""
    return await in_thread(_read, request, draft_id)  # type: ignore[no-any-return]


@put(PATH + "{draft_id:int}/", status_code=HTTP_200_OK, **_WRITE)
async def replace_draft(request: Request[Any, Any, Any], draft_id: FromPath[int], body: RawBody) -> dict[str, Any]:
    """Replace a draft's proposal, title and content (all required); its author stays."""
    return await in_thread(partial(_revise, full=True), request, draft_id, body)  # type: ignore[no-any-return]


@patch(PATH + "{draft_id:int}/", status_code=HTTP_200_OK, **_WRITE)
async def update_draft(request: Request[Any, Any, Any], draft_id: FromPath[int], body: RawBody) -> dict[str, Any]:
    """Change some of a draft's proposal, title and content; the result obeys the rules of a new draft."""
    return await in_thread(partial(_revise, full=False), request, draft_id, body)  # type: ignore[no-any-return]


@delete(PATH + "{draft_id:int}/", status_code=HTTP_204_NO_CONTENT, **_READ)
async def discard_draft(request: Request[Any, Any, Any], draft_id: FromPath[int]) -> None:
    """Delete a draft of one of the caller's proposals."""
    await in_thread(_discard, request, draft_id)


ROUTES = [drafts, write_draft, draft, replace_draft, update_draft, discard_draft]
