"""Staff messages and their boundaries (issue 4, SPEC §5.2, §5.4).

``send`` is the worker's ``POST /clients/{id}/messages``: only the case manager (or the colleague
covering their absence) writes, only to a client who may be messaged, only from the case manager's
work number. Inside business hours the message is filed and sent at once; outside them it is held
until the next opening (``release`` sends it, called by the sweep), unless the worker gives an
override reason. A message that goes out answers the client's open inquiry.

Nothing is sent twice: a message is only sent by whoever moved it from ``held``/``queued`` (or,
for an immediate send, created it) to ``sending``, a conditional write on its version.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pynamodb.exceptions import PynamoDBException

from ..adapters.claims_repository import IDEMPOTENCY_TTL, send_key
from ..adapters.keys import sort_key
from ..adapters.twilio_gateway import OutboundMessage, PermanentSendError, TransientSendError
from ..adapters.unit_of_work import AlreadyFiled, ConcurrentUpdate
from ..domain import attachments
from ..domain import validation as v
from ..domain.audit import AuditEvent, AuditType, new_id
from ..domain.clock import utcnow
from ..domain.errors import Conflict, Forbidden, InvalidInput, NotFound, Unprocessable
from ..domain.i18n import format_next_open
from ..domain.inquiry import Inquiry, InquiryStatus
from ..domain.messages import Direction, MediaRef, MediaStatus, Message, MessageKind, MessageStatus
from ..domain.model import Channel, Client, Principal, Role
from ..domain.notifications import Notification
from ..domain.outbound import (
    REOPEN_TEMPLATE,
    SEND_LEASE,
    WHATSAPP_WINDOW,
    Answer,
    answer_inquiry,
    plan_send,
    reopen_after_failure,
    retry_delay,
    whatsapp_window_open,
)
from ..domain.policy import Policy
from .automatic import register_accepted
from .retry import retry_on_conflict

if TYPE_CHECKING:
    from ..adapters.unit_of_work import UnitOfWork

log = logging.getLogger("cmdm.messaging")

MAX_OVERRIDE_REASON = 500
LIST_LIMIT = 500
SENT_WRITE_ATTEMPTS = 6
IDEMPOTENCY_KEY = re.compile(r"^[A-Za-z0-9._:-]{1,100}$")
UPLOAD_SECONDS = 300  # a presigned upload is good for five minutes
MEDIA_LINK_SECONDS = 600  # the link Twilio fetches an attachment from
INQUIRY_STATUSES = tuple(s.value for s in InquiryStatus)


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
        holding = body.get("holding", False)
        if holding is None:
            holding = False
        if not isinstance(holding, bool):
            raise InvalidInput("holding", "must be true or false")
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
class RequestUpload:
    """``POST /clients/{id}/uploads``: a file the worker is about to attach."""

    content_type: str
    size: int

    @classmethod
    def parse(cls, payload: Any) -> RequestUpload:
        body = v.require_object(payload)
        content_type = v.text(body, "content_type", max_len=100) or ""
        size = body.get("size")
        if not isinstance(size, int) or isinstance(size, bool):
            raise InvalidInput("size", "must be the file's size in bytes")
        return cls(content_type=content_type, size=size)


@dataclass(frozen=True)
class SendOutcome:
    message: Message
    status: str  # sent | queued | held | failed
    override: bool = False
    inquiry_answered: str | None = None
    template: str | None = None
    error_code: str | None = None


@dataclass(frozen=True)
class ComposePreview:
    """What a staff message written now would do (``MessagingService.compose``)."""

    client: Client
    now: datetime
    open_now: bool
    send_at: datetime
    send_at_text: str
    refusal: str | None
    template: str | None
    window_refusal: str | None
    window_closes_at: datetime | None
    holding_reply: str
    holding_language: str
    attachment_types: tuple[tuple[str, int], ...] = ()  # (content type, largest size) the channel takes
    voice_notes: bool = False  # a voice note may be recorded and sent (policy, and a channel that plays them)


class MessagingService:
    def __init__(
        self,
        uow: Callable[[], UnitOfWork],
        policies: Any,
        gateway: Any,
        status_callback: str | None,
        covering_for: Callable[[Principal], frozenset[str]] | None = None,
        bucket: Any = None,
    ) -> None:
        self._bucket = bucket  # adapters.media.MediaBucket: staff attachments
        self._uow = uow  # a fresh adapters.unit_of_work.UnitOfWork per use
        self._policies = policies
        self._gateway = gateway
        self._status_callback = status_callback
        self._covering_for = covering_for or (lambda principal: frozenset())

    # -- POST /clients/{id}/messages --------------------------------------------------------------

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

    def send(self, principal: Principal, client_id: str, command: SendStaffMessage) -> SendOutcome:
        client = self._sendable_client(principal, client_id)
        policy = self._policies.get(client.agency_id)
        now = utcnow()
        plan = plan_send(now, policy.calendar, command.override_reason)
        from_number = self._work_number(client)
        message_id = new_id("msg")
        once_key = fingerprint = None
        if command.idempotency_key is not None:
            key = f"{client.agency_id}|{principal.staff_id}|{client.client_id}|{command.idempotency_key}"
            message_id = "msg_" + hashlib.sha256(key.encode()).hexdigest()[:26]
            once_key, fingerprint = send_key(message_id), command.fingerprint(client.client_id)
            earlier = self._uow().messages.find(client.client_id, message_id)
            if earlier is not None:  # a retry: answer what the first request did, send nothing
                self._same_request(once_key, fingerprint)
                return self._replayed(earlier)
        template = self._template_for(client, policy, plan.send_at)
        media = self._attachment(client, command.media_key, template) if command.media_key else ()
        message = Message(
            client_id=client.client_id,
            direction=Direction.OUTBOUND,
            kind=MessageKind.STAFF,
            from_number=from_number,
            sk=sort_key(now, message_id),
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
                self._file(message, events=[filed, held],
                                                  once_key=once_key, fingerprint=fingerprint)
            except AlreadyFiled:
                return self._replay_or_busy(client.client_id, message_id, once_key, fingerprint)
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
                once_key=once_key,
                fingerprint=fingerprint,
            )
            return current, answer

        try:
            client, answer = retry_on_conflict(file_now)
        except AlreadyFiled:
            return self._replay_or_busy(client.client_id, message_id, once_key, fingerprint)
        except ConcurrentUpdate:
            raise Conflict("the client file changed while sending; please try again", code="busy") from None
        if answer is not None:
            message = replace(message, inquiry_id=answer.inquiry_id)  # a send failure takes it back
        status, code = self._attempt(message, client, policy, from_number, template, now, from_hold=False)
        return SendOutcome(
            message=message,
            status=status,
            override=plan.override,
            inquiry_answered=answer.inquiry_id if answer and answer.answers and status != "failed" else None,
            template=template,
            error_code=code,
        )

    # -- GET /clients/{id}/compose: what sending would do now (the console's composer) ------------

    def compose(self, principal: Principal, client_id: str, language: str = "en") -> ComposePreview:
        """What ``send`` would do if called now, from the same rules, changing nothing.

        The console shows it before the worker presses Send ("sent now", or held and sent at the
        next opening, or WhatsApp's approved template instead of the text), so the browser never
        re-implements business time. ``language`` is the console's, for the written send time.
        """
        client = self._writable_client(principal, client_id)
        policy = self._policies.get(client.agency_id)
        now = utcnow()
        refusal = client.messaging_refusal()
        plan = plan_send(now, policy.calendar, None)
        template, window_refusal = None, None
        if refusal is None:
            try:
                template = self._template_for(client, policy, plan.send_at)
            except Conflict as err:
                window_refusal = err.message
        manager = self._uow().staff.get(client.agency_id, client.case_manager_id)
        holding = policy.render("holding_reply", client.language, case_manager=manager.name if manager else "",
                                agency_name=policy.name, client_name=client.name or "")
        window_closes = None
        if client.channel is Channel.WHATSAPP and client.last_inbound_at is not None:
            window_closes = client.last_inbound_at + WHATSAPP_WINDOW
        return ComposePreview(
            client=client, now=now, open_now=plan.send_now, send_at=plan.send_at,
            send_at_text=format_next_open(plan.send_at, policy.timezone, language, now=now),
            refusal=f"cannot message this client: {refusal}" if refusal else None,
            template=template, window_refusal=window_refusal, window_closes_at=window_closes,
            holding_reply=holding, holding_language=policy.template_language("holding_reply", client.language),
            attachment_types=tuple((kind, size) for kind, size in sorted(attachments.ALLOWED[client.channel].items())
                                   if policy.voice_notes or not kind.startswith("audio/")),
            voice_notes=policy.voice_notes and "audio/ogg" in attachments.ALLOWED[client.channel],
        )

    def _sendable_client(self, principal: Principal, client_id: str) -> Client:
        """The caller's writable client file, if it may be messaged now (409 ``cannot_message`` if not)."""
        client = self._writable_client(principal, client_id)
        refusal = client.messaging_refusal()
        if refusal:
            raise Conflict(f"cannot message this client: {refusal}", code="cannot_message")
        return client

    def _same_request(self, once_key: str, fingerprint: str | None) -> None:
        """422 when the key was claimed by a different request; claims without a fingerprint
        (written before it existed) and claims already expired replay as they always did."""
        claimed = self._uow().claims.fingerprint(once_key)
        if claimed is not None and claimed != fingerprint:
            raise Unprocessable("this Idempotency-Key was already used for a different message; "
                                "use a new key for a new message", code="idempotency_key_reused")

    def _replay_or_busy(self, client_id: str, message_id: str, once_key: str | None = None,
                        fingerprint: str | None = None) -> SendOutcome:
        """Another request with the same key won the claim: answer what it did, once it is filed
        (422 if it asked for something else)."""
        if once_key is not None:
            self._same_request(once_key, fingerprint)
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

    def release(self, client_id: str, sk: str, now: datetime) -> str:
        """Send one due message if it is still waiting; returns what happened (for the summary).

        Staff messages and the automated ones (follow-ups, check-ins, surveys: issue 5) share the
        ``outbound_due`` index. Only staff messages answer inquiries and are re-checked against the
        WhatsApp window (an automated one already carries its approved template). A ``sending``
        message whose lease ran out is ambiguous (Twilio may have it): a staff message is then
        reported failed rather than risk sending it twice; an automated one is retried, as the
        follow-up run intends (never lost).
        """
        message = self._uow().messages.get(client_id, sk)
        if message is None:
            return "missing"
        stale = False
        if message.status is MessageStatus.SENDING:
            if message.due_at is None or message.due_at > now:
                return "busy"
            if message.is_staff:
                self._fail(message, "delivery_unknown", now)
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
        client = self._uow().clients.get(client_id)
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
            self._fail(claimed, problem, now, reason=refusal)
            return "failed"
        status, _code = self._attempt(claimed, client, policy, from_number, template, now,
                                      from_hold=message.is_staff and message.send_at is not None)
        return status

    # -- sending --------------------------------------------------------------------------------

    def _attempt(
        self,
        message: Message,
        client: Client,
        policy: Policy,
        from_number: str,
        template: str | None,
        now: datetime,
        *,
        from_hold: bool,
    ) -> tuple[str, str | None]:
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
                self._fail(message, code, now)
                return "failed", code
            self._uow().messages.queued(message, now + retry_delay(message.attempts), err.code)
            return "queued", err.code
        except PermanentSendError as err:
            code = err.code or "refused"
            self._fail(message, code, now)
            return "failed", code
        self._record_sent(message, result.sid, template, now, from_hold=from_hold)
        return "sent", None

    def _record_sent(self, message: Message, sid: str, template: str | None, now: datetime, *,
                     from_hold: bool) -> None:
        if not from_hold:
            # Twilio has the message: whatever happens to this write, the answer is "sent" (a 500
            # would invite a second copy). A throttle is retried with backoff. An automatic message
            # (follow-up, notice) is counted with this write, once accepted (services/automatic.py).
            mark = self._mark_sent if message.is_staff else self._mark_automatic_sent
            try:
                retry_on_conflict(lambda: mark(message, sid=sid, now=now, template=template),
                                  attempts=SENT_WRITE_ATTEMPTS, also=(PynamoDBException,))
            except ConcurrentUpdate:  # the lease ran out and the sweep already reported it
                log.warning("message %s was sent after its lease ran out", message.message_id)
            except PynamoDBException as err:
                log.error("message %s was sent but its status could not be recorded: %s",
                          message.message_id, type(err).__name__)
            return
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

    def _fail(self, message: Message, code: str, now: datetime, reason: str | None = None) -> None:
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

    # -- units of work: each change of a message with what must change with it ----------------------

    def _file(self, message: Message, *, client: Client | None = None, client_changes: dict[str, Any] | None = None,
              inquiry: Inquiry | None = None, answer: Answer | None = None, events: Sequence[AuditEvent] = (),
              notifications: Sequence[Notification] = (), once_key: str | None = None,
              fingerprint: str | None = None) -> None:
        """A new staff message with its audit (and, when it goes now, the file and the inquiry).

        ``once_key`` (the caller's ``Idempotency-Key``) is claimed in the same unit of work, with the
        request's ``fingerprint``: of two requests with one key at once, the second raises
        ``AlreadyFiled`` and files nothing.
        """
        with self._uow() as uow:
            if once_key is not None:
                uow.claims.add(once_key, message.at, IDEMPOTENCY_TTL, AlreadyFiled, ref=message.message_id,
                               also_conflict=True, fingerprint=fingerprint)
            uow.messages.add(replace(message, inquiry_id=answer.inquiry_id) if answer else message)
            self._answering(uow, client, client_changes, inquiry, answer)
            uow.audit.add(events)
            uow.notifications.add(message.agency_id, notifications)
            uow.commit()

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

    def _cancel_held(self, message: Message, event: AuditEvent) -> bool:
        """held -> cancelled with its audit; False once it left ``held``."""
        with self._uow() as uow:
            uow.messages.cancel(message)
            uow.audit.add([event])
            return uow.commit_unless_changed()

    @staticmethod
    def _answering(uow: UnitOfWork, client: Client | None, client_changes: dict[str, Any] | None,
                   inquiry: Inquiry | None, answer: Answer | None) -> None:
        if client is not None and client_changes:
            uow.clients.update(client, client_changes)
        if inquiry is not None and answer is not None:
            uow.inquiries.answer(inquiry, answer)

    # -- rules needing storage ------------------------------------------------------------------

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

    # -- POST /clients/{id}/uploads: an attachment goes straight to the bucket --------------------

    def upload(self, principal: Principal, client_id: str, command: RequestUpload) -> dict[str, Any]:
        """A presigned POST for one attachment to this file, if the channel takes it (SPEC §4.4)."""
        client = self._sendable_client(principal, client_id)
        content_type = attachments.check(client.channel, command.content_type, command.size)
        self._voice_notes_permitted(client, content_type)
        if self._bucket is None:
            raise Conflict("this deployment has no media bucket", code="no_media_bucket")
        upload_id = "up_" + uuid.uuid4().hex
        key = attachments.upload_key(client.agency_id, client.client_id, upload_id)
        largest = attachments.limit_for(client.channel, content_type)
        form = self._bucket.upload_form(key, content_type, largest, seconds=UPLOAD_SECONDS)
        return {"key": key, "url": form["url"], "fields": form["fields"], "content_type": content_type,
                "max_size": largest, "expires_in": UPLOAD_SECONDS}

    def _attachment(self, client: Client, key: str, template: str | None) -> tuple[MediaRef, ...]:
        """The upload ``key`` as the message's attachment, once it is checked to be what may go."""
        attachments.upload_id_of(client.agency_id, client.client_id, key)
        if template is not None:
            raise Conflict("WhatsApp's 24-hour window is closed: only the approved template can be sent now; "
                           "send the text first and the file once the client answers", code="whatsapp_window_closed")
        found = self._bucket.head(key) if self._bucket is not None else None
        if found is None:
            raise InvalidInput("media", "the upload has not arrived in the bucket; attach the file again")
        content_type, size = found
        content_type = attachments.check(client.channel, content_type, size)
        self._voice_notes_permitted(client, content_type)
        head = self._bucket.first_bytes(key, attachments.SNIFF_BYTES)
        if content_type == "audio/ogg" and not attachments.is_ogg_opus(head):
            raise InvalidInput("media", "an OGG voice note must be Ogg/Opus, the only audio WhatsApp plays as a voice note")
        if not attachments.matches_content(content_type, head):
            raise InvalidInput("media", f"the file is not a {content_type} file, though it was uploaded as one; "
                                        "attach the original file")
        return (MediaRef(content_type=content_type, s3_key=key, status=MediaStatus.STORED, size=size),)

    def _voice_notes_permitted(self, client: Client, content_type: str) -> None:
        if content_type.startswith("audio/") and not self._policies.get(client.agency_id).voice_notes:
            raise Conflict("this agency's messaging policy does not permit voice notes", code="voice_notes_not_permitted")

    def _template_variables(self, client: Client, policy: Policy, template: str) -> dict[str, str]:
        manager = self._uow().staff.get(client.agency_id, client.case_manager_id)
        return policy.whatsapp_variables(
            template,
            client_name=client.name or "",
            case_manager=manager.name if manager else "",
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
                changes.update(open_inquiry_id=None, open_inquiry_due_at=None)
            elif answer.due_at is not None:
                changes.update(open_inquiry_due_at=answer.due_at)  # still open: the longer clock runs
        return changes

    def _override_notifications(self, client: Client, sender: str, now: datetime, message_id: str) -> list[Notification]:
        return [
            Notification(
                recipient_id=supervisor,
                type="override",
                at=now,
                client_id=client.client_id,
                message=f"{sender} sent a message outside business hours with an override reason",
                notification_id=f"override-{message_id}",
            )
            for supervisor in self._uow().staff.ids_with_role(client.agency_id, Role.SUPERVISOR)
        ]

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

    # -- GET /inquiries, GET /notifications -------------------------------------------------------

    def inquiries(self, principal: Principal, status: str) -> list[Inquiry]:
        status = v.one_of(status, "status", INQUIRY_STATUSES)
        if principal.sees_whole_agency():
            found = self._uow().inquiries.of_agency(principal.agency_id, status, LIST_LIMIT)
        else:
            found = []
            for staff_id in sorted({principal.staff_id, *self._covering_for(principal)}):
                found.extend(self._uow().inquiries.of_staff(principal.agency_id, staff_id, status, LIST_LIMIT))
        return sorted(found, key=lambda i: (i.due_at, i.inquiry_id))

    def notifications(self, principal: Principal, unread_only: bool = False) -> list[Notification]:
        found = self._uow().notifications.of(principal.agency_id, principal.staff_id, LIST_LIMIT)
        return [n for n in found if not n.read] if unread_only else found

    def mark_read(self, principal: Principal, notification_id: str) -> Notification:
        """Mark one of the caller's own notifications read (another person's is simply not found)."""
        if not v.is_identifier(notification_id):
            raise NotFound("no such notification")
        note = self._uow().notifications.mark_read(principal.agency_id, principal.staff_id, notification_id)
        if note is None:
            raise NotFound("no such notification")
        return note


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


def cancelled_view(message: Message, zone: Any) -> dict[str, Any]:
    from ..views import iso

    return {
        "id": message.message_id,
        "client_id": message.client_id,
        "status": message.status.value,
        "send_at": iso(message.send_at, zone),
        "body": message.body,
    }


def notification_view(note: Notification, zone: Any) -> dict[str, Any]:
    from ..views import iso

    return {
        "id": note.notification_id,
        "type": note.type,
        "at": iso(note.at, zone),
        "client_id": note.client_id,
        "inquiry_id": note.inquiry_id,
        "message": note.message,
        "read": note.read,
    }


__all__ = ["MessagingService", "SendOutcome", "SendStaffMessage", "cancelled_view", "notification_view", "send_view"]


def compose_view(preview: ComposePreview, zone: Any) -> dict[str, Any]:
    from ..views import iso

    closed = not preview.open_now
    return {
        "client_id": preview.client.client_id,
        "now": iso(preview.now, zone),
        "can_send": preview.refusal is None and preview.window_refusal is None,
        "refusal": preview.refusal or preview.window_refusal,
        "open_now": preview.open_now,
        # Without an override: sent now inside business hours, else held until send_at.
        "outcome": "sent" if preview.open_now else MessageStatus.HELD.value,
        "send_at": iso(preview.send_at, zone),
        "send_at_text": preview.send_at_text,
        "override_possible": closed,
        "channel": preview.client.channel.value,
        "whatsapp_window_closes_at": iso(preview.window_closes_at, zone),
        "template": preview.template,
        "holding_reply": {"body": preview.holding_reply, "language": preview.holding_language},
        # What may be attached on this channel under this policy (POST /clients/{id}/uploads checks it again).
        "attachments": {"types": [{"content_type": kind, "max_size": size} for kind, size in preview.attachment_types],
                        "voice_notes": preview.voice_notes},
    }
