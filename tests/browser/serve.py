"""Test-only: ``make run``'s stack (chalicelib/local.py) with a clock the browser tests can move.

The browser tests drive the real local server, so its clock must be theirs, not today's date.
This wrapper starts ``time_machine`` (ticking) before the stack, then serves a control port on
loopback that only the test process uses:

    POST /travel {"to": ISO 8601} | {"when": "open"|"open_tomorrow_too"|"closed"}   move the server's clock
    POST /jobs/<name>                                             run a scheduled job now
    GET  /outbox                                                  what the local outbox "sent"
    GET  /live                                                    the live stand-in's open sockets
    POST /live/drop                                               close every open socket
    POST /live/accepting {"on": bool}                             refuse new sockets (503) or take them again

Nothing here is part of the product: the console never sees this port.
"""

from __future__ import annotations

import json
import os
import sys
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import time_machine

_lock = threading.Lock()
_traveller: Any = None


def travel(to: datetime) -> datetime:
    global _traveller
    with _lock:
        if _traveller is not None:
            _traveller.stop()
        _traveller = time_machine.travel(to, tick=True)
        _traveller.start()
    return to


def _calendar() -> Any:
    from chalicelib import bootstrap
    from chalicelib.cli import DEMO_AGENCY

    return bootstrap.container().policies.get(DEMO_AGENCY).calendar


def travel_when(when: str) -> datetime:
    """Forward to a moment the demo agency is open (an hour after its next opening) or closed
    (two hours after its next closing), always later than now so the data stays in order."""
    calendar = _calendar()
    now = datetime.now(UTC) + timedelta(minutes=1)
    opening = calendar.next_opening(now if not calendar.is_open(now) else calendar.current_interval_end(now))
    if when == "open":
        return travel(opening + timedelta(hours=1))
    if when == "open_tomorrow_too":
        # A day whose same hour tomorrow is open too, so a 24-hour clock started now runs out
        # tomorrow (not after a weekend or a holiday).
        at = opening + timedelta(hours=1)
        while not calendar.is_open(at + timedelta(hours=24)):
            at = calendar.next_opening(calendar.current_interval_end(at)) + timedelta(hours=1)
        return travel(at)
    closing = calendar.current_interval_end(opening + timedelta(minutes=1))
    return travel(closing + timedelta(hours=2))


def _live() -> Any:
    """make run's WebSocket stand-in (chalicelib/local_live.py), started by local.main."""
    from chalicelib import local_live

    assert local_live.running is not None, "the live stand-in has not started"
    return local_live.running


class Control(BaseHTTPRequestHandler):
    def log_message(self, *args: Any) -> None:  # quiet
        return

    def _send(self, status: int, body: Any) -> None:
        data = json.dumps(body, default=str).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:  # noqa: N802
        from chalicelib import bootstrap

        if self.path == "/outbox":
            return self._send(200, {"sent": list(bootstrap.container().gateway.sent)})
        if self.path == "/now":
            return self._send(200, {"now": datetime.now(UTC).isoformat()})
        if self.path == "/live":
            return self._send(200, {"connections": _live().connection_ids()})
        return self._send(404, {})

    def do_POST(self) -> None:  # noqa: N802
        import app as application

        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}")
        try:
            if self.path == "/travel":
                at = travel(datetime.fromisoformat(body["to"])) if "to" in body else travel_when(body["when"])
                return self._send(200, {"now": at.isoformat()})
            if self.path == "/live/drop":
                return self._send(200, {"dropped": _live().drop_all()})
            if self.path == "/live/accepting":
                _live().accepting = bool(body["on"])
                return self._send(200, {"accepting": _live().accepting})
            if self.path.startswith("/jobs/"):
                return self._send(200, {"result": application.run_job(self.path.removeprefix("/jobs/"))})
        except Exception as err:  # a test helper: say what went wrong
            return self._send(500, {"error": f"{type(err).__name__}: {err}"})
        return self._send(404, {})


def main() -> int:
    travel(datetime.fromisoformat(os.environ.get("CMDM_TEST_START", "2026-12-07T16:30:00+00:00")))
    control = ThreadingHTTPServer(("127.0.0.1", int(os.environ["CMDM_CONTROL_PORT"])), Control)
    threading.Thread(target=control.serve_forever, daemon=True).start()
    from chalicelib import local

    return local.main()


if __name__ == "__main__":
    sys.exit(main())
