"""Contract of ObservatoryRepository: every adapter stores the whole configuration exactly and guards its version."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import attrs
import pytest
import sqlalchemy as sa

from application.ports import UnitOfWork
from domain.errors import ConflictError
from domain.observatory import (
    KINDS,
    Camera,
    InstrumentState,
    InstrumentType,
    ModeType,
    Observatory,
    OpticalElement,
    OpticalElementGroup,
)

if TYPE_CHECKING:
    from conftest import Backend

UowFactory = Callable[[], UnitOfWork]


def save_committed(uow_factory: UowFactory, observatory: Observatory) -> None:
    with uow_factory() as uow:
        uow.observatory.save(observatory)
        uow.commit()


def load(uow_factory: UowFactory) -> Observatory:
    with uow_factory() as uow:
        return uow.observatory.get()


def change(observatory: Observatory, kind: str, key: object, **values: object) -> None:
    table = observatory.table(kind)
    table[key] = attrs.evolve(table[key], **values)


def test_an_empty_store_holds_no_records_at_version_zero(uow_factory: UowFactory) -> None:
    observatory = load(uow_factory)

    assert observatory.version == 0
    assert all(not observatory.table(kind.name) for kind in KINDS)


def test_a_saved_observatory_comes_back_equal_in_a_new_unit_of_work(
    uow_factory: UowFactory, sample_observatory: Observatory
) -> None:
    save_committed(uow_factory, sample_observatory)

    loaded = load(uow_factory)

    assert loaded.version == 1
    for kind in KINDS:
        assert loaded.table(kind.name) == sample_observatory.table(kind.name), kind.name


def test_stored_records_keep_their_types_id_order_and_schemas(
    uow_factory: UowFactory, sample_observatory: Observatory
) -> None:
    save_committed(uow_factory, sample_observatory)

    loaded = load(uow_factory)

    assert loaded.optical_element_groups[10].element_ids == (2, 1, 3)
    assert loaded.instruments[111].science_camera_ids == (32, 31)
    assert loaded.cameras[31].optical_element_group_ids == ()
    assert loaded.instruments[110].state is InstrumentState.SCHEDULABLE
    assert loaded.modes[70].validation_schema == {
        "bin_x": {"type": "integer", "allowed": [1, 2], "default": 1},
        "extra": {"nullable": True},
    }
    assert isinstance(loaded.telescopes[100].aperture, float)
    assert loaded.sites[80].lat == pytest.approx(-30.1673833333, abs=0, rel=1e-15)


def test_saving_bumps_the_version_on_the_saved_object_and_in_storage(
    uow_factory: UowFactory, sample_observatory: Observatory
) -> None:
    with uow_factory() as uow:
        uow.observatory.save(sample_observatory)
        assert sample_observatory.version == 1
        uow.commit()

    with uow_factory() as uow:
        assert uow.observatory.version() == 1


def test_updated_fields_tuples_and_schemas_are_stored(uow_factory: UowFactory, sample_observatory: Observatory) -> None:
    save_committed(uow_factory, sample_observatory)
    observatory = load(uow_factory)
    change(observatory, "telescopes", 100, slew_rate=0.5, active=False)
    change(observatory, "instruments", 111, science_camera_ids=(31, 32), state=InstrumentState.SCHEDULABLE)
    change(observatory, "opticalelementgroups", 10, element_ids=(1, 2), default="V")
    change(observatory, "instrumenttypes", 40, validation_schema={"exposure_time": {"min": 0}})
    change(observatory, "configurationtypes", "ARC", name="Arc lamp")
    save_committed(uow_factory, observatory)

    loaded = load(uow_factory)

    assert loaded.version == 2
    assert loaded.telescopes[100].slew_rate == 0.5
    assert loaded.telescopes[100].active is False
    assert loaded.instruments[111].science_camera_ids == (31, 32)
    assert loaded.instruments[111].state is InstrumentState.SCHEDULABLE
    assert loaded.optical_element_groups[10].element_ids == (1, 2)
    assert loaded.optical_element_groups[10].default == "V"
    assert loaded.instrument_types[40].validation_schema == {"exposure_time": {"min": 0}}
    assert loaded.configuration_types["ARC"].name == "Arc lamp"
    assert loaded.cameras == sample_observatory.cameras


def test_deleted_records_are_removed_with_their_id_lists(
    uow_factory: UowFactory, sample_observatory: Observatory
) -> None:
    save_committed(uow_factory, sample_observatory)
    observatory = load(uow_factory)
    del observatory.instruments[111]
    del observatory.cameras[32]
    del observatory.optical_element_groups[11]
    del observatory.optical_elements[4]
    del observatory.configuration_type_properties[52]
    del observatory.configuration_types["ARC"]
    save_committed(uow_factory, observatory)

    loaded = load(uow_factory)

    assert set(loaded.instruments) == {110}
    assert set(loaded.cameras) == {30, 31}
    assert set(loaded.optical_element_groups) == {10}
    assert set(loaded.optical_elements) == {1, 2, 3}
    assert set(loaded.configuration_types) == {"EXPOSE", "SPECTRUM"}
    for kind in KINDS:
        assert loaded.table(kind.name) == observatory.table(kind.name), kind.name


def test_a_reference_dropped_by_an_update_and_the_deletion_of_its_target_save_together(
    uow_factory: UowFactory, sample_observatory: Observatory
) -> None:
    save_committed(uow_factory, sample_observatory)
    observatory = load(uow_factory)
    change(observatory, "instruments", 111, science_camera_ids=(31,))
    del observatory.cameras[32]
    change(observatory, "cameras", 30, optical_element_group_ids=())
    del observatory.optical_element_groups[10]
    save_committed(uow_factory, observatory)

    loaded = load(uow_factory)

    assert loaded.instruments[111].science_camera_ids == (31,)
    assert set(loaded.cameras) == {30, 31}
    assert set(loaded.optical_element_groups) == {11}


def test_new_records_may_refer_to_each_other_and_to_existing_ones(
    uow_factory: UowFactory, sample_observatory: Observatory
) -> None:
    save_committed(uow_factory, sample_observatory)
    observatory = load(uow_factory)
    observatory.mode_types["polarimetry"] = ModeType("polarimetry")
    observatory.optical_elements[5] = OpticalElement(5, "ip", "SDSS-i'")
    observatory.optical_element_groups[12] = OpticalElementGroup(12, "Spare wheel", "filters", (5, 1))
    observatory.cameras[33] = Camera(33, "fa99", 20, optical_element_group_ids=(12,))
    observatory.instrument_types[42] = InstrumentType(42, "0M4-SCICAM-QHY600", "QHY", "", "")
    save_committed(uow_factory, observatory)

    loaded = load(uow_factory)

    assert loaded.optical_element_groups[12].element_ids == (5, 1)
    assert loaded.cameras[33].optical_element_group_ids == (12,)
    assert loaded.instrument_types[42].instrument_category == ""
    assert loaded.instrument_types[42].default_configuration_type == ""
    assert "polarimetry" in loaded.mode_types


def test_a_record_deleted_and_recreated_under_the_same_key_is_an_update(
    uow_factory: UowFactory, sample_observatory: Observatory
) -> None:
    save_committed(uow_factory, sample_observatory)
    observatory = load(uow_factory)
    observatory.optical_elements[3] = OpticalElement(3, "clear", "Clear")
    save_committed(uow_factory, observatory)

    assert load(uow_factory).optical_elements[3] == OpticalElement(3, "clear", "Clear")


def test_second_writer_from_the_same_version_gets_a_conflict_and_changes_nothing(
    uow_factory: UowFactory, sample_observatory: Observatory
) -> None:
    save_committed(uow_factory, sample_observatory)
    with uow_factory() as first, uow_factory() as second:
        mine = first.observatory.get()
        theirs = second.observatory.get()
        change(mine, "sites", 80, name="first")
        first.observatory.save(mine)
        first.commit()
        change(theirs, "sites", 80, name="second")
        with pytest.raises(ConflictError):
            second.observatory.save(theirs)

    loaded = load(uow_factory)
    assert loaded.version == 2
    assert loaded.sites[80].name == "first"


def test_saving_a_snapshot_older_than_the_stored_one_is_a_conflict(
    uow_factory: UowFactory, sample_observatory: Observatory
) -> None:
    stale = load(uow_factory)
    save_committed(uow_factory, sample_observatory)

    with uow_factory() as uow, pytest.raises(ConflictError):
        uow.observatory.save(stale)


def test_a_save_left_uncommitted_is_discarded(uow_factory: UowFactory, sample_observatory: Observatory) -> None:
    with uow_factory() as uow:
        uow.observatory.save(sample_observatory)

    loaded = load(uow_factory)
    assert loaded.version == 0
    assert not loaded.sites


def test_get_hands_out_independent_copies(uow_factory: UowFactory, sample_observatory: Observatory) -> None:
    save_committed(uow_factory, sample_observatory)
    with uow_factory() as uow:
        first = uow.observatory.get()
        del first.sites[80]
        first.instruments.clear()
        second = uow.observatory.get()

    assert 80 in second.sites
    assert set(second.instruments) == {110, 111}
    assert set(load(uow_factory).instruments) == {110, 111}


def test_a_unit_of_work_sees_its_own_save_and_may_save_again(
    uow_factory: UowFactory, sample_observatory: Observatory
) -> None:
    with uow_factory() as uow:
        uow.observatory.save(sample_observatory)
        again = uow.observatory.get()
        assert again.version == 1
        assert uow.observatory.version() == 1
        assert again.sites == sample_observatory.sites
        change(again, "sites", 81, active=True)
        uow.observatory.save(again)
        uow.commit()

    loaded = load(uow_factory)
    assert loaded.version == 2
    assert loaded.sites[81].active is True


def test_readers_see_a_commit_made_after_they_last_read(
    uow_factory: UowFactory, sample_observatory: Observatory
) -> None:
    assert load(uow_factory).version == 0
    save_committed(uow_factory, sample_observatory)
    observatory = load(uow_factory)
    change(observatory, "sites", 80, name="renamed")
    save_committed(uow_factory, observatory)

    assert load(uow_factory).sites[80].name == "renamed"


# SQL adapters only: what the database itself adds.


def test_repeated_reads_of_one_version_do_not_reload_the_tables(
    sql_backend: Backend, sample_observatory: Observatory
) -> None:
    assert sql_backend.engine is not None
    save_committed(sql_backend.uow_factory, sample_observatory)
    load(sql_backend.uow_factory)
    statements: list[str] = []
    sa.event.listen(sql_backend.engine, "before_cursor_execute", lambda *args: statements.append(args[2]))

    for _ in range(3):
        assert load(sql_backend.uow_factory).sites == sample_observatory.sites

    assert not any("FROM sites" in statement for statement in statements)


def test_the_database_refuses_a_reference_to_a_missing_record(
    sql_backend: Backend, sample_observatory: Observatory
) -> None:
    change(sample_observatory, "instruments", 110, science_camera_ids=(30, 999))

    with sql_backend.uow_factory() as uow, pytest.raises(sa.exc.IntegrityError):
        uow.observatory.save(sample_observatory)
