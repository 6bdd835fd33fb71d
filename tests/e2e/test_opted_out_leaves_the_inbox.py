"""A client who opts out while waiting leaves the inbox: the inquiry ends as ``opted_out``, no breach.

Nobody may write to a client who sent STOP, so a clock left running would only produce a breach
no worker could prevent. Both ways of opting out are covered: the keyword, and Twilio's error
21610 on a staff message (the person replied STOP at the carrier). The compliance report counts
such inquiries apart, outside the on-time rate.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import time_machine

from chalicelib.adapters import models as m
from tests.conftest import new_client
from tests.e2e.outbound_helpers import sweep
from tests.twilio_helpers import file_sent_staff_message, inbound, new_sid, post, status_form, whatsapp_form

CALGARY = ZoneInfo("America/Edmonton")
AMAL_NUMBER = "+15873550101"
FATIMA = "+15875550123"


def at(text: str) -> Any:
    return time_machine.travel(datetime.fromisoformat(text).replace(tzinfo=CALGARY), tick=False)


def inbox(http: Any, who: dict[str, str]) -> list[str]:
    """The client ids waiting in ``who``'s inbox."""
    r = http.call("GET", "/inbox", who)
    assert r.status_code == 200, r.body
    return [item["client_id"] for item in r.json["items"]]


def inquiry_row(inquiry_id: str) -> Any:
    return m.InquiryModel.get(inquiry_id, consistent_read=True)


def audit_types(client_id: str) -> list[str]:
    return sorted(i.type for i in m.AuditModel.scan() if i.client_id == client_id)


def test_stop_while_waiting_ends_the_inquiry_as_opted_out_and_never_breaches(api: Any, http: Any, agency: Any) -> None:
    with at("2026-11-20T10:00"):
        fatima = new_client(http, agency["amal"], phone=FATIMA)
    with at("2026-11-23T10:00"):  # Monday, open
        inbound(api, whatsapp_form(FATIMA, AMAL_NUMBER, "Can I renew my bus pass here?"))
        waiting = http.call("GET", f"/clients/{fatima['client_id']}", agency["amal"]).json["open_inquiry"]
        assert waiting is not None
        assert fatima["client_id"] in inbox(http, agency["amal"])
    with at("2026-11-23T11:00"):
        inbound(api, whatsapp_form(FATIMA, AMAL_NUMBER, "STOP"))

        file = http.call("GET", f"/clients/{fatima['client_id']}", agency["amal"]).json
        assert file["opted_out"] is True and file["open_inquiry"] is None
        assert fatima["client_id"] not in inbox(http, agency["amal"])
        row = inquiry_row(waiting["id"])
        assert row.status == "opted_out" and row.breached_at is None
        assert row.staff_status == "calgary-cfn#amal#opted_out"
    types = audit_types(fatima["client_id"])
    assert "client.opted_out" in types and "inquiry.opted_out" in types

    with time_machine.travel(datetime(2026, 11, 30, 12, tzinfo=CALGARY), tick=False):  # long past due
        assert "breached" not in sweep()
        assert inquiry_row(waiting["id"]).status == "opted_out"
        listed = http.call("GET", "/inquiries?status=open", agency["amal"]).json["inquiries"]
        assert waiting["id"] not in [i["id"] for i in listed]


def test_an_opted_out_inquiry_is_counted_apart_in_the_compliance_report(api: Any, http: Any, agency: Any) -> None:
    with at("2026-11-20T10:00"):
        fatima = new_client(http, agency["amal"], phone=FATIMA)
        joseph = new_client(http, agency["amal"], phone="+15875550124")
    with at("2026-11-23T10:00"):
        inbound(api, whatsapp_form(FATIMA, AMAL_NUMBER, "Is the clinic open on Friday?"))
        inbound(api, whatsapp_form("+15875550124", AMAL_NUMBER, "I need a letter for school"))
    with at("2026-11-23T10:30"):
        inbound(api, whatsapp_form(FATIMA, AMAL_NUMBER, "stop"))
        sent = http.call("POST", f"/clients/{joseph['client_id']}/messages", agency["amal"],
                         {"body": "Yes, I will write it today."})
        assert sent.status_code == 201, sent.body
    with at("2026-12-02T10:00"):
        sweep()
        r = http.call("GET", "/reports/compliance?from=2026-11-01&to=2026-11-30", agency["supervisor"])
    assert r.status_code == 200, r.body
    totals = r.json["totals"]
    assert (totals["inquiries"], totals["answered_on_time"], totals["breached"], totals["opted_out"]) == (1, 1, 0, 1)
    [amal] = [w for w in r.json["workers"] if w["staff_id"] == "amal"]
    assert amal["opted_out"] == 1 and amal["breached"] == 0
    assert fatima["client_id"] not in [o["client_id"] for o in totals["overrides"]]


def test_error_21610_on_a_staff_message_takes_a_waiting_client_out_of_the_inbox(api: Any, http: Any, agency: Any) -> None:
    with at("2026-11-20T10:00"):
        fatima = new_client(http, agency["amal"], phone=FATIMA)
    with at("2026-11-23T10:00"):
        sid = new_sid()
        file_sent_staff_message(fatima["client_id"], sid)
        inbound(api, whatsapp_form(FATIMA, AMAL_NUMBER, "Did you get my papers?"))
        waiting = http.call("GET", f"/clients/{fatima['client_id']}", agency["amal"]).json["open_inquiry"]
        assert waiting is not None
    with at("2026-11-23T10:05"):
        assert post(api, "/webhooks/twilio/status", status_form(sid, "failed", "21610")).status_code == 200
        file = http.call("GET", f"/clients/{fatima['client_id']}", agency["amal"]).json
        assert file["opted_out"] is True and file["open_inquiry"] is None
        assert fatima["client_id"] not in inbox(http, agency["amal"])
        assert inquiry_row(waiting["id"]).status == "opted_out"
    assert "inquiry.opted_out" in audit_types(fatima["client_id"])
    with time_machine.travel(datetime(2026, 11, 30, 12, tzinfo=CALGARY) + timedelta(days=1), tick=False):
        assert "breached" not in sweep()
