"""The instrument catalogue (api.md 5.6) on the demo network: who sees which types, elements and modes; filters."""

from __future__ import annotations

from typing import Any

import pytest

from application.instrument_catalogue import field_of_view_arcmin, instrument_catalogue, mean_angle_deg
from application.observatory_views import schedulable_instrument_types
from domain.observatory import CameraType, Observatory
from tests.unit.domain.observatory_fixtures import demo_observatory, snapshot

SINISTRO, NRES, QHY, FLOYDS, MUSCAT = (
    "1M0-SCICAM-SINISTRO",
    "1M0-NRES-SCICAM",
    "0M4-SCICAM-QHY600",
    "2M0-FLOYDS-SCICAM",
    "2M0-SCICAM-MUSCAT",
)
ENTRY_KEYS = {
    "type",
    "class",
    "name",
    "optical_elements",
    "modes",
    "default_acceptability_threshold",
    "configuration_types",
    "default_configuration_type",
    "validation_schema",
    "camera_type",
}
CAMERA_KEYS = {
    "science_field_of_view",
    "autoguider_field_of_view",
    "pixel_scale",
    "pixels_x",
    "pixels_y",
    "orientation",
}


@pytest.fixture(scope="module")
def demo() -> Observatory:
    return demo_observatory()


def public(obs: Observatory, **filters: Any) -> dict[str, Any]:
    return instrument_catalogue(obs, staff=False, **filters)


def staff(obs: Observatory, **filters: Any) -> dict[str, Any]:
    return instrument_catalogue(obs, staff=True, **filters)


def codes(elements: list[dict[str, Any]]) -> list[str]:
    return [element["code"] for element in elements]


def mode_codes(entry: dict[str, Any], mode_type: str) -> list[str]:
    return [mode["code"] for mode in entry["modes"][mode_type]["modes"]]


def with_states(states: dict[str, str]) -> Observatory:
    obs = demo_observatory()
    for code, state in states.items():
        instrument = obs.find_instrument(code)
        assert instrument is not None
        obs.set_instrument_state(instrument.id, state)
    return obs


# --- Which types -------------------------------------------------------------------------------------------------


def test_non_staff_get_exactly_the_schedulable_types_in_code_order(demo: Observatory) -> None:
    catalogue = public(demo)
    assert list(catalogue) == schedulable_instrument_types(demo)
    assert list(catalogue) == sorted([SINISTRO, NRES, QHY, FLOYDS, MUSCAT])


def test_a_type_without_a_schedulable_instrument_is_only_shown_to_staff() -> None:
    obs = with_states({"nres02": "MANUAL", "nres03": "STANDBY"})  # nres01 is COMMISSIONING, nres04 DISABLED

    assert NRES not in schedulable_instrument_types(obs)
    assert list(public(obs)) == schedulable_instrument_types(obs)
    assert NRES in staff(obs)
    assert NRES not in staff(obs, only_schedulable=True)


def test_a_type_with_every_instrument_disabled_is_hidden_from_staff_too() -> None:
    obs = with_states(dict.fromkeys(("nres01", "nres02", "nres03"), "DISABLED"))
    assert NRES not in staff(obs)


def test_staff_see_manual_and_commissioning_instruments_that_users_do_not(demo: Observatory) -> None:
    assert public(demo, site="lsc", enclosure="domb") == {}  # fa03 is MANUAL
    assert list(staff(demo, site="lsc", enclosure="domb")) == [SINISTRO]
    assert list(public(demo, site="lsc", enclosure="doma")) == [SINISTRO]  # nres01 is COMMISSIONING
    assert list(staff(demo, site="lsc", enclosure="doma")) == [NRES, SINISTRO]


def test_instruments_under_an_inactive_telescope_are_hidden_from_staff_too(demo: Observatory) -> None:
    assert staff(demo, site="cpt", enclosure="aqwa") == {}  # sq02 STANDBY on an inactive telescope

    obs = demo_observatory()
    host = obs.find_telescope("cpt", "aqwa", "0m4a")
    assert host is not None
    obs.update("telescopes", host.id, {"active": True})
    assert list(staff(obs, site="cpt", enclosure="aqwa")) == [QHY]
    assert public(obs, site="cpt", enclosure="aqwa") == {}


def test_instruments_at_an_inactive_site_are_hidden_even_when_schedulable() -> None:
    obs = with_states({"fa01": "SCHEDULABLE"})  # tlv is an inactive site
    assert public(obs, site="tlv") == {}
    assert staff(obs, site="tlv") == {}


def test_staff_asking_for_only_schedulable_see_what_users_see(demo: Observatory) -> None:
    assert staff(demo, only_schedulable=True) == public(demo)
    assert staff(demo) != public(demo)


def test_only_schedulable_false_does_not_widen_what_users_see(demo: Observatory) -> None:
    assert instrument_catalogue(demo, staff=False, only_schedulable=False) == public(demo)


# --- The entry's shape ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", [public, staff])
def test_every_entry_has_exactly_the_keys_of_the_shape(demo: Observatory, who: Any) -> None:
    for entry in who(demo).values():
        assert set(entry) == ENTRY_KEYS
        assert set(entry["camera_type"]) == CAMERA_KEYS
        for mode_type, group in entry["modes"].items():
            assert {"type", "default", "modes"} <= set(group)
            assert group["type"] == mode_type
            for mode in group["modes"]:
                assert {"name", "code", "overhead", "schedulable", "validation_schema"} <= set(mode)
        for elements in entry["optical_elements"].values():
            for element in elements:
                assert {"name", "code", "schedulable", "default"} <= set(element)
        for code, row in entry["configuration_types"].items():
            assert row["code"] == code
            assert {
                "name",
                "code",
                "schedulable",
                "config_change_overhead",
                "force_acquisition_off",
                "requires_optical_elements",
                "validation_schema",
            } <= set(row)


def test_sinistro_is_a_1m0_imager_with_full_frame_readout_by_default(demo: Observatory) -> None:
    sinistro = public(demo)[SINISTRO]

    assert (sinistro["type"], sinistro["class"], sinistro["name"]) == ("IMAGE", "1m0", "1.0 m Sinistro imager")
    readout = sinistro["modes"]["readout"]
    assert readout["type"] == "readout"
    assert readout["default"] == "full_frame"
    full_frame = next(mode for mode in readout["modes"] if mode["code"] == "full_frame")
    assert full_frame["overhead"] == 14.5
    assert isinstance(full_frame["overhead"], float)
    assert full_frame["name"] == "Full frame, 1x1 binning"
    assert full_frame["validation_schema"]["extra_params"]["schema"]["bin_x"]["default"] == 1
    assert mode_codes(sinistro, "readout") == ["full_frame", "central_2k_2x2"]
    assert (sinistro["modes"]["acquisition"]["default"], sinistro["modes"]["guiding"]["default"]) == ("OFF", "OFF")
    assert sinistro["default_acceptability_threshold"] == 90.0
    assert sinistro["default_configuration_type"] == "EXPOSE"
    assert sinistro["validation_schema"] == demo.find_instrument_type(SINISTRO).validation_schema  # type: ignore[union-attr]


def test_filters_are_named_as_their_elements_and_air_is_the_default(demo: Observatory) -> None:
    filters = public(demo)[SINISTRO]["optical_elements"]["filters"]

    air = next(element for element in filters if element["code"] == "air")
    assert air == {**air, "name": "Clear", "schedulable": True, "default": True}
    assert [element["code"] for element in filters if element["default"]] == ["air"]
    assert set(public(demo)[SINISTRO]["optical_elements"]) == {"filters"}


def test_each_filter_appears_once_though_many_cameras_carry_it(demo: Observatory) -> None:
    filter_codes = codes(public(demo)[SINISTRO]["optical_elements"]["filters"])

    assert len(filter_codes) == len(set(filter_codes))
    # Broadband filters in their wheel's order, then the narrowband ones only cpt.doma carries.
    broadband = ["U", "B", "V", "R", "I", "up", "gp", "rp", "ip", "zs", "Y", "w", "air"]
    assert filter_codes == [*broadband, "H-Alpha", "H-Beta", "OIII"]


def test_non_schedulable_elements_are_hidden_from_users_and_flagged_for_staff(demo: Observatory) -> None:
    assert "ND" not in codes(public(demo)[SINISTRO]["optical_elements"]["filters"])
    assert "opaque" not in codes(public(demo)[QHY]["optical_elements"]["filters"])

    staff_filters = staff(demo)[SINISTRO]["optical_elements"]["filters"]
    nd = next(element for element in staff_filters if element["code"] == "ND")
    assert (nd["schedulable"], nd["default"]) == (False, False)
    assert "opaque" in codes(staff(demo)[QHY]["optical_elements"]["filters"])
    assert "ND" not in codes(staff(demo, only_schedulable=True)[SINISTRO]["optical_elements"]["filters"])


def test_non_schedulable_modes_are_hidden_from_users_and_flagged_for_staff(demo: Observatory) -> None:
    assert mode_codes(public(demo)[NRES], "guiding") == ["ON"]
    assert mode_codes(staff(demo)[NRES], "guiding") == ["ON", "NRES_SPECIAL"]
    special = staff(demo)[NRES]["modes"]["guiding"]["modes"][1]
    assert (special["schedulable"], special["overhead"]) == (False, 90.0)
    assert public(demo)[NRES]["modes"]["guiding"]["default"] == "ON"


def test_configuration_types_are_keyed_by_code_and_flag_the_staff_only_ones(demo: Observatory) -> None:
    types = public(demo)[SINISTRO]["configuration_types"]

    assert list(types) == [
        "EXPOSE",
        "REPEAT_EXPOSE",
        "SKY_FLAT",
        "STANDARD",
        "SCRIPT",
        "AUTO_FOCUS",
        "ENGINEERING",
        "BIAS",
        "DARK",
    ]
    assert types["EXPOSE"] == {
        "name": "Expose",
        "code": "EXPOSE",
        "schedulable": True,
        "config_change_overhead": 0.0,
        "force_acquisition_off": False,
        "requires_optical_elements": True,
        "validation_schema": {},
    }
    assert types["BIAS"]["schedulable"] is False
    arc = public(demo)[FLOYDS]["configuration_types"]["ARC"]
    assert (arc["config_change_overhead"], arc["force_acquisition_off"]) == (30.0, True)


def test_floyds_is_a_2m0_spectrograph_with_its_slits_and_rotator_modes(demo: Observatory) -> None:
    floyds = public(demo)[FLOYDS]

    assert (floyds["type"], floyds["class"], floyds["default_configuration_type"]) == ("SPECTRA", "2m0", "SPECTRUM")
    slits = floyds["optical_elements"]["slits"]
    assert codes(slits) == ["slit_1.2as", "slit_1.6as", "slit_2.0as", "slit_6.0as"]
    assert [slit["code"] for slit in slits if slit["default"]] == ["slit_1.6as"]
    assert set(floyds["modes"]) == {"readout", "acquisition", "guiding", "rotator"}
    assert floyds["modes"]["acquisition"]["default"] == "WCS"
    assert floyds["default_acceptability_threshold"] == 100.0


def test_muscat_lists_one_group_per_channel_and_its_exposure_modes(demo: Observatory) -> None:
    muscat = public(demo)[MUSCAT]

    groups = muscat["optical_elements"]
    assert list(groups) == [f"narrowband_{band}_positions" for band in "griz"]
    for elements in groups.values():
        assert codes(elements) == ["in", "out"]
        assert [element["default"] for element in elements] == [False, True]
    assert mode_codes(muscat, "exposure") == ["SYNCHRONOUS", "ASYNCHRONOUS"]
    assert muscat["class"] == "2m0"


def test_every_type_has_the_class_of_its_telescopes(demo: Observatory) -> None:
    classes = {code: entry["class"] for code, entry in public(demo).items()}
    assert classes == {SINISTRO: "1m0", NRES: "1m0", QHY: "0m4", FLOYDS: "2m0", MUSCAT: "2m0"}


def test_camera_geometry_comes_from_the_camera_types(demo: Observatory) -> None:
    sinistro = public(demo)[SINISTRO]["camera_type"]
    assert (sinistro["pixel_scale"], sinistro["pixels_x"], sinistro["pixels_y"]) == (0.389, 4096, 4096)
    assert sinistro["science_field_of_view"] == pytest.approx(4096 * 0.389 / 60, abs=1e-4)
    assert sinistro["autoguider_field_of_view"] == pytest.approx(1536 * 0.55 / 60, abs=1e-4)

    floyds = public(demo)[FLOYDS]["camera_type"]
    assert (floyds["pixels_x"], floyds["pixels_y"]) == (2048, 512)
    assert floyds["science_field_of_view"] == pytest.approx(2048 * 0.337 / 60, abs=1e-4)  # the longer side
    assert floyds["autoguider_field_of_view"] == pytest.approx(1024 * 0.57 / 60, abs=1e-4)
    assert floyds["orientation"] == pytest.approx(85.0)  # en06 at 80, en12 at 90


def test_the_orientation_average_wraps_around_north(demo: Observatory) -> None:
    # Schedulable Sinistros sit at 0, 0.3, 0.1, 0, 359.8 and 0 degrees: the mean is just east of north.
    orientation = public(demo)[SINISTRO]["camera_type"]["orientation"]
    assert orientation == pytest.approx((0 + 0.3 + 0.1 + 0 - 0.2 + 0) / 6, abs=1e-4)


@pytest.mark.parametrize(
    ("angles", "mean"),
    [([], 0.0), ([45.0, 45.0, 45.0, 45.0], 45.0), ([359.0, 1.0], 0.0), ([350.0, 340.0], 345.0), ([90.0], 90.0)],
)
def test_mean_angle_is_circular(angles: list[float], mean: float) -> None:
    assert mean_angle_deg(angles) == pytest.approx(mean, abs=1e-6)


def test_field_of_view_is_the_longer_side_in_arcminutes_without_float_noise() -> None:
    camera_type = CameraType(id=1, code="X", name="x", pscale=0.55, pixels_x=1024, pixels_y=1536)
    assert field_of_view_arcmin(camera_type) == 14.08


# --- Filters -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"instrument_type": SINISTRO}, [SINISTRO]),
        ({"instrument_type": "1m0-scicam-sinistro"}, [SINISTRO]),
        ({"instrument_type": [SINISTRO.lower(), FLOYDS]}, [SINISTRO, FLOYDS]),
        ({"site": "ogg"}, [QHY, FLOYDS, MUSCAT]),
        ({"site": ["ogg", "cpt"]}, [QHY, NRES, SINISTRO, FLOYDS, MUSCAT]),
        ({"site": "cpt"}, [NRES, SINISTRO]),
        ({"enclosure": "clma"}, [QHY, FLOYDS, MUSCAT]),
        ({"enclosure": "aqwa"}, [QHY]),
        ({"telescope": "2m0a"}, [FLOYDS, MUSCAT]),
        ({"telescope": ["0m4a", "0m4b"]}, [QHY]),
        ({"telescope_class": "1m0"}, [NRES, SINISTRO]),
        ({"telescope_class": "2M0"}, [FLOYDS, MUSCAT]),
        ({"telescope_class": ["0m4", "2m0"]}, [QHY, FLOYDS, MUSCAT]),
        ({"site": "elp", "enclosure": "doma", "telescope": "1m0a"}, [NRES, SINISTRO]),
        ({"site": "elp", "telescope_class": "0m4"}, [QHY]),
        ({"site": "coj", "instrument_type": NRES}, []),
        ({"site": [], "instrument_type": ""}, sorted([SINISTRO, NRES, QHY, FLOYDS, MUSCAT])),
    ],
)
def test_filters_narrow_the_types(demo: Observatory, filters: dict[str, Any], expected: list[str]) -> None:
    assert sorted(public(demo, **filters)) == sorted(expected)


@pytest.mark.parametrize(
    "filters",
    [
        {"instrument_type": "NOPE"},
        {"site": "xyz"},
        {"site": "OGG"},  # site codes are matched exactly
        {"enclosure": "domz"},
        {"telescope": "9m9z"},
        {"telescope_class": "3m0"},
        {"site": "ogg", "telescope_class": "1m0"},
    ],
)
def test_values_nothing_matches_give_an_empty_catalogue(demo: Observatory, filters: dict[str, Any]) -> None:
    assert public(demo, **filters) == {}
    assert staff(demo, **filters) == {}


def test_the_location_decides_which_elements_are_listed(demo: Observatory) -> None:
    at_cpt = codes(public(demo, site="cpt", enclosure="doma")[SINISTRO]["optical_elements"]["filters"])
    at_coj = codes(public(demo, site="coj")[SINISTRO]["optical_elements"]["filters"])

    assert {"H-Alpha", "H-Beta", "OIII"} <= set(at_cpt)
    assert not {"H-Alpha", "H-Beta", "OIII"} & set(at_coj)


def test_the_class_follows_the_telescopes_listed() -> None:
    obs = demo_observatory()
    host = obs.find_telescope("coj", "doma", "1m0a")
    assert host is not None
    obs.update("telescopes", host.id, {"aperture": 1.2})  # the first Sinistro host, now a 1.2 m

    assert public(obs)[SINISTRO]["class"] == "1m2"
    assert public(obs, site="cpt")[SINISTRO]["class"] == "1m0"
    assert list(public(obs, telescope_class="1m2")) == [SINISTRO]


def test_building_the_catalogue_changes_nothing_and_shares_no_state(demo: Observatory) -> None:
    before = snapshot(demo)
    catalogue = public(demo)
    catalogue[SINISTRO]["validation_schema"]["poisoned"] = True
    catalogue[SINISTRO]["modes"]["readout"]["modes"][0]["validation_schema"]["poisoned"] = True

    assert snapshot(demo) == before
    assert "poisoned" not in public(demo)[SINISTRO]["validation_schema"]
    assert "poisoned" not in public(demo)[SINISTRO]["modes"]["readout"]["modes"][0]["validation_schema"]
