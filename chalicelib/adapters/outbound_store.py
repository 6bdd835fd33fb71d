"""Storage for staff messages, response clocks, escalations and notifications (issue 4).

Kept apart from ``store.py`` but built on it: the same models, the same audit items, the same
"change and audit in one TransactWrite" rule. Every state change of a message or an inquiry is
conditional on the version read (PynamoDB's ``VersionAttribute``) and on the status it leaves,
so two sweeps, or a sweep and a request, can never both send a message or both record a breach.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pynamodb.exceptions import DoesNotExist, TransactWriteError, UpdateError
from pynamodb.transactions import TransactWrite

from ..domain.audit import AuditEvent, new_id
from ..domain.inquiry import Inquiry, InquiryStatus
from ..domain.model import Channel, Client
from ..domain.outbound import Answer, MessageStatus, Reopening, StaffMessage
from . import models as m
from .store import (
    ConcurrentUpdate,
    DynamoStore,
    agency_staff,
    audit_item,
    condition_failed,
    inquiry_from,
    media_from,
    media_item,
    sort_key,
    transaction_cancelled,
)

AWAITING = (InquiryStatus.OPEN.value, InquiryStatus.BREACHED.value)
MAX_ABSENCES = 100
WAITING = (MessageStatus.HELD.value, MessageStatus.QUEUED.value)


@dataclass(frozen=True)
class Notification:
    recipient_id: str
    type: str
    at: datetime
    message: str
    client_id: str | None = None
    inquiry_id: str | None = None
    notification_id: str = ""
    read: bool = False


def staff_status(agency_id: str, staff_id: str, status: str) -> str:
    return f"{agency_id}#{staff_id}#{status}"


def agency_status(agency_id: str, status: str) -> str:
    return f"{agency_id}#{status}"


def message_from(item: m.MessageModel) -> StaffMessage:
    return StaffMessage(
        client_id=item.client_id,
        sk=item.sk,
        message_id=item.message_id,
        agency_id=item.agency_id,
        staff_id=item.staff_id or "",
        channel=Channel(item.channel),
        body=item.body or "",
        status=MessageStatus.of(item.status),
        at=item.at,
        holding=bool(item.holding),
        override_reason=item.override_reason,
        template=item.template,
        send_at=item.send_at,
        sent_at=item.sent_at,
        due_at=item.due_at,
        attempts=int(item.attempts or 0),
        error_code=item.error_code,
        twilio_sid=item.twilio_sid,
        version=item.version or 1,
        kind=item.kind or "staff",
        inquiry_id=item.inquiry_id,
        media=tuple(media_from(r) for r in (item.media or [])),
    )


def _message_proxy(message: StaffMessage) -> m.MessageModel:
    return m.MessageModel(client_id=message.client_id, sk=message.sk, version=message.version)


def _notification_item(n: Notification, agency_id: str) -> m.NotificationModel:
    return m.NotificationModel(
        recipient=agency_staff(agency_id, n.recipient_id),
        sk=sort_key(n.at, n.notification_id or new_id("nt")),
        type=n.type,
        at=n.at,
        client_id=n.client_id,
        inquiry_id=n.inquiry_id,
        message=n.message,
    )


def notification_from(item: m.NotificationModel) -> Notification:
    return Notification(
        recipient_id=item.recipient.split("#", 1)[-1],
        type=item.type,
        at=item.at,
        message=item.message,
        client_id=item.client_id,
        inquiry_id=item.inquiry_id,
        notification_id=item.sk.split("#", 1)[-1],
        read=bool(item.read),
    )


class AlreadyFiled(Exception):
    """A staff message with this idempotency key was filed (or is being filed) by another request."""


# Idempotency keys are remembered this long: a client retrying a send retries within minutes.
IDEMPOTENCY_TTL = timedelta(days=1)


class OutboundStore:
    """Repository of the outbound feature; ``store`` provides transactions and client updates."""

    def __init__(self, store: DynamoStore) -> None:
        self._store = store

    # -- helpers --------------------------------------------------------------------------------

    def _run(self, body: Callable[[TransactWrite], None], once: bool = False) -> None:
        """One TransactWrite; a failed condition (someone changed an item first) is ConcurrentUpdate.

        With ``once``, the first item is a once-only claim, and losing it is ``AlreadyFiled``.
        """
        try:
            with self._store.transaction() as tx:
                body(tx)
        except TransactWriteError as err:
            reasons = getattr(err, "cancellation_reasons", None) or []
            if once and reasons and reasons[0] is not None and reasons[0].code in (
                    "ConditionalCheckFailed", "TransactionConflict"):
                raise AlreadyFiled() from None
            if transaction_cancelled(err):
                raise ConcurrentUpdate("outbound") from None
            raise

    @staticmethod
    def _audit(tx: TransactWrite, events: Sequence[AuditEvent]) -> None:
        for event in events:
            tx.save(audit_item(event), condition=m.AuditModel.sk.does_not_exist())

    @staticmethod
    def _notify(tx: TransactWrite, agency_id: str, notifications: Sequence[Notification]) -> None:
        for note in notifications:
            tx.save(_notification_item(note, agency_id), condition=m.NotificationModel.sk.does_not_exist())

    @staticmethod
    def _answer(tx: TransactWrite, inquiry: Inquiry, answer: Answer) -> None:
        """Record what one staff message did to the inquiry: its first response, its answer, or both.

        A holding reply leaves the inquiry open (or breached), complex, due again at ``answer.due_at``.
        """
        actions: list[Any] = []
        if answer.first_response:
            actions += [
                m.InquiryModel.first_response_at.set(answer.answered_at),
                m.InquiryModel.first_response_business_seconds.set(answer.business_seconds),
                m.InquiryModel.first_response_late.set(answer.late),
                m.InquiryModel.first_response_message_id.set(answer.message_id)
                if answer.message_id else m.InquiryModel.first_response_message_id.remove(),
            ]
        if answer.holding:
            actions.append(m.InquiryModel.complex.set(True))
            if answer.due_at is not None:
                actions.append(m.InquiryModel.due_at.set(answer.due_at))
            if inquiry.first_due_at is None:
                actions.append(m.InquiryModel.first_due_at.set(inquiry.due_at))
        else:
            answered = InquiryStatus.ANSWERED.value
            actions += [
                m.InquiryModel.status.set(answered),
                m.InquiryModel.staff_status.set(staff_status(inquiry.agency_id, inquiry.staff_id, answered)),
                m.InquiryModel.agency_status.set(agency_status(inquiry.agency_id, answered)),
                m.InquiryModel.answered_at.set(answer.answered_at),
                m.InquiryModel.answered_by.set(answer.answered_by),
                m.InquiryModel.answered_late.set(answer.late),
                m.InquiryModel.answer_message_id.set(answer.message_id)
                if answer.message_id else m.InquiryModel.answer_message_id.remove(),
            ]
        tx.update(
            m.InquiryModel(inquiry_id=inquiry.inquiry_id, version=inquiry.version),
            actions=actions,
            condition=m.InquiryModel.status.is_in(*AWAITING),
        )

    def reopen(
        self,
        inquiry: Inquiry,
        reopening: Reopening,
        *,
        client: Client | None,
        client_changes: dict[str, Any] | None,
        events: Sequence[AuditEvent],
        notifications: Sequence[Notification],
    ) -> None:
        """Take back what a failed staff message counted for (``domain.outbound.reopen_after_failure``)."""
        status = reopening.status.value
        actions: list[Any] = [
            m.InquiryModel.status.set(status),
            m.InquiryModel.staff_status.set(staff_status(inquiry.agency_id, inquiry.staff_id, status)),
            m.InquiryModel.agency_status.set(agency_status(inquiry.agency_id, status)),
            m.InquiryModel.due_at.set(reopening.due_at),
            m.InquiryModel.complex.set(reopening.complex),
            m.InquiryModel.first_response_late.set(reopening.first_response_late),
        ]
        for attr, value in (
            (m.InquiryModel.first_response_at, reopening.first_response_at),
            (m.InquiryModel.first_response_business_seconds, reopening.first_response_business_seconds),
            (m.InquiryModel.first_response_message_id, reopening.first_response_message_id),
        ):
            actions.append(attr.remove() if value is None else attr.set(value))
        if reopening.answer_undone:
            actions += [
                m.InquiryModel.answered_at.remove(),
                m.InquiryModel.answered_by.remove(),
                m.InquiryModel.answered_late.set(False),
                m.InquiryModel.answer_message_id.remove(),
            ]

        def body(tx: TransactWrite) -> None:
            tx.update(m.InquiryModel(inquiry_id=inquiry.inquiry_id, version=inquiry.version), actions=actions,
                      condition=m.InquiryModel.inquiry_id.exists())
            if client is not None and client_changes:
                self._store.update_client(client, client_changes, tx=tx)
            self._audit(tx, events)
            self._notify(tx, inquiry.agency_id, notifications)

        self._run(body)

    def _client_and_answer(
        self,
        tx: TransactWrite,
        client: Client | None,
        client_changes: dict[str, Any] | None,
        inquiry: Inquiry | None,
        answer: Answer | None,
    ) -> None:
        if client is not None and client_changes:
            self._store.update_client(client, client_changes, tx=tx)
        if inquiry is not None and answer is not None:
            self._answer(tx, inquiry, answer)

    # -- staff messages -------------------------------------------------------------------------

    def file_staff_message(
        self,
        message: StaffMessage,
        *,
        from_number: str | None,
        client: Client | None = None,
        client_changes: dict[str, Any] | None = None,
        inquiry: Inquiry | None = None,
        answer: Answer | None = None,
        events: Sequence[AuditEvent] = (),
        notifications: Sequence[Notification] = (),
        once_key: str | None = None,
    ) -> None:
        """Store a new staff message with its audit (and, when it goes now, the client and inquiry).

        ``once_key`` (the caller's ``Idempotency-Key``) is claimed in the same transaction: of two
        requests with one key at once, the second raises ``AlreadyFiled`` and files nothing.
        """
        due = message.status in (MessageStatus.HELD, MessageStatus.QUEUED, MessageStatus.SENDING)
        item = m.MessageModel(
            client_id=message.client_id,
            sk=message.sk,
            message_id=message.message_id,
            agency_id=message.agency_id,
            direction="outbound",
            kind=message.kind,
            body=message.body,
            at=message.at,
            status=message.status.value,
            channel=message.channel.value,
            staff_id=message.staff_id,
            from_number=from_number,
            inquiry_id=answer.inquiry_id if answer else message.inquiry_id,
            send_at=message.send_at,
            holding=message.holding,
            override_reason=message.override_reason,
            template=message.template,
            attempts=message.attempts,
            due_agency=message.agency_id if due else None,
            due_at=message.due_at if due else None,
            media=[media_item(ref) for ref in message.media],
        )

        def body(tx: TransactWrite) -> None:
            if once_key is not None:  # first in the transaction: its cancellation reason is reasons[0]
                tx.save(m.ClaimModel(claim_key=once_key, created_at=message.at, ref=message.message_id,
                                     expires_at=message.at + IDEMPOTENCY_TTL),
                        condition=m.ClaimModel.claim_key.does_not_exist())
            tx.save(item, condition=m.MessageModel.sk.does_not_exist())
            self._client_and_answer(tx, client, client_changes, inquiry, answer)
            self._audit(tx, events)
            self._notify(tx, message.agency_id, notifications)

        self._run(body, once=once_key is not None)

    def get_message(self, client_id: str, sk: str) -> StaffMessage | None:
        try:
            return message_from(m.MessageModel.get(client_id, sk, consistent_read=True))
        except DoesNotExist:
            return None

    def find_message(self, client_id: str, message_id: str) -> StaffMessage | None:
        """One message of a file by its id: a Query of that file's messages (keyed), filtered by id."""
        for item in m.MessageModel.query(client_id, filter_condition=m.MessageModel.message_id == message_id,
                                         consistent_read=True):
            return message_from(item)
        return None

    def cancel_held(self, message: StaffMessage, events: Sequence[AuditEvent]) -> bool:
        """held -> cancelled, out of the due index, with its audit; False once it left ``held``."""

        def body(tx: TransactWrite) -> None:
            tx.update(
                _message_proxy(message),
                actions=[
                    m.MessageModel.status.set(MessageStatus.CANCELLED.value),
                    m.MessageModel.due_agency.remove(),
                    m.MessageModel.due_at.remove(),
                ],
                condition=m.MessageModel.status == MessageStatus.HELD.value,
            )
            self._audit(tx, events)

        try:
            self._run(body)
        except ConcurrentUpdate:
            return False
        return True

    def due_messages(self, agency_id: str, now: datetime) -> Iterator[tuple[str, str]]:
        """(client_id, sk) of messages waiting to be sent (or stuck sending) whose time has come."""
        for item in m.MessageModel.outbound_due.query(agency_id, m.MessageModel.due_at <= now):
            yield item.client_id, item.sk

    def claim(
        self, message: StaffMessage, lease_until: datetime, from_number: str | None, *, stale: bool = False
    ) -> StaffMessage | None:
        """held/queued (or, with ``stale``, an abandoned ``sending``) -> sending, for this caller only.

        The version condition makes the claim exclusive: None when someone else got there first.
        """
        proxy = _message_proxy(message)
        allowed = (*WAITING, MessageStatus.SENDING.value) if stale else WAITING
        try:
            proxy.update(
                actions=[
                    m.MessageModel.status.set(MessageStatus.SENDING.value),
                    m.MessageModel.attempts.set(m.MessageModel.attempts + 1),
                    m.MessageModel.due_at.set(lease_until),
                    m.MessageModel.from_number.set(from_number) if from_number else m.MessageModel.from_number.remove(),
                ],
                condition=m.MessageModel.status.is_in(*allowed),
            )
        except UpdateError as err:
            if condition_failed(err):
                return None
            raise
        return message_from(proxy)

    def mark_sent(
        self,
        message: StaffMessage,
        *,
        sid: str,
        now: datetime,
        template: str | None,
        client: Client | None = None,
        client_changes: dict[str, Any] | None = None,
        inquiry: Inquiry | None = None,
        answer: Answer | None = None,
        events: Sequence[AuditEvent] = (),
    ) -> None:
        """sending -> sent, with the client's last outbound, the inquiry's answer and the audit."""
        actions = [
            m.MessageModel.status.set(MessageStatus.SENT.value),
            m.MessageModel.twilio_sid.set(sid),
            m.MessageModel.sent_at.set(now),
            m.MessageModel.due_agency.remove(),
            m.MessageModel.due_at.remove(),
            m.MessageModel.error_code.remove(),
        ]
        if template:
            actions.append(m.MessageModel.template.set(template))
        if answer is not None:
            actions.append(m.MessageModel.inquiry_id.set(answer.inquiry_id))

        sending = m.MessageModel.status == MessageStatus.SENDING.value
        if not (client_changes or answer or events):
            # Nothing else changes: one conditional UpdateItem is enough.
            try:
                _message_proxy(message).update(actions=actions, condition=sending)
            except UpdateError as err:
                if condition_failed(err):
                    raise ConcurrentUpdate(message.message_id) from None
                raise
            return

        def body(tx: TransactWrite) -> None:
            tx.update(_message_proxy(message), actions=actions, condition=sending)
            self._client_and_answer(tx, client, client_changes, inquiry, answer)
            self._audit(tx, events)

        self._run(body)

    def mark_queued(self, message: StaffMessage, due_at: datetime, code: str | None) -> bool:
        """sending -> queued: a transient failure; the sweep tries again at ``due_at``."""
        actions = [
            m.MessageModel.status.set(MessageStatus.QUEUED.value),
            m.MessageModel.due_agency.set(message.agency_id),
            m.MessageModel.due_at.set(due_at),
            m.MessageModel.error_code.set(code) if code else m.MessageModel.error_code.remove(),
        ]
        try:
            _message_proxy(message).update(actions=actions, condition=m.MessageModel.status == MessageStatus.SENDING.value)
        except UpdateError as err:
            if condition_failed(err):
                return False
            raise
        return True

    def mark_failed(self, message: StaffMessage, code: str, events: Sequence[AuditEvent]) -> None:
        """sending -> failed, with Twilio's error code (or ours) and the audit event."""

        def body(tx: TransactWrite) -> None:
            tx.update(
                _message_proxy(message),
                actions=[
                    m.MessageModel.status.set(MessageStatus.FAILED.value),
                    m.MessageModel.error_code.set(code),
                    m.MessageModel.due_agency.remove(),
                    m.MessageModel.due_at.remove(),
                ],
                condition=m.MessageModel.status == MessageStatus.SENDING.value,
            )
            self._audit(tx, events)

        self._run(body)

    def clear_due(self, message: StaffMessage) -> None:
        """Take a message that is no longer waiting out of the due index (someone else finished it)."""
        try:
            _message_proxy(message).update(actions=[m.MessageModel.due_agency.remove(), m.MessageModel.due_at.remove()])
        except UpdateError as err:
            if not condition_failed(err):
                raise

    def reschedule(self, message: StaffMessage, due_at: datetime) -> bool:
        """A waiting message whose time came while closed waits for the next opening instead."""
        try:
            _message_proxy(message).update(
                actions=[m.MessageModel.due_at.set(due_at)],
                condition=m.MessageModel.status.is_in(*WAITING),
            )
        except UpdateError as err:
            if condition_failed(err):
                return False
            raise
        return True

    def last_from_number(self, client_id: str, candidates: frozenset[str]) -> str | None:
        """The most recent of ``candidates`` this client exchanged messages with (a few keyed reads)."""
        for item in m.MessageModel.query(client_id, scan_index_forward=False, limit=25):
            if item.from_number in candidates:
                return item.from_number
        return None

    # -- inquiries ------------------------------------------------------------------------------

    def get_inquiry(self, inquiry_id: str) -> Inquiry | None:
        return self._store.get_inquiry(inquiry_id)

    def open_inquiries_due(self, agency_id: str, now: datetime) -> Iterator[Inquiry]:
        key = agency_status(agency_id, InquiryStatus.OPEN.value)
        # Strictly before now: at exactly due_at the inquiry is still on time (domain.inquiry.past_due).
        for item in m.InquiryModel.by_agency_status.query(key, m.InquiryModel.due_at < now):
            yield inquiry_from(item)

    def record_breach(
        self, inquiry: Inquiry, now: datetime, events: Sequence[AuditEvent], notifications: Sequence[Notification]
    ) -> bool:
        """open -> breached exactly once, with its audit and the supervisors' notifications."""
        breached = InquiryStatus.BREACHED.value

        def body(tx: TransactWrite) -> None:
            tx.update(
                m.InquiryModel(inquiry_id=inquiry.inquiry_id, version=inquiry.version),
                actions=[
                    m.InquiryModel.status.set(breached),
                    m.InquiryModel.staff_status.set(staff_status(inquiry.agency_id, inquiry.staff_id, breached)),
                    m.InquiryModel.agency_status.set(agency_status(inquiry.agency_id, breached)),
                    m.InquiryModel.breached_at.set(now),
                ],
                condition=m.InquiryModel.status == InquiryStatus.OPEN.value,
            )
            self._audit(tx, events)
            self._notify(tx, inquiry.agency_id, notifications)

        try:
            self._run(body)
        except ConcurrentUpdate:
            return False
        return True

    def inquiries_of_staff(self, agency_id: str, staff_id: str, status: str, limit: int) -> list[Inquiry]:
        items = m.InquiryModel.by_staff_status.query(staff_status(agency_id, staff_id, status), limit=limit)
        return [inquiry_from(i) for i in items]

    def inquiries_of_agency(self, agency_id: str, status: str, limit: int) -> list[Inquiry]:
        items = m.InquiryModel.by_agency_status.query(agency_status(agency_id, status), limit=limit)
        return [inquiry_from(i) for i in items]

    # -- notifications --------------------------------------------------------------------------

    def notify(self, agency_id: str, notifications: Sequence[Notification]) -> None:
        for note in notifications:
            _notification_item(note, agency_id).save(condition=m.NotificationModel.sk.does_not_exist())

    def notifications_of(self, agency_id: str, staff_id: str, limit: int) -> list[Notification]:
        items = m.NotificationModel.query(agency_staff(agency_id, staff_id), scan_index_forward=False, limit=limit)
        return [notification_from(i) for i in items]

    def mark_read(self, agency_id: str, staff_id: str, notification_id: str) -> Notification | None:
        """Mark one of the caller's notifications read; None when the caller has no such one.

        A keyed Query of the caller's own notifications (newest first) finds the sort key, which
        starts with the instant; the update is conditioned on the item still existing.
        """
        recipient = agency_staff(agency_id, staff_id)
        suffix = "#" + notification_id
        for item in m.NotificationModel.query(recipient, scan_index_forward=False):
            if not item.sk.endswith(suffix):
                continue
            try:
                item.update(actions=[m.NotificationModel.read.set(True)], condition=m.NotificationModel.sk.exists())
            except UpdateError:
                return None
            return notification_from(item)
        return None


