"""Messages in a client file: what came in, what went out, and where its media lives (SPEC §4.4).

A message is filed only for a consented client (inbound) or sent by the service (outbound); a
refused inbound message never becomes one of these, so its body exists nowhere.
"""

from __future__ import annotations

import enum
import re
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
    CALL = "call"  # a phone call to or from a work number, with its voicemail (SPEC §5.10)


class MediaStatus(enum.Enum):
    PENDING = "pending"  # still only on Twilio
    COPIED = "copied"  # in our bucket; Twilio's copy not deleted yet
    STORED = "stored"  # in our bucket only
    FAILED = "failed"  # never reached our bucket: not a Twilio media resource, or every attempt failed


class MessageStatus(enum.StrEnum):
    """Where a message is in its life: one word per state, the same in the API, the store and the audit.

    An inbound message is ``received`` (filed). An outbound one is ``held`` until the next opening
    (or ``cancelled`` by its author first), ``queued`` while it waits for an attempt, ``sending``
    while one sender holds it, ``sent`` once Twilio took it; Twilio's callbacks then move it to
    ``delivered`` and ``read``, or to ``undelivered``/``failed``.
    """

    RECEIVED = "received"
    HELD = "held"
    CANCELLED = "cancelled"
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    DELIVERED = "delivered"
    READ = "read"
    UNDELIVERED = "undelivered"
    FAILED = "failed"

    @classmethod
    def of(cls, value: str | MessageStatus) -> MessageStatus:
        """Ours for any status word, Twilio's included: its other words read as queued, sent or failed."""
        try:
            return cls(value)
        except ValueError:
            if value in ("accepted", "scheduled"):
                return cls.QUEUED
            return cls.FAILED if value == "canceled" else cls.SENT

    @classmethod
    def accepted(cls, twilio_status: str | None) -> MessageStatus:
        """What a message Twilio has just taken reads as: sent, unless Twilio already says more."""
        status = cls.of(twilio_status or "sent")
        return status if status.failed or status.rank > cls.SENT.rank else cls.SENT

    @property
    def failed(self) -> bool:
        """It never reached the client (SPEC §5.2: it answers nothing)."""
        return self in (MessageStatus.FAILED, MessageStatus.UNDELIVERED)

    @property
    def waiting(self) -> bool:
        """Held or queued: the sweep sends it when its time comes."""
        return self in (MessageStatus.HELD, MessageStatus.QUEUED)

    @property
    def rank(self) -> int:
        """How far along the way to the client; a late callback never moves a message back."""
        return _RANK.get(self, 0)


_RANK = {
    MessageStatus.QUEUED: 2,
    MessageStatus.SENDING: 3,
    MessageStatus.SENT: 4,
    MessageStatus.DELIVERED: 5,
    MessageStatus.READ: 6,
    MessageStatus.RECEIVED: 6,
}

def status_advances(current: str | MessageStatus, new: str | MessageStatus) -> bool:
    """Whether a status callback saying ``new`` should replace ``current``."""
    now, then = MessageStatus.of(current), MessageStatus.of(new)
    if now is then:
        return False
    if then.failed:
        return not now.failed and now.rank < MessageStatus.DELIVERED.rank
    if now.failed:
        return False
    return then.rank > now.rank


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
        if last.startswith("RE"):  # a voicemail: Twilio's recording, asked for as .mp3
            last = last.split(".", 1)[0]
        return last or None


_TWILIO_MEDIA_PATH = re.compile(
    r"/2010-04-01/Accounts/AC[0-9a-fA-F]{32}/Messages/(?P<message>[A-Z]{2}[0-9a-fA-F]{32})/Media/(?P<media>ME[0-9a-fA-F]{32})",
    re.ASCII)


def twilio_media_sid(url: str, message_sid: str) -> str | None:
    """The ``ME…`` id of ``url`` when it is Twilio's media resource of ``message_sid``, else None.

    Only such an item is ever deleted at Twilio on a message's behalf: any other URL a form
    carries (another message's media, a forged address) names nothing of this message's.
    """
    parts = urlsplit(url)
    if parts.query or parts.fragment:
        return None
    found = _TWILIO_MEDIA_PATH.fullmatch(parts.path)
    if found is None or found["message"] != message_sid:
        return None
    return found["media"]


@dataclass(frozen=True)
class LeftAtTwilio:
    """A refused message that Twilio still holds (SPEC §5.3, §5.7): its body, and its media by SID.

    Nothing of it is kept here but these ids; it is cleared at Twilio (media deleted, body
    redacted) by the ``clear_refused_at_twilio`` job, then forgotten.
    """

    message_sid: str
    media_sids: tuple[str, ...] = ()
    attempts: int = 0


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
class MessageRef:
    """Which message of which file: what a message is found by again (the sweep's due list, an
    override's audit event), made of what the message itself says: its file, its id and its time."""

    client_id: str
    message_id: str
    at: datetime


@dataclass(frozen=True)
class Message:
    """One message of a client file, whichever way it went, through its whole life.

    Inbound messages are filed ``received`` with their content; outbound ones (staff messages,
    automatic replies, follow-ups, notices, posts) carry their send lifecycle too: when a held one
    goes (``send_at``), when the sweep looks at it again (``due_at``), attempts, Twilio's id and error.
    """

    message_id: str
    client_id: str
    agency_id: str
    direction: Direction
    kind: MessageKind
    body: str | None
    at: datetime
    status: MessageStatus
    channel: Channel
    staff_id: str | None = None
    from_number: str | None = None
    inquiry_id: str | None = None  # held: the inquiry open when it was written; sent: the one it answered
    twilio_sid: str | None = None
    media: tuple[MediaRef, ...] = field(default_factory=tuple)
    error_code: str | None = None
    version: int = 1  # as first written; PynamoDB conditions each change on it
    send_at: datetime | None = None  # a held staff message: when it goes out
    content: Content = field(default_factory=Content)
    holding: bool = False  # a holding reply (SPEC §5.2): meets the first-response clock only
    override_reason: str | None = None  # sent outside hours on purpose (an emergency)
    template: str | None = None  # the approved WhatsApp template sent instead of the text
    sent_at: datetime | None = None
    due_at: datetime | None = None  # when the sweep looks at it next (waiting, or a sending lease)
    attempts: int = 0
    # A call (kind ``call``, SPEC §5.10): its status in ``domain.calls.CallStatus`` words, and length.
    call_status: str | None = None
    duration_seconds: int | None = None

    @property
    def ref(self) -> MessageRef:
        return MessageRef(self.client_id, self.message_id, self.at)
    crisis: bool = False  # a client message read as a crisis, by its words or a worker's mark (SPEC §5.9)

    @property
    def media_pending(self) -> bool:
        return any(ref.status not in (MediaStatus.STORED, MediaStatus.FAILED) for ref in self.media)

    @property
    def is_staff(self) -> bool:
        return self.kind is MessageKind.STAFF
