"""What every staff-message use case shares (issue 4, SPEC §5.2, §5.4).

The rules that need storage (who may write to a file, which work number it goes from, whether
WhatsApp's window calls for the approved template), what a message going out answers, the audit
events it writes, and the one unit of work that records it sent. ``sending.py``, ``held.py``,
``delivery.py``, ``uploads.py`` and ``compose.py`` build on ``Outgoing``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ..domain import validation as v
from ..domain.audit import AuditEvent, AuditType
from ..domain.errors import Conflict, Forbidden, NotFound
from ..domain.inquiry import Inquiry
from ..domain.messages import Message
from ..domain.model import Client, Principal, Role
from ..domain.outbound import REOPEN_TEMPLATE, Answer, answer_inquiry, whatsapp_window_open
from ..domain.policy import Policy

if TYPE_CHECKING:
    from ..adapters.unit_of_work import UnitOfWork


class Outgoing:
    def __init__(self, uow: Callable[[], UnitOfWork], policies: Any,
                 covering_for: Callable[[Principal], frozenset[str]] | None = None) -> None:
        self._uow = uow  # a fresh adapters.unit_of_work.UnitOfWork per use
        self._policies = policies
        self._covering_for = covering_for or (lambda principal: frozenset())

    # -- who may write, from which number, in which form ------------------------------------------

    def _writable_client(self, principal: Principal, client_id: str) -> Client:
        client = self._uow().clients.get(client_id) if v.is_identifier(client_id) else None
        if client is None or client.agency_id != principal.agency_id or client.status_erased():
            raise NotFound("no such client")
        if principal.is_supervisor() and not principal.is_admin():
            raise Forbidden("supervisors are read-only")
        if client.case_manager_id == principal.staff_id:
            return client
        if Role.WORKER in principal.roles and client.case_manager_id in self._covering_for(principal):
            return client
        raise Forbidden("only the client's case manager, or a colleague covering their absence, may message them")

    def _sendable_client(self, principal: Principal, client_id: str) -> Client:
        """The caller's writable client file, if it may be messaged now (409 ``cannot_message`` if not)."""
        client = self._writable_client(principal, client_id)
        refusal = client.messaging_refusal()
        if refusal:
            raise Conflict(f"cannot message this client: {refusal}", code="cannot_message")
        return client

    def _mark_sent(self, message: Message, *, sid: str, now: datetime, template: str | None,
                   client: Client | None = None, client_changes: dict[str, Any] | None = None,
                   inquiry: Inquiry | None = None, answer: Answer | None = None,
                   events: Sequence[AuditEvent] = ()) -> None:
        """sending -> sent, with the client's last outbound, the inquiry's answer and the audit."""
        with self._uow() as uow:
            uow.messages.sent(message, sid=sid, now=now, template=template,
                              inquiry_id=answer.inquiry_id if answer else None)
            self._answering(uow, client, client_changes, inquiry, answer)
            uow.audit.add(events)
            uow.commit()

    @staticmethod
    def _answering(uow: UnitOfWork, client: Client | None, client_changes: dict[str, Any] | None,
                   inquiry: Inquiry | None, answer: Answer | None) -> None:
        if client is not None and client_changes:
            uow.clients.update(client, client_changes)
        if inquiry is not None and answer is not None:
            uow.inquiries.answer(inquiry, answer)

    def _work_number(self, client: Client) -> str:
        """The case manager's work number for the client's channel (the one last used, if several)."""
        numbers = sorted(
            n.number for n in self._uow().numbers.of(client.agency_id, client.case_manager_id)
            if client.channel in n.channels
        )
        if not numbers:
            raise Conflict(f"the case manager has no work number for {client.channel.value}", code="no_work_number")
        if len(numbers) == 1:
            return numbers[0]
        return self._uow().messages.last_from_number(client.client_id, frozenset(numbers)) or numbers[0]

    def _template_for(self, client: Client, policy: Policy, at: datetime) -> str | None:
        """None for a free-form message; the approved template outside WhatsApp's 24-hour window."""
        if whatsapp_window_open(client.channel, client.last_inbound_at, at):
            return None
        if REOPEN_TEMPLATE in policy.whatsapp_templates:
            return REOPEN_TEMPLATE
        raise Conflict(
            "WhatsApp allows free-form messages only within 24 hours of the client's last message, and "
            f"this agency has no approved template ('whatsapp_templates.{REOPEN_TEMPLATE}') to send instead",
            code="whatsapp_window_closed",
        )

    def _answer_for(
        self, client: Client, inquiry_id: str | None, now: datetime, by: str, policy: Policy, holding: bool,
        message_id: str,
    ) -> tuple[Inquiry | None, Answer | None]:
        if not inquiry_id:
            return None, None
        inquiry = self._uow().inquiries.get(inquiry_id)
        if inquiry is None or inquiry.client_id != client.client_id:
            return None, None
        return inquiry, answer_inquiry(inquiry, now, by, policy.calendar, holding=holding, message_id=message_id,
                                       complex_target=policy.complex_target, clock=policy.clock)

    @staticmethod
    def _client_changes(now: datetime, answer: Answer | None, client: Client) -> dict[str, Any]:
        changes: dict[str, Any] = {"last_outbound_at": now}
        if answer is not None and client.open_inquiry_id == answer.inquiry_id:
            if answer.answers:
                changes.update(open_inquiry_id=None, open_inquiry_due_at=None, crisis_at=None)  # crisis: out of first place
            elif answer.due_at is not None:
                changes.update(open_inquiry_due_at=answer.due_at)  # still open: the longer clock runs
        return changes

    @staticmethod
    def _event(message: Message, kind: AuditType, details: dict[str, Any], at: datetime | None = None) -> AuditEvent:
        return AuditEvent(
            agency_id=message.agency_id,
            type=kind,
            at=at or message.at,
            actor=message.staff_id,
            client_id=message.client_id,
            staff_id=message.staff_id,
            details=details,
        )

    @staticmethod
    def _answered_event(client: Client, inquiry: Inquiry, answer: Answer) -> AuditEvent:
        return AuditEvent(
            agency_id=client.agency_id,
            type=AuditType.INQUIRY_ANSWERED if answer.answers else AuditType.INQUIRY_HOLDING_REPLY,
            at=answer.answered_at,
            actor=answer.answered_by,
            client_id=client.client_id,
            staff_id=inquiry.staff_id,
            details={
                "inquiry_id": inquiry.inquiry_id,
                "late": answer.late,
                "first_response_business_minutes": answer.business_minutes,
                "holding": answer.holding,
                "answered_by": answer.answered_by,
                "message_id": answer.message_id,
                "first_response": answer.first_response,
                "due_at": answer.due_at,
            },
        )
