"""Twilio's failures as the gateway sorts them, through the real twilio client and a local HTTP stand-in.

Transient (retry later): 429, 5xx, a dropped connection, nothing listening. Permanent (record the
code on the message): any other 4xx, e.g. 21610 (the recipient replied STOP). No waiting: the
stand-in answers at once or hangs up at once.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from chalicelib.adapters.twilio_gateway import OutboundMessage, PermanentSendError, TransientSendError, TwilioGateway
from chalicelib.domain.model import Channel

ACCOUNT = "AC" + "1" * 32
MESSAGE = OutboundMessage(from_number="+15873550101", to="+15875550123", channel=Channel.SMS, body="See you at 10")


class StandIn(BaseHTTPRequestHandler):
    script: list[tuple[int, dict[str, Any]] | str] = []
    seen: list[str] = []

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        StandIn.seen.append(self.path)
        step = StandIn.script.pop(0)
        if step == "hang up":
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        status, payload = step  # type: ignore[misc]
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def twilio() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), StandIn)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    StandIn.script, StandIn.seen = [], []
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def gateway(api_base: str) -> TwilioGateway:
    return TwilioGateway(ACCOUNT, "token", api_base=api_base, timeout=5)


def error(status: int, code: int) -> tuple[int, dict[str, Any]]:
    return status, {"code": code, "message": "stand-in error", "status": status, "more_info": ""}


def test_accepted_message_returns_twilios_sid(twilio: str) -> None:
    StandIn.script = [(201, {"sid": "SM" + "b" * 32, "status": "queued"})]
    result = gateway(twilio).send(MESSAGE)
    assert result.sid == "SM" + "b" * 32 and result.status == "queued"
    assert StandIn.seen == [f"/2010-04-01/Accounts/{ACCOUNT}/Messages.json"]


@pytest.mark.parametrize("status, code", [(429, 20429), (500, 20500), (503, 20503)])
def test_rate_limits_and_server_errors_are_transient(twilio: str, status: int, code: int) -> None:
    StandIn.script = [error(status, code)]
    with pytest.raises(TransientSendError) as caught:
        gateway(twilio).send(MESSAGE)
    assert caught.value.code == str(code)


@pytest.mark.parametrize("status, code", [(400, 21610), (400, 63016), (404, 20404)])
def test_refusals_are_permanent_with_twilios_code(twilio: str, status: int, code: int) -> None:
    StandIn.script = [error(status, code)]
    with pytest.raises(PermanentSendError) as caught:
        gateway(twilio).send(MESSAGE)
    assert caught.value.code == str(code)


def test_dropped_connection_is_transient(twilio: str) -> None:
    StandIn.script = ["hang up"]
    with pytest.raises(TransientSendError):
        gateway(twilio).send(MESSAGE)


def test_nothing_listening_is_transient() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again before the call: connection refused
    with pytest.raises(TransientSendError):
        gateway(f"http://127.0.0.1:{port}").send(MESSAGE)
