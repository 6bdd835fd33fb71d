"""Compliance report and dashboard from daily roll-ups (issue 16 item 4, issue 15's 10,000 clients).

The week of ``test_supervision_flow`` (holding reply, override with its reason, a breach, an
after-hours message held and released) is reported once from the raw inquiries and events, then
rolled up by the ``roll_up_reports`` job once the days have settled (six hours after each ends),
and reported again: the same figures, to the override's reason. An inquiry still waiting is kept
by id in its day's roll-up and read as it is now, so a late answer reaches the figures at once. The roll-ups really are what is read: with the week's raw
inquiries and events gone from the tables, the report is still the same (the reason, kept only
in the audit trail, is then missing, as erasure would leave it).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import time_machine

import app as application
from chalicelib.adapters import models as m
from tests.e2e.test_supervision_flow import week

EDMONTON = ZoneInfo("America/Edmonton")


def local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=EDMONTON)

PERIOD = "from=2026-11-16&to=2026-11-22"


def reports(http, who) -> tuple[dict, dict]:
    compliance = http.call("GET", f"/reports/compliance?{PERIOD}", who)
    dashboard = http.call("GET", f"/reports/dashboard?{PERIOD}", who)
    assert compliance.status_code == 200 and dashboard.status_code == 200, (compliance.body, dashboard.body)
    return compliance.json, dashboard.json


def live_ids() -> dict[str, list[str]]:
    """The inquiries each compliance roll-up keeps by id, not counted yet."""
    items = m.CounterModel.query("calgary-cfn#compliance")
    return {i.day: list(i.counts.as_dict().get("live") or []) for i in items if i.counts.as_dict().get("live")}


def c_inquiry(fatima: str) -> str:
    """Fatima's Wednesday question C, which nobody answers during the week."""
    return next(i.inquiry_id for i in m.InquiryModel.by_client.query(fatima) if i.status != "answered")


def test_the_rolled_up_week_reports_exactly_what_the_raw_week_reported(http, agency):
    fatima, _joseph = week(http, agency)
    later = local("2026-11-23T12:00")
    with time_machine.travel(later, tick=False):
        raw_compliance, raw_dashboard = reports(http, agency["supervisor"])
    assert raw_compliance["totals"]["inquiries"] == 3 and raw_compliance["totals"]["overrides"][0]["reason"]

    with time_machine.travel(later + timedelta(days=15), tick=False):
        application.run_job("roll_up_reports")
        rolled = {i.day for i in m.CounterModel.query("calgary-cfn#compliance")}
        assert {f"2026-11-{d}" for d in range(16, 23)} <= rolled
        rolled_compliance, rolled_dashboard = reports(http, agency["supervisor"])
        assert rolled_compliance == raw_compliance
        assert rolled_dashboard == raw_dashboard

        # the roll-ups alone answer: remove the week's raw facts and ask again. Only C, still
        # unanswered, is kept by id in its day's roll-up and read as it is now.
        assert live_ids() == {"2026-11-18": [c_inquiry(fatima)]}
        for inquiry in m.InquiryModel.scan():
            if inquiry.inquiry_id != c_inquiry(fatima):
                inquiry.delete()
        for event in m.AuditModel.query("calgary-cfn"):
            if event.at < local("2026-11-23T00:00"):
                event.delete()
        bare_compliance, bare_dashboard = reports(http, agency["supervisor"])
    for row in (*bare_compliance["workers"], bare_compliance["totals"]):
        for override in row["overrides"]:
            assert override["reason"] is None  # kept only in the audit trail, which is gone
            override["reason"] = next(o["reason"] for o in raw_compliance["totals"]["overrides"]
                                      if o["at"] == override["at"])
    assert bare_compliance == raw_compliance
    assert bare_dashboard["breaches_by_week"] == raw_dashboard["breaches_by_week"]
    assert bare_dashboard["after_hours"] == raw_dashboard["after_hours"]


def test_a_day_is_rolled_up_once_settled_and_a_late_answer_still_reaches_its_figures(http, agency):
    fatima, _joseph = week(http, agency)
    with time_machine.travel(local("2026-11-16T09:30"), tick=False):
        application.run_job("roll_up_reports")  # Monday itself is not over: nothing rolled up
    assert list(m.CounterModel.query("calgary-cfn#compliance")) == []
    with time_machine.travel(local("2026-11-23T12:00"), tick=False):
        raw_compliance, raw_dashboard = reports(http, agency["supervisor"])
        # Sunday 22 November is over and six hours have passed: the whole week is rolled up, C
        # (breached, still waiting) by id only.
        application.run_job("roll_up_reports")
        assert {f"2026-11-{d}" for d in range(16, 23)} <= {i.day for i in m.CounterModel.query("calgary-cfn#compliance")}
        assert live_ids() == {"2026-11-18": [c_inquiry(fatima)]}
        assert reports(http, agency["supervisor"]) == (raw_compliance, raw_dashboard)

    # amal answers C ten days late: the rolled-up Wednesday reads C as it is now, at once.
    with time_machine.travel(local("2026-11-30T10:00"), tick=False):
        r = http.call("POST", f"/clients/{fatima}/messages", agency["amal"], {"body": "Sorry for the wait"})
        assert r.status_code == 201, r.body
        late_compliance, late_dashboard = reports(http, agency["supervisor"])
    amal = next(w for w in late_compliance["workers"] if w["staff_id"] == "amal")
    assert (amal["inquiries"], amal["answered_on_time"], amal["breached"]) == (2, 1, 1)  # C answered, late
    assert amal["first_response_p90_business_minutes"] > raw_compliance["workers"][0]["first_response_p90_business_minutes"]

    # Once the answer is six hours old the job counts C in Wednesday's roll-up; the figures stay.
    with time_machine.travel(local("2026-11-30T17:00"), tick=False):
        assert application.run_job("roll_up_reports")["compliance_refreshed"] == 1
        assert live_ids() == {}
        assert reports(http, agency["supervisor"]) == (late_compliance, late_dashboard)
        for item in m.CounterModel.query("calgary-cfn#compliance"):  # and the raw path agrees
            item.delete()
        assert reports(http, agency["supervisor"]) == (late_compliance, late_dashboard)


def test_a_report_reaching_today_reads_raw_facts_of_today_only(http, agency):
    from tests.fault_helpers import DynamoTap

    fatima, _joseph = week(http, agency)
    with time_machine.travel(local("2026-11-23T12:00"), tick=False):
        application.run_job("roll_up_reports")  # 16-22 November rolled up
        with DynamoTap() as tap:
            r = http.call("GET", "/reports/compliance?from=2026-11-16&to=2026-11-23", agency["supervisor"])
    assert r.status_code == 200, r.body
    calls = [(c.operation, c.tables[0].removeprefix("cmdm-test-"), c.returned) for c in tap.calls if c.is_read]
    assert sorted((op, table) for op, table, _n in calls) == [
        ("BatchGetItem", "audit"),  # the override's reason, by key
        ("BatchGetItem", "inquiries"),  # C, still waiting, by key
        ("Query", "audit"),  # Monday 23 November's events (none yet): the only raw day
        ("Query", "counters"),  # the seven days' roll-ups
        ("Query", "inquiries"),  # Monday 23 November's inquiries (none yet)
        ("Query", "staff"),
    ]
    assert [n for op, table, n in calls if op == "Query" and table in ("audit", "inquiries")] == [0, 0]
    assert next(n for op, table, n in calls if table == "counters") == 7
