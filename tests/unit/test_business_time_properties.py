"""Property tests for chalicelib.domain.business_time over 2026-2028, both clocks, three agencies."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.domain.business_time import BusinessCalendar, ClockMode, response_deadline

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")

CALGARY = BusinessCalendar.from_strings(
    "America/Edmonton",
    {day: [["09:00", "17:00"]] for day in WEEKDAYS},
    holiday_country="CA",
    holiday_subdivision="AB",
    closures=["2026-12-24"],
)
HALIFAX = BusinessCalendar.from_strings(
    "America/Halifax",
    {day: [["08:30", "12:00"], ["13:00", "16:30"]] for day in WEEKDAYS},
    holiday_country="CA",
    holiday_subdivision="NS",
)
OTTAWA = BusinessCalendar.from_strings(
    "America/Toronto",
    {day: [["08:30", "16:30"]] for day in WEEKDAYS},
    holiday_country="CA",
    holiday_subdivision="ON",
)
CALENDARS = st.sampled_from([CALGARY, HALIFAX, OTTAWA])
CLOCKS = st.sampled_from(list(ClockMode))

# Instants are drawn as epoch seconds and expressed in UTC or one of the agencies' zones (so
# DST-ambiguous local times with fold=1 occur). Rounding to the minute or half hour makes
# openings and closings (09:00, 12:00, 16:30, 17:00...) come up often.
ZONES = st.sampled_from([UTC, ZoneInfo("America/Edmonton"), ZoneInfo("America/Halifax"), ZoneInfo("America/Toronto")])
_FIRST = int(datetime(2026, 1, 1, tzinfo=UTC).timestamp())
_LAST = int(datetime(2029, 1, 1, tzinfo=UTC).timestamp())


def _instant(seconds: int, granularity: int, microsecond: int, zone: ZoneInfo) -> datetime:
    seconds -= seconds % granularity
    value = datetime.fromtimestamp(seconds, UTC)
    if granularity == 1:
        value = value.replace(microsecond=microsecond)
    return value.astimezone(zone)


INSTANTS = st.builds(
    _instant,
    st.integers(_FIRST, _LAST),
    st.sampled_from([1, 60, 1800]),
    st.integers(0, 999_999),
    ZONES,
)
TARGETS = st.timedeltas(min_value=timedelta(minutes=1), max_value=timedelta(days=3))
SHORT = st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=10))

FAST = settings(max_examples=200, deadline=None)


def is_interval_end(calendar: BusinessCalendar, at: datetime) -> bool:
    window = calendar.open_intervals(at - timedelta(days=1), at)
    return any(end == at for _start, end in window)


@FAST
@given(calendar=CALENDARS, received=INSTANTS, target=TARGETS, clock=CLOCKS)
def test_deadline_is_never_before_receipt(
    calendar: BusinessCalendar, received: datetime, target: timedelta, clock: ClockMode
) -> None:
    assert response_deadline(received, calendar, target, clock) >= received


@FAST
@given(calendar=CALENDARS, received=INSTANTS, target=TARGETS, clock=CLOCKS)
def test_deadline_is_open_or_a_closing_boundary(
    calendar: BusinessCalendar, received: datetime, target: timedelta, clock: ClockMode
) -> None:
    due = response_deadline(received, calendar, target, clock)
    assert due.tzinfo is UTC
    assert calendar.is_open(due) or is_interval_end(calendar, due)


@FAST
@given(calendar=CALENDARS, received=INSTANTS, target=TARGETS)
def test_calendar_deadline_is_at_least_target_after_receipt_and_open(
    calendar: BusinessCalendar, received: datetime, target: timedelta
) -> None:
    due = response_deadline(received, calendar, target, ClockMode.CALENDAR)
    assert due >= received.astimezone(UTC) + target
    assert calendar.is_open(due)


@FAST
@given(calendar=CALENDARS, received=INSTANTS, target=TARGETS)
def test_calendar_deadline_is_start_plus_target_or_the_following_opening(
    calendar: BusinessCalendar, received: datetime, target: timedelta
) -> None:
    naive_due = calendar.clock_start(received) + target
    due = response_deadline(received, calendar, target, ClockMode.CALENDAR)
    assert due == naive_due or (not calendar.is_open(naive_due) and due == calendar.next_opening(naive_due))


@FAST
@given(calendar=CALENDARS, received=INSTANTS, target=TARGETS)
def test_business_hours_deadline_counts_exactly_the_target(
    calendar: BusinessCalendar, received: datetime, target: timedelta
) -> None:
    due = response_deadline(received, calendar, target, ClockMode.BUSINESS_HOURS)
    assert calendar.business_time_between(calendar.clock_start(received), due) == target


@FAST
@given(calendar=CALENDARS, received=INSTANTS, target=TARGETS)
def test_business_hours_deadline_is_the_earliest_such_instant(
    calendar: BusinessCalendar, received: datetime, target: timedelta
) -> None:
    due = response_deadline(received, calendar, target, ClockMode.BUSINESS_HOURS)
    earlier = due - timedelta(microseconds=1)
    assert calendar.business_time_between(calendar.clock_start(received), earlier) < target


@FAST
@given(calendar=CALENDARS, at=INSTANTS)
def test_next_opening_is_open_and_not_before_at(calendar: BusinessCalendar, at: datetime) -> None:
    opening = calendar.next_opening(at)
    assert opening >= at
    assert calendar.is_open(opening)
    assert not calendar.is_open(opening - timedelta(microseconds=1))


@FAST
@given(calendar=CALENDARS, at=INSTANTS)
def test_nothing_is_open_between_a_closed_instant_and_next_opening(calendar: BusinessCalendar, at: datetime) -> None:
    if not calendar.is_open(at):
        assert calendar.business_time_between(at, calendar.next_opening(at)) == timedelta(0)


@FAST
@given(calendar=CALENDARS, at=INSTANTS)
def test_clock_start_is_idempotent_and_open(calendar: BusinessCalendar, at: datetime) -> None:
    start = calendar.clock_start(at)
    assert start.tzinfo is UTC
    assert calendar.clock_start(start) == start
    assert calendar.is_open(start)
    assert start >= at
    assert (start == at.astimezone(UTC)) is calendar.is_open(at)


@FAST
@given(calendar=CALENDARS, at=INSTANTS)
def test_current_interval_end_agrees_with_is_open(calendar: BusinessCalendar, at: datetime) -> None:
    end = calendar.current_interval_end(at)
    assert (end is not None) is calendar.is_open(at)
    if end is not None:
        assert end > at
        assert not calendar.is_open(end)
        assert calendar.business_time_between(at, end) == end - at


@FAST
@given(calendar=CALENDARS, at=INSTANTS)
def test_closed_period_start_is_a_closing_with_nothing_open_since(calendar: BusinessCalendar, at: datetime) -> None:
    began = calendar.closed_period_start(at)
    assert (began is None) is calendar.is_open(at)
    if began is not None:
        assert began <= at
        assert calendar.business_time_between(began, at) == timedelta(0)
        assert calendar.is_open(began - timedelta(microseconds=1))


@FAST
@given(calendar=CALENDARS, at=INSTANTS, later=SHORT)
def test_closed_period_start_is_constant_within_a_closed_period(
    calendar: BusinessCalendar, at: datetime, later: timedelta
) -> None:
    other = at.astimezone(UTC) + later
    if (
        not calendar.is_open(at)
        and calendar.business_time_between(at, other) == timedelta(0)
        and not calendar.is_open(other)
    ):
        assert calendar.closed_period_start(other) == calendar.closed_period_start(at)


@FAST
@given(calendar=CALENDARS, start=INSTANTS, amount=SHORT)
def test_add_business_time_and_business_time_between_are_inverse(
    calendar: BusinessCalendar, start: datetime, amount: timedelta
) -> None:
    end = calendar.add_business_time(start, amount)
    assert end >= start
    assert calendar.business_time_between(start, end) == amount


@FAST
@given(calendar=CALENDARS, start=INSTANTS, span=SHORT)
def test_open_intervals_are_sorted_disjoint_open_and_inside_the_window(
    calendar: BusinessCalendar, start: datetime, span: timedelta
) -> None:
    end = start.astimezone(UTC) + span
    intervals = list(calendar.open_intervals(start, end))
    previous_end = None
    for lo, hi in intervals:
        assert start <= lo < hi <= end
        assert calendar.is_open(lo)
        assert calendar.is_open(hi - timedelta(microseconds=1))
        if previous_end is not None:
            assert lo >= previous_end
        previous_end = hi


@FAST
@given(calendar=CALENDARS, a=INSTANTS, b=SHORT, c=SHORT)
def test_business_time_between_is_additive(calendar: BusinessCalendar, a: datetime, b: timedelta, c: timedelta) -> None:
    mid = a.astimezone(UTC) + b
    end = mid + c
    assert calendar.business_time_between(a, end) == (
        calendar.business_time_between(a, mid) + calendar.business_time_between(mid, end)
    )


@FAST
@given(calendar=CALENDARS, at=INSTANTS, zone=ZONES)
def test_results_do_not_depend_on_the_input_zone(calendar: BusinessCalendar, at: datetime, zone: ZoneInfo) -> None:
    moved = at.astimezone(zone)
    assert calendar.is_open(moved) == calendar.is_open(at)
    assert calendar.next_opening(moved) == calendar.next_opening(at)
    assert calendar.closed_period_start(moved) == calendar.closed_period_start(at)
