"""The caller's own account over HTTP (api.md 2.2, 5.1; requests.md 1.1, 1.2, 1.10) through the TestClient."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from entrypoints.container import Container
from tests.unit.entrypoints.portal_world import (
    FLOYDS,
    INVALID_TOKEN,
    MAIN,
    MUSCAT,
    NOT_PROVIDED,
    NRES,
    OTHER,
    SINISTRO,
    Client,
    World,
    load_world,
    stored_state,
)

PROFILE = "/api/profile/"


@pytest.fixture
def world(container: Container) -> Iterator[World]:
    yield from load_world(container)


def profile_of(client: Client, world: World, username: str, **params: str) -> dict[str, Any]:
    response = client.get(PROFILE, headers=world.headers(username), params=params)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


# --- Reading ------------------------------------------------------------------------------------------------


def test_profile_has_every_key_of_the_portal_shape(client: Client, world: World) -> None:
    body = profile_of(client, world, "pi")
    assert {
        "username",
        "first_name",
        "last_name",
        "email",
        "is_staff",
        "is_superuser",
        "profile",
        "proposals",
        "available_instrument_types",
        "tokens",
        "proposal_notifications",
    } <= set(body)
    assert (body["username"], body["first_name"], body["last_name"], body["email"]) == (
        "pi",
        "Ada",
        "Lovelace",
        "ada@example.org",
    )
    assert body["is_staff"] is False
    assert body["is_superuser"] is False
    assert body["profile"] == {
        "education_user": False,
        "notifications_enabled": False,
        "notifications_on_authored_only": False,
        "simple_interface": False,
        "view_authored_requests_only": False,
        "staff_view": False,
        "institution": "",
        "title": "",
        "api_quota": {"used": 0, "allowed": "unlimited"},
        "terms_accepted": None,
        "sciencecollaborationallocation": None,
        "password_expiration": None,
    }
    assert body["proposal_notifications"] == []


def test_profile_lists_active_proposals_with_current_flag_and_types_of_current_allocations(
    client: Client, world: World
) -> None:
    body = profile_of(client, world, "pi")
    # The inactive proposal the pi also leads is left out.
    assert body["proposals"] == [{"id": MAIN, "title": "Comets of the outer system", "current": True}]
    # 2027A's QHY600 allocation is not current, so it is not available yet.
    assert body["available_instrument_types"] == sorted([SINISTRO, FLOYDS, MUSCAT])


def test_profile_shows_the_callers_token_for_the_portal_and_the_archive(client: Client, world: World) -> None:
    tokens = profile_of(client, world, "ci")["tokens"]
    assert tokens == {"api_token": world.tokens["ci"], "archive": world.tokens["ci"]}


def test_reading_the_profile_keeps_the_existing_token(client: Client, world: World, container: Container) -> None:
    profile_of(client, world, "ci")
    profile_of(client, world, "ci")
    assert container.memory_store().users[world.user_ids["ci"]].api_token == world.tokens["ci"]


def test_profile_of_another_user_shows_only_their_own_proposals(client: Client, world: World) -> None:
    body = profile_of(client, world, "outsider")
    assert [p["id"] for p in body["proposals"]] == [OTHER]
    assert body["available_instrument_types"] == [NRES]


def test_profile_of_a_user_without_proposals_is_empty_but_complete(client: Client, world: World) -> None:
    body = profile_of(client, world, "user")
    assert body["proposals"] == []
    assert body["available_instrument_types"] == []


def test_profile_can_include_current_time_allocations(client: Client, world: World) -> None:
    body = profile_of(client, world, "ci", include_current_time_allocations="true")
    (entry,) = body["proposals"]
    assert entry["time_limit"] == -1
    assert entry["time_used"] == 0.0
    allocations = entry["time_allocations"]
    assert sorted(a["instrument_types"][0] for a in allocations) == [SINISTRO, FLOYDS]
    assert {a["semester"] for a in allocations} == {"2026B"}
    sinistro = next(a for a in allocations if a["instrument_types"] == [SINISTRO])
    assert sinistro["std_allocation"] == 100.0
    assert sinistro["rr_allocation"] == 10.0
    assert sinistro["ipp_limit"] == 10.0
    assert sinistro["ipp_time_available"] == 5.0
    assert sinistro["proposal"] == MAIN
    assert sinistro["id"] == world.allocation_ids[(MAIN, "2026B", SINISTRO)]


def test_profile_without_the_flag_has_no_time_allocations(client: Client, world: World) -> None:
    (entry,) = profile_of(client, world, "ci")["proposals"]
    assert "time_allocations" not in entry
    assert "time_limit" not in entry


def test_profile_answers_without_a_trailing_slash(client: Client, world: World) -> None:
    response = client.get("/api/profile", headers=world.headers("pi"))
    assert response.status_code == 200
    assert response.json()["username"] == "pi"


def test_profile_refuses_a_bad_flag_value(client: Client, world: World) -> None:
    response = client.get(PROFILE, headers=world.headers("pi"), params={"include_current_time_allocations": "maybe"})
    assert response.status_code == 400
    assert response.json() == {"include_current_time_allocations": ["Must be a valid boolean."]}


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", PROFILE),
        ("PATCH", PROFILE),
        ("PUT", PROFILE),
        ("POST", "/api/revoke_token/"),
        ("POST", "/api/profile/accept_terms/"),
    ],
)
def test_account_endpoints_need_credentials(
    client: Client, world: World, container: Container, method: str, path: str
) -> None:
    before = stored_state(container)
    response = client.request(method, path, json={"first_name": "Mallory"})
    assert response.status_code == 403
    assert response.json() == NOT_PROVIDED
    unknown = client.request(method, path, json={}, headers={"Authorization": "Token " + "0" * 40})
    assert unknown.status_code == 403
    assert unknown.json() == INVALID_TOKEN
    assert stored_state(container) == before


def test_malformed_authorization_headers_are_refused(client: Client, world: World) -> None:
    no_key = client.get(PROFILE, headers={"Authorization": "Token"})
    assert no_key.status_code == 403
    assert no_key.json() == {"detail": "Invalid token header. No credentials provided."}
    spaces = client.get(PROFILE, headers={"Authorization": "Token abc def"})
    assert spaces.json() == {"detail": "Invalid token header. Token string should not contain spaces."}


# --- Editing ------------------------------------------------------------------------------------------------


def test_patch_changes_names_email_and_profile_settings(client: Client, world: World) -> None:
    change = {
        "first_name": "Augusta Ada",
        "email": "Ada.King@Example.org",
        "profile": {
            "institution": "Analytical Engines Ltd",
            "title": "Countess",
            "notifications_enabled": True,
            "simple_interface": "true",
            "view_authored_requests_only": "1",
        },
    }
    response = client.patch(PROFILE, json=change, headers=world.headers("pi"))
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["first_name"], body["last_name"], body["email"]) == ("Augusta Ada", "Lovelace", "ada.king@example.org")
    assert body["profile"]["institution"] == "Analytical Engines Ltd"
    assert body["profile"]["notifications_enabled"] is True
    assert body["profile"]["simple_interface"] is True
    assert body["profile"]["view_authored_requests_only"] is True
    assert body["profile"]["education_user"] is False
    assert profile_of(client, world, "pi") == body


def test_put_edits_like_patch(client: Client, world: World) -> None:
    response = client.put("/api/profile", json={"last_name": "King"}, headers=world.headers("pi"))
    assert response.status_code == 200, response.text
    assert response.json()["last_name"] == "King"
    assert profile_of(client, world, "pi")["first_name"] == "Ada"


def test_patch_ignores_keys_a_user_may_not_change(client: Client, world: World, container: Container) -> None:
    before = stored_state(container)
    change = {
        "username": "root",
        "is_staff": True,
        "is_superuser": True,
        "tokens": {"api_token": "f" * 40},
        "proposals": [{"id": OTHER}],
        "profile": {"api_quota": {"allowed": 0}, "terms_accepted": "2020-01-01T00:00:00Z"},
    }
    response = client.patch(PROFILE, json=change, headers=world.headers("pi"))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["username"] == "pi"
    assert body["is_staff"] is False
    assert body["tokens"]["api_token"] == world.tokens["pi"]
    assert stored_state(container) == before


def test_staff_may_switch_staff_view_on(client: Client, world: World, staff_headers: dict[str, str]) -> None:
    response = client.patch(PROFILE, json={"profile": {"staff_view": True}}, headers=staff_headers)
    assert response.status_code == 200, response.text
    assert response.json()["profile"]["staff_view"] is True
    assert response.json()["is_staff"] is True


def test_changing_email_to_an_invited_address_joins_the_proposal(client: Client, world: World) -> None:
    response = client.patch(PROFILE, json={"email": "newcomer@example.org"}, headers=world.headers("outsider"))
    assert response.status_code == 200, response.text
    assert sorted(p["id"] for p in profile_of(client, world, "outsider")["proposals"]) == [MAIN, OTHER]


@pytest.mark.parametrize(
    ("change", "errors"),
    [
        ({"profile": {"staff_view": True}}, {"profile": {"staff_view": ["Only staff may set staff_view"]}}),
        ({"email": "CHARLES@example.org"}, {"email": ["User with this email already exists"]}),
        ({"email": "not-an-address"}, {"email": ["Enter a valid email address."]}),
        ({"first_name": "x" * 151}, {"first_name": ["Ensure this field has no more than 150 characters."]}),
        (
            {"profile": {"title": "x" * 201}},
            {"profile": {"title": ["Ensure this field has no more than 200 characters."]}},
        ),
        ({"first_name": {"given": "Ada"}}, {"first_name": ["Not a valid string."]}),
        ({"last_name": None}, {"last_name": ["This field may not be null."]}),
        ({"profile": "on"}, {"profile": ['Expected a dictionary of items but got type "str".']}),
        (
            {"first_name": [], "profile": {"notifications_enabled": "maybe"}},
            {"first_name": ["Not a valid string."], "profile": {"notifications_enabled": ["Must be a valid boolean."]}},
        ),
    ],
)
def test_refused_profile_edits_answer_the_field_errors_and_change_nothing(
    client: Client, world: World, container: Container, change: dict[str, Any], errors: dict[str, Any]
) -> None:
    before = stored_state(container)
    for method in ("PATCH", "PUT"):
        response = client.request(method, PROFILE, json=change, headers=world.headers("pi"))
        assert response.status_code == 400, response.text
        assert response.json() == errors
    assert stored_state(container) == before


def test_profile_edit_refuses_bodies_that_are_not_json_objects(
    client: Client, world: World, container: Container
) -> None:
    before = stored_state(container)
    headers = world.headers("pi")
    broken = client.patch(PROFILE, content=b'{"first_name": ', headers={**headers, "Content-Type": "application/json"})
    assert broken.status_code == 400
    assert broken.json()["detail"].startswith("JSON parse error")
    listed = client.patch(PROFILE, json=["first_name"], headers=headers)
    assert listed.status_code == 400
    assert listed.json() == {"non_field_errors": ["Invalid data. Expected a dictionary, but got list."]}
    text = client.patch(PROFILE, content=b"first_name=Eve", headers={**headers, "Content-Type": "text/plain"})
    assert text.status_code == 415
    assert text.json() == {"detail": 'Unsupported media type "text/plain" in request.'}
    assert stored_state(container) == before


def test_a_body_over_five_mebibytes_is_refused_and_one_under_is_read(
    client: Client, world: World, container: Container
) -> None:
    before = stored_state(container)
    headers = {**world.headers("pi"), "Content-Type": "application/json"}
    padding = "x" * (5 * 1024 * 1024)
    huge = client.patch(PROFILE, content=f'{{"first_name": "Eve", "pad": "{padding}"}}'.encode(), headers=headers)
    assert huge.status_code == 413
    assert huge.json() == {"detail": "Request body too large (limit 5 MiB)."}
    assert stored_state(container) == before
    large = client.patch(
        PROFILE, content=f'{{"first_name": "Eve", "pad": "{padding[:-1024]}"}}'.encode(), headers=headers
    )
    assert large.status_code == 200, large.text
    assert large.json()["first_name"] == "Eve"


# --- Token and terms ----------------------------------------------------------------------------------------


def test_revoking_the_token_stops_the_old_key_at_once(client: Client, world: World) -> None:
    response = client.post("/api/revoke_token/", headers=world.headers("ci"))
    assert response.status_code == 200
    assert response.json() == {"message": "API token revoked."}
    refused = client.get(PROFILE, headers=world.headers("ci"))
    assert refused.status_code == 403
    assert refused.json() == INVALID_TOKEN
    login = client.post("/api/api-token-auth/", json={"username": "ci", "password": "ci-password"})
    new_token = login.json()["token"]
    assert new_token != world.tokens["ci"]
    assert len(new_token) == 40
    body = client.get(PROFILE, headers={"Authorization": f"Token {new_token}"}).json()
    assert body["tokens"]["api_token"] == new_token


def test_revoking_one_users_token_leaves_the_others(client: Client, world: World) -> None:
    client.post("/api/revoke_token", headers=world.headers("ci"))
    assert client.get(PROFILE, headers=world.headers("pi")).status_code == 200


def test_accepting_the_terms_stamps_the_profile(client: Client, world: World) -> None:
    assert profile_of(client, world, "pi")["profile"]["terms_accepted"] is None
    response = client.post("/api/profile/accept_terms", headers=world.headers("pi"))
    assert response.status_code == 200
    assert response.json() == {"message": "Terms accepted"}
    assert profile_of(client, world, "pi")["profile"]["terms_accepted"] == "2026-11-20T12:00:00Z"
