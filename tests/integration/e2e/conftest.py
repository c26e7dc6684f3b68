"""Fixtures of the end-to-end tests."""

from __future__ import annotations

import os

import pytest


@pytest.fixture
def postgres_url() -> str:
    url = os.environ.get("OBSNET_TEST_DATABASE_URL")
    if not url:
        pytest.skip("set OBSNET_TEST_DATABASE_URL to run the PostgreSQL tests")
    return url
