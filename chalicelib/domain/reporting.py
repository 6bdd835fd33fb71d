"""Supervision figures as pure arithmetic: periods, percentiles, compliance and usage counts.

The service reads facts with keyed queries (see ``chalicelib/services/reports.py``) and hands them
here; nothing in this module knows where they came from.

Definitions (SPEC §5.6, the DMSI toolkit's usage-statistics template):

* A period is a run of agency-local days, both ends inclusive. It becomes the UTC half-open
  range ``[local midnight of from, local midnight after to)`` in the policy's zone, so a day
  with a daylight-saving change is 23 or 25 hours long and nothing falls between two days.
* Compliance looks at the inquiries *opened* in the period, each attributed to the worker who
  holds (or held) its clock. ``answered_on_time``: answered and not late. ``breached``: passed
  its due time unanswered at some point (answered late or still waiting). First-response figures
  are business minutes from opening to the first staff answer; percentiles use the nearest-rank
  method (the smallest observation with at least p % of the observations at or below it), so a
  reported value is always one somebody actually experienced.
* The boundary counters come from audit events *in* the period, attributed to the event's
  ``staff_id``: ``STAFF_MESSAGE_HELD``, ``OVERRIDE``, ``AUTO_REPLY_SENT``, and holding replies
  (``STAFF_MESSAGE_SENT`` / ``STAFF_MESSAGE_RELEASED`` / ``INQUIRY_ANSWERED`` with ``holding``
  true; one reply recorded by several events counts once, see ``holding_reply_events``).
* Usage figures are defined in ``domain/usage.py``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from .audit import AuditType
from .errors import InvalidInput
from .inquiry import Inquiry, InquiryStatus
from .validation import day_in_range

MAX_PERIOD_DAYS = 366


# --- periods ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """Agency-local days ``first_day``..``last_day`` inclusive, and the UTC range they cover."""

    first_day: date
    last_day: date
    start: datetime  # UTC, inclusive
    end: datetime  # UTC, exclusive

    def contains(self, at: datetime) -> bool:
        return self.start <= at < self.end

    @property
    def days(self) -> int:
        return (self.last_day - self.first_day).days + 1


def local_midnight(day: date, zone: ZoneInfo) -> datetime:
    """The UTC instant at which agency-local ``day`` begins."""
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


def period_of(first_day: date, last_day: date, zone: ZoneInfo) -> Period:
    return Period(first_day, last_day, local_midnight(first_day, zone), local_midnight(last_day + timedelta(days=1), zone))


def _day(params: Mapping[str, Any], name: str) -> date:
    value = params.get(name)
    if value is None or value == "":
        raise InvalidInput(name, "is required, as an agency-local date YYYY-MM-DD")
    if not isinstance(value, str) or len(value) != 10:
        raise InvalidInput(name, "must be a date YYYY-MM-DD")
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(name, "must be a real date YYYY-MM-DD") from None
    return day_in_range(day, name)


def parse_period(params: Mapping[str, Any] | None, zone: ZoneInfo, max_days: int = MAX_PERIOD_DAYS,
                 today: date | None = None) -> Period:
    """``from`` and ``to`` query parameters as a period; each problem names its field.

    Given ``today`` (agency-local), a request with neither ``from`` nor ``to`` covers the current
    month to date (SPEC §4.4).
    """
    params = params or {}
    if today is not None and params.get("from") in (None, "") and params.get("to") in (None, ""):
        return period_of(today.replace(day=1), today, zone)
    first = _day(params, "from")
    last = _day(params, "to")
    if last < first:
        raise InvalidInput("to", "must not be before 'from'")
    if (last - first).days + 1 > max_days:
        raise InvalidInput("to", f"the period may cover at most {max_days} days")
    return period_of(first, last, zone)


def month_periods(period: Period, zone: ZoneInfo) -> list[Period]:
    """The calendar months the period touches, each clipped to the period."""
    out = []
    first = period.first_day
    while first <= period.last_day:
        next_month = date(first.year + (first.month == 12), first.month % 12 + 1, 1)
        last = min(next_month - timedelta(days=1), period.last_day)
        out.append(period_of(first, last, zone))
        first = next_month
    return out


# --- facts -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class AuditRecord:
    """An audit event as read back; ``type`` is the stored value, so unknown kinds still show."""

    event_id: str
    type: str
    at: datetime
    actor: str
    staff_id: str | None = None
    client_id: str | None = None
    details: Mapping[str, Any] = field(default_factory=dict)

    def is_(self, kind: AuditType) -> bool:
        return self.type == kind.value


@dataclass(frozen=True)
class InquiryFact:
    inquiry_id: str
    client_id: str
    staff_id: str  # who holds (or held) the clock
    opened_at: datetime
    status: InquiryStatus
    answered_late: bool = False
    breached: bool = False
    first_response_minutes: float | None = None
    answered_at: datetime | None = None

    @property
    def answered_on_time(self) -> bool:
        return self.status is InquiryStatus.ANSWERED and not self.answered_late and not self.breached


# --- arithmetic ------------------------------------------------------------------------------


def percentile(values: Iterable[float], p: float) -> float | None:
    """Nearest-rank percentile (``p`` in 0..100); None for no values."""
    ordered = sorted(values)
    if not ordered:
        return None
    if not 0 <= p <= 100:
        raise ValueError("p must be between 0 and 100")
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def _truthy(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.lower() == "true")


def _round(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(float(value), digits)


# --- compliance ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Override:
    at: datetime
    client_id: str | None
    reason: str | None
    event_id: str | None = None  # the audit event that recorded it (its reason lives there only)


@dataclass(frozen=True)
class ComplianceFigures:
    inquiries: int = 0
    answered_on_time: int = 0
    breached: int = 0
    first_response_p50_business_minutes: float | None = None
    first_response_p90_business_minutes: float | None = None
    held_after_hours: int = 0
    overrides: tuple[Override, ...] = ()
    auto_replies: int = 0
    holding_replies: int = 0
    opted_out: int = 0  # inquiries left unanswered because the client opted out, before any breach


@dataclass(frozen=True)
class ComplianceReport:
    period: Period
    workers: tuple[tuple[str, ComplianceFigures], ...]
    totals: ComplianceFigures


@dataclass
class Tally:
    """Counts that add up: one day's, a period's, one worker's or everyone's."""

    inquiries: int = 0
    on_time: int = 0
    breached: int = 0
    minutes: list[float] = field(default_factory=list)
    held: int = 0
    overrides: list[Override] = field(default_factory=list)
    auto_replies: int = 0
    holding: int = 0
    opted_out: int = 0

    def add(self, other: Tally) -> None:
        self.inquiries += other.inquiries
        self.on_time += other.on_time
        self.breached += other.breached
        self.minutes.extend(other.minutes)
        self.held += other.held
        self.overrides.extend(other.overrides)
        self.auto_replies += other.auto_replies
        self.holding += other.holding
        self.opted_out += other.opted_out

    def figures(self) -> ComplianceFigures:
        return ComplianceFigures(
            inquiries=self.inquiries,
            answered_on_time=self.on_time,
            breached=self.breached,
            first_response_p50_business_minutes=_round(percentile(self.minutes, 50)),
            first_response_p90_business_minutes=_round(percentile(self.minutes, 90)),
            held_after_hours=self.held,
            overrides=tuple(sorted(self.overrides, key=lambda o: (o.at, o.event_id or ""))),
            auto_replies=self.auto_replies,
            holding_replies=self.holding,
            opted_out=self.opted_out,
        )


_MESSAGE_HOLDING = (AuditType.STAFF_MESSAGE_SENT.value, AuditType.STAFF_MESSAGE_RELEASED.value)


def holding_reply_events(events: Iterable[AuditRecord]) -> list[AuditRecord]:
    """One event per holding reply, however many events recorded it.

    A holding reply is a staff message sent (``STAFF_MESSAGE_SENT``) or released after being
    held (``STAFF_MESSAGE_RELEASED``) with ``holding`` true, counted once per ``message_id``.
    The ``INQUIRY_ANSWERED`` event with ``holding`` true that it usually also produces is paired
    with the client's earliest unpaired holding message at or before it; only an answer with no
    such message (recorded on its own) counts by itself.
    """
    ordered = sorted(
        (e for e in events if _truthy(e.details.get("holding"))),
        key=lambda e: (e.at, 0 if e.type in _MESSAGE_HOLDING else 1, e.event_id),
    )
    seen_messages: set[Any] = set()
    unpaired: dict[str | None, int] = {}
    out = []
    for event in ordered:
        if event.type in _MESSAGE_HOLDING:
            message_id = event.details.get("message_id")
            if message_id:
                if message_id in seen_messages:
                    continue
                seen_messages.add(message_id)
            unpaired[event.client_id] = unpaired.get(event.client_id, 0) + 1
            out.append(event)
        elif event.is_(AuditType.INQUIRY_ANSWERED):
            if unpaired.get(event.client_id, 0) > 0:
                unpaired[event.client_id] -= 1
            else:
                out.append(event)
    return out


def compliance_tallies(period: Period, inquiries: Iterable[InquiryFact],
                       events: Iterable[AuditRecord]) -> dict[str, Tally]:
    """The period's counts per staff id (``""``: events of nobody in particular, totals only)."""
    tallies: dict[str, Tally] = {}

    def of(staff_id: str | None) -> Tally:
        return tallies.setdefault(staff_id or "", Tally())

    for inquiry in inquiries:
        if not period.contains(inquiry.opened_at):
            continue
        t = of(inquiry.staff_id)
        if inquiry.status is InquiryStatus.OPTED_OUT and not inquiry.breached:
            # Nobody could answer it once the client opted out: counted apart, never as a breach
            # and not in the inquiries the on-time rate is taken over.
            t.opted_out += 1
            continue
        t.inquiries += 1
        t.on_time += inquiry.answered_on_time
        t.breached += inquiry.breached
        if inquiry.first_response_minutes is not None:
            t.minutes.append(inquiry.first_response_minutes)

    in_period = [e for e in events if period.contains(e.at)]
    for event in in_period:
        if event.is_(AuditType.STAFF_MESSAGE_HELD):
            of(event.staff_id).held += 1
        elif event.is_(AuditType.OVERRIDE):
            of(event.staff_id).overrides.append(
                Override(event.at, event.client_id, event.details.get("reason"), event.event_id))
        elif event.is_(AuditType.AUTO_REPLY_SENT):
            of(event.staff_id).auto_replies += 1
    for event in holding_reply_events(in_period):
        of(event.staff_id).holding += 1
    return tallies


def report_of(period: Period, tallies: Mapping[str, Tally], workers: Iterable[str] = ()) -> ComplianceReport:
    """The report from per-staff tallies: a row per worker (and anyone else who has counts)."""
    total = Tally()
    for tally in tallies.values():
        total.add(tally)
    rows = {staff_id: Tally() for staff_id in workers}
    for staff_id, tally in tallies.items():
        if staff_id:
            rows.setdefault(staff_id, Tally()).add(tally)
    return ComplianceReport(period=period, workers=tuple((sid, rows[sid].figures()) for sid in sorted(rows)),
                            totals=total.figures())


def compliance(
    period: Period,
    inquiries: Iterable[InquiryFact],
    events: Iterable[AuditRecord],
    workers: Iterable[str] = (),
) -> ComplianceReport:
    """Per-worker and total compliance figures for ``period`` (see the module docstring)."""
    return report_of(period, compliance_tallies(period, inquiries, events), workers)


def inquiry_fact(inquiry: Inquiry, minutes: Callable[[datetime, datetime], float] | None = None) -> InquiryFact:
    """What the compliance report counts of one inquiry; first responses fall back to ``minutes``."""
    first = None
    if inquiry.first_response_business_seconds is not None:
        first = float(inquiry.first_response_business_seconds) / 60
    elif inquiry.answered_at is not None and minutes is not None:
        first = minutes(inquiry.opened_at, inquiry.answered_at)
    return InquiryFact(
        inquiry_id=inquiry.inquiry_id,
        client_id=inquiry.client_id,
        staff_id=inquiry.staff_id,
        opened_at=inquiry.opened_at,
        status=inquiry.status,
        answered_late=inquiry.answered_late,
        breached=inquiry.breached_at is not None or inquiry.status is InquiryStatus.BREACHED,
        first_response_minutes=first,
        answered_at=inquiry.answered_at,
    )
