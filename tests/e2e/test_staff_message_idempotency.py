"""A staff message Twilio accepted is never sent again (issue 11, item 3).

Once the send is out, the answer is 201 whatever happens to the status write (a throttle is
retried with backoff; a 500 would invite a second copy), and a retry of the request with the same
``Idempotency-Key`` answers the message already written without sending anything.
"""

from __future__ import annotations

from datetime import timedelta

import time_machine

from tests.conftest import new_client
from tests.e2e.outbound_helpers import at, messages, outbox, sweep
from tests.fault_helpers import THROTTLE, DynamoTap

TUESDAY_10 = "2026-02-10T10:00:00-07:00"
FRIDAY_EVENING = "2026-02-06T18:30:00-07:00"


def post(http, who, client_id, key, body="Your appointment is confirmed for Thursday."):
    headers = {**who, "Idempotency-Key": key} if key else who
    return http.call("POST", f"/clients/{client_id}/messages", headers, {"body": body})


def status_write(call) -> bool:  # the conditional write that records Twilio's sid (sending -> sent)
    return call.is_write and any(t.endswith("messages") for t in call.tables) and call.operation == "UpdateItem"


def test_a_throttled_status_write_after_twilio_accepted_answers_201_and_the_retry_sends_nothing(http, agency):
    from chalicelib.services.messaging import SENT_WRITE_ATTEMPTS

    with time_machine.travel(at(TUESDAY_10), tick=False) as clock:
        client = new_client(http, agency["amal"], channel="sms")
        tap = DynamoTap()
        for nth in range(1, SENT_WRITE_ATTEMPTS):  # every attempt but the last is throttled
            tap.fail(nth, THROTTLE, match=status_write)
        with tap:
            first = post(http, agency["amal"], client["client_id"], "note-42")
        assert tap.fired
        assert first.status_code == 201, first.body
        assert first.json["status"] == "sent"
        [out] = outbox()
        [stored] = messages(client["client_id"])
        assert stored.status == "sent" and stored.twilio_sid == out["sid"]

        again = post(http, agency["amal"], client["client_id"], "note-42")  # the user's retry
        assert again.status_code == 201 and again.json["message_id"] == first.json["message_id"]
        assert len(outbox()) == 1 and len(messages(client["client_id"])) == 1

        clock.shift(timedelta(minutes=30))  # long past the send lease
        sweep()
        [stored] = messages(client["client_id"])
        assert stored.status == "sent"  # the delivered message is not marked failed


def test_a_status_write_that_never_succeeds_still_answers_201_not_500(http, agency):
    from chalicelib.services.messaging import SENT_WRITE_ATTEMPTS

    with time_machine.travel(at(TUESDAY_10), tick=False):
        client = new_client(http, agency["amal"], channel="sms")
        tap = DynamoTap()
        for nth in range(1, SENT_WRITE_ATTEMPTS + 1):
            tap.fail(nth, THROTTLE, match=status_write)
        with tap:
            first = post(http, agency["amal"], client["client_id"], "note-43")
        assert first.status_code == 201, first.body
        again = post(http, agency["amal"], client["client_id"], "note-43")
        assert again.status_code == 201 and again.json["message_id"] == first.json["message_id"]
    assert len(outbox()) == 1


def test_the_same_key_is_one_message_and_another_key_is_another(http, agency):
    with time_machine.travel(at(TUESDAY_10), tick=False):
        client = new_client(http, agency["amal"], channel="sms")
        one = post(http, agency["amal"], client["client_id"], "a")
        same = post(http, agency["amal"], client["client_id"], "a")
        other = post(http, agency["amal"], client["client_id"], "b")
    assert one.json["message_id"] == same.json["message_id"] != other.json["message_id"]
    assert len(outbox()) == 2


def test_a_held_message_retried_with_its_key_is_still_one_held_message(http, agency):
    with time_machine.travel(at(FRIDAY_EVENING), tick=False):
        client = new_client(http, agency["amal"], channel="sms")
        first = post(http, agency["amal"], client["client_id"], "held-1")
        again = post(http, agency["amal"], client["client_id"], "held-1")
    assert first.status_code == again.status_code == 202
    assert again.json["status"] == "held" and again.json["message_id"] == first.json["message_id"]
    assert len(messages(client["client_id"])) == 1 and outbox() == []


def test_a_malformed_idempotency_key_is_a_400_and_sends_nothing(http, agency):
    with time_machine.travel(at(TUESDAY_10), tick=False):
        client = new_client(http, agency["amal"], channel="sms")
        r = post(http, agency["amal"], client["client_id"], "x" * 101)
    assert r.status_code == 400 and r.json["error"]["code"]
    assert outbox() == [] and messages(client["client_id"]) == []
