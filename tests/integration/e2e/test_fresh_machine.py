"""The fresh-machine check: a wheel built from the checkout, installed into a new virtual environment,
serves the demo from an empty directory. This proves the package ships its data and migrations."""

from __future__ import annotations

import subprocess
import sys
import venv
from pathlib import Path

import pytest

from tests.integration.e2e.support import http, running_server

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[3]


def test_wheel_installed_in_a_new_virtualenv_serves_the_demo_from_an_empty_directory(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", str(wheels), str(ROOT)],
        check=True,
    )
    (wheel,) = wheels.glob("obsnet-*.whl")
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = env_dir / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", str(wheel)], check=True)

    empty = tmp_path / "empty"
    empty.mkdir()
    with running_server("--demo", cwd=empty, executable=str(env_dir / "bin" / "obsnet")) as base:
        status, sites = http("GET", f"{base}/configdb/sites/")
    assert status == 200
    assert sorted(site["code"] for site in sites["results"]) == ["coj", "cpt", "elp", "lsc", "ogg", "tfn", "tlv"]
    assert (empty / "obsnet.sqlite3").exists()
