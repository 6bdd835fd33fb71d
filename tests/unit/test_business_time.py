"""Table-driven examples for chalicelib.domain.business_time (SPEC 5.1, 5.2)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import holidays
import pytest

from chalicelib.domain.business_time import BusinessCalendar, ClockMode, response_deadline

EDMONTON = ZoneInfo("America/Edmonton")
HALIFAX = ZoneInfo("America/Halifax")
TORONTO = ZoneInfo("America/Toronto")
# Mountain time with daylight saving, as Edmonton had it until tzdata 2026f: the DST cases below.
DENVER = ZoneInfo("America/Denver")

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")
ALL_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

def cfn_calendar(zone: str) -> BusinessCalendar:
    """The CMDM policy's hours, Alberta's holidays and the Christmas Eve closure, in ``zone``."""
    return BusinessCalendar.from_strings(
        zone,
        {day: [["09:00", "17:00"]] for day in WEEKDAYS} | {"sat": [], "sun": []},
        holiday_country="CA",
        holiday_subdivision="AB",
        closures=["2026-12-24"],
    )


CALGARY = cfn_calendar("America/Edmonton")
HALIFAX_CAL = BusinessCalendar.from_strings(
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
# Open 08:00-20:00 every day, no holidays: lets a 24 h target cross a weekend DST night.
EDMONTON_DAILY = BusinessCalendar.from_strings("America/Edmonton", {day: [["08:00", "20:00"]] for day in ALL_DAYS})
EDMONTON_24_7 = BusinessCalendar.from_strings("America/Edmonton", {day: [["00:00", "24:00"]] for day in ALL_DAYS})
MOUNTAIN = cfn_calendar("America/Denver")
DENVER_DAILY = BusinessCalendar.from_strings("America/Denver", {day: [["08:00", "20:00"]] for day in ALL_DAYS})
DENVER_24_7 = BusinessCalendar.from_strings("America/Denver", {day: [["00:00", "24:00"]] for day in ALL_DAYS})
NEVER_OPEN = BusinessCalendar.from_strings("America/Edmonton", {})

H24 = timedelta(hours=24)
CAL = ClockMode.CALENDAR
BH = ClockMode.BUSINESS_HOURS


def local(zone: ZoneInfo, y: int, mo: int, d: int, h: int = 0, mi: int = 0, fold: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=zone, fold=fold)


def mt(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return local(EDMONTON, y, mo, d, h, mi)


def mdt(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return local(DENVER, y, mo, d, h, mi)


def at_(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return local(HALIFAX, y, mo, d, h, mi)


def et(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return local(TORONTO, y, mo, d, h, mi)


def same_instant(a: datetime, b: datetime) -> bool:
    return a == b and a.tzinfo is UTC


# ---------------------------------------------------------------------------------------------
# CMDM policy: 24 h calendar clock, Calgary, a plain week (2026-06-08 is a Monday).
# ---------------------------------------------------------------------------------------------

CMDM_CASES = [
    # id, received (local), clock start (local), due (local)
    ("weekday_evening_starts_next_morning", mt(2026, 6, 9, 19), mt(2026, 6, 10, 9), mt(2026, 6, 11, 9)),
    ("weekday_early_morning_starts_same_day_at_nine", mt(2026, 6, 9, 7), mt(2026, 6, 9, 9), mt(2026, 6, 10, 9)),
    ("just_after_midnight_starts_same_day_at_nine", mt(2026, 6, 9, 0, 1), mt(2026, 6, 9, 9), mt(2026, 6, 10, 9)),
    ("friday_18h_starts_monday_due_tuesday", mt(2026, 6, 12, 18), mt(2026, 6, 15, 9), mt(2026, 6, 16, 9)),
    ("saturday_starts_monday_due_tuesday", mt(2026, 6, 13, 11), mt(2026, 6, 15, 9), mt(2026, 6, 16, 9)),
    ("sunday_night_starts_monday_due_tuesday", mt(2026, 6, 14, 23, 30), mt(2026, 6, 15, 9), mt(2026, 6, 16, 9)),
    ("exactly_17h_is_closed", mt(2026, 6, 9, 17), mt(2026, 6, 10, 9), mt(2026, 6, 11, 9)),
    ("exactly_9h_is_open", mt(2026, 6, 9, 9), mt(2026, 6, 9, 9), mt(2026, 6, 10, 9)),
    ("wednesday_10h_due_thursday_10h", mt(2026, 6, 10, 10), mt(2026, 6, 10, 10), mt(2026, 6, 11, 10)),
    ("thursday_16h_due_friday_16h", mt(2026, 6, 11, 16), mt(2026, 6, 11, 16), mt(2026, 6, 12, 16)),
    ("friday_10h_due_saturday_moves_to_monday", mt(2026, 6, 12, 10), mt(2026, 6, 12, 10), mt(2026, 6, 15, 9)),
    ("friday_16h59_due_saturday_moves_to_monday", mt(2026, 6, 12, 16, 59), mt(2026, 6, 12, 16, 59), mt(2026, 6, 15, 9)),
    ("friday_17h_is_after_hours", mt(2026, 6, 12, 17), mt(2026, 6, 15, 9), mt(2026, 6, 16, 9)),
    ("thursday_16h59_due_friday_16h59", mt(2026, 6, 11, 16, 59), mt(2026, 6, 11, 16, 59), mt(2026, 6, 12, 16, 59)),
    ("monday_8h59_starts_monday_9h", mt(2026, 6, 15, 8, 59), mt(2026, 6, 15, 9), mt(2026, 6, 16, 9)),
]


@pytest.mark.parametrize(("received", "start", "due"), [c[1:] for c in CMDM_CASES], ids=[c[0] for c in CMDM_CASES])
def test_cmdm_clock_start(received: datetime, start: datetime, due: datetime) -> None:
    assert CALGARY.clock_start(received) == start


@pytest.mark.parametrize(("received", "start", "due"), [c[1:] for c in CMDM_CASES], ids=[c[0] for c in CMDM_CASES])
def test_cmdm_24h_calendar_deadline(received: datetime, start: datetime, due: datetime) -> None:
    assert response_deadline(received, CALGARY, H24, CAL) == due


def test_friday_evening_inquiry_is_due_tuesday_morning() -> None:
    due = response_deadline(mt(2026, 6, 12, 18), CALGARY, H24, CAL)
    assert due == datetime(2026, 6, 16, 15, 0, tzinfo=UTC)
    assert due.tzinfo is UTC


def test_message_at_exactly_five_pm_is_closed() -> None:
    assert not CALGARY.is_open(mt(2026, 6, 9, 17))


def test_message_at_exactly_nine_am_is_open() -> None:
    assert CALGARY.is_open(mt(2026, 6, 9, 9))


def test_one_microsecond_before_close_is_open() -> None:
    assert CALGARY.is_open(mt(2026, 6, 9, 17) - timedelta(microseconds=1))


def test_one_microsecond_before_opening_is_closed() -> None:
    assert not CALGARY.is_open(mt(2026, 6, 9, 9) - timedelta(microseconds=1))


def test_saturday_is_closed() -> None:
    assert not CALGARY.is_open(mt(2026, 6, 13, 12))


def test_deadline_accepts_utc_input() -> None:
    received = datetime(2026, 6, 13, 0, 0, tzinfo=UTC)  # Friday 18:00 MDT
    assert response_deadline(received, CALGARY, H24, CAL) == mt(2026, 6, 16, 9)


def test_deadline_accepts_fixed_offset_input() -> None:
    received = datetime(2026, 6, 12, 20, 0, tzinfo=timezone(timedelta(hours=-4)))  # 18:00 MDT
    assert response_deadline(received, CALGARY, H24, CAL) == mt(2026, 6, 16, 9)


def test_deadline_is_returned_in_utc() -> None:
    due = response_deadline(mt(2026, 6, 10, 10), CALGARY, H24, CAL)
    assert due.tzinfo is UTC


def test_clock_mode_accepts_policy_string() -> None:
    due = response_deadline(mt(2026, 6, 10, 10), CALGARY, H24, "calendar")  # type: ignore[arg-type]
    assert due == mt(2026, 6, 11, 10)


def test_zero_target_calendar_is_clock_start() -> None:
    assert response_deadline(mt(2026, 6, 12, 18), CALGARY, timedelta(0), CAL) == mt(2026, 6, 15, 9)


def test_zero_target_business_hours_is_clock_start() -> None:
    assert response_deadline(mt(2026, 6, 12, 18), CALGARY, timedelta(0), BH) == mt(2026, 6, 15, 9)


def test_calendar_target_of_a_week_lands_on_same_weekday() -> None:
    assert response_deadline(mt(2026, 6, 9, 10), CALGARY, timedelta(days=7), CAL) == mt(2026, 6, 16, 10)


def test_calendar_two_hour_target_late_afternoon_moves_to_next_morning() -> None:
    assert response_deadline(mt(2026, 6, 9, 16), CALGARY, timedelta(hours=2), CAL) == mt(2026, 6, 10, 9)


def test_calendar_one_hour_target_ending_exactly_at_close_moves_to_next_opening() -> None:
    # A calendar-clock due instant at 17:00 falls while closed (intervals are half-open).
    assert response_deadline(mt(2026, 6, 9, 16), CALGARY, timedelta(hours=1), CAL) == mt(2026, 6, 10, 9)


# ---------------------------------------------------------------------------------------------
# Business-hours clock.
# ---------------------------------------------------------------------------------------------

BUSINESS_CASES = [
    ("calgary_8h_from_monday_10h_is_tuesday_10h", CALGARY, mt(2026, 6, 8, 10), timedelta(hours=8), mt(2026, 6, 9, 10)),
    ("calgary_24h_is_three_working_days", CALGARY, mt(2026, 6, 8, 9), H24, mt(2026, 6, 10, 17)),
    ("calgary_24h_from_friday_evening", CALGARY, mt(2026, 6, 12, 18), H24, mt(2026, 6, 17, 17)),
    ("calgary_friday_afternoon_skips_weekend", CALGARY, mt(2026, 6, 12, 15), timedelta(hours=4), mt(2026, 6, 15, 11)),
    ("calgary_exhausted_at_close_returns_close", CALGARY, mt(2026, 6, 9, 15), timedelta(hours=2), mt(2026, 6, 9, 17)),
    (
        "calgary_friday_exhausted_at_close_not_monday",
        CALGARY,
        mt(2026, 6, 12, 9),
        timedelta(hours=8),
        mt(2026, 6, 12, 17),
    ),
    (
        "calgary_one_minute_after_close_boundary",
        CALGARY,
        mt(2026, 6, 9, 15),
        timedelta(hours=2, minutes=1),
        mt(2026, 6, 10, 9, 1),
    ),
    ("halifax_8h_spans_lunch_and_night", HALIFAX_CAL, at_(2026, 6, 8, 10), timedelta(hours=8), at_(2026, 6, 9, 11)),
    (
        "halifax_message_at_lunch_counts_from_13h",
        HALIFAX_CAL,
        at_(2026, 6, 8, 12, 30),
        timedelta(hours=2),
        at_(2026, 6, 8, 15),
    ),
    (
        "halifax_exhausted_at_lunch_returns_noon",
        HALIFAX_CAL,
        at_(2026, 6, 8, 11),
        timedelta(hours=1),
        at_(2026, 6, 8, 12),
    ),
    (
        "halifax_just_past_noon_resumes_after_lunch",
        HALIFAX_CAL,
        at_(2026, 6, 8, 11),
        timedelta(hours=1, minutes=15),
        at_(2026, 6, 8, 13, 15),
    ),
    ("halifax_7h_is_one_working_day", HALIFAX_CAL, at_(2026, 6, 8, 8, 30), timedelta(hours=7), at_(2026, 6, 8, 16, 30)),
    ("ottawa_8h_from_friday_noon", OTTAWA, et(2026, 6, 12, 12), timedelta(hours=8), et(2026, 6, 15, 12)),
]


@pytest.mark.parametrize(
    ("calendar", "received", "target", "due"),
    [c[1:] for c in BUSINESS_CASES],
    ids=[c[0] for c in BUSINESS_CASES],
)
def test_business_hours_deadline(
    calendar: BusinessCalendar, received: datetime, target: timedelta, due: datetime
) -> None:
    assert response_deadline(received, calendar, target, BH) == due


@pytest.mark.parametrize(
    ("calendar", "received", "target", "due"),
    [c[1:] for c in BUSINESS_CASES],
    ids=[c[0] for c in BUSINESS_CASES],
)
def test_business_time_between_inverts_business_deadline(
    calendar: BusinessCalendar, received: datetime, target: timedelta, due: datetime
) -> None:
    assert calendar.business_time_between(calendar.clock_start(received), due) == target


def test_halifax_message_at_lunch_starts_at_13h() -> None:
    assert HALIFAX_CAL.clock_start(at_(2026, 6, 8, 12, 30)) == at_(2026, 6, 8, 13)


def test_halifax_calendar_24h_from_lunch_is_next_day_13h() -> None:
    assert response_deadline(at_(2026, 6, 8, 12, 30), HALIFAX_CAL, H24, CAL) == at_(2026, 6, 9, 13)


def test_halifax_calendar_deadline_falling_in_lunch_moves_to_13h() -> None:
    assert response_deadline(
        at_(2026, 6, 8, 12, 0) - timedelta(minutes=30), HALIFAX_CAL, timedelta(hours=24, minutes=45), CAL
    ) == at_(2026, 6, 9, 13)


def test_add_business_time_from_closed_instant_waits_for_opening() -> None:
    assert CALGARY.add_business_time(mt(2026, 6, 13, 12), timedelta(hours=1)) == mt(2026, 6, 15, 10)


def test_add_zero_business_time_returns_start_even_when_closed() -> None:
    assert CALGARY.add_business_time(mt(2026, 6, 13, 12), timedelta(0)) == mt(2026, 6, 13, 12)


def test_add_negative_business_time_is_rejected() -> None:
    with pytest.raises(ValueError):
        CALGARY.add_business_time(mt(2026, 6, 9, 10), timedelta(minutes=-1))


def test_negative_target_is_rejected() -> None:
    with pytest.raises(ValueError):
        response_deadline(mt(2026, 6, 9, 10), CALGARY, timedelta(hours=-1), CAL)


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (mt(2026, 6, 8, 0), mt(2026, 6, 15, 0), timedelta(hours=40)),
        (mt(2026, 6, 12, 16), mt(2026, 6, 15, 10), timedelta(hours=2)),
        (mt(2026, 6, 9, 17), mt(2026, 6, 10, 9), timedelta(0)),
        (mt(2026, 6, 9, 10), mt(2026, 6, 9, 10), timedelta(0)),
        (mt(2026, 6, 9, 12), mt(2026, 6, 9, 10), timedelta(0)),
        (mt(2026, 6, 9, 10), mt(2026, 6, 9, 10, 30), timedelta(minutes=30)),
    ],
    ids=["whole_week", "friday_afternoon_to_monday", "overnight_is_zero", "empty", "reversed_is_zero", "half_hour"],
)
def test_business_time_between_calgary(start: datetime, end: datetime, expected: timedelta) -> None:
    assert CALGARY.business_time_between(start, end) == expected


def test_business_time_between_halifax_day_excludes_lunch() -> None:
    assert HALIFAX_CAL.business_time_between(at_(2026, 6, 8), at_(2026, 6, 9)) == timedelta(hours=7)


@pytest.mark.parametrize(
    ("start", "amount"),
    [
        (at_(2026, 6, 8, 10), timedelta(hours=8)),
        (at_(2026, 6, 12, 15, 45), timedelta(hours=3, minutes=20)),
        (at_(2026, 6, 9, 11, 59), timedelta(minutes=2)),
        (at_(2026, 6, 8, 9), timedelta(days=3)),
    ],
)
def test_add_business_time_and_business_time_between_are_inverse(start: datetime, amount: timedelta) -> None:
    end = HALIFAX_CAL.add_business_time(start, amount)
    assert HALIFAX_CAL.business_time_between(start, end) == amount


# ---------------------------------------------------------------------------------------------
# Holidays, closures, long weekends. The holidays package decides what each province observes.
# ---------------------------------------------------------------------------------------------


def test_holiday_data_matches_what_these_tests_assume() -> None:
    ab = holidays.country_holidays("CA", subdiv="AB", years=[2026, 2027])
    ns = holidays.country_holidays("CA", subdiv="NS", years=[2026, 2027])
    on = holidays.country_holidays("CA", subdiv="ON", years=[2026, 2027])
    assert date(2027, 2, 15) in ab and date(2027, 2, 15) in ns and date(2027, 2, 15) in on
    assert date(2026, 5, 18) in ab and date(2026, 5, 18) not in ns
    assert date(2026, 11, 11) in ab and date(2026, 11, 11) in ns and date(2026, 11, 11) not in on
    assert date(2026, 12, 28) in on and date(2026, 12, 28) not in ab and date(2026, 12, 28) not in ns
    assert date(2027, 3, 29) not in ab  # Easter Monday is not a statutory holiday in Alberta


@pytest.mark.parametrize(
    ("calendar", "day", "expected"),
    [
        (CALGARY, date(2027, 2, 15), True),  # Family Day
        (CALGARY, date(2027, 3, 26), True),  # Good Friday
        (CALGARY, date(2026, 7, 1), True),  # Canada Day
        (CALGARY, date(2026, 12, 25), True),  # Christmas
        (CALGARY, date(2026, 12, 28), False),  # no Boxing Day in AB
        (CALGARY, date(2026, 5, 18), True),  # Victoria Day
        (HALIFAX_CAL, date(2027, 2, 15), True),  # Heritage Day
        (HALIFAX_CAL, date(2026, 5, 18), False),  # no Victoria Day in NS
        (OTTAWA, date(2026, 12, 28), True),  # Boxing Day (observed)
        (OTTAWA, date(2026, 11, 11), False),  # Remembrance Day not in ON
        (CALGARY, date(2026, 6, 10), False),
    ],
    ids=[
        "ab_family_day",
        "ab_good_friday",
        "ab_canada_day",
        "ab_christmas",
        "ab_no_boxing_day",
        "ab_victoria_day",
        "ns_heritage_day",
        "ns_no_victoria_day",
        "on_boxing_day_observed",
        "on_no_remembrance_day",
        "ordinary_wednesday",
    ],
)
def test_is_holiday(calendar: BusinessCalendar, day: date, expected: bool) -> None:
    assert calendar.is_holiday(day) is expected


def test_calendar_without_country_has_no_holidays() -> None:
    assert not EDMONTON_DAILY.is_holiday(date(2026, 12, 25))


def test_closure_is_closed_day_but_not_holiday() -> None:
    assert CALGARY.is_closed_day(date(2026, 12, 24))
    assert not CALGARY.is_holiday(date(2026, 12, 24))


def test_closure_date_is_closed_during_hours() -> None:
    assert not CALGARY.is_open(mt(2026, 12, 24, 10))


def test_holiday_is_closed_during_hours() -> None:
    assert not CALGARY.is_open(mt(2027, 2, 15, 10))


HOLIDAY_CASES = [
    (
        "ab_family_day_friday_evening_starts_tuesday",
        CALGARY,
        mt(2027, 2, 12, 18),
        mt(2027, 2, 16, 9),
        mt(2027, 2, 17, 9),
    ),
    ("ab_message_on_family_day_starts_tuesday", CALGARY, mt(2027, 2, 15, 10), mt(2027, 2, 16, 9), mt(2027, 2, 17, 9)),
    (
        "ab_friday_due_lands_on_family_day_moves_to_tuesday",
        CALGARY,
        mt(2027, 2, 12, 10),
        mt(2027, 2, 12, 10),
        mt(2027, 2, 16, 9),
    ),
    (
        "ab_thursday_due_good_friday_moves_to_easter_monday",
        CALGARY,
        mt(2027, 3, 25, 10),
        mt(2027, 3, 25, 10),
        mt(2027, 3, 29, 9),
    ),
    ("ab_message_on_good_friday_starts_monday", CALGARY, mt(2027, 3, 26, 10), mt(2027, 3, 29, 9), mt(2027, 3, 30, 9)),
    (
        "ab_tuesday_due_canada_day_moves_to_thursday",
        CALGARY,
        mt(2026, 6, 30, 10),
        mt(2026, 6, 30, 10),
        mt(2026, 7, 2, 9),
    ),
    (
        "ab_closure_then_christmas_then_weekend",
        CALGARY,
        mt(2026, 12, 23, 10),
        mt(2026, 12, 23, 10),
        mt(2026, 12, 28, 9),
    ),
    (
        "ab_message_on_closure_day_starts_after_christmas_weekend",
        CALGARY,
        mt(2026, 12, 24, 10),
        mt(2026, 12, 28, 9),
        mt(2026, 12, 29, 9),
    ),
    ("ab_victoria_day_long_weekend", CALGARY, mt(2026, 5, 15, 17, 30), mt(2026, 5, 19, 9), mt(2026, 5, 20, 9)),
    ("ab_remembrance_day", CALGARY, mt(2026, 11, 10, 10), mt(2026, 11, 10, 10), mt(2026, 11, 12, 9)),
    ("ns_no_victoria_day", HALIFAX_CAL, at_(2026, 5, 15, 17, 30), at_(2026, 5, 18, 8, 30), at_(2026, 5, 19, 8, 30)),
    (
        "ns_heritage_day_long_weekend",
        HALIFAX_CAL,
        at_(2027, 2, 12, 17),
        at_(2027, 2, 16, 8, 30),
        at_(2027, 2, 17, 8, 30),
    ),
    (
        "ns_no_closure_on_christmas_eve",
        HALIFAX_CAL,
        at_(2026, 12, 23, 10),
        at_(2026, 12, 23, 10),
        at_(2026, 12, 24, 10),
    ),
    (
        "on_christmas_then_boxing_day_observed",
        OTTAWA,
        et(2026, 12, 24, 10),
        et(2026, 12, 24, 10),
        et(2026, 12, 29, 8, 30),
    ),
    ("on_remembrance_day_is_open", OTTAWA, et(2026, 11, 10, 10), et(2026, 11, 10, 10), et(2026, 11, 11, 10)),
    ("on_labour_day_long_weekend", OTTAWA, et(2026, 9, 4, 17), et(2026, 9, 8, 8, 30), et(2026, 9, 9, 8, 30)),
    ("on_new_year", OTTAWA, et(2026, 12, 31, 10), et(2026, 12, 31, 10), et(2027, 1, 4, 8, 30)),
]


@pytest.mark.parametrize(
    ("calendar", "received", "start", "due"),
    [c[1:] for c in HOLIDAY_CASES],
    ids=[c[0] for c in HOLIDAY_CASES],
)
def test_holiday_calendar_deadlines(
    calendar: BusinessCalendar, received: datetime, start: datetime, due: datetime
) -> None:
    assert calendar.clock_start(received) == start
    assert response_deadline(received, calendar, H24, CAL) == due


def test_business_hours_skip_family_day() -> None:
    assert response_deadline(mt(2027, 2, 12, 13), CALGARY, timedelta(hours=8), BH) == mt(2027, 2, 16, 13)


def test_business_time_between_over_christmas_week_in_calgary() -> None:
    # Mon 21 - Wed 23 open, Thu 24 closure, Fri 25 Christmas.
    assert CALGARY.business_time_between(mt(2026, 12, 21), mt(2026, 12, 28)) == timedelta(hours=24)


def test_business_time_between_over_christmas_week_in_ottawa() -> None:
    # Mon 21 - Thu 24 open, Fri 25 Christmas.
    assert OTTAWA.business_time_between(et(2026, 12, 21), et(2026, 12, 28)) == timedelta(hours=32)


def test_holiday_lookup_in_2028() -> None:
    assert CALGARY.is_holiday(date(2028, 7, 1)) is (
        date(2028, 7, 1) in holidays.country_holidays("CA", subdiv="AB", years=2028)
    )


# ---------------------------------------------------------------------------------------------
# Daylight saving time. Alberta keeps UTC-6 all year since tzdata 2026f, so these run on Denver, which
# keeps the Mountain rules Edmonton had (2026-11-01 02:00 MDT -> 01:00 MST; 2027-03-14 02:00 MST -> 03:00 MDT).
# ---------------------------------------------------------------------------------------------


def test_saturday_night_before_spring_forward_starts_monday_nine_mdt() -> None:
    start = MOUNTAIN.clock_start(mdt(2027, 3, 13, 22))
    assert start == datetime(2027, 3, 15, 15, 0, tzinfo=UTC)
    assert start.astimezone(DENVER).utcoffset() == timedelta(hours=-6)


def test_saturday_night_before_spring_forward_due_tuesday_nine_mdt() -> None:
    assert response_deadline(mdt(2027, 3, 13, 22), MOUNTAIN, H24, CAL) == datetime(2027, 3, 16, 15, 0, tzinfo=UTC)


def test_friday_before_fall_back_due_monday_nine_mst() -> None:
    due = response_deadline(mdt(2026, 10, 30, 18), MOUNTAIN, H24, CAL)
    assert due == datetime(2026, 11, 3, 16, 0, tzinfo=UTC)


def test_opening_hours_follow_wall_clock_across_fall_back() -> None:
    assert MOUNTAIN.next_opening(mdt(2026, 10, 30, 18)) == datetime(2026, 11, 2, 16, 0, tzinfo=UTC)


def test_24h_calendar_target_across_spring_forward_is_25_wall_hours() -> None:
    received = mdt(2027, 3, 13, 12)  # Saturday 12:00 MST
    due = response_deadline(received, DENVER_DAILY, H24, CAL)
    assert due - received == H24
    assert due.astimezone(DENVER).replace(tzinfo=None) == datetime(2027, 3, 14, 13, 0)


def test_24h_calendar_target_across_fall_back_is_23_wall_hours() -> None:
    received = mdt(2026, 10, 31, 12)  # Saturday 12:00 MDT
    due = response_deadline(received, DENVER_DAILY, H24, CAL)
    assert due - received == H24
    assert due.astimezone(DENVER).replace(tzinfo=None) == datetime(2026, 11, 1, 11, 0)


def test_24h_after_saturday_evening_before_spring_forward_is_after_sunday_close() -> None:
    # Wall-clock arithmetic would give Sunday 19:30 (open); 24 real hours is Sunday 20:30 MDT (closed).
    due = response_deadline(mdt(2027, 3, 13, 19, 30), DENVER_DAILY, H24, CAL)
    assert due == mdt(2027, 3, 15, 8)


def test_24h_after_saturday_morning_before_fall_back_is_before_sunday_opening() -> None:
    # Wall-clock arithmetic would give Sunday 08:30 (open); 24 real hours is Sunday 07:30 MST (closed).
    due = response_deadline(mdt(2026, 10, 31, 8, 30), DENVER_DAILY, H24, CAL)
    assert due == mdt(2026, 11, 1, 8)


@pytest.mark.parametrize(
    "received",
    [
        mdt(2027, 3, 13, 12),
        mdt(2027, 3, 14, 1, 30),
        mdt(2027, 3, 14, 3, 0),
        mdt(2026, 10, 31, 12),
        local(DENVER, 2026, 11, 1, 1, 30, fold=0),
        local(DENVER, 2026, 11, 1, 1, 30, fold=1),
        mdt(2026, 6, 10, 23, 59),
    ],
)
def test_24_7_calendar_deadline_is_exactly_24_real_hours(received: datetime) -> None:
    due = response_deadline(received, DENVER_24_7, H24, CAL)
    assert due == received.astimezone(UTC) + H24
    assert due.tzinfo is UTC


def test_24_7_business_hours_deadline_is_exactly_24_real_hours_across_dst() -> None:
    received = mdt(2027, 3, 13, 12)
    # Compare in UTC: ``received + H24`` on a zoneinfo datetime would be wall-clock arithmetic.
    assert response_deadline(received, DENVER_24_7, H24, BH) == received.astimezone(UTC) + H24


def test_24_7_calendar_is_open_at_midnight() -> None:
    assert DENVER_24_7.is_open(mdt(2026, 6, 10, 0, 0))


def test_24_7_spring_forward_day_has_23_open_hours() -> None:
    assert DENVER_24_7.business_time_between(mdt(2027, 3, 14), mdt(2027, 3, 15)) == timedelta(hours=23)


def test_24_7_fall_back_day_has_25_open_hours() -> None:
    assert DENVER_24_7.business_time_between(mdt(2026, 11, 1), mdt(2026, 11, 2)) == timedelta(hours=25)


def test_24_7_intervals_touch_at_midnight() -> None:
    assert DENVER_24_7.current_interval_end(mdt(2026, 6, 10, 10)) == mdt(2026, 6, 11)
    assert DENVER_24_7.next_opening(mdt(2026, 6, 10, 10)) == mdt(2026, 6, 11)


def test_business_hours_across_spring_forward_count_real_hours() -> None:
    # Sunday 2027-03-14 is open 08:00-20:00 MDT (12 real hours) whatever the night did.
    cal = DENVER_DAILY
    assert cal.business_time_between(mdt(2027, 3, 14), mdt(2027, 3, 15)) == timedelta(hours=12)


NIGHT_HOURS = BusinessCalendar.from_strings(
    "America/Denver", {"sun": [["01:00", "05:00"]], "sat": [["22:00", "24:00"]]}
)


def test_interval_spanning_spring_forward_gap_is_three_real_hours() -> None:
    assert NIGHT_HOURS.business_time_between(mdt(2027, 3, 14), mdt(2027, 3, 15)) == timedelta(hours=3)


def test_interval_spanning_fall_back_repeat_is_five_real_hours() -> None:
    assert NIGHT_HOURS.business_time_between(mdt(2026, 11, 1), mdt(2026, 11, 2)) == timedelta(hours=5)


def test_ambiguous_wall_time_means_first_occurrence() -> None:
    cal = BusinessCalendar.from_strings("America/Denver", {"sun": [["01:30", "03:00"]]})
    # Ambiguous local datetimes never compare equal across zones (PEP 495), so compare in UTC.
    first = local(DENVER, 2026, 11, 1, 1, 30, fold=0).astimezone(UTC)
    assert first == datetime(2026, 11, 1, 7, 30, tzinfo=UTC)
    assert cal.next_opening(mdt(2026, 11, 1, 0)) == first
    assert cal.business_time_between(mdt(2026, 11, 1), mdt(2026, 11, 2)) == timedelta(hours=2, minutes=30)


def test_nonexistent_opening_time_maps_to_the_jump() -> None:
    cal = BusinessCalendar.from_strings("America/Denver", {"sun": [["02:30", "04:00"]]})
    opening = cal.next_opening(mdt(2027, 3, 14, 0))
    assert opening == datetime(2027, 3, 14, 9, 0, tzinfo=UTC)  # 03:00 MDT
    assert cal.business_time_between(mdt(2027, 3, 14), mdt(2027, 3, 15)) == timedelta(hours=1)


def test_interval_entirely_inside_spring_forward_gap_is_empty() -> None:
    cal = BusinessCalendar.from_strings("America/Denver", {"sun": [["02:10", "02:50"], ["09:00", "10:00"]]})
    assert cal.next_opening(mdt(2027, 3, 14, 0)) == mdt(2027, 3, 14, 9)
    assert cal.next_opening(mdt(2027, 3, 7, 0)) == mdt(2027, 3, 7, 2, 10)


def test_halifax_and_toronto_spring_forward_openings() -> None:
    assert HALIFAX_CAL.clock_start(at_(2027, 3, 13, 12)) == datetime(2027, 3, 15, 11, 30, tzinfo=UTC)
    assert OTTAWA.clock_start(et(2027, 3, 13, 12)) == datetime(2027, 3, 15, 12, 30, tzinfo=UTC)


# ---------------------------------------------------------------------------------------------
# next_opening, current_interval_end, open_intervals, closed_period_start.
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("calendar", "at", "expected"),
    [
        (CALGARY, mt(2026, 6, 9, 9), mt(2026, 6, 9, 9)),
        (CALGARY, mt(2026, 6, 9, 10), mt(2026, 6, 10, 9)),
        (CALGARY, mt(2026, 6, 9, 17), mt(2026, 6, 10, 9)),
        (CALGARY, mt(2026, 6, 12, 12), mt(2026, 6, 15, 9)),
        (HALIFAX_CAL, at_(2026, 6, 8, 10), at_(2026, 6, 8, 13)),
        (HALIFAX_CAL, at_(2026, 6, 8, 12), at_(2026, 6, 8, 13)),
        (HALIFAX_CAL, at_(2026, 6, 8, 13), at_(2026, 6, 8, 13)),
        (HALIFAX_CAL, at_(2026, 6, 8, 14), at_(2026, 6, 9, 8, 30)),
    ],
    ids=[
        "exactly_at_opening_returns_it",
        "inside_interval_returns_next_day",
        "at_close_returns_next_day",
        "friday_noon_returns_monday",
        "halifax_morning_returns_afternoon",
        "halifax_noon_returns_13h",
        "halifax_13h_returns_itself",
        "halifax_afternoon_returns_next_morning",
    ],
)
def test_next_opening(calendar: BusinessCalendar, at: datetime, expected: datetime) -> None:
    result = calendar.next_opening(at)
    assert result == expected
    assert result.tzinfo is UTC


@pytest.mark.parametrize(
    ("calendar", "at", "expected"),
    [
        (HALIFAX_CAL, at_(2026, 6, 8, 10), at_(2026, 6, 8, 12)),
        (HALIFAX_CAL, at_(2026, 6, 8, 12, 30), None),
        (HALIFAX_CAL, at_(2026, 6, 8, 13), at_(2026, 6, 8, 16, 30)),
        (CALGARY, mt(2026, 6, 9, 16, 59), mt(2026, 6, 9, 17)),
        (CALGARY, mt(2026, 6, 9, 17), None),
        (CALGARY, mt(2027, 2, 15, 10), None),
    ],
    ids=["halifax_morning", "halifax_lunch", "halifax_13h", "calgary_late", "calgary_at_close", "family_day"],
)
def test_current_interval_end(calendar: BusinessCalendar, at: datetime, expected: datetime | None) -> None:
    assert calendar.current_interval_end(at) == expected


def test_open_intervals_halifax_day_has_two_intervals() -> None:
    got = list(HALIFAX_CAL.open_intervals(at_(2026, 6, 8), at_(2026, 6, 9)))
    assert got == [(at_(2026, 6, 8, 8, 30), at_(2026, 6, 8, 12)), (at_(2026, 6, 8, 13), at_(2026, 6, 8, 16, 30))]
    assert all(s.tzinfo is UTC and e.tzinfo is UTC for s, e in got)


def test_open_intervals_are_clipped_to_window() -> None:
    got = list(HALIFAX_CAL.open_intervals(at_(2026, 6, 8, 10), at_(2026, 6, 8, 14)))
    assert got == [(at_(2026, 6, 8, 10), at_(2026, 6, 8, 12)), (at_(2026, 6, 8, 13), at_(2026, 6, 8, 14))]


def test_open_intervals_empty_window() -> None:
    assert list(CALGARY.open_intervals(mt(2026, 6, 9, 10), mt(2026, 6, 9, 10))) == []


def test_open_intervals_over_weekend_is_empty() -> None:
    assert list(CALGARY.open_intervals(mt(2026, 6, 12, 17), mt(2026, 6, 15, 9))) == []


def test_open_intervals_of_never_open_calendar_is_empty_not_an_error() -> None:
    assert list(NEVER_OPEN.open_intervals(mt(2026, 1, 1), mt(2028, 1, 1))) == []


CLOSED_PERIOD_CASES = [
    ("friday_18h_began_friday_17h", CALGARY, mt(2026, 6, 12, 18), mt(2026, 6, 12, 17)),
    ("saturday_began_friday_17h", CALGARY, mt(2026, 6, 13, 12), mt(2026, 6, 12, 17)),
    ("sunday_night_began_friday_17h", CALGARY, mt(2026, 6, 14, 23, 59), mt(2026, 6, 12, 17)),
    ("monday_early_began_friday_17h", CALGARY, mt(2026, 6, 15, 8), mt(2026, 6, 12, 17)),
    ("tuesday_08h_began_monday_17h", CALGARY, mt(2026, 6, 16, 8), mt(2026, 6, 15, 17)),
    ("exactly_at_close_began_now", CALGARY, mt(2026, 6, 16, 17), mt(2026, 6, 16, 17)),
    ("after_family_day_began_friday", CALGARY, mt(2027, 2, 16, 8), mt(2027, 2, 12, 17)),
    ("halifax_lunch_began_noon", HALIFAX_CAL, at_(2026, 6, 8, 12, 30), at_(2026, 6, 8, 12)),
    ("halifax_evening_began_16h30", HALIFAX_CAL, at_(2026, 6, 8, 20), at_(2026, 6, 8, 16, 30)),
]


@pytest.mark.parametrize(
    ("calendar", "at", "expected"),
    [c[1:] for c in CLOSED_PERIOD_CASES],
    ids=[c[0] for c in CLOSED_PERIOD_CASES],
)
def test_closed_period_start(calendar: BusinessCalendar, at: datetime, expected: datetime) -> None:
    result = calendar.closed_period_start(at)
    assert result == expected
    assert result is not None and result.tzinfo is UTC


def test_closed_period_start_is_none_while_open() -> None:
    assert CALGARY.closed_period_start(mt(2026, 6, 16, 10)) is None


def test_closed_period_start_same_for_all_messages_in_one_closed_period() -> None:
    instants = [mt(2026, 6, 12, 17, 1), mt(2026, 6, 13, 3), mt(2026, 6, 14, 15), mt(2026, 6, 15, 8, 59)]
    assert len({CALGARY.closed_period_start(i) for i in instants}) == 1


def test_closed_period_start_of_never_open_calendar_is_start_of_search_window() -> None:
    assert NEVER_OPEN.closed_period_start(mt(2026, 6, 10, 15)) == mt(2026, 6, 10) - timedelta(days=400)


# ---------------------------------------------------------------------------------------------
# Construction and validation.
# ---------------------------------------------------------------------------------------------


def test_from_strings_builds_expected_hours() -> None:
    assert HALIFAX_CAL.hours[0] == ((time(8, 30), time(12, 0)), (time(13, 0), time(16, 30)))
    assert HALIFAX_CAL.hours[5] == ()
    assert CALGARY.closures == frozenset({date(2026, 12, 24)})


def test_from_strings_24h_end_is_midnight() -> None:
    assert EDMONTON_24_7.hours[2] == ((time(0, 0), time(0, 0)),)


def test_touching_intervals_are_merged() -> None:
    cal = BusinessCalendar.from_strings("America/Edmonton", {"mon": [["09:00", "12:00"], ["12:00", "17:00"]]})
    assert cal.hours[0] == ((time(9), time(17)),)


def test_unsorted_intervals_are_sorted() -> None:
    cal = BusinessCalendar.from_strings("America/Edmonton", {"mon": [["13:00", "17:00"], ["09:00", "12:00"]]})
    assert cal.hours[0] == ((time(9), time(12)), (time(13), time(17)))


def test_direct_construction_with_time_objects() -> None:
    cal = BusinessCalendar("America/Edmonton", {0: ((time(9), time(17)),)}, "CA", "AB", frozenset({date(2026, 6, 8)}))
    assert not cal.is_open(mt(2026, 6, 8, 10))
    assert cal.is_open(mt(2026, 6, 15, 10))


def test_equal_calendars_are_equal_and_hashable() -> None:
    other = BusinessCalendar.from_strings(
        "America/Edmonton",
        {day: [["09:00", "17:00"]] for day in WEEKDAYS},
        holiday_country="CA",
        holiday_subdivision="AB",
        closures=["2026-12-24"],
    )
    assert other == CALGARY
    assert hash(other) == hash(CALGARY)


def test_zone_is_zoneinfo() -> None:
    assert CALGARY.zone() == EDMONTON


BAD_HOURS = [
    ("single_digit_hour", {"mon": [["9:00", "17:00"]]}, "HH:MM"),
    ("hour_25", {"mon": [["09:00", "25:00"]]}, "not a valid time"),
    ("minute_60", {"mon": [["09:60", "17:00"]]}, "not a valid time"),
    ("words", {"mon": [["noon", "17:00"]]}, "HH:MM"),
    ("24h_as_start", {"mon": [["24:00", "24:00"]]}, "only allowed as the end"),
    ("end_before_start", {"mon": [["17:00", "09:00"]]}, "not after"),
    ("end_equals_start", {"mon": [["09:00", "09:00"]]}, "not after"),
    ("end_at_00h", {"mon": [["09:00", "00:00"]]}, "24:00"),
    ("overlap", {"mon": [["09:00", "12:00"], ["11:00", "17:00"]]}, "overlap"),
    ("contained_overlap", {"mon": [["09:00", "17:00"], ["10:00", "11:00"]]}, "overlap"),
    ("unknown_day", {"monday": [["09:00", "17:00"]]}, "unknown day"),
    ("string_instead_of_list", {"mon": "09:00-17:00"}, "list"),
    ("three_element_interval", {"mon": [["09:00", "12:00", "17:00"]]}, "pair"),
    ("number_instead_of_string", {"mon": [[9, 17]]}, "HH:MM"),
]


@pytest.mark.parametrize(("hours", "message"), [c[1:] for c in BAD_HOURS], ids=[c[0] for c in BAD_HOURS])
def test_bad_hours_are_rejected_with_clear_message(hours: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        BusinessCalendar.from_strings("America/Edmonton", hours)


def test_error_message_names_the_day() -> None:
    with pytest.raises(ValueError, match=r"hours\.wed"):
        BusinessCalendar.from_strings("America/Edmonton", {"wed": [["17:00", "09:00"]]})


@pytest.mark.parametrize(
    "kwargs",
    [
        {"timezone": "Mars/Olympus_Mons"},
        {"timezone": ""},
        {"closures": ["2026-13-01"]},
        {"closures": ["24/12/2026"]},
        {"closures": "2026-12-24"},
        {"holiday_country": "XX"},
        {"holiday_country": "CA", "holiday_subdivision": "ZZ"},
        {"holiday_subdivision": "AB"},
    ],
    ids=[
        "unknown_zone",
        "empty_zone",
        "bad_month",
        "non_iso_closure",
        "closures_as_string",
        "bad_country",
        "bad_subdivision",
        "subdivision_without_country",
    ],
)
def test_bad_calendar_settings_are_rejected(kwargs: dict) -> None:
    args = {"timezone": "America/Edmonton", "hours": {"mon": [["09:00", "17:00"]]}} | kwargs
    with pytest.raises(ValueError):
        BusinessCalendar.from_strings(**args)


def test_direct_construction_rejects_bad_weekday() -> None:
    with pytest.raises(ValueError, match="weekday"):
        BusinessCalendar("America/Edmonton", {7: ((time(9), time(17)),)})


def test_direct_construction_rejects_overlap() -> None:
    with pytest.raises(ValueError, match="overlap"):
        BusinessCalendar("America/Edmonton", {0: ((time(9), time(12)), (time(11), time(17)))})


def test_direct_construction_rejects_aware_times() -> None:
    with pytest.raises(ValueError, match="wall-clock"):
        BusinessCalendar("America/Edmonton", {0: ((time(9, tzinfo=UTC), time(17, tzinfo=UTC)),)})


NAIVE = datetime(2026, 6, 9, 10, 0)


@pytest.mark.parametrize(
    "call",
    [
        lambda: CALGARY.is_open(NAIVE),
        lambda: CALGARY.next_opening(NAIVE),
        lambda: CALGARY.clock_start(NAIVE),
        lambda: CALGARY.current_interval_end(NAIVE),
        lambda: list(CALGARY.open_intervals(NAIVE, mt(2026, 6, 10))),
        lambda: list(CALGARY.open_intervals(mt(2026, 6, 8), NAIVE)),
        lambda: CALGARY.add_business_time(NAIVE, H24),
        lambda: CALGARY.business_time_between(NAIVE, mt(2026, 6, 10)),
        lambda: CALGARY.closed_period_start(NAIVE),
        lambda: response_deadline(NAIVE, CALGARY, H24, CAL),
        lambda: response_deadline(NAIVE, CALGARY, H24, BH),
    ],
    ids=[
        "is_open",
        "next_opening",
        "clock_start",
        "current_interval_end",
        "open_intervals_start",
        "open_intervals_end",
        "add_business_time",
        "business_time_between",
        "closed_period_start",
        "deadline_calendar",
        "deadline_business_hours",
    ],
)
def test_naive_datetime_is_rejected(call) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match="aware"):
        call()


def test_calendar_that_never_opens_raises_on_next_opening() -> None:
    with pytest.raises(ValueError, match="calendar never opens"):
        NEVER_OPEN.next_opening(mt(2026, 6, 9, 10))


def test_calendar_that_never_opens_raises_on_deadline() -> None:
    with pytest.raises(ValueError, match="calendar never opens"):
        response_deadline(mt(2026, 6, 9, 10), NEVER_OPEN, H24, CAL)


def test_calendar_that_never_opens_raises_on_add_business_time() -> None:
    with pytest.raises(ValueError, match="calendar never opens"):
        NEVER_OPEN.add_business_time(mt(2026, 6, 9, 10), timedelta(minutes=1))


def test_calendar_closed_by_closures_for_over_400_days_never_opens() -> None:
    first = date(2026, 6, 1)
    closures = [(first + timedelta(days=i)).isoformat() for i in range(450)]
    cal = BusinessCalendar.from_strings("America/Edmonton", {"mon": [["09:00", "17:00"]]}, closures=closures)
    with pytest.raises(ValueError, match="calendar never opens"):
        cal.next_opening(mt(2026, 6, 1))


def test_calendar_open_after_long_closure_still_opens() -> None:
    first = date(2026, 6, 1)
    closures = [(first + timedelta(days=i)).isoformat() for i in range(300)]
    cal = BusinessCalendar.from_strings("America/Edmonton", {"mon": [["09:00", "17:00"]]}, closures=closures)
    assert cal.next_opening(mt(2026, 6, 1)) == mt(2027, 3, 29, 9)


def test_is_holiday_rejects_a_datetime() -> None:
    with pytest.raises(ValueError, match="date"):
        CALGARY.is_holiday(datetime(2026, 12, 25, 10, tzinfo=EDMONTON))


def test_calendar_survives_pickle_and_deepcopy() -> None:
    import copy
    import pickle

    for clone in (pickle.loads(pickle.dumps(HALIFAX_CAL)), copy.deepcopy(HALIFAX_CAL)):
        assert clone == HALIFAX_CAL
        assert clone.clock_start(at_(2026, 6, 8, 12, 30)) == at_(2026, 6, 8, 13)


def test_dataclass_replace_keeps_validation_and_fresh_caches() -> None:
    import dataclasses

    closed = dataclasses.replace(CALGARY, closures=frozenset({date(2026, 6, 10)}))
    assert not closed.is_open(mt(2026, 6, 10, 10))
    assert CALGARY.is_open(mt(2026, 6, 10, 10))


def test_calendar_is_immutable() -> None:
    import dataclasses

    with pytest.raises(dataclasses.FrozenInstanceError):
        CALGARY.timezone = "America/Toronto"  # type: ignore[misc]
    with pytest.raises(TypeError):
        CALGARY.hours[5] = ((time(9), time(17)),)  # type: ignore[index]
