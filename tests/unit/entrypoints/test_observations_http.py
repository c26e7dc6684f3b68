"""Observations and telescope feedback over HTTP (api.md 5.4, 5.5, 6; requests.md 7.5, 8.5; scheduler.md 9) on the
reference world of requests.md 8.1: the scheduler places R1 at elp.doma.1m0a 2016-10-01T08:00:00Z-08:03:46Z with
fa05, the site reports on its status as pyobs does, and every bad input of scheduler.md 9 is refused exactly and
changes nothing."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import attrs
import pytest
from dependency_injector import providers

from adapters.clock import FixedClock
from domain.observatory import Observatory
from entrypoints.config import Settings
from entrypoints.container import Container
from tests.unit.domain.observatory_fixtures import demo_observatory
from tests.unit.entrypoints.portal_world import FORBIDDEN, NOT_FOUND, NOT_PROVIDED, Client, ok, refused, result_ids
from tests.unit.entrypoints.request_world import (
    GROUPS,
    NOW,
    OTHER,
    REQUESTS,
    TEST,
    World,
    load_world,
    p0,
    sky_check_unless_asked,
    submitted,
)

OBSERVATIONS = "/api/observations/"
STATUSES = "/api/configurationstatus/"
START = datetime(2016, 10, 1, 8, 0, tzinfo=UTC)
END = START + timedelta(seconds=226)
FEEDBACK_TIME = START + timedelta(minutes=5)
COMPLETED_SUMMARY = {
    "start": "2016-10-01T08:00:00Z",
    "end": "2016-10-01T08:03:46Z",
    "state": "COMPLETED",
    "time_completed": 100,
    "reason": "",
    "events": {},
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


def item(request_id: int, configuration_id: int | None = None, **changes: Any) -> dict[str, Any]:
    """A POSTed observation of R1 at elp.doma.1m0a 08:00:00-08:03:46, with fa05 when a configuration is named."""
    body: dict[str, Any] = {
        "request": request_id,
        "site": "elp",
        "enclosure": "doma",
        "telescope": "1m0a",
        "start": "2016-10-01T08:00:00Z",
        "end": "2016-10-01T08:03:46Z",
    }
    if configuration_id is not None:
        body["configuration_statuses"] = [{"configuration": configuration_id, "instrument_name": "fa05"}]
    body.update(changes)
    return body


@attrs.frozen
class Loop:
    """R1 submitted by pi and placed by staff (the set-up of requests.md 8.5), the clock at the feedback time."""

    client: Client
    world: World
    clock: FixedClock
    group: dict[str, Any]
    observation: dict[str, Any]

    @property
    def request_id(self) -> int:
        return self.group["requests"][0]["id"]  # type: ignore[no-any-return]

    @property
    def configuration_id(self) -> int:
        return self.group["requests"][0]["configurations"][0]["id"]  # type: ignore[no-any-return]

    @property
    def status_id(self) -> int:
        return self.observation["configuration_statuses"][0]["id"]  # type: ignore[no-any-return]

    def report(self, body: Any, who: str | None = "staff", status_id: int | None = None) -> Any:
        headers = self.world.headers(who) if who else {}
        return self.client.patch(f"{STATUSES}{status_id or self.status_id}/", json=body, headers=headers)

    def place(self, body: Any, who: str = "staff", path: str = OBSERVATIONS) -> Any:
        return self.client.post(path, json=body, headers=self.world.headers(who))

    def detail(self, who: str = "pi") -> dict[str, Any]:
        return ok(self.client.get(f"{OBSERVATIONS}{self.observation['id']}/", headers=self.world.headers(who)))  # type: ignore[no-any-return]

    def states(self) -> tuple[str, str, str]:
        """The observation's, the request's and the group's states, as pi reads them."""
        group = ok(self.client.get(f"{GROUPS}{self.group['id']}/", headers=self.world.headers("pi")))
        return self.detail()["state"], group["requests"][0]["state"], group["state"]

    def a1(self, field: str = "std_time_used") -> float:
        """A1's hours as pi reads them on the proposal (api.md 5.2)."""
        proposal = ok(self.client.get(f"/api/proposals/{TEST}/", headers=self.world.headers("pi")))
        allocation = next(
            a
            for a in proposal["timeallocation_set"]
            if a["semester"] == "2016B" and a["instrument_types"] == ["1M0-SCICAM-SINISTRO"]
        )
        return allocation[field]  # type: ignore[no-any-return]


def place_r1(client: Client, world: World, clock: FixedClock, body: dict[str, Any] | None = None) -> Loop:
    group = submitted(client, world, body or p0())
    request = group["requests"][0]
    clock.set(START)
    response = client.post(
        OBSERVATIONS, json=item(request["id"], request["configurations"][0]["id"]), headers=world.headers("staff")
    )
    observation = ok(response, 201)
    clock.set(FEEDBACK_TIME)
    return Loop(client, world, clock, group, observation)


@pytest.fixture
def loop(client: Client, world: World, clock: FixedClock) -> Loop:
    return place_r1(client, world, clock)


def stored(world: World) -> dict[str, Any]:
    """The world's state with its observations, to show that a refusal changed nothing."""
    observations = {
        key: attrs.asdict(o, filter=lambda attribute, _: attribute.name != "events")
        for key, o in world.store.observations.items()
    }
    return {**world.state(), "observations": observations}


@contextmanager
def unchanged(world: World) -> Iterator[None]:
    before = stored(world)
    yield
    assert stored(world) == before


# --- The loop of requests.md 8.5 -------------------------------------------------------------------------


def test_the_scheduler_places_r1_and_is_answered_with_the_detail_shape(loop: Loop) -> None:
    observation = loop.observation
    assert observation == {
        "id": observation["id"],
        "site": "elp",
        "enclosure": "doma",
        "telescope": "1m0a",
        "start": "2016-10-01T08:00:00Z",
        "end": "2016-10-01T08:03:46Z",
        "priority": 10,
        "state": "PENDING",
        "request": loop.request_id,
        "created": "2016-10-01T08:00:00Z",
        "modified": "2016-10-01T08:00:00Z",
        "configuration_statuses": [
            {
                "id": loop.status_id,
                "configuration": loop.configuration_id,
                "instrument_name": "fa05",
                "guide_camera_name": "",
                "state": "PENDING",
                "time_charged": 0.0,
                "summary": {},
            }
        ],
    }
    assert isinstance(observation["id"], int)
    assert loop.detail() == observation
    assert loop.detail("staffview") == observation


def test_s1_an_attempted_status_puts_the_observation_in_progress(loop: Loop) -> None:
    status = ok(loop.report({"state": "ATTEMPTED"}))
    assert status["state"] == "ATTEMPTED"
    assert status["summary"] == {}
    assert loop.states() == ("IN_PROGRESS", "PENDING", "PENDING")
    assert loop.a1() == 0


def test_s2_a_completed_report_completes_everything_and_charges_a1(loop: Loop) -> None:
    ok(loop.report({"state": "ATTEMPTED"}))
    status = ok(loop.report({"state": "COMPLETED", "summary": COMPLETED_SUMMARY}))
    assert status == {
        "id": loop.status_id,
        "configuration": loop.configuration_id,
        "instrument_name": "fa05",
        "guide_camera_name": "",
        "state": "COMPLETED",
        "time_charged": pytest.approx(0.062778, abs=5e-7),
        "summary": {**COMPLETED_SUMMARY, "time_completed": 100.0},
    }
    assert loop.states() == ("COMPLETED", "COMPLETED", "COMPLETED")
    assert loop.a1() == pytest.approx(0.062778, abs=5e-7)
    tom = ok(loop.client.get(f"/api/requests/{loop.request_id}", headers=loop.world.headers("pi")))
    assert tom["state"] == "COMPLETED"


def test_s7_staff_mark_the_observation_bad_data_and_the_hours_come_back(loop: Loop) -> None:
    ok(loop.report({"state": "COMPLETED", "summary": COMPLETED_SUMMARY}))
    path = f"{OBSERVATIONS}{loop.observation['id']}/"
    with unchanged(loop.world):
        assert refused(loop.client.patch(path, json={"state": "BAD_DATA"}, headers=loop.world.headers("pi"))) == (
            403,
            FORBIDDEN,
        )
        assert refused(loop.client.patch(path, json={"state": "BAD_DATA"})) == (403, NOT_PROVIDED)
    revised = ok(loop.client.patch(path, json={"state": "BAD_DATA"}, headers=loop.world.headers("staff")))
    assert revised["state"] == "BAD_DATA"
    assert loop.states() == ("BAD_DATA", "PENDING", "PENDING")
    assert loop.a1() == 0


def test_staff_move_an_observation_end_into_the_future_and_only_bad_data_is_a_state_they_set(loop: Loop) -> None:
    path = f"{OBSERVATIONS}{loop.observation['id']}"
    later = "2016-10-01T08:10:00Z"
    assert ok(loop.client.patch(path, json={"end": later}, headers=loop.world.headers("staff")))["end"] == later
    with unchanged(loop.world):
        assert refused(loop.client.patch(path, json={"state": "COMPLETED"}, headers=loop.world.headers("staff"))) == (
            400,
            {"state": ["An observation's state can only be set to BAD_DATA"]},
        )
        assert refused(loop.client.patch(path, json={"state": "NOPE"}, headers=loop.world.headers("staff"))) == (
            400,
            {"state": ['"NOPE" is not a valid choice.']},
        )
        assert refused(
            loop.client.patch(path, json={"end": "2016-10-01T07:00:00Z"}, headers=loop.world.headers("staff"))
        ) == (
            400,
            {"end": ["End time must be in the future"]},
        )
        assert refused(loop.client.patch(f"{OBSERVATIONS}999999/", json={}, headers=loop.world.headers("staff"))) == (
            404,
            NOT_FOUND,
        )


def test_the_failure_limit_comes_from_the_settings(container: Container, loop: Loop) -> None:  # S5
    settings = container.settings()
    container.settings.override(providers.Object(attrs.evolve(settings, max_failures_per_request=1)))
    container.bus.reset()
    try:
        ok(loop.report({"state": "FAILED", "summary": {**COMPLETED_SUMMARY, "state": "FAILED", "time_completed": 80}}))
        assert loop.states() == ("FAILED", "FAILURE_LIMIT_REACHED", "FAILURE_LIMIT_REACHED")
    finally:
        container.settings.reset_last_overriding()
        container.bus.reset()


def test_the_failure_limit_is_read_from_the_environment() -> None:
    assert Settings.from_env({}).max_failures_per_request == 0
    assert Settings.from_env({"OBSNET_MAX_FAILURES_PER_REQUEST": "3"}).max_failures_per_request == 3
    with pytest.raises(ValueError, match="max_failures_per_request"):
        Settings(max_failures_per_request=-1)


# --- POST /api/observations/ ----------------------------------------------------------------------------


def test_a_list_stores_its_valid_items_and_reports_the_others_by_index(loop: Loop) -> None:
    before = set(loop.world.store.observations)
    good = item(loop.request_id, loop.configuration_id, start="2016-10-02T08:00:00Z", end="2016-10-02T08:03:46Z")
    backwards = item(loop.request_id, start="2016-10-01T09:00:00Z", end="2016-10-01T08:00:00Z")
    answer = ok(
        loop.place([backwards, good, {"request": "abc", "site": "elp"}, item(999999), "nonsense", item(2**40)]), 201
    )
    assert answer == {
        "num_created": 1,
        "errors": {
            "0": {"non_field_errors": ["End time must be after start time"]},
            "2": {
                "request": ["Incorrect type. Expected pk value, received str."],
                "enclosure": ["This field is required."],
                "telescope": ["This field is required."],
                "start": ["This field is required."],
                "end": ["This field is required."],
            },
            "3": {"request": ['Invalid pk "999999" - object does not exist.']},
            "4": {"non_field_errors": ["Invalid data. Expected a dictionary, but got str."]},
            "5": {"request": [f'Invalid pk "{2**40}" - object does not exist.']},
        },
    }
    added = set(loop.world.store.observations) - before
    assert len(added) == 1
    assert loop.world.store.observations[added.pop()].start == datetime(2016, 10, 2, 8, tzinfo=UTC)


def test_a_list_of_valid_items_stores_them_all_and_an_empty_list_nothing(loop: Loop) -> None:
    body = [item(loop.request_id), item(loop.request_id)]  # X16: overlaps are accepted
    assert ok(loop.place(body), 201) == {"num_created": 2, "errors": {}}
    with unchanged(loop.world):
        assert ok(loop.place([]), 201) == {"num_created": 0, "errors": {}}


def test_a_single_item_with_syntax_errors_is_refused_with_each_field(loop: Loop) -> None:
    body = {
        "request": loop.request_id,
        "site": "",
        "enclosure": "doma",
        "telescope": "1m0a",
        "start": "yesterday",
        "end": "2016-10-01 08:03:46",
        "priority": "high",
        "configuration_statuses": [{"configuration": loop.configuration_id, "instrument_name": "fa05"}, {}],
        "ignored": True,
    }
    with unchanged(loop.world):
        status, answer = refused(loop.place(body))
    assert (status, answer) == (
        400,
        {
            "site": ["This field may not be blank."],
            "start": [
                "Datetime has wrong format. Use one of these formats instead: "
                "YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z]."
            ],
            "priority": ["A valid integer is required."],
            "configuration_statuses": [
                {},
                {"configuration": ["This field is required."], "instrument_name": ["This field is required."]},
            ],
        },
    )


def test_naive_and_space_separated_times_are_utc_and_unknown_keys_are_ignored(loop: Loop) -> None:
    body = item(loop.request_id, start="2016-10-01 09:00:00", end="2016-10-01T09:03:46", priority="20", extra=1)
    placed = ok(loop.place(body), 201)
    assert (placed["start"], placed["end"], placed["priority"]) == ("2016-10-01T09:00:00Z", "2016-10-01T09:03:46Z", 20)
    # Without statuses the rules choose one per configuration: the SCHEDULABLE Sinistro there.
    assert [(s["instrument_name"], s["state"]) for s in placed["configuration_statuses"]] == [("fa05", "PENDING")]


def test_only_staff_and_direct_users_place_observations(loop: Loop) -> None:
    with unchanged(loop.world):
        assert refused(loop.client.post(OBSERVATIONS, json=item(loop.request_id))) == (403, NOT_PROVIDED)
        for who in ("pi", "outsider"):
            assert refused(loop.place(item(loop.request_id), who)) == (403, FORBIDDEN)


@pytest.mark.parametrize(
    ("changes", "errors"),
    [
        pytest.param(
            {"end": "2016-10-01T08:00:00Z"}, {"non_field_errors": ["End time must be after start time"]}, id="X11"
        ),
        pytest.param(
            {"start": "2016-09-20T08:00:00Z", "end": "2016-09-20T08:03:46Z"},
            {"non_field_errors": ["The start and end times do not fall within any window of the request"]},
            id="X12",
        ),
        pytest.param(
            {"site": "ogg", "enclosure": "clma", "telescope": "2m0a"},
            {"non_field_errors": ["The observation's site, enclosure and telescope must match the request location"]},
            id="X13",
        ),
        pytest.param(
            {"configuration_statuses": [{"configuration": 0, "instrument_name": "xx99"}]},
            {"configuration_statuses": [{"instrument_name": ["Instrument xx99 is not at 1m0a.doma.elp"]}]},
            id="X14",
        ),
        pytest.param(
            {"configuration_statuses": [{"configuration": 0, "instrument_name": "nres02"}]},
            {"configuration_statuses": [{"instrument_name": ["Instrument nres02 is not of type 1M0-SCICAM-SINISTRO"]}]},
            id="X14-type",
        ),
        pytest.param(
            {"configuration_statuses": [{"configuration": 0, "instrument_name": "fa05", "guide_camera_name": "kb99"}]},
            {"configuration_statuses": [{"guide_camera_name": ["Guide camera kb99 is not valid for instrument fa05"]}]},
            id="X14-guider",
        ),
    ],
)
def test_x11_x14_an_observation_that_does_not_fit_its_request_is_refused(
    loop: Loop, changes: dict[str, Any], errors: dict[str, Any]
) -> None:
    body = item(loop.request_id, **changes)
    for status in body.get("configuration_statuses", []):
        status["configuration"] = loop.configuration_id
    with unchanged(loop.world):
        assert refused(loop.place(body)) == (400, errors)
        assert ok(loop.place([body]), 201) == {"num_created": 0, "errors": {"0": errors}}


def test_x15_a_canceled_request_cannot_be_placed(loop: Loop) -> None:
    ok(loop.client.post(f"{GROUPS}{loop.group['id']}/cancel/", headers=loop.world.headers("pi")))
    errors = {"request": [f"Request {loop.request_id} is in state CANCELED and cannot be scheduled"]}
    with unchanged(loop.world):
        assert refused(loop.place(item(loop.request_id))) == (400, errors)
        assert ok(loop.place([item(loop.request_id)]), 201) == {"num_created": 0, "errors": {"0": errors}}


# --- PATCH /api/configurationstatus/{id}/ ----------------------------------------------------------------


def test_x1_x2_x3_unknown_statuses_non_staff_and_unknown_states_are_refused(loop: Loop) -> None:
    with unchanged(loop.world):
        assert refused(loop.report({"state": "ATTEMPTED"}, status_id=999999)) == (404, NOT_FOUND)
        assert refused(loop.report({"state": "ATTEMPTED"}, status_id=2**40)) == (404, NOT_FOUND)
        assert refused(loop.report({"state": "ATTEMPTED"}, who="pi")) == (403, FORBIDDEN)
        assert refused(loop.report({"state": "ATTEMPTED"}, who=None)) == (403, NOT_PROVIDED)
        assert refused(loop.report({"state": "ABORTED"})) == (400, {"state": ['"ABORTED" is not a valid choice.']})
        assert refused(loop.report(["ATTEMPTED"])) == (
            400,
            {"non_field_errors": ["Invalid data. Expected a dictionary, but got list."]},
        )


def test_x4_a_new_state_on_a_terminal_status_is_ignored(loop: Loop) -> None:
    ok(loop.report({"state": "COMPLETED", "summary": COMPLETED_SUMMARY}))
    with unchanged(loop.world):
        assert ok(loop.report({"state": "ATTEMPTED"}))["state"] == "COMPLETED"
    assert loop.states() == ("COMPLETED", "COMPLETED", "COMPLETED")


def _summary(**changes: Any) -> dict[str, Any]:
    summary = {**COMPLETED_SUMMARY, **changes}
    return {key: value for key, value in summary.items() if value is not None}


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        pytest.param(
            {"state": "COMPLETED", "summary": _summary(time_completed=None)},
            {"summary": {"time_completed": ["This field is required."]}},
            id="X5",
        ),
        pytest.param(
            {"summary": _summary(start=None, end=None, state=None)},
            {
                "summary": {
                    "start": ["This field is required."],
                    "end": ["This field is required."],
                    "state": ["This field is required."],
                }
            },
            id="X5-all",
        ),
        pytest.param(
            {"state": "COMPLETED", "summary": _summary(end="2016-10-01T07:59:00Z")},
            {"summary": {"non_field_errors": ["Summary end must not be before its start"]}},
            id="X6",
        ),
        pytest.param(
            {"state": "COMPLETED", "summary": _summary(time_completed=-1)},
            {"summary": {"time_completed": ["Ensure this value is greater than or equal to 0."]}},
            id="X7",
        ),
        pytest.param(
            {"state": "ATTEMPTED", "end": "2016-10-01T09:00:00Z", "exposures_start_at": "2016-10-01T08:01:00Z"},
            {"non_field_errors": ["Cannot specify both end and exposures_start_at"]},
            id="X8",
        ),
        pytest.param(
            {"state": "ATTEMPTED", "end": "2016-10-01T08:00:00Z"}, {"end": ["End time must be in the future"]}, id="X9"
        ),
        pytest.param(
            {"state": "ATTEMPTED", "exposures_start_at": "2016-10-01T07:59:59Z"},
            {"exposures_start_at": ["Must be after the observation start"]},
            id="X10",
        ),
        pytest.param(
            {"summary": _summary(events=[]), "state": "FOO"},
            {
                "state": ['"FOO" is not a valid choice.'],
                "summary": {"events": ['Expected a dictionary of items but got type "list".']},
            },
            id="events-list",
        ),
        pytest.param(
            {"summary": "done"},
            {"summary": {"non_field_errors": ["Invalid data. Expected a dictionary, but got str."]}},
            id="summary-text",
        ),
        pytest.param(
            {"summary": _summary(time_completed="lots", reason="x" * 201)},
            {
                "summary": {
                    "time_completed": ["A valid number is required."],
                    "reason": ["Ensure this field has no more than 200 characters."],
                }
            },
            id="summary-types",
        ),
    ],
)
def test_x5_x10_bad_reports_are_refused_exactly_and_change_nothing(
    loop: Loop, body: dict[str, Any], errors: dict[str, Any]
) -> None:
    with unchanged(loop.world):
        assert refused(loop.report(body)) == (400, errors)


def test_a_summary_on_a_terminal_status_corrects_the_charge(loop: Loop) -> None:  # S6
    ok(loop.report({"state": "COMPLETED", "summary": COMPLETED_SUMMARY}))
    ok(loop.report({"summary": _summary(end="2016-10-01T08:05:00Z", events={"note": "dome closed late"})}))
    assert loop.a1() == pytest.approx(0.083333, abs=5e-7)


def test_a_predicted_end_moves_the_observation_and_other_keys_are_ignored(loop: Loop) -> None:
    body = {"state": "ATTEMPTED", "end": "2016-10-01T08:10:00Z", "instrument_name": "xx", "configuration": 1}
    status = ok(loop.report(body))
    assert (status["instrument_name"], status["configuration"]) == ("fa05", loop.configuration_id)
    assert loop.detail()["end"] == "2016-10-01T08:10:00Z"


# --- Reading observations --------------------------------------------------------------------------------


def test_the_list_shape_carries_what_pyobs_decodes(loop: Loop) -> None:
    ok(loop.report({"state": "COMPLETED", "summary": COMPLETED_SUMMARY}))
    query = (
        "?site=elp&telescope=1m0a&end_after=2016-10-01T00:00:00Z&start_before=2016-10-02T00:00:00Z"
        "&state=COMPLETED&state=IN_PROGRESS&limit=1000"
    )
    page = ok(loop.client.get(f"{OBSERVATIONS}{query}", headers=loop.world.headers("pi")))
    assert (page["count"], page["next"], page["previous"]) == (1, None, None)
    (listed,) = page["results"]
    group = loop.group
    assert {key: value for key, value in listed.items() if key != "request"} == {
        "id": loop.observation["id"],
        "site": "elp",
        "enclosure": "doma",
        "telescope": "1m0a",
        "start": "2016-10-01T08:00:00Z",
        "end": "2016-10-01T08:03:46Z",
        "priority": 10,
        "state": "COMPLETED",
        "created": "2016-10-01T08:00:00Z",
        "modified": "2016-10-01T08:05:00Z",
        "proposal": TEST,
        "submitter": "pi",
        "name": "test group",
        "ipp_value": 1.0,
        "observation_type": "NORMAL",
        "request_group_id": group["id"],
    }
    request = listed["request"]
    assert "location" not in request
    assert "windows" not in request
    assert {"id", "state", "duration", "acceptability_threshold", "configuration_repeats", "optimization_type"} <= set(
        request
    )
    assert {"observation_note", "extra_params", "modified", "configurations"} <= set(request)
    (configuration,) = request["configurations"]
    submitted_configuration = group["requests"][0]["configurations"][0]
    for key in ("id", "type", "instrument_type", "target", "constraints", "acquisition_config", "guiding_config"):
        assert configuration[key] == submitted_configuration[key]
    assert configuration["priority"] == 1
    assert configuration["configuration_status"] == loop.status_id
    assert (configuration["state"], configuration["instrument_name"], configuration["guide_camera_name"]) == (
        "COMPLETED",
        "fa05",
        "",
    )
    assert configuration["instrument_configs"][0]["rois"] == []
    assert configuration["summary"]["events"] == {}
    assert configuration["summary"]["time_completed"] == 100.0


def test_configurations_are_expanded_by_repeat_each_with_its_own_status(
    client: Client, world: World, clock: FixedClock
) -> None:
    body = p0()
    request = body["requests"][0]
    second = copy.deepcopy(request["configurations"][0])
    second["target"]["name"] = "second target"
    request["configurations"].append(second)
    request["configuration_repeats"] = 2
    group = submitted(client, world, body)
    request_id = group["requests"][0]["id"]
    first_id, second_id = (c["id"] for c in group["requests"][0]["configurations"])
    clock.set(START)
    end = (START + timedelta(seconds=group["requests"][0]["duration"])).strftime("%Y-%m-%dT%H:%M:%SZ")
    placed = ok(client.post(OBSERVATIONS, json=item(request_id, end=end), headers=world.headers("staff")), 201)
    statuses = placed["configuration_statuses"]
    assert [s["configuration"] for s in statuses] == [first_id, second_id, first_id, second_id]
    listed = ok(client.get(f"{OBSERVATIONS}?request_id={request_id}", headers=world.headers("pi")))["results"][0]
    configurations = listed["request"]["configurations"]
    assert [(c["id"], c["priority"], c["configuration_status"]) for c in configurations] == [
        (first_id, 1, statuses[0]["id"]),
        (second_id, 2, statuses[1]["id"]),
        (first_id, 3, statuses[2]["id"]),
        (second_id, 4, statuses[3]["id"]),
    ]
    assert [c["target"]["name"] for c in configurations] == ["fake target", "second target"] * 2


@pytest.fixture
def three(loop: Loop) -> dict[str, int]:
    """R1 placed three times: at elp 08:00 (the loop's), at cpt the next day (priority 20) and at lsc after."""
    made = {"elp": loop.observation["id"]}
    for site, day, priority in (("cpt", 2, 20), ("lsc", 3, 10)):
        start, end = f"2016-10-0{day}T08:00:00Z", f"2016-10-0{day}T08:03:46Z"
        body = item(loop.request_id, site=site, start=start, end=end, priority=priority)
        made[site] = ok(loop.place(body), 201)["id"]
    return made


def test_observation_list_filters_ordering_and_pagination(loop: Loop, three: dict[str, int]) -> None:
    def listed(query: str, who: str = "pi") -> list[int]:
        return result_ids(loop.client.get(f"{OBSERVATIONS}{query}", headers=loop.world.headers(who)))

    elp, cpt, lsc = three["elp"], three["cpt"], three["lsc"]
    assert listed("") == [lsc, cpt, elp]
    assert listed("?site=cpt&site=lsc") == [lsc, cpt]
    assert listed("?ordering=start") == [elp, cpt, lsc]
    assert listed("?start_after=2016-10-02T08:00:00Z") == [lsc, cpt]
    assert listed("?start_before=2016-10-02T08:00:00Z") == [elp]
    assert listed("?end_before=2016-10-02T08:03:46Z&end_after=2016-10-01T08:03:46Z") == [elp]
    assert listed(f"?request_id={loop.request_id}&request_group_id={loop.group['id']}") == [lsc, cpt, elp]
    assert listed("?request_id=999999") == []
    assert listed("?priority=20") == [cpt]
    assert listed(f"?id={elp}") == [elp]
    assert listed("?user=pi&proposal=TEST_PROPOSAL&observation_type=NORMAL&request_state=PENDING") == [lsc, cpt, elp]
    assert listed("?user=p") == []
    assert listed("?instrument_type=1m0-scicam-sinistro&configuration_type=EXPOSE&state=PENDING") == [lsc, cpt, elp]
    assert listed("?instrument_type=2M0-FLOYDS-SCICAM") == []
    assert listed("", "staffview") == [lsc, cpt, elp]
    assert listed("", "outsider") == []
    assert listed("", "staff") == []  # staff without staff_view see what members see (requests.md 1.8)

    first = ok(loop.client.get(f"{OBSERVATIONS}?limit=2&site=elp&site=cpt&site=lsc", headers=loop.world.headers("pi")))
    assert first["count"] == 3
    assert [o["id"] for o in first["results"]] == [lsc, cpt]
    assert first["previous"] is None
    assert parse_qs(urlsplit(first["next"]).query) == {
        "site": ["elp", "cpt", "lsc"],
        "limit": ["2"],
        "offset": ["2"],
    }
    second = ok(loop.client.get(first["next"], headers=loop.world.headers("pi")))
    assert [o["id"] for o in second["results"]] == [elp]


def test_bad_list_filters_are_refused_together(loop: Loop) -> None:
    response = loop.client.get(
        f"{OBSERVATIONS}?state=FOO&start_after=notadate&priority=x&ordering=nope", headers=loop.world.headers("pi")
    )
    assert refused(response) == (
        400,
        {
            "state": ["Select a valid choice. FOO is not one of the available choices."],
            "start_after": ["Enter a valid date/time."],
            "priority": ["Enter a number."],
            "ordering": ["Select a valid choice. nope is not one of the available choices."],
        },
    )
    assert refused(loop.client.get(f"{OBSERVATIONS}?limit=-1", headers=loop.world.headers("pi"))) == (
        400,
        {"limit": ["A valid non-negative integer is required."]},
    )
    assert refused(loop.client.get(f"{OBSERVATIONS}?limit=500")) == (
        400,
        {"detail": "Large offset/limit not allowed for anonymous users."},
    )


def test_another_proposals_observation_is_not_found(loop: Loop, client: Client, world: World) -> None:
    path = f"{OBSERVATIONS}{loop.observation['id']}/"
    for headers in (world.headers("outsider"), {}):
        assert refused(client.get(path, headers=headers)) == (404, NOT_FOUND)
    assert refused(client.get(f"{OBSERVATIONS}999999/", headers=world.headers("pi"))) == (404, NOT_FOUND)
    assert refused(client.get(f"{path}?site=cpt", headers=world.headers("pi"))) == (404, NOT_FOUND)
    # OTHER_PROPOSAL is public: anonymous callers see its observations, its members do, pi (a non-member) does not.
    other = submitted(client, world, p0(proposal=OTHER), "outsider")
    body = item(other["requests"][0]["id"], start="2016-10-03T08:00:00Z", end="2016-10-03T08:03:46Z")
    theirs = ok(client.post(OBSERVATIONS, json=body, headers=world.headers("staff")), 201)["id"]
    assert ok(client.get(f"{OBSERVATIONS}{theirs}/"))["id"] == theirs
    assert result_ids(client.get(OBSERVATIONS)) == [theirs]
    assert refused(client.get(f"{OBSERVATIONS}{theirs}/", headers=world.headers("pi"))) == (404, NOT_FOUND)


def test_a_requests_observations_are_a_bare_list_and_canceled_ones_can_be_left_out(
    loop: Loop, client: Client, world: World, clock: FixedClock
) -> None:
    ended = ok(
        loop.place(item(loop.request_id, start="2016-09-30T08:00:00Z", end="2016-09-30T08:03:46Z")), 201
    )  # before the loop's
    clock.set(datetime(2016, 10, 1, 0, 0, tzinfo=UTC))
    ok(client.post(f"{GROUPS}{loop.group['id']}/cancel/", headers=world.headers("pi")))
    path = f"{REQUESTS}{loop.request_id}/observations/"
    everything = ok(client.get(path, headers=world.headers("pi")))
    assert [(o["id"], o["state"]) for o in everything] == [
        (loop.observation["id"], "CANCELED"),
        (ended["id"], "PENDING"),  # ended before the cancel: left alone
    ]
    assert set(everything[0]) == {
        "id",
        "request",
        "site",
        "enclosure",
        "telescope",
        "start",
        "end",
        "priority",
        "state",
        "configuration_statuses",
    }
    assert set(everything[0]["configuration_statuses"][0]) == {
        "id",
        "configuration",
        "instrument_name",
        "guide_camera_name",
        "state",
        "time_charged",
        "summary",
    }
    assert ok(client.get(f"{path}?exclude_canceled=true", headers=world.headers("pi"))) == everything[1:]
    assert ok(client.get(f"{path}?exclude_canceled=", headers=world.headers("pi"))) == everything
    assert ok(client.get(path.rstrip("/"), headers=world.headers("ci"))) == everything
    assert refused(client.get(path, headers=world.headers("outsider"))) == (404, NOT_FOUND)
    assert refused(client.get(f"{REQUESTS}999999/observations/", headers=world.headers("pi"))) == (404, NOT_FOUND)


def test_every_route_answers_without_its_trailing_slash(loop: Loop) -> None:
    headers = loop.world.headers("staff")
    observation_id = loop.observation["id"]
    assert result_ids(loop.client.get("/api/observations", headers=loop.world.headers("pi"))) == [observation_id]
    assert (
        ok(loop.client.get(f"/api/observations/{observation_id}", headers=loop.world.headers("pi")))["id"]
        == observation_id
    )
    assert ok(loop.client.post("/api/observations", json=[], headers=headers), 201) == {"num_created": 0, "errors": {}}
    assert (
        ok(
            loop.client.patch(
                f"/api/configurationstatus/{loop.status_id}", json={"state": "ATTEMPTED"}, headers=headers
            )
        )["state"]
        == "ATTEMPTED"
    )
    assert ok(loop.client.get(f"/api/configurationstatus/{loop.status_id}", headers=headers))["state"] == "ATTEMPTED"
    assert ok(loop.client.get("/api/configurationstatus", headers=headers))["count"] == 1
    assert (
        ok(loop.client.patch(f"/api/observations/{observation_id}", json={}, headers=headers))["id"] == observation_id
    )


# --- GET /api/configurationstatus/ (staff) ----------------------------------------------------------------


def test_staff_list_and_read_configuration_statuses_with_filters(loop: Loop, three: dict[str, int]) -> None:
    staff = loop.world.headers("staff")

    def listed(query: str) -> list[int]:
        return result_ids(loop.client.get(f"{STATUSES}{query}", headers=staff))

    status_of = {
        site: ok(loop.client.get(f"{OBSERVATIONS}{oid}/", headers=loop.world.headers("pi")))["configuration_statuses"][
            0
        ]
        for site, oid in three.items()
    }
    ok(loop.report({"state": "ATTEMPTED"}))
    every = [status_of["lsc"]["id"], status_of["cpt"]["id"], status_of["elp"]["id"]]
    assert listed("") == every
    assert listed("?site=elp") == [loop.status_id]
    assert listed("?state=ATTEMPTED") == [loop.status_id]
    assert listed("?state=PENDING&state=ATTEMPTED") == every
    assert listed("?instrument_name=fa14&instrument_name=fa15") == every[:2]
    assert listed("?guide_camera_name=nothing") == []
    assert refused(loop.client.get(f"{STATUSES}?state=ABORTED", headers=staff)) == (
        400,
        {"state": ["Select a valid choice. ABORTED is not one of the available choices."]},
    )
    page = ok(loop.client.get(f"{STATUSES}?limit=1", headers=staff))
    assert (page["count"], len(page["results"])) == (3, 1)
    detail = ok(loop.client.get(f"{STATUSES}{loop.status_id}/", headers=staff))
    assert detail == {**status_of["elp"], "state": "ATTEMPTED"}
    assert refused(loop.client.get(f"{STATUSES}999999/", headers=staff)) == (404, NOT_FOUND)


def test_configuration_statuses_are_the_staffs(loop: Loop) -> None:
    for who in ("pi", "outsider"):
        headers = loop.world.headers(who)
        assert refused(loop.client.get(STATUSES, headers=headers)) == (403, FORBIDDEN)
        assert refused(loop.client.get(f"{STATUSES}{loop.status_id}/", headers=headers)) == (403, FORBIDDEN)
        with unchanged(loop.world):
            assert refused(loop.report({"state": "ATTEMPTED"}, who=who)) == (403, FORBIDDEN)
    assert refused(loop.client.get(STATUSES)) == (403, NOT_PROVIDED)
    assert ok(loop.client.get(STATUSES, headers=loop.world.headers("staffview")))["count"] == 1


def test_b1_malformed_json_is_refused_on_every_write(loop: Loop) -> None:
    headers = {**loop.world.headers("staff"), "Content-Type": "application/json"}
    writes = (
        ("POST", OBSERVATIONS),
        ("PATCH", f"{OBSERVATIONS}{loop.observation['id']}/"),
        ("PATCH", f"{STATUSES}{loop.status_id}/"),
    )
    with unchanged(loop.world):
        for method, path in writes:
            response = loop.client.request(method, path, content=b'{"state": ', headers=headers)
            assert response.status_code == 400
            assert response.json()["detail"].startswith("JSON parse error")


# --- POST /api/observations/cancel/ (api.md 6) ---------------------------------------------------------------


def test_b25_a_cancel_naming_nothing_is_refused(loop: Loop) -> None:
    with unchanged(loop.world):
        for body in ({}, {"start": "2016-10-01T00:00:00Z"}, {"ids": []}):
            response = loop.place(body, path=f"{OBSERVATIONS}cancel/")
            assert (response.status_code, response.json()) == (
                400,
                {"non_field_errors": ["Please submit observation ids or start and end times to cancel"]},
            )


def test_x19_a_running_observation_is_cancelled_only_with_preemption_enabled(loop: Loop) -> None:
    loop.clock.set(START + timedelta(seconds=60))
    assert ok(loop.report({"state": "ATTEMPTED"}))["state"] == "ATTEMPTED"
    body = {"start": "2016-10-01T07:00:00Z", "end": "2016-10-01T09:00:00Z", "site": "elp"}
    with unchanged(loop.world):
        response = loop.place(body, path=f"{OBSERVATIONS}cancel/")
        assert (response.status_code, response.json()) == (
            400,
            {"error": "Cannot cancel IN_PROGRESS observations unless preemption_enabled is True"},
        )
    response = loop.place({**body, "preemption_enabled": True}, path=f"{OBSERVATIONS}cancel/")
    assert ok(response) == {"canceled": 1}
    assert loop.detail()["state"] == "ABORTED"


def test_staff_cancel_by_ids_and_others_are_refused(loop: Loop) -> None:
    loop.clock.set(START - timedelta(hours=1))
    with unchanged(loop.world):
        response = loop.place({"ids": [loop.observation["id"]]}, who="pi", path=f"{OBSERVATIONS}cancel")
        assert (response.status_code, response.json()) == (
            403,
            {"detail": "You do not have permission to perform this action."},
        )
    response = loop.place({"ids": [loop.observation["id"]]}, path=f"{OBSERVATIONS}cancel")
    assert ok(response) == {"canceled": 1}
    assert loop.detail()["state"] == "CANCELED"
