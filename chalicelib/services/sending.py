"""Sending a staff message (issue 4, SPEC §5.2, §5.4): ``POST /clients/{id}/messages``.

Only the case manager (or the colleague covering their absence) writes, only to a client who may
be messaged, only from the case manager's work number. Inside business hours the message is filed
and sent at once; outside them it is held until the next opening (``held.py`` releases it),
unless the worker gives an override reason. A message that goes out answers the client's open
inquiry.

Nothing is sent twice: an immediate send is sent only by the request that created it
``sending``; a retry with the same ``Idempotency-Key`` answers the message already written.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ..adapters.unit_of_work import AlreadyFiled, ConcurrentUpdate
from ..domain import validation as v
from ..domain.audit import AuditEvent, AuditType, new_id
from ..domain.clock import utcnow
from ..domain.errors import Conflict, InvalidInput, Unprocessable
from ..domain.inquiry import Inquiry
from ..domain.messages import Direction, Message, MessageKind, MessageStatus
from ..domain.model import Client, Principal, Role
from ..domain.notifications import Notification, override_notification_id
from ..domain.outbound import SEND_LEASE, Answer, plan_send
from .delivery import Delivery
from .outgoing import Outgoing
from .retry import retry_on_conflict
from .uploads import Uploads

if TYPE_CHECKING:
    from ..adapters.unit_of_work import UnitOfWork

MAX_OVERRIDE_REASON = 500
IDEMPOTENCY_KEY = re.compile(r"^[A-Za-z0-9._:-]{1,100}$")


@dataclass(frozen=True)
class SendStaffMessage:
    body: str
    holding: bool = False
    override_reason: str | None = None
    # The caller's key for this one message (``Idempotency-Key`` header): a retry with the same key
    # answers the message already written and never sends it again.
    idempotency_key: str | None = None
    media_key: str | None = None  # an upload of this file (POST /clients/{id}/uploads), sent with the text

    @classmethod
    def parse(cls, payload: Any, idempotency_key: str | None = None) -> SendStaffMessage:
        if idempotency_key is not None and not IDEMPOTENCY_KEY.match(idempotency_key):
            raise InvalidInput("Idempotency-Key", "must be 1-100 letters, digits or . _ : -")
        body = v.require_object(payload)
        holding = v.flag(body, "holding")
        media = body.get("media")
        media_key = None
        if media is not None:
            if (not isinstance(media, list) or len(media) != 1 or not isinstance(media[0], dict)
                    or not isinstance(media[0].get("key"), str)):
                raise InvalidInput("media", 'must be a list of one upload, [{"key": "..."}]')
            media_key = media[0]["key"]
        return cls(
            body=v.text(body, "body", max_len=v.MAX_BODY, required=media_key is None) or "",
            media_key=media_key,
            holding=holding,
            # Present means "send now, it is an emergency": an empty reason is an error, never a hold.
            override_reason=v.text(body, "override_reason", required=body.get("override_reason") is not None,
                                   max_len=MAX_OVERRIDE_REASON),
            idempotency_key=idempotency_key,
        )

    def fingerprint(self, client_id: str) -> str:
        """A digest of what this request asks (never its text): a retry with the same
        ``Idempotency-Key`` asks the same; a reuse of the key for another message does not."""
        asked = {"client_id": client_id, "body": self.body, "holding": self.holding,
                 "override_reason": self.override_reason, "media_key": self.media_key}
        canonical = json.dumps(asked, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class SendOutcome:
    message: Message
    status: str  # sent | queued | held | failed
    override: bool = False
    inquiry_answered: str | None = None
    template: str | None = None
    error_code: str | None = None


class Sending(Outgoing):
    def __init__(
        self,
        uow: Callable[[], UnitOfWork],
        policies: Any,
        delivery: Delivery,
        uploads: Uploads,
        covering_for: Callable[[Principal], frozenset[str]] | None = None,
    ) -> None:
        super().__init__(uow, policies, covering_for)
        self._delivery = delivery
        self._uploads = uploads

    def send(self, principal: Principal, client_id: str, command: SendStaffMessage) -> SendOutcome:
        client = self._sendable_client(principal, client_id)
        policy = self._policies.get(client.agency_id)
        now = utcnow()
        plan = plan_send(now, policy.calendar, command.override_reason)
        from_number = self._work_number(client)
        message_id = new_id("msg")
        fingerprint = None  # the request's digest, when it carries an Idempotency-Key
        if command.idempotency_key is not None:
            key = f"{client.agency_id}|{principal.staff_id}|{client.client_id}|{command.idempotency_key}"
            message_id = "msg_" + hashlib.sha256(key.encode()).hexdigest()[:26]
            fingerprint = command.fingerprint(client.client_id)
            earlier = self._uow().messages.find(client.client_id, message_id)
            if earlier is not None:  # a retry: answer what the first request did, send nothing
                self._same_request(message_id, fingerprint)
                return self._replayed(earlier)
        template = self._template_for(client, policy, plan.send_at)
        media = self._uploads.attachment(client, command.media_key, template) if command.media_key else ()
        message = Message(
            client_id=client.client_id,
            direction=Direction.OUTBOUND,
            kind=MessageKind.STAFF,
            from_number=from_number,
            message_id=message_id,
            agency_id=client.agency_id,
            staff_id=principal.staff_id,
            channel=client.channel,
            body=command.body,
            status=MessageStatus.SENDING if plan.send_now else MessageStatus.HELD,
            at=now,
            holding=command.holding,
            override_reason=command.override_reason if plan.override else None,
            template=template,
            send_at=None if plan.send_now else plan.send_at,
            due_at=now + SEND_LEASE if plan.send_now else plan.send_at,
            attempts=1 if plan.send_now else 0,
            # A held message answers only the inquiry open now, when it is written (SPEC §5.2).
            inquiry_id=None if plan.send_now else client.open_inquiry_id,
            media=media,
        )
        filed = self._event(message, AuditType.MESSAGE_FILED, {"direction": "outbound", "kind": "staff",
                                                               "channel": client.channel, "message_id": message_id})
        if not plan.send_now:
            held = self._event(message, AuditType.STAFF_MESSAGE_HELD,
                               {"message_id": message_id, "send_at": plan.send_at, "holding": command.holding})
            try:
                self._file(message, events=[filed, held], fingerprint=fingerprint)
            except AlreadyFiled:
                return self._replay_or_busy(client.client_id, message_id, fingerprint)
            return SendOutcome(message=message, status=MessageStatus.HELD.value, template=template)

        attempts = 0

        def file_now() -> tuple[Client, Answer | None]:
            nonlocal attempts
            attempts += 1
            # The file moved under the last attempt: read it again (e.g. a STOP that arrived meanwhile).
            current = client if attempts == 1 else self._sendable_client(principal, client_id)
            inquiry, answer = self._answer_for(current, current.open_inquiry_id, now, principal.staff_id, policy,
                                               command.holding, message_id)
            events = [filed, self._event(message, AuditType.STAFF_MESSAGE_SENT,
                                         {"message_id": message_id, "holding": command.holding})]
            notifications: list[Notification] = []
            if plan.override:
                events.append(self._event(message, AuditType.OVERRIDE,
                                          {"reason": command.override_reason, "message_id": message_id}))
                notifications = self._override_notifications(current, principal.staff_id, now, message_id)
            if answer is not None and inquiry is not None:
                events.append(self._answered_event(current, inquiry, answer))
            self._file(
                message,
                client=current,
                client_changes=self._client_changes(now, answer, current),
                inquiry=inquiry,
                answer=answer,
                events=events,
                notifications=notifications,
                fingerprint=fingerprint,
            )
            return current, answer

        try:
            client, answer = retry_on_conflict(file_now)
        except AlreadyFiled:
            return self._replay_or_busy(client.client_id, message_id, fingerprint)
        except ConcurrentUpdate:
            raise Conflict("the client file changed while sending; please try again", code="busy") from None
        if answer is not None:
            message = replace(message, inquiry_id=answer.inquiry_id)  # a send failure takes it back
        status, code = self._delivery.attempt(message, client, policy, from_number, template, now)
        return SendOutcome(
            message=message,
            status=status,
            override=plan.override,
            inquiry_answered=answer.inquiry_id if answer and answer.answers and status != "failed" else None,
            template=template,
            error_code=code,
        )

    def _same_request(self, message_id: str, fingerprint: str | None) -> None:
        """422 when the key was claimed by a different request; claims without a fingerprint
        (written before it existed) and claims already expired replay as they always did."""
        claimed = self._uow().claims.send_fingerprint(message_id)
        if claimed is not None and claimed != fingerprint:
            raise Unprocessable("this Idempotency-Key was already used for a different message; "
                                "use a new key for a new message", code="idempotency_key_reused")

    def _replay_or_busy(self, client_id: str, message_id: str, fingerprint: str | None = None) -> SendOutcome:
        """Another request with the same key won the claim: answer what it did, once it is filed
        (422 if it asked for something else)."""
        if fingerprint is not None:
            self._same_request(message_id, fingerprint)
        earlier = self._uow().messages.find(client_id, message_id)
        if earlier is None:  # its transaction is still in flight
            raise Conflict("a request with this Idempotency-Key is still being handled; retry it in a moment",
                           code="busy")
        return self._replayed(earlier)

    @staticmethod
    def _replayed(message: Message) -> SendOutcome:
        status = message.status
        if status is MessageStatus.HELD:
            shown = MessageStatus.HELD.value
        elif status in (MessageStatus.FAILED, MessageStatus.QUEUED, MessageStatus.CANCELLED):
            shown = status.value
        else:
            shown = "sent"  # sending, sent, delivered...: it is out (or going), never again
        return SendOutcome(message=message, status=shown, override=message.override_reason is not None,
                           inquiry_answered=None, template=message.template)

    # -- the unit of work that files a new message -------------------------------------------------

    def _file(self, message: Message, *, client: Client | None = None, client_changes: dict[str, Any] | None = None,
              inquiry: Inquiry | None = None, answer: Answer | None = None, events: Sequence[AuditEvent] = (),
              notifications: Sequence[Notification] = (), fingerprint: str | None = None) -> None:
        """A new staff message with its audit (and, when it goes now, the file and the inquiry).

        With a ``fingerprint`` (the request carries an ``Idempotency-Key``, from which the message id
        is derived) the key is claimed in the same unit of work, with that digest of the request: of
        two requests with one key at once, the second raises ``AlreadyFiled`` and files nothing.
        """
        with self._uow() as uow:
            if fingerprint is not None:
                uow.claims.remember_send(message.message_id, fingerprint, message.at)
            uow.messages.add(replace(message, inquiry_id=answer.inquiry_id) if answer else message)
            self._answering(uow, client, client_changes, inquiry, answer)
            uow.audit.add(events)
            uow.notifications.add(message.agency_id, notifications)
            uow.commit()

    def _override_notifications(self, client: Client, sender: str, now: datetime, message_id: str) -> list[Notification]:
        return [
            Notification(
                recipient_id=supervisor,
                type="override",
                at=now,
                client_id=client.client_id,
                message=f"{sender} sent a message outside business hours with an override reason",
                notification_id=override_notification_id(message_id),  # a review settles it
                staff_id=sender,
            )
            for supervisor in self._uow().staff.ids_with_role(client.agency_id, Role.SUPERVISOR)
        ]


def send_view(outcome: SendOutcome, zone: Any) -> dict[str, Any]:
    from ..views import iso

    message = outcome.message
    body: dict[str, Any] = {
        "status": outcome.status,
        "message_id": message.message_id,
        "client_id": message.client_id,
        "channel": message.channel.value,
        "holding": message.holding,
        "override": outcome.override,
        "template": outcome.template,
    }
    if outcome.status == MessageStatus.HELD.value:
        body["send_at"] = iso(message.send_at, zone)
    else:
        body["inquiry_answered"] = outcome.inquiry_answered
    if outcome.error_code:
        body["error_code"] = outcome.error_code
    if message.media:
        body["media"] = [{"content_type": ref.content_type, "size": ref.size} for ref in message.media]
    if outcome.template:
        verb = "will be sent" if outcome.status == MessageStatus.HELD.value else "was sent"
        body["note"] = (f"outside WhatsApp's 24-hour window: the agency's approved template {verb} instead of "
                        "your text, which is kept in the file; write again once the client replies")
    return body
