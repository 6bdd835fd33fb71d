"""The dashboard's pure arithmetic: weeks, the hour-of-week grid against opening hours, rates."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from chalicelib.domain import compliance_days as cd
from chalicelib.domain import dashboard as d
from chalicelib.domain.reporting import AuditRecord, ComplianceFigures, period_of
from chalicelib.domain.usage import days_between

ZONE = ZoneInfo("America/Edmonton")


def event(audit_type: str, at: datetime, staff: str = "amal", **details) -> AuditRecord:
    return AuditRecord(event_id=f"ev_{at.timestamp():.0f}", type=audit_type, at=at, actor=staff, staff_id=staff,
                       details=details)


def test_weeks_run_monday_to_sunday_clipped_to_the_period():
    period = period_of(date(2026, 11, 1), date(2026, 11, 18), ZONE)  # a Sunday to a Wednesday
    assert d.weeks_of(period) == [
        (date(2026, 11, 1), date(2026, 11, 1)), (date(2026, 11, 2), date(2026, 11, 8)),
        (date(2026, 11, 9), date(2026, 11, 15)), (date(2026, 11, 16), date(2026, 11, 18))]


def test_a_breach_counts_in_the_local_week_it_happened():
    period = period_of(date(2026, 11, 2), date(2026, 11, 15), ZONE)
    # Sunday 8 Nov 23:30 local is Monday 05:30 UTC (Alberta on UTC-6 all year): still the first week
    events = [event("inquiry.breached", datetime(2026, 11, 9, 5, 30, tzinfo=UTC)),
              event("inquiry.breached", datetime(2026, 11, 10, 17, tzinfo=UTC), staff="jean"),
              event("boundary.override", datetime(2026, 11, 10, 17, tzinfo=UTC))]
    days = cd.facts_for_days(days_between(period.first_day, period.last_day), ZONE, [], events, lambda at: True)
    weeks = cd.weeks(period, days.values())
    assert [(w.breaches, dict(w.by_worker)) for w in weeks] == [(1, {"amal": 1}), (1, {"jean": 1})]


def test_open_minutes_follow_the_weekly_intervals_including_a_midnight_end():
    day = [(time(9, 0), time(12, 30)), (time(13, 0), time(17, 0))]
    assert [d.open_minutes(day, h) for h in (8, 9, 12, 13, 16, 17)] == [0, 60, 30, 60, 60, 0]
    assert d.open_minutes([(time(22, 15), time(0, 0))], 23) == 60
    assert d.open_minutes([(time(22, 15), time(0, 0))], 22) == 45


def test_client_messages_are_gridded_by_local_hour_and_closed_ones_counted():
    period = period_of(date(2026, 11, 16), date(2026, 11, 22), ZONE)
    monday_20h = datetime(2026, 11, 17, 2, tzinfo=UTC)  # Mon 20:00 local (UTC-6)
    monday_11h = datetime(2026, 11, 16, 17, tzinfo=UTC)
    events = [event("message.filed", monday_20h, direction="inbound", kind="client"),
              event("message.filed", monday_11h, direction="inbound", kind="client"),
              event("message.filed", monday_11h, direction="outbound", kind="staff")]
    hours = {0: [(time(9), time(17))]}
    days = cd.facts_for_days(days_between(period.first_day, period.last_day), ZONE, [], events,
                             lambda at: at == monday_11h)
    grid = cd.pressure(days.values(), hours)
    cells = {(c.weekday, c.hour): c for c in grid.cells}
    assert (grid.messages, grid.after_hours) == (2, 1)
    assert (cells[(0, 20)].messages, cells[(0, 20)].after_hours, cells[(0, 20)].open_minutes) == (1, 1, 0)
    assert (cells[(0, 11)].messages, cells[(0, 11)].after_hours, cells[(0, 11)].open_minutes) == (1, 0, 60)


def test_the_on_time_rate_is_none_without_inquiries():
    assert d.on_time_rate(ComplianceFigures()) is None
    assert d.on_time_rate(ComplianceFigures(inquiries=3, answered_on_time=2)) == 0.6667


def test_a_review_id_is_the_events_place_in_the_trail():
    rid = d.review_id(datetime(2026, 11, 17, 4, tzinfo=UTC), "ev_abc")
    assert rid == "2026-11-17T04:00:00.000000Z#ev_abc" and d.REVIEW_ID.fullmatch(rid)
    assert d.reviewed_event(rid) == (datetime(2026, 11, 17, 4, tzinfo=UTC), "ev_abc")


@pytest.mark.parametrize("text", ["", "ev_abc", "2026-11-17T04:00:00Z#ev_abc", "2026-13-17T04:00:00.000000Z#ev_abc",
                                  "2026-11-17T04:00:00.000000Z#", "2026-11-17T04:00:00.000000Z#ev abc"])
def test_text_that_names_no_event_is_no_review_id(text):
    assert d.reviewed_event(text) is None
