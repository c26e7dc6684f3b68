"""Hypothesis strategies: small valid observatory documents and validation schemas with matching documents."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

CONFIGURATION_TYPES = ("EXPOSE", "BIAS", "DARK", "SPECTRUM", "ARC")
MODE_TYPES = ("readout", "acquisition", "guiding", "exposure", "rotator")

lower_code = st.text("abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=4)
names = st.text("abcdefghij XYZ", max_size=12)


def floats(low: float, high: float) -> st.SearchStrategy[float]:
    return st.floats(low, high, allow_nan=False, allow_infinity=False)


@st.composite
def observatory_documents(draw: st.DrawFn) -> dict[str, Any]:
    """A valid observatory document of a few sites, cameras and instrument types."""
    config_types = draw(st.lists(st.sampled_from(CONFIGURATION_TYPES), min_size=1, max_size=4, unique=True))
    element_codes = draw(st.lists(st.text("UBVRIabc", min_size=1, max_size=3), min_size=1, max_size=5, unique=True))
    elements = [{"code": c, "name": draw(names) or c, "schedulable": draw(st.booleans())} for c in element_codes]
    groups = []
    for index in range(draw(st.integers(1, 3))):
        members = draw(st.lists(st.sampled_from(element_codes), min_size=1, unique=True))
        groups.append(
            {
                "name": f"group {index}",
                "type": draw(st.sampled_from(["filters", "slits"])),
                "element_change_overhead": draw(floats(0, 10)),
                "default": draw(st.sampled_from(["", *members])),
                "optical_elements": members,
            }
        )
    camera_types = [
        {
            "code": f"CT-{i}",
            "name": draw(names) or "type",
            "size": "1x1",
            "pscale": draw(floats(0.01, 2)),
            "pixels_x": draw(st.integers(0, 4096)),
            "pixels_y": draw(st.integers(0, 4096)),
            "max_rois": draw(st.integers(0, 2)),
        }
        for i in range(draw(st.integers(1, 2)))
    ]
    camera_codes = draw(st.lists(lower_code, min_size=1, max_size=4, unique=True))
    cameras = [
        {
            "code": c,
            "camera_type": draw(st.sampled_from([t["code"] for t in camera_types])),
            "orientation": draw(floats(0, 360)),
            "host": "",
            "optical_element_groups": draw(st.lists(st.sampled_from([g["name"] for g in groups]), max_size=1)),
        }
        for c in camera_codes
    ]
    instrument_types = [draw(_instrument_types(f"IT-{i}", config_types)) for i in range(draw(st.integers(1, 2)))]
    instrument_codes = iter(f"inst{i}" for i in range(100))
    sites = []
    for site_code in draw(st.lists(st.text("abcxyz019", min_size=3, max_size=3), min_size=1, max_size=3, unique=True)):
        enclosures = []
        for enclosure_code in draw(st.lists(lower_code, max_size=2, unique=True)):
            telescopes = []
            for telescope_code in draw(st.lists(lower_code, max_size=2, unique=True)):
                minimum = draw(floats(0, 10))
                instruments = [
                    {
                        "code": next(instrument_codes),
                        "state": draw(st.sampled_from(["DISABLED", "MANUAL", "SCHEDULABLE"])),
                        "instrument_type": draw(st.sampled_from([t["code"] for t in instrument_types])),
                        "science_cameras": draw(
                            st.lists(st.sampled_from(camera_codes), min_size=1, max_size=2, unique=True)
                        ),
                        "autoguider_camera": draw(st.sampled_from(camera_codes)),
                        "autoguider_type": draw(st.sampled_from(["InCamera", "OffAxis", "SelfGuide"])),
                    }
                    for _ in range(draw(st.integers(0, 2)))
                ]
                telescopes.append(
                    {
                        "code": telescope_code,
                        "name": draw(names),
                        "serial_number": "",
                        "active": draw(st.booleans()),
                        "aperture": draw(floats(0.1, 4)),
                        "lat": draw(floats(-90, 90)),
                        "long": draw(floats(-180, 180)),
                        "horizon": draw(floats(0, 90)),
                        "ha_limit_neg": draw(floats(-12, 0)),
                        "ha_limit_pos": draw(floats(0, 12)),
                        "zenith_blind_spot": draw(floats(0, 90)),
                        "slew_rate": draw(floats(0, 1)),
                        "minimum_slew_overhead": minimum,
                        "maximum_slew_overhead": minimum + draw(floats(0, 10)),
                        "instrument_change_overhead": draw(floats(0, 60)),
                        "telescope_front_padding": draw(floats(0, 120)),
                        "instruments": instruments,
                    }
                )
            enclosures.append(
                {"code": enclosure_code, "name": draw(names), "active": draw(st.booleans()), "telescopes": telescopes}
            )
        sites.append(
            {
                "code": site_code,
                "name": draw(names),
                "active": draw(st.booleans()),
                "lat": draw(floats(-90, 90)),
                "long": draw(floats(-180, 180)),
                "elevation": draw(st.integers(-500, 10000)),
                "timezone": draw(st.integers(-12, 14)),
                "tz": draw(st.sampled_from(["Etc/UTC", "Pacific/Honolulu"])),
                "restart": "12:30:00",
                "enclosures": enclosures,
            }
        )
    return {
        "format": "obsnet-observatory",
        "format_version": 1,
        "name": draw(names),
        "description": draw(names),
        "mode_types": list(MODE_TYPES),
        "instrument_categories": ["IMAGE", "SPECTRA"],
        "configuration_types": [{"code": c, "name": c.title()} for c in config_types],
        "optical_elements": elements,
        "optical_element_groups": groups,
        "camera_types": camera_types,
        "cameras": cameras,
        "instrument_types": instrument_types,
        "sites": sites,
    }


@st.composite
def _instrument_types(draw: st.DrawFn, code: str, config_types: list[str]) -> dict[str, Any]:
    offered = draw(st.lists(st.sampled_from(config_types), min_size=1, unique=True))
    mode_groups = []
    for mode_type in draw(st.lists(st.sampled_from(MODE_TYPES), max_size=2, unique=True)):
        mode_codes = draw(st.lists(st.sampled_from(["OFF", "ON", "full_frame", "fast"]), min_size=1, unique=True))
        modes = [
            {
                "code": m,
                "name": draw(names),
                "overhead": draw(floats(0, 60)),
                "schedulable": draw(st.booleans()),
                "validation_schema": draw(st.sampled_from([{}, {"bin_x": {"type": "integer", "default": 1}}])),
            }
            for m in mode_codes
        ]
        mode_groups.append({"type": mode_type, "default": draw(st.sampled_from(["", *mode_codes])), "modes": modes})
    return {
        "code": code,
        "name": draw(names) or code,
        "instrument_category": draw(st.sampled_from(["IMAGE", "SPECTRA"])),
        "fixed_overhead_per_exposure": draw(floats(0, 5)),
        "observation_front_padding": draw(floats(0, 300)),
        "config_front_padding": draw(floats(0, 30)),
        "acquire_exposure_time": draw(floats(0, 60)),
        "default_acceptability_threshold": draw(floats(0, 100)),
        "allow_self_guiding": draw(st.booleans()),
        "default_configuration_type": offered[0],
        "validation_schema": {},
        "configuration_types": [
            {
                "code": c,
                "schedulable": draw(st.booleans()),
                "config_change_overhead": draw(floats(0, 60)),
                "force_acquisition_off": draw(st.booleans()),
                "requires_optical_elements": draw(st.booleans()),
                "validation_schema": {},
            }
            for c in offered
        ],
        "mode_groups": mode_groups,
    }


# --- Validation schemas -------------------------------------------------------------------------------------------

_field_names = st.sampled_from(["bin_x", "bin_y", "defocus", "mode", "radius", "extra"])


@st.composite
def schemas_with_documents(draw: st.DrawFn, depth: int = 2) -> tuple[dict[str, Any], dict[str, Any]]:
    """A well-formed schema and a document that satisfies it (some optional keys left for defaults)."""
    schema: dict[str, Any] = {}
    document: dict[str, Any] = {}
    for name in draw(st.lists(_field_names, max_size=4, unique=True)):
        kind = draw(
            st.sampled_from(["integer", "float", "string", "dict"] if depth else ["integer", "float", "string"])
        )
        rules: dict[str, Any] = {"type": kind, "label": name}
        if kind == "dict":
            nested_schema, nested_document = draw(schemas_with_documents(depth - 1))
            rules["schema"] = nested_schema
            value: Any = nested_document
        elif kind == "integer":
            low = draw(st.integers(-10, 10))
            rules.update(min=low, max=low + draw(st.integers(0, 10)))
            value = draw(st.integers(rules["min"], rules["max"]))
        elif kind == "float":
            low = draw(floats(-100, 100))
            rules.update(min=low, max=low + draw(floats(0, 100)))
            value = draw(floats(rules["min"], rules["max"]))
        else:
            rules["allowed"] = draw(
                st.lists(st.text("abc", min_size=1, max_size=3), min_size=1, max_size=3, unique=True)
            )
            value = draw(st.sampled_from(rules["allowed"]))
        if draw(st.booleans()):
            rules["required"] = True
            document[name] = value
        elif draw(st.booleans()):
            rules["default"] = value
        elif draw(st.booleans()):
            document[name] = value
        schema[name] = rules
    return schema, document
