"""A post to 1,000 clients through moto's SQS and the real twilio client against a local stand-in.

Every queued batch is delivered twice, the send_posts job re-dispatches every minute over batches
still in the queue, and Twilio answers 429 to 300 requests in a row (and to every 13th otherwise).
Each of the 1,000 recipients still gets the post exactly once, the 100 excluded clients never, no
request reaches Twilio outside business hours (the post starts at 16:58 and finishes the next
morning), and no second carries more than the agency's sending rate.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs
from zoneinfo import ZoneInfo

import boto3
import pytest
import time_machine

from chalicelib import bootstrap
from chalicelib.adapters import models as m

EDMONTON = ZoneInfo("America/Edmonton")
RATE = 10
QUEUE = "cmdm-test-posts"


class Twilio(BaseHTTPRequestHandler):
    calls: list[tuple[datetime, str, int]] = []  # (when, To, status answered)
    lock = threading.Lock()

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        form = parse_qs(self.rfile.read(int(self.headers.get("Content-Length", "0"))).decode())
        with Twilio.lock:
            n = len(Twilio.calls)
            status = 429 if 150 <= n < 450 or n % 13 == 12 else 201
            Twilio.calls.append((datetime.now(UTC), form["To"][0], status))
        payload: dict[str, Any] = ({"sid": f"SM{n:032d}", "status": "queued"} if status == 201 else
                                   {"code": 20429, "message": "Too Many Requests", "status": 429})
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def twilio(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Twilio)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    Twilio.calls = []
    monkeypatch.setenv("CMDM_OUTBOUND", "twilio")
    monkeypatch.setenv("CMDM_TWILIO_API_BASE", f"http://127.0.0.1:{server.server_address[1]}")
    monkeypatch.setenv("CMDM_POSTS_PER_SECOND", str(RATE))
    yield ""
    server.shutdown()
    server.server_close()


def local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=EDMONTON)


def bulk_clients() -> tuple[set[str], set[str]]:
    created = local("2026-02-01T10:00").astimezone(UTC)
    eligible, excluded = set(), set()
    with m.ClientModel.batch_write() as batch:
        for i in range(1100):
            manager = "amal" if i % 2 else "jean"
            phone = f"+1587557{i:04d}"
            # 1000 eligible; 50 without consent to posts; 50 that agreed to posts but sent STOP.
            posts, opted_out = not 1000 <= i < 1050, i >= 1050
            (eligible if posts and not opted_out else excluded).add(phone)
            batch.save(m.ClientModel(
                client_id=f"cl_p{i:05d}", agency_id="calgary-cfn", case_manager_id=manager,
                agency_staff=f"calgary-cfn#{manager}", phone=phone, channel="sms", language="en", name="Client",
                status="active", created_at=created, created_by=manager, opted_out=opted_out,
                consent=m.ConsentMap(state="given", channels=["sms"], recorded_at=created, signed_at=created,
                                     posts=posts),
                version=1,
            ))
    return eligible, excluded


def test_a_post_to_a_thousand_clients_reaches_each_exactly_once_in_business_hours_at_the_rate(
        http, agency, twilio, monkeypatch, per_item_transaction_rollback):
    import app as application

    sqs = boto3.client("sqs", region_name="ca-central-1")
    url = sqs.create_queue(QueueName=QUEUE)["QueueUrl"]
    monkeypatch.setenv("CMDM_POSTS_QUEUE_URL", url)
    bootstrap.reset()
    eligible, excluded = bulk_clients()
    assert len(eligible) == 1000 and len(excluded) == 100
    policy = bootstrap.container().policies.get("calgary-cfn")

    start = local("2026-03-03T16:58")  # a Tuesday, two minutes before closing
    with time_machine.travel(start, tick=False):
        r = http.call("POST", "/posts", agency["admin"], {"body": "Job fair Thursday 2 pm at the centre"})
        assert r.status_code == 202, r.body
        post_id = r.json["post_id"]
        assert r.json["recipients"] == 1000

    now, deliveries, steps = start, 0, 0
    while steps < 20000:
        steps += 1
        with time_machine.travel(now, tick=False):
            if now.second == 0 and now != start:
                application.run_job("send_posts")
            while True:
                got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
                if not got:
                    break
                for message in got:
                    event = http.client.events.generate_sqs_event(message_bodies=[message["Body"]], queue_name=QUEUE)
                    for _twice in range(2):  # SQS delivers at least once: every batch arrives twice
                        http.client.lambda_.invoke("post_worker", event)
                        deliveries += 1
                    sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
            progress = http.call("GET", f"/posts/{post_id}", agency["admin"]).json
        if progress["pending"] == 0:
            break
        now += timedelta(seconds=1)
        if not policy.calendar.is_open(now):
            now = policy.calendar.next_opening(now).astimezone(EDMONTON)

    assert progress["sent"] == 1000 and progress["failed"] == 0 and progress["skipped"] == 0, progress
    accepted = Counter(to for _at, to, status in Twilio.calls if status == 201)
    assert set(accepted) == eligible and set(accepted.values()) == {1}  # each exactly once
    assert not excluded & set(accepted)
    assert sum(1 for *_x, status in Twilio.calls if status == 429) >= 300  # the storm happened
    assert all(policy.calendar.is_open(at) for at, _to, _status in Twilio.calls)  # never while closed
    per_second = Counter(int(at.timestamp()) for at, _to, _status in Twilio.calls)
    assert max(per_second.values()) <= RATE
    days = {at.astimezone(EDMONTON).date().isoformat() for at, _to, _status in Twilio.calls}
    assert days == {"2026-03-03", "2026-03-04"}  # stopped at 17:00, went on at 09:00
    assert deliveries >= 200  # every queued batch was delivered twice
    filed = [i for i in m.MessageModel.scan() if i.kind == "post"]  # test-only scan
    assert len(filed) == 1000 and len({i.client_id for i in filed}) == 1000
