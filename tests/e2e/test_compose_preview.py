"""GET /clients/{id}/compose: what Send would do now, from the server's own rules (issue 14)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import time_machine

from tests.conftest import new_client
from tests.twilio_helpers import inbound, whatsapp_form

EDMONTON = ZoneInfo("America/Edmonton")


def at(text: str) -> Any:
    return time_machine.travel(datetime.fromisoformat(text).replace(tzinfo=EDMONTON), tick=False)


def test_inside_hours_the_message_would_go_now(http, agency):
    with at("2026-11-23T08:00"):
        client = new_client(http, agency["amal"])
    with at("2026-11-23T10:00"):
        assert inbound(http.client, whatsapp_form("+15875550123", "+15873550101", "hello")).status_code == 200
        r = http.call("GET", f"/clients/{client['client_id']}/compose", agency["amal"])
    assert r.status_code == 200, r.body
    assert r.json["outcome"] == "sent" and r.json["can_send"] is True and r.json["override_possible"] is False
    assert r.json["whatsapp_window_closes_at"] == "2026-11-24T10:00:00-06:00"
    assert r.json["template"] is None
    assert "working on it" not in r.json["holding_reply"]["body"]  # Fatima reads Arabic
    assert r.json["holding_reply"]["language"] == "ar" and "Amal" in r.json["holding_reply"]["body"]


def test_on_friday_evening_it_would_be_held_until_monday_and_the_post_agrees(http, agency):
    with at("2026-11-27T08:00"):
        client = new_client(http, agency["amal"], channel="sms", language="fr", phone="+15875550170")
    with at("2026-11-27T18:30"):  # Friday evening
        preview = http.call("GET", f"/clients/{client['client_id']}/compose?lang=fr", agency["amal"]).json
        sent = http.call("POST", f"/clients/{client['client_id']}/messages", agency["amal"], {"body": "Bonjour"})
    assert preview["outcome"] == "held" and preview["override_possible"] is True
    assert preview["send_at"] == "2026-11-30T09:00:00-06:00" and preview["send_at_text"] == "lundi à 9 h"
    assert sent.status_code == 202 and sent.json["send_at"] == preview["send_at"]  # the same rules


def test_outside_whatsapps_window_the_agencys_approved_template_would_go_instead(http, agency):
    with at("2026-11-23T10:00"):
        client = new_client(http, agency["amal"], phone="+15875550171")  # WhatsApp, never wrote in
        r = http.call("GET", f"/clients/{client['client_id']}/compose", agency["amal"])
        sent = http.call("POST", f"/clients/{client['client_id']}/messages", agency["amal"], {"body": "Hello"})
    assert r.json["can_send"] is True and r.json["template"] == "staff_reopen"  # Calgary has one approved
    assert r.json["whatsapp_window_closes_at"] is None
    assert sent.json["template"] == r.json["template"]


def test_a_supervisor_may_not_compose_and_a_file_without_consent_says_why(http, agency):
    with at("2026-11-23T10:00"):
        client = new_client(http, agency["amal"], phone="+15875550172", channel="sms", consent=False)
        supervisor = http.call("GET", f"/clients/{client['client_id']}/compose", agency["supervisor"])
        mine = http.call("GET", f"/clients/{client['client_id']}/compose", agency["amal"])
    assert supervisor.status_code == 403 and supervisor.json["error"]["message"] == "supervisors are read-only"
    assert mine.json["can_send"] is False and mine.json["refusal"] == "cannot message this client: no consent on record for sms"
