"""Hypothesis strategies for cadences: valid blocks (start < end, period and jitter at least 0.02 h) whose
candidate window count stays small enough for a property to walk them all."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

from hypothesis import strategies as st

from domain.cadence import MIN_PERIOD_H, Cadence

EARLIEST = datetime(2016, 1, 1, tzinfo=UTC)
MAX_WINDOWS = 400


def hours(low: float, high: float) -> st.SearchStrategy[float]:
    return st.floats(low, high, allow_nan=False, allow_infinity=False)


@st.composite
def cadences(draw: st.DrawFn, max_windows: int = MAX_WINDOWS) -> Cadence:
    """A cadence of at most ``max_windows`` candidate windows, jitter narrower or wider than the period."""
    start = EARLIEST + timedelta(minutes=draw(st.integers(0, 366 * 24 * 60)))
    period_h = draw(hours(MIN_PERIOD_H, 72.0))
    jitter_h = draw(hours(MIN_PERIOD_H, 96.0))
    length_h = draw(hours(0.001, period_h * max_windows))
    end = start + timedelta(hours=length_h)
    if end <= start:  # a length below a microsecond
        end = start + timedelta(microseconds=1)
    assert math.ceil((end - start) / timedelta(hours=period_h)) <= max_windows + 1
    return Cadence(start, end, period_h, jitter_h)
