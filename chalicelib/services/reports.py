"""Supervision: the audit trail, the boundary-compliance report and the funder usage report.

Supervisors and administrators only (SPEC §4.4), and only their own agency: every read is keyed
by the caller's ``agency_id``, so another agency's data is never even fetched.

Where each figure comes from (all keyed ``Query`` calls, never a ``Scan``; see
the audit, inquiries and clients repositories in ``adapters/`` for the keys):

* ``GET /audit`` — the audit table by ``agency_id`` with its sort key between the period's UTC bounds,
  or its ``by_staff`` index by ``agency#staff`` when ``staff_id`` is given, or its ``by_client``
  index when ``client_id`` is given (events of another agency are dropped). Pages of ``limit``
  events (default 1000, at most 5000); ``next`` is the cursor to pass as ``after``.
* ``GET /reports/compliance`` — inquiries opened in the period from the inquiries table's
  ``by_agency_opened`` index (counts, on-time, breaches, first-response percentiles), plus one
  audit query over the period (held messages, overrides, automatic and holding replies); the
  agency's workers from the staff table (``Query agency_id``) so idle workers show with zeros.
* ``GET /reports/usage`` — the daily roll-ups of ``services/usage_rollup.py`` (one Query of the
  ``counters`` table over the period) plus the raw audit events of the days not rolled up yet;
  definitions in ``domain/usage.py``. ``layout=table7`` with ``Accept: text/csv`` gives the
  toolkit's sheet (``table7_csv``).

Reads are paged by DynamoDB and bounded by the period (at most 366 days). The compliance report
still reads the period's inquiries and audit events: its cost grows with the events in the period.

Figures are defined in ``chalicelib/domain/reporting.py``. Instants are written with the
agency's offset; ``Accept: text/csv`` gives the same figures as CSV (``to_csv``).
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from ..domain import reporting as r
from ..domain import usage as u
from ..domain import validation as v
from ..domain.clock import utcnow
from ..domain.errors import InvalidInput
from ..domain.model import Principal, Role
from .access import published_policy, require_supervision

if TYPE_CHECKING:
    from ..adapters.unit_of_work import UnitOfWork

DEFAULT_AUDIT_PAGE = 1000
MAX_AUDIT_PAGE = 5000
_CURSOR = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z#[A-Za-z0-9_.@-]{1,64}", re.ASCII)


def _limit(value: Any) -> int:
    if value in (None, ""):
        return DEFAULT_AUDIT_PAGE
    if not isinstance(value, str) or not (value.isascii() and value.isdigit()) or not 1 <= int(value) <= MAX_AUDIT_PAGE:
        raise InvalidInput("limit", f"must be a whole number from 1 to {MAX_AUDIT_PAGE}")
    return int(value)


_AUDIT_TYPE = re.compile(r"[a-z_]{1,40}\.[a-z_]{1,40}", re.ASCII)


def _audit_filters(params: Mapping[str, Any]) -> tuple[frozenset[str] | None, bool | None]:
    """``type`` (one or more event types, comma-separated) and ``holding`` (true/false) of GET /audit.

    They select the events behind a dashboard figure; a filtered page may hold fewer than
    ``limit`` events and still have a ``next`` page.
    """
    raw = params.get("type") or None
    types = None
    if raw is not None:
        names = [t.strip() for t in str(raw).split(",") if t.strip()]
        if not names or len(names) > 10 or not all(_AUDIT_TYPE.fullmatch(t) for t in names):
            raise InvalidInput("type", "must be one or more audit event types, comma-separated (e.g. boundary.override)")
        types = frozenset(names)
    holding = params.get("holding")
    if holding in (None, ""):
        return types, None
    if holding not in ("true", "false"):
        raise InvalidInput("holding", "must be true or false")
    return types, holding == "true"


def iso(at: datetime | None, zone: ZoneInfo) -> str | None:
    return at.astimezone(zone).isoformat() if at is not None else None


_INSTANT = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d{1,6})?)?(Z|[+-]\d\d:\d\d)", re.ASCII)


def local_details(value: Any, zone: ZoneInfo) -> Any:
    """Audit details with every stored instant (kept in UTC) written in the agency's offset."""
    if isinstance(value, dict):
        return {k: local_details(v, zone) for k, v in value.items()}
    if isinstance(value, list):
        return [local_details(v, zone) for v in value]
    if isinstance(value, str) and _INSTANT.fullmatch(value):
        try:
            return datetime.fromisoformat(value).astimezone(zone).isoformat()
        except ValueError:
            return value
    return value


def audit_view(event: r.AuditRecord, zone: ZoneInfo) -> dict[str, Any]:
    return {
        "id": event.event_id,
        "type": event.type,
        "at": iso(event.at, zone),
        "actor": event.actor,
        "staff_id": event.staff_id,
        "client_id": event.client_id,
        "details": local_details(dict(event.details), zone),
    }


def _figures_view(f: r.ComplianceFigures, zone: ZoneInfo) -> dict[str, Any]:
    return {
        "inquiries": f.inquiries,
        "answered_on_time": f.answered_on_time,
        "breached": f.breached,
        "first_response_p50_business_minutes": f.first_response_p50_business_minutes,
        "first_response_p90_business_minutes": f.first_response_p90_business_minutes,
        "held_after_hours": f.held_after_hours,
        "overrides": [{"at": iso(o.at, zone), "client_id": o.client_id, "reason": o.reason} for o in f.overrides],
        "auto_replies": f.auto_replies,
        "holding_replies": f.holding_replies,
        "opted_out": f.opted_out,
    }


class ReportService:
    def __init__(self, uow: Callable[[], UnitOfWork], policies: Any, usage_reports: Any, compliance_days: Any) -> None:
        self._uow = uow
        self._policies = policies
        self._usage = usage_reports
        self._days = compliance_days  # services.usage_rollup.ComplianceDays: roll-ups, raw for recent days

    def _policy(self, principal: Principal) -> Any:
        return published_policy(self._policies, principal.agency_id)

    def _period(self, principal: Principal, params: Mapping[str, Any] | None) -> tuple[r.Period, Any]:
        require_supervision(principal)
        policy = self._policy(principal)
        zone = policy.calendar.zone()
        return r.parse_period(params, zone, today=utcnow().astimezone(zone).date()), policy

    # -- audit ------------------------------------------------------------------------------

    def audit(self, principal: Principal, params: Mapping[str, Any] | None) -> dict[str, Any]:
        """One page of the audit trail; ``staff_id`` / ``client_id`` narrow it, ``after`` pages on."""
        period, policy = self._period(principal, params)
        params = params or {}
        staff_id = params.get("staff_id") or None
        if staff_id is not None:
            staff_id = v.identifier(staff_id, "staff_id")
        client_id = params.get("client_id") or None
        if client_id is not None:
            client_id = v.identifier(client_id, "client_id")
        limit = _limit(params.get("limit"))
        after = params.get("after") or None
        if after is not None and not _CURSOR.fullmatch(after):
            raise InvalidInput("after", "must be the 'next' value of a previous page")
        zone = policy.calendar.zone()
        types, holding = _audit_filters(params)
        events, cursor = self._uow().audit.page(
            principal.agency_id, period.start, period.end, staff_id=staff_id, client_id=client_id,
            after=after, limit=limit, types=types, holding=holding,
        )
        return {
            "from": period.first_day.isoformat(),
            "to": period.last_day.isoformat(),
            "staff_id": staff_id,
            "client_id": client_id,
            "type": ",".join(sorted(types)) if types else None,
            "events": [audit_view(e, zone) for e in events],
            "next": cursor,
        }

    # -- compliance -------------------------------------------------------------------------

    def compliance(self, principal: Principal, params: Mapping[str, Any] | None) -> dict[str, Any]:
        period, policy = self._period(principal, params)
        zone = policy.calendar.zone()
        workers = self._uow().staff.ids_with_role(principal.agency_id, Role.WORKER)
        report = self.compliance_report(principal.agency_id, policy, period, workers)[0]
        return {
            "from": period.first_day.isoformat(),
            "to": period.last_day.isoformat(),
            "workers": [{"staff_id": staff_id, **_figures_view(f, zone)} for staff_id, f in report.workers],
            "totals": _figures_view(report.totals, zone),
        }

    def compliance_report(self, agency_id: str, policy: Any, period: r.Period,
                          workers: Any) -> tuple[r.ComplianceReport, list[Any]]:
        """The report and its days' facts: daily roll-ups where they exist, raw facts otherwise."""
        days, reasons = self._days.for_period(agency_id, policy, period)
        tallies = self._days.with_reasons(agency_id, days, reasons)
        return r.report_of(period, tallies, workers), days

    # -- usage ------------------------------------------------------------------------------

    def usage(self, principal: Principal, params: Mapping[str, Any] | None) -> dict[str, Any]:
        """The funder statistics of SPEC §5.6 (``domain/usage.py``), from daily roll-ups and today's events."""
        period, policy = self._period(principal, params)
        params = params or {}
        split = params.get("period")
        if split not in (None, ""):
            v.one_of(split, "period", ("month",))
        layout = params.get("layout")
        if layout not in (None, ""):
            v.one_of(layout, "layout", ("table7",))
        zone = policy.calendar.zone()
        totals, months = self._usage.figures(principal.agency_id, period, zone, split=split == "month" or bool(layout))
        body: dict[str, Any] = {
            "from": period.first_day.isoformat(),
            "to": period.last_day.isoformat(),
            "totals": totals.as_dict(),
            "months": [
                {"month": month.first_day.strftime("%Y-%m"), "from": month.first_day.isoformat(),
                 "to": month.last_day.isoformat(), **figures.as_dict()}
                for month, figures in months
            ],
        }
        if layout:
            body["layout"] = layout
        return body


# --- CSV -------------------------------------------------------------------------------------

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> Any:
    """A spreadsheet-safe cell: free text that a spreadsheet would run as a formula is quoted."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        value = json.dumps(value, ensure_ascii=False, sort_keys=True)
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _write(header: list[str], rows: list[list[Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([_cell(x) for x in row])
    return out.getvalue()


_COMPLIANCE_COLUMNS = (
    "inquiries",
    "answered_on_time",
    "breached",
    "first_response_p50_business_minutes",
    "first_response_p90_business_minutes",
    "held_after_hours",
    "overrides",
    "auto_replies",
    "holding_replies",
    "opted_out",
)


def audit_csv(body: Mapping[str, Any]) -> str:
    header = ["id", "type", "at", "actor", "staff_id", "client_id", "details"]
    return _write(header, [[e[h] for h in header] for e in body["events"]])


def compliance_csv(body: Mapping[str, Any]) -> str:
    """One row per worker and a last ``TOTAL`` row; ``overrides`` is their number."""

    def row(staff_id: str, figures: Mapping[str, Any]) -> list[Any]:
        values = [len(figures[c]) if c == "overrides" else figures[c] for c in _COMPLIANCE_COLUMNS]
        return [body["from"], body["to"], staff_id, *values]

    rows = [row(w["staff_id"], w) for w in body["workers"]] + [row("TOTAL", body["totals"])]
    return _write(["from", "to", "staff_id", *_COMPLIANCE_COLUMNS], rows)


def usage_csv(body: Mapping[str, Any]) -> str:
    """One row per month (when split) and a last ``total`` row; ``layout=table7`` turns it round."""
    if body.get("layout") == "table7":
        return table7_csv(body)
    rows = [[m["month"], m["from"], m["to"], *(m[f] for f in u.USAGE_FIELDS)] for m in body.get("months", [])]
    rows.append(["total", body["from"], body["to"], *(body["totals"][f] for f in u.USAGE_FIELDS)])
    return _write(["period", "from", "to", *u.USAGE_FIELDS], rows)


def table7_csv(body: Mapping[str, Any]) -> str:
    """The toolkit's Table 7: a row per statistic with its label, a column per month and a total.

    The first two rows are the template's own: the reporting periods' dates, then "Usage" over
    the counts. Each statistic row carries its field name in the second column, so a program can
    read the sheet as well as a person.
    """
    months = body.get("months", [])
    header = ["Reporting Period", "statistic", *(f"{m['from']} to {m['to']}" for m in months),
              f"Total {body['from']} to {body['to']}"]
    rows: list[list[Any]] = [["Usage", "", *(f"# in {m['month']}" for m in months), "# in the whole period"]]
    for name, label in u.TABLE7_ROWS:
        rows.append([label, name, *(m[name] for m in months), body["totals"][name]])
    return _write(header, rows)


CSV_WRITERS = {"audit": audit_csv, "compliance": compliance_csv, "usage": usage_csv}


def to_csv(kind: str, body: Mapping[str, Any]) -> str:
    return CSV_WRITERS[kind](body)
