"""The reference payload of requests.md 8.1, shared by every test that submits it: P0, upstream's minimal test
payload with the demo imager, exactly as the spec gives it."""

from __future__ import annotations

import copy
from typing import Any

P0: dict[str, Any] = {
    "proposal": "TEST_PROPOSAL",
    "name": "test group",
    "observation_type": "NORMAL",
    "operator": "SINGLE",
    "ipp_value": 1.0,
    "requests": [
        {
            "location": {"telescope_class": "1m0"},
            "windows": [{"start": "2016-09-29T21:12:18Z", "end": "2016-10-29T21:12:19Z"}],
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
    ],
}


def p0(**changes: Any) -> dict[str, Any]:
    """A private copy of P0 with top-level changes."""
    body = copy.deepcopy(P0)
    body.update(changes)
    return body
