"""A small portal world for the HTTP tests of accounts and proposals, built through the bus as the operator.

Two semesters (2026B is current at the fixed clock, 2027A next), four users beside the conftest's ``staff`` and
``user``: ``pi`` and ``ci`` of LCO2026B-001, ``outsider`` who leads OTHER, and ``staffview`` (staff with
staff_view). The pi also leads an inactive proposal. Hashing passwords is the slow part, so the world is built
once per session and every test gets a fresh copy in its own store.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import attrs
from dependency_injector import providers
from litestar import Litestar
from litestar.testing import TestClient

from adapters.memory import InMemoryMailer, MemoryStore, copy_proposal
from application.commands import (
    AddMember,
    AllocateTime,
    CreateProposal,
    CreateSemester,
    InviteMembers,
    IssueToken,
)
from application.handlers.accounts import CreateUser
from domain.permissions import Actor
from entrypoints.container import Container

MAIN, OTHER, OLD = "LCO2026B-001", "OTHER", "LCO2025A-OLD"
SINISTRO, FLOYDS, MUSCAT, QHY, NRES = (
    "1M0-SCICAM-SINISTRO",
    "2M0-FLOYDS-SCICAM",
    "2M0-SCICAM-MUSCAT",
    "0M4-SCICAM-QHY600",
    "1M0-NRES-SCICAM",
)
PEOPLE: dict[str, dict[str, Any]] = {
    "pi": {"email": "ada@example.org", "first_name": "Ada", "last_name": "Lovelace"},
    "ci": {"email": "charles@example.org", "first_name": "Charles", "last_name": "Babbage"},
    "outsider": {"email": "olive@example.org", "first_name": "Olive", "last_name": "Outsider"},
    "staffview": {"email": "sv@example.org", "is_staff": True, "staff_view": True},
}
Client = TestClient[Litestar]
NOT_PROVIDED = {"detail": "Authentication credentials were not provided."}
INVALID_TOKEN = {"detail": "Invalid token."}
FORBIDDEN = {"detail": "You do not have permission to perform this action."}
NOT_FOUND = {"detail": "Not found."}


@attrs.frozen
class World:
    """Ids and credentials of the world, the same in every copy."""

    user_ids: dict[str, int]
    tokens: dict[str, str]
    membership_ids: dict[tuple[str, str], int]  # (proposal, username) -> membership id
    invitation_ids: dict[str, int]  # proposal -> its pending invitation
    allocation_ids: dict[tuple[str, str, str], int]  # (proposal, semester, first instrument type) -> id
    outbox: InMemoryMailer

    def headers(self, username: str) -> dict[str, str]:
        return {"Authorization": f"Token {self.tokens[username]}"}


def _build(container: Container) -> None:
    bus, operator = container.bus(), Actor.operator()
    ids = {}
    for username, details in PEOPLE.items():
        ids[username] = bus.handle(CreateUser(username, f"{username}-password", **details)).id
        bus.handle(IssueToken(ids[username]))
    bus.handle(CreateSemester(operator, "2026B", datetime(2026, 8, 1, tzinfo=UTC), datetime(2027, 2, 1, tzinfo=UTC)))
    bus.handle(CreateSemester(operator, "2027A", datetime(2027, 2, 1, tzinfo=UTC), datetime(2027, 8, 1, tzinfo=UTC)))
    main = {
        "title": "Comets of the outer system",
        "abstract": "Nuclei and comae.",
        "tags": ["solar-system", "comets"],
        "tac_priority": 10,
        "tac_rank": 2,
        "notes": "Staff only: renewed twice.",
    }
    bus.handle(CreateProposal(operator, MAIN, main, ("pi",)))
    bus.handle(AddMember(operator, MAIN, "ci", "CI"))
    bus.handle(AllocateTime(operator, MAIN, "2026B", (SINISTRO,), {"std_allocation": 100.0, "rr_allocation": 10.0}))
    bus.handle(AllocateTime(operator, MAIN, "2026B", (FLOYDS, MUSCAT), {"std_allocation": 20.0}))
    bus.handle(AllocateTime(operator, MAIN, "2027A", (QHY,), {"std_allocation": 5.0}))
    bus.handle(InviteMembers(Actor(ids["pi"]), MAIN, ("newcomer@example.org",), 3600))
    other = {"title": "Other people's galaxies", "tags": ["galaxies"], "tac_priority": 5, "public": True}
    bus.handle(CreateProposal(operator, OTHER, other, ("olive@example.org",)))
    bus.handle(AllocateTime(operator, OTHER, "2026B", (NRES,), {"std_allocation": 7.0}))
    bus.handle(InviteMembers(Actor(ids["outsider"]), OTHER, ("stranger@example.org",)))
    bus.handle(CreateProposal(operator, OLD, {"title": "Old work", "active": False}, ("pi",)))


def _copy_into(target: MemoryStore, source: MemoryStore) -> None:
    target.users = {key: attrs.evolve(user) for key, user in source.users.items()}
    target.semesters = {key: attrs.evolve(semester) for key, semester in source.semesters.items()}
    target.proposals = {key: copy_proposal(proposal) for key, proposal in source.proposals.items()}
    target.next_ids.clear()
    target.next_ids.update(source.next_ids)


def _describe(store: MemoryStore, outbox: InMemoryMailer) -> World:
    user_ids = {u.username: u.id for u in store.users.values() if u.id is not None}
    names = {u.id: u.username for u in store.users.values()}
    return World(
        user_ids=user_ids,
        tokens={u.username: u.api_token for u in store.users.values() if u.api_token},
        membership_ids={
            (p.id, names[m.user_id]): m.id for p in store.proposals.values() for m in p.memberships if m.id
        },
        invitation_ids={p.id: i.id for p in store.proposals.values() for i in p.invitations if i.id},
        allocation_ids={
            (p.id, a.semester_id, a.instrument_types[0]): a.id
            for p in store.proposals.values()
            for a in p.allocations
            if a.id
        },
        outbox=outbox,
    )


# The world as first built, kept for the rest of the session and shared by every test module that loads it.
_BUILT: dict[str, MemoryStore] = {}


def load_world(container: Container) -> Iterator[World]:
    """The world in this test's store, with an outbox that records the emails sent from now on.

    A generator for a test module's ``world`` fixture to ``yield from`` (fixtures imported across modules
    would shadow their own parameter names)."""
    outbox = InMemoryMailer()
    container.mailer.override(providers.Object(outbox))
    container.bus.reset()  # the bus captured the previous mailer
    store = container.memory_store()
    if "store" not in _BUILT:
        _build(container)
        snapshot = MemoryStore()
        _copy_into(snapshot, store)
        _BUILT["store"] = snapshot
        outbox.outbox.clear()
    else:
        _copy_into(store, _BUILT["store"])
    yield _describe(store, outbox)
    container.mailer.reset_override()


def stored_state(container: Container) -> dict[str, Any]:
    """Everything the portal stores about accounts and proposals, to show that a refusal changed nothing."""
    store = container.memory_store()

    def fields(obj: Any) -> dict[str, Any]:
        return attrs.asdict(obj, filter=lambda attribute, _: attribute.name != "events")

    return {
        "users": {key: fields(user) for key, user in store.users.items()},
        "semesters": {key: fields(semester) for key, semester in store.semesters.items()},
        "proposals": {key: fields(proposal) for key, proposal in store.proposals.items()},
    }


def ok(response: Any, status: int = 200) -> Any:
    """The JSON of a response that must have this status."""
    assert response.status_code == status, response.text
    return response.json()


def refused(response: Any) -> tuple[int, Any]:
    """Status and body together, to compare a refusal with one assertion."""
    return response.status_code, response.json()


def result_ids(response: Any) -> list[Any]:
    """The ids of a paginated answer's results, in order."""
    return [item["id"] for item in ok(response)["results"]]
