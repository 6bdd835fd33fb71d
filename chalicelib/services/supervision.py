"""The supervisor's and administrator's console (issue 15): dashboard, reviews, set-up views.

Everything here reads the agency of the caller only. Supervisors and administrators may read
all of it (``require_supervision``); changing staff, numbers or client files stays with the
existing admin routes, so supervisors remain read-only. Marking an override or a breach
reviewed is the one thing a supervisor writes: it changes no file, and it is audited.

Cost of the dashboard (``GET /reports/dashboard``): exactly the reads of the compliance report
(``services/reports.py``: the inquiries opened in the period, one audit range over it, the
agency's staff), plus nothing: the charts are computed from the same facts in memory
(``domain/dashboard.py``). Its round trips grow with the bytes of those two ranges (DynamoDB
returns at most 1 MB a page), that is with the agency's traffic in the period, not with the
number of files; ``bench/dashboard.py`` measures them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from ..domain import compliance_days as cd
from ..domain import dashboard as d
from ..domain import reporting as r
from ..domain import validation as v
from ..domain.absence import Absence
from ..domain.audit import AuditEvent, AuditType
from ..domain.clock import utcnow
from ..domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from ..domain.i18n import format_next_open
from ..domain.inquiry import InquiryStatus
from ..domain.messages import MessageRef
from ..domain.model import Channel, Principal, Role, Staff
from ..domain.notifications import settled_by_review
from ..domain.reporting import inquiry_fact
from .access import published_policy, require_admin, require_supervision
from .admin import number_not_registered
from .reports import _figures_view, iso

if TYPE_CHECKING:
    from ..adapters.unit_of_work import UnitOfWork


def _already_reviewed() -> Exception:
    return Conflict("this was already reviewed", code="already_reviewed")

MAX_LISTED = 2000  # inquiries or review items in one answer; the period narrows it further
MAX_REVIEW_NOTE = 500
PREVIEW_NAMES = 50


def default_period(params: Mapping[str, Any] | None, zone: Any) -> dict[str, Any]:
    """``from``/``to`` as given, else this month to date (agency-local), as SPEC §4.4 says."""
    params = dict(params or {})
    if not params.get("from") and not params.get("to"):
        today = utcnow().astimezone(zone).date()
        params["from"] = today.replace(day=1).isoformat()
        params["to"] = today.isoformat()
    return params


def _flag(params: Mapping[str, Any], name: str) -> bool | None:
    value = params.get(name)
    if value in (None, ""):
        return None
    if value not in ("true", "false"):
        raise InvalidInput(name, "must be true or false")
    return value == "true"


@dataclass(frozen=True)
class Review:
    note: str | None

    @classmethod
    def parse(cls, payload: Any) -> Review:
        body = v.require_object(payload if payload is not None else {})
        return cls(note=v.text(body, "note", required=False, max_len=MAX_REVIEW_NOTE) or None)


class SupervisionService:
    def __init__(self, uow: Callable[[], UnitOfWork], policies: Any, reports: Any) -> None:
        self._reports = reports  # services.reports.ReportService: the compliance report, one way for both
        self._uow = uow  # a fresh adapters.unit_of_work.UnitOfWork
        self._policies = policies

    def _staff(self, agency_id: str) -> list[tuple[Staff, list[Absence]]]:
        """Each staff member (active or not) with their absences (one Query)."""
        return self._uow().staff.with_absences(agency_id)

    def _reviews_of(self, agency_id: str, event_ids: list[str]) -> dict[str, tuple[datetime, str]]:
        """Event id -> (reviewed at, reviewer) for those already reviewed (BatchGetItem of their markers)."""
        return self._uow().claims.reviews(agency_id, event_ids)

    def _erased(self, client_id: str) -> bool:
        client = self._uow().clients.get(client_id)
        return client is not None and client.status_erased()

    def _policy(self, principal: Principal) -> Any:
        return published_policy(self._policies, principal.agency_id)

    def _period(self, principal: Principal, params: Mapping[str, Any] | None) -> tuple[r.Period, Any]:
        require_supervision(principal)
        policy = self._policy(principal)
        zone = policy.calendar.zone()
        return r.parse_period(default_period(params, zone), zone), policy

    # -- the dashboard ------------------------------------------------------------------------------

    def dashboard(self, principal: Principal, params: Mapping[str, Any] | None) -> dict[str, Any]:
        """The compliance report's figures per worker, their links, and the charts' series."""
        period, policy = self._period(principal, params)
        calendar = policy.calendar
        zone = calendar.zone()
        agency = principal.agency_id
        staff = self._staff(agency)
        workers = [s.staff_id for s, _abs in staff if s.role is Role.WORKER]
        names = {s.staff_id: s.name or s.staff_id for s, _abs in staff}
        report, days = self._reports.compliance_report(agency, policy, period, workers)
        weeks = cd.weeks(period, days)
        pressure = cd.pressure(days, calendar.hours)

        def row(staff_id: str | None, figures: r.ComplianceFigures) -> dict[str, Any]:
            return {
                **_figures_view(figures, zone),
                "on_time_rate": d.on_time_rate(figures),
                "links": d.figure_links(period, staff_id),
            }

        return {
            "from": period.first_day.isoformat(),
            "to": period.last_day.isoformat(),
            "timezone": policy.timezone,
            "workers": [{"staff_id": sid, "name": names.get(sid, sid), **row(sid, f)} for sid, f in report.workers],
            "totals": row(None, report.totals),
            "breaches_by_week": [
                {"from": w.first_day.isoformat(), "to": w.last_day.isoformat(), "breaches": w.breaches,
                 "by_worker": dict(w.by_worker),
                 "link": {"path": "/audit", "query": {"from": w.first_day.isoformat(), "to": w.last_day.isoformat(),
                                                      "type": AuditType.INQUIRY_BREACHED.value}}}
                for w in weeks
            ],
            "after_hours": {
                "messages": pressure.messages,
                "after_hours": pressure.after_hours,
                "cells": [
                    {"weekday": c.weekday, "hour": c.hour, "messages": c.messages, "after_hours": c.after_hours,
                     "open_minutes": c.open_minutes}
                    for c in pressure.cells
                ],
                "link": {"path": "/audit", "query": {"from": period.first_day.isoformat(),
                                                     "to": period.last_day.isoformat(),
                                                     "type": AuditType.MESSAGE_FILED.value}},
            },
        }

    def client_names(self, principal: Principal, client_ids: Any) -> dict[str, str]:
        """The names of the caller's agency's files among ``client_ids``, so the console shows
        people, not ids (one BatchGetItem per 100; an erased file, or another agency's, has none)."""
        ids = {c for c in client_ids if c and v.is_identifier(c)}
        found = self._uow().clients.many(ids) if ids else {}
        return {cid: c.name for cid, c in found.items()
                if c.agency_id == principal.agency_id and c.name and not c.status_erased()}

    # -- GET /inquiries with a period ---------------------------------------------------------------

    def inquiries_in_period(self, principal: Principal, params: Mapping[str, Any]) -> list[Any]:
        """Inquiries opened in the period: what each inquiry figure of the dashboard counts.

        ``staff_id`` (who holds the clock), ``status`` (now: open, answered, breached),
        ``breached=true`` (past due at some point), ``on_time=true`` (answered on time) narrow it.
        A worker may ask for their own only.
        """
        policy = self._policy(principal)
        zone = policy.calendar.zone()
        period = r.parse_period(default_period(params, zone), zone)
        staff_id = params.get("staff_id") or None
        if staff_id is not None:
            staff_id = v.identifier(staff_id, "staff_id")
        if not principal.sees_whole_agency():
            if staff_id not in (None, principal.staff_id):
                raise Forbidden("a worker sees their own inquiries only")
            staff_id = principal.staff_id
        status = params.get("status") or None
        if status is not None:
            status = v.one_of(status, "status", [s.value for s in InquiryStatus])
        breached = _flag(params, "breached")
        on_time = _flag(params, "on_time")
        out = []
        for inquiry in self._uow().inquiries.opened(principal.agency_id, period.start, period.end):
            fact = inquiry_fact(inquiry)
            if staff_id and inquiry.staff_id != staff_id:
                continue
            if status and inquiry.status.value != status:
                continue
            if breached is not None and fact.breached is not breached:
                continue
            if on_time is not None and fact.answered_on_time is not on_time:
                continue
            out.append(inquiry)
        return sorted(out, key=lambda i: (i.opened_at, i.inquiry_id))[:MAX_LISTED]

    # -- overrides and breaches to review -----------------------------------------------------------

    def reviews(self, principal: Principal, params: Mapping[str, Any] | None) -> dict[str, Any]:
        """Every override (reason, who, when, the message) and breach (the file) of the period."""
        period, policy = self._period(principal, params)
        params = params or {}
        zone = policy.calendar.zone()
        kind = params.get("kind") or None
        if kind is not None:
            kind = v.one_of(kind, "kind", tuple(d.REVIEW_KINDS))
        reviewed_filter = _flag(params, "reviewed")
        types = [d.REVIEW_KINDS[kind]] if kind else list(d.REVIEWABLE)
        events = list(self._uow().audit.between(principal.agency_id, period.start, period.end, types=types))
        events = sorted(events, key=lambda e: (e.at, e.event_id), reverse=True)[:MAX_LISTED]
        done = self._reviews_of(principal.agency_id, [e.event_id for e in events])
        uow = self._uow()
        clients = uow.clients.many({e.client_id for e in events if e.client_id})
        inquiry_ids = {str(e.details["inquiry_id"]) for e in events if e.details.get("inquiry_id")}
        inquiries = self._uow().inquiries.many(inquiry_ids)
        overridden = {}  # an override's message was written at the instant of its event
        for e in events:
            if e.is_(AuditType.OVERRIDE) and e.client_id and e.details.get("message_id"):
                overridden[e.event_id] = MessageRef(e.client_id, str(e.details["message_id"]), e.at)
        bodies = uow.messages.bodies(overridden.values())
        items = []
        for e in events:
            review = done.get(e.event_id)
            if reviewed_filter is not None and (review is not None) is not reviewed_filter:
                continue
            client = clients.get(e.client_id or "")
            item: dict[str, Any] = {
                "id": d.review_id(e.at, e.event_id),
                "event_id": e.event_id,
                "kind": d.REVIEWABLE[e.type],
                "at": iso(e.at, zone),
                "staff_id": e.staff_id,
                "client_id": e.client_id,
                "client_name": client.name if client and not client.status_erased() else None,
                "reviewed": review is not None,
                "reviewed_at": iso(review[0], zone) if review else None,
                "reviewed_by": review[1] if review else None,
            }
            if e.is_(AuditType.OVERRIDE):
                item["reason"] = e.details.get("reason")
                item["message_id"] = e.details.get("message_id")
                ref = overridden.get(e.event_id)
                item["message"] = bodies.get(ref) if ref is not None else None
            else:
                inquiry = inquiries.get(str(e.details.get("inquiry_id") or ""))
                item["inquiry_id"] = e.details.get("inquiry_id")
                item["due_at"] = iso(inquiry.due_at, zone) if inquiry else e.details.get("due_at")
                item["inquiry_status"] = inquiry.status.value if inquiry else None
                item["answered_at"] = iso(inquiry.answered_at, zone) if inquiry else None
            items.append(item)
        return {
            "from": period.first_day.isoformat(),
            "to": period.last_day.isoformat(),
            "items": items,
            "unreviewed": sum(1 for i in items if not i["reviewed"]),
        }

    def review(self, principal: Principal, review_id: str, command: Review) -> dict[str, Any]:
        """Mark one override or breach reviewed, recorded in the audit trail (409 the second time)."""
        require_supervision(principal)
        policy = self._policy(principal)
        named = d.reviewed_event(review_id) if isinstance(review_id, str) else None
        event = self._uow().audit.get(principal.agency_id, *named) if named is not None else None
        if event is None or event.type not in d.REVIEWABLE:
            raise NotFound("no such override or breach")
        if command.note and event.client_id and self._erased(event.client_id):
            # Erasure removed every note about this client (SPEC §5.7): none is written after it.
            raise Conflict("this client's file was erased: a review of it keeps no note", code="client_erased")
        now = utcnow()
        record = AuditEvent(
            agency_id=principal.agency_id,
            type=AuditType.REVIEWED,
            at=now,
            actor=principal.staff_id,
            client_id=event.client_id,
            staff_id=event.staff_id,
            details={"event_id": event.event_id, "kind": d.REVIEWABLE[event.type], "note": command.note},
        )
        with self._uow() as uow:  # the review's marker and its audit event, once
            uow.claims.mark_reviewed(principal.agency_id, event.event_id, principal.staff_id, now, _already_reviewed)
            uow.audit.add([record])
            uow.commit()
        self._settle_notifications(principal.agency_id, event)
        zone = policy.calendar.zone()
        return {"id": review_id, "event_id": event.event_id, "kind": d.REVIEWABLE[event.type], "reviewed": True,
                "reviewed_at": iso(now, zone), "reviewed_by": principal.staff_id, "note": command.note}

    def _settle_notifications(self, agency_id: str, event: Any) -> None:
        """A review done settles the supervisors' notifications about it (their ``Reviews`` badge
        counts what is left): each marked read, written after the review itself."""
        notification_id = settled_by_review(d.REVIEWABLE[event.type], event.details or {})
        if notification_id is None:
            return
        uow = self._uow()
        try:
            uow.notifications.settle(agency_id, uow.staff.ids_with_role(agency_id, Role.SUPERVISOR), event.at,
                                     notification_id)
        except Exception as err:  # the review is recorded; an unsettled badge is only a hint left behind
            logging.getLogger("cmdm.supervision").warning("review notifications not settled: %s", type(err).__name__)

    # -- administration views -----------------------------------------------------------------------

    def staff(self, principal: Principal) -> dict[str, Any]:
        """The agency's staff with their numbers and absences (supervisors read, admins change);
        a worker's own ``phone`` only for admins."""
        require_supervision(principal)
        for_admin = principal.is_admin()
        staff = self._staff(principal.agency_id)
        workers = [s.staff_id for s, _abs in staff if s.role is Role.WORKER]
        numbers: dict[str, list[Any]] = {}
        for n in self._uow().numbers.of_staff(principal.agency_id, workers):
            numbers.setdefault(n.staff_id, []).append(n)
        return {"staff": [
            {
                "staff_id": s.staff_id,
                "name": s.name,
                "role": s.role.value,
                "active": s.active,
                "created_at": s.created_at.isoformat(),
                **({"phone": s.phone} if for_admin else {}),
                "numbers": [{"number": n.number, "channels": sorted(c.value for c in n.channels)}
                            for n in sorted(numbers.get(s.staff_id, []), key=lambda n: n.number)],
                "absences": [{"absence_id": a.absence_id, "start": a.start.isoformat(), "end": a.end.isoformat(),
                              "cover_id": a.cover_id, "note": a.note} for a in absences],
            }
            for s, absences in sorted(staff, key=lambda x: (x[0].role.value, x[0].name, x[0].staff_id))
        ]}

    def numbers(self, principal: Principal) -> dict[str, Any]:
        require_supervision(principal)
        staff = self._staff(principal.agency_id)
        workers = [s.staff_id for s, _abs in staff if s.role is Role.WORKER]
        found = self._uow().numbers.of_staff(principal.agency_id, workers)
        return {"numbers": [{"number": n.number, "staff_id": n.staff_id, "channels": sorted(c.value for c in n.channels)}
                            for n in sorted(found, key=lambda n: n.number)]}

    def reassignment_preview(self, principal: Principal, number: str, params: Mapping[str, Any]) -> dict[str, Any]:
        """What ``PUT /numbers/{number}`` would do, before it is done: whose clients move to whom."""
        require_admin(principal)
        number = v.phone(number, "number", self._policy(principal).calendar.holiday_country)
        to_staff = v.identifier(params.get("staff_id"), "staff_id")
        raw = params.get("channels")
        channels = v.channels(raw.split(",") if isinstance(raw, str) and raw else None)
        target = self._uow().staff.get(principal.agency_id, to_staff)
        if target is None:
            raise NotFound("no such staff member in this agency")
        if target.role is not Role.WORKER:
            raise InvalidInput("staff_id", "work numbers are assigned to workers")
        registration = self._uow().numbers.registration(number)
        if registration is None or not registration.belongs_to(principal.agency_id):
            # the same answer PUT /numbers gives: whose it is, or whether anyone's, is not this agency's business
            raise number_not_registered()
        current = registration.holder
        from_staff = current.staff_id if current is not None else None
        moving: list[Any] = []
        if from_staff and from_staff != to_staff:
            moving = [c for c in self._uow().clients.of_case_manager(principal.agency_id, from_staff)
                      if c.channel in channels and not c.status_erased()]
        inquiries = self._uow().inquiries.many(c.open_inquiry_id for c in moving if c.open_inquiry_id)
        clocks = sum(1 for i in inquiries.values() if i.awaiting_answer and i.staff_id == from_staff)
        return {
            "number": number,
            "from_staff": from_staff,
            "to_staff": to_staff,
            "channels": sorted(c.value for c in channels),
            "change": "new" if current is None else ("same" if from_staff == to_staff else "reassign"),
            "clients_moving": len(moving),
            "open_clocks_moving": clocks,
            "by_channel": {ch.value: sum(1 for c in moving if c.channel is ch) for ch in Channel},
            "clients": [{"client_id": c.client_id, "name": c.name, "channel": c.channel.value}
                        for c in sorted(moving, key=lambda c: (c.name, c.client_id))[:PREVIEW_NAMES]],
        }

    def policy_view(self, principal: Principal) -> dict[str, Any]:
        """The agency policy as a client would meet it now: each template in each language.

        ``{next_open}`` is written by the same domain function the after-hours reply uses, for
        the opening the clock would start at if a message arrived now; placeholders that need a
        client (their name, their worker) are shown as examples.
        """
        require_supervision(principal)
        policy = self._policy(principal)
        calendar = policy.calendar
        now = utcnow()
        opening = calendar.clock_start(now)
        languages = list(dict.fromkeys([*policy.languages, "en"]))
        next_open = {lang: format_next_open(opening, policy.timezone, lang, now=now) for lang in languages}
        templates = []
        for name in sorted(policy.templates):
            texts = []
            for lang in languages:
                example = {"next_open": next_open[lang], "client_name": EXAMPLE_CLIENT, "case_manager": EXAMPLE_WORKER,
                           "cover_name": EXAMPLE_COVER}
                texts.append({"language": lang, "translated": policy.has_translation(name, lang),
                              "text": policy.render(name, lang, **example)})
            templates.append({"name": name, "texts": texts})
        zone = calendar.zone()
        return {
            "agency_id": policy.agency_id,
            "name": policy.name,
            "timezone": policy.timezone,
            "now": iso(now, zone),
            "open_now": calendar.is_open(now),
            "next_opening": iso(opening, zone),
            "next_open_text": next_open,
            "hours": {day: [[s.strftime("%H:%M"), "24:00" if e.hour == 0 and e.minute == 0 else e.strftime("%H:%M")]
                            for s, e in calendar.hours.get(i, ())] for i, day in enumerate(WEEKDAYS)},
            "holidays": {"country": calendar.holiday_country, "subdivision": calendar.holiday_subdivision,
                         "this_year": sorted(x.isoformat() for x in calendar.holiday_dates(now.astimezone(zone).year))},
            "closures": sorted(x.isoformat() for x in calendar.closures if x >= date(now.year, 1, 1)),
            "response": {"target": _duration(policy.response_target), "clock": policy.clock.value},
            "emergency_line": policy.emergency_line,
            "languages": languages,
            "templates": templates,
        }


EXAMPLE_CLIENT = "Fatima"
EXAMPLE_WORKER = "Amal"
EXAMPLE_COVER = "Jean"  # the colleague who answers while the worker is away (the absence template)
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _duration(delta: Any) -> str:
    hours = int(delta.total_seconds() // 3600)
    return f"PT{hours}H" if hours <= 48 or hours % 24 else f"P{hours // 24}D"

