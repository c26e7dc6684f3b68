"""Cadences (requests.md 2.12, 7.1): one request repeated every ``period`` hours, each copy with one window
``jitter`` hours wide, keeping the copies whose window the target is visible in for longer than the request lasts.

Pure arithmetic: visibility comes in as a callable, ``largest_interval(request) -> seconds`` (the longest
interval in which the request with that one window could run, 3.8 steps 1-4), so tests pass doubles and the
application passes the Visibility port's answer.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Protocol

from attrs import evolve, frozen

from domain.errors import NON_FIELD, ErrorTree, ValidationError
from domain.request_validation import SubmittedRequestGroup
from domain.requestgroups import Operator, Request, Window

CADENCE_END_PAST = "End time must be in the future"
CADENCE_END_BEFORE_START = "Cadence end must be after cadence start"
CADENCE_WITH_WINDOWS = "Cadence requests may not contain windows"
NO_VISIBLE_REQUESTS = "No visible requests within cadence window parameters"
MIN_PERIOD_H = MIN_JITTER_H = 0.02
# BEYOND (7.1 step 5): what one submission may hold (api.md 8.2 B9), and a bound on the visibility work a single
# call may ask for before anything is counted, so a year at the minimum period is refused before it is computed.
MAX_REQUESTS = 1000
MAX_CANDIDATE_WINDOWS = 10_000

LargestInterval = Callable[[Request], float]


@frozen
class Cadence:
    """A cadence block (requests.md 2.12): windows every ``period_h`` hours, ``jitter_h`` hours wide, in
    [start, end]. The edge has checked the types; ``cadence_errors`` checks the rules that relate the fields."""

    start: datetime
    end: datetime
    period_h: float
    jitter_h: float


class SubmittedCadenceGroup(SubmittedRequestGroup, Protocol):
    """A submitted group whose requests may carry a cadence block: ``cadences`` is aligned with ``requests``,
    None where a request has none. The edge's parsed group satisfies it."""

    @property
    def cadences(self) -> Sequence[Cadence | None]: ...


# ---------------------------------------------------------------------------------------------------------
# Rules of a cadence request (7.1)


@frozen
class CadenceRequestMustHaveNoWindows:
    request: Request
    field: str = "windows"

    def is_broken(self) -> bool:
        return bool(self.request.windows)

    def message(self) -> str:
        return CADENCE_WITH_WINDOWS


@frozen
class CadenceMustEndInTheFuture:
    cadence: Cadence
    now: datetime
    field: str = "end"

    def is_broken(self) -> bool:
        return self.cadence.end < self.now

    def message(self) -> str:
        return CADENCE_END_PAST


@frozen
class CadenceMustEndAfterItStarts:
    """Upstream's message names end and start the wrong way round (a *fixed* quirk, requests.md 9)."""

    cadence: Cadence
    field: str = NON_FIELD

    def is_broken(self) -> bool:
        return self.cadence.start >= self.cadence.end

    def message(self) -> str:
        return CADENCE_END_BEFORE_START


@frozen
class CadenceStepMustBeAtLeastTheMinimum:
    """Period and jitter of at least 0.02 h; the edge refuses smaller ones too, this keeps the loop finite."""

    hours: float
    field: str

    def is_broken(self) -> bool:
        return not self.hours >= MIN_PERIOD_H  # NaN is broken too

    def message(self) -> str:
        return f"Ensure this value is greater than or equal to {MIN_PERIOD_H}."


def cadence_errors(request: Request, cadence: Cadence, now: datetime) -> ErrorTree:
    """The error tree of one cadence request (``windows`` beside a nested ``cadence``), {} when it is clean."""
    errors: ErrorTree = {}
    no_windows = CadenceRequestMustHaveNoWindows(request)
    if no_windows.is_broken():
        errors[no_windows.field] = [no_windows.message()]
    nested: ErrorTree = {}
    for rule in (
        CadenceMustEndInTheFuture(cadence, now),
        CadenceStepMustBeAtLeastTheMinimum(cadence.period_h, "period"),
        CadenceStepMustBeAtLeastTheMinimum(cadence.jitter_h, "jitter"),
        CadenceMustEndAfterItStarts(cadence),
    ):
        if rule.is_broken():
            nested.setdefault(rule.field, []).append(rule.message())
    if nested:
        errors["cadence"] = nested
    return errors


# ---------------------------------------------------------------------------------------------------------
# Expansion (7.1 steps 1-5)


def _step(hours: float) -> timedelta:
    if not hours >= MIN_PERIOD_H:
        raise ValidationError.on("period", f"Ensure this value is greater than or equal to {MIN_PERIOD_H}.")
    return timedelta(hours=hours)


def candidate_count(cadence: Cadence) -> int:
    """How many windows the cadence has before visibility is asked: ``ceil((end - start) / period)``."""
    if cadence.end <= cadence.start:
        return 0
    return math.ceil((cadence.end - cadence.start) / _step(cadence.period_h))


def cadence_windows(cadence: Cadence) -> list[Window]:
    """The candidate windows: one centred on each of ``start, start + period, ...`` strictly before ``end``,
    ``jitter`` wide, the first cut at ``start`` and the last at ``end``.

    Cursors are ``start + k x period`` rather than a running sum, so a long cadence does not drift.
    """
    period, half_jitter = _step(cadence.period_h), _step(cadence.jitter_h) / 2
    windows = []
    k = 0
    while (cursor := cadence.start + k * period) < cadence.end:
        windows.append(Window(max(cursor - half_jitter, cadence.start), min(cursor + half_jitter, cadence.end)))
        k += 1
    return windows


def _with_window(request: Request, window: Window) -> Request:
    """A fresh copy of the request, unsaved, whose only window is ``window``."""
    return evolve(request, windows=[window], extra_params=dict(request.extra_params), id=None, duration=None)


def expand_cadence(
    request: Request,
    cadence: Cadence,
    *,
    duration_s: float,
    largest_interval: LargestInterval,
    now: datetime,
) -> list[Request]:
    """The copies of ``request`` worth keeping (7.1 step 2): one per candidate window whose largest visible
    interval is longer than the request's duration and which has not ended by ``now``."""
    kept = []
    for window in cadence_windows(cadence):
        candidate = _with_window(request, window)
        if window.end > now and largest_interval(candidate) > duration_s:
            kept.append(candidate)
    return kept


def _refused(message: str) -> ValidationError:
    # A string, not a list of strings (7.1 step 3): upstream answers so and clients test for the key only.
    return ValidationError({"errors": message})


def expand_requests(
    requests: Sequence[Request],
    cadences: Sequence[Cadence | None],
    *,
    durations_s: Sequence[float | None],
    largest_interval: LargestInterval,
    now: datetime,
) -> list[Request]:
    """Every request of a group with its cadence expanded in place; requests without a cadence pass through.

    ``durations_s`` is aligned with ``requests`` (the duration of each cadence request, 7.1 step 1). Refused
    when no cadence window is kept, or when the result would hold more requests than one submission may.
    """
    plain = sum(1 for cadence in cadences if cadence is None)
    candidates = plain + sum(candidate_count(cadence) for cadence in cadences if cadence is not None)
    if candidates > MAX_CANDIDATE_WINDOWS:
        raise _refused(f"Cadence would produce {candidates} candidate windows; the limit is {MAX_CANDIDATE_WINDOWS}")
    expanded: list[Request] = []
    any_kept = False
    for request, cadence, duration_s in zip(requests, cadences, durations_s, strict=True):
        if cadence is None:
            expanded.append(request)
            continue
        kept = expand_cadence(
            request, cadence, duration_s=duration_s or 0.0, largest_interval=largest_interval, now=now
        )
        any_kept = any_kept or bool(kept)
        expanded.extend(kept)
    if any(cadence is not None for cadence in cadences) and not any_kept:
        raise _refused(NO_VISIBLE_REQUESTS)
    if len(expanded) > MAX_REQUESTS:
        raise _refused(f"Cadence would produce {len(expanded)} requests; the limit is {MAX_REQUESTS}")
    return expanded


def expanded_operator(operator: Operator, request_count: int) -> Operator:
    """MANY once the expansion gives more than one request; otherwise what was submitted (7.1 step 4)."""
    return Operator.MANY if request_count > 1 else operator
