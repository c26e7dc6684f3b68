"""The Alembic migrations build exactly the schema that adapters.sqlalchemy.tables describes."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from adapters.sqlalchemy.migrate import current_revision, head_revision, upgrade
from adapters.sqlalchemy.tables import metadata


def test_migrated_schema_matches_the_table_definitions(sql_engine: sa.Engine) -> None:
    with sql_engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), metadata)
    assert differences == []


def test_upgrade_records_the_head_revision_and_can_run_again(sql_engine: sa.Engine) -> None:
    assert current_revision(sql_engine) == head_revision()
    upgrade(sql_engine)
    assert current_revision(sql_engine) == head_revision()


def test_migrated_database_starts_at_observatory_version_zero(sql_engine: sa.Engine) -> None:
    with sql_engine.connect() as connection:
        rows = connection.execute(sa.text("SELECT id, version FROM observatory_version")).all()
    assert [tuple(row) for row in rows] == [(1, 0)]


def test_upgrade_accepts_a_url_and_a_new_database_has_no_revision(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'by-url.sqlite3'}"
    engine = sa.create_engine(url)
    try:
        assert current_revision(engine) is None
        upgrade(url)
        assert current_revision(engine) == head_revision()
    finally:
        engine.dispose()


def test_tables_created_from_metadata_also_get_the_version_row(tmp_path: Path) -> None:
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'create-all.sqlite3'}")
    try:
        metadata.create_all(engine)
        with engine.connect() as connection:
            assert connection.execute(sa.text("SELECT version FROM observatory_version")).scalar_one() == 0
    finally:
        engine.dispose()
