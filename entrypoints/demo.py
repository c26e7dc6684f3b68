"""The demo: the shipped demo observatory, users, semesters, proposals and downtimes around today, loaded
idempotently (each start adds only what is missing, so a restart on the same database duplicates nothing)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from importlib import resources
from typing import Any

from attrs import frozen

from application.commands import (
    AddMember,
    AllocateTime,
    CreateProposal,
    CreateSemester,
    ImportObservatory,
    UpdateProfile,
)
from application.handlers.accounts import CreateUser
from application.handlers.downtime import create_demo_downtimes
from application.observatory_views import schedulable_instrument_types
from domain.errors import ValidationError
from domain.permissions import Actor
from domain.proposals import Role
from entrypoints.container import Container


@frozen
class DemoUser:
    username: str
    password: str
    first_name: str
    last_name: str
    staff: bool = False

    @property
    def email(self) -> str:
        return f"{self.username}@example.org"


@frozen
class DemoProposal:
    id: str
    title: str
    abstract: str
    pi: str
    # (username, role, time limit in seconds; -1 = unlimited)
    members: tuple[tuple[str, str, int], ...] = ()


DEMO_USERS = (
    DemoUser("demo", "demo", "Demo", "Astronomer"),
    DemoUser("demo-ci", "demo-ci", "Demo", "Collaborator"),
    DemoUser("other", "other", "Other", "Astronomer"),
    # Staff with staff view, as the software that runs a network uses (requests.md 1.8): it sees everything.
    DemoUser("admin", "admin", "Demo", "Administrator", staff=True),
)
CI_LIMIT_S = 10 * 3600
DEMO_PROPOSALS = (
    DemoProposal(
        "DEMO-001",
        "Demo proposal",
        "Observations of the demo user, on every schedulable instrument type of the demo network.",
        "demo",
        (("demo-ci", Role.CI.value, CI_LIMIT_S),),
    ),
    DemoProposal(
        "OTHER-001",
        "Another team's proposal",
        "A proposal the demo user is not a member of: its requests and details stay hidden from demo.",
        "other",
    ),
)
# One pool per schedulable instrument type, in both demo semesters (IPP given, not defaulted).
DEMO_HOURS = {
    "std_allocation": 100.0,
    "rr_allocation": 10.0,
    "tc_allocation": 10.0,
    "ipp_limit": 10.0,
    "ipp_time_available": 5.0,
}


def demo_document() -> dict[str, Any]:
    """The demo observatory document shipped inside the package."""
    text = resources.files("entrypoints.data").joinpath("demo-observatory.json").read_text(encoding="utf-8")
    document: dict[str, Any] = json.loads(text)
    return document


def lco_semester(moment: datetime) -> tuple[str, datetime, datetime]:
    """The LCO semester containing the moment: A = Feb 1 - Aug 1, B = Aug 1 - Feb 1 of the next year (UTC)."""
    moment = moment.astimezone(UTC)
    year = moment.year
    if moment.month >= 8:
        return f"{year}B", datetime(year, 8, 1, tzinfo=UTC), datetime(year + 1, 2, 1, tzinfo=UTC)
    if moment.month >= 2:
        return f"{year}A", datetime(year, 2, 1, tzinfo=UTC), datetime(year, 8, 1, tzinfo=UTC)
    return f"{year - 1}B", datetime(year - 1, 8, 1, tzinfo=UTC), datetime(year, 2, 1, tzinfo=UTC)


def demo_semesters(now: datetime) -> list[tuple[str, datetime, datetime]]:
    """The semester containing now and the one after it."""
    current = lco_semester(now)
    return [current, lco_semester(current[2])]


def load_demo(container: Container) -> list[str]:
    """Load what the demo needs, creating only what is missing; returns lines to show the operator."""
    bus = container.bus()
    document = demo_document()
    plan = bus.handle(ImportObservatory(document, actor="demo"))
    lines = [f"demo observatory: {plan.summary()}"]
    lines.append(_load_users(container))
    semester_ids, semester_line = _load_semesters(container)
    lines.append(semester_line)
    lines.extend(_load_proposals(container, semester_ids))
    created = create_demo_downtimes(container.uow_factory()(), container.clock(), document.get("demo_downtimes", []))
    lines.append(f"demo downtimes: created {created}")
    lines.append("demo credentials (user / password):")
    lines.extend(f"  {user.username + ' / ' + user.password:<20} {role}" for user, role in _roles().items())
    return lines


def _roles() -> dict[DemoUser, str]:
    pis = {demo.pi: demo.id for demo in DEMO_PROPOSALS}
    members = {name: (demo.id, limit_s) for demo in DEMO_PROPOSALS for name, _, limit_s in demo.members}
    roles: dict[DemoUser, str] = {}
    for user in DEMO_USERS:
        if user.staff:
            roles[user] = "staff with staff view: sees every proposal"
        elif user.username in pis:
            roles[user] = f"PI of {pis[user.username]}"
        elif user.username in members:
            proposal_id, limit_s = members[user.username]
            roles[user] = f"CI of {proposal_id}, time limit {limit_s / 3600:g} h"
    return roles


def _load_users(container: Container) -> str:
    bus = container.bus()
    uow_factory = container.uow_factory()
    created: list[str] = []
    for user in DEMO_USERS:
        with uow_factory() as uow:
            existing = uow.users.get_by_username(user.username)
        if existing is None:
            bus.handle(
                CreateUser(
                    user.username,
                    user.password,
                    email=user.email,
                    is_staff=user.staff,
                    first_name=user.first_name,
                    last_name=user.last_name,
                    staff_view=user.staff,
                )
            )
            created.append(user.username)
        elif user.staff and existing.staff and not existing.staff_view and existing.id is not None:
            # Databases seeded by earlier versions have an admin without staff view: switch it on.
            bus.handle(UpdateProfile(existing.id, {}, {"staff_view": True}))
            created.append(f"{user.username} (staff view switched on)")
    return f"demo users: {'created ' + ', '.join(created) if created else 'all present'}"


def _load_semesters(container: Container) -> tuple[list[str], str]:
    """Create the current and next LCO semesters if missing; the ids that exist afterwards, and a line."""
    bus = container.bus()
    uow_factory = container.uow_factory()
    present: list[str] = []
    notes: list[str] = []
    for semester_id, start, end in demo_semesters(container.clock().now()):
        with uow_factory() as uow:
            exists = uow.semesters.get(semester_id) is not None
        if exists:
            present.append(semester_id)
            notes.append(f"{semester_id} present")
            continue
        try:
            bus.handle(CreateSemester(Actor.operator(), semester_id, start, end))
        except ValidationError as error:
            # Someone defined their own semesters over these dates: keep theirs, say why ours is missing.
            notes.append(f"{semester_id} skipped ({error})")
            continue
        present.append(semester_id)
        notes.append(f"{semester_id} created ({start:%Y-%m-%d} to {end:%Y-%m-%d})")
    return present, f"demo semesters: {', '.join(notes)}"


def _load_proposals(container: Container, semester_ids: list[str]) -> list[str]:
    bus = container.bus()
    uow_factory = container.uow_factory()
    operator = Actor.operator()
    with uow_factory() as uow:
        types = schedulable_instrument_types(uow.observatory.get())
    lines: list[str] = []
    for demo in DEMO_PROPOSALS:
        with uow_factory() as uow:
            proposal = uow.proposals.get(demo.id)
        created = proposal is None
        if proposal is None:
            values = {"title": demo.title, "abstract": demo.abstract, "tac_priority": 10}
            proposal = bus.handle(CreateProposal(operator, demo.id, values, [demo.pi]))
        members_added = 0
        for username, role, limit_s in demo.members:
            with uow_factory() as uow:
                user = uow.users.get_by_username(username)
            if user is not None and proposal.membership_of(user.id) is None:
                proposal = bus.handle(AddMember(operator, demo.id, username, role, limit_s))
                members_added += 1
        allocations = 0
        for semester_id in semester_ids:
            for code in types:
                if proposal.allocation_for(semester_id, code) is None:
                    bus.handle(AllocateTime(operator, demo.id, semester_id, [code], DEMO_HOURS))
                    allocations += 1
        lines.append(
            f"demo proposal {demo.id} ({'created' if created else 'present'}, PI {demo.pi}): "
            f"{members_added} member(s) and {allocations} allocation(s) added"
        )
    lines.append(
        f"demo allocations: {DEMO_HOURS['std_allocation']:g} h std each in {', '.join(semester_ids) or 'no semester'} "
        f"on {', '.join(types) or 'no schedulable instrument type'}"
    )
    return lines
