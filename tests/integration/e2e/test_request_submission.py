"""Request groups as the OCS API examples and the TOM Toolkit send them, against a real ``obsnet serve --demo``
process with the real sky: validate, submit, find by request id without a trailing slash, cancel.

The payloads keep the shape of LCO's api-examples ``submit_request.py`` (space-separated naive datetimes,
lower-case filter ``v``, empty acquisition and guiding configs) and of the TOM Toolkit's OCS facility
(``+00:00`` windows, ``null`` for cleared optional numbers); only the dates move to the weeks ahead, since
the demo's semesters are built around today, and the target is one that is up at night in any season from
one of the demo's hemispheres.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.integration.e2e.support import running_server

pytestmark = pytest.mark.e2e
TIMEOUT_S = 60


def _target(moment: datetime) -> dict[str, Any]:
    # A target opposite the sun: it transits near local midnight, so every night has hours of it.
    days = (moment - datetime(moment.year, 3, 21, tzinfo=UTC)).days
    ra = (180.0 + days * 360.0 / 365.25) % 360.0
    return {"name": "anti-sun field", "type": "ICRS", "ra": round(ra, 4), "dec": -20.0}


def api_examples_payload(start: datetime) -> dict[str, Any]:
    end = start + timedelta(days=7)
    return {
        "name": "Example Request Group",
        "proposal": "DEMO-001",
        "ipp_value": 1.05,
        "operator": "SINGLE",
        "observation_type": "NORMAL",
        "requests": [
            {
                "configurations": [
                    {
                        "type": "EXPOSE",
                        "instrument_type": "1M0-SCICAM-SINISTRO",
                        "target": {**_target(start), "proper_motion_ra": 0, "proper_motion_dec": 0, "epoch": 2000},
                        "constraints": {"max_airmass": 2.0, "min_lunar_distance": 30},
                        "instrument_configs": [
                            {"exposure_time": 30, "exposure_count": 1, "optical_elements": {"filter": "v"}}
                        ],
                        "acquisition_config": {},
                        "guiding_config": {},
                    }
                ],
                "windows": [{"start": start.strftime("%Y-%m-%d %H:%M:%S"), "end": end.strftime("%Y-%m-%d %H:%M:%S")}],
                "location": {"telescope_class": "1m0"},
            }
        ],
    }


def tom_payload(start: datetime) -> dict[str, Any]:
    end = start + timedelta(days=7)
    return {
        "name": "tom target",
        "proposal": "DEMO-001",
        "ipp_value": 1.0,
        "operator": "SINGLE",
        "observation_type": "NORMAL",
        "requests": [
            {
                "configurations": [
                    {
                        "type": "EXPOSE",
                        "instrument_type": "1m0-scicam-sinistro",
                        "target": {**_target(start), "proper_motion_ra": None, "parallax": None, "epoch": None},
                        "constraints": {"max_airmass": 2.0, "min_lunar_distance": 30.0, "max_lunar_distance": 180},
                        "instrument_configs": [
                            {
                                "exposure_time": 60,
                                "exposure_count": 2,
                                "optical_elements": {"filter": "rp", "slit": None},
                                "mode": "",
                            }
                        ],
                        "acquisition_config": {},
                        "guiding_config": {"optional": "True"},
                        "configuration_repeats": None,
                    }
                ],
                "windows": [{"start": start.isoformat(), "end": end.isoformat()}],
                "location": {"telescope_class": "1m0"},
            }
        ],
    }


def test_api_examples_and_tom_payloads_validate_submit_and_cancel(tmp_path: Path) -> None:
    start = (datetime.now(UTC) + timedelta(days=2)).replace(minute=0, second=0, microsecond=0)
    with running_server("--demo", cwd=tmp_path) as base:
        login = requests.post(
            f"{base}/api/api-token-auth/", data={"username": "demo", "password": "demo"}, timeout=TIMEOUT_S
        )
        headers = {"Authorization": f"Token {login.json()['token']}"}
        for payload in (api_examples_payload(start), tom_payload(start)):
            validated = requests.post(
                f"{base}/api/requestgroups/validate/", json=payload, headers=headers, timeout=TIMEOUT_S
            )
            assert validated.status_code == 200, validated.text
            assert validated.json()["errors"] == {}, validated.json()
            durations = validated.json()["request_durations"]
            assert durations["duration"] > 0
            assert durations["requests"][0]["largest_interval"] > durations["duration"]

            created = requests.post(f"{base}/api/requestgroups/", json=payload, headers=headers, timeout=TIMEOUT_S)
            assert created.status_code == 201, created.text
            group = created.json()
            assert (group["state"], group["submitter"]) == ("PENDING", "demo")
            configuration = group["requests"][0]["configurations"][0]
            assert configuration["instrument_type"] == "1M0-SCICAM-SINISTRO"
            assert group["requests"][0]["duration"] == durations["duration"]

            # The TOM finds its group by request id, without a trailing slash, and reads the request's state.
            request_id = group["requests"][0]["id"]
            found = requests.get(
                f"{base}/api/requestgroups?request_id={request_id}", headers=headers, timeout=TIMEOUT_S
            ).json()
            assert (found["count"], found["results"][0]["id"]) == (1, group["id"])
            state = requests.get(f"{base}/api/requests/{request_id}", headers=headers, timeout=TIMEOUT_S).json()
            assert state["state"] == "PENDING"

            canceled = requests.post(
                f"{base}/api/requestgroups/{group['id']}/cancel/", headers=headers, timeout=TIMEOUT_S
            )
            assert (canceled.status_code, canceled.json()["state"]) == (200, "CANCELED")

        # The other team's PI sees none of it.
        other = requests.post(
            f"{base}/api/api-token-auth/", json={"username": "other", "password": "other"}, timeout=TIMEOUT_S
        ).json()["token"]
        listed = requests.get(
            f"{base}/api/requestgroups/", headers={"Authorization": f"Token {other}"}, timeout=TIMEOUT_S
        ).json()
        assert listed["count"] == 0


def test_the_scheduler_places_a_request_and_the_telescope_reports_it_done(tmp_path: Path) -> None:
    """The loop as pyobs and the TOM see it: staff place the submitted request on elp.doma.1m0a, the site PATCHes
    its status ATTEMPTED and then COMPLETED with a summary, and the TOM reads the request COMPLETED and its
    observation in the request's bare list."""
    start = (datetime.now(UTC) + timedelta(days=2)).replace(minute=0, second=0, microsecond=0)
    with running_server("--demo", cwd=tmp_path) as base:

        def token(username: str) -> dict[str, str]:
            login = requests.post(
                f"{base}/api/api-token-auth/", json={"username": username, "password": username}, timeout=TIMEOUT_S
            )
            return {"Authorization": f"Token {login.json()['token']}"}

        user, staff = token("demo"), token("admin")
        created = requests.post(
            f"{base}/api/requestgroups/", json=api_examples_payload(start), headers=user, timeout=TIMEOUT_S
        )
        assert created.status_code == 201, created.text
        request = created.json()["requests"][0]
        begins = start + timedelta(hours=1)
        item = {
            "request": request["id"],
            "site": "elp",
            "enclosure": "doma",
            "telescope": "1m0a",
            "start": begins.isoformat(),
            "end": (begins + timedelta(seconds=request["duration"])).isoformat(),
            "configuration_statuses": [
                {"configuration": request["configurations"][0]["id"], "instrument_name": "fa05"}
            ],
        }
        placed = requests.post(f"{base}/api/observations/", json=[item], headers=staff, timeout=TIMEOUT_S)
        assert placed.status_code == 201, placed.text
        assert placed.json() == {"num_created": 1, "errors": {}}

        # pyobs reads its telescope's schedule, then reports on each configuration status it runs.
        schedule = requests.get(
            f"{base}/api/observations/",
            params={"site": "elp", "telescope": "1m0a", "state": ["PENDING", "IN_PROGRESS"], "limit": 1000},
            headers=staff,
            timeout=TIMEOUT_S,
        ).json()
        (observation,) = [o for o in schedule["results"] if o["request"]["id"] == request["id"]]
        (configuration,) = observation["request"]["configurations"]
        assert (configuration["instrument_name"], configuration["instrument_configs"][0]["rois"]) == ("fa05", [])
        status_url = f"{base}/api/configurationstatus/{configuration['configuration_status']}/"
        attempted = requests.patch(status_url, json={"state": "ATTEMPTED"}, headers=staff, timeout=TIMEOUT_S)
        assert (attempted.status_code, attempted.json()["state"]) == (200, "ATTEMPTED"), attempted.text
        summary = {
            "start": item["start"],
            "end": item["end"],
            "state": "COMPLETED",
            "time_completed": 30,
            "reason": "",
            "events": {"dome": "open"},
        }
        completed = requests.patch(
            status_url, json={"state": "COMPLETED", "summary": summary}, headers=staff, timeout=TIMEOUT_S
        )
        assert completed.status_code == 200, completed.text
        assert (completed.json()["state"], completed.json()["summary"]["events"]) == ("COMPLETED", {"dome": "open"})

        # The TOM reads the request's state (no trailing slash) and its observations (a bare list).
        state = requests.get(f"{base}/api/requests/{request['id']}", headers=user, timeout=TIMEOUT_S).json()
        assert state["state"] == "COMPLETED"
        listed = requests.get(
            f"{base}/api/requests/{request['id']}/observations/", headers=user, timeout=TIMEOUT_S
        ).json()
        assert [(o["id"], o["state"]) for o in listed] == [(observation["id"], "COMPLETED")]
        assert listed[0]["configuration_statuses"][0]["time_charged"] > 0
