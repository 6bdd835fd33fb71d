"""Held staff messages (issue 4, SPEC §5.2, §5.4): their withdrawal, and their release by the sweep.

A staff message written outside business hours is held until the next opening; its author may
cancel it until then. The sweep (``services/sweep.py``) calls ``release`` for every message
whose time has come on the ``outbound_due`` index: held staff messages, those queued for a retry
after a transient error, and the automated ones (follow-ups, check-ins, notices).

Nothing is sent twice: a message is only sent by whoever moved it from ``held``/``queued`` to
``sending``, a conditional write on its version.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ..adapters.unit_of_work import ConcurrentUpdate
from ..domain import validation as v
from ..domain.audit import AuditEvent, AuditType
from ..domain.clock import utcnow
from ..domain.errors import Conflict, Forbidden, NotFound
from ..domain.messages import Message, MessageKind, MessageRef, MessageStatus
from ..domain.model import Principal
from ..domain.outbound import SEND_LEASE
from .delivery import Delivery
from .outgoing import Outgoing
from .retry import retry_on_conflict

if TYPE_CHECKING:
    from ..adapters.unit_of_work import UnitOfWork

log = logging.getLogger("cmdm.messaging")


class Held(Outgoing):
    def __init__(self, uow: Callable[[], UnitOfWork], policies: Any, delivery: Delivery) -> None:
        super().__init__(uow, policies)
        self._delivery = delivery

    # -- DELETE /clients/{id}/messages/{message_id} ----------------------------------------------

    def cancel(self, principal: Principal, client_id: str, message_id: str) -> Message:
        """Withdraw a held staff message before it goes out (SPEC §4.4): only its author may.

        Cancelling twice is harmless (the second answers the cancelled message again); once the
        sweep has claimed it for sending (or it went), it can no longer be withdrawn: 409.
        """
        client = self._uow().clients.get(client_id) if v.is_identifier(client_id) else None
        if client is None or client.agency_id != principal.agency_id or client.status_erased():
            raise NotFound("no such client")
        message = self._uow().messages.find(client.client_id, message_id) if v.is_identifier(message_id) else None
        if message is None:
            raise NotFound("no such message")
        if not message.is_staff or message.staff_id != principal.staff_id:
            raise Forbidden("only the author of a held message may cancel it")
        if message.status is MessageStatus.CANCELLED:
            return message
        if message.status is not MessageStatus.HELD:
            raise Conflict(f"the message is {message.status.value}: only a held message can be cancelled",
                           code="not_held")
        now = utcnow()
        event = self._event(message, AuditType.STAFF_MESSAGE_CANCELLED,
                            {"message_id": message.message_id, "send_at": message.send_at}, at=now)
        if not self._cancel_held(message, event):
            raise Conflict("the message is already being sent", code="not_held")
        return replace(message, status=MessageStatus.CANCELLED, due_at=None)

    # -- the sweep: messages whose time has come --------------------------------------------------

    def release(self, ref: MessageRef, now: datetime) -> str:
        """Send one due message if it is still waiting; returns what happened (for the summary).

        Staff messages and the automated ones (follow-ups, check-ins, surveys: issue 5) share the
        ``outbound_due`` index. Only staff messages answer inquiries and are re-checked against the
        WhatsApp window (an automated one already carries its approved template). A ``sending``
        message whose lease ran out is ambiguous (Twilio may have it): a staff message is then
        reported failed rather than risk sending it twice; an automated one is retried, as the
        follow-up run intends (never lost).
        """
        message = self._uow().messages.get(ref)
        if message is None:
            return "missing"
        stale = False
        if message.status is MessageStatus.SENDING:
            if message.due_at is None or message.due_at > now:
                return "busy"
            if message.is_staff:
                self._delivery.fail(message, "delivery_unknown", now)
                return "failed"
            stale = True
        elif not message.status.waiting:
            self._uow().messages.clear_due(message)
            return "skipped"
        policy = self._policies.get(message.agency_id)
        if message.override_reason is None and not policy.calendar.is_open(now):
            if stale:
                return "busy"  # retried at the next sweep while open
            self._uow().messages.reschedule(message, policy.calendar.next_opening(now))
            return "rescheduled"
        client = self._uow().clients.get(message.client_id)
        refusal = ("client file erased" if client is None or client.status_erased()
                   else client.messaging_refusal(notice=message.kind is MessageKind.NOTICE))
        from_number = None
        template = message.template
        problem = None
        if refusal:
            problem = "client_cannot_be_messaged"
        else:
            try:
                from_number = self._work_number(client)
                if message.is_staff:
                    template = self._template_for(client, policy, now)
            except Conflict as err:
                problem = err.code
        claimed = self._uow().messages.claim(message, now + SEND_LEASE, from_number, stale=stale)
        if claimed is None:
            return "busy"
        if problem is not None:
            self._delivery.fail(claimed, problem, now, reason=refusal)
            return "failed"
        from_hold = message.is_staff and message.send_at is not None
        status, _code = self._delivery.attempt(claimed, client, policy, from_number, template, now,
                                               record=self._record_released if from_hold else None)
        return status

    def _record_released(self, message: Message, sid: str, template: str | None, now: datetime) -> None:
        # A held message answers, now that it has gone out, the inquiry that was open when it was
        # written, if that one is still waiting (SPEC §5.2): never one the client opened since.
        policy = self._policies.get(message.agency_id)

        def with_answer() -> bool:
            client = self._uow().clients.get(message.client_id)  # read again on every attempt
            if client is None:
                return False
            inquiry, answer = self._answer_for(client, message.inquiry_id, now, message.staff_id, policy,
                                               message.holding, message.message_id)
            events = [self._event(message, AuditType.STAFF_MESSAGE_RELEASED,
                                  {"message_id": message.message_id, "holding": message.holding}, at=now)]
            if inquiry is not None and answer is not None:
                events.append(self._answered_event(client, inquiry, answer))
            self._mark_sent(message, sid=sid, now=now, template=template, client=client,
                            client_changes=self._client_changes(now, answer, client), inquiry=inquiry,
                            answer=answer, events=events)
            return True

        try:
            if retry_on_conflict(with_answer):
                return
        except ConcurrentUpdate:
            log.warning("held message %s went out while its file kept changing; recorded without its answer",
                        message.message_id)
        # The file kept changing under us (or is gone): the message is out, so record that at least.
        released = self._event(message, AuditType.STAFF_MESSAGE_RELEASED,
                               {"message_id": message.message_id, "holding": message.holding}, at=now)
        try:
            self._mark_sent(message, sid=sid, now=now, template=template, events=[released])
        except ConcurrentUpdate:
            log.warning("staff message %s was sent after its lease ran out", message.message_id)

    def _cancel_held(self, message: Message, event: AuditEvent) -> bool:
        """held -> cancelled with its audit; False once it left ``held``."""
        with self._uow() as uow:
            uow.messages.cancel(message)
            uow.audit.add([event])
            return uow.commit_unless_changed()


def cancelled_view(message: Message, zone: Any) -> dict[str, Any]:
    from ..views import iso

    return {
        "id": message.message_id,
        "client_id": message.client_id,
        "status": message.status.value,
        "send_at": iso(message.send_at, zone),
        "body": message.body,
    }
