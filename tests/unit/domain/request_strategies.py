"""Hypothesis strategies for the request language: requests the demo observatory can price, and state-machine runs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import strategies as st

from domain.requestgroups import (
    AcquisitionConfig,
    Configuration,
    GuidingConfig,
    InstrumentConfig,
    Operator,
    Request,
    RequestGroup,
    Target,
    Window,
)

NOW = datetime(2016, 9, 1, tzinfo=UTC)


def floats(low: float, high: float) -> st.SearchStrategy[float]:
    return st.floats(low, high, allow_nan=False, allow_infinity=False)


# What each demo instrument type accepts (observatory.md 6.4): configuration types, readout modes ("" = the
# default), optical element choices per singular key, acquisition and guiding modes ("" = the default).
DEMO_TYPES: dict[str, dict[str, Any]] = {
    "1M0-SCICAM-SINISTRO": {
        "types": ["EXPOSE", "REPEAT_EXPOSE", "SKY_FLAT", "STANDARD"],
        "readout": ["", "full_frame", "central_2k_2x2"],
        "elements": {"filter": ["U", "B", "V", "air"]},
        "acquisition": ["", "OFF"],
        "guiding": ["", "OFF", "ON"],
    },
    "0M4-SCICAM-QHY600": {
        "types": ["EXPOSE", "REPEAT_EXPOSE"],
        "readout": ["", "full_frame", "central_30x30"],
        "elements": {"filter": ["B", "V", "rp", "air"]},
        "acquisition": ["", "OFF"],
        "guiding": ["", "OFF", "ON"],
    },
    "2M0-FLOYDS-SCICAM": {
        "types": ["SPECTRUM", "REPEAT_SPECTRUM", "ARC", "LAMP_FLAT"],
        "readout": ["", "2m0_floyds_1"],
        "elements": {"slit": ["slit_1.2as", "slit_1.6as", "slit_2.0as", "slit_6.0as"]},
        "acquisition": ["", "OFF", "WCS", "BRIGHTEST"],
        "guiding": ["", "ON"],
    },
    "2M0-SCICAM-MUSCAT": {
        "types": ["EXPOSE", "REPEAT_EXPOSE"],
        "readout": ["", "MUSCAT_SLOW", "MUSCAT_FAST"],
        "elements": {f"narrowband_{c}_position": ["in", "out"] for c in "griz"},
        "acquisition": ["", "OFF"],
        "guiding": ["", "ON", "OFF"],
    },
    "1M0-NRES-SCICAM": {
        "types": ["NRES_SPECTRUM", "REPEAT_NRES_SPECTRUM", "ARC", "LAMP_FLAT"],
        "readout": ["", "1m0_nres_1"],
        "elements": {},
        "acquisition": ["", "OFF", "WCS", "BRIGHTEST"],
        "guiding": ["", "ON", "NRES_SPECIAL"],
    },
}

icrs_targets = st.builds(Target.icrs, st.sampled_from(["a", "b"]), floats(0, 360), floats(-90, 90)) | st.builds(
    Target, st.just("comet"), st.just("ORBITAL_ELEMENTS")
)


@st.composite
def instrument_configs(draw: st.DrawFn, instrument_type: str) -> InstrumentConfig:
    spec = DEMO_TYPES[instrument_type]
    elements = {key: draw(st.sampled_from(values)) for key, values in spec["elements"].items()}
    return InstrumentConfig(
        exposure_time=draw(floats(0, 3600)),
        exposure_count=draw(st.integers(1, 20)),
        mode=draw(st.sampled_from(spec["readout"])),
        optical_elements=elements,
    )


@st.composite
def configurations(
    draw: st.DrawFn, targets: st.SearchStrategy[Target] = icrs_targets, instrument_type: str | None = None
) -> Configuration:
    """A configuration on a demo instrument type (any, unless given), with any of its types, modes, elements."""
    instrument_type = instrument_type or draw(st.sampled_from(sorted(DEMO_TYPES)))
    spec = DEMO_TYPES[instrument_type]
    config_type = draw(st.sampled_from(spec["types"]))
    acquisition_time = draw(st.none() | floats(0, 60))
    return Configuration(
        instrument_type=instrument_type,
        type=config_type,
        instrument_configs=draw(st.lists(instrument_configs(instrument_type), min_size=1, max_size=3)),
        target=draw(targets),
        acquisition_config=AcquisitionConfig(draw(st.sampled_from(spec["acquisition"])), acquisition_time),
        guiding_config=GuidingConfig(draw(st.sampled_from(spec["guiding"])), optional=draw(st.booleans())),
        repeat_duration=draw(floats(0, 2000)) if "REPEAT" in config_type else None,
    )


@st.composite
def demo_requests(draw: st.DrawFn, max_configurations: int = 4, single_type: bool = False) -> Request:
    """A request of one to a few configurations the demo observatory can price; ``single_type`` keeps them all
    on one instrument type."""
    shared = draw(icrs_targets)
    # Often reuse one target so the "same target: no slew" branch is exercised as well as real slews.
    targets = st.just(shared) | icrs_targets
    instrument_type = draw(st.sampled_from(sorted(DEMO_TYPES))) if single_type else None
    return Request.create(
        draw(st.lists(configurations(targets, instrument_type), min_size=1, max_size=max_configurations)),
        windows=[Window(NOW + timedelta(days=1), NOW + timedelta(days=30))],
        configuration_repeats=draw(st.integers(1, 4)),
    )


# --- state machine runs ------------------------------------------------------------------------------------

_SIMPLE_CONFIGURATION = Configuration(
    "1M0-SCICAM-SINISTRO",
    "EXPOSE",
    [InstrumentConfig(10, 1, optical_elements={"filter": "air"})],
    Target.icrs("t", 1, 2),
)


@st.composite
def request_groups(draw: st.DrawFn) -> RequestGroup:
    """A freshly submitted NORMAL group: SINGLE with one request or MANY with two to four, windows ending
    between one and ten days after NOW."""
    operator = draw(st.sampled_from(Operator))
    count = 1 if operator is Operator.SINGLE else draw(st.integers(2, 4))
    requests = []
    for number in range(count):
        end = NOW + timedelta(days=draw(st.integers(1, 10)))
        request = Request.create([_SIMPLE_CONFIGURATION], windows=[Window(NOW, end)], id=number + 1)
        requests.append(request)
    group = RequestGroup.submit(
        proposal="TEST_PROPOSAL",
        submitter="pi",
        name="group",
        observation_type="NORMAL",
        operator=operator,
        ipp_value=1.0,
        requests=requests,
        now=NOW,
    )
    group.id = 1
    return group


VERBS = ("cancel", "complete", "fail", "expire_request", "expire", "reset", "refresh")

# (verb, request index, hours after NOW at which it happens)
actions = st.lists(
    st.tuples(st.sampled_from(VERBS), st.integers(0, 3), st.integers(0, 15 * 24)), min_size=1, max_size=12
)
