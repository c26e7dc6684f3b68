"""The portal's writes through a real ``obsnet serve --demo`` process, on SQLite and on PostgreSQL: an
administrator opens a semester, a proposal and an allocation; a PI invites, limits and removes members;
refusals answer as requests.md 1.10 says and leave everything as it was; a revoked token stops at once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import requests

from tests.integration.e2e.support import running_server

pytestmark = pytest.mark.e2e

TIMEOUT_S = 30


class Caller:
    def __init__(self, base: str, username: str, password: str) -> None:
        self.base = base
        response = requests.post(
            f"{base}/api/api-token-auth/", json={"username": username, "password": password}, timeout=TIMEOUT_S
        )
        assert response.status_code == 200, response.text
        self.token = response.json()["token"]

    def call(self, method: str, path: str, body: Any = None, **params: Any) -> requests.Response:
        return requests.request(
            method,
            f"{self.base}{path}",
            json=body,
            params=params,
            headers={"Authorization": f"Token {self.token}"},
            timeout=TIMEOUT_S,
        )

    def ok(self, method: str, path: str, body: Any = None, status: int = 200, **params: Any) -> Any:
        response = self.call(method, path, body, **params)
        assert response.status_code == status, (method, path, response.status_code, response.text)
        return response.json() if response.content else None


def _flow(base: str) -> None:
    admin, pi, ci = Caller(base, "admin", "admin"), Caller(base, "demo", "demo"), Caller(base, "demo-ci", "demo-ci")

    # The administrator: a semester after the demo's two, a proposal for `other`, hours on it.
    semesters = admin.ok("GET", "/api/semesters/", limit=100)["results"]
    last_end = max(s["end"] for s in semesters)
    admin.ok("POST", "/api/semesters/", {"id": "2099Z", "start": last_end, "end": "2100-01-01T00:00:00Z"}, 201)
    overlap = admin.call("POST", "/api/semesters/", {"id": "2099Y", "start": last_end, "end": "2099-12-01"})
    assert (overlap.status_code, overlap.json()) == (400, {"non_field_errors": ["Semester 2099Y overlaps 2099Z"]})
    admin.ok("POST", "/api/proposals/", {"id": "E2E-001", "title": "End to end", "pis": ["other"]}, 201)
    allocation = admin.ok(
        "POST",
        "/api/timeallocations/",
        {"proposal": "E2E-001", "semester": "2099Z", "instrument_types": ["1m0-scicam-sinistro"], "std_allocation": 8},
        201,
    )
    assert (allocation["instrument_types"], allocation["ipp_limit"]) == (["1M0-SCICAM-SINISTRO"], 0.8)
    refused = pi.call("POST", "/api/timeallocations/", {"proposal": "DEMO-001", "semester": "2099Z"})
    assert refused.status_code == 403
    assert [p["id"] for p in admin.ok("GET", "/api/proposals/", limit=100)["results"]].count("E2E-001") == 1

    # The PI of DEMO-001: invite an existing user (a member at once) and a newcomer (a pending invitation).
    message = pi.ok("POST", "/api/proposals/DEMO-001/invite/", {"emails": ["other@example.org", "new@example.org"]})
    assert message == {"message": "Co Investigator(s) invited"}
    members = pi.ok("GET", "/api/memberships/", proposal="DEMO-001", limit=100)["results"]
    by_name = {m["username"]: m for m in members}
    assert set(by_name) == {"demo", "demo-ci", "other"}
    (invitation,) = pi.ok("GET", "/api/invitations/", proposal="DEMO-001", pending="true")["results"]
    assert invitation["email"] == "new@example.org"

    limit = pi.ok("POST", f"/api/memberships/{by_name['other']['id']}/limit/", {"time_limit_hours": 1.5})
    assert limit["message"].endswith("set to 1.5 hours")
    assert pi.ok("GET", f"/api/memberships/{by_name['other']['id']}/")["time_limit"] == 5400

    # Refusals change nothing.
    before = pi.ok("GET", "/api/memberships/", proposal="DEMO-001", limit=100)
    assert ci.call("POST", "/api/proposals/DEMO-001/invite/", {"emails": ["x@example.org"]}).status_code == 403
    removing_pi = pi.call("DELETE", f"/api/memberships/{by_name['demo']['id']}/")
    assert (removing_pi.status_code, removing_pi.json()) == (400, {"detail": "Cannot remove the PI of a proposal"})
    bad_email = pi.call("POST", "/api/proposals/DEMO-001/invite/", {"emails": ["not-an-address"]})
    assert (bad_email.status_code, bad_email.json()) == (400, {"emails": ["Enter a valid email address."]})
    assert pi.ok("GET", "/api/memberships/", proposal="DEMO-001", limit=100) == before

    pi.ok("DELETE", f"/api/memberships/{by_name['other']['id']}/", status=204)
    pi.ok("DELETE", f"/api/invitations/{invitation['id']}/", status=204)
    assert pi.ok("GET", "/api/invitations/", proposal="DEMO-001", pending="true")["count"] == 0
    other = Caller(base, "other", "other")
    assert other.call("GET", "/api/proposals/DEMO-001/").status_code == 404

    # A revoked token stops at once; the new one works.
    old = pi.token
    pi.ok("POST", "/api/revoke_token/")
    stale = requests.get(f"{base}/api/profile/", headers={"Authorization": f"Token {old}"}, timeout=TIMEOUT_S)
    assert (stale.status_code, stale.json()) == (403, {"detail": "Invalid token."})
    again = Caller(base, "demo", "demo")
    assert again.token != old
    assert again.ok("GET", "/api/profile/")["tokens"]["api_token"] == again.token


def test_portal_writes_through_a_real_server_on_sqlite(tmp_path: Path) -> None:
    with running_server("--demo", cwd=tmp_path) as base:
        _flow(base)


@pytest.mark.postgres
def test_portal_writes_through_a_real_server_on_postgresql(tmp_path: Path, postgres_schema_url: str) -> None:
    with running_server("--demo", "--database-url", postgres_schema_url, cwd=tmp_path) as base:
        _flow(base)
