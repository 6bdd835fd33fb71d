"""Issue 23 item 1 (SPEC §5.9): a crisis at any hour, through the HTTP API and signed webhooks.

Calgary, in travelled time (UTC-6 all year under the pinned tzdata 2026f). Tuesday 1 December 2026:
open 9:00-17:00. The policy's crisis words include "he will kill me"; its on-call person is the
supervisor sup-maria (SMS to +14035550190); its emergency line is 911.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import time_machine

from tests.conftest import auth, new_client
from tests.twilio_helpers import inbound, sms_form, whatsapp_form

EDMONTON = ZoneInfo("America/Edmonton")
AMAL_NUMBER = "+15873550101"
FATIMA = "+15875550123"
OMAR = "+15875550124"
DANGER = "My husband says he will kill me tonight"


def local(text: str):
    return time_machine.travel(datetime.fromisoformat(text).replace(tzinfo=EDMONTON), tick=False)


def text_in(http, body: str, *, sender: str = FATIMA, channel: str = "whatsapp", **extra: str):
    form = (sms_form if channel == "sms" else whatsapp_form)(sender, AMAL_NUMBER, body, **extra)
    r = inbound(http.client, form)
    assert r.status_code == 200, r.body
    return r


def voice_note(http, *, sender: str = FATIMA):
    sid = "MM" + "ab" * 16
    return text_in(http, "", sender=sender, NumMedia="1", MessageType="audio", MediaContentType0="audio/ogg",
                   MediaUrl0=f"https://api.twilio.com/2010-04-01/Accounts/AC{'1' * 32}/Messages/{sid}/Media/ME{'c' * 32}")


def notes(http, who, kind: str | None = None) -> list[dict]:
    r = http.call("GET", "/notifications", who)
    assert r.status_code == 200, r.body
    return [n for n in r.json["notifications"] if kind is None or n["type"] == kind]


def inbox(http, who) -> list[dict]:
    r = http.call("GET", "/inbox", who)
    assert r.status_code == 200, r.body
    return r.json["items"]


def messages(http, who, client_id: str) -> list[dict]:
    r = http.call("GET", f"/clients/{client_id}/messages", who)
    assert r.status_code == 200, r.body
    return r.json["messages"]


def audit(http, kind: str) -> list[dict]:
    r = http.call("GET", f"/audit?from=2026-12-01&to=2026-12-02&type={kind}", auth("sup-maria", "supervisor"))
    assert r.status_code == 200, r.body
    return r.json["events"]


def test_a_crisis_word_while_open_marks_the_file_and_tells_the_case_manager_and_supervisors_exactly_once(
        http, agency):
    with local("2026-12-01T08:00"):
        fatima = new_client(http, agency["amal"], language="en")["client_id"]
        omar = new_client(http, agency["amal"], phone=OMAR, language="en")["client_id"]
    with local("2026-12-01T09:30"):
        text_in(http, "When is my appointment?", sender=OMAR)  # due first: 09:30 tomorrow
    with local("2026-12-01T10:00"):
        reply = text_in(http, DANGER).body.decode()
        assert "<Message>" not in reply  # open: no automatic reply; the worker answers
        again = text_in(http, "Please, he will kill me").body.decode()
        assert "<Message>" not in again

        for who in ("amal", "supervisor"):
            [alert] = notes(http, agency[who], "crisis")  # one each, for two crisis messages
            assert alert["client_id"] == fatima and alert["client_name"] == "Fatima" and not alert["read"]
            assert "kill" not in alert["message"] and FATIMA not in alert["message"]
        assert notes(http, agency["jean"], "crisis") == [] and notes(http, agency["admin"], "crisis") == []
        [alerted] = audit(http, "inquiry.crisis_alerted")
        assert alerted["details"]["to"] == ["amal", "sup-maria"] and alerted["details"]["while_open"] is True

        items = inbox(http, agency["amal"])
        assert [(i["client_id"], i["crisis"]) for i in items] == [(fatima, True), (omar, False)]
        file = http.call("GET", f"/clients/{fatima}", agency["amal"]).json
        assert file["open_inquiry"]["crisis"] is True and file["crisis_at"] == "2026-12-01T10:00:00-06:00"
        assert file["crisis"] == {"since": "2026-12-01T10:00:00-06:00", "emergency_line": "911",
                                  "emergency_contact": None}
        thread = messages(http, agency["amal"], fatima)
        assert [m["crisis"] for m in thread] == [True, True]

    with local("2026-12-01T10:05"):  # answered: out of first place, out of the inbox
        r = http.call("POST", f"/clients/{fatima}/messages", agency["amal"], {"body": "Call 911 now. I call you."})
        assert r.status_code == 201 and r.json["inquiry_answered"], r.body
        assert [i["client_id"] for i in inbox(http, agency["amal"])] == [omar]
        file = http.call("GET", f"/clients/{fatima}", agency["amal"]).json
        assert file["crisis_at"] is None and file["crisis"] is None
    with local("2026-12-01T11:00"):  # a new crisis is a new alert
        text_in(http, "I am not safe at home")
        assert len(notes(http, agency["amal"], "crisis")) == 2
        assert inbox(http, agency["amal"])[0]["client_id"] == fatima


def test_while_the_case_manager_is_away_the_colleague_covering_is_told_not_the_absent_worker(http, agency):
    with local("2026-12-01T08:00"):
        fatima = new_client(http, agency["amal"], language="en")["client_id"]
        r = http.call("PUT", "/staff/amal/absences/leave-1", agency["amal"],
                      {"start": "2026-12-01", "end": "2026-12-02", "cover_id": "jean"})
        assert r.status_code == 201, r.body
        [started] = notes(http, agency["jean"], "cover_started")
        assert started["staff_id"] == "amal" and started["staff_name"] == "Amal"
    with local("2026-12-01T10:00"):
        text_in(http, DANGER)
        assert notes(http, agency["amal"], "crisis") == []
        assert [n["client_id"] for n in notes(http, agency["jean"], "crisis")] == [fatima]
        assert len(notes(http, agency["supervisor"], "crisis")) == 1
        [new] = notes(http, agency["jean"], "new_message")  # the inquiry is jean's to answer
        assert new["client_id"] == fatima
    with local("2026-12-01T12:00"):  # back early: jean no longer covers
        assert http.call("DELETE", "/staff/amal/absences/leave-1", agency["amal"]).status_code == 200
        assert len(notes(http, agency["jean"], "cover_ended")) == 1


def test_after_hours_the_on_call_person_is_told_and_the_worker_finds_the_client_first_in_the_morning(http, agency):
    with local("2026-12-01T08:00"):
        fatima = new_client(http, agency["amal"], language="en")["client_id"]
        omar = new_client(http, agency["amal"], phone=OMAR, language="en")["client_id"]
    with local("2026-12-01T16:00"):
        text_in(http, "Can I bring my son?", sender=OMAR)
    with local("2026-12-01T22:40"):
        reply = text_in(http, DANGER).body.decode()
        assert "call 911 now" in reply.split("<Message>")[1]
        assert len(notes(http, agency["supervisor"], "crisis")) == 1  # the on-call person
        assert notes(http, agency["amal"], "crisis") == []  # the worker's evening stays hers
    with local("2026-12-02T09:00"):
        assert [(i["client_id"], i["crisis"]) for i in inbox(http, agency["amal"])] == [(fatima, True),
                                                                                       (omar, False)]
        text_in(http, "he will kill me, please answer")  # the same crisis: nobody is told twice
        assert notes(http, agency["amal"], "crisis") == []
        assert len(notes(http, agency["supervisor"], "crisis")) == 1


def test_a_voice_note_after_hours_tells_the_on_call_person_once_a_night_and_not_while_open(http, agency):
    with local("2026-12-01T08:00"):
        fatima = new_client(http, agency["amal"], language="en")["client_id"]
    with local("2026-12-01T10:00"):
        voice_note(http)
        assert notes(http, agency["supervisor"], "voice_note") == []
    with local("2026-12-01T22:10"):
        voice_note(http)
        voice_note(http)
        [waiting] = notes(http, agency["supervisor"], "voice_note")
        assert waiting["client_id"] == fatima and waiting["client_name"] == "Fatima"
        assert notes(http, agency["amal"], "voice_note") == []
        [alerted] = audit(http, "voice_note.alerted")
        assert alerted["details"]["to"] == ["sup-maria"]
    with local("2026-12-02T22:10"):  # another night, another alert
        voice_note(http)
        assert len(notes(http, agency["supervisor"], "voice_note")) == 2


def test_a_worker_marks_a_message_as_a_crisis_by_hand_and_takes_it_back_both_audited(http, agency):
    with local("2026-12-01T08:00"):
        fatima = new_client(http, agency["amal"], language="en")["client_id"]
    with local("2026-12-01T10:00"):
        text_in(http, "I don't know what to do any more")
        [msg] = messages(http, agency["amal"], fatima)
        assert msg["crisis"] is False and notes(http, agency["supervisor"], "crisis") == []
        path = f"/clients/{fatima}/messages/{msg['id']}/crisis"
        r = http.call("PUT", path, agency["amal"], {"crisis": True, "reason": "she sounds desperate"})
        assert r.status_code == 200, r.body
        assert r.json["crisis"] is True and r.json["client_in_crisis"] is True and r.json["notified"] == ["sup-maria"]
        assert r.json["crisis_banner"]["emergency_line"] == "911"
        assert notes(http, agency["amal"], "crisis") == []  # she marked it herself
        [alert] = notes(http, agency["supervisor"], "crisis")
        assert alert["client_id"] == fatima
        assert inbox(http, agency["amal"])[0]["crisis"] is True
        assert http.call("PUT", path, agency["amal"], {"crisis": True}).json["notified"] == []  # already so
        [marked] = audit(http, "crisis.marked")
        assert marked["actor"] == "amal" and marked["details"]["reason"] == "she sounds desperate"

    with local("2026-12-01T10:20"):
        r = http.call("PUT", path, agency["amal"], {"crisis": False, "reason": "she called back, she is safe"})
        assert r.status_code == 200 and r.json["crisis"] is False and r.json["client_in_crisis"] is False
        assert inbox(http, agency["amal"])[0]["crisis"] is False
        [unmarked] = audit(http, "crisis.unmarked")
        assert unmarked["actor"] == "amal" and unmarked["details"]["reason"] == "she called back, she is safe"
        inquiry = http.call("GET", f"/clients/{fatima}", agency["amal"]).json["open_inquiry"]
        assert inquiry["crisis"] is False


def test_who_may_mark_a_crisis_and_what_is_refused(http, agency):
    with local("2026-12-01T08:00"):
        fatima = new_client(http, agency["amal"], language="en")["client_id"]
    with local("2026-12-01T10:00"):
        text_in(http, "Hello")
        [msg] = messages(http, agency["amal"], fatima)
        path = f"/clients/{fatima}/messages/{msg['id']}/crisis"
        body = {"crisis": True}
        assert http.call("PUT", path, None, body).status_code == 401
        assert http.call("PUT", path, auth("admin-h", "admin", "halifax-isans"), body).status_code == 404
        assert http.call("PUT", path, agency["jean"], body).status_code == 403
        assert http.call("PUT", path, agency["supervisor"], body).status_code == 403
        for bad in ({}, {"crisis": "yes"}, {"crisis": True, "reason": 5}, {"crisis": True, "reason": "x" * 501}):
            r = http.call("PUT", path, agency["amal"], bad)
            assert r.status_code == 400 and r.json["error"]["field"] in ("crisis", "reason"), r.body
        assert http.call("PUT", f"/clients/{fatima}/messages/msg_none/crisis", agency["amal"], body).status_code == 404
        r = http.call("POST", f"/clients/{fatima}/messages", agency["amal"], {"body": "Hi Fatima"})
        staff = r.json["message_id"]
        r = http.call("PUT", f"/clients/{fatima}/messages/{staff}/crisis", agency["amal"], body)
        assert r.status_code == 409 and r.json["error"]["code"] == "not_a_client_message"
        assert audit(http, "crisis.marked") == []
        assert http.call("PUT", path, agency["admin"], body).status_code == 200


def test_the_emergency_contact_is_validated_shown_with_the_crisis_exported_and_erased(http, agency):
    with local("2026-12-01T08:00"):
        fatima = new_client(http, agency["amal"], language="en")["client_id"]
        path = f"/clients/{fatima}/emergency-contact"
        contact = {"name": "Amina Haddad", "phone": "(403) 555-0142", "relation": "sister"}
        for bad, field in (({**contact, "phone": "not a phone"}, "phone"), ({**contact, "phone": "+1"}, "phone"),
                           ({**contact, "name": ""}, "name"), ({**contact, "relation": None}, "relation"),
                           ({**contact, "name": "x" * 101}, "name"), ([], "body")):
            r = http.call("PUT", path, agency["amal"], bad)
            assert r.status_code == 400 and r.json["error"]["field"] == field, (bad, r.body)
        assert http.call("PUT", path, agency["supervisor"], contact).status_code == 403
        assert http.call("PUT", path, agency["jean"], contact).status_code == 403
        assert http.call("PUT", path, auth("admin-h", "admin", "halifax-isans"), contact).status_code == 404
        r = http.call("PUT", path, agency["amal"], contact)
        assert r.status_code == 200, r.body
        stored = {"name": "Amina Haddad", "phone": "+14035550142", "relation": "sister"}
        assert r.json["emergency_contact"] == stored
        assert http.call("PUT", path, agency["admin"], {**contact, "phone": "+14035550143"}).status_code == 200
        recorded = audit(http, "client.emergency_contact_set")  # that it changed, never what it says
        assert sorted(e["details"]["replaced"] for e in recorded) == [False, True]
    with local("2026-12-01T10:00"):
        text_in(http, DANGER)
        banner = http.call("GET", f"/clients/{fatima}/messages", agency["amal"]).json["crisis"]
        assert banner["emergency_contact"]["phone"] == "+14035550143" and banner["emergency_line"] == "911"
        export = http.call("GET", f"/clients/{fatima}/export", agency["amal"]).json
        assert export["client"]["emergency_contact"]["name"] == "Amina Haddad"
        r = http.call("PUT", f"/clients/{fatima}/status", agency["admin"], {"status": "closed", "reason": "moved"})
        assert r.status_code == 200, r.body
        assert http.call("DELETE", f"/clients/{fatima}", agency["admin"]).status_code == 200

    from tests.storage_dump import every_stored_text

    stored = every_stored_text()
    assert "Amina" not in stored and "4035550143" not in stored and "sister" not in stored
