"""A staff message Twilio accepted is never sent again (issue 11, item 3).

Once the send is out, the answer is 201 whatever happens to the status write (a throttle is
retried with backoff; a 500 would invite a second copy), and a retry of the request with the same
``Idempotency-Key`` answers the message already written without sending anything. The same key
with a different request is refused (422 ``idempotency_key_reused``, issue 20, item 7): it is
never answered with the first message as if the second had been sent.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine

from tests.conftest import new_client
from tests.e2e.outbound_helpers import at, messages, outbox, sweep
from tests.fault_helpers import THROTTLE, DynamoTap

TUESDAY_10 = "2026-02-10T10:00:00-07:00"
FRIDAY_EVENING = "2026-02-06T18:30:00-07:00"


def post(http, who, client_id, key, body="Your appointment is confirmed for Thursday.", **fields):
    headers = {**who, "Idempotency-Key": key} if key else who
    return http.call("POST", f"/clients/{client_id}/messages", headers, {"body": body, **fields})


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


# -- the same key for a different request (issue 20, item 7) --------------------------------------


def assert_reused(r) -> None:
    assert r.status_code == 422, r.body
    assert r.json["error"]["code"] == "idempotency_key_reused"
    assert "Thursday" not in r.body.decode() and "Friday" not in r.body.decode()


def test_the_same_key_with_another_body_is_422_and_sends_nothing_more(http, agency):
    with time_machine.travel(at(TUESDAY_10), tick=False):
        client = new_client(http, agency["amal"], channel="sms")
        first = post(http, agency["amal"], client["client_id"], "k-1", "See you on Thursday.")
        other = post(http, agency["amal"], client["client_id"], "k-1", "See you on Friday instead.")
        same = post(http, agency["amal"], client["client_id"], "k-1", "See you on Thursday.")
    assert first.status_code == 201
    assert_reused(other)
    assert same.status_code == 201 and same.json["message_id"] == first.json["message_id"]  # still a retry
    assert [o["body"] for o in outbox()] == ["See you on Thursday."]
    assert [m.body for m in messages(client["client_id"])] == ["See you on Thursday."]


@pytest.mark.parametrize("change", [{"holding": True}, {"override_reason": "the client is in danger"}])
def test_the_same_key_and_text_asking_something_else_is_422(http, agency, change):
    with time_machine.travel(at(TUESDAY_10), tick=False):
        client = new_client(http, agency["amal"], channel="sms")
        first = post(http, agency["amal"], client["client_id"], "k-2")
        again = post(http, agency["amal"], client["client_id"], "k-2", **change)
    assert first.status_code == 201
    assert_reused(again)
    assert len(outbox()) == 1


def test_a_held_message_and_the_same_key_with_another_body_is_422_and_still_one_held_message(http, agency):
    with time_machine.travel(at(FRIDAY_EVENING), tick=False):
        client = new_client(http, agency["amal"], channel="sms")
        first = post(http, agency["amal"], client["client_id"], "held-2", "See you on Thursday.")
        other = post(http, agency["amal"], client["client_id"], "held-2", "See you on Friday instead.")
    assert first.status_code == 202
    assert_reused(other)
    [stored] = messages(client["client_id"])
    assert stored.status == "held" and stored.body == "See you on Thursday." and outbox() == []


def test_the_same_key_for_another_client_is_another_message(http, agency):
    with time_machine.travel(at(TUESDAY_10), tick=False):
        one = new_client(http, agency["amal"], channel="sms")
        two = new_client(http, agency["amal"], channel="sms", phone="+15875550124")
        first = post(http, agency["amal"], one["client_id"], "k-3")
        second = post(http, agency["amal"], two["client_id"], "k-3")
    assert first.status_code == second.status_code == 201
    assert first.json["message_id"] != second.json["message_id"] and len(outbox()) == 2


def first_request_still_in_flight(monkeypatch, lookups: int = 1) -> None:
    """Two requests with one key at once: the next ``lookups`` reads of a message by id find
    nothing, as when the first request's transaction is not visible yet. The second request's own
    claim then loses, and it answers from the first one's claim (and message, once visible)."""
    from chalicelib.adapters.messages_repository import MessageRepository

    real = MessageRepository.find
    hidden = [lookups]

    def find(self, client_id, message_id):
        if hidden[0] > 0:
            hidden[0] -= 1
            return None
        return real(self, client_id, message_id)

    monkeypatch.setattr(MessageRepository, "find", find)


@pytest.mark.parametrize("visible", [True, False], ids=["first-filed", "first-in-flight"])
def test_a_concurrent_request_with_the_same_key_and_another_body_is_422(http, agency, monkeypatch, visible):
    with time_machine.travel(at(TUESDAY_10), tick=False):
        client = new_client(http, agency["amal"], channel="sms")
        first = post(http, agency["amal"], client["client_id"], "k-4", "See you on Thursday.")
        first_request_still_in_flight(monkeypatch, lookups=1 if visible else 2)
        other = post(http, agency["amal"], client["client_id"], "k-4", "See you on Friday instead.")
    assert first.status_code == 201
    assert_reused(other)
    assert len(outbox()) == 1 and len(messages(client["client_id"])) == 1


def test_a_concurrent_request_with_the_same_key_and_body_still_answers_the_first_or_409_busy(
        http, agency, monkeypatch):
    with time_machine.travel(at(TUESDAY_10), tick=False):
        client = new_client(http, agency["amal"], channel="sms")
        first = post(http, agency["amal"], client["client_id"], "k-5")
        first_request_still_in_flight(monkeypatch, lookups=1)
        answered = post(http, agency["amal"], client["client_id"], "k-5")
        first_request_still_in_flight(monkeypatch, lookups=2)
        busy = post(http, agency["amal"], client["client_id"], "k-5")
    assert answered.status_code == 201 and answered.json["message_id"] == first.json["message_id"]
    assert busy.status_code == 409 and busy.json["error"]["code"] == "busy"
    assert len(outbox()) == 1 and len(messages(client["client_id"])) == 1


def test_a_claim_written_before_fingerprints_replays_the_first_answer_as_before(http, agency):
    from chalicelib.adapters import models as m

    with time_machine.travel(at(TUESDAY_10), tick=False):
        client = new_client(http, agency["amal"], channel="sms")
        first = post(http, agency["amal"], client["client_id"], "k-6", "See you on Thursday.")
        [claim] = [c for c in m.ClaimModel.scan() if c.claim_key.startswith("send#")]
        claim.update(actions=[m.ClaimModel.fingerprint.remove()])  # as an older version wrote it
        other = post(http, agency["amal"], client["client_id"], "k-6", "See you on Friday instead.")
    assert other.status_code == 201 and other.json["message_id"] == first.json["message_id"]
    assert len(outbox()) == 1


def test_the_claim_keeps_a_digest_of_the_request_never_its_text(http, agency):
    from chalicelib.adapters import models as m

    with time_machine.travel(at(TUESDAY_10), tick=False):
        client = new_client(http, agency["amal"], channel="sms")
        post(http, agency["amal"], client["client_id"], "k-7", "See you on Thursday.")
    [claim] = [c for c in m.ClaimModel.scan() if c.claim_key.startswith("send#")]
    assert len(claim.fingerprint) == 64 and int(claim.fingerprint, 16) >= 0
    assert "Thursday" not in str(claim.attribute_values)


def test_erasing_the_file_forgets_its_idempotency_claims_with_their_digests(http, agency):
    from chalicelib.adapters import models as m

    with time_machine.travel(at(TUESDAY_10), tick=False):
        client = new_client(http, agency["amal"], channel="sms")
        cid = client["client_id"]
        assert post(http, agency["amal"], cid, "k-8").status_code == 201
        assert [c for c in m.ClaimModel.scan() if c.claim_key.startswith("send#")]
        r = http.call("PUT", f"/clients/{cid}/status", agency["admin"], {"status": "closed", "reason": "moved away"})
        assert r.status_code == 200, r.body
        r = http.call("DELETE", f"/clients/{cid}", agency["admin"])
        assert r.status_code == 200, r.body
    assert [c for c in m.ClaimModel.scan() if c.claim_key.startswith("send#")] == []
