"""The demo seeding: LCO semesters around the clock's today, the demo proposals on every schedulable instrument
type, demo users, and loading again adds only what is missing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import attrs
import pytest
from dependency_injector import providers

from adapters.clock import FixedClock
from application.handlers.accounts import CreateUser
from application.observatory_views import schedulable_instrument_types
from domain.observatory import InstrumentState
from entrypoints.config import Settings
from entrypoints.container import Container, build_container
from entrypoints.demo import CI_LIMIT_S, demo_document, demo_semesters, lco_semester, load_demo
from tests.unit.domain.test_downtime import small_observatory

DEMO_TYPES = ["0M4-SCICAM-QHY600", "1M0-NRES-SCICAM", "1M0-SCICAM-SINISTRO", "2M0-FLOYDS-SCICAM", "2M0-SCICAM-MUSCAT"]


def demo_container(now: datetime) -> tuple[Container, FixedClock]:
    container = build_container(Settings(database_url="memory", password_hash_time_cost=1))
    clock = FixedClock(now)
    container.clock.override(providers.Object(clock))
    return container, clock


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (datetime(2027, 1, 31, 23, 59, tzinfo=UTC), ("2026B", datetime(2026, 8, 1, tzinfo=UTC))),
        (datetime(2027, 2, 1, tzinfo=UTC), ("2027A", datetime(2027, 2, 1, tzinfo=UTC))),
        (datetime(2027, 7, 31, 12, tzinfo=UTC), ("2027A", datetime(2027, 2, 1, tzinfo=UTC))),
        (datetime(2027, 8, 1, tzinfo=UTC), ("2027B", datetime(2027, 8, 1, tzinfo=UTC))),
        (datetime(2027, 12, 31, tzinfo=UTC), ("2027B", datetime(2027, 8, 1, tzinfo=UTC))),
    ],
)
def test_lco_semesters_run_february_to_august_and_august_to_february(
    moment: datetime, expected: tuple[str, datetime]
) -> None:
    semester_id, start, end = lco_semester(moment)
    assert (semester_id, start) == expected
    assert start <= moment < end
    assert end in (datetime(start.year, 8, 1, tzinfo=UTC), datetime(start.year + 1, 2, 1, tzinfo=UTC))


def test_the_demo_semesters_are_the_current_one_and_the_next() -> None:
    assert [s[0] for s in demo_semesters(datetime(2027, 1, 10, tzinfo=UTC))] == ["2026B", "2027A"]
    assert [s[0] for s in demo_semesters(datetime(2027, 5, 10, tzinfo=UTC))] == ["2027A", "2027B"]
    current, following = demo_semesters(datetime(2027, 5, 10, tzinfo=UTC))
    assert current[2] == following[1]


def test_only_schedulable_instruments_on_active_sites_enclosures_and_telescopes_offer_their_type() -> None:
    obs = small_observatory()
    nres = "1M0-NRES-SCICAM"  # COMMISSIONING at lsc, DISABLED at the inactive site tlv
    assert schedulable_instrument_types(obs) == sorted(t for t in DEMO_TYPES if t != nres)

    def make_schedulable(code: str) -> None:
        instrument = next(i for i in obs.instruments.values() if i.code == code)
        obs.instruments[instrument.id] = attrs.evolve(instrument, state=InstrumentState.SCHEDULABLE)

    make_schedulable("nres04")  # on the inactive site: still not offered
    assert nres not in schedulable_instrument_types(obs)
    make_schedulable("nres01")
    assert nres in schedulable_instrument_types(obs)
    lsc = obs.find_enclosure("lsc", "doma")
    assert lsc is not None
    obs.enclosures[lsc.id] = attrs.evolve(lsc, active=False)
    assert nres not in schedulable_instrument_types(obs)
    for telescope in list(obs.telescopes.values()):
        obs.telescopes[telescope.id] = attrs.evolve(telescope, active=False)
    assert schedulable_instrument_types(obs) == []


def test_the_demo_seeds_semesters_proposals_members_and_an_allocation_per_schedulable_type() -> None:
    container, _ = demo_container(datetime(2026, 11, 20, 12, tzinfo=UTC))
    lines = load_demo(container)
    for credential in ("demo / demo ", "demo-ci / demo-ci ", "other / other ", "admin / admin "):
        assert any(line.strip().startswith(credential) for line in lines), (credential, lines)
    with container.uow_factory()() as uow:
        assert schedulable_instrument_types(uow.observatory.get()) == DEMO_TYPES
        assert [(s.id, s.start, s.end) for s in uow.semesters.all()] == [
            ("2027A", datetime(2027, 2, 1, tzinfo=UTC), datetime(2027, 8, 1, tzinfo=UTC)),
            ("2026B", datetime(2026, 8, 1, tzinfo=UTC), datetime(2027, 2, 1, tzinfo=UTC)),
        ]
        found = {name: uow.users.get_by_username(name) for name in ("demo", "demo-ci", "other", "admin")}
        demo, other = uow.proposals.get("DEMO-001"), uow.proposals.get("OTHER-001")
    users = {name: user for name, user in found.items() if user is not None}
    assert sorted(users) == sorted(found)
    assert users["admin"].is_staff
    assert users["admin"].staff_view
    assert users["demo-ci"].email == "demo-ci@example.org"
    assert demo is not None
    assert other is not None
    assert demo.title == "Demo proposal"
    assert demo.active
    assert demo.pi_ids() == [users["demo"].id]
    ci = demo.membership_of(users["demo-ci"].id)
    assert ci is not None
    assert ci.role.value == "CI"
    assert ci.time_limit_s == CI_LIMIT_S
    assert other.pi_ids() == [users["other"].id]
    assert other.membership_of(users["demo"].id) is None
    for proposal in (demo, other):
        for semester_id in ("2026B", "2027A"):
            allocations = proposal.allocations_in(semester_id)
            assert sorted(code for a in allocations for code in a.instrument_types) == DEMO_TYPES
            assert all(len(a.instrument_types) == 1 for a in allocations)
            assert {(a.std_allocation, a.rr_allocation, a.tc_allocation, a.ipp_limit, a.ipp_time_available)
                    for a in allocations} == {(100.0, 10.0, 10.0, 10.0, 5.0)}  # fmt: skip


def test_loading_the_demo_again_adds_nothing_and_a_later_semester_adds_only_its_own() -> None:
    container, clock = demo_container(datetime(2026, 11, 20, 12, tzinfo=UTC))
    load_demo(container)

    def snapshot() -> tuple[list[str], list[tuple[str, int, int]], int]:
        with container.uow_factory()() as uow:
            semesters = [s.id for s in uow.semesters.all()]
            proposals = sorted((p.id, len(p.memberships), len(p.allocations)) for p in uow.proposals.all())
            users = len(uow.users.get_many(range(1, 100)))
        return semesters, proposals, users

    first = snapshot()
    assert first == (["2027A", "2026B"], [("DEMO-001", 2, 10), ("OTHER-001", 1, 10)], 4)
    lines = load_demo(container)
    assert snapshot() == first
    assert "demo users: all present" in lines

    # Restarted months later: the new "next" semester arrives with its allocations, nothing else doubles.
    clock.advance(timedelta(days=120))
    load_demo(container)
    assert snapshot() == (["2027B", "2027A", "2026B"], [("DEMO-001", 2, 15), ("OTHER-001", 1, 15)], 4)


def test_an_admin_from_an_earlier_demo_gets_staff_view_switched_on() -> None:
    container, _ = demo_container(datetime(2026, 11, 20, 12, tzinfo=UTC))
    container.bus().handle(CreateUser("admin", "admin", email="admin@example.org", is_staff=True))
    lines = load_demo(container)
    assert any("admin (staff view switched on)" in line for line in lines)
    with container.uow_factory()() as uow:
        admin = uow.users.get_by_username("admin")
    assert admin is not None
    assert admin.staff_view


def test_the_shipped_demo_document_offers_all_five_instrument_types() -> None:
    assert len(demo_document()["instrument_types"]) == len(DEMO_TYPES)
