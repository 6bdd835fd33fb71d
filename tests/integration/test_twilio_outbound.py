"""Outbound through the real ``twilio`` client, against a local stand-in for Twilio's REST API.

No network: ``TwilioGateway(api_base=...)`` (``CMDM_TWILIO_API_BASE``) sends every REST call to an
HTTP server on 127.0.0.1 that answers the way Twilio does, including 429 and 500 errors.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import pytest
import time_machine

from chalicelib import bootstrap
from chalicelib.adapters.twilio_gateway import (
    OutboundMessage,
    PermanentSendError,
    TransientSendError,
    TwilioGateway,
)
from chalicelib.domain.model import Channel
from tests.conftest import PUBLIC_URL, TEST_ENV, new_client

ACCOUNT_SID = TEST_ENV["TWILIO_ACCOUNT_SID"]


class FakeTwilio:
    """Answers POST .../Messages.json from a script of (status, body) replies, then 201s."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.script: list[tuple[int, dict[str, Any]]] = []
        self.created = 0
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                length = int(self.headers.get("Content-Length") or 0)
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                fake.requests.append({"path": self.path, "form": form, "auth": self.headers.get("Authorization")})
                status, body = fake.script.pop(0) if fake.script else fake._created(form)
                raw = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"

    def _created(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        self.created += 1
        sid = f"SM{self.created:032d}"
        return 201, {"sid": sid, "status": "queued", "account_sid": ACCOUNT_SID, "to": form.get("To"),
                     "from": form.get("From"), "body": form.get("Body")}

    def fail_with(self, status: int, code: int) -> None:
        self.script.append((status, {"code": code, "message": "stand-in error", "status": status,
                                     "more_info": f"https://www.twilio.com/docs/errors/{code}"}))


@pytest.fixture
def twilio_api() -> Iterator[FakeTwilio]:
    fake = FakeTwilio()
    thread = threading.Thread(target=fake.server.serve_forever, daemon=True)
    thread.start()
    yield fake
    fake.server.shutdown()
    fake.server.server_close()


def gateway(fake: FakeTwilio) -> TwilioGateway:
    return TwilioGateway(ACCOUNT_SID, "test-twilio-auth-token", api_base=fake.base, timeout=5)


def test_sms_is_created_through_the_twilio_client(twilio_api):
    result = gateway(twilio_api).send(OutboundMessage(
        from_number="+15873550101", to="+15875550123", channel=Channel.SMS, body="Bonjour",
        status_callback=PUBLIC_URL + "/webhooks/twilio/status"))
    assert result.sid == "SM" + "0" * 31 + "1" and result.status == "queued"
    [req] = twilio_api.requests
    assert req["path"] == f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
    assert req["auth"].startswith("Basic ")
    assert req["form"] == {"From": "+15873550101", "To": "+15875550123", "Body": "Bonjour",
                           "StatusCallback": "https://cmdm.example.test/api/webhooks/twilio/status"}


def test_whatsapp_template_goes_as_content_sid_and_variables(twilio_api):
    gateway(twilio_api).send(OutboundMessage(
        from_number="+15873550101", to="+15875550123", channel=Channel.WHATSAPP,
        content_sid="HX6281a51526646af067114b0e8923e24a", content_variables={"1": "Fatima", "2": "Amal"}))
    form = twilio_api.requests[0]["form"]
    assert form["From"] == "whatsapp:+15873550101" and form["To"] == "whatsapp:+15875550123"
    assert form["ContentSid"] == "HX6281a51526646af067114b0e8923e24a"
    assert json.loads(form["ContentVariables"]) == {"1": "Fatima", "2": "Amal"}
    assert "Body" not in form


@pytest.mark.parametrize(("status", "code"), [(429, 20429), (500, 20500), (503, 20503)])
def test_busy_or_broken_twilio_is_a_transient_error(twilio_api, status, code):
    twilio_api.fail_with(status, code)
    with pytest.raises(TransientSendError) as err:
        gateway(twilio_api).send(OutboundMessage("+15873550101", "+15875550123", Channel.SMS, body="x"))
    assert err.value.code == str(code)
    assert len(twilio_api.requests) == 1, "the client itself does not retry"


def test_refusal_is_a_permanent_error_with_twilios_code(twilio_api):
    twilio_api.fail_with(400, 21610)
    with pytest.raises(PermanentSendError) as err:
        gateway(twilio_api).send(OutboundMessage("+15873550101", "+15875550123", Channel.SMS, body="x"))
    assert err.value.code == "21610"


def test_unreachable_twilio_is_a_transient_error():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again before the call: connection refused
    broken = TwilioGateway(ACCOUNT_SID, "token", api_base=f"http://127.0.0.1:{port}", timeout=2)
    with pytest.raises(TransientSendError):
        broken.send(OutboundMessage("+15873550101", "+15875550123", Channel.SMS, body="x"))


def test_staff_message_survives_429_then_500_and_is_sent_exactly_once(http, agency, twilio_api, monkeypatch):
    import app
    from chalicelib.adapters import models as m

    monkeypatch.setenv("CMDM_OUTBOUND", "twilio")
    monkeypatch.setenv("CMDM_TWILIO_API_BASE", twilio_api.base)
    bootstrap.reset()
    tuesday = datetime(2026, 2, 10, 17, 0, tzinfo=UTC)  # 10:00 in Calgary
    with time_machine.travel(tuesday, tick=False) as traveller:
        client = new_client(http, agency["amal"], channel="sms")
        assert isinstance(bootstrap.container().gateway, TwilioGateway)
        twilio_api.fail_with(429, 20429)
        twilio_api.fail_with(500, 20500)
        r = http.call("POST", f"/clients/{client['client_id']}/messages", agency["amal"], {"body": "Your forms are ready"})
        assert r.status_code == 201 and r.json["status"] == "queued", r.body

        traveller.move_to(tuesday + timedelta(minutes=1))
        assert app.run_job("sweep_clocks") == {"queued": 1}
        traveller.move_to(tuesday + timedelta(minutes=3))
        assert app.run_job("sweep_clocks") == {"sent": 1}
        assert app.run_job("sweep_clocks") == {}
        traveller.move_to(tuesday + timedelta(hours=2))
        assert app.run_job("sweep_clocks") == {}

    assert len(twilio_api.requests) == 3 and twilio_api.created == 1
    assert {r["form"]["Body"] for r in twilio_api.requests} == {"Your forms are ready"}
    [stored] = m.MessageModel.query(client["client_id"])
    assert stored.status == "sent" and stored.attempts == 3
    assert stored.twilio_sid == "SM" + "0" * 31 + "1"
    assert stored.error_code is None and stored.due_at is None


# -- a follow-up counts only once Twilio has accepted it (SPEC §5.5, §5.6) -------------------------


def _followup_run_through_twilio(http, agency, twilio_api, monkeypatch, phone: str) -> dict[str, Any]:
    """A quiet SMS client opened Monday 16 November; the follow-up run of Monday 23rd at 10:05."""
    import app

    monkeypatch.setenv("CMDM_OUTBOUND", "twilio")
    monkeypatch.setenv("CMDM_TWILIO_API_BASE", twilio_api.base)
    bootstrap.reset()
    with time_machine.travel(datetime(2026, 11, 16, 16, 0, tzinfo=UTC), tick=False):
        client = new_client(http, agency["amal"], channel="sms", language="en", phone=phone)
    with time_machine.travel(datetime(2026, 11, 23, 17, 5, tzinfo=UTC), tick=False):
        client["summary"] = app.run_job("run_followups")
    return client


def _counted(http, agency) -> tuple[dict[str, Any], list[dict[str, Any]], list[str]]:
    """The day's usage figures, the worker's follow-up list and the follow-up audit events."""
    from chalicelib.adapters import models as m

    with time_machine.travel(datetime(2026, 11, 23, 18, 0, tzinfo=UTC), tick=False):
        usage = http.call("GET", "/reports/usage?from=2026-11-23&to=2026-11-23", agency["supervisor"]).json
        listed = http.call("GET", "/followups", agency["amal"]).json["followups"]
    audited = [e.type for e in m.AuditModel.query("calgary-cfn") if e.type.startswith("followup.")]
    return usage["totals"], listed, audited


def test_a_follow_up_twilio_refuses_is_recorded_failed_and_not_counted(http, agency, twilio_api, monkeypatch):
    from chalicelib.adapters import models as m

    twilio_api.fail_with(400, 21610)  # the number replied STOP at the carrier: a RestException
    client = _followup_run_through_twilio(http, agency, twilio_api, monkeypatch, "+15875550140")
    assert client["summary"] == {"failed": 1}
    assert len(twilio_api.requests) == 1 and twilio_api.created == 0
    [filed] = m.MessageModel.query(client["client_id"])
    assert (filed.kind, filed.status, filed.error_code, filed.due_at) == ("followup", "failed", "21610", None)
    totals, listed, audited = _counted(http, agency)
    assert (totals["followups"], totals["automatic_messages"]) == (0, 0)
    assert listed == [] and audited == []


def test_a_follow_up_twilio_accepts_is_counted_once_in_the_report_the_list_and_the_audit(
        http, agency, twilio_api, monkeypatch):
    client = _followup_run_through_twilio(http, agency, twilio_api, monkeypatch, "+15875550141")
    assert client["summary"] == {"sent": 1} and twilio_api.created == 1
    totals, listed, audited = _counted(http, agency)
    assert (totals["followups"], totals["automatic_messages"]) == (1, 1)
    assert [(row["client_id"], row["kind"]) for row in listed] == [(client["client_id"], "followup")]
    assert audited == ["followup.sent"]


def test_a_follow_up_twilio_turned_away_counts_only_when_the_sweep_gets_it_accepted(
        http, agency, twilio_api, monkeypatch):
    import app

    twilio_api.fail_with(503, 20503)
    client = _followup_run_through_twilio(http, agency, twilio_api, monkeypatch, "+15875550142")
    assert client["summary"] == {"retry": 1}
    totals, listed, audited = _counted(http, agency)
    assert (totals["followups"], listed, audited) == (0, [], [])  # queued is not sent
    with time_machine.travel(datetime(2026, 11, 23, 17, 15, tzinfo=UTC), tick=False):
        assert app.run_job("sweep_clocks") == {"sent": 1}
    totals, listed, audited = _counted(http, agency)
    assert (totals["followups"], totals["automatic_messages"]) == (1, 1)
    assert len(listed) == 1 and audited == ["followup.sent"]
