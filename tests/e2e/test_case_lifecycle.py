"""Issue 13: the case lifecycle told truthfully, one end-to-end test (or a few) per numbered finding.

Everything goes through the HTTP API and signed Twilio webhooks, in travelled time. Calgary
(America/Edmonton, UTC-7 in winter); December 2026: Tuesday 1st to Friday 4th, then the weekend.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

import app as application
from chalicelib import bootstrap
from tests.conftest import new_client
from tests.storage_dump import every_stored_text
from tests.twilio_helpers import inbound, post, sms_form, status_form, whatsapp_form

EDMONTON = ZoneInfo("America/Edmonton")
AMAL_NUMBER = "+15873550101"
FATIMA = "+15875550123"


def local(text: str):
    return time_machine.travel(datetime.fromisoformat(text).replace(tzinfo=EDMONTON), tick=False)


def sweep() -> dict[str, int]:
    return application.run_job("sweep_clocks")


def outbox() -> list[dict]:
    return bootstrap.container().gateway.sent


def text_in(http, body: str, *, channel: str = "sms", **extra: str):
    form = (sms_form if channel == "sms" else whatsapp_form)(FATIMA, AMAL_NUMBER, body, **extra)
    r = inbound(http.client, form)
    assert r.status_code == 200, r.body
    return r


def open_inquiries(http, who) -> list[dict]:
    r = http.call("GET", "/inquiries?status=open", who)
    assert r.status_code == 200, r.body
    return r.json["inquiries"]


def file_of(http, who, client_id: str) -> dict:
    r = http.call("GET", f"/clients/{client_id}", who)
    assert r.status_code == 200, r.body
    return r.json


def messages_of(http, who, client_id: str) -> list[dict]:
    r = http.call("GET", f"/clients/{client_id}/messages", who)
    assert r.status_code == 200, r.body
    return r.json["messages"]


def notifications(http, who, kind: str) -> list[dict]:
    r = http.call("GET", "/notifications", who)
    assert r.status_code == 200, r.body
    return [n for n in r.json["notifications"] if n["type"] == kind]


# --- 1. a failed or undelivered staff message answers nothing ------------------------------------


@pytest.mark.parametrize(("status", "code"), [("failed", "63016"), ("undelivered", "30003")])
def test_failed_delivery_reopens_the_inquiry_and_tells_the_author(http, agency, status, code):
    with local("2026-12-01T10:00"):
        client = new_client(http, agency["amal"], channel="sms", language="en")["client_id"]
        text_in(http, "Did my papers arrive?")
        [opened] = open_inquiries(http, agency["amal"])
        assert opened["due_at"] == "2026-12-02T10:00:00-06:00"
    with local("2026-12-01T10:30"):
        r = http.call("POST", f"/clients/{client}/messages", agency["amal"], {"body": "Yes, they came today."})
        assert r.status_code == 201 and r.json["inquiry_answered"] == opened["id"], r.body
        assert open_inquiries(http, agency["amal"]) == []
        sid = outbox()[-1]["sid"]
    with local("2026-12-01T10:31"):
        assert post(http.client, "/webhooks/twilio/status", status_form(sid, status, code)).status_code == 200
        [again] = open_inquiries(http, agency["amal"])
        assert again["id"] == opened["id"] and again["status"] == "open"
        assert again["due_at"] == "2026-12-02T10:00:00-06:00"  # its original due time
        assert again["answered_at"] is None and again["first_response_at"] is None
        assert file_of(http, agency["amal"], client)["open_inquiry"]["id"] == opened["id"]
        [note] = notifications(http, agency["amal"], "delivery_failed")
        assert note["client_id"] == client and code in note["message"]
        # A repeated callback changes nothing and tells nobody twice.
        assert post(http.client, "/webhooks/twilio/status", status_form(sid, status, code)).status_code == 200
        assert len(notifications(http, agency["amal"], "delivery_failed")) == 1
    with local("2026-12-02T10:05"):
        assert sweep().get("breached") == 1  # nobody answered after all: the clock ran out
        r = http.call("GET", "/reports/compliance?from=2026-12-01&to=2026-12-02", agency["supervisor"])
        amal = next(w for w in r.json["workers"] if w["staff_id"] == "amal")
        assert (amal["inquiries"], amal["answered_on_time"], amal["breached"]) == (1, 0, 1)


# --- 2. a held message answers only what was open when it was written ----------------------------


def test_held_message_answers_the_inquiry_that_was_open_when_it_was_written(http, agency):
    with local("2026-12-01T10:00"):
        client = new_client(http, agency["amal"], channel="whatsapp", language="en")["client_id"]
    with local("2026-12-01T17:26"):
        text_in(http, "Can you check my lease?", channel="whatsapp")
        [first] = open_inquiries(http, agency["amal"])
    with local("2026-12-01T17:26:30"):
        r = http.call("POST", f"/clients/{client}/messages", agency["amal"], {"body": "Bring your lease tomorrow."})
        assert r.status_code == 202 and r.json["status"] == "held", r.body
    with local("2026-12-02T09:00"):
        assert sweep().get("sent") == 1
        assert open_inquiries(http, agency["amal"]) == []  # the inquiry open at 17:26 is answered
        assert file_of(http, agency["amal"], client)["open_inquiry"] is None
        r = http.call("GET", "/inquiries?status=answered", agency["amal"])
        assert [i["id"] for i in r.json["inquiries"]] == [first["id"]]


def test_message_held_at_17_26_leaves_the_voice_note_of_17_28_open(http, agency):
    with local("2026-12-01T10:00"):
        client = new_client(http, agency["amal"], channel="whatsapp", language="en")["client_id"]
        text_in(http, "Hello", channel="whatsapp")
        http.call("POST", f"/clients/{client}/messages", agency["amal"], {"body": "Hello Fatima"})
        assert open_inquiries(http, agency["amal"]) == []
    with local("2026-12-01T17:26"):
        r = http.call("POST", f"/clients/{client}/messages", agency["amal"], {"body": "Your letter is ready."})
        assert r.status_code == 202 and r.json["status"] == "held", r.body
    with local("2026-12-01T17:28"):
        text_in(http, "", channel="whatsapp", NumMedia="1", MessageType="audio", MediaContentType0="audio/ogg",
                MediaUrl0="https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/SM1/Media/ME1")
        [voice] = open_inquiries(http, agency["amal"])
        assert voice["due_at"] == "2026-12-03T09:00:00-06:00"  # clock starts Wed 09:00, due Thu 09:00
    with local("2026-12-02T09:00"):
        assert sweep().get("sent") == 1
        [still] = open_inquiries(http, agency["amal"])
        assert still["id"] == voice["id"] and still["answered_at"] is None
        assert file_of(http, agency["amal"], client)["open_inquiry"]["id"] == voice["id"]


# --- 3. a holding reply keeps the inquiry open, complex, on a longer clock -----------------------


def test_holding_reply_keeps_the_inquiry_open_and_it_breaches_when_the_longer_clock_runs_out(http, agency):
    with local("2026-12-01T10:00"):
        client = new_client(http, agency["amal"], channel="sms", language="en")["client_id"]
        text_in(http, "My landlord wants to evict me")
    with local("2026-12-01T11:00"):
        r = http.call("POST", f"/clients/{client}/messages", agency["amal"],
                      {"body": "We are working on it and will write again.", "holding": True})
        assert r.status_code == 201 and r.json["inquiry_answered"] is None, r.body
        [held] = open_inquiries(http, agency["amal"])
        assert held["status"] == "open" and held["complex"] is True
        assert held["first_response_at"] == "2026-12-01T11:00:00-06:00" and held["answered_at"] is None
        # Tue 11:00 + P5D (response.complex_target) = Sunday 6th, closed: due Monday 7th 09:00.
        assert held["due_at"] == "2026-12-07T09:00:00-06:00"
        assert file_of(http, agency["amal"], client)["open_inquiry"]["due_at"] == "2026-12-07T09:00:00-06:00"
    with local("2026-12-02T10:05"):
        assert "breached" not in sweep()  # the first-response clock (due Wed 10:00) was met
    with local("2026-12-02T10:30"):
        # A second holding reply buys no more time.
        http.call("POST", f"/clients/{client}/messages", agency["amal"], {"body": "Still on it.", "holding": True})
        assert open_inquiries(http, agency["amal"])[0]["due_at"] == "2026-12-07T09:00:00-06:00"
    with local("2026-12-07T09:05"):
        assert sweep().get("breached") == 1
        [breach] = notifications(http, agency["supervisor"], "breach")
        assert breach["client_id"] == client
    with local("2026-12-10T10:00"):  # nine days later the real answer comes, late
        http.call("POST", f"/clients/{client}/messages", agency["amal"], {"body": "The tribunal date is set."})
        r = http.call("GET", "/inquiries?status=answered", agency["amal"])
        [done] = r.json["inquiries"]
        assert done["answered_late"] is True and done["first_response_at"] == "2026-12-01T11:00:00-06:00"


# --- 11. held messages are listed with their send time and can be cancelled ----------------------


def test_held_message_is_listed_with_send_at_and_its_author_can_cancel_it(http, agency):
    with local("2026-12-04T18:00"):  # Friday evening
        client = new_client(http, agency["amal"], channel="sms", language="en")["client_id"]
        r = http.call("POST", f"/clients/{client}/messages", agency["amal"], {"body": "See you Monday at 10"})
        assert r.status_code == 202 and r.json["status"] == "held", r.body
        message_id = r.json["message_id"]
        [listed] = [m for m in messages_of(http, agency["amal"], client) if m["id"] == message_id]
        assert listed["status"] == "held" and listed["send_at"] == "2026-12-07T09:00:00-06:00"
        other = http.call("DELETE", f"/clients/{client}/messages/{message_id}", agency["jean"])
        assert other.status_code in (403, 404)
        supervisor = http.call("DELETE", f"/clients/{client}/messages/{message_id}", agency["supervisor"])
        assert supervisor.status_code == 403
        r = http.call("DELETE", f"/clients/{client}/messages/{message_id}", agency["amal"])
        assert r.status_code == 200 and r.json["status"] == "cancelled", r.body
        again = http.call("DELETE", f"/clients/{client}/messages/{message_id}", agency["amal"])
        assert again.status_code == 200 and again.json["status"] == "cancelled"
        assert http.call("DELETE", f"/clients/{client}/messages/msg_nope", agency["amal"]).status_code == 404
    with local("2026-12-07T09:05"):
        sweep()
        assert outbox() == []
        [listed] = [m for m in messages_of(http, agency["amal"], client) if m["id"] == message_id]
        assert listed["status"] == "cancelled"


def test_a_message_already_sent_cannot_be_cancelled(http, agency):
    with local("2026-12-04T18:00"):
        client = new_client(http, agency["amal"], channel="sms", language="en")["client_id"]
        message_id = http.call("POST", f"/clients/{client}/messages", agency["amal"], {"body": "Monday"}).json["message_id"]
    with local("2026-12-07T09:00"):
        assert sweep().get("sent") == 1
        r = http.call("DELETE", f"/clients/{client}/messages/{message_id}", agency["amal"])
        assert r.status_code == 409 and r.json["error"]["code"] == "not_held"


# --- 4. GET /clients carries open_inquiry exactly as GET /clients/{id} does ----------------------


def test_caseload_lists_each_open_inquiry_as_the_file_does(http, agency):
    with local("2026-12-01T10:00"):
        client = new_client(http, agency["amal"], channel="sms", language="en")["client_id"]
        quiet = new_client(http, agency["amal"], phone="+15875550199", channel="sms", language="en")["client_id"]
        text_in(http, "Where is my bus pass?")
        one = file_of(http, agency["amal"], client)["open_inquiry"]
        assert one is not None and one["due_at"] == "2026-12-02T10:00:00-06:00"
        for who in (agency["amal"], agency["supervisor"]):
            r = http.call("GET", "/clients", who)
            listed = {c["client_id"]: c for c in r.json["clients"]}
            assert listed[client]["open_inquiry"] == one
            assert listed[quiet]["open_inquiry"] is None


# --- 10. client-facing text: one full stop, Canadian French hours, no silent hold ---------------


def test_after_hours_reply_has_one_full_stop_after_a_m(http, agency):
    with local("2026-12-01T10:00"):
        new_client(http, agency["amal"], channel="sms", language="en")
    with local("2026-12-01T19:00"):
        reply = text_in(http, "Are you open?").body.decode()
        assert "Wednesday at 9:00 a.m. If this is an emergency, call 911." in reply
        assert "a.m.." not in reply


def test_french_after_hours_reply_writes_9_h(http, agency):
    with local("2026-12-01T10:00"):
        new_client(http, agency["amal"], channel="sms", language="fr")
    with local("2026-12-01T19:00"):
        reply = text_in(http, "Êtes-vous ouverts?").body.decode()
        assert "à partir de mercredi à 9 h." in reply and "09 h 00" not in reply


@pytest.mark.parametrize("reason", ["", "   "])
def test_empty_override_reason_is_refused_and_nothing_is_held(http, agency, reason):
    with local("2026-12-01T20:00"):
        client = new_client(http, agency["amal"], channel="sms", language="en")["client_id"]
        r = http.call("POST", f"/clients/{client}/messages", agency["amal"], {"body": "Hi", "override_reason": reason})
        assert r.status_code == 400 and r.json["error"]["field"] == "override_reason", r.body
        assert messages_of(http, agency["amal"], client) == []


# --- 7. a crisis after hours reaches the on-call person at once ----------------------------------


def test_crisis_after_hours_gives_the_emergency_line_first_and_alerts_the_on_call_supervisor(http, agency):
    with local("2026-12-01T10:00"):
        client = new_client(http, agency["amal"], channel="whatsapp", language="en")["client_id"]
    with local("2026-12-01T22:40"):
        reply = text_in(http, "My husband says he will kill me tonight", channel="whatsapp").body.decode()
        text = reply.split("<Message>")[1]
        assert text.startswith("If you or someone else is in danger, call 911 now.")
        assert "Wednesday at 9:00 a.m." in text
        [inquiry] = open_inquiries(http, agency["supervisor"])
        assert inquiry["crisis"] is True and inquiry["client_id"] == client
        [alert] = notifications(http, agency["supervisor"], "crisis")  # Calgary's on_call is sup-maria
        assert alert["inquiry_id"] == inquiry["id"] and "kill" not in alert["message"]
        [sms] = [s for s in outbox() if s["to"] == "+14035550190"]  # the policy's on_call_number
        assert sms["channel"] == "sms" and FATIMA not in sms["body"] and "kill" not in sms["body"]
        # A second message in the same night: the emergency line again, but one alert only.
        again = text_in(http, "Please, he will kill me", channel="whatsapp").body.decode()
        assert "call 911 now" in again
        assert len(notifications(http, agency["supervisor"], "crisis")) == 1
        # The worker's own boundaries hold: their reply tonight is still held until 9:00.
        r = http.call("POST", f"/clients/{client}/messages", agency["amal"], {"body": "Call 911 please"})
        assert r.status_code == 202 and r.json["status"] == "held"


def test_ordinary_after_hours_message_gets_the_ordinary_reply_and_no_alert(http, agency):
    with local("2026-12-01T10:00"):
        new_client(http, agency["amal"], channel="whatsapp", language="en")
    with local("2026-12-01T22:40"):
        reply = text_in(http, "When is my appointment?", channel="whatsapp").body.decode()
        assert "Our office is closed now" in reply
        assert notifications(http, agency["supervisor"], "crisis") == []
        assert open_inquiries(http, agency["supervisor"])[0]["crisis"] is False


# --- 8. every field a client sends is kept and shown; empty messages open nothing ----------------


def test_location_share_is_kept_and_shown_and_opens_an_inquiry(http, agency):
    with local("2026-12-01T10:00"):
        client = new_client(http, agency["amal"], channel="whatsapp", language="en")["client_id"]
        text_in(http, "", channel="whatsapp", MessageType="location", Latitude="51.0447", Longitude="-114.0719",
                Address="1000 5 Ave SW, Calgary, AB", Label="Landlord office")
        [shared] = messages_of(http, agency["amal"], client)
        assert shared["location"] == {"latitude": 51.0447, "longitude": -114.0719,
                                      "address": "1000 5 Ave SW, Calgary, AB", "label": "Landlord office"}
        assert shared["inquiry_id"] is not None and len(open_inquiries(http, agency["amal"])) == 1
        export = http.call("GET", f"/clients/{client}/export", agency["amal"]).json
        assert export["messages"][0]["location"]["label"] == "Landlord office"
        # Erasure removes the place as it removes bodies (SPEC §5.7).
        http.call("PUT", f"/clients/{client}/status", agency["amal"], {"status": "closed", "reason": "moved"})
        assert http.call("DELETE", f"/clients/{client}", agency["admin"]).status_code == 200
        dump = every_stored_text()
        assert "1000 5 Ave SW" not in dump and "Landlord office" not in dump and "51.0447" not in dump


def test_location_without_a_place_name_has_null_address_and_label(http, agency):
    with local("2026-12-01T10:00"):
        client = new_client(http, agency["amal"], channel="whatsapp", language="en")["client_id"]
        text_in(http, "", channel="whatsapp", MessageType="location", Latitude="51.0447", Longitude="-114.0719")
        [shared] = messages_of(http, agency["amal"], client)
        assert shared["location"] == {"latitude": 51.0447, "longitude": -114.0719, "address": None, "label": None}


def test_button_payload_and_forwarded_flags_are_kept(http, agency):
    with local("2026-12-01T10:00"):
        client = new_client(http, agency["amal"], channel="whatsapp", language="en")["client_id"]
        text_in(http, "", channel="whatsapp", MessageType="interactive", ButtonPayload="appt_cancel", ButtonText="")
    with local("2026-12-01T10:01"):
        text_in(http, "Forwarded: rent increase notice", channel="whatsapp", Forwarded="true",
                FrequentlyForwarded="true")
        pressed, forwarded = messages_of(http, agency["amal"], client)
        assert pressed["button"] == {"text": None, "payload": "appt_cancel"} and pressed["inquiry_id"]
        assert forwarded["forwarded"] is True and forwarded["frequently_forwarded"] is True


def test_bad_coordinates_are_refused_and_nothing_is_filed(http, agency):
    with local("2026-12-01T10:00"):
        client = new_client(http, agency["amal"], channel="whatsapp", language="en")["client_id"]
        form = whatsapp_form(FATIMA, AMAL_NUMBER, "", Latitude="north", Longitude="-114")
        assert inbound(http.client, form).status_code == 400
        assert messages_of(http, agency["amal"], client) == []


def test_empty_message_is_filed_but_opens_no_inquiry_and_gets_no_reply(http, agency):
    with local("2026-12-01T10:00"):
        client = new_client(http, agency["amal"], channel="whatsapp", language="en")["client_id"]
    with local("2026-12-01T20:00"):
        reply = text_in(http, "", channel="whatsapp", MessageType="unsupported").body.decode()
        assert "<Message>" not in reply
        [filed] = messages_of(http, agency["amal"], client)
        assert filed["inquiry_id"] is None and filed["message_type"] == "unsupported"
        assert open_inquiries(http, agency["amal"]) == []


# --- 9. localized opt-out words; languages without templates are answered wholly in English ------


def test_arabic_stop_word_opts_out_instead_of_opening_an_inquiry(http, agency):
    with local("2026-12-01T10:00"):
        client = new_client(http, agency["amal"], channel="whatsapp", language="ar")["client_id"]
        reply = text_in(http, " توقف ", channel="whatsapp").body.decode()
        assert "START" in reply  # the Arabic opted_out text says how to start again
        assert open_inquiries(http, agency["amal"]) == []
        got = file_of(http, agency["amal"], client)
        assert got["opted_out"] is True and got["can_message"] is False
        r = http.call("POST", f"/clients/{client}/messages", agency["amal"], {"body": "مرحبا"})
        assert r.status_code == 409


def test_tigrinya_client_is_answered_in_english_with_an_english_date(http, agency):
    with local("2026-12-01T10:00"):
        new_client(http, agency["amal"], channel="sms", language="ti")
    with local("2026-12-01T19:00"):
        reply = text_in(http, "ሰላም").body.decode()
        assert "We will answer you from Wednesday at 9:00 a.m. If this is an emergency" in reply
        assert not any("\u1200" <= ch <= "\u137f" for ch in reply)  # no Ge'ez script anywhere


# --- 5. conduct notices tell the client; a closed file's messages get service_ended -------------


def notices(http, who, client_id: str) -> list[dict]:
    return [m for m in messages_of(http, who, client_id) if m["kind"] == "notice"]


def test_warnings_and_a_conduct_closure_tell_the_client_and_their_next_message_gets_service_ended(http, agency):
    with local("2026-12-01T10:00"):
        client = new_client(http, agency["amal"], channel="sms", language="fr")["client_id"]
        assert http.call("POST", f"/clients/{client}/warnings", agency["amal"], {"reason": "insults"}).status_code == 201
    with local("2026-12-01T10:05"):
        # Calgary: the second warning reaches conduct.warnings_before_meeting (2): come in person.
        assert http.call("POST", f"/clients/{client}/warnings", agency["amal"], {"reason": "again"}).status_code == 201
    with local("2026-12-01T10:10"):
        r = http.call("PUT", f"/clients/{client}/status", agency["amal"],
                      {"status": "closed", "reason": "third incident", "conduct": True})
        assert r.status_code == 200, r.body
        sent = notices(http, agency["amal"], client)
        assert [n["status"] for n in sent] == ["sent", "sent", "sent"]
        assert sent[0]["body"].startswith("Un rappel de Centre for Newcomers")  # conduct_reminder, in French
        assert "rencontrer en personne" in sent[1]["body"]  # conduct_meeting
        assert "ne vous offre plus" in sent[2]["body"]  # service_ended
        assert [s["body"] for s in outbox()] == [n["body"] for n in sent]
        r = http.call("GET", "/audit?from=2026-12-01&to=2026-12-01", agency["supervisor"])
        filed = [e for e in r.json["events"] if e["type"] == "message.filed" and e["details"].get("kind") == "notice"]
        assert [e["details"]["template"] for e in filed] == ["conduct_reminder", "conduct_meeting", "service_ended"]
    with local("2026-12-01T15:00"):
        reply = text_in(http, "Pourquoi?").body.decode()
        assert "ne vous offre plus" in reply and "ouvrir votre dossier" not in reply
        assert "<Message>" not in text_in(http, "Allô?").body.decode()  # once a day
        assert messages_of(http, agency["amal"], client)[-1]["kind"] == "notice"  # nothing filed
    with local("2026-12-02T15:30"):
        assert "ne vous offre plus" in text_in(http, "Bonjour").body.decode()


def test_a_warning_written_after_hours_is_told_at_the_next_opening(http, agency):
    with local("2026-12-04T19:00"):  # Friday evening
        client = new_client(http, agency["amal"], channel="sms", language="en")["client_id"]
        http.call("POST", f"/clients/{client}/warnings", agency["amal"], {"reason": "spam"})
        [notice] = notices(http, agency["amal"], client)
        assert notice["status"] == "queued" and outbox() == []
    with local("2026-12-07T09:00"):
        sweep()
        [notice] = notices(http, agency["amal"], client)
        assert notice["status"] == "sent" and outbox()[0]["body"].startswith("A reminder from Centre for Newcomers")


def test_closing_a_file_for_another_reason_sends_no_notice(http, agency):
    with local("2026-12-01T10:00"):
        client = new_client(http, agency["amal"], channel="sms", language="en")["client_id"]
        http.call("PUT", f"/clients/{client}/status", agency["amal"], {"status": "closed", "reason": "moved away"})
        assert notices(http, agency["amal"], client) == [] and outbox() == []


# --- 6. withdrawn and STOP files are ended for retention ----------------------------------------


def test_withdrawn_and_opted_out_files_are_erased_when_retention_runs_out(http, agency):
    with local("2026-12-01T10:00"):
        withdrawn = new_client(http, agency["amal"], channel="sms", language="en")["client_id"]
        stopped = new_client(http, agency["amal"], phone="+15875550155", channel="whatsapp",
                             language="en")["client_id"]
        back = new_client(http, agency["amal"], phone="+15875550166", channel="sms", language="en")["client_id"]
        active = new_client(http, agency["amal"], phone="+15875550177", channel="sms", language="en")["client_id"]
        assert http.call("DELETE", f"/clients/{withdrawn}/consent", agency["amal"], {"reason": "moving"}).status_code == 200
        form = whatsapp_form("+15875550155", AMAL_NUMBER, "STOP")
        assert inbound(http.client, form).status_code == 200
        assert http.call("DELETE", f"/clients/{back}/consent", agency["amal"], {"reason": "unsure"}).status_code == 200
    with local("2026-12-08T10:00"):
        # Consent given again: the file is no longer ended.
        r = http.call("PUT", f"/clients/{back}/consent", agency["amal"], {
            "form_version": "CFN-2026", "signed_at": "2026-12-08T09:00:00-06:00", "channels": ["sms"]})
        assert r.status_code == 200, r.body
    with local("2028-11-29T03:00"):  # P2Y (730 days) after the withdrawal has not quite passed
        assert application.run_job("erase_expired") is None
    with local("2029-06-01T03:00"):  # two and a half years later
        assert application.run_job("erase_expired") == {"erased": 2, "failed": 0}
        for cid in (withdrawn, stopped):
            r = http.call("GET", f"/clients/{cid}", agency["admin"])
            assert r.status_code == 404 or r.json.get("phone") in (None, ""), r.body
        for cid in (back, active):
            assert file_of(http, agency["admin"], cid)["phone"], cid
        assert application.run_job("erase_expired") is None  # nothing erased twice
