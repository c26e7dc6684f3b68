"""Latency of POST /api/requestgroups/validate/ for one request against fifty, and how much of it is the sky check.

Starts one real ``obsnet serve --demo`` (SQLite), logs in as the demo PI and validates four request groups on
DEMO-001, interleaved so that machine noise hits all alike:

* ``one``: P0 of requests.md 8.1 (one request, one configuration, a 30-day window) moved to the coming weeks;
* ``fifty``: fifty such requests with one 12-hour window each, a day apart, as a cadence expansion gives
  (period 24 h, jitter 12 h, keeping the windows in which the target is visible);
* ``one-orbital`` and ``fifty-orbital``: the same with a minor planet placed at opposition on the day of the run
  (so that it is in the night sky whatever the date), which the sky check follows on its orbit; the fifty keep the
  windows in which it is visible.

Prints median and p95 per payload and the ratios fifty/one for each kind of target.

    python benchmarks/validate_latency.py [--requests 200]
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import statistics
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.integration.e2e.support import http, running_server

PROPOSAL = "DEMO-001"
MJD_OF_UNIX_EPOCH = 40587.0


def minor_planet_at_opposition(now: datetime) -> dict[str, Any]:
    """A main-belt asteroid on a circular orbit in the ecliptic, opposite the Sun at ``now``: the Sun's mean
    geocentric longitude (good to a degree or two, plenty here) plus 180 degrees is the Earth's heliocentric
    longitude, which an object at opposition shares."""
    days = (now - datetime(2000, 1, 1, 12, tzinfo=UTC)).total_seconds() / 86400
    mean_anomaly = math.radians(357.529 + 0.98560028 * days)
    sun = 280.459 + 0.98564736 * days + 1.915 * math.sin(mean_anomaly) + 0.020 * math.sin(2 * mean_anomaly)
    return {
        "name": "opposition asteroid",
        "type": "ORBITAL_ELEMENTS",
        "scheme": "MPC_MINOR_PLANET",
        "epochofel": round(now.timestamp() / 86400 + MJD_OF_UNIX_EPOCH, 5),
        "orbinc": 0.0,
        "longascnode": 0.0,
        "argofperih": 0.0,
        "meandist": 2.77,
        "eccentricity": 0.0,
        "meananom": round((sun + 180) % 360, 4),
    }


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _request(start: datetime, end: datetime) -> dict[str, Any]:
    return {
        "location": {"telescope_class": "1m0"},
        "windows": [{"start": _stamp(start), "end": _stamp(end)}],
        "configurations": [
            {
                "type": "EXPOSE",
                "instrument_type": "1M0-SCICAM-SINISTRO",
                "target": {"name": "fake target", "type": "ICRS", "ra": 34.4, "dec": 20},
                "instrument_configs": [
                    {
                        "exposure_time": 100,
                        "exposure_count": 1,
                        "optical_elements": {"filter": "air"},
                        "extra_params": {},
                    }
                ],
                "constraints": {"max_airmass": 2.0, "min_lunar_distance": 30.0, "max_lunar_phase": 1.0},
                "acquisition_config": {"extra_params": {}},
                "guiding_config": {"extra_params": {}},
            }
        ],
    }


def _window_s(request: dict[str, Any]) -> float:
    (window,) = request["windows"]
    start, end = (datetime.fromisoformat(window[key].replace("Z", "+00:00")) for key in ("start", "end"))
    return (end - start).total_seconds()


def _group(name: str, operator: str, requests: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "proposal": PROPOSAL,
        "name": name,
        "observation_type": "NORMAL",
        "operator": operator,
        "ipp_value": 1.0,
        "requests": requests,
    }


def _with_target(request: dict[str, Any], target: dict[str, Any]) -> dict[str, Any]:
    request = copy.deepcopy(request)
    for configuration in request["configurations"]:
        configuration["target"] = dict(target)
    return request


def payloads(url: str, token: str, now: datetime) -> dict[str, dict[str, Any]]:
    """The four groups; every window starts tomorrow or later and ends within ten weeks, inside the demo's
    semesters. Like the cadence endpoint, the fifties keep only the windows in which their target is visible (the
    Moon passes near it once a month), so that they validate."""
    start = (now + timedelta(days=1)).replace(hour=12, minute=0, second=0, microsecond=0)
    groups: dict[str, dict[str, Any]] = {}
    for kind, target in (("", None), ("-orbital", minor_planet_at_opposition(now))):
        one = _request(start, start + timedelta(days=30))
        kept: list[dict[str, Any]] = []
        for day in range(1, 71):
            if len(kept) == 50:
                break
            # A cadence of period 24 h and jitter 12 h: windows centred a day apart, each 12 hours long.
            request = _request(start + timedelta(days=day, hours=-6), start + timedelta(days=day, hours=6))
            if target is not None:
                request = _with_target(request, target)
            _, answer = validate_ms(url, token, json.dumps(_group("probe", "SINGLE", [request])).encode())
            if not answer["errors"]:
                kept.append(request)
        if len(kept) < 50:
            raise SystemExit(f"only {len(kept)} visible cadence windows{kind} in 70 days")
        groups[f"one{kind}"] = _group("one request", "SINGLE", [one if target is None else _with_target(one, target)])
        groups[f"fifty{kind}"] = _group("fifty requests", "MANY", kept)
    return groups


def validate_ms(url: str, token: str, body: bytes) -> tuple[float, dict[str, Any]]:
    request = urllib.request.Request(url, data=body, method="POST")  # noqa: S310 - loopback only
    request.add_header("Content-Type", "application/json")
    request.add_header("Authorization", f"Token {token}")
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=120) as response:  # noqa: S310 - loopback only
        raw = response.read()
    elapsed = (time.perf_counter() - started) * 1000
    return elapsed, json.loads(raw)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200, help="calls per payload")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir, running_server("--demo", cwd=Path(workdir)) as base:
        status, answer = http("POST", f"{base}/api/api-token-auth/", {"username": "demo", "password": "demo"})
        assert status == 200, answer
        token = answer["token"]
        url = f"{base}/api/requestgroups/validate/"
        groups = payloads(url, token, datetime.now(UTC))
        bodies = {name: json.dumps(group).encode() for name, group in groups.items()}
        for name, body in bodies.items():  # warm-up: astropy's import and caches, the database, and a check
            for _ in range(3):
                _, answer = validate_ms(url, token, body)
            if answer["errors"]:
                raise SystemExit(f"{name} does not validate on the demo: {answer['errors']}")
            largest = [r["largest_interval"] for r in answer["request_durations"]["requests"]]
            print(f"  {name}: valid, {len(largest)} request(s), largest_interval min {min(largest):.0f} s")
            if any(value >= _window_s(r) for value, r in zip(largest, groups[name]["requests"], strict=True)):
                # An unchecked request counts its whole window as visible; a night-time window never is.
                raise SystemExit(f"{name} was not sky-checked")
        timings: dict[str, list[float]] = {name: [] for name in bodies}
        for index in range(args.requests):
            if index % 20 == 0:
                print(f"  {index}/{args.requests} calls per payload", file=sys.stderr)
            for name, body in bodies.items():
                timings[name].append(validate_ms(url, token, body)[0])
    print(f"POST /api/requestgroups/validate/ on the demo (SQLite), {args.requests} calls per payload, interleaved")
    medians = {}
    for name, samples in timings.items():
        samples.sort()
        median, p95 = statistics.median(samples), samples[math.ceil(len(samples) * 0.95) - 1]
        medians[name] = median
        print(f"  {name:<18} median {median:9.2f} ms   p95 {p95:9.2f} ms")
    print(f"  ratio fifty/one (median), ICRS target:    {medians['fifty'] / medians['one']:.2f}")
    print(f"  ratio fifty/one (median), orbital target: {medians['fifty-orbital'] / medians['one-orbital']:.2f}")


if __name__ == "__main__":
    main()
