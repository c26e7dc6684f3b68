"""``GET /api/instruments/`` over HTTP on the demo network: anonymous, user and staff views, filters, bad input."""

from __future__ import annotations

from typing import Any

import pytest
from litestar.testing import TestClient

from application.observatory_views import schedulable_instrument_types
from domain.observatory import Observatory
from tests.unit.domain.observatory_fixtures import demo_observatory

API = "/api/instruments/"
SINISTRO, NRES, QHY, FLOYDS, MUSCAT = (
    "1M0-SCICAM-SINISTRO",
    "1M0-NRES-SCICAM",
    "0M4-SCICAM-QHY600",
    "2M0-FLOYDS-SCICAM",
    "2M0-SCICAM-MUSCAT",
)
ENTRY_KEYS = {
    "type",
    "class",
    "name",
    "optical_elements",
    "modes",
    "default_acceptability_threshold",
    "configuration_types",
    "default_configuration_type",
    "validation_schema",
    "camera_type",
}


@pytest.fixture
def observatory() -> Observatory:
    return demo_observatory()


def catalogue(client: TestClient[Any], query: str = "", headers: dict[str, str] | None = None) -> dict[str, Any]:
    response = client.get(API + query, headers=headers or {})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def filter_codes(body: dict[str, Any], instrument_type: str = SINISTRO) -> list[str]:
    return [element["code"] for element in body[instrument_type]["optical_elements"]["filters"]]


def test_anyone_gets_the_schedulable_types_keyed_by_code(client: TestClient[Any], observatory: Observatory) -> None:
    body = catalogue(client)
    assert list(body) == schedulable_instrument_types(observatory)
    for entry in body.values():
        assert set(entry) == ENTRY_KEYS


@pytest.mark.parametrize("path", ["/api/instruments/", "/api/instruments"])
def test_the_route_answers_with_and_without_the_trailing_slash(client: TestClient[Any], path: str) -> None:
    response = client.get(path)
    assert response.status_code == 200
    assert response.json() == catalogue(client)


def test_the_sinistro_entry_is_what_the_tom_toolkit_reads(
    client: TestClient[Any], user_headers: dict[str, str]
) -> None:
    sinistro = catalogue(client, headers=user_headers)[SINISTRO]

    assert (sinistro["type"], sinistro["class"], sinistro["name"]) == ("IMAGE", "1m0", "1.0 m Sinistro imager")
    readout = sinistro["modes"]["readout"]
    assert readout["default"] == "full_frame"
    assert readout["modes"][0]["code"] == "full_frame"
    assert readout["modes"][0]["overhead"] == 14.5
    air = next(element for element in sinistro["optical_elements"]["filters"] if element["code"] == "air")
    assert (air["name"], air["schedulable"], air["default"]) == ("Clear", True, True)
    assert sinistro["configuration_types"]["EXPOSE"]["name"] == "Expose"
    assert sinistro["default_configuration_type"] == "EXPOSE"
    assert sinistro["camera_type"]["pixels_x"] == 4096
    assert sinistro["camera_type"]["science_field_of_view"] == pytest.approx(26.5557, abs=1e-4)


def test_users_never_see_non_schedulable_elements_or_modes(
    client: TestClient[Any], user_headers: dict[str, str]
) -> None:
    for headers in ({}, user_headers):
        body = catalogue(client, "?only_schedulable=false", headers)
        assert "ND" not in filter_codes(body)
        assert [mode["code"] for mode in body[NRES]["modes"]["guiding"]["modes"]] == ["ON"]


def test_staff_see_non_schedulable_elements_modes_and_instruments(
    client: TestClient[Any], staff_headers: dict[str, str]
) -> None:
    body = catalogue(client, headers=staff_headers)

    nd = next(element for element in body[SINISTRO]["optical_elements"]["filters"] if element["code"] == "ND")
    assert nd["schedulable"] is False
    assert "NRES_SPECIAL" in [mode["code"] for mode in body[NRES]["modes"]["guiding"]["modes"]]
    assert list(catalogue(client, "?site=lsc&enclosure=domb", staff_headers)) == [SINISTRO]  # fa03 is MANUAL
    assert catalogue(client, "?site=lsc&enclosure=domb") == {}


@pytest.mark.parametrize("flag", ["true", "True", "1"])
def test_staff_asking_for_only_schedulable_get_the_public_catalogue(
    client: TestClient[Any], staff_headers: dict[str, str], flag: str
) -> None:
    assert catalogue(client, f"?only_schedulable={flag}", staff_headers) == catalogue(client)


@pytest.mark.parametrize("flag", ["false", "False", "0", ""])
def test_staff_not_asking_for_only_schedulable_get_everything(
    client: TestClient[Any], staff_headers: dict[str, str], flag: str
) -> None:
    assert "ND" in filter_codes(catalogue(client, f"?only_schedulable={flag}", staff_headers))


def test_a_staff_only_schedulable_that_is_not_a_boolean_is_refused(
    client: TestClient[Any], staff_headers: dict[str, str]
) -> None:
    response = client.get(API + "?only_schedulable=maybe", headers=staff_headers)
    assert response.status_code == 400
    assert response.json() == {"only_schedulable": ["Must be a valid boolean."]}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("?instrument_type=1m0-scicam-sinistro", [SINISTRO]),
        (f"?instrument_type={SINISTRO}&instrument_type={FLOYDS}", [SINISTRO, FLOYDS]),
        ("?site=ogg", [QHY, FLOYDS, MUSCAT]),
        ("?site=ogg&site=cpt", [QHY, NRES, SINISTRO, FLOYDS, MUSCAT]),
        ("?enclosure=aqwa", [QHY]),
        ("?telescope=2m0a", [FLOYDS, MUSCAT]),
        ("?telescope_class=1m0", [NRES, SINISTRO]),
        ("?telescope_class=0m4&telescope_class=2m0", [QHY, FLOYDS, MUSCAT]),
        ("?site=elp&enclosure=doma&telescope=1m0a&telescope_class=1m0", [NRES, SINISTRO]),
        ("?site=coj&instrument_type=1M0-NRES-SCICAM", []),
        ("?site=", [QHY, NRES, SINISTRO, FLOYDS, MUSCAT]),
        ("?ordering=-code&unknown=1", [QHY, NRES, SINISTRO, FLOYDS, MUSCAT]),
    ],
)
def test_filters_narrow_the_catalogue(client: TestClient[Any], query: str, expected: list[str]) -> None:
    assert sorted(catalogue(client, query)) == sorted(expected)


@pytest.mark.parametrize(
    "query", ["?instrument_type=NOPE", "?site=xyz", "?enclosure=domz", "?telescope=9m9z", "?telescope_class=3m0"]
)
def test_unknown_filter_values_give_an_empty_catalogue(
    client: TestClient[Any], staff_headers: dict[str, str], query: str
) -> None:
    assert catalogue(client, query) == {}
    assert catalogue(client, query, staff_headers) == {}


def test_an_invalid_token_is_refused_though_anonymous_reads_are_allowed(client: TestClient[Any]) -> None:
    response = client.get(API, headers={"Authorization": "Token " + "0" * 40})
    assert response.status_code == 403
    assert response.json() == {"detail": "Invalid token."}


def test_the_route_is_in_the_openapi_document(client: TestClient[Any]) -> None:
    paths = client.get("/schema/openapi.json").json()["paths"]
    assert any(path.rstrip("/") == "/api/instruments" for path in paths)
