"""Worker absences: who covers a colleague's clients on a given agency-local day.

An absence runs from ``start`` to ``end`` (agency-local dates, both inclusive) and names one
covering colleague. During it the colleague may read and answer the absent worker's clients
(from the absent worker's number) and holds the clocks of new inquiries. The inbound side uses
``cover_on`` to decide whether to send the absence reply.

Pure: accepts any objects with ``absence_id``, ``start``, ``end`` and ``cover_id`` attributes, the
dates either as ``date`` values or ``YYYY-MM-DD`` strings (as stored), so callers need not convert.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

__all__ = ["Absence", "absence_on", "covered_by", "cover_on", "local_day", "parse_day"]

MAX_ABSENCE_DAYS = 366


@dataclass(frozen=True)
class Absence:
    absence_id: str
    start: date
    end: date
    cover_id: str
    note: str | None = None

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError("end: must be on or after start")
        if (self.end - self.start).days >= MAX_ABSENCE_DAYS:
            raise ValueError(f"end: an absence may last at most {MAX_ABSENCE_DAYS} days")

    def covers_day(self, day: date) -> bool:
        return self.start <= day <= self.end


def parse_day(value: Any) -> date:
    """A ``date`` from a ``date`` or an ISO ``YYYY-MM-DD`` string; ``ValueError`` otherwise."""
    if isinstance(value, datetime):
        raise ValueError("expected a date, not an instant")
    if isinstance(value, date):
        return value
    if isinstance(value, str) and len(value) == 10:
        return date.fromisoformat(value)
    raise ValueError(f"{value!r} is not a date in YYYY-MM-DD form")


def local_day(at: datetime, zone: ZoneInfo) -> date:
    """The agency-local calendar day of an instant (absences are written in local days)."""
    return at.astimezone(zone).date()


def absence_on(absences: Iterable[Any], day: date) -> Any | None:
    """The absence covering ``day``; when several overlap, the one that started last wins."""
    best = None
    best_start: date | None = None
    for absence in absences or ():
        try:
            start, end = parse_day(absence.start), parse_day(absence.end)
        except (AttributeError, ValueError):
            continue
        if start <= day <= end and (best_start is None or start >= best_start):
            best, best_start = absence, start
    return best


def cover_on(absences: Iterable[Any], day: date) -> str | None:
    """The colleague covering on ``day`` (agency-local), or None when the worker is not away."""
    absence = absence_on(absences, day)
    return None if absence is None else absence.cover_id


def covered_by(absences_by_staff: Mapping[str, Iterable[Any]], cover_id: str, day: date) -> frozenset[str]:
    """The workers whose absence on ``day`` is covered by ``cover_id``."""
    return frozenset(
        staff_id
        for staff_id, absences in absences_by_staff.items()
        if staff_id != cover_id and cover_on(absences, day) == cover_id
    )
