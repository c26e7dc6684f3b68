"""Import and export of the whole observatory document (observatory.md section 6)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given

from domain.errors import ValidationError
from domain.observatory import Observatory
from domain.observatory_document import export, import_into, parse_document, read_demo_downtimes
from tests.unit.domain.observatory_fixtures import demo_data, demo_observatory, snapshot
from tests.unit.domain.strategies import observatory_documents


def unordered(value: Any) -> Any:
    """The value with every list sorted, so documents compare up to list order (dicts ignore key order)."""
    if isinstance(value, dict):
        return {k: unordered(v) for k, v in value.items()}
    if isinstance(value, list):
        return sorted((unordered(v) for v in value), key=lambda v: json.dumps(v, sort_keys=True))
    return value


def without_downtimes(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k != "demo_downtimes"}


def problems_of(data: dict[str, Any]) -> dict[str, Any]:
    with pytest.raises(ValidationError) as caught:
        parse_document(data)
    return caught.value.errors


def test_the_demo_file_imports_with_the_documented_counts() -> None:
    obs = demo_observatory()
    counts = {kind: len(table) for kind, table in obs.records.items()}
    assert counts["sites"] == 7
    assert counts["enclosures"] == 15
    assert counts["telescopes"] == 18
    assert counts["instruments"] == 24
    assert counts["cameras"] == 45
    assert counts["instrumenttypes"] == 5
    assert counts["cameratypes"] == 8
    assert counts["opticalelements"] == 24
    assert counts["opticalelementgroups"] == 8
    assert counts["configurationtypes"] == 19


def test_ids_follow_document_order_on_an_empty_observatory() -> None:
    obs = demo_observatory()
    ogg = obs.find_site("ogg")
    telescope = obs.find_telescope("ogg", "clma", "2m0a")
    floyds01 = obs.find_instrument("floyds01")
    assert ogg is not None
    assert telescope is not None
    assert floyds01 is not None
    assert (ogg.id, telescope.id, floyds01.id) == (5, 15, 19)
    assert obs.find_camera("en06") is not None
    assert obs.find_camera("en06").id == 34
    floyds = obs.find_instrument_type("2M0-FLOYDS-SCICAM")
    assert floyds is not None
    assert [g.id for g in obs.mode_groups_of(floyds.id)][:2] == [7, 8]


def test_export_after_import_gives_back_the_demo_file() -> None:
    data = demo_data()
    exported = export(demo_observatory(), name=data["name"], description=data["description"])
    assert unordered(exported) == unordered(without_downtimes(data))


def test_export_is_stable_through_a_second_import() -> None:
    first = export(demo_observatory())
    obs = Observatory()
    import_into(obs, parse_document(first), replace=False)
    assert export(obs) == first


def test_export_lists_the_physical_tree_in_canonical_order_and_never_writes_demo_downtimes() -> None:
    exported = export(demo_observatory())
    assert [s["code"] for s in exported["sites"]] == ["coj", "cpt", "elp", "lsc", "ogg", "tfn", "tlv"]
    assert "demo_downtimes" not in exported
    coj = exported["sites"][0]
    assert [e["code"] for e in coj["enclosures"]] == ["clma", "doma", "domb"]


@given(observatory_documents())
def test_any_valid_document_survives_import_and_export(document: dict[str, Any]) -> None:
    obs = Observatory()
    import_into(obs, parse_document(document), replace=False)
    exported = export(obs, name=document["name"], description=document["description"])
    assert unordered(exported) == unordered(document)


@given(observatory_documents())
def test_importing_the_same_document_again_changes_nothing(document: dict[str, Any]) -> None:
    obs = Observatory()
    import_into(obs, parse_document(document), replace=False)
    again = import_into(obs, parse_document(document), replace=True)
    assert again.changes == ()


def test_an_unknown_key_is_refused_with_its_path() -> None:
    data = demo_data()
    data["sites"][4]["enclosures"][0]["telescopes"][1]["horizn"] = 25.0
    assert problems_of(data) == {"sites[4].enclosures[0].telescopes[1]": ['unknown key "horizn"']}


def test_a_dangling_reference_is_refused_with_its_path() -> None:
    data = demo_data()
    data["cameras"][12]["optical_element_groups"] = ["1m0 filterz"]
    assert problems_of(data) == {"cameras[12].optical_element_groups[0]": ['unknown group "1m0 filterz"']}


def test_a_duplicate_code_is_reported_on_both_objects() -> None:
    data = demo_data()
    data["cameras"].append(dict(data["cameras"][0]))
    assert problems_of(data) == {
        "cameras[0].code": ['Camera code "en12" already exists'],
        "cameras[45].code": ['Camera code "en12" already exists'],
    }


def test_every_problem_of_a_file_is_listed_at_once() -> None:
    data = demo_data()
    data["sites"][0]["lat"] = "south"
    data["sites"][1]["enclosures"][0]["telescopes"][0]["ha_limit_pos"] = -1.0
    data["instrument_types"][0]["instrument_category"] = "IMAGES"
    data["bogus"] = 1
    errors = problems_of(data)
    assert errors["sites[0].lat"] == ["A valid number is required."]
    assert errors["non_field_errors"] == ['unknown key "bogus"']
    # Shape errors stop the check before the tree rules; fix them and the rule violations show.
    data["sites"][0]["lat"] = -31.0
    del data["bogus"]
    errors = problems_of(data)
    assert errors == {
        "sites[1].enclosures[0].telescopes[0].ha_limit_pos": ["Ensure this value is greater than or equal to 0."],
        "instrument_types[0].instrument_category": ['Instrument category "IMAGES" does not exist.'],
    }


def test_a_missing_required_field_is_refused_with_its_path() -> None:
    data = demo_data()
    del data["camera_types"][2]["pscale"]
    assert problems_of(data) == {"camera_types[2].pscale": ["This field is required."]}


def test_an_unknown_format_version_is_refused() -> None:
    data = demo_data()
    data["format_version"] = 2
    assert problems_of(data) == {"format_version": ["unsupported format_version 2; this is 1"]}


def test_missing_optional_fields_take_their_documented_defaults() -> None:
    data = demo_data()
    del data["sites"][0]["tz"]
    del data["sites"][0]["enclosures"][0]["telescopes"][0]["telescope_front_padding"]
    obs = Observatory()
    import_into(obs, parse_document(data), replace=False)
    coj = obs.find_site("coj")
    telescope = obs.find_telescope("coj", "clma", "0m4a")
    assert coj is not None
    assert telescope is not None
    assert (coj.tz, telescope.telescope_front_padding) == ("Etc/UTC", 90.0)


def test_a_merge_import_updates_by_natural_key_and_keeps_what_the_file_omits() -> None:
    obs = demo_observatory()
    tlv = obs.find_site("tlv")
    assert tlv is not None
    obs.create("enclosures", {"code": "domz", "site_id": tlv.id})
    data = demo_data()
    data["sites"][4]["name"] = "Haleakala"
    plan = import_into(obs, parse_document(data), replace=False)
    assert (plan.created, plan.updated, plan.deleted) == ({}, {"sites": 1}, {})
    assert obs.find_enclosure("tlv", "domz") is not None
    ogg = obs.find_site("ogg")
    assert ogg is not None
    assert (ogg.id, ogg.name) == (5, "Haleakala")


def test_a_replace_import_deletes_what_the_file_does_not_mention() -> None:
    obs = demo_observatory()
    tlv = obs.find_site("tlv")
    assert tlv is not None
    obs.create("enclosures", {"code": "domz", "site_id": tlv.id})
    plan = import_into(obs, parse_document(demo_data()), replace=True)
    assert plan.deleted == {"enclosures": 1}
    assert obs.find_enclosure("tlv", "domz") is None


def test_a_merge_replaces_the_configuration_types_of_a_mentioned_instrument_type() -> None:
    obs = demo_observatory()
    data = demo_data()
    floyds = data["instrument_types"][2]
    floyds["configuration_types"] = [r for r in floyds["configuration_types"] if r["code"] != "DARK"]
    plan = import_into(obs, parse_document(data), replace=False)
    assert plan.deleted == {"configurationtypeproperties": 1}


def test_a_refused_import_leaves_the_observatory_unchanged() -> None:
    obs = demo_observatory()
    before = snapshot(obs)
    data = demo_data()
    data["sites"][0]["enclosures"][0]["telescopes"][0]["instruments"][0]["autoguider_camera"] = "zz99"
    with pytest.raises(ValidationError) as caught:
        import_into(obs, parse_document(data), replace=True)
    assert caught.value.errors == {
        "sites[0].enclosures[0].telescopes[0].instruments[0].autoguider_camera": ['unknown camera "zz99"']
    }
    assert snapshot(obs) == before


def test_the_demo_downtimes_are_read_as_written() -> None:
    downtimes = read_demo_downtimes(demo_data())
    assert len(downtimes) == 5
    assert downtimes[1]["instrument_type"] == "2M0-FLOYDS-SCICAM"
    assert parse_document(demo_data()).demo_downtimes[0]["reason"] == "Primary mirror re-aluminising"
