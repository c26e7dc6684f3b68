"""The reference world of requests.md 8.1 for the HTTP tests of request groups, built through the bus.

Clock 2016-09-01T00:00:00Z, the demo observatory, semesters 2016B and 2017A, users pi, ci, outsider, staffview
(and the conftest's ``staff``, staff without staff_view), TEST_PROPOSAL (pi's, ci a CI who sees every request),
OTHER_PROPOSAL (outsider's, public) and SLEEPY_PROPOSAL (pi's, inactive), each with allocations A1 (Sinistro)
and A2 (FLOYDS) in 2016B. Built once per session; every test gets a fresh copy in its own store.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import attrs
from dependency_injector import providers

from adapters.memory import MemoryStore, copy_proposal
from application.commands import AddMember, AllocateTime, CreateProposal, CreateSemester, IssueToken
from application.handlers.accounts import CreateUser
from domain.permissions import Actor
from domain.proposals import TimeAllocation
from entrypoints.container import Container
from tests.reference import P0 as P0  # re-exported: the request-group API tests import it from here
from tests.reference import p0

NOW = datetime(2016, 9, 1, tzinfo=UTC)
TEST, OTHER, SLEEPY = "TEST_PROPOSAL", "OTHER_PROPOSAL", "SLEEPY_PROPOSAL"
SINISTRO, FLOYDS = "1M0-SCICAM-SINISTRO", "2M0-FLOYDS-SCICAM"
REFERENCE_HOURS = {
    "std_allocation": 100.0,
    "rr_allocation": 10.0,
    "tc_allocation": 10.0,
    "realtime_allocation": 0.0,
    "ipp_limit": 10.0,
    "ipp_time_available": 5.0,
}
PEOPLE: dict[str, dict[str, Any]] = {
    "pi": {"email": "pi@example.org", "first_name": "Ada", "last_name": "Lovelace"},
    "ci": {"email": "ci@example.org", "first_name": "Charles", "last_name": "Babbage"},
    "outsider": {"email": "outsider@example.org"},
    "staffview": {"email": "staffview@example.org", "is_staff": True, "staff_view": True},
}


def floyds(**changes: Any) -> dict[str, Any]:
    """P0-FLOYDS: the 2 m spectrograph with a slit."""
    body = p0(**changes)
    request = body["requests"][0]
    request["location"]["telescope_class"] = "2m0"
    configuration = request["configurations"][0]
    configuration.update(instrument_type=FLOYDS, type="SPECTRUM")
    configuration["instrument_configs"][0]["optical_elements"] = {"slit": "slit_6.0as"}
    return body


def configuration_of(body: dict[str, Any]) -> dict[str, Any]:
    """The first configuration of the first request, to change in place."""
    return body["requests"][0]["configurations"][0]  # type: ignore[no-any-return]


@attrs.frozen
class World:
    """Tokens and ids of the world, the same in every copy, and the store of this test."""

    tokens: dict[str, str]
    user_ids: dict[str, int]
    store: MemoryStore

    def headers(self, username: str) -> dict[str, str]:
        return {"Authorization": f"Token {self.tokens[username]}"}

    def allocation(self, proposal: str = TEST, instrument_type: str = SINISTRO) -> TimeAllocation:
        """The committed allocation (A1 by default); changing it changes the store."""
        found = self.store.proposals[proposal].allocation_for("2016B", instrument_type)
        assert found is not None
        return found

    def state(self) -> dict[str, Any]:
        """Everything the store holds about accounts, proposals, hours and request groups, to show that a refusal
        changed nothing."""

        def fields(obj: Any) -> dict[str, Any]:
            return attrs.asdict(obj, filter=lambda attribute, _: attribute.name != "events")

        return {
            "users": {key: fields(user) for key, user in self.store.users.items()},
            "semesters": {key: fields(semester) for key, semester in self.store.semesters.items()},
            "proposals": {key: fields(proposal) for key, proposal in self.store.proposals.items()},
            "request_groups": {key: fields(group) for key, group in self.store.request_groups.items()},
            "changes": len(self.store.changes),
        }


def _build(container: Container) -> None:
    bus, operator = container.bus(), Actor.operator()
    for username, details in PEOPLE.items():
        user = bus.handle(CreateUser(username, f"{username}-password", **details))
        bus.handle(IssueToken(user.id))
    bus.handle(CreateSemester(operator, "2016B", NOW, datetime(2016, 12, 31, tzinfo=UTC)))
    bus.handle(CreateSemester(operator, "2017A", datetime(2017, 1, 1, tzinfo=UTC), datetime(2017, 7, 1, tzinfo=UTC)))
    for proposal_id, pi, values in (
        (TEST, "pi", {"title": "Test proposal", "cis_see_all_requests": True}),
        (OTHER, "outsider", {"title": "Other proposal", "public": True}),
        (SLEEPY, "pi", {"title": "Sleepy proposal", "active": False}),
    ):
        bus.handle(CreateProposal(operator, proposal_id, values, (pi,)))
        for instrument_type in (SINISTRO, FLOYDS):
            bus.handle(AllocateTime(operator, proposal_id, "2016B", (instrument_type,), REFERENCE_HOURS))
    bus.handle(AddMember(operator, TEST, "ci", "CI"))


def _copy_into(target: MemoryStore, source: MemoryStore) -> None:
    target.users = {key: attrs.evolve(user) for key, user in source.users.items()}
    target.semesters = {key: attrs.evolve(semester) for key, semester in source.semesters.items()}
    target.proposals = {key: copy_proposal(proposal) for key, proposal in source.proposals.items()}
    target.request_groups = {}
    target.next_ids.clear()
    target.next_ids.update(source.next_ids)


_BUILT: dict[str, MemoryStore] = {}


def load_world(container: Container) -> Iterator[World]:
    """The world in this test's store (a generator for a test module's ``world`` fixture to ``yield from``)."""
    store = container.memory_store()
    if "store" not in _BUILT:
        _build(container)
        snapshot = MemoryStore()
        _copy_into(snapshot, store)
        _BUILT["store"] = snapshot
    else:
        _copy_into(store, _BUILT["store"])
    yield World(
        tokens={u.username: u.api_token for u in store.users.values() if u.api_token},
        user_ids={u.username: u.id for u in store.users.values() if u.id is not None},
        store=store,
    )


GROUPS = "/api/requestgroups/"
VALIDATE = "/api/requestgroups/validate/"
MAX_IPP = "/api/requestgroups/max_allowable_ipp/"
REQUESTS = "/api/requests/"


def submitted(client: Any, world: World, body: dict[str, Any], who: str = "pi") -> dict[str, Any]:
    """Submit a group that must be accepted; its echo."""
    response = client.post(GROUPS, json=body, headers=world.headers(who))
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


@contextmanager
def unchanged(world: World) -> Iterator[None]:
    """The store (groups, proposals with their hours and IPP, users) is the same after the block."""
    before = world.state()
    yield
    assert world.state() == before


def refusal(client: Any, world: World, body: Any, who: str | None = "pi", path: str = GROUPS) -> tuple[int, Any]:
    """POST a body that must change nothing; its status and JSON."""
    headers = world.headers(who) if who else {}
    with unchanged(world):
        response = client.post(path, json=body, headers=headers)
    return response.status_code, response.json()


def sky_check_unless_asked(container: Container, fixturenames: list[str]) -> Iterator[None]:
    """Switch the sky check of requests.md 3.8 off for a test that does not ask for ``real_sky``: the astropy
    adapter costs about half a second per submission and has its own tests, so only the tests about the sky
    pay for it (a generator for a test module's autouse fixture to ``yield from``)."""
    if "real_sky" in fixturenames:
        yield
        return
    container.visibility_hooks.override(providers.Object(None))
    yield
    container.visibility_hooks.reset_last_overriding()
