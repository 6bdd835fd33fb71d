"""Notifications: what a staff member is told (a breach, an override, a message that never arrived)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Notification:
    recipient_id: str
    type: str
    at: datetime
    message: str
    client_id: str | None = None
    inquiry_id: str | None = None
    notification_id: str = ""
    read: bool = False
