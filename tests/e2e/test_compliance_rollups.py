"""Compliance report and dashboard from daily roll-ups (issue 16 item 4, issue 15's 10,000 clients).

The week of ``test_supervision_flow`` (holding reply, override with its reason, a breach, an
after-hours message held and released) is reported once from the raw inquiries and events, then
rolled up by the ``roll_up_reports`` job once the days have settled, and reported again: the same
figures, to the override's reason. The roll-ups really are what is read: with the week's raw
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


def test_the_rolled_up_week_reports_exactly_what_the_raw_week_reported(http, agency):
    week(http, agency)
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

        # the roll-ups alone answer: remove the week's raw facts and ask again
        for inquiry in m.InquiryModel.scan():
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


def test_days_younger_than_two_weeks_are_not_rolled_up_yet(http, agency):
    week(http, agency)
    with time_machine.travel(local("2026-11-23T12:00") + timedelta(days=3), tick=False):
        application.run_job("roll_up_reports")
    assert [i.day for i in m.CounterModel.query("calgary-cfn#compliance")] == []
