"""Inbound Twilio webhooks through the HTTP API: signatures, consent gate, keywords, clocks, replies."""

from __future__ import annotations

import base64
import json
from datetime import datetime
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import pytest
import time_machine

from tests.conftest import new_client
from tests.storage_dump import every_stored_text
from tests.twilio_helpers import (
    PUBLIC_URL,
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
JOSEPH = "+15875550124"
STRANGER = "+15875550199"


def at(text: str) -> Any:
    return time_machine.travel(datetime.fromisoformat(text).replace(tzinfo=EDMONTON), tick=False)


def twiml_message(response: Any) -> str | None:
    body = response.body.decode() if isinstance(response.body, bytes) else response.body
    if "<Message>" not in body:
        return None
    return body.split("<Message>", 1)[1].split("</Message>", 1)[0]


def messages(http: Any, who: dict[str, str], client_id: str) -> list[dict[str, Any]]:
    r = http.call("GET", f"/clients/{client_id}/messages", who)
    assert r.status_code == 200, r.body
    return r.json["messages"]


def audit_types(client_id: str | None = None) -> list[str]:
    from chalicelib.adapters import models as m

    return sorted(i.type for i in m.AuditModel.scan() if client_id is None or i.client_id == client_id)


@pytest.fixture
def fatima(http: Any, agency: dict[str, Any]) -> dict[str, Any]:
    with at("2026-11-20T10:00"):
        return new_client(http, agency["amal"])


# -- signatures --------------------------------------------------------------------------------


def test_forged_signature_is_refused_and_nothing_is_stored(api: Any, agency: dict[str, Any], fatima: Any) -> None:
    before = audit_types()
    form = whatsapp_form(FATIMA, AMAL_NUMBER, "secret text 123")
    r = inbound(api, form, sign=False, headers={"X-Twilio-Signature": signature("/webhooks/twilio/messages", form, "wrong")})
    assert r.status_code == 403
    assert json.loads(r.body)["error"]["code"] == "invalid_signature"
    assert audit_types() == before
    assert "secret text 123" not in every_stored_text()


def test_missing_signature_is_refused(api: Any, agency: dict[str, Any]) -> None:
    r = inbound(api, sms_form(STRANGER, AMAL_NUMBER, "hi"), sign=False)
    assert r.status_code == 403


def test_signature_over_a_changed_field_is_refused(api: Any, agency: dict[str, Any], fatima: Any) -> None:
    form = whatsapp_form(FATIMA, AMAL_NUMBER, "hello")
    sig = signature("/webhooks/twilio/messages", form)
    tampered = {**form, "Body": "hello!"}
    r = inbound(api, tampered, sign=False, headers={"X-Twilio-Signature": sig})
    assert r.status_code == 403


def test_fields_twilio_adds_without_notice_are_part_of_the_signature(api: Any, http: Any, agency: Any, fatima: Any) -> None:
    form = whatsapp_form(FATIMA, AMAL_NUMBER, "new fields", SomeNewTwilioField="x", ButtonText="")
    with at("2026-11-23T10:00"):
        r = inbound(api, form)
    assert r.status_code == 200
    assert [m["body"] for m in messages(http, agency["amal"], fatima["client_id"])] == ["new fields"]


def test_base64_body_from_api_gateway_is_decoded_before_the_signature_check(agency: Any, fatima: Any) -> None:
    from app import app

    form = whatsapp_form(FATIMA, AMAL_NUMBER, "via API Gateway")
    path = "/webhooks/twilio/messages"
    event = {
        "resource": path, "path": path, "httpMethod": "POST",
        "headers": {"Content-Type": "application/x-www-form-urlencoded",
                    "X-Twilio-Signature": signature(path, form), "Host": "cmdm.example.test"},
        "multiValueHeaders": {}, "queryStringParameters": None, "multiValueQueryStringParameters": None,
        "pathParameters": None, "stageVariables": None,
        "requestContext": {"resourcePath": path, "httpMethod": "POST", "stage": "api", "requestId": "r1",
                           "identity": {"sourceIp": "127.0.0.1"}},
        "body": base64.b64encode(urlencode(form).encode()).decode(), "isBase64Encoded": True,
    }
    with at("2026-11-23T10:00"):
        result = app(event, None)
    assert result["statusCode"] == 200, result


# -- filing and clocks ----------------------------------------------------------------------------


def test_consented_whatsapp_message_is_filed_and_opens_an_inquiry(api: Any, http: Any, agency: Any, fatima: Any) -> None:
    with at("2026-11-23T10:00"):
        r = inbound(api, whatsapp_form(FATIMA, AMAL_NUMBER, "مرحبا، عندي سؤال"))
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "text/xml"
    assert twiml_message(r) is None
    (msg,) = messages(http, agency["amal"], fatima["client_id"])
    assert msg["direction"] == "inbound" and msg["kind"] == "client" and msg["body"] == "مرحبا، عندي سؤال"
    inquiry = http.call("GET", f"/clients/{fatima['client_id']}", agency["amal"]).json["open_inquiry"]
    assert inquiry["status"] == "open"
    assert inquiry["due_at"] == "2026-11-24T10:00:00-06:00"
    assert msg["inquiry_id"] == inquiry["id"]


def test_sms_message_from_a_consented_client_is_filed(api: Any, http: Any, agency: Any) -> None:
    with at("2026-11-20T10:00"):
        joseph = new_client(http, agency["amal"], phone=JOSEPH, channel="sms", language="fr")
    with at("2026-11-23T11:00"):
        r = inbound(api, sms_form(JOSEPH, AMAL_NUMBER, "Bonjour"))
    assert r.status_code == 200
    assert [m["body"] for m in messages(http, agency["amal"], joseph["client_id"])] == ["Bonjour"]


def test_later_messages_join_the_open_inquiry(api: Any, http: Any, agency: Any, fatima: Any) -> None:
    with at("2026-11-23T10:00"):
        inbound(api, whatsapp_form(FATIMA, AMAL_NUMBER, "first"))
    with at("2026-11-23T15:00"):
        inbound(api, whatsapp_form(FATIMA, AMAL_NUMBER, "second"))
    msgs = messages(http, agency["amal"], fatima["client_id"])
    assert [m["body"] for m in msgs] == ["first", "second"]
    assert msgs[0]["inquiry_id"] == msgs[1]["inquiry_id"]
    inquiry = http.call("GET", f"/clients/{fatima['client_id']}", agency["amal"]).json["open_inquiry"]
    assert inquiry["due_at"] == "2026-11-24T10:00:00-06:00"  # the clock started at the first message


def test_replayed_message_sid_changes_nothing_and_replies_nothing(api: Any, http: Any, agency: Any, fatima: Any) -> None:
    form = whatsapp_form(FATIMA, AMAL_NUMBER, "friday night")
    with at("2026-11-27T19:00"):
        first = inbound(api, form)
        events = audit_types(fatima["client_id"])
        again = inbound(api, form)
    assert twiml_message(first) is not None
    assert again.status_code == 200 and twiml_message(again) is None
    assert audit_types(fatima["client_id"]) == events
    assert [m["kind"] for m in messages(http, agency["amal"], fatima["client_id"])] == ["client", "auto_reply"]


# -- after hours ------------------------------------------------------------------------------------


def test_friday_evening_message_gets_one_arabic_reply_naming_monday_and_is_due_tuesday(
    api: Any, http: Any, agency: Any, fatima: Any
) -> None:
    with at("2026-11-27T18:00"):
        r = inbound(api, whatsapp_form(FATIMA, AMAL_NUMBER, "سؤال"))
    reply = twiml_message(r)
    assert reply is not None and "الاثنين" in reply and "911" in reply
    with at("2026-11-28T11:00"):  # Saturday: the same closed period
        assert twiml_message(inbound(api, whatsapp_form(FATIMA, AMAL_NUMBER, "ثانية"))) is None
    inquiry = http.call("GET", f"/clients/{fatima['client_id']}", agency["amal"]).json["open_inquiry"]
    assert inquiry["due_at"] == "2026-12-01T09:00:00-06:00"
    kinds = [(m["direction"], m["kind"]) for m in messages(http, agency["amal"], fatima["client_id"])]
    assert kinds == [("inbound", "client"), ("outbound", "auto_reply"), ("inbound", "client")]


def test_automatic_reply_never_answers_the_inquiry(api: Any, http: Any, agency: Any, fatima: Any) -> None:
    with at("2026-11-27T18:00"):
        inbound(api, whatsapp_form(FATIMA, AMAL_NUMBER, "question"))
    inquiry = http.call("GET", f"/clients/{fatima['client_id']}", agency["amal"]).json["open_inquiry"]
    assert inquiry["status"] == "open" and inquiry["answered_at"] is None


def test_each_closed_period_gets_its_own_reply(api: Any, agency: Any, fatima: Any) -> None:
    with at("2026-11-23T18:00"):
        assert twiml_message(inbound(api, whatsapp_form(FATIMA, AMAL_NUMBER, "monday night")))
    with at("2026-11-24T10:00"):
        assert twiml_message(inbound(api, whatsapp_form(FATIMA, AMAL_NUMBER, "tuesday morning"))) is None
    with at("2026-11-24T20:00"):
        assert twiml_message(inbound(api, whatsapp_form(FATIMA, AMAL_NUMBER, "tuesday night")))


def test_holiday_message_gets_an_after_hours_reply_in_french(api: Any, http: Any, agency: Any) -> None:
    with at("2026-11-20T10:00"):
        new_client(http, agency["amal"], phone=JOSEPH, channel="sms", language="fr")
    with at("2026-12-25T11:00"):  # Christmas Day, a statutory holiday in Alberta
        reply = twiml_message(inbound(api, sms_form(JOSEPH, AMAL_NUMBER, "Allô")))
    assert reply is not None and "lundi" in reply.lower() and "fermé" in reply


# -- the consent gate --------------------------------------------------------------------------


def test_unconsented_client_body_is_stored_nowhere_and_gets_the_intake_reply(api: Any, http: Any, agency: Any) -> None:
    with at("2026-11-20T10:00"):
        nadia = new_client(http, agency["amal"], phone="+15875550125", channel="sms", language="en", consent=False)
    with at("2026-11-23T10:00"):
        r = inbound(api, sms_form("+15875550125", AMAL_NUMBER, "my private story 4711"))
    reply = twiml_message(r)
    assert reply is not None and "open your file" in reply
    assert "my private story 4711" not in every_stored_text()
    assert messages(http, agency["amal"], nadia["client_id"]) == []
    assert "message.refused" in audit_types(nadia["client_id"])


def test_unknown_sender_gets_one_intake_reply_per_day(api: Any, agency: Any) -> None:
    with at("2026-11-23T10:00"):
        first = inbound(api, sms_form(STRANGER, AMAL_NUMBER, "who is this 8812"))
        second = inbound(api, sms_form(STRANGER, AMAL_NUMBER, "hello?"))
    assert twiml_message(first) is not None
    assert twiml_message(second) is None
    assert "who is this 8812" not in every_stored_text()
    assert STRANGER not in every_stored_text()


def test_withdrawn_consent_stops_filing(api: Any, http: Any, agency: Any, fatima: Any) -> None:
    r = http.call("DELETE", f"/clients/{fatima['client_id']}/consent", agency["amal"], {"reason": "client asked"})
    assert r.status_code == 200
    with at("2026-11-23T10:00"):
        inbound(api, whatsapp_form(FATIMA, AMAL_NUMBER, "after withdrawal 5521"))
    assert "after withdrawal 5521" not in every_stored_text()


def test_message_on_another_channel_than_the_consented_one_is_refused(api: Any, http: Any, agency: Any, fatima: Any) -> None:
    with at("2026-11-23T10:00"):
        r = inbound(api, sms_form(FATIMA, AMAL_NUMBER, "sms instead 3390"))
    assert twiml_message(r) is not None  # the intake text: no file for this channel
    assert "sms instead 3390" not in every_stored_text()


# -- keywords ----------------------------------------------------------------------------------


def test_stop_opts_the_client_out_and_start_restores_messaging(api: Any, http: Any, agency: Any, fatima: Any) -> None:
    with at("2026-11-23T10:00"):
        r = inbound(api, whatsapp_form(FATIMA, AMAL_NUMBER, "  stop "))
        assert twiml_message(r) is not None  # WhatsApp has no carrier confirmation: we confirm
        file = http.call("GET", f"/clients/{fatima['client_id']}", agency["amal"]).json
        assert file["opted_out"] is True and file["can_message"] is False
        inbound(api, whatsapp_form(FATIMA, AMAL_NUMBER, "still there? 7781"))
        assert "still there? 7781" not in every_stored_text()
        inbound(api, whatsapp_form(FATIMA, AMAL_NUMBER, "START"))
    file = http.call("GET", f"/clients/{fatima['client_id']}", agency["amal"]).json
    assert file["opted_out"] is False
    types = audit_types(fatima["client_id"])
    assert "client.opted_out" in types and "client.opted_in" in types


def test_stop_please_is_an_ordinary_message(api: Any, http: Any, agency: Any, fatima: Any) -> None:
    with at("2026-11-23T10:00"):
        inbound(api, whatsapp_form(FATIMA, AMAL_NUMBER, "Stop please"))
    file = http.call("GET", f"/clients/{fatima['client_id']}", agency["amal"]).json
    assert file["opted_out"] is False and file["open_inquiry"] is not None


def test_twilio_opt_out_type_records_the_opt_out(api: Any, http: Any, agency: Any) -> None:
    with at("2026-11-20T10:00"):
        joseph = new_client(http, agency["amal"], phone=JOSEPH, channel="sms", language="fr")
    with at("2026-11-23T10:00"):
        r = inbound(api, sms_form(JOSEPH, AMAL_NUMBER, "ARRET", OptOutType="STOP"))
    assert twiml_message(r) is None  # on SMS Twilio's Advanced Opt-Out confirms
    assert http.call("GET", f"/clients/{joseph['client_id']}", agency["amal"]).json["opted_out"] is True


def test_start_without_consent_restores_nothing(api: Any, http: Any, agency: Any) -> None:
    with at("2026-11-20T10:00"):
        nadia = new_client(http, agency["amal"], phone="+15875550125", channel="sms", language="en", consent=False)
    with at("2026-11-23T10:00"):
        inbound(api, sms_form("+15875550125", AMAL_NUMBER, "STOP"))
        inbound(api, sms_form("+15875550125", AMAL_NUMBER, "START"))
    file = http.call("GET", f"/clients/{nadia['client_id']}", agency["amal"]).json
    assert file["opted_out"] is True


def test_help_gets_the_help_text(api: Any, agency: Any, fatima: Any) -> None:
    with at("2026-11-23T10:00"):
        reply = twiml_message(inbound(api, whatsapp_form(FATIMA, AMAL_NUMBER, "help")))
    assert reply is not None and "STOP" in reply


# -- status callbacks ----------------------------------------------------------------------------


def test_status_callback_moves_delivery_forward_never_back(api: Any, http: Any, agency: Any, fatima: Any) -> None:
    sid = new_sid()
    file_sent_staff_message(fatima["client_id"], sid)
    assert post(api, "/webhooks/twilio/status", status_form(sid, "delivered")).status_code == 200
    assert post(api, "/webhooks/twilio/status", status_form(sid, "read")).status_code == 200
    assert post(api, "/webhooks/twilio/status", status_form(sid, "sent")).status_code == 200
    (msg,) = messages(http, agency["amal"], fatima["client_id"])
    assert msg["status"] == "read"


def test_status_callback_error_21610_records_an_opt_out(api: Any, http: Any, agency: Any, fatima: Any) -> None:
    sid = new_sid()
    file_sent_staff_message(fatima["client_id"], sid)
    r = post(api, "/webhooks/twilio/status", status_form(sid, "failed", "21610"))
    assert r.status_code == 200
    (msg,) = messages(http, agency["amal"], fatima["client_id"])
    assert msg["status"] == "failed" and msg["error_code"] == "21610"
    assert http.call("GET", f"/clients/{fatima['client_id']}", agency["amal"]).json["opted_out"] is True
    assert "staff_message.failed" in audit_types(fatima["client_id"])


def test_forged_status_callback_is_refused(api: Any, agency: Any, fatima: Any) -> None:
    sid = new_sid()
    file_sent_staff_message(fatima["client_id"], sid)
    r = post(api, "/webhooks/twilio/status", status_form(sid, "failed", "21610"), sign=False)
    assert r.status_code == 403


# -- who may read a file's messages ---------------------------------------------------------------


def test_messages_are_visible_to_the_case_manager_supervisors_and_admins_only(
    api: Any, http: Any, agency: Any, fatima: Any
) -> None:
    from tests.conftest import auth

    with at("2026-11-23T10:00"):
        inbound(api, whatsapp_form(FATIMA, AMAL_NUMBER, "hello"))
    path = f"/clients/{fatima['client_id']}/messages"
    assert http.call("GET", path, agency["supervisor"]).status_code == 200
    assert http.call("GET", path, agency["admin"]).status_code == 200
    assert http.call("GET", path, agency["jean"]).status_code == 403
    assert http.call("GET", path, auth("admin-h", "admin", "halifax-isans")).status_code == 404
    assert http.call("GET", path, None).status_code == 401


def test_public_url_is_what_the_signature_covers(api: Any, agency: Any) -> None:
    form = sms_form(STRANGER, AMAL_NUMBER, "hi")
    from twilio.request_validator import RequestValidator

    wrong_url_sig = RequestValidator("test-twilio-auth-token").compute_signature(
        "https://elsewhere.example/api/webhooks/twilio/messages", form)
    assert PUBLIC_URL != "https://elsewhere.example/api"
    r = inbound(api, form, sign=False, headers={"X-Twilio-Signature": wrong_url_sig})
    assert r.status_code == 403


# -- absence of the case manager ---------------------------------------------------------------


def test_message_during_an_absence_names_the_cover_and_lands_in_their_queue(
    api: Any, http: Any, agency: Any, fatima: Any
) -> None:
    r = http.call("PUT", "/staff/amal/absences/winter-leave", agency["amal"],
                  {"start": "2026-12-07", "end": "2026-12-11", "cover_id": "jean"})
    assert r.status_code in (200, 201), r.body
    with at("2026-12-08T10:00"):
        reply = twiml_message(inbound(api, whatsapp_form(FATIMA, AMAL_NUMBER, "are you there?")))
        again = twiml_message(inbound(api, whatsapp_form(FATIMA, AMAL_NUMBER, "hello?")))
        queue = http.call("GET", "/inquiries?status=open", agency["jean"]).json["inquiries"]
    assert reply is not None and "Jean" in reply and "Amal" in reply
    assert again is None  # one absence reply per client per day
    assert [i["client_id"] for i in queue] == [fatima["client_id"]]
    inquiry = http.call("GET", f"/clients/{fatima['client_id']}", agency["amal"]).json["open_inquiry"]
    assert inquiry["staff_id"] == "jean"


# -- survey replies ----------------------------------------------------------------------------


def test_reply_of_four_after_a_survey_is_scored_not_opened_as_an_inquiry(api: Any, http: Any, agency: Any) -> None:
    from app import run_job
    from chalicelib.adapters import models as m

    with at("2026-11-16T09:30"):
        client = new_client(http, agency["amal"], phone=JOSEPH, channel="sms", language="en")
    item = m.ClientModel.get(client["client_id"])
    item.update(actions=[m.ClientModel.next_survey_at.set(datetime(2026, 11, 18, 16, 0, tzinfo=ZoneInfo("UTC"))),
                         m.ClientModel.last_inbound_at.set(datetime(2026, 11, 17, 22, 0, tzinfo=ZoneInfo("UTC")))])
    with at("2026-11-18T10:30"):
        run_job("run_followups")
    with at("2026-11-18T11:00"):
        reply = twiml_message(inbound(api, sms_form(JOSEPH, AMAL_NUMBER, " 4 ")))
    assert reply is not None and "Thank you" in reply
    file = http.call("GET", f"/clients/{client['client_id']}", agency["amal"]).json
    assert file["open_inquiry"] is None
    assert "survey.scored" in audit_types(client["client_id"])
    rows = http.call("GET", "/followups", agency["amal"]).json["followups"]
    survey = [r for r in rows if r["kind"] == "survey"]
    assert survey and survey[0]["score"] == 4 and survey[0]["replied"] is True
    with at("2026-11-18T11:05"):  # a second digit is an ordinary message
        inbound(api, sms_form(JOSEPH, AMAL_NUMBER, "5"))
    assert http.call("GET", f"/clients/{client['client_id']}", agency["amal"]).json["open_inquiry"] is not None


def test_survey_score_survives_a_throttled_follow_up_row_write(api: Any, http: Any, agency: Any) -> None:
    """The score is written with the reply, or not at all: Twilio's retry then files both, once."""
    from app import run_job
    from chalicelib.adapters import models as m
    from tests.fault_helpers import DynamoTap, all_items

    with at("2026-11-16T09:30"):
        client = new_client(http, agency["amal"], phone=JOSEPH, channel="sms", language="en")
    item = m.ClientModel.get(client["client_id"])
    item.update(actions=[m.ClientModel.next_survey_at.set(datetime(2026, 11, 18, 16, 0, tzinfo=ZoneInfo("UTC"))),
                         m.ClientModel.last_inbound_at.set(datetime(2026, 11, 17, 22, 0, tzinfo=ZoneInfo("UTC")))])
    with at("2026-11-18T10:30"):
        run_job("run_followups")
    form = sms_form(JOSEPH, AMAL_NUMBER, "4")
    # The follow-up row's write, wherever it happens, is throttled (after botocore's own retries).
    def writes_followups(call: Any) -> bool:
        return call.is_write and any(t.endswith("followups") for t in call.tables)

    with at("2026-11-18T11:00"):
        before = all_items()
        with DynamoTap().fail(1, "ProvisionedThroughputExceededException", match=writes_followups) as tap:
            first = inbound(api, form)
        assert tap.fired
        if first.status_code == 500:
            assert all_items() == before  # nothing half-written: no reply filed without its score
        retried = inbound(api, form)  # Twilio's fallback retry of the same delivery
    assert retried.status_code == 200
    rows = http.call("GET", "/followups", agency["amal"]).json["followups"]
    survey = [r for r in rows if r["kind"] == "survey"]
    assert survey and survey[0]["score"] == 4 and survey[0]["replied"] is True
    assert audit_types(client["client_id"]).count("survey.scored") == 1
