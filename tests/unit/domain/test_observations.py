"""Observations and their configuration statuses: requests.md 6.2-6.6 (state rules, request outcome, cancellation
by time to start, BAD_DATA) and the checks of a POSTed observation (scheduler.md 9, X11-X15)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from attrs import evolve
from hypothesis import given
from hypothesis import strategies as st

from domain.duration import rapid_response_charge_cap
from domain.errors import ValidationError
from domain.observations import (
    ConfigurationStatus,
    Disposal,
    Observation,
    ObservationPlan,
    ObservationState,
    StatusPlan,
    StatusState,
    Summary,
    charge_seconds,
    completion_percent,
    default_statuses,
    observation_state_from,
    place,
    settle_request,
)
from domain.requestgroups import (
    AcquisitionConfig,
    Configuration,
    Constraints,
    GuidingConfig,
    InstrumentConfig,
    Location,
    ObservationType,
    Operator,
    Request,
    RequestGroup,
    RequestState,
    Target,
    Window,
)
from tests.unit.domain.observatory_fixtures import demo_observatory

S = StatusState
O = ObservationState  # noqa: E741 - the spec's letter for observation states
SUBMITTED = datetime(2016, 9, 1, tzinfo=UTC)
START = datetime(2016, 10, 1, 8, 0, tzinfo=UTC)
END = START + timedelta(seconds=226)
WINDOW = Window(datetime(2016, 9, 29, 21, 12, 18, tzinfo=UTC), datetime(2016, 10, 29, 21, 12, 19, tzinfo=UTC))


def p0_configuration(**changes: object) -> Configuration:
    """P0's configuration as validation stores it (modes resolved, id assigned)."""
    configuration = Configuration(
        instrument_type="1M0-SCICAM-SINISTRO",
        type="EXPOSE",
        instrument_configs=[InstrumentConfig(100, 1, mode="full_frame", optical_elements={"filter": "air"})],
        target=Target.icrs("fake target", 34.4, 20),
        constraints=Constraints(max_airmass=2.0),
        acquisition_config=AcquisitionConfig(mode="OFF"),
        guiding_config=GuidingConfig(mode="OFF"),
        id=44,
    )
    return evolve(configuration, **changes)


def r1_group(
    observation_type: ObservationType = ObservationType.NORMAL,
    operator: Operator = Operator.SINGLE,
    requests: int = 1,
    location: Location | None = None,
) -> RequestGroup:
    made = [
        Request.create(
            [p0_configuration(id=44 + n)],
            windows=[WINDOW],
            location=location or Location("1m0"),
            acceptability_threshold=90.0,
            duration=226,
            id=31 + n,
        )
        for n in range(requests)
    ]
    group = RequestGroup.submit(
        proposal="TEST_PROPOSAL",
        submitter="pi",
        name="test group",
        observation_type=observation_type,
        operator=operator,
        ipp_value=1.0,
        requests=made,
        now=SUBMITTED,
    )
    group.id = 17
    return group


def observation_of(request: Request, *statuses: ConfigurationStatus) -> Observation:
    made = list(statuses) or [ConfigurationStatus(c.id or 0, "fa05") for c in request.configurations]
    for number, status in enumerate(made, start=9):
        status.id = number
    observation = Observation.schedule(
        request_id=request.id or 0,
        site="elp",
        enclosure="doma",
        telescope="1m0a",
        start=START,
        end=END,
        statuses=made,
        now=SUBMITTED,
    )
    observation.id = 7
    return observation


def summary(time_completed: float = 100, end: datetime = END, state: str = "COMPLETED") -> Summary:
    return Summary(START, end, state, time_completed)


# ---------------------------------------------------------------------------------------------------------
# 6.3: the observation state from its statuses


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        ([S.PENDING, S.PENDING], O.PENDING),  # rule 1
        ([S.NOT_ATTEMPTED, S.NOT_ATTEMPTED], O.NOT_ATTEMPTED),  # rule 2
        ([S.PENDING, S.NOT_ATTEMPTED], O.PENDING),  # rule 3
        ([S.PENDING, S.ATTEMPTED], O.IN_PROGRESS),  # rule 4
        ([S.ATTEMPTED], O.IN_PROGRESS),  # rule 4, the site has started the only one
        ([S.COMPLETED, S.NOT_ATTEMPTED], O.FAILED),  # rule 5
        ([S.COMPLETED, S.FAILED], O.FAILED),  # rule 6
        ([S.COMPLETED, S.COMPLETED], O.COMPLETED),  # rule 7
        ([S.COMPLETED, S.PENDING], None),  # rule 8 (S13)
        ([S.COMPLETED, S.ATTEMPTED], None),  # rule 8
    ],
)
def test_the_first_matching_rule_gives_the_observation_state(statuses: list[S], expected: O | None) -> None:
    assert observation_state_from(statuses) == expected


@given(st.lists(st.sampled_from([s for s in S if s is not S.BAD_DATA]), min_size=1, max_size=6))
def test_the_derived_state_does_not_depend_on_the_order_of_the_statuses(statuses: list[S]) -> None:
    assert observation_state_from(statuses) == observation_state_from(list(reversed(statuses)))


def test_attempted_puts_the_observation_in_progress_and_leaves_the_request_pending() -> None:  # S1
    group = r1_group()
    request = group.requests[0]
    observation = observation_of(request)
    observation.report(observation.configuration_statuses[0], state=S.ATTEMPTED, summary=None, now=START)
    assert observation.state is O.IN_PROGRESS
    assert not settle_request(group, request, observation, failed_observations=0, max_failures=0, now=START)
    assert (request.state, group.state) == (RequestState.PENDING, RequestState.PENDING)


@pytest.mark.parametrize("terminal", [S.COMPLETED, S.FAILED, S.NOT_ATTEMPTED])
@pytest.mark.parametrize("asked", [S.PENDING, S.ATTEMPTED, S.COMPLETED, S.FAILED, S.NOT_ATTEMPTED])
def test_a_terminal_status_ignores_every_change_but_bad_data(terminal: S, asked: S) -> None:  # X4
    observation = observation_of(r1_group().requests[0])
    status = observation.configuration_statuses[0]
    observation.report(status, state=terminal, summary=None, now=START)
    observation.report(status, state=asked, summary=None, now=END)
    assert status.state is terminal
    observation.report(status, state=S.BAD_DATA, summary=None, now=END)
    assert status.state is S.BAD_DATA


def test_a_bad_data_status_does_not_recompute_the_observation() -> None:
    observation = observation_of(r1_group().requests[0])
    status = observation.configuration_statuses[0]
    observation.report(status, state=S.ATTEMPTED, summary=None, now=START)
    observation.report(status, state=S.BAD_DATA, summary=None, now=END)
    assert observation.state is O.IN_PROGRESS


def test_a_terminal_observation_keeps_its_state_whatever_is_reported() -> None:  # T24
    group = r1_group()
    observation = observation_of(group.requests[0])
    assert observation.cancel(START + timedelta(seconds=10)) is Disposal.ABORT
    observation.report(observation.configuration_statuses[0], state=S.COMPLETED, summary=summary(), now=END)
    assert observation.state is O.ABORTED
    settle_request(group, group.requests[0], observation, failed_observations=0, max_failures=0, now=END)
    assert group.requests[0].state is RequestState.COMPLETED  # a late success counts


def test_a_new_summary_replaces_the_old_one() -> None:
    observation = observation_of(r1_group().requests[0])
    status = observation.configuration_statuses[0]
    observation.report(status, state=S.COMPLETED, summary=summary(80), now=END)
    observation.report(status, state=None, summary=summary(100, END + timedelta(seconds=74)), now=END)
    assert status.summary == summary(100, END + timedelta(seconds=74))


def test_summaries_ending_before_they_start_or_with_negative_time_are_refused() -> None:  # X6, X7
    with pytest.raises(ValidationError) as caught:
        Summary(END, START, "COMPLETED", 10)
    assert caught.value.errors == {"summary": {"non_field_errors": ["Summary end must not be before its start"]}}
    with pytest.raises(ValidationError) as caught:
        Summary(START, END, "COMPLETED", -1)
    assert caught.value.errors == {"summary": {"time_completed": ["Ensure this value is greater than or equal to 0."]}}


# ---------------------------------------------------------------------------------------------------------
# 6.4: the request's outcome


@pytest.mark.parametrize(
    ("state", "completed", "failures", "limit", "request_state"),
    [
        (S.COMPLETED, 100, 0, 0, RequestState.COMPLETED),  # S2
        (S.FAILED, 95, 1, 0, RequestState.COMPLETED),  # S3: 95 % >= 90 %
        (S.FAILED, 90, 1, 0, RequestState.COMPLETED),  # equal to the threshold counts
        (S.FAILED, 80, 1, 0, RequestState.PENDING),  # S4
        (S.FAILED, 80, 1, 1, RequestState.FAILURE_LIMIT_REACHED),  # S5
        (S.FAILED, 80, 1, 2, RequestState.PENDING),  # one failure of two allowed
        (S.COMPLETED, 10, 0, 0, RequestState.COMPLETED),  # the observation COMPLETED: whatever the percentage
    ],
)
def test_the_request_follows_the_completion_percentage_and_the_failure_limit(
    state: S, completed: float, failures: int, limit: int, request_state: RequestState
) -> None:
    group = r1_group()
    request = group.requests[0]
    observation = observation_of(request)
    observation.report(observation.configuration_statuses[0], state=state, summary=summary(completed), now=END)
    settle_request(group, request, observation, failed_observations=failures, max_failures=limit, now=END)
    assert request.state is request_state
    assert group.state is request_state


def test_a_request_whose_windows_have_ended_expires_when_its_observation_falls_short() -> None:
    group = r1_group()
    request = group.requests[0]
    observation = observation_of(request)
    observation.report(observation.configuration_statuses[0], state=S.FAILED, summary=summary(10), now=END)
    later = WINDOW.end + timedelta(seconds=1)
    settle_request(group, request, observation, failed_observations=1, max_failures=0, now=later)
    assert request.state is RequestState.WINDOW_EXPIRED


def test_a_late_completion_revives_an_expired_request_and_its_group() -> None:  # S10
    group = r1_group()
    request = group.requests[0]
    group.expire(WINDOW.end + timedelta(seconds=1))
    assert group.state is RequestState.WINDOW_EXPIRED
    observation = observation_of(request)
    observation.report(observation.configuration_statuses[0], state=S.COMPLETED, summary=summary(), now=END)
    settle_request(group, request, observation, failed_observations=0, max_failures=0, now=WINDOW.end)
    assert (request.state, group.state) == (RequestState.COMPLETED, RequestState.COMPLETED)


def test_a_completed_request_is_not_moved_by_a_later_failure() -> None:
    group = r1_group()
    request = group.requests[0]
    group.complete_request(request, END)
    observation = observation_of(request)
    observation.report(observation.configuration_statuses[0], state=S.FAILED, summary=summary(0), now=END)
    assert not settle_request(group, request, observation, failed_observations=5, max_failures=1, now=END)
    assert request.state is RequestState.COMPLETED


def test_completion_counts_repeat_configurations_by_their_elapsed_time() -> None:
    repeat = p0_configuration(type="REPEAT_EXPOSE", repeat_duration=200.0, id=50)
    status = ConfigurationStatus(50, "fa05", summary=Summary(START, START + timedelta(seconds=150), "FAILED", 0))
    assert completion_percent([status], {50: repeat}) == pytest.approx(75.0)


def test_statuses_without_summary_count_nothing_and_nothing_requested_is_complete() -> None:
    configuration = p0_configuration()
    assert completion_percent([ConfigurationStatus(44, "fa05")], {44: configuration}) == 0.0
    nothing = p0_configuration(instrument_configs=[InstrumentConfig(0, 1)])
    assert completion_percent([ConfigurationStatus(44, "fa05")], {44: nothing}) == 100.0


def test_real_time_requests_complete_when_their_single_status_does() -> None:
    group = r1_group(ObservationType.REAL_TIME)
    request = group.requests[0]
    observation = observation_of(request)
    observation.report(observation.configuration_statuses[0], state=S.COMPLETED, summary=None, now=END)
    settle_request(group, request, observation, failed_observations=0, max_failures=0, now=END)
    assert request.state is RequestState.COMPLETED


def test_many_groups_aggregate_their_requests_outcomes() -> None:  # S9, through observations
    group = r1_group(operator=Operator.MANY, requests=2)
    first, second = group.requests
    observation = observation_of(first)
    observation.report(observation.configuration_statuses[0], state=S.COMPLETED, summary=summary(), now=END)
    settle_request(group, first, observation, failed_observations=0, max_failures=0, now=END)
    assert (first.state, second.state, group.state) == (RequestState.COMPLETED, RequestState.PENDING, group.state)
    assert group.state is RequestState.PENDING
    group.expire(WINDOW.end + timedelta(seconds=1))
    assert (second.state, group.state) == (RequestState.WINDOW_EXPIRED, RequestState.COMPLETED)


# ---------------------------------------------------------------------------------------------------------
# 5.4: charging and refunds


def test_charges_are_elapsed_wall_time_and_a_correction_charges_the_difference() -> None:  # S2, S6
    observation = observation_of(r1_group().requests[0])
    status = observation.configuration_statuses[0]
    assert observation.charge(status, charge_seconds(summary()) / 3600) == pytest.approx(226 / 3600)
    later = summary(end=START + timedelta(seconds=300))
    assert observation.charge(status, charge_seconds(later) / 3600) == pytest.approx(74 / 3600)
    assert status.time_charged == pytest.approx(300 / 3600)


def test_rapid_response_is_charged_at_most_its_base_and_share_of_the_front_padding() -> None:  # S8
    cap = rapid_response_charge_cap(p0_configuration(), 1, demo_observatory())
    assert cap == pytest.approx(221.5)
    assert charge_seconds(summary(end=START + timedelta(seconds=300)), cap) == pytest.approx(221.5)
    assert rapid_response_charge_cap(p0_configuration(), 2, demo_observatory()) == pytest.approx(131.5 + 45)


def test_bad_data_refunds_every_charge_once() -> None:  # S7
    observation = observation_of(r1_group().requests[0])
    status = observation.configuration_statuses[0]
    observation.report(status, state=S.COMPLETED, summary=summary(), now=END)
    observation.charge(status, 226 / 3600)
    assert observation.mark_bad_data(END) == {44: pytest.approx(226 / 3600)}
    assert (observation.state, status.time_charged) == (O.BAD_DATA, 0.0)
    assert observation.mark_bad_data(END) == {}


@pytest.mark.parametrize("state", [O.PENDING, O.IN_PROGRESS, O.CANCELED, O.NOT_ATTEMPTED])
def test_only_finished_observations_can_be_marked_bad_data(state: O) -> None:
    observation = observation_of(r1_group().requests[0])
    observation._state = state
    with pytest.raises(ValidationError):
        observation.mark_bad_data(END)
    assert observation.state is state


def test_bad_data_may_mark_the_finished_statuses_too() -> None:
    observation = observation_of(r1_group().requests[0])
    observation.report(observation.configuration_statuses[0], state=S.FAILED, summary=summary(0), now=END)
    observation.mark_bad_data(END, statuses_too=True)
    assert observation.configuration_statuses[0].state is S.BAD_DATA


# ---------------------------------------------------------------------------------------------------------
# 6.6: cancellation by time to start


NOW = datetime(2016, 10, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("start_h", "end_h", "disposal", "state"),
    [
        (100, 101, Disposal.DELETE, O.PENDING),  # S12: 72 h or more ahead
        (72, 73, Disposal.DELETE, O.PENDING),
        (10, 11, Disposal.CANCEL, O.CANCELED),  # S12
        (-1, 1, Disposal.ABORT, O.ABORTED),  # S12: running
        (0, 1, Disposal.ABORT, O.ABORTED),  # starting now
        (-2, -1, Disposal.KEEP, O.PENDING),  # already over: left alone
    ],
)
def test_cancelling_depends_on_when_the_observation_starts(
    start_h: int, end_h: int, disposal: Disposal, state: O
) -> None:
    observation = observation_of(r1_group().requests[0])
    observation.start, observation.end = NOW + timedelta(hours=start_h), NOW + timedelta(hours=end_h)
    assert observation.cancel(NOW) is disposal
    assert observation.state is state


@pytest.mark.parametrize("state", [O.COMPLETED, O.FAILED, O.CANCELED, O.ABORTED, O.NOT_ATTEMPTED])
def test_finished_observations_are_never_cancelled(state: O) -> None:
    observation = observation_of(r1_group().requests[0])
    observation.start, observation.end = NOW + timedelta(hours=10), NOW + timedelta(hours=11)
    observation._state = state
    assert observation.cancel(NOW) is Disposal.KEEP
    assert observation.state is state


# ---------------------------------------------------------------------------------------------------------
# Placing a request (POST /api/observations/): scheduler.md 9


def plan(**changes: object) -> ObservationPlan:
    made = ObservationPlan(31, "elp", "doma", "1m0a", START, END, [StatusPlan(44, "fa05")])
    return evolve(made, **changes)


def placement_errors(group: RequestGroup, **changes: object) -> dict[str, object]:
    with pytest.raises(ValidationError) as caught:
        place(plan(**changes), group, group.requests[0], demo_observatory(), SUBMITTED)
    return caught.value.errors


def test_a_valid_plan_becomes_a_pending_observation_with_pending_statuses() -> None:
    group = r1_group()
    observation = place(plan(), group, group.requests[0], demo_observatory(), SUBMITTED)
    assert (observation.state, observation.telescope_key, observation.priority) == (O.PENDING, "elp.doma.1m0a", 10)
    assert [
        (s.configuration_id, s.instrument_name, s.guide_camera_name, s.state)
        for s in observation.configuration_statuses
    ] == [(44, "fa05", "", S.PENDING)]


def test_observations_must_end_after_they_start() -> None:  # X11
    errors = placement_errors(r1_group(), end=START)
    assert errors == {"non_field_errors": ["End time must be after start time"]}


def test_observations_must_lie_inside_a_window_whose_start_is_compared_without_microseconds() -> None:  # X12
    errors = placement_errors(r1_group(), start=WINDOW.end - timedelta(seconds=100), end=WINDOW.end + timedelta(1))
    assert errors == {"non_field_errors": ["The start and end times do not fall within any window of the request"]}
    group = r1_group()
    group.requests[0].windows = [Window(START + timedelta(microseconds=500), END)]
    assert place(plan(), group, group.requests[0], demo_observatory(), SUBMITTED).start == START


@pytest.mark.parametrize(
    ("telescope", "location"),
    [
        (("elp", "doma", "9m9z"), Location("1m0")),  # no such telescope
        (("ogg", "clma", "2m0a"), Location("1m0")),  # another class
        (("lsc", "doma", "1m0a"), Location("1m0", site="elp")),  # another site than asked
    ],
)
def test_observations_must_be_on_a_telescope_the_location_allows(
    telescope: tuple[str, str, str], location: Location
) -> None:  # X13
    site, enclosure, code = telescope
    errors = placement_errors(r1_group(location=location), site=site, enclosure=enclosure, telescope=code)
    assert errors == {
        "non_field_errors": ["The observation's site, enclosure and telescope must match the request location"]
    }


def test_statuses_name_an_instrument_of_the_type_at_the_telescope_and_its_guide_camera() -> None:  # X14
    group = r1_group()
    errors = placement_errors(group, statuses=[StatusPlan(44, "xx99")])
    assert errors == {"configuration_statuses": [{"instrument_name": ["Instrument xx99 is not at 1m0a.doma.elp"]}]}
    errors = placement_errors(group, statuses=[StatusPlan(44, "fa05", "nosuchguider")])
    assert errors == {
        "configuration_statuses": [
            {"guide_camera_name": ["Guide camera nosuchguider is not valid for instrument fa05"]}
        ]
    }
    errors = placement_errors(group, statuses=[StatusPlan(44, "fa05"), StatusPlan(99, "fa05")])
    assert errors == {"configuration_statuses": [{}, {"configuration": ["Configuration 99 is not part of request 31"]}]}


def test_only_pending_requests_can_be_placed() -> None:  # X15
    group = r1_group()
    group.cancel(SUBMITTED)
    assert placement_errors(group) == {"request": ["Request 31 is in state CANCELED and cannot be scheduled"]}


def test_without_statuses_each_configuration_and_repeat_gets_the_lowest_schedulable_instrument() -> None:
    group = r1_group()
    request = group.requests[0]
    request.configuration_repeats = 2
    observatory = demo_observatory()
    telescope = observatory.find_telescope("elp", "doma", "1m0a")
    assert telescope is not None
    statuses = default_statuses(request, telescope, observatory)
    assert [(s.configuration_id, s.instrument_name, s.guide_camera_name) for s in statuses] == [(44, "fa05", "")] * 2


def test_a_guided_configuration_gets_the_instruments_autoguider() -> None:
    group = r1_group()
    request = group.requests[0]
    request.configurations = [p0_configuration(guiding_config=GuidingConfig(mode="ON"))]
    observatory = demo_observatory()
    telescope = observatory.find_telescope("elp", "doma", "1m0a")
    assert telescope is not None
    instrument = observatory.find_instrument("fa05")
    assert instrument is not None
    guider = observatory.cameras[instrument.autoguider_camera_id].code
    assert [s.guide_camera_name for s in default_statuses(request, telescope, observatory)] == [guider]


def test_every_pair_of_pending_and_running_statuses_keeps_the_observation_open() -> None:
    for pair in itertools.product([S.PENDING, S.ATTEMPTED], repeat=2):
        assert observation_state_from(list(pair)) in (O.PENDING, O.IN_PROGRESS)
