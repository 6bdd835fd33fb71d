"""Audit trail, compliance and usage reports through HTTP, checked against hand-counted scenarios.

The inbound and outbound webhooks are built elsewhere, so each scenario seeds the audit events and
inquiries those features record, through the same store and models they use.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from pynamodb.exceptions import PutError

from app import app
from chalicelib import bootstrap
from chalicelib.adapters import models as m
from chalicelib.adapters.audit_repository import audit_item
from chalicelib.adapters.clients_repository import closing_changes
from chalicelib.domain.audit import AuditEvent, AuditType
from tests.conftest import auth, new_client
from tests.store_helpers import append_audit, update_client

AGENCY = "calgary-cfn"


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def seed_event(audit_type: AuditType, at: datetime, staff: str | None = "amal", client: str | None = "cl_x",
               agency: str = AGENCY, **details) -> AuditEvent:
    event = AuditEvent(agency_id=agency, type=audit_type, at=at, actor=staff or "system", client_id=client,
                       staff_id=staff, details=details)
    append_audit([event])
    return event


def seed_inquiry(inquiry_id: str, opened: datetime, staff: str = "amal", status: str = "answered", *,
                 late: bool = False, breached: bool = False, first_minutes: int | None = None,
                 client: str = "cl_x", agency: str = AGENCY) -> None:
    _ = bootstrap.container().uow
    m.InquiryModel(
        inquiry_id=inquiry_id, agency_id=agency, client_id=client, staff_id=staff, status=status,
        staff_status=f"{agency}#{staff}#{status}", agency_status=f"{agency}#{status}", opened_at=opened,
        due_at=opened + timedelta(hours=24), answered_at=opened + timedelta(minutes=first_minutes or 0)
        if status == "answered" else None, answered_by=staff if status == "answered" else None,
        answered_late=late, breached_at=opened + timedelta(hours=24) if breached else None,
        first_response_business_seconds=first_minutes * 60 if first_minutes is not None else None,
    ).save()


def get(http, path, who, accept: str | None = None):
    headers = dict(who)
    if accept:
        headers["Accept"] = accept
    response = http.client.http.get(path, headers=headers)
    if response.headers.get("Content-Type", "").startswith("application/json"):
        import json

        response.json = json.loads(response.body)
    return response


def rows(response) -> list[dict[str, str]]:
    assert response.headers["Content-Type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(response.body.decode("utf-8"))))


# --- audit trail ---------------------------------------------------------------------------------


def test_audit_lists_the_agency_local_days_oldest_first(http, agency):
    # Calgary is UTC-7 in March before the 8th: 2 March local runs 07:00 UTC 2 March -> 07:00 UTC 3 March.
    seed_event(AuditType.STAFF_MESSAGE_HELD, utc(2026, 3, 2, 6, 59), message_id="before")  # 1 March local
    first = seed_event(AuditType.STAFF_MESSAGE_HELD, utc(2026, 3, 2, 7, 0), message_id="m1")
    late = seed_event(AuditType.OVERRIDE, utc(2026, 3, 3, 6, 59, 59), client="cl_y", reason="flood", message_id="m2")
    seed_event(AuditType.AUTO_REPLY_SENT, utc(2026, 3, 3, 7, 0), staff="jean")  # 3 March local
    r = http.call("GET", "/audit?from=2026-03-02&to=2026-03-02", agency["supervisor"])
    assert r.status_code == 200, r.body
    events = r.json["events"]
    assert [e["id"] for e in events] == [first.event_id, late.event_id]
    assert events[1] == {"id": late.event_id, "type": "boundary.override", "at": "2026-03-02T23:59:59-07:00",
                         "actor": "amal", "staff_id": "amal", "client_id": "cl_y",
                         "details": {"reason": "flood", "message_id": "m2"}}


def test_audit_of_one_worker_uses_their_events_only(http, agency):
    seed_event(AuditType.STAFF_MESSAGE_HELD, utc(2026, 3, 2, 17), staff="amal")
    jeans = seed_event(AuditType.STAFF_MESSAGE_HELD, utc(2026, 3, 2, 18), staff="jean")
    r = http.call("GET", "/audit?from=2026-03-02&to=2026-03-02&staff_id=jean", agency["admin"])
    assert r.status_code == 200 and [e["id"] for e in r.json["events"]] == [jeans.event_id]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("?to=2026-03-02", "from"),
        ("?from=2026-03-02", "to"),
        ("?from=yesterday&to=2026-03-02", "from"),
        ("?from=2026-03-02&to=2026-02-30", "to"),
        ("?from=2026-03-02&to=2026-03-01", "to"),
        ("?from=2025-01-01&to=2026-03-01", "to"),
        ("?from=2026-03-02&to=2026-03-02&staff_id=a%23b", "staff_id"),
    ],
)
def test_audit_refuses_bad_periods_naming_the_field(http, agency, query, field):
    r = http.call("GET", f"/audit{query}", agency["supervisor"])
    assert r.status_code == 400 and r.json["error"]["field"] == field


def test_audit_pages_with_a_cursor_and_narrows_to_one_client(http, agency):
    ids = [seed_event(AuditType.STAFF_MESSAGE_HELD, utc(2026, 3, 2, 17, i), client=f"cl_{i % 2}").event_id
           for i in range(5)]
    seed_event(AuditType.STAFF_MESSAGE_HELD, utc(2026, 3, 2, 17, 9), client="cl_0", agency="halifax-isans")
    seen, after = [], ""
    for _page in range(5):
        r = http.call("GET", f"/audit?from=2026-03-02&to=2026-03-02&limit=2{after}", agency["supervisor"])
        assert r.status_code == 200 and len(r.json["events"]) <= 2
        seen += [e["id"] for e in r.json["events"]]
        if r.json["next"] is None:
            break
        after = f"&after={r.json['next'].replace('#', '%23')}"
    assert seen == ids
    r = get(http, "/audit?from=2026-03-02&to=2026-03-02&limit=3", agency["admin"], "text/csv")
    assert len(rows(r)) == 3 and r.headers["X-Next-After"].endswith(ids[2])
    r = http.call("GET", "/audit?from=2026-03-02&to=2026-03-02&client_id=cl_0", agency["supervisor"])
    assert [e["id"] for e in r.json["events"]] == ids[0::2]  # Halifax's cl_0 event is not Calgary's
    for bad, field in (("limit=0", "limit"), ("limit=5001", "limit"), ("limit=x", "limit"),
                       ("after=garbage", "after"), ("client_id=a%2Fb", "client_id")):
        r = http.call("GET", f"/audit?from=2026-03-02&to=2026-03-02&{bad}", agency["supervisor"])
        assert r.status_code == 400 and r.json["error"]["field"] == field, bad


def test_workers_may_not_read_the_audit_trail_or_reports(http, agency):
    for path in ("/audit", "/reports/compliance", "/reports/usage"):
        r = http.call("GET", f"{path}?from=2026-03-02&to=2026-03-02", agency["amal"])
        assert r.status_code == 403, path


def test_audit_as_csv(http, agency):
    seed_event(AuditType.OVERRIDE, utc(2026, 3, 2, 17), client="cl_y", reason="=HYPERLINK(1)", message_id="m")
    r = get(http, "/audit?from=2026-03-02&to=2026-03-02", agency["supervisor"], "text/csv")
    assert r.status_code == 200
    (row,) = rows(r)
    assert row["type"] == "boundary.override" and row["at"] == "2026-03-02T10:00:00-07:00"
    assert row["details"] == '{"message_id": "m", "reason": "=HYPERLINK(1)"}'
    assert (row["staff_id"], row["client_id"]) == ("amal", "cl_y")


def test_csv_cells_that_a_spreadsheet_would_run_are_quoted():
    from chalicelib.services.reports import audit_csv

    text = audit_csv({"events": [{"id": "e", "type": "t", "at": "a", "actor": "=cmd|' /C calc'!A0",
                                  "staff_id": None, "client_id": "+1", "details": {}}]})
    (row,) = csv.DictReader(io.StringIO(text))
    assert row["actor"].startswith("'=") and row["client_id"] == "'+1" and row["staff_id"] == ""


def test_audit_events_cannot_be_written_twice_or_changed_through_the_api(http, agency):
    event = seed_event(AuditType.STAFF_MESSAGE_HELD, utc(2026, 3, 2, 17))
    with pytest.raises(PutError):
        audit_item(event).save(condition=m.AuditModel.sk.does_not_exist())
    with pytest.raises(PutError):  # the store's own append refuses an event that is already there
        append_audit([event])
    audit_methods = {method for path, entries in app.routes.items() if path.startswith("/audit") for method in entries}
    assert audit_methods == {"GET"}


def test_another_agencys_admin_sees_none_of_calgarys_audit(http, agency):
    seed_event(AuditType.STAFF_MESSAGE_HELD, utc(2026, 3, 2, 17))
    halifax = auth("admin-h", "admin", "halifax-isans")
    seed_event(AuditType.STAFF_MESSAGE_HELD, utc(2026, 3, 2, 17), staff="w-h", agency="halifax-isans")
    r = http.call("GET", "/audit?from=2026-03-02&to=2026-03-02", halifax)
    assert r.status_code == 200 and [e["staff_id"] for e in r.json["events"]] == ["w-h"]
    r = http.call("GET", "/audit?from=2026-03-02&to=2026-03-02&staff_id=amal", halifax)
    assert r.json["events"] == []


# --- compliance ----------------------------------------------------------------------------------

# Week of Monday 2 March 2026 in Calgary (UTC-7).
WEEK = "from=2026-03-02&to=2026-03-06"


def _compliance_week() -> None:
    seed_inquiry("i1", utc(2026, 3, 2, 17), "amal", first_minutes=15)
    seed_inquiry("i2", utc(2026, 3, 3, 17), "amal", first_minutes=45)
    seed_inquiry("i3", utc(2026, 3, 4, 17), "amal", first_minutes=90)
    seed_inquiry("i4", utc(2026, 3, 5, 1), "amal", late=True, breached=True, first_minutes=600)
    seed_inquiry("i5", utc(2026, 3, 6, 18), "amal", status="open")
    seed_inquiry("j1", utc(2026, 3, 3, 20), "jean", status="breached", breached=True)
    seed_inquiry("j2", utc(2026, 3, 4, 20), "jean", first_minutes=30)
    seed_inquiry("x0", utc(2026, 3, 2, 6), "jean", first_minutes=5)  # Sunday 1 March local: outside
    seed_event(AuditType.STAFF_MESSAGE_HELD, utc(2026, 3, 3, 3), "amal", message_id="h1")
    seed_event(AuditType.STAFF_MESSAGE_HELD, utc(2026, 3, 4, 3), "amal", message_id="h2")
    seed_event(AuditType.STAFF_MESSAGE_HELD, utc(2026, 3, 4, 4), "jean", message_id="h3")
    seed_event(AuditType.OVERRIDE, utc(2026, 3, 4, 5), "jean", client="cl_z", reason="hospital", message_id="o1")
    seed_event(AuditType.AUTO_REPLY_SENT, utc(2026, 3, 5, 1), "amal")
    seed_event(AuditType.AUTO_REPLY_SENT, utc(2026, 3, 3, 20), "jean")
    seed_event(AuditType.STAFF_MESSAGE_SENT, utc(2026, 3, 4, 18), "amal", message_id="s1", holding=True)
    seed_event(AuditType.INQUIRY_ANSWERED, utc(2026, 3, 4, 18), "amal", inquiry_id="i3", holding=True, late=False,
               first_response_business_minutes=90)
    seed_event(AuditType.STAFF_MESSAGE_SENT, utc(2026, 3, 4, 19), "amal", message_id="s2", holding=False)
    seed_event(AuditType.STAFF_MESSAGE_HELD, utc(2026, 3, 7, 3), "amal", message_id="h9")  # Friday evening local
    seed_event(AuditType.STAFF_MESSAGE_HELD, utc(2026, 3, 7, 8), "amal", message_id="h10")  # Saturday local


def test_compliance_report_matches_the_hand_counted_week(http, agency):
    _compliance_week()
    r = http.call("GET", f"/reports/compliance?{WEEK}", agency["supervisor"])
    assert r.status_code == 200, r.body
    body = r.json
    assert (body["from"], body["to"]) == ("2026-03-02", "2026-03-06")
    workers = {w["staff_id"]: w for w in body["workers"]}
    assert set(workers) == {"amal", "jean"}
    assert workers["amal"] == {
        "staff_id": "amal", "inquiries": 5, "answered_on_time": 3, "breached": 1,
        "first_response_p50_business_minutes": 45.0, "first_response_p90_business_minutes": 600.0,
        "held_after_hours": 3, "overrides": [], "auto_replies": 1, "holding_replies": 1, "opted_out": 0,
    }
    assert workers["jean"] == {
        "staff_id": "jean", "inquiries": 2, "answered_on_time": 1, "breached": 1,
        "first_response_p50_business_minutes": 30.0, "first_response_p90_business_minutes": 30.0,
        "held_after_hours": 1,
        "overrides": [{"at": "2026-03-03T22:00:00-07:00", "client_id": "cl_z", "reason": "hospital"}],
        "auto_replies": 1, "holding_replies": 0, "opted_out": 0,
    }
    totals = body["totals"]
    assert (totals["inquiries"], totals["answered_on_time"], totals["breached"]) == (7, 4, 2)
    assert totals["first_response_p50_business_minutes"] == 45.0  # of 15, 30, 45, 90, 600
    assert totals["first_response_p90_business_minutes"] == 600.0
    assert (totals["held_after_hours"], len(totals["overrides"]), totals["auto_replies"]) == (4, 1, 2)


def test_first_response_is_computed_from_business_hours_when_not_recorded(http, agency):
    # Opened Friday 6 March 16:00 local, answered Monday 9 March 10:00 local: 60 + 60 open minutes.
    seed_inquiry("i1", utc(2026, 3, 6, 23), "amal", first_minutes=None)
    item = m.InquiryModel.get("i1")
    item.update(actions=[m.InquiryModel.answered_at.set(utc(2026, 3, 9, 16))])
    r = http.call("GET", "/reports/compliance?from=2026-03-06&to=2026-03-06", agency["supervisor"])
    amal = next(w for w in r.json["workers"] if w["staff_id"] == "amal")
    assert amal["first_response_p50_business_minutes"] == 120.0


def test_compliance_as_csv_has_a_row_per_worker_and_a_total(http, agency):
    _compliance_week()
    r = get(http, f"/reports/compliance?{WEEK}", agency["admin"], "text/csv")
    table = rows(r)
    assert [row["staff_id"] for row in table] == ["amal", "jean", "TOTAL"]
    assert table[1]["overrides"] == "1" and table[2]["inquiries"] == "7"
    assert table[0]["first_response_p90_business_minutes"] == "600.0"


# --- usage ---------------------------------------------------------------------------------------


def test_usage_report_matches_the_hand_counted_quarter_and_splits_by_month(http, agency):
    with time_machine.travel(utc(2026, 1, 12, 17), tick=False):
        a = new_client(http, agency["amal"], phone="+15875550201")["client_id"]
        b = new_client(http, agency["amal"], phone="+15875550202")["client_id"]
    with time_machine.travel(utc(2026, 2, 3, 17), tick=False):
        c = new_client(http, agency["jean"], phone="+15875550203", manager="jean")["client_id"]
        d = new_client(http, agency["amal"], phone="+15875550204")["client_id"]
    with time_machine.travel(utc(2026, 2, 20, 17), tick=False):
        r = http.call("DELETE", f"/clients/{b}/consent", agency["amal"], {"reason": "moved away"})
        assert r.status_code == 200
    with time_machine.travel(utc(2026, 3, 10, 17), tick=False):
        new_client(http, agency["amal"], phone="+15875550205")
    # d is removed under the conduct policy on 5 March.
    closed_at = utc(2026, 3, 5, 17)
    event = AuditEvent(agency_id=AGENCY, type=AuditType.CLIENT_STATUS, at=closed_at, actor="admin-lee",
                       client_id=d, staff_id="amal", details={"status": "closed", "conduct": True})
    update_client(d, closing_changes(closed_at), [event])
    for iid, at, cid, staff in (("q1", utc(2026, 1, 20, 17), a, "amal"), ("q2", utc(2026, 2, 21, 17), c, "jean"),
                                ("q3", utc(2026, 3, 2, 17), a, "amal")):
        seed_event(AuditType.INQUIRY_OPENED, at, staff=staff, client=cid, inquiry_id=iid)
        seed_event(AuditType.MESSAGE_FILED, at, staff=staff, client=cid, direction="inbound", kind="client")
    seed_event(AuditType.MESSAGE_FILED, utc(2026, 3, 2, 18), client=a, direction="inbound", kind="client")
    seed_event(AuditType.MESSAGE_FILED, utc(2026, 3, 2, 19), client=a, direction="inbound", kind="client",
               keyword="help")  # a keyword: a participant's message, but not a private message
    seed_event(AuditType.INQUIRY_ANSWERED, utc(2026, 1, 20, 18), client=a, inquiry_id="q1")
    seed_event(AuditType.INQUIRY_ANSWERED, utc(2026, 2, 21, 18), staff="jean", client=c, inquiry_id="q2")
    seed_event(AuditType.INQUIRY_ANSWERED, utc(2026, 3, 2, 18), client=a, inquiry_id="q3", holding=True)
    seed_event(AuditType.STAFF_MESSAGE_SENT, utc(2026, 1, 20, 18), client=a, message_id="m1")
    seed_event(AuditType.STAFF_MESSAGE_SENT, utc(2026, 2, 21, 18), staff="jean", client=c, message_id="m2")
    seed_event(AuditType.STAFF_MESSAGE_SENT, utc(2026, 3, 2, 18), client=a, message_id="m3", holding=True)
    seed_event(AuditType.STAFF_MESSAGE_FAILED, utc(2026, 3, 2, 19), client=a, message_id="m3")
    seed_event(AuditType.FOLLOWUP_SENT, utc(2026, 2, 10, 17), client=a, kind="followup")
    seed_event(AuditType.FOLLOWUP_SENT, utc(2026, 3, 2, 17), client=c, staff="jean", kind="checkin")
    seed_event(AuditType.SURVEY_SCORED, utc(2026, 3, 3, 17), client=a, score=5)
    seed_event(AuditType.SURVEY_SCORED, utc(2026, 3, 3, 18), client=c, staff="jean", score=2)
    seed_event(AuditType.MESSAGE_FILED, utc(2026, 4, 1, 7), client=a, direction="inbound")  # 1 April local

    expected = {
        "active_clients": 3,  # a, c and e: b withdrew, d was removed
        "new_clients": 5,  # a to e each gave consent for the first time
        "clients_left": 1,  # b
        "clients_removed": 1,  # d
        "participants": 2,  # a and c sent messages
        "inquiries": 3,  # q1, q2, q3
        "inquiries_answered": 2,  # q1, q2 (q3 had a holding reply only)
        "messages_in": 4,  # four client messages; the HELP keyword is not counted
        "messages_out": 2,  # m1, m2 (m3 failed)
        "automatic_messages": 2,  # the follow-up and the check-in
        "private_messages": 6,  # 4 + 2
        "posts": 0,
        "referrals": 0,
        "followups": 2,
        "survey_responses": 2,
        "survey_mean_score": 3.5,  # (5 + 2) / 2
        "calls": 0,  # no phone calls (SPEC §5.10)
        "call_minutes": 0,
    }
    url = "/reports/usage?from=2026-01-01&to=2026-03-31&period=month"
    with time_machine.travel(utc(2026, 4, 10, 17), tick=False):
        r = http.call("GET", url, agency["supervisor"])
        assert r.status_code == 200, r.body
        raw = r.json
        assert app  # the same figures once the days are rolled up
        from app import run_job

        assert run_job("roll_up_reports")["days"] == 20 + 28 + 31 + 9  # 12 January (first event) to 9 April
        rolled = http.call("GET", url, agency["supervisor"]).json
    for body in (raw, rolled):
        assert body["totals"] == expected
        months = {mo["month"]: mo for mo in body["months"]}
        assert list(months) == ["2026-01", "2026-02", "2026-03"]
        assert (months["2026-01"]["active_clients"], months["2026-01"]["new_clients"]) == (2, 2)  # a, b
        assert (months["2026-02"]["active_clients"], months["2026-02"]["clients_left"]) == (3, 1)  # a, c, d; b
        assert (months["2026-03"]["active_clients"], months["2026-03"]["clients_removed"]) == (3, 1)  # a, c, e; d
        assert [mo["participants"] for mo in months.values()] == [1, 1, 1]  # a in January and March, c in February
        assert months["2026-03"]["survey_mean_score"] == 3.5 and months["2026-01"]["survey_mean_score"] is None
        assert sum(mo["messages_in"] for mo in months.values()) == body["totals"]["messages_in"]
    assert raw == rolled

    with time_machine.travel(utc(2026, 4, 10, 17), tick=False):
        r = get(http, "/reports/usage?from=2026-01-01&to=2026-03-31&period=month", agency["admin"], "text/csv")
        table = rows(r)
        assert [row["period"] for row in table] == ["2026-01", "2026-02", "2026-03", "total"]
        assert table[-1]["new_clients"] == "5" and table[0]["survey_mean_score"] == ""
        r = get(http, "/reports/usage?from=2026-01-01&to=2026-03-31&layout=table7", agency["admin"], "text/csv")
    sheet = list(csv.reader(io.StringIO(r.body.decode("utf-8"))))
    assert sheet[0] == ["Reporting Period", "statistic", "2026-01-01 to 2026-01-31", "2026-02-01 to 2026-02-28",
                        "2026-03-01 to 2026-03-31", "Total 2026-01-01 to 2026-03-31"]
    by_label = {row[0]: row[1:] for row in sheet[1:]}
    assert by_label["Total number of users"] == ["active_clients", "2", "3", "3", "3"]
    assert by_label["Number of users who left the group"] == ["clients_left", "0", "1", "0", "1"]
    assert by_label["Number of private messages"] == ["private_messages", "2", "2", "2", "6"]
    assert by_label["Number of posts (e.g., job postings, workshops, information)"][0] == "posts"


def test_reports_without_a_period_cover_the_current_month_to_date(http, agency):
    with time_machine.travel(utc(2026, 5, 14, 17), tick=False):
        for path in ("/reports/usage", "/reports/compliance", "/audit"):
            r = http.call("GET", path, agency["supervisor"])
            assert r.status_code == 200, r.body
            assert (r.json["from"], r.json["to"]) == ("2026-05-01", "2026-05-14")


def test_usage_without_a_split_has_no_months_and_refuses_other_splits(http, agency):
    r = http.call("GET", "/reports/usage?from=2026-01-01&to=2026-01-31", agency["supervisor"])
    assert r.status_code == 200 and r.json["months"] == [] and r.json["totals"]["active_clients"] == 0
    r = http.call("GET", "/reports/usage?from=2026-01-01&to=2026-01-31&layout=grid", agency["supervisor"])
    assert r.status_code == 400 and r.json["error"]["field"] == "layout"
    r = http.call("GET", "/reports/usage?from=2026-01-01&to=2026-01-31&period=week", agency["supervisor"])
    assert r.status_code == 400 and r.json["error"]["field"] == "period"
