"""Notifications: what a staff member is told (a breach, an override, a message that never arrived,
a crisis, a voice note waiting after hours, a colleague's files to cover).

Each one belongs to one person (its ``recipient_id``) and links to a client's file or, for a breach
or an override, to the review a supervisor records (SPEC §4.4 ``GET /notifications``). What a
review settles is decided here, so the supervision service and the store agree on it.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any


class NotificationType(enum.Enum):
    CRISIS = "crisis"  # a crisis word or a worker's mark (SPEC §5.9)
    DELIVERY_FAILED = "delivery_failed"  # the author's message never reached the client (§5.2)
    BREACH = "breach"  # an inquiry passed its due time (to review)
    OVERRIDE = "override"  # a message sent after hours with a reason (to review)
    COVER_STARTED = "cover_started"  # you cover a colleague's files
    COVER_ENDED = "cover_ended"  # ... no longer
    NEW_MESSAGE = "new_message"  # a client of a colleague you cover wrote
    VOICE_NOTE = "voice_note"  # a voice note arrived while the agency was closed


#: What a supervisor reviews (``GET /reviews``): these notifications link to the review, not the file.
REVIEW_TYPES = frozenset({NotificationType.BREACH.value, NotificationType.OVERRIDE.value})


@dataclass(frozen=True)
class Notification:
    recipient_id: str
    type: str  # a ``NotificationType`` value
    at: datetime
    message: str
    client_id: str | None = None
    inquiry_id: str | None = None
    notification_id: str = ""
    read: bool = False
    staff_id: str | None = None  # the colleague it is about (who breached, who is away), when there is one

    @property
    def to_review(self) -> bool:
        return self.type in REVIEW_TYPES


def breach_notification_id(inquiry_id: str) -> str:
    return f"breach-{inquiry_id}"


def override_notification_id(message_id: str) -> str:
    return f"override-{message_id}"


def settled_by_review(kind: str, details: Mapping[str, Any]) -> str | None:
    """The id of the notifications (one per supervisor, written at the event's instant) that a
    review of this breach or override settles; None when the event names nothing to settle."""
    if kind == NotificationType.BREACH.value and details.get("inquiry_id"):
        return breach_notification_id(str(details["inquiry_id"]))
    if kind == NotificationType.OVERRIDE.value and details.get("message_id"):
        return override_notification_id(str(details["message_id"]))
    return None


def cover_notices(absent_id: str, before: Any, after: Any, at: datetime) -> list[Notification]:
    """What an absence recorded, changed or removed tells the colleagues covering it (``before`` and
    ``after`` are the absence as it was and as it is, either None): ``cover_started`` to a new
    cover, ``cover_ended`` to one who no longer covers it. Dates are the agency's days."""
    notes = []
    if before is not None and (after is None or after.cover_id != before.cover_id):
        notes.append(Notification(
            recipient_id=before.cover_id, type=NotificationType.COVER_ENDED.value, at=at, staff_id=absent_id,
            message=f"You no longer cover {absent_id}'s clients ({before.start} to {before.end}).",
            notification_id=f"cover-{before.absence_id}-ended"))
    if after is not None and (before is None or after.cover_id != before.cover_id
                              or (after.start, after.end) != (before.start, before.end)):
        notes.append(Notification(
            recipient_id=after.cover_id, type=NotificationType.COVER_STARTED.value, at=at, staff_id=absent_id,
            message=f"You cover {absent_id}'s clients from {after.start} to {after.end}.",
            notification_id=f"cover-{after.absence_id}-started"))
    return notes
