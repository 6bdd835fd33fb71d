"""Sending messages: Twilio's REST API through the official client, or a local outbox.

``CMDM_OUTBOUND=twilio`` uses ``twilio.rest.Client``; tests and ``make run`` use the outbox,
which records what would have been sent (in memory, and as JSON lines under ``.local/`` for the
phone simulator to show). Errors are sorted into transient (429, 5xx, timeouts: retry later)
and permanent (anything else: record Twilio's error code on the message).
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit, urlunsplit

from ..domain.model import Channel


@dataclass(frozen=True)
class OutboundMessage:
    from_number: str  # E.164 work number
    to: str  # E.164 client number
    channel: Channel
    body: str | None = None
    content_sid: str | None = None  # an approved WhatsApp template
    content_variables: Mapping[str, str] = field(default_factory=dict)
    status_callback: str | None = None
    media_urls: tuple[str, ...] = ()  # short-lived links Twilio fetches the attachment from

    def address(self, number: str) -> str:
        return f"whatsapp:{number}" if self.channel is Channel.WHATSAPP else number


@dataclass(frozen=True)
class SendResult:
    sid: str
    status: str  # Twilio's status after the create call: queued, accepted, sent...


class TransientSendError(Exception):
    """Twilio was busy or unreachable; the same send may succeed later."""

    def __init__(self, reason: str, code: str | None = None) -> None:
        super().__init__(reason)
        self.code = code


class PermanentSendError(Exception):
    """Twilio refused the message (e.g. 21610 unsubscribed, 63016 outside the WhatsApp window)."""

    def __init__(self, reason: str, code: str | None = None) -> None:
        super().__init__(reason)
        self.code = code


class Gateway(Protocol):
    def send(self, message: OutboundMessage) -> SendResult: ...


class OutboxGateway:
    """The local stand-in: nothing leaves the machine."""

    def __init__(self, spool: Path | None = None) -> None:
        self.sent: list[dict[str, Any]] = []
        self._spool = spool
        self._lock = threading.Lock()

    def send(self, message: OutboundMessage) -> SendResult:
        sid = "SM" + uuid.uuid4().hex
        record = {**asdict(message), "channel": message.channel.value, "sid": sid,
                  "at": datetime.now(UTC).isoformat()}
        with self._lock:
            self.sent.append(record)
            if self._spool is not None:
                self._spool.parent.mkdir(parents=True, exist_ok=True)
                with self._spool.open("a", encoding="utf-8") as fh:
                    fh.write(json.dumps(record, ensure_ascii=False) + "\n")
        return SendResult(sid=sid, status="queued")


def _redirecting_http_client(api_base: str, timeout: float) -> Any:
    """A twilio HTTP client that sends every call to ``api_base`` (a local stand-in for tests)."""
    from twilio.http.http_client import TwilioHttpClient

    target = urlsplit(api_base)

    class Redirecting(TwilioHttpClient):
        def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
            parts = urlsplit(url)
            url = urlunsplit((target.scheme, target.netloc, target.path.rstrip("/") + parts.path, parts.query, ""))
            return super().request(method, url, *args, **kwargs)

    return Redirecting(timeout=timeout, max_retries=0)


@contextmanager
def twilio_refusals(what: str) -> Iterator[None]:
    """Turn what the ``twilio`` library raises into the two outcomes callers act on: try again later
    (429, 5xx, a timeout or no connection, the library's own failure) or never (any other 4xx)."""
    import requests
    from twilio.base.exceptions import TwilioException, TwilioRestException

    try:
        yield
    except TwilioRestException as err:
        code = str(err.code) if err.code is not None else None
        if err.status == 429 or err.status >= 500:
            raise TransientSendError(f"twilio answered {err.status}", code) from None
        raise PermanentSendError(f"twilio refused the {what} ({err.status})", code) from None
    except (requests.exceptions.Timeout, requests.exceptions.ConnectionError):
        raise TransientSendError("twilio unreachable or timed out") from None
    except TwilioException as err:
        raise TransientSendError(f"twilio client error: {type(err).__name__}") from None


class TwilioGateway:
    """Outbound through the official ``twilio`` REST client."""

    def __init__(self, account_sid: str, auth_token: str, *, api_base: str | None = None, timeout: float = 10.0) -> None:
        from twilio.http.http_client import TwilioHttpClient
        from twilio.rest import Client

        http_client = _redirecting_http_client(api_base, timeout) if api_base else TwilioHttpClient(timeout=timeout)
        self._client = Client(account_sid, auth_token, http_client=http_client)

    @property
    def client(self) -> Any:
        return self._client

    def send(self, message: OutboundMessage) -> SendResult:
        kwargs: dict[str, Any] = {"from_": message.address(message.from_number), "to": message.address(message.to)}
        if message.content_sid:
            kwargs["content_sid"] = message.content_sid
            kwargs["content_variables"] = json.dumps(dict(message.content_variables))
        else:
            kwargs["body"] = message.body or ""
        if message.media_urls:
            kwargs["media_url"] = list(message.media_urls)
        if message.status_callback:
            kwargs["status_callback"] = message.status_callback
        with twilio_refusals("message"):
            created = self._client.messages.create(**kwargs)
        return SendResult(sid=created.sid, status=str(created.status or "queued"))
