"""Messages in a client file: what came in, what went out, and where its media lives (SPEC §4.4).

A message is filed only for a consented client (inbound) or sent by the service (outbound); a
refused inbound message never becomes one of these, so its body exists nowhere.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlsplit

from .model import Channel


class Direction(enum.Enum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"


class MessageKind(enum.Enum):
    CLIENT = "client"
    STAFF = "staff"
    AUTO_REPLY = "auto_reply"
    FOLLOWUP = "followup"
    CHECKIN = "checkin"
    SURVEY = "survey"
    NOTICE = "notice"  # the conduct policy's notices (SPEC §5.5)
    POST = "post"  # an information post (SPEC §5.8)


class MediaStatus(enum.Enum):
    PENDING = "pending"  # still only on Twilio
    COPIED = "copied"  # in our bucket; Twilio's copy not deleted yet
    STORED = "stored"  # in our bucket only
    FAILED = "failed"  # never reached our bucket: not a Twilio media resource, or every attempt failed


# Twilio's delivery statuses in the order they progress; a late callback never moves a message back.
STATUS_RANK: dict[str, int] = {
    "accepted": 1,
    "scheduled": 1,
    "queued": 2,
    "sending": 3,
    "sent": 4,
    "delivered": 5,
    "read": 6,
    "received": 6,
}
FAILED_STATUSES = frozenset({"failed", "undelivered", "canceled"})


def status_advances(current: str, new: str) -> bool:
    """Whether a status callback saying ``new`` should replace ``current``."""
    if current == new:
        return False
    if new in FAILED_STATUSES:
        return current not in FAILED_STATUSES and STATUS_RANK.get(current, 0) < STATUS_RANK["delivered"]
    if current in FAILED_STATUSES:
        return False
    return STATUS_RANK.get(new, 0) > STATUS_RANK.get(current, 0)


@dataclass(frozen=True)
class MediaRef:
    content_type: str
    twilio_url: str | None = None
    s3_key: str | None = None
    status: MediaStatus = MediaStatus.PENDING
    attempts: int = 0
    size: int | None = None

    @property
    def twilio_media_sid(self) -> str | None:
        """The ``ME…`` id Twilio puts last in the media URL (needed to delete it)."""
        if not self.twilio_url:
            return None
        last = urlsplit(self.twilio_url).path.rstrip("/").rsplit("/", 1)[-1]
        return last or None


@dataclass(frozen=True)
class Location:
    """A WhatsApp location share (Twilio ``Latitude``/``Longitude``/``Address``/``Label``)."""

    latitude: float
    longitude: float
    address: str | None = None
    label: str | None = None


@dataclass(frozen=True)
class Button:
    """A quick-reply or template button the client pressed (``ButtonText``/``ButtonPayload``)."""

    text: str | None = None
    payload: str | None = None


@dataclass(frozen=True)
class Content:
    """What a client message carries beyond its body and media: nothing the client sent is dropped."""

    location: Location | None = None
    button: Button | None = None
    forwarded: bool = False
    frequently_forwarded: bool = False
    message_type: str | None = None  # Twilio's WhatsApp MessageType: text, audio, location, button, ...

    def has_substance(self) -> bool:
        """Whether it says anything on its own (a location or a button), without body or media."""
        return self.location is not None or (
            self.button is not None and bool((self.button.text or "").strip() or (self.button.payload or "").strip())
        )


@dataclass(frozen=True)
class Message:
    message_id: str
    client_id: str
    agency_id: str
    direction: Direction
    kind: MessageKind
    body: str | None
    at: datetime
    status: str
    channel: Channel
    staff_id: str | None = None
    from_number: str | None = None
    inquiry_id: str | None = None
    twilio_sid: str | None = None
    media: tuple[MediaRef, ...] = field(default_factory=tuple)
    error_code: str | None = None
    sk: str | None = None
    version: int = 0
    send_at: datetime | None = None  # a held staff message: when it goes out
    content: Content = field(default_factory=Content)

    @property
    def media_pending(self) -> bool:
        return any(ref.status not in (MediaStatus.STORED, MediaStatus.FAILED) for ref in self.media)
