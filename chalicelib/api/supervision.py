"""Supervision and reports: the audit trail, compliance and usage reports, the dashboard and reviews."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint, Response

from chalicelib import bootstrap
from chalicelib.api.edge import endpoint, json_body, request

supervision = Blueprint(__name__)


def _wants_csv() -> bool:
    accept = (request().headers or {}).get("accept") or ""
    return "text/csv" in accept.lower()


def _report(kind: str, body: dict[str, Any]) -> Any:
    """JSON, or CSV when the caller asks for it with ``Accept: text/csv``."""
    from chalicelib.services.reports import to_csv

    if not _wants_csv():
        return body
    headers = {"Content-Type": "text/csv; charset=utf-8", "Content-Disposition": f'attachment; filename="{kind}.csv"'}
    if body.get("next"):  # a paged audit trail: the cursor of the next page travels in a header
        headers["X-Next-After"] = body["next"]
    return Response(body=to_csv(kind, body), status_code=200, headers=headers)


@endpoint(supervision, "/audit", ["GET"])
def get_audit(who: Any) -> Any:
    container = bootstrap.container()
    body = container.reports.audit(who, request().query_params)
    if not _wants_csv():  # the console shows people by name: the page's clients and staff (JSON only)
        body["client_names"] = container.supervision.client_names(who, {e["client_id"] for e in body["events"]})
        body["staff_names"] = dict(container.absences.directory(who.agency_id)[0])
    return _report("audit", body)


@endpoint(supervision, "/reports/compliance", ["GET"])
def get_compliance_report(who: Any) -> Any:
    return _report("compliance", bootstrap.container().reports.compliance(who, request().query_params))


@endpoint(supervision, "/reports/usage", ["GET"])
def get_usage_report(who: Any) -> Any:
    return _report("usage", bootstrap.container().reports.usage(who, request().query_params))


# --- the supervisor's and administrator's console (issue 15) --------------------------------------


@endpoint(supervision, "/reports/dashboard", ["GET"])
def get_dashboard(who: Any) -> Any:
    """The compliance figures per worker with the links behind them, and the charts' series."""
    return bootstrap.container().supervision.dashboard(who, request().query_params)


@endpoint(supervision, "/reviews", ["GET"])
def list_reviews(who: Any) -> Any:
    """Overrides and breaches of a period, each with whether (and by whom) it was reviewed."""
    container = bootstrap.container()
    body = container.supervision.reviews(who, request().query_params)
    names = container.absences.directory(who.agency_id)[0]  # cached: the console shows people by name
    for item in body["items"]:
        item["staff_name"] = names.get(item["staff_id"] or "")
        item["reviewed_by_name"] = names.get(item["reviewed_by"] or "")
    return body


@endpoint(supervision, "/reviews/{review_id}", ["PUT"])
def put_review(who: Any, review_id: str) -> Any:
    from chalicelib.services.supervision import Review

    return bootstrap.container().supervision.review(who, review_id, Review.parse(json_body()))
