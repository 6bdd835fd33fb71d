"""Crisis at any hour (SPEC §5.9), as pure rules: who is told, and what a voice note after hours means.

While the agency is open, a crisis (a crisis word, or a worker's mark on a client message) is told
at once to whoever answers the file today (the case manager, or the colleague covering their
absence) and to every supervisor of the agency, once per crisis: a file already in crisis is not
announced again until its inquiry is answered. After hours the on-call person is told instead
(``services.crisis``), and the worker's own boundaries hold. A voice note has no words to match,
so one received while closed tells the on-call person that it waits.

Notifications name the worker and the inquiry, never the client's words or number.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from .model import Client
from .notifications import Notification, NotificationType


def is_voice_note(content_types: Iterable[str]) -> bool:
    """Whether a message carries a recording (any ``audio/*`` item): a voice note, or a voicemail."""
    return any(kind.strip().lower().startswith("audio/") for kind in content_types)


def crisis_recipients(answerer: str, supervisors: Iterable[str], *, actor: str | None = None) -> list[str]:
    """Whoever answers the file today, then the supervisors (sorted), each once; never ``actor``,
    the worker who marked the crisis by hand and knows it already."""
    ordered = [answerer, *sorted(supervisors)]
    return [who for i, who in enumerate(ordered) if who and who != actor and who not in ordered[:i]]


def open_crisis_notices(client: Client, recipients: Sequence[str], at: datetime, inquiry_id: str | None, *,
                        key: str, marked_by: str | None = None) -> list[Notification]:
    """The ``crisis`` notifications of a crisis while open, one per recipient (``key`` makes the id)."""
    if marked_by is None:
        text = (f"Crisis: a client of {client.case_manager_id} wrote words of danger. Answer them first; "
                "the emergency line and their emergency contact are shown in the conversation.")
    else:
        text = (f"Crisis: {marked_by} marked a message of a client of {client.case_manager_id} as a crisis. "
                "Answer them first.")
    return [Notification(recipient_id=who, type=NotificationType.CRISIS.value, at=at, client_id=client.client_id,
                         inquiry_id=inquiry_id, message=text, notification_id=f"crisis-{key}",
                         staff_id=client.case_manager_id)
            for who in recipients]


def voice_note_notices(client: Client, recipients: Sequence[str], at: datetime, inquiry_id: str | None,
                       message_id: str) -> list[Notification]:
    """The ``voice_note`` notifications: a recording arrived while closed and waits to be heard."""
    text = (f"A voice note from a client of {client.case_manager_id} arrived while the agency is closed; "
            "no words could be read in it. Listen to it in the conversation.")
    return [Notification(recipient_id=who, type=NotificationType.VOICE_NOTE.value, at=at,
                         client_id=client.client_id, inquiry_id=inquiry_id, message=text,
                         notification_id=f"voice-{message_id}", staff_id=client.case_manager_id)
            for who in recipients]


def new_message_notice(client: Client, cover_id: str, at: datetime, inquiry_id: str) -> Notification:
    """The ``new_message`` notification to the colleague covering: a client of the absent worker wrote."""
    return Notification(recipient_id=cover_id, type=NotificationType.NEW_MESSAGE.value, at=at,
                        client_id=client.client_id, inquiry_id=inquiry_id,
                        message=f"A client of {client.case_manager_id}, whom you cover, wrote; the answer is yours.",
                        notification_id=f"new-{inquiry_id}", staff_id=client.case_manager_id)
