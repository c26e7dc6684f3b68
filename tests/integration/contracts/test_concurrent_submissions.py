"""Writers racing for one proposal's hours, on every backend: two submissions that together need more IPP than
the allocation holds (api.md B27), and two telescopes reporting on one request at once."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from adapters.clock import FixedClock
from adapters.request_wire import parse_request_group
from application.commands import ReportConfigurationStatus, ScheduleObservations, SubmitRequestGroup
from application.handlers.observations import report_configuration_status, schedule_observations
from application.handlers.requestgroups import submit_request_group
from application.ports import RequestGroupQuery
from domain.accounts import User
from domain.errors import DomainError
from domain.observations import ObservationPlan, StatusState, Summary
from domain.permissions import Actor
from domain.proposals import Proposal, Semester
from domain.requestgroups import RequestState
from tests.integration.conftest import Backend
from tests.reference import P0
from tests.unit.application.test_request_group_handlers import SINISTRO
from tests.unit.domain.observatory_fixtures import demo_observatory

NOW = datetime(2016, 9, 1, tzinfo=UTC)
P0_IPP_HOURS = 226 / 3600


def _world(backend: Backend) -> Actor:
    with backend.uow_factory() as uow:
        uow.observatory.save(demo_observatory())
        user = User(None, "pi", "not-a-hash", email="pi@example.org")
        uow.users.add(user)
        uow.semesters.add(Semester("2016B", NOW, datetime(2016, 12, 31, tzinfo=UTC)))
        proposal = Proposal.open("TEST_PROPOSAL", {}, [user.id or 0], NOW)
        # Room for one P0 at ipp 2.0 (it spends 226 s), not for two.
        hours = {"std_allocation": 100.0, "ipp_limit": 10.0, "ipp_time_available": 1.5 * P0_IPP_HOURS}
        proposal.allocate("2016B", [SINISTRO], hours, [SINISTRO])
        uow.proposals.add(proposal)
        uow.commit()
        return Actor.of(user)


def test_concurrent_submissions_cannot_both_spend_the_last_ipp_hours(backend: Backend) -> None:
    actor = _world(backend)
    command = SubmitRequestGroup(actor, parse_request_group({**P0, "ipp_value": 2.0}, now=NOW))
    clock = FixedClock(NOW)
    start = threading.Barrier(2)
    outcomes: list[Any] = []

    def submit() -> None:
        start.wait()
        try:
            outcomes.append(submit_request_group(command, backend.uow_factory(), clock, None))
        except DomainError as error:
            outcomes.append(error)

    threads = [threading.Thread(target=submit) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    stored = [o for o in outcomes if not isinstance(o, Exception)]
    refused = [o for o in outcomes if isinstance(o, Exception)]
    assert (len(stored), len(refused)) == (1, 1), outcomes
    # The second writer waited (PostgreSQL's row lock, SQLite's write lock, the memory store's lock) and then
    # saw the first one's debit.
    assert "requires more IPP time than you have available" in str(refused[0])
    with backend.uow_factory() as uow:
        proposal = uow.proposals.get("TEST_PROPOSAL")
        assert proposal is not None
        allocation = proposal.allocation_for("2016B", SINISTRO)
        assert allocation is not None
        assert allocation.ipp_time_available == pytest.approx(0.5 * P0_IPP_HOURS)
        count, _ = uow.request_groups.search(RequestGroupQuery())
        assert count == 1


def test_concurrent_reports_on_one_request_complete_it_once_and_charge_both(backend: Backend) -> None:
    """Two telescopes report success on two observations of one request at the same moment: both charges land,
    the request completes once, and the IPP credit of a 0.5 group is paid once (the group lock serialises them)."""
    actor = _world(backend)
    clock = FixedClock(NOW)
    group = submit_request_group(
        SubmitRequestGroup(actor, parse_request_group({**P0, "ipp_value": 0.5}, now=NOW)), backend.uow_factory(), clock
    )
    request = group.requests[0]
    start = datetime(2016, 10, 1, 8, tzinfo=UTC)
    plans = [
        ObservationPlan(request.id or 0, "elp", "doma", "1m0a", start, start + timedelta(seconds=226)),
        ObservationPlan(request.id or 0, "lsc", "doma", "1m0a", start, start + timedelta(seconds=226)),
    ]
    placed = schedule_observations(ScheduleObservations(Actor.operator(), plans), backend.uow_factory(), clock)
    status_ids = [o.configuration_statuses[0].id or 0 for o in placed.created]
    with backend.uow_factory() as uow:
        proposal = uow.proposals.get("TEST_PROPOSAL")
        assert proposal is not None
        allocation = proposal.allocation_for("2016B", SINISTRO)
        assert allocation is not None
        ipp_before = allocation.ipp_time_available
    summary = Summary(start, start + timedelta(seconds=226), "COMPLETED", 100)
    barrier = threading.Barrier(2)
    failures: list[BaseException] = []

    def report(status_id: int) -> None:
        barrier.wait()
        command = ReportConfigurationStatus(Actor.operator(), status_id, StatusState.COMPLETED, summary)
        try:
            report_configuration_status(command, backend.uow_factory(), clock, 0)
        except BaseException as error:
            failures.append(error)

    threads = [threading.Thread(target=report, args=(status_id,)) for status_id in status_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert failures == []
    with backend.uow_factory() as uow:
        stored = uow.request_groups.get(group.id or 0)
        assert stored is not None
        assert (stored.state, stored.requests[0].state) == (RequestState.COMPLETED, RequestState.COMPLETED)
        proposal = uow.proposals.get("TEST_PROPOSAL")
        assert proposal is not None
        allocation = proposal.allocation_for("2016B", SINISTRO)
        assert allocation is not None
        assert allocation.std_time_used == pytest.approx(2 * 226 / 3600)
        assert allocation.ipp_time_available - ipp_before == pytest.approx(0.5 * P0_IPP_HOURS)
