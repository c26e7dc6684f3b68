"""The cadence use case edge to edge over in-memory adapters on the reference world (requests.md 8.1): the
visibility hooks it builds, the validation of the expanded group, and that nothing is stored."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from adapters.request_wire import parse_request_group
from application.handlers.requestgroups import VisibilityHooks
from application.ports import UnitOfWork
from application.request_helpers import expand_cadence
from domain.errors import AuthenticationError, ValidationError
from domain.permissions import Actor
from domain.requestgroups import Operator, Request, RequestGroup
from tests.unit.application.test_request_group_handlers import NOW, World, payload

CADENCE = {"start": "2016-09-01T00:00:00Z", "end": "2016-09-03T00:00:00Z", "period": 24, "jitter": 12}


def cadence_body(**cadence: Any) -> dict[str, Any]:
    body = payload()
    body["requests"][0]["windows"] = []
    body["requests"][0]["cadence"] = {**CADENCE, **cadence}
    return body


@pytest.fixture
def world() -> World:
    return World()


def expand(world: World, body: dict[str, Any], who: str = "pi", now: datetime = NOW, hooks: Any = None) -> RequestGroup:
    return expand_cadence(world.uow(), world.users[who], parse_request_group(body, now=now), now, hooks)


def refused(world: World, body: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    groups, hours = set(world.store.request_groups), world.hours()
    with pytest.raises(ValidationError) as caught:
        expand(world, body, **kwargs)
    assert set(world.store.request_groups) == groups
    assert world.hours() == hours
    return caught.value.errors


class RecordingHooks:
    """A hooks factory double: counts only the part of the one window after the ``now`` it was built with,
    as the real hooks do (3.8 step 4), scaled by ``visible`` (1 = all of it, 0 = nothing)."""

    def __init__(self, visible: float = 1.0) -> None:
        self.visible = visible
        self.built_at: list[datetime] = []

    def __call__(self, uow: UnitOfWork, now: datetime) -> VisibilityHooks:
        self.built_at.append(now)

        def largest(request: Request) -> float:
            window = request.windows[0]
            return max((window.end - max(window.start, now)).total_seconds(), 0.0) * self.visible

        def no_messages(_: Request, __: float) -> Sequence[str]:
            return []

        return VisibilityHooks(largest, no_messages)


def test_c1_without_visibility_every_window_counts_and_the_group_comes_back_validated_and_unsaved(
    world: World,
) -> None:
    group = expand(world, cadence_body())
    assert group.operator is Operator.MANY
    assert (group.id, group.created, group.submitter, group.proposal) == (None, None, "pi", "TEST_PROPOSAL")
    assert [r.duration for r in group.requests] == [226, 226]
    assert [r.configurations[0].instrument_configs[0].mode for r in group.requests] == ["full_frame"] * 2
    assert all(r.id is None for r in group.requests)
    assert world.store.request_groups == {}
    assert world.a1().ipp_time_available == 5.0


def test_c7_with_hooks_that_see_nothing_the_cadence_is_refused(world: World) -> None:
    errors = refused(world, cadence_body(), hooks=RecordingHooks(visible=0.0))
    assert errors == {"errors": "No visible requests within cadence window parameters"}


def test_the_hooks_of_the_expansion_are_built_at_the_cadence_start_so_the_past_part_of_a_window_counts(
    world: World,
) -> None:
    # At 05:58 on 09-02 the window [09-01 18:00, 09-02 06:00] has two minutes left, less than the request's 226 s;
    # counted whole (the past is not excluded, 7.1) it is kept. Validation afterwards is built at the real now.
    now = datetime(2016, 9, 2, 5, 58, tzinfo=UTC)
    hooks = RecordingHooks()
    group = expand(world, cadence_body(), now=now, hooks=hooks)
    assert [(r.windows[0].start, r.windows[0].end) for r in group.requests] == [
        (datetime(2016, 9, 1, 18, tzinfo=UTC), datetime(2016, 9, 2, 6, tzinfo=UTC))
    ]
    assert hooks.built_at == [datetime(2016, 9, 1, tzinfo=UTC), now]
    assert group.operator is Operator.SINGLE


def test_the_expanded_group_is_validated_like_a_submission(world: World) -> None:
    assert refused(world, cadence_body(), who="outsider") == {
        "non_field_errors": ["You do not belong to the proposal you are trying to submit with"]
    }
    body = cadence_body(start="2016-12-30T00:00:00Z", end="2017-01-02T00:00:00Z")
    errors = refused(world, body)
    assert errors["requests"][0] == {}  # 12-30: inside 2016B
    assert errors["requests"][2]["windows"] == [
        {"non_field_errors": ["The observation window does not fit within any defined semester."]}
    ]


def test_a_cadence_request_with_bad_configurations_is_refused_before_any_window_is_made(world: World) -> None:
    body = cadence_body()
    body["requests"][0]["configurations"][0]["instrument_type"] = "1M0-NOTHING"
    hooks = RecordingHooks()
    errors = refused(world, body, hooks=hooks)
    (problems,) = errors["requests"][0]["configurations"]
    assert problems["instrument_type"][0].startswith("Invalid instrument type 1M0-NOTHING.")
    assert hooks.built_at == []


def test_cadence_rules_are_reported_on_the_cadence_request_only(world: World) -> None:
    body = cadence_body(start="2016-09-05T00:00:00Z", end="2016-09-04T00:00:00Z")
    plain = payload()["requests"][0]
    body["requests"].insert(0, plain)
    assert refused(world, body) == {
        "requests": [{}, {"cadence": {"non_field_errors": ["Cadence end must be after cadence start"]}}]
    }


def test_a_plain_request_beside_a_cadence_passes_through(world: World) -> None:
    body = cadence_body()
    body["requests"].insert(0, payload()["requests"][0])
    group = expand(world, body)
    assert len(group.requests) == 3
    assert group.requests[0].windows[0].start == datetime(2016, 9, 29, 21, 12, 18, tzinfo=UTC)
    assert group.requests[1].windows[0].end - group.requests[1].windows[0].start == timedelta(hours=6)


def test_anonymous_callers_are_refused(world: World) -> None:
    with pytest.raises(AuthenticationError):
        expand_cadence(world.uow(), Actor.anonymous(), parse_request_group(cadence_body(), now=NOW), NOW)
