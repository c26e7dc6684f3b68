"""Telescope time: the allocation check at submission, the IPP balance, and what each state change moves
(requests.md section 5). Pure arithmetic over a proposal's time allocations; hours throughout.

Durations come in as seconds per allocation key (domain.duration); a request's share of a key is rounded up
to whole seconds before it becomes IPP hours (5.2: identical to upstream for single-type requests).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta

from attrs import frozen

from domain.duration import AllocationKey
from domain.proposals import Proposal, TimeAllocation
from domain.requestgroups import ObservationType, RequestState, Window

# The overuse allowance of 5.1: a pool may be overdrawn by 10 % at submission.
OVERUSE_ALLOWANCE = 1.1
MIN_IPP, MAX_IPP = 0.5, 2.0
POOL_OF: Mapping[ObservationType, str] = {
    ObservationType.NORMAL: "std",
    ObservationType.RAPID_RESPONSE: "rr",
    ObservationType.TIME_CRITICAL: "tc",
    ObservationType.REAL_TIME: "realtime",
}
RAPID_RESPONSE_HORIZON = timedelta(hours=24)


def hours(seconds: float) -> float:
    return seconds / 3600


def available_hours(allocation: TimeAllocation, pool: str) -> float:
    """Hours left in the pool (may be negative once charging has overdrawn it)."""
    allocated: float = getattr(allocation, f"{pool}_allocation")
    used: float = getattr(allocation, f"{pool}_time_used")
    return allocated - used


def check_time_allocations(
    proposal: Proposal,
    needed_s: Mapping[AllocationKey, float],
    observation_type: ObservationType,
    windows: Iterable[Window],
    now: datetime,
    overuse: float = OVERUSE_ALLOWANCE,
) -> list[str]:
    """The group-level messages of 5.1 (empty when the group may be submitted); nothing is debited here."""
    pool = POOL_OF.get(observation_type)
    if pool is None:  # DIRECT groups are never checked
        return []
    errors: list[str] = []
    kind = observation_type.value
    for key, seconds in needed_s.items():
        allocation = proposal.allocation_for(key.semester, key.instrument_type)
        if allocation is None:
            errors.append(
                f"You do not have sufficient {kind} time allocated on the instrument you're requesting for this "
                "proposal."
            )
            continue
        available = available_hours(allocation, pool)
        if available <= 0:
            errors.append(
                f"Proposal {proposal.id} does not have any {kind} time left allocated in semester {key.semester} "
                f"on {key.instrument_type} instruments"
            )
        elif available * overuse < hours(seconds):
            errors.append(
                f"Proposal {proposal.id} does not have enough {kind} time allocated in semester {key.semester}"
            )
    if observation_type is ObservationType.RAPID_RESPONSE:
        errors.extend(_rapid_response_window_errors(windows, sum(needed_s.values()), now))
    return errors


def _rapid_response_window_errors(windows: Iterable[Window], needed_s: float, now: datetime) -> list[str]:
    errors: list[str] = []
    for window in windows:
        if window.start > now:
            errors.append("The Rapid Response observation window start time cannot be in the future.")
        elif (window.end - now).total_seconds() > needed_s + RAPID_RESPONSE_HORIZON.total_seconds():
            errors.append(
                "A Rapid Response observation must start within the next 24 hours, so the window end time must be "
                "within the next 24 hours plus the duration of the observation."
            )
    return list(dict.fromkeys(errors))


# ---------------------------------------------------------------------------------------------------------
# IPP (5.2, 5.3)


def ipp_hours(shares_s: Mapping[AllocationKey, float]) -> dict[AllocationKey, float]:
    """A request's IPP hours per key: each key's share rounded up to whole seconds."""
    return {key: math.ceil(seconds) / 3600 for key, seconds in shares_s.items()}


def summed_ipp_hours(requests_shares_s: Iterable[Mapping[AllocationKey, float]]) -> dict[AllocationKey, float]:
    """Σ over the group's requests of their IPP hours per key."""
    totals: dict[AllocationKey, float] = {}
    for shares in requests_shares_s:
        for key, value in ipp_hours(shares).items():
            totals[key] = totals.get(key, 0.0) + value
    return totals


def max_ipp_value(balance: float, needed_hours: float) -> float:
    """The largest ipp_value the balance allows for this need, floored to 3 decimals and capped at MAX_IPP."""
    if needed_hours <= 0:
        return MAX_IPP
    return math.floor(min(balance / needed_hours + 1, MAX_IPP) * 1000) / 1000


def check_ipp(
    proposal: Proposal, needed_hours: Mapping[AllocationKey, float], ipp_value: float, observation_type: ObservationType
) -> list[str]:
    """Whether the IPP balances cover a group with ipp_value > 1 (5.2), keys in order on a running copy."""
    if observation_type is not ObservationType.NORMAL or ipp_value <= 1:
        return []
    running: dict[int, float] = {}
    for key, needed in needed_hours.items():
        allocation = proposal.allocation_for(key.semester, key.instrument_type)
        if allocation is None:
            continue  # the allocation check reports it
        balance = running.get(id(allocation), allocation.ipp_time_available)
        cost = needed * (ipp_value - 1)
        if balance < cost:
            limit = math.floor((balance / needed + 1) * 1000) / 1000 if needed > 0 else MAX_IPP
            return [
                f"An IPP Value of {ipp_value} requires more IPP time than you have available for {key.semester} "
                f"{key.instrument_type}. Please lower your IPP Value to <= {limit} and submit again."
            ]
        running[id(allocation)] = balance - cost
    return []


@frozen
class IppAllowance:
    """One line of the max_allowable_ipp answer (5.3)."""

    ipp_time_available: float
    ipp_limit: float
    request_duration: float
    max_allowable_ipp_value: float
    min_allowable_ipp_value: float = MIN_IPP


def max_allowable_ipp(
    proposal: Proposal, needed_hours: Mapping[AllocationKey, float]
) -> dict[str, dict[str, IppAllowance]]:
    """Per semester and instrument type: the balance, the need and the largest ipp_value it allows."""
    answer: dict[str, dict[str, IppAllowance]] = {}
    for key, needed in needed_hours.items():
        allocation = proposal.allocation_for(key.semester, key.instrument_type)
        if allocation is None:
            continue
        answer.setdefault(key.semester, {})[key.instrument_type] = IppAllowance(
            allocation.ipp_time_available,
            allocation.ipp_limit,
            needed,
            max_ipp_value(allocation.ipp_time_available, needed),
        )
    return answer


def ipp_change_factor(ipp_value: float, old: RequestState, new: RequestState, *, submitted: bool = False) -> float:
    """Signed multiple of a request's IPP hours to add to the balance for one event (the table of 5.2).

    Negative is a debit. ``submitted`` marks the creation of the request; otherwise ``old -> new`` is a state
    change (BAD_DATA's reset is COMPLETED -> PENDING)."""
    delta = abs(ipp_value - 1)
    if delta == 0:
        return 0.0
    spends = ipp_value > 1
    if submitted:
        return -delta if spends else 0.0
    if new is RequestState.COMPLETED:
        if not spends:
            return delta
        return -delta if old is RequestState.WINDOW_EXPIRED else 0.0
    if (
        spends
        and old is RequestState.PENDING
        and new
        in (
            RequestState.CANCELED,
            RequestState.WINDOW_EXPIRED,
            RequestState.FAILURE_LIMIT_REACHED,
        )
    ):
        return delta
    if not spends and old is RequestState.COMPLETED and new is RequestState.PENDING:
        return -delta
    return 0.0


def move_ipp(proposal: Proposal, request_hours: Mapping[AllocationKey, float], factor: float) -> None:
    """Add ``factor x hours`` to each key's allocation balance, clamped to [0, ipp_limit]; never fails."""
    if factor == 0:
        return
    for key, value in request_hours.items():
        allocation = proposal.allocation_for(key.semester, key.instrument_type)
        if allocation is None:
            continue
        moved = allocation.ipp_time_available + factor * value
        allocation.ipp_time_available = min(max(moved, 0.0), allocation.ipp_limit)


# ---------------------------------------------------------------------------------------------------------
# Charging on completion (5.4)


def charge_time(proposal: Proposal, semester_id: str, instrument_type: str, pool: str, hours_delta: float) -> None:
    """Add ``hours_delta`` (negative refunds) to the pool's used hours on every allocation of the semester that
    covers the instrument type; used hours never go below 0."""
    wanted = instrument_type.casefold()
    for allocation in proposal.allocations_in(semester_id):
        if any(code.casefold() == wanted for code in allocation.instrument_types):
            name = f"{pool}_time_used"
            setattr(allocation, name, max(getattr(allocation, name) + hours_delta, 0.0))
