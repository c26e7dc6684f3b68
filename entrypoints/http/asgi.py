"""ASGI entry for process managers (``uvicorn entrypoints.http.asgi:app``); settings from OBSNET_* variables.

This is the only module with import-time side effects; tests never import it.
"""

from __future__ import annotations

from entrypoints.config import Settings
from entrypoints.container import build_container
from entrypoints.http.app import create_app

app = create_app(build_container(Settings.from_env()))
