"""Information posts (SPEC §5.8): who receives one, and the life of one recipient's copy.

A post goes to the author's caseload (a worker) or the whole agency (an admin), optionally only to
clients of some languages, and reaches only files that are active, have consent on record for
their channel with ``posts: true`` and are not opted out. Each recipient's copy moves once:

    pending / queued --claim--> sending --> sent | failed | skipped

``queued`` is a copy Twilio turned away for now (429, 5xx): it waits ``retry_delay`` and is sent
again. A copy found ``sending`` after its lease is reported failed, never sent a second time (Twilio
may have it), the same fail-safe choice as for staff messages.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta

from .model import Client, ClientStatus

#: The policy's approved WhatsApp template for posts outside the 24-hour window (optional key
#: ``whatsapp_templates.post``); without it such recipients are ``skipped``.
POST_TEMPLATE = "post"
#: A claimed copy not confirmed within this long is reported failed.
SEND_LEASE = timedelta(minutes=5)
MAX_BODY = 1600


class DeliveryStatus(enum.Enum):
    PENDING = "pending"
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    SKIPPED = "skipped"

    @property
    def waiting(self) -> bool:
        return self in (DeliveryStatus.PENDING, DeliveryStatus.QUEUED)

    @property
    def final(self) -> bool:
        return self in (DeliveryStatus.SENT, DeliveryStatus.FAILED, DeliveryStatus.SKIPPED)


@dataclass(frozen=True)
class Post:
    """An information post and its progress (``sent``/``failed``/``skipped`` of ``recipients``)."""

    post_id: str
    agency_id: str
    author_id: str
    scope: str  # caseload | agency
    body: str | None
    languages: tuple[str, ...]
    created_at: datetime
    send_at: datetime
    recipients: int = 0
    sent: int = 0
    failed: int = 0
    skipped: int = 0
    due_at: datetime | None = None  # while recipients wait: when the job looks at the post again


@dataclass(frozen=True)
class Delivery:
    """One recipient's copy of a post."""

    post_id: str
    client_id: str
    status: DeliveryStatus
    attempts: int
    retry_at: datetime | None
    lease_until: datetime | None
    version: int | None  # None until the first change (rows are created by a batch write)


def exclusion(client: Client, languages: frozenset[str] = frozenset()) -> str | None:
    """Why ``client`` does not receive a post now, or None when it does (SPEC §5.8)."""
    if client.status_erased():
        return "erased"
    if client.status is not ClientStatus.ACTIVE:
        return f"file_{client.status.value}"
    if not client.consent.covers(client.channel):
        return "no_consent"
    if not client.consent.posts:
        return "no_consent_to_posts"
    if client.opted_out:
        return "opted_out"
    if languages and client.language not in languages and client.language.split("-")[0] not in languages:
        return "language"
    return None


def retry_delay(attempts: int) -> timedelta:
    """After a 429 or 5xx: 30 s, 1, 2, 4 ... minutes, at most 15."""
    return min(timedelta(seconds=30) * (2 ** max(0, attempts - 1)), timedelta(minutes=15))
