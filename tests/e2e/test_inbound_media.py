"""WhatsApp voice notes and photos: copied into the agency bucket, deleted at Twilio, never dropped.

A local HTTP server stands in for Twilio's media URLs and REST API (``CMDM_TWILIO_API_BASE``),
moto stands in for S3.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from zoneinfo import ZoneInfo

import boto3
import pytest
import time_machine

from tests.conftest import new_client
from tests.twilio_helpers import ACCOUNT, inbound, new_sid, whatsapp_form

EDMONTON = ZoneInfo("America/Edmonton")
VOICE_NOTE = b"OggS\x00fake-voice-note-bytes" * 100


class FakeTwilio:
    """Serves media GETs and records media DELETEs; can be told to fail the next N downloads."""

    def __init__(self) -> None:
        self.fail_downloads = 0
        self.deleted: list[str] = []
        self.downloads = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802
                outer.downloads += 1
                if outer.fail_downloads > 0:
                    outer.fail_downloads -= 1
                    self.send_response(503)
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", "audio/ogg")
                self.send_header("Content-Length", str(len(VOICE_NOTE)))
                self.end_headers()
                self.wfile.write(VOICE_NOTE)

            def do_DELETE(self) -> None:  # noqa: N802
                outer.deleted.append(self.path)
                self.send_response(204)
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FakeTwilio:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def twilio(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeTwilio]:
    from chalicelib import bootstrap

    with FakeTwilio() as fake:
        monkeypatch.setenv("CMDM_TWILIO_API_BASE", fake.base)
        bootstrap.reset()
        yield fake
    bootstrap.reset()


def voice_note_form(message_sid: str) -> dict[str, str]:
    media_url = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT}/Messages/{message_sid}/Media/ME{'a' * 32}"
    return whatsapp_form("+15875550123", "+15873550101", "", MessageSid=message_sid, NumMedia="1",
                         MessageType="audio", MediaUrl0=media_url, MediaContentType0="audio/ogg")


def at(text: str) -> Any:
    return time_machine.travel(datetime.fromisoformat(text).replace(tzinfo=EDMONTON), tick=False)


def test_voice_note_is_copied_to_the_encrypted_bucket_and_deleted_at_twilio(
    api: Any, http: Any, agency: Any, twilio: FakeTwilio
) -> None:
    from app import run_job

    with at("2026-11-20T10:00"):
        fatima = new_client(http, agency["amal"])
    sid = new_sid("MM")
    with at("2026-11-23T10:00"):
        assert inbound(api, voice_note_form(sid)).status_code == 200
        (msg,) = http.call("GET", f"/clients/{fatima['client_id']}/messages", agency["amal"]).json["messages"]
        assert msg["media"][0]["status"] == "pending"
        assert run_job("copy_media") == 1
    (msg,) = http.call("GET", f"/clients/{fatima['client_id']}/messages", agency["amal"]).json["messages"]
    media = msg["media"][0]
    assert media["status"] == "stored" and media["size"] == len(VOICE_NOTE) and media["url"]
    s3 = boto3.client("s3", region_name="ca-central-1")
    (obj,) = s3.list_objects_v2(Bucket="cmdm-test-media")["Contents"]
    head = s3.head_object(Bucket="cmdm-test-media", Key=obj["Key"])
    assert head["ServerSideEncryption"] == "AES256"
    assert s3.get_object(Bucket="cmdm-test-media", Key=obj["Key"])["Body"].read() == VOICE_NOTE
    assert twilio.deleted == [f"/2010-04-01/Accounts/{ACCOUNT}/Messages/{sid}/Media/ME{'a' * 32}.json"]
    with at("2026-11-23T10:30"):
        assert run_job("copy_media") == 0  # out of the queue: nothing downloaded again
    assert twilio.downloads == 1


def test_failed_download_is_retried_later_never_dropped(api: Any, http: Any, agency: Any, twilio: FakeTwilio) -> None:
    from app import run_job

    with at("2026-11-20T10:00"):
        fatima = new_client(http, agency["amal"])
    twilio.fail_downloads = 2
    with at("2026-11-23T10:00"):
        inbound(api, voice_note_form(new_sid("MM")))
        assert run_job("copy_media") == 0
    with at("2026-11-23T10:00:30"):  # before the pause is over: not tried again
        assert run_job("copy_media") == 0
        assert twilio.downloads == 1
    with at("2026-11-23T10:02"):
        assert run_job("copy_media") == 0  # second failure
    with at("2026-11-23T10:10"):
        assert run_job("copy_media") == 1
    (msg,) = http.call("GET", f"/clients/{fatima['client_id']}/messages", agency["amal"]).json["messages"]
    assert msg["media"][0]["status"] == "stored"
    assert twilio.downloads == 3


def test_media_url_outside_twilio_is_never_fetched(api: Any, http: Any, agency: Any, twilio: FakeTwilio) -> None:
    from app import run_job

    with at("2026-11-20T10:00"):
        fatima = new_client(http, agency["amal"])
    form = voice_note_form(new_sid("MM"))
    form["MediaUrl0"] = "https://attacker.example/steal"
    with at("2026-11-23T10:00"):
        assert inbound(api, form).status_code == 200
        assert run_job("copy_media") == 0
    assert twilio.downloads == 0
    (msg,) = http.call("GET", f"/clients/{fatima['client_id']}/messages", agency["amal"]).json["messages"]
    assert msg["media"][0]["status"] == "failed"  # never fetched, and not waiting for ever (issue 11 item 13)


@pytest.mark.parametrize("forged", [
    "https://api.twilio.com/2010-04-01/Accounts/{account}/Messages.json",
    "https://api.twilio.com/2010-04-01/Accounts/{account}/Calls.json",
    "https://api.twilio.com/2010-04-01/Accounts/{account}/Messages/{sid}/Media/ME{me}?PageSize=1000",
    "https://api.twilio.com/2010-04-01/Accounts/AC{other}/Messages/{sid}/Media/ME{me}",
    "https://api.twilio.com/2010-04-01/Accounts/{account}/Messages/MM{other}/Media/ME{me}",
    "https://api.twilio.com/2010-04-01/Accounts/{account}/Messages/{sid}/Media/ME{me}/../../../../Messages.json",
    "http://api.twilio.com/2010-04-01/Accounts/{account}/Messages/{sid}/Media/ME{me}",
    "https://api.twilio.com:8443/2010-04-01/Accounts/{account}/Messages/{sid}/Media/ME{me}",
    "https://user:pw@api.twilio.com/2010-04-01/Accounts/{account}/Messages/{sid}/Media/ME{me}",
    "https://media.twiliocdn.com/{account}/anything",
])
def test_only_twilios_media_resource_of_that_very_message_is_fetched(
    api: Any, http: Any, agency: Any, twilio: FakeTwilio, forged: str
) -> None:
    from app import run_job

    with at("2026-11-20T10:00"):
        fatima = new_client(http, agency["amal"])
    sid = new_sid("MM")
    form = voice_note_form(sid)
    form["MediaUrl0"] = forged.format(account=ACCOUNT, sid=sid, me="a" * 32, other="b" * 32)
    with at("2026-11-23T10:00"):
        assert inbound(api, form).status_code == 200
        assert run_job("copy_media") == 0
    with at("2026-11-24T10:00"):
        assert run_job("copy_media") == 0  # out of the queue: not tried again
    assert twilio.downloads == 0 and twilio.deleted == []
    (msg,) = http.call("GET", f"/clients/{fatima['client_id']}/messages", agency["amal"]).json["messages"]
    assert msg["media"][0]["status"] == "failed" and "url" not in msg["media"][0]
    s3 = boto3.client("s3", region_name="ca-central-1")
    assert s3.list_objects_v2(Bucket="cmdm-test-media").get("Contents") is None


def test_a_download_that_keeps_failing_gives_up_after_a_bounded_number_of_attempts(
    api: Any, http: Any, agency: Any, twilio: FakeTwilio
) -> None:
    from datetime import timedelta

    from app import run_job
    from chalicelib.adapters import models as m
    from chalicelib.services.media import MAX_ATTEMPTS

    with at("2026-11-20T10:00"):
        fatima = new_client(http, agency["amal"])
    twilio.fail_downloads = 10_000
    start = datetime(2026, 11, 23, 10, 0, tzinfo=EDMONTON)
    with time_machine.travel(start, tick=False):
        assert inbound(api, voice_note_form(new_sid("MM"))).status_code == 200
    for hour in range(0, 24 * 3):  # three days of hourly runs (and the pauses between tries)
        with time_machine.travel(start + timedelta(hours=hour), tick=False):
            for _ in range(3):
                run_job("copy_media")
    assert twilio.downloads == MAX_ATTEMPTS
    (msg,) = http.call("GET", f"/clients/{fatima['client_id']}/messages", agency["amal"]).json["messages"]
    assert msg["media"][0]["status"] == "failed"
    assert [i.type for i in m.AuditModel.scan() if i.type.startswith("media.")] == ["media.failed"]
