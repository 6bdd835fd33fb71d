"""Conduct warnings, suspension and closure of client files, through HTTP (CMDM §4–5, §9; issue 5)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import time_machine

import app as application
from chalicelib import bootstrap
from chalicelib.adapters import models as m
from tests.conftest import new_client

EDMONTON = ZoneInfo("America/Edmonton")


def local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=EDMONTON)


def audit(type_: str) -> list[dict]:
    return [e.details.as_dict() for e in m.AuditModel.query("calgary-cfn") if e.type == type_]


def test_warnings_are_counted_and_the_policys_number_flags_the_file_for_a_meeting(http, agency):
    client = new_client(http, agency["amal"])
    path = f"/clients/{client['client_id']}/warnings"
    r = http.call("POST", path, agency["amal"], {"reason": "off-topic messages"})
    assert r.status_code == 201
    assert r.json["warnings"] == 1 and r.json["flagged_for_meeting"] is False
    # Calgary's policy: two warnings, then the client is asked to come in person.
    r = http.call("POST", path, agency["admin"], {"reason": "offensive language"})
    assert r.json["warnings"] == 2 and r.json["flagged_for_meeting"] is True
    r = http.call("GET", f"/clients/{client['client_id']}", agency["amal"])
    assert r.json["warnings"] == 2 and r.json["flagged_for_meeting"] is True
    assert sorted(audit("client.warned"), key=lambda a: a["warnings"]) == [
        {"reason": "off-topic messages", "warnings": 1, "flagged_for_meeting": False, "notice": "conduct_reminder"},
        {"reason": "offensive language", "warnings": 2, "flagged_for_meeting": True, "notice": "conduct_meeting"},
    ]


def test_only_the_case_manager_or_an_admin_may_warn(http, agency):
    client = new_client(http, agency["amal"])
    path = f"/clients/{client['client_id']}/warnings"
    assert http.call("POST", path, agency["supervisor"], {"reason": "x"}).status_code == 403
    assert http.call("POST", path, agency["jean"], {"reason": "x"}).status_code == 403
    assert http.call("POST", "/clients/cl_nope/warnings", agency["amal"], {"reason": "x"}).status_code == 404
    r = http.call("POST", path, agency["amal"], {})
    assert r.status_code == 400 and r.json["error"]["field"] == "reason"
    assert audit("client.warned") == []


def test_closing_a_file_under_the_conduct_policy_records_it_and_stops_follow_ups(http, agency):
    with time_machine.travel(local("2026-11-16T09:00"), tick=False):
        client = new_client(http, agency["amal"])
    with time_machine.travel(local("2026-11-20T11:00"), tick=False):
        r = http.call("PUT", f"/clients/{client['client_id']}/status", agency["amal"],
                      {"status": "closed", "reason": "third warning ignored", "conduct": True})
    assert r.status_code == 200
    body = r.json
    assert body["status"] == "closed" and body["closed_at"] == "2026-11-20T11:00:00-06:00"
    assert body["status_reason"] == "third warning ignored" and body["can_message"] is False
    assert body["next_followup_at"] is None and body["next_checkin_at"] is None
    assert audit("client.status_changed") == [
        {"status": "closed", "previous": "active", "reason": "third warning ignored", "conduct": True,
         "notice": "service_ended"}]
    # The closure itself tells the client (service_ended, SPEC §5.5); nothing automated follows.
    assert [s["body"][:30] for s in bootstrap.container().gateway.sent] == [
        m.MessageModel.query(client["client_id"]).next().body[:30]]
    sent_before = len(bootstrap.container().gateway.sent)
    with time_machine.travel(local("2026-11-23T10:05"), tick=False):
        application.run_job("run_followups")
    assert len(bootstrap.container().gateway.sent) == sent_before
    # Closed files take no warnings.
    r = http.call("POST", f"/clients/{client['client_id']}/warnings", agency["amal"], {"reason": "x"})
    assert r.status_code == 409


def test_a_suspended_file_made_active_again_is_back_on_the_schedule(http, agency):
    with time_machine.travel(local("2026-11-16T09:00"), tick=False):
        client = new_client(http, agency["amal"])
        path = f"/clients/{client['client_id']}/status"
        r = http.call("PUT", path, agency["amal"], {"status": "suspended", "reason": "asked to come in"})
        assert r.json["status"] == "suspended" and r.json["closed_at"] is None and r.json["next_followup_at"] is None
    with time_machine.travel(local("2026-11-18T14:00"), tick=False):
        r = http.call("PUT", path, agency["admin"], {"status": "active"})
    assert r.status_code == 200 and r.json["status"] == "active"
    assert r.json["next_followup_at"] == "2026-11-26T10:00:00-06:00"
    item = m.ClientModel.get(client["client_id"])
    assert item.followup_agency == "calgary-cfn"
    statuses = [a["status"] for a in audit("client.status_changed")]
    assert sorted(statuses) == ["active", "suspended"]


def test_status_changes_are_validated_and_repeating_one_records_nothing(http, agency):
    client = new_client(http, agency["amal"])
    path = f"/clients/{client['client_id']}/status"
    for body, field in (({"status": "archived", "reason": "x"}, "status"), ({"status": "closed"}, "reason"),
                        ({"status": "suspended", "reason": "x", "conduct": "yes"}, "conduct"),
                        ({"status": "active", "conduct": True}, "conduct")):
        r = http.call("PUT", path, agency["amal"], body)
        assert r.status_code == 400 and r.json["error"]["field"] == field, (body, r.body)
    assert http.call("PUT", path, agency["supervisor"], {"status": "closed", "reason": "x"}).status_code == 403
    r = http.call("PUT", path, agency["amal"], {"status": "active"})
    assert r.status_code == 200 and audit("client.status_changed") == []
