"""The configuration database over HTTP, on the demo network: the read contract OCS clients rely on, the
staff-only writes, and bad input that must be refused without changing anything."""

from __future__ import annotations

from typing import Any

import pytest
from litestar.testing import TestClient

from domain.observatory import Observatory
from tests.unit.domain.observatory_fixtures import demo_observatory


@pytest.fixture
def observatory() -> Observatory:
    return demo_observatory()


def results(client: TestClient[Any], path: str) -> list[dict[str, Any]]:
    response = client.get(path)
    assert response.status_code == 200, response.text
    return list(response.json()["results"])


def codes(client: TestClient[Any], path: str) -> list[str]:
    return [item["code"] for item in results(client, path)]


SITE_FIELDS = ["id", "name", "code", "active", "timezone", "restart", "tz", "lat", "long", "elevation"]
TELESCOPE_FIELDS = [
    "id", "serial_number", "name", "code", "active", "aperture", "lat", "slew_rate", "minimum_slew_overhead",
    "instrument_change_overhead", "long", "enclosure", "horizon", "ha_limit_pos", "ha_limit_neg",
    "telescope_front_padding", "zenith_blind_spot", "maximum_slew_overhead", "instrument_set", "__str__",
]  # fmt: skip


@pytest.mark.parametrize("path", ["/configdb/sites/", "/configdb/sites"])
def test_sites_serve_the_whole_nested_tree_in_canonical_order(client: TestClient[Any], path: str) -> None:
    body = client.get(path).json()
    assert (body["count"], body["next"], body["previous"]) == (7, None, None)
    assert [site["code"] for site in body["results"]] == ["coj", "cpt", "elp", "lsc", "ogg", "tfn", "tlv"]
    ogg = body["results"][4]
    assert ogg["id"] == 5
    assert all(field in ogg for field in [*SITE_FIELDS, "enclosure_set", "__str__"])
    (clma,) = ogg["enclosure_set"]
    assert clma["__str__"] == "ogg.clma"
    assert clma["site"] == "http://testserver.local/configdb/sites/5/"
    assert [t["code"] for t in clma["telescope_set"]] == ["0m4b", "2m0a"]
    telescope = clma["telescope_set"][1]
    assert list(telescope) == TELESCOPE_FIELDS
    assert isinstance(telescope["horizon"], float)
    floyds = telescope["instrument_set"][0]
    assert (floyds["code"], floyds["__str__"], floyds["state"]) == ("floyds01", "ogg.clma.2m0a.floyds01", "SCHEDULABLE")
    assert floyds["instrument_type"]["code"] == "2M0-FLOYDS-SCICAM"
    slits = floyds["science_cameras"][0]["optical_element_groups"][0]
    assert (slits["type"], slits["default"]) == ("slits", "slit_1.6as")


def test_parent_links_point_at_working_detail_routes(client: TestClient[Any]) -> None:
    telescope = results(client, "/configdb/telescopes/?code=2m0a")[0]
    enclosure = client.get(telescope["enclosure"].replace("http://testserver.local", ""))
    assert enclosure.status_code == 200
    assert enclosure.json()["code"] == telescope["__str__"].split(".")[1]


def test_repeated_state_filters_mean_either(client: TestClient[Any]) -> None:
    either = results(client, "/configdb/instruments/?state=MANUAL&state=SCHEDULABLE")
    assert {i["state"] for i in either} == {"MANUAL", "SCHEDULABLE"}
    manual = results(client, "/configdb/instruments/?state=MANUAL")
    schedulable = results(client, "/configdb/instruments/?state=SCHEDULABLE")
    assert len(either) == len(manual) + len(schedulable)


def test_instruments_filter_by_site_and_type_and_camera_type(client: TestClient[Any]) -> None:
    assert codes(client, "/configdb/instruments/?site=ogg&instrument_type=2M0-SCICAM-MUSCAT") == ["mc03"]
    assert codes(client, "/configdb/instruments/?site=ogg&instrument_type=2m0-scicam-muscat") == ["mc03"]
    sinistros = codes(client, "/configdb/instruments/?camera_type=1M0-SCICAM-SINISTRO")
    assert sinistros
    assert all(code.startswith("fa") for code in sinistros)


def test_instruments_can_be_ordered_by_code_descending(client: TestClient[Any]) -> None:
    ordered = codes(client, "/configdb/instruments/?ordering=-code")
    assert ordered == sorted(ordered, reverse=True)


def test_pages_carry_absolute_links_that_keep_the_filters(client: TestClient[Any]) -> None:
    body = client.get("/configdb/instruments/?state=SCHEDULABLE&limit=5").json()
    assert len(body["results"]) == 5
    assert body["next"].startswith("http://testserver.local/configdb/instruments")
    assert "state=SCHEDULABLE" in body["next"]
    assert "offset=5" in body["next"]
    second = client.get(body["next"].replace("http://testserver.local", "")).json()
    assert {i["id"] for i in second["results"]}.isdisjoint({i["id"] for i in body["results"]})


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/configdb/instruments/?state=FOO", "state"),
        ("/configdb/opticalelements/?schedulable=maybe", "schedulable"),
        ("/configdb/sites/?limit=-1", "limit"),
        ("/configdb/sites/?offset=abc", "offset"),
    ],
)
def test_invalid_filter_values_are_a_400_on_that_parameter(client: TestClient[Any], path: str, field: str) -> None:
    response = client.get(path)
    assert response.status_code == 400
    assert field in response.json()


def test_unknown_ids_and_collections_are_json_404s(client: TestClient[Any]) -> None:
    for path in ("/configdb/sites/999/", "/configdb/nothing/", "/configdb/sites/abc/"):
        response = client.get(path)
        assert response.status_code == 404
        assert response.json() == {"detail": "Not found."}


SITE = {"code": "abc", "name": "New site", "lat": 10.0, "long": 20.0, "elevation": 100, "timezone": 1}


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/configdb/sites/", SITE),
        ("PATCH", "/configdb/instruments/1/", {"state": "MANUAL"}),
        ("PUT", "/configdb/opticalelements/1/", {"code": "U", "name": "U"}),
        ("DELETE", "/configdb/sites/7/", None),
    ],
)
def test_writes_need_a_staff_token(
    client: TestClient[Any], user_headers: dict[str, str], method: str, path: str, body: Any
) -> None:
    before = client.get("/configdb/export/").json()
    anonymous = client.request(method, path, json=body)
    assert anonymous.status_code == 401
    assert anonymous.json() == {"detail": "Authentication credentials were not provided."}
    invalid = client.request(method, path, json=body, headers={"Authorization": "Token " + "0" * 40})
    assert invalid.status_code == 401
    assert invalid.json() == {"detail": "Invalid token."}
    non_staff = client.request(method, path, json=body, headers=user_headers)
    assert non_staff.status_code == 403
    assert non_staff.json() == {"detail": "You do not have permission to perform this action."}
    assert client.get("/configdb/export/").json() == before


def test_staff_create_change_and_delete_a_site(client: TestClient[Any], staff_headers: dict[str, str]) -> None:
    created = client.post("/configdb/sites/", json=SITE, headers=staff_headers)
    assert created.status_code == 201, created.text
    site_id = created.json()["id"]
    assert created.json()["lat"] == 10.0
    changed = client.patch(f"/configdb/sites/{site_id}/", json={"name": "Renamed"}, headers=staff_headers)
    assert changed.json()["name"] == "Renamed"
    assert client.delete(f"/configdb/sites/{site_id}/", headers=staff_headers).status_code == 204
    assert client.get(f"/configdb/sites/{site_id}/").status_code == 404


def test_an_instrument_state_change_is_visible_at_once_and_recorded(
    client: TestClient[Any], staff_headers: dict[str, str]
) -> None:
    mc03 = results(client, "/configdb/instruments/?site=ogg&instrument_type=2M0-SCICAM-MUSCAT")[0]
    response = client.patch(f"/configdb/instruments/{mc03['id']}", json={"state": "MANUAL"}, headers=staff_headers)
    assert response.status_code == 200
    assert client.get(f"/configdb/instruments/{mc03['id']}/").json()["state"] == "MANUAL"
    assert "mc03" not in codes(client, "/configdb/instruments/?state=SCHEDULABLE")


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({**SITE, "elevation": "high"}, {"elevation": ["A valid integer is required."]}),
        ({k: v for k, v in SITE.items() if k != "lat"}, {"lat": ["This field is required."]}),
        ({**SITE, "lat": 95}, {"lat": ["Ensure this value is less than or equal to 90."]}),
        ({**SITE, "code": "ogg"}, "code"),
        ({**SITE, "code": "OGG1"}, "code"),
        ([SITE], {"non_field_errors": ["Invalid data. Expected a dictionary, but got list."]}),
    ],
)
def test_invalid_site_bodies_are_refused_and_change_nothing(
    client: TestClient[Any], staff_headers: dict[str, str], body: Any, expected: Any
) -> None:
    before = client.get("/configdb/export/").json()
    response = client.post("/configdb/sites/", json=body, headers=staff_headers)
    assert response.status_code == 400
    if isinstance(expected, str):
        assert expected in response.json()
    else:
        assert response.json() == expected
    assert client.get("/configdb/export/").json() == before


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/configdb/telescopes/1/", {"ha_limit_pos": -1}, "ha_limit_pos"),
        ("/configdb/instruments/1/", {"state": "BROKEN"}, "state"),
        ("/configdb/enclosures/1/", {"site_id": 9999}, "site_id"),
    ],
)
def test_invalid_updates_are_refused_and_change_nothing(
    client: TestClient[Any], staff_headers: dict[str, str], path: str, body: Any, field: str
) -> None:
    before = client.get("/configdb/export/").json()
    response = client.patch(path, json=body, headers=staff_headers)
    assert response.status_code == 400, response.text
    assert field in response.json()
    assert client.get("/configdb/export/").json() == before


def test_deleting_a_site_that_still_has_enclosures_is_a_conflict(
    client: TestClient[Any], staff_headers: dict[str, str]
) -> None:
    lsc = results(client, "/configdb/sites/?code=lsc")[0]
    response = client.delete(f"/configdb/sites/{lsc['id']}/", headers=staff_headers)
    assert response.status_code == 409
    assert response.json()["detail"].startswith('Site "lsc" still has')
    assert codes(client, "/configdb/sites/?code=lsc") == ["lsc"]


def test_malformed_json_and_oversized_bodies_are_refused(
    client: TestClient[Any], staff_headers: dict[str, str]
) -> None:
    headers = {**staff_headers, "Content-Type": "application/json"}
    malformed = client.post("/configdb/sites/", content=b'{"code": ', headers=headers)
    assert malformed.status_code == 400
    assert malformed.json()["detail"].startswith("JSON parse error")
    huge = client.post("/configdb/sites/", content=b"[" + b"1," * 600_000 + b"1]", headers=headers)
    assert huge.status_code == 413
    assert huge.json() == {"detail": "Request body too large"}
    assert codes(client, "/configdb/sites/") == ["coj", "cpt", "elp", "lsc", "ogg", "tfn", "tlv"]


def test_an_unknown_method_is_a_json_405_with_allow(client: TestClient[Any]) -> None:
    response = client.put("/configdb/sites/")
    assert response.status_code == 405
    assert response.json() == {"detail": 'Method "PUT" not allowed.'}
    assert "POST" in response.headers["allow"]


def test_an_import_with_a_dangling_reference_is_refused_whole(
    client: TestClient[Any], staff_headers: dict[str, str]
) -> None:
    document = client.get("/configdb/export/").json()
    document["sites"][0]["name"] = "Changed before the error"
    document["cameras"][0]["optical_element_groups"] = ["no such group"]
    response = client.post("/configdb/import/", json=document, headers=staff_headers)
    assert response.status_code == 400
    assert "cameras[0].optical_element_groups[0]" in response.json()
    assert results(client, "/configdb/sites/?code=coj")[0]["name"] != "Changed before the error"


def test_a_dry_run_import_reports_the_plan_and_writes_nothing(
    client: TestClient[Any], staff_headers: dict[str, str]
) -> None:
    document = client.get("/configdb/export/").json()
    document["sites"][0]["name"] = "Renamed by import"
    plan = client.post("/configdb/import/?dry_run=true", json=document, headers=staff_headers).json()
    assert plan["dry_run"] is True
    assert plan["updated"]["sites"] == 1
    assert results(client, "/configdb/sites/?code=coj")[0]["name"] != "Renamed by import"
    applied = client.post("/configdb/import/", json=document, headers=staff_headers)
    assert applied.status_code == 200
    assert results(client, "/configdb/sites/?code=coj")[0]["name"] == "Renamed by import"


def test_availability_history_needs_an_instrument_or_a_whole_telescope(client: TestClient[Any]) -> None:
    response = client.get("/configdb/api/availability_history/?site_id=ogg")
    assert response.status_code == 400
    assert "Must supply either instrument_id" in response.json()["detail"]
    assert client.get("/configdb/api/availability_history/?instrument_id=nope").status_code == 404
