"""The follow-up run against moto: who gets what, when, and never twice (issue 5, SPEC §5.5)."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import boto3
import pytest
import time_machine

import app as application
from chalicelib import bootstrap
from chalicelib.adapters import models as m
from chalicelib.adapters.twilio_gateway import TransientSendError
from tests.conftest import ROOT, new_client

EDMONTON = ZoneInfo("America/Edmonton")
CALGARY_FOLLOWUP_SID = "HX1fd0868592e4b18672c06d6ca0f11c05"


def local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=EDMONTON)


def sent() -> list[dict]:
    return bootstrap.container().gateway.sent


def run_at(at: datetime) -> dict:
    with time_machine.travel(at, tick=False):
        return application.run_job("run_followups")


def run_every_quarter_hour(start: datetime, end: datetime) -> list[datetime]:
    """Run the job as EventBridge would; the local instants at which something was sent."""
    sent_at = []
    at = start
    while at < end:
        before = len(sent())
        run_at(at)
        sent_at.extend([at] * (len(sent()) - before))
        at += timedelta(minutes=15)
    return sent_at


def open_file(http, agency, at: datetime, **kwargs) -> dict:
    with time_machine.travel(at, tick=False):
        return new_client(http, agency["amal"], **kwargs)


def set_client(client_id: str, **values) -> None:
    item = m.ClientModel.get(client_id)
    item.update(actions=[getattr(m.ClientModel, k).set(v) if v is not None else getattr(m.ClientModel, k).remove()
                         for k, v in values.items()])


def audit(type_: str) -> list[m.AuditModel]:
    return [e for e in m.AuditModel.query("calgary-cfn") if e.type == type_]


def wall(at: datetime) -> str:
    return at.astimezone(EDMONTON).strftime("%a %Y-%m-%d %H:%M")


# -- who gets a follow-up, and when ----------------------------------------------------------------


def test_quiet_client_gets_exactly_one_follow_up_the_next_business_day_at_ten(http, agency):
    client = open_file(http, agency, local("2026-11-16T11:00"))
    # Quiet since Monday 11:00: a week later is past Monday's 10:00 slot, so Tuesday 10:00.
    assert client["next_followup_at"] == "2026-11-24T10:00:00-06:00"

    times = run_every_quarter_hour(local("2026-11-23T08:00"), local("2026-11-25T17:00"))

    assert [wall(t) for t in times] == ["Tue 2026-11-24 10:00"]
    [message] = sent()
    assert message["from_number"] == "+15873550101" and message["to"] == "+15875550123"
    # Quiet for a week, so outside WhatsApp's 24-hour window: the approved template.
    assert message["content_sid"] == CALGARY_FOLLOWUP_SID
    assert message["content_variables"] == {"1": "Fatima", "2": "Amal"}
    assert message["status_callback"] == "https://cmdm.example.test/api/webhooks/twilio/status"
    [filed] = list(m.MessageModel.query(client["client_id"]))
    assert (filed.direction, filed.kind, filed.status, filed.template) == ("outbound", "followup", "sent", "followup")
    assert filed.twilio_sid == message["sid"] and filed.due_at is None and filed.staff_id == "amal"
    assert "{client_name}" not in filed.body and "Fatima" in filed.body
    [followup_event] = audit("followup.sent")
    assert followup_event.details.as_dict()["kind"] == "followup" and followup_event.client_id == client["client_id"]
    filed_events = [e.details.as_dict() for e in audit("message.filed")]
    assert {"direction": "outbound", "kind": "followup", "channel": "whatsapp"}.items() <= filed_events[0].items()
    [row] = list(m.FollowupModel.query("calgary-cfn#amal"))
    assert row.kind == "followup" and row.client_id == client["client_id"]
    # The next one is a week after the slot, not after the minute the run got to it.
    r = http.call("GET", f"/clients/{client['client_id']}", agency["amal"])
    assert r.json["next_followup_at"] == "2026-12-01T10:00:00-06:00"


def test_sms_follow_up_is_free_text_in_the_clients_language(http, agency):
    client = open_file(http, agency, local("2026-11-16T09:30"), channel="sms", language="fr", phone="+15875550177")
    run_at(local("2026-11-23T10:00"))
    [message] = sent()
    assert message["channel"] == "sms" and message["content_sid"] is None
    assert message["body"].startswith("Bonjour Fatima, ici Amal de Centre for Newcomers")
    assert m.MessageModel.query(client["client_id"]).next().body == message["body"]


def test_client_who_wrote_recently_gets_no_follow_up_and_is_rescheduled(http, agency):
    client = open_file(http, agency, local("2026-11-16T11:00"))
    set_client(client["client_id"], last_inbound_at=local("2026-11-20T15:00").astimezone(UTC))
    times = run_every_quarter_hour(local("2026-11-24T09:45"), local("2026-11-24T11:00"))
    assert times == []
    r = http.call("GET", f"/clients/{client['client_id']}", agency["amal"])
    assert r.json["next_followup_at"] == "2026-11-30T10:00:00-06:00"  # a week after Friday 15:00


def test_follow_up_due_at_the_weekend_goes_on_monday(http, agency):
    client = open_file(http, agency, local("2026-11-06T14:00"))  # Friday
    assert client["next_followup_at"] == "2026-11-16T10:00:00-06:00"
    times = run_every_quarter_hour(local("2026-11-13T09:00"), local("2026-11-16T12:00"))
    assert [wall(t) for t in times] == ["Mon 2026-11-16 10:00"]


def test_follow_up_due_on_a_holiday_goes_the_next_business_day(http, agency):
    client = open_file(http, agency, local("2026-11-04T09:30"))  # due Wed 11 Nov, Remembrance Day (AB)
    assert client["next_followup_at"] == "2026-11-12T10:00:00-06:00"
    times = run_every_quarter_hour(local("2026-11-11T08:00"), local("2026-11-12T12:00"))
    assert [wall(t) for t in times] == ["Thu 2026-11-12 10:00"]


def test_unreachable_clients_get_nothing(http, agency):
    at = local("2026-11-16T11:00")
    unconsented = open_file(http, agency, at, phone="+15875550001", consent=False)
    opted_out = open_file(http, agency, at, phone="+15875550002")
    suspended = open_file(http, agency, at, phone="+15875550003")
    closed = open_file(http, agency, at, phone="+15875550004")
    with time_machine.travel(local("2026-11-17T11:00"), tick=False):
        set_client(opted_out["client_id"], opted_out=True)  # as the inbound STOP records it
        for client, status in ((suspended, "suspended"), (closed, "closed")):
            r = http.call("PUT", f"/clients/{client['client_id']}/status", agency["amal"],
                          {"status": status, "reason": "conduct", "conduct": True})
            assert r.status_code == 200, r.body
            assert r.json["next_followup_at"] is None

    assert unconsented["next_followup_at"] is None
    assert run_every_quarter_hour(local("2026-11-24T09:45"), local("2026-11-24T11:00")) == []
    # The opted-out file found due is taken out of every index, so later runs do not read it again.
    item = m.ClientModel.get(opted_out["client_id"])
    assert item.followup_agency is None and item.checkin_agency is None and item.survey_agency is None


# -- nothing twice ---------------------------------------------------------------------------------


def test_runs_repeated_in_the_same_minute_and_the_next_hour_send_once(http, agency):
    open_file(http, agency, local("2026-11-16T09:00"))
    for at in ("2026-11-23T10:05", "2026-11-23T10:05", "2026-11-23T10:05:30", "2026-11-23T11:05"):
        run_at(local(at))
    assert len(sent()) == 1
    assert len(audit("followup.sent")) == 1


def test_a_lost_schedule_write_cannot_send_the_week_twice(http, agency):
    client = open_file(http, agency, local("2026-11-16T09:00"))
    run_at(local("2026-11-23T10:05"))
    # Pretend the file still says "due" (e.g. restored from a backup): the week's claim holds.
    set_client(client["client_id"], next_followup_at=local("2026-11-23T10:00").astimezone(UTC),
               last_outbound_at=local("2026-11-10T10:00").astimezone(UTC))
    summary = run_at(local("2026-11-23T14:00"))
    assert summary.get("already_sent") == 1
    assert len(sent()) == 1
    r = http.call("GET", f"/clients/{client['client_id']}", agency["amal"])
    assert r.json["next_followup_at"] == "2026-11-30T10:00:00-06:00"


def test_transient_twilio_failure_leaves_the_message_due_for_retry_and_sends_nothing_twice(http, agency,
                                                                                         monkeypatch):
    client = open_file(http, agency, local("2026-11-16T09:00"))
    gateway = bootstrap.container().gateway

    def busy(message):
        raise TransientSendError("twilio answered 503", "20503")

    monkeypatch.setattr(gateway, "send", busy)
    summary = run_at(local("2026-11-23T10:05"))
    assert summary == {"retry": 1}
    [filed] = list(m.MessageModel.query(client["client_id"]))
    assert filed.status == "queued" and filed.due_agency == "calgary-cfn" and filed.error_code == "20503"
    assert filed.due_at == local("2026-11-23T10:10").astimezone(UTC)
    monkeypatch.undo()
    run_at(local("2026-11-23T10:20"))
    assert sent() == []  # the retry belongs to the outbound sweep; the run never re-creates it


# -- check-ins, surveys, WhatsApp window -----------------------------------------------------------


def test_monthly_check_in_reaches_an_active_client_as_free_text_inside_the_whatsapp_window(http, agency):
    client = open_file(http, agency, local("2026-11-16T09:30"))
    assert client["next_checkin_at"] == "2026-12-16T10:00:00-06:00"
    set_client(client["client_id"], last_inbound_at=local("2026-12-16T09:00").astimezone(UTC))
    run_at(local("2026-12-16T10:15"))
    [message] = sent()
    assert message["content_sid"] is None and "للمتابعة الشهرية" in message["body"]
    assert [e.details.as_dict()["kind"] for e in audit("followup.sent")] == ["checkin"]
    r = http.call("GET", f"/clients/{client['client_id']}", agency["amal"])
    assert r.json["next_checkin_at"] == "2027-01-18T10:00:00-06:00"  # 16 January 2027 is a Saturday


def test_survey_goes_on_its_cadence_and_records_when(http, agency):
    client = open_file(http, agency, local("2026-11-16T09:30"), channel="sms", language="en", phone="+15875550188")
    set_client(client["client_id"], next_survey_at=local("2026-11-18T10:00").astimezone(UTC),
               last_inbound_at=local("2026-11-17T16:00").astimezone(UTC))
    run_at(local("2026-11-18T10:30"))
    [message] = sent()
    assert "reply with one number from 1 to 5" in message["body"]
    item = m.ClientModel.get(client["client_id"])
    assert item.last_survey_at == local("2026-11-18T10:30").astimezone(UTC)
    assert item.next_survey_at == local("2027-02-16T10:00").astimezone(UTC)
    assert [e.details.as_dict()["kind"] for e in audit("followup.sent")] == ["survey"]


@pytest.fixture
def policies_without_whatsapp_templates(tmp_path, monkeypatch):
    folder = tmp_path / "policies"
    shutil.copytree(ROOT / "policies", folder)
    data = json.loads((folder / "calgary-cfn.json").read_text(encoding="utf-8"))
    del data["whatsapp_templates"]
    (folder / "calgary-cfn.json").write_text(json.dumps(data), encoding="utf-8")
    monkeypatch.setenv("CMDM_POLICY_DIR", str(folder))
    bootstrap.reset()


def test_whatsapp_client_outside_the_window_without_a_template_is_skipped_with_a_reason(
        http, agency, policies_without_whatsapp_templates):
    client = open_file(http, agency, local("2026-11-16T09:00"))
    summary = run_at(local("2026-11-23T10:05"))
    assert summary == {"whatsapp_window_closed": 1}
    assert sent() == []
    [skipped] = audit("followup.skipped")
    assert skipped.details.as_dict() == {"kind": "followup", "reason": "whatsapp_window_closed"}
    # The week is skipped, not retried every quarter of an hour.
    r = http.call("GET", f"/clients/{client['client_id']}", agency["amal"])
    assert r.json["next_followup_at"] == "2026-11-30T10:00:00-06:00"
    assert run_at(local("2026-11-23T10:20")) == {}


# -- scale ------------------------------------------------------------------------------------------

READS = {"GetItem", "Query", "BatchGetItem", "Scan", "TransactGetItems"}


@pytest.fixture
def dynamo_calls(monkeypatch):
    """Every DynamoDB operation PynamoDB makes, by name."""
    from pynamodb.connection.base import Connection

    calls: Counter[str] = Counter()
    original = Connection._make_api_call

    def counting(self, operation_name, operation_kwargs):
        calls[operation_name] += 1
        return original(self, operation_name, operation_kwargs)

    monkeypatch.setattr(Connection, "_make_api_call", counting)
    return calls


def _bulk_clients(count: int, due: int, prefix: str) -> None:
    """``count`` consented SMS files of amal's, ``due`` of them due a follow-up at Monday 10:00."""
    created = local("2026-10-01T10:00").astimezone(UTC)
    due_at = local("2026-11-23T10:00").astimezone(UTC)
    later = local("2027-06-01T10:00").astimezone(UTC)
    with m.ClientModel.batch_write() as batch:
        for i in range(count):
            batch.save(m.ClientModel(
                client_id=f"cl_{prefix}{i:05d}", agency_id="calgary-cfn", case_manager_id="amal",
                agency_staff="calgary-cfn#amal", phone=f"+1587556{i:04d}", channel="sms", language="en",
                name="Client", status="active", created_at=created, created_by="amal",
                consent=m.ConsentMap(state="given", channels=["sms"], recorded_at=created, signed_at=created),
                followup_agency="calgary-cfn", next_followup_at=due_at if i < due else later,
                checkin_agency="calgary-cfn", next_checkin_at=later,
                survey_agency="calgary-cfn", next_survey_at=later, version=1,
            ))


def test_reads_grow_with_due_clients_not_with_all_clients(agency, dynamo_calls):
    _bulk_clients(10, 10, "a")
    dynamo_calls.clear()
    assert run_at(local("2026-11-23T10:05")) == {"sent": 10}
    small = sum(n for op, n in dynamo_calls.items() if op in READS)

    _bulk_clients(1000, 10, "b")  # a thousand more files, ten of them due
    dynamo_calls.clear()
    assert run_at(local("2026-11-23T10:20")) == {"sent": 10}
    large = sum(n for op, n in dynamo_calls.items() if op in READS)

    assert dynamo_calls["Scan"] == 0
    assert large == small  # the 990 files not due cost nothing
    # One GetItem per due file, three index queries per open agency (three policies, all open at this
    # hour), the worker's name and numbers once.
    assert small <= 10 + 3 * 3 + 2


# -- fan-out through SQS ------------------------------------------------------------------------------


def test_large_agencies_fan_out_through_sqs_and_the_worker_sends(http, agency, monkeypatch):
    sqs = boto3.client("sqs", region_name="ca-central-1")
    url = sqs.create_queue(QueueName="cmdm-test-followups")["QueueUrl"]
    monkeypatch.setenv("CMDM_FOLLOWUP_QUEUE_URL", url)
    bootstrap.reset()
    _bulk_clients(30, 30, "q")

    assert run_at(local("2026-11-23T10:05")) == {"queued": 30}
    assert sent() == []
    bodies = []
    # Read the queue at the travelled time too: moto drops messages older than the queue's
    # retention (4 days) measured against the clock at the read, not at the send.
    with time_machine.travel(local("2026-11-23T10:05:30"), tick=False):
        while True:
            got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
            if not got:
                break
            bodies.extend(msg["Body"] for msg in got)
    assert sorted(len(json.loads(b)["client_ids"]) for b in bodies) == [5, 25]

    with time_machine.travel(local("2026-11-23T10:06"), tick=False):
        for body in bodies:
            event = http.client.events.generate_sqs_event(message_bodies=[body], queue_name="cmdm-test-followups")
            response = http.client.lambda_.invoke("followup_worker", event)
            assert "sent" in response.payload
        # A redelivered batch sends nothing again.
        event = http.client.events.generate_sqs_event(message_bodies=[bodies[0]], queue_name="cmdm-test-followups")
        again = http.client.lambda_.invoke("followup_worker", event).payload
    assert len(sent()) == 30
    assert "sent" not in again


def test_queued_batch_arriving_after_closing_sends_nothing(http, agency):
    _bulk_clients(3, 3, "c")
    body = json.dumps({"agency_id": "calgary-cfn", "client_ids": ["cl_c00000", "cl_c00001", "cl_c00002"]})
    with time_machine.travel(local("2026-11-23T17:30"), tick=False):
        event = http.client.events.generate_sqs_event(message_bodies=[body, "not json"])
        payload = http.client.lambda_.invoke("followup_worker", event).payload
    assert payload == {"closed": 3, "malformed": 1}
    assert sent() == []


def test_permanent_twilio_refusal_marks_the_message_failed_and_not_due(http, agency, monkeypatch):
    from chalicelib.adapters.twilio_gateway import PermanentSendError

    client = open_file(http, agency, local("2026-11-16T09:00"))

    def refused(message):
        raise PermanentSendError("twilio refused the message (400)", "21610")

    monkeypatch.setattr(bootstrap.container().gateway, "send", refused)
    assert run_at(local("2026-11-23T10:05")) == {"failed": 1}
    [filed] = list(m.MessageModel.query(client["client_id"]))
    assert filed.status == "failed" and filed.error_code == "21610" and filed.due_at is None


def test_survey_score_lands_on_the_surveys_follow_up_row(http, agency):
    client = open_file(http, agency, local("2026-11-16T09:30"), channel="sms", phone="+15875550189")
    set_client(client["client_id"], next_survey_at=local("2026-11-18T10:00").astimezone(UTC),
               last_inbound_at=local("2026-11-17T16:00").astimezone(UTC))
    run_at(local("2026-11-18T10:30"))
    item = m.ClientModel.get(client["client_id"])
    replied = local("2026-11-18T11:00").astimezone(UTC)
    with bootstrap.container().uow() as uow:
        assert uow.followups.exists("calgary-cfn", "amal", client["client_id"], item.last_survey_at)
        uow.followups.score("calgary-cfn", "amal", client["client_id"], item.last_survey_at, 5, replied)
        uow.commit()
    [row] = list(m.FollowupModel.query("calgary-cfn#amal"))
    assert row.score == 5 and row.kind == "survey" and row.replied_at == replied
    assert not bootstrap.container().uow().followups.exists("calgary-cfn", "amal", client["client_id"], replied)
