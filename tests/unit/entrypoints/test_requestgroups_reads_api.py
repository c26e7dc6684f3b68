"""Reading request groups and requests over HTTP (api.md 1, 4.1, 4.2; requests.md 2.14, 7.5): list filters and
ordering, pagination, visibility, detail lookups narrowed by filters, and a request's observations."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from adapters.clock import FixedClock
from domain.observatory import Observatory
from entrypoints.container import Container
from tests.unit.domain.observatory_fixtures import demo_observatory
from tests.unit.entrypoints.portal_world import NOT_FOUND, Client, ok, refused, result_ids
from tests.unit.entrypoints.request_world import (
    GROUPS,
    NOW,
    OTHER,
    P0,
    REQUESTS,
    World,
    floyds,
    load_world,
    p0,
    sky_check_unless_asked,
    submitted,
)

LARGE_PAGE = {"detail": "Large offset/limit not allowed for anonymous users."}


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
def groups(client: Client, world: World) -> dict[str, dict[str, Any]]:
    """Four groups: pi's "alpha" (1 m) and "beta" (2 m FLOYDS, canceled), ci's "gamma", outsider's public
    "delta"; by name, as echoed at submission."""
    made = {
        "alpha": submitted(client, world, p0(name="alpha")),
        "beta": submitted(client, world, floyds(name="beta")),
        "gamma": submitted(client, world, p0(name="gamma"), "ci"),
        "delta": submitted(client, world, p0(name="delta", proposal=OTHER), "outsider"),
    }
    made["beta"] = ok(client.post(f"{GROUPS}{made['beta']['id']}/cancel/", headers=world.headers("pi")))
    return made


def ids(groups: dict[str, dict[str, Any]], *names: str) -> list[int]:
    return [groups[name]["id"] for name in names]


def request_id(group: dict[str, Any]) -> int:
    return group["requests"][0]["id"]  # type: ignore[no-any-return]


# --- The request group list -------------------------------------------------------------------------------


def test_each_caller_lists_what_they_may_see_newest_first(client: Client, world: World, groups: Any) -> None:
    assert result_ids(client.get(GROUPS, headers=world.headers("pi"))) == ids(groups, "gamma", "beta", "alpha")
    assert result_ids(client.get(GROUPS, headers=world.headers("ci"))) == ids(groups, "gamma", "beta", "alpha")
    assert result_ids(client.get(GROUPS, headers=world.headers("outsider"))) == ids(groups, "delta")
    assert result_ids(client.get(GROUPS, headers=world.headers("staff"))) == []
    everything = ids(groups, "delta", "gamma", "beta", "alpha")
    assert result_ids(client.get(GROUPS, headers=world.headers("staffview"))) == everything
    assert result_ids(client.get(GROUPS)) == ids(groups, "delta")  # anonymous: public proposals


def test_list_items_are_the_detail_shape_without_request_created(client: Client, world: World, groups: Any) -> None:
    body = ok(client.get(f"{GROUPS}?id={groups['alpha']['id']}", headers=world.headers("pi")))
    (item,) = body["results"]
    expected = dict(groups["alpha"])
    expected["requests"] = [{k: v for k, v in r.items() if k != "created"} for r in expected["requests"]]
    assert item == expected


def test_tom_finds_the_group_of_a_request_without_a_trailing_slash(client: Client, world: World, groups: Any) -> None:
    body = ok(client.get(f"/api/requestgroups?request_id={request_id(groups['gamma'])}", headers=world.headers("pi")))
    assert body["count"] == 1
    assert body["results"][0]["id"] == groups["gamma"]["id"]


def test_repeated_state_values_mean_or(client: Client, world: World, groups: Any) -> None:
    pi = world.headers("pi")
    assert result_ids(client.get(f"{GROUPS}?state=CANCELED", headers=pi)) == ids(groups, "beta")
    assert result_ids(client.get(f"{GROUPS}?state=PENDING", headers=pi)) == ids(groups, "gamma", "alpha")
    both = ids(groups, "gamma", "beta", "alpha")
    assert result_ids(client.get(f"{GROUPS}?state=PENDING&state=CANCELED", headers=pi)) == both
    assert result_ids(client.get(f"{GROUPS}?exclude_state=PENDING", headers=pi)) == ids(groups, "beta")
    assert refused(client.get(f"{GROUPS}?state=PENDING,CANCELED", headers=pi)) == (  # a comma is no separator
        400,
        {"state": ["Select a valid choice. PENDING,CANCELED is not one of the available choices."]},
    )


def test_filters_by_proposal_name_submitter_and_telescope_class(client: Client, world: World, groups: Any) -> None:
    staffview = world.headers("staffview")
    assert result_ids(client.get(f"{GROUPS}?proposal={OTHER}", headers=staffview)) == ids(groups, "delta")
    assert result_ids(client.get(f"{GROUPS}?name=ALP", headers=staffview)) == ids(groups, "alpha")
    assert result_ids(client.get(f"{GROUPS}?submitter=ci", headers=staffview)) == ids(groups, "gamma")
    assert result_ids(client.get(f"{GROUPS}?telescope_class=2m0", headers=staffview)) == ids(groups, "beta")
    both = ids(groups, "beta", "alpha")
    assert result_ids(client.get(f"{GROUPS}?telescope_class=2m0&name=a&user=pi", headers=staffview)) == ids(
        groups, "beta"
    )
    assert result_ids(client.get(f"{GROUPS}?user=p&proposal=TEST_PROPOSAL", headers=staffview)) == both
    assert result_ids(client.get(f"{GROUPS}?target=FAKE&created_after=2016-09-01", headers=staffview)) == ids(
        groups, "delta", "gamma", "beta", "alpha"
    )
    assert result_ids(client.get(f"{GROUPS}?created_before=2016-08-31T23:59:59Z", headers=staffview)) == []


def test_order_and_ordering(client: Client, world: World, groups: Any) -> None:
    staffview = world.headers("staffview")
    by_name = ids(groups, "alpha", "beta", "delta", "gamma")
    assert result_ids(client.get(f"{GROUPS}?order=name", headers=staffview)) == by_name
    assert result_ids(client.get(f"{GROUPS}?order=-name", headers=staffview)) == by_name[::-1]
    assert result_ids(client.get(f"{GROUPS}?ordering=name", headers=staffview)) == by_name
    assert result_ids(client.get(f"{GROUPS}?order=id", headers=staffview)) == sorted(by_name)
    assert refused(client.get(f"{GROUPS}?order=colour", headers=staffview)) == (
        400,
        {"order": ["Select a valid choice. colour is not one of the available choices."]},
    )


def test_pages_link_absolutely_and_keep_the_other_parameters(client: Client, world: World, groups: Any) -> None:
    body = ok(client.get(f"{GROUPS}?limit=1&order=name", headers=world.headers("staffview")))
    assert (body["count"], result_ids_of(body), body["previous"]) == (4, ids(groups, "alpha"), None)
    link = urlsplit(body["next"])
    # Litestar hands the path over without its optional slash.
    assert (link.scheme, link.netloc, link.path.rstrip("/")) == ("http", "testserver.local", GROUPS.rstrip("/"))
    assert parse_qs(link.query) == {"order": ["name"], "limit": ["1"], "offset": ["1"]}
    second = ok(client.get(body["next"], headers=world.headers("staffview")))
    assert result_ids_of(second) == ids(groups, "beta")


def result_ids_of(body: dict[str, Any]) -> list[int]:
    return [item["id"] for item in body["results"]]


@pytest.mark.parametrize(
    ("query", "errors"),
    [
        ("state=FOO", {"state": ["Select a valid choice. FOO is not one of the available choices."]}),
        ("exclude_state=FOO", {"exclude_state": ["Select a valid choice. FOO is not one of the available choices."]}),
        ("observation_type=X", {"observation_type": ["Select a valid choice. X is not one of the available choices."]}),
        ("created_after=notadate", {"created_after": ["Enter a valid date/time."]}),
        ("modified_before=2016-13-01", {"modified_before": ["Enter a valid date/time."]}),
        ("request_id=abc", {"request_id": ["Enter a number."]}),
        ("ipp_value=nan", {"ipp_value": ["Enter a number."]}),
        ("limit=-1", {"limit": ["A valid non-negative integer is required."]}),
        ("limit=abc", {"limit": ["A valid non-negative integer is required."]}),
    ],
)
def test_b19_invalid_filter_values_are_a_400(client: Client, world: World, query: str, errors: Any) -> None:
    assert refused(client.get(f"{GROUPS}?{query}", headers=world.headers("pi"))) == (400, errors)


def test_b19_every_bad_filter_is_named_at_once(client: Client, world: World) -> None:
    status, body = refused(client.get(f"{GROUPS}?state=FOO&created_after=x", headers=world.headers("pi")))
    assert (status, set(body)) == (400, {"state", "created_after"})


@pytest.mark.parametrize("query", ["limit=500", "offset=20000"])
def test_b20_anonymous_callers_get_small_pages_only(client: Client, world: World, query: str) -> None:
    for path in (GROUPS, REQUESTS):
        assert refused(client.get(f"{path}?{query}")) == (400, LARGE_PAGE)
    assert client.get(f"{GROUPS}?{query}", headers=world.headers("pi")).status_code == 200


def test_filters_narrow_a_group_detail_lookup(client: Client, world: World, groups: Any) -> None:
    path = f"{GROUPS}{groups['alpha']['id']}"
    pi = world.headers("pi")
    assert ok(client.get(f"{path}?state=PENDING", headers=pi))["id"] == groups["alpha"]["id"]
    assert refused(client.get(f"{path}/?state=CANCELED", headers=pi)) == (404, NOT_FOUND)
    assert refused(client.get(f"{path}/?id={groups['beta']['id']}", headers=pi)) == (404, NOT_FOUND)
    assert refused(client.get(f"{path}/?state=FOO", headers=pi))[0] == 400


# --- Requests -------------------------------------------------------------------------------------------------


def test_requests_list_what_the_caller_may_see(client: Client, world: World, groups: Any) -> None:
    mine = [request_id(groups[name]) for name in ("gamma", "beta", "alpha")]
    assert result_ids(client.get(REQUESTS, headers=world.headers("pi"))) == mine
    assert result_ids(client.get(REQUESTS)) == [request_id(groups["delta"])]
    body = ok(client.get(f"{REQUESTS}?state=CANCELED", headers=world.headers("pi")))
    (item,) = body["results"]
    assert item == {k: v for k, v in groups["beta"]["requests"][0].items() if k != "created"}


def test_request_filters_and_ordering(client: Client, world: World, groups: Any) -> None:
    pi = world.headers("pi")
    alpha, beta, gamma = (request_id(groups[name]) for name in ("alpha", "beta", "gamma"))
    assert result_ids(client.get(f"{REQUESTS}?telescope_class=2m0", headers=pi)) == [beta]
    assert result_ids(client.get(f"{REQUESTS}?telescope_class=2m0&telescope_class=1m0", headers=pi)) == [
        gamma,
        beta,
        alpha,
    ]
    assert result_ids(client.get(f"{REQUESTS}?state=PENDING&ordering=id", headers=pi)) == [alpha, gamma]
    assert refused(client.get(f"{REQUESTS}?state=FOO", headers=pi)) == (
        400,
        {"state": ["Select a valid choice. FOO is not one of the available choices."]},
    )
    assert refused(client.get(f"{REQUESTS}?ordering=name", headers=pi))[0] == 400


def test_a_request_in_the_detail_shape_with_or_without_a_slash(client: Client, world: World, groups: Any) -> None:
    expected = groups["alpha"]["requests"][0]
    for path in (f"{REQUESTS}{expected['id']}/", f"{REQUESTS}{expected['id']}"):
        assert ok(client.get(path, headers=world.headers("ci"))) == expected
    assert refused(client.get(f"{REQUESTS}{expected['id']}", headers=world.headers("outsider"))) == (404, NOT_FOUND)
    assert refused(client.get(f"{REQUESTS}{expected['id']}")) == (404, NOT_FOUND)


def test_filters_narrow_a_request_detail_lookup(client: Client, world: World, groups: Any) -> None:
    path = f"{REQUESTS}{request_id(groups['alpha'])}/"
    assert ok(client.get(f"{path}?telescope_class=1m0", headers=world.headers("pi")))["id"] == request_id(
        groups["alpha"]
    )
    assert refused(client.get(f"{path}?telescope_class=2m0", headers=world.headers("pi"))) == (404, NOT_FOUND)


def test_requests_cannot_be_created_directly(client: Client, world: World) -> None:
    response = client.post(REQUESTS, json=P0["requests"][0], headers=world.headers("pi"))
    assert refused(response) == (405, {"detail": 'Method "POST" not allowed.'})
    assert "GET" in response.headers["allow"]


def test_h5_a_visible_request_without_observations_answers_a_bare_empty_list(
    client: Client, world: World, groups: Any
) -> None:
    found = request_id(groups["alpha"])
    for path in (f"{REQUESTS}{found}/observations/", f"{REQUESTS}{found}/observations"):
        assert ok(client.get(path, headers=world.headers("pi"))) == []
    assert ok(client.get(f"{REQUESTS}{found}/observations/?exclude_canceled=1", headers=world.headers("pi"))) == []
    assert refused(client.get(f"{REQUESTS}{found}/observations/", headers=world.headers("outsider"))) == (
        404,
        NOT_FOUND,
    )
    assert refused(client.get(f"{REQUESTS}999999/observations/", headers=world.headers("pi"))) == (404, NOT_FOUND)
