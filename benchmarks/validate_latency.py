"""Latency of POST /api/requestgroups/validate/ for one request against fifty, and how much of it is the sky check.

Starts one real ``obsnet serve --demo`` (SQLite), logs in as the demo PI and validates four request groups on
DEMO-001, interleaved so that machine noise hits all alike:

* ``one``: P0 of requests.md 8.1 (one request, one configuration, a 30-day window) moved to the coming weeks;
* ``fifty``: fifty such requests with one 12-hour window each, a day apart, as a cadence expansion gives
  (period 24 h, jitter 12 h, keeping the windows in which the target is visible);
* ``one-nonsidereal`` and ``fifty-nonsidereal``: the same with a minor-planet target, which the sky check of
  3.8 skips (the Visibility port takes sidereal targets only), so the difference is the visibility part.

Prints median and p95 per payload and the ratios fifty/one (with the sky check and without it).

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
MINOR_PLANET = {
    "name": "ceres-like",
    "type": "ORBITAL_ELEMENTS",
    "scheme": "MPC_MINOR_PLANET",
    "epochofel": 61000,
    "orbinc": 10.6,
    "longascnode": 80.3,
    "argofperih": 73.1,
    "meandist": 2.77,
    "eccentricity": 0.076,
    "meananom": 10.0,
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


def _nonsidereal(group: dict[str, Any]) -> dict[str, Any]:
    group = copy.deepcopy(group)
    for request in group["requests"]:
        for configuration in request["configurations"]:
            configuration["target"] = dict(MINOR_PLANET)
    return group


def payloads(url: str, token: str, now: datetime) -> dict[str, dict[str, Any]]:
    """The four groups; every window starts tomorrow or later and ends within ten weeks, inside the demo's
    semesters. Like the cadence endpoint, ``fifty`` keeps only the windows in which the target is visible (the
    Moon passes near it once a month), so that it validates."""
    start = (now + timedelta(days=1)).replace(hour=12, minute=0, second=0, microsecond=0)
    one = _group("one request", "SINGLE", [_request(start, start + timedelta(days=30))])
    # A cadence of period 24 h and jitter 12 h: windows centred a day apart, each 12 hours long.
    kept: list[dict[str, Any]] = []
    for day in range(1, 71):
        if len(kept) == 50:
            break
        request = _request(start + timedelta(days=day, hours=-6), start + timedelta(days=day, hours=6))
        _, answer = validate_ms(url, token, json.dumps(_group("probe", "SINGLE", [request])).encode())
        if not answer["errors"]:
            kept.append(request)
    if len(kept) < 50:
        raise SystemExit(f"only {len(kept)} visible cadence windows in 70 days")
    fifty = _group("fifty requests", "MANY", kept)
    return {
        "one": one,
        "fifty": fifty,
        "one-nonsidereal": _nonsidereal(one),
        "fifty-nonsidereal": _nonsidereal(fifty),
    }


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
            if name.endswith("nonsidereal") and largest != [_window_s(r) for r in groups[name]["requests"]]:
                # The premise of the comparison: an unchecked request counts its whole window as visible.
                raise SystemExit(f"{name} was sky-checked: the difference would no longer be the sky check")
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
    print(f"  ratio fifty/one (median), with the sky check:       {medians['fifty'] / medians['one']:.2f}")
    print(
        "  ratio fifty/one (median), non-sidereal (no sky):     "
        f"{medians['fifty-nonsidereal'] / medians['one-nonsidereal']:.2f}"
    )
    for size in ("one", "fifty"):
        sky = medians[size] - medians[f"{size}-nonsidereal"]
        print(f"  sky check share of {size:<5} (median difference): {sky:9.2f} ms = {sky / medians[size]:.0%}")


if __name__ == "__main__":
    main()
