"""Throttles of api.md rule 20 over HTTP: creates, cancels and validates counted per user (per IP when anonymous),
each kind on its own, answered 429 with DRF's words and a Retry-After, on the reference world of requests.md 8.1.

The rates are lowered through the settings so that a budget runs out in a few calls; the fixed clock moves to
show the window sliding.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from dependency_injector import providers
from litestar import Litestar, Request, post
from litestar.testing import TestClient
from litestar.types import ASGIApp, Receive, Scope, Send

from adapters.clock import FixedClock
from domain.observatory import Observatory
from entrypoints.config import Settings, ThrottleRates, parse_rate
from entrypoints.container import Container
from entrypoints.http.errors import exception_handlers
from entrypoints.http.throttle import InMemoryThrottleStore, throttled
from entrypoints.http.wire import in_thread
from tests.unit.domain.observatory_fixtures import demo_observatory
from tests.unit.entrypoints.portal_world import INVALID_TOKEN, NOT_PROVIDED, Client, ok, refused
from tests.unit.entrypoints.request_world import (
    GROUPS,
    NOW,
    P0,
    VALIDATE,
    World,
    load_world,
    sky_check_unless_asked,
    submitted,
    unchanged,
)

DAY_S = 86_400
LOW = ThrottleRates(create="2/day", cancel="2/day", validate="3/day")


def throttled_body(wait_s: int) -> dict[str, str]:
    return {"detail": f"Request was throttled. Expected available in {wait_s} seconds."}


def cancel_path(group_id: int) -> str:
    return f"{GROUPS}{group_id}/cancel/"


@pytest.fixture
def observatory() -> Observatory:
    return demo_observatory()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
def low_rates(container: Container) -> Iterator[None]:
    container.settings.override(providers.Object(Settings(database_url="memory", throttle_rates=LOW)))
    yield
    container.settings.reset_last_overriding()


@pytest.fixture
def world(container: Container, low_rates: None) -> Iterator[World]:
    yield from load_world(container)


@pytest.fixture(autouse=True)
def _sky(container: Container, request: pytest.FixtureRequest) -> Iterator[None]:
    yield from sky_check_unless_asked(container, request.fixturenames)


# ---------------------------------------------------------------------------------------------------------
# The settings


def test_default_rates_are_those_of_api_md() -> None:
    rates = Settings().throttle_rates
    assert (rates.of("create"), rates.of("cancel"), rates.of("validate")) == (
        (5000, DAY_S),
        (2000, DAY_S),
        (20000, DAY_S),
    )
    assert Settings.from_env({}).throttle_rates == rates


def test_the_environment_sets_some_rates_and_the_rest_keep_their_defaults() -> None:
    settings = Settings.from_env({"OBSNET_THROTTLE_RATES": "create=3/day, validate=10/min"})
    assert settings.throttle_rates == ThrottleRates(create="3/day", cancel="2000/day", validate="10/min")
    assert settings.throttle_rates.of("validate") == (10, 60)


@pytest.mark.parametrize("text", ["create=3", "create=0/day", "create=3/week", "submit=3/day", "create"])
def test_a_malformed_rate_is_refused_when_the_settings_are_read(text: str) -> None:
    with pytest.raises(ValueError, match="bad throttle rate"):
        Settings.from_env({"OBSNET_THROTTLE_RATES": text})


def test_rates_read_as_drf_reads_them_by_the_first_letter_of_the_period() -> None:
    assert [parse_rate(rate) for rate in ("7/s", "7/sec", "7/m", "7/hour", "7/d")] == [
        (7, 1),
        (7, 1),
        (7, 60),
        (7, 3600),
        (7, DAY_S),
    ]


# ---------------------------------------------------------------------------------------------------------
# Creates, cancels and validates


def test_a_create_past_the_budget_is_429_and_stores_nothing(client: Client, world: World, clock: FixedClock) -> None:
    submitted(client, world, P0)
    clock.advance(timedelta(hours=1))
    submitted(client, world, P0)
    clock.advance(timedelta(hours=1))
    with unchanged(world):
        response = client.post(GROUPS, json=P0, headers=world.headers("pi"))
    # The oldest granted call, two hours ago, frees its slot in 22 hours.
    assert refused(response) == (429, throttled_body(DAY_S - 7200))
    assert response.headers["Retry-After"] == str(DAY_S - 7200)
    assert len(world.store.request_groups) == 2


def test_the_window_slides_and_a_refused_call_spends_nothing(client: Client, world: World, clock: FixedClock) -> None:
    submitted(client, world, P0)
    clock.advance(timedelta(hours=1))
    submitted(client, world, P0)
    clock.advance(timedelta(hours=1))
    assert client.post(GROUPS, json=P0, headers=world.headers("pi")).status_code == 429
    clock.advance(timedelta(hours=21, minutes=59, seconds=59))
    # One second before the first call's day is over: DRF's singular.
    assert refused(client.post(GROUPS, json=P0, headers=world.headers("pi"))) == (
        429,
        {"detail": "Request was throttled. Expected available in 1 second."},
    )
    clock.advance(timedelta(seconds=1))
    submitted(client, world, P0)
    # Had the refused calls counted, this one would wait for them; it waits for the second granted call.
    response = client.post(GROUPS, json=P0, headers=world.headers("pi"))
    assert refused(response) == (429, throttled_body(3600))
    assert response.headers["Retry-After"] == "3600"
    assert len(world.store.request_groups) == 3


def test_validates_are_counted_apart_from_creates(client: Client, world: World) -> None:
    for _ in range(3):
        answer = ok(client.post(VALIDATE, json=P0, headers=world.headers("pi")))
        assert answer["errors"] == {}
    assert refused(client.post(VALIDATE, json=P0, headers=world.headers("pi"))) == (429, throttled_body(DAY_S))
    submitted(client, world, P0)
    submitted(client, world, P0)
    assert client.post(GROUPS, json=P0, headers=world.headers("pi")).status_code == 429


def test_cancels_are_counted_apart_from_creates(client: Client, world: World) -> None:
    first, second = submitted(client, world, P0), submitted(client, world, P0)
    assert client.post(GROUPS, json=P0, headers=world.headers("pi")).status_code == 429
    assert ok(client.post(cancel_path(first["id"]), headers=world.headers("pi")))["state"] == "CANCELED"
    assert ok(client.post(cancel_path(second["id"]), headers=world.headers("pi")))["state"] == "CANCELED"
    assert client.post(VALIDATE, json=P0, headers=world.headers("pi")).status_code == 200


def test_a_cancel_past_the_budget_is_429_and_leaves_the_group_pending(client: Client, world: World) -> None:
    group = submitted(client, world, P0)
    for _ in range(2):  # cancelling a canceled group answers it unchanged, and still spends a call
        ok(client.post(cancel_path(group["id"]), headers=world.headers("pi")))
    other = submitted(client, world, P0)
    with unchanged(world):
        response = client.post(cancel_path(other["id"]), headers=world.headers("pi"))
    assert refused(response) == (429, throttled_body(DAY_S))
    assert world.store.request_groups[other["id"]].state.value == "PENDING"


def test_each_user_has_a_budget_of_their_own(client: Client, world: World) -> None:
    submitted(client, world, P0)
    submitted(client, world, P0)
    assert client.post(GROUPS, json=P0, headers=world.headers("pi")).status_code == 429
    submitted(client, world, P0, who="ci")
    submitted(client, world, P0, who="ci")
    assert client.post(GROUPS, json=P0, headers=world.headers("ci")).status_code == 429


def test_credentials_are_checked_before_the_budget(client: Client, world: World) -> None:
    for _ in range(3):
        client.post(VALIDATE, json=P0, headers=world.headers("pi"))
    assert client.post(VALIDATE, json=P0, headers=world.headers("pi")).status_code == 429
    assert refused(client.post(VALIDATE, json=P0)) == (403, NOT_PROVIDED)
    bad_token = {"Authorization": "Token " + "0" * 40}
    assert refused(client.post(VALIDATE, json=P0, headers=bad_token)) == (403, INVALID_TOKEN)


def test_the_store_grants_up_to_the_limit_per_key_and_frees_a_slot_as_the_oldest_expires() -> None:
    store = InMemoryThrottleStore()
    assert [store.take("k", 2, 10.0, 100.0) for _ in range(3)] == [None, None, 10.0]
    assert store.take("other", 2, 10.0, 100.0) is None
    assert store.take("k", 2, 10.0, 110.0) is None


# ---------------------------------------------------------------------------------------------------------
# Anonymous callers: every throttled portal route needs a user, so a route of this test lets them in.


def _client_from_header(app: ASGIApp) -> ASGIApp:
    """Plays the part of the network: the test says which address a call comes from."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            headers = dict(scope["headers"])
            scope["client"] = (headers.get(b"x-test-client", b"192.0.2.1").decode(), 50000)
        await app(scope, receive, send)

    return middleware


@post("/open/", status_code=200)
async def open_validate(request: Request[Any, Any, Any]) -> dict[str, str]:
    return await in_thread(throttled("validate", lambda _: {"ok": "yes"}), request)  # type: ignore[no-any-return]


@pytest.fixture
def open_client(container: Container, low_rates: None) -> Iterator[Client]:
    app = Litestar(
        route_handlers=[open_validate], exception_handlers=exception_handlers(), middleware=[_client_from_header]
    )
    app.state.container = container
    with TestClient(app) as client:
        yield client


def test_anonymous_callers_are_counted_by_address(open_client: Client) -> None:
    for _ in range(3):
        assert open_client.post("/open/", headers={"X-Test-Client": "192.0.2.7"}).status_code == 200
    response = open_client.post("/open/", headers={"X-Test-Client": "192.0.2.7"})
    assert refused(response) == (429, throttled_body(DAY_S))
    assert response.headers["Retry-After"] == str(DAY_S)
    assert open_client.post("/open/", headers={"X-Test-Client": "192.0.2.8"}).status_code == 200
    # A forwarded-for header written by the caller does not buy a new budget.
    spoofed = {"X-Test-Client": "192.0.2.7", "X-Forwarded-For": "203.0.113.9"}
    assert open_client.post("/open/", headers=spoofed).status_code == 429
