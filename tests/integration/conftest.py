"""Storage backends for the integration tests: every port's contract runs against memory, SQLite and PostgreSQL.

Fixtures (available to every test under ``tests/integration``):

* ``backend_name``: "memory", "sqlite" or "postgres" (parametrised; the postgres one carries the ``postgres``
  mark and is skipped with a reason when ``OBSNET_TEST_DATABASE_URL`` is unset).
* ``backend``: a ``Backend`` for that name: ``backend.uow_factory()`` gives a fresh unit of work over one
  shared, migrated, empty store; ``backend.engine`` is the SQLAlchemy engine (None for memory).
* ``uow_factory``: just ``backend.uow_factory``, for tests that only speak the ports.
* ``sample_observatory``: a hand-built observatory with every kind of record (two sites, shared cameras,
  ordered id tuples, validation schemas), version 0, for saving into an empty store.
* ``sql_backend_name`` / ``sql_backend`` / ``sql_engine``: as above but SQL backends only ("sqlite",
  "postgres"), for tests of the SQLAlchemy adapters themselves (migrations, caching, foreign keys);
  ``sql_engine`` is a migrated engine without a unit of work around it.

Helpers for tests that need a store outside these fixtures (several stores in one test, other test trees):

* ``open_backend(name, tmp_path) -> ContextManager[Backend]``: builds, migrates and finally tears down one
  store ("memory", "sqlite" in a file under ``tmp_path``, or "postgres" in a schema of its own).
* ``postgres_engine() -> ContextManager[Engine]``: an engine on a fresh, empty PostgreSQL schema that is
  dropped afterwards (not migrated); skips the test when ``OBSNET_TEST_DATABASE_URL`` is unset.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import attrs
import pytest
import sqlalchemy as sa

from adapters.memory import InMemoryUnitOfWork, MemoryStore
from adapters.sqlalchemy.migrate import upgrade
from adapters.sqlalchemy.uow import SqlAlchemyUnitOfWork, make_engine, make_session_factory
from application.ports import UnitOfWork
from domain.observatory import (
    AutoguiderType,
    Camera,
    CameraType,
    ConfigurationType,
    ConfigurationTypeProperties,
    Enclosure,
    GenericMode,
    GenericModeGroup,
    Instrument,
    InstrumentCategory,
    InstrumentState,
    InstrumentType,
    ModeType,
    Observatory,
    OpticalElement,
    OpticalElementGroup,
    Site,
    Telescope,
)

DATABASE_URL_VARIABLE = "OBSNET_TEST_DATABASE_URL"
POSTGRES_SKIP_REASON = f"set {DATABASE_URL_VARIABLE} to run the PostgreSQL tests"

BACKENDS = [
    pytest.param("memory", id="memory"),
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
]
SQL_BACKENDS = BACKENDS[1:]


@attrs.frozen
class Backend:
    """One empty store and the way to open units of work on it."""

    name: str
    uow_factory: Callable[[], UnitOfWork]
    engine: sa.Engine | None = None


@contextmanager
def postgres_engine() -> Iterator[sa.Engine]:
    """An engine whose connections live in a new schema, dropped (with everything in it) at the end."""
    url = os.environ.get(DATABASE_URL_VARIABLE)
    if not url:
        pytest.skip(POSTGRES_SKIP_REASON)
    schema = f"test_{secrets.token_hex(6)}"
    admin = make_engine(url)
    try:
        with admin.begin() as connection:
            connection.execute(sa.text(f"CREATE SCHEMA {schema}"))
        engine = make_engine(url, search_path=schema)
        try:
            yield engine
        finally:
            engine.dispose()
            with admin.begin() as connection:
                connection.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
    finally:
        admin.dispose()


@contextmanager
def sql_engine_for(name: str, tmp_path: Path) -> Iterator[sa.Engine]:
    """An engine on an empty database of this SQL backend (not migrated)."""
    if name == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'obsnet.sqlite3'}")
        try:
            yield engine
        finally:
            engine.dispose()
    elif name == "postgres":
        with postgres_engine() as engine:
            yield engine
    else:
        raise ValueError(f"not an SQL backend: {name!r}")


@contextmanager
def open_backend(name: str, tmp_path: Path) -> Iterator[Backend]:
    """A migrated, empty store of the named backend, torn down on exit."""
    if name == "memory":
        store = MemoryStore()
        yield Backend(name, lambda: InMemoryUnitOfWork(store))
        return
    with sql_engine_for(name, tmp_path) as engine:
        upgrade(engine)
        session_factory = make_session_factory(engine)
        yield Backend(name, lambda: SqlAlchemyUnitOfWork(session_factory), engine)


@pytest.fixture(params=BACKENDS)
def backend_name(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


@pytest.fixture
def backend(backend_name: str, tmp_path: Path) -> Iterator[Backend]:
    with open_backend(backend_name, tmp_path) as opened:
        yield opened


@pytest.fixture
def uow_factory(backend: Backend) -> Callable[[], UnitOfWork]:
    return backend.uow_factory


@pytest.fixture(params=SQL_BACKENDS)
def sql_backend_name(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


@pytest.fixture
def sql_backend(sql_backend_name: str, tmp_path: Path) -> Iterator[Backend]:
    with open_backend(sql_backend_name, tmp_path) as opened:
        yield opened


@pytest.fixture
def sql_engine(sql_backend_name: str, tmp_path: Path) -> Iterator[sa.Engine]:
    with sql_engine_for(sql_backend_name, tmp_path) as engine:
        upgrade(engine)
        yield engine


def build_sample_observatory() -> Observatory:
    """Two sites, an imager and a spectrograph, every kind of record and the awkward values storage must keep."""
    obs = Observatory()

    def put(kind: str, *records: object) -> None:
        for record in records:
            key = "code" if kind in ("instrumentcategories", "configurationtypes") else "id"
            obs.table(kind)[getattr(record, key)] = record

    put("modetypes", *(ModeType(name) for name in ("readout", "acquisition", "guiding", "exposure", "rotator")))
    put("instrumentcategories", InstrumentCategory("IMAGE"), InstrumentCategory("SPECTRA"))
    put(
        "configurationtypes",
        ConfigurationType("EXPOSE", "Exposure"),
        ConfigurationType("SPECTRUM", "Spectrum"),
        ConfigurationType("ARC", "Arc"),
    )
    put(
        "opticalelements",
        OpticalElement(1, "V", "Bessell-V"),
        OpticalElement(2, "rp", "SDSS-r'"),
        OpticalElement(3, "air", "Air", schedulable=False),
        OpticalElement(4, "slit_2.0as", "2.0 arcsec slit"),
    )
    put(
        "opticalelementgroups",
        # Members out of id order: the stored order is the group's order, not the ids'.
        OpticalElementGroup(10, "Sinistro filters", "filters", (2, 1, 3), default="rp", element_change_overhead=2.5),
        OpticalElementGroup(11, "FLOYDS slits", "slits", (4,)),
    )
    put(
        "cameratypes",
        CameraType(20, "1M0-SCICAM-SINISTRO", "Sinistro", 0.389, "26.5x26.5", 4096, 4096, 1),
        CameraType(21, "2M0-FLOYDS-SCICAM", "FLOYDS", 0.337, pixels_x=2048, pixels_y=512),
    )
    put(
        "cameras",
        Camera(30, "fa12", 20, orientation=90.0, host="inst.1m0a.doma.lsc", optical_element_group_ids=(10,)),
        Camera(31, "ef12", 20),
        Camera(32, "en06", 21, optical_element_group_ids=(11, 10)),
    )
    readout_schema = {"bin_x": {"type": "integer", "allowed": [1, 2], "default": 1}, "extra": {"nullable": True}}
    put(
        "instrumenttypes",
        InstrumentType(
            40,
            "1M0-SCICAM-SINISTRO",
            "Sinistro",
            "IMAGE",
            "EXPOSE",
            fixed_overhead_per_exposure=1.5,
            validation_schema={"extra_params": {"type": "dict", "schema": {"defocus": {"min": -5.0, "max": 5.0}}}},
        ),
        InstrumentType(41, "2M0-FLOYDS-SCICAM", "FLOYDS", "SPECTRA", "SPECTRUM", allow_self_guiding=False),
    )
    put(
        "configurationtypeproperties",
        ConfigurationTypeProperties(50, 40, "EXPOSE"),
        ConfigurationTypeProperties(51, 41, "SPECTRUM", requires_optical_elements=True),
        ConfigurationTypeProperties(
            52,
            41,
            "ARC",
            config_change_overhead=30.0,
            schedulable=False,
            force_acquisition_off=True,
            validation_schema={"exposure_time": {"type": "float", "max": 60}},
        ),
    )
    put(
        "genericmodegroups",
        GenericModeGroup(60, 40, "readout", default="full_frame"),
        GenericModeGroup(61, 41, "acquisition"),
    )
    put(
        "genericmodes",
        GenericMode(70, 60, "full_frame", "Full Frame", overhead=28.0, validation_schema=readout_schema),
        GenericMode(71, 60, "central_2k_2x2", "Central 2k, 2x2", overhead=11.0, schedulable=False),
        GenericMode(72, 61, "WCS", overhead=0.0, validation_schema={"exposure_time": {"type": "number"}}),
    )
    put(
        "sites",
        Site(80, "lsc", -30.1673833333, -70.8047888889, 2198, -4, "Cerro Tololo", tz="America/Santiago"),
        Site(81, "ogg", 20.7069444444, -156.258055556, 3055, -10, active=False, restart="12:30:00"),
    )
    put("enclosures", Enclosure(90, 80, "doma", "Dome A"), Enclosure(91, 81, "clma", active=False))
    put(
        "telescopes",
        Telescope(100, 90, "1m0a", 1.0, -30.1673, -70.8047, 15.0, -4.6, 4.6, maximum_slew_overhead=240.0),
        Telescope(101, 91, "2m0a", 2.0, 20.7069, -156.2575, 25.0, -12.0, 12.0, name="FTN", zenith_blind_spot=1.5),
    )
    put(
        "instruments",
        Instrument(110, 100, "fa12", 40, (30,), 30, InstrumentState.SCHEDULABLE, AutoguiderType.SELF_GUIDE),
        Instrument(111, 101, "floyds01", 41, (32, 31), 31, InstrumentState.COMMISSIONING),
    )
    return obs


@pytest.fixture
def sample_observatory() -> Observatory:
    return build_sample_observatory()
