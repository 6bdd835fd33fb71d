"""DynamoDB side of inbound messaging: one transaction per Twilio delivery, keyed reads only.

An inbound message costs three round trips in the common case: ``GetItem`` contacts (who is
this sender to this agency), ``GetItem`` clients (the file and its version) and one
``TransactWriteItems`` that claims the ``MessageSid``, files the message and any automatic reply,
opens or joins the inquiry, moves the file's version and appends the audit events. The work
number itself is read once per container (see ``services.inbound.NumberCache``).

Because the ``MessageSid`` claim is in the same transaction as everything else, a retried or
duplicated delivery either finds the claim (and changes nothing) or finds no trace at all of an
attempt that crashed, and files it now: never twice, never half.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from typing import Any

from pynamodb.exceptions import DoesNotExist, TransactWriteError, UpdateError

from ..domain.audit import AuditEvent
from ..domain.filing import ClientSnapshot, InboundFiling
from ..domain.inquiry import Inquiry
from ..domain.messages import Button, Content, Direction, Location, MediaRef, Message, MessageKind
from ..domain.model import Channel
from . import models as m
from .store import (
    ClientChanges,
    ConcurrentUpdate,
    agency_staff,
    audit_item,
    client_from,
    condition_failed,
    contact_key,
    media_from,
    media_item,
    sort_key,
    with_ended_at,
)

CLAIM_TTL = timedelta(days=30)  # Twilio retries for hours at most; a month is plenty
MEDIA_DUE_PREFIX = "media#"  # outbound_due hash key for messages whose media is still on Twilio


class Duplicate(Exception):
    """This ``MessageSid`` (or once-only key) was already handled."""


# Client attributes a filing writes without a condition: instants of activity, last writer wins
# (a burst's messages are milliseconds apart, and nothing is decided from the exact value).
# The inbox's preview of the last message is one of those too.
UNGUARDED = frozenset({"last_inbound_at", "last_inbound_preview"})
# Attributes decided from the value read: written only while they still hold that value.
GUARDED = frozenset({"last_auto_reply_period", "last_survey_scored_at", "open_inquiry_id", "open_inquiry_due_at",
                     "open_inquiry_opened_at"})


def _still(attr: Any, value: Any) -> Any:
    return attr.does_not_exist() if value is None else attr == value


def filing_condition(filing: InboundFiling) -> tuple[Any, bool]:
    """The condition on the client item for one filing, and whether it also needs the version.

    Filing a message must not conflict with filing another from the same client (WhatsApp sends a
    webhook per photo), so the file's version is a condition only for changes decided from the
    whole file (opt-out, opt-in). Otherwise the write holds only what the decision relied on: the
    file is still active and consented as read (a concurrent closure or withdrawal wins), an
    inquiry is opened only while none is open, a message joins an inquiry only while it is open, and
    one automatic reply per period and one score per survey are each claimed by exactly one message.
    """
    client = filing.client
    assert client is not None
    changes = filing.client_changes
    c = m.ClientModel
    condition = (c.client_id.exists() & (c.status == client.status.value)
                 & (c.consent.state == client.consent.state.value) & c.erased_at.does_not_exist())
    if "open_inquiry_id" in changes:
        condition &= _still(c.open_inquiry_id, client.open_inquiry_id)
    elif filing.joined_inquiry_id is not None:
        condition &= c.open_inquiry_id == filing.joined_inquiry_id
    if "last_auto_reply_period" in changes:
        condition &= _still(c.last_auto_reply_period, filing.read_auto_reply_period)
    if "last_survey_scored_at" in changes:
        condition &= _still(c.last_survey_scored_at, filing.read_survey_scored_at)
    if "opted_out" not in changes:
        still_opted = c.opted_out == client.opted_out
        condition &= still_opted if client.opted_out else (still_opted | c.opted_out.does_not_exist())
    versioned = any(name not in UNGUARDED and name not in GUARDED for name in changes)
    return condition, versioned


def message_item(msg: Message) -> m.MessageModel:
    pending = msg.media_pending
    return m.MessageModel(
        client_id=msg.client_id,
        sk=msg.sk or sort_key(msg.at, msg.message_id),
        message_id=msg.message_id,
        agency_id=msg.agency_id,
        direction=msg.direction.value,
        kind=msg.kind.value,
        body=msg.body,
        at=msg.at,
        status=msg.status,
        channel=msg.channel.value,
        staff_id=msg.staff_id,
        from_number=msg.from_number,
        inquiry_id=msg.inquiry_id,
        twilio_sid=msg.twilio_sid,
        media=[media_item(ref) for ref in msg.media],
        due_agency=MEDIA_DUE_PREFIX + msg.agency_id if pending else None,
        due_at=msg.at if pending else None,
        **_content_to(msg.content),
    )


def _content_to(content: Content) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if content.location is not None:
        loc = content.location
        values["location"] = m.LocationMap(latitude=loc.latitude, longitude=loc.longitude,
                                           address=loc.address, label=loc.label)
    if content.button is not None:
        values["button"] = m.ButtonMap(text=content.button.text, payload=content.button.payload)
    if content.forwarded:
        values["forwarded"] = True
    if content.frequently_forwarded:
        values["frequently_forwarded"] = True
    if content.message_type:
        values["message_type"] = content.message_type
    return values


def _content_from(item: m.MessageModel) -> Content:
    loc = item.location
    button = item.button
    return Content(
        location=Location(float(loc.latitude), float(loc.longitude), loc.address, loc.label) if loc else None,
        button=Button(button.text, button.payload) if button else None,
        forwarded=bool(item.forwarded),
        frequently_forwarded=bool(item.frequently_forwarded),
        message_type=item.message_type,
    )


def message_from(item: m.MessageModel) -> Message:
    return Message(
        message_id=item.message_id,
        client_id=item.client_id,
        agency_id=item.agency_id,
        direction=Direction(item.direction),
        kind=_kind(item.kind),
        body=item.body,
        at=item.at,
        status=item.status,
        channel=Channel(item.channel),
        staff_id=item.staff_id,
        from_number=item.from_number,
        inquiry_id=item.inquiry_id,
        twilio_sid=item.twilio_sid,
        media=tuple(media_from(r) for r in (item.media or [])),
        error_code=item.error_code,
        sk=item.sk,
        version=item.version or 0,
        send_at=item.send_at,
        content=_content_from(item),
    )


def _kind(value: str) -> MessageKind:
    try:
        return MessageKind(value)
    except ValueError:  # kinds other features may add (e.g. intake) read as automatic replies
        return MessageKind.AUTO_REPLY


def inquiry_item(inquiry: Inquiry) -> m.InquiryModel:
    status = inquiry.status.value
    return m.InquiryModel(
        inquiry_id=inquiry.inquiry_id,
        agency_id=inquiry.agency_id,
        client_id=inquiry.client_id,
        staff_id=inquiry.staff_id,
        status=status,
        staff_status=f"{inquiry.agency_id}#{inquiry.staff_id}#{status}",
        agency_status=f"{inquiry.agency_id}#{status}",
        opened_at=inquiry.opened_at,
        due_at=inquiry.due_at,
        first_due_at=inquiry.due_at,
        message_count=inquiry.message_count,
        crisis=inquiry.crisis,
    )


class InboundStore:
    """Reads and writes of the inbound path; nothing here scans."""

    def client_id_for(self, agency_id: str, channel: Channel, phone: str) -> str | None:
        try:
            return m.ContactModel.get(contact_key(agency_id, channel, phone), consistent_read=True).client_id
        except DoesNotExist:
            return None

    def snapshot(self, client_id: str) -> ClientSnapshot | None:
        try:
            item = m.ClientModel.get(client_id, consistent_read=True)
        except DoesNotExist:
            return None
        return ClientSnapshot(client_from(item), item.last_auto_reply_period, item.last_survey_scored_at)

    def commit(self, filing: InboundFiling) -> None:
        """Write the filing in one transaction.

        Raises ``Duplicate`` when the ``MessageSid`` was claimed before, ``ConcurrentUpdate`` when
        the file (or its inquiry) changed since it was read: the caller re-reads and decides again.
        """
        claim = m.ClaimModel(
            claim_key=f"sid#{filing.message_sid}", created_at=filing.at, expires_at=filing.at + CLAIM_TTL,
        )
        tx = TransactWriteProxy()
        # Item 0 is the claim, so a cancellation reason at index 0 means "seen before".
        tx.save(claim, condition=m.ClaimModel.claim_key.does_not_exist())
        if filing.client is not None and filing.client_changes:
            proxy = m.ClientModel(client_id=filing.client.client_id, version=filing.client.version)
            condition, versioned = filing_condition(filing)
            changes = with_ended_at(filing.client, dict(filing.client_changes))  # STOP ends it (§5.7)
            tx.update(proxy, actions=ClientChanges(changes).actions(),
                      condition=condition, add_version_condition=versioned)
        for msg in filing.messages:
            tx.save(message_item(msg), condition=m.MessageModel.sk.does_not_exist())
        if filing.open_inquiry is not None:
            tx.save(inquiry_item(filing.open_inquiry), condition=m.InquiryModel.inquiry_id.does_not_exist())
        if filing.survey_row is not None and filing.score is not None:
            row = m.FollowupModel(agency_staff=filing.survey_row[0], sk=filing.survey_row[1])
            tx.update(row, actions=[m.FollowupModel.score.set(filing.score), m.FollowupModel.replied_at.set(filing.at)],
                      condition=m.FollowupModel.sk.exists())
        # A message joining an open inquiry carries its inquiry_id; the inquiry item itself is not
        # touched, which keeps its version (and the staff side's answer) free of inbound races.
        for event in filing.events:
            tx.save(audit_item(event), condition=m.AuditModel.sk.does_not_exist())
        tx.run(filing.message_sid)

    def survey_row(self, agency_id: str, staff_id: str, client_id: str, survey_at: datetime) -> tuple[str, str] | None:
        """The key of the follow-up row of the survey sent at ``survey_at``, if there is one (GetItem)."""
        key = (agency_staff(agency_id, staff_id), sort_key(survey_at, client_id))
        try:
            m.FollowupModel.get(*key, consistent_read=True, attributes_to_get=["sk"])
        except DoesNotExist:
            return None
        return key

    # -- rate limits ----------------------------------------------------------------------------

    def claim_once(self, key: str, at: datetime, ttl: timedelta) -> bool:
        """A once-only marker (e.g. one intake reply per sender per day); False when already taken."""
        from pynamodb.exceptions import PutError

        try:
            m.ClaimModel(claim_key=key, created_at=at, expires_at=at + ttl).save(
                condition=m.ClaimModel.claim_key.does_not_exist()
            )
            return True
        except PutError as err:
            if condition_failed(err):
                return False
            raise

    # -- messages -------------------------------------------------------------------------------

    def messages_of(self, client_id: str) -> list[Message]:
        return [message_from(item) for item in m.MessageModel.query(client_id, scan_index_forward=True)]

    def message_by_sid(self, twilio_sid: str) -> Message | None:
        for key in m.MessageModel.by_sid.query(twilio_sid, limit=1):
            try:
                return message_from(m.MessageModel.get(key.client_id, key.sk, consistent_read=True))
            except DoesNotExist:
                return None
        return None

    def set_status(self, msg: Message, status: str, error_code: str | None,
                   events: Sequence[AuditEvent] = ()) -> None:
        """Move a message's delivery status if nobody moved it since it was read."""
        item = m.MessageModel(client_id=msg.client_id, sk=msg.sk, version=msg.version)
        actions = [m.MessageModel.status.set(status)]
        if error_code:
            actions.append(m.MessageModel.error_code.set(error_code))
        tx = TransactWriteProxy()
        tx.update(item, actions=actions, condition=m.MessageModel.sk.exists())
        for event in events:
            tx.save(audit_item(event), condition=m.AuditModel.sk.does_not_exist())
        tx.run(None, duplicate_on_first=False)

    def media_due(self, agency_id: str, now: datetime, limit: int = 50) -> Iterator[Message]:
        keys = m.MessageModel.outbound_due.query(
            MEDIA_DUE_PREFIX + agency_id, m.MessageModel.due_at <= now, limit=limit,
        )
        for key in keys:
            try:
                yield message_from(m.MessageModel.get(key.client_id, key.sk, consistent_read=True))
            except DoesNotExist:
                continue

    def save_media(self, msg: Message, media: Sequence[MediaRef], next_try: datetime | None) -> None:
        """Record media progress; ``next_try`` None takes the message out of the media queue."""
        item = m.MessageModel(client_id=msg.client_id, sk=msg.sk, version=msg.version)
        actions: list[Any] = [m.MessageModel.media.set([media_item(ref) for ref in media])]
        if next_try is None:
            actions += [m.MessageModel.due_agency.remove(), m.MessageModel.due_at.remove()]
        else:
            actions.append(m.MessageModel.due_at.set(next_try))
        try:
            item.update(actions=actions, condition=m.MessageModel.sk.exists())
        except UpdateError as err:
            if condition_failed(err):
                raise ConcurrentUpdate(msg.message_id) from None
            raise


class TransactWriteProxy:
    """Collects transaction items, then runs them, sorting cancellations into our exceptions."""

    def __init__(self) -> None:
        self._ops: list[tuple[str, Any, dict[str, Any]]] = []

    def save(self, item: Any, **kwargs: Any) -> None:
        self._ops.append(("save", item, kwargs))

    def update(self, item: Any, **kwargs: Any) -> None:
        self._ops.append(("update", item, kwargs))

    def run(self, token: str | None, *, duplicate_on_first: bool = True) -> None:
        from pynamodb.transactions import TransactWrite

        try:
            with TransactWrite(connection=m.transaction_connection()) as tx:
                for op, item, kwargs in self._ops:
                    getattr(tx, op)(item, **kwargs)
        except TransactWriteError as err:
            reasons = getattr(err, "cancellation_reasons", None) or []
            codes = [r.code if r else None for r in reasons]
            if duplicate_on_first and codes and codes[0] == "ConditionalCheckFailed":
                raise Duplicate(token or "") from None
            if any(code in ("ConditionalCheckFailed", "TransactionConflict") for code in codes):
                raise ConcurrentUpdate(token or "") from None
            raise


__all__ = [
    "ClientSnapshot",
    "Duplicate",
    "InboundFiling",
    "InboundStore",
    "MEDIA_DUE_PREFIX",
    "TransactWriteProxy",
    "inquiry_item",
    "message_from",
    "message_item",
]
