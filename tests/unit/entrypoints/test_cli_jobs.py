"""``obsnet jobs expire`` over an SQLite file: requests whose windows ended become WINDOW_EXPIRED, others stay."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from click.testing import CliRunner

from application.ports import RequestGroupQuery
from domain.accounts import User
from domain.proposals import Proposal
from domain.requestgroups import (
    Configuration,
    InstrumentConfig,
    Location,
    Request,
    RequestGroup,
    RequestState,
    Target,
    Window,
)
from entrypoints.cli import main
from entrypoints.config import Settings
from entrypoints.container import build_container, upgrade_database

ENV = {"OBSNET_DATABASE_URL": ""}


def _group(name: str, window_end: datetime) -> RequestGroup:
    configuration = Configuration(
        "1M0-SCICAM-SINISTRO", "EXPOSE", [InstrumentConfig(10, 1)], Target.icrs("star", 10.0, 10.0)
    )
    request = Request.create(
        [configuration],
        windows=[Window(window_end - timedelta(days=1), window_end)],
        location=Location("1m0"),
        duration=100,
    )
    return RequestGroup.submit(
        proposal="P1",
        submitter="pi",
        name=name,
        observation_type="NORMAL",
        operator="SINGLE",
        ipp_value=1.0,
        requests=[request],
        now=window_end - timedelta(days=2),
    )


def test_jobs_expire_expires_only_ended_windows_and_says_how_many(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'jobs.sqlite3'}"
    container = build_container(Settings(database_url=url))
    upgrade_database(container)
    now = datetime.now(UTC)
    with container.uow_factory()() as uow:
        pi = User(None, "pi", "hash")
        uow.users.add(pi)
        uow.proposals.add(Proposal.open("P1", {}, [pi.id or 0], now))
        uow.request_groups.add(_group("ended", now - timedelta(hours=1)))
        uow.request_groups.add(_group("running", now + timedelta(days=3)))
        uow.commit()

    result = CliRunner().invoke(main, ["jobs", "expire", "--database-url", url], env=ENV)
    assert result.exit_code == 0, result.output
    assert "expired 1 request whose windows have ended" in result.output
    with container.uow_factory()() as uow:
        states = {g.name: g.state for g in uow.request_groups.search(RequestGroupQuery())[1]}
    assert states == {"ended": RequestState.WINDOW_EXPIRED, "running": RequestState.PENDING}

    again = CliRunner().invoke(main, ["jobs", "expire", "--database-url", url], env=ENV)
    assert "expired 0 requests" in again.output


def test_a_malformed_setting_is_one_line_and_exit_1_not_a_traceback(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'obsnet.sqlite3'}"
    env = {**ENV, "OBSNET_THROTTLE_RATES": "create=lots"}
    result = CliRunner().invoke(main, ["jobs", "expire", "--database-url", url], env=env)
    assert result.exit_code == 1
    assert result.output.startswith("Error: bad setting: bad throttle rate 'lots'")
    assert "Traceback" not in result.output
    assert not (tmp_path / "obsnet.sqlite3").exists()
