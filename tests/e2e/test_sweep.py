"""sweep_clocks through the API and the job: releases, breaches, escalation, idempotence (issue 4)."""

from __future__ import annotations

from datetime import datetime, timedelta

import time_machine

from chalicelib.adapters import models as m
from chalicelib.domain.messages import MessageRef
from tests.conftest import auth, new_client
from tests.e2e.outbound_helpers import at, audit, inquiry, messages, open_inquiry, outbox, sweep, use_gateway

FRIDAY_EVENING = "2026-02-06T18:30:00-07:00"
MONDAY_9 = "2026-02-09T09:00:00-07:00"


def test_a_sweep_at_exactly_the_due_time_breaches_nothing_and_one_a_moment_later_does(http, agency):
    """The sweep's side of the clock-edge rule (domain.inquiry.past_due): due_at is still on time."""
    with time_machine.travel(at("2026-02-10T10:00:00-07:00"), tick=False) as traveller:
        client = new_client(http, agency["amal"], channel="sms")
        opened = at("2026-02-10T10:00:00-07:00")
        due = opened + timedelta(hours=24)
        inquiry_id = open_inquiry(client["client_id"], opened_at=opened, due_at=due)
        traveller.move_to(due)
        assert "breached" not in sweep()
        assert inquiry(inquiry_id).status == "open"
        traveller.move_to(due + timedelta(seconds=1))
        assert sweep().get("breached") == 1
        assert inquiry(inquiry_id).status == "breached"


def test_breach_is_recorded_once_and_escalated_to_every_supervisor(http, agency):
    http.call("PUT", "/staff/sup-omar", agency["admin"], {"role": "supervisor", "name": "Omar"})
    with time_machine.travel(at("2026-02-10T10:00:00-07:00"), tick=False) as traveller:
        client = new_client(http, agency["amal"], channel="sms")
        opened = at("2026-02-10T10:00:00-07:00")
        inquiry_id = open_inquiry(client["client_id"], opened_at=opened, due_at=opened + timedelta(hours=24))

        traveller.move_to(opened + timedelta(hours=24) - timedelta(minutes=1))
        assert "breached" not in sweep()
        assert inquiry(inquiry_id).status == "open"

        traveller.move_to(opened + timedelta(hours=24, minutes=3))
        assert sweep().get("breached") == 1
        assert sweep().get("breached") is None, "the second run of the same minute changes nothing"
        traveller.move_to(opened + timedelta(hours=30))
        assert sweep().get("breached") is None

        row = inquiry(inquiry_id)
        assert row.status == "breached" and row.breached_at == opened + timedelta(hours=24, minutes=3)
        assert row.agency_status == "calgary-cfn#breached" and row.staff_status == "calgary-cfn#amal#breached"
        [breach] = audit("inquiry.breached")
        assert breach.details["inquiry_id"] == inquiry_id and breach.client_id == client["client_id"]
        assert breach.agency_staff == "calgary-cfn#amal"
        [escalation] = audit("inquiry.escalated")
        assert list(escalation.details["to"]) == ["sup-maria", "sup-omar"]
        for supervisor in ("sup-maria", "sup-omar"):
            notes = http.call("GET", "/notifications", auth(supervisor, "supervisor")).json["notifications"]
            assert [(n["type"], n["inquiry_id"]) for n in notes] == [("breach", inquiry_id)]
        assert http.call("GET", "/notifications", agency["amal"]).json["notifications"] == []

        breached = http.call("GET", "/inquiries?status=breached", agency["supervisor"]).json["inquiries"]
        assert [i["id"] for i in breached] == [inquiry_id]
        assert http.call("GET", "/inquiries?status=open", agency["supervisor"]).json["inquiries"] == []

        # Answering it later records the late answer.
        r = http.call("POST", f"/clients/{client['client_id']}/messages", agency["amal"], {"body": "Sorry for the wait"})
        assert r.status_code == 201
        row = inquiry(inquiry_id)
        assert row.status == "answered" and row.answered_late is True


def test_double_sweep_sends_nothing_twice(http, agency):
    with time_machine.travel(at(FRIDAY_EVENING), tick=False) as traveller:
        clients = [new_client(http, agency["amal"], channel="sms", phone=f"+1587555012{i}") for i in range(3)]
        for c in clients:
            assert http.call("POST", f"/clients/{c['client_id']}/messages", agency["amal"],
                             {"body": "Monday news"}).status_code == 202
        traveller.move_to(at(MONDAY_9) + timedelta(seconds=30))
        assert sweep().get("sent") == 3
        assert sweep() == {}
        traveller.move_to(at(MONDAY_9) + timedelta(minutes=5))
        assert sweep() == {}
        assert len(outbox()) == 3
        assert sorted(o["to"] for o in outbox()) == sorted(c["phone"] for c in clients)
        assert len(audit("staff_message.released")) == 3


def test_a_message_claimed_by_another_sweep_is_not_sent_again(http, agency):
    """Two sweeps read the same held message; only the one whose claim lands sends it."""
    from chalicelib import bootstrap

    with time_machine.travel(at(FRIDAY_EVENING), tick=False) as traveller:
        client = new_client(http, agency["amal"], channel="sms")
        http.call("POST", f"/clients/{client['client_id']}/messages", agency["amal"], {"body": "hello"})
        traveller.move_to(at(MONDAY_9) + timedelta(minutes=1))
        [item] = messages(client["client_id"])
        messaging = bootstrap.container().messaging
        outbound = bootstrap.container().uow().messages
        ref = MessageRef(item.client_id, item.message_id, item.at)
        stale = outbound.get(ref)
        assert messaging.release(ref, at(MONDAY_9) + timedelta(minutes=1)) == "sent"
        # A slower sweep that read the message before the first one claimed it loses its claim.
        assert outbound.claim(stale, at(MONDAY_9) + timedelta(minutes=6), "+15873550101") is None
        assert len(outbox()) == 1


def test_held_message_is_not_released_early_by_a_sweep_on_a_holiday_weekend(http, agency):
    # Friday 2026-02-13, then Monday 2026-02-16 is Family Day in Alberta: held until Tuesday 9:00.
    with time_machine.travel(at("2026-02-13T17:30:00-07:00"), tick=False) as traveller:
        client = new_client(http, agency["amal"], channel="sms")
        r = http.call("POST", f"/clients/{client['client_id']}/messages", agency["amal"], {"body": "after the long weekend"})
        assert r.status_code == 202 and r.json["send_at"] == "2026-02-17T09:00:00-07:00"
        traveller.move_to(at("2026-02-16T09:30:00-07:00"))
        sweep()
        assert outbox() == []
        traveller.move_to(at("2026-02-17T09:00:00-07:00"))
        sweep()
        assert len(outbox()) == 1


def test_worker_lists_own_inquiries_soonest_due_first_and_supervisor_sees_the_agency(http, agency):
    with time_machine.travel(at("2026-02-10T10:00:00-07:00"), tick=False):
        a1 = new_client(http, agency["amal"], channel="sms", phone="+15875550131")
        a2 = new_client(http, agency["amal"], channel="sms", phone="+15875550132")
        j1 = new_client(http, agency["jean"], channel="sms", phone="+15875550133", manager="jean")
        now = at("2026-02-10T10:00:00-07:00")
        late = open_inquiry(a1["client_id"], opened_at=now - timedelta(hours=1), due_at=now + timedelta(hours=23))
        soon = open_inquiry(a2["client_id"], opened_at=now - timedelta(hours=20), due_at=now + timedelta(hours=4))
        jeans = open_inquiry(j1["client_id"], opened_at=now, due_at=now + timedelta(hours=24), staff_id="jean")

        r = http.call("GET", "/inquiries?status=open", agency["amal"])
        assert r.status_code == 200
        got = r.json["inquiries"]
        assert [i["id"] for i in got] == [soon, late]
        assert set(got[0]) >= {"id", "client_id", "opened_at", "due_at", "status", "answered_at"}
        assert got[0]["due_at"] == "2026-02-10T14:00:00-07:00" and got[0]["answered_at"] is None
        assert [i["id"] for i in http.call("GET", "/inquiries", agency["jean"]).json["inquiries"]] == [jeans]
        sup = http.call("GET", "/inquiries?status=open", agency["supervisor"]).json["inquiries"]
        assert [i["id"] for i in sup] == [soon, late, jeans]
        admin = http.call("GET", "/inquiries?status=open", agency["admin"]).json["inquiries"]
        assert len(admin) == 3

        http.call("POST", f"/clients/{a2['client_id']}/messages", agency["amal"], {"body": "on it"})
        answered = http.call("GET", "/inquiries?status=answered", agency["amal"]).json["inquiries"]
        assert [(i["id"], i["status"]) for i in answered] == [(soon, "answered")]
        assert answered[0]["answered_at"] == "2026-02-10T10:00:00-07:00"

        r = http.call("GET", "/inquiries?status=closed", agency["amal"])
        assert r.status_code == 400 and r.json["error"]["field"] == "status"
        assert http.call("GET", "/inquiries").status_code == 401


def test_transient_failures_back_off_then_send_once(http, agency):
    from chalicelib.adapters.twilio_gateway import SendResult, TransientSendError

    class Flaky:
        def __init__(self) -> None:
            self.calls = 0
            self.sent: list = []

        def send(self, message):
            self.calls += 1
            if self.calls <= 2:
                raise TransientSendError("busy", "20429")
            self.sent.append(message)
            return SendResult(sid="SM" + "f" * 32, status="queued")

    with time_machine.travel(at("2026-02-10T10:00:00-07:00"), tick=False) as traveller:
        client = new_client(http, agency["amal"], channel="sms")
        flaky = Flaky()
        use_gateway(flaky)
        r = http.call("POST", f"/clients/{client['client_id']}/messages", agency["amal"], {"body": "hello"})
        assert r.status_code == 201 and r.json["status"] == "queued"
        [item] = messages(client["client_id"])
        assert item.status == "queued" and item.attempts == 1
        assert item.due_at == at("2026-02-10T10:01:00-07:00")

        assert sweep() == {}, "not before the backoff"
        traveller.move_to(at("2026-02-10T10:01:00-07:00"))
        assert sweep() == {"queued": 1}
        [item] = messages(client["client_id"])
        assert item.attempts == 2 and item.due_at == at("2026-02-10T10:03:00-07:00")
        traveller.move_to(at("2026-02-10T10:03:00-07:00"))
        assert sweep() == {"sent": 1}
        assert sweep() == {}
        [item] = messages(client["client_id"])
        assert item.status == "sent" and item.attempts == 3 and item.due_at is None
        assert flaky.calls == 3 and len(flaky.sent) == 1
        assert audit("staff_message.released") == [], "an immediate message is not a released held one"


def test_permanent_failure_records_twilios_error_code(http, agency):
    from chalicelib.adapters.twilio_gateway import PermanentSendError

    class Refusing:
        def send(self, message):
            raise PermanentSendError("unsubscribed", "21610")

    with time_machine.travel(at("2026-02-10T10:00:00-07:00"), tick=False):
        client = new_client(http, agency["amal"], channel="sms")
        use_gateway(Refusing())
        r = http.call("POST", f"/clients/{client['client_id']}/messages", agency["amal"], {"body": "hello"})
        assert r.status_code == 201 and r.json["status"] == "failed" and r.json["error_code"] == "21610"
        [item] = messages(client["client_id"])
        assert item.status == "failed" and item.error_code == "21610" and item.due_agency is None
        [failed] = audit("staff_message.failed")
        assert failed.details["error_code"] == "21610"
        assert sweep() == {}


def test_a_message_stuck_sending_is_reported_failed_not_sent_again(http, agency):
    from chalicelib.adapters.twilio_gateway import OutboxGateway

    class Crashing:
        def send(self, message):
            raise RuntimeError("the process died mid-send")

    with time_machine.travel(at("2026-02-10T10:00:00-07:00"), tick=False) as traveller:
        client = new_client(http, agency["amal"], channel="sms")
        use_gateway(Crashing())
        r = http.call("POST", f"/clients/{client['client_id']}/messages", agency["amal"], {"body": "hello"})
        assert r.status_code == 500
        use_gateway(OutboxGateway())
        traveller.move_to(at("2026-02-10T10:02:00-07:00"))
        assert sweep() == {}, "the sender may still be working on it"
        traveller.move_to(at("2026-02-10T10:06:00-07:00"))
        assert sweep() == {"failed": 1}
        assert outbox() == []
        [item] = messages(client["client_id"])
        assert item.status == "failed" and item.error_code == "delivery_unknown"


def test_sweep_with_nothing_due_reads_only_indexes(http, agency):
    from tests.fault_helpers import DynamoTap

    with DynamoTap() as tap:
        assert sweep() == {}
    assert all(c.operation == "Query" for c in tap.calls)
    assert m.MessageModel.Meta.table_name in {t for c in tap.calls for t in c.tables}


def test_a_client_message_arriving_while_staff_send_is_not_lost_and_nothing_is_doubled(http, agency):
    """The file changes between our read and our write (an inbound message): re-read, write once."""
    from tests.fault_helpers import DynamoTap, matching

    with time_machine.travel(at("2026-02-10T10:00:00-07:00"), tick=False):
        client = new_client(http, agency["amal"], channel="sms")
        opened = at("2026-02-10T09:00:00-07:00")
        inquiry_id = open_inquiry(client["client_id"], opened_at=opened, due_at=opened + timedelta(hours=24))
        later = at("2026-02-10T09:59:00-07:00")

        def inbound_meanwhile() -> None:
            m.ClientModel.get(client["client_id"]).update(actions=[m.ClientModel.last_inbound_at.set(later)])

        with DynamoTap() as tap:
            tap.before(1, inbound_meanwhile, match=matching("TransactWriteItems"))
            r = http.call("POST", f"/clients/{client['client_id']}/messages", agency["amal"], {"body": "hi"})
        assert tap.fired and r.status_code == 201, r.body
        assert tap.by_operation()["TransactWriteItems"] == 2
        assert len(messages(client["client_id"])) == 1 and len(outbox()) == 1
        row = m.ClientModel.get(client["client_id"], consistent_read=True)
        assert row.last_inbound_at == later and row.open_inquiry_id is None
        assert inquiry(inquiry_id).status == "answered"
        assert len(audit("staff_message.sent")) == 1 and len(audit("inquiry.answered")) == 1


def test_a_breach_racing_an_answer_is_recorded_once_or_not_at_all(http, agency):
    with time_machine.travel(at("2026-02-11T10:00:00-07:00"), tick=False):
        client = new_client(http, agency["amal"], channel="sms")
        opened = at("2026-02-10T09:00:00-07:00")
        inquiry_id = open_inquiry(client["client_id"], opened_at=opened, due_at=opened + timedelta(hours=24))
        from chalicelib import bootstrap

        [stale] = list(bootstrap.container().uow().inquiries.open_due("calgary-cfn", at("2026-02-11T10:00:00-07:00")))
        assert http.call("POST", f"/clients/{client['client_id']}/messages", agency["amal"],
                         {"body": "hi"}).status_code == 201
        # A sweep that read the inquiry before the answer landed must not mark it breached.
        assert bootstrap.container().sweep._breach(stale, at("2026-02-11T10:00:00-07:00"), []) is False
        assert inquiry(inquiry_id).status == "answered"
        assert sweep() == {}


# --- automated messages share the due index (follow-ups, issue 5) ---------------------------------


def _automated(client_id: str, *, status: str, due: datetime, kind: str = "followup") -> str:
    from chalicelib.adapters.keys import sort_key
    from chalicelib.domain.audit import new_id

    message_id = new_id("msg")
    sent_at = due - timedelta(minutes=10)
    m.MessageModel(
        client_id=client_id, sk=sort_key(sent_at, message_id), message_id=message_id, agency_id="calgary-cfn",
        direction="outbound", kind=kind, body="How are you doing this week?", at=sent_at, status=status,
        channel="sms", staff_id="amal", from_number="+15873550101", attempts=1,
        due_agency="calgary-cfn", due_at=due,
    ).save()
    return message_id


def test_sweep_retries_a_queued_follow_up_without_touching_the_inquiry(http, agency):
    with time_machine.travel(at("2026-02-10T10:20:00-07:00"), tick=False):
        client = new_client(http, agency["amal"], channel="sms")
        opened = at("2026-02-10T09:00:00-07:00")
        inquiry_id = open_inquiry(client["client_id"], opened_at=opened, due_at=opened + timedelta(hours=24))
        _automated(client["client_id"], status="queued", due=at("2026-02-10T10:15:00-07:00"))
        assert sweep() == {"sent": 1}
        assert sweep() == {}
        [out] = outbox()
        assert out["body"] == "How are you doing this week?" and out["from_number"] == "+15873550101"
        assert inquiry(inquiry_id).status == "open", "automatic messages never answer an inquiry"
        assert audit("staff_message.sent") == [] and audit("staff_message.released") == []
        [item] = [i for i in messages(client["client_id"]) if i.kind == "followup"]
        assert item.status == "sent" and item.due_at is None


def test_a_follow_up_abandoned_while_sending_is_retried_but_a_staff_message_is_not(http, agency):
    with time_machine.travel(at("2026-02-10T10:20:00-07:00"), tick=False):
        client = new_client(http, agency["amal"], channel="sms")
        _automated(client["client_id"], status="sending", due=at("2026-02-10T10:10:00-07:00"))
        _automated(client["client_id"], status="sending", due=at("2026-02-10T10:30:00-07:00"), kind="checkin")
        assert sweep() == {"sent": 1}, "the abandoned follow-up goes; the check-in's lease is still running"
        assert len(outbox()) == 1


def test_a_follow_up_due_while_closed_waits_for_the_opening(http, agency):
    with time_machine.travel(at("2026-02-10T18:00:00-07:00"), tick=False) as traveller:
        client = new_client(http, agency["amal"], channel="sms")
        _automated(client["client_id"], status="queued", due=at("2026-02-10T17:05:00-07:00"))
        assert sweep() == {"rescheduled": 1}
        assert outbox() == []
        traveller.move_to(at("2026-02-11T09:00:00-07:00"))
        assert sweep() == {"sent": 1}


def test_a_message_finished_elsewhere_leaves_the_due_index(http, agency):
    with time_machine.travel(at("2026-02-10T10:20:00-07:00"), tick=False):
        client = new_client(http, agency["amal"], channel="sms")
        _automated(client["client_id"], status="delivered", due=at("2026-02-10T10:10:00-07:00"))
        assert sweep() == {"skipped": 1}
        assert sweep() == {}
        assert outbox() == []


def test_a_stop_arriving_while_staff_send_refuses_the_message(http, agency):
    from tests.fault_helpers import DynamoTap, matching

    with time_machine.travel(at("2026-02-10T10:00:00-07:00"), tick=False):
        client = new_client(http, agency["amal"], channel="sms")

        def stop_meanwhile() -> None:
            m.ClientModel.get(client["client_id"]).update(actions=[m.ClientModel.opted_out.set(True)])

        with DynamoTap() as tap:
            tap.before(1, stop_meanwhile, match=matching("TransactWriteItems"))
            r = http.call("POST", f"/clients/{client['client_id']}/messages", agency["amal"], {"body": "hi"})
        assert tap.fired and r.status_code == 409 and "opted out" in r.json["error"]["message"]
        assert messages(client["client_id"]) == [] and outbox() == []
        assert audit("staff_message.sent") == []


def test_a_sweep_out_of_time_leaves_the_rest_due_for_the_next_run(http, agency):
    from chalicelib import bootstrap
    from chalicelib.services.sweep import SweepService

    with time_machine.travel(at(FRIDAY_EVENING), tick=False) as traveller:
        client = new_client(http, agency["amal"], channel="sms")
        for _ in range(2):
            http.call("POST", f"/clients/{client['client_id']}/messages", agency["amal"], {"body": "Monday"})
        traveller.move_to(at(MONDAY_9))
        c = bootstrap.container()
        exhausted = SweepService(c.uow, c.messaging, c.policies, budget_seconds=-1)
        assert exhausted.run() == {"deferred": 2}
        assert outbox() == []
        assert sweep() == {"sent": 2}


def test_the_scheduled_handler_runs_the_sweep(http, agency):
    import app

    class Context:
        def get_remaining_time_in_millis(self) -> int:
            return 30_000

    with time_machine.travel(at(FRIDAY_EVENING), tick=False) as traveller:
        client = new_client(http, agency["amal"], channel="sms")
        http.call("POST", f"/clients/{client['client_id']}/messages", agency["amal"], {"body": "Monday"})
        traveller.move_to(at(MONDAY_9))
        event = {"version": "0", "id": "e1", "detail-type": "Scheduled Event", "source": "aws.events",
                 "account": "1", "time": "2026-02-09T16:00:00Z", "region": "ca-central-1", "resources": [],
                 "detail": {}}
        assert app.sweep_clocks(event, Context()) == {"sent": 1}
        assert app.sweep_clocks(event, None) == {}
        assert len(outbox()) == 1
