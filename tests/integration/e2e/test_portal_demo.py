"""The demo portal as OCS API users meet it: a script with ``requests`` and ``Authorization: Token`` against a
real ``obsnet serve --demo`` process, reading the profile, proposals and semesters (api.md 2, 3, 5.1, 5.2)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.integration.e2e.support import running_server

pytestmark = pytest.mark.e2e

TIMEOUT_S = 30


class Portal:
    """What an API script keeps: the base URL and one user's token."""

    def __init__(self, base: str, username: str, password: str, *, form: bool = True) -> None:
        self.base = base
        # The api-examples post a form; TOM-style clients post JSON. Both must log in.
        credentials = {"username": username, "password": password}
        response = (
            requests.post(f"{base}/api/api-token-auth/", data=credentials, timeout=TIMEOUT_S)
            if form
            else requests.post(f"{base}/api/api-token-auth/", json=credentials, timeout=TIMEOUT_S)
        )
        assert response.status_code == 200, response.text
        self.token = response.json()["token"]
        self.headers = {"Authorization": f"Token {self.token}"}

    def get(self, path: str, **params: Any) -> requests.Response:
        return requests.get(f"{self.base}{path}", headers=self.headers, params=params, timeout=TIMEOUT_S)

    def json(self, path: str, **params: Any) -> Any:
        response = self.get(path, **params)
        assert response.status_code == 200, (path, response.status_code, response.text)
        return response.json()

    def proposal_ids(self) -> list[str]:
        page = self.json("/api/proposals/", limit=1000)
        assert page["count"] == len(page["results"])
        return sorted(p["id"] for p in page["results"])


def schedulable_types(base: str) -> list[str]:
    """Instrument types with a SCHEDULABLE instrument on an active site, enclosure and telescope (configdb)."""
    sites = requests.get(f"{base}/configdb/sites/", params={"limit": 1000}, timeout=TIMEOUT_S).json()["results"]
    return sorted(
        {
            instrument["instrument_type"]["code"]
            for site in sites
            if site["active"]
            for enclosure in site["enclosure_set"]
            if enclosure["active"]
            for telescope in enclosure["telescope_set"]
            if telescope["active"]
            for instrument in telescope["instrument_set"]
            if instrument["state"] == "SCHEDULABLE"
        }
    )


def lco_semester_id(moment: datetime) -> str:
    """LCO's convention: A runs February to August, B August to the next February."""
    if moment.month >= 8:
        return f"{moment.year}B"
    return f"{moment.year}A" if moment.month >= 2 else f"{moment.year - 1}B"


def test_a_demo_script_reads_its_profile_proposals_and_semesters_but_never_another_teams_proposal(
    tmp_path: Path,
) -> None:
    with running_server("--demo", cwd=tmp_path) as base:
        types = schedulable_types(base)
        assert len(types) == 5
        now = datetime.now(UTC)
        current_id = lco_semester_id(now)

        demo = Portal(base, "demo", "demo")
        assert len(demo.token) == 40
        profile = demo.json("/api/profile/")
        assert profile["username"] == "demo"
        assert profile["tokens"]["api_token"] == demo.token
        assert {"id": "DEMO-001", "title": "Demo proposal", "current": True} in profile["proposals"]
        assert "OTHER-001" not in [p["id"] for p in profile["proposals"]]
        assert profile["available_instrument_types"] == types

        page = demo.json("/api/proposals/")
        assert page["count"] == 1
        (proposal,) = page["results"]
        assert proposal["id"] == "DEMO-001"
        assert proposal["active"] is True
        assert [pi["username"] for pi in proposal["pis"]] == ["demo"]
        assert proposal["coi_count"] == 1
        allocations = proposal["timeallocation_set"]
        assert len(allocations) == 2 * len(types)
        current = [a for a in allocations if a["semester"] == current_id]
        assert sorted(code for a in current for code in a["instrument_types"]) == types
        assert {(a["std_allocation"], a["rr_allocation"], a["tc_allocation"]) for a in current} == {(100.0, 10.0, 10.0)}
        assert {(a["ipp_limit"], a["ipp_time_available"]) for a in current} == {(10.0, 5.0)}
        assert demo.json("/api/proposals/DEMO-001/")["id"] == "DEMO-001"
        assert demo.json("/api/proposals/", semester=current_id)["count"] == 1

        # Another team's proposal is not revealed: absent from lists, 404 on detail (with or without the slash).
        assert demo.json("/api/proposals/", id="OTHER-001")["count"] == 0
        assert demo.get("/api/proposals/OTHER-001/").status_code == 404
        assert demo.get("/api/proposals/OTHER-001").status_code == 404

        semesters = demo.json("/api/semesters/")
        ids = [s["id"] for s in semesters["results"]]
        assert current_id in ids
        assert len(ids) == semesters["count"] == 2
        starts = [s["start"] for s in semesters["results"]]
        assert starts == sorted(starts, reverse=True)  # newest first
        containing = demo.json("/api/semesters/", semester_contains=now.strftime("%Y-%m-%dT%H:%M:%SZ"))
        assert [s["id"] for s in containing["results"]] == [current_id]
        assert demo.json(f"/api/semesters/{current_id}/")["id"] == current_id
        # Semesters are public (the scheduler asks without a token).
        anonymous = requests.get(f"{base}/api/semesters/", timeout=TIMEOUT_S)
        assert anonymous.status_code == 200
        assert anonymous.json()["count"] == 2

        assert requests.get(f"{base}/api/proposals/", timeout=TIMEOUT_S).status_code == 403
        assert requests.get(f"{base}/api/profile/", timeout=TIMEOUT_S).status_code == 403

        ci = Portal(base, "demo-ci", "demo-ci", form=False)
        assert "DEMO-001" in [p["id"] for p in ci.json("/api/profile/")["proposals"]]
        assert ci.proposal_ids() == ["DEMO-001"]
        assert ci.get("/api/proposals/OTHER-001/").status_code == 404

        other = Portal(base, "other", "other")
        assert other.proposal_ids() == ["OTHER-001"]
        assert other.get("/api/proposals/DEMO-001/").status_code == 404

        admin = Portal(base, "admin@example.org", "admin")  # login also accepts the email
        admin_profile = admin.json("/api/profile/")
        assert admin_profile["is_staff"] is True
        assert admin_profile["profile"]["staff_view"] is True
        assert admin.proposal_ids() == ["DEMO-001", "OTHER-001"]
        assert admin.json("/api/proposals/OTHER-001/")["pis"][0]["username"] == "other"


def test_restarting_the_demo_on_the_same_database_duplicates_nothing(tmp_path: Path) -> None:
    def snapshot(base: str) -> dict[str, Any]:
        admin = Portal(base, "admin", "admin", form=False)
        proposals = admin.json("/api/proposals/", limit=1000)["results"]
        return {
            "semesters": [s["id"] for s in admin.json("/api/semesters/", limit=1000)["results"]],
            "proposals": sorted(
                (p["id"], len(p["pis"]), p["coi_count"], len(p["timeallocation_set"])) for p in proposals
            ),
            "demo": sorted(p["id"] for p in Portal(base, "demo", "demo").json("/api/profile/")["proposals"]),
            # The same account (its token survives the restart), not a new one with the same name.
            "demo-ci token": Portal(base, "demo-ci", "demo-ci").token,
        }

    with running_server("--demo", cwd=tmp_path) as base:
        first = snapshot(base)
    with running_server("--demo", cwd=tmp_path) as base:
        second = snapshot(base)
    assert first == second
    assert first["proposals"] == [("DEMO-001", 1, 1, 10), ("OTHER-001", 1, 0, 10)]
    assert first["demo"] == ["DEMO-001"]
