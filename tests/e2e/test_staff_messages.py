"""Staff messages through HTTP: hours, holds, overrides, consent, holding replies, WhatsApp (issue 4)."""

from __future__ import annotations

import json
import shutil
from datetime import timedelta
from urllib.parse import quote

import time_machine
from hypothesis import given
from hypothesis import strategies as st

from chalicelib import bootstrap
from tests.conftest import ROOT, auth, new_client
from tests.e2e.outbound_helpers import (
    at,
    audit,
    client_row,
    client_wrote_at,
    inquiry,
    messages,
    open_inquiry,
    outbox,
    sweep,
)
from tests.hypothesis_profiles import fuzz_settings

TUESDAY_10 = "2026-02-10T10:00:00-07:00"
FRIDAY_EVENING = "2026-02-06T18:30:00-07:00"
SUNDAY_NOON = "2026-02-08T12:00:00-07:00"
MONDAY_9 = "2026-02-09T09:00:00-07:00"


def send(http, who, client_id, body="Your appointment is confirmed for Thursday.", **extra):
    return http.call("POST", f"/clients/{client_id}/messages", who, {"body": body, **extra})


def test_message_in_business_hours_goes_now_from_the_case_managers_number(http, agency):
    with time_machine.travel(at(TUESDAY_10), tick=False):
        client = new_client(http, agency["amal"], channel="sms")
        r = send(http, agency["amal"], client["client_id"])
        assert r.status_code == 201, r.body
        assert r.json["status"] == "sent" and r.json["message_id"].startswith("msg_")
        [out] = outbox()
        assert out["from_number"] == "+15873550101" and out["to"] == "+15875550123"
        assert out["body"] == "Your appointment is confirmed for Thursday."
        assert out["status_callback"] == "https://cmdm.example.test/api/webhooks/twilio/status"
        [stored] = messages(client["client_id"])
        assert (stored.direction, stored.kind, stored.status) == ("outbound", "staff", "sent")
        assert stored.twilio_sid == out["sid"] and stored.due_at is None
        assert client_row(client["client_id"]).last_outbound_at == at(TUESDAY_10)
        filed = audit("message.filed")[-1]
        assert filed.details["direction"] == "outbound" and filed.details["kind"] == "staff"
        sent = audit("staff_message.sent")
        assert len(sent) == 1 and sent[0].details["message_id"] == r.json["message_id"]
        assert filed.sk[:26] == sent[0].sk[:26]


def test_friday_evening_message_is_held_until_monday_nine(http, agency):
    with time_machine.travel(at(FRIDAY_EVENING), tick=False) as traveller:
        client = new_client(http, agency["amal"], channel="sms")
        r = send(http, agency["amal"], client["client_id"], "See you Monday")
        assert r.status_code == 202, r.body
        assert r.json["status"] == "held"
        assert r.json["send_at"] == "2026-02-09T09:00:00-07:00"
        assert outbox() == []
        assert [e.details["send_at"] for e in audit("staff_message.held")] == [at(MONDAY_9).isoformat()]

        traveller.move_to(at(SUNDAY_NOON))
        sweep()
        assert outbox() == [], "nothing goes out on Sunday"
        traveller.move_to(at(MONDAY_9) - timedelta(seconds=1))
        sweep()
        assert outbox() == []

        traveller.move_to(at(MONDAY_9) + timedelta(minutes=2))
        summary = sweep()
        assert summary.get("sent") == 1
        [out] = outbox()
        assert out["body"] == "See you Monday"
        [stored] = messages(client["client_id"])
        assert stored.status == "sent" and stored.sent_at == at(MONDAY_9) + timedelta(minutes=2)
        [released] = audit("staff_message.released")
        assert released.at == at(MONDAY_9) + timedelta(minutes=2)


def test_override_outside_hours_sends_now_and_every_supervisor_sees_it(http, agency):
    http.call("PUT", "/staff/sup-omar", agency["admin"], {"role": "supervisor", "name": "Omar"})
    with time_machine.travel(at(FRIDAY_EVENING), tick=False):
        client = new_client(http, agency["amal"], channel="sms")
        r = send(http, agency["amal"], client["client_id"], "The shelter has a bed for you tonight",
                 override_reason="client has nowhere to sleep tonight")
        assert r.status_code == 201, r.body
        assert r.json["status"] == "sent" and r.json["override"] is True
        assert len(outbox()) == 1
        [override] = audit("boundary.override")
        assert override.details["reason"] == "client has nowhere to sleep tonight"
        assert override.details["message_id"] == r.json["message_id"]
        assert override.client_id == client["client_id"]
        for supervisor in ("sup-maria", "sup-omar"):
            notes = http.call("GET", "/notifications", auth(supervisor, "supervisor")).json["notifications"]
            assert [(n["type"], n["client_id"]) for n in notes] == [("override", client["client_id"])]
        assert http.call("GET", "/notifications", agency["jean"]).json["notifications"] == []


def test_override_inside_hours_is_just_a_message(http, agency):
    with time_machine.travel(at(TUESDAY_10), tick=False):
        client = new_client(http, agency["amal"], channel="sms")
        r = send(http, agency["amal"], client["client_id"], override_reason="urgent")
        assert r.status_code == 201 and r.json["override"] is False
        assert audit("boundary.override") == []


def test_supervisor_is_refused_because_supervisors_are_read_only(http, agency):
    with time_machine.travel(at(TUESDAY_10), tick=False):
        client = new_client(http, agency["amal"], channel="sms")
        r = send(http, agency["supervisor"], client["client_id"])
        assert r.status_code == 403
        assert r.json["error"]["message"] == "supervisors are read-only"
        assert outbox() == [] and messages(client["client_id"]) == []


def test_colleague_and_admin_cannot_message_someone_elses_client(http, agency):
    with time_machine.travel(at(TUESDAY_10), tick=False):
        client = new_client(http, agency["amal"], channel="sms")
        assert send(http, agency["jean"], client["client_id"]).status_code == 403
        assert send(http, agency["admin"], client["client_id"]).status_code == 403
        other_agency = auth("w-h", "worker", "halifax-isans")
        assert send(http, other_agency, client["client_id"]).status_code == 404
        assert send(http, agency["amal"], "cl_nope").status_code == 404
        assert outbox() == []


def test_unconsented_client_is_refused_with_the_reason(http, agency):
    with time_machine.travel(at(TUESDAY_10), tick=False):
        client = new_client(http, agency["amal"], channel="sms", consent=False)
        r = send(http, agency["amal"], client["client_id"])
        assert r.status_code == 409
        assert r.json["error"]["code"] == "cannot_message"
        assert "no consent on record for sms" in r.json["error"]["message"]
        assert outbox() == [] and messages(client["client_id"]) == []


def test_opted_out_client_is_refused(http, agency):
    from chalicelib.adapters import models as m

    with time_machine.travel(at(TUESDAY_10), tick=False):
        client = new_client(http, agency["amal"], channel="sms")
        m.ClientModel.get(client["client_id"]).update(actions=[m.ClientModel.opted_out.set(True)])
        r = send(http, agency["amal"], client["client_id"])
        assert r.status_code == 409 and "opted out" in r.json["error"]["message"]
        assert outbox() == []


def test_withdrawn_consent_before_release_fails_the_held_message(http, agency):
    with time_machine.travel(at(FRIDAY_EVENING), tick=False) as traveller:
        client = new_client(http, agency["amal"], channel="sms")
        assert send(http, agency["amal"], client["client_id"]).status_code == 202
        r = http.call("DELETE", f"/clients/{client['client_id']}/consent", agency["amal"], {"reason": "moved away"})
        assert r.status_code == 200
        traveller.move_to(at(MONDAY_9) + timedelta(minutes=1))
        sweep()
        assert outbox() == []
        [stored] = messages(client["client_id"])
        assert stored.status == "failed" and stored.error_code == "client_cannot_be_messaged"
        assert len(audit("staff_message.failed")) == 1


def test_bad_message_bodies_are_400s_naming_the_field(http, agency):
    with time_machine.travel(at(TUESDAY_10), tick=False):
        client = new_client(http, agency["amal"], channel="sms")
        cid = client["client_id"]
        for payload, field in (({}, "body"), ({"body": ""}, "body"), ({"body": "x" * 1601}, "body"),
                               ({"body": "hi", "holding": "yes"}, "holding"),
                               ({"body": "hi", "override_reason": 5}, "override_reason")):
            r = http.call("POST", f"/clients/{cid}/messages", agency["amal"], payload)
            assert r.status_code == 400 and r.json["error"]["field"] == field, (payload, r.body)
        assert outbox() == []


def test_reply_answers_the_open_inquiry_on_time(http, agency):
    with time_machine.travel(at("2026-02-10T09:30:00-07:00"), tick=False) as traveller:
        client = new_client(http, agency["amal"], channel="sms")
        opened = at("2026-02-10T09:30:00-07:00")
        inquiry_id = open_inquiry(client["client_id"], opened_at=opened, due_at=opened + timedelta(hours=24))
        traveller.move_to(at("2026-02-10T11:00:00-07:00"))
        r = send(http, agency["amal"], client["client_id"])
        assert r.status_code == 201 and r.json["inquiry_answered"] == inquiry_id
        row = inquiry(inquiry_id)
        assert row.status == "answered" and row.answered_by == "amal" and row.answered_late is False
        assert row.first_response_business_seconds == 90 * 60
        assert row.staff_status == "calgary-cfn#amal#answered"
        assert client_row(client["client_id"]).open_inquiry_id is None
        [answered] = audit("inquiry.answered")
        assert answered.details["first_response_business_minutes"] == 90
        assert answered.details["late"] is False and answered.details["holding"] is False
        got = http.call("GET", f"/clients/{client['client_id']}", agency["amal"]).json
        assert got["open_inquiry"] is None


def test_holding_reply_meets_the_first_response_clock_and_keeps_the_inquiry_open_as_complex(http, agency):
    with time_machine.travel(at(TUESDAY_10), tick=False):
        client = new_client(http, agency["amal"], channel="sms")
        opened = at(TUESDAY_10) - timedelta(minutes=30)
        inquiry_id = open_inquiry(client["client_id"], opened_at=opened, due_at=opened + timedelta(hours=24))
        r = send(http, agency["amal"], client["client_id"], "I am checking with the landlord, back tomorrow",
                 holding=True)
        assert r.status_code == 201 and r.json["holding"] is True
        row = inquiry(inquiry_id)
        assert row.status == "open" and row.complex is True and row.answered_at is None
        assert row.first_response_at == at(TUESDAY_10) and row.first_response_business_seconds == 30 * 60
        # Tue 10:00 + P5D is Sunday 15th; Monday 16th is Family Day in Alberta: due Tuesday 17th 09:00.
        assert row.due_at == at("2026-02-17T09:00:00-07:00")
        assert audit("inquiry.answered") == []
        [holding] = audit("inquiry.holding_reply")
        assert holding.details["holding"] is True
        assert audit("staff_message.sent")[0].details["holding"] is True


def test_held_holding_reply_meets_the_first_response_clock_only_when_released(http, agency):
    with time_machine.travel(at("2026-02-06T16:00:00-07:00"), tick=False) as traveller:
        client = new_client(http, agency["amal"], channel="sms")
        opened = at("2026-02-06T16:00:00-07:00")
        inquiry_id = open_inquiry(client["client_id"], opened_at=opened, due_at=at("2026-02-09T16:00:00-07:00"))
        traveller.move_to(at(FRIDAY_EVENING))
        assert send(http, agency["amal"], client["client_id"], holding=True).status_code == 202
        assert inquiry(inquiry_id).status == "open"
        traveller.move_to(at(MONDAY_9) + timedelta(minutes=5))
        sweep()
        row = inquiry(inquiry_id)
        assert row.status == "open" and row.complex is True and row.first_response_late is False
        assert row.first_response_at == at(MONDAY_9) + timedelta(minutes=5) and row.answered_at is None
        # Friday 16:00-17:00 and Monday 9:00-9:05 are the business time the client waited.
        assert row.first_response_business_seconds == 65 * 60
        # Monday 9:05 + P5D is Saturday; Monday 16th is Family Day: the real answer is due Tuesday 17th.
        assert row.due_at == at("2026-02-17T09:00:00-07:00")


def test_late_reply_is_recorded_as_late(http, agency):
    with time_machine.travel(at(TUESDAY_10), tick=False):
        client = new_client(http, agency["amal"], channel="sms")
        opened = at(TUESDAY_10) - timedelta(hours=25)
        inquiry_id = open_inquiry(client["client_id"], opened_at=opened, due_at=opened + timedelta(hours=24))
        send(http, agency["amal"], client["client_id"])
        assert inquiry(inquiry_id).answered_late is True
        assert audit("inquiry.answered")[0].details["late"] is True


def test_whatsapp_free_form_within_24_hours_of_the_clients_message(http, agency):
    with time_machine.travel(at(TUESDAY_10), tick=False):
        client = new_client(http, agency["amal"], channel="whatsapp")
        client_wrote_at(client["client_id"], at(TUESDAY_10) - timedelta(hours=23))
        r = send(http, agency["amal"], client["client_id"], "Yes, bring your passport")
        assert r.status_code == 201 and r.json["template"] is None
        [out] = outbox()
        assert out["channel"] == "whatsapp" and out["body"] == "Yes, bring your passport"
        assert out["content_sid"] is None


def test_whatsapp_outside_the_window_sends_the_approved_template(http, agency):
    with time_machine.travel(at(TUESDAY_10), tick=False):
        client = new_client(http, agency["amal"], channel="whatsapp")
        client_wrote_at(client["client_id"], at(TUESDAY_10) - timedelta(hours=25))
        r = send(http, agency["amal"], client["client_id"], "Are you still looking for a job?")
        assert r.status_code == 201 and r.json["status"] == "sent"
        assert r.json["template"] == "staff_reopen" and "24-hour" in r.json["note"]
        [out] = outbox()
        assert out["body"] is None and out["content_sid"] == "HX6281a51526646af067114b0e8923e24a"
        assert out["content_variables"] == {"1": "Fatima", "2": "Amal"}
        [stored] = messages(client["client_id"])
        assert stored.template == "staff_reopen" and stored.body == "Are you still looking for a job?"


def test_whatsapp_window_never_opened_counts_as_closed(http, agency):
    with time_machine.travel(at(TUESDAY_10), tick=False):
        client = new_client(http, agency["amal"], channel="whatsapp")
        r = send(http, agency["amal"], client["client_id"])
        assert r.status_code == 201 and r.json["template"] == "staff_reopen"


def test_whatsapp_outside_the_window_without_a_template_is_refused(http, agency, tmp_path, monkeypatch):
    policy = json.loads((ROOT / "policies" / "calgary-cfn.json").read_text(encoding="utf-8"))
    del policy["whatsapp_templates"]
    (tmp_path / "calgary-cfn.json").write_text(json.dumps(policy), encoding="utf-8")
    shutil.copy(ROOT / "policies" / "schema.json", tmp_path / "schema.json")
    monkeypatch.setenv("CMDM_POLICY_DIR", str(tmp_path))
    bootstrap.reset()
    with time_machine.travel(at(TUESDAY_10), tick=False):
        client = new_client(http, agency["amal"], channel="whatsapp")
        client_wrote_at(client["client_id"], at(TUESDAY_10) - timedelta(hours=30))
        r = send(http, agency["amal"], client["client_id"])
        assert r.status_code == 409 and r.json["error"]["code"] == "whatsapp_window_closed"
        assert "24 hours" in r.json["error"]["message"]
        assert outbox() == [] and messages(client["client_id"]) == []


def test_held_whatsapp_message_whose_window_closes_before_monday_goes_as_the_template(http, agency):
    with time_machine.travel(at(FRIDAY_EVENING), tick=False) as traveller:
        client = new_client(http, agency["amal"], channel="whatsapp")
        client_wrote_at(client["client_id"], at(FRIDAY_EVENING) - timedelta(hours=1))
        r = send(http, agency["amal"], client["client_id"], "We will look at your forms on Monday")
        assert r.status_code == 202 and r.json["template"] == "staff_reopen"
        traveller.move_to(at(MONDAY_9) + timedelta(minutes=1))
        sweep()
        [out] = outbox()
        assert out["content_sid"] == "HX6281a51526646af067114b0e8923e24a" and out["body"] is None


# --- number re-assignment and absences -----------------------------------------------------------


def test_reassigning_a_number_moves_the_clients_and_their_open_inquiries(http, agency):
    with time_machine.travel(at(TUESDAY_10), tick=False):
        client = new_client(http, agency["amal"], channel="sms")
        opened = at(TUESDAY_10) - timedelta(hours=1)
        inquiry_id = open_inquiry(client["client_id"], opened_at=opened, due_at=opened + timedelta(hours=24))
        http.call("PUT", "/staff/samir", agency["admin"], {"role": "worker", "name": "Samir"})
        r = http.call("PUT", "/numbers/%2B15873550101", agency["admin"], {"staff_id": "samir", "channels": ["sms", "whatsapp"]})
        assert r.status_code == 200, r.body

        row = inquiry(inquiry_id)
        assert row.staff_id == "samir" and row.staff_status == "calgary-cfn#samir#open"
        samir = auth("samir")
        assert [i["id"] for i in http.call("GET", "/inquiries", samir).json["inquiries"]] == [inquiry_id]
        assert http.call("GET", "/inquiries", agency["amal"]).json["inquiries"] == []
        moved = [e for e in audit("number.reassigned") if e.client_id == client["client_id"]]
        assert moved and moved[0].details["inquiry_id"] == inquiry_id

        assert send(http, agency["amal"], client["client_id"]).status_code == 403
        r = send(http, samir, client["client_id"], "Hello, I am your new case manager")
        assert r.status_code == 201, r.body
        [out] = outbox()
        assert out["from_number"] == "+15873550101"
        assert inquiry(inquiry_id).answered_by == "samir"


def test_absence_lets_the_cover_list_and_answer_from_the_absent_workers_number(http, agency):
    with time_machine.travel(at(TUESDAY_10), tick=False) as traveller:
        client = new_client(http, agency["amal"], channel="sms")
        r = http.call("PUT", "/staff/amal/absences/winter-leave", agency["amal"],
                      {"start": "2026-02-11", "end": "2026-02-13", "cover_id": "jean", "note": "family visit"})
        assert r.status_code == 201, r.body
        assert r.json == {"staff_id": "amal", "absence_id": "winter-leave", "start": "2026-02-11",
                          "end": "2026-02-13", "cover_id": "jean", "note": "family visit"}
        assert len(audit("staff.absence_recorded")) == 1

        # Not yet away: Jean may not answer Amal's client.
        assert send(http, agency["jean"], client["client_id"]).status_code == 403
        absences = bootstrap.container().absences
        assert absences.cover_of("calgary-cfn", "amal", at(TUESDAY_10)) is None
        assert absences.cover_of("calgary-cfn", "amal", at("2026-02-13T23:59:00-07:00")) == "jean"
        assert absences.cover_of("calgary-cfn", "amal", at("2026-02-14T00:00:00-07:00")) is None

        traveller.move_to(at("2026-02-11T10:00:00-07:00"))
        opened = at("2026-02-11T09:30:00-07:00")
        inquiry_id = open_inquiry(client["client_id"], opened_at=opened, due_at=opened + timedelta(hours=24))
        listed = http.call("GET", "/inquiries?status=open", agency["jean"]).json["inquiries"]
        assert [i["id"] for i in listed] == [inquiry_id]
        assert http.call("GET", f"/clients/{client['client_id']}", agency["jean"]).status_code == 200
        r = send(http, agency["jean"], client["client_id"], "Amal is away, I am helping you this week")
        assert r.status_code == 201, r.body
        [out] = outbox()
        assert out["from_number"] == "+15873550101", "the client sees the number they know"
        row = inquiry(inquiry_id)
        assert row.status == "answered" and row.answered_by == "jean"
        assert audit("staff_message.sent")[0].actor == "jean"

        traveller.move_to(at("2026-02-14T10:00:00-07:00"))
        assert send(http, agency["jean"], client["client_id"]).status_code == 403


def test_absence_rules(http, agency):
    good = {"start": "2026-02-11", "end": "2026-02-13", "cover_id": "jean"}
    assert http.call("PUT", "/staff/amal/absences/a1", agency["jean"], good).status_code == 403
    assert http.call("PUT", "/staff/amal/absences/a1", agency["supervisor"], good).status_code == 403
    r = http.call("PUT", "/staff/amal/absences/a1", agency["admin"], good)
    assert r.status_code == 201
    r = http.call("PUT", "/staff/amal/absences/a1", agency["admin"], {**good, "end": "2026-02-20"})
    assert r.status_code == 200 and r.json["end"] == "2026-02-20"
    for payload, field in (({**good, "start": "11/02/2026"}, "start"), ({**good, "end": "2026-02-01"}, "end"),
                           ({**good, "cover_id": "amal"}, "cover_id"), ({**good, "cover_id": "sup-maria"}, "cover_id"),
                           ({**good, "cover_id": "ghost"}, "cover_id"), ({"start": "2026-02-11"}, "end")):
        r = http.call("PUT", "/staff/amal/absences/a2", agency["amal"], payload)
        assert r.status_code == 400 and r.json["error"]["field"] == field, (payload, r.body)
    assert http.call("PUT", "/staff/ghost/absences/a1", agency["admin"], good).status_code == 404


def test_sending_in_hours_costs_a_few_keyed_round_trips(http, agency):
    from tests.fault_helpers import DynamoTap

    with time_machine.travel(at(TUESDAY_10), tick=False):
        client = new_client(http, agency["amal"], channel="sms")
        opened = at(TUESDAY_10) - timedelta(hours=1)
        open_inquiry(client["client_id"], opened_at=opened, due_at=opened + timedelta(hours=24))
        with DynamoTap() as tap:
            r = send(http, agency["amal"], client["client_id"])
        assert r.status_code == 201
        ops = tap.by_operation()
        assert "Scan" not in ops
        # client, number, inquiry, one TransactWrite (message + client + inquiry + audit), sent.
        assert tap.round_trips <= 6, ops


@fuzz_settings()
@given(staff_id=st.one_of(st.just("amal"), st.text(max_size=80)), absence_id=st.one_of(st.just("a1"), st.text(max_size=80)),
       body=st.fixed_dictionaries({}, optional={
           "start": st.one_of(st.just("2026-02-11"), st.text(max_size=12), st.integers(), st.none()),
           "end": st.one_of(st.just("2026-02-13"), st.text(max_size=12), st.lists(st.integers(), max_size=2)),
           "cover_id": st.one_of(st.just("jean"), st.text(max_size=70)),
           "note": st.one_of(st.none(), st.text(max_size=600)),
       }))
def test_fuzzed_absences_are_never_a_500(http, agency, staff_id, absence_id, body):
    path = (f"/staff/{quote(staff_id.encode('utf-8', 'surrogatepass'), safe='') or '%20'}"
            f"/absences/{quote(absence_id.encode('utf-8', 'surrogatepass'), safe='') or '%20'}")
    r = http.call("PUT", path, agency["admin"], body)
    assert r.status_code in (200, 201, 400, 403, 404), (path, body, r.body)
    if r.status_code >= 400:
        assert r.json["error"]["code"]


# --- with the real inbound webhook (the lead's side) -------------------------------------------------


def test_friday_night_question_answered_by_a_held_reply_released_monday(api, http, agency):
    from tests.twilio_helpers import inbound, post, sms_form, status_form

    with time_machine.travel(at("2026-02-06T18:00:00-07:00"), tick=False) as traveller:
        client = new_client(http, agency["amal"], channel="sms", language="en")
        assert inbound(api, sms_form("+15875550123", "+15873550101", "Is my appointment still on?")).status_code == 200
        opened = http.call("GET", f"/clients/{client['client_id']}", agency["amal"]).json["open_inquiry"]
        assert opened["due_at"] == "2026-02-10T09:00:00-07:00"

        traveller.move_to(at(FRIDAY_EVENING))
        r = send(http, agency["amal"], client["client_id"], "Yes, Monday at 10")
        assert r.status_code == 202 and r.json["send_at"] == "2026-02-09T09:00:00-07:00"

        traveller.move_to(at(MONDAY_9) + timedelta(minutes=1))
        assert sweep().get("sent") == 1
        row = inquiry(opened["id"])
        assert row.status == "answered" and not row.answered_late and row.first_response_business_seconds == 60
        listed = http.call("GET", f"/clients/{client['client_id']}/messages", agency["amal"]).json["messages"]
        assert [(x["direction"], x["kind"]) for x in listed][0] == ("inbound", "client")
        staff = [x for x in listed if x["kind"] == "staff"]
        assert len(staff) == 1 and staff[0]["status"] == "sent"

        [out] = outbox()
        assert post(api, "/webhooks/twilio/status", status_form(out["sid"], "delivered")).status_code == 200
        assert [i.status for i in messages(client["client_id"]) if i.kind == "staff"] == ["delivered"]
        assert sweep() == {}


def test_whatsapp_message_from_the_client_opens_the_window_for_a_free_form_reply(api, http, agency):
    from tests.twilio_helpers import inbound, whatsapp_form

    with time_machine.travel(at(TUESDAY_10), tick=False) as traveller:
        client = new_client(http, agency["amal"], channel="whatsapp")
        assert inbound(api, whatsapp_form("+15875550123", "+15873550101", "مرحبا")).status_code == 200
        traveller.move_to(at(TUESDAY_10) + timedelta(hours=2))
        r = send(http, agency["amal"], client["client_id"], "أهلا فاطمة")
        assert r.status_code == 201 and r.json["template"] is None and r.json["inquiry_answered"]
        traveller.move_to(at(TUESDAY_10) + timedelta(hours=24, minutes=1))
        r = send(http, agency["amal"], client["client_id"], "Any news?")
        assert r.status_code == 201 and r.json["template"] == "staff_reopen"
        assert [o["content_sid"] is None for o in outbox()] == [True, False]


def test_old_absences_are_dropped_and_the_list_is_bounded(http, agency):
    from chalicelib.adapters import models as m

    def put(absence_id: str, start: str, end: str) -> int:
        body = {"start": start, "end": end, "cover_id": "jean"}
        return http.call("PUT", f"/staff/amal/absences/{absence_id}", agency["amal"], body).status_code

    assert put("old", "2024-01-01", "2024-01-05") == 201
    assert put("new", "2026-02-11", "2026-02-13") == 201
    assert [a.absence_id for a in m.StaffModel.get("calgary-cfn", "amal").absences] == ["new"]
    for i in range(99):
        assert put(f"a{i}", "2026-03-01", "2026-03-02") == 201
    assert put("one-too-many", "2026-04-01", "2026-04-02") == 409
    assert put("a5", "2026-03-03", "2026-03-04") == 200, "changing an existing one is still fine"


def test_supervisor_marks_an_override_notification_read_and_it_leaves_the_unread_list(http, agency):
    with time_machine.travel(at(FRIDAY_EVENING), tick=False):
        client = new_client(http, agency["amal"], channel="sms")
        send(http, agency["amal"], client["client_id"], "Bed tonight", override_reason="no shelter tonight")
    [note] = http.call("GET", "/notifications?unread=true", agency["supervisor"]).json["notifications"]
    assert note["read"] is False
    assert http.call("PUT", f"/notifications/{note['id']}/read", agency["admin"]).status_code == 404
    r = http.call("PUT", f"/notifications/{note['id']}/read", agency["supervisor"])
    assert r.status_code == 200 and r.json["read"] is True
    assert http.call("GET", "/notifications?unread=true", agency["supervisor"]).json["notifications"] == []
    assert [n["read"] for n in http.call("GET", "/notifications", agency["supervisor"]).json["notifications"]] == [True]


def test_worker_back_early_removes_the_absence_and_the_cover_loses_access(http, agency):
    with time_machine.travel(at("2026-02-10T10:00:00-07:00"), tick=False):
        client = new_client(http, agency["amal"], channel="sms")
        r = http.call("PUT", "/staff/amal/absences/leave-1", agency["amal"],
                      {"start": "2026-02-10", "end": "2026-02-20", "cover_id": "jean"})
        assert r.status_code == 201, r.body
        assert http.call("GET", f"/clients/{client['client_id']}", agency["jean"]).status_code == 200
        assert http.call("DELETE", "/staff/amal/absences/leave-1", agency["jean"]).status_code == 403
        r = http.call("DELETE", "/staff/amal/absences/leave-1", agency["amal"])
        assert r.status_code == 200 and r.json["removed"] is True
        assert http.call("GET", f"/clients/{client['client_id']}", agency["jean"]).status_code == 403
        assert http.call("DELETE", "/staff/amal/absences/leave-1", agency["amal"]).status_code == 404
