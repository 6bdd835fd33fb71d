"""Placing calls (SPEC §5.10): Twilio's REST API through the official client, or the local outbox.

A call rings the worker's own phone first, from the work number; the TwiML it carries connects
the client once the worker answers (``<Dial callerId=work number><Number>client</Number></Dial>``),
so the client sees only the work number. Errors are sorted as for messages: transient (429, 5xx,
timeouts) or permanent (Twilio refused).
"""

from __future__ import annotations

import json
import threading
import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from .twilio_gateway import twilio_refusals


@dataclass(frozen=True)
class OutboundCall:
    from_number: str  # the work number, E.164
    to: str  # the worker's own phone, E.164: rung first
    twiml: str  # what Twilio does once the worker answers: connect the client
    status_callback: str | None = None


@dataclass(frozen=True)
class PlacedCall:
    sid: str  # CA…
    status: str  # Twilio's word after the create: queued, initiated ...


class CallGateway(Protocol):
    def place(self, call: OutboundCall) -> PlacedCall: ...


STATUS_EVENTS = ["initiated", "ringing", "answered", "completed"]


class TwilioCalls:
    """``client.calls.create`` of the official ``twilio`` library (a stand-in's base URL in tests)."""

    def __init__(self, client: Any) -> None:
        self._client = client

    def place(self, call: OutboundCall) -> PlacedCall:
        kwargs: dict[str, Any] = {"to": call.to, "from_": call.from_number, "twiml": call.twiml}
        if call.status_callback:
            kwargs.update(status_callback=call.status_callback, status_callback_event=STATUS_EVENTS,
                          status_callback_method="POST")
        with twilio_refusals("call"):
            created = self._client.calls.create(**kwargs)
        return PlacedCall(sid=created.sid, status=str(created.status or "queued"))


class OutboxCalls:
    """Nothing leaves the machine: the call is written to the local outbox, as messages are."""

    def __init__(self, sent: list[dict[str, Any]], spool: Path | None = None) -> None:
        self.sent = sent  # the message outbox's own list: one outbox for everything "sent"
        self._spool = spool
        self._lock = threading.Lock()

    def place(self, call: OutboundCall) -> PlacedCall:
        sid = "CA" + uuid.uuid4().hex
        record = {**asdict(call), "kind": "call", "sid": sid, "at": datetime.now(UTC).isoformat()}
        with self._lock:
            self.sent.append(record)
            if self._spool is not None:
                self._spool.parent.mkdir(parents=True, exist_ok=True)
                with self._spool.open("a", encoding="utf-8") as fh:
                    fh.write(json.dumps(record, ensure_ascii=False) + "\n")
        return PlacedCall(sid=sid, status="queued")
