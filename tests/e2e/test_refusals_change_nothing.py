"""Branches the mutation pass found untested (issue 11, item 19): each refusal also proves that
nothing in storage changed (``tests/storage_dump.py``), and STOP takes the file off the
follow-up schedule."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import time_machine

from tests.conftest import new_client
from tests.storage_dump import every_stored_text
from tests.twilio_helpers import (
    file_sent_staff_message,
    inbound,
    new_sid,
    post,
    signature,
    sms_form,
    status_form,
    whatsapp_form,
)

EDMONTON = ZoneInfo("America/Edmonton")
AMAL_NUMBER = "+15873550101"
FATIMA = "+15875550123"


def at(text: str) -> Any:
    return time_machine.travel(datetime.fromisoformat(text).replace(tzinfo=EDMONTON), tick=False)


def test_a_message_to_an_unregistered_number_is_acknowledged_and_stores_nothing(api: Any, http: Any,
                                                                                 agency: Any) -> None:
    new_client(http, agency["amal"])
    before = every_stored_text()
    r = inbound(api, whatsapp_form(FATIMA, "+15873550188", "to a number nobody registered"))
    assert r.status_code == 200 and b"<Message>" not in r.body
    assert every_stored_text() == before


def test_a_message_on_a_channel_the_number_lacks_is_refused_and_not_filed(api: Any, http: Any, agency: Any) -> None:
    from chalicelib.adapters import models as m

    with at("2026-11-23T10:00"):
        client = new_client(http, agency["amal"])  # a WhatsApp file
        r = http.call("PUT", "/numbers/%2B15873550101", agency["admin"], {"staff_id": "amal", "channels": ["sms"]})
        assert r.status_code == 200, r.body
        r = inbound(api, whatsapp_form(FATIMA, AMAL_NUMBER, "whatsapp to an sms-only number, marker qzx-sms-only"))
    assert r.status_code == 200 and b"<Message>" not in r.body
    assert "qzx-sms-only" not in every_stored_text()  # a word, not digits a timestamp could hold
    assert list(m.MessageModel.query(client["client_id"])) == []
    refused = [e for e in m.AuditModel.query("calgary-cfn") if e.type == "message.refused"]
    assert [e.details["reason"] for e in refused] == ["channel_not_provisioned"]
    assert http.call("GET", f"/clients/{client['client_id']}", agency["amal"]).json["open_inquiry"] is None


def test_stop_takes_the_file_off_the_follow_up_schedule(api: Any, http: Any, agency: Any) -> None:
    import app as application
    from chalicelib.adapters import models as m

    with at("2026-11-16T11:00"):
        client = new_client(http, agency["amal"])
    assert client["next_followup_at"] is not None  # on the schedule before the STOP
    assert m.ClientModel.get(client["client_id"]).followup_agency == "calgary-cfn"
    with at("2026-11-16T11:05"):
        assert inbound(api, whatsapp_form(FATIMA, AMAL_NUMBER, "STOP")).status_code == 200
    assert m.ClientModel.get(client["client_id"]).followup_agency is None  # out of the sparse due index
    for day in ("2026-11-23", "2026-11-24", "2026-11-25"):
        for hour in ("10:00", "11:00", "14:00"):
            with at(f"{day}T{hour}"):
                application.run_job("run_followups")
    kinds = [i.kind for i in m.MessageModel.query(client["client_id"])]
    assert "followup" not in kinds and "checkin" not in kinds and "survey" not in kinds


def test_a_forged_status_callback_changes_nothing(api: Any, http: Any, agency: Any) -> None:
    client = new_client(http, agency["amal"])
    sid = new_sid("SM")
    file_sent_staff_message(client["client_id"], sid)
    before = every_stored_text()
    form = status_form(sid, "failed", "30003")
    r = post(api, "/webhooks/twilio/status", form, sign=False,
             headers={"X-Twilio-Signature": signature("/webhooks/twilio/status", form, "not-the-token")})
    assert r.status_code == 403
    r = post(api, "/webhooks/twilio/status", form, sign=False)  # no signature at all
    assert r.status_code == 403
    assert every_stored_text() == before


def test_an_unsigned_inbound_message_changes_nothing(api: Any, http: Any, agency: Any) -> None:
    new_client(http, agency["amal"], channel="sms")
    before = every_stored_text()
    r = inbound(api, sms_form(FATIMA, AMAL_NUMBER, "STOP"), sign=False)
    assert r.status_code == 403
    assert every_stored_text() == before


def test_taking_another_agencys_number_changes_nothing(http: Any, agency: Any) -> None:
    from tests.conftest import auth

    halifax = auth("admin-h", "admin", "halifax-isans")
    before = every_stored_text()
    r = http.call("PUT", "/numbers/%2B15873550101", halifax, {"staff_id": "w-h", "channels": ["sms"]})
    assert r.status_code == 404
    assert every_stored_text() == before


def test_a_worker_opening_a_colleagues_file_changes_nothing(http: Any, agency: Any) -> None:
    client = new_client(http, agency["amal"])
    before = every_stored_text()
    cid = client["client_id"]
    for method, path, body in (("GET", f"/clients/{cid}", None), ("GET", f"/clients/{cid}/messages", None),
                               ("POST", f"/clients/{cid}/messages", {"body": "hello from jean"}),
                               ("DELETE", f"/clients/{cid}/consent", {"reason": "x"}),
                               ("GET", f"/clients/{cid}/export", None)):
        r = http.call(method, path, agency["jean"], body)
        assert r.status_code == 403, (method, path, r.body)
    assert every_stored_text() == before
