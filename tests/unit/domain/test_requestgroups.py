"""The request language model and its state machine: requests.md 2 (defaults, target fields) and 6.1, 6.5, 6.6."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta

import pytest
from hypothesis import given

from domain.errors import DomainError, NotFoundError, ValidationError
from domain.requestgroups import (
    ALLOWED_FROM,
    AcquisitionConfig,
    Configuration,
    Constraints,
    GuidingConfig,
    IllegalTransitionError,
    InstrumentConfig,
    Location,
    ObservationType,
    Operator,
    OrbitalScheme,
    Request,
    RequestGroup,
    RequestGroupStateChanged,
    RequestGroupSubmitted,
    RequestState,
    RequestStateChanged,
    Target,
    TargetType,
    Window,
    aggregate_state,
    can_transition,
    check_transition,
    is_repeat_type,
    required_target_fields,
)
from tests.unit.domain.request_strategies import NOW, actions, request_groups

P, C, W, F, X = (
    RequestState.PENDING,
    RequestState.COMPLETED,
    RequestState.WINDOW_EXPIRED,
    RequestState.FAILURE_LIMIT_REACHED,
    RequestState.CANCELED,
)
WINDOW_END = datetime.fromisoformat("2016-10-29T21:12:19+00:00")
P0_WINDOW = Window(datetime.fromisoformat("2016-09-29T21:12:18+00:00"), WINDOW_END)


def p0_configuration() -> Configuration:
    return Configuration(
        instrument_type="1M0-SCICAM-SINISTRO",
        type="EXPOSE",
        instrument_configs=[InstrumentConfig(100, 1, optical_elements={"filter": "air"})],
        target=Target.icrs("fake target", 34.4, 20),
        constraints=Constraints(max_airmass=2.0),
    )


def make_group(operator: Operator = Operator.SINGLE, count: int = 1, kind: str = "NORMAL") -> RequestGroup:
    requests = [
        Request.create([p0_configuration()], windows=[P0_WINDOW] if kind == "NORMAL" else [], id=10 + n)
        for n in range(count)
    ]
    group = RequestGroup.submit(
        proposal="TEST_PROPOSAL",
        submitter="pi",
        name="test group",
        observation_type=kind,
        operator=operator,
        ipp_value=1.0,
        requests=requests,
        now=NOW,
    )
    group.id = 7
    group.events.clear()
    return group


# -- the model and its defaults (2.3-2.11) ------------------------------------------------------------------


def test_submission_starts_pending_numbers_configurations_and_records_the_submission() -> None:
    request = Request.create([p0_configuration(), p0_configuration()], windows=[P0_WINDOW])
    group = RequestGroup.submit(
        proposal="TEST_PROPOSAL",
        submitter="pi",
        name="test group",
        observation_type="NORMAL",
        operator="SINGLE",
        ipp_value=1.0,
        requests=[request],
        now=NOW,
    )
    assert group.state is P
    assert group.id is None
    assert request.state is P
    assert [c.priority for c in request.configurations] == [1, 2]
    assert group.created == request.created == NOW
    assert group.events == [RequestGroupSubmitted(group)]
    assert group.min_window_time == P0_WINDOW.start
    assert group.max_window_time == WINDOW_END


def test_defaults_are_the_spec_defaults() -> None:
    config = p0_configuration()
    request = Request.create([config])
    assert (request.configuration_repeats, request.optimization_type, request.observation_note) == (1, "TIME", "")
    assert request.acceptability_threshold is None  # filled per instrument type by validation
    assert Constraints() == Constraints(1.6, 30.0, 1.0, None, None, {})
    assert GuidingConfig().optional is True
    assert AcquisitionConfig().exposure_time is None
    target = config.target
    assert (target.proper_motion_ra, target.proper_motion_dec, target.parallax, target.epoch) == (0, 0, 0, 2000)
    assert config.repeat_duration is None
    assert config.fill_window is False


def test_a_naive_datetime_never_enters_the_domain() -> None:
    with pytest.raises(ValidationError) as refused:
        Window(datetime(2016, 10, 1), WINDOW_END)
    assert "start" in refused.value.errors


def test_an_icrs_target_keeps_only_its_own_fields_with_defaults_and_no_nulls() -> None:
    assert Target.icrs("fake target", 34.4, 20).type_fields() == {
        "name": "fake target",
        "type": TargetType.ICRS,
        "ra": 34.4,
        "dec": 20,
        "proper_motion_ra": 0.0,
        "proper_motion_dec": 0.0,
        "parallax": 0.0,
        "epoch": 2000.0,
        "extra_params": {},
    }


def test_an_orbital_elements_target_drops_the_sidereal_defaults() -> None:
    target = Target(
        "comet", "ORBITAL_ELEMENTS", scheme="MPC_COMET", epochofel=57660.0, eccentricity=0.99, perihdist=1.0
    )
    fields = target.type_fields()
    assert target.scheme is OrbitalScheme.MPC_COMET
    assert "proper_motion_ra" not in fields
    assert "epoch" not in fields
    assert fields["perihdist"] == 1.0
    assert "meandist" not in fields  # null, so dropped


ORBITAL_COMMON = ("name", "type", "scheme", "epochofel", "orbinc", "longascnode", "eccentricity")


@pytest.mark.parametrize(
    ("target_type", "scheme", "expected"),
    [
        ("ICRS", None, ("name", "type", "ra", "dec")),
        ("HOUR_ANGLE", None, ("name", "type", "hour_angle", "dec")),
        (
            "ORBITAL_ELEMENTS",
            "MPC_MINOR_PLANET",
            (*ORBITAL_COMMON, "argofperih", "meandist", "meananom"),
        ),
        (
            "ORBITAL_ELEMENTS",
            "ASA_MAJOR_PLANET",
            (*ORBITAL_COMMON, "longofperih", "meandist", "meanlong", "dailymot"),
        ),
    ],
)
def test_required_target_fields_follow_the_table_of_2_9(
    target_type: str, scheme: str | None, expected: tuple[str, ...]
) -> None:
    assert required_target_fields(TargetType(target_type), OrbitalScheme(scheme) if scheme else None) == expected


def test_satellite_targets_require_all_seven_motion_fields() -> None:
    assert len(required_target_fields(TargetType.SATELLITE)) == 9


def test_a_location_is_fully_set_only_with_all_four_parts() -> None:
    assert not Location("1m0").is_fully_set
    assert not Location("1m0", "coj", "doma").is_fully_set
    assert Location("1m0", "coj", "doma", "1m0a").is_fully_set


@pytest.mark.parametrize(
    ("code", "repeat"), [("REPEAT_EXPOSE", True), ("repeat_spectrum", True), ("EXPOSE", False), ("ARC", False)]
)
def test_repeat_types_are_those_whose_code_contains_repeat(code: str, repeat: bool) -> None:
    assert is_repeat_type(code) is repeat


def test_only_direct_and_real_time_are_unscheduled() -> None:
    assert {t for t in ObservationType if not t.is_scheduled} == {"DIRECT", "REAL_TIME"}


# -- the transition table (6.1), all 25 pairs ---------------------------------------------------------------

# Written out from the spec's table, independently of ALLOWED_FROM.
SPEC_ALLOWED = {(P, C), (W, C), (X, C), (F, C), (P, W), (P, X), (P, F), (C, P)}


@pytest.mark.parametrize(("old", "new"), list(itertools.product(RequestState, repeat=2)))
def test_every_transition_is_allowed_or_refused_as_the_table_says(old: RequestState, new: RequestState) -> None:
    allowed = old is new or (old, new) in SPEC_ALLOWED
    assert can_transition(old, new) is allowed
    if allowed:
        check_transition(old, new, 5)
    else:
        with pytest.raises(IllegalTransitionError) as refused:
            check_transition(old, new, 5)
        assert refused.value.errors == {"errors": [f"Cannot transition from request state {old} to {new} for 5"]}


def test_the_table_as_data_matches_the_spec() -> None:
    assert {(old, new) for new, olds in ALLOWED_FROM.items() for old in olds} == SPEC_ALLOWED


def test_terminal_states_are_all_but_pending() -> None:
    assert {s for s in RequestState if s.is_terminal} == {C, W, F, X}


# -- group state from its requests (6.5) --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("operator", "states", "expected"),
    [
        # S9
        (Operator.MANY, [W, C], C),
        (Operator.MANY, [X, F], F),
        (Operator.MANY, [P, C], P),
        # the rest of the priority lists
        (Operator.MANY, [W, F, X], W),
        (Operator.MANY, [X, X], X),
        (Operator.SINGLE, [W], W),
        (Operator.SINGLE, [P], P),
        (Operator.SINGLE, [C], C),
        (Operator.SINGLE, [F], F),
        (Operator.SINGLE, [X], X),
        (Operator.SINGLE, [C, W], W),
        (Operator.SINGLE, [P, C], P),
    ],
)
def test_group_state_is_the_first_state_of_the_operators_priority_list(
    operator: Operator, states: list[RequestState], expected: RequestState
) -> None:
    assert aggregate_state(operator, states) is expected


@pytest.mark.parametrize(
    ("states", "expected"),
    [([W, C], C), ([X, F], F), ([P, C], P)],
)
def test_a_many_group_takes_its_state_from_its_requests_s9(states: list[RequestState], expected: RequestState) -> None:
    group = make_group(Operator.MANY, 2)
    for request, state in zip(group.requests, states, strict=True):
        request._state = state  # arranging the requests' states directly; the verbs are tested below
    group.refresh_state(NOW)
    assert group.state is expected


# -- verbs -------------------------------------------------------------------------------------------------


def test_cancelling_a_pending_group_cancels_it_and_its_pending_requests() -> None:
    group = make_group(Operator.MANY, 2)
    group.complete_request(group.requests[0], NOW)
    group.events.clear()
    assert group.cancel(NOW + timedelta(hours=1)) is True
    assert group.state is X
    assert [r.state for r in group.requests] == [C, X]
    assert group.events == [RequestGroupStateChanged(7, P, X), RequestStateChanged(7, 11, P, X)]
    assert group.modified == NOW + timedelta(hours=1)


def test_cancelling_a_canceled_group_is_a_no_op_t24() -> None:
    group = make_group()
    group.cancel(NOW)
    group.events.clear()
    assert group.cancel(NOW) is False
    assert group.state is X
    assert group.events == []


def test_cancelling_a_completed_group_is_refused_with_the_spec_message_t24() -> None:
    group = make_group()
    group.complete_request(group.requests[0], NOW)
    group.events.clear()
    with pytest.raises(IllegalTransitionError) as refused:
        group.cancel(NOW)
    assert refused.value.errors == {"errors": ["Cannot transition from request state COMPLETED to CANCELED for 7"]}
    assert group.state is C
    assert group.requests[0].state is C
    assert group.events == []


def test_a_completed_request_completes_its_single_group_s2() -> None:
    group = make_group()
    assert group.complete_request(group.requests[0], NOW) is True
    assert (group.requests[0].state, group.state) == (C, C)
    assert group.events == [RequestStateChanged(7, 10, P, C), RequestGroupStateChanged(7, P, C)]


def test_a_late_success_completes_an_expired_request_and_group_s10() -> None:
    group = make_group()
    group.expire(WINDOW_END + timedelta(seconds=1))
    assert (group.requests[0].state, group.state) == (W, W)
    assert group.complete_request(group.requests[0], WINDOW_END + timedelta(days=1)) is True
    assert (group.requests[0].state, group.state) == (C, C)


def test_the_expiry_job_expires_requests_whose_last_window_has_ended_s11() -> None:
    group = make_group()
    assert group.expire(WINDOW_END - timedelta(seconds=1)) == []
    assert group.state is P
    expired = group.expire(datetime.fromisoformat("2016-10-30T00:00:00+00:00"))
    assert expired == group.requests
    assert (group.requests[0].state, group.state) == (W, W)
    assert RequestStateChanged(7, 10, P, W) in group.events


def test_the_expiry_job_leaves_direct_groups_to_their_observations() -> None:
    group = make_group(kind="DIRECT")
    assert group.expire(NOW + timedelta(days=1000)) == []
    assert group.expire_request(group.requests[0], NOW) is True
    assert group.state is W


def test_a_many_group_stays_pending_while_any_request_is_pending() -> None:
    group = make_group(Operator.MANY, 2)
    group.complete_request(group.requests[0], NOW)
    assert group.state is P
    group.expire_request(group.requests[1], NOW)
    assert group.state is C


def test_reaching_the_failure_limit_finishes_the_request_and_its_single_group_s5() -> None:
    group = make_group()
    assert group.reach_failure_limit(group.requests[0], NOW) is True
    assert (group.requests[0].state, group.state) == (F, F)


def test_automatic_changes_skip_illegal_transitions_silently() -> None:
    group = make_group()
    group.complete_request(group.requests[0], NOW)
    group.events.clear()
    assert group.reach_failure_limit(group.requests[0], NOW) is False
    assert group.expire_request(group.requests[0], NOW) is False
    assert group.complete_request(group.requests[0], NOW) is False  # same state: nothing to do
    assert group.expire(WINDOW_END + timedelta(days=1)) == []
    assert (group.requests[0].state, group.state) == (C, C)
    assert group.events == []


def test_bad_data_sends_a_completed_request_and_its_group_back_to_pending_while_time_remains_s7() -> None:
    group = make_group()
    group.complete_request(group.requests[0], NOW)
    group.events.clear()
    assert group.reset_after_bad_data(group.requests[0], NOW + timedelta(days=2)) is True
    assert (group.requests[0].state, group.state) == (P, P)
    assert group.events == [RequestStateChanged(7, 10, C, P), RequestGroupStateChanged(7, C, P)]


def test_bad_data_after_the_last_window_changes_nothing() -> None:
    group = make_group()
    group.complete_request(group.requests[0], NOW)
    assert group.reset_after_bad_data(group.requests[0], WINDOW_END) is False
    assert (group.requests[0].state, group.state) == (C, C)


def test_bad_data_does_not_revive_a_request_of_a_canceled_group() -> None:
    group = make_group(Operator.MANY, 2)
    group.complete_request(group.requests[0], NOW)
    group.cancel(NOW)
    assert group.reset_after_bad_data(group.requests[0], NOW) is False
    assert [r.state for r in group.requests] == [C, X]


def test_a_bad_data_reset_of_one_request_reopens_a_many_group() -> None:
    group = make_group(Operator.MANY, 2)
    group.complete_request(group.requests[0], NOW)
    group.expire_request(group.requests[1], NOW)
    assert group.state is C
    assert group.reset_after_bad_data(group.requests[0], NOW) is True
    assert group.state is P


def test_refreshing_never_reopens_a_finished_group() -> None:
    group = make_group()
    group.complete_request(group.requests[0], NOW)
    group.requests[0]._state = P  # as if stored data disagreed; only the BAD_DATA verb may reopen
    assert group.refresh_state(NOW) is False
    assert group.state is C


def test_verbs_refuse_a_request_of_another_group() -> None:
    group, other = make_group(), make_group()
    with pytest.raises(DomainError):
        group.complete_request(other.requests[0], NOW)


def test_requests_are_found_by_id() -> None:
    group = make_group(Operator.MANY, 2)
    assert group.request(11) is group.requests[1]
    with pytest.raises(NotFoundError):
        group.request(99)


# -- properties ----------------------------------------------------------------------------------------------


def _apply(group: RequestGroup, verb: str, index: int, hours: int) -> bool:
    """Run one verb; True when it was a BAD_DATA reset that succeeded."""
    now = NOW + timedelta(hours=hours)
    request = group.requests[index % len(group.requests)]
    if verb == "cancel":
        state = group.state
        try:
            group.cancel(now)
        except IllegalTransitionError:
            # A refused user action changes nothing.
            assert group.state is state
            assert group.events == []
    elif verb == "complete":
        group.complete_request(request, now)
    elif verb == "fail":
        group.reach_failure_limit(request, now)
    elif verb == "expire_request":
        group.expire_request(request, now)
    elif verb == "expire":
        group.expire(now)
    elif verb == "reset":
        return group.reset_after_bad_data(request, now)
    else:
        group.refresh_state(now)
    return False


@given(request_groups(), actions)
def test_any_sequence_of_verbs_follows_the_table_and_terminal_states_stay_terminal(
    group: RequestGroup, steps: list[tuple[str, int, int]]
) -> None:
    for verb, index, hours in steps:
        before = [r.state for r in group.requests]
        group_before = group.state
        group.events.clear()
        reset = _apply(group, verb, index, hours)
        for event in group.events:
            assert isinstance(event, RequestStateChanged | RequestGroupStateChanged)
            assert event.old is not event.new
            assert can_transition(event.old, event.new)
            # PENDING is re-entered only by a successful BAD_DATA reset.
            assert event.new is not P or reset
        if not reset:
            for old, request in zip(before, group.requests, strict=True):
                assert not old.is_terminal or request.state.is_terminal
            assert not group_before.is_terminal or group.state.is_terminal
        if group.state in (X, W):
            assert P not in [r.state for r in group.requests]
