"""What one delivery from a client writes, built from the decision about it (SPEC §5.2, §5.5).

``inbound.decide`` says what the rules want (file it or not, open or join an inquiry, reply,
opt out); this module turns that decision into the ``InboundFiling`` the store writes in one
transaction: the message, the inquiry it opens, the automatic reply, the client's changed
attributes and the audit events. Keeping this apart from the service means the whole filing can
be checked as values, with no store and no Twilio, and the service is left with reading the
file, deciding, writing and the side effects that follow a write.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from . import inbound as rules
from .audit import AuditEvent, AuditType, new_id
from .inbox import preview_of
from .inquiry import Inquiry, InquiryStatus
from .messages import Content, Direction, MediaRef, Message, MessageKind, MessageStatus
from .model import Channel, Client, WorkNumber


@dataclass(frozen=True)
class ClientSnapshot:
    """A client file as the inbound path reads it, with the claims its decision relies on."""

    client: Client
    last_auto_reply_period: str | None
    last_survey_scored_at: datetime | None


@dataclass(frozen=True)
class Delivery:
    """One message as Twilio delivered it, reduced to what the filing needs."""

    message_sid: str
    channel: Channel
    body: str
    media: tuple[tuple[str, str], ...] = ()  # (url, content type)
    content: Content = field(default_factory=Content)


@dataclass
class InboundFiling:
    """Everything one delivery changes, written atomically as one unit of work (``InboundService._commit``)."""

    message_sid: str
    at: datetime
    client: Client | None = None
    client_changes: dict[str, Any] = field(default_factory=dict)
    messages: list[Message] = field(default_factory=list)
    open_inquiry: Inquiry | None = None
    events: list[AuditEvent] = field(default_factory=list)
    # What the decision read, so the write can be conditioned on exactly that (``filing_condition``).
    read_auto_reply_period: str | None = None
    read_survey_scored_at: datetime | None = None
    joined_inquiry_id: str | None = None  # the open inquiry the message joins, which must still be open
    ended_inquiry_id: str | None = None  # the open inquiry an opt-out closes as ``opted_out``
    # A survey score for the follow-up row of the survey sent at ``survey_at``, written in the
    # same transaction so that a throttle never files the reply and drops the score.
    survey_at: datetime | None = None
    score: int | None = None


@dataclass(frozen=True)
class FilingPlan:
    """The filing to write, the client's message in it (if filed) and the reply text sent now."""

    filing: InboundFiling
    message: Message | None
    reply_text: str | None


def plan_filing(delivery: Delivery, number: WorkNumber, snapshot: ClientSnapshot | None, decision: rules.Decision,
                at: datetime) -> FilingPlan:
    """Build the filing that carries out ``decision`` for ``delivery`` to ``number`` at ``at``.

    ``snapshot`` is the file the decision was made on (None: no file on that channel). A survey
    score is carried in ``filing.score``; which follow-up row it lands on is the store's to say.
    """
    agency = number.agency_id
    client = snapshot.client if snapshot is not None else None
    filing = InboundFiling(message_sid=delivery.message_sid, at=at, client=client)
    if snapshot is not None:
        filing.read_auto_reply_period = snapshot.last_auto_reply_period
        filing.read_survey_scored_at = snapshot.last_survey_scored_at
    staff_id = client.case_manager_id if client is not None else number.staff_id
    cid = client.client_id if client is not None else None
    keyword = decision.keyword.value if decision.keyword else None

    def event(audit_type: AuditType, actor: str = "client", **details: Any) -> AuditEvent:
        return AuditEvent(agency_id=agency, type=audit_type, at=at, actor=actor, client_id=cid,
                          staff_id=staff_id, details={"channel": delivery.channel.value, **details})

    changes: dict[str, Any] = dict(decision.client_changes)
    message: Message | None = None
    if decision.file and client is not None:
        message = _file_message(delivery, number, client, decision, at, filing, changes)
        filing.events.append(event(AuditType.MESSAGE_FILED, direction="inbound", kind="client",
                                   message_id=message.message_id, media=len(delivery.media), keyword=keyword))
        if decision.score is not None:
            filing.events.append(event(AuditType.SURVEY_SCORED, score=decision.score))
            if client.last_survey_at is not None:  # the worker's follow-up list shows it too
                filing.score = decision.score
    elif decision.refusal is not None or not decision.file:
        reason = decision.refusal.value if decision.refusal is not None else "not_filed"
        filing.events.append(event(AuditType.MESSAGE_REFUSED, reason=reason, keyword=keyword))

    if decision.opt_change is rules.OptChange.OPT_OUT:
        filing.events.append(event(AuditType.OPTED_OUT, source=decision.opt_source))
        if decision.ends_inquiry is not None:
            filing.ended_inquiry_id = decision.ends_inquiry
            filing.events.append(event(AuditType.INQUIRY_OPTED_OUT, inquiry_id=decision.ends_inquiry))
    elif decision.opt_change is rules.OptChange.OPT_IN:
        filing.events.append(event(AuditType.OPTED_IN, source=decision.opt_source))

    reply_text: str | None = None
    reply = decision.reply
    if reply is not None and reply.kind is rules.ReplyKind.AUTO_REPLY and client is not None:
        # An automatic reply to a file is part of it; it never answers the inquiry.
        reply_msg = Message(
            message_id=new_id("msg"), client_id=client.client_id, agency_id=agency,
            direction=Direction.OUTBOUND, kind=MessageKind.AUTO_REPLY, body=reply.body,
            at=at + timedelta(microseconds=1), status=MessageStatus.SENT, channel=delivery.channel,
            staff_id=None, from_number=number.number,
        )
        filing.messages.append(reply_msg)
        filing.events.append(event(AuditType.AUTO_REPLY_SENT, actor="system", template=reply.template,
                                   message_id=reply_msg.message_id))
        filing.events.append(event(AuditType.MESSAGE_FILED, actor="system", direction="outbound",
                                   kind="auto_reply", message_id=reply_msg.message_id))
        reply_text = reply.body
    if client is not None and changes:  # a filed message always moves last_inbound_at
        filing.client_changes = changes
    return FilingPlan(filing, message, reply_text)


def _file_message(delivery: Delivery, number: WorkNumber, client: Client, decision: rules.Decision, at: datetime,
                  filing: InboundFiling, changes: dict[str, Any]) -> Message:
    """The client's message in the file, with the inquiry it opens or joins."""
    inquiry_id = client.open_inquiry_id
    if decision.inquiry is rules.InquiryStep.OPEN:
        assert decision.due_at is not None
        holder = decision.clock_holder or client.case_manager_id
        inquiry = Inquiry(new_id("inq"), number.agency_id, client.client_id, holder, InquiryStatus.OPEN,
                          opened_at=at, due_at=decision.due_at, crisis=decision.crisis)
        filing.open_inquiry = inquiry
        inquiry_id = inquiry.inquiry_id
        changes["open_inquiry_id"] = inquiry_id
        changes["open_inquiry_due_at"] = decision.due_at
        changes["open_inquiry_opened_at"] = at
        filing.events.append(AuditEvent(
            agency_id=number.agency_id, type=AuditType.INQUIRY_OPENED, at=at, actor="client",
            client_id=client.client_id, staff_id=holder, details={"inquiry_id": inquiry_id, "due_at": decision.due_at},
        ))
    elif decision.inquiry is rules.InquiryStep.JOIN:
        filing.joined_inquiry_id = inquiry_id
    message = Message(
        message_id=new_id("msg"), client_id=client.client_id, agency_id=number.agency_id,
        direction=Direction.INBOUND, kind=MessageKind.CLIENT, body=delivery.body, at=at,
        status=MessageStatus.RECEIVED, channel=delivery.channel, staff_id=client.case_manager_id,
        from_number=number.number, twilio_sid=delivery.message_sid,
        inquiry_id=inquiry_id if decision.inquiry is not rules.InquiryStep.NONE else None,
        media=tuple(MediaRef(content_type=ct, twilio_url=url) for url, ct in delivery.media),
        content=delivery.content, crisis=decision.crisis,
    )
    filing.messages.append(message)
    changes["last_inbound_preview"] = preview_of(delivery.body, len(delivery.media))  # the inbox's line
    return message
