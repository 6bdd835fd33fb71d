"""What an automatic message records once Twilio has accepted it (SPEC §5.5, §5.6).

A follow-up, check-in, survey or conduct notice counts (the usage report's ``automatic_messages``
and ``followups``, the worker's follow-up list, the audit trail) only once Twilio has taken it. It
is filed before it is handed to Twilio (``sending``, so a crash never loses it), but its worker's
follow-up row and the audit event that counts it (``followup.sent`` or ``notice.sent``) are
written with the change to ``sent``, in one unit of work. A send Twilio refuses leaves the message
``failed`` with Twilio's code and counts nowhere. The follow-up run (its first attempt) and the
outbound sweep (retries, notices) both record acceptance here.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from ..domain.audit import AuditEvent, AuditType
from ..domain.messages import Message, MessageKind

if TYPE_CHECKING:
    from ..adapters.unit_of_work import UnitOfWork

FOLLOWUP_KINDS = frozenset({MessageKind.FOLLOWUP, MessageKind.CHECKIN, MessageKind.SURVEY})


def accepted_event(message: Message, now: datetime, template: str | None = None) -> AuditEvent | None:
    """The audit event that counts an automatic message Twilio has just accepted (None for others)."""
    details: dict[str, Any] = {"message_id": message.message_id}
    if message.kind in FOLLOWUP_KINDS:
        kind = AuditType.FOLLOWUP_SENT
        details = {"kind": message.kind.value, **details}
    elif message.kind is MessageKind.NOTICE:
        kind = AuditType.NOTICE_SENT
    else:
        return None
    if template or message.template:
        details["template"] = template or message.template
    return AuditEvent(agency_id=message.agency_id, type=kind, at=now, actor="system", client_id=message.client_id,
                      staff_id=message.staff_id, details=details)


def register_accepted(uow: UnitOfWork, message: Message, *, sid: str, now: datetime, template: str | None) -> None:
    """Queue on ``uow``: ``sending`` -> ``sent`` (on the message's version), the worker's follow-up
    row for a follow-up, check-in or survey, and the audit event that counts it."""
    uow.messages.sent(message, sid=sid, now=now, template=template)
    if message.kind in FOLLOWUP_KINDS:
        uow.followups.add(message)
    event = accepted_event(message, now, template)
    if event is not None:
        uow.audit.add([event])


__all__ = ["FOLLOWUP_KINDS", "accepted_event", "register_accepted"]
