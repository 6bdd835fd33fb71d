"""Use cases behind Twilio's webhooks: file an inbound message, record a delivery status.

``InboundService.receive`` turns one signed Twilio form into a decision (``domain.inbound.decide``)
and one atomic write, and returns the automatic reply the webhook answers with as TwiML. It never
logs a phone number or a body; refused messages leave only their reason in the audit trail, and
a marker (SIDs only) for ``services.twilio_cleanup`` to clear Twilio's copy of them.

What follows from a message is in that same write: the intake reply's rate-limit claim, a crisis
alert (``services.crisis``); and a status callback's new status goes with its opt-out (error
21610) and what a failed staff message takes back. A failure writes nothing, and Twilio's retry
does it all again; a conflict reads again and decides again (``services.retry``).
"""

from __future__ import annotations

import logging
import math
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from ..adapters.unit_of_work import Duplicate
from ..domain import inbound as rules
from ..domain.audit import AuditEvent, AuditType
from ..domain.clock import utcnow
from ..domain.errors import InvalidInput
from ..domain.filing import ClientSnapshot, Delivery, InboundFiling, plan_filing
from ..domain.messages import (
    Button,
    Content,
    LeftAtTwilio,
    Location,
    Message,
    MessageStatus,
    status_advances,
    twilio_media_sid,
)
from ..domain.model import Channel, WorkNumber
from ..domain.policy import Policy
from ..domain.validation import twilio_address
from .retry import retry_on_conflict

if TYPE_CHECKING:
    from ..adapters.unit_of_work import UnitOfWork
    from .inbound_alerts import InboundAlerts

log = logging.getLogger("cmdm.inbound")

MAX_MEDIA = 10  # Twilio sends at most 10 media items per message
MAX_BODY = 8000  # WhatsApp allows 4,096 characters, SMS 1,600; anything longer is not Twilio
SID = re.compile(r"^[A-Z]{2}[0-9a-fA-F]{32}$")
# Carriers' and services' short codes (3 to 8 digits, no country code): verification codes, alerts.
# They cannot be a client's phone, so they are acknowledged and ignored (a 400 would make Twilio
# retry the fallback URL, which is this same webhook).
SHORT_CODE = re.compile(r"[0-9]{3,8}", re.ASCII)
OPT_OUT_ERROR = "21610"  # Twilio: the recipient has replied STOP; sending is blocked
WHATSAPP_PREFIX = "whatsapp:"


@dataclass(frozen=True)
class InboundForm:
    """The fields of Twilio's inbound-message webhook that CMDM reads (all others are ignored)."""

    message_sid: str
    sender: str  # E.164
    to: str  # E.164 work number
    channel: Channel
    body: str
    opt_out_type: str | None
    media: tuple[tuple[str, str], ...]  # (url, content type)
    from_short_code: bool = False  # ``sender`` is then the short code itself, not a phone number
    content: Content = field(default_factory=Content)  # location, button, forwarded flags (SPEC §4.4)

    @classmethod
    def parse(cls, form: Mapping[str, str]) -> InboundForm:
        sid = form.get("MessageSid") or form.get("SmsMessageSid") or ""
        if not SID.match(sid):
            raise InvalidInput("MessageSid", "is missing or not a Twilio message SID")
        sender_raw, to_raw = form.get("From", ""), form.get("To", "")
        sender_whatsapp, to_whatsapp = _is_whatsapp(sender_raw), _is_whatsapp(to_raw)
        if sender_whatsapp != to_whatsapp:
            raise InvalidInput("From", "From and To must both be WhatsApp addresses or both phone numbers")
        channel = Channel.WHATSAPP if sender_whatsapp else Channel.SMS
        short_code = not sender_whatsapp and SHORT_CODE.fullmatch(sender_raw.strip()) is not None
        sender = sender_raw.strip() if short_code else twilio_address(_strip(sender_raw), "From")
        to = twilio_address(_strip(to_raw), "To")
        body = form.get("Body", "")
        if len(body) > MAX_BODY:
            raise InvalidInput("Body", f"is longer than {MAX_BODY} characters")
        if any(0xD800 <= ord(ch) <= 0xDFFF for ch in body) or "\x00" in body:
            raise InvalidInput("Body", "contains characters that are not text")
        try:
            num_media = int(form.get("NumMedia", "0") or "0")
        except ValueError:
            raise InvalidInput("NumMedia", "must be a whole number") from None
        if not 0 <= num_media <= MAX_MEDIA:
            raise InvalidInput("NumMedia", f"must be between 0 and {MAX_MEDIA}")
        media = []
        for i in range(num_media):
            url = form.get(f"MediaUrl{i}", "")
            if not url.startswith("https://") and not url.startswith("http://"):
                raise InvalidInput(f"MediaUrl{i}", "is missing or not a URL")
            content_type = form.get(f"MediaContentType{i}", "application/octet-stream")[:100]
            media.append((url[:2000], content_type))
        opt_out_type = (form.get("OptOutType") or "").strip().upper() or None
        return cls(sid, sender, to, channel, body, opt_out_type, tuple(media), from_short_code=short_code,
                   content=parse_content(form))


MAX_FIELD = 1000  # address, label, button text or payload: Twilio's are far shorter


def _short_text(form: Mapping[str, str], name: str) -> str | None:
    value = form.get(name)
    if value is None or not value.strip():
        return None
    if len(value) > MAX_FIELD or "\x00" in value or any(0xD800 <= ord(ch) <= 0xDFFF for ch in value):
        raise InvalidInput(name, f"must be text of at most {MAX_FIELD} characters")
    return value.strip()


def _coordinate(form: Mapping[str, str], name: str, limit: float) -> float:
    try:
        value = float(form.get(name, ""))
    except ValueError:
        raise InvalidInput(name, "must be a number") from None
    if not math.isfinite(value) or abs(value) > limit:
        raise InvalidInput(name, f"must be between -{limit:g} and {limit:g}")
    return value


def parse_content(form: Mapping[str, str]) -> Content:
    """The location share, the button pressed and the forwarding flags of a WhatsApp message.

    Twilio sends a location as ``Latitude``/``Longitude`` (with ``Address`` and ``Label`` when the
    client picked a place) and no body; a quick reply as ``ButtonText``/``ButtonPayload``.
    """
    location = None
    if form.get("Latitude") or form.get("Longitude"):
        location = Location(
            latitude=_coordinate(form, "Latitude", 90.0),
            longitude=_coordinate(form, "Longitude", 180.0),
            address=_short_text(form, "Address"),
            label=_short_text(form, "Label"),
        )
    text, payload = _short_text(form, "ButtonText"), _short_text(form, "ButtonPayload")
    button = Button(text=text, payload=payload) if text or payload else None
    message_type = (form.get("MessageType") or "").strip().lower()[:40] or None
    return Content(
        location=location,
        button=button,
        forwarded=(form.get("Forwarded") or "").strip().lower() == "true",
        frequently_forwarded=(form.get("FrequentlyForwarded") or "").strip().lower() == "true",
        message_type=message_type if message_type and re.fullmatch(r"[a-z_]+", message_type) else None,
    )


@dataclass(frozen=True)
class StatusForm:
    message_sid: str
    status: str
    error_code: str | None

    @classmethod
    def parse(cls, form: Mapping[str, str]) -> StatusForm:
        sid = form.get("MessageSid") or form.get("SmsSid") or ""
        if not SID.match(sid):
            raise InvalidInput("MessageSid", "is missing or not a Twilio message SID")
        status = (form.get("MessageStatus") or form.get("SmsStatus") or "").strip().lower()
        if not re.fullmatch(r"[a-z_]{2,20}", status):
            raise InvalidInput("MessageStatus", "is missing or unknown")
        code = (form.get("ErrorCode") or "").strip() or None
        if code is not None and not code.isdigit():
            raise InvalidInput("ErrorCode", "must be a number")
        return cls(sid, status, code)


@dataclass(frozen=True)
class Outcome:
    """What the webhook answers: the automatic reply text, if one is due (sent as TwiML)."""

    reply: str | None = None
    duplicate: bool = False
    filed: bool = False
    refusal: str | None = None  # why a message was not filed (a ``Refusal`` value), never content
    ignored: bool = False  # sent to a number no agency registered, or no worker holds yet

    @property
    def label(self) -> str:
        """What happened, in one word (the webhook's ``X-CMDM-Outcome`` header, read by ``cli phone``)."""
        if self.ignored:
            return "ignored"
        if self.duplicate:
            return "duplicate"
        return "filed" if self.filed else "refused"


def left_at_twilio(form: InboundForm) -> LeftAtTwilio:
    """What Twilio holds of a refused message: its body, and those media items that are its own."""
    sids = (twilio_media_sid(url, form.message_sid) for url, _type in form.media)
    return LeftAtTwilio(form.message_sid, tuple(sid for sid in sids if sid))


def _is_whatsapp(value: str) -> bool:
    return value.strip().lower().startswith(WHATSAPP_PREFIX)


def _strip(value: str) -> str:
    value = value.strip()
    return value[len(WHATSAPP_PREFIX):] if value.lower().startswith(WHATSAPP_PREFIX) else value


class NumberCache:
    """Work numbers by number, kept per container for a short while (they change rarely).

    Only the agency and the provisioned channels are taken from it; who manages a client is read
    from the client's file on every message, so a re-assignment is never served stale.
    """

    def __init__(self, load: Callable[[str], WorkNumber | None], ttl_seconds: float = 300.0) -> None:
        self._load = load
        self._ttl = ttl_seconds
        self._items: dict[str, tuple[float, WorkNumber | None]] = {}
        self._lock = threading.Lock()

    def get(self, number: str) -> WorkNumber | None:
        now = time.monotonic()
        with self._lock:
            hit = self._items.get(number)
            if hit is not None and now - hit[0] < self._ttl:
                return hit[1]
        found = self._load(number)
        with self._lock:
            self._items[number] = (now, found)
        return found

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


class AbsenceCovers:
    """Who covers an absent case manager, for the inbound side (``domain.inbound.Cover``).

    ``directory`` is the absence service's per-container cache of the agency's staff (names and
    absences), so a warm container's inbound message pays no extra round trip.
    """

    def __init__(self, directory: Callable[[str], tuple[Mapping[str, str], Mapping[str, Any]]], policies: Any) -> None:
        self._directory = directory
        self._policies = policies

    def __call__(self, client: Any, at: datetime) -> rules.Cover | None:
        from ..domain.absence import absence_on, local_day

        names, absences = self._directory(client.agency_id)[:2]
        day = local_day(at, self._policies.get(client.agency_id).calendar.zone())
        absence = absence_on(absences.get(client.case_manager_id, ()), day)
        if absence is None or absence.cover_id == client.case_manager_id:
            return None
        return rules.Cover(
            staff_id=absence.cover_id,
            case_manager_name=names.get(client.case_manager_id, client.case_manager_id),
            cover_name=names.get(absence.cover_id, absence.cover_id),
            reply_key=f"{absence.absence_id}:{day.isoformat()}",  # one absence reply per client per day
        )


class InboundService:
    def __init__(
        self,
        uow: Callable[[], UnitOfWork],
        numbers: NumberCache,
        policies: Any,
        *,
        rate_secret: bytes,
        cover_lookup: rules.CoverLookup = rules.no_cover,
        on_delivery_failed: Callable[..., Any] | None = None,
        crisis: Callable[[], InboundAlerts] | None = None,
        prefetch_staff: Callable[[str], None] | None = None,
    ) -> None:
        # Starts reading the agency's staff directory (absences) while the file is read.
        self.prefetch_staff = prefetch_staff
        # SPEC §5.9, §4.4: whom a filed message tells at once (a crisis at any hour, a voice note after
        # hours, a covered colleague's client), in the unit of work that files it.
        self.crisis = crisis
        # A staff message Twilio could not deliver answers nothing (SPEC §5.2): the messaging
        # service queues, on the status's unit of work, the reopening of what it answered and the
        # notice to its author (``Delivery.undo_delivery``, services/delivery.py).
        self.on_delivery_failed = on_delivery_failed
        self._uow = uow  # a fresh adapters.unit_of_work.UnitOfWork per delivery
        self.numbers = numbers
        self.policies = policies
        self.rate_secret = rate_secret
        self.cover_lookup = cover_lookup

    # -- inbound messages -------------------------------------------------------------------

    def receive(self, form: InboundForm) -> Outcome:
        number = self.numbers.get(form.to)
        if number is None:
            # A number Twilio points at us that no agency registered, or no worker holds yet:
            # nothing to file it under.
            log.warning("inbound message for a work number no worker holds; ignored")
            return Outcome(ignored=True)
        at = utcnow()
        if form.from_short_code:
            return self._ignore_short_code(form, number, at)
        try:
            policy: Policy = self.policies.get(number.agency_id)
        except KeyError:
            return self._refuse_unconfigured(form, number, at)

        if self.prefetch_staff is not None:
            self.prefetch_staff(number.agency_id)

        def attempt() -> Outcome:
            try:
                return self._receive_once(form, number, policy, at)
            except Duplicate:
                return Outcome(duplicate=True)

        # A conflict means the file moved under us (another message opened the inquiry, claimed
        # the automatic reply, or the file was closed): read it again and decide again.
        return retry_on_conflict(attempt)

    def _receive_once(self, form: InboundForm, number: WorkNumber, policy: Policy, at: datetime) -> Outcome:
        agency = number.agency_id
        uow = self._uow()
        snapshot: ClientSnapshot | None = None
        client_id = uow.clients.id_for(agency, form.channel, form.sender)
        if client_id is not None:
            snapshot = uow.clients.snapshot(client_id)
        client = snapshot.client if snapshot is not None else None
        if client is not None and client.channel is not form.channel:
            client, snapshot = None, None

        decision = self._decide(form, number, snapshot, policy, at)
        delivery = Delivery(form.message_sid, form.channel, form.body, form.media, form.content)
        plan = plan_filing(delivery, number, snapshot, decision, at)
        filing, inbound_msg, reply_text = plan.filing, plan.message, plan.reply_text
        if (filing.score is not None and client is not None and client.last_survey_at is not None
                and uow.followups.exists(agency, client.case_manager_id, client.client_id, client.last_survey_at)):
            filing.survey_at = client.last_survey_at
        staff_id = client.case_manager_id if client is not None else number.staff_id
        cid = client.client_id if client is not None else None
        reply = decision.reply

        # One unit of work: the filing (or the refusal), and what follows from it here: the intake
        # reply's once-per-window claim, Twilio's copy of a refused message to clear, a crisis alert.
        # A failure anywhere writes nothing, and Twilio's retry does it all again.
        alerts = self.crisis() if (decision.crisis or decision.alerts) and self.crisis is not None else None
        sms = None
        with uow:
            self._register(uow, filing)
            if inbound_msg is None:
                # Refused: nothing of it is kept here, and Twilio's copy goes too (SPEC §5.3, §5.7).
                uow.claims.leave_at_twilio(left_at_twilio(form), at)
                if reply is not None and reply.kind is rules.ReplyKind.INTAKE:
                    reply_text = self._intake(uow, reply, agency, form, policy, at, cid, staff_id)
            if alerts is not None and client is not None and inbound_msg is not None:
                sms = alerts.queue(uow, decision, client, inbound_msg, policy, at,
                                   opened=filing.open_inquiry is not None)
            uow.commit()
        if alerts is not None and sms is not None:
            alerts.send(sms)

        refused = None
        if inbound_msg is None:
            refused = decision.refusal.value if decision.refusal is not None else "not_filed"
        return Outcome(reply=reply_text, filed=inbound_msg is not None, refusal=refused)

    def _decide(self, form: InboundForm, number: WorkNumber, snapshot: ClientSnapshot | None, policy: Policy,
                at: datetime) -> rules.Decision:
        """The rules' decision on this delivery (``domain.inbound.decide``), the number's channels first."""
        if form.channel not in number.channels:
            return rules.Decision(file=False, refusal=rules.Refusal.CHANNEL_NOT_PROVISIONED)
        arrival = rules.Arrival(form.channel, form.body, at, form.opt_out_type, len(form.media),
                                has_substance=form.content.has_substance(),
                                media_types=tuple(kind for _url, kind in form.media))
        state = None
        cover = None
        if snapshot is not None:
            state = rules.FileState(snapshot.client, snapshot.last_auto_reply_period,
                                    snapshot.client.last_survey_at, snapshot.last_survey_scored_at)
            cover = self.cover_lookup(snapshot.client, at)
        return rules.decide(arrival, state, policy, cover=cover)

    def _refuse_unconfigured(self, form: InboundForm, number: WorkNumber, at: datetime) -> Outcome:
        """The number's agency has no policy here (its file was removed): no rules to file by.

        Acknowledged (a 500 would only make Twilio retry into the same gap) and audited once per
        MessageSid, with neither body nor number, so the operator sees what was turned away.
        """
        log.error("inbound message for a work number whose agency has no policy; refused")
        return self._refuse_once(form, number, at, rules.Refusal.AGENCY_NOT_CONFIGURED)

    def _ignore_short_code(self, form: InboundForm, number: WorkNumber, at: datetime) -> Outcome:
        """A short code's message is nobody's file: audited once per MessageSid, nothing else."""
        log.info("inbound message from a short code; ignored")
        return self._refuse_once(form, number, at, rules.Refusal.SHORT_CODE_SENDER)

    def _refuse_once(self, form: InboundForm, number: WorkNumber, at: datetime, refusal: rules.Refusal) -> Outcome:
        """A refusal filed with no file: one audit event per MessageSid, neither body nor number,
        committed with its claim and with Twilio's copy to clear (one unit of work)."""
        try:
            with self._uow() as uow:
                uow.claims.refuse_once(refusal, form.message_sid, at)
                uow.audit.add([AuditEvent(
                    agency_id=number.agency_id, type=AuditType.MESSAGE_REFUSED, at=at, actor="system",
                    staff_id=number.staff_id, details={"channel": form.channel.value, "reason": refusal.value},
                )])
                uow.claims.leave_at_twilio(left_at_twilio(form), at)
                uow.commit()
        except Duplicate:
            return Outcome(duplicate=True)
        return Outcome(refusal=refusal.value)

    def _intake(self, uow: UnitOfWork, reply: rules.Reply, agency: str, form: InboundForm, policy: Policy,
                at: datetime, client_id: str | None, staff_id: str) -> str | None:
        """Answer a refused sender at most once per ``intake_reply_interval`` (a keyed hash, no number).

        The window's claim and its audit event are queued on ``uow``, with the refusal. Two messages
        of one sender at once both read the claim free; the second's commit fails on it
        (``ConcurrentUpdate``), and its retry reads it taken and stays silent.
        """
        # service_ended (a closed or suspended file) at most once a day (SPEC §5.3); intake by policy.
        window = timedelta(days=1) if reply.template == "service_ended" else policy.intake_reply_interval
        if not uow.claims.reply_to_sender_once(rules.sender_key(self.rate_secret, agency, form.sender),
                                               reply.template, window, at):
            return None
        uow.audit.add([AuditEvent(
            agency_id=agency, type=AuditType.INTAKE_REPLY_SENT, at=at, actor="system", client_id=client_id,
            staff_id=staff_id, details={"channel": form.channel.value, "template": reply.template},
        )])
        return reply.body

    # -- delivery statuses ------------------------------------------------------------------

    def delivery_status(self, form: StatusForm) -> bool:
        """Apply a status callback; False when the message is unknown (nothing to update).

        One unit of work: the new status and, for a failure, what follows from it: its audit, the
        opt-out that Twilio's error 21610 means, and what a failed staff message took back (the
        inquiry it answered, reopened; its author told). All or nothing: a failed write leaves the
        message as it was, so Twilio's retry of the callback does it all. A conflict (the message,
        the file or the inquiry moved) reads again and decides again.
        """
        return retry_on_conflict(lambda: self._apply_status(form))

    def _apply_status(self, form: StatusForm) -> bool:
        uow = self._uow()
        msg = uow.messages.by_sid(form.message_sid)
        if msg is None:
            log.info("status callback for a message CMDM did not send; ignored")
            return False
        if not status_advances(msg.status, form.status):
            return True
        at = utcnow()
        status = MessageStatus.of(form.status)
        undo = status.failed and msg.is_staff and self.on_delivery_failed is not None
        opt_out = form.error_code == OPT_OUT_ERROR
        client = uow.clients.get(msg.client_id) if undo or opt_out else None
        changes: dict[str, Any] = {}
        with uow:
            uow.messages.delivery(msg, status, form.error_code)
            if status.failed and msg.is_staff:
                uow.audit.add([AuditEvent(
                    agency_id=msg.agency_id, type=AuditType.STAFF_MESSAGE_FAILED, at=at, actor="system",
                    client_id=msg.client_id, staff_id=msg.staff_id,
                    details={"message_id": msg.message_id, "error_code": form.error_code},
                )])
            if opt_out and client is not None and not client.opted_out:
                # Twilio says the person replied STOP at the carrier: record it on the file.
                changes.update(rules.opt_out_changes(client, at))
                uow.audit.add([AuditEvent(
                    agency_id=client.agency_id, type=AuditType.OPTED_OUT, at=at, actor="system",
                    client_id=client.client_id, staff_id=client.case_manager_id,
                    details={"source": rules.OptSource.ERROR_21610.value, "channel": client.channel.value},
                )])
                if client.open_inquiry_id is not None and _end_for_opt_out(uow, client.open_inquiry_id, at):
                    uow.audit.add([AuditEvent(
                        agency_id=client.agency_id, type=AuditType.INQUIRY_OPTED_OUT, at=at, actor="system",
                        client_id=client.client_id, staff_id=client.case_manager_id,
                        details={"inquiry_id": client.open_inquiry_id, "channel": client.channel.value},
                    )])
            if undo and client is not None and self.on_delivery_failed is not None:
                self.on_delivery_failed(uow, client, changes, msg.message_id, msg.inquiry_id, msg.staff_id,
                                        form.error_code, at)
            if client is not None and changes:
                uow.clients.update(client, changes)  # one write of the file, whatever changed on it
            uow.commit()
        return True

    # -- reading ----------------------------------------------------------------------------

    def messages(self, client_id: str) -> list[Message]:
        return self._uow().messages.of_client(client_id)

    @staticmethod
    def _register(uow: UnitOfWork, filing: InboundFiling) -> None:
        """Queue the filing on the unit of work: the MessageSid claim first, then everything else.

        Committing raises ``Duplicate`` when the ``MessageSid`` was claimed before, ``ConcurrentUpdate``
        when the file (or its inquiry) changed since it was read: the caller reads again and decides again.
        """
        uow.claims.file_inbound_once(filing.message_sid, filing.at)
        if filing.client is not None and filing.client_changes:
            uow.clients.file(filing)
        for msg in filing.messages:
            uow.messages.add(msg)
        if filing.open_inquiry is not None:
            uow.inquiries.add(filing.open_inquiry)
        if filing.ended_inquiry_id is not None:
            _end_for_opt_out(uow, filing.ended_inquiry_id, filing.at)
        if filing.survey_at is not None and filing.score is not None and filing.client is not None:
            client = filing.client
            uow.followups.score(client.agency_id, client.case_manager_id, client.client_id, filing.survey_at,
                                filing.score, filing.at)
        # A message joining an open inquiry carries its inquiry_id; the inquiry item itself is not
        # touched (unless a crisis marks it, services.crisis), which keeps its version (and the staff
        # side's answer) free of inbound races.
        uow.audit.add(filing.events)


def _end_for_opt_out(uow: UnitOfWork, inquiry_id: str, at: datetime) -> bool:
    """Queue the end of the inquiry an opt-out leaves unanswerable; False when nothing waits on it."""
    inquiry = uow.inquiries.get(inquiry_id)
    if inquiry is None or not inquiry.awaiting_answer:
        return False
    uow.inquiries.end_opted_out(inquiry, at)
    return True
