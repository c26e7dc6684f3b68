"""Semesters, proposals, members and allocations through the message bus with the in-memory adapters.

Each refusal is checked twice: the error the caller gets, and that the store is exactly as it was.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from adapters.auth import Argon2PasswordHasher, SecretsTokenIssuer
from adapters.clock import FixedClock
from adapters.memory import InMemoryMailer, InMemoryUnitOfWork, MemoryStore, copy_proposal
from application import proposal_views as views
from application.commands import (
    AddMember,
    AllocateTime,
    CreateProposal,
    CreateSemester,
    EditProposal,
    ImportTacResult,
    InviteMembers,
    RemoveMembership,
    RevokeToken,
    SetGlobalLimit,
    SetMembershipLimit,
    UpdateProfile,
    WithdrawInvitation,
)
from application.handlers import accounts, proposals
from application.handlers.accounts import CreateUser
from application.messagebus import MessageBus
from domain.errors import AuthenticationError, NotFoundError, PermissionDeniedError, ValidationError
from domain.permissions import Actor
from domain.proposals import Role
from tests.unit.domain.test_downtime import small_observatory

NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)
OPERATOR = Actor.operator()
SINISTRO, FLOYDS = "1M0-SCICAM-SINISTRO", "2M0-FLOYDS-SCICAM"


class World:
    """A store with the small observatory, semesters 2026B and 2027A, and users pi, ci, outsider, staff."""

    def __init__(self) -> None:
        self.store = MemoryStore()
        self.mailer = InMemoryMailer()
        self.clock = FixedClock(NOW)
        self.bus = MessageBus(
            uow_factory=self.uow,
            command_handlers={**accounts.COMMAND_HANDLERS, **proposals.COMMAND_HANDLERS},
            event_handlers=proposals.EVENT_HANDLERS,
            dependencies={
                "clock": self.clock,
                "password_hasher": Argon2PasswordHasher(time_cost=1),
                "token_issuer": SecretsTokenIssuer(),
                "mailer": self.mailer,
            },
        )
        with self.uow() as uow:
            uow.observatory.save(small_observatory())
            uow.commit()
        self.ids: dict[str, int] = {}
        for name, staff, staff_view in (
            ("pi", False, False),
            ("ci", False, False),
            ("outsider", False, False),
            ("staff", True, False),
            ("staffview", True, True),
        ):
            user = self.bus.handle(
                CreateUser(name, "pw", email=f"{name}@example.org", is_staff=staff, staff_view=staff_view)
            )
            self.ids[name] = user.id
        self.bus.handle(
            CreateSemester(OPERATOR, "2026B", datetime(2026, 8, 1, tzinfo=UTC), datetime(2027, 2, 1, tzinfo=UTC))
        )
        self.bus.handle(
            CreateSemester(OPERATOR, "2027A", datetime(2027, 2, 1, tzinfo=UTC), datetime(2027, 8, 1, tzinfo=UTC))
        )
        self.bus.handle(CreateProposal(OPERATOR, "TEST", {"title": "Test"}, ["pi"]))
        self.bus.handle(AddMember(OPERATOR, "TEST", "ci", "CI"))
        self.bus.handle(CreateProposal(OPERATOR, "OTHER", {"public": True, "tags": ["x"]}, ["outsider@example.org"]))
        self.bus.handle(AllocateTime(OPERATOR, "TEST", "2026B", [SINISTRO], {"std_allocation": 100}))

    def uow(self) -> InMemoryUnitOfWork:
        return InMemoryUnitOfWork(self.store)

    def actor(self, name: str) -> Actor:
        return Actor.of(self.store.users[self.ids[name]])

    def snapshot(self) -> Any:
        """Everything a refused command must leave untouched."""
        return (
            {
                key: views.proposal_view(copy_proposal(p), self.store.users, OPERATOR)
                for key, p in self.store.proposals.items()
            },
            {key: [m.__dict__.copy() for m in p.memberships] for key, p in self.store.proposals.items()},
            {key: [i.__dict__.copy() for i in p.invitations] for key, p in self.store.proposals.items()},
            {key: (s.start, s.end) for key, s in self.store.semesters.items()},
        )

    def membership_id(self, proposal: str, user: str) -> int:
        membership = self.store.proposals[proposal].membership_of(self.ids[user])
        assert membership is not None
        assert membership.id is not None
        return membership.id


@pytest.fixture(scope="module")
def _template() -> World:
    return World()


@pytest.fixture
def world(_template: World) -> World:
    # Hashing passwords is the slow part of building a world; each test gets its own copy of the store.
    fresh = World.__new__(World)
    fresh.__dict__.update(_template.__dict__)
    fresh.store = _template.store.copy()
    fresh.store.next_ids = dict(_template.store.next_ids)
    fresh.mailer = InMemoryMailer()
    fresh.bus = MessageBus(
        uow_factory=fresh.uow,
        command_handlers={**accounts.COMMAND_HANDLERS, **proposals.COMMAND_HANDLERS},
        event_handlers=proposals.EVENT_HANDLERS,
        dependencies={
            "clock": fresh.clock,
            "password_hasher": Argon2PasswordHasher(time_cost=1),
            "token_issuer": SecretsTokenIssuer(),
            "mailer": fresh.mailer,
        },
    )
    return fresh


def refused(world: World, command: object, error: type[Exception]) -> Exception:
    before = world.snapshot()
    with pytest.raises(error) as caught:
        world.bus.handle(command)
    assert world.snapshot() == before
    return caught.value


# -- staff -------------------------------------------------------------------------------------------------


def test_only_staff_create_semesters_and_overlaps_are_refused(world: World) -> None:
    start, end = datetime(2027, 7, 1, tzinfo=UTC), datetime(2028, 1, 1, tzinfo=UTC)
    refused(world, CreateSemester(world.actor("pi"), "2027B", start, end), PermissionDeniedError)
    refused(world, CreateSemester(Actor.anonymous(), "2027B", start, end), AuthenticationError)
    error = refused(world, CreateSemester(OPERATOR, "2027B", start, end), ValidationError)
    assert error.errors == {"non_field_errors": ["Semester 2027B overlaps 2027A"]}  # type: ignore[attr-defined]
    world.bus.handle(CreateSemester(world.actor("staff"), "2027B", datetime(2027, 8, 1, tzinfo=UTC), end))
    assert [s["id"] for s in views.list_semesters(world.uow())] == ["2027B", "2027A", "2026B"]


def test_a_proposal_needs_existing_pis(world: World) -> None:
    error = refused(world, CreateProposal(OPERATOR, "NEW", {}, ["nobody@example.org"]), ValidationError)
    assert "No user nobody@example.org" in str(error)


def test_editing_a_proposal_is_staff_work(world: World) -> None:
    refused(world, EditProposal(world.actor("pi"), "TEST", {"title": "Mine"}), PermissionDeniedError)
    refused(world, EditProposal(world.actor("outsider"), "TEST", {"title": "Mine"}), NotFoundError)
    error = refused(world, EditProposal(OPERATOR, "TEST", {"id": "RENAMED"}), ValidationError)
    assert error.errors == {"id": ["Proposal id cannot be changed"]}  # type: ignore[attr-defined]
    world.bus.handle(EditProposal(world.actor("staff"), "TEST", {"title": "Renamed title", "notes": "n"}))
    assert world.store.proposals["TEST"].title == "Renamed title"


def test_allocations_need_a_known_semester_and_type(world: World) -> None:
    refused(world, AllocateTime(OPERATOR, "TEST", "1999A", [FLOYDS], {}), ValidationError)
    error = refused(world, AllocateTime(OPERATOR, "TEST", "2026B", ["NOPE"], {}), ValidationError)
    assert error.errors == {"instrument_types": ["Unknown instrument type NOPE"]}  # type: ignore[attr-defined]
    refused(world, AllocateTime(OPERATOR, "TEST", "2026B", [SINISTRO], {}), ValidationError)
    refused(world, AllocateTime(world.actor("pi"), "TEST", "2026B", [FLOYDS], {}), PermissionDeniedError)
    allocation = world.bus.handle(AllocateTime(OPERATOR, "TEST", "2026B", [FLOYDS.lower()], {"rr_allocation": 3}))
    assert allocation.id is not None
    assert world.store.proposals["TEST"].allocation_for("2026B", FLOYDS).rr_allocation == 3  # type: ignore[union-attr]


def test_a_tac_import_is_all_or_nothing(world: World) -> None:
    good = {
        "id": "TAC-1",
        "pi": "pi",
        "title": "A",
        "allocations": [{"semester": "2027A", "instrument_types": [SINISTRO], "std_allocation": 20}],
    }
    bad = {"id": "TAC-2", "pi": "outsider", "allocations": [{"semester": "2027A", "instrument_types": ["NOPE"]}]}
    error = refused(world, ImportTacResult(OPERATOR, [good, bad]), ValidationError)
    assert error.errors == {"entry 2": {"instrument_types": ["Unknown instrument type NOPE"]}}  # type: ignore[attr-defined]
    assert "TAC-1" not in world.store.proposals
    counts = world.bus.handle(ImportTacResult(OPERATOR, [good, {**bad, "allocations": []}]))
    assert counts == {"proposals created": 2, "proposals updated": 0, "allocations": 1}
    assert world.store.proposals["TAC-1"].allocation_for("2027A", SINISTRO).ipp_limit == 2.0  # type: ignore[union-attr]


# -- the PI's actions ----------------------------------------------------------------------------------------


def test_the_pi_invites_known_users_at_once_and_emails_the_others(world: World) -> None:
    world.bus.handle(InviteMembers(world.actor("pi"), "TEST", ["outsider@example.org", "Newcomer@Example.org"], 7200))
    proposal = world.store.proposals["TEST"]
    assert proposal.role_of(world.ids["outsider"]) is Role.CI
    (invitation,) = proposal.invitations
    assert (invitation.email, invitation.id is not None) == ("newcomer@example.org", True)
    assert [(to, subject) for to, subject, _ in world.mailer.outbox] == [
        ("newcomer@example.org", "Invitation to join proposal TEST")
    ]


def test_signing_up_with_an_invited_address_makes_a_member(world: World) -> None:
    world.bus.handle(InviteMembers(world.actor("pi"), "TEST", ["newcomer@example.org"], 600))
    user = world.bus.handle(CreateUser("newcomer", "pw", email="NEWCOMER@example.org"))
    membership = world.store.proposals["TEST"].membership_of(user.id)
    assert membership is not None
    assert (membership.role, membership.time_limit_s) == (Role.CI, 600)
    assert world.store.proposals["TEST"].invitations[0].used == NOW


def test_changing_ones_email_to_an_invited_address_makes_a_member(world: World) -> None:
    world.bus.handle(InviteMembers(world.actor("pi"), "TEST", ["moved@example.org"], -1))
    world.bus.handle(UpdateProfile(world.ids["outsider"], {"email": "moved@example.org"}, {}))
    assert world.store.proposals["TEST"].role_of(world.ids["outsider"]) is Role.CI


@pytest.mark.parametrize(
    ("who", "error"),
    [
        ("ci", PermissionDeniedError),
        ("outsider", NotFoundError),
        ("staff", NotFoundError),
        ("staffview", PermissionDeniedError),
    ],
)
def test_only_the_pi_manages_members(world: World, who: str, error: type[Exception]) -> None:
    actor = world.actor(who)
    ci_membership = world.membership_id("TEST", "ci")
    refused(world, InviteMembers(actor, "TEST", ["x@example.org"]), error)
    refused(world, SetMembershipLimit(actor, ci_membership, 1.0), error)
    refused(world, SetGlobalLimit(actor, "TEST", 1.0), error)
    refused(world, RemoveMembership(actor, ci_membership), error)


def test_bad_invitations_change_nothing(world: World) -> None:
    pi = world.actor("pi")
    error = refused(world, InviteMembers(pi, "TEST", ["not an email"]), ValidationError)
    assert error.errors == {"emails": ["Enter a valid email address."]}  # type: ignore[attr-defined]
    error = refused(world, InviteMembers(pi, "TEST", ["ci@example.org"]), ValidationError)
    assert error.errors == {"emails": ["ci@example.org is already a member of this proposal"]}  # type: ignore[attr-defined]
    refused(world, InviteMembers(pi, "TEST", ["pi@example.org"]), ValidationError)
    assert world.mailer.outbox == []


def test_the_pi_sets_limits_and_removes_cis_but_not_the_pi(world: World) -> None:
    pi = world.actor("pi")
    user, seconds = world.bus.handle(SetMembershipLimit(pi, world.membership_id("TEST", "ci"), 0.05))
    assert (user.username, seconds) == ("ci", 180)
    error = refused(world, RemoveMembership(pi, world.membership_id("TEST", "pi")), ValidationError)
    assert error.errors == {"detail": "Cannot remove the PI of a proposal"}  # type: ignore[attr-defined]
    refused(world, SetMembershipLimit(pi, world.membership_id("TEST", "pi"), 1.0), ValidationError)
    world.bus.handle(RemoveMembership(pi, world.membership_id("TEST", "ci")))
    assert world.store.proposals["TEST"].role_of(world.ids["ci"]) is None


def test_withdrawing_an_invitation(world: World) -> None:
    world.bus.handle(InviteMembers(world.actor("pi"), "TEST", ["later@example.org"]))
    (invitation,) = world.store.proposals["TEST"].invitations
    refused(world, WithdrawInvitation(world.actor("ci"), invitation.id or 0), PermissionDeniedError)
    world.bus.handle(WithdrawInvitation(world.actor("pi"), invitation.id or 0))
    assert world.store.proposals["TEST"].invitations == []


# -- what each caller sees -----------------------------------------------------------------------------------


def test_each_caller_lists_only_their_proposals(world: World) -> None:
    uow = world.uow

    def ids(name: str) -> list[str]:
        return [p["id"] for p in views.list_proposals(uow(), world.actor(name))]

    assert ids("pi") == ["TEST"]
    assert ids("ci") == ["TEST"]
    assert ids("outsider") == ["OTHER"]
    assert ids("staff") == []
    assert ids("staffview") == ["TEST", "OTHER"]
    with pytest.raises(AuthenticationError):
        views.list_proposals(uow(), Actor.anonymous())
    with pytest.raises(NotFoundError):
        views.get_proposal(uow(), world.actor("outsider"), "TEST")
    assert "notes" not in views.get_proposal(uow(), world.actor("pi"), "TEST")
    assert "notes" in views.get_proposal(uow(), world.actor("staffview"), "TEST")
    assert views.proposal_tags(uow(), world.actor("pi")) == []
    assert views.proposal_tags(uow(), world.actor("outsider")) == ["x"]


def test_a_ci_sees_their_own_membership_and_the_pi_sees_all(world: World) -> None:
    ci_view = views.list_memberships(world.uow(), world.actor("ci"), NOW)
    assert [(m["username"], m["role"]) for m in ci_view] == [("ci", "CI")]
    pi_view = views.list_memberships(world.uow(), world.actor("pi"), NOW)
    assert sorted(m["username"] for m in pi_view) == ["ci", "pi"]
    with pytest.raises(NotFoundError):
        views.get_membership(world.uow(), world.actor("outsider"), world.membership_id("TEST", "ci"), NOW)


def test_the_profile_shows_current_proposals_and_their_instrument_types(world: World) -> None:
    profile = views.profile_view(world.uow(), world.store.users[world.ids["ci"]], NOW, include_time_allocations=True)
    assert profile["proposals"][0]["id"] == "TEST"
    assert profile["proposals"][0]["current"] is True
    assert profile["proposals"][0]["time_allocations"][0]["std_allocation"] == 100
    assert profile["available_instrument_types"] == [SINISTRO]
    next_year = views.profile_view(world.uow(), world.store.users[world.ids["ci"]], datetime(2027, 3, 1, tzinfo=UTC))
    assert next_year["proposals"][0]["current"] is False
    assert next_year["available_instrument_types"] == []


def test_profile_edits_are_checked_before_anything_changes(world: World) -> None:
    outsider = world.ids["outsider"]
    error = refused(world, UpdateProfile(outsider, {"first_name": "Ada"}, {"staff_view": True}), ValidationError)
    assert error.errors == {"profile": {"staff_view": ["Only staff may set staff_view"]}}  # type: ignore[attr-defined]
    error = refused(world, UpdateProfile(outsider, {"email": "PI@example.org"}, {}), ValidationError)
    assert error.errors == {"email": ["User with this email already exists"]}  # type: ignore[attr-defined]
    world.bus.handle(UpdateProfile(outsider, {"first_name": "Ada"}, {"institution": "LCO", "simple_interface": True}))
    user = world.store.users[outsider]
    assert (user.first_name, user.institution, user.simple_interface) == ("Ada", "LCO", True)


def test_a_revoked_token_stops_working_at_once(world: World) -> None:
    token = world.bus.handle(accounts.ObtainToken("pi", "pw"))
    new = world.bus.handle(RevokeToken(world.ids["pi"]))
    assert new != token
    with pytest.raises(AuthenticationError):
        accounts.user_for_token(world.uow(), token)
    assert accounts.user_for_token(world.uow(), new).username == "pi"
