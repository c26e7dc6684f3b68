"""Hypothesis strategies for interval algebra: small sets of intervals on a minute grid, and probe instants."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import strategies as st

from domain.visibility import Interval

BASE = datetime(2016, 10, 1, tzinfo=UTC)


def at(minutes: float) -> datetime:
    return BASE + timedelta(minutes=minutes)


@st.composite
def intervals(draw: st.DrawFn) -> Interval:
    """One interval on a coarse minute grid, so that touching and overlapping ends are common."""
    start = draw(st.integers(0, 60))
    length = draw(st.integers(1, 20))
    return Interval(at(start), at(start + length))


interval_lists = st.lists(intervals(), max_size=6)

# Every grid minute and every half minute in between: enough to tell any two sets of grid intervals apart.
probe_minutes = [m / 2 for m in range(-2, 2 * 82)]
