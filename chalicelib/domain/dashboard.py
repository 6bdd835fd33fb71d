"""The supervisor's dashboard as pure arithmetic: rates, weeks, the hour-of-week grid, reviews.

The compliance report (``reporting.compliance``) gives the per-worker counts; this module adds
what the console draws from the same facts, without another read:

* ``on_time_rate``: answered on time / inquiries opened (None when the worker had none);
* the weeks (``weeks_of``, Monday to Sunday, clipped to the period) in which breaches are
  counted, and the hour-of-week grid (``HourCell``, ``Pressure``, ``open_minutes``: the minutes
  of an hour the weekly opening hours cover), both filled from the per-day facts of
  ``compliance_days`` (``weeks``, ``pressure``).

Reviews: an override or a breach is reviewed once, by a supervisor or an administrator; which
events may be reviewed is decided here (``REVIEWABLE``) so the store and the service agree.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from .audit import AuditType
from .reporting import AuditRecord, ComplianceFigures, Period

REVIEWABLE: Mapping[str, str] = {
    AuditType.OVERRIDE.value: "override",
    AuditType.INQUIRY_BREACHED.value: "breach",
}
REVIEW_KINDS: Mapping[str, str] = {kind: event_type for event_type, kind in REVIEWABLE.items()}


# A review names the audit event by its place in the trail: "<fixed-width UTC>#<event id>".
REVIEW_ID = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z#[A-Za-z0-9_.@-]{1,64}", re.ASCII)


def review_id(at: datetime, event_id: str) -> str:
    return f"{at.astimezone(UTC).strftime('%Y-%m-%dT%H:%M:%S.%fZ')}#{event_id}"


def reviewed_event(text: str) -> tuple[datetime, str] | None:
    """The audit event a review id names: its instant and its id; None when the text names none."""
    if not REVIEW_ID.fullmatch(text):
        return None
    instant, _, event_id = text.partition("#")
    try:
        return datetime.strptime(instant, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC), event_id
    except ValueError:  # the shape of an instant, not one (a 13th month)
        return None


def on_time_rate(figures: ComplianceFigures) -> float | None:
    """Share of the inquiries opened in the period that were answered on time, 0..1."""
    if not figures.inquiries:
        return None
    return round(figures.answered_on_time / figures.inquiries, 4)


# --- weeks -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Week:
    first_day: date  # a Monday, or the period's first day
    last_day: date  # a Sunday, or the period's last day
    breaches: int
    by_worker: Mapping[str, int]


def weeks_of(period: Period) -> list[tuple[date, date]]:
    """The agency-local weeks (Monday to Sunday) the period touches, clipped to it."""
    out = []
    first = period.first_day
    while first <= period.last_day:
        sunday = first + timedelta(days=6 - first.weekday())
        last = min(sunday, period.last_day)
        out.append((first, last))
        first = last + timedelta(days=1)
    return out


# --- the hour-of-week grid --------------------------------------------------------------------


def open_minutes(intervals: Iterable[tuple[time, time]], hour: int) -> int:
    """Minutes of local hour ``hour`` covered by a day's intervals (an end of 00:00 is midnight)."""
    lo, hi = hour * 60, hour * 60 + 60
    covered = 0
    for start, end in intervals:
        s = start.hour * 60 + start.minute
        e = 24 * 60 if end == time(0, 0) else end.hour * 60 + end.minute
        covered += max(0, min(hi, e) - max(lo, s))
    return min(60, covered)


@dataclass(frozen=True)
class HourCell:
    weekday: int  # 0 = Monday
    hour: int  # 0..23, local
    messages: int
    after_hours: int  # of those, received while the agency was closed
    open_minutes: int  # minutes of this hour inside the weekly opening hours


@dataclass(frozen=True)
class Pressure:
    cells: tuple[HourCell, ...]  # 7 x 24, Monday 00h first
    messages: int
    after_hours: int


def is_client_message(event: AuditRecord) -> bool:
    details = event.details
    return (event.is_(AuditType.MESSAGE_FILED) and details.get("direction") == "inbound"
            and details.get("kind", "client") == "client")


# --- links: the query behind each figure ------------------------------------------------------

# Which audit events stand behind each counter of the compliance report.
FIGURE_EVENTS: Mapping[str, dict[str, str]] = {
    "held_after_hours": {"type": AuditType.STAFF_MESSAGE_HELD.value},
    "overrides": {"type": AuditType.OVERRIDE.value},
    "auto_replies": {"type": AuditType.AUTO_REPLY_SENT.value},
    "holding_replies": {"type": f"{AuditType.STAFF_MESSAGE_SENT.value},{AuditType.STAFF_MESSAGE_RELEASED.value}",
                        "holding": "true"},
    "opted_out": {"type": AuditType.INQUIRY_OPTED_OUT.value},
}
# Which inquiries stand behind the inquiry counters (GET /inquiries with a period).
FIGURE_INQUIRIES: Mapping[str, dict[str, str]] = {
    "inquiries": {},
    "answered_on_time": {"on_time": "true"},
    "breached": {"breached": "true"},
    "first_response_p50_business_minutes": {"status": "answered"},
    "first_response_p90_business_minutes": {"status": "answered"},
}


def figure_links(period: Period, staff_id: str | None) -> dict[str, dict[str, Any]]:
    """For each figure, the API call (path and query) that lists what it counts."""
    base: dict[str, str] = {"from": period.first_day.isoformat(), "to": period.last_day.isoformat()}
    if staff_id:
        base["staff_id"] = staff_id
    links: dict[str, dict[str, Any]] = {}
    for name, extra in FIGURE_INQUIRIES.items():
        links[name] = {"path": "/inquiries", "query": {**base, **extra}}
    for name, extra in FIGURE_EVENTS.items():
        links[name] = {"path": "/audit", "query": {**base, **extra}}
    return links


def matches_filters(event: AuditRecord, types: frozenset[str] | None, holding: bool | None) -> bool:
    """The ``type`` and ``holding`` filters of ``GET /audit``."""
    if types is not None and event.type not in types:
        return False
    if holding is not None:
        value = event.details.get("holding")
        flag = value is True or (isinstance(value, str) and value.lower() == "true")
        if flag is not holding:
            return False
    return True
