"""Cadence expansion (requests.md 7.1) on the reference cases C1-C7 of 8.6, with visibility doubles: one that
reports every window fully observable, one that reports nothing visible. Plus the window arithmetic as
properties."""

from __future__ import annotations

import itertools
import math
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.cadence import (
    CADENCE_END_BEFORE_START,
    CADENCE_END_PAST,
    CADENCE_WITH_WINDOWS,
    MAX_CANDIDATE_WINDOWS,
    MAX_REQUESTS,
    NO_VISIBLE_REQUESTS,
    Cadence,
    cadence_errors,
    cadence_windows,
    candidate_count,
    expand_cadence,
    expand_requests,
    expanded_operator,
)
from domain.errors import NON_FIELD, ValidationError
from domain.requestgroups import (
    Configuration,
    Constraints,
    InstrumentConfig,
    Location,
    Operator,
    Request,
    Target,
    Window,
)
from tests.unit.domain.cadence_strategies import cadences

NOW = datetime(2016, 9, 1, tzinfo=UTC)
P0_DURATION_S = 226  # requests.md 8.6: P0's request lasts 226 s


def at(day: int, hour: int = 0, month: int = 9) -> datetime:
    return datetime(2016, month, day, hour, tzinfo=UTC)


def p0_request(windows: list[Window] | None = None) -> Request:
    """P0's request (8.1) with ``windows: []`` unless given."""
    configuration = Configuration(
        "1M0-SCICAM-SINISTRO",
        "EXPOSE",
        (InstrumentConfig(100, 1, optical_elements={"filter": "air"}),),
        Target.icrs("fake target", 34.4, 20),
        Constraints(max_airmass=2.0),
    )
    return Request.create([configuration], windows=windows or [], location=Location("1m0"))


def fully_visible(request: Request) -> float:
    """The double of 8.6: every window is observable from start to end."""
    return request.windows[0].seconds


def nothing_visible(_: Request) -> float:
    return 0.0


def expanded(cadence: Cadence, largest: object = fully_visible, now: datetime = NOW) -> list[Request]:
    return expand_cadence(
        p0_request(),
        cadence,
        duration_s=P0_DURATION_S,
        largest_interval=largest,  # type: ignore[arg-type]
        now=now,
    )


def spans(requests: list[Request]) -> list[tuple[datetime, datetime]]:
    return [(r.windows[0].start, r.windows[0].end) for r in requests]


# ---------------------------------------------------------------------------------------------------------
# C1-C7


def test_c1_two_days_at_a_daily_period_give_two_requests_the_first_cut_at_the_start() -> None:
    requests = expanded(Cadence(at(1), at(3), 24, 12))
    assert spans(requests) == [(at(1), at(1, 6)), (at(1, 18), at(2, 6))]
    assert expanded_operator(Operator.SINGLE, len(requests)) is Operator.MANY


def test_c2_a_month_at_a_daily_period_gives_thirty_requests() -> None:
    requests = expanded(Cadence(at(1), at(1, month=10), 24, 12))
    assert len(requests) == 30
    assert expanded_operator(Operator.SINGLE, len(requests)) is Operator.MANY


def test_c3_one_day_gives_one_request_and_a_single_group_stays_single() -> None:
    requests = expanded(Cadence(at(1), at(2), 24, 12))
    assert spans(requests) == [(at(1), at(1, 6))]
    assert expanded_operator(Operator.SINGLE, len(requests)) is Operator.SINGLE


def test_c4_hourly_with_two_hour_jitter_gives_24_requests_the_first_one_hour_long() -> None:
    requests = expanded(Cadence(at(1), at(2), 1, 2))
    assert len(requests) == 24
    widths = [r.windows[0].seconds / 3600 for r in requests]
    assert widths == [1] + [2] * 23
    # The last, centred at 23:00, ends exactly at the cadence end; the windows overlap, as jitter > period.
    assert spans(requests)[-1] == (at(1, 22), at(2))


def test_c5_a_cadence_request_may_not_carry_windows() -> None:
    request = p0_request([Window(at(29), at(29, month=10))])
    assert cadence_errors(request, Cadence(at(1), at(3), 24, 12), NOW) == {"windows": [CADENCE_WITH_WINDOWS]}


def test_c6_a_cadence_that_ended_is_refused_on_its_end() -> None:
    errors = cadence_errors(p0_request(), Cadence(at(1), at(30, month=8), 24, 12), NOW)
    assert errors["cadence"]["end"] == [CADENCE_END_PAST]
    assert CADENCE_END_PAST == "End time must be in the future"


def test_c7_nothing_visible_is_refused_with_a_string_under_errors() -> None:
    with pytest.raises(ValidationError) as caught:
        expand_requests(
            [p0_request()],
            [Cadence(at(1), at(3), 24, 12)],
            durations_s=[P0_DURATION_S],
            largest_interval=nothing_visible,
            now=NOW,
        )
    assert caught.value.errors == {"errors": "No visible requests within cadence window parameters"}
    assert NO_VISIBLE_REQUESTS == "No visible requests within cadence window parameters"


# ---------------------------------------------------------------------------------------------------------
# The rules of 7.1


def test_a_cadence_must_end_after_it_starts_and_the_message_says_so_the_right_way_round() -> None:
    errors = cadence_errors(p0_request(), Cadence(at(3), at(3), 24, 12), NOW)
    assert errors == {"cadence": {NON_FIELD: [CADENCE_END_BEFORE_START]}}
    assert CADENCE_END_BEFORE_START == "Cadence end must be after cadence start"


def test_period_and_jitter_below_the_minimum_are_refused_on_their_fields() -> None:
    errors = cadence_errors(p0_request(), Cadence(at(1), at(3), 0.01, float("nan")), NOW)
    assert errors == {
        "cadence": {
            "period": ["Ensure this value is greater than or equal to 0.02."],
            "jitter": ["Ensure this value is greater than or equal to 0.02."],
        }
    }


def test_a_clean_cadence_request_has_no_errors_and_an_end_at_now_is_not_past() -> None:
    assert cadence_errors(p0_request(), Cadence(at(1), at(3), 24, 12), NOW) == {}
    assert cadence_errors(p0_request(), Cadence(NOW - timedelta(days=1), NOW, 24, 12), NOW) == {}


def test_windows_are_kept_only_when_visible_for_longer_than_the_request() -> None:
    exactly = expanded(Cadence(at(1), at(3), 24, 12), largest=lambda _: float(P0_DURATION_S))
    longer = expanded(Cadence(at(1), at(3), 24, 12), largest=lambda _: P0_DURATION_S + 1.0)
    assert exactly == []
    assert len(longer) == 2


def test_windows_that_are_over_by_now_are_dropped_however_visible() -> None:
    requests = expanded(Cadence(at(1), at(3), 24, 12), now=at(1, 6))
    assert spans(requests) == [(at(1, 18), at(2, 6))]


def test_visibility_is_asked_of_each_copy_with_its_one_window() -> None:
    asked: list[list[Window]] = []

    def recording(request: Request) -> float:
        asked.append(list(request.windows))
        return fully_visible(request)

    expanded(Cadence(at(1), at(3), 24, 12), largest=recording)
    assert asked == [[Window(at(1), at(1, 6))], [Window(at(1, 18), at(2, 6))]]


def test_copies_are_new_unsaved_requests_with_the_configurations_of_the_original() -> None:
    original = p0_request()
    original.extra_params["note"] = "kept"
    (first, second) = expand_cadence(
        original, Cadence(at(1), at(3), 24, 12), duration_s=P0_DURATION_S, largest_interval=fully_visible, now=NOW
    )
    assert first is not second
    assert first is not original
    assert original.windows == []
    assert first.configurations == original.configurations
    assert first.location == original.location
    assert first.extra_params == {"note": "kept"}
    assert first.extra_params is not original.extra_params
    assert (first.id, first.duration) == (None, None)


def test_requests_without_a_cadence_pass_through_beside_the_expanded_ones() -> None:
    plain = p0_request([Window(at(29), at(29, month=10))])
    requests = expand_requests(
        [plain, p0_request()],
        [None, Cadence(at(1), at(3), 24, 12)],
        durations_s=[None, P0_DURATION_S],
        largest_interval=fully_visible,
        now=NOW,
    )
    assert requests[0] is plain
    assert spans(requests[1:]) == [(at(1), at(1, 6)), (at(1, 18), at(2, 6))]


def test_more_than_1000_resulting_requests_are_refused_with_the_count() -> None:
    cadence = Cadence(at(1), at(1) + timedelta(hours=1001), 1, 0.5)
    with pytest.raises(ValidationError) as caught:
        expand_requests([p0_request()], [cadence], durations_s=[60], largest_interval=fully_visible, now=NOW)
    assert caught.value.errors == {"errors": f"Cadence would produce 1001 requests; the limit is {MAX_REQUESTS}"}


def test_a_cadence_with_too_many_candidate_windows_is_refused_before_any_visibility_is_asked() -> None:
    cadence = Cadence(at(1), at(1) + timedelta(hours=MAX_CANDIDATE_WINDOWS + 1), 1, 0.5)

    def never(_: Request) -> float:
        raise AssertionError("visibility asked")

    with pytest.raises(ValidationError) as caught:
        expand_requests([p0_request()], [cadence], durations_s=[60], largest_interval=never, now=NOW)
    assert "candidate windows; the limit is" in caught.value.errors["errors"]


def test_a_many_group_that_expands_to_one_request_keeps_its_operator() -> None:
    assert expanded_operator(Operator.MANY, 1) is Operator.MANY
    assert expanded_operator(Operator.SINGLE, 0) is Operator.SINGLE


# ---------------------------------------------------------------------------------------------------------
# Properties of the window arithmetic

ONE_MICROSECOND = timedelta(microseconds=1)


@given(cadences())
def test_there_is_one_window_per_period_step_strictly_before_the_end(cadence: Cadence) -> None:
    windows = cadence_windows(cadence)
    step = timedelta(hours=cadence.period_h)
    assert len(windows) == candidate_count(cadence) == math.ceil((cadence.end - cadence.start) / step)


@given(cadences())
def test_windows_lie_within_the_cadence_and_are_jitter_wide_unless_cut_at_an_end(cadence: Cadence) -> None:
    jitter = timedelta(hours=cadence.jitter_h)
    for k, window in enumerate(cadence_windows(cadence)):
        cursor = cadence.start + k * timedelta(hours=cadence.period_h)
        assert cadence.start <= window.start <= cursor < window.end <= cadence.end
        width = window.end - window.start
        assert width <= jitter + ONE_MICROSECOND
        if window.start > cadence.start and window.end < cadence.end:
            assert abs(width - jitter) <= ONE_MICROSECOND


@given(cadences())
def test_windows_are_in_order_and_do_not_overlap_when_the_jitter_fits_in_the_period(cadence: Cadence) -> None:
    windows = cadence_windows(cadence)
    for earlier, later in itertools.pairwise(windows):
        assert earlier.start <= later.start
        assert earlier.end <= later.end
        if cadence.jitter_h <= cadence.period_h:
            assert earlier.end <= later.start + ONE_MICROSECOND


@given(cadences(max_windows=50), st.integers(0, 48 * 3600))
def test_with_every_window_visible_exactly_the_long_enough_unfinished_windows_are_kept(
    cadence: Cadence, duration_s: int
) -> None:
    now = cadence.start + (cadence.end - cadence.start) / 2
    kept = expand_cadence(p0_request(), cadence, duration_s=duration_s, largest_interval=fully_visible, now=now)
    wanted = [w for w in cadence_windows(cadence) if w.seconds > duration_s and w.end > now]
    assert [r.windows for r in kept] == [[w] for w in wanted]
