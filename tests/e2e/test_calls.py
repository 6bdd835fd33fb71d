"""Calls from and to work numbers (issue 25, SPEC §4.4 "Calls", §5.10), through the HTTP API.

Calgary (UTC-6 all year) opens Monday to Friday, 9:00 to 17:00. Outgoing calls go through the
official ``twilio`` client to the local stand-in (``twilio`` fixture), which records them; voice
webhooks are signed with Twilio's own validator.
"""

from __future__ import annotations

import re
from datetime import datetime
from html import unescape
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine

from tests.conftest import new_client
from tests.storage_dump import every_stored_text
from tests.twilio_helpers import (
    call_status_form,
    dial_form,
    new_sid,
    post,
    recording_form,
    voice_form,
    whatsapp_form,
)

EDMONTON = ZoneInfo("America/Edmonton")
AMAL_NUMBER = "+15873550101"
AMAL_PHONE = "+14035550111"
JEAN_PHONE = "+14035550122"
FATIMA = "+15875550123"
STRANGER = "+15875550999"
OPEN = "2026-12-08T10:00"  # a Tuesday
CLOSED = "2026-12-08T20:00"
VOICEMAIL = b"ID3\x03fake-mp3-voicemail" * 50


def at(text: str) -> Any:
    return time_machine.travel(datetime.fromisoformat(text).replace(tzinfo=EDMONTON), tick=False)


@pytest.fixture
def phones(http: Any, agency: Any) -> None:
    for staff_id, phone in (("amal", AMAL_PHONE), ("jean", JEAN_PHONE)):
        r = http.call("PUT", f"/staff/{staff_id}", agency["admin"],
                      {"role": "worker", "name": staff_id.title(), "phone": phone})
        assert r.status_code == 200, r.body


@pytest.fixture
def fatima(http: Any, agency: Any) -> dict[str, Any]:
    with at("2026-12-01T10:00"):
        return new_client(http, agency["amal"], phone=FATIMA, channel="whatsapp", language="ar")


def calls_of(http: Any, who: Any, client_id: str) -> list[dict[str, Any]]:
    messages = http.call("GET", f"/clients/{client_id}/messages", who).json["messages"]
    return [m for m in messages if m["kind"] == "call"]


def audit_types(http: Any, agency: Any) -> list[str]:
    events = http.call("GET", "/audit?from=2026-12-01&to=2026-12-31", agency["supervisor"]).json
    return [e["type"] for e in events.get("events", events.get("audit", []))]


# -- placing a call ----------------------------------------------------------------------------------


def test_a_call_while_open_rings_the_workers_phone_from_the_work_number_then_the_client(
        api: Any, http: Any, agency: Any, phones: None, fatima: Any, twilio: Any) -> None:
    with at(OPEN):
        r = http.call("POST", f"/clients/{fatima['client_id']}/calls", agency["amal"])
    assert r.status_code == 201, r.body
    assert r.json["status"] == "queued" and r.json["override"] is False
    [placed] = twilio.calls
    assert placed["to"] == AMAL_PHONE and placed["from_number"] == AMAL_NUMBER
    # Once the worker answers, Twilio dials the client showing only the work number.
    assert re.search(rf'<Dial [^>]*callerId="\{AMAL_NUMBER}"', placed["twiml"])
    assert f"<Number>{FATIMA}</Number>" in placed["twiml"]
    [call] = calls_of(http, agency["amal"], fatima["client_id"])
    assert call["id"] == r.json["call_id"]
    assert (call["direction"], call["status"], call["duration_seconds"]) == ("outbound", "queued", None)


def test_a_call_while_closed_is_refused_after_hours_without_a_reason(
        api: Any, http: Any, agency: Any, phones: None, fatima: Any, twilio: Any) -> None:
    with at(CLOSED):
        r = http.call("POST", f"/clients/{fatima['client_id']}/calls", agency["amal"], {})
        blank = http.call("POST", f"/clients/{fatima['client_id']}/calls", agency["amal"], {"override_reason": "  "})
    assert r.status_code == 409 and r.json["error"]["code"] == "after_hours"
    assert blank.status_code == 400
    assert twilio.calls == []
    assert calls_of(http, agency["amal"], fatima["client_id"]) == []


def test_a_call_while_closed_with_a_reason_is_placed_and_reviewed_as_an_override(
        api: Any, http: Any, agency: Any, phones: None, fatima: Any, twilio: Any) -> None:
    with at(CLOSED):
        r = http.call("POST", f"/clients/{fatima['client_id']}/calls", agency["amal"],
                      {"override_reason": "eviction tonight"})
        reviews = http.call("GET", "/reviews?from=2026-12-08&to=2026-12-08", agency["supervisor"]).json
        notes = http.call("GET", "/notifications", agency["supervisor"]).json["notifications"]
    assert r.status_code == 201, r.body
    assert r.json["override"] is True and len(twilio.calls) == 1
    overrides = [item for item in reviews["items"] if item["kind"] == "override"]
    assert [o["client_id"] for o in overrides] == [fatima["client_id"]]
    assert overrides[0]["reason"] == "eviction tonight" and overrides[0]["message_id"] == r.json["call_id"]
    assert any(n["type"] == "override" and n["client_id"] == fatima["client_id"] for n in notes)


def test_a_call_is_refused_when_the_worker_has_no_phone_on_record(
        api: Any, http: Any, agency: Any, fatima: Any, twilio: Any) -> None:
    with at(OPEN):
        r = http.call("POST", f"/clients/{fatima['client_id']}/calls", agency["amal"])
    assert r.status_code == 409 and r.json["error"]["code"] == "no_staff_phone"
    assert twilio.calls == []


def test_a_call_is_refused_to_a_client_who_opted_out_or_has_no_consent(
        api: Any, http: Any, agency: Any, phones: None, fatima: Any, twilio: Any) -> None:
    with at(OPEN):
        post(api, "/webhooks/twilio/messages", whatsapp_form(FATIMA, AMAL_NUMBER, "STOP"))
        opted_out = http.call("POST", f"/clients/{fatima['client_id']}/calls", agency["amal"])
        other = new_client(http, agency["amal"], phone="+15875550124", channel="sms", language="en", consent=False)
        no_consent = http.call("POST", f"/clients/{other['client_id']}/calls", agency["amal"])
    assert opted_out.status_code == 409 and opted_out.json["error"]["code"] == "opted_out"
    assert no_consent.status_code == 409 and no_consent.json["error"]["code"] == "no_consent"
    assert twilio.calls == []


def test_only_the_case_manager_or_the_covering_colleague_may_call(
        api: Any, http: Any, agency: Any, phones: None, fatima: Any, twilio: Any) -> None:
    r = http.call("PUT", "/staff/amal/absences/winter-leave", agency["amal"],
                  {"start": "2026-12-07", "end": "2026-12-11", "cover_id": "jean"})
    assert r.status_code in (200, 201), r.body
    with at(OPEN):
        supervisor = http.call("POST", f"/clients/{fatima['client_id']}/calls", agency["supervisor"])
        cover = http.call("POST", f"/clients/{fatima['client_id']}/calls", agency["jean"])
    assert supervisor.status_code == 403
    assert cover.status_code == 201, cover.body
    assert twilio.calls[0]["to"] == JEAN_PHONE  # the caller's own phone rings first


def test_an_answered_outgoing_call_answers_the_inquiry_it_was_placed_for(
        api: Any, http: Any, agency: Any, phones: None, fatima: Any, twilio: Any) -> None:
    with at(OPEN):
        post(api, "/webhooks/twilio/messages", whatsapp_form(FATIMA, AMAL_NUMBER, "please call me"))
        assert http.call("GET", f"/clients/{fatima['client_id']}", agency["amal"]).json["open_inquiry"]
        placed = http.call("POST", f"/clients/{fatima['client_id']}/calls", agency["amal"]).json
        sid = twilio.calls[0]["sid"]
        # The worker's phone answering is not the client answering: the inquiry still waits.
        post(api, "/webhooks/twilio/voice/status", call_status_form(sid, "in-progress"))
        assert http.call("GET", f"/clients/{fatima['client_id']}", agency["amal"]).json["open_inquiry"]
        dial = post(api, "/webhooks/twilio/voice/dial", dial_form(sid, "completed", "95"))
        post(api, "/webhooks/twilio/voice/status", call_status_form(sid, "completed", "120"))
        file = http.call("GET", f"/clients/{fatima['client_id']}", agency["amal"]).json
        inquiries = http.call("GET", "/inquiries?status=answered", agency["amal"]).json["inquiries"]
        compliance = http.call("GET", "/reports/compliance?from=2026-12-08&to=2026-12-08",
                               agency["supervisor"]).json
    [amal] = [w for w in compliance["workers"] if w["staff_id"] == "amal"]
    assert (amal["inquiries"], amal["answered_on_time"], amal["breached"]) == (1, 1, 0)
    assert dial.status_code == 200 and "<Hangup" in dial.body.decode()
    assert file["open_inquiry"] is None
    assert [i["client_id"] for i in inquiries] == [fatima["client_id"]]
    [call] = calls_of(http, agency["amal"], fatima["client_id"])
    assert call["id"] == placed["call_id"]
    assert (call["status"], call["duration_seconds"]) == ("completed", 95)


# -- a call to a work number -----------------------------------------------------------------------


def test_a_call_while_open_rings_the_case_managers_phone_then_falls_to_voicemail(
        api: Any, http: Any, agency: Any, phones: None, fatima: Any) -> None:
    form = voice_form(FATIMA, AMAL_NUMBER)
    with at(OPEN):
        r = post(api, "/webhooks/twilio/voice", form)
        missed = post(api, "/webhooks/twilio/voice/dial", dial_form(form["CallSid"], "no-answer"))
    xml = r.body.decode()
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/xml")
    assert re.search(rf'<Dial [^>]*callerId="\{AMAL_NUMBER}"', xml) and f"<Number>{AMAL_PHONE}</Number>" in xml
    assert 'action="https://cmdm.example.test/api/webhooks/twilio/voice/dial"' in xml
    assert "<Record " in missed.body.decode()
    assert 'recordingStatusCallback="https://cmdm.example.test/api/webhooks/twilio/voice/recording"' in \
        missed.body.decode()
    [call] = calls_of(http, agency["amal"], fatima["client_id"])
    assert (call["direction"], call["status"]) == ("inbound", "no_answer")


def test_a_call_during_an_absence_rings_the_covering_colleague(
        api: Any, http: Any, agency: Any, phones: None, fatima: Any) -> None:
    http.call("PUT", "/staff/amal/absences/winter-leave", agency["amal"],
              {"start": "2026-12-07", "end": "2026-12-11", "cover_id": "jean"})
    with at(OPEN):
        r = post(api, "/webhooks/twilio/voice", voice_form(FATIMA, AMAL_NUMBER))
    assert f"<Number>{JEAN_PHONE}</Number>" in r.body.decode()
    assert AMAL_PHONE not in r.body.decode()


def test_a_call_while_closed_says_the_emergency_line_first_then_after_hours_in_arabic_then_records(
        api: Any, http: Any, agency: Any, phones: None, fatima: Any) -> None:
    with at(CLOSED):
        r = post(api, "/webhooks/twilio/voice", voice_form(FATIMA, AMAL_NUMBER))
    xml = r.body.decode()
    says = re.findall(r"<Say [^>]*>([^<]*)</Say>", xml)
    assert "911" in says[0]  # the emergency line before anything else
    assert 'language="arb"' in xml and "مغلق" in says[1]  # the policy's after-hours text, in Arabic
    assert "<Dial" not in xml and "<Record " in xml
    assert AMAL_PHONE not in xml


def test_a_caller_without_a_file_hears_the_intake_text_and_nothing_is_stored(
        api: Any, http: Any, agency: Any, phones: None, fatima: Any) -> None:
    form = voice_form(STRANGER, AMAL_NUMBER)
    with at(CLOSED):
        r = post(api, "/webhooks/twilio/voice", form)
    xml = r.body.decode()
    from chalicelib import bootstrap

    intake = bootstrap.container().policies.get("calgary-cfn").render("intake", "en")
    assert [unescape(said) for said in re.findall(r"<Say [^>]*>([^<]*)</Say>", xml)] == [intake]
    assert "<Record" not in xml and "<Dial" not in xml
    stored = every_stored_text()
    assert STRANGER not in stored and STRANGER[1:] not in stored and form["CallSid"] not in stored


def test_a_voicemail_is_copied_to_the_bucket_deleted_at_twilio_filed_as_a_call_and_starts_the_clock(
        api: Any, http: Any, agency: Any, phones: None, fatima: Any, twilio: Any) -> None:
    from app import run_job
    from chalicelib.local_twilio import put_recording, recording_path

    form = voice_form(FATIMA, AMAL_NUMBER)
    recording = new_sid("RE")
    put_recording(twilio.folder, recording, VOICEMAIL)
    with at(CLOSED):
        post(api, "/webhooks/twilio/voice", form)
        filed = post(api, "/webhooks/twilio/voice/recording", recording_form(form["CallSid"], recording))
        again = post(api, "/webhooks/twilio/voice/recording", recording_form(form["CallSid"], recording))
        post(api, "/webhooks/twilio/voice/status", call_status_form(form["CallSid"], "completed", "40"))
        file = http.call("GET", f"/clients/{fatima['client_id']}", agency["amal"]).json
        run_job("copy_media")
    assert filed.headers["X-CMDM-Outcome"] == "filed" and again.status_code == 200
    assert file["open_inquiry"] is not None
    assert file["open_inquiry"]["due_at"].startswith("2026-12-10T09:00")  # opens 9:00 Wed, due in 24 h
    [call] = calls_of(http, agency["amal"], fatima["client_id"])
    assert call["direction"] == "inbound" and call["inquiry_id"] == file["open_inquiry"]["id"]
    [media] = call["media"]
    assert media["status"] == "stored" and media["content_type"] == "audio/mpeg" and media["size"] == len(VOICEMAIL)
    assert not recording_path(twilio.folder, recording).exists()  # deleted at Twilio
    import boto3

    bucket = boto3.resource("s3", region_name="ca-central-1").Bucket("cmdm-test-media")
    assert [obj.get()["Body"].read() for obj in bucket.objects.all()] == [VOICEMAIL]


# -- status callbacks ------------------------------------------------------------------------------


def test_call_statuses_only_move_forward(api: Any, http: Any, agency: Any, phones: None, fatima: Any,
                                         twilio: Any) -> None:
    with at(OPEN):
        http.call("POST", f"/clients/{fatima['client_id']}/calls", agency["amal"])
        sid = twilio.calls[0]["sid"]
        for status in ("ringing", "in-progress", "ringing"):
            post(api, "/webhooks/twilio/voice/status", call_status_form(sid, status))
        [call] = calls_of(http, agency["amal"], fatima["client_id"])
        assert call["status"] == "in_progress"
        post(api, "/webhooks/twilio/voice/status", call_status_form(sid, "completed", "61"))
        post(api, "/webhooks/twilio/voice/status", call_status_form(sid, "in-progress"))
        post(api, "/webhooks/twilio/voice/status", call_status_form(sid, "failed"))
    [call] = calls_of(http, agency["amal"], fatima["client_id"])
    assert (call["status"], call["duration_seconds"]) == ("completed", 61)


@pytest.mark.parametrize("path", ["/webhooks/twilio/voice", "/webhooks/twilio/voice/status",
                                  "/webhooks/twilio/voice/dial", "/webhooks/twilio/voice/recording"])
def test_a_forged_voice_webhook_is_refused_and_changes_nothing(api: Any, http: Any, agency: Any, phones: None,
                                                                fatima: Any, path: str) -> None:
    form = voice_form(FATIMA, AMAL_NUMBER)
    with at(OPEN):
        r = post(api, path, form, token="not-the-auth-token")
        unsigned = post(api, path, form, sign=False)
    assert r.status_code == 403 and unsigned.status_code == 403
    assert calls_of(http, agency["amal"], fatima["client_id"]) == []


def test_a_malformed_voice_form_is_a_clear_400(api: Any, agency: Any) -> None:
    r = post(api, "/webhooks/twilio/voice/status", {"CallSid": "nope", "CallStatus": "completed"})
    assert r.status_code == 400


# -- in the usage report, the export, and gone with the file -----------------------------------------


def test_calls_are_counted_in_usage_exported_and_erased_with_the_file_even_at_twilio(
        api: Any, http: Any, agency: Any, phones: None, fatima: Any, twilio: Any) -> None:
    from chalicelib.local_twilio import put_recording, recording_path

    incoming = voice_form(FATIMA, AMAL_NUMBER)
    recording = new_sid("RE")
    put_recording(twilio.folder, recording, VOICEMAIL)
    with at(OPEN):
        http.call("POST", f"/clients/{fatima['client_id']}/calls", agency["amal"])
        placed = twilio.calls[0]["sid"]
        post(api, "/webhooks/twilio/voice/dial", dial_form(placed, "completed", "150"))
        post(api, "/webhooks/twilio/voice", incoming)
        post(api, "/webhooks/twilio/voice/dial", dial_form(incoming["CallSid"], "no-answer"))
        post(api, "/webhooks/twilio/voice/recording", recording_form(incoming["CallSid"], recording))
        post(api, "/webhooks/twilio/voice/status", call_status_form(incoming["CallSid"], "completed", "30"))
        usage = http.call("GET", "/reports/usage?from=2026-12-08&to=2026-12-08", agency["supervisor"]).json
        exported = http.call("GET", f"/clients/{fatima['client_id']}/export", agency["amal"]).json
        events = http.call("GET", "/audit?from=2026-12-08&to=2026-12-08", agency["supervisor"]).json["events"]
    assert (usage["totals"]["calls"], usage["totals"]["call_minutes"]) == (2, 2.5)  # 150 s answered; missed: 0
    assert {"call.placed", "call.received", "call.ended", "call.voicemail_filed"} <= {e["type"] for e in events}
    calls = [m for m in exported["messages"] if m["kind"] == "call"]
    # Both at the same travelled instant: their order in the file is their ids', so compared as a set.
    assert {(c["direction"], c["status"]) for c in calls} == {("outbound", "completed"), ("inbound", "no_answer")}
    assert recording_path(twilio.folder, recording).exists()  # the voicemail was not copied yet

    with at("2026-12-09T10:00"):
        r = http.call("PUT", f"/clients/{fatima['client_id']}/status", agency["amal"],
                      {"status": "closed", "reason": "settled"})
        assert r.status_code == 200, r.body
        r = http.call("DELETE", f"/clients/{fatima['client_id']}", agency["admin"])
    assert r.status_code == 200, r.body
    assert not recording_path(twilio.folder, recording).exists()  # deleted at Twilio by the erasure
    stored = every_stored_text()
    for secret in (placed, incoming["CallSid"], recording, FATIMA):
        assert secret not in stored
