"""The invariants of observatory.md 1.3-1.4 on every write verb, and the read helpers of the aggregate."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs
import pytest

from domain.errors import ConflictError, NotFoundError, ValidationError
from domain.observatory import InstrumentState, Observatory
from tests.unit.domain.observatory_fixtures import demo_observatory, snapshot


@pytest.fixture
def obs() -> Observatory:
    return demo_observatory()


def refused(obs: Observatory, write: Callable[[], Any]) -> dict[str, Any]:
    """Run a write that must be refused; check nothing changed; return the error body."""
    before = snapshot(obs)
    with pytest.raises(ValidationError) as caught:
        write()
    assert snapshot(obs) == before
    return caught.value.errors


def conflict(obs: Observatory, write: Callable[[], Any]) -> str:
    before = snapshot(obs)
    with pytest.raises(ConflictError) as caught:
        write()
    assert snapshot(obs) == before
    return str(caught.value)


SITE = {"code": "xyz", "lat": 10.0, "long": 20.0, "elevation": 100, "timezone": 0}
TELESCOPE = {
    "code": "1m0z",
    "aperture": 1.0,
    "lat": 0.0,
    "long": 0.0,
    "horizon": 15.0,
    "ha_limit_neg": -4.6,
    "ha_limit_pos": 4.6,
}


def telescope_values(obs: Observatory, **changes: Any) -> dict[str, Any]:
    enclosure = obs.find_enclosure("lsc", "doma")
    assert enclosure is not None
    return {**TELESCOPE, "enclosure_id": enclosure.id, **changes}


# --- Codes and uniqueness ---------------------------------------------------------------------------------------


def test_site_code_must_be_three_lower_case_letters_or_digits(obs: Observatory) -> None:
    errors = refused(obs, lambda: obs.create("sites", {**SITE, "code": "OGG1"}))
    assert errors == {"code": ['Site code must be 3 lower-case letters or digits, got "OGG1"']}


def test_site_codes_are_unique_in_the_network(obs: Observatory) -> None:
    errors = refused(obs, lambda: obs.create("sites", {**SITE, "code": "ogg"}))
    assert errors == {"code": ['Site code "ogg" already exists']}


def test_enclosure_code_is_unique_within_its_site(obs: Observatory) -> None:
    lsc = obs.find_site("lsc")
    assert lsc is not None
    errors = refused(obs, lambda: obs.create("enclosures", {"code": "doma", "site_id": lsc.id}))
    assert errors == {"code": ['Enclosure code "doma" already exists at site "lsc"']}


def test_the_same_enclosure_code_may_be_used_at_another_site(obs: Observatory) -> None:
    tlv = obs.find_site("tlv")
    assert tlv is not None
    created = obs.create("enclosures", {"code": "clma", "site_id": tlv.id})
    assert obs.enclosure_path(created) == "tlv.clma"


def test_telescope_code_is_unique_within_its_enclosure(obs: Observatory) -> None:
    errors = refused(obs, lambda: obs.create("telescopes", telescope_values(obs, code="1m0a")))
    assert errors == {"code": ['Telescope code "1m0a" already exists at enclosure "lsc.doma"']}


def test_instrument_codes_are_unique_in_the_network(obs: Observatory) -> None:
    fa15 = obs.find_instrument("fa15")
    assert fa15 is not None
    errors = refused(obs, lambda: obs.update("instruments", fa15.id, {"code": "fa12"}))
    assert errors == {"code": ['Instrument code "fa12" is already used by coj.doma.1m0a.fa12']}


@pytest.mark.parametrize(
    ("kind", "values", "field", "message"),
    [
        (
            "cameratypes",
            {"code": "1m0-new", "name": "x", "pscale": 1.0},
            "code",
            'Camera type code must be upper-case letters, digits, "-" or "_", got "1m0-new"',
        ),
        (
            "cameratypes",
            {"code": "1M0-SCICAM-SINISTRO", "name": "x", "pscale": 1.0},
            "code",
            'Camera type code "1M0-SCICAM-SINISTRO" already exists',
        ),
        ("opticalelements", {"code": "V", "name": "Another V"}, "code", 'Optical element code "V" already exists'),
        (
            "configurationtypes",
            {"code": "expose"},
            "code",
            'Configuration type code must be upper-case letters, digits, "-" or "_", got "expose"',
        ),
        ("instrumentcategories", {"code": ""}, "code", "This field may not be blank."),
    ],
)
def test_catalogue_codes_follow_their_format_and_are_unique(
    obs: Observatory, kind: str, values: dict[str, Any], field: str, message: str
) -> None:
    assert refused(obs, lambda: obs.create(kind, values)) == {field: [message]}


def test_configuration_type_codes_keyed_by_code_cannot_be_created_twice(obs: Observatory) -> None:
    errors = refused(obs, lambda: obs.create("configurationtypes", {"code": "EXPOSE", "name": "Again"}))
    assert errors == {"code": ['Configuration type code "EXPOSE" already exists']}


def test_instrument_type_codes_are_unique_compared_case_insensitively(obs: Observatory) -> None:
    sinistro = obs.find_instrument_type("1M0-SCICAM-SINISTRO")
    qhy = obs.find_instrument_type("0M4-SCICAM-QHY600")
    assert sinistro is not None
    assert qhy is not None
    errors = refused(obs, lambda: obs.update("instrumenttypes", qhy.id, {"code": "1M0-SCICAM-SINISTRO"}))
    assert errors == {"code": ['Instrument type code "1M0-SCICAM-SINISTRO" already exists']}


def test_optical_element_group_names_are_unique(obs: Observatory) -> None:
    values = {"name": "FLOYDS slits", "type": "slits", "optical_elements": [{"code": "slit_1.2as", "name": "x"}]}
    errors = refused(obs, lambda: obs.create("opticalelementgroups", values))
    assert errors == {"name": ['Optical element group name "FLOYDS slits" already exists']}


# --- Ranges (1.3) and field types -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("lat", 95.0, "Ensure this value is less than or equal to 90."),
        ("lat", -90.5, "Ensure this value is greater than or equal to -90."),
        ("long", 180.1, "Ensure this value is less than or equal to 180."),
        ("elevation", -501, "Ensure this value is greater than or equal to -500."),
        ("elevation", 10001, "Ensure this value is less than or equal to 10000."),
        ("timezone", 15, "Ensure this value is less than or equal to 14."),
        ("timezone", -13, "Ensure this value is greater than or equal to -12."),
        ("tz", "Mars/Olympus_Mons", '"Mars/Olympus_Mons" is not a known IANA time zone.'),
        ("restart", "25:00:00", "Time has wrong format. Use one of these formats instead: hh:mm:ss."),
        ("name", "x" * 201, "Ensure this field has no more than 200 characters."),
    ],
)
def test_site_fields_are_range_checked(obs: Observatory, field: str, value: Any, message: str) -> None:
    assert refused(obs, lambda: obs.create("sites", {**SITE, field: value})) == {field: [message]}


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("ha_limit_pos", -1.0, "Ensure this value is greater than or equal to 0."),
        ("ha_limit_pos", 12.5, "Ensure this value is less than or equal to 12."),
        ("ha_limit_neg", 3.0, "Ensure this value is less than or equal to 0."),
        ("ha_limit_neg", -12.5, "Ensure this value is greater than or equal to -12."),
        ("horizon", 91.0, "Ensure this value is less than or equal to 90."),
        ("zenith_blind_spot", -1.0, "Ensure this value is greater than or equal to 0."),
        ("slew_rate", -0.1, "Ensure this value is greater than or equal to 0."),
        ("instrument_change_overhead", -1.0, "Ensure this value is greater than or equal to 0."),
        ("telescope_front_padding", -1.0, "Ensure this value is greater than or equal to 0."),
        ("aperture", 0.0, "Ensure this value is greater than 0."),
        ("serial_number", "s" * 51, "Ensure this field has no more than 50 characters."),
        ("code", "1M0A", 'Telescope code must be 1 to 4 lower-case letters or digits, got "1M0A"'),
    ],
)
def test_telescope_fields_are_range_checked(obs: Observatory, field: str, value: Any, message: str) -> None:
    errors = refused(obs, lambda: obs.create("telescopes", telescope_values(obs, **{field: value})))
    assert errors == {field: [message]}


@pytest.mark.parametrize(
    ("kind", "field", "value", "message"),
    [
        (
            "instrumenttypes",
            "default_acceptability_threshold",
            101.0,
            "Ensure this value is less than or equal to 100.",
        ),
        ("instrumenttypes", "observation_front_padding", -1.0, "Ensure this value is greater than or equal to 0."),
        ("cameras", "orientation", 361.0, "Ensure this value is less than or equal to 360."),
        ("cameratypes", "pscale", 0.0, "Ensure this value is greater than 0."),
        ("cameratypes", "max_rois", -1, "Ensure this value is greater than or equal to 0."),
        ("genericmodes", "overhead", -1.0, "Ensure this value is greater than or equal to 0."),
        (
            "configurationtypeproperties",
            "config_change_overhead",
            -2.0,
            "Ensure this value is greater than or equal to 0.",
        ),
        ("opticalelementgroups", "element_change_overhead", -1.0, "Ensure this value is greater than or equal to 0."),
    ],
)
def test_catalogue_numbers_are_range_checked(obs: Observatory, kind: str, field: str, value: Any, message: str) -> None:
    key = min(obs.records[kind])
    assert refused(obs, lambda: obs.update(kind, key, {field: value})) == {field: [message]}


def test_integer_values_given_for_float_fields_are_stored_as_floats(obs: Observatory) -> None:
    created = obs.create("sites", {**SITE, "lat": 10, "long": -20})
    assert isinstance(created.lat, float)
    assert isinstance(created.long, float)


def test_a_wrong_type_is_refused_with_the_drf_message(obs: Observatory) -> None:
    assert refused(obs, lambda: obs.create("sites", {**SITE, "elevation": "high"})) == {
        "elevation": ["A valid integer is required."]
    }


def test_a_missing_required_field_is_refused(obs: Observatory) -> None:
    values = {k: v for k, v in SITE.items() if k != "lat"}
    assert refused(obs, lambda: obs.create("sites", values)) == {"lat": ["This field is required."]}


def test_an_unknown_field_is_refused(obs: Observatory) -> None:
    assert refused(obs, lambda: obs.create("sites", {**SITE, "horizn": 3})) == {"horizn": ["Unknown field."]}


def test_an_invalid_instrument_state_is_refused(obs: Observatory) -> None:
    fa12 = obs.find_instrument("fa12")
    assert fa12 is not None
    errors = refused(obs, lambda: obs.set_instrument_state(fa12.id, "BROKEN"))
    assert errors == {"state": ['"BROKEN" is not a valid choice.']}


def test_instrument_state_changes_are_plain_writes(obs: Observatory) -> None:
    fa12 = obs.find_instrument("fa12")
    assert fa12 is not None
    obs.set_instrument_state(fa12.id, "MANUAL")
    assert obs.instruments[fa12.id].state is InstrumentState.MANUAL


# --- Cross-field and cross-record rules ---------------------------------------------------------------------------


def test_maximum_slew_overhead_may_not_be_below_the_minimum(obs: Observatory) -> None:
    values = telescope_values(obs, minimum_slew_overhead=2.0, maximum_slew_overhead=1.0)
    errors = refused(obs, lambda: obs.create("telescopes", values))
    assert errors == {
        "non_field_errors": ["maximum_slew_overhead (1.0) must not be less than minimum_slew_overhead (2.0)"]
    }


def test_an_unknown_parent_id_is_refused_on_its_field(obs: Observatory) -> None:
    errors = refused(obs, lambda: obs.create("telescopes", {**TELESCOPE, "enclosure_id": 9999}))
    assert errors == {"enclosure_id": ["Enclosure 9999 does not exist."]}


def test_a_group_default_must_be_one_of_its_elements(obs: Observatory) -> None:
    group = next(g for g in obs.optical_element_groups.values() if g.name == "FLOYDS slits")
    errors = refused(obs, lambda: obs.update("opticalelementgroups", group.id, {"default": "zs"}))
    assert errors == {"non_field_errors": ['Default optical element "zs" is not a member of group "FLOYDS slits"']}


def test_a_mode_group_default_must_be_one_of_its_modes(obs: Observatory) -> None:
    floyds = obs.find_instrument_type("2M0-FLOYDS-SCICAM")
    assert floyds is not None
    readout = obs.mode_groups_of(floyds.id)[0]
    errors = refused(obs, lambda: obs.update("genericmodegroups", readout.id, {"default": "full_frame"}))
    assert errors == {
        "non_field_errors": ['Default mode "full_frame" is not a member of the readout mode group of 2M0-FLOYDS-SCICAM']
    }


def test_the_default_configuration_type_must_be_offered_by_the_type(obs: Observatory) -> None:
    floyds = obs.find_instrument_type("2M0-FLOYDS-SCICAM")
    assert floyds is not None
    errors = refused(obs, lambda: obs.update("instrumenttypes", floyds.id, {"default_configuration_type": "EXPOSE"}))
    assert errors == {"non_field_errors": ['Default configuration type "EXPOSE" is not offered by 2M0-FLOYDS-SCICAM']}


def test_an_instrument_type_has_one_mode_group_per_mode_type(obs: Observatory) -> None:
    sinistro = obs.find_instrument_type("1M0-SCICAM-SINISTRO")
    assert sinistro is not None
    values = {"instrument_type_id": sinistro.id, "type": "readout", "modes": [{"code": "fast", "overhead": 5.0}]}
    errors = refused(obs, lambda: obs.create("genericmodegroups", values))
    assert errors == {"type": ["1M0-SCICAM-SINISTRO already has a readout mode group"]}


def test_a_camera_carries_at_most_one_group_of_each_type(obs: Observatory) -> None:
    fa12 = obs.find_camera("fa12")
    assert fa12 is not None
    other = next(g for g in obs.optical_element_groups.values() if g.name == "0m4 filters")
    groups = [*fa12.optical_element_group_ids, other.id]
    errors = refused(obs, lambda: obs.update("cameras", fa12.id, {"optical_element_group_ids": groups}))
    assert errors == {
        "optical_element_group_ids": ['Camera fa12 already has an optical element group of type "filters"']
    }


def test_an_instrument_needs_a_science_camera_and_known_cameras(obs: Observatory) -> None:
    fa12 = obs.find_instrument("fa12")
    assert fa12 is not None
    assert refused(obs, lambda: obs.update("instruments", fa12.id, {"science_camera_ids": []})) == {
        "science_camera_ids": ["An instrument needs at least one science camera."]
    }
    assert refused(obs, lambda: obs.update("instruments", fa12.id, {"autoguider_camera_id": 999})) == {
        "autoguider_camera_id": ["Camera 999 does not exist."]
    }


def test_a_malformed_validation_schema_is_refused_with_its_path(obs: Observatory) -> None:
    floyds = obs.find_instrument_type("2M0-FLOYDS-SCICAM")
    assert floyds is not None
    schema = {"extra_params": {"type": "dict", "schema": {"bin_x": {"alowed": [1]}}}}
    errors = refused(obs, lambda: obs.update("instrumenttypes", floyds.id, {"validation_schema": schema}))
    assert errors == {
        "validation_schema": ['Invalid validation_schema at extra_params.schema.bin_x: unknown rule "alowed"']
    }


def test_a_refused_put_leaves_the_record_as_it_was(obs: Observatory) -> None:
    ogg = obs.find_site("ogg")
    assert ogg is not None
    errors = refused(obs, lambda: obs.update("sites", ogg.id, {"code": "ogg", "lat": 1.0}, partial=False))
    assert errors == {
        "long": ["This field is required."],
        "elevation": ["This field is required."],
        "timezone": ["This field is required."],
    }


def test_put_resets_omitted_optional_fields_to_their_defaults(obs: Observatory) -> None:
    ogg = obs.find_site("ogg")
    assert ogg is not None
    values = {"code": "ogg", "lat": 20.0, "long": -156.0, "elevation": 3055, "timezone": -10}
    updated = obs.update("sites", ogg.id, values, partial=False)
    assert (updated.id, updated.name, updated.tz) == (ogg.id, "", "Etc/UTC")


def test_the_whole_demo_tree_passes_the_check(obs: Observatory) -> None:
    obs.check()


def test_check_names_the_broken_record_by_kind_and_key() -> None:
    obs = demo_observatory()
    ogg = obs.find_site("ogg")
    assert ogg is not None
    obs.sites[ogg.id] = attrs.evolve(ogg, lat=95.0)
    with pytest.raises(ValidationError) as caught:
        obs.check()
    assert caught.value.errors == {"sites": {str(ogg.id): {"lat": ["Ensure this value is less than or equal to 90."]}}}


# --- Deletes ------------------------------------------------------------------------------------------------------


def test_a_site_with_enclosures_cannot_be_deleted(obs: Observatory) -> None:
    lsc = obs.find_site("lsc")
    assert lsc is not None
    assert conflict(obs, lambda: obs.delete("sites", lsc.id)) == 'Site "lsc" still has 3 enclosures; delete them first'


def test_a_telescope_with_instruments_cannot_be_deleted(obs: Observatory) -> None:
    telescope = obs.find_telescope("lsc", "doma", "1m0a")
    assert telescope is not None
    message = conflict(obs, lambda: obs.delete("telescopes", telescope.id))
    assert message == 'Telescope "lsc.doma.1m0a" still has 2 instruments; delete them first'


def test_a_camera_still_used_by_an_instrument_cannot_be_deleted(obs: Observatory) -> None:
    camera = obs.find_camera("fa12")
    assert camera is not None
    message = conflict(obs, lambda: obs.delete("cameras", camera.id))
    assert message == 'Camera "fa12" is still used by 1 instrument (coj.doma.1m0a.fa12); change or delete them first'


def test_an_optical_element_still_in_a_group_cannot_be_deleted(obs: Observatory) -> None:
    v = next(e for e in obs.optical_elements.values() if e.code == "V")
    message = conflict(obs, lambda: obs.delete("opticalelements", v.id))
    assert message.startswith('Optical element "V" is still used by 3 optical element groups')


def test_the_default_configuration_type_row_cannot_be_deleted(obs: Observatory) -> None:
    floyds = obs.find_instrument_type("2M0-FLOYDS-SCICAM")
    assert floyds is not None
    row = next(r for r in obs.configuration_types_of(floyds.id) if r.configuration_type == "SPECTRUM")
    message = conflict(obs, lambda: obs.delete("configurationtypeproperties", row.id))
    assert "is not offered by 2M0-FLOYDS-SCICAM" in message


def test_deleting_a_missing_record_is_not_found(obs: Observatory) -> None:
    with pytest.raises(NotFoundError):
        obs.delete("sites", 999)


def test_an_empty_telescope_can_be_deleted(obs: Observatory) -> None:
    telescope = obs.find_telescope("elp", "domb", "1m0a")
    assert telescope is not None
    obs.delete("telescopes", telescope.id)
    assert obs.find_telescope("elp", "domb", "1m0a") is None


def test_deleting_an_unused_instrument_type_takes_its_modes_and_configuration_types(obs: Observatory) -> None:
    nres = obs.find_instrument_type("1M0-NRES-SCICAM")
    assert nres is not None
    for instrument in [i for i in obs.instruments.values() if i.instrument_type_id == nres.id]:
        obs.delete("instruments", instrument.id)
    obs.delete("instrumenttypes", nres.id)
    assert obs.configuration_types_of(nres.id) == []
    assert obs.mode_groups_of(nres.id) == []
    assert all(m.group_id in obs.mode_groups for m in obs.modes.values())


# --- Composite writes (2.5) ---------------------------------------------------------------------------------------


def test_a_group_created_with_elements_reuses_existing_codes_and_creates_new_ones(obs: Observatory) -> None:
    before = len(obs.optical_elements)
    values = {
        "name": "Special",
        "type": "filters",
        "default": "V",
        "optical_elements": [{"code": "V", "name": "ignored"}, {"code": "Ha-wide", "name": "Wide H-alpha"}],
    }
    group = obs.create("opticalelementgroups", values)
    codes = [obs.optical_elements[e].code for e in group.element_ids]
    assert codes == ["V", "Ha-wide"]
    assert len(obs.optical_elements) == before + 1


def test_a_refused_group_write_creates_no_elements(obs: Observatory) -> None:
    values = {
        "name": "Special",
        "type": "filters",
        "default": "zz",
        "optical_elements": [{"code": "Ha-wide", "name": "Wide H-alpha"}],
    }
    errors = refused(obs, lambda: obs.create("opticalelementgroups", values))
    assert errors == {"non_field_errors": ['Default optical element "zz" is not a member of group "Special"']}


def test_a_bad_element_in_a_group_write_is_reported_at_its_index(obs: Observatory) -> None:
    values = {"name": "Special", "type": "filters", "optical_elements": [{"code": "V"}, {"code": "new"}]}
    errors = refused(obs, lambda: obs.create("opticalelementgroups", values))
    assert errors == {"optical_elements": [{}, {"name": ["This field is required."]}]}


def test_configuration_types_supplied_on_update_replace_the_rows_keeping_ids_of_kept_codes(obs: Observatory) -> None:
    floyds = obs.find_instrument_type("2M0-FLOYDS-SCICAM")
    assert floyds is not None
    spectrum = next(r for r in obs.configuration_types_of(floyds.id) if r.configuration_type == "SPECTRUM")
    rows = [{"configuration_type": "SPECTRUM", "config_change_overhead": 5.0}, {"configuration_type": "ARC"}]
    obs.update("instrumenttypes", floyds.id, {"configuration_types": rows})
    after = obs.configuration_types_of(floyds.id)
    assert [r.configuration_type for r in after] == ["SPECTRUM", "ARC"]
    assert after[0].id == spectrum.id
    assert after[0].config_change_overhead == 5.0


def test_a_duplicate_configuration_type_pair_is_refused(obs: Observatory) -> None:
    floyds = obs.find_instrument_type("2M0-FLOYDS-SCICAM")
    assert floyds is not None
    values = {"instrument_type_id": floyds.id, "configuration_type": "ARC"}
    errors = refused(obs, lambda: obs.create("configurationtypeproperties", values))
    assert errors == {"non_field_errors": ["The fields instrument_type, configuration_type must make a unique set."]}


def test_an_instrument_type_is_created_with_its_configuration_types(obs: Observatory) -> None:
    values = {
        "code": "1M0-NEW",
        "name": "New",
        "instrument_category": "IMAGE",
        "default_configuration_type": "EXPOSE",
        "configuration_types": [{"configuration_type": "EXPOSE"}, {"configuration_type": "BIAS", "schedulable": False}],
    }
    itype = obs.create("instrumenttypes", values)
    assert [r.configuration_type for r in obs.configuration_types_of(itype.id)] == ["EXPOSE", "BIAS"]


def test_an_unknown_configuration_type_in_a_nested_row_is_reported_at_its_index(obs: Observatory) -> None:
    values = {
        "code": "1M0-NEW",
        "name": "New",
        "instrument_category": "IMAGE",
        "default_configuration_type": "EXPOSE",
        "configuration_types": [{"configuration_type": "EXPOSE"}, {"configuration_type": "NOPE"}],
    }
    errors = refused(obs, lambda: obs.create("instrumenttypes", values))
    assert errors == {
        "configuration_types": [{}, {"configuration_type": ['Configuration type "NOPE" does not exist.']}]
    }


def test_a_mode_group_is_created_with_its_modes(obs: Observatory) -> None:
    sinistro = obs.find_instrument_type("1M0-SCICAM-SINISTRO")
    assert sinistro is not None
    values = {
        "instrument_type_id": sinistro.id,
        "type": "rotator",
        "default": "SKY",
        "modes": [{"code": "SKY", "name": "Sky"}, {"code": "FLOAT", "overhead": 1}],
    }
    group = obs.create("genericmodegroups", values)
    assert [m.code for m in obs.modes_of(group.id)] == ["SKY", "FLOAT"]
    assert obs.modes_of(group.id)[1].overhead == 1.0


def test_a_mode_group_without_modes_is_refused(obs: Observatory) -> None:
    sinistro = obs.find_instrument_type("1M0-SCICAM-SINISTRO")
    assert sinistro is not None
    errors = refused(
        obs, lambda: obs.create("genericmodegroups", {"instrument_type_id": sinistro.id, "type": "rotator"})
    )
    assert errors == {"modes": ["The rotator mode group of 1M0-SCICAM-SINISTRO has no modes"]}


def test_mode_ids_move_existing_modes_into_a_group(obs: Observatory) -> None:
    sinistro = obs.find_instrument_type("1M0-SCICAM-SINISTRO")
    assert sinistro is not None
    guiding = next(g for g in obs.mode_groups_of(sinistro.id) if g.type == "guiding")
    on = next(m for m in obs.modes_of(guiding.id) if m.code == "ON")
    group = obs.create("genericmodegroups", {"instrument_type_id": sinistro.id, "type": "rotator", "mode_ids": [on.id]})
    assert [m.id for m in obs.modes_of(group.id)] == [on.id]


# --- Reads -------------------------------------------------------------------------------------------------------


def test_the_first_hosting_telescope_follows_canonical_order(obs: Observatory) -> None:
    expected = {
        "1M0-SCICAM-SINISTRO": "coj.doma.1m0a",
        "2M0-FLOYDS-SCICAM": "coj.clma.2m0a",
        "0M4-SCICAM-QHY600": "coj.clma.0m4a",
        "1M0-NRES-SCICAM": "cpt.domc.1m0a",
    }
    for code, path in expected.items():
        itype = obs.find_instrument_type(code.lower())
        assert itype is not None
        telescope = obs.first_telescope_hosting(itype.id)
        assert telescope is not None
        assert obs.telescope_path(telescope) == path


def test_instrument_type_codes_on_a_telescope_include_disabled_instruments(obs: Observatory) -> None:
    tlv = obs.find_telescope("tlv", "doma", "1m0a")
    assert tlv is not None
    assert obs.instrument_type_codes_on(tlv.id) == {"1M0-SCICAM-SINISTRO", "1M0-NRES-SCICAM"}


def test_nested_reads_are_in_canonical_order(obs: Observatory) -> None:
    assert [s.code for s in obs.sorted_sites()] == ["coj", "cpt", "elp", "lsc", "ogg", "tfn", "tlv"]
    coj = obs.find_site("coj")
    assert coj is not None
    assert [e.code for e in obs.enclosures_of(coj.id)] == ["clma", "doma", "domb"]
    telescope = obs.find_telescope("coj", "domb", "1m0a")
    assert telescope is not None
    assert [i.code for i in obs.instruments_of(telescope.id)] == ["fa07", "fa19"]
    floyds01 = obs.find_instrument("floyds01")
    assert floyds01 is not None
    assert obs.instrument_path(floyds01) == "ogg.clma.2m0a.floyds01"
