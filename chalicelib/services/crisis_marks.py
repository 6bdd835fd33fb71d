"""A worker marks a client message as a crisis by hand, or takes the mark back (SPEC §5.9).

``PUT /clients/{client_id}/messages/{message_id}/crisis`` ``{"crisis": bool, "reason"?}``: words
can miss a crisis (a voice note, a photo, an unfamiliar phrase), and can raise a false one. The case
manager (or the colleague covering) or an administrator decides; supervisors read.

Marking a message of the open inquiry does what a crisis word while open does: the message, the
inquiry and the file are marked (the client goes first in the inbox) and, unless the file was in
crisis already, whoever answers it today and every supervisor get a ``crisis`` notification (the
worker who marked it excepted). Taking the mark back clears the message, and the inquiry and the
file too when no other message of that inquiry is still marked. Both are audited with the worker
and the optional reason (erased with the file), in the same unit of work as the change.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ..adapters.conflicts import ConcurrentUpdate
from ..domain import validation as v
from ..domain.audit import AuditEvent, AuditType
from ..domain.clock import utcnow
from ..domain.crisis import crisis_recipients, open_crisis_notices
from ..domain.errors import Conflict, InvalidInput, NotFound
from ..domain.messages import Direction, Message, MessageKind
from ..domain.model import Client, Principal, Role
from ..domain.notifications import Notification
from .access import manageable_client
from .retry import retry_on_conflict

if TYPE_CHECKING:
    from ..adapters.unit_of_work import UnitOfWork

MAX_REASON = 500


@dataclass(frozen=True)
class MarkCrisis:
    crisis: bool
    reason: str | None = None

    @classmethod
    def parse(cls, payload: Any) -> MarkCrisis:
        body = v.require_object(payload)
        crisis = body.get("crisis")
        if not isinstance(crisis, bool):
            raise InvalidInput("crisis", "is required: true to mark the message as a crisis, false to take it back")
        return cls(crisis=crisis, reason=v.text(body, "reason", required=False, max_len=MAX_REASON) or None)


@dataclass(frozen=True)
class CrisisMarkOutcome:
    client: Client
    message: Message
    notified: tuple[str, ...] = ()


class CrisisMarks:
    def __init__(self, uow: Callable[[], UnitOfWork],
                 covering_for: Callable[[Principal], frozenset[str]] | None = None,
                 cover_of: Callable[[str, str, datetime], str | None] | None = None) -> None:
        self._uow = uow
        self._covering_for = covering_for or (lambda principal: frozenset())
        # Who covers a case manager on a day (absences): they answer the file, so they are told.
        self._cover_of = cover_of or (lambda agency_id, staff_id, at: None)

    def mark(self, principal: Principal, client_id: str, message_id: str, command: MarkCrisis) -> CrisisMarkOutcome:
        try:
            return retry_on_conflict(lambda: self._mark_once(principal, client_id, message_id, command))
        except ConcurrentUpdate:
            raise Conflict("the client file changed meanwhile; please retry", code="busy") from None

    def _mark_once(self, principal: Principal, client_id: str, message_id: str,
                   command: MarkCrisis) -> CrisisMarkOutcome:
        uow = self._uow()
        found = uow.clients.get(client_id) if v.is_identifier(client_id) else None
        client = manageable_client(principal, found, covering=self._covering_for(principal))
        message = uow.messages.find(client.client_id, message_id) if v.is_identifier(message_id) else None
        if message is None:
            raise NotFound("no such message in this file")
        if message.direction is not Direction.INBOUND or message.kind is not MessageKind.CLIENT:
            raise Conflict("only a message from the client can be marked as a crisis", code="not_a_client_message")
        if message.crisis is command.crisis:
            return CrisisMarkOutcome(client, message)  # already so: nothing to change, nothing to tell
        now = utcnow()
        inquiry = uow.inquiries.get(message.inquiry_id) if message.inquiry_id else None
        current = inquiry is not None and inquiry.inquiry_id == client.open_inquiry_id
        changes: dict[str, Any] = {}
        notices: list[Notification] = []
        with uow:
            uow.messages.mark_crisis(message, command.crisis)
            if command.crisis:
                if inquiry is not None and not inquiry.crisis:
                    uow.inquiries.mark_crisis(inquiry)
                if current and client.crisis_at is None:
                    changes["crisis_at"] = now
                    notices = self._notices(uow, client, principal.staff_id, message, now)
            else:
                still = any(other.crisis for other in uow.messages.of_client(client.client_id)
                            if other.inquiry_id == message.inquiry_id and other.message_id != message.message_id)
                if inquiry is not None and inquiry.crisis and not still:
                    uow.inquiries.mark_crisis(inquiry, False)
                if current and client.crisis_at is not None and not still:
                    changes["crisis_at"] = None
            if changes:
                uow.clients.update(client, changes)
            uow.notifications.add(client.agency_id, notices)
            recipients = tuple(n.recipient_id for n in notices)
            uow.audit.add([AuditEvent(
                agency_id=client.agency_id, type=AuditType.CRISIS_MARKED if command.crisis else AuditType.CRISIS_UNMARKED,
                at=now, actor=principal.staff_id, client_id=client.client_id, staff_id=client.case_manager_id,
                details={"message_id": message.message_id, "inquiry_id": message.inquiry_id, "reason": command.reason,
                         "to": list(recipients)},
            )])
            uow.commit()
        version = client.version + 1 if changes else client.version
        return CrisisMarkOutcome(replace(client, version=version, **changes), replace(message, crisis=command.crisis),
                                 recipients)

    def _notices(self, uow: UnitOfWork, client: Client, actor: str, message: Message,
                 now: datetime) -> list[Notification]:
        answerer = self._cover_of(client.agency_id, client.case_manager_id, now) or client.case_manager_id
        supervisors = uow.staff.ids_with_role(client.agency_id, Role.SUPERVISOR)
        recipients = crisis_recipients(answerer, supervisors, actor=actor)
        return open_crisis_notices(client, recipients, now, message.inquiry_id, key=f"mark-{message.message_id}",
                                   marked_by=actor)


def crisis_mark_view(outcome: CrisisMarkOutcome) -> dict[str, Any]:
    return {
        "client_id": outcome.client.client_id,
        "message_id": outcome.message.message_id,
        "inquiry_id": outcome.message.inquiry_id,
        "crisis": outcome.message.crisis,
        "client_in_crisis": outcome.client.crisis_at is not None,
        "notified": list(outcome.notified),
    }
