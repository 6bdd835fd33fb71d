"""Pure report arithmetic: periods in agency-local days, percentiles, compliance and usage counts."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from chalicelib.domain import reporting as r
from chalicelib.domain.audit import AuditType
from chalicelib.domain.errors import InvalidInput
from chalicelib.domain.inquiry import InquiryStatus

EDMONTON = ZoneInfo("America/Edmonton")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def event(audit_type: AuditType, at: datetime, staff: str | None = "amal", client: str | None = "c1", **details):
    return r.AuditRecord(event_id=f"ev{at.timestamp()}{audit_type.value}{client}", type=audit_type.value, at=at, actor="x",
                         staff_id=staff, client_id=client, details=details)


def inquiry(iid: str, opened: datetime, staff: str = "amal", status=InquiryStatus.ANSWERED, late=False,
            breached=False, minutes: float | None = 30.0) -> r.InquiryFact:
    return r.InquiryFact(iid, "c1", staff, opened, status, late, breached, minutes)


# --- periods -------------------------------------------------------------------------------------


def test_local_days_become_utc_bounds_in_the_agency_zone():
    period = r.parse_period({"from": "2026-03-01", "to": "2026-03-31"}, EDMONTON)
    assert period.start == utc(2026, 3, 1, 7)  # MST, UTC-7
    assert period.end == utc(2026, 4, 1, 6)  # MDT from 8 March, UTC-6
    assert period.days == 31


def test_the_day_of_the_spring_change_is_23_hours_long():
    period = r.parse_period({"from": "2026-03-08", "to": "2026-03-08"}, EDMONTON)
    assert period.end - period.start == timedelta(hours=23)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"to": "2026-01-01"}, "from"),
        ({"from": "2026-01-01"}, "to"),
        ({"from": "2026-13-01", "to": "2026-12-31"}, "from"),
        ({"from": "2026-02-30", "to": "2026-03-01"}, "from"),
        ({"from": "20260101", "to": "2026-03-01"}, "from"),
        ({"from": "2026-01-01", "to": "2026-01-01T00:00"}, "to"),
        ({"from": "2026-02-01", "to": "2026-01-31"}, "to"),
        ({"from": "2025-01-01", "to": "2026-01-02"}, "to"),
    ],
)
def test_bad_periods_name_the_field(params, field):
    with pytest.raises(InvalidInput) as err:
        r.parse_period(params, EDMONTON)
    assert err.value.field == field


def test_a_full_leap_year_is_the_longest_period_allowed():
    assert r.parse_period({"from": "2028-01-01", "to": "2028-12-31"}, EDMONTON).days == 366


def test_months_are_clipped_to_the_period():
    period = r.parse_period({"from": "2026-01-15", "to": "2026-03-10"}, EDMONTON)
    months = r.month_periods(period, EDMONTON)
    assert [(m.first_day, m.last_day) for m in months] == [
        (date(2026, 1, 15), date(2026, 1, 31)),
        (date(2026, 2, 1), date(2026, 2, 28)),
        (date(2026, 3, 1), date(2026, 3, 10)),
    ]
    assert months[0].end == months[1].start and months[-1].end == period.end


def test_december_rolls_over_into_january():
    period = r.parse_period({"from": "2026-12-20", "to": "2027-01-05"}, EDMONTON)
    assert [m.first_day for m in r.month_periods(period, EDMONTON)] == [date(2026, 12, 20), date(2027, 1, 1)]


# --- percentiles ---------------------------------------------------------------------------------


def test_nearest_rank_percentiles_pick_real_observations():
    values = [50, 10, 40, 20, 30]
    assert r.percentile(values, 50) == 30
    assert r.percentile(values, 90) == 50
    assert r.percentile(values, 0) == 10
    assert r.percentile(list(range(1, 11)), 90) == 9
    assert r.percentile([7], 90) == 7
    assert r.percentile([], 50) is None


# --- compliance ----------------------------------------------------------------------------------

MARCH = r.parse_period({"from": "2026-03-02", "to": "2026-03-06"}, EDMONTON)


def test_compliance_counts_each_workers_inquiries_and_boundary_events():
    inquiries = [
        inquiry("i1", utc(2026, 3, 2, 17), minutes=10),
        inquiry("i2", utc(2026, 3, 3, 17), minutes=20),
        inquiry("i3", utc(2026, 3, 4, 17), status=InquiryStatus.ANSWERED, late=True, breached=True, minutes=900),
        inquiry("i4", utc(2026, 3, 5, 17), status=InquiryStatus.OPEN, minutes=None),
        inquiry("j1", utc(2026, 3, 5, 18), staff="jean", status=InquiryStatus.BREACHED, breached=True, minutes=None),
        inquiry("old", utc(2026, 3, 1, 17), minutes=1),  # Sunday 1 March: before the period
    ]
    events = [
        event(AuditType.STAFF_MESSAGE_HELD, utc(2026, 3, 3, 2), message_id="m1"),
        event(AuditType.STAFF_MESSAGE_HELD, utc(2026, 3, 4, 2), message_id="m2"),
        event(AuditType.OVERRIDE, utc(2026, 3, 4, 3), client="c9", reason="eviction tonight", message_id="m3"),
        event(AuditType.AUTO_REPLY_SENT, utc(2026, 3, 4, 4), staff="jean"),
        event(AuditType.INQUIRY_ANSWERED, utc(2026, 3, 5, 16), inquiry_id="i1", holding=True),
        event(AuditType.STAFF_MESSAGE_SENT, utc(2026, 3, 5, 16), message_id="m4", holding=True),  # same reply
        event(AuditType.STAFF_MESSAGE_SENT, utc(2026, 3, 5, 17), message_id="m5", holding=True),
        event(AuditType.STAFF_MESSAGE_SENT, utc(2026, 3, 5, 18), message_id="m6", holding=False),
        event(AuditType.STAFF_MESSAGE_HELD, utc(2026, 3, 7, 8), message_id="late"),  # after the period
    ]
    report = r.compliance(MARCH, inquiries, events, workers=["amal", "jean", "idle"])
    rows = dict(report.workers)
    amal, jean, idle = rows["amal"], rows["jean"], rows["idle"]
    assert (amal.inquiries, amal.answered_on_time, amal.breached) == (4, 2, 1)
    assert amal.first_response_p50_business_minutes == 20
    assert amal.first_response_p90_business_minutes == 900
    assert amal.held_after_hours == 2
    assert [(o.client_id, o.reason) for o in amal.overrides] == [("c9", "eviction tonight")]
    assert amal.holding_replies == 2 and amal.auto_replies == 0
    assert (jean.inquiries, jean.breached, jean.auto_replies) == (1, 1, 1)
    assert jean.first_response_p50_business_minutes is None
    assert idle == r.ComplianceFigures()
    assert report.totals.inquiries == 5 and report.totals.breached == 2
    assert report.totals.held_after_hours == 2 and len(report.totals.overrides) == 1


def test_a_holding_reply_recorded_by_several_events_counts_once():
    events = [
        # Sent at once: the send and the answer share the instant.
        event(AuditType.INQUIRY_ANSWERED, utc(2026, 3, 3, 16), client="c1", inquiry_id="i1", holding=True),
        event(AuditType.STAFF_MESSAGE_SENT, utc(2026, 3, 3, 16), client="c1", message_id="m1", holding=True),
        # Held overnight: the release is dated when filed, the answer when it went out.
        event(AuditType.STAFF_MESSAGE_HELD, utc(2026, 3, 4, 3), client="c2", message_id="m2", holding=True),
        event(AuditType.STAFF_MESSAGE_RELEASED, utc(2026, 3, 4, 3), client="c2", message_id="m2", holding=True),
        event(AuditType.INQUIRY_ANSWERED, utc(2026, 3, 4, 16), client="c2", inquiry_id="i2", holding=True),
        # A second holding message to c2 that answered nothing (no open inquiry).
        event(AuditType.STAFF_MESSAGE_SENT, utc(2026, 3, 4, 17), client="c2", message_id="m3", holding=True),
        # An answer recorded on its own still counts.
        event(AuditType.INQUIRY_ANSWERED, utc(2026, 3, 5, 16), client="c3", inquiry_id="i3", holding=True),
        event(AuditType.STAFF_MESSAGE_SENT, utc(2026, 3, 5, 17), client="c3", message_id="m4", holding=False),
    ]
    counted = r.holding_reply_events(events)
    assert [(e.type, e.client_id) for e in counted] == [
        ("staff_message.sent", "c1"), ("staff_message.released", "c2"), ("staff_message.sent", "c2"),
        ("inquiry.answered", "c3")]


def test_an_inquiry_ended_by_an_opt_out_is_counted_apart_unless_it_had_already_breached():
    period = r.period_of(date(2026, 11, 1), date(2026, 11, 30), EDMONTON)
    opened = utc(2026, 11, 23, 17)
    facts = [
        inquiry("answered", opened),
        inquiry("quiet", opened, status=InquiryStatus.OPTED_OUT, minutes=None),
        inquiry("too-late", opened, status=InquiryStatus.OPTED_OUT, breached=True, minutes=None),
    ]
    report = r.compliance(period, facts, [], workers=["amal"])
    assert (report.totals.inquiries, report.totals.answered_on_time, report.totals.breached) == (2, 1, 1)
    assert report.totals.opted_out == 1
    [(staff, figures)] = report.workers
    assert staff == "amal" and figures.opted_out == 1


def test_a_rolled_up_day_keeps_its_opt_out_count_and_treats_it_as_settled():
    from chalicelib.domain.compliance_days import ComplianceDay, settled

    ended = inquiry("quiet", utc(2026, 11, 23, 17), status=InquiryStatus.OPTED_OUT, minutes=None)
    assert settled(ended, utc(2026, 11, 23, 18))
    day = ComplianceDay(date(2026, 11, 23), {"amal": r.Tally(opted_out=1)})
    assert ComplianceDay.from_item(day.day, day.to_item()).tallies["amal"].opted_out == 1
