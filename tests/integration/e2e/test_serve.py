"""The real ``obsnet serve`` process, over HTTP: the demo network, downtime writes, and several processes."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.e2e.support import http, running_server

pytestmark = pytest.mark.e2e


def login(base: str, username: str, password: str) -> str:
    status, body = http("POST", f"{base}/api/api-token-auth/", {"username": username, "password": password})
    assert status == 200, body
    return str(body["token"])


DOWNTIME = {
    "start": "2030-01-01T10:00:00Z",
    "end": "2030-01-01T14:00:00Z",
    "site": "ogg",
    "enclosure": "clma",
    "telescope": "2m0a",
    "instrument_type": "2M0-FLOYDS-SCICAM",
    "reason": "e2e: slit mechanism service",
}


def test_demo_server_serves_the_nested_site_tree_and_staff_manage_downtimes(tmp_path: Path) -> None:
    with running_server("--demo", cwd=tmp_path) as base:
        status, sites = http("GET", f"{base}/configdb/sites/")
        assert status == 200
        assert sites["count"] == 7
        ogg = next(site for site in sites["results"] if site["code"] == "ogg")
        telescope = ogg["enclosure_set"][0]["telescope_set"][-1]
        assert telescope["__str__"] == "ogg.clma.2m0a"
        assert [i["code"] for i in telescope["instrument_set"]] == ["floyds01", "mc03"]

        admin, demo = login(base, "admin", "admin"), login(base, "demo", "demo")
        assert http("POST", f"{base}/downtime/api/", DOWNTIME, token=demo)[0] == 403
        status, created = http("POST", f"{base}/downtime/api/", DOWNTIME, token=admin)
        assert status == 201, created
        status, found = http("GET", f"{base}/downtime/api/?reason_exact=e2e:%20slit%20mechanism%20service")
        assert [d["id"] for d in found["results"]] == [created["id"]]
        assert http("DELETE", f"{base}/downtime/api/{created['id']}/", token=demo)[0] == 403
        assert http("DELETE", f"{base}/downtime/api/{created['id']}/", token=admin)[0] == 204
        assert http("GET", f"{base}/downtime/api/{created['id']}/")[0] == 404


def test_demo_loading_is_idempotent_across_restarts(tmp_path: Path) -> None:
    counts = []
    for _ in range(2):
        with running_server("--demo", cwd=tmp_path) as base:
            counts.append(
                (
                    http("GET", f"{base}/configdb/instruments/")[1]["count"],
                    http("GET", f"{base}/downtime/api/")[1]["count"],
                )
            )
    assert counts[0] == counts[1] == (24, 5)


@pytest.mark.postgres
def test_two_server_processes_on_one_postgres_serve_the_same_data(tmp_path: Path, postgres_schema_url: str) -> None:
    url = postgres_schema_url
    with (
        running_server("--demo", "--database-url", url, cwd=tmp_path) as first,
        running_server("--database-url", url, cwd=tmp_path) as second,
    ):
        admin = login(first, "admin", "admin")
        status, created = http("POST", f"{first}/downtime/api/", DOWNTIME, token=admin)
        assert status == 201, created
        assert http("GET", f"{second}/downtime/api/{created['id']}/")[1]["reason"] == DOWNTIME["reason"]

        status, found = http("GET", f"{second}/configdb/instruments/?instrument_type=2M0-FLOYDS-SCICAM&site=ogg")
        floyds = found["results"][0]
        status, changed = http(
            "PATCH", f"{second}/configdb/instruments/{floyds['id']}/", {"state": "MANUAL"}, token=admin
        )
        assert status == 200, changed
        assert http("GET", f"{first}/configdb/instruments/{floyds['id']}/")[1]["state"] == "MANUAL"
        assert http("DELETE", f"{second}/downtime/api/{created['id']}/", token=admin)[0] == 204
        assert http("GET", f"{first}/downtime/api/{created['id']}/")[0] == 404


@pytest.mark.postgres
def test_one_server_with_several_workers_answers_consistently(tmp_path: Path, postgres_schema_url: str) -> None:
    with running_server("--demo", "--workers", "2", "--database-url", postgres_schema_url, cwd=tmp_path) as base:
        admin = login(base, "admin", "admin")
        ids = []
        for hour in range(6):
            body = {**DOWNTIME, "start": f"2030-02-01T{hour:02d}:00:00Z", "end": f"2030-02-01T{hour:02d}:30:00Z"}
            status, created = http("POST", f"{base}/downtime/api/", body, token=admin)
            assert status == 201, created
            ids.append(created["id"])
        # Whichever worker answers, every write is visible.
        for _ in range(6):
            listed = http("GET", f"{base}/downtime/api/?starts_after=2030-02-01&starts_before=2030-02-02")[1]
            assert sorted(d["id"] for d in listed["results"]) == sorted(ids)
