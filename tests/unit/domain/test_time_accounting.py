"""Allocation checks, IPP and their movements (requests.md 5) on the reference numbers of 8.4."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.duration import AllocationKey
from domain.proposals import Proposal
from domain.requestgroups import ObservationType, RequestState, Window
from domain.time_accounting import (
    check_ipp,
    check_time_allocations,
    ipp_change_factor,
    ipp_hours,
    max_allowable_ipp,
    move_ipp,
    summed_ipp_hours,
)

NOW = datetime(2016, 9, 1, tzinfo=UTC)
SINISTRO = "1M0-SCICAM-SINISTRO"
KEY = AllocationKey("2016B", SINISTRO)
P0_SHARE = {KEY: 225.5}  # P0's unrounded Sinistro share: its request duration is 226 s
WINDOW = Window(datetime(2016, 9, 29, 21, 12, 18, tzinfo=UTC), datetime(2016, 10, 29, 21, 12, 19, tzinfo=UTC))
NORMAL = ObservationType.NORMAL


def proposal(**hours: float) -> Proposal:
    p = Proposal.open("TEST_PROPOSAL", {}, [1], NOW)
    values = {"std_allocation": 100.0, "rr_allocation": 10.0, "tc_allocation": 10.0, "ipp_limit": 10.0}
    values["ipp_time_available"] = 5.0
    values.update(hours)
    p.allocate("2016B", [SINISTRO], values, [SINISTRO])
    return p


def test_p0_fits_the_reference_allocation() -> None:
    assert check_time_allocations(proposal(), P0_SHARE, NORMAL, [WINDOW], NOW) == []


def test_t13_not_enough_time_even_with_the_overuse_allowance() -> None:
    assert check_time_allocations(proposal(std_allocation=0.05), P0_SHARE, NORMAL, [WINDOW], NOW) == [
        "Proposal TEST_PROPOSAL does not have enough NORMAL time allocated in semester 2016B"
    ]


def test_t14_the_allowance_of_ten_percent_lets_a_tight_request_in() -> None:
    assert check_time_allocations(proposal(std_allocation=0.06), P0_SHARE, NORMAL, [WINDOW], NOW) == []


def test_t15_no_time_left() -> None:
    assert check_time_allocations(proposal(std_time_used=100.0), P0_SHARE, NORMAL, [WINDOW], NOW) == [
        "Proposal TEST_PROPOSAL does not have any NORMAL time left allocated in semester 2016B on "
        "1M0-SCICAM-SINISTRO instruments"
    ]


def test_t16_no_allocation_on_the_type() -> None:
    (message,) = check_time_allocations(proposal(), {AllocationKey("2016B", "2M0-FLOYDS-SCICAM"): 500}, NORMAL, [], NOW)
    assert "You do not have sufficient NORMAL time allocated on the instrument you're requesting" in message


def test_each_observation_type_draws_on_its_own_pool() -> None:
    empty_rr = proposal(rr_allocation=0.0)
    window = Window(NOW, NOW + timedelta(days=1))
    assert check_time_allocations(empty_rr, P0_SHARE, NORMAL, [window], NOW) == []
    assert (
        "any RAPID_RESPONSE time left"
        in check_time_allocations(empty_rr, P0_SHARE, ObservationType.RAPID_RESPONSE, [window], NOW)[0]
    )
    assert check_time_allocations(empty_rr, P0_SHARE, ObservationType.DIRECT, [], NOW) == []


def test_t17_to_t19_rapid_response_windows() -> None:
    rr = ObservationType.RAPID_RESPONSE
    assert check_time_allocations(proposal(), P0_SHARE, rr, [Window(NOW, NOW + timedelta(days=1))], NOW) == []
    later = Window(NOW + timedelta(hours=1), NOW + timedelta(days=1))
    assert check_time_allocations(proposal(), P0_SHARE, rr, [later], NOW) == [
        "The Rapid Response observation window start time cannot be in the future."
    ]
    (message,) = check_time_allocations(proposal(), P0_SHARE, rr, [Window(NOW, NOW + timedelta(days=2))], NOW)
    assert "A Rapid Response observation must start within the next 24 hours" in message


def test_t7_submission_debits_half_the_duration_at_ipp_one_and_a_half() -> None:
    p = proposal()
    move_ipp(p, ipp_hours(P0_SHARE), ipp_change_factor(1.5, RequestState.PENDING, RequestState.PENDING, submitted=True))
    assert p.allocations[0].ipp_time_available == pytest.approx(4.968611, abs=1e-6)
    # T8: cancelling credits it back
    move_ipp(p, ipp_hours(P0_SHARE), ipp_change_factor(1.5, RequestState.PENDING, RequestState.CANCELED))
    assert p.allocations[0].ipp_time_available == pytest.approx(5.0, abs=1e-9)


def test_t12_completion_at_ipp_one_half_earns_balance() -> None:
    p = proposal()
    assert ipp_change_factor(0.5, RequestState.PENDING, RequestState.PENDING, submitted=True) == 0
    move_ipp(p, ipp_hours(P0_SHARE), ipp_change_factor(0.5, RequestState.PENDING, RequestState.COMPLETED))
    assert p.allocations[0].ipp_time_available == pytest.approx(5.031389, abs=1e-6)
    # BAD_DATA reset takes the credit back
    move_ipp(p, ipp_hours(P0_SHARE), ipp_change_factor(0.5, RequestState.COMPLETED, RequestState.PENDING))
    assert p.allocations[0].ipp_time_available == pytest.approx(5.0, abs=1e-9)


@pytest.mark.parametrize(
    ("ipp", "old", "new", "factor"),
    [
        (1.5, RequestState.PENDING, RequestState.COMPLETED, 0.0),
        (1.5, RequestState.WINDOW_EXPIRED, RequestState.COMPLETED, -0.5),
        (1.5, RequestState.PENDING, RequestState.WINDOW_EXPIRED, 0.5),
        (1.5, RequestState.PENDING, RequestState.FAILURE_LIMIT_REACHED, 0.5),
        (0.5, RequestState.PENDING, RequestState.CANCELED, 0.0),
        (0.75, RequestState.PENDING, RequestState.COMPLETED, 0.25),
        (1.0, RequestState.PENDING, RequestState.COMPLETED, 0.0),
        (1.0, RequestState.PENDING, RequestState.CANCELED, 0.0),
    ],
)
def test_the_ipp_table(ipp: float, old: RequestState, new: RequestState, factor: float) -> None:
    assert ipp_change_factor(ipp, old, new) == pytest.approx(factor)


def test_balances_stay_between_zero_and_the_limit() -> None:
    p = proposal(ipp_time_available=9.99)
    move_ipp(p, {KEY: 1.0}, 0.5)
    assert p.allocations[0].ipp_time_available == 10.0
    move_ipp(p, {KEY: 100.0}, -1.0)
    assert p.allocations[0].ipp_time_available == 0.0


def test_t9_too_little_balance_names_the_largest_ipp_value_that_fits() -> None:
    p = proposal(ipp_time_available=0.01)
    (message,) = check_ipp(p, summed_ipp_hours([P0_SHARE]), 2.0, NORMAL)
    assert "requires more IPP time than you have available" in message
    assert "Please lower your IPP Value to <= 1.159 and submit again." in message
    assert check_ipp(p, summed_ipp_hours([P0_SHARE]), 1.1, NORMAL) == []
    assert check_ipp(p, summed_ipp_hours([P0_SHARE]), 2.0, ObservationType.TIME_CRITICAL) == []


def test_two_keys_on_one_shared_allocation_both_count() -> None:
    p = Proposal.open("P", {}, [1], NOW)
    p.allocate(
        "2016B",
        [SINISTRO, "2M0-FLOYDS-SCICAM"],
        {"ipp_limit": 1.0, "ipp_time_available": 0.15},
        [SINISTRO, "2M0-FLOYDS-SCICAM"],
    )
    need = {KEY: 0.1, AllocationKey("2016B", "2M0-FLOYDS-SCICAM"): 0.1}
    assert check_ipp(p, need, 1.5, NORMAL) == []  # 0.05 + 0.05 <= 0.15
    assert check_ipp(p, need, 2.0, NORMAL) != []  # 0.1 + 0.1 > 0.15, though each alone fits


def test_t10_t11_max_allowable_ipp() -> None:
    allowance = max_allowable_ipp(proposal(), summed_ipp_hours([P0_SHARE]))["2016B"][SINISTRO]
    assert (allowance.ipp_time_available, allowance.ipp_limit) == (5.0, 10.0)
    assert allowance.request_duration == pytest.approx(0.0627777777)
    assert (allowance.max_allowable_ipp_value, allowance.min_allowable_ipp_value) == (2.0, 0.5)
    tight = max_allowable_ipp(proposal(ipp_time_available=0.01), summed_ipp_hours([P0_SHARE]))
    assert tight["2016B"][SINISTRO].max_allowable_ipp_value == 1.159


@given(st.floats(0.5, 2.0), st.floats(1, 100_000))
def test_debit_and_credit_back_cancel_out(ipp: float, seconds: float) -> None:
    p = proposal(ipp_time_available=10.0 if ipp < 1 else 5.0)
    shares = ipp_hours({KEY: seconds})
    before = p.allocations[0].ipp_time_available
    debit = ipp_change_factor(ipp, RequestState.PENDING, RequestState.PENDING, submitted=True)
    if -debit * shares[KEY] > before:
        return  # the clamp at zero loses the part that did not fit; nothing to compare
    move_ipp(p, shares, debit)
    move_ipp(p, shares, ipp_change_factor(ipp, RequestState.PENDING, RequestState.CANCELED))
    assert p.allocations[0].ipp_time_available == pytest.approx(before, abs=1e-9)
