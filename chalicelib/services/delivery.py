"""A staff message's delivery (issue 4, SPEC §5.2): the attempt at Twilio, and what failure takes back.

``attempt`` hands a message (staff, follow-up or notice) to Twilio: sent, queued for a retry
after a transient error, or failed. A staff message that never reaches the client answers
nothing: ``delivery_failed`` (a send that failed here) and ``undo_delivery`` (queued on the unit
of work of a status callback, ``services/inbound.py``) reopen the inquiry it answered and tell
its author.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ..adapters.twilio_gateway import OutboundMessage, PermanentSendError, TransientSendError
from ..adapters.unit_of_work import ConcurrentUpdate, StoreUnavailable
from ..domain.audit import AuditEvent, AuditType
from ..domain.messages import Message
from ..domain.model import Client
from ..domain.notifications import Notification
from ..domain.outbound import reopen_after_failure, retry_delay
from ..domain.policy import Policy
from .automatic import register_accepted
from .outgoing import Outgoing
from .retry import retry_on_conflict

if TYPE_CHECKING:
    from ..adapters.unit_of_work import UnitOfWork

log = logging.getLogger("cmdm.messaging")

SENT_WRITE_ATTEMPTS = 6
MEDIA_LINK_SECONDS = 600  # the link Twilio fetches an attachment from


class Delivery(Outgoing):
    def __init__(self, uow: Callable[[], UnitOfWork], policies: Any, gateway: Any, status_callback: str | None,
                 bucket: Any = None) -> None:
        super().__init__(uow, policies)
        self._gateway = gateway
        self._status_callback = status_callback
        self._bucket = bucket  # adapters.media.MediaBucket: staff attachments

    def attempt(
        self,
        message: Message,
        client: Client,
        policy: Policy,
        from_number: str,
        template: str | None,
        now: datetime,
        *,
        record: Callable[[Message, str, str | None, datetime], None] | None = None,
    ) -> tuple[str, str | None]:
        """Hand the message to Twilio; queue it for a retry after a transient error (until the
        policy's attempts run out), fail it after a permanent one. Once Twilio has it, ``record``
        writes it sent (by default ``record_sent``; a released held message answers its inquiry)."""
        outbound = OutboundMessage(
            from_number=from_number,
            to=client.phone,
            channel=client.channel,
            body=None if template else message.body,
            content_sid=policy.whatsapp_templates[template].content_sid if template else None,
            content_variables=self._template_variables(client, policy, template) if template else {},
            status_callback=self._status_callback,
            # A fresh short-lived link at each attempt: Twilio fetches it within seconds. An approved
            # template carries no attachment: only its approved text and variables go.
            media_urls=() if template else tuple(self._bucket.link(ref.s3_key, seconds=MEDIA_LINK_SECONDS)
                                                 for ref in message.media if ref.s3_key and self._bucket is not None),
        )
        try:
            result = self._gateway.send(outbound)
        except TransientSendError as err:
            if message.attempts >= policy.outbound_max_attempts:
                code = err.code or "retries_exhausted"
                self.fail(message, code, now)
                return "failed", code
            self._uow().messages.queued(message, now + retry_delay(message.attempts), err.code)
            return "queued", err.code
        except PermanentSendError as err:
            code = err.code or "refused"
            self.fail(message, code, now)
            return "failed", code
        (record or self.record_sent)(message, result.sid, template, now)
        return "sent", None

    def record_sent(self, message: Message, sid: str, template: str | None, now: datetime) -> None:
        # Twilio has the message: whatever happens to this write, the answer is "sent" (a 500
        # would invite a second copy). A throttle is retried with backoff. An automatic message
        # (follow-up, notice) is counted with this write, once accepted (services/automatic.py).
        mark = self._mark_sent if message.is_staff else self._mark_automatic_sent
        try:
            retry_on_conflict(lambda: mark(message, sid=sid, now=now, template=template),
                              attempts=SENT_WRITE_ATTEMPTS, also=(StoreUnavailable,))
        except ConcurrentUpdate:  # the lease ran out and the sweep already reported it
            log.warning("message %s was sent after its lease ran out", message.message_id)
        except StoreUnavailable as err:
            log.error("message %s was sent but its status could not be recorded: %s",
                      message.message_id, type(err).__name__)

    def fail(self, message: Message, code: str, now: datetime, reason: str | None = None) -> None:
        details: dict[str, Any] = {"message_id": message.message_id, "error_code": code}
        if reason:
            details["reason"] = reason
        # Automated messages keep their error code on the message; the audit is for staff messages.
        events = [self._event(message, AuditType.STAFF_MESSAGE_FAILED, details, at=now)] if message.is_staff else []
        try:
            self._mark_failed(message, code, events)
        except ConcurrentUpdate:
            log.warning("staff message %s changed before it could be marked failed", message.message_id)
            return
        if message.is_staff:
            self.delivery_failed(message.client_id, message.message_id, message.inquiry_id, message.staff_id,
                                 code, now)

    def delivery_failed(self, client_id: str, message_id: str, inquiry_id: str | None, author: str | None,
                        error_code: str | None, now: datetime) -> bool:
        """A staff message never reached the client: it answers nothing (SPEC §5.2).

        ``undo_delivery`` in a unit of work of its own (a send that failed here; a status callback
        queues it with the status). True when an inquiry was reopened.
        """

        def attempt() -> bool:
            with self._uow() as uow:
                client = uow.clients.get(client_id)
                if client is None:
                    return False
                changes: dict[str, Any] = {}
                reopened = self.undo_delivery(uow, client, changes, message_id, inquiry_id, author, error_code, now)
                if changes:
                    uow.clients.update(client, changes)
                uow.commit()
                return reopened

        try:
            return retry_on_conflict(attempt)
        except ConcurrentUpdate:
            log.warning("inquiry of failed message %s kept changing; not reopened", message_id)
            raise

    def undo_delivery(self, uow: UnitOfWork, client: Client, client_changes: dict[str, Any], message_id: str,
                      inquiry_id: str | None, author: str | None, error_code: str | None, now: datetime) -> bool:
        """Queue on ``uow`` what a failed staff message takes back: the inquiry it answered (or first
        responded to) reads again as it did before, and its author is told (notification
        ``delivery_failed``). The file's own changes go into ``client_changes``, for the caller to
        write with its own in one update. True when an inquiry is reopened.
        """
        inquiry = uow.inquiries.get(inquiry_id) if inquiry_id else None
        policy = self._policies.get(client.agency_id)
        reopening = reopen_after_failure(inquiry, message_id, policy.calendar) if inquiry else None
        note = self._failure_notice(client, message_id, author, error_code, now, reopened=reopening is not None)
        if note is not None:
            uow.notifications.add(client.agency_id, [note])
        if inquiry is None or reopening is None:
            return False
        if client.open_inquiry_id is None or client.open_inquiry_id == inquiry.inquiry_id:
            client_changes.update({"open_inquiry_id": inquiry.inquiry_id, "open_inquiry_due_at": reopening.due_at})
            if inquiry.crisis:  # still unanswered, still a crisis: first in the inbox again (SPEC §5.9)
                client_changes["crisis_at"] = now
        uow.inquiries.reopen(inquiry, reopening)
        uow.audit.add([AuditEvent(
            agency_id=client.agency_id, type=AuditType.INQUIRY_REOPENED, at=now, actor="system",
            client_id=client.client_id, staff_id=inquiry.staff_id,
            details={"inquiry_id": inquiry.inquiry_id, "message_id": message_id, "error_code": error_code,
                     "answer_undone": reopening.answer_undone, "due_at": reopening.due_at},
        )])
        return True

    @staticmethod
    def _failure_notice(client: Client, message_id: str, author: str | None, error_code: str | None,
                        now: datetime, *, reopened: bool) -> Notification | None:
        if not author:
            return None
        code = f" (error {error_code})" if error_code else ""
        tail = " The client's inquiry is open again." if reopened else ""
        return Notification(
            recipient_id=author, type="delivery_failed", at=now, client_id=client.client_id,
            message=f"A message you sent was not delivered{code}.{tail} Please try again or call the client.",
            notification_id=f"delivery-failed-{message_id}",
        )

    def _mark_automatic_sent(self, message: Message, *, sid: str, now: datetime, template: str | None) -> None:
        """sending -> sent for a follow-up or notice, with what counts it (its row, its audit event)."""
        with self._uow() as uow:
            register_accepted(uow, message, sid=sid, now=now, template=template)
            uow.commit()

    def _mark_failed(self, message: Message, code: str, events: Sequence[AuditEvent]) -> None:
        with self._uow() as uow:
            uow.messages.failed(message, code)
            uow.audit.add(events)
            uow.commit()

    def _template_variables(self, client: Client, policy: Policy, template: str) -> dict[str, str]:
        manager = self._uow().staff.get(client.agency_id, client.case_manager_id)
        return policy.whatsapp_variables(
            template,
            client_name=client.name or "",
            case_manager=manager.name if manager else "",
        )
