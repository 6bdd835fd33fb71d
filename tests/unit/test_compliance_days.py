"""Compliance days with live inquiries give exactly the raw figures (issue 16 item 4)."""

from __future__ import annotations

import json
import random
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from chalicelib.domain import compliance_days as cd
from chalicelib.domain import reporting as r
from chalicelib.domain.audit import AuditType
from chalicelib.domain.inquiry import InquiryStatus

EDMONTON = ZoneInfo("America/Edmonton")
WORKERS = ("amal", "jean", "noor")
# March 2026 in Calgary: the daylight-saving change of Sunday 8 March is inside the period.
PERIOD = r.period_of(date(2026, 3, 1), date(2026, 3, 31), EDMONTON)


def is_open(at: datetime) -> bool:
    local = at.astimezone(EDMONTON)
    return local.weekday() < 5 and time(9) <= local.time() < time(17)


def world(seed: int) -> tuple[list[r.InquiryFact], list[r.AuditRecord]]:
    """A random month of inquiries and events, some of them just outside the period."""
    rnd = random.Random(seed)
    first = PERIOD.start - timedelta(days=1)
    span = int((PERIOD.end - PERIOD.start).total_seconds()) + 2 * 86400

    def instant() -> datetime:
        return first + timedelta(seconds=rnd.randrange(span), microseconds=rnd.randrange(10**6))

    inquiries = []
    for i in range(rnd.randrange(0, 120)):
        opened = instant()
        status = rnd.choice(list(InquiryStatus))
        answered = status is InquiryStatus.ANSWERED
        minutes = rnd.choice([None, rnd.randrange(0, 3000) / rnd.choice([1, 7, 60])]) if answered else None
        inquiries.append(r.InquiryFact(
            f"iq{i:03d}", f"cl{rnd.randrange(20)}", rnd.choice(WORKERS), opened, status,
            answered_late=answered and rnd.random() < 0.2, breached=rnd.random() < 0.2,
            first_response_minutes=minutes, answered_at=opened + timedelta(minutes=minutes or 1) if answered else None,
        ))
    kinds = [AuditType.STAFF_MESSAGE_HELD, AuditType.OVERRIDE, AuditType.AUTO_REPLY_SENT, AuditType.INQUIRY_BREACHED,
             AuditType.MESSAGE_FILED, AuditType.STAFF_MESSAGE_SENT]
    events = []
    for i in range(rnd.randrange(0, 300)):
        kind = rnd.choice(kinds)
        staff = rnd.choice((*WORKERS, None))
        details: dict = {}
        if kind is AuditType.OVERRIDE:
            details = {"reason": f"reason {i}", "message_id": f"m{i}"}
        elif kind is AuditType.MESSAGE_FILED:
            details = {"direction": rnd.choice(["inbound", "outbound"]), "kind": rnd.choice(["client", "staff"])}
        elif kind is AuditType.STAFF_MESSAGE_SENT:
            details = {"message_id": f"m{i}", "holding": rnd.random() < 0.5}
        events.append(r.AuditRecord(f"ev{i:04d}", kind.value, instant(), staff or "system", staff, f"cl{i % 7}",
                                    details))
    return inquiries, events


def stored(day: cd.ComplianceDay) -> cd.ComplianceDay:
    """Through the item a roll-up stores (JSON stands in for DynamoDB's map)."""
    return cd.ComplianceDay.from_item(day.day, json.loads(json.dumps(day.to_item())))


def with_reasons(report: r.ComplianceReport, events: list[r.AuditRecord]) -> r.ComplianceReport:
    """The reasons a report reads back from the audit trail by key."""
    reasons = {e.event_id: e.details.get("reason") for e in events}

    def fill(f: r.ComplianceFigures) -> r.ComplianceFigures:
        return replace(f, overrides=tuple(replace(o, reason=reasons[o.event_id]) for o in f.overrides))

    return replace(report, workers=tuple((s, fill(f)) for s, f in report.workers), totals=fill(report.totals))


def report_of_days(days: list[cd.ComplianceDay], events) -> r.ComplianceReport:
    return with_reasons(r.report_of(PERIOD, cd.combined_tallies(days), WORKERS), events)


@pytest.mark.parametrize("seed", range(30))
@pytest.mark.parametrize("live_share", [0.0, 0.3, 1.0])
def test_rolled_days_with_their_live_inquiries_read_back_give_the_raw_report(seed, live_share):
    inquiries, events = world(seed)
    rnd = random.Random(seed)
    live = {i.inquiry_id for i in inquiries if rnd.random() < live_share}
    days = [PERIOD.first_day + timedelta(days=n) for n in range(PERIOD.days)]
    rolled = cd.facts_for_days(days, EDMONTON, inquiries, events, is_open, lambda f: f.inquiry_id not in live)
    assert sorted(i for day in rolled.values() for i in day.live) == sorted(
        i.inquiry_id for i in inquiries if i.inquiry_id in live and PERIOD.contains(i.opened_at))
    current = {i.inquiry_id: i for i in inquiries}
    read = [cd.settle_live(stored(day), EDMONTON, current, lambda _f: True) for _d, day in sorted(rolled.items())]
    assert report_of_days(read, events) == r.compliance(PERIOD, inquiries, events, WORKERS)
    # the job settling some of them later changes nothing either
    settled = [cd.settle_live(stored(day), EDMONTON, current, lambda f: rnd.random() < 0.5)
               for _d, day in sorted(rolled.items())]
    read_again = [cd.settle_live(stored(day), EDMONTON, current, lambda _f: True) for day in settled]
    assert report_of_days(read_again, events) == r.compliance(PERIOD, inquiries, events, WORKERS)


def test_an_inquiry_settles_once_answered_and_its_answer_six_hours_old():
    opened = datetime(2026, 3, 3, 17, tzinfo=UTC)
    answered = r.InquiryFact("i", "c", "amal", opened, InquiryStatus.ANSWERED, answered_at=opened + timedelta(hours=1))
    assert not cd.settled(answered, opened + timedelta(hours=6, minutes=59))
    assert cd.settled(answered, opened + timedelta(hours=7))
    waiting = r.InquiryFact("j", "c", "amal", opened, InquiryStatus.BREACHED, breached=True)
    assert not cd.settled(waiting, opened + timedelta(days=90))


def test_a_live_inquiry_whose_file_was_erased_leaves_the_day_uncounted():
    opened = datetime(2026, 3, 3, 17, tzinfo=UTC)
    waiting = r.InquiryFact("j", "c", "amal", opened, InquiryStatus.OPEN)
    day = cd.day_facts(date(2026, 3, 3), EDMONTON, [waiting], [], is_open, lambda f: False)
    assert day.live == ("j",) and day.tallies == {}
    gone = cd.settle_live(day, EDMONTON, {}, lambda f: True)
    assert gone.live == () and gone.tallies == {}
