"""Usage figures for any period at a cost that grows with its days, not with caseload or messages.

``roll_up`` (the scheduled job ``roll_up_reports``) writes one item per agency and local day once
the day is over and ``SETTLE`` has passed: that day's facts (``domain/usage.py``) and the members
at its end. ``UsageReports.figures`` reads a period's roll-ups with one Query and counts only the
days not rolled up yet (today, and yesterday until the job has run) from their raw audit events;
the membership at the end of such a day is the latest roll-up's plus the changes since, replayed
from the audit history of the few files that changed. Without any roll-up at all (the job never
ran) the same replay starts at the agency's first event: slower, never wrong.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from ..adapters.rollups_repository import COMPLIANCE, USAGE
from ..domain import compliance_days as cd
from ..domain import usage as u
from ..domain.audit import AuditType
from ..domain.clock import utcnow
from ..domain.reporting import AuditRecord, InquiryFact, Period, Tally, inquiry_fact, local_midnight, month_periods

if TYPE_CHECKING:
    from ..adapters.unit_of_work import UnitOfWork

log = logging.getLogger("cmdm.rollup")

DAY = timedelta(days=1)
DEFAULT_BUDGET_SECONDS = 20.0


class _Events:
    """The agency's audit events over one contiguous range, fetched once per report."""

    def __init__(self, uow: Callable[[], UnitOfWork], agency_id: str) -> None:
        self._uow = uow
        self._agency = agency_id
        self._range: tuple[datetime, datetime] | None = None
        self._events: list[AuditRecord] = []
        self._histories: dict[str, list[AuditRecord]] = {}

    def between(self, start: datetime, end: datetime) -> list[AuditRecord]:
        if self._range is None or start < self._range[0] or end > self._range[1]:
            low = start if self._range is None else min(start, self._range[0])
            high = end if self._range is None else max(end, self._range[1])
            self._events = list(self._uow().audit.between(self._agency, low, high))
            self._range = (low, high)
        return [e for e in self._events if start <= e.at < end]

    def history(self, client_id: str) -> list[AuditRecord]:
        """One file's whole audit history, read once per report (membership is judged at a time)."""
        if client_id not in self._histories:
            self._histories[client_id] = self._uow().audit.of_client(client_id)
        return self._histories[client_id]


class UsageReports:
    def __init__(self, uow: Callable[[], UnitOfWork]) -> None:
        self._uow = uow

    def figures(self, agency_id: str, period: Period, zone: ZoneInfo, *, split: bool,
                now: datetime | None = None) -> tuple[u.UsageFigures, list[tuple[Period, u.UsageFigures]]]:
        now = now or utcnow()
        events = _Events(self._uow, agency_id)
        rolled = {d: u.UsageDay.from_item(d, item)
                  for d, item in self._uow().rollups.days(agency_id, USAGE, period.first_day, period.last_day).items()}
        days: dict[date, u.UsageDay] = {}
        raw = [d for d in u.days_between(period.first_day, period.last_day)
               if d not in rolled and local_midnight(d, zone) <= now]
        if raw:
            low = local_midnight(raw[0], zone)
            high = local_midnight(raw[-1] + DAY, zone) + u.SETTLE
            events.between(low, high)
        for d in u.days_between(period.first_day, period.last_day):
            if d in rolled:
                days[d] = rolled[d]
            elif d in raw:
                start, end = local_midnight(d, zone), local_midnight(d + DAY, zone)
                days[d] = u.day_facts(d, events.between(start, end + u.SETTLE), start, end)

        members: dict[date, int] = {}  # a period and its last month end on the same day: work it out once

        def active_at_end(last: date) -> int:
            if last in rolled and rolled[last].active_end is not None:
                return int(rolled[last].active_end)
            if last not in members:
                members[last] = self._active_at_end(agency_id, last, zone, now, events)
            return members[last]

        def of(p: Period) -> u.UsageFigures:
            ordered = [days[d] for d in u.days_between(p.first_day, p.last_day) if d in days]
            return u.combine(ordered, active_at_end(p.last_day))

        totals = of(period)
        months = [(month, of(month)) for month in month_periods(period, zone)] if split else []
        return totals, months

    def _active_at_end(self, agency_id: str, last: date, zone: ZoneInfo, now: datetime, events: _Events) -> int:
        """Members at the end of ``last`` (or now, if sooner): latest roll-up plus replayed changes."""
        base = self._uow().rollups.latest(agency_id, USAGE, last)
        if base is not None and base[1].get("active_end") is not None:
            base_active, since = int(base[1]["active_end"]), local_midnight(base[0] + DAY, zone)
        else:
            first = self._uow().audit.first_at(agency_id)
            if first is None:
                return 0
            base_active, since = 0, first
        until = local_midnight(last + DAY, zone)  # nothing is recorded after now
        if since >= until:
            return base_active
        touched = u.touched_clients(events.between(since, until))
        histories = {c: events.history(c) for c in sorted(touched)}
        return base_active + u.membership_delta(histories, since, until)


class RollupService:
    """The job that rolls finished days up, per agency, oldest first; safe to run twice."""

    def __init__(self, uow: Callable[[], UnitOfWork], policies: Any, compliance: ComplianceDays | None = None,
                 budget_seconds: float = DEFAULT_BUDGET_SECONDS) -> None:
        self._uow = uow
        self._policies = policies
        self._compliance = compliance
        self._budget = budget_seconds

    def run(self, now: datetime | None = None, budget_seconds: float | None = None) -> dict[str, int]:
        now = now or utcnow()
        budget = self._budget if budget_seconds is None else budget_seconds
        started = time.monotonic()
        summary = {"days": 0, "deferred": 0}
        for policy in self._policies.all():
            self._agency(policy, now, started, budget, summary)
            if self._compliance is not None:
                self._compliance_days(policy, now, started, budget, summary)
                refreshed = self._compliance.refresh(policy.agency_id, policy, now)
                if refreshed:
                    summary["compliance_refreshed"] = summary.get("compliance_refreshed", 0) + refreshed
        return summary

    def _resume(self, agency_id: str, kind: str, last: date,
                zone: ZoneInfo) -> tuple[date, Mapping[str, Any]] | None:
        """The first day of ``kind`` to roll up (after the latest on or before ``last``, else the
        agency's first event's day) and the latest roll-up's item; None for an agency with no events."""
        latest = self._uow().rollups.latest(agency_id, kind, last)
        if latest is not None:
            return latest[0] + DAY, latest[1]
        first = self._uow().audit.first_at(agency_id)
        return None if first is None else (first.astimezone(zone).date(), {})

    def _compliance_days(self, policy: Any, now: datetime, started: float, budget: float,
                         summary: dict[str, int]) -> None:
        """Roll up the compliance facts of every settled day not rolled up yet, a week at a time."""
        assert self._compliance is not None
        agency_id = policy.agency_id
        zone = policy.calendar.zone()
        last = cd.settled_through(now, zone)
        resume = self._resume(agency_id, COMPLIANCE, last, zone)
        if resume is None:
            return
        day = resume[0]
        while day <= last:
            if time.monotonic() - started > budget:
                summary["deferred"] += 1
                return
            week = list(u.days_between(day, min(day + 6 * DAY, last)))
            for each, facts in sorted(self._compliance.build(agency_id, policy, week, now).items()):
                if not self._uow().rollups.save(agency_id, COMPLIANCE, each, facts.to_item()):
                    return  # another run is rolling this agency up
                summary["compliance_days"] = summary.get("compliance_days", 0) + 1
            day = week[-1] + DAY

    def _agency(self, policy: Any, now: datetime, started: float, budget: float, summary: dict[str, int]) -> None:
        agency_id = policy.agency_id
        zone = policy.calendar.zone()
        # The last day that is over and settled.
        last = (now - u.SETTLE).astimezone(zone).date() - DAY
        resume = self._resume(agency_id, USAGE, last, zone)
        if resume is None:
            return
        day, latest = resume
        active = int(latest.get("active_end") or 0)
        while day <= last:
            if time.monotonic() - started > budget:
                summary["deferred"] += 1
                return
            start, end = local_midnight(day, zone), local_midnight(day + DAY, zone)
            events = list(self._uow().audit.between(agency_id, start, end + u.SETTLE))
            inside = [e for e in events if start <= e.at < end]
            histories = {c: self._uow().audit.of_client(c, before=end) for c in sorted(u.touched_clients(inside))}
            active += u.membership_delta(histories, start, end)
            facts = replace(u.day_facts(day, events, start, end), active_end=active)
            if not self._uow().rollups.save(agency_id, USAGE, day, facts.to_item()):
                return  # another run is rolling this agency up
            summary["days"] += 1
            day += DAY


REFRESH_DAYS = 62  # how far back the job looks for live inquiries that have settled since


def _business_minutes(policy: Any) -> Any:
    calendar = policy.calendar

    def minutes(a: datetime, b: datetime) -> float:
        return calendar.business_time_between(a, b).total_seconds() / 60

    return minutes


class ComplianceDays:
    """The per-day facts of the compliance report and the dashboard (``domain/compliance_days.py``).

    ``for_period`` reads the period's roll-ups with one Query and builds the other days (the last
    today, yesterday until the job has run, or any day the job has not reached) from one read of
    their inquiries and events, and reads the rolled days' live inquiries by key.
    ``reasons`` reads back, by key, the reasons of the overrides a report lists.
    """

    def __init__(self, uow: Callable[[], UnitOfWork]) -> None:
        self._uow = uow  # a fresh adapters.unit_of_work.UnitOfWork: its rollups, inquiries and audit

    def _facts(self, inquiry_ids: Sequence[str], policy: Any) -> dict[str, InquiryFact]:
        """These inquiries as they are now, by id (BatchGetItem)."""
        minutes = _business_minutes(policy)
        return {i: inquiry_fact(q, minutes) for i, q in self._uow().inquiries.many(inquiry_ids).items()}

    def build(self, agency_id: str, policy: Any, days: Sequence[date],
              now: datetime | None = None) -> dict[date, cd.ComplianceDay]:
        """The facts of ``days`` (ascending) from their raw inquiries and events.

        Given ``now`` (the roll-up job), the inquiries not settled at ``now`` are kept as live ids.
        """
        return self._raw(agency_id, policy, days, now)[0]

    def refresh(self, agency_id: str, policy: Any, now: datetime) -> int:
        """Count the settled live inquiries of the last ``REFRESH_DAYS`` rolled-up days; days written."""
        zone = policy.calendar.zone()
        last = cd.settled_through(now, zone)
        items = self._uow().rollups.days(agency_id, COMPLIANCE, last - timedelta(days=REFRESH_DAYS), last)
        pending = [cd.ComplianceDay.from_item(day, item) for day, item in sorted(items.items()) if item.get("live")]
        if not pending:
            return 0
        current = self._facts([i for day in pending for i in day.live], policy)
        written = 0
        for day in pending:
            after = cd.settle_live(day, zone, current, lambda fact: cd.settled(fact, now))
            if after.live != day.live:
                self._uow().rollups.replace(agency_id, COMPLIANCE, day.day, after.to_item())
                written += 1
        return written

    def _raw(self, agency_id: str, policy: Any, days: Sequence[date],
             now: datetime | None = None) -> tuple[dict[date, cd.ComplianceDay], dict[str, str | None]]:
        """The facts of ``days`` from one read of their inquiries and events, and their override reasons."""
        if not days:
            return {}, {}
        calendar = policy.calendar
        zone = calendar.zone()
        start, end = local_midnight(days[0], zone), local_midnight(days[-1] + DAY, zone)
        inquiries = [inquiry_fact(i, _business_minutes(policy)) for i in self._uow().inquiries.opened(agency_id, start, end)]
        events = list(self._uow().audit.between(agency_id, start, end))
        reasons = {e.event_id: e.details.get("reason") for e in events if e.is_(AuditType.OVERRIDE)}
        is_settled = None if now is None else (lambda fact: cd.settled(fact, now))
        return cd.facts_for_days(days, zone, inquiries, events, calendar.is_open, is_settled), reasons

    def for_period(self, agency_id: str, policy: Any, period: Period,
                   now: datetime | None = None) -> tuple[list[cd.ComplianceDay], dict[str, str | None]]:
        """Every day of ``period`` up to ``now`` and the reasons of the raw days' overrides."""
        now = now or utcnow()
        zone = policy.calendar.zone()
        rolled = {day: cd.ComplianceDay.from_item(day, item)
                  for day, item in self._uow().rollups.days(agency_id, COMPLIANCE, period.first_day, period.last_day).items()}
        raw = [day for day in u.days_between(period.first_day, period.last_day)
               if day not in rolled and local_midnight(day, zone) <= now]
        built, reasons = self._raw(agency_id, policy, raw)
        # The rolled days' live inquiries, read by key and counted as they are now (as the raw path).
        live = [i for day in rolled.values() for i in day.live]
        if live:
            current = self._facts(live, policy)
            rolled = {day: cd.settle_live(f, zone, current, lambda _fact: True) for day, f in rolled.items()}
        return [rolled.get(day) or built[day] for day in sorted({*rolled, *built})], reasons

    def with_reasons(self, agency_id: str, days: Sequence[cd.ComplianceDay],
                     known: dict[str, str | None]) -> dict[str, Tally]:
        """The period's tallies with each override's reason, read back from the audit trail by key."""
        tallies = cd.combined_tallies(days)
        missing = [(o.at, o.event_id) for t in tallies.values() for o in t.overrides
                   if o.event_id and o.event_id not in known]
        found = {**known, **(self._uow().audit.reasons(agency_id, missing) if missing else {})}
        for tally in tallies.values():
            tally.overrides = [replace(o, reason=found.get(o.event_id or "")) for o in tally.overrides]
        return tallies
