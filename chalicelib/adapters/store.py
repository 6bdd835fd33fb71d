"""DynamoDB repository: turns PynamoDB items into domain values and back.

Every change that touches a client also writes its audit event in the same ``TransactWrite``,
so a crash leaves either both or neither (SPEC §5.6: nothing half-written). Services see only
domain values and the methods below; no PynamoDB type leaves this module.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from functools import cached_property
from typing import Any

from pynamodb.exceptions import DoesNotExist, PutError, TransactWriteError, UpdateError
from pynamodb.transactions import TransactWrite

from ..domain.audit import AuditEvent, AuditType
from ..domain.errors import Conflict
from ..domain.inquiry import Inquiry, InquiryStatus
from ..domain.messages import MediaRef, MediaStatus
from ..domain.model import (
    Channel,
    Client,
    ClientStatus,
    Consent,
    ConsentState,
    Referral,
    WorkNumber,
)
from . import models as m


class ConcurrentUpdate(Exception):
    """Someone else changed the item between our read and our write; re-read and retry."""


def media_item(ref: MediaRef) -> m.MediaMap:
    """One attachment of a message item (client media and staff uploads alike)."""
    return m.MediaMap(content_type=ref.content_type, twilio_url=ref.twilio_url, s3_key=ref.s3_key,
                      status=ref.status.value, attempts=ref.attempts, size=ref.size)


def media_from(item: m.MediaMap) -> MediaRef:
    return MediaRef(content_type=item.content_type, twilio_url=item.twilio_url, s3_key=item.s3_key,
                    status=MediaStatus(item.status or "pending"), attempts=int(item.attempts or 0),
                    size=int(item.size) if item.size is not None else None)


def transaction_cancelled(err: TransactWriteError) -> bool:
    """Whether a TransactWrite was cancelled by a failed condition or a concurrent transaction."""
    reasons = getattr(err, "cancellation_reasons", None) or []
    return any(r is not None and r.code in ("ConditionalCheckFailed", "TransactionConflict") for r in reasons)


def condition_failed(err: Exception) -> bool:
    """Whether a single-item write failed on its condition (as opposed to any other error)."""
    return getattr(err, "cause_response_code", None) == "ConditionalCheckFailedException"


def contact_key(agency_id: str, channel: Channel, phone: str) -> str:
    return f"{agency_id}#{channel.value}#{phone}"


def agency_staff(agency_id: str, staff_id: str) -> str:
    return f"{agency_id}#{staff_id}"


def sort_key(at: datetime, item_id: str) -> str:
    # Fixed-width UTC so string order is time order.
    return f"{at.strftime('%Y-%m-%dT%H:%M:%S.%fZ')}#{item_id}"


def audit_item(event: AuditEvent) -> m.AuditModel:
    return m.AuditModel(
        agency_id=event.agency_id,
        sk=sort_key(event.at, event.event_id),
        event_id=event.event_id,
        type=event.type.value,
        at=event.at,
        actor=event.actor,
        agency_staff=agency_staff(event.agency_id, event.staff_id) if event.staff_id else None,
        client_id=event.client_id,
        details=_plain(dict(event.details)),
    )


def _plain(value: Any) -> Any:
    """Audit details as DynamoDB-friendly plain values (enums and instants as strings)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items() if v is not None}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_plain(v) for v in value]
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def _consent_from(item: m.ConsentMap | None) -> Consent:
    if item is None:
        return Consent()
    return Consent(
        state=ConsentState(item.state or "none"),
        form_version=item.form_version,
        signed_at=item.signed_at,
        channels=frozenset(Channel(c) for c in (item.channels or [])),
        circle_of_care=tuple(item.circle_of_care or ()),
        posts=bool(item.posts),
        recorded_at=item.recorded_at,
        recorded_by=item.recorded_by,
        withdrawn_at=item.withdrawn_at,
        withdrawn_reason=item.withdrawn_reason,
    )


def _consent_to(consent: Consent) -> m.ConsentMap:
    return m.ConsentMap(
        state=consent.state.value,
        form_version=consent.form_version,
        signed_at=consent.signed_at,
        channels=sorted(c.value for c in consent.channels),
        circle_of_care=list(consent.circle_of_care),
        posts=consent.posts,
        recorded_at=consent.recorded_at,
        recorded_by=consent.recorded_by,
        withdrawn_at=consent.withdrawn_at,
        withdrawn_reason=consent.withdrawn_reason,
    )


def client_from(item: m.ClientModel) -> Client:
    return Client(
        client_id=item.client_id,
        agency_id=item.agency_id,
        case_manager_id=item.case_manager_id,
        phone=item.phone or "",
        channel=Channel(item.channel),
        language=item.language,
        name=item.name or "",
        status=ClientStatus(item.status),
        created_at=item.created_at,
        consent=_consent_from(item.consent),
        opted_out=bool(item.opted_out),
        open_inquiry_id=item.open_inquiry_id,
        next_followup_at=item.next_followup_at,
        last_inbound_at=item.last_inbound_at,
        erased_at=item.erased_at,
        last_outbound_at=item.last_outbound_at,
        next_checkin_at=item.next_checkin_at,
        next_survey_at=item.next_survey_at,
        last_survey_at=item.last_survey_at,
        warnings=int(item.warnings or 0),
        flagged_for_meeting=bool(item.flagged_for_meeting),
        status_reason=item.status_reason,
        closed_at=item.closed_at,
        referrals=tuple(
            Referral(referral_id=r.referral_id, at=r.at, by=r.by, to=r.to, service=r.service, note=r.note)
            for r in (item.referrals or [])
        ),
        version=item.version or 0,
        opted_out_at=item.opted_out_at,
    )


def number_from(item: m.NumberModel) -> WorkNumber:
    return WorkNumber(
        number=item.number,
        agency_id=item.agency_id,
        staff_id=item.staff_id,
        channels=frozenset(Channel(c) for c in item.channels),
        moving_from=frozenset(item.moving_from or ()),
    )


def inquiry_from(item: m.InquiryModel) -> Inquiry:
    return Inquiry(
        inquiry_id=item.inquiry_id,
        agency_id=item.agency_id,
        client_id=item.client_id,
        staff_id=item.staff_id,
        status=InquiryStatus(item.status),
        opened_at=item.opened_at,
        due_at=item.due_at,
        message_count=int(item.message_count or 1),
        answered_at=item.answered_at,
        answered_by=item.answered_by,
        answered_late=bool(item.answered_late),
        complex=bool(item.complex),
        breached_at=item.breached_at,
        version=item.version or 1,
        first_response_at=item.first_response_at,
        first_response_business_seconds=(
            int(item.first_response_business_seconds) if item.first_response_business_seconds is not None else None
        ),
        first_response_late=bool(item.first_response_late),
        first_response_message_id=item.first_response_message_id,
        answer_message_id=item.answer_message_id,
        first_due_at=item.first_due_at,
        crisis=bool(item.crisis),
    )


_ENDING_FIELDS = ("status", "closed_at", "consent", "opted_out", "opted_out_at")


def with_ended_at(client: Client, changes: dict[str, Any]) -> dict[str, Any]:
    """``changes`` plus the file's new ``ended_at`` when they touch what ends a file (SPEC §5.7).

    Closing, withdrawing consent and STOP end a file for retention from that moment; re-opening,
    consent given again and START take it back out of the ``ended_files`` index.
    """
    if "ended_at" in changes or not any(k in changes for k in _ENDING_FIELDS):
        return changes
    known = {k: v for k, v in changes.items() if k in _ENDING_FIELDS}
    if isinstance(known.get("status"), str):
        known["status"] = ClientStatus(known["status"])
    return {**changes, "ended_at": replace(client, **known).ended_at}


@dataclass
class ClientChanges:
    """Attribute updates on one client file, applied with its version as the condition."""

    values: dict[str, Any]

    def actions(self) -> list[Any]:
        acts = []
        for name, value in self.values.items():
            attr = getattr(m.ClientModel, name)
            if isinstance(value, Consent):
                value = _consent_to(value)
            elif name == "referrals" and value is not None:
                value = [m.ReferralMap(referral_id=r.referral_id, at=r.at, by=r.by, to=r.to, service=r.service,
                                       note=r.note) for r in value]
            elif isinstance(value, enum.Enum):
                value = value.value
            acts.append(attr.remove() if value is None else attr.set(value))
        return acts


class DynamoStore:
    """The repository services use; one instance per container.

    The staff table has its own repository, reached as ``store.staff``.
    """

    @cached_property
    def staff(self) -> Any:
        from .staff_repository import StaffRepository

        return StaffRepository()

    # -- transactions ---------------------------------------------------------------------------

    def transaction(self) -> TransactWrite:
        return TransactWrite(connection=m.transaction_connection())

    @staticmethod
    def _cancelled_by_condition(err: TransactWriteError) -> list[bool]:
        reasons = getattr(err, "cancellation_reasons", None) or []
        return [bool(r and r.code == "ConditionalCheckFailed") for r in reasons]

    # -- audit ----------------------------------------------------------------------------------

    def append_audit(self, events: Iterable[AuditEvent]) -> None:
        for event in events:
            audit_item(event).save(condition=m.AuditModel.sk.does_not_exist())

    # -- numbers --------------------------------------------------------------------------------

    def get_number(self, number: str) -> WorkNumber | None:
        try:
            return number_from(m.NumberModel.get(number))
        except DoesNotExist:
            return None

    def numbers_of(self, agency_id: str, staff_id: str) -> list[WorkNumber]:
        items = m.NumberModel.by_staff.query(agency_staff(agency_id, staff_id))
        # The index projects all attributes, so no second read is needed.
        return [number_from(i) for i in items]

    def put_number(self, number: WorkNumber, now: datetime, events: Sequence[AuditEvent]) -> None:
        item = m.NumberModel(
            number=number.number,
            agency_id=number.agency_id,
            staff_id=number.staff_id,
            agency_staff=agency_staff(number.agency_id, number.staff_id),
            channels={c.value for c in number.channels},
            updated_at=now,
            moving_from=set(number.moving_from) or None,
        )
        # A number belongs to one agency: only create it, or overwrite our own agency's.
        condition = m.NumberModel.number.does_not_exist() | (m.NumberModel.agency_id == number.agency_id)
        try:
            with self.transaction() as tx:
                tx.save(item, condition=condition)
                for event in events:
                    tx.save(audit_item(event), condition=m.AuditModel.sk.does_not_exist())
        except TransactWriteError as err:
            if any(self._cancelled_by_condition(err)):
                # Say no more than "not yours": whose it is, or that it is anyone's, is not this agency's business.
                raise Conflict("this agency may not use this number", code="number_unavailable") from None
            raise

    def moved_all(self, number: WorkNumber) -> None:
        """Every client of ``number.moving_from`` has moved: the re-assignment is complete."""
        try:
            m.NumberModel(number=number.number).update(
                actions=[m.NumberModel.moving_from.remove()],
                condition=(m.NumberModel.staff_id == number.staff_id) & (m.NumberModel.agency_id == number.agency_id),
            )
        except UpdateError as err:
            if not condition_failed(err):
                raise
            # Re-assigned again meanwhile: that request carries the pending move on.

    # -- clients --------------------------------------------------------------------------------

    def get_client(self, client_id: str) -> Client | None:
        try:
            return client_from(m.ClientModel.get(client_id, consistent_read=True))
        except DoesNotExist:
            return None

    def find_client(self, agency_id: str, channel: Channel, phone: str) -> Client | None:
        try:
            contact = m.ContactModel.get(contact_key(agency_id, channel, phone), consistent_read=True)
        except DoesNotExist:
            return None
        return self.get_client(contact.client_id)

    def clients_of(self, agency_id: str, staff_id: str) -> Iterator[Client]:
        for item in m.ClientModel.by_case_manager.query(agency_staff(agency_id, staff_id)):
            yield client_from(item)

    def clients_in_agency(self, agency_id: str) -> Iterator[Client]:
        for item in m.ClientModel.by_agency.query(agency_id):
            yield client_from(item)

    def create_client(self, client: Client, event: AuditEvent) -> None:
        item = m.ClientModel(
            client_id=client.client_id,
            agency_id=client.agency_id,
            case_manager_id=client.case_manager_id,
            agency_staff=agency_staff(client.agency_id, client.case_manager_id),
            phone=client.phone,
            channel=client.channel.value,
            language=client.language,
            name=client.name,
            status=client.status.value,
            created_at=client.created_at,
            created_by=event.actor,
            consent=_consent_to(client.consent),
        )
        contact = m.ContactModel(
            contact_key=contact_key(client.agency_id, client.channel, client.phone),
            client_id=client.client_id,
            agency_id=client.agency_id,
        )
        try:
            with self.transaction() as tx:
                tx.save(item, condition=m.ClientModel.client_id.does_not_exist())
                tx.save(contact, condition=m.ContactModel.contact_key.does_not_exist())
                tx.save(audit_item(event), condition=m.AuditModel.sk.does_not_exist())
        except TransactWriteError as err:
            failed = self._cancelled_by_condition(err)
            if len(failed) > 1 and failed[1]:
                raise Conflict(
                    "a client file already exists for this phone number and channel",
                    code="client_exists",
                ) from None
            raise

    def update_client(
        self,
        client: Client,
        changes: dict[str, Any],
        events: Sequence[AuditEvent] = (),
        tx: TransactWrite | None = None,
    ) -> None:
        """Apply ``changes`` if the file is still at ``client.version``; else ConcurrentUpdate."""
        actions = ClientChanges(with_ended_at(client, changes)).actions()
        # PynamoDB adds "version = <read version>" as the condition and increments it.
        proxy = m.ClientModel(client_id=client.client_id, version=client.version)
        condition = m.ClientModel.client_id.exists()
        if tx is not None:
            tx.update(proxy, actions=actions, condition=condition)
            for event in events:
                tx.save(audit_item(event), condition=m.AuditModel.sk.does_not_exist())
            return
        try:
            with self.transaction() as own:
                own.update(proxy, actions=actions, condition=condition)
                for event in events:
                    own.save(audit_item(event), condition=m.AuditModel.sk.does_not_exist())
        except TransactWriteError as err:
            if any(self._cancelled_by_condition(err)):
                raise ConcurrentUpdate(client.client_id) from None
            raise


    # -- inquiries ------------------------------------------------------------------------------

    def get_inquiry(self, inquiry_id: str) -> Inquiry | None:
        try:
            return inquiry_from(m.InquiryModel.get(inquiry_id, consistent_read=True))
        except DoesNotExist:
            return None

    def get_inquiries(self, inquiry_ids: Iterable[str]) -> dict[str, Inquiry]:
        """Several inquiries by id in one BatchGetItem (keyed; PynamoDB pages by 100 and retries)."""
        ids = sorted(set(inquiry_ids))
        if not ids:
            return {}
        return {item.inquiry_id: inquiry_from(item) for item in m.InquiryModel.batch_get(ids)}

    # -- re-assignment ----------------------------------------------------------------------------

    def move_clients(
        self,
        agency_id: str,
        from_staff: str,
        to_staff: str,
        channels: frozenset[Channel],
        now: datetime,
        actor: str,
    ) -> int:
        """Give the clients a re-assigned number serves, and their open clocks, to the new worker.

        Each client moves in its own transaction; clients already moved are no longer found under
        ``from_staff``, so running the move again after a failure finishes it (``WorkNumber.moving_from``).
        """
        moved = 0
        for item in m.ClientModel.by_case_manager.query(agency_staff(agency_id, from_staff)):
            if Channel(item.channel) not in channels:
                continue
            client = client_from(m.ClientModel.get(item.client_id, consistent_read=True))
            inquiry = self.get_inquiry(client.open_inquiry_id) if client.open_inquiry_id else None
            # The open clock moves with the client unless a covering colleague holds it.
            moves_clock = inquiry is not None and inquiry.awaiting_answer and inquiry.staff_id == from_staff
            event = AuditEvent(
                agency_id=agency_id,
                type=AuditType.NUMBER_REASSIGNED,
                at=now,
                actor=actor,
                client_id=client.client_id,
                staff_id=to_staff,
                details={
                    "from_staff": from_staff,
                    "to_staff": to_staff,
                    "inquiry_id": inquiry.inquiry_id if moves_clock and inquiry else None,
                },
            )
            try:
                self._move_one(client, inquiry if moves_clock else None, agency_id, to_staff, event)
            except TransactWriteError as err:
                if any(self._cancelled_by_condition(err)):
                    raise ConcurrentUpdate(client.client_id) from None  # the caller re-runs the move
                raise
            moved += 1
        return moved

    def _move_one(self, client: Client, inquiry: Inquiry | None, agency_id: str, to_staff: str,
                  event: AuditEvent) -> None:
        """One client, its open clock and its audit event, in one transaction."""
        with self.transaction() as tx:
            self.update_client(
                client,
                {"case_manager_id": to_staff, "agency_staff": agency_staff(agency_id, to_staff)},
                [event],
                tx=tx,
            )
            if inquiry is not None:
                tx.update(
                    m.InquiryModel(inquiry_id=inquiry.inquiry_id, version=inquiry.version),
                    actions=[
                        m.InquiryModel.staff_id.set(to_staff),
                        m.InquiryModel.staff_status.set(f"{agency_id}#{to_staff}#{inquiry.status.value}"),
                    ],
                    condition=m.InquiryModel.status == inquiry.status.value,
                )


__all__ = [
    "ConcurrentUpdate",
    "DoesNotExist",
    "DynamoStore",
    "PutError",
    "UpdateError",
    "agency_staff",
    "audit_item",
    "client_from",
    "condition_failed",
    "contact_key",
    "sort_key",
]
