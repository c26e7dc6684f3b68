"""Drafts over HTTP (api.md 4.4, the rules of section 1 and the bad inputs of 8.2) through the TestClient.

The world is portal_world's: ``pi`` and ``ci`` are members of MAIN, ``outsider`` leads OTHER, ``staffview`` is
staff with staff_view and no membership, ``staff`` is staff without it and ``user`` belongs to nothing. Every
refusal is checked twice: the exact answer, and a store that did not change.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import attrs
import pytest

from adapters.clock import FixedClock
from application.commands import RemoveMembership
from domain.drafts import NOT_A_MEMBER, NOT_JSON, NOT_UNIQUE
from domain.permissions import Actor
from entrypoints.container import Container
from tests.unit.entrypoints.portal_world import (
    FORBIDDEN,
    INVALID_TOKEN,
    MAIN,
    NOT_FOUND,
    NOT_PROVIDED,
    OLD,
    OTHER,
    Client,
    World,
    load_world,
    ok,
    refused,
    result_ids,
    stored_state,
)

API = "/api/drafts/"
DRAFT_KEYS = {"id", "author", "proposal", "title", "content", "created", "modified"}
CONTENT = '{"name": "M31 mosaic", "requests": [{"configurations": []}]}'
REQUIRED = ["This field is required."]


@pytest.fixture
def world(container: Container) -> Iterator[World]:
    yield from load_world(container)


def save(client: Client, world: World, username: str, proposal: str = MAIN, title: str = "M31", **more: Any) -> Any:
    """A draft stored through the API, as its JSON answer."""
    body = {"proposal": proposal, "title": title, "content": CONTENT, **more}
    return ok(client.post(API, json=body, headers=world.headers(username)), 201)


def store_state(container: Container) -> dict[str, Any]:
    """Accounts, proposals and every draft, to show that a refusal changed nothing."""
    drafts = container.memory_store().drafts
    return {
        **stored_state(container),
        "drafts": {key: attrs.asdict(d, filter=lambda a, _: a.name != "events") for key, d in drafts.items()},
    }


def listed(client: Client, world: World, username: str, **params: Any) -> Any:
    return client.get(API, headers=world.headers(username), params=params)


# --- Writing ------------------------------------------------------------------------------------------------


def test_a_member_saves_a_draft_and_gets_it_back_in_the_portal_shape(client: Client, world: World) -> None:
    body = save(client, world, "ci")

    assert set(body) == DRAFT_KEYS
    assert isinstance(body["id"], int)
    assert body == {
        "id": body["id"],
        "author": "ci",
        "proposal": MAIN,
        "title": "M31",
        "content": CONTENT,
        "created": "2026-11-20T12:00:00Z",
        "modified": "2026-11-20T12:00:00Z",
    }
    assert ok(client.get(f"{API}{body['id']}/", headers=world.headers("ci"))) == body


def test_saving_answers_without_the_trailing_slash_too(client: Client, world: World) -> None:
    body = {"proposal": MAIN, "title": "No slash", "content": "{}"}
    created = ok(client.post(API.rstrip("/"), json=body, headers=world.headers("pi")), 201)

    assert ok(client.get(f"{API}{created['id']}", headers=world.headers("pi")))["title"] == "No slash"


def test_unknown_keys_are_ignored_and_the_author_is_always_the_caller(
    client: Client, world: World, container: Container
) -> None:
    body = save(client, world, "ci", author="pi", id=999, created="2020-01-01T00:00:00Z", ui_only={"a": 1})

    assert body["author"] == "ci"
    assert body["id"] != 999
    assert body["created"] == "2026-11-20T12:00:00Z"
    assert "ui_only" not in body
    stored = container.memory_store().drafts[body["id"]]
    assert stored.author_id == world.user_ids["ci"]


def test_surrounding_whitespace_is_dropped_from_title_and_content(client: Client, world: World) -> None:
    body = save(client, world, "ci", title="  Padded  ", content="\n  [1, 2]  \n")

    assert (body["title"], body["content"]) == ("Padded", "[1, 2]")


def test_a_numeric_proposal_is_looked_up_as_its_text(client: Client, world: World) -> None:
    response = client.post(API, json={"proposal": 42, "title": "t", "content": "{}"}, headers=world.headers("pi"))

    assert refused(response) == (400, {"proposal": ['Invalid pk "42" - object does not exist.']})


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        # Upstream's own test: no title, and content that is not JSON; both are reported.
        ({"proposal": MAIN, "content": "foo: bar"}, {"title": REQUIRED, "content": [NOT_JSON]}),
        ({}, {"proposal": REQUIRED, "title": REQUIRED, "content": REQUIRED}),
        (
            {"proposal": MAIN, "title": "x" * 51, "content": "{}"},
            {"title": ["Ensure this field has no more than 50 characters."]},
        ),
        (
            {"proposal": MAIN, "title": "", "content": ""},
            {"title": ["This field may not be blank."], "content": ["This field may not be blank."]},
        ),
        ({"proposal": MAIN, "title": None, "content": "{}"}, {"title": ["This field may not be null."]}),
        ({"proposal": MAIN, "title": "t", "content": {"name": "M31"}}, {"content": ["Not a valid string."]}),
        ({"proposal": MAIN, "title": "t", "content": '{"a": NaN}'}, {"content": [NOT_JSON]}),
        (
            {"proposal": [MAIN], "title": "t", "content": "{}"},
            {"proposal": ["Incorrect type. Expected pk value, received list."]},
        ),
        (
            {"proposal": True, "title": "t", "content": "{}"},
            {"proposal": ["Incorrect type. Expected pk value, received bool."]},
        ),
        (
            {"proposal": "NOPE", "title": "t", "content": "{}"},
            {"proposal": ['Invalid pk "NOPE" - object does not exist.']},
        ),
        # Someone else's proposal: its existence is no secret here, as upstream answers.
        ({"proposal": OTHER, "title": "t", "content": "{}"}, {"non_field_errors": [NOT_A_MEMBER]}),
        ([{"proposal": MAIN}], {"non_field_errors": ["Invalid data. Expected a dictionary, but got list."]}),
    ],
)
def test_refused_drafts_store_nothing(
    client: Client, world: World, container: Container, body: Any, errors: dict[str, Any]
) -> None:
    before = store_state(container)

    assert refused(client.post(API, json=body, headers=world.headers("ci"))) == (400, errors)
    assert store_state(container) == before


def test_one_title_per_author_and_proposal(client: Client, world: World, container: Container) -> None:
    save(client, world, "ci", title="Twice")
    before = store_state(container)
    body = {"proposal": MAIN, "title": "Twice", "content": "[]"}

    assert refused(client.post(API, json=body, headers=world.headers("ci"))) == (
        400,
        {"non_field_errors": [NOT_UNIQUE]},
    )
    assert store_state(container) == before
    # Another author, or another proposal of the same author, may use the title.
    save(client, world, "pi", title="Twice")
    save(client, world, "pi", OLD, title="Twice")


@pytest.mark.parametrize(
    ("content", "headers", "expected"),
    [
        (b'{"proposal": ', {}, (400, "JSON parse error")),
        (b"{}", {"Content-Type": "text/plain"}, (415, 'Unsupported media type "text/plain" in request.')),
    ],
)
def test_bodies_that_are_not_json_are_refused(
    client: Client,
    world: World,
    container: Container,
    content: bytes,
    headers: dict[str, str],
    expected: tuple[int, str],
) -> None:
    before = store_state(container)
    response = client.post(API, content=content, headers={**world.headers("ci"), **headers})

    assert response.status_code == expected[0]
    assert response.json()["detail"].startswith(expected[1])
    assert store_state(container) == before


def test_a_body_over_five_mebibytes_is_refused(client: Client, world: World, container: Container) -> None:
    before = store_state(container)
    huge = b'{"proposal": "' + MAIN.encode() + b'", "title": "t", "content": "' + b" " * (5 * 1024 * 1024) + b'"}'

    response = client.post(API, content=huge, headers={**world.headers("ci"), "Content-Type": "application/json"})

    assert refused(response) == (413, {"detail": "Request body too large (limit 5 MiB)."})
    assert store_state(container) == before


# --- Reading ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("username", "sees"),
    [
        # Every member sees every member's drafts of the proposal.
        ("pi", {"ci's", "pi's", "pi's old"}),
        ("ci", {"ci's", "pi's"}),
        ("outsider", {"outsider's"}),
        ("staffview", {"ci's", "pi's", "pi's old", "outsider's"}),
        # Staff without staff_view read as the member they are not.
        ("staff", set()),
        ("user", set()),
    ],
)
def test_each_caller_lists_the_drafts_of_their_proposals(
    client: Client, world: World, username: str, sees: set[str]
) -> None:
    save(client, world, "ci", title="ci's")
    save(client, world, "pi", title="pi's")
    save(client, world, "pi", OLD, title="pi's old")
    save(client, world, "outsider", OTHER, title="outsider's")

    body = ok(listed(client, world, username))

    assert {d["title"] for d in body["results"]} == sees
    assert body["count"] == len(sees)


def test_the_list_is_ordered_by_last_change_newest_first(client: Client, world: World, clock: FixedClock) -> None:
    first = save(client, world, "ci", title="first")["id"]
    clock.advance(timedelta(minutes=1))
    second = save(client, world, "pi", title="second")["id"]
    clock.advance(timedelta(minutes=1))
    third = save(client, world, "ci", title="third")["id"]
    assert result_ids(listed(client, world, "pi")) == [third, second, first]

    clock.advance(timedelta(minutes=1))
    ok(client.patch(f"{API}{first}/", json={"content": "[]"}, headers=world.headers("ci")))

    assert result_ids(listed(client, world, "pi")) == [first, third, second]


def test_the_list_pages_with_absolute_links(client: Client, world: World, clock: FixedClock) -> None:
    ids = []
    for n in range(3):
        ids.append(save(client, world, "ci", title=f"draft {n}")["id"])
        clock.advance(timedelta(seconds=1))

    first = ok(listed(client, world, "ci", limit=1))
    assert (first["count"], [d["id"] for d in first["results"]], first["previous"]) == (3, [ids[2]], None)
    link = urlsplit(first["next"])
    assert link.scheme == "http"
    assert parse_qs(link.query) == {"limit": ["1"], "offset": ["1"]}
    assert result_ids(client.get(first["next"], headers=world.headers("ci"))) == [ids[1]]
    assert ok(listed(client, world, "ci", limit=1, offset=2))["next"] is None


def test_the_default_page_holds_ten(client: Client, world: World) -> None:
    for n in range(11):
        save(client, world, "ci", title=f"draft {n}")

    body = ok(listed(client, world, "ci"))
    assert (body["count"], len(body["results"])) == (11, 10)


def test_a_bad_limit_is_refused(client: Client, world: World) -> None:
    assert refused(listed(client, world, "ci", limit="abc")) == (
        400,
        {"limit": ["A valid non-negative integer is required."]},
    )


@pytest.mark.parametrize("username", ["pi", "ci", "staffview"])
def test_members_and_staff_view_read_one_draft(client: Client, world: World, username: str) -> None:
    draft = save(client, world, "ci")

    assert ok(client.get(f"{API}{draft['id']}/", headers=world.headers(username))) == draft


@pytest.mark.parametrize("username", ["outsider", "staff", "user"])
def test_a_draft_of_another_proposal_is_not_found(client: Client, world: World, username: str) -> None:
    draft = save(client, world, "ci")

    assert refused(client.get(f"{API}{draft['id']}/", headers=world.headers(username))) == (404, NOT_FOUND)


@pytest.mark.parametrize("path", [f"{API}999/", f"{API}abc/", f"{API}999"])
def test_unknown_drafts_are_not_found(client: Client, world: World, path: str) -> None:
    assert refused(client.get(path, headers=world.headers("ci"))) == (404, NOT_FOUND)


def test_a_member_removed_from_the_proposal_no_longer_sees_its_drafts(
    client: Client, world: World, container: Container
) -> None:
    draft = save(client, world, "ci")
    container.bus().handle(RemoveMembership(Actor(world.user_ids["pi"]), world.membership_ids[(MAIN, "ci")]))

    assert refused(client.get(f"{API}{draft['id']}/", headers=world.headers("ci"))) == (404, NOT_FOUND)
    assert ok(listed(client, world, "ci"))["count"] == 0
    # The draft stays the proposal's: the PI still reads it, under its author's name.
    assert ok(client.get(f"{API}{draft['id']}/", headers=world.headers("pi")))["author"] == "ci"


# --- Changing and deleting ----------------------------------------------------------------------------------


def test_a_member_replaces_another_members_draft_and_the_author_stays(
    client: Client, world: World, clock: FixedClock
) -> None:
    draft = save(client, world, "ci")
    clock.advance(timedelta(hours=1))
    body = {"proposal": OLD, "title": "Moved", "content": '{"updated": true}', "author": "pi"}

    answer = ok(client.put(f"{API}{draft['id']}/", json=body, headers=world.headers("pi")))

    assert answer == {
        **draft,
        "proposal": OLD,
        "title": "Moved",
        "content": '{"updated": true}',
        "modified": "2026-11-20T13:00:00Z",
    }
    assert ok(client.get(f"{API}{draft['id']}", headers=world.headers("pi"))) == answer


def test_a_replacement_needs_every_field(client: Client, world: World, container: Container) -> None:
    draft = save(client, world, "ci")
    before = store_state(container)

    response = client.put(f"{API}{draft['id']}/", json={"title": "Only"}, headers=world.headers("ci"))

    assert refused(response) == (400, {"proposal": REQUIRED, "content": REQUIRED})
    assert store_state(container) == before


def test_a_partial_change_keeps_the_other_fields(client: Client, world: World) -> None:
    draft = save(client, world, "ci")

    answer = ok(client.patch(f"{API}{draft['id']}", json={"content": "[1]"}, headers=world.headers("ci")))

    assert answer == {**draft, "content": "[1]"}


@pytest.mark.parametrize(
    ("change", "errors"),
    [
        ({"proposal": OTHER}, {"non_field_errors": [NOT_A_MEMBER]}),
        ({"proposal": "NOPE"}, {"proposal": ['Invalid pk "NOPE" - object does not exist.']}),
        ({"title": "Taken"}, {"non_field_errors": [NOT_UNIQUE]}),
        (
            {"content": "{", "title": "x" * 51},
            {"content": [NOT_JSON], "title": ["Ensure this field has no more than 50 characters."]},
        ),
        ({"title": None}, {"title": ["This field may not be null."]}),
    ],
)
def test_refused_changes_change_nothing(
    client: Client, world: World, container: Container, change: dict[str, Any], errors: dict[str, Any]
) -> None:
    save(client, world, "ci", title="Taken")
    draft = save(client, world, "ci", title="Mine")
    before = store_state(container)

    assert refused(client.patch(f"{API}{draft['id']}/", json=change, headers=world.headers("ci"))) == (400, errors)
    assert store_state(container) == before


def test_the_title_clash_is_the_authors_not_the_editors(client: Client, world: World) -> None:
    save(client, world, "pi", title="The PI's title")
    draft = save(client, world, "ci")

    # The draft stays ci's, and ci has no draft of that title: the PI may give it that title.
    answer = ok(client.patch(f"{API}{draft['id']}/", json={"title": "The PI's title"}, headers=world.headers("pi")))

    assert (answer["author"], answer["title"]) == ("ci", "The PI's title")


def test_a_member_deletes_a_draft(client: Client, world: World, container: Container) -> None:
    kept = save(client, world, "ci", title="kept")
    draft = save(client, world, "ci")

    response = client.delete(f"{API}{draft['id']}/", headers=world.headers("pi"))

    assert response.status_code == 204
    assert set(container.memory_store().drafts) == {kept["id"]}
    assert refused(client.get(f"{API}{draft['id']}/", headers=world.headers("ci"))) == (404, NOT_FOUND)


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
@pytest.mark.parametrize(("username", "expected"), [("outsider", (404, NOT_FOUND)), ("staffview", (403, FORBIDDEN))])
def test_drafts_of_other_proposals_cannot_be_changed(
    client: Client,
    world: World,
    container: Container,
    method: str,
    username: str,
    expected: tuple[int, Any],
) -> None:
    draft = save(client, world, "ci")
    before = store_state(container)

    # Not found, or denied for staff-view who may read it, before the body is even looked at.
    response = client.request(method, f"{API}{draft['id']}/", content=b"{not json", headers=world.headers(username))

    assert refused(response) == expected
    assert store_state(container) == before


def test_changing_an_unknown_draft_is_not_found(client: Client, world: World) -> None:
    for method in ("PUT", "PATCH", "DELETE"):
        response = client.request(method, f"{API}999/", json={"title": "t"}, headers=world.headers("ci"))
        assert refused(response) == (404, NOT_FOUND)


# --- Credentials and methods --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", API),
        ("POST", API),
        ("GET", f"{API}1/"),
        ("PUT", f"{API}1/"),
        ("PATCH", f"{API}1/"),
        ("DELETE", f"{API}1/"),
    ],
)
def test_drafts_need_credentials(client: Client, world: World, container: Container, method: str, path: str) -> None:
    save(client, world, "ci")
    before = store_state(container)
    body = {"proposal": MAIN, "title": "Anonymous", "content": "{}"}

    assert refused(client.request(method, path, json=body)) == (403, NOT_PROVIDED)
    invalid = {"Authorization": "Token " + "0" * 40}
    assert refused(client.request(method, path, json=body, headers=invalid)) == (403, INVALID_TOKEN)
    assert store_state(container) == before


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
def test_the_list_takes_only_get_and_post(client: Client, world: World, method: str) -> None:
    response = client.request(method, API, headers=world.headers("ci"))

    assert refused(response) == (405, {"detail": f'Method "{method}" not allowed.'})
    assert {"GET", "POST"} <= {m.strip() for m in response.headers["allow"].split(",")}


def test_a_draft_takes_no_post(client: Client, world: World) -> None:
    draft = save(client, world, "ci")

    response = client.post(f"{API}{draft['id']}/", json={}, headers=world.headers("ci"))

    assert response.status_code == 405
    assert {"GET", "PUT", "PATCH", "DELETE"} <= {m.strip() for m in response.headers["allow"].split(",")}
