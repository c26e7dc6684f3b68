"""Submitting, validating and cancelling request groups through the bus, on the reference world of
requests.md 8.1 (demo observatory, clock 2016-09-01, TEST_PROPOSAL with A1/A2). Visibility is not wired here
(the astronomy has its own tests), so these cases exercise every other rule and the time accounting."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import pytest

from adapters.auth import Argon2PasswordHasher, SecretsTokenIssuer
from adapters.clock import FixedClock
from adapters.memory import InMemoryMailer, InMemoryUnitOfWork, MemoryStore
from adapters.request_wire import parse_request_group
from application.commands import (
    AddMember,
    AllocateTime,
    CancelRequestGroup,
    CreateProposal,
    CreateSemester,
    EditProposal,
    SetMembershipLimit,
    SubmitRequestGroup,
)
from application.handlers import accounts, notifications, observations, proposals, requestgroups
from application.handlers.accounts import CreateUser
from application.messagebus import MessageBus
from domain.errors import NotFoundError, ValidationError
from domain.permissions import Actor
from domain.requestgroups import RequestState
from tests.reference import P0, p0
from tests.unit.domain.observatory_fixtures import demo_observatory

NOW = datetime(2016, 9, 1, tzinfo=UTC)
OPERATOR = Actor.operator()
SINISTRO, FLOYDS = "1M0-SCICAM-SINISTRO", "2M0-FLOYDS-SCICAM"
REFERENCE_HOURS = {
    "std_allocation": 100.0,
    "rr_allocation": 10.0,
    "tc_allocation": 10.0,
    "realtime_allocation": 0.0,
    "ipp_limit": 10.0,
    "ipp_time_available": 5.0,
}
payload = p0


class World:
    def __init__(self, max_failures_per_request: int = 0) -> None:
        self.store = MemoryStore()
        self.clock = FixedClock(NOW)
        self.mailer = InMemoryMailer()
        self.bus = MessageBus(
            uow_factory=self.uow,
            command_handlers={
                **accounts.COMMAND_HANDLERS,
                **proposals.COMMAND_HANDLERS,
                **requestgroups.COMMAND_HANDLERS,
                **observations.COMMAND_HANDLERS,
            },
            event_handlers={**proposals.EVENT_HANDLERS, **notifications.EVENT_HANDLERS},
            dependencies={
                "clock": self.clock,
                "password_hasher": Argon2PasswordHasher(time_cost=1),
                "token_issuer": SecretsTokenIssuer(),
                "mailer": self.mailer,
                "visibility_hooks": None,
                "max_failures_per_request": max_failures_per_request,
            },
        )
        with self.uow() as uow:
            uow.observatory.save(demo_observatory())
            uow.commit()
        self.users: dict[str, Actor] = {}
        for name, staff, staff_view in (
            ("pi", False, False),
            ("ci", False, False),
            ("outsider", False, False),
            ("staff", True, False),
            ("staffview", True, True),
        ):
            view = self.bus.handle(
                CreateUser(name, "pw", email=f"{name}@example.org", is_staff=staff, staff_view=staff_view)
            )
            self.users[name] = Actor.of(self.store.users[view.id])
        b_start, b_end = datetime(2016, 9, 1, tzinfo=UTC), datetime(2016, 12, 31, tzinfo=UTC)
        self.bus.handle(CreateSemester(OPERATOR, "2016B", b_start, b_end))
        self.bus.handle(
            CreateSemester(OPERATOR, "2017A", datetime(2017, 1, 1, tzinfo=UTC), datetime(2017, 7, 1, tzinfo=UTC))
        )
        for proposal_id, pi, values in (
            ("TEST_PROPOSAL", "pi", {"cis_see_all_requests": True}),
            ("OTHER_PROPOSAL", "outsider", {"public": True}),
            ("SLEEPY_PROPOSAL", "pi", {"active": False}),
        ):
            self.bus.handle(CreateProposal(OPERATOR, proposal_id, values, [pi]))
            for instrument_type in (SINISTRO, FLOYDS):
                self.bus.handle(AllocateTime(OPERATOR, proposal_id, "2016B", [instrument_type], REFERENCE_HOURS))
        self.bus.handle(AddMember(OPERATOR, "TEST_PROPOSAL", "ci", "CI"))

    def uow(self) -> InMemoryUnitOfWork:
        return InMemoryUnitOfWork(self.store)

    def submit(self, who: str, body: dict[str, Any]) -> Any:
        return self.bus.handle(SubmitRequestGroup(self.users[who], parse_request_group(body, now=NOW)))

    def a1(self, proposal: str = "TEST_PROPOSAL") -> Any:
        return self.store.proposals[proposal].allocation_for("2016B", SINISTRO)

    def hours(self) -> list[dict[str, float]]:
        return [a.hours() for p in self.store.proposals.values() for a in p.allocations]

    def refused(self, who: str, body: dict[str, Any]) -> dict[str, Any]:
        groups, hours = set(self.store.request_groups), self.hours()
        with pytest.raises(ValidationError) as caught:
            self.submit(who, body)
        assert set(self.store.request_groups) == groups  # nothing stored
        assert self.hours() == hours  # no hours or IPP moved
        return caught.value.errors


@pytest.fixture
def world() -> World:
    return World()


def test_r1_the_minimal_payload_is_stored_pending_with_its_duration(world: World) -> None:
    group = world.submit("pi", P0)
    assert group.id is not None
    assert (group.state, group.submitter) == (RequestState.PENDING, "pi")
    (request,) = group.requests
    assert request.duration == 226
    assert world.store.request_groups[group.id].requests[0].duration == 226
    assert world.a1().ipp_time_available == 5.0  # ipp 1.0 moves nothing


def test_t1_t20_only_members_submit(world: World) -> None:
    message = "You do not belong to the proposal you are trying to submit with"
    assert world.refused("outsider", P0) == {"non_field_errors": [message]}
    assert world.refused("staff", P0) == {"non_field_errors": [message]}


def test_t2_an_inactive_proposal_cannot_submit(world: World) -> None:
    assert world.refused("pi", payload(proposal="SLEEPY_PROPOSAL")) == {
        "non_field_errors": ["The proposal you are trying to submit with is currently inactive"]
    }


def test_t6_a_ci_over_their_time_limit_is_refused(world: World) -> None:
    membership = world.store.proposals["TEST_PROPOSAL"].membership_of(world.users["ci"].user_id)
    assert membership is not None
    world.bus.handle(SetMembershipLimit(world.users["pi"], membership.id or 0, 0.05))
    assert world.refused("ci", P0) == {"non_field_errors": [requestgroups.TIME_LIMIT_EXCEEDED]}
    world.bus.handle(SetMembershipLimit(world.users["pi"], membership.id or 0, 0.07))  # 252 s >= 226
    world.submit("ci", P0)
    assert world.refused("ci", P0) == {"non_field_errors": [requestgroups.TIME_LIMIT_EXCEEDED]}  # 452 > 252


def test_t7_t8_ipp_is_debited_on_submission_and_credited_back_on_cancel(world: World) -> None:
    group = world.submit("pi", payload(ipp_value=1.5))
    assert world.a1().ipp_time_available == pytest.approx(4.968611, abs=1e-6)
    canceled = world.bus.handle(CancelRequestGroup(world.users["pi"], group.id))
    assert canceled.state is RequestState.CANCELED
    assert world.store.request_groups[group.id].state is RequestState.CANCELED
    assert world.a1().ipp_time_available == pytest.approx(5.0, abs=1e-9)


def test_t9_not_enough_ipp_balance_changes_nothing(world: World) -> None:
    world.a1().ipp_time_available = 0.01
    errors = world.refused("pi", payload(ipp_value=2.0))
    (message,) = errors["non_field_errors"]
    assert "requires more IPP time than you have available" in message
    assert "<= 1.159" in message


def test_t13_t15_t16_time_allocation_checks(world: World) -> None:
    world.a1().std_allocation = 0.05
    (message,) = world.refused("pi", P0)["non_field_errors"]
    assert message == "Proposal TEST_PROPOSAL does not have enough NORMAL time allocated in semester 2016B"
    world.a1().std_allocation = 0.06
    world.submit("pi", P0)  # T14: the 10 % allowance lets it in
    world.a1().std_allocation, world.a1().std_time_used = 100.0, 100.0
    assert "does not have any NORMAL time left" in world.refused("pi", P0)["non_field_errors"][0]
    proposal = world.store.proposals["TEST_PROPOSAL"]
    proposal.allocations.remove(world.a1())
    assert "You do not have sufficient NORMAL time allocated" in world.refused("pi", P0)["non_field_errors"][0]


def test_t21_t22_who_sees_a_group(world: World) -> None:
    mine = world.submit("pi", P0)
    public = world.submit("outsider", payload(proposal="OTHER_PROPOSAL"))
    anonymous = Actor.anonymous()
    expected = {
        mine.id: {"anonymous": False, "outsider": False, "ci": True, "staff": False, "staffview": True},
        public.id: {"anonymous": True, "outsider": True, "ci": False, "staff": False, "staffview": True},
    }
    for group_id, row in expected.items():
        for who, visible in row.items():
            actor = anonymous if who == "anonymous" else world.users[who]
            with world.uow() as uow:
                group = uow.request_groups.get(group_id)
                if visible:
                    assert requestgroups.visible_group(uow, actor, group) is group
                else:
                    with pytest.raises(NotFoundError):
                        requestgroups.visible_group(uow, actor, group)


def test_a_ci_sees_only_their_own_groups_unless_the_pi_allows_more(world: World) -> None:
    world.bus.handle(EditProposal(OPERATOR, "TEST_PROPOSAL", {"cis_see_all_requests": False}))
    pis = world.submit("pi", P0)
    cis = world.submit("ci", P0)
    with world.uow() as uow:
        with pytest.raises(NotFoundError):
            requestgroups.visible_group(uow, world.users["ci"], uow.request_groups.get(pis.id))
        assert requestgroups.visible_group(uow, world.users["ci"], uow.request_groups.get(cis.id)) is not None
        assert requestgroups.visible_group(uow, world.users["pi"], uow.request_groups.get(cis.id)) is not None


def test_t23_t24_cancelling(world: World) -> None:
    group = world.submit("pi", P0)
    with pytest.raises(NotFoundError):
        world.bus.handle(CancelRequestGroup(world.users["outsider"], group.id))
    assert world.store.request_groups[group.id].state is RequestState.PENDING
    assert world.bus.handle(CancelRequestGroup(world.users["ci"], group.id)).state is RequestState.CANCELED
    again = world.bus.handle(CancelRequestGroup(world.users["pi"], group.id))  # a no-op, not an error
    assert again.state is RequestState.CANCELED
    done = world.submit("pi", P0)
    with world.uow() as uow:
        stored = uow.request_groups.get(done.id)
        assert stored is not None
        stored.complete_request(stored.requests[0], NOW)
        uow.commit()
    with pytest.raises(ValidationError) as refused:
        world.bus.handle(CancelRequestGroup(world.users["pi"], done.id))
    assert refused.value.errors == {
        "errors": [f"Cannot transition from request state COMPLETED to CANCELED for {done.id}"]
    }


def test_v12_validate_reports_durations_and_stores_nothing(world: World) -> None:
    answer = requestgroups.validate_submission(
        world.uow(), world.users["pi"], parse_request_group(P0, now=NOW), NOW, None
    )
    assert answer["errors"] == {}
    report = answer["request_durations"]
    assert report.duration == 226
    assert report.requests[0].configurations[0].duration == 131.5
    assert report.requests[0].configurations[0].instrument_configs[0].duration == 115.5
    assert world.store.request_groups == {}
    bad = requestgroups.validate_submission(
        world.uow(), world.users["outsider"], parse_request_group(P0, now=NOW), NOW, None
    )
    assert bad == {
        "request_durations": {},
        "errors": {"non_field_errors": ["You do not belong to the proposal you are trying to submit with"]},
    }


def test_t10_t11_max_allowable_ipp(world: World) -> None:
    submission = parse_request_group(payload(ipp_value=2.0), now=NOW)
    answer = requestgroups.max_allowable_ipp_for(world.uow(), world.users["pi"], submission, NOW, None)
    allowance = answer["2016B"][SINISTRO]
    assert (allowance.ipp_time_available, allowance.max_allowable_ipp_value) == (5.0, 2.0)
    assert allowance.request_duration == pytest.approx(0.0627777777)
    world.a1().ipp_time_available = 0.01
    answer = requestgroups.max_allowable_ipp_for(world.uow(), world.users["pi"], submission, NOW, None)
    assert answer["2016B"][SINISTRO].max_allowable_ipp_value == 1.159


def test_each_caller_lists_the_groups_the_permission_table_shows(world: World) -> None:
    from application.ports import RequestGroupQuery
    from application.request_views import get_request, search_request_groups

    world.bus.handle(EditProposal(OPERATOR, "TEST_PROPOSAL", {"cis_see_all_requests": False}))
    pis = world.submit("pi", P0).id
    cis = world.submit("ci", P0).id
    public = world.submit("outsider", payload(proposal="OTHER_PROPOSAL")).id

    def listed(actor: Actor) -> list[int]:
        count, groups = search_request_groups(world.uow(), actor, RequestGroupQuery())
        assert count == len(groups)
        return [g.id for g in groups if g.id is not None]

    assert listed(world.users["pi"]) == [cis, pis]
    assert listed(world.users["ci"]) == [cis]
    assert listed(world.users["outsider"]) == [public]
    assert listed(world.users["staff"]) == []
    assert listed(world.users["staffview"]) == [public, cis, pis]
    assert listed(Actor.anonymous()) == [public]
    request_id = world.store.request_groups[cis].requests[0].id or 0
    assert get_request(world.uow(), world.users["pi"], request_id)[0].id == cis
    with pytest.raises(NotFoundError):
        get_request(world.uow(), world.users["outsider"], request_id)


def test_t25_only_staff_suspend_a_pending_request_into_the_future(world: World) -> None:
    from datetime import timedelta

    from application.commands import SuspendRequest
    from domain.errors import PermissionDeniedError

    group = world.submit("pi", P0)
    request_id = group.requests[0].id or 0
    later = NOW + timedelta(days=9)
    with pytest.raises(PermissionDeniedError):
        world.bus.handle(SuspendRequest(world.users["pi"], request_id, later))
    # staff without staff_view cannot read TEST_PROPOSAL, yet may suspend its requests (an operations action)
    world.bus.handle(SuspendRequest(world.users["staff"], request_id, later))
    assert world.store.request_groups[group.id].requests[0].suspend_until == later
    with pytest.raises(ValidationError) as past:
        world.bus.handle(SuspendRequest(world.users["staff"], request_id, NOW))
    assert past.value.errors == {"suspend_until": ["The suspend_until value must be in the future"]}
    world.bus.handle(SuspendRequest(world.users["staff"], request_id, None))
    assert world.store.request_groups[group.id].requests[0].suspend_until is None
    world.bus.handle(CancelRequestGroup(world.users["pi"], group.id))
    with pytest.raises(ValidationError) as canceled:
        world.bus.handle(SuspendRequest(world.users["staff"], request_id, later))
    assert "Can only suspend scheduling on PENDING Requests - this request state is CANCELED" in str(canceled.value)
    with pytest.raises(NotFoundError):
        world.bus.handle(SuspendRequest(world.users["staff"], 999_999, later))


def test_s11_the_expiry_job_expires_ended_windows_and_credits_ipp_back(world: World) -> None:
    from datetime import timedelta

    from application.commands import ExpireRequestGroups

    spending = world.submit("pi", payload(ipp_value=1.5))
    later_window = copy.deepcopy(P0)
    later_window["requests"][0]["windows"] = [{"start": "2016-11-01T00:00:00Z", "end": "2016-11-30T00:00:00Z"}]
    still_open = world.submit("pi", later_window)
    assert world.a1().ipp_time_available == pytest.approx(4.968611, abs=1e-6)
    assert world.bus.handle(ExpireRequestGroups()) == 0  # nothing has ended yet
    world.clock.advance(timedelta(days=59))  # 2016-10-30: P0's window ended on 10-29
    assert world.bus.handle(ExpireRequestGroups()) == 1
    expired = world.store.request_groups[spending.id]
    assert (expired.state, expired.requests[0].state) == (RequestState.WINDOW_EXPIRED, RequestState.WINDOW_EXPIRED)
    assert world.store.request_groups[still_open.id].state is RequestState.PENDING
    assert world.a1().ipp_time_available == pytest.approx(5.0, abs=1e-9)
    assert world.bus.handle(ExpireRequestGroups()) == 0  # a second run changes nothing


def test_members_time_used_counts_their_pending_and_completed_requests_this_semester(world: World) -> None:
    from application.proposal_views import list_memberships, profile_view

    world.submit("ci", P0)
    world.submit("pi", P0)
    canceled = world.submit("ci", P0)
    world.bus.handle(CancelRequestGroup(world.users["ci"], canceled.id))
    memberships = list_memberships(world.uow(), world.users["pi"], NOW, proposal="TEST_PROPOSAL")
    used = {m["username"]: m["time_used_by_user"] for m in memberships}
    assert used == {"pi": 226.0, "ci": 226.0}  # the canceled group counts nothing
    ci = world.store.users[world.users["ci"].user_id or 0]
    (entry,) = profile_view(world.uow(), ci, NOW, include_time_allocations=True)["proposals"]
    assert (entry["id"], entry["time_used"]) == ("TEST_PROPOSAL", 226.0)


def test_a_proposal_shows_how_many_request_groups_it_has(world: World) -> None:
    from application.proposal_views import get_proposal, list_proposals

    world.submit("ci", P0)
    world.submit("pi", P0)
    assert get_proposal(world.uow(), world.users["pi"], "TEST_PROPOSAL")["requestgroup_count"] == 2
    counts = {p["id"]: p["requestgroup_count"] for p in list_proposals(world.uow(), world.users["pi"])}
    assert counts == {"TEST_PROPOSAL": 2, "SLEEPY_PROPOSAL": 0}


def test_the_batch_sky_query_skips_requests_whose_windows_fit_no_semester(world: World) -> None:
    asked: list[int] = []
    hooks = requestgroups.VisibilityHooks(
        largest_interval=lambda request: 10_000.0,
        visibility_errors=lambda request, largest: [],
        prefetch=lambda requests: asked.append(len(requests)),
    )
    centuries = copy.deepcopy(P0)
    centuries["requests"][0]["windows"] = [{"start": "2016-09-29T00:00:00Z", "end": "2116-09-29T00:00:00Z"}]
    with world.uow() as uow, pytest.raises(ValidationError):
        requestgroups.check_submission(uow, world.users["pi"], parse_request_group(centuries, now=NOW), NOW, hooks)
    with world.uow() as uow:
        requestgroups.check_submission(uow, world.users["pi"], parse_request_group(P0, now=NOW), NOW, hooks)
    assert asked == [0, 1]
