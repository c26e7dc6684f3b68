"""Fixtures of the end-to-end tests."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest


@pytest.fixture
def postgres_url() -> str:
    url = os.environ.get("OBSNET_TEST_DATABASE_URL")
    if not url:
        pytest.skip("set OBSNET_TEST_DATABASE_URL to run the PostgreSQL tests")
    return url


@pytest.fixture
def postgres_schema_url(postgres_url: str) -> Iterator[str]:
    """A URL whose connections work in a fresh schema of the test database, dropped afterwards."""
    import sqlalchemy

    schema = f"e2e_{uuid.uuid4().hex[:12]}"
    engine = sqlalchemy.create_engine(postgres_url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as connection:
        connection.execute(sqlalchemy.text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in postgres_url else "?"
    try:
        yield f"{postgres_url}{separator}options=-csearch_path%3D{schema}"
    finally:
        with engine.begin() as connection:
            connection.execute(sqlalchemy.text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()
