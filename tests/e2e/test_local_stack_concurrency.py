"""Concurrency against ``make run``'s own stack, with real threads (issue 11, items 4 and 5).

WhatsApp sends one webhook per photo, and Twilio re-delivers a webhook it got no answer to: the
local stack must file a burst from one client, each message once, on the first delivery.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.local_stack import LocalStack, sms_form

WORK_NUMBER = "+15873550101"  # amal's seeded number


@pytest.fixture
def stack(local_stack: LocalStack) -> LocalStack:
    return local_stack


def _all_at_once(count: int, work: callable) -> list:  # type: ignore[valid-type]
    """Run ``work(i)`` on ``count`` threads released together by a barrier."""
    barrier = threading.Barrier(count)

    def run(i: int):  # type: ignore[no-untyped-def]
        barrier.wait()
        return work(i)

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(run, range(count)))


def _inbound_bodies(stack: LocalStack, client_id: str) -> Counter[str]:
    status, body = stack.call("GET", f"/clients/{client_id}/messages", stack.staff())
    assert status == 200, body
    return Counter(m["body"] for m in body["messages"] if m["direction"] == "inbound")


def test_fifty_concurrent_messages_from_one_client_are_all_filed_first_time(stack):
    phone = "+14036001001"
    client_id = stack.open_client(phone)
    bodies = [f"photo {i} {uuid.uuid4().hex[:6]}" for i in range(50)]

    statuses = _all_at_once(50, lambda i: stack.webhook(sms_form(phone, WORK_NUMBER, bodies[i]))[0])

    assert Counter(statuses) == {200: 50}
    filed = _inbound_bodies(stack, client_id)
    assert filed == Counter(bodies)
    status, file = stack.call("GET", f"/clients/{client_id}", stack.staff())
    assert status == 200
    assert file["open_inquiry"] is not None  # one inquiry for the burst, every message joined it
    status, inquiries = stack.call("GET", "/inquiries?status=open", stack.staff())
    assert [i["client_id"] for i in inquiries["inquiries"]].count(client_id) == 1


def test_a_message_sid_delivered_many_times_at_once_is_filed_exactly_once(stack):
    phone = "+14036001002"
    client_id = stack.open_client(phone)
    forms = [sms_form(phone, WORK_NUMBER, f"the same delivery {round_}") for round_ in range(5)]

    for form in forms:
        statuses = _all_at_once(12, lambda _i, form=form: stack.webhook(form)[0])
        assert Counter(statuses) == {200: 12}

    filed = _inbound_bodies(stack, client_id)
    assert filed == Counter(form["Body"] for form in forms)


def test_the_local_stack_keeps_transactions_isolated_for_conditional_writes(stack):
    """Two threads claiming the same once-only key at once: exactly one wins (the lock covers it)."""
    phone = "+14036001003"
    stack.open_client(phone)
    sid = "SM" + uuid.uuid4().hex
    results = _all_at_once(16, lambda _i: stack.webhook(sms_form(phone, WORK_NUMBER, "claim", sid=sid)))
    assert {status for status, _, _ in results} == {200}
    outcomes = Counter(headers.get("x-cmdm-outcome") for _, headers, _ in results)
    assert outcomes == {"filed": 1, "duplicate": 15}, json.dumps(outcomes)


def test_a_double_clicked_send_with_one_idempotency_key_files_and_sends_one_message(stack):
    """The console retries a send with the same ``Idempotency-Key``; eight copies arrive at once."""
    phone = "+14036001004"
    client_id = stack.open_client(phone)
    headers = {**stack.staff(), "Idempotency-Key": "console-" + uuid.uuid4().hex}
    body = json.dumps({"body": "Your appointment is on Thursday"}).encode()

    answers = _all_at_once(8, lambda _i: stack.request("POST", f"/clients/{client_id}/messages", headers, body))

    statuses = Counter(status for status, _h, _b in answers)
    assert set(statuses) <= {201, 202, 409}, statuses
    assert statuses[201] + statuses[202] >= 1
    for status, _h, raw in answers:
        if status == 409:  # still in flight when it asked: the documented busy answer, to retry
            assert json.loads(raw)["error"]["code"] == "busy"
    ids = {json.loads(raw)["message_id"] for status, _h, raw in answers if status in (201, 202)}
    assert len(ids) == 1  # every winner of the race answers with the one message
    status, listed = stack.call("GET", f"/clients/{client_id}/messages", stack.staff())
    assert status == 200
    staff_messages = [m for m in listed["messages"] if m["direction"] == "outbound" and m["kind"] == "staff"]
    assert [m["body"] for m in staff_messages] == ["Your appointment is on Thursday"]
    again = stack.request("POST", f"/clients/{client_id}/messages", headers, body)  # a later retry replays
    assert again[0] in (201, 202) and json.loads(again[2])["message_id"] in ids
