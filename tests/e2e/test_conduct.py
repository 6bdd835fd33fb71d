"""Conduct warnings, suspension and closure of client files, through HTTP (CMDM §4–5, §9; issue 5)."""

from __future__ import annotations

import json
import shutil
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

import app as application
from chalicelib import bootstrap
from chalicelib.adapters import models as m
from tests.conftest import ROOT, new_client
from tests.twilio_helpers import inbound, whatsapp_form

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
        client = new_client(http, agency["amal"], channel="sms")
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


# -- WhatsApp's 24-hour window: the approved template, free text, or not at all (SPEC §5.5) --------

CONDUCT_SIDS = {"conduct_reminder": "HX" + "c1" * 16, "conduct_meeting": "HX" + "c2" * 16,
                "service_ended": "HX" + "c3" * 16}
TUESDAY_TEN = "2026-11-17T10:00"


@pytest.fixture
def conduct_templates(tmp_path, monkeypatch):
    """Calgary's policy with approved WhatsApp templates for its three conduct notices."""
    folder = tmp_path / "policies"
    shutil.copytree(ROOT / "policies", folder)
    data = json.loads((folder / "calgary-cfn.json").read_text(encoding="utf-8"))
    for name, sid in CONDUCT_SIDS.items():
        data["whatsapp_templates"][name] = {"content_sid": sid, "variables": {"1": "{client_name}"}}
    (folder / "calgary-cfn.json").write_text(json.dumps(data), encoding="utf-8")
    monkeypatch.setenv("CMDM_POLICY_DIR", str(folder))
    bootstrap.reset()


def client_writes_on_whatsapp(http, phone: str, body: str) -> None:
    """The client's WhatsApp text, with the fields Twilio posts for one (shared/fixtures/twilio-webhooks.json)."""
    channel = {"type": "whatsapp", "data": {"context": {"ProfileName": "Fatima", "WaId": phone.lstrip("+")}}}
    form = whatsapp_form(phone, "+15873550101", body, MessagingServiceSid="MG" + "1" * 32, Forwarded="false",
                         FrequentlyForwarded="false", ChannelMetadata=json.dumps(channel))
    assert inbound(http.client, form).status_code == 200


def notices_of(client_id: str) -> list[m.MessageModel]:
    return [x for x in m.MessageModel.query(client_id) if x.kind == "notice"]


def usage_on(http, agency, day: str) -> dict:
    return http.call("GET", f"/reports/usage?from={day}&to={day}", agency["supervisor"]).json["totals"]


def test_a_whatsapp_warning_outside_the_window_goes_as_the_approved_template_and_counts(
        http, agency, conduct_templates):
    with time_machine.travel(local(TUESDAY_TEN), tick=False):
        client = new_client(http, agency["amal"])  # WhatsApp; the client has never written
        r = http.call("POST", f"/clients/{client['client_id']}/warnings", agency["amal"], {"reason": "spam"})
        assert r.status_code == 201, r.body
        [sent] = bootstrap.container().gateway.sent
        assert sent["content_sid"] == CONDUCT_SIDS["conduct_reminder"] and sent["body"] is None
        assert sent["content_variables"] == {"1": "Fatima"}
        [notice] = notices_of(client["client_id"])
        assert (notice.status, notice.template, notice.twilio_sid) == ("sent", "conduct_reminder", sent["sid"])
        [counted] = audit("notice.sent")
        assert counted == {"message_id": notice.message_id, "template": "conduct_reminder"}
        assert usage_on(http, agency, "2026-11-17")["automatic_messages"] == 1


def test_a_whatsapp_warning_inside_the_window_goes_as_free_text(http, agency, conduct_templates):
    with time_machine.travel(local("2026-11-17T08:00"), tick=False):
        client = new_client(http, agency["amal"])
        client_writes_on_whatsapp(http, client["phone"], "you people are useless")  # opens the window
    before = len(bootstrap.container().gateway.sent)
    with time_machine.travel(local(TUESDAY_TEN), tick=False):
        r = http.call("POST", f"/clients/{client['client_id']}/warnings", agency["amal"], {"reason": "insults"})
        assert r.status_code == 201, r.body
    [sent] = bootstrap.container().gateway.sent[before:]
    assert sent["content_sid"] is None and sent["body"] == notices_of(client["client_id"])[0].body
    assert notices_of(client["client_id"])[0].template is None


def test_a_whatsapp_notice_without_an_approved_template_is_filed_failed_and_never_sent_as_free_text(http, agency):
    with time_machine.travel(local(TUESDAY_TEN), tick=False):
        client = new_client(http, agency["amal"])  # Calgary's own policy: no conduct templates
        r = http.call("PUT", f"/clients/{client['client_id']}/status", agency["amal"],
                      {"status": "suspended", "reason": "abuse", "conduct": True})
        assert r.status_code == 200, r.body
        application.run_job("sweep_clocks")
        assert bootstrap.container().gateway.sent == []
        [notice] = notices_of(client["client_id"])
        assert (notice.status, notice.error_code, notice.due_at) == ("failed", "whatsapp_window_closed", None)
        [filed] = [e for e in audit("message.filed") if e.get("kind") == "notice"]
        assert filed["error_code"] == "whatsapp_window_closed"
        assert audit("notice.sent") == []
        totals = usage_on(http, agency, "2026-11-17")
        assert totals["automatic_messages"] == 0 and totals["clients_removed"] == 1
