"""Observations through the bus on the reference world of requests.md 8.1: the set-up of 8.5 (R1's group with one
observation at elp.doma.1m0a 2016-10-01 08:00:00-08:03:46 and one PENDING status) and the feedback cases S1-S8,
S12, scheduler.md 6.4 and T23/T24, with the allocation A1 checked after each."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from application.commands import (
    AllocateTime,
    CancelObservations,
    CancelRequestGroup,
    CreateProposal,
    ExpireRequestGroups,
    ReportConfigurationStatus,
    ReviseObservation,
    ScheduleObservations,
    UpdateProfile,
)
from application.handlers.observations import ScheduledObservations
from domain.errors import AuthenticationError, NotFoundError, PermissionDeniedError, ValidationError
from domain.observations import Observation, ObservationPlan, ObservationState, StatusPlan, StatusState, Summary
from domain.permissions import Actor
from domain.requestgroups import RequestState
from tests.reference import p0
from tests.unit.application.test_request_group_handlers import OPERATOR, SINISTRO, World

START = datetime(2016, 10, 1, 8, 0, tzinfo=UTC)
END = START + timedelta(seconds=226)
FEEDBACK_TIME = START + timedelta(minutes=5)


class Loop(World):
    """The reference world with R1 submitted and placed, the clock at the observation's start."""

    def __init__(self, max_failures_per_request: int = 0, **group: Any) -> None:
        super().__init__(max_failures_per_request)
        self.group = self.submit("pi", p0(**group))
        self.request = self.group.requests[0]
        self.configuration_id = self.request.configurations[0].id
        self.clock.set(START)
        self.observation = self.place()
        self.status_id = self.observation.configuration_statuses[0].id

    def place(self, start: datetime = START, end: datetime = END, **changes: Any) -> Observation:
        plan = ObservationPlan(
            self.request.id, "elp", "doma", "1m0a", start, end, [StatusPlan(self.configuration_id, "fa05")], **changes
        )
        result: ScheduledObservations = self.bus.handle(ScheduleObservations(OPERATOR, [plan]))
        assert result.errors == {}
        return result.created[0]

    def report(self, state: str | None = None, summary: Summary | None = None, **more: Any) -> None:
        self.clock.set(FEEDBACK_TIME)
        status = StatusState(state) if state else None
        self.bus.handle(ReportConfigurationStatus(OPERATOR, self.status_id, status, summary, **more))

    def stored(self) -> Observation:
        return self.store.observations[self.observation.id]

    def states(self) -> tuple[ObservationState, RequestState, RequestState]:
        group = self.store.request_groups[self.group.id]
        return self.stored().state, group.requests[0].state, group.state


def summary(time_completed: float = 100, end: datetime = END, state: str = "COMPLETED") -> Summary:
    return Summary(START, end, state, time_completed)


def test_an_attempted_status_puts_the_observation_in_progress() -> None:  # S1
    loop = Loop()
    loop.report("ATTEMPTED")
    assert loop.states() == (ObservationState.IN_PROGRESS, RequestState.PENDING, RequestState.PENDING)
    assert loop.a1().std_time_used == 0


def test_a_completed_report_completes_everything_and_charges_the_elapsed_time() -> None:  # S2
    loop = Loop()
    loop.report("COMPLETED", summary())
    assert loop.states() == (ObservationState.COMPLETED, RequestState.COMPLETED, RequestState.COMPLETED)
    assert loop.a1().std_time_used == pytest.approx(0.062778, abs=5e-7)
    assert loop.stored().configuration_statuses[0].time_charged == pytest.approx(0.062778, abs=5e-7)


def test_a_failure_with_enough_exposure_still_completes_the_request() -> None:  # S3
    loop = Loop()
    loop.report("FAILED", summary(95, state="FAILED"))
    assert loop.states() == (ObservationState.FAILED, RequestState.COMPLETED, RequestState.COMPLETED)
    assert loop.a1().std_time_used == pytest.approx(0.062778, abs=5e-7)


def test_a_failure_short_of_the_threshold_leaves_the_request_pending_and_is_charged() -> None:  # S4
    loop = Loop()
    loop.report("FAILED", summary(80, state="FAILED"))
    assert loop.states() == (ObservationState.FAILED, RequestState.PENDING, RequestState.PENDING)
    assert loop.a1().std_time_used == pytest.approx(0.062778, abs=5e-7)


def test_the_configured_failure_limit_ends_the_request() -> None:  # S5
    loop = Loop(max_failures_per_request=1)
    loop.report("FAILED", summary(80, state="FAILED"))
    assert loop.states() == (
        ObservationState.FAILED,
        RequestState.FAILURE_LIMIT_REACHED,
        RequestState.FAILURE_LIMIT_REACHED,
    )


def test_a_corrected_summary_charges_only_the_difference() -> None:  # S6
    loop = Loop()
    loop.report("COMPLETED", summary())
    loop.report(None, summary(end=START + timedelta(minutes=5)))
    assert loop.a1().std_time_used == pytest.approx(0.083333, abs=5e-7)


def test_bad_data_refunds_and_sends_the_request_back_to_pending_while_its_window_lasts() -> None:  # S7
    loop = Loop()
    loop.report("COMPLETED", summary())
    loop.bus.handle(ReviseObservation(OPERATOR, loop.observation.id, bad_data=True))
    assert loop.states() == (ObservationState.BAD_DATA, RequestState.PENDING, RequestState.PENDING)
    assert loop.a1().std_time_used == 0
    loop.bus.handle(ReviseObservation(OPERATOR, loop.observation.id, bad_data=True))  # twice refunds nothing
    assert loop.a1().std_time_used == 0


def test_rapid_response_is_charged_at_most_its_capped_duration() -> None:  # S8
    world = World()
    world.clock.set(START)
    window = {"start": "2016-10-01T07:59:00Z", "end": "2016-10-01T10:00:00Z"}
    body = p0(observation_type="RAPID_RESPONSE")
    body["requests"][0]["windows"] = [window]
    group = world.submit("pi", body)
    request = group.requests[0]
    plan = ObservationPlan(request.id, "elp", "doma", "1m0a", START, END, [])
    observation = world.bus.handle(ScheduleObservations(OPERATOR, [plan])).created[0]
    status_id = observation.configuration_statuses[0].id
    world.bus.handle(
        ReportConfigurationStatus(
            OPERATOR, status_id, StatusState.COMPLETED, summary(end=START + timedelta(seconds=300))
        )
    )
    assert world.a1().rr_time_used == pytest.approx(0.061528, abs=5e-7)
    assert world.a1().std_time_used == 0


def test_completion_credits_the_ipp_a_low_priority_group_gave_up() -> None:  # scheduler.md 6.4
    loop = Loop(ipp_value=0.5)
    before = loop.a1().ipp_time_available
    loop.report("COMPLETED", summary())
    assert loop.a1().ipp_time_available - before == pytest.approx(0.031389, abs=5e-7)


def test_a_not_attempted_observation_is_not_charged_and_the_request_waits() -> None:  # scheduler.md 6.4
    loop = Loop()
    loop.report("NOT_ATTEMPTED", Summary(START, START, "NOT_ATTEMPTED", 0, reason="Weather: not ok to open"))
    assert loop.states() == (ObservationState.NOT_ATTEMPTED, RequestState.PENDING, RequestState.PENDING)
    assert loop.a1().std_time_used == 0


def test_a_terminal_status_ignores_a_new_state_and_nothing_moves() -> None:  # X4
    loop = Loop()
    loop.report("COMPLETED", summary())
    loop.report("ATTEMPTED")
    assert loop.stored().configuration_statuses[0].state is StatusState.COMPLETED
    assert loop.states() == (ObservationState.COMPLETED, RequestState.COMPLETED, RequestState.COMPLETED)


def test_a_late_success_on_an_aborted_observation_completes_the_request() -> None:  # T24
    loop = Loop()
    loop.clock.set(START + timedelta(seconds=30))
    loop.bus.handle(CancelRequestGroup(loop.users["pi"], loop.group.id))
    assert loop.stored().state is ObservationState.ABORTED
    loop.report("COMPLETED", summary())
    assert loop.stored().state is ObservationState.ABORTED
    assert loop.store.request_groups[loop.group.id].requests[0].state is RequestState.COMPLETED
    assert loop.a1().std_time_used == pytest.approx(0.062778, abs=5e-7)


def test_cancelling_a_group_deletes_cancels_or_aborts_its_observations_by_their_start() -> None:  # S12
    loop = Loop()
    now = START + timedelta(hours=1)
    later = loop.place(now + timedelta(hours=100), now + timedelta(hours=100, seconds=226))
    soon = loop.place(now + timedelta(hours=10), now + timedelta(hours=10, seconds=226))
    running = loop.place(now - timedelta(hours=1), now + timedelta(hours=1))
    loop.clock.set(now)
    loop.bus.handle(CancelRequestGroup(loop.users["pi"], loop.group.id))
    assert later.id not in loop.store.observations
    assert loop.store.observations[soon.id].state is ObservationState.CANCELED
    assert loop.store.observations[running.id].state is ObservationState.ABORTED
    assert loop.stored().state is ObservationState.PENDING  # ended before now: left alone


def test_a_predicted_end_moves_the_observation_and_cancels_the_one_it_now_overlaps() -> None:  # T23
    loop = Loop()
    following = loop.place(END + timedelta(seconds=300), END + timedelta(seconds=526))
    loop.report("ATTEMPTED", end=END + timedelta(seconds=400))
    assert loop.stored().end == END + timedelta(seconds=400)
    assert loop.store.observations[following.id].state is ObservationState.CANCELED


def test_exposures_starting_later_push_the_end_by_the_configurations_still_to_run() -> None:
    loop = Loop()
    begins = START + timedelta(seconds=60)
    loop.report("ATTEMPTED", exposures_start_at=begins)
    # P0's one configuration: 100 s of exposure, 14.5 s readout... its step-3 base is 131.5 s (requests.md 4.5).
    assert loop.stored().end == begins + timedelta(seconds=131.5)


@pytest.mark.parametrize(
    ("more", "errors"),
    [
        (
            {"end": END + timedelta(hours=1), "exposures_start_at": START},
            {"non_field_errors": ["Cannot specify both end and exposures_start_at"]},
        ),
        ({"end": START}, {"end": ["End time must be in the future"]}),
        (
            {"exposures_start_at": START - timedelta(seconds=1)},
            {"exposures_start_at": ["Must be after the observation start"]},
        ),
    ],
)
def test_bad_end_predictions_are_refused_and_nothing_changes(more: dict[str, Any], errors: dict[str, Any]) -> None:
    loop = Loop()  # X8-X10
    with pytest.raises(ValidationError) as caught:
        loop.report("ATTEMPTED", **more)
    assert caught.value.errors == errors
    assert loop.stored().configuration_statuses[0].state is StatusState.PENDING
    assert loop.stored().end == END


def test_reports_on_unknown_statuses_are_not_found_and_need_staff() -> None:  # X1, X2
    loop = Loop()
    with pytest.raises(NotFoundError):
        loop.bus.handle(ReportConfigurationStatus(OPERATOR, 999999, StatusState.ATTEMPTED))
    with pytest.raises(PermissionDeniedError):
        loop.bus.handle(ReportConfigurationStatus(loop.users["pi"], loop.status_id, StatusState.ATTEMPTED))
    with pytest.raises(AuthenticationError):
        loop.bus.handle(ReportConfigurationStatus(Actor.anonymous(), loop.status_id, StatusState.ATTEMPTED))
    assert loop.stored().configuration_statuses[0].state is StatusState.PENDING


# ---------------------------------------------------------------------------------------------------------
# POST /api/observations/


def test_a_list_with_bad_items_stores_the_good_ones_and_reports_the_rest_by_index() -> None:
    loop = Loop()
    good = ObservationPlan(loop.request.id, "elp", "doma", "1m0a", START, END)
    backwards = ObservationPlan(loop.request.id, "elp", "doma", "1m0a", END, START)
    unknown = ObservationPlan(999999, "elp", "doma", "1m0a", START, END)
    before = set(loop.store.observations)
    result = loop.bus.handle(ScheduleObservations(OPERATOR, [backwards, good, unknown]))
    assert len(result.created) == 1
    assert set(loop.store.observations) - before == {result.created[0].id}
    assert result.errors == {
        0: {"non_field_errors": ["End time must be after start time"]},
        2: {"request": ['Invalid pk "999999" - object does not exist.']},
    }


def test_only_staff_place_requests_of_ordinary_proposals() -> None:
    loop = Loop()
    before = set(loop.store.observations)
    with pytest.raises(PermissionDeniedError):
        loop.bus.handle(
            ScheduleObservations(
                loop.users["pi"], [ObservationPlan(loop.request.id, "elp", "doma", "1m0a", START, END)]
            )
        )
    assert set(loop.store.observations) == before


def test_members_of_a_direct_submission_proposal_place_its_requests_only() -> None:
    loop = Loop()
    loop.bus.handle(CreateProposal(OPERATOR, "DIRECT_PROPOSAL", {"direct_submission": True}, ["outsider"]))
    outsider = loop.users["outsider"]
    plan = ObservationPlan(loop.request.id, "elp", "doma", "1m0a", START, END)
    result = loop.bus.handle(ScheduleObservations(outsider, [plan]))
    assert result.created == ()
    assert result.errors == {0: {"request": [f'Invalid pk "{loop.request.id}" - object does not exist.']}}


def test_a_canceled_request_cannot_be_placed() -> None:  # X15
    loop = Loop()
    loop.bus.handle(CancelRequestGroup(loop.users["pi"], loop.group.id))
    plan = ObservationPlan(loop.request.id, "elp", "doma", "1m0a", START, END)
    result = loop.bus.handle(ScheduleObservations(OPERATOR, [plan]))
    assert result.errors == {
        0: {"request": [f"Request {loop.request.id} is in state CANCELED and cannot be scheduled"]}
    }


def test_the_expiry_job_ends_a_direct_request_once_its_observation_has_ended() -> None:  # requests.md 6.6
    world = World()
    body = p0(observation_type="DIRECT")
    body["requests"][0].pop("windows")
    body["requests"][0].pop("location")
    group = world.submit("pi", body)
    request = group.requests[0]
    plan = ObservationPlan(request.id, "elp", "doma", "1m0a", START, END)
    world.bus.handle(ScheduleObservations(OPERATOR, [plan]))
    world.clock.set(END - timedelta(seconds=1))
    assert world.bus.handle(ExpireRequestGroups()) == 0
    world.clock.set(END + timedelta(seconds=1))
    assert world.bus.handle(ExpireRequestGroups()) == 1
    stored = world.store.request_groups[group.id]
    assert (stored.requests[0].state, stored.state) == (RequestState.WINDOW_EXPIRED, RequestState.WINDOW_EXPIRED)


def test_members_who_asked_are_emailed_when_a_group_completes_authored_only_respected() -> None:  # 6.1
    loop = Loop()
    for name, authored_only in (("pi", False), ("ci", True)):
        user_id = loop.users[name].user_id
        profile = {"notifications_enabled": True, "notifications_on_authored_only": authored_only}
        loop.bus.handle(UpdateProfile(user_id, {}, profile))
    loop.report("COMPLETED", summary())
    assert [(to, subject) for to, subject, _ in loop.mailer.outbox] == [
        ("pi@example.org", "Request group test group has completed")
    ]


def test_members_are_emailed_when_a_request_reaches_its_failure_limit() -> None:  # 6.1
    loop = Loop(max_failures_per_request=1)
    loop.bus.handle(UpdateProfile(loop.users["ci"].user_id, {}, {"notifications_enabled": True}))
    loop.report("FAILED", summary(80, state="FAILED"))
    subjects = [(to, subject) for to, subject, _ in loop.mailer.outbox]
    assert subjects == [("ci@example.org", f"Request {loop.request.id} of test group reached its failure limit")]


# ---------------------------------------------------------------------------------------------------------
# POST /api/observations/cancel/


def test_observations_are_cancelled_by_id_and_by_time_and_telescope() -> None:
    loop = Loop()
    loop.clock.set(START - timedelta(hours=1))
    assert loop.bus.handle(CancelObservations(OPERATOR, ids=[loop.observation.id])) == 1
    assert loop.stored().state is ObservationState.CANCELED
    second = loop.place(END, END + timedelta(seconds=226))
    wrong_site = CancelObservations(OPERATOR, start=START, end=END + timedelta(hours=1), sites=["lsc"])
    assert loop.bus.handle(wrong_site) == 0
    only_rr = CancelObservations(OPERATOR, start=START, end=END + timedelta(hours=1), include_normal=False)
    assert loop.bus.handle(only_rr) == 0
    assert loop.bus.handle(CancelObservations(OPERATOR, start=START, end=END + timedelta(hours=1))) == 1
    assert loop.store.observations[second.id].state is ObservationState.CANCELED


def test_running_observations_are_cancelled_only_with_preemption_enabled() -> None:  # X19
    loop = Loop()
    loop.report("ATTEMPTED")
    loop.clock.set(START + timedelta(seconds=60))  # while it runs
    with pytest.raises(ValidationError) as caught:
        loop.bus.handle(CancelObservations(OPERATOR, ids=[loop.observation.id]))
    assert caught.value.errors == {"error": "Cannot cancel IN_PROGRESS observations unless preemption_enabled is True"}
    assert loop.stored().state is ObservationState.IN_PROGRESS
    assert loop.bus.handle(CancelObservations(OPERATOR, ids=[loop.observation.id], preemption_enabled=True)) == 1
    assert loop.stored().state is ObservationState.ABORTED


def test_only_staff_and_direct_submitters_cancel_observations() -> None:
    loop = Loop()
    with pytest.raises(PermissionDeniedError):
        loop.bus.handle(CancelObservations(loop.users["pi"], ids=[loop.observation.id]))
    loop.bus.handle(CreateProposal(OPERATOR, "DIRECT_PROPOSAL", {"direct_submission": True}, ["outsider"]))
    assert loop.bus.handle(CancelObservations(loop.users["outsider"], ids=[loop.observation.id])) == 0
    assert loop.stored().state is ObservationState.PENDING


def test_direct_submitters_move_the_end_of_their_own_observations_only() -> None:
    world = World()
    world.bus.handle(CreateProposal(OPERATOR, "DIRECT_PROPOSAL", {"direct_submission": True}, ["outsider"]))
    body = p0(observation_type="DIRECT", proposal="DIRECT_PROPOSAL")
    body["requests"][0].pop("windows")
    body["requests"][0].pop("location")
    world.bus.handle(AllocateTime(OPERATOR, "DIRECT_PROPOSAL", "2016B", [SINISTRO], {"std_allocation": 1.0}))
    group = world.submit("outsider", body)
    plan = ObservationPlan(group.requests[0].id, "elp", "doma", "1m0a", START, END)
    observation = world.bus.handle(ScheduleObservations(world.users["outsider"], [plan])).created[0]
    later = END + timedelta(minutes=10)
    world.bus.handle(ReviseObservation(world.users["outsider"], observation.id, end=later))
    assert world.store.observations[observation.id].end == later
    with pytest.raises(PermissionDeniedError):
        world.bus.handle(ReviseObservation(world.users["outsider"], observation.id, bad_data=True))
    with pytest.raises(PermissionDeniedError):
        world.bus.handle(ReviseObservation(world.users["pi"], observation.id, end=later + timedelta(minutes=1)))
    assert world.store.observations[observation.id].end == later
