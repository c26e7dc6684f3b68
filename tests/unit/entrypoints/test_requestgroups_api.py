"""Submitting, validating and cancelling request groups over HTTP (api.md 4.1, 5.3, 8.2; requests.md 3.2, 4.4,
5.3, 8.2-8.4) on the reference world of requests.md 8.1, through the TestClient.

Every refusal is checked twice: the exact answer, and a store that did not change (no group, no hours, no IPP).
The sky check of 3.8 runs on the container's astropy adapter in the tests that ask for ``real_sky``; the others
switch it off (it costs half a second a submission), and one double shows the bus and the dry runs share it.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from dependency_injector import providers

from adapters.clock import FixedClock
from application.handlers.requestgroups import TIME_LIMIT_EXCEEDED, VisibilityHooks
from domain.observatory import Observatory
from domain.requestgroups import RequestState
from entrypoints.container import Container
from tests.unit.domain.observatory_fixtures import demo_observatory
from tests.unit.entrypoints.portal_world import FORBIDDEN, NOT_FOUND, NOT_PROVIDED, Client, ok, refused
from tests.unit.entrypoints.request_world import (
    FLOYDS,
    GROUPS,
    MAX_IPP,
    NOW,
    OTHER,
    P0,
    REQUESTS,
    SINISTRO,
    SLEEPY,
    TEST,
    VALIDATE,
    World,
    configuration_of,
    floyds,
    load_world,
    p0,
    refusal,
    sky_check_unless_asked,
    submitted,
    unchanged,
)

NOT_A_MEMBER = "You do not belong to the proposal you are trying to submit with"
DATETIME_HELP = (
    "Datetime has wrong format. Use one of these formats instead: YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z]."
)
R15_ERRORS = {
    "requests": [{"configurations": [{"target": {"ra": ["Ensure this value is less than or equal to 360."]}}]}]
}


@pytest.fixture
def observatory() -> Observatory:
    return demo_observatory()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
def world(container: Container) -> Iterator[World]:
    yield from load_world(container)


@pytest.fixture(autouse=True)
def _sky(container: Container, request: pytest.FixtureRequest) -> Iterator[None]:
    yield from sky_check_unless_asked(container, request.fixturenames)


@pytest.fixture
def real_sky() -> None:
    """Asked for by the tests that run the real sky check (the astropy adapter the container wires)."""


def r15() -> dict[str, Any]:
    body = p0()
    configuration_of(body)["target"]["ra"] = 361
    return body


# --- Submission and the 5.3 echo ----------------------------------------------------------------------------


def test_r1_p0_is_stored_pending_and_echoed_in_the_detail_shape(client: Client, world: World, real_sky: None) -> None:
    with_hours = world.allocation().hours()
    body = submitted(client, world, P0)
    group_id, request_id = body["id"], body["requests"][0]["id"]
    configuration_id = body["requests"][0]["configurations"][0]["id"]
    assert all(isinstance(i, int) for i in (group_id, request_id, configuration_id))
    assert body == {
        "id": group_id,
        "submitter": "pi",
        "proposal": TEST,
        "name": "test group",
        "observation_type": "NORMAL",
        "operator": "SINGLE",
        "ipp_value": 1.0,
        "state": "PENDING",
        "created": "2016-09-01T00:00:00Z",
        "modified": "2016-09-01T00:00:00Z",
        "requests": [
            {
                "id": request_id,
                "state": "PENDING",
                "duration": 226,
                "acceptability_threshold": 90.0,
                "configuration_repeats": 1,
                "optimization_type": "TIME",
                "observation_note": "",
                "extra_params": {},
                "suspend_until": None,
                "created": "2016-09-01T00:00:00Z",
                "modified": "2016-09-01T00:00:00Z",
                "location": {"telescope_class": "1m0"},
                "windows": [{"start": "2016-09-29T21:12:18Z", "end": "2016-10-29T21:12:19Z"}],
                "configurations": [
                    {
                        "id": configuration_id,
                        "priority": 1,
                        "type": "EXPOSE",
                        "instrument_type": SINISTRO,
                        "extra_params": {},
                        "instrument_configs": [
                            {
                                "exposure_time": 100.0,
                                "exposure_count": 1,
                                "mode": "full_frame",
                                "rotator_mode": "",
                                "optical_elements": {"filter": "air"},
                                "extra_params": {"bin_x": 1, "bin_y": 1},
                            }
                        ],
                        "acquisition_config": {"mode": "OFF", "extra_params": {}},
                        # exposure_time is an extra key (api.md rule 12) that pyobs decodes.
                        "guiding_config": {
                            "mode": "OFF",
                            "optional": True,
                            "optical_elements": {},
                            "exposure_time": None,
                            "extra_params": {},
                        },
                        "target": {
                            "name": "fake target",
                            "type": "ICRS",
                            "ra": 34.4,
                            "dec": 20.0,
                            "proper_motion_ra": 0.0,
                            "proper_motion_dec": 0.0,
                            "parallax": 0.0,
                            "epoch": 2000.0,
                            "extra_params": {},
                        },
                        "constraints": {
                            "max_airmass": 2.0,
                            "min_lunar_distance": 30.0,
                            "max_lunar_phase": 1.0,
                            "extra_params": {},
                        },
                    }
                ],
            }
        ],
    }
    assert ok(client.get(f"{GROUPS}{group_id}/", headers=world.headers("pi"))) == body  # read back the same
    assert world.store.request_groups[group_id].state is RequestState.PENDING
    assert world.allocation().hours() == with_hours  # nothing charged, and ipp 1.0 moves no IPP


def test_r20_naive_and_space_separated_window_times_are_utc(client: Client, world: World) -> None:
    body = p0()
    body["requests"][0]["windows"] = [{"start": "2016-09-29 21:12:18", "end": "2016-10-29T21:12:19"}]
    echoed = submitted(client, world, body)["requests"][0]["windows"]
    assert echoed == [{"start": "2016-09-29T21:12:18Z", "end": "2016-10-29T21:12:19Z"}]


def test_unknown_keys_are_ignored_at_every_level(client: Client, world: World) -> None:
    body = p0(ui_only="x")
    configuration_of(body)["constraints"]["max_lunar_distance"] = 50  # AEONlib sends it (R19)
    configuration_of(body)["target"]["colour"] = "red"
    echoed = submitted(client, world, body)
    assert "ui_only" not in echoed
    configuration = echoed["requests"][0]["configurations"][0]
    assert "max_lunar_distance" not in configuration["constraints"]
    assert "colour" not in configuration["target"]


def test_r4_a_configuration_type_the_instrument_lacks_is_refused_on_the_configuration(
    client: Client, world: World
) -> None:
    body = floyds()
    configuration_of(body)["type"] = "EXPOSE"
    message = "configuration type EXPOSE is not valid for instrument type 2M0-FLOYDS-SCICAM"
    assert refusal(client, world, body) == (
        400,
        {"requests": [{"configurations": [{"non_field_errors": [message]}]}]},
    )


def test_r2_the_floyds_payload_is_accepted_with_its_defaults(client: Client, world: World) -> None:
    request = submitted(client, world, floyds())["requests"][0]
    configuration = request["configurations"][0]
    assert (request["duration"], request["acceptability_threshold"]) == (504, 100.0)
    assert (configuration["acquisition_config"]["mode"], configuration["guiding_config"]["mode"]) == ("WCS", "ON")
    assert configuration["instrument_configs"][0]["rotator_mode"] == "VFLOAT"


def test_r15_a_field_error_is_answered_at_its_nested_path(client: Client, world: World) -> None:
    assert refusal(client, world, r15()) == (400, R15_ERRORS)


def test_r16_a_missing_required_target_field(client: Client, world: World) -> None:
    body = p0()
    del configuration_of(body)["target"]["dec"]
    assert refusal(client, world, body) == (
        400,
        {"requests": [{"configurations": [{"target": {"dec": ["This field is required."]}}]}]},
    )


def test_a_cadence_block_belongs_to_the_cadence_endpoint(client: Client, world: World) -> None:
    body = p0()
    body["requests"][0]["cadence"] = {
        "start": "2016-09-01T00:00:00Z",
        "end": "2016-09-03T00:00:00Z",
        "period": 24,
        "jitter": 12,
    }
    assert refusal(client, world, body) == (
        400,
        {"requests": [{"cadence": ["Please use the cadence endpoint to expand your cadence request"]}]},
    )


# --- Permissions, proposals, time (8.4) -------------------------------------------------------------------------


def test_t1_t20_only_members_may_submit(client: Client, world: World) -> None:
    for who in ("outsider", "staff", "staffview"):
        assert refusal(client, world, P0, who) == (400, {"non_field_errors": [NOT_A_MEMBER]})


def test_t2_an_inactive_proposal_cannot_submit(client: Client, world: World) -> None:
    assert refusal(client, world, p0(proposal=SLEEPY)) == (
        400,
        {"non_field_errors": ["The proposal you are trying to submit with is currently inactive"]},
    )


@pytest.mark.parametrize("ipp_value", [2.5, 0.4])
def test_t3_ipp_value_out_of_range(client: Client, world: World, ipp_value: float) -> None:
    assert refusal(client, world, p0(ipp_value=ipp_value)) == (
        400,
        {"non_field_errors": ["requestgroups ipp_value must be >= 0.5, <= 2.0"]},
    )


def test_t6_a_ci_over_the_limit_the_pi_set_is_refused(client: Client, world: World) -> None:
    membership = world.store.proposals[TEST].membership_of(world.user_ids["ci"])
    assert membership is not None
    limit = {"time_limit_hours": 0.05}  # 180 s < 226 s
    ok(client.post(f"/api/memberships/{membership.id}/limit/", json=limit, headers=world.headers("pi")))
    assert refusal(client, world, P0, "ci") == (400, {"non_field_errors": [TIME_LIMIT_EXCEEDED]})
    submitted(client, world, P0, "pi")  # the PI has no limit


def test_t7_t8_ipp_is_debited_on_submission_and_credited_back_on_cancel(client: Client, world: World) -> None:
    group = submitted(client, world, p0(ipp_value=1.5))
    assert world.allocation().ipp_time_available == pytest.approx(4.968611, abs=1e-6)
    canceled = ok(client.post(f"{GROUPS}{group['id']}/cancel/", headers=world.headers("pi")))
    assert canceled["state"] == "CANCELED"
    assert [r["state"] for r in canceled["requests"]] == ["CANCELED"]
    assert {k: v for k, v in canceled.items() if k not in ("state", "requests")} == {
        k: v for k, v in group.items() if k not in ("state", "requests")
    }
    assert world.store.request_groups[group["id"]].state is RequestState.CANCELED
    assert world.allocation().ipp_time_available == pytest.approx(5.0, abs=1e-9)


def test_t9_not_enough_ipp_changes_nothing(client: Client, world: World) -> None:
    world.allocation().ipp_time_available = 0.01
    status, body = refusal(client, world, p0(ipp_value=2.0))
    assert status == 400
    (message,) = body["non_field_errors"]
    assert "requires more IPP time than you have available" in message
    assert "<= 1.159" in message


def test_t13_not_enough_time_allocated(client: Client, world: World) -> None:
    world.allocation().std_allocation = 0.05
    assert refusal(client, world, P0) == (
        400,
        {"non_field_errors": ["Proposal TEST_PROPOSAL does not have enough NORMAL time allocated in semester 2016B"]},
    )


def test_t10_t11_max_allowable_ipp_per_semester_and_instrument_type(client: Client, world: World) -> None:
    with unchanged(world):
        body = ok(client.post(MAX_IPP, json=p0(ipp_value=2.0), headers=world.headers("pi")))
    assert body == {
        "2016B": {
            SINISTRO: {
                "ipp_time_available": 5.0,
                "ipp_limit": 10.0,
                "request_duration": pytest.approx(0.0627777777),
                "max_allowable_ipp_value": 2.0,
                "min_allowable_ipp_value": 0.5,
            }
        }
    }
    world.allocation().ipp_time_available = 0.01
    body = ok(client.post(MAX_IPP, json=P0, headers=world.headers("pi")))
    assert body["2016B"][SINISTRO]["max_allowable_ipp_value"] == 1.159


def test_max_allowable_ipp_answers_errors_inside_a_200(client: Client, world: World) -> None:
    assert refusal(client, world, P0, "outsider", MAX_IPP) == (200, {"errors": {"non_field_errors": [NOT_A_MEMBER]}})
    assert refusal(client, world, r15(), "pi", MAX_IPP) == (200, {"errors": R15_ERRORS})


def _visible(client: Client, world: World, group_id: int, who: str) -> int:
    headers = world.headers(who) if who != "anonymous" else {}
    return client.get(f"{GROUPS}{group_id}/", headers=headers).status_code


def test_t21_t22_who_may_read_a_group(client: Client, world: World) -> None:
    mine = submitted(client, world, P0)["id"]
    public = submitted(client, world, p0(proposal=OTHER), "outsider")["id"]
    callers = ("anonymous", "outsider", "ci", "staff", "staffview")
    assert [_visible(client, world, mine, who) for who in callers] == [404, 404, 200, 404, 200]
    assert [_visible(client, world, public, who) for who in callers] == [200, 200, 404, 404, 200]
    assert client.get(f"{GROUPS}{mine}/").json() == NOT_FOUND


def test_t23_outsiders_cannot_cancel_and_members_can(client: Client, world: World) -> None:
    group_id = submitted(client, world, P0)["id"]
    with unchanged(world):
        assert refused(client.post(f"{GROUPS}{group_id}/cancel/", headers=world.headers("outsider"))) == (
            404,
            NOT_FOUND,
        )
        assert refused(client.post(f"{GROUPS}{group_id}/cancel/", headers=world.headers("staff"))) == (404, NOT_FOUND)
        assert refused(client.post(f"{GROUPS}{group_id}/cancel/")) == (403, NOT_PROVIDED)
    assert ok(client.post(f"{GROUPS}{group_id}/cancel", headers=world.headers("ci")))["state"] == "CANCELED"


def test_t24_cancel_is_idempotent_and_refused_for_a_finished_group(
    client: Client, world: World, container: Container
) -> None:
    group_id = submitted(client, world, P0)["id"]
    first = ok(client.post(f"{GROUPS}{group_id}/cancel/", headers=world.headers("pi")))
    with unchanged(world):
        again = ok(client.post(f"{GROUPS}{group_id}/cancel/", headers=world.headers("pi")))
    assert again == first
    done = submitted(client, world, P0)["id"]
    with container.uow_factory()() as uow:
        group = uow.request_groups.get(done)
        assert group is not None
        group.complete_request(group.requests[0], NOW)
        uow.commit()
    with unchanged(world):
        response = client.post(f"{GROUPS}{done}/cancel/", headers=world.headers("pi"))
    assert refused(response) == (
        400,
        {"errors": [f"Cannot transition from request state COMPLETED to CANCELED for {done}"]},
    )


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
def test_t26_b18_request_groups_are_immutable(client: Client, world: World, method: str) -> None:
    group_id = submitted(client, world, P0)["id"]
    with unchanged(world):
        response = client.request(method, f"{GROUPS}{group_id}/", json=P0, headers=world.headers("pi"))
    assert refused(response) == (405, {"detail": f'Method "{method}" not allowed.'})
    assert "GET" in response.headers["allow"]


# --- suspend_until (T25, B17, B23) ---------------------------------------------------------------------------


def _suspend(client: Client, world: World, request_id: int, body: Any, who: str | None = "staff") -> Any:
    return client.patch(f"{REQUESTS}{request_id}/", json=body, headers=world.headers(who) if who else {})


def test_t25_staff_suspend_a_pending_request_and_others_may_not(client: Client, world: World) -> None:
    request_id = submitted(client, world, P0)["requests"][0]["id"]
    until = {"suspend_until": "2016-09-10T00:00:00Z", "state": "CANCELED"}  # other keys are ignored
    with unchanged(world):
        assert refused(_suspend(client, world, request_id, until, "pi")) == (403, FORBIDDEN)
        assert refused(_suspend(client, world, request_id, until, None)) == (403, NOT_PROVIDED)
    assert ok(_suspend(client, world, request_id, until)) == {"suspend_until": "2016-09-10T00:00:00Z"}
    stored = ok(client.get(f"{REQUESTS}{request_id}", headers=world.headers("pi")))
    assert (stored["suspend_until"], stored["state"]) == ("2016-09-10T00:00:00Z", "PENDING")
    assert ok(_suspend(client, world, request_id, {"suspend_until": None}, "staffview")) == {"suspend_until": None}
    assert world.store.request_groups[stored_group(world, request_id)].requests[0].suspend_until is None


def stored_group(world: World, request_id: int) -> int:
    return next(g.id for g in world.store.request_groups.values() if g.requests[0].id == request_id)


def test_b23_suspend_until_must_be_given_in_the_future_on_a_pending_request(client: Client, world: World) -> None:
    group = submitted(client, world, P0)
    request_id = group["requests"][0]["id"]

    def refusal_of(body: Any) -> tuple[int, Any]:
        with unchanged(world):
            return refused(_suspend(client, world, request_id, body))

    assert refusal_of({}) == (400, {"suspend_until": ["The suspend_until value must be set on update requests"]})
    past = {"suspend_until": "2016-08-31T00:00:00Z"}
    assert refusal_of(past) == (400, {"suspend_until": ["The suspend_until value must be in the future"]})
    assert refusal_of({"suspend_until": "soon"}) == (400, {"suspend_until": [DATETIME_HELP]})
    assert refusal_of([]) == (400, {"non_field_errors": ["Invalid data. Expected a dictionary, but got list."]})
    ok(client.post(f"{GROUPS}{group['id']}/cancel/", headers=world.headers("pi")))
    assert refusal_of({"suspend_until": "2016-09-10T00:00:00Z"}) == (
        400,
        {"suspend_until": ["Can only suspend scheduling on PENDING Requests - this request state is CANCELED"]},
    )
    with unchanged(world):
        assert refused(_suspend(client, world, 999999, {"suspend_until": None})) == (404, NOT_FOUND)
        assert refused(client.put(f"{REQUESTS}{request_id}/", json={}, headers=world.headers("staff")))[0] == 405


# --- validate (V12, V13) -------------------------------------------------------------------------------------


def test_v12_validate_answers_the_durations_and_stores_nothing(client: Client, world: World, real_sky: None) -> None:
    with unchanged(world):
        body = ok(client.post(VALIDATE, json=P0, headers=world.headers("pi")))
    assert body["errors"] == {}
    durations = body["request_durations"]
    assert durations["duration"] == 226
    (request,) = durations["requests"]
    assert set(request) == {"duration", "largest_interval", "configurations"}
    assert request["duration"] == 226
    assert request["configurations"] == [{"duration": 131.5, "instrument_configs": [{"duration": 115.5}]}]
    assert request["largest_interval"] > 0


def _in_window(start: str, end: str) -> dict[str, Any]:
    body = p0()
    body["requests"][0]["windows"] = [{"start": start, "end": end}]
    return body


def test_v7_a_target_that_never_rises_high_enough_is_refused_on_the_request(
    client: Client, world: World, real_sky: None
) -> None:
    body = p0()
    configuration_of(body)["target"]["dec"] = 89
    configuration_of(body)["constraints"]["max_airmass"] = 1.6
    status, answer = refusal(client, world, body)
    assert status == 400
    (message,) = answer["requests"][0]["non_field_errors"]
    assert "the target will not be visible within the time window" in message


def test_v8_v9_a_window_must_hold_the_whole_request(client: Client, world: World, real_sky: None) -> None:
    status, answer = refusal(client, world, _in_window("2016-10-01T08:00:00Z", "2016-10-01T08:02:00Z"))  # W120
    assert status == 400
    (message,) = answer["requests"][0]["non_field_errors"]
    assert "the target will only be visible for a maximum of 0.03 hours within the time window" in message
    assert "0.06 hours" in message
    accepted = submitted(client, world, _in_window("2016-10-01T08:00:00Z", "2016-10-01T08:09:01Z"))  # W541
    assert accepted["requests"][0]["duration"] == 226


def test_v13_validate_answers_field_errors_inside_a_200(client: Client, world: World) -> None:
    assert refusal(client, world, r15(), "pi", VALIDATE) == (200, {"request_durations": {}, "errors": R15_ERRORS})
    assert refusal(client, world, P0, "outsider", VALIDATE) == (
        200,
        {"request_durations": {}, "errors": {"non_field_errors": [NOT_A_MEMBER]}},
    )
    status, body = refusal(client, world, {}, "pi", VALIDATE)
    assert (status, body["request_durations"], body["errors"]["proposal"]) == (200, {}, ["This field is required."])


def test_the_dry_runs_need_an_account(client: Client, world: World) -> None:
    for path in (VALIDATE, MAX_IPP):
        assert refusal(client, world, P0, None, path) == (403, NOT_PROVIDED)


class _SkyDouble:
    """Hooks that report every request visible for ``largest_s`` seconds, or not at all."""

    def __init__(self, largest_s: float, messages: list[str]) -> None:
        self.largest_s, self.messages = largest_s, messages
        self.calls: list[datetime] = []

    def __call__(self, uow: Any, now: datetime) -> VisibilityHooks:
        uow.observatory.get()  # the factory may read the store: its unit of work must be open
        self.calls.append(now)
        return VisibilityHooks(lambda _: self.largest_s, lambda _r, _s: self.messages)


@pytest.fixture
def sky(container: Container) -> Iterator[_SkyDouble]:
    double = _SkyDouble(541.0, [])
    container.visibility_hooks.override(providers.Object(double))
    yield double
    container.visibility_hooks.reset_last_overriding()


def test_validate_and_submit_use_the_containers_visibility_hooks(client: Client, world: World, sky: _SkyDouble) -> None:
    body = ok(client.post(VALIDATE, json=P0, headers=world.headers("pi")))
    assert body["request_durations"]["requests"][0]["largest_interval"] == 541.0
    sky.messages = ["the target will not be visible within the time window"]
    errors = {"requests": [{"non_field_errors": sky.messages}]}
    assert refusal(client, world, P0) == (400, errors)
    assert refusal(client, world, P0, "pi", VALIDATE) == (200, {"request_durations": {}, "errors": errors})
    assert sky.calls == [NOW, NOW, NOW]


# --- Bad inputs (api.md 8.2) --------------------------------------------------------------------------------


def test_b1_malformed_json(client: Client, world: World) -> None:
    for path in (GROUPS, VALIDATE, MAX_IPP):
        with unchanged(world):
            response = client.post(
                path, content=b'{"name": ', headers={**world.headers("pi"), "Content-Type": "application/json"}
            )
        assert response.status_code == 400
        assert response.json()["detail"].startswith("JSON parse error - ")


def test_b2_an_empty_body_names_every_required_field(client: Client, world: World) -> None:
    required = ["This field is required."]
    with unchanged(world):
        response = client.post(GROUPS, content=b"", headers={**world.headers("pi"), "Content-Type": "application/json"})
    assert refused(response) == (
        400,
        {
            "proposal": required,
            "name": required,
            "observation_type": required,
            "operator": required,
            "ipp_value": required,
            "requests": required,
        },
    )


@pytest.mark.parametrize(("body", "kind"), [([P0], "list"), ("P0", "str")])
def test_b3_a_body_that_is_not_an_object(client: Client, world: World, body: Any, kind: str) -> None:
    assert refusal(client, world, body) == (
        400,
        {"non_field_errors": [f"Invalid data. Expected a dictionary, but got {kind}."]},
    )


def _in_instrument_config(errors: dict[str, Any]) -> dict[str, Any]:
    return {"requests": [{"configurations": [{"instrument_configs": [errors]}]}]}


def test_b4_wrong_types_are_reported_at_their_nested_path(client: Client, world: World) -> None:
    assert refusal(client, world, p0(ipp_value="abc")) == (400, {"ipp_value": ["A valid number is required."]})
    assert refusal(client, world, p0(requests={})) == (
        400,
        {"requests": ['Expected a list of items but got type "dict".']},
    )
    body = p0()
    configuration_of(body)["instrument_configs"][0]["exposure_count"] = 1.5
    assert refusal(client, world, body) == (
        400,
        _in_instrument_config({"exposure_count": ["A valid integer is required."]}),
    )
    body = p0()
    body["requests"][0]["windows"][0]["start"] = "yesterday"
    assert refusal(client, world, body) == (400, {"requests": [{"windows": [{"start": [DATETIME_HELP]}]}]})
    body = p0()
    configuration_of(body)["instrument_configs"][0]["optical_elements"] = "air"
    assert refusal(client, world, body) == (
        400,
        _in_instrument_config({"optical_elements": ['Expected a dictionary of items but got type "str".']}),
    )


def test_b5_null_for_a_required_object(client: Client, world: World) -> None:
    body = p0()
    configuration_of(body)["target"] = None
    assert refusal(client, world, body) == (
        400,
        {"requests": [{"configurations": [{"target": ["This field may not be null."]}]}]},
    )


def test_b11_unknown_ids_are_not_found(client: Client, world: World) -> None:
    headers = world.headers("pi")
    for path in (f"{GROUPS}999999/", "/api/requests/abc/", "/api/requests/999999/", f"{GROUPS}99999999999999999999/"):
        assert refused(client.get(path, headers=headers)) == (404, NOT_FOUND)
    assert refusal(client, world, {}, "pi", f"{GROUPS}999999/cancel/") == (404, NOT_FOUND)


def test_b15_writes_need_credentials(client: Client, world: World) -> None:
    assert refusal(client, world, P0, None) == (403, NOT_PROVIDED)


def test_b16_an_invalid_token_is_refused_even_where_anonymous_reads_are_allowed(client: Client, world: World) -> None:
    bad = {"Authorization": "Token " + "0" * 40}
    invalid = (403, {"detail": "Invalid token."})
    assert refused(client.get(GROUPS, headers=bad)) == invalid
    assert refused(client.get("/api/requests/", headers=bad)) == invalid
    with unchanged(world):
        assert refused(client.post(GROUPS, json=P0, headers=bad)) == invalid


def test_b21_another_media_type_is_refused(client: Client, world: World) -> None:
    for path in (GROUPS, VALIDATE):
        with unchanged(world):
            response = client.post(path, content=b"{}", headers={**world.headers("pi"), "Content-Type": "text/plain"})
        assert refused(response) == (415, {"detail": 'Unsupported media type "text/plain" in request.'})


def test_b28_an_unknown_route_is_a_json_404(client: Client, world: World) -> None:
    assert refused(client.get("/api/nothing/")) == (404, NOT_FOUND)
    assert refused(client.get(f"{GROUPS}1/nothing/")) == (404, NOT_FOUND)


def test_a_body_over_5_mib_is_refused(client: Client, world: World) -> None:
    body = p0(name="x" * (5 * 1024 * 1024))
    status, answer = refusal(client, world, body)
    assert (status, answer) == (413, {"detail": "Request body too large (limit 5 MiB)."})


def test_floyds_echo_names_the_allocation_it_uses(client: Client, world: World) -> None:
    # A2 is the FLOYDS pool: a 1.5 IPP submission debits it and leaves A1 alone.
    submitted(client, world, floyds(ipp_value=1.5))
    assert world.allocation(TEST, FLOYDS).ipp_time_available < 5.0
    assert world.allocation(TEST, SINISTRO).ipp_time_available == 5.0
