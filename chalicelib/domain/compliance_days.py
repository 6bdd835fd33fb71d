"""The compliance report and the dashboard from per-day facts, so their cost follows the days.

A ``ComplianceDay`` holds everything the compliance report and the supervisor's dashboard need
from one agency-local day, already reduced: per staff member the counts of the inquiries opened
that day (with their first-response minutes, so medians and 90th percentiles stay exact) and of
the boundary events of that day, the breaches recorded that day, and the client messages of
that day by local hour (and how many came while closed). The roll-up job writes one per day
once the day has settled (``SETTLE``); a report reads the period's roll-ups with one Query and
builds the days not rolled up yet from their raw inquiries and events with the *same* function,
so both paths give the same figures by construction.

Settling: a day is rolled up once it is over and ``SETTLE`` (six hours, as for the usage
roll-up) has passed. An inquiry's facts can change until it is answered and its answer has been
delivered: an inquiry of the day that is still waiting (open, or breached and unanswered), or was
answered less than ``SETTLE`` before the roll-up (a delivery failure could still take the answer
back), is not counted in the day's tallies but kept by id in ``live``. A report reads the live
inquiries by key (``BatchGetItem``) and counts them as they are now, exactly as the raw path
would; later runs of the job move those that have settled into the day's tallies
(``settle_live``). So the figures of a rolled-up day are always the raw figures, however late an
answer comes, and only the inquiries still waiting cost a read each (100 a round trip). An
inquiry whose file was erased is dropped from ``live``, as the raw path no longer finds it.
Override reasons are not copied into roll-ups: they stay in the audit trail (where erasure
removes them) and are read back by key for the overrides a report lists.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from . import dashboard as d
from .audit import AuditType
from .inquiry import InquiryStatus
from .reporting import AuditRecord, InquiryFact, Override, Period, Tally, compliance_tallies, period_of

SETTLE = timedelta(hours=6)  # the usage roll-up's wait too: Twilio's delivery reports are in by then


def settled(inquiry: InquiryFact, now: datetime) -> bool:
    """Nothing can change this inquiry's figures any more: answered ``SETTLE`` ago, or opted out."""
    if inquiry.status is InquiryStatus.OPTED_OUT:
        return True
    return (inquiry.status is InquiryStatus.ANSWERED and inquiry.answered_at is not None
            and inquiry.answered_at + SETTLE <= now)


@dataclass(frozen=True)
class ComplianceDay:
    day: date
    tallies: Mapping[str, Tally]  # staff id ("" for events of nobody in particular) -> counts
    breaches: Mapping[str, int] = field(default_factory=dict)  # staff id -> breaches recorded that day
    hours: Mapping[int, tuple[int, int]] = field(default_factory=dict)  # local hour -> (messages, while closed)
    live: tuple[str, ...] = ()  # inquiries opened that day whose facts may still change: not in ``tallies``

    # -- the roll-up item ------------------------------------------------------------------------

    def to_item(self) -> dict[str, Any]:
        return {
            "tallies": {sid or "-": _tally_item(t) for sid, t in self.tallies.items()},
            "breaches": {sid or "-": n for sid, n in self.breaches.items()},
            "hours": {str(h): [m, c] for h, (m, c) in self.hours.items()},
            "live": list(self.live),
        }

    @classmethod
    def from_item(cls, day: date, item: Mapping[str, Any]) -> ComplianceDay:
        def staff(key: str) -> str:
            return "" if key == "-" else key

        return cls(
            day=day,
            tallies={staff(k): _tally_from(v) for k, v in (item.get("tallies") or {}).items()},
            breaches={staff(k): int(v) for k, v in (item.get("breaches") or {}).items()},
            hours={int(h): (int(v[0]), int(v[1])) for h, v in (item.get("hours") or {}).items()},
            live=tuple(item.get("live") or ()),
        )


def _tally_item(t: Tally) -> dict[str, Any]:
    return {
        "inquiries": t.inquiries, "on_time": t.on_time, "breached": t.breached,
        "minutes": [round(x, 3) for x in t.minutes], "held": t.held, "auto_replies": t.auto_replies,
        "holding": t.holding, "opted_out": t.opted_out,
        # at (UTC), client, audit event id: the reason is read back from the audit trail
        "overrides": [[o.at.astimezone(UTC).isoformat(), o.client_id or "", o.event_id or ""] for o in t.overrides],
    }


def _tally_from(item: Mapping[str, Any]) -> Tally:
    return Tally(
        inquiries=int(item.get("inquiries") or 0), on_time=int(item.get("on_time") or 0),
        breached=int(item.get("breached") or 0), minutes=[float(x) for x in item.get("minutes") or []],
        held=int(item.get("held") or 0), auto_replies=int(item.get("auto_replies") or 0),
        holding=int(item.get("holding") or 0), opted_out=int(item.get("opted_out") or 0),
        overrides=[Override(datetime.fromisoformat(at), client or None, None, event or None)
                   for at, client, event in item.get("overrides") or []],
    )


def day_facts(day: date, zone: ZoneInfo, inquiries: Iterable[InquiryFact], events: Iterable[AuditRecord],
              is_open: Callable[[datetime], bool],
              is_settled: Callable[[InquiryFact], bool] | None = None) -> ComplianceDay:
    """One agency-local day's facts from the inquiries opened and the events recorded that day.

    With ``is_settled`` (the roll-up job), the inquiries it rejects are kept in ``live`` instead
    of being counted; without it (a report's raw days) every inquiry counts as it is now.
    """
    period = period_of(day, day, zone)
    events = [e for e in events if period.contains(e.at)]
    inquiries = [i for i in inquiries if period.contains(i.opened_at)]
    live = tuple(sorted(i.inquiry_id for i in inquiries if is_settled is not None and not is_settled(i)))
    if live:
        inquiries = [i for i in inquiries if i.inquiry_id not in set(live)]
    breaches: dict[str, int] = {}
    hours: dict[int, list[int]] = {}
    for event in events:
        if event.is_(AuditType.INQUIRY_BREACHED):
            breaches[event.staff_id or ""] = breaches.get(event.staff_id or "", 0) + 1
        elif d.is_client_message(event):
            cell = hours.setdefault(event.at.astimezone(zone).hour, [0, 0])
            cell[0] += 1
            cell[1] += 0 if is_open(event.at) else 1
    tallies = compliance_tallies(period, inquiries, events)
    for tally in tallies.values():  # reasons are never kept beside the counts
        tally.overrides = [replace(o, reason=None) for o in tally.overrides]
    return ComplianceDay(day, tallies, breaches, {h: (m, c) for h, (m, c) in sorted(hours.items())}, live)


def settle_live(day: ComplianceDay, zone: ZoneInfo, current: Mapping[str, InquiryFact],
                is_settled: Callable[[InquiryFact], bool]) -> ComplianceDay:
    """The day with its live inquiries looked at again, as they are now (``current``, by id).

    Those ``is_settled`` accepts are counted in the day's tallies and leave ``live``; an inquiry
    no longer there (its file was erased) leaves it uncounted. A report passes an ``is_settled``
    that accepts everything: the day then counts each live inquiry as it is now, as the raw path.
    """
    if not day.live:
        return day
    counted: list[InquiryFact] = []
    left: list[str] = []
    for inquiry_id in day.live:
        fact = current.get(inquiry_id)
        if fact is None:
            continue
        if is_settled(fact):
            counted.append(fact)
        else:
            left.append(inquiry_id)
    tallies = {staff_id: _copy(t) for staff_id, t in day.tallies.items()}
    for staff_id, tally in compliance_tallies(period_of(day.day, day.day, zone), counted, []).items():
        tallies.setdefault(staff_id, Tally()).add(tally)
    return replace(day, tallies=tallies, live=tuple(left))


def _copy(t: Tally) -> Tally:
    return replace(t, minutes=list(t.minutes), overrides=list(t.overrides))  # every count, lists not shared


def facts_for_days(days: Sequence[date], zone: ZoneInfo, inquiries: Iterable[InquiryFact],
                   events: Iterable[AuditRecord], is_open: Callable[[datetime], bool],
                   is_settled: Callable[[InquiryFact], bool] | None = None) -> dict[date, ComplianceDay]:
    """``day_facts`` of several days from one read of their inquiries and events."""
    by_day_inquiries: dict[date, list[InquiryFact]] = {day: [] for day in days}
    by_day_events: dict[date, list[AuditRecord]] = {day: [] for day in days}
    for inquiry in inquiries:
        local = inquiry.opened_at.astimezone(zone).date()
        if local in by_day_inquiries:
            by_day_inquiries[local].append(inquiry)
    for event in events:
        local = event.at.astimezone(zone).date()
        if local in by_day_events:
            by_day_events[local].append(event)
    return {day: day_facts(day, zone, by_day_inquiries[day], by_day_events[day], is_open, is_settled) for day in days}


def combined_tallies(days: Iterable[ComplianceDay]) -> dict[str, Tally]:
    out: dict[str, Tally] = {}
    for day in days:
        for staff_id, tally in day.tallies.items():
            out.setdefault(staff_id, Tally()).add(tally)
    return out


def weeks(period: Period, days: Iterable[ComplianceDay]) -> list[d.Week]:
    """Breaches by agency-local week (Monday to Sunday, clipped to the period), by worker."""
    spans = d.weeks_of(period)
    counts: list[dict[str, int]] = [{} for _ in spans]
    for day in days:
        for i, (first, last) in enumerate(spans):
            if first <= day.day <= last:
                for staff_id, n in day.breaches.items():
                    counts[i][staff_id] = counts[i].get(staff_id, 0) + n
                break
    return [d.Week(first, last, sum(counts[i].values()), dict(sorted(counts[i].items())))
            for i, (first, last) in enumerate(spans)]


def pressure(days: Iterable[ComplianceDay], weekly_hours: Mapping[int, Iterable[tuple[time, time]]]) -> d.Pressure:
    """Client messages by local weekday and hour, against the weekly opening hours."""
    messages = [[0] * 24 for _ in range(7)]
    closed = [[0] * 24 for _ in range(7)]
    for day in days:
        for hour, (count, while_closed) in day.hours.items():
            messages[day.day.weekday()][hour] += count
            closed[day.day.weekday()][hour] += while_closed
    cells = tuple(
        d.HourCell(wd, hour, messages[wd][hour], closed[wd][hour], d.open_minutes(weekly_hours.get(wd, ()), hour))
        for wd in range(7) for hour in range(24)
    )
    return d.Pressure(cells, sum(map(sum, messages)), sum(map(sum, closed)))


def settled_through(now: datetime, zone: ZoneInfo) -> date:
    """The last agency-local day whose facts are final at ``now`` (rolled up from then on)."""
    return (now - SETTLE).astimezone(zone).date() - timedelta(days=1)
