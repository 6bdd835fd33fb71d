"""Break each DynamoDB call of the inbound webhook in turn; Twilio's retry must file the message once.

The contract these tests pin down (issue 8):

- **Bad input** never gives a 5xx (see the fuzz suites). **An infrastructure failure may**: when a
  DynamoDB call still fails after botocore's own retries (a throttle, a cancelled transaction, a
  timeout), ``app.handled`` answers ``500`` with a JSON error and no content, and logs only the
  exception's type. We keep 500 rather than inventing a 503 + ``Retry-After``: Twilio does not
  retry an inbound-message webhook on its own and treats every 5xx and every timeout alike (it
  logs error 11200 and calls the number's ``sms_fallback_url`` if one is set), so a different 5xx
  code would buy nothing. Ways to get the retry: the fallback URL set to the same webhook
  (``chalicelib/numbers_setup.py`` does so for SMS numbers), or Twilio's connection overrides
  (``#rc=2&rp=5xx`` appended to the webhook URL; how they interact with the signature was not
  checked here); otherwise the failed delivery stays in Twilio's message log for a replay. Any
  retry is safe.
- **A retried delivery is filed exactly once.** The ``MessageSid`` claim is written in the same
  ``TransactWriteItems`` as the message, its automatic reply, the inquiry, the file's new version
  and the audit events. A failure before that transaction leaves no trace at all (the tables are
  byte-for-byte as before), so the retry files the message normally. A failure *after* the
  transaction (the answer was lost) leaves everything written, so the retry finds the claim and
  changes nothing.
- **Races** between two deliveries of the same ``MessageSid`` are settled by the claim's
  ``does_not_exist`` condition (the loser answers 200 with nothing filed); two different messages
  of one client do not conflict at all unless both would open the inquiry, claim the same
  automatic reply or score, or the file changed state (``clients_repository.filing_condition``): then
  the loser re-reads and files after the winner, joining the inquiry the winner opened.
- **What is "at most once"**: the automatic reply rides on the webhook's TwiML answer. If the
  answer of a committed delivery is lost, the retry is a duplicate and answers with no reply: the
  client may miss one after-hours notice, but is never sent two, and the file says exactly what was
  answered. The same holds for the intake reply's rate-limit claim.

Interleavings are made deterministic with ``DynamoTap.before`` (the other delivery commits just
before our transaction goes out) instead of racing threads against moto, which would pass by luck.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine

from tests.conftest import new_client
from tests.fault_helpers import THROTTLE, DynamoTap, all_items, matching
from tests.storage_dump import every_stored_text
from tests.twilio_helpers import file_sent_staff_message, inbound, sms_form, whatsapp_form

MESSAGE_FILED = "message.filed"
INQUIRY_OPENED = "inquiry.opened"
AUTO_REPLY_SENT = "auto_reply.sent"
MESSAGE_REFUSED = "message.refused"
INTAKE_REPLY_SENT = "intake_reply.sent"
CRISIS_ALERTED = "inquiry.crisis_alerted"
ON_CALL_NUMBER = "+14035550190"  # Calgary's policy: on_call_number
EDMONTON = ZoneInfo("America/Edmonton")
AMAL_NUMBER = "+15873550101"
FATIMA = "+15875550123"
STRANGER = "+15875550199"
IN_HOURS = "2026-11-23T10:00"
AFTER_HOURS = "2026-11-27T18:00"


def at(text: str) -> Any:
    return time_machine.travel(datetime.fromisoformat(text).replace(tzinfo=EDMONTON), tick=False)


@pytest.fixture
def fatima(http: Any, agency: dict[str, Any]) -> dict[str, Any]:
    with at("2026-11-20T10:00"):
        return new_client(http, agency["amal"])


def twiml_message(response: Any) -> str | None:
    body = response.body.decode() if isinstance(response.body, bytes) else response.body
    if "<Message>" not in body:
        return None
    return body.split("<Message>", 1)[1].split("</Message>", 1)[0]


def stored_messages(client_id: str) -> list[Any]:
    from chalicelib.adapters import models as m

    return list(m.MessageModel.query(client_id))


def audit_of(client_id: str) -> list[Any]:
    from chalicelib.adapters import models as m

    return [i for i in m.AuditModel.scan() if i.client_id == client_id]


def inquiries_of(client_id: str) -> list[Any]:
    from chalicelib.adapters import models as m

    return [i for i in m.InquiryModel.scan() if i.client_id == client_id]


def stored() -> list[str]:
    """Every stored item as text, sorted: equal before and after means nothing was written or changed."""
    return sorted(every_stored_text().split("\n"))


def details(event: Any) -> dict[str, Any]:
    value = event.details
    return dict(value.attribute_values if hasattr(value, "attribute_values") else value or {})


def filed_once(client_id: str, sid: str, body: str) -> Any:
    """The message with ``sid`` is in the file exactly once, with one MESSAGE_FILED event."""
    msgs = [i for i in stored_messages(client_id) if i.twilio_sid == sid]
    assert len(msgs) == 1, [i.body for i in stored_messages(client_id)]
    assert msgs[0].body == body
    filed = [e for e in audit_of(client_id)
             if e.type == MESSAGE_FILED and details(e).get("message_id") == msgs[0].message_id]
    assert len(filed) == 1
    return msgs[0]


def deliver_directly(form: dict[str, str]) -> None:
    """A second Lambda handling the same webhook: straight into the service, outside the tap."""
    from chalicelib import bootstrap
    from chalicelib.services.inbound import InboundForm

    bootstrap.container().inbound.receive(InboundForm.parse(form))


# The calls of the inbound path, in order, for a warm container (the work number is cached).
WARM_CALLS = [
    pytest.param(matching("GetItem", "contacts"), id="GetItem-contacts"),
    pytest.param(matching("GetItem", "clients"), id="GetItem-clients"),
    pytest.param(matching("TransactWriteItems"), id="TransactWriteItems"),
]


@pytest.mark.parametrize("when", [IN_HOURS, AFTER_HOURS], ids=["in-hours", "after-hours"])
@pytest.mark.parametrize("call", WARM_CALLS)
def test_throttled_call_writes_nothing_and_twilios_retry_files_the_message_once(
    api: Any, agency: Any, fatima: Any, call: Any, when: str
) -> None:
    client_id = fatima["client_id"]
    with at(when):
        inbound(api, sms_form(STRANGER, AMAL_NUMBER, "warm the number cache"))
        form = whatsapp_form(FATIMA, AMAL_NUMBER, "rent question")
        before = all_items()
        with DynamoTap().fail(1, THROTTLE, match=call) as tap:
            failed = inbound(api, form)
        assert tap.fired
        assert failed.status_code == 500
        assert json.loads(failed.body)["error"]["code"] == "internal"
        assert "rent question" not in failed.body.decode() if isinstance(failed.body, bytes) else True
        assert all_items() == before  # nothing half-written
        retried = inbound(api, form)
    assert retried.status_code == 200
    msg = filed_once(client_id, form["MessageSid"], "rent question")
    (inquiry,) = inquiries_of(client_id)
    assert msg.inquiry_id == inquiry.inquiry_id
    assert [e.type for e in audit_of(client_id)].count(INQUIRY_OPENED) == 1
    if when == AFTER_HOURS:
        assert twiml_message(retried) is not None
        replies = [i for i in stored_messages(client_id) if i.kind == "auto_reply"]
        assert len(replies) == 1
        assert [e.type for e in audit_of(client_id)].count(AUTO_REPLY_SENT) == 1


def test_cold_container_throttled_on_the_work_number_answers_500_and_files_on_retry(
    api: Any, agency: Any, fatima: Any
) -> None:
    from chalicelib import bootstrap

    form = whatsapp_form(FATIMA, AMAL_NUMBER, "cold start")
    with at(IN_HOURS):
        bootstrap.container().inbound.numbers.clear()
        before = all_items()
        with DynamoTap().fail(1, THROTTLE, match=matching("GetItem", "numbers")) as tap:
            assert inbound(api, form).status_code == 500
        assert tap.fired and all_items() == before
        assert inbound(api, form).status_code == 200
    filed_once(fatima["client_id"], form["MessageSid"], "cold start")


def test_transaction_cancelled_by_a_throttle_writes_nothing_and_the_retry_files_once(
    api: Any, agency: Any, fatima: Any
) -> None:
    form = whatsapp_form(FATIMA, AMAL_NUMBER, "throttled transaction")
    with at(IN_HOURS):
        before = all_items()
        with DynamoTap().fail(1, "TransactionCanceledException", match=matching("TransactWriteItems")) as tap:
            assert inbound(api, form).status_code == 500
        assert tap.fired and all_items() == before
        assert inbound(api, form).status_code == 200
    filed_once(fatima["client_id"], form["MessageSid"], "throttled transaction")


def test_transaction_conflict_with_another_transaction_is_retried_within_the_same_request(
    api: Any, agency: Any, fatima: Any
) -> None:
    form = whatsapp_form(FATIMA, AMAL_NUMBER, "conflicting transaction")
    with at(IN_HOURS):
        tap = DynamoTap().fail(1, "TransactionCanceledException", match=matching("TransactWriteItems"),
                               reasons=["TransactionConflict", "None", "None"])
        with tap:
            response = inbound(api, form)
        assert tap.fired
    assert response.status_code == 200
    assert [c.ok for c in tap.calls if c.operation == "TransactWriteItems"] == [False, True]
    filed_once(fatima["client_id"], form["MessageSid"], "conflicting transaction")


def test_answer_lost_after_commit_makes_the_retry_a_duplicate_and_nothing_is_filed_twice(
    api: Any, agency: Any, fatima: Any
) -> None:
    client_id = fatima["client_id"]
    form = whatsapp_form(FATIMA, AMAL_NUMBER, "after hours, answer lost")
    with at(AFTER_HOURS):
        with DynamoTap().lose_answer(1, match=matching("TransactWriteItems")) as tap:
            assert inbound(api, form).status_code == 500
        assert tap.fired
        after_commit = all_items()
        retried = inbound(api, form)
        assert all_items() == after_commit
    assert retried.status_code == 200 and twiml_message(retried) is None  # the reply is at most once
    filed_once(client_id, form["MessageSid"], "after hours, answer lost")
    assert len([i for i in stored_messages(client_id) if i.kind == "auto_reply"]) == 1
    assert len(inquiries_of(client_id)) == 1


def test_same_sid_delivered_twice_at_once_is_filed_once_and_the_loser_answers_200(
    api: Any, agency: Any, fatima: Any
) -> None:
    client_id = fatima["client_id"]
    form = whatsapp_form(FATIMA, AMAL_NUMBER, "sent once, delivered twice")
    with at(AFTER_HOURS):
        inbound(api, sms_form(STRANGER, AMAL_NUMBER, "warm"))
        tap = DynamoTap().before(1, lambda: deliver_directly(form), match=matching("TransactWriteItems"))
        with tap:
            loser = inbound(api, form)
        assert tap.fired
        cancelled = [c for c in tap.calls if c.operation == "TransactWriteItems"]
        assert [c.error for c in cancelled] == ["TransactionCanceledException"]  # the claim decided it
    assert loser.status_code == 200 and twiml_message(loser) is None
    filed_once(client_id, form["MessageSid"], "sent once, delivered twice")
    assert len([i for i in stored_messages(client_id) if i.kind == "auto_reply"]) == 1
    assert len(inquiries_of(client_id)) == 1
    assert [e.type for e in audit_of(client_id)].count(AUTO_REPLY_SENT) == 1


def test_two_messages_of_one_client_at_once_are_both_filed_into_one_inquiry(
    api: Any, agency: Any, fatima: Any
) -> None:
    client_id = fatima["client_id"]
    first = whatsapp_form(FATIMA, AMAL_NUMBER, "first half of my question")
    second = whatsapp_form(FATIMA, AMAL_NUMBER, "second half")
    with at(IN_HOURS):
        inbound(api, sms_form(STRANGER, AMAL_NUMBER, "warm"))
        # Our delivery of `second` read the file; `first` commits before our transaction goes out.
        tap = DynamoTap().before(1, lambda: deliver_directly(first), match=matching("TransactWriteItems"))
        with tap:
            r = inbound(api, second)
        assert tap.fired
    assert r.status_code == 200
    transactions = [c for c in tap.calls if c.operation == "TransactWriteItems"]
    assert [c.ok for c in transactions] == [False, True]  # lost on the file's version, re-read, filed
    one = filed_once(client_id, first["MessageSid"], "first half of my question")
    two = filed_once(client_id, second["MessageSid"], "second half")
    (inquiry,) = inquiries_of(client_id)
    assert one.inquiry_id == two.inquiry_id == inquiry.inquiry_id
    assert [e.type for e in audit_of(client_id)].count(INQUIRY_OPENED) == 1


def test_a_file_that_never_stops_moving_gives_up_with_500_and_leaves_nothing_behind(
    api: Any, agency: Any, fatima: Any
) -> None:
    form = whatsapp_form(FATIMA, AMAL_NUMBER, "unlucky")
    with at(IN_HOURS):
        inbound(api, sms_form(STRANGER, AMAL_NUMBER, "warm"))
        before = all_items()
        tap = DynamoTap()
        from chalicelib.services.retry import ATTEMPTS

        for nth in range(1, ATTEMPTS + 1):  # every attempt loses on the file's version
            tap.fail(nth, "TransactionCanceledException", match=matching("TransactWriteItems"),
                     reasons=["None", "ConditionalCheckFailed"])
        with tap:
            assert inbound(api, form).status_code == 500
        assert tap.fired and all_items() == before
        assert inbound(api, form).status_code == 200
    filed_once(fatima["client_id"], form["MessageSid"], "unlucky")


REFUSAL_CALLS = [
    pytest.param(matching("GetItem", "contacts"), id="GetItem-contacts"),
    pytest.param(matching("GetItem", "claims"), id="GetItem-intake-claim"),
    pytest.param(matching("TransactWriteItems"), id="TransactWriteItems"),
]


@pytest.mark.parametrize("call", REFUSAL_CALLS)
def test_a_refusal_and_its_intake_reply_commit_together_so_twilios_retry_refuses_once_and_replies(
    api: Any, agency: Any, call: Any
) -> None:
    """The refusal's audit, the MessageSid claim, the intake reply's claim and audit and the marker
    of what Twilio still holds are one unit of work: a failure leaves no claim to silence the retry."""
    from chalicelib.adapters import models as m

    form = sms_form(STRANGER, AMAL_NUMBER, "who is this? my secret is blue-heron-4242")
    with at(IN_HOURS):
        inbound(api, sms_form("+15875550198", AMAL_NUMBER, "warm"))
        before = stored()
        with DynamoTap().fail(1, THROTTLE, match=call) as tap:
            assert inbound(api, form).status_code == 500
        assert tap.fired and stored() == before  # nothing half-written
        retried = inbound(api, form)
        assert inbound(api, form).status_code == 200  # and once more: a duplicate, nothing new
    assert retried.status_code == 200 and twiml_message(retried) is not None  # the intake reply, at last
    types = [e.type for e in m.AuditModel.scan()]
    assert types.count(MESSAGE_REFUSED) == 2 and types.count(INTAKE_REPLY_SENT) == 2  # the warm-up and this one
    assert m.ClaimModel.get(f"twilio#{form['MessageSid']}").twilio_due_at is not None  # Twilio's copy, to clear
    texts = every_stored_text()
    assert "blue-heron" not in texts and STRANGER not in texts


def test_two_messages_of_one_unknown_sender_at_once_get_one_intake_reply(api: Any, agency: Any) -> None:
    from chalicelib.adapters import models as m

    first = sms_form(STRANGER, AMAL_NUMBER, "hello?")
    second = sms_form(STRANGER, AMAL_NUMBER, "anyone there?")
    with at(IN_HOURS):
        inbound(api, sms_form("+15875550198", AMAL_NUMBER, "warm"))
        # Ours read the intake claim free; the other one takes it just before our transaction goes out.
        tap = DynamoTap().before(1, lambda: deliver_directly(first), match=matching("TransactWriteItems"))
        with tap:
            ours = inbound(api, second)
        assert tap.fired
    assert ours.status_code == 200 and twiml_message(ours) is None  # lost on the claim, read again: silent
    assert [c.ok for c in tap.calls if c.operation == "TransactWriteItems"] == [False, True]
    types = [e.type for e in m.AuditModel.scan()]
    assert types.count(MESSAGE_REFUSED) == 3 and types.count(INTAKE_REPLY_SENT) == 2


# -- a crisis: the alert commits with the message ----------------------------------------------------


def crisis_alerts() -> tuple[list[Any], list[Any], list[dict[str, Any]]]:
    """The crisis notifications, the audit events of alerts and the SMS to Calgary's on-call number."""
    from chalicelib import bootstrap
    from chalicelib.adapters import models as m

    notes = [n for n in m.NotificationModel.scan() if n.type == "crisis"]
    alerted = [e for e in m.AuditModel.scan() if e.type == CRISIS_ALERTED]
    sms = [s for s in bootstrap.container().gateway.sent if s["to"] == ON_CALL_NUMBER]
    return notes, alerted, sms


@pytest.mark.parametrize("inquiry", ["opened-by-it", "already-open"])
def test_a_failed_crisis_notification_write_rolls_back_the_claim_so_twilios_retry_alerts(
    api: Any, agency: Any, fatima: Any, inquiry: str
) -> None:
    client_id = fatima["client_id"]
    if inquiry == "already-open":
        with at("2026-11-27T16:00"):  # Friday afternoon: the inquiry opens in hours
            inbound(api, whatsapp_form(FATIMA, AMAL_NUMBER, "about my lease"))
    form = whatsapp_form(FATIMA, AMAL_NUMBER, "he will kill me tonight")
    with at(AFTER_HOURS):
        before = stored()
        with DynamoTap().fail(1, "TransactionCanceledException",
                              match=matching("TransactWriteItems", "notifications")) as tap:
            assert inbound(api, form).status_code == 500
        assert tap.fired and stored() == before  # no claim, no mark, no message: all or nothing
        assert crisis_alerts() == ([], [], [])
        retried = inbound(api, form)
    assert retried.status_code == 200
    assert "911" in (twiml_message(retried) or "")  # the emergency line first
    notes, alerted, sms = crisis_alerts()
    assert [n.recipient for n in notes] == ["calgary-cfn#sup-maria"] and len(alerted) == 1 and len(sms) == 1
    assert "kill" not in notes[0].message and "kill" not in sms[0]["body"] and FATIMA not in sms[0]["body"]
    (marked,) = inquiries_of(client_id)
    assert marked.crisis is True and notes[0].inquiry_id == marked.inquiry_id
    filed_once(client_id, form["MessageSid"], "he will kill me tonight")


def test_two_crisis_messages_at_once_alert_the_on_call_person_once(api: Any, agency: Any, fatima: Any) -> None:
    first = whatsapp_form(FATIMA, AMAL_NUMBER, "he will kill me")
    second = whatsapp_form(FATIMA, AMAL_NUMBER, "not safe at home, please")
    with at(AFTER_HOURS):
        inbound(api, sms_form(STRANGER, AMAL_NUMBER, "warm"))
        tap = DynamoTap().before(1, lambda: deliver_directly(first), match=matching("TransactWriteItems"))
        with tap:
            ours = inbound(api, second)
        assert tap.fired
    assert ours.status_code == 200 and "911" in (twiml_message(ours) or "")  # the emergency line, always
    notes, alerted, sms = crisis_alerts()
    assert len(notes) == 1 and len(alerted) == 1 and len(sms) == 1
    filed_once(fatima["client_id"], first["MessageSid"], "he will kill me")
    filed_once(fatima["client_id"], second["MessageSid"], "not safe at home, please")


# -- status callbacks ------------------------------------------------------------------------------


STATUS_CALLS = [
    pytest.param(matching("Query", "messages"), id="Query-by_sid"),
    pytest.param(matching("GetItem", "messages"), id="GetItem-messages"),
    pytest.param(matching("TransactWriteItems"), id="TransactWriteItems"),
]


@pytest.mark.parametrize("call", STATUS_CALLS)
def test_throttled_status_callback_changes_nothing_and_its_retry_applies_once(
    api: Any, agency: Any, fatima: Any, call: Any
) -> None:
    from tests.twilio_helpers import new_sid, post, status_form

    sid = new_sid()
    file_sent_staff_message(fatima["client_id"], sid, message_id="msg_staff1")
    form = status_form(sid, "undelivered", "30003")
    before = all_items()
    with DynamoTap().fail(1, THROTTLE, match=call) as tap:
        assert post(api, "/webhooks/twilio/status", form).status_code == 500
    assert tap.fired and all_items() == before
    assert post(api, "/webhooks/twilio/status", form).status_code == 200
    assert post(api, "/webhooks/twilio/status", form).status_code == 200  # and once more: nothing new
    (msg,) = stored_messages(fatima["client_id"])
    assert msg.status == "undelivered" and msg.error_code == "30003"
    assert [e.type for e in audit_of(fatima["client_id"])].count("staff_message.failed") == 1


def answered_then_failed(api: Any, http: Any, agency: Any, client_id: str) -> tuple[str, str]:
    """Fatima asks, Amal answers (the inquiry is answered); returns the answer's SID and the inquiry's id."""
    from chalicelib import bootstrap

    with at(IN_HOURS):
        inbound(api, whatsapp_form(FATIMA, AMAL_NUMBER, "did my papers arrive?"))
        r = http.call("POST", f"/clients/{client_id}/messages", agency["amal"], {"body": "Yes, today."})
        assert r.status_code == 201 and r.json["inquiry_answered"], r.body
    return bootstrap.container().gateway.sent[-1]["sid"], r.json["inquiry_answered"]


STATUS_WRITE_CALLS = [
    pytest.param(matching("GetItem", "clients"), id="GetItem-clients"),
    pytest.param(matching("GetItem", "inquiries"), id="GetItem-inquiries"),
    pytest.param(matching("TransactWriteItems"), id="TransactWriteItems"),
]


@pytest.mark.parametrize("call", STATUS_WRITE_CALLS)
def test_a_failed_deliverys_status_reopening_and_opt_out_are_all_or_nothing(
    api: Any, http: Any, agency: Any, fatima: Any, call: Any
) -> None:
    """Error 21610 on a staff message that answered an inquiry: the status, its audit, the opt-out,
    the reopened inquiry and the author's notice are one unit of work; Twilio's retry does it whole."""
    from chalicelib.adapters import models as m
    from tests.twilio_helpers import post, status_form

    client_id = fatima["client_id"]
    sid, inquiry_id = answered_then_failed(api, http, agency, client_id)
    form = status_form(sid, "failed", "21610")
    with at("2026-11-23T10:05"):
        before = stored()
        with DynamoTap().fail(1, THROTTLE, match=call) as tap:
            assert post(api, "/webhooks/twilio/status", form).status_code == 500
        assert tap.fired and stored() == before  # not the status alone, nor the opt-out alone
        assert post(api, "/webhooks/twilio/status", form).status_code == 200
        assert post(api, "/webhooks/twilio/status", form).status_code == 200  # and once more: nothing new
    (sent,) = [i for i in stored_messages(client_id) if i.twilio_sid == sid]
    assert sent.status == "failed" and sent.error_code == "21610"
    client = m.ClientModel.get(client_id)
    assert client.opted_out is True and client.open_inquiry_id == inquiry_id
    (inquiry,) = inquiries_of(client_id)
    assert inquiry.status == "open" and inquiry.answered_at is None
    types = [e.type for e in audit_of(client_id)]
    assert [types.count(t) for t in ("staff_message.failed", "client.opted_out", "inquiry.reopened")] == [1, 1, 1]
    assert len([n for n in m.NotificationModel.scan() if n.type == "delivery_failed"]) == 1


def test_a_status_callback_that_keeps_conflicting_answers_500_and_leaves_nothing_behind(
    api: Any, http: Any, agency: Any, fatima: Any
) -> None:
    from chalicelib.services.retry import ATTEMPTS
    from tests.twilio_helpers import post, status_form

    sid, _inquiry = answered_then_failed(api, http, agency, fatima["client_id"])
    form = status_form(sid, "undelivered", "30003")
    with at("2026-11-23T10:05"):
        before = stored()
        tap = DynamoTap()
        for nth in range(1, ATTEMPTS + 1):  # every attempt loses on the file's version
            tap.fail(nth, "TransactionCanceledException", match=matching("TransactWriteItems"),
                     reasons=["None", "ConditionalCheckFailed"])
        with tap:
            assert post(api, "/webhooks/twilio/status", form).status_code == 500  # surfaced, not dropped
        assert tap.fired and stored() == before
        assert post(api, "/webhooks/twilio/status", form).status_code == 200
    types = [e.type for e in audit_of(fatima["client_id"])]
    assert types.count("staff_message.failed") == 1 and types.count("inquiry.reopened") == 1
