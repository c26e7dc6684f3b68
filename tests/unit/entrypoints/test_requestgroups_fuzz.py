"""Random mutations of P0 (requests.md 8.1) against validate and create: whatever a client sends, the answer is
never a server error, validate always answers 200 with an ``errors`` object (api.md 4.1), create answers 201 or
a 400 with a JSON object, and neither a refusal nor a dry run stores anything.

Two properties share the mutation machinery. The broad one mutates anywhere in the tree with the sky check of
3.8 switched off (it costs ~0.1-1.5 s per call and has its own tests), so it can afford many examples; the sky
one keeps a one-day window so that astropy answers quickly, mutates only what the visibility code reads
(windows, location, target, constraints) and runs the real adapter.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from dependency_injector import providers
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from adapters.clock import FixedClock
from domain.observatory import Observatory
from entrypoints.container import Container
from tests.unit.domain.observatory_fixtures import demo_observatory
from tests.unit.domain.request_strategies import DEMO_TYPES
from tests.unit.entrypoints.portal_world import Client
from tests.unit.entrypoints.request_world import GROUPS, NOW, P0, VALIDATE, World, load_world, p0, unchanged

# Every spelling the request language knows, and some it does not (legacy operators, lower case, configdb codes
# in the wrong place), to swap enumeration values with one another.
ENUM_SPELLINGS = sorted(
    {
        *("NORMAL", "RAPID_RESPONSE", "TIME_CRITICAL", "DIRECT", "REAL_TIME"),
        *("SINGLE", "MANY", "AND", "ONEOF", "TIME", "AIRMASS", "OFF", "ON", "NRES_SPECIAL", "WCS", "BRIGHTEST"),
        *("ICRS", "ORBITAL_ELEMENTS", "HOUR_ANGLE", "SATELLITE", "VFLOAT", "SKY", "FLOAT"),
        *("ASA_MAJOR_PLANET", "ASA_MINOR_PLANET", "ASA_COMET", "JPL_MAJOR_PLANET", "JPL_MINOR_PLANET"),
        *("MPC_MINOR_PLANET", "MPC_COMET", "line", "grid", "spiral", "custom"),
        *("EXPOSE", "REPEAT_EXPOSE", "SKY_FLAT", "STANDARD", "ARC", "LAMP_FLAT", "SPECTRUM", "REPEAT_SPECTRUM"),
        *("AUTO_FOCUS", "TRIPLE", "NRES_TEST", "NRES_SPECTRUM", "REPEAT_NRES_SPECTRUM", "ENGINEERING", "SCRIPT"),
        *("BIAS", "DARK", "1m0", "2m0", "0m4", "0m8", "tst", "doma", "1m0a", "TEST_PROPOSAL", "OTHER_PROPOSAL"),
        *("SLEEPY_PROPOSAL", "PENDING", "CANCELED"),
        *DEMO_TYPES,
        *(
            mode
            for spec in DEMO_TYPES.values()
            for group in ("readout", "acquisition", "guiding")
            for mode in spec[group]
        ),
        *(code for spec in DEMO_TYPES.values() for codes in spec["elements"].values() for code in codes),
    }
)
# The field names of requests.md 2.3-2.11, to add where they do not belong or where they were left out.
FIELD_NAMES = sorted(
    {
        *("proposal", "name", "observation_type", "operator", "ipp_value", "requests", "submitter", "state", "id"),
        *("configurations", "windows", "location", "observation_note", "optimization_type", "cadence"),
        *("acceptability_threshold", "configuration_repeats", "extra_params", "duration", "suspend_until"),
        *("telescope_class", "site", "enclosure", "telescope", "start", "end", "period", "jitter"),
        *("instrument_type", "type", "priority", "repeat_duration", "fill_window", "instrument_configs", "target"),
        *("constraints", "acquisition_config", "guiding_config", "instrument_name", "guide_camera_name"),
        *("exposure_time", "exposure_count", "mode", "rotator_mode", "optical_elements", "rois"),
        *("x1", "x2", "y1", "y2", "filter", "slit", "bin_x", "bin_y", "defocus", "offset_ra", "offset_dec"),
        *("rotator_angle", "exposure_mode", "dither_pattern", "mosaic_pattern", "script_name", "self_guide"),
        *("ra", "dec", "hour_angle", "proper_motion_ra", "proper_motion_dec", "parallax", "epoch", "altitude"),
        *("azimuth", "diff_altitude_rate", "diff_azimuth_rate", "diff_altitude_acceleration", "diff_epoch"),
        *("diff_azimuth_acceleration", "scheme", "epochofel", "orbinc", "longascnode", "longofperih"),
        *("argofperih", "meandist", "perihdist", "eccentricity", "meanlong", "meananom", "dailymot"),
        *("epochofperih", "v_magnitude", "max_airmass", "min_lunar_distance", "max_lunar_phase", "max_seeing"),
        *("min_transparency", "optional", "acquire_radius", "max_lunar_distance"),
    }
)
# The bounds of requests.md 2 and their neighbours, column limits, and numbers no float or column holds.
EDGE_NUMBERS: list[int | float] = [
    *(0, -0.0, 1, -1, 0.02, 0.5, 0.49, 2.0, 2.01, 15, 25, 25.000001, 60, 90, 90.0001, -90.0001, 100, 120, 180),
    *(360, 360.000001, 361, 2000, 2100, 2101, 10000, 20000, 20001, 240000, 2**31 - 1, 2**31, 2**53 + 1),
    *(2**63, -(2**63) - 1, 10**30, -(10**30), 10**400, 1e308, -1e308, 5e-324, 1e-9),
]
# Datetimes in and around the 2016B/2017A semesters of the world, in the formats DRF takes and some it does not.
DATETIME_STRINGS = [
    *("2016-09-01T00:00:00Z", "2016-08-31T23:59:59Z", "2016-09-29T21:12:18", "2016-09-30", "2016-09-30T00:00"),
    *("2016-12-31T23:59:59Z", "2017-01-01T00:00:00Z", "2017-06-30T00:00:00+14:00", "2016-10-01T00:00:00-12:00"),
    *("0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"),
    *("2016-02-30T00:00:00Z", "2016-09-29T25:00:00Z", "2016-09-29T21:12:18.123456789Z", "now", "", "T"),
]
LONG_TEXT = st.sampled_from(["x" * 51, "x" * 256, "é" * 5000, "\U0001f52d" * 3000, "a" * 100_000])
# Control characters, lone surrogates, bidi overrides, byte-order marks, full-width and combining look-alikes.
UNICODE_TEXT = st.text(max_size=20) | st.sampled_from(
    [
        *("\x00", "\ud800", "\udfff", "\u202e1m0", "\ufeffNORMAL", "\uff2e\uff2f\uff32\uff2d\uff21\uff2c"),
        *("\uff11m0", "1m0\u0301", "1M0", "\u0131", "\u00df"),
    ]
)

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from(EDGE_NUMBERS),
    st.sampled_from(EDGE_NUMBERS).map(lambda number: -number),
    st.sampled_from(EDGE_NUMBERS).map(str),
    st.text(max_size=12),
    st.sampled_from(ENUM_SPELLINGS),
    st.sampled_from(DATETIME_STRINGS),
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(FIELD_NAMES) | st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)

Spot = tuple[Any, Any]  # (the dict or list holding a value, its key or index)


def _spots(node: Any, within: frozenset[str] | None, inside: bool) -> Iterator[Spot]:
    """Every place in the tree that holds a value; with ``within``, only below the keys named there."""
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, value in list(items):
        here = inside or within is None or key in within
        if here:
            yield node, key
        yield from _spots(value, within, here)


def _spelling_of(draw: st.DrawFn, value: Any) -> Any:
    if isinstance(value, str) and value and draw(st.booleans()):
        spell = draw(st.sampled_from([str.lower, str.upper, str.title, str.swapcase, str.casefold]))
        pad = draw(st.sampled_from(["", " ", "\t", "\n"]))
        return pad + spell(value) + pad[::-1]
    return draw(st.sampled_from(ENUM_SPELLINGS))


# Whole targets of every type and scheme (requests.md 2.9), valid or nearly, for the sky code to chew on.
TARGETS: list[dict[str, Any]] = [
    {"name": "pm", "type": "ICRS", "ra": 359.9999, "dec": -89.9999, "proper_motion_ra": 20000, "parallax": 2000},
    {"name": "far epoch", "type": "ICRS", "ra": 0, "dec": 90, "proper_motion_dec": -(10**6), "epoch": -(10**6)},
    {"name": "ha", "type": "HOUR_ANGLE", "hour_angle": 1.5, "dec": -30},
    *(
        {"name": "minor", "type": "ORBITAL_ELEMENTS", "scheme": scheme, "epochofel": 57660, "orbinc": 10.6}
        | {"longascnode": 80.3, "argofperih": 73.1, "meandist": 2.77, "eccentricity": 0.076, "meananom": 10.0}
        | {"perihdist": 1.2, "epochofperih": 57700, "dailymot": 0.21, "longofperih": 100, "meanlong": 50}
        for scheme in ("MPC_MINOR_PLANET", "MPC_COMET", "JPL_MAJOR_PLANET", "ASA_COMET", "JPL_MINOR_PLANET")
    ),
    {"name": "hyperbolic", "type": "ORBITAL_ELEMENTS", "scheme": "MPC_COMET", "epochofel": 57660, "orbinc": 180}
    | {"longascnode": 0, "argofperih": 360, "perihdist": 0, "eccentricity": 1e6, "epochofperih": 361},
    {"name": "sat", "type": "SATELLITE", "altitude": 90, "azimuth": 360, "diff_altitude_rate": 1e9}
    | {"diff_azimuth_rate": -1e9, "diff_altitude_acceleration": 0, "diff_azimuth_acceleration": 0, "diff_epoch": 0},
]
NEAR_WINDOW = st.datetimes(datetime(2016, 9, 28), datetime(2016, 10, 2), timezones=st.just(UTC)).map(
    lambda moment: moment.isoformat().replace("+00:00", "Z")
)


def _nudged(draw: st.DrawFn, value: Any) -> Any:
    """Another value of the same kind, so that the body gets past the edge and into the rules behind it."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return draw(st.integers(-10, 10**6) | st.sampled_from(EDGE_NUMBERS))
    if isinstance(value, float):
        return draw(st.floats(-400, 400) | st.sampled_from(EDGE_NUMBERS))
    if isinstance(value, str) and value.startswith("20"):
        return draw(NEAR_WINDOW | st.sampled_from(DATETIME_STRINGS))
    return _spelling_of(draw, value)


OPERATIONS: tuple[str, ...] = (
    *("delete", "replace", "replace", "nudge", "nudge", "nudge", "edge", "enum", "unicode", "long", "empty"),
    *("add", "repeat", "target"),
)
SCALAR_OPERATIONS = frozenset({"nudge", "edge", "enum", "unicode", "long"})


@st.composite
def mutated(
    draw: st.DrawFn,
    base: Any,
    within: frozenset[str] | None = None,
    most: int = 4,
    operations: tuple[str, ...] = OPERATIONS,
) -> Any:
    """``base`` after one to ``most`` mutations: a key or item deleted, a value replaced by random JSON of any
    type or nudged to another of its kind, an enumeration respelled, unicode or very long text, an empty list, a
    field added, an item repeated, a target of another type; with ``within``, only below those keys."""
    holder: dict[str, Any] = {"body": copy.deepcopy(base)}
    for _ in range(draw(st.integers(1, most))):
        operation = draw(st.sampled_from(operations))
        spots = list(_spots(holder["body"], within, False))
        if within is None:
            spots.insert(0, (holder, "body"))  # the whole body may be replaced too
        if operation in SCALAR_OPERATIONS:  # these change a leaf; on a container they would only break its shape
            spots = [(parent, key) for parent, key in spots if not isinstance(parent[key], dict | list)]
        if not spots:
            continue
        parent, key = draw(st.sampled_from(spots))
        if operation == "delete" and parent is not holder:
            del parent[key]
        elif operation == "nudge":
            parent[key] = _nudged(draw, parent[key])
        elif operation == "edge":
            parent[key] = draw(st.sampled_from(EDGE_NUMBERS) | st.sampled_from(DATETIME_STRINGS))
        elif operation == "enum":
            parent[key] = _spelling_of(draw, parent[key])
        elif operation == "unicode":
            parent[key] = draw(UNICODE_TEXT)
        elif operation == "long":
            parent[key] = draw(LONG_TEXT)
        elif operation == "empty":
            parent[key] = draw(st.sampled_from([[], {}, ""]))
        elif operation == "add" and isinstance(parent[key], dict):
            parent[key][draw(st.sampled_from(FIELD_NAMES))] = draw(json_values)
        elif operation == "repeat" and isinstance(parent, list):
            parent.extend(copy.deepcopy(parent[key]) for _ in range(draw(st.integers(1, 3))))
        elif operation == "target" and key == "target":
            parent[key] = copy.deepcopy(draw(st.sampled_from(TARGETS)))
        else:
            parent[key] = draw(json_values)
    return holder["body"]


# --- The world -------------------------------------------------------------------------------------------------


@pytest.fixture
def observatory() -> Observatory:
    return demo_observatory()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
def no_sky(container: Container) -> Iterator[None]:
    container.visibility_hooks.override(providers.Object(None))
    container.reset_singletons()  # the bus may have captured the hooks when it was built
    yield
    container.visibility_hooks.reset_last_overriding()
    container.reset_singletons()


@pytest.fixture
def astropy_sky(container: Container) -> Iterator[None]:
    """The real sky check on the astropy adapter, whatever the container wires by default."""
    from adapters.astropy_visibility import AstropyVisibility
    from application.request_visibility import visibility_hooks

    container.visibility_hooks.override(providers.Object(visibility_hooks(AstropyVisibility())))
    container.reset_singletons()
    yield
    container.visibility_hooks.reset_last_overriding()
    container.reset_singletons()


def _fresh_world(container: Container) -> World:
    """The reference world again: Hypothesis runs every example inside one test, and a 201 spends hours (and one
    of the caller's 5000 creates a day: the nightly profile runs more examples than that)."""
    container.throttle_store.reset()
    return next(load_world(container))


def _post(client: Client, world: World, path: str, body: Any) -> Any:
    # Encoded here, not by httpx, so that lone surrogates and huge integers reach the server as JSON text.
    content = json.dumps(body).encode()
    headers = {**world.headers("pi"), "Content-Type": "application/json"}
    return client.post(path, content=content, headers=headers)


def _is_unicode(body: Any) -> bool:
    try:
        json.dumps(body, ensure_ascii=False).encode()
    except UnicodeEncodeError:  # a lone surrogate
        return False
    return True


def _assert_well_answered(client: Client, world: World, body: Any) -> None:
    if not _is_unicode(body):
        # Text that is not Unicode is unparsable JSON, refused before either view runs like api.md B1.
        for path in (VALIDATE, GROUPS):
            with unchanged(world):
                response = _post(client, world, path, body)
            assert response.status_code == 400, response.text
            assert response.json()["detail"].startswith("JSON parse error"), response.text
        return
    with unchanged(world):
        response = _post(client, world, VALIDATE, body)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert isinstance(answer, dict), answer
    assert isinstance(answer.get("errors"), dict), answer
    assert isinstance(answer.get("request_durations"), dict), answer

    before = world.state()
    response = _post(client, world, GROUPS, body)
    assert response.status_code in (201, 400), response.text
    assert isinstance(response.json(), dict), response.text
    if response.status_code == 400:
        assert world.state() == before, "a refused submission changed the store"
    # The dry run is the submission's own check (requests.md 4.4): they agree on the same world.
    assert (response.status_code == 201) == (not answer["errors"]), (answer, response.text)
    # Shown by --hypothesis-show-statistics: how many examples get past the edge, and how far.
    event(f"validate {'passes' if not answer['errors'] else 'refuses'}, create {response.status_code}")


# Scaled from the profile (ci 100): an example of the broad property costs ~10 ms, so it takes three times the
# profile's; one of the sky property runs astropy (~0.1-0.3 s), so it takes a fifth.
BROAD_EXAMPLES = 3 * settings().max_examples
SKY_EXAMPLES = max(5, settings().max_examples // 5)
SKY_FIELDS = frozenset({"windows", "location", "target", "constraints"})
P0_ONE_DAY = copy.deepcopy(P0)
P0_ONE_DAY["requests"][0]["windows"] = [{"start": "2016-09-29T12:00:00Z", "end": "2016-09-30T12:00:00Z"}]


@settings(
    max_examples=BROAD_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(body=mutated(P0))
# Found by this test: the lone surrogate came back in "is not a valid choice" and the response failed to encode.
@example(body=p0(observation_type="\ud800"))
def test_no_mutation_of_p0_makes_validate_or_create_fail_on_the_server(
    client: Client, container: Container, no_sky: None, body: Any
) -> None:
    _assert_well_answered(client, _fresh_world(container), body)


@settings(
    max_examples=SKY_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    body=mutated(P0_ONE_DAY, SKY_FIELDS, 3, ("nudge", "nudge", "nudge", "edge", "enum", "delete", "target", "repeat"))
)
def test_no_mutation_the_sky_check_reads_makes_it_fail_on_the_server(
    client: Client, container: Container, astropy_sky: None, body: Any
) -> None:
    _assert_well_answered(client, _fresh_world(container), body)
