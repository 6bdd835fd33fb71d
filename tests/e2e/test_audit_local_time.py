"""Audit details write instants in the agency's offset, like every other instant (issue 11, item 17)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import time_machine

from tests.conftest import new_client
from tests.twilio_helpers import inbound, whatsapp_form

EDMONTON = ZoneInfo("America/Edmonton")


def test_instants_in_audit_details_are_written_in_the_agencys_offset(http: Any, agency: Any) -> None:
    with time_machine.travel(datetime(2026, 11, 18, 10, 0, tzinfo=EDMONTON), tick=False):
        client = new_client(http, agency["amal"])
        assert inbound(http.client, whatsapp_form("+15875550123", "+15873550101", "hello")).status_code == 200
        audit = http.call("GET", f"/audit?from=2026-11-18&to=2026-11-18&client_id={client['client_id']}",
                          agency["supervisor"])
        export = http.call("GET", f"/clients/{client['client_id']}/export", agency["admin"])
    assert audit.status_code == 200 and export.status_code == 200, (audit.body, export.body)
    opened = [e for e in audit.json["events"] if e["type"] == "inquiry.opened"]
    assert len(opened) == 1
    due = opened[0]["details"]["due_at"]
    assert due.endswith("-06:00"), due  # Calgary in November (UTC-6 all year since tzdata 2026f), not +00:00
    assert datetime.fromisoformat(due) == datetime(2026, 11, 19, 10, 0, tzinfo=EDMONTON)  # 24 h later
    exported = [e for e in export.json["audit"] if e["type"] == "inquiry.opened"]
    assert exported[0]["details"]["due_at"] == due
    for event in audit.json["events"] + export.json["audit"]:
        assert "+00:00" not in str(event["details"]), event
