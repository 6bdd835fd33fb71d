"""Calgary's clocks follow today's law: UTC-6 all year under tzdata 2026f (issue 20, item 1).

Each test here reproduces what a user saw when the service read the machine's 2025 rules (UTC-7 in
winter): the after-hours reply at 09:30, a due time an hour off, a 17:30 message sent at once.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import time_machine

from chalicelib.domain import zones
from tests.conftest import new_client
from tests.twilio_helpers import inbound, whatsapp_form

MONDAY_0930 = datetime(2026, 12, 7, 15, 30, tzinfo=UTC)  # 09:30 in Calgary
MONDAY_1130 = datetime(2026, 12, 7, 17, 30, tzinfo=UTC)
MONDAY_1730 = datetime(2026, 12, 7, 23, 30, tzinfo=UTC)


def _kinds(http: Any, who: dict[str, str], client_id: str) -> list[str]:
    r = http.call("GET", f"/clients/{client_id}/messages", who)
    assert r.status_code == 200, r.body
    return [m["kind"] for m in r.json["messages"]]


def test_a_client_writing_at_half_past_nine_on_a_december_monday_gets_no_after_hours_reply(http: Any,
                                                                                          agency: Any) -> None:
    with time_machine.travel(MONDAY_0930, tick=False):
        client = new_client(http, agency["amal"])
        reply = inbound(http.client, whatsapp_form("+15875550123", "+15873550101", "Hello, about my rent"))
        assert reply.status_code == 200
        assert "<Message>" not in reply.body.decode()
        assert _kinds(http, agency["amal"], client["client_id"]) == ["client"]
        file = http.call("GET", f"/clients/{client['client_id']}", agency["amal"]).json
    # Received while open: due 24 hours later, written in Calgary's year-round offset.
    assert file["open_inquiry"]["due_at"] == "2026-12-08T09:30:00-06:00"


def test_the_inbox_clock_of_a_message_at_half_past_eleven_reads_calgary_time(http: Any, agency: Any) -> None:
    with time_machine.travel(MONDAY_1130, tick=False):
        new_client(http, agency["amal"])
        assert inbound(http.client, whatsapp_form("+15875550123", "+15873550101", "A question")).status_code == 200
        inbox = http.call("GET", "/inbox", agency["amal"])
    assert inbox.status_code == 200, inbox.body
    [item] = inbox.json["items"]
    assert item["due_at"] == "2026-12-08T11:30:00-06:00"
    assert item["seconds_left"] == 24 * 3600


def test_a_staff_message_written_at_half_past_five_is_held_until_tuesday_nine(http: Any, agency: Any) -> None:
    with time_machine.travel(MONDAY_0930, tick=False):
        client = new_client(http, agency["amal"])
        inbound(http.client, whatsapp_form("+15875550123", "+15873550101", "Hello"))
    with time_machine.travel(MONDAY_1730, tick=False):
        r = http.call("POST", f"/clients/{client['client_id']}/messages", agency["amal"], {"body": "See you tomorrow"})
    assert r.status_code == 202, r.body
    assert r.json["status"] == "held"
    assert r.json["send_at"] == "2026-12-08T09:00:00-06:00"


def test_staff_can_read_which_zone_and_holiday_rules_the_deployment_runs(http: Any, agency: Any) -> None:
    r = http.call("GET", "/me", agency["amal"])
    assert r.status_code == 200, r.body
    assert r.json["rules"]["time_zones"] == zones.rules_version() >= "2026f"
    assert r.json["rules"]["tzdata"] == zones.package_version()
    assert r.json["rules"]["holidays"][0].isdigit()


def test_a_signing_time_without_an_offset_is_read_as_the_agencys_wall_clock(http: Any, agency: Any) -> None:
    with time_machine.travel(MONDAY_1730, tick=False):
        client = new_client(http, agency["amal"], consent=False)
        r = http.call("PUT", f"/clients/{client['client_id']}/consent", agency["amal"], {
            "form_version": "CFN-2026", "signed_at": "2026-12-07T15:30", "channels": ["whatsapp"],
            "circle_of_care": []})
        later = http.call("PUT", f"/clients/{client['client_id']}/consent", agency["amal"], {
            "form_version": "CFN-2026", "signed_at": "2026-12-07T17:45", "channels": ["whatsapp"],
            "circle_of_care": []})
    assert r.status_code == 200, r.body
    assert r.json["consent"]["signed_at"] == "2026-12-07T15:30:00-06:00"
    assert later.status_code == 400 and later.json["error"]["field"] == "signed_at"  # 17:45 has not come yet
