"""Calls from and to work numbers (issue 25, SPEC §4.4 "Calls", §5.10).

* ``place``: ``POST /clients/{id}/calls``. The case manager (or the covering colleague) rings their
  own phone first, from the work number; Twilio then connects the client, who sees only the work
  number. Who may call, and when, are the staff-message rules (``Outgoing``, ``plan_send``):
  while closed only with an override reason, recorded and reviewed like a message override.
* ``incoming``: a call to a work number. What the caller hears is ``domain.calls``'s to decide.
* ``dial_result``, ``progress``: Twilio's ``<Dial>`` action and call status callbacks move the call's
  ``call`` message forward only; an answered outgoing call answers the inquiry it was placed for.
* ``voicemail``: Twilio's recording callback files the voicemail on the call's message (copied
  to the bucket and deleted at Twilio by the media job, like any client media) and opens or joins
  an inquiry with the response clock.

Nothing here logs a number; a refused caller leaves one audit event with neither number nor SID.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ..adapters.twilio_calls import OutboundCall
from ..adapters.twilio_gateway import PermanentSendError, TransientSendError
from ..domain import validation as v
from ..domain.audit import AuditEvent, AuditType, new_id
from ..domain.calls import (
    VOICEMAIL_SUFFIX,
    VOICEMAIL_TYPE,
    CallStatus,
    VoiceAnswer,
    call_status_advances,
    closed_answer,
    duration_of,
    intake_answer,
    ring_answer,
    voicemail_answer,
    voicemail_clock,
)
from ..domain.clock import utcnow
from ..domain.errors import Conflict, InvalidInput
from ..domain.inbound import refusal_of
from ..domain.messages import Direction, MediaRef, Message, MessageKind, MessageStatus
from ..domain.model import Channel, Client, Principal, Role
from ..domain.notifications import Notification
from ..domain.outbound import plan_send
from ..domain.validation import twilio_address
from .outgoing import Outgoing
from .retry import retry_on_conflict

if TYPE_CHECKING:
    from ..adapters.twilio_calls import CallGateway
    from ..adapters.unit_of_work import UnitOfWork

log = logging.getLogger("cmdm.calls")

CALL_SID = re.compile(r"^CA[0-9a-f]{32}$")
RECORDING_SID = re.compile(r"^RE[0-9a-f]{32}$")
MAX_OVERRIDE_REASON = 500


@dataclass(frozen=True)
class PlaceCall:
    override_reason: str | None = None

    @classmethod
    def parse(cls, payload: Any) -> PlaceCall:
        body = v.require_object(payload if payload is not None else {})
        present = body.get("override_reason") is not None
        # Present means "call now, it is an emergency": a blank reason is an error, never a silent refusal.
        return cls(override_reason=v.text(body, "override_reason", required=present, max_len=MAX_OVERRIDE_REASON))


def _call_sid(form: Mapping[str, str]) -> str:
    sid = (form.get("CallSid") or "").strip()
    if not CALL_SID.match(sid):
        raise InvalidInput("CallSid", "is missing or not a Twilio call SID")
    return sid


@dataclass(frozen=True)
class CallForm:
    """Twilio's voice webhook for a call to a work number (``From``, ``To``, ``CallSid``)."""

    call_sid: str
    caller: str
    to: str

    @classmethod
    def parse(cls, form: Mapping[str, str]) -> CallForm:
        return cls(_call_sid(form), twilio_address((form.get("From") or "").strip(), "From"),
                   twilio_address((form.get("To") or "").strip(), "To"))


@dataclass(frozen=True)
class CallProgress:
    """A status callback (``CallStatus``, ``CallDuration``) or a ``<Dial>`` action (``DialCallStatus``,
    ``DialCallDuration``): where the call is now."""

    call_sid: str
    status: CallStatus
    duration_seconds: int | None
    dial: bool = False  # the ``<Dial>``'s result: for an outgoing call, whether the client answered

    @classmethod
    def parse(cls, form: Mapping[str, str], *, dial: bool = False) -> CallProgress:
        name = "DialCallStatus" if dial else "CallStatus"
        status = CallStatus.of(form.get(name) or "")
        if status is None:
            raise InvalidInput(name, "is missing or unknown")
        duration = form.get("DialCallDuration" if dial else "CallDuration")
        return cls(_call_sid(form), status, duration_of(duration), dial)


@dataclass(frozen=True)
class RecordingForm:
    """Twilio's recording status callback (``RecordingSid``, ``RecordingUrl``, ``RecordingStatus``)."""

    call_sid: str
    recording_sid: str
    url: str
    status: str
    duration_seconds: int | None

    @classmethod
    def parse(cls, form: Mapping[str, str]) -> RecordingForm:
        sid = (form.get("RecordingSid") or "").strip()
        if not RECORDING_SID.match(sid):
            raise InvalidInput("RecordingSid", "is missing or not a Twilio recording SID")
        url = (form.get("RecordingUrl") or "").strip()
        if not url.startswith("https://") or len(url) > 500 or not url.endswith(sid):
            raise InvalidInput("RecordingUrl", "is missing or not the recording's URL")
        return cls(_call_sid(form), sid, url, (form.get("RecordingStatus") or "completed").strip().lower(),
                   duration_of(form.get("RecordingDuration")))


@dataclass(frozen=True)
class PlacedOutcome:
    message: Message
    override: bool
    error_code: str | None = None


class CallService(Outgoing):
    def __init__(self, uow: Callable[[], UnitOfWork], policies: Any, calls: CallGateway, *, public_url: str,
                 covering_for: Callable[[Principal], frozenset[str]] | None = None,
                 cover_lookup: Callable[[Client, datetime], Any] | None = None) -> None:
        super().__init__(uow, policies, covering_for)
        self._calls = calls
        self._public_url = public_url.rstrip("/")
        self._cover_lookup = cover_lookup or (lambda client, at: None)

    def url(self, path: str) -> str:
        return self._public_url + path

    # -- POST /clients/{id}/calls -----------------------------------------------------------------

    def place(self, principal: Principal, client_id: str, command: PlaceCall,
              connect: Callable[[str, str], str]) -> PlacedOutcome:
        """Ring the caller's own phone, then the client; ``connect(work number, client phone)`` is
        the TwiML that joins them once the worker answers (rendered at the edge)."""
        client = self._writable_client(principal, client_id)
        refusal = refusal_of(client, client.channel)
        if refusal is not None:
            raise Conflict(f"cannot call this client: {refusal.value.replace('_', ' ')}", code=refusal.value)
        policy = self._policies.get(client.agency_id)
        now = utcnow()
        plan = plan_send(now, policy.calendar, command.override_reason)
        if not plan.send_now:
            raise Conflict("the office is closed: a call now needs an override reason (an emergency)",
                           code="after_hours")
        staff = self._uow().staff.get(client.agency_id, principal.staff_id)
        if staff is None or not staff.phone:
            raise Conflict("your staff record has no phone to ring first; an admin adds it (PUT /staff)",
                           code="no_staff_phone")
        work_number = self._work_number(client)
        message = Message(
            message_id=new_id("call"), client_id=client.client_id, agency_id=client.agency_id,
            direction=Direction.OUTBOUND, kind=MessageKind.CALL, body=None, at=now, status=MessageStatus.SENT,
            channel=client.channel, staff_id=principal.staff_id, from_number=work_number,
            inquiry_id=client.open_inquiry_id, override_reason=command.override_reason if plan.override else None,
            call_status=CallStatus.QUEUED.value,
        )
        details = {"message_id": message.message_id, "direction": "outbound", "override": plan.override}
        events = [self._event(message, AuditType.CALL_PLACED, details)]
        notifications: list[Notification] = []
        if plan.override:
            events.append(self._event(message, AuditType.OVERRIDE, {"reason": command.override_reason,
                                                                    "message_id": message.message_id,
                                                                    "call": True}))
            notifications = self._override_notifications(client, principal.staff_id, now, message.message_id)
        with self._uow() as uow:
            uow.messages.add(message)
            uow.audit.add(events)
            uow.notifications.add(client.agency_id, notifications)
            uow.commit()
        call = OutboundCall(from_number=work_number, to=staff.phone, twiml=connect(work_number, client.phone),
                            status_callback=self.url("/webhooks/twilio/voice/status"))
        try:
            placed = self._calls.place(call)
        except (PermanentSendError, TransientSendError) as err:
            failed = replace(message, call_status=CallStatus.FAILED.value, error_code=err.code)
            with self._uow() as uow:
                uow.messages.call_progress(message, CallStatus.FAILED.value, None)
                uow.audit.add([self._event(message, AuditType.CALL_ENDED, self._ended(failed))])
                uow.commit()
            log.warning("call not placed: %s", type(err).__name__)
            return PlacedOutcome(failed, plan.override, err.code or "not_placed")
        status = CallStatus.of(placed.status) or CallStatus.QUEUED
        with self._uow() as uow:
            uow.messages.call_progress(message, status.value, None, sid=placed.sid)
            uow.commit()
        return PlacedOutcome(replace(message, twilio_sid=placed.sid, call_status=status.value), plan.override)

    def _override_notifications(self, client: Client, caller: str, now: datetime, message_id: str) -> list[Notification]:
        return [
            Notification(recipient_id=supervisor, type="override", at=now, client_id=client.client_id,
                         message=f"{caller} called a client outside business hours with an override reason",
                         notification_id=f"override-{message_id}")
            for supervisor in self._uow().staff.ids_with_role(client.agency_id, Role.SUPERVISOR)
        ]

    # -- a call to a work number ------------------------------------------------------------------

    def incoming(self, form: CallForm) -> VoiceAnswer:
        uow = self._uow()
        number = uow.numbers.get(form.to)
        if number is None:
            log.warning("call to a work number no worker holds; ignored")
            return VoiceAnswer(outcome="ignored")
        try:
            policy = self._policies.get(number.agency_id)
        except KeyError:
            return VoiceAnswer(outcome="ignored")
        at = utcnow()
        client = self._caller_file(uow, number.agency_id, form.caller)
        refusal = refusal_of(client, client.channel if client is not None else Channel.SMS)
        if client is None or refusal is not None:
            uow.audit.append([AuditEvent(agency_id=number.agency_id, type=AuditType.CALL_REFUSED, at=at,
                                         actor="system", staff_id=number.staff_id,
                                         details={"reason": refusal.value if refusal else "no_file"})])
            return intake_answer(policy, client.language if client is not None else None)
        earlier = uow.messages.by_sid(form.call_sid)
        answer, status = self._answer_for_caller(client, number.number, policy, at)
        if earlier is None:  # Twilio may post the same call twice: it is filed once
            message = Message(
                message_id=new_id("call"), client_id=client.client_id, agency_id=client.agency_id,
                direction=Direction.INBOUND, kind=MessageKind.CALL, body=None, at=at,
                status=MessageStatus.RECEIVED, channel=client.channel, staff_id=client.case_manager_id,
                from_number=number.number, twilio_sid=form.call_sid, call_status=status.value,
            )
            with uow:
                uow.messages.add(message)
                uow.audit.add([self._event(message, AuditType.CALL_RECEIVED, {
                    "message_id": message.message_id, "direction": "inbound", "answer": answer.outcome})])
                uow.commit()
        return answer

    def _answer_for_caller(self, client: Client, work_number: str, policy: Any,
                           at: datetime) -> tuple[VoiceAnswer, CallStatus]:
        if not policy.calendar.is_open(at):
            return closed_answer(policy, client.language, at), CallStatus.NO_ANSWER
        cover = self._cover_lookup(client, at)
        who = cover.staff_id if cover is not None else client.case_manager_id
        staff = self._uow().staff.get(client.agency_id, who)
        if staff is None or not staff.phone or not staff.active:
            return voicemail_answer(client.language), CallStatus.NO_ANSWER
        return ring_answer(staff.phone, work_number), CallStatus.RINGING

    @staticmethod
    def _caller_file(uow: UnitOfWork, agency_id: str, caller: str) -> Client | None:
        """The caller's file: a call comes from a phone, whichever channel the file messages on."""
        found = None
        for channel in (Channel.SMS, Channel.WHATSAPP):
            client = uow.clients.find(agency_id, channel, caller)
            if client is not None and client.channel is channel:
                if refusal_of(client, channel) is None:
                    return client
                found = found or client
        return found

    # -- where a call is now ----------------------------------------------------------------------

    def dial_result(self, progress: CallProgress) -> VoiceAnswer:
        """The ``<Dial>`` ended: answered (a conversation), or not (voicemail for a caller)."""
        message = self._uow().messages.by_sid(progress.call_sid)
        if message is None or message.kind is not MessageKind.CALL:
            return VoiceAnswer()
        self.progress(progress)
        if message.direction is Direction.INBOUND and not progress.status.answered:
            client = self._uow().clients.get(message.client_id)
            if client is not None and refusal_of(client, client.channel) is None:
                return voicemail_answer(client.language)
        return VoiceAnswer()

    def progress(self, progress: CallProgress) -> bool:
        """Move the call forward (never back); an answered outgoing call answers its inquiry."""
        return retry_on_conflict(lambda: self._progress_once(progress))

    def _progress_once(self, progress: CallProgress) -> bool:
        uow = self._uow()
        message = uow.messages.by_sid(progress.call_sid)
        if message is None or message.kind is not MessageKind.CALL:
            return False
        if not call_status_advances(message.call_status, progress.status):
            return True
        at = utcnow()
        moved = replace(message, call_status=progress.status.value,
                        duration_seconds=progress.duration_seconds if progress.status.ended else None)
        client = inquiry = answer = None
        # The worker's phone answering is not the client answering: only the <Dial>'s result says so.
        client_answered = progress.dial and progress.status.answered
        if message.direction is Direction.OUTBOUND and client_answered and message.inquiry_id:
            client = uow.clients.get(message.client_id)
            if client is not None:
                policy = self._policies.get(client.agency_id)
                inquiry, answer = self._answer_for(client, message.inquiry_id, at, message.staff_id or "", policy,
                                                   False, message.message_id)
        with uow:
            uow.messages.call_progress(message, moved.call_status, moved.duration_seconds)
            if progress.status.ended:
                uow.audit.add([self._event(message, AuditType.CALL_ENDED, self._ended(moved), at=at)])
            if client is not None and inquiry is not None and answer is not None:
                self._answering(uow, client, self._client_changes(at, answer, client), inquiry, answer)
                uow.audit.add([self._answered_event(client, inquiry, answer)])
            uow.commit()
        return True

    @staticmethod
    def _ended(message: Message) -> dict[str, Any]:
        return {"message_id": message.message_id, "direction": message.direction.value,
                "status": message.call_status, "duration_seconds": message.duration_seconds or 0}

    # -- a voicemail ------------------------------------------------------------------------------

    def voicemail(self, form: RecordingForm) -> bool:
        """File a finished recording on its call, for a consented client only; False when ignored."""
        if form.status != "completed":
            return False
        return retry_on_conflict(lambda: self._voicemail_once(form))

    def _voicemail_once(self, form: RecordingForm) -> bool:
        uow = self._uow()
        message = uow.messages.by_sid(form.call_sid)
        if message is None or message.kind is not MessageKind.CALL or message.direction is not Direction.INBOUND:
            return False
        if message.media:  # the callback again: filed once
            return True
        client = uow.clients.get(message.client_id)
        if client is None or refusal_of(client, client.channel) is not None:
            return False
        policy = self._policies.get(client.agency_id)
        at = utcnow()
        cover = self._cover_lookup(client, at)
        clock = voicemail_clock(client, policy, at, cover.staff_id if cover is not None else None)
        ref = MediaRef(content_type=VOICEMAIL_TYPE, twilio_url=form.url + VOICEMAIL_SUFFIX)
        events = [self._event(message, AuditType.VOICEMAIL_FILED,
                              {"message_id": message.message_id, "inquiry_id": clock.inquiry_id,
                               "duration_seconds": form.duration_seconds or 0}, at=at)]
        if clock.inquiry is not None:
            events.append(AuditEvent(agency_id=client.agency_id, type=AuditType.INQUIRY_OPENED, at=at,
                                     actor="client", client_id=client.client_id, staff_id=clock.inquiry.staff_id,
                                     details={"inquiry_id": clock.inquiry_id, "due_at": clock.inquiry.due_at,
                                              "voicemail": True}))
        with uow:
            uow.messages.voicemail(message, ref, clock.inquiry_id)
            if clock.inquiry is not None:
                uow.inquiries.add(clock.inquiry)
            uow.clients.update(client, clock.client_changes)
            uow.audit.add(events)
            uow.commit()
        return True
